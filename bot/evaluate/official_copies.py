"""Score the official-copy evidence of the bot's export rows against the labels' ``official`` truth (pure)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .labels import COUNTED, LabelIndex, ratio

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
        return ratio(self.called_official_right, self.called_official)

    @property
    def recall(self) -> float:
        """Official documents called official (the rest: undecided or wrongly refused)."""
        return ratio(self.truly_official_called, self.truly_official)

    @property
    def draft_recall(self) -> float:
        """Unsigned drafts called not official."""
        return ratio(self.drafts_flagged, self.drafts)

    @property
    def must_be_zero(self) -> int:
        return self.valid_called_invalid + self.modified_called_valid + self.invalid_called_official


def has_official_labels(labels: dict) -> bool:
    """Whether a corpus's labels carry the ``official`` truth (``--preset official``)."""
    return any("official" in e for lab in labels.values() for e in lab.get("attachments", []))


def evidence_row(rows: list[dict]) -> dict | None:
    """The row whose evidence speaks for a document: its counted row, else any with evidence."""
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
    index = LabelIndex(labels)
    rows_of = index.rows_by_doc(rows)
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
        row = evidence_row(rows_of.get(id(doc), []))

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


