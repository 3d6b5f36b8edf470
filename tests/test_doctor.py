"""`check-config --connect` against a real Dovecot and SMTP server, and the
state-directory checks every command runs: each mistake an IT person makes
on the first day ends in one plain sentence with the fix and a non-zero exit."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.doctor import explain
from bot.errors import AuthenticationError, ConfigError, MailboxError, StateDirError

from .configs import ROOT, write_config
from .servers import free_port

pytestmark = pytest.mark.imap

IMAP_PASSWORD = "pw-4Kd8-xQ2v"
SMTP_AUTH = ("bot", "smtp-pw-9Ls3")


def _cli(cfg: Path, *argv: str, env_extra: dict | None = None, user: str | None = None,
         cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOT_IMAP_PASSWORD": IMAP_PASSWORD, "BOT_SMTP_PASSWORD": SMTP_AUTH[1], **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, user=user)


def _config(tmp: Path, dovecot, smtp, *, imap_port=None, imap_security="ssl", smtp_port=None,
            smtp_security="starttls", trusted='["mx.pgd-q12.example"]', smtp_extra="") -> Path:
    mailbox = "\n".join([
        'source = "imap"', f'host = "{dovecot.host}"', f"port = {imap_port or dovecot.imaps_port}",
        f'security = "{imap_security}"', f'username = "{dovecot.user}"', 'password_env = "BOT_IMAP_PASSWORD"',
        f'tls_cafile = "{dovecot.cafile}"', f"trusted_authserv_ids = {trusted}", "timeout_seconds = 5"])
    smtp_text = "\n".join([
        "[smtp]", "enabled = true", 'host = "127.0.0.1"', f"port = {smtp_port or smtp.port}",
        f'security = "{smtp_security}"', f'username = "{SMTP_AUTH[0]}"', 'password_env = "BOT_SMTP_PASSWORD"',
        f'tls_cafile = "{smtp.cafile}"', 'from_address = "hoso@pgd-q12.example"',
        "allow_reserved_domains = true", smtp_extra])
    return write_config(tmp, mailbox, smtp_text)


@pytest.fixture
def servers(dovecot_factory, smtp_server_factory):
    dovecot = dovecot_factory(users={"office": IMAP_PASSWORD}, tls=True)
    smtp = smtp_server_factory(auth=SMTP_AUTH, starttls=True)
    return dovecot, smtp


def _lines(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


def test_a_right_installation_passes_every_check_and_sends_nothing(tmp_path, servers):
    dovecot, smtp = servers
    done = _cli(_config(tmp_path, dovecot, smtp), "check-config", "--connect")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _lines(done.stdout, "FAIL") == []
    for check in ("ok: state directory:", "ok: IMAP: logged in to", "ok: SMTP: 127.0.0.1:", "ok: templates:",
                  "ok: catdoc:", "ok: coordinator:", "ok: trusted_authserv_ids:"):
        assert check in done.stdout, done.stdout
    assert "folder 'INBOX' has 0 message(s)" in done.stdout
    assert smtp.messages == []  # EHLO, STARTTLS, AUTH: no mail
    assert (tmp_path / "state").is_dir()


@pytest.mark.parametrize("mistake, expected", [
    ("imap wrong port", "FAIL: IMAP: nothing listens on 127.0.0.1:{free} (connection refused)"),
    ("imap ssl on the plain port", 'FAIL: IMAP: port {imap_plain} speaks plain IMAP, not TLS: use security = '
                                   '"starttls" or port 993'),
    ("imap wrong password", "FAIL: IMAP: the IMAP server refused the user name or password"),
    ("smtp wrong port", "FAIL: SMTP: nothing listens on 127.0.0.1:{free} (connection refused)"),
    ("smtp ssl on the plain port", 'FAIL: SMTP: port {smtp} speaks plain SMTP, not TLS: use security = '
                                   '"starttls" or port 465'),
    ("smtp wrong password", "FAIL: SMTP: the SMTP server refused the user name or password"),
    ("imap missing folder", "FAIL: IMAP: logged in as 'office', but the folder 'Ho-so' cannot be opened"),
    ("no trusted_authserv_ids", "FAIL: trusted_authserv_ids: [mailbox] trusted_authserv_ids is empty"),
    ("state is a file", "FAIL: state directory: the state directory {state} is not a directory"),
])
def test_each_mistake_is_one_plain_sentence_and_a_failure(tmp_path, servers, mistake, expected):
    dovecot, smtp = servers
    free = free_port()
    kwargs = {
        "imap wrong port": dict(imap_port=free),
        "imap ssl on the plain port": dict(imap_port=dovecot.port, imap_security="ssl"),
        "smtp wrong port": dict(smtp_port=free),
        "smtp ssl on the plain port": dict(smtp_security="ssl"),
        "no trusted_authserv_ids": dict(trusted="[]"),
    }.get(mistake, {})
    cfg = _config(tmp_path, dovecot, smtp, **kwargs)
    env = {"BOT_IMAP_PASSWORD": "wrong"} if mistake == "imap wrong password" else \
        {"BOT_SMTP_PASSWORD": "wrong"} if mistake == "smtp wrong password" else {}
    if mistake == "imap missing folder":
        cfg.write_text(cfg.read_text().replace("timeout_seconds = 5", 'timeout_seconds = 5\nfolder = "Ho-so"'))
    if mistake == "state is a file":
        (tmp_path / "state").write_text("a file where the state directory should be")
    done = _cli(cfg, "check-config", "--connect", env_extra=env)
    assert done.returncode == 1, done.stdout + done.stderr
    line = expected.format(free=free, imap_plain=dovecot.port, smtp=smtp.port, state=tmp_path / "state")
    failures = _lines(done.stdout, "FAIL")
    assert len(failures) == 1 and failures[0].startswith(line), done.stdout
    assert "Traceback" not in done.stderr and "WRONG_VERSION_NUMBER" not in done.stdout
    assert "1 check(s) failed: fix them before enabling the service" in done.stdout


def test_check_config_refuses_sample_data_when_smtp_is_on(tmp_path, servers):
    dovecot, smtp = servers
    cfg = _config(tmp_path, dovecot, smtp)
    cfg.write_text(cfg.read_text().replace("allow_reserved_domains = true\n", ""))
    done = _cli(cfg, "check-config", "--connect")
    assert done.returncode == 1
    (roster, coordinator) = [line for line in _lines(done.stdout, "FAIL") if "sample data" in line]
    assert f"the roster {ROOT / 'rules' / 'schools.csv'} has 29 address(es) in reserved example domains" in roster
    assert f"[coordinator] emails in {cfg} is sample data (nthmai.q12@tphcm-gov.example)" in coordinator


def _as_user(name: str, work) -> tuple[int, str]:
    """Run ``work()`` (returns an exit code and its output) in a forked child with the
    real and effective uid and gid of user ``name``, as the service would run.
    Everything it needs is imported before the fork: the interpreter's own
    files may be unreadable to that user."""
    user = pwd.getpwnam(name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            code, text = work()
            os.write(write, text.encode())
        except BaseException:  # shown by the parent's assertion
            import traceback

            os.write(write, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, encoding="utf-8", errors="replace") as pipe:
        out = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


@pytest.fixture
def open_tmp():
    """A directory under /tmp that other users may enter once it is chmod o+x
    (pytest's tmp_path sits in a 0700 directory shared by every test run)."""
    path = Path(tempfile.mkdtemp(prefix="hoso-doctor-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to become another user")
def test_a_state_directory_the_service_user_cannot_write_is_a_plain_error_with_the_fix(open_tmp):
    import contextlib
    import io

    import encodings.utf_8_sig  # noqa: F401 -- the roster's codec, imported before the fork (see _as_user)

    from bot import cli, doctor, notify, store  # noqa: F401 -- likewise

    (open_tmp / "inbox").mkdir()
    cfg = write_config(open_tmp, f'source = "folder"\npath = "{open_tmp / "inbox"}"')
    state = open_tmp / "state"
    state.mkdir(mode=0o755)  # as `mkdir` by root leaves it: root:root, not the service user's
    open_tmp.chmod(0o700)

    def reach() -> tuple[int, str]:
        return 0, doctor.state_write_check(state).line()

    code, out = _as_user("nobody", reach)
    assert out.startswith(f"FAIL: state directory: nobody cannot reach the state directory {state}: {open_tmp} is "
                          "owned by root:root, mode drwx------"), out
    assert f"hint: let it through (chmod o+x {open_tmp})" in out

    def status() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
            code = cli.main(["--config", str(cfg), "status"])
        return code, out.getvalue()

    open_tmp.chmod(0o755)  # as /etc/hoso-bot is: the user reaches the config
    code, out = _as_user("nobody", reach)
    assert out.startswith(f"FAIL: state directory: the state directory {state} is owned by root:root, mode "
                          "drwxr-xr-x: nobody cannot write to it"), out
    code, out = _as_user("nobody", status)
    assert code == 78, out  # EX_CONFIG: the unit does not restart it
    assert "Traceback" not in out
    assert out.startswith(f"error: the state directory {state} is owned by root:root, mode drwxr-xr-x: nobody "
                          "cannot write to it\n  hint: as root: chown -R nobody:"), out


def test_a_missing_state_directory_that_cannot_be_created_says_how_to_create_it(tmp_path):
    (tmp_path / "inbox").mkdir()
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"')
    (tmp_path / "blocker").write_text("a file")
    cfg.write_text(cfg.read_text().replace(f'state = "{tmp_path / "state"}"', f'state = "{tmp_path / "blocker" / "state"}"'))
    done = _cli(cfg, "status")
    assert done.returncode == 78 and "Traceback" not in done.stderr
    assert f"the state directory {tmp_path / 'blocker' / 'state'} does not exist and root cannot create it" \
        in done.stderr or "cannot create it" in done.stderr
    assert "hint: create it as root: install -d -o" in done.stderr


# -- the sentences, as a table --------------------------------------------------


def _ssl_error(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower().replace('_', ' ')} (_ssl.c:1000)")
    exc.reason = reason
    return exc


def _wrapped(cause: BaseException, cls=MailboxError) -> BaseException:
    try:
        raise cls("cannot connect") from cause
    except cls as exc:
        return exc


@pytest.mark.parametrize("service, port, security, exc, sentence", [
    ("IMAP", 143, "ssl", _wrapped(_ssl_error("WRONG_VERSION_NUMBER")),
     'port 143 speaks plain IMAP, not TLS: use security = "starttls" or port 993 (with security = "ssl")'),
    ("SMTP", 587, "ssl", _ssl_error("WRONG_VERSION_NUMBER"),
     'port 587 speaks plain SMTP, not TLS: use security = "starttls" or port 465 (with security = "ssl")'),
    ("IMAP", 1993, "ssl", _wrapped(ConnectionRefusedError(111, "Connection refused")),
     'nothing listens on mail.example:1993 (connection refused): check host and port (IMAP normally uses 993 '
     'with security = "ssl", 143 with "starttls")'),
    ("SMTP", 465, "starttls", TimeoutError("timed out"),
     'SMTP mail.example:465 did not answer in time (a firewall, or the wrong host or port); port 465 may expect '
     'TLS from the first byte: use security = "ssl"'),
    ("IMAP", 993, "ssl", _wrapped(socket.gaierror(-2, "Name or service not known")),
     "the host name 'mail.example' is not known (Name or service not known): check host in config.toml"),
    ("IMAP", 993, "ssl", _wrapped(Exception("[AUTHENTICATIONFAILED] Authentication failed."), AuthenticationError),
     "the IMAP server refused the user name or password: check username in config.toml and the password"),
])
def test_network_failures_read_as_sentences(service, port, security, exc, sentence):
    assert explain(service, "mail.example", port, security, exc).startswith(sentence)


def test_state_dir_error_is_ex_config_and_config_error_is_2():
    # the numbers systemd/hoso-bot.service's RestartPreventExitStatus= lists
    assert StateDirError.exit_code == 78 and ConfigError.exit_code == 2
