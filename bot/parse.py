"""Parse one raw email into a ``ParsedMessage``: who sent it, its text, its documents.

``parse_message(data)`` is a pure function that never raises, whatever the
bytes: everything that goes wrong becomes a line in ``problems`` or a
``Skipped`` entry with a reason a coordinator can read.

Which library does what, and why
--------------------------------
* **The standard library parses the MIME tree, once**
  (``email.parser.BytesParser`` with ``policy=compat32``). compat32 keeps
  each header exactly as received (raw 8-bit bytes survive as surrogate
  escapes, so a cp1258 file name can still be recovered), never raises when
  a malformed header is read (the default policy's header registry parses
  lazily and can raise on access), and is the faster of the two.
* **mail-parser reads the address and date headers.** ``MailParser`` is
  given a small header-only message (From, To, Cc, Reply-To, Date) whose
  8-bit bytes we have already decoded. Its address parser recovers
  mailboxes from malformed headers and decodes display names in their
  lexical context (a quoted comma in "Phòng GD, Q12" is not a separator),
  and its date parser validates every field and explains failures.
  mail-parser is *not* allowed to walk the MIME tree: it base64-re-encodes
  every attachment (wasted time on a 5 MB scan), names inline images after
  their Content-ID, decodes raw 8-bit names as UTF-8 only (cp1258 is
  lost), and knows nothing of containers (ZIP, forwarded mail, TNEF), of
  limits or of forwarding depth.
* **Our own code** does what neither offers: file names in every client's
  encoding (RFC 2231, RFC 2047 inside quotes, raw UTF-8/cp1258, cp437 in
  ZIPs) normalised to NFC; ZIP expansion with bomb limits (``zipfile``);
  a small bounded TNEF (winmail.dat) reader; HTML to text
  (``html.parser``, nothing fetched); inline-forward detection; automatic
  mail, delivery reports and Authentication-Results.

Why not tnefparse: it loops over a 32-bit property count taken from the file
without checking it against the data (a 20-byte winmail.dat keeps it busy
for hours), and its ``name`` raises on non-UTF-8 names. The attachment part
of TNEF is small enough to read ourselves with every count bounded.

Containers chain with " > ", e.g. ``rfc822:Fwd: Hồ sơ > zip:hoso.zip``.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy as email_policy
from email.message import Message
from email.feedparser import BytesFeedParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import unquote

from .model import Attachment, ParsedMessage, Skipped

MB = 1024 * 1024
VIETNAM = timezone(timedelta(hours=7), "+07:00")  # Asia/Ho_Chi_Minh: no DST


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep one hostile or broken message cheap to parse, and
    the one thing the parser may trust in it (``trusted_authserv_ids``)."""

    max_attachments: int = 50  # documents kept per message; more are skipped
    max_attachment_bytes: int = 60 * MB  # one document, after decoding
    max_depth: int = 5  # forwarded messages (message/rfc822) inside each other
    max_parts: int = 500  # MIME parts read in one message
    # The stdlib parser costs (nesting depth x lines); past this budget only
    # the headers are read (a 100-deep 4 MB message would take ~2 s).
    max_parse_cost: int = 8_000_000
    max_zip_members: int = 50
    max_zip_total_bytes: int = 100 * MB  # all ZIPs of the message together
    max_zip_ratio: int = 100  # uncompressed:compressed, per member...
    zip_ratio_floor: int = 1 * MB  # ...for members larger than this
    max_zip_depth: int = 2  # archives (ZIP, TNEF) inside each other: a ZIP in a ZIP is read, no deeper
    max_tnef_objects: int = 10_000
    max_body_chars: int = 200_000
    max_html_chars: int = 2_000_000  # HTML converted to text (the rest ignored)
    max_header_chars: int = 1_000  # subject, names
    # The authserv-ids (first token of Authentication-Results) of the office's
    # own receiving servers, lower case ([mailbox] trusted_authserv_ids). Only
    # their headers are read; any other was written by someone else, maybe the
    # sender. Empty: every mail has auth "none" (RFC 8601 sections 5 and 7.1).
    trusted_authserv_ids: tuple[str, ...] = ()


def parse_message(data: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage:
    """Parse raw RFC 5322 bytes into a ``ParsedMessage``; never raises.

    Problems (truncated MIME, unknown charsets, unreadable dates...) are
    reported in ``problems``; parts that are not documents or could not be
    read are listed in ``skipped`` with a reason.
    """
    try:
        return _MessageParser(bytes(data), limits).parse()
    except Exception as exc:  # last line of defence: one bad mail must not stop the bot
        return ParsedMessage(
            message_id="",
            from_addr="",
            problems=(f"không đọc được thư ({type(exc).__name__}); cần mở thư ra xem",),
            incomplete=(f"không đọc được thư ({type(exc).__name__}); cần mở thư ra xem",),
        )


# --------------------------------------------------------------------------
# Text: charsets, RFC 2047 encoded-words, control characters
# --------------------------------------------------------------------------

# MIME names Python does not know, seen in real mail.
_CHARSET_ALIASES = {"ks_c_5601-1987": "cp949", "gb2312": "gb18030", "x-gbk": "gb18030",
                    "iso-8859-8-i": "iso8859-8", "windows-874": "cp874"}
# Single-byte codecs: valid UTF-8 bytes labelled with one of these are UTF-8
# (old clients label UTF-8 text "iso-8859-1"; the reverse never validates).
_SINGLE_BYTE = ("ascii", "iso8859", "cp12", "cp43", "cp85", "mac-", "latin")
# Control characters: C0, DEL, C1, and bidi overrides that disguise names
# ("fdp.exe" shown as "exe.pdf").
_CONTROLS = dict.fromkeys(
    [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n$")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _codec(charset: str | None) -> str | None:
    """Python's codec name for a MIME charset, or None if unknown or not text."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").split("*")[0].lower()  # RFC 2231 language suffix
    name = _CHARSET_ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _decode_8bit(raw: bytes) -> str:
    """Undeclared 8-bit bytes: UTF-8, else Windows-1258 (Vietnamese), else UTF-8 with U+FFFD."""
    for encoding in ("utf-8", "cp1258"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", "replace")


def _decode_bytes(raw: bytes, charset: str | None = None) -> str:
    """Decode bytes declared in ``charset``, falling back sensibly when it lies."""
    codec = _codec(charset)
    if codec and not _mislabelled_utf8(codec, raw):
        try:
            return raw.decode(codec)
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass  # wrong declaration: guess like for undeclared bytes
    return _decode_8bit(raw)


def _mislabelled_utf8(codec: str, raw: bytes) -> bool:
    """True when bytes declared in a single-byte or UTF-16/32 charset are really UTF-8."""
    # UTF-16/32 text always holds NUL bytes (every ASCII letter has one).
    wide = codec.startswith(("utf-16", "utf-32")) and b"\x00" not in raw
    if not wide and (not codec.startswith(_SINGLE_BYTE) or raw.isascii()):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unescape(value: object) -> str:
    """A header value as read by compat32 -> text, raw 8-bit bytes decoded."""
    text = str(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # surrogate escapes stand for raw 8-bit bytes
        return _decode_8bit(text.encode("utf-8", "surrogateescape"))


def _word_bytes(kind: str, payload: str) -> bytes:
    if kind in "qQ":
        return binascii.a2b_qp(payload.encode("utf-8"), header=True)
    return _lenient_b64(payload)


def _lenient_b64(text: str) -> bytes:
    """Base64 read as mail clients read it: padding repaired, junk dropped."""
    data = re.sub(r"[^A-Za-z0-9+/]", "", text.split("=", 1)[0])
    if len(data) % 4 == 1:
        data = data[:-1]
    return base64.b64decode(data + "=" * (-len(data) % 4))


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words anywhere in ``text``, even inside quotes.

    Adjacent words in one charset are joined before decoding, because some
    clients split a multi-byte character across two words.
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""

    def flush() -> None:
        if pending:
            out.append(_decode_bytes(b"".join(pending), pending_charset))
            pending.clear()

    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos:match.start()]
        pos = match.end()
        if gap and not (gap.isspace() and pending):  # space between words is dropped
            flush()
            out.append(gap)
        charset = match.group(1).split("*")[0].lower()
        if pending and charset != pending_charset:
            flush()
        try:
            pending.append(_word_bytes(match.group(2), match.group(3)))
        except (binascii.Error, ValueError):
            flush()
            out.append(match.group(0))
        pending_charset = charset
    flush()
    out.append(text[pos:])
    return "".join(out)


def _strip_controls(text: str) -> str:
    return text.translate(_CONTROLS)


def _one_line(text: str, limit: int) -> str:
    """Single-line display text: unfolded, controls removed, NFC, bounded."""
    text = _strip_controls(re.sub(r"[\t\r\n]+", " ", text))
    return unicodedata.normalize("NFC", _SPACES.sub(" ", text)).strip()[:limit]


def _header_text(value: object, limit: int = 1_000) -> str:
    """A header's text: 8-bit bytes and encoded-words decoded, NFC."""
    if value is None:
        return ""
    return _one_line(_decode_words(_FOLD.sub("", _unescape(value))), limit)


def _clean_filename(name: str) -> str:
    """NFC, controls (CR, LF, NUL, bidi) removed; the text is kept otherwise.

    The name is only ever shown, never used as a path, so separators stay.
    """
    return unicodedata.normalize("NFC", _strip_controls(name)).strip()[:255]


# --------------------------------------------------------------------------
# Headers: addresses, dates, ids (mail-parser for addresses and dates)
# --------------------------------------------------------------------------

_MSG_ID = re.compile(r"<[^<>\s]+>")
_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to", "date")


@dataclass(frozen=True)
class _Headers:
    """The headers of one message (the outer one, or a forwarded one)."""

    view: Message  # header-only copy, 8-bit decoded
    from_addr: str = ""
    from_name: str = ""
    reply_to: tuple[str, ...] = ()
    to_addrs: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None
    problems: tuple[str, ...] = ()


def _header_view(msg: Message) -> Message:
    """A header-only copy of ``msg`` with raw 8-bit values decoded to text."""
    view = Message()
    for name, value in msg.raw_items():
        view[name] = _unescape(value)
    return view


def _read_headers(msg: Message, limits: ParseLimits) -> _Headers:
    view = _header_view(msg)
    problems: list[str] = []
    addresses, mp_date = _mailparser_fields(view, problems)
    sender = addresses["from"][0] if addresses["from"] else ("", "")
    return _Headers(
        view=view,
        from_addr=sender[1],
        from_name=sender[0],
        reply_to=tuple(addr for _, addr in addresses["reply-to"]),
        to_addrs=tuple(addr for _, addr in addresses["to"] + addresses["cc"]),
        subject=_header_text(view.get("subject"), limits.max_header_chars),
        date=_date_header(view.get("date"), mp_date, problems),
        problems=tuple(problems),
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
        addr = _strip_controls(str(addr)).strip().strip("<>").lower()
        if addr:
            result.append((_header_text(name).strip("\"' "), addr))
    return result


def _date_header(raw: str | None, mp_date: datetime | None, problems: list[str]) -> datetime | None:
    """Aware datetime of a Date header, with the sender's own UTC offset.

    mail-parser validates (a wrong hour gives None, not a guess); the stdlib
    keeps the offset exactly and reads a few forms mail-parser refuses.
    """
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(_one_line(raw, 200))
        if value.tzinfo is None:  # "-0000": time zone unknown, the instant is UTC
            value = value.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        value = None
    if mp_date is not None and (value is None or value != mp_date):
        value = mp_date.astimezone(timezone.utc)
    if value is None:
        problems.append(f"Date header could not be read: {_one_line(raw, 60)!r}")
    return value


def _message_id(value: str | None) -> str:
    text = _FOLD.sub("", _unescape(value or "")).strip()
    ids = _MSG_ID.findall(text)
    return _strip_controls(ids[0] if ids else text)[:998]


# --------------------------------------------------------------------------
# MIME parts: views, file names, content types
# --------------------------------------------------------------------------

_MIME_HEADERS = frozenset({"content-type", "content-disposition", "content-id", "content-transfer-encoding"})
_EXT_TYPES = {
    ".pdf": "application/pdf", ".doc": "application/msword", ".rtf": "application/rtf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text", ".txt": "text/plain",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".tif": "image/tiff", ".tiff": "image/tiff", ".heic": "image/heic", ".bmp": "image/bmp",
    ".webp": "image/webp", ".zip": "application/zip", ".rar": "application/vnd.rar",
    ".7z": "application/x-7z-compressed", ".eml": "message/rfc822", ".htm": "text/html",
    ".html": "text/html", ".xml": "application/xml", ".csv": "text/csv",
}
_VAGUE_TYPES = frozenset({"", "application/octet-stream", "application/x-download",
                          "application/force-download", "binary/octet-stream", "application/unknown"})
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})
_ZIP_BASED = frozenset({".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".jar", ".apk", ".epub"})
_ARCHIVES = {".rar": "rar", ".7z": "7z", ".tar": "tar", ".gz": "gz", ".tgz": "tgz",
             ".bz2": "bz2", ".xz": "xz", ".zst": "zst", ".cab": "cab", ".arj": "arj"}
_ARCHIVE_TYPES = {"application/x-rar-compressed": "rar", "application/vnd.rar": "rar",
                  "application/x-rar": "rar", "application/x-7z-compressed": "7z",
                  "application/gzip": "gz", "application/x-gzip": "gz", "application/x-tar": "tar"}
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_SIGNATURE_TYPES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature",
                              "application/pgp-signature"})
_ENCRYPTED_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime",
                              "application/pgp-encrypted"})
_REPORT_PARTS = frozenset({"text/rfc822-headers", "message/disposition-notification",
                           "message/feedback-report"})


def _mime_view(part: Message) -> Message:
    """The part's MIME headers with raw 8-bit bytes decoded (get_param on the
    part itself would turn them into U+FFFD)."""
    view = Message()
    view.set_default_type(part.get_default_type())
    for name, value in part.raw_items():
        if name.lower() in _MIME_HEADERS:
            view[name] = _unescape(value)
    return view


def _param(view: Message, name: str, header: str) -> str | None:
    """One parameter, decoded: RFC 2231 (with continuations), RFC 2047, 8-bit."""
    try:
        value = view.get_param(name, None, header)
    except Exception:  # a mangled header must not lose the whole part
        return None
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded latin-1 text)
        charset, _, text = value
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:  # raw 8-bit inside a 2231 value, already decoded
            raw = text.encode("utf-8")
        return _decode_bytes(raw, charset or "utf-8")
    return _decode_words(_FOLD.sub("", str(value)))


def _filename(view: Message) -> str | None:
    """The part's file name as the sender wrote it, or None if it has none."""
    for name, header in (("filename", "content-disposition"), ("name", "content-type")):
        value = _param(view, name, header)
        if value and value.strip():
            return _clean_filename(value)
    return None


def _content_id(view: Message) -> str:
    return _one_line(_unescape(view.get("content-id", "")), 300).strip("<> ").lower()


def _extension(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1].lower()
    return base[base.rfind("."):] if "." in base else ""


def _type_for(name: str, declared: str = "") -> str:
    """The declared content type, or one from the extension when it says nothing."""
    declared = declared.lower()
    if declared in _VAGUE_TYPES:
        return _EXT_TYPES.get(_extension(name), declared or "application/octet-stream")
    return declared


def _raw_payload(part: Message):
    """The payload before transfer decoding (str, or a list for containers).

    ``get_payload()`` applies the declared charset to 8-bit text, and a bogus
    charset name (one with a NUL, say) makes it raise; then take the bytes.
    """
    _Elided.restore(part)
    try:
        return part.get_payload()
    except (LookupError, UnicodeError, ValueError, TypeError):
        return _payload_bytes(part)


_CONTAINER_TYPES = re.compile(rb"multipart/|message/rfc822", re.I)
_CLEAN_BASE64 = re.compile(r"[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*")


def _stdlib_parse(data: bytes, headersonly: bool = False) -> Message:
    """``BytesParser(policy=compat32).parsebytes(data)``, with less memory.

    ``parsebytes`` decodes the whole mail to one str and wraps it in a
    StringIO (4 bytes a character), about 6 times the size of the mail at
    once; it then feeds the parser 8 KB at a time, as this does (the same
    parser, the same result), without those copies. In a large mail, long
    runs of base64 lines are also set aside (``_Elided``): the parser keeps
    each body as a list of lines, then joins them, which costs more than
    three times the attachment.
    """
    elided = _Elided.prepare(data) if len(data) >= _ELIDE_FROM and not headersonly else None
    source = elided.skeleton if elided else data
    feeder = BytesFeedParser(policy=email_policy.compat32)
    if headersonly:
        feeder._set_headersonly()  # what Parser.parse does for headersonly=True
    view = memoryview(source)
    for start in range(0, len(source), 1 << 16):
        feeder.feed(bytes(view[start:start + (1 << 16)]))
    root = feeder.close()
    if elided:
        elided.attach(root)
    return root


_ELIDE_FROM = 4 * 1024 * 1024  # mails smaller than this are parsed as they are
# At least 8192 whole lines of base64 characters (about 600 KB), from a line start.
# Atomic and possessive: a plain repeat keeps a backtracking record per line (160 MB for 70 MB).
_BASE64_RUN = re.compile(rb"(?m)^(?>[A-Za-z0-9+/=]{40,998}\r?\n){8192,}+")


class _Elided:
    """Long base64 runs of one mail, replaced by a token line before the parse.

    A part whose payload holds tokens gets this object as ``_bot_elided``.
    Its base64 is decoded straight from the mail's bytes (``decode``); any
    other use of the payload first puts the original text back (``restore``),
    so that everything else sees exactly what the stdlib would have given.
    """

    def __init__(self, data: bytes, nonce: str):
        self.data = data
        self.token = re.compile(f"\x00elided-{nonce}-(\\d+)\x00")
        self.nonce = nonce
        self.runs: list[tuple[int, int, bytes]] = []  # (start, end, line ending of the last line)
        self.skeleton = b""

    @classmethod
    def prepare(cls, data: bytes) -> "_Elided | None":
        import os

        nonce = os.urandom(8).hex()
        if nonce.encode() in data:
            return None
        elided = cls(data, nonce)
        pieces, last = [], 0
        for match in _BASE64_RUN.finditer(data):
            ending = b"\r\n" if data[match.end() - 2:match.end()] == b"\r\n" else b"\n"
            pieces += [data[last:match.start()], f"\x00elided-{nonce}-{len(elided.runs)}\x00".encode() + ending]
            elided.runs.append((match.start(), match.end(), ending))
            last = match.end()
        if not elided.runs:
            return None
        pieces.append(data[last:])
        elided.skeleton = b"".join(pieces)
        return elided

    def attach(self, root: Message) -> None:
        for part in root.walk():
            payload = part._payload
            if isinstance(payload, str) and self.token.search(payload):
                part._bot_elided = self

    def _pieces(self, payload: str):
        """The payload as (literal text, None) and (None, (start, end)) pieces, in order."""
        last = 0
        for match in self.token.finditer(payload):
            start, end, ending = self.runs[int(match.group(1))]
            yield payload[last:match.start()], None
            last = match.end()
            if payload[last:last + len(ending)] == ending.decode():
                last += len(ending)  # the token line's ending stands for the run's last one
            else:
                end -= len(ending)  # the parser took it: it belongs to the boundary that follows
            yield None, (start, end)
        yield payload[last:], None

    def original(self, payload: str) -> str:
        return "".join(text if text is not None else self.data[span[0]:span[1]].decode("ascii", "surrogateescape")
                       for text, span in self._pieces(payload))

    @staticmethod
    def restore(part: Message) -> None:
        elided = part.__dict__.pop("_bot_elided", None)
        if elided is not None:
            part._payload = elided.original(part._payload)

    def measure(self, payload: str) -> tuple[int, int]:
        """(length, line breaks and spaces) of the original payload, without rebuilding it."""
        length = breaks = 0
        for text, span in self._pieces(payload):
            if text is not None:
                length += len(text)
                breaks += text.count("\n") + text.count("\r") + text.count(" ")
            else:
                length += span[1] - span[0]
                breaks += sum(self.data.count(c, *span) for c in (b"\n", b"\r", b" "))
        return length, breaks

    def decode(self, payload: str) -> bytes | None:
        """The base64 payload decoded from one contiguous stretch of the mail, or
        None when it is not one clean, padded stretch (then: restore)."""
        pieces = list(self._pieces(payload))
        spans = [span for text, span in pieces if span is not None]
        if len(spans) != 1 or len(pieces) != 3:
            return None
        head = pieces[0][0].encode("ascii", "surrogateescape")
        tail = pieces[2][0].encode("ascii", "surrogateescape")
        start, end = spans[0][0] - len(head), spans[0][1] + len(tail)
        if start < 0 or self.data[start:spans[0][0]] != head or self.data[spans[0][1]:end] != tail:
            return None
        region = memoryview(self.data)[start:end]
        if not _CLEAN_BASE64_BYTES.fullmatch(region):
            return None
        if (end - start - self.data.count(b"\r", start, end) - self.data.count(b"\n", start, end)) % 4:
            return None
        return binascii.a2b_base64(region)


_CLEAN_BASE64_BYTES = re.compile(rb"[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*")


def _payload_bytes(part: Message) -> bytes:
    """The decoded payload. A well-formed base64 body (only base64 characters
    and line breaks, padded) is decoded in one step: ``get_payload(decode=True)``
    would copy it three times first (a 50 MB file cost 300 MB); anything else
    takes the stdlib's path, with the defects it records."""
    payload = part._payload  # get_payload() would copy it once more to look for surrogates
    elided = part.__dict__.get("_bot_elided")
    if elided is not None:
        if str(part.get("content-transfer-encoding", "")).lower() == "base64":
            data = elided.decode(payload)
            if data is not None:
                return data
        _Elided.restore(part)
        payload = part._payload
    if (isinstance(payload, str) and str(part.get("content-transfer-encoding", "")).lower() == "base64"
            and _CLEAN_BASE64.fullmatch(payload)
            and (len(payload) - payload.count("\r") - payload.count("\n")) % 4 == 0):
        return binascii.a2b_base64(payload)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _decoded_size(part: Message) -> int:
    """The decoded size, estimated without decoding (so a huge part is never copied)."""
    elided = part.__dict__.get("_bot_elided")
    if elided is not None:
        length, breaks = elided.measure(part._payload)
        if str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
            return length
        return (length - breaks) * 3 // 4
    payload = _raw_payload(part)
    if not isinstance(payload, (str, bytes)):
        return 0
    if str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
        return len(payload)
    breaks = payload.count("\n") + payload.count("\r") + payload.count(" ")
    return (len(payload) - breaks) * 3 // 4


def _human_size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size // 1024} KB"


# --------------------------------------------------------------------------
# HTML to text
# --------------------------------------------------------------------------

class _HtmlText(HTMLParser):
    """Visible text of an HTML body; scripts and styles dropped, nothing fetched."""

    _HIDDEN = frozenset({"script", "style", "title", "template"})
    _BLOCKS = frozenset({"p", "div", "br", "tr", "table", "blockquote", "hr", "ul", "ol", "pre",
                         "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
                         "footer", "dt", "dd", "address", "center"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS and tag != "br":  # <br/> is one break, not two
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            # Source line breaks are not visible in HTML; tags make the lines.
            self.chunks.append(re.sub(r"\s+", " ", data))


def _html_to_text(html: str, limit: int) -> str:
    parser = _HtmlText()
    try:
        parser.feed(html[:limit])
        parser.close()
        text = "".join(parser.chunks)
    except Exception:  # html.parser gave up: drop the tags bluntly
        import html as html_module
        text = html_module.unescape(re.sub(r"<[^>]*>", " ", html[:limit]))
    return "\n".join(line.strip() for line in text.split("\n"))


def _tidy_body(text: str, limit: int) -> str:
    """NFC, no control characters but newlines and tabs, blank lines collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.translate({k: None for k in _CONTROLS if k not in (9, 10)})
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return unicodedata.normalize("NFC", text)[:limit]


# --------------------------------------------------------------------------
# ZIP archives
# --------------------------------------------------------------------------

class _ZipRejected(Exception):
    """The archive breaks a limit: none of its members is kept."""


@dataclass
class _ZipResult:
    files: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    used: int = 0  # bytes taken from the message's ZIP budget


def _zip_declared_entries(data: bytes) -> int | None:
    """Entry count from the End Of Central Directory, read before zipfile
    builds an object per entry (a million tiny entries cost memory)."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return None
    count = struct.unpack_from("<H", data, pos + 10)[0]
    return None if count == 0xFFFF else count  # 0xFFFF: ZIP64, zipfile reads the real count


def _unicode_path_extra(info: zipfile.ZipInfo) -> str | None:
    """Info-ZIP Unicode Path extra field (0x7075): the UTF-8 name some tools add."""
    extra, pos = info.extra, 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author saw it, without folders.

    Without the UTF-8 flag zipfile decodes cp437; Vietnamese names were
    really UTF-8 (macOS, Linux, 7-Zip) or cp1258 (Windows), so re-decode.
    """
    name = info.filename
    if not info.flag_bits & 0x800:
        name = _unicode_path_extra(info) or name
        if name == info.filename:
            raw = info.filename.encode("cp437", "replace")
            for encoding in ("utf-8", "cp1258"):
                try:
                    name = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    pass
    base = [piece for piece in re.split(r"[\\/]", name) if piece not in ("", ".", "..")]
    return _clean_filename(base[-1] if base else name)


def _is_os_metadata(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or base.startswith("._") or base in (".DS_Store", "Thumbs.db")


def _read_zip(data: bytes, limits: ParseLimits, budget: int) -> _ZipResult:
    """Members of a ZIP, within the limits; raises _ZipRejected for a bomb.

    Sizes are checked as declared, then again while inflating, so a header
    that lies about them cannot make us hold more than the limits.
    """
    declared = _zip_declared_entries(data)
    if declared is not None and declared > 4 * limits.max_zip_members + 16:
        raise _ZipRejected(f"chứa {declared} tệp (giới hạn {limits.max_zip_members})")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            struct.error, NotImplementedError, UnicodeError) as exc:
        raise _ZipRejected(f"không phải tệp ZIP đọc được ({exc})") from None
    infos = [i for i in archive.infolist() if not i.is_dir() and not _is_os_metadata(i.filename)]
    _check_declared_sizes(infos, limits, budget)
    result = _ZipResult()
    for info in infos:
        _read_member(archive, info, limits, budget, result)
    return result


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: ParseLimits, budget: int) -> None:
    if len(infos) > limits.max_zip_members:
        raise _ZipRejected(f"chứa {len(infos)} tệp (giới hạn {limits.max_zip_members})")
    total = sum(i.file_size for i in infos)
    if total > budget:
        limit = _human_size(limits.max_zip_total_bytes)
        raise _ZipRejected(f"giải nén ra {_human_size(total)} " + (
            f"(giới hạn {limit})" if budget == limits.max_zip_total_bytes else
            f"(chỉ còn {_human_size(budget)} trong {limit} cho phép cho mọi tệp ZIP của một thư)"))
    for info in infos:
        if _ratio_exceeded(info.file_size, info.compress_size, limits):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _ZipRejected(f"'{_zip_member_name(info)}' giải nén gấp {ratio} lần "
                               f"(giới hạn {limits.max_zip_ratio} lần)")


def _ratio_exceeded(size: int, compressed: int, limits: ParseLimits) -> bool:
    return size > limits.zip_ratio_floor and size > limits.max_zip_ratio * max(compressed, 1)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ParseLimits,
                 budget: int, result: _ZipResult) -> None:
    name = _zip_member_name(info)
    if info.flag_bits & 0x1:
        result.skipped.append(Skipped(name, "tệp trong ZIP có mật khẩu (bị mã hóa)"))
        return
    if info.file_size > limits.max_attachment_bytes:
        result.skipped.append(Skipped(name, f"quá lớn: {_human_size(info.file_size)} "
                                            f"(giới hạn {_human_size(limits.max_attachment_bytes)})"))
        return
    out = bytearray()
    try:
        with archive.open(info) as member:
            while chunk := member.read(MB):
                out += chunk
                _check_inflated(name, len(out), info, limits, budget - result.used)
    except _ZipRejected:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError,
            ValueError, RuntimeError, struct.error) as exc:
        result.skipped.append(Skipped(name, f"không đọc được tệp trong ZIP ({exc or type(exc).__name__})"))
        return
    result.used += len(out)
    result.files.append((name, bytes(out)))


def _check_inflated(name: str, size: int, info: zipfile.ZipInfo, limits: ParseLimits,
                    remaining: int) -> None:
    if size > info.file_size:
        raise _ZipRejected(f"'{name}' chứa nhiều dữ liệu hơn khai báo")
    if size > remaining:
        raise _ZipRejected(f"giải nén vượt quá {_human_size(limits.max_zip_total_bytes)}")
    if _ratio_exceeded(size, info.compress_size, limits):
        raise _ZipRejected(f"'{name}' giải nén gấp hơn {limits.max_zip_ratio} lần")


# --------------------------------------------------------------------------
# TNEF (winmail.dat): a bounded reader for the attachment attributes
# --------------------------------------------------------------------------

_TNEF_SIGNATURE = 0x223E9F78
_TNEF_ATTACH_START = 0x9002  # attAttachRenddata: each attachment begins with it
_TNEF_ATTACH_TITLE = 0x8010  # short (8.3) name in the OEM code page
_TNEF_ATTACH_DATA = 0x800F
_TNEF_ATTACH_PROPS = 0x9005  # MAPI properties: the long file name
_TNEF_CODEPAGE = 0x9007
_MAPI_LONG_FILENAME = 0x3707
_MAPI_ATTACH_DATA = 0x3701
_MAPI_FIXED = {0x0001: 4, 0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
               0x000A: 4, 0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_MAPI_VARIABLE = frozenset({0x000D, 0x001E, 0x001F, 0x0102})


@dataclass
class _TnefFile:
    title: bytes = b""
    long_name: str = ""
    data: bytes = b""

    def name(self, codepage: str) -> str:
        return self.long_name or _decode_bytes(self.title.rstrip(b"\x00"), codepage)


def _read_tnef(data: bytes, max_objects: int) -> list[tuple[str, bytes]]:
    """(name, data) of each attachment in a TNEF stream; ValueError if unreadable."""
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _TNEF_SIGNATURE:
        raise ValueError("not a TNEF stream")
    offset, codepage, files = 6, "cp1252", []
    for _ in range(max_objects):
        if offset + 9 > len(data):
            return [(f.name(codepage), f.data) for f in files if f.data]
        level, attribute, length = struct.unpack_from("<BII", data, offset)
        body = data[offset + 9:offset + 9 + length]
        if len(body) != length:
            raise ValueError("TNEF stream is cut short")
        offset += 9 + length + 2  # + checksum
        _tnef_attribute(attribute & 0xFFFF, level, body, files)
        if attribute & 0xFFFF == _TNEF_CODEPAGE and length >= 4:
            codepage = _codec(f"cp{struct.unpack_from('<I', body)[0]}") or "cp1252"
    raise ValueError("too many TNEF objects")


def _tnef_attribute(attribute: int, level: int, body: bytes, files: list[_TnefFile]) -> None:
    if attribute == _TNEF_ATTACH_START:
        files.append(_TnefFile())
    elif level != 2 or not files:
        return
    elif attribute == _TNEF_ATTACH_TITLE:
        files[-1].title = body
    elif attribute == _TNEF_ATTACH_DATA:
        files[-1].data = body
    elif attribute == _TNEF_ATTACH_PROPS:
        props = _mapi_properties(body)
        long_name = props.get(_MAPI_LONG_FILENAME)
        if long_name:
            files[-1].long_name = long_name[0]
        if not files[-1].data and isinstance(props.get(_MAPI_ATTACH_DATA, [None])[0], bytes):
            files[-1].data = props[_MAPI_ATTACH_DATA][0]


def _mapi_properties(body: bytes) -> dict[int, list]:
    """Values of a MAPI property block (strings decoded); stops at anything odd.

    Every count read from the file is checked against the bytes left, so a
    forged count cannot make this loop longer than the block itself.
    """
    props: dict[int, list] = {}
    try:
        count, offset = struct.unpack_from("<I", body)[0], 4
        for _ in range(min(count, len(body) // 4)):
            ptype, pid = struct.unpack_from("<HH", body, offset)
            offset = _skip_named_property(body, offset + 4, pid)
            values, offset = _mapi_values(body, offset, ptype)
            props[pid] = values
    except (struct.error, ValueError, UnicodeError):
        pass
    return props


def _skip_named_property(body: bytes, offset: int, pid: int) -> int:
    if pid < 0x8000:
        return offset
    kind = struct.unpack_from("<I", body, offset + 16)[0]
    if kind == 0:
        return offset + 24
    length = struct.unpack_from("<I", body, offset + 20)[0]
    return offset + 24 + length + (-length % 4)


def _mapi_values(body: bytes, offset: int, ptype: int) -> tuple[list, int]:
    multi = bool(ptype & 0x1000)
    ptype &= ~0x1000
    count = 1
    if multi or ptype in _MAPI_VARIABLE:
        count, offset = struct.unpack_from("<I", body, offset)[0], offset + 4
    if count > (len(body) - offset) // 2 + 1:
        raise ValueError("MAPI value count larger than its data")
    if ptype in _MAPI_FIXED:
        size = _MAPI_FIXED[ptype]
        end = offset + size * count
        return [body[offset + i * size:offset + (i + 1) * size] for i in range(count)], end + (-end % 4)
    if ptype not in _MAPI_VARIABLE:
        raise ValueError(f"unknown MAPI type {ptype:#x}")
    values = []
    for _ in range(count):
        length = struct.unpack_from("<I", body, offset)[0]
        raw = body[offset + 4:offset + 4 + length]
        offset += 4 + length + (-length % 4)
        values.append(_mapi_value(ptype, raw))
    return values, offset


def _mapi_value(ptype: int, raw: bytes):
    if ptype == 0x001F:
        return raw.decode("utf-16-le", "replace").rstrip("\x00")
    if ptype == 0x001E:
        return _decode_8bit(raw.rstrip(b"\x00"))
    return raw


# --------------------------------------------------------------------------
# Inline forwards: the header block a client writes into the body
# --------------------------------------------------------------------------

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
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class _Original:
    """The sender of a forwarded message."""

    addr: str | None
    name: str
    date: datetime | None


def _inline_forward(body: str, subject: str) -> _Original | None:
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


def _forward_block(text: str) -> _Original | None:
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
    return _Original(addr, name, _loose_date(date_text) if date_text else None)


def _split_sender(text: str) -> tuple[str | None, str]:
    """"Name <a@b>", "Name [mailto:a@b]", "a@b" or a bare name."""
    match = _EMAIL.search(text)
    addr = match.group(0).lower() if match else None
    name = _EMAIL.sub("", text) if match else text
    name = re.sub(r"\[mailto:\s*\]|<\s*>|\(\s*\)", "", name).strip(" \"'<>[]()\t")
    return addr, _one_line(name, 300)


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


# --------------------------------------------------------------------------
# Automatic mail, delivery reports, Authentication-Results
# --------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|tl)\s*:\s*)?(?:auto(?:matic)?[ -]?reply|auto[ -]?response|autoreply|"
    r"out of (?:the )?office|trả lời tự động|thư trả lời tự động|tự động trả lời|vắng mặt)",
    re.IGNORECASE,
)
# Headers that accompany an Outlook/Exchange auto-reply but not, alone, a person's mail.
_AUTO_HINTS = ("x-auto-response-suppress", "x-ms-exchange-inbox-rules-loop",
               "x-ms-exchange-generated-message-source")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Headers that mark automatic mail, checked in this order, with their display names.
_AUTO_HEADERS = {"auto-submitted": "Auto-Submitted", "x-autoreply": "X-Autoreply",
                 "x-autorespond": "X-Autorespond", "precedence": "Precedence", "list-id": "List-ID",
                 "list-unsubscribe": "List-Unsubscribe"}


def _automatic(view: Message, root_type: str, report_type: str, from_addr: str,
               subject: str) -> str | None:
    """Why this mail is automatic (never to be answered), or None."""
    if root_type == "multipart/report":
        return {"delivery-status": "báo cáo gửi thư không thành công (bounce)",
                "disposition-notification": "xác nhận đã đọc thư (disposition notification)"
                }.get(report_type, f"báo cáo tự động ({report_type or 'multipart/report'})")
    if from_addr.split("@")[0] in ("mailer-daemon", "postmaster"):
        return f"From: {from_addr}"
    if _one_line(view.get("return-path", ""), 200).replace(" ", "") == "<>":
        return "Return-Path rỗng (<>)"
    for name in _AUTO_HEADERS:
        reason = _auto_header(name, _one_line(view.get(name, ""), 200))
        if reason:
            return reason
    if _AUTO_SUBJECT.match(subject) and any(view.get(h) is not None for h in _AUTO_HINTS):
        return f"tiêu đề trả lời tự động '{subject[:60]}' kèm các trường tự động của Outlook"
    return None


def _auto_header(name: str, value: str) -> str | None:
    """The reason a header makes mail automatic, or None (absent, or e.g. "Auto-Submitted: no")."""
    if not value:
        return None
    if name == "auto-submitted":
        return None if value.split(";")[0].strip().lower() == "no" else f"Auto-Submitted: {value}"
    if name == "precedence":
        return f"Precedence: {value}" if value.lower() in _BULK_PRECEDENCE else None
    return f"{_AUTO_HEADERS[name]}: {value[:80]}"


def _dsn_failed(part: Message) -> list[tuple[str, bool]]:
    """(Final-Recipient address, permanent) for each recipient with Action:
    failed in a message/delivery-status part. A failure is permanent unless
    its Status is 4.x.x (RFC 3463: a temporary condition the sending server
    gave up retrying, e.g. a host that did not answer for days)."""
    blocks = _raw_payload(part)
    if isinstance(blocks, list):
        fields = [[(k.lower(), _unescape(v)) for k, v in block.raw_items()]
                  for block in blocks if isinstance(block, Message)]
    else:  # encoded or unparsed: read the text blocks ourselves
        text = _decode_bytes(_payload_bytes(part))
        fields = [[(k.strip().lower(), v) for k, _, v in
                   (line.partition(":") for line in block.splitlines() if ":" in line)]
                  for block in re.split(r"\r?\n\s*\r?\n", text)]
    failed = []
    for block in fields:
        values = dict(block)
        if values.get("action", "").strip().lower().startswith("failed"):
            recipient = values.get("final-recipient", "").split(";")[-1]
            permanent = not values.get("status", "").strip().startswith("4")
            failed += [(a.lower(), permanent) for a in _EMAIL.findall(recipient)][:1]
    return failed


@dataclass(frozen=True)
class _AuthResult:
    method: str
    result: str
    props: dict
    comment: str


def _auth_results(header: str) -> tuple[str, list[_AuthResult]]:
    """authserv-id (lower case; "" when absent) and the method results of one
    Authentication-Results header."""
    pieces = _split_outside(header, ";")
    authserv = ""
    if not re.match(r"\s*[\w.-]+(?:/\d+)?\s*=", pieces[0]):  # Microsoft omits the authserv-id
        first = re.sub(r"\([^()]*\)", " ", pieces.pop(0)).split()  # a comment may precede it
        authserv = first[0].strip('"').lower() if first else ""
    results = []
    for piece in pieces:
        comment = " ".join(re.findall(r"\(([^()]*)\)", piece))
        tokens = re.findall(r"([\w.-]+(?:/\d+)?)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.sub(r"\([^()]*\)", " ", piece))
        if tokens:
            method, result = tokens[0][0].split("/")[0].lower(), tokens[0][1].strip('"').lower()
            props = {k.lower(): v.strip('"') for k, v in tokens[1:]}
            results.append(_AuthResult(method, result, props, comment))
    return authserv, results


def _split_outside(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside comments and quoted strings."""
    pieces, current, depth, quoted = [], [], 0, False
    for ch in text:
        if ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "(" and not quoted:
            depth += 1
        elif ch == ")" and not quoted and depth:
            depth -= 1
        elif ch == sep and not depth and not quoted:
            pieces.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current).strip())
    return pieces


def _aligned(domain: str, from_domain: str) -> bool:
    """``domain`` is the From domain, a subdomain of it, or a parent of it
    (relaxed alignment, without a public-suffix list)."""
    domain, from_domain = domain.lower().strip("@. "), from_domain.lower()
    return bool(domain and from_domain) and (
        domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain))


def _auth_verdict(view: Message, from_addr: str, trusted: tuple[str, ...]) -> tuple[str, str]:
    """("pass" | "fail" | "none", reason) from the topmost Authentication-Results
    written by one of our own receiving servers.

    A header counts only when its authserv-id is in ``trusted`` (RFC 8601
    sections 5 and 7.1): any other may have been written by the sender, or
    by a server on the way that we do not know. Of the trusted ones the
    topmost is read (a server adds its header above those it received).
    No trusted header (or an empty ``trusted``): "none".
    """
    headers = view.get_all("authentication-results") or []
    if not headers:
        return "none", ""
    wanted = {t.lower() for t in trusted}
    ignored: list[str] = []
    for header in headers[:100]:
        authserv, results = _auth_results(_one_line(str(header), 4_000))
        if authserv and authserv in wanted:
            by_method: dict[str, list[_AuthResult]] = {}
            for r in results:
                by_method.setdefault(r.method, []).append(r)
            return _decide_auth(by_method, from_addr.rpartition("@")[2], authserv)
        ignored.append(authserv[:64] or "(no authserv-id)")
    names = ", ".join(dict.fromkeys(ignored[:3])) + (", ..." if len(set(ignored)) > 3 else "")
    return "none", (f"Authentication-Results ignored: {names} not in mailbox.trusted_authserv_ids"
                    if trusted else "Authentication-Results ignored: mailbox.trusted_authserv_ids is empty")


def _signer(r: _AuthResult) -> str:
    """The domain of a DKIM result (header.d, else the domain of header.i)."""
    return (r.props.get("header.d") or r.props.get("header.i", "").rpartition("@")[2]).lower().strip("@. ")


def _decide_auth(by: dict[str, list[_AuthResult]], from_domain: str, authserv: str) -> tuple[str, str]:
    """The verdict for the From domain from one trusted header's results.

    - dmarc=fail: fail.
    - dmarc=pass counts only for the From domain: its ``header.from`` must be
      the From address's domain. A pass for another domain, or without
      ``header.from`` (every common implementation writes it), is ignored,
      as if the header had no DMARC result.
    - spf=fail/softfail without a usable DMARC result: fail, unless a DKIM
      signature aligned with the From domain passed. A DKIM pass for an
      unrelated domain proves nothing about the From address.
    - otherwise pass on an aligned DKIM pass, or on spf=pass (whose envelope
      domain the coordinator check also requires to be aligned).
    """
    from_domain = from_domain.lower().strip("@. ")
    dmarc = (by.get("dmarc") or [None])[0]
    spf = (by.get("spf") or [None])[0]
    dkim_pass = [r for r in by.get("dkim", []) if r.result == "pass"]
    dkim_aligned = [r for r in dkim_pass if _aligned(_signer(r), from_domain)]
    if dmarc and dmarc.result == "fail":
        policy = re.search(r"\bp=(\w+)", dmarc.comment, re.IGNORECASE)
        policy = f" (p={policy.group(1).lower()})" if policy else (
            f" (action={dmarc.props['action']})" if "action" in dmarc.props else "")
        return "fail", f"dmarc=fail{policy} header.from={dmarc.props.get('header.from', from_domain)}"
    ignored = ""
    if dmarc and dmarc.result == "pass":
        checked = dmarc.props.get("header.from", "").lower().strip("@. ")
        if checked and from_domain and checked == from_domain:
            return "pass", f"dmarc=pass header.from={checked}"
        # Noted after the verdict: the reason of a pass must keep starting with the
        # method that passed (the coordinator check reads "spf=pass smtp.mailfrom=...").
        ignored = f" (ignored: dmarc=pass for {checked[:64] or 'no header.from'}, not {from_domain or 'the From domain'})"
        dmarc = None
    if (not dmarc or dmarc.result != "pass") and spf and spf.result in ("fail", "softfail") and not dkim_aligned:
        why = (f"DKIM pass only for {', '.join(dict.fromkeys(_signer(r)[:64] or '?' for r in dkim_pass[:3]))}"
               " (not the From domain)") if dkim_pass else "no DKIM pass"
        return "fail", f"spf={spf.result} smtp.mailfrom={spf.props.get('smtp.mailfrom', '?')}, {why}{ignored}"
    for r in dkim_aligned:
        return "pass", f"dkim=pass header.d={_signer(r)} (aligned with From){ignored}"
    if spf and spf.result == "pass":
        return "pass", f"spf=pass smtp.mailfrom={spf.props.get('smtp.mailfrom', '?')}{ignored}"
    seen = ", ".join(f"{m}={rs[0].result}" for m, rs in by.items()) or "no results"
    return "none", f"no verdict from {authserv or 'the receiving server'}: {seen}{ignored}"


# --------------------------------------------------------------------------
# The walk over one message
# --------------------------------------------------------------------------

# What a damaged mail's defects mean, in the coordinator's words (shown on its items).
_DEFECT_TEXT = {
    "CloseBoundaryNotFoundDefect": "thư bị cắt ngang: phần MIME cuối không được đóng "
                                   "(tệp đính kèm có thể không đầy đủ)",
    "StartBoundaryNotFoundDefect": "không tìm thấy ranh giới MIME: không tách được các tệp đính kèm",
    "NoBoundaryInMultipartDefect": "thư nhiều phần nhưng không có ranh giới (boundary): không tách được "
                                   "các tệp đính kèm",
    "MultipartInvariantViolationDefect": "cấu trúc MIME của thư bị hỏng",
    "InvalidBase64PaddingDefect": "dữ liệu base64 bị hỏng hoặc bị cắt ngắn",
    "InvalidBase64LengthDefect": "dữ liệu base64 bị hỏng hoặc bị cắt ngắn",
    "InvalidBase64CharactersDefect": "dữ liệu base64 có ký tự không hợp lệ",
}
# Defects found only when an attachment is decoded (reported with its name).
_DECODING_DEFECTS = frozenset({"InvalidBase64PaddingDefect", "InvalidBase64LengthDefect",
                               "InvalidBase64CharactersDefect"})


@dataclass(frozen=True)
class _Where:
    """Where a part sits: the container chain and how deep in forwards."""

    container: str = ""
    forward_depth: int = 0
    message: int = 0  # which message the part's text belongs to (0 = the outer one)
    in_report: bool = False


def _chain(parent: str, child: str) -> str:
    return f"{parent} > {child}" if parent else child


class _MessageParser:
    """State of one ``parse_message`` call; lives and dies inside it."""

    def __init__(self, data: bytes, limits: ParseLimits):
        self.data = data
        self.limits = limits
        self.attachments: list[Attachment] = []
        self.skipped: list[Skipped] = []
        self.problems: list[str] = []
        self.damage: list[str] = []  # the problems that may have lost content
        self.zip_budget = limits.max_zip_total_bytes
        self.parts_seen = 0
        self.messages = 0
        self.plain: dict[int, list[str]] = {}
        self.html: dict[int, list[str]] = {}
        self.cids: set[str] = set()
        self.forwarded: _Original | None = None
        self.bounces: list[tuple[str, bool]] = []  # (address, permanent) from delivery-status parts
        self.report_type = ""
        self.texts: dict[int, str] = {}  # id(part) -> decoded text, so HTML is decoded once

    def _damaged(self, text: str) -> None:
        """A problem that may have lost content: reported, and shown on the items."""
        self.problems.append(text)
        self.damage.append(text)

    # -- top level ---------------------------------------------------------

    def parse(self) -> ParsedMessage:
        root = self._parse_bytes(self.data)
        head = _read_headers(root, self.limits)
        self.problems.extend(head.problems)
        if root.is_multipart() or _raw_payload(root):
            self._process(root, _Where())
        body = self._body()
        original = self.forwarded or _inline_forward(body, head.subject)
        view = head.view
        root_type = _mime_view(root).get_content_type()
        auth, auth_reason = _auth_verdict(view, head.from_addr, self.limits.trusted_authserv_ids)
        return ParsedMessage(
            message_id=_message_id(view.get("message-id")),
            from_addr=head.from_addr,
            from_name=head.from_name,
            reply_to=head.reply_to,
            to_addrs=head.to_addrs,
            subject=head.subject,
            date_header=head.date,
            body_text=body[:self.limits.max_body_chars],
            attachments=tuple(self.attachments),
            skipped=tuple(self.skipped),
            original_from=original.addr if original else None,
            original_from_name=original.name if original else "",
            original_date=original.date if original else None,
            automatic=_automatic(view, root_type, self.report_type, head.from_addr, head.subject),
            bounce_recipients=self._bounce_recipients(view),
            auth=auth,
            auth_reason=auth_reason,
            in_reply_to=_message_id(view.get("in-reply-to")),
            references=tuple(_MSG_ID.findall(_unescape(view.get("references", ""))))[:100],
            problems=tuple(dict.fromkeys(self.problems)),
            incomplete=tuple(dict.fromkeys(self.damage)),
        )

    def _parse_bytes(self, data: bytes) -> Message:
        """One stdlib parse; headers only when the structure would be too costly.

        The stdlib parser resumes one generator per nesting level for every
        line, so its cost is (containers x lines); count both first.
        """
        containers = len(_CONTAINER_TYPES.findall(data))  # not data.lower(): a copy of the whole mail
        if containers * (data.count(b"\n") + 1) > self.limits.max_parse_cost:
            self._damaged(f"thư lồng quá nhiều lớp để đọc an toàn ({containers} lớp MIME); "
                          "chỉ đọc được phần đầu thư")
            return _stdlib_parse(data, headersonly=True)
        try:
            return _stdlib_parse(data)
        except RecursionError:
            self._damaged("thư lồng quá nhiều lớp; chỉ đọc được phần đầu thư")
            return _stdlib_parse(data, headersonly=True)

    def _bounce_recipients(self, view: Message) -> tuple[str, ...]:
        """The recipients whose delivery failed permanently. X-Failed-Recipients
        (Gmail, Exim: non-standard) counts unless the report's own
        delivery-status says the failure was temporary."""
        failed = [a for a, permanent in self.bounces if permanent]
        temporary = {a for a, permanent in self.bounces if not permanent}
        for value in view.get_all("x-failed-recipients") or []:
            failed += [a.lower() for a in _EMAIL.findall(str(value)) if a.lower() not in temporary]
        return tuple(dict.fromkeys(failed))

    # -- walking -----------------------------------------------------------

    def _process(self, root: Message, where: _Where) -> None:
        """Walk one message: collect body text and HTML references first,
        then decide about each leaf (inline images need the HTML's cid: list)."""
        leaves: list[tuple[Message, Message, _Where]] = []
        stack = [(root, where)]
        while stack:
            part, here = stack.pop()
            self.parts_seen += 1
            if self.parts_seen > self.limits.max_parts:
                self._damaged(f"thư có hơn {self.limits.max_parts} phần MIME; phần còn lại chưa được đọc")
                break
            self._note_defects(part)
            try:
                self._visit(part, here, stack, leaves)
            except Exception as exc:  # one broken part must not hide the others
                self._damaged(f"không đọc được một phần MIME của thư ({type(exc).__name__})")
        for part, view, here in leaves:
            try:
                self._leaf(part, view, here)
            except Exception as exc:  # one broken part must not hide the others
                self.skipped.append(Skipped(_filename(view) or "", f"không đọc được phần này của thư ({type(exc).__name__})"))

    def _visit(self, part: Message, here: _Where, stack: list, leaves: list) -> None:
        view = _mime_view(part)
        ctype = view.get_content_type()
        if ctype == "message/delivery-status":
            if here.message == 0:  # a bounce forwarded as an attachment is not ours
                self.bounces += _dsn_failed(part)
        elif ctype in ("message/rfc822", "message/global") and part.is_multipart():
            self._forwarded(part, here, stack)
        elif here.in_report and ctype in _REPORT_PARTS:
            return  # machinery of a delivery report, not content
        elif ctype.startswith("message/") and part.is_multipart() and not here.in_report:
            # message/partial, message/external-body...: the stdlib parses them as
            # messages, but they are pieces or pointers, not a mail to read
            self.skipped.append(Skipped(_filename(view) or ctype, f"chưa đọc được phần kiểu {ctype}"))
        elif part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/report" and here.message == 0 and not here.container:
                self.report_type = (_param(view, "report-type", "content-type") or "").lower()
            child_where = _Where(here.container, here.forward_depth, here.message,
                                 here.in_report or ctype == "multipart/report")
            stack.extend((child, child_where) for child in reversed(children))
        else:
            if ctype == "text/html" and view.get_content_disposition() != "attachment":
                self.cids.update(_cid_references(self._text(part, view)))
            leaves.append((part, view, here))

    def _forwarded(self, part: Message, here: _Where, stack: list) -> None:
        """A message/rfc822 part: a forwarded (or returned) message."""
        inner = next((m for m in part.get_payload() if isinstance(m, Message)), None)
        if inner is None:
            return
        if str(part.get("content-transfer-encoding", "")).strip().lower() == "base64":
            inner = self._reparse_base64(inner)
        head = _read_headers(inner, self.limits)
        label = head.subject or head.from_addr or "message"
        if here.in_report:
            self.skipped.append(Skipped(label, "thư gốc bị trả lại trong thư báo gửi không thành công", matters=False))
            return
        depth = here.forward_depth + 1
        if depth > self.limits.max_depth:
            self.skipped.append(Skipped(label, f"thư chuyển tiếp lồng quá sâu "
                                               f"(quá {self.limits.max_depth} cấp)"))
            return
        if self.forwarded is None and (head.from_addr or head.from_name):
            self.forwarded = _Original(head.from_addr or None, head.from_name, head.date)
        self.messages += 1
        stack.append((inner, _Where(_chain(here.container, f"rfc822:{label}"), depth, self.messages)))

    def _note_defects(self, part: Message) -> None:
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__
            if name in _DEFECT_TEXT and name not in _DECODING_DEFECTS:  # those appear only when decoding
                self._damaged(_DEFECT_TEXT[name])

    # -- leaves ------------------------------------------------------------

    def _leaf(self, part: Message, view: Message, here: _Where) -> None:
        ctype = view.get_content_type()
        disposition = view.get_content_disposition()
        name = _filename(view)
        if ctype in ("text/plain", "text/html") and name is None and disposition != "attachment":
            self._body_part(part, view, ctype, here)
            return
        found = self._not_a_document(ctype, view)
        if found:
            reason, matters = found
            self.skipped.append(Skipped(name or _content_id(view) or "", reason, matters=matters))
            return
        size = _decoded_size(part)
        if size > self.limits.max_attachment_bytes:
            self._too_large(name or "", size)
            return
        data = _payload_bytes(part)
        self._note_payload_defects(part, name or ctype)
        self._add_file(name or "", _type_for(name or "", ctype), data, here, depth=0)

    def _not_a_document(self, ctype: str, view: Message) -> tuple[str, bool] | None:
        """(why the part is not read, does it matter to a person?), or None for a document."""
        cid = _content_id(view)
        if ctype.startswith("image/") and cid and cid in self.cids:
            return "ảnh chèn trong nội dung thư", False  # a logo or signature drawn by the HTML body
        if ctype in _SIGNATURE_TYPES:
            return "chữ ký số, không phải văn bản", False
        if ctype in _ENCRYPTED_TYPES:
            return "thư được mã hóa (S/MIME hoặc PGP): không đọc được", True
        if ctype in ("text/calendar", "application/ics"):
            return "lời mời lịch họp, không phải văn bản", False
        if ctype.startswith("multipart/"):
            return "không đọc được cấu trúc MIME của phần này", True
        if ctype.startswith("message/") and ctype != "message/rfc822":
            return f"chưa đọc được phần kiểu {ctype}", True
        return None

    def _note_payload_defects(self, part: Message, label: str) -> None:
        for defect in part.defects:
            name = type(defect).__name__
            if name in _DECODING_DEFECTS:
                self._damaged(f"tệp đính kèm '{label}': {_DEFECT_TEXT[name]}")

    def _body_part(self, part: Message, view: Message, ctype: str, here: _Where) -> None:
        text = self._text(part, view)
        target = self.plain if ctype == "text/plain" else self.html
        target.setdefault(here.message, []).append(text)

    def _text(self, part: Message, view: Message) -> str:
        if id(part) not in self.texts:
            self.texts[id(part)] = self._decode_text(part, view)
        return self.texts[id(part)]

    def _decode_text(self, part: Message, view: Message) -> str:
        charset = view.get_param("charset")
        charset = charset[2] if isinstance(charset, tuple) else charset
        if charset and _codec(str(charset)) is None and str(charset).lower() != "unknown-8bit":
            self.problems.append(f"unknown charset {_one_line(str(charset), 40)!r} in the text; read as UTF-8")
        return _decode_bytes(_payload_bytes(part), str(charset) if charset else None)

    def _body(self) -> str:
        """The outer message's text; the first forwarded message's if it has none."""
        for index in sorted(set(self.plain) | set(self.html)):
            plain = "\n\n".join(t for t in self.plain.get(index, []) if t.strip())
            if not plain:
                html = "\n".join(self.html.get(index, []))
                plain = _html_to_text(html, self.limits.max_html_chars) if html else ""
            text = _tidy_body(plain, self.limits.max_body_chars * 2)
            if text:
                return text
        return ""

    # -- files -------------------------------------------------------------

    def _add_file(self, name: str, ctype: str, data: bytes, here: _Where, depth: int) -> None:
        """Keep a file, or open it when it is a container (ZIP, TNEF, .eml).

        ``depth`` counts the archives (ZIP, TNEF) this file is already inside.
        """
        ext = _extension(name)
        if len(data) > self.limits.max_attachment_bytes:
            self._too_large(name, len(data))
        elif ext == ".zip" or (ctype in _ZIP_TYPES and ext not in _ZIP_BASED):
            self._zip(name, data, here, depth)
        elif ctype in _TNEF_TYPES or name.lower() in ("winmail.dat", "win.dat"):
            self._tnef(name, data, here, depth)
        elif fmt := _ARCHIVES.get(ext) or _ARCHIVE_TYPES.get(ctype):
            self.skipped.append(Skipped(name, f"chưa đọc được tệp nén dạng {fmt}"))
        elif ext == ".msg" or ctype == "application/vnd.ms-outlook":
            self.skipped.append(Skipped(name, "tệp Outlook (.msg) chưa đọc được: cần nhờ người gửi "
                                              "chuyển tiếp như một thư bình thường"))
        elif ext == ".eml" or ctype == "message/rfc822":
            self._eml(name, data, here)
        else:
            self._keep(Attachment(name, ctype, data, here.container))

    def _keep(self, attachment: Attachment) -> None:
        if len(self.attachments) >= self.limits.max_attachments:
            self.skipped.append(Skipped(attachment.filename, f"quá nhiều tệp đính kèm "
                                        f"(chỉ đọc {self.limits.max_attachments} tệp đầu)"))
        else:
            self.attachments.append(attachment)

    def _too_large(self, name: str, size: int) -> None:
        self.skipped.append(Skipped(name, f"quá lớn: {_human_size(size)} "
                                          f"(giới hạn {_human_size(self.limits.max_attachment_bytes)})"))

    def _zip(self, name: str, data: bytes, here: _Where, depth: int) -> None:
        if depth >= self.limits.max_zip_depth:
            self.skipped.append(Skipped(name, f"tệp ZIP lồng quá sâu (quá "
                                              f"{self.limits.max_zip_depth} cấp)"))
            return
        try:
            result = _read_zip(data, self.limits, self.zip_budget)
        except _ZipRejected as exc:
            self.skipped.append(Skipped(name, f"không mở tệp ZIP: {exc}"))
            return
        self.zip_budget -= result.used
        self.skipped.extend(result.skipped)
        inside = _Where(_chain(here.container, f"zip:{name}"), here.forward_depth, here.message)
        for member, content in result.files:
            self._add_file(member, _type_for(member), content, inside, depth + 1)

    def _tnef(self, name: str, data: bytes, here: _Where, depth: int) -> None:
        if depth >= self.limits.max_zip_depth:
            self.skipped.append(Skipped(name, "tệp TNEF (winmail.dat) lồng quá sâu"))
            return
        try:
            files = _read_tnef(data, self.limits.max_tnef_objects)
        except (ValueError, struct.error):
            self.skipped.append(Skipped(name, "không đọc được tệp TNEF (winmail.dat)"))
            return
        if not files:
            self.skipped.append(Skipped(name, "tệp TNEF (winmail.dat) không chứa tệp đính kèm nào", matters=False))
        inside = _Where(_chain(here.container, "tnef"), here.forward_depth, here.message)
        for member, content in files:
            self._add_file(_clean_filename(member), _type_for(member), content, inside, depth + 1)

    def _reparse_base64(self, inner: Message) -> Message:
        """A base64-encoded message/rfc822 (Exchange does this): the stdlib
        parsed the base64 text as if it were the mail; decode and parse it."""
        text = _raw_payload(inner)
        if isinstance(text, bytes):
            text = text.decode("ascii", "replace")
        return self._parse_bytes(_lenient_b64(text)) if isinstance(text, str) else inner

    def _eml(self, name: str, data: bytes, here: _Where) -> None:
        """An .eml file attached as a file: read it like a forwarded message."""
        inner = self._parse_bytes(data)
        wrapper = Message()
        wrapper["Content-Type"] = "message/rfc822"
        wrapper.set_payload([inner])
        self._process(wrapper, here)



def _cid_references(html: str) -> set[str]:
    """Content-IDs the HTML draws (src="cid:..."): those images are decoration."""
    found = re.findall(r"cid:([^\s\"'<>)]+)", html[:2_000_000], re.IGNORECASE)
    return {unquote(cid).strip("<>").lower() for cid in found}
