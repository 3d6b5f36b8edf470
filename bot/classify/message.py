"""Putting it together: ``classify_message`` (one decision per document part)
and the message-level decisions (automatic mail, missing attachments, parts
not read, damaged mail, attachments that are no documents)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Sequence

from ..model import Attachment, DocumentPart, Extraction, ItemDecision, ParsedMessage, Skipped
from ..rules import Rules
from .constants import _CONCERN_CAP, _MAX_TEXT, _SUBMISSION_PHRASES, _TINY_IMAGE_BYTES
from .doctype import TypeVerdict, detect_doc_type, filename_types
from .evidence import (SchoolEvidence, SchoolVerdict, filename_evidence, head_evidence, message_evidence,
                       resolve_school)
from .forms import _phrase, match_form
from .head import Head, parse_head
from .helpers import _code, _decimal, _short, _unique
from .index import ClassifierIndex, index_for
from .issuer import HeadSchool, find_school_in_head
from .topic import TopicVerdict, topic_score
from .year import YearVerdict, check_year, document_year


# --------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageContext:
    """What every part of one message shares."""

    msg: ParsedMessage
    index: ClassifierIndex
    evidence: tuple[SchoolEvidence, ...]
    sender: str
    cycle: int
    received: date
    ocr_available: bool


def classify_message(msg: ParsedMessage, docs: Sequence[tuple[Attachment, Extraction]], rules: Rules,
                     received_at: datetime, ocr_available: bool, *,
                     index: ClassifierIndex | None = None) -> list[ItemDecision]:
    """One decision per document part (or per attachment without text).

    ``received_at`` is the server's time of arrival (aware); the cycle is
    ``rules.campaign.cycle_of(received_at)``. Automatic mail yields only
    "ignored" items. Mail whose text announces documents but that carries
    none (or only logos and signatures) gets a review item with
    ``part_index`` -1 and filename "". A part the parser could not read
    (a ZIP bomb, a RAR, an encrypted part: ``Skipped`` entries that matter)
    gets a review item with ``part_index`` -2, -3...; a mail that may have
    lost content (cut short, broken structure) says so on every item, or in
    a review item of its own. Pass ``index`` (from ``build_index``) to bypass
    the per-Rules cache.
    """
    index = index or index_for(rules)
    automatic = automatic_reason(msg)
    if automatic:
        return [_ignored_attachment(att, automatic) for att, _ in docs]
    ctx = MessageContext(msg, index, message_evidence(msg, index),
                         (msg.original_from or msg.from_addr or "").strip().lower(),
                         index.campaign.cycle_of(received_at),
                         received_at.astimezone(index.campaign.tz).date(), ocr_available)
    decisions: list[ItemDecision] = []
    for att, ext in docs:
        if not ext.parts:
            decisions.append(_unreadable(att, ext, ctx))
            continue
        for i, part in enumerate(ext.parts):
            decisions.append(classify_part(att, ext, part, i, ctx))
    unread = [_unread_part(skip, -2 - k, ctx) for k, skip in enumerate(x for x in msg.skipped if x.matters)]
    decisions += unread
    if not unread and all(not_a_document(att) for att, _ in docs):
        missing = missing_attachment(msg, ctx)
        if missing is not None:
            decisions.append(missing)
    return _with_damage(decisions, msg, ctx)


def _unread_part(skipped: Skipped, part_index: int, ctx: MessageContext) -> ItemDecision:
    """A part the parser did not read (a ZIP bomb, a RAR...): a person must look at it."""
    name = skipped.filename or "(phần không có tên)"
    verdict = resolve_school(ctx.evidence + filename_evidence(skipped.filename, ctx.index), ctx.sender)
    guessed = filename_types(skipped.filename, ctx.index)
    return ItemDecision(filename=name, part_index=part_index, school=_code(verdict.school),
                        doc_types=tuple(t.id for t in guessed[:1] if len(guessed) == 1), campaign=False,
                        decision="review", confidence=0.0,
                        reasons=_unique((f"không đọc được: {skipped.reason}", *verdict.reasons)))


def _with_damage(decisions: list[ItemDecision], msg: ParsedMessage, ctx: MessageContext) -> list[ItemDecision]:
    """A mail that may have lost content says so on its items, or in a review item of its own."""
    if not msg.incomplete:
        return decisions
    notes = tuple(f"thư bị hỏng: {p}" for p in msg.incomplete)
    if decisions:
        return [replace(d, reasons=_unique((*d.reasons, *notes))) for d in decisions]
    verdict = resolve_school(ctx.evidence, ctx.sender)
    return [ItemDecision(filename="", part_index=-1, school=_code(verdict.school), doc_types=(), campaign=False,
                         decision="review", confidence=0.0,
                         reasons=_unique(("không đọc được toàn bộ thư: cần mở thư ra xem", *notes,
                                          *verdict.reasons)))]


def automatic_reason(msg: ParsedMessage) -> str:
    """Why a message is automatic (auto-reply, bulk, bounce), or ""."""
    if msg.bounce_recipients:
        return f"thư báo gửi không thành công (tới {', '.join(msg.bounce_recipients)}): không phải hồ sơ"
    if msg.automatic:
        return f"thư tự động ({msg.automatic}): không phải hồ sơ"
    return ""


def looks_like_submission(subject: str, body: str) -> bool:
    """Whether subject or body announce documents ("gửi hồ sơ", "đính kèm")."""
    form = match_form(subject + "\n" + body[:_MAX_TEXT])
    return any(f" {_phrase(p)} " in form for p in _SUBMISSION_PHRASES)


def missing_attachment(msg: ParsedMessage, ctx: MessageContext) -> ItemDecision | None:
    """A review item for mail that announces documents but carries none."""
    if not looks_like_submission(msg.subject, msg.body_text):
        return None
    verdict = resolve_school(ctx.evidence, ctx.sender)
    skipped = tuple(f"bỏ qua '{s.filename}': {s.reason}" for s in msg.skipped)
    return ItemDecision(filename="", part_index=-1, school=_code(verdict.school), doc_types=(), campaign=False,
                        decision="review", confidence=0.0,
                        reasons=("thư nói có gửi văn bản nhưng không có tệp đính kèm", *skipped, *verdict.reasons))


def classify_part(att: Attachment, ext: Extraction, part: DocumentPart, part_index: int,
                  ctx: MessageContext) -> ItemDecision:
    """The decision for one document part.

    Ignored when it is not a dossier document, not this campaign or of an
    earlier year; review when something needs a person (``_concerns``) or
    the confidence (the weaker of school and type) is below the threshold;
    counted otherwise.
    """
    index = ctx.index
    head = parse_head(part.head, index, ocr=ext.ocr)
    head_school = find_school_in_head(head, index)
    doc_type = detect_doc_type(head, part.text, att.filename, index)
    school = resolve_school(ctx.evidence + head_evidence(head_school) + filename_evidence(att.filename, index),
                            ctx.sender)
    topic = topic_score(head, part.text, index)
    year = check_year(document_year(head, part.text), ctx.cycle, ctx.received)
    confidence = min(school.confidence, doc_type.confidence)
    threshold = index.campaign.review_threshold

    ignored = _ignore_reason(att, head, doc_type, topic, year, index)
    concerns = _concerns(ctx, school, doc_type, topic, year, head_school)
    if ignored:
        decision, lead = "ignored", (ignored,)
    elif concerns:
        decision, lead, confidence = "review", concerns, min(confidence, _CONCERN_CAP)
    elif confidence < threshold:
        decision, lead = "review", (f"độ tin cậy {_decimal(confidence)} dưới ngưỡng {_decimal(threshold)}",)
    else:
        decision, lead = "counted", ()
    notes = ext.notes + ((ext.error,) if ext.error else ())
    if ext.ocr and not any("OCR" in n for n in notes):
        notes = ("chữ đọc bằng OCR (có thể nhận dạng sai)", *notes)
    if ctx.msg.auth == "fail" and not school.from_address:
        notes += (f"xác thực người gửi không đạt: {ctx.msg.auth_reason or 'fail'} (trường không được xác định "
                  "theo địa chỉ gửi)",)
    return ItemDecision(
        filename=att.filename, part_index=part_index, school=_code(school.school), doc_types=doc_type.doc_types,
        campaign=topic.kind == "this" and year.kind != "earlier", decision=decision,
        confidence=round(confidence, 3),
        reasons=_unique((*lead, *doc_type.reasons, *school.reasons, topic.reason, year.reason, *notes)),
        first_page=part.first_page, last_page=part.last_page)


def _ignore_reason(att: Attachment, head: Head, doc_type: TypeVerdict, topic: TopicVerdict,
                   year: YearVerdict, index: ClassifierIndex) -> str:
    """Why a part is no dossier document of this campaign and year, or ""."""
    if doc_type.other and not doc_type.concerns:
        return doc_type.other_reason
    office = _office_document(head, index)
    if office:
        return office
    if topic.kind == "other":
        return topic.reason
    if year.kind == "earlier":
        return year.reason
    if not doc_type.doc_types and not_a_document(att):
        return f"không phải văn bản ({_describe(att)})"
    return ""


def _concerns(ctx: MessageContext, school: SchoolVerdict, doc_type: TypeVerdict, topic: TopicVerdict,
              year: YearVerdict, head_school: HeadSchool) -> tuple[str, ...]:
    """Everything that needs a person, whatever the confidence."""
    found = [*school.concerns, *doc_type.concerns]
    if head_school.unknown_line:
        found.append(f"đầu văn bản ghi '{_short(head_school.unknown_line)}', không có trong danh sách trường")
    if topic.kind == "unknown":
        found.append(topic.reason)
    if year.kind in ("future", "unsure"):
        found.append(year.reason)
    if ctx.msg.auth == "fail" and school.from_address:
        found.append(f"xác thực người gửi không đạt: {ctx.msg.auth_reason or 'Authentication-Results: fail'}")
    return tuple(found)


def _office_document(head: Head, index: ClassifierIndex) -> str:
    """A document issued by the office itself (its own plan sent back): ignored."""
    number = head.number
    if number is not None and index.office_code and number.issuer_code == index.office_code:
        return f"văn bản do chính Phòng ban hành ('{_short(number.line)}')"
    return ""


def _unreadable(att: Attachment, ext: Extraction, ctx: MessageContext) -> ItemDecision:
    """An attachment without text: review with the extraction error, unless not a document."""
    if not_a_document(att):
        return _ignored_attachment(att, f"không phải văn bản ({_describe(att)})")
    error = ext.error or "không lấy được chữ từ tệp"
    verdict = resolve_school(ctx.evidence + filename_evidence(att.filename, ctx.index), ctx.sender)
    guessed = filename_types(att.filename, ctx.index)
    reasons = [error]
    if not ctx.ocr_available and ext.kind in ("pdf", "image") and "OCR" not in error:
        reasons.append("máy chưa cài OCR nên không đọc được bản scan")
    if len(guessed) == 1:
        reasons.append(f"đoán loại văn bản từ tên tệp '{att.filename}'")
    return ItemDecision(filename=att.filename, part_index=0, school=_code(verdict.school),
                        doc_types=tuple(t.id for t in guessed[:1] if len(guessed) == 1), campaign=False,
                        decision="review", confidence=0.0, reasons=_unique((*reasons, *verdict.reasons)))


def _ignored_attachment(att: Attachment, reason: str) -> ItemDecision:
    """An attachment not looked into (automatic mail, a logo): nothing identified."""
    return ItemDecision(filename=att.filename, part_index=0, school=None, doc_types=(), campaign=False,
                        decision="ignored", confidence=0.0, reasons=(reason,))


_NOT_DOCUMENT_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature", "text/vcard",
                       "text/x-vcard", "text/calendar", "application/ics", "application/pgp-signature")
_NOT_DOCUMENT_EXT = (".p7s", ".vcf", ".ics", ".asc", ".sig")


def not_a_document(att: Attachment) -> bool:
    """Logos, signature images, signed-mail signatures, vCards, invitations."""
    ctype = att.content_type.lower()
    name = att.filename.lower()
    if ctype in _NOT_DOCUMENT_TYPES or name.endswith(_NOT_DOCUMENT_EXT):
        return True
    return ctype.startswith("image/") and len(att.data) < _TINY_IMAGE_BYTES


def _describe(att: Attachment) -> str:
    size = f"{len(att.data):,}".replace(",", ".")  # 40.000 byte, as Vietnamese writes it
    return f"{att.content_type or 'không rõ loại'}, {size} byte"
