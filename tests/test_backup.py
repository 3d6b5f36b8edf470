"""`backup` while the worker runs, and a restore from it that the bot reads as the original."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.lock import StateLock

from .configs import ROOT, write_config

NOW = "2023-10-16T08:00"


def _cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def polled(tmp_path) -> Path:
    """A config whose state has two example messages polled."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("0001.eml", "0002.eml"):
        shutil.copy(ROOT / "examples" / "inbox" / name, inbox / name)
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{inbox}"')
    code, out, err = _cli("--config", cfg, "--now", NOW, "poll")
    assert code == 0, err
    return cfg


def _export(cfg: Path) -> list[dict]:
    code, out, err = _cli("--config", cfg, "--now", NOW, "export")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("target_name", ["backup-dir", "backup.tar.gz"])
def test_a_backup_taken_while_the_worker_runs_restores_to_the_same_state(tmp_path, polled, target_name):
    rows = _export(polled)
    assert rows
    target = tmp_path / "backups" / target_name
    spool = tmp_path / "state" / "spool"  # a worker is reading a large attachment from its spooled copy
    spool.mkdir(mode=0o700, exist_ok=True)  # made by the poll
    (spool / "4242-0-1.att").write_bytes(b"%PDF-1.4 a copy of an attachment of an archived mail")
    with StateLock(tmp_path / "state", "run"):  # the worker holds the state: backup still works
        code, out, err = _cli("--config", polled, "--now", NOW, "backup", target)
    assert code == 0, err
    assert out.startswith(f"backup written to {target}: the database (schema ")
    # restore as the guide says: stop, put the copy in place of the state directory, start
    restored = tmp_path / "restored"
    if target_name.endswith(".tar.gz"):
        with tarfile.open(target) as tar:
            tar.extractall(restored, filter="data")
        restored = restored / "state"
    else:
        shutil.copytree(target, restored)
    assert not (restored / "worker.lock").exists() and not (restored / "bot.sqlite3-wal").exists()
    assert any((restored / "archive").rglob("*.eml"))  # the mail as received, not only the database
    assert not (restored / "spool").exists()  # transient copies, of mail the archive holds
    again = tmp_path / "again"
    again.mkdir()
    cfg = write_config(again, f'source = "folder"\npath = "{tmp_path / "inbox"}"')
    cfg.write_text(cfg.read_text().replace(str(again / "state"), str(restored)))
    assert _export(cfg) == rows


def test_backup_never_overwrites_and_never_writes_into_the_state(tmp_path, polled):
    target = tmp_path / "full"
    target.mkdir()
    (target / "something").write_text("x")
    code, _, err = _cli("--config", polled, "backup", target)
    assert code == 2 and "already exists and is not empty" in err
    code, _, err = _cli("--config", polled, "backup", tmp_path / "state" / "b")
    assert code == 2 and "is inside the state directory" in err
