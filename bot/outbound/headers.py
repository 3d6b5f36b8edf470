"""Header values of outgoing mail: RFC 2047 encoding and folding, and
replacing a header of a raw message (the To of a mail whose recipients
changed after it was rendered)."""
from __future__ import annotations

import base64
import re
from email.header import Header
from email.utils import formataddr

_SPACES = re.compile(r"\s+")


# The email package of Python 3.11 loses the space between two encoded
# words when it folds a long non-ASCII Subject ("đề nghị công" arrives as
# "đề nghịcông"); the From/To/Subject headers are therefore encoded with
# email.header.Header, whose folding is correct, and put in as raw lines.

def encode_header(name: str, value: str) -> str:
    """One header value, RFC 2047-encoded when needed and folded at 78 columns."""
    value = one_line(value)
    ascii_only = value.isascii() and "=?" not in value
    return Header(value, "us-ascii" if ascii_only else "utf-8", header_name=name).encode(
        linesep="\r\n", splitchars=", ")


def encode_address(name: str, display_name: str, address: str) -> str:
    display_name = one_line(display_name)
    if not display_name:
        return address
    if display_name.isascii() and "=?" not in display_name:
        return formataddr((display_name, address))
    return f"{_encoded_words(display_name)} <{address}>"


def _encoded_words(text: str, limit: int = 75) -> str:
    """RFC 2047 encoded-words that break only between words.

    ``Header`` breaks wherever the line fills, even inside a word
    ("...điển h" + "ình..."): correct readers join the pieces, but some
    (Python's own address parser among them) put a space between them, so
    the school would read "điển h ình". Breaking before a space, kept inside
    the next piece, costs such a reader only a double space.
    """
    def word(piece: str) -> str:
        return "=?utf-8?b?" + base64.b64encode(piece.encode("utf-8")).decode("ascii") + "?="

    pieces, current = [], ""
    for index, part in enumerate(text.split(" ")):
        piece = part if index == 0 else " " + part
        if current and len(word(current + piece)) > limit:
            pieces.append(current)
            current = piece
        else:
            current += piece
    pieces.append(current)
    return "\r\n ".join(word(p) for p in pieces)


def set_header(raw: bytes, name: str, encoded: str) -> bytes:
    """Replace every ``name:`` header (with its folded lines) of a raw
    message by one, put first. ``encoded`` must be ASCII (see encode_header)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept, skipping = [], False
    prefix = name.lower().encode("ascii") + b":"
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(prefix)
        if not skipping:
            kept.append(line)
    new = f"{name}: {encoded}".encode("ascii")
    return b"\r\n".join([new, *kept]) + sep + body


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text or "").strip()


__all__ = ["encode_header", "encode_address", "set_header", "one_line"]
