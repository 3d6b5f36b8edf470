"""The life of a message in the state: fetched, processed (its items written), failed or quarantined.

Exactly-once ingestion rests on three rules:
1. a raw message is written to the archive (fsync'ed) before its row exists;
2. the row (unique on the SHA-256 of the bytes) and the mailbox checkpoint
   are committed in the same transaction;
3. processing a message writes its items and marks it done in one
   transaction, so a crash leaves it either untouched or fully recorded.

A message too large to download (see bot/mailbox/imap.py) is recorded like any other,
with its header block as its archived bytes and its real size in ``size``:
a row whose archive file is smaller than ``size`` is "withheld", and
processing quarantines it with the reason instead of reading it.

Blame goes only where it is proven (see pipeline.py): ``attempts`` counts
a message's own failures (its worker crashed, timed out or ran out of
memory on it, its parsing raised, or the bot died while handling it ALONE);
``inflight`` is the durable mark of a message being handled, so that after
an unclean stop the next run resumes those messages first, one at a time,
without charging them.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Sequence

from ..clock import utc
from ..official.record import evidence_to_dict
from .db import chunks
from .headers import message_id_of, sender_of

if TYPE_CHECKING:  # annotations only: the pipeline's records are made by the pipeline
    from .processing_records import ItemRow, MessageSummary, PendingMessage, Recovery
    from ..mail_model import RawMessage


# The reason kept for a message whose handling, alone, ended with the bot's death.
DIED_ALONE = "processing crashed: the bot's process died while it handled this message alone"


class ProcessingMixin:
    """The life of a row of ``messages``, and the ``items`` it writes (a part of ``Store``)."""

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
                     message.source_key, utc(message.received_at),
                     message.full_size if message.headers_only else len(message.data), utc(now),
                     (message.withheld or "message too large to download") if message.headers_only else None))
                new += cur.rowcount
            if checkpoint:
                source, uidvalidity, last_uid = checkpoint
                self.save_checkpoint(source, uidvalidity, last_uid, now)
        return new

    def newest_row(self) -> int:
        """The row of the message recorded last (0 when none): a cheap way to notice new mail."""
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]

    def pending(self, limit: int, max_attempts: int) -> list[PendingMessage]:
        """The messages to process: first those in flight when the bot last
        stopped uncleanly, then the others, each group oldest first."""
        from .processing_records import PendingMessage  # not at the top: records load with the reads that make them

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
        from .processing_records import Recovery  # not at the top: records load with the reads that make them

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
                (utc(now), summary.from_addr, summary.subject, summary.automatic, summary.auth, row))

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
        from .processing_records import ItemRow  # not at the top: records load with the reads that make them

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
                     json.dumps(list(decision.reasons), ensure_ascii=False), utc(received_at), cycle, utc(now),
                     None if evidence is None else json.dumps(evidence_to_dict(evidence), ensure_ascii=False),
                     decision.reason_code.value if decision.reason_code is not None else None))
            self.conn.execute(
                "UPDATE messages SET status = 'done', processed_at = ?, last_error = NULL, inflight = NULL,"
                " from_addr = ?, subject = ?, automatic = ?, auth = ?, bounces = ? WHERE id = ?",
                (utc(now), summary.from_addr, summary.subject,
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
                              " WHERE id = ?", (error, status, utc(now), row))
        return status == "quarantined"

    def quarantine_exhausted(self, max_attempts: int, now: datetime) -> list[PendingMessage]:
        """Quarantine messages whose attempts ran out without a recorded result
        (the process died while handling them alone); returns them."""
        from .processing_records import PendingMessage  # not at the top: records load with the reads that make them

        with self.transaction():
            rows = [PendingMessage(r[0], r[1], r[2], datetime.fromisoformat(r[3]), r[4], r[5]) for r in self.conn.execute(
                "SELECT id, sha256, message_id, received_at, attempts, size FROM messages"
                " WHERE status = 'new' AND attempts >= ? ORDER BY received_at, id", (max_attempts,))]
            self.conn.executemany(
                "UPDATE messages SET status = 'quarantined', processed_at = ?, inflight = NULL,"
                " last_error = COALESCE(last_error, 'processing crashed ' || attempts || ' times') WHERE id = ?",
                [(utc(now), m.row) for m in rows])
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
