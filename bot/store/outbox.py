"""The outbox as ``health`` reads it (the mail queue itself is bot/outbox.py)."""
from __future__ import annotations

from datetime import datetime

from ..clock import utc


class OutboxMixin:
    """The ``outbox`` table (a part of ``Store``)."""

    def outbox_trouble(self, overdue_before: datetime, cycle: int | None = None) -> dict:
        """For health: mail that failed for good (of ``cycle``, or all) with the newest
        error, and queued mail whose next attempt is before ``overdue_before``."""
        where, args = ("status = 'failed'", []) if cycle is None else ("status = 'failed' AND cycle = ?", [cycle])
        failed = self.conn.execute(f"SELECT COUNT(*) FROM outbox WHERE {where}", args).fetchone()[0]
        newest = self.conn.execute(f"SELECT last_error FROM outbox WHERE {where} ORDER BY id DESC LIMIT 1",
                                   args).fetchone()
        overdue = self.conn.execute(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM outbox WHERE status = 'queued' AND next_attempt_at < ?",
            (utc(overdue_before),)).fetchone()
        return {"failed": failed, "failed_error": (newest[0] or "") if newest else "",
                "overdue": overdue[0], "overdue_since": datetime.fromisoformat(overdue[1]) if overdue[1] else None}
