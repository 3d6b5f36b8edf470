"""The worker: ``python -m bot run``, an APScheduler shell around the library.

- the poll job every ``poll_every_minutes`` (and at once when IMAP IDLE hears
  of new mail), the outbox job every minute, the reminder job every half
  hour (reminders decide themselves whether anything is due) and the digest
  job at ``digest_at`` local time;
- every job ``max_instances=1`` and ``coalesce=True`` with a misfire grace
  time, and all jobs run in ONE worker thread, so they never overlap and a
  machine that slept catches up once, not ten times;
- one worker per state directory (``StateLock``);
- failures back off exponentially and each distinct failure is logged once,
  not on every tick (a wrong password is reported once, not all day);
- SIGTERM/SIGINT stop cleanly: the current message finishes (or its
  transaction rolls back), no half-sent mail.
"""
from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from .errors import AuthenticationError, BotError
from .lock import StateLock

log = logging.getLogger("bot.service")

MISFIRE_GRACE_SECONDS = 3600


@dataclass
class Backoff:
    """Exponential backoff with a memory of the last error, so that a
    failure repeating itself is logged once."""

    base: float = 30.0
    cap: float = 1800.0
    failures: int = 0
    retry_at: datetime | None = None
    last_error: str = ""

    def ready(self, now: datetime) -> bool:
        return self.retry_at is None or now >= self.retry_at

    def failed(self, now: datetime, error: str) -> tuple[bool, float]:
        """Record a failure; returns (is it new?, seconds until the next try)."""
        self.failures += 1
        delay = min(self.base * 2 ** (self.failures - 1), self.cap)
        self.retry_at = now + timedelta(seconds=delay)
        new = error != self.last_error
        self.last_error = error
        return new, delay

    def succeeded(self) -> bool:
        """Reset; returns True when this ends a failure streak."""
        recovered = self.failures > 0
        self.failures, self.retry_at, self.last_error = 0, None, ""
        return recovered


@dataclass
class Worker:
    """The jobs of the worker, each a small function of (now)."""

    ctx: object
    clock: Callable[[], datetime]
    poll: Callable[..., object]
    tasks: dict = field(default_factory=dict)  # name -> callable(now), e.g. remind, digest, outbox
    stop: threading.Event = field(default_factory=threading.Event)
    backoffs: dict = field(default_factory=dict)

    def run_job(self, name: str, job: Callable[[datetime], object]) -> None:
        """Run one job with backoff and once-per-error logging."""
        now = self.clock()
        backoff = self.backoffs.setdefault(name, Backoff())
        if self.stop.is_set() or not backoff.ready(now):
            return
        try:
            result = job(now)
        except AuthenticationError as exc:
            self._failed(name, backoff, now, exc, level=logging.ERROR)
            backoff.failures = max(backoff.failures, 7)  # a wrong password: retry slowly (about 30 min)
            return
        except (BotError, OSError) as exc:
            self._failed(name, backoff, now, exc)
            return
        if backoff.succeeded():
            log.info("%s: working again", name)
        if result is not None and str(result):
            log.info("%s: %s", name, getattr(result, "summary", lambda: result)())

    def _failed(self, name, backoff, now, exc, level=logging.WARNING) -> None:
        new, delay = backoff.failed(now, str(exc))
        if new:
            log.log(level, "%s failed: %s (retrying in %.0f s; repeats of this error are not logged)", name, exc, delay)

    def news(self) -> None:
        """The server spoke (IDLE saw new mail, or came back): poll without waiting for the backoff."""
        backoff = self.backoffs.get("poll")
        if backoff is not None:
            backoff.retry_at = None

    def poll_job(self) -> None:
        self.run_job("poll", lambda now: self.poll(now, should_stop=self.stop.is_set))


def build_scheduler(worker: Worker, config, *, poll_seconds: float | None = None):
    """An APScheduler BackgroundScheduler with the worker's jobs, not started."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    tz = config.schedule.timezone
    scheduler = BackgroundScheduler(
        timezone=tz, executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    every = poll_seconds or config.schedule.poll_every_minutes * 60
    scheduler.add_job(worker.poll_job, IntervalTrigger(seconds=every, timezone=tz), id="poll", name="poll",
                      next_run_time=datetime.now(tz))
    digest_at = config.schedule.digest_at
    schedules = {
        "outbox": IntervalTrigger(minutes=1, timezone=tz),
        "remind": CronTrigger(minute="5,35", timezone=tz),
        "digest": CronTrigger(hour=digest_at.hour, minute=digest_at.minute, timezone=tz),
    }
    for name, task in worker.tasks.items():
        scheduler.add_job(worker.run_job, schedules[name], args=(name, task), id=name, name=name)
    return scheduler


def run(ctx, clock, *, poll, tasks: dict, client_factory=None, poll_seconds: float | None = None,
        install_signals: bool = True) -> int:
    """Run the worker in the foreground until SIGTERM/SIGINT. Returns an exit code."""
    config = ctx.config
    with StateLock(config.paths.state, "run"):
        worker = Worker(ctx=ctx, clock=clock, poll=poll, tasks=tasks)
        scheduler = build_scheduler(worker, config, poll_seconds=poll_seconds)
        if install_signals:
            _stop_on_signals(worker.stop)
        scheduler.start()
        idle = _start_idle(config, worker, scheduler, client_factory)
        log.info("worker started: polling every %s, digest at %s (%s)",
                 f"{poll_seconds:.0f} s" if poll_seconds else f"{config.schedule.poll_every_minutes} min",
                 config.schedule.digest_at.strftime("%H:%M"), config.schedule.timezone.key)
        worker.stop.wait()
        log.info("stopping: finishing the current job")
        scheduler.shutdown(wait=True)
        if idle:
            idle.join(timeout=5)
        log.info("stopped cleanly")
    return 0


def _start_idle(config, worker: Worker, scheduler, client_factory) -> threading.Thread | None:
    if config.mailbox.source != "imap":
        return None
    from .mailbox import IdleWatcher, connect_imap

    def wake_poll() -> None:
        worker.news()
        try:
            scheduler.modify_job("poll", next_run_time=datetime.now(config.schedule.timezone))
        except Exception as exc:  # the scheduler is shutting down
            log.debug("could not wake the poll job: %s", exc)

    watcher = IdleWatcher(config.mailbox, wake_poll, worker.stop, client_factory or connect_imap, log=log)
    thread = threading.Thread(target=watcher.run, name="imap-idle", daemon=True)
    thread.start()
    return thread


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum, frame):
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def health(store, config, now: datetime) -> tuple[int, list[str]]:
    """Health of a running installation: (exit code, lines). Non-zero when stale.

    Stale means no successful poll within three poll intervals (plus five
    minutes), or quarantined messages waiting for a person: each is a
    problem line with its reference (Q12) until it is requeued or dismissed
    (``python -m bot dismiss Q12 --why ...``, or "bỏ Q12" by email).
    """
    lines, problems = [], []
    poll_mark = store.mark("poll")
    limit = timedelta(minutes=3 * config.schedule.poll_every_minutes + 5)
    if poll_mark is None:
        problems.append("no successful poll yet")
    else:
        age = now - poll_mark[0]
        lines.append(f"last successful poll: {poll_mark[0].astimezone(config.schedule.timezone):%Y-%m-%d %H:%M:%S} "
                     f"({_ago(age)} ago): {poll_mark[1]}")
        if age > limit:
            problems.append(f"last successful poll is {_ago(age)} old (limit {_ago(limit)})")
    digest_mark = store.mark("digest")
    lines.append("last digest: " + (f"{digest_mark[0].astimezone(config.schedule.timezone):%Y-%m-%d %H:%M}"
                                    if digest_mark else "never"))
    counts = store.message_counts()
    waiting = store.quarantined()
    dismissed = counts.get("quarantined", 0) - len(waiting)
    lines.append(f"messages: {counts.get('done', 0)} processed, {counts.get('new', 0)} waiting, "
                 f"{len(waiting)} quarantined" + (f", {dismissed} dismissed" if dismissed else ""))
    review = len(store.items(decision="review"))
    lines.append(f"review backlog: {review} item(s)")
    backlog = _outbox_backlog(store)
    if backlog is not None:
        lines.append(f"outbox backlog: {backlog} mail(s) waiting")
    for q in waiting:
        sender = f" from {q['from_addr']}" if q.get("from_addr") else ""
        subject = f" {q['subject']!r}" if q.get("subject") else ""
        problems.append(f"quarantined {q['ref']} {q['message_id']}{sender}{subject} ({q['attempts']} attempts): "
                        f"{q['last_error']}")
    hints = ([f"hint: once a quarantined message is dealt with by hand: python -m bot dismiss {waiting[0]['ref']} "
              "--why '...' (or 'requeue' to process them again)"] if waiting else [])
    return (1 if problems else 0), [*lines, *(f"PROBLEM: {p}" for p in problems), *hints]


def _outbox_backlog(store) -> int | None:
    try:
        return store.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
    except Exception:  # no outbox table in this schema version
        return None


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


__all__ = ["run", "health", "Worker", "Backoff", "build_scheduler"]
