"""Who gets a receipt, what it says, and when it may leave (issue 13.5).

A receipt goes to the school's roster addresses; a sender outside the roster
gets one only when the office's own server vouches for it (trusted
Authentication-Results pass), and it lists only what that mail brought.
Receipts never hold up the digest or the reminders, and receipts to senders
outside the roster have their own small daily cap.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from bot import notify
from bot.outbound.receipts import CountedItem, due_receipts
from bot.config.load import parse_config
from bot.errors import ConfigError
from bot.model import ItemDecision, RawMessage
from bot.outbound.delivery import Limits
from bot.parse import ParseLimits, parse_message
from bot.send import SmtpSender
from bot.store import MessageSummary, Store, StoredItem

from .outgoing import OFFICE_MX, ROOT, at, bodies, by_kind, make_ctx, parsed, small_rules
from .test_plan import RULES, status_of

NH = "thcs-nguyen-hien"
NH_SCHOOL, NH_GMAIL = "thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example"
STAFF = "staff.forwarder@outside.example"


def item(id, when, doc_types=("to_trinh",), school=NH):
    return StoredItem(id=id, message_id=f"<m{id}@x>", from_addr="a@b.c", subject="s", received_at=when,
                      container="", filename=f"f{id}.pdf", part_index=0, first_page=1, last_page=1, school=school,
                      doc_types=tuple(doc_types), campaign=True, decision="counted", confidence=0.9, reasons=(),
                      cycle=2023, content_sha256="")


def counted(id, when, from_addr, *, row, verified=False, doc_types=("to_trinh",), automatic=False):
    return CountedItem(id, NH, tuple(doc_types), f"f{id}.pdf", when, from_addr, automatic,
                            message_row=row, sender_verified=verified)


def plan_at(now, items, acknowledged=(), suppressed=(), known=()):
    status = status_of([item(c.item_id, c.received_at, c.doc_types) for c in items], now=now)
    return due_receipts(status, RULES, items, acknowledged, now, suppressed, known)


@pytest.mark.parametrize("sender, verified, automatic, suppressed, expected", [
    # (who gets a mail)
    (NH_SCHOOL, True, False, (), [(NH_SCHOOL, NH_GMAIL)]),                      # a roster address: roster only
    (NH_SCHOOL, False, False, (), [(NH_SCHOOL, NH_GMAIL)]),                     # even unauthenticated: the roster is ours
    (STAFF, False, False, (), [(NH_SCHOOL, NH_GMAIL)]),                         # outsider, no verdict: nothing to it
    (STAFF, True, False, (), [(NH_SCHOOL, NH_GMAIL), (STAFF,)]),                # outsider vouched for: its own receipt
    (STAFF, True, False, (NH_SCHOOL, NH_GMAIL), [(STAFF,)]),                   # roster bounced: the outsider's still goes
    (STAFF, True, False, (STAFF,), [(NH_SCHOOL, NH_GMAIL)]),                    # the outsider bounced or is bursting
    (STAFF, True, True, (), []),                                                # automatic mail: never answered
])
def test_who_gets_a_receipt(sender, verified, automatic, suppressed, expected):
    mails = plan_at(at(5, 10), [counted(1, at(5, 9), sender, row=11, verified=verified, automatic=automatic)],
                    suppressed=suppressed)
    assert [m.to for m in mails] == expected


def test_a_receipt_to_an_outside_sender_lists_only_what_its_mail_brought():
    items = [counted(1, at(5, 9), NH_SCHOOL, row=10, doc_types=("bao_cao",)),
             counted(2, at(5, 9, 2), STAFF, row=11, verified=True),
             counted(3, at(5, 9, 3), STAFF, row=12, verified=True, doc_types=("bien_ban",))]
    roster, *to_staff = plan_at(at(5, 10), items)
    assert roster.to == (NH_SCHOOL, NH_GMAIL) and roster.item_ids == (1, 2, 3)        # the school hears of everything
    assert [(m.key.text, m.to, m.item_ids) for m in to_staff] == [
        (f"receipt-to-sender:{NH}:2023:11", (STAFF,), ()),                            # one per mail, acknowledging
        (f"receipt-to-sender:{NH}:2023:12", (STAFF,), ())]                            # nothing for the school
    first = to_staff[0]
    assert [line.filename for line in first.context["lines"]] == ["f2.pdf"]
    assert not {"missing", "in_review", "complete", "overdue", "deadline"} & set(first.context)
    assert first.meta == {"sender": STAFF, "message_row": 11}
    # decided once: a later pass (the roster receipt still waiting, say) does not plan it again
    again = plan_at(at(5, 11), items, known=[m.key for m in to_staff])
    assert [m.to for m in again] == [(NH_SCHOOL, NH_GMAIL)]


@pytest.mark.parametrize("cap, reserve, sent, priority_sent, room", [
    (500, 29, 0, 0, 471),      # 29 sends kept for the digest and one reminder per school
    (500, 29, 0, 29, 500),     # they went: receipts may use the rest of the day
    (500, 29, 460, 10, 21),
    (10, 5, 5, 0, 0),          # the rest is kept
    (10, 5, 9, 5, 1),
    (10, 0, 10, 0, 0),
])
def test_receipts_leave_room_for_the_digest_and_reminders(cap, reserve, sent, priority_sent, room):
    assert Limits(daily_cap=cap, reserve=reserve).receipt_room(sent, priority_sent) == room


@pytest.mark.parametrize("value, error", [
    (0, None), (20, None), (500, None), (-1, "must be between 0 and daily_cap (500)"),
    (501, "must be between 0 and daily_cap (500)"), ("many", "smtp.sender_receipts_per_day"),
])
def test_the_cap_of_receipts_to_outside_senders_is_validated(tmp_path, value, error):
    data = {"mailbox": {"source": "folder", "path": str(tmp_path)},
            "smtp": {"enabled": True, "host": "127.0.0.1", "port": 2525, "security": "none",
                     "from_address": "hoso-bot@pgd-q12.example", "sender_receipts_per_day": value},
            "coordinator": {"emails": ["nthmai.q12@tphcm-gov.example"]},
            "paths": {"rules": str(ROOT / "rules"), "templates": str(ROOT / "templates"), "state": str(tmp_path)}}
    if error is None:
        assert parse_config(data, tmp_path).smtp.sender_receipts_per_day == value
    else:
        with pytest.raises(ConfigError, match="sender_receipts_per_day") as exc:
            parse_config(data, tmp_path)
        assert error in str(exc.value)


# -- through the store and a real SMTP server ------------------------------------------

def record_mail(store: Store, when: datetime, sender: str, files, *, dmarc: str = "pass", results: str = "",
                n=[0]) -> int:
    """Record a mail from ``sender`` whose Authentication-Results, written by the office's server,
    say ``dmarc`` (or exactly ``results``); parsed by the real parser trusting that server, recorded
    as the pipeline records it. Returns its message row."""
    n[0] += 1
    domain = sender.split("@")[1]
    results = results or (f"spf={dmarc} smtp.mailfrom={sender}; dkim={dmarc} header.d={domain};"
                          f" dmarc={dmarc} header.from={domain}")
    raw = (f"From: {sender}\r\nTo: hoso-bot@pgd-q12.example\r\nSubject: Hồ sơ gửi giúp trường\r\n"
           f"Message-ID: <r{n[0]}-{when.timestamp():.0f}@{domain}>\r\n"
           f"Authentication-Results: {OFFICE_MX}; {results}\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi Phòng.\r\n").encode()
    message = parse_message(raw, ParseLimits(trusted_authserv_ids=(OFFICE_MX,)))
    store.record_fetched([RawMessage(f"receipts:{n[0]}", raw, when)], when)
    row = store.message_row_of(f"receipts:{n[0]}")
    items = [(ItemDecision(filename=name, part_index=i, school=school, doc_types=tuple(types), campaign=True,
                           decision="counted", confidence=0.95, reasons=("test",), content_sha256=f"{row:064x}"),
              "", when, 2023) for i, (name, school, types) in enumerate(files)]
    summary = MessageSummary(message_id=message.message_id, from_addr=message.from_addr, subject=message.subject,
                             automatic=message.automatic, auth=message.auth_verdict.stored,
                             bounces=message.bounce_recipients)
    store.record_processed(row, summary, items, when)
    return row


@pytest.mark.parametrize("sender_cap, first_pass, outsiders_sent", [
    (4, 3 + 4, 4),        # their own cap binds
    (16, 3 + 8, 8),       # no cap of their own: the daily cap less the 5 sends kept binds
])
def test_thirty_outsiders_do_not_delay_the_digest_or_the_reminders(tmp_path, smtp_server_factory, sender_cap,
                                                                    first_pass, outsiders_sent):
    server = smtp_server_factory()
    codes = ("thcs-nguyen-hien", "mn-hoa-mai", "th-nguyen-du")
    # A small account: 16 mails a day; 3 schools, so 5 sends are kept for the digest and reminders.
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, codes), daily_cap=16,
                   sender_receipts_per_day=sender_cap)
    with Store.open(ctx.config.paths.state) as store:
        for i in range(30):                               # 30 senders, 30 addresses, each vouched for
            record_mail(store, at(3, 6, i), f"nguoi{i}@outside{i}.example",
                        [(f"to-trinh-{i}.pdf", codes[i % 3], ("to_trinh",))])
        report = notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(3, 6, 45))
        assert report.queued == 33                        # 3 to the roster, 30 to the senders
        assert report.delivery.sent == first_pass and report.delivery.held == 33 - first_pass
        assert report.delivery.waiting == 0              # nothing for the pacing loop to wait for
        notify.digest(ctx, store, SmtpSender(ctx.config.smtp), at(3, 7))
        notify.remind(ctx, store, SmtpSender(ctx.config.smtp), at(3, 9))
        for minute in range(10):                          # the worker's outbox job, every minute
            notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(3, 9, 1 + minute))
        waiting = [r for r in store.outbox_rows(("queued",))]
    kinds = [parsed(m)["X-Bot-Kind"] for m in server.messages]
    assert kinds.count("digest") == 1 and kinds.count("reminder") == 3
    assert len(server.messages) <= 16
    outsiders = [m for m in by_kind(server.messages, "receipt") if m.rcpt_tos[0].startswith("nguoi")]
    assert len(outsiders) == outsiders_sent
    assert {r.kind for r in waiting} == {"receipt"} and len(waiting) == 30 - outsiders_sent
    # the roster receipts name every sender's file; an outsider's names only its own
    text = bodies(parsed(outsiders[0]))[0]
    assert "Biên nhận này chỉ xác nhận các tệp trong thư trên" in text
    assert len([ln for ln in text.splitlines() if "Tệp:" in ln]) == 1 and "còn thiếu" not in text.lower()


def test_an_outsider_failing_authentication_gets_nothing_and_a_vouched_one_gets_only_its_file(
        tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path))
    with Store.open(ctx.config.paths.state) as store:
        record_mail(store, at(5, 9), NH_SCHOOL, [("bao-cao.pdf", NH, ("bao_cao",))])
        record_mail(store, at(5, 9, 1), "ke.gia@evil.example", [("to-trinh-gia.pdf", NH, ("to_trinh",))],
                    dmarc="fail")
        record_mail(store, at(5, 9, 2), STAFF, [("bien-ban.pdf", NH, ("bien_ban",))])
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(5, 9, 30))
    receipts = {m.rcpt_tos: parsed(m) for m in by_kind(server.messages, "receipt")}
    assert set(receipts) == {(NH_SCHOOL, NH_GMAIL), (STAFF,)}
    school_text = bodies(receipts[(NH_SCHOOL, NH_GMAIL)])[0]
    assert all(f in school_text for f in ("bao-cao.pdf", "to-trinh-gia.pdf", "bien-ban.pdf"))
    staff_text, staff_html = bodies(receipts[(STAFF,)])
    assert "bien-ban.pdf" in staff_text and "bao-cao.pdf" not in staff_text and "to-trinh-gia.pdf" not in staff_text
    assert "Các hồ sơ bắt buộc" not in staff_text and "Hạn nộp" not in staff_text
    assert "bien-ban.pdf" in staff_html and "bao-cao.pdf" not in staff_html
    staff = receipts[(STAFF,)]
    assert staff["In-Reply-To"] is None                  # not in the school's conversation
    assert str(staff["Subject"]).startswith("Biên nhận hồ sơ gửi cho THCS Nguyễn Hiền")


def test_an_outsider_whose_spf_pass_is_for_another_envelope_domain_gets_no_receipt(tmp_path, smtp_server_factory):
    # spf=pass proves only the envelope domain (a bulk mailer's); it says nothing about who wrote From,
    # so a forger could otherwise steer receipts (with the school's files) to any address.
    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path))
    with Store.open(ctx.config.paths.state) as store:
        record_mail(store, at(5, 9), NH_SCHOOL, [("bao-cao.pdf", NH, ("bao_cao",))])
        record_mail(store, at(5, 9, 1), "ke.gia@victim.example", [("to-trinh.pdf", NH, ("to_trinh",))],
                    results="spf=pass smtp.mailfrom=bounce@mailer.example")
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(5, 9, 30))
    assert [m.rcpt_tos for m in by_kind(server.messages, "receipt")] == [(NH_SCHOOL, NH_GMAIL)]
