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

import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from .servers import Dovecot, SmtpServer

# tmp_path on tmpfs where there is one: the bot fsyncs its archive and every
# commit, as it must, and on a shared disk each fsync costs milliseconds,
# thousands of times in the fast lane. No test needs the disk to survive a
# power cut (a killed process leaves the page cache as it is). An explicit
# PYTEST_DEBUG_TEMPROOT (pytest's own setting) or --basetemp wins. A small
# tmpfs (a container's 64 MB /dev/shm) is not used: the corpora and big-file
# tests would fill it.
def _roomy_tmpfs(path: str = "/dev/shm", need: int = 4 << 30) -> bool:
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= need


if _roomy_tmpfs():
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", "/dev/shm")

# Bytecode cached outside the source tree when the environment forbids writing it
# (.ci/run sets PYTHONDONTWRITEBYTECODE=1 to keep the checkout clean): otherwise
# every test process, every `python -m bot` a test starts and every extraction
# forkserver compiles the bot's modules and pytest rewrites the test modules again,
# about 5 s of CPU per xdist worker before the first test. An installed bot has
# its bytecode, so this is also the realistic set-up. Set here, in the process
# that starts the xdist workers, so that they and every subprocess inherit it.
if sys.dont_write_bytecode and not sys.pycache_prefix:
    _PYCACHE = os.path.join(tempfile.gettempdir(), f"hoso-bot-pycache-{os.getuid()}")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE
    sys.pycache_prefix = _PYCACHE
    sys.dont_write_bytecode = False

# The extraction pool forks its workers from multiprocessing's forkserver, one
# per test process. Loaded there once, the modules every worker loads at start
# make a pool start in milliseconds instead of about half a second a worker
# (hundreds of polls in the fast lane). The workers run the same code.
WORKER_PRELOAD = ["bot.extract.pool", "bot.archive", "bot.parse", "pypdfium2", "docx", "PIL.Image"]
multiprocessing.set_forkserver_preload(WORKER_PRELOAD)


def pytest_configure(config):
    config.addinivalue_line("markers", "cold_workers: extraction workers load their modules themselves, as in "
                                       "production (a test of what happens while a worker starts)")


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    """The lanes. A test that needs a real Dovecot (``imap``) is in the slow
    lane: the fast lane (``-m "not slow"``) runs without any mail server or
    browser. A ``stress`` test is slow too, and runs only when the marker
    expression names it (``pytest -m stress``): a plain ``pytest`` skips it,
    the slow lane (``-m "slow and not stress"``) deselects it."""
    stress_asked = "stress" in (config.getoption("markexpr") or "")
    for item in items:
        stress = item.get_closest_marker("stress") is not None
        if (item.get_closest_marker("imap") is not None or stress) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
        if stress and not stress_asked:
            item.add_marker(pytest.mark.skip(reason="the stress lane: run it with pytest -m stress"))
    # The longest tests first (a stable sort: the rest keep their order), so that a
    # parallel run (-n) overlaps their waiting with the rest instead of ending on it.
    items.sort(key=lambda item: item.get_closest_marker("starts_first") is None)


@pytest.fixture(autouse=True)
def _cold_workers(request):
    """For a test marked ``cold_workers``: a forkserver without the preload, so
    that a worker starts as the bot's do (loading its modules under its memory
    limit); the preloading one again after it."""
    if request.node.get_closest_marker("cold_workers") is None:
        yield
        return
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # the next pool starts a new forkserver (CPython's own tests do this)
    multiprocessing.set_forkserver_preload([])
    try:
        yield
    finally:
        forkserver._forkserver._stop()
        multiprocessing.set_forkserver_preload(WORKER_PRELOAD)


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
