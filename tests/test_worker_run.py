"""`run` for real: Dovecot + a loopback SMTP server, mail appended while it runs,
the IMAP and the SMTP server stopped and brought back, SIGTERM, and a second
worker (or poll) refused. IMAP IDLE: tests/test_worker_idle.py.

Every wait polls a condition with a generous timeout; no duration is asserted,
and none is slept: the worker runs with ``--poll-seconds 2``, so it looks at its
outbox every 2 s and retries a failed poll within 8 s, and with ``[smtp]
first_retry_seconds = 15``, so a mail that could not be sent is tried again
15 s later (the office's default is a minute: the same code, a shorter wait)."""
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

pytestmark = [pytest.mark.imap, pytest.mark.slow, pytest.mark.starts_first]
ROOT = Path(__file__).resolve().parents[1]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Generous: met sooner, a wait ends sooner.
TIMEOUT = 300.0
# The first retry of a mail that could not be sent. Long enough that the IMAP outage below, which
# starts as soon as the first attempt has failed and lasts until the retry has sent the receipt,
# spans at least two failed polls (2 s apart, the first within 2 s of the kill), so that "working
# again, after N unsuccessful attempts" has N >= 2.
FIRST_RETRY_SECONDS = 15


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


def seconds(cfg: Path, password: str, *commands: str) -> dict[str, subprocess.CompletedProcess]:
    """Each command (a string of arguments) run at the same time as the others, next to the worker."""
    env = dict(os.environ, BOT_IMAP_PASSWORD=password)
    started = {c: subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), *c.split()], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
               for c in commands}
    done = {}
    for command, proc in started.items():
        out, err = proc.communicate(timeout=60)
        done[command] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def test_worker_processes_new_mail_sends_receipts_through_outages_and_stops_cleanly(tmp_path, dovecot_factory,
                                                                                    smtp_server):
    # A password no log line could contain by chance (the default "secret" is also an English word).
    dovecot = dovecot_factory(users={"office": "pw-7Qx9-kT2m"}, tls=False)
    cfg = write_config(tmp_path, imap_mailbox(dovecot, timeout_seconds=5),
                       smtp_loopback(smtp_server) + f"\nfirst_retry_seconds = {FIRST_RETRY_SECONDS}")
    state = tmp_path / "state"
    school_0, school_1 = SCHOOLS[0][0], SCHOOLS[1][0]
    smtp_server.stop()  # the SMTP server is away when the worker starts
    sent = a_while_ago()
    dovecot.append("INBOX", mail(1), datetime.now(timezone.utc))
    dovecot.append("INBOX", document_mail(1, sent), sent)
    worker = Worker(cfg, dovecot.password)
    try:
        assert wait(lambda: processed(state) >= 2), worker.log

        # a real document is counted; its receipt cannot go, and waits in the outbox
        assert wait(lambda: any(r.attempts >= 1 and r.status == "queued" and r.last_error
                                for r in receipts(state))), worker.log
        smtp_server.start()  # back, same port: the receipt goes at its next attempt, 15 s after the failure

        # meanwhile the IMAP server dies: the poll fails, again and again, and says so once
        dovecot.kill()
        worker.wait_for_line(r"poll failed")
        # The outage lasts until the waiting receipt has gone out through the SMTP server (15 s after
        # its failure): the poll retries after 2, 4, 8, 8... s, IDLE reconnects after 1, 2, 4, 8, 8... s.
        assert wait(lambda: any(school_1 in r for r in received_receipts(smtp_server))), worker.log
        dovecot.restart()
        sent = a_while_ago()
        dovecot.append("INBOX", mail(2), datetime.now(timezone.utc))
        dovecot.append("INBOX", document_mail(0, sent), sent)
        assert wait(lambda: processed(state) >= 4), worker.log
        recovered = worker.wait_for_line(r"poll: working again, after \d+ unsuccessful attempt")
        # a second worker, or a poll, on the same state directory is refused
        for command, refused in seconds(cfg, dovecot.password, "poll", "run").items():
            assert refused.returncode == 5, (command, refused.stderr)
            assert "is in use by pid" in refused.stderr
        assert worker.proc.poll() is None  # and the first one runs on
        # with the SMTP server there, a receipt goes out at the next outbox run
        assert wait(lambda: any(school_0 in r for r in received_receipts(smtp_server))), worker.log
        assert [r.status for r in receipts(state)] == ["sent", "sent"]
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
