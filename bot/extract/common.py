"""Bounds on the work done for one attachment, and the messages several readers share."""
from __future__ import annotations

import mmap
from dataclasses import dataclass

from ..official.signature import TrustRoots


MiB = 1024 * 1024

# Errors and notes are shown to the coordinator: Vietnamese. Those used twice:
OCR_NOTE = "chữ đọc bằng OCR (có thể nhận dạng sai)"
ENCRYPTED_PDF = "PDF có mật khẩu (bị mã hóa)"
DAMAGED_PDF = "tệp PDF bị hỏng (không mở được)"
BROKEN_DOCX = "tệp DOCX bị hỏng (vỏ ZIP bị hỏng)"
EMPTY_WORD = "văn bản Word trống (không có chữ)"
HUGE_IMAGE = "ảnh quá lớn, không đọc được"


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on the work done for one attachment.

    ``max_pages``: PDF pages read (a dossier's three documents fit in far
    fewer). ``max_chars``: text kept per document part. ``ocr_*``: scanned
    pages OCR'd whole per file when their heads do not decide (every page up
    to ``max_pages`` gets its head read: where a document of a combined scan
    starts; see ``ocr.read_page``), the head's resolution (the body's is
    3/4 of it), seconds per tesseract run. ``max_unpacked``:
    bytes a DOCX may unpack to (ZIP bombs). ``convert_timeout``: seconds for
    catdoc/LibreOffice. ``trust_roots``: the CA certificates digital
    signatures are checked against (``[official] trust_roots``).
    """

    max_bytes: int = 40 * MiB
    max_pages: int = 12
    max_chars: int = 30_000
    head_lines: int = 20
    ocr_max_pages: int = 4
    ocr_dpi: int = 200
    ocr_timeout: float = 40.0
    max_unpacked: int = 120 * MiB
    max_image_pixels: int = 40_000_000
    convert_timeout: float = 30.0
    trust_roots: TrustRoots = TrustRoots()


class MappedFile(mmap.mmap):
    """The bytes of a file, mapped read-only, as a worker gets a large PDF
    (``spool.Spooled``): the readers see bytes-like data of which only the
    pages they touch are read, and PDFium opens ``path`` itself, so the
    worker never holds the whole file as a bytes object beside PDFium's own
    copy of what it loads."""

    path: str

    def __contains__(self, needle) -> bool:
        # mmap's own ``in`` looks for one byte: ``b"/ByteRange" in data`` would say False
        return self.find(needle) != -1


OCR_FOUND_NOTHING = "tệp scan nhưng OCR không đọc được chữ nào"

# A scan not read because OCR could not run (off, not installed, no Vietnamese
# data): worth reading again once it can.
SCAN_UNREAD = "tệp scan nhưng"
SCANS_UNREAD = " trang là ảnh scan, không có chữ, và"
