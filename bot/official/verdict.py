"""The verdict: is this copy the official paper the office requires?

``observe`` runs every check on one document (the signature reader, the seal
finder on page images, the signature block, number, date and minutes
readers); ``judge`` weighs what was observed against the document's
``OfficialPolicy`` into a frozen ``Evidence``, whose ``to_json`` is the
``evidence`` object of issue 16's contract. Both are pure: bytes, images,
text, the policy, the cycle and ``now`` in; a frozen value out.

Rules (docs/official-copies.md says them for people):
- ``official`` is True when every requirement of the policy is met, False
  when one is definitely not, None when the bot cannot tell (a faint seal, a
  photo too dark, a seal without a readable signer): a coordinator decides.
- A PDF changed after signing (bytes inside the signed range, content or
  pages added by a later revision) or signed with a certificate not valid
  at the time is never official, whatever the policy.
- A digital signature that is intact and covers the content is official
  even when its issuer is not among the configured trust roots; the
  problems then say "chưa xác minh được nơi cấp chứng thư".
- Word/ODT files, and PDFs with a text layer and neither a digital
  signature nor a seal on a page image, are unsigned drafts ("bản chưa ký").
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from typing import Sequence

from .evidence import Evidence, Medium  # the records it judges into (also importable from here)
from .minutes import MinutesCheck, check_minutes
from .numbering import NumberDate, clean_number, read_number_date
from .policy import OfficialPolicy, Requirement
from .seal import Box, PageSeal, find_seal
from .signature import SignatureReport, TrustRoots, read_signatures
from .signblock import BlockFinding, find_blocks

ASK_OFFICIAL = "đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"
UNVERIFIED_ISSUER = "chưa xác minh được nơi cấp chứng thư"


@dataclass(frozen=True)
class Cycle:
    """The campaign cycle a document's date must lie in (inclusive)."""

    start: date
    end: date


@dataclass(frozen=True)
class Observations:
    """Everything the checks saw on one document (see ``observe``).

    ``text_read``: whether any text (layer or OCR) was available, so that
    the absence of a number, a date or a signature block means something.
    ``minutes`` is None for a document that is not a Biên bản.
    """

    medium: Medium
    text_read: bool = True
    signatures: SignatureReport = SignatureReport()
    pages: tuple[PageSeal, ...] = ()
    blocks: BlockFinding = BlockFinding()
    numbering: NumberDate = NumberDate()
    minutes: MinutesCheck | None = None
    codes: tuple[str, ...] = ()
    cycle: Cycle | None = None


# --------------------------------------------------------------------------
# Observing
# --------------------------------------------------------------------------

def observe(*, medium: Medium, lines: Sequence[str], codes: Sequence[str], cycle: Cycle, now: datetime,
            pdf: bytes | None = None, roots: TrustRoots = TrustRoots(),
            page_images: Sequence[tuple[int, object]] = (), block_boxes: dict[int, Box] | None = None,
            is_minutes: bool = False, text_read: bool | None = None) -> Observations:
    """Run every check on one document.

    ``lines``: the document's text lines (text layer or OCR), head first;
    ``pdf``: the file's bytes when it is a PDF (for digital signatures);
    ``page_images``: (page number, Pillow image) of the pages to look for a
    seal on, the last page first (where the signature block is);
    ``block_boxes``: the signature block's box per page when OCR gave
    positions. ``text_read`` defaults to "some line has letters".
    """
    boxes = block_boxes or {}
    text = "\n".join(lines)
    return Observations(
        medium=medium,
        text_read=any(ch.isalpha() for ch in text) if text_read is None else text_read,
        signatures=read_signatures(pdf, roots, now) if pdf is not None else SignatureReport(),
        pages=tuple(find_seal(image, page, boxes.get(page)) for page, image in page_images),
        blocks=find_blocks(lines),
        numbering=read_number_date(lines, codes, cycle.start, cycle.end),
        minutes=check_minutes(text) if is_minutes else None,
        codes=tuple(codes),
        cycle=cycle,
    )


# --------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------

@dataclass
class _Tally:
    """Working state of one judgement (local to ``judge``)."""

    problems: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)
    missing: list[Requirement] = field(default_factory=list)
    unknown: bool = False

    def add(self, item: list[str], text: str) -> None:
        if text and text not in item:
            item.append(text)


def judge(obs: Observations, policy: OfficialPolicy, tz: tzinfo) -> Evidence:
    """Weigh the observations against the policy (``tz``: the campaign's, for dates shown)."""
    t = _Tally()
    sigs = obs.signatures
    tampered = sigs.signed and sigs.error is None and not sigs.valid
    _describe_signatures(sigs, tz, t)
    seal, seal_page = _seal(obs)
    block = True if obs.blocks.found else (False if obs.text_read else None)
    if seal and obs.blocks.found:
        b = obs.blocks.last
        t.add(t.seen, f"có dấu đỏ và chữ ký của {b.title} {b.name} (trang {seal_page})")
    elif seal:
        t.add(t.seen, f"có dấu đỏ (trang {seal_page})")
    nd, contradicted = _believed(obs)
    obs = replace(obs, numbering=nd)
    if nd.number:
        t.add(t.seen, f"số {nd.number}")
    if nd.date:
        t.add(t.seen, f"ngày {nd.date:%d/%m/%Y}")

    for req in policy.requires:
        verdict, problem, doubt = _CHECKS[req](obs, seal, seal_page)
        if verdict is False:
            t.missing.append(req)
            t.add(t.problems, problem)
        elif verdict is None and req in contradicted:
            t.unknown = True  # a clean reading says it is wrong: the coordinator looks at the page
            t.add(t.doubts, contradicted[req])
        elif verdict is None:  # on a scan: not read (never asked of the school), so the coordinator decides
            t.unknown = True
            t.add(t.doubts, doubt)
    if obs.blocks.typed_signed and not sigs.valid and not seal:
        t.add(t.problems, "bản đánh máy lại ghi “(Đã ký)”, không phải bản có chữ ký")
    if tampered:
        official = False
    elif t.missing:
        official = False
    else:
        official = None if t.unknown else True
    return Evidence(
        official=official,
        digital_signature=sigs.main,
        seal=seal,
        signature_block=True if sigs.valid else block,
        number=nd.number,
        date=nd.date,
        problems=tuple(t.problems),
        seen=tuple(t.seen),
        doubts=tuple(t.doubts),
        missing=tuple(t.missing),
        seal_page=seal_page,
        tampered=tampered,
    )




def _from_ocr(obs: Observations) -> bool:
    """The document's text came from OCR (a scan or photo), not from a text layer."""
    return obs.medium == Medium.SCAN


def _believed(obs: Observations) -> tuple[NumberDate, dict[Requirement, str]]:
    """The number and date as far as they are proven, and the requirements a clean OCR reading
    contradicts (with the coordinator's doubt).

    From a text layer: as read, nothing contradicted (the strict checks decide). From OCR, only a
    clean reading is kept: a number with stray characters or another kind's type code, a blank (a
    number or day written by hand is not read by OCR) or a date outside the cycle (a misread
    digit) is "not read", never shown to the school. Of these, a clean number with another
    kind's code, a blank read cleanly and a clean date outside the cycle contradict the
    requirement (the doubt says what was read). Whatever was not read leaves the copy undecided:
    a seal and a signature do not prove a number or a date (docs/official-copies.md, "A number or
    date not read").
    """
    nd = obs.numbering
    if not _from_ocr(obs):
        return nd, {}
    clean = clean_number(nd.number)
    number_ok = clean and nd.code_matches is not False
    # a date found only below the title (a meeting's date, a citation) is not the document's own
    own_date = not nd.date_below_title
    date_ok = nd.date is not None and nd.in_cycle is not False and own_date
    contradicted: dict[Requirement, str] = {}
    if clean and nd.code_matches is False:
        contradicted[Requirement.NUMBER] = (f"số văn bản đọc được trên bản scan ({nd.number}) mang ký hiệu khác "
                                            f"{', '.join(obs.codes)}: cần xem bản scan")
    elif nd.number_blank:
        contradicted[Requirement.NUMBER] = "số văn bản trên bản scan có vẻ để trống (hoặc viết tay): cần xem bản scan"
    if nd.date is not None and nd.in_cycle is False and own_date:
        why = f"ngày đọc được trên bản scan ({nd.date:%d/%m/%Y}) không thuộc đợt này: cần xem bản scan"
        contradicted[Requirement.DATE_IN_CYCLE] = why
    elif nd.date_blank and own_date:
        why = "ngày tháng trên bản scan có vẻ để trống (hoặc viết tay): cần xem bản scan"
        contradicted[Requirement.DATE] = contradicted[Requirement.DATE_IN_CYCLE] = why
    believed = NumberDate(
        number=nd.number if number_ok else None, code=nd.code if number_ok else "",
        code_matches=nd.code_matches if number_ok else None,
        date=nd.date if date_ok else None, date_text=nd.date_text if date_ok else "",
        in_cycle=nd.in_cycle if date_ok else None)
    return believed, contradicted


def _describe_signatures(sigs: SignatureReport, tz: tzinfo, t: _Tally) -> None:
    """Seen and problems of the digital signatures (whatever the policy: tampering always counts)."""
    if sigs.error:
        t.unknown = True
        t.add(t.doubts, sigs.error)
    for s in sigs.signatures:
        who = ", ".join(x for x in (s.signer, s.organisation if s.organisation != s.signer else "",
                                    f"{s.signed_at.astimezone(tz):%d/%m/%Y}" if s.signed_at else "") if x)
        if not s.intact:
            t.add(t.problems, f"chữ ký số của {s.signer} không khớp với nội dung: tệp đã bị sửa sau khi ký")
        elif s.modified_after_signing:
            t.add(t.problems, f"tệp đã bị sửa hoặc thêm nội dung sau khi {s.signer} ký số")
        elif not s.certificate_valid_at_signing:
            t.add(t.problems, f"chứng thư số của {s.signer} không còn hoặc chưa có hiệu lực vào lúc ký")
        else:
            t.add(t.seen, f"đã ký số bởi {who}")
    if sigs.valid and any(s.trusted is not True for s in sigs.signatures):
        t.add(t.problems, UNVERIFIED_ISSUER)


def _seal(obs: Observations) -> tuple[bool | None, int | None]:
    """The seal over all looked-at pages: seen on one, else unsure on one, else absent."""
    for p in obs.pages:
        if p.seal:
            return True, p.page
    if any(p.seal is None for p in obs.pages):
        return None, None
    if obs.pages:
        return False, None
    return (False, None) if obs.medium in (Medium.WORD, Medium.TEXT) else (None, None)


def _scan_like(obs: Observations, seal: bool | None) -> bool:
    """Judged as a paper copy: a scan or photo, or a text PDF whose page shows a seal (searchable scan)."""
    return obs.medium == Medium.SCAN or (obs.medium == Medium.TEXT_PDF and seal is True)


def _unsigned_problem(obs: Observations) -> str:
    kind = {Medium.WORD: "bản Word chưa ký", Medium.TEXT_PDF: "bản PDF chưa ký",
            Medium.TEXT: "văn bản chưa ký"}.get(obs.medium, "bản chưa ký")
    return f"{kind}: {ASK_OFFICIAL}"


Check = tuple[bool | None, str, str]  # verdict, problem (when False), doubt (when None)


def _signed_or_stamped(obs: Observations, seal: bool | None, page: int | None) -> Check:
    sigs = obs.signatures
    if sigs.signed or sigs.error:
        if sigs.error:
            return None, "", sigs.error
        return sigs.valid, "chữ ký số không hợp lệ: " + ASK_OFFICIAL, ""
    if _scan_like(obs, seal):
        if seal is True:
            if obs.blocks.found:
                return True, "", ""
            return None, "", (f"có dấu đỏ (trang {page}) nhưng không đọc được chức danh, họ tên người ký")
        if seal is None:
            reasons = "; ".join(p.reason for p in obs.pages if p.seal is None)
            return None, "", reasons or "chưa xem được trang có chữ ký để tìm dấu đỏ"
        return False, f"bản scan không thấy dấu đỏ: {ASK_OFFICIAL}", ""
    if obs.medium == Medium.TEXT_PDF and seal is None and obs.pages:
        reasons = "; ".join(p.reason for p in obs.pages if p.seal is None)
        return None, "", reasons
    return False, _unsigned_problem(obs), ""


def _digital(obs: Observations, seal: bool | None, page: int | None) -> Check:
    sigs = obs.signatures
    if sigs.error:
        return None, "", sigs.error
    if not sigs.signed:
        return False, "chưa có chữ ký số: đề nghị gửi bản ký số", ""
    return sigs.valid, "chữ ký số không hợp lệ: đề nghị gửi lại bản ký số", ""


def _trusted(obs: Observations, seal: bool | None, page: int | None) -> Check:
    verdict, problem, doubt = _digital(obs, seal, page)
    if verdict is not True:
        return verdict, problem, doubt
    trust = [s.trusted for s in obs.signatures.signatures]
    if any(t is False for t in trust):
        return False, "chứng thư số không do nơi cấp được công nhận cấp", ""
    if any(t is None for t in trust):
        return None, "", "chưa cấu hình chứng thư gốc nên chưa xác minh được nơi cấp chứng thư"
    return True, "", ""


def _seal_req(obs: Observations, seal: bool | None, page: int | None) -> Check:
    if obs.signatures.valid:
        return True, "", ""  # the organisation's digital signature stands for its seal (Nghị định 30/2020)
    if seal is None:
        reasons = "; ".join(p.reason for p in obs.pages if p.seal is None)
        return None, "", reasons or "chưa xem được trang có chữ ký để tìm dấu đỏ"
    return seal, f"không thấy dấu đỏ: {ASK_OFFICIAL}", ""


def _block_req(obs: Observations, seal: bool | None, page: int | None) -> Check:
    if obs.signatures.valid or obs.blocks.found:
        return True, "", ""
    if not obs.text_read:
        return None, "", "không đọc được chữ trên bản scan để tìm chức danh, họ tên người ký"
    return False, "không thấy chức danh và họ tên người ký", ""


def _number_req(obs: Observations, seal: bool | None, page: int | None) -> Check:
    nd = obs.numbering
    if nd.number is not None:
        if nd.code_matches is False:
            codes = ", ".join(obs.codes)
            return False, f"số văn bản {nd.number} mang ký hiệu {nd.code}, không phải {codes}", ""
        return True, "", ""
    if not obs.text_read or _from_ocr(obs):
        return None, "", "không đọc được rõ số văn bản trên bản scan"
    if nd.number_blank:
        return False, "số văn bản còn để trống", ""
    return False, "không thấy số văn bản (Số: .../...)", ""


def _date_req(obs: Observations, seal: bool | None, page: int | None) -> Check:
    nd = obs.numbering
    if nd.date is not None:
        return True, "", ""
    if not obs.text_read or _from_ocr(obs):
        return None, "", "không đọc được rõ ngày tháng văn bản trên bản scan"
    if nd.date_blank:
        return False, "ngày tháng văn bản còn để trống", ""
    return False, "không thấy ngày tháng văn bản", ""


def _date_in_cycle_req(obs: Observations, seal: bool | None, page: int | None) -> Check:
    verdict, problem, doubt = _date_req(obs, seal, page)
    if verdict is not True:
        return verdict, problem, doubt
    nd, cycle = obs.numbering, obs.cycle
    if nd.in_cycle is False and cycle is not None:
        return False, (f"ngày văn bản {nd.date:%d/%m/%Y} không thuộc đợt này "
                       f"({cycle.start:%d/%m/%Y} – {cycle.end:%d/%m/%Y})"), ""
    return True, "", ""


def _minutes_req(obs: Observations, seal: bool | None, page: int | None) -> Check:
    if obs.minutes is None:
        return True, "", ""  # not a Biên bản: nothing to check
    if not obs.text_read:
        return None, "", "không đọc được chữ của biên bản để kiểm tra các phần"
    if obs.minutes.complete:
        return True, "", ""
    if _from_ocr(obs):  # OCR by need reads only some pages, and misreads: a part not read is not missing
        return None, "", "chưa đọc được trên bản scan các phần của biên bản: " + ", ".join(obs.minutes.missing)
    return False, "biên bản thiếu: " + ", ".join(obs.minutes.missing), ""


_CHECKS = {
    Requirement.SIGNED_OR_STAMPED: _signed_or_stamped,
    Requirement.DIGITAL_SIGNATURE: _digital,
    Requirement.TRUSTED_SIGNATURE: _trusted,
    Requirement.SEAL: _seal_req,
    Requirement.SIGNATURE_BLOCK: _block_req,
    Requirement.NUMBER: _number_req,
    Requirement.DATE: _date_req,
    Requirement.DATE_IN_CYCLE: _date_in_cycle_req,
    Requirement.MINUTES_PARTS: _minutes_req,
}
assert set(_CHECKS) == set(Requirement)  # a new requirement without a check fails at import
