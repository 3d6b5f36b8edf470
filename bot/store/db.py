"""The database connection, its schema migrations and its transactions.

Every time written to the database goes through ``clock.utc`` (timezone-aware
datetimes only, kept as UTC ISO-8601 text: one format, so that ``ORDER BY``
and comparisons with a time given as ``utc(now)`` are right as text).
Every aggregate module of the package (messages, items, corrections,
marks, outbox...) is a mixin of ``Store`` and writes with ``self.conn``
inside ``self.transaction()``.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Iterator, Self

from ..archive import BlobStore
from ..clock import utc
from ..errors import StoreError, environmental
from ..schema import MIGRATIONS

DB_NAME = "bot.sqlite3"


class StoreBase:
    """The state directory: ``bot.sqlite3``, ``archive/`` (raw mail), ``blobs/`` (attachments)."""

    def __init__(self, conn: sqlite3.Connection, state_dir: Path):
        self.conn = conn
        self.state_dir = state_dir
        self.archive = BlobStore(state_dir / "archive", ".eml")
        self.blobs = BlobStore(state_dir / "blobs")

    @classmethod
    def open(cls, state_dir: Path) -> Self:
        """Open (creating if needed) the state directory and migrate the database."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(state_dir / DB_NAME, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the state database in {state_dir}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        store = cls(conn, state_dir)
        store.migrate()
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema ---------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema up to date. Each step re-reads the version inside
        its own write transaction, so two processes starting at once cannot
        apply the same migration twice. A database already up to date is
        left alone (one read: no write transaction, no wait for a writer)."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == len(MIGRATIONS):
            return
        # Foreign keys are off while migrating (the documented way to rebuild a
        # table in SQLite) and checked before each step commits.
        self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            for number, script in enumerate(MIGRATIONS, start=1):
                with self.transaction():
                    version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > len(MIGRATIONS):
                        raise StoreError(f"the state database is at schema {version}, newer than this bot "
                                         f"({len(MIGRATIONS)})",
                                         hint="upgrade the bot, or restore a backup of the state directory")
                    if version >= number:
                        continue
                    for statement in statements(script):
                        self.conn.execute(statement)
                    if self.conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                        raise StoreError(f"migration {number} would break a foreign key; nothing was changed")
                    self.conn.execute(f"PRAGMA user_version = {number}")
        finally:
            self.conn.execute("PRAGMA foreign_keys=ON")

    def schema_version(self) -> int:
        """The schema version of the database (``PRAGMA user_version``)."""
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def journal_mode(self) -> str:
        """SQLite's journal mode of the database ('wal' once opened)."""
        return self.conn.execute("PRAGMA journal_mode").fetchone()[0]

    def foreign_keys_enforced(self) -> bool:
        """Whether this connection checks foreign keys (it does, except while migrating)."""
        return bool(self.conn.execute("PRAGMA foreign_keys").fetchone()[0])

    def foreign_key_violations(self) -> int:
        """How many rows point at a row that does not exist (0 in a sound database)."""
        return len(self.conn.execute("PRAGMA foreign_key_check").fetchall())

    def transaction(self):
        return Transaction(self.conn)


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    Inside an open transaction it is a SAVEPOINT instead: an operation that
    writes in its own transaction (``add_correction``, ``record_processed``)
    can then be part of a larger one (a coordinator's command mail: its
    corrections, the reply and the message's "done" commit together). An
    exception undoes only the inner part and propagates.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.savepoint: str | None = None

    def __enter__(self):
        if self.conn.in_transaction:
            self.savepoint = f"sp_{id(self):x}"
            self.conn.execute(f"SAVEPOINT {self.savepoint}")
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not self.conn.in_transaction:
            return False  # SQLite rolled it back itself (disk full, I/O error): the first error is the one to tell
        if self.savepoint:
            if exc_type is not None:
                self.conn.execute(f"ROLLBACK TO {self.savepoint}")
            self.conn.execute(f"RELEASE {self.savepoint}")
        else:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False


def statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement


def conditions(*given: tuple[str, object]) -> tuple[str, list]:
    """The optional filters of a query: each ``(sql, value)`` whose value is not
    None becomes `` AND sql`` with its argument (a datetime as ``clock.utc`` writes it),
    e.g. ``conditions(("cycle = ?", cycle), ("at <= ?", as_of))`` for "as of" reads."""
    kept = [(sql, utc(value) if isinstance(value, datetime) else value) for sql, value in given if value is not None]
    return "".join(f" AND {sql}" for sql, _ in kept), [value for _, value in kept]


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def environment_fault(exc: BaseException) -> str | None:
    """What is wrong with the machine, when ``exc`` comes from it rather than
    from a message (the state disk full or read-only, the database locked,
    an I/O error, permissions); None when it does not."""
    if isinstance(exc, sqlite3.OperationalError):
        return f"the state database cannot be written: {exc}"
    if environmental(exc):
        return f"the state directory cannot be used: {type(exc).__name__}: {exc}"
    return None

