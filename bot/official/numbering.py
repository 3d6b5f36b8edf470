"""The document's own number ("Số: 12/TTr-THCSNH") and date ("Quận 12, ngày
05 tháng 10 năm 2023"), and whether that date lies in the cycle.

Pure: the document's head lines (text layer or OCR, NFC) in, a frozen
``NumberDate`` out. Only the head is read (the number and the date sit
above the title, Nghị định 30/2020 Phụ lục I); "căn cứ Kế hoạch số
887/KH-GDĐT ngày ..." further down is a citation, not the document's own.
A number or date left blank in the template ("Số:    /TTr-THCSNH",
"ngày    tháng 10 năm 2023") is reported as blank: the mark of a draft.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from ..vietnamese import fold, nfc

_HEAD_LINES = 25
# "Số: 12/TTr-THCSNH", "Số 12/2023/BC-THNH", "Số:   /TTr-THCSNH" (folded text)
# OCR's specks between the words ("ngày23 tháng'9", "ngày: 16."), "thông" for "tháng", and O/l/I
# for 0/1 in the year ("2O23") are tolerated; the day and month must be digits.
_GAP = r"[\s.…_/'`\",:;-]*"
_DATE_LONG = re.compile(rf"ngay{_GAP}(\d{{1,2}})?{_GAP}th[a-z]{{1,2}}n[gq]{_GAP}(\d{{1,2}})?{_GAP}"
                        rf"n[a-z]m{_GAP}([0-9oil]{{4}})(?![0-9a-z])")
# ... "tháng" itself misread ("ngày 23 tưng 9 năm 2023"): any short word, only between a day and a month both read
_DATE_WORD = re.compile(rf"ngay{_GAP}(\d{{1,2}}){_GAP}[a-z]{{1,6}}{_GAP}(\d{{1,2}}){_GAP}"
                        rf"n[a-z]m{_GAP}([0-9oil]{{4}})(?![0-9a-z])")
_DATE_SHORT = re.compile(r"ngay[\s:.,'`]*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*([0-9oil]{4})(?![0-9a-z])")
_YEAR_LOOKALIKES = str.maketrans("oil", "011")
# a cited document's number just before its date: "... số 887/KH-GDĐT ngày 11/7/2023" (folded)
_CITED_NUMBER = re.compile(r"\d+\s*/\s*[a-z0-9.+'\-]+(?:\s*-\s*[a-z0-9.+'\-]+)*[\s.,]*$")
# the titles of the documents a school sends (folded, letters only): the own date is above them
_TITLES = ("totrinh", "baocao", "bienban", "kehoach", "quyetdinh", "thongbao", "congvan", "danhsach")
_CITATION = ("can cu", "theo ", "thuc hien", "ve viec", "v/v", "kinh gui", "trich yeu")


@dataclass(frozen=True)
class NumberDate:
    """What the head says of the document's number and date.

    ``number``: as printed after "Số" ("12/TTr-THCSNH"), None when no number
    line was found; ``number_blank``: the line is there, the number is not.
    ``code``: the type code as printed ("TTr"); ``code_matches``: it is one
    of the codes of the document's kind (None when the kind has none).
    ``date``: the complete date; ``date_blank``: a date line with the day or
    month left empty; ``in_cycle``: the date lies in the cycle (None without
    a complete date). ``date_below_title``: no date line was found above the
    document's title (where Nghị định 30/2020 puts it), the date was taken
    from below it (a meeting's date in a Biên bản's body, a citation): a
    reader of OCR'd text does not take it for the document's own.
    """

    number: str | None = None
    number_blank: bool = False
    code: str = ""
    code_matches: bool | None = None
    date: date | None = None
    date_text: str = ""
    date_blank: bool = False
    in_cycle: bool | None = None
    date_below_title: bool = False


def read_number_date(lines: Sequence[str], codes: Sequence[str], cycle_start: date,
                     cycle_end: date) -> NumberDate:
    """Number and date from the first lines of a document.

    ``codes``: the type codes of the document's kind (rules/campaign.toml
    ``number_codes``); ``cycle_start``..``cycle_end`` (inclusive) is the
    cycle the date must lie in.
    """
    head = [nfc(line).strip() for line in lines[:_HEAD_LINES]]
    number = _number(head, codes)
    day, text, blank, below = _date(head)
    return NumberDate(
        number=number[0], number_blank=number[1], code=number[2], code_matches=number[3],
        date=day, date_text=text, date_blank=blank, date_below_title=below,
        in_cycle=(cycle_start <= day <= cycle_end) if day is not None else None,
    )


def best_reading(readings: Sequence[NumberDate]) -> NumberDate:
    """One answer from several OCR readings of the same head (the page's, then a second one at
    another resolution), pure.

    The number: from the first reading with a complete number of the kind's code, else the
    first with any number line; the date: from the first with a complete date above the title
    in the cycle, else the first with a date line. Readings that contradict each other — one
    reads the number (or the day) blank, another reads it filled in — give neither: what is
    written by hand into a blank is not read by OCR, and a speck may be read as a digit.
    """
    if not readings:
        return NumberDate()
    first = readings[0]
    good_number = [r for r in readings if r.number is not None and r.code_matches is not False]
    any_number = [r for r in readings if r.number is not None or r.number_blank]
    n = (good_number or any_number or [first])[0]
    if any(r.number_blank for r in readings) and any(r.number is not None for r in readings):
        n = NumberDate()
    own = [r for r in readings if not r.date_below_title]
    good_date = [r for r in own if r.date is not None and r.in_cycle is True]
    any_date = [r for r in own if r.date is not None or r.date_blank]
    d = (good_date or any_date or [first])[0]
    if any(r.date_blank for r in own) and any(r.date is not None for r in own):
        d = NumberDate()
    return NumberDate(number=n.number, number_blank=n.number_blank, code=n.code, code_matches=n.code_matches,
                      date=d.date, date_text=d.date_text, date_blank=d.date_blank, in_cycle=d.in_cycle,
                      date_below_title=d.date_below_title)


# A number as documents print it: digits, optionally a year, a type code (ASCII letters, Đ), optionally
# the issuer. OCR misreads a letter of the issuer's abbreviation as one with a diacritic ("THTỢT" for
# THTQT): the number and its code are still read, so any letters are taken there.
_CLEAN_NUMBER = re.compile(r"\d{1,5}/(?:\d{4}/)?[A-Za-zĐđ][A-Za-zĐđ0-9]*(?:-[^\W_][\w.\-]*)?")


def clean_number(number: str | None) -> bool:
    """Whether a number as read (``NumberDate.number``) is well formed: no stray characters in its
    digits and type code ("06/äC-NTBB" is not) (pure)."""
    return number is not None and bool(_CLEAN_NUMBER.fullmatch(number))


def _number(head: list[str], codes: Sequence[str]) -> tuple[str | None, bool, str, bool | None]:
    """(number as printed, blank?, code as printed, code of this kind?) of the first number line."""
    wanted = sorted({fold(c).replace(" ", "") for c in codes}, key=len, reverse=True)
    for line in head:
        # the number may share an OCR line with the issuer column: take the cell from "Số"
        for cell in [line] + _cells(line):
            found = read_number_cell(cell, wanted)
            if found is not None:
                return found
    return None, False, "", None


# "Số" as printed or as OCR reads it: a speck or two before it ("` Số:", "-„ Số", "vI Số"), "$ố"/"§ố"/"&ố"/"Sð"/"SSốố" for "Số",
# a stray letter after it ("Sốc 83/..."), any punctuation for its colon.
_SO = re.compile(r"^(?:\w{1,2}\s+)?(?:[^\w$§]|[_\u02b0-\u02ff]){0,3}[Ss$§&]{1,2}(\w)[^\W\d]?(?=[\s:;.,'`\"‘’“”(0-9/]|$)")
# the rest: digits (or a blank), the slash, an optional year, the type code, then the issuer after a
# separator (OCR reads the hyphen as ' ` . : _ – — ~, or drops it)
_SPECKS = " \t-_.,:;'`\"‘’“”~^ˆ„°¡|*"
_NOISE = r"[\s:;.,\'`\"‘’“”_~^ˆ„-]*"
_REST = re.compile(rf"^{_NOISE}(\d*){_NOISE}/\s*((?:\d{{4}}\s*/\s*)?)([^\W\d_][^\W_]*)"
                   rf"(?:\s*[-‐–—\'`‘’.:_~]+\s*([^\W_]+(?:-[^\W_]+)*))?")


# ... the slash dropped: "Số:60BCMNSCS" (taken only when the letters start with the kind's code)
_NO_SLASH = re.compile(rf"^{_NOISE}(\d{{1,4}})([^\W\d_][^\W_]*)")


def _close_code(folded: str, wanted: str) -> bool:
    """A type code as read (folded) is ``wanted``: the same, or for a code of three letters or more
    one letter misread ("ttt" for ttr: no code of two letters is that close to it)."""
    return folded == wanted or (len(wanted) >= 3 and len(folded) == len(wanted)
                                and sum(a != b for a, b in zip(folded, wanted)) == 1)


def _cells(line: str) -> list[str]:
    """The columns of a line, split at wide gaps (OCR and text layers keep them)."""
    return [c.strip() for c in re.split(r"\s{3,}|\t+", line) if c.strip()]


def read_number_cell(cell: str, wanted: Sequence[str] = ()) -> tuple[str | None, bool, str, bool | None] | None:
    """The document number of one cell starting with "Số" (``_number``'s answer), tolerant of
    OCR's confusions: specks around "Số", a misread hyphen, a hyphen dropped between the type
    code and the issuer ("TTrTHHHG" is "TTr-THHHG" when TTr is a ``wanted`` code, folded),
    trailing specks. None when the cell is no number line.
    """
    cell = nfc(cell).strip()
    so = _SO.match(cell)
    if so is None or (fold(so.group(1)) != "o" and so.group(1) not in "0ð6"):  # "S6:": the ố read as a 6
        return None
    rest = cell[so.end():]
    if so.group(0).lstrip(_SPECKS)[:1] == "s" and not rest.lstrip().startswith((":", ";")):
        return None  # "... số 887/KH-GDĐT": a citation wrapped onto a line of its own, not the document's "Số:"
    m = _REST.match(rest) or (_NO_SLASH.match(rest) if wanted else None)
    if m is None or fold(rest[m.end():]).lstrip(" .,:;-").startswith("ngay"):
        return None  # "887/KH-GDĐT ngày 11/7/2023": a cited document's number and date
    digits, year, code, issuer = m.groups() if m.re is _REST else (m.group(1), "", m.group(2), None)
    if m.re is _NO_SLASH and not any(fold(code).startswith(w) for w in wanted):
        return None
    if issuer and (len(issuer) < 2 or not re.search(r"[^\W\d_]", issuer) or issuer.islower()):
        issuer = None  # a speck read as a letter after the code ("30/TTrTHCSNT.. l")
    year = re.sub(r"\s", "", year)
    folded = fold(code).replace(" ", "")
    if wanted and folded not in wanted:
        # a hyphen dropped: the code glued to the issuer's capitals (a letter of a long code may be
        # misread too: "TTETHNT"); what follows it then is no issuer when it is a word in lower case
        # ("10/TTrTHTL-Quận": the place of the date line beside it)
        for w in wanted:
            if (_close_code(folded[:len(w)], w) and len(folded) - len(w) >= 2 and code[len(w):].isupper()
                    and (not issuer or not issuer[1:].isupper())):
                code, issuer = code[:len(w)], code[len(w):]
                folded = fold(code)
                break
    printed = f"{digits}/{year}{code}" + (f"-{issuer}" if issuer else "")
    # a letter of a code of three letters or more misread ("TTT" for TTr): no code of two letters is
    # that close to it, so it is the kind's code, not another kind's
    matches = any(_close_code(folded, w) for w in wanted) if wanted else None
    return (printed if digits else None), not digits, code, matches


def _date(head: list[str]) -> tuple[date | None, str, bool, bool]:
    """(complete date, date line as printed, day or month left blank?, below the title?) of the
    date line: above the document's title when one is there, else anywhere in the head."""
    title = title_line(head)
    found = _find_date(head[:title] if title is not None else head)
    if found is not None or title is None:
        return (*(found or (None, "", False)), False)
    below = _find_date(head[title:])
    if below is not None and below[0] is not None:
        for line, day, month, year in _partial_dates(head[:title]):
            if (year == below[0].year and (day is None or day == below[0].day)
                    and (month is None or month == below[0].month)):
                # the own date, one of its day or month misread, agrees with the meeting's date in
                # every part read (a Biên bản is dated the day of its meeting): that date
                return below[0], line, False, False
    return (*(below or (None, "", False)), below is not None)


# a date line whose day or month OCR misread into something that is neither digits nor a blank
_PARTIAL = re.compile(rf"ngay{_GAP}(\d{{1,2}}|[^\s\d]{{1,2}})?{_GAP}th[a-z]{{1,2}}n[gq]{_GAP}"
                      rf"(\d{{1,2}}|[^\s\d]{{1,2}})?{_GAP}n[a-z]m{_GAP}([0-9oil]{{4}})(?![0-9a-z])")


def _partial_dates(lines: list[str]):
    """(line, day, month, year) of the date lines whose day or month (one of them) was misread:
    the other and the year are read (``None`` for the misread one)."""
    for line in lines:
        if not _misread_gap(line):
            continue
        m = _PARTIAL.search(fold(line))
        if m is None:
            continue
        day, month = (int(g) if g and g.isdigit() else None for g in m.groups()[:2])
        if (day is None) != (month is None):
            yield line, day, month, int(m.group(3).translate(_YEAR_LOOKALIKES))


def title_line(head: list[str]) -> int | None:
    """Index of the document's title line ("TỜ TRÌNH", ".._ BIÊN BẲN :"), if any (pure)."""
    for i, line in enumerate(head):
        letters = re.sub(r"[^a-z]", "", fold(line))
        # a few letters of specks around it ("HH. # BIÊN BẢN ú"), not a sentence naming it
        if any(t in letters and len(letters) <= len(t) + 4 for t in _TITLES):
            return i
    return None


_BLANK_GAPS = re.compile(r"ng[^\W\d_]y(.*?)th\w{1,2}n[gq](.*?)n\w{1,2}m", re.I)  # "ngãy": OCR's accents


def _misread_gap(line: str) -> bool:
    """A date line whose day or month is not digits but is not empty either: something is
    written there that OCR could not read as a digit."""
    m = _BLANK_GAPS.search(nfc(line))
    return m is not None and any(re.sub(r"[\s.…_:,/'`\-]", "", g) and not g.strip().isdigit() for g in m.groups())


def _find_date(lines: list[str]) -> tuple[date | None, str, bool] | None:
    """The first date line of ``lines``: (date, line, blank?), None when there is none."""
    # a date cell of a two-column line first (its text is shown), else the whole line
    # ("ngày      tháng 10": a blank day looks like a column gap)
    for line in (c for whole in lines for c in _cells(whole) + [whole]):
        folded = fold(line)
        if folded.startswith(_CITATION):
            continue
        m = _DATE_SHORT.search(folded) or _DATE_LONG.search(folded) or _DATE_WORD.search(folded)
        if m is None or _CITED_NUMBER.search(folded[:m.start()]):
            continue
        d, mo = (int(g) if g else None for g in m.groups()[:2])
        y = int(m.group(3).translate(_YEAR_LOOKALIKES))
        if not 1990 < y < 2200:
            continue
        if d is None or mo is None:
            if _misread_gap(line):
                return None  # "tháng Ø năm": a digit OCR misread, not a blank left in the template
            return None, line, True
        try:
            return date(y, mo, d), line, False
        except ValueError:
            return None  # "ngày 34 tháng 8": a misread digit, not a blank left in the template
    return None
