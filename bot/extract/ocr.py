"""OCR with tesseract: availability, reading a page image, and the layout of its header."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from .common import ExtractLimits


# --------------------------------------------------------------------------
# OCR (tesseract)
# --------------------------------------------------------------------------

def ocr_unavailable_reason(lang: str = "vie") -> str | None:
    """None if tesseract with ``lang`` data can run here, else why not."""
    exe = shutil.which("tesseract")
    if exe is None:
        return "máy chưa cài OCR"
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        return "máy đã cài OCR nhưng OCR không chạy được"
    if lang not in (out.stdout + out.stderr).split():
        return "OCR chưa có dữ liệu tiếng Việt (tesseract-ocr-vie)"
    return None


def _ocr_png(png: bytes, dpi: int, limits: ExtractLimits, head_share: float | None = None) -> str:
    """OCR one PNG page with ``tesseract -l vie``; raises on failure/timeout.

    ``head_share``: how far down the image a two-column header may reach
    (``_HEAD_BAND_SHARE`` of a page; all of an image that is a page's top).
    """
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # the pool already uses every core
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        path = os.path.join(tmp, "page.png")
        with open(path, "wb") as fh:
            fh.write(png)
        done = subprocess.run(["tesseract", path, "stdout", "-l", "vie", "--dpi", str(dpi), "tsv"],
                              capture_output=True, timeout=limits.ocr_timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[-200:])
    return ocr_layout(done.stdout.decode("utf-8", "replace"), head_share or _HEAD_BAND_SHARE)


# --------------------------------------------------------------------------
# OCR layout: the two-column header of a scan put in reading order
# --------------------------------------------------------------------------
#
# Tesseract reads a scanned header row by row across the page: "TRƯỜNG MN
# SƠN CA 8  Độc lập - Tự do - Hạnh phúc" comes out as one line, with specks
# of the gap read as "`..." between the columns, and the issuer's name runs
# into the motto. Its TSV output gives every word's box, so the header is cut
# where PDF text is (``_layout_lines``): a wide gap near the middle of a line
# splits it into a left and a right segment; the left column is read first,
# then the right one, then the rest of the page. Nothing else changes.

@dataclass(frozen=True)
class _Word:
    text: str
    left: int
    right: int
    top: int
    conf: float

    @property
    def solid(self) -> bool:
        """A real word: letters or digits, read with some confidence (not a speck)."""
        return self.conf >= _MIN_WORD_CONF and any(ch.isalnum() for ch in self.text)


_MIN_WORD_CONF = 15.0     # tesseract's confidence of specks and stamps read as text
_HEAD_BAND_LINES = 10     # the two-column header is in the first lines of a page
_HEAD_BAND_SHARE = 0.45   # ... and in the top of the page


def ocr_layout(tsv: str, head_share: float | None = None) -> str:
    """Tesseract TSV -> page text, with a two-column header in reading order."""
    width, height, lines = _tsv_lines(tsv)
    band, rest = _header_band(lines, width, height, head_share or _HEAD_BAND_SHARE)
    left = [seg for seg, side, _ in band if side == "left"]
    right = [seg for seg, side, _ in band if side == "right"]
    head = [_words_text(seg) for seg in left] + [_words_text(seg) for seg in right]
    return "\n".join(head + [_words_text(line) for line in rest])


def _words_text(words: list[_Word]) -> str:
    return _SECTION_SO.sub("Số", " ".join(_capital_lookalikes(w.text) for w in words))


# OCR reads the "S" of "Số" as a section sign: "§ố: 04/BB-...".
_SECTION_SO = re.compile(r"§(?=ố)")
# Symbols tesseract reads for capitals in words printed in capitals ("SƠN €A6").
_CAPITAL_LOOKALIKES = str.maketrans({"€": "C", "§": "S", "£": "E", "¥": "Y"})


def _capital_lookalikes(word: str) -> str:
    letters = [ch for ch in word if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and any(ch in "€§£¥" for ch in word):
        return word.translate(_CAPITAL_LOOKALIKES)
    return word


def _tsv_lines(tsv: str) -> tuple[int, int, list[list[_Word]]]:
    """(page width, page height, lines of words in tesseract's order) from TSV output."""
    width = height = 0
    lines: dict[tuple[str, str, str, str], list[_Word]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12:
            continue
        try:
            level, left, top, w, h = (int(c) for c in (cols[0], cols[6], cols[7], cols[8], cols[9]))
            conf = float(cols[10])
        except ValueError:
            continue
        if level == 1:
            width, height = w, h
        elif level == 5 and cols[11].strip():
            lines.setdefault((cols[1], cols[2], cols[3], cols[4]), []).append(
                _Word(cols[11].strip(), left, left + w, top, conf))
    return width, height, list(lines.values())


def _header_band(lines: list[list[_Word]], width: int, height: int, head_share: float | None = None):
    """Split the header lines into (segment, "left"/"right", top); return (band, the other lines).

    The band is the run of top lines (by position: tesseract may list a
    stamp or a signature first) above the title: each is cut at a wide gap
    near the middle of the page, or lies on one side. It ends at the first
    line centred across the middle (the title), after ``_HEAD_BAND_LINES``
    lines, or below ``_HEAD_BAND_SHARE`` of the page. Without lines on both
    sides there is no two-column header, and no band.
    """
    if width <= 0 or not lines:
        return [], lines
    char_width = _median([(w.right - w.left) / len(w.text) for line in lines for w in line if w.solid] or [10.0])
    tops = {id(line): _median([w.top for w in line if w.solid] or [w.top for w in line]) for line in lines}
    top_lines = sorted((line for line in lines if tops[id(line)] <= (head_share or _HEAD_BAND_SHARE) * height),
                       key=lambda line: tops[id(line)])
    band: list[tuple[list[_Word], str, float]] = []
    taken: set[int] = set()
    for line in top_lines[:_HEAD_BAND_LINES]:
        solid = [w for w in line if w.solid]
        if solid:
            cut = _column_cut(solid, width, char_width)
            if cut is None:
                break  # centred across the middle: the title
            top = _median([w.top for w in solid])
            # every word of the line goes to its side of the cut, specks and all
            for side, keep in (("left", lambda w: (w.left + w.right) / 2 < cut),
                               ("right", lambda w: (w.left + w.right) / 2 >= cut)):
                words = [w for w in line if keep(w)]
                if any(w.solid for w in words):
                    band.append((words, side, top))
        taken.add(id(line))
    if not any(side == "right" for _, side, _ in band) or not any(side == "left" for _, side, _ in band):
        return [], lines
    return band, [line for line in lines if id(line) not in taken]


def _column_cut(words: list[_Word], width: int, char_width: float) -> float | None:
    """Where one header line divides into columns (an x), or None if it is centred (the title).

    At the widest gap near the middle when it is much wider than the line's
    other gaps; 0 or ``width`` for a line wholly on the right or the left.
    A line from the left margin across the middle that cannot be cut stays
    whole, as the left column's (its right part is then the motto, which
    the classifier cuts off by its words).
    """
    gaps = [(b.left - a.right, i) for i, (a, b) in enumerate(zip(words, words[1:]))]
    usual = _median([g for g, _ in gaps]) if gaps else 0
    wide = [(g, i) for g, i in gaps
            if g >= max(2 * char_width, 2.5 * usual)
            and 0.25 * width <= (words[i].right + words[i + 1].left) / 2 <= 0.7 * width]
    if wide:
        _, i = max(wide)
        cut = (words[i].right + words[i + 1].left) / 2
        if _centre(words[:i + 1]) < width / 2 < _centre(words[i + 1:]):
            return cut
    centre = _centre(words)
    if max(w.right for w in words) < 0.55 * width and centre < 0.45 * width:
        return float(width)
    if min(w.left for w in words) > 0.45 * width and centre > 0.55 * width:
        return 0.0
    if min(w.left for w in words) < 0.2 * width and abs(centre - width / 2) > 0.05 * width:
        return float(width)
    return None


def _centre(words: list[_Word]) -> float:
    return (min(w.left for w in words) + max(w.right for w in words)) / 2


def _median(values) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def _want_ocr(ocr: bool | str | None) -> tuple[bool, str | None]:
    """(use OCR?, reason it cannot be used). ``ocr="later"``: raise OcrNeeded
    instead of running it (the Extractor runs OCR after the plain files)."""
    if ocr is False:
        return False, "OCR đang tắt"
    reason = _ocr_reason()
    if ocr == "later" and reason is None:
        raise OcrNeeded
    return reason is None, reason


_OCR_CHECK: dict = {}  # tesseract's path -> (monotonic time, reason)


def _ocr_reason() -> str | None:
    """``ocr_unavailable_reason()``, asked at most once a minute: asking
    tesseract costs about 0.1 s, too much for every scan."""
    exe, now = shutil.which("tesseract"), time.monotonic()
    if exe is None:
        return ocr_unavailable_reason()
    checked = _OCR_CHECK.get(exe)
    if checked is None or now - checked[0] > 60:
        checked = _OCR_CHECK[exe] = (now, ocr_unavailable_reason())
    return checked[1]


class OcrNeeded(Exception):
    """Raised by ``extract(..., ocr="later")`` instead of running OCR: the file
    has scanned pages (see ``Extractor.submit``, ``NEEDS_OCR``)."""
