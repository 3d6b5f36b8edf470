"""``python3 -m tests.golden [--update] [SCENARIO...]``: compare (or rewrite) the golden files.

Without ``--update`` it runs the scenarios, prints the differences and exits 1
if there are any. With it, it rewrites ``tests/golden/<scenario>/`` from the
current code: do that only for an intended change of behaviour, and commit
the new files with that change.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from . import SCENARIOS, differences, run_scenario, update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.golden", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the golden files from the current code")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"default: all ({', '.join(SCENARIOS)})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    failed = 0
    for name in args.scenarios or SCENARIOS:
        scenario = SCENARIOS[name]
        with tempfile.TemporaryDirectory(prefix=f"hoso-golden-{name}-") as tmp:
            actual = run_scenario(scenario, Path(tmp) / "work")
        if args.update:
            update(scenario, actual)
            print(f"{name}: {len(actual)} golden file(s) written to tests/golden/{name}/")
            continue
        diff = differences(scenario, actual)
        if diff:
            failed += 1
            print(diff)
        print(f"{name}: {'DIFFERENT' if diff else 'same'} ({len(actual)} artefacts)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
