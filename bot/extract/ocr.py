"""OCR with tesseract: whether it can run, and reading a scanned page (the names callers use).

The work is split by concern:

* ``ocr_pages``: OCR by need, the policy: a page's text rows found without
  OCR, its head read first, the whole page only when the head does not
  decide (``read_page``, ``head_decides``, ``PdfPage``, ``ImagePage``);
* ``ocr_engine``: tesseract itself, in process through libtesseract (or its
  command), one per worker, results memoised by the pixels (``tesseract``);
* ``ocr_tsv``: tesseract's TSV to text: the two-column header in reading
  order, the date line's misreadings repaired (``ocr_layout``).

This module keeps whether to run it (``want_ocr``, ``OcrNeeded``; whether
tesseract can run at all is ``tesseract.ocr_unavailable_reason``, apart so
that a light command asks it without these imports) and the names
the readers import (``ocr_png``, ``read_page``, ``tesseract``, ``ocr_layout``...).
"""
from __future__ import annotations

import io
import shutil
import time

from .common import ExtractLimits
from .ocr_engine import tesseract
from .ocr_pages import ImagePage, PageRead, PdfPage, head_decides, read_page, text_rows
from .ocr_tsv import ocr_layout, repair_date_line
from .tesseract import ocr_unavailable_reason

__all__ = ["ImagePage", "OcrNeeded", "PageRead", "PdfPage", "head_decides", "ocr_layout", "ocr_png",
           "ocr_unavailable_reason", "read_page", "repair_date_line", "tesseract", "text_rows", "want_ocr"]


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
