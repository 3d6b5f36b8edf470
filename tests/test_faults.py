"""Faults against real servers: the bot killed with SIGKILL at random points of a
poll and of a send, the IMAP server killed in the middle of a FETCH. Nothing
lost, nothing twice (but the one documented window of sending).

(a) ``python -m bot poll`` is SIGKILLed again and again (seeded RNG) while it
    ingests and processes 300 messages that arrive in three waves, then a
    last poll runs to the end. Every message is recorded exactly once, every
    message is processed and none is quarantined (a death of the bot is
    nobody's fault: see test_crash_resume.py), every document has exactly
    one item.
(b) Dovecot is SIGKILLed while the bot reads a FETCH response: the poll
    fails with a clear error, the next poll (server back) ingests the rest,
    nothing missing, nothing duplicated.
(c) A message that kills the process whenever it is parsed is quarantined
    after three deaths while handled alone: the messages handled beside it
    are not charged.
(d) ``outbox --retry`` is SIGKILLed again and again while it sends: every
    mail arrives, at most one is repeated per kill (the documented window).

(a) runs in the stress lane (``pytest -m stress``, run by .ci/run); the slow
lane kills polls over fewer messages (test_crash_resume.py). The figures of
(a) are printed (``-s`` shows them).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app, notify, pipeline
from bot.errors import MailboxError
from bot.extract import Extractor
from bot.ingest import PollReport
from bot.mailbox.imap import connect_imap
from bot.model import RawMessage
from bot.rules.load import load_rules
from bot.service import health
from bot.store import Store

from . import hostile as H
from . import rawdb
from .configs import imap_mailbox, smtp_loopback, write_config
from . import mailfactory as mf
from .outgoing import parsed

ROOT = Path(__file__).resolve().parents[1]
VN = timezone(timedelta(hours=7))
RECEIVED = datetime(2023, 10, 5, 9, 0, tzinfo=VN)

MESSAGES = 300
WAVES = (0, 5, 10)  # a third of the mail arrives before kill number 0, 5 and 10
KILLS = 18
SEED = 20231010


def cli(cfg: Path, password: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, BOT_IMAP_PASSWORD=password, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def progress(db: Path) -> tuple[int, int, int]:
    """(messages recorded, messages finished, attempts counted), read beside the running bot (WAL)."""
    return rawdb.watch(db, "SELECT COUNT(*), COALESCE(SUM(status != 'new'), 0), COALESCE(SUM(attempts), 0)"
                           " FROM messages", (0, 0, 0))


@pytest.mark.imap
@pytest.mark.stress  # 300 messages, 18 kills: about 70 s; the slow lane kills polls in test_crash_resume.py
def test_sigkill_at_random_points_of_a_poll_loses_nothing_and_records_nothing_twice(tmp_path, dovecot):
    cfg = write_config(tmp_path, imap_mailbox(dovecot, fetch_batch=20, timeout_seconds=10))
    db = tmp_path / "state" / "bot.sqlite3"
    mails = [H.bulk_mail(n) for n in range(MESSAGES)]
    waves = [mails[i * MESSAGES // 3:(i + 1) * MESSAGES // 3] for i in range(3)]
    rng = random.Random(SEED)
    uids: list[int] = []
    kills: list[dict] = []
    runs, idle = 0, False
    longest = 0.4  # seconds a kill may wait once the poll works; halved whenever a poll finishes first
    while len(kills) < KILLS and runs < 3 * KILLS:
        wave = len(uids) * 3 // MESSAGES
        if wave < 3 and (len(kills) >= WAVES[wave] or idle):  # new mail arrives while the bot is killed
            uids += dovecot.append_many("INBOX", [(m, RECEIVED) for m in waves[wave]])
        idle = False
        before = progress(db)
        poll = cli(cfg, dovecot.password, "poll")
        runs += 1
        deadline = time.monotonic() + 60
        while poll.poll() is None and progress(db) == before and time.monotonic() < deadline:
            time.sleep(0.005)  # past start-up: kill it while it works
        time.sleep(rng.uniform(0.0, longest))
        if poll.poll() is not None:  # it finished first: not a kill point
            longest = max(longest / 2, 0.01)  # a fast machine: kill sooner next time
            assert poll.communicate() and poll.returncode == 0
            if len(uids) == MESSAGES:
                break
            idle = True  # all done so far: let the next wave come
            continue
        at = progress(db)
        poll.send_signal(signal.SIGKILL)
        poll.communicate()
        if poll.returncode == 0:  # it finished between the check and the signal: not a kill point
            idle = len(uids) < MESSAGES
            continue
        assert poll.returncode == -signal.SIGKILL
        kills.append({"stage": "fetch" if at[0] < len(uids) else "process", "recorded": at[0], "finished": at[1]})
    while len(uids) < MESSAGES:  # the last waves, if the kills ran out first
        uids += dovecot.append_many("INBOX", [(m, RECEIVED) for m in waves[len(uids) * 3 // MESSAGES]])
    assert len(uids) == MESSAGES, "every wave must have been appended"

    final = cli(cfg, dovecot.password, "poll")
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err

    with Store.open(tmp_path / "state") as store:
        ids = [m.message_id for m in store.message_records()]
        assert len(ids) == MESSAGES and len(set(ids)) == MESSAGES  # each exactly once
        assert set(ids) == {f"<bulk-{n}@hostile.test>" for n in range(MESSAGES)}  # none missing
        counts = store.message_counts()
        crashed = store.quarantined()
        assert counts.get("new", 0) == 0
        assert crashed == []  # the kills were nobody's fault
        source = f"imap:{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"
        assert store.checkpoint(source)[1] == uids[-1]

    ctx = app.load(cfg)
    with Store.open(tmp_path / "state") as store:
        rows = app.export_rows(store, ctx.rules)
        keys = [(r["message_id"], r["container"], r["filename"], r["first_page"]) for r in rows]
        assert len(keys) == len(set(keys)) == MESSAGES  # one item per document, none twice
        assert store.message_counts() == {"done": MESSAGES}
        assert len(list((tmp_path / "state" / "archive").rglob("*.eml"))) == MESSAGES
        leftovers = [p.name for p in (tmp_path / "state" / "archive").rglob("*.tmp")]
        assert leftovers == []  # a write cut short is cleaned up when the message is fetched again
        code, lines = health(store, ctx.config, datetime.now(timezone.utc))
        assert code == 0, lines

    stages = {s: sum(1 for k in kills if k["stage"] == s) for s in ("fetch", "process")}
    print(f"\nFIGURES kill -9: {len(kills)} kill points survived ({stages['fetch']} while fetching, "
          f"{stages['process']} while processing) in {runs} runs; {MESSAGES} messages, each recorded once; "
          f"{len(crashed)} quarantined; {len(leftovers)} temporary file(s) left")
    # How many kills land depends on the machine's speed (a poll that finishes first is no kill point);
    # the stress lane (tests/test_crash_resume.py, -m stress) kills at 200 points on commit counts.
    assert len(kills) >= 5 and stages["process"] > 0


class KillDuringFetch:
    """Connects like the bot, and SIGKILLs Dovecot while message bodies are being read."""

    def __init__(self, dovecot, password: str, kill_at_literal: int):
        self.dovecot, self.password, self.kill_at = dovecot, password, kill_at_literal
        self.literals = 0

    def __call__(self, cfg):
        client = connect_imap(cfg, {"BOT_IMAP_PASSWORD": self.password})
        imap = client._imap  # imaplib reads each message body (an IMAP literal) with read()
        original = imap.read

        def read(size):
            self.literals += 1
            if self.literals == self.kill_at:
                self.dovecot.kill()  # the rest of this FETCH response never comes
            return original(size)

        imap.read = read
        return client


@pytest.mark.imap
@pytest.mark.slow
def test_imap_server_killed_in_the_middle_of_a_fetch(tmp_path, dovecot, monkeypatch):
    total, batch = 90, 20
    mails = [H.good_mail(n % 6, label=f"fetch-{n}", files=[mf.File(f"Tờ trình {n}.pdf", H.small_pdf(n)
                                                                     + bytes(64 * 1024))])
             for n in range(total)]
    uids = dovecot.append_many("INBOX", [(m, RECEIVED) for m in mails])
    monkeypatch.setenv("BOT_IMAP_PASSWORD", dovecot.password)
    ctx = app.load(write_config(tmp_path, imap_mailbox(dovecot, fetch_batch=batch, timeout_seconds=10)))
    now = datetime(2023, 10, 6, 8, 0, tzinfo=VN)

    # killed as the first body of the third batch arrives (the server may have sent
    # more of it already: the kill then surfaces at the next read)
    killer = KillDuringFetch(dovecot, dovecot.password, kill_at_literal=2 * batch + 1)
    with pytest.raises(MailboxError) as failure:
        app.poll(ctx, now, client_factory=killer)
    assert str(failure.value).startswith("IMAP connection to 127.0.0.1 lost")
    assert failure.value.exit_code == 3 and "reachable" in failure.value.hint
    with Store.open(tmp_path / "state") as store:
        # whole batches before the failing FETCH are recorded with their checkpoint, nothing of it
        recorded = sum(store.message_counts().values())
        assert recorded in (2 * batch, 3 * batch)
        source = f"imap:{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"
        assert store.checkpoint(source)[1] == uids[recorded - 1]

    dovecot.restart()
    report = app.poll(ctx, now + timedelta(minutes=5))
    assert report.new == total - recorded
    with Store.open(tmp_path / "state") as store:
        ids = [m.message_id for m in store.message_records()]
        assert sorted(ids) == sorted(f"<fetch-{n}@hostile.test>" for n in range(total))
        assert store.message_counts() == {"done": total}
        assert store.checkpoint(source)[1] == uids[-1]
    assert app.poll(ctx, now + timedelta(minutes=10)).new == 0


class Crash(BaseException):
    """Stands for the process dying (SIGKILL, a segfault in a C parser): nothing after it runs."""


def test_a_message_that_kills_the_process_is_quarantined_alone(tmp_path, monkeypatch):
    now = datetime(2023, 10, 6, 8, 0, tzinfo=VN)
    mails = [H.bulk_mail(n) for n in range(20)]
    real_parse = pipeline.parse_message

    def parse(data, *limits):
        if b"<bulk-5@hostile.test>" in data:
            raise Crash()
        return real_parse(data, *limits)

    monkeypatch.setattr(pipeline, "parse_message", parse)
    rules = load_rules(ROOT / "rules")
    with Store.open(tmp_path / "state") as store, Extractor(workers=0) as extractor:
        store.record_fetched([RawMessage(f"test:{n}", raw, RECEIVED + timedelta(minutes=n))
                              for n, raw in enumerate(mails)], now)
        deaths = 0
        while True:  # the process dies on it, restarts, dies again...
            report = PollReport()
            try:
                pipeline.process_pending(store, rules, extractor, now, report, ocr_available=False)
                break
            except Crash:
                deaths += 1
            assert deaths < 10, "the poison must end quarantined"
        # once among 16 in flight (nobody charged), then three times handled alone
        assert deaths == 1 + pipeline.MAX_ATTEMPTS
        assert (report.quarantined, report.failed) == (1, 0)
        (poison,) = store.quarantined()
        assert poison["message_id"] == "<bulk-5@hostile.test>" and poison["attempts"] == 3
        assert poison["last_error"].startswith("processing crashed: the bot's process died while it handled "
                                               "this message alone")
        # whose mail it is, read from its headers without the parser that crashed on it
        assert (poison["from_addr"], poison["subject"]) == (H.SCHOOLS[5 % len(H.SCHOOLS)][0].lower(), "Hồ sơ ANTQ lần 5")
        assert store.message_counts() == {"done": 19, "quarantined": 1}
        charged = [m for m in store.message_records() if m.attempts > 0 and m.status == "done"]
        assert charged == []  # the 15 in flight beside it when it first struck were not charged
        # health tells the mail's fault from the bot's crash
        config = app.load(write_config(tmp_path, 'source = "folder"\npath = "."')).config
        code, lines = health(store, config, now)
        assert code == 1
        assert "resumed after a crash: 16 message(s), not charged" in lines
        assert [line for line in lines if line.startswith("PROBLEM: quarantined")] == [
            f"PROBLEM: quarantined {poison['ref']} <bulk-5@hostile.test> from {poison['from_addr']} "
            f"'Hồ sơ ANTQ lần 5' (this mail's fault, 3 attempts): {poison['last_error']}"]


SEND_KILLS = 8


@pytest.mark.slow
def test_sigkill_while_sending_loses_no_mail_and_repeats_at_most_one_per_kill(tmp_path, smtp_server_factory):
    """(d) ``outbox --retry`` SIGKILLed again and again while it hands the
    reminders to a real SMTP server: every mail arrives; a mail is repeated
    only in the documented window (accepted by the server, killed before
    'sent' was recorded), so at most once per kill."""
    # A server that takes 50 ms to accept each mail, as a real one does: the
    # kill points below are counted in mails, and a loaded machine must still
    # wake up between two acceptances (at load 20 the whole queue once went
    # out before the first kill).
    server = smtp_server_factory(deliver=lambda rcpt, raw, mail_from: time.sleep(0.05))
    cfg = write_config(tmp_path, 'source = "folder"\npath = "inbox"',
                       smtp_loopback(server) + "\nper_minute = 1000\ndaily_cap = 5000")
    ctx = app.load(cfg)
    now = datetime(2023, 10, 3, 9, 0, tzinfo=VN)  # Tuesday: the "7 days before" reminders are due
    with Store.open(ctx.config.paths.state) as store:
        queued = notify.remind(ctx, store, None, now).queued
        ids = {r.message_id for r in store.outbox_rows(("queued",))}
    assert queued == len(ids) >= 20

    rng = random.Random(SEED)
    kills = 0
    for _ in range(3 * SEND_KILLS):
        if kills == SEND_KILLS:
            break
        before = len(server.messages)
        run = cli(cfg, "", "--now", now.isoformat(), "outbox", "--retry")
        deadline = time.monotonic() + 60
        # Kill it after the server took 1 or 2 more mails: a point counted in
        # mails, not in milliseconds, so a fast or a loaded machine gets the same
        # number of kill points out of the queue.
        target = before + 1 + rng.randint(0, 1)
        while run.poll() is None and len(server.messages) < target and time.monotonic() < deadline:
            time.sleep(0.001)
        if run.poll() is not None:  # everything was sent before the kill: not a kill point
            run.communicate()
            break
        run.send_signal(signal.SIGKILL)
        run.communicate()
        kills += 1
    final = cli(cfg, "", "--now", now.isoformat(), "outbox", "--retry")
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err

    delivered = Counter(parsed(m)["Message-ID"] for m in server.messages)
    with Store.open(ctx.config.paths.state) as store:
        statuses = Counter(store.outbox_counts())
    assert statuses == {"sent": queued}
    assert set(delivered) == ids  # none lost, none invented
    repeats = sum(n - 1 for n in delivered.values())
    assert repeats <= kills
    print(f"\nFIGURES kill -9 while sending: {kills} kill points, {queued} mails, each delivered; "
          f"{repeats} delivered twice (the window between the server's 250 and the 'sent' record)")
    assert kills >= SEND_KILLS // 2  # the kills did land while sending
