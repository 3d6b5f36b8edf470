"""Score the bot's classification against a labelled corpus (pure).

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

from collections import Counter
from dataclasses import dataclass, field

from .labels import (COUNTED, REVIEW, LabelIndex, LabelledDoc, label_types, normalise_filename, normalise_message_id,
                     ratio)


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
        return ratio(self.school_correct, self.counted)

    @property
    def type_precision(self) -> float:
        return ratio(self.type_correct, self.counted)

    @property
    def recall(self) -> float:
        return ratio(self.genuine_found, self.genuine)

    @property
    def school_recall(self) -> float:
        """Genuine documents counted for the right school."""
        return ratio(self.genuine_school_found, self.genuine)

    @property
    def type_recall(self) -> float:
        """Genuine documents counted as the right document type."""
        return ratio(self.genuine_type_found, self.genuine)

    @property
    def review_rate(self) -> float:
        return ratio(self.genuine_review, self.genuine)

    @property
    def review_share(self) -> float:
        """Review items per file seen: the coordinator's workload."""
        return ratio(self.review_items, self.files) if self.files else 0.0

    @property
    def wrong_campaign_counted(self) -> int:
        """Documents of another campaign, issuer or an earlier year counted (must be 0)."""
        return self.other_campaign_counted + self.earlier_year_counted + self.other_issuer_counted



def _reasons(row: dict) -> tuple[str, ...]:
    value = row.get("reasons") or ()
    return (value,) if isinstance(value, str) else tuple(str(r) for r in value)


def _leak_kind(doc: LabelledDoc) -> str:
    """A counted document that is not of this campaign and year."""
    if doc.entry.get("issuer"):
        return "other_issuer_counted"
    earlier = doc.kind == "earlier_year" or (doc.entry.get("topic", "antq") == "antq" and doc.entry.get("doc_types"))
    return "earlier_year_counted" if earlier else "other_campaign_counted"


def _error(kind: str, doc: LabelledDoc | None, row: dict | None, expected: str, got: str) -> ErrorItem:
    return ErrorItem(
        kind=kind,
        message_file=doc.message_file if doc else "",
        message_id=doc.message_id if doc else normalise_message_id((row or {}).get("message_id")),
        filename=doc.filename if doc else normalise_filename((row or {}).get("filename")),
        first_page=doc.first_page if doc else int((row or {}).get("first_page") or 1),
        expected=expected, got=got, reasons=_reasons(row or {}),
    )


def _fmt_school_types(school, types) -> str:
    return f"{school or '-'} {'+'.join(sorted(label_types(types))) or '-'}"


def score(labels: dict, rows: list[dict]) -> Metrics:
    """Compare the bot's rows with the labels (see the module docstring)."""
    index = LabelIndex(labels)
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


def _score_counted(row: dict, doc: LabelledDoc | None, counts: Counter, errors: list[ErrorItem]) -> None:
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
    if label_types(row.get("doc_types")) == label_types(doc.entry.get("doc_types")):
        counts["type_correct"] += 1
    else:
        errors.append(_error("wrong_type", doc, row, expected, got))
    if not doc.entry.get("campaign"):
        kind = _leak_kind(doc)
        counts[kind] += 1
        errors.append(_error(kind, doc, row, f"not this campaign ({doc.entry.get('topic', '?')}, "
                                                f"{doc.entry.get('year', '?')})", got))


def _score_genuine(doc: LabelledDoc, rows: list[dict], counts: Counter, errors: list[ErrorItem]) -> None:
    counts["genuine"] += 1
    expected = _fmt_school_types(doc.entry.get("school"), doc.entry.get("doc_types"))
    counted = [r for r in rows if r.get("decision") == COUNTED]
    school_ok = [r for r in counted if r.get("school") == doc.entry.get("school")]
    type_ok = [r for r in counted if label_types(r.get("doc_types")) == label_types(doc.entry.get("doc_types"))]
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

