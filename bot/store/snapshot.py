"""The database file as a whole, for ``backup``: its schema version and a
consistent copy taken while the worker writes."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StoreError


def database_version(db: Path, *, read_only: bool = True) -> int:
    """The schema version (``PRAGMA user_version``) of the database file ``db``."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) if read_only else sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def copy_database(source: Path, dest: Path) -> None:
    """Copy the database ``source`` into the new file ``dest`` with SQLite's
    online backup API (a snapshot a concurrent writer cannot tear), as one
    self-contained file (no WAL). Raises StoreError when SQLite fails."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        with dst:
            src.backup(dst)  # the online backup API: a consistent snapshot, writers go on
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise StoreError(f"copying the database {source} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()
