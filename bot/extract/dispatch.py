"""``extract()``: one attachment to text, by format (magic bytes first, the name second)."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

from ..model import Attachment, Extraction
from .common import MiB, ExtractLimits
from .kinds import EXTENSIONS, file_extension, sniff
from .ocr import OcrNeeded


# --------------------------------------------------------------------------
# extract(): dispatch
# --------------------------------------------------------------------------

_BLANK = re.compile(rb"[ \t\r\n\x00]*")
_DISGUISE_NAMES = {"pdf": "PDF", "docx": "DOCX", "doc": "DOC", "rtf": "RTF", "image": "image"}


def extract(att: Attachment, limits: ExtractLimits = ExtractLimits(), ocr: bool | None = None) -> Extraction:
    """Get the text out of one attachment; never raises for bad input.

    Kind by magic bytes first, the file name's extension second. ``ocr``:
    None uses tesseract when installed, False never, True wants it (and
    says so if it is missing).
    """
    kind_hint = EXTENSIONS.get(file_extension(att.filename), "unknown")
    try:
        return extract_unguarded(att, limits, ocr, kind_hint)
    except OcrNeeded:  # ocr="later": the caller runs OCR in a pass of its own
        raise
    except MemoryError:
        return Extraction(public_kind(kind_hint), error="tệp cần nhiều bộ nhớ hơn mức cho phép để đọc")
    except Exception as exc:  # a library bug on a strange file must not stop the batch
        return Extraction(public_kind(kind_hint),
                          error=f"không đọc được tệp ({type(exc).__name__}: {str(exc)[:120]})")


def public_kind(kind: str) -> str:
    """The kind an ``Extraction`` names: RTF is reported as "doc", HTML as "text"."""
    return {"rtf": "doc", "html": "text"}.get(kind, kind)


def extract_unguarded(att: Attachment, limits: ExtractLimits, ocr: bool | None, hint: str) -> Extraction:
    """``extract`` without its guard: what a reader raises is raised (the worker
    pool reports it in its own words). ``hint``: the kind the file's name says."""
    data = att.data
    if _BLANK.fullmatch(data):  # not data.strip(): that copies a 50 MB file to see its first byte
        return Extraction(public_kind(hint), error="tệp rỗng (0 byte)")
    if len(data) > limits.max_bytes:
        return Extraction(public_kind(hint),
                          error=f"tệp quá lớn ({len(data) / MiB:.0f} MB; giới hạn {limits.max_bytes / MiB:.0f} MB)")
    from .office import ole_kind  # the readers load on first use: a light command imports this module

    sniffed = sniff(data)
    # An encrypted .docx/.xlsx IS an OLE2 file: its name does not lie.
    notes = () if sniffed == "ole" and ole_kind(data) == "encrypted" else _disguise_note(sniffed, hint)
    # The worker's clock: only a stand-in for a digital signature that states no signing time.
    now = datetime.now(timezone.utc)
    result = _by_format(sniffed, hint, att, limits, ocr, notes, now)
    if notes and result.error is None:
        result = replace(result, notes=tuple(notes) + result.notes)
    elif notes and notes[0] not in result.error:  # the error alone would hide that the name lies
        result = replace(result, error=f"{notes[0]}; {result.error}")
    if result.parts and result.official is None:  # a PDF's reader has done it on the pages it loaded
        from .official import official_inputs

        result = replace(result, official=official_inputs(data, result, limits, now))
    return result


def _disguise_note(sniffed: str | None, hint: str) -> tuple[str, ...]:
    """A file whose name lies about its format (a .docx that is a PDF...)."""
    if hint in ("docx", "doc", "pdf") and sniffed in ("pdf", "ole", "rtf", "html", "zip", "image"):
        actual = {"ole": "doc", "zip": "docx"}.get(sniffed, sniffed)
        if actual != hint and not (hint == "doc" and actual == "rtf"):
            return (f"không phải tệp {hint.upper()} thật (có vẻ là {_DISGUISE_NAMES.get(actual, actual.upper())})",)
    return ()


def _by_format(sniffed, hint, att, limits, ocr, notes, now=None) -> Extraction:
    # each reader (and its library) is loaded when a file of its kind comes
    from .images import extract_image
    from .office import extract_legacy_word, extract_zip, ole_kind
    from .pdf import extract_pdf
    from .plain import extract_text

    data = att.data
    if sniffed == "pdf":
        return extract_pdf(data, limits, ocr, now)
    if sniffed == "zip":
        return extract_zip(data, limits)
    if sniffed == "ole":
        ole = ole_kind(data)
        if ole == "encrypted":
            return Extraction("docx", error="tệp Word có mật khẩu (bị mã hóa)")
        if ole == "other":
            return Extraction("unknown", error="tệp Excel/PowerPoint cũ, không phải văn bản Word")
        return extract_legacy_word(data, "doc", limits)
    if sniffed == "rtf":
        return extract_legacy_word(data, "rtf", limits)
    if sniffed == "image":
        return extract_image(data, limits, ocr)
    if sniffed == "heic":
        return Extraction("image", error="ảnh HEIC (định dạng của iPhone) chưa đọc được; cần gửi JPEG hoặc PDF")
    if sniffed == "html":
        if hint in ("docx", "doc") and not notes:
            notes = (f"không phải tệp {hint.upper()} thật (có vẻ là HTML)",)
        result = extract_text(data, att, True, limits)
        if result.error and notes:
            return Extraction(result.kind, error=f"{notes[0]}; không có chữ")
        return result
    if sniffed == "text" and hint not in ("pdf", "docx", "image"):
        return extract_text(data, att, hint == "html", limits)
    if hint in ("pdf", "docx", "doc", "image"):
        return Extraction(public_kind(hint), error=f"không phải tệp {hint.upper()} thật (nội dung không nhận ra được)")
    return Extraction("unknown", error="định dạng tệp không nhận ra được")
