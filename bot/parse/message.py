"""The walk over one message: ``parse_message`` and the parser state it lives in.

One class on purpose: the walk's state (attachments kept, parts skipped,
problems, the ZIP budget, the text of each nested message, the HTML's cid:
list) is shared by every step, and the limits it enforces are counted across
them. What needs no state is in the sibling modules (see the package head).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote

from .. import mailauth, outlookmsg
from ..model import Attachment, AuthVerdict, ParsedMessage, Skipped
from .archives import ZipRejected, read_tnef, read_zip
from .automatic import automatic_reason, dsn_failed
from .forwards import EMAIL, Original, inline_forward
from .headers import MAX_HEADER_BYTES, Headers, MSG_ID, message_id_of, read_headers, returned_message_ids
from .htmltext import html_to_text, tidy_body
from .limits import ParseLimits, log
from .mime import (OUTLOOK_MSG, ARCHIVES, ARCHIVE_TYPES, ENCRYPTED_TYPES, OLE_SIGNATURE, REPORT_PARTS,
                   SIGNATURE_TYPES, TNEF_TYPES, ZIP_BASED, ZIP_TYPES, container_count, content_id, decoded_size, file_extension, part_filename,
                   human_size, image_size, mime_view, header_param, payload_bytes, raw_payload, stdlib_parse, type_for)
from .text import clean_filename, codec_for, decode_bytes, lenient_b64, one_line, strip_controls, unescape


def parse_message(data: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage:
    """Parse raw RFC 5322 bytes into a ``ParsedMessage``; never raises.

    Problems (truncated MIME, unknown charsets, unreadable dates...) are
    reported in ``problems``; parts that are not documents or could not be
    read are listed in ``skipped`` with a reason.
    """
    try:
        return _MessageParser(bytes(data), limits).parse()
    except Exception as exc:  # last line of defence: one bad mail must not stop the bot
        return ParsedMessage(
            message_id="",
            from_addr="",
            problems=(f"không đọc được thư ({type(exc).__name__}); cần mở thư ra xem",),
            incomplete=(f"không đọc được thư ({type(exc).__name__}); cần mở thư ra xem",),
        )


# What a damaged mail's defects mean, in the coordinator's words (shown on its items).
_DEFECT_TEXT = {
    "CloseBoundaryNotFoundDefect": "thư bị cắt ngang: phần MIME cuối không được đóng "
                                   "(tệp đính kèm có thể không đầy đủ)",
    "StartBoundaryNotFoundDefect": "không tìm thấy ranh giới MIME: không tách được các tệp đính kèm",
    "NoBoundaryInMultipartDefect": "thư nhiều phần nhưng không có ranh giới (boundary): không tách được "
                                   "các tệp đính kèm",
    "MultipartInvariantViolationDefect": "cấu trúc MIME của thư bị hỏng",
    "InvalidBase64PaddingDefect": "dữ liệu base64 bị hỏng hoặc bị cắt ngắn",
    "InvalidBase64LengthDefect": "dữ liệu base64 bị hỏng hoặc bị cắt ngắn",
    "InvalidBase64CharactersDefect": "dữ liệu base64 có ký tự không hợp lệ",
}
# Defects found only when an attachment is decoded (reported with its name).
_DECODING_DEFECTS = frozenset({"InvalidBase64PaddingDefect", "InvalidBase64LengthDefect",
                               "InvalidBase64CharactersDefect"})


@dataclass(frozen=True)
class _Where:
    """Where a part sits: the container chain and how deep in forwards."""

    container: str = ""
    forward_depth: int = 0
    message: int = 0  # which message the part's text belongs to (0 = the outer one)
    in_report: bool = False


def _authentication(head: Headers, limits: ParseLimits) -> AuthVerdict:
    """What the office's servers proved about the From domain (bot/mailauth.py).
    A From with two addresses names no single author: nothing to authenticate."""
    if head.from_count > 1:
        return AuthVerdict("none", reason=f"From has {head.from_count} addresses: no single author to authenticate")
    headers = (head.view.get_all("authentication-results") or [])[:mailauth.MAX_HEADERS]
    return mailauth.verdict([one_line(str(h), mailauth.MAX_HEADER_CHARS) for h in headers], head.from_addr,
                            limits.trusted_authserv_ids)


def _chain(parent: str, child: str) -> str:
    return f"{parent} > {child}" if parent else child


class _MessageParser:
    """State of one ``parse_message`` call; lives and dies inside it."""

    def __init__(self, data: bytes, limits: ParseLimits):
        self.data = data
        self.limits = limits
        self.attachments: list[Attachment] = []
        self.skipped: list[Skipped] = []
        self.problems: list[str] = []
        self.damage: list[str] = []  # the problems that may have lost content
        self.zip_budget = limits.max_zip_total_bytes
        self.parts_seen = 0
        self.messages = 0
        self.plain: dict[int, list[str]] = {}
        self.html: dict[int, list[str]] = {}
        self.cids: set[str] = set()
        self.forwarded: Original | None = None
        self.bounces: list[tuple[str, bool]] = []  # (address, permanent) from delivery-status parts
        self.report_type = ""
        self.returned_ids: list[str] = []  # Message-IDs of the message a delivery report returns
        self.texts: dict[int, str] = {}  # id(part) -> decoded text, so HTML is decoded once

    def _skip(self, skipped: Skipped, why: str) -> None:
        """Keep a part that is not read, and log why (in English, for the operator)."""
        self.skipped.append(skipped)
        log.info("part %r not read: %s", skipped.filename[:120], why)

    def _damaged(self, text: str) -> None:
        """A problem that may have lost content: reported, and shown on the items."""
        self.problems.append(text)
        self.damage.append(text)

    # -- top level ---------------------------------------------------------

    def parse(self) -> ParsedMessage:
        if self.data[:8] == OLE_SIGNATURE:  # an Outlook .msg saved as .eml: read as the mail it holds
            converted = self._from_outlook("thư Outlook (.msg)", self.data)
            if converted is None:
                return ParsedMessage(message_id="", from_addr="", skipped=tuple(self.skipped),
                                     problems=("thư là tệp Outlook (.msg), không phải thư chuẩn (.eml)",))
            self.problems.append("thư là tệp Outlook (.msg), đã được đọc như thư thường")
            self.data = converted
        root = self._parse_bytes(self.data)
        head = read_headers(root, self.limits)
        self.problems.extend(head.problems)
        if root.is_multipart() or raw_payload(root):
            self._process(root, _Where())
        body = self._body()
        command_text = self._command_text()
        original = self.forwarded or inline_forward(body, head.subject)
        view = head.view
        root_type = mime_view(root).get_content_type()
        verdict = _authentication(head, self.limits)
        return ParsedMessage(
            message_id=message_id_of(view.get("message-id")),
            from_addr=head.from_addr,
            from_name=head.from_name,
            reply_to=head.reply_to,
            to_addrs=head.to_addrs,
            subject=head.subject,
            date_header=head.date,
            body_text=body[:self.limits.max_body_chars],
            attachments=tuple(self.attachments),
            skipped=tuple(self.skipped),
            original_from=original.addr if original else None,
            original_from_name=original.name if original else "",
            original_date=original.date if original else None,
            automatic=automatic_reason(view, root_type, self.report_type, head.from_addr, head.subject),
            bounce_recipients=(bounced := self._bounce_recipients(view)),
            bounce_refs=self._bounce_refs(view, bounced, body),
            command_text=command_text[:self.limits.max_body_chars],
            auth=verdict.result,
            auth_reason=verdict.reason,
            auth_verdict=verdict,
            in_reply_to=message_id_of(view.get("in-reply-to")),
            references=tuple(MSG_ID.findall(unescape(view.get("references", ""))))[:100],
            problems=tuple(dict.fromkeys(self.problems)),
            incomplete=tuple(dict.fromkeys(self.damage)),
        )

    def _parse_bytes(self, data: bytes) -> Message:
        """One stdlib parse; headers only when the structure would be too costly.

        The stdlib parser resumes one generator per nesting level for every
        line, so its cost is (containers x lines); count both first.
        """
        containers = container_count(data)
        if containers * (data.count(b"\n") + 1) > self.limits.max_parse_cost:
            self._damaged(f"thư lồng quá nhiều lớp để đọc an toàn ({containers} lớp MIME); "
                          "chỉ đọc được phần đầu thư")
            return stdlib_parse(data, headersonly=True)
        try:
            return stdlib_parse(data)
        except RecursionError:
            self._damaged("thư lồng quá nhiều lớp; chỉ đọc được phần đầu thư")
            return stdlib_parse(data, headersonly=True)

    def _bounce_recipients(self, view: Message) -> tuple[str, ...]:
        """The recipients whose delivery failed permanently. X-Failed-Recipients
        (Gmail, Exim: non-standard) counts unless the report's own
        delivery-status says the failure was temporary."""
        failed = [a for a, permanent in self.bounces if permanent]
        temporary = {a for a, permanent in self.bounces if not permanent}
        for value in view.get_all("x-failed-recipients") or []:
            failed += [a.lower() for a in EMAIL.findall(str(value)) if a.lower() not in temporary]
        return tuple(dict.fromkeys(failed))

    def _bounce_refs(self, view: Message, bounced: tuple[str, ...], body: str) -> tuple[str, ...]:
        """The Message-IDs of the message a delivery report returns (see
        ``ParsedMessage.bounce_refs``); () for mail that is not one."""
        if not (bounced or self.report_type == "delivery-status" or view.get("x-failed-recipients")):
            return ()
        ids = list(self.returned_ids)
        ids += returned_message_ids(body)[:10]  # Exim, Gmail: a copy of the message in the text
        ids += MSG_ID.findall(unescape(view.get("in-reply-to", "")))[:5]
        ids += MSG_ID.findall(unescape(view.get("references", "")))[-20:]
        return tuple(dict.fromkeys(strip_controls(i).lower() for i in ids if len(i) <= 998))

    # -- walking -----------------------------------------------------------

    def _process(self, root: Message, where: _Where) -> None:
        """Walk one message: collect body text and HTML references first,
        then decide about each leaf (inline images need the HTML's cid: list)."""
        leaves: list[tuple[Message, Message, _Where]] = []
        stack = [(root, where)]
        while stack:
            part, here = stack.pop()
            self.parts_seen += 1
            if self.parts_seen > self.limits.max_parts:
                self._damaged(f"thư có hơn {self.limits.max_parts} phần MIME; phần còn lại chưa được đọc")
                break
            self._note_defects(part)
            try:
                self._visit(part, here, stack, leaves)
            except Exception as exc:  # one broken part must not hide the others
                self._damaged(f"không đọc được một phần MIME của thư ({type(exc).__name__})")
        for part, view, here in leaves:
            try:
                self._leaf(part, view, here)
            except Exception as exc:  # one broken part must not hide the others
                self._skip(Skipped(part_filename(view) or "", f"không đọc được phần này của thư ({type(exc).__name__})"),
                           f"reading the part raised {type(exc).__name__}")

    def _visit(self, part: Message, here: _Where, stack: list, leaves: list) -> None:
        view = mime_view(part)
        ctype = view.get_content_type()
        if ctype == "message/delivery-status":
            if here.message == 0:  # a bounce forwarded as an attachment is not ours
                self.bounces += dsn_failed(part)
            log.debug("delivery-status part read for its failed recipients, not as a document")
        elif ctype in ("message/rfc822", "message/global") and part.is_multipart():
            self._forwarded(part, here, stack)
        elif here.in_report and ctype in REPORT_PARTS:
            if ctype == "text/rfc822-headers" and here.message == 0 and not here.container:
                self.returned_ids += returned_message_ids(decode_bytes(payload_bytes(part)[:MAX_HEADER_BYTES]))[:1]
            log.debug("%s part of a delivery report: machinery, not a document", ctype)
            return
        elif ctype.startswith("message/") and part.is_multipart() and not here.in_report:
            # message/partial, message/external-body...: the stdlib parses them as
            # messages, but they are pieces or pointers, not a mail to read
            self._skip(Skipped(part_filename(view) or ctype, f"chưa đọc được phần kiểu {ctype}"),
                       f"{ctype} is a piece of or a pointer to a message, not one to read")
        elif part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/report" and here.message == 0 and not here.container:
                self.report_type = (header_param(view, "report-type", "content-type") or "").lower()
            child_where = _Where(here.container, here.forward_depth, here.message,
                                 here.in_report or ctype == "multipart/report")
            stack.extend((child, child_where) for child in reversed(children))
        else:
            if ctype == "text/html" and view.get_content_disposition() != "attachment":
                self.cids.update(_cid_references(self._text(part, view)))
            leaves.append((part, view, here))

    def _forwarded(self, part: Message, here: _Where, stack: list) -> None:
        """A message/rfc822 part: a forwarded (or returned) message."""
        inner = next((m for m in part.get_payload() if isinstance(m, Message)), None)
        if inner is None:
            return
        if str(part.get("content-transfer-encoding", "")).strip().lower() == "base64":
            data = _base64_message(inner)
            if data is not None and data[:8] == OLE_SIGNATURE:  # an Outlook .msg sent as message/rfc822
                name = part_filename(mime_view(part)) or "thư Outlook (.msg)"
                converted = self._from_outlook(name, data)
                if converted is not None:
                    self._eml(name, converted, here)
                return
            # Exchange base64-encodes message/rfc822: the stdlib parsed the base64 text as the mail
            inner = self._parse_bytes(data) if data is not None else inner
        head = read_headers(inner, self.limits)
        label = head.subject or head.from_addr or "message"
        if here.in_report:
            if here.message == 0 and not here.container:
                self.returned_ids += MSG_ID.findall(unescape(head.view.get("message-id", "")))[:1]
            self._skip(Skipped(label, "thư gốc bị trả lại trong thư báo gửi không thành công", matters=False),
                       "the original message returned by a delivery report")
            return
        depth = here.forward_depth + 1
        if depth > self.limits.max_depth:
            self._skip(Skipped(label, f"thư chuyển tiếp lồng quá sâu (quá {self.limits.max_depth} cấp)"),
                       f"forwarded message nested deeper than {self.limits.max_depth}")
            return
        if self.forwarded is None and (head.from_addr or head.from_name):
            self.forwarded = Original(head.from_addr or None, head.from_name, head.date)
        self.messages += 1
        stack.append((inner, _Where(_chain(here.container, f"rfc822:{label}"), depth, self.messages)))

    def _note_defects(self, part: Message) -> None:
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__
            if name in _DEFECT_TEXT and name not in _DECODING_DEFECTS:  # those appear only when decoding
                self._damaged(_DEFECT_TEXT[name])

    # -- leaves ------------------------------------------------------------

    def _leaf(self, part: Message, view: Message, here: _Where) -> None:
        ctype = view.get_content_type()
        disposition = view.get_content_disposition()
        name = part_filename(view)
        if ctype in ("text/plain", "text/html") and name is None and disposition != "attachment":
            self._body_part(part, view, ctype, here)
            return
        found = self._not_a_document(ctype, view, part)
        if found:
            reason, matters, why = found
            self._skip(Skipped(name or content_id(view) or "", reason, matters=matters), why)
            return
        size = decoded_size(part)
        if size > self.limits.max_attachment_bytes:
            self._too_large(name or "", size)
            return
        data = payload_bytes(part)
        self._note_payload_defects(part, name or ctype)
        self._add_file(name or "", type_for(name or "", ctype), data, here, depth=0)

    def _not_a_document(self, ctype: str, view: Message, part: Message) -> tuple[str, bool, str] | None:
        """(why the part is not read, does it matter to a person?, why in English), or None for a document."""
        cid = content_id(view)
        if ctype.startswith("image/") and cid and cid in self.cids:
            if not self._inline_document(view, part):
                return "ảnh chèn trong nội dung thư", False, "a small image drawn by the HTML body (logo, signature)"
        if ctype in SIGNATURE_TYPES:
            return "chữ ký số, không phải văn bản", False, "a digital signature"
        if ctype in ENCRYPTED_TYPES:
            return "thư được mã hóa (S/MIME hoặc PGP): không đọc được", True, "encrypted (S/MIME or PGP)"
        if ctype in ("text/calendar", "application/ics"):
            return "lời mời lịch họp, không phải văn bản", False, "a calendar invitation"
        if ctype.startswith("multipart/"):
            return "không đọc được cấu trúc MIME của phần này", True, "a multipart whose structure could not be read"
        if ctype.startswith("message/") and ctype != "message/rfc822":
            return f"chưa đọc được phần kiểu {ctype}", True, f"{ctype} is not read"
        return None

    def _inline_document(self, view: Message, part: Message) -> bool:
        """Whether an image the HTML body draws (cid:) is a document all the same:
        marked as an attachment, or large -- a photo of a page (see
        ``ParseLimits.inline_document_bytes``/``inline_document_pixels``)."""
        name = part_filename(view) or content_id(view)
        if view.get_content_disposition() == "attachment":
            log.info("inline image %r is marked as an attachment: read as a document", name[:120])
            return True
        size = decoded_size(part)
        if size >= 10 * self.limits.inline_document_bytes:  # no logo is a megabyte: not decoded twice to say so
            log.info("inline image %r is %s: a photo of a page, read as a document", name[:120], human_size(size))
            return True
        width, height = image_size(payload_bytes(part)[:256 * 1024])
        pixels = width * height
        if pixels >= self.limits.inline_document_pixels:
            log.info("inline image %r is %dx%d pixels: a page, read as a document", name[:120], width, height)
            return True
        if size >= self.limits.inline_document_bytes and not 0 < pixels < self.limits.inline_logo_pixels:
            log.info("inline image %r is %s: a photo of a page, read as a document", name[:120], human_size(size))
            return True
        return False

    def _note_payload_defects(self, part: Message, label: str) -> None:
        for defect in part.defects:
            name = type(defect).__name__
            if name in _DECODING_DEFECTS:
                self._damaged(f"tệp đính kèm '{label}': {_DEFECT_TEXT[name]}")

    def _body_part(self, part: Message, view: Message, ctype: str, here: _Where) -> None:
        text = self._text(part, view)
        target = self.plain if ctype == "text/plain" else self.html
        target.setdefault(here.message, []).append(text)

    def _text(self, part: Message, view: Message) -> str:
        if id(part) not in self.texts:
            self.texts[id(part)] = self._decode_text(part, view)
        return self.texts[id(part)]

    def _decode_text(self, part: Message, view: Message) -> str:
        charset = view.get_param("charset")
        charset = charset[2] if isinstance(charset, tuple) else charset
        if charset and codec_for(str(charset)) is None and str(charset).lower() != "unknown-8bit":
            self.problems.append(f"unknown charset {one_line(str(charset), 40)!r} in the text; read as UTF-8")
        return decode_bytes(payload_bytes(part), str(charset) if charset else None)

    def _body(self) -> str:
        """The outer message's text; the first forwarded message's if it has none."""
        for index in sorted(set(self.plain) | set(self.html)):
            plain = "\n\n".join(t for t in self.plain.get(index, []) if t.strip())
            if not plain:
                html = "\n".join(self.html.get(index, []))
                plain = html_to_text(html, self.limits.max_html_chars) if html else ""
            text = tidy_body(plain, self.limits.max_body_chars * 2)
            if text:
                return text
        return ""

    def _command_text(self) -> str:
        """The outer message's own words (``ParsedMessage.command_text``): its
        text/plain parts, else its HTML without quoted or hidden text. Never
        a forwarded or attached message's text, even when the outer one is empty."""
        plain = "\n\n".join(t for t in self.plain.get(0, []) if t.strip())
        if not plain:
            html = "\n".join(self.html.get(0, []))
            # Commands stand at the top of a reply: a tenth of the HTML bound is plenty, and a
            # cut can only leave text out, never read more as the sender's own.
            plain = html_to_text(html, self.limits.max_html_chars // 10, own=True) if html else ""
        return tidy_body(plain, self.limits.max_body_chars * 2)

    # -- files -------------------------------------------------------------

    def _add_file(self, name: str, ctype: str, data: bytes, here: _Where, depth: int) -> None:
        """Keep a file, or open it when it is a container (ZIP, TNEF, .eml).

        ``depth`` counts the archives (ZIP, TNEF) this file is already inside.
        """
        ext = file_extension(name)
        if len(data) > self.limits.max_attachment_bytes:
            self._too_large(name, len(data))
        elif ext == ".zip" or (ctype in ZIP_TYPES and ext not in ZIP_BASED):
            self._zip(name, data, here, depth)
        elif ctype in TNEF_TYPES or name.lower() in ("winmail.dat", "win.dat"):
            self._tnef(name, data, here, depth)
        elif fmt := ARCHIVES.get(ext) or ARCHIVE_TYPES.get(ctype):
            self._skip(Skipped(name, f"chưa đọc được tệp nén dạng {fmt}"), f"{fmt} archives are not opened")
        elif ext == ".msg" or ctype == "application/vnd.ms-outlook" or (
                data[:8] == OLE_SIGNATURE and (ext == ".eml" or ctype == "message/rfc822")):
            converted = self._from_outlook(name, data)
            if converted is not None:
                self._eml(name, converted, here)
        elif ext == ".eml" or ctype == "message/rfc822":
            self._eml(name, data, here)
        else:
            self._keep(Attachment(name, ctype, data, here.container))

    def _keep(self, attachment: Attachment) -> None:
        if len(self.attachments) >= self.limits.max_attachments:
            self._skip(Skipped(attachment.filename, f"quá nhiều tệp đính kèm "
                                                    f"(chỉ đọc {self.limits.max_attachments} tệp đầu)"),
                       f"more than {self.limits.max_attachments} attachments")
        else:
            self.attachments.append(attachment)

    def _too_large(self, name: str, size: int) -> None:
        self._skip(Skipped(name, f"quá lớn: {human_size(size)} "
                           f"(giới hạn {human_size(self.limits.max_attachment_bytes)})"),
                   f"{human_size(size)} is over the attachment limit")

    def _zip(self, name: str, data: bytes, here: _Where, depth: int) -> None:
        if depth >= self.limits.max_zip_depth:
            self._skip(Skipped(name, f"tệp ZIP lồng quá sâu (quá {self.limits.max_zip_depth} cấp)"),
                       f"archive nested deeper than {self.limits.max_zip_depth}")
            return
        try:
            result = read_zip(data, self.limits, self.zip_budget)
        except ZipRejected as exc:
            self._skip(Skipped(name, f"không mở tệp ZIP: {exc}"), "ZIP rejected (a limit, or unreadable)")
            return
        self.zip_budget -= result.used
        for member in result.skipped:
            self._skip(member, f"a member of ZIP {name!r} could not be read")
        inside = _Where(_chain(here.container, f"zip:{name}"), here.forward_depth, here.message)
        for member, content in result.files:
            self._add_file(member, type_for(member), content, inside, depth + 1)

    def _tnef(self, name: str, data: bytes, here: _Where, depth: int) -> None:
        if depth >= self.limits.max_zip_depth:
            self._skip(Skipped(name, "tệp TNEF (winmail.dat) lồng quá sâu"), "TNEF nested too deep")
            return
        try:
            files = read_tnef(data, self.limits.max_tnef_objects)
        except (ValueError, struct.error):
            self._skip(Skipped(name, "không đọc được tệp TNEF (winmail.dat)"), "TNEF stream unreadable")
            return
        if not files:
            self._skip(Skipped(name, "tệp TNEF (winmail.dat) không chứa tệp đính kèm nào", matters=False),
                       "TNEF without attachments")
        inside = _Where(_chain(here.container, "tnef"), here.forward_depth, here.message)
        for member, content in files:
            self._add_file(clean_filename(member), type_for(member), content, inside, depth + 1)

    def _from_outlook(self, name: str, data: bytes) -> bytes | None:
        """An Outlook .msg as RFC 5322 bytes (bot/outlookmsg.py), or None when it
        cannot be read (then it is a review item with the reason)."""
        try:
            converted, left_out = outlookmsg.to_rfc822(data, max_attachments=self.limits.max_attachments,
                                                       max_bytes=self.limits.max_attachment_bytes)
        except outlookmsg.MsgUnreadable as exc:
            self._skip(Skipped(name, OUTLOOK_MSG), f"Outlook .msg could not be read: {exc}")
            return None
        for member in left_out:
            self._skip(Skipped(member, "thư Outlook đính kèm trong tệp .msg: chưa đọc được, cần mở bằng Outlook"),
                       f"an attachment of Outlook .msg {name!r} that holds no file (an attached message or a link)")
        return converted

    def _eml(self, name: str, data: bytes, here: _Where) -> None:
        """An .eml file attached as a file: read it like a forwarded message."""
        inner = self._parse_bytes(data)
        wrapper = Message()
        wrapper["Content-Type"] = "message/rfc822"
        wrapper.set_payload([inner])
        self._process(wrapper, here)



def _base64_message(inner: Message) -> bytes | None:
    """The bytes of a base64-encoded message/rfc822 part, which the stdlib
    parsed as if its base64 text were the mail; None when it has no text."""
    text = raw_payload(inner)
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    return lenient_b64(text) if isinstance(text, str) else None


def _cid_references(html: str) -> set[str]:
    """Content-IDs the HTML draws (src="cid:..."): those images are decoration."""
    found = re.findall(r"cid:([^\s\"'<>)]+)", html[:2_000_000], re.IGNORECASE)
    return {unquote(cid).strip("<>").lower() for cid in found}
