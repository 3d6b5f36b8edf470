"""Extraction from real files built on the fly (tests/docfactory.py)."""
from __future__ import annotations

import os
import time

import pytest

from bot import extract as extract_module
from bot.extract import ExtractLimits, Extractor, extract, ocr_unavailable_reason, sniff
from bot.model import Attachment
from bot.vietnamese import fold, fold_compact
from tests import docfactory as f

OCR_MISSING = ocr_unavailable_reason()
needs_ocr = pytest.mark.skipif(OCR_MISSING is not None, reason=f"tesseract with Vietnamese data: {OCR_MISSING}")


def att(name: str, data: bytes, content_type: str = "application/octet-stream") -> Attachment:
    return Attachment(name, content_type, data)


def head_lines(result, part: int = 0) -> list[str]:
    return result.parts[part].head.split("\n")


# --- PDF ------------------------------------------------------------------------

def test_pdf_header_written_cell_by_cell_reads_issuer_then_motto():
    result = extract(att("totrinh.pdf", f.official_pdf([f.OfficialDoc()], order="cells")))
    assert result.error is None and result.kind == "pdf" and result.pages == 1
    assert head_lines(result)[:7] == [
        "UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN HUỆ", "Số: 15/TTr-THCSNH",
        f.MOTTO, f.MOTTO_2, "Quận 12, ngày 05 tháng 10 năm 2023", "TỜ TRÌNH"]


def test_pdf_header_written_row_by_row_is_put_back_in_column_order():
    # PDFium gives "UBND QUẬN 12 CỘNG HÒA XÃ HỘI ..." on one line for such files.
    result = extract(att("totrinh.pdf", f.official_pdf([f.OfficialDoc()], order="rows")))
    lines = head_lines(result)
    assert lines[:3] == ["UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN HUỆ", "Số: 15/TTr-THCSNH"]
    assert lines[3:5] == [f.MOTTO, f.MOTTO_2]
    assert "TỜ TRÌNH" in lines


def test_combined_pdf_splits_into_three_documents_by_page():
    docs = [
        f.OfficialDoc(extra_pages=(("Trang 2: nội dung tờ trình tiếp theo",),)),
        f.OfficialDoc(title="BÁO CÁO", number="Số: 16/BC-THCSNH",
                      extra_pages=(("Phần II. Kết quả thực hiện Bộ tiêu chí",), ("Phần III. Kiến nghị",))),
        f.OfficialDoc(title="BIÊN BẢN", number="Số: 17/BB-THCSNH"),
    ]
    result = extract(att("hoso.pdf", f.official_pdf(docs, order="rows")))
    assert result.pages == 6
    assert [(p.first_page, p.last_page) for p in result.parts] == [(1, 2), (3, 5), (6, 6)]
    titles = [next(line for line in p.head.split("\n") if line in ("TỜ TRÌNH", "BÁO CÁO", "BIÊN BẢN"))
              for p in result.parts]
    assert titles == ["TỜ TRÌNH", "BÁO CÁO", "BIÊN BẢN"]
    assert "Phần III. Kiến nghị" in result.parts[1].text
    assert "Phần III" not in result.parts[2].text


def test_pdf_letter_spaced_title_soft_hyphen_and_tcvn3_text():
    pages = [["T Ờ  T R Ì N H", "Tr\u00adêng THCS NguyÔn HuÖ",
              "B¸o c¸o kÕt qu¶ x©y dùng ®¬n vÞ ®iÓn h×nh"]]
    result = extract(att("legacy.pdf", f.text_pdf(pages)))
    assert head_lines(result) == ["TỜ TRÌNH", "Trường THCS Nguyễn Huệ",
                                  "Báo cáo kết quả xây dựng đơn vị điển hình"]
    assert "converted from TCVN3 (ABC)" in result.notes


def test_pdf_reads_only_max_pages():
    pages = [[f"Trang số {i} của báo cáo kết quả xây dựng"] for i in range(1, 16)]
    result = extract(att("dai.pdf", f.text_pdf(pages)), ExtractLimits(max_pages=5))
    assert result.pages == 15
    assert "read the first 5 of 15 pages" in result.notes
    assert "Trang số 5 " in result.parts[-1].text and "Trang số 6 " not in result.parts[-1].text


def test_pdf_part_text_is_bounded():
    pages = [[f"Dòng thứ {i} của một văn bản rất dài" for i in range(40)]] * 3
    result = extract(att("dai.pdf", f.text_pdf(pages)), ExtractLimits(max_chars=500))
    assert 0 < len(result.parts[0].text) <= 500


def test_encrypted_pdf_is_reported():
    result = extract(att("matkhau.pdf", f.official_pdf([f.OfficialDoc()], encrypt="secret")))
    assert (result.kind, result.error, result.parts) == ("pdf", "encrypted PDF (password protected)", ())


def test_corrupt_pdf_is_reported():
    result = extract(att("hong.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage\n%%EOF"))
    assert result.kind == "pdf" and result.error == "damaged PDF (cannot be opened)"


def test_truncated_pdf_still_gives_its_text_or_a_clear_error():
    data = f.official_pdf([f.OfficialDoc()])
    result = extract(att("cut.pdf", data[: len(data) * 2 // 3]))
    assert result.error == "damaged PDF (cannot be opened)" or "TỜ TRÌNH" in result.parts[0].head


@pytest.mark.parametrize("data", [b"", b"   \r\n  "])
def test_empty_file(data):
    result = extract(att("trong.pdf", data))
    assert result.error == "empty file" and result.parts == ()


def test_oversized_file_is_refused():
    result = extract(att("big.pdf", b"%PDF-1.4 " + b"x" * 2048), ExtractLimits(max_bytes=1024))
    assert result.error.startswith("file too large")


# --- scans and OCR --------------------------------------------------------------

def test_image_without_ocr_says_so():
    result = extract(att("scan.png", f.text_image(["TỜ TRÌNH"])), ocr=False)
    assert (result.kind, result.error) == ("image", "scanned document and OCR is turned off")


def test_scanned_pdf_when_ocr_is_not_installed(monkeypatch):
    monkeypatch.setattr(extract_module.shutil, "which", lambda name: None)
    result = extract(att("scan.pdf", f.image_pdf([f.text_image(["BÁO CÁO"])])))
    assert (result.kind, result.error) == ("pdf", "scanned document and OCR is not installed")


@needs_ocr
def test_image_is_read_by_ocr():
    png = f.text_image(["TỜ TRÌNH", "Về việc đề nghị công nhận"])
    result = extract(att("IMG_20231005_0932.png", png))
    assert result.error is None and result.ocr is True and result.kind == "image"
    assert "totrinh" in fold_compact(result.parts[0].head)
    assert "de nghi cong nhan" in fold(result.parts[0].text)


@needs_ocr
def test_scanned_pdf_is_read_by_ocr():
    scan = f.image_pdf([f.text_image(["BÁO CÁO", "Kết quả xây dựng đơn vị điển hình"])])
    result = extract(att("scan0001.pdf", scan))
    assert result.ocr is True and "baocao" in fold_compact(result.parts[0].head)


# --- DOCX -----------------------------------------------------------------------

def test_docx_header_table_text_box_legacy_fonts_and_page_header():
    data = f.official_docx(
        f.OfficialDoc(), textbox="Hộp văn bản: hồ sơ đề nghị",
        legacy_runs=(("B¸o c¸o kÕt qu¶ x©y dùng ®¬n vÞ ®iÓn h×nh", ".VnTime"),),
        legacy_style=("b¸o c¸o tæng hîp", ".VnTimeH"), header="Mẫu số 01")
    result = extract(att("totrinh.docx", data))
    lines = result.parts[0].text.split("\n")
    assert result.kind == "docx" and result.error is None
    assert head_lines(result)[:8] == [
        "Mẫu số 01", "UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN HUỆ", "Số: 15/TTr-THCSNH",
        f.MOTTO, f.MOTTO_2, "Quận 12, ngày 05 tháng 10 năm 2023", "TỜ TRÌNH"]
    assert lines.count("Hộp văn bản: hồ sơ đề nghị") == 1        # DrawingML, not also its VML copy
    assert "Báo cáo kết quả xây dựng đơn vị điển hình" in lines   # run font .VnTime
    assert "BÁO CÁO TỔNG HỢP" in lines                            # style font .VnTimeH
    assert "converted from TCVN3 (ABC)" in result.notes


def test_docx_legacy_text_without_legacy_font_is_detected_by_score():
    doc = f.OfficialDoc(title="Tê tr×nh", body=("VÒ viÖc ®Ò nghÞ c«ng nhËn ®¬n vÞ ®iÓn h×nh",))
    result = extract(att("cu.docx", f.official_docx(doc)))
    assert "Tờ trình" in head_lines(result)
    assert "Về việc đề nghị công nhận đơn vị điển hình" in result.parts[0].text


def test_docx_with_two_documents_is_split():
    one = f.official_docx(f.OfficialDoc(body=tuple(f"Dòng {i}" for i in range(8))))
    import docx, io
    document = docx.Document(io.BytesIO(one))
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "UBND QUẬN 12"
    table.rows[0].cells[1].text = f.MOTTO
    document.add_paragraph("BÁO CÁO")
    buf = io.BytesIO()
    document.save(buf)
    result = extract(att("hai.docx", buf.getvalue()))
    assert len(result.parts) == 2 and "BÁO CÁO" in head_lines(result, 1)


@pytest.mark.parametrize("doctype", [f.XXE_DOCTYPE, f.LAUGHS_DOCTYPE], ids=["xxe", "billion-laughs"])
def test_docx_with_doctype_is_refused(doctype):
    result = extract(att("xxe.docx", f.docx_with_doctype(f.official_docx(), doctype)))
    assert result.error == "DOCX contains an XML DOCTYPE/entity declaration (refused for safety)"
    assert result.parts == ()


def test_docx_that_is_really_html_is_read_as_html():
    page = "<html><head><title>x</title><script>var a=1;</script></head><body><p>TỜ TRÌNH</p><p>Về việc đề nghị</p></body></html>"
    result = extract(att("totrinh.docx", page.encode("utf-8")))
    assert result.kind == "text" and head_lines(result) == ["TỜ TRÌNH", "Về việc đề nghị"]
    assert "not a real DOCX (looks like HTML)" in result.notes


def test_empty_html_disguised_as_docx_is_an_error():
    result = extract(att("x.docx", b"<html><body>   </body></html>"))
    assert result.error == "not a real DOCX (looks like HTML); it holds no text"


def test_docx_that_is_really_a_pdf_is_read_as_pdf():
    result = extract(att("baocao.docx", f.official_pdf([f.OfficialDoc(title="BÁO CÁO")])))
    assert result.kind == "pdf" and "BÁO CÁO" in head_lines(result)
    assert "not a real DOCX (looks like PDF)" in result.notes


@pytest.mark.parametrize("data, error", [
    (b"PK\x03\x04 this is not really a zip file", "damaged DOCX (the ZIP container is broken)"),
    (bytes(range(256)) * 4, "not a real DOCX (unrecognised content)"),
])
def test_broken_docx(data, error):
    assert extract(att("hong.docx", data)).error == error


def test_encrypted_office_file_is_reported():
    data = extract_module._OLE_MAGIC + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100
    assert extract(att("matkhau.docx", data)).error == "encrypted Word document (password protected)"


# --- DOC / RTF ------------------------------------------------------------------

@pytest.mark.skipif(extract_module.shutil.which("catdoc") is None, reason="catdoc is not installed")
def test_rtf_saved_as_doc_is_converted():
    rtf = rb"{\rtf1\ansi\ansicpg1258 {\fonttbl{\f0 Times New Roman;}}\f0 T\u7900? TRI\'ccNH\par V\u7873? vi\u7879?c\par}"
    result = extract(att("totrinh.doc", rtf))
    assert result.kind == "doc" and head_lines(result)[:2] == ["TỜ TRÌNH", "Về việc"]


def test_legacy_doc_without_converter(monkeypatch):
    monkeypatch.setattr(extract_module.shutil, "which", lambda name: None)
    data = extract_module._OLE_MAGIC + b"\x00" * 100 + "WordDocument".encode("utf-16-le")
    result = extract(att("cu.doc", data))
    assert (result.kind, result.error) == ("doc", "legacy .doc and no converter installed")


# --- text and HTML ---------------------------------------------------------------

def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter + tone byte."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = b""
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        out += (base + "".join(c for c in decomposed if c in tones)).encode("cp1258")
    return out


def test_cp1258_text_is_decoded_to_nfc():
    data = _cp1258("Tờ trình đề nghị công nhận")
    assert len(data) > len("Tờ trình đề nghị công nhận")  # tones are separate bytes
    result = extract(att("ghichu.txt", data, "text/plain"))
    assert result.kind == "text" and result.parts[0].head == "Tờ trình đề nghị công nhận"


def test_html_declared_charset_and_entities():
    page = '<html><head><meta charset="utf-8"></head><body><div>T&#7900; TR&Igrave;NH</div></body></html>'
    result = extract(att("thu.html", page.encode("utf-8"), "text/html"))
    assert result.parts[0].head == "TỜ TRÌNH"


def test_sniff_prefers_magic_bytes():
    assert sniff(b"%PDF-1.7 ...") == "pdf"
    assert sniff(b"PK\x03\x04....") == "zip"
    assert sniff(f.text_image(["x"], size=(20, 20), font_size=8)) == "image"
    assert sniff(b"<!DOCTYPE html><html>") == "html"


# --- Extractor: worker processes ------------------------------------------------

class _Sleep:
    """Unpickling this in a worker sleeps: a stand-in for a pathological file."""

    def __reduce__(self):
        return (time.sleep, (30,))


class _Crash:
    """Unpickling this in a worker kills it: a stand-in for a segfault."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_extractor_inline_and_pool_give_the_same_results_in_order():
    atts = [att("a.pdf", f.official_pdf([f.OfficialDoc()])), att("b.docx", b""),
            att("c.docx", f.official_docx(f.OfficialDoc(title="BIÊN BẢN")))]
    with Extractor(workers=0) as inline:
        expected = inline.extract_many(atts)
    with Extractor(workers=2, timeout=30) as pool:
        got = pool.extract_many(atts)
    assert got == expected
    assert [r.error for r in got] == [None, "empty file", None]
    assert "BIÊN BẢN" in head_lines(got[2])


def test_extractor_times_out_kills_and_recovers():
    atts = [att("slow.pdf", _Sleep()), att("ok.pdf", f.official_pdf([f.OfficialDoc()]))]
    start = time.monotonic()
    with Extractor(workers=1, timeout=1.0) as pool:
        results = pool.extract_many(atts)
        again = pool.extract_many(atts[1:])
    assert results[0].error == "extraction timed out after 1 s" and results[0].kind == "pdf"
    assert results[1].error is None and again[0].error is None
    assert time.monotonic() - start < 15


def test_extractor_survives_a_crashing_worker():
    atts = [att("ok1.docx", f.official_docx()), att("crash.pdf", _Crash()), att("ok2.docx", f.official_docx())]
    with Extractor(workers=2, timeout=30) as pool:
        results = pool.extract_many(atts)
    assert results[1].error.startswith("the reader crashed on this file (exit code 3)")
    assert results[0].error is None and results[2].error is None


def test_extractor_memory_limit_turns_a_memory_hog_into_an_error():
    scan = f.image_pdf([f.text_image(["BÁO CÁO"], size=(200, 280), font_size=20)])
    limits = ExtractLimits(ocr_dpi=3000)  # renders a ~1 GB bitmap
    with Extractor(limits, workers=1, timeout=30, memory_limit=400 * 2**20, ocr=True) as pool:
        result = pool.extract(att("scan.pdf", scan))
    assert result.error in ("the file needs more memory than allowed to read",
                            "scanned document and OCR is not installed") or "crashed" in result.error
