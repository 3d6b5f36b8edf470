"""``hoso-bot health``: is the installation working? One pure reading of the state.

Apart from the worker (``bot.service``, which re-exports ``health``): a
monitoring probe runs this every few minutes, and it needs neither the
scheduler's shell (``Worker``, ``Backoff``, signals) nor the worker's modules.
"""
from __future__ import annotations

from datetime import datetime, timedelta

# health: the rules (see README, "health")
STUCK_AFTER = timedelta(minutes=60)  # queued mail this long past its next attempt: the sender is stuck
DIGEST_LIMIT = timedelta(hours=26)  # a daily digest, with two hours of slack


def health(store, config, now: datetime, *, cycle: int | None = None,
           warnings: list[str] | tuple[str, ...] = (), bursts=(), check_worker: bool = False,
           worker=None) -> tuple[int, list[str]]:
    """Health of a running installation: (exit code, lines). Exit 1 on any problem.

    Problems (a "PROBLEM:" line each):

    - no successful poll within three poll intervals (plus five minutes);
    - a quarantined message waiting for a person, with its reference (Q12),
      until it is requeued or dismissed (``hoso-bot dismiss Q12 --why
      ...``, or "bỏ Q12" by email);
    - outgoing mail of ``cycle`` (the current one) that failed for good: the
      count and the newest error, until ``outbox --retry`` sends it;
    - queued mail more than ``STUCK_AFTER`` past its next attempt (the worker's
      sender is not running or hangs), unless the daily cap holds it back;
    - no digest for more than ``DIGEST_LIMIT`` once the worker has been running
      that long (its start is the store's "worker" mark; a state that never
      had a worker is not expected to have digests);
    - with ``check_worker``: a worker was started on this state (the "worker"
      mark) but none holds the state lock now (``worker``, a ``lock.Holder``
      or None): it stopped or died, and nothing polls.

    ``warnings`` (``Config.warnings()``) are shown as "warning:" lines; they
    do not fail the check. So is each burst of ``bursts`` (``flood.Burst``,
    from ``outbound.facts.sender_bursts`` with the campaign's thresholds) active at
    ``now``: a mail loop or flood, the address the bot is not answering
    (no receipts, no command replies) until the burst's cool-down ends.
    """
    lines, problems = [], []
    tz = config.schedule.timezone
    poll_mark = store.mark("poll")
    limit = timedelta(minutes=3 * config.schedule.poll_every_minutes + 5)
    if poll_mark is None:
        problems.append("no successful poll yet")
    else:
        age = now - poll_mark[0]
        lines.append(f"last successful poll: {poll_mark[0].astimezone(tz):%Y-%m-%d %H:%M:%S} "
                     f"({_ago(age)} ago): {poll_mark[1]}")
        if age > limit:
            problems.append(f"last successful poll is {_ago(age)} old (limit {_ago(limit)})")
    worker_mark = store.mark("worker")
    running = check_worker and worker is not None and worker.purpose == "run"
    if running:
        lines.append(f"worker: running, {worker}" + (f", started {worker_mark[0].astimezone(tz):%Y-%m-%d %H:%M}"
                                                      if worker_mark else ""))
    elif worker_mark:
        stopped = store.mark("worker-stopped")
        how = (f"stopped cleanly at {stopped[0].astimezone(tz):%Y-%m-%d %H:%M}"
               if stopped and stopped[0] >= worker_mark[0] else "did not stop cleanly (killed or crashed)")
        if not check_worker:  # the caller cannot tell (e.g. another machine's state): say what is known
            lines.append(f"worker started: {worker_mark[0].astimezone(tz):%Y-%m-%d %H:%M} ({worker_mark[1]})")
        else:
            lines.append(f"worker NOT running: last started {worker_mark[0].astimezone(tz):%Y-%m-%d %H:%M} "
                         f"({worker_mark[1]}), {how}")
            problems.append(f"the worker is not running ({how}); nothing polls the mailbox: start it "
                            "(systemctl start hoso-bot) and read why it stopped (journalctl -u hoso-bot)")
    digest_mark = store.mark("digest")
    lines.append("last digest: " + (f"{digest_mark[0].astimezone(tz):%Y-%m-%d %H:%M}" if digest_mark else "never"))
    problems += _digest_problems(store, config, now, digest_mark[0] if digest_mark else None)
    counts = store.message_counts()
    waiting = store.quarantined()
    dismissed = counts.get("quarantined", 0) - len(waiting)
    lines.append(f"messages: {counts.get('done', 0)} processed, {counts.get('new', 0)} waiting, "
                 f"{len(waiting)} quarantined" + (f", {dismissed} dismissed" if dismissed else ""))
    resumed, still = store.crash_recovery()
    if resumed:  # the bot died with mail in flight: handled again first, one at a time, nobody charged
        lines.append(f"resumed after a crash: {resumed} message(s), not charged"
                     + (f", {still} still waiting" if still else ""))
    review = len(store.items(decision="review"))
    lines.append(f"review backlog: {review} item(s)")
    backlog = _outbox_backlog(store)
    if backlog is not None:
        lines.append(f"outbox backlog: {backlog} mail(s) waiting")
        more_lines, more_problems = _outbox_problems(store, config, now, cycle)
        lines += more_lines
        problems += more_problems
    for q in waiting:
        sender = f" from {q['from_addr']}" if q.get("from_addr") else ""
        subject = f" {q['subject']!r}" if q.get("subject") else ""
        problems.append(f"quarantined {q['ref']} {q['message_id']}{sender}{subject} "
                        f"(this mail's fault, {q['attempts']} attempts): "
                        f"{q['last_error']}")
    hints = ([f"hint: once a quarantined message is dealt with by hand: hoso-bot dismiss {waiting[0]['ref']} "
              "--why '...' (or 'requeue' to process them again)"] if waiting else [])
    warnings = [*warnings, *(_burst_warning(b, tz) for b in bursts if b.active(now))]
    return (1 if problems else 0), [*lines, *(f"warning: {w}" for w in warnings),
                                    *(f"PROBLEM: {p}" for p in problems), *hints]


def _burst_warning(burst, tz) -> str:
    """One active burst (``flood.Burst``) as a health warning."""
    first, last = burst.first_at.astimezone(tz), burst.last_at.astimezone(tz)
    return (f"mail loop or flood from {burst.address}: {burst.count} message(s) in {_ago(last - first)} "
            f"({first:%Y-%m-%d %H:%M}-{last:%H:%M}); no receipts or command replies to it until "
            f"{burst.until.astimezone(tz):%Y-%m-%d %H:%M}")


def _digest_problems(store, config, now: datetime, last: datetime | None) -> list[str]:
    at = config.schedule.digest_at.strftime("%H:%M")
    started = store.mark("worker")
    if started is None:  # no worker (`run`) on this state: nobody promised a daily digest
        return []
    if last is not None:
        age = now - last
        return [f"the last digest is {_ago(age)} old (one is due daily at {at}; limit {_ago(DIGEST_LIMIT)})"
                ] if age > DIGEST_LIMIT and now - started[0] > DIGEST_LIMIT else []
    if now - started[0] > DIGEST_LIMIT:
        return [f"no digest yet, although the worker started {_ago(now - started[0])} ago (one is due daily at {at})"]
    return []


def _outbox_problems(store, config, now: datetime, cycle: int | None) -> tuple[list[str], list[str]]:
    trouble = store.outbox_trouble(now - STUCK_AFTER, cycle)
    lines, problems = [], []
    if trouble.failed:
        error = " ".join(trouble.failed_error.split())
        error = error if len(error) <= 160 else error[:157] + "..."
        problems.append(f"{trouble.failed} outgoing mail(s){'' if cycle is None else f' of cycle {cycle}'} failed "
                        f"for good; newest error: {error or '-'} (see: hoso-bot outbox; then hoso-bot outbox --retry)")
    if trouble.overdue:
        from .outbound.delivery import Limits  # not at the top: only an overdue queue asks for the daily cap

        since = trouble.overdue_since
        capped = (config.smtp.enabled
                  and store.sent_since(now - timedelta(days=1)) >= Limits.from_smtp(config.smtp).daily_cap)
        text = (f"{trouble.overdue} queued mail(s) overdue, the oldest by {_ago(now - since)} "
                f"(next attempt was {since.astimezone(config.schedule.timezone):%Y-%m-%d %H:%M})")
        if capped:
            lines.append(f"outbox: the daily cap is reached; {text}")
        else:
            problems.append(f"{text}: is the worker running? (see: hoso-bot outbox)")
    return lines, problems


def _outbox_backlog(store) -> int | None:
    try:
        return store.outbox_waiting()
    except Exception:  # no outbox table in this schema version
        return None


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


__all__ = ["health", "STUCK_AFTER", "DIGEST_LIMIT"]
