"""Mailbox checkpoints: how far each source was fetched (UIDVALIDITY, last UID)."""
from __future__ import annotations

from datetime import datetime

from ..clock import utc


class CheckpointsMixin:
    """The ``checkpoints`` table (a part of ``Store``)."""

    def checkpoint(self, source: str) -> tuple[int, int] | None:
        row = self.conn.execute("SELECT uidvalidity, last_uid FROM checkpoints WHERE source = ?", (source,)).fetchone()
        return (row[0], row[1]) if row else None

    def save_checkpoint(self, source: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        """Record how far ``source`` was fetched, inside the caller's transaction
        (``record_fetched`` commits it with the messages it stored)."""
        self.conn.execute(
            "INSERT INTO checkpoints (source, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(source) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
            " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            (source, uidvalidity, last_uid, utc(now)))
