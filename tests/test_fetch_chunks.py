"""How a poll cuts new mail into FETCH batches: by count and by bytes, so a run
of large scans is never held in memory at once (pure: no server)."""
from __future__ import annotations

import pytest

from bot.mailbox.imap import fetch_chunks

MB = 1024 * 1024


@pytest.mark.parametrize("sizes, max_count, max_mb, expected", [
    # small mail: the count decides, as before
    ([1] * 7, 3, 64, [[1, 2, 3], [4, 5, 6], [7]]),
    # scans of 30 MB: two fit under 64 MB, the third starts a new batch
    ([30, 30, 30, 30, 1], 50, 64, [[1, 2], [3, 4, 5]]),
    # one message larger than the budget is fetched alone, never skipped
    ([1, 100, 1], 50, 64, [[1], [2], [3]]),
    # exactly at the budget still fits
    ([32, 32, 1], 50, 64, [[1, 2], [3]]),
    # withheld (too large: headers only) and unknown sizes weigh nothing
    ([None, "withheld", 60, "withheld", 3], 50, 64, [[1, 2, 3, 4, 5]]),
    ([], 50, 64, []),
])
def test_batches_keep_order_and_respect_count_and_bytes(sizes, max_count, max_mb, expected):
    uids = list(range(1, len(sizes) + 1))
    whole = {uid: (None if size is None else size * MB) for uid, size in zip(uids, sizes) if size != "withheld"}
    chunks = fetch_chunks(uids, whole, max_count, max_mb * MB)
    assert chunks == expected
    assert [u for c in chunks for u in c] == uids  # nothing lost, nothing reordered
