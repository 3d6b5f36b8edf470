"""Extraction from real files built on the fly (tests/docfactory.py)."""
from __future__ import annotations

import os
from pathlib import Path
import time

import pytest

from bot import extract as extract_module
from bot.extract import images as extract_images
from bot.extract import kinds as extract_kinds
from bot.extract import ocr as extract_ocr
from bot.extract import ocr_engine
from bot.extract import office as extract_office
from bot.extract import (ExtractLimits, Extractor, JobFailed, cache_version, extract, ocr_unavailable_reason, sniff,
                         worth_caching)
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
    assert "đã chuyển từ bảng mã TCVN3 (ABC)" in result.notes


def test_pdf_reads_only_max_pages():
    pages = [[f"Trang số {i} của báo cáo kết quả xây dựng"] for i in range(1, 16)]
    result = extract(att("dai.pdf", f.text_pdf(pages)), ExtractLimits(max_pages=5))
    assert result.pages == 15
    assert "chỉ đọc 5 trang đầu trong 15 trang" in result.notes
    assert "Trang số 5 " in result.parts[-1].text and "Trang số 6 " not in result.parts[-1].text


def test_pdf_part_text_is_bounded():
    pages = [[f"Dòng thứ {i} của một văn bản rất dài" for i in range(40)]] * 3
    result = extract(att("dai.pdf", f.text_pdf(pages)), ExtractLimits(max_chars=500))
    assert 0 < len(result.parts[0].text) <= 500


def test_encrypted_pdf_is_reported():
    result = extract(att("matkhau.pdf", f.official_pdf([f.OfficialDoc()], encrypt="secret")))
    assert (result.kind, result.error, result.parts) == ("pdf", "PDF có mật khẩu (bị mã hóa)", ())


def test_corrupt_pdf_is_reported():
    result = extract(att("hong.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage\n%%EOF"))
    assert result.kind == "pdf" and result.error == "tệp PDF bị hỏng (không mở được)"


def test_truncated_pdf_still_gives_its_text_or_a_clear_error():
    data = f.official_pdf([f.OfficialDoc()])
    result = extract(att("cut.pdf", data[: len(data) * 2 // 3]))
    assert result.error == "tệp PDF bị hỏng (không mở được)" or "TỜ TRÌNH" in result.parts[0].head


@pytest.mark.parametrize("data", [b"", b"   \r\n  "])
def test_empty_file(data):
    result = extract(att("trong.pdf", data))
    assert result.error == "tệp rỗng (0 byte)" and result.parts == ()


def test_oversized_file_is_refused():
    result = extract(att("big.pdf", b"%PDF-1.4 " + b"x" * 2048), ExtractLimits(max_bytes=1024))
    assert result.error.startswith("tệp quá lớn")


# --- scans and OCR --------------------------------------------------------------

def test_image_without_ocr_says_so():
    result = extract(att("scan.png", f.text_image(["TỜ TRÌNH"])), ocr=False)
    assert (result.kind, result.error) == ("image", "tệp scan nhưng OCR đang tắt")


def test_scanned_pdf_when_ocr_is_not_installed(monkeypatch):
    monkeypatch.setattr(extract_ocr.shutil, "which", lambda name: None)
    result = extract(att("scan.pdf", f.image_pdf([f.text_image(["BÁO CÁO"])])))
    assert (result.kind, result.error) == ("pdf", "tệp scan nhưng máy chưa cài OCR")


def test_a_scan_read_without_ocr_is_read_again_once_ocr_is_installed(monkeypatch):
    # Not cached: otherwise installing tesseract later would never change its review reason.
    monkeypatch.setattr(extract_ocr.shutil, "which", lambda name: None)
    scan = extract(att("scan.pdf", f.image_pdf([f.text_image(["BÁO CÁO"])])))
    text = extract(att("to-trinh.pdf", f.official_pdf([f.OfficialDoc()])))
    assert not worth_caching(scan, None)
    assert worth_caching(text, None) and not worth_caching(text, False)  # OCR off: any PDF may be a scan


def test_the_cache_key_changes_with_the_limits_that_change_results():
    assert cache_version(ExtractLimits()) == cache_version(ExtractLimits(ocr_timeout=5))
    assert cache_version(ExtractLimits()) != cache_version(ExtractLimits(max_pages=3))


@needs_ocr
def test_image_is_read_by_ocr():
    png = f.text_image(["TỜ TRÌNH", "Về việc đề nghị công nhận"])
    result = extract(att("IMG_20231005_0932.png", png))
    assert result.error is None and result.ocr is True and result.kind == "image"
    assert "totrinh" in fold_compact(result.parts[0].head)
    assert "de nghi cong nhan" in fold(result.parts[0].text)


# --- OCR layout (tesseract TSV) -------------------------------------------------

def tsv(width: int, height: int, lines: list[list[tuple[str, int, int, float]]]) -> str:
    """Tesseract's TSV for lines of (word, left, top, confidence); words 20 px a letter."""
    rows = ["level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
            f"1\t1\t0\t0\t0\t0\t0\t0\t{width}\t{height}\t-1\t"]
    for n, words in enumerate(lines, 1):
        for k, (text, left, top, conf) in enumerate(words, 1):
            rows.append(f"5\t1\t{n}\t1\t1\t{k}\t{left}\t{top}\t{20 * len(text)}\t30\t{conf}\t{text}")
    return "\n".join(rows)


def row(text: str, left: int, top: int, conf: float = 95.0) -> list[tuple[str, int, int, float]]:
    """The words of ``text`` from ``left``, one space (15 px) apart."""
    out = []
    for word in text.split(" "):
        out.append((word, left, top, conf))
        left += 20 * len(word) + 15
    return out


def test_ocr_layout_puts_a_two_column_header_in_reading_order():
    # Tesseract reads the header across the page; specks of the gap come out as "`...".
    page = tsv(1650, 2340, [
        row("UBND QUẬN 12", 150, 120) + row("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 800, 120),
        row("TRƯỜNG MN SƠN CA 8", 180, 170) + [("mi", 545, 170, 8.0), ("`...", 600, 170, 40.0)]
        + row("Độc lập - Tự do - Hạnh phúc", 880, 170),
        row("Số: 36/TTr-MNSC8", 230, 230) + row("Quận 12, ngày 23 tháng 9 năm 2023", 860, 230),
        row("TỜ TRÌNH", 740, 300),
        row("Về việc đề nghị công nhận đơn vị điển hình", 330, 350),
    ])
    assert extract_module.ocr_layout(page).split("\n") == [
        "UBND QUẬN 12", "TRƯỜNG MN SƠN CA 8 mi `...", "Số: 36/TTr-MNSC8",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Quận 12, ngày 23 tháng 9 năm 2023",
        "TỜ TRÌNH", "Về việc đề nghị công nhận đơn vị điển hình"]


def test_ocr_layout_leaves_a_page_without_two_columns_alone():
    lines = [row("Căn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023", 180, 120),
             row("Trường đã tổ chức họp xét theo đúng quy định", 180, 170),
             row("HIỆU TRƯỞNG", 1100, 1900)]
    assert extract_module.ocr_layout(tsv(1650, 2340, lines)).split("\n") == [
        "Căn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023", "Trường đã tổ chức họp xét theo đúng quy định",
        "HIỆU TRƯỞNG"]


def test_ocr_layout_finds_the_header_wherever_tesseract_lists_it():
    # A stamp in the middle of the page listed first does not hide the header.
    page = tsv(1650, 2340, [
        row("Lư VT.", 170, 1380),
        row("UBND QUẬN 12", 150, 120) + row("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 800, 120),
        row("TRƯỜNG THCS NGUYỄN TRÃI", 180, 170) + row("Độc lập - Tự do - Hạnh phúc", 880, 170),
        row("BÁO CÁO", 740, 300),
    ])
    assert extract_module.ocr_layout(page).split("\n")[:5] == [
        "UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN TRÃI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc", "Lư VT."]


def test_ocr_text_is_never_taken_for_tcvn3(monkeypatch):
    # Specks read as ¬ § µ « are Latin-1 look-alikes of TCVN3 codes: OCR output is Unicode all the same.
    monkeypatch.setattr(extract_images, "ocr_png", lambda png, dpi, limits: (
        "UBND QUẬN 12 ¬\nTRƯỜNG THCS NGUYỄN TRÃI µ\n§ố: 12/BC-THCSNT «\nB¸o c¸o ×\nKết quả xây dựng"))
    monkeypatch.setattr(extract_images, "want_ocr", lambda ocr: (True, None))
    result = extract(att("IMG_1.png", f.text_image(["x"])))
    assert result.error is None and result.ocr
    assert not any("TCVN3" in n for n in result.notes)
    assert "B¸o c¸o ×" in result.parts[0].text


@needs_ocr
def test_scanned_pdf_is_read_by_ocr():
    scan = f.image_pdf([f.text_image(["BÁO CÁO", "Kết quả xây dựng đơn vị điển hình"])])
    result = extract(att("scan0001.pdf", scan))
    assert result.ocr is True and "baocao" in fold_compact(result.parts[0].head)


def scan_first_page(title: str, code: str, dated: bool = True) -> bytes:
    """A scanned first page: motto, number, date line, title, subject; then a body ending in a marker."""
    head = ["TRƯỜNG THCS NGUYỄN HUỆ", f.MOTTO, f"Số: 12/{code}-THCSNH"]
    head += ["Quận 12, ngày 05 tháng 10 năm 2023"] if dated else []
    head += [title, "Về việc đề nghị công nhận đơn vị", "điển hình năm 2023", "Kính gửi: Phòng Giáo dục"]
    body = [f"Nội dung đoạn {i}, văn bản bình thường." for i in range(1, 8)] + ["KẾT THÚC VĂN BẢN"]
    return f.text_image(head + body)


SCAN_BODY_PAGE = f.text_image([f"Nội dung trang tiếp, đoạn {i}." for i in range(1, 15)] + ["HẾT TRANG"])


@needs_ocr
def test_combined_scan_is_split_by_the_heads_of_its_pages_and_bodies_are_not_read():
    pages = [scan_first_page("TỜ TRÌNH", "TTr"), scan_first_page("BÁO CÁO", "BC"), SCAN_BODY_PAGE,
             scan_first_page("BIÊN BẢN", "BB"), SCAN_BODY_PAGE, scan_first_page("KẾ HOẠCH", "KH")]
    result = extract(att("hoso.pdf", f.image_pdf(pages)))
    assert result.ocr and [(p.first_page, p.last_page) for p in result.parts] == [(1, 1), (2, 3), (4, 5), (6, 6)]
    assert [fold_compact(p.head).count(t) for p, t in zip(result.parts, ("totrinh", "baocao", "bienban", "kehoach"))] \
        == [1, 1, 1, 1]
    # what decides was in each head: no body was read, and the digest says so
    text = fold_compact(" ".join(p.text for p in result.parts))
    assert "ketthucvanban" not in text and "hettrang" not in text
    assert "OCR chỉ đọc phần đầu của trang 1-6 (đủ để tách và nhận ra văn bản)" in result.notes


@needs_ocr
def test_a_scan_whose_head_does_not_decide_is_read_whole():
    # No date line: the classifier looks for the year in the body, so the body is read, and the next page too.
    result = extract(att("scan.pdf", f.image_pdf([scan_first_page("TỜ TRÌNH", "TTr", dated=False), SCAN_BODY_PAGE])))
    text = fold_compact(result.parts[0].text)
    assert "totrinh" in text and "ketthucvanban" in text and "hettrang" in text
    assert not any("phần đầu" in note for note in result.notes)


@needs_ocr
def test_a_page_image_seen_twice_is_read_once(monkeypatch):
    monkeypatch.setattr(ocr_engine, "_MEMO", ocr_engine._Memo())
    calls = []
    real = ocr_engine._tesseract_command if ocr_engine._ENGINE.tsv(_blank(), 200, 5) is None else None
    if real is None:
        engine_tsv = ocr_engine._ENGINE.tsv
        monkeypatch.setattr(ocr_engine._ENGINE, "tsv", lambda *a: calls.append(1) or engine_tsv(*a))
    else:
        monkeypatch.setattr(ocr_engine, "_tesseract_command", lambda *a: calls.append(1) or real(*a))
    page = scan_first_page("TỜ TRÌNH", "TTr")
    first = extract(att("to trinh.pdf", f.image_pdf([page])))
    read_once = len(calls)
    second = extract(att("ho so.pdf", f.image_pdf([page, SCAN_BODY_PAGE])))  # the same page in another file
    assert second.parts[0].head.startswith(first.parts[0].head)
    assert read_once >= 1 and len(calls) == read_once + 1  # only the new page's first rows were read


def _blank():
    from PIL import Image

    return Image.new("L", (40, 40), 255)


HEAD = ["UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN HUỆ", "Số: 12/TTr-THCSNH", f.MOTTO,
        "Quận 12, ngày 05 tháng 10 năm 2023", "TỜ TRÌNH", "Về việc đề nghị công nhận đơn vị điển hình",
        "năm học 2023-2024"]


@pytest.mark.parametrize("lines, decides", [
    # issuer, number, motto, date, title, two lines of subject whose year agrees: all the classifier needs
    (HEAD, True),
    # OCR specks around the title do not hide it
    (HEAD[:5] + ["ˆ KẾ. :HOẠCH tuy"] + HEAD[6:], True),
    # the date misread: the year check would look into the body
    (HEAD[:4] + ["Quận 12, naày 05 tháng 10 năm 2023"] + HEAD[5:], False),
    # a year misread as 2033: nothing in the subject agrees with it
    (HEAD[:4] + ["Quận 12, ngày 05 tháng 10 năm 2033"] + HEAD[5:], False),
    # the issuer read as specks
    (HEAD[:1] + ["mg m......"] + HEAD[2:], False),
    # the subject may be cut short by the end of the head
    (HEAD[:7], False),
    # no title (a letter): the type is guessed from the body
    (HEAD[:5] + ["V/v gửi hồ sơ năm học 2023-2024", "Kính gửi: Phòng GD"], False),
    # not a document's head at all
    (["Nội dung trang tiếp", "BẢNG TỔNG HỢP", "dòng 1", "dòng 2"], False),
])
def test_head_decides(lines, decides):
    assert extract_ocr.head_decides(lines) is decides


def test_ocr_lines_keep_each_words_confidence():
    from bot.extract.ocr_tsv import ocr_lines

    page = tsv(1650, 2340, [row("TRƯỜNG THCS NGUYỄN HUỆ", 100, 100, 91.0) + [("ˆ", 700, 100, 3.0)],
                            row("Về việc đề nghị", 100, 200, 40.0)])
    first, second = ocr_lines(page)
    assert first.text == "TRƯỜNG THCS NGUYỄN HUỆ ˆ" and first.confidences == (91.0, 91.0, 91.0, 91.0, 3.0)
    assert second.text == "Về việc đề nghị" and second.confidences == (40.0,) * 4


@pytest.mark.parametrize("line, repaired", [
    # OCR's misreadings of the date line, written as the classifier reads it
    ("Quận 12, ngày.12 tháng 9 năm 2023", "Quận 12, ngày 12 tháng 9 năm 2023"),
    ("—— Quận 12, ngà 21 tháng 9 năm 2023", "—— Quận 12, ngày 21 tháng 9 năm 2023"),
    (". Quận12,nụày20 tháng 9 năm 2023", ". Quận12,ngày 20 tháng 9 năm 2023"),
    ("Quận 12, ngày L4 thắng 9 năm 2022", "Quận 12, ngày 14 tháng 9 năm 2022"),
    ("Quận 12, ngày 24 tháng $ 9 năm 2023.", "Quận 12, ngày 24 tháng 9 năm 2023"),
    ("Quận 12, ngày. 21 tháng 9 năm 2033", "Quận 12, ngày 21 tháng 9 năm 2033"),  # the year as read
    # a day or month half read is left as it is, never guessed: the page is read whole
    ("Quận 12, ngày 35 tháng 9 năm. 2023", "Quận 12, ngày 35 tháng 9 năm. 2023"),
    ("Quận 12, ngày 2 25 tháng 9 năm 2023.", "Quận 12, ngày 2 25 tháng 9 năm 2023."),
    ("Quận 12, tgày t8 tháng 9 năm 2023", "Quận 12, tgày t8 tháng 9 năm 2023"),
    ("Quận 12, ngày 24 tháng ạ năm 2023", "Quận 12, ngày 24 tháng ạ năm 2023"),
    # left alone: read already, no year, not a date line, "này" without the place's comma
    ("Quận 12, ngày 05 tháng 10 năm 2023", "Quận 12, ngày 05 tháng 10 năm 2023"),
    ("Quận 12, ngày 25'tháng 9 năm 20;", "Quận 12, ngày 25'tháng 9 năm 20;"),
    ("Kế hoạch tháng 9 năm học 2023-2024", "Kế hoạch tháng 9 năm học 2023-2024"),
    ("báo cáo này tháng 9 năm 2023", "báo cáo này tháng 9 năm 2023"),
])
def test_a_misread_date_line_is_repaired(line, repaired):
    assert extract_ocr.repair_date_line(line) == repaired


def test_text_rows_are_found_without_ocr_and_a_tilted_photo_has_none():
    import io

    from PIL import Image

    lines = [f"Dòng {i}: một dòng chữ dài gần tới lề phải" for i in range(1, 13)]
    page = Image.open(io.BytesIO(f.text_image(lines))).convert("L")
    rows = extract_ocr.text_rows(page.reduce(2))
    assert rows is not None and len(rows) == 12
    tilted = page.rotate(3, fillcolor=255, expand=True)  # a photo taken askew: its lines overlap row by row
    assert extract_ocr.text_rows(tilted.reduce(2)) is None


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
    assert "đã chuyển từ bảng mã TCVN3 (ABC)" in result.notes


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
    assert result.error == "tệp DOCX có khai báo XML DOCTYPE/entity (không đọc, vì an toàn)"
    assert result.parts == ()


def test_docx_that_is_really_html_is_read_as_html():
    page = "<html><head><title>x</title><script>var a=1;</script></head><body><p>TỜ TRÌNH</p><p>Về việc đề nghị</p></body></html>"
    result = extract(att("totrinh.docx", page.encode("utf-8")))
    assert result.kind == "text" and head_lines(result) == ["TỜ TRÌNH", "Về việc đề nghị"]
    assert "không phải tệp DOCX thật (có vẻ là HTML)" in result.notes


def test_empty_html_disguised_as_docx_is_an_error():
    result = extract(att("x.docx", b"<html><body>   </body></html>"))
    assert result.error == "không phải tệp DOCX thật (có vẻ là HTML); không có chữ"


def test_docx_that_is_really_a_pdf_is_read_as_pdf():
    result = extract(att("baocao.docx", f.official_pdf([f.OfficialDoc(title="BÁO CÁO")])))
    assert result.kind == "pdf" and "BÁO CÁO" in head_lines(result)
    assert "không phải tệp DOCX thật (có vẻ là PDF)" in result.notes


@pytest.mark.parametrize("data, error", [
    (b"PK\x03\x04 this is not really a zip file", "tệp DOCX bị hỏng (vỏ ZIP bị hỏng)"),
    (bytes(range(256)) * 4, "không phải tệp DOCX thật (nội dung không nhận ra được)"),
])
def test_broken_docx(data, error):
    assert extract(att("hong.docx", data)).error == error


def test_encrypted_office_file_is_reported():
    data = extract_kinds._OLE_MAGIC + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100
    assert extract(att("matkhau.docx", data)).error == "tệp Word có mật khẩu (bị mã hóa)"


# --- DOC / RTF ------------------------------------------------------------------

@pytest.mark.skipif(extract_office.shutil.which("catdoc") is None, reason="catdoc is not installed")
def test_rtf_saved_as_doc_is_converted():
    rtf = rb"{\rtf1\ansi\ansicpg1258 {\fonttbl{\f0 Times New Roman;}}\f0 T\u7900? TRI\'ccNH\par V\u7873? vi\u7879?c\par}"
    result = extract(att("totrinh.doc", rtf))
    assert result.kind == "doc" and head_lines(result)[:2] == ["TỜ TRÌNH", "Về việc"]


@pytest.mark.skipif(extract_office.shutil.which("catdoc") is None, reason="catdoc is not installed")
def test_a_real_word_97_doc_is_read_with_its_vietnamese_header():
    # tests/fixtures/to-trinh-word97.doc: docfactory.official_docx() saved as "MS Word 97" by LibreOffice 7
    # (soffice --headless --convert-to doc:"MS Word 97"), an OLE file as old Word writes it.
    data = (Path(__file__).parent / "fixtures" / "to-trinh-word97.doc").read_bytes()
    result = extract(att("To trinh.doc", data))
    assert result.kind == "doc" and result.error is None
    lines = head_lines(result)
    assert {"UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN HUỆ", "TỜ TRÌNH"} <= set(lines), lines


def test_legacy_doc_without_converter(monkeypatch):
    monkeypatch.setattr(extract_office.shutil, "which", lambda name: None)
    data = extract_kinds._OLE_MAGIC + b"\x00" * 100 + "WordDocument".encode("utf-16-le")
    result = extract(att("cu.doc", data))
    assert (result.kind, result.error) == ("doc", "tệp .doc cũ nhưng máy chưa cài chương trình chuyển đổi (catdoc)")


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
    assert [r.error for r in got] == [None, "tệp rỗng (0 byte)", None]
    assert "BIÊN BẢN" in head_lines(got[2])


def test_a_large_attachment_reaches_its_worker_as_a_private_file_deleted_when_read(tmp_path):
    spool = tmp_path / "state" / "spool"
    pdf = f.official_pdf([f.OfficialDoc()])
    with Extractor(workers=0) as inline:
        expected = inline.extract(att("a.pdf", pdf))
    with Extractor(workers=1, timeout=30, spool=spool, spool_bytes=len(pdf) - 1) as pool:
        pool.submit("big", att("a.pdf", pdf))
        pool.submit("small", att("b.txt", b"TO TRINH"))  # under the threshold: sent as bytes
        (written,) = spool.iterdir()  # written before it is sent, readable by this user only
        assert written.read_bytes() == pdf and written.stat().st_mode & 0o777 == 0o600
        assert spool.stat().st_mode & 0o777 == 0o700
        results = dict(pool.ready(None))
        while len(results) < 2:
            results.update(pool.ready(None))
        assert results["big"] == expected and results["big"].error is None
        assert list(spool.iterdir()) == []  # deleted once read, with the pool still running


@pytest.mark.skipif(OCR_MISSING is not None, reason=f"OCR: {OCR_MISSING}")
def test_a_scan_read_by_path_gives_the_text_it_gives_from_bytes(tmp_path):
    scan = f.image_pdf([f.text_image(["TRƯỜNG THCS NGUYỄN HIỀN", "TỜ TRÌNH", "Về việc đề nghị công nhận"])])
    with Extractor(workers=0, ocr=True) as inline:
        expected = inline.extract(att("scan.pdf", scan))
    with Extractor(workers=1, timeout=60, ocr=True, spool=tmp_path / "spool", spool_bytes=1000) as pool:
        got = pool.extract(att("scan.pdf", scan))
    assert got == expected and got.ocr and "TỜ TRÌNH" in head_lines(got)


def test_a_signed_pdf_read_by_path_gives_the_signature_it_gives_from_bytes(tmp_path):
    from datetime import datetime, timezone

    from tests import officialfactory as of

    now = datetime(2023, 10, 5, tzinfo=timezone.utc)
    pki = of.make_pki(now)
    signed = of.sign(of.plain_pdf(), pki.signer, (pki.root,), signed_at=now)
    with Extractor(workers=0) as inline:
        expected = inline.extract(att("to-trinh-ky-so.pdf", signed))
    with Extractor(workers=1, timeout=60, spool=tmp_path / "spool", spool_bytes=1000) as pool:
        got = pool.extract(att("to-trinh-ky-so.pdf", signed))
    assert expected.official.signatures.signatures  # the bytes' reading finds the signature ...
    assert got.official.signatures == expected.official.signatures  # ... and so does the mapped file's


def test_files_of_large_attachments_not_read_are_deleted_on_cancel_and_close(tmp_path):
    spool = tmp_path / "spool"
    pdf = f.official_pdf([f.OfficialDoc()])
    with Extractor(workers=1, timeout=30, spool=spool, spool_bytes=1000) as pool:
        for n in range(3):
            pool.submit(n, att(f"{n}.pdf", pdf))
        assert len(list(spool.iterdir())) == 3
        pool.cancel()  # a stop request: the queued ones are dropped, the running one finishes unseen
    assert list(spool.iterdir()) == []


def test_a_spooled_copy_lost_before_its_worker_reads_it_is_the_machines_fault_not_the_files(tmp_path):
    spool = tmp_path / "spool"
    with Extractor(workers=1, timeout=30, spool=spool, spool_bytes=1000) as pool:
        pool.submit("a", att("a.pdf", f.official_pdf([f.OfficialDoc()])))
        for written in spool.iterdir():  # someone cleans the state directory by hand
            written.unlink()
        ((key, result),) = pool.ready(None)
    assert key == "a" and isinstance(result, JobFailed) and result.environment  # nobody is charged


def test_files_left_by_a_dead_bot_are_deleted_at_the_next_start_and_a_live_ones_kept(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    dead = spool / "99999999-0-1.att"  # beyond any pid: the bot that wrote it was killed
    live = spool / f"{os.getppid()}-0-1.att"  # a running process's: still in use
    dead.write_bytes(b"%PDF-1.4 left behind")
    live.write_bytes(b"%PDF-1.4 in use")
    with Extractor(workers=1, timeout=30, spool=spool) as pool:
        assert pool.extract(att("small.txt", b"TO TRINH")).error is None  # no file to spool: the pool's start
    assert list(spool.iterdir()) == [live]


def test_extractor_times_out_kills_and_recovers():
    atts = [att("slow.pdf", _Sleep()), att("ok.pdf", f.official_pdf([f.OfficialDoc()]))]
    start = time.monotonic()
    with Extractor(workers=1, timeout=1.0) as pool:
        results = pool.extract_many(atts)
        again = pool.extract_many(atts[1:])
    assert results[0].error == "đọc tệp quá 1 giây, đã dừng" and results[0].kind == "pdf"
    assert results[1].error is None and again[0].error is None
    assert time.monotonic() - start < 15


def test_extractor_survives_a_crashing_worker():
    atts = [att("ok1.docx", f.official_docx()), att("crash.pdf", _Crash()), att("ok2.docx", f.official_docx())]
    with Extractor(workers=2, timeout=30) as pool:
        results = pool.extract_many(atts)
    assert results[1].error.startswith("trình đọc bị dừng đột ngột khi đọc tệp này (exit code 3)")
    assert results[0].error is None and results[2].error is None


def test_extractor_memory_limit_turns_a_memory_hog_into_an_error():
    scan = f.image_pdf([f.text_image(["BÁO CÁO"], size=(200, 280), font_size=20)])
    # renders a ~1 GB bitmap (the pixel cap, which would shrink it, is lifted)
    limits = ExtractLimits(ocr_dpi=3000, max_image_pixels=10**10)
    with Extractor(limits, workers=1, timeout=30, memory_limit=400 * 2**20, ocr=True) as pool:
        result = pool.extract(att("scan.pdf", scan))
    assert result.error in ("tệp cần nhiều bộ nhớ hơn mức cho phép để đọc",
                            "tệp scan nhưng máy chưa cài OCR") or "dừng đột ngột" in result.error


def _mail_with(name: str, data: bytes) -> bytes:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"], mail["Subject"], mail["Message-ID"] = "a@hcm-edu.example", "Hồ sơ", "<spool@x>"
    mail.set_content("Kính gửi")
    mail.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return mail.as_bytes()


def _one(pool: Extractor):
    got = []
    while not got:
        got = pool.ready(None)
    (result,) = got
    return result


def test_a_large_attachment_comes_back_from_its_parse_worker_as_a_private_file_not_bytes(tmp_path):
    from bot.archive import sha256
    from bot.extract.common import MappedFile

    spool = tmp_path / "state" / "spool"
    pdf = f.official_pdf([f.OfficialDoc()])
    archived = tmp_path / "m.eml"
    archived.write_bytes(_mail_with("a.pdf", pdf))
    with Extractor(workers=0) as inline:
        expected = inline.extract(att("a.pdf", pdf))
    with Extractor(workers=1, timeout=30, spool=spool, spool_bytes=len(pdf) - 1) as pool:
        pool.submit_parse("parse", str(archived))
        key, (message, digests) = _one(pool)
        (big,) = message.attachments
        assert isinstance(big.data, MappedFile) and big.data[:] == pdf and digests == [sha256(pdf)]
        (written,) = spool.iterdir()  # the parse worker's copy, readable by this user only
        assert written.stat().st_mode & 0o777 == 0o600
        pool.submit("read", big)  # its worker reads that very file: no second copy is written
        assert list(spool.iterdir()) == [written]
        assert _one(pool) == ("read", expected)
        assert list(spool.iterdir()) == []  # deleted once read
        pool.submit_parse("again", str(archived))
        _, (message, _) = _one(pool)
        assert len(list(spool.iterdir())) == 1
        pool.release(message.attachments)  # not read again (the cache had it): deleted when the message is done
        assert list(spool.iterdir()) == []
