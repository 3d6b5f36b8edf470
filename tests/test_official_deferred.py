"""A scan's official-copy reads (the signer around the seal, the head and a Biên
bản's pages read again: OCR) are left for after classification and done only
where they may decide the verdict (issue 15 item 1; docs/official-copies.md,
"When it is checked").

The choice is a pure function (a table of cases); the reads themselves run on
a drawn, photographed page read by tesseract; the poll on a real folder
mailbox and real SQLite."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.cli import main
from bot.model import Attachment, DocumentPart
from bot.official.evidence import Medium
from bot.official.record import BODY, HEAD, SIGNER, OfficialInputs, inputs_from_dict, inputs_to_dict
from bot.official.seal import PageSeal
from bot.officialcopy import evidence_for, rereading_may_decide
from bot.rules.load import load_rules

from . import mailfactory as mf
from .configs import write_config
from .test_official_e2e import BAO_CAO, SENDER, scan

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGN = load_rules(ROOT / "rules").campaign
RECEIVED = datetime(2023, 10, 5, 2, tzinfo=timezone.utc)

_HEAD = "TRƯỜNG THCS NGUYỄN HIỀN\n{number}\nQuận 12, ngày {day} tháng 10 năm 2023\nBÁO CÁO\nKết quả năm 2023"
_BLOCK = "\nHIỆU TRƯỞNG\nNguyễn Văn An"
SEAL = PageSeal(1, True, "trang 1: có dấu đỏ tròn")
NO_SEAL = PageSeal(1, False, "trang 1: không thấy dấu đỏ")
FAINT = PageSeal(1, None, "trang 1: có vùng đỏ tròn nhưng quá mờ")


def _part(number="Số: 15/BC-THCSNH", day="06", block=False) -> DocumentPart:
    text = _HEAD.format(number=number, day=day) + (_BLOCK if block else "")
    return DocumentPart(head=text, text=text)


@pytest.mark.parametrize("seal, part, deferred, reads", [
    (SEAL, _part(), (1,), True),                            # stamped, signer not read: the crop may decide
    (SEAL, _part(block=True), (1,), False),                 # stamped and signed, number and date read: official
    (SEAL, _part(number="Số: (T8TRRĐ", block=True), (1,), True),  # number garbled: the head again may decide
    (SEAL, _part(day="2!", block=True), (1,), True),        # date garbled: likewise
    (NO_SEAL, _part(number="Số: (T8TRRĐ"), (1,), False),    # no seal: not official whatever is read
    (FAINT, _part(number="Số: (T8TRRĐ"), (1,), False),      # a faint seal: the coordinator decides anyway
    (SEAL, _part(), (), False),                             # nothing left for later
    (SEAL, _part(), (3,), False),                           # left for another part of the file
])
def test_reads_left_for_later_are_done_only_where_they_may_decide(seal, part, deferred, reads):
    inputs = OfficialInputs(medium=Medium.SCAN, pages=(seal,), deferred=deferred)
    doc = CAMPAIGN.doc_type("bao_cao")
    assert rereading_may_decide(inputs, part, doc, CAMPAIGN, 2023, RECEIVED) is reads
    if not reads and part.first_page in deferred:  # what is not read would not have changed the answer
        full = OfficialInputs(medium=Medium.SCAN, pages=(seal,),
                              signer_text=((1, "HIỆU TRƯỞNG\nNguyễn Văn An"),),
                              head_text=((1, _HEAD.format(number="Số: 15/BC-THCSNH", day="06")),))
        assert (evidence_for(inputs, part, doc, CAMPAIGN, 2023, RECEIVED).official
                == evidence_for(full, part, doc, CAMPAIGN, 2023, RECEIVED).official)


def test_the_parts_left_for_later_survive_the_cache():
    inputs = OfficialInputs(medium=Medium.SCAN, pages=(SEAL,), deferred=(1, 4))
    assert inputs_from_dict(json.loads(json.dumps(inputs_to_dict(inputs)))).deferred == (1, 4)
    assert inputs_from_dict({"medium": "scan"}).deferred == ()  # written before: nothing left for later


@pytest.mark.parametrize("part, reads, decides", [
    (_part(number="Số: (T8TRRĐ"), {SIGNER, HEAD}, True),   # both may still come: worth the signer's crop
    (_part(number="Số: (T8TRRĐ"), {HEAD}, False),          # the signer was read and not found: stop
    (_part(), {HEAD}, False),                              # number and date read: the head adds nothing
    (_part(number="Số: (T8TRRĐ", block=True), {HEAD}, True),
    (_part(), {BODY}, True),                               # a page read whole may show the signer
])
def test_each_read_is_done_only_while_what_is_left_may_decide(part, reads, decides):
    """The reads go cheapest first; before each, what is still to read must be able to make the copy official."""
    inputs = OfficialInputs(medium=Medium.SCAN, pages=(SEAL,), deferred=(1,))
    doc = CAMPAIGN.doc_type("bao_cao")
    assert rereading_may_decide(inputs, part, doc, CAMPAIGN, 2023, RECEIVED, reads) is decides


@pytest.fixture(scope="module")
def stamped_scan() -> bytes:
    return scan(BAO_CAO)


@pytest.mark.slow
def test_a_stamped_scan_is_read_around_its_seal_only_when_asked(stamped_scan):
    """Extraction finds the seal and leaves the signer for later; completing reads it."""
    from bot.extract import ExtractLimits, extract
    from bot.extract.official import complete_official

    result = extract(Attachment("bao-cao.jpg", "image/jpeg", stamped_scan), ocr=True)
    inputs = result.official
    assert [p.seal for p in inputs.pages] == [True]
    assert inputs.signer_text == () and inputs.deferred == (1,)
    done = complete_official(stamped_scan, result, {1}, ExtractLimits())
    assert done.official.deferred == ()
    assert any("HIỆU TRƯỞNG" in text for _, text in done.official.signer_text)
    assert complete_official(stamped_scan, result, {2}, ExtractLimits()) == result  # no such part


def _poll(tmp_path: Path, data: bytes, name: str, subject: str):
    """One mail with one photo, polled; (the photo's cached official-copy inputs, the items)."""
    from bot import app
    from bot.archive import sha256
    from bot.extract import cache_version
    from bot.store import Store

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(mf.build("gmail", sender=SENDER, sender_name="Trường THCS Nguyễn Hiền",
                                           subject=subject, date="Thu, 05 Oct 2023 09:30:00 +0700",
                                           files=[mf.File(name, data)], message_id="<deferred-1@hcm-edu.example>"))
    config = write_config(tmp_path, f'source = "folder"\npath = "{inbox}"')
    assert main(["--config", str(config), "--now", "2023-10-06T08:00", "poll"]) == 0
    ctx = app.load(config)
    with Store.open(ctx.config.paths.state) as store, app.new_extractor(ctx) as pool:
        cached = store.cached_extractions([sha256(data)], cache_version(pool.limits))
        return cached[sha256(data)].official, store.items()


@pytest.mark.slow
def test_a_counted_stamped_scan_has_its_signer_read_and_cached(tmp_path, stamped_scan):
    official, items = _poll(tmp_path, stamped_scan, "bao-cao.jpg", "Hồ sơ đề nghị công nhận điển hình ANTQ")
    assert official.deferred == () and official.signer_text  # read after classifying, and cached so
    (evidence,) = [i.evidence for i in items if i.evidence is not None]
    assert evidence.official is True and any("chữ ký của HIỆU TRƯỞNG" in s for s in evidence.seen)


@pytest.mark.slow
def test_a_scan_that_does_not_count_is_not_read_again(tmp_path):
    """A photo sent for nothing of the campaign (no document type): its seal's signer is never read."""
    holiday = scan(("Ảnh chụp buổi dã ngoại của lớp 9A", "Chúc mọi người cuối tuần vui vẻ"))
    official, items = _poll(tmp_path, holiday, "anh.jpg", "Ảnh dã ngoại")
    assert official.signer_text == () and official.deferred == (1,)
    assert all(i.evidence is None for i in items)


VN = CAMPAIGN.tz
ARRIVED = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
NOW = datetime(2023, 10, 6, 8, 0, tzinfo=VN)


def _stamped_mail(n: int, data: bytes) -> bytes:
    return mf.build("gmail", sender=SENDER, sender_name="Trường THCS Nguyễn Hiền",
                    subject="Hồ sơ đề nghị công nhận điển hình ANTQ", date="Thu, 05 Oct 2023 09:30:00 +0700",
                    files=[mf.File(f"bao-cao-{n}.jpg", data)], message_id=f"<deferred-{n}@hcm-edu.example>")


def _evidence(store) -> list:
    """``official`` of the stamped scans' items."""
    return [i.evidence.official for i in store.items() if i.filename.startswith("bao-cao-") and i.evidence]


@pytest.mark.slow
def test_inline_the_counted_scan_is_read_around_its_seal(tmp_path, stamped_scan):
    """The Extractor without workers (tests, debugging) does the reads in the bot's process."""
    from bot.extract import Extractor
    from bot.ingest import PollReport
    from bot.model import RawMessage
    from bot.pipeline import process_pending
    from bot.store import Store

    rules = load_rules(ROOT / "rules")
    with Store.open(tmp_path / "state") as store, Extractor(workers=0, ocr=True) as inline:
        store.record_fetched([RawMessage("t:1", _stamped_mail(1, stamped_scan), ARRIVED)], NOW)
        report = PollReport()
        assert process_pending(store, rules, inline, NOW, report, ocr_available=True)
        assert report.processed == 1
        assert _evidence(store) == [True]


def _die(*args):
    import os

    os._exit(9)  # as a segfault in a reader: the worker is gone


class DyingReads:
    """The real pool, whose worker dies while it does a scan's reads left for later (once)."""

    def __init__(self, pool):
        self.pool, self.died = pool, False

    def __getattr__(self, name):
        return getattr(self.pool, name)

    def submit_call(self, key, function, *args):
        from bot.pipeline.items import classified_completing

        if function is classified_completing and not self.died:
            self.died = True
            function = _die
        self.pool.submit_call(key, function, *args)


@pytest.mark.slow
def test_a_worker_dying_on_the_reads_charges_only_that_message(tmp_path, stamped_scan):
    """The reads after classifying are the message's own work: a worker's death on them charges it
    (one attempt; the next poll reads it again), and the other messages are recorded."""
    from bot.extract import Extractor
    from bot.ingest import PollReport
    from bot.model import RawMessage
    from bot.pipeline import process_pending
    from bot.store import Store

    from . import hostile as H

    rules = load_rules(ROOT / "rules")
    mails = [H.bulk_mail(n) for n in range(4)] + [_stamped_mail(9, stamped_scan)]
    with Store.open(tmp_path / "state") as store, Extractor(workers=2, timeout=60, ocr=True) as pool:
        store.record_fetched([RawMessage(f"t:{n}", m, ARRIVED) for n, m in enumerate(mails)], NOW)
        first, second = PollReport(), PollReport()
        process_pending(store, rules, DyingReads(pool), NOW, first, ocr_available=True)
        assert (first.processed, first.failed, first.quarantined) == (4, 1, 0)
        process_pending(store, rules, pool, NOW, second, ocr_available=True)
        assert (second.processed, second.failed) == (1, 0)
        assert _evidence(store) == [True]
