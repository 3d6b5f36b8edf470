"""Score the bot's classification against a labelled corpus.

Pure functions, no I/O besides ``evaluate_corpus`` (runs the real pipeline on
a corpus: ``python -m bot eval --corpus DIR``) and the small CLI at the bottom:

    metrics = score(labels, rows)
    print(format_report(metrics))

``labels`` is the ``labels.json`` written by ``tests.corpus.generate``
(message file -> label with ``message_id`` and ``attachments``); ``rows``
are the bot's export rows (``export --format json``), one per attachment or
document part, with at least ``message_id``, ``filename``, ``school``,
``doc_types``, ``campaign``, ``decision`` and ``reasons`` (and
``first_page``/``last_page`` for parts of a combined PDF).

Only rows the bot COUNTED (decision ``counted``) enter the precisions: a
wrong school or type that goes to review costs recall, not precision.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import app
from .clock import parse_instant
from .config import MailboxConfig, load_config, parse_config
from .context import Context
from .errors import UsageError
from .rules import load_rules
from .status import status_for, to_json
from .store import Store

COUNTED, REVIEW = "counted", "review"


@dataclass(frozen=True)
class ErrorItem:
    """One thing the bot got wrong, with enough to find it in the corpus.

    ``kind``: wrong_school, wrong_type, other_campaign_counted,
    earlier_year_counted, other_issuer_counted, unlabelled_counted, review,
    ignored, missing, continuation_review.
    """

    kind: str
    message_file: str
    message_id: str
    filename: str
    first_page: int
    expected: str
    got: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metrics:
    counted: int = 0
    school_correct: int = 0
    type_correct: int = 0
    genuine: int = 0
    genuine_found: int = 0        # counted with the right school and type
    genuine_school_found: int = 0  # counted with the right school (whatever the type)
    genuine_type_found: int = 0    # counted with the right type (whatever the school)
    genuine_review: int = 0       # sent to the review queue, not counted
    genuine_ignored: int = 0      # rows exist, none counted or in review
    genuine_missing: int = 0      # no row at all
    other_campaign_counted: int = 0
    earlier_year_counted: int = 0
    other_issuer_counted: int = 0  # a document of Công an phường, UBND phường... counted as a school's
    unlabelled_counted: int = 0
    files: int = 0                 # rows about a file or document part (not about the mail)
    review_items: int = 0          # rows in the review queue, of any kind
    continuation_pages: int = 0    # labelled pages that continue a photographed document
    continuation_review: int = 0   # ... that became review items of their own
    errors: tuple[ErrorItem, ...] = field(default_factory=tuple)

    @property
    def school_precision(self) -> float:
        return _ratio(self.school_correct, self.counted)

    @property
    def type_precision(self) -> float:
        return _ratio(self.type_correct, self.counted)

    @property
    def recall(self) -> float:
        return _ratio(self.genuine_found, self.genuine)

    @property
    def school_recall(self) -> float:
        """Genuine documents counted for the right school."""
        return _ratio(self.genuine_school_found, self.genuine)

    @property
    def type_recall(self) -> float:
        """Genuine documents counted as the right document type."""
        return _ratio(self.genuine_type_found, self.genuine)

    @property
    def review_rate(self) -> float:
        return _ratio(self.genuine_review, self.genuine)

    @property
    def review_share(self) -> float:
        """Review items per file seen: the coordinator's workload."""
        return _ratio(self.review_items, self.files) if self.files else 0.0

    @property
    def wrong_campaign_counted(self) -> int:
        """Documents of another campaign, issuer or an earlier year counted (must be 0)."""
        return self.other_campaign_counted + self.earlier_year_counted + self.other_issuer_counted


def _ratio(a: int, b: int) -> float:
    # Nothing to measure is a perfect score: an empty run made no mistake.
    return a / b if b else 1.0


# --------------------------------------------------------------------------- matching

def normalise_message_id(value: str | None) -> str:
    """``<ABC@x>``, `` abc@x `` and ``ABC@X`` are the same message."""
    return (value or "").strip().strip("<>").strip().lower()


def normalise_filename(value: str | None) -> str:
    """NFC, trimmed: Apple Mail sends NFD names, labels hold NFC."""
    return unicodedata.normalize("NFC", value or "").strip()


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _Doc:
    """One labelled document (part)."""

    message_file: str
    message_id: str
    kind: str
    filename: str
    first_page: int
    last_page: int
    entry: dict

    @property
    def genuine(self) -> bool:
        """A document of this campaign and year (a page continuing one is not a document of its own)."""
        return bool(self.entry.get("campaign")) and bool(self.entry.get("doc_types")) and not self.continuation

    @property
    def continuation(self) -> bool:
        return bool(self.entry.get("continues"))


class _Index:
    """Finds the labelled document a row speaks of.

    Tries, in order: the exact name, the name without a ZIP folder, the same
    ignoring case; then, among that file's documents, the part whose page
    range holds the row's first page (a bot may report a part as 1..n when
    it did not split a combined PDF).
    """

    def __init__(self, labels: dict) -> None:
        self.docs: list[_Doc] = []
        self._by_name: dict[tuple[str, str], list[_Doc]] = {}
        for message_file, label in sorted(labels.items()):
            mid = normalise_message_id(label.get("message_id"))
            for entry in label.get("attachments", []):
                name = normalise_filename(entry.get("filename"))
                first = int(entry.get("first_page") or 1)
                doc = _Doc(message_file, mid, label.get("kind", ""), name, first,
                           int(entry.get("last_page") or first), entry)
                self.docs.append(doc)
                for key in self._keys(mid, name):
                    self._by_name.setdefault(key, []).append(doc)

    @staticmethod
    def _keys(mid: str, name: str) -> list[tuple[str, str]]:
        base = _basename(name)
        keys = [(mid, name), (mid, "base:" + base), (mid, "fold:" + base.casefold())]
        return list(dict.fromkeys(keys))

    def find(self, row: dict) -> _Doc | None:
        mid = normalise_message_id(row.get("message_id"))
        name = normalise_filename(row.get("filename"))
        page = int(row.get("first_page") or 1)
        base = _basename(name)
        for key in ((mid, name), (mid, "base:" + base), (mid, "fold:" + base.casefold())):
            candidates = self._by_name.get(key)
            if candidates:
                return _pick_part(candidates, page, _types(row.get("doc_types")))
        return None


def _pick_part(candidates: list[_Doc], page: int, types: frozenset[str] = frozenset()) -> _Doc:
    """The labelled part a row's first page points at. Two files of one mail
    may share a name ("CamScanner 07-10-2023 12.12.pdf"): then the one of the
    row's type is taken, so a right answer is not scored against the other."""
    for fits in (lambda d: d.first_page == page, lambda d: d.first_page <= page <= d.last_page):
        found = [doc for doc in candidates if fits(doc)]
        if found:
            return next((doc for doc in found if _types(doc.entry.get("doc_types")) == types), found[0])
    return candidates[0]


# --------------------------------------------------------------------------- scoring

def _types(value) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(t.strip() for t in value.split(",") if t.strip())
    return frozenset(value)


def _reasons(row: dict) -> tuple[str, ...]:
    value = row.get("reasons") or ()
    return (value,) if isinstance(value, str) else tuple(str(r) for r in value)


def _leak_kind(doc: _Doc) -> str:
    """A counted document that is not of this campaign and year."""
    if doc.entry.get("issuer"):
        return "other_issuer_counted"
    earlier = doc.kind == "earlier_year" or (doc.entry.get("topic", "antq") == "antq" and doc.entry.get("doc_types"))
    return "earlier_year_counted" if earlier else "other_campaign_counted"


def _error(kind: str, doc: _Doc | None, row: dict | None, expected: str, got: str) -> ErrorItem:
    return ErrorItem(
        kind=kind,
        message_file=doc.message_file if doc else "",
        message_id=doc.message_id if doc else normalise_message_id((row or {}).get("message_id")),
        filename=doc.filename if doc else normalise_filename((row or {}).get("filename")),
        first_page=doc.first_page if doc else int((row or {}).get("first_page") or 1),
        expected=expected, got=got, reasons=_reasons(row or {}),
    )


def _fmt_school_types(school, types) -> str:
    return f"{school or '-'} {'+'.join(sorted(_types(types))) or '-'}"


def score(labels: dict, rows: list[dict]) -> Metrics:
    """Compare the bot's rows with the labels (see the module docstring)."""
    index = _Index(labels)
    counts: Counter = Counter()
    errors: list[ErrorItem] = []
    rows_of: dict[int, list[dict]] = {}
    for row in rows:
        doc = index.find(row)
        if doc is not None:
            rows_of.setdefault(id(doc), []).append(row)
        if row.get("filename"):
            counts["files"] += 1
        if row.get("decision") == REVIEW:
            counts["review_items"] += 1
        if row.get("decision") == COUNTED:
            _score_counted(row, doc, counts, errors)
    for doc in index.docs:
        if doc.genuine:
            _score_genuine(doc, rows_of.get(id(doc), []), counts, errors)
        elif doc.continuation:
            counts["continuation_pages"] += 1
            review = [r for r in rows_of.get(id(doc), []) if r.get("decision") == REVIEW]
            if review:
                counts["continuation_review"] += 1
                errors.append(_error("continuation_review", doc, review[0], "part of " + doc.entry["continues"],
                                     "review"))
    return Metrics(errors=tuple(errors), **counts)


def _score_counted(row: dict, doc: _Doc | None, counts: Counter, errors: list[ErrorItem]) -> None:
    counts["counted"] += 1
    got = _fmt_school_types(row.get("school"), row.get("doc_types"))
    if doc is None:
        counts["unlabelled_counted"] += 1
        errors.append(_error("unlabelled_counted", None, row, "no such labelled document", got))
        return
    expected = _fmt_school_types(doc.entry.get("school"), doc.entry.get("doc_types"))
    if row.get("school") == doc.entry.get("school"):
        counts["school_correct"] += 1
    else:
        errors.append(_error("wrong_school", doc, row, expected, got))
    if _types(row.get("doc_types")) == _types(doc.entry.get("doc_types")):
        counts["type_correct"] += 1
    else:
        errors.append(_error("wrong_type", doc, row, expected, got))
    if not doc.entry.get("campaign"):
        kind = _leak_kind(doc)
        counts[kind] += 1
        errors.append(_error(kind, doc, row, f"not this campaign ({doc.entry.get('topic', '?')}, "
                                                f"{doc.entry.get('year', '?')})", got))


def _score_genuine(doc: _Doc, rows: list[dict], counts: Counter, errors: list[ErrorItem]) -> None:
    counts["genuine"] += 1
    expected = _fmt_school_types(doc.entry.get("school"), doc.entry.get("doc_types"))
    counted = [r for r in rows if r.get("decision") == COUNTED]
    school_ok = [r for r in counted if r.get("school") == doc.entry.get("school")]
    type_ok = [r for r in counted if _types(r.get("doc_types")) == _types(doc.entry.get("doc_types"))]
    counts["genuine_school_found"] += bool(school_ok)
    counts["genuine_type_found"] += bool(type_ok)
    right = [r for r in school_ok if r in type_ok]
    if right:
        counts["genuine_found"] += 1
        return
    if any(r.get("decision") == COUNTED for r in rows):
        return  # counted, but wrong: already listed as wrong_school / wrong_type
    review = [r for r in rows if r.get("decision") == REVIEW]
    if review:
        counts["genuine_review"] += 1
        errors.append(_error("review", doc, review[0], expected, "review"))
    elif rows:
        counts["genuine_ignored"] += 1
        errors.append(_error("ignored", doc, rows[0], expected, str(rows[0].get("decision"))))
    else:
        counts["genuine_missing"] += 1
        errors.append(_error("missing", doc, None, expected, "no row"))


# --------------------------------------------------------------------------- report

def format_report(metrics: Metrics, max_errors: int = 20) -> str:
    """A short table for a person, then the first errors."""
    m = metrics
    lines = [
        "Scoring (precision over COUNTED rows only)",
        f"  counted rows              {m.counted:6d}",
        f"  school precision          {m.school_precision:6.1%}  ({m.school_correct}/{m.counted})",
        f"  doc type precision        {m.type_precision:6.1%}  ({m.type_correct}/{m.counted})",
        f"  school recall             {m.school_recall:6.1%}  ({m.genuine_school_found}/{m.genuine})",
        f"  doc type recall           {m.type_recall:6.1%}  ({m.genuine_type_found}/{m.genuine})",
        f"  recall, genuine documents {m.recall:6.1%}  ({m.genuine_found}/{m.genuine})",
        f"  review rate, genuine      {m.review_rate:6.1%}  ({m.genuine_review}/{m.genuine})",
        f"  genuine ignored / missing {m.genuine_ignored:6d} / {m.genuine_missing}",
        f"  other campaign counted    {m.other_campaign_counted:6d}  (must be 0)",
        f"  earlier year counted      {m.earlier_year_counted:6d}  (must be 0)",
        f"  other issuer counted      {m.other_issuer_counted:6d}  (must be 0)",
        f"  unlabelled counted        {m.unlabelled_counted:6d}",
        f"  review items / files      {m.review_share:6.1%}  ({m.review_items}/{m.files})",
    ]
    if m.continuation_pages:
        lines.append(f"  continuation pages in review {m.continuation_review:3d}  (of {m.continuation_pages})")
    if m.errors:
        by_kind = Counter(e.kind for e in m.errors)
        lines.append("Errors: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
        for e in m.errors[:max_errors]:
            why = f"  [{'; '.join(e.reasons)}]" if e.reasons else ""
            lines.append(f"  {e.kind:22s} {e.message_file or e.message_id} {e.filename!r} p{e.first_page}: "
                         f"expected {e.expected}, got {e.got}{why}")
        if len(m.errors) > max_errors:
            lines.append(f"  ... and {len(m.errors) - max_errors} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the status matrix
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
        return _ratio(self.right, self.cells)


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
            doc = _Doc("", "", label.get("kind", ""), "", 1, 1, entry)
            if not doc.genuine or not entry.get("school"):
                continue
            for doc_type in _types(entry.get("doc_types")):
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


# --------------------------------------------------------------------------- official copies (issue 16)

@dataclass(frozen=True)
class OfficialError:
    """A document whose official-copy verdict is wrong or missing.

    ``kind``: called_official (not official, called so), missed_official
    (official, called not official), draft_not_flagged, valid_called_invalid,
    modified_called_valid, invalid_called_official, undecided, not_checked.
    """

    kind: str
    message_file: str
    filename: str
    variant: str
    expected: bool
    got: bool | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfficialMetrics:
    """Evidence of official copies against the labels' ``official`` truth.

    Only labelled documents with an ``official`` value are scored; a document
    is judged by the row the bot COUNTED for it (else any row of it) that
    carries ``evidence``. ``not_checked``: no row with evidence (the bot did
    not count the document, or did not check it).
    """

    labelled: int = 0
    checked: int = 0
    not_checked: int = 0
    called_official: int = 0
    called_official_right: int = 0
    truly_official: int = 0        # checked documents that are official
    truly_official_called: int = 0
    drafts: int = 0                # checked unsigned Word files and text PDFs
    drafts_flagged: int = 0        # ... called not official (False)
    valid_signatures: int = 0      # checked documents with a valid digital signature
    valid_called_invalid: int = 0  # ... whose signature was not reported intact and unmodified (must be 0)
    modified: int = 0              # checked PDFs changed after signing
    modified_called_valid: int = 0  # ... reported intact and unmodified, or official (must be 0)
    invalid_signatures: int = 0    # signed with a certificate not valid when signing
    invalid_called_official: int = 0  # (must be 0)
    undecided: int = 0             # official None: a question for the coordinator
    asks: int = 0                  # checked documents whose receipt asks the school for something
    asks_sent: int = 0             # ... for something the labels say the school did send (must be 0)
    by_variant: tuple[tuple[str, int, int, int, int, int], ...] = ()  # variant, n, True, False, None, unchecked
    errors: tuple[OfficialError, ...] = ()

    @property
    def precision(self) -> float:
        """Documents called official that are official."""
        return _ratio(self.called_official_right, self.called_official)

    @property
    def recall(self) -> float:
        """Official documents called official (the rest: undecided or wrongly refused)."""
        return _ratio(self.truly_official_called, self.truly_official)

    @property
    def draft_recall(self) -> float:
        """Unsigned drafts called not official."""
        return _ratio(self.drafts_flagged, self.drafts)

    @property
    def must_be_zero(self) -> int:
        return self.valid_called_invalid + self.modified_called_valid + self.invalid_called_official


def has_official_labels(labels: dict) -> bool:
    """Whether a corpus's labels carry the ``official`` truth (``--preset official``)."""
    return any("official" in e for lab in labels.values() for e in lab.get("attachments", []))


def _evidence_row(rows: list[dict]) -> dict | None:
    with_evidence = [r for r in rows if isinstance(r.get("evidence"), dict)]
    counted = [r for r in with_evidence if r.get("decision") == COUNTED]
    return (counted or with_evidence or [None])[0]


def _signature_reported_valid(evidence: dict) -> bool:
    ds = evidence.get("digital_signature")
    return bool(ds) and bool(ds.get("intact")) and not ds.get("modified_after_signing")


def _requirements_met(entry: dict) -> set[str]:
    """The requirements the labels say a document meets (the corpus's dates all lie in the cycle)."""
    met = {"date", "date_in_cycle", "signature_block"}
    if entry.get("signature") == "valid" or entry.get("variant") in ("scan_stamped", "photo_stamped"):
        met.add("signed_or_stamped")
    if "blank_number" not in entry.get("tags", ()):
        met.add("number")
    if not entry.get("no_vote"):
        met.add("minutes_parts")
    return met


def score_official(labels: dict, rows: list[dict]) -> OfficialMetrics:
    """Score the ``evidence`` of the bot's export rows against the labels (pure)."""
    index = _Index(labels)
    rows_of: dict[int, list[dict]] = {}
    for row in rows:
        doc = index.find(row)
        if doc is not None:
            rows_of.setdefault(id(doc), []).append(row)
    c: Counter = Counter()
    variants: dict[str, Counter] = {}
    errors: list[OfficialError] = []
    for doc in index.docs:
        e = doc.entry
        if "official" not in e or not doc.genuine:
            continue
        truth, variant, signature = bool(e["official"]), e.get("variant", e.get("format", "")), e.get("signature", "")
        c["labelled"] += 1
        tally = variants.setdefault(variant, Counter())
        tally["n"] += 1
        row = _evidence_row(rows_of.get(id(doc), []))

        def err(kind: str, got: bool | None) -> None:
            ev = (row or {}).get("evidence", {})
            # an undecided copy is explained by its doubts (the coordinator's question), the rest by problems
            why = ev.get("doubts", ()) if got is None else ev.get("problems", ())
            errors.append(OfficialError(kind, doc.message_file, doc.filename, variant, truth, got, tuple(why)))

        if row is None:
            c["not_checked"] += 1
            tally["unchecked"] += 1
            err("not_checked", None)
            continue
        ev = row["evidence"]
        got = ev.get("official")
        c["checked"] += 1
        if got is False and ev.get("missing"):
            c["asks"] += 1
            if set(ev["missing"]) & _requirements_met(e):
                c["asks_sent"] += 1
                err("asks_sent", got)
        tally[{True: "yes", False: "no", None: "undecided"}[got]] += 1
        if got is True:
            c["called_official"] += 1
            c["called_official_right"] += truth
            if not truth:
                err("called_official", got)
        elif got is None:
            c["undecided"] += 1
            err("undecided", got)
        elif truth:
            err("missed_official", got)
        if truth:
            c["truly_official"] += 1
            c["truly_official_called"] += got is True
        if e.get("draft"):
            c["drafts"] += 1
            c["drafts_flagged"] += got is False
            if got is not False:
                err("draft_not_flagged", got)
        if signature == "valid":
            c["valid_signatures"] += 1
            if not _signature_reported_valid(ev):
                c["valid_called_invalid"] += 1
                err("valid_called_invalid", got)
        elif signature == "tampered":
            c["modified"] += 1
            if got is True or _signature_reported_valid(ev):
                c["modified_called_valid"] += 1
                err("modified_called_valid", got)
        elif signature == "invalid":
            c["invalid_signatures"] += 1
            if got is True:
                c["invalid_called_official"] += 1
                err("invalid_called_official", got)
    table = tuple((v, t["n"], t["yes"], t["no"], t["undecided"], t["unchecked"]) for v, t in sorted(variants.items()))
    return OfficialMetrics(by_variant=table, errors=tuple(errors), **c)


def format_official_report(m: OfficialMetrics, max_errors: int = 20) -> str:
    """The official-copy figures for a person, then the first errors (undecided ones last)."""
    lines = [
        "Official copies (evidence of the counted row; labels' `official` truth)",
        f"  labelled documents        {m.labelled:6d}  (checked {m.checked}, not checked {m.not_checked})",
        f"  evidence precision        {m.precision:6.1%}  ({m.called_official_right}/{m.called_official} "
        "called official are official)",
        f"  official called official  {m.recall:6.1%}  ({m.truly_official_called}/{m.truly_official})",
        f"  draft recall              {m.draft_recall:6.1%}  ({m.drafts_flagged}/{m.drafts} unsigned drafts "
        "called not official)",
        f"  valid signature invalid   {m.valid_called_invalid:6d}  (of {m.valid_signatures}; must be 0)",
        f"  modified PDF called valid {m.modified_called_valid:6d}  (of {m.modified}; must be 0)",
        f"  expired cert. official    {m.invalid_called_official:6d}  (of {m.invalid_signatures}; must be 0)",
        f"  undecided (a question)    {m.undecided:6d}",
        f"  receipts asking           {m.asks:6d}  (asking for what the school did send: {m.asks_sent}; "
        "must be 0)",
        "  variant                      n  official  not  undecided  unchecked",
    ]
    lines += [f"  {v:26s} {n:4d} {yes:9d} {no:4d} {und:10d} {unc:10d}" for v, n, yes, no, und, unc in m.by_variant]
    wrong = sorted(m.errors, key=lambda e: e.kind in ("undecided", "not_checked"))
    if wrong:
        by_kind = Counter(e.kind for e in wrong)
        lines.append("Official-copy errors: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
        for e in wrong[:max_errors]:
            why = f"  [{'; '.join(e.problems)}]" if e.problems else ""
            lines.append(f"  {e.kind:24s} {e.message_file} {e.filename!r} ({e.variant}): expected {e.expected}, "
                         f"got {e.got}{why}")
        if len(wrong) > max_errors:
            lines.append(f"  ... and {len(wrong) - max_errors} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------- running the bot

@dataclass(frozen=True)
class CorpusRun:
    """The outcome of ``evaluate_corpus``: the scores, the bot's rows, where the state is."""

    metrics: Metrics
    rows: list
    state: str
    seconds: float
    official: OfficialMetrics | None = None  # when the labels carry the ``official`` truth
    status: StatusMetrics = field(default_factory=StatusMetrics)


def evaluate_corpus(corpus, *, config_path=None, labels_path=None, keep_state=None, now=None,
                    progress=None) -> CorpusRun:
    """Run the real pipeline on a generated corpus and score it.

    ``app.poll`` reads ``corpus`` as a folder source (``internaldates.json``
    gives the receipt times) into a fresh state directory (a temporary one,
    or ``keep_state`` to look at it afterwards with ``export``/``status``),
    with the rules and templates of ``config_path`` when it exists, else the
    shipped ``rules/``. ``now`` (a datetime or ISO 8601 text) defaults to the clock. Nothing is sent: SMTP is off. The rows of
    ``app.export_rows`` are scored against ``labels_path`` (default
    ``corpus/labels.json``).
    """
    corpus = Path(corpus)
    labels_path = Path(labels_path) if labels_path else corpus / "labels.json"
    if not corpus.is_dir():
        raise UsageError(f"{corpus}: no such corpus directory",
                         hint="make one with: python -m tests.corpus.generate --out DIR --seed 11 --messages 200")
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{labels_path}: cannot read the labels ({exc})", hint="pass --labels PATH") from exc
    if config_path is not None and Path(config_path).exists():
        config = load_config(Path(config_path))
    else:  # the shipped rules and templates, wherever the command is run from
        root = Path(__file__).resolve().parents[1]
        config = parse_config({"mailbox": {"source": "folder", "path": str(corpus)},
                               "smtp": {"enabled": False, "from_address": "eval@example.invalid"},
                               "coordinator": {"emails": ["eval@example.invalid"]}}, root)
    with contextlib.ExitStack() as stack:
        if keep_state is not None:
            state = Path(keep_state)
            if state.exists() and any(state.iterdir()):
                raise UsageError(f"{state} is not empty", hint="--keep-state needs a new or empty directory")
        else:
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bot-eval-")))
        config = dataclasses.replace(
            config, mailbox=MailboxConfig(source="folder", path=corpus.resolve()), smtp=dataclasses.replace(config.smtp, enabled=False),
            paths=dataclasses.replace(config.paths, state=state))
        ctx = Context(config=config, rules=load_rules(config.paths.rules))
        if isinstance(now, str):
            now = parse_instant(now, ctx.rules.campaign.tz)
        started = time.monotonic()
        app.poll(ctx, now or datetime.now(timezone.utc), progress=progress)
        seconds = time.monotonic() - started
        with Store.open(state) as store:
            rows = app.export_rows(store, ctx.rules)
            status = _status_at(store, ctx.rules, labels, now)
    official = score_official(labels, rows) if has_official_labels(labels) else None
    return CorpusRun(score(labels, rows), rows, str(state), seconds, official=official, status=status)


def _status_at(store, rules, labels: dict, now) -> StatusMetrics:
    """``status --json`` at ``now`` when given, else at the end of the corpus's season, scored."""
    at = now or (datetime.fromisoformat(season_end(labels)) if season_end(labels) else None)
    if at is None:
        return StatusMetrics()
    return score_status(labels, to_json(status_for(store, rules, at)),
                        int(rules.campaign.grace.total_seconds()))


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.evaluate labels.json rows.json``: print the report;
    exit 1 when a document of another campaign or year was counted."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bot.evaluate LABELS.json ROWS.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        labels = json.load(f)
    with open(args[1], encoding="utf-8") as f:
        rows = json.load(f)
    if isinstance(rows, dict):  # tolerate {"rows": [...]}
        rows = rows.get("rows", [])
    metrics = score(labels, rows)
    print(format_report(metrics))
    return 1 if metrics.wrong_campaign_counted else 0


if __name__ == "__main__":
    sys.exit(main())
