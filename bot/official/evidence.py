"""The records of a verdict: how a document came (``Medium``) and the
``Evidence`` that it is the official paper (issue 16's contract).

Kept apart from ``verdict`` (which judges, with every checker it needs) so
that what only reads or writes a stored ``Evidence`` (the store, the status,
the commands that print it) loads none of the checkers.
"""
from __future__ import annotations

from datetime import date
from enum import Enum

from ..record import frozen
from .policy import Requirement
from .signature import DigitalSignature


class Medium(str, Enum):
    """How the document reached us, which decides what can prove it official."""

    WORD = "word"          # .docx/.doc/.odt/.rtf: a draft, whatever it says
    TEXT = "text"          # plain text or HTML (a mail body)
    TEXT_PDF = "text_pdf"  # a PDF with a text layer (printed from Word, or a searchable scan)
    SCAN = "scan"          # a scanned PDF or a photo: judged on its page images


@frozen
class Evidence:
    """Evidence that a document is the official paper (issue 16's contract).

    ``problems``: Vietnamese, for the school's receipt (what is wrong or
    missing) and the coordinator. ``seen``: Vietnamese, what was found
    ("đã ký số bởi ..."). ``doubts``: why the bot cannot tell, for a
    coordinator question. ``missing``: the required evidence definitely not
    there, so a receipt asks only for that.
    """

    official: bool | None
    digital_signature: DigitalSignature | None = None
    seal: bool | None = None
    signature_block: bool | None = None
    number: str | None = None
    date: date | None = None
    problems: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    doubts: tuple[str, ...] = ()
    missing: tuple[Requirement, ...] = ()
    seal_page: int | None = None
    tampered: bool = False

    def to_json(self) -> dict:
        """The ``evidence`` object of ``export --format json`` (keys of the contract first)."""
        return {
            "official": self.official,
            "digital_signature": self.digital_signature.to_json() if self.digital_signature else None,
            "seal": self.seal,
            "signature_block": self.signature_block,
            "number": self.number,
            "date": self.date.isoformat() if self.date else None,
            "problems": list(self.problems),
            "seen": list(self.seen),
            "doubts": list(self.doubts),
            "missing": [r.value for r in self.missing],
        }
