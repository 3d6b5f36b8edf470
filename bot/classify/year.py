"""Year: the document's date line and school years, checked against the cycle it was received in."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Sequence

from ..model import ReasonCode
from ..vietnamese import nfc
from .constants import MAX_TEXT
from .forms import text_form
from .head import Head


# --------------------------------------------------------------------------
# Year
# --------------------------------------------------------------------------

_DATE_LONG = re.compile(r"ngay\s*(\d{1,2})?[\s.…_]*thang\s*(\d{1,2})?[\s.…_]*nam\s*(\d{4})")
_DATE_SHORT = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_PLACE_DATE = re.compile(r",\s*(ngay\s*[\d.…_ ]*(?:thang|[/.-]).*)")
_SCHOOL_YEAR = re.compile(r"nam(?: hoc)?\s*:?\s*(\d{4})\s*[-/]\s*(\d{4})")
_PLAIN_YEAR = re.compile(r"\bnam\s+(\d{4})\b(?!\s*[-/]\s*\d{4})")
_CITATION = ("can cu", "theo ", "thuc hien", "ve viec", "v/v", "kinh gui")
# A document dated this many days after it arrived is taken as dated ahead
# (for the day it is to be signed or filed), not as a wrong year.
_PREDATED_DAYS = 3


@dataclass(frozen=True)
class YearSignals:
    """What a document says about its year.

    ``date`` is the date line when complete; ``year`` its year even when day
    or month were left blank ("ngày    tháng 10 năm 2023"). School years are
    given by their first year; ``head_school_years`` come from the head,
    ``text_school_years`` from the whole text (only read when the head has
    none); ``subject_years`` are plain "năm 2022" of the subject line.
    """

    date: date | None = None
    date_text: str = ""
    year: int | None = None
    head_school_years: tuple[int, ...] = ()
    text_school_years: tuple[int, ...] = ()
    subject_years: tuple[int, ...] = ()
    # Dates written anywhere in the text (events, meetings, citations), newest first.
    text_dates: tuple[date, ...] = ()


def document_year(head: Head, text: str) -> YearSignals:
    """The date line of the head and the school years the document speaks of."""
    # The date line sits above the title; dates below it are citations.
    top = head.folded[:head.title_at] if head.title_at is not None else head.folded[:12]
    day, text_date, year = _date_line(top)
    subject = head.subject_text()
    in_head = _school_years(" ".join(head.folded))
    return YearSignals(
        date=day, date_text=text_date, year=year,
        head_school_years=in_head,
        # The head's school year decides; the body is read only without one.
        text_school_years=() if in_head else _text_school_years(text[:MAX_TEXT]),
        subject_years=tuple(int(y) for y in _PLAIN_YEAR.findall(_DATE_LONG.sub(" ", subject))),
        text_dates=() if year is not None else text_dates(text[:MAX_TEXT]),
    )


# "18/9/2023"; "ngày 18 tháng 9 năm 2023", also with "ngày" lost to OCR or a line break
_FORM_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?![\d/])"
                        r"|(?:ngay )?(\d{1,2}) thang (\d{1,2}) nam ((?:19|20)\d\d)")


def text_dates(text: str) -> tuple[date, ...]:
    """Every valid date written in ``text`` ("18/9/2023", "ngày 18 tháng 9 năm 2023"), newest first."""
    found = set()
    for m in _FORM_DATE.finditer(text_form(text)):
        d, mo, y = (int(g) for g in (m.groups()[:3] if m.group(1) else m.groups()[3:]))
        try:
            found.add(date(y, mo, d))
        except ValueError:
            continue
    return tuple(sorted(found, reverse=True))


_MAIL_YEAR = re.compile(r"(?<!\d)(20\d\d)(?:\s*[-/]\s*(20\d\d))?(?!\d)")


def mail_years(subject: str, body: str) -> tuple[int, ...]:
    """Years a mail's own words speak of ("hồ sơ năm 2023", "năm học 2022-2023" gives 2022 and 2023)."""
    years = set()
    for a, b in _MAIL_YEAR.findall(subject + "\n" + body[:4000]):
        years.add(int(a))
        if b and int(b) == int(a) + 1:
            years.add(int(b))
    return tuple(sorted(years))


def _date_line(folded: Sequence[str]) -> tuple[date | None, str, int | None]:
    """The "Quận 12, ngày 05 tháng 10 năm 2023" line: place, comma, date first."""
    candidates = [m.group(1) for f in folded for m in [_PLACE_DATE.search(f)] if m]
    candidates += [f for f in folded if not f.startswith(_CITATION) and "thang" in f]
    for candidate in candidates:
        m = _DATE_SHORT.search(candidate) or _DATE_LONG.search(candidate)
        if m is None:
            continue
        d, mo, y = (int(g) if g else None for g in m.groups())
        if not 1900 < y < 2200:
            continue
        try:
            found = date(y, mo, d) if d and mo else None
        except ValueError:
            found = None
        shown = found.strftime("%d/%m/%Y") if found else (f"{mo:02d}/{y}" if mo else str(y))
        return found, shown, y
    return None, "", None


# "năm học 2022-2023" in raw NFC text (any case, marks or none), so that a
# long body need not be folded just for its school years.
_RAW_SCHOOL_YEAR = re.compile(r"n[aăâ]m(?:\s+h[oọô]c)?\s*:?\s*(\d{4})\s*[-\u2013\u2014/]\s*(\d{4})", re.IGNORECASE)


def _text_school_years(text: str) -> tuple[int, ...]:
    """School years of a long text, by a regex on the raw text (no folding)."""
    pairs = _RAW_SCHOOL_YEAR.findall(nfc(text))
    return tuple(sorted({int(a) for a, b in pairs if int(b) == int(a) + 1}))


def _school_years(folded: str) -> tuple[int, ...]:
    return tuple(sorted({int(a) for a, b in _SCHOOL_YEAR.findall(folded) if int(b) == int(a) + 1}))


@dataclass(frozen=True)
class YearVerdict:
    """``kind``: "ok", "earlier" (ignored), "unsure" or "future" (review)."""

    kind: str
    reason: str = ""
    code: ReasonCode | None = None  # why it is not "ok"


def check_year(signals: YearSignals, cycle: int, received: date, mail: Sequence[int] = (),
               ocr: bool = False) -> YearVerdict:
    """Whether a document belongs to the cycle it was received in.

    Dated in a year before the cycle's, or speaking only of a school year
    older than (cycle-1)-(cycle): an earlier year's dossier. Dated after it
    was received: review, unless by a few days of the same year (offices
    date a paper for the day it is to be signed or filed, and send it
    earlier; said in the reasons). A current date with an old school year:
    review (an old report with a new date); an old date under a trích yếu
    naming the cycle's year: review (a misread or mistyped date). Without a readable date a
    document needs other evidence of this cycle: a school year of this cycle
    or the cycle's year in its head or text, a date of the cycle's year in
    its text, or the cycle's year in the mail's own words (``mail``: years of
    its subject and body); without any it goes to review.

    Read by OCR (``ocr``), a date line whose year is after the year received
    and one digit away from the cycle's ("2033", "2083" for 2023) is taken
    as misread: the document is judged as one without a readable date, and
    the reason says what was read.
    """
    if ocr and signals.year is not None and signals.year > received.year and _one_digit_off(signals.year, cycle):
        undated = check_year(replace(signals, date=None, date_text="", year=None), cycle, received, mail)
        read = f"ngày văn bản đọc được là {signals.date_text}, sau ngày nhận: có thể OCR đọc sai năm"
        reason = undated.reason
        reason = read + reason[len(_LOST):] if reason.startswith(_LOST) else "; ".join(filter(None, (read, reason)))
        return replace(undated, reason=reason)
    dated = f"ngày văn bản {signals.date_text}" if signals.date_text else ""
    if signals.date is not None and signals.date > received:
        ahead = (signals.date - received).days
        if ahead > _PREDATED_DAYS or signals.date.year != received.year:
            return YearVerdict("future", f"văn bản ghi ngày {signals.date_text}, sau ngày nhận ({received:%d/%m/%Y})",
                               ReasonCode.FUTURE_DATE)
        dated = (f"văn bản ghi ngày {signals.date_text}, sau ngày nhận ({received:%d/%m/%Y}) {ahead} ngày: "
                 "coi là ghi ngày trước, vẫn tính")
    if signals.year is not None and signals.year > received.year:
        return YearVerdict("future", f"văn bản ghi ngày {signals.date_text}, sau ngày nhận ({received:%d/%m/%Y})",
                           ReasonCode.FUTURE_DATE)
    if signals.year is not None and signals.year < cycle:
        if cycle in signals.subject_years:
            # "ngày 20 tháng 9 năm 2022" over "... năm 2023": a misread (OCR) or mistyped date, or an
            # old paper retitled; not an earlier year's at a glance, never counted unseen either
            return YearVerdict("unsure", f"ngày văn bản ghi năm {signals.year} ({signals.date_text}) nhưng trích yếu "
                                         f"ghi năm {cycle}: có thể đọc sai ngày", ReasonCode.DATE_CONFLICT)
        return YearVerdict("earlier", f"hồ sơ của năm trước (ngày {signals.date_text})", ReasonCode.OTHER_YEAR)
    school_years = signals.head_school_years or signals.text_school_years
    newest = max(school_years) if school_years else None
    old = []
    if newest is not None and newest < cycle - 1:
        old.append(f"năm học {newest}-{newest + 1}")
    if signals.subject_years and max(signals.subject_years) < cycle - 1:
        old.append(f"năm {max(signals.subject_years)}")
    if old and signals.year is None:
        return YearVerdict("earlier", f"hồ sơ của năm trước ({old[0]})", ReasonCode.OTHER_YEAR)
    if old:
        return YearVerdict("unsure", f"văn bản ghi ngày {signals.date_text} nhưng nói về {old[0]}",
                           ReasonCode.OLD_SCHOOL_YEAR)
    if newest is not None and newest > cycle:
        return YearVerdict("unsure", f"nói về một năm học chưa tới (năm học {newest}-{newest + 1})",
                           ReasonCode.FUTURE_SCHOOL_YEAR)
    if signals.year is not None:
        return YearVerdict("ok", dated)
    return _undated(signals, cycle, received, newest, mail)


_LOST = "không đọc được ngày văn bản"


def _one_digit_off(year: int, cycle: int) -> bool:
    """Whether two years differ in one digit only (OCR reads a "2" of "2023" as "3" or "8")."""
    a, b = str(year), str(cycle)
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def _undated(signals: YearSignals, cycle: int, received: date, newest: int | None,
             mail: Sequence[int]) -> YearVerdict:
    """A document whose date line could not be read: other evidence of this cycle, or review."""
    lost = _LOST
    this_year = [d for d in signals.text_dates if d.year == cycle and d <= received]
    if signals.text_dates and not this_year and max(signals.text_dates).year < cycle:
        newest_date = max(signals.text_dates)
        return YearVerdict("unsure", f"{lost}; các ngày ghi trong văn bản đều trước năm {cycle} "
                                     f"(mới nhất {newest_date:%d/%m/%Y}): có thể là hồ sơ năm trước",
                           ReasonCode.UNDATED)
    if cycle in signals.subject_years:
        return YearVerdict("ok", f"{lost}; trích yếu ghi năm {cycle}")
    if this_year:
        return YearVerdict("ok", f"{lost}; trong văn bản có ngày {this_year[0]:%d/%m/%Y}")
    if newest is not None:
        return YearVerdict("ok", f"{lost}; văn bản nói về năm học {newest}-{newest + 1}")
    if cycle in mail:
        return YearVerdict("ok", f"{lost}; thư gửi kèm ghi năm {cycle}")
    return YearVerdict("unsure", f"{lost} và không thấy dấu hiệu nào cho biết là hồ sơ năm {cycle}",
                       ReasonCode.UNDATED)
