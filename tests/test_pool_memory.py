"""An extraction worker gives back the large blocks it frees (issue 15.2: the process tree of an
OCR-on poll stays small): pages drawn for OCR, tesseract's copies of them and decoded attachments
do not stay in the worker once read."""
from __future__ import annotations

import subprocess
import sys
import time

from bench.worker_memory import held_after_churn, rss_mb
from bot.extract import Extractor
from bot.model import Attachment


def test_a_worker_keeps_none_of_the_large_blocks_it_freed():
    with Extractor(workers=1, timeout=60) as pool:
        pool.submit_call("churn", held_after_churn)
        ((key, (before, after)),) = pool.ready(None)
    assert key == "churn"
    assert after - before < 8, f"the worker kept {after - before:.0f} MB of the 40 MB it freed"


def test_glibcs_default_would_keep_them():
    """The same blocks in a process with glibc's default malloc: kept (what the worker's settings change)."""
    out = subprocess.run([sys.executable, "-c", "from bench.worker_memory import held_after_churn as h; print(*h())"],
                         check=True, capture_output=True, text=True).stdout.split()
    assert float(out[1]) - float(out[0]) > 30


def test_the_bots_process_gives_back_what_it_freed_while_it_waits_for_its_workers():
    with Extractor(workers=1, timeout=60, trim_every=0.0) as pool:
        assert pool.extract(Attachment("a.txt", "text/plain", b"x")).error is None  # the pool is running
        # blocks below the mapped size, each with a smaller one kept after it: holes in the heap
        blocks = [b"x" * (200 * 1024) if i % 2 == 0 else b"y" * (40 * 1024) for i in range(400)]
        del blocks[::2]
        holes = rss_mb()
        pool.submit_call("wait", time.sleep, 0.01)
        ((key, _),) = pool.ready(None)
        after = rss_mb()
    assert key == "wait" and len(blocks) == 200
    assert holes - after > 25, f"{holes:.0f} MB with 40 MB of holes, {after:.0f} MB after waiting"
