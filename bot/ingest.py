"""Fetch -> archive -> record: move raw mail from a source into the state.

Kept apart from processing on purpose: once a message is here, nothing that
happens later (a parser bug, a pathological PDF, a crash) can lose it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from .errors import EnvironmentFault
from .mailbox import Source
from .store import Store, environment_fault

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


@dataclass
class PollReport:
    fetched: int = 0
    new: int = 0
    processed: int = 0
    failed: int = 0
    quarantined: int = 0
    skipped_files: list = field(default_factory=list)  # files of a folder source that are not mail
    decisions: dict = field(default_factory=lambda: {"counted": 0, "review": 0, "ignored": 0})

    def summary(self) -> str:
        d = self.decisions
        return (f"{self.new} new message(s) of {self.fetched} fetched; {self.processed} processed "
                f"({d['counted']} document(s) counted, {d['review']} to review, {d['ignored']} ignored)"
                + (f"; {self.failed} failed" if self.failed else "")
                + (f"; {self.quarantined} quarantined" if self.quarantined else "")
                + (f"; {len(self.skipped_files)} file(s) in the folder not read (not .eml/.msg/.mbox): "
                   + ", ".join(self.skipped_files[:10]) + (", ..." if len(self.skipped_files) > 10 else "")
                   if self.skipped_files else ""))


def ingest(source: Source, store: Store, now: datetime, report: PollReport, progress: Progress | None = None) -> None:
    """Copy every new message of ``source`` into the archive and the database."""
    checkpoint = store.checkpoint(source.key)
    for batch in source.batches(checkpoint, store.known_pairs):
        cp = (source.key, *batch.checkpoint) if batch.checkpoint else None
        try:
            report.new += store.record_fetched(batch.messages, now, cp)
        except Exception as exc:
            fault = environment_fault(exc)  # the state disk full or read-only: the bot's fault, said plainly
            if fault:
                raise EnvironmentFault(f"{fault}; the mail not recorded stays in the mailbox and is fetched "
                                       "again") from exc
            raise
        report.fetched += len(batch.messages)
        report.skipped_files += [name for name in batch.skipped if name not in report.skipped_files]
        if progress:  # new ones: a folder source reads known messages again on every poll
            progress("fetch", report.new, None)


# --------------------------------------------------------------------------
# Fetching in a thread while the pool processes: ``BackgroundFetch``.
# A first poll used to fetch and archive the whole mailbox, then process it:
# the extraction workers idled during the fetch (about a tenth of a first
# poll on a quiet machine, a quarter on a loaded one: the archive fsyncs each
# file). Now the fetch (``ingest``: download, archive, record, checkpoint) runs
# in a thread with its own database connection, and the main thread starts
# on each batch as soon as it is committed. Crash safety is unchanged: a message
# is processed only after its raw bytes and its row are committed, exactly as
# before; the thread is the only writer of fetched mail.
#
# The thread stops after the batch it is on when asked (``stop``): a failure
# of the processing ends the poll as before, without fetching the rest.


class _Stopped(Exception):
    """Raised inside the fetch thread (from its progress hook) to end it after a batch."""


class BackgroundFetch:
    """Runs ``fetch(store, progress)`` in a thread, on its own ``Store`` of ``state_dir``.

    ``fetch`` must call ``progress`` after each batch it has committed (as
    ``ingest`` does): ``wait`` returns then. ``close`` stops and joins the
    thread; ``finish`` joins it and raises what the fetch raised.
    """

    def __init__(self, fetch: Callable[[Store, Progress], None], state_dir: Path, progress: Progress | None = None):
        self._fetch, self._state_dir, self._progress = fetch, state_dir, progress
        self._changed = threading.Condition()
        self._batches = 0
        self._done = False
        self._stop = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fetch", daemon=True)

    def start(self) -> "BackgroundFetch":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with Store.open(self._state_dir) as store:
                self._fetch(store, self._batch_done)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the main thread by finish()
            self._error = exc
        finally:
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def _batch_done(self, stage: str, done: int, total: int | None) -> None:
        if self._progress:
            self._progress(stage, done, total)
        with self._changed:
            self._batches += 1
            self._changed.notify_all()
            if self._stop:
                raise _Stopped

    def wait(self, seen: int) -> tuple[int, bool]:
        """Block until more than ``seen`` batches are committed or the fetch has
        ended; returns (batches committed, ended)."""
        with self._changed:
            while self._batches <= seen and not self._done:
                self._changed.wait()
            return self._batches, self._done

    def close(self) -> None:
        """Stop after the current batch, and join (idempotent)."""
        with self._changed:
            self._stop = True
        self._thread.join()

    def finish(self) -> None:
        """Join the thread; raise what the fetch raised, if anything."""
        self._thread.join()
        if self._error is not None:
            raise self._error
