"""rules/: the roster CSV and the campaign TOML are validated with clear errors."""
from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import RulesError
from bot.rules.campaign import parse_campaign
from bot.rules.load import load_roster, load_rules
from bot.rules.roster import parse_roster

ROOT = Path(__file__).resolve().parents[1]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = "code,name,level,emails,aliases\n"


def test_shipped_rules_load():
    rules = load_rules(ROOT / "rules")
    c = rules.campaign
    assert c.required == ("to_trinh", "bao_cao", "bien_ban") and c.optional == ("ke_hoach",)
    assert c.deadline(2023) == datetime(2023, 10, 10, 23, 59, 59, tzinfo=VN)
    assert c.report_deadline(2023) == datetime(2023, 10, 15, 23, 59, 59, tzinfo=VN)
    assert rules.school_by_email("THCSNGUYENHIEN.Q12@hcm-edu.example").code == "thcs-nguyen-hien"


@pytest.mark.parametrize("moment, cycle", [
    (datetime(2023, 7, 31, 23, 59, tzinfo=VN), 2022),
    (datetime(2023, 8, 1, 0, 0, tzinfo=VN), 2023),
    (datetime(2023, 7, 31, 17, 0, tzinfo=ZoneInfo("UTC")), 2023),  # 00:00 on 1/8 in Vietnam
    (datetime(2024, 1, 15, tzinfo=VN), 2023),
])
def test_cycle_opens_on_1_august_local(moment, cycle):
    assert load_rules(ROOT / "rules").campaign.cycle_of(moment) == cycle


def test_roster_from_excel_with_bom_and_nfd_names(tmp_path):
    import unicodedata
    text = HEADER + unicodedata.normalize("NFD", "th-a,TH Ánh Dương,TH,A@x.vn; b@x.vn,Tiểu học Ánh Dương\n")
    (tmp_path / "schools.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (school,) = load_roster(tmp_path / "schools.csv")
    assert school.name == "TH Ánh Dương" and len(school.name) == 12  # NFC
    assert school.emails == ("a@x.vn", "b@x.vn")


@pytest.mark.parametrize("text, message", [
    ("code;name;level;emails;aliases\n", "header must be exactly"),
    (HEADER + "TH A,TH A,TH,,\n", "line 2: code 'TH A'"),
    (HEADER + "th-a,TH A,TH,,\nth-a,TH B,TH,,\n", "line 3: code 'th-a' already used on line 2"),
    (HEADER + "th-a,TH A,TH,not-an-address,\n", "line 2: 'not-an-address' is not an email"),
    (HEADER + "th-a,TH A,TH,a@x.vn,\nth-b,TH B,TH,A@x.vn,\n", "line 3: a@x.vn is already the address of th-a"),
    (HEADER + "th-a,TH A,TH\n", "line 2: expected 5 columns"),
    (HEADER, "no schools"),
])
def test_roster_errors_name_the_line(text, message):
    with pytest.raises(RulesError, match=message):
        parse_roster(text)


def test_roster_saved_in_a_legacy_encoding_is_refused_with_a_hint(tmp_path):
    (tmp_path / "schools.csv").write_bytes((HEADER + "th-a,TH Ánh,TH,,\n").encode("cp1258"))
    with pytest.raises(RulesError, match="not UTF-8") as info:
        load_roster(tmp_path / "schools.csv")
    assert "CSV UTF-8" in str(info.value)


def campaign_data():
    return tomllib.loads((ROOT / "rules" / "campaign.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path, value, message", [
    (("campaign", "deadline"), "10/10", "campaign.deadline: use 'MM-DD HH:MM:SS'"),
    (("campaign", "deadline"), "02-30 23:59", "campaign.deadline"),
    (("campaign", "review_threshold"), 1.5, "campaign.review_threshold: must be in"),
    (("campaign", "timezone"), "Mars/Base", "unknown time zone"),
    (("campaign", "colour"), "red", "campaign.colour: unknown key"),
    (("reminders", "office_start"), "18:00", "reminders.office_end: must be after office_start"),
    (("reminders", "office_weekdays"), [0, 1], "days are 1 \\(Monday\\) to 7"),
])
def test_campaign_errors_name_the_key(path, value, message):
    data = campaign_data()
    data[path[0]][path[1]] = value
    with pytest.raises(RulesError, match=message):
        parse_campaign(data, {"th-a"})


def test_extension_and_exemption_must_name_a_known_school():
    data = campaign_data()
    data["exemption"] = [{"school": "th-x", "cycle": 2023, "reason": "merged"}]
    with pytest.raises(RulesError, match="exemption\\[0\\].school: no school 'th-x'"):
        parse_campaign(data, {"th-a"})
    data["exemption"] = [{"school": "th-a", "cycle": 2023, "reason": "merged"}]
    data["extension"] = [{"school": "th-a", "until": datetime(2023, 10, 20, 23, 59, 59)}]
    c = parse_campaign(data, {"th-a"})
    assert c.exemptions == {(2023, "th-a"): "merged"}
    assert c.extensions == {(2023, "th-a"): datetime(2023, 10, 20, 23, 59, 59, tzinfo=VN)}


def test_a_campaign_without_required_documents_is_refused():
    data = campaign_data()
    for d in data["document"]:
        d["required"] = False
    with pytest.raises(RulesError, match="required = true"):
        parse_campaign(data, set())


def test_shipped_neighbouring_programmes_and_issuers_load():
    c = load_rules(ROOT / "rules").campaign
    names = [name for name, _ in c.topic.others]
    assert {"Ngày hội toàn dân bảo vệ ANTQ", "thi đua, khen thưởng", "phòng chống ma túy",
            "trường học Xanh - Sạch - Đẹp"} <= set(names)
    assert "124/2021/TT-BCA" not in c.topic.weak + c.topic.strong  # another programme's standard
    assert c.topic.object and c.attachment_cap == 30
    assert any("CAP" in i.codes for i in c.issuers)


@pytest.mark.parametrize("text, message", [
    ('[[programme]]\nname = "X"\nphrases = []\n', r"programmes\.toml: programme\[0\]\.phrases: list at least one"),
    ('[[issuer]]\nname = "X"\nlines = ["a"]\ncode = ["Y"]\n', r"programmes\.toml: issuer\[0\]\.code: unknown key"),
    ('[[programe]]\nname = "X"\n', r"programmes\.toml: programe: unknown key"),
    ('[[programme]\n', r"programmes\.toml: not valid TOML"),
])
def test_programmes_errors_name_the_file_and_key(tmp_path, text, message):
    for name in ("schools.csv", "campaign.toml"):
        (tmp_path / name).write_bytes((ROOT / "rules" / name).read_bytes())
    (tmp_path / "programmes.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=message):
        load_rules(tmp_path)


def test_campaign_object_groups_are_checked():
    data = tomllib.loads((ROOT / "rules" / "campaign.toml").read_text(encoding="utf-8"))
    data["topic"]["object"] = [["điển hình"], []]
    with pytest.raises(RulesError, match=r"topic\.object\[1\]: expected a non-empty list of phrases"):
        parse_campaign(data, set())
