"""The persistent outbox: queue a mail with the decision, send it once.

A mail is inserted (``queue``) in the same transaction as the decision to
send it; its idempotency key is UNIQUE, so the same decision can never be
queued twice. ``deliver_due`` then hands due mail to the sender and marks
each one sent in its own transaction right after the server accepted it.

Exactly once, and the one window left: if the process dies after the SMTP
server answered 250 to DATA and before the UPDATE to 'sent' commits (a few
milliseconds, one local SQLite write), that one mail is sent again on the
next run. Its Message-ID is fixed when it is queued, so mail clients show
the duplicate in the same thread, and most servers drop it as a duplicate.
Everything else (a crash before sending, an SMTP outage, a 4xx reply)
leaves the mail queued: it is neither lost nor duplicated. Only one worker
delivers per state directory (``StateLock``).

Times are stored as UTC ISO strings so they compare as text.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Sequence

from .render import encode_header, set_header
from .send import SmtpFailure

log = logging.getLogger("bot.outbox")

STATUSES = ("queued", "sent", "failed", "cancelled", "superseded")
_PRIORITY = "CASE kind WHEN 'digest' THEN 0 WHEN 'report' THEN 0 WHEN 'receipt' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class Limits:
    daily_cap: int = 500  # mails per rolling 24 hours
    per_minute: int = 20
    retry_for: timedelta = timedelta(days=3)  # temporary failures: keep trying this long
    permanent_attempts: int = 3  # 5xx replies: give up after this many
    backoff_cap: timedelta = timedelta(minutes=60)

    @classmethod
    def from_smtp(cls, smtp) -> "Limits":
        return cls(daily_cap=smtp.daily_cap, per_minute=smtp.per_minute)

    def backoff(self, attempts: int) -> timedelta:
        """1, 2, 4, 8, ... minutes, at most ``backoff_cap``."""
        return min(timedelta(minutes=2 ** max(0, min(attempts - 1, 20))), self.backoff_cap)


@dataclass(frozen=True)
class QueuedMail:
    key: str
    kind: str
    cycle: int
    from_addr: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    raw: bytes
    school: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    kind: str
    school: str | None
    cycle: int
    status: str
    created_at: datetime
    queued_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    message_id: str | None
    subject: str
    from_addr: str
    recipients: tuple[str, ...]
    meta: dict

    @property
    def name(self) -> str:
        """The file name of this mail in state/outbox/ (never from the mail itself)."""
        return f"{self.id:06d}-{self.kind}" + (f"-{self.school}" if self.school else "")


# Verdicts of a re-check just before sending.
@dataclass(frozen=True)
class Cancel:
    """Do not send it. With ``reopen`` (receipts), the items it acknowledges
    become unacknowledged again and its key is freed, in the same
    transaction, so that a later receipt can cover them."""

    reason: str
    reopen: bool = False


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Replace:
    """Send this instead (same key and Message-ID; content brought up to date)."""

    raw: bytes
    recipients: tuple[str, ...]
    subject: str
    meta: dict


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    waiting: int = 0  # left queued by the rate limit or the daily cap
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        for name in ("retrying", "failed", "cancelled", "deferred", "waiting"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        text = ", ".join(parts)
        if self.errors:
            text += "; last error: " + self.errors[-1]
        return text

    def __bool__(self) -> bool:
        return any((self.sent, self.retrying, self.failed, self.cancelled, self.deferred, self.waiting))


def utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the outbox")
    return moment.astimezone(timezone.utc).isoformat()


# -- queueing (inside the caller's transaction) ----------------------------------

def queue(conn: sqlite3.Connection, mail: QueuedMail, now: datetime) -> int | None:
    """Insert a mail; returns its row id, or None if its key was already decided."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO outbox (key, kind, school, cycle, status, created_at, queued_at, next_attempt_at,"
        " message_id, subject, from_addr, recipients, raw, meta)"
        " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (mail.key, mail.kind, mail.school, mail.cycle, utc(now), utc(now), utc(now), mail.message_id, mail.subject,
         mail.from_addr, json.dumps(list(mail.recipients)), mail.raw, json.dumps(mail.meta, ensure_ascii=False)))
    return cur.lastrowid if cur.rowcount else None


def record_superseded(conn: sqlite3.Connection, key: str, by: str, kind: str, cycle: int, school: str | None,
                      now: datetime) -> None:
    """Remember a slot that will not be sent because a later one replaces it."""
    conn.execute(
        "INSERT OR IGNORE INTO outbox (key, kind, school, cycle, status, created_at, queued_at, next_attempt_at,"
        " last_error) VALUES (?, ?, ?, ?, 'superseded', ?, ?, ?, ?)",
        (key, kind, school, cycle, utc(now), utc(now), utc(now), f"superseded by {by}"))


def known_keys(conn: sqlite3.Connection, prefix: str) -> set[str]:
    """Every key starting with ``prefix``, whatever its status (each is decided once)."""
    return {r[0] for r in conn.execute("SELECT key FROM outbox WHERE key >= ? AND key < ?",
                                       (prefix, prefix + "\U0010ffff"))}


def has_key(conn: sqlite3.Connection, key: str) -> bool:
    return conn.execute("SELECT 1 FROM outbox WHERE key = ?", (key,)).fetchone() is not None


# -- reading -----------------------------------------------------------------

def rows(conn: sqlite3.Connection, statuses: Sequence[str] | None = None, limit: int | None = None,
         newest_first: bool = True) -> list[OutboxRow]:
    sql = "SELECT * FROM outbox"
    args: list = []
    if statuses:
        sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
        args += list(statuses)
    sql += " ORDER BY id " + ("DESC" if newest_first else "ASC")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_row(r) for r in conn.execute(sql, args)]


def raw_of(conn: sqlite3.Connection, row_id: int) -> bytes | None:
    r = conn.execute("SELECT raw FROM outbox WHERE id = ?", (row_id,)).fetchone()
    return bytes(r[0]) if r and r[0] is not None else None


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {r[0]: r[1] for r in conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")}


def retry(store, now: datetime, ids: Iterable[int] | None = None) -> int:
    """Failed (and waiting) mail is queued again, due now, with a fresh retry budget."""
    ids = list(ids or [])
    sql = ("UPDATE outbox SET status = 'queued', next_attempt_at = ?, queued_at = ?, attempts = 0, last_error = NULL"
           " WHERE status IN ('failed', 'queued') AND raw IS NOT NULL")
    args: list = [utc(now), utc(now)]
    if ids:
        sql += f" AND id IN ({','.join('?' * len(ids))})"
        args += ids
    with store.transaction():
        return store.conn.execute(sql, args).rowcount


# -- delivering ----------------------------------------------------------------

def deliver_due(store, sender, now: datetime, limits: Limits, allowed: Iterable[str],
                recheck: Callable[[OutboxRow], object] | None = None) -> DeliveryReport:
    """Send every queued mail due at ``now``, within the rate limit and daily cap.

    ``allowed``: the roster's and the coordinators' addresses; a receipt may
    also go to the senders of the items it acknowledges. Any other recipient
    is dropped right before sending (and the mail cancelled if none is left).
    ``recheck(row)`` may return ``Cancel``, ``Defer`` or ``Replace`` (or
    None to send as is): the decision is taken again just before sending.
    ``Defer`` moves the attempt to ``until`` (no attempt counted); ``Cancel``
    with ``reopen`` also gives a receipt's items back (``_cancel_and_reopen``).
    """
    conn = store.conn
    allowed_set = {a.strip().lower() for a in allowed}
    report = DeliveryReport()
    in_minute = sent_since(conn, now - timedelta(minutes=1))
    in_day = sent_since(conn, now - timedelta(days=1))
    due = [_row(r) for r in conn.execute(
        f"SELECT * FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY {_PRIORITY}, id",
        (utc(now),))]
    try:
        for index, row in enumerate(due):
            if in_day >= limits.daily_cap or in_minute >= limits.per_minute:
                report.waiting = len(due) - index
                why = "daily cap" if in_day >= limits.daily_cap else "per-minute rate"
                log.info("outbox: %d mail(s) wait for the %s", report.waiting, why)
                break
            verdict = recheck(row) if recheck else None
            if isinstance(verdict, Cancel):
                if verdict.reopen:
                    _cancel_and_reopen(store, row, verdict.reason, now)
                else:
                    _finish(store, row.id, "cancelled", verdict.reason, now)
                report.cancelled += 1
                log.info("outbox #%d %s cancelled: %s", row.id, row.key, verdict.reason)
                continue
            if isinstance(verdict, Defer):
                with store.transaction():
                    conn.execute("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                                 (utc(verdict.until), verdict.reason, row.id))
                report.deferred += 1
                continue
            if isinstance(verdict, Replace):
                with store.transaction():
                    conn.execute("UPDATE outbox SET raw = ?, recipients = ?, subject = ?, meta = ? WHERE id = ?",
                                 (verdict.raw, json.dumps(list(verdict.recipients)), verdict.subject,
                                  json.dumps(verdict.meta, ensure_ascii=False), row.id))
                row = _row(conn.execute("SELECT * FROM outbox WHERE id = ?", (row.id,)).fetchone())
            raw = raw_of(conn, row.id)
            ok = allowed_set | (_receipt_senders(conn, row.id) if row.kind == "receipt" else set())
            recipients = [a for a in row.recipients if a.lower() in ok]
            dropped = [a for a in row.recipients if a.lower() not in ok]
            if dropped:
                log.warning("outbox #%d: not sending to %s (not in the roster or coordinator list)",
                            row.id, ", ".join(dropped))
                if not recipients:
                    _finish(store, row.id, "cancelled", "no recipient in the roster or coordinator list: "
                            + ", ".join(dropped), now)
                    report.cancelled += 1
                    continue
                raw = with_recipients(raw, recipients)
            try:
                refused = sender.send(raw, row.from_addr, recipients, name=row.name)
            except SmtpFailure as exc:
                error = exc.args[0] if exc.args else str(exc)
                report.errors.append(error)
                attempts = row.attempts + 1
                expired = now - row.queued_at > limits.retry_for
                give_up = (not exc.temporary and attempts >= limits.permanent_attempts) or (exc.temporary and expired)
                if give_up:
                    _finish(store, row.id, "failed", error, now, attempts=attempts)
                    report.failed += 1
                    log.error("outbox #%d %s failed for good after %d attempt(s): %s", row.id, row.key, attempts, error)
                else:
                    retry_at = now + limits.backoff(attempts)
                    with store.transaction():
                        conn.execute("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                                     (attempts, utc(retry_at), error, row.id))
                    report.retrying += 1
                    log.warning("outbox #%d %s: %s; retrying at %s", row.id, row.key, error, retry_at.isoformat())
                    if exc.connection:
                        # The server cannot be used now: the rest waits as long, without an attempt counted.
                        rest = [r.id for r in due[index + 1:]]
                        if rest:
                            with store.transaction():
                                conn.execute(f"UPDATE outbox SET next_attempt_at = ? WHERE status = 'queued' AND"
                                             f" id IN ({','.join('?' * len(rest))})", (utc(retry_at), *rest))
                        report.deferred += len(rest)
                        break
                continue
            # Accepted by the server: record it at once (see the module docstring).
            note = ("refused by the server for " + "; ".join(f"{a}: {c} {m}" for a, (c, m) in refused.items())
                    ) if refused else None
            _finish(store, row.id, "sent", note, now, attempts=row.attempts + 1, sent=True)
            report.sent += 1
            in_minute += 1
            in_day += 1
            log.info("outbox #%d %s %s %s", row.id, row.key, getattr(sender, "delivered", "sent to"),
                     ", ".join(recipients))
    finally:
        sender.close()
    return report


def _finish(store, row_id: int, status: str, note: str | None, now: datetime, attempts: int | None = None,
            sent: bool = False) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE outbox SET status = ?, last_error = ?, attempts = COALESCE(?, attempts),"
            " sent_at = CASE WHEN ? THEN ? ELSE sent_at END WHERE id = ?",
            (status, note, attempts, int(sent), utc(now), row_id))


def _cancel_and_reopen(store, row: OutboxRow, reason: str, now: datetime) -> None:
    """Cancel a receipt and give its items back (one transaction): they are
    no longer acknowledged, and the row's key gets a suffix so that the
    receipt planned for the same items later (same key) can be queued."""
    with store.transaction():
        store.conn.execute("DELETE FROM receipt_items WHERE outbox_id = ?", (row.id,))
        store.conn.execute("UPDATE outbox SET status = 'cancelled', last_error = ?, key = key || ? WHERE id = ?",
                           (reason, f"#cancelled-{row.id}", row.id))


def sent_since(conn, since: datetime) -> int:
    return conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at > ?", (utc(since),)).fetchone()[0]


def _receipt_senders(conn, outbox_id: int) -> set[str]:
    return {(r[0] or "").lower() for r in conn.execute(
        "SELECT DISTINCT m.from_addr FROM receipt_items ri JOIN items i ON i.id = ri.item_id"
        " JOIN messages m ON m.id = i.message_row WHERE ri.outbox_id = ? AND m.automatic IS NULL", (outbox_id,))}


def with_recipients(raw: bytes, recipients: Sequence[str]) -> bytes:
    """``raw`` with its To header naming ``recipients`` only."""
    return set_header(raw, "To", encode_header("To", ", ".join(recipients)))


def _row(r: sqlite3.Row) -> OutboxRow:
    def t(v):
        return datetime.fromisoformat(v) if v else None
    return OutboxRow(id=r["id"], key=r["key"], kind=r["kind"], school=r["school"], cycle=r["cycle"],
                     status=r["status"], created_at=t(r["created_at"]), queued_at=t(r["queued_at"]),
                     attempts=r["attempts"], next_attempt_at=t(r["next_attempt_at"]), last_error=r["last_error"],
                     sent_at=t(r["sent_at"]), message_id=r["message_id"], subject=r["subject"],
                     from_addr=r["from_addr"], recipients=tuple(json.loads(r["recipients"])),
                     meta=json.loads(r["meta"] or "{}"))


__all__ = ["Limits", "QueuedMail", "OutboxRow", "DeliveryReport", "Cancel", "Defer", "Replace", "queue",
           "record_superseded", "known_keys", "sent_since", "has_key", "rows", "raw_of", "counts", "retry", "deliver_due", "utc",
           "with_recipients"]
