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
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

from .bounces import BounceVerdict, SentMail, normalise_id
from .clock import utc
from .render import encode_header, set_header
from .send import SmtpFailure

log = logging.getLogger("bot.outbox")

STATUSES = ("queued", "sent", "failed", "cancelled", "superseded")
# Order of a delivery pass: the coordinator's digest and reports, then reminders and command replies, then
# receipts to the roster, then receipts to senders outside it (never ahead of anything else).
SENDER_RECEIPT = "receipt-to-sender:"  # key prefix of a receipt to a sender outside the roster (plan.sender_receipt_key)
_PRIORITY = ("CASE kind WHEN 'digest' THEN 0 WHEN 'report' THEN 0 WHEN 'reminder' THEN 1 WHEN 'reply' THEN 1"
             f" ELSE 2 END, CASE WHEN key LIKE '{SENDER_RECEIPT}%' THEN 1 ELSE 0 END")


@dataclass(frozen=True)
class Limits:
    """How much mail may leave, and when to give up on a mail.

    Receipts never hold up the digest, reports, reminders or command replies:
    they may use the daily cap only down to ``reserve`` sends kept for that
    mail (less what of it was already sent in the last 24 hours). Receipts
    to senders outside the roster have their own cap on top,
    ``sender_receipts_per_day``, so a crowd of strangers cannot use up the day.
    """

    daily_cap: int = 500  # mails per rolling 24 hours
    per_minute: int = 20
    retry_for: timedelta = timedelta(days=3)  # temporary failures: keep trying this long
    permanent_attempts: int = 3  # 5xx replies: give up after this many
    backoff_cap: timedelta = timedelta(minutes=60)
    sender_receipts_per_day: int = 20  # receipts to senders outside the roster, per rolling 24 hours
    reserve: int = 0  # sends of the rolling 24 hours receipts leave to the digest, reminders and replies

    @classmethod
    def from_smtp(cls, smtp, reserve: int = 0) -> "Limits":
        """The configured limits; ``reserve`` is at most half the daily cap (receipts keep the other half)."""
        return cls(daily_cap=smtp.daily_cap, per_minute=smtp.per_minute,
                   sender_receipts_per_day=smtp.sender_receipts_per_day,
                   reserve=max(0, min(reserve, smtp.daily_cap // 2)))

    def receipt_room(self, sent_in_day: int, priority_in_day: int) -> int:
        """How many more receipts may go in the rolling 24 hours."""
        kept = max(0, self.reserve - priority_in_day)
        return max(0, self.daily_cap - kept - sent_in_day)

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
    held: int = 0  # receipts left queued: the rest of the day is kept for other mail, or their own cap is reached
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        for name in ("retrying", "failed", "cancelled", "deferred", "waiting", "held"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        text = ", ".join(parts)
        if self.errors:
            text += "; last error: " + self.errors[-1]
        return text

    def __bool__(self) -> bool:
        return any((self.sent, self.retrying, self.failed, self.cancelled, self.deferred, self.waiting, self.held))


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
                recheck: Callable[[OutboxRow], object] | None = None,
                return_path: Callable[[OutboxRow], str] | None = None) -> DeliveryReport:
    """Send every queued mail due at ``now``, within the rate limit and daily cap.

    ``allowed``: the roster's and the coordinators' addresses; a receipt to
    a sender outside the roster may also go to that sender while the mail it
    acknowledges is one the trusted Authentication-Results passed. Any other
    recipient is dropped right before sending (and the mail cancelled if
    none is left). Limits: see ``Limits``.
    ``recheck(row)`` may return ``Cancel``, ``Defer`` or ``Replace`` (or
    None to send as is): the decision is taken again just before sending.
    ``Defer`` moves the attempt to ``until`` (no attempt counted); ``Cancel``
    with ``reopen`` also gives a receipt's items back (``_cancel_and_reopen``).
    ``return_path(row)``: the envelope sender of a mail (VERP); its From otherwise.
    """
    conn = store.conn
    allowed_set = {a.strip().lower() for a in allowed}
    report = DeliveryReport()
    in_minute = sent_since(conn, now - timedelta(minutes=1))
    in_day = sent_since(conn, now - timedelta(days=1))
    priority_in_day = sent_since(conn, now - timedelta(days=1), receipts=False)
    sender_receipts_in_day = sent_since(conn, now - timedelta(days=1), sender_receipts=True)
    held: Counter[str] = Counter()  # receipts left queued, by why
    due = [_row(r) for r in conn.execute(
        f"SELECT * FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY {_PRIORITY}, id",
        (utc(now),))]
    try:
        for index, row in enumerate(due):
            if in_day >= limits.daily_cap or in_minute >= limits.per_minute:
                report.waiting += len(due) - index
                why = "daily cap" if in_day >= limits.daily_cap else "per-minute rate"
                log.info("outbox: %d mail(s) wait for the %s", len(due) - index, why)
                break
            to_sender = row.key.startswith(SENDER_RECEIPT)
            if row.kind == "receipt":
                if limits.receipt_room(in_day, priority_in_day) <= 0:
                    held["the rest of the daily cap is kept for the digest and reminders"] += 1
                    continue
                if to_sender and sender_receipts_in_day >= limits.sender_receipts_per_day:
                    held["the daily cap of receipts to senders outside the roster"] += 1
                    continue
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
            ok = allowed_set | (_verified_sender(conn, row) if to_sender else set())
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
                envelope = return_path(row) if return_path else row.from_addr
                refused = sender.send(raw, envelope, recipients, name=row.name)
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
            _finish(store, row.id, "sent", note, now, attempts=row.attempts + 1, sent=True,
                    recipients=recipients if dropped else None)
            report.sent += 1
            in_minute += 1
            in_day += 1
            priority_in_day += row.kind != "receipt"
            sender_receipts_in_day += to_sender
            log.info("outbox #%d %s %s %s", row.id, row.key, getattr(sender, "delivered", "sent to"),
                     ", ".join(recipients))
    finally:
        sender.close()
    for why, n in held.items():
        report.held += n
        log.info("outbox: %d receipt(s) wait: %s", n, why)
    return report


def _finish(store, row_id: int, status: str, note: str | None, now: datetime, attempts: int | None = None,
            sent: bool = False, recipients: Sequence[str] | None = None) -> None:
    """Close a row; ``recipients``: who it really went to, when some were left
    out (a bounce is believed only for an address the mail went to)."""
    with store.transaction():
        store.conn.execute(
            "UPDATE outbox SET status = ?, last_error = ?, attempts = COALESCE(?, attempts),"
            " sent_at = CASE WHEN ? THEN ? ELSE sent_at END,"
            " recipients = COALESCE(?, recipients) WHERE id = ?",
            (status, note, attempts, int(sent), utc(now),
             json.dumps(list(recipients)) if recipients is not None else None, row_id))


def _cancel_and_reopen(store, row: OutboxRow, reason: str, now: datetime) -> None:
    """Cancel a receipt and give its items back (one transaction): they are
    no longer acknowledged, and the row's key gets a suffix so that the
    receipt planned for the same items later (same key) can be queued."""
    with store.transaction():
        store.conn.execute("DELETE FROM receipt_items WHERE outbox_id = ?", (row.id,))
        store.conn.execute("UPDATE outbox SET status = 'cancelled', last_error = ?, key = key || ? WHERE id = ?",
                           (reason, f"#cancelled-{row.id}", row.id))


def sent_since(conn, since: datetime, *, receipts: bool = True, sender_receipts: bool = False) -> int:
    """Mail sent after ``since``: all of it; without ``receipts``, all but
    receipts; with ``sender_receipts``, only receipts to senders outside the roster."""
    sql = "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at > ?"
    if not receipts:
        sql += " AND kind != 'receipt'"
    if sender_receipts:
        sql += f" AND key LIKE '{SENDER_RECEIPT}%'"
    return conn.execute(sql, (utc(since),)).fetchone()[0]


def _verified_sender(conn, row: OutboxRow) -> set[str]:
    """The one outside address a receipt to a sender may go to: the sender of
    the mail it acknowledges, if that mail is not automatic and the trusted
    Authentication-Results passed for its sender."""
    message_row = row.meta.get("message_row")
    if not isinstance(message_row, int):
        return set()
    r = conn.execute("SELECT from_addr FROM messages WHERE id = ? AND auth = 'pass' AND automatic IS NULL",
                     (message_row,)).fetchone()
    return {r[0].strip().lower()} if r and r[0] else set()


# -- delivery reports of the bot's mail (see bot/bounces.py) -------------------------

@dataclass(frozen=True)
class BounceReport:
    """A stored delivery report not judged yet: its message row (to read it
    again from the archive) and the addresses it says failed for good."""

    row: int
    sha256: str
    message_id: str
    received_at: datetime
    subject: str
    addresses: tuple[str, ...]


def unjudged_bounces(conn: sqlite3.Connection) -> list[BounceReport]:
    """The delivery reports recorded (status 'done') and not judged yet, oldest first."""
    out = []
    for r in conn.execute(
            # The partial index messages_bounce_reports holds only reports: a poll costs the same at any size.
            "SELECT id, sha256, message_id, received_at, subject, bounces FROM messages"
            " WHERE bounces NOT IN ('', '[]') AND +status = 'done'"
            " AND id NOT IN (SELECT message_row FROM bounce_messages) ORDER BY received_at, id"):
        try:
            addresses = tuple(dict.fromkeys(a.strip().lower() for a in json.loads(r["bounces"]) if a and a.strip()))
        except (ValueError, TypeError, AttributeError):
            addresses = ()
        out.append(BounceReport(r["id"], r["sha256"], r["message_id"], datetime.fromisoformat(r["received_at"]),
                                r["subject"] or "", addresses))
    return out


def sent_mail(conn: sqlite3.Connection, message_ids: Iterable[str], tokens: Iterable[str] = ()) -> list[SentMail]:
    """The mail the outbox handed to the server with one of ``message_ids``
    (compared exactly, in lower case), or whose Message-ID has one of the
    VERP ``tokens`` (hexadecimal) as its random part, with the addresses it went to."""
    ids = sorted({normalise_id(m) for m in message_ids if m and m.strip()})[:100]  # a report names a few
    patterns = sorted({f"<{t}.%" for t in tokens if t and all(c in "0123456789abcdef" for c in t)})[:10]
    if not ids and not patterns:
        return []
    where = [f"lower(message_id) IN ({','.join('?' * len(ids))})"] if ids else []
    where += ["lower(message_id) LIKE ?"] * len(patterns)  # hexadecimal: no wildcard but the one added
    found: dict[int, SentMail] = {}
    for r in conn.execute(f"SELECT id, message_id, recipients FROM outbox WHERE status = 'sent' AND ({' OR '.join(where)})",
                          [*ids, *patterns]):
        found[r["id"]] = SentMail(r["id"], normalise_id(r["message_id"]),
                                  frozenset(a.strip().lower() for a in json.loads(r["recipients"])))
    return list(found.values())


def record_bounce_verdicts(store, report: BounceReport, verdicts: Sequence[BounceVerdict]) -> None:
    """Keep the verdicts of one report (one transaction); a believed address
    also counts in the ``bounces`` summary table. The report is judged once."""
    at = utc(report.received_at)
    with store.transaction() as conn:
        for v in verdicts:
            conn.execute("INSERT OR REPLACE INTO bounce_verdicts (message_row, address, believed, outbox_id, reason)"
                         " VALUES (?, ?, ?, ?, ?)", (report.row, v.address, int(v.believed), v.outbox_id, v.reason))
            if v.believed:
                conn.execute(
                    "INSERT INTO bounces (address, first_at, last_at, count, detail) VALUES (?, ?, ?, 1, ?)"
                    " ON CONFLICT(address) DO UPDATE SET count = count + 1,"
                    " first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at),"
                    " detail = CASE WHEN excluded.last_at >= last_at THEN excluded.detail ELSE detail END",
                    (v.address, at, at, report.subject[:200]))
        conn.execute("INSERT OR IGNORE INTO bounce_messages (message_row) VALUES (?)", (report.row,))


@dataclass(frozen=True)
class BelievedBounce:
    address: str
    received_at: datetime
    subject: str


def believed_bounces(conn: sqlite3.Connection) -> list[BelievedBounce]:
    """Every permanent failure believed (a report about the bot's own mail), oldest first."""
    return [BelievedBounce(r["address"], datetime.fromisoformat(r["received_at"]), r["subject"] or "")
            for r in conn.execute(
                "SELECT v.address, m.received_at, m.subject FROM bounce_verdicts v JOIN messages m"
                " ON m.id = v.message_row WHERE v.believed = 1 ORDER BY m.received_at, m.id")]


def bounce_verdicts(conn: sqlite3.Connection, message_row: int) -> list[BounceVerdict]:
    """The verdicts kept for one report (for the log, ``health`` and tests)."""
    return [BounceVerdict(r["address"], bool(r["believed"]), r["reason"], r["outbox_id"]) for r in conn.execute(
        "SELECT address, believed, outbox_id, reason FROM bounce_verdicts WHERE message_row = ? ORDER BY address",
        (message_row,))]


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
           "with_recipients", "BounceReport", "unjudged_bounces", "sent_mail", "record_bounce_verdicts", "BelievedBounce",
           "believed_bounces", "bounce_verdicts"]
