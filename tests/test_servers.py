"""The test servers are real: Dovecot over IMAP/IMAPS/LMTP and aiosmtpd over SMTP."""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from imapclient.exceptions import LoginError

from .servers import SmtpServer, append, append_many, recreate_folder, tls_files

ICT = timezone(timedelta(hours=7))  # Vietnam


def message(n: int, subject: str = "Hồ sơ") -> bytes:
    return (
        f"From: Trường {n} <school{n}@example.test>\r\n"
        f"To: office@example.test\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <msg{n}@example.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Kính gửi phòng giáo dục, hồ sơ số {n}.\r\n"
    ).encode("utf-8")


# ---------------------------------------------------------------- Dovecot


@pytest.mark.imap
def test_login_right_password(imap_client_factory, dovecot):
    client = imap_client_factory()
    assert client.list_folders()[0][2] == "INBOX"
    assert client.has_capability("MULTIAPPEND")
    assert dovecot.last_start_seconds < 5


@pytest.mark.imap
def test_wrong_password_fails_fast(dovecot):
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(LoginError):
            dovecot.client(password="wrong")
        with pytest.raises(LoginError):
            dovecot.client("nobody", "x")
        # no 0.5-2 s failure delay, and no growing penalty for the next login
        assert time.monotonic() - started < 0.5
        started = time.monotonic()
        dovecot.client().logout()
        assert time.monotonic() - started < 0.5
    assert "Password mismatch" in dovecot.log_text()


@pytest.mark.imap
def test_append_keeps_internaldate_bytes_and_unread(dovecot, imap_client_factory):
    dates = [
        datetime(2024, 9, 3, 8, 15, 0, tzinfo=ICT),
        datetime(2024, 9, 3, 23, 59, 59, tzinfo=timezone.utc),
        datetime(2025, 1, 1, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
    ]
    raws = [message(i) for i in range(3)]
    uids = [append(dovecot, "INBOX", raw, when) for raw, when in zip(raws, dates)]
    assert uids == [1, 2, 3]

    client = imap_client_factory()
    client.normalise_times = False  # keep the server's offsets: aware datetimes
    client.select_folder("INBOX", readonly=True)
    got = client.fetch(uids, ["INTERNALDATE", "BODY.PEEK[]", "FLAGS"])
    for uid, raw, when in zip(uids, raws, dates):
        assert got[uid][b"INTERNALDATE"] == when  # same instant
        assert got[uid][b"BODY[]"] == raw
        assert b"\\Seen" not in got[uid][b"FLAGS"]
    # BODY.PEEK[] left them unread (pitfall 10)
    assert sorted(client.search("UNSEEN")) == uids


@pytest.mark.imap
def test_append_with_flags_and_to_new_folder(imap_client_factory):
    client = imap_client_factory()
    when = datetime(2024, 5, 1, 9, 0, tzinfo=ICT)
    uid = append(client, "Đã xử lý", message(1), when, flags=[b"\\Seen", b"$Processed"])
    info = client.select_folder("Đã xử lý")
    assert info[b"EXISTS"] == 1
    flags = client.get_flags([uid])[uid]
    assert set(flags) - {b"\\Recent"} == {b"\\Seen", b"$Processed"}


@pytest.mark.imap
def test_append_requires_aware_datetime(dovecot):
    with pytest.raises(ValueError):
        append(dovecot, "INBOX", message(1), datetime(2024, 1, 1))


@pytest.mark.imap
def test_append_many_multiappend(dovecot, imap_client_factory):
    base = datetime(2024, 10, 1, 7, 0, tzinfo=ICT)
    items = [(message(i), base + timedelta(minutes=i)) for i in range(250)]
    started = time.monotonic()
    uids = append_many(dovecot, "Bulk", items, batch_size=100)
    elapsed = time.monotonic() - started
    assert uids == list(range(1, 251))
    assert elapsed < 10
    client = imap_client_factory()
    client.normalise_times = False
    assert client.select_folder("Bulk", readonly=True)[b"EXISTS"] == 250
    got = client.fetch([1, 137, 250], ["INTERNALDATE", "BODY.PEEK[]"])
    for uid in (1, 137, 250):
        raw, when = items[uid - 1]
        assert got[uid][b"INTERNALDATE"] == when
        assert got[uid][b"BODY[]"] == raw


@pytest.mark.imap
def test_recreate_folder_changes_uidvalidity(dovecot, imap_client_factory):
    append(dovecot, "Campaign", message(1), datetime(2024, 1, 2, tzinfo=ICT))
    client = imap_client_factory()
    before = client.select_folder("Campaign")[b"UIDVALIDITY"]
    new = recreate_folder(dovecot, "Campaign")
    assert new != before
    info = client.select_folder("Campaign")
    assert info[b"UIDVALIDITY"] == new
    assert info[b"EXISTS"] == 0
    assert recreate_folder(client, "Campaign") not in (before, new)  # via a client too
    with pytest.raises(ValueError):
        recreate_folder(client, "INBOX")


@pytest.mark.imap
@pytest.mark.parametrize("kill", [True, False], ids=["sigkill", "graceful"])
def test_restart_keeps_mail_ports_and_uids(dovecot, imap_client_factory, kill):
    when = datetime(2024, 3, 4, 5, 6, 7, tzinfo=ICT)
    append_many(dovecot, "INBOX", [(message(i), when) for i in range(20)])
    client = imap_client_factory()
    validity = client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
    ports = (dovecot.port, dovecot.imaps_port)

    # Take the server away under a FETCH loop running in another thread.
    errors: list[BaseException] = []
    fetching = threading.Event()

    def fetch_forever():
        try:
            while True:
                client.fetch(list(range(1, 21)), ["BODY.PEEK[]"])
                fetching.set()
        except BaseException as exc:  # noqa: BLE001 -- the point of the test
            errors.append(exc)

    worker = threading.Thread(target=fetch_forever, daemon=True)
    worker.start()
    assert fetching.wait(5), errors
    dovecot.restart(kill=kill)
    worker.join(10)
    assert not worker.is_alive()
    assert errors and isinstance(errors[0], (OSError, EOFError, Exception))

    assert (dovecot.port, dovecot.imaps_port) == ports
    again = imap_client_factory()
    again.normalise_times = False
    info = again.select_folder("INBOX", readonly=True)
    assert info[b"EXISTS"] == 20
    assert info[b"UIDVALIDITY"] == validity
    got = again.fetch(again.search(), ["INTERNALDATE", "BODY.PEEK[]"])
    assert sorted(got) == list(range(1, 21))
    assert got[7][b"BODY[]"] == message(6)
    assert got[7][b"INTERNALDATE"] == when
    assert "starting up" in dovecot.log_text()


@pytest.mark.imap
@pytest.mark.parametrize("kill", [True, False], ids=["sigkill", "graceful"])
def test_a_stopped_server_refuses_connections_at_once(dovecot, kill):
    ports = [p for p in (dovecot.port, dovecot.imaps_port) if p]
    for _ in range(5):  # leave login processes behind to outlive the master
        socket.create_connection(("127.0.0.1", ports[0]), timeout=5).close()
    dovecot.kill() if kill else dovecot.stop()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)


@pytest.mark.imap
def test_tls_verifies_with_cafile(dovecot, imap_client_factory):
    assert dovecot.cafile is not None and dovecot.cafile.exists()
    over_imaps = imap_client_factory(ssl=True)
    assert over_imaps.list_folders()
    over_starttls = imap_client_factory(starttls=True)
    assert over_starttls.list_folders()
    # The same check by hand, by name and by address, and a refusal without the CA.
    for host in ("localhost", "127.0.0.1"):
        ctx = ssl.create_default_context(cafile=str(dovecot.cafile))
        with socket.create_connection(("127.0.0.1", dovecot.imaps_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.recv(64).startswith(b"* OK")
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", dovecot.imaps_port), timeout=5) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")


@pytest.mark.imap
def test_plain_server_and_second_user(dovecot_factory):
    server = dovecot_factory(users={"office": "secret", "archive@example.test": "pw2"}, tls=False)
    assert server.imaps_port is None and server.cafile is None
    append(server, "INBOX", message(1), datetime(2024, 1, 1, tzinfo=ICT), user="archive@example.test")
    with server.client("archive@example.test") as c:
        assert c.select_folder("INBOX")[b"EXISTS"] == 1
    with server.client() as c:
        assert c.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.imap
def test_lmtp_delivery_and_idle(dovecot, imap_client_factory):
    client = imap_client_factory()
    client.select_folder("INBOX")
    client.idle()
    try:
        started = time.monotonic()
        dovecot.deliver_lmtp("office", message(42))
        responses = []
        while time.monotonic() - started < 5 and not any(r[1:] == (b"EXISTS",) for r in responses):
            responses += client.idle_check(timeout=1)
    finally:
        client.idle_done()
    assert (1, b"EXISTS") in responses
    got = client.fetch([1], ["BODY.PEEK[]", "FLAGS"])[1]
    assert b"Subject: " in got[b"BODY[]"] and message(42).split(b"\r\n\r\n")[1] in got[b"BODY[]"]
    assert b"\\Seen" not in got[b"FLAGS"]
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        dovecot.deliver_lmtp("nobody", message(43))


# ---------------------------------------------------------------- SMTP


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_smtp_auth_starttls_receives_message(smtp_server_factory, mechanism):
    server = smtp_server_factory(auth=("bot@example.test", "s3cret pass"), starttls=True)
    raw = message(7)
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.starttls(context=server.client_context())
        smtp.ehlo()
        assert {"PLAIN", "LOGIN"} <= set(smtp.esmtp_features["auth"].split())
        smtp.user, smtp.password = "bot@example.test", "s3cret pass"
        code, _ = smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"),
                            initial_response_ok=False)
        assert code == 235
        refused = smtp.sendmail("bot@example.test", ["a@example.test", "b@example.test"], raw)
    assert refused == {}
    [got] = server.wait_for(1)
    assert got.mail_from == "bot@example.test"
    assert got.rcpt_tos == ("a@example.test", "b@example.test")
    assert got.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert got.auth_user == "bot@example.test"
    assert got.tls is True


def test_smtp_auth_required_and_checked(smtp_server_factory):
    server = smtp_server_factory(auth=("bot", "pw"))
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as exc:
            smtp.sendmail("bot@example.test", ["a@example.test"], message(1))
        assert exc.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("bot", "wrong")
    assert server.messages == []


def test_smtp_fail_next_421_then_success(smtp_server):
    smtp_server.fail_next(1, 421)

    def send(n):
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
            smtp.sendmail("bot@example.test", ["a@example.test"], message(n))

    with pytest.raises((smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException)) as exc:
        send(1)
    if isinstance(exc.value, smtplib.SMTPResponseException):
        assert exc.value.smtp_code == 421
    send(2)
    [got] = smtp_server.messages
    assert b"<msg2@example.test>" in got.raw
    assert smtp_server.failures_sent == 1


def test_smtp_451_at_data_keeps_connection(smtp_server):
    smtp_server.fail_next(1, 451, stage="DATA")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as exc:
            smtp.sendmail("bot@example.test", ["a@example.test"], message(1))
        assert exc.value.smtp_code == 451
        smtp.sendmail("bot@example.test", ["a@example.test"], message(2))
    assert len(smtp_server.messages) == 1


def test_smtp_refuse_all_and_outage(smtp_server):
    smtp_server.refuse_all(451, stage="RCPT")
    for n in range(3):
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("bot@example.test", ["a@example.test"], message(n))
    smtp_server.accept_all()
    port = smtp_server.port
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_server.host, port, timeout=5)
    smtp_server.start()
    assert smtp_server.port == port
    with smtplib.SMTP(smtp_server.host, port, timeout=10) as smtp:
        smtp.sendmail("bot@example.test", ["a@example.test"], message(9))
    assert len(smtp_server.messages) == 1


@pytest.mark.imap
def test_smtp_hands_off_to_dovecot(dovecot, smtp_server_factory, imap_client_factory):
    smtp = smtp_server_factory(deliver=dovecot.deliver_lmtp)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.sendmail("bot@example.test", ["office"], message(5))
    imap = imap_client_factory()
    assert imap.select_folder("INBOX")[b"EXISTS"] == 1
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError):  # unknown mailbox -> 451 from the hand-off
            client.sendmail("bot@example.test", ["nobody"], message(6))


def test_smtp_implicit_tls(smtp_server_factory):
    server = smtp_server_factory(implicit_tls=True)
    with smtplib.SMTP_SSL("localhost", server.port, context=server.client_context(), timeout=10) as s:
        s.sendmail("bot@example.test", ["a@example.test"], message(1))
    assert server.messages[0].tls


def _handshake(files, server_hostname: str) -> bytes:
    """TLS over a socketpair: the server side uses certfile/keyfile, the client the CA."""
    a, b = socket.socketpair()
    errors: list[BaseException] = []

    def serve():
        try:
            with files.server_context().wrap_socket(a, server_side=True) as s:
                s.sendall(b"hello")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=serve)
    t.start()
    try:
        with files.client_context().wrap_socket(b, server_hostname=server_hostname) as c:
            data = c.recv(5)
    finally:
        b.close()
        t.join(5)
        a.close()
    assert not errors, errors
    return data


@pytest.mark.parametrize("backend", ["cryptography", "openssl"])
def test_tls_files_backends_give_verifiable_certificates(tmp_path, backend):
    files = tls_files(tmp_path, backend=backend)
    assert _handshake(files, "localhost") == b"hello"
    assert _handshake(files, "127.0.0.1") == b"hello"
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(files, "example.test")


def test_smtp_server_is_reusable_without_pytest():
    with SmtpServer() as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as s:
            s.sendmail("a@example.test", ["b@example.test"], b"Subject: x\r\n\r\ny\r\n")
        assert server.wait_for(1, timeout=5)[0].rcpt_tos == ("b@example.test",)
    assert not server.running
