"""Mail as real clients write it.

Each ``Client`` reproduces one mail program's MIME habits:

- ``gmail``: multipart/alternative, attachment names as RFC 2231
  (``filename*=UTF-8''...``), ``X-Attachment-Id``
- ``outlook``: RFC 2047 encoded words inside quotes, ``Thread-Index``,
  inline logos (``image001.png`` with a Content-ID) in multipart/related
- ``thunderbird``: RFC 2231 continuations (``filename*0*=``), format=flowed
- ``apple``: NFD (decomposed) file names, ``x-unix-mode``, text parts
  between attachments
- ``iphone``: photos of pages, "Gửi từ iPhone của tôi"
- ``raw8``: an old webmail that writes raw UTF-8 bytes in headers

and the automatic mail an office mailbox receives: auto-replies, an RFC 3464
delivery report, spam. Nothing here chooses *what* to send (see corpus.py).
"""
from __future__ import annotations

import base64
import hashlib
import io
import random
import string
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from PIL import Image, ImageDraw

from .mime import (CRLF, Part, address, b64_body, header_text, nfd, param_2047, param_2231, param_raw,
                   qp_body)


@dataclass(frozen=True)
class FileAttachment:
    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Envelope:
    """Who, when, what: everything but the attachments."""

    from_name: str
    from_addr: str
    to_addr: str
    subject: str
    date: datetime
    body: str
    to_name: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    html: bool = True
    logo: str = ""          # text of an inline logo image, "" for none
    signature: str = ""


def _rand(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return _rand(rng, n, "0123456789abcdef")


def _domain(addr: str) -> str:
    return addr.rsplit("@", 1)[-1].lower()


def logo_png(text: str) -> bytes:
    """A small round school logo (PNG), as mail signatures embed."""
    img = Image.new("RGB", (64, 64), "white")
    d = ImageDraw.Draw(img)
    d.ellipse([2, 2, 61, 61], outline=(20, 60, 160), width=3)
    d.text((32, 32), text[:4], fill=(20, 60, 160), anchor="mm")
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _html(body: str, logo_cid: str = "") -> str:
    paras = "".join(f"<div>{line or '<br>'}</div>" for line in _escape(body).split("\n"))
    img = f'<div><img src="cid:{logo_cid}" width="64" height="64" alt="logo"></div>' if logo_cid else ""
    return f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>' \
           f'<div dir="ltr">{paras}</div>{img}</body></html>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Client:
    """Base client; subclasses override the habits that differ."""

    name: str = "generic"
    enc: str = "B"
    raw8: bool = False
    charset: str = "UTF-8"
    mailer: tuple[tuple[str, str], ...] = ()

    # -- identifiers
    def message_id(self, rng: random.Random, addr: str) -> str:
        return f"<{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}@{_domain(addr)}>"

    def boundary(self, rng: random.Random) -> str:
        return "------------" + _rand(rng, 24)

    # -- parts
    def text_part(self, text: str) -> Part:
        return Part([("Content-Type", f'text/plain; charset="{self.charset}"'),
                     ("Content-Transfer-Encoding", "quoted-printable")], qp_body(text))

    def html_part(self, html: str) -> Part:
        return Part([("Content-Type", f'text/html; charset="{self.charset}"'),
                     ("Content-Transfer-Encoding", "quoted-printable")], qp_body(html))

    def attachment(self, att: FileAttachment, rng: random.Random) -> Part:
        return Part([("Content-Type", f"{att.content_type}; {param_2047('name', att.filename)}"),
                     ("Content-Disposition", f"attachment; {param_2047('filename', att.filename)}"),
                     ("Content-Transfer-Encoding", "base64")], b64_body(att.data))

    def inline_image(self, png: bytes, cid: str, rng: random.Random) -> Part:
        return Part([("Content-Type", 'image/png; name="image001.png"'),
                     ("Content-Description", "image001.png"),
                     ("Content-Disposition", 'inline; filename="image001.png"'),
                     ("Content-ID", f"<{cid}>"),
                     ("Content-Transfer-Encoding", "base64")], b64_body(png))

    def logo_cid(self, rng: random.Random) -> str:
        return f"image001.png@01D9{_hex(rng, 4).upper()}.{_hex(rng, 8).upper()}"

    def multipart(self, subtype: str, children: list[Part], rng: random.Random, extra: str = "") -> Part:
        b = self.boundary(rng)
        return Part([("Content-Type", f'multipart/{subtype};{extra} boundary="{b}"')], children=children,
                    boundary=b)

    # -- whole message
    def top_headers(self, env: Envelope, msgid: str) -> list[tuple[str, str]]:
        h = [("From", address(env.from_name, env.from_addr, self.enc, raw8=self.raw8)),
             ("To", address(env.to_name, env.to_addr, self.enc, raw8=self.raw8)),
             ("Subject", header_text(env.subject, self.enc, raw8=self.raw8)),
             ("Date", format_datetime(env.date)),
             ("Message-ID", msgid),
             ("MIME-Version", "1.0")]
        return h + list(self.mailer)

    def body_part(self, env: Envelope, rng: random.Random) -> Part:
        text = env.body + (f"{CRLF}--{CRLF}{env.signature}" if env.signature else "")
        plain = self.text_part(text)
        if not env.html:
            return plain
        cid = self.logo_cid(rng) if env.logo else ""
        alt = self.multipart("alternative", [plain, self.html_part(_html(text, cid))], rng)
        if not env.logo:
            return alt
        return self.multipart("related", [alt, self.inline_image(logo_png(env.logo), cid, rng)], rng,
                              ' type="multipart/alternative";')

    def arrange(self, body: Part, parts: list[Part], rng: random.Random) -> Part:
        if not parts:
            return body
        return self.multipart("mixed", [body, *parts], rng)

    def build(self, env: Envelope, attachments: list[FileAttachment], rng: random.Random,
              forwarded: bytes | None = None, forwarded_name: str = "") -> tuple[bytes, str]:
        """The message bytes and its Message-ID."""
        msgid = self.message_id(rng, env.from_addr)
        parts = [self.attachment(a, rng) for a in attachments]
        if forwarded is not None:
            parts.append(self.rfc822_part(forwarded, forwarded_name))
        root = self.arrange(self.body_part(env, rng), parts, rng)
        root.headers = self.top_headers(env, msgid) + [*env.extra] + root.headers
        return root.to_bytes(), msgid

    def rfc822_part(self, data: bytes, name: str) -> Part:
        disp = f"attachment; {param_2047('filename', name)}" if name else "inline"
        return Part([("Content-Type", "message/rfc822"), ("Content-Disposition", disp)], data)


class Gmail(Client):
    def __init__(self) -> None:
        super().__init__(name="gmail")

    def message_id(self, rng, addr):
        return f"<CA{_rand(rng, 1, 'BDEFGHJKLMNP')}{_rand(rng, 46, string.ascii_letters + string.digits + '+_-')}" \
               f"@mail.gmail.com>"

    def boundary(self, rng):
        return "000000000000" + _hex(rng, 16)

    def attachment(self, att, rng):
        att_id = "f_" + _rand(rng, 9, string.ascii_lowercase + string.digits)
        name = param_2047("name", att.filename, charset="UTF-8", sep=" ")
        return Part([("Content-Type", f"{att.content_type}; {name}"),
                     ("Content-Disposition", f"attachment; {param_2231('filename', att.filename)}"),
                     ("Content-Transfer-Encoding", "base64"),
                     ("Content-ID", f"<{att_id}>"),
                     ("X-Attachment-Id", att_id)], b64_body(att.data))

    def top_headers(self, env, msgid):
        h = super().top_headers(env, msgid)
        order = ["MIME-Version", "From", "Date", "Message-ID", "Subject", "To"]
        return sorted(h, key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


class Outlook(Client):
    def __init__(self) -> None:
        super().__init__(name="outlook", charset="utf-8",
                         mailer=(("X-Mailer", "Microsoft Outlook 16.0"), ("Content-Language", "vi")))

    def message_id(self, rng, addr):
        return f"<00{_hex(rng, 2)}01d9{_hex(rng, 4)}${_hex(rng, 8)}${_hex(rng, 8)}$@{_domain(addr)}>"

    def boundary(self, rng):
        return f"----=_NextPart_000_{_hex(rng, 4).upper()}_01D9{_hex(rng, 4).upper()}.{_hex(rng, 8).upper()}"

    def top_headers(self, env, msgid):
        h = super().top_headers(env, msgid)
        seed = hashlib.sha1(msgid.encode()).digest()
        return h + [("Thread-Index", base64.b64encode(b"\x01\xd9" + seed[:20]).decode())]


class Thunderbird(Client):
    def __init__(self) -> None:
        super().__init__(name="thunderbird", enc="Q",
                         mailer=(("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "vi")))

    def text_part(self, text):
        return Part([("Content-Type", "text/plain; charset=UTF-8; format=flowed"),
                     ("Content-Transfer-Encoding", "8bit")], text.replace("\n", CRLF).encode("utf-8"))

    def attachment(self, att, rng):
        return Part([("Content-Type", f"{att.content_type};{CRLF} {param_2231('name', att.filename, 40)}"),
                     ("Content-Disposition", f"attachment;{CRLF} {param_2231('filename', att.filename, 40)}"),
                     ("Content-Transfer-Encoding", "base64")], b64_body(att.data))


class AppleMail(Client):
    def __init__(self) -> None:
        super().__init__(name="apple", enc="Q",
                         mailer=(("X-Mailer", "Apple Mail (2.3731.700.6)"),))

    def message_id(self, rng, addr):
        return f"<{_hex(rng, 8).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 4).upper()}-" \
               f"{_hex(rng, 12).upper()}@{_domain(addr)}>"

    def boundary(self, rng):
        return f"Apple-Mail=_{_hex(rng, 8).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 4).upper()}-" \
               f"{_hex(rng, 4).upper()}-{_hex(rng, 12).upper()}"

    def top_headers(self, env, msgid):
        h = [(k, v) for k, v in super().top_headers(env, msgid) if k != "MIME-Version"]
        return h + [("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3731.700.6\\))")]

    def attachment(self, att, rng):
        name = nfd(att.filename)  # macOS file names are decomposed
        return Part([("Content-Disposition", f"attachment;{CRLF}\t{param_2231('filename', name)}"),
                     ("Content-Type", f"{att.content_type};{CRLF}\tx-unix-mode=0644;{CRLF}\t"
                                      f"{param_2047('name', name, 'Q', sep=CRLF + chr(9))}"),
                     ("Content-Transfer-Encoding", "base64")], b64_body(att.data))

    def arrange(self, body, parts, rng):
        if not parts:
            return body
        # Apple Mail puts a text part after the attachments (the text typed below them).
        return self.multipart("mixed", [body, *parts, self.text_part("\n")], rng)


class IPhone(AppleMail):
    def __init__(self) -> None:
        super().__init__()
        self.name = "iphone"
        self.mailer = (("X-Mailer", "iPhone Mail (20G75)"),)

    def boundary(self, rng):
        return f"Apple-Mail-{_hex(rng, 8).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 4).upper()}-" \
               f"{_hex(rng, 4).upper()}-{_hex(rng, 12).upper()}"


class Raw8(Client):
    """An old webmail: raw UTF-8 in Subject, From and file names."""

    def __init__(self) -> None:
        super().__init__(name="raw8", raw8=True, mailer=(("X-Mailer", "PHPMailer 5.2.9"),))

    def message_id(self, rng, addr):
        return f"<{_hex(rng, 32)}@{_domain(addr)}>"

    def boundary(self, rng):
        return "b1_" + _hex(rng, 32)

    def text_part(self, text):
        return Part([("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")],
                    text.replace("\n", CRLF).encode("utf-8"))

    def attachment(self, att, rng):
        return Part([("Content-Type", f"{att.content_type}; {param_raw('name', att.filename)}"),
                     ("Content-Transfer-Encoding", "base64"),
                     ("Content-Disposition", f"attachment; {param_raw('filename', att.filename)}")],
                    b64_body(att.data))


CLIENTS = {c().name: c for c in (Gmail, Outlook, Thunderbird, AppleMail, IPhone, Raw8)}


def client(name: str) -> Client:
    return CLIENTS[name]()


# --------------------------------------------------------------------------- automatic mail

def auto_reply(rng: random.Random, school_name: str, addr: str, to_addr: str, date: datetime,
               replied_id: str, english: bool) -> tuple[bytes, str]:
    """An out-of-office answer to the office's reminder (RFC 3834 marked)."""
    if english:
        subject, body = "Automatic reply: [Nhắc việc] Hồ sơ điển hình ANTQ", \
            "I am out of the office until 16/10 with limited access to email."
        extra = (("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                 ("In-Reply-To", replied_id))
        c = client("outlook")
    else:
        subject, body = "Trả lời tự động: [Nhắc việc] Hồ sơ điển hình ANTQ", \
            f"{school_name} đã nhận được thư. Thư này được trả lời tự động, vui lòng không phản hồi."
        extra = (("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"), ("Precedence", "bulk"),
                 ("In-Reply-To", replied_id), ("References", replied_id))
        c = client("gmail")
    env = Envelope(school_name, addr, to_addr, subject, date, body, extra=extra, html=False)
    return c.build(env, [], rng)


def bounce(rng: random.Random, mailer_host: str, to_addr: str, failed: str, date: datetime,
           original_id: str, original_subject: str) -> tuple[bytes, str]:
    """A Postfix-style RFC 3464 delivery-status notification."""
    msgid = f"<{_hex(rng, 10).upper()}.{_hex(rng, 8)}@{mailer_host}>"
    human = (f"This is the mail system at host {mailer_host}.\n\nI'm sorry to have to inform you that your "
             f"message could not be delivered to one or more recipients.\n\n<{failed}>: host "
             f"mx.{_domain(failed)} said: 550 5.1.1 <{failed}>: Recipient address rejected: User unknown")
    status = (f"Reporting-MTA: dns; {mailer_host}\r\nArrival-Date: {format_datetime(date)}\r\n\r\n"
              f"Final-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822;{failed}\r\nAction: failed\r\n"
              f"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected: "
              f"User unknown\r\n")
    headers = (f"From: {to_addr}\r\nTo: {failed}\r\nSubject: {original_subject}\r\nMessage-ID: {original_id}\r\n"
               f"Auto-Submitted: auto-generated\r\n")
    parts = [Part([("Content-Description", "Notification"), ("Content-Type", "text/plain; charset=us-ascii")],
                  human.replace("\n", CRLF).encode()),
             Part([("Content-Description", "Delivery report"), ("Content-Type", "message/delivery-status")],
                  status.encode()),
             Part([("Content-Description", "Undelivered Message Headers"),
                   ("Content-Type", "text/rfc822-headers")], headers.encode())]
    b = f"{_hex(rng, 10).upper()}.{int(date.timestamp())}/{mailer_host}"
    root = Part([("Return-Path", "<>"),
                 ("From", f"MAILER-DAEMON@{mailer_host} (Mail Delivery System)"),
                 ("To", to_addr), ("Subject", "Undelivered Mail Returned to Sender"),
                 ("Date", format_datetime(date)), ("Message-ID", msgid),
                 ("Auto-Submitted", "auto-replied"), ("MIME-Version", "1.0"),
                 ("Content-Type", f'multipart/report; report-type=delivery-status;{CRLF}\tboundary="{b}"')],
                children=parts, boundary=b, preamble="This is a MIME-encapsulated message.")
    return root.to_bytes(), msgid


SPAM = [
    ("Chúc mừng! Bạn đã trúng thưởng iPhone 15 Pro Max", "Nhấn vào liên kết để nhận thưởng trong 24 giờ: "
     "http://qua-tang-tri-an.example/nhan-thuong", "khuyenmai@qua-tang-tri-an.example", None),
    ("Your mailbox is almost full", "Your mailbox has exceeded its storage limit. Click here to verify your "
     "account: http://webmail-verify.example/login", "admin@webmail-verify.example", None),
    ("Hóa đơn điện tử tháng 10 - Công ty TNHH Thương mại Minh Phát", "Kính gửi Quý khách, công ty gửi hóa "
     "đơn điện tử đính kèm.", "hoadon@minhphat-invoice.example", "Hoa_don_dien_tu_0012345.zip"),
    ("Khóa học bồi dưỡng chứng chỉ ứng dụng CNTT cấp tốc", "Liên hệ ngay để được giảm 50% học phí.",
     "tuyensinh@daotao-cap-toc.example", "Thong_bao_chieu_sinh.pdf"),
]
