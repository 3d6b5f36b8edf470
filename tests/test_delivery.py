"""What a delivery pass does with each due mail, without an SMTP server.

The decisions (``bot.outbound.delivery``) are pure: tables of cases. The
pass that applies them (``outbox.deliver_due``) runs on a real store with a
sender that records what it is handed, or fails as it is told; what a real
server answers is tested in tests/test_outbox.py.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from bot import notify
from bot.errors import SmtpFailure
from bot.outbound import outbox
from bot.outbound.delivery import (HELD_FOR_OTHERS, HELD_SENDER_CAP, HOLD, SEND, WAIT, Admission, AfterFailure,
                                   Counts, Limits, admit, after_failure, split_recipients)
from bot.outbound.facts import allowed_addresses
from bot.store import Store

from .outgoing import at, make_ctx, small_rules

T0 = at(3, 9)  # Tuesday 3/10/2023, 09:00: the "7 days before" reminders are due
LIMITS = Limits(daily_cap=10, per_minute=3, sender_receipts_per_day=2, reserve=4)


# -- the decisions ------------------------------------------------------------------

@pytest.mark.parametrize("kind, to_sender, counts, expected", [
    ("reminder", False, Counts(), Admission(SEND)),
    ("reminder", False, Counts(in_minute=3, in_day=3), Admission(WAIT, "per-minute rate")),
    ("reminder", False, Counts(in_minute=0, in_day=10), Admission(WAIT, "daily cap")),
    ("digest", False, Counts(in_minute=3, in_day=10), Admission(WAIT, "daily cap")),     # the cap is named first
    ("receipt", False, Counts(in_minute=3, in_day=3), Admission(WAIT, "per-minute rate")),
    # receipts leave room for 4 sends of other mail in the day (less what of it was already sent)
    ("receipt", False, Counts(in_day=5), Admission(SEND)),
    ("receipt", False, Counts(in_day=6), Admission(HOLD, HELD_FOR_OTHERS)),
    ("digest", False, Counts(in_day=6), Admission(SEND)),                                 # what the room is kept for
    ("receipt", False, Counts(in_day=8, priority_in_day=4), Admission(SEND)),            # the reserve was used
    ("receipt", False, Counts(in_day=9, priority_in_day=4), Admission(SEND)),
    # receipts to senders outside the roster have a cap of their own on top
    ("receipt", True, Counts(in_day=2, sender_receipts_in_day=1), Admission(SEND)),
    ("receipt", True, Counts(in_day=2, sender_receipts_in_day=2), Admission(HOLD, HELD_SENDER_CAP)),
    ("receipt", False, Counts(in_day=2, sender_receipts_in_day=2), Admission(SEND)),      # not to the roster's
])
def test_which_mail_may_leave_now(kind, to_sender, counts, expected):
    assert admit(kind, to_sender, counts, LIMITS) == expected


def test_counts_go_up_with_each_mail_sent():
    counts = Counts(1, 2, 0, 0).after_sent("reminder", False).after_sent("receipt", True)
    assert counts == Counts(in_minute=3, in_day=4, priority_in_day=1, sender_receipts_in_day=1)


@pytest.mark.parametrize("attempts, minutes", [(1, 1), (2, 2), (3, 4), (4, 8), (6, 32), (7, 60), (30, 60)])
def test_backoff_doubles_up_to_an_hour(attempts, minutes):
    assert Limits().backoff(attempts) == timedelta(minutes=minutes)


@pytest.mark.parametrize("first_retry_seconds, attempts, seconds", [
    (60, 1, 60), (60, 2, 120),                      # the default: as above
    (10, 1, 10), (10, 2, 20), (10, 4, 80),           # [smtp] first_retry_seconds = 10
    (10, 9, 2560), (10, 10, 3600), (3600, 1, 3600),  # still at most an hour
])
def test_the_configured_first_retry_doubles_up_to_an_hour(first_retry_seconds, attempts, seconds):
    limits = Limits(first_retry=timedelta(seconds=first_retry_seconds))
    assert limits.backoff(attempts) == timedelta(seconds=seconds)


@pytest.mark.parametrize("before, queued_ago, temporary, connection, expected", [
    (0, timedelta(0), True, False, AfterFailure(1, False, T0 + timedelta(minutes=1))),              # 451: retry
    (3, timedelta(hours=2), True, False, AfterFailure(4, False, T0 + timedelta(minutes=8))),
    (0, timedelta(0), True, True, AfterFailure(1, False, T0 + timedelta(minutes=1), postpone_rest=True)),
    (9, timedelta(days=3, seconds=1), True, False, AfterFailure(10, True)),        # waited too long: given up
    (9, timedelta(days=3), True, True, AfterFailure(10, False, T0 + timedelta(minutes=60), postpone_rest=True)),
    (0, timedelta(0), False, False, AfterFailure(1, False, T0 + timedelta(minutes=1))),             # 550 once
    (1, timedelta(0), False, False, AfterFailure(2, False, T0 + timedelta(minutes=2))),
    (2, timedelta(0), False, False, AfterFailure(3, True)),                                        # third 5xx
])
def test_what_a_failed_attempt_leads_to(before, queued_ago, temporary, connection, expected):
    assert after_failure(before, T0 - queued_ago, temporary=temporary, connection=connection, now=T0,
                         limits=Limits()) == expected


@pytest.mark.parametrize("recipients, expected", [
    (("a@x.example", "B@x.example"), (("a@x.example", "B@x.example"), ())),   # case does not matter
    (("a@x.example", "stranger@y.example"), (("a@x.example",), ("stranger@y.example",))),
    (("stranger@y.example",), ((), ("stranger@y.example",))),
])
def test_mail_goes_only_to_allowed_addresses(recipients, expected):
    assert split_recipients(recipients, {"a@x.example", "b@x.example"}) == expected


# -- the pass that applies them, with a recording sender ------------------------------------

class RecordingSender:
    """Takes every mail (``sent``: recipients of each), or raises the failures queued by ``fail_next``."""

    delivered = "handed to"

    def __init__(self):
        self.sent: list[tuple[str, ...]] = []
        self.failures: list[SmtpFailure] = []

    def fail_next(self, n: int, *, temporary: bool = True, connection: bool = False) -> None:
        code = 451 if temporary else 550
        self.failures += [SmtpFailure(f"{code} try later", temporary=temporary, connection=connection, code=code)
                          for _ in range(n)]

    def send(self, raw, from_addr, recipients, *, name=""):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(tuple(recipients))
        return {}

    def close(self):
        pass


@pytest.fixture
def ctx(tmp_path):
    return make_ctx(tmp_path, rules=small_rules(tmp_path))


@pytest.fixture
def store(ctx):
    with Store.open(ctx.config.paths.state) as s:
        assert notify.remind(ctx, s, None, T0).queued == 3  # one reminder to each of three schools
        yield s


def deliver(ctx, store, sender, now, **limits):
    return outbox.deliver_due(store, sender, now, Limits(**limits), allowed_addresses(ctx))


def statuses(store) -> Counter:
    return Counter(r.status for r in store.outbox_rows())


def test_per_minute_rate_leaves_the_rest_for_the_next_minute(ctx, store):
    sender = RecordingSender()
    report = deliver(ctx, store, sender, T0, per_minute=2)
    assert (report.sent, report.waiting) == (2, 1)
    assert deliver(ctx, store, sender, T0 + timedelta(seconds=30), per_minute=2).sent == 0
    assert deliver(ctx, store, sender, T0 + timedelta(seconds=61), per_minute=2).sent == 1
    assert len(sender.sent) == 3 and statuses(store) == {"sent": 3}


def test_daily_cap_is_a_rolling_24_hours(ctx, store):
    sender = RecordingSender()
    assert deliver(ctx, store, sender, T0, daily_cap=2).sent == 2
    assert deliver(ctx, store, sender, T0 + timedelta(hours=5), daily_cap=2).sent == 0
    assert deliver(ctx, store, sender, T0 + timedelta(hours=23, minutes=59), daily_cap=2).sent == 0
    assert deliver(ctx, store, sender, T0 + timedelta(hours=24, seconds=1), daily_cap=2).sent == 1


def test_a_temporary_failure_is_retried_after_the_backoff_and_sent_once(ctx, store):
    sender = RecordingSender()
    sender.fail_next(2)
    report = deliver(ctx, store, sender, T0)
    assert (report.sent, report.retrying) == (1, 2)
    waiting = store.outbox_rows(("queued",))
    assert {(r.attempts, r.next_attempt_at) for r in waiting} == {(1, T0 + timedelta(minutes=1))}
    assert deliver(ctx, store, sender, T0 + timedelta(seconds=30)).sent == 0   # not due yet
    assert deliver(ctx, store, sender, T0 + timedelta(minutes=1)).sent == 2
    assert len(sender.sent) == len(set(sender.sent)) == 3


def test_a_server_that_cannot_be_used_makes_the_rest_of_the_pass_wait_without_an_attempt(ctx, store):
    sender = RecordingSender()
    sender.fail_next(1, connection=True)
    report = deliver(ctx, store, sender, T0)
    assert (report.sent, report.retrying, report.deferred) == (0, 1, 2)
    rows = store.outbox_rows(("queued",), newest_first=False)
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert {r.next_attempt_at for r in rows} == {T0 + timedelta(minutes=1)}
    assert sender.sent == []


def test_permanent_refusals_give_up_after_three_attempts(ctx, store):
    sender = RecordingSender()
    now = T0
    for _ in range(3):
        sender.fail_next(3, temporary=False)
        deliver(ctx, store, sender, now)
        now += timedelta(minutes=10)
    assert statuses(store) == {"failed": 3}
    assert all(r.attempts == 3 and "550" in r.last_error for r in store.outbox_rows())
    assert deliver(ctx, store, sender, now + timedelta(days=1)).sent == 0 and sender.sent == []
