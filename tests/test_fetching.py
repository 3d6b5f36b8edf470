"""Fetching in a thread while the pool processes (``bot.ingest.BackgroundFetch``)."""
from __future__ import annotations

import threading

import pytest

from bot.errors import MailboxError
from bot.ingest import BackgroundFetch
from bot.store import Store


def test_each_committed_batch_wakes_the_processing_and_the_fetch_ends(tmp_path):
    go = [threading.Event() for _ in range(3)]
    seen_progress = []

    def fetch(store, progress):
        assert isinstance(store, Store)  # its own connection to the same state
        for n, event in enumerate(go):
            event.wait(10)
            progress("fetch", n + 1, None)

    fetch_ = BackgroundFetch(fetch, tmp_path / "state", lambda *a: seen_progress.append(a)).start()
    go[0].set()
    assert fetch_.wait(0) == (1, False)  # the first batch is there: processing may start
    go[1].set()
    go[2].set()
    batches, ended = fetch_.wait(1)
    while not ended:
        batches, ended = fetch_.wait(batches)
    assert batches == 3
    fetch_.finish()
    assert [a[1] for a in seen_progress] == [1, 2, 3]  # the caller's progress is still told


def test_a_fetch_that_fails_fails_the_poll_after_the_batches_already_committed(tmp_path):
    def fetch(store, progress):
        progress("fetch", 1, None)
        raise MailboxError("IMAP connection lost")

    fetch_ = BackgroundFetch(fetch, tmp_path / "state").start()
    batches, ended = fetch_.wait(0)
    while not ended:
        batches, ended = fetch_.wait(batches)
    assert batches == 1
    with pytest.raises(MailboxError, match="connection lost"):
        fetch_.finish()


def test_a_failed_processing_stops_the_fetch_after_its_current_batch(tmp_path):
    fetched, release = [], threading.Event()

    def fetch(store, progress):
        for n in range(1, 100):
            release.wait(10)  # downloading the batch
            fetched.append(n)
            progress("fetch", n, None)

    fetch_ = BackgroundFetch(fetch, tmp_path / "state").start()
    threading.Timer(0.2, release.set).start()  # the batch being downloaded arrives after the stop
    fetch_.close()  # what poll does when processing raised: no more mail is fetched
    assert fetched == [1]  # that batch is committed, no other is started
    fetch_.finish()  # a stop is not an error
