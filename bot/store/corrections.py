"""Corrections: what a person decided about items and schools (the audit trail)."""
from __future__ import annotations

import sqlite3
from datetime import datetime

from ..clock import utc
from ..model import Correction
from .db import conditions


class CorrectionsMixin:
    """The ``corrections`` table (a part of ``Store``)."""

    def add_correction(self, *, kind: str, cycle: int, who: str, why: str, via: str, now: datetime,
                       item_id: int | None = None, school: str | None = None, doc_type: str | None = None,
                       value: str | None = None) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO corrections (kind, item_id, school, doc_type, cycle, value, who, why, via, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, item_id, school, doc_type, cycle, value, who, why, via, utc(now)))
        return cur.lastrowid

    def corrections(self, cycle: int | None = None, *, as_of: datetime | None = None) -> list[Correction]:
        """The corrections (of ``cycle``) in the order they were made; with ``as_of``,
        only those made by then (a ``--now`` simulation sees no later decision)."""
        where, args = conditions(("cycle = ?", cycle), ("at <= ?", as_of))
        return [row_to_correction(r) for r in self.conn.execute(f"SELECT * FROM corrections WHERE 1=1{where} ORDER BY id",
                                                                 args)]

    def correction(self, correction_id: int) -> Correction | None:
        r = self.conn.execute("SELECT * FROM corrections WHERE id = ?", (correction_id,)).fetchone()
        return row_to_correction(r) if r else None

    def newest_correction_id(self) -> int:
        """The highest correction id (0 when there is none)."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM corrections").fetchone()[0]

    def change_counters(self) -> tuple[int | None, int | None, int]:
        """(newest item id, newest correction id, messages done): cheap to
        read, and different whenever a fact the plans depend on changed."""
        items = self.conn.execute("SELECT MAX(id) FROM items").fetchone()[0]
        corrections = self.conn.execute("SELECT MAX(id) FROM corrections").fetchone()[0]
        done = self.conn.execute("SELECT COUNT(*) FROM messages WHERE status = 'done'").fetchone()[0]
        return items, corrections, done


def row_to_correction(r: sqlite3.Row) -> Correction:
    return Correction(r["id"], r["kind"], r["item_id"], r["school"], r["doc_type"], r["cycle"], r["value"],
                      r["who"], r["why"], r["via"], datetime.fromisoformat(r["at"]))
