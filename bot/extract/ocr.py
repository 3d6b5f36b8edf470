"""OCR with tesseract: reading a page image, and the layout of its header (availability: ``tesseract``)."""
from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import hashlib
import io
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from ..vietnamese import fold, fold_compact
from .common import ExtractLimits
from .tesseract import ocr_unavailable_reason
from .text import starts_document


# --------------------------------------------------------------------------
# OCR (tesseract)
# --------------------------------------------------------------------------

def ocr_png(png: bytes, dpi: int, limits: ExtractLimits) -> str:
    """OCR one page image (PNG or any format Pillow reads) by need: its head,
    and the rest only when the head does not hold what decides (``read_page``).
    Raises on failure/timeout."""
    from PIL import Image  # heavy: loaded by the workers that read scans only

    with Image.open(io.BytesIO(png)) as image:
        page = ImagePage(image.convert("L"), dpi)
    return read_page(page, limits).text


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
# 4. the rest of the page, at ``_BODY_SCALE`` of it, only when the head does
#    not decide (``head_decides``), or when the page continues a document
#    whose head did not.
#
# Each region is rendered once at its own resolution and read once; the
# results are memoised by the hash of the pixels, so an image seen twice (the
# same scan in two files) is not read twice by the same worker. Tesseract
# itself is loaded once per worker (``_Engine``): the command costs 0.1 s of
# CPU to start, a third of what reading a head costs.

_START_ROWS = 4          # a new document shows in its first rows: motto, "Số: ..."
_HEAD_ROWS = 8           # issuer, motto, number and date, title, subject
_FALLBACK_START = 0.2    # when the rows cannot be told apart (a tilted photo):
_FALLBACK_HEAD = 0.35    # ... shares of the page (measured: the top 35 % reads every title)
_BODY_SCALE = 0.75       # the body's resolution, relative to the head's
_ANALYSIS_WIDTH = 600    # pixels: an A4 page at 72 dpi tells text rows apart, in ~2 ms
_INK = 160               # gray level below which a pixel is ink (anti-aliased at low resolution)
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
    pieces, top = [], 0.0
    if continued:
        pieces.append(_read_region(page, 0.0, start_cut, 1.0, limits, head_share=1.0))
        top = start_cut
        if not starts_document(_lines(pieces[0])):
            if follow and body_allowed and start_cut < 1.0:
                return _read_whole(page, limits, regions=2)
            return PageRead(pieces[0], False, False, start_cut >= 1.0, 1)
    if head_cut > top:
        pieces.append(_read_region(page, top, head_cut, 1.0, limits, head_share=1.0 if top == 0.0 else 0.0))
    head_lines = _lines("\n".join(pieces))
    decided = head_decides(head_lines)
    if head_cut < 1.0 and not decided and body_allowed:
        # The whole page again, as one image: what tesseract reads of a band may
        # differ from what it reads of the page, and an undecided head may be a misread one.
        return _read_whole(page, limits, regions=len(pieces) + 1)
    return PageRead("\n".join(pieces), starts_document(head_lines), decided, head_cut >= 1.0, len(pieces))


def _read_whole(page, limits: ExtractLimits, regions: int) -> PageRead:
    text = _read_region(page, 0.0, 1.0, 1.0, limits, head_share=None)
    lines = _lines(text)
    return PageRead(text, starts_document(lines), False, True, regions)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _read_region(page, top: float, bottom: float, scale: float, limits: ExtractLimits, *,
                 head_share: float | None) -> str:
    image, dpi = page.region(top, bottom, scale)
    return ocr_layout(tesseract(image, dpi, limits), head_share)


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
    lines = [line.strip() for line in lines if line.strip()]
    if not starts_document(lines):
        return False
    folded = [fold(line) for line in lines]
    for i, line in enumerate(lines):
        if not (_is_title(line) and len(lines) - i - 1 >= 2):
            continue
        above = folded[:i]
        # the years of the subject, however OCR broke "năm học 2022-2023" ("năm ˆ / học 2022:2023")
        years = {int(y) for f in folded[i + 1:] for y in _YEAR.findall(_DATE_LONG.sub(" ", f))}
        dates = [m for f in above for m in [_DATE_LONG.search(f) or _DATE_SHORT.search(f)] if m]
        issuer = any("truong" in f or "trung tam" in f for f in above)
        if dates and issuer and any(abs(int(dates[0].group(3)) - y) <= 1 for y in years):
            return True
    return False


# The date line and the school year as the classifier reads them (bot.classify.year,
# a layer above: the patterns are repeated here, on folded text).
_DATE_LONG = re.compile(r"ngay\s*(\d{1,2})?[\s.…_]*thang\s*(\d{1,2})?[\s.…_]*nam\s*(\d{4})")
_DATE_SHORT = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_SCHOOL_YEAR = re.compile(r"nam(?: hoc)?\s*:?\s*(\d{4})\s*[-/]\s*(\d{4})")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _is_title(line: str) -> bool:
    letters = [ch for ch in line if ch.isupper() or ch.islower()]  # cased: not the specks "ˆ", "ª"
    upper = sum(ch.isupper() for ch in letters)
    # specks read as letters ("KẾ. :HOẠCH tuy") leave most of it in capitals; a number line has digits
    if not 4 <= upper <= 30 or upper < 0.6 * len(letters) or any(ch.isdigit() for ch in line):
        return False
    compact = fold_compact(line)
    return not any(word in compact for word in _NOT_TITLE)


class _Memo:
    """Tesseract output by the hash of the pixels read and how (bounded, oldest dropped first).

    One per process: a worker reads many files, and the same page image may
    come in two of them (a scan sent alone, then inside a combined file).
    """

    def __init__(self, size: int = 256):
        self.size, self.items = size, {}

    def get(self, key: str) -> str | None:
        return self.items.get(key)

    def put(self, key: str, value: str) -> None:
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[key] = value


_LEPT_SEVERITY_NONE = 6  # Leptonica's L_SEVERITY_NONE: no messages
_PSM_AUTO = 3  # tesseract's PSM_AUTO: find the blocks and columns of the page
_TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"


class _Engine:
    """Tesseract loaded once in this process through its C API (libtesseract, ctypes).

    The ``tesseract`` command costs 0.1 s of CPU to start for every image
    (more than reading a page's head takes); in the process, the language
    data is loaded once and each image costs only its reading. The pixels
    are handed over as they are (no PNG written and read back). When the
    library cannot be loaded, ``tsv`` returns None and the command is used.
    """

    def __init__(self):
        self._api = None
        self._lib = None
        self._failed = False

    def _load(self) -> bool:
        if self._api is not None or self._failed:
            return not self._failed
        # one thread per tesseract: the pool already has a worker per core
        # (read by OpenMP when the library loads, so set before it is)
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("tesseract") or "libtesseract.so.5")
            c_void_p, c_int = ctypes.c_void_p, ctypes.c_int
            lib.TessBaseAPICreate.restype = c_void_p
            lib.TessBaseAPIInit3.argtypes = [c_void_p, ctypes.c_char_p, ctypes.c_char_p]
            lib.TessBaseAPISetImage.argtypes = [c_void_p, ctypes.c_char_p, c_int, c_int, c_int, c_int]
            lib.TessBaseAPISetSourceResolution.argtypes = [c_void_p, c_int]
            lib.TessMonitorCreate.restype = c_void_p
            lib.TessMonitorSetDeadlineMSecs.argtypes = [c_void_p, c_int]
            lib.TessMonitorDelete.argtypes = [c_void_p]
            lib.TessBaseAPIRecognize.argtypes = [c_void_p, c_void_p]
            lib.TessBaseAPIGetTsvText.argtypes = [c_void_p, c_int]
            lib.TessBaseAPIGetTsvText.restype = c_void_p
            lib.TessDeleteText.argtypes = [c_void_p]
            lib.TessBaseAPIEnd.argtypes = [c_void_p]
            lib.TessBaseAPIDelete.argtypes = [c_void_p]
            lib.TessBaseAPIClear.argtypes = [c_void_p]
            lib.TessBaseAPISetPageSegMode.argtypes = [c_void_p, c_int]
            lib.TessBaseAPISetVariable.argtypes = [c_void_p, ctypes.c_char_p, ctypes.c_char_p]
            api = lib.TessBaseAPICreate()
            if not api or lib.TessBaseAPIInit3(api, None, b"vie") != 0:
                raise OSError("tesseract: cannot load the Vietnamese data")
            lib.TessBaseAPISetPageSegMode(api, _PSM_AUTO)  # as the command does (the library's default is one block)
            lib.TessBaseAPISetVariable(api, b"debug_file", os.devnull.encode())  # its notes to stderr
        except (OSError, AttributeError):
            self._failed = True
            return False
        try:  # Leptonica's notes on odd images ("Error in boxClipToRectangle") went to the command's stderr
            ctypes.CDLL(ctypes.util.find_library("lept") or "liblept.so.5").setMsgSeverity(_LEPT_SEVERITY_NONE)
        except (OSError, AttributeError):
            pass
        self._lib, self._api = lib, api
        atexit.register(self.close)  # frees the language data before exit (else tesseract warns of leaks)
        return True

    def tsv(self, image, dpi: int, timeout: float, psm: int = _PSM_AUTO) -> str | None:
        """Tesseract's TSV for an 8-bit grayscale image, or None without the library.
        ``psm``: tesseract's page segmentation mode (automatic; 6: one block of text)."""
        if not self._load():
            return None
        lib, api = self._lib, self._api
        lib.TessBaseAPISetPageSegMode(api, psm)
        data = image.tobytes()
        lib.TessBaseAPISetImage(api, data, image.width, image.height, 1, image.width)
        lib.TessBaseAPISetSourceResolution(api, dpi)
        monitor = lib.TessMonitorCreate()
        lib.TessMonitorSetDeadlineMSecs(monitor, int(timeout * 1000))
        try:
            if lib.TessBaseAPIRecognize(api, monitor) != 0:
                raise RuntimeError(f"OCR quá {timeout:g} giây")
        finally:
            lib.TessMonitorDelete(monitor)
        text = lib.TessBaseAPIGetTsvText(api, 0)
        try:
            return _TSV_HEADER + (ctypes.string_at(text).decode("utf-8", "replace") if text else "")
        finally:
            if text:
                lib.TessDeleteText(text)
            lib.TessBaseAPIClear(api)  # the page's image and results: not kept until the next one
            if psm != _PSM_AUTO:
                lib.TessBaseAPISetPageSegMode(api, _PSM_AUTO)

    def close(self) -> None:
        if self._api is not None:
            self._lib.TessBaseAPIEnd(self._api)
            self._lib.TessBaseAPIDelete(self._api)
            self._api = None


# Per process (each extraction worker has its own): the loaded engine and
# what it has read. Module state because a worker's files come through
# ``extract()`` one by one and both outlive a file.
_MEMO = _Memo()
_ENGINE = _Engine()


def tesseract(image, dpi: int, limits: ExtractLimits, psm: int = _PSM_AUTO) -> str:
    """Tesseract's TSV for a grayscale image (memoised by content); raises on failure/timeout.
    ``psm``: the page segmentation mode (default automatic, as the command's)."""
    digest = hashlib.sha256(image.tobytes())
    digest.update(f"{image.mode}:{image.size}:{dpi}:{psm}".encode())
    key = digest.hexdigest()
    found = _MEMO.get(key)
    if found is not None:
        return found
    if image.mode != "L":
        image = image.convert("L")
    tsv = _ENGINE.tsv(image, dpi, limits.ocr_timeout, psm)
    if tsv is None:
        tsv = _tesseract_command(image, dpi, limits, psm)
    _MEMO.put(key, tsv)
    return tsv


def _tesseract_command(image, dpi: int, limits: ExtractLimits, psm: int = _PSM_AUTO) -> str:
    """The same through the ``tesseract`` command (no library to load)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)  # fast: the bytes live a few ms
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # the pool already uses every core
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", "vie", "--dpi", str(dpi), "--psm", str(psm), "tsv"],
                          input=buf.getvalue(), capture_output=True, timeout=limits.ocr_timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[-200:])
    return done.stdout.decode("utf-8", "replace")


# --------------------------------------------------------------------------
# OCR layout: the two-column header of a scan put in reading order
# --------------------------------------------------------------------------
#
# Tesseract reads a scanned header row by row across the page: "TRƯỜNG MN
# SƠN CA 8  Độc lập - Tự do - Hạnh phúc" comes out as one line, with specks
# of the gap read as "`..." between the columns, and the issuer's name runs
# into the motto. Its TSV output gives every word's box, so the header is cut
# where PDF text is (``layout_lines``): a wide gap near the middle of a line
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
    band, rest = _header_band(lines, width, height, _HEAD_BAND_SHARE if head_share is None else head_share)
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
    share = _HEAD_BAND_SHARE if head_share is None else head_share
    top_lines = sorted((line for line in lines if tops[id(line)] <= share * height),
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


def want_ocr(ocr: bool | str | None) -> tuple[bool, str | None]:
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
