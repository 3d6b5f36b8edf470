"""The campaign and the roster: data the office edits, validated into frozen objects.

- ``rules/schools.csv``: the roster, UTF-8, header exactly
  ``code,name,level,emails,aliases`` (emails and aliases separated by ``;``).
- ``rules/campaign.toml``: the campaign: id, document types and the signals
  that recognise them, topic vocabulary, calendar (cycle opening, deadlines,
  grace), reminders, the office's identity for its own report, and
  per-school extensions and exemptions.

Nothing about a district, a date or a document list lives in code.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import RulesError
from .official.policy import OfficialPolicy, parse_policy, policy_of
from .validate import Table, parse_hhmm

ROSTER_HEADER = ["code", "name", "level", "emails", "aliases"]
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_MONTH_DAY_TIME = re.compile(r"^(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class School:
    """One school of the roster. ``emails`` are lower-case."""

    code: str
    name: str
    level: str
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocType:
    """A document type of the dossier and the signals that recognise it.

    ``titles``: the title line as printed (``TỜ TRÌNH``), matched folded.
    ``number_codes``: the type abbreviation in ``Số: 15/TTr-THCSNH``.
    ``keywords``: phrases of the subject line that confirm the type.
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
    minutes: bool = False


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


def load_rules(directory: Path) -> Rules:
    """Load and validate ``schools.csv``, ``campaign.toml`` and, when present,
    ``programmes.toml`` (neighbouring programmes and issuers that are not
    schools) from ``directory``."""
    schools = load_roster(directory / "schools.csv")
    campaign = load_campaign(directory / "campaign.toml", {s.code for s in schools})
    programmes = directory / "programmes.toml"
    if programmes.exists():
        campaign = with_programmes(campaign, _read_toml(programmes, "the neighbouring programmes"), str(programmes))
    return Rules(campaign=campaign, schools=schools)


def _read_toml(path: Path, what: str) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read {what} ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc


def with_programmes(campaign: Campaign, data: dict, where: str = "programmes.toml") -> Campaign:
    """The campaign with the neighbouring programmes (``[[programme]]``: name,
    phrases), the issuers that are not schools (``[[issuer]]``: name, lines,
    codes) and the office's own documents (``[office_documents]``) of a
    parsed programmes.toml added."""
    err = lambda msg: RulesError(f"{where}: {msg}")  # noqa: E731
    top = Table(data, "", err)
    others = list(campaign.topic.others)
    for p in top.subs("programme"):
        name = p.get("name", str, check=_one_line)
        phrases = p.str_list("phrases")
        if not phrases:
            raise p.fail("phrases", "list at least one phrase")
        others.append((name, phrases))
        p.done()
    issuers = list(campaign.issuers)
    for i in top.subs("issuer"):
        issuer = Issuer(name=i.get("name", str, check=_one_line), lines=i.str_list("lines"),
                        codes=i.str_list("codes", ()), signers=i.str_list("signers", ()))
        if not issuer.lines:
            raise i.fail("lines", "list at least one way the name is written")
        issuers.append(issuer)
        i.done()
    office_documents = campaign.office_documents
    if top.has("office_documents"):
        o = top.sub("office_documents")
        office_documents = OfficeDocuments(
            name=o.get("name", str, check=_one_line), subjects=o.str_list("subjects", ()),
            phrases=o.str_list("phrases", ()), signers=o.str_list("signers", ()),
            filenames=o.str_list("filenames", ()))
        if not (office_documents.phrases or office_documents.signers):
            raise o.fail("phrases", "list at least one phrase (or a signer title) the office's documents use")
        o.done()
    top.done()
    return replace(campaign, topic=replace(campaign.topic, others=tuple(others)), issuers=tuple(issuers),
                   office_documents=office_documents)


def load_roster(path: Path) -> tuple[School, ...]:
    """Read the roster CSV (as saved by Excel or a text editor)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the roster ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 (byte {exc.start})",
                         hint="in Excel use 'Save as: CSV UTF-8 (Comma delimited)'") from exc
    return parse_roster(text, str(path))


def parse_roster(text: str, where: str = "schools.csv") -> tuple[School, ...]:
    """Parse roster CSV text; every error names the line."""
    rows = list(csv.reader(io.StringIO(unicodedata.normalize("NFC", text))))
    if not rows or [h.strip() for h in rows[0]] != ROSTER_HEADER:
        raise RulesError(f"{where}: line 1: header must be exactly {','.join(ROSTER_HEADER)}")
    schools: list[School] = []
    seen_codes: dict[str, int] = {}
    seen_emails: dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(ROSTER_HEADER):
            raise RulesError(f"{where}: line {lineno}: expected {len(ROSTER_HEADER)} columns, got {len(row)}")
        code, name, level, emails, aliases = (cell.strip() for cell in row)
        if not _CODE.match(code):
            raise RulesError(f"{where}: line {lineno}: code {code!r} must be lower-case letters, digits and '-'")
        if code in seen_codes:
            raise RulesError(f"{where}: line {lineno}: code {code!r} already used on line {seen_codes[code]}")
        if not name or not level:
            raise RulesError(f"{where}: line {lineno}: name and level are required")
        email_list = tuple(e.strip().lower() for e in emails.split(";") if e.strip())
        for e in email_list:
            if not _EMAIL.match(e):
                raise RulesError(f"{where}: line {lineno}: {e!r} is not an email address")
            if e in seen_emails:
                raise RulesError(f"{where}: line {lineno}: {e} is already the address of {seen_emails[e]}")
            seen_emails[e] = code
        seen_codes[code] = lineno
        schools.append(School(code=code, name=name, level=level, emails=email_list,
                              aliases=tuple(a.strip() for a in aliases.split(";") if a.strip())))
    if not schools:
        raise RulesError(f"{where}: the roster has no schools")
    return tuple(schools)


def load_campaign(path: Path, school_codes: set[str]) -> Campaign:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the campaign ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc
    return parse_campaign(data, school_codes, str(path))


def parse_campaign(data: dict, school_codes: set[str], where: str = "campaign.toml") -> Campaign:
    """Validate the campaign TOML (already parsed) into a ``Campaign``."""
    err = lambda msg: RulesError(f"{where}: {msg}")  # noqa: E731
    top = Table(data, "", err)

    c = top.sub("campaign", required=True)
    cid = c.get("id", str, check=lambda v: None if _CODE.match(v) else "use lower-case letters, digits and '-'")
    name = c.get("name", str)
    activity = c.get("activity", str, "", check=_one_line) or _lower_first(name)
    tz = _zone(c, "timezone", "Asia/Ho_Chi_Minh")
    opens = _month_day(c, "cycle_opens", "08-01")
    deadline_at = _month_day_time(c, "deadline", "10-10 23:59:59")
    report_at = _month_day_time(c, "report_deadline", "10-15 23:59:59")
    grace = timedelta(minutes=c.get("grace_minutes", int, 0, check=lambda v: None if v >= 0 else "must be >= 0"))
    threshold = float(c.get("review_threshold", (int, float), 0.75, check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]"))
    cap = c.get("attachment_cap", int, 30, check=lambda v: None if v >= 1 else "must be >= 1")
    c.done()

    o = top.sub("official")
    # Without [official] nothing is required of a copy (an office that takes any file).
    default_policy = parse_policy(o.get("require", list, []), f"{where}: [official]")
    o.done()
    doc_types = tuple(_doc_type(t, default_policy, where) for t in top.subs("document"))
    if not doc_types:
        raise err("at least one [[document]] is required")
    ids = [d.id for d in doc_types]
    if len(set(ids)) != len(ids):
        raise err(f"document ids must be unique: {ids}")
    if not any(d.required for d in doc_types):
        raise err("at least one [[document]] must have required = true")

    t = top.sub("topic", required=True)
    others = []
    for o in t.subs("other"):
        others.append((o.get("label", str), o.str_list("phrases")))
        o.done()
    groups = t.get("object", list, [])
    for i, group in enumerate(groups):
        if not isinstance(group, list) or not group or not all(isinstance(g, str) and g.strip() for g in group):
            raise t.fail(f"object[{i}]", "expected a non-empty list of phrases")
    topic = Topic(strong=t.str_list("strong"), weak=t.str_list("weak", ()),
                  min_weak=t.get("min_weak", int, 2, check=lambda v: None if v >= 1 else "must be >= 1"),
                  others=tuple(others), object=tuple(tuple(g) for g in groups))
    t.done()
    if not topic.strong:
        raise err("topic.strong: list at least one phrase")

    reminders = _reminders(top.sub("reminders"))
    office = _office(top.sub("office", required=True))

    extensions: dict = {}
    for e in top.subs("extension"):
        code = _known_school(e, school_codes)
        until = e.get("until", datetime, check=lambda v: None if v.tzinfo is None else "write a local date-time without offset")
        e.get("reason", str, "")
        e.done()
        extensions[(until.year if until.month >= opens[0] else until.year - 1, code)] = until.replace(tzinfo=tz)
    exemptions: dict = {}
    for e in top.subs("exemption"):
        code = _known_school(e, school_codes)
        cycle = e.get("cycle", int)
        exemptions[(cycle, code)] = e.get("reason", str)
        e.done()
    top.done()
    return Campaign(id=cid, name=name, tz=tz, cycle_opens=opens, deadline_at=deadline_at,
                    report_deadline_at=report_at, grace=grace, review_threshold=threshold,
                    doc_types=doc_types, topic=topic, reminders=reminders, office=office,
                    extensions=extensions, exemptions=exemptions, activity=activity, attachment_cap=cap)


def _doc_type(t: Table, default_policy: OfficialPolicy = OfficialPolicy(), where: str = "campaign.toml") -> DocType:
    doc_id = t.get("id", str, check=lambda v: None if re.match(r"^[a-z][a-z0-9_]*$", v) else "use lower-case letters, digits and '_'")
    # A document's own ``require`` overrides [official] require (``[]``: any copy will do).
    policy = policy_of(t.get("require", list, None), default_policy, f"{where}: document {doc_id!r}")
    d = DocType(
        id=doc_id,
        name=t.get("name", str),
        required=t.get("required", bool),
        titles=t.str_list("titles"),
        number_codes=t.str_list("number_codes", ()),
        keywords=t.str_list("keywords", ()),
        official=policy,
        # A Biên bản has its parts checked (``minutes_parts``): by default the document titled so.
        minutes=t.get("minutes", bool, any(_fold_title(x).startswith("BIEN BAN") for x in t.str_list("titles"))),
    )
    t.done()
    if not d.titles:
        raise t.fail("titles", "list at least one title")
    return d


def _fold_title(text: str) -> str:
    """Upper-case, without diacritics (đ -> D): a title compared with a fixed word."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())


def _reminders(t: Table) -> Reminders:
    def positive(v):
        return None if v > 0 else "must be > 0"
    before = t.get("before_days", list, [7, 3, 1])
    if not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in before):
        raise t.fail("before_days", "must be a list of positive whole days")
    start = t.get("office_start", str, "07:30", check=lambda v: None if parse_hhmm(v) else "use HH:MM")
    end = t.get("office_end", str, "17:00", check=lambda v: None if parse_hhmm(v) else "use HH:MM")
    weekdays = t.get("office_weekdays", list, [1, 2, 3, 4, 5, 6])
    if not all(isinstance(x, int) and 1 <= x <= 7 for x in weekdays):
        raise t.fail("office_weekdays", "days are 1 (Monday) to 7 (Sunday)")
    r = Reminders(
        before_days=tuple(sorted(set(before), reverse=True)),
        after_every_days=t.get("after_every_days", int, 3, check=positive),
        after_max=t.get("after_max", int, 3, check=lambda v: None if v >= 0 else "must be >= 0"),
        office_start=parse_hhmm(start),
        office_end=parse_hhmm(end),
        office_weekdays=tuple(sorted(x - 1 for x in weekdays)),
        receipt_batch_minutes=t.get("receipt_batch_minutes", int, 10, check=lambda v: None if v >= 0 else "must be >= 0"),
        burst_messages=t.get("burst_messages", int, 10, check=lambda v: None if v >= 2 else "must be >= 2"),
        burst_minutes=t.get("burst_minutes", int, 10, check=positive),
        burst_cooldown_minutes=t.get("burst_cooldown_minutes", int, 60,
                                     check=lambda v: None if v >= 0 else "must be >= 0"),
    )
    t.done()
    if r.office_start >= r.office_end:
        raise t.fail("office_end", "must be after office_start")
    return r


def _office(t: Table) -> Office:
    name, place = t.get("name", str), t.get("place", str)
    o = Office(parent=t.get("parent", str), name=name, short=t.get("short", str),
               place=place, signer_title=t.get("signer_title", str),
               signer_name=t.get("signer_name", str, ""), recipients=t.str_list("recipients"),
               report_subject=t.get("report_subject", str),
               name_in_text=t.get("name_in_text", str, "", check=_one_line) or name_in_text(name, place))
    t.done()
    return o


_JOINERS = {"và", "-", "–"}


def name_in_text(name: str, place: str) -> str:
    """The office's name as written in a sentence, from the capitals of the
    letterhead (Nghị định 30/2020, Phụ lục II: capitalise the first letter of
    the type of body and of each field it covers):
    ``PHÒNG GIÁO DỤC VÀ ĐÀO TẠO`` + ``Quận 12`` -> ``Phòng Giáo dục và Đào tạo Quận 12``;
    ``PHÒNG VĂN HÓA - XÃ HỘI`` -> ``Phòng Văn hóa - Xã hội``. A name not in
    capitals is kept as written; for anything else set ``name_in_text``."""
    name = " ".join(name.split())
    if name != name.upper():
        words = [name]
    else:
        words, capital = [], 2  # the type of body ("Phòng") and the first word of its field
        for word in name.split():
            low = word.lower()
            if low in _JOINERS:
                words.append(low)
                capital = 1
                continue
            if capital:
                low = low[:1].upper() + low[1:]
                capital -= 1
            words.append(low)
            if word.endswith(","):
                capital = 1
    return " ".join([*words, *place.split()])


def _one_line(value: str) -> str | None:
    return None if value.strip() and "\n" not in value and "\r" not in value else "write one line of text"


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) >= 2 and text[0].isupper() and not text[1].isupper() else text


def _known_school(t: Table, codes: set[str]) -> str:
    return t.get("school", str, check=lambda v: None if v in codes else f"no school {v!r} in schools.csv")


def _zone(t: Table, name: str, default: str) -> ZoneInfo:
    value = t.get(name, str, default)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise t.fail(name, f"unknown time zone {value!r}") from exc


def _month_day(t: Table, name: str, default: str) -> tuple[int, int]:
    value = t.get(name, str, default)
    m = _MONTH_DAY.match(value)
    if not m or not _valid_day(int(m.group(1)), int(m.group(2))):
        raise t.fail(name, f"use MM-DD, got {value!r}")
    return int(m.group(1)), int(m.group(2))


def _month_day_time(t: Table, name: str, default: str) -> tuple[int, int, time]:
    value = t.get(name, str, default)
    m = _MONTH_DAY_TIME.match(value)
    if not m or not _valid_day(int(m.group(1)), int(m.group(2))) or int(m.group(3)) > 23 or int(m.group(4)) > 59 or int(m.group(5) or 0) > 59:
        raise t.fail(name, f"use 'MM-DD HH:MM:SS' (local time), got {value!r}")
    return int(m.group(1)), int(m.group(2)), time(int(m.group(3)), int(m.group(4)), int(m.group(5) or 0))


def _valid_day(month: int, day: int) -> bool:
    try:
        date(2024, month, day)  # a leap year admits 02-29
        return True
    except ValueError:
        return False
