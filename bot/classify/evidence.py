"""School evidence: what the mail (addresses, subject, display names, signature),
the document header and the filename say about the sender's school, and how
these sources are weighed into one ``SchoolVerdict``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..model import ParsedMessage, ReasonCode
from ..rules.model import School
from ..vietnamese import fold, nfc
from .constants import PASSING_WORDS, SOURCE_TIER, SOURCE_WEIGHT
from .helpers import names_of, shortened
from .index import ClassifierIndex
from .issuer import HeadSchool
from .school_names import SchoolMention, canon_school_text
from .schools import find_schools, merge_mentions


# --------------------------------------------------------------------------
# Mail-level school evidence: addresses, subject, display names, signature
# --------------------------------------------------------------------------

_FORWARD_MARK = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|original message|thu da chuyen tiep|tin nhan da chuyen tiep)"
    r"|begin forwarded message)")
_HEADER_LINE = re.compile(r"^(?:from|to|cc|date|sent|subject|tu|toi|ngay|tieu de|chu de|gui)\s*:")
_CLOSINGS = ("tran trong", "than ai", "kinh thu", "kinh chuc", "best regards", "regards",
             "thanks", "cam on", "xin cam on", "--")


def signature_lines(body: str) -> tuple[str, ...]:
    """The lines of a mail body that sign it, for each forwarded segment.

    A segment's signature is what follows its last closing ("Trân trọng,")
    or, without one, its last three lines; quoted lines and forwarded
    headers are skipped. Lines are short: a sentence is not a signature.
    """
    segments: list[list[tuple[str, str]]] = [[]]
    for raw in body.splitlines():
        line = nfc(raw).strip()
        folded = fold(line)
        if _FORWARD_MARK.match(folded):
            segments.append([])
        elif line and not line.startswith(">") and not _HEADER_LINE.match(folded):
            segments[-1].append((line, folded))
    found: list[str] = []
    for seg in segments:
        closing = max((i for i, (_, f) in enumerate(seg) if f.rstrip(",.!:").startswith(_CLOSINGS)
                       and len(f) < 40), default=None)
        tail = seg[closing + 1:closing + 7] if closing is not None else seg[-3:]
        found.extend(line for line, _ in tail if len(line) <= 90)
    return tuple(found)


def signature_school(body: str, index: ClassifierIndex) -> SchoolMention | None:
    """The school a mail body is signed by, or None.

    A line counts only when it is mostly the school's name ("Văn thư Trường
    THCS Nguyễn Hiền"): "học tập kinh nghiệm của Trường X" is a school named
    in passing, not the sender.
    """
    mentions = []
    for line in signature_lines(body):
        canon = canon_school_text(line)
        for m in find_schools(line, index):
            # The words around the name, not the name ("Trung tâm Hỗ trợ ..." is a name).
            rest = canon.replace(m.text, " ")
            if len(rest.split()) <= 5 and not any(w in rest for w in PASSING_WORDS):
                mentions.append(m)
    return merge_mentions(mentions)


@dataclass(frozen=True)
class SchoolEvidence:
    """One source's say on the school. Several ``schools`` mean it is ambiguous."""

    source: str
    schools: tuple[School, ...]
    detail: str

    @property
    def tier(self) -> int:
        return SOURCE_TIER[self.source]


def message_evidence(msg: ParsedMessage, index: ClassifierIndex) -> tuple[SchoolEvidence, ...]:
    """School evidence of the mail itself (shared by all its documents)."""
    found: list[SchoolEvidence] = []
    original = (msg.original_from or "").strip().lower()
    sender = msg.from_addr.strip().lower()
    if original:
        school = index.by_email.get(original)
        if school:
            detail = f"người gửi gốc {original} có trong danh sách trường ({school.name})"
            found.append(SchoolEvidence("address", (school,), detail))
        school = index.by_email.get(sender)
        if school:
            detail = f"thư do {sender} chuyển tiếp, là địa chỉ của {school.name}"
            found.append(SchoolEvidence("forwarder", (school,), detail))
    elif sender in index.by_email:
        school = index.by_email[sender]
        found.append(SchoolEvidence("address", (school,),
                                    f"địa chỉ gửi {sender} có trong danh sách trường ({school.name})"))
    for source, text, label in (("subject", msg.subject, "tiêu đề thư"),
                                ("sender_name", msg.from_name, "tên người gửi"),
                                ("sender_name", msg.original_from_name, "tên người gửi gốc")):
        mention = merge_mentions(find_schools(text, index)) if text else None
        if mention is not None:
            found.append(SchoolEvidence(source, mention.schools, f"{label} ghi {names_of(mention.schools)}"))
    mention = signature_school(msg.body_text, index)
    if mention is not None:
        found.append(SchoolEvidence("signature", mention.schools, f"chữ ký cuối thư: {names_of(mention.schools)}"))
    return tuple(found)


def head_evidence(head_school: HeadSchool) -> tuple[SchoolEvidence, ...]:
    """The document header's say on the school."""
    mention = head_school.mention
    if mention is None:
        return ()
    quoted = shortened(head_school.line)
    if head_school.cut_short:
        detail = f"đầu văn bản chỉ đọc được '{quoted}' (có thể là {names_of(mention.schools, ' hoặc ')})"
        return (SchoolEvidence("header_cut", mention.schools, detail),)
    if len(mention.schools) > 1:
        detail = f"đầu văn bản '{quoted}' có thể là {names_of(mention.schools, ' hoặc ')}"
        return (SchoolEvidence("header", mention.schools, detail),)
    if head_school.fuzzy:
        detail = f"đầu văn bản '{quoted}' được đọc là {mention.schools[0].name} (khớp gần đúng)"
    elif not mention.exact:
        detail = f"đầu văn bản '{quoted}' ghi {mention.schools[0].name} (tên chưa đầy đủ)"
    else:
        detail = f"đầu văn bản ghi {mention.schools[0].name} ('{quoted}')"
    return (SchoolEvidence("header" if mention.exact else "header_partial", mention.schools, detail),)


_MEANINGLESS_NAME = re.compile(
    r"^(?:scan\w*|img|image|dsc|dcim|pxl|photo|picture|cam ?scanner|document|doc|untitled|new doc\w*|"
    r"file|tai lieu|van ban|noname|screenshot|attachment|att|copy of|ban sao|mau|pdf|word)?"
    r"[\s\d_().,-]*$")


def filename_stem(filename: str) -> str:
    """The filename without its extension, folded, separators as spaces."""
    stem = filename.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return " ".join(fold(stem.replace("_", " ").replace("+", " ")).split())


def is_meaningless_filename(filename: str) -> bool:
    """scan0001.pdf, IMG_20231005_0932.jpg, document.pdf, Untitled (1).docx, 20231005.pdf..."""
    return bool(_MEANINGLESS_NAME.match(filename_stem(filename)))


def filename_evidence(filename: str, index: ClassifierIndex) -> tuple[SchoolEvidence, ...]:
    """A school named in the filename ("HoSo_THCS_NguyenHien.pdf"): weak evidence."""
    if not filename or is_meaningless_filename(filename):
        return ()
    compact = re.sub(r"[^a-z0-9]", "", canon_school_text(filename_stem(filename)))
    for key, schools in index.compact_keys:
        at = compact.find(key)
        end = at + len(key)
        if at >= 0 and not (key[-1].isdigit() and end < len(compact) and compact[end].isdigit()):
            return (SchoolEvidence("filename", schools, f"tên tệp '{filename}' ghi {names_of(schools)}"),)
    return ()


# --------------------------------------------------------------------------
# Weighing school evidence
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolVerdict:
    """Which school, how sure, and why. ``concerns`` force a review."""

    school: School | None
    confidence: float
    reasons: tuple[str, ...]
    concerns: tuple[str, ...] = ()
    from_address: bool = False
    concern_codes: tuple[ReasonCode, ...] = ()  # one per concern
    # the school was read from the document while the sender is not on the roster (said in the reasons)
    sender_unlisted: bool = False


def resolve_school(evidence: Sequence[SchoolEvidence], sender: str) -> SchoolVerdict:
    """Weigh every source and pick the school.

    Confidence of the winner: two strong sources 1.0; one strong 0.9 (0.95
    with a medium one agreeing); an approximate header 0.8 (0.9 with two
    medium); medium only 0.6 (0.7 with two); filename only 0.4. A strong
    source naming another school is a conflict (review); a medium one costs
    0.2; the filename costs nothing but is mentioned.
    """
    scores: dict[str, float] = {}
    for ev in evidence:
        if len(ev.schools) == 1 and SOURCE_WEIGHT[ev.source] > 0:
            code = ev.schools[0].code
            scores[code] = scores.get(code, 0.0) + SOURCE_WEIGHT[ev.source]
    if not scores:
        return _no_school(evidence, sender)
    by_address = {ev.schools[0].code for ev in evidence if ev.source == "address" and len(ev.schools) == 1}
    winner_code = max(scores, key=lambda c: (round(scores[c], 6), c in by_address))
    support = [ev for ev in evidence if any(s.code == winner_code for s in ev.schools)]
    winner = next(s for ev in support for s in ev.schools if s.code == winner_code)
    confidence = _support_confidence([ev for ev in support if len(ev.schools) == 1])
    reasons = [ev.detail for ev in support]
    unlisted = bool(sender) and _has_header(support) and not any(ev.source in ("address", "forwarder")
                                                                   for ev in evidence)
    if unlisted:
        reasons.append(f"địa chỉ gửi {sender} không có trong danh sách trường; nhận ra trường từ đầu văn bản")
    concerns: list[str] = []
    for ev in evidence:
        if ev in support:
            continue
        if ev.tier == 3:
            concerns.append(f"mâu thuẫn: {ev.detail}, không phải {winner.name}")
            confidence = min(confidence, 0.4)
        elif ev.tier == 2:
            reasons.append(f"{ev.detail} (không khớp)")
            confidence -= 0.2
        else:
            reasons.append(f"{ev.detail} (không khớp; không tính)")
    from_address = any(ev.source in ("address", "forwarder") for ev in support)
    return SchoolVerdict(winner, round(max(confidence, 0.0), 3), tuple(reasons), tuple(concerns), from_address,
                         (ReasonCode.SCHOOL_CONFLICT,) * len(concerns), unlisted)


def _has_header(support: Sequence[SchoolEvidence]) -> bool:
    return any(ev.source in ("header", "header_partial") for ev in support)


def _support_confidence(support: Sequence[SchoolEvidence]) -> float:
    sources = {ev.source for ev in support} - {"header_cut"}  # it only ever contradicts
    strong = sum(1 for s in sources if SOURCE_TIER[s] == 3)
    medium = sum(1 for s in sources if SOURCE_TIER[s] == 2)
    if strong >= 2:
        return 1.0
    if strong == 1:
        return 0.95 if medium else 0.9
    if "header_partial" in sources:
        return 0.9 if medium >= 3 else 0.8 + 0.05 * (medium - 1)
    if medium:
        return 0.7 if medium >= 2 else 0.6
    return 0.4 if sources else 0.0


def _no_school(evidence: Sequence[SchoolEvidence], sender: str) -> SchoolVerdict:
    """No source identifies one school: either ambiguous names or nothing at all."""
    ambiguous = [ev for ev in evidence if len(ev.schools) > 1]
    if ambiguous:
        return SchoolVerdict(None, 0.3, tuple(ev.detail for ev in ambiguous[1:]),
                             (f"chưa rõ là trường nào: {ambiguous[0].detail}",),
                             concern_codes=(ReasonCode.AMBIGUOUS_SCHOOL,))
    where = f"địa chỉ gửi {sender} không có trong danh sách trường" if sender else "không có địa chỉ gửi"
    return SchoolVerdict(None, 0.0, (), (f"không nhận ra trường ({where}, đầu văn bản không ghi trường nào "
                                         "trong danh sách)",), concern_codes=(ReasonCode.UNKNOWN_SCHOOL,))
