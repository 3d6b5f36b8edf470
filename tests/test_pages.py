"""Page photos sent one per file: a page joins the document photographed before it only on evidence.

The held-out seed 2032 showed two phone photos of a school's Kế hoạch, whose heads OCR could not
read, counted as pages of the Biên bản photographed before them: the Kế hoạch went missing. These
tables pin the rule (``bot.classify.pages``) and what the coordinator sees (decision and reason).
"""
from __future__ import annotations

import pytest
from dataclasses import replace

import tomllib
from pathlib import Path

from bot import classify as C
from bot.classify.doctype import body_type
from bot.classify.pages import (Candidate, Closing, LaterPage, PageSigns, closing_block, joins, misfit, page_forms,
                                page_signs, place)
from bot.errors import RulesError
from bot.model import Attachment, DocumentPart, Extraction
from bot.rules.campaign import parse_campaign
from bot.rules.model import Pages, Rules
from bot.rules.programmes import with_programmes
from tests.test_classify import PROGRAMMES, RECEIVED, ROSTER, RULES, has, head, message
from bot.rules.roster import parse_roster

FORMS = page_forms(Pages())

BODY = ("phối hợp với Công an phường tổ chức tuyên truyền cho học sinh về phòng ngừa tội phạm,\n"
        "100% cán bộ, giáo viên tham gia đầy đủ các buổi sinh hoạt chuyên đề về an ninh trật tự.")
PLAN_BODY_TOP = ("Căn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023 của Phòng Giáo dục và Đào tạo Quận 12;\n"
                 "Căn cứ tình hình thực tế của đơn vị, Trường THCS Nguyễn Hiền xây dựng Kế hoạch triển khai "
                 "xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc như sau:\n"
                 "I. MỤC ĐÍCH, YÊU CẦU\nNâng cao nhận thức, trách nhiệm của cán bộ, giáo viên, nhân viên.")
# What OCR made of a head it could not read (seed 11: the TT GDNN-GDTX's Kế hoạch).
GARBLED_HEAD = "` _'ƯBND QUẬN1}> `\nTRUNG TÂM\nSố: S3KH'TTGDNNóDx\năn cứ Kế hoạch số"
SPECKS = "` .. ˆ\nS Ằ_ XS mướn ng T”NI HE KIÌNH 0S\nN2: x5)001/26c)5 NA g0 077\nqưz ñkk Ẵx bb"


# --------------------------------------------------------------------------
# What the top of a page shows
# --------------------------------------------------------------------------

@pytest.mark.parametrize("text, number", [
    ("2\n" + BODY, 2),
    ("- 3 -\n" + BODY, 3),
    ("Trang 2\n" + BODY, 2),
    ("2/3\n" + BODY, 2),
    ("ˆ_ + Nơi nhận;\n2\nTrên đây là Kế hoạch", 2),   # OCR put a line of the page's end first
    ("“ 2 3\n" + BODY, None),                         # specks, not a number
    ("Số liệu cụ thể:\n" + BODY, None),
    (BODY + "\n" + BODY + "\n4", None),                  # a number deep in the page is no page number
])
def test_the_page_number_is_read_at_the_top(text, number):
    assert page_signs(text, FORMS).number == number


@pytest.mark.parametrize("text, head", [
    ("UBND QUẬN 12\nTRƯỜNG THCS NGUYỄN HIỀN\n" + BODY, "UBND QUẬN 12"),
    ("Ễ TRƯỜNG TH KIM ĐỒNG\n" + BODY, "Ễ TRƯỜNG TH KIM ĐỒNG"),      # a speck read as a letter before it
    (GARBLED_HEAD, "` _'ƯBND QUẬN1}> `"),
    ("Số; 79/KH-MNSC8\n" + BODY, "Số; 79/KH-MNSC8"),              # a number line OCR damaged
    ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA. VIỆT NAM\n" + BODY, "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA. VIỆT NAM"),
    ("Quận 12, ngày 05 tháng 10 năm 2023\n" + BODY, "Quận 12, ngày 05 tháng 10 năm 2023"),
    ("Quận 12, ngàv 05 tháng 10 năm 2023.\n" + BODY, "Quận 12, ngàv 05 tháng 10 năm 2023."),
    # not a head: a signer's title (HIỆU TRƯỞNG folds like TRƯỜNG), a numbered section, a body line
    ("Cuộc họp diễn ra ngày 28 tháng 9 năm 2023 tại phòng họp của trường.\n" + BODY, ""),
    ("Nơi nhận:\n- Như trên;\n- Lưu: VT.\nHIỆU TRƯỞNG\nNguyễn Thị Lan", ""),
    ("II. NỘI DUNG THỰC HIỆN\n" + BODY, ""),
    ("Số liệu cụ thể:\nSố học sinh được tư vấn tâm lý: 9 em.\n" + BODY, ""),
])
def test_a_head_at_the_top_is_recognised_even_damaged(text, head):
    assert page_signs(text, FORMS).head == head


@pytest.mark.parametrize("text, opening, closing", [
    (PLAN_BODY_TOP, "Căn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023 của Phòng Giáo dục và Đào tạo Quận 12;", ""),
    (".__ Căn cứ Kế hoạch số 887\n" + BODY, ".__ Căn cứ Kế hoạch số 887", ""),
    ("Kính gửi: Phòng Giáo dục và Đào tạo Quận 12.\n" + BODY, "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12.", ""),
    ("Thời gian: Vào lúc 8 giờ 00 phút, ngày 28 tháng 9 năm 2023.\nĐịa điểm: Phòng họp Hội đồng.",
     "Thời gian: Vào lúc 8 giờ 00 phút, ngày 28 tháng 9 năm 2023.", ""),
    ("Nơi nhận:\n- Phòng GD&ĐT Quận 12;\n- Lưu: VT.", "", "Nơi nhận:"),
    ("` Trên đây là Kế hoạch xây dựng cơ sở giáo dục điển hình\n" + BODY, "",
     "` Trên đây là Kế hoạch xây dựng cơ sở giáo dục điển hình"),
    (BODY, "", ""),
    # the first section of the body, OCR reading I as 1, under lines of the opening paragraph (seed 13)
    ("quan, doanh nghiệp, cơ sở giáo dục\nANTQ, Trường MN Tuổi Thơ báo cá.\n1. ĐẶC ĐIỂM TÌNH HÌNH\n" + BODY,
     "1. ĐẶC ĐIỂM TÌNH HÌNH", ""),
    ("I. MỤC ĐÍCH, YÊU CẦU\n" + BODY, "I. MỤC ĐÍCH, YÊU CẦU", ""),
    # later sections, or an item numbered 1 in a list, are no opening
    ("II. NỘI DUNG THỰC HIỆN\n" + BODY, "", ""),
    ("1. Tiêu chí 1: Tuyên truyền, giáo dục pháp luật\n" + BODY, "", ""),
])
def test_the_opening_and_the_end_of_a_document(text, opening, closing):
    signs = page_signs(text, FORMS)
    assert (signs.opening, signs.closing) == (opening, closing)


@pytest.mark.parametrize("text, legible", [
    (BODY, True),
    ("Ban đại diện cha mẹ học sinh phối hợp tốt với nhà trường trong việc đưa đón\nhọc sinh.", True),
    (SPECKS, False),
    ("2", False),            # too little to read
])
def test_the_top_reads_as_vietnamese_text_or_not(text, legible):
    assert page_signs(text, FORMS).legible is legible


# --------------------------------------------------------------------------
# Whether it joins the document before it
# --------------------------------------------------------------------------

@pytest.mark.parametrize("signs, before, continues, reason", [
    (PageSigns(number=2, legible=True), 1, True, "số trang 2 ở đầu trang"),
    (PageSigns(number=3), 2, True, "số trang 3 ở đầu trang"),
    # the number follows: it wins over words that would open a document
    (PageSigns(number=2, opening="Căn cứ Quyết định số 9745"), 1, True, "số trang 2"),
    # a number that does not follow: a page of another document, or pages out of order
    (PageSigns(number=2, legible=True), 3, False, "số trang 2 ở đầu trang không nối tiếp 3 trang trước"),
    # a larger number (a page missing, "3" misread for "2"): the rest of the top decides
    (PageSigns(number=3, legible=True), 1, True, "đầu trang là chữ của thân văn bản"),
    (PageSigns(number=3), 1, False, "không đọc được đầu trang"),
    (PageSigns(head="UBND QUẬN 12", legible=True), 2, False, "đầu trang giống phần đầu một văn bản ('UBND QUẬN 12')"),
    (PageSigns(opening="Căn cứ Kế hoạch số 887", legible=True), 2, False,
     "trang mở đầu một văn bản ('Căn cứ Kế hoạch số 887')"),
    (PageSigns(opening="Kính gửi: Phòng GD&ĐT", closing="Nơi nhận:"), 1, False, "trang mở đầu"),  # a whole page
    (PageSigns(closing="Nơi nhận:"), 2, True, "phần cuối văn bản ('Nơi nhận:') ở đầu trang"),
    (PageSigns(legible=True), 1, True, "đầu trang là chữ của thân văn bản, không có phần đầu văn bản"),
    (PageSigns(), 1, False, "không đọc được đầu trang"),
    (PageSigns(number=1), 1, False, "không đọc được đầu trang"),   # "1" is never printed: no evidence
])
def test_a_page_joins_only_on_evidence(signs, before, continues, reason):
    joining = joins(signs, before)
    assert joining.continues is continues
    assert reason in joining.reason


# --------------------------------------------------------------------------
# In a mail: what the coordinator sees
# --------------------------------------------------------------------------

def _photo(name: str, text: str) -> tuple[Attachment, Extraction]:
    lines = text.splitlines()
    return (Attachment(filename=name, content_type="image/jpeg", data=b"\xff" * 150_000),
            Extraction(kind="image", parts=(DocumentPart(head="\n".join(lines[:20]), text=text),), ocr=True))


def _decide(files):
    return C.classify_message(message(), files, RULES, RECEIVED, True)


MINUTES_END = "2\nbiểu quyết thống nhất 100% đề nghị công nhận đơn vị điển hình.\nNơi nhận:\n- Lưu: VT.\nTHƯ KÝ"


@pytest.mark.parametrize("plan_first_page", [
    PLAN_BODY_TOP,          # photographed with the top of the sheet cut off
    GARBLED_HEAD + "\n" + PLAN_BODY_TOP,   # a head OCR could not read
    SPECKS + "\n" + PLAN_BODY_TOP,         # glare: specks where the head was
], ids=["top cut off", "head garbled", "head in specks"])
def test_a_plan_whose_head_is_unreadable_is_not_counted_as_the_minutes_before_it(plan_first_page):
    """Seed 2032: Biên bản p1, p2, then Kế hoạch p1 (head unreadable), p2: never the Biên bản's pages."""
    files = [_photo("IMG_1.jpg", head("BIÊN BẢN")), _photo("IMG_2.jpg", MINUTES_END),
             _photo("IMG_3.jpg", plan_first_page), _photo("IMG_4.jpg", "2\n" + BODY)]
    d = _decide(files)
    assert [x.doc_types for x in d[:2]] == [("bien_ban",), ("bien_ban",)]
    assert [x.decision for x in d[:2]] == ["counted", "counted"]
    plan = d[2]
    assert plan.decision == "review" and plan.doc_types != ("bien_ban",)
    # the document is named by its first page's file, as a continuation page names it
    assert plan.reasons[0].startswith("không ghép vào tệp 'IMG_1.jpg' như trang tiếp theo: ")
    assert plan.reasons[0].endswith("; trang được xét riêng")
    # its own page 2 follows it (into review), not the minutes
    assert (d[3].decision, d[3].doc_types) == ("ignored", plan.doc_types)
    assert d[3].reasons[0].startswith("trang tiếp theo của tệp 'IMG_3.jpg' (trang đầu đang chờ kiểm tra")


def test_a_page_whose_top_cannot_be_read_is_reviewed_on_its_own():
    files = [_photo("IMG_1.jpg", head("BÁO CÁO")), _photo("IMG_2.jpg", SPECKS)]
    d = _decide(files)
    assert d[0].decision == "counted"
    assert d[1].decision == "review" and d[1].doc_types != ("bao_cao",)
    assert d[1].reasons[0] == ("không ghép vào tệp 'IMG_1.jpg' như trang tiếp theo: không đọc được đầu trang; "
                               "trang được xét riêng")


@pytest.mark.parametrize("page", [
    "2\n" + BODY,                                            # its page number
    BODY,                                                    # body text at the top, no head
    "Nơi nhận:\n- Phòng GD&ĐT Quận 12;\n- Lưu: VT.\nHIỆU TRƯỞNG\n(đã ký)\nNguyễn Thị Lan",   # the end
], ids=["page number", "body text", "the end"])
def test_a_later_page_is_still_joined_and_says_why(page):
    d = _decide([_photo("IMG_1.jpg", head("TỜ TRÌNH")), _photo("IMG_2.jpg", page)])
    assert [(x.decision, x.doc_types) for x in d] == [("counted", ("to_trinh",))] * 2
    assert d[1].reasons[0] == "trang tiếp theo của tệp 'IMG_1.jpg'"
    assert d[1].reasons[1] in ("số trang 2 ở đầu trang", "đầu trang là chữ của thân văn bản, không có phần đầu "
                               "văn bản", "phần cuối văn bản ('Nơi nhận:') ở đầu trang")


def test_page_numbers_must_follow_the_pages_joined_so_far():
    """Two pages numbered 2: the second is not the third page of the first document."""
    files = [_photo("IMG_1.jpg", head("TỜ TRÌNH")), _photo("IMG_2.jpg", "2\n" + BODY),
             _photo("IMG_3.jpg", "2\n" + BODY)]
    d = _decide(files)
    assert [x.decision for x in d[:2]] == ["counted", "counted"]
    assert d[2].decision == "review"
    assert has(d[2], "số trang 2 ở đầu trang không nối tiếp 2 trang trước")


# --------------------------------------------------------------------------
# A page without a head is typed by its body's headings and labels
# (`body` of each [[document]] in the shipped rules/campaign.toml)
# --------------------------------------------------------------------------

def _shipped_rules() -> Rules:
    schools = parse_roster(ROSTER)
    data = tomllib.loads((Path(__file__).resolve().parents[1] / "rules" / "campaign.toml").read_text("utf-8"))
    return Rules(campaign=with_programmes(parse_campaign(data, {s.code for s in schools}), PROGRAMMES),
                 schools=schools)


SHIPPED = _shipped_rules()
SHIPPED_TYPES = C.index_for(SHIPPED).types

# The first page of a Biên bản photographed below its title (seed 11, OCR as read, the school's name
# changed): the labels of
# the meeting, and a sentence that names the Báo cáo and the Tờ trình it approved.
MINUTES_CUT = """Thời gian: Vào lúc 14 giờ 00 phút, ngày 20 tháng 9 năm 2023:
Địa điểm: Phòng họp Hội đồng Trường THCS Nguyễn Hiền...
- Thành phần: Hội đóng thi đua - khen thưởng của nhà trường gốm 15 thành ˆ
Viên, có mặt 15/15.
Chủ trì: Bà Huỳnh Thị Thanh Loan - Hiệu trưởng,
“Thư ký: Ông Phan Minh Thẳng - Giáo viên.
NỘI DUNG CUỘC HỌP.
` __ 1, Bà Huỳnh Thị Thanh Loan thông qua Báo cáo kết quả xây dựng đơn vị
điển hình về phong trào toàn đân bảo vệ ANTQ năm học 2022-2023 và dự thảo Tờ
trình đề nghị công nhận.
',4. Kết quả biểu quyết: 15/15.thành viên (đạt 100%) đồng ý đế nghị công
nhận Trường THCS Nguyễn Hiền đạt đơn vị điển hình về phong trào toàn dân bảo vệ an -
ninh Tổ quốc năm 2023. - . . ,
Cuộc họp. kết thúc vào lúc 15 giờ 30 phút cùng ngày."""
# A Kế hoạch's first page cut below its trích yếu (seed 11), OCR reading "IV." as "1V."
PLAN_CUT = PLAN_BODY_TOP + """
Việc triển khai phải thiết thực, phù hợp với điều kiện của đơn vị.
II. NỘI DUNG 'THỤC HIỆN
- Công tác tuyên truyền, giáo dục, vận động: tổ chức 3 buổi tuyên truyền.
II. CHỈ TIÊU :
100% cán bộ, giáo viên, nhân viên và học sinh được tuyên truyền.
1V. TỔ CHỨC THỰC HIỆN"""
REPORT_PAGE = """I. ĐẶC ĐIỂM TÌNH HÌNH
Năm học 2022-2023, trường có 29 cán bộ, giáo viên, nhân viên; 180 học sinh.
II. KẾT QUẢ THỰC HIỆN THEO BỘ TIÊU CHÍ
1. Tiêu chí 1: Công tác lãnh đạo, chỉ đạo của chi bộ, thủ trưởng đơn vị
III. ĐÁNH GIÁ CHUNG
Ưu điểm: tập thể sư phạm đoàn kết."""


@pytest.mark.parametrize("text, type_id, seen", [
    (MINUTES_CUT, "bien_ban", ("Chủ trì", "Thư ký", "Nội dung cuộc họp", "Kết quả biểu quyết", "Cuộc họp kết thúc")),
    (PLAN_CUT, "ke_hoach", ("Mục đích", "Nội dung thực hiện", "Chỉ tiêu", "Tổ chức thực hiện")),
    (REPORT_PAGE, "bao_cao", ("Đặc điểm tình hình", "Kết quả thực hiện", "Tiêu chí", "Đánh giá chung", "Ưu điểm")),
    # OCR's "1H." for III (seed 11: a report's page 2 placed by its type, not by the plan next to it)
    ("- 3: Tiêu chí 3: Xây dựng lực lượng nòng cốt\n1H. ĐÁNH GIÁ CHUNG\nƯu điểm: tập thể đoàn kết.", "bao_cao",
     ("Tiêu chí", "Đánh giá chung", "Ưu điểm")),
    # two of a type are not enough
    ("Chủ trì: Bà Lan - Hiệu trưởng.\nThư ký: Ông Thắng - Giáo viên.\n" + BODY, None, ("Chủ trì", "Thư ký")),
    # the words inside sentences, wrapped onto a line, or cited: no heading, no label
    ("Hội đồng thông qua Báo cáo kết quả thực hiện, đánh giá chung và phương hướng;\n"
     "tổ chức thực hiện, chỉ tiêu và mục đích của kế hoạch\nđặc điểm tình hình, kết quả thực hiện, tiêu chí",
     None, ()),
    # a page showing two types as much: no type (a page of each, glued by OCR; or a plan of a meeting)
    (PLAN_CUT + "\n" + MINUTES_CUT, None, None),
    # a Tờ trình has no body lines in the rules: a letter's body never types a page
    ("Kính gửi: Phòng Giáo dục và Đào tạo Quận 12.\nCăn cứ Kế hoạch số 887/KH-GDĐT;\n"
     "Trường kính đề nghị Phòng xem xét, công nhận.\nTrân trọng./.", None, ()),
    # the closing sentence naming the document types its page on its own, OCR specks before it (seed 11)
    ("3\nhường và gia đình học sinh, nâng cao chất lượng\nˆ Trên đây là báo cáo kết quả xây\n"
     "dựng đơn vị điển hình về phong trào toàn dân\nNơi nhận:", "bao_cao", ("Trên đây là báo cáo",)),
    ("Ề ' Trên đây là Kế hoạch xây dựng cơ sở giáo dục\nNơi nhận:", "ke_hoach", ("Trên đây là kế hoạch",)),
    # ... and when the page's lines show another type clearly, the two disagree: no type
    (MINUTES_CUT + "\nTrên đây là báo cáo của Hội đồng.", None, None),
    # ... nor inside a sentence
    ("Hội đồng thống nhất: trên đây là báo cáo trung thực.", None, ()),
])
def test_a_body_shows_its_type_by_its_headings_and_labels(text, type_id, seen):
    found = body_type(text, SHIPPED_TYPES, 3, 2)
    assert found.type_id == type_id
    if seen is not None:
        assert found.lines_of(type_id or (found.seen[0][0] if found.seen else "")) == seen


def _decide_shipped(files):
    return C.classify_message(message(), files, SHIPPED, RECEIVED, True)


def test_a_first_page_photographed_below_its_head_is_counted_by_its_body():
    """Seed 11 (photos_mixed): Báo cáo p1, p2, then the Biên bản's first page cut below its title."""
    files = [_photo("IMG_1.jpg", head("BÁO CÁO")), _photo("IMG_2.jpg", "2\n" + BODY),
             _photo("IMG_3.jpg", MINUTES_CUT)]
    d = _decide_shipped(files)
    assert [(x.decision, x.doc_types) for x in d] == [("counted", ("bao_cao",)), ("counted", ("bao_cao",)),
                                                      ("counted", ("bien_ban",))]
    assert d[2].reasons[0].startswith("không ghép vào tệp 'IMG_1.jpg' như trang tiếp theo: trang mở đầu")
    assert has(d[2], "không có tiêu đề hay số ký hiệu; nội dung có các phần của Biên bản họp xét, đề nghị "
                     "('Chủ trì', 'Thư ký', 'Nội dung cuộc họp', 'Kết quả biểu quyết', 'Cuộc họp kết thúc')")


def test_a_body_of_another_programme_is_typed_but_not_counted():
    """The labels of a meeting say Biên bản, not whose: a neighbour's minutes stay out."""
    other = MINUTES_CUT.replace("xây dựng đơn vị\nđiển hình về phong trào toàn đân bảo vệ ANTQ",
                                "phong trào thi đua\nXanh - Sạch - Đẹp").replace(
        "đạt đơn vị điển hình về phong trào toàn dân bảo vệ an -\nninh Tổ quốc năm 2023",
        "đạt danh hiệu trường học Xanh - Sạch - Đẹp - An toàn năm 2023")
    d = _decide_shipped([_photo("IMG_1.jpg", head("BÁO CÁO")), _photo("IMG_2.jpg", other)])
    assert d[1].decision != "counted"


def test_a_trich_yeu_of_another_type_leaves_the_body_a_guess():
    """The trích yếu read (no title, no number) names a Báo cáo; the body shows a Biên bản: review."""
    text = "Về việc báo cáo kết quả xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ\n" + MINUTES_CUT
    d = _decide_shipped([_photo("IMG_1.jpg", text)])
    assert d[0].decision == "review"
    assert has(d[0], "trích yếu giống Báo cáo kết quả xây dựng đơn vị điển hình (kết quả xây dựng, đơn vị điển "
                     "hình) nhưng nội dung có các phần của Biên bản họp xét, đề nghị ('Chủ trì', ")


# A later page of the minutes: its number, the end of the meeting, the signatures.
MINUTES_PAGE_2 = """2
Ý kiến thảo luận: các thành viên thống nhất đánh giá nhà trường thực hiện tốt công tác tuyên truyền.
Kết quả biểu quyết: 15/15 thành viên (đạt 100%) đồng ý đề nghị công nhận.
Cuộc họp kết thúc vào lúc 15 giờ 30 phút cùng ngày.
THƯ KÝ                  CHỦ TỌA"""


@pytest.mark.parametrize("order", [
    ("BB1", "BC1", "BB2"),   # the minutes' page 2 among the report's pages
    ("BB2", "BC1", "BB1"),   # out of order: page 2 before its first page
    ("BB1", "BC1", "BB2 unnumbered"),   # no page number: its top reads as body text after the report's
], ids=["among another document", "before its first page", "no page number"])
def test_a_later_page_joins_the_one_document_of_its_type(order):
    pages = {"BB1": head("BIÊN BẢN"), "BC1": head("BÁO CÁO"), "BB2": MINUTES_PAGE_2,
             "BB2 unnumbered": MINUTES_PAGE_2[2:]}
    files = [_photo(f"IMG_{i}.jpg", pages[p]) for i, p in enumerate(order, start=1)]
    d = _decide_shipped(files)
    page = next(i for i, p in enumerate(order) if p.startswith("BB2"))
    first = f"IMG_{order.index('BB1') + 1}.jpg"
    assert (d[page].decision, d[page].doc_types) == ("counted", ("bien_ban",))
    assert d[page].reasons[:2] == (f"trang tiếp theo của tệp '{first}'",
                                   f"trang không có phần đầu văn bản, nội dung cùng loại với tệp '{first}' "
                                   "('Ý kiến thảo luận', 'Kết quả biểu quyết', 'Cuộc họp kết thúc', 'Thư ký')")
    assert sum(x.decision == "counted" and x.doc_types == ("bien_ban",) and not x.reasons[0].startswith(
        "trang tiếp theo") for x in d) == 1   # one Biên bản, not two


def test_a_later_page_without_its_first_page_is_no_document_of_its_own():
    d = _decide_shipped([_photo("IMG_1.jpg", head("BÁO CÁO")), _photo("IMG_2.jpg", "3\n" + MINUTES_PAGE_2[2:])])
    assert d[1].decision == "review" and d[1].doc_types == ("bien_ban",)
    assert d[1].reasons[0] == ("trang số 3, không có phần đầu văn bản; nội dung có các phần của Biên bản họp xét, "
                               "đề nghị ('Ý kiến thảo luận', 'Kết quả biểu quyết', 'Cuộc họp kết thúc', 'Thư ký') "
                               "nhưng trong thư không có trang đầu của loại văn bản này: không tính là một văn bản "
                               "riêng")


def test_its_body_refuses_a_join_its_page_number_would_make():
    """A Biên bản's page 2 right after a one-page Báo cáo: the number follows, the body says otherwise."""
    d = _decide_shipped([_photo("IMG_1.jpg", head("BÁO CÁO")), _photo("IMG_2.jpg", MINUTES_PAGE_2)])
    assert d[1].decision == "review" and d[1].doc_types == ("bien_ban",)
    assert d[1].reasons[0].startswith("trang số 2, không có phần đầu văn bản; nội dung có các phần của Biên bản")
    assert d[1].reasons[1] == ("không ghép vào tệp 'IMG_1.jpg' như trang tiếp theo: số trang 2 ở đầu trang nhưng "
                               "nội dung có các phần của Biên bản họp xét, đề nghị ('Ý kiến thảo luận', 'Kết quả "
                               "biểu quyết', 'Cuộc họp kết thúc', 'Thư ký'), không phải Báo cáo kết quả xây dựng "
                               "đơn vị điển hình; trang được xét riêng")


REPORT_END = ("3\nhường và gia đình học sinh, nâng cao chất lượng tuyên truyền.\n"
              "ˆ Trên đây là báo cáo kết quả xây dựng đơn vị điển hình về phong trào toàn dân\nNơi nhận:\n- Lưu: VT.")


def test_a_later_page_joins_a_first_page_framed_below_its_head():
    """The report's first page cut below its head, the Tờ trình, then the report's last page."""
    report_first = (REPORT_PAGE.replace("trường có", "Trường THCS Nguyễn Hiền có") + "\nTrường xây dựng đơn vị "
                    "điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc.")
    files = [_photo("IMG_1.jpg", report_first), _photo("IMG_2.jpg", head("TỜ TRÌNH")), _photo("IMG_3.jpg", REPORT_END)]
    d = _decide_shipped(files)
    assert [(x.decision, x.doc_types) for x in d] == [("counted", ("bao_cao",)), ("counted", ("to_trinh",)),
                                                      ("counted", ("bao_cao",))]
    assert d[2].reasons[0] == "trang tiếp theo của tệp 'IMG_1.jpg'"
    assert "không ghép vào tệp 'IMG_2.jpg'" not in " ".join(d[2].reasons)


def test_a_type_guessed_from_words_does_not_refuse_a_page():
    """Seed 11: a plan's first page whose head OCR garbled, its type guessed from a word of its body
    (wrongly: Báo cáo), then its last page, numbered, closing "Trên đây là Kế hoạch": the page follows
    its first page; a guess is no evidence against it."""
    guessed = "Kính gửi: Phòng GD&ĐT.\nNhà trường đạt đơn vị điển hình trong năm học.\n" + BODY
    plan_end = "2\nBan Giám hiệu chỉ đạo chung.\nTrên đây là Kế hoạch xây dựng cơ sở giáo dục\nNơi nhận:"
    d = _decide_shipped([_photo("IMG_1.jpg", head("TỜ TRÌNH")), _photo("IMG_2.jpg", guessed),
                         _photo("IMG_3.jpg", plan_end)])
    assert (d[1].decision, d[1].doc_types) == ("review", ("bao_cao",))
    assert d[2].reasons[0].startswith("trang tiếp theo của tệp 'IMG_2.jpg'")


def test_the_pages_after_a_page_without_its_document_follow_it_into_review():
    """The report's page 2 (its first page missing), then its page 3: one review item, page 3 follows it."""
    d = _decide_shipped([_photo("IMG_1.jpg", head("TỜ TRÌNH")),
                         _photo("IMG_2.jpg", "2\nIII. ĐÁNH GIÁ CHUNG\nƯu điểm: đoàn kết.\nHạn chế: còn hình thức."
                                             "\nIV. TỰ ĐÁNH GIÁ VÀ ĐỀ NGHỊ\n" + BODY),
                         _photo("IMG_3.jpg", "3\n" + BODY)])
    assert d[1].decision == "review" and d[1].reasons[0].startswith("trang số 2, không có phần đầu văn bản")
    assert d[2].decision == "ignored" and d[2].reasons[0].startswith("trang tiếp theo của tệp 'IMG_2.jpg' (trang đầu "
                                                                     "đang chờ kiểm tra")
    assert d[2].reasons[1] == "số trang 3 ở đầu trang"   # it follows page 2 by its number


def test_a_page_that_opens_a_document_is_not_joined_by_its_type():
    """The minutes' first page cut below its title, after another Biên bản: a document of its own."""
    d = _decide_shipped([_photo("IMG_1.jpg", head("BIÊN BẢN")), _photo("IMG_2.jpg", MINUTES_CUT)])
    assert not d[1].reasons[0].startswith("trang tiếp theo")


# --------------------------------------------------------------------------
# Pages out of order: which document of the mail a later page belongs to
# (held-out seed 2034, photos preset: a last page holding only "Nơi nhận" and the
# signatures, or a body page, joined to the document photographed before it)
# --------------------------------------------------------------------------

SIGNERS = C.index_for(SHIPPED).signers
END = C.index_for(SHIPPED).end_words   # "Trên đây là": [pages] closing words that are no closing-block line
REPORT_LAST = "Nơi nhận:\n- Phòng GD&ĐT Quận 12;\n- Công an phường Trung Mỹ Tây;\n- Lưu: VT.\n.KT. HIỆU TRƯỞNG\nPHÓ HIỆU TRƯỞNG"
MINUTES_LAST = "Cuộc họp kết thúc vào lúc 15 giờ 30 phút cùng ngày.\nTHƯ KÝ          CHỦ TỌA\nPhan Thanh Hải"


@pytest.mark.parametrize("text, lines, types", [
    (REPORT_LAST, ("Nơi nhận", "HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"), {"to_trinh", "bao_cao", "ke_hoach"}),
    (MINUTES_LAST, ("THƯ KÝ",), {"bien_ban"}),
    ("Nơi nhận: ` So, TRƯỞNG -'\nPhòng GD&ĐT Quận 12", ("Nơi nhận",), {"to_trinh", "bao_cao", "ke_hoach"}),
    # the labels of a Biên bản's body are no signers' titles; nor is a school's name in the head
    ("Chủ trì: Bà Lan - Hiệu trưởng.\nThư ký: Ông Thắng - Giáo viên.", (), set()),
    ("TRƯỜNG THCS NGUYỄN HIỀN\nHIỆU TRƯỞNG NHÀ TRƯỜNG chỉ đạo", ("HIỆU TRƯỞNG",), {"to_trinh", "bao_cao", "ke_hoach"}),
    (BODY, (), set()),
])
def test_the_closing_block_of_a_page_says_which_types_close_so(text, lines, types):
    closing = closing_block(text, SIGNERS, END)
    assert (closing.lines, set(closing.types)) == (lines, types)


@pytest.mark.parametrize("text, said_end, sections", [
    ("IV. TỰ ĐÁNH GIÁ VÀ ĐỀ NGHỊ\nTrên đây là báo cáo kết quả\nNơi nhận:", True, (4,)),
    ("1V. TỔ CHỨC THỰC HIỆN\nII: CHỈ TIÊU", False, (4, 2)),      # OCR's 1 for I
    (". IV TỰ ĐÁNH GIÁ VÀ ĐỀ NGHỊ l -\n" + BODY, False, (4,)),     # its dot lost (seed 11)
    ("1H. ĐÁNH GIÁ CHUNG\nIII. Tiêu chí nêu trong câu\n" + BODY, False, ()),   # unreadable; not capitals
])
def test_a_page_shows_its_closing_sentence_and_its_sections(text, said_end, sections):
    closing = closing_block(text, SIGNERS, END)
    assert (closing.said_end, closing.sections) == (said_end, sections)


LAST = LaterPage(closing=Closing(("Nơi nhận", "HIỆU TRƯỞNG"), frozenset({"to_trinh", "bao_cao", "ke_hoach"})))
NAMES = {"bao_cao": "Báo cáo", "bien_ban": "Biên bản", "to_trinh": "Tờ trình", "ke_hoach": "Kế hoạch"}


@pytest.mark.parametrize("page, cand, why", [
    (LAST, Candidate(1, "BC.jpg", ("bao_cao",)), ""),
    (LAST, Candidate(1, "BB.jpg", ("bien_ban",)), "phần cuối ('Nơi nhận', 'HIỆU TRƯỞNG') không phải của Biên bản"),
    (LAST, Candidate(1, "BC.jpg", ("bao_cao",), ended=True), "tệp 'BC.jpg' đã có trang cuối"),
    (LaterPage(), Candidate(1, "TT.jpg", ("to_trinh",), single=True), "tệp 'TT.jpg' là văn bản một trang"),
    (LaterPage("bien_ban", ("Thư ký",)), Candidate(1, "BC.jpg", ("bao_cao",)),
     "nội dung có các phần của Biên bản ('Thư ký'), không phải Báo cáo"),
    (LaterPage(number=2), Candidate(1, "BC.jpg", ("bao_cao",), numbers=frozenset({2})), "đã có trang số 2"),
    (LaterPage(closing=Closing(sections=(2, 3))), Candidate(1, "KH.jpg", ("ke_hoach",), top_section=4),
     "trang bắt đầu ở mục II, trước mục IV đã có ở trang đầu tệp 'KH.jpg'"),
    (LaterPage(closing=Closing(sections=(2,))), Candidate(1, "BC.jpg", ("bao_cao",), top_section=2), ""),  # III read as II
    # a first page whose type was not read: no type to disagree with
    (LAST, Candidate(1, "IMG.jpg", ()), ""),
    # a last page of a document whose last page is there already; a middle page may still join it
    (LaterPage(), Candidate(1, "BC.jpg", ("bao_cao",), ended=True), ""),
])
def test_what_rules_a_document_out_for_a_later_page(page, cand, why):
    got = misfit(page, cand, NAMES)
    assert (why in got) if why else got == ""


TT, BC, BB, KH = (Candidate(0, "TT.jpg", ("to_trinh",)), Candidate(1, "BC.jpg", ("bao_cao",)),
                  Candidate(3, "BB.jpg", ("bien_ban",)), Candidate(5, "KH.jpg", ("ke_hoach",)))


@pytest.mark.parametrize("page, cands, key, reason", [
    # seed 2034's case: the report's last page after the minutes' first page; the plan has its end already
    (LAST, (replace(TT, single=True), BC, BB, replace(KH, ended=True)), 1,
     "trang không có phần đầu văn bản, phần cuối ('Nơi nhận', 'HIỆU TRƯỞNG') chỉ hợp với tệp 'BC.jpg': các văn bản "
     "khác trong thư khác loại hoặc đã đủ trang cuối"),
    # its type, shown by its body, among several that could take it
    (LaterPage("bao_cao", ("Tiêu chí", "Ưu điểm", "Hạn chế")), (TT, BC, replace(KH, types=())), 1,
     "trang không có phần đầu văn bản, nội dung cùng loại với tệp 'BC.jpg' ('Tiêu chí', 'Ưu điểm', 'Hạn chế')"),
    # a closing block after the one document stopped at its closing sentence
    (LAST, (TT, replace(BC, awaiting=True), KH), 1,
     "phần cuối ('Nơi nhận', 'HIỆU TRƯỞNG') tiếp theo câu kết thúc của tệp 'BC.jpg'"),
    # its first section follows the sections of one first page (the Tờ trình has none)
    (LaterPage(closing=Closing(("Nơi nhận",), frozenset({"bao_cao", "to_trinh"}), True, (4,))),
     (TT, replace(BC, top_section=2)), 1,
     "trang không có phần đầu văn bản, bắt đầu ở mục IV, tiếp theo các mục I-II của tệp 'BC.jpg'"),
    # several fit: the one next to it in the mail
    (LaterPage(), (TT, replace(KH, near=True)), 5, "nằm cạnh trang của tệp 'KH.jpg' trong thư (2 văn bản"),
    # several fit, none or both next to it: nobody can tell; review names them
    (LAST, (TT, BC), None, "có thể là trang tiếp theo của một trong các tệp 'TT.jpg', 'BC.jpg': cần xem trang này "
                           "thuộc văn bản nào"),
    (LAST, (replace(TT, near=True), replace(BC, near=True)), None, "một trong các tệp 'TT.jpg', 'BC.jpg'"),
    (LAST, (BB,), None, "không văn bản nào trong thư hợp với trang này"),
    (LAST, (), None, "không văn bản nào trong thư hợp với trang này"),
])
def test_a_later_page_is_placed_in_the_one_document_it_can_belong_to(page, cands, key, reason):
    placement = place(page, cands, NAMES)
    assert placement.key == key
    assert reason in placement.reason


def test_the_last_page_of_a_report_is_not_joined_to_the_minutes_photographed_before_it():
    """Seed 2034 / seed 11 mail 5: the Tờ trình (one page), the report's pages 1-2, the minutes (one page),
    then the report's last page, only "Nơi nhận" and the signature: it joins the report."""
    files = [_photo("IMG_1.jpg", head("TỜ TRÌNH") + "\n" + BODY + "\nNơi nhận:\n- Như trên;\n- Lưu: VT.\nHIỆU TRƯỞNG"),
             _photo("IMG_2.jpg", head("BÁO CÁO") + "\n" + REPORT_PAGE),
             _photo("IMG_3.jpg", "2\n" + BODY + "\nTrên đây là báo cáo kết quả xây dựng đơn vị điển hình."),
             _photo("IMG_4.jpg", head("BIÊN BẢN") + "\n" + MINUTES_PAGE_2[2:] + "\nNguyễn Thị Lan"),
             _photo("IMG_5.jpg", REPORT_LAST)]
    d = _decide_shipped(files)
    assert (d[4].decision, d[4].doc_types) == ("counted", ("bao_cao",))
    assert d[4].reasons[0] == "trang tiếp theo của tệp 'IMG_2.jpg'"
    assert d[4].reasons[1].startswith("trang không có phần đầu văn bản, phần cuối ('Nơi nhận', 'HIỆU TRƯỞNG', "
                                      "'PHÓ HIỆU TRƯỞNG') chỉ hợp với tệp 'IMG_2.jpg'")


def test_a_page_that_could_be_either_document_is_reviewed_naming_both():
    """A body page, no number, between two documents that may both have more pages: nobody can tell."""
    files = [_photo("IMG_1.jpg", head("TỜ TRÌNH")), _photo("IMG_2.jpg", BODY),
             _photo("IMG_3.jpg", head("BÁO CÁO"))]
    d = _decide_shipped(files)
    assert d[1].decision == "review"
    assert d[1].reasons[0] == ("trang, không có phần đầu văn bản; có thể là trang tiếp theo của một trong các tệp "
                               "'IMG_1.jpg', 'IMG_3.jpg': cần xem trang này thuộc văn bản nào: không tính là một "
                               "văn bản riêng")
    assert [x.decision for x in (d[0], d[2])] == ["counted", "counted"]


def test_a_report_whose_first_page_was_not_recognised_keeps_its_last_page_from_the_to_trinh():
    """Seed 13: the Tờ trình (its closing block unread), the report's page 2 (its first page not recognised),
    then its last page: "Nơi nhận" fits the Tờ trình and the report alike; never counted as the Tờ trình's."""
    files = [_photo("IMG_1.jpg", head("TỜ TRÌNH")),
             _photo("IMG_2.jpg", "2\nIII. ĐÁNH GIÁ CHUNG\nƯu điểm: đoàn kết.\nHạn chế: còn hình thức.\n"
                                 "IV. TỰ ĐÁNH GIÁ VÀ ĐỀ NGHỊ\n" + BODY),
             _photo("IMG_3.jpg", head("BIÊN BẢN")), _photo("IMG_4.jpg", REPORT_LAST)]
    d = _decide_shipped(files)
    assert [x.decision for x in d] == ["counted", "review", "counted", "review"]
    assert d[3].reasons[0] == ("trang, không có phần đầu văn bản; có thể là trang tiếp theo của một trong các tệp "
                               "'IMG_1.jpg', 'IMG_2.jpg': cần xem trang này thuộc văn bản nào: không tính là một "
                               "văn bản riêng")
    # next to the report's page, it goes with it, into review
    d = _decide_shipped([files[0], files[2], files[1], files[3]])
    assert (d[3].decision, d[3].doc_types) == ("ignored", ("bao_cao",))
    assert d[3].reasons[0].startswith("trang tiếp theo của tệp 'IMG_2.jpg' (trang đầu đang chờ kiểm tra")


def test_a_page_numbered_2_after_a_last_page_does_not_continue_it():
    """photos_order (seed 11): the report photographed from its last page to its first, after the Tờ trình:
    its page 2 follows its page 3 ("Nơi nhận") in the mail, which closed a document: not its page 2."""
    files = [_photo("IMG_1.jpg", head("TỜ TRÌNH")), _photo("IMG_2.jpg", REPORT_LAST),
             _photo("IMG_3.jpg", "2\n" + REPORT_PAGE.replace("I. ĐẶC ĐIỂM TÌNH HÌNH\n", "")),
             _photo("IMG_4.jpg", head("BÁO CÁO") + "\nI. ĐẶC ĐIỂM TÌNH HÌNH\n" + BODY)]
    d = _decide_shipped(files)
    assert (d[2].decision, d[2].doc_types) == ("counted", ("bao_cao",))
    assert d[2].reasons[0] == "trang tiếp theo của tệp 'IMG_4.jpg'"
    # its last page, between the Tờ trình and the report's page 2: either could close with it
    assert d[1].decision == "review" and "một trong các tệp 'IMG_1.jpg', 'IMG_4.jpg'" in d[1].reasons[0]


def test_a_numbered_page_does_not_join_a_one_page_document():
    """Page 2 of the report right after a Tờ trình whose one page ends with its signature: not the Tờ trình's."""
    files = [_photo("IMG_1.jpg", head("TỜ TRÌNH") + "\n" + BODY + "\nNơi nhận:\n- Như trên;\nHIỆU TRƯỞNG"),
             _photo("IMG_2.jpg", "2\n" + BODY), _photo("IMG_3.jpg", head("BÁO CÁO"))]
    d = _decide_shipped(files)
    assert d[1].reasons[0].startswith("trang tiếp theo của tệp 'IMG_3.jpg'")
    assert d[1].reasons[1] == ("trang không có phần đầu văn bản, chỉ hợp với tệp 'IMG_3.jpg': các văn bản khác trong "
                               "thư khác loại hoặc đã đủ trang cuối")
    assert (d[1].decision, d[1].doc_types) == ("counted", ("bao_cao",))


# --------------------------------------------------------------------------
# The rules: [pages] of campaign.toml
# --------------------------------------------------------------------------

def _campaign(pages: dict | None) -> dict:
    data = {"campaign": {"id": "c", "name": "C"},
            "document": [{"id": "to_trinh", "name": "Tờ trình", "required": True, "titles": ["TỜ TRÌNH"]}],
            "topic": {"strong": ["điển hình"]},
            "office": {"parent": "UBND", "name": "PHÒNG GD", "short": "GD", "place": "Quận 12",
                       "signer_title": "TRƯỞNG PHÒNG", "recipients": ["Sở"], "report_subject": "Kết quả"}}
    if pages is not None:
        data["pages"] = pages
    return data


def test_pages_default_when_the_table_is_absent():
    assert parse_campaign(_campaign(None), set()).pages == Pages()


def test_body_lines_and_their_thresholds_are_read_from_the_rules():
    data = _campaign({"body_min": 4, "body_margin": 1})
    data["document"][0]["body"] = ["Kính trình"]
    campaign = parse_campaign(data, set())
    assert (campaign.pages.body_min, campaign.pages.body_margin) == (4, 1)
    assert campaign.doc_types[0].body == ("Kính trình",)


def test_the_closing_block_of_each_type_is_read_from_the_rules():
    data = _campaign(None)
    data["document"][0]["signers"] = ["Nơi nhận", "HIỆU TRƯỞNG"]
    assert parse_campaign(data, set()).doc_types[0].signers == ("Nơi nhận", "HIỆU TRƯỞNG")
    data["document"][0]["signer"] = ["HIỆU TRƯỞNG"]
    with pytest.raises(RulesError, match="signer"):
        parse_campaign(data, set())


def test_pages_words_are_read_from_the_rules():
    pages = parse_campaign(_campaign({"opening": ["Kính gửi"], "closing": ["Nơi nhận"], "number_lines": 2}),
                           set()).pages
    assert (pages.opening, pages.closing, pages.number_lines) == (("Kính gửi",), ("Nơi nhận",), 2)


@pytest.mark.parametrize("pages, named", [
    ({"legible_share": 1.5}, "pages.legible_share"),
    ({"number_lines": 0}, "pages.number_lines"),
    ({"opening": "Kính gửi"}, "pages.opening"),
    ({"openings": ["Kính gửi"]}, "openings"),
    ({"body_min": 0}, "pages.body_min"),
    ({"body_margin": 0}, "pages.body_margin"),
])
def test_a_bad_pages_rule_is_an_error_naming_it(pages, named):
    with pytest.raises(RulesError, match=named.replace(".", r"\.")):
        parse_campaign(_campaign(pages), set())
