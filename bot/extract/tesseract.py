"""Whether tesseract can read Vietnamese here, asked without loading any reader.

Apart from ``ocr`` (which reads pages, with ctypes, the records of a
document and its text tools) so that ``check-config`` and ``health`` ask it
at the cost of one process, not of the readers' imports.
"""
from __future__ import annotations

import shutil
import subprocess


def ocr_unavailable_reason(lang: str = "vie") -> str | None:
    """None if tesseract with ``lang`` data can run here, else why not."""
    exe = shutil.which("tesseract")
    if exe is None:
        return "máy chưa cài OCR"
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        return "máy đã cài OCR nhưng OCR không chạy được"
    if lang not in (out.stdout + out.stderr).split():
        return "OCR chưa có dữ liệu tiếng Việt (tesseract-ocr-vie)"
    return None
