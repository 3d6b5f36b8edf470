"""An existing state directory upgrades in place from EVERY earlier schema version.

For each version k of ``bot.schema.MIGRATIONS`` (PRAGMA user_version), a
database is built as the bot of that version left it (migrations 1..k), with
representative rows valid at k: messages (done, quarantined, failing), items
(counted, review, ignored), one correction of every kind the CHECK list of k
allows, the audit of commands by mail and of dismissals, the outbox (one mail
of every kind k allows) with its receipts and threads, marks, a checkpoint.
Opening it with ``Store.open`` migrates it to the latest version; then

* every row of those tables is still there (same primary keys), every
  correction with its kind, target, value, who, why, via and time;
* every row holds exactly what a database created at the latest version
  with the same facts holds (times included: older versions wrote them with
  the campaign's offset, the latest in UTC);
* ``status``, ``export``, ``outbox --all`` and ``digest --dry-run`` answer
  exactly as for a database created at the latest version with the same data.

The versions are read from MIGRATIONS, so a new migration is covered as soon
as it is added. A migration that widens a CHECK list (a new correction or
outbox kind) needs a representative row below: the test names the kind.

A database from a newer bot than this one is refused with a clear error,
and left as it was. All SQL here goes through tests/rawdb.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.errors import StoreError
from bot.mailkey import DIGEST, RECEIPT, REMINDER, REPLY, SENDER_RECEIPT, MailKey
from bot.schema import MIGRATIONS
from bot.store import DB_NAME, QueuedMail, Store

from .configs import write_config
from .rawdb import old_database, tamper, watch

LATEST = len(MIGRATIONS)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = "2023-10-16T08:00"  # after the deadline (10/10), so every status is settled
NH, HM, KD, HS = "thcs-nguyen-hien", "mn-hoa-mai", "th-kim-dong", "mn-hoa-sen"

# -- the data ------------------------------------------------------------------
# Columns of the first schema (later migrations add columns with defaults).
# Times are UTC, a form every version reads.

CHECKPOINTS = [dict(source="imap:INBOX", uidvalidity=7, last_uid=42, updated_at="2023-10-05T02:00:00+00:00")]

MESSAGES = [
    dict(id=1, sha256="a" * 64, message_id="<nh@hcm-edu.example>", source_key="imap:INBOX:7:1",
         received_at="2023-10-05T02:00:00+00:00", size=1000, status="done", attempts=0,
         from_addr="thcsnguyenhien.q12@hcm-edu.example", subject="Hồ sơ ANTQ", automatic=None, auth="pass",
         bounces="[]", fetched_at="2023-10-05T02:01:00+00:00", processed_at="2023-10-05T02:01:05+00:00"),
    dict(id=2, sha256="b" * 64, message_id="<hm@gmail.example>", source_key="imap:INBOX:7:2",
         received_at="2023-10-12T03:30:00+00:00", size=2000, status="done", attempts=0,
         from_addr="hieutruong.hoamai@gmail.example", subject="scan", automatic=None, auth="none",
         bounces="[]", fetched_at="2023-10-12T03:31:00+00:00", processed_at="2023-10-12T03:31:09+00:00"),
    dict(id=3, sha256="c" * 64, message_id="<poison@x.example>", source_key="imap:INBOX:7:3",
         received_at="2023-10-06T01:00:00+00:00", size=3000, status="quarantined", attempts=3,
         last_error="processing crashed 3 times", from_addr="x@x.example", subject="?", auth="none",
         bounces="[]", fetched_at="2023-10-06T01:00:30+00:00", processed_at="2023-10-06T01:05:00+00:00"),
    dict(id=4, sha256="d" * 64, message_id="<failing@x.example>", source_key="imap:INBOX:7:4",
         received_at="2023-10-07T01:00:00+00:00", size=4000, status="new", attempts=1,
         last_error="cannot parse: boom", bounces="[]", fetched_at="2023-10-07T01:00:30+00:00"),
    dict(id=5, sha256="e" * 64, message_id="<cmd@tphcm-gov.example>", source_key="imap:INBOX:7:5",
         received_at="2023-10-13T01:00:00+00:00", size=500, status="done", attempts=0,
         from_addr="nthmai.q12@tphcm-gov.example", subject="Re: Tổng hợp", auth="pass", bounces="[]",
         fetched_at="2023-10-13T01:00:30+00:00", processed_at="2023-10-13T01:00:31+00:00"),
]


def _item(id, message_row, filename, school, doc_types, decision, received_at, campaign=1, part_index=0,
          confidence=0.95):
    return dict(id=id, message_row=message_row, container="", filename=filename, part_index=part_index,
                content_sha256=f"{id:064x}", first_page=1, last_page=1, school=school,
                doc_types=json.dumps(doc_types), campaign=campaign, decision=decision, confidence=confidence,
                reasons=json.dumps(["tiêu đề ở đầu văn bản", f"trường {school}"], ensure_ascii=False),
                received_at=received_at, cycle=2023, classified_at="2023-10-12T03:31:09+00:00")


ITEMS = [
    _item(1, 1, "Tờ trình.pdf", NH, ["to_trinh"], "counted", "2023-10-05T02:00:00+00:00"),
    _item(2, 1, "Báo cáo.pdf", NH, ["bao_cao"], "counted", "2023-10-05T02:00:00+00:00"),
    _item(3, 1, "Biên bản.pdf", NH, ["bien_ban"], "counted", "2023-10-05T02:00:00+00:00"),
    _item(4, 2, "scan0001.pdf", None, [], "review", "2023-10-12T03:30:00+00:00", confidence=0.3),
    _item(5, 2, "PCCC.docx", HM, ["bao_cao"], "ignored", "2023-10-12T03:30:00+00:00", campaign=0),
    _item(6, 2, "scan0002.pdf", HM, ["to_trinh"], "review", "2023-10-12T03:30:00+00:00", confidence=0.5),
]

# One correction of each kind a schema may allow; the CHECK list of the version decides which are inserted.
_AUDIT = dict(cycle=2023, who="mai", via="cli")
CORRECTIONS_BY_KIND = {
    "assign": dict(item_id=4, school=HM, doc_type="bien_ban", why="đã xem bản scan", at="2023-10-13T02:00:00+00:00"),
    "reject": dict(item_id=6, why="bản nháp, trường gửi nhầm", at="2023-10-13T02:01:00+00:00"),
    "received": dict(school=KD, doc_type="to_trinh", value="2023-10-09T10:00:00+07:00", why="nộp bản giấy",
                     at="2023-10-13T02:02:00+00:00"),
    "exempt": dict(school=HS, why="trường sáp nhập", at="2023-10-13T02:03:00+00:00"),
    "unexempt": dict(school=HS, why="nhầm trường", at="2023-10-13T02:04:00+00:00"),
    "extend": dict(school=KD, value="2023-10-20T23:59:59+07:00", why="trường sửa chữa",
                   at="2023-10-13T02:05:00+00:00"),
    "official": dict(item_id=1, why="bản scan có chữ ký, đóng dấu", at="2023-10-13T02:06:00+00:00"),
    "not_official": dict(item_id=5, why="bản nháp", at="2023-10-13T02:07:00+00:00"),
}

_MAIL = (b"From: hoso-bot@pgd-q12.example\r\nTo: a@hcm-edu.example\r\nSubject: x\r\n"
         b"Message-ID: <0123456789abcdef01234567.receipt@pgd-q12.example>\r\n\r\nbody\r\n")
OUTBOX_BY_KIND = {
    "receipt": dict(key=f"receipt:{NH}:2023:1,2,3", school=NH, subject="THCS Nguyễn Hiền - Hồ sơ ANTQ",
                    recipients=json.dumps(["thcsnguyenhien.q12@hcm-edu.example"])),
    "reminder": dict(key=f"reminder:{HS}:2023:after-1:2023-10-10T23:59:59+07:00", school=HS,
                     subject="MN Hoa Sen - Hồ sơ ANTQ", recipients=json.dumps(["mnhoasen.q12@hcm-edu.example"])),
    "digest": dict(key="digest:2023:2023-10-13", subject="[Tổng hợp 13/10/2023]",
                   recipients=json.dumps(["nthmai.q12@tphcm-gov.example"])),
    "report": dict(key="report:2023:2023-10-15", subject="Báo cáo",
                   recipients=json.dumps(["nthmai.q12@tphcm-gov.example"])),
    "reply": dict(key="reply:<cmd@tphcm-gov.example>", subject="Re: Tổng hợp",
                  recipients=json.dumps(["nthmai.q12@tphcm-gov.example"])),
}


def _outbox_row(id: int, kind: str) -> dict:
    return dict(id=id, kind=kind, cycle=2023, status="sent", created_at="2023-10-13T01:00:00+00:00",
                queued_at="2023-10-13T01:00:00+00:00", attempts=1, next_attempt_at="2023-10-13T01:00:00+00:00",
                sent_at=f"2023-10-13T01:0{id}:00+00:00", message_id=f"<{id:024x}.{kind}@pgd-q12.example>",
                from_addr="hoso-bot@pgd-q12.example", raw=_MAIL, meta="{}", **OUTBOX_BY_KIND[kind])


# -- building a database as the bot of version k left it --------------------------
# All SQL goes through tests/rawdb.py: the bot itself never writes an old schema.

def _one(state: Path, sql: str):
    """The single value ``sql`` gives on ``state``'s database (read-only)."""
    (value,) = watch(state / DB_NAME, sql, (None,))
    return value


def _allowed(state: Path, table: str, column: str) -> list[str]:
    """The values the CHECK (column IN (...)) of ``table`` allows at this version."""
    sql = _one(state, f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
    m = re.search(rf"\b{column}\b[^,]*?CHECK\s*\(\s*{column}\s+IN\s*\(([^)]*)\)", sql or "")
    assert m, f"no CHECK ({column} IN ...) in {table}"
    return re.findall(r"'([^']*)'", m.group(1))


def _tables(state: Path) -> set[str]:
    return set((_one(state, "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table'") or "").split(","))


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


# The migration from which every time is stored in UTC (found by its content, so
# that a migration added later does not move it).
UTC_FROM = next(n for n, sql in enumerate(MIGRATIONS, 1) if "CREATE INDEX messages_received" in sql)


# The migration from which the store keeps the parts of each outbox key as columns.
KEY_COLUMNS_FROM = next(n for n, sql in enumerate(MIGRATIONS, 1) if "ADD COLUMN key_kind" in sql)
# The parts of each key of OUTBOX_BY_KIND, as the bot writes them from KEY_COLUMNS_FROM on.
KEY_PARTS = {
    f"receipt:{NH}:2023:1,2,3": dict(key_kind="receipt", key_school=NH, key_cycle=2023, key_ref="1,2,3"),
    f"reminder:{HS}:2023:after-1:2023-10-10T23:59:59+07:00": dict(
        key_kind="reminder", key_school=HS, key_cycle=2023, key_slot="after-1",
        key_deadline="2023-10-10T23:59:59+07:00"),
    "digest:2023:2023-10-13": dict(key_kind="digest", key_cycle=2023, key_slot="2023-10-13"),
    "report:2023:2023-10-15": dict(key_kind="report", key_cycle=2023, key_slot="2023-10-15"),
    "reply:<cmd@tphcm-gov.example>": dict(key_kind="reply", key_cycle=2023, key_ref="<cmd@tphcm-gov.example>"),
}


def _as_written_by(version: int, row: dict) -> dict:
    """``row`` as the bot of ``version`` wrote it: before the one-time-format
    migration, times carried the campaign's offset (+07:00); from it, UTC;
    an outbox row with the parts of its key from KEY_COLUMNS_FROM on."""
    if version >= KEY_COLUMNS_FROM and row.get("key") in KEY_PARTS:
        row = {**row, **KEY_PARTS[row["key"]]}
    if version >= UTC_FROM:
        return row
    return {k: (datetime.fromisoformat(v).astimezone(VN).isoformat()
                if isinstance(v, str) and _TIME.fullmatch(v) else v) for k, v in row.items()}


def facts_at(version: int, scratch: Path) -> dict[str, list[dict]]:
    """The representative rows valid at ``version``, table by table, in insertion order."""
    old_database(scratch, version)
    tables = _tables(scratch)
    facts: dict[str, list[dict]] = {"checkpoints": CHECKPOINTS, "messages": MESSAGES, "items": ITEMS}
    kinds = _allowed(scratch, "corrections", "kind")
    unknown = set(kinds) - set(CORRECTIONS_BY_KIND)
    assert not unknown, f"schema {version} allows correction kind(s) {sorted(unknown)}: add a row to CORRECTIONS_BY_KIND"
    facts["corrections"] = [dict(id=n, kind=kind, **_AUDIT, **CORRECTIONS_BY_KIND[kind])
                            for n, kind in enumerate(kinds, start=1)]
    facts["marks"] = [dict(name="poll", at="2023-10-13T01:00:31+00:00", detail="5 fetched")]
    if "outbox" in tables:
        kinds = _allowed(scratch, "outbox", "kind")
        unknown = set(kinds) - set(OUTBOX_BY_KIND)
        assert not unknown, f"schema {version} allows outbox kind(s) {sorted(unknown)}: add a row to OUTBOX_BY_KIND"
        facts["outbox"] = [_outbox_row(n, kind) for n, kind in enumerate(kinds, start=1)]
        facts["receipt_items"] = [dict(item_id=i, outbox_id=1) for i in (1, 2, 3)]
        facts["threads"] = [dict(school=NH, cycle=2023, first_message_id=facts["outbox"][0]["message_id"],
                                 subject=OUTBOX_BY_KIND["receipt"]["subject"], created_at="2023-10-05T02:05:00+00:00")]
    if "command_mails" in tables:  # the audit of the coordinator's commands by mail
        facts["command_mails"] = [dict(id=1, message_id="<cmd@tphcm-gov.example>", message_row=5,
                                       from_addr="nthmai.q12@tphcm-gov.example", subject="Re: Tổng hợp",
                                       received_at="2023-10-13T01:00:00+00:00", cycle=2023, verdict="obeyed",
                                       reason="", handled_at="2023-10-13T01:00:31+00:00")]
        facts["commands"] = [dict(message_id="<cmd@tphcm-gov.example>", line=1, text="duyệt R4 mn-hoa-mai bien_ban",
                                  kind="assign", outcome="done", detail="R4 counted", correction_id=1,
                                  at="2023-10-13T01:00:31+00:00"),
                             dict(message_id="<cmd@tphcm-gov.example>", line=2, text="xin chào", kind=None,
                                  outcome="error", detail="not a command", correction_id=None,
                                  at="2023-10-13T01:00:31+00:00")]
    if "dismissals" in tables:
        facts["dismissals"] = [dict(message_row=3, who="mai", why="đã gọi điện cho trường", via="cli",
                                    at="2023-10-13T02:10:00+00:00")]
    return facts


def build_state(state: Path, version: int, facts: dict[str, list[dict]]) -> None:
    """A state directory whose database is at ``version``, holding ``facts`` as that version wrote them."""
    inserts = []
    for table, rows in facts.items():
        for row in map(lambda r: _as_written_by(version, r), rows):
            inserts.append((f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                            tuple(row.values())))
    old_database(state, version, "PRAGMA foreign_keys = ON", *inserts)
    assert _one(state, "SELECT count(*) FROM pragma_foreign_key_check") == 0


# -- reading back ----------------------------------------------------------------

_PRIMARY_KEYS = {"checkpoints": ("source",), "messages": ("id",), "items": ("id",), "corrections": ("id",),
                 "marks": ("name",), "outbox": ("id",), "receipt_items": ("item_id",), "threads": ("school", "cycle"),
                 "command_mails": ("id",), "commands": ("message_id", "line"), "dismissals": ("message_row",)}


def _keys(state: Path, table: str) -> list[tuple]:
    columns = ", ".join(_PRIMARY_KEYS[table])
    rows = _one(state, f"SELECT json_group_array(json_array({columns})) FROM "
                       f"(SELECT {columns} FROM {table} ORDER BY {columns})")
    return [tuple(r) for r in json.loads(rows or "[]")]


def _rows(state: Path, table: str) -> list[list]:
    """Every row of ``table``, every column as SQLite quotes it, in key order."""
    columns = _one(state, f"SELECT group_concat(name, ',') FROM pragma_table_info('{table}')").split(",")
    keys = ", ".join(_PRIMARY_KEYS[table])
    quoted = ", ".join(f"quote({c})" for c in columns)
    return json.loads(_one(state, f"SELECT json_group_array(json_array({quoted})) FROM "
                                  f"(SELECT * FROM {table} ORDER BY {keys})") or "[]")


def _user_version(state: Path) -> int:
    return _one(state, "PRAGMA user_version")


def _cli(config: Path, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["--config", str(config), "--now", NOW, *args])
    assert rc == 0, (args, out.getvalue())
    return out.getvalue()


def answers(state: Path) -> dict[str, object]:
    """What the coordinator sees of this state directory, and what the store hands out."""
    config = write_config(state.parent, 'source = "folder"\npath = "/nonexistent"')
    assert f'state = "{state}"' in config.read_text(encoding="utf-8")
    with Store.open(state) as store:
        kept = {"items": store.items(), "corrections": store.corrections(),
                "quarantined": store.quarantined(include_dismissed=True),
                "message_counts": store.message_counts(), "poll mark": store.mark("poll"),
                "waiting": [(p.message_id, p.attempts, p.suspect) for p in store.pending(10, 3)]}
    return {**kept,
            "status": json.loads(_cli(config, "status", "--json")),
            "export": json.loads(_cli(config, "export", "--format", "json")),
            "outbox": _cli(config, "outbox", "--all"),
            "digest": _cli(config, "digest", "--dry-run")}


_FRESH_ANSWERS: dict[str, dict] = {}


def fresh_answers(fresh: Path, facts: dict[str, list[dict]]) -> dict[str, object]:
    """``answers(fresh)`` of a database created at the latest version holding ``facts``:
    the same facts give the same answers, so versions whose facts are alike (4-6,
    7-10) ask the command line once (read-only: the callers only compare)."""
    key = json.dumps(facts, sort_keys=True, default=repr)
    if key not in _FRESH_ANSWERS:
        _FRESH_ANSWERS[key] = answers(fresh)
    return _FRESH_ANSWERS[key]


@pytest.mark.parametrize("version", range(1, LATEST + 1))
def test_a_database_of_every_earlier_version_upgrades_keeping_every_row(version, tmp_path):
    facts = facts_at(version, tmp_path / "scratch")
    old = tmp_path / f"v{version}" / "state"
    build_state(old, version, facts)

    with Store.open(old) as store:  # the upgrade
        corrections = store.corrections()
    assert _user_version(old) == LATEST

    for table, rows in facts.items():  # every row kept, under the same key
        expected = sorted(tuple(row[c] for c in _PRIMARY_KEYS[table]) for row in rows)
        assert _keys(old, table) == expected, f"{table}: rows lost or changed keys upgrading from schema {version}"
    assert [(c.id, c.kind, c.item_id, c.school, c.doc_type, c.cycle, c.value, c.who, c.why, c.via, c.at)
            for c in corrections] == [
        (row["id"], row["kind"], row.get("item_id"), row.get("school"), row.get("doc_type"), row["cycle"],
         row.get("value"), row["who"], row["why"], row["via"], datetime.fromisoformat(row["at"]))
        for row in facts["corrections"]]

    fresh = tmp_path / "latest" / "state"
    build_state(fresh, LATEST, facts)
    for table in facts:  # the upgraded database holds what one created at the latest version holds
        assert _rows(old, table) == _rows(fresh, table), f"{table}: upgraded from schema {version}"
    expected, upgraded = fresh_answers(fresh, facts), answers(old)
    for what in expected:
        assert upgraded[what] == expected[what], (
            f"'{what}' differs between a database upgraded from schema {version} and one created at {LATEST}")

    # the data is not inert: the corrections show in the status as they were made
    schools = {s["code"]: s for s in upgraded["status"]["schools"]}
    assert schools[NH]["complete"]
    assert schools[HM]["documents"]["bien_ban"]["source"] == "R4"  # assigned from the review queue
    assert schools[KD]["documents"]["to_trinh"]["source"] == "paper"
    assert schools[KD]["deadline"] == "2023-10-20T23:59:59+07:00"
    assert upgraded["status"]["review"] == []  # R4 assigned, R6 rejected


def test_the_upgrade_runs_once_and_a_second_open_changes_nothing(tmp_path):
    state = tmp_path / "state"
    build_state(state, 1, facts_at(1, tmp_path / "scratch"))
    first = answers(state)
    assert _user_version(state) == LATEST
    assert answers(state) == first


def test_a_database_from_a_newer_bot_is_refused_and_left_as_it_was(tmp_path, capsys):
    state = tmp_path / "state"
    facts = facts_at(LATEST, tmp_path / "scratch")
    build_state(state, LATEST, facts)
    tamper(state, f"PRAGMA user_version = {LATEST + 1}")

    with pytest.raises(StoreError, match=rf"schema {LATEST + 1}, newer than this bot \({LATEST}\)") as refused:
        Store.open(state)
    assert "upgrade the bot" in refused.value.hint

    # as the user sees it: one plain line, no traceback, a failing exit status
    config = write_config(tmp_path, 'source = "folder"\npath = "/nonexistent"')
    capsys.readouterr()
    assert main(["--config", str(config), "--now", NOW, "status"]) != 0
    err = capsys.readouterr().err
    assert f"newer than this bot ({LATEST})" in err and "Traceback" not in err

    assert _user_version(state) == LATEST + 1  # nothing was migrated or lost
    for table, rows in facts.items():
        assert len(_keys(state, table)) == len(rows), table


# Keys of every form the bot wrote before KEY_COLUMNS_FROM, with the parts the upgrade finds in them.
OLD_KEYS = [
    (f"receipt:{NH}:2023:1,2,3", MailKey(RECEIPT, 2023, NH, ref="1,2,3")),
    (f"receipt:{NH}:2023:sha1-0a1b#cancelled-2", MailKey(RECEIPT, 2023, NH, ref="sha1-0a1b")),  # given back
    (f"receipt-to-sender:{HM}:2023:12", MailKey(SENDER_RECEIPT, 2023, HM, ref="12")),
    (f"reminder:{HS}:2023:before-7:2023-10-10T23:59:59+07:00",
     MailKey(REMINDER, 2023, HS, slot="before-7", deadline="2023-10-10T23:59:59+07:00")),
    ("digest:2023:2023-10-13", MailKey(DIGEST, 2023, slot="2023-10-13")),
    ("reply:<a:b@tphcm-gov.example>", MailKey(REPLY, 2023, ref="<a:b@tphcm-gov.example>")),  # a colon in it
]


def test_the_upgrade_to_key_columns_reads_each_old_key_and_keeps_it_unique(tmp_path):
    state = tmp_path / "state"
    kinds = {RECEIPT: "receipt", SENDER_RECEIPT: "receipt", REMINDER: "reminder", DIGEST: "digest", REPLY: "reply"}
    old_database(state, KEY_COLUMNS_FROM - 1, *[
        ("INSERT INTO outbox (id, key, kind, cycle, status, created_at, queued_at, next_attempt_at)"
         " VALUES (?, ?, ?, 2023, 'sent', ?, ?, ?)", (n, text, kinds[key.kind], *["2023-10-13T01:00:00+00:00"] * 3))
        for n, (text, key) in enumerate(OLD_KEYS, start=1)])

    with Store.open(state) as store:
        rows = {r.key: r.mail_key for r in store.outbox_rows()}
        assert rows == dict(OLD_KEYS)
        assert all(key.text == text for text, key in OLD_KEYS if "#cancelled-" not in text)
        assert store.outbox_keys(RECEIPT) == {OLD_KEYS[0][1]}  # the key given back is free again
        assert store.outbox_keys(REMINDER) == {OLD_KEYS[3][1]}
        for text, key in OLD_KEYS[:1] + OLD_KEYS[2:]:  # the same decision is still refused
            assert store.outbox_has_key(key)
            assert store.queue_mail(QueuedMail(key, key.mail_kind, 2023, "a@b.c", ("x@y.z",), "s", "<m@b.c>", b"x"),
                                    datetime(2023, 10, 14, tzinfo=VN)) is None
        assert store.queue_mail(QueuedMail(OLD_KEYS[1][1], "receipt", 2023, "a@b.c", ("x@y.z",), "s", "<m@b.c>",
                                           b"x"), datetime(2023, 10, 14, tzinfo=VN)) is not None
