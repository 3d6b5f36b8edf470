"""The state database: exactly-once recording, attempts and quarantine, stable item ids."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from bot.errors import StoreError
from bot.model import ItemDecision, RawMessage
from bot.store import MessageSummary, Store

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
    summary = MessageSummary("<m1@school.vn>", "thcsnguyenhien.q12@hcm.edu.vn", "Hồ sơ", None, "none")
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
    assert store.quarantine_exhausted(3, NOW) == 1
    assert "crashed 3 times" in store.quarantined()[0]["last_error"]


def test_database_from_a_newer_bot_is_refused(tmp_path):
    Store.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this bot"):
        Store.open(tmp_path)


def test_reopening_does_not_rerun_migrations(tmp_path):
    with Store.open(tmp_path) as s:
        s.record_fetched([raw(1)], NOW)
    with Store.open(tmp_path) as s:
        assert len(s.pending(10, 3)) == 1
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
