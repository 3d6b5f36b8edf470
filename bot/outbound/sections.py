"""The digest's sections as frozen values: what ``templates/digest.*`` read.

Each list of the digest is a ``Section`` (the rows shown, how many in all, how
many left out: those are in the XLSX); a row is one of the dataclasses
below. The templates read fields by attribute (``row.school``), so the
wording does not depend on these being dataclasses rather than dicts.
Built by ``digest.digest_content`` and ``review.review_sections``; pure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Sequence, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class ReviewGuess:
    """The bot's best guess about a file in review, in a few words.

    ``likely``: probably a document of this campaign and year (False: its
    text speaks of another topic or year). ``doc``: the short name of the
    document type it probably is ("Báo cáo"), "" when unknown. ``cause``:
    why a person must look, a key of ``CAUSE`` in
    ``templates/_digest_wording.txt``; ``label``: the words that go with it
    (the other topic, the date, a reason too rare to have a key).
    """

    likely: bool
    doc: str
    cause: str
    label: str = ""
    from_filename: bool = False  # the document type was read from the file's name only


@dataclass(frozen=True)
class Section(Generic[Row]):
    """A capped list of the digest: ``rows`` shown, ``total`` in all, ``more`` left out."""

    rows: tuple[Row, ...]
    total: int
    more: int


def cut(rows: Sequence[Row], limit: int) -> Section[Row]:
    """The first ``limit`` of ``rows``, with the count of the rest."""
    return Section(tuple(rows[:limit]), len(rows), max(0, len(rows) - limit))


@dataclass(frozen=True)
class BatchSection(Section[Row]):
    """A section with one reply line settling every row it shows ("" when there is none)."""

    batch: str = ""


@dataclass(frozen=True)
class SchoolGroup(Generic[Row]):
    """Rows of one school, in the order they came ("" for rows of no school)."""

    school: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class GroupedSection(Section[Row]):
    """A section whose rows are also grouped by school (``groups``), for one line per school."""

    groups: tuple[SchoolGroup[Row], ...] = ()


@dataclass(frozen=True)
class Headline:
    """The digest's opening figures. ``exempt`` schools are counted in ``complete``, as status --json does."""

    schools: int
    complete: int
    incomplete: int
    exempt: int
    percent: float
    target: int
    days_to_deadline: int
    days_to_report: int
    review: int
    official_review: int
    late: int
    missing_schools: int


@dataclass(frozen=True)
class LateRow:
    """A document a school sent after its deadline."""

    school: str
    code: str
    doc_name: str
    doc_short: str
    received_at: datetime | None
    late_by: timedelta | None


@dataclass(frozen=True)
class MissingSchool:
    """An incomplete school: the names (and short names) of what it lacks, has without the official
    paper, or has in review; the names of its files of unknown type in review; whether its reminders
    are held (``reminders.reason_not_to_remind``)."""

    school: str
    code: str
    missing: tuple[str, ...]
    missing_short: tuple[str, ...]
    not_official: tuple[str, ...]
    not_official_short: tuple[str, ...]
    in_review: tuple[str, ...]
    in_review_short: tuple[str, ...]
    extended: bool
    deadline: datetime
    untyped_review: tuple[str, ...]
    reminder_held: bool


@dataclass(frozen=True)
class MissingGroup:
    """The incomplete schools of one level shown (``schools``) and how many there are (``total``)."""

    level: str
    schools: tuple[MissingSchool, ...]
    total: int


@dataclass(frozen=True)
class ReviewRow:
    """A file in review: the bot's ``guess`` and the ``replies`` that settle it, the most likely first."""

    ref: str
    school: str | None  # the school's name
    code: str | None
    doc_names: tuple[str, ...]
    filename: str
    from_addr: str
    received_at: datetime
    reason: str
    guess: ReviewGuess
    replies: tuple[str, ...]
    reminder_held: bool  # the school's reminders wait for this file


@dataclass(frozen=True)
class ReviewSection(Section[ReviewRow]):
    """The review queue: the probably-of-this-campaign files (``likely``), then the others; ``rows`` both."""

    likely: BatchSection[ReviewRow] = BatchSection((), 0, 0)
    unlikely: BatchSection[ReviewRow] = BatchSection((), 0, 0)


@dataclass(frozen=True)
class OfficialQuestion:
    """A counted copy the bot could not judge (is it the official paper?): the bot's ``doubts``, two replies."""

    ref: str
    school: str | None
    code: str | None
    doc_names: tuple[str, ...]
    doc_short: tuple[str, ...]
    filename: str
    received_at: datetime
    doubts: str
    replies: tuple[str, ...]


@dataclass(frozen=True)
class ChangeRow:
    """An item recorded since the previous digest; ``decision`` "counted" or "review"."""

    ref: str
    school: str | None
    doc_names: tuple[str, ...]
    doc_short: tuple[str, ...]
    filename: str
    from_addr: str
    received_at: datetime
    decision: str


@dataclass(frozen=True)
class CorrectionRow:
    """A correction made since the previous digest, by whom, why and how (``via``)."""

    kind: str
    school: str | None
    doc_name: str | None
    ref: str | None
    value: Any
    who: str
    why: str
    at: datetime
    via: str


@dataclass(frozen=True)
class BounceRow:
    """An address whose mail bounced; ``suppressed``: the bot no longer writes to it."""

    address: str
    school: str | None
    count: int
    first_at: datetime
    last_at: datetime
    detail: str
    suppressed: bool
    written_since: datetime | None


@dataclass(frozen=True)
class BurstRow:
    """An address that sent a burst of mail (a loop, a flood); ``active``: still silenced now."""

    address: str
    school: str | None
    count: int
    first_at: datetime
    last_at: datetime
    until: datetime
    active: bool
    same_day: bool


@dataclass(frozen=True)
class UnknownRow:
    """A sender outside the roster; ``counted_for``: names of the schools its documents were counted for."""

    address: str
    count: int
    last_at: datetime
    last_subject: str
    counted_for: tuple[str, ...]


@dataclass(frozen=True)
class OutboxRow:
    """An outgoing mail that failed or keeps failing; ``kind_name`` in Vietnamese."""

    id: int
    kind: str
    kind_name: str
    school: str | None
    status: str
    subject: str
    last_error: str
    attempts: int


@dataclass(frozen=True)
class RefusedRow:
    """A mail with commands that was not obeyed: its first ten command ``lines`` and how many more."""

    from_addr: str
    received_at: datetime
    subject: str
    reason: str
    detail: str
    lines: tuple[str, ...]
    more_lines: int


@dataclass(frozen=True)
class QuarantinedRow:
    """A message the bot could not process; ``from_addr`` is its Message-ID when it had no sender."""

    from_addr: str
    subject: str
    received_at: datetime
    error: str
    ref: str


__all__ = ["ReviewGuess", "Section", "cut", "BatchSection", "SchoolGroup", "GroupedSection", "Headline", "LateRow",
           "MissingSchool", "MissingGroup", "ReviewRow", "ReviewSection", "OfficialQuestion", "ChangeRow",
           "CorrectionRow", "BounceRow", "BurstRow", "UnknownRow", "OutboxRow", "RefusedRow", "QuarantinedRow"]
