"""Official-copy evidence read from text: policy, signature block, number and date, Biên bản parts."""
from __future__ import annotations

from datetime import date

import pytest

from bot.errors import RulesError
from bot.official.minutes import LABELS, check_minutes
from bot.official.numbering import NumberDate, best_reading, read_number_cell, read_number_date
from bot.official.policy import OfficialPolicy, Requirement, parse_policy, policy_of
from bot.official.signblock import find_blocks

# --------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------


def test_policy_parses_in_order_once():
    policy = parse_policy(["signed_or_stamped", "number", "date_in_cycle", "number"], "to_trinh")
    assert policy.requires == (Requirement.SIGNED_OR_STAMPED, Requirement.NUMBER, Requirement.DATE_IN_CYCLE)
    assert Requirement.NUMBER in policy and Requirement.SEAL not in policy
    assert parse_policy([], "x").empty


@pytest.mark.parametrize("value,named", [
    (["signed", "number", "stamp"], ["'signed'", "'stamp'"]),
    (["Signed_Or_Stamped"], ["'Signed_Or_Stamped'"]),
    ([3], ["3"]),
])
def test_policy_unknown_values_are_named(value, named):
    with pytest.raises(RulesError) as err:
        parse_policy(value, "rules/campaign.toml, document 'to_trinh'")
    text = str(err.value)
    assert "document 'to_trinh'" in text and "known: signed_or_stamped" in text
    for name in named:
        assert name in text
    assert "'number'" not in text.split(";")[0]  # a known value is not called unknown


def test_policy_must_be_a_list():
    with pytest.raises(RulesError, match="must be a list"):
        parse_policy("signed_or_stamped", "to_trinh")


def test_policy_of_falls_back_to_the_campaign_default():
    default = OfficialPolicy((Requirement.SIGNED_OR_STAMPED,))
    assert policy_of(None, default, "x") is default
    assert policy_of([], default, "x").empty  # an office that accepts Word files for this document


# --------------------------------------------------------------------------
# Signature block
# --------------------------------------------------------------------------

BLOCKS = [
    ("principal", ["Nơi nhận:                       HIỆU TRƯỞNG", "- Như trên;", "- Lưu: VT.", "",
                   "                                Nguyễn Văn An"],
     [("HIỆU TRƯỞNG", "Nguyễn Văn An")]),
    ("deputy signs for", ["KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG", "(Ký, ghi rõ họ tên, đóng dấu)", "~~ /// ~",
                          "Trần Thị Bích Ngọc"],
     [("KT. HIỆU TRƯỞNG / PHÓ HIỆU TRƯỞNG", "Trần Thị Bích Ngọc")]),
    ("minutes: chair and secretary", ["THƯ KÝ                    CHỦ TỌA", "", "Lê Thị Hoa             Phạm Minh Tuấn"],
     [("CHỦ TỌA", "Phạm Minh Tuấn")]),
    ("name in capitals", ["GIÁM ĐỐC", "NGUYỄN VĂN BÌNH"], [("GIÁM ĐỐC", "NGUYỄN VĂN BÌNH")]),
    ("academic prefix", ["TM. BAN GIÁM HIỆU", "HIỆU TRƯỞNG", "ThS. Võ Thanh Tâm"],
     [("TM. BAN GIÁM HIỆU / HIỆU TRƯỞNG", "ThS. Võ Thanh Tâm")]),
    ("title in a sentence is no block", ["Hiệu trưởng nhà trường chủ trì cuộc họp.", "Nguyễn Văn An phát biểu"],
     []),
    ("title without a name", ["HIỆU TRƯỞNG", "", "(đã ký)"], []),
    ("heading in capitals is no name", ["HIỆU TRƯỞNG", "BÁO CÁO KẾT QUẢ"], []),
    # as OCR reads the block around a seal: words glued, "KT." misread
    ("OCR glued and misread the titles", ["KF,HIỆU TRƯỞNG", "PHÓHIỆU TRƯỞNG", "x8", "Ngưyến Quốc Trí"],
     [("KF,HIỆU TRƯỞNG / PHÓHIỆU TRƯỞNG", "Ngưyến Quốc Trí")]),
    ("a glued word that is no title", ["HIỆUTRƯỞNGNHÀ", "Nguyễn Văn An"], []),
]


@pytest.mark.parametrize("lines,expected", [(c[1], c[2]) for c in BLOCKS], ids=[c[0] for c in BLOCKS])
def test_signature_blocks(lines, expected):
    found = find_blocks(lines)
    assert [(b.title, b.name) for b in found.blocks] == expected


def test_typed_copy_of_a_signed_paper_is_marked():
    found = find_blocks(["HIỆU TRƯỞNG", "(Đã ký)", "Nguyễn Văn An"])
    assert found.typed_signed and found.last.name == "Nguyễn Văn An"
    assert not find_blocks(["HIỆU TRƯỞNG", "Nguyễn Văn An"]).typed_signed


def test_title_without_name_is_reported():
    assert find_blocks(["HIỆU TRƯỞNG", "", "~~~"]).titles_without_name == ("HIỆU TRƯỞNG",)


# --------------------------------------------------------------------------
# Number and date
# --------------------------------------------------------------------------

START, END = date(2023, 8, 1), date(2023, 10, 10)
HEAD = ["UBND QUẬN 12                      CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "TRƯỜNG THCS NGUYỄN HIỀN           Độc lập - Tự do - Hạnh phúc"]

NUMBERS = [
    # name, lines, codes, (number, blank, code, matches, date, blank, in_cycle)
    ("to trinh", HEAD + ["Số: 12/TTr-THCSNH                 Quận 12, ngày 05 tháng 10 năm 2023", "TỜ TRÌNH"],
     ["TTr"], ("12/TTr-THCSNH", False, "TTr", True, date(2023, 10, 5), False, True)),
    ("spaces around the slash", HEAD + ["Số : 7 / BC - THNH", "Quận 12, ngày 5 tháng 9 năm 2023"],
     ["BC"], ("7/BC-THNH", False, "BC", True, date(2023, 9, 5), False, True)),
    ("number of another kind", HEAD + ["Số: 12/BC-THCSNH", "Quận 12, ngày 05 tháng 10 năm 2023"],
     ["TTr"], ("12/BC-THCSNH", False, "BC", False, date(2023, 10, 5), False, True)),
    ("blank template number and day", HEAD + ["Số:      /TTr-THCSNH", "Quận 12, ngày     tháng 10 năm 2023"],
     ["TTr"], (None, True, "TTr", True, None, True, None)),
    ("last year's date", HEAD + ["Số: 3/BB-MNHM", "Quận 12, ngày 28 tháng 9 năm 2022"],
     ["BB"], ("3/BB-MNHM", False, "BB", True, date(2022, 9, 28), False, False)),
    ("after the deadline", HEAD + ["Số: 3/BB-MNHM", "Quận 12, ngày 11 tháng 10 năm 2023"],
     ["BB"], ("3/BB-MNHM", False, "BB", True, date(2023, 10, 11), False, False)),
    ("short date", HEAD + ["Số: 21/KH-THLVT", "Quận 12, ngày 02/10/2023"],
     ["KH"], ("21/KH-THLVT", False, "KH", True, date(2023, 10, 2), False, True)),
    ("citation is not the document's number or date",
     HEAD + ["TỜ TRÌNH", "Căn cứ Kế hoạch số 887/KH-GDĐT ngày 12 tháng 9 năm 2023 của Phòng GDĐT"],
     ["TTr"], (None, False, "", None, None, False, None)),
    ("sentence starting with So is no number", HEAD + ["So sánh với năm học trước"],
     ["TTr"], (None, False, "", None, None, False, None)),
]


@pytest.mark.parametrize("lines,codes,expected", [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_number_and_date(lines, codes, expected):
    nd = read_number_date(lines, codes, START, END)
    assert (nd.number, nd.number_blank, nd.code, nd.code_matches, nd.date, nd.date_blank, nd.in_cycle) == expected


def test_date_text_is_the_date_cell():
    nd = read_number_date(NUMBERS[0][1], ["TTr"], START, END)
    assert nd.date_text == "Quận 12, ngày 05 tháng 10 năm 2023"


# --------------------------------------------------------------------------
# Biên bản
# --------------------------------------------------------------------------

FULL_MINUTES = """BIÊN BẢN HỌP XÉT, ĐỀ NGHỊ CÔNG NHẬN
Thời gian: 14 giờ 00, ngày 03 tháng 10 năm 2023
Địa điểm: Phòng họp Trường THCS Nguyễn Hiền
Thành phần: Ban Giám hiệu, Chi bộ, Công đoàn, Đoàn Thanh niên (có mặt 25/27 người)
Chủ trì: Ông Nguyễn Văn An, Hiệu trưởng
Thư ký: Bà Lê Thị Hoa
Nội dung: Hội nghị đã nghe báo cáo kết quả xây dựng đơn vị điển hình.
Kết quả biểu quyết: 25/25 đại biểu có mặt tán thành (100%).
Hội nghị thống nhất đề nghị Phòng Giáo dục và Đào tạo xét công nhận."""


def _without(*drop: str) -> str:
    return "\n".join(line for line in FULL_MINUTES.splitlines() if not line.startswith(drop))


MINUTES = [
    ("complete", FULL_MINUTES, ()),
    ("no vote", _without("Kết quả biểu quyết"), ("kết quả biểu quyết",)),
    ("no secretary, no place", _without("Thư ký", "Địa điểm"), ("địa điểm", "thư ký")),
    ("proposal only in the title", _without("Hội nghị thống nhất"), ("nội dung đề nghị",)),
    ("vote in words", _without("Kết quả biểu quyết") + "\nHội nghị biểu quyết, 100% thành viên nhất trí.", ()),
    ("show of hands", _without("Kết quả biểu quyết") + "\nĐồng ý: 24/25 phiếu; không đồng ý: 1 phiếu.", ()),
    ("agreed by all, with its share", _without("Kết quả biểu quyết")
     + "\nBiên bản đã được thông qua trước toàn thể thành viên dự họp và được thống nhất 100%./.", ()),
    ("agreed, with no share, is no vote", _without("Kết quả biểu quyết")
     + "\nCác thành viên thống nhất đánh giá nhà trường thực hiện tốt; trước ngày 10/10/2023.",
     ("kết quả biểu quyết",)),
    ("folded OCR text", FULL_MINUTES.upper(), ()),
    ("only a title", "BIÊN BẢN HỌP XÉT, ĐỀ NGHỊ", LABELS),
]


@pytest.mark.parametrize("text,missing", [c[1:] for c in MINUTES], ids=[c[0] for c in MINUTES])
def test_minutes_parts(text, missing):
    check = check_minutes(text)
    assert check.missing == tuple(missing)
    assert set(check.present) | set(check.missing) == set(LABELS)


# --------------------------------------------------------------------------
# OCR's confusions in the number and date lines (issue 16: scans)
# --------------------------------------------------------------------------

OCR_NUMBERS = [
    # cell as OCR read it, codes, (number, blank, code, matches) or None (no number line)
    ("specks around Số", "` Số: 45/BC-THCSLTV.", ["BC"], ("45/BC-THCSLTV", False, "BC", True)),
    ("$ for S, hyphen dropped", "$ố:32/BCMNTT, `", ["BC"], ("32/BC-MNTT", False, "BC", True)),
    ("ð for ố, code glued to the issuer", ". Sð68/BBTHGSTHĐ - ' - Quận 12", ["BB"], ("68/BB-THGSTHĐ", False, "BB", True)),
    ("apostrophe for the hyphen", "Số: 10/BC'THKP - ” ˆ...... Quận 12, ngày 25 tháng 9 năm 2023", ["BC"],
     ("10/BC-THKP", False, "BC", True)),
    ("dot for the hyphen, stray letter after Số", "°¡ Sốc 83/TTr.THLVT \"`...", ["TTr"],
     ("83/TTr-THLVT", False, "TTr", True)),
    ("a speck read as a letter after the number", "Số: 30/TTrTHCSNT.. l", ["TTr"],
     ("30/TTr-THCSNT", False, "TTr", True)),
    ("a short word before Số", "vI Số: 47/TTr-THCSLTV", ["TTr"], ("47/TTr-THCSLTV", False, "TTr", True)),
    ("trailing specks", "Số: 87/TTr-MNHM '", ["TTr"], ("87/TTr-MNHM", False, "TTr", True)),
    ("glued code of another kind is not split", "Số: 57/TTrTHHHG", ["BC"], ("57/TTrTHHHG", False, "TTrTHHHG", False)),
    ("blank number with specks", "Số:' /BC-THCSNH `", ["BC"], (None, True, "BC", True)),
    ("the slash dropped", "Số:60BCMNSCS \"+ Quận 12, ngày 25", ["BC"], ("60/BC-MNSCS", False, "BC", True)),
    ("Số read twice, slash dropped", ".SSốố:80BCMNHS `.", ["BC"], ("80/BC-MNHS", False, "BC", True)),
    ("& for S", "_&ố:83/BCTHCSPBC - -, `. Quận 12", ["BC"], ("83/BC-THCSPBC", False, "BC", True)),
    ("no slash and not the kind's code: no number", "Số:60BCMNSCS", ["TTr"], None),
    ("blank number read as letters: no number line", '" số: (T8TRRĐ', ["TTr"], None),
    ("a cited document's number", "Số: 887/KH-GDĐT ngày 11/7/2023", ["KH"], None),
    ("a citation wrapped onto its own line", "số 887/KH-GDĐT của Phòng", ["KH"], None),
    ("Sở is no number", "SỞ GIÁO DỤC VÀ ĐÀO TẠO", ["TTr"], None),
    ("6 for ố", ". S6: 50/BC-THNT", ["BC"], ("50/BC-THNT", False, "BC", True)),
    ("a letter of a long code misread", "Số: 10/TTT-THTL ` :", ["TTr"], ("10/TTT-THTL", False, "TTT", True)),
    ("a letter of a long code misread, glued to the issuer", "Số: 43/TTETHNT", ["TTr"],
     ("43/TTE-THNT", False, "TTE", True)),
    ("glued code, the place beside it taken for an issuer", "Số: 10/TTrTHTL-Quận", ["TTr"],
     ("10/TTr-THTL", False, "TTr", True)),
    ("a letter of a short code misread is another code", "Số: 10/BB-THTL", ["BC"], ("10/BB-THTL", False, "BB", False)),
]


@pytest.mark.parametrize("cell,codes,expected", [c[1:] for c in OCR_NUMBERS], ids=[c[0] for c in OCR_NUMBERS])
def test_number_as_ocr_reads_it(cell, codes, expected):
    assert read_number_cell(cell, [c.lower() for c in codes]) == expected


OCR_DATES = [
    # lines, (date, blank, below the title)
    ("specks between the words", ["Số: 1/BC-THTL", "Quận 12 ngày 21, tháng'9 năm 2023", "BÁO CÁO"],
     (date(2023, 9, 21), False, False)),
    ("O for 0 in the year", ["Quận 12, ngày 21 tháng 9 năm 2O23", "BÁO CÁO"], (date(2023, 9, 21), False, False)),
    ("thông for tháng", ["Quận 12, ngày 16 thông 9 năm 2023", "BIÊN BẢN"], (date(2023, 9, 16), False, False)),
    ("a misread day is no date", ["Quận 12, ngày 1ổ tháng 9 năm 2023", "BIÊN BẢN"], (None, False, False)),
    ("an impossible day is a misreading, not a blank", ["Quận 12, ngày 34 tháng 8 năm 2023", "TỜ TRÌNH"],
     (None, False, False)),
    ("tháng misread, day and month read", ["Quận 12, ngày 23 tưng 9 năm 2023", "BÁO CÁO"],
     (date(2023, 9, 23), False, False)),
    ("tháng misread and no day: no date", ["Quận 12, ngày tưng 9 năm 2023", "BÁO CÁO"], (None, False, False)),
    ("a misread month with accents misread too is no blank", ["__ Quận 12, ngãy 24 tháng Ø'năm 2023", "BÁO CÁO"],
     (None, False, False)),
    ("a citation's date after a cited number",
     ["Quận 12, ngày tháng năm", "9745/QĐ-BCA+ -V05.ngày 28/12/2022 của Bộ Công an"], (None, False, False)),
    ("the meeting's date below the title", ["Quận 12, ngày 1ổ tháng 9 năm 2023", ".._ BIÊN BẲN :",
                                            "Thời gian: 15 giờ, ngày: 16. tháng 9 năm 2023"],
     (date(2023, 9, 16), False, True)),
    ("the date above the title wins over the body's", ["Quận 12, ngày 20 tháng 9 năm 2023", "BIÊN BẢN",
                                                       "Thời gian: ngày 16 tháng 9 năm 2023"],
     (date(2023, 9, 20), False, False)),
    ("a Biên bản's month misread, the meeting's date agrees",
     ["Quận 12, ngày 17 thẳng ÿ'năm 2023", "BIÊN BẢN", "Thời gian: 15 giờ, ngày 17 tháng 9 năm 2023"],
     (date(2023, 9, 17), False, False)),
    ("... its day misread", ["Quận 12, ngày ¡g tháng 9 năm 2023", "BIÊN BẢN", "Thời gian: ngày 19 tháng 9 năm 2023"],
     (date(2023, 9, 19), False, False)),
    ("... the meeting's date disagrees: only the meeting's", ["Quận 12, ngày 18 tháng Ø năm 2023", "BIÊN BẢN",
                                                            "Thời gian: ngày 17 tháng 9 năm 2023"],
     (date(2023, 9, 17), False, True)),
    ("a blank day is not filled from the meeting", ["Quận 12, ngày    tháng 9 năm 2023", "BIÊN BẢN",
                                                    "Thời gian: ngày 17 tháng 9 năm 2023"], (None, True, False)),
    ("no title: the first date line", ["Quận 12, ngày 20 tháng 9 năm 2023"], (date(2023, 9, 20), False, False)),
]


@pytest.mark.parametrize("lines,expected", [c[1:] for c in OCR_DATES], ids=[c[0] for c in OCR_DATES])
def test_date_as_ocr_reads_it(lines, expected):
    nd = read_number_date(lines, ["BC"], START, END)
    assert (nd.date, nd.date_blank, nd.date_below_title) == expected


_N = NumberDate(number="12/TTr-A", code="TTr", code_matches=True)
_D = NumberDate(date=date(2023, 9, 20), in_cycle=True)
READINGS = [
    ("nothing", [], NumberDate()),
    ("second reading fills in what the first missed", [NumberDate(), NumberDate(
        number="12/TTr-A", code="TTr", code_matches=True, date=date(2023, 9, 20), in_cycle=True)],
     ("12/TTr-A", date(2023, 9, 20))),
    ("a good number wins over another kind's", [NumberDate(number="12/BC-A", code="BC", code_matches=False), _N],
     ("12/TTr-A", None)),
    ("blank in one reading, a number in another: neither", [NumberDate(number_blank=True), _N], (None, None)),
    ("a date in the cycle wins over one outside", [NumberDate(date=date(2022, 12, 28), in_cycle=False), _D],
     (None, date(2023, 9, 20))),
    ("a date below the title is not the document's", [NumberDate(date=date(2023, 9, 16), in_cycle=True,
                                                                 date_below_title=True)], (None, None)),
    ("blank day in one reading, a date in another: neither", [NumberDate(date_blank=True), _D], (None, None)),
]


@pytest.mark.parametrize("readings,expected", [c[1:] for c in READINGS], ids=[c[0] for c in READINGS])
def test_best_reading(readings, expected):
    got = best_reading(readings)
    if isinstance(expected, NumberDate):
        assert got == expected
    else:
        assert (got.number, got.date if not got.date_below_title else None) == expected


OCR_BLOCKS = [
    ("specks before the title", ["› 0 CHÙTOA", "Trương Ngọc Loan"], [("CHÙTOA", "Trương Ngọc Loan")]),
    ("a short word after the title", ["HIỆU TRƯỞNG Tin", "Phản Thị Ngọc Thảo"],
     [("HIỆU TRƯỞNG", "Phản Thị Ngọc Thảo")]),
    ("a long title with one letter misread", ["MIỆUTRƯỞNG", "Trần ĐứcBình"], [("MIỆUTRƯỞNG", "Trần Đức Bình")]),
    ("a dropped letter", ["CÔ HIUTRƯỜNG", "TrươngThịPhương"], [("CÔ HIUTRƯỜNG", "Trương Thị Phương")]),
    ("specks before the name", ["KT. HIỆU TRƯỜNG", "PHO HIỆU TRƯỞNG", "tr - Nguyễn Quốc Trí"],
     [("KT. HIỆU TRƯỜNG / PHO HIỆU TRƯỞNG", "Nguyễn Quốc Trí")]),
    ("a two-letter word in capitals", ["CHỦ TỌA", "Phan Thị KimHÀ"], [("CHỦ TỌA", "Phan Thị Kim HÀ")]),
    ("a letter read twice and one dropped", ["có c HEUTRƯỞỜNG", "Trương Minh Phúc"],
     [("HEUTRƯỞỜNG", "Trương Minh Phúc")]),
    ("a speck inside the name", ["HIỆU TRƯỞNG", "Trương \\ Ngọc Loàn"], [("HIỆU TRƯỞNG", "Trương Ngọc Loàn")]),
    ("a surname in capitals glued to the next word", ["CHỦ TỌA", "LỄThị Tuyết"], [("CHỦ TỌA", "LỄ Thị Tuyết")]),
    ("letters read twice", ["HHIEUTTRUONGG", "Phan Thị Kim"], [("HHIEUTTRUONGG", "Phan Thị Kim")]),
    ("an accent read as a mark of its own", ["có HIỆˆUTRƯỞNG", "", "Trương ThịPHương"],
     [("HIỆˆUTRƯỞNG", "Trương Thị PHương")]),
    ("the surname's capital read in lower case", ["HIỆU TRƯỞNG", "xSN", "bàng Thị Trang"],
     [("HIỆU TRƯỞNG", "bàng Thị Trang")]),
    ("two lower-case words are no name", ["HIỆU TRƯỞNG", "trình và Biên Bản"], []),
    ("a short title is matched exactly", ["CHỦ TOAN", "Phan Thị Kim"], []),
    ("a sentence is still no title", ["Hiệu trưởng Tin", "Phan Thị Kim"], []),
    ("a heading with a misread letter is no title", ["BẢO CÁO", "Phan Thị Kim"], []),
]


@pytest.mark.parametrize("lines,expected", [c[1:] for c in OCR_BLOCKS], ids=[c[0] for c in OCR_BLOCKS])
def test_signature_blocks_as_ocr_reads_them(lines, expected):
    assert [(b.title, b.name) for b in find_blocks(lines).blocks] == expected


@pytest.mark.parametrize("line,blank", [
    ("Quận 12, ngày     tháng 10 năm 2023", True),      # left blank in the template
    ("Quận 12, ngày ..... tháng 10 năm 2023", True),
    ("Quận 12, ngày 17 tháng Ø năm 2023", False),       # a 9 misread: not read, not blank
    ("Quận 12, ngày ?? tháng 9 năm 2023", False),
])
def test_a_misread_day_or_month_is_not_a_blank(line, blank):
    nd = read_number_date([line, "BIÊN BẢN"], ["BB"], START, END)
    assert nd.date is None and nd.date_blank is blank


def test_title_with_specks_around_it_bounds_the_date():
    nd = read_number_date(["Quận 12, ngày 1ổ tháng 9 năm 2023", "HH. # BIÊN BẢN ú",
                           "Thời gian: ngày 16 tháng 9 năm 2023"], ["BB"], START, END)
    assert nd.date == date(2023, 9, 16) and nd.date_below_title
