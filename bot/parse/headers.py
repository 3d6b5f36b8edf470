"""Headers: addresses and the Date (mail-parser), Message-IDs."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime


from .limits import ParseLimits
from .text import FOLD, header_text, one_line, strip_controls, unescape

MSG_ID = re.compile(r"<[^<>\s]+>")
_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to", "date")


@dataclass(frozen=True)
class Headers:
    """The headers of one message (the outer one, or a forwarded one)."""

    view: Message  # header-only copy, 8-bit decoded
    from_addr: str = ""
    from_name: str = ""
    reply_to: tuple[str, ...] = ()
    to_addrs: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None
    problems: tuple[str, ...] = ()
    from_count: int = 0  # addresses in the From header(s): more than one names no single author


def _header_view(msg: Message) -> Message:
    """A header-only copy of ``msg`` with raw 8-bit values decoded to text."""
    view = Message()
    for name, value in msg.raw_items():
        view[name] = unescape(value)
    return view


def read_headers(msg: Message, limits: ParseLimits) -> Headers:
    """The sender, recipients, subject and date of ``msg``, with what was wrong in them as ``problems``."""
    view = _header_view(msg)
    problems: list[str] = []
    addresses, mp_date = _mailparser_fields(view, problems)
    sender = addresses["from"][0] if addresses["from"] else ("", "")
    return Headers(
        view=view,
        from_addr=sender[1],
        from_name=sender[0],
        reply_to=tuple(addr for _, addr in addresses["reply-to"]),
        to_addrs=tuple(addr for _, addr in addresses["to"] + addresses["cc"]),
        subject=header_text(view.get("subject"), limits.max_header_chars),
        date=_date_header(view.get("date"), mp_date, problems),
        problems=tuple(problems),
        from_count=max(len(addresses["from"]), len(view.get_all("from") or [])),
    )


def _mailparser_fields(view: Message, problems: list[str]):
    """Addresses (display name, lower-case address) and the Date via mail-parser."""
    import mailparser  # not at the top: importing bot.parse (ParseLimits) must not cost 20 ms

    small = Message()
    for name in _ADDRESS_HEADERS:
        for value in view.get_all(name, []):
            small[name] = value
    try:
        parsed = mailparser.MailParser(small)
        # Documented attribute access: ``from_`` is the From header, and so on.
        raw = {"from": parsed.from_, "to": parsed.to, "cc": parsed.cc, "reply-to": parsed.reply_to}
        mp_date = parsed.date
    except Exception:  # mail-parser failed: fall back to the stdlib
        raw = {name: getaddresses(view.get_all(name, [])) for name in ("from", "to", "cc", "reply-to")}
        mp_date = None
        problems.append("address headers are malformed; read them with the basic parser")
    return {name: _clean_addresses(pairs) for name, pairs in raw.items()}, mp_date


def _clean_addresses(pairs) -> list[tuple[str, str]]:
    result = []
    for name, addr in pairs or []:
        addr = strip_controls(str(addr)).strip().strip("<>").lower()
        if addr:
            result.append((header_text(name).strip("\"' "), addr))
    return result


def _date_header(raw: str | None, mp_date: datetime | None, problems: list[str]) -> datetime | None:
    """Aware datetime of a Date header, with the sender's own UTC offset.

    mail-parser validates (a wrong hour gives None, not a guess); the stdlib
    keeps the offset exactly and reads a few forms mail-parser refuses.
    """
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(one_line(raw, 200))
        if value.tzinfo is None:  # "-0000": time zone unknown, the instant is UTC
            value = value.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        value = None
    if mp_date is not None and (value is None or value != mp_date):
        value = mp_date.astimezone(timezone.utc)
    if value is None:
        problems.append(f"Date header could not be read: {one_line(raw, 60)!r}")
    return value


MAX_HEADER_BYTES = 256 * 1024  # a returned header block read for its Message-ID
_RETURNED_ID = re.compile(r"(?im)^[ \t>]*message-id[ \t]*:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]{1,900}>)")


def returned_message_ids(text: str) -> list[str]:
    """The Message-ID header lines in a header block (or in a copy of a message in a text)."""
    return _RETURNED_ID.findall(text[:MAX_HEADER_BYTES])


def message_id_of(value: str | None) -> str:
    """The first Message-ID of a header value (the value itself when none is well formed), without controls."""
    text = FOLD.sub("", unescape(value or "")).strip()
    ids = MSG_ID.findall(text)
    return strip_controls(ids[0] if ids else text)[:998]
