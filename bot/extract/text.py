"""Shared text clean-up, and the splitting of combined files into documents.

Combined PDFs are split into ``DocumentPart``s: a page whose top lines hold
the national motto or a ``Số: .../...`` line starts a new document.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import DocumentPart, Extraction
from ..vietnamese import fix_legacy, fold, fold_compact, join_letter_spaced, nfc
from .common import ExtractLimits


# --------------------------------------------------------------------------
# Shared text clean-up and document splitting
# --------------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\u200b\u200c\u200d\u2060\ufeff]")
MOTTO = fold_compact("Cộng hòa xã hội chủ nghĩa Việt Nam")
# The motto's lines in letters only, by pieces OCR seldom breaks all at once
# ("GỘNG HƠÀ XÃ HỘI CHỦ NGHĨA: VIỆT NAM", "Độc lập - Tư do .- Hạnh phúc").
_MOTTO_PIECES = ("xahoichunghiavietnam", "conghoaxahoichu", "doclaptudohanhphuc")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# "Số: 15/TTr-...", also with OCR specks before it and "-" for ":".
_NUMBER_LINE = re.compile(r"^[^a-z0-9]*soo?\s*[:.-]*\s*[0-9 .]*/\s*[a-z0-9]")
TOP_LINES = 8  # how deep into a page/block the motto or "Số:" may sit to start a document


@dataclass(frozen=True)
class Block:
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
    top = [line for line in lines if line.strip()][:TOP_LINES]
    return any(_opens_document(fold(line)) for line in top)


def _opens_document(folded: str) -> bool:
    letters = _NOT_ALNUM.sub("", folded)
    return any(piece in letters for piece in _MOTTO_PIECES) or bool(_NUMBER_LINE.match(folded))


def _header_like(block: Block) -> bool:
    """A short all-capitals paragraph, as the issuer lines above a motto are."""
    text = " ".join(line for line in block.lines if line.strip())
    letters = [ch for ch in text if ch.isalpha()]
    return 0 < len(text) <= 80 and bool(letters) and all(ch.isupper() for ch in letters)


def split_blocks(blocks: list[Block], paged: bool) -> list[list[Block]]:
    """Group blocks into documents; a block that ``starts_document`` opens one.

    PDF pages (``paged``) split at the page. Paragraph blocks split only once
    the current document has a body, and take the issuer lines written as
    paragraphs just above the motto with them.
    """
    groups: list[list[Block]] = [[]]
    for block in blocks:
        current = groups[-1]
        if current and starts_document(block.lines) and (paged or _body_lines(current) >= 6):
            moved: list[Block] = []
            while not paged and len(moved) < 3 and current and _header_like(current[-1]):
                moved.insert(0, current.pop())
            groups.append(moved + [block])
        else:
            current.append(block)
    return [g for g in groups if g]


def _body_lines(group: list[Block]) -> int:
    return sum(1 for b in group for line in b.lines if line.strip())


def _bounded(lines, limit: int) -> str:
    out, size = [], 0
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def make_parts(blocks: list[Block], limits: ExtractLimits, paged: bool) -> tuple[DocumentPart, ...]:
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


def legacy_note(encodings) -> tuple[str, ...]:
    """The notes that say text was converted from TCVN3 or VNI (None: not converted)."""
    names = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI"}
    return tuple(f"đã chuyển từ bảng mã {names[e]}" for e in sorted(set(encodings) - {None}))


def extraction_from_blocks(kind: str, blocks: list[Block], limits: ExtractLimits, *, paged: bool = False,
                           pages: int = 0, ocr: bool = False, notes=(), empty_error: str) -> Extraction:
    """The ``Extraction`` of a reader's blocks, split into document parts;
    ``empty_error`` when no part has text."""
    parts = make_parts(blocks, limits, paged)
    if not parts:
        return Extraction(kind, pages=pages, ocr=ocr, error=empty_error, notes=tuple(notes))
    return Extraction(kind, parts=parts, pages=pages, ocr=ocr, notes=tuple(notes))
