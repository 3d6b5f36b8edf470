"""Delivery reports for the outgoing-mail tests: real ones, built from a mail
the outbox really sent (its raw bytes returned inside an RFC 3464 report, or
named by In-Reply-To beside X-Failed-Recipients), and forged ones.

``record_bounce`` records the report through the store's API (as the
pipeline does) and judges it at once with ``sync_bounces``. Until the
parser fills ``ParsedMessage.bounce_refs`` itself (branch ``trust``), the
reader given to ``sync_bounces`` adds the Message-IDs the report names when
the parser found none; once it does, the reader changes nothing.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.outbound.facts import sync_bounces
from bot.parse import parse_message
from bot.store import OutboxRow, Store

from . import mailfactory as mf
from .outgoing import record

BOT = "hoso-bot@pgd-q12.example"


def sent_to(store: Store, address: str, before: datetime | None = None) -> OutboxRow:
    """The newest mail the outbox sent to ``address`` (before ``before``)."""
    rows = [r for r in store.outbox_rows(("sent",)) if address in r.recipients
            and (before is None or r.sent_at <= before)]
    assert rows, f"the bot never sent anything to {address}"
    return rows[0]


def dsn(original: bytes, failed: list[str]) -> bytes:
    """A Postfix RFC 3464 report returning ``original`` whole."""
    return mf.postfix_bounce(failed, original=original)


def x_failed(failed: list[str], refers_to: str | None, to: str = BOT) -> bytes:
    """A Gmail/Exim-style report to ``to``: plain text, X-Failed-Recipients,
    and (when given) In-Reply-To/References naming the mail that failed."""
    headers = [("X-Failed-Recipients", ", ".join(failed)), ("Auto-Submitted", "auto-replied")]
    if refers_to:
        headers += [("In-Reply-To", refers_to), ("References", refers_to)]
    return mf.build("thunderbird", sender="mailer-daemon@googlemail.com", sender_name="Mail Delivery Subsystem",
                    to=to, subject="Delivery Status Notification (Failure)",
                    text="Address not found\n\nYour message wasn't delivered to " + ", ".join(failed),
                    headers=headers)


def reader(refs):
    """A ``read`` for ``sync_bounces``: the real parser, with ``refs``
    as the Message-IDs the report names when the parser gave none."""
    def read(raw: bytes):
        message = parse_message(raw)
        return message if message.bounce_refs else replace(message, bounce_refs=tuple(r.lower() for r in refs))
    return read


def record_bounce(store: Store, when: datetime, raw: bytes, refs=()) -> int:
    """Record the report ``raw`` received at ``when`` and judge it; returns its message row."""
    record(store, when, sender="", raw=raw)
    row = max(m.id for m in store.message_records())
    sync_bounces(store, read=reader(refs))
    return row


def bounce(store: Store, when: datetime, address: str, *, style: str = "dsn") -> int:
    """A real permanent failure of the newest mail the bot sent to ``address``."""
    row = sent_to(store, address, when)
    if style == "dsn":
        raw = dsn(store.outbox_raw(row.id), [address])
    else:
        raw = x_failed([address], row.message_id)
    return record_bounce(store, when, raw, (row.message_id,))
