"""Run the real pipeline on a generated corpus and score it (``python -m bot eval --corpus DIR``),
and score an export from the command line (``python -m bot.evaluate LABELS.json ROWS.json``)."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import app
from ..clock import parse_instant
from ..config.load import load_config, parse_config
from ..config.model import MailboxConfig
from ..context import Context
from ..errors import UsageError
from ..rules.load import load_rules
from ..status import status_for, to_json
from ..store import Store
from .classification import Metrics, format_report, score
from .official_copies import OfficialMetrics, has_official_labels, score_official
from .statuses import StatusMetrics, score_status, season_end

@dataclass(frozen=True)
class CorpusRun:
    """The outcome of ``evaluate_corpus``: the scores, the bot's rows, where the state is."""

    metrics: Metrics
    rows: list
    state: str
    seconds: float
    official: OfficialMetrics | None = None  # when the labels carry the ``official`` truth
    status: StatusMetrics = field(default_factory=StatusMetrics)


def evaluate_corpus(corpus, *, config_path=None, labels_path=None, keep_state=None, now=None,
                    progress=None) -> CorpusRun:
    """Run the real pipeline on a generated corpus and score it.

    ``app.poll`` reads ``corpus`` as a folder source (``internaldates.json``
    gives the receipt times) into a fresh state directory (a temporary one,
    or ``keep_state`` to look at it afterwards with ``export``/``status``),
    with the rules and templates of ``config_path`` when it exists, else the
    shipped ``rules/``. ``now`` (a datetime or ISO 8601 text) defaults to the clock. Nothing is sent: SMTP is off. The rows of
    ``app.export_rows`` are scored against ``labels_path`` (default
    ``corpus/labels.json``).
    """
    corpus = Path(corpus)
    labels_path = Path(labels_path) if labels_path else corpus / "labels.json"
    if not corpus.is_dir():
        raise UsageError(f"{corpus}: no such corpus directory",
                         hint="make one with: python -m tests.corpus.generate --out DIR --seed 11 --messages 200")
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{labels_path}: cannot read the labels ({exc})", hint="pass --labels PATH") from exc
    if config_path is not None and Path(config_path).exists():
        config = load_config(Path(config_path))
    else:  # the shipped rules and templates, wherever the command is run from
        root = Path(__file__).resolve().parents[2]
        config = parse_config({"mailbox": {"source": "folder", "path": str(corpus)},
                               "smtp": {"enabled": False, "from_address": "eval@example.invalid"},
                               "coordinator": {"emails": ["eval@example.invalid"]}}, root)
    with contextlib.ExitStack() as stack:
        if keep_state is not None:
            state = Path(keep_state)
            if state.exists() and any(state.iterdir()):
                raise UsageError(f"{state} is not empty", hint="--keep-state needs a new or empty directory")
        else:
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bot-eval-")))
        config = dataclasses.replace(
            config, mailbox=MailboxConfig(source="folder", path=corpus.resolve()), smtp=dataclasses.replace(config.smtp, enabled=False),
            paths=dataclasses.replace(config.paths, state=state))
        ctx = Context(config=config, rules=load_rules(config.paths.rules))
        if isinstance(now, str):
            now = parse_instant(now, ctx.rules.campaign.tz)
        started = time.monotonic()
        app.poll(ctx, now or datetime.now(timezone.utc), progress=progress)
        seconds = time.monotonic() - started
        with Store.open(state) as store:
            rows = app.export_rows(store, ctx.rules)
            status = _status_at(store, ctx.rules, labels, now)
    official = score_official(labels, rows) if has_official_labels(labels) else None
    return CorpusRun(score(labels, rows), rows, str(state), seconds, official=official, status=status)


def _status_at(store, rules, labels: dict, now) -> StatusMetrics:
    """``status --json`` at ``now`` when given, else at the end of the corpus's season, scored."""
    at = now or (datetime.fromisoformat(season_end(labels)) if season_end(labels) else None)
    if at is None:
        return StatusMetrics()
    return score_status(labels, to_json(status_for(store, rules, at)),
                        int(rules.campaign.grace.total_seconds()))


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.evaluate labels.json rows.json``: print the report;
    exit 1 when a document of another campaign or year was counted."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bot.evaluate LABELS.json ROWS.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        labels = json.load(f)
    with open(args[1], encoding="utf-8") as f:
        rows = json.load(f)
    if isinstance(rows, dict):  # tolerate {"rows": [...]}
        rows = rows.get("rows", [])
    metrics = score(labels, rows)
    print(format_report(metrics))
    return 1 if metrics.wrong_campaign_counted else 0
