"""The review queue as the coordinator decides it: pure, no clock, no I/O.

``review_guess`` says in a few words what the bot thinks of a file in
review (probably of this campaign or not, which document, why a person
must look); ``suggested_replies``, ``batch_reply`` and ``official_replies``
give the reply lines that settle it; ``review_sections`` and
``official_questions`` are the digest's cards of the queue.
"""
from __future__ import annotations

import re
from typing import Sequence

from ..model import ReasonCode
from ..rules.model import Campaign
from ..status import OFFICIAL_DOUBT
from .common import short_doc_name
from .sections import (BatchSection, GroupedSection, OfficialQuestion, ReviewGuess, ReviewRow, ReviewSection,
                       SchoolGroup, Section)


# -- the review queue as the coordinator decides it ------------------------------------------

LIKELY, UNLIKELY = True, False


# (pattern of one reason of the classifier, cause) in order of precedence: the first
# cause found among an item's reasons is the one shown. The reasons are the
# classifier's own Vietnamese sentences (bot/classify/, bot/extract/).
_UNLIKELY_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"chưa chắc thuộc đợt này: có từ ngữ về (.+?), từ ngữ của đợt này"), "topic"),
    (re.compile(r"không thuộc đợt này \(chủ đề: (.+?)\)"), "topic"),
    (re.compile(r"văn bản ghi ngày ([0-9/.-]+), sau ngày nhận \([0-9/]+\)$"), "future_date"),
    (re.compile(r"nhưng nói về (năm học \d{4}-\d{4}|năm \d{4})"), "old_year"),
    (re.compile(r"nói về một năm học chưa tới \((năm học \d{4}-\d{4})\)"), "future_year"),
    (re.compile(r"^hồ sơ của năm trước(?: \((.+)\))?"), "old_year"),
)
_NO_TOPIC = "không thấy từ ngữ nào của đợt này"
_CAUSE_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"không có tệp đính kèm"), "no_attachment"),
    (re.compile(r"^không đọc được toàn bộ thư|^thư bị hỏng"), "damaged_mail"),
    (re.compile(r"^không đọc được: (.+)"), "unread_part"),
    (re.compile(r"mật khẩu|mã hóa"), "encrypted"),
    (re.compile(r"^mâu thuẫn: "), "school_conflict"),
    (re.compile(r"^đầu văn bản ghi '(.+)', không có trong danh sách trường"), "unknown_issuer"),
    (re.compile(r"^tiêu đề là .+ nhưng số ký hiệu là"), "type_conflict"),
    (re.compile(r"^là Công văn, không phải (.+?):"), "cover_letter"),
    (re.compile(r"chứa nhiều văn bản"), "many_docs"),
    (re.compile(r"^xác thực người gửi không đạt"), "auth_fail"),
    (re.compile(r"OCR không đọc được|OCR đang tắt|không có chữ|không lấy được chữ|chưa cài OCR|OCR needed|"
                r"không đọc được chữ"),
     "no_text"),
    (re.compile(r"^không nhận ra loại văn bản"), "no_type"),
    (re.compile(r"^tệp rỗng|^tệp quá lớn|bị hỏng|^không phải tệp|không nhận ra được|chưa đọc được|"
                r"^không đọc được tệp|^tệp Excel|^tệp nén|^tệp OpenDocument|nhiều bộ nhớ"), "bad_file"),
    (re.compile(r"^độ tin cậy .+ dưới ngưỡng"), "low_confidence"),
    (re.compile(r"không có trong danh sách trường"), "unknown_sender"),
    (re.compile(rf"^{_NO_TOPIC}$"), "unclear_topic"),  # text read by OCR or a type found: a misreading
)
_OCR = re.compile(r"OCR|bản scan|ảnh chụp")
_PHOTO_EXT = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".gif", ".bmp", ".tif", ".tiff")


# The cause a reason code stands for (``ReasonCode``, given by the classifier with
# each review item since schema 9): what the digest says of it.
_CODE_UNLIKELY: dict[ReasonCode, str] = {
    ReasonCode.FUTURE_DATE: "future_date", ReasonCode.OLD_SCHOOL_YEAR: "old_year",
    ReasonCode.FUTURE_SCHOOL_YEAR: "future_year",
}
_CODE_CAUSE: dict[ReasonCode, str] = {
    ReasonCode.NO_ATTACHMENT: "no_attachment", ReasonCode.DAMAGED_MAIL: "damaged_mail",
    ReasonCode.UNREAD_PART: "unread_part", ReasonCode.SCHOOL_CONFLICT: "school_conflict",
    ReasonCode.UNKNOWN_ISSUER: "unknown_issuer", ReasonCode.TYPE_CONFLICT: "type_conflict",
    ReasonCode.COVER_LETTER: "cover_letter", ReasonCode.MANY_DOCUMENTS: "many_docs",
    ReasonCode.AUTH_FAIL: "auth_fail", ReasonCode.UNREADABLE_TITLE: "no_type", ReasonCode.NO_TOPIC: "unclear_topic",
    ReasonCode.LOW_CONFIDENCE: "low_confidence", ReasonCode.UNKNOWN_SCHOOL: "unknown_sender",
}
# A file without text: what its error says decides the words (password, no text, damaged file).
_FILE_CODES = frozenset({ReasonCode.UNREADABLE_FILE})


def review_guess(reason: str, filename: str, doc_types: Sequence[str], campaign: Campaign,
                 code: ReasonCode | None = None) -> ReviewGuess:
    """What the bot thinks of a file in review (``reason``: the classifier's
    reasons joined by "; ").

    With the item's ``code`` (``ReasonCode``) the cause is the code's; the
    reasons only give the words that go with it (the date, the line, the
    error) and whether the text was read by OCR. Items recorded before codes
    existed (``code`` None) are guessed from the reasons' wording.
    """
    reasons = [r.strip() for r in (reason or "").split("; ") if r.strip()]
    doc = "; ".join(short_doc_name(campaign, t) for t in doc_types)
    named = bool(doc_types) and any(r.startswith("đoán loại văn bản từ tên tệp") for r in reasons)
    read_by_ocr = any(_OCR.search(r) for r in reasons)
    photo = (filename or "").lower().endswith(_PHOTO_EXT)
    if code is not None and code not in _FILE_CODES:
        return _guess_by_code(code, reasons, doc, named, read_by_ocr, photo, doc_types)
    if code is None:
        for r in reasons:
            for pattern, cause in _UNLIKELY_RULES:
                m = pattern.search(r)
                if m:
                    return ReviewGuess(UNLIKELY, doc, cause, (m.group(1) or "") if m.groups() else "", named)
        if _NO_TOPIC in reasons and not read_by_ocr and not doc_types:
            return ReviewGuess(UNLIKELY, doc, "no_topic", "", named)
    for r in reasons:
        for pattern, cause in _CAUSE_RULES:
            m = pattern.search(r)
            if m:
                return _likely(cause, m, r, doc, named, read_by_ocr, photo)
    return ReviewGuess(LIKELY, doc, "other", _short_label(reasons[0]) if reasons else "", named)


def _likely(cause: str, m: re.Match | None, r: str, doc: str, named: bool, read_by_ocr: bool,
            photo: bool) -> ReviewGuess:
    """A likely guess with the words of its reason (``m``: the cause's pattern on reason ``r``)."""
    label = (m.group(1) or "") if m is not None and m.groups() else ""
    if cause in ("no_text", "no_type", "unclear_topic") and (photo or read_by_ocr or cause == "no_text"):
        cause = ("photo_" if photo else "scan_") + cause  # "ảnh chụp, không đọc rõ tiêu đề"
    elif cause in ("bad_file", "unread_part"):
        label = label or r
    return ReviewGuess(LIKELY, doc, cause, _short_label(label), named)


def _guess_by_code(code: ReasonCode, reasons: Sequence[str], doc: str, named: bool, read_by_ocr: bool,
                   photo: bool, doc_types: Sequence[str]) -> ReviewGuess:
    """The guess of an item whose classifier gave ``code``; its words are found in its reasons."""
    if code in _CODE_UNLIKELY:
        cause = _CODE_UNLIKELY[code]
        return ReviewGuess(UNLIKELY, doc, cause, _words(cause, reasons, _UNLIKELY_RULES)[0], named)
    if code is ReasonCode.NO_TOPIC and not read_by_ocr and not doc_types:
        return ReviewGuess(UNLIKELY, doc, "no_topic", "", named)
    cause = _CODE_CAUSE.get(code)
    if cause is None:  # a concern that names no cause of its own: its words say it
        return ReviewGuess(LIKELY, doc, "other", _short_label(reasons[0]) if reasons else "", named)
    label, m, r = _words(cause, reasons, _CAUSE_RULES)
    return _likely(cause, m, r, doc, named, read_by_ocr, photo)


def _words(cause: str, reasons: Sequence[str], rules) -> tuple[str, re.Match | None, str]:
    """The words a cause's pattern finds in the first reason it matches: (label, match, reason)."""
    for r in reasons:
        for pattern, rule_cause in rules:
            if rule_cause != cause:
                continue
            m = pattern.search(r)
            if m:
                return ((m.group(1) or "") if m.groups() else ""), m, r
    return "", None, ""


def _short_label(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip(" ,;:(") + "…"


def suggested_replies(ref: str, school: str | None, doc_types: Sequence[str], likely: bool) -> list[str]:
    """The reply lines that settle a file in review, the most likely first:
    "duyệt R17" when the bot guessed one school and one document type (the
    command takes the guess), else the form to complete; "bỏ R17" first for
    a file that is probably not of this campaign."""
    if school and len(doc_types) == 1:
        accept = f"duyệt {ref}"
    elif school:
        accept = f"duyệt {ref} {school} <loại hồ sơ>"
    else:
        accept = f"duyệt {ref} <mã trường> <loại hồ sơ>"
    reject = f"bỏ {ref}"
    return [accept, reject] if likely else [reject, accept]


def official_replies(ref: str) -> list[str]:
    """The reply lines that settle a copy the bot could not judge (issue 16):
    it is the official paper, or it is not (the school is then asked for one)."""
    return [f"xác nhận {ref} bản chính thức", f"{ref} không phải bản chính thức"]


def official_batch_reply(refs: Sequence[str]) -> str:
    """One line confirming several copies: "xác nhận R12 R13 bản chính thức" ("" for fewer than two)."""
    if len(refs) < 2:
        return ""
    return f"xác nhận {' '.join(refs)} bản chính thức"


def official_questions(entries: Sequence, names: dict, campaign: Campaign) -> list[OfficialQuestion]:
    """The digest's cards for counted copies the bot could not judge
    (``ReviewEntry.official_doubt``): school, document, file, the bot's
    doubts (the page and why) and the two replies."""
    rows = []
    for r in entries:
        doubts = r.reason.split(": ", 1)[1] if r.reason.startswith(OFFICIAL_DOUBT + ": ") else r.reason
        rows.append(OfficialQuestion(r.ref, names.get(r.school, r.school) if r.school else None, r.school,
                                     tuple(campaign.doc_name(t) for t in r.doc_types),
                                     tuple(short_doc_name(campaign, t) for t in r.doc_types), r.filename,
                                     r.received_at, doubts, tuple(official_replies(r.ref))))
    return rows


def batch_reply(verb: str, refs: Sequence[str]) -> str:
    """One reply line for several files: "bỏ R12 R13 R14"; three or more
    consecutive references become a range ("R21-R23"), which then names
    exactly the same files."""
    numbers = sorted({int(r[1:]) for r in refs})
    parts, i = [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(f"R{numbers[i]}-R{numbers[j]}" if j - i >= 2 else " ".join(f"R{n}" for n in numbers[i:j + 1]))
        i = j + 1
    return f"{verb} {' '.join(parts)}" if parts else ""


def review_sections(rows: Sequence[ReviewRow], limit: int) -> ReviewSection:
    """The review queue for the digest: the files that are probably of this
    campaign first, then the others, at most ``limit`` entries in all (the
    second group keeps at least a third of them when both are long); the
    rest is counted. Each group has one reply line settling every file it
    shows: accept the guesses ("duyệt ...", only files with a full guess)
    or reject them all ("bỏ ...")."""
    # the files whose guess is complete first: one "duyệt" line settles them
    likely = sorted((r for r in rows if r.guess.likely), key=lambda r: r.replies[0] != f"duyệt {r.ref}")
    unlikely = [r for r in rows if not r.guess.likely]
    limit = max(1, limit)
    take_unlikely = min(len(unlikely), max(limit // 3, limit - len(likely)))
    take_likely = min(len(likely), limit - take_unlikely)
    groups = {}
    for name, group, take in (("likely", likely, take_likely), ("unlikely", unlikely, take_unlikely)):
        shown = tuple(group[:take])
        if name == "likely":
            refs = [r.ref for r in shown if r.replies[0] == f"duyệt {r.ref}"]
            batch = batch_reply("duyệt", refs) if len(refs) > 1 else ""
        else:
            batch = batch_reply("bỏ", [r.ref for r in shown]) if len(shown) > 1 else ""
        groups[name] = BatchSection(shown, len(group), len(group) - len(shown), batch)
    shown = groups["likely"].rows + groups["unlikely"].rows
    return ReviewSection(shown, len(rows), len(rows) - len(shown), groups["likely"], groups["unlikely"])


def by_school(section: Section) -> GroupedSection:
    """``section`` with its rows also grouped by school in the order they
    come (``groups``), for one line per school."""
    groups: dict[str, list] = {}
    for row in section.rows:
        groups.setdefault(row.school or "", []).append(row)
    return GroupedSection(section.rows, section.total, section.more,
                          tuple(SchoolGroup(k, tuple(v)) for k, v in groups.items()))
