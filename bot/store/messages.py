"""Messages and their items: ingestion, processing, blame, quarantine and reading.

Exactly-once ingestion rests on three rules:
1. a raw message is written to the archive (fsync'ed) before its row exists;
2. the row (unique on the SHA-256 of the bytes) and the mailbox checkpoint
   are committed in the same transaction;
3. processing a message writes its items and marks it done in one
   transaction, so a crash leaves it either untouched or fully recorded.

A message too large to download (see mailbox.py) is recorded like any other,
with its header block as its archived bytes and its real size in ``size``:
a row whose archive file is smaller than ``size`` is "withheld", and
processing quarantines it with the reason instead of reading it.

Blame goes only where it is proven (see pipeline.py): ``attempts`` counts
a message's own failures (its worker crashed, timed out or ran out of
memory on it, its parsing raised, or the bot died while handling it ALONE);
``inflight`` is the durable mark of a message being handled, so that after
an unclean stop the next run resumes those messages first, one at a time,
without charging them.

A quarantined message is referred to as ``Q<messages.id>`` (Q12), as items
are as ``R<items.id>``. Once a person has dealt with it by hand, ``dismiss``
records who, why, how and when in ``dismissals``: the message keeps its
status 'quarantined' (and its bytes), but ``quarantined()`` no longer lists
it, so ``health`` and the digest stop asking about it.
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, NamedTuple, Sequence

from ..errors import DismissError
from ..model import ItemDecision, ParsedMessage, RawMessage, ReasonCode, StoredItem
from ..official.record import evidence_from_dict, evidence_to_dict
from ..official.evidence import Evidence
from .db import chunks, iso
from .headers import message_id_of, sender_of

@dataclass(frozen=True)
class PendingMessage:
    row: int
    sha256: str
    message_id: str
    received_at: datetime
    attempts: int
    size: int = 0  # of the whole message (more than the archived bytes when withheld)
    suspect: bool = False  # failed before, or in flight when the bot last died: handled alone


@dataclass(frozen=True)
class Recovery:
    """What ``recover_inflight`` found: messages in flight when the bot last
    stopped uncleanly. ``resumed``: handled with others, so not charged;
    ``charged``: handled alone, so the death counts as their attempt."""

    resumed: int
    charged: int


# The reason kept for a message whose handling, alone, ended with the bot's death.
DIED_ALONE = "processing crashed: the bot's process died while it handled this message alone"


@dataclass(frozen=True)
class MessageSummary:
    """What the store keeps of a parsed message, for the digest and export."""

    message_id: str
    from_addr: str
    subject: str
    automatic: str | None
    auth: str
    bounces: tuple[str, ...] = ()

    @classmethod
    def of(cls, message: ParsedMessage) -> "MessageSummary":
        """What is kept of ``message``: its sender, subject, automatic kind, the
        stored form of its authentication verdict and the bounced addresses."""
        return cls(message_id=message.message_id, from_addr=message.from_addr, subject=message.subject,
                   automatic=message.automatic, auth=message.auth_verdict.stored, bounces=message.bounce_recipients)


class ItemRow(NamedTuple):
    """One decision as it is recorded: where in the mail its file was and
    when the mail arrived. ``occurrence`` tells apart files of the same name
    in one mail (0 for the first, 1 for the second...)."""

    decision: ItemDecision
    container: str
    received_at: datetime
    cycle: int
    occurrence: int = 0
    evidence: Evidence | None = None  # whether the part is the official paper (None: not judged)


def quarantine_ref(row: int) -> str:
    """The short reference of a quarantined message: Q12 for ``messages.id`` 12."""
    return f"Q{row}"


def parse_quarantine_ref(ref: str | int) -> int | None:
    """The ``messages.id`` of a reference: ``Q12``, ``q12``, ``Q-12``, ``Q#12``, ``12`` or 12; None otherwise."""
    if isinstance(ref, int):
        return ref
    m = re.fullmatch(r"(?:q[-#]?)?(\d{1,9})", (ref or "").strip(), re.IGNORECASE)
    return int(m.group(1)) if m else None



@dataclass(frozen=True)
class InboundMail:
    """Who sent a stored message and when (``subject`` where the caller asked for it)."""

    from_addr: str
    received_at: datetime
    subject: str = ""


@dataclass(frozen=True)
class ItemOrigin:
    """Where an item came from, for its receipt: its file, its message and
    how many documents its file held (``parts``)."""

    item_id: int
    filename: str
    received_at: datetime
    first_page: int
    last_page: int
    parts: int
    message_row: int
    from_addr: str | None
    automatic: str | None
    auth: str | None


@dataclass(frozen=True)
class MessageRecord:
    """A stored message as its row holds it (what ``health``, audits and tests look at)."""

    id: int
    sha256: str
    message_id: str
    source_key: str
    received_at: datetime
    size: int
    status: str  # 'new', 'done' or 'quarantined'
    attempts: int
    last_error: str | None
    from_addr: str | None
    subject: str | None
    automatic: str | None
    auth: str | None
    bounces: tuple[str, ...]
    fetched_at: datetime
    processed_at: datetime | None
    inflight: str | None  # None, 'batch', 'alone' or 'resumed'
    resumed: int


@dataclass(frozen=True)
class ItemRecord:
    """A stored item with its bookkeeping (``StoredItem`` is what the plans read)."""

    id: int
    message_row: int
    container: str
    filename: str
    occurrence: int
    part_index: int
    decision: str
    reasons: tuple[str, ...]
    classified_at: datetime


class MessagesMixin:
    """The ``messages``, ``items`` and ``dismissals`` tables (a part of ``Store``)."""

    def known_digests(self, digests: Iterable[str]) -> set[str]:
        digests = list(digests)
        known: set[str] = set()
        for chunk in chunks(digests, 500):
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self.conn.execute(f"SELECT sha256 FROM messages WHERE sha256 IN ({marks})", chunk))
        return known

    def known_pairs(self, pairs: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
        """The (Message-ID, size) pairs already stored (used after a UIDVALIDITY reset)."""
        wanted = set(pairs)
        ids = sorted({mid for mid, _ in wanted})
        found: set[tuple[str, int]] = set()
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            found.update((r[0], r[1]) for r in self.conn.execute(
                f"SELECT message_id, size FROM messages WHERE message_id IN ({marks})", chunk))
        return found & wanted

    def record_fetched(self, messages: Sequence[RawMessage], now: datetime,
                       checkpoint: tuple[str, int, int] | None = None) -> int:
        """Archive raw messages, then record them (and the checkpoint) in one transaction.

        Returns how many were new. A message whose exact bytes are already
        stored is a duplicate (a re-delivery, a UIDVALIDITY reset) and is skipped.
        A withheld message (``headers_only``) keeps its real size and its
        reason, so processing quarantines it (see ``is_withheld``).
        """
        digests = self.archive.put_many(m.data for m in messages)
        if digests:
            self.archive.sync_dirs(digests)
        new = 0
        with self.transaction():
            for message, digest in zip(messages, digests):
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO messages (sha256, message_id, source_key, received_at, size, fetched_at,"
                    " last_error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (digest, message_id_of(message.data) or f"<{digest[:32]}@no-message-id>",
                     message.source_key, iso(message.received_at),
                     message.full_size if message.headers_only else len(message.data), iso(now),
                     (message.withheld or "message too large to download") if message.headers_only else None))
                new += cur.rowcount
            if checkpoint:
                source, uidvalidity, last_uid = checkpoint
                self.save_checkpoint(source, uidvalidity, last_uid, now)
        return new

    def pending(self, limit: int, max_attempts: int) -> list[PendingMessage]:
        """The messages to process: first those in flight when the bot last
        stopped uncleanly, then the others, each group oldest first."""
        rows = self.conn.execute(
            "SELECT id, sha256, message_id, received_at, attempts, size, inflight FROM messages"
            " WHERE status = 'new' AND attempts < ? ORDER BY inflight IS NULL, received_at, id LIMIT ?",
            (max_attempts, limit))
        return [PendingMessage(r[0], r[1], r[2], datetime.fromisoformat(r[3]), r[4], r[5],
                               suspect=r[6] is not None or r[4] > 0) for r in rows]

    # -- blame: in-flight marks ----------------------------------------------
    def recover_inflight(self) -> Recovery:
        """Run once before processing: the messages still marked in flight were
        being handled when the bot last died (SIGKILL, OOM, reboot). Those
        handled ALONE are charged an attempt (nothing else was in flight:
        the death is theirs); those handled with others are not charged.
        All become 'resumed': handled first, one at a time."""
        with self.transaction():
            charged = self.conn.execute(
                "UPDATE messages SET attempts = attempts + 1, inflight = 'resumed', resumed = resumed + 1,"
                " last_error = ? WHERE inflight = 'alone' AND status = 'new'", (DIED_ALONE,)).rowcount
            resumed = self.conn.execute(
                "UPDATE messages SET inflight = 'resumed', resumed = resumed + 1"
                " WHERE inflight = 'batch' AND status = 'new'").rowcount
            self.conn.execute("UPDATE messages SET inflight = NULL WHERE inflight IS NOT NULL AND status != 'new'")
        return Recovery(resumed, charged)

    def mark_inflight(self, rows: Sequence[int], how: str) -> None:
        """Mark messages as being handled (committed before the work starts):
        ``how`` is "batch" (with others) or "alone" (the bot works on this
        message's content with nothing else in flight)."""
        if how not in ("batch", "alone"):
            raise ValueError(f"unknown in-flight mark {how!r}")
        with self.transaction():
            self.conn.executemany("UPDATE messages SET inflight = ? WHERE id = ? AND status = 'new'",
                                  [(how, r) for r in rows])

    def release_inflight(self, rows: Sequence[int]) -> None:
        """Messages set aside (they wait for OCR) or stopped cleanly: not in
        flight any more, nothing charged. A resumed message stays resumed."""
        with self.transaction():
            self.conn.executemany(
                "UPDATE messages SET inflight = CASE inflight WHEN 'batch' THEN NULL ELSE 'resumed' END"
                " WHERE id = ? AND status = 'new' AND inflight IS NOT NULL", [(r,) for r in rows])

    def crash_recovery(self) -> tuple[int, int]:
        """For health: (messages ever resumed after the bot died while they were
        in flight, of them still waiting to be handled)."""
        r = self.conn.execute("SELECT COUNT(*), COALESCE(SUM(status = 'new' AND inflight IS NOT NULL), 0)"
                              " FROM messages WHERE resumed > 0").fetchone()
        return r[0], r[1]

    def raw(self, message: PendingMessage) -> bytes:
        return self.archive.get(message.sha256)

    def is_withheld(self, message: PendingMessage) -> bool:
        """True when only the message's headers were downloaded (it was too large)."""
        return self.archive.path_for(message.sha256).stat().st_size < message.size

    def record_withheld(self, row: int, summary: "MessageSummary", now: datetime) -> None:
        """Quarantine a withheld message at once, with who sent it and why it was not read.

        Retrying cannot help (the bytes are not here), so attempts do not matter;
        ``requeue`` brings it back here, not to a parser.
        """
        with self.transaction():
            self.conn.execute(
                "UPDATE messages SET status = 'quarantined', processed_at = ?, from_addr = ?, subject = ?,"
                " automatic = ?, auth = ?, inflight = NULL,"
                " last_error = COALESCE(last_error, 'message too large to download: open it in webmail')"
                " WHERE id = ?",
                (iso(now), summary.from_addr, summary.subject, summary.automatic, summary.auth, row))

    def begin_attempts(self, rows: Sequence[int]) -> None:
        """Count an attempt for each message (a failure proven to be its own).
        The pipeline counts them with ``record_failure(..., charge=True)``."""
        with self.transaction():
            self.conn.executemany("UPDATE messages SET attempts = attempts + 1 WHERE id = ?", [(r,) for r in rows])

    def record_processed(self, row: int, summary: MessageSummary, items: Sequence[ItemRow | tuple],
                         now: datetime) -> None:
        """Write a message's items and mark it done, atomically.

        ``items`` holds ``ItemRow``s (or plain tuples in its field order).
        Items are upserted on (message, container, filename, occurrence, part)
        so their ids (the coordinator's R-numbers) and the corrections pointing
        at them survive a re-classification.
        """
        with self.transaction():
            for decision, container, received_at, cycle, occurrence, evidence in (ItemRow(*i) for i in items):
                self.conn.execute(
                    """INSERT INTO items (message_row, container, filename, occurrence, part_index, content_sha256,
                           first_page, last_page, school, doc_types, campaign, decision, confidence,
                           reasons, received_at, cycle, classified_at, evidence, reason_code)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (message_row, container, filename, occurrence, part_index) DO UPDATE SET
                           content_sha256 = excluded.content_sha256, first_page = excluded.first_page,
                           last_page = excluded.last_page, school = excluded.school,
                           doc_types = excluded.doc_types, campaign = excluded.campaign,
                           decision = excluded.decision, confidence = excluded.confidence,
                           reasons = excluded.reasons, received_at = excluded.received_at,
                           cycle = excluded.cycle, classified_at = excluded.classified_at,
                           evidence = excluded.evidence,
                           reason_code = excluded.reason_code""",
                    (row, container, decision.filename, occurrence, decision.part_index, decision.content_sha256,
                     decision.first_page, decision.last_page, decision.school, json.dumps(list(decision.doc_types)),
                     int(decision.campaign), decision.decision, decision.confidence,
                     json.dumps(list(decision.reasons), ensure_ascii=False), iso(received_at), cycle, iso(now),
                     None if evidence is None else json.dumps(evidence_to_dict(evidence), ensure_ascii=False),
                     decision.reason_code.value if decision.reason_code is not None else None))
            self.conn.execute(
                "UPDATE messages SET status = 'done', processed_at = ?, last_error = NULL, inflight = NULL,"
                " from_addr = ?, subject = ?, automatic = ?, auth = ?, bounces = ? WHERE id = ?",
                (iso(now), summary.from_addr, summary.subject,
                 summary.automatic, summary.auth, json.dumps(list(summary.bounces)), row))

    def record_failure(self, row: int, error: str, max_attempts: int, now: datetime, *,
                       charge: bool = False) -> bool:
        """Keep the error of a failure of the message's own; quarantine after
        ``max_attempts``. ``charge``: count the attempt here (otherwise the
        caller counted it with ``begin_attempts``). The message is no longer
        in flight. Returns True if quarantined."""
        with self.transaction():
            if charge:
                self.conn.execute("UPDATE messages SET attempts = attempts + 1 WHERE id = ?", (row,))
            attempts = self.conn.execute("SELECT attempts FROM messages WHERE id = ?", (row,)).fetchone()[0]
            status = "quarantined" if attempts >= max_attempts else "new"
            self.conn.execute("UPDATE messages SET last_error = ?, status = ?, processed_at = ?, inflight = NULL"
                              " WHERE id = ?", (error, status, iso(now), row))
        return status == "quarantined"

    def quarantine_exhausted(self, max_attempts: int, now: datetime) -> list[PendingMessage]:
        """Quarantine messages whose attempts ran out without a recorded result
        (the process died while handling them alone); returns them."""
        with self.transaction():
            rows = [PendingMessage(r[0], r[1], r[2], datetime.fromisoformat(r[3]), r[4], r[5]) for r in self.conn.execute(
                "SELECT id, sha256, message_id, received_at, attempts, size FROM messages"
                " WHERE status = 'new' AND attempts >= ? ORDER BY received_at, id", (max_attempts,))]
            self.conn.executemany(
                "UPDATE messages SET status = 'quarantined', processed_at = ?, inflight = NULL,"
                " last_error = COALESCE(last_error, 'processing crashed ' || attempts || ' times') WHERE id = ?",
                [(iso(now), m.row) for m in rows])
        return rows

    def note_sender(self, message: PendingMessage) -> None:
        """Keep who sent a message that could not be processed, and its subject,
        read from its header block alone, so that ``health`` and the digest
        can say whose mail it is. Values already recorded are kept."""
        try:
            from_addr, subject = sender_of(self.raw(message))
        except OSError:  # the archived file is unreadable: the quarantine's reason stands alone
            return
        with self.transaction():
            self.conn.execute("UPDATE messages SET from_addr = COALESCE(from_addr, NULLIF(?, '')),"
                              " subject = COALESCE(subject, NULLIF(?, '')) WHERE id = ?",
                              (from_addr, subject, message.row))

    def requeue(self, *, all_messages: bool = False) -> int:
        """Mark messages for processing again (after a rules change, or to retry quarantine).

        Without ``all_messages``: the quarantined messages nobody dismissed.
        With it: every message, dismissed ones included (a rules change or an
        upgrade may now read them). Their dismissal stays on record, so one
        that fails again returns to quarantine still dismissed (it does not
        come back into ``health`` or the digest); one that now succeeds is
        done like any other.
        """
        where = "" if all_messages else (" WHERE status = 'quarantined'"
                                         " AND id NOT IN (SELECT message_row FROM dismissals)")
        with self.transaction():
            return self.conn.execute(f"UPDATE messages SET status = 'new', attempts = 0, inflight = NULL{where}"
                                     ).rowcount

    # -- reading facts ----------------------------------------------------
    def items(self, cycle: int | None = None, decision: str | None = None) -> list[StoredItem]:
        sql = ("SELECT i.*, m.message_id, m.from_addr, m.subject FROM items i JOIN messages m ON m.id = i.message_row"
               " WHERE 1=1")
        args: list = []
        if cycle is not None:
            sql += " AND i.cycle = ?"
            args.append(cycle)
        if decision is not None:
            sql += " AND i.decision = ?"
            args.append(decision)
        sql += " ORDER BY i.received_at, i.id"
        return [stored_item(r) for r in self.conn.execute(sql, args)]

    def item(self, item_id: int) -> StoredItem | None:
        r = self.conn.execute("SELECT i.*, m.message_id, m.from_addr, m.subject FROM items i"
                              " JOIN messages m ON m.id = i.message_row WHERE i.id = ?", (item_id,)).fetchone()
        return stored_item(r) if r else None

    def message_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT status, COUNT(*) FROM messages GROUP BY status")}

    def quarantined(self, *, include_dismissed: bool = False, received_by: datetime | None = None) -> list[dict]:
        """The quarantined messages waiting for a person, oldest first.

        Each is a dict with ``id``, ``ref`` (Q12), ``message_id``,
        ``source_key``, ``received_at`` (ISO text), ``attempts``,
        ``last_error``, ``from_addr``, ``subject``, ``size`` and the
        dismissal's ``dismissed_by``, ``dismissed_why``, ``dismissed_via``,
        ``dismissed_at`` (None unless dismissed). Dismissed messages are left
        out unless ``include_dismissed``; with ``received_by``, so are those
        received after it (as of ``--now``).
        """
        where = "" if include_dismissed else " AND d.message_row IS NULL"
        args: list = []
        if received_by is not None:
            where += " AND m.received_at <= ?"
            args.append(iso(received_by))
        rows = self.conn.execute(
            "SELECT m.id, m.message_id, m.source_key, m.received_at, m.attempts, m.last_error, m.from_addr,"
            " m.subject, m.size, d.who AS dismissed_by, d.why AS dismissed_why, d.via AS dismissed_via,"
            " d.at AS dismissed_at FROM messages m LEFT JOIN dismissals d ON d.message_row = m.id"
            f" WHERE m.status = 'quarantined'{where} ORDER BY m.received_at, m.id", args)
        return [{**dict(r), "ref": quarantine_ref(r["id"])} for r in rows]

    def dismiss(self, ref: str | int, *, who: str, why: str, via: str, now: datetime) -> dict:
        """Dismiss a quarantined message that a person dealt with by hand (audited).

        ``ref`` is its reference (``Q12``, or the row number). Records who,
        why, ``via`` ("cli" or "email") and ``now`` in ``dismissals``; the
        message and its archived bytes stay as they are. Returns the message
        as ``quarantined(include_dismissed=True)`` shows it. Raises
        ``DismissError`` when no message has that reference, when the
        message is not quarantined, or when it was dismissed already. The
        check and the record are one write transaction (the database's
        write lock), so a concurrent ``requeue`` cannot slip in between.
        """
        row = parse_quarantine_ref(ref)
        if row is None:
            raise DismissError(f"{str(ref)!r} is not the reference of a quarantined message (like Q12)", "no_message",
                               hint="items (R17) are not dismissed but rejected: 'python -m bot reject R17 --why ...'"
                               if str(ref).strip().upper().startswith("R") else None)
        with self.transaction():
            r = self.conn.execute(
                "SELECT m.status, m.message_id, d.who, d.at FROM messages m"
                " LEFT JOIN dismissals d ON d.message_row = m.id WHERE m.id = ?", (row,)).fetchone()
            if r is None:
                raise DismissError(f"no message {quarantine_ref(row)}", "no_message")
            if r["status"] != "quarantined":
                state = "it was processed normally" if r["status"] == "done" else "it is waiting to be processed"
                raise DismissError(f"{quarantine_ref(row)} ({r['message_id']}) is not quarantined: {state}",
                                   "not_quarantined", hint="only quarantined messages (see 'health') are dismissed")
            if r["who"] is not None:
                raise DismissError(f"{quarantine_ref(row)} was already dismissed by {r['who']} at {r['at']}",
                                   "already_dismissed", hint="nothing to do")
            self.conn.execute("INSERT INTO dismissals (message_row, who, why, via, at) VALUES (?, ?, ?, ?, ?)",
                              (row, who, why, via, iso(now)))
        return next(q for q in self.quarantined(include_dismissed=True) if q["id"] == row)

    def messages_between(self, start: datetime, end: datetime) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            "SELECT id, message_id, from_addr, subject, automatic, auth, bounces, received_at FROM messages"
            " WHERE status = 'done' AND received_at >= ? AND received_at < ? ORDER BY received_at",
            (iso(start), iso(end)))]

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

    def item_ids_of(self, message_row: int) -> list[int]:
        """The ids of a message's items, in the order of its parts."""
        return [r[0] for r in self.conn.execute("SELECT id FROM items WHERE message_row = ? ORDER BY part_index",
                                                (message_row,))]

    def item_records(self) -> list[ItemRecord]:
        """Every stored item with its bookkeeping, by id."""
        return [ItemRecord(r["id"], r["message_row"], r["container"], r["filename"], r["occurrence"], r["part_index"],
                           r["decision"], tuple(json.loads(r["reasons"])), datetime.fromisoformat(r["classified_at"]))
                for r in self.conn.execute("SELECT * FROM items ORDER BY id")]

    def newest_item_id(self) -> int:
        """The highest item id (0 when there is none)."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM items").fetchone()[0]

    def item_origins(self, cycle: int) -> dict[int, ItemOrigin]:
        """Where each item of ``cycle`` came from, by item id."""
        return {r["id"]: ItemOrigin(r["id"], r["filename"], datetime.fromisoformat(r["received_at"]),
                                    r["first_page"], r["last_page"], r["parts"], r["message_row"], r["from_addr"],
                                    r["automatic"], r["auth"])
                for r in self.conn.execute(
                    "SELECT i.id, i.filename, i.received_at, i.first_page, i.last_page, m.id AS message_row,"
                    " m.from_addr, m.automatic, m.auth,"
                    " COUNT(*) OVER (PARTITION BY i.message_row, i.container, i.filename, i.occurrence) AS parts"
                    " FROM items i JOIN messages m ON m.id = i.message_row WHERE i.cycle = ?", (cycle,))}

    def verified_sender(self, message_row: int) -> str | None:
        """The sender of a message, lower case, if it is not automatic and the
        trusted Authentication-Results passed for it; None otherwise."""
        r = self.conn.execute("SELECT from_addr FROM messages WHERE id = ? AND auth = 'pass' AND automatic IS NULL",
                              (message_row,)).fetchone()
        return r[0].strip().lower() if r and r[0] else None

    def mail_from(self, since: datetime | None = None) -> list[InboundMail]:
        """Every stored message with a sender (received at or after ``since``),
        automatic ones too, in the order they were stored."""
        sql = "SELECT from_addr, received_at FROM messages WHERE from_addr IS NOT NULL AND from_addr != ''"
        args: list = []
        if since is not None:
            sql += " AND received_at >= ?"
            args.append(iso(since))
        return [InboundMail(r[0], datetime.fromisoformat(r[1])) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def personal_mail_from(self, addresses: Sequence[str]) -> list[InboundMail]:
        """The mail a person sent from one of ``addresses`` (lower case): not
        automatic, not a delivery report, not failing authentication."""
        addresses = list(addresses)
        if not addresses:
            return []
        return [InboundMail(r[0], datetime.fromisoformat(r[1])) for r in self.conn.execute(
            f"SELECT from_addr, received_at FROM messages WHERE lower(from_addr) IN ({','.join('?' * len(addresses))})"
            " AND automatic IS NULL AND (bounces IS NULL OR bounces IN ('', '[]')) AND COALESCE(auth, '') != 'fail'",
            addresses)]

    def personal_mail_done(self, since: datetime, until: datetime) -> list[InboundMail]:
        """The messages processed that are not automatic and have a sender, with
        their subject, received from ``since`` to ``until`` (both included), in the order they were stored."""
        return [InboundMail(r[0], datetime.fromisoformat(r[2]), r[1] or "") for r in self.conn.execute(
            "SELECT from_addr, subject, received_at FROM messages WHERE status = 'done'"
            " AND automatic IS NULL AND from_addr IS NOT NULL AND from_addr != ''"
            " AND received_at >= ? AND received_at <= ? ORDER BY id", (iso(since), iso(until)))]

    def item_times(self, cycle: int, after: datetime | None = None) -> list[datetime]:
        """When each item of ``cycle`` (received after ``after``) was received."""
        sql, args = "SELECT received_at FROM items WHERE cycle = ?", [cycle]
        if after is not None:
            sql += " AND received_at > ?"
            args.append(iso(after))
        return [datetime.fromisoformat(r[0]) for r in self.conn.execute(sql, args)]


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


def message_record(r: sqlite3.Row) -> MessageRecord:
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
