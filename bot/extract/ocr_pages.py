"""OCR by need: a scanned page read by regions, in the order they decide.

Where the text rows of a page are (a cheap image analysis, no OCR), which
regions are read and when the head of a page decides (``read_page``,
``head_decides``); the regions are read by ``ocr_engine.tesseract`` and put
in reading order by ``ocr_tsv.ocr_layout``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..vietnamese import fold, fold_compact
from .common import ExtractLimits
from .ocr_engine import tesseract
from .ocr_tsv import DATE_LONG, DATE_SHORT, OcrLine, ocr_lines, repair_text
from .text import starts_document

# --------------------------------------------------------------------------
# OCR by need: regions of a page, read in the order they decide
# --------------------------------------------------------------------------
#
# What decides a document is in the head of its first page (issuer, number,
# motto, date, title, subject); a new document of a combined scan starts at
# the head of a page. Tesseract's time grows with the text it reads (a full
# A4 page at 200 dpi: about 1 s of CPU here; its first eight text rows:
# 0.3 s), so a page is read by regions:
#
# 1. a cheap analysis of a small rendering finds the text rows (dark pixels
#    per row; no OCR);
# 2. the first ``_START_ROWS`` rows of a page that may continue a document:
#    enough to see whether a new document starts there;
# 3. the head, down to ``_HEAD_ROWS`` rows, of a page that opens a document
#    (or the file's first page), at the full OCR resolution;
# 4. the whole page, as one image, only when the head does not decide
#    (``head_decides``; tesseract reads a band cut out of a page differently
#    from the same lines in the page, and a head that does not decide may be
#    a misread one), or when the page continues a document whose head did
#    not; a page read whole whose own head decides stops that.
#
# Each region is rendered once at its own resolution and read once; the
# results are memoised by the hash of the pixels, so an image seen twice (the
# same scan in two files) is not read twice by the same worker. Tesseract
# itself is loaded once per worker (``ocr_engine``).

_START_ROWS = 4          # a new document shows in its first rows: motto, "Số: ..."
_HEAD_ROWS = 8           # issuer, motto, number and date, title, subject
_FALLBACK_START = 0.2    # when the rows cannot be told apart (a tilted photo):
_FALLBACK_HEAD = 0.35    # ... shares of the page (measured: the top 35 % reads every title)
_ANALYSIS_WIDTH = 600    # pixels: an A4 page at 72 dpi tells text rows apart, in ~2 ms
_INK = 160               # gray level below which a pixel is ink (anti-aliased at low resolution)
_WHOLE_HEAD_LINES = 16  # lines of a page read whole in which its head is looked for
_SMALL = 150             # analysis pixels: an image this low (a logo, a stamp) is read whole at once


@dataclass(frozen=True)
class PageRead:
    """What OCR read of one page.

    ``text``: the lines read, in reading order. ``opens``: its top opens a
    document (motto or number line). ``decided``: the head holds what the
    classifier decides by (``head_decides``). ``whole``: every region of
    the page was read. ``regions``: tesseract runs it took.
    """

    text: str
    opens: bool
    decided: bool
    whole: bool
    regions: int


class ImagePage:
    """A page that is already an image (a photo, a frame of a TIFF): regions are crops of it."""

    def __init__(self, image, dpi: int):
        self.image, self.dpi = image, dpi

    def analysis(self):
        factor = max(1, self.image.width // _ANALYSIS_WIDTH)
        return self.image.reduce(factor) if factor > 1 else self.image

    def region(self, top: float, bottom: float, scale: float):
        """The band [top, bottom) (shares of the height), resized by ``scale``; (image, dpi)."""
        from PIL import Image  # heavy: workers only

        w, h = self.image.size
        band = self.image.crop((0, round(top * h), w, max(round(top * h) + 1, round(bottom * h))))
        if scale != 1.0:
            band = band.resize((max(1, round(band.width * scale)), max(1, round(band.height * scale))),
                               Image.Resampling.BILINEAR)
        return band, max(1, round(self.dpi * scale))


class PdfPage:
    """A PDF page: each region is rendered on its own, at its own resolution
    (a page is never rendered whole at the OCR resolution unless read whole)."""

    def __init__(self, page, dpi: int, max_pixels: int):
        self.page, self.dpi, self.max_pixels = page, dpi, max_pixels
        width, height = page.get_size()  # points: 1/72 inch
        if page.get_rotation() in (90, 270):
            width, height = height, width
        self.width, self.height = max(width, 1.0), max(height, 1.0)

    def analysis(self):
        scale = min(_ANALYSIS_WIDTH / self.width, (2_000_000 / (self.width * self.height)) ** 0.5)
        return self.page.render(scale=scale, grayscale=True).to_pil()

    def region(self, top: float, bottom: float, scale: float):
        """The band [top, bottom) rendered at ``scale`` x the OCR resolution; (image, dpi).

        A page may be up to 200 x 200 inches: the resolution is lowered to
        keep the band within ``max_pixels``.
        """
        factor = self.dpi * scale / 72
        pixels = self.width * factor * max(self.height * (bottom - top), 1.0) * factor
        if pixels > self.max_pixels:
            factor *= (self.max_pixels / pixels) ** 0.5
        crop = (0.0, (1.0 - bottom) * self.height, 0.0, top * self.height)  # left, bottom, right, top
        image = self.page.render(scale=factor, grayscale=True, crop=crop).to_pil()
        return image, max(1, round(factor * 72))


def text_rows(image) -> list[tuple[int, int]] | None:
    """The text rows of a page image as (top, bottom) pixel rows, top to bottom;
    None when rows cannot be told apart (a tilted photo, a picture).

    A row is a run of pixel rows with ink across at least 1 % of the width
    (specks of a scan stay below that); short runs close to a row (accents
    above capitals, dots below letters) belong to it.
    """
    from PIL import Image  # heavy: workers only

    gray = image.convert("L") if image.mode != "L" else image
    ink = gray.point(lambda v: 255 if v < _INK else 0)
    profile = ink.resize((1, gray.height), Image.Resampling.BOX).tobytes()
    runs: list[list[int]] = []
    for y, value in enumerate(profile):
        if value >= 3:  # 255 x 1 %
            if runs and y - runs[-1][1] <= 1:
                runs[-1][1] = y + 1
            else:
                runs.append([y, y + 1])
    if len(runs) < 3:
        return None
    heights = sorted(b - t for t, b in runs)
    usual = heights[len(heights) * 2 // 3]  # most runs are lines; accents and specks are the short ones
    rows: list[list[int]] = []
    for run in runs:
        small = run[1] - run[0] < 0.45 * usual
        if rows and (small or rows[-1][1] - rows[-1][0] < 0.45 * usual) and run[0] - rows[-1][1] < 0.5 * usual:
            rows[-1][1] = run[1]  # an accent, a dot below, a speck: part of the row next to it
        else:
            rows.append(list(run))
    rows = [r for r in rows if r[1] - r[0] >= 0.45 * usual]
    if len(rows) < 3 or any(b - t > 2.5 * usual + 2 for t, b in rows[:_HEAD_ROWS]):
        return None  # lines merged into bands: a tilted photo, a picture
    return [(t, b) for t, b in rows]


def _cut_after(rows: list[tuple[int, int]] | None, count: int, height: int, fallback: float) -> float:
    """Where (a share of the height) the band of the first ``count`` rows ends: mid-gap below them."""
    if rows is None:
        return fallback
    if len(rows) <= count:
        return 1.0
    return (rows[count - 1][1] + rows[count][0]) / 2 / height


def read_page(page, limits: ExtractLimits, *, continued: bool = False, follow: bool = False,
              body_allowed: bool = True) -> PageRead:
    """Read one page image by need (see the section comment above).

    ``continued``: the page may continue a document begun on an earlier page:
    its first rows are read, and its head only if a document starts there;
    ``follow``: then read the rest of such a page that does not start one
    (its document's head did not decide). A page that opens a document gets
    its body read when its head does not decide. ``body_allowed`` False:
    never read a body (a file's budget of whole pages is spent).
    """
    analysis = page.analysis()
    rows = text_rows(analysis)
    height = analysis.height
    del analysis
    small = 1.0 if height < _SMALL else None  # nothing to save by cutting it
    start_cut = small or _cut_after(rows, _START_ROWS, height, _FALLBACK_START)
    head_cut = max(start_cut, small or _cut_after(rows, _HEAD_ROWS, height, _FALLBACK_HEAD))
    lines: list[OcrLine] = []
    top, regions = 0.0, 0
    if continued:
        lines += _read_region(page, 0.0, start_cut, 1.0, limits, head_share=1.0)
        top, regions = start_cut, 1
        if not starts_document(_texts(lines)):
            if follow and body_allowed and start_cut < 1.0:
                return _read_whole(page, limits, regions=2)
            return PageRead(repair_text("\n".join(_texts(lines))), False, False, start_cut >= 1.0, 1)
    if head_cut > top:
        lines += _read_region(page, top, head_cut, 1.0, limits, head_share=1.0 if top == 0.0 else 0.0)
        regions += 1
    decided = head_decides(_texts(lines))
    if head_cut < 1.0 and not decided and body_allowed:
        # The whole page again, as one image: what tesseract reads of a band may
        # differ from what it reads of the page, and an undecided head may be a misread one.
        return _read_whole(page, limits, regions=regions + 1)
    return PageRead(repair_text("\n".join(_texts(lines))), starts_document(_texts(lines)), decided,
                    head_cut >= 1.0, regions)


def _read_whole(page, limits: ExtractLimits, regions: int) -> PageRead:
    """The page read as one image; it decides when its own head does (its top read whole may
    hold what the band alone misread: then the pages that continue its document need not be)."""
    lines = _read_region(page, 0.0, 1.0, 1.0, limits, head_share=None)
    texts = _texts(lines)
    return PageRead(repair_text("\n".join(texts)), starts_document(texts),
                    head_decides(texts[:_WHOLE_HEAD_LINES]), True, regions)


def _texts(lines: list[OcrLine]) -> list[str]:
    return [line.text for line in lines]


def _read_region(page, top: float, bottom: float, scale: float, limits: ExtractLimits, *,
                 head_share: float | None) -> list[OcrLine]:
    """The band [top, bottom) of the page read: its lines (blank ones left out)."""
    image, dpi = page.region(top, bottom, scale)
    return [line for line in ocr_lines(tesseract(image, dpi, limits), head_share) if line.text.strip()]


# A title: a short line in capitals ("TỜ TRÌNH", "BIÊN B Ả N"), not the motto
# nor an issuer's or a place's name.
_NOT_TITLE = ("conghoa", "doclap", "ubnd", "uyban", "truong", "phong", "so:", "quan", "sogiao", "ngay")


def head_decides(lines: list[str]) -> bool:
    """Whether the head of a page holds, read well, what the classifier decides by.

    It opens a document (motto or ``Số: ...`` line, ``starts_document``);
    above a title line (short, in capitals) it has the issuer ("TRƯỜNG
    ...", "TRUNG TÂM ...") and a date line read whole, whose year agrees
    with a year the subject speaks of ("năm học 2023-2024", "năm 2023": a
    misread year has nothing to agree with);
    and at least two lines follow the title (the subject, not cut short).
    Anything else is read whole: a head without a title (a letter, a list,
    a photo of a table), a misread date ("naày 17 tháng 9", "năm 2033"), an
    issuer read as specks.
    """
    return _deciding_lines([line.strip() for line in lines if line.strip()]) is not None


def _deciding_lines(lines: list[str]) -> list[int] | None:
    """The indexes of the lines ``head_decides`` decides by (issuer lines, title, two subject
    lines), or None when the head does not decide."""
    if not starts_document(lines):
        return None
    folded = [fold(line) for line in lines]
    for i, line in enumerate(lines):
        if not (_is_title(line) and len(lines) - i - 1 >= 2):
            continue
        above = folded[:i]
        # the years of the subject, however OCR broke "năm học 2022-2023" ("năm ˆ / học 2022:2023")
        years = {int(y) for f in folded[i + 1:] for y in _YEAR.findall(DATE_LONG.sub(" ", f))}
        dates = [m for f in above for m in [DATE_LONG.search(f) or DATE_SHORT.search(f)] if m]
        issuers = [j for j, f in enumerate(above) if "truong" in f or "trung tam" in f]
        if dates and issuers and any(abs(int(dates[0].group(3)) - y) <= 1 for y in years):
            return issuers + [i, i + 1, i + 2]
    return None


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _is_title(line: str) -> bool:
    letters = [ch for ch in line if ch.isupper() or ch.islower()]  # cased: not the specks "ˆ", "ª"
    upper = sum(ch.isupper() for ch in letters)
    # specks read as letters ("KẾ. :HOẠCH tuy") leave most of it in capitals; a number line has digits
    if not 4 <= upper <= 30 or upper < 0.6 * len(letters) or any(ch.isdigit() for ch in line):
        return False
    compact = fold_compact(line)
    return not any(word in compact for word in _NOT_TITLE)
