"""Commands that do little start at once: they import only what they use.

``status``, ``health``, ``check-config`` and a ``poll`` that finds no new
mail are run by cron, monitoring probes and the coordinator's shell, many
times a day: each pays Python's start-up and its imports. The libraries of
the file readers (PDF, DOCX, images, signatures), the XLSX writer, the
templates, the scheduler, the mail parser, the classifier and the worker
pool load only when a file, a mail, a report or the worker needs them. Each
command runs in a fresh interpreter (as the user runs it) and reports the
modules it loaded.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from bot import arguments
from tests import mailfactory as mf
from tests.configs import SMTP_OFF, imap_mailbox, write_config
from tests.docfactory import OfficialDoc, official_pdf

# What no idle command needs: reading files, checking signatures, writing XLSX, scheduling.
FILE_READERS = {"PIL", "pypdfium2", "pdfplumber", "pdfminer", "docx", "openpyxl", "apscheduler", "pyhanko",
                "bot.extract.pdf", "bot.extract.office", "bot.extract.images"}
# What a command that neither polls nor renders needs neither: parsing and classifying mail, the worker
# pool, the templates.
POLLING = {"mailparser", "multiprocessing", "jinja2", "bot.pipeline", "bot.classify", "bot.parse",
           "bot.extract.pool", "bot.mailbox"}
# What no idle command needs either: judging an official copy (a stored Evidence is read without its
# checkers), sending mail (SMTP, TLS: a quiet poll has nothing to send), the backup's tarfile, the
# templates' renderer and planner.
CHECKERS = {"bot.official.verdict", "bot.official.minutes", "bot.official.numbering", "bot.official.signblock",
            "bot.official.seal", "bot.vietnamese"}
SENDING = {"smtplib", "ssl", "bot.send", "bot.outbound.render", "tarfile", "bot.backup"}
# What only the pipeline makes (fetched, parsed, extracted, classified mail), the store's records that only
# other commands read, the modules of a mail to deliver, the worker and the doctor's network checks: each
# frozen dataclass costs about a millisecond to define, so a light command defines only those it uses.
RECORDS = {"bot.mail_model", "bot.store.outbox_records", "bot.store.processing_records", "bot.store.items_records",
           "bot.store.messages_records", "bot.store.commands_records", "bot.store.bounces_records",
           "bot.store.threads_records", "bot.bounces"}
DELIVERY = {"bot.outbound.compose", "bot.outbound.delivery", "bot.outbound.facts", "bot.outbound.outbox"}
WORKER = {"bot.service", "bot.doctor"}
# The records a light command uses are bot.record's (@frozen, @mutable): neither dataclasses nor the inspect
# it loads (with ast, dis, tokenize: 28 M instructions) come with them, nor imapclient with a quiet poll.
DATACLASS_MACHINERY = {"dataclasses", "inspect", "ast", "dis"}

RUN = """
import json, sys
from bot import cli
code = cli.main(sys.argv[1:])
print("MODULES " + json.dumps(sorted(sys.modules)))
import dataclasses
made = sorted((f"{m.__name__}.{v.__name__}", v.__init__.__module__ != "bot.record")
              for m in list(sys.modules.values()) if m.__name__.startswith("bot")
              for v in vars(m).values() if isinstance(v, type) and dataclasses.is_dataclass(v)
              and v.__module__ == m.__name__)
print("DATACLASSES " + json.dumps([name for name, _ in made]))
print("COMPILED " + json.dumps([name for name, compiled in made if compiled]))
"""


def run_command(config, command: str, now: str = "2023-10-20T08:00", env: dict | None = None) -> dict[str, list]:
    """What one run of ``command`` in a fresh interpreter loaded: ``MODULES`` (every module, listed
    before the check imports dataclasses), ``DATACLASSES`` (the bot's dataclasses defined) and ``COMPILED``
    (those of them defined by ``dataclasses.dataclass``, which compiles their methods, not by ``bot.record``)."""
    done = subprocess.run([sys.executable, "-c", RUN, "--config", str(config), "--now", now, command],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    found = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in ("MODULES", "DATACLASSES", "COMPILED"):
            found[key] = json.loads(value)
    return found


def loaded_modules(config, command: str, now: str = "2023-10-20T08:00", env: dict | None = None) -> set[str]:
    return set(run_command(config, command, now, env)["MODULES"])


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("idle")
    inbox = tmp / "inbox"
    inbox.mkdir()
    cfg = write_config(tmp, f'source = "folder"\npath = "{inbox}"', SMTP_OFF)
    return cfg


@pytest.mark.parametrize("command", ["status", "health", "check-config"])
def test_light_commands_load_no_reader_no_parser_no_pool_no_templates(config, command):
    unwanted = (FILE_READERS | POLLING | SENDING) & loaded_modules(config, command)
    assert not unwanted, sorted(unwanted)


@pytest.mark.parametrize("command", ["status", "health", "check-config"])
def test_light_commands_load_no_official_copy_checker_and_no_mime(config, command):
    unwanted = (CHECKERS | {"email.parser", "email.policy", "bot.outlookmsg"}) & loaded_modules(config, command)
    assert not unwanted, sorted(unwanted)


@pytest.mark.parametrize("command", ["status", "health", "check-config"])
def test_light_commands_define_no_record_they_do_not_use_and_load_no_worker(config, command):
    """Neither the pipeline's records (``bot.mail_model``), nor the store's records that other commands
    read, nor the outgoing mail's delivery modules, nor the worker (``bot.service``: ``health`` lives in
    ``bot.health``) or the doctor's network checks (``check_state_dir`` lives in ``bot.statedir``)."""
    allowed = {"bot.outbound.facts"} if command == "health" else set()  # the bursts it warns of (sender_bursts)
    unwanted = ((RECORDS | DELIVERY | WORKER | {"bot.notify"}) - allowed) & loaded_modules(config, command)
    assert not unwanted, sorted(unwanted)


# The bot's dataclasses each command defines (issue 15: status 35, health 33, a quiet poll 33, check-config
# 24; before, 64-78); one or two more may come with new features, but a module of records that creeps back
# into a light command (8 to 20 of them) fails here. Each must be a bot.record one (COMPILED empty):
# dataclasses.dataclass would compile five or six methods for each at import (about 4 M instructions) and
# load inspect (28 M).
DATACLASS_BUDGET = {"status": 37, "health": 35, "check-config": 26, "poll": 35}


@pytest.mark.parametrize("command", ["status", "health", "check-config"])
def test_light_commands_define_few_dataclasses_and_compile_none(config, command):
    found = run_command(config, command)
    assert len(found["DATACLASSES"]) <= DATACLASS_BUDGET[command], found["DATACLASSES"]
    assert found["COMPILED"] == []
    unwanted = DATACLASS_MACHINERY & set(found["MODULES"])
    assert not unwanted, sorted(unwanted)


def test_health_of_a_quiet_outbox_loads_no_delivery_rules(config):
    """The daily cap (``outbound.delivery.Limits``) is asked only when queued mail is overdue."""
    assert "bot.outbound.delivery" not in loaded_modules(config, "health")


def test_check_config_opens_no_state_and_loads_no_ocr_reader(config):
    """It validates the config and rules and asks tesseract whether it runs (bot.extract.tesseract):
    neither the state (SQLite, the store's records), the status, nor the OCR reader (ctypes)."""
    loaded = loaded_modules(config, "check-config")
    assert "bot.extract.tesseract" in loaded
    unwanted = {"sqlite3", "bot.store", "bot.status", "bot.model", "bot.extract.ocr", "ctypes"} & loaded
    assert not unwanted, sorted(unwanted)


def test_a_poll_without_new_mail_loads_no_reader_no_parser_no_pool_no_templates(tmp_path):
    """The state holds a counted submission whose receipt went out; the next
    poll finds nothing new: it opens the mailbox and the state, and loads
    nothing of the processing (pipeline, parser, classifier, readers, pool)
    nor the templates."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    pdf = official_pdf([OfficialDoc(issuer="TRƯỜNG THCS NGUYỄN HIỀN")])
    (inbox / "submission.eml").write_bytes(mf.gmail(sender="thcsnguyenhien.q12@hcm-edu.example",
                                                    files=[mf.File("Tờ trình đề nghị công nhận.pdf", pdf)]))
    cfg = write_config(tmp_path, f'source = "folder"\npath = "{inbox}"', SMTP_OFF)
    first = loaded_modules(cfg, "poll", "2023-10-05T10:00")  # the mail came at 09:32: its receipt is due
    assert {"bot.pipeline", "bot.classify", "bot.extract.pool", "jinja2"} <= first  # as the quiet poll must not
    assert list((tmp_path / "state" / "outbox").glob("*-receipt-thcs-nguyen-hien.eml"))

    quiet = loaded_modules(cfg, "poll", "2023-10-05T11:00")
    unwanted = (FILE_READERS | POLLING - {"bot.mailbox"} | CHECKERS | SENDING | {"bot.outlookmsg"}) & quiet
    assert not unwanted, sorted(unwanted)
    # nothing is due (the receipt went out): no delivery pass, no worker, no store record to make
    unwanted = (DELIVERY | WORKER | RECORDS - {"bot.mail_model"}) & quiet  # the folder's known file is read
    assert not unwanted, sorted(unwanted)


def test_an_empty_folder_is_polled_without_the_mime_parser(config):
    """Nothing in the folder: no header to read, nothing to send (the first poll of a state
    plans the receipts once; the next ones know nothing changed)."""
    loaded_modules(config, "poll")
    second = run_command(config, "poll")
    unwanted = (FILE_READERS | CHECKERS | SENDING | {"email.parser", "email.policy", "bot.outlookmsg"}
                | RECORDS | DELIVERY | WORKER | DATACLASS_MACHINERY) & set(second["MODULES"])
    assert not unwanted, sorted(unwanted)
    assert len(second["DATACLASSES"]) <= DATACLASS_BUDGET["poll"], second["DATACLASSES"]
    assert second["COMPILED"] == []


@pytest.mark.imap
@pytest.mark.slow
def test_a_poll_of_an_imap_mailbox_without_new_mail_loads_no_reader_no_parser_no_pool(tmp_path, dovecot):
    pdf = official_pdf([OfficialDoc(issuer="TRƯỜNG THCS NGUYỄN HIỀN")])
    dovecot.append("INBOX", mf.gmail(sender="thcsnguyenhien.q12@hcm-edu.example",
                                     files=[mf.File("Tờ trình đề nghị công nhận.pdf", pdf)]),
                   datetime.fromisoformat("2023-10-05T09:32:00+07:00"))
    cfg = write_config(tmp_path, imap_mailbox(dovecot), SMTP_OFF)
    env = {**os.environ, "BOT_IMAP_PASSWORD": dovecot.password}
    assert {"bot.pipeline", "imapclient"} <= loaded_modules(cfg, "poll", "2023-10-05T10:00", env)
    # nothing new: the folder's UIDNEXT is asked with the standard library's imaplib (bot.mailbox.imap.
    # examine_imap): imapclient, which reads its package metadata when it loads, is not even imported
    unwanted = (FILE_READERS | POLLING - {"bot.mailbox"} | CHECKERS | {"smtplib", "bot.send", "bot.outbound.render"}
                | {"imapclient", "importlib.metadata", "email.parser"} | DATACLASS_MACHINERY) \
        & loaded_modules(cfg, "poll", "2023-10-05T11:00", env)
    assert not unwanted, sorted(unwanted)


# --- the command line builds the parser of the command it runs only ----------------------------------

@pytest.mark.parametrize("argv, command", [
    (["--config", "c.toml", "status"], "status"),
    (["--config=c.toml", "--now", "2023-10-12T08:00", "poll"], "poll"),
    (["-v", "--con", "status", "health"], "health"),          # an abbreviation's value is not the command
    (["--verb", "--n=2023-10-12", "check-config", "--connect"], "check-config"),
    (["--help"], None), (["-vh", "status"], None), (["--h", "status"], None),  # help: every command
    (["--config", "c.toml", "stat"], None),                  # argparse names the choices
    (["--config", "c.toml"], None), ([], None),
])
def test_the_command_is_told_from_the_arguments_when_it_can_be(argv, command):
    assert arguments.command_in(argv) == command


def test_every_command_is_known_and_parses_alone_as_with_all_the_others():
    """``COMMANDS`` lists what ``build_parser`` adds, and a command's arguments parse the same
    whether the parser holds only it (what ``main`` builds) or every command."""
    full = arguments.build_parser()
    commands = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(commands.choices) == arguments.COMMANDS
    samples = {"status": ["--json", "--cycle", "2023"], "assign": ["R17", "--official", "--why", "seal seen"],
               "received": ["thcs-x", "bien_ban", "--at", "2023-10-09T10:00", "--why", "paper"],
               "extend": ["thcs-x", "2023-10-20", "--why", "asked"], "backup": ["/tmp/b.tar.gz"],
               "reject": ["R17", "--why", "not ours"], "exempt": ["thcs-x", "--why", "closed"],
               "unexempt": ["thcs-x", "--why", "open"], "dismiss": ["Q12", "--why", "phoned"],
               "eval": ["--corpus", "/tmp/c"], "check-config": ["--connect"], "outbox": ["--retry", "--all"]}
    for command in arguments.COMMANDS:
        argv = ["--config", "c.toml", "-v", command, *samples.get(command, [])]
        assert arguments.build_parser(only=command).parse_args(argv) == full.parse_args(argv), command


def test_a_command_left_out_cannot_be_run(capsys):
    with pytest.raises(SystemExit):
        arguments.build_parser(only="status").parse_args(["--config", "c.toml", "health"])
    assert "invalid choice: 'health'" in capsys.readouterr().err
