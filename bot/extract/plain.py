"""Plain text and HTML attachments: charset detection, visible text of markup."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from ..model import Attachment, Extraction
from ..vietnamese import nfc
from .common import ExtractLimits
from .text import Block, legacy_note, extraction_from_blocks, clean_lines


# --------------------------------------------------------------------------
# Plain text and HTML
# --------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
               "td", "th", "section", "article", "header", "footer", "blockquote", "pre"}


class _TextOfHtml(HTMLParser):
    """Text of an HTML page: scripts and styles dropped, blocks on new lines.

    html.parser does not fetch or expand DTD entities, so XML/HTML with a
    DOCTYPE is harmless here.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML (or XML) document, one block per line."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Bytes -> str: BOM, UTF-8, the declared charset, cp1258, then Latin-1.

    UTF-8 goes first because it almost never decodes text that is not UTF-8,
    while a declared "iso-8859-1" decodes anything (and is often wrong).
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return nfc(data.decode(codec, "replace"))
    for codec in ("utf-8", declared, "cp1258"):
        if not codec:
            continue
        try:
            return nfc(data.decode(codec))
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _declared_charset(content_type: str, data: bytes) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.I)
    if not match:
        found = re.search(rb"charset=[\"']?([\w.:-]+)", data[:4096], re.I)
        return found.group(1).decode("ascii", "ignore") if found else None
    return match.group(1)


def extract_text(data: bytes, att: Attachment, is_html: bool, limits: ExtractLimits,
                 notes=()) -> Extraction:
    """A plain-text or HTML attachment, in its declared (or detected) charset."""
    text = decode_text(data, _declared_charset(att.content_type, data))
    if is_html:
        text = html_to_text(text)
    lines, encoding = clean_lines(text)
    blocks = [Block((line,)) for line in lines]
    return extraction_from_blocks("text", blocks, limits, notes=tuple(notes) + legacy_note([encoding]),
                                  empty_error="tệp không có chữ")
