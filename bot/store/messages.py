"""Reading the stored messages: who sent what and when, for health, the digest, audits and flood control."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from ..clock import utc
from .db import conditions

if TYPE_CHECKING:  # annotations only: the records load with the reads that make them
    from .messages_records import InboundMail, MessageRecord


class MessagesMixin:
    """Reading the ``messages`` table (a part of ``Store``)."""

    def message_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT status, COUNT(*) FROM messages GROUP BY status")}

    def messages_between(self, start: datetime, end: datetime) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            "SELECT id, message_id, from_addr, subject, automatic, auth, bounces, received_at FROM messages"
            " WHERE status = 'done' AND received_at >= ? AND received_at < ? ORDER BY received_at",
            (utc(start), utc(end)))]

    def message_records(self) -> list[MessageRecord]:
        """Every stored message, by row id."""
        return [message_record(r) for r in self.conn.execute("SELECT * FROM messages ORDER BY id")]

    def message_record(self, row: int) -> MessageRecord | None:
        r = self.conn.execute("SELECT * FROM messages WHERE id = ?", (row,)).fetchone()
        return message_record(r) if r else None

    def message_row_of(self, source_key: str) -> int | None:
        """The row id of the message fetched as ``source_key``, if stored."""
        r = self.conn.execute("SELECT id FROM messages WHERE source_key = ?", (source_key,)).fetchone()
        return r[0] if r else None

    def verified_sender(self, message_row: int) -> str | None:
        """The sender of a message, lower case, if it is not automatic and the
        trusted Authentication-Results passed for it; None otherwise."""
        r = self.conn.execute("SELECT from_addr FROM messages WHERE id = ? AND auth = 'pass' AND automatic IS NULL",
                              (message_row,)).fetchone()
        return r[0].strip().lower() if r and r[0] else None

    def mail_from(self, since: datetime | None = None, *, as_of: datetime | None = None) -> list[InboundMail]:
        """Every stored message with a sender (received at or after ``since``, and by ``as_of``),
        automatic ones too, in the order they were stored."""
        where, args = conditions(("received_at >= ?", since), ("received_at <= ?", as_of))
        rows = self.conn.execute(
            f"SELECT from_addr, received_at FROM messages WHERE from_addr IS NOT NULL AND from_addr != ''{where}"
            " ORDER BY id", args).fetchall()
        if not rows:  # health's recent mail, mostly: no record to make
            return []
        from .messages_records import InboundMail  # not at the top: records load with the reads that make them

        return [InboundMail(r[0], datetime.fromisoformat(r[1])) for r in rows]

    def personal_mail_from(self, addresses: Sequence[str], *, as_of: datetime | None = None) -> list[InboundMail]:
        """The mail a person sent from one of ``addresses`` (lower case): not
        automatic, not a delivery report, not failing authentication; with
        ``as_of``, only what was received by then."""
        from .messages_records import InboundMail  # not at the top: records load with the reads that make them

        addresses = list(addresses)
        if not addresses:
            return []
        where, args = conditions(("received_at <= ?", as_of))
        return [InboundMail(r[0], datetime.fromisoformat(r[1])) for r in self.conn.execute(
            f"SELECT from_addr, received_at FROM messages WHERE lower(from_addr) IN ({','.join('?' * len(addresses))})"
            " AND automatic IS NULL AND (bounces IS NULL OR bounces IN ('', '[]')) AND COALESCE(auth, '') != 'fail'"
            f"{where}", [*addresses, *args])]

    def personal_mail_done(self, since: datetime, until: datetime) -> list[InboundMail]:
        """The messages processed that are not automatic and have a sender, with
        their subject, received from ``since`` to ``until`` (both included), in the order they were stored."""
        from .messages_records import InboundMail  # not at the top: records load with the reads that make them

        return [InboundMail(r[0], datetime.fromisoformat(r[2]), r[1] or "") for r in self.conn.execute(
            "SELECT from_addr, subject, received_at FROM messages WHERE status = 'done'"
            " AND automatic IS NULL AND from_addr IS NOT NULL AND from_addr != ''"
            " AND received_at >= ? AND received_at <= ? ORDER BY id", (utc(since), utc(until)))]


def message_record(r: sqlite3.Row) -> MessageRecord:
    from .messages_records import MessageRecord  # not at the top: records load with the reads that make them

    try:
        bounces = tuple(json.loads(r["bounces"] or "[]"))
    except ValueError:
        bounces = ()
    return MessageRecord(
        id=r["id"], sha256=r["sha256"], message_id=r["message_id"], source_key=r["source_key"],
        received_at=datetime.fromisoformat(r["received_at"]), size=r["size"], status=r["status"],
        attempts=r["attempts"], last_error=r["last_error"], from_addr=r["from_addr"], subject=r["subject"],
        automatic=r["automatic"], auth=r["auth"], bounces=bounces, fetched_at=datetime.fromisoformat(r["fetched_at"]),
        processed_at=datetime.fromisoformat(r["processed_at"]) if r["processed_at"] else None,
        inflight=r["inflight"], resumed=r["resumed"])
