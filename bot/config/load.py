"""config.toml read and validated into ``Config``: any problem is a
ConfigError naming the key. Relative paths are resolved against the
directory of config.toml, so the bot behaves the same whatever directory it
is started from."""
from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from ..official.signature import load_trust_roots
from ..validate import Table, parse_hhmm
from .model import Config, ExtractionConfig, MailboxConfig, OfficialConfig, Paths, Schedule, SmtpConfig
from .secret import Secret

SECURITY = ("ssl", "starttls", "none")


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
        fetch_batch_mb=t.get("fetch_batch_mb", int, 64,
                             check=lambda v: None if 1 <= v <= 4096 else "must be 1..4096 (megabytes)"),
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
             "sender_receipts_per_day", "first_retry_seconds", "verp", "tls_cafile",
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
        first_retry_seconds=t.get("first_retry_seconds", int, 60,
                                  check=lambda v: None if 1 <= v <= 3600 else "must be 1..3600 (seconds)"),
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
