"""What an attachment is: the format its bytes declare, and its name's extension."""
from __future__ import annotations

import re


# --------------------------------------------------------------------------
# Kind detection
# --------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"), (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"BM", "bmp"),
)
EXTENSIONS = {
    "pdf": "pdf", "docx": "docx", "docm": "docx", "dotx": "docx", "doc": "doc", "dot": "doc",
    "rtf": "rtf", "jpg": "image", "jpeg": "image", "png": "image", "tif": "image",
    "tiff": "image", "gif": "image", "bmp": "image", "webp": "image", "txt": "text",
    "htm": "html", "html": "html", "xml": "html",
}
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<meta|<\?xml|<!--)", re.I)


def sniff(data: bytes) -> str | None:
    """The format the bytes themselves declare, or None if they say nothing.

    One of: pdf, zip, ole, rtf, image, html, text.
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if any(head.startswith(magic) for magic, _ in _IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "heic"
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(stripped) or re.search(rb"<(html|body|table|p)[\s>]", head, re.I):
        return "html"
    if _looks_like_text(head):
        return "text"
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 BOM
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in b"\r\n\t\f")
    return controls <= len(head) // 100


def file_extension(filename: str) -> str:
    """The extension of the file name's last part, case-folded, without the dot ("" for none)."""
    name = filename.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].casefold() if "." in name else ""
