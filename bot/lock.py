"""One worker per state directory: an advisory lock on ``state/worker.lock``.

The kernel drops the lock when the process dies, so a crash never leaves a
stale lock behind (unlike a PID file). The lock file holds "pid N (purpose)"
while it is held; ``holder`` tells who holds it without taking it.
"""
from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from .errors import LockedError
from .record import frozen

LOCK_NAME = "worker.lock"


@frozen
class Holder:
    """The live process holding a state directory's lock."""

    pid: int
    purpose: str  # "run", "poll", "remind", ...

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.purpose})"


class StateLock:
    def __init__(self, state_dir: Path, purpose: str):
        self.path = state_dir / LOCK_NAME
        self.purpose = purpose
        self._fd: int | None = None

    def __enter__(self) -> "StateLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            worker = "(run)" in holder
            raise LockedError(
                f"the state directory {self.path.parent} is in use by {holder}; '{self.purpose}' was not started",
                hint=("the worker is running: stop the service first (systemctl stop hoso-bot), or leave it to "
                      "the worker, which polls, sends the outbox, the reminders and the digest on schedule"
                      if worker else "another command is working on this state directory; wait for it to end")
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({self.purpose})\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


_CONTENT = re.compile(r"pid (\d+) \((.*)\)")


def holder(state_dir: Path, proc_locks: Path = Path("/proc/locks")) -> Holder | None:
    """Who holds the lock of ``state_dir`` now (None: nobody), without taking it.

    Reads the kernel's table of locks (Linux ``/proc/locks``) for a FLOCK on
    the lock file's inode: a worker killed by SIGKILL leaves its "pid N"
    text behind but no lock. Where that table cannot be read, a live process
    with the recorded pid counts as the holder.
    """
    path = state_dir / LOCK_NAME
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _CONTENT.search(text)
    purpose = m.group(2) if m else "unknown"
    try:
        table = proc_locks.read_text()
    except OSError:
        if m and pid_alive(int(m.group(1))):
            return Holder(int(m.group(1)), purpose)
        return None
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 17507 fe:00:2146408 0 EOF" ("->" marks a waiter)
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if fields[5].lower() == device:
            return Holder(int(fields[4]), purpose)
    return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
