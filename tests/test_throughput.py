"""What the speed work must not change, and what it promises (see README, Performance).

- ``[extraction] ocr`` is validated; "off" reaches the Extractor and classification;
- the Extractor hands results back as they finish; parse jobs run in the pool;
- with OCR, messages without scans are recorded before the scanned ones, and
  the message set aside is charged one attempt, not two;
- a poll with no new mail skips the planning of receipts unless something
  it depends on changed;
- the lean parse of a large mail gives exactly what the stdlib parse gives;
- the archive writes a batch with the same guarantees as one file at a time.

The figures themselves come from ``python -m bench.run`` (not a timed test).
"""
from __future__ import annotations

import base64
import dataclasses
import errno
import io
import json
import os
import re
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app, parse
from bot.archive import BlobStore, sha256
from bot.config.load import parse_config
from bot.config.model import ExtractionConfig
from bot.errors import ConfigError
from bot.extract import NEEDS_OCR, Extractor, JobFailed, cache_version, ocr_unavailable_reason
from bot.ingest import PollReport
from bot.model import Attachment, RawMessage
from bot.pipeline import process_pending
from bot.progress import ProgressReporter
from bot.rules.load import load_rules
from bot.store import Store

from . import docfactory as f
from . import mailfactory as mf
from .outgoing import make_ctx

ROOT = Path(__file__).resolve().parents[1]
VN = timezone(timedelta(hours=7))
OCR_MISSING = ocr_unavailable_reason()

BASE = """
[mailbox]
source = "folder"
path = "inbox"
[coordinator]
emails = ["mai@example.org"]
"""


def test_ocr_can_be_turned_off_and_a_wrong_value_names_the_key():
    default = parse_config(tomllib.loads(BASE), Path("/srv/bot"))
    assert default.extraction.ocr == "auto" and default.extraction.ocr_enabled is None
    off = parse_config(tomllib.loads(BASE + '[extraction]\nocr = "off"\n'), Path("/srv/bot"))
    assert off.extraction.ocr_enabled is False
    with pytest.raises(ConfigError, match=r"extraction\.ocr"):
        parse_config(tomllib.loads(BASE + '[extraction]\nocr = "maybe"\n'), Path("/srv/bot"))
    with pytest.raises(ConfigError, match=r"extraction\.workers"):
        parse_config(tomllib.loads(BASE + '[extraction]\nworkers = 3\n'), Path("/srv/bot"))


def test_ocr_off_reaches_the_extractor_and_classification(tmp_path):
    ctx = make_ctx(tmp_path)
    off = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, extraction=ExtractionConfig(ocr="off")))
    assert app.new_extractor(off).ocr is False and not app.ocr_enabled(off)


def test_every_file_of_a_downloaded_mail_is_read(tmp_path):
    # A 50 MB phone scan in a mail under max_message_mb is downloaded: it must not then be refused as too large.
    ctx = make_ctx(tmp_path)
    extractor = app.new_extractor(ctx)
    assert extractor.limits.max_bytes == ctx.config.mailbox.max_message_bytes == 60 * 1024 * 1024


def test_results_come_back_as_they_finish_and_parse_jobs_run_in_the_pool(tmp_path):
    pdf = f.official_pdf([f.OfficialDoc()])
    raw = mf.build(files=[mf.File("to-trinh.pdf", pdf)])
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    with Extractor(workers=2, timeout=30) as pool:
        pool.submit("a", Attachment("to-trinh.pdf", "application/pdf", pdf))
        pool.submit("b", Attachment("empty.pdf", "application/pdf", b""))
        pool.submit_parse(("parse", 1), str(path))
        pool.submit_parse(("parse", 2), str(tmp_path / "missing.eml"))
        got = {}
        while pool.pending:
            got.update(pool.ready(None))
    assert got["a"].error is None and got["b"].error
    message, digests = got[("parse", 1)]
    assert [a.filename for a in message.attachments] == ["to-trinh.pdf"] and digests == [sha256(pdf)]
    assert isinstance(got[("parse", 2)], JobFailed)


def test_a_file_over_the_size_limit_is_refused_without_a_worker():
    with Extractor(workers=1) as pool:
        pool.submit("big", Attachment("big.pdf", "application/pdf", b"%PDF-1.4 " + b"0" * (pool.limits.max_bytes + 1)))
        ((key, result),) = pool.ready(0)
        assert key == "big" and result.error and not pool._pool  # no worker was even started


@pytest.mark.skipif(OCR_MISSING is not None, reason=f"OCR: {OCR_MISSING}")
def test_scans_wait_for_the_ocr_pass_and_the_others_are_recorded_first(tmp_path):
    scan = f.image_pdf([f.text_image(["TỜ TRÌNH", "Về việc đề nghị công nhận"])])
    text = f.official_pdf([f.OfficialDoc()])
    with Extractor(workers=0) as inline:
        inline.submit("s", Attachment("scan.pdf", "application/pdf", scan), defer_ocr=True)
        assert inline.ready(0) == [("s", NEEDS_OCR)]
    t0 = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
    mails = [mf.build(message_id="<scan@x>", files=[mf.File("scan.pdf", scan)])] + [
        mf.build(message_id=f"<text-{n}@x>", files=[mf.File(f"to-trinh-{n}.pdf", text)]) for n in range(3)]
    rules = load_rules(ROOT / "rules")
    report = PollReport()
    with Store.open(tmp_path / "state") as store, Extractor(workers=0) as extractor:
        store.record_fetched([RawMessage(f"t:{n}", m, t0 + timedelta(minutes=n)) for n, m in enumerate(mails)], t0)
        assert process_pending(store, rules, extractor, t0, report, ocr_available=True)
        message_ids = {m.id: m.message_id for m in store.message_records()}
        order = [message_ids[i.message_row] for i in store.item_records()]
        attempts = {m.message_id: m.attempts for m in store.message_records()}
    assert order[-1] == "<scan@x>" and len(set(order)) == 4  # received first, recorded last
    assert attempts["<scan@x>"] == 0  # set aside once, then read: nothing charged
    assert report.processed == 4


@pytest.mark.skipif(OCR_MISSING is not None, reason=f"OCR: {OCR_MISSING}")
def test_the_progress_bar_of_a_poll_read_in_ocr_slices_counts_the_whole_poll(tmp_path):
    # app.poll processes in slices (OCR_SLICE_SECONDS), fetching new mail between two: the slice
    # after the first must not show "process 4/1" (the poll's count over the slice's own total).
    scan = f.image_pdf([f.text_image(["TỜ TRÌNH", "Về việc đề nghị công nhận"])])
    text = f.official_pdf([f.OfficialDoc()])
    t0 = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
    mails = [mf.build(message_id="<scan@x>", files=[mf.File("scan.pdf", scan)])] + [
        mf.build(message_id=f"<text-{n}@x>", files=[mf.File(f"to-trinh-{n}.pdf", text)]) for n in range(3)]
    rules = load_rules(ROOT / "rules")
    report, screen, needs_ocr = PollReport(), io.StringIO(), set()
    progress = ProgressReporter(stream=screen, interactive=True)
    with Store.open(tmp_path / "state") as store, Extractor(workers=0) as extractor:
        store.record_fetched([RawMessage(f"t:{n}", m, t0 + timedelta(minutes=n)) for n, m in enumerate(mails)], t0)
        slices = [process_pending(store, rules, extractor, t0, report, ocr_available=True, progress=progress,
                                  ocr_seconds=seconds, needs_ocr=needs_ocr) for seconds in (0.0, None)]
    progress.close()
    assert slices == [False, True] and report.processed == 4  # the scan was left for the second slice
    shown = [line.strip() for line in screen.getvalue().replace("\n", "\r").split("\r") if line.strip()]
    assert shown[0].startswith("process 3/4 [###############.....]")
    assert shown[-1].startswith("process 4/4 [####################]")
    assert all(line.startswith("process ") for line in shown)


def test_mail_recorded_while_a_run_is_processing_joins_that_run(tmp_path):
    """The fetch thread records batch after batch while the pool works: the run takes them as its
    queue empties instead of ending (the pool drained and idle) and leaving them to the next one."""
    t0 = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
    text = f.official_pdf([f.OfficialDoc()])
    mails = [RawMessage(f"t:{n}", mf.build(message_id=f"<text-{n}@x>", files=[mf.File(f"to-trinh-{n}.pdf", text)]),
                        t0 + timedelta(minutes=n)) for n in range(5)]
    shown = []

    def progress(stage: str, done: int, total: int | None) -> None:
        shown.append((done, total))
        if len(shown) == 1:  # the first batch is recorded: the fetch thread commits the next one
            with Store.open(tmp_path / "state") as fetch_store:
                fetch_store.record_fetched(mails[3:], t0)

    report = PollReport()
    with Store.open(tmp_path / "state") as store, Extractor(workers=0) as extractor:
        store.record_fetched(mails[:3], t0)
        assert process_pending(store, load_rules(ROOT / "rules"), extractor, t0, report, ocr_available=False,
                               progress=progress)
        assert store.message_counts() == {"done": 5}
    assert report.processed == 5 and shown[-1] == (5, 5)


class _CountingExtractor(Extractor):
    """An Extractor that remembers which files it was asked to read."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.asked: list[str] = []

    def submit(self, key, att, **kwargs):
        self.asked.append(att.filename)
        super().submit(key, att, **kwargs)


def test_a_pdf_sent_again_later_in_the_same_poll_is_read_once_with_ocr_off(tmp_path):
    """With OCR off a PDF is not cached (it may be a scan, read again once OCR is on), but the same
    bytes arriving again later in the same poll are not read again: the school's re-send gets
    the same items as the first copy."""
    t0 = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
    text = f.official_pdf([f.OfficialDoc()])
    first = [RawMessage("t:0", mf.build(message_id="<first@x>", files=[mf.File("to-trinh.pdf", text)]), t0)]
    again = [RawMessage("t:1", mf.build(message_id="<again@x>", files=[mf.File("to-trinh.pdf", text)]),
                        t0 + timedelta(minutes=5))]
    shown = []

    def progress(stage: str, done: int, total: int | None) -> None:
        shown.append(done)
        if len(shown) == 1:  # the first mail is recorded (its reading forgotten): the re-send arrives
            with Store.open(tmp_path / "state") as fetch_store:
                fetch_store.record_fetched(again, t0)

    report = PollReport()
    with Store.open(tmp_path / "state") as store, _CountingExtractor(workers=0, ocr=False) as extractor:
        store.record_fetched(first, t0)
        assert process_pending(store, load_rules(ROOT / "rules"), extractor, t0, report, ocr_available=False,
                               progress=progress)
        items = {}
        ids = {m.id: m.message_id for m in store.message_records()}
        for item in store.item_records():
            items.setdefault(ids[item.message_row], []).append((item.filename, item.decision, item.reasons))
        cached = store.cached_extractions([sha256(text)], cache_version(extractor.limits))
    assert report.processed == 2 and shown[-1] == 2
    assert extractor.asked == ["to-trinh.pdf"]  # read for the first mail only
    assert items["<first@x>"] == items["<again@x>"] and items["<first@x>"][0][1] == "counted"
    assert not cached  # and still not cached: a later poll with OCR on reads it again


def test_the_progress_bar_counts_a_mail_too_large_to_download_as_handled(tmp_path):
    t0 = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
    text = f.official_pdf([f.OfficialDoc()])
    big = mf.build(message_id="<big@x>", files=[mf.File("scan.pdf", text)])
    headers = big[:big.index(b"\r\n\r\n") + 4]  # all the mailbox hands over of a mail over max_message_mb
    fetched = [RawMessage("t:0", headers, t0, full_size=90 * 2**20, withheld="quá lớn")] + [
        RawMessage(f"t:{n}", mf.build(message_id=f"<text-{n}@x>", files=[mf.File(f"to-trinh-{n}.pdf", text)]),
                   t0 + timedelta(minutes=n)) for n in (1, 2)]
    report, screen = PollReport(), io.StringIO()
    progress = ProgressReporter(stream=screen, interactive=True)
    with Store.open(tmp_path / "state") as store, Extractor(workers=0) as extractor:
        store.record_fetched(fetched, t0)
        assert process_pending(store, load_rules(ROOT / "rules"), extractor, t0, report, ocr_available=False,
                               progress=progress)
    progress.close()
    assert report.quarantined == 1 and report.processed == 2
    shown = [line.strip() for line in screen.getvalue().replace("\n", "\r").split("\r") if line.strip()]
    assert shown[-1].startswith("process 3/3 [####################]")


def test_a_quiet_poll_plans_receipts_only_when_something_changed(tmp_path):
    ctx = make_ctx(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(mf.build(files=[mf.File("to-trinh.pdf", f.official_pdf([f.OfficialDoc()]))]))

    def planned_at(when: datetime) -> datetime:
        """Poll at ``when``; the time receipts were last planned (the "receipts" mark)."""
        app.poll(ctx, when, extractor=Extractor(workers=0))
        with Store.open(ctx.config.paths.state) as store:
            return store.mark("receipts")[0]

    now = datetime(2023, 10, 20, 8, 0, tzinfo=VN)
    assert planned_at(now) == now
    assert planned_at(now + timedelta(minutes=5)) == now  # nothing new, nothing young, nothing corrected: skipped
    with Store.open(ctx.config.paths.state) as store:
        store.add_correction(kind="exempt", cycle=2023, who="t", why="t", via="cli", now=now, school="mn-hoa-mai")
    assert planned_at(now + timedelta(minutes=10)) == now + timedelta(minutes=10)
    assert planned_at(now - timedelta(days=1)) == now - timedelta(days=1)  # the clock went back: plan again


def test_a_quiet_poll_still_plans_the_receipt_a_young_item_becomes_due_for(tmp_path):
    ctx = make_ctx(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    arrived = datetime(2023, 10, 5, 9, 0, tzinfo=VN)
    (inbox / "1.eml").write_bytes(mf.build(files=[mf.File("to-trinh.pdf", f.official_pdf([f.OfficialDoc()]))]))
    (inbox / "internaldates.json").write_text(json.dumps({"1.eml": arrived.isoformat()}))
    batch = timedelta(minutes=ctx.rules.campaign.reminders.receipt_batch_minutes)
    app.poll(ctx, arrived + timedelta(minutes=1), extractor=Extractor(workers=0))
    with Store.open(ctx.config.paths.state) as store:
        assert len([r for r in store.outbox_rows() if r.kind == "receipt"]) == 0
    app.poll(ctx, arrived + batch, extractor=Extractor(workers=0))  # nothing new, but the batch time has come
    with Store.open(ctx.config.paths.state) as store:
        assert len([r for r in store.outbox_rows() if r.kind == "receipt"]) == 1


def _big_mail(size: int, junk: bytes = b"") -> bytes:
    data = os.urandom(size)
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    if junk:
        body = body[:len(body) // 2] + junk + body[len(body) // 2:]
    return (b"From: a@b.c\r\nMessage-ID: <big@x>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
            b"Content-Type: text/plain\r\n\r\nHo so\r\n--XX\r\n"
            b"Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + body + b"--XX--\r\n"), data


@pytest.mark.parametrize("size", [5 * 1024 * 1024, 40 * 1024])  # a large mail, and an ordinary one
@pytest.mark.parametrize("junk", [b"", b"!!\r\n", b"QQ=\r\n", b"QQ==\r\n", b"Q=\r\n=\r\n", b"QUJD\r\n\r\n",
                                  b"\x00elided-0123456789abcdef-0\x00\r\n"])
def test_the_lean_parse_of_a_mail_is_the_stdlib_parse(monkeypatch, junk, size):
    raw, data = _big_mail(size, junk)
    lean = parse.parse_message(raw)
    monkeypatch.setattr(parse.mime, "_ELIDE_FROM", 10**12)
    plain = parse.parse_message(raw)
    assert lean == plain
    if not junk:
        assert lean.attachments[0].data == data and not lean.problems


_CLEAN_BASE64 = re.compile(rb"[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*")


@pytest.mark.parametrize("data", [b"", b"QUJD", b"QUJD\r\nQUI=\r\n", b"QQ==", b"QQ==\n\n", b"\nQQ==", b"QQ=\n=",
                                  b"QQ===", b"Q=Q=", b"QU JD", b"QUJD!", b"QUJD\x00", b"==", b"=\r\n", b"QUJ\xc3"])
def test_base64_chars_is_the_clean_base64_pattern_counted(data):
    """What the lean parse decodes in one step: clean, padded base64 lines (else the stdlib's path)."""
    expected = len(data) - data.count(b"\r") - data.count(b"\n") if _CLEAN_BASE64.fullmatch(data) else None
    assert parse.mime.base64_chars(memoryview(data)) == expected


def test_the_lean_parse_leaves_text_that_only_looks_like_base64_alone(monkeypatch):
    words = b"".join(b"Abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ%05d\r\n" % n for n in range(9000))
    raw = (b"From: a@b.c\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
           b"Content-Type: text/plain; name=list.txt\r\nContent-Disposition: attachment; filename=list.txt\r\n\r\n"
           + words + b"--XX--\r\n") * 1
    monkeypatch.setattr(parse.mime, "_ELIDE_FROM", 0)
    lean = parse.parse_message(raw)
    monkeypatch.setattr(parse.mime, "_ELIDE_FROM", 10**12)
    assert lean == parse.parse_message(raw)
    assert lean.attachments[0].data == words[:-2]  # the line break before the boundary belongs to it


def test_archive_batch_makes_each_file_durable_before_its_name_and_its_names_before_returning(tmp_path):
    """A crash (power cut) at any point leaves each archived message whole or absent: every file is
    fsync'ed before it is renamed into place, every directory after, all before the caller's commit."""
    blobs = [os.urandom(100 + n) for n in range(40)]
    targets = {sha256(b): tmp_path / "a" / sha256(b)[:2] / f"{sha256(b)}.eml" for b in blobs}
    synced_files, synced_dirs = set(), set()

    def watching_fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if path.is_dir():  # its names: every file of the batch in it is in place by now
            assert all(t.exists() for t in targets.values() if t.parent == path)
            synced_dirs.add(path)
        else:  # a file's data: not yet under its final name
            digest = path.name.split(".")[1]
            assert not targets[digest].exists()
            synced_files.add(digest)
        os.fsync(fd)

    store = BlobStore(tmp_path / "a", ".eml", fsync=watching_fsync)
    digests = store.put_many(blobs)
    store.sync_dirs(digests)
    assert synced_files == set(targets) and synced_dirs == {t.parent for t in targets.values()}
    assert [store.get(d) for d in digests] == blobs


def test_archive_batch_with_a_failed_fsync_renames_nothing(tmp_path):
    """The state disk fails (EIO, full): the error reaches the fetch, which records nothing; no file
    of the batch is under its name, and a later batch writes them all."""
    blobs = [os.urandom(100 + n) for n in range(20)]

    def failing_fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(f"{sha256(blobs[7])}.eml.{os.getpid()}.tmp"):
            raise OSError(errno.EIO, "Input/output error")
        os.fsync(fd)

    with pytest.raises(OSError):
        BlobStore(tmp_path / "a", ".eml", fsync=failing_fsync).put_many(blobs)
    assert not [p for p in (tmp_path / "a").rglob("*.eml")]
    store = BlobStore(tmp_path / "a", ".eml")
    assert [store.get(d) for d in store.put_many(blobs)] == blobs
    assert not [p for p in (tmp_path / "a").rglob("*.tmp")]


def test_archive_batch_write_matches_one_at_a_time(tmp_path):
    blobs = [b"one", b"two", b"one", os.urandom(1000)]
    batch, single = BlobStore(tmp_path / "a", ".eml"), BlobStore(tmp_path / "b", ".eml")
    (tmp_path / "a" / sha256(b"two")[:2]).mkdir(parents=True)
    stale = tmp_path / "a" / sha256(b"two")[:2] / f".{sha256(b'two')}.eml.999.tmp"
    stale.write_bytes(b"half")  # left by a process killed mid-write
    assert batch.put_many(blobs) == [single.put(b) for b in blobs]
    assert [batch.get(d) for d in map(sha256, blobs)] == blobs
    assert not stale.exists()
    assert batch.put_many(blobs) == [sha256(b) for b in blobs]  # idempotent
    assert not [p for p in (tmp_path / "a").rglob("*.tmp")]
