"""Plain data the state is read back into: the items, the corrections, the reason codes.

fetch -> parse -> extract -> classify -> record -> decide -> notify

The records of the first stages (``RawMessage``, ``Attachment``,
``Skipped``, ``AuthVerdict``, ``ParsedMessage``, ``DocumentPart``,
``Extraction``, ``ItemDecision``) live in ``bot.mail_model``; they are
still importable from here, loaded on first use (PEP 562), so that the
commands that only read the state (``status``, ``health``, a quiet
``poll``) do not define them.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from .lazy import lazy_exports
from .record import frozen

if TYPE_CHECKING:  # the official-copy types load with the modules that make them
    from .official.verdict import Evidence

MAIL_RECORDS = frozenset({"RawMessage", "Attachment", "Skipped", "AuthVerdict", "ParsedMessage", "DocumentPart",
                          "Extraction", "ItemDecision"})
# ``bot.model.ParsedMessage`` and the other records of ``bot.mail_model``, loaded on first use
__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(MAIL_RECORDS, "mail_model"), home="bot")


DECISIONS = ("counted", "review", "ignored")


class ReasonCode(str, Enum):
    """Why a document waits for a person or is not counted, typed.

    The classifier gives one with every "review" and "ignored" decision,
    next to the reasons it writes for people; it is stored with the item
    (``items.reason_code``) and the digest groups and words the review
    queue by it (``bot.outbound.review.review_guess``). For a review item it is the
    cause the digest shows (the first of the item's concerns that has one).
    The value is what is stored: never rename one.
    """

    # review: the mail or a file could not be read
    NO_ATTACHMENT = "no_attachment"          # the mail announces documents and carries none
    DAMAGED_MAIL = "damaged_mail"            # the mail was cut short or broken
    UNREAD_PART = "unread_part"              # a part the parser did not open (ZIP bomb, RAR...)
    UNREADABLE_FILE = "unreadable_file"      # a file without text (its error says why: password, no text...)
    # review: who sent it, what it is
    SCHOOL_CONFLICT = "school_conflict"      # two strong sources name two schools
    AMBIGUOUS_SCHOOL = "ambiguous_school"    # a name that fits several schools
    UNKNOWN_SCHOOL = "unknown_school"        # the sender is not on the roster
    UNKNOWN_ISSUER = "unknown_issuer"        # the head names a school that is not on the roster
    UNREADABLE_TITLE = "unreadable_title"    # no title and no number read: the type is unknown
    TYPE_CONFLICT = "type_conflict"          # title and number of two types
    COVER_LETTER = "cover_letter"            # a Công văn whose subject reads like a dossier document
    MANY_DOCUMENTS = "many_documents"        # one part seems to hold several documents
    AUTH_FAIL = "auth_fail"                  # the sender's authentication failed
    LOW_CONFIDENCE = "low_confidence"        # below the review threshold
    # review: this campaign and cycle or not
    NO_TOPIC = "no_topic"                    # no word of this campaign
    TOPIC_WORDS_ONLY = "topic_words_only"    # only the topic's words, not its object
    BOTH_TOPICS = "both_topics"              # this campaign's object and another programme together
    FUTURE_DATE = "future_date"              # dated after it arrived
    OLD_SCHOOL_YEAR = "old_school_year"      # a current date, an old school year
    FUTURE_SCHOOL_YEAR = "future_school_year"  # a school year not begun
    UNDATED = "undated"                      # no readable date and no other evidence of this cycle
    DATE_CONFLICT = "date_conflict"          # an earlier year's date under a trích yếu of this cycle's year
    MAYBE_OFFICE = "maybe_office"            # may be the office's own document
    ATTACHMENT_CAP = "attachment_cap"        # a mail with more files than the cap (and its files)
    # ignored
    OTHER_PROGRAMME = "other_programme"      # another programme's document (rules/programmes.toml)
    OTHER_SUBJECT = "other_subject"          # its trích yếu speaks of something else
    OTHER_ISSUER = "other_issuer"            # issued by a body that is not a school
    OFFICE_DOCUMENT = "office_document"      # the office's own document, known by its content
    OTHER_YEAR = "other_year"                # an earlier year's document
    OTHER_TYPE = "other_type"                # a type outside the dossier (Công văn, Quyết định...)
    NOT_A_DOCUMENT = "not_a_document"        # a logo, a signature, a vCard
    AUTOMATIC = "automatic"                  # an auto-reply, bulk mail or a delivery report
    UNRELATED_MAIL = "unrelated_mail"        # spam: no roster school and no campaign word
    PAGE_CONTINUATION = "page_continuation"  # a page photo that continues a document


@frozen
class StoredItem:
    """One classified document part, joined with its message."""

    id: int
    message_id: str
    from_addr: str
    subject: str
    received_at: datetime
    container: str
    filename: str
    part_index: int
    first_page: int
    last_page: int
    school: str | None
    doc_types: tuple[str, ...]
    campaign: bool
    decision: str
    confidence: float
    reasons: tuple[str, ...]
    cycle: int
    content_sha256: str
    reason_code: ReasonCode | None = None  # None for items recorded before schema 9
    # Whether this copy is the official paper (issue 16); None: not checked
    # (an item recorded before the check existed), never "unofficial".
    evidence: Evidence | None = None

    @property
    def ref(self) -> str:
        """The short reference the coordinator uses: R17."""
        return f"R{self.id}"


@frozen
class Correction:
    """One decision of a person, as recorded (the audit trail): ``kind`` (assign, received, extend, exempt...),
    the item, school, document type and cycle it is about, its ``value``, who took it, why, how (``via``) and when."""

    id: int
    kind: str
    item_id: int | None
    school: str | None
    doc_type: str | None
    cycle: int
    value: str | None
    who: str
    why: str
    via: str
    at: datetime

