"""Whole-process cost of the idle commands (``poll`` with no new mail, ``status``,
``health``, ``check-config``) for one or more checkouts, their runs interleaved so
that a busy machine weighs on each tree alike.

    python3 -m compileall -q bot /tmp/base/bot   # an installed bot has its bytecode
    python3 -m bench.idle --runs 15 . /tmp/base

Each tree gets a folder mailbox with nothing in it and its own state, rules and
templates; ``poll`` then does what a quiet poll does (mailbox, state, receipts
mark, outbox). Printed: CPU seconds (user + system: what the load disturbs
least) and wall seconds, best run and median.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import offline_sections

COMMANDS = ("poll", "status", "health", "check-config")


def config_for(tree: Path, workdir: Path) -> Path:
    """A config.toml with an empty folder mailbox and the tree's own rules and templates."""
    (workdir / "inbox").mkdir(parents=True)
    cfg = workdir / "config.toml"
    cfg.write_text(f'''[mailbox]
source = "folder"
path = "{workdir / 'inbox'}"
''' + offline_sections(tree, workdir / "state"), encoding="utf-8")
    return cfg


def once(tree: Path, argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``argv`` with ``tree`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {tree} (status {status})")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", type=Path, help="checkouts to compare (e.g. . and /tmp/base)")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    trees = [t.resolve() for t in args.trees]
    results: dict[tuple[Path, str], list[tuple[float, float]]] = {}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hoso-idle-") as tmp:
        configs = {tree: config_for(tree, Path(tmp) / str(n)) for n, tree in enumerate(trees)}
        for _ in range(args.runs):
            for tree in trees:
                results.setdefault((tree, "python3 -c pass"), []).append(once(tree, [sys.executable, "-c", "pass"]))
                for command in COMMANDS:
                    run = [sys.executable, "-m", "bot", "--config", str(configs[tree]), command]
                    results.setdefault((tree, command), []).append(once(tree, run))
    print(f"{args.runs} runs each, interleaved; load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    for (tree, command), runs in results.items():
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(f"{tree!s:30s} {command:16s} CPU best {min(cpu):.3f} median {statistics.median(cpu):.3f} s | "
              f"wall best {min(wall):.3f} median {statistics.median(wall):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
