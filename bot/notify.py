"""Outgoing mail, the shell: read facts, plan (pure), queue in one
transaction, then deliver what is due.

Public operations (``ctx`` has ``.config`` and ``.rules``; ``sender`` comes
from ``send.make_sender(config)``, or None to queue only; ``now`` is aware):

- ``send_receipts(ctx, store, sender, now)``: receipts for counted
  submissions (batched per school); run after each poll.
- ``remind(ctx, store, sender, now, dry_run=False)``: due reminders.
- ``digest(ctx, store, sender, now, dry_run=False)``: today's digest to the
  coordinator (once per local day).
- ``deliver(ctx, store, sender, now)``: send queued mail that is due
  (retries, rate limit, daily cap, allow-list, last-minute re-check of
  reminders and receipts: bounced and bursting recipients left out).
- ``tasks(ctx)``: the same as jobs of ``now`` for the worker; each opens
  the store itself.

The mail itself is chosen, rendered and delivered by ``bot.outbound``:
``outbound.facts`` reads what the choice needs (bounced and bursting
addresses, counted items, the digest's inputs), the pure modules choose,
``outbound.compose`` renders and queues, ``outbound.outbox`` delivers. This
module is above ``bot.report`` too: the digest carries the report's draft. Every operation returns a report with ``summary()``.
"""
from __future__ import annotations

import json
import logging
import time as _time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .context import Context
from .mailkey import REMINDER, SENDER_RECEIPT
from .record import field, mutable
from .store import Store

# Planning, templates and SMTP are imported by the functions that plan, write or
# send mail: a poll that finds nothing to do loads none of them (issue 15).
if TYPE_CHECKING:  # annotations only
    from . import flood
    from .outbound.outbox import DeliveryReport
    from .store import OutboxRow
    from .outbound.common import PlannedMail
    from .outbound.digest import DigestInputs
    from .outbound.render import Attachment, Renderer

log = logging.getLogger("bot.notify")

HTML_BUDGET = 95_000  # bytes of HTML; Gmail clips a message body at about 102 KB
MAX_PACING_WAIT = timedelta(minutes=10)


@mutable
class NotifyReport:
    kind: str
    planned: list = field(default_factory=list)  # [(key, recipients, subject)]
    queued: int = 0
    superseded: int = 0
    skipped: list = field(default_factory=list)  # [(school, why)]
    note: str = ""
    previews: list = field(default_factory=list)  # dry run: [(recipients, subject, text)]
    delivery: DeliveryReport | None = None
    dry_run: bool = False

    def summary(self) -> str:
        if self.dry_run:
            text = f"{self.kind}: {len(self.planned)} mail(s) would be queued (dry run, nothing sent)"
        else:
            text = f"{self.kind}: {self.queued} queued"
            if self.superseded:
                text += f", {self.superseded} missed slot(s) superseded"
        if self.skipped:
            text += "; skipped: " + "; ".join(f"{s} ({why})" for s, why in self.skipped)
        if self.note:
            text += f"; {self.note}"
        if self.delivery is not None:
            text += f"; outbox: {self.delivery.summary()}"
        return text


# -- delivery -------------------------------------------------------------------

def deliver(ctx: Context, store: Store, sender, now: datetime, *, clock: Callable[[], datetime] | None = None,
            sleep: Callable[[float], None] = _time.sleep, renderer: Renderer | None = None) -> DeliveryReport:
    """Send due mail. With a real ``clock``, wait out the per-minute rate
    (at most ``MAX_PACING_WAIT``) instead of leaving the rest for the next run.
    ``renderer``: the templates a reminder brought up to date is rendered
    with (by default one made for this pass, when one is needed)."""
    # Files in state/outbox/ need no rate limit; an SMTP server does.
    # Room for one reminder per school and the digest each day: receipts never hold them up.
    # not at the top (issue 15): a poll with nothing due loads no outgoing mail's module
    from .outbound import outbox
    from .outbound.delivery import Limits
    from .outbound.facts import allowed_addresses, sync_bounces

    limits = (Limits.from_smtp(ctx.config.smtp, reserve=len(ctx.rules.schools) + 2) if ctx.config.smtp.enabled
              else Limits(10**9, 10**9, sender_receipts_per_day=10**9))
    allowed = allowed_addresses(ctx)
    sync_bounces(store)  # the re-check leaves out addresses that bounced since the mail was queued
    return_path = _return_path if ctx.config.smtp.verp else None
    report = outbox.deliver_due(store, sender, now, limits, allowed, _recheck(ctx, store, now, renderer), return_path)
    started = _time.monotonic()
    while clock is not None and report.waiting and _time.monotonic() - started < MAX_PACING_WAIT.total_seconds():
        if store.sent_since(clock() - timedelta(days=1)) >= limits.daily_cap:
            break
        sleep(60.0 / max(1, limits.per_minute) + 0.5)
        at = clock()
        report = _merge(report, outbox.deliver_due(store, sender, at, limits, allowed, _recheck(ctx, store, at, renderer),
                                                   return_path))
    return report


def _return_path(row: OutboxRow) -> str:
    """VERP (``[smtp] verp``): a report of a failure comes back to an address naming the mail."""
    from . import bounces  # not at the top: a poll with nothing due loads no outgoing mail's module

    return bounces.verp_address(row.from_addr, row.message_id or "")


def _merge(a: DeliveryReport, b: DeliveryReport) -> DeliveryReport:
    # not at the top (issue 15): a poll with nothing due loads no outgoing mail's module
    from .outbound.outbox import DeliveryReport

    return DeliveryReport(sent=a.sent + b.sent, retrying=a.retrying + b.retrying, failed=a.failed + b.failed,
                          cancelled=a.cancelled + b.cancelled, deferred=a.deferred + b.deferred, waiting=b.waiting,
                          held=b.held,
                          errors=a.errors + b.errors)


def _recheck(ctx: Context, store: Store, now: datetime, given: Renderer | None = None):
    """Decide a queued mail again just before it is sent (at ``now``).

    A reminder: cancel it if the school sent everything, became exempt or
    got another deadline, or if every roster address bounced; hold it
    outside office hours; bring its list and its recipients up to date.

    A receipt (``receipts.recheck_receipt``): leave out the recipients that
    bounced for good or are sending a burst of mail since it was queued;
    with nobody left, hold it until the earliest burst's cool-down ends, or,
    when every recipient bounced, cancel it and give its items back (they
    are acknowledged again by the receipt planned once an address works).
    """
    # not at the top (issue 15): a poll with nothing due loads no outgoing mail's module
    from .outbound import outbox
    from .outbound.compose import compose, renderer_for
    from .outbound.delivery import Cancel, Defer, Replace
    from .outbound.facts import facts_and_status, sender_bursts, suppressed_addresses

    rules = ctx.rules
    statuses: dict[int, object] = {}
    renderer: list[Renderer] = [given] if given is not None else []
    bounced: list[frozenset[str]] = []
    bursts: list[list[flood.Burst]] = []

    def check(row: OutboxRow):
        from .outbound import reminders  # here, not in _recheck: deliver builds the check even when nothing is due

        if row.kind == "receipt":
            return check_receipt(row)
        if row.kind != "reminder":
            return None
        key = row.mail_key
        if key is None or key.kind != REMINDER:  # a key of a form this bot does not write
            return None
        if key.cycle not in statuses:
            statuses[key.cycle] = facts_and_status(store, rules, now, key.cycle)[1]
        if not bounced:
            bounced.append(suppressed_addresses(store, now))
        decision = reminders.recheck_reminder(statuses[key.cycle], rules, key, row.meta, row.recipients, bounced[0],
                                              now)
        if decision.action == "cancel":
            return Cancel(decision.reason)
        if decision.action == "defer":
            return Defer(decision.until, decision.reason)
        if decision.action == "send":
            return None
        if not renderer:
            renderer.append(renderer_for(ctx))
        mail = decision.mail
        made = compose(store, renderer[0], mail, now, message_id=row.message_id, create_thread=False)
        return Replace(raw=made.raw, recipients=mail.to, subject=made.subject, meta=mail.meta)

    def check_receipt(row: OutboxRow):
        from .outbound import receipts  # not at the top: an idle poll plans no mail

        if not bounced:
            bounced.append(suppressed_addresses(store, now))
        if not bursts:
            bursts.append(sender_bursts(ctx, store, now))
        decision = receipts.recheck_receipt(row.recipients, bounced[0], bursts[0], now)
        if decision.action == "cancel":  # a receipt to an outside sender acknowledges no item: nothing to give back
            return Cancel(decision.reason, reopen="sender" not in row.meta)
        if decision.action == "defer":
            return Defer(decision.until, decision.reason)
        if decision.action == "replace":
            log.info("outbox #%d %s: %s", row.id, row.key, decision.reason)
            raw = outbox.with_recipients(store.outbox_raw(row.id), decision.to)
            return Replace(raw=raw, recipients=decision.to, subject=row.subject, meta=row.meta)
        return None

    return check


def send_receipts(ctx: Context, store: Store, sender, now: datetime, renderer: Renderer | None = None) -> NotifyReport:
    """Queue the receipts that are due, then deliver due mail (if ``sender``).
    ``renderer``: the templates to render with (a long-lived one keeps them
    compiled: ``notify.tasks``); by default one made for this call."""
    from .outbound import receipts  # not at the top: an idle poll plans no mail
    from .outbound.compose import queue, renderer_for
    from .outbound.facts import (bursting_addresses, counted_items, facts_and_status, suppressed_addresses,
                                 sync_bounces)

    report = NotifyReport("receipts")
    renderer = renderer or renderer_for(ctx)
    sync_bounces(store)
    with store.transaction():
        facts, status = facts_and_status(store, ctx.rules, now)
        acknowledged = store.acknowledged_items()
        # A bursting address (a mail loop, a flood) gets no receipt until its cool-down ends.
        silent = suppressed_addresses(store, now) | bursting_addresses(ctx, store, now)
        # ``auth`` is "pass" only when the trusted Authentication-Results vouch for the sender's own
        # domain (``AuthVerdict.stored``): an SPF pass for another envelope domain does not.
        for mail in receipts.due_receipts(status, ctx.rules, counted_items(store, facts, status.cycle), acknowledged, now,
                                      silent, store.outbox_keys(SENDER_RECEIPT)):
            if queue(store, renderer, mail, now) is not None:
                report.queued += 1
                report.planned.append((mail.key, mail.to, ""))
    if sender is not None:
        report.delivery = deliver(ctx, store, sender, now, renderer=renderer)
    return report


def receipts_after_poll(ctx: Context, store: Store, sender, now: datetime, *, recorded: bool,
                        renderer: Renderer | None = None) -> bool:
    """After a poll: queue the receipts due (and, with a sender, deliver the
    mail due). Returns whether receipts were planned.

    Planning receipts reads every item of the cycle, so it costs in
    proportion to the mail of the season. A poll that ``recorded`` nothing
    skips the planning when nothing it depends on changed since it last ran
    (items, corrections, rules files, the cycle) and no item is young enough
    to become due by the clock alone (``receipt_batch_minutes`` after it
    arrived, or when a burst's cool-down ends): a quiet poll then costs the same at 200 messages as at 20,000.
    The "receipts" mark remembers when planning last ran and on what.
    """
    key = _receipts_key(ctx, store, now)
    last = store.mark("receipts")
    if not recorded and last is not None and _still_valid(last, key, now):
        # A delivery pass with no mail due and no delivery report to judge does nothing: not even its modules load.
        if sender is not None and (store.has_due_mail(now) or store.unjudged_bounces()):
            deliver(ctx, store, sender, now, renderer=renderer)
        return False
    from .outbound.facts import sender_bursts  # not at the top: a poll with nothing to plan loads no planning

    send_receipts(ctx, store, sender, now, renderer)
    batch = timedelta(minutes=ctx.rules.campaign.reminders.receipt_batch_minutes)
    young = [at + batch for at in store.item_times(ctx.rules.campaign.cycle_of(now), after=now - batch, as_of=now)]
    young += [b.until for b in sender_bursts(ctx, store, now) if b.active(now)]  # receipts held by a burst
    store.set_mark("receipts", now, json.dumps({"key": key, "until": min(young).isoformat() if young else None}))
    return True


def _still_valid(mark: tuple[datetime, str], key: list, now: datetime) -> bool:
    """Whether the receipts planned at ``mark`` are still all that is due."""
    at, detail = mark
    try:
        detail = json.loads(detail)
        until = datetime.fromisoformat(detail["until"]) if detail["until"] else None
        return detail["key"] == key and at <= now and (until is None or now < until)
    except (ValueError, KeyError, TypeError):  # a mark from another version: plan again
        return False


def _receipts_key(ctx: Context, store: Store, now: datetime) -> list:
    """What the receipts due depend on besides the clock: cheap to read (no scan of the items)."""
    rules = sorted((f.name, f.stat().st_mtime_ns, f.stat().st_size)
                   for f in Path(ctx.config.paths.rules).iterdir() if f.is_file())
    return [ctx.rules.campaign.cycle_of(now), *store.change_counters(), [list(r) for r in rules]]


# -- reminders --------------------------------------------------------------------

def remind(ctx: Context, store: Store, sender, now: datetime, dry_run: bool = False,
           renderer: Renderer | None = None) -> NotifyReport:
    """Queue the reminders due at ``now`` (nothing outside office hours), then deliver."""
    from .outbound import common, reminders  # not at the top: an idle poll plans no mail
    from .outbound.compose import preview, queue, renderer_for
    from .outbound.facts import facts_and_status, suppressed_addresses, sync_bounces

    report = NotifyReport("reminders", dry_run=dry_run)
    renderer = renderer or renderer_for(ctx)
    sync_bounces(store)  # bookkeeping of mail received (as the digest does), so that a dry run is right too
    campaign = ctx.rules.campaign
    if dry_run:
        _, status = facts_and_status(store, ctx.rules, now)
        due = reminders.due_reminders(status, ctx.rules, store.outbox_keys(REMINDER), now,
                                      suppressed_addresses(store, now))
        for mail in due.mails:
            to, subject, text = preview(store, renderer, mail, now)
            report.planned.append((mail.key, to, subject))
            report.previews.append((to, subject, text))
        report.superseded = len(due.superseded)
        report.skipped = list(due.skipped)
        if not common.in_office_hours(now, campaign.reminders, campaign.tz):
            report.note = "outside office hours: nothing is due now"
        return report
    with store.transaction():
        _, status = facts_and_status(store, ctx.rules, now)
        due = reminders.due_reminders(status, ctx.rules, store.outbox_keys(REMINDER), now,
                                      suppressed_addresses(store, now))
        for mail in due.mails:
            if queue(store, renderer, mail, now) is not None:
                report.queued += 1
                report.planned.append((mail.key, mail.to, ""))
        for key, by in due.superseded:
            store.record_superseded(key, by, now)
            report.superseded += 1
        report.skipped = list(due.skipped)
    if not common.in_office_hours(now, campaign.reminders, campaign.tz):
        report.note = "outside office hours: nothing is due now"
    if sender is not None:
        report.delivery = deliver(ctx, store, sender, now, renderer=renderer)
    return report


def build_digest(ctx: Context, renderer: Renderer, status, inputs: DigestInputs) -> tuple[PlannedMail, list[Attachment]]:
    """The digest mail, its lists shortened until the HTML fits ``HTML_BUDGET``."""
    from .outbound import digest as digest_plan  # not at the top: an idle poll plans no mail
    from .outbound.render import Attachment
    from .outbound.xlsx import XLSX_TYPE

    limits = digest_plan.digest_limits(ctx.config.digest_entries)
    for _ in range(12):
        mail = digest_plan.digest_mail(status, ctx.rules, inputs, ctx.config.coordinator_emails, limits)
        _, html = renderer.bodies(mail.template, mail.context)
        if len(html.encode("utf-8")) <= HTML_BUDGET:
            break
        limits = {k: max(1, v // 2) for k, v in limits.items()}
    else:
        log.warning("digest: HTML still larger than %d bytes after shortening the lists", HTML_BUDGET)
    day = status.now.astimezone(status.campaign.tz).date().isoformat()
    xlsx = Attachment(f"tong-hop-ho-so-{day}.xlsx", renderer.digest_xlsx(status), *XLSX_TYPE)
    attachments = [xlsx]
    if mail.context.get("report_draft"):  # between the schools' deadline and the office's
        from .report import DOCX_TYPE, report_docx_bytes

        draft = report_docx_bytes(status, ctx.rules, status.now, templates=ctx.config.paths.templates)
        attachments.append(Attachment(f"du-thao-bao-cao-{day}.docx", draft, *DOCX_TYPE))
    return mail, attachments


def digest(ctx: Context, store: Store, sender, now: datetime, dry_run: bool = False,
           renderer: Renderer | None = None) -> NotifyReport:
    """Queue today's digest to the coordinator (once per local day), then deliver."""
    from .outbound import digest as digest_plan  # not at the top: an idle poll plans no mail
    from .outbound.compose import preview, queue, renderer_for
    from .outbound.facts import DigestMark, digest_inputs, facts_and_status, refused_commands, sync_bounces

    report = NotifyReport("digest", dry_run=dry_run)
    renderer = renderer or renderer_for(ctx)
    sync_bounces(store)  # bookkeeping of mail received, so that a dry run shows the bounces too
    if dry_run:
        _, status = facts_and_status(store, ctx.rules, now)
        inputs, _, _ = digest_inputs(ctx, store, status, now)
        mail, attachments = build_digest(ctx, renderer, status, inputs)
        to, subject, text = preview(store, renderer, mail, now, attachments)
        report.planned.append((mail.key, to, subject))
        report.previews.append((to, subject, text))
        if store.outbox_has_key(mail.key):
            report.note = "today's digest was already queued"
        return report
    with store.transaction():
        _, status = facts_and_status(store, ctx.rules, now)
        key = digest_plan.digest_key(status.cycle, now, status.campaign.tz)
        if store.outbox_has_key(key):
            report.note = "today's digest was already queued"
        else:
            inputs, max_item, max_corr = digest_inputs(ctx, store, status, now)
            mail, attachments = build_digest(ctx, renderer, status, inputs)
            if queue(store, renderer, mail, now, attachments) is not None:
                report.queued += 1
                report.planned.append((mail.key, mail.to, ""))
                # The mark moves in the same transaction: "changes since the last digest" never skips or repeats.
                _, max_command = refused_commands(store, now)
                store.set_mark("digest", now, DigestMark(now, max_item, max_corr, max_command).detail())
    if sender is not None:
        report.delivery = deliver(ctx, store, sender, now, renderer=renderer)
    return report


# -- for the worker -----------------------------------------------------------------

def tasks(ctx: Context, sender_factory=None, environ: dict | None = None,
          renderer: Renderer | None = None) -> dict[str, Callable[[datetime], object]]:
    """Jobs for ``service.run(..., tasks=notify.tasks(ctx))``: each opens the
    state store, does its work at ``now`` and returns a report.

    - ``outbox`` (every minute): receipts that became due, then due mail;
    - ``remind`` (twice an hour): reminders decide themselves what is due;
    - ``digest`` (at schedule.digest_at): once per local day.

    The jobs share one ``Renderer`` for the worker's life (``renderer``,
    which the worker's polls use too, or one made when the first mail is
    rendered): each template is compiled once, and again only when its
    file changes.
    """
    from .send import make_sender  # not at the top: SMTP code loads when the worker sends
    from .outbound.compose import renderer_for

    factory = sender_factory or (lambda: make_sender(ctx.config, environ))
    shared: list[Renderer] = [renderer] if renderer is not None else []

    def renderer() -> Renderer:
        if not shared:
            shared.append(renderer_for(ctx))  # checks the sender; jinja2 loads at the first mail rendered
        return shared[0]

    def job(fn):
        def run(now: datetime):
            with Store.open(ctx.config.paths.state) as store:
                return fn(store, factory(), now)
        return run

    return {
        "outbox": job(lambda store, sender, now: send_receipts(ctx, store, sender, now, renderer())),
        "remind": job(lambda store, sender, now: remind(ctx, store, sender, now, renderer=renderer())),
        "digest": job(lambda store, sender, now: digest(ctx, store, sender, now, renderer=renderer())),
    }


__all__ = ["send_receipts", "receipts_after_poll", "remind", "digest", "deliver", "tasks", "NotifyReport",
           "build_digest", "HTML_BUDGET"]
