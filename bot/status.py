"""Per-school, per-document status: one pure function of (facts, campaign, now).

Statuses are never stored: they are recomputed from the recorded items and
the coordinator's corrections every time, so they cannot go stale.

For each school and document type of a cycle the FIRST counted receipt
decides; a later corrected version is kept as a new version and does not
turn on_time into late. Receipt time is the mailbox's INTERNALDATE.

Official copies (issue 16): a document is ``official`` when any of its
copies is (a later signed copy makes it official; its ``received_at`` stays
the first copy's: timeliness counts from the first copy, official or not).
A dossier is complete only when each required document whose policy is not
empty has an official copy; copies recorded before the check existed (no
evidence) are not held against the school. A counted copy the bot cannot
judge stays counted and is a question in the review queue.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Sequence

from .model import Correction, ReasonCode, StoredItem
from .official.evidence import Evidence
from .officialcopy import best_copy, satisfies
from .record import field, frozen, replace
from .rules.model import Campaign, School

ON_TIME, LATE, PENDING, MISSING, EXEMPT, EXTENDED, REVIEW = (
    "on_time", "late", "pending", "missing", "exempt", "extended", "review")
RECEIVED = (ON_TIME, LATE)


@frozen
class Receipt:
    """One counted copy of a document for a school (a fact)."""

    school: str
    doc_type: str
    received_at: datetime
    source: str  # "R17" for a mailed item, "paper" for a delivery recorded by hand
    filename: str = ""
    # Is this copy the official paper (issue 16)? True/False, None: the bot
    # cannot tell or did not check. ``evidence``: what was seen (None: not checked).
    official: bool | None = None
    evidence: Evidence | None = None


@frozen
class ReviewEntry:
    ref: str
    message_id: str
    from_addr: str
    filename: str
    received_at: datetime
    school: str | None
    doc_types: tuple[str, ...]
    reason: str
    reason_code: ReasonCode | None = None  # None for items recorded before codes existed
    # The question is whether a counted copy is the official paper (the bot
    # could not tell: ``reason`` holds its doubts), not what the file is.
    official_doubt: bool = False


@frozen
class DocStatus:
    status: str
    received_at: datetime | None = None
    late_by: timedelta | None = None
    versions: int = 0
    last_received_at: datetime | None = None
    source: str = ""
    filename: str = ""
    # The best copy received (issue 16): True when any copy is official, else
    # None when a copy is undecided, else False; ``evidence`` of that copy.
    official: bool | None = None
    evidence: Evidence | None = None


@frozen
class SchoolStatus:
    code: str
    name: str
    level: str
    deadline: datetime
    extended: bool
    exempt: str | None  # the reason, when exempt
    complete: bool
    documents: dict = field(default_factory=dict)  # doc type id -> DocStatus
    # References of the school's files waiting in review with no document type
    # (a scan whose title could not be read): the school is not chased while they
    # wait. A mail without any attachment is not such a file.
    untyped_review: tuple[str, ...] = ()

    def missing_required(self, required: Sequence[str]) -> list[str]:
        return [d for d in required if self.documents[d].status in (PENDING, MISSING, EXTENDED)]


@frozen
class CampaignStatus:
    campaign: Campaign
    cycle: int
    now: datetime
    schools: tuple[SchoolStatus, ...]
    review: tuple[ReviewEntry, ...]

    @property
    def complete_count(self) -> int:
        """Schools whose dossier is complete, exempt schools included (as ``status --json`` counts them)."""
        return sum(1 for s in self.schools if s.complete)

    @property
    def exempt_count(self) -> int:
        """Exempt schools (counted in ``complete_count``)."""
        return sum(1 for s in self.schools if s.exempt is not None)


@frozen
class Facts:
    """Everything status needs, after corrections are applied."""

    receipts: tuple[Receipt, ...]
    review: tuple[ReviewEntry, ...]
    exemptions: dict  # school -> reason
    extensions: dict  # school -> aware datetime


# What the coordinator's decision on a copy adds to its evidence (Vietnamese: the school's receipt shows it).
CONFIRMED_OFFICIAL = "Phòng đã xác nhận là bản chính thức"
DENIED_OFFICIAL = "Phòng xác định đây không phải bản chính thức: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"
PAPER_COPY = "bản giấy nộp trực tiếp tại Phòng"
OFFICIAL_DOUBT = "chưa chắc là bản chính thức"


def settlements(corrections: Iterable[Correction]) -> dict[int, bool]:
    """Item id -> official, as the coordinator settled it (``official`` / ``not_official``; the latest wins)."""
    out: dict[int, bool] = {}
    for corr in corrections:
        if corr.kind in ("official", "not_official") and corr.item_id is not None:
            out[corr.item_id] = corr.kind == "official"
    return out


def item_evidence(item: StoredItem, settled: dict[int, bool]) -> Evidence | None:
    """The item's evidence with the coordinator's decision on it, if any (None: not checked, not settled)."""
    if item.id in settled:
        return decided_evidence(item.evidence, settled[item.id])
    return item.evidence


def decided_evidence(evidence: Evidence | None, official: bool) -> Evidence:
    """A copy's evidence once the coordinator settled it (``official`` / ``not_official``)."""
    base = evidence or Evidence(official=None)
    if official:
        return replace(base, official=True, seen=(*base.seen, CONFIRMED_OFFICIAL), doubts=(), missing=())
    return replace(base, official=False, problems=(*base.problems, DENIED_OFFICIAL), doubts=())


def apply_corrections(items: Iterable[StoredItem], corrections: Iterable[Correction], campaign: Campaign,
                      cycle: int, now: datetime) -> Facts:
    """Turn classified items plus the coordinator's corrections into facts, as of ``now``.

    Corrections are applied in the order they were made; the latest about an
    item wins. They refer to items by id, which survives re-classification.
    Mail received, and corrections made, after ``now`` do not exist yet
    (this is what makes ``--now`` simulations truthful): the store selects
    the facts as of ``now`` (``as_of``, in SQL); this function keeps the
    same promise for any caller of its own.
    """
    items = [i for i in items if i.cycle == cycle and i.received_at <= now]
    corrections = [c for c in corrections if c.at <= now]
    by_id = {i.id: i for i in items}
    overrides: dict[int, Correction] = {}
    settled = settlements(c for c in corrections if c.cycle == cycle)
    paper: list[Receipt] = []
    exemptions = {code: why for (c, code), why in campaign.exemptions.items() if c == cycle}
    extensions = {code: until for (c, code), until in campaign.extensions.items() if c == cycle}
    for corr in corrections:
        if corr.cycle != cycle:
            continue
        if corr.kind in ("assign", "reject") and corr.item_id is not None:
            overrides[corr.item_id] = corr
        elif corr.kind == "received":
            # the paper itself, handed in: the official copy
            paper.append(Receipt(corr.school, corr.doc_type, datetime.fromisoformat(corr.value), "paper",
                                 official=True, evidence=Evidence(official=True, seen=(PAPER_COPY,))))
        elif corr.kind == "exempt":
            exemptions[corr.school] = corr.why
        elif corr.kind == "unexempt":
            exemptions.pop(corr.school, None)
        elif corr.kind == "extend":
            extensions[corr.school] = datetime.fromisoformat(corr.value)
    receipts: list[Receipt] = list(paper)
    review: list[ReviewEntry] = []
    for item in by_id.values():
        corr = overrides.get(item.id)
        evidence = item_evidence(item, settled)
        official = evidence.official if evidence is not None else None
        if corr is not None:
            if corr.kind == "assign":
                receipts.append(Receipt(corr.school, corr.doc_type, item.received_at, item.ref, item.filename,
                                        official, evidence))
                if evidence is not None and official is None:
                    review.append(_doubt(item, corr.school, (corr.doc_type,), evidence))
            continue
        if item.decision == "counted" and item.campaign and item.school:
            receipts.extend(Receipt(item.school, t, item.received_at, item.ref, item.filename, official, evidence)
                            for t in item.doc_types)
            if evidence is not None and official is None:  # counted, and a question for the coordinator
                review.append(_doubt(item, item.school, item.doc_types, evidence))
        elif item.decision == "review":
            review.append(ReviewEntry(item.ref, item.message_id, item.from_addr, item.filename, item.received_at,
                                      item.school, item.doc_types, "; ".join(item.reasons), item.reason_code))
    return Facts(tuple(receipts), tuple(sorted(review, key=lambda r: r.received_at)), exemptions, extensions)


def _doubt(item: StoredItem, school: str | None, doc_types: tuple[str, ...], evidence: Evidence) -> ReviewEntry:
    """The review question of a counted copy the bot could not judge: its doubts are the reason."""
    why = "; ".join(evidence.doubts) or "không đủ căn cứ để kết luận"
    return ReviewEntry(item.ref, item.message_id, item.from_addr, item.filename, item.received_at, school,
                       doc_types, f"{OFFICIAL_DOUBT}: {why}", official_doubt=True)


def compute_status(facts: Facts, campaign: Campaign, schools: Sequence[School], cycle: int,
                   now: datetime) -> CampaignStatus:
    """The status of every school of the roster for ``cycle`` at ``now``."""
    by_key: dict[tuple[str, str], list[Receipt]] = {}
    for r in facts.receipts:
        by_key.setdefault((r.school, r.doc_type), []).append(r)
    in_review = {(r.school, t) for r in facts.review if r.school for t in r.doc_types}
    untyped: dict[str, list[str]] = {}
    for r in facts.review:
        if r.school and not r.doc_types and r.filename and not r.official_doubt:  # a mail with no file at all holds nothing
            untyped.setdefault(r.school, []).append(r.ref)
    result = []
    for school in schools:
        deadline = facts.extensions.get(school.code, campaign.deadline(cycle))
        extended = school.code in facts.extensions
        exempt = facts.exemptions.get(school.code)
        docs = {}
        for doc in campaign.doc_types:
            copies = sorted(by_key.get((school.code, doc.id), []), key=lambda r: r.received_at)
            docs[doc.id] = doc_status(copies, deadline + campaign.grace, now, exempt is not None, extended,
                                      (school.code, doc.id) in in_review)
        complete = all(docs[d].status == EXEMPT or (docs[d].status in (ON_TIME, LATE) and satisfies(
            campaign.doc_type(d).official, [r.evidence for r in by_key.get((school.code, d), [])]))
            for d in campaign.required)
        result.append(SchoolStatus(school.code, school.name, school.level, deadline, extended, exempt, complete, docs,
                                   tuple(untyped.get(school.code, ()))))
    return CampaignStatus(campaign, cycle, now, tuple(result), facts.review)


def doc_status(copies: Sequence[Receipt], deadline: datetime, now: datetime, exempt: bool, extended: bool,
               in_review: bool) -> DocStatus:
    """Status of one document of one school; ``copies`` sorted by receipt time."""
    if copies:
        first, last = copies[0], copies[-1]
        late_by = first.received_at - deadline if first.received_at > deadline else None
        best = best_copy(copies, lambda r: r.evidence)
        return DocStatus(LATE if late_by else ON_TIME, first.received_at, late_by, len(copies),
                         last.received_at, first.source, first.filename,
                         official=best.official if best.evidence is not None else None, evidence=best.evidence)
    if exempt:
        return DocStatus(EXEMPT)
    if in_review:
        return DocStatus(REVIEW)
    if now <= deadline:
        return DocStatus(EXTENDED if extended else PENDING)
    return DocStatus(MISSING)


def status_for(store, rules, now: datetime, cycle: int | None = None) -> CampaignStatus:
    """Read the facts of a cycle as of ``now`` from the store and compute the status (the shell's helper)."""
    campaign = rules.campaign
    cycle = campaign.cycle_of(now) if cycle is None else cycle
    facts = apply_corrections(store.items(cycle=cycle, as_of=now), store.corrections(cycle, as_of=now), campaign,
                              cycle, now)
    return compute_status(facts, campaign, rules.schools, cycle, now)


def to_json(status: CampaignStatus) -> dict:
    """The documented JSON shape of ``status --json``."""
    c, tz = status.campaign, status.campaign.tz
    return {
        "campaign": {"id": c.id, "name": c.name, "cycle": status.cycle,
                     "deadline": c.deadline(status.cycle).isoformat(),
                     "report_deadline": c.report_deadline(status.cycle).isoformat(),
                     "required": list(c.required), "optional": list(c.optional)},
        "now": status.now.astimezone(tz).isoformat(),
        "summary": {"schools": len(status.schools), "complete": status.complete_count,
                    "exempt": status.exempt_count, "review": len(status.review)},
        "schools": [_school_json(s, tz) for s in status.schools],
        "review": [{"ref": r.ref, "message_id": r.message_id, "from": r.from_addr, "filename": r.filename,
                    "received_at": r.received_at.astimezone(tz).isoformat(), "school": r.school,
                    "doc_types": list(r.doc_types), "reason": r.reason, "official_doubt": r.official_doubt}
                   for r in status.review],
    }


def _school_json(s: SchoolStatus, tz) -> dict:
    out = {"code": s.code, "name": s.name, "level": s.level, "complete": s.complete,
           "deadline": s.deadline.astimezone(tz).isoformat(), "extended": s.extended, "exempt": s.exempt is not None,
           "documents": {}}
    if s.exempt is not None:
        out["exempt_reason"] = s.exempt
    if s.untyped_review:
        out["untyped_review"] = list(s.untyped_review)  # files in review with no document type yet
    for doc_id, d in s.documents.items():
        entry = {"status": d.status}
        if d.received_at:
            entry["received_at"] = d.received_at.astimezone(tz).isoformat()
            entry["versions"] = d.versions
            entry["source"] = d.source
            if d.filename:
                entry["filename"] = d.filename
        if d.late_by:
            entry["late_by_seconds"] = int(d.late_by.total_seconds())
        if d.versions > 1:
            entry["last_received_at"] = d.last_received_at.astimezone(tz).isoformat()
        entry["official"] = d.official  # true / false / null: the bot cannot tell, or did not check
        if d.received_at:
            entry["evidence"] = d.evidence.to_json() if d.evidence is not None else None
        out["documents"][doc_id] = entry
    return out


__all__ = ["compute_status", "apply_corrections", "doc_status", "status_for", "to_json", "Receipt", "Facts",
           "CampaignStatus", "SchoolStatus", "DocStatus", "ReviewEntry"]
