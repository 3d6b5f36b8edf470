"""Tables of cases for what is NOT this campaign's: neighbouring programmes that share its words,
documents of issuers that are not schools, earlier years, spam, a mail with too many files,
and photographed pages that continue a document (issue 12).

Every assertion is on what the coordinator sees: the decision and its reason.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from bot import classify as C
from bot.app import name_first_pages
from bot.model import Attachment, DocumentPart, Extraction
from bot.store import StoredItem
from tests.test_classify import (RECEIVED, RULES, SCHOOL_MAIL, UNKNOWN_MAIL, VN, has, head, message, one,
                                 pdf)

TOPIC_BODY = ("Nhà trường luôn bảo đảm an ninh trật tự, hưởng ứng phong trào toàn dân bảo vệ an ninh Tổ quốc "
              "(ANTQ) và phối hợp với Công an phường trong công tác phòng ngừa, tố giác tội phạm.")


# --------------------------------------------------------------------------
# Neighbouring programmes: same topic words, another object
# --------------------------------------------------------------------------

@pytest.mark.parametrize("title, subject, label", [
    ("BÁO CÁO", "Kết quả tổ chức Ngày hội toàn dân bảo vệ an ninh Tổ quốc năm 2023",
     "Ngày hội toàn dân bảo vệ ANTQ"),
    ("KẾ HOẠCH", "Tổ chức “Ngày hội toàn dân bảo vệ ANTQ” (19/8) năm 2023", "Ngày hội toàn dân bảo vệ ANTQ"),
    ("TỜ TRÌNH", "Về việc đề nghị công nhận trường đạt tiêu chuẩn “An toàn về an ninh, trật tự” năm 2023",
     "An toàn về an ninh, trật tự (Thông tư 124/2021/TT-BCA)"),
    ("BIÊN BẢN", "Họp xét đề nghị công nhận đạt chuẩn An toàn về ANTT theo Thông tư số 124/2021/TT-BCA",
     "An toàn về an ninh, trật tự (Thông tư 124/2021/TT-BCA)"),
    ("TỜ TRÌNH", "V/v đề nghị công nhận danh hiệu Tập thể lao động tiên tiến năm học 2022-2023",
     "thi đua, khen thưởng"),
    ("TỜ TRÌNH", "Về việc đề nghị UBND Thành phố tặng Bằng khen cho tập thể và cá nhân", "thi đua, khen thưởng"),
    ("BÁO CÁO", "Kết quả xây dựng trường học Xanh - Sạch - Đẹp năm học 2022-2023", "trường học Xanh - Sạch - Đẹp"),
    ("BÁO CÁO", "Công tác y tế trường học năm học 2022-2023", "y tế trường học"),
    ("KẾ HOẠCH", "Triển khai chuyển đổi số trong nhà trường năm học 2023-2024", "chuyển đổi số"),
    ("BÁO CÁO", "Kết quả phòng, chống bạo lực học đường học kỳ I", "phòng chống bạo lực học đường"),
    ("BÁO CÁO", "Công tác phòng cháy, chữa cháy năm 2023", "phòng cháy chữa cháy"),
])
def test_neighbouring_programmes_are_ignored_with_their_name(title, subject, label):
    d = one(head(title, subject=subject), TOPIC_BODY)
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0] == f"không thuộc đợt này (chủ đề: {label})"


@pytest.mark.parametrize("title, subject", [
    ("TỜ TRÌNH", "V/v đề nghị công nhận Trường THCS Nguyễn Hiền đạt đơn vị điển hình phong trào Toàn dân bảo vệ "
                 "ANTQ năm 2023"),
    ("BÁO CÁO", "Kết quả thực hiện Bộ tiêu chí cơ sở giáo dục điển hình về phong trào toàn dân BVANTQ "
                "năm học 2022 - 2023"),
    ("BIÊN BẢN", "Họp Hội đồng Thi đua - Khen thưởng xét, đề nghị công nhận đơn vị điển hình về phong trào toàn "
                 "dân bảo vệ an ninh Tổ quốc"),
    ("KẾ HOẠCH", "Xây dựng trường học điển hình về phong trào “Toàn dân bảo vệ an ninh Tổ quốc” năm học 2023-2024"),
])
def test_documents_naming_the_campaigns_object_count(title, subject):
    d = one(head(title, subject=subject), TOPIC_BODY + " Thông tư 124/2021/TT-BCA; Ngày hội toàn dân bảo vệ ANTQ.")
    assert (d.decision, d.campaign) == ("counted", True)
    assert has(d, "trích yếu nêu đối tượng của đợt này")


@pytest.mark.parametrize("subject, decision, reason", [
    # the trích yếu speaks of something else: not ours, at a glance
    ("Tổng kết năm học 2022-2023 và phương hướng năm học 2023-2024", "ignored",
     "không thuộc đợt này: trích yếu 'Tổng kết năm học 2022-2023 và phương hướng năm học 2023-2024' không nói về "
     "việc xây dựng, công nhận điển hình"),
    ("Phòng, chống tai nạn thương tích cho học sinh năm học 2023-2024", "ignored", "không nói về việc xây dựng"),
    # no trích yếu to judge by: a person looks
    ("", "review", "chỉ có từ ngữ chung của chủ đề"),
    ("Kết quả", "review", "chỉ có từ ngữ chung của chủ đề"),
])
def test_topic_words_alone_never_count(subject, decision, reason):
    text = head("BÁO CÁO", subject=subject) if subject else head("BÁO CÁO", subject="").replace(
        "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12", "")
    d = one(text, TOPIC_BODY)
    assert (d.decision, d.campaign) == (decision, False)
    assert has(d, reason)


@pytest.mark.parametrize("extra, decision", [
    # OCR cut the trích yếu; the opening sentence names the movement: the head names the object
    ("Căn cứ kết quả thực hiện phong trào toàn dân bảo vệ an ninh Tổ quốc năm học 2022-2023 của đơn vị,", "counted"),
    # ... but not a citation of another document
    ("Căn cứ Kế hoạch số 887/KH-GDĐT về phong trào toàn dân bảo vệ an ninh Tổ quốc;", "review"),
])
def test_a_trich_yeu_cut_by_ocr_is_completed_by_the_opening_lines(extra, decision):
    text = head("TỜ TRÌNH", subject="ục điển hình về phong").replace("Kính gửi: Phòng Giáo dục và Đào tạo Quận 12",
                                                                    extra)
    d = one(text)
    assert d.decision == decision


def test_object_and_another_programme_in_one_subject_is_for_a_person():
    subject = "Đề nghị công nhận đạt chuẩn An toàn về an ninh, trật tự và đơn vị điển hình về phong trào toàn dân " \
              "bảo vệ ANTQ"
    d = one(head("TỜ TRÌNH", subject=subject))
    assert d.decision == "review" and has(d, "trích yếu nêu cả đợt này")


# --------------------------------------------------------------------------
# Issuers that are not schools, even when a school forwards the document
# --------------------------------------------------------------------------

@pytest.mark.parametrize("parent, issuer, number, name", [
    ("CÔNG AN QUẬN 12", "CÔNG AN PHƯỜNG THẠNH LỘC", "Số: 25/KH-CAP", "Công an"),
    ("", "ỦY BAN NHÂN DÂN PHƯỜNG THẠNH LỘC", "Số: 112/KH-UBND", "Ủy ban nhân dân phường, xã"),
    ("ỦY BAN NHÂN DÂN", "PHƯỜNG AN PHÚ ĐÔNG", "Số: 40/KH-UBND", "Ủy ban nhân dân phường, xã"),
    ("ĐOÀN TNCS HỒ CHÍ MINH", "BCH ĐOÀN PHƯỜNG THẠNH LỘC", "Số: 05-KH/ĐP", "Đoàn Thanh niên, Đội"),
    ("ĐOÀN TNCS HỒ CHÍ MINH", "BCH ĐOÀN TRƯỜNG THCS NGUYỄN HIỀN", "Số: 03-KH/ĐTN", "Đoàn Thanh niên, Đội"),
    ("ỦY BAN NHÂN DÂN QUẬN 12", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", "Số: 887/KH-GDĐT", "chính Phòng"),
    ("", "", "Số: 31/KH-CAP", "Công an"),   # the head's name lines lost: the number says who issued it
])
def test_documents_of_other_issuers_are_ignored_even_from_a_school(parent, issuer, number, name):
    d = one(head("KẾ HOẠCH", parent=parent, issuer=issuer, number=number))
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0].startswith(f"văn bản do {name} ban hành (")
    assert d.reasons[0].endswith("không phải văn bản của trường")
    assert (issuer or number) in d.reasons[0]


def test_the_offices_own_plan_read_by_ocr_is_ignored():
    # OCR joined the supervisor's words and damaged the number: the issuer line still says who issued it
    text = head("KẾ HOẠCH", parent="ỦY-BAN NHÂN DÂN QUẬN 12 pũng nàryễ", issuer=": PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                number="Số: 887/KH- -GDĐt").replace("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "lằyuiá oan: VIỆT NAM. `")
    d = one(text, ocr=True)
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0].startswith("văn bản do chính Phòng ban hành (")


def test_a_ward_police_plan_read_by_ocr_is_ignored():
    # OCR damaged the supervisor's line ("CÔNG A AN QUẬN 12": not TT GDNN-GDTX Quận 12, which is named after the
    # place) and read specks before the number; the issuer line under it says who issued the plan
    text = ("' CÔNG A AN QUẬN 12:\n. CÔNG AN PHƯỜNG TÂN CHÁNH HIỆP '\nSố: '23/KH- -CAP :\n"
            "_ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "Phường Tân Chánh Hiệp, gày 20 tháng 9 năm 2023.\nKẾ HOẠCH\n"
            "Phối hợp với các cơ sở giáo dục trên địa bàn xây dựng điển hình\n"
            "về phong trào toàn dân bảo vệ ANTQ năm 2023")
    d = one(text, ocr=True)
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0].startswith("văn bản do Công an ban hành ('. CÔNG AN PHƯỜNG TÂN CHÁNH HIỆP")
    assert not has(d, "TT GDNN-GDTX")


def test_a_ward_plan_whose_number_line_starts_with_a_speck_is_ignored():
    # seed 3 (hard, scans): "_ Số: 63/H-UBND" (an underscore before it, KH read as H) was taken for the
    # issuer's name line, under the ward's; the plan was counted as the school's Kế hoạch
    text = ("ỦY BAN NHÂN DÂN\n: PHƯỜNG TÂN THỚI HIỆP\n_ Số: 63/H-UBND\n"
            "© ˆ ˆ CÔNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM _ -\n& Độc lập - Tư do - Hạnh phúc ^\n"
            "Phường Tân Thới Hiệb- ngày 24 tháng 9 năm 2023\n: . KẾ HOẠCH\n"
            "\" Xây đựng mô hình điền hình vế phong rào toàn đận bảo vệ an\n: ninh Tổ quốc năm 2023 -")
    d = one(text, ocr=True)
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0].startswith("văn bản do Ủy ban nhân dân phường, xã ban hành (': PHƯỜNG TÂN THỚI HIỆP")


@pytest.mark.parametrize("head_kw, signature, decision, reason", [
    # the head faded: who signed says who issued it
    (dict(parent="", issuer="", number=""), "TRƯỞNG CÔNG AN PHƯỜNG\nNguyễn Văn A", "ignored",
     "văn bản do Công an ban hành ('TRƯỞNG CÔNG AN PHƯỜNG'), không phải văn bản của trường"),
    (dict(parent="", issuer="", number=""), "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "ignored",
     "văn bản do Ủy ban nhân dân phường, xã ban hành ('TM. ỦY BAN NHÂN DÂN')"),
    (dict(parent="", issuer="", number=""), "TM. BAN CHẤP HÀNH\nBÍ THƯ", "ignored",
     "văn bản do Đoàn Thanh niên, Đội ban hành ('TM. BAN CHẤP HÀNH')"),
    # a school's own plan whose head was lost: its principal signs
    (dict(parent="", issuer="", number=""), "HIỆU TRƯỞNG\nNguyễn Văn A", "counted", "tiêu đề 'KẾ HOẠCH'"),
    # the school's head read: it issued the plan, whoever else signs beside
    ({}, "XÁC NHẬN CỦA CÔNG AN PHƯỜNG\nTRƯỞNG CÔNG AN PHƯỜNG", "counted", "đầu văn bản ghi THCS Nguyễn Hiền"),
])
def test_who_signed_says_who_issued_when_the_head_is_unreadable(head_kw, signature, decision, reason):
    d = one(head("KẾ HOẠCH", **head_kw), TOPIC_BODY + "\n" + signature, ocr=True)
    assert d.decision == decision, d.reasons
    assert has(d, reason), d.reasons


# --------------------------------------------------------------------------
# The office's own plan, its head unreadable, forwarded by a school
# --------------------------------------------------------------------------

OFFICE_SUBJECT = "Tiếp tục xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023"
# Sentences of Kế hoạch 887/KH-GDĐT (shared/reference): the office is the author and gives the schools tasks.
OFFICE_AUTHOR = ("Căn cứ chức năng, nhiệm vụ được giao, Phòng Giáo dục và Đào tạo Quận 12 xây dựng Kế hoạch "
                 "triển khai thực hiện công tác xây dựng cơ sở giáo dục điển hình như sau:")
OFFICE_TASKS = "- Chỉ đạo các trường đẩy mạnh tuyên truyền, vận động cán bộ, giáo viên tham gia bảo vệ ANTT."
OFFICE_CLOSE = "Đề nghị các đơn vị nghiêm túc triển khai thực hiện./."
OFFICE_SIGNER = "Nơi nhận:\n- Sở GD&ĐT;\n- Các cơ sở giáo dục;\n- Lưu: VT.\nKT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG"
# A school's own plan says the same things in its own voice, and cites the office's plan.
SCHOOL_PLAN = ("Căn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023 của Phòng Giáo dục và Đào tạo Quận 12 về tiếp tục "
               "xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc;\n"
               "Trường THCS Nguyễn Hiền xây dựng Kế hoạch như sau:\n"
               "Ban Giám hiệu chỉ đạo chung; văn thư gửi hồ sơ về Phòng GD&ĐT trước ngày 10/10.\nHIỆU TRƯỞNG")
UNREADABLE = dict(parent="", issuer="▒▒▒▒▒ ▒▒▒▒ ▒▒▒ ▒▒ ▒▒▒▒", number="", subject=OFFICE_SUBJECT)


@pytest.mark.parametrize("head_kw, body, filename, decision, reason", [
    # the office speaks as the author, gives the schools their tasks and signs: ignored, whatever the file name
    (UNREADABLE, "\n".join((OFFICE_AUTHOR, OFFICE_TASKS, OFFICE_CLOSE, OFFICE_SIGNER)), "scan0003.pdf", "ignored",
     "văn bản của chính Phòng (Kế hoạch của Phòng GD&ĐT), không phải văn bản của trường: trích yếu của Phòng"),
    # the signature lost (a photo of page 1 only): its trích yếu, one sentence and "PGD" in the file name
    (UNREADABLE, OFFICE_TASKS, "Kế hoạch PGD - THCS Nguyễn Hiền.pdf", "ignored",
     "lời của Phòng: 'Chỉ đạo các trường', tên tệp ghi 'PGD'"),
    # the head lost entirely, its trích yếu too: the signature and one sentence still say whose it is
    (dict(parent="", issuer="", number="", subject="Triển khai xây dựng cơ sở giáo dục điển hình về phong trào "
                                                    "toàn dân bảo vệ ANTQ năm 2023"),
     OFFICE_CLOSE + "\n" + OFFICE_SIGNER, "document.pdf", "ignored", "người ký 'KT. TRƯỞNG PHÒNG'"),
    # thin evidence (one sentence and the file name): a person looks, it is never counted
    (dict(parent="", issuer="", number="", subject="Triển khai xây dựng cơ sở giáo dục điển hình về phong trào "
                                                    "toàn dân bảo vệ ANTQ năm 2023"),
     OFFICE_CLOSE, "KH_PGD.pdf", "review", "có thể là văn bản của chính Phòng (Kế hoạch của Phòng GD&ĐT)"),
    # a school's own plan citing the office's: counted, "PGD" in its file name or not
    ({}, SCHOOL_PLAN, "Kế hoạch ANTQ gửi PGD.pdf", "counted", "tiêu đề 'KẾ HOẠCH' ở đầu văn bản"),
    (dict(parent="", issuer="", number="", subject="Xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ "
                                                    "an ninh Tổ quốc năm học 2023-2024"),
     SCHOOL_PLAN, "scan0001.pdf", "counted", "tiêu đề 'KẾ HOẠCH' ở đầu văn bản"),
    # a roster school in the head, the office's words in the body: the school issued it... unless they are many
    ({}, OFFICE_TASKS, "hoso.pdf", "counted", "đầu văn bản ghi THCS Nguyễn Hiền"),
    ({"subject": OFFICE_SUBJECT}, "\n".join((OFFICE_AUTHOR, OFFICE_TASKS, OFFICE_SIGNER)), "hoso.pdf", "review",
     "đầu văn bản ghi 'TRƯỜNG THCS NGUYỄN HIỀN' nhưng nội dung giống văn bản của chính Phòng"),
])
def test_the_offices_own_plan_is_known_by_its_content(head_kw, body, filename, decision, reason):
    d = one(head("KẾ HOẠCH", **head_kw), body, filename=filename, ocr=True)
    assert d.decision == decision, d.reasons
    assert has(d, reason), d.reasons
    assert d.campaign is (decision == "counted")


def test_the_offices_plan_as_ocr_reads_it_is_ignored():
    # What tesseract read of a faded scan of the office's plan (hard preset, tuning seed 11)
    text = ("PHEWES HEEE Wgl t0\nkĩ ÔN CỐ\nWENU HE. CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "\" Độc lập - Tư do - Hạnh phúc `\n_ Quận 12, ñ9ày: 24 tháng 7 năm 2023 _\n: KẾ HOẠCH ˆ 8c\n"
            "“Tiếp tục xây dựng cơ sở giáo dục điển hình về phong trào toàn\n"
            ": , _ dân bảo vệ an ninh Tổ quốc năm 2023 :\n"
            ":'Căn cứ Kế hong số 3127/KH- SGDĐT ngày 06/7/2023 của Sở Giáo dục và\n"
            "Phòng Giáo dục và Đào lc Quận 12 xây dựng Kế hoạch tiếp tực xây dựng cơ\n"
            "- Vận động các cơ sở giáo dục đảng ký thực hiện điển hình trong phong trào\n"
            "Đề nghị Thủ trưởng các cơ sở giáo dục triển khai thực hiện nghiêm túc Kế „\n"
            "- Các-co sở giáo dục:\n- Lửu: Vĩ. °\nKL TRƯỜNG PHÒNG")
    d = one(text, filename="4. Kế hoạch PGD.pdf", ocr=True)
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0].startswith("văn bản của chính Phòng (Kế hoạch của Phòng GD&ĐT)")
    assert has(d, "người ký 'KL TRƯỜNG PHÒNG'")


@pytest.mark.parametrize("parent", ["UBND PHƯỜNG AN PHÚ ĐÔNG", "PHÒNG GD&ĐT QUẬN 12", "ỦY BAN NHÂN DÂN QUẬN 12"])
def test_a_supervising_body_above_the_school_is_not_the_issuer(parent):
    d = one(head("TỜ TRÌNH", parent=parent))
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-hien")


def test_a_supervising_body_alone_is_not_taken_for_the_issuer():
    # The school's line lost (OCR); the number is the school's: not the ward's document.
    d = one(head("TỜ TRÌNH", parent="UBND PHƯỜNG AN PHÚ ĐÔNG", issuer=""))
    assert not any("ban hành (" in r for r in d.reasons)


# --------------------------------------------------------------------------
# A date of an earlier year under a trích yếu of this cycle's year
# --------------------------------------------------------------------------

@pytest.mark.parametrize("date, subject_year, decision, reason", [
    # OCR read "2022" for "2023" (seeds 12 and 13): the trích yếu says 2023, a person looks
    ("Quận 12, ngày 20 tháng 9 năm 2022", "2023", "review",
     "ngày văn bản ghi năm 2022 (20/09/2022) nhưng trích yếu ghi năm 2023: có thể đọc sai ngày"),
    # last year's minutes, all of it last year's: ignored
    ("Quận 12, ngày 20 tháng 9 năm 2022", "2022", "ignored", "hồ sơ của năm trước (ngày 20/09/2022)"),
    ("Quận 12, ngày 20 tháng 9 năm 2023", "2023", "counted", "ngày văn bản 20/09/2023"),
])
def test_an_earlier_date_under_this_years_trich_yeu_is_for_a_person(date, subject_year, decision, reason):
    subject = f"Họp xét, đề nghị công nhận đơn vị đạt điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc " \
              f"năm {subject_year}"
    d = one(head("BIÊN BẢN", date=date, subject=subject), ocr=True)
    assert d.decision == decision
    assert has(d, reason), d.reasons


# --------------------------------------------------------------------------
# Spam and unrelated mail; too many attachments
# --------------------------------------------------------------------------

def _decide(msg, files):
    return C.classify_message(msg, files, RULES, RECEIVED, True)


def _text(text: str, kind: str = "pdf", ocr: bool = False) -> Extraction:
    lines = text.splitlines()
    return Extraction(kind=kind, parts=(DocumentPart(head="\n".join(lines[:20]), text=text),), ocr=ocr)


INVOICE = "HÓA ĐƠN GIÁ TRỊ GIA TĂNG\nCông ty TNHH Thương mại Minh Phát\nSố: 0012345\nTổng cộng: 12.450.000 VND"


@pytest.mark.parametrize("subject, body, files, items", [
    ("Hoa don dien tu thang 9", "Kinh gui quy khach, hoa don dinh kem (attached).", [("HoaDon.pdf", INVOICE)], 1),
    ("Khuyến mãi tháng 10", "Giảm giá 50% tất cả sản phẩm. Xem file đính kèm.", [("catalogue.pdf", "Bảng giá 2023")], 1),
    ("Invoice attached", "Please find the invoice attached.", [], 0),
])
def test_mail_with_no_school_and_no_campaign_words_is_ignored_not_reviewed(subject, body, files, items):
    msg = message("sales@minhphat-shop.example", subject=subject, body_text=body)
    decisions = _decide(msg, [(pdf(name), _text(text)) for name, text in files])
    assert len(decisions) == items
    assert all(d.decision == "ignored" and not d.campaign for d in decisions)
    assert all(has(d, "thư không rõ của trường nào và không có từ ngữ nào của đợt này") for d in decisions)


@pytest.mark.parametrize("subject, body", [
    ("Hồ sơ điển hình ANTQ", "Em gửi hồ sơ ạ."),             # the campaign's words in the mail
    ("Gửi hồ sơ", "Trường THCS Nguyễn Hiền gửi hồ sơ."),      # a roster school named
])
def test_mail_from_an_unknown_sender_about_the_campaign_still_goes_to_review(subject, body):
    msg = message(UNKNOWN_MAIL, subject=subject, body_text=body)
    decisions = _decide(msg, [(pdf("a.pdf"), _text("Nội dung khác\nkhông rõ"))])
    assert [d.decision for d in decisions] == ["review"]


@pytest.mark.parametrize("files, reviews", [(30, 0), (31, 1), (328, 1)])
def test_a_mail_over_the_attachment_cap_is_one_review_item(files, reviews):
    docs = [(pdf(f"anh_{k:03d}.pdf"), _text(head("TỜ TRÌNH"))) for k in range(files)]
    decisions = _decide(message(), docs)
    review = [d for d in decisions if d.decision == "review"]
    assert len(review) == reviews
    if reviews:
        assert review[0].part_index == -1
        assert has(review[0], f"thư có {files} tệp đính kèm, quá giới hạn 30 tệp một thư")
        assert sum(d.decision == "ignored" for d in decisions) == files


# --------------------------------------------------------------------------
# Photographed pages: one photo per page
# --------------------------------------------------------------------------

def _photo(name: str, text: str) -> tuple[Attachment, Extraction]:
    return (Attachment(filename=name, content_type="image/jpeg", data=b"\xff" * 150_000),
            _text(text, kind="image", ocr=True))


PAGE_2 = ("2\nphối hợp với Công an phường tổ chức tuyên truyền cho học sinh về phòng ngừa tội phạm,\n"
          "100% cán bộ, giáo viên tham gia đầy đủ các buổi sinh hoạt chuyên đề.")
PAGE_3 = "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nHIỆU TRƯỞNG\n(đã ký)\nNguyễn Thị Lan"


@pytest.mark.parametrize("names", [
    ("IMG_20231005_101112.jpg", "IMG_20231005_101130.jpg", "IMG_20231005_101151.jpg"),
    ("z4701234567890_1a2b3c4d5e6f.jpg", "z4701234567891_7a8b9c0d1e2f.jpg", "z4701234567893_0f1e2d3c4b5a.jpg"),
    ("image0.jpeg", "image1.jpeg", "image2.jpeg"),
])
def test_pages_without_a_title_continue_the_document_photographed_before_them(names):
    docs = [_photo(names[0], head("TỜ TRÌNH")), _photo(names[1], PAGE_2), _photo(names[2], PAGE_3)]
    decisions = _decide(message(), docs)
    assert [(d.decision, d.school, d.doc_types) for d in decisions] == \
        [("counted", "thcs-nguyen-hien", ("to_trinh",))] * 3
    assert decisions[1].reasons[0] == f"trang tiếp theo của tệp '{names[0]}'"
    assert decisions[2].reasons[0] == f"trang tiếp theo của tệp '{names[0]}'"


def test_a_page_opening_with_a_sentence_about_the_school_continues():
    page = "trường học tổ chức cho học sinh tham gia các buổi tuyên truyền,\n" + PAGE_2
    decisions = _decide(message(), [_photo("IMG_1.jpg", head("BÁO CÁO")), _photo("IMG_2.jpg", page)])
    assert [d.decision for d in decisions] == ["counted", "counted"]
    assert decisions[1].reasons[0] == "trang tiếp theo của tệp 'IMG_1.jpg'"


def test_a_titled_page_starts_the_next_document():
    docs = [_photo("IMG_1.jpg", head("TỜ TRÌNH")), _photo("IMG_2.jpg", PAGE_2),
            _photo("IMG_3.jpg", head("BIÊN BẢN")), _photo("IMG_4.jpg", PAGE_3)]
    decisions = _decide(message(), docs)
    assert [d.doc_types for d in decisions] == [("to_trinh",), ("to_trinh",), ("bien_ban",), ("bien_ban",)]
    assert decisions[3].reasons[0] == "trang tiếp theo của tệp 'IMG_3.jpg'"


def test_continuation_of_a_page_in_review_is_not_a_review_item():
    first = head("TỜ TRÌNH", issuer="TRƯỜNG THCS KHÔNG CÓ TRONG DANH SÁCH")
    decisions = _decide(message(UNKNOWN_MAIL), [_photo("IMG_1.jpg", first), _photo("IMG_2.jpg", PAGE_2)])
    assert [d.decision for d in decisions] == ["review", "ignored"]
    assert decisions[1].reasons[0].startswith("trang tiếp theo của tệp 'IMG_1.jpg' (trang đầu đang chờ kiểm tra")


def test_an_untitled_page_after_a_document_file_is_not_a_continuation():
    docs = [(pdf("to_trinh.pdf"), _text(head("TỜ TRÌNH"))), _photo("IMG_2.jpg", PAGE_2)]
    decisions = _decide(message(), docs)
    assert decisions[1].decision == "review" and not decisions[1].reasons[0].startswith("trang tiếp theo")


def _stored(id_: int, filename: str, reasons: tuple[str, ...], part_index: int = 0) -> StoredItem:
    return StoredItem(id=id_, message_id="<m@x>", from_addr=SCHOOL_MAIL, subject="", received_at=datetime(
        2023, 10, 5, 9, 0, tzinfo=VN), container="", filename=filename, part_index=part_index, first_page=1,
        last_page=1, school="thcs-nguyen-hien", doc_types=("to_trinh",), campaign=True, decision="counted",
        confidence=1.0, reasons=reasons, cycle=2023, content_sha256="")


def test_the_export_names_the_first_pages_item():
    items = [_stored(17, "IMG_1.jpg", ("tiêu đề 'TỜ TRÌNH' ở đầu văn bản",)),
             _stored(18, "IMG_2.jpg", ("trang tiếp theo của tệp 'IMG_1.jpg'", "tiêu đề 'TỜ TRÌNH' ở đầu văn bản")),
             _stored(19, "IMG_3.jpg", ("trang tiếp theo của tệp 'IMG_1.jpg' (trang đầu đang chờ kiểm tra)",))]
    out = name_first_pages(items)
    assert out[0] == items[0]
    assert out[1].reasons == ("trang tiếp theo của R17 (tệp 'IMG_1.jpg')", "tiêu đề 'TỜ TRÌNH' ở đầu văn bản")
    assert out[2].reasons == ("trang tiếp theo của R17 (tệp 'IMG_1.jpg') (trang đầu đang chờ kiểm tra)",)


# --------------------------------------------------------------------------
# The rules file of the neighbours
# --------------------------------------------------------------------------

def test_programmes_file_errors_name_the_key():
    from bot.errors import RulesError
    from bot.rules.programmes import with_programmes
    with pytest.raises(RulesError, match=r"programme\[0\]\.phrases: list at least one phrase"):
        with_programmes(RULES.campaign, {"programme": [{"name": "X", "phrases": []}]})
    with pytest.raises(RulesError, match=r"issuer\[0\]\.colour: unknown key"):
        with_programmes(RULES.campaign, {"issuer": [{"name": "X", "lines": ["a"], "colour": 1}]})
    with pytest.raises(RulesError, match=r"office_documents\.phrases: list at least one phrase"):
        with_programmes(RULES.campaign, {"office_documents": {"name": "X", "subjects": ["a"]}})
    with pytest.raises(RulesError, match=r"office_documents\.signer: unknown key"):
        with_programmes(RULES.campaign, {"office_documents": {"name": "X", "phrases": ["a"], "signer": "b"}})
