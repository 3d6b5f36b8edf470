"""Where mail comes from: an IMAP folder, or a directory of .eml/.msg/.mbox files.

This is the only module that talks IMAP. A source yields batches of raw
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

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from .config.model import MailboxConfig
from .errors import AuthenticationError, MailboxError
from .model import RawMessage

if TYPE_CHECKING:  # annotations only: ssl loads with imapclient, when a mailbox is IMAP
    import ssl

log = logging.getLogger(__name__)

# (message_id, size) pairs -> the subset already stored
KnownFilter = Callable[[list[tuple[str, int]]], set[tuple[str, int]]]

MiB = 1024 * 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Outlook .msg (an OLE compound file)
# The header block of a withheld message is fetched up to this many bytes.
MAX_HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class FetchedBatch:
    messages: list[RawMessage]
    checkpoint: tuple[int, int] | None  # (uidvalidity, last_uid) once this batch is recorded
    # Files the folder source did not read (not .eml/.mbox), relative paths: in the log and the poll report.
    skipped: tuple[str, ...] = ()


class Source(Protocol):
    key: str

    def batches(self, checkpoint: tuple[int, int] | None, known: KnownFilter) -> Iterator[FetchedBatch]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------
# IMAP


def connect_imap(cfg: MailboxConfig, environ: dict | None = None):
    """Open an authenticated IMAPClient for ``cfg`` (the default client factory).

    Network set-up lives here alone, so tests and tools can pass their own
    factory. TLS certificates are verified unless the config explicitly and
    loudly says otherwise (self-signed test servers only).
    """
    import imapclient  # not at the top: a folder source, status and health need no IMAP library
    from imapclient.exceptions import LoginError

    context = _tls_context(cfg) if cfg.security != "none" else None
    try:
        client = imapclient.IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "ssl",
                                       ssl_context=context, timeout=cfg.timeout_seconds)
        if cfg.security == "starttls":
            client.starttls(context)
    except (OSError, imapclient.exceptions.IMAPClientError) as exc:  # ssl.SSLError is an OSError
        raise MailboxError(f"cannot connect to IMAP server {cfg.host}:{cfg.port} ({cfg.security}): {_why(exc)}") from exc
    client.normalise_times = False  # keep INTERNALDATE's own offset: it is the receipt time
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG) and hasattr(client, "_imap"):
        # imapclient turns imaplib's debug output on (level 5) to log the protocol;
        # imaplib then formats the repr of every response, whole message bodies
        # included, even when nobody logs it: that cost more than the download.
        client._imap.debug = 0
    secret = cfg.secret.read(environ) if cfg.secret else ""
    try:
        if cfg.auth == "xoauth2":
            client.oauth2_login(cfg.username, secret)
        else:
            client.login(cfg.username, secret)
    except LoginError as exc:
        _logout_quietly(client)
        raise AuthenticationError(f"IMAP server {cfg.host} refused the login of {cfg.username!r}: {_why(exc)}") from exc
    except (OSError, imapclient.exceptions.IMAPClientError) as exc:
        _logout_quietly(client)
        raise MailboxError(f"IMAP login to {cfg.host} failed: {_why(exc)}") from exc
    return client


def fetch_chunks(uids: list[int], whole_sizes: dict[int, int | None], max_count: int,
                 max_bytes: int) -> list[list[int]]:
    """``uids`` cut, in order, into FETCH batches of at most ``max_count``
    messages and at most ``max_bytes`` of whole messages.

    ``whole_sizes`` gives the size of each message that will be downloaded
    whole; a UID missing from it (withheld as too large: only its headers
    come) or of unknown size counts as nothing. A message larger than
    ``max_bytes`` on its own makes a batch of one: it is never skipped.
    """
    chunks: list[list[int]] = []
    chunk: list[int] = []
    used = 0
    for uid in uids:
        size = whole_sizes.get(uid) or 0
        if chunk and (len(chunk) >= max_count or used + size > max_bytes):
            chunks.append(chunk)
            chunk, used = [], 0
        chunk.append(uid)
        used += size
    if chunk:
        chunks.append(chunk)
    return chunks


class ImapSource:
    """Incremental reader of one IMAP folder, by UID and UIDVALIDITY."""

    def __init__(self, cfg: MailboxConfig, client_factory: Callable[[MailboxConfig], object] = connect_imap,
                 fetch_batch: int | None = None):
        self.cfg = cfg
        self.key = f"imap:{cfg.username}@{cfg.host}:{cfg.port}/{cfg.folder}"
        self._factory = client_factory
        self._client = None
        self._batch = fetch_batch or cfg.fetch_batch

    def _connected(self):
        if self._client is None:
            self._client = self._factory(self.cfg)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            _logout_quietly(self._client)
            self._client = None

    def batches(self, checkpoint: tuple[int, int] | None, known: KnownFilter) -> Iterator[FetchedBatch]:
        """Yield the messages that arrived after ``checkpoint``, oldest first.

        With no new mail this costs one EXAMINE (UIDNEXT tells us), whatever
        the size of the folder. After a UIDVALIDITY change, only the
        messages whose (Message-ID, size) are unknown are downloaded; the
        store then dedupes by the hash of the exact bytes.
        """
        try:
            yield from self._batches(checkpoint, known)
        except MailboxError:
            self.close()
            raise
        except OSError as exc:  # ssl.SSLError and socket.timeout are OSErrors
            self.close()
            raise MailboxError(f"IMAP connection to {self.cfg.host} lost: {_why(exc)}") from exc
        except Exception as exc:
            import imapclient  # loaded by connect_imap already: this only names its errors

            if isinstance(exc, imapclient.exceptions.IMAPClientAbortError):  # the socket died
                self.close()
                raise MailboxError(f"IMAP connection to {self.cfg.host} lost: {_why(exc)}") from exc
            if isinstance(exc, imapclient.exceptions.IMAPClientError):
                self.close()
                raise MailboxError(f"IMAP server {self.cfg.host} answered an error: {_why(exc)}") from exc
            raise

    def _batches(self, checkpoint, known):
        client = self._connected()
        info = self._examine(client)
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info.get(b"UIDNEXT", 0)) or None
        reset = checkpoint is not None and checkpoint[0] != uidvalidity
        last_uid = 0 if (checkpoint is None or reset) else checkpoint[1]
        if uidnext is not None and uidnext <= last_uid + 1 and not reset:
            return  # nothing new: one round trip
        uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        sizes = self._sizes(client, uids)
        if reset and uids:
            uids = self._unknown_after_reset(client, uids, known, sizes)
        if not uids:
            yield FetchedBatch([], (uidvalidity, max(last_uid, (uidnext or 1) - 1)))
            return
        whole = {u: s for u, s in sizes.items() if (s or 0) <= self.cfg.max_message_bytes}
        for chunk in fetch_chunks(uids, whole, self._batch, self.cfg.fetch_batch_mb * 1024 * 1024):
            yield FetchedBatch(self._fetch(client, chunk, uidvalidity, sizes), (uidvalidity, chunk[-1]))

    @staticmethod
    def _sizes(client, uids: list[int]) -> dict[int, int | None]:
        """UID -> RFC822.SIZE (None if the server does not say): a light FETCH,
        so that a message too large is never downloaded whole."""
        sizes: dict[int, int | None] = {}
        for start in range(0, len(uids), 1000):  # keeps the command line short
            for uid, item in client.fetch(uids[start:start + 1000], ["RFC822.SIZE"]).items():
                size = item.get(b"RFC822.SIZE")
                sizes[uid] = int(size) if size is not None else None
        return sizes

    def _examine(self, client) -> dict:
        try:
            return client.select_folder(self.cfg.folder, readonly=True)
        except Exception as exc:
            import imapclient  # loaded by connect_imap already: this only names its errors

            if isinstance(exc, imapclient.exceptions.IMAPClientError):
                names = ", ".join(f[2] for f in client.list_folders()[:20])
                raise MailboxError(f"cannot open IMAP folder {self.cfg.folder!r}: {_why(exc)}",
                                   hint=f"set mailbox.folder to one of: {names}") from exc
            raise

    def _unknown_after_reset(self, client, uids: list[int], known: KnownFilter,
                             sizes: dict[int, int | None]) -> list[int]:
        heads = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        pairs: dict[int, tuple[str, int]] = {}
        for uid, data in heads.items():
            raw = data.get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"") or b""
            mid = " ".join(raw.decode("ascii", "replace").partition(":")[2].split())
            size = sizes.get(uid)
            pairs[uid] = (mid, size if size is not None else -1)
        already = known([p for p in pairs.values() if p[0]])
        return sorted(uid for uid, pair in pairs.items() if pair not in already)

    def _fetch(self, client, uids: list[int], uidvalidity: int, sizes: dict[int, int | None]) -> list[RawMessage]:
        """The messages of ``uids``: whole, or only their headers when too large."""
        limit = self.cfg.max_message_bytes
        big = {u for u in uids if (sizes.get(u) or 0) > limit}
        small = [u for u in uids if u not in big]
        data = client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]) if small else {}
        if big:
            data.update(client.fetch(sorted(big), [f"BODY.PEEK[HEADER]<0.{MAX_HEADER_BYTES}>", "INTERNALDATE"]))
        out = []
        for uid in uids:
            item = data.get(uid)
            if item is None:  # expunged between the listing and this FETCH
                continue
            received = item[b"INTERNALDATE"]
            if received.tzinfo is None:
                received = received.replace(tzinfo=timezone.utc)
            key = f"{self.key}:{uidvalidity}:{uid}"
            if uid in big:
                head = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER]")), b"") or b""
                out.append(RawMessage(key, bytes(head), received, full_size=sizes[uid],
                                      withheld=too_large_reason(sizes[uid], self.cfg.max_message_mb,
                                                                f"folder {self.cfg.folder}")))
            else:
                out.append(RawMessage(key, bytes(item[b"BODY[]"]), received))
        return out


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


def _tls_context(cfg) -> ssl.SSLContext:
    import ssl  # not at the top: a folder source needs no TLS (imapclient loads it for IMAP anyway)

    context = ssl.create_default_context(cafile=str(cfg.tls_cafile) if cfg.tls_cafile else None)
    if cfg.tls_insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _logout_quietly(client) -> None:
    try:
        client.logout()
    except Exception:  # the connection is being dropped anyway
        try:
            client.shutdown()
        except Exception:
            pass


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text.replace("b'", "'")


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
                yield RawMessage(f"folder:{rel}", data, dates.get(rel) or _arrival_of(data, rel) or _mtime(file))
            elif suffix == ".mbox":
                import mailbox as stdlib_mailbox  # here: the other sources and files do not need it

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
        from .outlookmsg import MsgUnreadable, to_rfc822  # not at the top: for .msg files only

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


def open_source(cfg: MailboxConfig, client_factory=None) -> Source:
    """The configured source; ``client_factory`` overrides how IMAP connects."""
    if cfg.source == "folder":
        return FolderSource(cfg.path, max_message_mb=cfg.max_message_mb)
    return ImapSource(cfg, client_factory or connect_imap)


# --------------------------------------------------------------------------
# IMAP IDLE: hear about new mail within seconds


class IdleWatcher:
    """Keeps one IDLE connection on the folder and calls ``on_new_mail()``
    when the server announces new messages.

    Runs in a thread of its own; the scheduler's regular poll stays the
    fallback, so a server without IDLE, or a dropped connection, only costs
    latency. Reconnects with exponential backoff; IDLE is renewed every
    ``renew_seconds`` (RFC 2177 servers may drop it after 30 minutes).
    """

    def __init__(self, cfg: MailboxConfig, on_new_mail: Callable[[], None], stop_event,
                 client_factory: Callable[[MailboxConfig], object] = connect_imap,
                 renew_seconds: float = 600.0, max_backoff: float = 300.0, log=None):
        self.cfg = cfg
        self._notify = on_new_mail
        self._stop = stop_event
        self._factory = client_factory
        self._renew = renew_seconds
        self._max_backoff = max_backoff
        self._log = log
        self.supported: bool | None = None
        self._last_error = ""  # of the current failure streak: repeats are logged at DEBUG

    def run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self._watch()
                backoff = 1.0
            except AuthenticationError:
                return  # the poll job reports it; hammering the server would not help
            except Exception as exc:  # network trouble: wait and reconnect
                why = _why(exc)
                if self._log:  # each distinct error once, not on every reconnection attempt of an outage
                    self._log.log(logging.WARNING if why != self._last_error else logging.DEBUG,
                                  "IDLE connection lost (%s); reconnecting in %.0f s", why, backoff)
                self._last_error = why
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
            if self.supported is False:
                return

    def _watch(self) -> None:
        client = self._factory(self.cfg)
        try:
            if b"IDLE" not in client.capabilities():
                self.supported = False
                return
            self.supported = True
            client.select_folder(self.cfg.folder, readonly=True)
            if self._last_error and self._log:
                self._log.info("IDLE connected again")
            self._last_error = ""
            self._notify()  # catch anything that arrived while we were away
            while not self._stop.is_set():
                client.idle()
                responses = self._wait(client)
                client.idle_done()
                if any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    self._notify()
        finally:
            _logout_quietly(client)

    def _wait(self, client) -> list:
        """IDLE until news, the renewal time, or a stop request (checked every second)."""
        waited = 0.0
        while waited < self._renew and not self._stop.is_set():
            responses = client.idle_check(timeout=1)
            if responses:
                return responses
            waited += 1
        return []
