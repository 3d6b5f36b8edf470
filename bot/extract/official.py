"""What the official-copy check needs of one attachment, got in the worker
with the text (issue 16; docs/official-copies.md).

- ``medium``: Word (docx/doc/rtf), text (plain, HTML), a scan (an image, or a
  PDF whose pages were OCR'd), else a text PDF.
- PDF digital signatures, read with pyHanko only when the bytes hold
  signature data at all (``has_signature_data``, a byte search): the
  ordinary unsigned PDF of the no-OCR first poll costs nothing more.
- Seals: the last page of each document part of a scan or photo, in colour
  at ~50 dpi (not the grayscale OCR render), given to ``find_seal``; for a
  text PDF only when that page is mostly an image (a searchable scan).
  Scans are read on the OCR path, so the first poll does not pay for it.

Never raises for a bad file: a page that cannot be rendered is simply not
looked at (the verdict then cannot tell, and says so).
"""
from __future__ import annotations

import io
import logging
from datetime import datetime

from ..model import Extraction
from ..official.record import OfficialInputs
from ..official.seal import PageSeal, find_seal
from ..official.signature import SignatureReport, has_signature_data, quiet_library_logs, read_signatures
from ..official.verdict import Medium
from .common import ExtractLimits

log = logging.getLogger(__name__)

SEAL_DPI = 50  # enough for a 36 mm seal (~70 px across); find_seal works on ~400 px anyway
_SEARCHABLE_SCAN_SHARE = 0.5  # a text PDF page at least this much covered by an image: a scan with a text layer

_MEDIUM = {"docx": Medium.WORD, "doc": Medium.WORD, "rtf": Medium.WORD, "text": Medium.TEXT, "html": Medium.TEXT,
           "image": Medium.SCAN}


def medium_of(result: Extraction) -> Medium:
    """How the document came, from its extraction (pure)."""
    if result.kind == "pdf":
        return Medium.SCAN if result.ocr else Medium.TEXT_PDF
    return _MEDIUM.get(result.kind, Medium.TEXT)


def official_inputs(data: bytes, result: Extraction, limits: ExtractLimits, now: datetime) -> OfficialInputs | None:
    """The official-copy inputs of one extracted attachment; None when it has no document part."""
    if not result.parts:
        return None
    medium = medium_of(result)
    signatures = SignatureReport()
    if result.kind == "pdf" and has_signature_data(data):
        quiet_library_logs()  # in the worker too: pyHanko's tracebacks for an untrusted chain say nothing new
        signatures = read_signatures(data, limits.trust_roots, now)
    last_pages = sorted({p.last_page for p in result.parts})
    pages: tuple[PageSeal, ...] = ()
    try:
        if result.kind == "pdf" and medium in (Medium.SCAN, Medium.TEXT_PDF):
            pages = _pdf_seals(data, last_pages, scans_only=medium == Medium.TEXT_PDF, limits=limits)
        elif result.kind == "image":
            pages = _image_seals(data, last_pages, limits)
    except MemoryError:
        raise  # the worker's memory limit: dispatch says so for the whole file
    except Exception as exc:  # a page that cannot be drawn: not looked at, the verdict says it cannot tell
        log.info("no page image for the seal check: %s: %s", type(exc).__name__, exc)
    return OfficialInputs(medium=medium, signatures=signatures, pages=pages)


def _pdf_seals(data: bytes, last_pages: list[int], *, scans_only: bool, limits: ExtractLimits) -> tuple[PageSeal, ...]:
    import pypdfium2 as pdfium

    from .pdf import _has_big_image

    pdf = pdfium.PdfDocument(data)
    try:
        found = []
        for number in last_pages:
            if not 1 <= number <= min(len(pdf), limits.max_pages):
                continue
            page = pdf[number - 1]
            if scans_only and not _has_big_image(page, _SEARCHABLE_SCAN_SHARE):
                continue
            width, height = page.get_size()
            scale = SEAL_DPI / 72
            if width * height * scale * scale > limits.max_image_pixels:  # a huge page: drawn smaller
                scale = (limits.max_image_pixels / (width * height)) ** 0.5
            image = page.render(scale=scale).to_pil()
            found.append(find_seal(image, number))
        return tuple(found)
    finally:
        pdf.close()


def _image_seals(data: bytes, last_pages: list[int], limits: ExtractLimits) -> tuple[PageSeal, ...]:
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    frames = getattr(image, "n_frames", 1)
    found = []
    for number in last_pages:
        if not 1 <= number <= frames:
            continue
        image.seek(number - 1)
        if image.width * image.height > limits.max_image_pixels:
            continue
        frame = ImageOps.exif_transpose(image)  # a phone photo stood upright, as the seal finder expects
        found.append(find_seal(frame.convert("RGB"), number))
    return tuple(found)
