"""The rules as frozen objects: the schools of the roster and the campaign with its parts.

Built from the files by ``bot.rules.load``; what every other module reads.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..official.policy import OfficialPolicy
from ..record import field, frozen


@frozen
class School:
    """One school of the roster. ``emails`` are lower-case."""

    code: str
    name: str
    level: str
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@frozen
class DocType:
    """A document type of the dossier and the signals that recognise it.

    ``titles``: the title line as printed (``TỜ TRÌNH``), matched folded.
    ``number_codes``: the type abbreviation in ``Số: 15/TTr-THCSNH``.
    ``keywords``: phrases of the subject line that confirm the type.
    ``body``: headings and labels that open a line of its body ("Thời gian:",
    "Chủ trì:" of a Biên bản): a page whose head is lost is typed by them
    (``bot.classify.doctype.body_type``). ``end``: the sentence that closes
    it naming it ("Trên đây là báo cáo"): one types a page on its own.
    ``signers``: the lines of its closing block ("Nơi nhận", the signers'
    titles "HIỆU TRƯỞNG", "THƯ KÝ"): a page photo showing them is its last
    page, and only a document of a type that closes so can take it
    (``bot.classify.pages``).
    ``official``: what the office requires of a copy to count it as the
    official paper (issue 16; empty: any copy). ``minutes``: the document is
    a Biên bản, whose parts are checked.
    """

    id: str
    name: str
    required: bool
    titles: tuple[str, ...]
    number_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    official: OfficialPolicy = OfficialPolicy()
    body: tuple[str, ...] = ()
    end: tuple[str, ...] = ()
    minutes: bool = False
    signers: tuple[str, ...] = ()


@frozen
class Topic:
    """Vocabulary of THIS campaign and of its neighbours.

    ``object`` names what the campaign is about (groups of alternatives; a
    text names the object when it has a phrase of every group): a document
    counts only when its own words (title, trích yếu, first lines) name it.
    ``strong`` and ``weak`` are the topic's words: shared with neighbouring
    programmes, they never make a document count; they tell mail about the
    campaign from unrelated mail.
    """

    strong: tuple[str, ...]
    weak: tuple[str, ...] = ()
    min_weak: int = 2
    # Other programmes whose documents arrive in the same format: (name, phrases).
    # A document whose own words name one of them is not this campaign's.
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()
    object: tuple[tuple[str, ...], ...] = ()


@frozen
class Issuer:
    """A body that issues documents and is not a school (Công an phường, UBND phường, Đoàn...).

    ``lines``: how its name begins in the issuer block; ``codes``: its
    abbreviation after the type in the ``Số:`` line (``KH-CAP``); ``signers``:
    the titles it signs with.
    """

    name: str
    lines: tuple[str, ...]
    codes: tuple[str, ...] = ()
    # its signature titles ("TRƯỞNG CÔNG AN PHƯỜNG"): who signed says who issued,
    # when OCR could not read the head
    signers: tuple[str, ...] = ()


@frozen
class OfficeDocuments:
    """How the office's own documents are known by their content (``[office_documents]``
    of programmes.toml), for when their head (issuer line, number) cannot be read.

    ``subjects``: the trích yếu of the office's documents; ``phrases``:
    sentences in which the office is the author or gives the schools their
    tasks; ``signers``: the office's signature titles; ``filenames``: how a
    file name says it is the office's (weak evidence, never enough alone).
    """

    name: str
    subjects: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    signers: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()


@frozen
class Reminders:
    before_days: tuple[int, ...] = (7, 3, 1)
    after_every_days: int = 3
    after_max: int = 3
    office_start: time = time(7, 30)
    office_end: time = time(17, 0)
    office_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday=0; Saturday mornings are worked
    receipt_batch_minutes: int = 10
    # Loop / flood detection: ``burst_messages`` mails or more from one address
    # within ``burst_minutes`` minutes is a burst; the bot stops answering that
    # address until ``burst_cooldown_minutes`` after its last mail of the burst.
    burst_messages: int = 10
    burst_minutes: int = 10
    burst_cooldown_minutes: int = 60


@frozen
class Office:
    """Who the office is, for its own report and the mail it sends."""

    parent: str
    name: str
    short: str
    place: str
    signer_title: str
    signer_name: str
    recipients: tuple[str, ...]
    report_subject: str
    # The office as named in running text ("Phòng Giáo dục và Đào tạo Quận 12"):
    # ``name_in_text`` of [office], by default derived from ``name`` and ``place``.
    name_in_text: str = ""


@frozen
class Pages:
    """How a photo of one page is told to continue the document photographed before it
    (``[pages]`` of campaign.toml; see ``bot.classify.pages``).

    ``number_lines``: how many lines at the top of a page may hold its page
    number (printed from page 2 on); ``top_lines``: how many lines make the
    top of a page; ``head_words``: words of a head line printed in capitals
    (supervising body, issuer, motto); ``opening``: words that open the body
    of a document's first page; ``closing``: words of a document's end;
    ``legible_share``: the share of the words at the top that must read as
    Vietnamese syllables for the top to count as read. ``body_min``: how many
    different ``body`` lines of one type type a page without a head, and
    ``body_margin`` by how many more than of any other type.
    """

    number_lines: int = 3
    top_lines: int = 5
    head_words: tuple[str, ...] = ("UBND", "ỦY BAN NHÂN DÂN", "PHÒNG GIÁO DỤC", "SỞ GIÁO DỤC", "TRƯỜNG",
                                   "TRUNG TÂM", "CỘNG HÒA", "ĐỘC LẬP")
    opening: tuple[str, ...] = ("Kính gửi", "Căn cứ", "Về việc", "V/v", "Thực hiện Kế hoạch",
                                "Thực hiện Công văn", "Thực hiện Quyết định", "Thực hiện Hướng dẫn",
                                "Thời gian:", "Hôm nay")
    closing: tuple[str, ...] = ("Nơi nhận", "Trên đây là")
    legible_share: float = 0.75
    body_min: int = 3
    body_margin: int = 2


@frozen
class Campaign:
    """A yearly campaign. A cycle is named by the year its deadline falls in.

    Cycle Y opens on ``cycle_opens`` of year Y (default 1 August) and runs
    until the next opening, so a dossier received on 20 October is late for
    cycle Y, not early for Y+1.
    """

    id: str
    name: str
    tz: ZoneInfo
    cycle_opens: tuple[int, int]
    deadline_at: tuple[int, int, time]
    report_deadline_at: tuple[int, int, time]
    grace: timedelta
    review_threshold: float
    doc_types: tuple[DocType, ...]
    topic: Topic
    reminders: Reminders
    office: Office
    # per cycle: {(cycle, school_code): local deadline}
    extensions: dict = field(default_factory=dict)
    # per cycle: {(cycle, school_code): reason}
    exemptions: dict = field(default_factory=dict)
    # What the campaign is about, as it reads in running text after "kế hoạch"
    # ("xây dựng cơ sở giáo dục điển hình về ..."): ``activity`` of [campaign].
    activity: str = ""
    # Bodies that are not schools (rules/programmes.toml): their documents never count.
    issuers: tuple[Issuer, ...] = ()
    # A mail with more attachments than this is one review item, not one per file.
    attachment_cap: int = 30
    # The office's own documents, known by their content (rules/programmes.toml).
    office_documents: OfficeDocuments | None = None
    # Whether a page photo continues the document photographed before it ([pages]).
    pages: Pages = Pages()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.doc_types if d.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.doc_types if not d.required)

    def doc_type(self, doc_id: str) -> DocType:
        for d in self.doc_types:
            if d.id == doc_id:
                return d
        raise KeyError(doc_id)

    def doc_name(self, doc_id: str) -> str:
        """The document type's name; its id when the rules no longer list it
        (an item recorded before the rules changed)."""
        try:
            return self.doc_type(doc_id).name
        except KeyError:
            return doc_id

    def opens(self, cycle: int) -> datetime:
        month, day = self.cycle_opens
        return datetime(cycle, month, day, tzinfo=self.tz)

    def cycle_of(self, moment: datetime) -> int:
        """The cycle an instant belongs to (by the local calendar)."""
        local = moment.astimezone(self.tz)
        return local.year if local >= self.opens(local.year) else local.year - 1

    def deadline(self, cycle: int) -> datetime:
        """The schools' deadline of a cycle, as an aware datetime."""
        month, day, at = self.deadline_at
        return datetime.combine(date(cycle, month, day), at, tzinfo=self.tz)

    def report_deadline(self, cycle: int) -> datetime:
        """The office's own deadline to report upward."""
        month, day, at = self.report_deadline_at
        return datetime.combine(date(cycle, month, day), at, tzinfo=self.tz)


@frozen
class Rules:
    campaign: Campaign
    schools: tuple[School, ...]

    def school(self, code: str) -> School:
        for s in self.schools:
            if s.code == code:
                return s
        raise KeyError(code)

    def school_by_email(self, address: str) -> School | None:
        address = address.strip().lower()
        for s in self.schools:
            if address in s.emails:
                return s
        return None
