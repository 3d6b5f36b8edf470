"""A planned mail made into a message and queued: the school's thread, the
templates, the outbox row (with what a receipt acknowledges)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..context import Context
from ..store import QueuedMail, Store

if TYPE_CHECKING:  # annotations only: the templates load when a mail is rendered
    from .common import PlannedMail
    from .render import Renderer


def renderer_for(ctx: Context) -> Renderer:
    """The templates of the configuration, for the campaign's time zone and the bot's From address."""
    from .render import Renderer  # not at the top: a poll with nothing to send renders nothing

    return Renderer.for_config(ctx.config, ctx.rules.campaign)


@dataclass(frozen=True)
class Composed:
    """A planned mail rendered: its Message-ID, subject, the whole message and its text body."""

    message_id: str
    subject: str
    raw: bytes
    text: str


def compose(store: Store, renderer: Renderer, mail: PlannedMail, now: datetime, *, message_id: str | None = None,
            attachments=(), create_thread: bool = True) -> Composed:
    """Render a planned mail.

    Mail to a school joins the school's thread of the cycle (same subject,
    In-Reply-To/References to the first mail); the first mail starts it.
    """
    message_id = message_id or renderer.new_message_id(mail.kind)
    thread_root = None
    if mail.school and "sender" not in mail.meta:  # a receipt to an outside sender is not the school's conversation
        t = store.thread(mail.school, mail.cycle)
        if t:
            thread_root, subject = t.first_message_id, t.subject
        else:
            subject = renderer.subject("school", mail.context)
            if create_thread:
                store.start_thread(mail.school, mail.cycle, message_id, subject, now)
    else:
        subject = renderer.subject(mail.template, mail.context)
    text, html = renderer.bodies(mail.template, mail.context)
    raw = renderer.message(mail, subject=subject, text=text, html=html, message_id=message_id, now=now,
                           thread_root=thread_root, attachments=attachments)
    return Composed(message_id, subject, raw, text)


def queue(store: Store, renderer: Renderer, mail: PlannedMail, now: datetime, attachments=()) -> int | None:
    """Render ``mail`` and put it in the outbox (with the items a receipt acknowledges); its row id, or
    None when its key was already decided. Inside the caller's transaction."""
    if store.outbox_has_key(mail.key):
        return None
    made = compose(store, renderer, mail, now, attachments=attachments)
    row_id = store.queue_mail(QueuedMail(key=mail.key, kind=mail.kind, cycle=mail.cycle,
                                         from_addr=renderer.from_address, recipients=mail.to, subject=made.subject,
                                         message_id=made.message_id, raw=made.raw, school=mail.school,
                                         meta=mail.meta), now)
    store.acknowledge_items(row_id, mail.item_ids)
    return row_id


def preview(store: Store, renderer: Renderer, mail: PlannedMail, now: datetime, attachments=()) -> tuple:
    """(recipients, subject, text body) of ``mail`` as it would be sent, for a dry run: nothing is stored."""
    made = compose(store, renderer, mail, now, attachments=attachments, create_thread=False)
    return mail.to, made.subject, made.text


__all__ = ["renderer_for", "Composed", "compose", "queue", "preview"]
