"""Broken and hostile mail through the FULL pipeline: nothing crashes, nothing is lost.

The corpus (tests/hostile.py: truncated MIME, unknown charsets, 8-bit headers,
header injection in file names, rfc822 nested 100 deep, ZIP bombs, PDFs with
loops and 200-inch pages, encrypted PDFs, DOCX with external entities, a
message over the size limit...) is mixed with good submissions and polled
with ``app.poll``: from a folder (fast) and once from a real Dovecot. After
the poll, each hostile message is recorded with the reason a coordinator
reads (an item's reasons, or the quarantine error), every good document is
counted, and no file under state/ is named from the mail.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app
from bot.service import health
from bot.store import MessageRecord, Store

from . import hostile as H
from .configs import imap_mailbox, write_config

ROOT = Path(__file__).resolve().parents[1]
VN = timezone(timedelta(hours=7))
NOW = datetime(2023, 10, 12, 9, 0, tzinfo=VN)
RECEIVED = datetime(2023, 10, 5, 9, 32, tzinfo=VN)

pytestmark = pytest.mark.slow


def mixed_corpus():
    cases = H.corpus(oversized=True)
    return cases, H.interleave(cases, H.good_messages(12))


# -- what the coordinator sees ------------------------------------------------

def state_of(store: Store) -> tuple[dict[str, MessageRecord], dict[str, list]]:
    """Messages by source key, and the items of each message (by its row)."""
    messages = {m.source_key: m for m in store.message_records()}
    items: dict[int, list] = {}
    for item in store.item_records():
        items.setdefault(item.message_row, []).append((item.filename, item.decision, " | ".join(item.reasons)))
    return messages, items


def outcome_problem(case: H.Case | None, message: MessageRecord | None, items: list) -> str | None:
    """Why the recorded outcome is not the expected one, or None."""
    if message is None:
        return "not recorded at all"
    if case is None:  # a good submission
        if message.status != "done" or not any(d == "counted" for _, d, _ in items):
            return f"good mail not counted: {message.status} {items}"
        return None
    if case.outcome == "quarantined":
        if message.status != "quarantined" or not re.search(case.reason, message.last_error or "", re.I):
            return f"expected quarantine with {case.reason!r}: {message.status} {message.last_error!r}"
        return None
    if message.status != "done":
        return f"not processed: {message.status} {message.last_error!r}"
    if case.outcome == "done":
        return None
    wanted = {"review": ("review",), "counted": ("counted",), "item": ("counted", "review", "ignored")}[case.outcome]
    for filename, decision, reasons in items:
        if (case.filename is None or filename == case.filename) and decision in wanted \
                and re.search(case.reason, reasons, re.I):
            return None
    return f"no {case.outcome} item with {case.reason!r} (file {case.filename!r}); items: {items}"


def check_everything_recorded(store: Store, mixed, key_of) -> None:
    messages, items = state_of(store)
    problems = []
    for index, (label, raw, case) in enumerate(mixed):
        message = messages.get(key_of(index, label))
        problem = outcome_problem(case, message, items.get(message.id, []) if message else [])
        if problem:
            problems.append(f"{label} ({case.hostile if case else 'good'}): {problem}")
    assert not problems, "\n".join(problems)
    # exactly one row per message, none left waiting, nothing counted twice
    assert len(messages) == len(mixed)
    assert store.message_counts() == {"done": len(mixed) - 1, "quarantined": 1}
    message_ids = {m.id: m.message_id for m in store.message_records()}
    keys = [(message_ids[i.message_row], i.container, i.filename, i.part_index) for i in store.item_records()]
    assert len(keys) == len(set(keys))


CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def check_names_are_display_text(store: Store, rules) -> None:
    """File names from the mail are shown, cleaned: no control characters, bounded, NFC."""
    for row in app.export_rows(store, rules):
        for text in (row["filename"], row["subject"], row["container"], *row["reasons"]):
            assert not CONTROL.search(text), (row["ref"], text)
            assert unicodedata.is_normalized("NFC", text)
        assert len(row["filename"]) <= 255


SAFE_NAMES = re.compile(r"(?x) [0-9a-f]{2} | [0-9a-f]{64}(\.eml)? | \.[0-9a-f]{64}(\.eml)?\.\d+\.tmp"
                        r" | bot\.sqlite3(-wal|-shm|-journal)? | worker\.lock | archive | blobs | outbox"
                        r" | spool | \d+-\d+-\d+\.att")  # spool/: a large attachment's copy for its worker


def check_storage_is_named_by_hash(state: Path, store: Store) -> None:
    """No file or directory under state/ takes its name from the mail."""
    for path in state.rglob("*"):
        assert SAFE_NAMES.fullmatch(path.name), f"unexpected name under state/: {path.relative_to(state)}"
    archived = sorted(p.name for p in (state / "archive").rglob("*.eml"))
    assert archived == sorted(f"{m.sha256}.eml" for m in store.message_records())


# -- the runs ---------------------------------------------------------------

def test_hostile_corpus_from_a_folder(tmp_path):
    cases, mixed = mixed_corpus()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for index, (label, raw, _) in enumerate(mixed):
        (inbox / f"{index:03d}-{label}.eml").write_bytes(raw)
    (inbox / "internaldates.json").write_text(json.dumps(
        {f"{i:03d}-{label}.eml": RECEIVED.isoformat() for i, (label, _, _) in enumerate(mixed)}))
    ctx = app.load(write_config(tmp_path, f'source = "folder"\npath = "{inbox}"\nmax_message_mb = 1\n'
                                          f'trusted_authserv_ids = ["{H.TRUSTED_AUTHSERV}"]'))

    report = app.poll(ctx, NOW)

    assert report.new == len(mixed) and report.quarantined == 1
    state = tmp_path / "state"
    with Store.open(state) as store:
        check_everything_recorded(store, mixed, lambda index, label: f"folder:{index:03d}-{label}.eml")
        check_names_are_display_text(store, ctx.rules)
        check_storage_is_named_by_hash(state, store)
        # the oversized mail is in `health`, with who sent it and where to find it
        code, lines = health(store, ctx.config, NOW)
        (line,) = [x for x in lines if "quarantined" in x and "PROBLEM" in x]
        assert code == 1 and "message too large: 2.05 MB > 1 MB" in line and "open it in webmail" in line
        assert "thkimdong.q12@hcm-edu.example" in line and "oversized.eml" in line
        # the good PDF beside a ZIP bomb is counted; the bomb is not lost
        beside = [r for r in app.export_rows(store, ctx.rules)
                  if r["message_id"] == "<zip-bomb-beside-good@hostile.test>"]
        assert {(r["filename"], r["decision"]) for r in beside} == {("Tờ trình.pdf", "counted"), ("hoso.zip", "review")}
        before = [(i.id, i.classified_at) for i in store.item_records()]

    # a second poll finds nothing new and records nothing twice
    again = app.poll(ctx, NOW + timedelta(minutes=5))
    assert (again.new, again.processed, again.quarantined) == (0, 0, 0)
    with Store.open(state) as store:
        assert [(i.id, i.classified_at) for i in store.item_records()] == before
        # requeue: the oversized mail comes back to quarantine, not to a parser; the rest is re-read identically
        assert store.requeue(all_messages=True) == len(mixed)
    third = app.poll(ctx, NOW + timedelta(minutes=10))
    assert third.quarantined == 1 and third.processed == len(mixed) - 1 and third.failed == 0
    with Store.open(state) as store:
        check_everything_recorded(store, mixed, lambda index, label: f"folder:{index:03d}-{label}.eml")
        assert len(store.item_records()) == len(before)


@pytest.mark.imap
def test_hostile_corpus_from_dovecot(tmp_path, dovecot, monkeypatch):
    cases, mixed = mixed_corpus()
    uids = dovecot.append_many("INBOX", [(raw, RECEIVED) for _, raw, _ in mixed])
    assert len(uids) == len(mixed)
    monkeypatch.setenv("BOT_IMAP_PASSWORD", dovecot.password)
    ctx = app.load(write_config(tmp_path, imap_mailbox(dovecot, fetch_batch=16, timeout_seconds=20, max_message_mb=1,
                                                       trusted_authserv_ids=f'["{H.TRUSTED_AUTHSERV}"]')))

    report = app.poll(ctx, NOW)

    assert report.new == len(mixed) and report.quarantined == 1
    state = tmp_path / "state"
    with Store.open(state) as store:
        folder = f"imap:{dovecot.user}@127.0.0.1:{dovecot.port}/INBOX"
        validity = store.checkpoint(folder)[0]
        assert store.checkpoint(folder) == (validity, uids[-1])
        check_everything_recorded(store, mixed, lambda index, label: f"{folder}:{validity}:{uids[index]}")
        check_names_are_display_text(store, ctx.rules)
        check_storage_is_named_by_hash(state, store)
        (oversized,) = store.quarantined()
        assert oversized["size"] > 2 * 1024 * 1024 and "folder INBOX" in oversized["last_error"]
    # the mailbox was only read: the oversized mail is still there, unread
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search("ALL")) == len(mixed)
        assert not any(b"\\Seen" in f for f in client.get_flags(uids).values())
