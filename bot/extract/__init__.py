"""Attachment -> text (PDF, DOCX, DOC/RTF, images, plain text and HTML).

``extract(att)`` never raises for bad input: a file it cannot read comes
back as ``Extraction(kind, error="...")`` with a reason the coordinator
understands, in Vietnamese (errors and notes are shown in the digest). ``Extractor`` runs it in worker processes with a memory limit
and a wall-clock timeout, so a hostile or broken file costs one result, not
the bot.

The package, one module per concern (import the public names from
``bot.extract`` itself):

* ``common``: ``ExtractLimits`` (bounds on the work for one file) and the
  messages several readers share.
* ``kinds``: format sniffing from magic bytes, file-name extensions.
* ``text``: text clean-up (``clean_lines``) and the splitting of combined
  files into ``DocumentPart``s (``split_blocks``, ``make_parts``).
* ``pdf``: PDF via pypdfium2, OCR of scanned pages, the pdfplumber fallback
  (and why PDFium: see its docstring); ``pdf_layout``: character boxes
  (letter-spaced lines, two-column headers in reading order).
* ``ocr``: tesseract (availability, one page, ``ocr_layout`` of its TSV).
* ``office``: DOCX (tables, text boxes, legacy fonts, ZIP bombs) and
  .doc/RTF through catdoc or LibreOffice.
* ``images``: photos and scans; ``plain``: plain text and HTML.
* ``dispatch``: ``extract()``, which picks the reader.
* ``pool``: ``Extractor``, the bounded worker processes (their entry point
  is ``bot.extract.pool._worker_main``); ``caching``: whether a result may
  be reused, and its cache key.
"""
from __future__ import annotations

from .caching import EXTRACT_VERSION, cache_version, timed_out, worth_caching
from .common import OCR_NOTE, ExtractLimits, MiB
from .dispatch import extract
from .kinds import sniff
from .ocr import OcrNeeded, ocr_layout, ocr_unavailable_reason
from .plain import decode_text, html_to_text
from .pool import NEEDS_OCR, Extractor, JobFailed
from .text import clean_lines, make_parts, split_blocks, starts_document

__all__ = [
    "EXTRACT_VERSION", "MiB", "NEEDS_OCR", "OCR_NOTE", "ExtractLimits", "Extractor", "JobFailed", "OcrNeeded",
    "cache_version", "clean_lines", "decode_text", "extract", "html_to_text", "make_parts", "ocr_layout",
    "ocr_unavailable_reason", "sniff", "split_blocks", "starts_document", "timed_out", "worth_caching",
]
