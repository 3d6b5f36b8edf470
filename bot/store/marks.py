"""Marks: named moments kept for ``health`` (the last poll, the last digest...)."""
from __future__ import annotations

from datetime import datetime

from ..clock import utc


class MarksMixin:
    """The ``marks`` table (a part of ``Store``)."""

    def set_mark(self, name: str, now: datetime, detail: str = "") -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO marks (name, at, detail) VALUES (?, ?, ?)", (name, utc(now), detail))

    def mark(self, name: str) -> tuple[datetime, str] | None:
        r = self.conn.execute("SELECT at, detail FROM marks WHERE name = ?", (name,)).fetchone()
        return (datetime.fromisoformat(r[0]), r[1]) if r else None
