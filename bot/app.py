"""The bot as a library: the operations the command line (and the worker) run.

Each operation takes what it needs (config, rules, store, a clock reading)
as arguments; the command line only parses arguments and prints.
"""
from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .config.load import load_config
from .config.model import Config
from .context import Context
from .errors import ConfigError, MailboxError
from .official.policy import Requirement
from .record import replace
from .rules.load import load_rules
from .rules.model import Rules

if TYPE_CHECKING:  # annotations only: each module is imported where it is used
    from .extract import Extractor
    from .ingest import PollReport
    from .parse import ParseLimits
    from .store import Store, StoredItem

log = logging.getLogger("bot")


def load(config_path: Path) -> Context:
    """Load and validate config.toml and the rules it points to."""
    config = load_config(config_path)
    rules = load_rules(config.paths.rules)
    check_official(config, rules)
    return Context(config=config, rules=rules)


def check_official(config: Config, rules: Rules) -> None:
    """A document that requires ``trusted_signature`` needs trust roots: a ``ConfigError`` naming
    the documents when ``[official] trust_roots`` is not set (no copy could ever be official)."""
    needing = [d.id for d in rules.campaign.doc_types if Requirement.TRUSTED_SIGNATURE in d.official]
    if needing and not config.official.roots.configured:
        raise ConfigError(f"official.trust_roots: not set, but the rules require 'trusted_signature' of "
                          f"{', '.join(needing)} (rules/campaign.toml)",
                          hint="set [official] trust_roots in config.toml to a folder of the CA certificates "
                               "signatures must chain to, or require 'digital_signature' instead")


def refuse_sample_recipients(ctx: Context) -> None:
    """Raise ``ConfigError`` when SMTP is on and the roster or the coordinator
    is sample data (addresses in reserved example domains), naming the file to
    replace; ``[smtp] allow_reserved_domains`` lifts it for tests and demos."""
    cfg = ctx.config
    if not cfg.smtp.enabled or cfg.smtp.allow_reserved_domains:
        return
    from .config.sample import sample_data  # not at the top: only a config that sends mail is checked

    problems = sample_data(cfg, [e for school in ctx.rules.schools for e in school.emails]).problems(cfg)
    if problems:
        raise ConfigError("refusing to send mail to sample data: " + "; and ".join(problems),
                          hint="replace them with the office's real data (see docs/install.md); only for a demo "
                               "against a local test SMTP server, set [smtp] allow_reserved_domains = true")


def ocr_available() -> bool:
    """Tesseract with Vietnamese data is installed (a scan can be read)."""
    from .extract import ocr_unavailable_reason  # not at the top: status and health do not read files

    return ocr_unavailable_reason() is None


def ocr_enabled(ctx: Context) -> bool:
    """Scans are read here: OCR is not turned off (``[extraction] ocr``) and is installed."""
    return ctx.config.extraction.ocr != "off" and ocr_available()


def new_extractor(ctx: Context) -> Extractor:
    """The pool of extraction workers (one per core), honouring ``[extraction] ocr``;
    large attachments reach them through files in ``state/spool/``.

    An attachment cannot be larger than the message that carries it, and a
    message up to ``mailbox.max_message_mb`` is downloaded: every file of a
    downloaded message is also read (one limit to set, not two that disagree).
    """
    from .extract import ExtractLimits, Extractor  # not at the top: the pool is for poll and run only

    limits = ExtractLimits(max_bytes=ctx.config.mailbox.max_message_bytes, trust_roots=ctx.config.official.roots)
    return Extractor(ocr=ctx.config.extraction.ocr_enabled, limits=limits, spool=ctx.config.paths.state / "spool")


def parse_limits(ctx: Context) -> ParseLimits:
    """How the pipeline parses mail under this config: the default bounds, and
    only the Authentication-Results of ``[mailbox] trusted_authserv_ids``."""
    from .parse import ParseLimits  # not at the top: only poll parses mail

    return ParseLimits(trusted_authserv_ids=ctx.config.mailbox.trusted_authserv_ids)


def poll(ctx: Context, now: datetime, *, client_factory=None, extractor: Extractor | None = None,
         progress=None, should_stop=lambda: False, take_lock: bool = True, sender=None,
         renderer=None) -> PollReport:
    """Fetch new mail once, process everything pending, and queue the receipts due.

    Takes the state lock unless the caller (the worker) already holds it.
    With a ``sender``, due mail is also delivered now (the one-shot ``poll``
    command); without one it waits for the worker's outbox job.
    """
    from .ingest import PollReport  # not at the top: status and health do not poll
    from .lock import StateLock
    from . import notify
    from .store import Store  # nor (here and below) does check-config open the state

    report = PollReport()
    with (StateLock(ctx.config.paths.state, "poll") if take_lock else _no_lock()), \
            Store.open(ctx.config.paths.state) as store:
        made: list[Extractor] = []  # the pool this poll starts (none when nothing is new), closed at its end

        def pool() -> Extractor:
            if extractor is not None:
                return extractor
            if not made:
                made.append(new_extractor(ctx))
            return made[0]

        needs_ocr: set[int] = set()
        try:
            _ingest_processing(ctx, store, now, report, client_factory, pool, progress, should_stop, needs_ocr)
            if store.message_counts().get("new"):  # else the pipeline, its readers and the pool are not even loaded
                _process(ctx, store, now, report, client_factory, pool(), progress, should_stop, needs_ocr)
        finally:
            for own in made:
                own.close()
        notify.receipts_after_poll(ctx, store, sender, now, recorded=bool(report.processed or report.failed),
                                   renderer=renderer)
        store.set_mark("poll", now, report.summary())
    return report


def _process(ctx: Context, store: Store, now: datetime, report: PollReport, client_factory,
             extractor: Extractor | None, progress, should_stop, needs_ocr: set[int] | None = None) -> None:
    """Process every message waiting (new, in flight when the bot died, out of
    attempts), with ``extractor`` or a pool of this call's own. ``needs_ocr``:
    the rows already known to need OCR (see ``process_pending``)."""
    from .pipeline import process_pending  # not at the top: a poll that finds no new mail loads no pipeline

    own = extractor is None
    extractor = extractor or new_extractor(ctx)
    needs_ocr = set() if needs_ocr is None else needs_ocr
    try:
        # OCR runs in slices; between two, the mail that arrived meanwhile is
        # fetched and recorded first (OCR must not hold back the mailbox).
        while not process_pending(store, ctx.rules, extractor, now, report,
                                  ocr_available=lambda: ocr_enabled(ctx), progress=progress,
                                  should_stop=should_stop, commands=command_hook(ctx),
                                  ocr_seconds=OCR_SLICE_SECONDS, needs_ocr=needs_ocr,
                                  parse_limits=parse_limits(ctx)) and not should_stop():
            try:
                _ingest(ctx, store, now, report, client_factory, progress)
            except MailboxError as exc:  # the next poll fetches it; the scans go on meanwhile
                log.warning("fetching new mail between OCR slices failed: %s", exc)
    finally:
        if own:
            extractor.close()


OCR_SLICE_SECONDS = 60.0


def _ingest_processing(ctx: Context, store: Store, now: datetime, report: PollReport, client_factory, pool,
                       progress, should_stop, needs_ocr: set[int]) -> None:
    """Fetch new mail; from an IMAP mailbox, in a thread (``ingest.BackgroundFetch``) while
    each committed batch is processed here (its first pass: scans wait for
    ``_process``). Not for a folder source: its files are read in name order,
    not in order of receipt, and processing follows the order of receipt."""
    if ctx.config.mailbox.source != "imap":
        _ingest(ctx, store, now, report, client_factory, progress)
        return
    from .ingest import BackgroundFetch  # not at the top: status and health open no mailbox

    fetch = BackgroundFetch(lambda own_store, hook: _ingest(ctx, own_store, now, report, client_factory, hook),
                            ctx.config.paths.state, progress).start()
    try:
        seen, ended = 0, False
        while not ended:
            seen, ended = fetch.wait(seen)
            if not ended and not should_stop() and store.message_counts().get("new"):
                from .pipeline import process_pending  # not at the top: an idle poll loads no pipeline

                process_pending(store, ctx.rules, pool(), now, report, ocr_available=lambda: ocr_enabled(ctx),
                                progress=progress, should_stop=should_stop, commands=command_hook(ctx),
                                ocr_seconds=0.0, needs_ocr=needs_ocr, parse_limits=parse_limits(ctx))
    finally:
        fetch.close()
    fetch.finish()


def _ingest(ctx: Context, store: Store, now: datetime, report: PollReport, client_factory, progress) -> None:
    from .ingest import ingest  # not at the top: status and health open no mailbox
    from .mailbox import open_source

    source = open_source(ctx.config.mailbox, client_factory)
    try:
        ingest(source, store, now, report, progress)
    finally:
        source.close()


@contextlib.contextmanager
def _no_lock():
    yield


def command_hook(ctx: Context):
    """The pipeline's hook for the coordinator's command mail (see bot/coordinator.py)."""
    from .coordinator import handle_command_mail  # not at the top: only a poll reads command mail

    return lambda store, pending, message, now: handle_command_mail(ctx, store, pending, message, now)


def write_report(ctx: Context, store: Store, now: datetime, directory: Path | None = None,
                 cycle: int | None = None) -> tuple[Path, Path]:
    """The office's report of the cycle (DOCX and XLSX) in ``directory``
    (default ``state/reports/``); returns both paths."""
    from .report import write_reports  # not at the top: the DOCX/XLSX writers are for the report command
    from .status import status_for

    status = status_for(store, ctx.rules, now, cycle)
    return write_reports(status, ctx.rules, directory or ctx.config.paths.state / "reports", now,
                         templates=ctx.config.paths.templates)


def scheduled_tasks(ctx: Context, renderer=None) -> dict:
    """The worker's jobs besides polling: name -> callable(now) (outbox, remind, digest),
    rendering with ``renderer`` (the worker's, shared with its polls) if given."""
    from . import notify  # not at the top: only the worker schedules mail

    return notify.tasks(ctx, renderer=renderer)


def worker_renderer(ctx: Context):
    """One renderer for the worker's life: each template compiled once, and
    again only when its file changes (jinja2 loads at the first mail)."""
    from .outbound.compose import renderer_for  # not at the top: only commands that send mail render

    return renderer_for(ctx)


def export_rows(store: Store, rules: Rules) -> list[dict]:
    """Every attachment (or document part) the bot has seen, oldest first.

    A continuation page (a photographed page without a title, that follows
    its document's first page) names the first page's item: "trang tiếp
    theo của R17".
    """
    from .status import item_evidence, settlements  # not at the top: check-config computes no status

    tz = rules.campaign.tz
    settled = settlements(store.corrections())
    return [_row(i, tz, item_evidence(i, settled)) for i in name_first_pages(store.items())]


def csv_rows(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Export rows for CSV: ``evidence`` flattened into the columns official, signed_by,
    seal, number, date, problems (pure); returns the rows and their column names."""
    from .officialcopy import COLUMNS, json_columns  # not at the top: check-config exports nothing

    out = []
    for row in rows:
        flat = {k: v for k, v in row.items() if k != "evidence"}
        flat.update(json_columns(row.get("evidence")))
        out.append(flat)
    names = [k for k in rows[0] if k != "evidence"] + list(COLUMNS) if rows else ["message_id", *COLUMNS]
    return out, names


def name_first_pages(items: list[StoredItem]) -> list[StoredItem]:
    """Items whose reason says "trang tiếp theo của tệp 'X'" name instead the
    reference of X's item in the same message and container (pure)."""
    from .classify.message import CONTINUATION  # not at the top: status and health load no classifier
    prefix = CONTINUATION + " '"
    firsts = {(i.message_id, i.container, i.filename): i.ref for i in items if i.part_index == 0}
    out = []
    for item in items:
        lead = item.reasons[0] if item.reasons else ""
        if lead.startswith(prefix):
            name, _, rest = lead[len(prefix):].partition("'")
            ref = firsts.get((item.message_id, item.container, name))
            if ref is not None:
                item = replace(item, reasons=(f"trang tiếp theo của {ref} (tệp '{name}'){rest}", *item.reasons[1:]))
        out.append(item)
    return out


def _row(item: StoredItem, tz, evidence=None) -> dict:
    """One export row; ``evidence``: issue 16's object (None: the part was not judged, or was
    recorded before the check existed)."""
    return {
        "ref": item.ref, "message_id": item.message_id, "received_at": item.received_at.astimezone(tz).isoformat(),
        "from": item.from_addr, "subject": item.subject, "filename": item.filename, "container": item.container,
        "first_page": item.first_page, "last_page": item.last_page, "school": item.school,
        "doc_types": list(item.doc_types), "campaign": item.campaign, "cycle": item.cycle,
        "decision": item.decision, "confidence": round(item.confidence, 3), "reasons": list(item.reasons),
        "evidence": evidence.to_json() if evidence is not None else None,
    }
