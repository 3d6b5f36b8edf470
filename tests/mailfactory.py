"""Build raw test emails the way real mail clients write them.

Every builder returns ``bytes`` (CRLF line ends) ready for ``parse_message``,
an IMAP APPEND or an SMTP send. Nothing here touches the network or the disk,
and output is deterministic (no clock, no randomness), so tests can compare
bytes.

Quick use::

    from tests import mailfactory as mf

    raw = mf.gmail(files=[mf.File("Tờ trình đề nghị công nhận.pdf", mf.pdf_bytes())])
    raw = mf.build("outlook", sender="thcs.nguyenhue@hcm-edu.example", subject="Hồ sơ ANTQ",
                   files=[mf.File("Biên bản họp xét.docx", mf.docx_bytes())],
                   logo=True)                          # + an inline signature logo
    raw = mf.forward_inline("apple", original=mf.Original())
    raw = mf.forward_attached(mf.thunderbird(subject="Hồ sơ"))
    raw = mf.postfix_bounce(["thcs.abc@hcm-edu.example"])
    raw = mf.with_headers(raw, [("Authentication-Results", "mx.google.com; dmarc=pass ...")])

Client styles (``STYLES``) and how each writes a non-ASCII file name:

=============  =============================================================
``gmail``      RFC 2231 ``filename*=UTF-8''T%E1%BB%9D...``; Content-ID on
               every attachment (not referenced by the HTML)
``outlook``    RFC 2047 encoded-words inside quotes,
               ``filename="=?utf-8?B?...?="``; body in base64
``thunderbird`` RFC 2231 with continuations ``filename*0*=...; filename*1*=...``
``apple``      RFC 2231 with NFD (decomposed) names, as macOS stores them
``yahoo``      RFC 2047 Q encoded-words inside quotes
``phone``      raw 8-bit UTF-8 in the headers (subject, name, file name),
               as some Android clients send
``legacy``     raw 8-bit Windows-1258 headers and body (old Vietnamese
               Windows clients)
=============  =============================================================

Containers: ``zip_bytes`` (names as UTF-8 with or without the flag, cp1258,
mac NFD), ``zip_bomb``, ``patch_zip`` (lie about sizes, set the encrypted
flag), ``tnef_bytes`` (winmail.dat), ``nested_forward``.
"""
from __future__ import annotations

import base64
import hashlib
import io
import itertools
import quopri
import random
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import Iterable, Sequence
from urllib.parse import quote

CRLF = b"\r\n"
MB = 1024 * 1024
DATE = "Thu, 05 Oct 2023 09:32:00 +0700"
SCHOOL = "thcs.nguyenhue@hcm-edu.example"
SCHOOL_NAME = "Trường THCS Nguyễn Huệ"
OFFICE = "pgd.quan12@hcm-edu.example"
STYLES = ("gmail", "outlook", "thunderbird", "apple", "yahoo", "phone", "legacy")


# --------------------------------------------------------------------------
# Sample file contents
# --------------------------------------------------------------------------

def pdf_bytes(title: str = "TỜ TRÌNH", size: int = 0, seed: int = 0) -> bytes:
    """PDF-looking bytes (enough for content-type sniffing, not a real PDF).

    ``size`` pads with deterministic pseudo-random bytes, which compress and
    encode like a real scan does.
    """
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Title (" + title.encode("utf-8") + b") >>\nendobj\n"
    tail = b"\n%%EOF\n"
    padding = max(0, size - len(head) - len(tail))
    return head + random.Random(seed).randbytes(padding) + tail


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A valid, tiny PNG (grey pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def docx_bytes(text: str = "BIÊN BẢN HỌP XÉT") -> bytes:
    """A minimal DOCX (a ZIP inside, which the parser must NOT expand)."""
    document = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
                'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
                f"{text}</w:t></w:r></w:p></w:body></w:document>")
    return zip_bytes([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", document.encode())])


# --------------------------------------------------------------------------
# Header encodings
# --------------------------------------------------------------------------

def encoded_words(text: str, charset: str = "utf-8", q: bool = False, chunk: int = 15,
                  split_bytes: bool = False) -> str:
    """RFC 2047 encoded-words for ``text``, folded, as clients write them.

    ``split_bytes`` cuts the UTF-8 bytes at fixed positions, splitting
    multi-byte characters across words (a known client bug decoders must
    survive).
    """
    raw = text.encode(charset)
    if split_bytes:
        pieces = [raw[i:i + 7] for i in range(0, len(raw), 7)]
    else:
        pieces = [text[i:i + chunk].encode(charset) for i in range(0, len(text), chunk)]
    kind = "Q" if q else "B"
    words = [f"=?{charset}?{kind}?{q_encode(p) if q else base64.b64encode(p).decode()}?=" for p in pieces]
    return "\r\n ".join(words)


def q_encode(data: bytes) -> str:
    """The Q encoding of RFC 2047 (space as "_", the rest as =XX)."""
    out = []
    for byte in data:
        ch = chr(byte)
        if ch == " ":
            out.append("_")
        elif ch.isalnum() and byte < 128:
            out.append(ch)
        else:
            out.append(f"={byte:02X}")
    return "".join(out)


def rfc2231(key: str, value: str, continuation: int = 0) -> str:
    """``key*=UTF-8''%..`` or, with ``continuation`` > 0, ``key*0*=...; key*1*=...``."""
    encoded = quote(value.encode("utf-8"), safe="")
    if not continuation:
        return f"{key}*=UTF-8''{encoded}"
    pieces, i = [], 0
    while i < len(encoded):
        end = min(i + continuation, len(encoded))
        while end < len(encoded) and "%" in encoded[end - 2:end]:  # never cut inside %XX
            end += 1
        pieces.append(encoded[i:end])
        i = end
    return ";\r\n ".join(f"{key}*{n}*={'UTF-8' + chr(39) * 2 if n == 0 else ''}{p}"
                         for n, p in enumerate(pieces))


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes for Vietnamese text.

    cp1258 has the base letters (ơ, ư, â, đ...) but writes tones as combining
    marks, so most NFC syllables must be split before encoding.
    """
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        out += _cp1258_syllable(ch)
    return bytes(out)


def _cp1258_syllable(ch: str) -> bytes:
    """Compose into the base letter whichever marks cp1258 has precomposed
    (ê in "ệ"), and write the rest (the tone) as combining marks."""
    base, *marks = unicodedata.normalize("NFD", ch)
    for size in range(len(marks), -1, -1):
        for chosen in itertools.combinations(range(len(marks)), size):
            head = unicodedata.normalize("NFC", base + "".join(marks[i] for i in chosen))
            rest = "".join(m for i, m in enumerate(marks) if i not in chosen)
            try:
                return head.encode("cp1258") + rest.encode("cp1258")
            except UnicodeEncodeError:
                continue
    return b"?"


def filename_params(style: str, name: str) -> tuple[bytes, bytes]:
    """(Content-Type parameter, Content-Disposition parameter) for ``name``."""
    if name.isascii():
        return f'name="{name}"'.encode(), f'filename="{name}"'.encode()
    if style == "gmail":
        return rfc2231("name", name).encode(), rfc2231("filename", name).encode()
    if style == "thunderbird":
        return rfc2231("name", name, 24).encode(), rfc2231("filename", name, 24).encode()
    if style == "apple":
        nfd = unicodedata.normalize("NFD", name)
        return rfc2231("name", nfd).encode(), rfc2231("filename", nfd).encode()
    if style in ("outlook", "yahoo"):
        words = encoded_words(name, q=style == "yahoo")
        return f'name="{words}"'.encode(), f'filename="{words}"'.encode()
    raw = to_cp1258(name) if style == "legacy" else name.encode("utf-8")
    return b'name="' + raw + b'"', b'filename="' + raw + b'"'


def header_value(style: str, text: str) -> bytes:
    """A Subject/display-name value the way ``style`` writes non-ASCII text."""
    if text.isascii():
        return text.encode()
    if style == "phone":
        return text.encode("utf-8")
    if style == "legacy":
        return to_cp1258(text)
    return encoded_words(text, q=style in ("yahoo", "thunderbird")).encode()


def address(style: str, name: str, addr: str) -> bytes:
    if not name:
        return addr.encode()
    shown = header_value(style, name)
    if name.isascii() or style in ("phone", "legacy"):
        shown = b'"' + shown + b'"'
    return shown + b" <" + addr.encode() + b">"


# --------------------------------------------------------------------------
# MIME assembly
# --------------------------------------------------------------------------

def header(name: str, value: str | bytes) -> bytes:
    return name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()) + CRLF


def part(headers: Sequence[tuple[str, str | bytes]], body: bytes) -> bytes:
    """One MIME entity: headers, blank line, body (already transfer-encoded)."""
    return b"".join(header(k, v) for k, v in headers) + CRLF + body


def boundary_for(parts: Iterable[bytes], tag: str = "") -> str:
    """A boundary derived from the content: deterministic and never inside it."""
    digest = hashlib.sha1(b"".join(parts) + tag.encode()).hexdigest()[:28]
    return f"{tag or 'b'}_{digest}"


def multipart(subtype: str, parts: Sequence[bytes], headers: Sequence[tuple[str, str | bytes]] = (),
              boundary: str | None = None, params: str = "", preamble: bytes = b"",
              close: bool = True) -> bytes:
    """A multipart entity; ``close=False`` leaves out the closing boundary (truncated mail)."""
    boundary = boundary or boundary_for(parts, subtype)
    head = [("Content-Type", f'multipart/{subtype}; boundary="{boundary}"{params}'), *headers]
    body = preamble + b"".join(b"--" + boundary.encode() + CRLF + p + CRLF for p in parts)
    if close:
        body += b"--" + boundary.encode() + b"--" + CRLF
    return part(head, body)


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def text_part(text: str, subtype: str = "plain", charset: str = "utf-8", cte: str = "quoted-printable",
              extra: str = "") -> bytes:
    raw = to_cp1258(text) if charset == "windows-1258" else text.encode(charset)
    if cte == "base64":
        body = b64(raw)
    elif cte == "quoted-printable":
        body = quopri.encodestring(raw.replace(b"\r\n", b"\n")).replace(b"\n", CRLF)
    else:
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", CRLF)
    return part([("Content-Type", f'text/{subtype}; charset="{charset}"{extra}'),
                 ("Content-Transfer-Encoding", cte)], body)


@dataclass(frozen=True)
class File:
    """A file to attach.

    ``cid`` (without brackets) makes it an inline image: the HTML body will
    draw it with ``<img src="cid:...">`` unless ``referenced`` is False.
    ``content_type`` defaults from the extension.
    """

    name: str
    data: bytes = b"%PDF-1.4\n%%EOF\n"
    content_type: str = ""
    cid: str = ""
    referenced: bool = True
    disposition: str = "attachment"

    @property
    def type(self) -> str:
        if self.content_type:
            return self.content_type
        ext = self.name.lower().rsplit(".", 1)[-1]
        return {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "zip": "application/zip",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "doc": "application/msword", "rar": "application/x-rar-compressed",
                "dat": "application/ms-tnef", "eml": "message/rfc822"}.get(ext, "application/octet-stream")


def file_part(style: str, f: File) -> bytes:
    """A file as ``style`` attaches it."""
    name_param, filename_param = filename_params(style, f.name) if f.name else (b"", b"")
    ctype = f.type.encode() + (b"; " + name_param if name_param else b"")
    disposition = (f.disposition if not f.cid else "inline").encode()
    if filename_param:
        disposition += b"; " + filename_param
    headers: list[tuple[str, str | bytes]] = [("Content-Type", ctype), ("Content-Disposition", disposition),
                                              ("Content-Transfer-Encoding", "base64")]
    if style == "outlook" and f.name:
        headers.insert(1, ("Content-Description", header_value("outlook", f.name)))
    if f.cid:
        headers.append(("Content-ID", f"<{f.cid}>"))
    elif style == "gmail":  # Gmail gives every attachment a Content-ID nobody references
        headers += [("Content-ID", f"<f_{hashlib.sha1(f.data).hexdigest()[:10]}>"),
                    ("X-Attachment-Id", f"f_{hashlib.sha1(f.data).hexdigest()[:10]}")]
    return part(headers, b64(f.data))


# --------------------------------------------------------------------------
# Whole messages, by client
# --------------------------------------------------------------------------

_STYLE_HEADERS = {
    "gmail": [],
    "outlook": [("Thread-Topic", "Ho so"), ("Thread-Index", "Adn3oStbTdVQ"), ("X-MS-Has-Attach", "yes"),
                ("Content-Language", "vi-VN"), ("X-MS-TNEF-Correlator", "")],
    "thunderbird": [("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "vi")],
    "apple": [("X-Mailer", "Apple Mail (2.3731.700.6)")],
    "yahoo": [("X-Mailer", "WebService/1.1.21797 YMailNorrin")],
    "phone": [("X-Mailer", "Android Mail")],
    "legacy": [("X-Mailer", "Microsoft Outlook Express 6.00.2900.5931")],
}
_TEXT_ENCODING = {"gmail": "quoted-printable", "outlook": "base64", "thunderbird": "8bit",
                  "apple": "quoted-printable", "yahoo": "quoted-printable", "phone": "8bit", "legacy": "8bit"}
_SENDS_HTML = frozenset({"gmail", "outlook", "apple", "yahoo"})


def html_of(text: str, images: Sequence[File] = ()) -> str:
    """The HTML a client would send for ``text``, drawing ``images`` by cid."""
    paragraphs = "".join(f"<div>{line or '<br>'}</div>" for line in text.split("\n"))
    logos = "".join(f'<img src="cid:{f.cid}" alt="logo">' for f in images if f.referenced)
    return (f"<html><head><style>p {{margin:0}}</style><title>x</title></head>"
            f"<body>{paragraphs}{logos}</body></html>")


def build(style: str = "gmail", *, sender: str = SCHOOL, sender_name: str = SCHOOL_NAME,
          to: str = OFFICE, subject: str = "Hồ sơ đề nghị công nhận điển hình ANTQ",
          text: str = "Kính gửi Phòng Giáo dục và Đào tạo,\nTrường gửi hồ sơ đính kèm.",
          html: str | None = None, files: Sequence[File] = (), logo: bool = False,
          date: str = DATE, message_id: str | None = None,
          headers: Sequence[tuple[str, str | bytes]] = (), html_only: bool = False) -> bytes:
    """A whole message as client ``style`` writes it (see the module docstring).

    ``logo=True`` adds an inline signature image drawn by the HTML (which is
    not a document). ``headers`` are added after the standard ones.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; one of {STYLES}")
    images = [f for f in files if f.cid]
    if logo:
        images.append(File("image001.png", png_bytes(), cid="image001.png@01D9F7A1.2B3C4D50"))
    attached = [f for f in files if not f.cid]
    body = _body(style, text, html, images, html_only)
    if attached:
        body = multipart("mixed", [body] + [file_part(style, f) for f in attached])
    digest = hashlib.sha1(body).hexdigest()[:16]
    top = [("From", address(style, sender_name, sender)), ("To", to.encode()),
           ("Subject", header_value(style, subject)), ("Date", date),
           ("Message-ID", message_id or f"<{style}.{digest}@{sender.split('@')[-1]}>"),
           ("MIME-Version", "1.0"), *_STYLE_HEADERS[style], *headers]
    return b"".join(header(k, v) for k, v in top) + body


def _body(style: str, text: str, html: str | None, images: Sequence[File], html_only: bool) -> bytes:
    charset = "windows-1258" if style == "legacy" else "utf-8"
    cte = _TEXT_ENCODING[style]
    plain = text_part(text, "plain", charset, cte, "; format=flowed" if style == "thunderbird" else "")
    if html is None and (style not in _SENDS_HTML and not images and not html_only):
        return plain
    html_part = text_part(html if html is not None else html_of(text, images), "html", charset, cte)
    if images:
        html_part = multipart("related", [html_part] + [file_part(style, f) for f in images])
    if html_only:
        return html_part
    return multipart("alternative", [plain, html_part])


def gmail(**kw) -> bytes:
    """``build("gmail", ...)``."""
    return build("gmail", **kw)


def outlook(**kw) -> bytes:
    """``build("outlook", ...)``."""
    return build("outlook", **kw)


def thunderbird(**kw) -> bytes:
    """``build("thunderbird", ...)``."""
    return build("thunderbird", **kw)


def apple_mail(**kw) -> bytes:
    """``build("apple", ...)``."""
    return build("apple", **kw)


def yahoo(**kw) -> bytes:
    """``build("yahoo", ...)``."""
    return build("yahoo", **kw)


def phone(**kw) -> bytes:
    """``build("phone", ...)``: raw 8-bit UTF-8 headers."""
    return build("phone", **kw)


def with_headers(raw: bytes, headers: Sequence[tuple[str, str | bytes]]) -> bytes:
    """Prepend headers, as receiving servers do (Received, Authentication-Results...)."""
    return b"".join(header(k, v) for k, v in headers) + raw


# --------------------------------------------------------------------------
# Forwards
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Original:
    """The message being forwarded: sent 05/10/2023 09:32 (+07:00) by a school."""

    sender: str = SCHOOL
    name: str = SCHOOL_NAME
    subject: str = "Hồ sơ đề nghị công nhận"
    to: str = "hieutruong@gmail.com"
    text: str = "Kính gửi Phòng GD&ĐT,\nTrường gửi Tờ trình và Biên bản."


# Each client's forward header block; {name} {sender} {subject} {to} are filled in.
FORWARD_HEADERS = {
    "gmail": "---------- Forwarded message ---------\nFrom: {name} <{sender}>\n"
             "Date: Thu, Oct 5, 2023 at 9:32 AM\nSubject: {subject}\nTo: <{to}>\n",
    "gmail_vi": "---------- Tin nhắn đã chuyển tiếp ----------\nTừ: {name} <{sender}>\n"
                "Ngày: Th 5, 5 thg 10, 2023 vào lúc 09:32\nTiêu đề: {subject}\nĐến: <{to}>\n",
    "outlook": "________________________________\nFrom: {name} <{sender}>\n"
               "Sent: Thursday, October 5, 2023 9:32 AM\nTo: {to}\nSubject: {subject}\n",
    "outlook_classic": "-----Original Message-----\nFrom: {name} [mailto:{sender}]\n"
                       "Sent: Thursday, October 05, 2023 9:32 AM\nTo: {to}\nSubject: {subject}\n",
    "outlook_vi": "Từ: {name} <{sender}>\nĐã gửi: Thứ Năm, ngày 5 tháng 10 năm 2023 9:32 SA\n"
                  "Đến: {to}\nChủ đề: {subject}\n",
    "apple": "Begin forwarded message:\n\n> From: {name} <{sender}>\n> Subject: {subject}\n"
             "> Date: October 5, 2023 at 9:32:00 AM GMT+7\n> To: {to}\n",
    "thunderbird": "-------- Forwarded Message --------\nSubject: \t{subject}\n"
                   "Date: \tThu, 5 Oct 2023 09:32:00 +0700\nFrom: \t{name} <{sender}>\nTo: \t{to}\n",
    "thunderbird_vi": "-------- Thư đã chuyển tiếp --------\nChủ đề: \t{subject}\n"
                      "Ngày: \tThu, 5 Oct 2023 09:32:00 +0700\nTừ: \t{name} <{sender}>\nĐến: \t{to}\n",
    "yahoo": "----- Forwarded Message -----\nFrom: {name} <{sender}>\nTo: {to}\n"
             "Sent: Thursday, October 5, 2023, 09:32:00 AM GMT+7\nSubject: {subject}\n",
    "samsung": "-------- Original message --------\nFrom: {name} <{sender}>\n"
               "Date: 05/10/2023 09:32 (GMT+07:00)\nTo: {to}\nSubject: {subject}\n",
}
# The client style whose message carries each forward layout.
FORWARD_STYLE = {"gmail": "gmail", "gmail_vi": "gmail", "outlook": "outlook", "outlook_classic": "outlook",
                 "outlook_vi": "outlook", "apple": "apple", "thunderbird": "thunderbird",
                 "thunderbird_vi": "thunderbird", "yahoo": "yahoo", "samsung": "phone"}


def forward_body(layout: str, original: Original = Original(), note: str = "Chuyển tiếp hồ sơ.") -> str:
    """The text a client writes when forwarding inline (``FORWARD_HEADERS`` layouts)."""
    block = FORWARD_HEADERS[layout].format(name=original.name, sender=original.sender,
                                           subject=original.subject, to=original.to)
    quoted = original.text if layout != "apple" else "\n".join(f"> {line}" for line in original.text.split("\n"))
    return f"{note}\n\n{block}\n{quoted}\n"


def forward_inline(layout: str, original: Original = Original(), *, files: Sequence[File] = (),
                   sender: str = "nhanvien.vanthu@gmail.com", sender_name: str = "Văn thư",
                   subject_prefix: str = "Fwd: ") -> bytes:
    """A staff member forwarding a school's mail inline, in ``layout``'s words."""
    return build(FORWARD_STYLE[layout], sender=sender, sender_name=sender_name,
                 subject=subject_prefix + original.subject, text=forward_body(layout, original), files=files)


def forward_attached(inner: bytes, *, style: str = "thunderbird", sender: str = "nhanvien.vanthu@gmail.com",
                     subject: str = "Fwd: hồ sơ", text: str = "Chuyển tiếp thư của trường.",
                     filename: str = "Hồ sơ.eml", boundary: str | None = None) -> bytes:
    """``inner`` forwarded as a message/rfc822 attachment.

    ``boundary`` skips hashing ``inner`` for one (nesting a large mail many
    times over would otherwise hash it at every level).
    """
    name_param, filename_param = filename_params(style, filename)
    attached = part([("Content-Type", b"message/rfc822; " + name_param),
                     ("Content-Disposition", b"attachment; " + filename_param)], inner)
    body = multipart("mixed", [text_part(text, cte="8bit"), attached], boundary=boundary)
    message_id = f"<fwd.{boundary or hashlib.sha1(body).hexdigest()[:16]}@gmail.com>"
    top = [("From", sender), ("To", OFFICE), ("Subject", header_value(style, subject)), ("Date", DATE),
           ("Message-ID", message_id), ("MIME-Version", "1.0")]
    return b"".join(header(k, v) for k, v in top) + body


def nested_forward(depth: int, innermost: bytes) -> bytes:
    """``innermost`` forwarded as an attachment ``depth`` times over.

    The forward at level n (1 = outermost) has subject "Fwd level n".
    """
    raw = innermost
    for level in range(depth, 0, -1):
        raw = forward_attached(raw, subject=f"Fwd level {level}", filename=f"level{level}.eml",
                               boundary=f"fwd-level-{level}-of-{depth}")
    return raw


# --------------------------------------------------------------------------
# Automatic mail
# --------------------------------------------------------------------------

def auto_reply(headers: Sequence[tuple[str, str | bytes]], subject: str = "Re: Nhắc nộp hồ sơ",
               sender: str = SCHOOL, text: str = "Tôi đang nghỉ phép đến 15/10.") -> bytes:
    """A plain message from ``sender`` carrying the given automatic-mail headers."""
    return build("thunderbird", sender=sender, subject=subject, text=text, headers=headers)


def gmail_vacation() -> bytes:
    """Gmail's vacation responder: Auto-Submitted: auto-replied."""
    return build("gmail", subject="Thư trả lời tự động: Nhắc nộp hồ sơ", text="Tôi đang nghỉ phép.",
                 headers=[("Auto-Submitted", "auto-replied")])


def outlook_oof(language: str = "vi") -> bytes:
    """Exchange/Outlook Out-of-Office: no Auto-Submitted, only its own headers."""
    subject = "Trả lời tự động: Nhắc nộp hồ sơ" if language == "vi" else "Automatic reply: Reminder"
    return build("outlook", subject=subject, text="Tôi vắng mặt đến 15/10.",
                 headers=[("X-Auto-Response-Suppress", "All"), ("X-MS-Exchange-Inbox-Rules-Loop", SCHOOL)])


def postfix_bounce(failed: Sequence[str], original: bytes | None = None,
                   delivered: Sequence[str] = (), temporary: Sequence[str] = ()) -> bytes:
    """A Postfix non-delivery report (RFC 3464 multipart/report). ``temporary``:
    recipients Postfix gave up on after days of a temporary error (Action:
    failed, Status: 4.4.1)."""
    original = original or build("thunderbird", sender=OFFICE, to=", ".join([*failed, *temporary]),
                                 subject="Nhắc nộp hồ sơ", files=[File("Kế hoạch 887.pdf", pdf_bytes("KẾ HOẠCH"))])
    notice = "This is the mail system at host mail.hcm-edu.example.\n\nI'm sorry to have to inform you that your " \
             "message could not be delivered.\n\n" + "\n".join(f"<{a}>: host said: 550 5.1.1 User unknown"
                                                                 for a in failed)
    recipients = [(a, "failed", "5.1.1") for a in failed] + [(a, "delivered", "2.0.0") for a in delivered] \
        + [(a, "failed", "4.4.1") for a in temporary]
    status = "Reporting-MTA: dns; mail.hcm-edu.example\r\nX-Postfix-Queue-ID: 4S1abc\r\n" \
             "Arrival-Date: Thu,  5 Oct 2023 09:32:00 +0700 (ICT)\r\n" + "".join(
                 f"\r\nFinal-Recipient: rfc822; {a}\r\nOriginal-Recipient: rfc822;{a}\r\nAction: {action}\r\n"
                 f"Status: {code}\r\nDiagnostic-Code: smtp; 550 {code} User unknown\r\n"
                 for a, action, code in recipients)
    parts = [part([("Content-Description", "Notification"), ("Content-Type", "text/plain; charset=us-ascii")],
                  notice.replace("\n", "\r\n").encode()),
             part([("Content-Description", "Delivery report"), ("Content-Type", "message/delivery-status")],
                  status.encode()),
             part([("Content-Description", "Undelivered Message"), ("Content-Type", "message/rfc822")], original)]
    body = multipart("report", parts, params="; report-type=delivery-status")
    top = [("Return-Path", "<>"), ("From", "MAILER-DAEMON@mail.hcm-edu.example (Mail Delivery System)"),
           ("To", OFFICE), ("Subject", "Undelivered Mail Returned to Sender"),
           ("Auto-Submitted", "auto-replied"), ("Date", DATE),
           ("Message-ID", "<20231005023200.4S1abc@mail.hcm-edu.example>"), ("MIME-Version", "1.0")]
    return b"".join(header(k, v) for k, v in top) + body


def exim_bounce(failed: Sequence[str]) -> bytes:
    """A non-standard bounce (Exim/Gmail style): plain text plus X-Failed-Recipients."""
    return build("thunderbird", sender="mailer-daemon@googlemail.com", sender_name="Mail Delivery Subsystem",
                 subject="Delivery Status Notification (Failure)",
                 text="Address not found\n\nYour message wasn't delivered to " + ", ".join(failed),
                 headers=[("X-Failed-Recipients", ", ".join(failed))])


def read_receipt() -> bytes:
    """An RFC 8098 read receipt (multipart/report; disposition-notification)."""
    parts = [text_part("Thư của bạn đã được đọc."),
             part([("Content-Type", "message/disposition-notification")],
                  b"Reporting-UA: mail.hcm-edu.example\r\nFinal-Recipient: rfc822;" + SCHOOL.encode()
                  + b"\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n")]
    body = multipart("report", parts, params="; report-type=disposition-notification")
    top = [("From", SCHOOL), ("To", OFFICE), ("Subject", "Read: Nhắc nộp hồ sơ"), ("Date", DATE),
           ("MIME-Version", "1.0")]
    return b"".join(header(k, v) for k, v in top) + body


# --------------------------------------------------------------------------
# ZIP archives
# --------------------------------------------------------------------------

def zip_bytes(members: Sequence[tuple[str, bytes]], names: str = "utf-8",
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP archive; ``names`` says how member names are stored:

    ``utf-8``        UTF-8 with the language-encoding flag (7-Zip, Python)
    ``utf-8-noflag`` UTF-8 bytes without the flag (Linux zip, Java)
    ``mac``          NFD UTF-8 bytes without the flag (macOS Archive Utility)
    ``cp1258``       Windows-1258 bytes without the flag (Vietnamese Windows)

    Without the flag every reader that follows the spec shows cp437
    mojibake ("Tß╗¥ tr├¼nh.pdf"): that is what the parser must undo.
    """
    encoders = {"utf-8-noflag": lambda n: n.encode("utf-8"),
                "mac": lambda n: unicodedata.normalize("NFD", n).encode("utf-8"),
                "cp1258": to_cp1258}
    buffer = io.BytesIO()
    raw_names = []

    def member(name: str) -> zipfile.ZipInfo:
        # A fixed timestamp: the same members give the same bytes whenever the
        # test runs (writestr(name) would stamp the current second).
        info = zipfile.ZipInfo(name, date_time=(2023, 10, 1, 8, 0, 0))
        info.compress_type = compression
        return info

    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for index, (name, data) in enumerate(members):
            if names == "utf-8" or name.isascii():
                archive.writestr(member(name), data)
                continue
            raw = encoders[names](name)
            placeholder = f"@{index:03d}".ljust(len(raw), "_")  # same length, ASCII, unique
            raw_names.append((placeholder.encode(), raw))
            archive.writestr(member(placeholder), data)
    out = buffer.getvalue()
    for placeholder, raw in raw_names:  # names are not covered by any CRC
        assert out.count(placeholder) == 2, "placeholder must appear in local and central header"
        out = out.replace(placeholder, raw)
    return out


def zip_bomb(size: int = 200 * MB, name: str = "zeros.txt") -> bytes:
    """A ZIP with one member of ``size`` zero bytes, deflated about 1000:1.

    Deflating 200 MB takes seconds, so one 1 MB chunk is compressed once,
    ending in a full flush (which resets the compressor, so every further
    chunk would deflate to the same bytes) and repeated; the headers are
    written here. Sizes are declared honestly; ``patch_zip`` makes them lie.
    """
    assert size < 2**32, "no ZIP64 here"
    count, tail = divmod(size, MB)
    zeros = bytes(MB)
    probe = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = probe.compress(zeros) + probe.flush(zlib.Z_FULL_FLUSH)
    assert probe.compress(zeros) + probe.flush(zlib.Z_FULL_FLUSH) == block  # the premise
    last = zlib.compressobj(9, zlib.DEFLATED, -15)  # after a full flush a fresh stream may follow
    data = block * count + last.compress(bytes(tail)) + last.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(tail), crc)
    raw_name = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size,
                        len(raw_name), 0) + raw_name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data),
                          size, len(raw_name), 0, 0, 0, 0, 0, 0) + raw_name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def patch_zip(data: bytes, member: str, *, file_size: int | None = None,
              compress_size: int | None = None, set_flags: int = 0) -> bytes:
    """Rewrite a member's headers (local and central) to lie about it.

    ``file_size``/``compress_size`` replace the declared sizes; ``set_flags``
    ORs general-purpose flags (0x1 marks the member encrypted).
    """
    out = bytearray(data)
    target = member.encode()
    _patch_headers(out, b"PK\x03\x04", 26, 28, 30, 6, 18, 22, target, file_size, compress_size, set_flags)
    _patch_headers(out, b"PK\x01\x02", 28, 30, 46, 8, 20, 24, target, file_size, compress_size, set_flags)
    return bytes(out)


def _patch_headers(out: bytearray, signature: bytes, name_len_at: int, extra_len_at: int, name_at: int,
                   flags_at: int, csize_at: int, usize_at: int, target: bytes,
                   file_size: int | None, compress_size: int | None, set_flags: int) -> None:
    pos = out.find(signature)
    while pos >= 0:
        name_len = struct.unpack_from("<H", out, pos + name_len_at)[0]
        if bytes(out[pos + name_at:pos + name_at + name_len]) == target:
            flags = struct.unpack_from("<H", out, pos + flags_at)[0]
            struct.pack_into("<H", out, pos + flags_at, flags | set_flags)
            if compress_size is not None:
                struct.pack_into("<I", out, pos + csize_at, compress_size)
            if file_size is not None:
                struct.pack_into("<I", out, pos + usize_at, file_size)
        pos = out.find(signature, pos + 4)


# --------------------------------------------------------------------------
# TNEF (winmail.dat)
# --------------------------------------------------------------------------

def tnef_bytes(files: Sequence[tuple[str, bytes]], codepage: int = 1258, long_names: bool = True) -> bytes:
    """A winmail.dat as Outlook writes it, holding ``files``.

    The short title is in the OEM ``codepage`` (8.3-ish); with ``long_names``
    the real name is also stored as a MAPI Unicode property, as Outlook does.
    """
    def attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
        return (struct.pack("<BHHI", level, attr_id, attr_type, len(data)) + data
                + struct.pack("<H", sum(data) & 0xFFFF))

    out = struct.pack("<IH", 0x223E9F78, 0x1234)
    out += attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attr(1, 0x9007, 0x0006, struct.pack("<II", codepage, 0))  # attOemCodepage
    out += attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    for name, data in files:
        out += attr(2, 0x9002, 0x0006, bytes(14))  # attAttachRendData starts an attachment
        title = (to_cp1258(name) if codepage == 1258 else name.encode(f"cp{codepage}", "replace")) + b"\x00"
        out += attr(2, 0x8010, 0x0001, title)  # attAttachTitle
        out += attr(2, 0x800F, 0x0006, data)  # attAttachData
        if long_names:
            out += attr(2, 0x9005, 0x0006, _mapi_unicode(0x3707, name))  # PR_ATTACH_LONG_FILENAME
    return out


def _mapi_unicode(prop_id: int, text: str) -> bytes:
    value = (text + "\x00").encode("utf-16-le")
    padding = bytes(-len(value) % 4)
    return struct.pack("<IHHII", 1, 0x001F, prop_id, 1, len(value)) + value + padding



# --------------------------------------------------------------------------
# Outlook .msg (an OLE compound file of MAPI properties)
# --------------------------------------------------------------------------

def ole_file(streams: dict[str, bytes]) -> bytes:
    """A compound file (MS-CFB version 3, 512-byte sectors) holding ``streams``,
    named by path ("storage/stream"). Streams under 4096 bytes live in the
    mini stream, as in every real file; siblings are chained to the right."""
    sect, mini_sect, end, free, fat_sect, none = 512, 64, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    nodes: list[dict] = [{"name": "Root Entry", "type": 5, "kids": [], "data": b"", "start": end, "size": 0}]
    index: dict[str, int] = {}
    for path, data in streams.items():
        parts, parent = path.split("/"), 0
        for depth, name in enumerate(parts):
            key = "/".join(parts[:depth + 1])
            if key not in index:
                stream = depth == len(parts) - 1
                nodes.append({"name": name, "type": 2 if stream else 1, "kids": [], "data": data if stream else b"",
                              "start": end if stream else 0, "size": 0})
                index[key] = len(nodes) - 1
                nodes[parent]["kids"].append(index[key])
            parent = index[key]
    mini, minifat, big = bytearray(), [], []
    for i, node in enumerate(nodes):
        if node["type"] != 2:
            continue
        data = node["data"]
        node["size"] = len(data)
        if len(data) >= 4096:
            big.append(i)
        elif data:
            start, count = len(mini) // mini_sect, -(-len(data) // mini_sect)
            node["start"] = start
            minifat += [start + k + 1 for k in range(count - 1)] + [end]
            mini += data + bytes(-len(data) % mini_sect)

    def sectors(size: int) -> int:
        return -(-size // sect)

    counts = [sectors(128 * len(nodes)), sectors(4 * len(minifat)), sectors(len(mini))]
    counts += [sectors(len(nodes[i]["data"])) for i in big]
    nfat = 1
    while nfat + sum(counts) > nfat * (sect // 4):
        nfat += 1
    fat, starts, at = [fat_sect] * nfat, [], nfat
    for count in counts:
        starts.append(at if count else end)
        fat += [at + k + 1 for k in range(count - 1)] + [end] if count else []
        at += count
    fat += [free] * (nfat * (sect // 4) - len(fat))
    dir_start, minifat_start, mini_start = starts[:3]
    for i, start in zip(big, starts[3:]):
        nodes[i]["start"] = start
    nodes[0]["start"], nodes[0]["size"] = mini_start, len(mini)
    links = {}  # node -> (left, right, child)
    for i, node in enumerate(nodes):
        kids = node["kids"]
        links.setdefault(i, [none, none, none])[2] = kids[0] if kids else none
        for a, b in zip(kids, kids[1:] + [none]):
            links.setdefault(a, [none, none, none])[1] = b
    directory = bytearray()
    for i, node in enumerate(nodes):
        name = node["name"].encode("utf-16-le") + b"\0\0"
        left, right, child = links.get(i, [none, none, none])
        directory += (name.ljust(64, b"\0") + struct.pack("<HBBIII", len(name), node["type"], 1, left, right, child)
                      + bytes(36) + struct.pack("<IQ", node["start"], node["size"]))
    directory += bytes(-len(directory) % sect)
    big_data = b"".join(nodes[i]["data"] + bytes(-len(nodes[i]["data"]) % sect) for i in big)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, nfat, dir_start, 0, 4096, minifat_start, len(minifat) and
                            sectors(4 * len(minifat)), end, 0)
              + struct.pack("<109I", *(list(range(nfat)) + [free] * (109 - nfat))))
    body = (struct.pack(f"<{len(fat)}I", *fat) + bytes(directory)
            + struct.pack(f"<{len(minifat)}I", *minifat) + bytes(-4 * len(minifat) % sect)
            + bytes(mini) + bytes(-len(mini) % sect) + big_data)
    return header + body


def outlook_msg(*, subject: str = "Hồ sơ đề nghị công nhận", body: str = "Kính gửi Phòng,\nTrường gửi hồ sơ.",
                sender: str = SCHOOL, sender_name: str = SCHOOL_NAME, to: str = OFFICE,
                transport_headers: str | None = None, files: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """An Outlook .msg as Outlook saves it (File > Save As): MAPI properties
    as streams "__substg1.0_<id><type>", each attachment in its own storage."""
    def text(prop: int) -> str:
        return f"__substg1.0_{prop:04X}001F"

    streams = {"__properties_version1.0": bytes(32), text(0x0037): subject.encode("utf-16-le"),
               text(0x1000): body.encode("utf-16-le"), text(0x0C1A): sender_name.encode("utf-16-le"),
               text(0x0C1F): sender.encode("utf-16-le"), text(0x5D01): sender.encode("utf-16-le"),
               text(0x0E04): to.encode("utf-16-le"),
               f"__recip_version1.0_#00000000/{text(0x39FE)}": to.encode("utf-16-le")}
    if transport_headers is not None:
        streams[text(0x007D)] = transport_headers.replace("\n", "\r\n").encode("utf-16-le")
    for i, (name, data) in enumerate(files):
        storage = f"__attach_version1.0_#{i:08X}"
        streams[f"{storage}/__properties_version1.0"] = bytes(8)
        streams[f"{storage}/{text(0x3707)}"] = name.encode("utf-16-le")
        streams[f"{storage}/__substg1.0_37010102"] = data
    return ole_file(streams)
