"""A small, byte-exact MIME writer.

The standard library's generator normalises exactly what the corpus must
reproduce (RFC 2047 words inside quotes, raw 8-bit headers, NFD names,
RFC 2231 continuations) and draws boundaries from the global ``random``;
so messages are assembled here from explicit headers and bodies, with
CRLF line ends as on the wire.
"""
from __future__ import annotations

import base64
import quopri
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

CRLF = "\r\n"


@dataclass
class Part:
    """One MIME entity: headers as written, and either a body or children."""

    headers: list[tuple[str, str]]
    body: bytes = b""
    children: list["Part"] = field(default_factory=list)
    boundary: str = ""
    preamble: str = ""

    def to_bytes(self) -> bytes:
        head = "".join(f"{name}: {value}{CRLF}" for name, value in self.headers).encode("utf-8")
        if not self.children:
            return head + CRLF.encode() + self.body
        out = [head, CRLF.encode()]
        if self.preamble:
            out.append((self.preamble + CRLF).encode())
        for child in self.children:
            out.append(f"--{self.boundary}{CRLF}".encode())
            out.append(child.to_bytes())
            out.append(CRLF.encode())
        out.append(f"--{self.boundary}--{CRLF}".encode())
        return b"".join(out)


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def b64_body(data: bytes) -> bytes:
    """Base64 in 76-character CRLF lines (one C call, then slicing: the
    stdlib's encodebytes loops in Python over 57-byte chunks)."""
    enc = base64.b64encode(data)
    return b"".join(enc[i:i + 76] + b"\r\n" for i in range(0, len(enc), 76))


def qp_body(text: str) -> bytes:
    return crlf(quopri.encodestring(crlf(text.encode("utf-8")).replace(b"\r\n", b"\n")))


def is_ascii(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def encoded_words(text: str, enc: str = "B", charset: str = "UTF-8", limit: int = 75) -> list[str]:
    """RFC 2047 encoded words of at most ``limit`` characters, never
    splitting a character's UTF-8 bytes across two words."""
    overhead = len(charset) + 7  # =?charset?B?...?=
    words, chunk, used = [], "", 0
    for ch in text:
        cost = _encoded_len(ch, enc)
        if chunk and overhead + _total(used + cost, enc) > limit:
            words.append(_word(chunk, enc, charset))
            chunk, used = "", 0
        chunk += ch
        used += cost
    if chunk:
        words.append(_word(chunk, enc, charset))
    return words


def _encoded_len(ch: str, enc: str) -> int:
    """Bytes (B) or characters (Q) one character adds to an encoded word."""
    raw = ch.encode("utf-8")
    if enc == "B":
        return len(raw)
    return sum(1 if (chr(b).isalnum() and b < 128) or chr(b) in "!*+-/ " else 3 for b in raw)


def _total(used: int, enc: str) -> int:
    return (used + 2) // 3 * 4 if enc == "B" else used


def _word(text: str, enc: str, charset: str) -> str:
    raw = text.encode("utf-8")
    if enc == "B":
        return f"=?{charset}?B?{base64.b64encode(raw).decode()}?="
    q = "".join(chr(b) if (chr(b).isalnum() and b < 128) or chr(b) in "!*+-/" else f"={b:02X}" for b in raw)
    return f"=?{charset}?Q?{q.replace('=20', '_')}?="


def header_text(text: str, enc: str = "B", charset: str = "UTF-8", raw8: bool = False) -> str:
    """An unstructured header value (Subject): ASCII as is, else encoded words."""
    if is_ascii(text) or raw8:
        return text
    return (CRLF + " ").join(encoded_words(text, enc, charset))


def address(name: str, addr: str, enc: str = "B", charset: str = "UTF-8", raw8: bool = False) -> str:
    """``"Name" <addr>`` with the display name encoded when needed."""
    if not name:
        return f"<{addr}>" if raw8 else addr
    if is_ascii(name) or raw8:
        return f'"{name}" <{addr}>'
    return " ".join(encoded_words(name, enc, charset)) + f" <{addr}>"


def param_2047(name: str, value: str, enc: str = "B", charset: str = "utf-8", sep: str = CRLF + "\t") -> str:
    """Outlook style: ``name="=?utf-8?B?...?="`` (encoded words in quotes,
    which RFC 2047 forbids and every client does)."""
    if is_ascii(value):
        return f'{name}="{value}"'
    return f'{name}="' + sep.join(encoded_words(value, enc, charset)) + '"'


def param_2231(name: str, value: str, split_at: int = 0) -> str:
    """RFC 2231 ``name*=UTF-8''...``; with ``split_at`` the value is cut
    into continuations ``name*0*=...; name*1*=...`` (Thunderbird)."""
    if is_ascii(value) and not split_at:
        return f'{name}="{value}"'
    encoded = [quote(ch.encode("utf-8"), safe="") if not ch.isalnum() or ord(ch) > 127 else ch for ch in value]
    if not split_at:
        return f"{name}*=UTF-8''" + "".join(encoded)
    pieces, current = [], ""
    for token in encoded:
        if len(current) + len(token) > split_at and current:
            pieces.append(current)
            current = ""
        current += token
    pieces.append(current)
    out = []
    for i, piece in enumerate(pieces):
        prefix = "UTF-8''" if i == 0 else ""
        out.append(f"{name}*{i}*={prefix}{piece}")
    return (";" + CRLF + " ").join(out)


def param_raw(name: str, value: str) -> str:
    """Raw 8-bit UTF-8 inside quotes (old webmail, some PHP mailers)."""
    return f'{name}="{value}"'


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)
