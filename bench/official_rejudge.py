"""Judge again, with this tree's verdict, the copies an ``eval --keep-state`` run recorded, and
score them: the files are not read again (their extractions are cached in the state).

    PYTHONPATH=$PWD python3 -m bench.official_rejudge /tmp/o16 /tmp/sb16 [--now 2023-10-20T08:00]

What ``requeue --all`` then a poll does for an office after an upgrade of the judging code
(docs/official-copies.md, "Configuring"); the figures are those of ``bot eval`` for a tree whose
extraction is the state's. Prints the official-copy report of ``bot eval``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from bot import app
from bot.config.load import parse_config
from bot.config.model import MailboxConfig
from bot.context import Context
from bot.evaluate.labels import LabelIndex
from bot.evaluate.official_copies import evidence_row, format_official_report, score_official
from bot.rules.load import load_rules
from bot.store import Store
from bot.clock import parse_instant


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("state", type=Path)
    p.add_argument("--now", default="2023-10-20T08:00")
    p.add_argument("--errors", type=int, default=0)
    p.add_argument("--as-is", action="store_true", help="score the state as it is, judged by the run that made it")
    args = p.parse_args()
    root = Path(__file__).resolve().parents[1]
    config = parse_config({"mailbox": {"source": "folder", "path": str(args.corpus)},
                           "smtp": {"enabled": False, "from_address": "eval@example.invalid"},
                           "coordinator": {"emails": ["eval@example.invalid"]}}, root)
    config = dataclasses.replace(config, mailbox=MailboxConfig(source="folder", path=args.corpus.resolve()),
                                 smtp=dataclasses.replace(config.smtp, enabled=False),
                                 paths=dataclasses.replace(config.paths, state=args.state))
    ctx = Context(config=config, rules=load_rules(config.paths.rules))
    now = parse_instant(args.now, ctx.rules.campaign.tz)
    if not args.as_is:
        with Store.open(args.state) as store:
            store.requeue(all_messages=True)
        app.poll(ctx, now)
    with Store.open(args.state) as store:
        rows = app.export_rows(store, ctx.rules)
    labels = json.loads((args.corpus / "labels.json").read_text())
    print(format_official_report(score_official(labels, rows), max_errors=args.errors))
    print(paper_copies(labels, rows))


def paper_copies(labels: dict, rows: list[dict]) -> str:
    """Stamped scans and photos by their truth: called official / not / undecided / not checked."""
    index = LabelIndex(labels)
    rows_of = index.rows_by_doc(rows)
    tally: dict[tuple[str, bool], list[int]] = {}
    for doc in index.docs:
        e = doc.entry
        if "official" not in e or not doc.genuine or not e.get("variant", "").endswith("_stamped"):
            continue
        row = evidence_row(rows_of.get(id(doc), []))
        got = None if row is None else row["evidence"].get("official")
        slot = 3 if row is None else {True: 0, False: 1, None: 2}[got]
        tally.setdefault((e["variant"], bool(e["official"])), [0, 0, 0, 0])[slot] += 1
    lines = ["stamped paper copies (official / not / undecided / not checked):"]
    for (variant, truth), n in sorted(tally.items()):
        lines.append(f"  {variant:14} {'truly official' if truth else 'not official':15} "
                     f"{n[0]:3} / {n[1]:3} / {n[2]:3} / {n[3]:3}   of {sum(n)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
