"""``backup``: a consistent copy of the state directory while the worker runs.

The database is copied with SQLite's online backup API (a snapshot that a
concurrent writer cannot tear); the files beside it (``archive/``: every mail
as received, ``blobs/``, ``outbox/``, ``reports/``) are copied as they are:
they are written once under a content hash and never changed, so a copy
taken after the database snapshot holds everything the snapshot refers to.

Restore: stop the worker, put the copy in place of the state directory,
give it to the bot's user, start (see docs/install.md, "Backup, restore,
upgrade"). The database itself is read and copied by the storage layer
(bot/store/snapshot.py).
"""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import StoreError, UsageError
from .schema import MIGRATIONS
from .store import DB_NAME
from .store.snapshot import copy_database, database_version

# Not copied: the lock (held by a live process only), SQLite's side files
# (the backup API folds the WAL into the copy) and half-written temp files.
SKIP = {"worker.lock", f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"}
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


@dataclass(frozen=True)
class BackupReport:
    target: Path
    files: int  # besides the database
    schema: int

    def summary(self) -> str:
        return f"backup written to {self.target}: the database (schema {self.schema}) and {self.files} file(s)"


def schema_version(state_dir: Path) -> int | None:
    """The schema version of the state database (None: there is none yet)."""
    db = state_dir / DB_NAME
    if not db.exists():
        return None
    return database_version(db)


def current_schema() -> int:
    """The schema version this code migrates to."""
    return len(MIGRATIONS)


def backup(state_dir: Path, target: Path, now: datetime) -> BackupReport:
    """Copy ``state_dir`` into ``target``: a new directory, or an archive when
    the name ends in .tar, .tar.gz or .tgz. Refuses to overwrite anything."""
    db = state_dir / DB_NAME
    if not db.exists():
        raise StoreError(f"no state database in {state_dir}: nothing to back up")
    if target.resolve().is_relative_to(state_dir.resolve()):
        raise UsageError(f"{target} is inside the state directory {state_dir}; back up to another place")
    if target.exists() and (target.is_file() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty; give a new directory or archive name")
    archive = target.name.endswith(TAR_SUFFIXES)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {target.parent} ({exc.strerror})") from exc
    stage = Path(tempfile.mkdtemp(prefix=".hoso-backup-", dir=target.parent if archive else None)) if archive \
        else target
    try:
        stage.mkdir(parents=True, exist_ok=True)
        copy_database(db, stage / DB_NAME)
        files = _copy_files(state_dir, stage)
        schema = database_version(stage / DB_NAME, read_only=False)
        (stage / "BACKUP.txt").write_text(f"hoso-bot state backup of {state_dir}\ntaken at {now.isoformat()}\n"
                                          f"schema {schema}\n", encoding="utf-8")
        if archive:
            mode = "w:gz" if target.name.endswith((".gz", ".tgz")) else "w"
            partial = target.with_name(target.name + ".part")
            with tarfile.open(partial, mode) as tar:
                tar.add(stage, arcname="state")
            partial.rename(target)
    except OSError as exc:
        raise StoreError(f"backup to {target} failed: {exc.strerror or exc}",
                         hint="check the free space and that the target's directory is writable") from exc
    finally:
        if archive:
            shutil.rmtree(stage, ignore_errors=True)
    return BackupReport(target=target, files=files, schema=schema)


def _copy_files(state_dir: Path, dest: Path) -> int:
    count = 0
    for root, dirs, files in os.walk(state_dir):
        rel = Path(root).relative_to(state_dir)
        # spool/: transient copies of attachments for the extraction workers (the mail is in archive/)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".hoso-backup-")
                         and not (rel == Path(".") and d == "spool"))
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            if rel == Path(".") and (name in SKIP or name == DB_NAME):
                continue
            if name.startswith(".") and name.endswith(".tmp"):
                continue
            shutil.copy2(Path(root) / name, dest / rel / name)
            count += 1
    return count
