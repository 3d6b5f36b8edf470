"""Golden comparison: the bot's user-visible output on fixed inputs, kept in files.

Each scenario runs the command line as a user would (in a temporary state
directory, every command with a fixed ``--now``) on a fixed mailbox: the
bundled example inbox, and a small generated corpus (text only, fixed seed).
What a user sees is collected as text artefacts: the standard output of
each command (``status``, ``status --json``, ``export``, ``remind --dry-run``,
``outbox --all``...), every mail written to ``state/outbox/`` (headers,
text and HTML bodies, XLSX attachments as cell values) and the office
report (DOCX paragraphs and tables, XLSX cells).

Only what is truly volatile is normalised: the random part of the bot's
Message-IDs (and of the VERP addresses made from it), MIME boundaries (the
mail is compared parsed, not as bytes), absolute temporary paths, and the
generation timestamps inside DOCX/XLSX containers (their text is compared,
not their bytes); the HTML previews are kept with LF line ends. The CSV
export is kept byte for byte (its CRLF is part of what Excel reads).
Everything else must match the files in this folder.

Regenerate after an INTENDED change of behaviour, in the same commit::

    python3 -m tests.golden --update

``tests/test_golden.py`` compares; ``python3 -m tests.golden`` (no flag)
compares too and prints the differences.
"""
from __future__ import annotations

import contextlib
import difflib
import email
import io
import json
import os
import re
import shutil
from dataclasses import dataclass
from email import policy
from pathlib import Path
from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent


# -- scenarios ----------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One command line run (``argv`` after ``--config``), its stdout kept as ``name``.

    ``deliver``: before running, copy into the inbox the generated mail
    received up to this instant (ISO 8601), as the mailbox would have it then.
    """

    name: str
    argv: tuple[str, ...] = ()
    deliver: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    make_inbox: Callable[[Path], Path]  # workdir -> the folder of mail it generated or copied
    steps: tuple[Step, ...]


def _example_inbox(workdir: Path) -> Path:
    inbox = workdir / "inbox"
    shutil.copytree(ROOT / "examples" / "inbox", inbox)
    return inbox


CORPUS_SEED = 3
CORPUS_MESSAGES = 60


def _generated_corpus(workdir: Path) -> Path:
    """The labelled generator's mail (text only: no OCR, so it runs in seconds)."""
    from tests.corpus.generate import main as generate

    corpus = workdir / "corpus"
    with contextlib.redirect_stdout(io.StringIO()):
        rc = generate(["--out", str(corpus), "--seed", str(CORPUS_SEED), "--messages", str(CORPUS_MESSAGES),
                       "--no-scans", "--jobs", "1"])
    if rc not in (0, None):
        raise RuntimeError(f"the corpus generator exited with {rc}")
    inbox = workdir / "inbox"
    inbox.mkdir()
    return corpus


def _all_commands(now: str) -> tuple[Step, ...]:
    """What a coordinator looks at, and the mail the bot writes, at ``now``."""
    at = ("--now", now)
    tag = now.replace(":", "")
    return (
        Step(f"{tag}-status.txt", (*at, "status")),
        Step(f"{tag}-status.json", (*at, "status", "--json")),
        Step(f"{tag}-export.json", (*at, "export", "--format", "json")),
        Step(f"{tag}-export.csv", (*at, "export", "--format", "csv")),
        Step(f"{tag}-remind-dry-run.txt", (*at, "remind", "--dry-run")),
        Step(f"{tag}-remind.txt", (*at, "remind")),
        Step(f"{tag}-digest.txt", (*at, "digest")),
        Step(f"{tag}-report.txt", (*at, "report", "--output", "{work}/reports/" + tag)),
        Step(f"{tag}-outbox.txt", (*at, "outbox", "--all")),
    )


SCENARIOS: dict[str, Scenario] = {
    # README command 1: the bundled example inbox on the morning of 16/10/2023
    "example": Scenario("example", _example_inbox, (
        Step("2023-10-16T0800-poll.txt", ("--now", "2023-10-16T08:00", "poll")),
        *_all_commands("2023-10-16T08:00"),
    )),
    # A generated campaign seen twice: a week before the deadline (reminders
    # ahead of it), then after the last mail (late mail, reminders after it).
    f"corpus-s{CORPUS_SEED}-m{CORPUS_MESSAGES}": Scenario(f"corpus-s{CORPUS_SEED}-m{CORPUS_MESSAGES}", _generated_corpus, (
        Step("2023-10-03T0900-poll.txt", ("--now", "2023-10-03T09:00", "poll"), deliver="2023-10-03T09:00:00+07:00"),
        *_all_commands("2023-10-03T09:00"),
        Step("2023-10-30T0800-poll.txt", ("--now", "2023-10-30T08:00", "poll"), deliver="2023-10-30T08:00:00+07:00"),
        *_all_commands("2023-10-30T08:00"),
    )),
}


# -- running ------------------------------------------------------------------

def _write_config(workdir: Path, inbox: Path) -> Path:
    """README command 1's config.toml, with the inbox, rules, templates and state made absolute."""
    values = {"path": inbox, "rules": ROOT / "rules", "templates": ROOT / "templates", "state": workdir / "state"}
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for key, value in values.items():
        text, n = re.subn(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', text)
        if n != 1:
            raise RuntimeError(f"config.toml: expected one '{key} = ...' line, found {n}")
    config = workdir / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _deliver(source: Path, inbox: Path, until: str) -> None:
    """Copy the generated mail received up to ``until`` (and its receipt times) into the inbox."""
    from datetime import datetime

    limit = datetime.fromisoformat(until)
    dates = json.loads((source / "internaldates.json").read_text(encoding="utf-8"))
    arrived = {name: when for name, when in dates.items() if datetime.fromisoformat(when) <= limit}
    for name in arrived:
        if not (inbox / name).exists():
            shutil.copy2(source / name, inbox / name)
    (inbox / "internaldates.json").write_text(json.dumps(arrived, indent=1, sort_keys=True), encoding="utf-8")


def run_scenario(scenario: Scenario, workdir: Path) -> dict[str, str]:
    """Run the scenario's commands in ``workdir``; its artefacts as normalised text by name."""
    from bot.cli import main

    workdir.mkdir(parents=True, exist_ok=True)
    with _one_core():
        return _run(scenario, workdir, main)


@contextlib.contextmanager
def _one_core():
    """Run on one core, so that the extraction pool has one worker.

    The bot numbers items (R17) in the order their messages are recorded, and
    with several workers that is the order in which they finish reading: the
    numbers can differ between two runs on the same mailbox. One worker
    reads in the mailbox's order, so the numbers, which the status, the export
    and the digest show, are the same on every run and machine."""
    if not hasattr(os, "sched_setaffinity"):
        raise RuntimeError("the golden run needs os.sched_setaffinity (Linux) to use one extraction worker")
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def _run(scenario: Scenario, workdir: Path, main) -> dict[str, str]:
    source = scenario.make_inbox(workdir)
    inbox = workdir / "inbox"
    config = _write_config(workdir, inbox)
    out: dict[str, str] = {}
    for step in scenario.steps:
        if step.deliver:
            _deliver(source, inbox, step.deliver)
        argv = [a.replace("{work}", str(workdir)) for a in step.argv]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            rc = main(["--config", str(config), *argv])
        out[step.name] = f"$ hoso-bot {' '.join(step.argv)}\n(exit {rc})\n{buffer.getvalue()}"
    for path in sorted((workdir / "state" / "outbox").glob("*")):
        if path.suffix == ".eml":
            preview = path.with_suffix(".html")
            out[f"outbox/{path.name}.txt"] = _eml_text(path.read_bytes(), _read(preview)
                                                       if preview.exists() else None, preview.name)
        elif path.suffix == ".html":
            out[f"outbox/{path.name}"] = _lf(_read(path))  # the preview's CRLF (as in the mail) says nothing
        else:
            out[f"outbox/{path.name}.txt"] = f"(unexpected file: {path.stat().st_size} bytes)\n"
    for path in sorted((workdir / "reports").rglob("*")):
        if path.is_file():
            out[f"reports/{path.relative_to(workdir / 'reports')}.txt"] = _document_text(path.name, path.read_bytes())
    return _normalise(out, workdir)


# -- normalising --------------------------------------------------------------

# The random part of a Message-ID the bot makes (render.py: 96 bits in hex),
# alone (VERP tokens) or in <token.kind@domain>.
_TOKEN = re.compile(r"\b[0-9a-f]{24}\b")
_KEPT_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                 "Auto-Submitted", "X-Auto-Response-Suppress", "X-Bot-Kind", "Content-Language", "Return-Path",
                 "Sender", "List-Unsubscribe")


def _normalise(artefacts: dict[str, str], workdir: Path) -> dict[str, str]:
    """Replace the volatile parts, consistently across the artefacts (in name order)."""
    tokens: dict[str, str] = {}

    def token(m: re.Match) -> str:
        return tokens.setdefault(m.group(0), f"TOKEN{len(tokens) + 1:03d}")

    result = {}
    for name in sorted(artefacts):
        text = artefacts[name].replace(str(workdir), "<WORK>").replace(str(ROOT), "<ROOT>")
        result[name] = _TOKEN.sub(token, text)
    return result


def _eml_text(raw: bytes, preview: str | None = None, preview_name: str = "") -> str:
    """A mail as text: the headers a reader sees, then each part decoded (no boundaries).
    An HTML part equal to the ``preview`` file written beside the mail is not repeated."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    lines = [f"{name}: {value}" for name in _KEPT_HEADERS for value in (msg.get_all(name) or [])]
    others = sorted({k for k in msg.keys() if k not in _KEPT_HEADERS} - {"MIME-Version", "Content-Type",
                                                                           "Content-Transfer-Encoding"})
    if others:
        lines.append(f"(other headers: {', '.join(others)})")
    for n, part in enumerate(msg.walk()):
        if part.is_multipart():
            lines.append(f"--- part {n}: {part.get_content_type()}")
            continue
        name = part.get_filename()
        lines.append(f"--- part {n}: {part.get_content_type()}" + (f" {name!r}" if name else "")
                     + (f" ({part.get_content_disposition()})" if part.get_content_disposition() else ""))
        if part.get_content_type() == "text/html" and preview is not None and _lf(part.get_content()) == _lf(preview):
            lines.append(f"(the same as {preview_name})")
        elif part.get_content_maintype() == "text":
            lines.append(_lf(part.get_content()).rstrip("\n"))
        else:
            lines.append(_document_text(name or "", part.get_payload(decode=True)))
    return "\n".join(lines) + "\n"


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _document_text(name: str, data: bytes) -> str:
    """The text of a DOCX (paragraphs and tables in order) or an XLSX (cells), not its bytes:
    the containers carry their generation time."""
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data))
        lines = []
        for sheet in book.worksheets:
            lines.append(f"[sheet {sheet.title}]")
            for row in sheet.iter_rows(values_only=True):
                while row and row[-1] is None:
                    row = row[:-1]
                lines.append("\t".join("" if v is None else str(v) for v in row))
            merged = sorted(str(r) for r in sheet.merged_cells.ranges)
            if merged:
                lines.append(f"(merged: {', '.join(merged)})")
        return "\n".join(lines)
    if name.endswith(".docx"):
        from docx import Document
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        doc = Document(io.BytesIO(data))
        lines = []
        for section in doc.sections:
            for p in section.header.paragraphs:
                if p.text.strip():
                    lines.append(f"(header) {p.text}")
        for block in doc.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                for row in block.rows:
                    lines.append(" | ".join(cell.text.replace("\n", " / ") for cell in row.cells))
        for section in doc.sections:
            for p in section.footer.paragraphs:
                if p.text.strip():
                    lines.append(f"(footer) {p.text}")
        return "\n".join(lines)
    import hashlib

    return f"({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})"


# -- comparing and storing ------------------------------------------------------

def stored(scenario: Scenario) -> dict[str, str]:
    folder = GOLDEN / scenario.name
    return {str(p.relative_to(folder)): _read(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:  # line ends as written (the CSV export's are CRLF)
        return fh.read()


def differences(scenario: Scenario, actual: dict[str, str], *, max_lines: int = 400) -> str:
    """A readable unified diff between the stored golden files and ``actual`` ('' when equal)."""
    expected = stored(scenario)
    lines: list[str] = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            lines.append(f"=== {scenario.name}/{name}: expected, not produced any more")
        elif name not in expected:
            lines.append(f"=== {scenario.name}/{name}: produced, not in the golden files")
            lines += actual[name].splitlines()[:20]
        elif expected[name] != actual[name]:
            diff = list(difflib.unified_diff(expected[name].splitlines(), actual[name].splitlines(),
                                             f"golden/{scenario.name}/{name}", f"now/{name}", lineterm="", n=2))
            lines += diff or [f"=== {scenario.name}/{name}: the same lines, with other line ends"]
    if not lines:
        return ""
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... {len(lines) - max_lines} more line(s) of differences"]
    changed = [name for name in sorted(set(expected) | set(actual)) if expected.get(name) != actual.get(name)]
    summary = [f"{len(changed)} of {len(set(expected) | set(actual))} artefact(s) of '{scenario.name}' differ:",
               *(f"  {name}" for name in changed), ""]
    return "\n".join(summary + lines)


def update(scenario: Scenario, actual: dict[str, str]) -> None:
    folder = GOLDEN / scenario.name
    if folder.exists():
        shutil.rmtree(folder)
    for name, text in actual.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
