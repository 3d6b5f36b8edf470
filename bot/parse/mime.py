"""MIME parts: views, file names, content types, payloads (with long base64 runs set aside), image sizes."""
from __future__ import annotations

import binascii
import os
import re
import struct
from email import policy as email_policy
from email.feedparser import BytesFeedParser
from email.message import Message

from .limits import MB
from .text import FOLD, clean_filename, decode_bytes, decode_words, one_line, unescape

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
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})
ZIP_BASED = frozenset({".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".jar", ".apk", ".epub"})
ARCHIVES = {".rar": "rar", ".7z": "7z", ".tar": "tar", ".gz": "gz", ".tgz": "tgz",
            ".bz2": "bz2", ".xz": "xz", ".zst": "zst", ".cab": "cab", ".arj": "arj"}
ARCHIVE_TYPES = {"application/x-rar-compressed": "rar", "application/vnd.rar": "rar",
                 "application/x-rar": "rar", "application/x-7z-compressed": "7z",
                 "application/gzip": "gz", "application/x-gzip": "gz", "application/x-tar": "tar"}
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
SIGNATURE_TYPES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature",
                             "application/pgp-signature"})
ENCRYPTED_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime",
                             "application/pgp-encrypted"})
REPORT_PARTS = frozenset({"text/rfc822-headers", "message/disposition-notification",
                          "message/feedback-report"})


def mime_view(part: Message) -> Message:
    """The part's MIME headers with raw 8-bit bytes decoded (get_param on the
    part itself would turn them into U+FFFD)."""
    view = Message()
    view.set_default_type(part.get_default_type())
    for name, value in part.raw_items():
        if name.lower() in _MIME_HEADERS:
            view[name] = unescape(value)
    return view


def header_param(view: Message, name: str, header: str) -> str | None:
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
        return decode_bytes(raw, charset or "utf-8")
    return decode_words(FOLD.sub("", str(value)))


def part_filename(view: Message) -> str | None:
    """The part's file name as the sender wrote it, or None if it has none."""
    for name, header in (("filename", "content-disposition"), ("name", "content-type")):
        value = header_param(view, name, header)
        if value and value.strip():
            return clean_filename(value)
    return None


def content_id(view: Message) -> str:
    """The part's Content-ID, without its angle brackets, lower-case."""
    return one_line(unescape(view.get("content-id", "")), 300).strip("<> ").lower()


def file_extension(name: str) -> str:
    """The extension of a file name's last part, lower-case, with its dot ("" for none)."""
    base = re.split(r"[\\/]", name)[-1].lower()
    return base[base.rfind("."):] if "." in base else ""


def type_for(name: str, declared: str = "") -> str:
    """The declared content type, or one from the extension when it says nothing."""
    declared = declared.lower()
    if declared in _VAGUE_TYPES:
        return _EXT_TYPES.get(file_extension(name), declared or "application/octet-stream")
    return declared


def raw_payload(part: Message):
    """The payload before transfer decoding (str, or a list for containers).

    ``get_payload()`` applies the declared charset to 8-bit text, and a bogus
    charset name (one with a NUL, say) makes it raise; then take the bytes.
    """
    _Elided.restore(part)
    try:
        return part.get_payload()
    except (LookupError, UnicodeError, ValueError, TypeError):
        return payload_bytes(part)


CONTAINER_TYPES = re.compile(rb"multipart/|message/rfc822", re.I)


def container_count(data: bytes) -> int:
    """How many times ``multipart/`` or ``message/rfc822`` appear in ``data``, in any case.

    A case-insensitive regex scans a mail five times slower than counting in
    a lower-case copy; the copy is made only for mails without a large
    attachment (a large one would be copied whole)."""
    if len(data) > 4 * MB:
        return len(CONTAINER_TYPES.findall(data))
    lower = data.lower()
    return lower.count(b"multipart/") + lower.count(b"message/rfc822")
_CLEAN_BASE64 = re.compile(r"[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*")


def stdlib_parse(data: bytes, headersonly: bool = False) -> Message:
    """``BytesParser(policy=compat32).parsebytes(data)``, with less memory.

    ``parsebytes`` decodes the whole mail to one str and wraps it in a
    StringIO (4 bytes a character), about 6 times the size of the mail at
    once; it then feeds the parser 8 KB at a time, as this does (the same
    parser, the same result), without those copies. In a large mail, long
    runs of base64 lines are also set aside (``_Elided``): the parser keeps
    each body as a list of lines, then joins them, which costs more than
    three times the attachment (and a line's trip through the parser costs
    more than decoding it: see ``_ELIDE_FROM``).
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


# Every mail but the smallest: the parser's cost is per line (a generator per nesting level
# resumed for each), and nearly all the lines of a mail with an attachment are its base64.
# Setting them aside makes the parse of the bench corpus 30 % cheaper (same results).
_ELIDE_FROM = 32 * 1024
# At least 64 whole lines of base64 characters (about 5 KB), from a line start.
# Atomic and possessive: a plain repeat keeps a backtracking record per line (160 MB for 70 MB).
# A run shorter than the minimum is retried from each of its lines: the minimum bounds that cost.
_BASE64_RUN = re.compile(rb"(?m)^(?>[A-Za-z0-9+/=]{40,998}\r?\n){64,}+")


class _Elided:
    """Long base64 runs of one mail, replaced by a token line before the parse.

    A part whose payload holds tokens gets this object as ``_bot_elided``.
    Its base64 is decoded straight from the mail's bytes (``decode``); any
    other use of the payload first puts the original text back (``restore``),
    so that everything else sees exactly what the stdlib would have given.
    """

    def __init__(self, data: bytes, nonce: str):
        self.data = data
        self.prefix = f"\x00elided-{nonce}-"  # (found with str.find: a pattern compiled per mail cost more)
        self.nonce = nonce
        self.runs: list[tuple[int, int, bytes]] = []  # (start, end, line ending of the last line)
        self.skeleton = b""

    @classmethod
    def prepare(cls, data: bytes) -> "_Elided | None":
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
            if isinstance(payload, str) and next(self._tokens(payload), None):
                part._bot_elided = self

    def _tokens(self, payload: str):
        """The token lines of this mail in ``payload``, as matches of ``_TOKEN``, in order."""
        pos = payload.find(self.prefix)
        while pos >= 0:
            match = _TOKEN.match(payload, pos)
            if match and match.group(1) == self.nonce:
                yield match
                pos = payload.find(self.prefix, match.end())
            else:
                pos = payload.find(self.prefix, pos + 1)

    def _pieces(self, payload: str):
        """The payload as (literal text, None) and (None, (start, end)) pieces, in order."""
        last = 0
        for match in self._tokens(payload):
            start, end, ending = self.runs[int(match.group(2))]
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
        chars = base64_chars(region)
        if chars is None or chars % 4:
            return None
        return binascii.a2b_base64(region)


_TOKEN = re.compile("\x00elided-([0-9a-f]{16})-(\\d+)\x00")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def base64_chars(data: bytes | memoryview) -> int | None:
    """How many characters of ``data`` are not line breaks, when it matches
    ``[A-Za-z0-9+/\\r\\n]*={0,2}[\\r\\n]*`` whole (clean base64 lines, padded at
    the end); None otherwise. Two ``bytes.translate`` passes: five times as fast
    as that regex and two counts over a mail's attachments."""
    data = bytes(data)
    rest = data.translate(None, _BASE64_ALPHABET)  # line breaks, padding, and anything else
    pad = rest.translate(None, b"\r\n")
    if pad not in (b"", b"=", b"==") or (pad and not data.rstrip(b"\r\n").endswith(pad)):
        return None
    return len(data) - len(rest) + len(pad)


def payload_bytes(part: Message) -> bytes:
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


def decoded_size(part: Message) -> int:
    """The decoded size, estimated without decoding (so a huge part is never copied)."""
    elided = part.__dict__.get("_bot_elided")
    if elided is not None:
        length, breaks = elided.measure(part._payload)
        if str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
            return length
        return (length - breaks) * 3 // 4
    payload = raw_payload(part)
    if not isinstance(payload, (str, bytes)):
        return 0
    if str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
        return len(payload)
    breaks = payload.count("\n") + payload.count("\r") + payload.count(" ")
    return (len(payload) - breaks) * 3 // 4


OUTLOOK_MSG = ("tệp Outlook (.msg) chưa đọc được: cần mở bằng Outlook, hoặc nhờ người gửi chuyển tiếp "
               "như một thư bình thường")
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG, GIF or JPEG header; (0, 0) when unknown."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:2] == b"\xff\xd8":
            pos = 2
            while pos + 9 < len(data):
                if data[pos] != 0xFF:
                    pos += 1
                    continue
                marker = data[pos + 1]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                    pos += 1 if marker == 0xFF else 2
                    continue
                length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
                    return width, height
                pos += 2 + length
    except struct.error:
        pass
    return 0, 0


def human_size(size: int) -> str:
    """A size as a person reads it: "2.5 MB", "300 KB"."""
    return f"{size / MB:.1f} MB" if size >= MB else f"{size // 1024} KB"
