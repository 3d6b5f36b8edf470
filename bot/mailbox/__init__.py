"""Where mail comes from: an IMAP folder, or a directory of .eml/.msg/.mbox files.

This package is the only code that talks IMAP (``imap``: the
incremental reader, ``IdleWatcher``; ``folder``: a directory of files). A source yields batches of raw
messages together with the checkpoint that is valid once the batch is
recorded; the caller (pipeline.ingest) records batch and checkpoint in one
transaction, so a crash never skips or repeats a message.

IMAP is read-only here: the folder is EXAMINEd and bodies are fetched with
BODY.PEEK[], so no flag changes and nothing is deleted.

Size limit: after the SEARCH for new UIDs, one light FETCH of their
RFC822.SIZE (per thousand) says which are too large. A message larger
than ``mailbox.max_message_mb`` is never downloaded whole: only its header
block is fetched and recorded, marked as withheld with the reason, so it is
quarantined (shown by ``health``) and never blocks the others. The mailbox
still holds it; its record says which mail it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from ..config.model import MailboxConfig
from ..record import frozen

if TYPE_CHECKING:  # annotations only: the sources make them when there is mail (an idle poll has none)
    from ..mail_model import RawMessage

# (message_id, size) pairs -> the subset already stored
KnownFilter = Callable[[list[tuple[str, int]]], set[tuple[str, int]]]

MiB = 1024 * 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Outlook .msg (an OLE compound file)
# The header block of a withheld message is fetched up to this many bytes.
MAX_HEADER_BYTES = 256 * 1024


@frozen
class FetchedBatch:
    messages: list[RawMessage]
    checkpoint: tuple[int, int] | None  # (uidvalidity, last_uid) once this batch is recorded
    # Files the folder source did not read (not .eml/.mbox), relative paths: in the log and the poll report.
    skipped: tuple[str, ...] = ()


class Source(Protocol):
    key: str

    def batches(self, checkpoint: tuple[int, int] | None, known: KnownFilter) -> Iterator[FetchedBatch]: ...

    def close(self) -> None: ...


def too_large_reason(size: int, limit_mb: int, where: str) -> str:
    """The quarantine reason of a message that was not downloaded."""
    shown = f"{size / MiB:.0f}" if size >= 10 * MiB else f"{size / MiB:.2f}"
    return (f"message too large: {shown} MB > {limit_mb} MB; only its headers were downloaded: "
            f"open it in webmail ({where})")


def header_block(data: bytes, limit: int = MAX_HEADER_BYTES) -> bytes:
    """The header block of a raw message (up to and including the blank line), bounded."""
    data = data[:limit]
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
    return data[:min(ends)] if ends else data


def open_source(cfg: MailboxConfig, client_factory=None) -> Source:
    """The configured source; ``client_factory`` overrides how IMAP connects."""
    if cfg.source == "folder":
        from .folder import FolderSource  # not at the top: a folder source loads no IMAP code

        return FolderSource(cfg.path, max_message_mb=cfg.max_message_mb)
    from .imap import ImapSource, connect_imap, examine_imap  # not at the top: and an IMAP one no folder reader

    if client_factory is None:  # the real server: a poll that finds nothing new asks it without imapclient
        return ImapSource(cfg, connect_imap, examine=examine_imap)
    return ImapSource(cfg, client_factory)
