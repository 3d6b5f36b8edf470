"""A corpus of broken and hostile email, each with the outcome a coordinator must see.

Built on tests/mailfactory.py (client styles, ZIPs, bombs, forwards) and
tests/docfactory.py (real PDF and DOCX); what they do not offer is built
here: PDFs with reference loops and huge pages, malformed MIME, junk.
Deterministic: no clock, no randomness (seeded where bytes must look random).

Quick use::

    from tests import hostile
    for case in hostile.corpus():
        print(case.label, case.outcome, case.reason)
    goods = hostile.good_messages(20)          # (label, raw) pairs, each counted
    mixed = hostile.interleave(hostile.corpus(), goods)

Outcomes (``Case.outcome``), all read from the state after a full poll:

==============  ==============================================================
``review``      an item of the message is in review, ``reason`` found in its reasons
``counted``     an item of the message is counted (the mail is hostile in its
                headers or names, its document is fine)
``item``        an item of the message has ``reason`` in its reasons, whatever
                its decision
``quarantined`` the message is quarantined with ``reason`` in its error
``done``        processed; nothing in it to show (junk without a sender)
==============  ==============================================================

``reason`` is a regular expression searched ignoring case; reasons are being
translated to Vietnamese, so most accept both wordings. ``filename`` names
the item that must carry the outcome (None: any item).
"""
from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from . import docfactory as df
from . import mailfactory as mf

MB = mf.MB
OFFICE = mf.OFFICE
# Reasons are shown to the coordinator and are being translated to Vietnamese:
# the expected texts below accept both wordings.
ZIP_BOMB = r"ZIP rejected|ZIP bị từ chối|200[.,]0 MB"
# The authserv-id of the office's receiving server: a run of the corpus sets
# ``[mailbox] trusted_authserv_ids`` to it, so only its Authentication-Results count.
TRUSTED_AUTHSERV = "mx.q12.example.vn"
SENDER_TRUST = "sender authentication failed|xác thực người gửi"
DAMAGED_PDF = "damaged PDF|PDF bị hỏng"


@dataclass(frozen=True)
class Case:
    label: str  # unique; also the local part of the Message-ID
    hostile: str  # what is wrong with it
    raw: bytes
    outcome: str  # review | counted | item | quarantined | done
    reason: str = ""  # a regular expression searched (ignoring case) in the item's reasons or the error
    filename: str | None = None


# --------------------------------------------------------------------------
# Good mail: real documents of roster schools, each one counted
# --------------------------------------------------------------------------

# (sender address, sender name, issuer line, short issuer code)
SCHOOLS = (
    ("thcsnguyenhien.q12@hcm-edu.example", "THCS Nguyễn Hiền", "TRƯỜNG THCS NGUYỄN HIỀN", "THCSNH"),
    ("thnguyentrai.q12@hcm-edu.example", "TH Nguyễn Trãi", "TRƯỜNG TIỂU HỌC NGUYỄN TRÃI", "THNT"),
    ("thcsphanboichau.q12@hcm-edu.example", "THCS Phan Bội Châu", "TRƯỜNG THCS PHAN BỘI CHÂU", "THCSPBC"),
    ("mnhoasen.q12@hcm-edu.example", "MN Hoa Sen", "TRƯỜNG MẦM NON HOA SEN", "MNHS"),
    ("thcsanphudong.q12@hcm-edu.example", "THCS An Phú Đông", "TRƯỜNG THCS AN PHÚ ĐÔNG", "THCSAPD"),
    ("thkimdong.q12@hcm-edu.example", "TH Kim Đồng", "TRƯỜNG TIỂU HỌC KIM ĐỒNG", "THKD"),
)
TOPIC = "phong trào toàn dân bảo vệ an ninh Tổ quốc"
# (title, number code, subject line, file name)
DOCUMENTS = (
    ("TỜ TRÌNH", "TTr", f"Về việc đề nghị công nhận cơ sở giáo dục điển hình về {TOPIC}", "Tờ trình.pdf"),
    ("BÁO CÁO", "BC", f"Kết quả xây dựng đơn vị điển hình về {TOPIC}", "Báo cáo.pdf"),
    ("BIÊN BẢN", "BB", f"Họp xét, đề nghị công nhận đơn vị điển hình về {TOPIC}", "Biên bản.pdf"),
)


def school_doc(n: int, title_index: int | None = None) -> df.OfficialDoc:
    """The n-th distinct official document (distinct number, so distinct bytes)."""
    _, _, issuer, code = SCHOOLS[n % len(SCHOOLS)]
    title, number_code, subject, _ = DOCUMENTS[(n // len(SCHOOLS)) % 3 if title_index is None else title_index]
    return df.OfficialDoc(title=title, number=f"Số: {100 + n}/{number_code}-{code}", subject=subject,
                          issuer=issuer)


@lru_cache(maxsize=None)
def good_pdf(n: int, title_index: int | None = None) -> bytes:
    return df.official_pdf([school_doc(n, title_index)])


def good_mail(n: int, *, label: str | None = None, style: str | None = None, files=None, **kw) -> bytes:
    """A school's submission with one real document; ``files`` replaces the document."""
    sender, name, _, _ = SCHOOLS[n % len(SCHOOLS)]
    filename = DOCUMENTS[(n // len(SCHOOLS)) % 3][3]
    style = style or mf.STYLES[n % len(mf.STYLES)]
    kw.setdefault("subject", "Hồ sơ đề nghị công nhận điển hình ANTQ")
    kw.setdefault("text", "Kính gửi Phòng Giáo dục và Đào tạo,\nTrường gửi hồ sơ đính kèm.")
    return mf.build(style, sender=sender, sender_name=name, message_id=f"<{label or f'good-{n}'}@hostile.test>",
                    files=[mf.File(filename, good_pdf(n))] if files is None else files, **kw)


def good_messages(count: int, start: int = 0) -> list[tuple[str, bytes]]:
    """``count`` good submissions as (label, raw); each must end up counted."""
    return [(f"good-{n}", good_mail(n)) for n in range(start, start + count)]


def interleave(cases: list[Case], goods: list[tuple[str, bytes]]) -> list[tuple[str, bytes, Case | None]]:
    """Good and hostile mail mixed: (label, raw, case or None for a good one)."""
    out: list[tuple[str, bytes, Case | None]] = []
    good = iter(goods)
    for index, case in enumerate(cases):
        if index % 2 == 0:
            label, raw = next(good, (None, None))
            if raw is not None:
                out.append((label, raw, None))
        out.append((case.label, case.raw, case))
    out.extend((label, raw, None) for label, raw in good)
    return out


# --------------------------------------------------------------------------
# Building blocks that mailfactory does not have
# --------------------------------------------------------------------------

def mail(label: str, parts: list[bytes] | None = None, *, body: bytes | None = None,
         sender: str = SCHOOLS[0][0], subject: str | bytes = "Hồ sơ đề nghị công nhận",
         headers: list[tuple[str, str | bytes]] = (), content_type: str | None = None) -> bytes:
    """A hand-assembled message: the text part plus ``parts`` in a multipart/mixed,
    or ``body`` as it is (with ``content_type``) for malformed structures."""
    top = [("From", sender), ("To", OFFICE),
           ("Subject", subject if isinstance(subject, bytes) else mf.header_value("gmail", subject)),
           ("Date", mf.DATE), ("Message-ID", f"<{label}@hostile.test>"), ("MIME-Version", "1.0"), *headers]
    if body is None:
        text = mf.text_part("Kính gửi Phòng GD&ĐT,\nTrường gửi hồ sơ đính kèm.")
        body = mf.multipart("mixed", [text, *(parts or [])])
    elif content_type:
        top.append(("Content-Type", content_type))
    return b"".join(mf.header(k, v) for k, v in top) + (b"" if content_type is None else mf.CRLF) + body


def named(filename: str) -> bytes:
    """A plain ``filename="..."`` parameter, raw UTF-8 (as phone clients write it)."""
    return f'filename="{filename}"'.encode()


def attachment(filename_param: bytes, data: bytes, content_type: str = "application/pdf",
               cte: str = "base64") -> bytes:
    """An attachment part whose Content-Disposition parameter is given raw (for hostile names)."""
    body = mf.b64(data) if cte == "base64" else data
    return mf.part([("Content-Type", content_type.encode()),
                    ("Content-Disposition", b"attachment; " + filename_param),
                    ("Content-Transfer-Encoding", cte)], body)


def raw_pdf(objects: list[bytes], *, prev_loop: bool = False) -> bytes:
    """A PDF written object by object, with a correct xref table.

    ``objects[i]`` is the body of object i+1; object 1 is the catalog.
    ``prev_loop`` makes the trailer's /Prev point at its own xref table.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1)
    out += (b"/Prev %d " % xref) if prev_loop else b""
    out += b">>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(content), extra) + content + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 14 Tf 72 700 Td (BAO CAO ket qua xay dung don vi dien hinh) Tj ET"


def _page(box: bytes = b"0 0 612 792", resources: bytes = b"<< /Font << /F1 5 0 R >> >>") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox [" + box + b"] /Contents 4 0 R /Resources " + resources + b" >>"


def pdf_page_tree_loop() -> bytes:
    """The page tree contains itself: Pages -> Kids -> the same Pages."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 1 /Parent 2 0 R >>"])


def pdf_reference_loops() -> bytes:
    """A stream whose /Length is itself, resources that draw themselves, /Prev to itself."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    _page(resources=b"6 0 R"),
                    b"<< /Length 4 0 R >>\nstream\nq /X1 Do Q " + _TEXT + b"\nendstream", _FONT,
                    b"<< /Font << /F1 5 0 R >> /XObject << /X1 7 0 R >> >>",
                    pdf_stream(b"/X1 Do", b"/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources 6 0 R ")],
                   prev_loop=True)


def pdf_huge_page(scan: bool) -> bytes:
    """A 200 x 200 inch page (PDF's largest): text, or one page-sized image (a "scan":
    rendered for OCR at 200 dpi it would be 1.6 billion pixels)."""
    box = b"0 0 14400 14400"
    if not scan:
        text = b"BT /F1 24 Tf 72 14000 Td (BAO CAO ket qua xay dung don vi dien hinh ve ANTQ nam hoc 2022-2023) Tj ET"
        return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        _page(box), pdf_stream(text), _FONT])
    image = pdf_stream(b"\xc0", b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                                b"/BitsPerComponent 8 ")
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    _page(box, b"<< /XObject << /Im1 5 0 R >> >>"),
                    pdf_stream(b"q 14400 0 0 14400 0 0 cm /Im1 Do Q"), image])


def pdf_many_pages(pages: int) -> bytes:
    """``pages`` pages sharing one content stream (a few bytes each)."""
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               b"<< >>", pdf_stream(_TEXT), _FONT]
    objects += [_page() for _ in range(pages)]
    return raw_pdf(objects)


def small_pdf(n: int) -> bytes:
    """A tiny PDF with one line of text of its own (distinct bytes, so each is read once):
    for bulk tests where hundreds of documents must be built in milliseconds."""
    text = b"BT /F1 14 Tf 72 700 Td (BAO CAO so %d ket qua xay dung don vi dien hinh ANTQ) Tj ET" % n
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    _page(), pdf_stream(text), _FONT])


def bulk_mail(n: int) -> bytes:
    """The n-th of many small submissions: one school, one tiny PDF, its own Message-ID."""
    sender, name, _, _ = SCHOOLS[n % len(SCHOOLS)]
    return mf.build(mf.STYLES[n % len(mf.STYLES)], sender=sender, sender_name=name,
                    subject=f"Hồ sơ ANTQ lần {n}", message_id=f"<bulk-{n}@hostile.test>",
                    files=[mf.File(f"Báo cáo {n}.pdf", small_pdf(n))])


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels (10 billion), a few bytes long."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def docx_bomb(size: int = 300 * MB) -> bytes:
    """A DOCX whose document.xml unpacks to ``size`` bytes (mailfactory's zip bomb, renamed)."""
    return mf.zip_bomb(size, name="word/document.xml")


def nested_zip(levels: int, inner: bytes) -> bytes:
    data, name = inner, "Tờ trình.pdf"
    for level in range(levels):
        data, name = mf.zip_bytes([(name, data)]), f"level{level}.zip"
    return data


def deep_multipart(depth: int) -> bytes:
    """``depth`` multipart/mixed containers inside each other, a document at the bottom."""
    body = mf.part([("Content-Type", "text/plain; charset=utf-8")], "đáy".encode())
    for level in range(depth):
        boundary = f"d{level}"
        body = (f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'.encode()
                + body + f"\r\n--{boundary}--\r\n".encode())
    return body


def jpeg_bytes() -> bytes:
    from PIL import Image
    import io

    buf = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buf, format="JPEG")
    return buf.getvalue()


def seeded(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------

def corpus(*, oversized: bool = False) -> list[Case]:
    """Every hostile case. ``oversized`` adds a 1.5 MB message, for a run whose
    ``mailbox.max_message_mb`` is 1 (every other case is far below that)."""
    pdf = good_pdf(0)
    docx = df.official_docx(school_doc(1))
    cases: list[Case] = []

    def add(label, hostile, raw, outcome, reason="", filename=None):
        cases.append(Case(label, hostile, raw, outcome, reason, filename))

    # -- MIME structure ----------------------------------------------------
    whole = good_mail(0, label="truncated-mime", style="gmail")
    add("truncated-mime", "cut off in the middle of the PDF's base64 (no closing boundary)",
        whole[: int(len(whole) * 0.7)], "item", "cut short|thư bị hỏng")
    add("no-boundary", "multipart/mixed without a boundary parameter",
        mail("no-boundary", body=b"--x\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--x--\r\n",
             content_type="multipart/mixed"), "review", "without a boundary|thư bị hỏng")
    add("deep-multipart", "multipart nested 1,000 deep",
        mail("deep-multipart", body=deep_multipart(1000), content_type=None), "review", "nested too deeply|thư bị hỏng")
    inner = good_mail(2, label="nested-inner", style="thunderbird")
    nested = mf.nested_forward(100, inner).replace(b"<fwd.fwd-level-1-of-100@gmail.com>",
                                                   b"<nested-rfc822@hostile.test>")
    add("nested-rfc822", "a message/rfc822 forwarded 100 deep", nested, "review", "nested too deep|lồng")
    damaged = mf.part([("Content-Type", "application/pdf"),
                       ("Content-Disposition", b"attachment; " + named("Tờ trình.pdf")),
                       ("Content-Transfer-Encoding", "base64")], b"JVBERi0xLjQK!!!@@@###\r\nAAA=A\r\n")
    add("base64-damaged", "the PDF's base64 has junk characters and lost padding",
        mail("base64-damaged", [damaged]), "item", "base64")
    add("message-partial", "message/partial (a mail split in pieces)",
        mail("message-partial", [mf.part([("Content-Type", 'message/partial; id="abc"; number=1; total=3')],
                                         b"Subject: part one\r\n\r\n" + seeded(300, 1).hex().encode())]),
        "review", "message/partial")
    add("smime-encrypted", "an S/MIME encrypted body",
        mail("smime-encrypted", body=mf.b64(seeded(2000, 2)),
             content_type='application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'),
        "review", "S/MIME")
    add("junk-bytes", "8 KB of random bytes, no header at all", seeded(8192, 3), "done")
    add("only-headers", "headers cut off before the body", mail("only-headers", [attachment(
        b'filename="a.pdf"', pdf)])[:400], "review", "cut short|thư bị hỏng")

    # -- headers and charsets ---------------------------------------------
    add("eight-bit-headers", "raw UTF-8 bytes in Subject, From and file name (phone client)",
        good_mail(3, label="eight-bit-headers", style="phone"), "counted")
    add("cp1258-headers", "raw Windows-1258 bytes in headers and body (old Outlook Express)",
        good_mail(4, label="cp1258-headers", style="legacy"), "counted")
    unknown = good_mail(5, label="unknown-charset", style="gmail",
                        subject="Hồ sơ đề nghị công nhận", text="Kính gửi Phòng, trường gửi hồ sơ.")
    unknown = unknown.replace(b'charset="utf-8"', b'charset="x-viet-nonexistent"').replace(
        b"Subject: =?utf-8?", b"Subject: =?x-unknown-vn?")
    add("unknown-charset", "body and subject in charsets nobody knows", unknown, "counted")
    wrong = good_mail(0, label="wrong-charset", style="thunderbird").replace(b'charset="utf-8"',
                                                                             b'charset="iso-8859-1"')
    add("wrong-charset", "UTF-8 text labelled ISO-8859-1", wrong, "counted")
    add("nul-in-headers", "NUL and control bytes in Subject and From",
        good_mail(1, label="nul-in-headers", style="gmail", subject="Hồ sơ\x00\x1b[31m ANTQ",
                  headers=[("X-Junk", b"\x00\x01\x02\xff\xfe")]), "counted")
    add("header-flood", "5,000 Received headers and a 200 KB Subject",
        mf.with_headers(good_mail(2, label="header-flood", style="gmail"),
                        [("Received", f"from relay{i}.example by mx; Thu, 5 Oct 2023 09:32:00 +0700")
                         for i in range(5000)] + [("X-Long", "x" * 200_000)]), "counted")
    spoof = mf.with_headers(good_mail(0, label="dmarc-fail", style="gmail"), [(
        "Authentication-Results", f"{TRUSTED_AUTHSERV}; spf=fail smtp.mailfrom={SCHOOLS[0][0]}; dkim=none; "
                                  "dmarc=fail (p=NONE) header.from=hcm-edu.example")])
    add("dmarc-fail", "a roster address forged: DMARC and SPF fail", spoof, "review", SENDER_TRUST)
    unaligned = mf.with_headers(good_mail(1, label="dkim-unaligned", style="outlook"), [(
        "Authentication-Results", f"{TRUSTED_AUTHSERV}; spf=fail smtp.mailfrom=hcm-edu.example; "
                                  "dkim=pass header.d=evil.example; dmarc=none")])
    add("dkim-unaligned", "a roster address forged: SPF fails, the only DKIM pass is the attacker's own domain",
        unaligned, "review", SENDER_TRUST)
    elsewhere = mf.with_headers(good_mail(2, label="dmarc-pass-elsewhere", style="gmail"), [
        ("Authentication-Results", f"{TRUSTED_AUTHSERV}; spf=fail smtp.mailfrom=hcm-edu.example; dkim=none; "
                                   "dmarc=pass header.from=evil.example"),
        ("Authentication-Results", "mx.hcm-edu.example; spf=pass smtp.mailfrom=hcm-edu.example; dkim=pass header.d=hcm-edu.example; "
                                   "dmarc=pass header.from=hcm-edu.example")])  # written by the sender: ignored
    add("dmarc-pass-elsewhere", "a roster address forged: DMARC passes for another domain, SPF fails, and a "
        "forged header from an untrusted server says everything passed", elsewhere, "review", SENDER_TRUST)

    # -- file names --------------------------------------------------------
    add("name-header-injection", "CR LF and a Bcc header injected in the file name (RFC 2231)",
        mail("name-header-injection", [attachment(b"filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%0D%0ABcc%3A%20"
                                                  b"victim%40evil.example%0D%0A.pdf", pdf)]),
        "counted", "tiêu đề 'TỜ TRÌNH'", "Tờ trìnhBcc: victim@evil.example.pdf")  # one line: no header injected
    add("name-nul-traversal", "NUL bytes and ../ path traversal in the file name",
        mail("name-nul-traversal", [attachment(b'filename="../../../../etc/cron.d/x\x00y.pdf"', pdf)]),
        "counted", "tiêu đề 'TỜ TRÌNH'")  # stored by hash; the NUL is dropped (Dovecot turns it into 0x80 first)
    add("name-reserved", "Windows reserved names (CON, NUL.pdf, aux) as file names",
        mail("name-reserved", [attachment(b'filename="CON"', pdf), attachment(b'filename="NUL.pdf"', docx,
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
             attachment(b'filename="aux.docx"', b"")]), "review", "empty file|tệp rỗng", "aux.docx")
    add("name-very-long", "a 5,000-character file name",
        mail("name-very-long", [attachment(b'filename="' + "Tờ trình ".encode() * 550 + b'.pdf"', pdf)]),
        "counted", "tiêu đề 'TỜ TRÌNH'")
    add("name-bidi", "a right-to-left override disguising an .exe as .pdf",
        mail("name-bidi", [attachment("filename*=UTF-8''hoso%E2%80%AEfdp.exe".encode(), b"MZ" + seeded(500, 4),
                                      "application/octet-stream")]),
        "review", "unrecognised|không nhận ra", "hosofdp.exe")

    # -- archives ----------------------------------------------------------
    bomb = mf.zip_bomb(200 * MB)
    add("zip-bomb", "a 200 KB ZIP that expands to 200 MB",
        mail("zip-bomb", [attachment(b'filename="hoso.zip"', bomb, "application/zip")]), "review", ZIP_BOMB)
    add("zip-bomb-lying", "a ZIP bomb whose header declares 1 KB",
        mail("zip-bomb-lying", [attachment(b'filename="hoso.zip"', mf.patch_zip(bomb, "zeros.txt", file_size=1000),
                                           "application/zip")]), "review", "CRC")
    add("zip-bomb-beside-good", "a good PDF and a ZIP bomb in one mail: the PDF counts, the bomb is shown",
        good_mail(1, label="zip-bomb-beside-good", style="outlook",
                  files=[mf.File(DOCUMENTS[0][3], good_pdf(1)), mf.File("hoso.zip", bomb)]),
        "review", ZIP_BOMB, "hoso.zip")
    add("zip-many-members", "a ZIP of 5,000 files",
        mail("zip-many-members", [attachment(b'filename="hoso.zip"',
                                             mf.zip_bytes([(f"f{i}.txt", b"x") for i in range(5000)]),
                                             "application/zip")]), "review", "5000")
    add("zip-nested", "ZIPs nested five deep",
        mail("zip-nested", [attachment(b'filename="hoso.zip"', nested_zip(5, pdf), "application/zip")]),
        "review", "ZIP nested too deep|ZIP.*lồng")
    encrypted = mf.patch_zip(mf.zip_bytes([("Tờ trình.pdf", pdf), ("ok.txt", b"BAO CAO")]), "Tờ trình.pdf",
                             set_flags=0x1)
    add("zip-encrypted-member", "a password-protected ZIP member",
        mail("zip-encrypted-member", [attachment(b'filename="hoso.zip"', encrypted, "application/zip")]),
        "review", "encrypted|password|mật khẩu|mã hóa")
    add("zip-traversal", "ZIP members named ../../../etc/passwd and /abs/path",
        mail("zip-traversal", [attachment(b'filename="hoso.zip"', mf.zip_bytes(
            [("../../../etc/passwd", b"root:x:0:0"), ("/abs/Tờ trình.pdf", pdf)]), "application/zip")]),
        "counted", "tiêu đề 'TỜ TRÌNH'", "Tờ trình.pdf")  # the path is dropped, the document still counts
    add("zip-corrupt", "a ZIP cut in half",
        mail("zip-corrupt", [attachment(b'filename="hoso.zip"', mf.zip_bytes([("a.pdf", pdf)])[:3000],
                                        "application/zip")]), "review", "not a zip file")
    add("rar", "a RAR archive", mail("rar", [attachment(b'filename="hoso.rar"', b"Rar!\x1a\x07\x00" + seeded(400, 5),
                                                        "application/x-rar-compressed")]),
        "review", "rar")
    add("tnef-garbage", "a winmail.dat of random bytes",
        mail("tnef-garbage", [attachment(b'filename="winmail.dat"', seeded(3000, 6), "application/ms-tnef")]),
        "review", "TNEF|winmail")
    add("too-many-attachments", "60 attachments",
        mail("too-many-attachments", [attachment(f'filename="phu-luc-{i}.txt"'.encode(), b"Phu luc", "text/plain")
                                      for i in range(60)]), "review", r"60 tệp đính kèm, quá giới hạn")  # one item for the mail, not 60

    # -- documents ---------------------------------------------------------
    add("pdf-page-tree-loop", "a PDF whose page tree contains itself",
        mail("pdf-page-tree-loop", [attachment(named("Tờ trình.pdf"), pdf_page_tree_loop())]),
        "review", DAMAGED_PDF)
    add("pdf-reference-loops", "a PDF with self-referencing /Length, resources and /Prev",
        mail("pdf-reference-loops", [attachment(b'filename="loops.pdf"', pdf_reference_loops())]),
        "review", "BAO CAO")  # read, not hung: its title is found; without this campaign's words, a person decides
    add("pdf-huge-page", "a 200 x 200 inch page with text",
        mail("pdf-huge-page", [attachment(b'filename="huge.pdf"', pdf_huge_page(scan=False))]),
        "counted", "BAO CAO")
    add("pdf-huge-scan", "a 200 x 200 inch scanned page (1.6 billion pixels at 200 dpi)",
        mail("pdf-huge-scan", [attachment(b'filename="huge-scan.pdf"', pdf_huge_page(scan=True))]),
        "review", "scanned document|tệp scan")
    add("pdf-3000-pages", "a PDF of 3,000 pages",
        mail("pdf-3000-pages", [attachment(b'filename="many.pdf"', pdf_many_pages(3000))]), "item",
        r"\b12\b\D+\b3000\b")
    add("pdf-encrypted", "a password-protected PDF",
        mail("pdf-encrypted", [attachment(named("Tờ trình.pdf"),
                                          df.official_pdf([school_doc(0)], encrypt="mật khẩu"))]),
        "review", "encrypted|mã hóa|mật khẩu")
    add("pdf-truncated", "a PDF cut in half (no xref, no %%EOF)",
        mail("pdf-truncated", [attachment(b'filename="cut.pdf"', pdf[: len(pdf) // 2])]), "review", DAMAGED_PDF)
    add("pdf-garbage", "%PDF- followed by random bytes",
        mail("pdf-garbage", [attachment(b'filename="garbage.pdf"', b"%PDF-1.7\n" + seeded(5000, 7))]),
        "review", DAMAGED_PDF)
    add("jpeg-named-pdf", "a JPEG named .pdf",
        mail("jpeg-named-pdf", [attachment(b'filename="Bao cao.pdf"', jpeg_bytes())]), "review",
        "not a real PDF|không phải tệp PDF thật")
    add("png-bomb", "a PNG claiming 100,000 x 100,000 pixels, named .pdf",
        mail("png-bomb", [attachment(b'filename="scan.pdf"', png_bomb())]), "review", "image too large|ảnh quá lớn")
    add("empty-attachment", "a 0-byte 'Tờ trình.pdf'",
        mail("empty-attachment", [attachment(b'filename="empty.pdf"', b"")]), "review", "empty file|tệp rỗng")
    add("docx-xxe", "a DOCX with an external entity (file:///etc/passwd)",
        mail("docx-xxe", [attachment(b'filename="xxe.docx"', df.docx_with_doctype(docx, df.XXE_DOCTYPE),
                                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]),
        "review", "DOCTYPE")
    add("docx-laughs", "a DOCX with a billion-laughs entity",
        mail("docx-laughs", [attachment(b'filename="laughs.docx"', df.docx_with_doctype(docx, df.LAUGHS_DOCTYPE),
                                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]),
        "review", "DOCTYPE")
    add("docx-bomb", "a DOCX whose document.xml unpacks to 300 MB",
        mail("docx-bomb", [attachment(b'filename="bomb.docx"', docx_bomb(),
                                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]),
        "review", "ZIP bomb")
    add("docx-corrupt", "a DOCX cut in half",
        mail("docx-corrupt", [attachment(b'filename="cut.docx"', docx[: len(docx) // 2],
                                         "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]),
        "review", "damaged DOCX|DOCX bị hỏng")
    add("doc-garbage", "an OLE2 header followed by junk, named .doc",
        mail("doc-garbage", [attachment(b'filename="old.doc"', b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + seeded(4000, 8),
                                        "application/msword")]),
        "review", "not a Word document|không phải văn bản Word")
    # -- odd inputs (issue 12 items 5 and 7) ------------------------------------
    add("outlook-msg-as-eml", "an Outlook .msg (OLE compound file) saved with a .eml name",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + seeded(3000, 9), "review", r"Outlook \(\.msg\)")
    add("outlook-msg-attached", "an Outlook .msg attached as message/rfc822 (base64)",
        mail("outlook-msg-attached", [attachment(b'filename="Ke hoach.msg"', b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
                                                 + seeded(2000, 10), "message/rfc822")]),
        "review", r"Outlook \(\.msg\)")
    add("outlook-msg-real", "an Outlook .msg with a Tờ trình, saved with a .eml name",
        mf.outlook_msg(transport_headers=f"From: {SCHOOLS[0][0]}\nDate: {mf.DATE}\n"
                                         "Message-ID: <outlook-msg-real@hostile.test>\n",
                       files=[("Tờ trình.pdf", pdf)]),
        # read from a folder it counts (tests/test_odd_inputs.py); an IMAP server mangles a binary
        # "message" (Dovecot turns NUL bytes into 0x80), and then it is a review item with its reason
        "item", r"tiêu đề 'TỜ TRÌNH'|Outlook \(\.msg\)")
    jis = b"\x1b$B\x46\x7c\x4b\x5c\x8c\x6c\x1b(B Ho so de nghi cong nhan"
    add("iso2022-bad-byte", "an ISO-2022-JP subject with one bad byte",
        mail("iso2022-bad-byte", [attachment(named("Tờ trình.pdf"), pdf)],
             subject=b"=?ISO-2022-JP?B?" + __import__("base64").b64encode(jis) + b"?="),
        "counted", "tiêu đề 'TỜ TRÌNH'")
    page = df.text_image(["TRƯỜNG THCS NGUYỄN HIỀN", "TỜ TRÌNH", "Về việc đề nghị công nhận"], fmt="JPEG")
    add("inline-photo-of-page", "a page photographed and inserted in the text by Apple Mail (cid: image)",
        mf.build("apple", sender=SCHOOLS[0][0], sender_name=SCHOOLS[0][1], message_id="<inline-photo-of-page@hostile.test>",
                 files=[mf.File("IMG_0412.jpeg", page, "image/jpeg", cid="F3C1-0412@apple")]),
        "item", "", "IMG_0412.jpeg")
    if oversized:
        add("oversized", "a 1.5 MB message where the limit is 1 MB",
            good_mail(5, label="oversized", style="gmail",
                      files=[mf.File("Tờ trình.pdf", mf.pdf_bytes(size=int(1.5 * MB), seed=9))]),
            "quarantined", "message too large|quá lớn")
    labels = [c.label for c in cases]
    assert len(labels) == len(set(labels)), "labels must be unique"
    return cases
