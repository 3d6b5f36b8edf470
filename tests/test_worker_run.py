"""`run` for real: Dovecot + a loopback SMTP server, mail appended while it runs,
the IMAP server killed and brought back, SIGTERM, and a second worker refused."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.store import Store

from .configs import imap_mailbox, smtp_loopback, write_config

pytestmark = [pytest.mark.imap, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


def mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "thcsnguyenhien.q12@hcm.edu.vn"
    msg["To"] = "office@example.org"
    msg["Subject"] = f"Hồ sơ điển hình ANTQ - lần {n}"
    msg["Message-ID"] = f"<run{n}@hcm.edu.vn>"
    msg.set_content("Kính gửi Phòng GD&ĐT, trường gửi hồ sơ.")
    return msg.as_bytes()


def start_worker(cfg: Path, password: str) -> subprocess.Popen:
    env = dict(os.environ, BOT_IMAP_PASSWORD=password, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), "run", "--poll-seconds", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_messages(state: Path, count: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        if (state / "bot.sqlite3").exists():
            with Store.open(state) as store:
                seen = store.message_counts().get("done", 0)
            if seen >= count:
                return seen
        time.sleep(0.3)
    return seen


def test_worker_processes_new_mail_survives_an_imap_outage_and_stops_cleanly(tmp_path, dovecot_factory,
                                                                              smtp_server):
    # A password no log line could contain by chance (the default "secret" is also an English word).
    dovecot = dovecot_factory(users={"office": "pw-7Qx9-kT2m"}, tls=False)
    cfg = write_config(tmp_path, imap_mailbox(dovecot, timeout_seconds=5), smtp_loopback(smtp_server))
    worker = start_worker(cfg, dovecot.password)
    try:
        dovecot.append("INBOX", mail(1), datetime.now(timezone.utc))
        assert wait_for_messages(tmp_path / "state", 1) == 1

        # a second worker (or a poll) on the same state directory is refused
        second = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "poll"], cwd=ROOT,
                                env=dict(os.environ, BOT_IMAP_PASSWORD=dovecot.password),
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 5
        assert "is in use by pid" in second.stderr

        dovecot.kill()
        time.sleep(4)  # a few failed polls
        dovecot.restart()
        dovecot.append("INBOX", mail(2), datetime.now(timezone.utc))
        assert wait_for_messages(tmp_path / "state", 2) == 2
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            out, err = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, err = worker.communicate()
    assert worker.returncode == 0, err
    assert "stopped cleanly" in err
    # the outage was reported once, not once per poll
    assert err.count("poll failed") <= 1, err
    assert "BOT_IMAP_PASSWORD" not in err and dovecot.password not in err  # no secret in the log
