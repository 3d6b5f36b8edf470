"""The report's numbers and its annex, from a ``CampaignStatus`` (pure).

Definitions (also printed in the report):
- a school is *exempt* when the coordinator or the rules exempted it;
- *complete on time*: every required document counted, the first copy of
  each received by the school's (possibly extended) deadline;
- *complete late*: every required document counted, at least one late;
- *incomplete*: any other school (missing, or waiting for review);
- the *rate* is complete / schools that had to submit (exempt ones excluded).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from ..outbound.xlsx import shown_status
from ..rules.model import Campaign, Rules
from ..status import LATE, ON_TIME, REVIEW, CampaignStatus, SchoolStatus

OUTCOMES = ("on_time", "late", "incomplete", "exempt")


@dataclass(frozen=True)
class LevelFigures:
    """The numbers of one level (or of all schools: ``level == ""``)."""

    level: str
    label: str
    schools: int = 0
    on_time: int = 0
    late: int = 0
    incomplete: int = 0
    exempt: int = 0

    @property
    def required(self) -> int:
        """Schools that had to submit (not exempt)."""
        return self.schools - self.exempt

    @property
    def complete(self) -> int:
        return self.on_time + self.late

    @property
    def rate(self) -> float:
        """Percent of the schools that had to submit whose dossier is complete (one decimal)."""
        return round(100 * self.complete / self.required, 1) if self.required else 0.0


@dataclass(frozen=True)
class IncompleteSchool:
    code: str
    name: str
    level: str
    level_label: str
    missing: tuple[str, ...]    # document names
    in_review: tuple[str, ...]  # document names
    extended: bool
    deadline: datetime
    nothing: bool = False  # no required document received at all (and none in review)
    # received, but no copy is the official paper yet (issue 16): not official, or not yet judged
    not_official: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportFigures:
    cycle: int
    now: datetime
    deadline: datetime
    report_deadline: datetime
    levels: tuple[LevelFigures, ...]
    total: LevelFigures
    incomplete_schools: tuple[IncompleteSchool, ...]
    review: int  # files waiting for the coordinator's review
    target: int = 100


def outcome(school: SchoolStatus, required: Sequence[str]) -> str:
    """on_time, late, incomplete or exempt (see the module docstring)."""
    if school.exempt is not None:
        return "exempt"
    if not school.complete:
        return "incomplete"
    if any(school.documents[d].status == LATE for d in required):
        return "late"
    return "on_time"


def level_order(rules: Rules) -> list[str]:
    """Levels in the order the roster first lists them."""
    return list(dict.fromkeys(s.level for s in rules.schools))


def report_figures(status: CampaignStatus, levels: Sequence[str] = (), labels: dict | None = None) -> ReportFigures:
    """The report's numbers: by level (``levels`` gives the order; others
    follow alphabetically) and in total. ``labels`` maps a level code to
    its name (``LEVEL`` of ``_common.txt``)."""
    campaign = status.campaign
    labels = labels or {}
    counts: dict[str, dict[str, int]] = {}
    incomplete = []
    for s in status.schools:
        result = outcome(s, campaign.required)
        counts.setdefault(s.level, dict.fromkeys(OUTCOMES, 0))[result] += 1
        if result == "incomplete":
            missing = s.missing_required(campaign.required)
            incomplete.append(IncompleteSchool(
                s.code, s.name, s.level, labels.get(s.level, s.level),
                tuple(campaign.doc_name(d) for d in missing),
                tuple(campaign.doc_name(d) for d in campaign.required if s.documents[d].status == REVIEW),
                s.extended, s.deadline, nothing=len(missing) == len(campaign.required),
                not_official=tuple(campaign.doc_name(d) for d in campaign.required if _unofficial(s, campaign, d))))
    order = [lv for lv in levels if lv in counts] + sorted(lv for lv in counts if lv not in levels)
    rows = tuple(LevelFigures(lv, labels.get(lv, lv), sum(counts[lv].values()), **counts[lv]) for lv in order)
    total = LevelFigures("", "", sum(r.schools for r in rows), sum(r.on_time for r in rows), sum(r.late for r in rows),
                         sum(r.incomplete for r in rows), sum(r.exempt for r in rows))
    rank = {lv: i for i, lv in enumerate(order)}
    incomplete.sort(key=lambda s: rank[s.level])
    return ReportFigures(status.cycle, status.now, campaign.deadline(status.cycle),
                         campaign.report_deadline(status.cycle), rows, total, tuple(incomplete), len(status.review))


def _unofficial(s: SchoolStatus, campaign: Campaign, doc_id: str) -> bool:
    """Received, checked, the rules require an official copy, and none is (yet)."""
    d = s.documents[doc_id]
    return (d.status in (ON_TIME, LATE) and d.evidence is not None and d.official is not True
            and not campaign.doc_type(doc_id).official.empty)


@dataclass(frozen=True)
class AnnexCell:
    status: str
    received_at: datetime | None = None
    versions: int = 0
    required: bool = True

    @property
    def shown(self) -> str:
        """The status as shown: an optional document not sent is not "overdue"."""
        return shown_status(self.status, self.required)


@dataclass(frozen=True)
class AnnexRow:
    """One row of the annex: a level heading (``school`` empty) or a school."""

    level: str
    number: int = 0
    code: str = ""
    school: str = ""
    cells: tuple[AnnexCell, ...] = ()
    outcome: str = ""
    count: int = 0  # schools of the level, on a heading row

    @property
    def heading(self) -> bool:
        return not self.school


def annex_rows(status: CampaignStatus, levels: Sequence[str] = ()) -> list[AnnexRow]:
    """Every school, grouped by level (a heading row before each level),
    numbered 1..N across the whole list; one cell per document type."""
    campaign = status.campaign
    by_level: dict[str, list[SchoolStatus]] = {}
    for s in status.schools:
        by_level.setdefault(s.level, []).append(s)
    order = [lv for lv in levels if lv in by_level] + sorted(lv for lv in by_level if lv not in levels)
    rows, n = [], 0
    for lv in order:
        rows.append(AnnexRow(lv, count=len(by_level[lv])))
        for s in by_level[lv]:
            n += 1
            cells = tuple(AnnexCell(s.documents[d.id].status, s.documents[d.id].received_at, s.documents[d.id].versions,
                                    d.required)
                          for d in campaign.doc_types)
            rows.append(AnnexRow(lv, n, s.code, s.name, cells, outcome(s, campaign.required)))
    return rows
