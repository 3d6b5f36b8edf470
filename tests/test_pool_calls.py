"""The worker pool's call jobs (how the pipeline classifies in the workers) and
its two jobs per worker: a job the worker had not started when it died is
never charged, and comes back with its own result."""
from __future__ import annotations

import os
import time

from bot.extract import Extractor, JobFailed


def _die_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(3)


def _all(pool: Extractor, count: int) -> dict:
    got: dict = {}
    while len(got) < count:
        got.update(pool.ready(None))
    return got


def test_a_call_runs_in_a_worker_and_its_error_names_the_exception():
    with Extractor(workers=1, timeout=30) as pool:
        pool.submit_call("pid", os.getpid)
        pool.submit_call("bad", int, "not a number")
        got = _all(pool, 2)
    assert got["pid"] != os.getpid()
    assert isinstance(got["bad"], JobFailed) and got["bad"].cause == "raised"
    assert got["bad"].reason.startswith("ValueError: invalid literal for int()")


def test_only_the_job_a_worker_died_on_is_charged_not_the_one_waiting_in_its_pipe():
    with Extractor(workers=1, timeout=30) as pool:
        # a call goes ahead of the jobs waiting: submitted last, run first
        pool.submit_call("after", len, "abc")  # sent while "dies" runs: in the pipe when the worker dies
        pool.submit_call("dies", _die_after, 1.0)
        pool.submit_call("first", time.sleep, 0.3)  # the worker becomes ready meanwhile
        got = _all(pool, 3)
    assert got["first"] is None
    assert isinstance(got["dies"], JobFailed) and got["dies"].cause == "crash"
    assert "exit code 3" in got["dies"].reason
    assert got["after"] == 3


def test_a_call_inline_runs_here_and_raises_here():
    with Extractor(workers=0) as pool:
        pool.submit_call("pid", os.getpid)
        assert pool.ready() == [("pid", os.getpid())]
