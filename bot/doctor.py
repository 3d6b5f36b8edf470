"""Checks of an installation, each ending in one plain sentence with the fix.

- ``check_state_dir``: the state directory exists (or can be made) and the
  running user can write to it; otherwise a ``StateDirError`` (exit 78,
  EX_CONFIG) naming the owner and the command that fixes it. Every command
  that opens the state runs it first, so a wrong owner is one line in the
  journal, not a traceback and a restart loop.
- ``connect_checks``: what ``check-config --connect`` adds: log in to IMAP
  and examine the folder, connect to SMTP (EHLO, STARTTLS or TLS, AUTH;
  nothing is sent), free space, templates, OCR and catdoc, the coordinator,
  ``trusted_authserv_ids`` and sample data.
- ``explain``: a network or TLS failure as a sentence ("port 143 speaks plain
  IMAP: use security = \"starttls\" or port 993").
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .config.sample import sample_data
from .context import Context
from .errors import AuthenticationError, BotError, ConfigError, StateDirError
from .statedir import check_state_dir, user_name

MIN_FREE_MB = 200  # below this the archive of one busy day may not fit
CHECK_TIMEOUT_SECONDS = 15.0  # a port that never answers should not keep the admin waiting a minute


@dataclass(frozen=True)
class Check:
    """One line of ``check-config --connect``: what was checked and how it went."""

    name: str
    ok: bool
    text: str
    warning: bool = False  # ok, but worth reading

    def line(self) -> str:
        return f"{'FAIL' if not self.ok else 'warn' if self.warning else 'ok'}: {self.name}: {self.text}"


# -- the state directory (the checks every command runs: bot/statedir.py) ---------------

def state_write_check(path: Path) -> Check:
    """The state directory takes a file (a real write, as this user) and has room."""
    try:
        check_state_dir(path)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".check-"):
            pass
    except StateDirError as exc:
        return Check("state directory", False, str(exc))
    except OSError as exc:
        return Check("state directory", False, f"cannot write a file in {path} ({exc.strerror})")
    free_mb = shutil.disk_usage(path).free // (1024 * 1024)
    if free_mb < MIN_FREE_MB:
        return Check("state directory", False, f"{path} is writable but only {free_mb} MB are free; the archive of "
                     f"mail needs more (at least {MIN_FREE_MB} MB): free space or move [paths] state")
    return Check("state directory", True, f"{path} is writable by {user_name()}, {free_mb} MB free")


# -- network failures as sentences --------------------------------------------

def explain(service: str, host: str, port: int, security: str, exc: BaseException) -> str:
    """A failed connection as one sentence with the fix.

    ``service`` is "IMAP" or "SMTP"; ``exc`` the original exception (or a
    ``BotError`` whose ``__cause__`` is it). Pure: tested with a table.
    """
    import smtplib  # the network modules here, not at the top: every command checks the state directory
    import socket
    import ssl

    cause = exc
    while isinstance(cause, BotError) and cause.__cause__ is not None:
        cause = cause.__cause__
    where = f"{host}:{port}"
    ssl_port, starttls_port = (993, 143) if service == "IMAP" else (465, 587)
    text = str(cause)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (f"{service} {where}: the server's certificate is not trusted ({cause.verify_message}); if the office "
                f"uses its own certificate authority, set tls_cafile to its CA file")
    if isinstance(cause, ssl.SSLError) and ("WRONG_VERSION_NUMBER" in text or "record layer failure" in text
                                            or "UNEXPECTED_RECORD" in text or "packet length too long" in text):
        return (f"port {port} speaks plain {service}, not TLS: use security = \"starttls\" or port {ssl_port} "
                f"(with security = \"ssl\")")
    if isinstance(cause, ssl.SSLError):
        return f"{service} {where}: TLS failed ({cause.reason or text})"
    if isinstance(cause, ConnectionRefusedError):
        return (f"nothing listens on {where} (connection refused): check host and port ({service} normally uses "
                f"{ssl_port} with security = \"ssl\", {starttls_port} with \"starttls\")")
    if isinstance(cause, socket.gaierror):
        return f"the host name {host!r} is not known ({cause.strerror}): check host in config.toml"
    if isinstance(cause, (socket.timeout, TimeoutError)):
        hint = (f"; port {port} may expect TLS from the first byte: use security = \"ssl\""
                if security != "ssl" else "")
        return f"{service} {where} did not answer in time (a firewall, or the wrong host or port){hint}"
    if isinstance(cause, smtplib.SMTPAuthenticationError) or _is_login_refusal(exc):
        return (f"the {service} server refused the user name or password: check username in config.toml and the "
                f"password (e.g. in /etc/hoso-bot/hoso-bot.env)")
    if "STARTTLS" in text.upper():
        return (f"{service} {where} does not offer STARTTLS: use security = \"ssl\" on port {ssl_port}, or the port "
                f"where the server offers STARTTLS")
    if isinstance(cause, ConnectionResetError):
        return f"{service} {where} closed the connection: check the port and security (ssl or starttls)"
    return f"{service} {where}: {text or type(cause).__name__}"


def network_cause(exc: BaseException) -> BaseException | None:
    """The TLS, refused-connection, unknown-host or timeout error behind
    ``exc`` (a ``BotError`` raised from it), or None: the failures a
    setting causes, which ``explain`` turns into a sentence."""
    cause = exc
    while isinstance(cause, BotError) and cause.__cause__ is not None:
        cause = cause.__cause__
    import socket  # not at the top: every command checks the state directory, few explain a network error
    import ssl

    kinds = (ssl.SSLError, ConnectionRefusedError, socket.gaierror, socket.timeout, TimeoutError)
    return cause if isinstance(cause, kinds) else None


def _is_login_refusal(exc: BaseException) -> bool:
    return isinstance(exc, AuthenticationError)


# -- the checks of check-config --connect ------------------------------------

def imap_check(mailbox, environ=None) -> Check:
    """Log in and EXAMINE the folder (read-only: nothing is marked or moved)."""
    from .mailbox.imap import connect_imap  # not at the top: health checks the state directory without IMAP

    cfg = dataclasses.replace(mailbox, timeout_seconds=min(mailbox.timeout_seconds, CHECK_TIMEOUT_SECONDS))
    name = "IMAP"
    try:
        client = connect_imap(cfg, environ)
    except BotError as exc:
        return Check(name, False, _secret_or_explain(exc, "IMAP", cfg))
    try:
        try:
            info = client.select_folder(cfg.folder, readonly=True)
        except Exception as exc:  # imapclient raises its own IMAPClientError for a missing folder
            try:
                folders = ", ".join(str(f[2]) for f in client.list_folders()[:20])
            except Exception:  # only to help: the folder's error is what matters
                folders = "(the list of folders could not be read)"
            return Check(name, False, f"logged in as {cfg.username!r}, but the folder {cfg.folder!r} cannot be opened "
                                      f"({exc}); the mailbox has: {folders}; set folder in [mailbox]")
        count = info.get(b"EXISTS", "?")
        return Check(name, True, f"logged in to {cfg.host}:{cfg.port} ({cfg.security}) as {cfg.username!r}; "
                                 f"folder {cfg.folder!r} has {count} message(s)")
    finally:
        try:
            client.logout()
        except Exception:  # the check is done; a dropped connection changes nothing
            pass


def smtp_check(smtp, environ=None) -> Check:
    """Connect, EHLO, STARTTLS or TLS, AUTH, QUIT: no MAIL command, nothing is sent."""
    import smtplib
    import ssl

    name = "SMTP"
    context = ssl.create_default_context(cafile=str(smtp.tls_cafile) if smtp.tls_cafile else None)
    if smtp.tls_insecure_skip_verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = None
    try:
        if smtp.security == "ssl":
            conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=CHECK_TIMEOUT_SECONDS, context=context)
        else:
            conn = smtplib.SMTP(smtp.host, smtp.port, timeout=CHECK_TIMEOUT_SECONDS)
        conn.ehlo()
        if smtp.security == "starttls":
            if not conn.has_extn("starttls"):
                return Check(name, False, f"SMTP {smtp.host}:{smtp.port} does not offer STARTTLS: use security = "
                                          f"\"ssl\" on port 465, or the port where the server offers STARTTLS")
            conn.starttls(context=context)
            conn.ehlo()
        if smtp.username:
            secret = smtp.secret.read(environ) if smtp.secret else ""
            from .send import login  # not at the top: SMTP code loads for check-config --connect only

            login(conn, smtp.username, secret, auth=smtp.auth)
        conn.quit()
        conn = None
    except BotError as exc:  # the secret could not be read
        return Check(name, False, str(exc))
    except (OSError, smtplib.SMTPException) as exc:
        return Check(name, False, explain("SMTP", smtp.host, smtp.port, smtp.security, exc))
    finally:
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass
    who = f" as {smtp.username!r}" if smtp.username else " (no login)"
    return Check(name, True, f"{smtp.host}:{smtp.port} ({smtp.security}) accepted the session{who}; nothing was sent")


def _secret_or_explain(exc: BotError, service: str, cfg) -> str:
    if isinstance(exc, ConfigError):  # the secret: missing variable, CRLF, unreadable file
        return str(exc)
    return explain(service, cfg.host, cfg.port, cfg.security, exc)


def tool_checks(ctx: Context, ocr_reason: str | None) -> list[Check]:
    """OCR (unless turned off) and catdoc."""
    out = []
    if ctx.config.extraction.ocr == "off":
        out.append(Check("OCR", True, "turned off ([extraction] ocr = \"off\"): scans go to review", warning=True))
    elif ocr_reason:
        out.append(Check("OCR", False, f"tesseract with Vietnamese data is not usable ({ocr_reason}): "
                                       "apt-get install tesseract-ocr tesseract-ocr-vie, or set [extraction] "
                                       "ocr = \"off\" to send scans to review"))
    else:
        out.append(Check("OCR", True, "tesseract with Vietnamese data (vie) is installed"))
    out.append(Check("catdoc", True, "installed (old .doc files are read)") if shutil.which("catdoc") else
               Check("catdoc", False, "catdoc is not installed, so old Word (.doc) files cannot be read: "
                                      "apt-get install catdoc"))
    return out


def settings_checks(ctx: Context) -> list[Check]:
    """The coordinator, trusted_authserv_ids and sample data."""
    cfg = ctx.config
    out = [Check("coordinator", True, ", ".join(cfg.coordinator_emails))]
    if cfg.mailbox.trusted_authserv_ids:
        out.append(Check("trusted_authserv_ids", True, ", ".join(cfg.mailbox.trusted_authserv_ids)))
    else:
        out.append(Check("trusted_authserv_ids", False,
                         "[mailbox] trusted_authserv_ids is empty, so the coordinator's commands by email are "
                         "refused: set it to the first word of the Authentication-Results header your receiving "
                         "server adds (open a received mail, show its source)"))
    sample = sample_data(cfg, [e for s in ctx.rules.schools for e in s.emails])
    for problem in sample.problems(cfg):
        if cfg.smtp.enabled and not cfg.smtp.allow_reserved_domains:
            out.append(Check("sample data", False, f"{problem}; the bot refuses to send mail until then"))
        else:
            out.append(Check("sample data", True, problem, warning=True))
    return out


def template_check(ctx: Context, now: datetime) -> Check:
    """The digest renders with these templates (on an empty, temporary state)."""
    from . import notify  # not at the top: the digest's modules (and the store) load only for check-config --connect
    from .store import Store

    try:
        with tempfile.TemporaryDirectory(prefix="hoso-check-") as tmp, Store.open(Path(tmp)) as store:
            notify.digest(ctx, store, None, now, dry_run=True)
    except BotError as exc:
        return Check("templates", False, str(exc))
    except Exception as exc:  # a template error names the template and line: show it as it is
        return Check("templates", False, f"{ctx.config.paths.templates}: {type(exc).__name__}: {exc}")
    return Check("templates", True, f"{ctx.config.paths.templates} render")


def connect_checks(ctx: Context, now: datetime, *, ocr_reason: str | None, environ=None) -> list[Check]:
    """Everything ``check-config --connect`` reports, in order."""
    cfg = ctx.config
    checks = [state_write_check(cfg.paths.state)]
    if cfg.mailbox.source == "imap":
        checks.append(imap_check(cfg.mailbox, environ))
    else:
        ok = cfg.mailbox.path.is_dir()
        checks.append(Check("mailbox", ok, f"folder {cfg.mailbox.path}" + ("" if ok else " is not a directory")))
    if cfg.smtp.enabled:
        checks.append(smtp_check(cfg.smtp, environ))
    else:
        checks.append(Check("SMTP", True, f"off: mail is written to {cfg.paths.state / 'outbox'}", warning=True))
    checks.append(template_check(ctx, now))
    checks += tool_checks(ctx, ocr_reason)
    checks += settings_checks(ctx)
    return checks
