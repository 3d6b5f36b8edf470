"""CPU seconds of a command's whole process tree: ``python3 -m bench.cputree CMD...``.

``/usr/bin/time`` counts only the children a process waits for; the
extraction workers (forked by multiprocessing's forkserver) and daemonised
servers are reaped by someone else, so their CPU is lost. Here the command
runs under a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``): every
descendant that exits is reaped by this process, and the total is printed
on stderr. On a machine shared with other work, compare these CPU seconds,
not the wall time. Example::

    python3 -m bench.cputree python3 -m pytest -q -m "not slow"
"""
from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed (Linux only)")
    start = time.monotonic()
    proc = subprocess.Popen(argv)
    code = 1
    while True:  # reap the command and every orphan it leaves, until none is left
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == proc.pid:
            code = os.waitstatus_to_exitcode(status)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"[cputree] exit {code}, wall {time.monotonic() - start:.1f} s, CPU {used.ru_utime + used.ru_stime:.1f} s "
          f"(user {used.ru_utime:.1f} s, sys {used.ru_stime:.1f} s) for the whole process tree", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
