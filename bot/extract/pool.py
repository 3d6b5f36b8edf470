"""``Extractor``: ``extract()`` in bounded worker processes (memory limit, timeout).

Worker processes are started with forkserver (or spawn): their entry point
``_worker_main`` (and ``_parse_file``) must stay importable as
``bot.extract.pool._worker_main``.

A large attachment goes to its worker as the path of a private file in the
spool directory (``Extractor(spool=...)``, ``state/spool/`` for the bot), not
as pickled bytes: a pickled 50 MB file is one more copy in this process while
it is sent and two in the worker while it is received. The file is deleted
when the job is done; files left by a process that died are deleted when
the next pool starts.

The same way back: a parse worker writes each large attachment of the
message it parsed to the spool and sends the message with that file in its
place; here the attachment's data is the file mapped read-only
(``MappedFile``: nothing is read unless touched), and its extraction job
sends the worker that path. The file is deleted when its extraction is
done, or when the message no longer needs it (``release``). The files
themselves (writing, mapping, cleaning up after a dead process) are
``spool``'s; this module stays one on purpose: the worker loop and the
``Extractor`` speak one job protocol (what is sent, what comes back, whose
fault a failure is), which is read best in one place.
"""
from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import os
import pwd
import resource
import signal
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..archive import sha256
from ..errors import EnvironmentFault, environmental
from ..model import Attachment, Extraction
from .common import ExtractLimits, MappedFile, MiB
from .dispatch import extract, extract_unguarded, public_kind
from .heap import trim_heap, tune_malloc
from .kinds import EXTENSIONS, file_extension
from .ocr import OcrNeeded
from .spool import SPOOL_BYTES, Spooled, spool_out, unspooled, clean_spool


# --------------------------------------------------------------------------
# Extractor: bounded worker processes
# --------------------------------------------------------------------------

def _limit_memory(limit: int | None) -> None:
    """Cap the address space so a hostile file raises MemoryError, not OOM-kills the host."""
    if not limit:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _parse_file(path: str, limits=None, spool: tuple[str, int, int] | None = None):
    """A parse job: the message archived at ``path``, parsed with ``limits``
    (a ``ParseLimits``; None: the defaults), with the SHA-256 of each attachment.

    ``spool``: (directory, owner's process id, bytes): each attachment larger
    than that is written to a file of the directory named for the owner (the
    bot, which deletes it) and sent back as that file (``SpoolRef``)."""
    from ..parse import ParseLimits, parse_message  # not at the top: only a worker that parses mail loads the parser

    with open(path, "rb") as fh:
        message = parse_message(fh.read(), ParseLimits() if limits is None else limits)
    digests = [sha256(a.data) for a in message.attachments]
    if spool is not None and any(len(a.data) > spool[2] for a in message.attachments):
        message = replace(message, attachments=tuple(
            replace(a, data=spool_out(a.data, *spool[:2])) if len(a.data) > spool[2] else a
            for a in message.attachments))
    return message, digests


def _worker_main(conn, limits: ExtractLimits, ocr: bool | None, memory_limit: int | None) -> None:
    """Worker loop: receive (key, attachment, OCR mode), send back (key, Extraction or "ocr");
    or (key, (path, ParseLimits), "parse"), send back (key, (ParsedMessage, digests));
    or (key, (function, args), "call"), send back (key, function(*args)).
    A job that fails sends back (key, ``_Failure``): whose fault it was, and why."""
    os.setpgrp()  # own process group: a timeout kill takes tesseract/catdoc with it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_limit)
    tune_malloc()  # before the modules load: their memory is held the same way
    for module in ("bot.archive", "bot.parse"):  # what every parse job needs: failing here is the machine's fault
        importlib.import_module(module)
    for module in ("pypdfium2", "docx", "PIL.Image"):  # used by nearly every poll: loaded before the clock runs
        try:
            __import__(module)
        except ImportError:
            pass
    conn.send(_READY)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, att, mode = message
        result = _run_job(att, limits, mode)
        del att, message  # a large file is not kept while waiting for the next one
        conn.send((key, result))
        del result


def _run_job(att, limits: ExtractLimits, mode):
    """One job in a worker: its result, or a ``_Failure`` saying whose fault it was.

    Runs what ``extract()`` runs, but an error of the machine (see
    ``environmental``) is not turned into a reason blaming the file."""
    try:
        if mode == "parse":
            return _parse_file(*att)
        if mode == "call":
            function, args = att
            return function(*args)
        if isinstance(att, Spooled):
            try:
                att = unspooled(att)
            except OSError as exc:  # the parent wrote it just before: a lost spool is the machine's fault
                return _Failure("environment", f"the spooled copy of {att.filename!r} cannot be read: {exc}")
        try:
            return extract_unguarded(att, limits, mode, EXTENSIONS.get(file_extension(att.filename), "unknown"))
        except OcrNeeded:
            return "ocr"
    except MemoryError:
        if mode in ("parse", "call"):
            return _Failure("memory", "the message needs more memory than a worker may use")
        return _reader_error(att, "tệp cần nhiều bộ nhớ hơn mức cho phép để đọc")  # as extract()
    except Exception as exc:
        if environmental(exc):  # the machine's fault: never blamed on the file
            return _Failure("environment", f"{type(exc).__name__}: {exc}")
        if mode in ("parse", "call"):  # parse_message is total: a bug or a lost archive file, shown on this message
            return _Failure("raised", f"{type(exc).__name__}: {str(exc)[:200]}")
        return _reader_error(att, f"không đọc được tệp ({type(exc).__name__}: {str(exc)[:120]})")


def _reader_error(att: Attachment, error: str) -> Extraction:
    return Extraction(public_kind(EXTENSIONS.get(file_extension(att.filename), "unknown")), error=error)


@dataclass(frozen=True)
class _Failure:
    """A job that failed inside a worker: ``cause`` as in ``JobFailed``."""

    cause: str
    reason: str


@dataclass
class _Job:
    key: object
    att: Attachment | str  # the path of an archived message for a parse job
    defer_ocr: bool = False
    cancelled: bool = False
    parse: bool = False
    parse_limits: object = None  # a parse job's ParseLimits (None: the defaults)
    call: tuple | None = None  # a call job's (function, args)
    spooled: Spooled | None = None  # what the worker is sent instead of ``att``'s bytes
    kind: str = "unknown"  # what a failure names: the file's kind, or "message"


@dataclass(frozen=True)
class JobFailed:
    """What ``ready()`` hands back for a job that failed: its worker timed out,
    crashed or ran out of memory on it, or parsing raised. ``cause`` is one
    of "timeout", "crash", "memory", "raised" (the file's or the message's
    own failure) or "environment" (the machine's: see ``environmental``);
    ``reason`` says it for a person; ``kind`` is the file's kind."""

    reason: str
    cause: str = "crash"
    kind: str = "unknown"

    @property
    def environment(self) -> bool:
        return self.cause == "environment"

    def extraction(self) -> Extraction:
        """The failure as a file's result (what ``extract_many`` hands back)."""
        return Extraction(self.kind, error=self.reason)


def _cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_cwd() -> None:
    """Workers start in this process's current directory: one this user cannot
    enter (``cd /root`` then ``su bot``) or that was deleted makes every
    worker die at start. Said plainly here, before any file is blamed."""
    try:
        cwd = os.getcwd()
    except OSError as exc:
        raise EnvironmentFault(f"the current directory cannot be read ({exc.strerror}): the extraction workers "
                               "start in it", hint="cd to a directory this user can read (e.g. the state "
                               "directory) and run again; no mail was charged for it") from None
    if not os.access(cwd, os.R_OK | os.X_OK):
        user = pwd.getpwuid(os.geteuid()).pw_name if hasattr(os, "geteuid") else "?"
        raise EnvironmentFault(f"the current directory {cwd} cannot be read by user {user} (PermissionError): "
                               "the extraction workers start in it",
                               hint="cd to a directory this user can read (e.g. the state directory) and run "
                                    "again; no mail was charged for it")


# A parse worker leaves every attachment larger than this in the spool (when
# there is one), not only the large ones: each file then crosses no pipe at
# all (parse worker -> bot -> extraction worker was two pickled copies, and
# the bot's process, the first poll's critical path, paid for both).
PARSE_SPOOL_BYTES = 32 * 1024

# Jobs sent to a worker at once: the one it works on and the next, waiting in
# its pipe, so that it goes on while this process is busy (recording a batch,
# waiting for a commit to reach the disk, or holding the GIL in the fetch
# thread) instead of waiting for it. Only the first is charged when a worker
# dies or times out; the others go back to the queue.
DEPTH = 2

_READY = "extract-worker-ready"  # a new worker's first message: the clock of its first file starts then
_STARTUP_SECONDS = 60.0  # a worker that is not ready by then is killed


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    pipe: multiprocessing.connection.Connection  # to the worker process
    job: _Job | None = None  # the job it is working on (its clock: ``deadline``)
    next: deque = field(default_factory=deque)  # sent after ``job``, waiting in its pipe (see DEPTH)
    deadline: float = 0.0
    started: bool = False  # its _READY arrived

    @property
    def task(self):
        return self.job.key if self.job is not None else None

    @property
    def kind(self) -> str:
        return self.job.kind if self.job is not None else "unknown"

    def jobs(self) -> list[_Job]:
        return [self.job, *self.next] if self.job is not None else []

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, TypeError):
            pass
        self.process.kill()
        self.process.join(5)
        self.pipe.close()


TIMEOUT_ERROR = "đọc tệp quá {:g} giây, đã dừng"
_CRASH_ERROR = "trình đọc bị dừng đột ngột khi đọc tệp này ({how}); tệp có thể bị hỏng hoặc quá lớn"
_FAILED_ERROR = "không lấy được chữ từ tệp"


# What ``ready()`` hands back for a file submitted with ``defer_ocr`` that has
# scanned pages: submit it again without ``defer_ocr`` when OCR may run.
NEEDS_OCR = Extraction("unknown", error="OCR needed")


@dataclass
class Extractor:
    """Runs ``extract`` on many attachments in a pool of worker processes.

    Each worker has an address-space limit (``memory_limit`` bytes); each
    attachment a wall-clock ``timeout`` in seconds, after which its worker is
    killed and replaced and the result says "extraction timed out". A worker
    that crashes (segfault in a PDF library, out of memory) costs only its
    own attachment. ``workers=0`` runs inline, in this process, without
    timeout or memory limit (tests, debugging). The pool starts on first use.

    Two ways to use it: ``extract_many(atts)`` (blocking), or ``submit(key,
    att)`` then ``ready()`` (results as they finish, so the caller records
    what is done while the rest is still being read). ``submit(...,
    defer_ocr=True)`` reads a file without OCR and hands back ``NEEDS_OCR``
    if it has scanned pages, so that slow OCR can wait until the plain files
    are done (see pipeline.py).

    While it waits for its workers, this process gives what it freed back to
    the system (``trim_heap``), at most every ``trim_every`` seconds: a trim
    costs well under a millisecond, and the fetched and parsed messages the
    bot let go of were about 5 MB of holes in its heap during the OCR pass,
    when the workers' pages make the process tree's peak. From the pool's
    start, its large blocks go back when freed too (``tune_malloc``).

    ``spool``: a private directory for attachments larger than
    ``spool_bytes``, which workers get by path (None: every file is sent as
    bytes). Made (mode 0700) when the pool starts or a file is first
    spooled; files a dead process left there are deleted then.

    Use as a context manager, or call ``close()``.
    """

    limits: ExtractLimits = field(default_factory=ExtractLimits)
    workers: int | None = None
    timeout: float = 60.0
    memory_limit: int | None = 1024 * MiB
    ocr: bool | None = None
    spool: Path | None = None
    spool_bytes: int = SPOOL_BYTES
    parse_spool_bytes: int = PARSE_SPOOL_BYTES
    trim_every: float = 1.0
    _spooled: set = field(default_factory=set, init=False, repr=False)  # paths written and not deleted yet
    _spool_ready: bool = field(default=False, init=False, repr=False)
    _pool: list[_Worker] = field(default_factory=list, init=False, repr=False)
    _context: object = field(default=None, init=False, repr=False)
    _queue: deque = field(default_factory=deque, init=False, repr=False)
    _done: list = field(default_factory=list, init=False, repr=False)
    _trimmed: float = field(default=0.0, init=False, repr=False)  # when this process's heap was last trimmed

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def size(self) -> int:
        """Number of worker processes (0: inline)."""
        return _cores() if self.workers is None else max(0, self.workers)

    @property
    def pending(self) -> int:
        """Files submitted whose result ``ready()`` has not handed back yet."""
        running = sum(1 for w in self._pool for job in w.jobs() if not job.cancelled)
        return len(self._queue) + running + len(self._done)

    def extract(self, att: Attachment) -> Extraction:
        """One attachment (same bounds as ``extract_many``)."""
        return self.extract_many([att])[0]

    def extract_many(self, atts: list[Attachment]) -> list[Extraction]:
        """Extract every attachment; results in the same order as ``atts``."""
        if self.size == 0 or not atts:
            return [extract(att, self.limits, self.ocr) for att in atts]
        token = object()
        for index, att in enumerate(atts):
            self.submit((token, index), att)
        results: list[Extraction | None] = [None] * len(atts)
        others: list = []
        missing = len(atts)
        while missing:
            for key, result in self.ready(None):
                if isinstance(key, tuple) and len(key) == 2 and key[0] is token:
                    results[key[1]] = result
                    missing -= 1
                else:  # submitted by another caller: handed back by its next ready()
                    others.append((key, result))
        self._done.extend(others)
        return [r.extraction() if isinstance(r, JobFailed) else r if r is not None
                else Extraction("unknown", error=_FAILED_ERROR) for r in results]

    def submit(self, key, att: Attachment, *, defer_ocr: bool = False) -> None:
        """Queue one attachment; ``ready()`` hands back ``(key, Extraction)``, or
        ``(key, JobFailed)`` when its worker timed out or crashed on it."""
        if isinstance(att.data, (bytes, MappedFile)) and len(att.data) > self.limits.max_bytes:  # never sent
            self._done.append((key, extract(att, self.limits, False)))
        else:
            self._queue.append(_Job(key, att, defer_ocr and self.ocr is not False, spooled=self._spool(att)))

    def release(self, atts) -> None:
        """The attachments of a message that is done (recorded, failed or set
        aside): their spool files that no queued or running job reads are deleted."""
        paths = {getattr(a.data, "path", None) for a in atts} & self._spooled
        if paths:
            jobs = [*self._queue, *(job for w in self._pool for job in w.jobs())]
            used = {job.spooled.path for job in jobs if job.spooled is not None}
            for path in paths - used:
                self._remove(path)

    def submit_parse(self, key, path: str, limits=None) -> None:
        """Queue the parse of the message archived at ``path`` with ``limits`` (a
        ``ParseLimits``, which also says which Authentication-Results to trust;
        None: the defaults); ``ready()`` hands back ``(key, (ParsedMessage,
        attachment digests))`` or ``(key, JobFailed)``. Parsing is as heavy as
        reading the attachments: the pool shares it. With a spool, attachments
        larger than ``spool_bytes`` come back as spool files (see the module
        docstring): hand the message's attachments to ``release`` when done."""
        self._queue.append(_Job(key, path, parse=True, parse_limits=limits))

    def submit_call(self, key, function, *args) -> None:
        """Queue ``function(*args)`` for a worker, ahead of the files and parses
        waiting (it finishes work already started); ``ready()`` hands back
        ``(key, result)`` or ``(key, JobFailed)`` (cause "raised" when it raised,
        "timeout", "crash" or "memory" as for a file). ``function`` must be
        importable by name (a module's top-level function) and, with its
        arguments and result, picklable. Inline (``workers=0``) it runs at the
        next ``ready()`` and what it raises is raised there."""
        self._queue.appendleft(_Job(key, "", call=(function, args)))

    def ready(self, timeout: float | None = 0.0) -> list[tuple[object, Extraction]]:
        """The results finished since the last call, as ``(key, Extraction)``
        (or ``JobFailed``, see ``submit``).

        When none is finished yet, waits up to ``timeout`` seconds for one
        (None: as long as anything is pending). Raises ``EnvironmentFault``
        when a worker cannot be started, or dies before it is ready: that is
        the machine's fault, never the fault of the file it was given.
        """
        if self.size == 0:
            while self._queue and not self._done:
                job = self._queue.popleft()
                self._done.append((job.key, self._inline(job)))
        else:
            self._dispatch()
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._done and any(w.job is not None for w in self._pool):
                if timeout != 0.0 and time.monotonic() - self._trimmed >= self.trim_every:  # about to wait
                    trim_heap()
                    self._trimmed = time.monotonic()
                self._collect(None if deadline is None else deadline - time.monotonic())
                self._dispatch()
                if deadline is not None and time.monotonic() >= deadline:
                    break
        done, self._done = self._done, []
        return done

    def cancel(self) -> None:
        """Forget every file not handed back yet (a stop request): queued ones
        are dropped, running ones finish and their results are discarded."""
        for job in self._queue:
            self._unspool(job)
        self._queue.clear()
        self._done.clear()
        for worker in self._pool:
            for job in worker.jobs():
                job.cancelled = True

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        for worker in self._pool:
            try:
                worker.pipe.send(None)
            except (OSError, ValueError):
                pass
        for worker in self._pool:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()
            else:
                worker.pipe.close()
        self._pool.clear()
        self._queue.clear()
        self._done.clear()
        for path in list(self._spooled):  # the workers are gone: nobody reads these any more
            self._remove(path)

    # -- internals ---------------------------------------------------------

    def _spool(self, att: Attachment) -> Spooled | None:
        """Write a large attachment to a private file for its worker (None: send its bytes);
        one a parse worker left in the spool is sent as it is."""
        if getattr(att.data, "path", None) in self._spooled:
            return Spooled(att.data.path, att.filename, att.content_type, att.container)
        if (self.spool is None or self.size == 0 or not isinstance(att.data, bytes)
                or len(att.data) <= self.spool_bytes):
            return None
        self._prepare_spool()
        path = str(self.spool / f"{os.getpid()}-{len(self._spooled)}-{time.monotonic_ns()}.att")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._spooled.add(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(att.data)
        return Spooled(path, att.filename, att.content_type, att.container)

    def _parse_spool(self) -> tuple[str, int, int] | None:
        """Where a parse worker leaves large attachments (see ``_parse_file``)."""
        if self.spool is None:
            return None
        self._prepare_spool()
        return str(self.spool), os.getpid(), min(self.spool_bytes, self.parse_spool_bytes)

    def _prepare_spool(self) -> None:
        """Once per pool: make the spool directory and delete what a dead process left there."""
        if self.spool is not None and not self._spool_ready:
            self.spool.mkdir(mode=0o700, parents=True, exist_ok=True)
            clean_spool(self.spool)
            self._spool_ready = True

    def _unspool(self, job: _Job) -> None:
        """The job is done (or dropped): its file, if it had one, is deleted."""
        if job.spooled is not None:
            self._remove(job.spooled.path)
            job.spooled = None

    def _remove(self, path: str) -> None:
        self._spooled.discard(path)
        try:
            os.unlink(path)
        except OSError:  # gone already; or undeletable: clean_spool tries again when the next pool starts
            pass

    def _inline(self, job: _Job) -> Extraction:
        if job.call is not None:
            function, args = job.call
            return function(*args)
        if job.parse:
            return _parse_file(job.att, job.parse_limits)  # raises here: the caller decides whose fault it is
        try:
            return extract(job.att, self.limits, "later" if job.defer_ocr else self.ocr)
        except OcrNeeded:
            return NEEDS_OCR

    def _ensure_pool(self, wanted: int) -> None:
        if len(self._pool) < min(self.size, max(1, wanted)):
            _check_cwd()
            self._prepare_spool()  # the first poll after a crash starts the pool: its leftovers go then
        if self._context is None:
            methods = multiprocessing.get_all_start_methods()
            self._context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            tune_malloc()  # this process too (see the class docstring)
        while len(self._pool) < min(self.size, max(1, wanted)):
            self._pool.append(self._start_worker())

    def _start_worker(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, name="extract-worker", daemon=True,
                                        args=(child, self.limits, self.ocr, self.memory_limit))
        try:
            process.start()
        except Exception as exc:  # cannot fork, no forkserver, the current directory is gone...
            parent.close()
            raise EnvironmentFault(f"cannot start an extraction worker: {type(exc).__name__}: {exc}") from exc
        finally:
            child.close()
        return _Worker(process, parent)

    def _drop(self, worker: _Worker) -> None:
        """A worker that never became ready: gone, with its job (the caller stops);
        a later use of the pool starts a new one."""
        worker.kill()
        self._pool.remove(worker)
        self._requeue(worker)

    def _replace(self, worker: _Worker) -> None:
        """A worker killed (timeout) or dead (crash), its failed job finished:
        the jobs it had not started go back to the queue, uncharged."""
        worker.kill()
        self._requeue(worker)
        self._pool[self._pool.index(worker)] = self._start_worker()

    def _requeue(self, worker: _Worker) -> None:
        self._queue.extendleft(reversed([job for job in worker.jobs() if not job.cancelled]))
        worker.job = None
        worker.next.clear()

    def _dispatch(self) -> None:
        if self._queue:
            self._ensure_pool(sum(1 for w in self._pool if w.job is not None) + len(self._queue))
        for depth in range(DEPTH):  # each worker one job first, then one more each...
            for worker in list(self._pool):
                if not self._queue:
                    return
                if len(worker.jobs()) != depth or (depth and not worker.started):
                    continue
                job = self._queue.popleft()
                mode = ("call" if job.call is not None else "parse" if job.parse else "later" if job.defer_ocr
                        else self.ocr)
                payload = (job.call if job.call is not None else (job.att, job.parse_limits, self._parse_spool())
                           if job.parse else job.spooled or job.att)
                try:
                    worker.pipe.send((job.key, payload, mode))
                except (OSError, ValueError):
                    self._queue.appendleft(job)
                    if worker.job is None:  # died while idle: replace and retry later
                        self._replace(worker)
                    # else it died on its job: ``_collect`` sees it and charges that job
                    continue
                job.kind = "message" if job.parse or job.call is not None else public_kind(
                    EXTENSIONS.get(file_extension(job.att.filename), "unknown"))
                if worker.job is None:
                    worker.job = job
                    worker.deadline = time.monotonic() + self.timeout + (0 if worker.started else _STARTUP_SECONDS)
                else:
                    worker.next.append(job)

    def _collect(self, timeout: float | None) -> None:
        busy = [w for w in self._pool if w.job is not None]
        if not busy:
            return
        wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        if timeout is not None:
            wait = min(wait, max(0.0, timeout))
        ready = multiprocessing.connection.wait([w.pipe for w in busy], timeout=wait)
        for worker in busy:
            if worker.pipe in ready:
                self._receive(worker)
            elif time.monotonic() >= worker.deadline:
                if not worker.started:
                    self._drop(worker)
                    raise EnvironmentFault(f"an extraction worker was not ready after {_STARTUP_SECONDS:g} s "
                                           "(the machine is overloaded or out of memory)")
                self._finish(worker, JobFailed(TIMEOUT_ERROR.format(self.timeout), "timeout", worker.kind))
                self._replace(worker)

    def _finish(self, worker: _Worker, result) -> None:
        """The worker's current job is done (or failed): the next one it was sent, if any, starts its clock."""
        job = worker.job
        worker.job = worker.next.popleft() if worker.next else None
        if worker.job is not None:
            worker.deadline = time.monotonic() + self.timeout
        self._unspool(job)
        if job.parse and isinstance(result, tuple):  # its large attachments, left in the spool: ours to delete
            paths = {a.data.path for a in result[0].attachments if isinstance(a.data, MappedFile)}
            self._spooled.update(paths)
            if job.cancelled:
                for path in paths:
                    self._remove(path)
        if job.cancelled:
            return
        if isinstance(result, _Failure):
            result = JobFailed(result.reason, result.cause, job.kind)
        self._done.append((job.key, NEEDS_OCR if result == "ocr" else result))

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.pipe.recv()
            if message == _READY:  # start-up is not charged to the file
                worker.started, worker.deadline = True, time.monotonic() + self.timeout
                return
            _, result = message
        except (EOFError, OSError):
            worker.process.join(1)
            code = worker.process.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            if not worker.started:  # it never read its job: the machine's fault, not the file's
                self._drop(worker)
                raise EnvironmentFault(
                    f"an extraction worker exited before it was ready ({how}); its error is printed above",
                    hint="check the current directory, the memory limit and that the bot's Python packages "
                         "are readable by this user; no mail was charged for it") from None
            self._finish(worker, JobFailed(_CRASH_ERROR.format(how=how), "crash", worker.kind))
            self._replace(worker)
            return
        self._finish(worker, result)
