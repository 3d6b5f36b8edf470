"""`run` for real: Dovecot + a loopback SMTP server, mail appended while it runs,
the IMAP and the SMTP server stopped and brought back, IMAP IDLE, SIGTERM, and
a second worker (or poll) refused.

Every wait polls a condition with a generous timeout; no duration is asserted."""
from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.store import OutboxRow, Store

from . import docfactory as df
from . import mailfactory as mf
from .configs import imap_mailbox, smtp_loopback, write_config
from .hostile import SCHOOLS, school_doc

pytestmark = [pytest.mark.imap, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Generous (a failed SMTP attempt is retried a minute later, at the next outbox minute): met sooner, a wait ends sooner.
TIMEOUT = 300.0


def mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "thcsnguyenhien.q12@hcm-edu.example"
    msg["To"] = "office@example.org"
    msg["Subject"] = f"Hồ sơ điển hình ANTQ - lần {n}"
    msg["Message-ID"] = f"<run{n}@hcm-edu.example>"
    msg.set_content("Kính gửi Phòng GD&ĐT, trường gửi hồ sơ.")
    return msg.as_bytes()


def document_mail(n: int, sent: datetime) -> bytes:
    """School n's Tờ trình as a real PDF, dated the day it is sent (so it counts in the current cycle)."""
    sender, name, _, _ = SCHOOLS[n]
    doc = dataclasses.replace(school_doc(n, 0), place_date=f"Quận 12, ngày {sent:%d} tháng {sent:%m} năm {sent:%Y}")
    return mf.build("gmail", sender=sender, sender_name=name, message_id=f"<doc{n}@hcm-edu.example>",
                    date=format_datetime(sent), files=[mf.File("Tờ trình.pdf", df.official_pdf([doc]))])


def a_while_ago() -> datetime:
    """The receipt time of a submission: older than receipt_batch_minutes (10), so its receipt is due at once."""
    return (datetime.now(timezone.utc) - timedelta(minutes=15)).astimezone(VN).replace(microsecond=0)


class Worker:
    """``python -m bot run`` in a subprocess, its log read as it comes."""

    def __init__(self, cfg: Path, password: str, poll_seconds: float = 2):
        env = dict(os.environ, BOT_IMAP_PASSWORD=password, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), "run",
                                      "--poll-seconds", str(poll_seconds)],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = TIMEOUT) -> str:
        found = wait(lambda: next((l for l in self.lines if re.search(pattern, l)), None), timeout)
        assert found, f"no log line matching {pattern!r} within {timeout} s:\n{self.log}"
        return found

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        return self.proc.returncode


def wait(condition, timeout: float = TIMEOUT):
    """Poll ``condition`` until it returns something truthy (returned) or the timeout passes (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    return None


def processed(state: Path) -> int:
    if not (state / "bot.sqlite3").exists():
        return 0
    with Store.open(state) as store:
        return store.message_counts().get("done", 0)


def receipts(state: Path) -> list[OutboxRow]:
    if not (state / "bot.sqlite3").exists():
        return []
    with Store.open(state) as store:
        return [r for r in store.outbox_rows() if r.kind == "receipt"]


def received_receipts(smtp) -> list[set[str]]:
    return [set(m.rcpt_tos) for m in smtp.messages if b"X-Bot-Kind: receipt" in m.raw]


def second(cfg: Path, password: str, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), *command], cwd=ROOT,
                          env=dict(os.environ, BOT_IMAP_PASSWORD=password), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_worker_processes_new_mail_sends_receipts_through_outages_and_stops_cleanly(tmp_path, dovecot_factory,
                                                                                    smtp_server):
    # A password no log line could contain by chance (the default "secret" is also an English word).
    dovecot = dovecot_factory(users={"office": "pw-7Qx9-kT2m"}, tls=False)
    cfg = write_config(tmp_path, imap_mailbox(dovecot, timeout_seconds=5), smtp_loopback(smtp_server))
    state = tmp_path / "state"
    worker = Worker(cfg, dovecot.password)
    try:
        dovecot.append("INBOX", mail(1), datetime.now(timezone.utc))
        assert wait(lambda: processed(state) >= 1), worker.log

        # a second worker, or a poll, on the same state directory is refused
        for command in ("poll", "run"):
            refused = second(cfg, dovecot.password, command)
            assert refused.returncode == 5, (command, refused.stderr)
            assert "is in use by pid" in refused.stderr
        assert worker.proc.poll() is None  # and the first one runs on

        # a real document: counted, and its receipt goes out through the SMTP server
        sent = a_while_ago()
        dovecot.append("INBOX", document_mail(0, sent), sent)
        school_0 = SCHOOLS[0][0]
        assert wait(lambda: any(school_0 in r for r in received_receipts(smtp_server))), worker.log

        # the SMTP server goes away: the next receipt waits in the outbox, and goes out once it is back
        smtp_server.stop()
        sent = a_while_ago()
        dovecot.append("INBOX", document_mail(1, sent), sent)
        school_1 = SCHOOLS[1][0]
        assert wait(lambda: any(r.attempts >= 1 and r.status == "queued" and r.last_error
                                for r in receipts(state))), worker.log
        smtp_server.start()  # same port
        assert wait(lambda: any(school_1 in r for r in received_receipts(smtp_server))), worker.log
        assert [r.status for r in receipts(state)] == ["sent", "sent"]

        # the IMAP server dies: the poll fails, again and again, and says so once
        dovecot.kill()
        worker.wait_for_line(r"poll failed")
        time.sleep(15)  # the outage lasts: the poll retries after 2, 4 and 8 s, IDLE reconnects after 1, 2, 4, 8 s
        dovecot.restart()
        dovecot.append("INBOX", mail(2), datetime.now(timezone.utc))
        assert wait(lambda: processed(state) >= 4), worker.log
        recovered = worker.wait_for_line(r"poll: working again, after \d+ unsuccessful attempt")
    finally:
        code = worker.stop()
    err = worker.log
    (tmp_path / "worker.log").write_text(err, encoding="utf-8")  # to read after a failure
    assert code == 0, err
    assert "stopped cleanly" in err
    # the outage was retried several times and each distinct error reported once, not once per retry
    # ("connection lost" then "cannot connect" when the kill lands during a poll; usually only the latter)
    errors = re.findall(r"poll failed: (.*?) \(retrying in", err, re.S)  # an error may have a hint line
    assert len(errors) == err.count("poll failed"), err
    attempts = int(re.search(r"after (\d+) unsuccessful", recovered).group(1))
    assert 1 <= len(errors) < attempts and len(set(errors)) == len(errors), err
    idle = [l for l in worker.lines if "IDLE connection lost" in l]
    assert 1 <= len(idle) <= 2, err  # "lost", then "cannot connect": once each, not per reconnection attempt
    assert "BOT_IMAP_PASSWORD" not in err and dovecot.password not in err  # no secret in the log


def test_idle_brings_new_mail_long_before_the_next_poll_and_an_idle_worker_is_quiet(tmp_path, dovecot_factory,
                                                                                   smtp_server):
    dovecot = dovecot_factory(users={"office": "pw-3Rb8-wQ5z"}, tls=False)
    cfg = write_config(tmp_path, imap_mailbox(dovecot, timeout_seconds=5), smtp_loopback(smtp_server))
    state = tmp_path / "state"
    dovecot.append("INBOX", mail(1), datetime.now(timezone.utc))
    worker = Worker(cfg, dovecot.password, poll_seconds=300)  # the next regular poll is 5 minutes away
    try:
        assert wait(lambda: processed(state) >= 1), worker.log  # the poll at start-up
        # the first poll is over and IDLE is listening (it polls once more when it connects)
        worker.wait_for_line(r"worker started")
        assert wait(lambda: "poll" in _marks(state)), worker.log
        dovecot.append("INBOX", mail(2), datetime.now(timezone.utc))
        assert wait(lambda: processed(state) >= 2, timeout=100), worker.log  # IDLE, not the 300 s poll
        health = second(cfg, dovecot.password, "health")  # monitoring sees a healthy worker
        assert health.returncode == 0 and "worker: running, pid" in health.stdout, health.stdout + health.stderr
        # reading commands work while the worker runs; a sending one says to stop the service first
        for command in ("status", "export", "outbox", "digest --dry-run"):
            done = second(cfg, dovecot.password, *command.split())
            assert done.returncode == 0, (command, done.stdout, done.stderr)
        refused = second(cfg, dovecot.password, "remind")
        assert refused.returncode == 5 and "stop the service first" in refused.stderr, refused.stderr
    finally:
        code = worker.stop()
    err = worker.log
    (tmp_path / "worker.log").write_text(err, encoding="utf-8")
    assert code == 0, err
    assert f"state database created in {state} (schema" in err  # migrations are reported at start
    stopped = second(cfg, dovecot.password, "health")  # monitoring sees that nothing polls any more
    assert stopped.returncode == 1, stopped.stdout
    assert "PROBLEM: the worker is not running (stopped cleanly at" in stopped.stdout
    # APScheduler's chatter, the IDLE wake-up during the first poll, idle jobs and idle fetches say nothing
    for noise in ("Running job", "executed successfully", "maximum number of running instances",
                  "0 queued", "fetch 0"):
        assert noise not in err, (noise, err)
    assert not re.search(r"(?<![\d.])0\.0 msg/s", err), err  # an idle rate ("30.0 msg/s" is real work)


def _marks(state: Path) -> set[str]:
    if not (state / "bot.sqlite3").exists():
        return set()
    with Store.open(state) as store:
        return {name for name in ("poll", "digest", "receipts") if store.mark(name)}

