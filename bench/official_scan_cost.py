"""CPU to extract (OCR on) the scans and photos of an ``official`` corpus, one process.

    PYTHONPATH=$PWD python3 -m bench.official_scan_cost /tmp/os17 [--distinct]

Reads each attachment labelled ``scan_*``/``photo_*`` in ``CORPUS/labels.json``
out of its message and times ``extract(..., ocr=True)`` with
``time.process_time()`` (tesseract runs in process, so its CPU is counted;
set OMP_THREAD_LIMIT=1 as the workers do). Prints one JSON line: files,
total CPU seconds, median, 90th percentile and max per file.
"""
from __future__ import annotations

import email
import email.policy
import json
import sys
import time
from pathlib import Path

from bot.extract.common import ExtractLimits
from bot.extract.dispatch import extract
from bot.model import Attachment


def scan_attachments(corpus: Path, variants: tuple[str, ...] = ("scan_", "photo_")):
    """(message name, file name, bytes) of the labelled scans and photos of ``corpus``
    (``variants``: the label variants, or their beginnings, taken)."""
    labels = json.loads((corpus / "labels.json").read_text())
    for name, label in sorted(labels.items()):
        wanted = {e["filename"] for e in label.get("attachments", [])
                  if e.get("variant", "").startswith(variants)}
        if not wanted:
            continue
        message = email.message_from_bytes((corpus / name).read_bytes(), policy=email.policy.default)
        for part in message.iter_attachments():
            if part.get_filename() in wanted:
                yield name, part.get_filename(), part.get_payload(decode=True)


def main(argv: list[str]) -> int:
    times = []
    distinct = "--distinct" in argv  # each file once (the preset's scans repeat: the same paper sent again)
    argv = [a for a in argv if a != "--distinct"]
    seen = set()
    for _, filename, data in scan_attachments(Path(argv[0])):
        if distinct and data in seen:
            continue
        seen.add(data)
        start = time.process_time()
        extract(Attachment(filename, "application/octet-stream", data), ExtractLimits(), ocr=True)
        times.append(time.process_time() - start)
    times.sort()
    if not times:
        print("no scans or photos labelled in", argv[0], file=sys.stderr)
        return 1
    print(json.dumps({"files": len(times), "total_cpu_s": round(sum(times), 1),
                      "median_s": round(times[len(times) // 2], 2),
                      "p90_s": round(times[int(len(times) * 0.9)], 2), "max_s": round(times[-1], 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
