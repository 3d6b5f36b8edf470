"""Which reminders are due: pure functions of (status, rules, send history, now).

``due_reminders``: one reminder per school with missing required
documents, at the slots of the campaign's reminder rules (default 7, 3 and
1 days before the effective deadline, then every 3 days after it, at most
3 times), only in office hours. A slot missed (bot down, weekend) is sent
once: when several are due together only the latest is sent and the
earlier ones are returned as superseded. ``still_wanted`` and
``reminder_current`` decide a queued reminder again just before it is sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from ..mailkey import REMINDER, MailKey
from ..rules.model import Campaign, Reminders, Rules, School
from ..status import EXTENDED, MISSING, PENDING, RECEIVED, REVIEW, CampaignStatus, SchoolStatus
from .common import (NOT_OFFICIAL, OfficialNote, PlannedMail, campaign_context, doc_line, in_office_hours,
                     next_office_time, not_official, official_note, reachable)


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


def reminder_key(school: str, cycle: int, kind: str, deadline: datetime, tz) -> MailKey:
    """One reminder per school, cycle, slot (``kind``) and effective deadline (a new deadline, new slots)."""
    return MailKey(REMINDER, cycle, school, slot=kind, deadline=deadline.astimezone(tz).isoformat())


@dataclass(frozen=True)
class ReminderPlan:
    mails: tuple[PlannedMail, ...]
    superseded: tuple[tuple[MailKey, MailKey], ...]  # (key, the key that replaced it)
    skipped: tuple[tuple[str, str], ...]  # (school code, why no reminder although one was due)


def due_reminders(status: CampaignStatus, rules: Rules, sent_keys: Iterable[MailKey], now: datetime,
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
        if reason_not_to_remind(school_status, campaign) is not None:
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


def reason_not_to_remind(s: SchoolStatus, campaign: Campaign) -> str | None:
    """Why ``s`` gets no reminder although it lacks something (None: it is reminded)."""
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
    reason = reason_not_to_remind(s, status.campaign)
    if reason:
        return reason
    if s.deadline.astimezone(status.campaign.tz).isoformat() != key_deadline:
        return "the school's deadline changed"
    return None


@dataclass(frozen=True)
class ReminderRecheck:
    """What to do with a queued reminder just before it is sent (``recheck_reminder``).

    ``action`` is ``"send"`` (as queued), ``"cancel"`` (``reason`` says why),
    ``"defer"`` (outside office hours: until ``until``) or ``"replace"`` (by
    ``mail``: what the school lacks, or who can be written to, changed since
    it was queued).
    """

    action: str
    reason: str = ""
    until: datetime | None = None
    mail: PlannedMail | None = None


def recheck_reminder(status: CampaignStatus, rules: Rules, key: MailKey, meta: dict, recipients: Sequence[str],
                     suppressed: Iterable[str], now: datetime) -> ReminderRecheck:
    """Re-decide the queued reminder ``key`` (queued with ``meta``, to ``recipients``) at ``now``:
    cancelled when the school no longer needs it (``still_wanted``) or every roster address is
    ``suppressed``; held outside office hours; brought up to date when its list or its recipients
    are no longer right."""
    campaign = status.campaign
    reason = still_wanted(status, key.school, key.deadline)
    if reason:
        return ReminderRecheck("cancel", reason)
    if not in_office_hours(now, campaign.reminders, campaign.tz):
        return ReminderRecheck("defer", "outside office hours",
                               until=next_office_time(now, campaign.reminders, campaign.tz))
    s = next(x for x in status.schools if x.code == key.school)
    school = rules.school(key.school)
    to = reachable(school.emails, suppressed)
    if not to:
        return ReminderRecheck("cancel", "every roster address bounced")
    if reminder_current(s, campaign, meta) and set(recipients) == set(to):
        return ReminderRecheck("send")
    # Something arrived (or the roster changed, or an address bounced) since it was queued.
    return ReminderRecheck("replace", mail=reminder_mail(status, school, s, key.slot, key, suppressed))


def reminder_current(s: SchoolStatus, campaign: Campaign, meta: dict) -> bool:
    """Whether a queued reminder (its ``meta``) still names what ``s`` lacks:
    the same missing documents and the same documents without an official copy."""
    return (s.missing_required(campaign.required) == meta.get("missing")
            and not_official(s, campaign) == meta.get("not_official", []))


@dataclass(frozen=True)
class NotOfficialLine:
    """A document a reminder asks the official paper of: its name and what its copies lack (``note``)."""

    doc_name: str
    note: OfficialNote


def reminder_mail(status: CampaignStatus, school: School, s: SchoolStatus, kind: str, key: MailKey,
                  suppressed: Iterable[str] = ()) -> PlannedMail:
    """The reminder to ``school``'s roster addresses, but the ``suppressed`` ones."""
    campaign = status.campaign
    tz = campaign.tz
    missing = s.missing_required(campaign.required)
    unofficial = not_official(s, campaign)
    docs = [doc_line(campaign, s, d.id) for d in campaign.doc_types]
    now_local = status.now.astimezone(tz)
    context = {
        "kind": kind,
        "after": kind.startswith("after-"),
        "school": school,
        "deadline": s.deadline,
        "extended": s.extended,
        "days_left": (s.deadline.astimezone(tz).date() - now_local.date()).days,
        "missing": [campaign.doc_name(d) for d in missing],
        "missing_ids": missing,
        # received, but no copy is the official paper yet: "còn thiếu bản chính thức: Tờ trình"
        "not_official": [campaign.doc_name(d) for d in unofficial],
        "not_official_notes": [NotOfficialLine(campaign.doc_name(d), official_note(False, s.documents[d].evidence)
                                               or OfficialNote(NOT_OFFICIAL, asks=("signed_or_stamped",)))
                               for d in unofficial],
        "received": [d for d in docs if d.status in RECEIVED and d.doc_id not in unofficial],
        "in_review": [d for d in docs if d.status == REVIEW],
        "optional_missing": [campaign.doc_name(d) for d in campaign.optional
                             if s.documents[d].status in (PENDING, MISSING, EXTENDED)],
        **campaign_context(status),
    }
    return PlannedMail(key=key, kind="reminder", template="reminder", cycle=status.cycle,
                       to=reachable(school.emails, suppressed), context=context, school=school.code,
                       meta={"missing": missing, "not_official": unofficial})
