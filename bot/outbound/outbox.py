"""The persistent outbox: queue a mail with the decision, send it once.

A mail is inserted (``Store.queue_mail``) in the same transaction as the decision to
send it; its idempotency key is UNIQUE, so the same decision can never be
queued twice. ``deliver_due`` then hands due mail to the sender and marks
each one sent in its own transaction right after the server accepted it.

Exactly once, and the one window left: if the process dies after the SMTP
server answered 250 to DATA and before the UPDATE to 'sent' commits (a few
milliseconds, one local SQLite write), that one mail is sent again on the
next run. Its Message-ID is fixed when it is queued, so mail clients show
the duplicate in the same thread, and most servers drop it as a duplicate.
Everything else (a crash before sending, an SMTP outage, a 4xx reply)
leaves the mail queued: it is neither lost nor duplicated. Only one worker
delivers per state directory (``StateLock``).

A pass is select -> decide -> apply: the due mail and the counts of mail
sent are read from the store (bot/store/outbox.py), the pure functions of
``delivery`` decide (rate, caps, recipients, retries), and this module
carries out what they decide: the store and the sender.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

from ..errors import SmtpFailure
from ..mailkey import SENDER_RECEIPT
from ..store import OutboxRow
from .delivery import HOLD, WAIT, Cancel, Counts, Defer, Limits, Replace, admit, after_failure, split_recipients

log = logging.getLogger("bot.outbox")

STATUSES = ("queued", "sent", "failed", "cancelled", "superseded")
# The order of a delivery pass is the store's (``Store.due_mail``): the coordinator's mail first,
# receipts to senders outside the roster (keys of kind SENDER_RECEIPT) last.


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    waiting: int = 0  # left queued by the rate limit or the daily cap
    held: int = 0  # receipts left queued: the rest of the day is kept for other mail, or their own cap is reached
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        for name in ("retrying", "failed", "cancelled", "deferred", "waiting", "held"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        text = ", ".join(parts)
        if self.errors:
            text += "; last error: " + self.errors[-1]
        return text

    def __bool__(self) -> bool:
        return any((self.sent, self.retrying, self.failed, self.cancelled, self.deferred, self.waiting, self.held))


def retry(store, now: datetime, ids: Iterable[int] | None = None) -> int:
    """Failed (and waiting) mail is queued again, due now, with a fresh retry budget."""
    return store.requeue_mail(now, ids)


# -- delivering ----------------------------------------------------------------

def deliver_due(store, sender, now: datetime, limits: Limits, allowed: Iterable[str],
                recheck: Callable[[OutboxRow], object] | None = None,
                return_path: Callable[[OutboxRow], str] | None = None) -> DeliveryReport:
    """Send every queued mail due at ``now``, within the rate limit and daily cap.

    ``allowed``: the roster's and the coordinators' addresses; a receipt to
    a sender outside the roster may also go to that sender while the mail it
    acknowledges is one the trusted Authentication-Results passed. Any other
    recipient is dropped right before sending (and the mail cancelled if
    none is left). Limits: see ``Limits``.
    ``recheck(row)`` may return ``Cancel``, ``Defer`` or ``Replace`` (or
    None to send as is): the decision is taken again just before sending.
    ``Defer`` moves the attempt to ``until`` (no attempt counted); ``Cancel``
    with ``reopen`` also gives a receipt's items back (``Store.cancel_and_reopen``).
    ``return_path(row)``: the envelope sender of a mail (VERP); its From otherwise.
    """
    allowed_set = {a.strip().lower() for a in allowed}
    report = DeliveryReport()
    counts = Counts(in_minute=store.sent_since(now - timedelta(minutes=1)),
                    in_day=store.sent_since(now - timedelta(days=1)),
                    priority_in_day=store.sent_since(now - timedelta(days=1), receipts=False),
                    sender_receipts_in_day=store.sent_since(now - timedelta(days=1), sender_receipts=True))
    held: Counter[str] = Counter()  # receipts left queued, by why
    due = store.due_mail(now)
    try:
        for index, row in enumerate(due):
            to_sender = row.mail_key is not None and row.mail_key.kind == SENDER_RECEIPT
            admission = admit(row.kind, to_sender, counts, limits)
            if admission.action == WAIT:
                report.waiting += len(due) - index
                log.info("outbox: %d mail(s) wait for the %s", len(due) - index, admission.reason)
                break
            if admission.action == HOLD:
                held[admission.reason] += 1
                continue
            verdict = recheck(row) if recheck else None
            if isinstance(verdict, Cancel):
                if verdict.reopen:
                    store.cancel_and_reopen(row.id, verdict.reason)
                else:
                    store.finish_mail(row.id, "cancelled", verdict.reason, now)
                report.cancelled += 1
                log.info("outbox #%d %s cancelled: %s", row.id, row.key, verdict.reason)
                continue
            if isinstance(verdict, Defer):
                store.defer_mail(row.id, verdict.until, verdict.reason)
                report.deferred += 1
                continue
            if isinstance(verdict, Replace):
                row = store.replace_mail(row.id, verdict.raw, verdict.recipients, verdict.subject, verdict.meta)
            raw = store.outbox_raw(row.id)
            recipients, dropped = split_recipients(
                row.recipients, allowed_set | (_verified_sender(store, row) if to_sender else set()))
            if dropped:
                log.warning("outbox #%d: not sending to %s (not in the roster or coordinator list)",
                            row.id, ", ".join(dropped))
                if not recipients:
                    store.finish_mail(row.id, "cancelled", "no recipient in the roster or coordinator list: "
                            + ", ".join(dropped), now)
                    report.cancelled += 1
                    continue
                raw = with_recipients(raw, recipients)
            try:
                envelope = return_path(row) if return_path else row.from_addr
                refused = sender.send(raw, envelope, list(recipients), name=row.name)
            except SmtpFailure as exc:
                error = exc.args[0] if exc.args else str(exc)
                report.errors.append(error)
                decision = after_failure(row.attempts, row.queued_at, temporary=exc.temporary,
                                         connection=exc.connection, now=now, limits=limits)
                if decision.give_up:
                    store.finish_mail(row.id, "failed", error, now, attempts=decision.attempts)
                    report.failed += 1
                    log.error("outbox #%d %s failed for good after %d attempt(s): %s", row.id, row.key,
                              decision.attempts, error)
                    continue
                store.schedule_retry(row.id, decision.attempts, decision.retry_at, error)
                report.retrying += 1
                log.warning("outbox #%d %s: %s; retrying at %s", row.id, row.key, error, decision.retry_at.isoformat())
                if decision.postpone_rest:
                    rest = [r.id for r in due[index + 1:]]
                    store.postpone_queued(rest, decision.retry_at)
                    report.deferred += len(rest)
                    break
                continue
            # Accepted by the server: record it at once (see the module docstring).
            note = ("refused by the server for " + "; ".join(f"{a}: {c} {m}" for a, (c, m) in refused.items())
                    ) if refused else None
            store.finish_mail(row.id, "sent", note, now, attempts=row.attempts + 1, sent=True,
                              recipients=list(recipients) if dropped else None)
            report.sent += 1
            counts = counts.after_sent(row.kind, to_sender)
            log.info("outbox #%d %s %s %s", row.id, row.key, getattr(sender, "delivered", "sent to"),
                     ", ".join(recipients))
    finally:
        sender.close()
    for why, n in held.items():
        report.held += n
        log.info("outbox: %d receipt(s) wait: %s", n, why)
    return report


def _verified_sender(store, row: OutboxRow) -> set[str]:
    """The one outside address a receipt to a sender may go to: the sender of
    the mail it acknowledges, if that mail is not automatic and the trusted
    Authentication-Results passed for its sender."""
    message_row = row.meta.get("message_row")
    if not isinstance(message_row, int):
        return set()
    sender = store.verified_sender(message_row)
    return {sender} if sender else set()


def with_recipients(raw: bytes, recipients: Sequence[str]) -> bytes:
    """``raw`` with its To header naming ``recipients`` only."""
    from .headers import encode_header, set_header  # not at the top: a poll with nothing to send writes no header

    return set_header(raw, "To", encode_header("To", ", ".join(recipients)))


__all__ = ["DeliveryReport", "retry", "deliver_due", "with_recipients"]
