"""Putting it together: ``classify_message`` (one decision per document part)
and the message-level decisions (automatic mail, missing attachments, parts
not read, damaged mail, attachments that are no documents)."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Sequence

from ..model import Attachment, DocumentPart, Extraction, ItemDecision, ParsedMessage, ReasonCode, Skipped
from ..rules.model import Rules
from .constants import CONCERN_CAP, MAX_TEXT, SUBMISSION_PHRASES, TINY_IMAGE_BYTES
from .doctype import BodyType, TypeVerdict, body_type, detect_doc_type, filename_types
from .evidence import (SchoolEvidence, SchoolVerdict, filename_evidence, head_evidence, message_evidence,
                       resolve_school)
from .forms import match_phrase, match_form
from .head import Head, parse_head
from .helpers import school_code, vn_decimal, shortened, type_name, unique_nonempty
from .index import ClassifierIndex, index_for
from .head import MOTTO, mostly_caps
from .issuer import HeadSchool, OtherIssuer, find_school_in_head, other_issuer
from .office import OfficeVerdict, office_document, signed_by_other_issuer
from .pages import Candidate, Closing, LaterPage, PageSigns, Placement, closing_block, joins, misfit, page_signs, place
from .topic import TopicVerdict, campaign_words, topic_score
from .year import YearVerdict, check_year, document_year, mail_years


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
    mail_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class _PartFacts:
    """What the message-level decisions need to know of a part beyond its decision."""

    starts: bool        # its head opens a document (title, number line, motto or issuer)
    school: bool        # some source named a roster school
    words: bool         # it has words of this campaign's topic
    signs: PageSigns | None = None  # of a page photo: what its top shows (page number, head, body text)
    body: BodyType | None = None    # of a page photo without a head: the type its body's lines show
    type_sure: bool = False         # its type was read (head or body structure), not guessed
    closing: Closing = Closing()    # of a page photo: the closing block it shows (a last page)


# A type read from the head (title, number code) or the body's structure, not a guess from words.
_SURE_TYPE = 0.7


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
        return [_ignored_attachment(att, automatic, ReasonCode.AUTOMATIC) for att, _ in docs]
    ctx = MessageContext(msg, index, message_evidence(msg, index),
                         (msg.original_from or msg.from_addr or "").strip().lower(),
                         index.campaign.cycle_of(received_at),
                         received_at.astimezone(index.campaign.tz).date(), ocr_available,
                         mail_years(msg.subject, msg.body_text))
    unread_skips = [x for x in msg.skipped if x.matters]
    if len(docs) + len(unread_skips) > index.campaign.attachment_cap:
        return _with_damage(_over_cap(docs, unread_skips, ctx), msg, ctx)
    decisions: list[ItemDecision] = []
    facts: list[_PartFacts | None] = []
    for att, ext in docs:
        if not ext.parts:
            decisions.append(_unreadable(att, ext, ctx))
            facts.append(None)
            continue
        for i, part in enumerate(ext.parts):
            decision, fact = _classify_part(att, ext, part, i, ctx)
            decisions.append(decision)
            facts.append(fact)
    decisions = _page_runs(decisions, facts, docs, ctx.index)
    unread = [_unread_part(skip, -2 - k, ctx) for k, skip in enumerate(unread_skips)]
    decisions += unread
    if not unread and all(not_a_document(att) for att, _ in docs):
        missing = missing_attachment(msg, ctx)
        if missing is not None:
            decisions.append(missing)
    if _unrelated(msg, ctx, facts, decisions):
        reason = ("thư không rõ của trường nào và không có từ ngữ nào của đợt này (thư rác hoặc thư khác): "
                  "không phải hồ sơ")
        decisions = [d if d.decision == "ignored" else replace(d, decision="ignored", campaign=False,
                                                                   reasons=unique_nonempty((reason, *d.reasons)),
                                                                   reason_code=ReasonCode.UNRELATED_MAIL)
                     for d in decisions if d.part_index >= 0]
    return _with_damage(decisions, msg, ctx)


def _unrelated(msg: ParsedMessage, ctx: MessageContext, facts: Sequence[_PartFacts | None],
               decisions: Sequence[ItemDecision]) -> bool:
    """Mail that names no roster school anywhere and has no word of this campaign (spam, invoices...).

    Its items are ignored, not reviewed: nobody on the roster sent it and
    nothing in it speaks of the campaign. A file without text, or a part
    that could not be read, leaves the question open: such mail still goes
    to review.
    """
    if ctx.evidence or any(d.school for d in decisions):
        return False
    if any(d.part_index < -1 for d in decisions):
        return False
    if any(f is None and d.decision != "ignored" for f, d in zip(facts, decisions)):
        return False
    if campaign_words(msg.subject + "\n" + msg.body_text[:4000], ctx.index):
        return False
    return not any(f.words or f.school for f in facts if f is not None)


def _over_cap(docs: Sequence[tuple[Attachment, Extraction]], unread: Sequence[Skipped],
              ctx: MessageContext) -> list[ItemDecision]:
    """A mail with more attachments than the cap: one review item for the mail, its files ignored."""
    cap = ctx.index.campaign.attachment_cap
    total = len(docs) + len(unread)
    verdict = resolve_school(ctx.evidence, ctx.sender)
    lead = (f"thư có {total} tệp đính kèm, quá giới hạn {cap} tệp một thư: cần mở thư ra xem "
            "(các tệp không được xét từng tệp)")
    notes = (f"{len(unread)} phần không đọc được",) if unread else ()
    one = ItemDecision(filename="", part_index=-1, school=school_code(verdict.school), doc_types=(), campaign=False,
                       decision="review", confidence=0.0, reasons=unique_nonempty((lead, *notes, *verdict.reasons)),
                       reason_code=ReasonCode.ATTACHMENT_CAP)
    each = f"thuộc thư có {total} tệp đính kèm (quá {cap}): xem mục chờ kiểm tra của thư"
    return [one, *(_ignored_attachment(att, each, ReasonCode.ATTACHMENT_CAP) for att, _ in docs)]


_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff", ".bmp")


def _is_page_image(att: Attachment, ext: Extraction) -> bool:
    """A photo or scan of one page (not a logo: those are ``not_a_document``)."""
    image = att.content_type.lower().startswith("image/") or att.filename.lower().endswith(_IMAGE_EXT)
    return image and len(ext.parts) == 1 and not not_a_document(att)


def _page_runs(decisions: list[ItemDecision], facts: Sequence[_PartFacts | None],
               docs: Sequence[tuple[Attachment, Extraction]], index: ClassifierIndex) -> list[ItemDecision]:
    """Page images of one mail form documents, on evidence only.

    A page whose head opens a document (a title, a ``Số:`` line, the motto
    or an issuer line) starts one. A page without, right after another page
    image of the same container, continues that document when its page
    number follows the pages joined so far (``bot.classify.pages.joins``)
    and nothing on it says otherwise (its body's type, its closing block:
    ``bot.classify.pages.misfit``); it then takes the document's decision,
    school and type, with a reason naming the first page's file (the export
    turns it into the item's reference, R17) and what showed it. When the
    document waits for review, its continuation pages are not review items
    of their own: they follow the first page's fate. A page whose top only
    reads as body text or as a document's end proves no more than that it is
    a later page: which document it belongs to is decided among all the
    documents of the container (``_place_later_pages``). A page that does not
    show it is a later page (its top looks like another head, opens a body,
    or could not be read) is never merged: it keeps its own decision (usually
    review) with a reason saying why.
    """
    images = [_is_page_image(att, ext) for att, ext in docs for _ in (ext.parts or (None,))]
    # decisions hold one entry per part (or per file without text), in the order of docs
    containers = [att.container for att, ext in docs for _ in (ext.parts or (None,))]
    out = list(decisions)
    lead_of: dict[int, int] = {}  # a page joined -> the first page of its document
    first: int | None = None  # index of the page that opened the current document
    pages = 0                 # pages of the current document so far
    for k, decision in enumerate(decisions):
        fact = facts[k] if k < len(facts) else None
        if not images[k] or fact is None:
            first = None
            continue
        if fact.starts or first is None or containers[first] != containers[k] or fact.signs is None:
            first, pages = k, 1
            continue
        joining = joins(fact.signs, pages)
        # a number that follows the page before it, unless that page closed its document (its closing block)
        numbered = joining.continues and fact.signs.number == pages + 1 and not _closes(facts[k - 1])
        if joining.continues and not numbered:
            # a later page, of which document its place in the mail does not show; a page numbered
            # after it follows it
            first, pages = k, _number(fact.signs)
            continue
        other = ""
        if joining.continues and _sure(facts[first]):
            lead = _candidate(first, out, facts, lead_of, k, images, containers)
            other = misfit(_later(fact), lead, _type_names(index))
            other = f"nhưng {other}" if other else ""  # "số trang 2 ở đầu trang nhưng ..."
        if not joining.continues or other:
            why = f"{joining.reason} {other}" if other else joining.reason
            out[k] = replace(decision, reasons=unique_nonempty((
                f"không ghép vào tệp '{out[first].filename}' như trang tiếp theo: {why}; "
                "trang được xét riêng", *decision.reasons)))
            first, pages = k, _number(fact.signs)
            continue
        pages += 1
        out[k] = _continuation(decision, out[first], joining.reason)
        lead_of[k] = first
    return _place_later_pages(out, decisions, facts, images, containers, lead_of, index)


def _closes(fact: _PartFacts | None) -> bool:
    """A page showing a closing block (the list of recipients, the signers' titles): its document's last."""
    return fact is not None and bool(fact.closing.lines)


def _number(signs: PageSigns) -> int:
    """The pages a page stands for in a run it opens: its own number when printed ("3"), else 1."""
    return signs.number if signs.number is not None and signs.number >= 2 else 1


def _sure(fact: _PartFacts | None) -> bool:
    return fact is not None and fact.type_sure


def _type_names(index: ClassifierIndex) -> dict[str, str]:
    return {t.id: t.name for t in index.types}


def _later(fact: _PartFacts) -> LaterPage:
    """What a page without a head shows about the document it belongs to."""
    kind = fact.body.type_id if fact.body is not None else None
    number = fact.signs.number if fact.signs is not None and (fact.signs.number or 0) >= 2 else None
    return LaterPage(kind, fact.body.lines_of(kind) if kind is not None else (), fact.closing, number)


def _opens(fact: _PartFacts | None) -> bool:
    """A page that opens a document: its head, or the opening of its body."""
    return fact is not None and (
        fact.starts or (fact.signs is not None and bool(fact.signs.head or fact.signs.opening)))


def _candidate(j: int, out: Sequence[ItemDecision], facts: Sequence[_PartFacts | None], lead_of: dict[int, int],
               k: int, images: Sequence[bool], containers: Sequence[str]) -> Candidate:
    """The document whose first page is ``j``, as a candidate for page ``k``."""
    own = [j, *(p for p, lead in lead_of.items() if lead == j)]
    near = any(abs(p - k) == 1 and images[p] and containers[p] == containers[k] for p in own)
    ended = any(facts[p] is not None and facts[p].closing.lines for p in own)
    single = facts[j] is not None and bool(facts[j].closing.lines)
    numbers = frozenset(n for p in own[1:] if facts[p] is not None and facts[p].signs is not None
                        for n in (facts[p].signs.number,) if n is not None and n >= 2)
    awaiting = not ended and any(facts[p] is not None and facts[p].closing.said_end for p in own)
    top_section = max(facts[j].closing.sections, default=0) if facts[j] is not None else 0
    types = out[j].doc_types if _sure(facts[j]) else ()
    return Candidate(j, out[j].filename, types, ended=ended, single=single, near=near, numbers=numbers,
                     awaiting=awaiting, top_section=top_section)


def _later_page(fact: _PartFacts | None) -> bool:
    """A page without a head whose top shows it is a later page (its number, its end, body text)
    or whose body's lines show its type; not a first page whose head was lost (a top that opens
    a body or looks like a head)."""
    signs = fact.signs if fact is not None else None
    if signs is None or signs.head or signs.opening:
        return False
    typed = fact.body is not None and fact.body.type_id is not None
    return typed or (signs.number is not None and signs.number >= 2) or bool(signs.closing) or signs.legible


def _place_later_pages(out: list[ItemDecision], decisions: Sequence[ItemDecision],
                       facts: Sequence[_PartFacts | None], images: Sequence[bool], containers: Sequence[str],
                       lead_of: dict[int, int], index: ClassifierIndex) -> list[ItemDecision]:
    """Each later page not joined by its number joins the one document of its container it can
    belong to (``bot.classify.pages.place``): of its body's type, of a type that closes as its
    closing block shows, not a one-page document, not one that has its last page already; among
    several, the one next to it in the mail. Pages placed without doubt go first (a last page
    placed closes its document for the others); then those placed by their neighbours.

    The documents are the pages of the container that open one (a head, or a body's opening),
    and a later page waiting whose body shows a type no such page has (its first page was not
    recognised: the pages placed with it follow it into review); only a type that was read, not
    guessed, rules a page out. A page placed takes its document's fate, and the pages
    that followed it by their numbers come with it. A page placed nowhere is never counted as
    a document of its own (nothing shows it is a first page): review, saying what was seen and
    which files it may belong to. A page ignored on its own (another programme's, year's or
    issuer's) stays ignored.
    """
    names = _type_names(index)
    waiting = [k for k, fact in enumerate(facts) if images[k] and k not in lead_of and _later_page(fact)
               and decisions[k].decision != "ignored"]
    leads = [j for j, fact in enumerate(facts) if images[j] and _opens(fact)]
    tried: dict[int, Placement] = {}
    allow_near = False
    while waiting:
        placed = False
        for k in list(waiting):
            cands = [_candidate(j, out, facts, lead_of, k, images, containers) for j in leads
                     if j != k and j not in lead_of and containers[j] == containers[k]]
            # a document whose first page is not recognised, known by a later page of a type no first
            # page shows: the page may be its, so no other document is its only fit
            shown = {t for c in cands for t in c.types}
            cands += [replace(_candidate(j, out, facts, lead_of, k, images, containers), single=False)
                      for j in waiting if j != k and containers[j] == containers[k] and facts[j].body is not None
                      and facts[j].body.type_id is not None and facts[j].body.type_id not in shown]
            placement = place(_later(facts[k]), cands, names)
            tried[k] = placement
            if placement.key is None or (placement.near and not allow_near):
                continue
            j = placement.key
            followers = [p for p, lead in lead_of.items() if lead == k]
            reason = placement.reason
            if j == _before(k, lead_of, images, containers) and not placement.near and facts[k].body is not None \
                    and facts[k].body.type_id is None:
                reason = joins(facts[k].signs, 1).reason   # the page it followed: what showed it is a later page
            out[k] = _continuation(decisions[k], out[j], reason)
            lead_of[k] = j
            for page in followers:  # the pages that followed it follow it there, for what showed it before
                out[page] = _continuation(decisions[page], out[j], out[page].reasons[1])
                lead_of[page] = j
            waiting.remove(k)
            placed = True
        if not placed:
            if allow_near:
                break
            allow_near = True
    for k in waiting:
        fact = facts[k]
        placement = tried.get(k) or Placement(None, "")
        signs = fact.signs
        page = f"trang số {signs.number}" if signs.number is not None and signs.number >= 2 else "trang"
        kind = fact.body.type_id if fact.body is not None else None
        if kind is not None:
            shown = ", ".join(f"'{w}'" for w in fact.body.lines_of(kind))
            same = [c for c in leads if out[c].doc_types == (kind,) and containers[c] == containers[k]]
            missing = ("trong thư không có trang đầu của loại văn bản này" if not same
                       else f"trong thư có {len(same)} văn bản loại này" if len(same) > 1
                       else placement.reason)
            seen = (f"{page}, không có phần đầu văn bản; nội dung có các phần của "
                    f"{type_name(kind, index)} ({shown}) nhưng {missing}: không tính là một văn bản riêng")
        else:
            seen = (f"{page}, không có phần đầu văn bản; {placement.reason}: không tính là một văn bản riêng"
                    if placement.reason else "")
        out[k] = replace(out[k], reasons=unique_nonempty((seen, *out[k].reasons)))
        if out[k].decision == "counted":
            out[k] = replace(out[k], decision="review", campaign=False,
                             confidence=min(out[k].confidence, CONCERN_CAP),
                             reason_code=ReasonCode.UNREADABLE_TITLE)
            for page in (p for p, lead in lead_of.items() if lead == k):  # they follow it into review
                out[page] = _continuation(decisions[page], out[k], out[page].reasons[1])
    return out


def _continuation(decision: ItemDecision, lead: ItemDecision, why: str) -> ItemDecision:
    """A page of the document that ``lead`` (its first page) opened: it follows the first page's fate."""
    reason = continuation_reason(lead.filename)
    if lead.decision == "review":
        return replace(decision, school=lead.school, doc_types=lead.doc_types, campaign=False,
                       decision="ignored", confidence=lead.confidence,
                       reasons=(reason + " (trang đầu đang chờ kiểm tra; trang này đi theo trang đầu)", why),
                       reason_code=ReasonCode.PAGE_CONTINUATION)
    return replace(decision, school=lead.school, doc_types=lead.doc_types, campaign=lead.campaign,
                   decision=lead.decision, confidence=lead.confidence,
                   reasons=(reason, why, *lead.reasons[:3]),
                   reason_code=None if lead.decision == "counted" else ReasonCode.PAGE_CONTINUATION)


def _before(k: int, lead_of: dict[int, int], images: Sequence[bool], containers: Sequence[str]) -> int | None:
    """The document of the page image just before page ``k`` in the mail (its first page), if any."""
    p = k - 1
    if p < 0 or not images[p] or containers[p] != containers[k]:
        return None
    return lead_of.get(p, p)


CONTINUATION = "trang tiếp theo của tệp"


def continuation_reason(first_filename: str) -> str:
    """The reason of a continuation page, naming the first page's file (the export names its item)."""
    return f"{CONTINUATION} '{first_filename}'"


def _unread_part(skipped: Skipped, part_index: int, ctx: MessageContext) -> ItemDecision:
    """A part the parser did not read (a ZIP bomb, a RAR...): a person must look at it."""
    name = skipped.filename or "(phần không có tên)"
    verdict = resolve_school(ctx.evidence + filename_evidence(skipped.filename, ctx.index), ctx.sender)
    guessed = filename_types(skipped.filename, ctx.index)
    return ItemDecision(filename=name, part_index=part_index, school=school_code(verdict.school),
                        doc_types=tuple(t.id for t in guessed[:1] if len(guessed) == 1), campaign=False,
                        decision="review", confidence=0.0,
                        reasons=unique_nonempty((f"không đọc được: {skipped.reason}", *verdict.reasons)),
                        reason_code=ReasonCode.UNREAD_PART)


def _with_damage(decisions: list[ItemDecision], msg: ParsedMessage, ctx: MessageContext) -> list[ItemDecision]:
    """A mail that may have lost content says so on its items, or in a review item of its own."""
    if not msg.incomplete:
        return decisions
    notes = tuple(f"thư bị hỏng: {p}" for p in msg.incomplete)
    if decisions:
        # the damage is the cause shown of a review item that had none of its own
        return [replace(d, reasons=unique_nonempty((*d.reasons, *notes)),
                        reason_code=ReasonCode.DAMAGED_MAIL if d.decision == "review" and d.reason_code in _SOFT
                        else d.reason_code)
                for d in decisions]
    verdict = resolve_school(ctx.evidence, ctx.sender)
    return [ItemDecision(filename="", part_index=-1, school=school_code(verdict.school), doc_types=(), campaign=False,
                         decision="review", confidence=0.0,
                         reasons=unique_nonempty(("không đọc được toàn bộ thư: cần mở thư ra xem", *notes,
                                          *verdict.reasons)), reason_code=ReasonCode.DAMAGED_MAIL)]


def automatic_reason(msg: ParsedMessage) -> str:
    """Why a message is automatic (auto-reply, bulk, bounce), or ""."""
    if msg.bounce_recipients:
        return f"thư báo gửi không thành công (tới {', '.join(msg.bounce_recipients)}): không phải hồ sơ"
    if msg.automatic:
        return f"thư tự động ({msg.automatic}): không phải hồ sơ"
    return ""


def looks_like_submission(subject: str, body: str) -> bool:
    """Whether subject or body announce documents ("gửi hồ sơ", "đính kèm")."""
    form = match_form(subject + "\n" + body[:MAX_TEXT])
    return any(f" {match_phrase(p)} " in form for p in SUBMISSION_PHRASES)


def missing_attachment(msg: ParsedMessage, ctx: MessageContext) -> ItemDecision | None:
    """A review item for mail that announces documents but carries none."""
    if not looks_like_submission(msg.subject, msg.body_text):
        return None
    verdict = resolve_school(ctx.evidence, ctx.sender)
    skipped = tuple(f"bỏ qua '{s.filename}': {s.reason}" for s in msg.skipped)
    return ItemDecision(filename="", part_index=-1, school=school_code(verdict.school), doc_types=(), campaign=False,
                        decision="review", confidence=0.0,
                        reasons=("thư nói có gửi văn bản nhưng không có tệp đính kèm", *skipped, *verdict.reasons),
                        reason_code=ReasonCode.NO_ATTACHMENT)


def classify_part(att: Attachment, ext: Extraction, part: DocumentPart, part_index: int,
                  ctx: MessageContext) -> ItemDecision:
    """The decision for one document part.

    Ignored when it is not a dossier document, not this campaign's (another
    programme's, another issuer's) or of an earlier year; review when
    something needs a person (``_concerns``) or the confidence (the weaker of
    school and type) is below the threshold; counted otherwise.
    """
    return _classify_part(att, ext, part, part_index, ctx)[0]


def _classify_part(att: Attachment, ext: Extraction, part: DocumentPart, part_index: int,
                   ctx: MessageContext) -> tuple[ItemDecision, _PartFacts]:
    index = ctx.index
    head = parse_head(part.head, index, ocr=ext.ocr)
    head_school = find_school_in_head(head, index)
    issuer = other_issuer(head, index, head_school)
    if issuer is None and head_school.mention is None:
        # its head unreadable or silent: who signed it says who issued it
        signed = signed_by_other_issuer(part.text, index)
        issuer = OtherIssuer(signed[0], signed[1]) if signed else None
    # the office's own document whose head could not be read: known by its content
    office = office_document(head, part.text, att.filename, index, head_school) if issuer is None else None
    doc_type = detect_doc_type(head, part.text, att.filename, index)
    school = resolve_school(ctx.evidence + head_evidence(head_school) + filename_evidence(att.filename, index),
                            ctx.sender)
    topic = topic_score(head, part.text, index)
    year = check_year(document_year(head, part.text), ctx.cycle, ctx.received, ctx.mail_years, ocr=ext.ocr)
    confidence = min(school.confidence, doc_type.confidence)
    threshold = index.campaign.review_threshold

    ignored, code = _ignore_reason(att, head, doc_type, topic, year, issuer, office)
    coded = _concerns(ctx, school, doc_type, topic, year, head_school, office)
    concerns = tuple(text for _, text in coded)
    if ignored:
        decision, lead = "ignored", (ignored,)
    elif concerns:
        decision, lead, confidence = "review", concerns, min(confidence, CONCERN_CAP)
    elif confidence < threshold:
        decision, lead = "review", (f"độ tin cậy {vn_decimal(confidence)} dưới ngưỡng {vn_decimal(threshold)}",)
        code = ReasonCode.LOW_CONFIDENCE
    else:
        decision, lead = "counted", ()
    notes = ext.notes + ((ext.error,) if ext.error else ())
    if ext.ocr and not any("OCR" in n for n in notes):
        notes = ("chữ đọc bằng OCR (có thể nhận dạng sai)", *notes)
    if ctx.msg.auth == "fail" and not school.from_address:
        notes += (f"xác thực người gửi không đạt: {ctx.msg.auth_reason or 'fail'} (trường không được xác định "
                  "theo địa chỉ gửi)",)
    reasons = unique_nonempty((*lead, *doc_type.reasons, *school.reasons, topic.reason, year.reason, *notes))
    if decision == "review" and coded:
        code = _review_code(coded, school, doc_type, reasons, ctx.msg.auth == "fail" and not school.from_address)
    item = ItemDecision(
        filename=att.filename, part_index=part_index, school=school_code(school.school), doc_types=doc_type.doc_types,
        campaign=topic.kind == "this" and year.kind != "earlier" and issuer is None and office is None,
        decision=decision, confidence=round(confidence, 3), reasons=reasons,
        first_page=part.first_page, last_page=part.last_page, reason_code=code)
    # A page opens a document with a title, a number line, the motto or an issuer
    # line printed in capitals; a school named in a sentence of the body does not.
    starts = (head.title is not None or head.number is not None or issuer is not None
              or (head_school.mention is not None and mostly_caps(head_school.line))
              or mostly_caps(head_school.unknown_line) or any(MOTTO.search(f) for f in head.folded[:8]))
    signs = page_signs(part.text, index.pages) if _is_page_image(att, ext) and not starts else None
    body = body_type(part.text, index.types, index.pages.body_min, index.pages.body_margin) if signs else None
    closing = closing_block(part.text, index.signers, index.end_words) if _is_page_image(att, ext) else Closing()
    return item, _PartFacts(starts=starts, school=school.school is not None, words=topic.words, signs=signs,
                            body=body, type_sure=bool(doc_type.doc_types) and doc_type.confidence >= _SURE_TYPE,
                            closing=closing)


def _ignore_reason(att: Attachment, head: Head, doc_type: TypeVerdict, topic: TopicVerdict,
                   year: YearVerdict, issuer: OtherIssuer | None,
                   office: OfficeVerdict | None = None) -> tuple[str, ReasonCode | None]:
    """Why a part is no dossier document of this campaign and year, and its code; ("", None) when it may be."""
    if doc_type.other and not doc_type.concerns:
        return doc_type.other_reason, ReasonCode.OTHER_TYPE
    if issuer is not None:
        return (f"văn bản do {issuer.name} ban hành ('{shortened(issuer.line)}'), không phải văn bản của trường",
                ReasonCode.OTHER_ISSUER)
    if office is not None and office.kind == "office":
        return office.reason, ReasonCode.OFFICE_DOCUMENT
    if topic.kind == "other":
        return topic.reason, topic.code
    if year.kind == "earlier":
        return year.reason, year.code
    if not doc_type.doc_types and not_a_document(att):
        return f"không phải văn bản ({_describe(att)})", ReasonCode.NOT_A_DOCUMENT
    return "", None


def _concerns(ctx: MessageContext, school: SchoolVerdict, doc_type: TypeVerdict, topic: TopicVerdict,
              year: YearVerdict, head_school: HeadSchool,
              office: OfficeVerdict | None = None) -> tuple[tuple[ReasonCode, str], ...]:
    """Everything that needs a person, whatever the confidence, with its code, in the order shown."""
    found = [*zip(school.concern_codes, school.concerns), *zip(doc_type.concern_codes, doc_type.concerns)]
    if office is not None and office.kind == "maybe":
        found.insert(0, (ReasonCode.MAYBE_OFFICE, office.reason))
    if head_school.unknown_line:
        found.append((ReasonCode.UNKNOWN_ISSUER,
                      f"đầu văn bản ghi '{shortened(head_school.unknown_line)}', không có trong danh sách trường"))
    if topic.kind == "unknown":
        found.append((topic.code, topic.reason))
    if year.kind in ("future", "unsure"):
        found.append((year.code, year.reason))
    if ctx.msg.auth == "fail" and school.from_address:
        found.append((ReasonCode.AUTH_FAIL,
                      f"xác thực người gửi không đạt: {ctx.msg.auth_reason or 'Authentication-Results: fail'}"))
    return tuple(found)


# Codes of concerns that do not say, on their own, what a person should look at
# (the digest shows the item's first reason): a later, definite cause is shown instead.
_SOFT = frozenset({ReasonCode.AMBIGUOUS_SCHOOL, ReasonCode.TOPIC_WORDS_ONLY, ReasonCode.BOTH_TOPICS,
                   ReasonCode.UNDATED, ReasonCode.DATE_CONFLICT, ReasonCode.MAYBE_OFFICE,
                   ReasonCode.ATTACHMENT_CAP})
# What makes a document unlikely to be this cycle's: shown first, wherever it stands.
_UNLIKELY = (ReasonCode.FUTURE_DATE, ReasonCode.OLD_SCHOOL_YEAR, ReasonCode.FUTURE_SCHOOL_YEAR)
# The extraction's notes (free text) that a file was partly unreadable: pages without text, damage.
_FILE_TROUBLE = re.compile(r"không có chữ|bị hỏng|OCR không đọc được|không đọc được chữ|mật khẩu|mã hóa")
# Reasons that say the text was read by OCR, from a scan or a photo (the digest says "bản scan", "ảnh chụp").
_READ_BY_OCR = re.compile(r"OCR|bản scan|ảnh chụp")


def _review_code(coded: Sequence[tuple[ReasonCode, str]], school: SchoolVerdict, doc_type: TypeVerdict,
                 reasons: Sequence[str], auth_note: bool) -> ReasonCode:
    """The code of a part in review: the cause the digest shows (``bot.outbound.review.review_guess``).

    A sign of another year first; then "no word of this campaign" when the
    text was read directly and has no type (it is likely not a document of
    the campaign at all); then the first concern with a definite cause; then
    what the other reasons say (the sender not on the roster, a failed
    authentication); else the first concern.
    """
    codes = [code for code, _ in coded]
    for code in codes:
        if code in _UNLIKELY:
            return code
    if ReasonCode.NO_TOPIC in codes and not doc_type.doc_types and not any(_READ_BY_OCR.search(r) for r in reasons):
        return ReasonCode.NO_TOPIC
    for code in codes:
        if code not in _SOFT:
            return code
    if school.sender_unlisted:
        return ReasonCode.UNKNOWN_SCHOOL
    if any(_FILE_TROUBLE.search(r) for r in reasons):
        return ReasonCode.UNREADABLE_FILE  # the extraction's note: pages without text, a damaged file
    if auth_note:
        return ReasonCode.AUTH_FAIL
    return codes[0]


def _unreadable(att: Attachment, ext: Extraction, ctx: MessageContext) -> ItemDecision:
    """An attachment without text: review with the extraction error, unless not a document."""
    if not_a_document(att):
        return _ignored_attachment(att, f"không phải văn bản ({_describe(att)})", ReasonCode.NOT_A_DOCUMENT)
    error = ext.error or "không lấy được chữ từ tệp"
    verdict = resolve_school(ctx.evidence + filename_evidence(att.filename, ctx.index), ctx.sender)
    guessed = filename_types(att.filename, ctx.index)
    reasons = [error]
    if not ctx.ocr_available and ext.kind in ("pdf", "image") and "OCR" not in error:
        reasons.append("máy chưa cài OCR nên không đọc được bản scan")
    if len(guessed) == 1:
        reasons.append(f"đoán loại văn bản từ tên tệp '{att.filename}'")
    return ItemDecision(filename=att.filename, part_index=0, school=school_code(verdict.school),
                        doc_types=tuple(t.id for t in guessed[:1] if len(guessed) == 1), campaign=False,
                        decision="review", confidence=0.0, reasons=unique_nonempty((*reasons, *verdict.reasons)),
                        reason_code=ReasonCode.UNREADABLE_FILE)


def _ignored_attachment(att: Attachment, reason: str, code: ReasonCode) -> ItemDecision:
    """An attachment not looked into (automatic mail, a logo): nothing identified."""
    return ItemDecision(filename=att.filename, part_index=0, school=None, doc_types=(), campaign=False,
                        decision="ignored", confidence=0.0, reasons=(reason,), reason_code=code)


_NOT_DOCUMENT_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature", "text/vcard",
                       "text/x-vcard", "text/calendar", "application/ics", "application/pgp-signature")
_NOT_DOCUMENT_EXT = (".p7s", ".vcf", ".ics", ".asc", ".sig")


def not_a_document(att: Attachment) -> bool:
    """Logos, signature images, signed-mail signatures, vCards, invitations."""
    ctype = att.content_type.lower()
    name = att.filename.lower()
    if ctype in _NOT_DOCUMENT_TYPES or name.endswith(_NOT_DOCUMENT_EXT):
        return True
    return ctype.startswith("image/") and len(att.data) < TINY_IMAGE_BYTES


def _describe(att: Attachment) -> str:
    size = f"{len(att.data):,}".replace(",", ".")  # 40.000 byte, as Vietnamese writes it
    return f"{att.content_type or 'không rõ loại'}, {size} byte"
