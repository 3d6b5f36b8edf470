"""config.toml files for tests that run the bot as a user would (one place, not one per test file)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SMTP_OFF = '[smtp]\nenabled = false\nfrom_address = "hoso-bot@pgd-q12.example"'


def imap_mailbox(dovecot, **extra) -> str:
    """The [mailbox] keys for a test Dovecot (plain IMAP on loopback, password from the environment)."""
    lines = ['source = "imap"', f'host = "{dovecot.host}"', f"port = {dovecot.port}", 'security = "none"',
             f'username = "{dovecot.user}"', 'password_env = "BOT_IMAP_PASSWORD"']
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines)


def smtp_loopback(smtp) -> str:
    """An [smtp] section for a test SmtpServer (plain, no auth, loopback).

    It opts in to sending to the sample roster's reserved example domains
    (``allow_reserved_domains``): the mail goes to the test server only."""
    return (f'[smtp]\nenabled = true\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            'from_address = "hoso@pgd-q12.example"\nallow_reserved_domains = true')


def write_config(tmp_path: Path, mailbox: str, smtp: str = SMTP_OFF) -> Path:
    """Write tmp_path/config.toml with the shipped rules and templates and state in tmp_path/state."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""[mailbox]
{mailbox}

{smtp}

[coordinator]
emails = ["nthmai.q12@tphcm-gov.example"]

[paths]
rules = "{ROOT / 'rules'}"
templates = "{ROOT / 'templates'}"
state = "{tmp_path / 'state'}"
""", encoding="utf-8")
    return cfg
