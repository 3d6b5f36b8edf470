"""Helpers for the outgoing-mail tests: a configuration pointing at a test
SMTP server (or at state/outbox/), facts recorded through the real store
API, and readers for what the SMTP server received."""
from __future__ import annotations

import atexit
import email
import functools
import io
import itertools
import shutil
import tempfile
from datetime import datetime
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config.load import parse_config
from bot.context import Context
from bot.model import ItemDecision, RawMessage
from bot.parse import parse_message
from bot.rules.load import load_rules
from bot.store import DB_NAME, MessageSummary, Store

ROOT = Path(__file__).resolve().parents[1]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
FROM = "hoso-bot@pgd-q12.example"
COORDINATOR = "nthmai.q12@tphcm-gov.example"
OFFICE_MX = "mx.tphcm-gov.example"  # the authserv-id of the office's receiving server
_seq = itertools.count(1)


Ctx = Context  # what app.load gives


def make_ctx(tmp_path: Path, smtp_server=None, *, templates: Path | None = None, rules: Path | None = None,
             per_minute: int = 1000, daily_cap: int = 5000, trusted_authserv_ids=(OFFICE_MX,), **smtp) -> Ctx:
    """A context like ``app.load`` gives; SMTP on ``smtp_server`` (plain, loopback) or disabled.
    Only ``trusted_authserv_ids`` (default: the office's server) write Authentication-Results we believe."""
    if smtp_server is not None:
        section = {"enabled": True, "host": "127.0.0.1", "port": smtp_server.port, "security": "none",
                   "from_address": FROM, "from_name": "Phòng GD&ĐT Quận 12", "per_minute": per_minute,
                   "daily_cap": daily_cap, **smtp}
    else:
        section = {"enabled": False, "from_address": FROM}
    data = {
        "mailbox": {"source": "folder", "path": str(tmp_path / "inbox"),
                    "trusted_authserv_ids": list(trusted_authserv_ids)},
        "smtp": section,
        "coordinator": {"emails": [COORDINATOR]},
        "paths": {"rules": str(rules or ROOT / "rules"), "templates": str(templates or ROOT / "templates"),
                  "state": str(tmp_path / "state")},
        "schedule": {"timezone": "Asia/Ho_Chi_Minh", "digest_at": "07:00"},
    }
    config = parse_config(data, tmp_path)
    _new_state(config.paths.state)
    return Ctx(config=config, rules=load_rules(config.paths.rules))


def _new_state(state: Path) -> None:
    """A state directory whose database is a copy of one the bot created and
    migrated (a real SQLite file): the bot opens it as it opens any state of
    the current schema, without running every migration again for each test
    (about 13 ms of CPU each). An existing database is left alone."""
    if (state / DB_NAME).exists():
        return
    state.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_database(), state / DB_NAME)


@functools.cache
def _migrated_database() -> Path:
    """A database created by ``Store.open`` in this process (never written again: tests get copies)."""
    where = Path(tempfile.mkdtemp(prefix="hoso-migrated-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    with Store.open(where / "state") as store:
        assert store.journal_mode() == "wal"
    return where / "state" / DB_NAME


def at(day, hour=8, minute=0, month=10, year=2023) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def record(store: Store, when: datetime, *, sender: str, files=(), raw: bytes | None = None,
           subject: str = "Hồ sơ đề nghị công nhận", pages: dict[int, tuple[int, int]] | None = None) -> list[int]:
    """Record one received message with classified items, through the store's API.

    ``files``: (filename, school, doc_types, decision[, reason]). ``raw``: a
    full message (e.g. a bounce) parsed by the real parser instead.
    ``pages``: (first, last) page of the n-th file's document (1, 1 otherwise).
    Returns the item ids (the coordinator's R-numbers).
    """
    n = next(_seq)
    if raw is None:
        raw = (f"From: {sender}\r\nTo: hoso@pgd-q12.example\r\nSubject: {subject}\r\n"
               f"Message-ID: <test-{n}-{when.timestamp():.0f}@school.example>\r\nMIME-Version: 1.0\r\n"
               f"Content-Type: text/plain; charset=utf-8\r\n\r\nKính gửi Phòng GD&ĐT.\r\n").encode("utf-8")
    parsed = parse_message(raw)
    store.record_fetched([RawMessage(f"test:{n}", raw, when)], when)
    row = store.message_row_of(f"test:{n}")
    cycle = 2023 if when.month >= 8 else 2022
    items = []
    for i, f in enumerate(files):
        filename, school, doc_types, decision, *reason = f
        items.append((ItemDecision(filename=filename, part_index=i, school=school, doc_types=tuple(doc_types),
                                   campaign=True, decision=decision, confidence=0.95 if decision == "counted" else 0.5,
                                   reasons=tuple(reason) or ("test",), content_sha256=f"{n:064x}",
                                   first_page=(pages or {}).get(i, (1, 1))[0],
                                   last_page=(pages or {}).get(i, (1, 1))[1]),
                      "", when, cycle))
    summary = MessageSummary(message_id=parsed.message_id, from_addr=parsed.from_addr, subject=parsed.subject,
                             automatic=parsed.automatic, auth=parsed.auth, bounces=parsed.bounce_recipients)
    store.record_processed(row, summary, items, when)
    return store.item_ids_of(row)


def quarantine(store: Store, when: datetime, *, sender: str = "thcsnguyenhien.q12@hcm-edu.example",
               subject: str = "Hồ sơ ANTQ", error: str = "could not read the message (test)") -> str:
    """Record one message that fails every attempt until it is quarantined,
    through the store's API (as the pipeline does; a message that could not be
    parsed has no known sender, so the digest shows its Message-ID
    ``<poison-N@school.example>``). Returns its reference (Q12)."""
    n = next(_seq)
    raw = (f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <poison-{n}@school.example>\r\n\r\nbody\r\n"
           ).encode("utf-8")
    store.record_fetched([RawMessage(f"test:{n}", raw, when)], when)
    row = store.message_row_of(f"test:{n}")
    for _ in range(3):
        store.begin_attempts([row])
        store.record_failure(row, error, 3, when)
    return f"Q{row}"


def parsed(received) -> email.message.EmailMessage:
    return _parse(received.raw)


@functools.lru_cache(maxsize=4096)
def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def bodies(msg) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return text, html


def xlsx_rows(msg) -> dict[str, list[list]]:
    from openpyxl import load_workbook

    (att,) = [p for p in msg.iter_attachments() if p.get_filename().endswith(".xlsx")]
    wb = load_workbook(io.BytesIO(att.get_content()))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def by_kind(messages, kind: str) -> list:
    return [m for m in messages if parsed(m)["X-Bot-Kind"] == kind]


def small_rules(tmp_path: Path, codes=("thcs-nguyen-hien", "mn-hoa-mai", "th-nguyen-du")) -> Path:
    """A copy of rules/ with only some schools of the roster."""
    out = tmp_path / "rules"
    out.mkdir(exist_ok=True)
    (out / "campaign.toml").write_text((ROOT / "rules" / "campaign.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lines = (ROOT / "rules" / "schools.csv").read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split(",", 1)[0] in codes]
    (out / "schools.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    return out
