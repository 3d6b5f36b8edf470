"""Environment faults are the bot's, not the mail's (issue 18.4): a worker
that cannot start, or a state disk that is full, stops the poll with one
clear error and a non-zero exit; no message is charged an attempt, none is
quarantined, nothing blames the school's file. Once the cause is gone, the
next poll reads everything."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app
from bot.errors import EnvironmentFault
from bot.extract import Extractor, MiB
from bot.ingest import PollReport, ingest
from bot.mailbox import open_source
from bot.model import RawMessage
from bot.pipeline import process_pending
from bot.rules.load import load_rules
from bot.store import Store

from . import hostile as H
from . import rawdb
from .configs import write_config

ROOT = Path(__file__).resolve().parents[1]
VN = timezone(timedelta(hours=7))
NOW = datetime(2023, 10, 6, 8, 0, tzinfo=VN)
INBOX = 23  # messages of the bundled example mailbox (4 of them digitally signed dossiers)


def example_config(base: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "inbox", base / "inbox")
    return write_config(base, f'source = "folder"\npath = "{base / "inbox"}"')


def poll(cfg: Path, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "--now", NOW.isoformat(), "poll"],
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), preexec_fn=preexec, capture_output=True,
                          text=True, timeout=300)


def nothing_charged(state: Path, marks=(None,)) -> None:
    """Every message waits as new, with no attempt and no error; ``marks``: the
    in-flight marks allowed (a full disk may keep them: the next run resumes
    those messages, uncharged)."""
    with Store.open(state) as store:
        rows = [(m.status, m.attempts, m.last_error, m.inflight) for m in store.message_records()]
        assert rows and all(r[:3] == ("new", 0, None) and r[3] in marks for r in rows), rows
        assert store.quarantined() == []


@pytest.mark.slow  # four `python -m bot poll` processes
def test_a_poll_started_from_a_deleted_current_directory_stops_and_blames_nobody(tmp_path):
    cfg = example_config(tmp_path)
    gone = tmp_path / "gone"

    def cwd_deleted():  # as after `rm -rf` of the directory the admin stands in
        os.mkdir(gone)
        os.chdir(gone)
        os.rmdir(gone)

    for _ in range(3):  # three polls used to quarantine every message
        done = poll(cfg, cwd_deleted)
        assert done.returncode == EnvironmentFault.exit_code, done.stderr
        assert "error: the current directory cannot be read" in done.stderr
        assert "no mail was charged" in done.stderr and "Traceback" not in done.stderr
        assert "hỏng" not in done.stderr  # nothing says the school's file is damaged
    nothing_charged(tmp_path / "state")

    done = poll(cfg)  # from a directory it can read: everything is read
    assert done.returncode == 0, done.stderr
    with Store.open(tmp_path / "state") as store:
        assert store.message_counts() == {"done": INBOX}


def _can_run_as(uid: int) -> bool:
    try:
        probe = subprocess.run([sys.executable, "-c", "import bot.cli"], cwd="/", capture_output=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)),
                               preexec_fn=lambda: (os.setgid(uid), os.setuid(uid)))
    except (OSError, subprocess.SubprocessError):  # Python itself is not readable by that user
        return False
    return probe.returncode == 0


@pytest.mark.slow  # `python -m bot poll` processes, as another user
@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX only")
def test_a_poll_started_from_an_unreadable_current_directory_stops_and_blames_nobody():
    """``cd /root`` then run the bot as its own user (here: as ``nobody``, or as
    this user in a directory it made unreadable)."""
    as_root = os.geteuid() == 0
    if as_root and not _can_run_as(65534):
        pytest.skip("this Python or checkout is not readable by user nobody (e.g. under /root)")
    base = Path(tempfile.mkdtemp(prefix="hoso-envfault-"))
    try:
        os.chmod(base, 0o777)
        cfg = example_config(base)
        (base / "state").mkdir(mode=0o777)
        os.chmod(base / "state", 0o777)
        for path in (base / "inbox", *(base / "inbox").iterdir(), cfg):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        closed = base / "closed"
        closed.mkdir()

        def enter_closed():
            os.chdir(closed)
            os.chmod(closed, 0o700 if as_root else 0)
            if as_root:  # root's directory, the bot's user
                os.setgid(65534)
                os.setuid(65534)

        done = poll(cfg, enter_closed)
        assert done.returncode == EnvironmentFault.exit_code, done.stderr
        assert f"the current directory {closed} cannot be read by user" in done.stderr
        assert "no mail was charged" in done.stderr and "Traceback" not in done.stderr
        nothing_charged(base / "state")
    finally:
        os.chmod(base / "closed", 0o700)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow  # workers started cold, as in production, and killed by their memory limit
@pytest.mark.cold_workers
def test_workers_that_die_before_they_are_ready_stop_the_poll_and_blame_nobody(tmp_path, monkeypatch):
    ctx = app.load(example_config(tmp_path))
    # a memory limit too small to load the readers: every worker dies at start
    with Extractor(workers=1, memory_limit=16 * MiB) as pool:
        with pytest.raises(EnvironmentFault) as failure:
            app.poll(ctx, NOW, extractor=pool)
        assert "an extraction worker exited before it was ready" in str(failure.value)
        nothing_charged(tmp_path / "state")
        pool.memory_limit = 1024 * MiB  # the cause fixed; the worker (`run`) keeps its pool
        report = app.poll(ctx, NOW, extractor=pool)
    assert (report.processed, report.quarantined) == (INBOX, 0)


def test_a_full_state_disk_stops_the_poll_and_blames_nobody(tmp_path):
    mails = [H.bulk_mail(n) for n in range(40)]
    rules = load_rules(ROOT / "rules")
    with Store.open(tmp_path / "state") as store, Extractor(workers=1) as extractor:
        store.record_fetched([RawMessage(f"t:{n}", m, NOW + timedelta(minutes=n)) for n, m in enumerate(mails)], NOW)
        rawdb.fill_disk(store)  # SQLite's own "database or disk is full"
        with pytest.raises(EnvironmentFault) as failure:
            process_pending(store, rules, extractor, NOW, PollReport(), ocr_available=False)
        assert "the state database cannot be written: database or disk is full" in str(failure.value)
        nothing_charged(tmp_path / "state", marks=(None, "batch"))
        rawdb.free_disk(store)  # space freed
        report = PollReport()
        assert process_pending(store, rules, extractor, NOW, report, ocr_available=False)
        assert (report.processed, report.quarantined) == (40, 0)


def test_a_full_state_disk_while_fetching_stops_the_poll_and_loses_nothing(tmp_path):
    ctx = app.load(example_config(tmp_path))
    with Store.open(ctx.config.paths.state) as store:
        rawdb.fill_disk(store)  # SQLite's own "database or disk is full"
        source = open_source(ctx.config.mailbox)
        with pytest.raises(EnvironmentFault) as failure:
            ingest(source, store, NOW, PollReport())
        source.close()
        assert str(failure.value).startswith("the state database cannot be written: database or disk is full; "
                                             "the mail not recorded stays in the mailbox and is fetched again")
        assert store.message_counts() == {} and store.checkpoint(source.key) is None
    assert app.poll(ctx, NOW).processed == INBOX  # space freed (a new connection): all of it is there
