"""The identity of one decision to send a mail: typed parts, one text.

The outbox holds every mail under the text of its ``MailKey`` (UNIQUE), so a
decision taken twice is queued once; the store also keeps the parts as
columns (schema 10), so that no code has to take the text apart again.
"""
from __future__ import annotations

from .record import frozen

# The kinds of key; a receipt to a sender outside the roster has its own (a mail of kind "receipt").
RECEIPT, SENDER_RECEIPT, REMINDER, DIGEST, REPORT, REPLY = (
    "receipt", "receipt-to-sender", "reminder", "digest", "report", "reply")


@frozen
class MailKey:
    """What one outgoing mail is about, as the outbox keeps it.

    ``kind``: one of the kinds above; ``cycle``: the campaign's cycle;
    ``school``: the school's code (receipts, reminders); ``slot``: a
    reminder's slot ("before-7", "after-1") or the local day of a digest or
    report ("2023-10-13"); ``deadline``: the school's effective deadline a
    reminder was planned for (local ISO-8601, as in the text); ``ref``: the
    item ids a receipt acknowledges ("1,2,3" or "sha1-..."), the message row
    of a receipt to a sender, the Message-ID a reply answers.
    """

    kind: str
    cycle: int
    school: str | None = None
    slot: str | None = None
    deadline: str | None = None
    ref: str | None = None

    @property
    def text(self) -> str:
        """The outbox's unique key: ``receipt:SCHOOL:CYCLE:IDS``, ``receipt-to-sender:SCHOOL:CYCLE:ROW``,
        ``reminder:SCHOOL:CYCLE:SLOT:DEADLINE``, ``digest:CYCLE:DAY`` (and ``report:``), ``reply:MESSAGE-ID``."""
        if self.kind in (RECEIPT, SENDER_RECEIPT):
            return f"{self.kind}:{self.school}:{self.cycle}:{self.ref}"
        if self.kind == REMINDER:
            return f"{self.kind}:{self.school}:{self.cycle}:{self.slot}:{self.deadline}"
        if self.kind in (DIGEST, REPORT):
            return f"{self.kind}:{self.cycle}:{self.slot}"
        if self.kind == REPLY:
            return f"{self.kind}:{self.ref}"
        raise ValueError(f"unknown kind of mail key: {self.kind!r}")

    @property
    def mail_kind(self) -> str:
        """The kind of the mail itself (``OutboxRow.kind``): a receipt to a sender is a receipt."""
        return RECEIPT if self.kind == SENDER_RECEIPT else self.kind

    def __str__(self) -> str:
        return self.text


__all__ = ["MailKey", "RECEIPT", "SENDER_RECEIPT", "REMINDER", "DIGEST", "REPORT", "REPLY"]
