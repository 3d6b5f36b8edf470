"""The clock: the only place the bot reads the real time.

Everything that decides by the clock takes ``now`` as a parameter; the
command line builds one of these and passes ``clock()`` down.
"""
from __future__ import annotations

from datetime import datetime, timezone

from .record import frozen


def system_clock() -> datetime:
    """The real time, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


@frozen
class FixedClock:
    """A clock stopped at one instant (``--now``, simulations, tests)."""

    instant: datetime

    def __call__(self) -> datetime:
        return self.instant


def parse_instant(text: str, default_tz) -> datetime:
    """Parse ``--now``: ISO 8601; without an offset it is read in ``default_tz``."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=default_tz)


def utc(moment: datetime) -> str:
    """``moment`` as the database keeps every time: ISO-8601 text in UTC
    (``2023-10-05T02:00:00+00:00``), so that times compare and sort as text.
    Raises ValueError on a naive datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return moment.astimezone(timezone.utc).isoformat()
