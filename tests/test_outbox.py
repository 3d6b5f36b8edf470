"""The outbox against a real SMTP server on loopback: what its replies lead to
(retries, outages, refusals), allow-list, TLS, restarts. Mail is read back
from what the server received. The rate, the caps and the backoff, which need
no server, are in tests/test_delivery.py."""
from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot import notify
from bot.errors import ConfigError
from bot.outbound import outbox
from bot.outbound.delivery import Limits
from bot.outbound.facts import allowed_addresses
from bot.send import FileSender, SmtpSender
from bot.store import Store

from . import rawdb
from .outgoing import FROM, at, bodies, make_ctx, parsed, small_rules

T0 = at(3, 9)  # Tuesday 3/10/2023, 09:00: the "7 days before" reminders are due


@pytest.fixture
def server(smtp_server_factory):
    return smtp_server_factory()  # plain SMTP on 127.0.0.1, no AUTH


@pytest.fixture
def ctx(tmp_path, server):
    return make_ctx(tmp_path, server, rules=small_rules(tmp_path))


@pytest.fixture
def store(ctx):
    with Store.open(ctx.config.paths.state) as s:
        yield s


def queue_reminders(ctx, store, now=T0) -> int:
    report = notify.remind(ctx, store, None, now)
    return report.queued


def statuses(store) -> Counter:
    return Counter(r.status for r in store.outbox_rows())


def deliver(ctx, store, now, **limits):
    lim = Limits(**{"daily_cap": ctx.config.smtp.daily_cap, "per_minute": ctx.config.smtp.per_minute, **limits})
    return outbox.deliver_due(store, SmtpSender(ctx.config.smtp), now, lim, allowed_addresses(ctx),
                              notify._recheck(ctx, store, now))


def message_ids(server) -> Counter:
    return Counter(parsed(m)["Message-ID"] for m in server.messages)


def test_queued_mail_is_sent_once_to_the_roster_with_hygiene_headers(ctx, store, server):
    assert queue_reminders(ctx, store) == 3
    report = deliver(ctx, store, T0)
    assert report.sent == 3
    assert statuses(store) == {"sent": 3}
    got = {tuple(sorted(m.rcpt_tos)): parsed(m) for m in server.messages}
    assert set(got) == {("thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example"),
                        ("hieutruong.hoamai@gmail.example", "mnhoamai.q12@hcm-edu.example"), ("thnguyendu.q12@hcm-edu.example",)}
    msg = got[("thnguyendu.q12@hcm-edu.example",)]
    assert msg["X-Bot-Kind"] == "reminder" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert msg["Message-ID"].endswith("@pgd-q12.example>")
    text, html = bodies(msg)
    assert "Kính gửi: Ban Giám hiệu Trường TH Nguyễn Du" in text
    assert "1. Tờ trình đề nghị công nhận" in text and "Biên bản họp xét, đề nghị" in html
    assert all(m.mail_from == FROM for m in server.messages)
    # nothing left: a second pass sends nothing
    assert deliver(ctx, store, T0 + timedelta(minutes=5)).sent == 0
    assert len(server.messages) == 3


def test_temporary_failures_are_retried_with_backoff(ctx, store, server):
    queue_reminders(ctx, store)
    server.fail_next(2, 451)
    report = deliver(ctx, store, T0)
    assert (report.sent, report.retrying) == (1, 2)
    waiting = store.outbox_rows(("queued",))
    assert {r.attempts for r in waiting} == {1}
    assert {r.next_attempt_at for r in waiting} == {T0 + timedelta(minutes=1)}
    assert all("451" in r.last_error for r in waiting)
    assert deliver(ctx, store, T0 + timedelta(seconds=30)).sent == 0   # not due yet
    assert deliver(ctx, store, T0 + timedelta(minutes=1)).sent == 2
    assert sorted(message_ids(server).values()) == [1, 1, 1]


def test_an_smtp_server_down_for_an_hour_delays_mail_without_losing_or_duplicating_any(ctx, store, server):
    queue_reminders(ctx, store)
    server.refuse_all(421)          # first half hour: the server answers but refuses
    first_sent = None
    for minute in range(0, 181):
        now = T0 + timedelta(minutes=minute)
        if minute == 30:
            server.stop()           # second half hour: nobody listens at all
        if minute == 60:
            server.start()
            server.accept_all()
        deliver(ctx, store, now)
        if minute < 60:
            assert server.messages == [], minute
            assert statuses(store) == {"queued": 3}
        elif first_sent is None and server.messages:
            first_sent = minute
        # the backoff never exceeds an hour, and nothing is given up
        assert all(r.next_attempt_at - now <= timedelta(minutes=60) for r in store.outbox_rows(("queued",)))
    assert statuses(store) == {"sent": 3}
    assert sorted(message_ids(server).values()) == [1, 1, 1]
    assert 60 <= first_sent <= 125
    # the outage cost one attempt per retry on one mail at a time, not on all three
    assert max(r.attempts for r in store.outbox_rows()) <= 8


def test_permanent_refusal_fails_after_three_attempts_and_can_be_retried(ctx, store, server):
    queue_reminders(ctx, store)
    server.refuse_all(550, stage="RCPT")
    now = T0
    for _ in range(3):
        deliver(ctx, store, now)
        now += timedelta(minutes=10)
    assert statuses(store) == {"failed": 3}
    failed = store.outbox_rows(("failed",))
    assert all(r.attempts == 3 and "550" in r.last_error for r in failed)
    assert deliver(ctx, store, now + timedelta(days=1)).sent == 0        # failed mail stays failed
    server.accept_all()
    assert outbox.retry(store, now) == 3
    assert deliver(ctx, store, now).sent == 3
    assert sorted(message_ids(server).values()) == [1, 1, 1]


def test_no_mail_to_an_address_outside_the_roster_and_coordinators(ctx, store, server):
    queue_reminders(ctx, store)
    # recipients changed behind the bot's back (as by someone with access to the state disk)
    rows = store.outbox_rows(newest_first=False)
    rawdb.tamper(store.state_dir, "UPDATE outbox SET recipients = ? WHERE id = ?",
                 (json.dumps(["thnguyendu.q12@hcm-edu.example", "attacker@example.org"]), rows[0].id))
    rawdb.tamper(store.state_dir, "UPDATE outbox SET recipients = ? WHERE id = ?",
                 (json.dumps(["attacker@example.org"]), rows[1].id))
    # the roster did not change for rows[0]'s school check: use the digest-free path (no recheck)
    report = outbox.deliver_due(store, SmtpSender(ctx.config.smtp), T0, Limits(), allowed_addresses(ctx))
    assert report.cancelled == 1 and report.sent == 2
    everyone = [a for m in server.messages for a in m.rcpt_tos]
    assert "attacker@example.org" not in everyone
    tos = [str(parsed(m)["To"]) for m in server.messages]
    assert not any("attacker" in t for t in tos)
    cancelled = store.outbox_rows(("cancelled",))
    assert "attacker@example.org" in cancelled[0].last_error


def test_a_crash_between_queueing_and_sending_loses_nothing(ctx, server, tmp_path):
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
    # "restart": new store, new sender; the decision is not taken again
    with Store.open(ctx.config.paths.state) as store:
        assert queue_reminders(ctx, store, T0 + timedelta(minutes=30)) == 0
        assert deliver(ctx, store, T0 + timedelta(minutes=30)).sent == 3
    with Store.open(ctx.config.paths.state) as store:
        assert queue_reminders(ctx, store, T0 + timedelta(hours=1)) == 0
        assert deliver(ctx, store, T0 + timedelta(hours=1)).sent == 0
    assert sorted(message_ids(server).values()) == [1, 1, 1]


def test_the_one_window_a_crash_after_acceptance_resends_with_the_same_message_id(ctx, store, server, monkeypatch):
    queue_reminders(ctx, store)
    real_finish = store.finish_mail

    def crash(row_id, status, *a, **kw):
        if status == "sent":
            raise KeyboardInterrupt("power cut")
        return real_finish(row_id, status, *a, **kw)

    monkeypatch.setattr(store, "finish_mail", crash)
    with pytest.raises(KeyboardInterrupt):
        deliver(ctx, store, T0)
    monkeypatch.undo()
    deliver(ctx, store, T0 + timedelta(minutes=1))
    counts = message_ids(server)
    assert len(counts) == 3 and sorted(counts.values()) == [1, 1, 2]   # one duplicate, same Message-ID


def test_a_queued_reminder_is_cancelled_if_the_school_sent_everything_meanwhile(ctx, store, server):
    from .outgoing import record
    queue_reminders(ctx, store)
    server.refuse_all(451)
    deliver(ctx, store, T0)
    record(store, T0 + timedelta(minutes=2), sender="thnguyendu.q12@hcm-edu.example",
           files=[("ho-so.pdf", "th-nguyen-du", ("to_trinh", "bao_cao", "bien_ban"), "counted")])
    server.accept_all()
    report = deliver(ctx, store, T0 + timedelta(minutes=10))
    assert report.cancelled == 1 and report.sent == 2
    assert all("thnguyendu.q12@hcm-edu.example" not in m.rcpt_tos for m in server.messages)
    (row,) = store.outbox_rows(("cancelled",))
    assert row.school == "th-nguyen-du" and row.last_error == "complete"


def test_a_queued_reminder_held_by_an_outage_waits_for_office_hours_and_lists_what_is_still_missing(ctx, store, server):
    from .outgoing import record
    queue_reminders(ctx, store)
    server.refuse_all(451)
    deliver(ctx, store, T0)
    record(store, T0 + timedelta(hours=1), sender="thnguyendu.q12@hcm-edu.example",
           files=[("to-trinh.pdf", "th-nguyen-du", ("to_trinh",), "counted")])
    server.accept_all()
    evening = at(3, 18)
    report = deliver(ctx, store, evening)
    assert report.deferred == 3 and server.messages == []
    assert {r.next_attempt_at for r in store.outbox_rows(("queued",))} == {at(4, 7, 30)}
    assert deliver(ctx, store, at(4, 7, 30)).sent == 3
    (msg,) = [parsed(m) for m in server.messages if m.rcpt_tos == ("thnguyendu.q12@hcm-edu.example",)]
    text, _ = bodies(msg)
    missing = text.split("Hồ sơ Phòng đã nhận:")[0]
    assert "Tờ trình đề nghị công nhận" not in missing and "Báo cáo kết quả xây dựng đơn vị điển hình" in missing


def test_a_queued_receipt_is_held_while_its_address_sends_a_burst_and_sent_after_the_cool_down(ctx, store, server):
    from .outgoing import record
    du = "thnguyendu.q12@hcm-edu.example"
    server.refuse_all(421)                                   # SMTP down: the receipt waits in the outbox
    record(store, T0, sender=du, files=[("to-trinh.pdf", "th-nguyen-du", ("to_trinh",), "counted")])
    notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), T0 + timedelta(minutes=15))
    for k in range(12):                                      # meanwhile an auto-responder loop: 12 replies in 11 min
        auto = (f"From: {du}\r\nTo: {FROM}\r\nSubject: Auto: Re: Biên nhận\r\nAuto-Submitted: auto-replied\r\n"
                f"Message-ID: <loop-{k}@hcm-edu.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                "Tôi đang nghỉ phép.\r\n").encode("utf-8")
        record(store, at(3, 10, k), sender=du, raw=auto)
    server.accept_all()
    during = notify.deliver(ctx, store, SmtpSender(ctx.config.smtp), at(3, 10, 20))
    assert during.deferred == 1 and server.messages == []
    (row,) = store.outbox_rows(("queued",))
    assert row.next_attempt_at == at(3, 11, 11) and "burst" in row.last_error  # 60 min after the loop's last mail
    notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(3, 11, 10))
    assert server.messages == []                             # still in the cool-down
    notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(3, 11, 11))
    (receipt,) = server.messages
    assert receipt.rcpt_tos == (du,) and parsed(receipt)["X-Bot-Kind"] == "receipt"
    assert "to-trinh.pdf" in bodies(parsed(receipt))[0]
    assert statuses(store) == Counter({"sent": 1})


def test_starttls_with_auth_verifies_the_certificate(tmp_path, smtp_server_factory, monkeypatch):
    server = smtp_server_factory(auth=("bot", "mật-khẩu"), require_starttls=True)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "mật-khẩu")
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("th-nguyen-du",)), security="starttls",
                   username="bot", password_env="TEST_SMTP_PASSWORD", tls_cafile=str(server.cafile))
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        assert deliver(ctx, store, T0).sent == 1
    (m,) = server.messages
    assert m.tls and m.auth_user == "bot"


def test_implicit_tls(tmp_path, smtp_server_factory):
    server = smtp_server_factory(implicit_tls=True)
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("th-nguyen-du",)), security="ssl",
                   tls_cafile=str(server.cafile))
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        assert deliver(ctx, store, T0).sent == 1
    assert server.messages[0].tls


def test_an_untrusted_certificate_keeps_the_mail_queued(tmp_path, smtp_server_factory):
    server = smtp_server_factory(require_starttls=True)
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("th-nguyen-du",)), security="starttls")
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        report = deliver(ctx, store, T0)
        assert report.sent == 0 and report.retrying == 1
        (row,) = store.outbox_rows(("queued",))
        assert "TLS" in row.last_error or "certificate" in row.last_error
    assert server.messages == []


def test_a_wrong_password_keeps_the_mail_queued(tmp_path, smtp_server_factory, monkeypatch):
    server = smtp_server_factory(auth=("bot", "right"))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("th-nguyen-du",)), username="bot",
                   password_env="TEST_SMTP_PASSWORD")
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        report = deliver(ctx, store, T0)
        assert report.retrying == 1 and "refused the login" in report.errors[0]
        assert statuses(store) == {"queued": 1}


@pytest.mark.parametrize("token, delivered", [("ya29.right-token", True), ("ya29.expired", False)])
def test_xoauth2_login_with_a_token_from_a_file(tmp_path, smtp_server_factory, token, delivered):
    # Gmail and Microsoft 365 want an OAuth access token, not a password.
    server = smtp_server_factory(auth=("hoso@pgd-q12.example", "ya29.right-token"))
    (tmp_path / "token").write_text(token + "\n")
    (tmp_path / "token").chmod(0o600)
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("th-nguyen-du",)), auth="xoauth2",
                   username="hoso@pgd-q12.example", token_file=str(tmp_path / "token"))
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        report = deliver(ctx, store, T0)
        assert (report.sent, len(server.messages)) == ((1, 1) if delivered else (0, 0))
        if not delivered:
            assert "refused the login of 'hoso@pgd-q12.example'" in report.errors[0]
            assert statuses(store) == {"queued": 1}  # kept, retried once the token is renewed


def test_xoauth2_needs_the_account_name(tmp_path):
    no_server_needed = SimpleNamespace(port=2525)  # the config is refused before any connection
    with pytest.raises(ConfigError, match=r"smtp\.auth: xoauth2 needs smtp\.username"):
        make_ctx(tmp_path, no_server_needed, auth="xoauth2", token_file="t")


def test_without_smtp_mail_goes_to_state_outbox_as_eml_and_html(tmp_path, caplog):
    ctx = make_ctx(tmp_path, rules=small_rules(tmp_path, ("th-nguyen-du",)))
    outdir = ctx.config.paths.state / "outbox"
    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        with caplog.at_level("INFO", logger="bot.outbox"):
            report = outbox.deliver_due(store, FileSender(outdir), T0, Limits(), allowed_addresses(ctx))
        assert report.sent == 1
        # the log must not make the person trying the demo think schools were mailed
        assert "written to state/outbox/ (SMTP is off)" in caplog.text and " sent to " not in caplog.text
        # sending again (e.g. after a crash before 'sent' was recorded) overwrites, never duplicates
        rawdb.tamper(store.state_dir, "UPDATE outbox SET status = 'queued'")
        outbox.deliver_due(store, FileSender(outdir), T0, Limits(), allowed_addresses(ctx))
    assert sorted(p.name for p in outdir.iterdir()) == ["000001-reminder-th-nguyen-du.eml",
                                                      "000001-reminder-th-nguyen-du.html"]
    html = (outdir / "000001-reminder-th-nguyen-du.html").read_text(encoding="utf-8")
    assert "Kính gửi:" in html and "Tờ trình đề nghị công nhận" in html
    import email
    from email import policy
    msg = email.message_from_bytes((outdir / "000001-reminder-th-nguyen-du.eml").read_bytes(), policy=policy.default)
    assert msg["X-Bot-Kind"] == "reminder"


def test_deliver_with_a_real_clock_waits_out_the_rate_instead_of_leaving_mail(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path), per_minute=2)
    clock = [T0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    with Store.open(ctx.config.paths.state) as store:
        queue_reminders(ctx, store)
        report = notify.deliver(ctx, store, SmtpSender(ctx.config.smtp), T0, clock=lambda: clock[0], sleep=sleep)
    assert report.sent == 3 and report.waiting == 0
    assert len(server.messages) == 3 and sum(slept) >= 30


def test_worker_tasks_open_the_store_and_report(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server, rules=small_rules(tmp_path))
    tasks = notify.tasks(ctx)
    assert set(tasks) == {"outbox", "remind", "digest"}
    assert "3 queued" in tasks["remind"](T0).summary()
    assert "1 queued" in tasks["digest"](T0).summary()
    assert "0 queued" in tasks["outbox"](T0).summary()
    assert len(server.messages) == 4
