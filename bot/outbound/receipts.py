"""Which receipts are due: pure functions of (status, rules, counted items, now).

``due_receipts``: one receipt ("biên nhận") per school covering every
counted, not yet acknowledged item, once the school's newest item is
``receipt_batch_minutes`` old (several emails in a few minutes give one
receipt), to the school's roster addresses only; and, for a mail from
outside the roster whose sender the trusted Authentication-Results vouch
for, a receipt to that sender listing only what that mail brought.
``recheck_receipt``: a queued receipt decided again just before it is sent:
bounced and bursting recipients left out; held while every recipient is in
a burst, cancelled when every one bounced.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable, Iterator, Sequence

from ..mailkey import RECEIPT, SENDER_RECEIPT, MailKey
from ..official.verdict import Evidence
from ..rules.model import Rules, School
from ..status import LATE, ON_TIME, RECEIVED, REVIEW, CampaignStatus, SchoolStatus
from .common import (OfficialNote, PlannedMail, campaign_context, doc_line, not_official, official_note,
                     reachable)


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


def sender_receipt_key(school: str, cycle: int, message_row: int) -> MailKey:
    """One receipt to the sender of one mail from outside the roster, per school it brought documents for."""
    return MailKey(SENDER_RECEIPT, cycle, school, ref=str(message_row))


def receipt_key(school: str, cycle: int, item_ids: Sequence[int]) -> MailKey:
    """One receipt to the school per set of items it acknowledges (a long set by its SHA-1)."""
    ids = ",".join(str(i) for i in sorted(item_ids))
    if len(ids) > 120:
        ids = "sha1-" + hashlib.sha1(ids.encode()).hexdigest()
    return MailKey(RECEIPT, cycle, school, ref=ids)


def due_receipts(status: CampaignStatus, rules: Rules, counted: Iterable[CountedItem], acknowledged: Iterable[int],
                 now: datetime, suppressed: Iterable[str] = (), known_keys: Iterable[MailKey] = ()) -> tuple[PlannedMail, ...]:
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

@dataclass(frozen=True)
class ReceiptLine:
    """One document a receipt acknowledges: its type, the file (and its pages, ``pages`` when the file held
    several documents), when it came. In the school's receipt also: on time or late (``status``), whether
    it is a ``later_version`` of a document first received at ``first_received_at``, and the ``official``
    note (``OfficialNote``; None: not checked). A sender's receipt leaves these at their defaults."""

    doc_id: str
    doc_name: str
    filename: str
    pages: bool
    first_page: int
    last_page: int
    received_at: datetime
    status: str = ""
    later_version: bool = False
    first_received_at: datetime | None = None
    official: OfficialNote | None = None


def _receipt_lines(campaign, items: Sequence[CountedItem]) -> Iterator[tuple[CountedItem, str, ReceiptLine]]:
    """(item, document type, the receipt line of what the item brought) for
    every known document type of every item, in order."""
    for item in items:
        for doc_id in item.doc_types:
            try:
                name = campaign.doc_type(doc_id).name
            except KeyError:
                continue
            yield item, doc_id, ReceiptLine(doc_id, name, item.filename, item.parts > 1, item.first_page,
                                            item.last_page, item.received_at)


def sender_receipt_mail(status: CampaignStatus, school: School, items: Sequence[CountedItem],
                        key: MailKey) -> PlannedMail:
    """The receipt to the sender (outside the roster) of one mail: what that
    mail brought for ``school``, nothing of the school's other submissions,
    its status or what it still misses."""
    lines = [line for _, _, line in _receipt_lines(status.campaign, items)]
    sender = items[0].from_addr.lower()
    context = {"school": school, "lines": lines, "sender": sender, **campaign_context(status)}
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
        lines.append(replace(
            line,
            status=doc.status if doc is not None and doc.status in RECEIVED else (
                LATE if item.received_at > s.deadline + campaign.grace else ON_TIME),
            later_version=first is not None and first < item.received_at, first_received_at=first,
            # what this copy shows, and whether the document has its official paper (any copy counts)
            official=official_note(doc.official, item.evidence) if doc is not None and doc.status in RECEIVED
            else None))
    missing = s.missing_required(campaign.required)
    docs = [doc_line(campaign, s, d.id) for d in campaign.doc_types]
    overdue = status.now > s.deadline + campaign.grace
    context = {
        "school": school,
        "lines": lines,
        "deadline": s.deadline,
        "extended": s.extended,
        "complete": s.complete,
        "overdue": overdue,  # the school's (effective) deadline has passed
        "overdue_days": max(0, (status.now.astimezone(campaign.tz).date()
                                - s.deadline.astimezone(campaign.tz).date()).days) if overdue else 0,
        "missing": [campaign.doc_name(d) for d in missing],
        "not_official": [campaign.doc_name(d) for d in not_official(s, campaign)],
        "in_review": [d for d in docs if d.status == REVIEW],
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
