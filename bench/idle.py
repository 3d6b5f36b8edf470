"""Whole-process cost of the idle commands (``poll`` with no new mail, ``status``,
``health``, ``check-config``) for one or more checkouts, their runs interleaved so
that a busy machine weighs on each tree alike.

    python3 -m compileall -q bot /tmp/base/bot   # an installed bot has its bytecode
    python3 -m bench.idle --runs 15 . /tmp/base

Each tree gets a folder mailbox with nothing in it and its own state, rules and
templates; ``poll`` then does what a quiet poll does (mailbox, state, receipts
mark, outbox). Printed: CPU seconds (user + system: what the load disturbs
least) and wall seconds, best run and median.

``--imap`` adds two quiet polls of an IMAP folder on a private Dovecot
(tests/servers.py): ``poll-imap`` (plain IMAP) and ``poll-imaps`` (TLS with the
server's own CA file; a real server's TLS also loads the system's CA bundle:
see docs/performance.md). Each tree polls the folder once first (that poll
reads the one message there), so the measured ones find nothing new.

Then, what the load does not change (``--no-counts`` skips it): the modules
each command loads and the sum of their import self-times (``python3 -X
importtime``, median of three runs: it still moves with the load), and the
instructions the process executes (one run under ``valgrind --tool=callgrind``
when valgrind is installed, hash seed 0: the same count on a busy machine as
on a quiet one; threads included, a child process such as tesseract not).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import offline_sections

COMMANDS = ("poll", "status", "health", "check-config")
IMAP_COMMANDS = ("poll-imap", "poll-imaps")
PASSWORD_ENV = "BENCH_IMAP_PASSWORD"


def config_for(tree: Path, workdir: Path) -> Path:
    """A config.toml with an empty folder mailbox and the tree's own rules and templates."""
    (workdir / "inbox").mkdir(parents=True)
    cfg = workdir / "config.toml"
    cfg.write_text(f'''[mailbox]
source = "folder"
path = "{workdir / 'inbox'}"
''' + offline_sections(tree, workdir / "state"), encoding="utf-8")
    return cfg


def imap_configs(tree: Path, workdir: Path, dovecot) -> dict[str, Path]:
    """``poll-imap`` and ``poll-imaps`` configs: the Dovecot's INBOX, plain and TLS, each with its own state."""
    made = {}
    workdir.mkdir(parents=True)
    for command, security in (("poll-imap", f'security = "none"\nport = {dovecot.port}'),
                              ("poll-imaps", f'security = "ssl"\nport = {dovecot.imaps_port}\n'
                                             f'tls_cafile = "{dovecot.cafile}"')):
        cfg = workdir / f"{command}.toml"
        cfg.write_text(f'''[mailbox]
source = "imap"
host = "{dovecot.host}"
{security}
username = "{dovecot.user}"
password_env = "{PASSWORD_ENV}"
''' + offline_sections(tree, workdir / f"state-{command}"), encoding="utf-8")
        made[command] = cfg
    return made


def start_dovecot(stack: contextlib.ExitStack):
    """A private Dovecot (tests/servers.py) with one message in its INBOX, stopped with ``stack``."""
    from datetime import datetime

    from tests import mailfactory as mf
    from tests.servers import Dovecot

    reason = Dovecot.unavailable_reason()
    if reason:
        raise SystemExit(f"--imap: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="hoso-idle-dovecot-"))
    workdir.chmod(0o755)  # Dovecot's unprivileged processes must enter it
    stack.callback(shutil.rmtree, workdir, True)
    dovecot = stack.enter_context(Dovecot(workdir, tls=True))
    dovecot.append("INBOX", mf.gmail(sender="thcsnguyenhien.q12@hcm-edu.example", files=[]),
                   datetime.fromisoformat("2023-10-05T09:32:00+07:00"))
    return dovecot


def once(tree: Path, argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``argv`` with ``tree`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {tree} (status {status})")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def imports(tree: Path, argv: list[str]) -> tuple[int, float]:
    """(modules imported, sum of their import self-times in ms) of one run of ``argv[1:]`` under
    ``python3 -X importtime`` (``argv[0]``: the interpreter)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=tree, env=env, capture_output=True, text=True)
    selfs = [int(m.group(1)) for m in re.finditer(r"^import time:\s+(\d+) \|", done.stderr, re.MULTILINE)]
    return len(selfs), sum(selfs) / 1000


def instructions(tree: Path, argv: list[str]) -> int | None:
    """Instructions the process of ``argv`` executes (valgrind's callgrind), None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    done = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv], cwd=tree, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", type=Path, help="checkouts to compare (e.g. . and /tmp/base)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--no-counts", action="store_true", help="skip the modules, import times and instructions")
    ap.add_argument("--imap", action="store_true",
                    help="also a quiet poll of an IMAP folder (plain and TLS) on a private Dovecot")
    args = ap.parse_args(argv)
    trees = [t.resolve() for t in args.trees]
    results: dict[tuple[Path, str], list[tuple[float, float]]] = {}
    load = os.getloadavg()[0]
    counts: dict[tuple[Path, str], str] = {}
    commands = ("python3 -c pass", *COMMANDS, *(IMAP_COMMANDS if args.imap else ()))
    with tempfile.TemporaryDirectory(prefix="hoso-idle-") as tmp, contextlib.ExitStack() as stack:
        configs = {tree: config_for(tree, Path(tmp) / str(n)) for n, tree in enumerate(trees)}
        imap: dict[Path, dict[str, Path]] = {}
        if args.imap:
            dovecot = start_dovecot(stack)
            os.environ[PASSWORD_ENV] = dovecot.password  # the children read it (password_env)
            for n, tree in enumerate(trees):
                imap[tree] = imap_configs(tree, Path(tmp) / f"imap-{n}", dovecot)
                for cfg in imap[tree].values():  # the first poll reads the message: the measured ones find none
                    subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "poll"], cwd=tree, check=True,
                                   env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True)

        def command_line(tree: Path, command: str) -> list[str]:
            if command == "python3 -c pass":
                return [sys.executable, "-c", "pass"]
            if command in IMAP_COMMANDS:
                return [sys.executable, "-m", "bot", "--config", str(imap[tree][command]), "poll"]
            return [sys.executable, "-m", "bot", "--config", str(configs[tree]), command]

        for _ in range(args.runs):
            for tree in trees:
                for command in commands:
                    results.setdefault((tree, command), []).append(once(tree, command_line(tree, command)))
        end_load = os.getloadavg()[0]
        for tree in trees if not args.no_counts else ():
            for command in commands:
                seen = [imports(tree, command_line(tree, command)) for _ in range(3)]
                ir = instructions(tree, command_line(tree, command))
                counts[tree, command] = (f" | {seen[0][0]} modules, import self {statistics.median(s for _, s in seen):.0f} ms"
                                         + (f", {ir / 1e6:.0f} M instructions" if ir else ""))
    print(f"{args.runs} runs each, interleaved; load average {load:.2f} at the start, {end_load:.2f} at the end")
    for (tree, command), runs in results.items():
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(f"{tree!s:30s} {command:16s} CPU best {min(cpu):.3f} median {statistics.median(cpu):.3f} s | "
              f"wall best {min(wall):.3f} median {statistics.median(wall):.3f} s" + counts.get((tree, command), ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
