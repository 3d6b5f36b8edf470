"""Progress of a long poll (the first one on a full mailbox: a "backfill").

In a terminal: one line redrawn in place with counts, rate and an estimate.
Elsewhere (systemd, cron, pipes): a plain log line now and then. Nothing
at all while a stage has nothing new (the worker's idle polls are silent).
Rates count from the start of the job (``begin()``; the reporter's creation
for a one-shot command), not from the first update, which may come at the end.
"""
from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("bot.progress")


class ProgressReporter:
    """Callable ``(stage, done, total)``, as ``ingest``/``process_pending`` expect."""

    def __init__(self, stream=None, interactive: bool | None = None, every_seconds: float = 10.0,
                 monotonic=time.monotonic):
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.every = every_seconds
        self._clock = monotonic
        self._began = monotonic()
        self._last_line: float | None = None
        self._drawn = False

    def begin(self) -> None:
        """A new job starts now (the worker reuses one reporter for every poll)."""
        self.close()
        self._began = self._clock()
        self._last_line = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if done <= 0:
            return  # nothing new: nothing to say
        now = self._clock()
        text = self.describe(stage, done, total, now - self._began)
        if self.interactive:
            self.stream.write("\r" + text.ljust(79))
            self.stream.flush()
            self._drawn = True
        elif self._last_line is None or now - self._last_line >= self.every or (total is not None and done >= total):
            log.info(text)
            self._last_line = now

    @staticmethod
    def describe(stage: str, done: int, total: int | None, elapsed: float) -> str:
        """'process 120/2000 [####......] 24.0 msg/s, about 1 min 18 s left'"""
        rate = done / elapsed if elapsed > 0 else 0.0
        if total:
            width = 20
            filled = int(width * min(done, total) / total)
            eta = (total - done) / rate if rate > 0 else None
            left = f", about {_duration(eta)} left" if eta is not None and done < total else ""
            return f"{stage} {done}/{total} [{'#' * filled}{'.' * (width - filled)}] {rate:.1f} msg/s{left}"
        return f"{stage} {done} new message(s), {rate:.1f} msg/s"

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
