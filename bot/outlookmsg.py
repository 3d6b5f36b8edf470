"""An Outlook .msg file (a mail saved from Outlook, or attached by it) turned
into an ordinary RFC 5322 message, so the parser reads it like any mail.
Pure: bytes in, bytes out; raises ``MsgUnreadable`` with a reason.

A .msg is an OLE compound file of MAPI properties ([MS-OXMSG]): each
property is a stream ``__substg1.0_<id><type>`` (type 001F UTF-16 text,
001E 8-bit text, 0102 bytes), each attachment a storage
``__attach_version1.0_#<n>`` with its own properties. ``olefile`` (the
standard, pure-Python OLE reader) reads the container, with malformed
structures raised as errors rather than guessed around; the few
properties a mail needs are read here.

Why not extract-msg: it reads far more (RTF bodies, named properties,
signed mail) but brings fourteen packages, a GUI toolkit among them, into
the worker that parses hostile mail. What the bot needs is the sender, the
dates, the text and the attachments.

Nothing from inside the file is trusted as the receiving server's word:
of its transport headers only the sender, recipients, dates, subject and
ids are kept (never Authentication-Results or Received).
"""
from __future__ import annotations

import io
import struct
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import HeaderParser
from email import policy as email_policy
from email.utils import format_datetime, formataddr

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Transport headers kept from inside the file (the rest is the original's MIME
# structure, or a server's word that the file cannot vouch for).
_KEPT_HEADERS = ("from", "sender", "reply-to", "to", "cc", "date", "message-id", "subject", "in-reply-to",
                 "references")
_SUBJECT, _BODY, _HTML, _HEADERS = 0x0037, 0x1000, 0x1013, 0x007D
_SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP, _DISPLAY_TO = 0x0C1A, 0x0C1F, 0x5D01, 0x0E04
_SUBMIT_TIME, _DELIVERY_TIME = 0x0039, 0x0E06
_ATTACH_LONG_NAME, _ATTACH_NAME, _ATTACH_DISPLAY, _ATTACH_DATA, _ATTACH_MIME = 0x3707, 0x3704, 0x3001, 0x3701, 0x370E
_EMBEDDED = "__substg1.0_3701000D"  # an attachment that is itself a message


class MsgUnreadable(ValueError):
    """The file is not a .msg that can be read; the message says why (English)."""


def is_msg(data: bytes) -> bool:
    return data[:8] == OLE_SIGNATURE


def to_rfc822(data: bytes, *, max_attachments: int = 50, max_bytes: int = 60 * 1024 * 1024) -> tuple[bytes, list[str]]:
    """The .msg in ``data`` as RFC 5322 bytes, and the names of the attachments
    that were left out (an attached message inside it, a link to a file).
    Raises ``MsgUnreadable`` when the container or its properties cannot be read."""
    try:
        import olefile
    except ImportError as exc:  # a dependency (pyproject.toml): only a broken install lacks it
        raise MsgUnreadable("olefile is not installed") from exc
    try:
        ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    except Exception as exc:  # olefile raises OSError and others on a malformed container
        raise MsgUnreadable(f"not a readable OLE file ({type(exc).__name__})") from None
    try:
        return _Reader(ole, max_attachments, max_bytes).message()
    except MsgUnreadable:
        raise
    except Exception as exc:
        raise MsgUnreadable(f"unreadable MAPI properties ({type(exc).__name__})") from None
    finally:
        ole.close()


class _Reader:
    def __init__(self, ole, max_attachments: int, max_bytes: int):
        self.ole = ole
        self.max_attachments = max_attachments
        self.max_bytes = max_bytes

    def stream(self, path: str) -> bytes | None:
        if not self.ole.exists(path):
            return None
        if self.ole.get_size(path) > self.max_bytes:
            raise MsgUnreadable(f"stream {path} is larger than the attachment limit")
        return self.ole.openstream(path).read()

    def text(self, prop: int, storage: str = "") -> str:
        for kind, decode in (("001F", lambda b: b.decode("utf-16-le", "replace")), ("001E", _decode_8bit)):
            raw = self.stream(f"{storage}__substg1.0_{prop:04X}{kind}")
            if raw is not None:
                return decode(raw).rstrip("\x00")
        return ""

    def binary(self, prop: int, storage: str = "") -> bytes | None:
        return self.stream(f"{storage}__substg1.0_{prop:04X}0102")

    def message(self) -> tuple[bytes, list[str]]:
        if not self.ole.exists(f"__substg1.0_{_SUBJECT:04X}001F") and not self.ole.exists("__properties_version1.0"):
            raise MsgUnreadable("an OLE file without mail properties (a Word or Excel file?)")
        headers = self.headers()
        body = self.text(_BODY)
        html = "" if body else _decode_8bit(self.binary(_HTML) or b"")
        text = MIMEText(body or html, "html" if html and not body else "plain", "utf-8")
        attachments, left_out = self.attachments()
        root = MIMEMultipart("mixed") if attachments else text
        if attachments:
            root.attach(text)
            for part in attachments:
                root.attach(part)
        for name, value in headers:
            root[name] = value if value.isascii() else Header(value, "utf-8")
        return root.as_bytes(policy=email_policy.compat32), left_out

    def headers(self) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        transport = self.text(_HEADERS)
        if transport:
            parsed = HeaderParser(policy=email_policy.compat32).parsestr(transport[:256 * 1024])
            for name in _KEPT_HEADERS:
                value = parsed.get(name)
                if value is not None:
                    found[name] = " ".join(str(value).split())
        if "from" not in found:
            address = self.text(_SENDER_SMTP) or self.text(_SENDER_EMAIL)
            if "@" in address:
                found["from"] = formataddr((self.text(_SENDER_NAME), address), charset="utf-8")
        if "subject" not in found:
            found["subject"] = self.text(_SUBJECT)
        if "date" not in found:
            when = self.time(_SUBMIT_TIME) or self.time(_DELIVERY_TIME)
            if when:
                found["date"] = format_datetime(when)
        return [(name.title().replace("Id", "ID"), value) for name, value in found.items() if value]

    def time(self, prop: int) -> datetime | None:
        """A PT_SYSTIME property of the message, from its fixed-size property stream."""
        raw = self.stream("__properties_version1.0") or b""
        for offset in range(32, len(raw) - 15, 16):  # a 32-byte header, then 16 bytes a property
            tag, _, value = struct.unpack_from("<IIQ", raw, offset)
            if tag == (prop << 16) | 0x0040 and 0 < value < 2 ** 63:
                return datetime(1601, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=value // 10)
        return None

    def attachments(self) -> tuple[list, list[str]]:
        storages = sorted({entry[0] for entry in self.ole.listdir(streams=True, storages=True)
                           if entry and entry[0].lower().startswith("__attach_version1.0_#")})
        parts, left_out = [], []
        for storage in storages[:self.max_attachments + 1]:
            prefix = f"{storage}/"
            name = (self.text(_ATTACH_LONG_NAME, prefix) or self.text(_ATTACH_NAME, prefix)
                    or self.text(_ATTACH_DISPLAY, prefix))
            if self.ole.exists(prefix + _EMBEDDED):
                left_out.append(name or "(thư Outlook đính kèm)")
                continue
            data = self.binary(_ATTACH_DATA, prefix)
            if data is None:
                left_out.append(name or "(tệp đính kèm không có dữ liệu)")
                continue
            part = MIMEApplication(data, _subtype=_subtype(self.text(_ATTACH_MIME, prefix)))
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name or "attachment"))
            parts.append(part)
        return parts, left_out


def _subtype(mime: str) -> str:
    """The subtype for MIMEApplication (the parser types files by name when this is vague)."""
    main, _, sub = mime.strip().lower().partition("/")
    return sub if main == "application" and sub and sub.replace(".", "").replace("-", "").replace("+", "").isalnum() \
        else "octet-stream"


def _decode_8bit(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1258"):
        try:
            return raw.decode(encoding).rstrip("\x00")
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", "replace").rstrip("\x00")
