"""What each process weighed at the peak of a process tree: ``python3 -m bench.treepeak PATTERN``.

Waits for a process whose command line contains PATTERN (e.g. ``config-ocr.toml`` for the
OCR-on poll of ``bench.run``, started beside it), then samples the resident memory of it and
of all its descendants every 50 ms, as ``bench.run`` does (the sum of ``VmRSS``; the tree
found again every 250 ms), until it exits. Prints the peak sum, when it came, and each
process at that moment (resident, anonymous and file-backed memory, its own high-water mark)
with its role: the bot, the forkserver, the resource tracker, an extraction worker.
``bench.run`` gives the peak and the largest process; this says who made the peak.

    python3 -m bench.treepeak config-ocr.toml &
    python3 -m bench.run --messages 300 --ocr-messages 300 --small 0 --new 0 --big-mb 0 --no-naive --idle-runs 0
"""
from __future__ import annotations

import os
import sys
import time

FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def memory(pid: int) -> dict[str, float]:
    """``FIELDS`` of a process in MB (empty when it is gone)."""
    found = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in FIELDS:
                    found[key] = int(value.split()[0]) / 1024
    except OSError:
        return {}
    return found


def children() -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            table.setdefault(int(stat[stat.rindex(b")") + 2:].split()[1]), []).append(int(name))
    return table


def role(pid: int, root: int) -> str:
    cmd = command(pid)
    if pid == root:
        return "bot"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "forkserver" in cmd:  # the forkserver is the bot's child, the workers are the forkserver's
        return "forkserver" if _parent(pid) == root else "extraction worker"
    return cmd[:60]


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return int(stat[stat.rindex(b")") + 2:].split()[1])
    except OSError:
        return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    pattern, me = argv[0], os.getpid()
    root = None
    while root is None:
        root = next((int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) != me
                     and pattern in command(int(n)) and "bench.treepeak" not in command(int(n))), None)
        time.sleep(0.05)
    start, scanned, tree = time.monotonic(), 0.0, [root]
    peak, at, sample, roles = 0.0, 0.0, {}, {}
    while os.path.exists(f"/proc/{root}"):
        now = time.monotonic()
        if now - scanned >= 0.25:
            table, tree, todo = children(), [], [root]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(table.get(pid, ()))
            scanned = now
        sizes = {pid: memory(pid) for pid in tree}
        total = sum(m.get("VmRSS", 0.0) for m in sizes.values())
        if total > peak:
            peak, at, sample = total, now - start, sizes
            roles.update({pid: role(pid, root) for pid in sizes if pid not in roles})
        time.sleep(0.05)
    print(f"peak of the tree {peak:.1f} MB, {at:.1f} s after the process started")
    for pid, m in sorted(sample.items(), key=lambda item: -item[1].get("VmRSS", 0.0)):
        if m:
            print(f"  {roles.get(pid, '?'):17} {m.get('VmRSS', 0):6.1f} MB (anonymous {m.get('RssAnon', 0):5.1f}, "
                  f"files {m.get('RssFile', 0):5.1f}; its own peak {m.get('VmHWM', 0):6.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
