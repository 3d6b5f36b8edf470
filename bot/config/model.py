"""The settings of config.toml as frozen objects (built by ``bot.config.load``)."""
from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from ..official.signature import TrustRoots
from ..record import frozen
from .secret import Secret


@frozen
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
    # A FETCH asks for at most this many megabytes of whole messages (by their
    # RFC822.SIZE), so a run of large scans never sits in memory at once; a
    # single message over it is fetched on its own.
    fetch_batch_mb: int = 64
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


@frozen
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
    # A mail that could not be sent is tried again this many seconds later, then after twice
    # as long each time, up to an hour (bot/outbound/delivery.py, Limits.backoff).
    first_retry_seconds: int = 60
    # VERP: each mail's envelope sender names it (from_address local+b.<token>@domain), so a
    # delivery report quoting nothing is still tied to it. Off: many submission servers refuse it.
    verp: bool = False
    tls_cafile: Path | None = None
    tls_insecure_skip_verify: bool = False
    # Send even to reserved example domains (RFC 2606/6761: .example, .test,
    # ...): for tests and demos against a local SMTP server only. Off, the bot
    # refuses to send while the roster or coordinator is sample data.
    allow_reserved_domains: bool = False


@frozen
class Paths:
    rules: Path
    templates: Path
    state: Path


@frozen
class Schedule:
    timezone: ZoneInfo
    poll_every_minutes: int
    digest_at: time


@frozen
class ExtractionConfig:
    # "auto": OCR scans when tesseract with Vietnamese data is installed;
    # "off": never OCR (scans go to review), e.g. on a machine too small for it.
    ocr: str = "auto"

    @property
    def ocr_enabled(self) -> bool | None:
        """What ``Extractor(ocr=...)`` takes: None (use it if installed) or False."""
        return None if self.ocr == "auto" else False


@frozen
class OfficialConfig:
    """``[official]``: how copies are checked for being the official paper (issue 16).

    ``trust_roots``: a folder of CA certificates (PEM or DER) a digital
    signature must chain to; None: none configured (a signature is then
    reported "not verified", never guessed). ``roots``: the certificates,
    read once at start.
    """

    trust_roots: Path | None = None
    roots: TrustRoots = TrustRoots()


@frozen
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
