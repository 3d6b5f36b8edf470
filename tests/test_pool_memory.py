"""An extraction worker gives back the large blocks it frees (issue 15.2: the process tree of an
OCR-on poll stays small): pages drawn for OCR, tesseract's copies of them and decoded attachments
do not stay in the worker once read."""
from __future__ import annotations

import subprocess
import sys

from bench.worker_memory import held_after_churn
from bot.extract import Extractor


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
