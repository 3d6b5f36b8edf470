"""Fuzzing extraction (and parse -> extract -> classify) with hypothesis.

Real PDFs, DOCX, ZIPs, RTF, images and mails are mutated (bytes flipped,
cut, inserted, duplicated) and fed to ``extract()``, in this process and
without the worker pool's protection: it must never raise, and always say
either what text it found or why it found none. A second test runs mutated
hostile mails through parse, extract and classify: every mail gives
decisions a coordinator can read. Derandomised: the same examples every run.
HOSO_FUZZ_EXAMPLES=N runs N examples of each instead of 150 and 100.
"""
from __future__ import annotations

import os
import unicodedata
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.classify import classify_message
from bot.extract import ExtractLimits, extract
from bot.model import DECISIONS, Attachment, Extraction
from bot.parse import parse_message
from bot.rules.load import load_rules

from . import docfactory as df
from . import hostile as H
from . import mailfactory as mf

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"pdf", "docx", "doc", "image", "text", "unknown"}
LIMITS = ExtractLimits(max_pages=4, convert_timeout=10)
EXAMPLES = int(os.environ.get("HOSO_FUZZ_EXAMPLES", "0")) or None


def fuzz(examples: int):
    return settings(max_examples=EXAMPLES or examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@lru_cache(maxsize=None)
def seeds() -> dict[str, bytes]:
    """One small, valid file of each format the bot reads."""
    return {
        "official.pdf": df.official_pdf([H.school_doc(0)]),
        "tiny.pdf": H.small_pdf(1),
        "loops.pdf": H.pdf_reference_loops(),
        "official.docx": df.official_docx(H.school_doc(1), textbox="Hộp văn bản"),
        "hoso.zip": mf.zip_bytes([("Tờ trình.pdf", H.small_pdf(2)), ("Biên bản.txt", "BIÊN BẢN họp xét".encode())]),
        "old.rtf": rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard BAO CAO ket qua\par}",
        "scan.png": mf.png_bytes(8, 8),
        "page.html": "<html><body><p>TỜ TRÌNH</p><table><tr><td>Số: 15/TTr</td></tr></table></body></html>".encode(),
        "note.txt": "Kính gửi Phòng GD&ĐT\nBÁO CÁO kết quả".encode("cp1258", "replace"),
    }


def mutate(data: bytes, ops: list[tuple[int, str, bytes]]) -> bytes:
    out = bytearray(data)
    for position, kind, blob in ops:
        at = position % (len(out) + 1)
        if kind == "flip" and at < len(out):
            out[at] ^= blob[0] or 0xFF
        elif kind == "delete":
            del out[at:at + 16 * len(blob)]
        elif kind == "insert":
            out[at:at] = blob
        elif kind == "truncate":
            del out[at:]
        elif kind == "duplicate":
            out[at:at] = out[at:at + 256]
    return bytes(out)


OPS = st.lists(st.tuples(st.integers(0, 2**31), st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]),
                         st.binary(min_size=1, max_size=12)), min_size=1, max_size=6)
NAMES = st.sampled_from(["Tờ trình.pdf", "Biên bản.docx", "hoso.doc", "scan.jpg", "ghi chú.txt", "file", "x.html"])


def check(result: Extraction) -> None:
    assert isinstance(result, Extraction)
    assert result.kind in KINDS
    if result.parts:
        assert result.error is None
        for part in result.parts:
            assert part.text.strip() and isinstance(part.head, str)
            assert 1 <= part.first_page <= part.last_page
            assert unicodedata.is_normalized("NFC", part.text)
            assert len(part.text) <= LIMITS.max_chars
    else:
        assert isinstance(result.error, str) and result.error.strip()  # why there is no text


@fuzz(150)
@given(seed=st.sampled_from(sorted(seeds())), ops=OPS, name=NAMES)
def test_extract_on_mutated_files_never_raises_and_always_explains(seed, ops, name):
    data = mutate(seeds()[seed], ops)
    check(extract(Attachment(name, "application/octet-stream", data), LIMITS, ocr=False))


@lru_cache(maxsize=None)
def mails() -> list[bytes]:
    small = [c.raw for c in H.corpus() if len(c.raw) < 120_000]
    return [H.good_mail(0, label="fuzz-good"), *small]


@lru_cache(maxsize=None)
def rules():
    return load_rules(ROOT / "rules")


@fuzz(100)
@given(index=st.integers(0, 10_000), ops=OPS)
def test_mutated_mail_through_parse_extract_classify_always_gives_readable_decisions(index, ops):
    raw = mutate(mails()[index % len(mails())], ops)
    message = parse_message(raw)
    docs = [(a, extract(a, LIMITS, ocr=False)) for a in message.attachments]
    received = datetime(2023, 10, 5, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    decisions = classify_message(message, docs, rules(), received, ocr_available=False)
    for decision in decisions:
        assert decision.decision in DECISIONS
        assert decision.reasons and all(isinstance(r, str) and r for r in decision.reasons)
    # a part the parser could not read is never dropped silently (automatic mail is not looked into)
    if not message.automatic and not message.bounce_recipients:
        unread = [s for s in message.skipped if s.matters]
        assert sum(1 for d in decisions if d.part_index <= -2) == len(unread)
