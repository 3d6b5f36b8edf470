"""The state database opened behind the store's back, for the tests that
need a database the bot itself never writes.

Only for:
- building a database of an earlier schema version, to test the migrations;
- putting a fault or an old state in on purpose: a row put back as if the
  process died before its commit, an earlier version's bookkeeping emptied,
  recipients changed as an attacker with access to the disk would;
- watching, read-only and without migrating, a database that another
  process (a bot being killed) is writing;
- making SQLite answer "database or disk is full" on the store's own
  connection (``max_page_count`` is a setting of one connection).

The storage layer has, and must have, no method for any of that. Every
other test reads and writes through ``bot.store.Store``;
tests/test_architecture_sql.py allows SQL in tests/ here only.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bot.schema import MIGRATIONS
from bot.store import DB_NAME, Store


@contextmanager
def connect(state: Path) -> Iterator[sqlite3.Connection]:
    """A connection of its own to ``state``'s database (autocommit), closed on exit."""
    conn = sqlite3.connect(state / DB_NAME, isolation_level=None, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def old_database(state: Path, version: int, *rows: str | tuple[str, tuple]) -> None:
    """Create ``state``'s database as the bot of schema ``version`` left it
    (its first ``version`` migrations), then run ``rows`` (SQL, or SQL and
    its arguments) in it: the starting point of a migration test."""
    state.mkdir(parents=True, exist_ok=True)
    with connect(state) as conn:
        for number, script in enumerate(MIGRATIONS[:version], start=1):
            conn.executescript(script)
            conn.execute(f"PRAGMA user_version = {number}")
        for row in rows:
            sql, args = (row, ()) if isinstance(row, str) else row
            conn.execute(sql, args)


def tamper(state: Path, sql: str, args: tuple = ()) -> int:
    """Run one statement on ``state``'s database outside the store; returns the rows it changed."""
    with connect(state) as conn:
        return conn.execute(sql, args).rowcount


def watch(db: Path, sql: str, default: tuple) -> tuple:
    """The one row ``sql`` gives on the database file ``db``, read-only beside
    the process writing it (WAL); ``default`` while it cannot be read (not
    created yet, or being migrated)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return tuple(conn.execute(sql).fetchone())
        finally:
            conn.close()
    except sqlite3.Error:
        return default


def fill_disk(store: Store) -> None:
    """From now on the store's connection cannot grow the database: SQLite's
    own "database or disk is full", as on a full state disk."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")


def free_disk(store: Store) -> None:
    """Undo ``fill_disk``: space was freed."""
    store.conn.execute("PRAGMA max_page_count = 1073741823")
