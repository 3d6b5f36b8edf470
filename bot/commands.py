"""The coordinator's commands by email: text -> commands. Pure, no I/O.

The coordinator replies to the digest (or writes to the bot's mailbox) with
one command per line::

    duyệt R17 thcs-nguyen-hien bien_ban      (ASCII: duyet / assign)
    duyệt R17                                 (the school and type the bot guessed)
    bỏ R18                                    (bo / loại / loai / reject)
    bỏ R12 R13 R14, duyệt R21-R25             (several files in one line: a list, a range
                                               "R21-R25" / "R21–R25" / "R21-25", or both)
    bỏ Q12 đã nhận hồ sơ qua điện thoại       (the same verb with a Q-reference: dismiss a
                                               quarantined message dealt with by hand)
    miễn mn-hoa-mai                           (mien / exempt)
    bỏ miễn mn-hoa-mai                        (bo mien / hủy miễn / unexempt)
    gia hạn th-le-van-tho 2023-10-20          (gia han / extend; also 20/10/2023)
    nhận giấy thcs-x bao_cao 2023-10-09       (nhan giay / received; a time may follow)
    trạng thái th-le-van-tho                  (trang thai / status; alone: the whole campaign)
    xác nhận R17 bản chính thức               (xac nhan R17 ban chinh thuc: the copy IS the
                                               official paper; "R17 là bản chính thức" too)
    R17 không phải bản chính thức             (R17 khong phai ban chinh thuc: it is NOT;
                                               several files: "R17 R18 không phải ...")

Anything after the arguments is the reason kept in the audit log
("... vì đã xem bản scan", "... lý do: ..."). Case, extra spaces, NBSP,
list markers ("1.", "-") and trailing punctuation do not matter.

Only the coordinator's own text counts: quoted lines ("> ..."), the quoted
original below "Vào ... đã viết:" / "On ... wrote:", Outlook's
"From: ... Sent: ..." block, "-----Original Message-----" and the
signature after "-- " are ignored, so the digest's own text quoted in a
reply can never be taken for a command.

``parse_commands`` returns, in line order, a ``Command`` for each line it
understood and a ``CommandError`` for each line that starts like a command
but is wrong (the reply explains it and shows the right syntax). Other
lines (greetings, thanks) are ignored. Names (schools, document types,
references) are checked later against the roster by ``bot.coordinator``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from .vietnamese import fold

KINDS = ("assign", "reject", "dismiss", "exempt", "unexempt", "extend", "received", "status", "official",
         "not_official")

# After the file references: the copy is (or is not) the official paper (issue 16).
# Exact forms, with diacritics or in ASCII; "là"/"la" may come first.
_OFFICIAL_PHRASES = (("bản", "chính", "thức"), ("ban", "chinh", "thuc"))
_NOT_WORDS = (("không", "phải"), ("khong", "phai"))
_IS_WORDS = (("là",), ("la",))

# Verbs as written (lower case, NFC): the Vietnamese words with their
# diacritics and their ASCII fallbacks. Matching is exact on these forms, so
# "Bố trí ..." or "Miền ..." in a sentence is not taken for "bỏ" or "miễn".
# Longest first: "bỏ miễn" before "bỏ".
VERBS: tuple[tuple[str, str], ...] = tuple(sorted((
    ("duyệt", "assign"), ("duyet", "assign"), ("xác nhận", "assign"), ("xac nhan", "assign"),
    ("assign", "assign"),
    ("bỏ", "reject"), ("bo", "reject"), ("loại", "reject"), ("loai", "reject"), ("không tính", "reject"),
    ("khong tinh", "reject"), ("reject", "reject"),
    ("miễn", "exempt"), ("mien", "exempt"), ("miễn nộp", "exempt"), ("mien nop", "exempt"), ("exempt", "exempt"),
    ("bỏ miễn", "unexempt"), ("bo mien", "unexempt"), ("hủy miễn", "unexempt"), ("huỷ miễn", "unexempt"),
    ("huy mien", "unexempt"), ("bỏ miễn nộp", "unexempt"), ("bo mien nop", "unexempt"), ("unexempt", "unexempt"),
    ("gia hạn", "extend"), ("gia han", "extend"), ("extend", "extend"),
    ("nhận giấy", "received"), ("nhan giay", "received"), ("nhận bản giấy", "received"),
    ("nhan ban giay", "received"), ("received", "received"),
    ("trạng thái", "status"), ("trang thai", "status"), ("status", "status"),
), key=lambda v: -len(v[0].split())))

# The folded spellings, to recognise a verb typed with wrong or missing
# diacritics ("duyêt"): such a line is reported, not obeyed.
_FOLDED_VERBS = {fold(v): k for v, k in VERBS}

# Error codes (the reply's wording for each is in templates/command_reply.*).
UNKNOWN = "unknown"        # looks like a command, no known verb
MISSING = "missing"        # an argument is missing (detail: which)
BAD_REF = "bad_ref"        # not a reference like R17 (or Q12 after "bỏ")
BAD_DATE = "bad_date"      # not a date like 2023-10-20 or 20/10/2023
BAD_SCHOOL = "bad_school"  # not a school code (lower-case letters, digits, '-'): e.g. a "<placeholder>"
TOO_MANY = "too_many"      # a line naming more than MAX_REFS files (detail: the range at fault)

MAX_REFS = 200  # files one line may name ("duyệt R1-R999999" is a typo, not a wish)


@dataclass(frozen=True)
class Command:
    """One understood line. ``line`` is its 1-based number in the mail body."""

    line: int
    text: str
    kind: str
    ref: str | None = None       # "R17" (an item); "Q12" (a quarantined message, kind "dismiss")
    refs: tuple[str, ...] = ()   # assign/reject: every item the line names, in order ("bỏ R12 R13": both)
    school: str | None = None    # as written (lower case)
    doc_type: str | None = None  # as written (lower case): an id, an id with '-', or a number code
    value: str | None = None     # ISO date or date-time, local
    why: str = ""


@dataclass(frozen=True)
class CommandError:
    """A line that starts like a command but cannot be carried out as written."""

    line: int
    text: str
    code: str
    kind: str | None = None  # the verb, when it was recognised
    detail: str = ""         # the word at fault, or the missing argument's name


# -- the coordinator's own text ---------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^\s*(?:on|vào|vao|le|am)\b.{0,300}?(?:wrote|đã viết|da viet|a écrit|schrieb)\s*:\s*$",
    re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^\s*(?:on|vào|vao)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(?:wrote|đã viết|da viet)\s*:\s*$", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|forwarded message|thư gốc|tin nhắn gốc|thư chuyển tiếp|"
    r"tin nhắn đã chuyển tiếp)\s*-{2,}|_{10,}|-{10,})\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|từ|người gửi)\s*:\*?\s*\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(?:sent|đã gửi|date|ngày|ngày gửi|to|đến|subject|chủ đề)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(r"^\s*--\s*$")
_QUOTED = re.compile(r"^\s*>")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


MAX_LINES = 5000  # lines of a body looked at (a command mail is short; hostile mail is not)


def own_lines(body_text: str, max_lines: int = MAX_LINES) -> list[tuple[int, str]]:
    """The lines the sender wrote, with their 1-based numbers in ``body_text``.

    Quoted lines are skipped; everything from a quote header without
    markers (Outlook's block, "-----Original Message-----", an attribution
    line not followed by "> " lines) or from the signature on is cut. Only
    the first ``max_lines`` lines of the body are looked at.
    """
    text = (body_text or "")[:max_lines * 200]
    lines = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")[:max_lines]
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i].translate(_INVISIBLE)
        if _QUOTED.match(line):
            i += 1
            continue
        if _SIGNATURE.match(line) or _SEPARATOR.match(line):
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1:i + 4]):
            break
        attribution = 0
        if _ATTRIBUTION.match(line):
            attribution = 1
        elif (_ATTRIBUTION_START.match(line) and i + 1 < len(lines) and _ATTRIBUTION_END.search(lines[i + 1])
              and len(line) + len(lines[i + 1]) < 400):
            attribution = 2  # Gmail wraps a long attribution over two lines
        if attribution:
            following = next((n for n in lines[i + attribution:i + attribution + 50] if n.strip()), "")
            if not _QUOTED.match(following):
                break  # the quote has no markers: everything below is quoted
            i += attribution
            continue
        out.append((i + 1, line))
        i += 1
    return out


# -- mail from anyone else ---------------------------------------------------------

# "Status : 25 ...", "Trạng thái: đã gửi đủ hồ sơ": a label and its value, never a command.
_LABEL = re.compile(r"^\s*[^\W\d_]+(?:\s+[^\W\d_]+){0,3}\s*:")
_EXPLICIT_REF = re.compile(r"(?<![\w-])(?:[rq][-#]?\d{1,9}|#\d{1,9})\b", re.IGNORECASE)


def deliberate(entry: Command | CommandError) -> bool:
    """Whether a line from an address that is not a coordinator's is clearly an
    attempted command, worth reporting as refused (the digest lists those):
    a well-formed command, not written as a label ("Trạng thái: ..."), that
    names what the bot names -- an explicit reference (R17, Q12, #17) or a
    roster-shaped school code (letters with '-', e.g. mn-hoa-mai). Ordinary
    mail ("Status : 25", "Bỏ 2 bản photo", "miễn tham gia") is not."""
    if not isinstance(entry, Command) or _LABEL.match(entry.text):
        return False
    if kind_names_item(entry.kind):
        return bool(_EXPLICIT_REF.search(entry.text))
    school = entry.school or ""
    return "-" in school and bool(re.search(r"[a-z]", school))


def kind_names_item(kind: str) -> bool:
    """Whether a command of this kind is about files (R17), not schools."""
    return kind in ("assign", "reject", "dismiss", "official", "not_official")


# -- one line -------------------------------------------------------------------

_LIST_MARKER = re.compile(r"^\s*(?:[-*•–+]|\(?\d{1,2}[.)])\s+")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_EDGE = ".,;:!?\"'“”‘’()[]"
_REF = re.compile(r"^(?:r|#|r-|r#)?(\d{1,9})$", re.IGNORECASE)
# After the first reference only a written "R" (or "#") continues the list, so that a
# number in the reason ("bỏ R12 2 bản trùng") is never taken for a file.
_MORE_REF = re.compile(r"^(?:r|#)(\d{1,9})$", re.IGNORECASE)
_DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
_RANGE = re.compile(rf"^(?:r|#)?(\d{{1,9}})[{_DASHES}](?:r|#)?(\d{{1,9}})$", re.IGNORECASE)
_MORE_RANGE = re.compile(rf"^(?:r|#)(\d{{1,9}})[{_DASHES}](?:r|#)?(\d{{1,9}})$", re.IGNORECASE)
_QUARANTINE_REF = re.compile(r"^q[-#]?(\d{1,9})$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ](\d{1,2}):(\d{2}))?$", re.IGNORECASE)
_VN_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})(?::|h)(\d{2})?$", re.IGNORECASE)
_REASON_PREFIX = re.compile(r"^(?:vì|vi|lý do|lí do|ly do|li do|why|--why|reason|do)\b\s*:?\s*|^[-:–]\s*",
                            re.IGNORECASE)
_CODE_SHAPED = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_commands(body_text: str) -> list[Command | CommandError]:
    """Every command (or faulty command) the sender wrote, in order."""
    out: list[Command | CommandError] = []
    for number, line in own_lines(body_text):
        result = parse_line(line, number)
        if result is not None:
            out.append(result)
    return out


def parse_line(line: str, number: int = 1) -> Command | CommandError | None:
    """One line: a command, an error, or None when it is not a command at all."""
    # trailing sentence punctuation goes; a closing quote or bracket of the reason stays
    text = _SPACES.sub(" ", _LIST_MARKER.sub("", line.translate(_INVISIBLE))).strip().rstrip(".,;:!? ").strip()
    if not text:
        return None
    words = text.split(" ")
    lowered = [w.lower().strip(_EDGE) for w in words]
    kind, used = _verb(lowered)
    if kind is None:
        official = _official_statement(words, lowered, text, number, verb_used=0)
        if official is not None:
            return official
        return _maybe_unknown(text, lowered, number)
    if kind == "assign":  # "xác nhận R17 bản chính thức": not an assignment but a verdict on the copy
        official = _official_statement(words, lowered, text, number, verb_used=used)
        if official is not None:
            return official
    # The reason is kept as written (its commas and quotes); the arguments
    # before it are read without the punctuation around them.
    raw = [w for w in words[used:] if w.strip(_EDGE)]
    return _arguments(kind, [w.strip(_EDGE) for w in raw], raw, text, number)


def _official_statement(words: list[str], lowered: list[str], text: str, number: int,
                        verb_used: int) -> Command | None:
    """ "[xác nhận] R17 [R18...] [là] bản chính thức" -> official, "... không phải bản chính thức"
    -> not_official; None when the line does not say that (then it is read as usual)."""
    args = [w.strip(_EDGE) for w in words[verb_used:] if w.strip(_EDGE)]
    raw = [w for w in words[verb_used:] if w.strip(_EDGE)]
    if not args or not (_REF.match(args[0]) or _RANGE.match(args[0])):
        return None
    refs, used, fault = _refs(args)
    if fault is not None:
        return None
    rest = [a.lower() for a in args[used:]]
    kind = "official"
    for nots in _NOT_WORDS:
        if tuple(rest[:len(nots)]) == nots:
            kind, rest, used = "not_official", rest[len(nots):], used + len(nots)
            break
    else:
        for is_ in _IS_WORDS:
            if tuple(rest[:len(is_)]) == is_:
                rest, used = rest[len(is_):], used + len(is_)
                break
    if not any(tuple(rest[:3]) == phrase for phrase in _OFFICIAL_PHRASES):
        return None
    return Command(number, text, kind, ref=refs[0], refs=refs, why=_why(raw[used + 3:]))


def _verb(lowered: list[str]) -> tuple[str | None, int]:
    for phrase, kind in VERBS:
        parts = phrase.split(" ")
        if lowered[:len(parts)] == parts:
            return kind, len(parts)
    return None, 0


def _maybe_unknown(text: str, lowered: list[str], number: int) -> CommandError | None:
    """A line with no known verb is an error only when it clearly meant to be
    a command: it names an item (R17), or starts with a verb spelled with
    other diacritics ("duyêt R17 ...")."""
    if len(lowered) > 12:
        return None
    names_item = any(re.fullmatch(r"r\d{1,9}", w) for w in lowered)
    folded = [fold(w) for w in lowered]
    misspelt = any(" ".join(folded[:n]) in _FOLDED_VERBS for n in (1, 2, 3)) and len(lowered) <= 6 and (
        names_item or any("-" in w and _CODE_SHAPED.match(w) and re.search(r"[a-z]", w) for w in lowered[1:])
        or any(_QUARANTINE_REF.match(w) for w in lowered[1:4]))  # "bõ Q12": Q12 alone is Quận 12, not a ref
    if names_item or misspelt:
        guess = next((_FOLDED_VERBS[" ".join(folded[:n])] for n in (3, 2, 1) if " ".join(folded[:n]) in _FOLDED_VERBS),
                     None)
        return CommandError(number, text, UNKNOWN, guess, lowered[0])
    return None


def _arguments(kind: str, args: list[str], raw: list[str], text: str, number: int) -> Command | CommandError:
    """The command of verb ``kind``; ``args`` are the words after the verb
    without surrounding punctuation, ``raw`` the same words as written."""
    def missing(name: str) -> CommandError:
        return CommandError(number, text, MISSING, kind, name)

    def why_after(consumed: int) -> str:
        return _why(raw[consumed:])

    if kind in ("assign", "reject"):
        if not args:
            return missing("ref")
        if kind == "reject" and (m := _QUARANTINE_REF.match(args[0])):
            # "bỏ Q12 ...": a quarantined message the coordinator dealt with by hand
            return Command(number, text, "dismiss", ref=f"Q{int(m.group(1))}", why=why_after(1))
        refs, used, fault = _refs(args)
        if fault is not None:
            return CommandError(number, text, fault[0], kind, fault[1])
        ref, rest = refs[0], args[used:]
        if kind == "reject":
            return Command(number, text, kind, ref=ref, refs=refs, why=why_after(used))
        if len(rest) >= 2 and _CODE_SHAPED.match(rest[0].lower()) and _CODE_SHAPED.match(rest[1].lower()):
            return Command(number, text, kind, ref=ref, refs=refs, school=rest[0].lower(), doc_type=rest[1].lower(),
                           why=why_after(used + 2))
        if len(rest) == 1 and _CODE_SHAPED.match(rest[0].lower()):
            return missing("doc_type")
        return Command(number, text, kind, ref=ref, refs=refs, why=why_after(used))
    if kind == "status":
        if args and _CODE_SHAPED.match(args[0].lower()):
            return Command(number, text, kind, school=args[0].lower())
        return Command(number, text, kind)
    if not args:
        return missing("school")
    school, rest = args[0].lower(), args[1:]
    if not _CODE_SHAPED.match(school):
        return CommandError(number, text, BAD_SCHOOL, kind, args[0])
    if kind in ("exempt", "unexempt"):
        return Command(number, text, kind, school=school, why=why_after(1))
    doc = None
    if kind == "received":
        if not rest:
            return missing("doc_type")
        doc, rest = rest[0].lower(), rest[1:]
    if not rest:
        return missing("date")
    value, used = parse_when(rest)
    if value is None:
        return CommandError(number, text, BAD_DATE, kind, rest[0])
    return Command(number, text, kind, school=school, doc_type=doc, value=value,
                   why=why_after(len(args) - len(rest) + used))


def _refs(args: list[str]) -> tuple[tuple[str, ...], int, tuple[str, str] | None]:
    """The file references at the start of ``args``: (refs in order without
    repeats, how many words they took, None) or ((), 0, (error code, word)).

    A reference is ``R17`` (the first may be a bare ``17`` or ``#17``), a
    range ``R21-R25`` (also with an en dash, ``R21-25``, or ``R21 - R25`` in
    three words; a reversed range is read in order). Commas between them are
    already gone (``args`` are stripped of punctuation).
    """
    out: list[int] = []
    i = 0
    while i < len(args):
        word, first = args[i], i == 0
        single, span = (_REF if first else _MORE_REF).match(word), (_RANGE if first else _MORE_RANGE).match(word)
        if span:
            low, high = sorted((int(span.group(1)), int(span.group(2))))
            if high - low + 1 > MAX_REFS:
                return (), 0, (TOO_MANY, word)
            out += range(low, high + 1)
            i += 1
        elif single:
            start = int(single.group(1))
            # "R21 - R25": a dash word between two references is a range
            if i + 2 < len(args) and args[i + 1] and all(c in _DASHES for c in args[i + 1]) \
                    and (end := _MORE_REF.match(args[i + 2]) or re.fullmatch(r"(\d{1,9})", args[i + 2])):
                low, high = sorted((start, int(end.group(1))))
                if high - low + 1 > MAX_REFS:
                    return (), 0, (TOO_MANY, " ".join(args[i:i + 3]))
                out += range(low, high + 1)
                i += 3
            else:
                out.append(start)
                i += 1
        elif first:
            return (), 0, (BAD_REF, word)
        else:
            break
        if len(set(out)) > MAX_REFS:
            return (), 0, (TOO_MANY, word)
    return tuple(f"R{n}" for n in dict.fromkeys(out)), i, None


def parse_when(words: list[str]) -> tuple[str | None, int]:
    """A date (ISO or dd/mm/yyyy), optionally followed by a time (16:00, 16h,
    16h30): the ISO text and how many words it used, or (None, 0)."""
    if not words:
        return None, 0
    first = words[0]
    m = _ISO_DATE.match(first)
    at_time = None
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4):
            at_time = (int(m.group(4)), int(m.group(5)))
    elif (m := _VN_DATE.match(first)):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        return None, 0
    try:
        day = date(y, mo, d)
    except ValueError:
        return None, 0
    used = 1
    if at_time is None and len(words) > 1 and (t := _TIME.match(words[1])):
        at_time = (int(t.group(1)), int(t.group(2) or 0))
        used = 2
    if at_time is None:
        return day.isoformat(), used
    try:
        moment = datetime(day.year, day.month, day.day, at_time[0], at_time[1])
    except ValueError:
        return None, 0
    return moment.isoformat(timespec="minutes"), used


def _why(words: list[str]) -> str:
    text = " ".join(words).strip()
    previous = None
    while text and text != previous:
        previous = text
        text = _REASON_PREFIX.sub("", text, count=1).strip()
    return text


__all__ = ["Command", "CommandError", "parse_commands", "parse_line", "own_lines", "parse_when", "KINDS", "VERBS",
           "UNKNOWN", "MISSING", "BAD_REF", "BAD_DATE", "BAD_SCHOOL", "TOO_MANY", "MAX_REFS"]
