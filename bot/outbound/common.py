"""What every kind of outgoing mail shares: pure, no clock, no I/O.

- ``PlannedMail``: a mail the bot has decided to send, with its template
  context and idempotency key;
- office hours (``in_office_hours``, ``next_office_time``);
- bounced addresses (``suppressed_addresses``, ``reachable``);
- the official-copy note of a receipt or reminder (``OfficialNote``,
  ``official_note``, ``not_official``);
- the template context every mail gets (``campaign_context``,
  ``doc_line``) and short wording helpers
  (``short_doc_name``, ``short_error``, ``KIND_NAMES``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from ..mailkey import MailKey
from ..rules.model import Campaign, Reminders
from ..status import RECEIVED, CampaignStatus, SchoolStatus

KINDS = ("receipt", "reminder", "digest", "report")


@dataclass(frozen=True, eq=False)
class PlannedMail:
    """A mail the bot has decided to send; ``context`` feeds the templates.

    ``key`` is the idempotency key; ``school`` is set for mail threaded per
    school and cycle. ``item_ids``: the items a receipt acknowledges.
    ``senders``: the sender outside the roster a receipt goes to, because the
    trusted Authentication-Results vouch for it (``sender_receipt_mail``).
    """

    key: MailKey
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


def short_doc_name(campaign: Campaign, doc_id: str) -> str:
    """"Báo cáo" for the Báo cáo kết quả xây dựng đơn vị điển hình: the title
    the document carries (its first ``titles``), in sentence case."""
    try:
        d = campaign.doc_type(doc_id)
    except KeyError:
        return doc_id
    title = d.titles[0] if d.titles else d.name
    return title[:1].upper() + title[1:].lower() if title.isupper() else title


# What the coordinator reads for each kind of outgoing mail.
KIND_NAMES = {"receipt": "biên nhận", "reminder": "thư nhắc", "digest": "thư tổng hợp", "reply": "trả lời",
              "report": "báo cáo"}


def short_error(error: str, limit: int = 160) -> str:
    """A sending error as one short line: the SMTP reply code and text
    without the Python quoting (``(550, b'5.1.1 ... ')``), cut at ``limit``."""
    text = re.sub(r"\(\s*(\d{3}),\s*b?['\"](.*?)['\"]\s*\)", r"\1 \2", error or "", flags=re.S)
    text = re.sub(r"\\r\\n|\\n|\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# -- the template context every mail shares (the templates read these by attribute; ``office`` and
# ``school`` are the rules' own frozen Office and School) ------------------------------------------

@dataclass(frozen=True)
class CampaignInfo:
    """``campaign`` in a template."""

    id: str
    name: str
    activity: str


@dataclass(frozen=True)
class DocTypeContext:
    """One of ``doc_types`` in a template: a document type, the number codes that name it."""

    id: str
    name: str
    codes: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class DocLine:
    """One document of a school as a mail lists it: its name, status, when and in which file it came."""

    doc_id: str
    doc_name: str
    status: str
    required: bool
    received_at: datetime | None
    filename: str | None
    versions: int


def campaign_context(status: CampaignStatus) -> dict:
    """What every mail's template is given about the campaign: its name, the
    cycle, the deadlines, the office and the document types."""
    c = status.campaign
    return {"campaign": CampaignInfo(c.id, c.name, c.activity), "cycle": status.cycle, "now": status.now,
            "campaign_deadline": c.deadline(status.cycle), "report_deadline": c.report_deadline(status.cycle),
            "office": c.office,  # the rules' frozen Office
            "required_names": [d.name for d in c.doc_types if d.required],
            "doc_types": [DocTypeContext(d.id, d.name, tuple(d.number_codes), d.required) for d in c.doc_types]}


def doc_line(campaign: Campaign, s: SchoolStatus, doc_id: str) -> DocLine:
    """One document of a school as a mail lists it."""
    d = s.documents[doc_id]
    return DocLine(doc_id, campaign.doc_name(doc_id), d.status, campaign.doc_type(doc_id).required, d.received_at,
                   d.filename, d.versions)
