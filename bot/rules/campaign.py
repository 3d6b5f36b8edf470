"""``rules/campaign.toml`` parsed (pure): the campaign's id, document types
and the signals that recognise them, topic vocabulary, calendar (cycle
opening, deadlines, grace), reminders, the office's identity for its own
report, and per-school extensions and exemptions."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import RulesError
from ..official.policy import OfficialPolicy, parse_policy, policy_of
from ..validate import Table, parse_hhmm
from .model import Campaign, DocType, Office, Pages, Reminders, Topic
from .roster import SCHOOL_CODE

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_MONTH_DAY_TIME = re.compile(r"^(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")


def parse_campaign(data: dict, school_codes: set[str], where: str = "campaign.toml") -> Campaign:
    """Validate the campaign TOML (already parsed) into a ``Campaign``."""
    err = lambda msg: RulesError(f"{where}: {msg}")  # noqa: E731
    top = Table(data, "", err)

    c = top.sub("campaign", required=True)
    cid = c.get("id", str, check=lambda v: None if SCHOOL_CODE.match(v) else "use lower-case letters, digits and '-'")
    name = c.get("name", str)
    activity = c.get("activity", str, "", check=one_line) or _lower_first(name)
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

    pages = _pages(top.sub("pages"))
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
                    extensions=extensions, exemptions=exemptions, activity=activity, attachment_cap=cap,
                    pages=pages)


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
        body=t.str_list("body", ()),
        end=t.str_list("end", ()),
        signers=t.str_list("signers", ()),
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


def _pages(t: Table) -> Pages:
    """``[pages]``: every key optional (the defaults of ``Pages``)."""
    default = Pages()

    def lines(v):
        return None if 1 <= v <= 20 else "must be 1 to 20"
    pages = Pages(
        number_lines=t.get("number_lines", int, default.number_lines, check=lines),
        top_lines=t.get("top_lines", int, default.top_lines, check=lines),
        head_words=t.str_list("head_words", default.head_words),
        opening=t.str_list("opening", default.opening),
        closing=t.str_list("closing", default.closing),
        legible_share=float(t.get("legible_share", (int, float), default.legible_share,
                                  check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]")),
        body_min=t.get("body_min", int, default.body_min, check=lambda v: None if 1 <= v <= 20 else "must be 1 to 20"),
        body_margin=t.get("body_margin", int, default.body_margin,
                          check=lambda v: None if 1 <= v <= 20 else "must be 1 to 20"),
    )
    t.done()
    return pages


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
               name_in_text=t.get("name_in_text", str, "", check=one_line) or name_in_text(name, place))
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


def one_line(value: str) -> str | None:
    """None when ``value`` is one line of text; else what to write instead (a ``Table`` check)."""
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
