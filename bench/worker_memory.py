"""Peak resident memory (VmHWM) of an extraction worker reading one large scanned PDF,
sent to it as pickled bytes or by the path of a spooled file (``Extractor(spool=...)``);
and what a worker keeps of the large blocks it freed (``held_after_churn``), against a
process with glibc's default malloc.

    python3 -m bench.worker_memory --mb 50

The PDF is the bench's big attachment (``bench.run.big_message``), read with OCR off:
the figure is the file's handling, not tesseract's.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from email import message_from_bytes
from pathlib import Path

from bench.run import big_message
from bot.extract import ExtractLimits, Extractor
from bot.model import Attachment

MiB = 1024 * 1024


def peak_mb(pid: int) -> float:
    """The high-water mark of a process's resident memory, in MB (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


def held_after_churn(count: int = 20, size: int = 2 * MiB) -> tuple[float, float]:
    """(resident MB before, after) ``count`` blocks of ``size`` bytes were made and freed in
    this process, each with a smaller block (64 KB) made after it that stays (as a worker draws
    pages and keeps what it read between them), after one larger block was freed first (as
    the first page drawn is). What "after" exceeds "before" by is what malloc kept of the freed
    blocks: glibc's default keeps them all (its thresholds rose with the first block); an
    extraction worker (``heap.tune_malloc``) gives them back."""
    first = b"x" * (4 * size)
    del first
    before = rss_mb()
    blocks = []
    for _ in range(count):
        blocks.append(b"x" * size)
        blocks.append(b"y" * (64 * 1024))  # an unusual size: made at the heap's top, between the large ones
    del blocks[::2]
    return before, rss_mb()


def worker_peak(data: bytes, spool: Path | None) -> tuple[float, float, str]:
    """(idle peak, peak after reading ``data``, the result's error or kind) of a fresh worker."""
    limits = ExtractLimits(max_bytes=2 * len(data))
    with Extractor(limits, workers=1, timeout=300, ocr=False, spool=spool) as pool:
        pool.extract(Attachment("warm-up.txt", "text/plain", b"x"))  # the worker starts, idle
        pid = pool._pool[0].process.pid
        idle = peak_mb(pid)
        result = pool.extract(Attachment("scan.pdf", "application/pdf", data))
        return idle, peak_mb(pid), result.error or result.kind


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=50, help="size of the PDF in MB (default 50)")
    args = ap.parse_args(argv)
    mail = message_from_bytes(big_message(args.mb))
    data = next(p.get_payload(decode=True) for p in mail.walk() if p.get_content_type() == "application/pdf")
    del mail
    with tempfile.TemporaryDirectory(prefix="hoso-spool-") as tmp:
        for how, spool in (("pickled bytes", None), ("a spooled file", Path(tmp) / "spool")):
            idle, peak, result = worker_peak(data, spool)
            print(f"{len(data) / MiB:.0f} MB PDF sent as {how}: worker peak {peak:.0f} MB (idle {idle:.0f} MB); "
                  f"{result}")
    with Extractor(workers=1, timeout=60) as pool:
        pool.submit_call("churn", held_after_churn)
        ((_, (before, after)),) = pool.ready(None)
    default = subprocess.run([sys.executable, "-c", "from bench.worker_memory import held_after_churn as h; "
                              "print(*h())"], check=True, capture_output=True, text=True).stdout.split()
    print(f"40 MB of 2 MB blocks made and freed: an extraction worker keeps {after - before:.0f} MB of them, "
          f"a process with glibc's default malloc {float(default[1]) - float(default[0]):.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
