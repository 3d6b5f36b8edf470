"""The head of a document: its lines, title, ``Số:`` number line, issuer block and subject."""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Sequence

from ..vietnamese import fold, fold_compact, nfc
from .constants import PASSING_WORDS
from .index import ClassifierIndex, TypeSig


# --------------------------------------------------------------------------
# The head of a document
# --------------------------------------------------------------------------

MOTTO = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap\s*-?\s*tu do\s*-?\s*hanh phuc")
# Where the motto of the right column begins, as OCR leaves it ("Độc lâg-Tựdo-",
# "CỘNG HOÀ XÃ HỘICHỦ", "Tư do - anh phúc"): any of its distinctive pieces.
MOTTO_PIECE = re.compile(r"(?<![a-z])(?:cong\s*hoa\s*xa|xa\s*hoi\s*chu|doc\s*la[pg]?(?![a-z])|"
                         r"tu\s*do\s*-\s*h|hanh\s*phuc)")
# Folded "số: 15/TTr-THCSNH", "Số: ..../BC-X", "Số 15/2023/TTr-X": type slot, issuer slot.
# OCR: "Số-36/TTr-.X", "Số:-87/TTr:X", "Sốố: 12/BC-X", "48/BB THCSNVN" (the dash lost).
NUMBER = re.compile(r"^soo?\s*[:./-]*\s*[\d._ ]*(?:/\s*\d{4}\s*)?/\s*([a-z0-9]+)"
                    r"(?:\s*[-.:]*\s*([a-z0-9][a-z0-9.-]*))?")
# Leading specks of an OCR'd line: ". Số: ...", "` Số: ...", "_ Số: ..." (an underscore is a word character).
LEADING_JUNK = re.compile(r"^[\W_]+")
# Letters OCR reads as digits in a type abbreviation ("8C" for "BC").
_DIGIT_LOOKALIKES = str.maketrans("8051", "bosl")
_SUBJECT_START = ("ve viec", "v/v", "v v ")
_NOT_ISSUER = ("kinh gui", "can cu", "ve viec", "v/v", "thuc hien", "theo ")
SUPERVISOR = ("ubnd", "uy ban nhan dan", "phong giao duc", "phong gd", "so giao duc", "so gd", "bo giao duc")


@dataclass(frozen=True)
class NumberLine:
    """The ``Số:`` line: ``type_code`` is the slot after "/" (``ttr``), folded."""

    line: str
    type_code: str
    issuer_code: str
    type: TypeSig | None
    approximate: bool = False  # the abbreviation was read through OCR errors ("TTỉ", "8C")
    written: str = ""          # the code as printed, when it is not the whole slot ("TTr" of "TTrTHHHG")


@dataclass(frozen=True)
class Head:
    """The top of one document, split into the blocks that carry signals.

    ``issuer`` lines are the top-left block above the title (supervising
    body, issuing body, number); ``subject`` lines are the "Về việc"/"V/v"
    line(s) and the lines right under the title.
    """

    lines: tuple[str, ...]
    folded: tuple[str, ...]
    title_at: int | None
    title: TypeSig | None
    title_fuzzy: bool
    number: NumberLine | None
    issuer: tuple[int, ...]
    subject: tuple[int, ...]
    ocr: bool = False  # read by OCR: names and codes may be damaged

    @property
    def title_line(self) -> str:
        return self.lines[self.title_at] if self.title_at is not None else ""

    def subject_text(self) -> str:
        return " ".join(self.folded[i] for i in self.subject)


def split_lines(text: str) -> tuple[str, ...]:
    """Non-empty lines, NFC, stripped."""
    return tuple(line for line in (nfc(raw).strip() for raw in text.splitlines()) if line)


_RUN_ON_BREAKS = re.compile(
    r"\s+(?=(?:CỘNG HÒA|CỘNG HOÀ|Độc lập|ĐỘC LẬP|Số\s*:|Về việc|V/v|Kính gửi|Căn cứ)(?!\w))")
# A head line longer than this is several lines run together (PDF text
# without line breaks) or a sentence; issuer lines are never this long.
_RUN_ON = 90


def split_run_on(line: str, index: ClassifierIndex) -> list[str]:
    """Break a run-on head line at the places a printed head has line breaks.

    "UBND QUẬN 12 TRƯỜNG THCS X Số: 15/TTr-X CỘNG HÒA ... TỜ TRÌNH Về việc
    ..." becomes the issuer, number, motto, date, title and subject lines.
    """
    if len(line) <= _RUN_ON:
        return [line]
    line = index.title_split_re.sub(lambda m: "\n" + m.group(1) + "\n", _RUN_ON_BREAKS.sub("\n", line))
    return [part.strip() for part in line.split("\n") if part.strip()]


def parse_head(head: str, index: ClassifierIndex, ocr: bool = False) -> Head:
    """Find the title, the number line, the issuer block and the subject line.

    ``ocr``: the text was read by OCR, so a type abbreviation may be read
    through the usual recognition errors (see ``_number_line``).
    """
    lines = tuple(part for line in split_lines(head) for part in split_run_on(line, index))
    folded = tuple(fold(line) for line in lines)
    title_at, title, fuzzy = _find_title(lines, index)
    # Without a title the head may be body text: only its first lines can be the issuer.
    top = range(title_at if title_at is not None else min(len(lines), 5))
    number = next((n for n in (_number_line(lines[i], folded[i], index, ocr) for i in top) if n), None)
    issuer = tuple(i for i in top if _may_be_issuer(lines[i], folded[i]))
    return Head(lines, folded, title_at, title, fuzzy, number, issuer, _subject_lines(folded, title_at), ocr)


def _find_title(lines: Sequence[str], index: ClassifierIndex) -> tuple[int | None, TypeSig | None, bool]:
    """The first title line; exact matches over all lines before approximate ones.

    The approximate pass is slower and must not pick a line above a clean title.
    """
    for approximate in (False, True):
        for i, line in enumerate(lines):
            found = match_title(line, index, approximate)
            if found is not None:
                return i, found[0], found[1]
    return None, None, False


def _may_be_issuer(line: str, folded: str) -> bool:
    """Whether a line above the title can name the issuing body.

    Not the addressee, a citation or a subject; not a sentence (too long, or
    in lower case with words of a mention in passing like "học tập kinh
    nghiệm"); issuer lines are short and printed in capitals.
    """
    if folded.startswith(_NOT_ISSUER) or len(line) > _RUN_ON:
        return False
    return mostly_caps(line) or not any(w in folded for w in PASSING_WORDS)


def mostly_caps(line: str) -> bool:
    """At least 70 % of the line's letters are capitals (a printed heading, an issuer's line)."""
    letters = [ch for ch in line if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters)


def _subject_lines(folded: Sequence[str], title_at: int | None) -> tuple[int, ...]:
    """"V/v"/"Về việc" lines, and up to three lines under the title."""
    chosen = {i for i, f in enumerate(folded) if f.startswith(_SUBJECT_START)}
    if title_at is not None:
        for i in range(title_at + 1, min(len(folded), title_at + 4)):
            if folded[i].startswith(("kinh gui", "can cu", "thuc hien", "- can cu")):
                break
            chosen.add(i)
    return tuple(sorted(chosen))


def match_title(line: str, index: ClassifierIndex, approximate: bool = True) -> tuple[TypeSig, bool] | None:
    """The document type whose title this line is, and whether the match is approximate.

    Exact: the line is the title, folded and without spaces ("T Ờ  T R Ì N H",
    "TỞ TRÌNH", "BIEN BAN"), or starts with it in capitals ("BÁO CÁO KẾT QUẢ
    ..."). Approximate (OCR): a short line in capitals close to a title.
    """
    compact = fold_compact(line)
    if not compact or len(compact) > 120:
        return None
    found = _exact_title(line, compact, index)
    if found is not None:
        return found, False
    cores = [(core, dropped) for core, dropped in _title_cores(line) if core != line]
    for core, dropped in cores:
        found = _exact_title(core, fold_compact(core), index)
        if found is not None:
            return found, dropped
    if not approximate:
        return None
    for text in [line] + [core for core, _ in cores]:
        found_approx = _fuzzy_title(text, fold_compact(text), index)
        if found_approx is not None:
            return found_approx
    return None


def _exact_title(line: str, compact: str, index: ClassifierIndex) -> TypeSig | None:
    sig = index.titles.get(compact)
    if sig is not None:
        return sig
    for title, sig in index.title_prefixes:
        if compact.startswith(title) and caps_prefix(line, len(title)) and _same_marks(line, title, sig):
            return sig
    return None


def _same_marks(line: str, title: str, sig: TypeSig) -> bool:
    """A title that opens a longer line keeps its tone marks when the line has any.

    Folded, "PHƯỜNG AN PHÚ ĐÔNG" (a ward, the issuer) begins like "PHƯƠNG
    ÁN"; the dossier's own titles are matched on letters alone (OCR damages
    marks), the other types only when the marks agree.
    """
    if sig.dossier or not sig.written:
        return True
    start = "".join(ch for ch in nfc(line).casefold() if ch.isalnum())[:len(title)]
    return start.isascii() or start in sig.written


_EDGE_JUNK = re.compile(r"^[^\w]+|[^\w]+$")
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}|[a-zđ])[.)]?$")  # "1." "2)" "a)" before a heading
_ROMAN_NUMBER = re.compile(r"^[IVX]{1,4}[.)]$")              # "II." opening a heading


def _title_cores(line: str) -> list[tuple[str, bool]]:
    """``title_core``, then the same without short capital words at its ends ("SC BIỂN BẢN ĐC")."""
    core, dropped = title_core(line)
    if not core:
        return []
    found = [(core, dropped)]
    words = core.split()
    while len(words) > 2 and len(words[0]) <= 2:
        words = words[1:]
        found.append((" ".join(words), True))
    while len(words) > 2 and len(words[-1]) <= 2:
        words = words[:-1]
        found.append((" ".join(words), True))
    return found


def title_core(line: str) -> tuple[str, bool]:
    """The run of capital words in a line, without the specks OCR put around it.

    ". TỜ TRÌNH ` =" -> "TỜ TRÌNH"; ": , 'TỜ TRÌNH P" -> "TỜ TRÌNH" (a lone
    letter dropped); "ca có TỜTRNH ... - ẻ" -> "TỜTRNH". Returns the core
    and whether letters were dropped (then a match is only approximate).
    Words count when they have two or more letters, all capitals.
    """
    words = [_EDGE_JUNK.sub("", w) for w in line.split()]
    capital = [len(w) >= 2 and w.isalpha() and w.isupper() for w in words]
    best, start = (0, 0), None
    for i, ok in enumerate(capital + [False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    rest = words[:best[0]] + words[best[1]:]
    if best[1] == best[0] or (best[0] == 1 and _SECTION_NUMBER.match(line.split()[0])) \
            or _ROMAN_NUMBER.match(line.split()[best[0]]):
        return "", False  # "1. KẾ HOẠCH THỰC HIỆN", "II. BIÊN BẢN ...": numbered headings, not titles
    return " ".join(words[best[0]:best[1]]), any(ch.isalpha() for w in rest for ch in w)


def caps_prefix(line: str, letters: int) -> bool:
    """Whether the first ``letters`` letters of the line are capitals (a printed title)."""
    seen = [ch for ch in line if ch.isalpha()][:letters]
    return len(seen) == letters and all(ch.isupper() for ch in seen)


def _fuzzy_title(line: str, compact: str, index: ClassifierIndex) -> tuple[TypeSig, bool] | None:
    """A short, mostly capital line within a couple of letters of exactly one title."""
    if any(ch.isdigit() for ch in compact) or not mostly_caps(line):
        return None
    best: list[tuple[float, TypeSig]] = []
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(compact)
    for title, sig in index.titles.items():
        if abs(len(title) - len(compact)) <= 2:
            matcher.set_seq1(title)
            if matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8:
                best.append((matcher.ratio(), sig))
    best.sort(key=lambda rs: -rs[0])
    if best and (len(best) == 1 or best[0][0] - best[1][0] >= 0.1):
        return best[0][1], True
    return None


def _number_line(line: str, folded: str, index: ClassifierIndex, ocr: bool = False) -> NumberLine | None:
    """Parse "Số: 15/TTr-THCSNH"; only at the start of a line with a capital S.

    "căn cứ Kế hoạch số 887/KH-GDĐT" in a body is a citation, not the
    document's own number. Specks before "Số" are skipped. In OCR'd text
    (``ocr``) an abbreviation that is no known code is read once more
    through the usual errors, as one of the dossier's own codes only, and
    the result is marked approximate (it never counts on its own): digits
    for look-alike letters ("8C" -> BC), one wrong letter in a code of three
    or more ("TTỉ" -> TTr), a mixed-case code glued to the issuer
    ("TTrTHHHG" -> TTr, THHHG: the case change shows the seam), or a code
    opening a longer all-capitals slot ("BBMNSC6", a guess).
    """
    line = LEADING_JUNK.sub("", line)
    if not line.startswith("S"):
        return None
    m = NUMBER.match(LEADING_JUNK.sub("", folded))
    if not m:
        return None
    first, second = m.group(1), m.group(2) or ""
    sig, approximate = index.codes.get(first), False
    if sig is None and ocr:
        sig, issuer, written = _ocr_code(line, first, index)
        if sig is not None:
            return NumberLine(line, first, issuer or second.split("-")[0].strip("."), sig, approximate=True,
                              written=written)
    issuer = second.split("-")[0].strip(".") if sig is not None else first
    return NumberLine(line, first, issuer, sig, approximate)


def _ocr_code(line: str, slot: str, index: ClassifierIndex) -> tuple[TypeSig | None, str, str]:
    """The type code an OCR-damaged slot most likely is, the issuer glued to it and the code as printed."""
    codes = {code: sig for code, sig in index.codes.items() if sig.dossier}
    if any(ch.isdigit() for ch in slot) and any(ch.isalpha() for ch in slot):
        sig = codes.get(slot.translate(_DIGIT_LOOKALIKES))
        if sig is not None:
            return sig, "", ""
    if len(slot) >= 3:
        near = {sig.id: sig for code, sig in codes.items()
                if len(code) >= 3 and len(code) == len(slot) and sum(a != b for a, b in zip(code, slot)) == 1}
        if len(near) == 1:
            return next(iter(near.values())), "", ""
    m = index.glued_code_re.search(line) if index.glued_code_re is not None else None
    if m is not None and fold(m.group(1)) in codes:
        return codes[fold(m.group(1))], fold(m.group(2)), m.group(1)
    # "BBMNSC6": the dash lost between a code and the issuer; all capitals, so
    # only a guess (approximate, never counted on its own)
    for code in sorted(codes, key=len, reverse=True):
        if slot.startswith(code) and len(slot) - len(code) >= 3:
            return codes[code], slot[len(code):], code.upper()
    return None, "", ""
