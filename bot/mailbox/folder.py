"""A directory of .eml, .msg and .mbox files as a mail source (tests, demos, an exported mailbox)."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import MailboxError
from . import MAX_HEADER_BYTES, MiB, OLE_SIGNATURE, FetchedBatch, header_block, too_large_reason

if TYPE_CHECKING:  # annotations only
    from ..mail_model import RawMessage

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# A directory of .eml / .mbox files


class FolderSource:
    """Reads every .eml, .msg (Outlook) and .mbox file under a directory
    (recursively, sorted). Any other file is listed as not read, in the log
    and in the poll report (the last batch's ``skipped``): nothing in the
    folder is ignored silently.

    The receipt time of a file comes from ``internaldates.json`` beside it
    (name -> ISO 8601), as exported with the mail; failing that from the
    newest ``Received:`` header (the time the receiving server stamped,
    the nearest thing to INTERNALDATE in a file); failing that, with a
    warning, from the sender's Date header; failing that from the file's
    modification time. Duplicates are dropped by the store (hash of the
    exact bytes).
    """

    SIDE_CAR = "internaldates.json"

    def __init__(self, path: Path, batch: int = 50, max_message_mb: int | None = None):
        self.path = path
        self.key = f"folder:{path}"
        self._batch = batch
        self._max_mb = max_message_mb

    def close(self) -> None:
        pass

    def batches(self, checkpoint, known) -> Iterator[FetchedBatch]:
        if not self.path.is_dir():
            raise MailboxError(f"mail folder {self.path} does not exist",
                               hint="set mailbox.path in config.toml to a directory of .eml or .mbox files")
        dates = self._sidecar()
        batch: list[RawMessage] = []
        skipped: list[str] = []
        for raw in self._messages(dates, skipped):
            batch.append(raw)
            if len(batch) >= self._batch:
                yield FetchedBatch(batch, None)
                batch = []
        if skipped:
            shown = ", ".join(skipped[:20]) + (f", ... ({len(skipped) - 20} more)" if len(skipped) > 20 else "")
            log.warning("mail folder %s: %d file(s) not read (only .eml, .msg and .mbox files are mail): %s",
                        self.path, len(skipped), shown)
        if batch or skipped:
            yield FetchedBatch(batch, None, tuple(skipped))

    def _sidecar(self) -> dict[str, datetime]:
        file = self.path / self.SIDE_CAR
        if not file.exists():
            return {}
        try:
            return {name: datetime.fromisoformat(value) for name, value in json.loads(file.read_text("utf-8")).items()}
        except (ValueError, AttributeError) as exc:
            raise MailboxError(f"{file}: not a JSON object of file name -> ISO 8601 time ({exc})") from exc

    def _messages(self, dates: dict[str, datetime], skipped: list[str]) -> Iterator[RawMessage]:
        """The messages of every .eml, .msg and .mbox file; the other files' names go to ``skipped``."""
        for file in sorted(self.path.rglob("*")):
            rel = file.relative_to(self.path).as_posix()
            suffix = file.suffix.lower()
            if file.is_dir() or rel == self.SIDE_CAR:
                continue
            if suffix not in (".eml", ".msg", ".mbox"):
                skipped.append(rel)
            elif suffix in (".eml", ".msg"):  # an Outlook .msg is read by the parser (bot/outlookmsg.py)
                size = file.stat().st_size
                if self._too_large(size):
                    with open(file, "rb") as fh:
                        head = header_block(fh.read(MAX_HEADER_BYTES))
                    yield self._withheld(f"folder:{rel}", head, size, dates.get(rel), file, rel)
                    continue
                data = file.read_bytes()
                from ..mail_model import RawMessage  # not at the top: an empty folder makes no record (an idle poll)

                yield RawMessage(f"folder:{rel}", data, dates.get(rel) or _arrival_of(data, rel) or _mtime(file))
            elif suffix == ".mbox":
                import mailbox as stdlib_mailbox  # here: the other sources and files do not need it

                from ..mail_model import RawMessage  # not at the top: an empty folder makes no record (an idle poll)

                box = stdlib_mailbox.mbox(file, create=False)
                try:
                    for index, key in enumerate(box.keys()):
                        data = box.get_bytes(key)
                        name = f"{rel}#{index}"
                        if self._too_large(len(data)):
                            yield self._withheld(f"folder:{name}", header_block(data), len(data), dates.get(name),
                                                 file, name)
                            continue
                        yield RawMessage(f"folder:{name}", data, dates.get(name) or _arrival_of(data, name) or _mtime(file))
                finally:
                    box.close()

    def _too_large(self, size: int) -> bool:
        return self._max_mb is not None and size > self._max_mb * MiB

    def _withheld(self, key: str, head: bytes, size: int, date: datetime | None, file: Path,
                  name: str) -> RawMessage:
        from ..mail_model import RawMessage  # not at the top: an empty folder makes no record (an idle poll)

        return RawMessage(key, head, date or _arrival_of(head, name) or _mtime(file), full_size=size,
                          withheld=too_large_reason(size, self._max_mb, f"file {name}"))


def _arrival_of(data: bytes, name: str) -> datetime | None:
    """When a message in a file arrived: the receiving server's stamp in the
    newest ``Received:`` header, else (with a warning: the sender's clock
    may be wrong) its Date header, else None."""
    # Not at the top: a poll of an empty folder (or of IMAP, which has INTERNALDATE) parses no header.
    from email import policy
    from email.parser import BytesHeaderParser

    if data[:8] == OLE_SIGNATURE:  # an Outlook .msg: its own headers, as the parser will read them
        from ..outlookmsg import MsgUnreadable, to_rfc822  # not at the top: for .msg files only

        try:
            data = to_rfc822(data, max_attachments=0)[0]
        except MsgUnreadable:
            return None
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(header_block(data))
    except Exception:  # malformed headers: the parse stage reports them; the file's time is used
        return None
    for received in headers.get_all("Received") or []:  # newest first: the office's own server
        moment = _aware_date(str(received).rpartition(";")[2])
        if moment is not None:
            return moment
    moment = _aware_date(str(headers.get("Date") or ""))
    if moment is not None:
        log.warning("%s: no Received header and no internaldates.json entry: the receipt time is the "
                    "sender's Date header (%s), which the sender's clock decides", name, moment.isoformat())
    return moment


def _aware_date(text: str) -> datetime | None:
    from email.utils import parsedate_to_datetime  # not at the top: see _arrival_of

    try:
        moment = parsedate_to_datetime(" ".join(text.split())) if text.strip() else None
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment and moment.tzinfo else None


def _mtime(file: Path) -> datetime:
    return datetime.fromtimestamp(file.stat().st_mtime, tz=timezone.utc)
