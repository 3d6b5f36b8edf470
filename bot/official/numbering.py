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
_NUMBER = re.compile(r"^so\s*:?\s*(\d*)\s*/\s*((?:\d{4}\s*/\s*)?)"
                     r"([a-z][a-z0-9]*)(?:\s*-\s*([a-z0-9][a-z0-9.\-]*))?")
_DATE_LONG = re.compile(r"ngay\s*(\d{1,2})?[\s.…_/]*thang\s*(\d{1,2})?[\s.…_/]*nam\s*(\d{4})")
_DATE_SHORT = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
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
    a complete date).
    """

    number: str | None = None
    number_blank: bool = False
    code: str = ""
    code_matches: bool | None = None
    date: date | None = None
    date_text: str = ""
    date_blank: bool = False
    in_cycle: bool | None = None


def read_number_date(lines: Sequence[str], codes: Sequence[str], cycle_start: date,
                     cycle_end: date) -> NumberDate:
    """Number and date from the first lines of a document.

    ``codes``: the type codes of the document's kind (rules/campaign.toml
    ``number_codes``); ``cycle_start``..``cycle_end`` (inclusive) is the
    cycle the date must lie in.
    """
    head = [nfc(line).strip() for line in lines[:_HEAD_LINES]]
    number = _number(head, codes)
    day, text, blank = _date(head)
    return NumberDate(
        number=number[0], number_blank=number[1], code=number[2], code_matches=number[3],
        date=day, date_text=text, date_blank=blank,
        in_cycle=(cycle_start <= day <= cycle_end) if day is not None else None,
    )


def _number(head: list[str], codes: Sequence[str]) -> tuple[str | None, bool, str, bool | None]:
    """(number as printed, blank?, code as printed, code of this kind?) of the first number line."""
    wanted = {fold(c).replace(" ", "") for c in codes}
    for line in head:
        # the number may share an OCR line with the issuer column: take the cell from "Số"
        for cell in [line] + _cells(line):
            cell = cell.strip()
            if not cell[:1] == "S":
                continue
            m = _NUMBER.match(fold(cell))
            if m is None:
                continue
            digits, year, code, _issuer = m.groups()
            printed = _printed_after_so(cell)
            shown_code = _printed_code(cell, code)
            matches = (code in wanted) if wanted else None
            return (printed if digits else None), not digits, shown_code, matches
    return None, False, "", None


def _cells(line: str) -> list[str]:
    """The columns of a line, split at wide gaps (OCR and text layers keep them)."""
    return [c.strip() for c in re.split(r"\s{3,}|\t+", line) if c.strip()]


def _printed_after_so(cell: str) -> str:
    """ "Số: 12/TTr-THCSNH" -> "12/TTr-THCSNH" (spaces around the slash dropped)."""
    rest = (_cells(re.sub(r"^S\S*\s*:?\s*", "", cell)) or [""])[0]
    return re.sub(r"\s*([/-])\s*", r"\1", rest).strip(" .;,")


def _printed_code(cell: str, folded_code: str) -> str:
    """The type code as the document prints it ("TTr", "BC")."""
    for token in re.split(r"[/\-\s:]+", cell):
        if fold(token) == folded_code:
            return token
    return folded_code


def _date(head: list[str]) -> tuple[date | None, str, bool]:
    """(complete date, date line as printed, day or month left blank?) of the date line."""
    # a date cell of a two-column line first (its text is shown), else the whole line
    # ("ngày      tháng 10": a blank day looks like a column gap)
    for line in (c for whole in head for c in _cells(whole) + [whole]):
        folded = fold(line)
        if folded.startswith(_CITATION) or "thang" not in folded and not _DATE_SHORT.search(folded):
            continue
        m = _DATE_SHORT.search(folded) or _DATE_LONG.search(folded)
        if m is None:
            continue
        d, mo, y = (int(g) if g else None for g in m.groups())
        if not 1990 < y < 2200:
            continue
        if d is None or mo is None:
            return None, line, True
        try:
            return date(y, mo, d), line, False
        except ValueError:
            return None, line, True
    return None, "", False
