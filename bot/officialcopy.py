"""Is a counted copy the official paper? The bot's decisions around
``bot.official`` (issue 16; docs/official-copies.md), all pure.

- ``evidence_for``: one document part, once its type is known, judged
  against that type's policy from what extraction saw.
- ``rereading_may_decide``: whether a scan's official-copy reads left for
  after classification (OCR) may change that judgement.
- ``best_copy``: of all the copies of one document a school sent, the one
  that decides: any official copy wins, else an undecided one, else the
  last unofficial one; copies never checked (recorded before the check
  existed) decide only when no copy was checked.
- ``satisfies``: whether a document's copies meet its policy for the
  dossier to be complete.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Collection, Sequence, TypeVar

from .official.evidence import Evidence
from .official.policy import OfficialPolicy
from .record import replace  # not dataclasses': status loads this module, and dataclasses loads inspect
from .rules.model import Campaign, DocType

if TYPE_CHECKING:  # annotations only: the checkers load where a copy is judged (evidence_for)
    from .mail_model import DocumentPart
    from .official.record import OfficialInputs
    from .official.verdict import Cycle


def cycle_window(campaign: Campaign, cycle: int, received_at: datetime) -> Cycle:
    """The dates a document of ``cycle`` may carry: from the cycle's opening to its
    deadline, or to the day it arrived when that is later (a late document is
    still this cycle's: timeliness is judged on its own)."""
    from .official.verdict import Cycle  # not at the top: status and the store read evidence, judge none

    tz = campaign.tz
    end = max(campaign.deadline(cycle).astimezone(tz).date(), received_at.astimezone(tz).date())
    return Cycle(start=campaign.opens(cycle).date(), end=end)


def evidence_for(inputs: OfficialInputs | None, part: DocumentPart, doc: DocType, campaign: Campaign,
                 cycle: int, received_at: datetime) -> Evidence | None:
    """The evidence that ``part`` (a document of type ``doc``) is the official paper.

    None when extraction gave no official-copy inputs (a result made before
    the check existed): "not checked", never "unofficial".
    """
    from .official.verdict import judge  # the checkers load where a copy is judged, not for status

    if inputs is None:
        return None
    return judge(_observations(inputs, part, doc, campaign, cycle, received_at), doc.official, campaign.tz)


def rereading_may_decide(inputs: OfficialInputs | None, part: DocumentPart, doc: DocType, campaign: Campaign,
                         cycle: int, received_at: datetime, reads: Collection[str] | None = None) -> bool:
    """Whether the reads left for later on ``part`` (``inputs.deferred``: the signer around the
    seal, the head and a Biên bản's pages read again) may make it official.

    ``reads``: those still to do (``official.record.SIGNER``, ``HEAD``, ``BODY``; None: all).
    They can only add a signature block (the signer, the pages), a number and a date (the
    head) and minutes parts (the pages); so they are worth their OCR only when the part is not
    official now and would be with what they may add read well. A scan without a seal, with a
    faint seal or a tampered signature stays what it is whatever they read; one already
    official needs nothing more. (On a scan nothing they read can make a requirement fail: a
    number or date not believed is "not read", so the answer moves only between undecided and
    official.)
    """
    # the checkers load where a copy is judged (the pipeline), not for status and the store
    from .official.minutes import LABELS, MinutesCheck
    from .official.numbering import NumberDate
    from .official.record import BODY, HEAD, READS, SIGNER
    from .official.signblock import BlockFinding, SignatureBlock
    from .official.verdict import judge

    reads = READS if reads is None else frozenset(reads)
    if inputs is None or part.first_page not in inputs.deferred or not reads:
        return False
    obs = _observations(inputs, part, doc, campaign, cycle, received_at)
    if judge(obs, doc.official, campaign.tz).official is True:
        return False
    hoped = obs
    if reads & {SIGNER, BODY}:
        signer = SignatureBlock("HIỆU TRƯỞNG", "Nguyễn Văn An", 0)
        hoped = replace(hoped, blocks=BlockFinding(obs.blocks.blocks + (signer,)))
    if HEAD in reads:
        code = doc.number_codes[0] if doc.number_codes else "X"
        hoped = replace(hoped, numbering=NumberDate(number=f"1/{code}", code=code,
                                                    code_matches=True if doc.number_codes else None,
                                                    date=obs.cycle.start, date_text="-", in_cycle=True))
    if BODY in reads and obs.minutes is not None:
        hoped = replace(hoped, minutes=MinutesCheck(present=LABELS, missing=()))
    return judge(hoped, doc.official, campaign.tz).official is True


def _observations(inputs: OfficialInputs, part: DocumentPart, doc: DocType, campaign: Campaign, cycle: int,
                  received_at: datetime):
    """What the checks see of ``part`` (``verdict.Observations``)."""
    # Not at the top: status and the store read evidence and judge none; the checkers are for the pipeline.
    from .official.minutes import check_minutes
    from .official.numbering import best_reading, read_number_date
    from .official.signblock import find_blocks
    from .official.verdict import Observations

    lines = part.text.splitlines() or part.head.splitlines()
    signer = inputs.signer_lines(part.first_page, part.last_page)
    head = inputs.head_lines(part.first_page, part.last_page)  # a scan's head read again (OCR)
    body = inputs.body_lines(part.first_page, part.last_page)  # a Biên bản's pages read again whole
    window = cycle_window(campaign, cycle, received_at)
    readings = [read_number_date(text, doc.number_codes, window.start, window.end) for text in (lines, head) if text]
    return Observations(
        medium=inputs.medium,
        text_read=any(ch.isalpha() for ch in part.text),
        signatures=inputs.signatures,
        pages=inputs.pages_of(part.first_page, part.last_page),
        blocks=find_blocks(lines + body + signer),
        numbering=best_reading(readings),
        minutes=check_minutes("\n".join([part.text, *body])) if doc.minutes else None,
        codes=doc.number_codes,
        cycle=window,
    )


T = TypeVar("T")


def official_of(evidence: Evidence | None) -> bool | None:
    """A copy's answer: True, False, or None (undecided, or not checked)."""
    return evidence.official if evidence is not None else None


def best_copy(copies: Sequence[T], evidence_of) -> T | None:
    """The copy that decides whether a document is official (``evidence_of(copy)``: its Evidence or None).

    Any official copy wins (the first of them); else an undecided copy (the
    latest: the coordinator's question is about it); else the latest
    unofficial one (what the school must fix); copies never checked only
    when no copy was checked. None for no copies.
    """
    if not copies:
        return None
    checked = [c for c in copies if evidence_of(c) is not None]
    if not checked:
        return copies[-1]
    for c in checked:
        if evidence_of(c).official is True:
            return c
    undecided = [c for c in checked if evidence_of(c).official is None]
    return undecided[-1] if undecided else checked[-1]


def document_official(evidences: Sequence[Evidence | None]) -> bool | None:
    """A document's ``official``: True when any copy is official, else None when a copy is
    undecided or none was checked, else False."""
    best = best_copy(list(evidences), lambda e: e)
    return official_of(best)


def satisfies(policy: OfficialPolicy, evidences: Sequence[Evidence | None]) -> bool:
    """Whether a received document's copies meet ``policy`` for the dossier to be complete.

    An empty policy: any copy. Otherwise an official copy; copies recorded
    before the check existed (no evidence) are not held against the school.
    An undecided copy is not enough: the coordinator decides it.
    """
    if policy.empty or not evidences:
        return True
    best = best_copy(list(evidences), lambda e: e)
    return best is None or best.official is True


# The columns the CSV export (and the XLSX) give a copy's evidence, in this order.
COLUMNS = ("official", "signed_by", "seal", "number", "date", "problems")


def columns(evidence: Evidence | None) -> dict:
    """A copy's evidence as flat columns (see ``json_columns``)."""
    return json_columns(evidence.to_json() if evidence is not None else None)


def json_columns(evidence: dict | None) -> dict:
    """The ``evidence`` object of an export row as flat columns: ``official`` (True/False/None),
    ``signed_by`` (the digital signer, "name, organisation"), ``seal`` (True/False/None),
    ``number``, ``date`` (YYYY-MM-DD) and ``problems`` (a list). None/empty when not judged."""
    if evidence is None:
        return {"official": None, "signed_by": None, "seal": None, "number": None, "date": None, "problems": []}
    sig = evidence.get("digital_signature")
    signer = None
    if sig:
        org = sig.get("organisation") or ""
        signer = ", ".join(x for x in (sig.get("signer") or "", org if org != sig.get("signer") else "") if x) or None
    return {"official": evidence.get("official"), "signed_by": signer, "seal": evidence.get("seal"),
            "number": evidence.get("number"), "date": evidence.get("date"), "problems": list(evidence.get("problems", ()))}
