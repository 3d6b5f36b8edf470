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

Pages are often out of order, so the document photographed just before a
page is only one candidate. ``place`` chooses among the documents of the
mail the one a later page can only belong to: of its body's type, of a type
whose closing block (``Nơi nhận``, the signers' titles: ``signers`` of each
``[[document]]``) it shows, not a one-page document, not one that has a page
of its number, or Roman-numbered sections past its first one, and, for a
last page, not a document whose last page is already there; among several,
the one of its body's type, the one whose sections it continues, the one
stopped at its closing sentence, or the one next to it in the mail; else
none (review, saying which files it may belong to).

The words are data: ``[pages]`` of campaign.toml (``bot.rules.model.Pages``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

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


# --------------------------------------------------------------------------
# The closing block of a page, and which document a later page belongs to
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Closing:
    """What a page's text shows of where it stands in its document, read anywhere on the page.

    ``lines``: the lines of a closing block seen (the list of recipients,
    the signers' titles), as written in the rules ("Nơi nhận", "THƯ KÝ"): it
    is a last page; ``types``: the document types that close with one of
    them; ``said_end``: a line opens with the closing sentence ("Trên đây
    là ..."); ``sections``: its Roman-numbered headings, in order.
    """

    lines: tuple[str, ...] = ()
    types: frozenset[str] = frozenset()
    said_end: bool = False              # a line opens with the closing sentence ("Trên đây là")
    sections: tuple[int, ...] = ()      # its headings numbered in Roman numerals ("III. ĐÁNH GIÁ CHUNG"), in order


# A heading numbered in Roman numerals as OCR reads it: "III.", "1V.", "II:" (1 and l for I).
_ROMAN_HEAD = re.compile(r"^[\W_]{0,3}([IVX1l]{1,4})(?:\s*[.:]\s*|\s+)\w")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def _roman(number: int) -> str:
    return next(k for k, v in _ROMAN.items() if v == number)


def _section(line: str) -> int | None:
    m = _ROMAN_HEAD.match(line)
    if not m or not mostly_caps(line):
        return None
    return _ROMAN.get(m.group(1).replace("1", "I").replace("l", "I"))


# Before a signer's title: "KT." (ký thay), "TM.", "TL.", "Q."; OCR specks read as one letter.
_SIGN_PREFIX = frozenset({"kt", "tm", "tl", "q"})


def closing_block(text: str, signers: Sequence[tuple[str, Sequence[tuple[str, str]]]],
                  end_words: Sequence[tuple[str, str]] = ()) -> Closing:
    """The closing-block lines of a page's text: a line that begins with one of a type's
    ``signers`` (after specks and "KT."), in capitals when the rules write it in capitals
    (a signer's title, not the label "Chủ trì:" of a Biên bản's body). ``signers``: (type id,
    (match form, as written) pairs) of each dossier type."""
    seen: list[str] = []
    types: set[str] = set()
    said_end = False
    sections: list[int] = []
    for line in text.splitlines():
        number = _section(line.strip())
        if number is not None:
            sections.append(number)
        words = match_form(line).split()
        while words and (len(words[0]) == 1 or words[0] in _SIGN_PREFIX):
            words = words[1:]
        if not words:
            continue
        form = f" {' '.join(words)} "
        said_end = said_end or any(form.startswith(f" {phrase} ") for phrase, _ in end_words)
        caps = None
        for type_id, phrases in signers:
            for phrase, written in phrases:
                if not form.startswith(f" {phrase} "):
                    continue
                if written.isupper():
                    caps = mostly_caps(line) if caps is None else caps
                    if not caps:
                        continue
                types.add(type_id)
                if written not in seen:
                    seen.append(written)
    return Closing(tuple(seen), frozenset(types), said_end, tuple(sections))


@dataclass(frozen=True)
class Candidate:
    """A document of the mail a later page may belong to (its first page's head or body was read).

    ``key``: its first page's place among the mail's parts; ``name``: that
    file; ``types``: its type(s), read not guessed; ``ended``: a page of it
    (joined so far) shows its closing block; ``single``: its first page
    does (a one-page document); ``near``: one of its pages is next to this
    page in the mail.
    """

    key: int
    name: str
    types: tuple[str, ...]
    ended: bool = False
    single: bool = False
    near: bool = False
    numbers: frozenset[int] = frozenset()   # the page numbers of its pages joined so far
    awaiting: bool = False   # its closing sentence ("Trên đây là") is there, its closing block is not
    top_section: int = 0     # the last Roman-numbered heading of its first page (0: none)


@dataclass(frozen=True)
class LaterPage:
    """What a later page (no head, no opening) shows about its document.

    ``body_type``: the type its body's lines show (None: none);
    ``body_lines``: those lines; ``closing``: its closing block; ``number``:
    the page number at its top.
    """

    body_type: str | None = None
    body_lines: tuple[str, ...] = ()
    closing: Closing = Closing()
    number: int | None = None   # its page number (from 2)


@dataclass(frozen=True)
class Placement:
    """The document a later page belongs to (``key`` of a ``Candidate``; None: none shown), and why.

    ``near``: chosen among several for being next to it in the mail (weaker);
    ``left``: the candidates that fit when none was chosen.
    """

    key: int | None
    reason: str
    near: bool = False
    left: tuple[int, ...] = ()


def misfit(page: LaterPage, cand: Candidate, names: Mapping[str, str]) -> str:
    """Why a later page cannot belong to ``cand`` ("" when it may), in Vietnamese."""
    if cand.single:
        return f"tệp '{cand.name}' là văn bản một trang (trang đầu đã có phần nơi nhận, chữ ký)"
    if page.body_type is not None and cand.types and page.body_type not in cand.types:
        return f"nội dung có các phần của {names.get(page.body_type, page.body_type)} ({_quoted(page.body_lines)}), " \
               f"không phải {names.get(cand.types[0], cand.types[0])}"
    first = page.closing.sections[0] if page.closing.sections else None
    if first is not None and first < cand.top_section:
        return (f"trang bắt đầu ở mục {_roman(first)}, trước mục {_roman(cand.top_section)} đã có ở trang đầu "
                f"tệp '{cand.name}'")
    if page.number is not None and page.number in cand.numbers:
        return f"tệp '{cand.name}' đã có trang số {page.number}"
    if page.closing.types and cand.types and not page.closing.types & set(cand.types):
        return f"phần cuối ({_quoted(page.closing.lines)}) không phải của {names.get(cand.types[0], cand.types[0])}"
    if page.closing.lines and cand.ended:
        return f"tệp '{cand.name}' đã có trang cuối (phần nơi nhận, chữ ký)"
    return ""


def place(page: LaterPage, candidates: Sequence[Candidate], names: Mapping[str, str]) -> Placement:
    """The one document of ``candidates`` a later page can belong to.

    A candidate is out when ``misfit`` says why. One left: that one. Several:
    the one whose type the page's body shows; the one whose first page's
    Roman-numbered sections the page's first section follows; for a page of
    only a closing block, the one stopped at its closing sentence without
    its closing block; the one next to the page in the mail (``near``); each
    when only one is.
    None, or several and none or more than one next to it: no placement, its
    reason says which files it may belong to (``left``).
    """
    fit = [c for c in candidates if not misfit(page, c, names)]
    if len(fit) == 1:
        c = fit[0]
        others = len(candidates) - 1
        if page.body_type is not None:
            why = f"nội dung cùng loại với tệp '{c.name}' ({_quoted(page.body_lines)})"
        elif page.closing.lines:
            why = f"phần cuối ({_quoted(page.closing.lines)}) chỉ hợp với tệp '{c.name}'"
        else:
            why = f"chỉ hợp với tệp '{c.name}'"
        if others and page.body_type is None:
            why += ": các văn bản khác trong thư khác loại hoặc đã đủ trang cuối"
        return Placement(c.key, f"trang không có phần đầu văn bản, {why}")
    typed = [c for c in fit if page.body_type is not None and page.body_type in c.types]
    if len(typed) == 1:
        c = typed[0]
        return Placement(c.key, f"trang không có phần đầu văn bản, nội dung cùng loại với tệp '{c.name}' "
                                f"({_quoted(page.body_lines)})")
    first = page.closing.sections[0] if page.closing.sections else 0
    sections = [c for c in fit if 1 <= c.top_section < first]
    if first >= 2 and len(sections) == 1:
        c = sections[0]
        return Placement(c.key, f"trang không có phần đầu văn bản, bắt đầu ở mục {_roman(first)}, tiếp theo các mục "
                                f"{_roman(1)}-{_roman(c.top_section)} của tệp '{c.name}'")
    awaiting = [c for c in fit if c.awaiting]
    if page.closing.lines and not page.closing.said_end and len(awaiting) == 1:
        c = awaiting[0]
        return Placement(c.key, f"trang không có phần đầu văn bản, phần cuối ({_quoted(page.closing.lines)}) "
                                f"tiếp theo câu kết thúc của tệp '{c.name}' (tệp này chưa có phần nơi nhận, chữ ký)")
    near = [c for c in fit if c.near]
    if len(fit) > 1 and len(near) == 1:
        c = near[0]
        return Placement(c.key, f"trang không có phần đầu văn bản, nằm cạnh trang của tệp '{c.name}' trong thư "
                                f"({len(fit)} văn bản trong thư có thể có trang này)", near=True)
    if not fit:
        return Placement(None, "không văn bản nào trong thư hợp với trang này")
    files = ", ".join(f"'{c.name}'" for c in fit)
    return Placement(None, f"có thể là trang tiếp theo của một trong các tệp {files}: cần xem trang này thuộc văn "
                           "bản nào", left=tuple(c.key for c in fit))


def _quoted(lines: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in lines)
