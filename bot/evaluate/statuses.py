"""Score the status matrix (``status --json``) against the truth of the labels (pure)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from .labels import LabelledDoc, label_types, ratio

#
# What a coordinator acts on is the status of each school's required
# documents (``status --json``): a wrong "received" hides a gap, a wrong
# "missing" sends a needless reminder, a "review" holds one. The truth is
# derived from the labels alone: the first genuine copy of a document (of
# this campaign and year, not a continuation page) decides, on time when it
# arrived by the school's deadline.

TRUE_STATUSES = ("on_time", "late", "missing", "pending", "exempt")


@dataclass(frozen=True)
class StatusCell:
    """One school × document cell the bot got wrong."""

    school: str
    doc_type: str
    expected: str
    got: str


@dataclass(frozen=True)
class StatusMetrics:
    """How many cells of the status matrix (roster × required documents) the bot got right at ``at``."""

    at: str = ""
    cells: int = 0
    right: int = 0
    wrong: tuple[StatusCell, ...] = ()

    @property
    def accuracy(self) -> float:
        return ratio(self.right, self.cells)


def season_end(labels: dict) -> str:
    """The corpus's evaluation time: when its last message arrived (ISO 8601), or "" without any."""

    times = [datetime.fromisoformat(label["received_at"]) for label in labels.values() if label.get("received_at")]
    return max(times).isoformat() if times else ""


def first_receipts(labels: dict, until: str = "") -> dict[tuple[str, str], str]:
    """(school, document type) -> the receipt time (ISO 8601) of its first genuine copy, from the labels;
    with ``until``, only copies received by then."""

    first: dict[tuple[str, str], datetime] = {}
    end = datetime.fromisoformat(until) if until else None
    for label in labels.values():
        at = label.get("received_at")
        if not at:
            continue
        when = datetime.fromisoformat(at)
        if end is not None and when > end:
            continue
        for entry in label.get("attachments", []):
            doc = LabelledDoc("", "", label.get("kind", ""), "", 1, 1, entry)
            if not doc.genuine or not entry.get("school"):
                continue
            for doc_type in label_types(entry.get("doc_types")):
                key = (entry["school"], doc_type)
                if key not in first or when < first[key]:
                    first[key] = when
    return {key: when.isoformat() for key, when in first.items()}


def true_status(first: str | None, deadline: str, at: str, exempt: bool = False, grace_seconds: int = 0) -> str:
    """What a document's status should be at ``at``: on_time, late, missing, pending or exempt (ISO 8601 times)."""

    due = datetime.fromisoformat(deadline) + timedelta(seconds=grace_seconds)
    if first is not None:
        return "on_time" if datetime.fromisoformat(first) <= due else "late"
    if exempt:
        return "exempt"
    return "pending" if datetime.fromisoformat(at) <= due else "missing"


def score_status(labels: dict, status: dict, grace_seconds: int = 0) -> StatusMetrics:
    """Compare ``status --json`` (``status``) with the truth the labels give, for every roster school ×
    required document. A cell is right when the bot reports exactly the true status ("review" never is)."""
    at = status.get("now", "")
    first = first_receipts(labels, at)
    required = status.get("campaign", {}).get("required", [])
    right, wrong = 0, []
    for school in status.get("schools", []):
        for doc_type in required:
            got = school.get("documents", {}).get(doc_type, {}).get("status", "?")
            expected = true_status(first.get((school["code"], doc_type)), school["deadline"], at,
                                   bool(school.get("exempt")), grace_seconds)
            if got == expected:
                right += 1
            else:
                wrong.append(StatusCell(school["code"], doc_type, expected, got))
    return StatusMetrics(at=at, cells=right + len(wrong), right=right, wrong=tuple(wrong))


def format_status_report(metrics: StatusMetrics, max_cells: int = 20) -> str:
    """The status matrix's score for a person, then the wrong cells (school, document, expected, got)."""
    m = metrics
    lines = [f"Status matrix at {m.at or '?'} (every roster school x required document, as status --json)",
             f"  cells right               {m.accuracy:6.1%}  ({m.right}/{m.cells})"]
    if m.wrong:
        by_kind = Counter(f"{c.expected}->{c.got}" for c in m.wrong)
        lines.append("Wrong cells: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
        for c in m.wrong[:max_cells]:
            lines.append(f"  {c.school:24s} {c.doc_type:10s} expected {c.expected:8s} got {c.got}")
        if len(m.wrong) > max_cells:
            lines.append(f"  ... and {len(m.wrong) - max_cells} more")
    return "\n".join(lines)

