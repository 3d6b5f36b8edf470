"""The coordinator's commands by email, end to end through ``app.poll`` on a
folder of .eml files: obeyed only from a coordinator address that the server
authenticated, applied exactly once (audited, via="email"), answered by mail;
the same mail from anyone else changes nothing and is reported in the digest."""
from __future__ import annotations

import copy
import dataclasses
import email
from email import policy

import pytest

from bot import app, coordinator, notify
from bot.corrections import correct
from bot.errors import EarlyExtensionError
from bot.mailkey import RECEIPT, REPLY, MailKey
from bot.schema import MIGRATIONS
from bot.send import SmtpSender, make_sender
from bot.status import status_for, to_json
from bot.store import QueuedMail, Store

from . import mailfactory as mf
from . import rawdb
from .outgoing import COORDINATOR, OFFICE_MX, Ctx, at, make_ctx, record

AUTH_PASS = ("mx.tphcm-gov.example; dkim=pass header.d=tphcm-gov.example header.s=s1; spf=pass smtp.mailfrom=tphcm-gov.example;"
             " dmarc=pass (p=QUARANTINE) header.from=tphcm-gov.example")
AUTH_FAIL = ("mx.tphcm-gov.example; dkim=none; spf=fail smtp.mailfrom=evil.example; "
             "dmarc=fail (p=REJECT) header.from=tphcm-gov.example")
# SPF passes, but for the attacker's own envelope domain; no DKIM, no DMARC policy on the From domain
AUTH_SPF_ELSEWHERE = "mx.tphcm-gov.example; spf=pass smtp.mailfrom=bulk.evil.example; dkim=none; dmarc=none"
DIGEST_ID = "<4f1c2e.digest@pgd-q12.example>"
FIXED = "Thu, 12 Oct 2023 08:00:00 +0700"


def command_mail(body: str, *, sender=COORDINATOR, auth=AUTH_PASS, message_id="<cmd-1@tphcm-gov.example>",
                 subject="Re: [Tổng hợp 12/10/2023] 2/27 trường đã đủ hồ sơ", date=FIXED, headers=()) -> bytes:
    raw = mf.build("gmail", sender=sender, sender_name="Nguyễn Thị Hồng Mai", subject=subject, text=body, date=date,
                   message_id=message_id, headers=[("In-Reply-To", DIGEST_ID), ("References", DIGEST_ID), *headers])
    return mf.with_headers(raw, [("Authentication-Results", auth)] if auth else [])


def body(r_review: int, r_unknown: int) -> str:
    """The coordinator's reply to the digest: commands on top, the digest quoted below
    (its quoted lines hold commands and references that must be ignored)."""
    return f"""Chào hệ thống,

duyệt R{r_review} thcs-phan-boi-chau bien_ban vì đã xem bản scan
bỏ R{r_unknown}
miễn mn-hoa-mai
gia hạn th-le-van-tho 20/10/2023
nhận giấy th-nguyen-du bao_cao 2023-10-09
trạng thái th-le-van-tho
miễn truong-khong-co

Cảm ơn.
--
Nguyễn Thị Hồng Mai

Vào Th 5, 12 thg 10, 2023 vào lúc 07:00 Hệ thống tiếp nhận hồ sơ <
hoso-bot@pgd-q12.example> đã viết:

> 5. TỆP CHỜ XEM XÉT (2)
> - R{r_review}  08:00 ngày 05/10/2023  thcsphanboichau.q12@hcm-edu.example
> miễn th-nguyen-du
> duyệt R{r_unknown} thcs-nguyen-hien to_trinh
> bỏ R{r_review}
"""


@pytest.fixture
def campaign(tmp_path):
    """A state with two files in review, a counted dossier; the inbox is a folder."""
    ctx = make_ctx(tmp_path)
    (tmp_path / "inbox").mkdir()
    with Store.open(ctx.config.paths.state) as store:
        (review,) = record(store, at(5, 9), sender="thcsphanboichau.q12@hcm-edu.example",
                           files=[("scan0001.jpg", "thcs-phan-boi-chau", ("bien_ban",), "review", "ảnh chụp")])
        (unknown,) = record(store, at(6, 14), sender="la.nguoi@example.com",
                            files=[("hoso.pdf", None, (), "review", "người gửi không có trong danh sách")])
        record(store, at(2, 9), sender="thcsnguyenhien.q12@hcm-edu.example",
               files=[("ho-so.pdf", "thcs-nguyen-hien", ("to_trinh", "bao_cao", "bien_ban"), "counted")])
    return ctx, tmp_path / "inbox", review, unknown


def drop(inbox, name: str, raw: bytes) -> None:
    (inbox / name).write_bytes(raw)


def poll(ctx, now):
    return app.poll(ctx, now, sender=make_sender(ctx.config))


def status_json(ctx, now):
    with Store.open(ctx.config.paths.state) as store:
        return to_json(status_for(store, ctx.rules, now))


def without_reasons(js):
    """status --json without the exemption's reason (the audited "why" differs by design)."""
    js = copy.deepcopy(js)
    for s in js["schools"]:
        s.pop("exempt_reason", None)
    return js


def replies(ctx):
    out = []
    for f in sorted((ctx.config.paths.state / "outbox").glob("*-reply.eml")):
        out.append(email.message_from_bytes(f.read_bytes(), policy=policy.default))
    return out


def corrections(ctx):
    with Store.open(ctx.config.paths.state) as store:
        return store.corrections()


def test_coordinator_reply_changes_status_exactly_as_asked_and_is_confirmed(campaign, tmp_path_factory):
    ctx, inbox, r_review, r_unknown = campaign
    drop(inbox, "reply.eml", command_mail(body(r_review, r_unknown)))
    now = at(12, 8, 5)
    poll(ctx, now)

    # audited corrections: exactly the six commands written above the quote, from the address, via email
    done = corrections(ctx)
    assert [(c.kind, c.item_id, c.school, c.doc_type) for c in done] == [
        ("assign", r_review, "thcs-phan-boi-chau", "bien_ban"), ("reject", r_unknown, None, None),
        ("exempt", None, "mn-hoa-mai", None), ("extend", None, "th-le-van-tho", None),
        ("received", None, "th-nguyen-du", "bao_cao")]
    assert {(c.who, c.via) for c in done} == {(COORDINATOR, "email")}
    assert done[0].why.startswith("đã xem bản scan [thư <cmd-1@tphcm-gov.example>, dòng 3]")

    # the same corrections made on the command line on a twin state give the same status
    twin = make_ctx(tmp_path_factory.mktemp("twin"))
    with Store.open(twin.config.paths.state) as store:
        record(store, at(5, 9), sender="thcsphanboichau.q12@hcm-edu.example",
               files=[("scan0001.jpg", "thcs-phan-boi-chau", ("bien_ban",), "review", "ảnh chụp")])
        record(store, at(6, 14), sender="la.nguoi@example.com",
               files=[("hoso.pdf", None, (), "review", "người gửi không có trong danh sách")])
        record(store, at(2, 9), sender="thcsnguyenhien.q12@hcm-edu.example",
               files=[("ho-so.pdf", "thcs-nguyen-hien", ("to_trinh", "bao_cao", "bien_ban"), "counted")])
        for kind, kw in [("assign", dict(ref=f"R{r_review}", school="thcs-phan-boi-chau", doc_type="bien_ban")),
                         ("reject", dict(ref=f"R{r_unknown}")), ("exempt", dict(school="mn-hoa-mai")),
                         ("extend", dict(school="th-le-van-tho", value="2023-10-20")),
                         ("received", dict(school="th-nguyen-du", doc_type="bao_cao", value="2023-10-09"))]:
            correct(store, twin.rules, kind, now, who="mai", why="cli", **kw)
    after = status_json(ctx, at(12, 9))
    assert without_reasons(after) == without_reasons(status_json(twin, at(12, 9)))
    schools = {s["code"]: s for s in after["schools"]}
    assert schools["thcs-phan-boi-chau"]["documents"]["bien_ban"]["status"] == "on_time"
    assert schools["mn-hoa-mai"]["exempt"] and not schools["th-nguyen-du"]["exempt"]   # quoted "miễn" ignored
    assert schools["mn-hoa-mai"]["exempt_reason"] == "lệnh qua thư [thư <cmd-1@tphcm-gov.example>, dòng 5]"
    assert schools["th-le-van-tho"]["deadline"] == "2023-10-20T23:59:59+07:00"
    paper = schools["th-nguyen-du"]["documents"]["bao_cao"]
    assert {k: v for k, v in paper.items() if k != "evidence"} == {
        "status": "on_time", "received_at": "2023-10-09T00:00:00+07:00", "versions": 1, "source": "paper",
        "official": True}  # the paper itself, handed in
    assert paper["evidence"]["seen"] == ["bản giấy nộp trực tiếp tại Phòng"]
    assert schools["thcs-nguyen-hien"]["documents"]["to_trinh"]["source"] != f"R{r_unknown}"
    assert after["review"] == []

    # one confirmation, threaded on the command mail, to the coordinator only
    (reply,) = replies(ctx)
    assert reply["To"] == COORDINATOR and reply["X-Bot-Kind"] == "reply"
    assert reply["In-Reply-To"] == "<cmd-1@tphcm-gov.example>"
    assert reply["References"].split() == [DIGEST_ID, "<cmd-1@tphcm-gov.example>"]
    assert reply["Auto-Submitted"] == "auto-replied"
    assert str(reply["Subject"]) == "Re: [Tổng hợp 12/10/2023] 2/27 trường đã đủ hồ sơ"
    text = reply.get_body(("plain",)).get_content()
    assert text.count("Đã thực hiện") == 5
    assert (f"tệp R{r_review} (scan0001.jpg) được tính là Biên bản họp xét, đề nghị của THCS Phan Bội Châu"
            in text)
    assert "hạn nộp của TH Lê Văn Thọ được gia hạn đến 23:59 ngày 20/10/2023 (giờ Việt Nam)" in text
    assert "ghi nhận Báo cáo kết quả xây dựng đơn vị điển hình của TH Nguyễn Du nộp bản giấy ngày 09/10/2023" in text
    assert "TH Lê Văn Thọ (th-le-van-tho): chưa nộp đủ hồ sơ; hạn nộp 23:59 ngày 20/10/2023" in text
    assert 'Dòng 9: "miễn truong-khong-co"' in text and "KHÔNG THỰC HIỆN: Không có trường này" in text
    assert "Cú pháp đúng: miễn <mã trường>" in text
    html = reply.get_body(("html",)).get_content()
    assert "Đã thực hiện" in html and "truong-khong-co" in html

    # polled again, then the command mail processed again (as "requeue --all" does): nothing twice
    poll(ctx, at(12, 9))
    assert rawdb.tamper(ctx.config.paths.state, "UPDATE messages SET status = 'new', attempts = 0"
                        " WHERE message_id = '<cmd-1@tphcm-gov.example>'") == 1
    poll(ctx, at(12, 10))
    assert len(corrections(ctx)) == 5 and len(replies(ctx)) == 1
    assert without_reasons(status_json(ctx, at(12, 11))) == without_reasons(status_json(twin, at(12, 11)))


def test_commands_are_also_answered_in_a_new_mail_and_typos_get_the_syntax(campaign):
    ctx, inbox, r_review, _ = campaign
    drop(inbox, "new.eml", command_mail("duyet R999\nDuyệt R%d\ngia han th-le-van-tho mai\nduyêt R%d x y\n"
                                        % (r_review, r_review), subject="Lệnh", message_id="<cmd-2@tphcm-gov.example>",
                                        headers=()))
    poll(ctx, at(12, 9))
    (reply,) = replies(ctx)
    assert str(reply["Subject"]) == "Re: Lệnh"
    text = reply.get_body(("plain",)).get_content()
    assert 'KHÔNG THỰC HIỆN: Không có tệp: "R999"' in text
    # "duyệt R<n>" alone takes the school and type the bot guessed
    assert f"tệp R{r_review} (scan0001.jpg) được tính là Biên bản họp xét, đề nghị của THCS Phan Bội Châu" in text
    assert 'Không phải ngày hợp lệ (viết 2023-10-20 hoặc 20/10/2023, có thể thêm giờ 16:00): "mai"' in text
    assert "Không hiểu lệnh" in text and "CÚ PHÁP (mỗi dòng một lệnh):" in text
    assert [(c.kind, c.item_id) for c in corrections(ctx)] == [("assign", r_review)]


@pytest.mark.parametrize("case", ["other address", "dmarc=fail", "no verdict", "spf for another domain"])
def test_the_same_commands_from_anyone_else_change_nothing_and_show_in_the_digest(campaign, case):
    ctx, inbox, r_review, r_unknown = campaign
    sender = {"other address": "thcsphanboichau.q12@hcm-edu.example"}.get(case, COORDINATOR)
    auth = {"dmarc=fail": AUTH_FAIL, "no verdict": None, "spf for another domain": AUTH_SPF_ELSEWHERE}.get(
        case, AUTH_PASS.replace("tphcm-gov.example", "hcm-edu.example"))
    before = status_json(ctx, at(12, 9))
    drop(inbox, "forged.eml", command_mail(body(r_review, r_unknown), sender=sender, auth=auth))
    report = poll(ctx, at(12, 8, 5))
    assert report.processed == 1
    assert corrections(ctx) == []
    assert status_json(ctx, at(12, 9)) == before
    if case == "other address":
        assert replies(ctx) == []                                   # never answered
        with Store.open(ctx.config.paths.state) as store:          # and still read as ordinary mail
            assert [m.status for m in store.message_records()
                    if m.message_id == "<cmd-1@tphcm-gov.example>"] == ["done"]
    else:                                                           # the real coordinator is told, nothing else
        (reply,) = replies(ctx)
        assert reply["To"] == COORDINATOR
        text = reply.get_body(("plain",)).get_content()
        assert "KHÔNG THỰC HIỆN LỆNH NÀO" in text and "Đã thực hiện" not in text
        assert ("không qua kiểm tra xác thực" in text) == (case == "dmarc=fail")
        assert ("thư không có kết quả xác thực" in text) == (case == "no verdict")
        assert ("một tên miền khác" in text) == (case == "spf for another domain")

    with Store.open(ctx.config.paths.state) as store:
        notify.digest(ctx, store, None, at(13, 7))
        (digest,) = [r for r in store.outbox_rows() if r.kind == "digest"]
        msg = email.message_from_bytes(store.outbox_raw(digest.id), policy=policy.default)
        text = msg.get_body(("plain",)).get_content()
        section = text.split("8. LỆNH QUA THƯ BỊ TỪ CHỐI (1)")[1].split("Bảng tổng hợp")[0]
        assert sender in section and "miễn mn-hoa-mai" in section and f"duyệt R{r_review}" in section
        assert "miễn th-nguyen-du" not in section                   # the quoted lines are not commands either
        reason = {"other address": "địa chỉ gửi không phải của cán bộ phụ trách",
                  "dmarc=fail": "có thể bị giả mạo", "no verdict": "không có kết quả xác thực",
                  "spf for another domain": "một tên miền khác"}[case]
        assert reason in section and "Không có thay đổi nào được thực hiện" in section
        assert "Lệnh qua thư bị từ chối (1)" in msg.get_body(("html",)).get_content()
        notify.digest(ctx, store, None, at(14, 7))                  # the next digest does not repeat it
        latest = max(store.outbox_rows(), key=lambda r: r.id)
        assert "BỊ TỪ CHỐI" not in email.message_from_bytes(store.outbox_raw(latest.id),
                                                             policy=policy.default).get_body(("plain",)).get_content()


def test_unauthenticated_mail_is_obeyed_only_when_the_config_says_so(campaign):
    ctx, inbox, _, _ = campaign
    lenient = Ctx(config=dataclasses.replace(ctx.config, allow_unauthenticated_commands=True), rules=ctx.rules)
    assert any("allow_unauthenticated_commands is ON" in w for w in lenient.config.warnings())
    drop(inbox, "a.eml", command_mail("miễn mn-hoa-mai", auth=None, message_id="<a@tphcm-gov.example>"))
    drop(inbox, "b.eml", command_mail("miễn mn-hoa-sen", auth=AUTH_FAIL, message_id="<b@tphcm-gov.example>"))
    poll(lenient, at(12, 9))
    assert [(c.kind, c.school) for c in corrections(ctx)] == [("exempt", "mn-hoa-mai")]  # a failure never is


def test_config_option_is_named_and_defaults_to_false(tmp_path):
    from bot.config.load import parse_config
    from bot.errors import ConfigError

    base = {"mailbox": {"source": "folder", "path": "inbox"}, "coordinator": {"emails": [COORDINATOR]}}
    assert parse_config(base, tmp_path).allow_unauthenticated_commands is False
    on = {**base, "coordinator": {"emails": [COORDINATOR], "allow_unauthenticated_commands": True}}
    assert parse_config(on, tmp_path).allow_unauthenticated_commands is True
    with pytest.raises(ConfigError, match="allow_unauthenticated_commands"):
        parse_config({**base, "coordinator": {"emails": [COORDINATOR], "allow_unauthenticated_commands": "yes"}},
                     tmp_path)


def test_out_of_office_replies_and_forwarded_dossiers_from_the_coordinator_are_not_commands(campaign):
    ctx, inbox, _, _ = campaign
    oof = mf.with_headers(command_mail("Tôi đang nghỉ phép đến 16/10.\nbỏ R1", message_id="<oof@tphcm-gov.example>"),
                          [("Auto-Submitted", "auto-replied")])
    drop(inbox, "oof.eml", oof)
    forward = mf.with_headers(mf.build("gmail", sender=COORDINATOR, subject="Fwd: Hồ sơ THCS Nguyễn Trãi",
                                       text="Chuyển tiếp hồ sơ của trường.", date=FIXED,
                                       files=[mf.File("Tờ trình.pdf", mf.pdf_bytes())]),
                              [("Authentication-Results", AUTH_PASS)])
    drop(inbox, "fwd.eml", forward)
    poll(ctx, at(12, 9))
    assert corrections(ctx) == [] and replies(ctx) == []
    with Store.open(ctx.config.paths.state) as store:
        assert store.command_mails() == []
        assert any(i.filename == "Tờ trình.pdf" for i in store.items())           # classified as a submission


def test_a_crash_before_the_commit_applies_nothing_and_the_retry_applies_once(campaign, monkeypatch):
    ctx, inbox, _, _ = campaign
    drop(inbox, "c.eml", command_mail("miễn mn-hoa-mai\nbỏ miễn mn-hoa-mai\nmiễn mn-hoa-sen"))
    real = coordinator._queue_reply
    calls = []

    class Crash(BaseException):
        """The process dies (power cut, OOM kill) after the corrections were written, before the commit."""

    def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Crash()
        return real(*args, **kwargs)

    monkeypatch.setattr(coordinator, "_queue_reply", crash_once)
    with pytest.raises(Crash):
        poll(ctx, at(12, 9))
    assert corrections(ctx) == [] and replies(ctx) == []
    with Store.open(ctx.config.paths.state) as store:
        assert store.command_lines() == []
        # The death of the process is not the mail's fault: no attempt is charged.
        assert [(m.status, m.attempts) for m in store.message_records()
                if m.message_id == "<cmd-1@tphcm-gov.example>"] == [("new", 0)]
    poll(ctx, at(12, 9, 10))
    assert [(c.kind, c.school) for c in corrections(ctx)] == [("exempt", "mn-hoa-mai"), ("unexempt", "mn-hoa-mai"),
                                                              ("exempt", "mn-hoa-sen")]
    assert len(replies(ctx)) == 1
    schools = {s["code"]: s for s in status_json(ctx, at(12, 10))["schools"]}
    assert not schools["mn-hoa-mai"]["exempt"] and schools["mn-hoa-sen"]["exempt"]


def test_the_reply_goes_through_smtp_and_the_allow_list(campaign, smtp_server):
    ctx, inbox, _, _ = campaign
    smtp_ctx = make_ctx(ctx.config.paths.state.parent, smtp_server)
    drop(inbox, "s.eml", command_mail("trạng thái"))
    app.poll(smtp_ctx, at(12, 9), sender=SmtpSender(smtp_ctx.config.smtp))
    (m,) = [m for m in smtp_server.messages if b"X-Bot-Kind: reply" in m.raw]
    assert m.rcpt_tos == (COORDINATOR,) or list(m.rcpt_tos) == [COORDINATOR]
    text = email.message_from_bytes(m.raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "Đã nộp đủ: 1/27 trường" in text and "Tệp chờ xem xét: R1 (scan0001.jpg), R2 (hoso.pdf)" in text


def test_schema_2_database_is_migrated_with_its_outbox(tmp_path):
    """The outbox is rebuilt to accept kind 'reply'; rows and foreign keys survive."""
    state = tmp_path / "state"
    state.mkdir()
    rawdb.old_database(
        state, 2,
        "INSERT INTO messages (id, sha256, message_id, source_key, received_at, size, fetched_at)"
        " VALUES (1, 'x', '<m@x>', 'k', '2023-10-05T09:00:00+07:00', 1, '2023-10-05T09:00:00+07:00')",
        "INSERT INTO items (id, message_row, container, filename, part_index, content_sha256, first_page,"
        " last_page, doc_types, campaign, decision, confidence, reasons, received_at, cycle, classified_at)"
        " VALUES (7, 1, '', 'a.pdf', 0, '', 1, 1, '[]', 1, 'counted', 1, '[]', '2023-10-05', 2023, 'x')",
        "INSERT INTO outbox (id, key, kind, cycle, created_at, queued_at, next_attempt_at, status)"
        " VALUES (3, 'receipt:x:2023:7', 'receipt', 2023, 'a', 'a', 'a', 'sent')",
        "INSERT INTO receipt_items (item_id, outbox_id) VALUES (7, 3)")

    def mail(key: MailKey, kind: str) -> QueuedMail:
        return QueuedMail(key=key, kind=kind, cycle=2023, from_addr="a@b.c", recipients=("x@y.z",), subject="s",
                          message_id=f"<{key.ref}@b.c>", raw=b"x")

    def keys(store: Store) -> set[str]:
        return {k.text for kind in (RECEIPT, REPLY) for k in store.outbox_keys(kind)}

    with Store.open(state) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.outbox_keys(RECEIPT) == {MailKey(RECEIPT, 2023, "x", ref="7")}  # its parts, from its text
        assert keys(store) == {"receipt:x:2023:7"} and store.outbox_counts() == {"sent": 1}
        assert store.receipt_item_ids(3) == [7]
        assert store.foreign_key_violations() == 0
        assert store.foreign_keys_enforced()                                  # on again after the migration
        assert store.queue_mail(mail(MailKey(REPLY, 2023, ref="<a@b>"), "reply"), at(12, 9)) is not None
        assert store.queue_mail(mail(MailKey(REPLY, 2023, ref="x"), "spam"), at(12, 9)) is None  # no such kind
        assert keys(store) == {"receipt:x:2023:7", "reply:<a@b>"}


def test_an_extension_that_would_shorten_the_deadline_is_refused(campaign):
    ctx, inbox, _, _ = campaign
    drop(inbox, "early.eml", command_mail("gia hạn th-le-van-tho 05/10/2023\ngia hạn th-le-van-tho 20/10/2023"))
    poll(ctx, at(12, 9))
    assert [(c.kind, c.value[:10]) for c in corrections(ctx)] == [("extend", "2023-10-20")]
    (reply,) = replies(ctx)
    text = reply.get_body(("plain",)).get_content()
    assert ('KHÔNG THỰC HIỆN: Ngày gia hạn phải sau hạn nộp chung của đợt (gia hạn không rút ngắn thời hạn '
            'của trường): "2023-10-05"') in text
    with Store.open(ctx.config.paths.state) as store, pytest.raises(EarlyExtensionError, match="not after"):
        correct(store, ctx.rules, "extend", at(12, 9), who="mai", why="cli", school="th-le-van-tho",
                    value="2023-10-10")  # the deadline day itself: 23:59:59 is not later


def test_a_mail_with_too_many_commands_carries_out_the_first_ones_and_says_so(campaign, monkeypatch):
    ctx, inbox, _, _ = campaign
    monkeypatch.setattr(coordinator, "MAX_COMMANDS", 2)
    drop(inbox, "many.eml", command_mail("miễn mn-hoa-mai\nmiễn mn-hoa-sen\nmiễn mn-tuoi-ngoc"))
    poll(ctx, at(12, 9))
    assert [c.school for c in corrections(ctx)] == ["mn-hoa-mai", "mn-hoa-sen"]
    (reply,) = replies(ctx)
    assert "Chỉ 2 lệnh đầu tiên được xử lý; 1 dòng lệnh còn lại bị bỏ qua" in reply.get_body(("plain",)).get_content()


def test_bo_with_a_q_reference_dismisses_the_quarantined_mail_and_the_reply_says_so(campaign):
    from bot.service import health

    from .outgoing import quarantine

    ctx, inbox, _, _ = campaign
    with Store.open(ctx.config.paths.state) as store:
        ref = quarantine(store, at(7, 9))
        done = min(m.id for m in store.message_records() if m.status == "done")
    drop(inbox, "q.eml", command_mail(f"bỏ {ref} lý do: đã gọi điện và trường nộp bản giấy\n"
                                      f"bo Q999\nloại Q{done}\nbỏ {ref.lower()}", message_id="<cmd-q@tphcm-gov.example>"))
    poll(ctx, at(12, 9))

    with Store.open(ctx.config.paths.state) as store:
        assert store.quarantined() == []                                  # the digest and health forget it
        code, lines = health(store, ctx.config, at(12, 9, 5))
        assert code == 0, lines
        (q,) = store.quarantined(include_dismissed=True)
    assert (q["ref"], q["dismissed_by"], q["dismissed_via"]) == (ref, COORDINATOR, "email")
    assert q["dismissed_why"] == "đã gọi điện và trường nộp bản giấy [thư <cmd-q@tphcm-gov.example>, dòng 1]"
    assert corrections(ctx) == []                                         # no item was rejected

    (reply,) = replies(ctx)
    text = reply.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert (f"Đã thực hiện: thư {ref} của <poison-" in text
            and "được bỏ khỏi danh sách thư bot không xử lý được; thư tổng hợp sẽ không nhắc lại thư này" in text)
    assert "Lý do ghi nhận: đã gọi điện và trường nộp bản giấy" in text
    assert 'Dòng 2: "bo Q999"\n   KHÔNG THỰC HIỆN: Không có thư nào mang mã này: "Q999"' in text
    assert f'Dòng 3: "loại Q{done}"\n   KHÔNG THỰC HIỆN: Thư này không nằm trong danh sách thư bot không xử lý được' in text
    assert "KHÔNG THỰC HIỆN: Thư này đã được bỏ khỏi danh sách thư bot không xử lý được trước đó" in text
    assert "Cú pháp đúng: bỏ Q<số> <lý do>" in text
    assert "Đã thực hiện" in reply.get_body(("html",)).get_content()


# Authentication-Results only count when written by the office's own server (``OFFICE_MX``, the
# authserv-id that ``make_ctx`` trusts); the rest may come from the sender (RFC 8601 sections 5, 7.1).
FORGED = ("mx.evil.example; dkim=pass header.d=tphcm-gov.example; spf=pass smtp.mailfrom=tphcm-gov.example; "
          "dmarc=pass header.from=tphcm-gov.example")


@pytest.mark.parametrize("case, headers, trusted, refusal", [
    ("the office's server: pass", [AUTH_PASS], (OFFICE_MX,), None),
    ("the trusted id in another case", [AUTH_PASS.replace(OFFICE_MX, OFFICE_MX.upper())], (OFFICE_MX,), None),
    ("forged header, foreign authserv-id", [FORGED], (OFFICE_MX,), "auth_none"),
    ("forged header above the office's failing one",
     [FORGED, f"{OFFICE_MX}; spf=fail smtp.mailfrom=tphcm-gov.example; dkim=none; dmarc=none"], (OFFICE_MX,), "auth_fail"),
    ("no trusted server configured", [AUTH_PASS], (), "auth_none"),
    ("dmarc=pass for another domain",
     [f"{OFFICE_MX}; dmarc=pass header.from=evil.example; spf=pass smtp.mailfrom=evil.example"], (OFFICE_MX,),
     "auth_unaligned"),
    ("unrelated DKIM pass beside an SPF failure",
     [f"{OFFICE_MX}; spf=fail smtp.mailfrom=tphcm-gov.example; dkim=pass header.d=evil.example; dmarc=none"],
     (OFFICE_MX,), "auth_fail"),
    ("aligned DKIM pass beside an SPF softfail",
     [f"{OFFICE_MX}; spf=softfail smtp.mailfrom=tphcm-gov.example; dkim=pass header.d=tphcm-gov.example; dmarc=none"],
     (OFFICE_MX,), None),
])
def test_only_the_office_servers_authentication_results_get_commands_obeyed(tmp_path, case, headers, trusted,
                                                                             refusal):
    ctx = make_ctx(tmp_path, trusted_authserv_ids=trusted)
    (tmp_path / "inbox").mkdir()
    raw = mf.with_headers(command_mail("miễn mn-hoa-mai", auth=None), [("Authentication-Results", h) for h in headers])
    drop(tmp_path / "inbox", "cmd.eml", raw)
    poll(ctx, at(12, 9))
    with Store.open(ctx.config.paths.state) as store:
        (outcome,) = [(m.verdict, m.reason) for m in store.command_mails()]
    (reply,) = replies(ctx)
    text = reply.get_body(("plain",)).get_content()
    if refusal is None:
        assert tuple(outcome) == ("obeyed", "")
        assert [(c.kind, c.school, c.via) for c in corrections(ctx)] == [("exempt", "mn-hoa-mai", "email")]
    else:
        assert (outcome[0], outcome[1].partition(":")[0]) == ("refused", refusal)  # "auth_fail: spf=fail ..."
        assert corrections(ctx) == []
        assert "KHÔNG THỰC HIỆN LỆNH NÀO" in text and "Đã thực hiện" not in text


def test_one_line_settles_several_files_each_audited_and_listed_in_the_reply(campaign):
    ctx, inbox, r_review, r_unknown = campaign
    with Store.open(ctx.config.paths.state) as store:
        more = [record(store, at(6, 9 + k), sender="thcsnguyenhien.q12@hcm-edu.example",
                       files=[(f"anh{k}.jpg", "thcs-nguyen-hien", ("bao_cao",), "review", "ảnh chụp")])[0]
                for k in range(3)]
    lo, hi = min(more), max(more)
    drop(inbox, "batch.eml", command_mail(f"bỏ R{r_review} R{r_unknown} R99999 vì trùng\nduyệt R{lo}\u2013R{hi}",
                                          message_id="<cmd-batch@tphcm-gov.example>"))
    poll(ctx, at(12, 9))
    done = corrections(ctx)
    # one audited correction per file, each naming the mail and the line it came from
    assert [(c.kind, c.item_id) for c in done] == [("reject", r_review), ("reject", r_unknown)] + [
        ("assign", i) for i in range(lo, hi + 1)]
    assert [c.why for c in done[:2]] == ["trùng [thư <cmd-batch@tphcm-gov.example>, dòng 1]"] * 2
    assert {(c.school, c.doc_type) for c in done[2:]} == {("thcs-nguyen-hien", "bao_cao")}
    assert status_json(ctx, at(12, 9, 5))["summary"]["review"] == 0
    (reply,) = replies(ctx)
    text = reply.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "2/3 tệp đã thực hiện:" in text and "3/3 tệp đã thực hiện:" in text
    assert f"- R{r_review} (scan0001.jpg): không được tính." in text
    assert "- R99999: KHÔNG THỰC HIỆN: Không có tệp." in text
    assert f"- R{lo} (anh0.jpg): được tính là Báo cáo kết quả xây dựng đơn vị điển hình của THCS Nguyễn Hiền." in text
    html = reply.get_body(("html",)).get_content()
    assert "2/3 tệp đã thực hiện" in html and f"R{hi}" in html
    # processed again (requeue --all): the lines are known, nothing is applied twice
    with Store.open(ctx.config.paths.state) as store:
        store.requeue(all_messages=True)
    poll(ctx, at(12, 10))
    assert len(corrections(ctx)) == len(done)
