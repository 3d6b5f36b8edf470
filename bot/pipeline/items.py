"""A message's decisions as the rows recorded for it: which attachment each is
about (two files of one name stay two items), its content hash, the cycle,
and whether the part is the official paper. Pure: decisions, documents and
rules in, ``ItemRow``s out. ``classified`` is the whole step, from the parsed
message and its extractions, as a worker process runs it; ``classified_completing``
the same for a message with a scan whose official-copy reads were left for
after classification (``completing``: done only for the parts that count and
whose verdict depends on them)."""
from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence, TypeVar

from ..archive import sha256
from ..classify import classify_message
from ..model import Attachment, Extraction, ItemDecision, ParsedMessage
from ..official.verdict import Evidence
from ..officialcopy import cycle_window, evidence_for, rereading_may_decide
from ..rules.model import Rules
from ..store import ItemRow


def item_rows(decisions: list[ItemDecision], docs: list[tuple[Attachment, Extraction]], received_at: datetime,
           rules: Rules, digests: Sequence[str] | None = None, *,
           memo: dict | None = None) -> list[ItemRow]:
    """Attach container, occurrence, content hash, cycle and official-copy evidence to each decision.

    Decisions come in the order of ``docs``; walking both together pairs
    each decision with its attachment even when two files share a name (the
    second of them is occurrence 1, so both are kept).
    ``digests``: the SHA-256 of each doc's bytes, when already known.
    ``memo``: evidence already judged, by file, part, type and cycle (the
    same file comes in several mails: a season's re-sends and forwards), kept
    by the caller across messages of the same ``rules``.
    """
    cycle = rules.campaign.cycle_of(received_at)
    occurrences = _occurrences([att for att, _ in docs])
    out = []
    cursor, last_part = 0, None  # the doc matched last, and the part index it had
    for decision in decisions:
        if decision.part_index < 0:  # about the mail, or a part that was not read: no file
            out.append(ItemRow(decision, "", received_at, cycle))
            continue
        container, digest, occurrence, extraction = "", "", 0, None
        # a part index that does not grow means the next attachment has begun
        start = cursor if last_part is None or decision.part_index > last_part else cursor + 1
        for index in range(start, len(docs)):
            if docs[index][0].filename == decision.filename:
                container, occurrence, extraction = docs[index][0].container, occurrences[index], docs[index][1]
                digest = digests[index] if digests is not None else sha256(docs[index][0].data)
                cursor, last_part = index, decision.part_index
                break
        if digest and not decision.content_sha256:
            decision = replace(decision, content_sha256=digest)
        evidence = (_evidence(decision, extraction, rules, cycle, received_at, digest, memo)
                    if extraction is not None else None)
        out.append(ItemRow(decision, container, received_at, cycle, occurrence, evidence))
    return out


def _evidence(decision: ItemDecision, extraction: Extraction, rules: Rules, cycle: int,
              received_at: datetime, digest: str = "", memo: dict | None = None) -> Evidence | None:
    """Whether the part is the official paper, judged once its one document type is
    known (a campaign document, counted or in review); None otherwise, or when the
    extraction carries no official-copy inputs (made before the check existed)."""
    if not decision.campaign or len(decision.doc_types) != 1 or decision.decision == "ignored":
        return None
    if not 0 <= decision.part_index < len(extraction.parts):
        return None
    try:
        doc = rules.campaign.doc_type(decision.doc_types[0])
    except KeyError:
        return None
    if memo is None or not digest:
        return evidence_for(extraction.official, extraction.parts[decision.part_index], doc, rules.campaign, cycle,
                            received_at)
    # What evidence_for reads (the arrival only through the cycle's window); the part and the
    # inputs themselves too, so that a file read again otherwise (with OCR) is judged again.
    part = extraction.parts[decision.part_index]
    key = (digest, decision.part_index, decision.doc_types[0], cycle, cycle_window(rules.campaign, cycle, received_at),
           part, extraction.official)
    if key not in memo:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = evidence_for(extraction.official, part, doc, rules.campaign, cycle, received_at)
    return memo[key]


_MEMO_SIZE = 512  # entries hold a part's text: a few MB at most


def _occurrences(attachments: Sequence[Attachment]) -> list[int]:
    """For each attachment, how many before it in the mail have the same
    container and file name (0 for the first of a name)."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for att in attachments:
        key = (att.container, att.filename)
        out.append(seen.get(key, 0))
        seen[key] = out[-1] + 1
    return out


def classified(message: ParsedMessage, docs: list[tuple[Attachment, Extraction]], digests: Sequence[str],
               received_at: datetime, ocr_available: bool, rules: bytes) -> list[ItemRow]:
    """The rows of one message: ``classify_message`` then ``item_rows``.

    ``rules``: the ``Rules`` pickled (each worker unpickles them, and builds
    the classifier's index, once). What classifying raises is raised."""
    rules_, memo = _unpickled(rules)
    decisions = classify_message(message, docs, rules_, received_at, ocr_available)
    return item_rows(decisions, docs, received_at, rules_, digests, memo=memo)


@dataclass(frozen=True)
class Completed:
    """A message's rows judged after the official-copy reads left for later were done, and the
    extractions those reads completed (digest -> Extraction: the cache keeps them)."""

    rows: list[ItemRow]
    extractions: dict[str, Extraction]


def pending_reads(rows: Sequence[ItemRow], docs: Sequence[tuple[Attachment, Extraction]], digests: Sequence[str],
                  rules: Rules) -> dict[str, list]:
    """digest -> the judgements its official-copy reads left for later may change: (part's first
    page, doc type, cycle, arrival) of each part judged (a campaign document of one type, not
    ignored), not official now, that the reads may make official (``rereading_may_decide``). Pure."""
    by_digest = {digest: extraction for (_, extraction), digest in zip(docs, digests)}
    wanted: dict[str, list] = {}
    for row in rows:
        decision = row.decision
        extraction = by_digest.get(decision.content_sha256)
        if (row.evidence is None or row.evidence.official is True or extraction is None
                or extraction.official is None or not extraction.official.deferred):
            continue
        part = extraction.parts[decision.part_index]
        doc = rules.campaign.doc_type(decision.doc_types[0])
        if rereading_may_decide(extraction.official, part, doc, rules.campaign, row.cycle, row.received_at):
            wanted.setdefault(decision.content_sha256, []).append((part.first_page, doc, row.cycle, row.received_at))
    return wanted


def completing(decisions: list[ItemDecision], docs: list[tuple[Attachment, Extraction]], digests: Sequence[str],
               received_at: datetime, rules: Rules, limits, data_of, memo: dict | None = None) -> Completed:
    """``item_rows``, with the official-copy reads that may decide (``pending_reads``) done first
    (OCR: ``complete_official``, each read only while it may still change a verdict).
    ``data_of(index)``: the bytes of ``docs[index]``'s file, or None when they cannot be had
    (its parts are judged as they are)."""
    from ..extract.official import complete_official  # OCR: loaded by the worker that needs it

    rows = item_rows(decisions, docs, received_at, rules, digests, memo=memo)
    wanted = pending_reads(rows, docs, digests, rules)
    done: dict[str, Extraction] = {}
    for index, digest in enumerate(digests):
        if digest in wanted and digest not in done and (data := data_of(index)) is not None:
            judged = wanted[digest]

            def may_decide(inputs, part, reads, judged=judged):
                return any(rereading_may_decide(inputs, part, doc, rules.campaign, cycle, at, reads)
                           for first, doc, cycle, at in judged if first == part.first_page)

            done[digest] = complete_official(data, docs[index][1], {first for first, *_ in judged}, limits,
                                             may_decide)
    if not done:
        return Completed(rows, {})
    docs = [(att, done.get(digest, extraction)) for (att, extraction), digest in zip(docs, digests)]
    return Completed(item_rows(decisions, docs, received_at, rules, digests, memo=memo), done)


def classified_completing(message: ParsedMessage, docs: list[tuple[Attachment, Extraction]],
                          digests: Sequence[str], received_at: datetime, ocr_available: bool, rules: bytes,
                          archive: str, parse_limits, limits) -> Completed:
    """``classified`` for a message with official-copy reads left for later (see ``completing``):
    the files' bytes, when some are needed, are those of the message archived at ``archive``
    parsed again with ``parse_limits`` (each checked against its digest)."""
    rules_, memo = _unpickled(rules)
    decisions = classify_message(message, docs, rules_, received_at, ocr_available)
    parsed: list = []

    def data_of(index: int):
        if not parsed:
            from ..parse import parse_message  # a worker that classifies only never loads the parser

            with open(archive, "rb") as fh:
                parsed.append(parse_message(fh.read(), parse_limits).attachments)
        atts = parsed[0]
        if index < len(atts) and sha256(atts[index].data) == digests[index]:
            return atts[index].data
        return None

    return completing(decisions, docs, digests, received_at, rules_, limits, data_of, memo)


def has_pending_reads(docs: Sequence[tuple[Attachment, Extraction]]) -> bool:
    """Whether some extraction has official-copy reads left for later (``classified_completing``)."""
    return any(extraction.official is not None and extraction.official.deferred for _, extraction in docs)


@functools.lru_cache(maxsize=2)
def _unpickled(blob: bytes) -> tuple[Rules, dict]:
    """The rules, and the evidence judged under them (``item_rows``'s memo)."""
    return pickle.loads(blob), {}


class Hollow:
    """Stands for an attachment's bytes where only their length is read:
    classifying asks whether an image is tiny and says a file's size, and
    nothing else of the bytes (``digests`` give the content hash). A message
    sent to be classified carries this instead of its files."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getstate__(self):
        return self.size

    def __setstate__(self, size: int) -> None:
        self.size = size


T = TypeVar("T", Attachment, ParsedMessage)


def hollow(value: T) -> T:
    """An attachment with ``Hollow`` bytes, or a message whose attachments are so."""
    if isinstance(value, ParsedMessage):
        return replace(value, attachments=tuple(hollow(a) for a in value.attachments))
    return replace(value, data=Hollow(len(value.data)))
