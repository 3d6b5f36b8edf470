"""Document type: from the title, the number code, the subject line, the body and the filename."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from ..model import ReasonCode
from ..vietnamese import fold, fold_compact
from .constants import MAX_TEXT, TRANSMIT_WORDS
from .evidence import filename_stem, is_meaningless_filename
from .forms import match_form, text_form
from .head import MOTTO, Head, NumberLine, caps_prefix, title_core
from .helpers import shortened, type_name
from .index import ClassifierIndex, TypeSig


# --------------------------------------------------------------------------
# Document type
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeVerdict:
    """The dossier type(s) of a part, or the non-dossier type it was recognised as.

    ``doc_types`` are campaign type ids; ``other`` names a recognised type
    that is not part of the dossier ("Công văn", "Quyết định"), in which case
    the part is ignored (``other_reason`` says why) unless ``concerns`` ask
    for a review.
    """

    doc_types: tuple[str, ...]
    confidence: float
    reasons: tuple[str, ...]
    concerns: tuple[str, ...] = ()
    other: str | None = None
    other_reason: str = ""
    concern_codes: tuple[ReasonCode, ...] = ()  # one per concern


# A type shown by the body's own headings and labels (``body_type``): above the
# review threshold of the shipped rules (0.75), below a title read in the head.
BODY_CONFIDENCE = 0.8


def detect_doc_type(head: Head, text: str, filename: str, index: ClassifierIndex) -> TypeVerdict:
    """The document type from title, number code, subject line, body and filename.

    Title exact 0.9, approximate 0.8; number code 0.8; both agreeing 1.0
    (0.95 when approximate); the subject line's keywords add 0.05. Without
    title or code, the body's headings and labels give 0.8 when they show one
    type (``body_type``); else subject keywords give a 0.5 guess, body words
    or a meaningful filename a 0.3 guess: review. Title and code of different
    types: review. Bodies cite other types ("căn cứ Kế hoạch số ...") and are
    never read for the title.
    """
    title, number = head.title, head.number
    code_type = number.type if number is not None else None
    if title is not None and not title.dossier and (code_type is None or code_type == title):
        return _other_type(title.name, f"tiêu đề '{shortened(head.title_line)}'")
    if title is None and code_type is not None and not code_type.dossier:
        return _other_type(code_type.name, f"số ký hiệu '{shortened(number.line)}'")
    if title is None and code_type is None:
        cong_van = _cong_van(head, index)
        if cong_van is not None:
            return cong_van
    chosen, confidence, reasons, concerns = _type_from_head(head)
    confirming = _keyword_hits(chosen, head.subject_text()) if chosen is not None else []
    if chosen is None:
        chosen, confidence, reasons = _guess_type(head, text, filename, index)
    elif confirming:
        confidence = min(1.0, confidence + 0.05)
        reasons.append(f"trích yếu khớp ({', '.join(confirming)})")
    reasons.extend(_filename_disagreement(filename, chosen, index))
    codes = [ReasonCode.TYPE_CONFLICT] * len(concerns)  # the only concern of the head's title and number
    if chosen is None:
        concerns.append("không nhận ra loại văn bản (đầu văn bản không có tiêu đề hay số ký hiệu)")
        return TypeVerdict((), confidence, tuple(reasons), tuple(concerns),
                           concern_codes=(*codes, ReasonCode.UNREADABLE_TITLE))
    extra = tuple(t for t in second_documents(text, index) if t != chosen.id)
    if extra:
        names = ", ".join(type_name(t, index) for t in (chosen.id, *extra))
        concerns.append(f"phần này có vẻ chứa nhiều văn bản ({names}); cần xem lại cách tách tệp")
        codes.append(ReasonCode.MANY_DOCUMENTS)
    ids = (chosen.id,) if chosen.dossier else ()
    return TypeVerdict((*ids, *extra), round(confidence, 3), tuple(reasons), tuple(concerns),
                       concern_codes=tuple(codes))


def _type_from_head(head: Head) -> tuple[TypeSig | None, float, list[str], list[str]]:
    """Title and number code of the head, and whether they agree."""
    title, number = head.title, head.number
    code_type = number.type if number is not None else None
    reasons: list[str] = []
    if title is not None:
        how = " (khớp gần đúng)" if head.title_fuzzy else ""
        # the title as printed, without the specks OCR read around it
        shown = title_core(head.title_line)[0]
        reasons.append(f"tiêu đề '{shortened(shown or head.title_line)}' ở đầu văn bản{how}")
    if code_type is not None:
        how = " (khớp gần đúng)" if number.approximate else ""
        reasons.append(f"số ký hiệu {_written_code(number)} trong '{shortened(number.line)}'{how}")
    if title is not None and code_type is not None:
        if title.id != code_type.id:
            return title, 0.4, reasons, [f"tiêu đề là {title.name} nhưng số ký hiệu là {code_type.name}"]
        return title, 0.95 if head.title_fuzzy or number.approximate else 1.0, reasons, []
    if title is not None:
        return title, 0.8 if head.title_fuzzy else 0.9, reasons, []
    if code_type is not None:
        return code_type, 0.7 if number.approximate else 0.8, reasons, []
    return None, 0.0, reasons, []


def _written_code(number: NumberLine) -> str:
    """The type abbreviation as printed ("TTr"), for the reason text."""
    if number.written:
        return number.written
    m = re.search(r"/\s*([^/\s-]+)\s*-", number.line)
    return m.group(1) if m and fold_compact(m.group(1)) == number.type_code else number.type_code.upper()


@dataclass(frozen=True)
class BodyType:
    """What the lines of a text show of its type, read at the start of its lines.

    ``seen``: for each type with any of its ``body`` lines, the lines seen
    (as the rules write them), most first; ``type_id``: the type when they
    decide (``body_min`` different lines of it, ``body_margin`` more than of
    any other type), else None.
    """

    type_id: str | None
    seen: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def lines_of(self, type_id: str) -> tuple[str, ...]:
        return next((lines for t, lines in self.seen if t == type_id), ())


# Numbering and bullets before a heading or a label, as match form leaves them
# ("4. Kết quả" -> "4 ket qua", "II." -> "ii", OCR's "1V." -> "1v", "a)" -> "a").
# not "y": "Ý kiến" is a word; "1h": OCR's III ("1H. ĐÁNH GIÁ CHUNG")
_NUMBERING = re.compile(r"^(?: (?:\d{1,2}|[ivxl1]{1,4}|1h|[a-e]))+(?= )")
# Numbering before a heading or a label ("II. ", OCR's "1V. ", "a) "), specks stripped before it.
_LEAD = re.compile(r"^(?:(?:[IVXLivxl1]{1,4}|[a-eA-E])[.)][\W\d_]*)*")


# How much of a line its start is: the longest heading or label of the rules and numbering before it.
_LINE_START = 80


def _opens_with_capital(line: str) -> bool:
    """Whether a line's first word, past specks ("ˆ", "',4.") and numbering, begins with a capital."""
    k = 0
    while k < len(line) and not (line[k].isalpha() and line[k].lower() != line[k].upper()) \
            and not line[k].isdigit():
        k += 1
    while k < len(line) and (line[k].isdigit() or not line[k].isalpha()):
        k += 1  # "4. ", "1, "
    rest = line[k:]
    rest = rest[_LEAD.match(rest).end():]
    return rest[:1].isupper()


def body_type(text: str, types: Sequence[TypeSig], min_lines: int = 3, margin: int = 2) -> BodyType:
    """The type a body's own structure shows: its headings and labels ("Chủ trì:",
    "Thư ký:", "Kết quả biểu quyết" of a Biên bản; "MỤC ĐÍCH, YÊU CẦU", "TỔ CHỨC
    THỰC HIỆN" of a Kế hoạch: ``body`` of each type in the rules), each counted
    once. Only a line that begins with one counts, after its numbering and
    with a capital letter: a heading or a label, not a sentence wrapped onto
    the line, nor one that cites another document ("thông qua Báo cáo kết quả...").

    The sentence that closes a document naming it ("Trên đây là báo cáo ...":
    ``end`` of each type), at the start of a line, types it on its own; when
    the body's lines show another type, or another type's closing is there
    too, the two disagree: no type.
    """
    marked = [t for t in types if t.dossier and (t.body or t.end)]
    found: dict[str, list[str]] = {}
    ends: dict[str, str] = {}
    for line in text[:MAX_TEXT].splitlines() if marked else ():
        if not _opens_with_capital(line):
            continue
        form = _NUMBERING.sub("", match_form(line[:_LINE_START]))
        for sig in marked:
            written = next((w for phrase, w in sig.body if form.startswith(f" {phrase} ")), None)
            if written is not None and written not in found.get(sig.id, ()):
                found.setdefault(sig.id, []).append(written)
            closing = next((w for phrase, w in sig.end if form.startswith(f" {phrase} ")), None)
            if closing is not None:
                ends.setdefault(sig.id, closing)
                if closing not in found.get(sig.id, ()):
                    found.setdefault(sig.id, []).append(closing)
    ranked = sorted(found.items(), key=lambda kv: -len(kv[1]))
    seen = tuple((t, tuple(lines)) for t, lines in ranked)
    runner_up = len(ranked[1][1]) if len(ranked) > 1 else 0
    by_lines = ranked[0][0] if ranked and len(ranked[0][1]) >= min_lines and \
        len(ranked[0][1]) - runner_up >= margin else None
    if len(ends) == 1:
        named = next(iter(ends))
        others = max((len(lines) for t, lines in found.items() if t != named), default=0)
        # its own closing, unless the body's lines show another type as clearly as they type a page
        if by_lines in (None, named) and not (others >= min_lines and others - len(found[named]) >= margin):
            return BodyType(named, seen)
    return BodyType(by_lines if not ends or by_lines in ends else None, seen)


def _guess_type(head: Head, text: str, filename: str,
                index: ClassifierIndex) -> tuple[TypeSig | None, float, list[str]]:
    """Guesses for a head without title or code: the body's structure (its headings and
    labels, ``body_type``: a type, 0.8), else weak ones: subject words, body words, filename."""
    dossier = [t for t in index.types if t.dossier]
    structure = body_type(text, dossier, index.pages.body_min, index.pages.body_margin)
    if structure.type_id is not None:
        sig = next(t for t in dossier if t.id == structure.type_id)
        subject = {t.id: _keyword_hits(t, head.subject_text()) for t in dossier} if head.subject_text() else {}
        said = _unique_best(subject) if subject else None
        shown = ", ".join(f"'{w}'" for w in structure.lines_of(sig.id))
        if said is None or said == sig.id:
            return sig, BODY_CONFIDENCE, [f"không có tiêu đề hay số ký hiệu; nội dung có các phần của {sig.name} "
                                          f"({shown})"]
        # a trích yếu of another type leaves it a guess, saying both
        other = next(t for t in dossier if t.id == said)
        return other, 0.5, [f"không có tiêu đề hay số ký hiệu; trích yếu giống {other.name} "
                            f"({', '.join(subject[said])}) nhưng nội dung có các phần của {sig.name} ({shown})"]
    for where, haystack, confidence in (("trích yếu", head.subject_text(), 0.5),
                                        ("từ ngữ trong nội dung", text, 0.3)):
        if not haystack:
            continue
        form = text_form(haystack) if haystack is text else match_form(haystack)
        hits = {t.id: _keyword_hits(t, form) for t in dossier}
        best = _unique_best(hits)
        if best is not None:
            sig = next(t for t in dossier if t.id == best)
            words = ", ".join(hits[best])
            return sig, confidence, [f"không có tiêu đề hay số ký hiệu; đoán loại văn bản từ {where} ({words})"]
    guessed = filename_types(filename, index)
    if len(guessed) == 1:
        return guessed[0], 0.3, [f"không có tiêu đề hay số ký hiệu; đoán loại văn bản từ tên tệp '{filename}'"]
    if filename and is_meaningless_filename(filename):
        return None, 0.0, [f"tên tệp '{filename}' không cho biết gì"]
    return None, 0.0, []


def _unique_best(hits: Mapping[str, Sequence[str]]) -> str | None:
    ranked = sorted(hits.items(), key=lambda kv: -len(kv[1]))
    if not ranked or not ranked[0][1] or (len(ranked) > 1 and len(ranked[1][1]) == len(ranked[0][1])):
        return None
    return ranked[0][0]


def _keyword_hits(sig: TypeSig, text: str) -> list[str]:
    form = text if text.startswith(" ") else match_form(text)
    return [written for k, written in sig.keywords if f" {k} " in form]


def _other_type(name: str, where: str) -> TypeVerdict:
    return TypeVerdict((), 0.9, (f"{name} ({where})",), other=name,
                       other_reason=f"là {name}, không phải văn bản của bộ hồ sơ này")


def _cong_van(head: Head, index: ClassifierIndex) -> TypeVerdict | None:
    """A Công văn: a number without type abbreviation and a "V/v" subject.

    One that merely transmits the dossier ("V/v gửi hồ sơ") is ignored; one
    whose subject reads like a dossier document (a proposal written as a
    letter) goes to review. Without a number, or without a subject, it may
    as well be a document whose title was lost: not concluded here.
    """
    number = head.number
    subject = head.subject_text()
    if number is None or not subject:
        return None
    where = f"'{shortened(number.line)}'"
    form = match_form(subject)
    if any(f" {w} " in form for w in TRANSMIT_WORDS):
        return TypeVerdict((), 0.9, (f"Công văn ({where}, không có chữ viết tắt loại văn bản)",), other="Công văn",
                           other_reason="công văn chuyển hồ sơ, không phải một văn bản của bộ hồ sơ")
    hits = {t.id: _keyword_hits(t, form) for t in index.types if t.dossier}
    best = _unique_best(hits)
    if best is None:
        return None
    name = next(t.name for t in index.types if t.id == best)
    reason = f"Công văn ({where}) có trích yếu giống {name} ({', '.join(hits[best])})"
    return TypeVerdict((best,), 0.4, (reason,), (f"là Công văn, không phải {name}: cần xem có thay cho {name} "
                                                 "được không",), concern_codes=(ReasonCode.COVER_LETTER,))


def filename_types(filename: str, index: ClassifierIndex) -> tuple[TypeSig, ...]:
    """Dossier types a filename names: a title ("Bao cao", "BienBan") or a code token ("03_BB")."""
    if not filename or is_meaningless_filename(filename):
        return ()
    stem = filename_stem(filename)
    compact, tokens = stem.replace(" ", "").replace("-", ""), set(re.split(r"[^a-z0-9]+", stem))
    return tuple(t for t in index.types if t.dossier
                 and (any(title in compact for title in t.titles) or t.codes & tokens))


def _filename_disagreement(filename: str, chosen: TypeSig | None, index: ClassifierIndex) -> list[str]:
    named = filename_types(filename, index)
    if chosen is not None and named and chosen not in named:
        return [f"tên tệp '{filename}' không khớp nội dung (không tính)"]
    return []


def second_documents(text: str, index: ClassifierIndex) -> tuple[str, ...]:
    """Dossier types whose own title appears in ``text`` under a national motto.

    A part that was not split holds a second "CỘNG HÒA ... / TỜ TRÌNH" head;
    a title alone in a body (a heading, a citation) does not count.
    """
    lines = [line.strip() for line in text[:MAX_TEXT].splitlines()]
    found: list[str] = []
    for i, line in enumerate(lines):
        # Cheap tests first: this runs over every line of every part.
        if not line or len(line) > 40 or not caps_prefix(line, 3):
            continue
        sig = index.titles.get(fold_compact(line))
        if sig is None or not sig.dossier or sig.id in found:
            continue
        if any(MOTTO.search(fold(prev)) for prev in lines[max(0, i - 10):i]):
            found.append(sig.id)
    return tuple(found)
