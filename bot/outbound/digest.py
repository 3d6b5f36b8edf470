"""The coordinator's daily digest as plain data: pure, no clock, no I/O.

``digest_content`` turns the status and ``DigestInputs`` (the facts beyond
the status that the shell reads: changes, corrections, bounces, unknown
senders, outbox problems...) into what the digest templates show, each list
capped (``digest_limits``) so that the HTML stays under Gmail's clipping
size. ``digest_due`` tells the scheduler when today's digest is due;
``official_rows`` are the rows of its spreadsheet's official-copy sheet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Iterable, Sequence

from ..mailkey import DIGEST, MailKey
from ..officialcopy import json_columns
from ..rules.model import Campaign, Rules
from ..status import LATE, RECEIVED, REVIEW, CampaignStatus
from .common import (KIND_NAMES, PlannedMail, campaign_context, not_official, reachable, short_doc_name,
                     short_error)
from .reminders import reason_not_to_remind
from .sections import (BatchSection, BounceRow, BurstRow, ChangeRow, CorrectionRow, Headline, LateRow, MissingGroup,
                       MissingSchool, OutboxRow, QuarantinedRow, RefusedRow, ReviewRow, Section, UnknownRow, cut)
from .review import by_school, official_batch_reply, official_questions, review_guess, review_sections, suggested_replies


# -- digest -----------------------------------------------------------------

def digest_key(cycle: int, now: datetime, tz) -> MailKey:
    """One digest per cycle and local day."""
    return MailKey(DIGEST, cycle, slot=now.astimezone(tz).date().isoformat())


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
                late.append(LateRow(s.name, s.code, campaign.doc_name(doc_id), short_doc_name(campaign, doc_id),
                                    d.received_at, d.late_by))
    late.sort(key=lambda x: x.received_at)

    groups: dict[str, list[MissingSchool]] = {}
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
        groups.setdefault(s.level, []).append(MissingSchool(
            s.name, s.code, tuple(campaign.doc_name(d) for d in missing),
            tuple(short_doc_name(campaign, d) for d in missing),
            # received, but no copy is the official paper: the school was asked for it (receipt, reminders)
            tuple(campaign.doc_name(d) for d in unofficial), tuple(short_doc_name(campaign, d) for d in unofficial),
            tuple(campaign.doc_name(d) for d in review), tuple(short_doc_name(campaign, d) for d in review),
            s.extended, s.deadline, tuple(s.untyped_review),
            bool(missing) and reason_not_to_remind(s, campaign) is not None))
    levels = _ordered_levels(rules, groups)
    missing_groups, shown = [], 0
    for level in levels:
        rows = groups[level]
        take = rows[:max(0, lim["missing"] - shown)]
        shown += len(take)
        if take:
            missing_groups.append(MissingGroup(level, tuple(take), len(rows)))

    by_code = {s.code: s for s in status.schools}
    # A counted copy the bot could not judge is a question of its own (is it the official paper?),
    # not a file to accept or reject.
    doubts = official_questions([r for r in status.review if r.official_doubt], names, campaign)
    review = []
    for r in status.review:
        if r.official_doubt:
            continue
        guess = review_guess(r.reason, r.filename, r.doc_types, campaign, r.reason_code)
        review.append(ReviewRow(
            r.ref, names.get(r.school, r.school) if r.school else None, r.school,
            tuple(campaign.doc_name(t) for t in r.doc_types), r.filename, r.from_addr, r.received_at, r.reason,
            guess, tuple(suggested_replies(r.ref, r.school, r.doc_types, guess.likely)),
            # the school's reminders wait for this file (see reason_not_to_remind)
            bool(r.school and not r.doc_types and r.school in by_code
                 and by_code[r.school].missing_required(campaign.required)
                 and reason_not_to_remind(by_code[r.school], campaign) is not None)))

    changes = [ChangeRow(c.ref, names.get(c.school, c.school) if c.school else None,
                         tuple(campaign.doc_name(t) for t in c.doc_types),
                         tuple(short_doc_name(campaign, t) for t in c.doc_types), c.filename, c.from_addr,
                         c.received_at, c.decision)
               for c in inputs.changes]
    corrections = [CorrectionRow(c.kind, names.get(c.school, c.school) if c.school else None,
                                 campaign.doc_name(c.doc_type) if c.doc_type else None,
                                 f"R{c.item_id}" if c.item_id else None, c.value, c.who, c.why, c.at, c.via)
                   for c in inputs.corrections]
    roster = {e: s.name for s in rules.schools for e in s.emails}
    bounces = [BounceRow(b.address, roster.get(b.address), b.count, b.first_at, b.last_at, b.detail,
                         b.address in inputs.suppressed, b.written_since)
               for b in inputs.bounces]
    bounces.sort(key=lambda b: not b.suppressed)  # stable: newest first within each
    bursts = [BurstRow(b.address, roster.get(b.address), b.count, b.first_at, b.last_at, b.until,
                       b.active(status.now), b.first_at.astimezone(tz).date() == b.last_at.astimezone(tz).date())
              for b in inputs.bursts]

    unreachable = unreachable_schools(status, rules, inputs.suppressed)
    days_to_report = (campaign.report_deadline(cycle).astimezone(tz).date() - today).days

    def capped(name: str, rows: Sequence) -> Section:
        return cut(rows, lim[name])

    return {
        **campaign_context(status),
        "today": today,
        "since": inputs.since,
        "headline": Headline(
            schools=total, complete=complete, incomplete=total - complete,
            exempt=status.exempt_count,  # counted in "complete", as status --json does
            percent=round(100 * complete / total, 1) if total else 0.0,
            target=100,
            days_to_deadline=(campaign.deadline(cycle).astimezone(tz).date() - today).days,
            days_to_report=days_to_report,
            review=len(review),
            official_review=len(doubts),
            late=len(late),
            missing_schools=missing_count),
        "changes": capped("changes", changes),
        # the HTML lists only the counted ones: the files sent to review are in their own section
        "changes_counted": by_school(capped("changes", [c for c in changes if c.decision == "counted"])),
        "changes_review": sum(1 for c in changes if c.decision == "review"),
        "completed": capped("completed", newly_complete(status, inputs.complete_before)),
        "corrections": capped("corrections", corrections),
        "late": capped("late", late),
        "late_by_school": by_school(capped("late", late)).groups,
        "missing_groups": tuple(missing_groups),
        "missing_more": max(0, missing_count - shown),
        "review": review_sections(review, lim["review"]),
        "official_review": _with_batch(capped("review", doubts),
                                       official_batch_reply([d.ref for d in doubts[:lim["review"]]])),
        "todo": todo_list(len(review), sum(1 for r in review if r.guess.likely), unreachable,
                          len(inputs.quarantined), len(inputs.outbox_problems), len(inputs.refused_commands),
                          report_draft_due(campaign, cycle, status.now), days_to_report, official=len(doubts)),
        "unknown": capped("unknown", [UnknownRow(u.address, u.count, u.last_at, u.last_subject,
                                                 tuple(names.get(c, c) for c in u.counted_for))
                                      # whose mail was not counted for any school first: someone must look
                                      for u in sorted(inputs.unknown_senders, key=lambda u: bool(u.counted_for))]),
        "bounces": capped("bounces", bounces),
        "bursts": capped("bursts", bursts),
        "unreachable": capped("unreachable", unreachable),
        "outbox": capped("outbox", [OutboxRow(p.id, p.kind, KIND_NAMES.get(p.kind, p.kind),
                                              names.get(p.school, p.school), p.status, p.subject,
                                              short_error(p.last_error), p.attempts)
                                    for p in inputs.outbox_problems]),
        "outbox_waiting": inputs.outbox_waiting,
        "coordinators": list(coordinators),
        "refused": capped("refused", [RefusedRow(r.from_addr, r.received_at, r.subject, r.reason, r.detail,
                                                 tuple(r.lines[:10]), max(0, len(r.lines) - 10))
                                      for r in inputs.refused_commands]),
        "report_draft": report_draft_due(campaign, cycle, status.now),
        "quarantined": capped("quarantined", [QuarantinedRow(q.from_addr or q.message_id, q.subject, q.received_at,
                                                             q.error, q.ref)
                                              for q in inputs.quarantined]),
    }


def _with_batch(section: Section, batch: str) -> BatchSection:
    return BatchSection(section.rows, section.total, section.more, batch)


@dataclass(frozen=True)
class Todo:
    """One line of "Việc cần làm hôm nay": a kind of decision waiting for the coordinator and how many;
    for the review queue, how many files are probably of this campaign (``likely``) and how many not."""

    kind: str
    count: int
    likely: int = 0
    unlikely: int = 0


def todo_list(review: int, review_likely: int, unreachable: list, quarantined: int, outbox_failed: int,
              refused: int, report_due: bool, days_to_report: int, official: int = 0) -> list[Todo]:
    """"Việc cần làm hôm nay": the decisions waiting for the coordinator, in
    the order the digest shows them, each with its count (none: empty).
    ``official``: counted copies the bot could not judge (is it the official paper?)."""
    todo = []
    if review:
        todo.append(Todo("review", review, review_likely, review - review_likely))
    if official:
        todo.append(Todo("official", official))
    if unreachable:
        todo.append(Todo("unreachable", len(unreachable)))
    if quarantined:
        todo.append(Todo("quarantined", quarantined))
    if report_due:
        todo.append(Todo("report", max(0, days_to_report)))
    if outbox_failed:
        todo.append(Todo("outbox", outbox_failed))
    if refused:
        todo.append(Todo("refused", refused))
    return todo


def newly_complete(status: CampaignStatus, complete_before: Iterable[str]) -> list[str]:
    """Names of the schools whose dossier is complete now but was not at the
    previous digest (an exemption is not a complete dossier)."""
    before = frozenset(complete_before)
    return [s.name for s in status.schools if s.complete and s.exempt is None and s.code not in before]


@dataclass(frozen=True)
class Unreachable:
    """A school no mail reaches (every roster address bounced): its name, code and addresses, and
    whether it is complete or exempt, else the names of the documents it still lacks."""

    school: str
    code: str
    emails: tuple[str, ...]
    complete: bool
    exempt: bool
    missing: tuple[str, ...]


def unreachable_schools(status: CampaignStatus, rules: Rules, suppressed: Iterable[str]) -> list[Unreachable]:
    """The schools whose every roster address is suppressed: no mail reaches
    them, the coordinator has to phone them. With what they still lack."""
    schools = {s.code: s for s in rules.schools}
    campaign = status.campaign
    return [Unreachable(s.name, s.code, tuple(schools[s.code].emails), s.complete, s.exempt is not None,
                        tuple(campaign.doc_name(d) for d in s.missing_required(campaign.required)))
            for s in status.schools
            if schools[s.code].emails and not reachable(schools[s.code].emails, suppressed)]


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
            rows.append(OfficialRow(s.code, s.name, status.campaign.doc_name(doc_id), d.status, d.received_at,
                                    d.evidence is not None, d.official, cols["signed_by"], cols["seal"],
                                    cols["number"], cols["date"], tuple(cols["problems"])))
    return rows


def _ordered_levels(rules: Rules, groups: dict) -> list[str]:
    order = list(dict.fromkeys(s.level for s in rules.schools))
    return [lv for lv in order if lv in groups] + sorted(lv for lv in groups if lv not in order)
