"""What schools read about the official copy of their documents (issue 16):
the receipt says what was seen and asks only for what is missing; reminders
chase the documents received but not official; a copy the office is still
judging is not chased."""
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, timezone
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.official import (BlockFinding, DigitalSignature, Medium, NumberDate, Observations, OfficialPolicy,
                          PageSeal, Requirement, SignatureBlock, SignatureReport, judge)
from bot.official.verdict import Cycle, Evidence
from bot.outbound.common import NOT_OFFICIAL, OFFICIAL, UNDECIDED, OfficialNote, not_official, official_note
from bot.outbound.digest import DigestInputs, digest_content
from bot.outbound.receipts import CountedItem, receipt_mail
from bot.outbound.reminders import due_reminders, reminder_current, still_wanted
from bot.outbound.render import Renderer
from bot.status import decided_evidence

from .test_plan import RULES, at, item, status_of

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[1]
NH = "thcs-nguyen-hien"
POLICY = OfficialPolicy((Requirement.SIGNED_OR_STAMPED, Requirement.NUMBER, Requirement.DATE_IN_CYCLE))
CYCLE = Cycle(date(2023, 9, 15), date(2023, 10, 10))
GOOD_NUMBER = NumberDate(number="12/TTr-THCSNH", code="TTr", code_matches=True, date=date(2023, 10, 5),
                         date_text="ngày 05 tháng 10 năm 2023", in_cycle=True)
# The rules with every document requiring the official paper (as rules/campaign.toml says it)
OFFICIAL_RULES = dataclasses.replace(RULES, campaign=dataclasses.replace(RULES.campaign, doc_types=tuple(
    dataclasses.replace(d, official=POLICY) for d in RULES.campaign.doc_types)))
ASK = "Đề nghị gửi lại bản scan có chữ ký, đóng dấu hoặc bản ký số"


def signature(intact=True, modified=False, trusted=None) -> DigitalSignature:
    return DigitalSignature("Signature1", "Nguyễn Văn A", "Trường THCS Nguyễn Hiền",
                            datetime(2023, 10, 4, 20, 30, tzinfo=timezone.utc), intact, True, modified, trusted, True)


def evidence(kind: str) -> Evidence:
    """A real verdict (``judge``) on observations of one kind of copy."""
    if kind == "denied":  # the coordinator ruled a faint-seal scan not official
        return decided_evidence(evidence("faint"), False)
    obs = {
        "signed": Observations(Medium.TEXT_PDF, signatures=SignatureReport((signature(),)), numbering=GOOD_NUMBER),
        "word": Observations(Medium.WORD, numbering=GOOD_NUMBER),
        "word_blank_number": Observations(Medium.WORD, numbering=dataclasses.replace(
            GOOD_NUMBER, number=None, number_blank=True)),
        "modified": Observations(Medium.TEXT_PDF, signatures=SignatureReport((signature(modified=True),)),
                                 numbering=GOOD_NUMBER),
        "stamped": Observations(Medium.SCAN, pages=(PageSeal(2, True, "trang 2: có dấu đỏ tròn"),),
                                blocks=BlockFinding((SignatureBlock("HIỆU TRƯỞNG", "Nguyễn Văn An", 30),)),
                                numbering=GOOD_NUMBER),
        "faint": Observations(Medium.SCAN, pages=(PageSeal(2, None, "trang 2: có vùng đỏ tròn nhưng quá mờ"),),
                              blocks=BlockFinding((SignatureBlock("HIỆU TRƯỞNG", "Nguyễn Văn An", 30),)),
                              numbering=GOOD_NUMBER),
        "unstamped": Observations(Medium.SCAN, pages=(PageSeal(2, False, "trang 2: không thấy dấu đỏ"),),
                                  numbering=dataclasses.replace(GOOD_NUMBER, date=date(2022, 10, 5),
                                                                in_cycle=False)),
    }[kind]
    return judge(dataclasses.replace(obs, codes=("TTr",), cycle=CYCLE), POLICY, VN)


# -- the note of one document (pure) ----------------------------------------------------

@pytest.mark.parametrize("kind, official, state, seen, problems, asks, by_coordinator", [
    ("signed", True, OFFICIAL,
     ("đã ký số bởi Nguyễn Văn A, Trường THCS Nguyễn Hiền, 05/10/2023", "số 12/TTr-THCSNH", "ngày 05/10/2023"),
     (), (), False),
    ("stamped", True, OFFICIAL,
     ("có dấu đỏ và chữ ký của HIỆU TRƯỞNG Nguyễn Văn An (trang 2)", "số 12/TTr-THCSNH", "ngày 05/10/2023"),
     (), (), False),
    # the ask of each problem is said once, from ``missing``
    ("word", False, NOT_OFFICIAL, ("số 12/TTr-THCSNH", "ngày 05/10/2023"), ("bản Word chưa ký",),
     ("signed_or_stamped",), False),
    ("word_blank_number", False, NOT_OFFICIAL, ("ngày 05/10/2023",),
     ("bản Word chưa ký", "số văn bản còn để trống"), ("signed_or_stamped", "number"), False),
    ("modified", False, NOT_OFFICIAL, ("số 12/TTr-THCSNH", "ngày 05/10/2023"),
     ("tệp đã bị sửa hoặc thêm nội dung sau khi Nguyễn Văn A ký số", "chữ ký số không hợp lệ"),
     ("signed_or_stamped",), False),
    # on a scan, a date OCR read outside the cycle is not believed: neither shown nor asked; the seal is
    ("unstamped", False, NOT_OFFICIAL, ("số 12/TTr-THCSNH",), ("bản scan không thấy dấu đỏ",),
     ("signed_or_stamped",), False),
    # the bot cannot tell: the office looks, nothing is asked
    ("faint", None, UNDECIDED, ("số 12/TTr-THCSNH", "ngày 05/10/2023"), (), (), False),
    # a draft, while the office looks at another copy of the document: nothing asked either
    ("word", None, UNDECIDED, ("số 12/TTr-THCSNH", "ngày 05/10/2023"), (), (), False),
    # the document has an official copy (this one, or another): nothing asked of this one
    ("word", True, OFFICIAL, ("số 12/TTr-THCSNH", "ngày 05/10/2023"), (), (), False),
    # the coordinator ruled the copy not official: the paper itself is asked for
    ("denied", False, NOT_OFFICIAL, ("số 12/TTr-THCSNH", "ngày 05/10/2023"),
     ("Phòng xác định đây không phải bản chính thức",), ("signed_or_stamped",), True),
])
def test_official_note(kind, official, state, seen, problems, asks, by_coordinator):
    note = official_note(official, evidence(kind))
    other = state == UNDECIDED and evidence(kind).official is not None
    assert note == OfficialNote(state, seen, problems, asks, by_coordinator, other)


@pytest.mark.parametrize("official", [True, False, None])
def test_a_copy_not_checked_says_nothing(official):
    assert official_note(official, None) is None


# -- receipts and reminders as the school reads them -------------------------------------

def _with_official(status, doc_id: str, official, ev, complete=None):
    """``status`` with one document of NH carrying a verdict (as status.py computes it once wired)."""
    schools = []
    for s in status.schools:
        if s.code == NH:
            docs = dict(s.documents)
            docs[doc_id] = dataclasses.replace(docs[doc_id], official=official, evidence=ev)
            s = dataclasses.replace(s, documents=docs, complete=s.complete if complete is None else complete)
        schools.append(s)
    return dataclasses.replace(status, schools=tuple(schools))


def _receipt_text(status, items):
    s = next(x for x in status.schools if x.code == NH)
    mail = receipt_mail(status, RULES.school(NH), s,
                             [CountedItem(i.id, NH, i.doc_types, i.filename, i.received_at, "a@b.c",
                                               evidence=i.evidence) for i in items])
    return Renderer(ROOT / "templates", VN, "hoso-bot@pgd-q12.example").bodies("receipt", mail.context)


RECEIPT_CASES = [
    # (kind of copy, verdict, lines the school reads, lines it must not read)
    ("signed", True, ["Bản này: đã ký số bởi Nguyễn Văn A, Trường THCS Nguyễn Hiền, 05/10/2023; số 12/TTr-THCSNH; "
                      "ngày 05/10/2023."], ["Đề nghị gửi lại", "Chưa phải bản chính thức", "còn thiếu bản chính thức"]),
    ("word", False, ["Chưa phải bản chính thức: bản Word chưa ký.", ASK + ".",
                     "Các hồ sơ còn thiếu bản chính thức (xem ghi chú ở trên):\n  - Tờ trình đề nghị công nhận"],
     ["chưa ký: đề nghị"]),
    ("word_blank_number", False,
     ["Chưa phải bản chính thức: bản Word chưa ký; số văn bản còn để trống.", ASK + "; văn bản có số và ký hiệu."],
     []),
    ("faint", None, ["Phòng đang xem lại bản này (Quý Trường không cần gửi lại)."],
     ["Đề nghị gửi lại", "còn thiếu bản chính thức"]),
    ("denied", False, ["Chưa phải bản chính thức: Phòng xác định đây không phải bản chính thức.", ASK + "."], []),
    (None, None, [], ["Bản này", "Đề nghị gửi lại", "Phòng đang xem lại", "bản chính thức"]),   # not checked
]


@pytest.mark.parametrize("kind, official, says, never", RECEIPT_CASES)
def test_receipt_says_what_was_seen_and_asks_only_for_what_is_missing(kind, official, says, never):
    items = [dataclasses.replace(item(1, at(5, 9), ("to_trinh",)), evidence=kind and evidence(kind))]
    status = status_of(items, now=at(5, 10), rules=OFFICIAL_RULES)
    assert next(s for s in status.schools if s.code == NH).documents["to_trinh"].official is official
    text, html = _receipt_text(status, items)
    for line in says:
        assert line in text
    for words in never:
        assert words not in text
    shown = html_text(html)
    for line in says:  # the HTML says the same things
        assert line.split("\n")[0] in shown


def test_a_later_signed_copy_makes_the_document_official_and_nothing_is_asked():
    """A draft then a signed copy in one receipt: each line says what its copy shows; the signed copy
    makes the document official, so the draft's line asks for nothing."""
    items = [dataclasses.replace(item(1, at(5, 9), ("to_trinh",), filename="to-trinh.docx"), evidence=evidence("word")),
             dataclasses.replace(item(2, at(5, 9, 5), ("to_trinh",), filename="to-trinh-ky-so.pdf"),
                                 evidence=evidence("signed"))]
    status = status_of(items, now=at(5, 10), rules=OFFICIAL_RULES)
    text, _ = _receipt_text(status, items)
    draft, signed = text.split("to-trinh.docx")[1].split("to-trinh-ky-so.pdf")
    assert "Bản này: số 12/TTr-THCSNH; ngày 05/10/2023." in draft
    assert "Bản này: đã ký số bởi Nguyễn Văn A" in signed
    assert "Đề nghị gửi lại" not in text and "Chưa phải bản chính thức" not in text


def html_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def _reminder(status, now):
    return [m for m in due_reminders(status, RULES, set(), now).mails if m.school == NH]


def test_a_school_whose_only_gap_is_an_official_copy_is_reminded():
    now = at(7, 9)  # the before-3 slot
    items = [item(1, at(2), ("to_trinh", "bao_cao", "bien_ban"))]
    status = _with_official(status_of(items, now=now, rules=OFFICIAL_RULES), "to_trinh", False, evidence("word"), complete=False)
    (mail,) = _reminder(status, now)
    assert mail.context["missing"] == [] and mail.context["not_official"] == ["Tờ trình đề nghị công nhận"]
    text, html = Renderer(ROOT / "templates", VN, "hoso-bot@pgd-q12.example").bodies("reminder", mail.context)
    assert ("Hồ sơ Phòng đã nhận nhưng còn thiếu bản chính thức:\n"
            "  - Tờ trình đề nghị công nhận: còn thiếu bản chính thức (bản Word chưa ký); "
            "đề nghị gửi lại bản scan có chữ ký, đóng dấu hoặc bản ký số.") in text
    assert "chưa nhận được các hồ sơ bắt buộc sau" not in text  # nothing is missing outright
    assert ("Tờ trình đề nghị công nhận: còn thiếu bản chính thức (bản Word chưa ký); đề nghị gửi lại bản scan"
            in html_text(html))
    # the documents that are fine are still listed as received; the draft is not among them
    assert [d.doc_id for d in mail.context["received"]] == ["bao_cao", "bien_ban"]


@pytest.mark.parametrize("official, ev, reminded", [
    (False, "word", True),       # a draft: chased
    (None, "faint", False),      # the coordinator has to look first: not chased
    (True, "signed", False),     # complete
    (None, None, False),         # not checked (recorded before the checks): not chased for it
])
def test_who_is_reminded_for_an_official_copy(official, ev, reminded):
    now = at(7, 9)
    items = [item(1, at(2), ("to_trinh", "bao_cao", "bien_ban"))]
    status = _with_official(status_of(items, now=now, rules=OFFICIAL_RULES), "to_trinh", official, ev and evidence(ev),
                            complete=official is not False)
    assert bool(_reminder(status, now)) is reminded


def test_a_queued_reminder_is_brought_up_to_date_when_a_signed_copy_arrives():
    now = at(7, 9)
    items = [item(1, at(2), ("to_trinh", "bao_cao", "bien_ban"))]
    before = _with_official(status_of(items, now=now, rules=OFFICIAL_RULES), "to_trinh", False, evidence("word"), complete=False)
    (mail,) = _reminder(before, now)
    s_before = next(s for s in before.schools if s.code == NH)
    assert reminder_current(s_before, OFFICIAL_RULES.campaign, mail.meta)
    after = _with_official(status_of(items, now=now, rules=OFFICIAL_RULES), "to_trinh", None, evidence("faint"), complete=False)
    s_after = next(s for s in after.schools if s.code == NH)
    assert not reminder_current(s_after, OFFICIAL_RULES.campaign, mail.meta)
    assert still_wanted(after, NH, mail.key.deadline) is not None  # nothing left to chase


def test_an_office_that_takes_any_copy_does_not_chase_one():
    campaign = RULES.campaign
    s = next(x for x in status_of([item(1, at(2), ("to_trinh",))], now=at(7, 9)).schools if x.code == NH)
    docs = dict(s.documents)
    docs["to_trinh"] = dataclasses.replace(docs["to_trinh"], official=False, evidence=evidence("word"))
    s = dataclasses.replace(s, documents=docs)
    requiring = dataclasses.replace(campaign, doc_types=tuple(
        dataclasses.replace(d, official=POLICY) for d in campaign.doc_types))
    lax = dataclasses.replace(campaign, doc_types=tuple(
        dataclasses.replace(d, official=OfficialPolicy()) for d in campaign.doc_types))
    assert not_official(s, requiring) == ["to_trinh"]
    assert not_official(s, lax) == []


# -- the coordinator's digest ---------------------------------------------------------------

def test_the_digest_lists_a_school_whose_documents_are_received_but_not_official():
    now = at(7, 9)
    items = [item(1, at(2), ("to_trinh", "bao_cao", "bien_ban"))]
    status = _with_official(status_of(items, now=now, rules=OFFICIAL_RULES), "to_trinh", False, evidence("word"),
                            complete=False)
    content = digest_content(status, OFFICIAL_RULES, DigestInputs(), ["c@x.vn"], limits={"missing": 400})
    (row,) = [s for g in content["missing_groups"] for s in g.schools if s.code == NH]
    assert (row.missing, row.not_official) == ((), ("Tờ trình đề nghị công nhận",))
    text, html = Renderer(ROOT / "templates", VN, "hoso-bot@pgd-q12.example").bodies("digest", content)
    assert "- THCS Nguyễn Hiền: còn thiếu bản chính thức: Tờ trình đề nghị công nhận" in text
    assert "THCS Nguyễn Hiền (còn thiếu bản chính thức: Tờ trình)" in html_text(html)
    # the school must act (its receipt and reminders ask it): no decision for the coordinator today
    assert all(t.kind != "review" for t in content["todo"])


def test_a_copy_the_bot_cannot_judge_is_a_question_for_the_coordinator():
    """Counted (timeliness runs), but the digest asks: official or not? with the page and the doubt."""
    now = at(7, 9)
    items = [dataclasses.replace(item(1, at(5, 9), ("to_trinh",), filename="scan0001.pdf"),
                                 evidence=evidence("faint")),
             dataclasses.replace(item(2, at(5, 9), ("bao_cao",), filename="bao cao.pdf"), evidence=evidence("faint"))]
    status = status_of(items, now=now, rules=OFFICIAL_RULES)
    content = digest_content(status, OFFICIAL_RULES, DigestInputs(), ["c@x.vn"])
    assert [t.kind for t in content["todo"]] == ["official"] and content["todo"][0].count == 2
    assert content["review"].total == 0 and content["headline"].official_review == 2
    first = content["official_review"].rows[0]
    assert (first.ref, first.doubts, first.replies) == (
        "R1", "trang 2: có vùng đỏ tròn nhưng quá mờ",
        ("xác nhận R1 bản chính thức", "R1 không phải bản chính thức"))
    text, html = Renderer(ROOT / "templates", VN, "hoso-bot@pgd-q12.example").bodies("digest", content)
    assert ("[ ] 2 bản chưa chắc là bản chính thức (dấu mờ, ảnh tối...): mục 5; trả lời "
            "\"xác nhận R… bản chính thức\" hoặc \"R… không phải bản chính thức\".") in text
    assert ("Chưa chắc là bản chính thức (2):\n"
            "- R1  THCS Nguyễn Hiền: Tờ trình đề nghị công nhận - scan0001.pdf\n"
            "  trang 2: có vùng đỏ tròn nhưng quá mờ\n"
            "  Trả lời: \"xác nhận R1 bản chính thức\" hoặc \"R1 không phải bản chính thức\"") in text
    assert "Xác nhận mọi bản ở trên là bản chính thức, trả lời một dòng: \"xác nhận R1 R2 bản chính thức\"" in text
    assert "0 tệp chờ xem xét; 2 bản chưa chắc là bản chính thức." in text
    shown = html_text(html)
    assert "R1 · THCS Nguyễn Hiền · Tờ trình · scan0001.pdf trang 2: có vùng đỏ tròn nhưng quá mờ" in shown
    assert "xác nhận R1 R2 bản chính thức" in shown
    # the school is not chased for it: the office is looking
    s = next(x for x in status.schools if x.code == NH)
    assert s.documents["to_trinh"].official is None and not_official(s, OFFICIAL_RULES.campaign) == []


# -- end to end: a real mail, the real pipeline, a real SMTP server ----------------------------

def test_end_to_end_the_receipt_tells_the_school_which_copy_is_official(tmp_path, smtp_server_factory):
    """A school mails the Tờ trình as a Word draft and the Báo cáo digitally signed: the receipt
    names the signer of the one and asks for the official paper of the other, once."""
    import json
    import random

    from bot import app, notify
    from bot.send import SmtpSender
    from bot.store import Store
    from tests.corpus import messages as corpus_mail
    from tests.corpus.content import Context, DocSpec
    from tests.corpus.corpus import Settings
    from tests.corpus.documents import DocumentFactory
    from tests.corpus.official import OfficialBuilder
    from tests.corpus.roster import load_roster

    from .outgoing import bodies, by_kind, make_ctx, parsed

    roster = load_roster(ROOT / "rules" / "schools.csv")
    school = next(s for s in roster if s.code == NH)
    builder = OfficialBuilder(Settings(2023, 1, True, VN, datetime(2023, 10, 10, 23, 59, 59, tzinfo=VN)), roster,
                              DocumentFactory(Context(roster={s.code: s for s in roster}, place="Quận 12")))
    rng = random.Random(3)
    draft = builder.document_file(DocSpec(NH, "to_trinh"), "word", False, "vn", 1, rng)
    signed = builder.document_file(DocSpec(NH, "bao_cao", variant=1), "signed", False, "vn", 2, rng)
    assert signed.entries[0]["official"] and not draft.entries[0]["official"]
    env = corpus_mail.Envelope("Văn thư", school.emails[0], "hoso-bot@pgd-q12.example", "Hồ sơ ANTQ - THCS Nguyễn Hiền",
                               at(5, 9), "Kính gửi Phòng, trường gửi Tờ trình và Báo cáo.")
    data, _ = corpus_mail.client("outlook").build(env, [draft.attachment, signed.attachment], rng)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "0001.eml").write_bytes(data)
    (inbox / "internaldates.json").write_text(json.dumps({"0001.eml": at(5, 9).isoformat()}))

    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server)
    app.poll(ctx, at(5, 9, 5))
    with Store.open(ctx.config.paths.state) as store:
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(5, 10))
    (receipt,) = by_kind(server.messages, "receipt")
    text, html = bodies(parsed(receipt))
    text = text.replace("\r\n", "\n")
    assert "Bản này: đã ký số bởi Nguyễn Văn A, Trường THCS Nguyễn Hiền" in text
    assert "Chưa phải bản chính thức: bản Word chưa ký" in text
    assert text.count("Đề nghị gửi lại bản scan có chữ ký, đóng dấu hoặc bản ký số") == 1
    assert "Các hồ sơ còn thiếu bản chính thức (xem ghi chú ở trên):\n  - Tờ trình đề nghị công nhận" in text
    assert "Bản này: đã ký số bởi Nguyễn Văn A" in html_text(html)

    # the coordinator asks for the school's status by mail: the draft is named as not official
    from .test_coordinator import command_mail

    (inbox / "0002.eml").write_bytes(command_mail("trạng thái thcs-nguyen-hien", message_id="<st-1@tphcm-gov.example>"))
    app.poll(ctx, at(5, 10, 5), sender=SmtpSender(ctx.config.smtp))
    (reply,) = by_kind(server.messages, "reply")
    answer = bodies(parsed(reply))[0].replace("\r\n", "\n")
    assert "Tờ trình đề nghị công nhận: Đúng hạn, nhận lúc 09:00 ngày 05/10/2023; chưa phải bản chính thức" in answer
    assert "Báo cáo kết quả xây dựng đơn vị điển hình: Đúng hạn, nhận lúc 09:00 ngày 05/10/2023\n" in answer


# -- the coordinator's spreadsheet --------------------------------------------------------------

def test_the_xlsx_shows_the_evidence_of_each_received_document():
    import io

    from openpyxl import load_workbook

    items = [dataclasses.replace(item(1, at(5, 9), ("to_trinh",)), evidence=evidence("word")),
             dataclasses.replace(item(2, at(5, 9), ("bao_cao",)), evidence=evidence("signed")),
             dataclasses.replace(item(3, at(5, 9), ("bien_ban",), filename="scan.pdf"), evidence=evidence("faint")),
             item(4, at(5, 9), ("ke_hoach",))]                                  # recorded before the check
    status = status_of(items, now=at(7, 9), rules=OFFICIAL_RULES)
    renderer = Renderer(ROOT / "templates", VN, "hoso-bot@pgd-q12.example")
    wb = load_workbook(io.BytesIO(renderer.digest_xlsx(status)))
    sheet = wb["Bản chính thức"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=1)]
    assert rows[0] == ["Mã trường", "Tên trường", "Hồ sơ", "Tình trạng", "Nhận lúc", "Bản chính thức", "Ký số bởi",
                       "Dấu đỏ", "Số văn bản", "Ngày văn bản", "Vấn đề"]
    mine = {r[2]: r[5:] for r in rows[1:] if r[0] == NH}
    assert mine["Tờ trình đề nghị công nhận"] == [
        "chưa phải bản chính thức", None, "không", "12/TTr-THCSNH", "2023-10-05",
        "bản Word chưa ký: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"]
    assert mine["Báo cáo kết quả xây dựng đơn vị điển hình"][:2] == [
        "bản chính thức", "Nguyễn Văn A, Trường THCS Nguyễn Hiền"]
    assert mine["Biên bản họp xét, đề nghị"][0] == "chưa rõ bản chính thức"
    assert mine["Kế hoạch triển khai"][0] == "chưa kiểm tra"
    # the matrix says it too, and the question is in the review sheet with its reply
    matrix = {r[0].value: [c.value for c in r] for r in wb["Tổng hợp"].iter_rows(min_row=2)}
    assert matrix[NH][4] == "Chưa đủ" and matrix[NH][5].endswith(" - chưa phải bản chính thức")
    review = [[c.value for c in r] for r in wb["Chờ xem xét"].iter_rows(min_row=2)]
    assert [(r[0], r[8]) for r in review] == [("R3", "xác nhận R3 bản chính thức")]
    assert review[0][7].startswith("chưa chắc là bản chính thức: trang 2: có vùng đỏ tròn nhưng quá mờ")


# -- the office's report --------------------------------------------------------------------------

def test_the_office_report_counts_complete_as_official_and_says_what_is_not():
    import io

    from docx import Document

    from bot.report import report_docx_bytes, report_figures

    items = [dataclasses.replace(item(1, at(5, 9), ("to_trinh",)), evidence=evidence("word")),
             dataclasses.replace(item(2, at(5, 9), ("bao_cao", "bien_ban")), evidence=evidence("signed"))]
    status = status_of(items, now=at(12, 9), rules=OFFICIAL_RULES)
    figures = report_figures(status)
    (school,) = [s for s in figures.incomplete_schools if s.code == NH]
    assert (school.missing, school.not_official) == ((), ("Tờ trình đề nghị công nhận",))
    assert figures.total.complete == 0  # every document received, one a Word draft: not complete
    text = "\n".join(p.text for p in Document(io.BytesIO(report_docx_bytes(status, OFFICIAL_RULES))).paragraphs)
    assert ("- THCS Nguyễn Hiền: chưa có bản chính thức (có chữ ký, đóng dấu hoặc ký số) của tờ trình đề nghị "
            "công nhận.") in text


def test_every_requirement_has_its_ask_in_the_wording():
    from bot.official import KNOWN

    module = Renderer(ROOT / "templates", VN, "hoso-bot@pgd-q12.example").env.get_template(
        "_official_wording.txt").module
    assert set(module.ASK) == set(KNOWN)
    assert all(module.ASK[k] and module.ASK[k] == module.ASK[k].strip() for k in KNOWN)
