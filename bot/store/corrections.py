"""Corrections: what a person decided about items and schools (the audit trail)."""
from __future__ import annotations

import sqlite3
from datetime import datetime

from ..model import Correction
from .db import iso


class CorrectionsMixin:
    """The ``corrections`` table (a part of ``Store``)."""

    def add_correction(self, *, kind: str, cycle: int, who: str, why: str, via: str, now: datetime,
                       item_id: int | None = None, school: str | None = None, doc_type: str | None = None,
                       value: str | None = None) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO corrections (kind, item_id, school, doc_type, cycle, value, who, why, via, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, item_id, school, doc_type, cycle, value, who, why, via, iso(now)))
        return cur.lastrowid

    def corrections(self, cycle: int | None = None) -> list[Correction]:
        sql = "SELECT * FROM corrections" + (" WHERE cycle = ?" if cycle is not None else "") + " ORDER BY id"
        rows = self.conn.execute(sql, (cycle,) if cycle is not None else ())
        return [row_to_correction(r) for r in rows]

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
