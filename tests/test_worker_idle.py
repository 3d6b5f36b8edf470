"""`run` for real, its quiet side: IMAP IDLE brings new mail long before the
next poll, commands beside a running worker, and an idle worker logs nothing.
(A module of its own, so that a parallel run (-n) runs it beside the long
test of tests/test_worker_run.py.)"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.store import Store

from .configs import imap_mailbox, smtp_loopback, write_config
from .test_worker_run import Worker, mail, processed, second, seconds, wait

pytestmark = [pytest.mark.imap, pytest.mark.slow]


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
        assert wait(lambda: processed(state) >= 2, timeout=40), worker.log  # IDLE, not the 300 s poll
        # side by side: monitoring sees a healthy worker; reading commands work while the worker runs;
        # a sending one says to stop the service first
        done = seconds(cfg, dovecot.password, "health", "status", "export", "outbox", "digest --dry-run", "remind")
        health = done.pop("health")
        assert health.returncode == 0 and "worker: running, pid" in health.stdout, health.stdout + health.stderr
        refused = done.pop("remind")
        assert refused.returncode == 5 and "stop the service first" in refused.stderr, refused.stderr
        for command, ran in done.items():
            assert ran.returncode == 0, (command, ran.stdout, ran.stderr)
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

