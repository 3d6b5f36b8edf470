"""The issuing school of a document head (its top-left block), read exactly or through OCR damage."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..rules.model import School
from .forms import match_form
from .head import LEADING_JUNK, MOTTO, MOTTO_PIECE, NUMBER, SUPERVISOR, Head, mostly_caps
from .index import ClassifierIndex
from .school_names import LEVEL_TOKENS, NAME_END, SchoolMention, canon_school_text
from .schools import find_schools, fuzzy_school, merge_mentions


def issuer_text(head: Head) -> str:
    """The issuer block as one line, the national motto of the right column cut off.

    Joined so that a name broken over two lines ("TRƯỜNG TRUNG HỌC CƠ SỞ" /
    "NGUYỄN VĨNH NGHIỆP") is still found; in an interleaved two-column head
    ("UBND QUẬN 12 CỘNG HÒA XÃ HỘI ...") the motto and what follows it belong
    to the right column.
    """
    return " ".join(_left_column(head.lines[i], head.folded[i]) for i in head.issuer)


def _left_column(line: str, folded: str) -> str:
    m = MOTTO.search(folded) or MOTTO_PIECE.search(folded)
    if m is None:
        return line
    if m.start() > 0:
        # as many words of the line as the folded text has before the motto, case kept
        return " ".join(line.split()[:len(folded[:m.start()].split())])
    return MOTTO.sub(" ", folded) if MOTTO.match(folded) else ""


def _printed_name(text: str) -> str:
    """An issuer line up to the first word with a lower-case letter (past the first two).

    The issuing body is printed in capitals; OCR specks read as words
    ("TRƯỜNG THCS NGUYÊN VĨNH cau: số") are not part of its name.
    """
    words = text.split()
    for i, word in enumerate(words):
        if i >= 2 and any(ch.islower() for ch in word):
            return " ".join(words[:i])
    return text


@dataclass(frozen=True)
class HeadSchool:
    """The issuing school of a document head (``mention``), or an unknown issuer line."""

    mention: SchoolMention | None
    line: str = ""
    fuzzy: bool = False
    unknown_line: str = ""
    # Only the start of the name could be read ("TRƯỜNG THCS NGUYỄN", "TRƯỜNG
    # TRUNG HỌC PHỔ THÔNG"): the mention lists the schools it fits. It can
    # contradict another source, never support one.
    cut_short: bool = False


def find_school_in_head(head: Head, index: ClassifierIndex) -> HeadSchool:
    """The issuing body of the head: the first roster school in the top-left block.

    Only the block above the title counts: a subject line like "V/v học tập
    kinh nghiệm Trường X" names another school. Falls back to an approximate
    match line by line (OCR), and reports a "TRƯỜNG ..." line that matches no
    school so the coordinator sees an issuer that is not on the roster.
    """
    mentions = find_schools(issuer_text(head), index)
    if mentions:
        first = mentions[0]
        same = [m for m in mentions if set(m.schools) == set(first.schools)]
        return HeadSchool(merge_mentions(same), _line_with(head, first.text))
    for i in head.issuer:
        left = _printed_name(_left_column(head.lines[i], head.folded[i]))
        if _not_a_name(head.folded[i]):
            continue
        mention = compact_school(left, index) or fuzzy_school(left, index)
        if mention is not None:
            return HeadSchool(mention, head.lines[i], fuzzy=True)
    if head.ocr:
        found = _ocr_name_over_lines(head, index)
        if found is not None:
            return found
    for i in head.issuer:
        left = _left_column(head.lines[i], head.folded[i])
        canon = canon_school_text(_printed_name(left))
        words = canon.split()
        if words and (words[0] == "truong" or words[0] in LEVEL_TOKENS) and len(words) >= 2:
            cut_short = _schools_named_by_start(canon, index)
            if not cut_short and head.ocr:
                canon = ocr_level_repair(canon_school_text(left))
                cut_short = _schools_named_by_start(canon, index)
            if cut_short:  # "TRƯỜNG THCS NGUYỄN" and the rest lost: consistent, not unknown
                return HeadSchool(SchoolMention(cut_short, canon, exact=False), head.lines[i], cut_short=True)
            return HeadSchool(None, unknown_line=head.lines[i])
    return HeadSchool(None)


# A level phrase with one word OCR misread ("TRUNG Huệ CƠ SỞ"): the words around it say which.
_DAMAGED_LEVEL = ((re.compile(r"^truong trung \w{1,4} co so\b"), "truong thcs"),
                  (re.compile(r"^truong trung \w{1,4} pho thong\b"), "truong thpt"),
                  (re.compile(r"^truong mam n\w{0,2}\b"), "truong mn"))
# What OCR leaves at the end of a line: one character, or letters and digits mixed ("t", "3y");
# not a school's number ("8" of "mn son ca 8": a digit alone is kept).
_TRAILING_SPECK = re.compile(r"(?:\s+(?:[a-z]|[a-z]+\d\w*|\d+[a-z]\w*))+$")


def ocr_level_repair(canon: str) -> str:
    """An issuer line as OCR read it, in ``canon_school_text`` form, with a damaged level phrase
    repaired and the specks at its end dropped: "truong trung hue co so nguyen" -> "truong thcs
    nguyen", "truong thpt 3y" -> "truong thpt". Only its start is then matched (a cut-short name)."""
    for pattern, level in _DAMAGED_LEVEL:
        canon = pattern.sub(level, canon)
    return _TRAILING_SPECK.sub("", canon)


def _ocr_name_over_lines(head: Head, index: ClassifierIndex) -> HeadSchool | None:
    """OCR'd names broken over two lines, or with the level word damaged.

    "TRƯỜNG TRUNGHỌC PHỔTHÔNG" / "TRƯỜNG CHIH": two issuer lines read as one
    (approximately). "TRƯỜNG LÑON TUỔI NGỌC": the name without its level
    ("tuoi ngoc") names the schools that have it, as long as the word before
    it is no level of its own (a "TIỂU HỌC TUỔI NGỌC" is another school).
    """
    lefts = [(i, canon_school_text(_printed_name(_left_column(head.lines[i], head.folded[i]))))
             for i in head.issuer if not _not_a_name(head.folded[i])]
    for (i, a), (_, b) in zip(lefts, lefts[1:]):
        if a.split()[:1] == ["truong"] or a.split()[:1] and a.split()[0] in LEVEL_TOKENS:
            mention = fuzzy_school(f"{a} {b}", index)
            if mention is not None:
                return HeadSchool(mention, head.lines[i], fuzzy=True)
    # A school named after the place ("TT GDNN-GDTX Quận 12": core "quan 12") is not
    # named by the place alone: every supervising body's line ends with it.
    place = canon_school_text(index.campaign.office.place)
    cores = sorted(((c, s) for c, s in index.core_keys.items() if len(c.split()) >= 2 and c != place),
                   key=lambda kv: -len(kv[0]))
    for i, canon in lefts:
        for core, schools in cores:
            m = re.search(r"(?:^|\s)(\S+)\s" + re.escape(core) + NAME_END, canon)
            if m is not None and m.group(1) not in LEVEL_TOKENS:
                return HeadSchool(SchoolMention(schools, core, exact=False), head.lines[i], fuzzy=True)
    return None


def _not_a_name(folded: str) -> bool:
    """The supervising body's line or the number line (specks before them skipped)."""
    folded = LEADING_JUNK.sub("", folded)
    # OCR joins words with a dash ("ỦY-BAN NHÂN DÂN QUẬN 12")
    return folded.replace("-", " ").startswith(SUPERVISOR) or bool(NUMBER.match(folded))


def compact_school(text: str, index: ClassifierIndex) -> SchoolMention | None:
    """A roster name in ``text`` once spaces and punctuation are gone (OCR glues words).

    "TRƯỜNG MẦM NON SƠNCA8" and "TRƯỜNG MNHOASEN" are found; a number must
    end where the name does ("SƠNCA68" is not Sơn Ca 6). The mention is
    approximate: the words were not where a printed name has them.
    """
    compact = re.sub(r"[^a-z0-9]", "", canon_school_text(text))
    for key, schools in index.compact_keys:
        at = compact.find(key)
        while at >= 0:
            end = at + len(key)
            if not (key[-1].isdigit() and end < len(compact) and compact[end].isdigit()):
                return SchoolMention(schools, key, exact=False)
            at = compact.find(key, at + 1)
    return None


def _schools_named_by_start(canon: str, index: ClassifierIndex) -> tuple[School, ...]:
    """Schools whose full name begins with this cut-short one ("thcs nguyen" -> every THCS Nguyễn ...).

    The name must keep its level ("TRƯỜNG TRUNG HỌC PHỔ THÔNG" and the name
    lost: any THPT); it says which schools it may be, never which one.
    """
    name = canon[len("truong "):] if canon.startswith("truong ") else canon
    words = name.split()
    if not words or words[0] not in LEVEL_TOKENS:
        return ()
    found: list[School] = []
    for key, (schools, partial) in index.name_keys.items():
        if not partial and key.startswith(name + " "):
            found.extend(s for s in schools if s not in found)
    return tuple(found)


def _line_with(head: Head, canon_name: str) -> str:
    """The original head line holding a canonical name (for the reason text)."""
    for needle in (canon_name, canon_name.split()[-1]):
        for i in head.issuer:
            if needle in canon_school_text(head.lines[i]):
                return head.lines[i]
    return canon_name.upper()


# Any "Số: ..." line, whatever its layout ("Số: 05-KH/ĐTN" of the Đoàn and the Party)
# and whatever specks OCR read before the number ("Số: '23/KH- -CAP").
_NUMBER_ANY = re.compile(r"^soo?[\s:.'`\"_-]{0,6}[\d.]")


@dataclass(frozen=True)
class OtherIssuer:
    """An issuing body that is not a school: its kind (``name``, from the rules) and the line that says so."""

    name: str
    line: str


def other_issuer(head: Head, index: ClassifierIndex, head_school: HeadSchool) -> OtherIssuer | None:
    """The issuing body of the head when it is not a school (Công an phường, UBND phường, Đoàn, the office).

    The issuer is the lowest name line of the top-left block (the one under
    the supervising body). A roster school there wins, unless its own line
    is a body of the school's (``ĐOÀN TRƯỜNG THCS ...``). A line that may be
    a school's supervising body (``UBND PHƯỜNG ...``, ``PHÒNG GD&ĐT``) alone
    in the block decides only when the ``Số:`` line's issuer code agrees (the
    school's own line may have been lost). Without any name line that
    decides, a ``Số:`` code of such a body (``KH-CAP``) does, when no school
    line was read.
    """
    if not index.issuers:
        return None
    names = []  # (line as printed, match form) of the name lines of the block, top to bottom
    for i in head.issuer:
        folded = LEADING_JUNK.sub("", head.folded[i])
        if NUMBER.match(folded) or _NUMBER_ANY.match(folded) or "ngay" in folded.split()[:4]:
            continue
        left = _printed_name(_left_column(head.lines[i], head.folded[i])).strip()
        form = match_form(left).strip()
        # names are printed in capitals; OCR's remnants of the motto column are not
        if sum(ch.isalpha() for ch in form) >= 3 and mostly_caps(left):
            names.append((left, form))
    code = head.number.issuer_code.replace(".", "") if head.number is not None else ""
    by_code = next((name for name, _, codes in index.issuers if code and code in codes), "")
    if head_school.mention is not None:
        school_line = match_form(_line_with(head, head_school.mention.text)).strip()
        found = _issuer_of(school_line, index)
        return OtherIssuer(found, _line_with(head, head_school.mention.text)) if found else None
    if names and not head_school.unknown_line:
        line, form = names[-1]
        found = _issuer_of(form, index)
        if found:
            supervisor = form.startswith(SUPERVISOR) or form.startswith("phong ")
            if not (supervisor and len(names) == 1 and by_code != found):
                return OtherIssuer(found, line)
    if by_code and not head_school.unknown_line:
        return OtherIssuer(by_code, head.number.line)
    return None


def _issuer_of(form: str, index: ClassifierIndex) -> str:
    """The kind of non-school issuer a name line (match form) begins with, or ""."""
    return next((name for name, starts, _ in index.issuers if any(form == s or form.startswith(s + " ")
                                                                  for s in starts)), "")
