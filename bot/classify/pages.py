"""Whether a page photo continues the document photographed before it (pure).

Schools photograph a dossier page by page and send one image per page.
Nghị định 30 prints the head (issuer, motto, ``Số:`` line, title) on a
document's first page only and the page number at the top of every later
page. So a photo whose top opens no document (``starts`` of the classifier)
is either a later page, or a first page whose head the photo or OCR lost
(cut off, glare, blur). Joining the second kind to the document before it
counts one document as another and leaves the school's own document
missing; so a page is joined only on evidence, in this order:

1. its page number, at the top, follows the pages joined so far: joined;
   a smaller one: not (a later page of another document); a larger one (a
   page missing, a digit misread) proves nothing either way;
2. its top opens a document's body ("Kính gửi", "Căn cứ", "Thời gian:"...,
   the first section "I. ĐẶC ĐIỂM ...") or looks like a head (a capitals line with a head word, a ``Số:`` line,
   the place and date line): a new document, judged on its own;
3. its top is the document's end ("Nơi nhận", "Trên đây là"): joined;
4. its top reads well (most words are Vietnamese syllables) and is body
   text, with no head: a later page, joined;
5. otherwise (its top could not be read): not joined; judged on its own,
   with a reason saying so.

The words are data: ``[pages]`` of campaign.toml (``bot.rules.model.Pages``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..rules.model import Pages
from ..vietnamese import fold, is_syllable
from .forms import match_form, match_phrase


@dataclass(frozen=True)
class PageForms:
    """``Pages`` in match form, built once per rules (``ClassifierIndex.pages``)."""

    number_lines: int
    top_lines: int
    head_words: tuple[str, ...]
    opening: tuple[tuple[str, str], ...]   # (match form, as written)
    closing: tuple[tuple[str, str], ...]
    legible_share: float
    body_min: int = 3      # different body lines of one type that type a page without a head
    body_margin: int = 2   # ... and by how many more than of any other type


def page_forms(pages: Pages) -> PageForms:
    """The match forms of ``[pages]``."""
    return PageForms(pages.number_lines, pages.top_lines, tuple(match_phrase(w) for w in pages.head_words),
                     tuple((match_phrase(p), p) for p in pages.opening),
                     tuple((match_phrase(p), p) for p in pages.closing), pages.legible_share,
                     pages.body_min, pages.body_margin)


@dataclass(frozen=True)
class PageSigns:
    """What the top of one page shows about where it stands in a document.

    ``number``: the page number printed at its top (None: none read);
    ``head``: a line that looks like a document's head; ``opening``: the
    opening words of a first page's body; ``closing``: the words of a
    document's end; ``legible``: its top reads as Vietnamese text;
    ``first``: its first line of text (for the reasons).
    """

    number: int | None = None
    head: str = ""
    opening: str = ""
    closing: str = ""
    legible: bool = False
    first: str = ""


@dataclass(frozen=True)
class Joining:
    """Whether a page continues the document before it, and why (Vietnamese, for the coordinator)."""

    continues: bool
    reason: str


# A page number as OCR leaves it: "2", "- 2 -", "Trang 2", "2/3", with specks around.
_PAGE_NUMBER = re.compile(r"^[^\w]*(?:trang\s*)?(\d{1,2})(?:\s*/\s*\d{1,2})?[^\w]*$")
# A number line whatever OCR made of the number: "Số: S3KH'TTGDNN", "Số; 79/KH-X", "Sốố: /BC".
_NUMBER_LINE = re.compile(r"^[^\w]*soo?\s*[:;]")
_WORD = re.compile(r"[^\W\d_]+")
# The first section of a body, a heading in capitals: "I. ĐẶC ĐIỂM TÌNH HÌNH" (OCR: "1.", "l.").
_FIRST_SECTION = re.compile(r"^[\W_]*[I1l]\s*[.)]\s+\w+\W+\w+")
# The place and date line of a head: "Quận 12, ngày 05 tháng 10 năm 2023" (folded), ending with the year.
_DATE_LINE = re.compile(r"^.{0,40}?\bnga[yv]\W*\d{1,2}\W*thang\W*\d{1,2}\W*nam\W*\d{4}\W{0,4}$")


def page_signs(text: str, forms: PageForms) -> PageSigns:
    """The signs at the top of a page's text (its lines in reading order)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # lines of specks (the edge of the desk, a shadow) are no text
    texty = [line for line in lines if len(_WORD.findall(line)) >= 1 and sum(map(len, _WORD.findall(line))) >= 3]
    top = texty[:forms.top_lines]
    number = next((int(m.group(1)) for line in lines[:forms.number_lines]
                   for m in [_PAGE_NUMBER.match(fold(line))] if m and 1 <= int(m.group(1)) <= 99), None)
    head = next((line for line in top if _head_like(line, forms)), "")
    opening = next((line for line in top[:3] if _starts_with(line, forms.opening)), "") or \
        next((line for line in top if _FIRST_SECTION.match(line) and mostly_caps(line)), "")
    closing = next((line for line in top[:3] if _starts_with(line, forms.closing)), "")
    words = [w for line in top[:3] for w in _WORD.findall(line)]
    legible = len(words) >= 6 and sum(is_syllable(w) for w in words) >= forms.legible_share * len(words)
    return PageSigns(number, head, opening, closing, legible, top[0] if top else "")


def _head_like(line: str, forms: PageForms) -> bool:
    """A line of a document's head: a ``Số:`` line, the place and date line, or a capitals line that
    begins with a head word ("UBND QUẬN 12", "TRƯỜNG THCS ...")."""
    folded = fold(line)
    if _NUMBER_LINE.match(folded) or _DATE_LINE.match(folded):
        return True
    if not mostly_caps(line) or re.match(r"^[^\w]*[ivx]{1,4}\s*[.)]", folded):  # "II. NỘI DUNG": a section
        return False
    words = match_form(line).split()
    if len(words) > 1 and len(words[0]) == 1:
        words = words[1:]  # a speck read as a letter: "Ễ TRƯỜNG TH KIM ĐỒNG"
    form = f" {' '.join(words)} "
    # at the start of the line: "TRƯỜNG THCS ..." is an issuer, "HIỆU TRƯỞNG" (folded alike) a signer
    return any(form.startswith(f" {w} ") for w in forms.head_words)


def mostly_caps(line: str) -> bool:
    """At least 70 % of the line's letters are capitals (``head.mostly_caps``; ``head`` imports the index)."""
    letters = [ch for ch in line if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters)


def _starts_with(line: str, phrases: Sequence[tuple[str, str]]) -> str:
    form = match_form(line)
    return next((written for phrase, written in phrases if form.startswith(f" {phrase} ")), "")


def joins(signs: PageSigns, pages_before: int) -> Joining:
    """Whether a page (``signs``) continues the document whose ``pages_before`` pages came just before it.

    See the module docstring for the order of the evidence. The reason of a
    joined page says what showed it; of a page not joined, why not.
    """
    expected = pages_before + 1
    if signs.number is not None and signs.number >= 2:
        if signs.number == expected:
            return Joining(True, f"số trang {signs.number} ở đầu trang")
        if signs.number < expected:  # a page 2 after two pages: another document's
            return Joining(False, f"số trang {signs.number} ở đầu trang không nối tiếp {pages_before} trang trước")
        # a larger number: a page missing, or a digit misread ("3" for "2"): the rest of the top decides
    if signs.opening:
        return Joining(False, f"trang mở đầu một văn bản ('{_short(signs.opening)}')")
    if signs.head:
        return Joining(False, f"đầu trang giống phần đầu một văn bản ('{_short(signs.head)}')")
    if signs.closing:
        return Joining(True, f"phần cuối văn bản ('{_short(signs.closing)}') ở đầu trang")
    if signs.legible:
        return Joining(True, "đầu trang là chữ của thân văn bản, không có phần đầu văn bản")
    return Joining(False, "không đọc được đầu trang")


def _short(line: str, limit: int = 50) -> str:
    line = re.sub(r"^[\W_]+|[^\w.:;)]+$", "", line)  # OCR specks around it
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"
