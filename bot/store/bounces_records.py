"""The records ``Store``'s bounces methods (``bot.store.bounces``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class BounceReport:
    """A stored delivery report not judged yet: its message row (to read it
    again from the archive) and the addresses it says failed for good."""

    row: int
    sha256: str
    message_id: str
    received_at: datetime
    subject: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class BelievedBounce:
    address: str
    received_at: datetime
    subject: str
