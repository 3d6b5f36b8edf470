"""The records ``Store``'s commands methods (``bot.store.commands``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CommandOutcome:
    """What became of one line already handled: "done", "error" or "refused", and its detail."""

    outcome: str
    detail: str


@dataclass(frozen=True)
class CommandMail:
    """A command mail as recorded; ``reason`` is "code" or "code: detail"."""

    id: int
    message_id: str
    from_addr: str
    subject: str
    received_at: datetime
    verdict: str
    reason: str


@dataclass(frozen=True)
class CommandLine:
    """One line of a command mail as kept."""

    message_id: str
    line: int
    text: str
    kind: str | None
    outcome: str  # 'done', 'error' or 'refused'
    detail: str
    correction_id: int | None
    at: datetime
