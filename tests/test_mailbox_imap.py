"""Ingestion from a REAL Dovecot: every message exactly once, read-only, cheap when idle."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from bot.config.model import MailboxConfig
from bot.config.secret import Secret
from bot.errors import AuthenticationError, MailboxError
from bot.mailbox.imap import ImapSource, connect_imap
from bot.ingest import PollReport, ingest
from bot.store import Store

pytestmark = pytest.mark.imap

T0 = datetime(2023, 10, 2, 8, 0, tzinfo=timezone(timedelta(hours=7)))


def message(n: int, date_header: str = "Mon, 02 Oct 2023 01:00:00 +0000") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"school{n}@hcm-edu.example"
    msg["To"] = "office@example.org"
    msg["Subject"] = f"Hồ sơ số {n}"
    msg["Date"] = date_header
    msg["Message-ID"] = f"<msg{n}@hcm-edu.example>"
    msg.set_content(f"Kính gửi phòng, hồ sơ {n}.")
    return msg.as_bytes()


def mailbox_config(dovecot, password=None, folder="INBOX") -> MailboxConfig:
    return MailboxConfig(source="imap", host=dovecot.host, port=dovecot.port, security="none",
                         username=dovecot.user, secret=Secret(env="P", key="mailbox.password_env"),
                         folder=folder, fetch_batch=7, timeout_seconds=10)


def factory(password):
    return lambda cfg: connect_imap(cfg, {"P": password})


def poll_once(dovecot, store, now=T0, password=None):
    report = PollReport()
    source = ImapSource(mailbox_config(dovecot), factory(password or dovecot.password))
    try:
        ingest(source, store, now, report)
    finally:
        source.close()
    return report.new


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "state") as s:
        yield s


def test_first_poll_ingests_all_then_nothing_then_exactly_the_new_ones(dovecot, store):
    dovecot.append_many("INBOX", [(message(n), T0 + timedelta(minutes=n)) for n in range(20)])
    assert poll_once(dovecot, store) == 20
    assert poll_once(dovecot, store) == 0
    for n in range(20, 23):
        dovecot.append("INBOX", message(n), T0 + timedelta(hours=1, minutes=n))
    assert poll_once(dovecot, store) == 3
    assert poll_once(dovecot, store) == 0
    assert store.message_counts() == {"new": 23}


def test_receipt_time_is_internaldate_not_the_date_header(dovecot, store):
    arrived = datetime(2023, 10, 11, 0, 0, 5, tzinfo=timezone(timedelta(hours=7)))
    dovecot.append("INBOX", message(1, date_header="Tue, 10 Oct 2023 09:00:00 +0000"), arrived)
    poll_once(dovecot, store)
    (pending,) = store.pending(10, 3)
    assert pending.received_at == arrived


def test_poll_is_read_only(dovecot, store):
    dovecot.append("INBOX", message(1), T0)
    poll_once(dovecot, store)
    with dovecot.client() as c:
        c.select_folder("INBOX", readonly=True)
        flags = c.get_flags(c.search("ALL"))
    assert all(b"\\Seen" not in f for f in flags.values())


def test_archive_keeps_the_exact_bytes(dovecot, store):
    raw = message(1).replace(b"\n", b"\r\n")
    dovecot.append("INBOX", raw, T0)
    poll_once(dovecot, store)
    (pending,) = store.pending(10, 3)
    assert store.raw(pending) == raw


def test_uidvalidity_reset_neither_loses_nor_duplicates(dovecot, store):
    dovecot.append_many("Hoso", [(message(n), T0) for n in range(5)])
    source_cfg = mailbox_config(dovecot, folder="Hoso")

    def poll():
        report = PollReport()
        source = ImapSource(source_cfg, factory(dovecot.password))
        try:
            ingest(source, store, T0, report)
        finally:
            source.close()
        return report

    assert poll().new == 5
    old_validity = store.checkpoint(f"imap:{dovecot.user}@{dovecot.host}:{dovecot.port}/Hoso")[0]
    dovecot.recreate_folder("Hoso")
    # the same five come back under new UIDs, plus one genuinely new message
    dovecot.append_many("Hoso", [(message(n), T0) for n in range(6)])
    report = poll()
    assert report.new == 1
    assert report.fetched == 1  # the five known ones were recognised from headers, not downloaded again
    new_validity = store.checkpoint(f"imap:{dovecot.user}@{dovecot.host}:{dovecot.port}/Hoso")[0]
    assert new_validity != old_validity
    assert poll().new == 0
    assert store.message_counts() == {"new": 6}


class CountingClient:
    """Wraps a real IMAPClient and counts the commands sent through it."""

    def __init__(self, client):
        self._client, self.calls = client, []

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if callable(attr):
            def call(*a, **kw):
                self.calls.append(name)
                return attr(*a, **kw)
            return call
        return attr

    def __setattr__(self, name, value):
        if name in ("_client", "calls"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._client, name, value)


@pytest.mark.parametrize("size", [10, 200])
def test_idle_poll_costs_one_command_whatever_the_mailbox_size(dovecot, store, size):
    dovecot.append_many("INBOX", [(message(n), T0) for n in range(size)])
    poll_once(dovecot, store)
    clients = []

    def counting(cfg):
        clients.append(CountingClient(connect_imap(cfg, {"P": dovecot.password})))
        return clients[-1]

    source = ImapSource(mailbox_config(dovecot), counting)
    report = PollReport()
    ingest(source, store, T0, report)
    source.close()
    assert report.new == 0
    assert clients[0].calls == ["select_folder", "logout"]


def test_wrong_password_is_a_clear_authentication_error(dovecot, store):
    with pytest.raises(AuthenticationError, match="refused the login of 'office'"):
        poll_once(dovecot, store, password="wrong")


def test_missing_folder_names_the_folder_and_lists_the_real_ones(dovecot, store):
    source = ImapSource(mailbox_config(dovecot, folder="Hồ sơ 2023"), factory(dovecot.password))
    with pytest.raises(MailboxError, match="cannot open IMAP folder 'Hồ sơ 2023'") as info:
        list(source.batches(None, lambda pairs: set()))
    assert "INBOX" in info.value.hint


def test_server_down_is_a_clear_mailbox_error(dovecot, store):
    dovecot.stop()
    with pytest.raises(MailboxError, match="cannot connect to IMAP server 127.0.0.1"):
        poll_once(dovecot, store)


def big_message(n: int, size: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"school{n}@hcm-edu.example"
    msg["To"] = "office@example.org"
    msg["Subject"] = f"Hồ sơ quá lớn {n}"
    msg["Message-ID"] = f"<big{n}@hcm-edu.example>"
    msg.set_content("Hồ sơ scan.")
    msg.add_attachment(bytes(range(256)) * (size // 256), maintype="application", subtype="pdf",
                       filename="scan.pdf")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def test_a_message_over_the_size_limit_is_not_downloaded_only_its_headers_are_recorded(dovecot, store):
    big = big_message(2, 3 * 1024 * 1024)
    dovecot.append_many("INBOX", [(message(1), T0), (big, T0), (message(3), T0)])
    clients = []

    def counting(cfg):
        clients.append(CountingClient(connect_imap(cfg, {"P": dovecot.password})))
        return clients[-1]

    fetched = []
    cfg = dataclasses.replace(mailbox_config(dovecot), max_message_mb=1)
    source = ImapSource(cfg, counting)
    real_fetch = None

    def spy(messages, data, *rest):
        fetched.append((list(messages), list(data)))
        return real_fetch(messages, data, *rest)

    report = PollReport()
    try:
        source._connected()
        real_fetch = clients[0]._client.fetch
        clients[0]._client.fetch = spy
        ingest(source, store, T0, report)
    finally:
        source.close()
    assert report.new == 3
    big_uid = 2
    downloads = [uids for uids, items in fetched if "BODY.PEEK[]" in items]
    assert all(big_uid not in uids for uids in downloads)  # never downloaded whole
    (row,) = [m for m in store.message_records() if m.message_id == "<big2@hcm-edu.example>"]
    assert row.size == len(big)  # its real size, so a UIDVALIDITY reset still recognises it
    head = store.archive.get(row.sha256)
    assert head.endswith(b"\r\n\r\n") and b"Subject:" in head and len(head) < 2000
    assert row.last_error == (f"message too large: {len(big) / 2**20:.2f} MB > 1 MB; only its headers were "
                                 "downloaded: open it in webmail (folder INBOX)")
    assert store.checkpoint(source.key)[1] == 3  # the others are not held back
    assert poll_once(dovecot, store) == 0  # and nothing is fetched again


def test_large_mail_is_fetched_a_few_at_a_time_and_every_message_arrives(dovecot, store):
    # Six mails of ~0.6 MB with a 1 MB budget: no FETCH carries more than one
    # of them, and the poll still records all six, in order.
    for n in range(6):
        msg = EmailMessage()
        msg["From"] = f"school{n}@hcm-edu.example"
        msg["Subject"] = f"Hồ sơ scan {n}"
        msg["Message-ID"] = f"<scan{n}@hcm-edu.example>"
        msg.set_content("Kính gửi phòng.")
        msg.add_attachment(bytes(range(256)) * 2400, maintype="application", subtype="pdf", filename=f"scan{n}.pdf")
        dovecot.append("INBOX", msg.as_bytes(), T0 + timedelta(minutes=n))
    cfg = dataclasses.replace(mailbox_config(dovecot), fetch_batch_mb=1)
    source = ImapSource(cfg, factory(dovecot.password))
    try:
        batches = [b for b in source.batches(None, lambda pairs: set()) if b.messages]
    finally:
        source.close()
    assert [len(b.messages) for b in batches] == [1] * 6
    got = [m for b in batches for m in b.messages]
    assert [f"scan{n}.pdf".encode() in m.data for n, m in enumerate(got)] == [True] * 6
    assert not any(m.headers_only for m in got)
    assert batches[-1].checkpoint[1] == 6


# -- IDLE ------------------------------------------------------------------------------------


def test_idle_announces_new_mail_and_ticks_while_it_waits(dovecot):
    import threading
    from bot.mailbox.imap import IdleWatcher

    dovecot.append("INBOX", message(1), T0)
    stop, heard, ticks = threading.Event(), threading.Event(), []
    watcher = IdleWatcher(mailbox_config(dovecot), heard.set, stop, factory(dovecot.password),
                          on_tick=lambda: ticks.append(1))
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        assert heard.wait(10)  # on connecting: whatever arrived while nobody listened
        heard.clear()
        assert _until(lambda: len(ticks) >= 2)  # idling, and the worker's check runs each second
        dovecot.append("INBOX", message(2), T0)
        assert heard.wait(10)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and watcher.supported is True


class ScriptedIdleClient:
    """An IMAP client whose IDLE says what the script says: the moment a response
    arrives between the last check and DONE cannot be timed with a real server."""

    def __init__(self, checks: list[list], done: list[list], stop):
        self.checks, self.done, self.stop = checks, done, stop

    def capabilities(self):
        return (b"IMAP4REV1", b"IDLE")

    def select_folder(self, folder, readonly=False):
        return {}

    def idle(self):
        pass

    def idle_check(self, timeout=None):
        return self.checks.pop(0) if self.checks else []

    def idle_done(self):
        responses = self.done.pop(0)
        if not self.done:
            self.stop.set()
        return b"Idle completed", responses

    def logout(self):
        pass


@pytest.mark.parametrize("checked, late, announced", [
    ([(2, b"EXISTS")], [], True),
    ([(b"OK", b"Still here")], [(3, b"EXISTS"), (1, b"RECENT")], True),  # came just before DONE
    ([(b"OK", b"Still here")], [], False),
    ([(1, b"FETCH", (b"FLAGS", (b"\\Seen",)))], [(1, b"EXPUNGE")], False),
])
def test_idle_hears_new_mail_whenever_the_server_says_it(checked, late, announced):
    import threading
    from bot.mailbox.imap import IdleWatcher

    stop, calls = threading.Event(), []
    client = ScriptedIdleClient([checked], [late], stop)
    IdleWatcher(MailboxConfig(source="imap", host="h", username="u"), lambda: calls.append(1), stop,
                lambda cfg: client).run()
    assert calls == [1, 1] if announced else calls == [1]  # the first: on connecting


def _until(condition, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
