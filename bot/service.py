"""The worker: ``hoso-bot run``, an APScheduler shell around the library.

- the poll job every ``poll_every_minutes`` (and at once when IMAP IDLE hears
  of new mail; if a poll is running then, it polls again when it ends), the
  outbox job every minute, the reminder job every half hour (reminders decide
  themselves what is due: a slot missed while the worker was down is sent by
  the next run in office hours) and the digest job at ``digest_at`` local
  time, at start-up and every ten minutes: it sends only when
  ``outbound.digest.digest_due`` says today's digest is due and not made yet, so a
  worker started (or woken) after ``digest_at`` still sends today's digest;
- a job's result is logged only when it did something (an idle minute logs
  nothing);
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
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from .clock import system_clock
from .context import Context
from .doctor import explain, network_cause
from .errors import AuthenticationError, BotError
from .lock import StateLock
from .health import health
from .store import Store

log = logging.getLogger("bot.service")

MISFIRE_GRACE_SECONDS = 3600
DIGEST_CHECK_MINUTES = 10  # how often the digest job asks whether today's digest is still due
NEWS_LOST_SECONDS = 15.0  # IDLE's news with no poll after this long: a wake-up was lost (see Worker.news_unpolled)
NEWS_LOST_QUEUED_SECONDS = 120.0  # the same while a poll is believed queued behind another job



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

    ctx: Context | None  # None in tests of jobs that need no settings
    clock: Callable[[], datetime]
    poll: Callable[..., object]
    tasks: dict = field(default_factory=dict)  # name -> callable(now), e.g. remind, digest, outbox
    stop: threading.Event = field(default_factory=threading.Event)
    backoffs: dict = field(default_factory=dict)
    retry_base: float = 30.0  # seconds before the first retry of a failed job (doubling; see Backoff)
    retry_cap: float = 1800.0  # the longest wait between two retries
    _poll_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _polling: bool = False
    _poll_again: bool = False
    _poll_submitted: int = 0  # runs of the poll job handed to the executor and not started yet
    _news_at: float | None = None  # when (monotonic s) IDLE brought news that no poll has started since

    def run_job(self, name: str, job: Callable[[datetime], object]) -> None:
        """Run one job with backoff and once-per-error logging."""
        now = self.clock()
        backoff = self.backoffs.setdefault(name, Backoff(base=self.retry_base, cap=self.retry_cap))
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
        failures = backoff.failures
        if backoff.succeeded():
            log.info("%s: working again, after %d unsuccessful attempt(s)", name, failures)
        if did_something(result):
            text = str(getattr(result, "summary", lambda: result)())
            log.info("%s", text if text.startswith(f"{name}:") else f"{name}: {text}")

    def _failed(self, name, backoff, now, exc, level=logging.WARNING) -> None:
        text = self._plain(name, exc)
        new, delay = backoff.failed(now, text)
        if new:
            log.log(level, "%s failed: %s (retrying in %.0f s; repeats of this error are not logged)", name, text, delay)

    def _plain(self, name: str, exc: BaseException) -> str:
        """A poll that cannot reach the IMAP server for a reason in the config
        (TLS mode, port, host) says so in a sentence, not as ``[SSL:
        WRONG_VERSION_NUMBER]``; any other error as it is."""
        mailbox = getattr(getattr(self.ctx, "config", None), "mailbox", None)
        if name != "poll" or mailbox is None or mailbox.source != "imap" or network_cause(exc) is None:
            return str(exc)
        return explain("IMAP", mailbox.host, mailbox.port, mailbox.security, exc)

    def news(self) -> None:
        """The server spoke (IDLE saw new mail, or came back): poll without waiting for the backoff."""
        backoff = self.backoffs.get("poll")
        if backoff is not None:
            backoff.retry_at = None

    def poll_job(self) -> None:
        """One poll, and another right after it if news came while it ran (see ``wake_poll``)."""
        with self._poll_lock:
            self._poll_submitted -= 1  # may run before the scheduler's "submitted" event: a count, not a flag
        while True:
            with self._poll_lock:  # this poll sees everything announced so far
                self._polling, self._poll_again, self._news_at = True, False, None
            finished = False
            try:
                self.run_job("poll", lambda now: self.poll(now, should_stop=self.stop.is_set))
                finished = True
            finally:
                with self._poll_lock:
                    # after an exception nothing loops here: the news stays pending (``news_unpolled``)
                    again = finished and self._poll_again and not self.stop.is_set()
                    self._polling = again
            if not again:
                return

    def poll_submitted(self) -> None:
        """The scheduler handed a run of the poll job to the executor (it may wait there behind another job)."""
        with self._poll_lock:
            self._poll_submitted += 1

    def wake_poll(self, at: float) -> bool:
        """News from the server at ``at`` (monotonic seconds): True if the caller
        should schedule a poll now.

        False while a poll runs (it then polls once more when it ends) or waits
        to start (it will see the news): scheduling one then is what made
        APScheduler skip it with "maximum number of running instances reached"
        each time IDLE connected during the start-up poll.
        """
        self.news()
        with self._poll_lock:
            if self._news_at is None:
                self._news_at = at
            if self._polling:
                self._poll_again = True
                return False
            return self._poll_submitted <= 0

    def news_unpolled(self, at: float) -> float | None:
        """How long (s) IDLE's news has waited at ``at`` with no poll running or
        started since, once that is longer than a poll waiting its turn can
        explain; else None. A wake-up was lost: the caller polls (``rearm``)
        and says so, so that new mail never waits for the regular poll."""
        with self._poll_lock:
            if self._news_at is None or self._polling:
                return None
            waited = at - self._news_at
            # a run handed to the executor may wait behind a long job (reminders being sent)
            limit = NEWS_LOST_SECONDS if self._poll_submitted <= 0 else NEWS_LOST_QUEUED_SECONDS
            return waited if waited >= limit else None

    def rearm(self, at: float) -> None:
        """Forget the runs believed queued (none came) and date the news ``at``: the caller schedules a poll."""
        with self._poll_lock:
            self._poll_submitted, self._news_at = 0, at

    def digest_job(self, now: datetime):
        """The digest task, run only when today's digest is due and not made yet
        (the store's "digest" mark): at digest_at, after a restart or a sleep past it."""
        from .outbound.digest import digest_due  # not at the top: only the digest job plans mail

        schedule = self.ctx.config.schedule
        if not digest_due(now, schedule.digest_at, schedule.timezone, self.last_mark("digest")):
            return None
        return self.tasks["digest"](now)

    def last_mark(self, name: str) -> datetime | None:
        with Store.open(self.ctx.config.paths.state) as store:
            mark = store.mark(name)
        return mark[0] if mark else None

    def job(self, name: str) -> Callable[[], None]:
        """What the scheduler runs for the task ``name``."""
        task = self.digest_job if name == "digest" else self.tasks[name]
        return lambda: self.run_job(name, task)


def did_something(result) -> bool:
    """Whether a job's result is worth a log line: a report of an idle run is not."""
    if result is None:
        return False
    if hasattr(result, "queued") and hasattr(result, "delivery"):  # notify.NotifyReport
        return bool(result.queued or result.superseded or result.delivery)
    if hasattr(result, "new") and hasattr(result, "processed"):  # ingest.PollReport
        return bool(result.new or result.processed or result.failed or result.quarantined)
    return bool(str(result))


def build_scheduler(worker: Worker, config, now: datetime, *, poll_seconds: float | None = None):
    """An APScheduler BackgroundScheduler with the worker's jobs, not started.

    ``now`` is the start: the poll and the digest check run then at once.
    """
    from apscheduler.events import EVENT_JOB_SUBMITTED  # not at the top: only the worker schedules
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    tz = config.schedule.timezone
    scheduler = BackgroundScheduler(
        timezone=tz, executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    every = poll_seconds or config.schedule.poll_every_minutes * 60
    # --poll-seconds (tests): the outbox too is looked at that often, not once a minute
    outbox_every = min(60.0, poll_seconds) if poll_seconds else 60.0
    scheduler.add_job(worker.poll_job, IntervalTrigger(seconds=every, timezone=tz), id="poll", name="poll",
                      next_run_time=now)
    digest_at = config.schedule.digest_at
    schedules = {
        "outbox": (IntervalTrigger(seconds=outbox_every, timezone=tz), None),
        "remind": (CronTrigger(minute="5,35", timezone=tz), None),
        # on time when running; at start-up and every few minutes to catch up after a restart or a sleep
        "digest": (OrTrigger([CronTrigger(hour=digest_at.hour, minute=digest_at.minute, timezone=tz),
                              IntervalTrigger(minutes=DIGEST_CHECK_MINUTES, timezone=tz)]), now),
    }
    for name in worker.tasks:
        trigger, first = schedules[name]
        extra = {"next_run_time": first} if first is not None else {}
        scheduler.add_job(worker.job(name), trigger, id=name, name=name, **extra)
    scheduler.add_listener(lambda event: worker.poll_submitted() if event.job_id == "poll" else None,
                           EVENT_JOB_SUBMITTED)
    return scheduler


def run(ctx: Context, clock, *, poll, tasks: dict, client_factory=None, poll_seconds: float | None = None,
        install_signals: bool = True) -> int:
    """Run the worker in the foreground until SIGTERM/SIGINT. Returns an exit code."""
    from .backup import current_schema, schema_version  # not at the top: tarfile is for the backup command

    config = ctx.config
    with StateLock(config.paths.state, "run"):
        before = schema_version(config.paths.state)
        with Store.open(config.paths.state) as store:  # health expects a daily digest from a day after this
            store.set_mark("worker", clock(), f"pid {os.getpid()}")
        log.info("%s", migration_text(before, current_schema(), config.paths.state))
        # --poll-seconds (tests): retry as fast as that too, not after 30 s, and wait at most
        # four poll intervals between retries (and IDLE reconnections), not 30 (5) minutes
        worker = Worker(ctx=ctx, clock=clock, poll=poll, tasks=tasks,
                        retry_base=min(30.0, poll_seconds) if poll_seconds else 30.0,
                        retry_cap=min(1800.0, 4 * poll_seconds) if poll_seconds else 1800.0)
        # APScheduler runs on the real clock, whatever clock the jobs decide by (``--now``)
        scheduler = build_scheduler(worker, config, system_clock(), poll_seconds=poll_seconds)
        if install_signals:
            _stop_on_signals(worker.stop)
        scheduler.start()
        idle = _start_idle(config, worker, scheduler, client_factory,
                           max_backoff=min(300.0, 4 * poll_seconds) if poll_seconds else 300.0)
        log.info("worker started: polling every %s, digest at %s (%s)",
                 f"{poll_seconds:.0f} s" if poll_seconds else f"{config.schedule.poll_every_minutes} min",
                 config.schedule.digest_at.strftime("%H:%M"), config.schedule.timezone.key)
        worker.stop.wait()
        log.info("stopping: finishing the current job")
        scheduler.shutdown(wait=True)
        if idle:
            idle.join(timeout=5)
        with Store.open(config.paths.state) as store:  # health: stopped on purpose, not crashed
            store.set_mark("worker-stopped", clock(), f"pid {os.getpid()}")
        log.info("stopped cleanly")
    return 0


def migration_text(before: int | None, after: int, state) -> str:
    """The start-up line about the state database's schema."""
    if before is None:
        return f"state database created in {state} (schema {after})"
    if before < after:
        return f"state database in {state} migrated from schema {before} to {after}"
    return f"state database in {state}: schema {after}, up to date"


def _start_idle(config, worker: Worker, scheduler, client_factory,
                max_backoff: float = 300.0) -> threading.Thread | None:
    if config.mailbox.source != "imap":
        return None
    from .mailbox.imap import IdleWatcher, connect_imap  # not at the top: health opens no mailbox

    def schedule_poll() -> None:
        try:
            scheduler.modify_job("poll", next_run_time=system_clock())
        except Exception as exc:
            if not worker.stop.is_set():  # while shutting down the scheduler refuses, as it should
                log.warning("could not wake the poll job: %s", exc)

    def wake_poll() -> None:
        if worker.wake_poll(time.monotonic()):
            schedule_poll()

    def check_news() -> None:
        at = time.monotonic()
        waited = worker.news_unpolled(at)
        if waited is not None:
            log.warning("IDLE announced new mail %.0f s ago and no poll has started since; polling now", waited)
            worker.rearm(at)
            schedule_poll()

    watcher = IdleWatcher(config.mailbox, wake_poll, worker.stop, client_factory or connect_imap,
                          max_backoff=max_backoff, log=log, on_tick=check_news)
    thread = threading.Thread(target=watcher.run, name="imap-idle", daemon=True)
    thread.start()
    return thread


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum, frame):
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


__all__ = ["run", "health", "Worker", "Backoff", "build_scheduler"]
