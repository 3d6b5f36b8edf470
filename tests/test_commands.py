"""Commands by email: text -> commands (pure). Vietnamese verbs with and
without diacritics, tolerance, errors, and the quoted digest ignored."""
from __future__ import annotations

import pytest

from bot.commands import Command, CommandError, own_lines, parse_commands, parse_line, parse_when

NBSP = "\u00a0"


@pytest.mark.parametrize("line, expected", [
    # assign: Vietnamese, ASCII, English; case, spaces, NBSP, punctuation, list markers
    ("duyệt R17 thcs-nguyen-hien bien_ban", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    ("duyet r17 thcs-nguyen-hien bien_ban", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    ("DUYỆT  R17   THCS-NGUYEN-HIEN  BIEN_BAN.", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    (f"Duyệt{NBSP}R17{NBSP}thcs-nguyen-hien bien_ban;", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    ("assign R17 thcs-nguyen-hien BB", ("assign", "R17", "thcs-nguyen-hien", "bb", None, "")),
    ("- duyệt R17 thcs-nguyen-hien bien_ban", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    ("2) duyệt R17 thcs-nguyen-hien bien_ban", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    ("xác nhận #17 thcs-nguyen-hien bien_ban", ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "")),
    ("duyệt R17 thcs-nguyen-hien bien_ban vì đã xem bản scan",
     ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "đã xem bản scan")),
    ("duyệt R17 thcs-nguyen-hien bien_ban lý do: chữ ký rõ",
     ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "chữ ký rõ")),
    ("duyệt R17", ("assign", "R17", None, None, None, "")),                       # the bot's guess
    ("duyệt R17 vì đã kiểm tra", ("assign", "R17", None, None, None, "đã kiểm tra")),
    # reject
    ("bỏ R18", ("reject", "R18", None, None, None, "")),
    ("bo R18!", ("reject", "R18", None, None, None, "")),
    ("loại R18 vì không phải hồ sơ ANTQ", ("reject", "R18", None, None, None, "không phải hồ sơ ANTQ")),
    ("Loai r18", ("reject", "R18", None, None, None, "")),
    ("reject R18", ("reject", "R18", None, None, None, "")),
    ("không tính R18", ("reject", "R18", None, None, None, "")),
    # the same verb with a Q-reference dismisses a quarantined message
    ("bỏ Q12 lý do: đã gọi điện cho trường", ("dismiss", "Q12", None, None, None, "đã gọi điện cho trường")),
    ("bo q12 vi da nhan ban giay", ("dismiss", "Q12", None, None, None, "da nhan ban giay")),
    ("Loại Q-7.", ("dismiss", "Q7", None, None, None, "")),
    ("reject Q#7 handled by phone", ("dismiss", "Q7", None, None, None, "handled by phone")),
    # exempt / unexempt ("bỏ miễn" is not "bỏ")
    ("miễn mn-hoa-mai", ("exempt", None, "mn-hoa-mai", None, None, "")),
    ("mien mn-hoa-mai vì trường sáp nhập", ("exempt", None, "mn-hoa-mai", None, None, "trường sáp nhập")),
    ("Miễn nộp mn-hoa-mai", ("exempt", None, "mn-hoa-mai", None, None, "")),
    ("exempt mn-hoa-mai", ("exempt", None, "mn-hoa-mai", None, None, "")),
    ("bỏ miễn mn-hoa-mai", ("unexempt", None, "mn-hoa-mai", None, None, "")),
    ("bo mien mn-hoa-mai", ("unexempt", None, "mn-hoa-mai", None, None, "")),
    ("hủy miễn mn-hoa-mai", ("unexempt", None, "mn-hoa-mai", None, None, "")),
    ("huỷ miễn mn-hoa-mai", ("unexempt", None, "mn-hoa-mai", None, None, "")),
    ("unexempt mn-hoa-mai", ("unexempt", None, "mn-hoa-mai", None, None, "")),
    # extend: ISO or Vietnamese dates, optional time
    ("gia hạn th-le-van-tho 2023-10-20", ("extend", None, "th-le-van-tho", None, "2023-10-20", "")),
    ("gia han th-le-van-tho 20/10/2023", ("extend", None, "th-le-van-tho", None, "2023-10-20", "")),
    ("Gia Hạn th-le-van-tho 20/10/2023 16:00.", ("extend", None, "th-le-van-tho", None, "2023-10-20T16:00", "")),
    ("extend th-le-van-tho 2023-10-20T16:30", ("extend", None, "th-le-van-tho", None, "2023-10-20T16:30", "")),
    ("gia hạn th-le-van-tho 5.10.2023 vì trường sửa chữa",
     ("extend", None, "th-le-van-tho", None, "2023-10-05", "trường sửa chữa")),
    # the reason is kept as written, punctuation included (it goes into the audit log)
    ("bỏ R18, lý do: trùng với R17 (bản cũ), đã hỏi trường",
     ("reject", "R18", None, None, None, "trùng với R17 (bản cũ), đã hỏi trường")),
    ("nhận giấy thcs-x bao_cao 2023-10-09 10h30: cô Lan mang đến, \"bản gốc\"",
     ("received", None, "thcs-x", "bao_cao", "2023-10-09T10:30", 'cô Lan mang đến, "bản gốc"')),
    ("duyệt R17 thcs-nguyen-hien bien_ban: đã xem, chữ ký rõ",
     ("assign", "R17", "thcs-nguyen-hien", "bien_ban", None, "đã xem, chữ ký rõ")),
    # received (paper delivery)
    ("nhận giấy thcs-x bao_cao 2023-10-09", ("received", None, "thcs-x", "bao_cao", "2023-10-09", "")),
    ("nhan giay thcs-x BC 09/10/2023 10h30", ("received", None, "thcs-x", "bc", "2023-10-09T10:30", "")),
    ("nhận bản giấy thcs-x bao_cao 2023-10-09", ("received", None, "thcs-x", "bao_cao", "2023-10-09", "")),
    ("received thcs-x bao_cao 2023-10-09 9h", ("received", None, "thcs-x", "bao_cao", "2023-10-09T09:00", "")),
    # status
    ("trạng thái th-le-van-tho", ("status", None, "th-le-van-tho", None, None, "")),
    ("trang thai th-le-van-tho?", ("status", None, "th-le-van-tho", None, None, "")),
    ("status", ("status", None, None, None, None, "")),
])
def test_one_command_per_line(line, expected):
    c = parse_line(line, 3)
    assert isinstance(c, Command), c
    assert (c.kind, c.ref, c.school, c.doc_type, c.value, c.why) == expected
    assert c.line == 3


@pytest.mark.parametrize("line, kind, refs, why", [
    # several files in one line: a list, a range (hyphen, en dash, spaced), both; commas allowed
    ("bỏ R12 R13 R14", "reject", ("R12", "R13", "R14"), ""),
    ("bo R12, R13, R14 vì trùng", "reject", ("R12", "R13", "R14"), "trùng"),
    ("duyệt R21-R25", "assign", ("R21", "R22", "R23", "R24", "R25"), ""),
    ("duyệt R21\u2013R25 vì đã xem", "assign", ("R21", "R22", "R23", "R24", "R25"), "đã xem"),
    ("duyet R21-25", "assign", ("R21", "R22", "R23", "R24", "R25"), ""),
    ("duyệt R21 \u2013 R23", "assign", ("R21", "R22", "R23"), ""),
    ("duyệt R23-R21", "assign", ("R21", "R22", "R23"), ""),                 # reversed: read in order
    ("bỏ R12 R14-R15 R12", "reject", ("R12", "R14", "R15"), ""),           # a repeat counts once
    ("bỏ 12 R13", "reject", ("R12", "R13"), ""),
    # after the first file only a written "R" continues the list: a number in the reason stays there
    ("bỏ R12 2 bản trùng", "reject", ("R12",), "2 bản trùng"),
    ("bỏ R12 Q13", "reject", ("R12",), "Q13"),
    ("duyệt R17", "assign", ("R17",), ""),
])
def test_one_line_names_several_files(line, kind, refs, why):
    c = parse_line(line, 2)
    assert isinstance(c, Command), c
    assert (c.kind, c.refs, c.ref, c.why) == (kind, refs, refs[0], why)


def test_several_files_with_a_school_and_type_take_both_and_a_huge_range_is_refused():
    c = parse_line("duyệt R17 R18 thcs-nguyen-hien bien_ban vì cùng một hồ sơ")
    assert (c.refs, c.school, c.doc_type, c.why) == (("R17", "R18"), "thcs-nguyen-hien", "bien_ban", "cùng một hồ sơ")
    e = parse_line("bỏ R1-R999999")                                      # a typo, never a million corrections
    assert isinstance(e, CommandError) and (e.code, e.kind, e.detail) == ("too_many", "reject", "R1-R999999")
    assert parse_line("bỏ R1-R200").refs[-1] == "R200"


@pytest.mark.parametrize("line, code, kind, detail", [
    ("duyệt", "missing", "assign", "ref"),
    ("duyệt thcs-nguyen-hien bien_ban", "bad_ref", "assign", "thcs-nguyen-hien"),
    ("duyệt R17 thcs-nguyen-hien", "missing", "assign", "doc_type"),
    ("bỏ", "missing", "reject", "ref"),
    ("bỏ R<số>", "bad_ref", "reject", "R<số>"),
    ("bỏ Q<số> <lý do>", "bad_ref", "reject", "Q<số>"),                       # the digest's example
    ("duyệt Q12", "bad_ref", "assign", "Q12"),                                # a message is not counted
    ("miễn", "missing", "exempt", "school"),
    ("miễn <mã trường>", "bad_school", "exempt", "<mã"),
    ("gia hạn th-le-van-tho", "missing", "extend", "date"),
    ("gia hạn th-le-van-tho mai", "bad_date", "extend", "mai"),
    ("gia hạn th-le-van-tho 31/02/2023", "bad_date", "extend", "31/02/2023"),
    ("nhận giấy thcs-x", "missing", "received", "doc_type"),
    ("nhận giấy thcs-x bao_cao", "missing", "received", "date"),
    ("duyêt R17 thcs-nguyen-hien bien_ban", "unknown", "assign", "duyêt"),   # a diacritic wrong: not obeyed
    ("dyuet R17", "unknown", None, "dyuet"),                                 # names an item: meant as a command
    ("bõ Q12 đã gọi điện", "unknown", "reject", "bõ"),                       # a wrong accent before a Q-ref
])
def test_faulty_commands_are_reported_not_guessed(line, code, kind, detail):
    e = parse_line(line, 5)
    assert isinstance(e, CommandError), e
    assert (e.code, e.kind, e.detail, e.line) == (code, kind, detail, 5)


@pytest.mark.parametrize("line", [
    "Chào bot,", "Cảm ơn.", "Trân trọng", "Bố trí lại lịch họp giúp em.", "Miền Nam mưa nhiều.",
    "Bỏ qua thư này nhé", "Nguyễn Thị Hồng Mai", "", "   ", "Gửi từ iPhone của tôi",
])
def test_prose_is_not_a_command(line):
    result = parse_line(line)
    # "Bỏ qua ..." starts with the verb "bỏ": it is reported (bad reference), never carried out
    assert result is None or isinstance(result, CommandError)


@pytest.mark.parametrize("line", [
    "Trường THCS Nguyễn Hiền Q12 gửi lại hồ sơ", "Q12 đã gọi điện", "Phòng GD&ĐT Q12",
])
def test_a_district_named_q12_in_prose_is_not_a_command(line):
    # "Q12" (Quận 12) is common in the office's mail: only "bỏ Q12" dismisses, nothing else is reported
    assert parse_line(line) is None


@pytest.mark.parametrize("words, expected", [
    (["2023-10-20"], ("2023-10-20", 1)), (["20/10/2023"], ("2023-10-20", 1)), (["1-2-2024"], ("2024-02-01", 1)),
    (["20/10/2023", "16:00"], ("2023-10-20T16:00", 2)), (["20/10/2023", "7h"], ("2023-10-20T07:00", 2)),
    (["2023-10-20", "vì"], ("2023-10-20", 1)), (["20/10"], (None, 0)), (["2023-13-01"], (None, 0)),
    (["20/10/2023", "25:00"], (None, 0)), ([], (None, 0)),
])
def test_dates(words, expected):
    assert parse_when(words) == expected


GMAIL_REPLY = """duyệt R17 thcs-nguyen-hien bien_ban
bỏ R18

Vào Th 5, 12 thg 10, 2023 vào lúc 07:00 Hệ thống tiếp nhận hồ sơ <
hoso-bot@pgd-q12.example> đã viết:

> TỔNG HỢP TIẾP NHẬN HỒ SƠ
> - R19  08:00 ngày 11/10/2023 ...
> miễn th-nguyen-du
> duyệt R20 thcs-phan-boi-chau bien_ban
"""

THUNDERBIRD_INLINE = """On 12/10/2023 07:00, Hệ thống wrote:
> 5. TỆP CHỜ XEM XÉT (2)
> - R17 ... scan0001.jpg
duyệt R17 thcs-phan-boi-chau bien_ban
> - R18 ... hoso.pdf
bỏ R18
> bỏ R19
"""

OUTLOOK_TOP = """miễn mn-hoa-mai

________________________________
From: Hệ thống tiếp nhận hồ sơ <hoso-bot@pgd-q12.example>
Sent: Thursday, October 12, 2023 7:00 AM
To: nthmai.q12@tphcm-gov.example
Subject: [Tổng hợp 12/10/2023] 4/27 trường đã đủ hồ sơ

LỆNH QUA THƯ
  duyệt R17 thcs-nguyen-hien bien_ban
  bỏ R18
"""

OUTLOOK_NO_RULE = """gia hạn th-le-van-tho 2023-10-20

From: Hệ thống tiếp nhận hồ sơ <hoso-bot@pgd-q12.example>
Sent: Thursday, October 12, 2023 7:00 AM
Subject: Tổng hợp
bỏ R18
"""

ORIGINAL_MESSAGE = """trạng thái th-le-van-tho
-----Original Message-----
bỏ R18
"""

SIGNATURE = """bỏ R18
--
Nguyễn Thị Mai
duyệt R99 x y
"""

QUOTE_WITHOUT_MARKERS = """bỏ R18

On Thu, Oct 12, 2023 at 7:00 AM Hệ thống <hoso-bot@pgd-q12.example> wrote:
TỔNG HỢP TIẾP NHẬN HỒ SƠ
miễn th-nguyen-du
"""


@pytest.mark.parametrize("body, expected", [
    (GMAIL_REPLY, [("assign", "R17", 1), ("reject", "R18", 2)]),
    (THUNDERBIRD_INLINE, [("assign", "R17", 4), ("reject", "R18", 6)]),
    (OUTLOOK_TOP, [("exempt", None, 1)]),
    (OUTLOOK_NO_RULE, [("extend", None, 1)]),
    (ORIGINAL_MESSAGE, [("status", None, 1)]),
    (SIGNATURE, [("reject", "R18", 1)]),
    (QUOTE_WITHOUT_MARKERS, [("reject", "R18", 1)]),
    ("Chào chị,\r\n\r\nbỏ R18\r\nmiễn mn-hoa-mai\r\n\r\nCảm ơn.\r\n", [("reject", "R18", 3), ("exempt", None, 4)]),
])
def test_quoted_text_and_signatures_are_ignored(body, expected):
    commands = parse_commands(body)
    assert all(isinstance(c, Command) for c in commands), commands
    assert [(c.kind, c.ref, c.line) for c in commands] == expected


def test_line_numbers_refer_to_the_body_and_nfd_text_is_read():
    import unicodedata
    body = unicodedata.normalize("NFD", "Chào chị\n\nduyệt R17 thcs-nguyen-hien bien_ban\ngia hạn th-le-van-tho 20/10/2023")
    commands = parse_commands(body)
    assert [(c.kind, c.line) for c in commands] == [("assign", 3), ("extend", 4)]
    assert own_lines("a\n> b\nc") == [(1, "a"), (3, "c")]


def test_the_digest_quoted_without_markers_holds_no_executable_example():
    """If a client quoted the digest without any marker the bot can see, its
    syntax examples must not turn into commands (placeholders like R<số>)."""
    from bot.outbound.digest import DigestInputs, Quarantined, digest_mail
    from bot.outbound.render import Renderer
    from bot.rules.load import load_rules
    from bot.status import apply_corrections, compute_status

    from .outgoing import FROM, ROOT, VN, at

    rules = load_rules(ROOT / "rules")
    now = at(12, 7)
    status = compute_status(apply_corrections([], [], rules.campaign, 2023, now), rules.campaign, rules.schools,
                            2023, now)
    mail = digest_mail(status, rules, DigestInputs(), ["c@x.vn"])
    text, _ = Renderer(ROOT / "templates", VN, FROM).bodies("digest", mail.context)
    assert "duyệt R<số>" in text
    assert not [c for c in parse_commands(text) if isinstance(c, Command) and c.kind != "status"]
    # nor when it lists quarantined mail: its references and the hint "bỏ Q<số> <lý do>" dismiss nothing
    inputs = DigestInputs(quarantined=(Quarantined("thcsnguyenhien.q12@hcm-edu.example", "Hồ sơ", at(11, 9),
                                                             "message too large", "<m@x>", "Q12"),))
    text, _ = Renderer(ROOT / "templates", VN, FROM).bodies("digest", digest_mail(status, rules, inputs,
                                                                                       ["c@x.vn"]).context)
    assert "- Q12  09:00 ngày 11/10/2023" in text and '"bỏ Q<số> <lý do>"' in text
    assert not [c for c in parse_commands(text) if isinstance(c, Command) and c.kind != "status"]
    # the status example only reads: "trạng thái [<mã trường>]" is the whole campaign's status
    assert all(c.school is None for c in parse_commands(text) if isinstance(c, Command))
