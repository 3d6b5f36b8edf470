"""One worker per state directory: an advisory lock on ``state/worker.lock``.

The kernel drops the lock when the process dies, so a crash never leaves a
stale lock behind (unlike a PID file).
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import LockedError


class StateLock:
    def __init__(self, state_dir: Path, purpose: str):
        self.path = state_dir / "worker.lock"
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
            raise LockedError(f"the state directory {self.path.parent} is in use by {holder}; "
                              f"'{self.purpose}' was not started") from None
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
