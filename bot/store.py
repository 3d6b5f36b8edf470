"""The state: one SQLite database (WAL) plus content-addressed files.

Facts are stored; statuses are computed from them (see status.py). Every
write takes ``now`` from the caller. Schema changes are migrations, each run
in a transaction together with the bump of ``PRAGMA user_version``.

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
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

from .archive import BlobStore, sha256
from .errors import DismissError, StoreError, environmental
from .model import Extraction, DocumentPart, ItemDecision, RawMessage, ReasonCode
from .schema import MIGRATIONS

DB_NAME = "bot.sqlite3"

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


class ItemRow(NamedTuple):
    """One decision as it is recorded: where in the mail its file was and
    when the mail arrived. ``occurrence`` tells apart files of the same name
    in one mail (0 for the first, 1 for the second...)."""

    decision: ItemDecision
    container: str
    received_at: datetime
    cycle: int
    occurrence: int = 0


@dataclass(frozen=True)
class StoredItem:
    """One classified document part, joined with its message."""

    id: int
    message_id: str
    from_addr: str
    subject: str
    received_at: datetime
    container: str
    filename: str
    part_index: int
    first_page: int
    last_page: int
    school: str | None
    doc_types: tuple[str, ...]
    campaign: bool
    decision: str
    confidence: float
    reasons: tuple[str, ...]
    cycle: int
    content_sha256: str
    reason_code: ReasonCode | None = None  # None for items recorded before schema 9

    @property
    def ref(self) -> str:
        """The short reference the coordinator uses: R17."""
        return f"R{self.id}"


@dataclass(frozen=True)
class Correction:
    id: int
    kind: str
    item_id: int | None
    school: str | None
    doc_type: str | None
    cycle: int
    value: str | None
    who: str
    why: str
    via: str
    at: datetime


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return moment.isoformat()


class Store:
    """The state directory: ``bot.sqlite3``, ``archive/`` (raw mail), ``blobs/`` (attachments)."""

    def __init__(self, conn: sqlite3.Connection, state_dir: Path):
        self.conn = conn
        self.state_dir = state_dir
        self.archive = BlobStore(state_dir / "archive", ".eml")
        self.blobs = BlobStore(state_dir / "blobs")

    @classmethod
    def open(cls, state_dir: Path) -> "Store":
        """Open (creating if needed) the state directory and migrate the database."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(state_dir / DB_NAME, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the state database in {state_dir}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        store = cls(conn, state_dir)
        store.migrate()
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema ---------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema up to date. Each step re-reads the version inside
        its own write transaction, so two processes starting at once cannot
        apply the same migration twice."""
        # Foreign keys are off while migrating (the documented way to rebuild a
        # table in SQLite) and checked before each step commits.
        self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            for number, script in enumerate(MIGRATIONS, start=1):
                with self.transaction():
                    version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > len(MIGRATIONS):
                        raise StoreError(f"the state database is at schema {version}, newer than this bot "
                                         f"({len(MIGRATIONS)})",
                                         hint="upgrade the bot, or restore a backup of the state directory")
                    if version >= number:
                        continue
                    for statement in _statements(script):
                        self.conn.execute(statement)
                    if self.conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                        raise StoreError(f"migration {number} would break a foreign key; nothing was changed")
                    self.conn.execute(f"PRAGMA user_version = {number}")
        finally:
            self.conn.execute("PRAGMA foreign_keys=ON")

    def transaction(self):
        return _Transaction(self.conn)

    # -- ingestion ------------------------------------------------------
    def checkpoint(self, source: str) -> tuple[int, int] | None:
        row = self.conn.execute("SELECT uidvalidity, last_uid FROM checkpoints WHERE source = ?", (source,)).fetchone()
        return (row[0], row[1]) if row else None

    def known_digests(self, digests: Iterable[str]) -> set[str]:
        digests = list(digests)
        known: set[str] = set()
        for chunk in _chunks(digests, 500):
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self.conn.execute(f"SELECT sha256 FROM messages WHERE sha256 IN ({marks})", chunk))
        return known

    def known_pairs(self, pairs: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
        """The (Message-ID, size) pairs already stored (used after a UIDVALIDITY reset)."""
        wanted = set(pairs)
        ids = sorted({mid for mid, _ in wanted})
        found: set[tuple[str, int]] = set()
        for chunk in _chunks(ids, 500):
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
                    (digest, _message_id_of(message.data) or f"<{digest[:32]}@no-message-id>",
                     message.source_key, iso(message.received_at),
                     message.full_size if message.headers_only else len(message.data), iso(now),
                     (message.withheld or "message too large to download") if message.headers_only else None))
                new += cur.rowcount
            if checkpoint:
                source, uidvalidity, last_uid = checkpoint
                self.conn.execute(
                    "INSERT INTO checkpoints (source, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(source) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
                    " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
                    (source, uidvalidity, last_uid, iso(now)))
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
            for decision, container, received_at, cycle, occurrence in (ItemRow(*i) for i in items):
                self.conn.execute(
                    """INSERT INTO items (message_row, container, filename, occurrence, part_index, content_sha256,
                           first_page, last_page, school, doc_types, campaign, decision, confidence,
                           reasons, received_at, cycle, classified_at, reason_code)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (message_row, container, filename, occurrence, part_index) DO UPDATE SET
                           content_sha256 = excluded.content_sha256, first_page = excluded.first_page,
                           last_page = excluded.last_page, school = excluded.school,
                           doc_types = excluded.doc_types, campaign = excluded.campaign,
                           decision = excluded.decision, confidence = excluded.confidence,
                           reasons = excluded.reasons, received_at = excluded.received_at,
                           cycle = excluded.cycle, classified_at = excluded.classified_at,
                           reason_code = excluded.reason_code""",
                    (row, container, decision.filename, occurrence, decision.part_index, decision.content_sha256,
                     decision.first_page, decision.last_page, decision.school, json.dumps(list(decision.doc_types)),
                     int(decision.campaign), decision.decision, decision.confidence,
                     json.dumps(list(decision.reasons), ensure_ascii=False), iso(received_at), cycle, iso(now),
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
            from_addr, subject = _sender_of(self.raw(message))
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

    # -- extraction cache -------------------------------------------------
    def cached_extractions(self, digests: Iterable[str], version: str) -> dict[str, Extraction]:
        """The cached extractions of these contents made by extractor ``version``
        (those of another version are read again, so an upgrade takes effect)."""
        found: dict[str, Extraction] = {}
        for chunk in _chunks(list(set(digests)), 500):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT sha256, result FROM extractions WHERE sha256 IN ({marks})"
                                       " AND version = ?", [*chunk, version]):
                found[r[0]] = _extraction_from_json(r[1])
        return found

    def cache_extractions(self, results: dict[str, Extraction], version: str, now: datetime) -> None:
        """Remember extractions by content hash: a file re-sent is never read
        twice. The caller leaves out results worth making again (timeouts)."""
        rows = [(d, e.kind, _extraction_to_json(e), version, iso(now)) for d, e in results.items()]
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO extractions (sha256, kind, result, version, created_at)"
                                  " VALUES (?, ?, ?, ?, ?)", rows)

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
        return [_item(r) for r in self.conn.execute(sql, args)]

    def item(self, item_id: int) -> StoredItem | None:
        r = self.conn.execute("SELECT i.*, m.message_id, m.from_addr, m.subject FROM items i"
                              " JOIN messages m ON m.id = i.message_row WHERE i.id = ?", (item_id,)).fetchone()
        return _item(r) if r else None

    def message_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT status, COUNT(*) FROM messages GROUP BY status")}

    def quarantined(self, *, include_dismissed: bool = False) -> list[dict]:
        """The quarantined messages waiting for a person, oldest first.

        Each is a dict with ``id``, ``ref`` (Q12), ``message_id``,
        ``source_key``, ``received_at`` (ISO text), ``attempts``,
        ``last_error``, ``from_addr``, ``subject``, ``size`` and the
        dismissal's ``dismissed_by``, ``dismissed_why``, ``dismissed_via``,
        ``dismissed_at`` (None unless dismissed). Dismissed messages are left
        out unless ``include_dismissed``.
        """
        where = "" if include_dismissed else " AND d.message_row IS NULL"
        rows = self.conn.execute(
            "SELECT m.id, m.message_id, m.source_key, m.received_at, m.attempts, m.last_error, m.from_addr,"
            " m.subject, m.size, d.who AS dismissed_by, d.why AS dismissed_why, d.via AS dismissed_via,"
            " d.at AS dismissed_at FROM messages m LEFT JOIN dismissals d ON d.message_row = m.id"
            f" WHERE m.status = 'quarantined'{where} ORDER BY m.received_at, m.id")
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

    # -- corrections ------------------------------------------------------
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
        return [Correction(r["id"], r["kind"], r["item_id"], r["school"], r["doc_type"], r["cycle"], r["value"],
                           r["who"], r["why"], r["via"], datetime.fromisoformat(r["at"])) for r in rows]

    def change_counters(self) -> tuple[int | None, int | None, int]:
        """(newest item id, newest correction id, messages done): cheap to
        read, and different whenever a fact the plans depend on changed."""
        items = self.conn.execute("SELECT MAX(id) FROM items").fetchone()[0]
        corrections = self.conn.execute("SELECT MAX(id) FROM corrections").fetchone()[0]
        done = self.conn.execute("SELECT COUNT(*) FROM messages WHERE status = 'done'").fetchone()[0]
        return items, corrections, done

    def item_times(self, cycle: int) -> list[datetime]:
        """When each item of ``cycle`` was received."""
        return [datetime.fromisoformat(r[0]) for r in
                self.conn.execute("SELECT received_at FROM items WHERE cycle = ?", (cycle,))]

    # -- marks (health) -----------------------------------------------------
    def set_mark(self, name: str, now: datetime, detail: str = "") -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO marks (name, at, detail) VALUES (?, ?, ?)", (name, iso(now), detail))

    def mark(self, name: str) -> tuple[datetime, str] | None:
        r = self.conn.execute("SELECT at, detail FROM marks WHERE name = ?", (name,)).fetchone()
        return (datetime.fromisoformat(r[0]), r[1]) if r else None

    def outbox_trouble(self, overdue_before: datetime, cycle: int | None = None) -> dict:
        """For health: mail that failed for good (of ``cycle``, or all) with the newest
        error, and queued mail whose next attempt is before ``overdue_before``."""
        from .outbox import utc

        where, args = ("status = 'failed'", []) if cycle is None else ("status = 'failed' AND cycle = ?", [cycle])
        failed = self.conn.execute(f"SELECT COUNT(*) FROM outbox WHERE {where}", args).fetchone()[0]
        newest = self.conn.execute(f"SELECT last_error FROM outbox WHERE {where} ORDER BY id DESC LIMIT 1",
                                   args).fetchone()
        overdue = self.conn.execute(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM outbox WHERE status = 'queued' AND next_attempt_at < ?",
            (utc(overdue_before),)).fetchone()
        return {"failed": failed, "failed_error": (newest[0] or "") if newest else "",
                "overdue": overdue[0], "overdue_since": datetime.fromisoformat(overdue[1]) if overdue[1] else None}


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    Inside an open transaction it is a SAVEPOINT instead: an operation that
    writes in its own transaction (``add_correction``, ``record_processed``)
    can then be part of a larger one (a coordinator's command mail: its
    corrections, the reply and the message's "done" commit together). An
    exception undoes only the inner part and propagates.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.savepoint: str | None = None

    def __enter__(self):
        if self.conn.in_transaction:
            self.savepoint = f"sp_{id(self):x}"
            self.conn.execute(f"SAVEPOINT {self.savepoint}")
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not self.conn.in_transaction:
            return False  # SQLite rolled it back itself (disk full, I/O error): the first error is the one to tell
        if self.savepoint:
            if exc_type is not None:
                self.conn.execute(f"ROLLBACK TO {self.savepoint}")
            self.conn.execute(f"RELEASE {self.savepoint}")
        else:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        return False


def quarantine_ref(row: int) -> str:
    """The short reference of a quarantined message: Q12 for ``messages.id`` 12."""
    return f"Q{row}"


def parse_quarantine_ref(ref: str | int) -> int | None:
    """The ``messages.id`` of a reference: ``Q12``, ``q12``, ``Q-12``, ``Q#12``, ``12`` or 12; None otherwise."""
    if isinstance(ref, int):
        return ref
    m = re.fullmatch(r"(?:q[-#]?)?(\d{1,9})", (ref or "").strip(), re.IGNORECASE)
    return int(m.group(1)) if m else None


def _statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# Bounds on the header reading done in this process for every fetched message
# (the same size bound as the folder reader's, mailbox.MAX_HEADER_BYTES): a
# mail of millions of tiny header lines must not make it grow without limit.
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADER_LINES = 2000


def _header_block(data: bytes, limit: int = MAX_HEADER_BYTES) -> bytes:
    """The header block of a raw message (without the blank line), at most ``limit`` bytes."""
    head = data[:limit]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    return head[:min(ends)] if ends else head  # not split(): it would copy the whole body


def _header_fields(data: bytes, names: Sequence[str]) -> bytes:
    """The first header of each of ``names`` (with its continuation lines),
    as a small header block: bounded in size (``MAX_HEADER_BYTES``) and in
    lines read (``MAX_HEADER_LINES``), whatever the message holds."""
    wanted = {n.lower().encode() for n in names}
    block = _header_block(data)
    out: list[bytes] = []
    taking, start = False, 0
    for _ in range(MAX_HEADER_LINES):
        if start >= len(block):
            break
        end = block.find(b"\n", start)
        end = len(block) if end < 0 else end + 1
        line = block[start:end]
        start = end
        if line[:1] in (b" ", b"\t"):  # a folded continuation of the header before
            if taking:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        taking = name in wanted and b":" in line
        if taking:
            wanted.discard(name)
            out.append(line if line.endswith(b"\n") else line + b"\r\n")
        elif not wanted:
            break
    return b"".join(out)


def _message_id_of(data: bytes) -> str:
    """The Message-ID header, read cheaply (and boundedly) from the raw header block."""
    from email.parser import BytesHeaderParser
    from email import policy

    try:
        value = BytesHeaderParser(policy=policy.compat32).parsebytes(
            _header_fields(data, ("Message-ID",))).get("Message-ID", "")
    except Exception:  # malformed headers: the parse stage will report it
        return ""
    return " ".join(str(value).split())[:998]


def _sender_of(data: bytes) -> tuple[str, str]:
    """(From address, subject) of a raw message, read from its header block
    with the standard library alone, as ``_message_id_of`` reads every
    fetched message: no mail-parser, no body, so a message whose processing
    crashed cannot crash this too. Unreadable fields are ""."""
    from email.parser import BytesHeaderParser
    from email import policy

    headers = BytesHeaderParser(policy=policy.default).parsebytes(_header_fields(data, ("From", "Subject")))
    fields = []
    for name in ("From", "Subject"):
        try:
            value = headers[name]
            if name == "From":
                value = value.addresses[0].addr_spec.lower() if value and value.addresses else ""
            fields.append(" ".join(str(value or "").split())[:998])
        except Exception:  # a malformed header: the reason of the quarantine says more
            fields.append("")
    return fields[0], fields[1]


def environment_fault(exc: BaseException) -> str | None:
    """What is wrong with the machine, when ``exc`` comes from it rather than
    from a message (the state disk full or read-only, the database locked,
    an I/O error, permissions); None when it does not."""
    if isinstance(exc, sqlite3.OperationalError):
        return f"the state database cannot be written: {exc}"
    if environmental(exc):
        return f"the state directory cannot be used: {type(exc).__name__}: {exc}"
    return None


def _item(r: sqlite3.Row) -> StoredItem:
    return StoredItem(
        id=r["id"], message_id=r["message_id"], from_addr=r["from_addr"] or "", subject=r["subject"] or "",
        received_at=datetime.fromisoformat(r["received_at"]), container=r["container"], filename=r["filename"],
        part_index=r["part_index"], first_page=r["first_page"], last_page=r["last_page"], school=r["school"],
        doc_types=tuple(json.loads(r["doc_types"])), campaign=bool(r["campaign"]), decision=r["decision"],
        confidence=r["confidence"], reasons=tuple(json.loads(r["reasons"])), cycle=r["cycle"],
        content_sha256=r["content_sha256"], reason_code=_reason_code(r["reason_code"]))


_REASON_CODES = {c.value: c for c in ReasonCode}


def _reason_code(value: str | None) -> ReasonCode | None:
    """The stored code; None for old rows (and for a code this version does not know)."""
    return _REASON_CODES.get(value) if value else None


def _extraction_to_json(e: Extraction) -> str:
    return json.dumps({
        "kind": e.kind, "pages": e.pages, "ocr": e.ocr, "error": e.error, "notes": list(e.notes),
        "parts": [{"head": p.head, "text": p.text, "first_page": p.first_page, "last_page": p.last_page} for p in e.parts],
    }, ensure_ascii=False)


def _extraction_from_json(text: str) -> Extraction:
    d = json.loads(text)
    return Extraction(kind=d["kind"], pages=d["pages"], ocr=d["ocr"], error=d["error"], notes=tuple(d["notes"]),
                      parts=tuple(DocumentPart(**p) for p in d["parts"]))


__all__ = ["Store", "ItemRow", "StoredItem", "Correction", "PendingMessage", "MessageSummary", "Recovery", "sha256",
           "iso", "quarantine_ref", "parse_quarantine_ref", "environment_fault", "DIED_ALONE"]
