"""Real mail servers on loopback for the tests and the benchmark.

Nothing here imports pytest: ``bench/`` uses these classes too.

* :class:`Dovecot` -- a private Dovecot 2.3 (IMAP, IMAPS, LMTP) with its own
  standalone config, users, maildirs, TLS certificate and log, all under one
  work directory.  Starts in a few tens of milliseconds; can be stopped,
  SIGKILLed and restarted on the same ports with the same mail.
* :func:`append`, :func:`append_many`, :func:`recreate_folder` -- put mail
  into a folder with explicit INTERNALDATEs (APPEND / MULTIAPPEND), or give a
  folder a new UIDVALIDITY.  They take a logged-in ``IMAPClient`` or a
  :class:`Dovecot` (then they log in as its first user).
* :class:`SmtpServer` -- an aiosmtpd server that records every message, with
  optional AUTH (PLAIN/LOGIN), STARTTLS or implicit TLS, optional hand-off of
  each message to Dovecot over LMTP, and programmable failures
  (:meth:`SmtpServer.fail_next`, :meth:`SmtpServer.refuse_all`).
* :func:`tls_files` -- a throw-away CA and a ``localhost``/``127.0.0.1``
  server certificate signed by it, so clients verify with ``cafile=`` instead
  of turning verification off.

Follows shared/reference/test-servers-notes.md (pitfall numbers in comments).
Requires root (Dovecot drops privileges to a ``vmail`` system user that is
created on first use).

Example::

    with Dovecot(Path(tempfile.mkdtemp()), tls=True) as dc:
        append(dc, "INBOX", raw, datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc))
        with dc.client() as c:
            c.select_folder("INBOX", readonly=True)
            print(c.fetch("1:*", ["INTERNALDATE", "BODY.PEEK[]"]))
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import grp
import ipaddress
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

__all__ = [
    "Dovecot",
    "DovecotError",
    "ReceivedMessage",
    "SmtpServer",
    "TlsFiles",
    "append",
    "append_many",
    "free_port",
    "recreate_folder",
    "tls_files",
]

LOOPBACK = "127.0.0.1"


# --------------------------------------------------------------------------
# ports


def _ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def _port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Same option the servers use, so a TIME_WAIT left by the previous
        # run of a restarted server does not count as "busy".
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = LOOPBACK, exclude: Iterable[int] = ()) -> int:
    """A currently free TCP port on *host*, below the kernel's ephemeral range.

    Staying out of the ephemeral range means outgoing connections cannot grab
    the port between this check and the server's bind, nor while a server is
    being restarted on the same port.
    """
    lo = 10000
    hi = max(lo + 1000, _ephemeral_range()[0] - 1)
    excluded = set(exclude)
    for _ in range(200):
        port = random.randint(lo, hi)
        if port not in excluded and _port_is_free(port, host):
            return port
    raise RuntimeError(f"no free port found on {host} in {lo}-{hi}")


def _wait_ports_free(ports: Iterable[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while not _port_is_free(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {port} still busy after {timeout} s")
            time.sleep(0.01)


# --------------------------------------------------------------------------
# TLS material (pitfall 11)


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """PEM files: *cafile* is what a client trusts; *certfile*/*keyfile* the server's.

    The server certificate has subjectAltName DNS:localhost and IP:127.0.0.1
    and is signed by a throw-away CA (a separate CA keeps verification happy
    even under strict X.509 checking).
    """

    cafile: Path
    certfile: Path
    keyfile: Path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context (hostname checked) trusting only the CA."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.certfile), str(self.keyfile))
        return ctx


_pem_lock = threading.Lock()
_pem_cache: tuple[bytes, bytes, bytes] | None = None  # (ca, cert, key)
_default_tls_dir: Path | None = None


def _pem_with_cryptography() -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)
    start, end = now - timedelta(days=1), now + timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hoso-bot test CA")])
    no_usage = dict(
        content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, encipher_only=False, decipher_only=False,
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **no_usage),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **no_usage),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca_cert.public_bytes(pem), cert.public_bytes(pem), key_pem


def _pem_with_openssl() -> tuple[bytes, bytes, bytes]:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("need the 'cryptography' package or the openssl command for TLS")
    with tempfile.TemporaryDirectory(prefix="tls-") as tmp:
        d = Path(tmp)
        ext = d / "leaf.ext"
        ext.write_text(
            "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
            "basicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectKeyIdentifier = hash\n"
            "authorityKeyIdentifier = keyid\n"
        )
        ec_opts = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

        def run(*args: str) -> None:
            subprocess.run([exe, *args], cwd=d, check=True, stdin=subprocess.DEVNULL,
                           capture_output=True)

        run("req", "-x509", *ec_opts, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
            "-subj", "/CN=hoso-bot test CA",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("req", "-new", *ec_opts, "-keyout", "key.pem", "-out", "leaf.csr",
            "-subj", "/CN=localhost")
        run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(secrets.randbits(63)), "-days", "3650", "-sha256",
            "-extfile", "leaf.ext", "-out", "cert.pem")
        return tuple((d / n).read_bytes() for n in ("ca.pem", "cert.pem", "key.pem"))  # type: ignore[return-value]


def _tls_pem(backend: str | None = None) -> tuple[bytes, bytes, bytes]:
    """(ca, cert, key) PEM bytes, made once per process (unless *backend* forces one)."""
    global _pem_cache
    if backend == "openssl":
        return _pem_with_openssl()
    if backend == "cryptography":
        return _pem_with_cryptography()
    with _pem_lock:
        if _pem_cache is None:
            try:
                _pem_cache = _pem_with_cryptography()
            except ImportError:
                _pem_cache = _pem_with_openssl()
        return _pem_cache


def tls_files(directory: Path | None = None, *, backend: str | None = None) -> TlsFiles:
    """Write the test CA and server certificate as PEM files into *directory*.

    Without *directory*, a process-wide temporary directory is used (removed
    at exit).  *backend* ("cryptography" or "openssl") forces a generator and
    a fresh key; by default one key pair is made per process and reused, so
    every server of the process can be verified with the same cafile.
    """
    global _default_tls_dir
    if directory is None:
        with _pem_lock:
            if _default_tls_dir is None:
                _default_tls_dir = Path(tempfile.mkdtemp(prefix="hoso-tls-"))
                atexit.register(shutil.rmtree, _default_tls_dir, True)
        directory = _default_tls_dir
    directory.mkdir(parents=True, exist_ok=True)
    ca, cert, key = _tls_pem(backend)
    files = TlsFiles(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    files.cafile.write_bytes(ca)
    files.certfile.write_bytes(cert)
    fd = os.open(files.keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return files


# --------------------------------------------------------------------------
# Dovecot


class DovecotError(RuntimeError):
    """Dovecot could not be set up or started; the message includes its log."""


_LIBEXEC_DIRS = ("/usr/lib/dovecot", "/usr/libexec/dovecot")
_running: weakref.WeakSet[Dovecot] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_running):
        with contextlib.suppress(Exception):
            server.kill()


def _ensure_system_user(name: str) -> tuple[int, int]:
    """uid, gid of system user *name*, created (with its group) if missing (pitfall 3)."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        proc = subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )
        try:  # another process may have created it at the same moment
            pw = pwd.getpwnam(name)
        except KeyError:
            raise DovecotError(
                f"cannot create system user {name!r}: {proc.stderr.strip() or proc.returncode}"
            ) from None
    return pw.pw_uid, pw.pw_gid


class Dovecot:
    """A private Dovecot instance listening on free high ports of 127.0.0.1.

    ``Dovecot(workdir, users={"office": "secret"}, tls=False)``; then
    :meth:`start` (or use it as a context manager).  Everything lives under
    *workdir*::

        etc/dovecot.conf   standalone config (nothing read from /etc/dovecot)
        etc/users          passwd-file, root:dovecot 0640
        etc/tls/           ca.pem, cert.pem, key.pem        (tls=True only)
        mail/<user>/Maildir  maildirs, owned by the mail user (LAYOUT=fs)
        run/               base_dir: sockets, pid (a short /tmp dir if
                           workdir is too deep for unix socket paths)
        dovecot.log        everything Dovecot logs, see :meth:`log_text`

    *workdir* and each of its parents must be traversable by others
    (``o+x``): Dovecot's auth and mail processes run as unprivileged users
    (pitfall 1).  A ``tempfile.mkdtemp()`` directory is fine (it is made
    0755 here); pytest's ``tmp_path`` is not (its root is 0700).

    Attributes: ``host``, ``port`` (IMAP, plaintext + STARTTLS when tls),
    ``imaps_port`` (None unless tls), ``cafile`` (None unless tls),
    ``lmtp_socket``, ``users``, ``user``/``password`` (the first user).

    :meth:`stop` (SIGTERM), :meth:`kill` (SIGKILL, like a crash) and
    :meth:`restart` keep ports, config and mail, so a test can take the
    server away in the middle of a FETCH and bring it back.
    """

    def __init__(
        self,
        workdir: Path | str,
        users: Mapping[str, str] | None = None,
        tls: bool = False,
        *,
        mail_user: str = "vmail",
        binary: str | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.workdir = Path(workdir).absolute()
        self.users: dict[str, str] = dict(users if users is not None else {"office": "secret"})
        if not self.users:
            raise ValueError("need at least one user")
        for name, password in self.users.items():
            if not name or set(name) & set(":/ \n\r\0") or set(password) & set(":\n\r\0"):
                raise ValueError(f"user name or password not usable in a passwd-file: {name!r}")
        self.tls = tls
        self.mail_user = mail_user
        self.binary = binary or shutil.which("dovecot") or "/usr/sbin/dovecot"
        self.start_timeout = start_timeout
        self.host = LOOPBACK
        self.port: int | None = None
        self.imaps_port: int | None = None
        self.cafile: Path | None = None
        self.tls_files: TlsFiles | None = None
        self.conf_path = self.workdir / "etc" / "dovecot.conf"
        self.log_path = self.workdir / "dovecot.log"
        self.mail_root = self.workdir / "mail"
        self.base_dir = self.workdir / "run"
        self._own_base_dir = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._configured = False
        self.last_start_seconds: float | None = None

    # -- availability -------------------------------------------------------

    @staticmethod
    def unavailable_reason(binary: str | None = None) -> str | None:
        """Why Dovecot cannot run here (None when it can)."""
        exe = binary or shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.access(exe, os.X_OK):
            return ("dovecot binary not found: install the Debian packages "
                    "dovecot-core dovecot-imapd dovecot-lmtpd (see .ci/install-system-deps)")
        libexec = next((d for d in _LIBEXEC_DIRS if os.path.isdir(d)), None)
        for prog, pkg in (("imap", "dovecot-imapd"), ("lmtp", "dovecot-lmtpd")):
            if libexec is None or not os.access(os.path.join(libexec, prog), os.X_OK):
                return f"Dovecot's {prog} service is missing: install the Debian package {pkg}"
        if os.geteuid() != 0:
            return "Dovecot test servers need root (mail is stored as a separate system user)"
        for user in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(user)
            except KeyError:
                return f"system user {user!r} missing (normally created by dovecot-core)"
        return None

    # -- set-up -------------------------------------------------------------

    @property
    def user(self) -> str:
        return next(iter(self.users))

    @property
    def password(self) -> str:
        return self.users[self.user]

    @property
    def lmtp_socket(self) -> Path:
        return self.base_dir / "lmtp"

    def mail_dir(self, user: str | None = None) -> Path:
        """The user's Maildir (INBOX is its cur/new/tmp; folder X is Maildir/X)."""
        return self.mail_root / (user or self.user) / "Maildir"

    def _configure(self) -> None:
        reason = self.unavailable_reason(self.binary)
        if reason:
            raise DovecotError(reason)
        uid, gid = _ensure_system_user(self.mail_user)
        dovecot_gid = grp.getgrnam("dovecot").gr_gid

        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)  # pitfall 1
        for parent in self.workdir.parents:
            if not parent.stat().st_mode & 0o001:
                raise DovecotError(
                    f"{parent} is not traversable by other users (mode "
                    f"{parent.stat().st_mode & 0o777:o}); Dovecot's auth and mail "
                    "processes could not reach the work directory. Use a directory "
                    "made with tempfile.mkdtemp() instead."
                )
        etc = self.workdir / "etc"
        etc.mkdir(mode=0o755, exist_ok=True)
        os.chmod(etc, 0o755)

        # Unix socket paths are limited to 107 bytes; Dovecot puts some
        # 30-byte names under base_dir.
        if not self._own_base_dir and len(os.fsencode(self.base_dir)) > 60:
            self.base_dir = Path(tempfile.mkdtemp(prefix="dc-"))
            self._own_base_dir = True
        self.base_dir.mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
        state_dir = self.workdir / "state"
        state_dir.mkdir(mode=0o755, exist_ok=True)

        # Mail root owned by the mail user (pitfall 2).
        self.mail_root.mkdir(exist_ok=True)
        os.chown(self.mail_root, uid, gid)
        os.chmod(self.mail_root, 0o750)

        # passwd-file: root:dovecot 0640 (pitfall 1).  uid/gid/home come from
        # userdb default_fields, so unknown users are refused by LMTP too.
        passwd = etc / "users"
        passwd.write_text(
            "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()),
            encoding="utf-8",
        )
        os.chown(passwd, 0, dovecot_gid)
        os.chmod(passwd, 0o640)

        ports = {self.port, self.imaps_port} - {None}
        self.port = self.port or free_port(exclude=ports)
        ssl_lines = "ssl = no\n"
        if self.tls:
            self.tls_files = tls_files(etc / "tls")
            self.cafile = self.tls_files.cafile
            self.imaps_port = self.imaps_port or free_port(exclude={self.port})
            ssl_lines = (
                "ssl = yes\n"
                f"ssl_cert = <{self.tls_files.certfile}\n"
                f"ssl_key = <{self.tls_files.keyfile}\n"
            )
        token = secrets.token_hex(4)
        self.conf_path.write_text(
            f"""\
# Written by tests/servers.py -- a standalone test config; reads nothing from /etc/dovecot.
base_dir = {self.base_dir}
state_dir = {state_dir}
instance_name = hoso-test-{token}
listen = {LOOPBACK}
protocols = imap lmtp
log_path = {self.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# pitfall 7: no 2 s pause after a wrong password
auth_failure_delay = 0
auth_cache_size = 0

# pitfall 3: mail is stored as {self.mail_user} (uid {uid})
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = 1
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:~/Maildir:LAYOUT=fs
# pitfall 8: tests only
mail_fsync = never
# pitfall 7: default is 10 connections per user and IP
mail_max_userip_connections = 10000
mailbox_idle_check_interval = 1 secs

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
}}

# pitfall 7 (cont.): even with auth_failure_delay = 0, Dovecot 2.3.19 answers
# a wrong password only at its next 0.5 s tick, and the next login from the
# same IP then waits 2 s, 4 s, ... (auth penalty) -- unless the request
# carries "nodelay", which this field-only passdb adds before the real one.
passdb {{
  driver = static
  args = noauthenticate nodelay=yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
  default_fields = uid={uid} gid={gid} home={self.mail_root}/%u
}}

# pitfall 4: override the built-in listeners by name
service imap-login {{
  inet_listener imap {{
    address = {LOOPBACK}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {LOOPBACK}
    port = {self.imaps_port or 0}
    ssl = yes
  }}
}}
service imap {{
  process_limit = 1000
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 10000
}}
""",
            encoding="utf-8",
        )
        self._configured = True

    # -- life cycle ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Dovecot:
        """Start (or start again, same ports and mail) and wait until IMAP answers.

        On the very first start, ports that another process grabbed in the
        meantime are replaced by new free ones (up to 3 tries); a restart
        always keeps its ports.
        """
        if self.running:
            return self
        if self._proc is not None:  # the master died on its own: reap what is left
            self._after_exit()
        if not self._configured:
            self._configure()
        t0 = time.monotonic()
        if self.last_start_seconds is not None:
            # A restart: the old sockets are gone with their processes; this
            # only guards against a port still being released.
            with contextlib.suppress(RuntimeError):
                _wait_ports_free([p for p in (self.port, self.imaps_port) if p], timeout=5)
        for attempt in range(3):
            log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
            try:
                self._spawn(t0 + self.start_timeout)
                break
            except DovecotError:
                new_log = self.log_text().encode("utf-8", "replace")[log_size:]
                if (self.last_start_seconds is not None or attempt == 2
                        or b"Address already in use" not in new_log):
                    raise
                self.port = self.imaps_port = None
                self._configure()
        self.last_start_seconds = time.monotonic() - t0
        return self

    def _spawn(self, deadline: float) -> None:
        for stale in (self.lmtp_socket, self.base_dir / "master.pid"):
            # a stale socket would look "ready"; a stale pid (reused by some
            # other process) would make Dovecot think it is already running
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        # pitfall 5: never inherit the caller's stdout/stderr.
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, close_fds=True,
            )
        _running.add(self)
        try:
            self._wait_ready(deadline)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, deadline: float) -> None:
        assert self._proc is not None and self.port is not None
        pending_greeting = True
        while True:
            if self._proc.poll() is not None:
                raise DovecotError(
                    f"dovecot exited with code {self._proc.returncode} during start-up; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if pending_greeting:
                with contextlib.suppress(OSError):
                    with socket.create_connection((self.host, self.port), timeout=2) as s:
                        pending_greeting = not s.recv(64).startswith(b"* OK")
            if not pending_greeting and self.lmtp_socket.exists() and (
                self.imaps_port is None or self._accepts(self.imaps_port)
            ):
                return
            if time.monotonic() > deadline:
                raise DovecotError(
                    f"dovecot did not accept IMAP on {self.host}:{self.port} within "
                    f"{self.start_timeout} s; log:\n{self.log_tail()}"
                )
            time.sleep(0.005)

    def _accepts(self, port: int) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=1):
                return True
        except OSError:
            return False

    def _signal_group(self, sig: int) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def _after_exit(self) -> None:
        # Stragglers (children of a killed master) share the process group.
        self._signal_group(signal.SIGKILL)
        self._proc = None
        _running.discard(self)
        # A login process that outlived the master still holds the listening
        # socket for a moment: a client connecting then is reset, not refused.
        # "Stopped" means refused, so wait for the kernel to release the ports.
        with contextlib.suppress(RuntimeError):
            _wait_ports_free([p for p in (self.port, self.imaps_port) if p], timeout=5)

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful shutdown: SIGTERM to the master, like ``dovecot stop``.

        Dovecot's master takes about 1.1 s to exit (it lingers for its log
        process; open IMAP sessions keep working meanwhile, then drop).  Use
        :meth:`kill` when that second matters.  SIGKILL after *timeout*; any
        process of the group still left is SIGKILLed at the end.
        """
        if self._proc is None:
            return
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._proc.wait(5)
        self._after_exit()

    def kill(self) -> None:
        """SIGKILL the master and all its processes at once, like a crash.

        Connected clients see their connection reset; mail already stored stays.
        """
        if self._proc is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(5)
        self._after_exit()

    def restart(self, *, kill: bool = False) -> Dovecot:
        """Stop (or with kill=True SIGKILL) and start again: same ports, same mail."""
        self.kill() if kill else self.stop()
        return self.start()

    def close(self, *, kill: bool = False) -> None:
        """Stop (or kill) and remove the private base_dir made outside workdir, if any.

        The work directory itself belongs to the caller and is left alone.
        """
        self.kill() if kill else self.stop()
        if self._own_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Dovecot {self.host}:{self.port} imaps={self.imaps_port} {state} {self.workdir}>"

    # -- logs ---------------------------------------------------------------

    def log_text(self) -> str:
        """Everything Dovecot has logged so far (all runs of this instance)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # -- clients and mail ---------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """Client context that verifies this server's certificate (tls=True only)."""
        if self.tls_files is None:
            raise DovecotError("started without tls=True")
        return self.tls_files.client_context()

    def client(
        self,
        user: str | None = None,
        password: str | None = None,
        *,
        ssl: bool = False,
        starttls: bool = False,
        login: bool = True,
        timeout: float = 10.0,
    ) -> IMAPClient:
        """A new IMAPClient; logged in as *user* (default: first user) unless login=False.

        ssl=True connects to the IMAPS port, starttls=True upgrades the plain
        port; both verify the certificate against :attr:`cafile`.
        """
        if (ssl or starttls) and self.tls_files is None:
            raise DovecotError("TLS requested but the server was made with tls=False")
        port = self.imaps_port if ssl else self.port
        client = IMAPClient(
            self.host, port=port, ssl=ssl, timeout=timeout,
            ssl_context=self.ssl_context() if ssl else None,
        )
        try:
            if starttls:
                client.starttls(self.ssl_context())
            if login:
                user = user or self.user
                client.login(user, password if password is not None else self.users[user])
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        return client

    def append(self, folder: str, raw: bytes, internaldate: datetime,
               flags: Sequence[str | bytes] = (), *, user: str | None = None) -> int | None:
        return append(self, folder, raw, internaldate, flags, user=user)

    def append_many(self, folder: str, messages: Iterable[Any], *, batch_size: int = 100,
                    user: str | None = None) -> list[int]:
        return append_many(self, folder, messages, batch_size=batch_size, user=user)

    def recreate_folder(self, name: str, *, user: str | None = None) -> int:
        return recreate_folder(self, name, user=user)

    def deliver_lmtp(self, rcpt: str, raw: bytes, mail_from: str = "sender@example.test") -> None:
        """Deliver *raw* to *rcpt*'s INBOX over LMTP (a unix socket).

        One recipient per LMTP session (pitfall 9).  Raises
        smtplib.SMTPRecipientsRefused for an unknown user, SMTPDataError if
        delivery fails.  INTERNALDATE is the delivery time.
        """
        if not isinstance(rcpt, str):
            raise TypeError("one recipient (a str) per call: smtplib.LMTP reads one reply only")
        with smtplib.LMTP(str(self.lmtp_socket)) as lmtp:
            lmtp.sendmail(mail_from, [rcpt], raw)


# --------------------------------------------------------------------------
# IMAP helpers


@contextlib.contextmanager
def _client_for(target: IMAPClient | Dovecot, user: str | None) -> Iterator[IMAPClient]:
    if isinstance(target, Dovecot):
        client = target.client(user)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()
    else:
        yield target


_APPENDUID = re.compile(rb"\[APPENDUID (\d+) ([0-9:,]+)\]", re.I)


def _uid_set(text: bytes) -> list[int]:
    out: list[int] = []
    for part in text.split(b","):
        lo, _, hi = part.partition(b":")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def _response_bytes(resp: Any) -> bytes:
    if isinstance(resp, (list, tuple)):
        return b" ".join(_response_bytes(r) for r in resp)
    if isinstance(resp, str):
        return resp.encode()
    return resp if isinstance(resp, bytes) else b""


def _check_date(internaldate: datetime) -> datetime:
    if not isinstance(internaldate, datetime):
        raise TypeError("internaldate must be a datetime")
    if internaldate.tzinfo is None or internaldate.utcoffset() is None:
        raise ValueError("internaldate must be timezone-aware (imapclient would use local time)")
    return internaldate


def _ensure_folder(client: IMAPClient, folder: str) -> None:
    if folder.upper() != "INBOX" and not client.folder_exists(folder):
        client.create_folder(folder)


def append(
    client_or_server: IMAPClient | Dovecot,
    folder: str,
    raw_bytes: bytes,
    internaldate: datetime,
    flags: Sequence[str | bytes] = (),
    *,
    user: str | None = None,
    create: bool = True,
) -> int | None:
    """APPEND one message with an explicit, timezone-aware INTERNALDATE.

    *client_or_server*: a logged-in IMAPClient, or a Dovecot (logs in as
    *user*, default its first user).  The folder is created if missing
    (unless create=False).  Returns the new UID (from APPENDUID).
    No flags means the message is unread (no \\Seen).
    """
    _check_date(internaldate)
    with _client_for(client_or_server, user) as client:
        if create:
            _ensure_folder(client, folder)
        resp = client.append(folder, raw_bytes, flags=tuple(flags), msg_time=internaldate)
    m = _APPENDUID.search(_response_bytes(resp))
    return int(m.group(2)) if m and m.group(2).isdigit() else None


def _as_multiappend_item(item: Any) -> dict[str, Any]:
    if isinstance(item, (bytes, str)):
        return {"msg": item}
    if isinstance(item, Mapping):
        out = dict(item)
    else:
        raw, *rest = item
        out = {"msg": raw}
        if rest:
            out["date"] = rest[0]
        if len(rest) > 1:
            out["flags"] = tuple(rest[1])
    if out.get("date") is not None:
        _check_date(out["date"])
    else:
        out.pop("date", None)
    return out


def append_many(
    client_or_server: IMAPClient | Dovecot,
    folder: str,
    messages: Iterable[Any],
    *,
    batch_size: int = 100,
    user: str | None = None,
    create: bool = True,
) -> list[int]:
    """Append many messages with MULTIAPPEND (RFC 3502), *batch_size* per command.

    Each item is raw bytes, a tuple ``(raw, internaldate[, flags])`` or an
    imapclient-style dict ``{"msg": raw, "date": dt, "flags": (...)}``.
    Falls back to one APPEND per message without MULTIAPPEND.  Returns the new
    UIDs in order (empty if the server sent no APPENDUID).
    """
    items = [_as_multiappend_item(m) for m in messages]
    uids: list[int] = []
    with _client_for(client_or_server, user) as client:
        if create:
            _ensure_folder(client, folder)
        if not client.has_capability("MULTIAPPEND"):
            for it in items:
                resp = client.append(folder, it["msg"], flags=it.get("flags", ()),
                                     msg_time=it.get("date"))
                m = _APPENDUID.search(_response_bytes(resp))
                if m:
                    uids.extend(_uid_set(m.group(2)))
            return uids
        for i in range(0, len(items), batch_size):
            resp = client.multiappend(folder, items[i:i + batch_size])
            m = _APPENDUID.search(_response_bytes(resp))
            if m:
                uids.extend(_uid_set(m.group(2)))
    return uids


def recreate_folder(
    client_or_server: IMAPClient | Dovecot, name: str, *, user: str | None = None
) -> int:
    """Delete *name* (if it exists) and create it again: new UIDVALIDITY, no mail.

    Returns the new UIDVALIDITY.  A client that has *name* selected should
    select it again afterwards.
    """
    if name.upper() == "INBOX":
        raise ValueError("INBOX cannot be deleted")
    with _client_for(client_or_server, user) as client:
        if client.folder_exists(name):
            with contextlib.suppress(Exception):
                client.unselect_folder()
            client.delete_folder(name)
        client.create_folder(name)
        return int(client.folder_status(name, [b"UIDVALIDITY"])[b"UIDVALIDITY"])


# --------------------------------------------------------------------------
# SMTP


@dataclasses.dataclass(frozen=True)
class ReceivedMessage:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes  # exactly the DATA bytes (dot-unstuffed, CRLF line ends as sent)
    peer: Any
    auth_user: str | None
    tls: bool
    mail_options: tuple[str, ...]
    received_at: float  # time.time()


_STAGES = ("MAIL", "RCPT", "DATA")


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    def _failure(self, server: Any, stage: str) -> str | None:
        status = self.owner._take_failure(stage)
        if status is not None and status.startswith("421"):
            # 421 means "closing the channel": do so after the reply is sent.
            server.loop.call_soon(server.transport.close)
        return status

    async def auth_XOAUTH2(self, server, args):  # noqa: N802
        """AUTH XOAUTH2 (Gmail, Microsoft 365): the owner's (user, password)
        pair stands for (user, access token)."""
        from base64 import b64decode

        from aiosmtpd.smtp import AuthResult

        user, token = self.owner.auth or ("", "")
        try:
            given = b64decode(args[1]).decode() if len(args) > 1 else ""
        except Exception:
            given = ""
        if given != f"user={user}\x01auth=Bearer {token}\x01\x01":
            # As Google does: a base64 JSON error as a challenge, then 535 after the client's empty answer.
            await server.challenge_auth('{"status":"401","schemes":"bearer"}', encode_to_b64=True)
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, handled=False, auth_data=user)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.owner.auth is not None and self.owner.auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        status = self._failure(server, "MAIL")
        if status:
            return status
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        status = self._failure(server, "RCPT")
        if status:
            return status
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        status = self._failure(server, "DATA")
        if status:
            return status
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        auth = session.auth_data
        login = getattr(auth, "login", None)
        msg = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=bytes(raw),
            peer=session.peer,
            auth_user=login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
            tls=server.transport.get_extra_info("ssl_object") is not None,
            mail_options=tuple(envelope.mail_options),
            received_at=time.time(),
        )
        if self.owner.deliver is not None:
            try:
                for rcpt in msg.rcpt_tos:
                    await server.loop.run_in_executor(
                        None, self.owner.deliver, rcpt, msg.raw, msg.mail_from
                    )
            except Exception as exc:  # noqa: BLE001 -- report it to the client
                return f"451 4.3.0 hand-off failed: {exc}"[:500]
        self.owner._record(msg)
        return "250 2.0.0 OK queued"


class SmtpServer:
    """An aiosmtpd SMTP server on 127.0.0.1 that records what it receives.

    ``SmtpServer(auth=("bot", "pw"), starttls=True)``; :meth:`start` or use
    as a context manager.  Attributes ``host``, ``port``, ``cafile`` (when TLS).

    * auth: (user, password) enables AUTH PLAIN/LOGIN without TLS (loopback),
      and XOAUTH2 with the password as the access token
      and, unless auth_required=False, refuses MAIL before AUTH (530).
    * starttls: offer STARTTLS (require_starttls=True to insist on it);
      implicit_tls: TLS from the first byte (SMTPS).  Same CA as Dovecot's.
    * deliver: callable(rcpt, raw, mail_from) called for each recipient
      before the 250, e.g. ``dovecot.deliver_lmtp`` so sent mail lands in a
      real mailbox; an exception there becomes a 451 reply.
    * failures: :meth:`fail_next` / :meth:`refuse_all` / :meth:`accept_all`.

    Received mail: :attr:`messages` (a snapshot list of
    :class:`ReceivedMessage`), :meth:`wait_for`, :meth:`clear`.
    :meth:`stop` then :meth:`start` brings it back on the same port
    (connections are refused in between, like a real outage).
    """

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        port: int | None = None,
        auth: tuple[str, str] | None = None,
        auth_required: bool = True,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        deliver: Callable[[str, bytes, str], None] | None = None,
        hostname: str = "smtp.test",
    ) -> None:
        self.host = host
        self.port = port
        self._port_given = port is not None
        self.auth = auth
        self.auth_required = auth_required
        self.starttls = starttls or require_starttls
        self.require_starttls = require_starttls
        self.implicit_tls = implicit_tls
        self.deliver = deliver
        self.hostname = hostname
        self.tls_files: TlsFiles | None = tls_files() if (self.starttls or implicit_tls) else None
        self.cafile: Path | None = self.tls_files.cafile if self.tls_files else None
        self._lock = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._fail_count = 0
        self._fail_status: str | None = None
        self._fail_stage = "MAIL"
        self._refuse_status: str | None = None
        self._refuse_stage = "MAIL"
        self.failures_sent = 0
        self._controller: Any = None
        self.last_start_seconds: float | None = None

    # -- life cycle ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        t0 = time.monotonic()
        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            user, password = self.auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (
                    isinstance(auth_data, LoginPassword)
                    and auth_data.login == user.encode()
                    and auth_data.password == password.encode()
                )
                return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

            kwargs.update(authenticator=authenticator, auth_require_tls=False)
        if self.starttls:
            kwargs.update(tls_context=self.tls_files.server_context(),
                          require_starttls=self.require_starttls)
        ssl_context = self.tls_files.server_context() if self.implicit_tls else None
        for attempt in range(3):
            self.port = self.port or free_port(self.host)
            controller = Controller(
                _Handler(self), hostname=self.host, port=self.port,
                server_hostname=self.hostname, ssl_context=ssl_context,
                ready_timeout=10.0, **kwargs,
            )
            try:
                controller.start()
                break
            except OSError:
                # Taken since free_port() looked: pick another, unless the
                # port was given or this is a restart (keeps its port).
                if self._port_given or self.last_start_seconds is not None or attempt == 2:
                    raise
                self.port = None
        self._controller = controller
        self.last_start_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SmtpServer {self.host}:{self.port} {'running' if self.running else 'stopped'}>"

    def client_context(self) -> ssl.SSLContext:
        if self.tls_files is None:
            raise RuntimeError("made without starttls/implicit_tls")
        return self.tls_files.client_context()

    # -- failures -----------------------------------------------------------

    @staticmethod
    def _status(code: int, message: str | None) -> str:
        if not 400 <= code <= 599:
            raise ValueError("failure code must be 4xx or 5xx")
        default = {
            421: "4.3.2 Service not available, closing channel",
            450: "4.2.0 Mailbox unavailable",
            451: "4.3.0 Local error in processing, try again later",
            452: "4.3.1 Insufficient system storage",
            550: "5.7.1 Rejected",
            554: "5.0.0 Transaction failed",
        }.get(code, "Failed")
        return f"{code} {message or default}"

    def fail_next(self, n: int = 1, code: int = 421, message: str | None = None,
                  stage: str = "MAIL") -> None:
        """Answer the next *n* commands of *stage* ("MAIL", "RCPT" or "DATA") with *code*.

        421 also closes the connection after the reply (as a server going
        down does); the client sees SMTPSenderRefused/SMTPRecipientsRefused/
        SMTPDataError (all SMTPResponseException, or SMTPServerDisconnected
        on the next command).  Nothing is recorded for a failed message.
        """
        stage = stage.upper()
        if stage not in _STAGES:
            raise ValueError(f"stage must be one of {_STAGES}")
        with self._lock:
            self._fail_count = n
            self._fail_status = self._status(code, message)
            self._fail_stage = stage

    def refuse_all(self, code: int = 421, message: str | None = None, stage: str = "MAIL") -> None:
        """Fail every transaction at *stage* with *code* until :meth:`accept_all`."""
        stage = stage.upper()
        if stage not in _STAGES:
            raise ValueError(f"stage must be one of {_STAGES}")
        with self._lock:
            self._refuse_status = self._status(code, message)
            self._refuse_stage = stage

    def accept_all(self) -> None:
        """Cancel :meth:`refuse_all` and any pending :meth:`fail_next`."""
        with self._lock:
            self._refuse_status = None
            self._fail_count = 0
            self._fail_status = None

    def _take_failure(self, stage: str) -> str | None:
        with self._lock:
            if self._refuse_status is not None and self._refuse_stage == stage:
                self.failures_sent += 1
                return self._refuse_status
            if self._fail_count > 0 and self._fail_stage == stage:
                self._fail_count -= 1
                self.failures_sent += 1
                return self._fail_status
            return None

    # -- received mail ------------------------------------------------------

    def _record(self, msg: ReceivedMessage) -> None:
        with self._lock:
            self._messages.append(msg)
            self._lock.notify_all()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of everything received so far, oldest first."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least *count* messages were received; return them all."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(
                    f"{len(self._messages)} message(s) received, expected {count} "
                    f"within {timeout} s"
                )
            return list(self._messages)
