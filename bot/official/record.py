"""The official-copy values as JSON-ready dicts and back (for the extraction
cache and ``items.evidence``).

Pure conversions, no I/O: the storage layer writes the text. Datetimes are
ISO 8601 with their offset, dates YYYY-MM-DD. A loader accepts what the
matching dumper wrote; an unknown requirement name in a stored ``missing``
(rules changed since) is dropped rather than failing the read.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from ..record import frozen
from .evidence import Evidence, Medium
from .policy import Requirement
from .signature import DigitalSignature, SignatureReport

if TYPE_CHECKING:  # annotations only: the seal finder's module loads where a page answer is read back
    from .seal import PageSeal


# The reads of a scan that may be left for later (``OfficialInputs.deferred``), cheapest first:
# the signer around the seal (a crop), the head again (a band at 300 dpi), a Biên bản's pages whole.
SIGNER, HEAD, BODY = "signer", "head", "body"
READS = frozenset((SIGNER, HEAD, BODY))


@frozen
class OfficialInputs:
    """What extraction saw of one attachment that the official-copy check needs.

    ``medium``: how it came (a Word file, a text PDF, a scan or photo, a
    text). ``signatures``: the PDF's digital signatures (empty for anything
    else, and for a PDF without signature data). ``pages``: the seal finder's
    answer on the last page of each document part of a scan or photo (a
    colour image, not the grayscale OCR render). ``signer_text``: (page,
    text) read by OCR around a seal found on a page whose part's text had no
    signature block (OCR by need reads a page's head, not its foot).
    ``head_text``: (page, text) of a part's first page's head read again at
    a higher resolution, when the first reading gave no number or no date;
    ``body_text``: (page, text) of a Biên bản's pages read whole, when the
    first reading lacked some of its parts (OCR by need reads heads).
    ``deferred``: the first page of each part of a scan whose signer crop or
    rereads (the three above) were left for after classification: they are
    done (``bot.extract.official.complete_official``) only for a part that
    counts and whose verdict still depends on them (docs/official-copies.md,
    "When it is checked").
    """

    medium: Medium
    signatures: SignatureReport = SignatureReport()
    pages: tuple[PageSeal, ...] = ()
    signer_text: tuple[tuple[int, str], ...] = ()
    head_text: tuple[tuple[int, str], ...] = ()
    body_text: tuple[tuple[int, str], ...] = ()
    deferred: tuple[int, ...] = ()

    def pages_of(self, first: int, last: int) -> tuple[PageSeal, ...]:
        """The page answers that belong to a part spanning pages ``first``..``last``."""
        return tuple(p for p in self.pages if first <= p.page <= last)

    def signer_lines(self, first: int, last: int) -> list[str]:
        """The lines read around the seal on the pages ``first``..``last``."""
        return _lines_of(self.signer_text, first, last)

    def head_lines(self, first: int, last: int) -> list[str]:
        """The head of the part's first page as read again (empty when it was not)."""
        return _lines_of(self.head_text, first, last)

    def body_lines(self, first: int, last: int) -> list[str]:
        """The part's pages read whole again (a Biên bản whose parts were not all read)."""
        return _lines_of(self.body_text, first, last)


def _lines_of(texts: tuple[tuple[int, str], ...], first: int, last: int) -> list[str]:
    return [line for page, text in texts if first <= page <= last for line in text.splitlines()]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def signature_to_dict(s: DigitalSignature) -> dict:
    return {"field": s.field, "signer": s.signer, "organisation": s.organisation, "signed_at": _iso(s.signed_at),
            "intact": s.intact, "covers_whole_file": s.covers_whole_file,
            "modified_after_signing": s.modified_after_signing, "trusted": s.trusted,
            "certificate_valid_at_signing": s.certificate_valid_at_signing, "change": s.change}


def signature_from_dict(d: dict) -> DigitalSignature:
    return DigitalSignature(field=d.get("field", ""), signer=d["signer"], organisation=d.get("organisation", ""),
                            signed_at=_when(d.get("signed_at")), intact=d["intact"],
                            covers_whole_file=d["covers_whole_file"],
                            modified_after_signing=d["modified_after_signing"], trusted=d.get("trusted"),
                            # a contract-only dict (export) has no such key: it was judged good when written
                            certificate_valid_at_signing=d.get("certificate_valid_at_signing", True),
                            change=d.get("change", "none"))


def inputs_to_dict(i: OfficialInputs) -> dict:
    return {"medium": i.medium.value,
            "signatures": [signature_to_dict(s) for s in i.signatures.signatures],
            "signature_error": i.signatures.error,
            "pages": [{"page": p.page, "seal": p.seal, "reason": p.reason, "rejected": list(p.rejected)}
                      for p in i.pages],
            "signer_text": [[page, text] for page, text in i.signer_text],
            "head_text": [[page, text] for page, text in i.head_text],
            "body_text": [[page, text] for page, text in i.body_text],
            "deferred": list(i.deferred)}


def inputs_from_dict(d: dict) -> OfficialInputs:
    from .seal import PageSeal  # not at the top: the store imports this module for every command

    return OfficialInputs(
        medium=Medium(d["medium"]),
        signatures=SignatureReport(tuple(signature_from_dict(s) for s in d.get("signatures", ())),
                                   d.get("signature_error")),
        pages=tuple(PageSeal(p["page"], p["seal"], p["reason"], None, tuple(p.get("rejected", ())))
                    for p in d.get("pages", ())),
        signer_text=tuple((page, text) for page, text in d.get("signer_text", ())),
        head_text=tuple((page, text) for page, text in d.get("head_text", ())),
        body_text=tuple((page, text) for page, text in d.get("body_text", ())),
        deferred=tuple(d.get("deferred", ())))


def evidence_to_dict(e: Evidence) -> dict:
    """The contract's object (``Evidence.to_json``) plus what the bot needs back:
    the whole signature, ``seal_page`` and ``tampered``."""
    out = e.to_json()
    if e.digital_signature is not None:
        out["digital_signature"] = signature_to_dict(e.digital_signature)
    out["seal_page"] = e.seal_page
    out["tampered"] = e.tampered
    return out


def evidence_from_dict(d: dict) -> Evidence:
    sig = d.get("digital_signature")
    known = {r.value for r in Requirement}
    return Evidence(
        official=d.get("official"),
        digital_signature=signature_from_dict(sig) if sig else None,
        seal=d.get("seal"),
        signature_block=d.get("signature_block"),
        number=d.get("number"),
        date=date.fromisoformat(d["date"]) if d.get("date") else None,
        problems=tuple(d.get("problems", ())),
        seen=tuple(d.get("seen", ())),
        doubts=tuple(d.get("doubts", ())),
        missing=tuple(Requirement(m) for m in d.get("missing", ()) if m in known),
        seal_page=d.get("seal_page"),
        tampered=bool(d.get("tampered", False)),
    )
