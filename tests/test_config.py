"""config.toml validation: every mistake is an error naming the key."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from bot.config import load_config, parse_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

IMAP = """
[mailbox]
source = "imap"
host = "imap.example.org"
username = "office"
password_env = "TEST_IMAP_PASSWORD"
[coordinator]
emails = ["mai@example.org"]
"""


def parse(text: str):
    return parse_config(tomllib.loads(text), Path("/srv/bot"))


def test_shipped_configs_are_valid():
    cfg = load_config(ROOT / "config.toml")
    assert cfg.mailbox.source == "folder"
    assert cfg.mailbox.path == ROOT / "examples" / "inbox"
    assert not cfg.smtp.enabled
    assert cfg.schedule.digest_at.hour == 7
    example = load_config(ROOT / "config.example.toml")
    assert example.mailbox.security == "ssl" and example.mailbox.port == 993
    assert example.smtp.enabled and example.smtp.secret.env == "BOT_SMTP_PASSWORD"


def test_relative_paths_resolve_against_the_config_file():
    cfg = parse(IMAP)
    assert cfg.paths.state == Path("/srv/bot/state")
    assert cfg.paths.rules == Path("/srv/bot/rules")


@pytest.mark.parametrize("change, message", [
    (("[mailbox]", "[mailbox]\nprot = 993"), "mailbox.prot: unknown key"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nport = "993"'), "mailbox.port: expected an integer"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nport = 99999'), "mailbox.port: must be 1..65535"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nsecurity = "tls"'), "mailbox.security: must be one of"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nsecurity = "none"'), "only allowed for a loopback host"),
    (('password_env = "TEST_IMAP_PASSWORD"', 'password = "hunter2"'), "never put the secret itself"),
    (('password_env = "TEST_IMAP_PASSWORD"', ''), "set exactly one of password_env, password_file"),
    (('emails = ["mai@example.org"]', 'emails = []'), "coordinator.emails"),
    (('[coordinator]', '[schedule]\ndigest_at = "7h"\n[coordinator]'), "schedule.digest_at: use HH:MM"),
    (('[coordinator]', '[schedule]\ntimezone = "Asia/Saigon_"\n[coordinator]'), "schedule.timezone: unknown time zone"),
    (('[coordinator]', '[extra]\n[coordinator]'), "extra: unknown key"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nmax_message_mb = 0'),
     "mailbox.max_message_mb: must be 1..2048"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nmax_message_mb = "60 MB"'),
     "mailbox.max_message_mb: expected an integer"),
])
def test_mistakes_name_the_key(change, message):
    old, new = change
    with pytest.raises(ConfigError, match=message):
        parse(IMAP.replace(old, new))


def test_plain_imap_is_allowed_on_loopback():
    cfg = parse(IMAP.replace('host = "imap.example.org"', 'host = "127.0.0.1"\nsecurity = "none"'))
    assert cfg.mailbox.security == "none" and cfg.mailbox.port == 143


def test_missing_secret_is_reported_with_the_variable_name():
    cfg = parse(IMAP)
    with pytest.raises(ConfigError, match="TEST_IMAP_PASSWORD is not set"):
        cfg.mailbox.secret.read({})
    assert cfg.mailbox.secret.read({"TEST_IMAP_PASSWORD": "s3cret"}) == "s3cret"


def test_password_file_readable_by_others_gives_a_warning(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o644)
    cfg = parse_config(tomllib.loads(IMAP.replace('password_env = "TEST_IMAP_PASSWORD"', 'password_file = "pw"')), tmp_path)
    assert cfg.mailbox.secret.read() == "s3cret"
    assert any("readable by other users" in w for w in cfg.warnings())
    os.chmod(secret, 0o600)
    assert cfg.warnings() == []


def test_xoauth2_takes_a_token_command():
    text = IMAP.replace('password_env = "TEST_IMAP_PASSWORD"', 'auth = "xoauth2"\ntoken_command = "echo tok-123"')
    cfg = parse(text)
    assert cfg.mailbox.auth == "xoauth2"
    assert cfg.mailbox.secret.read() == "tok-123"


def test_insecure_tls_is_loud():
    cfg = parse(IMAP.replace('host = "imap.example.org"', 'host = "imap.example.org"\ntls_insecure_skip_verify = true'))
    assert any("NOT verified" in w for w in cfg.warnings())


def test_disabled_smtp_section_may_be_half_filled():
    cfg = parse(IMAP + '\n[smtp]\nenabled = false\nhost = "x"\nfrom_address = "bot@example.org"\n')
    assert not cfg.smtp.enabled and cfg.smtp.from_address == "bot@example.org"


def test_message_size_limit_defaults_to_60_mb_for_both_sources():
    assert parse(IMAP).mailbox.max_message_mb == 60
    folder = parse(IMAP.replace('source = "imap"', 'source = "folder"\npath = "inbox"\nmax_message_mb = 25'))
    assert folder.mailbox.max_message_bytes == 25 * 1024 * 1024
