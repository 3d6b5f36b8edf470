"""The worker's pure parts: backoff, once-per-error logging, health, progress, the systemd unit."""
from __future__ import annotations

import io
import logging
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.errors import AuthenticationError, MailboxError
from bot.progress import ProgressReporter
from bot.service import Backoff, Worker

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
    ticks = iter([0.0, 5.0])
    out = io.StringIO()
    p = ProgressReporter(out, interactive=True, monotonic=lambda: next(ticks))
    p("process", 0, 10)
    p("process", 5, 10)
    assert out.getvalue().count("\r") == 2 and "5/10" in out.getvalue()


def test_progress_outside_a_terminal_logs_plain_lines_now_and_then(caplog):
    ticks = iter([0.0, 1.0, 2.0, 11.0])
    p = ProgressReporter(io.StringIO(), interactive=False, monotonic=lambda: next(ticks))
    with caplog.at_level(logging.INFO, logger="bot.progress"):
        for done in (1, 2, 3, 4):
            p("process", done, 100)
    assert [r.getMessage().split(" [")[0] for r in caplog.records] == ["process 1/100", "process 4/100"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    text = (ROOT / "systemd" / "hoso-bot.service").read_text()
    for directive in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/hoso-bot",
                      "PrivateTmp=yes", "ProtectHome=yes", "Restart=on-failure",
                      "EnvironmentFile=/etc/hoso-bot/hoso-bot.env", "User=hoso-bot"):
        assert directive in text
    # systemd-analyze checks that the programs exist: point them at this checkout
    unit = tmp_path / "hoso-bot.service"
    unit.write_text(text.replace("/opt/hoso-bot/.venv/bin/python", sys.executable).replace("/opt/hoso-bot", str(ROOT)))
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
