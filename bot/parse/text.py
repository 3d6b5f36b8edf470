"""Text: charsets, RFC 2047 encoded-words, control characters, display names."""
from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

# MIME names Python does not know, seen in real mail.
_CHARSET_ALIASES = {"ks_c_5601-1987": "cp949", "gb2312": "gb18030", "x-gbk": "gb18030",
                    "iso-8859-8-i": "iso8859-8", "windows-874": "cp874"}
# Single-byte codecs: valid UTF-8 bytes labelled with one of these are UTF-8
# (old clients label UTF-8 text "iso-8859-1"; the reverse never validates).
_SINGLE_BYTE = ("ascii", "iso8859", "cp12", "cp43", "cp85", "mac-", "latin")
# Control characters: C0, DEL, C1, and bidi overrides that disguise names
# ("fdp.exe" shown as "exe.pdf").
CONTROLS = dict.fromkeys(
    [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n$")
_SPACES = re.compile(r"[ \t\u00a0]+")


def codec_for(charset: str | None) -> str | None:
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


def decode_8bit(raw: bytes) -> str:
    """Undeclared 8-bit bytes: UTF-8, else Windows-1258 (Vietnamese), else UTF-8 with U+FFFD."""
    for encoding in ("utf-8", "cp1258"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", "replace")


def decode_bytes(raw: bytes, charset: str | None = None) -> str:
    """Decode bytes declared in ``charset``, falling back sensibly when it lies."""
    codec = codec_for(charset)
    if codec and not _mislabelled_utf8(codec, raw):
        try:
            return raw.decode(codec)
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass  # a bad byte, or a wrong declaration
        if codec.startswith("iso2022") or codec in _MULTI_BYTE:
            # One bad byte in Japanese, Chinese or Korean text is no reason to read
            # the rest as Vietnamese: keep the declared charset and mark the byte.
            text = _decode_lenient(raw, codec)
            if text is not None:
                return text
    return decode_8bit(raw)


# Multi-byte charsets whose text a single-byte guess would garble whole.
_MULTI_BYTE = frozenset({"shift_jis", "cp932", "euc_jp", "gb18030", "gbk", "big5", "big5hkscs", "cp950",
                         "euc_kr", "cp949", "johab"})


def _decode_lenient(raw: bytes, codec: str) -> str | None:
    """``raw`` in ``codec`` with undecodable bytes as U+FFFD, or None when so
    much is undecodable that the declaration must be wrong. ISO-2022 text is
    decoded one escape sequence at a time, so that a bad byte cannot make the
    decoder swallow the escape back to ASCII (and garble everything after)."""
    try:
        pieces = re.split(rb"(?=\x1b)", raw) if codec.startswith("iso2022") else [raw]
        text = "".join(piece.decode(codec, "replace") for piece in pieces)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    return text if text.count("\ufffd") <= max(2, len(text) // 20) else None


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


def unescape(value: object) -> str:
    """A header value as read by compat32 -> text, raw 8-bit bytes decoded."""
    text = str(value)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # surrogate escapes stand for raw 8-bit bytes
        return decode_8bit(text.encode("utf-8", "surrogateescape"))


def _word_bytes(kind: str, payload: str) -> bytes:
    if kind in "qQ":
        return binascii.a2b_qp(payload.encode("utf-8"), header=True)
    return lenient_b64(payload)


def lenient_b64(text: str) -> bytes:
    """Base64 read as mail clients read it: padding repaired, junk dropped."""
    data = re.sub(r"[^A-Za-z0-9+/]", "", text.split("=", 1)[0])
    if len(data) % 4 == 1:
        data = data[:-1]
    return base64.b64decode(data + "=" * (-len(data) % 4))


def decode_words(text: str) -> str:
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
            out.append(decode_bytes(b"".join(pending), pending_charset))
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


def strip_controls(text: str) -> str:
    """``text`` without control and invisible formatting characters."""
    return text.translate(CONTROLS)


def one_line(text: str, limit: int) -> str:
    """Single-line display text: unfolded, controls removed, NFC, bounded."""
    text = strip_controls(re.sub(r"[\t\r\n]+", " ", text))
    return unicodedata.normalize("NFC", _SPACES.sub(" ", text)).strip()[:limit]


def header_text(value: object, limit: int = 1_000) -> str:
    """A header's text: 8-bit bytes and encoded-words decoded, NFC."""
    if value is None:
        return ""
    return one_line(decode_words(FOLD.sub("", unescape(value))), limit)


def clean_filename(name: str) -> str:
    """NFC, controls (CR, LF, NUL, bidi) removed; the text is kept otherwise.

    The name is only ever shown, never used as a path, so separators stay.
    """
    return unicodedata.normalize("NFC", strip_controls(name)).strip()[:255]
