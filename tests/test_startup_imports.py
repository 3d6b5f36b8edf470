"""Commands that do little start at once: they import only what they use.

``status``, ``health``, ``check-config`` and a ``poll`` that finds no new
mail are run by cron, monitoring probes and the coordinator's shell, many
times a day: each pays Python's start-up and its imports. The libraries of
the file readers (PDF, DOCX, images), the XLSX writer, the scheduler, the
mail parser and the worker pool load only when a file, a report or the
worker needs them. Each command runs in a fresh interpreter (as the user
runs it) and reports the modules it loaded.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.configs import SMTP_OFF, write_config

# What no idle command needs: reading files, writing XLSX, scheduling.
FILE_READERS = {"PIL", "pypdfium2", "pdfplumber", "pdfminer", "docx", "openpyxl", "apscheduler",
                "bot.extract.pdf", "bot.extract.office", "bot.extract.images"}
# What a command that neither polls nor renders needs neither: parsing and classifying mail, the worker
# pool, the templates.
POLLING = {"mailparser", "multiprocessing", "jinja2", "bot.pipeline", "bot.classify", "bot.parse",
           "bot.extract.pool", "bot.mailbox"}

RUN = """
import json, sys
from bot import cli
code = cli.main(sys.argv[1:])
print("MODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_modules(config, command: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", RUN, "--config", str(config), "--now", "2023-10-20T08:00",
                           command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))
    return set(json.loads(line[len("MODULES "):]))


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("idle")
    inbox = tmp / "inbox"
    inbox.mkdir()
    cfg = write_config(tmp, f'source = "folder"\npath = "{inbox}"', SMTP_OFF)
    return cfg


@pytest.mark.parametrize("command, also_allowed", [
    ("status", set()),
    ("health", set()),
    ("check-config", {"jinja2"}),  # it loads the templates to check them
])
def test_light_commands_load_no_reader_no_parser_no_pool(config, command, also_allowed):
    loaded = loaded_modules(config, command)
    assert not (FILE_READERS | POLLING - also_allowed) & loaded


def test_a_poll_without_new_mail_loads_no_file_reader(config):
    loaded = loaded_modules(config, "poll")
    assert not FILE_READERS & loaded
