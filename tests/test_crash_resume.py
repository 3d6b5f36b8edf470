"""A crash is never the fault of the mail in flight (issue 13.1/13.8).

* The bot's ``poll`` is SIGKILLed at random points (seeded) over a real
  Dovecot mailbox while mail arrives in waves, then one clean poll runs: the
  export is identical to a clean run's, nothing is quarantined, nothing is
  recorded or counted twice. A few kills run in the slow lane; >= 200 kill
  points over 300 messages in the ``stress`` lane (``pytest -m stress``),
  which prints its figures.
* A real poison attachment (its worker crashes every time it reads it) is
  still quarantined, alone, with its reason; the mail beside it is not
  charged.
"""
from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app
from bot.extract import Extractor
from bot.ingest import PollReport
from bot.model import Attachment, RawMessage
from bot.pipeline import MAX_ATTEMPTS, process_pending
from bot.rules.load import load_rules
from bot.service import health
from bot.store import Store

from . import hostile as H
from . import rawdb
from . import mailfactory as mf
from .configs import imap_mailbox, write_config
from .test_faults import RECEIVED, cli

ROOT = Path(__file__).resolve().parents[1]
VN = timezone(timedelta(hours=7))
NOW = datetime(2023, 10, 6, 8, 0, tzinfo=VN)


# -- a real poison attachment -------------------------------------------------

class _Crash:
    """Unpickling this in a worker kills it (``os._exit``), as a segfault in a
    PDF library would: sent instead of the bytes of the poison file."""

    def __reduce__(self):
        return (os._exit, (3,))


@dataclass
class PoisonPool(Extractor):
    """The real worker pool, in which reading ``poison.pdf`` kills the worker every time."""

    def submit(self, key, att: Attachment, *, defer_ocr: bool = False) -> None:
        if att.filename == "poison.pdf":
            att = Attachment(att.filename, att.content_type, _Crash())
        super().submit(key, att, defer_ocr=defer_ocr)


def test_a_poison_attachment_is_quarantined_alone_with_its_reason(tmp_path):
    poison = H.good_mail(3, label="poison", files=[mf.File("poison.pdf", H.small_pdf(999))])
    mails = [H.bulk_mail(n) for n in range(12)]
    mails.insert(5, poison)
    rules = load_rules(ROOT / "rules")
    with Store.open(tmp_path / "state") as store, PoisonPool(workers=2, timeout=30) as pool:
        store.record_fetched([RawMessage(f"t:{n}", m, RECEIVED + timedelta(minutes=n)) for n, m in enumerate(mails)],
                             NOW)
        reports = []
        for _ in range(MAX_ATTEMPTS):  # one attempt per poll; it is handled alone after the first
            reports.append(PollReport())
            process_pending(store, rules, pool, NOW, reports[-1], ocr_available=False)
        assert [(r.processed, r.failed, r.quarantined) for r in reports] == [(12, 1, 0), (0, 1, 0), (0, 1, 1)]
        (q,) = store.quarantined()
        assert q["message_id"] == "<poison@hostile.test>" and q["attempts"] == MAX_ATTEMPTS
        assert q["last_error"].startswith(
            "cannot read 'poison.pdf': trình đọc bị dừng đột ngột khi đọc tệp này (exit code 3)")
        assert q["from_addr"] == H.SCHOOLS[3][0].lower()  # whose mail it is, for health and the digest
        assert store.message_counts() == {"done": 12, "quarantined": 1}
        charged = len([m for m in store.message_records() if m.attempts > 0])
        assert charged == 1  # the mail read beside it was not charged
        code, lines = health(store, app.load(write_config(tmp_path, 'source = "folder"\npath = "."')).config, NOW)
        assert code == 1 and any(line.startswith(f"PROBLEM: quarantined {q['ref']}") and "this mail's fault" in line
                                 for line in lines), lines


# -- SIGKILL at random points of a poll -----------------------------------------

def signature(db: Path) -> tuple:
    """What a poll has committed so far (read beside it, WAL): messages recorded,
    finished, marked in flight, resumed, attempts charged."""
    return rawdb.watch(db, "SELECT COUNT(*), COALESCE(SUM(status != 'new'), 0),"
                           " COALESCE(SUM(inflight IS NOT NULL), 0), COALESCE(SUM(resumed), 0),"
                           " COALESCE(SUM(attempts), 0) FROM messages", (0, 0, 0, 0, 0))


def mailbox(count: int) -> list[bytes]:
    """Submissions of one tiny PDF, and every fourth a real document to classify."""
    return [H.good_mail(n, label=f"kill-{n}") if n % 4 == 0 else H.bulk_mail(n) for n in range(count)]


def message_ids(count: int) -> set[str]:
    return {f"<kill-{n}@hostile.test>" if n % 4 == 0 else f"<bulk-{n}@hostile.test>" for n in range(count)}


def export(cfg: Path) -> list[tuple]:
    """The export without the item references (their numbering follows the order of recording)."""
    ctx = app.load(cfg)
    with Store.open(ctx.config.paths.state) as store:
        rows = app.export_rows(store, ctx.rules)
    return sorted(tuple((k, repr(v)) for k, v in row.items() if k != "ref") for row in rows)


def kill_polls(tmp_path: Path, dovecot, *, messages: int, kills: int, seed: int, rounds: int = 1) -> dict:
    """Kill ``poll`` with SIGKILL at ``kills`` random points while ``messages``
    arrive in three waves, then poll once to the end; check the outcome
    against a clean run over the same mailbox. When the mail is all done
    before the kills are, ``requeue --all`` (as after a rules change) starts
    another round of processing to kill, up to ``rounds`` in all. Returns
    the figures."""
    (tmp_path / "killed").mkdir()
    (tmp_path / "clean").mkdir()
    cfg = write_config(tmp_path / "killed", imap_mailbox(dovecot, fetch_batch=20, timeout_seconds=10))
    db = tmp_path / "killed" / "state" / "bot.sqlite3"
    mails = mailbox(messages)
    waves = [mails[i * messages // 3:(i + 1) * messages // 3] for i in range(3)]
    rng = random.Random(seed)
    appended, landed, runs, idle, round_ = 0, [], 0, False, 1
    started = time.monotonic()
    while len(landed) < kills and runs < 3 * kills + 10:
        wave = appended * 3 // messages
        if wave < 3 and (len(landed) >= wave * kills // 3 or idle):  # new mail arrives while the bot is down
            dovecot.append_many("INBOX", [(m, RECEIVED) for m in waves[wave]])
            appended += len(waves[wave])
        idle = False
        before = signature(db)
        poll = cli(cfg, dovecot.password, "poll")
        runs += 1
        steps, seen, deadline = rng.randint(1, 3), before, time.monotonic() + 120
        while poll.poll() is None and steps and time.monotonic() < deadline:  # a condition: the k-th commit
            now = signature(db)
            if now != seen:
                steps, seen = steps - 1, now
            else:
                time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.1))  # a random point after that commit
        if poll.poll() is not None:  # it finished first: not a kill point
            out, err = poll.communicate()
            assert poll.returncode == 0, err
            idle = appended < messages
            if not idle:
                if round_ == rounds:
                    break
                round_ += 1  # everything done: process it all again, and kill that
                requeue = cli(cfg, dovecot.password, "requeue", "--all")
                assert requeue.communicate(timeout=60) and requeue.returncode == 0
            continue
        at = signature(db)
        poll.send_signal(signal.SIGKILL)
        poll.communicate()
        if poll.returncode == 0:  # it finished between the check and the signal: not a kill point
            idle = appended < messages
            continue
        assert poll.returncode == -signal.SIGKILL
        landed.append("fetch" if at[0] < appended else "process")
    while appended < messages:  # the last waves, if the kills ran out first
        wave = waves[appended * 3 // messages]
        dovecot.append_many("INBOX", [(m, RECEIVED) for m in wave])
        appended += len(wave)
    killing = time.monotonic() - started

    final = cli(cfg, dovecot.password, "poll")
    out, err = final.communicate(timeout=600)
    assert final.returncode == 0, err
    clean_cfg = write_config(tmp_path / "clean", imap_mailbox(dovecot, fetch_batch=20, timeout_seconds=10))
    clean = cli(clean_cfg, dovecot.password, "poll")
    assert clean.communicate(timeout=600) and clean.returncode == 0

    ctx = app.load(cfg)
    with Store.open(ctx.config.paths.state) as store:
        ids = [m.message_id for m in store.message_records()]
        assert len(ids) == len(set(ids)) == messages and set(ids) == message_ids(messages)  # once each, none lost
        assert store.quarantined() == [] and store.message_counts() == {"done": messages}
        records = store.message_records()
        charged, resumed = sum(m.attempts for m in records), sum(m.resumed > 0 for m in records)
        code, lines = health(store, ctx.config, datetime.now(timezone.utc))
        assert code == 0, lines
        assert not resumed or f"resumed after a crash: {resumed} message(s), not charged" in lines
    killed_rows, clean_rows = export(cfg), export(clean_cfg)
    assert len(killed_rows) == len(set(killed_rows))  # no document recorded twice
    assert killed_rows == clean_rows  # the same items, schools, types, decisions as a clean run
    return {"kills": len(landed), "fetch": landed.count("fetch"), "process": landed.count("process"), "runs": runs,
            "rounds": round_,
            "messages": messages, "items": len(killed_rows), "charged": charged, "resumed": resumed,
            "seconds": round(killing)}


@pytest.mark.imap
@pytest.mark.slow
@pytest.mark.starts_first
def test_a_few_sigkills_of_poll_change_nothing_in_the_outcome(tmp_path, dovecot):
    figures = kill_polls(tmp_path, dovecot, messages=60, kills=6, seed=20231013)
    print(f"\nFIGURES kill -9: {figures}")
    assert figures["kills"] >= 4 and figures["process"] >= 1


@pytest.mark.imap
@pytest.mark.stress
def test_200_sigkills_of_poll_over_300_messages_change_nothing_in_the_outcome(tmp_path, dovecot):  # stress: tests/conftest.py
    figures = kill_polls(tmp_path, dovecot, messages=300, kills=200, seed=20231013, rounds=20)  # as many as 200 kills take: a fast machine finishes polls first
    print(f"\nFIGURES kill -9 stress: {figures}")
    assert figures["kills"] >= 200
