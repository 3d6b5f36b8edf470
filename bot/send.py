"""Handing a finished message to the world: the only SMTP code of the bot.

- ``SmtpSender``: SMTP with implicit TLS (``ssl``), ``starttls`` or ``none``
  (loopback only, enforced by config validation), AUTH when a user name is
  configured. Certificates are verified against ``tls_cafile`` or the
  system's CAs (``tls_insecure_skip_verify`` only for test servers). One
  connection is reused for a delivery pass; any error drops it.
- ``FileSender``: without SMTP, each mail becomes ``state/outbox/NAME.eml``
  plus ``NAME.html`` (a preview of the HTML part). NAME comes from the
  outbox row (sequence and kind), never from anything inside the mail.

Failures raise ``SmtpFailure`` (a ``SendError``): ``temporary`` for 4xx
replies and connection/TLS/login problems (keep the mail, retry later),
permanent for 5xx replies; ``connection`` when the server could not be used
at all (the rest of the pass should wait too).
"""
from __future__ import annotations

import base64
import re
import smtplib
import socket
import ssl
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Protocol, Sequence

from .archive import write_atomic
from .config.model import Config, SmtpConfig
from .errors import BotError, SmtpFailure

TIMEOUT_SECONDS = 60


class Sender(Protocol):
    def send(self, raw: bytes, from_addr: str, recipients: Sequence[str], *, name: str = "") -> dict: ...

    def close(self) -> None: ...


class SmtpSender:
    """Send over SMTP. ``send`` returns the recipients the server refused
    while accepting the message for others ({address: (code, text)})."""

    delivered = "sent to"  # how the log says what happened

    def __init__(self, cfg: SmtpConfig, environ: dict | None = None, timeout: float = TIMEOUT_SECONDS):
        if not cfg.enabled:
            raise ValueError("SMTP is not enabled in the configuration")
        self.cfg = cfg
        self.environ = environ
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    # -- connection ---------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.cfg.tls_cafile) if self.cfg.tls_cafile else None)
        if self.cfg.tls_insecure_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        where = f"{cfg.host}:{cfg.port}"
        conn: smtplib.SMTP | None = None
        try:
            if cfg.security == "ssl":
                conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=self.timeout, context=self._tls_context())
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)
            conn.ehlo()
            if cfg.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise SmtpFailure(f"SMTP {where} does not offer STARTTLS; refusing to send in clear text",
                                      temporary=True, connection=True)
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if cfg.username:
                secret = cfg.secret.read(self.environ) if cfg.secret else ""
                login(conn, cfg.username, secret, auth=cfg.auth)
            return conn
        except SmtpFailure:
            _quietly_close(conn)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(conn)
            raise SmtpFailure(f"SMTP {where} refused the login of {cfg.username!r}: {exc.smtp_code} {_text(exc.smtp_error)}",
                              temporary=True, connection=True, code=exc.smtp_code) from exc
        except BotError as exc:  # the secret could not be read
            _quietly_close(conn)
            raise SmtpFailure(f"SMTP {where}: {exc}", temporary=True, connection=True) from exc
        except ssl.SSLError as exc:
            _quietly_close(conn)
            raise SmtpFailure(f"SMTP {where}: TLS failed ({exc.reason or exc}); check smtp.tls_cafile",
                              temporary=True, connection=True) from exc
        except smtplib.SMTPResponseException as exc:
            _quietly_close(conn)
            raise SmtpFailure(f"SMTP {where} refused the session: {exc.smtp_code} {_text(exc.smtp_error)}",
                              temporary=True, connection=True, code=exc.smtp_code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            _quietly_close(conn)
            raise SmtpFailure(f"SMTP {where} unreachable: {exc}", temporary=True, connection=True) from exc

    def send(self, raw: bytes, from_addr: str, recipients: Sequence[str], *, name: str = "") -> dict:
        if not recipients:
            raise SmtpFailure("no recipients", temporary=False)
        if self._conn is None:
            self._conn = self._connect()
        try:
            refused = self._conn.sendmail(from_addr, list(recipients), raw)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            self._drop()
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{a}: {c} {_text(m)}" for a, (c, m) in exc.recipients.items())
            raise SmtpFailure(f"recipients refused: {detail}", temporary=all(400 <= c < 500 for c in codes),
                              code=max(codes) if codes else None) from exc
        except smtplib.SMTPResponseException as exc:  # MAIL FROM or DATA refused
            self._drop()
            code = exc.smtp_code
            temporary = 400 <= code < 500
            raise SmtpFailure(f"SMTP refused the message: {code} {_text(exc.smtp_error)}", temporary=temporary,
                              connection=code == 421, code=code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise SmtpFailure(f"SMTP connection lost: {exc}", temporary=True, connection=True) from exc
        return {a: (c, _text(m)) for a, (c, m) in (refused or {}).items()}

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        _quietly_close(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                _quietly_close(conn)

    def __enter__(self) -> "SmtpSender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FileSender:
    """Write each mail to ``outbox_dir/NAME.eml`` and ``NAME.html`` (atomically).

    Writing the same NAME again replaces the file, so a retried mail never
    appears twice.
    """

    _SAFE = re.compile(r"[^A-Za-z0-9._-]+")
    # How the log says what happened: nothing left the machine.
    delivered = "written to state/outbox/ (SMTP is off), addressed to"

    def __init__(self, outbox_dir: Path):
        self.dir = Path(outbox_dir)

    def send(self, raw: bytes, from_addr: str, recipients: Sequence[str], *, name: str = "") -> dict:
        if not name:
            raise ValueError("FileSender needs a name from the outbox")
        safe = self._SAFE.sub("_", name).strip("._") or "mail"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self.dir / f"{safe}.eml", raw)
            html = _html_part(raw)
            if html is not None:
                write_atomic(self.dir / f"{safe}.html", html.encode("utf-8"))
        except OSError as exc:
            raise SmtpFailure(f"cannot write to {self.dir}: {exc.strerror}", temporary=True, connection=True) from exc
        return {}

    def close(self) -> None:
        pass


def make_sender(config: Config, environ: dict | None = None):
    """SMTP when ``[smtp] enabled``, else files under ``state/outbox/``."""
    if config.smtp.enabled:
        return SmtpSender(config.smtp, environ)
    return FileSender(config.paths.state / "outbox")


def login(conn: smtplib.SMTP, username: str, secret: str, *, auth: str) -> None:
    """Log in by ``[smtp] auth``: "xoauth2" presents ``secret`` as an OAuth 2.0
    access token, anything else as a password. Raises ``smtplib.SMTPException``
    (``SMTPAuthenticationError`` when the server refuses the credentials)."""
    if auth == "xoauth2":
        _login_xoauth2(conn, username, secret)
    else:
        _login(conn, username, secret)


def _login(conn: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH; smtplib only handles ASCII credentials, so a UTF-8 user name or
    password (e.g. with Vietnamese letters) goes as AUTH PLAIN in UTF-8 (RFC 4616)."""
    if (username + password).isascii():
        conn.login(username, password)
        return
    if not conn.has_extn("auth") or "PLAIN" not in conn.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPException("the server does not offer AUTH PLAIN, needed for a non-ASCII password")
    token = base64.b64encode(b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, resp = conn.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def _login_xoauth2(conn: smtplib.SMTP, username: str, token: str) -> None:
    """AUTH XOAUTH2 with an OAuth 2.0 access token (Gmail, Microsoft 365)."""
    if "XOAUTH2" not in conn.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPException("the server does not offer AUTH XOAUTH2")
    response = f"user={username}\x01auth=Bearer {token}\x01\x01"
    # On failure the server sends a JSON challenge; an empty answer ends the exchange with the error code.
    conn.auth("XOAUTH2", lambda challenge=None: response if challenge is None else "", initial_response_ok=True)


def _html_part(raw: bytes) -> str | None:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else None


def _quietly_close(conn) -> None:
    if conn is not None:
        try:
            conn.close()
        except (OSError, smtplib.SMTPException, socket.error):
            pass


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


__all__ = ["SmtpSender", "FileSender", "SmtpFailure", "make_sender", "Sender"]
