"""Automatic mail (auto-replies, bulk) and delivery reports (RFC 3464)."""
from __future__ import annotations

import re
from email.message import Message

from .forwards import EMAIL
from .mime import payload_bytes, raw_payload
from .text import decode_bytes, one_line, unescape

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|tl)\s*:\s*)?(?:auto(?:matic)?[ -]?reply|auto[ -]?response|autoreply|"
    r"out of (?:the )?office|trả lời tự động|thư trả lời tự động|tự động trả lời|vắng mặt)",
    re.IGNORECASE,
)
# Headers that accompany an Outlook/Exchange auto-reply but not, alone, a person's mail.
_AUTO_HINTS = ("x-auto-response-suppress", "x-ms-exchange-inbox-rules-loop",
               "x-ms-exchange-generated-message-source")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Headers that mark automatic mail, checked in this order, with their display names.
_AUTO_HEADERS = {"auto-submitted": "Auto-Submitted", "x-autoreply": "X-Autoreply",
                 "x-autorespond": "X-Autorespond", "precedence": "Precedence", "list-id": "List-ID",
                 "list-unsubscribe": "List-Unsubscribe"}


def automatic_reason(view: Message, root_type: str, report_type: str, from_addr: str,
                     subject: str) -> str | None:
    """Why this mail is automatic (never to be answered), or None."""
    if root_type == "multipart/report":
        return {"delivery-status": "báo cáo gửi thư không thành công (bounce)",
                "disposition-notification": "xác nhận đã đọc thư (disposition notification)"
                }.get(report_type, f"báo cáo tự động ({report_type or 'multipart/report'})")
    if from_addr.split("@")[0] in ("mailer-daemon", "postmaster"):
        return f"From: {from_addr}"
    if one_line(view.get("return-path", ""), 200).replace(" ", "") == "<>":
        return "Return-Path rỗng (<>)"
    for name in _AUTO_HEADERS:
        reason = _auto_header(name, one_line(view.get(name, ""), 200))
        if reason:
            return reason
    if _AUTO_SUBJECT.match(subject) and any(view.get(h) is not None for h in _AUTO_HINTS):
        return f"tiêu đề trả lời tự động '{subject[:60]}' kèm các trường tự động của Outlook"
    return None


def _auto_header(name: str, value: str) -> str | None:
    """The reason a header makes mail automatic, or None (absent, or e.g. "Auto-Submitted: no")."""
    if not value:
        return None
    if name == "auto-submitted":
        return None if value.split(";")[0].strip().lower() == "no" else f"Auto-Submitted: {value}"
    if name == "precedence":
        return f"Precedence: {value}" if value.lower() in _BULK_PRECEDENCE else None
    return f"{_AUTO_HEADERS[name]}: {value[:80]}"


def dsn_failed(part: Message) -> list[tuple[str, bool]]:
    """(Final-Recipient address, permanent) for each recipient with Action:
    failed in a message/delivery-status part. A failure is permanent unless
    its Status is 4.x.x (RFC 3463: a temporary condition the sending server
    gave up retrying, e.g. a host that did not answer for days)."""
    blocks = raw_payload(part)
    if isinstance(blocks, list):
        fields = [[(k.lower(), unescape(v)) for k, v in block.raw_items()]
                  for block in blocks if isinstance(block, Message)]
    else:  # encoded or unparsed: read the text blocks ourselves
        text = decode_bytes(payload_bytes(part))
        fields = [[(k.strip().lower(), v) for k, _, v in
                   (line.partition(":") for line in block.splitlines() if ":" in line)]
                  for block in re.split(r"\r?\n\s*\r?\n", text)]
    failed = []
    for block in fields:
        values = dict(block)
        if values.get("action", "").strip().lower().startswith("failed"):
            recipient = values.get("final-recipient", "").split(";")[-1]
            permanent = not values.get("status", "").strip().startswith("4")
            failed += [(a.lower(), permanent) for a in EMAIL.findall(recipient)][:1]
    return failed
