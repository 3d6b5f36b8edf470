"""What the official-copy checks (issue 16) cost in extraction, per kind of file.

    python3 -m bench.official_cost CORPUS_DIR [--limit N]

Parses every message of a generated corpus (``tests.corpus.generate``), then
for every attachment: extracts it with OCR off (as the first poll does, the
checks included), and times ``official_inputs`` (signature reading, seal
finding, the signer read around a seal) on its own. Prints, per kind of
file, how many there were, the extraction's median and total time and the
checks' median and total time: where the first poll pays for the checks.
In process, one core: the figures are CPU-bound times on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from bot.extract import extract
from bot.extract.common import ExtractLimits
from bot.extract.official import official_inputs
from bot.official.signature import has_signature_data, quiet_library_logs
from bot.parse import ParseLimits, parse_message


def kind_of(name: str, data: bytes, result) -> str:
    """signed PDF, text PDF, scanned PDF, image, Word... (what decides the checks' cost)."""
    if result.kind == "pdf":
        if has_signature_data(data):
            return "pdf, signed"
        return "pdf, scanned" if not any(p.text.strip() for p in result.parts) else "pdf, text"
    return result.kind


def measure(corpus: Path, limit: int | None = None) -> dict:
    quiet_library_logs()
    limits = ExtractLimits()
    now = datetime.now(timezone.utc)
    extract_ms: dict[str, list[float]] = defaultdict(list)
    check_ms: dict[str, list[float]] = defaultdict(list)
    names = sorted(p.name for p in corpus.glob("*.eml"))[:limit]
    for name in names:
        message = parse_message((corpus / name).read_bytes(), ParseLimits())
        for att in message.attachments:
            t = time.perf_counter()
            result = extract(att, limits, ocr=False)
            took = (time.perf_counter() - t) * 1000
            if not result.parts:
                continue
            t = time.perf_counter()
            official_inputs(att.data, result, limits, now)
            check = (time.perf_counter() - t) * 1000
            kind = kind_of(att.filename, att.data, result)
            extract_ms[kind].append(took)
            check_ms[kind].append(check)
    rows = {}
    for kind in sorted(extract_ms):
        e, c = extract_ms[kind], check_ms[kind]
        rows[kind] = {"files": len(e), "extract_median_ms": round(statistics.median(e), 1),
                      "extract_total_s": round(sum(e) / 1000, 2), "checks_median_ms": round(statistics.median(c), 1),
                      "checks_total_s": round(sum(c) / 1000, 2)}
    return {"messages": len(names), "kinds": rows,
            "extract_total_s": round(sum(sum(v) for v in extract_ms.values()) / 1000, 2),
            "checks_total_s": round(sum(sum(v) for v in check_ms.values()) / 1000, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--limit", type=int, default=None, help="first N messages only")
    args = ap.parse_args(argv)
    figures = measure(args.corpus, args.limit)
    print(f"{figures['messages']} messages; extraction (checks included) {figures['extract_total_s']} s, "
          f"of which the official-copy checks {figures['checks_total_s']} s")
    print(f"  {'kind':14s} {'files':>5s} {'extract median ms':>18s} {'total s':>8s} {'checks median ms':>17s} "
          f"{'total s':>8s}")
    for kind, r in figures["kinds"].items():
        print(f"  {kind:14s} {r['files']:5d} {r['extract_median_ms']:18.1f} {r['extract_total_s']:8.2f} "
              f"{r['checks_median_ms']:17.1f} {r['checks_total_s']:8.2f}")
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
