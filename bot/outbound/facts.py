"""What outgoing mail is decided on, read from the store: the counted
items, the addresses not to write to (bounced, bursting), the facts the
digest shows beyond the status. Every function takes ``now``: what happened
after it has not happened yet (a ``--now`` simulation).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from .. import flood
from ..context import Context
from ..record import frozen
from ..store import Store

# The planning modules are imported by the functions that plan: a poll that finds nothing to do loads none.
if TYPE_CHECKING:  # annotations only
    from ..mail_model import ParsedMessage
    from . import digest
    from .receipts import CountedItem

log = logging.getLogger("bot.notify")


def allowed_addresses(ctx: Context) -> set[str]:
    """Who the bot may write to: the roster and the coordinators."""
    return {e.lower() for s in ctx.rules.schools for e in s.emails} | {e.lower() for e in ctx.config.coordinator_emails}


def facts_and_status(store: Store, rules, now: datetime, cycle: int | None = None):
    """The facts of ``cycle`` (default: the cycle of ``now``) after the corrections, and the status they give at ``now``."""
    from ..status import apply_corrections, compute_status  # not at the top: health reads the bursts only (no status, no bounce judging)

    campaign = rules.campaign
    cycle = campaign.cycle_of(now) if cycle is None else cycle
    facts = apply_corrections(store.items(cycle=cycle, as_of=now), store.corrections(cycle, as_of=now), campaign,
                              cycle, now)
    return facts, compute_status(facts, campaign, rules.schools, cycle, now)


# -- receipts ---------------------------------------------------------------------

def counted_items(store: Store, facts, cycle: int) -> list[CountedItem]:
    """Counted submissions of a cycle (by classification or by an 'assign' correction), with their message."""
    from .receipts import CountedItem  # not at the top: an idle poll plans no mail

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
        out.append(CountedItem(item_id=item_id, school=entry["school"], doc_types=tuple(entry["doc_types"]),
                                    filename=r.filename, received_at=r.received_at,
                                    from_addr=(r.from_addr or "").lower(), automatic=r.automatic is not None,
                                    first_page=r.first_page, last_page=r.last_page, parts=r.parts,
                                    message_row=r.message_row, sender_verified=r.auth == "pass",
                                    evidence=entry["evidence"]))
    return out


# -- bounced addresses ------------------------------------------------------------

def suppressed_addresses(store: Store, now: datetime) -> frozenset[str]:
    """The addresses not to write to at ``now`` (``common.suppressed_addresses``):
    each permanent bounce believed (a report about the bot's own mail to that
    address, see ``sync_bounces``), against the mail people sent us from the
    same addresses (automatic mail, and mail failing authentication, prove nothing)."""
    from . import common  # not at the top: an idle poll plans no mail

    bounced = [(b.address, b.received_at) for b in store.believed_bounces(as_of=now)]
    addresses = sorted({a for a, _ in bounced})
    if not addresses:
        return frozenset()
    wrote = [(m.from_addr, m.received_at) for m in store.personal_mail_from(addresses, as_of=now)]
    return common.suppressed_addresses(bounced, wrote, now)


def sync_bounces(store: Store, read: Callable[[bytes], ParsedMessage] | None = None) -> int:
    """Judge the delivery reports recorded since the last call (``bounces.judge``):
    an address is believed to bounce only when the report names a mail the
    outbox sent to it; any other report is logged and changes nothing.
    ``read`` parses a report again from the archive (for the Message-IDs it
    names, ``ParsedMessage.bounce_refs``; default: the real parser). Returns the number of reports judged."""
    from .. import bounces  # not at the top: health reads the bursts only (no status, no bounce judging)
    from ..store import PendingMessage

    todo = store.unjudged_bounces()
    if todo and read is None:
        from ..parse import parse_message  # not at the top: health and status must not load the parser
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

@frozen
class DigestMark:
    """What the "digest" mark remembers of the last digest: when it was made (None: never), and the
    newest item, correction and command mail it covered (0: none, or a mark that cannot be read)."""

    at: datetime | None = None
    item: int = 0
    correction: int = 0
    command: int = 0

    def detail(self) -> str:
        """The mark's detail as it is stored (``Store.set_mark``)."""
        return json.dumps({"item": self.item, "correction": self.correction, "command": self.command})


def digest_mark(store: Store) -> DigestMark:
    """The mark of the last digest."""
    mark = store.mark("digest")
    if not mark:
        return DigestMark()
    try:
        detail = json.loads(mark[1] or "{}")
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    return DigestMark(mark[0], int(detail.get("item", 0)), int(detail.get("correction", 0)),
                      int(detail.get("command", 0)))


def refused_commands(store: Store, now: datetime) -> tuple[tuple[digest.RefusedCommands, ...], int]:
    """Command mail refused since the last digest, and the newest id it covers (the digest's mark keeps it)."""
    from . import digest  # not at the top: an idle poll plans no mail

    last = digest_mark(store).command
    refused, newest = [], last
    for r in store.refused_command_mails(last):
        at = r.received_at
        if at > now:  # a simulation (--now) before the mail arrived
            break
        newest = r.id
        lines = store.command_texts(r.message_id)
        reason, _, detail = r.reason.partition(":")
        refused.append(digest.RefusedCommands(r.from_addr, at, r.subject, reason, detail.strip(), lines))
    return tuple(refused), newest


def _complete_at(store: Store, rules, cycle: int, since: datetime | None, last_item: int,
                 last_corr: int) -> frozenset[str]:
    """The schools complete at the previous digest (``since``), from the
    items and corrections it covered; none before the first digest."""
    from ..status import apply_corrections, compute_status  # not at the top: health reads the bursts only (no status, no bounce judging)

    if since is None:
        return frozenset()
    items = [i for i in store.items(cycle=cycle, as_of=since) if i.id <= last_item]
    corrections = [c for c in store.corrections(cycle, as_of=since) if c.id <= last_corr]
    facts = apply_corrections(items, corrections, rules.campaign, cycle, since)
    before = compute_status(facts, rules.campaign, rules.schools, cycle, since)
    return frozenset(s.code for s in before.schools if s.complete)


def digest_inputs(ctx: Context, store: Store, status, now: datetime) -> tuple[digest.DigestInputs, int, int]:
    """What the digest shows beyond the status, and the newest item/correction ids it covers."""
    from . import digest  # not at the top: an idle poll plans no mail
    from ..status import apply_corrections

    cycle = status.cycle
    mark = digest_mark(store)
    since, last_item, last_corr = mark.at, mark.item, mark.correction
    # Only what had happened by ``now`` (a --now simulation sees no later mail): an item is new if the
    # previous digest did not cover it (a higher id), or if it arrived after that digest's instant.
    all_items = store.items(cycle=cycle, as_of=now)
    items = [i for i in all_items if i.id > last_item or (since is not None and i.received_at > since)]
    changes = tuple(digest.Change(i.ref, i.school, i.doc_types, i.filename, i.from_addr, i.received_at, i.decision)
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
    unknown_senders = tuple(sorted((digest.UnknownSender(a, n, at, subj, tuple(counted_for.get(a, ())))
                                    for a, (n, at, subj) in unknown.items()),
                                   key=lambda u: u.last_at, reverse=True))
    problems = tuple(digest.OutboxProblem(r.id, r.kind, r.school, r.status, r.subject, r.last_error or "", r.attempts)
                     for r in store.outbox_rows(("failed",), limit=200)
                     if r.cycle == cycle and r.created_at <= now)
    waiting = store.outbox_waiting()
    refused, _ = refused_commands(store, now)
    quarantined = tuple(digest.Quarantined(q["from_addr"] or "", q["subject"] or "", datetime.fromisoformat(q["received_at"]),
                                         q["last_error"] or "", q["message_id"], q["ref"])
                        for q in store.quarantined(as_of=now))  # dismissed ones are left out
    inputs = digest.DigestInputs(changes=changes, corrections=corrections, bounces=bounces,
                               unknown_senders=unknown_senders, outbox_problems=problems, outbox_waiting=waiting,
                               since=since, refused_commands=refused, quarantined=quarantined, suppressed=suppressed,
                               complete_before=_complete_at(store, ctx.rules, cycle, since, last_item, last_corr),
                               bursts=tuple(sender_bursts(ctx, store, now, since=since or now - timedelta(days=1))))
    return inputs, max_item, max_corr


def _bounces_by(store: Store, now: datetime) -> list[digest.Bounce]:
    """The permanent bounces believed by ``now``, one per address (newest
    first), each with the first mail a person sent from the address after
    its last bounce, if any (then the address is used again)."""
    from . import digest  # not at the top: an idle poll plans no mail

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
    out = [digest.Bounce(a, first, last, n, detail, wrote.get(a)) for a, (first, last, n, detail) in reports.items()]
    return sorted(out, key=lambda b: b.last_at, reverse=True)


__all__ = ["allowed_addresses", "facts_and_status", "counted_items", "suppressed_addresses", "sync_bounces",
           "sender_bursts", "bursting_addresses", "DigestMark", "digest_mark", "refused_commands", "digest_inputs"]
