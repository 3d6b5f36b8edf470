"""PDF -> text: PDFium first, OCR for scanned pages, pdfminer for damaged files.

PDF: pypdfium2 or pdfplumber?
    Measured with a throwaway script (CPU time, this 2-core machine under
    load, so +-40 %) on 60 generated official documents, 241 pages; the
    ratio matches perf-notes.md's 246 real PDFs (12.0 s vs 0.6 s):

    * pdfplumber, open + ``extract_text`` of page 1 only: 120-190 ms a PDF.
    * pypdfium2, open + ``get_text_range`` of every page: 6-17 ms a PDF.
    * pypdfium2 header re-ordering from character boxes (``_layout_lines``,
      first 16 lines of one page): 3-5 ms a page, done only when needed.
    * ``extract()`` end to end (text, clean-up, split, heads): 20-40 ms a PDF.

    What pdfplumber's layout awareness gives: ``extract_text`` sorts
    characters by line, so the two-column header ALWAYS comes out
    interleaved ("UBND QUẬN 12 CỘNG HÒA XÃ HỘI ...") and character-spaced
    titles come out as "T Ờ T R Ì N H". PDFium follows the content stream:
    files that write a table cell by cell come out in reading order (left
    cell, then right cell); files written row by row across the page
    interleave, and for those the character boxes PDFium also gives are
    enough to put the columns back (left column, right column, rest). Both
    orders are tested (tests/test_extract.py).

    Decision: pypdfium2 for all text and for the header layout (only on a
    document's first page, only when its top lines are interleaved);
    pdfplumber (pdfminer) is kept as the second reader for PDFs that PDFium
    refuses as damaged, where pdfminer's more forgiving parser sometimes
    still gets text. It is imported only then.
"""
from __future__ import annotations

import io
import logging
import re
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..model import Extraction
from ..vietnamese import is_letter_spaced
from .common import (DAMAGED_PDF, ENCRYPTED_PDF, OCR_FOUND_NOTHING, SCAN_UNREAD, SCANS_UNREAD, OCR_NOTE,
                     ExtractLimits, MappedFile)
from .ocr import PdfPage, want_ocr, read_page
from .official import official_inputs
from .pdf_layout import gap_text, has_big_image, interleaved, layout_lines
from .text import Block, legacy_note, extraction_from_blocks, clean_lines, starts_document


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------

_MIN_PAGE_CHARS = 20  # fewer non-space characters than this: a scan, not a text page


_JUNK = re.compile("[\ue000-\uf8ff\ufffd\x00-\x08\x0b\x0c\x0e-\x1f]")
_ALNUM = re.compile(r"[^\W_]")


def _junk(text: str) -> bool:
    """PDFs with broken font maps give private-use or replacement characters."""
    junk = len(_JUNK.findall(text))
    return junk > 0 and (junk > 50 or junk >= len(_ALNUM.findall(text)))


def _needs_ocr(text: str, page) -> bool:
    """A scan: little text but a page-sized image; or text that is junk.

    A short page without a big image (a signature page) is not OCR'd.
    """
    if _junk(text):
        return True
    return len(_ALNUM.findall(text, 0, 400)) < _MIN_PAGE_CHARS and has_big_image(page)


def extract_pdf(data: bytes | MappedFile, limits: ExtractLimits, ocr: bool | None,
                now: datetime | None = None) -> Extraction:
    """A PDF's text; with ``now``, also its official-copy inputs, looked for on the pages
    already loaded (``now``: the instant digital signatures are judged at)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(Path(data.path) if isinstance(data, MappedFile) else data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            return Extraction("pdf", error=ENCRYPTED_PDF)
        if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
            return Extraction("pdf", error="PDF được bảo vệ bằng cách mã hóa chưa hỗ trợ")
        return _extract_pdf_plumber(data, limits)
    try:
        result, loaded = _read_pdf(pdf, limits, ocr)
        if now is not None and result.parts:
            result = replace(result, official=official_inputs(data, result, limits, now, page_of=loaded.get))
        return result
    except pdfium.PdfiumError:  # a page PDFium cannot load (a loop in the page tree...)
        return _extract_pdf_plumber(data, limits)
    finally:
        pdf.close()


def _read_pdf(pdf, limits: ExtractLimits, ocr: bool | None) -> tuple[Extraction, dict]:
    """The text of the first ``max_pages`` pages, and those pages (number -> loaded page)."""
    total = len(pdf)
    count = min(total, limits.max_pages)
    notes: list[str] = []
    if total > count:
        notes.append(f"chỉ đọc {count} trang đầu trong {total} trang")
    raw = [_page_text(pdf, i) for i in range(count)]
    scanned = [i for i, (text, _, textpage) in enumerate(raw) if _needs_ocr(text, textpage.page)]
    ocr_texts, ocr_used, ocr_notes, ocr_error = _ocr_pdf_pages(pdf, scanned, limits, ocr)
    notes.extend(ocr_notes)
    blocks, encodings = [], []
    for i, (text, layout, _) in enumerate(raw):
        # A page with little text may be a signature page: keep its own text
        # unless OCR read more, and drop it only if it is junk.
        own = text if not _junk(text) else ""
        by_ocr = len(ocr_texts.get(i, "").strip()) > len(own.strip())
        text = ocr_texts[i] if by_ocr else own
        # Tesseract writes Unicode: its specks (¬ § µ ...) are no TCVN3 to convert.
        lines, enc = clean_lines(text, legacy=not by_ocr)
        if i not in ocr_texts and any(is_letter_spaced(line) for line in text.splitlines()):
            # PDFium writes one space for two: find the word gaps from the boxes.
            lines, enc = clean_lines(gap_text(raw[i][2]))
        head = None
        if i not in ocr_texts and starts_document(lines) and interleaved(lines):
            head = tuple(clean_lines("\n".join(layout()))[0])
        encodings.append(enc)
        blocks.append(Block(tuple(lines), page=i + 1, head=head))
    loaded = {i + 1: textpage.page for i, (_, _, textpage) in enumerate(raw)}
    if len(scanned) == count and not ocr_texts and not any(any(b.lines) for b in blocks):
        return Extraction("pdf", pages=total, notes=tuple(notes), error=ocr_error), loaded
    return extraction_from_blocks("pdf", blocks, limits, paged=True, pages=total, ocr=ocr_used,
                                  notes=notes + list(legacy_note(encodings)),
                                  empty_error=ocr_error or "tệp PDF không có chữ đọc được"), loaded


def _page_text(pdf, index: int):
    """(plain text, a callable giving layout-ordered lines, the text page) of one page."""
    page = pdf[index]
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    return text, lambda: layout_lines(page, textpage, text), textpage


def _ocr_pdf_pages(pdf, scanned: list[int], limits: ExtractLimits, ocr: bool | None):
    """OCR the scanned pages by need: (texts by page, used?, notes, error).

    Every page's head is read (a document of a combined scan starts there);
    a page's body only while the head of the document it belongs to has not
    decided (``read_page``), for at most ``ocr_max_pages`` pages a file.
    """
    if not scanned:
        return {}, False, [], None
    use, reason = want_ocr(ocr)
    if not use:
        note = f"{len(scanned)}{SCANS_UNREAD} {reason}"
        return {}, False, [note], f"{SCAN_UNREAD} {reason}"
    texts, notes, partial = {}, [], []
    decided, bodies = True, 0  # whether the current document's head decided; pages read whole
    for i in scanned:
        try:
            page = PdfPage(pdf[i], limits.ocr_dpi, limits.max_image_pixels)
            read = read_page(page, limits, continued=i > 0, follow=not decided,
                             body_allowed=bodies < limits.ocr_max_pages)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            notes.append(f"OCR lỗi ở trang {i + 1}: {str(exc)[:120]}")
            continue
        texts[i] = read.text
        if read.opens or i == 0:
            decided = read.decided
        bodies += read.whole
        if not read.whole:
            partial.append(i + 1)
    if partial:
        notes.append(f"OCR chỉ đọc phần đầu của trang {_page_list(partial)} (đủ để tách và nhận ra văn bản)")
    if texts:
        notes.append(OCR_NOTE)
    return texts, bool(texts), notes, OCR_FOUND_NOTHING


def _page_list(pages: list[int]) -> str:
    """[5, 6, 7, 9] -> "5-7, 9"."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _extract_pdf_plumber(data: bytes, limits: ExtractLimits) -> Extraction:
    """Second chance for PDFs PDFium refuses: pdfminer is more forgiving."""
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it warns about every flaw it forgives
    try:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            total = len(pdf.pages)
            texts = [page.extract_text() or "" for page in pdf.pages[: limits.max_pages]]
    except Exception as exc:  # pdfminer raises many types for damaged files
        if "password" in str(exc).lower() or type(exc).__name__ == "PDFPasswordIncorrect":
            return Extraction("pdf", error=ENCRYPTED_PDF)
        return Extraction("pdf", error=DAMAGED_PDF)
    blocks, encodings = [], []
    for i, text in enumerate(texts):
        lines, enc = clean_lines(text)
        encodings.append(enc)
        blocks.append(Block(tuple(lines), page=i + 1))
    notes = ["tệp PDF bị hỏng: đã đọc bằng trình đọc dự phòng"] + list(legacy_note(encodings))
    return extraction_from_blocks("pdf", blocks, limits, paged=True, pages=total, notes=notes,
                                  empty_error=DAMAGED_PDF)
