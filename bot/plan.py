"""What mail is due: pure functions of (status, rules, send history, now).

Nothing here reads the clock, the database or the network. The shell
(``bot/notify.py``) reads the facts, calls these functions, and queues what
they return in the same transaction as it read the history.

- ``due_reminders``: one reminder per school with missing required
  documents, at the slots of the campaign's reminder rules (default 7, 3
  and 1 days before the effective deadline, then every 3 days after it, at
  most 3 times), only in office hours. A slot missed (bot down, weekend) is
  sent once: when several are due together only the latest is sent and the
  earlier ones are returned as superseded.
- ``due_receipts``: one receipt ("biên nhận") per school covering every
  counted, not yet acknowledged item, once the school's newest item is
  ``receipt_batch_minutes`` old (several emails in a few minutes give one
  receipt), to the school's roster addresses only; and, for a mail from
  outside the roster whose sender the trusted Authentication-Results
  vouch for, a receipt to that sender listing only what that mail brought.
- ``recheck_receipt``: a queued receipt decided again just before it is
  sent: bounced and bursting recipients left out; held while every
  recipient is in a burst, cancelled when every one bounced.
- ``suppressed_addresses``: the addresses not to write to, because their
  delivery failed permanently and no mail came from them since; reminders
  and receipts leave them out, a school with no address left gets nothing.
- ``digest_content``: the coordinator's daily digest, as plain data.

Every planned mail carries an idempotency key; the outbox refuses a key it
already holds, so a decision is never carried out twice.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Iterable, Iterator, Sequence

from .model import ReasonCode
from .official.verdict import Evidence
from .officialcopy import json_columns
from .rules.model import Campaign, Reminders, Rules, School
from .status import (EXTENDED, LATE, MISSING, OFFICIAL_DOUBT, ON_TIME, PENDING, RECEIVED, REVIEW, CampaignStatus,
                     SchoolStatus)

KINDS = ("receipt", "reminder", "digest", "report")


@dataclass(frozen=True, eq=False)
class PlannedMail:
    """A mail the bot has decided to send; ``context`` feeds the templates.

    ``key`` is the idempotency key; ``school`` is set for mail threaded per
    school and cycle. ``item_ids``: the items a receipt acknowledges.
    ``senders``: the sender outside the roster a receipt goes to, because the
    trusted Authentication-Results vouch for it (``sender_receipt_mail``).
    """

    key: str
    kind: str
    template: str
    cycle: int
    to: tuple[str, ...]
    context: dict
    school: str | None = None
    item_ids: tuple[int, ...] = ()
    senders: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)


# -- office hours and reminder slots ------------------------------------------

def in_office_hours(now: datetime, reminders: Reminders, tz) -> bool:
    local = now.astimezone(tz)
    return (local.weekday() in reminders.office_weekdays
            and reminders.office_start <= local.time().replace(tzinfo=None) < reminders.office_end)


def next_office_time(now: datetime, reminders: Reminders, tz) -> datetime:
    """``now`` if it is in office hours, else the next opening of the office."""
    if in_office_hours(now, reminders, tz):
        return now
    local = now.astimezone(tz)
    day = local.date()
    if local.time().replace(tzinfo=None) >= reminders.office_start:
        day += timedelta(days=1)
    for _ in range(8):
        if day.weekday() in reminders.office_weekdays:
            return datetime.combine(day, reminders.office_start, tzinfo=tz)
        day += timedelta(days=1)
    raise ValueError("no office day in the week")  # rules validation forbids an empty list


# -- bounced addresses ---------------------------------------------------------

def suppressed_addresses(bounced: Iterable[tuple[str, datetime]], wrote: Iterable[tuple[str, datetime]],
                         now: datetime) -> frozenset[str]:
    """The addresses the bot must not write to at ``now`` (lower-case).

    ``bounced``: (address, when) of each permanent delivery failure reported
    to us; ``wrote``: (address, when) of each mail a person sent us from an
    address. An address is suppressed from its newest bounce until a mail
    from it arrives after that bounce (its mailbox works again). Events
    after ``now`` have not happened yet.
    """
    last_bounce, last_mail = _latest(bounced, now), _latest(wrote, now)
    return frozenset(a for a, at in last_bounce.items() if last_mail.get(a, at) <= at)


def _latest(events: Iterable[tuple[str, datetime]], now: datetime) -> dict[str, datetime]:
    latest: dict[str, datetime] = {}
    for address, at in events:
        address = address.strip().lower()
        if at <= now and (address not in latest or at > latest[address]):
            latest[address] = at
    return latest


def reachable(addresses: Iterable[str], suppressed: Iterable[str] = ()) -> tuple[str, ...]:
    """``addresses`` in order, without the suppressed ones."""
    skip = frozenset(suppressed)
    return tuple(a for a in addresses if a.lower() not in skip)


@dataclass(frozen=True)
class Slot:
    kind: str  # before-7, before-3, before-1, after-1, ...
    at: datetime  # from when it is due (then only in office hours)
    after: bool


def reminder_slots(deadline: datetime, reminders: Reminders, tz) -> tuple[Slot, ...]:
    """The reminder slots for an effective deadline, in time order.

    "N days before" is the local calendar day N days before the deadline's
    day, from the office's opening; "after" slots are every
    ``after_every_days`` days after the deadline's day.
    """
    day = deadline.astimezone(tz).date()
    start = reminders.office_start
    slots = [Slot(f"before-{n}", datetime.combine(day - timedelta(days=n), start, tzinfo=tz), False)
             for n in sorted(set(reminders.before_days), reverse=True)]
    slots += [Slot(f"after-{k}", datetime.combine(day + timedelta(days=k * reminders.after_every_days), start,
                                                  tzinfo=tz), True)
              for k in range(1, reminders.after_max + 1)]
    return tuple(sorted(slots, key=lambda s: s.at))


def reminder_key(school: str, cycle: int, kind: str, deadline: datetime, tz) -> str:
    return f"reminder:{school}:{cycle}:{kind}:{deadline.astimezone(tz).isoformat()}"


@dataclass(frozen=True)
class ReminderPlan:
    mails: tuple[PlannedMail, ...]
    superseded: tuple[tuple[str, str], ...]  # (key, the key that replaced it)
    skipped: tuple[tuple[str, str], ...]  # (school code, why no reminder although one was due)


def due_reminders(status: CampaignStatus, rules: Rules, sent_keys: Iterable[str], now: datetime,
                  suppressed: Iterable[str] = ()) -> ReminderPlan:
    """The reminders due at ``now``.

    ``sent_keys`` holds every reminder key the outbox already knows
    (queued, sent, failed, cancelled or superseded): each is decided once.
    Outside office hours nothing is due; the next in-hours run sends it.
    ``suppressed`` addresses (see ``suppressed_addresses``) are left out; a
    school with none left is skipped, its slot still due once one works again.
    """
    campaign = status.campaign
    tz, rem = campaign.tz, campaign.reminders
    sent, suppressed = set(sent_keys), frozenset(suppressed)
    if not in_office_hours(now, rem, tz):
        return ReminderPlan((), (), ())
    mails, superseded, skipped = [], [], []
    for school_status in status.schools:
        if _reason_not_to_remind(school_status, campaign) is not None:
            continue
        slot = _due_slot(school_status, campaign, status.cycle, sent, now)
        if slot is None:
            continue
        kind, older = slot
        key = reminder_key(school_status.code, status.cycle, kind, school_status.deadline, tz)
        school = rules.school(school_status.code)
        if not school.emails:
            skipped.append((school.code, "no address in the roster"))
            continue
        if not reachable(school.emails, suppressed):
            skipped.append((school.code, "every roster address bounced"))
            continue
        mails.append(reminder_mail(status, school, school_status, kind, key, suppressed))
        superseded += [(reminder_key(school.code, status.cycle, k, school_status.deadline, tz), key) for k in older]
    return ReminderPlan(tuple(mails), tuple(superseded), tuple(skipped))


def _due_slot(s: SchoolStatus, campaign: Campaign, cycle: int, sent: set[str], now: datetime):
    """(kind to send, [older due kinds it supersedes]) or None."""
    tz = campaign.tz
    due = []
    for slot in reminder_slots(s.deadline, campaign.reminders, tz):
        if slot.at > now:
            break
        if slot.after != (now > s.deadline):
            continue  # before-slots stop at the deadline; after-slots start after it
        if reminder_key(s.code, cycle, slot.kind, s.deadline, tz) in sent:
            continue
        due.append(slot.kind)
    if not due:
        return None
    return due[-1], due[:-1]


def _reason_not_to_remind(s: SchoolStatus, campaign: Campaign) -> str | None:
    if s.exempt is not None:
        return "exempt"
    if s.complete:
        return "complete"
    if not s.missing_required(campaign.required) and not not_official(s, campaign):
        # (a school whose only gap is an official copy is still reminded: it must send one)
        return "the rest waits for the coordinator's review"
    if s.untyped_review:
        # A file arrived whose document type is not known yet (an unreadable scan): it may be
        # the "missing" document. The school is not chased until the coordinator decides.
        return "a file of the school waits for the coordinator's review"
    return None


def still_wanted(status: CampaignStatus, school: str, key_deadline: str) -> str | None:
    """Re-decide a queued reminder just before it is sent: None if it should
    still go, else why not (the school sent everything, became exempt, its
    deadline changed)."""
    s = next((x for x in status.schools if x.code == school), None)
    if s is None:
        return "the school is no longer in the roster"
    reason = _reason_not_to_remind(s, status.campaign)
    if reason:
        return reason
    if s.deadline.astimezone(status.campaign.tz).isoformat() != key_deadline:
        return "the school's deadline changed"
    return None


def reminder_current(s: SchoolStatus, campaign: Campaign, meta: dict) -> bool:
    """Whether a queued reminder (its ``meta``) still names what ``s`` lacks:
    the same missing documents and the same documents without an official copy."""
    return (s.missing_required(campaign.required) == meta.get("missing")
            and not_official(s, campaign) == meta.get("not_official", []))


def reminder_mail(status: CampaignStatus, school: School, s: SchoolStatus, kind: str, key: str,
                  suppressed: Iterable[str] = ()) -> PlannedMail:
    """The reminder to ``school``'s roster addresses, but the ``suppressed`` ones."""
    campaign = status.campaign
    tz = campaign.tz
    missing = s.missing_required(campaign.required)
    unofficial = not_official(s, campaign)
    docs = [_doc_line(campaign, s, d.id) for d in campaign.doc_types]
    now_local = status.now.astimezone(tz)
    context = {
        "kind": kind,
        "after": kind.startswith("after-"),
        "school": _school_dict(school),
        "deadline": s.deadline,
        "extended": s.extended,
        "days_left": (s.deadline.astimezone(tz).date() - now_local.date()).days,
        "missing": [_doc_name(campaign, d) for d in missing],
        "missing_ids": missing,
        # received, but no copy is the official paper yet: "còn thiếu bản chính thức: Tờ trình"
        "not_official": [_doc_name(campaign, d) for d in unofficial],
        "not_official_notes": [{"doc_name": _doc_name(campaign, d),
                                "note": official_note(False, s.documents[d].evidence)
                                or OfficialNote(NOT_OFFICIAL, asks=("signed_or_stamped",))}
                               for d in unofficial],
        "received": [d for d in docs if d["status"] in RECEIVED and d["doc_id"] not in unofficial],
        "in_review": [d for d in docs if d["status"] == REVIEW],
        "optional_missing": [_doc_name(campaign, d) for d in campaign.optional
                             if s.documents[d].status in (PENDING, MISSING, EXTENDED)],
        **campaign_context(status),
    }
    return PlannedMail(key=key, kind="reminder", template="reminder", cycle=status.cycle,
                       to=reachable(school.emails, suppressed), context=context, school=school.code,
                       meta={"missing": missing, "not_official": unofficial})


# -- official copies (issue 16) -------------------------------------------------

OFFICIAL, NOT_OFFICIAL, UNDECIDED = "official", "not_official", "undecided"
# The ask after a problem ("bản Word chưa ký: đề nghị gửi ..."): the receipt asks once, from ``missing``.
_ASK_SUFFIX = re.compile(r":\s*đề nghị .*$")


@dataclass(frozen=True)
class OfficialNote:
    """What a receipt says of one copy of a document: is it the official paper?

    ``state`` is the document's (any copy counts): ``OFFICIAL`` (nothing
    asked), ``NOT_OFFICIAL`` (this copy's ``problems``, then one ask for
    ``asks``) or ``UNDECIDED`` (the office is looking at a copy: no ask;
    ``other``: at another copy than this one). ``seen``: what this copy
    shows ("đã ký số bởi ..."). ``asks``: the requirement values
    (``Requirement.value``) this copy does not meet, in the policy's order;
    the wording of each is ``ASK`` in ``templates/_official_wording.txt``.
    ``by_coordinator``: not official although the bot found nothing
    definitely missing (the coordinator ruled it).
    """

    state: str
    seen: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    by_coordinator: bool = False
    other: bool = False


def official_note(official: bool | None, evidence) -> OfficialNote | None:
    """The receipt's note for one copy of a document.

    ``official``: the document's verdict (``DocStatus.official``: True when
    any copy is official, after the coordinator's decisions); ``evidence``:
    this copy's ``bot.official.Evidence`` (with the coordinator's decision
    on it), or None when it was not checked (recorded before the checks
    existed): then nothing is said (None).
    """
    if evidence is None:
        return None
    seen = tuple(evidence.seen)
    if official is True:
        return OfficialNote(OFFICIAL, seen)
    if official is None:
        return OfficialNote(UNDECIDED, seen, other=evidence.official is not None)
    problems = tuple(dict.fromkeys(p for p in (_ASK_SUFFIX.sub("", x).strip() for x in evidence.problems) if p))
    asks = tuple(dict.fromkeys(r.value for r in evidence.missing))
    # Nothing definite missing: the coordinator ruled it; ask for the official paper itself.
    return OfficialNote(NOT_OFFICIAL, seen, problems, asks or ("signed_or_stamped",), by_coordinator=not asks)


def not_official(s: SchoolStatus, campaign: Campaign) -> list[str]:
    """The required documents received whose copies are all definitely not
    official, where the rules require an official copy (a copy the
    coordinator has still to judge is not chased: it waits for them)."""
    return [d for d in campaign.required
            if s.documents[d].status in RECEIVED and s.documents[d].official is False
            and not campaign.doc_type(d).official.empty]


# -- receipts ---------------------------------------------------------------

@dataclass(frozen=True)
class CountedItem:
    """A counted document part, with what a receipt needs of its message."""

    item_id: int
    school: str
    doc_types: tuple[str, ...]
    filename: str
    received_at: datetime
    from_addr: str
    automatic: bool = False
    # The pages of the file this part holds, and how many documents the file
    # held (a combined PDF split into several): the receipt then names the pages.
    first_page: int = 1
    last_page: int = 1
    parts: int = 1
    # The message it came in, and whether the trusted Authentication-Results
    # passed for that message's sender (``ParsedMessage.auth == "pass"``): only
    # then may a sender outside the roster get a receipt.
    message_row: int = 0
    sender_verified: bool = False
    # Whether this copy is the official paper (issue 16); None: not checked.
    evidence: Evidence | None = None


def sender_receipt_key(school: str, cycle: int, message_row: int) -> str:
    """One receipt to the sender of one mail from outside the roster, per school it brought documents for."""
    return f"receipt-to-sender:{school}:{cycle}:{message_row}"


def receipt_key(school: str, cycle: int, item_ids: Sequence[int]) -> str:
    ids = ",".join(str(i) for i in sorted(item_ids))
    if len(ids) > 120:
        ids = "sha1-" + hashlib.sha1(ids.encode()).hexdigest()
    return f"receipt:{school}:{cycle}:{ids}"


def due_receipts(status: CampaignStatus, rules: Rules, counted: Iterable[CountedItem], acknowledged: Iterable[int],
                 now: datetime, suppressed: Iterable[str] = (), known_keys: Iterable[str] = ()) -> tuple[PlannedMail, ...]:
    """The receipts due at ``now``.

    One receipt per school whose unacknowledged counted items are all at
    least ``receipt_batch_minutes`` old, to the school's roster addresses
    only (it lists the school's status: what is still missing). Items from
    automatic mail (auto-replies, bounces, lists) are never answered.
    ``suppressed`` addresses are left out; with no roster address left the
    items wait, unacknowledged, until one works again.

    A mail from outside the roster (a staff member's own mailbox, someone
    forwarding) gets its own receipt only when the trusted
    Authentication-Results passed for its sender (``sender_verified``): it
    lists what that mail brought and nothing else of the school. Its key is
    per mail (``sender_receipt_key``); ``known_keys`` holds the ones the
    outbox already decided, so each is planned once.
    """
    campaign = status.campaign
    batch = timedelta(minutes=campaign.reminders.receipt_batch_minutes)
    done, suppressed, known = set(acknowledged), frozenset(suppressed), frozenset(known_keys)
    by_school: dict[str, list[CountedItem]] = {}
    for item in counted:
        if item.item_id in done or item.automatic:
            continue
        by_school.setdefault(item.school, []).append(item)
    statuses = {s.code: s for s in status.schools}
    mails = []
    for code, items in by_school.items():
        if code not in statuses or now - max(i.received_at for i in items) < batch:
            continue
        school = rules.school(code)
        items.sort(key=lambda i: (i.received_at, i.item_id))
        if reachable(school.emails, suppressed):
            mails.append(receipt_mail(status, school, statuses[code], items, suppressed))
        roster = {e.lower() for e in school.emails}
        by_mail: dict[int, list[CountedItem]] = {}
        for i in items:
            sender = i.from_addr.lower()
            if sender and sender not in roster and sender not in suppressed and i.sender_verified:
                by_mail.setdefault(i.message_row, []).append(i)
        for row, brought in by_mail.items():
            key = sender_receipt_key(code, status.cycle, row)
            if key not in known:
                mails.append(sender_receipt_mail(status, school, brought, key))
    return tuple(mails)

def _receipt_lines(campaign, items: Sequence[CountedItem]) -> Iterator[tuple[CountedItem, str, dict]]:
    """(item, document type, the receipt line of what the item brought) for
    every known document type of every item, in order."""
    for item in items:
        for doc_id in item.doc_types:
            try:
                name = campaign.doc_type(doc_id).name
            except KeyError:
                continue
            yield item, doc_id, {"doc_id": doc_id, "doc_name": name, "filename": item.filename,
                                 "pages": item.parts > 1, "first_page": item.first_page,
                                 "last_page": item.last_page, "received_at": item.received_at}


def sender_receipt_mail(status: CampaignStatus, school: School, items: Sequence[CountedItem], key: str) -> PlannedMail:
    """The receipt to the sender (outside the roster) of one mail: what that
    mail brought for ``school``, nothing of the school's other submissions,
    its status or what it still misses."""
    lines = [line for _, _, line in _receipt_lines(status.campaign, items)]
    sender = items[0].from_addr.lower()
    context = {"school": _school_dict(school), "lines": lines, "sender": sender, **campaign_context(status)}
    # ``school`` is kept for the outbox's bookkeeping; meta "sender" keeps the mail out of the school's thread.
    return PlannedMail(key=key, kind="receipt", template="receipt_sender", cycle=status.cycle, to=(sender,),
                       context=context, school=school.code, senders=(sender,),
                       meta={"sender": sender, "message_row": items[0].message_row})


def receipt_mail(status: CampaignStatus, school: School, s: SchoolStatus, items: Sequence[CountedItem],
                 suppressed: Iterable[str] = ()) -> PlannedMail:
    """The receipt for ``items`` to the school's roster addresses, but the
    ``suppressed`` ones (a sender outside the roster gets its own, ``sender_receipt_mail``)."""
    campaign = status.campaign
    lines = []
    for item, doc_id, line in _receipt_lines(campaign, items):
        doc = s.documents.get(doc_id)
        first = doc.received_at if doc is not None else None
        # The first counted copy decides on-time/late; a later version does not change it.
        lines.append({**line,
                      "status": doc.status if doc is not None and doc.status in RECEIVED else (
                          LATE if item.received_at > s.deadline + campaign.grace else ON_TIME),
                      "later_version": first is not None and first < item.received_at, "first_received_at": first,
                      # what this copy shows, and whether the document has its official paper (any copy counts)
                      "official": official_note(doc.official, item.evidence)
                      if doc is not None and doc.status in RECEIVED else None})
    missing = s.missing_required(campaign.required)
    docs = [_doc_line(campaign, s, d.id) for d in campaign.doc_types]
    overdue = status.now > s.deadline + campaign.grace
    context = {
        "school": _school_dict(school),
        "lines": lines,
        "deadline": s.deadline,
        "extended": s.extended,
        "complete": s.complete,
        "overdue": overdue,  # the school's (effective) deadline has passed
        "overdue_days": max(0, (status.now.astimezone(campaign.tz).date()
                                - s.deadline.astimezone(campaign.tz).date()).days) if overdue else 0,
        "missing": [_doc_name(campaign, d) for d in missing],
        "not_official": [_doc_name(campaign, d) for d in not_official(s, campaign)],
        "in_review": [d for d in docs if d["status"] == REVIEW],
        **campaign_context(status),
    }
    ids = tuple(i.item_id for i in items)
    return PlannedMail(key=receipt_key(school.code, status.cycle, ids), kind="receipt", template="receipt",
                       cycle=status.cycle, to=reachable(school.emails, suppressed), context=context,
                       school=school.code, item_ids=ids)


@dataclass(frozen=True)
class ReceiptRecheck:
    """What to do with a queued receipt just before it is sent (``recheck_receipt``).

    ``action`` is ``"send"`` (as queued), ``"replace"`` (to ``to`` only, the
    others being left out), ``"defer"`` (nobody can be written to now; try
    again at ``until``) or ``"cancel"`` (every recipient bounced: the items
    it acknowledges must wait for a later receipt). ``reason`` says why, for
    the outbox row and the log.
    """

    action: str
    to: tuple[str, ...] = ()
    until: datetime | None = None
    reason: str = ""


def recheck_receipt(recipients: Sequence[str], suppressed: Iterable[str], bursts: Iterable,
                    now: datetime) -> ReceiptRecheck:
    """Re-decide the recipients of a queued receipt at ``now`` (pure).

    ``suppressed``: the addresses that bounced for good and have not written
    since (``suppressed_addresses``); ``bursts``: ``flood.Burst`` values, of
    which the ones active at ``now`` silence their address until their
    ``until``. Such recipients are left out. With no recipient left, the
    receipt waits for the earliest end of a burst among its recipients (one
    address can be written to then), or, if every recipient bounced, is
    cancelled.
    """
    skip = frozenset(a.lower() for a in suppressed)
    silent_until: dict[str, datetime] = {}
    for b in bursts:
        if b.active(now):
            silent_until[b.address] = max(b.until, silent_until.get(b.address, b.until))
    keep = tuple(a for a in recipients if a.lower() not in skip and a.lower() not in silent_until)
    if len(keep) == len(recipients):
        return ReceiptRecheck("send", tuple(recipients))
    bounced = [a for a in recipients if a.lower() in skip]
    bursting = [a for a in recipients if a.lower() in silent_until and a.lower() not in skip]
    parts = ([f"bounced: {', '.join(bounced)}"] if bounced else []) + (
        [f"sending a burst of mail: {', '.join(bursting)}"] if bursting else [])
    if keep:
        return ReceiptRecheck("replace", keep, reason="left out, " + "; ".join(parts))
    if bursting:
        until = min(silent_until[a.lower()] for a in bursting)
        return ReceiptRecheck("defer", until=until, reason="every recipient silenced, " + "; ".join(parts))
    return ReceiptRecheck("cancel", reason="every recipient bounced: " + ", ".join(bounced)
                          + " (its documents will be acknowledged by a later receipt)")


# -- digest -----------------------------------------------------------------

def digest_key(cycle: int, now: datetime, tz) -> str:
    return f"digest:{cycle}:{now.astimezone(tz).date().isoformat()}"


def digest_due(now: datetime, digest_at: time, tz, last_digest: datetime | None) -> bool:
    """For the scheduler: today's digest time has passed and today's digest was not made yet."""
    local = now.astimezone(tz)
    if local.time().replace(tzinfo=None) < digest_at:
        return False
    return last_digest is None or last_digest.astimezone(tz).date() < local.date()


@dataclass(frozen=True)
class Change:
    """An item recorded since the last digest (counted or sent to review)."""

    ref: str
    school: str | None
    doc_types: tuple[str, ...]
    filename: str
    from_addr: str
    received_at: datetime
    decision: str


@dataclass(frozen=True)
class Bounce:
    address: str
    first_at: datetime
    last_at: datetime
    count: int
    detail: str
    written_since: datetime | None = None  # a mail a person sent from the address after its last bounce


@dataclass(frozen=True)
class UnknownSender:
    address: str
    count: int
    last_at: datetime
    last_subject: str
    counted_for: tuple[str, ...] = ()  # codes of the schools its documents were counted for (a forwarder)


@dataclass(frozen=True)
class OutboxProblem:
    id: int
    kind: str
    school: str | None
    status: str
    subject: str
    last_error: str
    attempts: int


@dataclass(frozen=True)
class RefusedCommands:
    """A mail with commands that was not obeyed: not from a coordinator
    address, or from one but failing the server's authentication checks."""

    from_addr: str
    received_at: datetime
    subject: str
    reason: str  # "not_coordinator", "auth_fail" or "auth_none"
    detail: str  # e.g. the Authentication-Results verdict
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quarantined:
    """A message the bot could not process (kept, waiting for a person).

    ``ref`` (Q12) is what the coordinator writes to dismiss it ("bỏ Q12").
    """

    from_addr: str  # "" when the message could not even be parsed
    subject: str
    received_at: datetime
    error: str
    message_id: str = ""
    ref: str = ""


@dataclass(frozen=True)
class DigestInputs:
    """Facts beyond the status that the digest shows."""

    changes: tuple[Change, ...] = ()
    corrections: tuple = ()  # store.Correction since the last digest
    bounces: tuple[Bounce, ...] = ()
    unknown_senders: tuple[UnknownSender, ...] = ()
    outbox_problems: tuple[OutboxProblem, ...] = ()
    outbox_waiting: int = 0
    since: datetime | None = None  # the previous digest
    refused_commands: tuple[RefusedCommands, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    suppressed: frozenset[str] = frozenset()  # addresses not written to (suppressed_addresses)
    complete_before: frozenset[str] = frozenset()  # school codes complete at the previous digest
    bursts: tuple = ()  # flood.Burst: addresses that sent a burst of mail (a loop, a flood)


# Entries shown per section of the digest (``[coordinator] digest_entries`` in config.toml): the
# rest is counted, with a pointer to the XLSX. Ten keeps the digest of a busy morning (over a
# hundred files in review) within eight phone screens (tests/test_screenshots.py).
DEFAULT_ENTRIES = 10


def digest_limits(entries: int = DEFAULT_ENTRIES) -> dict[str, int]:
    """The cap of each list of the digest for ``entries`` per section: the
    names of the schools whose dossier became complete are one sentence, so
    they may be more; lists that are rarely long keep a smaller cap."""
    n = max(1, entries)
    return {"changes": n, "late": n, "missing": n, "review": n, "unknown": n, "bounces": n, "corrections": n,
            "outbox": n, "refused": min(n, 10), "quarantined": n, "completed": 2 * n, "unreachable": n,
            "bursts": min(n, 10)}


LIMITS = digest_limits()


def digest_content(status: CampaignStatus, rules: Rules, inputs: DigestInputs, coordinators: Sequence[str],
                   limits: dict | None = None) -> dict:
    """Everything the digest templates show, as plain data.

    ``limits`` caps each list (the rest is counted, and is in the XLSX) so
    that the HTML stays under Gmail's clipping size.
    """
    lim = {**LIMITS, **(limits or {})}
    campaign, tz, cycle = status.campaign, status.campaign.tz, status.cycle
    today = status.now.astimezone(tz).date()
    total = len(status.schools)
    complete = status.complete_count
    names = {s.code: s.name for s in rules.schools}

    late = []
    for s in status.schools:
        for doc_id, d in s.documents.items():
            if d.status == LATE:
                late.append({"school": s.name, "code": s.code, "doc_name": _doc_name(campaign, doc_id),
                             "doc_short": short_doc_name(campaign, doc_id),
                             "received_at": d.received_at, "late_by": d.late_by})
    late.sort(key=lambda x: x["received_at"])

    groups: dict[str, list] = {}
    missing_count = 0
    for s in status.schools:
        if s.complete:
            continue
        missing = s.missing_required(campaign.required)
        review = [d for d in campaign.required if s.documents[d].status == REVIEW]
        unofficial = not_official(s, campaign)
        if not missing and not review and not unofficial:
            continue
        missing_count += 1
        groups.setdefault(s.level, []).append({
            "school": s.name, "code": s.code, "missing": [_doc_name(campaign, d) for d in missing],
            "missing_short": [short_doc_name(campaign, d) for d in missing],
            # received, but no copy is the official paper: the school was asked for it (receipt, reminders)
            "not_official": [_doc_name(campaign, d) for d in unofficial],
            "not_official_short": [short_doc_name(campaign, d) for d in unofficial],
            "in_review": [_doc_name(campaign, d) for d in review], "extended": s.extended, "deadline": s.deadline,
            "in_review_short": [short_doc_name(campaign, d) for d in review],
            "untyped_review": list(s.untyped_review),
            "reminder_held": bool(missing) and _reason_not_to_remind(s, campaign) is not None})
    levels = _ordered_levels(rules, groups)
    missing_groups, shown = [], 0
    for level in levels:
        rows = groups[level]
        take = rows[:max(0, lim["missing"] - shown)]
        shown += len(take)
        if take:
            missing_groups.append({"level": level, "schools": take, "total": len(rows)})

    by_code = {s.code: s for s in status.schools}
    # A counted copy the bot could not judge is a question of its own (is it the official paper?),
    # not a file to accept or reject.
    doubts = official_questions([r for r in status.review if r.official_doubt], names, campaign)
    review = []
    for r in status.review:
        if r.official_doubt:
            continue
        guess = review_guess(r.reason, r.filename, r.doc_types, campaign, r.reason_code)
        review.append({
            "ref": r.ref, "school": names.get(r.school, r.school) if r.school else None, "code": r.school,
            "doc_names": [_doc_name(campaign, t) for t in r.doc_types], "filename": r.filename,
            "from_addr": r.from_addr,
            "received_at": r.received_at, "reason": r.reason, "guess": guess,
            "replies": suggested_replies(r.ref, r.school, r.doc_types, guess.likely),
            # the school's reminders wait for this file (see _reason_not_to_remind)
            "reminder_held": bool(r.school and not r.doc_types and r.school in by_code
                                  and by_code[r.school].missing_required(campaign.required)
                                  and _reason_not_to_remind(by_code[r.school], campaign) is not None)})

    changes = [{"ref": c.ref, "school": names.get(c.school, c.school) if c.school else None,
                "doc_names": [_doc_name(campaign, t) for t in c.doc_types], "filename": c.filename,
                "doc_short": [short_doc_name(campaign, t) for t in c.doc_types],
                "from_addr": c.from_addr, "received_at": c.received_at, "decision": c.decision}
               for c in inputs.changes]
    corrections = [{"kind": c.kind, "school": names.get(c.school, c.school) if c.school else None,
                    "doc_name": _doc_name(campaign, c.doc_type) if c.doc_type else None,
                    "ref": f"R{c.item_id}" if c.item_id else None, "value": c.value, "who": c.who, "why": c.why,
                    "at": c.at, "via": c.via} for c in inputs.corrections]
    roster = {e: s.name for s in rules.schools for e in s.emails}
    bounces = [{"address": b.address, "school": roster.get(b.address), "count": b.count, "first_at": b.first_at,
                "last_at": b.last_at, "detail": b.detail, "suppressed": b.address in inputs.suppressed,
                "written_since": b.written_since}
               for b in inputs.bounces]
    bounces.sort(key=lambda b: not b["suppressed"])  # stable: newest first within each
    bursts = [{"address": b.address, "school": roster.get(b.address), "count": b.count, "first_at": b.first_at,
               "last_at": b.last_at, "until": b.until, "active": b.active(status.now),
               "same_day": b.first_at.astimezone(tz).date() == b.last_at.astimezone(tz).date()}
              for b in inputs.bursts]

    unreachable = unreachable_schools(status, rules, inputs.suppressed)

    def cut(name, rows):
        return {"rows": rows[:lim[name]], "total": len(rows), "more": max(0, len(rows) - lim[name])}

    return {
        **campaign_context(status),
        "today": today,
        "since": inputs.since,
        "headline": {
            "schools": total, "complete": complete, "incomplete": total - complete,
            "exempt": status.exempt_count,  # counted in "complete", as status --json does
            "percent": round(100 * complete / total, 1) if total else 0.0,
            "target": 100,
            "days_to_deadline": (campaign.deadline(cycle).astimezone(tz).date() - today).days,
            "days_to_report": (campaign.report_deadline(cycle).astimezone(tz).date() - today).days,
            "review": len(review),
            "official_review": len(doubts),
            "late": len(late),
            "missing_schools": missing_count,
        },
        "changes": cut("changes", changes),
        # the HTML lists only the counted ones: the files sent to review are in their own section
        "changes_counted": by_school(cut("changes", [c for c in changes if c["decision"] == "counted"])),
        "changes_review": sum(1 for c in changes if c["decision"] == "review"),
        "completed": cut("completed", newly_complete(status, inputs.complete_before)),
        "corrections": cut("corrections", corrections),
        "late": cut("late", late),
        "late_by_school": by_school(cut("late", late))["groups"],
        "missing_groups": missing_groups,
        "missing_more": max(0, missing_count - shown),
        "review": review_sections(review, lim["review"]),
        "official_review": {**cut("review", doubts),
                            "batch": official_batch_reply([d["ref"] for d in doubts[:lim["review"]]])},
        "todo": todo_list(len(review), sum(1 for r in review if r["guess"].likely), unreachable,
                          len(inputs.quarantined), len(inputs.outbox_problems), len(inputs.refused_commands),
                          report_draft_due(campaign, cycle, status.now),
                          (campaign.report_deadline(cycle).astimezone(tz).date() - today).days,
                          official=len(doubts)),
        "unknown": cut("unknown", [{"address": u.address, "count": u.count, "last_at": u.last_at,
                                    "last_subject": u.last_subject,
                                    "counted_for": [names.get(c, c) for c in u.counted_for]}
                                   # whose mail was not counted for any school first: someone must look
                                   for u in sorted(inputs.unknown_senders, key=lambda u: bool(u.counted_for))]),
        "bounces": cut("bounces", bounces),
        "bursts": cut("bursts", bursts),
        "unreachable": cut("unreachable", unreachable),
        "outbox": cut("outbox", [{"id": p.id, "kind": p.kind, "kind_name": KIND_NAMES.get(p.kind, p.kind),
                                  "school": names.get(p.school, p.school), "status": p.status, "subject": p.subject,
                                  "last_error": short_error(p.last_error), "attempts": p.attempts}
                                 for p in inputs.outbox_problems]),
        "outbox_waiting": inputs.outbox_waiting,
        "coordinators": list(coordinators),
        "refused": cut("refused", [{"from_addr": r.from_addr, "received_at": r.received_at, "subject": r.subject,
                                    "reason": r.reason, "detail": r.detail, "lines": list(r.lines[:10]),
                                    "more_lines": max(0, len(r.lines) - 10)} for r in inputs.refused_commands]),
        "report_draft": report_draft_due(campaign, cycle, status.now),
        "quarantined": cut("quarantined", [{"from_addr": q.from_addr or q.message_id, "subject": q.subject,
                                            "received_at": q.received_at, "error": q.error, "ref": q.ref}
                                           for q in inputs.quarantined]),
    }


# -- the review queue as the coordinator decides it ------------------------------------------

LIKELY, UNLIKELY = True, False


@dataclass(frozen=True)
class ReviewGuess:
    """The bot's best guess about a file in review, in a few words.

    ``likely``: probably a document of this campaign and year (False: its
    text speaks of another topic or year). ``doc``: the short name of the
    document type it probably is ("Báo cáo"), "" when unknown. ``cause``:
    why a person must look, a key of ``CAUSE`` in
    ``templates/_digest_wording.txt``; ``label``: the words that go with it
    (the other topic, the date, a reason too rare to have a key).
    """

    likely: bool
    doc: str
    cause: str
    label: str = ""
    from_filename: bool = False  # the document type was read from the file's name only


# (pattern of one reason of the classifier, cause) in order of precedence: the first
# cause found among an item's reasons is the one shown. The reasons are the
# classifier's own Vietnamese sentences (bot/classify/, bot/extract/).
_UNLIKELY_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"chưa chắc thuộc đợt này: có từ ngữ về (.+?), từ ngữ của đợt này"), "topic"),
    (re.compile(r"không thuộc đợt này \(chủ đề: (.+?)\)"), "topic"),
    (re.compile(r"văn bản ghi ngày ([0-9/.-]+), sau ngày nhận \([0-9/]+\)$"), "future_date"),
    (re.compile(r"nhưng nói về (năm học \d{4}-\d{4}|năm \d{4})"), "old_year"),
    (re.compile(r"nói về một năm học chưa tới \((năm học \d{4}-\d{4})\)"), "future_year"),
    (re.compile(r"^hồ sơ của năm trước(?: \((.+)\))?"), "old_year"),
)
_NO_TOPIC = "không thấy từ ngữ nào của đợt này"
_CAUSE_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"không có tệp đính kèm"), "no_attachment"),
    (re.compile(r"^không đọc được toàn bộ thư|^thư bị hỏng"), "damaged_mail"),
    (re.compile(r"^không đọc được: (.+)"), "unread_part"),
    (re.compile(r"mật khẩu|mã hóa"), "encrypted"),
    (re.compile(r"^mâu thuẫn: "), "school_conflict"),
    (re.compile(r"^đầu văn bản ghi '(.+)', không có trong danh sách trường"), "unknown_issuer"),
    (re.compile(r"^tiêu đề là .+ nhưng số ký hiệu là"), "type_conflict"),
    (re.compile(r"^là Công văn, không phải (.+?):"), "cover_letter"),
    (re.compile(r"chứa nhiều văn bản"), "many_docs"),
    (re.compile(r"^xác thực người gửi không đạt"), "auth_fail"),
    (re.compile(r"OCR không đọc được|OCR đang tắt|không có chữ|không lấy được chữ|chưa cài OCR|OCR needed|"
                r"không đọc được chữ"),
     "no_text"),
    (re.compile(r"^không nhận ra loại văn bản"), "no_type"),
    (re.compile(r"^tệp rỗng|^tệp quá lớn|bị hỏng|^không phải tệp|không nhận ra được|chưa đọc được|"
                r"^không đọc được tệp|^tệp Excel|^tệp nén|^tệp OpenDocument|nhiều bộ nhớ"), "bad_file"),
    (re.compile(r"^độ tin cậy .+ dưới ngưỡng"), "low_confidence"),
    (re.compile(r"không có trong danh sách trường"), "unknown_sender"),
    (re.compile(rf"^{_NO_TOPIC}$"), "unclear_topic"),  # text read by OCR or a type found: a misreading
)
_OCR = re.compile(r"OCR|bản scan|ảnh chụp")
_PHOTO_EXT = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".gif", ".bmp", ".tif", ".tiff")


# The cause a reason code stands for (``ReasonCode``, given by the classifier with
# each review item since schema 9): what the digest says of it.
_CODE_UNLIKELY: dict[ReasonCode, str] = {
    ReasonCode.FUTURE_DATE: "future_date", ReasonCode.OLD_SCHOOL_YEAR: "old_year",
    ReasonCode.FUTURE_SCHOOL_YEAR: "future_year",
}
_CODE_CAUSE: dict[ReasonCode, str] = {
    ReasonCode.NO_ATTACHMENT: "no_attachment", ReasonCode.DAMAGED_MAIL: "damaged_mail",
    ReasonCode.UNREAD_PART: "unread_part", ReasonCode.SCHOOL_CONFLICT: "school_conflict",
    ReasonCode.UNKNOWN_ISSUER: "unknown_issuer", ReasonCode.TYPE_CONFLICT: "type_conflict",
    ReasonCode.COVER_LETTER: "cover_letter", ReasonCode.MANY_DOCUMENTS: "many_docs",
    ReasonCode.AUTH_FAIL: "auth_fail", ReasonCode.UNREADABLE_TITLE: "no_type", ReasonCode.NO_TOPIC: "unclear_topic",
    ReasonCode.LOW_CONFIDENCE: "low_confidence", ReasonCode.UNKNOWN_SCHOOL: "unknown_sender",
}
# A file without text: what its error says decides the words (password, no text, damaged file).
_FILE_CODES = frozenset({ReasonCode.UNREADABLE_FILE})


def review_guess(reason: str, filename: str, doc_types: Sequence[str], campaign: Campaign,
                 code: ReasonCode | None = None) -> ReviewGuess:
    """What the bot thinks of a file in review (``reason``: the classifier's
    reasons joined by "; ").

    With the item's ``code`` (``ReasonCode``) the cause is the code's; the
    reasons only give the words that go with it (the date, the line, the
    error) and whether the text was read by OCR. Items recorded before codes
    existed (``code`` None) are guessed from the reasons' wording.
    """
    reasons = [r.strip() for r in (reason or "").split("; ") if r.strip()]
    doc = "; ".join(short_doc_name(campaign, t) for t in doc_types)
    named = bool(doc_types) and any(r.startswith("đoán loại văn bản từ tên tệp") for r in reasons)
    read_by_ocr = any(_OCR.search(r) for r in reasons)
    photo = (filename or "").lower().endswith(_PHOTO_EXT)
    if code is not None and code not in _FILE_CODES:
        return _guess_by_code(code, reasons, doc, named, read_by_ocr, photo, doc_types)
    if code is None:
        for r in reasons:
            for pattern, cause in _UNLIKELY_RULES:
                m = pattern.search(r)
                if m:
                    return ReviewGuess(UNLIKELY, doc, cause, (m.group(1) or "") if m.groups() else "", named)
        if _NO_TOPIC in reasons and not read_by_ocr and not doc_types:
            return ReviewGuess(UNLIKELY, doc, "no_topic", "", named)
    for r in reasons:
        for pattern, cause in _CAUSE_RULES:
            m = pattern.search(r)
            if m:
                return _likely(cause, m, r, doc, named, read_by_ocr, photo)
    return ReviewGuess(LIKELY, doc, "other", _short_label(reasons[0]) if reasons else "", named)


def _likely(cause: str, m: re.Match | None, r: str, doc: str, named: bool, read_by_ocr: bool,
            photo: bool) -> ReviewGuess:
    """A likely guess with the words of its reason (``m``: the cause's pattern on reason ``r``)."""
    label = (m.group(1) or "") if m is not None and m.groups() else ""
    if cause in ("no_text", "no_type", "unclear_topic") and (photo or read_by_ocr or cause == "no_text"):
        cause = ("photo_" if photo else "scan_") + cause  # "ảnh chụp, không đọc rõ tiêu đề"
    elif cause in ("bad_file", "unread_part"):
        label = label or r
    return ReviewGuess(LIKELY, doc, cause, _short_label(label), named)


def _guess_by_code(code: ReasonCode, reasons: Sequence[str], doc: str, named: bool, read_by_ocr: bool,
                   photo: bool, doc_types: Sequence[str]) -> ReviewGuess:
    """The guess of an item whose classifier gave ``code``; its words are found in its reasons."""
    if code in _CODE_UNLIKELY:
        cause = _CODE_UNLIKELY[code]
        return ReviewGuess(UNLIKELY, doc, cause, _words(cause, reasons, _UNLIKELY_RULES)[0], named)
    if code is ReasonCode.NO_TOPIC and not read_by_ocr and not doc_types:
        return ReviewGuess(UNLIKELY, doc, "no_topic", "", named)
    cause = _CODE_CAUSE.get(code)
    if cause is None:  # a concern that names no cause of its own: its words say it
        return ReviewGuess(LIKELY, doc, "other", _short_label(reasons[0]) if reasons else "", named)
    label, m, r = _words(cause, reasons, _CAUSE_RULES)
    return _likely(cause, m, r, doc, named, read_by_ocr, photo)


def _words(cause: str, reasons: Sequence[str], rules) -> tuple[str, re.Match | None, str]:
    """The words a cause's pattern finds in the first reason it matches: (label, match, reason)."""
    for r in reasons:
        for pattern, rule_cause in rules:
            if rule_cause != cause:
                continue
            m = pattern.search(r)
            if m:
                return ((m.group(1) or "") if m.groups() else ""), m, r
    return "", None, ""


def _short_label(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip(" ,;:(") + "…"


def short_doc_name(campaign: Campaign, doc_id: str) -> str:
    """"Báo cáo" for the Báo cáo kết quả xây dựng đơn vị điển hình: the title
    the document carries (its first ``titles``), in sentence case."""
    try:
        d = campaign.doc_type(doc_id)
    except KeyError:
        return doc_id
    title = d.titles[0] if d.titles else d.name
    return title[:1].upper() + title[1:].lower() if title.isupper() else title


def suggested_replies(ref: str, school: str | None, doc_types: Sequence[str], likely: bool) -> list[str]:
    """The reply lines that settle a file in review, the most likely first:
    "duyệt R17" when the bot guessed one school and one document type (the
    command takes the guess), else the form to complete; "bỏ R17" first for
    a file that is probably not of this campaign."""
    if school and len(doc_types) == 1:
        accept = f"duyệt {ref}"
    elif school:
        accept = f"duyệt {ref} {school} <loại hồ sơ>"
    else:
        accept = f"duyệt {ref} <mã trường> <loại hồ sơ>"
    reject = f"bỏ {ref}"
    return [accept, reject] if likely else [reject, accept]


def official_replies(ref: str) -> list[str]:
    """The reply lines that settle a copy the bot could not judge (issue 16):
    it is the official paper, or it is not (the school is then asked for one)."""
    return [f"xác nhận {ref} bản chính thức", f"{ref} không phải bản chính thức"]


def official_batch_reply(refs: Sequence[str]) -> str:
    """One line confirming several copies: "xác nhận R12 R13 bản chính thức" ("" for fewer than two)."""
    if len(refs) < 2:
        return ""
    return f"xác nhận {' '.join(refs)} bản chính thức"


def official_questions(entries: Sequence, names: dict, campaign: Campaign) -> list[dict]:
    """The digest's cards for counted copies the bot could not judge
    (``ReviewEntry.official_doubt``): school, document, file, the bot's
    doubts (the page and why) and the two replies."""
    rows = []
    for r in entries:
        doubts = r.reason.split(": ", 1)[1] if r.reason.startswith(OFFICIAL_DOUBT + ": ") else r.reason
        rows.append({"ref": r.ref, "school": names.get(r.school, r.school) if r.school else None, "code": r.school,
                     "doc_names": [_doc_name(campaign, t) for t in r.doc_types],
                     "doc_short": [short_doc_name(campaign, t) for t in r.doc_types], "filename": r.filename,
                     "received_at": r.received_at, "doubts": doubts, "replies": official_replies(r.ref)})
    return rows


def batch_reply(verb: str, refs: Sequence[str]) -> str:
    """One reply line for several files: "bỏ R12 R13 R14"; three or more
    consecutive references become a range ("R21-R23"), which then names
    exactly the same files."""
    numbers = sorted({int(r[1:]) for r in refs})
    parts, i = [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(f"R{numbers[i]}-R{numbers[j]}" if j - i >= 2 else " ".join(f"R{n}" for n in numbers[i:j + 1]))
        i = j + 1
    return f"{verb} {' '.join(parts)}" if parts else ""


def review_sections(rows: list[dict], limit: int) -> dict:
    """The review queue for the digest: the files that are probably of this
    campaign first, then the others, at most ``limit`` entries in all (the
    second group keeps at least a third of them when both are long); the
    rest is counted. Each group has one reply line settling every file it
    shows: accept the guesses ("duyệt ...", only files with a full guess)
    or reject them all ("bỏ ...")."""
    # the files whose guess is complete first: one "duyệt" line settles them
    likely = sorted((r for r in rows if r["guess"].likely), key=lambda r: r["replies"][0] != f"duyệt {r['ref']}")
    unlikely = [r for r in rows if not r["guess"].likely]
    limit = max(1, limit)
    take_unlikely = min(len(unlikely), max(limit // 3, limit - len(likely)))
    take_likely = min(len(likely), limit - take_unlikely)
    groups = {}
    for name, group, take in (("likely", likely, take_likely), ("unlikely", unlikely, take_unlikely)):
        shown = group[:take]
        if name == "likely":
            refs = [r["ref"] for r in shown if r["replies"][0] == f"duyệt {r['ref']}"]
            batch = batch_reply("duyệt", refs) if len(refs) > 1 else ""
        else:
            batch = batch_reply("bỏ", [r["ref"] for r in shown]) if len(shown) > 1 else ""
        groups[name] = {"rows": shown, "total": len(group), "more": len(group) - len(shown), "batch": batch}
    shown = groups["likely"]["rows"] + groups["unlikely"]["rows"]
    return {"rows": shown, "total": len(rows), "more": len(rows) - len(shown), **groups}


def by_school(section: dict) -> dict:
    """``section`` (rows, total, more) with its rows also grouped by school in
    the order they come (``groups``: school, the rows), for one line per school."""
    groups: dict[str, list] = {}
    for row in section["rows"]:
        groups.setdefault(row.get("school") or "", []).append(row)
    return {**section, "groups": [{"school": k, "rows": v} for k, v in groups.items()]}


def todo_list(review: int, review_likely: int, unreachable: list, quarantined: int, outbox_failed: int,
              refused: int, report_due: bool, days_to_report: int, official: int = 0) -> list[dict]:
    """"Việc cần làm hôm nay": the decisions waiting for the coordinator, in
    the order the digest shows them, each with its count (none: empty).
    ``official``: counted copies the bot could not judge (is it the official paper?)."""
    todo = []
    if review:
        todo.append({"kind": "review", "count": review, "likely": review_likely, "unlikely": review - review_likely})
    if official:
        todo.append({"kind": "official", "count": official})
    if unreachable:
        todo.append({"kind": "unreachable", "count": len(unreachable)})
    if quarantined:
        todo.append({"kind": "quarantined", "count": quarantined})
    if report_due:
        todo.append({"kind": "report", "count": max(0, days_to_report)})
    if outbox_failed:
        todo.append({"kind": "outbox", "count": outbox_failed})
    if refused:
        todo.append({"kind": "refused", "count": refused})
    return todo


# What the coordinator reads for each kind of outgoing mail.
KIND_NAMES = {"receipt": "biên nhận", "reminder": "thư nhắc", "digest": "thư tổng hợp", "reply": "trả lời",
              "report": "báo cáo"}


def short_error(error: str, limit: int = 160) -> str:
    """A sending error as one short line: the SMTP reply code and text
    without the Python quoting (``(550, b'5.1.1 ... ')``), cut at ``limit``."""
    text = re.sub(r"\(\s*(\d{3}),\s*b?['\"](.*?)['\"]\s*\)", r"\1 \2", error or "", flags=re.S)
    text = re.sub(r"\\r\\n|\\n|\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def newly_complete(status: CampaignStatus, complete_before: Iterable[str]) -> list[str]:
    """Names of the schools whose dossier is complete now but was not at the
    previous digest (an exemption is not a complete dossier)."""
    before = frozenset(complete_before)
    return [s.name for s in status.schools if s.complete and s.exempt is None and s.code not in before]


def unreachable_schools(status: CampaignStatus, rules: Rules, suppressed: Iterable[str]) -> list[dict]:
    """The schools whose every roster address is suppressed: no mail reaches
    them, the coordinator has to phone them. With what they still lack."""
    schools = {s.code: s for s in rules.schools}
    rows = []
    for s in status.schools:
        emails = schools[s.code].emails
        if emails and not reachable(emails, suppressed):
            rows.append({"school": s.name, "code": s.code, "emails": list(emails), "complete": s.complete,
                         "exempt": s.exempt is not None,
                         "missing": [_doc_name(status.campaign, d) for d in s.missing_required(status.campaign.required)]})
    return rows


def report_draft_due(campaign: Campaign, cycle: int, now: datetime) -> bool:
    """The digest carries the office's draft report from the day after the
    schools' deadline until the office's own deadline."""
    tz = campaign.tz
    return (now.astimezone(tz).date() > campaign.deadline(cycle).astimezone(tz).date()
            and now <= campaign.report_deadline(cycle))


def digest_mail(status: CampaignStatus, rules: Rules, inputs: DigestInputs, coordinators: Sequence[str],
                limits: dict | None = None) -> PlannedMail:
    context = digest_content(status, rules, inputs, coordinators, limits)
    return PlannedMail(key=digest_key(status.cycle, status.now, status.campaign.tz), kind="digest",
                       template="digest", cycle=status.cycle, to=tuple(coordinators), context=context)


def matrix_rows(status: CampaignStatus) -> list[dict]:
    """One row per school for the XLSX: code, name, level, deadline, complete, then each document."""
    rows = []
    for s in status.schools:
        rows.append({"code": s.code, "name": s.name, "level": s.level, "deadline": s.deadline,
                     "extended": s.extended, "exempt": s.exempt, "complete": s.complete,
                     "documents": {doc_id: d for doc_id, d in s.documents.items()}})
    return rows


@dataclass(frozen=True)
class OfficialRow:
    """One received document of one school, as the XLSX's official-copy sheet shows it.

    ``official``: True, False, None (the bot cannot tell: the coordinator is
    asked), or None with ``checked`` False (recorded before the check existed).
    The other fields are the deciding copy's evidence (issue 16's contract).
    """

    code: str
    school: str
    doc_name: str
    status: str
    received_at: datetime | None
    checked: bool
    official: bool | None
    signed_by: str | None
    seal: bool | None
    number: str | None
    date: str | None
    problems: tuple[str, ...]


def official_rows(status: CampaignStatus) -> list[OfficialRow]:
    """Every received document of every school with the evidence of its deciding copy, school by school."""
    rows = []
    for s in status.schools:
        for doc_id, d in s.documents.items():
            if d.status not in RECEIVED:
                continue
            cols = json_columns(d.evidence.to_json() if d.evidence is not None else None)
            rows.append(OfficialRow(s.code, s.name, _doc_name(status.campaign, doc_id), d.status, d.received_at,
                                    d.evidence is not None, d.official, cols["signed_by"], cols["seal"],
                                    cols["number"], cols["date"], tuple(cols["problems"])))
    return rows


# -- helpers ------------------------------------------------------------------

def campaign_context(status: CampaignStatus) -> dict:
    """What every mail's template is given about the campaign: its name, the
    cycle, the deadlines, the office and the document types."""
    c = status.campaign
    return {"campaign": {"id": c.id, "name": c.name, "activity": c.activity}, "cycle": status.cycle, "now": status.now,
            "campaign_deadline": c.deadline(status.cycle), "report_deadline": c.report_deadline(status.cycle),
            "office": {"parent": c.office.parent, "name": c.office.name, "short": c.office.short,
                       "place": c.office.place, "signer_title": c.office.signer_title,
                       "signer_name": c.office.signer_name, "name_in_text": c.office.name_in_text},
            "required_names": [d.name for d in c.doc_types if d.required],
            "doc_types": [{"id": d.id, "name": d.name, "codes": list(d.number_codes), "required": d.required}
                          for d in c.doc_types]}


def _school_dict(school: School) -> dict:
    return {"code": school.code, "name": school.name, "level": school.level}


_doc_name = Campaign.doc_name  # (campaign, doc_id): the name, or the id the rules no longer list


def _doc_line(campaign: Campaign, s: SchoolStatus, doc_id: str) -> dict:
    d = s.documents[doc_id]
    return {"doc_id": doc_id, "doc_name": _doc_name(campaign, doc_id), "status": d.status,
            "required": campaign.doc_type(doc_id).required, "received_at": d.received_at,
            "filename": d.filename, "versions": d.versions}


def _ordered_levels(rules: Rules, groups: dict) -> list[str]:
    order = list(dict.fromkeys(s.level for s in rules.schools))
    return [lv for lv in order if lv in groups] + sorted(lv for lv in groups if lv not in order)


__all__ = ["PlannedMail", "ReminderPlan", "CountedItem", "DigestInputs", "Change", "Bounce", "UnknownSender",
           "OutboxProblem", "RefusedCommands", "report_draft_due", "due_reminders", "due_receipts",
           "sender_receipt_key", "sender_receipt_mail", "digest_content", "digest_mail", "digest_due",
           "reminder_slots", "reminder_key", "receipt_key", "digest_key", "in_office_hours", "next_office_time",
           "still_wanted", "reminder_mail", "reminder_current", "OfficialNote", "official_note", "not_official",
           "official_replies", "official_batch_reply", "official_questions", "OfficialRow", "official_rows",
           "matrix_rows", "suppressed_addresses", "reachable", "newly_complete",
           "unreachable_schools", "short_error", "KIND_NAMES", "ReceiptRecheck", "recheck_receipt", "ReviewGuess",
           "review_guess", "short_doc_name", "suggested_replies", "batch_reply", "review_sections", "todo_list",
           "digest_limits", "DEFAULT_ENTRIES"]
