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
* ``ocr``: tesseract (reading a page by need: its head first, the body
  only when the head does not decide; ``ocr_layout`` of its TSV);
  ``tesseract``: whether it can run here (no reader loaded).
* ``office``: DOCX (tables, text boxes, legacy fonts, ZIP bombs) and
  .doc/RTF through catdoc or LibreOffice.
* ``images``: photos and scans; ``plain``: plain text and HTML.
* ``dispatch``: ``extract()``, which picks the reader.
* ``pool``: ``Extractor``, the bounded worker processes (their entry point
  is ``bot.extract.pool._worker_main``); ``caching``: whether a result may
  be reused, and its cache key.

The names are loaded on first use (PEP 562): ``status``, ``health`` and
``check-config`` ask for one or two of them and must not pay for the
readers, the worker pool and their libraries.
"""
from __future__ import annotations

from ..lazy import lazy_exports

# public name -> the module that defines it
_WHERE = {
    "EXTRACT_VERSION": "caching", "cache_version": "caching", "timed_out": "caching", "worth_caching": "caching",
    "OCR_NOTE": "common", "ExtractLimits": "common", "MiB": "common",
    "extract": "dispatch",
    "sniff": "kinds",
    "OcrNeeded": "ocr", "ocr_layout": "ocr", "ocr_unavailable_reason": "tesseract",
    "decode_text": "plain", "html_to_text": "plain",
    "NEEDS_OCR": "pool", "Extractor": "pool", "JobFailed": "pool",
    "clean_lines": "text", "make_parts": "text", "split_blocks": "text", "starts_document": "text",
}

__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
