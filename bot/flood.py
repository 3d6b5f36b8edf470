"""Loop and flood detection: pure functions of (inbound mail, rules, now).

A mail loop (an auto-responder answering our receipts, a forwarding rule
pointing back at us) or a forged flood shows as one address sending many
messages within minutes. Such an address is "bursting": the bot stops
writing to it (no receipts, no answers to command mail) from the burst
until ``burst_cooldown_minutes`` after its last mail of the burst, and the
coordinator's digest names it.

Every mail counts, automatic mail included: an auto-reply loop is made of
automatic mail. The thresholds are in ``[reminders]`` of
``rules/campaign.toml`` (``burst_messages``, ``burst_minutes``,
``burst_cooldown_minutes``), next to ``receipt_batch_minutes``, because they
decide when the bot answers a school, like the other keys there.

Command mail replies are limited separately (``reply_allowed``): a refusal
or a "no command found" reply goes to one address at most once per local
day, so forged "From: coordinator" mail cannot eat the outbox's daily cap.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from .record import frozen

# Kinds of command-mail reply (recorded in the outbox row's meta as "reply").
REPLY_RESULTS, REPLY_REFUSED, REPLY_NO_COMMANDS = "results", "refused", "no_commands"


@frozen
class Burst:
    """One burst of mail from one address: ``count`` messages from
    ``first_at`` to ``last_at``; the bot stays silent to it until ``until``."""

    address: str
    count: int
    first_at: datetime
    last_at: datetime
    until: datetime

    def active(self, now: datetime) -> bool:
        """Whether the bot is still silent to this address at ``now``."""
        return self.first_at <= now < self.until


def bursts(mail: Iterable[tuple[str, datetime]], now: datetime, *, messages: int = 10, minutes: int = 10,
           cooldown_minutes: int = 60) -> list[Burst]:
    """Every burst in ``mail`` ((from address, received at) of inbound
    messages), newest first; mail after ``now`` has not arrived yet.

    A burst is ``messages`` mails or more from one address (case-insensitive)
    within ``minutes`` minutes; windows that share a mail form one burst,
    whose ``count`` is every mail from the address in it. The bot stays
    silent to the address until ``cooldown_minutes`` after the burst's last
    mail.
    """
    window, cooldown = timedelta(minutes=minutes), timedelta(minutes=cooldown_minutes)
    by_address: dict[str, list[datetime]] = {}
    for address, at in mail:
        address = (address or "").strip().lower()
        if address and at <= now:
            by_address.setdefault(address, []).append(at)
    found: list[Burst] = []
    for address, times in by_address.items():
        times.sort()
        start = end = None  # indexes of the first and last mail of the burst being built
        for i in range(len(times) - messages + 1):
            j = i + messages - 1
            if times[j] - times[i] > window:
                continue
            if start is not None and i <= end:
                end = j  # overlapping window: the same burst goes on
                continue
            if start is not None:
                found.append(_burst(address, times, start, end, cooldown))
            start, end = i, j
        if start is not None:
            found.append(_burst(address, times, start, end, cooldown))
    return sorted(found, key=lambda b: (b.last_at, b.address), reverse=True)


def _burst(address: str, times: list[datetime], start: int, end: int, cooldown: timedelta) -> Burst:
    return Burst(address, end - start + 1, times[start], times[end], times[end] + cooldown)


def bursting(found: Iterable[Burst], now: datetime) -> frozenset[str]:
    """The addresses the bot must not answer at ``now`` (lower-case)."""
    return frozenset(b.address for b in found if b.active(now))


def reply_allowed(kind: str, earlier: Iterable[tuple[str, datetime]], now: datetime, tz,
                  silenced: bool = False) -> bool:
    """Whether to answer a coordinator address's command mail at ``now``.

    ``kind``: ``REPLY_RESULTS`` (commands were carried out: always answered,
    the coordinator must know what changed), ``REPLY_REFUSED`` (the mail
    failed the sender checks) or ``REPLY_NO_COMMANDS`` (no command line in
    it). ``earlier``: (kind, created at) of the replies already queued to
    that address. A refusal or a "no command" reply goes at most once per
    local day and kind, and never while the address is ``silenced`` (bursting).
    ``kind`` None (unauthenticated mail without any command line) is never
    answered.
    """
    if kind == REPLY_RESULTS:
        return True
    if kind is None or silenced:
        return False
    today = now.astimezone(tz).date()
    return not any(k == kind and at.astimezone(tz).date() == today for k, at in earlier)


__all__ = ["Burst", "bursts", "bursting", "reply_allowed", "REPLY_RESULTS", "REPLY_REFUSED", "REPLY_NO_COMMANDS"]
