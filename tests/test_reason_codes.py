"""Typed reason codes (issue 14): the classifier gives a ``ReasonCode`` with every review and
ignored decision, the store keeps it, and the digest's guess uses it, reading the reasons'
wording only for rows recorded before codes existed. For every kind of review item the guess
from the code is the one the wording gave before (the digest does not change)."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot import classify as C
from bot.model import Attachment, DocumentPart, Extraction, ItemDecision, ReasonCode, Skipped
from bot.outbound.review import review_guess
from bot.store import Store
from tests import rawdb
from tests.test_classify import (RECEIVED, RULES, SCHOOL_MAIL, UNKNOWN_MAIL, VN, head, message, one, pdf)
from tests.test_programmes import OFFICE_TASKS, TOPIC_BODY

R = ReasonCode


def _decide(msg, files, received=RECEIVED):
    return C.classify_message(msg, files, RULES, received, True)


def _ext(text: str, ocr: bool = False) -> Extraction:
    return Extraction(kind="pdf", parts=(DocumentPart(head=text, text=text),), ocr=ocr)


def _photo(text: str) -> tuple[Attachment, Extraction]:
    return (Attachment("IMG_20231005_093000.jpg", "image/jpeg", b"\xff" * 90_000),
            Extraction(kind="image", parts=(DocumentPart(head=text, text=text),), ocr=True))


UNTITLED = "Trường THCS Nguyễn Hiền\nNội dung khác của nhà trường\nkhông có tiêu đề"
CONG_VAN = ("UBND QUẬN 12\nTRƯỜNG THCS NGUYỄN HIỀN\nSố: 12/THCSNH-VP\n"
            "V/v đề nghị công nhận trường đạt điển hình về phong trào toàn dân bảo vệ ANTQ\n"
            "Quận 12, ngày 05 tháng 10 năm 2023")
BOTH = "Đề nghị công nhận đạt chuẩn An toàn về an ninh, trật tự và đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ"

# kind -> the one review decision of a case, as the classifier gives it
REVIEW_CASES = {
    "unknown issuer": lambda: one(head(issuer="TRƯỜNG THCS LÊ LỢI")),
    "type conflict": lambda: one(head("TỜ TRÌNH", number="Số: 15/BC-THCSNH")),
    "no title, scanned": lambda: one(UNTITLED + "\n" + TOPIC_BODY, ocr=True),
    "no title": lambda: one(UNTITLED + "\n" + TOPIC_BODY),
    "cover letter": lambda: one(CONG_VAN),
    "dated after receipt": lambda: one(head(date="Quận 12, ngày 05 tháng 10 năm 2033")),
    "old school year": lambda: one(head("BÁO CÁO", subject="Kết quả xây dựng đơn vị điển hình về phong trào toàn "
                                                           "dân bảo vệ ANTQ năm học 2019-2020")),
    "school year not begun": lambda: one(head("BÁO CÁO", subject="Kết quả xây dựng đơn vị điển hình về phong trào "
                                                                  "toàn dân bảo vệ ANTQ năm học 2025-2026")),
    "undated": lambda: one(head(date=""), msg=message(subject="Hồ sơ", body_text="Trường gửi hồ sơ.")),
    "date of an earlier year": lambda: one(head("BIÊN BẢN", date="Quận 12, ngày 20 tháng 9 năm 2022", subject=(
        "Họp xét, đề nghị đơn vị đạt điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023"))),
    "topic words only": lambda: one(head("BÁO CÁO", subject="Kết quả"), TOPIC_BODY),
    "both topics": lambda: one(head("TỜ TRÌNH", subject=BOTH)),
    "no campaign word": lambda: one(head("BÁO CÁO", subject="Kết quả").replace(
        "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12", ""), "Nội dung khác."),
    "no campaign word, scanned": lambda: one(head("BÁO CÁO", subject="Kết quả").replace(
        "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12", ""), "Nội dung khác.", ocr=True),
    "unknown sender": lambda: one(head(issuer=""), msg=message(UNKNOWN_MAIL)),
    "topic words only, sender not on the roster": lambda: one(head("BÁO CÁO", subject="Kết quả"), TOPIC_BODY,
                                                              msg=message(UNKNOWN_MAIL)),
    "school conflict": lambda: one(head(issuer="TRƯỜNG THCS PHAN BỘI CHÂU")),
    "authentication failed": lambda: one(head(), msg=message(SCHOOL_MAIL, auth="fail", auth_reason="dmarc=fail")),
    "low confidence": lambda: one(head(issuer=""), msg=message(UNKNOWN_MAIL, subject="THCS Nguyễn Hiền gửi hồ sơ")),
    "maybe the office's": lambda: one(head("KẾ HOẠCH", parent="", issuer="", number="", subject=(
        "Triển khai xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ năm 2023")),
        OFFICE_TASKS, filename="KH_PGD.pdf"),
    "no attachment": lambda: _decide(message(body_text="Trường gửi hồ sơ đính kèm."), [])[0],
    "unread part": lambda: next(d for d in _decide(message(skipped=(Skipped("hoso.rar", "tệp RAR chưa đọc được"),)),
                                                   [(pdf(), _ext(head()))]) if d.decision == "review"),
    "password": lambda: _decide(message(), [(pdf("To trinh.pdf"),
                                             Extraction(kind="pdf", error="PDF có mật khẩu (bị mã hóa)"))])[0],
    "scan without text": lambda: _decide(message(), [(pdf("scan.pdf"), Extraction(
        kind="pdf", error="tệp scan nhưng OCR không đọc được chữ nào"))])[0],
    "damaged file": lambda: _decide(message(), [(pdf("a.pdf"), Extraction(kind="pdf",
                                                                        error="tệp PDF bị hỏng (không mở được)"))])[0],
    "over the attachment cap": lambda: next(d for d in _decide(message(), [(pdf(f"a{k}.pdf"), _ext(head()))
                                                                          for k in range(31)])
                                            if d.decision == "review"),
    "damaged mail": lambda: _decide(message(incomplete=("thư bị cắt ngắn",), subject="Chào cô",
                                                     body_text="Chào cô."), [])[0],
    "photo without title": lambda: _decide(message(), [_photo(UNTITLED + "\n" + TOPIC_BODY)])[0],
    # a concern that names no cause, and the mail damaged or pages of the file without text: those are shown
    "topic words only, mail damaged": lambda: _decide(message(incomplete=("thư bị cắt ngắn",)), [
        (pdf(), _ext(head("BÁO CÁO", subject="Kết quả") + "\n" + TOPIC_BODY))])[0],
    "topic words only, pages without text": lambda: _decide(message(), [(pdf(), Extraction(
        kind="pdf", parts=(DocumentPart(head=head("BÁO CÁO", subject="Kết quả"), text=TOPIC_BODY),),
        notes=("2 trang là ảnh scan, không có chữ, và máy chưa cài OCR",)))])[0],
}

EXPECTED_CODES = {
    "unknown issuer": R.UNKNOWN_ISSUER, "type conflict": R.TYPE_CONFLICT, "no title, scanned": R.UNREADABLE_TITLE,
    "no title": R.UNREADABLE_TITLE, "cover letter": R.COVER_LETTER, "dated after receipt": R.FUTURE_DATE,
    "old school year": R.OLD_SCHOOL_YEAR, "school year not begun": R.FUTURE_SCHOOL_YEAR, "undated": R.UNDATED,
    "date of an earlier year": R.DATE_CONFLICT,
    "topic words only": R.TOPIC_WORDS_ONLY, "both topics": R.BOTH_TOPICS, "no campaign word": R.NO_TOPIC,
    "no campaign word, scanned": R.NO_TOPIC, "unknown sender": R.UNKNOWN_SCHOOL,
    "topic words only, sender not on the roster": R.UNKNOWN_SCHOOL, "school conflict": R.SCHOOL_CONFLICT,
    "authentication failed": R.AUTH_FAIL, "low confidence": R.LOW_CONFIDENCE, "maybe the office's": R.MAYBE_OFFICE,
    "no attachment": R.NO_ATTACHMENT, "unread part": R.UNREAD_PART, "password": R.UNREADABLE_FILE,
    "scan without text": R.UNREADABLE_FILE, "damaged file": R.UNREADABLE_FILE,
    "over the attachment cap": R.ATTACHMENT_CAP, "damaged mail": R.DAMAGED_MAIL,
    "photo without title": R.UNREADABLE_TITLE, "topic words only, mail damaged": R.DAMAGED_MAIL,
    "topic words only, pages without text": R.UNREADABLE_FILE,
}


@pytest.mark.parametrize("kind", sorted(REVIEW_CASES))
def test_every_review_item_has_a_code_and_the_digest_guesses_as_before(kind):
    d: ItemDecision = REVIEW_CASES[kind]()
    assert d.decision == "review", d.reasons
    assert d.reason_code is EXPECTED_CODES[kind], d.reasons
    reason = "; ".join(d.reasons)
    by_code = review_guess(reason, d.filename, d.doc_types, RULES.campaign, d.reason_code)
    by_words = review_guess(reason, d.filename, d.doc_types, RULES.campaign)  # an old row: no code
    assert by_code == by_words


@pytest.mark.parametrize("code, cause, likely", [
    (R.FUTURE_DATE, "future_date", False), (R.NO_TOPIC, "no_topic", False),
    (R.SCHOOL_CONFLICT, "school_conflict", True), (R.UNKNOWN_SCHOOL, "unknown_sender", True),
    (R.UNREADABLE_TITLE, "no_type", True), (R.MAYBE_OFFICE, "other", True),
])
def test_the_code_decides_the_cause_whatever_the_wording(code, cause, likely):
    # reasons reworded in a later version: the code still says what it is
    guess = review_guess("lý do được viết lại", "a.pdf", (), RULES.campaign, code)
    assert (guess.cause, guess.likely) == (cause, likely)


def test_an_old_row_without_code_is_guessed_from_its_wording():
    guess = review_guess("văn bản ghi ngày 05/10/2033, sau ngày nhận (06/10/2023)", "a.pdf", (), RULES.campaign)
    assert (guess.cause, guess.label, guess.likely) == ("future_date", "05/10/2033", False)


# kind -> the decision of a part that is not counted, and its code
IGNORED_CASES = [
    ("another programme", lambda: one(head("BÁO CÁO", subject="Công tác phòng cháy, chữa cháy năm 2023")),
     R.OTHER_PROGRAMME),
    ("speaks of something else", lambda: one(head("BÁO CÁO", subject="Tổng kết năm học 2022-2023 và phương hướng "
                                                                      "năm học 2023-2024"), TOPIC_BODY),
     R.OTHER_SUBJECT),
    ("another issuer", lambda: one(head("KẾ HOẠCH", parent="CÔNG AN QUẬN 12", issuer="CÔNG AN PHƯỜNG THẠNH LỘC",
                                        number="Số: 25/KH-CAP")), R.OTHER_ISSUER),
    ("the office's own plan", lambda: one(head("KẾ HOẠCH", parent="", issuer="", number="", subject=(
        "Tiếp tục xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023")),
        OFFICE_TASKS + "\nĐề nghị các đơn vị nghiêm túc triển khai thực hiện./.", filename="KH PGD.pdf"),
     R.OFFICE_DOCUMENT),
    ("an earlier year", lambda: one(head(date="Quận 12, ngày 05 tháng 10 năm 2022")), R.OTHER_YEAR),
    ("another type", lambda: one(head("QUYẾT ĐỊNH", number="Số: 12/QĐ-THCSNH")), R.OTHER_TYPE),
    ("a logo", lambda: _decide(message(), [(Attachment("logo.png", "image/png", b"\x89PNG" * 10),
                                            Extraction(kind="image"))])[0], R.NOT_A_DOCUMENT),
    ("an auto-reply", lambda: _decide(message(automatic="Auto-Submitted: auto-replied"),
                                      [(pdf(), _ext(head()))])[0], R.AUTOMATIC),
    ("spam", lambda: _decide(message("sales@shop.example", subject="Khuyến mãi", body_text="Giảm giá 50%."),
                             [(pdf("catalogue.pdf"), _ext("Bảng giá 2023"))])[0], R.UNRELATED_MAIL),
    ("a file of a mail over the cap", lambda: _decide(message(), [(pdf(f"a{k}.pdf"), _ext(head()))
                                                                  for k in range(31)])[1], R.ATTACHMENT_CAP),
    ("a page after a page in review", lambda: _decide(message(), [_photo(head(issuer="TRƯỜNG THCS LÊ LỢI")),
                                                                  _photo("2\nnội dung tiếp theo của trang trước")])[1],
     R.PAGE_CONTINUATION),
]


@pytest.mark.parametrize("kind, decide, code", IGNORED_CASES, ids=[c[0] for c in IGNORED_CASES])
def test_every_ignored_item_has_a_code(kind, decide, code):
    d = decide()
    assert (d.decision, d.reason_code) == ("ignored", code), d.reasons


def test_a_counted_document_has_no_code():
    d = one(head())
    assert (d.decision, d.reason_code) == ("counted", None)


def test_the_code_is_stored_with_the_item_and_old_rows_have_none(tmp_path):
    from bot.schema import MIGRATIONS
    from bot.status import status_for
    from bot.store import ItemRow, MessageSummary

    # a state directory made before codes existed, with one item in review
    at = "2023-10-05T09:00:00+00:00"
    before = next(n for n, script in enumerate(MIGRATIONS) if "reason_code" in script)
    rawdb.old_database(
        tmp_path, before,
        "INSERT INTO messages (id, sha256, message_id, source_key, received_at, size, fetched_at)"
        f" VALUES (4, 'ab', '<m4@x>', 'k', '{at}', 10, '{at}')",
        "INSERT INTO items (id, message_row, container, filename, part_index, content_sha256, first_page,"
        " last_page, school, doc_types, campaign, decision, confidence, reasons, received_at, cycle,"
        " classified_at) VALUES (17, 4, '', 'old.pdf', 0, 'cd', 1, 1, NULL, '[]', 0, 'review', 0.2,"
        f" '[\"văn bản ghi ngày 05/10/2033, sau ngày nhận (05/10/2023)\"]', '{at}', 2023, '{at}')")
    new = REVIEW_CASES["unknown issuer"]()
    with Store.open(tmp_path) as store:
        (old,) = store.items()
        assert old.reason_code is None
        store.record_processed(4, MessageSummary("<m4@x>", SCHOOL_MAIL, "", None, "none"),
                               [ItemRow(new, "", old.received_at, 2023, 0)], datetime(2023, 10, 5, 10, tzinfo=VN))
        codes = {i.filename: i.reason_code for i in store.items()}
        review = {r.filename: r for r in status_for(store, RULES, datetime(2023, 10, 20, tzinfo=VN), 2023).review}
    assert codes == {"old.pdf": None, "hoso.pdf": R.UNKNOWN_ISSUER}
    assert review["hoso.pdf"].reason_code is R.UNKNOWN_ISSUER
    # the old row is still guessed, from its wording
    old_guess = review_guess(review["old.pdf"].reason, "old.pdf", (), RULES.campaign, review["old.pdf"].reason_code)
    assert (old_guess.cause, old_guess.likely) == ("future_date", False)
