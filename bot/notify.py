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
- ``suppressed_addresses(store, now)``: addresses that bounced for good and
  have not written since; receipts and reminders leave them out.
- ``sender_bursts(ctx, store, now)`` / ``bursting_addresses(ctx, store, now)``:
  addresses that sent a burst of mail (a loop, a flood; ``bot/flood.py``);
  receipts and command replies leave them out until the cool-down ends.
- ``tasks(ctx)``: the same as jobs of ``now`` for the worker; each opens
  the store itself.

Every operation returns a report with ``summary()``.
"""
from __future__ import annotations

import json
import logging
import time as _time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import bounces, flood, outbox
from .context import Context
from .model import ParsedMessage
from .outbox import Cancel, Defer, DeliveryReport, Limits, QueuedMail, Replace
from .status import apply_corrections, compute_status
from .store import PendingMessage, Store

# Planning, templates and SMTP are imported by the functions that plan, write or
# send mail: a poll that finds nothing to do loads none of them (issue 15).
if TYPE_CHECKING:  # annotations only
    from . import plan
    from .plan import PlannedMail
    from .render import Attachment, Renderer

log = logging.getLogger("bot.notify")

HTML_BUDGET = 95_000  # bytes of HTML; Gmail clips a message body at about 102 KB
MAX_PACING_WAIT = timedelta(minutes=10)


@dataclass
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


# -- shared helpers -------------------------------------------------------------

def allowed_addresses(ctx: Context) -> set[str]:
    """Who the bot may write to: the roster and the coordinators."""
    return {e.lower() for s in ctx.rules.schools for e in s.emails} | {e.lower() for e in ctx.config.coordinator_emails}


def renderer_for(ctx: Context) -> Renderer:
    from .render import Renderer  # not at the top: a poll with nothing to send renders nothing

    return Renderer.for_config(ctx.config, ctx.rules.campaign)


def _facts_and_status(store: Store, rules, now: datetime, cycle: int | None = None):
    campaign = rules.campaign
    cycle = campaign.cycle_of(now) if cycle is None else cycle
    facts = apply_corrections(store.items(cycle=cycle, as_of=now), store.corrections(cycle, as_of=now), campaign,
                              cycle, now)
    return facts, compute_status(facts, campaign, rules.schools, cycle, now)


def _compose(store: Store, renderer: Renderer, mail: PlannedMail, now: datetime, *, message_id: str | None = None,
             attachments=(), create_thread: bool = True) -> tuple[str, str, bytes, str]:
    """Render a planned mail: (message_id, subject, raw bytes, text body).

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
    return message_id, subject, raw, text


def _queue(store: Store, renderer: Renderer, mail: PlannedMail, now: datetime, attachments=()) -> int | None:
    if store.outbox_has_key(mail.key):
        return None
    message_id, subject, raw, _ = _compose(store, renderer, mail, now, attachments=attachments)
    row_id = store.queue_mail(QueuedMail(key=mail.key, kind=mail.kind, cycle=mail.cycle,
                                         from_addr=renderer.from_address, recipients=mail.to, subject=subject,
                                         message_id=message_id, raw=raw, school=mail.school, meta=mail.meta), now)
    store.acknowledge_items(row_id, mail.item_ids)
    return row_id


def _preview(store: Store, renderer: Renderer, mail: PlannedMail, now: datetime, attachments=()) -> tuple:
    _, subject, _, text = _compose(store, renderer, mail, now, attachments=attachments, create_thread=False)
    return mail.to, subject, text


# -- delivery -------------------------------------------------------------------

def deliver(ctx: Context, store: Store, sender, now: datetime, *, clock: Callable[[], datetime] | None = None,
            sleep: Callable[[float], None] = _time.sleep) -> DeliveryReport:
    """Send due mail. With a real ``clock``, wait out the per-minute rate
    (at most ``MAX_PACING_WAIT``) instead of leaving the rest for the next run."""
    # Files in state/outbox/ need no rate limit; an SMTP server does.
    # Room for one reminder per school and the digest each day: receipts never hold them up.
    limits = (Limits.from_smtp(ctx.config.smtp, reserve=len(ctx.rules.schools) + 2) if ctx.config.smtp.enabled
              else Limits(10**9, 10**9, sender_receipts_per_day=10**9))
    allowed = allowed_addresses(ctx)
    sync_bounces(store)  # the re-check leaves out addresses that bounced since the mail was queued
    return_path = _return_path if ctx.config.smtp.verp else None
    report = outbox.deliver_due(store, sender, now, limits, allowed, _recheck(ctx, store, now), return_path)
    started = _time.monotonic()
    while clock is not None and report.waiting and _time.monotonic() - started < MAX_PACING_WAIT.total_seconds():
        if store.sent_since(clock() - timedelta(days=1)) >= limits.daily_cap:
            break
        sleep(60.0 / max(1, limits.per_minute) + 0.5)
        at = clock()
        report = _merge(report, outbox.deliver_due(store, sender, at, limits, allowed, _recheck(ctx, store, at),
                                                   return_path))
    return report


def _return_path(row: outbox.OutboxRow) -> str:
    """VERP (``[smtp] verp``): a report of a failure comes back to an address naming the mail."""
    return bounces.verp_address(row.from_addr, row.message_id or "")


def _merge(a: DeliveryReport, b: DeliveryReport) -> DeliveryReport:
    return DeliveryReport(sent=a.sent + b.sent, retrying=a.retrying + b.retrying, failed=a.failed + b.failed,
                          cancelled=a.cancelled + b.cancelled, deferred=a.deferred + b.deferred, waiting=b.waiting,
                          held=b.held,
                          errors=a.errors + b.errors)


def _recheck(ctx: Context, store: Store, now: datetime):
    """Decide a queued mail again just before it is sent (at ``now``).

    A reminder: cancel it if the school sent everything, became exempt or
    got another deadline, or if every roster address bounced; hold it
    outside office hours; bring its list and its recipients up to date.

    A receipt (``plan.recheck_receipt``): leave out the recipients that
    bounced for good or are sending a burst of mail since it was queued;
    with nobody left, hold it until the earliest burst's cool-down ends, or,
    when every recipient bounced, cancel it and give its items back (they
    are acknowledged again by the receipt planned once an address works).
    """
    rules = ctx.rules
    campaign = rules.campaign
    statuses: dict[int, object] = {}
    renderer: list[Renderer] = []
    bounced: list[frozenset[str]] = []
    bursts: list[list[flood.Burst]] = []

    def check(row: outbox.OutboxRow):
        from . import plan  # here, not in _recheck: deliver builds the check even when nothing is due

        if row.kind == "receipt":
            return check_receipt(row)
        if row.kind != "reminder":
            return None
        try:
            _, school, cycle_text, kind, deadline = row.key.split(":", 4)
            cycle = int(cycle_text)
        except ValueError:
            return None
        if cycle not in statuses:
            statuses[cycle] = _facts_and_status(store, rules, now, cycle)[1]
        status = statuses[cycle]
        reason = plan.still_wanted(status, school, deadline)
        if reason:
            return Cancel(reason)
        if not plan.in_office_hours(now, campaign.reminders, campaign.tz):
            return Defer(plan.next_office_time(now, campaign.reminders, campaign.tz), "outside office hours")
        s = next(x for x in status.schools if x.code == school)
        school_obj = rules.school(school)
        if not bounced:
            bounced.append(suppressed_addresses(store, now))
        to = plan.reachable(school_obj.emails, bounced[0])
        if not to:
            return Cancel("every roster address bounced")
        if plan.reminder_current(s, campaign, row.meta) and set(row.recipients) == set(to):
            return None
        # Something arrived (or the roster changed, or an address bounced) since it was queued: bring it up to date.
        mail = plan.reminder_mail(status, school_obj, s, kind, row.key, bounced[0])
        if not renderer:
            renderer.append(renderer_for(ctx))
        _, subject, raw, _ = _compose(store, renderer[0], mail, now, message_id=row.message_id,
                                      create_thread=False)
        return Replace(raw=raw, recipients=mail.to, subject=subject, meta=mail.meta)

    def check_receipt(row: outbox.OutboxRow):
        from . import plan  # not at the top: an idle poll plans no mail

        if not bounced:
            bounced.append(suppressed_addresses(store, now))
        if not bursts:
            bursts.append(sender_bursts(ctx, store, now))
        decision = plan.recheck_receipt(row.recipients, bounced[0], bursts[0], now)
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


# -- receipts ---------------------------------------------------------------------

def counted_items(store: Store, facts, cycle: int) -> list[plan.CountedItem]:
    """Counted submissions of a cycle (by classification or by an 'assign' correction), with their message."""
    from . import plan  # not at the top: an idle poll plans no mail

    by_item: dict[int, dict] = {}
    for r in facts.receipts:
        if not r.source.startswith("R") or not r.source[1:].isdigit():
            continue  # a paper delivery: nothing to answer
        entry = by_item.setdefault(int(r.source[1:]), {"school": r.school, "doc_types": [], "evidence": r.evidence})
        if r.school == entry["school"] and r.doc_type not in entry["doc_types"]:
            entry["doc_types"].append(r.doc_type)
    if not by_item:
        return []
    rows = store.item_origins(cycle)
    out = []
    for item_id, entry in by_item.items():
        r = rows.get(item_id)
        if r is None:
            continue
        out.append(plan.CountedItem(item_id=item_id, school=entry["school"], doc_types=tuple(entry["doc_types"]),
                                    filename=r.filename, received_at=r.received_at,
                                    from_addr=(r.from_addr or "").lower(), automatic=r.automatic is not None,
                                    first_page=r.first_page, last_page=r.last_page, parts=r.parts,
                                    message_row=r.message_row, sender_verified=r.auth == "pass",
                                    evidence=entry["evidence"]))
    return out


def send_receipts(ctx: Context, store: Store, sender, now: datetime) -> NotifyReport:
    """Queue the receipts that are due, then deliver due mail (if ``sender``)."""
    from . import plan  # not at the top: an idle poll plans no mail

    report = NotifyReport("receipts")
    renderer = renderer_for(ctx)
    sync_bounces(store)
    with store.transaction():
        facts, status = _facts_and_status(store, ctx.rules, now)
        acknowledged = store.acknowledged_items()
        # A bursting address (a mail loop, a flood) gets no receipt until its cool-down ends.
        silent = suppressed_addresses(store, now) | bursting_addresses(ctx, store, now)
        # ``auth`` is "pass" only when the trusted Authentication-Results vouch for the sender's own
        # domain (``AuthVerdict.stored``): an SPF pass for another envelope domain does not.
        for mail in plan.due_receipts(status, ctx.rules, counted_items(store, facts, status.cycle), acknowledged, now,
                                      silent, store.outbox_keys(outbox.SENDER_RECEIPT)):
            if _queue(store, renderer, mail, now) is not None:
                report.queued += 1
                report.planned.append((mail.key, mail.to, ""))
    if sender is not None:
        report.delivery = deliver(ctx, store, sender, now)
    return report


def receipts_after_poll(ctx: Context, store: Store, sender, now: datetime, *, recorded: bool) -> bool:
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
        if sender is not None:
            deliver(ctx, store, sender, now)
        return False
    send_receipts(ctx, store, sender, now)
    batch = timedelta(minutes=ctx.rules.campaign.reminders.receipt_batch_minutes)
    young = [at + batch for at in store.item_times(ctx.rules.campaign.cycle_of(now), after=now - batch)]
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

def remind(ctx: Context, store: Store, sender, now: datetime, dry_run: bool = False) -> NotifyReport:
    """Queue the reminders due at ``now`` (nothing outside office hours), then deliver."""
    from . import plan  # not at the top: an idle poll plans no mail

    report = NotifyReport("reminders", dry_run=dry_run)
    renderer = renderer_for(ctx)
    sync_bounces(store)  # bookkeeping of mail received (as the digest does), so that a dry run is right too
    campaign = ctx.rules.campaign
    if dry_run:
        _, status = _facts_and_status(store, ctx.rules, now)
        due = plan.due_reminders(status, ctx.rules, store.outbox_keys("reminder:"), now,
                                 suppressed_addresses(store, now))
        for mail in due.mails:
            to, subject, text = _preview(store, renderer, mail, now)
            report.planned.append((mail.key, to, subject))
            report.previews.append((to, subject, text))
        report.superseded = len(due.superseded)
        report.skipped = list(due.skipped)
        if not plan.in_office_hours(now, campaign.reminders, campaign.tz):
            report.note = "outside office hours: nothing is due now"
        return report
    with store.transaction():
        _, status = _facts_and_status(store, ctx.rules, now)
        due = plan.due_reminders(status, ctx.rules, store.outbox_keys("reminder:"), now,
                                 suppressed_addresses(store, now))
        for mail in due.mails:
            if _queue(store, renderer, mail, now) is not None:
                report.queued += 1
                report.planned.append((mail.key, mail.to, ""))
        for key, by in due.superseded:
            school = key.split(":")[1]
            store.record_superseded(key, by, "reminder", status.cycle, school, now)
            report.superseded += 1
        report.skipped = list(due.skipped)
    if not plan.in_office_hours(now, campaign.reminders, campaign.tz):
        report.note = "outside office hours: nothing is due now"
    if sender is not None:
        report.delivery = deliver(ctx, store, sender, now)
    return report


# -- bounced addresses ------------------------------------------------------------

def suppressed_addresses(store: Store, now: datetime) -> frozenset[str]:
    """The addresses not to write to at ``now`` (``plan.suppressed_addresses``):
    each permanent bounce believed (a report about the bot's own mail to that
    address, see ``sync_bounces``), against the mail people sent us from the
    same addresses (automatic mail, and mail failing authentication, prove nothing)."""
    from . import plan  # not at the top: an idle poll plans no mail

    bounced = [(b.address, b.received_at) for b in store.believed_bounces(as_of=now)]
    addresses = sorted({a for a, _ in bounced})
    if not addresses:
        return frozenset()
    wrote = [(m.from_addr, m.received_at) for m in store.personal_mail_from(addresses, as_of=now)]
    return plan.suppressed_addresses(bounced, wrote, now)


def sync_bounces(store: Store, read: Callable[[bytes], ParsedMessage] | None = None) -> int:
    """Judge the delivery reports recorded since the last call (``bounces.judge``):
    an address is believed to bounce only when the report names a mail the
    outbox sent to it; any other report is logged and changes nothing.
    ``read`` parses a report again from the archive (for the Message-IDs it
    names, ``ParsedMessage.bounce_refs``; default: the real parser). Returns the number of reports judged."""
    todo = store.unjudged_bounces()
    if todo and read is None:
        from .parse import parse_message  # not at the top: health and status must not load the parser
        read = parse_message
    for report in todo:
        try:
            message = read(store.raw(PendingMessage(report.row, report.sha256, report.message_id,
                                                    report.received_at, 0)))
            refs = message.bounce_refs
            tokens = tuple(t for t in (bounces.verp_token(a) for a in message.to_addrs) if t)
        except Exception as exc:  # noqa: BLE001 - one unreadable report must not stop the others
            log.warning("delivery report %s could not be read again (%s): not believed", report.message_id, exc)
            refs, tokens = (), ()
        verdicts = bounces.judge(report.addresses, refs, store.sent_mail(refs, tokens), tokens)
        store.record_bounce_verdicts(report, verdicts)
        for v in verdicts:
            if v.believed:
                log.info("delivery report %s: %s bounced (%s)", report.message_id, v.address, v.reason)
            else:
                log.warning("delivery report %s ignored for %s: %s", report.message_id, v.address, v.reason)
    return len(todo)


# -- loops and floods ---------------------------------------------------------------

def sender_bursts(ctx: Context, store: Store, now: datetime, extra=(), since: datetime | None = None) -> list[flood.Burst]:
    """The bursts of inbound mail received by ``now`` (``flood.bursts`` with
    the campaign's ``burst_*`` thresholds) still active or, with ``since``,
    ending after it; newest first. Every stored message counts, automatic
    ones too (a loop is made of auto-replies); ``extra``: (address, received
    at) of mail not recorded yet.

    For monitoring (``health``) and the digest: an active burst
    (``Burst.active(now)``) means the bot is not answering that address.
    """
    rem = ctx.rules.campaign.reminders
    horizon = now - timedelta(minutes=rem.burst_minutes + rem.burst_cooldown_minutes)
    if since is not None:
        horizon = min(horizon, since - timedelta(minutes=rem.burst_minutes))
    mail = [(m.from_addr, m.received_at) for m in store.mail_from(since=horizon, as_of=now)]
    mail = [(a, at) for a, at in [*mail, *extra] if at >= horizon]
    found = flood.bursts(mail, now, messages=rem.burst_messages, minutes=rem.burst_minutes,
                         cooldown_minutes=rem.burst_cooldown_minutes)
    return [b for b in found if b.active(now) or (since is not None and b.last_at > since)]


def bursting_addresses(ctx: Context, store: Store, now: datetime, extra=()) -> frozenset[str]:
    """The addresses the bot does not answer at ``now`` because they sent a
    burst of mail (see ``sender_bursts``): no receipts, no command replies."""
    return flood.bursting(sender_bursts(ctx, store, now, extra), now)


# -- digest -----------------------------------------------------------------------

def _digest_marks(store: Store) -> tuple[datetime | None, int, int]:
    since, detail = _digest_mark(store)
    return since, int(detail.get("item", 0)), int(detail.get("correction", 0))


def _digest_mark(store: Store) -> tuple[datetime | None, dict]:
    mark = store.mark("digest")
    if not mark:
        return None, {}
    try:
        detail = json.loads(mark[1] or "{}")
    except ValueError:
        detail = {}
    return mark[0], detail if isinstance(detail, dict) else {}


def _refused_commands(store: Store, now: datetime) -> tuple[tuple[plan.RefusedCommands, ...], int]:
    """Command mail refused since the last digest, and the newest id it covers."""
    from . import plan  # not at the top: an idle poll plans no mail

    last = int(_digest_mark(store)[1].get("command", 0))
    refused, newest = [], last
    for r in store.refused_command_mails(last):
        at = r.received_at
        if at > now:  # a simulation (--now) before the mail arrived
            break
        newest = r.id
        lines = store.command_texts(r.message_id)
        reason, _, detail = r.reason.partition(":")
        refused.append(plan.RefusedCommands(r.from_addr, at, r.subject, reason, detail.strip(), lines))
    return tuple(refused), newest


def _complete_at(store: Store, rules, cycle: int, since: datetime | None, last_item: int,
                 last_corr: int) -> frozenset[str]:
    """The schools complete at the previous digest (``since``), from the
    items and corrections it covered; none before the first digest."""
    if since is None:
        return frozenset()
    items = [i for i in store.items(cycle=cycle, as_of=since) if i.id <= last_item]
    corrections = [c for c in store.corrections(cycle, as_of=since) if c.id <= last_corr]
    facts = apply_corrections(items, corrections, rules.campaign, cycle, since)
    before = compute_status(facts, rules.campaign, rules.schools, cycle, since)
    return frozenset(s.code for s in before.schools if s.complete)


def digest_inputs(ctx: Context, store: Store, status, now: datetime) -> tuple[plan.DigestInputs, int, int]:
    """What the digest shows beyond the status, and the newest item/correction ids it covers."""
    from . import plan  # not at the top: an idle poll plans no mail

    cycle = status.cycle
    since, last_item, last_corr = _digest_marks(store)
    # Only what had happened by ``now`` (a --now simulation sees no later mail): an item is new if the
    # previous digest did not cover it (a higher id), or if it arrived after that digest's instant.
    all_items = store.items(cycle=cycle, as_of=now)
    items = [i for i in all_items if i.id > last_item or (since is not None and i.received_at > since)]
    changes = tuple(plan.Change(i.ref, i.school, i.doc_types, i.filename, i.from_addr, i.received_at, i.decision)
                    for i in items if i.decision in ("counted", "review"))
    all_corrections = store.corrections(cycle, as_of=now)
    corrections = tuple(c for c in all_corrections if c.id > last_corr or (since is not None and c.at > since))
    max_item = store.newest_item_id()
    max_corr = store.newest_correction_id()

    opens = ctx.rules.campaign.opens(cycle)
    suppressed = suppressed_addresses(store, now)
    bounces = tuple(b for b in _bounces_by(store, now) if b.last_at >= opens or b.address in suppressed)
    known = allowed_addresses(ctx)
    unknown: dict[str, list] = {}
    for r in store.personal_mail_done(since=opens, until=now):
        at = r.received_at
        address = r.from_addr.lower()
        if address in known:
            continue
        entry = unknown.setdefault(address, [0, at, r.subject])
        entry[0] += 1
        if at >= entry[1]:
            entry[1], entry[2] = at, r.subject
    # A forwarder whose documents were counted for a school is named with that school.
    facts = apply_corrections(all_items, all_corrections, ctx.rules.campaign, cycle, now)
    counted_for: dict[str, list[str]] = {}
    for c in counted_items(store, facts, cycle):
        if c.school not in counted_for.setdefault(c.from_addr, []):
            counted_for[c.from_addr].append(c.school)
    unknown_senders = tuple(sorted((plan.UnknownSender(a, n, at, subj, tuple(counted_for.get(a, ())))
                                    for a, (n, at, subj) in unknown.items()),
                                   key=lambda u: u.last_at, reverse=True))
    problems = tuple(plan.OutboxProblem(r.id, r.kind, r.school, r.status, r.subject, r.last_error or "", r.attempts)
                     for r in store.outbox_rows(("failed",), limit=200)
                     if r.cycle == cycle and r.created_at <= now)
    waiting = store.outbox_waiting()
    refused, _ = _refused_commands(store, now)
    quarantined = tuple(plan.Quarantined(q["from_addr"] or "", q["subject"] or "", datetime.fromisoformat(q["received_at"]),
                                         q["last_error"] or "", q["message_id"], q["ref"])
                        for q in store.quarantined(as_of=now))  # dismissed ones are left out
    inputs = plan.DigestInputs(changes=changes, corrections=corrections, bounces=bounces,
                               unknown_senders=unknown_senders, outbox_problems=problems, outbox_waiting=waiting,
                               since=since, refused_commands=refused, quarantined=quarantined, suppressed=suppressed,
                               complete_before=_complete_at(store, ctx.rules, cycle, since, last_item, last_corr),
                               bursts=tuple(sender_bursts(ctx, store, now, since=since or now - timedelta(days=1))))
    return inputs, max_item, max_corr


def _bounces_by(store: Store, now: datetime) -> list[plan.Bounce]:
    """The permanent bounces believed by ``now``, one per address (newest
    first), each with the first mail a person sent from the address after
    its last bounce, if any (then the address is used again)."""
    from . import plan  # not at the top: an idle poll plans no mail

    reports: dict[str, list] = {}  # address -> [first, last, count, detail]
    for b in store.believed_bounces(as_of=now):
        entry = reports.setdefault(b.address, [b.received_at, b.received_at, 0, ""])
        entry[0], entry[2] = min(entry[0], b.received_at), entry[2] + 1
        if b.received_at >= entry[1]:
            entry[1], entry[3] = b.received_at, b.subject[:200]
    if not reports:
        return []
    wrote: dict[str, datetime] = {}
    for r in store.personal_mail_from(sorted(reports), as_of=now):
        address, at = r.from_addr.lower(), r.received_at
        if reports[address][1] < at and (address not in wrote or at < wrote[address]):
            wrote[address] = at
    out = [plan.Bounce(a, first, last, n, detail, wrote.get(a)) for a, (first, last, n, detail) in reports.items()]
    return sorted(out, key=lambda b: b.last_at, reverse=True)


def build_digest(ctx: Context, renderer: Renderer, status, inputs: plan.DigestInputs) -> tuple[PlannedMail, list[Attachment]]:
    """The digest mail, its lists shortened until the HTML fits ``HTML_BUDGET``."""
    from . import plan
    from .render import XLSX_TYPE, Attachment

    limits = plan.digest_limits(ctx.config.digest_entries)
    for _ in range(12):
        mail = plan.digest_mail(status, ctx.rules, inputs, ctx.config.coordinator_emails, limits)
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


def digest(ctx: Context, store: Store, sender, now: datetime, dry_run: bool = False) -> NotifyReport:
    """Queue today's digest to the coordinator (once per local day), then deliver."""
    from . import plan  # not at the top: an idle poll plans no mail

    report = NotifyReport("digest", dry_run=dry_run)
    renderer = renderer_for(ctx)
    sync_bounces(store)  # bookkeeping of mail received, so that a dry run shows the bounces too
    if dry_run:
        _, status = _facts_and_status(store, ctx.rules, now)
        inputs, _, _ = digest_inputs(ctx, store, status, now)
        mail, attachments = build_digest(ctx, renderer, status, inputs)
        to, subject, text = _preview(store, renderer, mail, now, attachments)
        report.planned.append((mail.key, to, subject))
        report.previews.append((to, subject, text))
        if store.outbox_has_key(mail.key):
            report.note = "today's digest was already queued"
        return report
    with store.transaction():
        _, status = _facts_and_status(store, ctx.rules, now)
        key = plan.digest_key(status.cycle, now, status.campaign.tz)
        if store.outbox_has_key(key):
            report.note = "today's digest was already queued"
        else:
            inputs, max_item, max_corr = digest_inputs(ctx, store, status, now)
            mail, attachments = build_digest(ctx, renderer, status, inputs)
            if _queue(store, renderer, mail, now, attachments) is not None:
                report.queued += 1
                report.planned.append((mail.key, mail.to, ""))
                # The mark moves in the same transaction: "changes since the last digest" never skips or repeats.
                _, max_command = _refused_commands(store, now)
                store.set_mark("digest", now, json.dumps({"item": max_item, "correction": max_corr,
                                                          "command": max_command}))
    if sender is not None:
        report.delivery = deliver(ctx, store, sender, now)
    return report


# -- for the worker -----------------------------------------------------------------

def tasks(ctx: Context, sender_factory=None, environ: dict | None = None) -> dict[str, Callable[[datetime], object]]:
    """Jobs for ``service.run(..., tasks=notify.tasks(ctx))``: each opens the
    state store, does its work at ``now`` and returns a report.

    - ``outbox`` (every minute): receipts that became due, then due mail;
    - ``remind`` (twice an hour): reminders decide themselves what is due;
    - ``digest`` (at schedule.digest_at): once per local day.
    """
    from .send import make_sender  # not at the top: SMTP code loads when the worker sends

    factory = sender_factory or (lambda: make_sender(ctx.config, environ))

    def job(fn):
        def run(now: datetime):
            with Store.open(ctx.config.paths.state) as store:
                return fn(store, factory(), now)
        return run

    return {
        "outbox": job(lambda store, sender, now: send_receipts(ctx, store, sender, now)),
        "remind": job(lambda store, sender, now: remind(ctx, store, sender, now)),
        "digest": job(lambda store, sender, now: digest(ctx, store, sender, now)),
    }


__all__ = ["send_receipts", "remind", "digest", "deliver", "tasks", "sync_bounces", "suppressed_addresses",
           "allowed_addresses", "NotifyReport", "counted_items", "digest_inputs", "build_digest", "HTML_BUDGET",
           "sender_bursts", "bursting_addresses"]
