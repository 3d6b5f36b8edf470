"""A delivery report silences an address only when it is about the bot's own
mail to that address (issue 13.4). Forged reports, through a real SMTP
server: the school keeps getting its reminders and the digest names no bounce."""
from __future__ import annotations

import logging
from datetime import date

import pytest

from bot import bounces, notify
from bot.bounces import BounceVerdict, SentMail
from bot.outbound import outbox
from bot.outbound.delivery import Limits
from bot.outbound.facts import allowed_addresses, suppressed_addresses, sync_bounces
from bot.send import SmtpSender
from bot.store import Store

from . import mailfactory as mf
from . import rawdb
from .bounce_mail import bounce, dsn, record_bounce, sent_to, x_failed
from .outgoing import at, bodies, by_kind, make_ctx, parsed, small_rules

HIEN, HIEN_GMAIL = "thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example"
HOA_SEN = "mnhoasen.q12@hcm-edu.example"

SENT = (SentMail(7, "<abc.reminder@pgd-q12.example>", frozenset({HIEN, HIEN_GMAIL})),
        SentMail(8, "<def.receipt@pgd-q12.example>", frozenset({HOA_SEN})))


@pytest.mark.parametrize("addresses, refs, believed, reason", [
    ([HIEN], ["<abc.reminder@pgd-q12.example>"], [True], "bounce of outbox #7"),
    ([HIEN.upper()], ["<ABC.Reminder@PGD-Q12.example>"], [True], "bounce of outbox #7"),  # case does not matter
    ([HIEN], ["abc.reminder@pgd-q12.example"], [True], "bounce of outbox #7"),           # brackets lost on the way
    ([HIEN, HOA_SEN], ["<abc.reminder@pgd-q12.example>", "<def.receipt@pgd-q12.example>"], [True, True], None),
    ([HOA_SEN], ["<abc.reminder@pgd-q12.example>"], [False], "was not sent to this address"),  # another school's mail
    ([HIEN], ["<guess.reminder@pgd-q12.example>"], [False], "names no mail the bot sent"),
    ([HIEN], [], [False], "names no mail at all"),
    ([HIEN, HIEN], ["<abc.reminder@pgd-q12.example>"], [True], None),                 # one verdict per address
])
def test_a_report_is_believed_only_for_an_address_the_mail_it_names_went_to(addresses, refs, believed, reason):
    verdicts = bounces.judge(addresses, refs, SENT)
    assert [v.believed for v in verdicts] == believed
    assert all(v.address == v.address.lower() for v in verdicts)
    if reason:
        assert reason in verdicts[0].reason
    assert all((v.outbox_id is not None) == v.believed for v in verdicts)


@pytest.mark.parametrize("message_id, path", [
    ("<0123456789abcdef01234567.reminder@pgd-q12.example>",
     "hoso-bot+b.0123456789abcdef01234567@pgd-q12.example"),
    ("<ABCDEF0123456789ABCDEF01.receipt@pgd-q12.example>",
     "hoso-bot+b.abcdef0123456789abcdef01@pgd-q12.example"),
    ("<not-ours@school.example>", "hoso-bot@pgd-q12.example"),             # no token: the plain address
    ("", "hoso-bot@pgd-q12.example"),
])
def test_each_mail_has_its_own_return_path_naming_it(message_id, path):
    assert bounces.verp_address("hoso-bot@pgd-q12.example", message_id) == path
    token = bounces.verp_token(path)
    assert (token is not None) == (path != "hoso-bot@pgd-q12.example")


@pytest.mark.parametrize("address, token", [
    ("hoso-bot+b.0123456789abcdef01234567@pgd-q12.example", "0123456789abcdef01234567"),
    ("HOSO-BOT+B.0123456789ABCDEF01234567@PGD-Q12.EXAMPLE", "0123456789abcdef01234567"),
    ("hoso-bot+b.%@pgd-q12.example", None),                                # a wildcard is no token
    ("hoso-bot+b.0123@pgd-q12.example", None),                             # too short to be ours
    ("hoso-bot+x.0123456789abcdef01234567@pgd-q12.example", None),
    ("hoso-bot@pgd-q12.example", None),
])
def test_a_return_path_token_is_read_only_from_the_form_the_bot_writes(address, token):
    assert bounces.verp_token(address) == token


def test_a_report_addressed_to_a_mails_return_path_is_believed_for_that_mails_recipients():
    sent = (SentMail(7, "<0123456789abcdef01234567.reminder@pgd-q12.example>", frozenset({HIEN})),)
    (v,) = bounces.judge([HIEN], [], sent, ["0123456789abcdef01234567"])
    assert v.believed and v.outbox_id == 7
    (v,) = bounces.judge([HOA_SEN], [], sent, ["0123456789abcdef01234567"])
    assert not v.believed


# -- through the store and a real SMTP server ----------------------------------------

@pytest.fixture
def server(smtp_server_factory):
    return smtp_server_factory()


@pytest.fixture
def ctx(tmp_path, server):
    return make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("thcs-nguyen-hien", "mn-hoa-sen", "mn-hoa-mai")))


def run(ctx, store, now, *, digest=False):
    sender = SmtpSender(ctx.config.smtp)
    notify.send_receipts(ctx, store, sender, now)
    if digest:
        return notify.digest(ctx, store, sender, now)
    return notify.remind(ctx, store, sender, now)


def reminded_on(server, day) -> set[str]:
    return {a for m in by_kind(server.messages, "reminder") if parsed(m)["Date"].datetime.date() == day
            for a in m.rcpt_tos}


def forged(store, kind: str) -> tuple[bytes, tuple[str, ...]]:
    """A report naming HOA_SEN that no mail of the bot to HOA_SEN caused: (raw, Message-IDs it names)."""
    to_hien = sent_to(store, HIEN)
    if kind == "x-failed-recipients alone":
        return mf.exim_bounce([HOA_SEN]), ()
    if kind == "dsn of a mail the bot never sent":
        return mf.postfix_bounce([HOA_SEN]), ("<20231005023200.4s1abc@mail.hcm-edu.example>",)
    if kind == "dsn with a guessed Message-ID":
        fake = b"Message-ID: <0123456789abcdef01234567.reminder@pgd-q12.example>\r\n"
        return dsn(fake + b"Subject: x\r\n\r\nx\r\n", [HOA_SEN]), ("<0123456789abcdef01234567.reminder@pgd-q12.example>",)
    if kind == "dsn returning another school's reminder":  # a school that got a reminder forges a bounce
        return dsn(store.outbox_raw(to_hien.id), [HOA_SEN]), (to_hien.message_id,)
    if kind == "x-failed-recipients naming another school's reminder":
        return x_failed([HOA_SEN], to_hien.message_id), (to_hien.message_id,)
    if kind == "a wildcard for a Message-ID":  # "%" would match every mail in a LIKE
        return x_failed([HOA_SEN], "<%>"), ("<%>", "%", "<%.reminder@pgd-q12.example>")
    if kind == "a wildcard in a return path":
        return x_failed([HOA_SEN], None, to="hoso-bot+b.%@pgd-q12.example"), ()
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["x-failed-recipients alone", "dsn of a mail the bot never sent",
                                  "dsn with a guessed Message-ID", "dsn returning another school's reminder",
                                  "x-failed-recipients naming another school's reminder",
                                  "a wildcard for a Message-ID", "a wildcard in a return path"])
def test_a_forged_bounce_changes_nothing_and_the_school_still_gets_its_reminders(ctx, server, kind, caplog):
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))                                           # before-7 to every school
        raw, refs = forged(store, kind)
        with caplog.at_level(logging.WARNING, logger="bot.notify"):
            row = record_bounce(store, at(4, 11), raw, refs)
        (verdict,) = store.bounce_verdicts(row)
        assert verdict.address == HOA_SEN and not verdict.believed
        assert suppressed_addresses(store, at(8)) == frozenset()
        run(ctx, store, at(7, 9))                                           # before-3
        run(ctx, store, at(8, 7), digest=True)
    assert f"ignored for {HOA_SEN}" in caplog.text
    assert HOA_SEN in reminded_on(server, date(2023, 10, 7))
    (digest,) = by_kind(server.messages, "digest")
    text = bodies(parsed(digest))[0]
    assert "ĐỊA CHỈ BỊ TRẢ LẠI THƯ (0)" in text and "KHÔNG LIÊN LẠC ĐƯỢC" not in text


@pytest.mark.parametrize("style", ["dsn", "x-failed"])
def test_a_real_bounce_of_a_sent_reminder_still_stops_mail_to_that_address(ctx, server, style):
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))
        reminder = sent_to(store, HOA_SEN)
        row = bounce(store, at(4, 11), HOA_SEN, style=style)               # built from the outbox row's Message-ID
        assert store.bounce_verdicts(row) == [
            BounceVerdict(HOA_SEN, True, f"bounce of outbox #{reminder.id}", reminder.id)]
        report = run(ctx, store, at(7, 9))
        run(ctx, store, at(8, 7), digest=True)
    assert ("mn-hoa-sen", "every roster address bounced") in report.skipped
    assert HOA_SEN not in reminded_on(server, date(2023, 10, 7))
    assert HIEN in reminded_on(server, date(2023, 10, 7))
    text = bodies(parsed(by_kind(server.messages, "digest")[-1]))[0]
    assert f"- {HOA_SEN} (MN Hoa Sen): 1 lần" in text and "KHÔNG LIÊN LẠC ĐƯỢC QUA THƯ ĐIỆN TỬ (1 trường)" in text


def test_a_report_is_judged_once_and_a_report_recorded_before_the_upgrade_is_judged_again(ctx, server):
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))
        raw, refs = forged(store, "x-failed-recipients alone")
        row = record_bounce(store, at(4, 11), raw, refs)
        assert sync_bounces(store) == 0                              # nothing new: not read again
        # As a state written by the previous version: its reports were counted blindly, never judged.
        rawdb.tamper(store.state_dir, "DELETE FROM bounce_verdicts")
        rawdb.tamper(store.state_dir, "DELETE FROM bounce_messages")
        assert sync_bounces(store) == 1
        assert [v.believed for v in store.bounce_verdicts(row)] == [False]
        assert suppressed_addresses(store, at(8)) == frozenset()


def test_a_bounce_for_an_address_the_allow_list_left_out_is_not_believed(ctx, server):
    with Store.open(ctx.config.paths.state) as store:
        notify.remind(ctx, store, None, at(3, 9))                            # queued
        (row,) = [r for r in store.outbox_rows(("queued",)) if r.school == "mn-hoa-sen"]
        # as if the roster had changed since it was queued
        store.replace_mail(row.id, store.outbox_raw(row.id), (HOA_SEN, "old.address@hcm-edu.example"), row.subject,
                           row.meta)
        outbox.deliver_due(store, SmtpSender(ctx.config.smtp), at(3, 9), Limits(),
                           allowed_addresses(ctx))
        sent = next(r for r in store.outbox_rows(("sent",)) if r.id == row.id)
        assert sent.recipients == (HOA_SEN,)                                 # who it really went to
        verdict_row = record_bounce(store, at(4, 11), dsn(store.outbox_raw(row.id),
                                                          ["old.address@hcm-edu.example"]), (row.message_id,))
        assert [v.believed for v in store.bounce_verdicts(verdict_row)] == [False]


def test_with_verp_a_report_quoting_nothing_is_tied_to_its_mail_by_the_return_path(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("thcs-nguyen-hien", "mn-hoa-sen", "mn-hoa-mai")),
                   verp=True)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))
        reminder = sent_to(store, HOA_SEN)
        (mail,) = [m for m in server.messages if HOA_SEN in m.rcpt_tos]
        assert mail.mail_from == bounces.verp_address("hoso-bot@pgd-q12.example", reminder.message_id)
        assert mail.mail_from != "hoso-bot@pgd-q12.example"
        assert str(parsed(mail)["From"]).endswith("<hoso-bot@pgd-q12.example>")  # what people see is unchanged
        # A report that quotes nothing (no original, no In-Reply-To), sent to the return path.
        raw = x_failed([HOA_SEN], None, to=mail.mail_from)
        row = record_bounce(store, at(4, 11), raw)
        assert store.bounce_verdicts(row) == [
            BounceVerdict(HOA_SEN, True, f"bounce of outbox #{reminder.id}", reminder.id)]
        # A report naming MN Hoa Sen sent to another school's return path proves nothing about MN Hoa Sen.
        (to_hien,) = [m for m in server.messages if HIEN in m.rcpt_tos]
        raw = x_failed([HOA_SEN], None, to=to_hien.mail_from)
        row = record_bounce(store, at(4, 12), raw)
        assert [v.believed for v in store.bounce_verdicts(row)] == [False]
