"""config.toml -> frozen, validated settings.

Secrets are never in the file: a password comes from an environment variable
(``password_env``) or a file (``password_file``); an XOAUTH2 access token
from a command (``token_command``) or a file (``token_file``). Relative paths
are resolved against the directory of config.toml, so the bot behaves the
same whatever directory it is started from.
"""
from __future__ import annotations

import grp
import ipaddress
import os
import pwd
import stat
import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .official.signature import TrustRoots, load_trust_roots
from .validate import Table, parse_hhmm

SECURITY = ("ssl", "starttls", "none")


@dataclass(frozen=True)
class Secret:
    """Where a secret comes from; ``read()`` fetches it when it is needed."""

    env: str | None = None
    file: Path | None = None
    command: str | None = None
    key: str = ""  # the config key, for error messages

    def read(self, environ: dict | None = None) -> str:
        environ = os.environ if environ is None else environ
        if self.env:
            value = environ.get(self.env)
            if not value:
                raise ConfigError(f"{self.key}: environment variable {self.env} is not set or empty",
                                  hint=f"export {self.env}=... (or put it in the service's EnvironmentFile)")
            if "\r" in value:
                # A file saved on Windows: the server would be sent "password\r" and refuse it.
                raise ConfigError(f"{self.key}: environment variable {self.env} ends with a carriage return (\\r): "
                                  "the file it comes from has Windows (CRLF) line ends",
                                  hint="convert the env file to Unix line ends, e.g. "
                                       "sed -i 's/\\r$//' /etc/hoso-bot/hoso-bot.env, then restart")
            return value
        if self.file:
            try:
                value = self.file.read_text(encoding="utf-8").strip()
            except PermissionError as exc:
                raise ConfigError(f"{self.key}: cannot read {self.file} ({exc.strerror}): {_owner_text(self.file)}, "
                                  f"and the bot runs as {_user_name()}",
                                  hint=f"chown {_user_name()} {self.file} && chmod 600 {self.file}") from exc
            except OSError as exc:
                raise ConfigError(f"{self.key}: cannot read {self.file} ({exc.strerror})",
                                  hint=f"check the path in config.toml ({self.key})") from exc
            return self._not_empty(value, f"{self.file} is empty")
        if self.command:
            return self._not_empty(self._run_command(), "the token command printed nothing")
        raise ConfigError(f"{self.key}: no secret configured")

    def _run_command(self) -> str:
        import shlex  # here: every command loads the config, few run a token command
        import subprocess

        try:
            out = subprocess.run(shlex.split(self.command), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"{self.key}: token command failed: {exc}") from exc
        if out.returncode != 0:
            # Its own message says why (expired refresh token, no network...): show it, trimmed.
            said = " ".join(out.stderr.split())[:200] or "no message on stderr"
            raise ConfigError(f"{self.key}: token command exited with status {out.returncode}: {said}",
                              hint="run the command by hand as the service user to see what it needs")
        return out.stdout.strip()

    def _not_empty(self, value: str, why: str) -> str:
        if not value:
            raise ConfigError(f"{self.key}: {why}", hint="an empty secret would only be refused by the server")
        return value

    def warnings(self) -> list[str]:
        """Problems worth a warning, e.g. a password file others can read."""
        if self.file and self.file.exists():
            mode = self.file.stat().st_mode
            if mode & (stat.S_IRGRP | stat.S_IROTH):
                return [f"{self.key}: {self.file} is readable by other users (mode {stat.filemode(mode)}); chmod 600 it"]
        return []


@dataclass(frozen=True)
class MailboxConfig:
    source: str  # "imap" | "folder"
    host: str = ""
    port: int = 993
    security: str = "ssl"
    username: str = ""
    auth: str = "password"  # "password" | "xoauth2"
    secret: Secret | None = None
    folder: str = "INBOX"
    path: Path | None = None
    fetch_batch: int = 50
    timeout_seconds: float = 60.0
    tls_cafile: Path | None = None
    tls_insecure_skip_verify: bool = False
    # A message larger than this is not downloaded: only its headers are
    # recorded, quarantined with the reason, for a person to open in webmail.
    max_message_mb: int = 60
    # The authserv-ids of the office's own receiving servers (lower case): only
    # Authentication-Results headers that begin with one of them are read
    # (RFC 8601 sections 5 and 7.1). Empty: no mail has an authentication
    # verdict, so commands by email are refused unless
    # coordinator.allow_unauthenticated_commands is set.
    trusted_authserv_ids: tuple[str, ...] = ()

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1024 * 1024


@dataclass(frozen=True)
class SmtpConfig:
    enabled: bool
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    auth: str = "password"  # "password" | "xoauth2" (Gmail, Microsoft 365)
    secret: Secret | None = None
    from_address: str = ""
    from_name: str = ""
    daily_cap: int = 500
    per_minute: int = 20
    # Receipts to senders outside the roster (their own mail vouched for by the
    # trusted Authentication-Results), per rolling 24 hours; the rest wait.
    sender_receipts_per_day: int = 20
    # VERP: each mail's envelope sender names it (from_address local+b.<token>@domain), so a
    # delivery report quoting nothing is still tied to it. Off: many submission servers refuse it.
    verp: bool = False
    tls_cafile: Path | None = None
    tls_insecure_skip_verify: bool = False
    # Send even to reserved example domains (RFC 2606/6761: .example, .test,
    # ...): for tests and demos against a local SMTP server only. Off, the bot
    # refuses to send while the roster or coordinator is sample data.
    allow_reserved_domains: bool = False


@dataclass(frozen=True)
class Paths:
    rules: Path
    templates: Path
    state: Path


@dataclass(frozen=True)
class Schedule:
    timezone: ZoneInfo
    poll_every_minutes: int
    digest_at: time


@dataclass(frozen=True)
class ExtractionConfig:
    # "auto": OCR scans when tesseract with Vietnamese data is installed;
    # "off": never OCR (scans go to review), e.g. on a machine too small for it.
    ocr: str = "auto"

    @property
    def ocr_enabled(self) -> bool | None:
        """What ``Extractor(ocr=...)`` takes: None (use it if installed) or False."""
        return None if self.ocr == "auto" else False


@dataclass(frozen=True)
class OfficialConfig:
    """``[official]``: how copies are checked for being the official paper (issue 16).

    ``trust_roots``: a folder of CA certificates (PEM or DER) a digital
    signature must chain to; None: none configured (a signature is then
    reported "not verified", never guessed). ``roots``: the certificates,
    read once at start.
    """

    trust_roots: Path | None = None
    roots: TrustRoots = TrustRoots()


@dataclass(frozen=True)
class Config:
    mailbox: MailboxConfig
    smtp: SmtpConfig
    coordinator_emails: tuple[str, ...]
    paths: Paths
    schedule: Schedule
    source_file: Path
    # Commands by email are obeyed only from a coordinator address whose mail
    # passed the receiving server's checks (Authentication-Results from one of
    # mailbox.trusted_authserv_ids: DMARC, aligned DKIM or aligned SPF). True
    # also obeys mail WITHOUT any verdict (no trusted Authentication-Results);
    # mail that FAILED is never obeyed.
    allow_unauthenticated_commands: bool = False
    extraction: ExtractionConfig = ExtractionConfig()
    # Entries shown per section of the daily digest (files in review, late
    # dossiers, missing...); the rest is counted and is in the attached XLSX.
    digest_entries: int = 10
    official: OfficialConfig = OfficialConfig()

    def warnings(self) -> list[str]:
        """Settings that work but deserve a warning (``check-config`` prints them)."""
        out: list[str] = []
        for secret in (self.mailbox.secret, self.smtp.secret):
            if secret:
                out.extend(secret.warnings())
        if not self.mailbox.trusted_authserv_ids:
            out.append("mailbox.trusted_authserv_ids is empty: no Authentication-Results header is trusted, so "
                       + ("EVERY command mail that claims a coordinator address is obeyed without any check of "
                          "who sent it (coordinator.allow_unauthenticated_commands is ON)"
                          if self.allow_unauthenticated_commands else
                          "every command mail from the coordinator is refused (no authentication verdict)")
                       + "; set it to the authserv-id of your receiving server (the first word of the "
                         "Authentication-Results header it adds, e.g. [\"mx.hcm-edu.example\"])")
        if self.allow_unauthenticated_commands:
            out.append("coordinator.allow_unauthenticated_commands is ON: commands by email are obeyed from mail "
                       "that carries no authentication verdict; anyone who can forge the coordinator's From "
                       "address on this server can change the campaign's status")
        for section in (self.mailbox, self.smtp):
            if section.tls_insecure_skip_verify:
                out.append(f"{'mailbox' if section is self.mailbox else 'smtp'}.tls_insecure_skip_verify is ON: "
                           "certificates are NOT verified; use only with a self-signed test server")
        return out


def load_config(path: Path) -> Config:
    """Read and validate config.toml; any problem is a ConfigError naming the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file", hint="pass --config PATH to your config.toml") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, path.resolve().parent, path)


def parse_config(data: dict, base: Path, source_file: Path = Path("config.toml")) -> Config:
    """Validate an already-parsed config table; paths are resolved against ``base``."""
    top = Table(data, "", ConfigError)
    mailbox = _mailbox(top.sub("mailbox", required=True), base)
    smtp = _smtp(top.sub("smtp"), base)
    coord = top.sub("coordinator", required=True)
    emails = tuple(e.lower() for e in coord.str_list("emails"))
    if not emails or not all("@" in e for e in emails):
        raise coord.fail("emails", "list at least one email address")
    allow_unauthenticated = coord.get("allow_unauthenticated_commands", bool, False)
    digest_entries = coord.get("digest_entries", int, 10,
                               check=lambda v: None if 1 <= v <= 200 else "must be 1..200 (entries per section)")
    coord.done()
    p = top.sub("paths")
    paths = Paths(rules=_path(base, p.get("rules", str, "rules")),
                  templates=_path(base, p.get("templates", str, "templates")),
                  state=_path(base, p.get("state", str, "state")))
    p.done()
    schedule = _schedule(top.sub("schedule"))
    ex = top.sub("extraction")
    extraction = ExtractionConfig(ocr=ex.choice("ocr", ("auto", "off"), "auto"))
    ex.done()
    official = _official(top.sub("official"), base)
    top.done()
    return Config(mailbox=mailbox, smtp=smtp, coordinator_emails=emails, paths=paths,
                  schedule=schedule, source_file=source_file,
                  allow_unauthenticated_commands=allow_unauthenticated, extraction=extraction,
                  digest_entries=digest_entries, official=official)


def _official(t: Table, base: Path) -> OfficialConfig:
    """``[official] trust_roots``: the folder is read now, so a missing folder or a file that
    is not a certificate is an error at start naming it."""
    folder = t.get("trust_roots", str, None, check=lambda v: None if v.strip() else "must not be empty")
    t.done()
    if folder is None:
        return OfficialConfig()
    path = _path(base, folder)
    try:
        roots = load_trust_roots(path)
    except ConfigError as exc:
        raise ConfigError(f"{t.key('trust_roots')}: {exc.args[0]}",
                          hint="a folder of the CA certificates (.pem, .crt, .cer, .der) that digital "
                               "signatures must chain to; remove the key to check signatures without "
                               "verifying their issuer") from None
    return OfficialConfig(trust_roots=path, roots=roots)


def _mailbox(t: Table, base: Path) -> MailboxConfig:
    source = t.choice("source", ("imap", "folder"))
    if source == "folder":
        path = _path(base, t.get("path", str))
        # Keys that only mean something for IMAP are still validated if present.
        for key in ("host", "username", "password_env", "password_file", "folder"):
            t.get(key, str, None)
        t.get("port", int, None)
        t.choice("security", SECURITY, None)
        max_mb = _max_message_mb(t)
        trusted = _trusted_authserv_ids(t)
        t.done()
        return MailboxConfig(source="folder", path=path, max_message_mb=max_mb, trusted_authserv_ids=trusted)
    host = t.get("host", str)
    security = t.choice("security", SECURITY, "ssl")
    _loopback_only_if_plain(t, host, security)
    auth = t.choice("auth", ("password", "xoauth2"), "password")
    cafile, insecure = _tls(t, base)
    cfg = MailboxConfig(
        source="imap", host=host,
        port=t.get("port", int, 993 if security == "ssl" else 143, check=_port),
        security=security, username=t.get("username", str), auth=auth,
        secret=_secret(t, base, auth), folder=t.get("folder", str, "INBOX"),
        path=None,
        fetch_batch=t.get("fetch_batch", int, 50, check=lambda v: None if 1 <= v <= 1000 else "must be 1..1000"),
        timeout_seconds=float(t.get("timeout_seconds", (int, float), 60, check=lambda v: None if v > 0 else "must be > 0")),
        tls_cafile=cafile, tls_insecure_skip_verify=insecure,
        max_message_mb=_max_message_mb(t),
        trusted_authserv_ids=_trusted_authserv_ids(t),
    )
    t.get("path", str, None)
    t.done()
    return cfg


def _max_message_mb(t: Table) -> int:
    return t.get("max_message_mb", int, 60,
                 check=lambda v: None if 1 <= v <= 2048 else "must be 1..2048 (megabytes)")


def _trusted_authserv_ids(t: Table) -> tuple[str, ...]:
    """``trusted_authserv_ids``: a list of authserv-ids (host-like tokens), lower case."""
    ids = t.str_list("trusted_authserv_ids", ())
    for i, value in enumerate(ids):
        if not value.strip():
            raise t.fail(f"trusted_authserv_ids[{i}]", "must not be empty")
        if any(c.isspace() or c in ';()"' for c in value.strip()):
            raise t.fail(f"trusted_authserv_ids[{i}]",
                         f"{value!r} is not an authserv-id: write only the first word of your server's "
                         "Authentication-Results header, e.g. \"mx.hcm-edu.example\"")
    return tuple(dict.fromkeys(v.strip().lower() for v in ids))


# The From of the files written to state/outbox/ when SMTP is off and no
# from_address is set: nothing is sent, so no real address is needed.
DEFAULT_FILE_FROM = "hoso-bot@localhost"
SMTP_KEYS = ("enabled", "host", "port", "security", "username", "auth", "password_env", "password_file",
             "token_command", "token_file", "from_address", "from_name", "daily_cap", "per_minute",
             "sender_receipts_per_day", "verp", "tls_cafile",
             "tls_insecure_skip_verify", "allow_reserved_domains")


def _smtp(t: Table, base: Path) -> SmtpConfig:
    enabled = t.get("enabled", bool, t.has("host"))
    if not enabled:
        # Mail is written to state/outbox/ as files: it still needs a From.
        from_address = t.get("from_address", str, DEFAULT_FILE_FROM,
                             check=lambda v: None if "@" in v else "must be an email address")
        from_name = t.get("from_name", str, "")
        t.accept_rest(SMTP_KEYS)  # values are checked once it is enabled; a misspelt key is an error now
        return SmtpConfig(enabled=False, from_address=from_address, from_name=from_name)
    host = t.get("host", str)
    security = t.choice("security", SECURITY, "starttls")
    _loopback_only_if_plain(t, host, security)
    username = t.get("username", str, "")
    auth = t.choice("auth", ("password", "xoauth2"), "password")
    if auth == "xoauth2" and not username:
        raise t.fail("auth", "xoauth2 needs smtp.username (the mailbox the token was issued for)")
    cafile, insecure = _tls(t, base)
    daily_cap = t.get("daily_cap", int, 500, check=lambda v: None if v > 0 else "must be > 0")
    cfg = SmtpConfig(
        enabled=True, host=host,
        port=t.get("port", int, 465 if security == "ssl" else 587, check=_port),
        security=security, username=username, auth=auth,
        secret=_secret(t, base, auth) if username else None,
        from_address=t.get("from_address", str, check=lambda v: None if "@" in v else "must be an email address"),
        from_name=t.get("from_name", str, ""),
        daily_cap=daily_cap,
        per_minute=t.get("per_minute", int, 20, check=lambda v: None if v > 0 else "must be > 0"),
        sender_receipts_per_day=t.get("sender_receipts_per_day", int, 20, check=lambda v: None if 0 <= v <= daily_cap
                                      else f"must be between 0 and daily_cap ({daily_cap})"),
        verp=t.get("verp", bool, False),
        tls_cafile=cafile, tls_insecure_skip_verify=insecure,
        allow_reserved_domains=t.get("allow_reserved_domains", bool, False),
    )
    t.done()
    return cfg


def _schedule(t: Table) -> Schedule:
    name = t.get("timezone", str, "Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise t.fail("timezone", f"unknown time zone {name!r}") from exc
    digest = t.get("digest_at", str, "07:00", check=lambda v: None if parse_hhmm(v) else "use HH:MM, e.g. \"07:00\"")
    s = Schedule(timezone=tz,
                 poll_every_minutes=t.get("poll_every_minutes", int, 5, check=lambda v: None if 1 <= v <= 1440 else "must be 1..1440"),
                 digest_at=parse_hhmm(digest))
    t.done()
    return s


def _secret(t: Table, base: Path, auth: str) -> Secret:
    """Exactly one source of the secret; its value is read later, when needed."""
    names = ("password_env", "password_file") if auth == "password" else ("token_command", "token_file")
    given = [n for n in names if t.has(n)]
    forbidden = "password" if t.has("password") else ("token" if t.has("token") else None)
    if forbidden:
        raise t.fail(forbidden, f"never put the secret itself in config.toml; use {' or '.join(names)}")
    if not given:
        for name in names:  # a misspelt key is the likelier mistake than a forgotten one
            typo = t.misspelling_of(name)
            if typo:
                raise t.fail(typo, f"unknown key; did you mean {t.key(name)!r}?")
    if len(given) != 1:
        raise t.fail(names[0], f"set exactly one of {', '.join(names)}")
    name = given[0]
    value = t.get(name, str)
    key = t.key(name)
    if name == "password_env":
        return Secret(env=value, key=key)
    if name == "token_command":
        return Secret(command=value, key=key)
    return Secret(file=_path(base, value), key=key)


def _tls(t: Table, base: Path) -> tuple[Path | None, bool]:
    cafile = t.get("tls_cafile", str, None)
    insecure = t.get("tls_insecure_skip_verify", bool, False)
    return (_path(base, cafile) if cafile else None), insecure


def _loopback_only_if_plain(t: Table, host: str, security: str) -> None:
    # A password in clear text is only acceptable when it never leaves the machine.
    if security == "none" and not _is_loopback(host):
        raise t.fail("security", f"'none' (no TLS) is only allowed for a loopback host, not {host!r}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(v: int) -> str | None:
    return None if 1 <= v <= 65535 else "must be 1..65535"


def _path(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


# -- sample data ----------------------------------------------------------

# Names that can never be a real mail domain (RFC 2606, RFC 6761): the
# bundled sample roster, coordinator and inbox use them.
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def is_reserved_domain(address: str) -> bool:
    """Whether the domain of ``address`` (or a bare domain) is reserved for
    examples and tests, so mail to it can only be sample data."""
    domain = address.rsplit("@", 1)[-1].strip().strip(".").lower()
    return (domain.rsplit(".", 1)[-1] in RESERVED_TLDS
            or any(domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS))


@dataclass(frozen=True)
class SampleData:
    """Addresses of a config and roster that are sample data (reserved domains)."""

    roster: tuple[str, ...]  # addresses in rules/schools.csv
    coordinator: tuple[str, ...]  # [coordinator] emails

    def __bool__(self) -> bool:
        return bool(self.roster or self.coordinator)

    def problems(self, config: Config) -> list[str]:
        """One sentence per file to replace, naming it."""
        out = []
        if self.roster:
            out.append(f"the roster {config.paths.rules / 'schools.csv'} has {len(self.roster)} address(es) in "
                       f"reserved example domains (e.g. {self.roster[0]}): it is the bundled sample; replace it "
                       "with the office's list of schools")
        if self.coordinator:
            out.append(f"[coordinator] emails in {config.source_file} is sample data ({', '.join(self.coordinator)}): "
                       "put the coordinator's real address")
        return out


def sample_data(config: Config, roster_emails) -> SampleData:
    """The reserved-domain addresses among the roster's and the coordinator's."""
    return SampleData(roster=tuple(e for e in roster_emails if is_reserved_domain(e)),
                      coordinator=tuple(e for e in config.coordinator_emails if is_reserved_domain(e)))


def _owner_text(path: Path) -> str:
    """ "it is owned by root:root with mode -rw------- " (or why that is unknown)."""
    try:
        st = path.stat()
    except OSError:
        return "its owner cannot be read"
    return f"it is owned by {_name_of(st.st_uid, 'user')}:{_name_of(st.st_gid, 'group')} with mode {stat.filemode(st.st_mode)}"


def _name_of(ident: int, kind: str) -> str:
    try:
        return pwd.getpwuid(ident).pw_name if kind == "user" else grp.getgrgid(ident).gr_name
    except KeyError:
        return str(ident)


def _user_name() -> str:
    return _name_of(os.geteuid(), "user")
