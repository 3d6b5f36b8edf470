"""The records ``Store``'s processing methods (``bot.store.processing``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # annotations only
    from ..mail_model import ItemDecision, ParsedMessage
    from ..official.evidence import Evidence


@dataclass(frozen=True)
class PendingMessage:
    row: int
    sha256: str
    message_id: str
    received_at: datetime
    attempts: int
    size: int = 0  # of the whole message (more than the archived bytes when withheld)
    suspect: bool = False  # failed before, or in flight when the bot last died: handled alone


@dataclass(frozen=True)
class Recovery:
    """What ``recover_inflight`` found: messages in flight when the bot last
    stopped uncleanly. ``resumed``: handled with others, so not charged;
    ``charged``: handled alone, so the death counts as their attempt."""

    resumed: int
    charged: int


@dataclass(frozen=True)
class MessageSummary:
    """What the store keeps of a parsed message, for the digest and export."""

    message_id: str
    from_addr: str
    subject: str
    automatic: str | None
    auth: str
    bounces: tuple[str, ...] = ()

    @classmethod
    def of(cls, message: ParsedMessage) -> "MessageSummary":
        """What is kept of ``message``: its sender, subject, automatic kind, the
        stored form of its authentication verdict and the bounced addresses."""
        return cls(message_id=message.message_id, from_addr=message.from_addr, subject=message.subject,
                   automatic=message.automatic, auth=message.auth_verdict.stored, bounces=message.bounce_recipients)


class ItemRow(NamedTuple):
    """One decision as it is recorded: where in the mail its file was and
    when the mail arrived. ``occurrence`` tells apart files of the same name
    in one mail (0 for the first, 1 for the second...)."""

    decision: ItemDecision
    container: str
    received_at: datetime
    cycle: int
    occurrence: int = 0
    evidence: Evidence | None = None  # whether the part is the official paper (None: not judged)
