"""The state database: exactly-once recording, attempts and quarantine, stable item ids."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.errors import DismissError, StoreError
from bot.extract import Extractor
from bot.ingest import PollReport
from bot.model import DocumentPart, Extraction, ItemDecision, RawMessage
from bot.pipeline import process_pending
from bot.rules.load import load_rules
from bot.schema import MIGRATIONS
from bot.status import status_for
from bot.store import DIED_ALONE, ItemRow, MessageSummary, Store

from . import docfactory as f
from . import mailfactory as mf
from . import rawdb

ROOT = Path(__file__).resolve().parents[1]

NOW = datetime(2023, 10, 5, 8, tzinfo=timezone.utc)


def raw(n: int, body: str = "hello") -> RawMessage:
    data = f"Message-ID: <m{n}@school.vn>\r\nSubject: {n}\r\n\r\n{body}\r\n".encode()
    return RawMessage(f"test:{n}", data, datetime(2023, 10, 1, 9, n, tzinfo=timezone.utc))


def decision(filename="a.pdf", part=0, decision="counted", school="thcs-nguyen-hien") -> ItemDecision:
    return ItemDecision(filename=filename, part_index=part, school=school, doc_types=("to_trinh",), campaign=True,
                        decision=decision, confidence=0.9, reasons=("title 'TỜ TRÌNH' in header",))


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "state") as s:
        yield s


def test_raw_bytes_are_archived_before_and_with_the_row(store):
    assert store.record_fetched([raw(1), raw(2)], NOW, ("src", 7, 2)) == 2
    (p1,) = [p for p in store.pending(10, 3) if p.message_id == "<m1@school.vn>"]
    assert store.raw(p1) == raw(1).data
    assert store.checkpoint("src") == (7, 2)


def test_same_bytes_twice_are_recorded_once(store):
    store.record_fetched([raw(1)], NOW)
    assert store.record_fetched([raw(1), raw(2)], NOW) == 1
    assert len(store.pending(10, 3)) == 2


def test_known_pairs_match_message_id_and_size(store):
    store.record_fetched([raw(1)], NOW)
    size = len(raw(1).data)
    assert store.known_pairs([("<m1@school.vn>", size), ("<m1@school.vn>", size + 1), ("<m9@x>", 3)]) == {
        ("<m1@school.vn>", size)}


def test_message_without_message_id_gets_a_stable_key(store):
    store.record_fetched([RawMessage("k", b"Subject: x\r\n\r\nbody", NOW)], NOW)
    (p,) = store.pending(10, 3)
    assert p.message_id.endswith("@no-message-id>")


def test_a_failed_batch_leaves_no_row_and_no_checkpoint(store, monkeypatch):
    store.record_fetched([raw(1)], NOW, ("src", 7, 1))
    bad = RawMessage("x", b"Message-ID: <bad@x>\r\n\r\n", datetime(2023, 10, 1))  # naive: refused
    with pytest.raises(ValueError):
        store.record_fetched([raw(2), bad], NOW, ("src", 7, 3))
    assert store.checkpoint("src") == (7, 1)
    assert [p.message_id for p in store.pending(10, 3)] == ["<m1@school.vn>"]


def test_processing_records_items_and_marks_done_atomically(store):
    store.record_fetched([raw(1)], NOW)
    (p,) = store.pending(10, 3)
    store.begin_attempts([p.row])
    summary = MessageSummary("<m1@school.vn>", "thcsnguyenhien.q12@hcm-edu.example", "Hồ sơ", None, "none")
    store.record_processed(p.row, summary, [(decision(), "", p.received_at, 2023)], NOW)
    assert store.pending(10, 3) == []
    (item,) = store.items(cycle=2023)
    assert (item.school, item.doc_types, item.from_addr) == ("thcs-nguyen-hien", ("to_trinh",), summary.from_addr)
    assert item.reasons == ("title 'TỜ TRÌNH' in header",)


def test_reclassification_keeps_item_ids(store):
    store.record_fetched([raw(1)], NOW)
    (p,) = store.pending(10, 3)
    summary = MessageSummary("<m1@school.vn>", "a@b.c", "", None, "none")
    store.record_processed(p.row, summary, [(decision(decision="review", school=None), "", p.received_at, 2023)], NOW)
    (before,) = store.items()
    assert store.requeue(all_messages=True) == 1
    store.record_processed(p.row, summary, [(decision(), "", p.received_at, 2023)], NOW)
    (after,) = store.items()
    assert after.id == before.id and after.ref == before.ref
    assert after.decision == "counted"


def test_message_failing_every_time_is_quarantined_with_its_error(store):
    store.record_fetched([raw(1), raw(2)], NOW)
    first = store.pending(10, 3)[0]
    for attempt in range(3):
        store.begin_attempts([first.row])
        quarantined = store.record_failure(first.row, "boom", 3, NOW)
    assert quarantined
    assert [q["last_error"] for q in store.quarantined()] == ["boom"]
    assert [p.message_id for p in store.pending(10, 3)] == ["<m2@school.vn>"]


def test_a_message_that_crashes_the_process_is_quarantined_after_its_attempts(store):
    store.record_fetched([raw(1)], NOW)
    (p,) = store.pending(10, 3)
    for _ in range(3):
        store.begin_attempts([p.row])  # ... and the process dies each time
    assert [m.message_id for m in store.quarantine_exhausted(3, NOW)] == ["<m1@school.vn>"]
    assert "crashed 3 times" in store.quarantined()[0]["last_error"]


@pytest.mark.parametrize("mark, charged, resumed", [
    ("batch", 0, 1),  # the bot died with others in flight beside it: nobody's fault
    ("alone", 1, 1),  # nothing else in flight: its death is its own
])
def test_a_death_is_charged_only_to_a_message_handled_alone(store, mark, charged, resumed):
    store.record_fetched([raw(1), raw(2)], NOW)
    first, second = store.pending(10, 3)
    store.mark_inflight([first.row], mark)
    # ... SIGKILL: the next run finds the mark
    recovery = store.recover_inflight()
    assert (recovery.charged, recovery.resumed) == (charged, resumed - charged)
    again = store.pending(10, 3)
    assert [p.message_id for p in again] == ["<m1@school.vn>", "<m2@school.vn>"]  # resumed first
    assert [(p.attempts, p.suspect) for p in again] == [(charged, True), (0, False)]
    assert store.crash_recovery() == (1, 1)  # health: resumed after a crash, still waiting
    assert store.recover_inflight() == type(recovery)(0, 0)  # a second start charges nothing more
    store.record_processed(first.row, MessageSummary("<m1@school.vn>", "", "", None, "none"), [], NOW)
    assert store.crash_recovery() == (1, 0)
    assert store.quarantined() == []


def test_only_deaths_alone_quarantine_and_the_reason_says_so(store):
    store.record_fetched([raw(1), raw(2)], NOW)
    first, second = store.pending(10, 3)
    for _ in range(5):  # five deaths with both in flight: nobody charged
        store.mark_inflight([first.row, second.row], "batch")
        store.recover_inflight()
    assert store.quarantine_exhausted(3, NOW) == [] and [p.attempts for p in store.pending(10, 3)] == [0, 0]
    for _ in range(3):  # three deaths with the first alone
        store.mark_inflight([first.row], "alone")
        store.recover_inflight()
    (poison,) = store.quarantine_exhausted(3, NOW)
    assert poison.message_id == "<m1@school.vn>"
    (q,) = store.quarantined()
    assert q["last_error"] == DIED_ALONE and q["attempts"] == 3
    assert [(p.message_id, p.attempts) for p in store.pending(10, 3)] == [("<m2@school.vn>", 0)]


def test_a_message_set_aside_or_stopped_is_released_uncharged(store):
    store.record_fetched([raw(1), raw(2)], NOW)
    first, second = store.pending(10, 3)
    store.mark_inflight([first.row, second.row], "batch")
    store.release_inflight([first.row, second.row])
    assert store.recover_inflight() == type(store.recover_inflight())(0, 0)
    assert [(p.attempts, p.suspect) for p in store.pending(10, 3)] == [(0, False), (0, False)]


def test_a_failure_of_its_own_is_charged_and_clears_the_mark(store):
    store.record_fetched([raw(1)], NOW)
    (p,) = store.pending(10, 3)
    for attempt in range(1, 4):
        store.mark_inflight([p.row], "batch")
        quarantined = store.record_failure(p.row, "cannot read 'a.pdf': timed out", 3, NOW, charge=True)
        assert quarantined == (attempt == 3)
    assert store.recover_inflight() == type(store.recover_inflight())(0, 0)
    assert [q["attempts"] for q in store.quarantined()] == [3]


# The schema just before blame was made proof-based: the one the upgrade starts from.
BEFORE_BLAME = next(n for n, script in enumerate(MIGRATIONS) if "ADD COLUMN inflight" in script)


def test_upgrade_from_the_previous_schema_forgives_the_attempts_charged_by_crashes(tmp_path):
    rows = [  # (message, status, attempts, last_error)
        ("<crashed@x>", "new", 2, None),  # charged by two deaths of the old bot: forgiven, resumed first
        ("<failed@x>", "new", 1, "cannot parse: boom"),  # a failure of its own: kept
        ("<fresh@x>", "new", 0, None),
        ("<done@x>", "done", 1, None),
        ("<poison@x>", "quarantined", 3, "processing crashed 3 times"),
    ]
    # a state database as the previous bot left it
    rawdb.old_database(tmp_path / "state", BEFORE_BLAME, *(
        ("INSERT INTO messages (sha256, message_id, source_key, received_at, size, status, attempts,"
         " last_error, fetched_at) VALUES (?, ?, ?, ?, 10, ?, ?, ?, ?)",
         (f"{n:064x}", mid, f"k{n}", f"2023-10-01T09:0{n}:00+00:00", status, attempts, error, NOW.isoformat()))
        for n, (mid, status, attempts, error) in enumerate(rows)))
    with Store.open(tmp_path / "state") as store:
        assert store.schema_version() == len(MIGRATIONS)
        pending = [(p.message_id, p.attempts, p.suspect) for p in store.pending(10, 3)]
        assert pending == [("<crashed@x>", 0, True), ("<failed@x>", 1, True), ("<fresh@x>", 0, False)]
        assert store.crash_recovery() == (1, 1)
        assert [q["message_id"] for q in store.quarantined()] == ["<poison@x>"]  # requeue brings it back
        assert store.requeue() == 1 and store.pending(10, 3)[-1].message_id == "<poison@x>"


def _quarantined(store, n: int) -> str:
    """Message n fetched, failed three times, quarantined; its reference (Q12)."""
    store.record_fetched([raw(n)], NOW)
    (p,) = [p for p in store.pending(10, 3) if p.message_id == f"<m{n}@school.vn>"]
    for _ in range(3):
        store.begin_attempts([p.row])
        store.record_failure(p.row, f"boom {n}", 3, NOW)
    return f"Q{p.row}"


def test_a_dismissed_message_is_no_longer_listed_and_the_dismissal_is_audited(store):
    first, second = _quarantined(store, 1), _quarantined(store, 2)
    assert [q["ref"] for q in store.quarantined()] == [first, second]
    later = datetime(2023, 10, 6, 9, tzinfo=timezone.utc)
    done = store.dismiss(first, who="mai", why="đã gọi điện, trường gửi lại qua Zalo", via="cli", now=later)
    assert (done["ref"], done["message_id"], done["dismissed_by"]) == (first, "<m1@school.vn>", "mai")
    assert [q["ref"] for q in store.quarantined()] == [second]
    (kept,) = [q for q in store.quarantined(include_dismissed=True) if q["ref"] == first]
    assert (kept["dismissed_by"], kept["dismissed_why"], kept["dismissed_via"], kept["dismissed_at"]) == (
        "mai", "đã gọi điện, trường gửi lại qua Zalo", "cli", later.isoformat())
    assert kept["last_error"] == "boom 1"  # the message and its error are kept, only no longer reported


def test_dismissing_an_unknown_or_unquarantined_message_is_refused_with_the_reason(store):
    ref = _quarantined(store, 1)
    store.record_fetched([raw(2)], NOW)  # waiting to be processed, not quarantined
    (waiting,) = store.pending(10, 3)
    with pytest.raises(DismissError, match="no message Q999") as unknown:
        store.dismiss("Q999", who="mai", why="x", via="cli", now=NOW)
    with pytest.raises(DismissError, match=f"Q{waiting.row} .* is not quarantined") as not_quarantined:
        store.dismiss(f"Q{waiting.row}", who="mai", why="x", via="cli", now=NOW)
    with pytest.raises(DismissError, match="not the reference of a quarantined message") as item:
        store.dismiss("R5", who="mai", why="x", via="cli", now=NOW)
    assert "reject R17" in item.value.hint  # an item is rejected, not dismissed
    store.dismiss(ref.lower(), who="mai", why="x", via="cli", now=NOW)
    with pytest.raises(DismissError, match="already dismissed by mai") as twice:
        store.dismiss(ref, who="lan", why="y", via="email", now=NOW)
    assert [e.value.code for e in (unknown, not_quarantined, twice)] == [
        "no_message", "not_quarantined", "already_dismissed"]
    assert [(q["dismissed_by"], q["dismissed_why"]) for q in store.quarantined(include_dismissed=True)
            if q["dismissed_by"]] == [("mai", "x")]


def test_requeue_leaves_dismissed_mail_alone_and_requeue_all_keeps_it_dismissed(store):
    dismissed, other = _quarantined(store, 1), _quarantined(store, 2)
    store.dismiss(dismissed, who="mai", why="đã xử lý thủ công", via="cli", now=NOW)
    assert store.requeue() == 1
    assert [p.message_id for p in store.pending(10, 3)] == ["<m2@school.vn>"]
    # --all: every message again, the dismissed one too; failing again, it is still not reported
    assert store.requeue(all_messages=True) == 2
    assert len(store.pending(10, 3)) == 2
    for p in store.pending(10, 3):
        for _ in range(3):
            store.begin_attempts([p.row])
            store.record_failure(p.row, "boom again", 3, NOW)
    assert [q["ref"] for q in store.quarantined()] == [other]
    assert [q["ref"] for q in store.quarantined(include_dismissed=True)] == [dismissed, other]


def test_database_from_a_newer_bot_is_refused(tmp_path):
    Store.open(tmp_path).close()
    rawdb.tamper(tmp_path, "PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer than this bot"):
        Store.open(tmp_path)


def test_reopening_does_not_rerun_migrations(tmp_path):
    with Store.open(tmp_path) as s:
        s.record_fetched([raw(1)], NOW)
    with Store.open(tmp_path) as s:
        assert len(s.pending(10, 3)) == 1
        assert s.journal_mode() == "wal"


# --------------------------------------------------------------------------
# Two files of the same name in one mail; upgrading an older database
# --------------------------------------------------------------------------

def _process(tmp_path, mails: list[bytes], now: datetime):
    rules = load_rules(ROOT / "rules")
    store = Store.open(tmp_path / "state")
    store.record_fetched([RawMessage(f"t:{n}", m, now) for n, m in enumerate(mails)], now)
    with Extractor(workers=0) as extractor:
        assert process_pending(store, rules, extractor, now, PollReport(), ocr_available=False)
    return store, rules


def test_two_attachments_with_the_same_name_are_both_counted(tmp_path):
    # Phones and scanners name every file "scan.pdf": the second must not overwrite the first.
    to_trinh = f.official_pdf([f.OfficialDoc()])
    bien_ban = f.official_pdf([f.OfficialDoc(title="BIÊN BẢN", number="Số: 03/BB-THCSNH",
                                             subject="Họp xét, đề nghị đơn vị đạt điển hình về phong trào toàn dân bảo vệ ANTQ")])
    mail = mf.build(files=[mf.File("scan.pdf", to_trinh), mf.File("scan.pdf", bien_ban)])
    now = datetime(2023, 10, 5, 9, tzinfo=timezone.utc)
    store, rules = _process(tmp_path, [mail], now)
    with store:
        items = store.items()
        assert sorted((i.filename, i.doc_types, i.decision) for i in items) == [
            ("scan.pdf", ("bien_ban",), "counted"), ("scan.pdf", ("to_trinh",), "counted")]
        first_ids = sorted(i.id for i in items)
        store.requeue(all_messages=True)  # after a rules change: same items, same R-numbers
        with Extractor(workers=0) as extractor:
            process_pending(store, rules, extractor, now, PollReport(), ocr_available=False)
        assert sorted(i.id for i in store.items()) == first_ids
        (school,) = [s for s in status_for(store, rules, now).schools if s.code == items[0].school]
    received = {doc_type for doc_type, doc in school.documents.items() if doc.status == "on_time"}
    assert {"to_trinh", "bien_ban"} <= received


# the migration that rewrites stored times as UTC (8)
BEFORE_UTC = next(n for n, script in enumerate(MIGRATIONS) if "UPDATE checkpoints SET updated_at" in script)


def test_times_of_an_existing_state_become_utc_and_sort_by_instant(tmp_path):
    """Migration 8 rewrites every stored time with an offset as UTC: the
    same instants, now in one format, so the oldest mail is handled first even
    when the senders' clocks used other offsets; corrections keep their time."""
    message = ("INSERT INTO messages (sha256, message_id, source_key, received_at, size, fetched_at)"
               " VALUES (?, ?, ?, ?, 10, '2023-10-05T10:00:00.250000+07:00')")
    rawdb.old_database(
        tmp_path, BEFORE_UTC,
        (message, ("a" * 64, "<later@x>", "k1", "2023-10-05T03:00:00+00:00")),   # 03:00 UTC
        (message, ("b" * 64, "<earlier@x>", "k2", "2023-10-05T09:00:00+07:00")),  # 02:00 UTC, sorts last as text
        "INSERT INTO corrections (kind, school, cycle, who, why, via, at) VALUES"
        " ('exempt', 'thcs-nguyen-hien', 2023, 'mai', 'x', 'cli', '2023-10-06T08:30:00+07:00')",
        "INSERT INTO marks (name, at, detail) VALUES ('poll', '2023-10-06T08:31:00.000001+07:00', '')")
    with Store.open(tmp_path) as store:
        assert [p.message_id for p in store.pending(10, 3)] == ["<earlier@x>", "<later@x>"]
        assert [m.received_at for m in store.message_records()] == [
            datetime(2023, 10, 5, 3, tzinfo=timezone.utc), datetime(2023, 10, 5, 2, tzinfo=timezone.utc)]
        (correction,) = store.corrections(2023)
        assert correction.at == datetime(2023, 10, 6, 1, 30, tzinfo=timezone.utc)
        assert store.mark("poll")[0] == datetime(2023, 10, 6, 1, 31, 0, 1, tzinfo=timezone.utc)
        arrived = datetime.fromisoformat("2023-10-07T08:00:00+07:00")  # as a server in Vietnam gives it
        store.record_fetched([RawMessage("k3", b"Message-ID: <new@x>\r\n\r\nx", arrived)],
                             datetime.fromisoformat("2023-10-07T09:00:00+07:00"))
    db = tmp_path / "bot.sqlite3"
    assert rawdb.watch(db, "SELECT group_concat(received_at || ' ' || fetched_at, ' | ') FROM messages", ()) == (
        "2023-10-05T03:00:00+00:00 2023-10-05T03:00:00.250000+00:00 | "
        "2023-10-05T02:00:00+00:00 2023-10-05T03:00:00.250000+00:00 | "
        "2023-10-07T01:00:00+00:00 2023-10-07T02:00:00+00:00",)
    assert rawdb.watch(db, "SELECT at FROM corrections", ()) == ("2023-10-06T01:30:00+00:00",)


VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize("as_of, expected", [
    (datetime(2023, 10, 5, 8, 59, tzinfo=VN), []),                         # 01:59 UTC: before both
    (datetime(2023, 10, 5, 9, 0, tzinfo=VN), ["<vn@x>"]),                  # 02:00 UTC: the one sent at 09:00 +07
    (datetime(2023, 10, 5, 2, 30, tzinfo=timezone.utc), ["<vn@x>"]),
    (datetime(2023, 10, 5, 3, 0, tzinfo=timezone.utc), ["<vn@x>", "<utc@x>"]),
])
def test_what_was_received_as_of_an_instant_is_chosen_by_instant_whatever_the_offsets(store, as_of, expected):
    """"As of --now" is a filter in SQL on the one time format: mail written at
    09:00 +07:00 (02:00 UTC) arrived before mail stamped 03:00 +00:00."""
    mail = {"utc@x": datetime(2023, 10, 5, 3, tzinfo=timezone.utc), "vn@x": datetime(2023, 10, 5, 9, tzinfo=VN)}
    for name, at in mail.items():
        data = f"From: {name}\r\nMessage-ID: <{name}>\r\n\r\nx".encode()
        store.record_fetched([RawMessage(name, data, at)], NOW)
    for p in store.pending(10, 3):
        store.note_sender(p)
        store.record_failure(p.row, "boom", 1, NOW, charge=True)  # quarantined at once
    assert [q["message_id"] for q in store.quarantined(as_of=as_of)] == expected
    assert sorted(m.from_addr for m in store.mail_from(since=as_of)) == sorted(
        name for name, at in mail.items() if at >= as_of)


# Two mails, each with one file and a correction made when it arrived: 09:00 +07:00 is 02:00 UTC,
# so the mail stamped 03:00 UTC came second.
ARRIVALS = {"vn@x": datetime(2023, 10, 5, 9, tzinfo=VN), "utc@x": datetime(2023, 10, 5, 3, tzinfo=timezone.utc)}


def _mail_items_and_corrections(store) -> None:
    for name, at in ARRIVALS.items():
        store.record_fetched([RawMessage(name, f"From: {name}\r\nMessage-ID: <{name}>\r\n\r\nx".encode(), at)], NOW)
    for p in store.pending(10, 3):
        name = p.message_id.strip("<>")
        store.record_processed(p.row, MessageSummary(p.message_id, name, "hồ sơ", None, "pass"),
                               [ItemRow(decision(f"{name}.pdf"), "", p.received_at, 2023)], NOW)
        store.add_correction(kind="reject", cycle=2023, who=name, why="không phải hồ sơ", via="cli",
                             now=p.received_at, item_id=store.item_ids_of(p.row)[0])


@pytest.mark.parametrize("as_of, expected", [
    (datetime(2023, 10, 5, 8, 59, 59, tzinfo=VN), []),                     # before both
    (datetime(2023, 10, 5, 9, 0, tzinfo=VN), ["vn@x"]),                    # the instant the first arrived
    (datetime(2023, 10, 5, 2, 59, 59, 999999, tzinfo=timezone.utc), ["vn@x"]),
    (datetime(2023, 10, 5, 3, 0, tzinfo=timezone.utc), ["vn@x", "utc@x"]),
    (None, ["vn@x", "utc@x"]),                                             # no instant: everything
])
def test_reads_as_of_an_instant_leave_out_what_came_after_it(store, as_of, expected):
    """Items, corrections and the mail of a sender received or made after
    ``as_of`` are not read at all (the filter is in SQL, by instant)."""
    _mail_items_and_corrections(store)
    assert [i.filename for i in store.items(cycle=2023, as_of=as_of)] == [f"{n}.pdf" for n in expected]
    assert [c.who for c in store.corrections(2023, as_of=as_of)] == expected
    assert sorted(m.from_addr for m in store.mail_from(as_of=as_of)) == sorted(expected)
    assert sorted(m.from_addr for m in store.personal_mail_from(list(ARRIVALS), as_of=as_of)) == sorted(expected)
    assert sorted(store.item_times(2023, as_of=as_of)) == sorted(ARRIVALS[n] for n in expected)


def test_the_status_as_of_an_instant_sees_neither_later_mail_nor_later_corrections(store):
    rules = load_rules(ROOT / "rules")
    arrived, rejected = datetime(2023, 10, 5, 9, tzinfo=VN), datetime(2023, 10, 6, 9, tzinfo=VN)
    store.record_fetched([RawMessage("k", b"From: a@x\r\nMessage-ID: <a@x>\r\n\r\nx", arrived)], NOW)
    (p,) = store.pending(10, 3)
    store.record_processed(p.row, MessageSummary(p.message_id, "a@x", "hồ sơ", None, "pass"),
                           [ItemRow(decision(), "", arrived, 2023)], NOW)
    store.add_correction(kind="reject", cycle=2023, who="mai", why="không phải hồ sơ", via="cli", now=rejected,
                         item_id=store.item_ids_of(p.row)[0])

    def to_trinh(now):
        return next(s for s in status_for(store, rules, now).schools
                    if s.code == "thcs-nguyen-hien").documents["to_trinh"].status

    second = timedelta(seconds=1)
    assert [to_trinh(arrived - second), to_trinh(arrived), to_trinh(rejected - second), to_trinh(rejected)] == [
        "pending", "on_time", "on_time", "pending"]


def test_an_older_database_is_upgraded_keeping_item_ids_and_corrections(tmp_path):
    rawdb.old_database(  # a state directory made by the first release
        tmp_path, 3,
        "INSERT INTO messages (id, sha256, message_id, source_key, received_at, size, fetched_at)"
        " VALUES (4, 'ab', '<m4@x>', 'k', '2023-10-05T09:00:00+00:00', 10, '2023-10-05T09:00:00+00:00')",
        "INSERT INTO items (id, message_row, container, filename, part_index, content_sha256, first_page,"
        " last_page, school, doc_types, campaign, decision, confidence, reasons, received_at, cycle,"
        " classified_at) VALUES (17, 4, '', 'scan.pdf', 0, 'cd', 1, 1, NULL, '[]', 1, 'review', 0.2, '[]',"
        " '2023-10-05T09:00:00+00:00', 2023, '2023-10-05T09:00:00+00:00')",
        "INSERT INTO corrections (kind, item_id, school, doc_type, cycle, who, why, via, at) VALUES"
        " ('assign', 17, 'thcs-nguyen-hien', 'to_trinh', 2023, 'mai', 'đã xem', 'cli', '2023-10-06')",
        "INSERT INTO extractions (sha256, kind, result, created_at) VALUES ('cd', 'pdf', '{}', 'x')")
    with Store.open(tmp_path) as store:
        (item,) = store.items()
        assert (item.ref, item.filename) == ("R17", "scan.pdf")
        assert [c.item_id for c in store.corrections(2023)] == [17]
        assert store.cached_extractions(["cd"], "2:whatever") == {}  # made by the old extractor: read again
        summary = MessageSummary("<m4@x>", "a@b.c", "", None, "none")
        store.record_processed(4, summary, [
            ItemRow(decision("scan.pdf"), "", item.received_at, 2023, 0),
            ItemRow(decision("scan.pdf", school="thcs-nguyen-hue"), "", item.received_at, 2023, 1)], NOW)
        assert sorted((i.id, i.school) for i in store.items()) == [
            (17, "thcs-nguyen-hien"), (18, "thcs-nguyen-hue")]


def test_extractions_are_cached_per_extractor_version(store):
    result = Extraction("pdf", pages=1, parts=(DocumentPart("TỜ TRÌNH", "TỜ TRÌNH", 1, 1),))
    store.cache_extractions({"aa": result}, "v1", NOW)
    assert store.cached_extractions(["aa"], "v1") == {"aa": result}
    assert store.cached_extractions(["aa"], "v2") == {}


def test_a_quarantined_message_keeps_its_sender_read_from_the_headers_alone(store):
    data = ("From: Trường THCS Nguyễn Hiền <ThcsNguyenHien.Q12@hcm-edu.example>\r\nMessage-ID: <q@x>\r\n"
            "Subject: =?utf-8?b?SOG7kyBzxqEgQU5UUQ==?=\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\x00").encode()
    store.record_fetched([RawMessage("k", data, NOW)], NOW)
    (p,) = store.pending(10, 3)
    for _ in range(3):
        store.begin_attempts([p.row])
        store.record_failure(p.row, "boom", 3, NOW)
    store.note_sender(p)
    (q,) = store.quarantined()
    assert (q["from_addr"], q["subject"]) == ("thcsnguyenhien.q12@hcm-edu.example", "Hồ sơ ANTQ")
