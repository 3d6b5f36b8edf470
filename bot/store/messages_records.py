"""The records ``Store``'s messages methods (``bot.store.messages``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InboundMail:
    """Who sent a stored message and when (``subject`` where the caller asked for it)."""

    from_addr: str
    received_at: datetime
    subject: str = ""


@dataclass(frozen=True)
class MessageRecord:
    """A stored message as its row holds it (what ``health``, audits and tests look at)."""

    id: int
    sha256: str
    message_id: str
    source_key: str
    received_at: datetime
    size: int
    status: str  # 'new', 'done' or 'quarantined'
    attempts: int
    last_error: str | None
    from_addr: str | None
    subject: str | None
    automatic: str | None
    auth: str | None
    bounces: tuple[str, ...]
    fetched_at: datetime
    processed_at: datetime | None
    inflight: str | None  # None, 'batch', 'alone' or 'resumed'
    resumed: int
