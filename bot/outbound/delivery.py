"""What a delivery pass does with each due mail: pure, no clock, no I/O.

``outbox.deliver_due`` selects the due mail and the counts of mail sent
(from the store), asks these functions, and applies what they decide (the
store, the sender). Each takes ``now`` where time matters.

- ``admit``: may this mail leave now, given what was sent in the last
  minute and day (``Counts``) and the ``Limits``? Send it, leave the rest
  of the pass waiting (rate, daily cap), or hold a receipt (the part of the
  day kept for other mail, the cap of receipts to senders outside the roster);
- ``split_recipients``: who of its recipients it may go to;
- ``after_failure``: what a failed attempt leads to (retry when, give up,
  let the rest of the pass wait for a server that cannot be used).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable, Sequence

@dataclass(frozen=True)
class Limits:
    """How much mail may leave, and when to give up on a mail.

    Receipts never hold up the digest, reports, reminders or command replies:
    they may use the daily cap only down to ``reserve`` sends kept for that
    mail (less what of it was already sent in the last 24 hours). Receipts
    to senders outside the roster have their own cap on top,
    ``sender_receipts_per_day``, so a crowd of strangers cannot use up the day.
    """

    daily_cap: int = 500  # mails per rolling 24 hours
    per_minute: int = 20
    retry_for: timedelta = timedelta(days=3)  # temporary failures: keep trying this long
    permanent_attempts: int = 3  # 5xx replies: give up after this many
    backoff_cap: timedelta = timedelta(minutes=60)
    first_retry: timedelta = timedelta(minutes=1)  # after the first failed attempt; doubling after each next one
    sender_receipts_per_day: int = 20  # receipts to senders outside the roster, per rolling 24 hours
    reserve: int = 0  # sends of the rolling 24 hours receipts leave to the digest, reminders and replies

    @classmethod
    def from_smtp(cls, smtp, reserve: int = 0) -> "Limits":
        """The configured limits; ``reserve`` is at most half the daily cap (receipts keep the other half)."""
        return cls(daily_cap=smtp.daily_cap, per_minute=smtp.per_minute,
                   sender_receipts_per_day=smtp.sender_receipts_per_day,
                   first_retry=timedelta(seconds=smtp.first_retry_seconds),
                   reserve=max(0, min(reserve, smtp.daily_cap // 2)))

    def receipt_room(self, sent_in_day: int, priority_in_day: int) -> int:
        """How many more receipts may go in the rolling 24 hours."""
        kept = max(0, self.reserve - priority_in_day)
        return max(0, self.daily_cap - kept - sent_in_day)

    def backoff(self, attempts: int) -> timedelta:
        """``first_retry`` after the first failed attempt, then twice as long after each
        next one (by default 1, 2, 4, 8, ... minutes), at most ``backoff_cap``."""
        return min(self.first_retry * 2 ** max(0, min(attempts - 1, 20)), self.backoff_cap)


# Verdicts of a re-check just before sending.
@dataclass(frozen=True)
class Cancel:
    """Do not send it. With ``reopen`` (receipts), the items it acknowledges
    become unacknowledged again and its key is freed, in the same
    transaction, so that a later receipt can cover them."""

    reason: str
    reopen: bool = False


@dataclass(frozen=True)
class Defer:
    """Not now: try again at ``until`` (no attempt counted); ``reason`` is kept on the row."""

    until: datetime
    reason: str


@dataclass(frozen=True)
class Replace:
    """Send this instead (same key and Message-ID; content brought up to date)."""

    raw: bytes
    recipients: tuple[str, ...]
    subject: str
    meta: dict


@dataclass(frozen=True)
class Counts:
    """Mail sent before this point of a pass: in the last minute, in the last 24 hours (all of it, all
    but receipts, receipts to senders outside the roster)."""

    in_minute: int = 0
    in_day: int = 0
    priority_in_day: int = 0
    sender_receipts_in_day: int = 0

    def after_sent(self, kind: str, to_sender: bool) -> "Counts":
        """The counts once one more mail of ``kind`` was sent."""
        return replace(self, in_minute=self.in_minute + 1, in_day=self.in_day + 1,
                       priority_in_day=self.priority_in_day + (kind != "receipt"),
                       sender_receipts_in_day=self.sender_receipts_in_day + to_sender)


SEND, WAIT, HOLD = "send", "wait", "hold"
HELD_FOR_OTHERS = "the rest of the daily cap is kept for the digest and reminders"
HELD_SENDER_CAP = "the daily cap of receipts to senders outside the roster"


@dataclass(frozen=True)
class Admission:
    """``SEND``; ``WAIT`` (this mail and the rest of the pass wait: ``reason`` names the limit);
    ``HOLD`` (this receipt stays queued, the pass goes on with the next mail)."""

    action: str
    reason: str = ""


def admit(kind: str, to_sender: bool, counts: Counts, limits: Limits) -> Admission:
    """Whether a mail of ``kind`` (``to_sender``: a receipt to a sender outside the roster) may be sent now."""
    if counts.in_day >= limits.daily_cap:
        return Admission(WAIT, "daily cap")
    if counts.in_minute >= limits.per_minute:
        return Admission(WAIT, "per-minute rate")
    if kind == "receipt":
        if limits.receipt_room(counts.in_day, counts.priority_in_day) <= 0:
            return Admission(HOLD, HELD_FOR_OTHERS)
        if to_sender and counts.sender_receipts_in_day >= limits.sender_receipts_per_day:
            return Admission(HOLD, HELD_SENDER_CAP)
    return Admission(SEND)


def split_recipients(recipients: Sequence[str], allowed: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the recipients a mail may go to, the others): ``allowed`` holds lower-case addresses."""
    ok = frozenset(allowed)
    return (tuple(a for a in recipients if a.lower() in ok), tuple(a for a in recipients if a.lower() not in ok))


@dataclass(frozen=True)
class AfterFailure:
    """A failed attempt, decided: ``attempts`` counted so far; ``give_up`` (the mail fails for good) or
    try again at ``retry_at``; ``postpone_rest``: the server cannot be used now, the rest of the pass
    waits as long, without an attempt counted."""

    attempts: int
    give_up: bool
    retry_at: datetime | None = None
    postpone_rest: bool = False


def after_failure(attempts_before: int, queued_at: datetime, *, temporary: bool, connection: bool, now: datetime,
                  limits: Limits) -> AfterFailure:
    """What a failed attempt at ``now`` leads to: a 5xx reply gives up after ``permanent_attempts``
    attempts, a temporary failure once the mail has waited ``retry_for``; else a retry after
    ``Limits.backoff``."""
    attempts = attempts_before + 1
    expired = now - queued_at > limits.retry_for
    if (not temporary and attempts >= limits.permanent_attempts) or (temporary and expired):
        return AfterFailure(attempts, give_up=True)
    return AfterFailure(attempts, give_up=False, retry_at=now + limits.backoff(attempts), postpone_rest=connection)


__all__ = ["Limits", "Cancel", "Defer", "Replace", "Counts", "Admission", "admit", "SEND", "WAIT", "HOLD",
           "HELD_FOR_OTHERS", "HELD_SENDER_CAP", "split_recipients", "AfterFailure", "after_failure"]
