"""One poll: fetch -> archive/record -> parse -> extract -> classify -> record.

The two halves are separate on purpose:
- ``ingest`` only moves raw bytes from the source into the archive and the
  database (with the checkpoint), so nothing can be lost to a later failure;
- ``process_pending`` turns recorded messages into classified items, one
  transaction per message; a message that fails is retried a bounded number
  of times, then quarantined with its error, and never blocks the others.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Callable, Sequence

from .archive import sha256
from .classify import classify_message
from .extract import Extractor
from .ingest import PollReport, Progress
from .model import Attachment, Extraction, ItemDecision, ParsedMessage
from .parse import parse_message
from .rules import Rules
from .store import MessageSummary, PendingMessage, Store

log = logging.getLogger("bot.pipeline")

MAX_ATTEMPTS = 3
PROCESS_BATCH = 16


def process_pending(store: Store, rules: Rules, extractor: Extractor, now: datetime, report: PollReport,
                    *, ocr_available: bool, max_attempts: int = MAX_ATTEMPTS, progress: Progress | None = None,
                    should_stop: Callable[[], bool] = lambda: False) -> None:
    """Classify every recorded message not yet processed."""
    report.quarantined += store.quarantine_exhausted(max_attempts, now)
    total = sum(1 for _ in store.pending(10**9, max_attempts))
    while not should_stop():
        batch = store.pending(PROCESS_BATCH, max_attempts)
        if not batch:
            break
        _process_batch(store, rules, extractor, now, report, batch, ocr_available, max_attempts)
        if progress:
            progress("process", report.processed + report.failed, total)


def _process_batch(store, rules, extractor, now, report, batch: Sequence[PendingMessage], ocr_available, max_attempts):
    parsed: list[tuple[PendingMessage, ParsedMessage]] = []
    for pending in batch:
        # Count the attempt before touching the message: if it kills the
        # process, the count survives and the message is quarantined after
        # max_attempts instead of crashing the worker forever. Only this
        # message is charged, not the whole batch.
        store.begin_attempts([pending.row])
        try:
            parsed.append((pending, parse_message(store.raw(pending))))
        except Exception as exc:  # parse_message is total; this is a bug or a lost archive file
            _fail(store, report, pending, f"cannot parse: {exc!r}", max_attempts, now)
    extractions = _extract_all(store, extractor, [a for _, m in parsed for a in m.attachments], now)
    for pending, message in parsed:
        try:
            docs = [(a, extractions[sha256(a.data)]) for a in message.attachments]
            decisions = classify_message(message, docs, rules, pending.received_at, ocr_available)
            items = _items(decisions, docs, pending.received_at, rules)
            store.record_processed(pending.row, _summary(message), items, now)
        except Exception as exc:
            log.exception("message %s: processing failed", pending.message_id)
            _fail(store, report, pending, f"{type(exc).__name__}: {exc}", max_attempts, now)
            continue
        report.processed += 1
        for decision, *_ in items:
            report.decisions[decision.decision] += 1
            log.info("message=%s file=%r school=%s types=%s decision=%s confidence=%.2f",
                     pending.message_id, decision.filename, decision.school or "-",
                     ",".join(decision.doc_types) or "-", decision.decision, decision.confidence)


def _extract_all(store: Store, extractor: Extractor, attachments: list[Attachment], now: datetime) -> dict[str, Extraction]:
    """Extract each distinct file once, ever: results are cached by content hash."""
    by_digest = {sha256(a.data): a for a in attachments}
    results = store.cached_extractions(by_digest)
    todo = [d for d in by_digest if d not in results]
    if todo:
        fresh = dict(zip(todo, extractor.extract_many([by_digest[d] for d in todo])))
        store.cache_extractions(fresh, now)
        results.update(fresh)
    return results


def _items(decisions: list[ItemDecision], docs: list[tuple[Attachment, Extraction]], received_at: datetime,
           rules: Rules) -> list[tuple[ItemDecision, str, datetime, int]]:
    """Attach container, content hash and cycle to each decision.

    Decisions come in the order of ``docs``; walking both together pairs
    each decision with its attachment even when two files share a name.
    """
    cycle = rules.campaign.cycle_of(received_at)
    out = []
    cursor, last_part = 0, None  # the doc matched last, and the part index it had
    for decision in decisions:
        container, digest = "", ""
        # a part index that does not grow means the next attachment has begun
        start = cursor if last_part is None or decision.part_index > last_part else cursor + 1
        for index in range(start, len(docs)):
            if docs[index][0].filename == decision.filename:
                container, digest = docs[index][0].container, sha256(docs[index][0].data)
                cursor, last_part = index, decision.part_index
                break
        if digest and not decision.content_sha256:
            decision = replace(decision, content_sha256=digest)
        out.append((decision, container, received_at, cycle))
    return out


def _summary(message: ParsedMessage) -> MessageSummary:
    return MessageSummary(message_id=message.message_id, from_addr=message.from_addr, subject=message.subject,
                          automatic=message.automatic, auth=message.auth, bounces=message.bounce_recipients)


def _fail(store: Store, report: PollReport, pending: PendingMessage, error: str, max_attempts: int, now: datetime):
    quarantined = store.record_failure(pending.row, error, max_attempts, now)
    report.failed += 1
    if quarantined:
        report.quarantined += 1
        log.error("message %s quarantined after %d attempts: %s", pending.message_id, pending.attempts + 1, error)
    else:
        log.warning("message %s failed (attempt %d of %d), will retry: %s",
                    pending.message_id, pending.attempts + 1, max_attempts, error)
