"""The worker's pure parts: backoff, once-per-error logging, health, progress, the systemd unit."""
from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.errors import AuthenticationError, MailboxError
from bot.lock import StateLock
from bot.progress import ProgressReporter
from bot.service import Backoff, Worker, build_scheduler

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2023, 10, 5, 8, tzinfo=timezone.utc)


class StepClock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now


def test_backoff_doubles_up_to_a_cap_and_resets():
    b = Backoff(base=30, cap=120)
    assert [b.failed(T0, "x")[1] for _ in range(4)] == [30, 60, 120, 120]
    assert not b.ready(T0) and b.ready(T0 + timedelta(seconds=120))
    assert b.succeeded() and b.ready(T0)
    assert not b.succeeded()


def test_a_repeated_failure_is_logged_once_and_recovery_is_logged(caplog):
    clock = StepClock(T0)
    outcomes = [MailboxError("connection refused")] * 3 + [None]

    def job(now):
        outcome = outcomes.pop(0)
        if outcome:
            raise outcome

    worker = Worker(ctx=None, clock=clock, poll=None)
    with caplog.at_level(logging.INFO, logger="bot.service"):
        for _ in range(4):
            worker.run_job("poll", job)
            clock.now += timedelta(hours=1)  # past any backoff
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1 and "connection refused" in failures[0].getMessage()
    assert any("working again" in r.getMessage() for r in caplog.records)


def test_a_poll_that_speaks_tls_to_a_plain_port_says_so_in_the_journal(caplog, tmp_path):
    import ssl

    from .configs import write_config

    cfg = write_config(tmp_path, 'source = "imap"\nhost = "mail.pgd-q12.example"\nport = 143\nsecurity = "ssl"\n'
                                 'username = "hoso"\npassword_env = "BOT_IMAP_PASSWORD"')
    from bot import app

    ctx = app.load(cfg)
    wrong = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")

    def job(now):
        raise MailboxError("cannot connect to IMAP server mail.pgd-q12.example:143 (ssl): "
                           "[SSL: WRONG_VERSION_NUMBER] wrong version number") from wrong

    worker = Worker(ctx=ctx, clock=StepClock(T0), poll=None)
    with caplog.at_level(logging.INFO, logger="bot.service"):
        worker.run_job("poll", job)
    (record,) = [r.getMessage() for r in caplog.records]
    assert record.startswith('poll failed: port 143 speaks plain IMAP, not TLS: use security = "starttls" or port '
                             '993'), record
    assert "WRONG_VERSION_NUMBER" not in record


def test_job_is_not_retried_before_its_backoff_expires():
    clock, calls = StepClock(T0), []

    def job(now):
        calls.append(now)
        raise MailboxError("down")

    worker = Worker(ctx=None, clock=clock, poll=None)
    worker.run_job("poll", job)
    clock.now += timedelta(seconds=10)
    worker.run_job("poll", job)
    assert len(calls) == 1


def test_wrong_password_is_retried_slowly(caplog):
    clock, calls = StepClock(T0), []

    def job(now):
        calls.append(now)
        raise AuthenticationError("refused the login")

    worker = Worker(ctx=None, clock=clock, poll=None)
    with caplog.at_level(logging.ERROR, logger="bot.service"):
        for _ in range(12):  # two hours in 10-minute steps
            worker.run_job("poll", job)
            clock.now += timedelta(minutes=10)
    assert len(calls) <= 5
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


def test_progress_in_a_terminal_shows_counts_rate_and_estimate():
    assert ProgressReporter.describe("process", 100, 400, 10.0) == (
        "process 100/400 [#####...............] 10.0 msg/s, about 30 s left")
    ticks = iter([0.0, 4.0, 5.0])  # created, then two updates
    out = io.StringIO()
    p = ProgressReporter(out, interactive=True, monotonic=lambda: next(ticks))
    p("process", 0, 10)  # nothing done yet: nothing drawn (and no clock read)
    p("process", 4, 10)
    p("process", 5, 10)
    assert out.getvalue().count("\r") == 2 and "5/10" in out.getvalue()


def test_progress_outside_a_terminal_logs_plain_lines_now_and_then(caplog):
    ticks = iter([0.0, 1.0, 2.0, 3.0, 12.0])
    p = ProgressReporter(io.StringIO(), interactive=False, monotonic=lambda: next(ticks))
    with caplog.at_level(logging.INFO, logger="bot.progress"):
        for done in (1, 2, 3, 4):
            p("process", done, 100)
    assert [r.getMessage().split(" [")[0] for r in caplog.records] == ["process 1/100", "process 4/100"]


def test_progress_is_silent_without_news_and_counts_its_rate_from_the_start_of_the_job(caplog):
    ticks = iter([0.0, 100.0, 110.0, 120.0])  # created; a poll begins at 100 s; updates at 110 s and 120 s
    p = ProgressReporter(io.StringIO(), interactive=False, monotonic=lambda: next(ticks))
    with caplog.at_level(logging.INFO, logger="bot.progress"):
        p.begin()
        p("fetch", 0, None)  # an idle poll: 0 new messages, not a word
        assert caplog.records == []
        p("fetch", 20, None)  # the first update comes after 10 s of fetching: 2 msg/s, not 0.0
        p.begin()  # the next poll starts at 120 s: its own rate, its own first line
        p("fetch", 0, None)
    assert [r.getMessage() for r in caplog.records] == ["fetch 20 new message(s), 2.0 msg/s"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    text = (ROOT / "systemd" / "hoso-bot.service").read_text()
    for directive in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/hoso-bot",
                      "PrivateTmp=yes", "ProtectHome=yes", "Restart=on-failure",
                      "EnvironmentFile=/etc/hoso-bot/hoso-bot.env", "User=hoso-bot", "MemoryMax=3G",
                      "ExecStart=/opt/hoso-bot/.venv/bin/hoso-bot --config /etc/hoso-bot/config.toml run"):
        assert directive in text
    # a wrong config (2) or state directory (78, EX_CONFIG) is not restarted every 30 s
    (prevent,) = [line for line in text.splitlines() if line.startswith("RestartPreventExitStatus=")]
    assert set(prevent.split("=")[1].split()) == {"2", "78"}
    # systemd-analyze checks that the programs exist: point them at this checkout
    unit = tmp_path / "hoso-bot.service"
    hoso_bot = tmp_path / "hoso-bot"  # stands for the venv's installed command
    hoso_bot.write_text("#!/bin/sh\n")
    hoso_bot.chmod(0o755)
    unit.write_text(text.replace("/opt/hoso-bot/.venv/bin/hoso-bot", str(hoso_bot)).replace("/opt/hoso-bot", str(ROOT)))
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Unknown" not in out.stderr and "hoso-bot.service" not in out.stderr


def _cli(*argv) -> tuple[int, str, str]:
    import contextlib

    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def test_health_stays_red_until_the_quarantined_message_is_dismissed_on_the_command_line(tmp_path):
    from bot.store import Store

    from .configs import write_config
    from .outgoing import quarantine

    (tmp_path / "inbox").mkdir()
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"')
    now = "2023-10-05T09:00:00+07:00"
    with Store.open(tmp_path / "state") as store:
        ref = quarantine(store, datetime.fromisoformat(now))
        store.set_mark("poll", datetime.fromisoformat(now), "0 new")

    code, out, _ = _cli("--config", cfg, "--now", now, "health")
    (problem,) = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert code == 1 and f"quarantined {ref} <poison-" in problem
    assert f"dismiss {ref} --why" in out  # the hint names the command

    code, _, err = _cli("--config", cfg, "--now", now, "dismiss", "Q999", "--why", "x")
    assert code == 2 and "no message Q999" in err and "hint:" in err
    code, out, _ = _cli("--config", cfg, "--now", now, "dismiss", ref, "--who", "mai",
                        "--why", "đã gọi điện, trường nộp bản giấy")
    assert code == 0 and f"{ref} (<poison-" in out and "dismissed" in out

    code, out, _ = _cli("--config", cfg, "--now", now, "health")
    assert code == 0 and "PROBLEM" not in out
    assert "0 quarantined, 1 dismissed" in out
    with Store.open(tmp_path / "state") as store:
        (q,) = store.quarantined(include_dismissed=True)
    assert (q["dismissed_by"], q["dismissed_why"], q["dismissed_via"]) == ("mai", "đã gọi điện, trường nộp bản giấy", "cli")

    code, _, err = _cli("--config", cfg, "--now", now, "dismiss", ref, "--why", "again")
    assert code == 2 and "already dismissed by mai" in err
    with pytest.raises(SystemExit):  # --why is required, as for every correction
        _cli("--config", cfg, "--now", now, "dismiss", ref)


# -- the digest after a restart or a sleep ------------------------------------------


def _digests(state: Path) -> list[datetime]:
    from bot.store import Store

    with Store.open(state) as store:
        return sorted(r.created_at for r in store.outbox_rows() if r.kind == "digest")


def test_a_worker_started_after_digest_time_sends_that_days_digest_once_and_the_next_on_time(tmp_path):
    from bot import notify

    from .outgoing import VN, at, make_ctx

    ctx = make_ctx(tmp_path)  # digest_at 07:00; no SMTP: mail is written to state/outbox/
    clock = StepClock(at(5, 7, 20))  # the worker starts 20 minutes late
    worker = Worker(ctx=ctx, clock=clock, poll=None, tasks=notify.tasks(ctx))
    digest = worker.job("digest")  # what the scheduler runs
    digest()  # at start-up
    digest()  # twice at the same moment: still one
    assert _digests(tmp_path / "state") == [at(5, 7, 20)]
    while clock.now < at(7, 7, 0):  # then every ten minutes for two days (07:20 + 10 min steps hit 07:00)
        clock.now += timedelta(minutes=10)
        digest()
    assert [d.astimezone(VN) for d in _digests(tmp_path / "state")] == [at(5, 7, 20), at(6, 7, 0), at(7, 7, 0)]


def test_the_digest_job_runs_at_start_up_and_every_ten_minutes_besides_digest_at(tmp_path):
    from .outgoing import VN, at, make_ctx

    ctx = make_ctx(tmp_path)
    start = at(5, 7, 20)
    worker = Worker(ctx=ctx, clock=StepClock(start), poll=None, tasks={"digest": lambda now: None})
    job = build_scheduler(worker, ctx.config, start).get_job("digest")
    assert job.next_run_time == start
    fire, times = start, []
    for _ in range(3):
        fire = job.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        times.append(fire.astimezone(VN))
    assert times[0] - start <= timedelta(minutes=10)
    assert all(b - a <= timedelta(minutes=10) for a, b in zip(times, times[1:]))
    day = at(5, 6, 55)  # and on the minute at digest_at, not up to ten minutes late
    assert job.trigger.get_next_fire_time(day, day).astimezone(VN) <= at(5, 7, 0)


def test_a_worker_started_before_digest_time_waits_for_it(tmp_path):
    from bot import notify

    from .outgoing import at, make_ctx

    ctx = make_ctx(tmp_path)
    clock = StepClock(at(5, 6, 0))
    worker = Worker(ctx=ctx, clock=clock, poll=None, tasks=notify.tasks(ctx))
    while clock.now < at(5, 6, 59):
        worker.job("digest")()
        clock.now += timedelta(minutes=10)
    assert _digests(tmp_path / "state") == []
    clock.now = at(5, 7, 0)
    worker.job("digest")()
    assert _digests(tmp_path / "state") == [at(5, 7, 0)]


# -- quiet logs ------------------------------------------------------------------


def test_an_idle_job_logs_nothing_and_a_busy_one_logs_its_summary(tmp_path, caplog):
    from bot import notify

    from .outgoing import at, make_ctx

    ctx = make_ctx(tmp_path)
    clock = StepClock(at(5, 7, 20))
    worker = Worker(ctx=ctx, clock=clock, poll=None, tasks=notify.tasks(ctx))
    with caplog.at_level(logging.INFO, logger="bot.service"):
        for _ in range(3):  # three idle outbox minutes
            worker.job("outbox")()
            clock.now += timedelta(minutes=1)
        assert [r.getMessage() for r in caplog.records if r.name == "bot.service"] == []
        worker.job("digest")()
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.service"]
    assert line.startswith("digest: 1 queued") and "1 sent" in line


def test_a_news_while_polling_polls_again_after_instead_of_scheduling_a_second_instance():
    calls = []
    worker = Worker(ctx=None, clock=StepClock(T0), poll=None)

    def poll(now, should_stop):
        calls.append(now)
        if len(calls) == 1:
            assert worker.wake_poll(0.0) is False  # IDLE heard news while this poll runs
    worker.poll = poll
    assert worker.wake_poll(0.0) is True  # idle: the caller schedules a poll
    worker.poll_job()
    assert len(calls) == 2  # the news was polled for right after, within the same job
    assert worker.wake_poll(0.0) is True


@pytest.mark.parametrize("polling, queued, waited, lost", [
    (False, 0, 14.0, None),   # a poll is being scheduled: give it time
    (False, 0, 15.0, 15.0),   # no poll started 15 s after the news: the wake-up was lost
    (True, 0, 600.0, None),   # a long poll runs: it polls again when it ends
    (False, 1, 100.0, None),  # a poll waits behind a long job (reminders being sent)
    (False, 1, 120.0, 120.0), # ... but not for ever
])
def test_news_that_no_poll_answers_is_noticed(polling, queued, waited, lost):
    seen = []

    def news_arrives(now=None, should_stop=None):
        if not seen:  # once: news during a poll makes the job poll again
            worker.wake_poll(100.0)
            seen.append(worker.news_unpolled(100.0 + waited))

    worker = Worker(ctx=None, clock=StepClock(T0), poll=news_arrives)
    for _ in range(queued):
        worker.poll_submitted()
    if polling:
        worker.poll_submitted()
        worker.poll_job()
    else:
        news_arrives()
    assert seen == [lost]


def test_a_poll_answers_the_news_and_one_that_crashed_leaves_it_pending():
    worker = Worker(ctx=None, clock=StepClock(T0), poll=lambda now, should_stop: None)
    assert worker.wake_poll(0.0) is True
    worker.poll_submitted()
    worker.poll_job()
    assert worker.news_unpolled(60.0) is None  # the poll started after the news: answered

    def crash(now, should_stop):
        assert worker.wake_poll(1.0) is False  # news while polling: "poll again when done"
        raise RuntimeError("a bug")
    worker.poll = crash
    worker.poll_submitted()
    with pytest.raises(RuntimeError):
        worker.poll_job()
    assert worker.news_unpolled(16.0) == 15.0  # not lost: the IDLE thread's check polls for it
    worker.rearm(16.0)
    assert worker.news_unpolled(30.0) is None and worker.wake_poll(30.0) is True


# -- health through the command line ---------------------------------------------


def _health_setup(tmp_path):
    from .configs import write_config

    (tmp_path / "inbox").mkdir(exist_ok=True)
    return write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"')


def _queue_mail(store, when, key, *, status="queued", error=None, next_attempt=None, cycle=2023):
    from bot.mailkey import RECEIPT, MailKey
    from bot.store import QueuedMail

    with store.transaction():
        row = store.queue_mail(QueuedMail(key=MailKey(RECEIPT, cycle, "x", ref=key), kind="receipt", cycle=cycle,
                                          from_addr="a@b.c", recipients=("x@y.z",), subject="s",
                                          message_id=f"<{key}@b.c>", raw=b"x", school=None, meta={}), when)
        store.schedule_retry(row, 0, next_attempt or when, error)
        if status != "queued":
            store.finish_mail(row, status, error, when)


def test_health_fails_on_mail_that_failed_or_is_stuck_and_on_a_missing_digest(tmp_path):
    from bot.store import Store

    cfg = _health_setup(tmp_path)
    now = datetime.fromisoformat("2023-10-05T09:00:00+07:00")
    with Store.open(tmp_path / "state") as store:
        store.set_mark("poll", now, "0 new")
        store.set_mark("worker", now - timedelta(days=3), "pid 4242")
        store.set_mark("digest", now - timedelta(hours=2), "{}")
    with StateLock(tmp_path / "state", "run"):  # this test process plays the running worker
        code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 0 and "PROBLEM" not in out, out
    assert f"worker: running, pid {os.getpid()} (run), started 2023-10-02 09:00" in out
    lock = StateLock(tmp_path / "state", "run")
    lock.__enter__()  # held for the rest of the test (released at the end)

    with Store.open(tmp_path / "state") as store:
        _queue_mail(store, now - timedelta(days=400), "old-cycle", status="failed", error="550 old", cycle=2022)
        _queue_mail(store, now - timedelta(hours=3), "r1", status="failed", error="550 5.1.1 no such user")
        _queue_mail(store, now - timedelta(hours=2), "r2", status="failed",
                    error="554 5.7.1 rejected:\n  " + "policy " * 60)
        _queue_mail(store, now - timedelta(minutes=30), "due-soon")  # 30 min overdue: the outbox job may be busy
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    (problem,) = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert code == 1
    assert "2 outgoing mail(s) of cycle 2023 failed" in problem and "554 5.7.1 rejected: policy" in problem
    assert len(problem) < 300 and "550 old" not in problem

    with Store.open(tmp_path / "state") as store:
        _queue_mail(store, now - timedelta(hours=3), "stuck")
        store.set_mark("digest", now - timedelta(hours=27), "{}")
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert code == 1 and len(problems) == 3, out
    assert any("1 queued mail(s) overdue, the oldest by 3 h 0 min" in p for p in problems)
    assert any("the last digest is 27 h 0 min old" in p for p in problems)
    lock.__exit__(None, None, None)


def test_health_fails_when_the_worker_that_was_started_is_not_running(tmp_path):
    from bot.store import Store

    cfg = _health_setup(tmp_path)
    now = datetime.fromisoformat("2023-10-05T09:00:00+07:00")
    with Store.open(tmp_path / "state") as store:
        store.set_mark("poll", now, "0 new")
        store.set_mark("digest", now - timedelta(hours=2), "{}")
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 0 and "worker" not in out, out  # never started here: polled by hand, nobody promised a worker
    with Store.open(tmp_path / "state") as store:
        store.set_mark("worker", now - timedelta(hours=1), "pid 4242")
    (tmp_path / "state" / "worker.lock").write_text("pid 4242 (run)\n")  # what a SIGKILLed worker leaves
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 1, out
    assert "PROBLEM: the worker is not running (did not stop cleanly (killed or crashed))" in out
    with StateLock(tmp_path / "state", "poll"):  # a one-shot poll is not the worker
        code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 1 and "worker NOT running" in out
    with Store.open(tmp_path / "state") as store:
        store.set_mark("worker-stopped", now - timedelta(minutes=5), "pid 4242")
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 1 and "the worker is not running (stopped cleanly at 2023-10-05 08:55)" in out


@pytest.mark.parametrize("state_kind", ["file", "missing"])
def test_health_says_plainly_when_the_state_directory_is_unusable(tmp_path, state_kind):
    cfg = _health_setup(tmp_path)
    if state_kind == "file":
        (tmp_path / "state").write_text("not a directory")
    code, out, err = _cli("--config", cfg, "health")
    assert code == 1 and "Traceback" not in out + err
    assert out.startswith(f"PROBLEM: the state directory {tmp_path / 'state'} ")
    assert ("is not a directory" if state_kind == "file" else "does not exist") in out


def test_health_wants_a_digest_a_day_after_the_worker_started_and_shows_config_warnings(tmp_path):
    from bot.store import Store

    cfg = _health_setup(tmp_path)
    text = cfg.read_text().replace('[coordinator]\n', '[coordinator]\nallow_unauthenticated_commands = true\n')
    cfg.write_text(text)
    started = datetime.fromisoformat("2023-10-04T08:00:00+07:00")
    now = started + timedelta(days=3)
    with Store.open(tmp_path / "state") as store:
        store.set_mark("poll", now, "0 new")
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 0, out  # only ever polled by hand: nobody promised a digest
    with Store.open(tmp_path / "state") as store:
        store.set_mark("worker", started, "pid 4242")
    for hours, failing in ((25, False), (27, True)):
        now = started + timedelta(hours=hours)
        with Store.open(tmp_path / "state") as store:
            store.set_mark("poll", now, "0 new")
        with StateLock(tmp_path / "state", "run"):  # the worker runs
            code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
        assert (code == 1) is failing, out
        assert ("PROBLEM: no digest yet, although the worker started 27 h 0 min ago" in out) is failing
        warnings = [line for line in out.splitlines() if line.startswith("warning:")]
        assert any("coordinator.allow_unauthenticated_commands is ON: commands" in w for w in warnings), out


def test_poll_logs_the_config_warnings_when_it_starts_and_says_nothing_of_an_idle_fetch(tmp_path, caplog):
    cfg = _health_setup(tmp_path)
    cfg.write_text(cfg.read_text().replace('[coordinator]\n', '[coordinator]\nallow_unauthenticated_commands = true\n'))
    with caplog.at_level(logging.INFO):
        code, out, _ = _cli("--config", cfg, "--now", "2023-10-05T09:00", "poll")
        assert code == 0 and "0 new message(s)" in out
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "bot"]
        assert any("config: coordinator.allow_unauthenticated_commands is ON" in r.getMessage() for r in warnings)
        assert not [r for r in caplog.records if r.name == "bot.progress"]  # nothing fetched, nothing to say


def test_news_while_a_poll_waits_in_the_executor_schedules_nothing_more():
    calls = []
    worker = Worker(ctx=None, clock=StepClock(T0), poll=lambda now, should_stop: calls.append(now))
    worker.poll_submitted()  # the start-up poll waits behind the digest job in the one worker thread
    assert worker.wake_poll(0.0) is False  # it will see the news: scheduling another would be skipped with a warning
    worker.poll_job()
    assert len(calls) == 1 and worker.wake_poll(0.0) is True


def test_health_warns_of_a_mail_loop_while_it_lasts_and_still_exits_0(tmp_path):
    from bot.store import Store

    from .outgoing import record

    cfg = _health_setup(tmp_path)
    start = datetime.fromisoformat("2023-10-05T09:00:00+07:00")
    loop = "autoreply@example.com"
    with Store.open(tmp_path / "state") as store:
        for k in range(12):  # an auto-responder answering the bot: 12 mails in 11 minutes
            record(store, start + timedelta(minutes=k), sender=loop, subject="Auto: Re: Biên nhận")
        record(store, start, sender="thcsnguyenhien.q12@hcm-edu.example")  # one mail: not a burst
        store.set_mark("poll", start + timedelta(minutes=20), "13 new")
    now = start + timedelta(minutes=20)
    code, out, _ = _cli("--config", cfg, "--now", now.isoformat(), "health")
    assert code == 0 and "PROBLEM" not in out, out
    (warning,) = [line for line in out.splitlines() if "mail loop" in line]
    assert warning == (f"warning: mail loop or flood from {loop}: 12 message(s) in 11 min (2023-10-05 09:00-09:11); "
                       "no receipts or command replies to it until 2023-10-05 10:11")

    later = start + timedelta(minutes=72)  # the cool-down is over: nothing to say
    with Store.open(tmp_path / "state") as store:
        store.set_mark("poll", later, "0 new")
    code, out, _ = _cli("--config", cfg, "--now", later.isoformat(), "health")
    assert code == 0 and "mail loop" not in out, out


def test_reading_commands_work_while_the_worker_runs_and_sending_ones_say_stop_it_first(tmp_path):
    from bot.store import Store

    cfg = _health_setup(tmp_path)
    now = "2023-10-05T09:00:00+07:00"
    with Store.open(tmp_path / "state") as store:
        store.set_mark("poll", datetime.fromisoformat(now), "0 new")
    with StateLock(tmp_path / "state", "run"):  # this test process plays the running worker
        for command in (["status"], ["export"], ["outbox"], ["digest", "--dry-run"], ["remind", "--dry-run"],
                        ["health"]):
            code, out, err = _cli("--config", cfg, "--now", now, *command)
            assert code == 0, (command, out, err)
        for command in (["poll"], ["remind"], ["digest"], ["outbox", "--retry"]):
            code, out, err = _cli("--config", cfg, "--now", now, *command)
            assert code == 5, (command, err)
            assert f"is in use by pid {os.getpid()} (run)" in err
            assert "hint: the worker is running: stop the service first (systemctl stop hoso-bot)" in err
