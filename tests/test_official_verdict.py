"""The verdict: observations weighed against an office's policy into Evidence (issue 16's contract)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.official.minutes import check_minutes
from bot.official.numbering import NumberDate
from bot.official.policy import OfficialPolicy, Requirement, parse_policy
from bot.official.seal import PageSeal
from bot.official.signature import DigitalSignature, SignatureReport, TrustRoots
from bot.official.signblock import BlockFinding, SignatureBlock
from bot.official.verdict import Cycle, Medium, Observations, judge, observe
from tests import officialfactory as f

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CYCLE = Cycle(date(2023, 8, 1), date(2023, 10, 10))
SIGNED = datetime(2023, 10, 4, 20, 30, tzinfo=timezone.utc)  # 05/10/2023 in Hồ Chí Minh City
DEFAULT = parse_policy(["signed_or_stamped", "number", "date_in_cycle"], "test")
STRICT = parse_policy(["signed_or_stamped", "number", "date_in_cycle", "minutes_parts"], "test")


def sig(**changes) -> DigitalSignature:
    base = dict(field="Signature1", signer="Nguyễn Văn A", organisation="Trường THCS Nguyễn Hiền",
                signed_at=SIGNED, intact=True, covers_whole_file=True, modified_after_signing=False,
                trusted=None, certificate_valid_at_signing=True)
    base.update(changes)
    return DigitalSignature(**base)


NUMBERED = NumberDate(number="12/TTr-THCSNH", code="TTr", code_matches=True, date=date(2023, 10, 5),
                      in_cycle=True)
BLOCK = BlockFinding((SignatureBlock("HIỆU TRƯỞNG", "Nguyễn Văn An", 20),))
SEAL = (PageSeal(2, True, "trang 2: có dấu đỏ tròn"),)
NO_SEAL = (PageSeal(2, False, "trang 2: không thấy dấu đỏ"),)
FAINT = (PageSeal(2, None, "trang 2: có vùng đỏ tròn nhưng quá mờ, chưa chắc là dấu"),)


def obs(medium=Medium.SCAN, **changes) -> Observations:
    base = dict(medium=medium, numbering=NUMBERED, codes=("TTr",), cycle=CYCLE)
    base.update(changes)
    return Observations(**base)


# name, observations, policy, official, problems expected (subset), missing
SIGNED_PDF = SignatureReport((sig(),))
NO_VOTE = check_minutes(
    "Thời gian: 14 giờ ngày 3/10\nĐịa điểm: phòng họp\nThành phần: 25 người\nChủ trì: ông A\nThư ký: bà B\n"
    "Hội nghị thống nhất đề nghị Phòng Giáo dục xét công nhận.")
CASES = [
    ("digitally signed, no trust roots: official, issuer unverified",
     obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(),))), DEFAULT, True,
     ["chưa xác minh được nơi cấp chứng thư"], []),
    ("digitally signed, trusted", obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(trusted=True),))),
     DEFAULT, True, [], []),
    ("digitally signed, untrusted root: still official",
     obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(trusted=False),))), DEFAULT, True,
     ["chưa xác minh được nơi cấp chứng thư"], []),
    ("modified after signing: never official, even with an empty policy",
     obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(modified_after_signing=True, covers_whole_file=False),))),
     OfficialPolicy(), False, ["tệp đã bị sửa hoặc thêm nội dung sau khi Nguyễn Văn A ký số"], []),
    ("bytes edited in the signed range", obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(intact=False),))),
     DEFAULT, False,
     ["chữ ký số của Nguyễn Văn A không khớp với nội dung: tệp đã bị sửa sau khi ký"], ["signed_or_stamped"]),
    ("certificate expired when signed",
     obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(certificate_valid_at_signing=False),))), DEFAULT, False,
     ["chứng thư số của Nguyễn Văn A không còn hoặc chưa có hiệu lực vào lúc ký"], ["signed_or_stamped"]),
    ("unreadable signature: cannot tell",
     obs(Medium.TEXT_PDF, signatures=SignatureReport(error="không đọc được chữ ký số trong tệp PDF")), DEFAULT,
     None, [], []),
    ("Word draft", obs(Medium.WORD), DEFAULT, False,
     ["bản Word chưa ký: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"], ["signed_or_stamped"]),
    ("Word draft, office accepts Word", obs(Medium.WORD), OfficialPolicy(), True, [], []),
    ("text PDF without signature", obs(Medium.TEXT_PDF, blocks=BLOCK), DEFAULT, False,
     ["bản PDF chưa ký: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"], ["signed_or_stamped"]),
    ("searchable scan: text PDF whose page shows a seal", obs(Medium.TEXT_PDF, blocks=BLOCK, pages=SEAL),
     DEFAULT, True, [], []),
    ("scan with seal and signature block", obs(blocks=BLOCK, pages=SEAL), DEFAULT, True, [], []),
    ("scan without seal", obs(blocks=BLOCK, pages=NO_SEAL), DEFAULT, False,
     ["bản scan không thấy dấu đỏ: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"],
     ["signed_or_stamped"]),
    ("scan with faint seal: cannot tell", obs(blocks=BLOCK, pages=FAINT), DEFAULT, None, [], []),
    ("seal but no readable signer: cannot tell", obs(pages=SEAL), DEFAULT, None, [], []),
    ("scan not OCR'd: number and date cannot be told",
     obs(blocks=BlockFinding(), pages=SEAL, text_read=False, numbering=NumberDate()),
     parse_policy(["seal", "number", "date"], "t"), None, [], []),
    # a text layer (Word printed to PDF, digitally signed) is read as it is: what is not there is missing
    ("signed PDF, number of another kind", obs(Medium.TEXT_PDF, signatures=SIGNED_PDF, numbering=NumberDate(
        number="12/BC-THCSNH", code="BC", code_matches=False, date=date(2023, 10, 5), in_cycle=True)),
     DEFAULT, False, ["số văn bản 12/BC-THCSNH mang ký hiệu BC, không phải TTr"], ["number"]),
    ("signed PDF, blank number and date", obs(Medium.TEXT_PDF, signatures=SIGNED_PDF, numbering=NumberDate(
        number_blank=True, date_blank=True)),
     DEFAULT, False, ["số văn bản còn để trống", "ngày tháng văn bản còn để trống"], ["number", "date_in_cycle"]),
    ("signed PDF, last year's date", obs(Medium.TEXT_PDF, signatures=SIGNED_PDF, numbering=NumberDate(
        number="12/TTr-THCSNH", code="TTr", code_matches=True, date=date(2022, 9, 28), in_cycle=False)),
     DEFAULT, False, ["ngày văn bản 28/09/2022 không thuộc đợt này (01/08/2023 – 10/10/2023)"], ["date_in_cycle"]),
    ("signed PDF minutes without a vote", obs(Medium.TEXT_PDF, signatures=SIGNED_PDF, minutes=NO_VOTE),
     STRICT, False, ["biên bản thiếu: kết quả biểu quyết"], ["minutes_parts"]),
    # OCR'd text: only a clean reading counts; what was not read is never asked of the school. A seal and a
    # signature do not prove a number or a date (a stamped paper's number may be blank, written by hand):
    # what the policy requires and OCR did not read makes the copy undecided (a question), never official.
    ("stamped scan, OCR read no number and no date", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate()),
     DEFAULT, None, [], []),
    ("stamped scan, OCR read a garbled number", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number="06/äC-NTBB", code="äC", code_matches=False, date=date(2023, 10, 5), in_cycle=True)),
     DEFAULT, None, [], []),
    ("stamped scan, number and date read cleanly", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number="12/TTr-THCSNH", code="TTr", code_matches=True, date=date(2023, 10, 5), in_cycle=True)),
     DEFAULT, True, [], []),
    ("stamped scan, a letter of the issuer misread with a diacritic", obs(blocks=BLOCK, pages=SEAL,
     numbering=NumberDate(number="19/BB-THTỢT", code="BB", code_matches=True, date=date(2023, 10, 5), in_cycle=True)),
     DEFAULT, True, [], []),
    ("stamped scan, number not required and not read", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        date=date(2023, 10, 5), in_cycle=True)), parse_policy(["signed_or_stamped", "date_in_cycle"], "t"),
     True, [], []),
    ("stamped scan, date only below the title (a meeting's date)", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number="12/BB-THCSNH", code="BB", code_matches=True, date=date(2023, 10, 5), in_cycle=True,
        date_below_title=True)), DEFAULT, None, [], []),
    ("stamped scan, date out of the cycle only below the title: not a contradiction",
     obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(number="12/BB-THCSNH", code="BB", code_matches=True,
                                                        date=date(2022, 12, 28), in_cycle=False,
                                                        date_below_title=True)), DEFAULT, None, [], []),
    # a clean reading that says the paper is wrong: the coordinator looks (not asked, not official)
    ("stamped scan, OCR read another kind's code cleanly", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number="12/BC-THCSNH", code="BC", code_matches=False, date=date(2023, 10, 5), in_cycle=True)),
     DEFAULT, None, [], []),
    ("stamped scan, OCR read a blank number and date", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number_blank=True, date_blank=True)), DEFAULT, None, [], []),
    ("stamped scan, OCR read a date out of the cycle", obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number="12/TTr-THCSNH", code="TTr", code_matches=True, date=date(2022, 9, 28), in_cycle=False)),
     DEFAULT, None, [], []),
    ("scan without a seal, number not read: only the seal is asked", obs(blocks=BLOCK, pages=NO_SEAL),
     DEFAULT, False, ["bản scan không thấy dấu đỏ: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"],
     ["signed_or_stamped"]),
    ("faint seal, number not read: undecided", obs(blocks=BLOCK, pages=FAINT), DEFAULT, None, [], []),
    ("stamped scan minutes, vote not read: undecided", obs(blocks=BLOCK, pages=SEAL, minutes=NO_VOTE),
     STRICT, None, [], []),
    ("not a minutes: minutes_parts does not apply", obs(blocks=BLOCK, pages=SEAL), STRICT, True, [], []),
    ("digital signature required, scan given", obs(blocks=BLOCK, pages=SEAL),
     parse_policy(["digital_signature"], "t"), False, ["chưa có chữ ký số: đề nghị gửi bản ký số"],
     ["digital_signature"]),
    ("trusted signature required, no roots configured: cannot tell",
     obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(),))), parse_policy(["trusted_signature"], "t"), None,
     [], []),
    ("typed copy '(Đã ký)'", obs(Medium.TEXT_PDF, blocks=BlockFinding(BLOCK.blocks, (), True)), DEFAULT, False,
     ["bản đánh máy lại ghi “(Đã ký)”, không phải bản có chữ ký"], ["signed_or_stamped"]),
]


@pytest.mark.parametrize("observed,policy,official,problems,missing", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_verdicts(observed, policy, official, problems, missing):
    ev = judge(observed, policy, TZ)
    assert ev.official is official
    for p in problems:
        assert p in ev.problems
    assert [r.value for r in ev.missing] == missing
    if official is None:
        assert ev.doubts, "an undecided verdict says why, for the coordinator's question"
    if official is True:
        assert not ev.missing
        assert not ev.doubts, "an official copy leaves nothing in doubt"
    if observed.medium == Medium.SCAN and observed.numbering.code_matches is False:
        assert ev.number is None and not any(observed.numbering.code in x for x in ev.seen + ev.problems), \
            "a misread is not shown to the school"
    if observed.medium == Medium.SCAN:
        assert "missing" not in " ".join(ev.problems) and not any(
            r.value in ("number", "date", "date_in_cycle", "minutes_parts") for r in ev.missing), \
            "nothing unread on a scan is asked of the school"


def test_seen_says_who_signed_when_in_local_time():
    ev = judge(obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(),))), DEFAULT, TZ)
    assert "đã ký số bởi Nguyễn Văn A, Trường THCS Nguyễn Hiền, 05/10/2023" in ev.seen
    assert "số 12/TTr-THCSNH" in ev.seen and "ngày 05/10/2023" in ev.seen


def test_seen_names_seal_page_and_signer():
    ev = judge(obs(blocks=BLOCK, pages=(PageSeal(1, False, "trang 1: không thấy dấu đỏ"),) + SEAL), DEFAULT, TZ)
    assert ev.seal is True and ev.seal_page == 2
    assert "có dấu đỏ và chữ ký của HIỆU TRƯỞNG Nguyễn Văn An (trang 2)" in ev.seen


def test_json_contract():
    ev = judge(obs(Medium.TEXT_PDF, signatures=SignatureReport((sig(),))), DEFAULT, TZ)
    data = ev.to_json()
    assert {"official", "digital_signature", "seal", "signature_block", "number", "date", "problems"} <= set(data)
    assert data["official"] is True and data["date"] == "2023-10-05" and data["number"] == "12/TTr-THCSNH"
    assert set(data["digital_signature"]) == {"signer", "organisation", "signed_at", "intact",
                                              "covers_whole_file", "modified_after_signing", "trusted"}
    assert data["problems"] == ["chưa xác minh được nơi cấp chứng thư"]
    word = judge(obs(Medium.WORD), DEFAULT, TZ).to_json()
    assert word["official"] is False and word["digital_signature"] is None and word["seal"] is False


# --------------------------------------------------------------------------
# End to end on real files: observe() then judge()
# --------------------------------------------------------------------------

NOW = datetime(2023, 10, 12, 3, 0, tzinfo=timezone.utc)
LINES = ["UBND QUẬN 12                      CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
         "TRƯỜNG THCS NGUYỄN HIỀN           Độc lập - Tự do - Hạnh phúc",
         "Số: 12/TTr-THCSNH                 Quận 12, ngày 05 tháng 10 năm 2023",
         "TỜ TRÌNH", "Về việc đề nghị công nhận đơn vị điển hình",
         "Nơi nhận:                         HIỆU TRƯỞNG", "- Như trên;", "", "Nguyễn Văn An"]


@pytest.fixture(scope="module")
def pki():
    return f.make_pki(NOW)


def test_end_to_end_signed_pdf(pki):
    pdf = f.sign(f.plain_pdf(tuple(LINES)), pki.signer, (pki.root,), SIGNED)
    trusted = judge(observe(medium=Medium.TEXT_PDF, lines=LINES, codes=["TTr"], cycle=CYCLE, now=NOW, pdf=pdf,
                            roots=TrustRoots((pki.root.cert,))), DEFAULT, TZ)
    assert trusted.official is True and trusted.problems == ()
    assert trusted.digital_signature.trusted is True
    tampered = judge(observe(medium=Medium.TEXT_PDF, lines=LINES, codes=["TTr"], cycle=CYCLE, now=NOW,
                             pdf=f.add_page_after_signing(pdf)), OfficialPolicy(), TZ)
    assert tampered.official is False and tampered.tampered


def test_end_to_end_unsigned_pdf_is_a_draft():
    ev = judge(observe(medium=Medium.TEXT_PDF, lines=LINES, codes=["TTr"], cycle=CYCLE, now=NOW,
                       pdf=f.plain_pdf(tuple(LINES))), DEFAULT, TZ)
    assert ev.official is False and ev.missing == (Requirement.SIGNED_OR_STAMPED,)
    assert ev.number == "12/TTr-THCSNH" and ev.date == date(2023, 10, 5) and ev.signature_block is True


@pytest.mark.parametrize("spec,official", [
    (f.Page(rotate=6, shadow=True), True),
    (f.Page(seal=False, red_logo=True, red_title=True), False),
    (f.Page(seal_strength=0.35), None),
])
def test_end_to_end_photo(spec, official):
    ev = judge(observe(medium=Medium.SCAN, lines=LINES, codes=["TTr"], cycle=CYCLE, now=NOW,
                       page_images=[(1, f.page_image(spec))]), DEFAULT, TZ)
    assert ev.official is official


MINUTES_LINES = LINES[:3] + ["BIÊN BẢN HỌP XÉT, ĐỀ NGHỊ", "Thời gian: 14 giờ 00", "Địa điểm: phòng họp",
                             "Thư ký: bà Lê Thị Hoa", "THƯ KÝ           CHỦ TỌA", "Lê Thị Hoa      Nguyễn Văn An"]


def test_observations_on_a_minutes_scan_ask_nothing_that_ocr_did_not_read():
    o = observe(medium=Medium.SCAN, lines=MINUTES_LINES, codes=["BB"], cycle=CYCLE, now=NOW, is_minutes=True,
                page_images=[(1, f.page_image(f.Page(title="CHỦ TỌA")))])
    ev = judge(o, STRICT, TZ)
    # OCR by need may not have read the pages with the vote: a question for the coordinator, no ask
    assert ev.official is None and ev.missing == () and ev.problems == ()
    assert "chưa đọc được trên bản scan các phần của biên bản: thành phần, kết quả biểu quyết, nội dung đề nghị" \
        in ev.doubts
    assert ev.number is None  # "Số: 12/TTr-..." read on a minutes: not shown to the school


def test_observations_on_a_minutes_text_pdf_are_strict():
    o = observe(medium=Medium.TEXT_PDF, lines=MINUTES_LINES, codes=["BB"], cycle=CYCLE, now=NOW, is_minutes=True,
                page_images=[(1, f.page_image(f.Page(title="CHỦ TỌA")))])
    ev = judge(o, STRICT, TZ)
    assert ev.official is False
    # the chair is named by the signature block (CHỦ TỌA), the rest is not there
    assert "biên bản thiếu: thành phần, kết quả biểu quyết, nội dung đề nghị" in ev.problems
    assert Requirement.NUMBER in ev.missing  # "Số: 12/TTr-..." on a minutes is the wrong code


def test_a_date_below_the_title_is_not_shown_nor_held_against_the_scan():
    ev = judge(obs(blocks=BLOCK, pages=SEAL, numbering=NumberDate(
        number="12/BB-THCSNH", code="BB", code_matches=True, date=date(2022, 12, 28), in_cycle=False,
        date_below_title=True)), DEFAULT, TZ)
    assert ev.official is None and ev.date is None
    assert not any("không thuộc đợt này" in d for d in ev.doubts), "a citation's date is no contradiction"
    assert "không đọc được rõ ngày tháng văn bản trên bản scan" in ev.doubts
