"""Mail the bot had never seen (issue 12, items 5 and 7), through ``app.poll``
on a folder: what the coordinator then sees in the status and the items."""
from __future__ import annotations

import json

import pytest

from bot import app
from bot.extract import ocr_unavailable_reason
from bot.status import status_for, to_json
from bot.store import Store

from . import docfactory as df
from . import hostile as H
from . import mailfactory as mf
from .outgoing import at, make_ctx

OCR_MISSING = ocr_unavailable_reason()
SCHOOL, NAME = H.SCHOOLS[0][0], H.SCHOOLS[0][1]  # THCS Nguyễn Hiền
SENT = "Thu, 05 Oct 2023 09:32:00 +0700"


def page_photo() -> bytes:
    """A Tờ trình page as a phone or Apple Mail would insert it: a JPEG the size of an A4 page."""
    doc = H.school_doc(0, 0)
    lines = [doc.issuer, doc.number, "Quận 12, ngày 05 tháng 10 năm 2023", doc.title,
             "Về việc đề nghị công nhận cơ sở giáo dục điển hình", "về phong trào toàn dân bảo vệ an ninh Tổ quốc",
             "năm học 2023-2024", "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12"]
    return df.text_image(lines, fmt="JPEG", font_size=32)


def poll(tmp_path, *mails: bytes):
    ctx = make_ctx(tmp_path)
    (tmp_path / "inbox").mkdir()
    for i, raw in enumerate(mails):
        (tmp_path / "inbox" / f"{i}.eml").write_bytes(raw)
    # the receipt times, as exported with the mail (a .msg file has no Received header to take one from)
    (tmp_path / "inbox" / "internaldates.json").write_text(json.dumps(
        {f"{i}.eml": at(5, 9, 32).isoformat() for i in range(len(mails))}))
    report = app.poll(ctx, at(12, 9))
    return ctx, report


@pytest.mark.slow
@pytest.mark.skipif(OCR_MISSING is not None, reason=f"tesseract with Vietnamese data: {OCR_MISSING}")
def test_a_tờ_trình_photo_inserted_inline_by_apple_mail_counts_for_the_school(tmp_path):
    raw = mf.build("apple", sender=SCHOOL, sender_name=NAME, subject="Tờ trình", date=SENT,
                   text="Kính gửi Phòng,\nTrường gửi Tờ trình.", logo=True,
                   files=[mf.File("IMG_0412.jpeg", page_photo(), "image/jpeg", cid="F3C1A2B4-0412@apple")])
    ctx, _ = poll(tmp_path, raw)
    with Store.open(ctx.config.paths.state) as store:
        items = [(i.filename, i.decision, i.school, i.doc_types) for i in store.items()]
        status = to_json(status_for(store, ctx.rules, at(12, 10)))
    assert items == [("IMG_0412.jpeg", "counted", "thcs-nguyen-hien", ("to_trinh",))]  # the logo is no item
    (school,) = [s for s in status["schools"] if s["code"] == "thcs-nguyen-hien"]
    assert school["documents"]["to_trinh"]["status"] != "missing"


def test_an_outlook_msg_saved_as_eml_is_a_review_item_with_its_reason(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000)
    ctx, report = poll(tmp_path, ole)
    assert report.processed == 1
    with Store.open(ctx.config.paths.state) as store:
        (item,) = store.items()
    assert item.decision == "review" and any("Outlook (.msg)" in r for r in item.reasons)


def test_an_outlook_msg_saved_as_eml_counts_the_documents_it_holds(tmp_path):
    transport = (f"From: {NAME} <{SCHOOL}>\nTo: phong@pgd-q12.example\nDate: {SENT}\n"
                 "Message-ID: <saved-from-outlook@hcm-edu.example>\nSubject: Ho so\n")
    msg = mf.outlook_msg(subject="Hồ sơ đề nghị công nhận", transport_headers=transport,
                         files=[(H.DOCUMENTS[0][3], H.good_pdf(0, 0))])
    ctx, report = poll(tmp_path, msg)
    with Store.open(ctx.config.paths.state) as store:
        items = [(i.filename, i.decision, i.school, i.doc_types) for i in store.items()]
    assert items == [(H.DOCUMENTS[0][3], "counted", "thcs-nguyen-hien", ("to_trinh",))]
