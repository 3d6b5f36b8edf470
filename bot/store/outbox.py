"""The outbox and the receipts: the mail queue's rows, and which items each
receipt acknowledges (``receipt_items``, written here only).

What to send and when is decided in bot/outbound/ (outbox.py, notify.py); this
module only reads and writes the rows. Times are stored as UTC ISO-8601
text (``clock.utc``) so that they compare as text.

Methods documented "inside the caller's transaction" open none: they are
part of the decision that queues the mail (see bot/outbound/outbox.py).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Sequence

from ..clock import utc
from ..mailkey import SENDER_RECEIPT, MailKey

if TYPE_CHECKING:  # annotations only: the records load with the reads that make them
    from .outbox_health import OutboxTrouble
    from .outbox_records import OutboxRow, QueuedMail, SentReply

# Order of a delivery pass: the coordinator's digest and reports, then reminders and command replies, then
# receipts to the roster, then receipts to senders outside it (never ahead of anything else).
_PRIORITY = ("CASE kind WHEN 'digest' THEN 0 WHEN 'report' THEN 0 WHEN 'reminder' THEN 1 WHEN 'reply' THEN 1"
             f" ELSE 2 END, CASE WHEN key_kind = '{SENDER_RECEIPT}' THEN 1 ELSE 0 END")
# The suffix a receipt given back takes after its key (``cancel_and_reopen``): its key is free again.
_CANCELLED = "#cancelled-"


class OutboxMixin:
    """The ``outbox`` and ``receipt_items`` tables (a part of ``Store``)."""

    # -- queueing (inside the caller's transaction) ------------------------------
    def queue_mail(self, mail: QueuedMail, now: datetime) -> int | None:
        """Insert a mail, due at ``now``; returns its row id, or None if its key was
        already decided. Inside the caller's transaction."""
        k = mail.key
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO outbox (key, key_kind, key_school, key_cycle, key_slot, key_deadline, key_ref, kind,"
            " school, cycle, status, created_at, queued_at, next_attempt_at, message_id, subject, from_addr,"
            " recipients, raw, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (k.text, k.kind, k.school, k.cycle, k.slot, k.deadline, k.ref, mail.kind, mail.school, mail.cycle, utc(now), utc(now),
             utc(now), mail.message_id, mail.subject, mail.from_addr, json.dumps(list(mail.recipients)), mail.raw,
             json.dumps(mail.meta, ensure_ascii=False)))
        return cur.lastrowid if cur.rowcount else None

    def record_superseded(self, key: MailKey, by: MailKey, now: datetime) -> None:
        """Remember a slot that will not be sent because a later one (``by``) replaces it.
        Inside the caller's transaction."""
        self.conn.execute(
            "INSERT OR IGNORE INTO outbox (key, key_kind, key_school, key_cycle, key_slot, key_deadline, key_ref, kind,"
            " school, cycle, status, created_at, queued_at, next_attempt_at, last_error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'superseded', ?, ?, ?, ?)",
            (key.text, key.kind, key.school, key.cycle, key.slot, key.deadline, key.ref, key.mail_kind, key.school,
             key.cycle, utc(now), utc(now), utc(now), f"superseded by {by.text}"))

    def acknowledge_items(self, outbox_id: int, item_ids: Iterable[int]) -> None:
        """Record that the receipt ``outbox_id`` acknowledges these items.
        Inside the caller's transaction."""
        for item_id in item_ids:
            self.conn.execute("INSERT OR IGNORE INTO receipt_items (item_id, outbox_id) VALUES (?, ?)",
                              (item_id, outbox_id))

    def acknowledged_items(self) -> set[int]:
        """The ids of every item a receipt was queued for (and not given back)."""
        return {r[0] for r in self.conn.execute("SELECT item_id FROM receipt_items")}

    def receipt_item_ids(self, outbox_id: int) -> list[int]:
        """The items the receipt ``outbox_id`` acknowledges, by id."""
        return [r[0] for r in self.conn.execute("SELECT item_id FROM receipt_items WHERE outbox_id = ?"
                                                " ORDER BY item_id", (outbox_id,))]

    # -- reading -------------------------------------------------------------------
    def outbox_keys(self, kind: str) -> set[MailKey]:
        """Every key of this kind (``MailKey.kind``), whatever its status (each is decided once),
        but those of receipts given back (their key is free again)."""
        return {mail_key(r) for r in self.conn.execute(
            "SELECT key_kind, key_school, key_cycle, key_slot, key_deadline, key_ref FROM outbox"
            " WHERE key_kind = ? AND instr(key, ?) = 0", (kind, _CANCELLED))}

    def outbox_has_key(self, key: MailKey) -> bool:
        """Whether a mail with this key was ever queued (or superseded)."""
        return self.conn.execute("SELECT 1 FROM outbox WHERE key = ?", (key.text,)).fetchone() is not None

    def outbox_rows(self, statuses: Sequence[str] | None = None, limit: int | None = None,
                    newest_first: bool = True) -> list[OutboxRow]:
        """The rows (of ``statuses``, or all), by id, at most ``limit``."""
        sql = "SELECT * FROM outbox"
        args: list = []
        if statuses:
            sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args += list(statuses)
        sql += " ORDER BY id " + ("DESC" if newest_first else "ASC")
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [outbox_row(r) for r in self.conn.execute(sql, args)]

    def outbox_row(self, row_id: int) -> OutboxRow | None:
        r = self.conn.execute("SELECT * FROM outbox WHERE id = ?", (row_id,)).fetchone()
        return outbox_row(r) if r else None

    def outbox_raw(self, row_id: int) -> bytes | None:
        """The bytes of a mail as it will be (or was) sent; None for a superseded slot."""
        r = self.conn.execute("SELECT raw FROM outbox WHERE id = ?", (row_id,)).fetchone()
        return bytes(r[0]) if r and r[0] is not None else None

    def outbox_counts(self) -> dict[str, int]:
        """How many rows have each status."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")}

    def outbox_waiting(self) -> int:
        """How many mails are queued (due or not)."""
        return self.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'queued'").fetchone()[0]

    def sent_since(self, since: datetime, *, receipts: bool = True, sender_receipts: bool = False) -> int:
        """Mail sent after ``since``: all of it; without ``receipts``, all but
        receipts; with ``sender_receipts``, only receipts to senders outside the roster."""
        sql = "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at > ?"
        if not receipts:
            sql += " AND kind != 'receipt'"
        if sender_receipts:
            sql += f" AND key_kind = '{SENDER_RECEIPT}'"
        return self.conn.execute(sql, (utc(since),)).fetchone()[0]

    def has_due_mail(self, now: datetime) -> bool:
        """Whether any queued mail is due at ``now`` (what ``due_mail`` would return is not empty)."""
        return self.conn.execute("SELECT 1 FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? LIMIT 1",
                                 (utc(now),)).fetchone() is not None

    def due_mail(self, now: datetime) -> list[OutboxRow]:
        """The queued mail due at ``now``, in the order of a delivery pass: the
        coordinator's mail first, receipts to senders outside the roster last."""
        return [outbox_row(r) for r in self.conn.execute(
            f"SELECT * FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY {_PRIORITY}, id",
            (utc(now),))]

    def sent_replies(self) -> list[SentReply]:
        """Every command reply queued, with the kind of reply its meta names (replies
        without one, or with unreadable meta, are left out), in no particular order."""
        from .outbox_records import SentReply  # not at the top: records load with the reads that make them

        out = []
        for r in self.conn.execute("SELECT recipients, meta, created_at FROM outbox WHERE kind = 'reply'"):
            try:
                meta, recipients = json.loads(r["meta"] or "{}"), json.loads(r["recipients"] or "[]")
            except ValueError:
                continue
            if isinstance(meta, dict) and meta.get("reply"):
                out.append(SentReply(tuple(recipients), meta["reply"], datetime.fromisoformat(r["created_at"])))
        return out

    def outbox_trouble(self, overdue_before: datetime, cycle: int | None = None) -> OutboxTrouble:
        """For health: mail that failed for good (of ``cycle``, or all) with the newest
        error, and queued mail whose next attempt is before ``overdue_before``."""
        from .outbox_health import OutboxTrouble  # not at the top: records load with the reads that make them

        where, args = ("status = 'failed'", []) if cycle is None else ("status = 'failed' AND cycle = ?", [cycle])
        failed = self.conn.execute(f"SELECT COUNT(*) FROM outbox WHERE {where}", args).fetchone()[0]
        newest = self.conn.execute(f"SELECT last_error FROM outbox WHERE {where} ORDER BY id DESC LIMIT 1",
                                   args).fetchone()
        overdue = self.conn.execute(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM outbox WHERE status = 'queued' AND next_attempt_at < ?",
            (utc(overdue_before),)).fetchone()
        return OutboxTrouble(failed=failed, failed_error=(newest[0] or "") if newest else "", overdue=overdue[0],
                             overdue_since=datetime.fromisoformat(overdue[1]) if overdue[1] else None)

    # -- delivering (each in its own transaction) -----------------------------------
    def requeue_mail(self, now: datetime, ids: Iterable[int] | None = None) -> int:
        """Failed (and waiting) mail (of ``ids``, or all) is queued again, due
        now, with a fresh retry budget; returns how many."""
        ids = list(ids or [])
        sql = ("UPDATE outbox SET status = 'queued', next_attempt_at = ?, queued_at = ?, attempts = 0,"
               " last_error = NULL WHERE status IN ('failed', 'queued') AND raw IS NOT NULL")
        args: list = [utc(now), utc(now)]
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        with self.transaction():
            return self.conn.execute(sql, args).rowcount

    def defer_mail(self, row_id: int, until: datetime, reason: str) -> None:
        """Move a mail's next attempt to ``until`` (no attempt counted)."""
        with self.transaction():
            self.conn.execute("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                              (utc(until), reason, row_id))

    def replace_mail(self, row_id: int, raw: bytes, recipients: Sequence[str], subject: str,
                     meta: dict) -> OutboxRow:
        """Bring a queued mail up to date (same key and Message-ID); returns the row as it is now."""
        with self.transaction():
            self.conn.execute("UPDATE outbox SET raw = ?, recipients = ?, subject = ?, meta = ? WHERE id = ?",
                              (raw, json.dumps(list(recipients)), subject, json.dumps(meta, ensure_ascii=False),
                               row_id))
        return self.outbox_row(row_id)

    def schedule_retry(self, row_id: int, attempts: int, retry_at: datetime, error: str) -> None:
        """Keep a failed attempt's count and error; try again at ``retry_at``."""
        with self.transaction():
            self.conn.execute("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                              (attempts, utc(retry_at), error, row_id))

    def postpone_queued(self, ids: Sequence[int], until: datetime) -> None:
        """Move the next attempt of these mails (those still queued) to ``until``, no attempt counted."""
        if not ids:
            return
        with self.transaction():
            self.conn.execute(f"UPDATE outbox SET next_attempt_at = ? WHERE status = 'queued' AND"
                              f" id IN ({','.join('?' * len(ids))})", (utc(until), *ids))

    def finish_mail(self, row_id: int, status: str, note: str | None, now: datetime, attempts: int | None = None,
                    sent: bool = False, recipients: Sequence[str] | None = None) -> None:
        """Close a row (sent, failed, cancelled) with ``note``; ``sent``: record
        ``now`` as when it was sent; ``recipients``: who it really went to, when
        some were left out (a bounce is believed only for an address the mail went to)."""
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET status = ?, last_error = ?, attempts = COALESCE(?, attempts),"
                " sent_at = CASE WHEN ? THEN ? ELSE sent_at END,"
                " recipients = COALESCE(?, recipients) WHERE id = ?",
                (status, note, attempts, int(sent), utc(now),
                 json.dumps(list(recipients)) if recipients is not None else None, row_id))

    def cancel_and_reopen(self, row_id: int, reason: str) -> None:
        """Cancel a receipt and give its items back (one transaction): they are
        no longer acknowledged, and the row's key gets a suffix so that the
        receipt planned for the same items later (same key) can be queued."""
        with self.transaction():
            self.conn.execute("DELETE FROM receipt_items WHERE outbox_id = ?", (row_id,))
            self.conn.execute("UPDATE outbox SET status = 'cancelled', last_error = ?, key = key || ? WHERE id = ?",
                              (reason, f"{_CANCELLED}{row_id}", row_id))


def outbox_row(r: sqlite3.Row) -> OutboxRow:
    from .outbox_records import OutboxRow  # not at the top: records load with the reads that make them

    def t(v):
        return datetime.fromisoformat(v) if v else None
    return OutboxRow(id=r["id"], key=r["key"], kind=r["kind"], school=r["school"], cycle=r["cycle"],
                     status=r["status"], created_at=t(r["created_at"]), queued_at=t(r["queued_at"]),
                     attempts=r["attempts"], next_attempt_at=t(r["next_attempt_at"]), last_error=r["last_error"],
                     sent_at=t(r["sent_at"]), message_id=r["message_id"], subject=r["subject"],
                     from_addr=r["from_addr"], recipients=tuple(json.loads(r["recipients"])),
                     meta=json.loads(r["meta"] or "{}"), mail_key=mail_key(r) if r["key_kind"] else None)


def mail_key(r: sqlite3.Row) -> MailKey:
    """The ``MailKey`` of an outbox row, from its ``key_*`` columns."""
    return MailKey(r["key_kind"], r["key_cycle"], r["key_school"], r["key_slot"], r["key_deadline"], r["key_ref"])
