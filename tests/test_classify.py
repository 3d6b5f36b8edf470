"""Tables of cases for bot.classify: every assertion is on what a coordinator sees.

No files, no network: the roster and campaign are parsed from the strings
below (a copy of the shipped rules, trimmed), messages and extractions are
built directly.
"""
from __future__ import annotations

import dataclasses
import tomllib
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import classify as C
from bot.classify import head as classify_head
from bot.classify.issuer import ocr_level_repair
from bot.model import Attachment, DocumentPart, Extraction, ItemDecision, ParsedMessage
from bot.rules.campaign import parse_campaign
from bot.rules.model import Rules
from bot.rules.programmes import with_programmes
from bot.rules.roster import parse_roster
from bot.vietnamese import fold, fold_compact

ROSTER = """code,name,level,emails,aliases
mn-son-ca-6,MN Sơn Ca 6,MN,mnsonca6.q12@hcm-edu.example,Mầm non Sơn Ca 6;Trường Mầm non Sơn Ca 6
mn-son-ca-8,MN Sơn Ca 8,MN,mnsonca8.q12@hcm-edu.example,Mầm non Sơn Ca 8;Trường Mầm non Sơn Ca 8
mn-hoa-mai,MN Hoa Mai,MN,mnhoamai.q12@hcm-edu.example;hieutruong.hoamai@gmail.example,Mầm non Hoa Mai
mg-hoa-hong,MG Hoa Hồng,MG,mghoahong.q12@hcm-edu.example,Mẫu giáo Hoa Hồng
nt-bup-be,NT Búp Bê,NT,ntbupbe.q12@gmail.example,Nhà trẻ Búp Bê
th-nguyen-trai,TH Nguyễn Trãi,TH,thnguyentrai.q12@hcm-edu.example,Tiểu học Nguyễn Trãi
th-nguyen-du,TH Nguyễn Du,TH,thnguyendu.q12@hcm-edu.example,Tiểu học Nguyễn Du
thcs-nguyen-trai,THCS Nguyễn Trãi,THCS,thcsnguyentrai.q12@hcm-edu.example,Trung học cơ sở Nguyễn Trãi
thcs-nguyen-hien,THCS Nguyễn Hiền,THCS,thcsnguyenhien.q12@hcm-edu.example;vanthu.nguyenhien@gmail.example,Trung học cơ sở Nguyễn Hiền
thcs-phan-boi-chau,THCS Phan Bội Châu,THCS,thcsphanboichau.q12@hcm-edu.example,Trung học cơ sở Phan Bội Châu
thcs-nguyen-vinh-nghiep,THCS Nguyễn Vĩnh Nghiệp,THCS,thcsnvnghiep.q12@hcm-edu.example,Trung học cơ sở Nguyễn Vĩnh Nghiệp
th-thcs-ngoc-vien-dong,TH-THCS Ngọc Viễn Đông,TH-THCS,ngocviendong.q12@gmail.example,Trường Tiểu học - Trung học cơ sở Ngọc Viễn Đông;TH và THCS Ngọc Viễn Đông
thpt-truong-chinh,THPT Trường Chinh,THPT,thpttruongchinh@hcm-edu.example,Trung học phổ thông Trường Chinh
tt-gdnn-gdtx-q12,TT GDNN-GDTX Quận 12,TT GDNN-GDTX,ttgdnngdtx.q12@hcm-edu.example,Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên Quận 12
"""

CAMPAIGN = """
[campaign]
id = "antq-dien-hinh"
name = "Hồ sơ đề nghị công nhận cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc"
timezone = "Asia/Ho_Chi_Minh"
cycle_opens = "08-01"
deadline = "10-10 23:59:59"
review_threshold = 0.75

[[document]]
id = "to_trinh"
name = "Tờ trình đề nghị công nhận"
required = true
titles = ["TỜ TRÌNH"]
number_codes = ["TTr"]
keywords = ["đề nghị công nhận", "đề nghị xét công nhận", "đề nghị xét, công nhận"]

[[document]]
id = "bao_cao"
name = "Báo cáo kết quả xây dựng đơn vị điển hình"
required = true
titles = ["BÁO CÁO"]
number_codes = ["BC"]
keywords = ["kết quả xây dựng", "đơn vị điển hình", "bộ tiêu chí"]

[[document]]
id = "bien_ban"
name = "Biên bản họp xét, đề nghị"
required = true
titles = ["BIÊN BẢN"]
number_codes = ["BB"]
keywords = ["họp xét", "thành phần", "chủ trì", "thư ký"]

[[document]]
id = "ke_hoach"
name = "Kế hoạch triển khai"
required = false
titles = ["KẾ HOẠCH"]
number_codes = ["KH"]
keywords = ["triển khai", "xây dựng cơ sở giáo dục điển hình"]

[topic]
object = [["điển hình"], ["bảo vệ an ninh Tổ quốc", "bảo vệ ANTQ", "BVANTQ", "an ninh Tổ quốc", "ANTQ",
                          "phong trào toàn dân bảo vệ"]]
strong = ["bảo vệ an ninh Tổ quốc", "bảo vệ ANTQ", "điển hình về phong trào toàn dân", "9745/QĐ-BCA"]
weak = ["ANTQ", "an ninh trật tự", "ANTT", "đơn vị điển hình", "Bộ tiêu chí",
        "tố giác tội phạm", "Xanh - Sạch - Đẹp - An toàn"]
min_weak = 2

[office]
parent = "ỦY BAN NHÂN DÂN QUẬN 12"
name = "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"
short = "GDĐT"
place = "Quận 12"
signer_title = "TRƯỞNG PHÒNG"
recipients = ["Sở Giáo dục và Đào tạo"]
report_subject = "Kết quả xây dựng cơ sở giáo dục điển hình"
"""


# The neighbouring programmes and non-school issuers are the shipped ones.
PROGRAMMES = tomllib.loads((Path(__file__).resolve().parents[1] / "rules" / "programmes.toml").read_text("utf-8"))


def make_rules(roster: str = ROSTER) -> Rules:
    schools = parse_roster(roster)
    campaign = with_programmes(parse_campaign(tomllib.loads(CAMPAIGN), {s.code for s in schools}), PROGRAMMES)
    return Rules(campaign=campaign, schools=schools)


RULES = make_rules()
INDEX = C.build_index(RULES)
VN = timezone(timedelta(hours=7))
RECEIVED = datetime(2023, 10, 6, 9, 30, tzinfo=VN)
SCHOOL_MAIL = "thcsnguyenhien.q12@hcm-edu.example"
UNKNOWN_MAIL = "someone@gmail.com"

SUBJECTS = {
    "TỜ TRÌNH": "Về việc đề nghị công nhận cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc",
    "BÁO CÁO": "Kết quả xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ năm học 2022-2023",
    "BIÊN BẢN": "Họp xét, đề nghị đơn vị đạt điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc",
    "KẾ HOẠCH": "Xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm học 2023-2024",
}
CODES = {"TỜ TRÌNH": "TTr", "BÁO CÁO": "BC", "BIÊN BẢN": "BB", "KẾ HOẠCH": "KH"}


def head(title: str = "TỜ TRÌNH", *, issuer: str = "TRƯỜNG THCS NGUYỄN HIỀN", number: str | None = None,
         date: str = "Quận 12, ngày 05 tháng 10 năm 2023", subject: str | None = None,
         parent: str = "UBND QUẬN 12") -> str:
    """A document head as Nghị định 30 lays it out (left block, motto, date, title, subject)."""
    if number is None:
        number = f"Số: 15/{CODES.get(title, 'TTr')}-THCSNH"
    if subject is None:
        subject = SUBJECTS.get(title, SUBJECTS["TỜ TRÌNH"])
    lines = [parent, issuer, number, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
             date, title, subject, "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12"]
    return "\n".join(line for line in lines if line)


def message(sender: str = SCHOOL_MAIL, **kw) -> ParsedMessage:
    kw.setdefault("subject", "Hồ sơ đề nghị công nhận điển hình ANTQ")
    kw.setdefault("body_text", "Kính gửi cô Mai,\nTrường gửi hồ sơ đính kèm.\nTrân trọng.")
    return ParsedMessage(message_id="<m@x>", from_addr=sender, **kw)


def pdf(name: str = "hoso.pdf", size: int = 120_000, ctype: str = "application/pdf") -> Attachment:
    return Attachment(filename=name, content_type=ctype, data=b"%" * size)


def one(head_text: str, body: str = "", *, filename: str = "hoso.pdf", msg: ParsedMessage | None = None,
        received: datetime = RECEIVED, ocr: bool = False) -> ItemDecision:
    """Classify a single-part attachment and return its only decision."""
    ext = Extraction(kind="pdf", parts=(DocumentPart(head=head_text, text=head_text + "\n" + body),), ocr=ocr)
    decisions = C.classify_message(msg or message(), [(pdf(filename), ext)], RULES, received, True)
    assert len(decisions) == 1
    return decisions[0]


def has(decision: ItemDecision, *fragments: str) -> bool:
    """Whether every fragment appears in some reason."""
    return all(any(f in r for r in decision.reasons) for f in fragments)


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def test_matching_folds_typographic_dashes_and_quotes():
    # classify folds with vietnamese.fold (tests/test_vietnamese.py checks it
    # against the reference fold): a Word en dash is a dash, quotes are spaces.
    assert C.match_form("năm học 2022–2023 “ANTQ”") == " nam hoc 2022 2023 antq "
    assert C.canon_school_text("Trường Tiểu học – Trung học cơ sở Ngọc Viễn Đông") == "truong th-thcs ngoc vien dong"


@pytest.mark.parametrize("text, canon", [
    ("Trường Trung học cơ sở Nguyễn Hiền", "truong thcs nguyen hien"),
    ("TRƯỜNG TIỂU HỌC NGUYỄN TRÃI", "truong th nguyen trai"),
    ("Trường Mầm non Sơn Ca 6", "truong mn son ca 6"),
    ("Trường Tiểu học - Trung học cơ sở Ngọc Viễn Đông", "truong th-thcs ngoc vien dong"),
    ("TH và THCS Ngọc Viễn Đông", "th-thcs ngoc vien dong"),
    ("Mẫu giáo Hoa Hồng", "mg hoa hong"),
    ("Nhà trẻ Búp Bê", "nt bup be"),
    ("Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên Quận 12", "tt gdnn-gdtx quan 12"),
    ("THPT Trường Chinh", "thpt truong chinh"),
])
def test_canon_school_text_abbreviates_levels(text, canon):
    assert C.canon_school_text(text) == canon


@pytest.mark.parametrize("text, codes, exact", [
    ("TRƯỜNG THCS NGUYỄN HIỀN", ["thcs-nguyen-hien"], True),
    ("Trường Tiểu học Nguyễn Trãi", ["th-nguyen-trai"], True),
    ("Trường THCS Nguyễn Trãi", ["thcs-nguyen-trai"], True),
    ("TRƯỜNG MẦM NON SƠN CA 6", ["mn-son-ca-6"], True),
    ("Trường MN Sơn Ca 8", ["mn-son-ca-8"], True),
    ("TRƯỜNG MẦM NON SƠN CA", ["mn-son-ca-6", "mn-son-ca-8"], False),   # number missing: ambiguous
    ("TRƯỜNG NGUYỄN TRÃI", ["th-nguyen-trai", "thcs-nguyen-trai"], False),  # level missing: ambiguous
    ("Trường Nguyễn Hiền", ["thcs-nguyen-hien"], False),                # level missing, one school
    ("TRƯỜNG TH VÀ THCS NGỌC VIỄN ĐÔNG", ["th-thcs-ngoc-vien-dong"], True),
    ("TRUNG TÂM GDNN-GDTX QUẬN 12", ["tt-gdnn-gdtx-q12"], True),
    ("THPT TRƯỜNG CHINH", ["thpt-truong-chinh"], True),
])
def test_find_schools_matches_level_and_name(text, codes, exact):
    (mention,) = C.find_schools(text, INDEX)
    assert [s.code for s in mention.schools] == codes
    assert mention.exact is exact


@pytest.mark.parametrize("text", [
    "MN Sơn Ca 68", "TRƯỜNG TH NGUYỄN HIỀN", "TRƯỜNG THCS LÊ LỢI", "UBND QUẬN 12", "Sơn Ca",
    "Nguyễn Trãi",  # a street, not a school: no level, no "Trường"
])
def test_find_schools_finds_nothing_for_other_names(text):
    assert C.find_schools(text, INDEX) == ()


@pytest.mark.parametrize("line, code", [
    ("TRUÒNG THC5 NGUYÊN HIÊN", "thcs-nguyen-hien"),
    ("TRUONG MN SON CA 8", "mn-son-ca-8"),
    ("TRƯỜNG THCS PHAN BÔl CHÂU", "thcs-phan-boi-chau"),
])
def test_fuzzy_school_reads_ocr_damage(line, code):
    mention = C.fuzzy_school(line, INDEX)
    assert [s.code for s in mention.schools] == [code]


def test_fuzzy_school_never_swaps_numbers():
    assert C.fuzzy_school("TRƯỜNG MN SƠN CA 7", INDEX) is None


def test_fuzzy_school_never_swaps_a_clearly_read_level():
    # TH Nguyễn Du is on the roster, a THCS Nguyễn Du is not: close letters, another school.
    assert C.fuzzy_school("TRƯỜNG THCS NGUYỄN DU", INDEX) is None
    assert C.fuzzy_school("TRƯỜNG TRUNG HỌC CƠ SỞ NGUYỄN DU", INDEX) is None


@pytest.mark.parametrize("line, type_id, approximate", [
    ("TỜ TRÌNH", "to_trinh", False),
    ("T Ờ  T R Ì N H", "to_trinh", False),          # letter-spaced PDF heading
    ("TỞ TRÌNH", "to_trinh", False),                 # OCR tone mark: folding absorbs it
    ("BIEN BAN", "bien_ban", False),                 # marks lost
    ("BlÊN BẢN", "bien_ban", True),                  # OCR l for I
    ("BÁO CÁO KẾT QUẢ XÂY DỰNG ĐƠN VỊ ĐIỂN HÌNH", "bao_cao", False),
    ("KẾ HOẠCH", "ke_hoach", False),
    ("QUYẾT ĐỊNH", "quyet_dinh", False),
    (unicodedata.normalize("NFD", "BIÊN BẢN"), "bien_ban", False),
])
def test_match_title(line, type_id, approximate):
    sig, fuzzy = C.match_title(line, INDEX)
    assert (sig.id, fuzzy) == (type_id, approximate)


@pytest.mark.parametrize("line", ["Báo cáo này gồm ba phần", "THƯ KÝ", "CHỦ TỌA", "HIỆU TRƯỞNG", "KÍNH GỬI",
                                  "UBND QUẬN 12", "Căn cứ Kế hoạch số 887/KH-GDĐT"])
def test_match_title_rejects_other_lines(line):
    assert C.match_title(line, INDEX) is None


@pytest.mark.parametrize("name, meaningless", [
    ("scan0001.pdf", True), ("IMG_20231005_0932.jpg", True), ("document.pdf", True),
    ("Untitled.docx", True), ("Untitled (1).pdf", True), ("CamScanner 10-05-2023 09.32.pdf", True),
    ("20231005.pdf", True), ("New Doc 2023-10-05.pdf", True),
    ("Bao cao.pdf", False), ("To trinh THCS Nguyen Hien.docx", False), ("03_BB_THCSNH.pdf", False),
])
def test_is_meaningless_filename(name, meaningless):
    assert C.is_meaningless_filename(name) is meaningless


@pytest.mark.parametrize("name, types", [
    ("Bao cao.pdf", ["bao_cao"]), ("BienBan_HopXet.docx", ["bien_ban"]), ("03_BB_THCSNH.pdf", ["bien_ban"]),
    ("Tờ trình.pdf", ["to_trinh"]), ("scan0001.pdf", []), ("hoso.pdf", []),
])
def test_filename_types(name, types):
    assert [t.id for t in C.filename_types(name, INDEX)] == types


@pytest.mark.parametrize("date_line, expected", [
    ("Quận 12, ngày 05 tháng 10 năm 2023", "05/10/2023"),
    ("Quận 12, ngày 5/10/2023", "05/10/2023"),
    ("Quận 12, ngày    tháng 10 năm 2023", "10/2023"),   # day left blank for the signer
    ("Số: 15/TTr-THCSNH Quận 12, ngày 05 tháng 10 năm 2023", "05/10/2023"),  # interleaved columns
    ("", ""),
])
def test_document_year_reads_the_date_line(date_line, expected):
    parsed = C.parse_head(head(date=date_line), INDEX)
    assert C.document_year(parsed, "").date_text == expected


def test_document_year_ignores_cited_dates_below_the_title():
    text = head(date="") + "\nCăn cứ Kế hoạch số 887/KH-GDĐT, ngày 11/7/2022 của Phòng Giáo dục"
    parsed = C.parse_head(text, INDEX)
    assert C.document_year(parsed, text).date is None


CYCLE, RECEIVED_DAY = 2023, RECEIVED.date()


@pytest.mark.parametrize("signals, kind, reason", [
    (C.YearSignals(), "unsure", "không đọc được ngày văn bản và không thấy dấu hiệu nào cho biết là hồ sơ năm 2023"),
    (C.YearSignals(date=RECEIVED_DAY.replace(day=5), date_text="05/10/2023", year=2023), "ok", "ngày văn bản 05/10/2023"),
    (C.YearSignals(date=RECEIVED_DAY.replace(year=2022), date_text="06/10/2022", year=2022), "earlier",
     "hồ sơ của năm trước (ngày 06/10/2022)"),
    (C.YearSignals(date=RECEIVED_DAY.replace(day=20), date_text="20/10/2023", year=2023), "future",
     "văn bản ghi ngày 20/10/2023, sau ngày nhận (06/10/2023)"),
    (C.YearSignals(head_school_years=(2021,)), "earlier", "hồ sơ của năm trước (năm học 2021-2022)"),
    (C.YearSignals(head_school_years=(2022,)), "ok", ""),
    (C.YearSignals(text_school_years=(2021, 2022)), "ok", ""),   # a comparison with last year is fine
    (C.YearSignals(date=RECEIVED_DAY, date_text="06/10/2023", year=2023, head_school_years=(2021,)), "unsure",
     "văn bản ghi ngày 06/10/2023 nhưng nói về năm học 2021-2022"),
    (C.YearSignals(subject_years=(2021,)), "earlier", "hồ sơ của năm trước (năm 2021)"),
    (C.YearSignals(head_school_years=(2025,)), "unsure", "năm học chưa tới"),
])
def test_check_year(signals, kind, reason):
    verdict = C.check_year(signals, CYCLE, RECEIVED_DAY)
    assert verdict.kind == kind and reason in verdict.reason


FUTURE = dict(date=RECEIVED_DAY.replace(year=2033, day=22, month=9), date_text="22/09/2033", year=2033)


@pytest.mark.parametrize("signals, ocr, kind, reason", [
    # read by OCR, a year one digit off the cycle's: misread; the rest of the document decides
    (C.YearSignals(**FUTURE, subject_years=(2023,)), True, "ok",
     "ngày văn bản đọc được là 22/09/2033, sau ngày nhận: có thể OCR đọc sai năm; trích yếu ghi năm 2023"),
    (C.YearSignals(**FUTURE, head_school_years=(2022,)), True, "ok", "văn bản nói về năm học 2022-2023"),
    (C.YearSignals(**FUTURE), True, "unsure", "không thấy dấu hiệu nào cho biết là hồ sơ năm 2023"),
    # an earlier year's dossier whose date OCR misread is still an earlier year's
    (C.YearSignals(**FUTURE, head_school_years=(2021,)), True, "earlier",
     "ngày văn bản đọc được là 22/09/2033, sau ngày nhận: có thể OCR đọc sai năm; hồ sơ của năm trước"),
    # typed text says what the school wrote; a year far off is no single misread digit
    (C.YearSignals(**FUTURE, subject_years=(2023,)), False, "future", "văn bản ghi ngày 22/09/2033"),
    (C.YearSignals(date=RECEIVED_DAY.replace(year=2045), date_text="06/10/2045", year=2045, subject_years=(2023,)),
     True, "future", "văn bản ghi ngày 06/10/2045"),
])
def test_a_future_year_read_by_ocr_is_taken_as_misread(signals, ocr, kind, reason):
    verdict = C.check_year(signals, CYCLE, RECEIVED_DAY, ocr=ocr)
    assert verdict.kind == kind and reason in verdict.reason


@pytest.mark.parametrize("subject, body, kind, label", [
    (SUBJECTS["TỜ TRÌNH"], "", "this", ""),
    # Topic words alone never count: the object (điển hình + the movement) must be named.
    ("Kết quả xây dựng đơn vị điển hình", "theo Bộ tiêu chí ban hành kèm Quyết định 9745/QĐ-BCA-V05", "unknown", ""),
    ("Kết quả thực hiện", "an ninh trật tự; Bộ Tiêu chí; ANTQ", "unknown", ""),
    # a criterion of the Bộ tiêu chí that contains a neighbour's name is not that neighbour
    ("Kết quả thực hiện", "đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ\nTiêu chí 5: Xây dựng trường học "
                          "Xanh - Sạch - Đẹp - An toàn", "this", ""),
    # the subject lost: a neighbour named again and again outweighs the object named once
    ("Kết quả thực hiện", "Ngày hội toàn dân bảo vệ ANTQ được tổ chức trang trọng.\nBiểu dương tập thể điển hình "
                          "trong phong trào toàn dân bảo vệ ANTQ.\nNgày hội toàn dân diễn ra an toàn.\nKết thúc "
                          "Ngày hội toàn dân, nhà trường rút kinh nghiệm.", "other",
     "Ngày hội toàn dân bảo vệ ANTQ"),
    # "điển hình" in one place, the movement in another: not the object
    ("Kết quả thực hiện", "Biểu dương gương điển hình tiên tiến trong năm học.\n" + "Hoạt động chuyên môn. " * 8
     + "\nHưởng ứng phong trào toàn dân bảo vệ an ninh Tổ quốc.", "unknown", ""),
    # The trích yếu silent, the body's own sentence names the object.
    ("Kết quả thực hiện", "Trường đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ.", "this", ""),
    # ... but not in a citation.
    ("Kết quả thực hiện", "Căn cứ Kế hoạch xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ;",
     "unknown", ""),
    ("Kết quả công tác phòng cháy chữa cháy năm học 2022-2023", "bảo đảm an ninh trật tự, ANTT", "other", "phòng cháy chữa cháy"),
    ("Công tác phòng, chống ma túy trong trường học", "", "other", "phòng chống ma túy"),
    ("Kết quả thực hiện công tác đảm bảo trật tự an toàn giao thông", "", "other", "an toàn giao thông"),
    ("Kết quả kiểm tra nề nếp học sinh", "", "other", "kiểm tra nề nếp"),
    ("Kết quả thực hiện", "an ninh trật tự; ANTT; an toàn giao thông", "unknown", ""),  # a mention in passing
    ("Kết quả thực hiện", "an toàn giao thông; đội cờ đỏ an toàn giao thông", "unknown", ""),
    ("Kết quả thực hiện", "an toàn giao thông; đội cờ đỏ an toàn giao thông; tháng an toàn giao thông", "other",
     "an toàn giao thông"),
    # the object named again and again, another programme once: the object decides
    ("Kết quả thực hiện", "xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ\nmô hình cổng trường an "
                          "toàn giao thông\nđủ điều kiện công nhận điển hình về phong trào toàn dân bảo vệ ANTQ",
     "this", ""),
    ("Kết quả thực hiện", "hoạt động trong năm", "unknown", ""),
])
def test_topic_score(subject, body, kind, label):
    text = head("BÁO CÁO", subject=subject)
    verdict = C.topic_score(C.parse_head(text, INDEX), body, INDEX)
    assert (verdict.kind, verdict.label) == (kind, label)


# A plan photographed below its trích yếu (seed 13): its body opens with the sentence that says what it
# is, then lists its tasks, one of which names a neighbouring programme.
PLAN_DECLARED = ("Căn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023 của Phòng Giáo dục và\nĐào tạo Quận 12;\n"
                 "Căn cứ tình hình thực tế của đơn vị, Trường TH Lê Văn Thọ xây dựng Kế -\n"
                 "hoạch triển khai xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ\n"
                 "an ninh Tổ quốc như sảu: ` 5 #\nI. MỤC ĐÍCH, YÊU CẦU\nNâng cao nhận thức của học sinh.\n"
                 "II. NỘI DUNG THỰC HIỆN\n- Phòng chống bạo lực học đường: tổ chức 3 buổi tuyên truyền.")


@pytest.mark.parametrize("body, kind, reason", [
    (PLAN_DECLARED, "this", "câu mở đầu văn bản ('... an ninh Tổ quốc như sảu: ` 5 #') nêu đối tượng của đợt này"),
    # the declaration of a neighbour's plan names it, not this campaign's object
    (PLAN_DECLARED.replace("xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ\nan ninh Tổ quốc",
                           "công tác phòng chống bạo lực học đường, xây dựng điển hình\nvề an ninh Tổ quốc"),
     "unknown", "chưa chắc thuộc đợt này"),
    # a declaration that cites the office's plan is not the document's own words
    ("Thực hiện Kế hoạch số 887/KH-GDĐT về xây dựng cơ sở giáo dục điển hình về phong trào toàn dân\n"
     "bảo vệ an ninh Tổ quốc, nhà trường báo cáo như sau:\nPhòng chống bạo lực học đường: 3 buổi.", "unknown",
     "chưa chắc thuộc đợt này"),
])
def test_the_sentence_that_says_what_a_document_is_weighs_as_its_trich_yeu(body, kind, reason):
    verdict = C.topic_score(C.parse_head(body, INDEX, ocr=True), body, INDEX)
    assert verdict.kind == kind and reason in verdict.reason, verdict.reason


def test_topic_in_body_does_not_override_another_campaigns_subject():
    text = head("BÁO CÁO", subject="Công tác phòng cháy chữa cháy")
    verdict = C.topic_score(C.parse_head(text, INDEX), "trường thực hiện tốt phong trào toàn dân bảo vệ an ninh Tổ quốc"
                            " và đơn vị điển hình", INDEX)
    # The body's strong phrase wins only when the subject line does not name another campaign.
    assert verdict.kind == "other"


@pytest.mark.parametrize("body, code", [
    ("Kính gửi cô Mai,\nTrường em gửi hồ sơ.\nTrân trọng,\nVăn thư\nTrường THCS Nguyễn Hiền\nĐT: 028 3891 0000",
     "thcs-nguyen-hien"),
    ("Em gửi hồ sơ ạ.\n--\nTH Nguyễn Du - Quận 12", "th-nguyen-du"),
    # In passing: not the sender.
    ("Kính gửi cô,\nTrường đã học tập kinh nghiệm của Trường THCS Phan Bội Châu.\nTrân trọng,\nCô Lan", None),
    ("Trường gửi hồ sơ, có phối hợp với Trường TH Nguyễn Du.", None),
    ("> Trường THCS Nguyễn Trãi\n> trích dẫn thư cũ\nEm gửi lại hồ sơ.", None),
])
def test_signature_school(body, code):
    mention = C.signature_school(body, INDEX)
    assert (mention.schools[0].code if mention else None) == code


def test_index_is_cached_per_rules_object():
    rules = make_rules()
    assert C.index_for(rules) is C.index_for(rules)
    assert C.index_for(make_rules()) is not C.index_for(rules)


# --------------------------------------------------------------------------
# Whole decisions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("title, type_id", [("TỜ TRÌNH", "to_trinh"), ("BÁO CÁO", "bao_cao"),
                                            ("BIÊN BẢN", "bien_ban"), ("KẾ HOẠCH", "ke_hoach")])
def test_each_document_type_is_counted(title, type_id):
    d = one(head(title))
    assert (d.decision, d.school, d.doc_types, d.campaign) == ("counted", "thcs-nguyen-hien", (type_id,), True)
    assert d.confidence >= 0.95
    assert has(d, f"tiêu đề '{title}' ở đầu văn bản", f"số ký hiệu {CODES[title]} trong 'Số: 15/{CODES[title]}-THCSNH'",
               f"địa chỉ gửi {SCHOOL_MAIL} có trong danh sách trường", "đầu văn bản ghi THCS Nguyễn Hiền")


@pytest.mark.parametrize("issuer, sender, code", [
    ("TRƯỜNG TIỂU HỌC NGUYỄN TRÃI", "thnguyentrai.q12@hcm-edu.example", "th-nguyen-trai"),
    ("TRƯỜNG THCS NGUYỄN TRÃI", "thcsnguyentrai.q12@hcm-edu.example", "thcs-nguyen-trai"),
    ("TRƯỜNG TIỂU HỌC NGUYỄN TRÃI", UNKNOWN_MAIL, "th-nguyen-trai"),
    ("TRƯỜNG TRUNG HỌC CƠ SỞ NGUYỄN TRÃI", UNKNOWN_MAIL, "thcs-nguyen-trai"),
    ("TRƯỜNG MẦM NON SƠN CA 6", UNKNOWN_MAIL, "mn-son-ca-6"),
    ("TRƯỜNG MẦM NON SƠN CA 8", UNKNOWN_MAIL, "mn-son-ca-8"),
    ("TRƯỜNG MẦM NON SƠN CA 8", "mnsonca8.q12@hcm-edu.example", "mn-son-ca-8"),
])
def test_level_and_number_pick_the_school(issuer, sender, code):
    d = one(head(issuer=issuer), msg=message(sender, subject="Hồ sơ ANTQ"))
    assert (d.decision, d.school) == ("counted", code)


def test_th_header_from_thcs_address_is_a_conflict():
    d = one(head(issuer="TRƯỜNG TIỂU HỌC NGUYỄN TRÃI"), msg=message("thcsnguyentrai.q12@hcm-edu.example"))
    assert d.decision == "review"
    assert has(d, "mâu thuẫn", "TH Nguyễn Trãi", "THCS Nguyễn Trãi")


def test_son_ca_without_number_from_unknown_sender_goes_to_review():
    d = one(head(issuer="TRƯỜNG MẦM NON SƠN CA"), msg=message(UNKNOWN_MAIL, subject="Hồ sơ ANTQ"))
    assert (d.decision, d.school) == ("review", None)
    assert has(d, "chưa rõ là trường nào", "MN Sơn Ca 6 hoặc MN Sơn Ca 8")


def test_son_ca_without_number_is_settled_by_the_roster_address():
    d = one(head(issuer="TRƯỜNG MẦM NON SƠN CA"), msg=message("mnsonca6.q12@hcm-edu.example"))
    assert (d.decision, d.school) == ("counted", "mn-son-ca-6")


def test_son_ca_8_document_from_son_ca_6_address_is_a_conflict():
    d = one(head(issuer="TRƯỜNG MẦM NON SƠN CA 8"), msg=message("mnsonca6.q12@hcm-edu.example"))
    assert d.decision == "review"
    assert has(d, "mâu thuẫn", "MN Sơn Ca 8", "MN Sơn Ca 6")


def test_school_named_in_passing_in_mail_body_is_not_the_sender():
    body = ("Kính gửi cô Mai,\nThực hiện học tập kinh nghiệm của Trường THCS Phan Bội Châu, "
            "trường em gửi hồ sơ đính kèm.\nTrân trọng,\nCô Lan")
    d = one(head(issuer=""), msg=message(UNKNOWN_MAIL, subject="Hồ sơ ANTQ", body_text=body))
    assert (d.decision, d.school) == ("review", None)
    assert has(d, "không nhận ra trường", f"địa chỉ gửi {UNKNOWN_MAIL} không có trong danh sách trường")


def test_school_named_in_document_body_or_subject_line_is_not_the_issuer():
    subject = ("Về việc đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ (học tập kinh nghiệm "
               "Trường THCS Phan Bội Châu)")
    body = "Trường phối hợp với Trường TH Nguyễn Du tổ chức tuyên truyền phong trào toàn dân bảo vệ an ninh Tổ quốc."
    d = one(head(subject=subject), body)
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-hien")
    assert not has(d, "Phan Bội Châu") and not has(d, "Nguyễn Du")


def test_misleading_filename_does_not_beat_content():
    d = one(head("BIÊN BẢN"), filename="Bao cao.pdf")
    assert (d.decision, d.doc_types) == ("counted", ("bien_ban",))
    assert has(d, "tên tệp 'Bao cao.pdf' không khớp nội dung (không tính)")


def test_meaningless_filename_is_no_evidence():
    d = one(head("BÁO CÁO"), filename="scan0001.pdf")
    assert (d.decision, d.doc_types) == ("counted", ("bao_cao",))
    blank = one("Nội dung không rõ", filename="scan0001.pdf")
    assert (blank.decision, blank.doc_types) == ("review", ())
    assert has(blank, "không nhận ra loại văn bản", "tên tệp 'scan0001.pdf' không cho biết gì")


def test_meaningful_filename_alone_is_only_a_guess():
    d = one("Nội dung không rõ", filename="Bien ban hop xet.pdf")
    assert (d.decision, d.doc_types) == ("review", ("bien_ban",))
    assert has(d, "đoán loại văn bản từ tên tệp")


def test_letter_spaced_title():
    d = one(head("T Ờ  T R Ì N H"))
    assert (d.decision, d.doc_types) == ("counted", ("to_trinh",))


def test_two_column_interleaved_head():
    text = ("UBND QUẬN 12 CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "TRƯỜNG THCS NGUYỄN HIỀN Độc lập - Tự do - Hạnh phúc\n"
            "Số: 03/BB-THCSNH Quận 12, ngày 04 tháng 10 năm 2023\n"
            "BIÊN BẢN\n" + SUBJECTS["BIÊN BẢN"])
    d = one(text, msg=message(UNKNOWN_MAIL))
    assert (d.decision, d.school, d.doc_types) == ("counted", "thcs-nguyen-hien", ("bien_ban",))
    assert has(d, "số ký hiệu BB trong 'Số: 03/BB-THCSNH", "ngày văn bản 04/10/2023",
               f"địa chỉ gửi {UNKNOWN_MAIL} không có trong danh sách trường; nhận ra trường từ đầu văn bản")


def test_run_on_head_without_line_breaks():
    text = " ".join(head("BÁO CÁO").splitlines())
    d = one(text, msg=message(UNKNOWN_MAIL))
    assert (d.decision, d.school, d.doc_types) == ("counted", "thcs-nguyen-hien", ("bao_cao",))
    assert has(d, "ngày văn bản 05/10/2023")


def test_head_without_title_is_not_searched_deep_for_the_issuer():
    # A part whose "head" is body text: a school named in passing is no issuer.
    text = ("Trong năm học, nhà trường tổ chức nhiều hoạt động.\nCác hoạt động đã được triển khai.\n"
            "Trường đã học tập kinh nghiệm của Trường THCS Phan Bội Châu về phong trào toàn dân bảo vệ an ninh Tổ quốc.")
    d = one(text, msg=message(UNKNOWN_MAIL, subject="Hồ sơ"))
    assert (d.decision, d.school) == ("review", None)


def test_name_broken_over_two_lines_in_the_head():
    text = head(issuer="TRƯỜNG TRUNG HỌC CƠ SỞ\nNGUYỄN VĨNH NGHIỆP", number="Số: 12/BC-THCSNVN", title="BÁO CÁO")
    d = one(text, msg=message(UNKNOWN_MAIL))
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-vinh-nghiep")


def test_nfd_input():
    text = unicodedata.normalize("NFD", head("BIÊN BẢN"))
    d = one(text, msg=message(UNKNOWN_MAIL))
    assert (d.decision, d.school, d.doc_types) == ("counted", "thcs-nguyen-hien", ("bien_ban",))


@pytest.mark.parametrize("title, type_id", [("TỞ TRÌNH", "to_trinh"), ("BIEN BAN", "bien_ban"),
                                            ("BlÊN BẢN", "bien_ban"), ("BAO CAO", "bao_cao")])
def test_ocr_noisy_titles_still_count(title, type_id):
    text = head(title, number="", issuer="TRUÒNG THC5 NGUYÊN HIÊN",
                subject=SUBJECTS[{"to_trinh": "TỜ TRÌNH", "bien_ban": "BIÊN BẢN", "bao_cao": "BÁO CÁO"}[type_id]])
    d = one(text, ocr=True)
    assert (d.decision, d.school, d.doc_types) == ("counted", "thcs-nguyen-hien", (type_id,))
    assert has(d, "chữ đọc bằng OCR", "được đọc là THCS Nguyễn Hiền (khớp gần đúng)")


# What tesseract makes of a scanned header (from scans of the corpus): words
# glued, specks read as punctuation, the motto run into the issuer line.

@pytest.mark.parametrize("line, code", [
    ("TRƯỜNG MẦM NON SƠNCA8", "mn-son-ca-8"),
    ("_ TRƯỜNG MN SƠN CA8 `...", "mn-son-ca-8"),
    ("TRƯỜNG MNHOAMAI -' , `", "mn-hoa-mai"),
    ("TRƯỜNGTHCSNGUYỄNHIỀN", "thcs-nguyen-hien"),
])
def test_compact_school_reads_glued_names(line, code):
    mention = C.compact_school(line, INDEX)
    assert [s.code for s in mention.schools] == [code] and not mention.exact


@pytest.mark.parametrize("line", ["TRƯỜNG MN SƠNCA86", "TRƯỜNG MN SƠNCAG", "TRƯỜNG THCS LÊ LỢI"])
def test_compact_school_never_guesses_a_number(line):
    assert C.compact_school(line, INDEX) is None


@pytest.mark.parametrize("issuer, code", [
    ("TRƯỜNG MẦM NON SƠNCA8 Độc lập - Tư do - anh phúc -`", "mn-son-ca-8"),       # motto words damaged
    (".. TRƯỜNG MN SƠN CA 6 . ˆ + Độc lâg-Tựdo- Hạnh phúc ,", "mn-son-ca-6"),
    ("TRƯỜNG MNHOAMAI -' , `  Độclập-Tưdo-Hanh phúc", "mn-hoa-mai"),
    ("-TRƯỜNG THCS NGUYỄN HIỀN cau: số ... Độc lập - Tư do .- Hạnh phúc", "thcs-nguyen-hien"),  # specks read as words
])
def test_ocr_issuer_line_run_into_the_motto(issuer, code):
    text = head("BIÊN BẢN", issuer=issuer, number="Số: 03/BB-THCSNH")
    hs = C.find_school_in_head(C.parse_head(text, INDEX, ocr=True), INDEX)
    assert hs.mention is not None and [s.code for s in hs.mention.schools] == [code], hs


@pytest.mark.parametrize("issuer, codes", [
    ("TRƯỜNG TRUNGHỌC PHỔTHÔNG - Độc .lập - Tự do - Hạnh. phúc\nTRƯỜNG CHIH - `", ["thpt-truong-chinh"]),
    ("TRƯỜNG LÑON HOA MAI _. Độc lập - Tư do - Hạnh phúc.\n` `... 13/BBMNHM - .' ` ˆ Quận 12",
     ["mn-hoa-mai"]),   # level word damaged
    ("TRƯỜNG THC5 NGUYỄN VĨNH NGHIỆP", ["thcs-nguyen-vinh-nghiep"]),
])
def test_ocr_names_over_two_lines_or_with_a_damaged_level(issuer, codes):
    text = head("BIÊN BẢN", issuer=issuer)
    hs = C.find_school_in_head(C.parse_head(text, INDEX, ocr=True), INDEX)
    assert hs.mention is not None and [s.code for s in hs.mention.schools] == codes, hs


def test_ocr_level_without_its_name_is_consistent_with_that_level_only():
    text = head("BIÊN BẢN", issuer="- TRƯỜNG TRƯNG HỌC PHỔ THÔNG Độc lập - Tự do - Hạnh phúc")
    d = one(text, msg=message("thpttruongchinh@hcm-edu.example"), ocr=True)
    assert (d.decision, d.school) == ("counted", "thpt-truong-chinh"), d.reasons
    d = one(text, ocr=True)  # from THCS Nguyễn Hiền's address: a THPT header is a conflict
    assert d.decision == "review" and has(d, "mâu thuẫn")


def test_ocr_supervisor_line_is_never_read_as_a_school():
    # "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO QUẬN 12" with a speck in front is no "TT GDNN-GDTX Quận 12";
    # "SƠNCAG" (6 read as G) is no school either: a person looks.
    text = ("* PHÒNG GIÁO DỤC VÀ ĐÀO TẠO. QUẬN 12. CỘNG HÒA XÃ HỘI CHỦ NGHĨA 'VIỆT NAM\n"
            ".. TRƯỜNG MN SƠNCAG . ˆ + Độc lâg-Tựdo- Hạnh phúc ,\n"
            "Số: 70/BB-MNSC6. __ Quận 12, ngày 20 tháng 9 năm 2023\n\" 'BIÊN BẢN _. Ẫ :\n" + SUBJECTS["BIÊN BẢN"])
    hs = C.find_school_in_head(C.parse_head(text, INDEX, ocr=True), INDEX)
    assert hs.mention is None and "SƠNCAG" in hs.unknown_line
    d = one(text, msg=message("mnsonca6.q12@hcm-edu.example"), ocr=True)
    assert d.decision == "review" and has(d, "không có trong danh sách trường")


def test_a_known_name_under_another_level_is_not_that_school():
    # "Tiểu học Hoa Mai" is not "MN Hoa Mai", even in a scan.
    text = head("BIÊN BẢN", issuer="TRƯỜNG TIỂU HỌC HOA MAI")
    hs = C.find_school_in_head(C.parse_head(text, INDEX, ocr=True), INDEX)
    assert hs.mention is None and hs.unknown_line == "TRƯỜNG TIỂU HỌC HOA MAI"


def test_ocr_name_cut_short_is_consistent_not_unknown():
    # "TRƯỜNG TRUNG HỌC CƠ SỞ NGUYỄN" and the rest of the name lost: every THCS Nguyễn ... fits.
    text = head("BÁO CÁO", issuer="_ TRƯỜNG TRƯNG HỌC CƠ SỞ NGUYÊN . -. Độc lập- Tự do - Hạnh …")
    d = one(text, ocr=True)   # from THCS Nguyễn Hiền's roster address: consistent
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-hien"), d.reasons
    d = one(text, msg=message("thnguyendu.q12@hcm-edu.example"), ocr=True)   # from TH Nguyễn Du: a conflict
    assert d.decision == "review" and has(d, "mâu thuẫn")


@pytest.mark.parametrize("issuer, sender, decision", [
    # a level word misread (seeds 11, 12: "HỌC" read "Huệ", the name's end on the next line lost)
    ("'_ TRƯỜNG TRUNG Huệ CƠ SỞ NGUYỆN", SCHOOL_MAIL, "counted"),
    # a speck after the level (seed 13): any THPT fits
    ("TRƯỜNG TRUNG HỌC. PHỔ THÔNG 3Ỷ", "thpttruongchinh@hcm-edu.example", "counted"),
    ("TRƯỜNG MẦM NO! T", "mnhoamai.q12@hcm-edu.example", "counted"),
    # what is left does not fit the sender: a conflict, not a guess
    ("'_ TRƯỜNG TRUNG Huệ CƠ SỞ NGUYỆN", "thnguyendu.q12@hcm-edu.example", "review"),
    # a whole name that is not on the roster stays unknown
    ("TRƯỜNG THPT LÊ LỢI 3Ỷ", "thpttruongchinh@hcm-edu.example", "review"),
])
def test_ocr_damaged_level_words_are_read_as_a_name_cut_short(issuer, sender, decision):
    d = one(head("BÁO CÁO", issuer=issuer), msg=message(sender), ocr=True)
    assert d.decision == decision, d.reasons


@pytest.mark.parametrize("canon, repaired", [
    ("truong trung hue co so nguyen", "truong thcs nguyen"),
    ("truong trung hoc pho thong 3y", "truong thpt"),
    ("truong mam no t", "truong mn"),
    ("truong mn son ca 8", "truong mn son ca 8"),       # a school's number is no speck
    ("truong thcs nguyen hien", "truong thcs nguyen hien"),
])
def test_ocr_level_repair(canon, repaired):
    assert ocr_level_repair(canon) == repaired


@pytest.mark.parametrize("line, type_id, approximate", [
    (". TỜ TRÌNH ` =", "to_trinh", False),          # specks around a clean title
    ("_\". BẢO CÁO", "bao_cao", False),
    ("KẾ. HOẠCH...", "ke_hoach", False),
    (": , 'TỜ TRÌNH P", "to_trinh", True),          # a stray letter: approximate
    ("ca có TỜTRNH ... - ẻ", "to_trinh", True),     # a letter lost too
    ("; SC BIỂN BẢN ĐC", "bien_ban", True),          # specks read as capitals
    ("4 là 2 ._ TỜTRÌNH .. .-. .", "to_trinh", True),
])
def test_ocr_title_with_specks(line, type_id, approximate):
    sig, fuzzy = C.match_title(line, INDEX)
    assert (sig.id, fuzzy) == (type_id, approximate)


@pytest.mark.parametrize("line", ["- Tờ trình;", "Căn cứ Tờ trình số 12/TTr", "KÈM THEO TỜ TRÌNH SỐ 12",
                                  "2. KẾ HOẠCH THỰC HIỆN", "II. BIÊN BẢN HỌP"])
def test_title_with_specks_still_rejects_citations(line):
    assert C.match_title(line, INDEX) is None


@pytest.mark.parametrize("line, ocr, type_id, issuer, approximate", [
    (".Số-36/TTr-.MNSC.,", False, "to_trinh", "mnsc", False),        # specks and a dash for the colon
    ("Số:-87/TTr:TTGDNNGDTX Quận 12,", False, "to_trinh", "ttgdnngdtx", False),
    ("` Số: 48/BB THCSNVN ' mm.", False, "bien_ban", "thcsnvn", False),  # the dash lost
    ("'Sốố: /BC-TTGDNNGDTX", False, "bao_cao", "ttgdnngdtx", False),
    ("Số: 22/8C.THCSNT", True, "bao_cao", "thcsnt", True),          # 8 for B
    ("Số: 30/TTỉ-THCSNT v Quận 12", True, "to_trinh", "thcsnt", True),  # one letter wrong
    ("Số: 57/TTrTHHHG_„ Quận 12", True, "to_trinh", "thhhg", True),    # glued, the case shows the seam
    ("Số/20/BBMNSC6 ` `.", True, "bien_ban", "mnsc6", True),          # glued in capitals: a guess
])
def test_ocr_number_lines(line, ocr, type_id, issuer, approximate):
    n = classify_head._number_line(line, fold(line), INDEX, ocr)
    assert (n.type.id, n.issuer_code, n.approximate) == (type_id, issuer, approximate)


@pytest.mark.parametrize("line", ["Số: 22/8C.THCSNT", "Số: 30/TTỉ-THCSNT", "Số: 57/TTrTHHHG"])
def test_ocr_readings_of_a_code_are_for_ocr_text_only(line):
    n = classify_head._number_line(line, fold(line), INDEX, False)
    assert n is not None and n.type is None  # a Công văn-like number, as before


@pytest.mark.parametrize("line", ["Số: 12/BCĐ-UBND", "Số: 12/CTD-THCSNH", "Số: 12/THCSNH-VP"])
def test_ocr_readings_never_invent_a_code(line):
    # Ban Chỉ đạo's BCĐ is no BC; one letter from CTr is no dossier code.
    n = classify_head._number_line(line, fold(line), INDEX, True)
    assert n is not None and n.type is None


def test_approximate_code_alone_is_not_enough_to_count():
    d = one(head("", number="Số: 22/8C.THCSNT", subject=SUBJECTS["BÁO CÁO"]), ocr=True)
    assert d.doc_types == ("bao_cao",) and d.decision == "review"
    assert has(d, "số ký hiệu 8C trong 'Số: 22/8C.THCSNT' (khớp gần đúng)")


def test_ocr_header_alone_with_unknown_sender_still_counts():
    text = head("BIÊN BẢN", issuer="TRUÒNG THC5 NGUYÊN HIÊN")
    d = one(text, msg=message(UNKNOWN_MAIL, subject="Hồ sơ"), ocr=True)
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-hien")
    assert d.confidence == pytest.approx(0.8)


@pytest.mark.parametrize("subject, label", [
    ("Kết quả công tác phòng cháy chữa cháy và cứu nạn cứu hộ năm học 2022-2023", "phòng cháy chữa cháy"),
    ("Công tác PCCC năm 2023", "phòng cháy chữa cháy"),
    ("Kết quả công tác phòng, chống ma túy trong trường học", "phòng chống ma túy"),
    ("Kết quả thực hiện công tác đảm bảo an toàn giao thông năm học 2022-2023", "an toàn giao thông"),
    ("Kết quả kiểm tra nề nếp, kỷ luật học sinh", "kiểm tra nề nếp"),
])
def test_other_campaigns_are_ignored(subject, label):
    body = "Trường luôn bảo đảm an ninh trật tự (ANTT) trong trường học."
    d = one(head("BÁO CÁO", subject=subject), body)
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0] == f"không thuộc đợt này (chủ đề: {label})"


def test_other_campaigns_to_trinh_is_ignored_too():
    d = one(head("TỜ TRÌNH", subject="Về việc đề nghị công nhận trường đạt chuẩn an toàn giao thông"))
    assert d.decision == "ignored" and has(d, "không thuộc đợt này (chủ đề: an toàn giao thông)")


def test_unknown_topic_goes_to_review():
    d = one(head("BÁO CÁO", subject="Kết quả"))
    assert d.decision == "review" and has(d, "không thấy từ ngữ nào của đợt này")


def test_a_subject_about_something_else_is_ignored():
    d = one(head("BÁO CÁO", subject="Kết quả thực hiện nhiệm vụ năm học"))
    assert d.decision == "ignored" and has(d, "không thuộc đợt này: trích yếu 'Kết quả thực hiện nhiệm vụ năm học'")


@pytest.mark.parametrize("date_line, subject, reason", [
    ("Quận 12, ngày 05 tháng 10 năm 2022", None, "hồ sơ của năm trước (ngày 05/10/2022)"),
    ("Quận 12, ngày 5/10/2022", None, "hồ sơ của năm trước (ngày 05/10/2022)"),
    ("", SUBJECTS["TỜ TRÌNH"] + " năm học 2021-2022", "hồ sơ của năm trước (năm học 2021-2022)"),
])
def test_earlier_year_is_ignored(date_line, subject, reason):
    d = one(head(date=date_line, subject=subject))
    assert (d.decision, d.campaign) == ("ignored", False)
    assert d.reasons[0] == reason


@pytest.mark.parametrize("date_line, decision", [("", "ignored"), ("Quận 12, ngày 05 tháng 10 năm 2023", "review")])
def test_old_school_year_in_the_body_only(date_line, decision):
    body = "Trong năm học 2021 – 2022, trường đã thực hiện tốt phong trào toàn dân bảo vệ an ninh Tổ quốc."
    d = one(head(date=date_line), body)
    assert d.decision == decision and has(d, "năm học 2021-2022")


def test_old_school_year_with_a_new_date_goes_to_review():
    d = one(head(subject=SUBJECTS["TỜ TRÌNH"] + " năm học 2021-2022"))
    assert d.decision == "review" and has(d, "văn bản ghi ngày 05/10/2023 nhưng nói về năm học 2021-2022")


def test_document_dated_after_receipt_goes_to_review():
    d = one(head(date="Quận 12, ngày 25 tháng 10 năm 2023"))
    assert d.decision == "review" and has(d, "văn bản ghi ngày 25/10/2023, sau ngày nhận (06/10/2023)")


@pytest.mark.parametrize("day, decision", [(7, "counted"), (9, "counted"), (10, "review")])
def test_document_dated_a_few_days_ahead_counts_with_a_note(day, decision):
    # Received on 06/10: a paper dated for its signing day a few days later is
    # this year's; a week later is odd enough for a person to look.
    d = one(head(date=f"Quận 12, ngày {day:02d} tháng 10 năm 2023"))
    assert d.decision == decision and has(d, f"văn bản ghi ngày {day:02d}/10/2023, sau ngày nhận (06/10/2023)")


@pytest.mark.parametrize("subject, body, mail_subject, decision, reason", [
    (SUBJECTS["TỜ TRÌNH"] + " năm 2023", "", "Hồ sơ", "counted", "trích yếu ghi năm 2023"),
    (SUBJECTS["TỜ TRÌNH"], "Biên bản họp xét ngày 18/9/2023 của Hội đồng", "Hồ sơ", "counted",
     "trong văn bản có ngày 18/09/2023"),
    (SUBJECTS["TỜ TRÌNH"], "Kết quả năm học 2022 - 2023 của đơn vị", "Hồ sơ", "counted", "năm học 2022-2023"),
    # the date line broken by OCR: "ngày 2" on one line, "24 tháng 9 năm 2023" on the next
    (SUBJECTS["TỜ TRÌNH"], "24 tháng 9 năm 2023", "Hồ sơ", "counted", "trong văn bản có ngày 24/09/2023"),
    (SUBJECTS["TỜ TRÌNH"], "", "Hồ sơ điển hình ANTQ năm 2023", "counted", "thư gửi kèm ghi năm 2023"),
    (SUBJECTS["TỜ TRÌNH"], "", "Hồ sơ", "review", "không thấy dấu hiệu nào cho biết là hồ sơ năm 2023"),
    # an earlier year's dossier photographed: only old dates can be read
    (SUBJECTS["TỜ TRÌNH"], "Biên bản họp xét ngày 19/9/2022 của Hội đồng", "Hồ sơ", "review",
     "các ngày ghi trong văn bản đều trước năm 2023"),
])
def test_unreadable_date_needs_evidence_of_this_cycle(subject, body, mail_subject, decision, reason):
    d = one(head(date="", subject=subject), body, msg=message(subject=mail_subject))
    assert d.decision == decision and has(d, "không đọc được ngày văn bản", reason)


def test_received_in_january_belongs_to_last_years_cycle():
    d = one(head(date="Quận 12, ngày 08 tháng 01 năm 2024"), received=datetime(2024, 1, 9, 8, 0, tzinfo=VN))
    assert d.decision == "counted"


def test_forwarded_from_staff_gmail_keeps_the_original_school():
    msg = message("staff.member@gmail.com", subject="Fwd: Hồ sơ ANTQ", from_name="Nguyễn Văn A",
                  original_from=SCHOOL_MAIL, original_from_name="THCS Nguyễn Hiền")
    d = one(head("BÁO CÁO"), msg=msg)
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-hien")
    assert has(d, f"người gửi gốc {SCHOOL_MAIL} có trong danh sách trường")


def test_inline_forward_signature_and_display_name_support_the_school():
    body = ("Em chuyển hồ sơ ạ.\n\n---------- Forwarded message ---------\nFrom: Văn thư <vanthu@gmail.com>\n"
            "Subject: Hồ sơ\n\nKính gửi cô,\nTrường gửi hồ sơ.\nTrân trọng,\nTrường Mầm non Sơn Ca 8")
    msg = message("staff.member@gmail.com", subject="Fwd: Hồ sơ", body_text=body, original_from="vanthu@gmail.com")
    d = one(head(issuer="TRƯỜNG MẦM NON SƠN CA 8"), msg=msg)
    assert (d.decision, d.school) == ("counted", "mn-son-ca-8")
    assert d.confidence == pytest.approx(0.95)
    assert has(d, "chữ ký cuối thư: MN Sơn Ca 8", "địa chỉ gửi vanthu@gmail.com không có trong danh sách trường")


def test_mail_evidence_alone_is_not_enough_to_count():
    # A scan whose header could not be read: subject and signature agree, sender unknown.
    msg = message(UNKNOWN_MAIL, subject="Hồ sơ ANTQ - TH Nguyễn Du",
                  body_text="Kính gửi cô,\nEm gửi hồ sơ.\nTrân trọng,\nTH Nguyễn Du")
    d = one("Quận 12, ngày 05 tháng 10 năm 2023\nTỜ TRÌNH\n" + SUBJECTS["TỜ TRÌNH"], msg=msg)
    assert (d.decision, d.school, d.doc_types) == ("review", "th-nguyen-du", ("to_trinh",))
    assert d.confidence == pytest.approx(0.7) and has(d, "độ tin cậy 0,70 dưới ngưỡng 0,75")


def test_forwarded_by_another_schools_address_is_noted():
    msg = message("thnguyendu.q12@hcm-edu.example", original_from=SCHOOL_MAIL, subject="Fwd: Hồ sơ")
    d = one(head("BÁO CÁO"), msg=msg)
    assert d.school == "thcs-nguyen-hien"
    assert has(d, "thư do thnguyendu.q12@hcm-edu.example chuyển tiếp, là địa chỉ của TH Nguyễn Du (không khớp)")


def test_unknown_sender_with_clear_header_counts():
    d = one(head("TỜ TRÌNH"), msg=message("thcsnh.2023@gmail.com", subject="Hồ sơ"))
    assert (d.decision, d.school) == ("counted", "thcs-nguyen-hien")
    assert has(d, "địa chỉ gửi thcsnh.2023@gmail.com không có trong danh sách trường; nhận ra trường từ đầu văn bản")


def test_roster_sender_and_header_conflict_goes_to_review():
    d = one(head(issuer="TRƯỜNG THCS PHAN BỘI CHÂU"), msg=message(SCHOOL_MAIL))
    assert d.decision == "review"
    assert has(d, "mâu thuẫn: đầu văn bản ghi THCS Phan Bội Châu ('TRƯỜNG THCS PHAN BỘI CHÂU'), không phải THCS Nguyễn Hiền",
               f"địa chỉ gửi {SCHOOL_MAIL} có trong danh sách trường (THCS Nguyễn Hiền)")
    assert d.confidence <= 0.5


def test_header_naming_a_school_not_on_the_roster_goes_to_review():
    d = one(head(issuer="TRƯỜNG THCS LÊ LỢI"), msg=message(SCHOOL_MAIL))
    assert d.decision == "review"
    assert has(d, "đầu văn bản ghi 'TRƯỜNG THCS LÊ LỢI', không có trong danh sách trường")


def test_authentication_failure_without_roster_address_is_only_noted():
    d = one(head(), msg=message(UNKNOWN_MAIL, auth="fail", auth_reason="spf=fail"))
    assert d.decision == "counted" and has(d, "xác thực người gửi không đạt: spf=fail (trường không được xác định "
                                              "theo địa chỉ gửi)")


def test_authentication_failure_of_a_roster_sender_goes_to_review():
    msg = message(SCHOOL_MAIL, auth="fail", auth_reason="dmarc=fail (p=none) header.from=hcm-edu.example")
    d = one(head(), msg=msg)
    assert d.decision == "review"
    assert has(d, "xác thực người gửi không đạt: dmarc=fail")


def test_extraction_error_goes_to_review_with_that_reason():
    ext = Extraction(kind="pdf", error="PDF có mật khẩu (bị mã hóa)")
    (d,) = C.classify_message(message(), [(pdf("To trinh.pdf"), ext)], RULES, RECEIVED, True)
    assert (d.decision, d.school, d.doc_types) == ("review", "thcs-nguyen-hien", ("to_trinh",))
    assert d.reasons[0] == "PDF có mật khẩu (bị mã hóa)"


def test_scan_without_ocr_says_so():
    ext = Extraction(kind="pdf", error="PDF chỉ có ảnh, không có chữ")
    (d,) = C.classify_message(message(), [(pdf("scan0001.pdf"), ext)], RULES, RECEIVED, False)
    assert d.decision == "review" and has(d, "PDF chỉ có ảnh, không có chữ", "máy chưa cài OCR")
    # the extractor's own words already say it: not said twice
    ext = Extraction(kind="pdf", error="tệp scan nhưng máy chưa cài OCR")
    (d,) = C.classify_message(message(), [(pdf("scan0001.pdf"), ext)], RULES, RECEIVED, False)
    assert d.decision == "review" and sum("OCR" in r for r in d.reasons) == 1


def test_tiny_images_and_signatures_are_ignored():
    docs = [(pdf("image001.png", 4_000, "image/png"), Extraction(kind="image", error="no text")),
            (pdf("smime.p7s", 3_000, "application/pkcs7-signature"), Extraction(kind="unknown", error="unsupported"))]
    decisions = C.classify_message(message(subject="Thư", body_text="Chào cô"), docs, RULES, RECEIVED, True)
    assert [d.decision for d in decisions] == ["ignored", "ignored"]
    assert all(has(d, "không phải văn bản") for d in decisions)
    assert has(decisions[0], "image/png, 4.000 byte")


def test_mail_announcing_documents_with_only_a_logo_attached_goes_to_review():
    docs = [(pdf("image001.png", 4_000, "image/png"), Extraction(kind="image", error="no text"))]
    decisions = C.classify_message(message(body_text="Trường gửi hồ sơ đính kèm."), docs, RULES, RECEIVED, True)
    assert [(d.part_index, d.decision) for d in decisions] == [(0, "ignored"), (-1, "review")]
    assert decisions[1].reasons[0] == "thư nói có gửi văn bản nhưng không có tệp đính kèm"


def test_body_citing_a_plan_does_not_make_a_report_a_plan():
    text = head("BÁO CÁO") + "\nCăn cứ Kế hoạch số 887/KH-GDĐT ngày 11/7/2023 của Phòng Giáo dục và Đào tạo"
    body = ("Số 887/KH-GDĐT ngày 11/7/2023 về việc triển khai Kế hoạch; kèm theo Tờ trình, Biên bản họp xét.\n"
            "KẾ HOẠCH năm tới sẽ tiếp tục triển khai.")
    d = one(text, body)
    assert (d.decision, d.doc_types) == ("counted", ("bao_cao",))


def test_cong_van_that_transmits_the_dossier_is_ignored():
    text = ("UBND QUẬN 12\nTRƯỜNG THCS NGUYỄN HIỀN\nSố: 12/THCSNH-VP\n"
            "V/v gửi hồ sơ đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ\n"
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nQuận 12, ngày 05 tháng 10 năm 2023\n"
            "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12")
    d = one(text, "Trường gửi kèm theo Tờ trình, Báo cáo, Biên bản.")
    assert (d.decision, d.doc_types) == ("ignored", ())
    assert d.reasons[0] == "công văn chuyển hồ sơ, không phải một văn bản của bộ hồ sơ"


def test_cong_van_written_as_a_proposal_goes_to_review():
    text = ("UBND QUẬN 12\nTRƯỜNG THCS NGUYỄN HIỀN\nSố: 12/THCSNH-VP\n"
            "V/v đề nghị công nhận trường đạt điển hình về phong trào toàn dân bảo vệ ANTQ\n"
            "Quận 12, ngày 05 tháng 10 năm 2023")
    d = one(text)
    assert (d.decision, d.doc_types) == ("review", ("to_trinh",))
    assert has(d, "là Công văn, không phải Tờ trình đề nghị công nhận: cần xem có thay cho Tờ trình đề nghị "
                  "công nhận được không")


def test_other_administrative_types_are_ignored():
    d = one(head("QUYẾT ĐỊNH", number="Số: 20/QĐ-THCSNH",
                 subject="Về việc thành lập Ban chỉ đạo phong trào toàn dân bảo vệ an ninh Tổ quốc"))
    assert d.decision == "ignored" and d.reasons[0] == "là Quyết định, không phải văn bản của bộ hồ sơ này"


def test_the_offices_own_plan_sent_back_is_ignored():
    text = ("ỦY BAN NHÂN DÂN QUẬN 12\nPHÒNG GIÁO DỤC VÀ ĐÀO TẠO\nSố: 887/KH-GDĐT\n"
            "Quận 12, ngày 11 tháng 7 năm 2023\nKẾ HOẠCH\n" + SUBJECTS["KẾ HOẠCH"])
    d = one(text, received=datetime(2023, 8, 20, tzinfo=VN))
    assert d.decision == "ignored" and has(d, "văn bản do chính Phòng ban hành")


def test_title_and_number_code_disagreeing_goes_to_review():
    d = one(head("BÁO CÁO", number="Số: 03/BB-THCSNH"))
    assert d.decision == "review" and has(d, "tiêu đề là Báo cáo", "số ký hiệu là Biên bản")


def test_part_holding_two_documents_goes_to_review():
    second = head("BIÊN BẢN", number="Số: 03/BB-THCSNH")
    d = one(head("TỜ TRÌNH"), "Nội dung tờ trình.\nHIỆU TRƯỞNG\n" + second + "\nThời gian: 14 giờ")
    assert (d.decision, d.doc_types) == ("review", ("to_trinh", "bien_ban"))
    assert has(d, "chứa nhiều văn bản (Tờ trình đề nghị công nhận, Biên bản họp xét, đề nghị)")


def test_title_lost_subject_keywords_only_guess():
    text = head("", number="", subject="Về việc đề nghị công nhận cơ sở giáo dục điển hình về phong trào toàn dân "
                                       "bảo vệ an ninh Tổ quốc")
    d = one(text)
    assert (d.decision, d.doc_types) == ("review", ("to_trinh",))
    assert has(d, "đoán loại văn bản từ trích yếu")


def test_combined_pdf_gives_one_decision_per_part_with_pages():
    parts = tuple(DocumentPart(head=h, text=h, first_page=p, last_page=p + 1)
                  for h, p in ((head("TỜ TRÌNH"), 1), (head("BÁO CÁO"), 3), (head("BIÊN BẢN"), 5)))
    decisions = C.classify_message(message(), [(pdf("hoso.pdf"), Extraction(kind="pdf", parts=parts))],
                                   RULES, RECEIVED, True)
    assert [(d.part_index, d.doc_types, d.first_page, d.last_page, d.decision) for d in decisions] == [
        (0, ("to_trinh",), 1, 2, "counted"), (1, ("bao_cao",), 3, 4, "counted"), (2, ("bien_ban",), 5, 6, "counted")]
    assert all(d.content_sha256 == "" for d in decisions)


@pytest.mark.parametrize("msg, reason", [
    (message(automatic="Auto-Submitted: auto-replied"), "thư tự động (Auto-Submitted: auto-replied)"),
    (message(bounce_recipients=("x@hcm-edu.example",)), "thư báo gửi không thành công (tới x@hcm-edu.example)"),
])
def test_automatic_mail_is_never_counted(msg, reason):
    ext = Extraction(kind="pdf", parts=(DocumentPart(head(), head()),))
    (d,) = C.classify_message(msg, [(pdf(), ext)], RULES, RECEIVED, True)
    assert d.decision == "ignored" and d.reasons[0].startswith(reason)
    assert C.classify_message(msg, [], RULES, RECEIVED, True) == []


def test_mail_announcing_documents_without_attachment_goes_to_review():
    msg = message(body_text="Kính gửi cô,\nTrường gửi hồ sơ đề nghị công nhận.\nTrân trọng.")
    (d,) = C.classify_message(msg, [], RULES, RECEIVED, True)
    assert (d.filename, d.part_index, d.decision, d.school) == ("", -1, "review", "thcs-nguyen-hien")
    assert d.reasons[0] == "thư nói có gửi văn bản nhưng không có tệp đính kèm"


def test_plain_mail_without_attachment_gives_nothing():
    msg = message(subject="Hỏi về thời hạn", body_text="Cô ơi, hạn nộp là ngày nào ạ?")
    assert C.classify_message(msg, [], RULES, RECEIVED, True) == []


def test_low_threshold_never_counts_a_conflict():
    low = dataclasses.replace(RULES, campaign=dataclasses.replace(RULES.campaign, review_threshold=0.1))
    ext = Extraction(kind="pdf", parts=(DocumentPart(head(issuer="TRƯỜNG THCS PHAN BỘI CHÂU"), ""),))
    (d,) = C.classify_message(message(), [(pdf(), ext)], low, RECEIVED, True)
    assert d.decision == "review"


def test_explicit_index_gives_the_same_answer():
    ext = Extraction(kind="pdf", parts=(DocumentPart(head(), head()),))
    assert (C.classify_message(message(), [(pdf(), ext)], RULES, RECEIVED, True, index=INDEX)
            == C.classify_message(message(), [(pdf(), ext)], RULES, RECEIVED, True))


def test_decisions_are_valid_items():
    d = one(head())
    assert d.decision in ("counted", "review", "ignored") and 0.0 <= d.confidence <= 1.0
    assert all(isinstance(r, str) and r for r in d.reasons)


def test_fold_compact_agrees_with_index_titles():
    assert INDEX.titles[fold_compact("TỜ TRÌNH")].id == "to_trinh"


# --------------------------------------------------------------------------
# Speed: it runs thousands of times
# --------------------------------------------------------------------------

