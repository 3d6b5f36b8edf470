"""Shared fixtures: real mail servers on loopback (implementation: tests/servers.py).

* ``dovecot`` -- a fresh Dovecot per test (IMAP + IMAPS + LMTP, user
  ``office`` / ``secret``, TLS verified with ``dovecot.cafile``);
  ``dovecot_factory(users=..., tls=...)`` for other set-ups.
* ``imap_client_factory(user=None, password=None, ssl=False, starttls=False,
  login=True)`` -- IMAPClient connections to ``dovecot``, closed after the test.
* ``smtp_server`` -- a recording aiosmtpd server offering STARTTLS, no AUTH;
  ``smtp_server_factory(auth=(u, p), starttls=..., deliver=...)`` for others.

Without Dovecot (or aiosmtpd) these fixtures skip the test locally, and fail
it when CI=true: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .servers import Dovecot, SmtpServer


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} -- CI=true, so this is an error: .ci/run must install it",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def dovecot_factory():
    """Start Dovecot servers: ``make(users=None, tls=True, **kwargs) -> Dovecot``.

    Each gets its own directory under /tmp (pytest's tmp_path is 0700, which
    Dovecot's unprivileged processes cannot enter).  After the test the
    servers are SIGKILLed and their directories removed; their logs are
    printed, which pytest shows only for a failing test.
    """
    reason = Dovecot.unavailable_reason()
    if reason:
        _unavailable(reason)
    made: list[Dovecot] = []

    def make(users=None, tls=True, **kwargs) -> Dovecot:
        workdir = Path(tempfile.mkdtemp(prefix="hoso-dovecot-"))
        server = Dovecot(workdir, users=users, tls=tls, **kwargs)
        made.append(server)
        return server.start()

    yield make
    for server in made:
        server.close(kill=True)
        print(f"---- {server!r} log ----\n{server.log_text()}")
        shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_factory) -> Dovecot:
    """A running Dovecot with user office/secret, IMAP, IMAPS and LMTP."""
    return dovecot_factory()


@pytest.fixture
def imap_client_factory(dovecot):
    """``connect(user=None, password=None, *, ssl=False, starttls=False, login=True)``."""
    clients = []

    def connect(user=None, password=None, **kwargs):
        client = dovecot.client(user, password, **kwargs)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 -- already gone (e.g. server killed)
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass


@pytest.fixture
def smtp_server_factory():
    """Start SMTP servers: ``make(**SmtpServer kwargs) -> SmtpServer`` (stopped after)."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        _unavailable("aiosmtpd is not installed: pip install -e '.[test]'")
    made: list[SmtpServer] = []

    def make(**kwargs) -> SmtpServer:
        server = SmtpServer(**kwargs)
        made.append(server)
        return server.start()

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory) -> SmtpServer:
    """A recording SMTP server on 127.0.0.1 offering STARTTLS, no AUTH."""
    return smtp_server_factory(starttls=True)
