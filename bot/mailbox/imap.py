"""IMAP: the incremental, read-only reader of one folder and the IDLE watcher."""
from __future__ import annotations

import logging
import re
from datetime import timezone
from typing import TYPE_CHECKING, Callable, Iterator

from ..config.model import MailboxConfig
from ..errors import AuthenticationError, MailboxError
from . import MAX_HEADER_BYTES, FetchedBatch, KnownFilter, too_large_reason

if TYPE_CHECKING:  # annotations only: ssl loads with imapclient
    from ..mail_model import RawMessage
    import ssl

log = logging.getLogger(__name__)

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
        raise _cannot_connect(cfg, exc) from exc
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
        raise _login_refused(cfg, exc) from exc
    except (OSError, imapclient.exceptions.IMAPClientError) as exc:
        _logout_quietly(client)
        raise _login_failed(cfg, exc) from exc
    return client


# A folder name EXAMINEd by the standard library's imaplib as it is, quoted (imapclient also encodes non-ASCII
# names in IMAP's modified UTF-7: such a folder is always opened through it).
_PLAIN_FOLDER = re.compile(r"[A-Za-z0-9 ._/-]+")


def examine_imap(cfg: MailboxConfig, environ: dict | None = None) -> tuple[int, int] | None:
    """``(UIDVALIDITY, UIDNEXT)`` of ``cfg.folder``, asked with the standard library's imaplib (connect,
    log in with the password, EXAMINE, log out), or None when they cannot be had that way (a folder name
    imaplib would need encoded, XOAUTH2, which the test server cannot check here, a server that does not
    say UIDNEXT, an EXAMINE refused): the caller then asks through imapclient.

    Why: importing imapclient costs about as much as the rest of a poll that finds no new mail (it reads
    its own version from the package metadata when it loads), and this question is all such a poll asks.
    imapclient drives the same imaplib with the same TLS set-up (``_tls_context``), so a server that
    cannot be reached or refuses the login gets the same error, worded as ``connect_imap`` words it.
    """
    if (not _PLAIN_FOLDER.fullmatch(cfg.folder) or cfg.auth != "password"
            or (cfg.secret is not None and cfg.secret.command)):  # a command's secret is read once a poll
        return None
    import imaplib  # not at the top: a folder source needs no IMAP code

    context = _tls_context(cfg) if cfg.security != "none" else None
    try:
        if cfg.security == "ssl":
            imap = imaplib.IMAP4_SSL(cfg.host, cfg.port, ssl_context=context, timeout=cfg.timeout_seconds)
        else:
            imap = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            if cfg.security == "starttls":
                imap.starttls(context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise _cannot_connect(cfg, exc) from exc
    try:
        secret = cfg.secret.read(environ) if cfg.secret else ""
        try:  # as connect_imap: imapclient's login raises LoginError for any imaplib error, abort included
            imap.login(cfg.username, secret)
        except imaplib.IMAP4.error as exc:
            raise _login_refused(cfg, exc) from exc
        except OSError as exc:
            raise _login_failed(cfg, exc) from exc
        try:
            kind, _ = imap.select(f'"{cfg.folder}"', readonly=True)
        except imaplib.IMAP4.error:  # a BAD, or the connection dropped: imapclient asks again and says why
            return None
        if kind != "OK":
            return None  # imapclient says why, naming the folders there are
        validity, uidnext = imap.response("UIDVALIDITY")[1], imap.response("UIDNEXT")[1]
        if not (validity and validity[-1] and uidnext and uidnext[-1]):
            return None
        return int(validity[-1]), int(uidnext[-1])
    except OSError as exc:  # ssl.SSLError and socket.timeout are OSErrors
        raise _connection_lost(cfg, exc) from exc
    finally:
        _logout_quietly(imap)


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
                 fetch_batch: int | None = None,
                 examine: Callable[[MailboxConfig], tuple[int, int] | None] | None = None):
        """``examine``: asked first, when a checkpoint is known, for the folder's ``(UIDVALIDITY,
        UIDNEXT)`` (``examine_imap``; None: it cannot tell); when they say nothing arrived, no
        client is made at all."""
        self.cfg = cfg
        self.key = f"imap:{cfg.username}@{cfg.host}:{cfg.port}/{cfg.folder}"
        self._factory = client_factory
        self._examine_first = examine
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
            raise _connection_lost(self.cfg, exc) from exc
        except Exception as exc:
            import imapclient  # loaded by connect_imap already: this only names its errors

            if isinstance(exc, imapclient.exceptions.IMAPClientAbortError):  # the socket died
                self.close()
                raise _connection_lost(self.cfg, exc) from exc
            if isinstance(exc, imapclient.exceptions.IMAPClientError):
                self.close()
                raise MailboxError(f"IMAP server {self.cfg.host} answered an error: {_why(exc)}") from exc
            raise

    def _batches(self, checkpoint, known):
        if checkpoint is not None and self._client is None and self._examine_first is not None:
            seen = self._examine_first(self.cfg)
            if seen is not None and _nothing_new(checkpoint, *seen):
                return  # nothing new, and imapclient not even loaded
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
        from ..mail_model import RawMessage  # not at the top: a poll that finds no new mail makes no record

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


def _nothing_new(checkpoint: tuple[int, int], uidvalidity: int, uidnext: int) -> bool:
    """Whether a folder whose UIDs are still valid (same UIDVALIDITY) has no UID after the checkpoint's."""
    return checkpoint[0] == uidvalidity and uidnext <= checkpoint[1] + 1


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


# The errors of connecting and logging in, worded once for imapclient's path and imaplib's quick EXAMINE.
def _cannot_connect(cfg: MailboxConfig, exc: BaseException) -> MailboxError:
    return MailboxError(f"cannot connect to IMAP server {cfg.host}:{cfg.port} ({cfg.security}): {_why(exc)}")


def _login_refused(cfg: MailboxConfig, exc: BaseException) -> AuthenticationError:
    return AuthenticationError(f"IMAP server {cfg.host} refused the login of {cfg.username!r}: {_why(exc)}")


def _login_failed(cfg: MailboxConfig, exc: BaseException) -> MailboxError:
    return MailboxError(f"IMAP login to {cfg.host} failed: {_why(exc)}")


def _connection_lost(cfg: MailboxConfig, exc: BaseException) -> MailboxError:
    return MailboxError(f"IMAP connection to {cfg.host} lost: {_why(exc)}")


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text.replace("b'", "'")


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
                 renew_seconds: float = 600.0, max_backoff: float = 300.0, log=None,
                 on_tick: Callable[[], None] | None = None):
        self.cfg = cfg
        self._notify = on_new_mail
        self._tick = on_tick  # called about once a second while idling (the worker checks its news was polled)
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
                _text, late = client.idle_done()  # what came between the last check and DONE counts too
                if _announces_mail([*responses, *late]):
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
            if self._tick is not None:
                self._tick()
        return []


def _announces_mail(responses: list) -> bool:
    """Whether IDLE's untagged responses say the folder has new messages."""
    return any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
