"""Inline forwards: the header block a client writes into the body, and the dates it prints."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from .limits import VIETNAM
from .text import one_line

# Explicit forward markers: always a forward.
_FORWARD_MARKER = re.compile(
    r"^[ \t>*]*(?:-{2,}[ \t]*(?:forwarded message|tin nhắn đã chuyển tiếp|thư đã chuyển tiếp|"
    r"thư chuyển tiếp)[ \t]*-{2,}|(?:begin forwarded message|bắt đầu tin nhắn được chuyển tiếp)"
    r"[ \t]*:|-{3,}[ \t]*forwarded message[ \t]*-{3,})",
    re.IGNORECASE | re.MULTILINE,
)
# Markers Outlook and phones also write above a quoted reply: only a forward
# when the subject is not a reply.
_ORIGINAL_MARKER = re.compile(
    r"^[ \t>*]*(?:-{2,}[ \t]*(?:original message|thư gốc|tin nhắn gốc)[ \t]*-{2,}|_{10,}[ \t]*$)",
    re.IGNORECASE | re.MULTILINE,
)
_OUTLOOK_BLOCK = re.compile(
    r"^[ \t>*]*(?:from|từ)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}[ \t>*]*(?:sent|đã gửi)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_FROM_LINE = re.compile(r"^(?:from|từ|người gửi)\s*:\s*(.+)$", re.IGNORECASE)
_DATE_LINE = re.compile(r"^(?:date|sent|ngày|đã gửi|ngày gửi|thời gian|gửi lúc)\s*:\s*(.+)$",
                        re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|tl|trả lời|aw|sv|antw)\s*:", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:re|tl)\s*:\s*)*(?:fwd?|tv|ct|chuyển tiếp|wg)\s*:", re.IGNORECASE)
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Original:
    """The sender of a forwarded message."""

    addr: str | None
    name: str
    date: datetime | None


def inline_forward(body: str, subject: str) -> Original | None:
    """Sender and date of the first forwarded message written into ``body``."""
    text = body[:100_000]
    starts = [m.end() for m in _FORWARD_MARKER.finditer(text)][:1]
    if not starts and (_FORWARD_SUBJECT.match(subject) or not _REPLY_SUBJECT.match(subject)):
        starts = [m.end() for m in _ORIGINAL_MARKER.finditer(text)][:1]
        starts += [m.start() for m in _OUTLOOK_BLOCK.finditer(text)][:1]
    for start in sorted(starts):
        found = _forward_block(text[start:start + 3_000])
        if found:
            return found
    return None


def _forward_block(text: str) -> Original | None:
    sender = date_text = None
    seen = 0
    for line in text.split("\n")[:25]:
        line = line.strip().lstrip(">").strip().replace("*", "")
        if not line:
            if seen:  # the header block ends at its first blank line
                break
            continue
        seen += 1
        if sender is None and (m := _FROM_LINE.match(line)):
            sender = m.group(1)
        elif date_text is None and (m := _DATE_LINE.match(line)):
            date_text = m.group(1)
    if sender is None:
        return None
    addr, name = _split_sender(sender)
    return Original(addr, name, _loose_date(date_text) if date_text else None)


def _split_sender(text: str) -> tuple[str | None, str]:
    """"Name <a@b>", "Name [mailto:a@b]", "a@b" or a bare name."""
    match = EMAIL.search(text)
    addr = match.group(0).lower() if match else None
    name = EMAIL.sub("", text) if match else text
    name = re.sub(r"\[mailto:\s*\]|<\s*>|\(\s*\)", "", name).strip(" \"'<>[]()\t")
    return addr, one_line(name, 300)


_MONTHS = {name: number for number, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
     "aug august", "sep sept september", "oct october", "nov november", "dec december"), 1)
    for name in names.split()}
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm|sa|ch|a\.m\.|p\.m\.)?", re.IGNORECASE)
_ZONE = re.compile(r"(?:gmt|utc)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?|([+-])(\d{2}):?(\d{2})\b",
                   re.IGNORECASE)
_DAY_MONTH_NAME = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})", re.IGNORECASE)
_MONTH_NAME_DAY = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.IGNORECASE)
_VIETNAMESE_DATE = re.compile(r"(\d{1,2})\s+(?:tháng|thg)\s+(\d{1,2})\s*,?\s*(?:năm\s+)?(\d{4})",
                              re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b(\d{1,4})[/.-](\d{1,2})[/.-](\d{2,4})\b")


def _loose_date(text: str) -> datetime | None:
    """A date as mail clients print it in a forward header, in any of their styles.

    Without a zone the forwarder's clock is taken to be Vietnam's (+07:00).
    Numeric dates are day first (Vietnamese usage) unless that is impossible.
    """
    text = unicodedata.normalize("NFC", text)[:200]
    try:
        value = parsedate_to_datetime(text)
        if value is not None and value.tzinfo is not None:
            return value
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    day_month_year = _loose_calendar_date(_TIME.sub(" ", text))
    if day_month_year is None:
        return None
    hour, minute, second = _loose_time(text)
    try:
        return datetime(day_month_year[2], day_month_year[1], day_month_year[0],
                        hour, minute, second, tzinfo=_loose_zone(text))
    except ValueError:
        return None


def _loose_calendar_date(text: str) -> tuple[int, int, int] | None:
    if m := _VIETNAMESE_DATE.search(text):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if (m := _MONTH_NAME_DAY.search(text)) and m.group(1).lower() in _MONTHS:
        return int(m.group(2)), _MONTHS[m.group(1).lower()], int(m.group(3))
    if (m := _DAY_MONTH_NAME.search(text)) and m.group(2).lower() in _MONTHS:
        return int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    if m := _NUMERIC_DATE.search(text):
        a, b, c = (int(x) for x in m.groups())
        if a > 31:  # ISO: year first
            return c, b, a
        year = c + 2000 if c < 100 else c
        return (b, a, year) if b > 12 else (a, b, year)
    return None


def _loose_time(text: str) -> tuple[int, int, int]:
    m = _TIME.search(text)
    if not m:
        return 0, 0, 0
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    meridiem = (m.group(4) or "").lower().replace(".", "")
    if meridiem in ("pm", "ch") and hour < 12:  # "CH" (chiều) is PM in Vietnamese
        hour += 12
    elif meridiem in ("am", "sa") and hour == 12:
        hour = 0
    return hour, minute, second


def _loose_zone(text: str) -> timezone:
    m = _ZONE.search(text)
    if not m:
        return VIETNAM
    sign, hours, minutes = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(4, 5, 6)
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=15):
        return VIETNAM
    return timezone(-delta if sign == "-" else delta)
