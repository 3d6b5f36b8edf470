"""Why are stamped scans and photos undecided? The official-copy verdict of
every labelled scan/photo of an ``official`` corpus, with its reasons counted.

    PYTHONPATH=$PWD python3 -m bench.official_undecided /tmp/o16 [--cache /tmp/o16.x] [--reextract] [--show]

Each attachment labelled ``scan_*``/``photo_*`` is extracted as a worker does
(OCR on, one process; tesseract's CPU counted with ``resource.RUSAGE_CHILDREN``
as well as the process's own) and judged with ``evidence_for`` against the
label's document type (what the bot does once it has classified it right).
Extractions are kept in ``--cache`` (a pickle per file) so that a change to
the verdict alone is judged again without OCR; ``--reextract`` reads them
again. Prints, per variant and truth, official / not / undecided, and the
doubts of the undecided genuine stamped copies grouped by cause; ``--show``
lists every undecided stamped copy with what was read.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import resource
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from bench.official_scan_cost import scan_attachments
from bot.extract.common import ExtractLimits
from bot.extract.dispatch import extract
from bot.model import Attachment
from bot.officialcopy import evidence_for
from bot.rules.load import load_rules

_CAUSES = (  # the doubt's words -> a short cause (first match wins)
    ("không đọc được chức danh", "signer not read around the seal"),
    ("quá mờ", "seal too faint"),
    ("vết mực đỏ nhạt", "pale red ink, no seal"),
    ("không có màu", "no colour"),
    ("quá tối", "too dark"),
    ("chưa xem được trang", "no page looked at"),
    ("không đọc được rõ số", "number not read"),
    ("số văn bản trên bản scan có vẻ để trống", "number read blank"),
    ("mang ký hiệu khác", "number of another code"),
    ("không đọc được rõ ngày", "date not read"),
    ("ngày tháng trên bản scan có vẻ để trống", "date read blank"),
    ("không thuộc đợt này", "date out of the cycle"),
    ("các phần của biên bản", "minutes parts not read"),
)


def cause(doubt: str) -> str:
    return next((c for words, c in _CAUSES if words in doubt), "other: " + doubt[:60])


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _from_state(state: Path, data: bytes):
    import sqlite3

    from bot.store.extractions import extraction_from_json

    conn = sqlite3.connect(f"file:{state / 'bot.sqlite3'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT result FROM extractions WHERE sha256 = ?",
                           (hashlib.sha256(data).hexdigest(),)).fetchone()
    finally:
        conn.close()
    return extraction_from_json(row[0]) if row else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--cache", type=Path)
    p.add_argument("--reextract", action="store_true")
    p.add_argument("--show", action="store_true")
    p.add_argument("--state", type=Path, help="take the extractions from this bot state (eval --keep-state)")
    p.add_argument("--rules", type=Path, default=Path("rules"))
    args = p.parse_args()
    cache = args.cache or args.corpus.with_name(args.corpus.name + ".x")
    cache.mkdir(exist_ok=True)
    rules = load_rules(args.rules)
    campaign = rules.campaign
    labels = json.loads((args.corpus / "labels.json").read_text())
    received = json.loads((args.corpus / "internaldates.json").read_text())
    by_variant: Counter = Counter()
    causes: Counter = Counter()
    wrong = []
    cpu, extracted = 0.0, 0
    for name, filename, data in scan_attachments(args.corpus):
        key = cache / (hashlib.sha1(f"{name}/{filename}".encode()).hexdigest() + ".pickle")
        if args.state is not None:
            result = _from_state(args.state, data)
            if result is None:
                continue
        elif key.exists() and not args.reextract:
            result = pickle.loads(key.read_bytes())
        else:
            start = _cpu()
            result = extract(Attachment(filename, "application/octet-stream", data), ExtractLimits(), ocr=True)
            cpu += _cpu() - start
            extracted += 1
            key.write_bytes(pickle.dumps(result))
        at = datetime.fromisoformat(received[name])
        for entry in labels[name]["attachments"]:
            if entry["filename"] != filename:
                continue
            doc = campaign.doc_type(entry["doc_types"][0])
            parts = [q for q in result.parts if q.first_page <= entry["first_page"] <= q.last_page] or result.parts[:1]
            ev = evidence_for(result.official, parts[0], doc, campaign, campaign.cycle_of(at), at) if parts else None
            got = None if ev is None else ev.official
            truth = bool(entry["official"])
            by_variant[(entry["variant"], truth, {True: "yes", False: "no", None: "undecided"}[got])] += 1
            if got is True and not truth:
                wrong.append((name, filename, entry["variant"], ev.seen))
            if truth and got is None and entry["variant"].endswith("_stamped"):
                reasons = sorted({cause(d) for d in (ev.doubts if ev else ("no part",))})
                for r in reasons:
                    causes[r] += 1
                causes[" + ".join(reasons)] += 0
                if args.show:
                    print(f"{name} {filename} [{entry['variant']} {doc.id}] {'; '.join(reasons)}")
                    for d in (ev.doubts if ev else ()):
                        print("    doubt:", d)
                    print("    seen:", "; ".join(ev.seen) if ev else "-")
    print("variant, truth -> yes / no / undecided")
    for variant in sorted({v for v, _, _ in by_variant}):
        for truth in (True, False):
            row = [by_variant[(variant, truth, g)] for g in ("yes", "no", "undecided")]
            if any(row):
                print(f"  {variant:16} {'official' if truth else 'not official':12} {row[0]:3} / {row[1]:3} / {row[2]:3}")
    print("undecided genuine stamped copies, by cause (a copy may have several):")
    for c, n in causes.most_common():
        if n:
            print(f"  {n:3}  {c}")
    print("called official, not official:", len(wrong), *wrong, sep="\n  ")
    if extracted:
        print(f"extracted {extracted} files, CPU {cpu:.1f} s (tesseract included)")


if __name__ == "__main__":
    main()
