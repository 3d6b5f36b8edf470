"""The spool: large attachments passed between the bot and its workers as
private files (``state/spool/``) instead of pickled bytes (see ``pool``).

A file is named after the process that owns it (the bot): ``clean_spool``
deletes only what a dead process left.
"""
from __future__ import annotations

import mmap
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..lock import pid_alive
from ..model import Attachment
from .common import MappedFile, MiB
from .kinds import sniff


@dataclass(frozen=True)
class Spooled:
    """An attachment sent to a worker by the path of its bytes (see the module docstring)."""

    path: str
    filename: str
    content_type: str
    container: str = ""


def unspooled(spooled: Spooled) -> Attachment:
    """The attachment whose bytes the parent wrote to ``spooled.path``: a PDF
    mapped (``MappedFile``: PDFium reads the file itself), any other file read."""
    with open(spooled.path, "rb") as fh:
        if sniff(fh.read(1024)) == "pdf":
            data = MappedFile(fh.fileno(), 0, access=mmap.ACCESS_READ)
            data.path = spooled.path
        else:
            fh.seek(0)
            data = fh.read()
    return Attachment(spooled.filename, spooled.content_type, data, spooled.container)


SPOOL_BYTES = 4 * MiB  # attachments larger than this go to workers by path


def clean_spool(spool: Path) -> int:
    """Delete the files a dead process left in ``spool`` (a bot killed while its
    workers read large attachments); returns how many. A file is named after
    the process that wrote it, so another live process's files stay."""
    removed = 0
    try:
        names = os.listdir(spool)
    except FileNotFoundError:
        return 0
    for name in names:
        owner = name.split("-", 1)[0]
        if owner.isdigit() and (int(owner) == os.getpid() or pid_alive(int(owner))):
            continue
        try:
            os.unlink(spool / name)
            removed += 1
        except OSError:  # gone meanwhile, or not a file: the spool stays usable, only not tidied
            pass
    return removed


def spool_out(data: bytes, directory: str, owner: int) -> "SpoolRef":
    """Write ``data`` to a new private file of the spool (named for ``owner``)."""
    path = os.path.join(directory, f"{owner}-parsed-{os.getpid()}-{time.monotonic_ns()}.att")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        os.unlink(path)
        raise
    return SpoolRef(path)


@dataclass(frozen=True)
class SpoolRef:
    """An attachment's bytes left in a spool file by a parse worker: unpickled
    as that file mapped read-only (``MappedFile`` with its ``path``)."""

    path: str

    def __reduce__(self):
        return map_spooled, (self.path,)


def map_spooled(path: str) -> MappedFile:
    with open(path, "rb") as fh:
        data = MappedFile(fh.fileno(), 0, access=mmap.ACCESS_READ)
    data.path = path
    return data
