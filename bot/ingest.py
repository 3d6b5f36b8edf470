"""Fetch -> archive -> record: move raw mail from a source into the state.

Kept apart from processing on purpose: once a message is here, nothing that
happens later (a parser bug, a pathological PDF, a crash) can lose it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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


