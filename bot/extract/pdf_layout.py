"""PDF page layout from PDFium's character boxes: word gaps of letter-spaced
lines, and a two-column header (written row by row) put in reading order;
and whether a page is mostly an image (a scan)."""
from __future__ import annotations

import ctypes
import unicodedata
from dataclasses import dataclass

from ..vietnamese import fold_compact, is_letter_spaced
from .text import MOTTO, TOP_LINES


def gap_text(textpage) -> str:
    """Page text in which a letter-spaced line gets two spaces between words.

    Within such a line the gaps between letters are even and the gaps
    between words wider; other lines keep single spaces.
    """
    out = []
    for chars in _page_chars(textpage):
        line = "".join(c[0] for c in chars)
        if not is_letter_spaced(line):
            out.append(line)
            continue
        solid: list[list] = []  # [text, left, right]; combining marks join their letter
        for ch, left, right, _ in chars:
            if unicodedata.combining(ch) and solid:
                solid[-1][0] += ch
            elif not ch.isspace():
                solid.append([ch, left, right])
        gaps = sorted(b[1] - a[2] for a, b in zip(solid, solid[1:]))
        median = gaps[len(gaps) // 2]
        text = solid[0][0]
        for prev, cur in zip(solid, solid[1:]):
            text += ("  " if cur[1] - prev[2] > max(1.6 * median, median + 3) else " ") + cur[0]
        out.append(text)
    return "\n".join(out)


def interleaved(lines: list[str]) -> bool:
    """The motto shares a line with other text: a row-by-row two-column header."""
    for line in [line for line in lines if line.strip()][:TOP_LINES]:
        compact = fold_compact(line)
        for marker in (MOTTO, "doclap-tudo"):
            at = compact.find(marker)
            if at > 0 or (at == 0 and len(compact) > len(marker) + 12):
                return True
    return False


@dataclass(frozen=True)
class _Segment:
    text: str
    x0: float
    x1: float
    y: float  # baseline-ish (bottom of the segment), PDF units, up is larger


def _page_chars(textpage, max_lines: int | None = None) -> list[list[tuple[str, float, float, float]]]:
    """PDFium's lines as lists of (char, left, right, bottom), at most ``max_lines``."""
    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    lines, chars = [], []
    for i in range(textpage.count_chars()):
        ch = chr(pdfium_c.FPDFText_GetUnicode(textpage, i))
        if ch in "\r\n":
            if any(not c[0].isspace() for c in chars):
                lines.append(chars)
                if max_lines is not None and len(lines) >= max_lines:
                    return lines
            chars = []
            continue
        if pdfium_c.FPDFText_GetCharBox(textpage, i, left, right, bottom, top):
            chars.append((ch, left.value, right.value, bottom.value))
    chars = chars if any(not c[0].isspace() for c in chars) else []
    if chars:
        lines.append(chars)
    return lines


_HEAD_SCAN_LINES = 16  # a header written row by row sits in the first lines of the stream


def _page_segments(textpage) -> list[list[_Segment]]:
    """The first PDFium lines, each cut into segments at wide horizontal gaps."""
    return [_cut_segments(chars) for chars in _page_chars(textpage, _HEAD_SCAN_LINES)]


def _cut_segments(chars) -> list[_Segment]:
    widths = sorted(r - l for ch, l, r, _ in chars if not ch.isspace() and r > l)
    gap_limit = max(12.0, 2.5 * (widths[len(widths) // 2] if widths else 5.0))
    segments, current, last_right = [], [], None
    for ch, left, right, bottom in chars:
        if ch.isspace():
            current.append((ch, left, right, bottom))
            continue
        if current and last_right is not None and (left - last_right > gap_limit or left < last_right - 50):
            segments.append(current)
            current = []
        current.append((ch, left, right, bottom))
        last_right = right
    if current:
        segments.append(current)
    out = []
    for seg in segments:
        solid = [c for c in seg if not c[0].isspace()] or seg
        out.append(_Segment("".join(c[0] for c in seg).strip(), min(c[1] for c in solid),
                            max(c[2] for c in solid), min(c[3] for c in solid)))
    return [s for s in out if s.text]


def layout_lines(page, textpage, plain_text: str) -> list[str]:
    """The page's lines with a two-column header put in reading order.

    Only the first lines of the stream are measured (character boxes cost
    ~1 µs each). Segments above the first centred or full-width line (the
    title) are sorted into a left and a right column by their centre: left
    column lines, then right column lines, then the rest of the page in
    PDFium's order.
    """
    left_edge, _, right_edge, _ = page.get_bbox()
    width = right_edge - left_edge
    lines = [line for line in _page_segments(textpage) if line]
    plain = [line for line in plain_text.replace("\r\n", "\n").split("\n") if line.strip()]
    segments = [s for line in lines for s in line]
    band_bottom = _header_band_bottom(segments, left_edge, width)
    if band_bottom is None:
        return plain
    band = [s for s in segments if s.y > band_bottom]
    left = [s for s in band if (s.x0 + s.x1) / 2 - left_edge < width / 2]
    right = [s for s in band if s not in left]
    ordered = sorted(left, key=lambda s: (-s.y, s.x0)) + sorted(right, key=lambda s: (-s.y, s.x0))
    rest = [" ".join(s.text for s in line if s.y <= band_bottom) for line in lines]
    return [s.text for s in ordered] + [line for line in rest if line] + plain[len(lines):]


def _header_band_bottom(segments: list[_Segment], left_edge: float, width: float) -> float | None:
    """The y below which the two-column header ends (the title line), or None."""
    column_seen = False
    for seg in sorted(segments, key=lambda s: -s.y):
        centre = ((seg.x0 + seg.x1) / 2 - left_edge) / width
        spans = (seg.x0 - left_edge) / width < 0.3 and (seg.x1 - left_edge) / width > 0.7
        if column_seen and (0.42 <= centre <= 0.58 or spans):
            return seg.y + 0.5
        column_seen = column_seen or not (0.42 <= centre <= 0.58)
    return None


def has_big_image(page, share: float = 0.25) -> bool:
    """Whether an image covers at least ``share`` of the PDFium page (a scan, a photo of a stamp)."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) >= share * width * height:
            return True
    return False
