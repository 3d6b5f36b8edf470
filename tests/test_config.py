"""config.toml validation: every mistake is an error naming the key."""
from __future__ import annotations

import os
import re
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app
from bot.config.load import load_config, parse_config
from bot.errors import ConfigError
from bot.extract import Extractor

from .configs import write_config

ROOT = Path(__file__).resolve().parents[1]

IMAP = """
[mailbox]
source = "imap"
host = "imap.example.org"
username = "office"
password_env = "TEST_IMAP_PASSWORD"
trusted_authserv_ids = ["mx.example.org"]
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
    (('host = "imap.example.org"', 'host = "imap.example.org"\nfetch_batch_mb = 0'),
     "mailbox.fetch_batch_mb: must be 1..4096"),
    (('host = "imap.example.org"', 'host = "imap.example.org"\nmax_message_mb = "60 MB"'),
     "mailbox.max_message_mb: expected an integer"),
    (('trusted_authserv_ids = ["mx.example.org"]', 'trusted_authserv_ids = "mx.example.org"'),
     "mailbox.trusted_authserv_ids: expected a list"),
    (('trusted_authserv_ids = ["mx.example.org"]', 'trusted_authserv_ids = ["mx.example.org", 1]'),
     r"mailbox.trusted_authserv_ids\[1\]: expected a string"),
    (('trusted_authserv_ids = ["mx.example.org"]', 'trusted_authserv_ids = ["  "]'),
     r"mailbox.trusted_authserv_ids\[0\]: must not be empty"),
    (('trusted_authserv_ids = ["mx.example.org"]', 'trusted_authserv_ids = ["mx.example.org; spf=pass"]'),
     r"mailbox.trusted_authserv_ids\[0\]: .* is not an authserv-id"),
    (('trusted_authserv_ids = ["mx.example.org"]', 'trusted_authserv_id = ["mx.example.org"]'),
     "mailbox.trusted_authserv_id: unknown key"),
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


def test_disabled_smtp_section_may_be_half_filled_but_not_misspelt():
    cfg = parse(IMAP + '\n[smtp]\nenabled = false\nhost = "x"\nfrom_address = "bot@example.org"\n')
    assert not cfg.smtp.enabled and cfg.smtp.from_address == "bot@example.org"
    with pytest.raises(ConfigError, match=r"smtp\.hots: unknown key"):
        parse(IMAP + '\n[smtp]\nenabled = false\nhots = "x"\n')


def test_without_smtp_the_outbox_files_still_get_a_sender(tmp_path):
    # No [smtp] at all is the documented way to keep mail on disk: a poll must not fail for want of a From.
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "1.eml").write_bytes((ROOT / "examples" / "inbox" / "0001.eml").read_bytes())
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"', smtp="")  # no [smtp] at all
    ctx = app.load(cfg)
    assert not ctx.config.smtp.enabled and ctx.config.smtp.from_address == "hoso-bot@localhost"
    report = app.poll(ctx, datetime(2023, 10, 16, 8, tzinfo=timezone(timedelta(hours=7))),
                      extractor=Extractor(workers=0), sender=None)
    assert report.processed == 1


def test_message_size_limit_defaults_to_60_mb_for_both_sources():
    assert parse(IMAP).mailbox.max_message_mb == 60
    folder = parse(IMAP.replace('source = "imap"', 'source = "folder"\npath = "inbox"\nmax_message_mb = 25'))
    assert folder.mailbox.max_message_bytes == 25 * 1024 * 1024


@pytest.mark.parametrize("source, line, expected", [
    ("imap", 'trusted_authserv_ids = ["MX.Example.org", "mx2.example.org", "mx.example.org"]',
     ("mx.example.org", "mx2.example.org")),
    ("folder", 'trusted_authserv_ids = [" mx.hcm-edu.example "]', ("mx.hcm-edu.example",)),
    ("folder", "trusted_authserv_ids = []", ()),
    ("imap", "", ()),
])
def test_trusted_authserv_ids_are_read_for_both_sources(source, line, expected):
    text = IMAP.replace('trusted_authserv_ids = ["mx.example.org"]', line)
    if source == "folder":
        text = text.replace('source = "imap"', 'source = "folder"\npath = "inbox"')
    assert parse(text).mailbox.trusted_authserv_ids == expected


@pytest.mark.parametrize("extra, warned", [
    ('trusted_authserv_ids = ["mx.example.org"]', None),
    ("trusted_authserv_ids = []", "every command mail from the coordinator is refused"),
    ("", "every command mail from the coordinator is refused"),
])
def test_no_trusted_authserv_id_is_a_warning(extra, warned):
    cfg = parse(IMAP.replace('trusted_authserv_ids = ["mx.example.org"]', extra))
    found = [w for w in cfg.warnings() if w.startswith("mailbox.trusted_authserv_ids is empty")]
    if warned is None:
        assert cfg.warnings() == []
    else:
        (warning,) = found
        assert warned in warning and "first word of the Authentication-Results header" in warning


def test_no_trusted_authserv_id_with_unauthenticated_commands_is_louder():
    cfg = parse(IMAP.replace('trusted_authserv_ids = ["mx.example.org"]', "")
                + "allow_unauthenticated_commands = true\n")
    (warning,) = [w for w in cfg.warnings() if w.startswith("mailbox.trusted_authserv_ids is empty")]
    assert "EVERY command mail that claims a coordinator address is obeyed" in warning


def test_check_config_prints_the_warning(tmp_path, capsys):
    from bot import cli

    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert 'trusted_authserv_ids = ["mail.tphcm-gov.example"]' in text
    cfg = tmp_path / "config.toml"
    cfg.write_text(text.replace('trusted_authserv_ids = ["mail.tphcm-gov.example"]', "")
                   .replace('path = "examples/inbox"', f'path = "{ROOT / "examples" / "inbox"}"')
                   .replace('rules = "rules"', f'rules = "{ROOT / "rules"}"')
                   .replace('templates = "templates"', f'templates = "{ROOT / "templates"}"'), encoding="utf-8")
    assert cli.main(["--config", str(cfg), "--now", "2023-10-16T08:00", "check-config"]) == 0
    err = capsys.readouterr().err
    assert "warning: mailbox.trusted_authserv_ids is empty" in err


@pytest.mark.parametrize("source, message", [
    ('token_command = "sh -c \'echo refresh token expired >&2; exit 3\'"',
     r"token command exited with status 3: refresh token expired"),
    ('token_command = "true"', r"the token command printed nothing"),
    ('token_file = "{empty}"', r"is empty"),
])
def test_a_token_that_cannot_be_had_says_why(tmp_path, source, message):
    (tmp_path / "empty").write_text("\n")
    cfg = parse(IMAP.replace('password_env = "TEST_IMAP_PASSWORD"', 'auth = "xoauth2"\n'
                             + source.format(empty=tmp_path / "empty")))
    with pytest.raises(ConfigError, match=message):
        cfg.mailbox.secret.read({})


def test_check_config_finds_a_missing_mail_folder_before_the_first_poll(tmp_path, capsys):
    from bot import cli

    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "nope"}"')
    assert cli.main(["--config", str(cfg), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"mailbox.path: {tmp_path / 'nope'} is not a directory" in err
    (tmp_path / "nope").mkdir()
    assert cli.main(["--config", str(cfg), "check-config"]) == 0


# -- first-day mistakes: each named, with the fix -------------------------------


@pytest.mark.parametrize("typo, first_line", [
    ('pasword_env = "TEST_IMAP_PASSWORD"', "mailbox.pasword_env: unknown key; did you mean 'mailbox.password_env'?"),
    ('password_env = "TEST_IMAP_PASSWORD"\nfoldr = "INBOX"',
     "mailbox.foldr: unknown key; did you mean 'mailbox.folder'?"),
    ('password_env = "TEST_IMAP_PASSWORD"\ntrusted_authserv_id = []',
     "mailbox.trusted_authserv_id: unknown key; did you mean 'mailbox.trusted_authserv_ids'?"),
    ('password_env = "TEST_IMAP_PASSWORD"\nzzz = 1', "mailbox.zzz: unknown key"),  # nothing close: no guess
])
def test_a_misspelt_key_is_named_with_the_key_it_probably_meant(typo, first_line):
    with pytest.raises(ConfigError) as caught:
        parse(IMAP.replace('password_env = "TEST_IMAP_PASSWORD"', typo))
    assert str(caught.value).splitlines()[0] == first_line


def test_a_misspelt_key_of_a_disabled_smtp_section_gets_a_suggestion_too():
    with pytest.raises(ConfigError, match=r"smtp\.pasword_env: unknown key; did you mean 'smtp\.password_env'\?"):
        parse(IMAP + '\n[smtp]\nenabled = false\npasword_env = "X"\n')


def test_a_secret_from_an_env_file_with_windows_line_ends_says_so():
    cfg = parse(IMAP)
    with pytest.raises(ConfigError) as caught:
        cfg.mailbox.secret.read({"TEST_IMAP_PASSWORD": "s3cret\r"})
    text = str(caught.value)
    assert "TEST_IMAP_PASSWORD ends with a carriage return (\\r)" in text and "Windows (CRLF) line ends" in text
    assert "sed -i 's/\\r$//' /etc/hoso-bot/hoso-bot.env" in text
    assert "s3cret" not in text  # never the secret itself


def test_an_unreadable_password_file_names_its_owner_and_the_command_that_fixes_it(tmp_path):
    import pwd

    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="hoso-config-"))  # not pytest's 0700 tmp_path: nobody must reach it
    base.chmod(0o755)
    secret = base / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)  # as `install -m 0600` by root leaves it
    cfg = parse_config(tomllib.loads(IMAP.replace('password_env = "TEST_IMAP_PASSWORD"', 'password_file = "pw"')),
                       base)
    err = _read_as_nobody(lambda: cfg.mailbox.secret.read()) if os.geteuid() == 0 else None
    if err is None:
        pytest.skip("needs root, to read the file as another user")
    nobody = pwd.getpwnam("nobody").pw_name
    shutil.rmtree(base)
    assert f"mailbox.password_file: cannot read {secret} (Permission denied): it is owned by root:root with mode " \
           f"-rw-------, and the bot runs as {nobody}" in err
    assert f"hint: chown {nobody} {secret} && chmod 600 {secret}" in err


def _read_as_nobody(read) -> str:
    """``read()`` in a forked child running as nobody; returns its error text."""
    import pwd

    user = pwd.getpwnam("nobody")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            try:
                read()
                os.write(w, b"read it")
            except ConfigError as exc:
                os.write(w, str(exc).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return text


@pytest.mark.parametrize("address, reserved", [
    ("mnsonca6.q12@hcm-edu.example", True),
    ("nthmai.q12@tphcm-gov.example", True),
    ("a@b.test", True), ("a@x.invalid", True), ("root@localhost", True), ("a@mail.localhost", True),
    ("a@example.com", True), ("a@mail.example.org", True), ("a@EXAMPLE.NET", True),
    ("c2nguyenhien.q12@hcm.edu.vn", False), ("a@example.com.vn", False), ("a@myexample.com", False),
    ("a@testing.vn", False), ("a@gmail.com", False),
])
def test_reserved_example_domains_are_recognised(address, reserved):
    from bot.config.sample import is_reserved_domain

    assert is_reserved_domain(address) is reserved


SMTP_ON = ('[smtp]\nenabled = true\nhost = "127.0.0.1"\nport = 2525\nsecurity = "none"\n'
           'from_address = "hoso@pgd-q12.vn"')


@pytest.mark.parametrize("line, expected", [
    ("", 60),                                   # by default a failed mail is tried again a minute later
    ("first_retry_seconds = 10", 10),
    ("first_retry_seconds = 3600", 3600),
    ("first_retry_seconds = 0", "smtp.first_retry_seconds: must be 1..3600 (seconds)"),
    ("first_retry_seconds = 3601", "smtp.first_retry_seconds: must be 1..3600 (seconds)"),
    ('first_retry_seconds = "1 min"', "smtp.first_retry_seconds: expected an integer"),
    ("first_retry_second = 10", "smtp.first_retry_second: unknown key"),
])
def test_the_first_retry_of_a_failed_mail_is_configurable_and_checked(line, expected):
    text = IMAP + "\n" + SMTP_ON + "\n" + line
    if isinstance(expected, str):
        with pytest.raises(ConfigError, match=re.escape(expected)):
            parse(text)
    else:
        assert parse(text).smtp.first_retry_seconds == expected


def _cli(*argv):
    import contextlib
    import io

    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", [["poll"], ["run"], ["remind"], ["digest"], ["outbox", "--retry"],
                                     ["check-config"]])
def test_with_smtp_on_the_bot_refuses_to_send_to_the_sample_roster_and_coordinator(tmp_path, command):
    (tmp_path / "inbox").mkdir()
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"', smtp=SMTP_ON)
    code, out, err = _cli("--config", cfg, "--now", "2023-10-09T09:00", *command)
    assert code == 2, out + err
    err = err[err.index("error: "):]  # after check-config's warnings
    assert err.startswith("error: refusing to send mail to sample data: the roster "
                          f"{ROOT / 'rules' / 'schools.csv'} has 29 address(es) in reserved example domains "
                          "(e.g. mnsonca6.q12@hcm-edu.example)"), err
    assert f"[coordinator] emails in {cfg} is sample data (nthmai.q12@tphcm-gov.example)" in err
    assert "allow_reserved_domains = true" in err  # the documented way out, for a demo on a local server
    assert not (tmp_path / "state" / "bot.sqlite3").exists() or command == ["outbox", "--retry"]


def test_sample_data_is_fine_while_mail_only_goes_to_files_or_the_opt_in_is_set(tmp_path):
    (tmp_path / "inbox").mkdir()
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"')  # [smtp] off
    code, out, err = _cli("--config", cfg, "--now", "2023-10-09T09:00", "remind")
    assert code == 0, err
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"',
                       smtp=SMTP_ON + "\nallow_reserved_domains = true")
    code, out, err = _cli("--config", cfg, "check-config")
    assert code == 0, err


def test_a_real_roster_and_coordinator_may_receive_mail(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    roster = rules / "schools.csv"
    roster.write_text(roster.read_text(encoding="utf-8").replace("@hcm-edu.example", "@hcm.edu.vn")
                      .replace(".example", ".vn"), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"', smtp=SMTP_ON)
    text = cfg.read_text().replace(str(ROOT / "rules"), str(rules)).replace("@tphcm-gov.example", "@tphcm.gov.vn")
    cfg.write_text(text)
    code, out, err = _cli("--config", cfg, "check-config")
    assert code == 0, err
