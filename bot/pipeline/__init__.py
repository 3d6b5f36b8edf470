"""One poll: fetch -> archive/record -> parse -> extract -> classify -> record.

The two halves are separate on purpose:
- ``ingest`` only moves raw bytes from the source into the archive and the
  database (with the checkpoint), so nothing can be lost to a later failure;
- ``process_pending`` turns recorded messages into classified items; a
  message that fails is retried a bounded number of times, then quarantined
  with its error, and never blocks the others.

How ``process_pending`` keeps the cores busy (measured: README, Performance)
-------------------------------------------------------------------------
The Extractor's worker processes parse the messages, read their
attachments and classify them; this process fetches, hands out the work and
records. Nothing waits for a whole batch: messages are sent ahead (up to
``WINDOW`` messages, ``WINDOW_BYTES`` of mail), every attachment not in the
extraction cache goes to the pool as soon as its message is parsed (each
distinct file once), a message is classified (``items.classified``, ahead
of the files waiting) as soon as all its attachments are read, and recorded
when its rows come back. (Measured: classifying here made this process the
bottleneck of a first poll, half of its CPU, while the workers waited.)

Writes are grouped, and each message still has exactly one outcome:
- up to ``CHARGE_BATCH`` messages are marked in flight in one transaction,
  committed BEFORE any of them is parsed (the durable mark of a crash);
- results are committed for up to ``RECORD_BATCH`` messages (or what is ready
  after ``RECORD_SECONDS``) in one transaction; inside it each message is a
  savepoint, its items and its "done" mark together. A crash loses the
  uncommitted batch, never half a message: each message is either fully
  recorded or still new (exactly once), and is never recorded twice.

Blame only a proven cause. An attempt is charged to a message only when the
failure is its own: its worker crashed, timed out or ran out of memory on
its attachment or on parsing or classifying it, or its parsing or
classifying raised. A failure of the machine (a worker that cannot start, the state disk full:
``EnvironmentFault``) stops the poll and charges nobody. The death of this
process (SIGKILL, OOM, reboot) charges nobody either: the next run finds
the messages still marked in flight and resumes them first, ONE at a time
(a "suspect", like a message that failed before, is handled alone). When
the Extractor runs inline, a suspect handled alone is marked 'alone' while
this process parses, reads and classifies it: dying then is its own death,
charged as an attempt, so a message that kills the process every time is
still quarantined after ``max_attempts``, alone. In the pool, parsing,
reading and classifying happen in the workers: a worker's death is the proof.
Work done is kept across a crash loop: the archive, and the extraction
cache (written at once while a suspect is handled alone).

Mail fetched meanwhile joins the run. While a fetch thread records new
batches (``ingest.BackgroundFetch``), a run whose queue is empty takes the
new messages recorded since it began (rows above the newest it knew, not
suspects), marked and handled like the others: the pool does not drain and
stop between two fetched batches. (Measured: a first poll of 2,000 messages
was four or five runs, each ending with its workers idle.)

OCR must not hold back the others. With OCR on, a first pass reads every
message with OCR deferred: a message with a scanned attachment is set aside
(no longer in flight, nothing charged) while the rest are recorded. A
second pass then reads the set-aside messages with OCR, the whole pool on
it, each recorded as soon as its scans are read; ``ocr_seconds`` bounds it,
so that a poll can fetch and record the mail that arrived meanwhile before
going on.

The package: this module drives the work (the window, the pool, the batched
writes, who is charged); ``items`` turns a message's decisions into the rows
recorded (pure). The driver stays one module on purpose: its parts share one
state (what is parsed, read, ready, in flight) whose invariants make the
exactly-once and blame rules above; split, they would be read apart.
"""
from __future__ import annotations

import logging
import pickle
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from ..archive import sha256
from ..classify import classify_message
from ..errors import BotError, EnvironmentFault
from ..extract import NEEDS_OCR, Extractor, JobFailed, cache_version, timed_out, worth_caching
from ..ingest import PollReport, Progress
from ..model import Extraction, ParsedMessage
from ..parse import ParseLimits, parse_message
from ..rules.model import Rules
from ..store import MessageSummary, PendingMessage, Store, environment_fault
from .items import Completed, classified, classified_completing, completing, has_pending_reads, hollow

log = logging.getLogger("bot.pipeline")

MAX_ATTEMPTS = 3
WINDOW = 64  # messages parsed ahead of the recording
WINDOW_BYTES = 64 * 1024 * 1024  # of raw mail in flight (one message always fits)
CHARGE_BATCH = 16  # messages marked in flight in one transaction
RECORD_BATCH = 32  # messages recorded in one transaction...
RECORD_SECONDS = 1.0  # ... or fewer, when the first of them has waited this long
FOLLOW_SECONDS = 0.1  # how often a run with an empty queue looks for newly fetched mail
# With OCR off, PDFs and images are not cached (they may be scans, read again once OCR is on), but
# within one poll a re-sent file reads the same: the last ones read are kept for it. (Measured: a
# first poll of the 2,000-message bench corpus read its 654 PDFs 2,235 times, 4-5 s of CPU.)
KEPT_READS = 1024
CommandHook = Callable[[Store, PendingMessage, ParsedMessage, datetime], bool]


def process_pending(store: Store, rules: Rules, extractor: Extractor, now: datetime, report: PollReport,
                    *, ocr_available: bool | Callable[[], bool], max_attempts: int = MAX_ATTEMPTS,
                    progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False,
                    commands: CommandHook | None = None, ocr_seconds: float | None = None,
                    needs_ocr: set[int] | None = None, parse_limits: ParseLimits = ParseLimits()) -> bool:
    """Classify every recorded message not yet processed.

    ``commands(store, pending, message, now)`` sees each parsed message first
    and returns True when it handled it completely (a coordinator's command
    mail, see ``bot/coordinator.py``); such a message is not classified.
    ``ocr_available`` may be a callable, asked only if there is work.
    ``ocr_seconds``: stop starting OCR'd messages after this long (the rest
    stay pending); ``needs_ocr``: rows known to need OCR (filled in here, so
    a next call in the same poll skips their first pass); ``parse_limits``:
    how each message is parsed, including which Authentication-Results
    headers are trusted (``app.parse_limits`` builds it from the config).

    Returns True when everything pending was handled; False when it stopped
    early (``should_stop``, or ``ocr_seconds`` spent with scans left).
    Raises ``EnvironmentFault`` (nobody charged) when the machine is at fault.
    """
    recovery = store.recover_inflight()
    if recovery.resumed or recovery.charged:
        log.warning("the bot stopped uncleanly while handling mail: %d message(s) in flight are resumed first, "
                    "one at a time, not charged; %d handled alone were charged an attempt",
                    recovery.resumed, recovery.charged)
    for crashed in store.quarantine_exhausted(max_attempts, now):
        report.quarantined += 1
        store.note_sender(crashed)
        log.error("message %s quarantined: %s", crashed.message_id, "the bot's process died each time it "
                  f"handled this message alone ({crashed.attempts} times)")
    todo = store.pending(10**9, max_attempts)
    if not todo:
        return True
    run = _Run(store, rules, extractor, now, report, ocr_available, max_attempts, progress, commands, len(todo),
               needs_ocr if needs_ocr is not None else set(), parse_limits)
    try:
        return run.all(todo, should_stop, ocr_seconds)
    except (Exception, KeyboardInterrupt, SystemExit) as exc:
        # Raised, not a death: this process lives to say so, and nobody is charged.
        extractor.cancel()
        run.release_all()
        fault = None if isinstance(exc, BotError) else environment_fault(exc)
        if fault:
            raise EnvironmentFault(fault + "; the poll stopped") from exc
        raise
    except BaseException:  # stands for a death (tests): the in-flight marks stay, as after a SIGKILL
        extractor.cancel()
        raise


@dataclass(eq=False)
class _Job:
    """A parsed message waiting for its attachments to be read."""

    pending: PendingMessage
    message: ParsedMessage
    digests: list[str]  # one per attachment, in order
    missing: set[str] = field(default_factory=set)
    ready_at: float = 0.0
    deferred: bool = False
    failed: bool = False
    outcome: object = None  # its rows (or the exception), when a worker classified it


class _Run:
    def __init__(self, store, rules, extractor, now, report, ocr_available, max_attempts, progress, commands,
                 total, needs_ocr: set[int], parse_limits: ParseLimits = ParseLimits()):
        self.store, self.rules, self.extractor, self.now, self.report = store, rules, extractor, now, report
        self._ocr_available = ocr_available
        self.max_attempts, self.progress, self.commands = max_attempts, progress, commands
        # What the progress shows: ``report`` counts the whole poll, which calls this once per OCR
        # slice (with new mail fetched between two): the total is the poll's, not this slice's.
        self.total = report.processed + report.failed + total
        self.withheld = 0  # messages too large to download, quarantined from their headers: handled too
        self.needs_ocr = needs_ocr
        self.parse_limits = parse_limits
        self.parsing: dict[tuple, PendingMessage] = {}  # being parsed by a worker
        self.inflight: set[_Job] = set()  # parsed, attachments being read
        self.classifying: dict[tuple, _Job] = {}  # read, being classified by a worker
        self._rules_blob: bytes | None = None  # the rules as a classify job carries them
        self.ready: list[_Job] = []  # to record in the next batch
        self.waiting: dict[str, list[_Job]] = {}  # digest being read -> jobs that need it
        self.results: dict[str, Extraction] = {}  # digest -> extraction, while some job may need it
        self.kept: OrderedDict[str, Extraction] = OrderedDict()  # read in this run but not cached (KEPT_READS)
        self.fresh: dict[str, Extraction] = {}  # new extractions, cached with the next batch
        self.releases: list[int] = []  # rows set aside or stopped: no longer in flight, with the next batch
        self.alone: int | None = None  # the row of the suspect being handled alone
        self.deferred: list[PendingMessage] = []
        self.held = 0  # bytes of mail in flight
        self.stopped = False
        self.defer_ocr = False
        self.newest = 0  # the newest message row this run knows: newer ones were fetched meanwhile
        self.looked = 0.0  # when it last looked for them

    @property
    def ocr_available(self) -> bool:
        if callable(self._ocr_available):
            self._ocr_available = bool(self._ocr_available())
        return self._ocr_available

    def all(self, todo: list[PendingMessage], should_stop, ocr_seconds: float | None) -> bool:
        defer = self.extractor.ocr is not False
        first = [p for p in todo if not (defer and p.row in self.needs_ocr)]
        later = [p for p in todo if defer and p.row in self.needs_ocr]
        self.newest = max(p.row for p in todo)
        left = self.run(first, should_stop, defer_ocr=defer, window=WINDOW, follow=True)
        later += self.deferred
        if later and not self.stopped:
            later.sort(key=lambda p: (p.received_at, p.row))
            deadline = None if ocr_seconds is None else time.monotonic() + ocr_seconds
            left += self.run(later, should_stop, defer_ocr=False, window=2 * max(1, self.extractor.size),
                             deadline=deadline)
        return not left and not self.stopped

    def run(self, todo: Iterable[PendingMessage], should_stop, *, defer_ocr: bool, window: int,
            deadline: float | None = None, follow: bool = False) -> list[PendingMessage]:
        """One pass over ``todo`` (and, with ``follow``, the mail fetched meanwhile);
        returns the messages it did not start."""
        queue, left = deque(todo), []
        self.defer_ocr = defer_ocr
        while queue or self.busy or (follow and self._follow(queue, now=True)):
            if should_stop():
                self._stop_now()
                left.extend(queue)
                break
            if follow and not queue:
                self._follow(queue)
            if queue and deadline is not None and time.monotonic() >= deadline:
                left.extend(queue)  # the OCR budget is spent: finish what is running
                queue.clear()
            if queue and queue[0].suspect:  # resumed after a crash, or failed before: handled alone
                if self.busy:
                    self._step(wait=True, more=False)
                    continue
                pending = queue.popleft()
                self.held += pending.size
                self.alone = pending.row
                try:
                    self._start([pending])
                    while self.busy and not should_stop():
                        self._step(wait=True, more=False)
                finally:
                    self.alone = None
                continue
            group = []
            while (queue and not queue[0].suspect and len(group) < CHARGE_BATCH
                   and len(self.parsing) + len(self.inflight) + len(self.classifying) + len(self.ready)
                   + len(group) < window
                   and (self.held == 0 or self.held + queue[0].size <= WINDOW_BYTES)):
                self.held += queue[0].size
                group.append(queue.popleft())
            if group:
                self._start(group)
                self._step(wait=False, more=True)
            else:
                self._step(wait=True, more=bool(queue))
        if self.releases or self.fresh:
            self._record()
        return left

    def _follow(self, queue: deque, now: bool = False) -> bool:
        """Add to ``queue`` the messages recorded since this run last looked (at most
        every ``FOLLOW_SECONDS`` unless ``now``): new rows, oldest first; a suspect is
        left to the next run. Returns whether it added any."""
        if not now and time.monotonic() - self.looked < FOLLOW_SECONDS:
            return False
        self.looked = time.monotonic()
        newest = self.store.newest_row()
        if newest <= self.newest:
            return False
        fresh = [p for p in self.store.pending(10**9, self.max_attempts) if p.row > self.newest and not p.suspect]
        self.newest = newest
        queue.extend(fresh)
        self.total += len(fresh)
        return bool(fresh)

    @property
    def busy(self) -> bool:
        return bool(self.parsing or self.inflight or self.classifying or self.ready)

    # -- stages ----------------------------------------------------------------

    def _start(self, group: list[PendingMessage]) -> None:
        """Mark the messages in flight (committed first), then parse each: in
        the pool, or here when the Extractor runs inline (tests, debugging).
        A suspect alone is marked 'alone' only when this process parses it;
        in the pool, its worker's failure is what would be charged."""
        store = self.store
        if self.alone is None:
            store.mark_inflight([p.row for p in group], "batch")
        elif not self.extractor.size:
            store.mark_inflight([self.alone], "alone")
        for pending in group:
            try:
                if store.is_withheld(pending):  # too large: only its headers are here
                    self.held -= pending.size
                    _withhold(store, self.report, pending, self.now, self.parse_limits)
                    self.withheld += 1
                    self._show_progress()
                    continue
                if self.extractor.size:
                    key = ("parse", pending.row)
                    self.parsing[key] = pending
                    self.extractor.submit_parse(key, str(store.archive.path_for(pending.sha256)), self.parse_limits)
                    continue
                message = parse_message(store.raw(pending), self.parse_limits)
            except Exception as exc:  # parse_message is total; this is a bug or a lost archive file
                if environment_fault(exc):
                    raise
                self.held -= pending.size
                _fail(store, self.report, pending, f"cannot parse: {exc!r}", self.max_attempts, self.now)
                continue
            self._parsed(pending, message, [sha256(a.data) for a in message.attachments])
            self._take(self.extractor.ready(0))  # keeps the workers fed while parsing here

    def _parsed(self, pending: PendingMessage, message: ParsedMessage, digests: list[str]) -> None:
        """Send the attachments of a parsed message to the pool (the cache, and
        files already asked for, are not read again)."""
        job = _Job(pending, message, digests)
        unknown = set(digests) - self.results.keys() - self.waiting.keys()
        for digest in unknown & self.kept.keys():
            self.kept.move_to_end(digest)
            self.results[digest] = self.kept[digest]
        unknown -= self.kept.keys()
        if unknown:
            self.results.update(self.store.cached_extractions(unknown, cache_version(self.extractor.limits)))
        for att, digest in zip(message.attachments, digests):
            if digest in self.results or digest in job.missing:
                continue
            job.missing.add(digest)
            if digest in self.waiting:
                self.waiting[digest].append(job)
            else:
                self.waiting[digest] = [job]
                self.extractor.submit(digest, att, defer_ocr=self.defer_ocr)
        if job.missing:
            self.inflight.add(job)
        else:
            self._ready(job)

    def _take(self, results) -> None:
        for key, result in results:
            if isinstance(key, tuple) and key[0] == "classify":
                self._classified(key, result)
            elif isinstance(key, tuple):  # a parse job
                pending = self.parsing.pop(key, None)
                if pending is None:  # asked for by a run that was stopped
                    continue
                if isinstance(result, JobFailed):
                    if result.environment:
                        raise EnvironmentFault(f"an extraction worker failed for a reason outside the message "
                                               f"{pending.message_id}: {result.reason}")
                    self.held -= pending.size
                    _fail(self.store, self.report, pending, f"cannot parse: {result.reason}", self.max_attempts,
                          self.now)
                else:
                    self._parsed(pending, *result)
            else:
                self._extracted(key, result)

    def _step(self, *, wait: bool, more: bool) -> None:
        """Take the extractions that are done; record a batch when it is due."""
        timeout = 0.0
        if wait:
            timeout = 1.0  # stays responsive to should_stop
            if self.ready:
                timeout = min(timeout, max(0.0, self.ready[0].ready_at + RECORD_SECONDS - time.monotonic()))
            elif not self.extractor.pending:
                timeout = 0.0
        self._take(self.extractor.ready(timeout))
        if self.ready and (len(self.ready) >= RECORD_BATCH
                           or (not more and not self.inflight and not self.parsing and not self.classifying)
                           or time.monotonic() - self.ready[0].ready_at >= RECORD_SECONDS):
            self._record()

    def _extracted(self, digest: str, extraction: Extraction | JobFailed) -> None:
        jobs = self.waiting.pop(digest, None)
        if jobs is None:  # asked for by a run that was stopped
            return
        if isinstance(extraction, JobFailed):
            self._unreadable(digest, extraction, jobs)
            return
        if extraction is NEEDS_OCR:  # a scan: the message waits for the OCR pass
            for job in jobs:
                self._defer(job)
            return
        self.results[digest] = extraction
        if worth_caching(extraction, self.extractor.ocr):
            self.fresh[digest] = extraction
            if self.alone is not None:  # a crash loop keeps what each run read
                self.store.cache_extractions(self.fresh, cache_version(self.extractor.limits), self.now)
                self.fresh = {}
        elif self.extractor.ocr is False and not timed_out(extraction):  # the same bytes read the same
            self.kept[digest] = extraction
            if len(self.kept) > KEPT_READS:
                self.kept.popitem(last=False)
        for job in jobs:
            job.missing.discard(digest)
            if not job.missing and not job.deferred and not job.failed:
                self._ready(job)

    def _unreadable(self, digest: str, failure: JobFailed, jobs: list[_Job]) -> None:
        """A worker crashed, timed out or ran out of memory on this file: a
        failure of each message carrying it (charged; retried alone, then
        quarantined with the reason). The machine's fault stops the poll."""
        if failure.environment:
            raise EnvironmentFault(f"an extraction worker failed for a reason outside the mail: {failure.reason}")
        for job in jobs:
            if job.failed or job.deferred:
                continue
            job.failed = True
            self.inflight.discard(job)
            self.held -= job.pending.size
            name = next((a.filename for a, d in zip(job.message.attachments, job.digests) if d == digest), "?")
            _fail(self.store, self.report, job.pending, f"cannot read {name!r}: {failure.reason}",
                  self.max_attempts, self.now)
            self.extractor.release(job.message.attachments)

    def _ready(self, job: _Job) -> None:
        """Every attachment is read: classified by a worker (its rows come back
        to ``_classified``), or at recording time when the Extractor runs inline."""
        self.inflight.discard(job)
        if self.extractor.size:
            if self._rules_blob is None:
                self._rules_blob = pickle.dumps(self.rules, pickle.HIGHEST_PROTOCOL)
            key = ("classify", job.pending.row)
            self.classifying[key] = job
            docs = [(hollow(a), self.results[d]) for a, d in zip(job.message.attachments, job.digests)]
            if has_pending_reads(docs):  # a scan's official-copy reads, done after classifying where they count
                self.extractor.submit_call(key, classified_completing, hollow(job.message), docs, job.digests,
                                           job.pending.received_at, self.ocr_available, self._rules_blob,
                                           str(self.store.archive.path_for(job.pending.sha256)), self.parse_limits,
                                           self.extractor.limits)
                return
            self.extractor.submit_call(key, classified, hollow(job.message), docs, job.digests,
                                       job.pending.received_at, self.ocr_available, self._rules_blob)
            return
        job.ready_at = time.monotonic()
        self.ready.append(job)

    def _classified(self, key: tuple, result) -> None:
        """A worker's rows for a message (or the failure of classifying it,
        charged to the message: a crash, timeout or lack of memory on its own content)."""
        job = self.classifying.pop(key, None)
        if job is None:  # asked for by a run that was stopped
            return
        if isinstance(result, JobFailed):
            if result.environment:
                raise EnvironmentFault(f"an extraction worker failed for a reason outside the message "
                                       f"{job.pending.message_id}: {result.reason}")
            result = _Raised(f"cannot classify: {result.reason}")
        elif isinstance(result, Completed):
            result = self._completed(result)
        job.outcome = result
        job.ready_at = time.monotonic()
        self.ready.append(job)

    def _completed(self, done: Completed) -> list:
        """A message's rows after its scans' official-copy reads: the extractions they completed
        are kept for the messages still to come and cached with the next batch."""
        for digest, extraction in done.extractions.items():
            self.results[digest] = extraction
            if worth_caching(extraction, self.extractor.ocr):
                self.fresh[digest] = extraction
        return done.rows

    def _defer(self, job: _Job) -> None:
        if job.deferred:
            return
        job.deferred = True
        self.inflight.discard(job)
        self.held -= job.pending.size
        self.needs_ocr.add(job.pending.row)
        self.deferred.append(job.pending)
        self.releases.append(job.pending.row)
        self.extractor.release(job.message.attachments)  # parsed again for its OCR pass

    def _stop_now(self) -> None:
        """A stop request: record what is ready; the rest is no longer in flight."""
        self.stopped = True
        self.releases.extend(job.pending.row for job in self.inflight)
        self.releases.extend(pending.row for pending in self.parsing.values())
        self.releases.extend(job.pending.row for job in self.classifying.values())
        self.extractor.cancel()
        for job in [*self.inflight, *self.classifying.values()]:
            self.extractor.release(job.message.attachments)
        self.inflight.clear()
        self.classifying.clear()
        self.parsing.clear()
        self.waiting.clear()
        self._record()

    def release_all(self) -> None:
        """After an exception (not a death): nothing in flight stays marked, so
        nobody is charged for it. Best effort: the database may be the fault."""
        rows = [*self.releases, *(p.row for p in self.parsing.values()), *(j.pending.row for j in self.inflight),
                *(j.pending.row for j in self.classifying.values()), *(j.pending.row for j in self.ready),
                *([self.alone] if self.alone is not None else [])]
        for job in [*self.inflight, *self.classifying.values(), *self.ready]:  # their spooled attachments
            self.extractor.release(job.message.attachments)
        try:
            self.store.release_inflight(rows)
        except Exception as exc:  # the state disk is full or gone: the next run resumes them, uncharged
            log.warning("could not clear the in-flight marks (%s); the next poll resumes those messages", exc)

    def _record(self) -> None:
        """One transaction: the extraction cache, the in-flight marks released,
        and each ready message's items and "done" mark (a savepoint each).
        Inline, this process classifies the batch here; a suspect handled
        alone was marked 'alone' (committed) before this process parsed it,
        so that its own death while this process works on its content is
        proof. In the pool, workers classified the batch already."""
        batch, self.ready = self.ready, []
        if self.extractor.size:
            decided = [job.outcome for job in batch]
        else:
            decided = [self._classify(job) for job in batch]
            if self.alone is not None and any(j.pending.row == self.alone for j in batch):
                self.store.release_inflight([self.alone])  # still resumed until recorded, not 'alone' any more
        with self.store.transaction():
            if self.releases:
                self.store.release_inflight(self.releases)
            if self.fresh:
                self.store.cache_extractions(self.fresh, cache_version(self.extractor.limits), self.now)
            for job, outcome in zip(batch, decided):
                self._record_one(job, outcome)
        self.releases, self.fresh = [], {}
        self.held -= sum(job.pending.size for job in batch)
        still = {d for job in self.inflight for d in job.digests}
        for job in batch:
            self.extractor.release(job.message.attachments)
        for job in batch:  # forget the extractions no message in flight needs (the cache has them)
            for digest in job.digests:
                if digest not in still:
                    self.results.pop(digest, None)
        if batch:
            self._show_progress()

    def _show_progress(self) -> None:
        if self.progress:
            self.progress("process", self.report.processed + self.report.failed + self.withheld, self.total)

    def _classify(self, job: _Job):
        """The message's items, or the exception that classifying it raised."""
        try:
            docs = [(a, self.results[d]) for a, d in zip(job.message.attachments, job.digests)]
            decisions = classify_message(job.message, docs, self.rules, job.pending.received_at,
                                         self.ocr_available)
            return self._completed(completing(decisions, docs, job.digests, job.pending.received_at, self.rules,
                                              self.extractor.limits, lambda i: job.message.attachments[i].data))
        except Exception as exc:
            return exc

    def _record_one(self, job: _Job, outcome) -> None:
        store, pending, message, report = self.store, job.pending, job.message, self.report
        try:
            if self.commands is not None and self.commands(store, pending, message, self.now):
                report.processed += 1  # a command mail: applied, answered and marked done in its savepoint
                return
            if isinstance(outcome, _Raised):  # what classifying it raised, in a worker
                log.error("message %s: classifying failed: %s", pending.message_id, outcome.reason)
                _fail(store, report, pending, outcome.reason, self.max_attempts, self.now)
                return
            if isinstance(outcome, Exception):
                raise outcome
            store.record_processed(pending.row, MessageSummary.of(message), outcome, self.now)
        except Exception as exc:
            if environment_fault(exc):  # the state disk, not the mail: stops the poll
                raise
            log.exception("message %s: processing failed", pending.message_id)
            _fail(store, report, pending, f"{type(exc).__name__}: {exc}", self.max_attempts, self.now)
            return
        report.processed += 1
        for decision, *_ in outcome:
            report.decisions[decision.decision] += 1
            log.info("message=%s file=%r school=%s types=%s decision=%s confidence=%.2f",
                     pending.message_id, decision.filename, decision.school or "-",
                     ",".join(decision.doc_types) or "-", decision.decision, decision.confidence)


@dataclass(frozen=True)
class _Raised:
    """Classifying a message failed in a worker: ``reason`` as ``JobFailed`` says it."""

    reason: str


def _withhold(store: Store, report: PollReport, pending: PendingMessage, now: datetime,
              limits: ParseLimits = ParseLimits()) -> None:
    """A message too large to download: quarantined at once, with who sent it."""
    message = parse_message(store.raw(pending), limits)  # the header block: cheap
    store.record_withheld(pending.row, MessageSummary.of(message), now)
    report.quarantined += 1
    log.error("message %s from %s quarantined: too large to download (%d bytes)",
              pending.message_id, message.from_addr or "?", pending.size)


def _fail(store: Store, report: PollReport, pending: PendingMessage, error: str, max_attempts: int, now: datetime):
    """A failure of the message's own: charged an attempt; quarantined once they run out."""
    quarantined = store.record_failure(pending.row, error, max_attempts, now, charge=True)
    report.failed += 1
    if quarantined:
        report.quarantined += 1
        store.note_sender(pending)
        log.error("message %s quarantined after %d attempts: %s", pending.message_id, pending.attempts + 1, error)
    else:
        log.warning("message %s failed (attempt %d of %d), will retry: %s",
                    pending.message_id, pending.attempts + 1, max_attempts, error)
