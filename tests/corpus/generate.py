"""Generate a labelled corpus of school mail.

    python -m tests.corpus.generate --out DIR --seed 1 --messages 200 \\
        [--year 2023] [--roster rules/schools.csv] [--campaign rules/campaign.toml] \\
        [--scans/--no-scans] [--preset mix|examples|hard|official|photos|photos_order] [--labels PATH] [--jobs N]

writes ``DIR/0001.eml ...``, ``DIR/internaldates.json`` (file -> ISO 8601
receipt time with +07:00, to be used as IMAP INTERNALDATE when appending)
and the labels (``DIR/labels.json`` unless ``--labels`` says otherwise).
Same arguments, same bytes.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from .content import Context
from .corpus import CorpusBuilder, Settings
from .documents import DocumentFactory
from .plan import plan
from .roster import load_roster

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Campaign:
    """The bits of campaign.toml the generator needs."""

    tz: ZoneInfo
    deadline: tuple[int, int, dtime]
    place: str


def load_campaign(path: Path) -> Campaign:
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    c = data.get("campaign", {})
    md, _, hms = c.get("deadline", "10-10 23:59:59").partition(" ")
    month, day = (int(x) for x in md.split("-"))
    parts = [int(x) for x in (hms or "23:59:59").split(":")] + [0]
    return Campaign(tz=ZoneInfo(c.get("timezone", "Asia/Ho_Chi_Minh")),
                    deadline=(month, day, dtime(parts[0], parts[1], parts[2])),
                    place=data.get("office", {}).get("place", "Quận 12"))


def generate(out: Path, seed: int, n: int, year: int = 2023, roster_path: Path | None = None,
             campaign_path: Path | None = None, scans: bool = True, preset: str = "mix",
             labels_path: Path | None = None, jobs: int | None = None) -> dict:
    """Write the corpus; returns the labels (file name -> label).

    ``jobs`` > 1 renders the distinct documents in that many processes
    first (default: 2 when there are 2 cores and more than 100 messages);
    the output is byte-identical either way.
    """
    roster = load_roster(roster_path or ROOT / "rules" / "schools.csv")
    camp = load_campaign(campaign_path or ROOT / "rules" / "campaign.toml")
    month, day, at = camp.deadline
    deadline = datetime(year, month, day, at.hour, at.minute, at.second, tzinfo=camp.tz)
    settings = Settings(year=year, seed=seed, scans=scans, tz=camp.tz, deadline=deadline)
    ctx = Context(roster={s.code: s for s in roster}, place=camp.place)
    recipes = plan(n, random.Random(seed), year, deadline, roster, scans, preset)
    # Build in receipt order: a resubmission follows its school's first mail,
    # and file order is the order an IMAP APPEND would give UIDs.
    order = sorted(range(len(recipes)), key=lambda i: (recipes[i].received_at, i))
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1) if n > 100 else 1
    if preset == "official":
        jobs = 1  # its variants (signed PDFs, unstamped scans) are rendered by its builder, not the factory
    factory = prerender(settings, roster, ctx, recipes, order, jobs, preset) if jobs > 1 else DocumentFactory(ctx)
    builder = _builder(preset)(settings, roster, factory)

    width = max(4, len(str(n)))
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    labels, dates = {}, {}
    for number, i in enumerate(order, start=1):
        built = builder.build(recipes[i], _message_rng(seed, i))
        name = f"{number:0{width}d}.eml"
        (out / name).write_bytes(built.data)
        labels[name] = built.label
        dates[name] = built.label["received_at"]
    _write_json(labels_path or out / "labels.json", labels)
    _write_json(out / "internaldates.json", dates)
    return labels


def _message_rng(seed: int, index: int) -> random.Random:
    """Each message draws from its own generator, so a dry pass and the real
    pass make the same choices."""
    return random.Random(f"{seed}:{index}")


def _builder(preset: str):
    if preset in ("official", "examples"):  # the examples hold a few signed dossiers too
        from .official import OfficialBuilder
        return OfficialBuilder
    if preset in ("hard", "photos", "photos_order"):
        from .hard_builder import HardBuilder
        return HardBuilder
    return CorpusBuilder


def prerender(settings: Settings, roster, ctx: Context, recipes, order, jobs: int,
              preset: str = "mix") -> DocumentFactory:
    """A factory holding every distinct file the corpus needs, rendered
    ``jobs`` at a time.

    A dry pass (nothing rendered, same random choices) lists the files;
    renders are pure functions of their key, so which process makes them
    does not change a byte.
    """
    dry = DocumentFactory(ctx, dry=True)
    builder = _builder(preset)(settings, roster, dry)
    for i in order:
        builder.build(recipes[i], _message_rng(settings.seed, i))
    keys = dry.requested
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with mp.get_context(method).Pool(jobs, initializer=_worker_init, initargs=(ctx,)) as pool:
        results = pool.map(_worker_render, keys, chunksize=4)
    return DocumentFactory.from_dry_run(dry, dict(zip(keys, results)))


# Each worker process keeps one factory (its caches) for all its tasks.
_WORKER: dict = {}


def _worker_init(ctx: Context) -> None:
    _WORKER["factory"] = DocumentFactory(ctx)


def _worker_render(key):
    specs, fmt = key
    return _WORKER["factory"].render(specs, fmt)


def _clean(out: Path) -> None:
    """Remove a previous corpus's files (only the files this tool writes)."""
    for old in out.glob("*.eml"):
        old.unlink()
    for name in ("labels.json", "internaldates.json"):
        (out / name).unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def summary(labels: dict) -> str:
    """Counts that say what the corpus holds."""
    kinds = Counter(lab["kind"] for lab in labels.values())
    entries = [e for lab in labels.values() for e in lab["attachments"]]
    fmts = Counter(e["format"] for e in entries)
    genuine = sum(1 for e in entries if e["campaign"])
    late = sum(1 for lab in labels.values() if lab["late"])
    lines = [f"messages: {len(labels)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})",
             f"documents: {len(entries)}, of this campaign and year: {genuine}",
             f"formats: {', '.join(f'{k} {v}' for k, v in sorted(fmts.items()))}",
             f"late messages: {late}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.corpus.generate", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--year", type=int, default=2023)
    p.add_argument("--roster", type=Path, default=ROOT / "rules" / "schools.csv")
    p.add_argument("--campaign", type=Path, default=ROOT / "rules" / "campaign.toml")
    p.add_argument("--scans", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--preset", choices=("mix", "examples", "hard", "official", "photos", "photos_order"),
                   default="mix")
    p.add_argument("--labels", type=Path, default=None, help="where to write labels.json (default: OUT/labels.json)")
    p.add_argument("--jobs", type=int, default=None, help="render processes (default: 2 when N > 100)")
    args = p.parse_args(argv)
    if args.messages < 1:
        p.error("--messages must be at least 1")
    started = time.monotonic()
    labels = generate(args.out, args.seed, args.messages, args.year, args.roster, args.campaign, args.scans,
                      args.preset, args.labels, args.jobs)
    size = sum(f.stat().st_size for f in args.out.glob("*.eml"))
    print(summary(labels))
    print(f"wrote {len(labels)} messages ({size / 1e6:.1f} MB) to {args.out} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
