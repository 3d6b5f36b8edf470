"""Content-addressed file storage under the state directory.

Raw messages and attachments are stored by the SHA-256 of their bytes, never
under a name taken from the mail (no path traversal, no reserved names, no
collisions). Writes are atomic: a temporary file is fsync'ed and renamed, so
a crash leaves either the whole file or nothing.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files by hash: ``root/ab/abcdef....suffix``."""

    def __init__(self, root: Path, suffix: str = ""):
        self.root = root
        self.suffix = suffix

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}{self.suffix}"

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data`` (idempotent); return its digest."""
        digest = digest or sha256(data)
        target = self.path_for(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a process killed mid-write
            if stale != tmp:
                stale.unlink(missing_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return digest

    def get(self, digest: str) -> bytes:
        return self.path_for(digest).read_bytes()

    def sync_dirs(self, digests) -> None:
        """fsync the directories of new files so their names survive a power cut."""
        for d in {self.path_for(x).parent for x in digests}:
            fd = os.open(d, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
