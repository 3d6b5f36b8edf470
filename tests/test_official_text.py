"""Official-copy evidence read from text: policy, signature block, number and date, Biên bản parts."""
from __future__ import annotations

from datetime import date

import pytest

from bot.errors import RulesError
from bot.official.minutes import LABELS, check_minutes
from bot.official.numbering import read_number_date
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
    ("folded OCR text", FULL_MINUTES.upper(), ()),
    ("only a title", "BIÊN BẢN HỌP XÉT, ĐỀ NGHỊ", LABELS),
]


@pytest.mark.parametrize("text,missing", [c[1:] for c in MINUTES], ids=[c[0] for c in MINUTES])
def test_minutes_parts(text, missing):
    check = check_minutes(text)
    assert check.missing == tuple(missing)
    assert set(check.present) | set(check.missing) == set(LABELS)
