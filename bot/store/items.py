"""Reading the items: what each file or document part of a mail was found to be."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from ..model import ReasonCode, StoredItem
from ..official.record import evidence_from_dict
from .db import conditions

if TYPE_CHECKING:  # annotations only: the records load with the reads that make them
    from .items_records import ItemOrigin, ItemRecord


class ItemsMixin:
    """Reading the ``items`` table (a part of ``Store``; ``ProcessingMixin.record_processed`` writes it)."""

    def items(self, cycle: int | None = None, decision: str | None = None, *,
              as_of: datetime | None = None) -> list[StoredItem]:
        """The items (of ``cycle``, with ``decision``), in the order they were received; with
        ``as_of``, only those received by then (a ``--now`` simulation sees no later mail)."""
        where, args = conditions(("i.cycle = ?", cycle), ("i.decision = ?", decision), ("i.received_at <= ?", as_of))
        return [stored_item(r) for r in self.conn.execute(
            "SELECT i.*, m.message_id, m.from_addr, m.subject FROM items i JOIN messages m ON m.id = i.message_row"
            f" WHERE 1=1{where} ORDER BY i.received_at, i.id", args)]

    def item(self, item_id: int) -> StoredItem | None:
        r = self.conn.execute("SELECT i.*, m.message_id, m.from_addr, m.subject FROM items i"
                              " JOIN messages m ON m.id = i.message_row WHERE i.id = ?", (item_id,)).fetchone()
        return stored_item(r) if r else None

    def item_ids_of(self, message_row: int) -> list[int]:
        """The ids of a message's items, in the order of its parts."""
        return [r[0] for r in self.conn.execute("SELECT id FROM items WHERE message_row = ? ORDER BY part_index",
                                                (message_row,))]

    def item_records(self) -> list[ItemRecord]:
        """Every stored item with its bookkeeping, by id."""
        from .items_records import ItemRecord  # not at the top: records load with the reads that make them

        return [ItemRecord(r["id"], r["message_row"], r["container"], r["filename"], r["occurrence"], r["part_index"],
                           r["decision"], tuple(json.loads(r["reasons"])), datetime.fromisoformat(r["classified_at"]))
                for r in self.conn.execute("SELECT * FROM items ORDER BY id")]

    def newest_item_id(self) -> int:
        """The highest item id (0 when there is none)."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM items").fetchone()[0]

    def item_origins(self, cycle: int) -> dict[int, ItemOrigin]:
        """Where each item of ``cycle`` came from, by item id."""
        from .items_records import ItemOrigin  # not at the top: records load with the reads that make them

        return {r["id"]: ItemOrigin(r["id"], r["filename"], datetime.fromisoformat(r["received_at"]),
                                    r["first_page"], r["last_page"], r["parts"], r["message_row"], r["from_addr"],
                                    r["automatic"], r["auth"])
                for r in self.conn.execute(
                    "SELECT i.id, i.filename, i.received_at, i.first_page, i.last_page, m.id AS message_row,"
                    " m.from_addr, m.automatic, m.auth,"
                    " COUNT(*) OVER (PARTITION BY i.message_row, i.container, i.filename, i.occurrence) AS parts"
                    " FROM items i JOIN messages m ON m.id = i.message_row WHERE i.cycle = ?", (cycle,))}

    def item_times(self, cycle: int, after: datetime | None = None,
                   as_of: datetime | None = None) -> list[datetime]:
        """When each item of ``cycle`` (received after ``after`` and, given ``as_of``, by then) was received."""
        where, args = conditions(("received_at > ?", after), ("received_at <= ?", as_of))
        return [datetime.fromisoformat(r[0])
                for r in self.conn.execute(f"SELECT received_at FROM items WHERE cycle = ?{where}", [cycle, *args])]


def stored_item(r: sqlite3.Row) -> StoredItem:
    return StoredItem(
        id=r["id"], message_id=r["message_id"], from_addr=r["from_addr"] or "", subject=r["subject"] or "",
        received_at=datetime.fromisoformat(r["received_at"]), container=r["container"], filename=r["filename"],
        part_index=r["part_index"], first_page=r["first_page"], last_page=r["last_page"], school=r["school"],
        doc_types=tuple(json.loads(r["doc_types"])), campaign=bool(r["campaign"]), decision=r["decision"],
        confidence=r["confidence"], reasons=tuple(json.loads(r["reasons"])), cycle=r["cycle"],
        content_sha256=r["content_sha256"],
        # NULL: recorded before the official-copy check existed (not checked, never "unofficial")
        evidence=evidence_from_dict(json.loads(r["evidence"])) if r["evidence"] else None,
        reason_code=_reason_code(r["reason_code"]))


_REASON_CODES = {c.value: c for c in ReasonCode}


def _reason_code(value: str | None) -> ReasonCode | None:
    """The stored code; None for old rows (and for a code this version does not know)."""
    return _REASON_CODES.get(value) if value else None
