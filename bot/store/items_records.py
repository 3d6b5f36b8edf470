"""The records ``Store``'s items methods (``bot.store.items``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ItemOrigin:
    """Where an item came from, for its receipt: its file, its message and
    how many documents its file held (``parts``)."""

    item_id: int
    filename: str
    received_at: datetime
    first_page: int
    last_page: int
    parts: int
    message_row: int
    from_addr: str | None
    automatic: str | None
    auth: str | None


@dataclass(frozen=True)
class ItemRecord:
    """A stored item with its bookkeeping (``StoredItem`` is what the plans read)."""

    id: int
    message_row: int
    container: str
    filename: str
    occurrence: int
    part_index: int
    decision: str
    reasons: tuple[str, ...]
    classified_at: datetime
