"""Attachment -> text (PDF, DOCX, DOC/RTF, images, plain text and HTML).

``extract(att)`` never raises for bad input: a file it cannot read comes
back as ``Extraction(kind, error="...")`` with a reason the coordinator
understands, in Vietnamese (errors and notes are shown in the digest). ``Extractor`` runs it in worker processes with a memory limit
and a wall-clock timeout, so a hostile or broken file costs one result, not
the bot.

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

Combined PDFs are split into ``DocumentPart``s: a page whose top lines hold
the national motto or a ``Số: .../...`` line starts a new document.
"""
from __future__ import annotations

import html
import io
import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
import zipfile
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .model import Attachment, DocumentPart, Extraction
from .vietnamese import (
    convert_legacy, fix_legacy, fold, fold_compact, font_capitals, font_encoding,
    is_letter_spaced, join_letter_spaced, nfc,
)

MiB = 1024 * 1024

# Errors and notes are shown to the coordinator: Vietnamese. Those used twice:
OCR_NOTE = "chữ đọc bằng OCR (có thể nhận dạng sai)"
_ENCRYPTED_PDF = "PDF có mật khẩu (bị mã hóa)"
_DAMAGED_PDF = "tệp PDF bị hỏng (không mở được)"
_BROKEN_DOCX = "tệp DOCX bị hỏng (vỏ ZIP bị hỏng)"
_EMPTY_WORD = "văn bản Word trống (không có chữ)"
_HUGE_IMAGE = "ảnh quá lớn, không đọc được"


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on the work done for one attachment.

    ``max_pages``: PDF pages read (a dossier's three documents fit in far
    fewer). ``max_chars``: text kept per document part. ``ocr_*``: scanned
    pages OCR'd whole per file (the later ones, up to ``max_pages``, only
    their top: where a document of a combined scan starts), render
    resolution, seconds per page. ``max_unpacked``:
    bytes a DOCX may unpack to (ZIP bombs). ``convert_timeout``: seconds for
    catdoc/LibreOffice.
    """

    max_bytes: int = 40 * MiB
    max_pages: int = 12
    max_chars: int = 30_000
    head_lines: int = 20
    ocr_max_pages: int = 4
    ocr_dpi: int = 200
    ocr_timeout: float = 40.0
    max_unpacked: int = 120 * MiB
    max_image_pixels: int = 40_000_000
    convert_timeout: float = 30.0


# --------------------------------------------------------------------------
# Kind detection
# --------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"), (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"BM", "bmp"),
)
_EXTENSIONS = {
    "pdf": "pdf", "docx": "docx", "docm": "docx", "dotx": "docx", "doc": "doc", "dot": "doc",
    "rtf": "rtf", "jpg": "image", "jpeg": "image", "png": "image", "tif": "image",
    "tiff": "image", "gif": "image", "bmp": "image", "webp": "image", "txt": "text",
    "htm": "html", "html": "html", "xml": "html",
}
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<meta|<\?xml|<!--)", re.I)


def sniff(data: bytes) -> str | None:
    """The format the bytes themselves declare, or None if they say nothing.

    One of: pdf, zip, ole, rtf, image, html, text.
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if any(head.startswith(magic) for magic, _ in _IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "heic"
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(stripped) or re.search(rb"<(html|body|table|p)[\s>]", head, re.I):
        return "html"
    if _looks_like_text(head):
        return "text"
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 BOM
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in b"\r\n\t\f")
    return controls <= len(head) // 100


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].casefold() if "." in name else ""


# --------------------------------------------------------------------------
# Shared text clean-up and document splitting
# --------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\u200b\u200c\u200d\u2060\ufeff]")
_MOTTO = fold_compact("Cộng hòa xã hội chủ nghĩa Việt Nam")
# The motto's lines in letters only, by pieces OCR seldom breaks all at once
# ("GỘNG HƠÀ XÃ HỘI CHỦ NGHĨA: VIỆT NAM", "Độc lập - Tư do .- Hạnh phúc").
_MOTTO_PIECES = ("xahoichunghiavietnam", "conghoaxahoichu", "doclaptudohanhphuc")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# "Số: 15/TTr-...", also with OCR specks before it and "-" for ":".
_NUMBER_LINE = re.compile(r"^[^a-z0-9]*soo?\s*[:.-]*\s*[0-9 .]*/\s*[a-z0-9]")
_TOP_LINES = 8  # how deep into a page/block the motto or "Số:" may sit to start a document


@dataclass(frozen=True)
class _Block:
    """A unit the splitter works on: a PDF page, or a DOCX paragraph/table.

    ``head``: the same lines in reading order when layout analysis
    re-ordered them (PDF first pages), else None.
    """

    lines: tuple[str, ...]
    page: int = 1
    head: tuple[str, ...] | None = None


def clean_lines(text: str, legacy: bool = True) -> tuple[list[str], str | None]:
    """Raw extracted text -> lines (NFC, legacy converted, letter-spacing joined).

    Returns the lines and the legacy encoding found, if any. ``legacy=False``
    when the caller already converted legacy text (DOCX fonts).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    text, encoding = fix_legacy(text) if legacy else (nfc(text), None)
    return [join_letter_spaced(line).rstrip() for line in text.split("\n")], encoding


def starts_document(lines) -> bool:
    """True if the top lines of a page/block open an official document.

    The national motto (HÒA/HOÀ, any spacing) or a ``Số: 15/TTr-...`` line
    within the first few non-empty lines. Titles are not hard-coded.
    """
    top = [line for line in lines if line.strip()][:_TOP_LINES]
    return any(_opens_document(fold(line)) for line in top)


def _opens_document(folded: str) -> bool:
    letters = _NOT_ALNUM.sub("", folded)
    return any(piece in letters for piece in _MOTTO_PIECES) or bool(_NUMBER_LINE.match(folded))


def _header_like(block: _Block) -> bool:
    """A short all-capitals paragraph, as the issuer lines above a motto are."""
    text = " ".join(line for line in block.lines if line.strip())
    letters = [ch for ch in text if ch.isalpha()]
    return 0 < len(text) <= 80 and bool(letters) and all(ch.isupper() for ch in letters)


def split_blocks(blocks: list[_Block], paged: bool) -> list[list[_Block]]:
    """Group blocks into documents; a block that ``starts_document`` opens one.

    PDF pages (``paged``) split at the page. Paragraph blocks split only once
    the current document has a body, and take the issuer lines written as
    paragraphs just above the motto with them.
    """
    groups: list[list[_Block]] = [[]]
    for block in blocks:
        current = groups[-1]
        if current and starts_document(block.lines) and (paged or _body_lines(current) >= 6):
            moved: list[_Block] = []
            while not paged and len(moved) < 3 and current and _header_like(current[-1]):
                moved.insert(0, current.pop())
            groups.append(moved + [block])
        else:
            current.append(block)
    return [g for g in groups if g]


def _body_lines(group: list[_Block]) -> int:
    return sum(1 for b in group for line in b.lines if line.strip())


def _bounded(lines, limit: int) -> str:
    out, size = [], 0
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def make_parts(blocks: list[_Block], limits: ExtractLimits, paged: bool) -> tuple[DocumentPart, ...]:
    """Blocks -> DocumentParts with a head (first non-empty lines) and bounded text."""
    parts = []
    for group in split_blocks(blocks, paged):
        head_source = [line for b in group for line in (b.head or b.lines)]
        head = [line.strip() for line in head_source if line.strip()][: limits.head_lines]
        body = _squeeze_blank(line for b in group for line in (b.head or b.lines))
        parts.append(DocumentPart(head="\n".join(head), text=_bounded(body, limits.max_chars),
                                  first_page=group[0].page, last_page=group[-1].page))
    return tuple(p for p in parts if p.text.strip())


def _squeeze_blank(lines) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    return out


def _legacy_note(encodings) -> tuple[str, ...]:
    names = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI"}
    return tuple(f"đã chuyển từ bảng mã {names[e]}" for e in sorted(set(encodings) - {None}))


def _result(kind: str, blocks: list[_Block], limits: ExtractLimits, *, paged: bool = False,
            pages: int = 0, ocr: bool = False, notes=(), empty_error: str) -> Extraction:
    parts = make_parts(blocks, limits, paged)
    if not parts:
        return Extraction(kind, pages=pages, ocr=ocr, error=empty_error, notes=tuple(notes))
    return Extraction(kind, parts=parts, pages=pages, ocr=ocr, notes=tuple(notes))


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
    return len(_ALNUM.findall(text, 0, 400)) < _MIN_PAGE_CHARS and _has_big_image(page)


def _has_big_image(page, share: float = 0.25) -> bool:
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) >= share * width * height:
            return True
    return False


def _extract_pdf(data: bytes, limits: ExtractLimits, ocr: bool | None) -> Extraction:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            return Extraction("pdf", error=_ENCRYPTED_PDF)
        if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
            return Extraction("pdf", error="PDF được bảo vệ bằng cách mã hóa chưa hỗ trợ")
        return _extract_pdf_plumber(data, limits)
    try:
        return _read_pdf(pdf, limits, ocr)
    except pdfium.PdfiumError:  # a page PDFium cannot load (a loop in the page tree...)
        return _extract_pdf_plumber(data, limits)
    finally:
        pdf.close()


def _read_pdf(pdf, limits: ExtractLimits, ocr: bool | None) -> Extraction:
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
            lines, enc = clean_lines(_gap_text(raw[i][2]))
        head = None
        if i not in ocr_texts and starts_document(lines) and _interleaved(lines):
            head = tuple(clean_lines("\n".join(layout()))[0])
        encodings.append(enc)
        blocks.append(_Block(tuple(lines), page=i + 1, head=head))
    if len(scanned) == count and not ocr_texts and not any(any(b.lines) for b in blocks):
        return Extraction("pdf", pages=total, notes=tuple(notes), error=ocr_error)
    return _result("pdf", blocks, limits, paged=True, pages=total, ocr=ocr_used,
                   notes=notes + list(_legacy_note(encodings)),
                   empty_error=ocr_error or "tệp PDF không có chữ đọc được")


def _page_text(pdf, index: int):
    """(plain text, a callable giving layout-ordered lines, the text page) of one page."""
    page = pdf[index]
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    return text, lambda: _layout_lines(page, textpage, text), textpage


def _gap_text(textpage) -> str:
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


def _ocr_pdf_pages(pdf, scanned: list[int], limits: ExtractLimits, ocr: bool | None):
    """OCR the scanned pages within the budget: (texts by page, used?, notes, error)."""
    if not scanned:
        return {}, False, [], None
    use, reason = _want_ocr(ocr)
    if not use:
        note = f"{len(scanned)}{_SCANS_UNREAD} {reason}"
        return {}, False, [note], f"{_SCAN_UNREAD} {reason}"
    texts, notes, tops = {}, [], []
    for n, i in enumerate(scanned):
        # Past the budget, only the top of a page: enough to see a document
        # start there (combined scans) and to read its head, at 40 % of the cost.
        top_only = n >= limits.ocr_max_pages
        try:
            png, dpi = _render_png(pdf[i], limits.ocr_dpi, limits.max_image_pixels,
                                   share=_PAGE_TOP_SHARE if top_only else 1.0)
            texts[i] = _ocr_png(png, dpi, limits, head_share=1.0 if top_only else _HEAD_BAND_SHARE)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            notes.append(f"OCR lỗi ở trang {i + 1}: {str(exc)[:120]}")
            continue
        if top_only:
            tops.append(i + 1)
    if tops:
        notes.append(f"OCR chỉ đọc phần đầu của trang {_page_list(tops)} (đủ để tách và nhận ra văn bản)")
    if texts:
        notes.append(OCR_NOTE)
    return texts, bool(texts), notes, _OCR_FOUND_NOTHING


# The top of a page that holds a document's head (issuer, number, motto,
# title, subject): measured on 30 scanned first pages of a corpus, OCR of the
# top 35 % read every title and school the whole page did, in 44 % of the time.
_PAGE_TOP_SHARE = 0.35
_OCR_FOUND_NOTHING = "tệp scan nhưng OCR không đọc được chữ nào"


def _page_list(pages: list[int]) -> str:
    """[5, 6, 7, 9] -> "5-7, 9"."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _render_png(page, dpi: int, max_pixels: int, share: float = 1.0) -> tuple[bytes, int]:
    """The page (or its top ``share``) as a grayscale PNG, and the resolution it was rendered at.

    A page may be up to 200 x 200 inches: at ``dpi`` that is 1.6 billion
    pixels, so the resolution is lowered to keep within ``max_pixels``.
    """
    width, height = page.get_size()  # points: 1/72 inch
    scale = dpi / 72
    pixels = max(width * scale, 1) * max(height * scale, 1)
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    image = page.render(scale=scale, grayscale=True).to_pil()
    if share < 1.0:
        image = image.crop((0, 0, image.width, max(1, int(image.height * share))))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue(), max(1, round(scale * 72))


def _interleaved(lines: list[str]) -> bool:
    """The motto shares a line with other text: a row-by-row two-column header."""
    for line in [line for line in lines if line.strip()][:_TOP_LINES]:
        compact = fold_compact(line)
        for marker in (_MOTTO, "doclap-tudo"):
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
    import ctypes

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


def _layout_lines(page, textpage, plain_text: str) -> list[str]:
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


def _extract_pdf_plumber(data: bytes, limits: ExtractLimits) -> Extraction:
    """Second chance for PDFs PDFium refuses: pdfminer is more forgiving."""
    import logging

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it warns about every flaw it forgives
    try:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            total = len(pdf.pages)
            texts = [page.extract_text() or "" for page in pdf.pages[: limits.max_pages]]
    except Exception as exc:  # pdfminer raises many types for damaged files
        if "password" in str(exc).lower() or type(exc).__name__ == "PDFPasswordIncorrect":
            return Extraction("pdf", error=_ENCRYPTED_PDF)
        return Extraction("pdf", error=_DAMAGED_PDF)
    blocks, encodings = [], []
    for i, text in enumerate(texts):
        lines, enc = clean_lines(text)
        encodings.append(enc)
        blocks.append(_Block(tuple(lines), page=i + 1))
    notes = ["tệp PDF bị hỏng: đã đọc bằng trình đọc dự phòng"] + list(_legacy_note(encodings))
    return _result("pdf", blocks, limits, paged=True, pages=total, notes=notes,
                   empty_error=_DAMAGED_PDF)


# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)


def _check_docx_zip(zf: zipfile.ZipFile, limits: ExtractLimits) -> str | None:
    """Refuse ZIP bombs and XML with a DOCTYPE (external entities, billion laughs).

    python-docx's parser does not resolve entities, but a DOCTYPE has no
    place in a Word file, so it is refused before any XML parser sees it.
    """
    names = zf.namelist()
    if "word/document.xml" not in names:
        return None  # caller decides what other ZIPs are
    if sum(info.file_size for info in zf.infolist()) > limits.max_unpacked:
        return "tệp DOCX giải nén ra quá dung lượng cho phép (có thể là ZIP bomb)"
    for info in zf.infolist():
        if info.filename.endswith((".xml", ".rels")):
            data = zf.read(info)
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                data = data.decode("utf-16", "replace").encode("utf-8")
            if _DOCTYPE.search(data):
                return "tệp DOCX có khai báo XML DOCTYPE/entity (không đọc, vì an toàn)"
    return None


def _extract_zip(data: bytes, limits: ExtractLimits) -> Extraction:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return Extraction("docx", error=_BROKEN_DOCX)
    if "word/document.xml" not in names:
        if any(n.startswith("xl/") for n in names):
            return Extraction("unknown", error="tệp Excel, không phải văn bản Word")
        if "content.xml" in names:
            return Extraction("unknown", error="tệp OpenDocument (LibreOffice), chưa đọc được")
        return Extraction("unknown", error="tệp nén ZIP, không phải văn bản")
    try:
        problem = _check_docx_zip(zf, limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return Extraction("docx", error=_BROKEN_DOCX)
    if problem:
        return Extraction("docx", error=problem)
    return _extract_docx(data, zf, limits)


def _extract_docx(data: bytes, zf: zipfile.ZipFile, limits: ExtractLimits) -> Extraction:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises KeyError, ValueError, lxml errors...
        return Extraction("docx", error="tệp DOCX bị hỏng (thiếu hoặc sai các phần của Word)")
    fonts = _FontResolver(document)
    raw_blocks = _docx_header_blocks(document, fonts) + _walk_container(document.element.body, fonts)
    blocks, encodings = _fix_docx_blocks(raw_blocks)
    return _result("docx", blocks, limits, pages=_docx_pages(zf), notes=_legacy_note(encodings),
                   empty_error=_EMPTY_WORD)


def _docx_pages(zf: zipfile.ZipFile) -> int:
    try:
        app = zf.read("docProps/app.xml")
    except KeyError:
        return 0
    match = re.search(rb"<Pages>(\d+)</Pages>", app)
    return int(match.group(1)) if match else 0


# A DOCX line: its text and the legacy encoding its font implied (already converted).
_Line = tuple[str, str | None]


class _FontResolver:
    """The font of a run: run properties, then character style, paragraph
    style (following basedOn), then the document defaults."""

    def __init__(self, document):
        styles = document.styles.element
        self._fonts: dict[str, tuple[str | None, str | None]] = {}
        self.default_paragraph_style: str | None = None
        for style in styles.iter(f"{_W}style"):
            sid = style.get(f"{_W}styleId")
            based = style.find(f"{_W}basedOn")
            self._fonts[sid] = (_rfonts(style.find(f"{_W}rPr")),
                                based.get(f"{_W}val") if based is not None else None)
            if style.get(f"{_W}type") == "paragraph" and style.get(f"{_W}default") in ("1", "true"):
                self.default_paragraph_style = sid
        defaults = styles.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr")
        self.default_font = _rfonts(defaults)

    def style_font(self, style_id: str | None) -> str | None:
        for _ in range(20):  # basedOn chains are short; a cycle must not hang us
            if style_id is None or style_id not in self._fonts:
                return None
            font, style_id_next = self._fonts[style_id]
            if font:
                return font
            style_id = style_id_next
        return None

    def run_font(self, run, paragraph_style: str | None) -> str | None:
        rpr = run.find(f"{_W}rPr")
        font = _rfonts(rpr)
        if font:
            return font
        rstyle = rpr.find(f"{_W}rStyle") if rpr is not None else None
        if rstyle is not None and (font := self.style_font(rstyle.get(f"{_W}val"))):
            return font
        return self.style_font(paragraph_style or self.default_paragraph_style) or self.default_font


def _rfonts(rpr) -> str | None:
    """The font for non-ASCII Latin text (w:hAnsi), else w:ascii."""
    if rpr is None:
        return None
    fonts = rpr.find(f"{_W}rFonts")
    if fonts is None:
        return None
    return fonts.get(f"{_W}hAnsi") or fonts.get(f"{_W}ascii")


def _walk_container(container, fonts: _FontResolver) -> list[list[_Line]]:
    """Blocks (paragraphs, tables) of a body/cell/text box, in document order."""
    blocks: list[list[_Line]] = []
    for child in container:
        tag = child.tag
        if tag == f"{_W}p":
            blocks.extend(_paragraph_blocks(child, fonts))
        elif tag == f"{_W}tbl":
            blocks.append(_table_lines(child, fonts))
        elif tag in (f"{_W}sdt", f"{_W}customXml", f"{_W}sdtContent"):
            inner = child.find(f"{_W}sdtContent") if tag == f"{_W}sdt" else child
            if inner is not None:
                blocks.extend(_walk_container(inner, fonts))
    return blocks


def _table_lines(table, fonts: _FontResolver) -> list[_Line]:
    """All lines of a table: row by row, cell by cell (left cell, then right)."""
    lines: list[_Line] = []
    for row in table.iter(f"{_W}tr"):
        if row.getparent() is not table:
            continue  # nested tables are read inside their cell
        for cell in row.iter(f"{_W}tc"):
            if cell.getparent() is row:
                for block in _walk_container(cell, fonts):
                    lines.extend(block)
    return lines


def _paragraph_blocks(p, fonts: _FontResolver) -> list[list[_Line]]:
    """A paragraph's line(s), followed by the paragraphs of its text boxes."""
    ppr = p.find(f"{_W}pPr")
    pstyle = ppr.find(f"{_W}pStyle") if ppr is not None else None
    style_id = pstyle.get(f"{_W}val") if pstyle is not None else None
    pieces: list[tuple[str, str | None, bool]] = []
    boxes = []
    _collect_runs(p, fonts, style_id, pieces, boxes)
    blocks = [_join_pieces(pieces)]
    for box in boxes:
        blocks.extend(_walk_container(box, fonts))
    return blocks


def _collect_runs(element, fonts, style_id, pieces, boxes) -> None:
    """Walk a paragraph in order: runs give text, text boxes are set aside.

    ``mc:Fallback`` repeats the ``mc:Choice`` content (VML copy of a text
    box) and deleted text is not text: both are skipped.
    """
    for child in element:
        tag = child.tag
        if tag == f"{_W}r":
            _run_text(child, fonts, style_id, pieces, boxes)
        elif tag == f"{_W}txbxContent":
            boxes.append(child)
        elif tag in (f"{_MC}Fallback", f"{_W}del", f"{_W}pPr", f"{_W}rPr", f"{_W}moveFrom"):
            continue
        elif isinstance(tag, str):
            _collect_runs(child, fonts, style_id, pieces, boxes)


def _run_text(run, fonts, style_id, pieces, boxes) -> None:
    font = fonts.run_font(run, style_id)
    encoding = font_encoding(font)
    capitals = font_capitals(font)
    text = []
    for child in run:
        tag = child.tag
        if tag == f"{_W}t":
            text.append(child.text or "")
        elif tag == f"{_W}tab":
            text.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            text.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            text.append("-")
        elif tag == f"{_W}softHyphen" and encoding == "tcvn3":
            text.append("\u00ad")  # Word keeps TCVN3's ư (0xAD) as an optional hyphen
        elif tag == f"{_W}sym":
            text.append(_sym_char(child))
        elif isinstance(tag, str):
            _collect_runs(child, fonts, style_id, pieces, boxes)  # drawings, text boxes
    value = "".join(text)
    if encoding and value:
        pieces.append((convert_legacy(value, encoding, capitals), encoding, True))
    elif value:
        pieces.append((value, None, False))


def _sym_char(sym) -> str:
    try:
        code = int(sym.get(f"{_W}char", ""), 16)
    except ValueError:
        return ""
    return chr(code - 0xF000 if code >= 0xF000 else code)


def _join_pieces(pieces) -> list[_Line]:
    """One paragraph -> lines tagged with the font encoding that converted them."""
    text = "".join(p[0] for p in pieces)
    encodings = {p[1] for p in pieces if p[2]}
    encoding = encodings.pop() if len(encodings) == 1 else ("mixed" if encodings else None)
    return [(line, encoding) for line in text.split("\n")]


def _docx_header_blocks(document, fonts: _FontResolver) -> list[list[_Line]]:
    """Page headers (first-page and default), each distinct one once."""
    blocks, seen = [], set()
    for section in document.sections:
        for header in (section.first_page_header, section.header):
            if header.is_linked_to_previous:
                continue
            for block in _walk_container(header._element, fonts):
                key = tuple(text for text, _ in block)
                if any(t.strip() for t in key) and key not in seen:
                    seen.add(key)
                    blocks.append(block)
    return blocks


def _fix_docx_blocks(raw_blocks: list[list[_Line]]):
    """Convert legacy text that no font announced, scoring the whole document.

    Lines converted by their font are left alone; the others go through
    ``fix_legacy`` together (more words, surer detection), line by line.
    """
    encodings = {enc for block in raw_blocks for _, enc in block if enc and enc != "mixed"}
    flat = [text for block in raw_blocks for text, enc in block if enc is None]
    fixed, detected = fix_legacy("\n".join(flat)) if flat else ("", None)
    fixed_lines = iter(fixed.split("\n"))
    blocks = []
    for block in raw_blocks:
        lines = [next(fixed_lines) if enc is None else text for text, enc in block]
        cleaned, _ = clean_lines("\n".join(lines), legacy=False)
        blocks.append(_Block(tuple(cleaned)))
    return blocks, encodings | {detected}


# --------------------------------------------------------------------------
# DOC / RTF (external converters)
# --------------------------------------------------------------------------

def _ole_kind(data: bytes) -> str:
    """What an OLE2 compound file holds: "encrypted", "word" or "other"."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"  # a password-protected DOCX/XLSX is an OLE2 wrapper
    if "WordDocument".encode("utf-16-le") in data:
        return "word"
    return "other"


def _extract_legacy_word(data: bytes, kind: str, limits: ExtractLimits) -> Extraction:
    """.doc (Word 97-2003) and RTF through catdoc, or LibreOffice if present."""
    with tempfile.TemporaryDirectory(prefix="doc-") as tmp:
        path = os.path.join(tmp, "input." + ("rtf" if kind == "rtf" else "doc"))
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            text = _convert_doc(path, tmp, limits)
        except subprocess.TimeoutExpired:
            return Extraction("doc", error=f"chuyển đổi tệp .doc cũ quá {limits.convert_timeout:g} giây")
        except RuntimeError as exc:
            return Extraction("doc", error=f"không đọc được tệp Word cũ ({exc})")
    if text is None:
        return Extraction("doc", error="tệp .doc cũ nhưng máy chưa cài chương trình chuyển đổi (catdoc)")
    lines, encoding = clean_lines(text)
    blocks = [_Block((line,)) for line in lines]
    return _result("doc", blocks, limits, notes=_legacy_note([encoding]),
                   empty_error=_EMPTY_WORD)


def _convert_doc(path: str, tmp: str, limits: ExtractLimits) -> str | None:
    catdoc = shutil.which("catdoc")
    if catdoc:
        done = subprocess.run([catdoc, "-w", "-d", "utf-8", path], capture_output=True,
                              timeout=limits.convert_timeout)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[:200] or "catdoc failed")
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office:
        done = subprocess.run([office, "--headless", "--convert-to", "txt:Text (encoded):UTF8",
                               "--outdir", tmp, path], capture_output=True, timeout=limits.convert_timeout)
        out = os.path.splitext(path)[0] + ".txt"
        if done.returncode == 0 and os.path.exists(out):
            with open(out, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        raise RuntimeError("LibreOffice could not convert it")
    return None


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

def _extract_image(data: bytes, limits: ExtractLimits, ocr: bool | None) -> Extraction:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
        if image.width * image.height > limits.max_image_pixels:
            return Extraction("image", pages=frames, error=_HUGE_IMAGE)
    except Image.DecompressionBombError:  # Pillow refuses it before we can measure it
        return Extraction("image", error=_HUGE_IMAGE)
    except (UnidentifiedImageError, OSError, ValueError):
        return Extraction("image", error="ảnh bị hỏng hoặc định dạng ảnh chưa đọc được")
    use, reason = _want_ocr(ocr)
    if not use:
        return Extraction("image", pages=frames, error=f"{_SCAN_UNREAD} {reason}")
    blocks, notes = [], [OCR_NOTE]
    for index in range(min(frames, limits.ocr_max_pages)):
        try:
            image.seek(index)
            text = _ocr_png(_page_png(image), _image_dpi(image), limits)
        except (OSError, subprocess.SubprocessError, RuntimeError, ValueError) as exc:
            notes.append(f"OCR lỗi ở trang {index + 1}: {str(exc)[:120]}")
            continue
        lines, _ = clean_lines(text, legacy=False)  # OCR gives Unicode, never TCVN3/VNI
        blocks.append(_Block(tuple(lines), page=index + 1))
    if frames > limits.ocr_max_pages:
        notes.append(f"OCR chỉ đọc {limits.ocr_max_pages} trang đầu")
    return _result("image", blocks, limits, paged=True, pages=frames, ocr=True, notes=notes,
                   empty_error="OCR không đọc được chữ nào trong ảnh")


def _page_png(image) -> bytes:
    """One frame as grayscale PNG, EXIF rotation applied (phone photos)."""
    from PIL import ImageOps

    frame = ImageOps.exif_transpose(image).convert("L")
    buf = io.BytesIO()
    frame.save(buf, format="PNG")
    return buf.getvalue()


def _image_dpi(image) -> int:
    dpi = image.info.get("dpi", (0, 0))[0] or 0
    return int(dpi) if 70 <= dpi <= 1200 else 200


# --------------------------------------------------------------------------
# Plain text and HTML
# --------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
               "td", "th", "section", "article", "header", "footer", "blockquote", "pre"}


class _TextOfHtml(HTMLParser):
    """Text of an HTML page: scripts and styles dropped, blocks on new lines.

    html.parser does not fetch or expand DTD entities, so XML/HTML with a
    DOCTYPE is harmless here.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML (or XML) document, one block per line."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Bytes -> str: BOM, UTF-8, the declared charset, cp1258, then Latin-1.

    UTF-8 goes first because it almost never decodes text that is not UTF-8,
    while a declared "iso-8859-1" decodes anything (and is often wrong).
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return nfc(data.decode(codec, "replace"))
    for codec in ("utf-8", declared, "cp1258"):
        if not codec:
            continue
        try:
            return nfc(data.decode(codec))
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _declared_charset(content_type: str, data: bytes) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.I)
    if not match:
        found = re.search(rb"charset=[\"']?([\w.:-]+)", data[:4096], re.I)
        return found.group(1).decode("ascii", "ignore") if found else None
    return match.group(1)


def _extract_text(data: bytes, att: Attachment, is_html: bool, limits: ExtractLimits,
                  notes=()) -> Extraction:
    text = decode_text(data, _declared_charset(att.content_type, data))
    if is_html:
        text = html_to_text(text)
    lines, encoding = clean_lines(text)
    blocks = [_Block((line,)) for line in lines]
    return _result("text", blocks, limits, notes=tuple(notes) + _legacy_note([encoding]),
                   empty_error="tệp không có chữ")


# --------------------------------------------------------------------------
# extract(): dispatch
# --------------------------------------------------------------------------

_DISGUISE_NAMES = {"pdf": "PDF", "docx": "DOCX", "doc": "DOC", "rtf": "RTF", "image": "image"}


def extract(att: Attachment, limits: ExtractLimits = ExtractLimits(), ocr: bool | None = None) -> Extraction:
    """Get the text out of one attachment; never raises for bad input.

    Kind by magic bytes first, the file name's extension second. ``ocr``:
    None uses tesseract when installed, False never, True wants it (and
    says so if it is missing).
    """
    kind_hint = _EXTENSIONS.get(_extension(att.filename), "unknown")
    try:
        return _dispatch(att, limits, ocr, kind_hint)
    except OcrNeeded:  # ocr="later": the caller runs OCR in a pass of its own
        raise
    except MemoryError:
        return Extraction(_public_kind(kind_hint), error="tệp cần nhiều bộ nhớ hơn mức cho phép để đọc")
    except Exception as exc:  # a library bug on a strange file must not stop the batch
        return Extraction(_public_kind(kind_hint),
                          error=f"không đọc được tệp ({type(exc).__name__}: {str(exc)[:120]})")


def _public_kind(kind: str) -> str:
    return {"rtf": "doc", "html": "text"}.get(kind, kind)


def _dispatch(att: Attachment, limits: ExtractLimits, ocr: bool | None, hint: str) -> Extraction:
    data = att.data
    if not data or not data.strip(b" \t\r\n\x00"):
        return Extraction(_public_kind(hint), error="tệp rỗng (0 byte)")
    if len(data) > limits.max_bytes:
        return Extraction(_public_kind(hint),
                          error=f"tệp quá lớn ({len(data) / MiB:.0f} MB; giới hạn {limits.max_bytes / MiB:.0f} MB)")
    sniffed = sniff(data)
    # An encrypted .docx/.xlsx IS an OLE2 file: its name does not lie.
    notes = () if sniffed == "ole" and _ole_kind(data) == "encrypted" else _disguise_note(sniffed, hint)
    result = _by_format(sniffed, hint, att, limits, ocr, notes)
    if notes and result.error is None:
        result = Extraction(result.kind, result.parts, result.pages, result.ocr, None, tuple(notes) + result.notes)
    elif notes and notes[0] not in result.error:  # the error alone would hide that the name lies
        result = Extraction(result.kind, result.parts, result.pages, result.ocr, f"{notes[0]}; {result.error}",
                            result.notes)
    return result


def _disguise_note(sniffed: str | None, hint: str) -> tuple[str, ...]:
    """A file whose name lies about its format (a .docx that is a PDF...)."""
    if hint in ("docx", "doc", "pdf") and sniffed in ("pdf", "ole", "rtf", "html", "zip", "image"):
        actual = {"ole": "doc", "zip": "docx"}.get(sniffed, sniffed)
        if actual != hint and not (hint == "doc" and actual == "rtf"):
            return (f"không phải tệp {hint.upper()} thật (có vẻ là {_DISGUISE_NAMES.get(actual, actual.upper())})",)
    return ()


def _by_format(sniffed, hint, att, limits, ocr, notes) -> Extraction:
    data = att.data
    if sniffed == "pdf":
        return _extract_pdf(data, limits, ocr)
    if sniffed == "zip":
        return _extract_zip(data, limits)
    if sniffed == "ole":
        ole = _ole_kind(data)
        if ole == "encrypted":
            return Extraction("docx", error="tệp Word có mật khẩu (bị mã hóa)")
        if ole == "other":
            return Extraction("unknown", error="tệp Excel/PowerPoint cũ, không phải văn bản Word")
        return _extract_legacy_word(data, "doc", limits)
    if sniffed == "rtf":
        return _extract_legacy_word(data, "rtf", limits)
    if sniffed == "image":
        return _extract_image(data, limits, ocr)
    if sniffed == "heic":
        return Extraction("image", error="ảnh HEIC (định dạng của iPhone) chưa đọc được; cần gửi JPEG hoặc PDF")
    if sniffed == "html":
        if hint in ("docx", "doc") and not notes:
            notes = (f"không phải tệp {hint.upper()} thật (có vẻ là HTML)",)
        result = _extract_text(data, att, True, limits)
        if result.error and notes:
            return Extraction(result.kind, error=f"{notes[0]}; không có chữ")
        return result
    if sniffed == "text" and hint not in ("pdf", "docx", "image"):
        return _extract_text(data, att, hint == "html", limits)
    if hint in ("pdf", "docx", "doc", "image"):
        return Extraction(_public_kind(hint), error=f"không phải tệp {hint.upper()} thật (nội dung không nhận ra được)")
    return Extraction("unknown", error="định dạng tệp không nhận ra được")


# --------------------------------------------------------------------------
# Extractor: bounded worker processes
# --------------------------------------------------------------------------

def _limit_memory(limit: int | None) -> None:
    """Cap the address space so a hostile file raises MemoryError, not OOM-kills the host."""
    if not limit:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class OcrNeeded(Exception):
    """Raised by ``extract(..., ocr="later")`` instead of running OCR: the file
    has scanned pages (see ``Extractor.submit``, ``NEEDS_OCR``)."""


def _parse_file(path: str):
    """A parse job: the message archived at ``path``, parsed, with the SHA-256 of each attachment."""
    from .archive import sha256
    from .parse import parse_message

    with open(path, "rb") as fh:
        message = parse_message(fh.read())
    return message, [sha256(a.data) for a in message.attachments]


def _worker_main(conn, limits: ExtractLimits, ocr: bool | None, memory_limit: int | None) -> None:
    """Worker loop: receive (key, attachment, OCR mode), send back (key, Extraction or "ocr");
    or (key, path, "parse"), send back (key, (ParsedMessage, digests))."""
    os.setpgrp()  # own process group: a timeout kill takes tesseract/catdoc with it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_limit)
    for module in ("pypdfium2", "docx", "PIL.Image"):  # used by nearly every poll: loaded before the clock runs
        try:
            __import__(module)
        except ImportError:
            pass
    conn.send(_READY)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, att, mode = message
        if mode == "parse":
            result = _parse_file(att)
        else:
            try:
                result = extract(att, limits, mode)
            except OcrNeeded:
                result = "ocr"
        del att, message  # a large file is not kept while waiting for the next one
        conn.send((key, result))
        del result


@dataclass
class _Job:
    key: object
    att: Attachment | str  # the path of an archived message for a parse job
    defer_ocr: bool = False
    cancelled: bool = False
    parse: bool = False


@dataclass(frozen=True)
class JobFailed:
    """What ``ready()`` hands back for a parse job whose worker timed out or crashed."""

    reason: str


def _cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_READY = "extract-worker-ready"  # a new worker's first message: the clock of its first file starts then
_STARTUP_SECONDS = 60.0  # a worker that is not ready by then is killed


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    job: _Job | None = None
    deadline: float = 0.0
    kind: str = "unknown"
    started: bool = False  # its _READY arrived

    @property
    def task(self):
        return self.job.key if self.job is not None else None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, TypeError):
            pass
        self.process.kill()
        self.process.join(5)
        self.conn.close()


_TIMEOUT_ERROR = "đọc tệp quá {:g} giây, đã dừng"
_CRASH_ERROR = "trình đọc bị dừng đột ngột khi đọc tệp này ({how}); tệp có thể bị hỏng hoặc quá lớn"
_FAILED_ERROR = "không lấy được chữ từ tệp"


# What ``ready()`` hands back for a file submitted with ``defer_ocr`` that has
# scanned pages: submit it again without ``defer_ocr`` when OCR may run.
NEEDS_OCR = Extraction("unknown", error="OCR needed")


# Bump when a change to extraction changes its results: the cache is keyed by
# content and by this version (with the limits), so an upgrade re-reads files.
EXTRACT_VERSION = 2

# A scan not read because OCR could not run (off, not installed, no Vietnamese
# data): worth reading again once it can.
_SCAN_UNREAD = "tệp scan nhưng"
_SCANS_UNREAD = " trang là ảnh scan, không có chữ, và"


def worth_caching(result: Extraction, ocr: bool | None) -> bool:
    """Whether an extraction may be reused for the same bytes later: not a
    timeout (it may succeed on a quieter machine), not a file whose scanned
    pages OCR could not read, nor, with OCR off, any PDF or image (it may be
    a scan, to be read once OCR is turned on)."""
    if timed_out(result):
        return False
    if result.kind in ("pdf", "image") and ocr is False:
        return False
    unread = (result.error or "").startswith(_SCAN_UNREAD + " ") and result.error != _OCR_FOUND_NOTHING
    return not unread and not any(_SCANS_UNREAD in note for note in result.notes)


def cache_version(limits: ExtractLimits) -> str:
    """The key under which extractions made with ``limits`` are cached."""
    fields = (limits.max_bytes, limits.max_pages, limits.max_chars, limits.head_lines, limits.ocr_max_pages,
              limits.ocr_dpi, limits.max_unpacked, limits.max_image_pixels)
    return f"{EXTRACT_VERSION}:" + ",".join(map(str, fields))


def timed_out(result: Extraction) -> bool:
    """The Extractor gave up on the file after its timeout (worth trying again later)."""
    head = _TIMEOUT_ERROR.split("{", 1)[0]
    return bool(result.error) and result.error.startswith(head)


@dataclass
class Extractor:
    """Runs ``extract`` on many attachments in a pool of worker processes.

    Each worker has an address-space limit (``memory_limit`` bytes); each
    attachment a wall-clock ``timeout`` in seconds, after which its worker is
    killed and replaced and the result says "extraction timed out". A worker
    that crashes (segfault in a PDF library, out of memory) costs only its
    own attachment. ``workers=0`` runs inline, in this process, without
    timeout or memory limit (tests, debugging). The pool starts on first use.

    Two ways to use it: ``extract_many(atts)`` (blocking), or ``submit(key,
    att)`` then ``ready()`` (results as they finish, so the caller records
    what is done while the rest is still being read). ``submit(...,
    defer_ocr=True)`` reads a file without OCR and hands back ``NEEDS_OCR``
    if it has scanned pages, so that slow OCR can wait until the plain files
    are done (see pipeline.py).

    Use as a context manager, or call ``close()``.
    """

    limits: ExtractLimits = field(default_factory=ExtractLimits)
    workers: int | None = None
    timeout: float = 60.0
    memory_limit: int | None = 1024 * MiB
    ocr: bool | None = None
    _pool: list[_Worker] = field(default_factory=list, init=False, repr=False)
    _context: object = field(default=None, init=False, repr=False)
    _queue: deque = field(default_factory=deque, init=False, repr=False)
    _done: list = field(default_factory=list, init=False, repr=False)

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def size(self) -> int:
        """Number of worker processes (0: inline)."""
        return _cores() if self.workers is None else max(0, self.workers)

    @property
    def pending(self) -> int:
        """Files submitted whose result ``ready()`` has not handed back yet."""
        running = sum(1 for w in self._pool if w.job is not None and not w.job.cancelled)
        return len(self._queue) + running + len(self._done)

    def extract(self, att: Attachment) -> Extraction:
        """One attachment (same bounds as ``extract_many``)."""
        return self.extract_many([att])[0]

    def extract_many(self, atts: list[Attachment]) -> list[Extraction]:
        """Extract every attachment; results in the same order as ``atts``."""
        if self.size == 0 or not atts:
            return [extract(att, self.limits, self.ocr) for att in atts]
        token = object()
        for index, att in enumerate(atts):
            self.submit((token, index), att)
        results: list[Extraction | None] = [None] * len(atts)
        others: list = []
        missing = len(atts)
        while missing:
            for key, result in self.ready(None):
                if isinstance(key, tuple) and len(key) == 2 and key[0] is token:
                    results[key[1]] = result
                    missing -= 1
                else:  # submitted by another caller: handed back by its next ready()
                    others.append((key, result))
        self._done.extend(others)
        return [r if r is not None else Extraction("unknown", error=_FAILED_ERROR) for r in results]

    def submit(self, key, att: Attachment, *, defer_ocr: bool = False) -> None:
        """Queue one attachment; ``ready()`` hands back ``(key, Extraction)``."""
        if isinstance(att.data, bytes) and len(att.data) > self.limits.max_bytes:  # never copied to a worker
            self._done.append((key, extract(att, self.limits, False)))
        else:
            self._queue.append(_Job(key, att, defer_ocr and self.ocr is not False))

    def submit_parse(self, key, path: str) -> None:
        """Queue the parse of the message archived at ``path``; ``ready()`` hands
        back ``(key, (ParsedMessage, attachment digests))`` or ``(key, JobFailed)``.
        Parsing is as heavy as reading the attachments: the pool shares it."""
        self._queue.append(_Job(key, path, parse=True))

    def ready(self, timeout: float | None = 0.0) -> list[tuple[object, Extraction]]:
        """The results finished since the last call, as ``(key, Extraction)``.

        When none is finished yet, waits up to ``timeout`` seconds for one
        (None: as long as anything is pending).
        """
        if self.size == 0:
            while self._queue and not self._done:
                job = self._queue.popleft()
                self._done.append((job.key, self._inline(job)))
        else:
            self._dispatch()
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._done and any(w.job is not None for w in self._pool):
                self._collect(None if deadline is None else deadline - time.monotonic())
                self._dispatch()
                if deadline is not None and time.monotonic() >= deadline:
                    break
        done, self._done = self._done, []
        return done

    def cancel(self) -> None:
        """Forget every file not handed back yet (a stop request): queued ones
        are dropped, running ones finish and their results are discarded."""
        self._queue.clear()
        self._done.clear()
        for worker in self._pool:
            if worker.job is not None:
                worker.job.cancelled = True

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        for worker in self._pool:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in self._pool:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()
            else:
                worker.conn.close()
        self._pool.clear()
        self._queue.clear()
        self._done.clear()

    # -- internals ---------------------------------------------------------

    def _inline(self, job: _Job) -> Extraction:
        if job.parse:
            return _parse_file(job.att)
        try:
            return extract(job.att, self.limits, "later" if job.defer_ocr else self.ocr)
        except OcrNeeded:
            return NEEDS_OCR

    def _ensure_pool(self, wanted: int) -> None:
        if self._context is None:
            methods = multiprocessing.get_all_start_methods()
            self._context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        while len(self._pool) < min(self.size, max(1, wanted)):
            self._pool.append(self._start_worker())

    def _start_worker(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, name="extract-worker", daemon=True,
                                        args=(child, self.limits, self.ocr, self.memory_limit))
        process.start()
        child.close()
        return _Worker(process, parent)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._pool[self._pool.index(worker)] = self._start_worker()

    def _dispatch(self) -> None:
        if self._queue:
            self._ensure_pool(sum(1 for w in self._pool if w.job is not None) + len(self._queue))
        for worker in self._pool:
            if not self._queue:
                return
            if worker.job is not None:
                continue
            job = self._queue.popleft()
            mode = "parse" if job.parse else "later" if job.defer_ocr else self.ocr
            try:
                worker.conn.send((job.key, job.att, mode))
            except (OSError, ValueError):  # died while idle: replace and retry later
                self._queue.appendleft(job)
                self._replace(worker)
                continue
            worker.job = job
            worker.deadline = time.monotonic() + self.timeout + (0 if worker.started else _STARTUP_SECONDS)
            worker.kind = "message" if job.parse else _public_kind(_EXTENSIONS.get(_extension(job.att.filename),
                                                                                   "unknown"))

    def _collect(self, timeout: float | None) -> None:
        busy = [w for w in self._pool if w.job is not None]
        if not busy:
            return
        wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        if timeout is not None:
            wait = min(wait, max(0.0, timeout))
        ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=wait)
        for worker in busy:
            if worker.conn in ready:
                self._receive(worker)
            elif time.monotonic() >= worker.deadline:
                self._finish(worker, Extraction(worker.kind, error=_TIMEOUT_ERROR.format(self.timeout)))
                self._replace(worker)

    def _finish(self, worker: _Worker, result) -> None:
        job, worker.job = worker.job, None
        if job.cancelled:
            return
        if job.parse and isinstance(result, Extraction):  # the worker timed out or crashed
            result = JobFailed(result.error or "")
        self._done.append((job.key, NEEDS_OCR if result == "ocr" else result))

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv()
            if message == _READY:  # start-up is not charged to the file
                worker.started, worker.deadline = True, time.monotonic() + self.timeout
                return
            _, result = message
        except (EOFError, OSError):
            worker.process.join(1)
            code = worker.process.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            self._finish(worker, Extraction(worker.kind, error=_CRASH_ERROR.format(how=how)))
            self._replace(worker)
            return
        self._finish(worker, result)
