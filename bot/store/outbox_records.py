"""The records ``Store``'s outbox methods (``bot.store.outbox``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from ..mailkey import MailKey


@dataclass(frozen=True)
class QueuedMail:
    """A mail to put in the outbox (``Store.queue_mail``)."""

    key: MailKey
    kind: str
    cycle: int
    from_addr: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    raw: bytes
    school: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxRow:
    """One row of the outbox, without its raw bytes (``Store.outbox_raw``).

    ``key``: the unique text (with a suffix once a receipt was given back);
    ``mail_key``: its parts (None for a key of a form this bot does not write).
    """

    id: int
    key: str
    kind: str
    school: str | None
    cycle: int
    status: str
    created_at: datetime
    queued_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    message_id: str | None
    subject: str
    from_addr: str
    recipients: tuple[str, ...]
    meta: dict
    mail_key: MailKey | None = None

    @property
    def name(self) -> str:
        """The file name of this mail in state/outbox/ (never from the mail itself)."""
        return f"{self.id:06d}-{self.kind}" + (f"-{self.school}" if self.school else "")


@dataclass(frozen=True)
class SentReply:
    """A command reply in the outbox: whom it went to, what kind of reply it was, when it was queued."""

    recipients: tuple[str, ...]
    reply: str
    created_at: datetime
