"""parse_message: what a coordinator would notice in each kind of mail.

Mails are built with tests/mailfactory.py in the styles of the clients the
schools use; every case asserts a decoded name, a reason or a sender, never
merely that nothing crashed.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import random
import struct
import time
import tracemalloc
import unicodedata
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.model import ParsedMessage, Skipped
from bot.parse import OUTLOOK_MSG, ParseLimits, parse_message
from tests import mailfactory as mf

VN = timezone(timedelta(hours=7))
# Time bounds are generous (CI machines are shared): they catch the order-of-magnitude
# regressions (quadratic parsing, a bomb inflated) that matter, not small slowdowns.
# Guards against a hang (a loop on forged counts, a bomb inflated in memory),
# not a speed target: speed is measured in bench/, never in tests.
FAST = 10.0
SENT = datetime(2023, 10, 5, 9, 32, tzinfo=VN)
TO_TRINH = "Tờ trình đề nghị công nhận.pdf"
BIEN_BAN = "Biên bản họp xét.docx"
BAO_CAO = ("Báo cáo kết quả xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ "
           "an ninh Tổ quốc năm học 2022-2023.pdf")  # long: continuations, folding


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the signature of an OLE compound file (Outlook .msg)


def names(parsed: ParsedMessage) -> list[str]:
    return [a.filename for a in parsed.attachments]


def reasons(parsed: ParsedMessage) -> dict[str, str]:
    return {s.filename: s.reason for s in parsed.skipped}


def attach(*files: mf.File, style: str = "gmail", **kw) -> ParsedMessage:
    return parse_message(mf.build(style, files=files, **kw))


def is_clean_name(name: str) -> bool:
    return unicodedata.is_normalized("NFC", name) and not any(
        unicodedata.category(ch) == "Cc" for ch in name)


# --------------------------------------------------------------------------
# Headers and file names in each client's encoding
# --------------------------------------------------------------------------

@pytest.mark.parametrize("style", mf.STYLES)
def test_vietnamese_file_names_come_out_as_written_in_every_client_style(style):
    files = [mf.File(TO_TRINH, mf.pdf_bytes()), mf.File(BIEN_BAN, mf.docx_bytes()), mf.File(BAO_CAO)]
    parsed = attach(*files, style=style, logo=True)

    assert names(parsed) == [TO_TRINH, BIEN_BAN, BAO_CAO]
    assert [a.content_type for a in parsed.attachments] == [
        "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf"]
    assert parsed.attachments[0].data == mf.pdf_bytes()
    assert parsed.attachments[1].data == mf.docx_bytes()  # a DOCX is a ZIP: not expanded
    assert all(a.container == "" for a in parsed.attachments)
    assert reasons(parsed) == {"image001.png": "ảnh chèn trong nội dung thư"}  # the signature logo
    assert parsed.subject == "Hồ sơ đề nghị công nhận điển hình ANTQ"
    assert (parsed.from_addr, parsed.from_name) == (mf.SCHOOL, mf.SCHOOL_NAME)
    assert parsed.body_text.startswith("Kính gửi Phòng Giáo dục và Đào tạo,\nTrường gửi hồ sơ")
    assert parsed.problems == ()


def test_macos_nfd_names_come_out_nfc():
    parsed = attach(mf.File(TO_TRINH), style="apple")
    raw = mf.apple_mail(files=[mf.File(TO_TRINH)])
    assert b"To%CC%9B%CC%80" in raw  # the mail really carries the decomposed form
    assert names(parsed) == [TO_TRINH]
    assert len(parsed.attachments[0].filename) == len(TO_TRINH)  # NFC: one code point per letter


def _single_file_mail(content_type: bytes, disposition: bytes | None = None, extra: bytes = b"") -> bytes:
    headers = [("Content-Type", content_type), ("Content-Transfer-Encoding", "base64")]
    if disposition is not None:
        headers.insert(1, ("Content-Disposition", disposition))
    body = mf.multipart("mixed", [mf.text_part("Gửi hồ sơ."), mf.part(headers, mf.b64(b"%PDF-1.4" + extra))])
    return b"From: a@b.vn\r\nSubject: x\r\nMIME-Version: 1.0\r\n" + body


@pytest.mark.parametrize("content_type, disposition, expected", [
    pytest.param(b"application/pdf", b'attachment; filename="' + mf.encoded_words(TO_TRINH, split_bytes=True).encode()
                 + b'"', TO_TRINH, id="encoded-words splitting a multi-byte character"),
    pytest.param(b"application/pdf", b'attachment; filename="=?iso-8859-1?B?'
                 + base64.b64encode(TO_TRINH.encode()) + b'?="', TO_TRINH,
                 id="UTF-8 mislabelled iso-8859-1"),
    pytest.param(b"application/pdf", b'attachment; filename="=?x-unknown?B?'
                 + base64.b64encode(TO_TRINH.encode()) + b'?="', TO_TRINH, id="unknown charset"),
    pytest.param(b"application/pdf", b"attachment; filename==?UTF-8?Q?" + mf.q_encode(TO_TRINH.encode()).encode() + b"?=",
                 TO_TRINH, id="RFC 2047 unquoted"),
    pytest.param(b"application/pdf; name=\"" + mf.encoded_words(TO_TRINH).encode() + b'"', None, TO_TRINH,
                 id="name only in Content-Type (no disposition)"),
    pytest.param(b"application/pdf", b"attachment; " + mf.rfc2231("filename", BAO_CAO, 10).encode(), BAO_CAO,
                 id="RFC 2231 with many continuations"),
    pytest.param(b"application/pdf", b'attachment; filename="' + mf.to_cp1258(TO_TRINH) + b'"', TO_TRINH,
                 id="raw 8-bit Windows-1258"),
    pytest.param(b"application/pdf", b'attachment; filename="' + TO_TRINH.encode() + b'"', TO_TRINH,
                 id="raw 8-bit UTF-8"),
    pytest.param(b"application/pdf", b"attachment; filename*=windows-1258''" +
                 "".join(f"%{b:02X}" for b in mf.to_cp1258(TO_TRINH)).encode(), TO_TRINH,
                 id="RFC 2231 in windows-1258"),
])
def test_file_name_encodings(content_type, disposition, expected):
    parsed = parse_message(_single_file_mail(content_type, disposition))
    assert names(parsed) == [expected]
    assert is_clean_name(parsed.attachments[0].filename)


def _quoted(name: bytes) -> bytes:
    return b'attachment; filename="' + name + b'"'


@pytest.mark.parametrize("disposition, shown", [
    # CR/LF/NUL/ESC smuggled in through an encoded-word or RFC 2231 escapes:
    (_quoted(mf.encoded_words("Tờ trình\r\nContent-Type: text/html\x00.pdf").encode()),
     "Tờ trìnhContent-Type: text/html.pdf"),
    (b"attachment; " + mf.rfc2231("filename", "Tờ\r\n\x00\x1b[31m.pdf").encode(), "Tờ[31m.pdf"),
    (_quoted(b"evil\x00name.pdf"), "evilname.pdf"),
    (_quoted(b"..\\\\..\\\\windows\\\\T\xe1\xbb\x9d.pdf"), "..\\..\\windows\\Tờ.pdf"),  # text kept, never a path
    (_quoted(b"../../etc/passwd.pdf"), "../../etc/passwd.pdf"),
    (_quoted(b"fdp.\xe2\x80\xaeexe.pdf"), "fdp.exe.pdf"),  # right-to-left override removed
])
def test_header_injection_in_file_names_keeps_the_text_without_control_characters(disposition, shown):
    parsed = parse_message(_single_file_mail(b"application/pdf", disposition))
    assert names(parsed) == [shown]


def test_eight_bit_headers_from_phone_clients():
    parsed = parse_message(mf.phone(subject="Hồ sơ ANTQ trường Sơn Ca 6", files=[mf.File(TO_TRINH)]))
    assert parsed.subject == "Hồ sơ ANTQ trường Sơn Ca 6"
    assert parsed.from_name == mf.SCHOOL_NAME
    assert names(parsed) == [TO_TRINH]


def test_cp1258_headers_and_body_from_legacy_clients():
    parsed = attach(mf.File(BIEN_BAN), style="legacy", subject="Biên bản họp xét điển hình",
                    text="Kính gửi Phòng GD&ĐT Quận 12")
    assert parsed.subject == "Biên bản họp xét điển hình"
    assert parsed.body_text == "Kính gửi Phòng GD&ĐT Quận 12"
    assert unicodedata.is_normalized("NFC", parsed.body_text)


def test_addresses_ids_and_dates():
    raw = mf.with_headers(mf.thunderbird(), []).replace(
        b"To: pgd.quan12@hcm-edu.example", b'To: "Ph\xc3\xb2ng GD, Q12" <PGD.Quan12@hcm-edu.example>, x@y.vn\r\n'
        b"Cc: Lanh Dao <LD@hcm-edu.example>\r\nReply-To: <VanThu@Gmail.com>\r\n"
        b"In-Reply-To: <reminder-1@pgd.hcm-edu.example>\r\n"
        b"References: <reminder-0@pgd.hcm-edu.example>\r\n <reminder-1@pgd.hcm-edu.example>")
    parsed = parse_message(raw)
    assert parsed.to_addrs == ("pgd.quan12@hcm-edu.example", "x@y.vn", "ld@hcm-edu.example")
    assert parsed.reply_to == ("vanthu@gmail.com",)
    assert parsed.in_reply_to == "<reminder-1@pgd.hcm-edu.example>"
    assert parsed.references == ("<reminder-0@pgd.hcm-edu.example>", "<reminder-1@pgd.hcm-edu.example>")
    assert parsed.message_id.startswith("<thunderbird.") and parsed.message_id.endswith("@hcm-edu.example>")
    assert parsed.date_header == SENT and parsed.date_header.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("date, expected, problem", [
    ("Thu, 05 Oct 2023 09:32:00 +0700", SENT, None),
    ("Thu, 05 Oct 2023 02:32:00 GMT", SENT, None),
    ("Thu, 5 Oct 2023 09:32:00 +0700 (ICT)", SENT, None),
    ("5 Oct 2023 09:32 +0700", SENT, None),
    ("Thu, 05 Oct 2023 09:32:00 -0000", datetime(2023, 10, 5, 9, 32, tzinfo=timezone.utc), None),
    ("hôm qua lúc 9 giờ", None, "Date header could not be read: 'hôm qua lúc 9 giờ'"),
    ("Thu, 05 Oct 2023 29:32:00 +0700", None, "Date header could not be read"),
])
def test_date_header_is_aware_or_none(date, expected, problem):
    parsed = parse_message(mf.gmail(date=date))
    assert parsed.date_header == expected
    assert parsed.date_header is None or parsed.date_header.tzinfo is not None
    if problem:
        assert any(p.startswith(problem) for p in parsed.problems)


def test_missing_headers_give_empty_values():
    parsed = parse_message(b"Subject: =?utf-8?q?H=E1=BB=93_s=C6=A1?=\r\n\r\n" + "Nội dung".encode())
    assert (parsed.message_id, parsed.from_addr, parsed.date_header) == ("", "", None)
    assert parsed.subject == "Hồ sơ"
    assert parsed.body_text == "Nội dung"


# --------------------------------------------------------------------------
# Which parts are documents
# --------------------------------------------------------------------------

@pytest.mark.parametrize("files, kw, expected_names, expected_skipped", [
    pytest.param([mf.File("", mf.pdf_bytes(), "application/pdf")], {}, [""], {},
                 id="unnamed PDF is still a document"),
    pytest.param([mf.File("scan0001.jpg", b"\xff\xd8jpeg", "image/jpeg", cid="scan1", referenced=False)], {},
                 ["scan0001.jpg"], {}, id="inline scan not drawn by the HTML is a document"),
    pytest.param([mf.File("logo.png", mf.png_bytes(), cid="logo@school")], {}, [],
                 {"logo.png": "ảnh chèn trong nội dung thư"}, id="logo drawn by the HTML is not"),
    pytest.param([mf.File("", mf.png_bytes(), "image/png", cid="sig@x")], {}, [],
                 {"sig@x": "ảnh chèn trong nội dung thư"}, id="unnamed logo is listed by its Content-ID"),
    pytest.param([mf.File("Hồ sơ.rar", b"Rar!\x1a\x07\x00")], {}, [],
                 {"Hồ sơ.rar": "chưa đọc được tệp nén dạng rar"}, id="rar"),
    pytest.param([mf.File("Hồ sơ.7z", b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed")], {}, [],
                 {"Hồ sơ.7z": "chưa đọc được tệp nén dạng 7z"}, id="7z"),
    pytest.param([mf.File("smime.p7s", b"0\x82", "application/pkcs7-signature")], {}, [],
                 {"smime.p7s": "chữ ký số, không phải văn bản"}, id="S/MIME signature"),
    pytest.param([mf.File("invite.ics", b"BEGIN:VCALENDAR", "text/calendar")], {}, [],
                 {"invite.ics": "lời mời lịch họp, không phải văn bản"}, id="calendar"),
    pytest.param([mf.File("Kế hoạch.msg", b"\xd0\xcf\x11\xe0", "application/vnd.ms-outlook")], {}, [],
                 {"Kế hoạch.msg": OUTLOOK_MSG}, id="outlook .msg"),
    pytest.param([mf.File("Kế hoạch.eml", OLE + b"\x00" * 600, "message/rfc822")], {}, [],
                 {"Kế hoạch.eml": OUTLOOK_MSG}, id="outlook .msg attached as .eml"),
    pytest.param([mf.File(f"Trang {i}.pdf") for i in range(1, 6)], {"limits": ParseLimits(max_attachments=3)},
                 ["Trang 1.pdf", "Trang 2.pdf", "Trang 3.pdf"],
                 {"Trang 4.pdf": "quá nhiều tệp đính kèm (chỉ đọc 3 tệp đầu)",
                  "Trang 5.pdf": "quá nhiều tệp đính kèm (chỉ đọc 3 tệp đầu)"}, id="too many"),
    pytest.param([mf.File("Scan lớn.pdf", mf.pdf_bytes(size=3 * 1024 * 1024)), mf.File(TO_TRINH)],
                 {"limits": ParseLimits(max_attachment_bytes=2 * 1024 * 1024)}, [TO_TRINH],
                 {"Scan lớn.pdf": "quá lớn: 3.0 MB (giới hạn 2.0 MB)"}, id="too large"),
    pytest.param([mf.File("scan.bin", mf.pdf_bytes(), "application/octet-stream"),
                  mf.File("Tờ trình.PDF", mf.pdf_bytes(), "application/octet-stream")], {},
                 ["scan.bin", "Tờ trình.PDF"], {}, id="octet-stream typed from the extension"),
])
def test_which_parts_are_documents(files, kw, expected_names, expected_skipped):
    limits = kw.pop("limits", ParseLimits())
    parsed = parse_message(mf.build("gmail", files=files, **kw), limits)
    assert names(parsed) == expected_names
    assert reasons(parsed) == expected_skipped


def test_octet_stream_gets_a_content_type_from_its_extension():
    parsed = attach(mf.File("scan.bin", b"x", "application/octet-stream"),
                    mf.File("Tờ trình.PDF", b"y", "application/octet-stream"))
    assert [a.content_type for a in parsed.attachments] == ["application/octet-stream", "application/pdf"]


def test_html_only_mail_body_is_converted_to_text_without_fetching_anything():
    html = ('<html><head><title>Tiêu đề</title><style>.x{color:red}</style>'
            '<script>alert("x")</script></head><body><p>Kính&nbsp;gửi <b>Phòng GD&amp;ĐT</b></p>'
            '<ul><li>Tờ trình</li><li>Biên bản</li></ul><img src="https://tracker.example/p.gif">'
            '<div>Trân trọng.</div></body></html>')
    parsed = parse_message(mf.build("outlook", html=html, html_only=True))
    assert parsed.body_text == "Kính gửi Phòng GD&ĐT\n\n- Tờ trình\n- Biên bản\n\nTrân trọng."


def test_plain_part_is_preferred_to_html_and_body_is_bounded_and_nfc():
    text = unicodedata.normalize("NFD", "Hồ sơ điển hình. ") * 1000
    parsed = parse_message(mf.gmail(text=text, html="<p>HTML khác</p>"), ParseLimits(max_body_chars=500))
    assert len(parsed.body_text) == 500
    assert parsed.body_text.startswith("Hồ sơ điển hình.")
    assert unicodedata.is_normalized("NFC", parsed.body_text)


# --------------------------------------------------------------------------
# ZIP archives
# --------------------------------------------------------------------------

ZIP_NAME = "Hồ sơ ANTQ.zip"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-noflag", "mac", "cp1258"])
def test_zip_member_names_are_decoded(encoding):
    archive = mf.zip_bytes([("Hồ sơ/" + TO_TRINH, b"%PDF-1"), ("Hồ sơ/" + BIEN_BAN, b"PK-docx"),
                            ("__MACOSX/Hồ sơ/._" + TO_TRINH, b"junk")], names=encoding)
    if encoding != "utf-8":  # check the premise: a spec-following reader shows mojibake
        assert TO_TRINH not in [i.filename.split("/")[-1] for i in zipfile.ZipFile(io.BytesIO(archive)).infolist()]
    parsed = attach(mf.File(ZIP_NAME, archive))
    assert names(parsed) == [TO_TRINH, BIEN_BAN]
    assert {a.container for a in parsed.attachments} == {f"zip:{ZIP_NAME}"}
    assert [a.content_type for a in parsed.attachments][0] == "application/pdf"
    assert parsed.attachments[0].data == b"%PDF-1"
    assert parsed.skipped == ()


def test_zip_path_traversal_names_keep_only_the_base_name():
    archive = mf.zip_bytes([("../../../etc/" + TO_TRINH, b"a"), ("C:\\Users\\x\\" + BIEN_BAN, b"b"),
                            ("/abs/Kế hoạch.pdf", b"c")], names="utf-8-noflag")
    assert names(attach(mf.File("hoso.zip", archive))) == [TO_TRINH, BIEN_BAN, "Kế hoạch.pdf"]


def test_nested_zips_are_read_two_levels_deep():
    inner = mf.zip_bytes([(BIEN_BAN, b"docx"), ("third.zip", mf.zip_bytes([("deep.pdf", b"x")]))])
    outer = mf.zip_bytes([(TO_TRINH, b"pdf"), ("Bên trong.zip", inner)])
    parsed = attach(mf.File("hoso.zip", outer))
    assert [(a.filename, a.container) for a in parsed.attachments] == [
        (TO_TRINH, "zip:hoso.zip"), (BIEN_BAN, "zip:hoso.zip > zip:Bên trong.zip")]
    assert reasons(parsed) == {"third.zip": "tệp ZIP lồng quá sâu (quá 2 cấp)"}


@pytest.fixture(scope="module")
def bomb_200mb() -> bytes:
    """200 MB of zeros deflated to ~200 KB (built once, streamed, never held whole)."""
    return mf.zip_bomb(200 * mf.MB)


def test_zip_bomb_is_rejected_whole_and_cheaply(bomb_200mb):
    tracemalloc.start()
    start = time.perf_counter()
    parsed = attach(mf.File("hoso.zip", bomb_200mb), mf.File(TO_TRINH))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert names(parsed) == [TO_TRINH]  # the other attachment survives
    assert reasons(parsed) == {"hoso.zip": "không mở tệp ZIP: giải nén ra 200.0 MB (giới hạn 100.0 MB)"}
    assert elapsed < FAST and peak < 30 * mf.MB


def test_zip_bomb_with_lying_header_is_not_inflated(bomb_200mb):
    liar = mf.patch_zip(bomb_200mb, "zeros.txt", file_size=1000)  # "only 1000 bytes", really 200 MB
    tracemalloc.start()
    parsed = attach(mf.File("hoso.zip", liar))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert parsed.attachments == ()
    assert reasons(parsed) == {"zeros.txt": "không đọc được tệp trong ZIP (Bad CRC-32 for file 'zeros.txt')"}
    assert peak < 30 * mf.MB


def test_zip_member_with_extreme_ratio_is_rejected():
    parsed = attach(mf.File("hoso.zip", mf.zip_bomb(20 * mf.MB)))
    reason = reasons(parsed)["hoso.zip"]
    assert reason.startswith("không mở tệp ZIP: 'zeros.txt' giải nén gấp ") and reason.endswith(" lần (giới hạn 100 lần)")
    assert parsed.attachments == ()


def test_zip_with_too_many_members_is_rejected():
    archive = mf.zip_bytes([(f"trang{i}.pdf", b"x") for i in range(60)])
    parsed = attach(mf.File("hoso.zip", archive))
    assert reasons(parsed) == {"hoso.zip": "không mở tệp ZIP: chứa 60 tệp (giới hạn 50)"}
    assert parsed.attachments == ()


def test_zip_limits_are_shared_by_all_zips_of_a_message():
    one = mf.zip_bytes([("a.pdf", bytes(600_000))], compression=zipfile.ZIP_STORED)
    parsed = parse_message(mf.gmail(files=[mf.File("1.zip", one), mf.File("2.zip", one)]),
                           ParseLimits(max_zip_total_bytes=1_000_000))
    assert [(a.filename, a.container) for a in parsed.attachments] == [("a.pdf", "zip:1.zip")]
    assert reasons(parsed) == {
        "2.zip": "không mở tệp ZIP: giải nén ra 585 KB (chỉ còn 390 KB trong 976 KB cho phép cho mọi "
                 "tệp ZIP của một thư)"}


def test_encrypted_zip_member_is_skipped_and_the_rest_kept():
    plain = mf.zip_bytes([("secret.pdf", b"secret"), (TO_TRINH, b"ok")])
    archive = mf.patch_zip(plain, "secret.pdf", set_flags=0x1)
    parsed = attach(mf.File("hoso.zip", archive))
    assert names(parsed) == [TO_TRINH]
    assert reasons(parsed) == {"secret.pdf": "tệp trong ZIP có mật khẩu (bị mã hóa)"}


def test_corrupt_zip_is_reported():
    parsed = attach(mf.File("hoso.zip", b"PK\x03\x04 this is not really a zip"))
    assert reasons(parsed)["hoso.zip"].startswith("không mở tệp ZIP: không phải tệp ZIP đọc được")


# --------------------------------------------------------------------------
# TNEF (winmail.dat)
# --------------------------------------------------------------------------

def test_winmail_dat_attachments_are_extracted():
    tnef = mf.tnef_bytes([(TO_TRINH, mf.pdf_bytes()), (BIEN_BAN, b"docx")])
    parsed = attach(mf.File("winmail.dat", tnef, "application/ms-tnef"), style="outlook")
    assert [(a.filename, a.container, a.content_type) for a in parsed.attachments] == [
        (TO_TRINH, "tnef", "application/pdf"),
        (BIEN_BAN, "tnef", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
    assert parsed.attachments[0].data == mf.pdf_bytes()


def test_winmail_dat_without_long_names_uses_the_cp1258_title():
    parsed = attach(mf.File("winmail.dat", mf.tnef_bytes([(TO_TRINH, b"x")], long_names=False)), style="outlook")
    assert names(parsed) == [TO_TRINH]


def test_factory_tnef_is_valid_for_an_independent_reader():
    tnefparse = pytest.importorskip("tnefparse")
    parsed = tnefparse.TNEF(mf.tnef_bytes([(TO_TRINH, b"pdf")]), do_checksum=True)
    assert [(a.long_filename(), a.data) for a in parsed.attachments] == [(TO_TRINH, b"pdf")]


@pytest.mark.parametrize("data, reason", [
    (b"not tnef at all", "không đọc được tệp TNEF (winmail.dat)"),
    (mf.tnef_bytes([(TO_TRINH, b"x")])[:60], "không đọc được tệp TNEF (winmail.dat)"),
    (mf.tnef_bytes([]), "tệp TNEF (winmail.dat) không chứa tệp đính kèm nào"),
])
def test_unreadable_winmail_dat_is_reported(data, reason):
    assert reasons(attach(mf.File("winmail.dat", data), style="outlook")) == {"winmail.dat": reason}


def test_winmail_dat_with_forged_counts_is_read_quickly():
    # A MAPI block claiming 4 billion properties (tnefparse would loop on it).
    forged = struct.pack("<I", 0xFFFFFFFF) + struct.pack("<HHI", 0x1002, 0x3707, 0xFFFFFFFF)
    tnef = mf.tnef_bytes([(TO_TRINH, b"x")])
    tnef += struct.pack("<BHHI", 2, 0x9005, 6, len(forged)) + forged + b"\0\0"
    start = time.perf_counter()
    parsed = attach(mf.File("winmail.dat", tnef), style="outlook")
    assert time.perf_counter() - start < FAST
    assert names(parsed) == [TO_TRINH]


# --------------------------------------------------------------------------
# Forwarded mail
# --------------------------------------------------------------------------

@pytest.mark.parametrize("layout", list(mf.FORWARD_HEADERS))
def test_inline_forward_gives_the_original_sender_and_date(layout):
    parsed = parse_message(mf.forward_inline(layout))
    assert parsed.from_addr == "nhanvien.vanthu@gmail.com"
    assert parsed.original_from == mf.SCHOOL
    assert parsed.original_from_name == mf.SCHOOL_NAME
    assert parsed.original_date == SENT


def test_outlook_reply_quoting_is_not_a_forward():
    quoted = mf.FORWARD_HEADERS["outlook_classic"].format(name="Phòng GD", sender=mf.OFFICE, to=mf.SCHOOL,
                                                         subject="Nhắc nộp hồ sơ")
    parsed = parse_message(mf.outlook(subject="RE: Nhắc nộp hồ sơ", text=f"Dạ, trường đã gửi.\n\n{quoted}\nNhắc."))
    assert parsed.original_from is None


def test_forward_as_attachment_gives_original_sender_and_its_documents():
    inner = mf.outlook(files=[mf.File(TO_TRINH, mf.pdf_bytes())], logo=True)
    parsed = parse_message(mf.forward_attached(inner))
    assert (parsed.original_from, parsed.original_from_name, parsed.original_date) == (
        mf.SCHOOL, mf.SCHOOL_NAME, SENT)
    assert [(a.filename, a.container) for a in parsed.attachments] == [
        (TO_TRINH, "rfc822:Hồ sơ đề nghị công nhận điển hình ANTQ")]
    assert reasons(parsed) == {"image001.png": "ảnh chèn trong nội dung thư"}
    assert parsed.body_text == "Chuyển tiếp thư của trường."


def test_eml_file_attached_as_octet_stream_is_read_like_a_forward():
    inner = mf.gmail(files=[mf.File(BIEN_BAN)])
    parsed = attach(mf.File("Thư gốc.eml", inner, "application/octet-stream"))
    assert parsed.original_from == mf.SCHOOL
    assert [(a.filename, a.container) for a in parsed.attachments] == [
        (BIEN_BAN, "rfc822:Hồ sơ đề nghị công nhận điển hình ANTQ")]


def test_base64_encoded_forward_is_read():
    inner = mf.gmail(files=[mf.File(TO_TRINH)])
    attached = mf.part([("Content-Type", "message/rfc822"), ("Content-Transfer-Encoding", "base64"),
                        ("Content-Disposition", 'attachment; filename="thu.eml"')], mf.b64(inner))
    raw = mf.header("From", "vanthu@gmail.com") + mf.multipart("mixed", [mf.text_part("Chuyển tiếp"), attached])
    parsed = parse_message(raw)
    assert parsed.original_from == mf.SCHOOL
    assert names(parsed) == [TO_TRINH]


def test_forward_nested_100_deep_is_bounded():
    innermost = mf.gmail(files=[mf.File(TO_TRINH)])
    raw = mf.nested_forward(100, innermost)
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < FAST
    assert parsed.subject == "Fwd level 1"
    assert parsed.attachments == ()
    assert reasons(parsed) == {"Fwd level 7": "thư chuyển tiếp lồng quá sâu (quá 5 cấp)"}
    shallow = parse_message(mf.nested_forward(3, innermost))
    assert [a.container for a in shallow.attachments] == [
        "rfc822:Fwd level 2 > rfc822:Fwd level 3 > rfc822:Hồ sơ đề nghị công nhận điển hình ANTQ"]


def test_deeply_nested_large_message_reads_only_headers():
    raw = mf.nested_forward(120, mf.gmail(files=[mf.File(TO_TRINH, mf.pdf_bytes(size=2 * mf.MB))]))
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < FAST
    assert parsed.subject == "Fwd level 1"
    assert any("lồng quá nhiều lớp để đọc an toàn" in p for p in parsed.problems)


def test_multipart_nested_thousands_deep_is_reported_not_raised():
    body = b"x"
    for level in range(3000):
        body = mf.multipart("mixed", [body], boundary=f"b{level}")
    parsed = parse_message(b"From: a@b.vn\r\nSubject: deep\r\n" + body)
    assert parsed.subject == "deep"
    assert any("lồng quá nhiều lớp" in p for p in parsed.problems)


# --------------------------------------------------------------------------
# Broken mail
# --------------------------------------------------------------------------

def test_truncated_mime_keeps_what_arrived_and_says_so():
    raw = mf.gmail(files=[mf.File(TO_TRINH, mf.pdf_bytes(size=20_000)), mf.File(BIEN_BAN)])
    cut = raw[:raw.index(b"Content-Type: application/pdf") + 3000]
    parsed = parse_message(cut)
    assert names(parsed) == [TO_TRINH]
    assert len(parsed.attachments[0].data) < 20_000
    assert "thư bị cắt ngang: phần MIME cuối không được đóng (tệp đính kèm có thể không đầy đủ)" \
        in parsed.problems


def test_unknown_charset_is_read_as_utf8_and_reported():
    raw = mf.thunderbird(text="Kính gửi Phòng GD&ĐT").replace(b'charset="utf-8"', b'charset="x-viet-unknown"')
    parsed = parse_message(raw)
    assert parsed.body_text == "Kính gửi Phòng GD&ĐT"
    assert "unknown charset 'x-viet-unknown' in the text; read as UTF-8" in parsed.problems


def test_mislabelled_latin1_body_is_read_as_utf8():
    raw = mf.thunderbird(text="Kính gửi").replace(b'charset="utf-8"', b'charset="iso-8859-1"')
    assert parse_message(raw).body_text == "Kính gửi"


@pytest.mark.parametrize("charset", [b"a\x00b", b"base64", b"utf-16", b"undefined", b"idna", b"rot13"])
def test_bogus_charset_on_8bit_text_is_survived(charset):
    raw = (b"From: a@b.vn\r\nSubject: x\r\nContent-Type: text/plain; charset=\"" + charset
           + b"\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + "Kính gửi Phòng".encode())
    parsed = parse_message(raw)
    assert parsed.body_text == "Kính gửi Phòng"
    _check_invariants(parsed)


def test_boundary_missing_is_reported():
    raw = b"From: a@b.vn\r\nSubject: x\r\nContent-Type: multipart/mixed\r\n\r\n--zzz\r\nbody\r\n"
    parsed = parse_message(raw)
    assert ("thư nhiều phần nhưng không có ranh giới (boundary): không tách được các tệp đính kèm"
            in parsed.problems)


@pytest.mark.parametrize("data", [b"", b"\x00" * 100, b"\xff\xfe garbage \r\n\r\n", b"From:\r\n\r\n",
                                  "nội dung không có header".encode(), b"Content-Type: multipart/mixed; boundary=\r\n"])
def test_junk_input_gives_an_empty_message(data):
    parsed = parse_message(data)
    assert isinstance(parsed, ParsedMessage)
    assert parsed.attachments == () and parsed.from_addr == ""


def test_non_bytes_input_is_reported_not_raised():
    parsed = parse_message("not bytes")  # type: ignore[arg-type]
    assert parsed.problems == ("không đọc được thư (TypeError); cần mở thư ra xem",)


# --------------------------------------------------------------------------
# Automatic mail and bounces
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, reason", [
    (mf.gmail_vacation(), "Auto-Submitted: auto-replied"),
    (mf.auto_reply([("Auto-Submitted", "auto-generated")]), "Auto-Submitted: auto-generated"),
    (mf.auto_reply([("X-Autoreply", "yes")]), "X-Autoreply: yes"),
    (mf.auto_reply([("X-Autorespond", "Out of office")]), "X-Autorespond: Out of office"),
    (mf.auto_reply([("Precedence", "bulk")]), "Precedence: bulk"),
    (mf.auto_reply([("Precedence", "junk")]), "Precedence: junk"),
    (mf.auto_reply([("Precedence", "list")]), "Precedence: list"),
    (mf.auto_reply([("Precedence", "auto_reply")]), "Precedence: auto_reply"),
    (mf.auto_reply([("List-Id", "Truong hoc <antq.lists.hcm-edu.example>")]),
     "List-ID: Truong hoc <antq.lists.hcm-edu.example>"),
    (mf.auto_reply([("List-Unsubscribe", "<mailto:leave@lists.vn>")]), "List-Unsubscribe: <mailto:leave@lists.vn>"),
    (mf.postfix_bounce(["a@b.vn"]), "báo cáo gửi thư không thành công (bounce)"),
    (mf.read_receipt(), "xác nhận đã đọc thư (disposition notification)"),
    (mf.auto_reply([], sender="MAILER-DAEMON@mail.hcm-edu.example"), "From: mailer-daemon@mail.hcm-edu.example"),
    (mf.auto_reply([], sender="postmaster@hcm-edu.example"), "From: postmaster@hcm-edu.example"),
    (mf.with_headers(mf.gmail(), [("Return-Path", "<>")]), "Return-Path rỗng (<>)"),
    (mf.outlook_oof("vi"), "tiêu đề trả lời tự động 'Trả lời tự động: Nhắc nộp hồ sơ' kèm các trường tự động "
                          "của Outlook"),
    (mf.outlook_oof("en"), "tiêu đề trả lời tự động 'Automatic reply: Reminder' kèm các trường tự động của Outlook"),
    # Not automatic:
    (mf.auto_reply([("Auto-Submitted", "no")]), None),
    (mf.auto_reply([("X-Auto-Response-Suppress", "OOF, AutoReply")]), None),  # Outlook marks ordinary mail so
    (mf.auto_reply([("Precedence", "first-class")]), None),
    (mf.build("gmail", subject="Trả lời tự động: nhưng do người viết"), None),  # subject alone is not enough
    (mf.with_headers(mf.gmail(), [("Return-Path", "<thcs@hcm-edu.example>")]), None),
    (mf.gmail(), None),
])
def test_automatic_mail_reason(raw, reason):
    assert parse_message(raw).automatic == reason


def test_postfix_bounce_lists_failed_recipients_only():
    parsed = parse_message(mf.postfix_bounce(["THCS.ABC@hcm-edu.example", "mn.sonca6@hcm-edu.example"],
                                             delivered=["th.nguyentrai@hcm-edu.example"]))
    assert parsed.bounce_recipients == ("thcs.abc@hcm-edu.example", "mn.sonca6@hcm-edu.example")
    assert parsed.original_from is None  # the returned message is ours, not a forward
    assert parsed.attachments == ()
    assert reasons(parsed) == {"Nhắc nộp hồ sơ": "thư gốc bị trả lại trong thư báo gửi không thành công"}


@pytest.mark.parametrize("raw, expected", [
    # Status 4.x.x: the server gave up after days of a temporary error; the mailbox may well work
    (mf.postfix_bounce([], temporary=["mn.sonca6@hcm-edu.example"]), ()),
    (mf.postfix_bounce(["thcs.abc@hcm-edu.example"], temporary=["mn.sonca6@hcm-edu.example"]), ("thcs.abc@hcm-edu.example",)),
    # a report's own delivery-status outweighs its X-Failed-Recipients header
    (mf.with_headers(mf.postfix_bounce([], temporary=["mn.sonca6@hcm-edu.example"]),
                     [("X-Failed-Recipients", "mn.sonca6@hcm-edu.example")]), ()),
])
def test_only_permanent_failures_are_bounce_recipients(raw, expected):
    parsed = parse_message(raw)
    assert parsed.bounce_recipients == expected
    assert parsed.automatic == "báo cáo gửi thư không thành công (bounce)"  # never answered all the same


def test_non_standard_bounce_uses_x_failed_recipients():
    parsed = parse_message(mf.exim_bounce(["TH.NguyenTrai@hcm-edu.example"]))
    assert parsed.automatic == "From: mailer-daemon@googlemail.com"
    assert parsed.bounce_recipients == ("th.nguyentrai@hcm-edu.example",)


def test_ordinary_mail_has_no_bounce_recipients():
    assert parse_message(mf.gmail()).bounce_recipients == ()


# --------------------------------------------------------------------------
# Authentication-Results
# --------------------------------------------------------------------------

GMAIL_PASS = ("mx.google.com;\r\n       dkim=pass header.i=@hcm-edu.example header.s=s1 header.b=AbC;\r\n"
              "       spf=pass (google.com: domain of thcs@hcm-edu.example designates 1.2.3.4 as permitted sender) "
              "smtp.mailfrom=thcs@hcm-edu.example;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=hcm-edu.example")
DMARC_FAIL = ("mx.google.com; spf=softfail (google.com: domain of transitioning x@gmail.com does not designate "
              "5.6.7.8 as permitted sender) smtp.mailfrom=x@gmail.com;\r\n dmarc=fail (p=NONE sp=QUARANTINE "
              "dis=NONE) header.from=gmail.com")


# The receiving servers these tests trust (``[mailbox] trusted_authserv_ids``).
TRUSTED = ParseLimits(trusted_authserv_ids=("mx.google.com", "mx.hcm-edu.example"))


@pytest.mark.parametrize("headers, expected", [
    ([], ("none", "")),
    ([GMAIL_PASS], ("pass", "dmarc=pass header.from=hcm-edu.example")),
    ([DMARC_FAIL], ("fail", "dmarc=fail (p=none) header.from=gmail.com")),
    (["mx.hcm-edu.example; spf=fail smtp.mailfrom=hcm-edu.example; dkim=none"],
     ("fail", "spf=fail smtp.mailfrom=hcm-edu.example, no DKIM pass")),
    (["mx.hcm-edu.example; spf=softfail smtp.mailfrom=hcm-edu.example; dkim=pass header.d=hcm-edu.example"],
     ("pass", "dkim=pass header.d=hcm-edu.example (aligned with From)")),
    (["mx.hcm-edu.example; spf=neutral smtp.mailfrom=hcm-edu.example; dkim=pass header.d=mailchimp.com"],
     ("none", "no verdict from mx.hcm-edu.example: spf=neutral, dkim=pass")),
    (["mx.hcm-edu.example; spf=pass smtp.mailfrom=bounce.mailer.vn"], ("pass", "spf=pass smtp.mailfrom=bounce.mailer.vn")),
    (["mx.hcm-edu.example; none"], ("none", "no verdict from mx.hcm-edu.example: no results")),
    (["MX.hcm-edu.example 1; dmarc=pass header.from=hcm-edu.example"], ("pass", "dmarc=pass header.from=hcm-edu.example")),
    (["(our server) mx.hcm-edu.example; dmarc=pass header.from=hcm-edu.example"], ("pass", "dmarc=pass header.from=hcm-edu.example")),
    # Microsoft 365 writes no authserv-id: the header cannot be told from a forged one.
    (["spf=fail (sender IP is 5.6.7.8) smtp.mailfrom=gmail.com; dkim=none (message not signed) header.d=none;"
      "dmarc=fail action=none header.from=gmail.com;compauth=fail reason=001"],
     ("none", "Authentication-Results ignored: (no authserv-id) not in mailbox.trusted_authserv_ids")),
    # The topmost trusted header is read (a server adds its own above those it received).
    ([DMARC_FAIL, GMAIL_PASS], ("fail", "dmarc=fail (p=none) header.from=gmail.com")),
    ([GMAIL_PASS, DMARC_FAIL], ("pass", "dmarc=pass header.from=hcm-edu.example")),
])
def test_authentication_results(headers, expected):
    raw = mf.with_headers(mf.gmail(), [("Authentication-Results", h) for h in headers])
    parsed = parse_message(raw, TRUSTED)
    assert (parsed.auth, parsed.auth_reason) == expected


FORGED_PASS = "mx.evil.example; dmarc=pass header.from=hcm-edu.example; dkim=pass header.d=hcm-edu.example"


@pytest.mark.parametrize("trusted, headers, expected", [
    # Written by the sender (or a server we do not know): ignored as if absent.
    (("mx.hcm-edu.example",), [FORGED_PASS],
     ("none", "Authentication-Results ignored: mx.evil.example not in mailbox.trusted_authserv_ids")),
    # ...and below it, what our own server found is what counts.
    (("mx.hcm-edu.example",), [FORGED_PASS, "mx.hcm-edu.example; spf=fail smtp.mailfrom=hcm-edu.example; dkim=none; dmarc=none"],
     ("fail", "spf=fail smtp.mailfrom=hcm-edu.example, no DKIM pass")),
    (("mx.evil.example",), [FORGED_PASS], ("pass", "dmarc=pass header.from=hcm-edu.example")),
    # No trusted server configured: nothing is believed, whatever the headers say.
    ((), [GMAIL_PASS], ("none", "Authentication-Results ignored: mailbox.trusted_authserv_ids is empty")),
    ((), [], ("none", "")),
    # A similar-looking id is another server.
    (("mx.hcm-edu.example",), ["mx.hcm-edu.example.evil.example; dmarc=pass header.from=hcm-edu.example"],
     ("none", "Authentication-Results ignored: mx.hcm-edu.example.evil.example not in mailbox.trusted_authserv_ids")),
])
def test_only_the_trusted_servers_authentication_results_are_read(trusted, headers, expected):
    raw = mf.with_headers(mf.gmail(), [("Authentication-Results", h) for h in headers])
    parsed = parse_message(raw, ParseLimits(trusted_authserv_ids=trusted))
    assert (parsed.auth, parsed.auth_reason) == expected


@pytest.mark.parametrize("results, expected", [
    # DMARC passes only for the From domain (hcm-edu.example) it was evaluated for.
    ("dmarc=pass header.from=evil.example",
     ("none", "no verdict from mx.hcm-edu.example: dmarc=pass (ignored: dmarc=pass for evil.example, not hcm-edu.example)")),
    ("dmarc=pass", ("none", "no verdict from mx.hcm-edu.example: dmarc=pass (ignored: dmarc=pass for no header.from, "
                            "not hcm-edu.example)")),
    ("dmarc=pass header.from=sub.hcm-edu.example",
     ("none", "no verdict from mx.hcm-edu.example: dmarc=pass (ignored: dmarc=pass for sub.hcm-edu.example, not hcm-edu.example)")),
    # A DMARC pass for another domain does not cancel an SPF failure either.
    ("spf=fail smtp.mailfrom=hcm-edu.example; dmarc=pass header.from=evil.example",
     ("fail", "spf=fail smtp.mailfrom=hcm-edu.example, no DKIM pass (ignored: dmarc=pass for evil.example, "
              "not hcm-edu.example)")),
    # Only a DKIM pass aligned with the From domain cancels an SPF failure.
    ("spf=fail smtp.mailfrom=hcm-edu.example; dkim=pass header.d=evil.example; dmarc=none",
     ("fail", "spf=fail smtp.mailfrom=hcm-edu.example, DKIM pass only for evil.example (not the From domain)")),
    ("spf=softfail smtp.mailfrom=hcm-edu.example; dkim=pass header.i=@hcm-edu.example.evil.example",
     ("fail", "spf=softfail smtp.mailfrom=hcm-edu.example, DKIM pass only for hcm-edu.example.evil.example "
              "(not the From domain)")),
    ("spf=fail smtp.mailfrom=hcm-edu.example; dkim=pass header.d=evil.example; dkim=pass header.d=hcm-edu.example; dmarc=none",
     ("pass", "dkim=pass header.d=hcm-edu.example (aligned with From)")),
    ("spf=fail smtp.mailfrom=hcm-edu.example; dkim=pass header.d=mail.hcm-edu.example",
     ("pass", "dkim=pass header.d=mail.hcm-edu.example (aligned with From)")),
])
def test_a_pass_must_be_for_the_from_domain(results, expected):
    raw = mf.with_headers(mf.gmail(), [("Authentication-Results", f"mx.hcm-edu.example; {results}")])
    parsed = parse_message(raw, TRUSTED)
    assert parsed.from_addr.endswith("@hcm-edu.example")
    assert (parsed.auth, parsed.auth_reason) == expected


@pytest.mark.parametrize("workers", [0, 1])
def test_parse_jobs_of_the_extractor_trust_the_servers_they_are_given(tmp_path, workers):
    from bot.extract import Extractor

    path = tmp_path / "m.eml"
    path.write_bytes(mf.with_headers(mf.gmail(), [("Authentication-Results", GMAIL_PASS)]))
    results: dict = {}
    with Extractor(workers=workers, timeout=60) as pool:
        pool.submit_parse("trusted", str(path), TRUSTED)
        pool.submit_parse("default", str(path))
        while len(results) < 2:
            results.update(pool.ready(None))
    assert results["trusted"][0].auth == "pass"
    assert results["default"][0].auth == "none"  # the defaults trust no server


# --------------------------------------------------------------------------
# Limits, performance, robustness
# --------------------------------------------------------------------------

def test_parse_limits_are_frozen_with_sane_defaults():
    limits = ParseLimits()
    assert (limits.max_attachments, limits.max_depth, limits.max_zip_members, limits.max_zip_ratio,
            limits.max_zip_depth) == (50, 5, 50, 100, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_attachments = 1  # type: ignore[misc]


def test_five_megabyte_scan_parses_intact():
    scan = mf.pdf_bytes(size=5 * mf.MB, seed=7)
    raw = mf.gmail(files=[mf.File(TO_TRINH, scan)], logo=True)
    parsed = parse_message(raw)
    assert parsed.attachments[0].data == scan


VALID_MAILS = [
    mf.gmail(files=[mf.File(TO_TRINH), mf.File("hoso.zip", mf.zip_bytes([(BIEN_BAN, b"d")], names="cp1258"))]),
    mf.outlook(files=[mf.File("winmail.dat", mf.tnef_bytes([(TO_TRINH, b"x")]))], logo=True),
    mf.forward_attached(mf.apple_mail(files=[mf.File(BIEN_BAN)])),
    mf.postfix_bounce(["a@b.vn"]),
    mf.forward_inline("outlook_vi"),
    mf.phone(files=[mf.File(TO_TRINH)]),
]


def _check_invariants(parsed: ParsedMessage) -> None:
    assert isinstance(parsed, ParsedMessage)
    assert all(is_clean_name(a.filename) for a in parsed.attachments)
    assert all(isinstance(s, Skipped) for s in parsed.skipped)
    assert parsed.from_addr == parsed.from_addr.lower()
    assert parsed.date_header is None or parsed.date_header.tzinfo is not None
    assert parsed.auth in ("pass", "fail", "none")
    # The catch-alls are for the unforeseen: fuzzing must not reach them.
    assert not any(p.startswith("không đọc được thư") for p in parsed.problems), parsed.problems
    assert not any(s.reason.startswith("không đọc được phần này của thư") for s in parsed.skipped), parsed.skipped
    assert not any(p.startswith("không đọc được một phần MIME") for p in parsed.problems), parsed.problems


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_fuzz_arbitrary_bytes_never_raise(data):
    _check_invariants(parse_message(data))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(VALID_MAILS))), st.lists(
    st.tuples(st.integers(0, 10**9), st.sampled_from(["flip", "cut", "insert", "delete", "dup"]),
              st.binary(min_size=1, max_size=40)), min_size=1, max_size=8))
def test_fuzz_mutated_valid_mails_never_raise(index, mutations):
    data = bytearray(VALID_MAILS[index])
    for position, kind, blob in mutations:
        at = position % max(len(data), 1)
        if kind == "flip" and data:
            data[at] ^= blob[0] or 1
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = blob
        elif kind == "delete":
            del data[at:at + len(blob)]
        elif kind == "dup":
            data[at:at] = data[at:at + 200]
    _check_invariants(parse_message(bytes(data)))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_file_names_round_trip_through_every_style(name):
    name = unicodedata.normalize("NFC", "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ"))
    name = name.strip().replace('"', "").replace("\\", "") or "x"
    for style in ("gmail", "outlook", "thunderbird", "yahoo", "phone"):
        parsed = parse_message(mf.build(style, files=[mf.File(name + ".pdf")]))
        assert names(parsed) == [name + ".pdf"], style


def test_random_sample_of_corrupt_zips_never_raises():
    rng = random.Random(1)
    archive = bytearray(mf.zip_bytes([(TO_TRINH, b"%PDF" * 100), (BIEN_BAN, b"docx" * 100)]))
    for _ in range(200):
        broken = bytearray(archive)
        for _ in range(rng.randint(1, 6)):
            broken[rng.randrange(len(broken))] = rng.randrange(256)
        _check_invariants(attach(mf.File("hoso.zip", bytes(broken))))


# --------------------------------------------------------------------------
# The sender's own words (where commands are read), issue 13 items 2 and 7
# --------------------------------------------------------------------------

OWN_WORDS = "<div>duyệt R17</div>"


@pytest.mark.parametrize("html, expected", [
    (f"{OWN_WORDS}<blockquote>bỏ R18</blockquote>", "duyệt R17"),
    (f'{OWN_WORDS}<div class="gmail_quote"><div class="gmail_attr">Vào Th 5 ... đã viết:</div>'
     "<blockquote>bỏ R18</blockquote></div>", "duyệt R17"),
    (f'{OWN_WORDS}<div id="divRplyFwdMsg"><b>From:</b> x</div><div>bỏ R18</div>', "duyệt R17"),
    (f'{OWN_WORDS}<span style="DISPLAY : NONE">bỏ R18</span>', "duyệt R17"),
    (f'{OWN_WORDS}<span style="font-size: 0.5pt">bỏ R18</span>', "duyệt R17"),
    (f'{OWN_WORDS}<span style="font-size:0.1em">bỏ R18</span>', "duyệt R17"),
    (f'{OWN_WORDS}<span style="font-size:0">bỏ R18</span>', "duyệt R17"),
    (f'{OWN_WORDS}<div style="font-size:1.2em;line-height:0">bỏ R18</div>', "duyệt R17\nbỏ R18"),
    (f'{OWN_WORDS}<span style="color: rgb(255, 255, 255)">bỏ R18</span>', "duyệt R17"),
    (f'<style>#x, p.hide {{visibility: hidden}}</style>{OWN_WORDS}<p class="hide">bỏ R18</p><p id="x">bỏ R19</p>',
     "duyệt R17"),
    # what is not hidden stays: a visible font size, a dark colour, a closed hidden element
    (f'{OWN_WORDS}<span style="font-size:12px;color:#333">bỏ R18</span>', "duyệt R17\nbỏ R18"),
    (f'<div style="display:none">x</div>{OWN_WORDS}<br>bỏ R18', "duyệt R17\nbỏ R18"),
    (f"{OWN_WORDS}</blockquote>bỏ R18", "duyệt R17\nbỏ R18"),  # an end tag without its start changes nothing
])
def test_command_text_of_html_leaves_out_quoted_and_hidden_text(html, expected):
    parsed = parse_message(mf.build("gmail", html=html, html_only=True))
    assert [line for line in parsed.command_text.split("\n") if line] == expected.split("\n")
    assert "bỏ R18" in parsed.body_text  # the body as shown to people keeps everything


def test_command_text_is_only_the_outer_messages_own_text():
    inner = mf.build("gmail", text="miễn mn-hoa-mai", html="<div>Kính gửi</div>")
    forwarded = parse_message(mf.forward_attached(inner, text=""))
    assert forwarded.command_text == "" and "miễn mn-hoa-mai" in forwarded.body_text  # body falls back, commands not
    own = parse_message(mf.forward_attached(inner, text="trạng thái"))
    assert own.command_text == "trạng thái"
    plain = parse_message(mf.build("gmail", text="duyệt R17", html="<div>bỏ R18</div>"))
    assert plain.command_text == "duyệt R17"  # the text part is the sender's words; the HTML is its twin


# --------------------------------------------------------------------------
# Delivery reports: which message came back (issue 13 item 4)
# --------------------------------------------------------------------------

OURS = "<Reminder.42@PGD-Q12.example>"


def rfc822_headers_bounce() -> bytes:
    """A delivery report returning only the original's headers (text/rfc822-headers)."""
    notice = mf.text_part("Delivery failed.")
    status = mf.part([("Content-Type", "message/delivery-status")],
                     b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@hcm-edu.example\r\n"
                     b"Action: failed\r\nStatus: 5.1.1\r\n")
    headers = mf.part([("Content-Type", "text/rfc822-headers")],
                      b"From: hoso-bot@pgd-q12.example\r\nMessage-ID:\r\n " + OURS.encode() + b"\r\nSubject: x\r\n")
    body = mf.multipart("report", [notice, status, headers], params="; report-type=delivery-status")
    return b"From: MAILER-DAEMON@mx.example\r\nTo: hoso-bot@pgd-q12.example\r\nSubject: failure\r\n" \
           b"MIME-Version: 1.0\r\n" + body


@pytest.mark.parametrize("raw, expected", [
    (mf.postfix_bounce(["a@hcm-edu.example"], original=mf.build("gmail", message_id=OURS)), (OURS.lower(),)),
    (rfc822_headers_bounce(), (OURS.lower(),)),
    (mf.with_headers(mf.exim_bounce(["a@hcm-edu.example"]), [("In-Reply-To", OURS), ("References", f"<x@y> {OURS}")]),
     (OURS.lower(), "<x@y>")),
    (mf.build("gmail", sender="mailer-daemon@googlemail.com", subject="Delivery Status Notification (Failure)",
              text=f"Address not found\n\n----- Original message -----\n\nMessage-ID: {OURS}\nSubject: Nhắc",
              headers=[("X-Failed-Recipients", "a@hcm-edu.example")]), (OURS.lower(),)),
    # not a delivery report: no bounce references, even with In-Reply-To
    (mf.with_headers(mf.gmail(), [("In-Reply-To", OURS)]), ()),
    # a report forwarded as an attachment is not ours
    (mf.forward_attached(mf.postfix_bounce(["a@hcm-edu.example"], original=mf.build("gmail", message_id=OURS))), ()),
])
def test_bounce_refs_name_the_returned_message(raw, expected):
    assert parse_message(raw).bounce_refs == expected


# --------------------------------------------------------------------------
# Inline photos (issue 12 item 5), odd inputs (item 7)
# --------------------------------------------------------------------------

def photo(kb: int) -> bytes:
    """A JPEG of ``kb`` KB whose header says 640x480 (iOS Mail's "medium" size: under the page's pixels)."""
    head = b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", 480, 640) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return head + random.Random(kb).randbytes(kb * 1024) + b"\xff\xd9"


def banner(width: int, height: int, kb: int) -> bytes:
    """A PNG header of ``width`` x ``height`` followed by ``kb`` KB (a large file, small in pixels)."""
    ihdr = struct.pack(">II", width, height) + b"\x08\x06\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4 + random.Random(kb).randbytes(kb * 1024)


def test_an_apple_mail_inline_photo_of_a_page_is_a_document_and_a_logo_is_not(caplog):
    import logging

    from tests import docfactory as df

    page = df.text_image(["TỜ TRÌNH", "Về việc đề nghị công nhận"], fmt="JPEG")
    files = [mf.File("IMG_0412.jpeg", photo(164), "image/jpeg", cid="F3C1A2B4-0412@apple"),
             mf.File("Tờ trình.jpeg", page, "image/jpeg", cid="page2@apple"),
             mf.File("logo.png", mf.png_bytes(120, 40), cid="logo@school"),
             mf.File("banner.png", banner(600, 200, kb=150), cid="banner@school"),
             mf.File("ky-ten.png", mf.png_bytes(), "image/png", cid="sig@school", disposition="attachment")]
    with caplog.at_level(logging.INFO, logger="bot.parse"):
        parsed = parse_message(mf.apple_mail(files=files))
    assert names(parsed) == ["IMG_0412.jpeg", "Tờ trình.jpeg"]
    assert reasons(parsed) == {"logo.png": "ảnh chèn trong nội dung thư", "banner.png": "ảnh chèn trong nội dung thư",
                               "ky-ten.png": "ảnh chèn trong nội dung thư"}
    assert "IMG_0412.jpeg" in caplog.text and "164 KB: a photo of a page" in caplog.text
    assert "1240x1754 pixels: a page" in caplog.text
    assert "'logo.png' not read: a small image drawn by the HTML body" in caplog.text


def test_an_inline_image_marked_as_attachment_is_a_document():
    # file_part writes "inline" for every cid image; rewrite one as Outlook does for a pasted file
    raw = mf.apple_mail(files=[mf.File("scan.png", mf.png_bytes(), cid="scan@x")])
    raw = raw.replace(b'Content-Disposition: inline; filename="scan.png"', b'Content-Disposition: attachment; filename="scan.png"')
    assert names(parse_message(raw)) == ["scan.png"]


@pytest.mark.parametrize("data", [OLE + b"\x00" * 2000, OLE])
def test_an_outlook_msg_saved_as_eml_is_flagged_not_empty(data):
    parsed = parse_message(data)
    assert parsed.attachments == () and [s.matters for s in parsed.skipped] == [True]
    assert reasons(parsed) == {"thư Outlook (.msg)": OUTLOOK_MSG}
    assert parsed.problems == ("thư là tệp Outlook (.msg), không phải thư chuẩn (.eml)",)


@pytest.mark.parametrize("charset, raw, expected", [
    # one bad byte (0x8c) in the JIS part: the rest stays Japanese and ASCII
    ("ISO-2022-JP", b"\x1b$B\x46\x7c\x4b\x5c\x8c\x6c\x1b(B Ho so ANTQ", "日本�� Ho so ANTQ"),
    ("ISO-2022-JP", b"\x1b$B\x46\x7c\x4b\x5c\x38\x6c\x1b(B Ho so", "日本語 Ho so"),
    ("Shift_JIS", "日本語 hồ sơ".encode("shift_jis", "replace")[:-1] + b"\xff", "日本語 h?"),
    # a cp1258 subject declared UTF-8 is still read as cp1258 (the old clients' mistake)
    ("utf-8", mf.to_cp1258("Hồ sơ"), "Hồ sơ"),
])
def test_a_bad_byte_in_an_encoded_subject_keeps_the_rest_readable(charset, raw, expected):
    subject = f"=?{charset}?B?{base64.b64encode(raw).decode()}?="
    parsed = parse_message(f"From: a@b.example\r\nSubject: {subject}\r\n\r\nx\r\n".encode())
    assert parsed.subject.startswith(expected.rstrip("?"))


TRANSPORT = ("Received: from mx.hcm-edu.example by mx.q12\nAuthentication-Results: mx.hcm-edu.example; dmarc=pass "
             "header.from=hcm-edu.example\nFrom: =?utf-8?b?VEhDUyBOZ3V54buFbiBIaeG7gW4=?= <thcs@hcm-edu.example>\n"
             "To: phong@pgd.example\nDate: Thu, 5 Oct 2023 09:32:00 +0700\nMessage-ID: <msg-1@hcm-edu.example>\n"
             "Subject: Ho so\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n")


def test_an_outlook_msg_saved_as_eml_is_read_like_the_mail_it_holds():
    parsed = parse_message(mf.outlook_msg(subject="Hồ sơ đề nghị công nhận", transport_headers=TRANSPORT,
                                          files=[(TO_TRINH, mf.pdf_bytes()), (BIEN_BAN, mf.docx_bytes())]),
                           ParseLimits(trusted_authserv_ids=("mx.hcm-edu.example",)))
    assert (parsed.from_addr, parsed.from_name, parsed.message_id) == (
        "thcs@hcm-edu.example", "THCS Nguyễn Hiền", "<msg-1@hcm-edu.example>")
    assert parsed.date_header == SENT and parsed.subject == "Ho so"
    assert names(parsed) == [TO_TRINH, BIEN_BAN] and "Trường gửi hồ sơ" in parsed.body_text
    assert parsed.auth == "none"  # Authentication-Results inside a file are nobody's word
    assert parsed.problems == ("thư là tệp Outlook (.msg), đã được đọc như thư thường",)


def test_an_outlook_msg_without_transport_headers_takes_the_sender_from_its_properties():
    parsed = parse_message(mf.outlook_msg(subject="Tờ trình", sender="thcs@hcm-edu.example", sender_name="THCS A"))
    assert (parsed.from_addr, parsed.from_name, parsed.subject) == ("thcs@hcm-edu.example", "THCS A", "Tờ trình")
    assert parsed.attachments == () and parsed.skipped == ()


@pytest.mark.parametrize("content_type, transfer", [("application/vnd.ms-outlook", "base64"),
                                                     ("message/rfc822", "base64")])
def test_an_attached_outlook_msg_is_read_like_a_forwarded_mail(content_type, transfer):
    msg = mf.outlook_msg(sender="thcs@hcm-edu.example", sender_name="THCS A", files=[(TO_TRINH, mf.pdf_bytes())])
    parsed = attach(mf.File("Hồ sơ.msg", msg, content_type), sender="vanthu@gmail.com")
    assert names(parsed) == [TO_TRINH] and parsed.original_from == "thcs@hcm-edu.example"
    assert parsed.attachments[0].container == "rfc822:Hồ sơ đề nghị công nhận"


def test_a_message_attached_inside_an_outlook_msg_is_listed_not_lost():
    msg = mf.ole_file({"__properties_version1.0": bytes(32),
                       "__substg1.0_0037001F": "Hồ sơ".encode("utf-16-le"),
                       "__attach_version1.0_#00000000/__substg1.0_3707001F": "Thư trường.msg".encode("utf-16-le"),
                       "__attach_version1.0_#00000000/__substg1.0_3701000D/__substg1.0_0037001F": b"x\x00"})
    parsed = parse_message(msg)
    assert reasons(parsed) == {"Thư trường.msg": "thư Outlook đính kèm trong tệp .msg: chưa đọc được, cần mở bằng Outlook"}


def test_an_ole_file_that_is_not_a_mail_is_flagged():
    word = mf.ole_file({"WordDocument": b"\x00" * 600, "1Table": b"\x00" * 100})
    assert reasons(parse_message(word)) == {"thư Outlook (.msg)": OUTLOOK_MSG}
