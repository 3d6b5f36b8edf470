"""Command line: ``hoso-bot --config PATH [--now ISO8601] COMMAND`` (also ``python -m bot ...``).

Logging set-up, output and one function per command live here (the
arguments are ``bot.arguments``); the work is in
``bot.app`` and the stage modules. A ``BotError`` becomes one clear message
with a hint and a non-zero exit code.

Each command imports what it runs, after its arguments are parsed: the
light commands (``status``, ``health``, ``check-config``, a ``poll`` with no
new mail) are run by cron and monitoring probes, and ``check-config`` asks
tesseract whether OCR works (``--list-langs``, tens of milliseconds of
waiting) while the bot's modules load and the config is read.
"""
from __future__ import annotations

import json
import logging
import sys
import threading
from typing import TYPE_CHECKING, Callable, TypeVar

from .arguments import CORRECTIONS, build_parser, command_in
from .errors import BotError, ConfigError, StateDirError, UsageError

if TYPE_CHECKING:  # annotations only: each command imports what it runs
    from .context import Context

log = logging.getLogger("bot")
T = TypeVar("T")

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(only=command_in(argv)).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # "Running job ...", "executed successfully": two lines a minute; its warnings stay
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    from .official.signature import quiet_library_logs  # not at the top: after the OCR probe started

    if args.command == "check-config":  # asked now, answered while the modules load and the config is read
        args.ocr_reason = in_background(ocr_unavailable_reason)
    quiet_library_logs()  # pyHanko logs each untrusted chain with a traceback; the evidence says it
    try:
        return _run(args)
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `status | head`: the reader left, which is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def in_background(work: Callable[[], T]) -> Callable[[], T]:
    """``work()`` started now in a daemon thread; the function returned waits
    for its result (or raises what it raised).

    For answers that are mostly waiting, asked before the work they do not
    depend on instead of after it: tesseract's ``--list-langs`` (a process
    to start: tens of milliseconds), the kernel's table of locks (Linux
    answers ``/proc/locks`` after an RCU grace period: 10-20 ms)."""
    answer: list[tuple[T | None, BaseException | None]] = []

    def run() -> None:
        try:
            answer.append((work(), None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            answer.append((None, exc))

    thread = threading.Thread(target=run, name="in-background", daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        value, error = answer[0]
        if error is not None:
            raise error
        return value

    return result


def ocr_unavailable_reason() -> str | None:
    """``extract.ocr_unavailable_reason()`` (None: OCR can run here)."""
    from .extract import ocr_unavailable_reason as reason  # not at the top: check-config asks, in a thread

    return reason()


def _run(args) -> int:
    # Not at the top: check-config's OCR probe runs while these load.
    from . import app
    from .clock import FixedClock, parse_instant, system_clock

    if args.command == "eval":  # needs no config.toml: falls back to the shipped rules
        return cmd_eval(args)
    ctx = app.load(args.config)
    clock = FixedClock(parse_instant(args.now, ctx.rules.campaign.tz)) if args.now else system_clock
    now = clock()
    if args.command not in ("check-config", "health"):  # they report it themselves
        from .statedir import check_state_dir

        check_state_dir(ctx.config.paths.state)  # a wrong owner: one plain line, exit 78, no traceback
    return _handlers()[args.command](ctx, args, now)


def cmd_check_config(ctx: Context, args, now) -> int:
    cfg = ctx.config
    for warning in cfg.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    if args.connect:
        return _check_connect(ctx, args, now)
    _startup_checks(ctx)
    c = ctx.rules.campaign
    cycle = c.cycle_of(now)
    print(f"config OK: {args.config}")
    print(f"mailbox: {cfg.mailbox.source} " + (str(cfg.mailbox.path) if cfg.mailbox.source == "folder"
                                                else f"{cfg.mailbox.host}:{cfg.mailbox.port}/{cfg.mailbox.folder}"))
    print(f"outgoing mail: {'SMTP ' + cfg.smtp.host if cfg.smtp.enabled else 'written to ' + str(cfg.paths.state / 'outbox')}")
    print(f"campaign {c.id}: {len(ctx.rules.schools)} schools, documents {', '.join(d.id for d in c.doc_types)}")
    print(f"cycle {cycle}: deadline {c.deadline(cycle).isoformat()}, office report {c.report_deadline(cycle).isoformat()}")
    ocr = ("turned off ([extraction] ocr = \"off\"): scans go to review" if ctx.config.extraction.ocr == "off"
           else "available" if args.ocr_reason() is None else "NOT installed: scans go to review")
    print(f"OCR (tesseract + vie): {ocr}")
    for line in official_lines(ctx):
        print(line)
    return 0


def official_lines(ctx: Context) -> list[str]:
    """What ``check-config`` says of official copies: the trust roots and each document's policy."""
    off = ctx.config.official
    roots = (f"{len(off.roots.certificates)} certificate(s) in {off.trust_roots}" if off.trust_roots
             else "none configured (digital signatures are checked, their issuer is not verified)")
    lines = [f"official copies: trust roots {roots}"]
    for d in ctx.rules.campaign.doc_types:
        policy = ", ".join(r.value for r in d.official.requires) or "nothing (any copy counts)"
        lines.append(f"  {d.id}: requires {policy}" + (" (checked as minutes)" if d.minutes else ""))
    return lines


def _startup_checks(ctx: Context) -> None:
    """What must hold before the bot starts work: an error now, not at 3 a.m."""
    cfg = ctx.config
    for secret in (cfg.mailbox.secret, cfg.smtp.secret):
        if secret:
            secret.read()  # missing variable, CRLF line ends, unreadable file
    if cfg.mailbox.source == "folder" and not cfg.mailbox.path.is_dir():
        raise ConfigError(f"mailbox.path: {cfg.mailbox.path} is not a directory",
                          hint="point it at a folder of .eml or .mbox files (relative paths start at config.toml)")
    from . import app  # not at the top: each command loads what it runs

    app.refuse_sample_recipients(ctx)
    # Outgoing mail has a sender: the config refuses a from_address without "@" (the templates are
    # rendered by check-config --connect).


def _check_connect(ctx: Context, args, now) -> int:
    """``check-config --connect``: one line per check; exit 1 on any failure."""
    from .doctor import connect_checks  # not at the top (nor the others below): each command loads what it runs

    reason = None if ctx.config.extraction.ocr == "off" else args.ocr_reason()
    checks = connect_checks(ctx, now, ocr_reason=reason)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"{len(failed)} check(s) failed: fix them before enabling the service ({args.config})")
        return 1
    print(f"all {len(checks)} checks passed: {args.config}")
    return 0


def _log_config_warnings(ctx: Context) -> None:
    """Insecure TLS, a secret file others can read, unauthenticated commands: in the journal too."""
    for warning in ctx.config.warnings():
        log.warning("config: %s", warning)


class SenderOnFirstMail:
    """The sender of ``send.make_sender(config)``, made when the first mail is
    handed to it: a poll with nothing to send loads no SMTP or MIME code
    (``smtplib``, ``ssl``, ``email``). Sends and closes as that sender does."""

    def __init__(self, config):
        self._config = config
        self._sender = None

    def _real(self):
        if self._sender is None:
            from .send import make_sender  # not at the top: SMTP code loads when a mail goes

            self._sender = make_sender(self._config)
        return self._sender

    @property
    def delivered(self) -> str:
        """How the log says what happened to a mail (the real sender's words)."""
        return getattr(self._real(), "delivered", "sent to")

    def send(self, raw: bytes, from_addr: str, recipients, *, name: str = "") -> dict:
        return self._real().send(raw, from_addr, recipients, name=name)

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()


def cmd_poll(ctx: Context, args, now) -> int:
    from . import app  # not at the top (nor in the commands below): each command loads what it runs
    from .progress import ProgressReporter

    _log_config_warnings(ctx)
    app.refuse_sample_recipients(ctx)
    progress = ProgressReporter()
    try:
        report = app.poll(ctx, now, progress=progress, sender=SenderOnFirstMail(ctx.config))
    finally:
        progress.close()
    print(report.summary())
    return 0


def cmd_run(ctx: Context, args, now) -> int:
    from . import app  # not at the top: each command loads what it runs
    from .clock import FixedClock, system_clock
    from .progress import ProgressReporter
    from .service import run  # the worker's modules are for run

    _log_config_warnings(ctx)
    _startup_checks(ctx)  # a wrong setting stops the service here (exit 2, no restart), not at the first job
    clock = FixedClock(now) if args.now else system_clock
    progress = ProgressReporter()
    renderer = app.worker_renderer(ctx)  # the receipts of a poll and the scheduled mail share its templates
    with app.new_extractor(ctx) as extractor:  # one pool of workers for the whole season
        def poll(at, should_stop):
            progress.begin()  # rates count from the start of this poll
            return app.poll(ctx, at, extractor=extractor, progress=progress, should_stop=should_stop,
                            take_lock=False, renderer=renderer)

        return run(ctx, clock, poll=poll, tasks=app.scheduled_tasks(ctx, renderer), poll_seconds=args.poll_seconds)


def cmd_health(ctx: Context, args, now) -> int:
    from .lock import holder  # not at the top: health's modules are for health

    state = ctx.config.paths.state
    worker = in_background(lambda: holder(state))  # the kernel's answer comes while the rest loads
    from .statedir import check_state_dir  # not at the top: health's modules are for health
    from .outbound.facts import sender_bursts
    from .health import health
    from .store import Store

    try:
        check_state_dir(state, create=False)
    except StateDirError as exc:
        print(f"PROBLEM: {exc}")
        return 1
    with Store.open(state) as store:
        code, lines = health(store, ctx.config, now, cycle=ctx.rules.campaign.cycle_of(now),
                             warnings=ctx.config.warnings(), bursts=sender_bursts(ctx, store, now),
                             check_worker=True, worker=worker())
    print("\n".join(lines))
    return code


def cmd_status(ctx: Context, args, now) -> int:
    from .status import status_for, to_json  # not at the top: each command loads what it runs
    from .store import Store
    from .table import status_table

    with Store.open(ctx.config.paths.state) as store:
        status = status_for(store, ctx.rules, now, args.cycle)
    if args.json:
        json.dump(to_json(status), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(status_table(status))
    return 0


def cmd_export(ctx: Context, args, now) -> int:
    from . import app  # not at the top: each command loads what it runs
    from .export_csv import export_csv
    from .store import Store

    with Store.open(ctx.config.paths.state) as store:
        rows = app.export_rows(store, ctx.rules)
    if args.format == "json" and not args.excel:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        flat, names = app.csv_rows(rows)
        text = export_csv(flat, names, excel=args.excel)
        sys.stdout.flush()
        if hasattr(sys.stdout, "buffer"):
            sys.stdout.buffer.write(text.encode("utf-8"))  # the bytes exactly: BOM, CRLF, whatever the locale
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
    return 0


def cmd_eval(args) -> int:
    # not at the top: the corpus run loads the whole pipeline
    from .evaluate.classification import format_report
    from .evaluate.corpus import evaluate_corpus
    from .evaluate.statuses import format_status_report
    from .progress import ProgressReporter

    if not args.verbose:
        logging.getLogger("bot.pipeline").setLevel(logging.WARNING)  # one line per item otherwise
    progress = ProgressReporter()
    try:
        run = evaluate_corpus(args.corpus, config_path=args.config, labels_path=args.labels,
                              keep_state=args.keep_state, now=args.now, progress=progress)
    finally:
        progress.close()
    if args.rows:
        args.rows.write_text(json.dumps(run.rows, ensure_ascii=False, indent=1), encoding="utf-8")
    print(format_report(run.metrics, max_errors=args.errors))
    print(format_status_report(run.status, max_cells=args.errors))
    if run.official is not None:
        from .evaluate.official_copies import format_official_report

        print(format_official_report(run.official, max_errors=args.errors))
    print(f"{len(run.rows)} rows in {run.seconds:.1f} s" + (f"; state kept in {run.state}" if args.keep_state else ""))
    return 1 if run.metrics.wrong_campaign_counted or (run.official and run.official.must_be_zero) else 0


def _correction(kind):
    def handler(ctx: Context, args, now) -> int:
        from . import corrections  # not at the top: each command loads what it runs
        from .store import Store

        what = kind
        if kind == "assign":
            what = "official" if args.official else "not_official" if args.not_official else "assign"
            if what != "assign" and (args.school or args.doc_type):
                raise UsageError("assign R17 --official (or --not-official) takes no school nor document type: "
                                 "assign the school and type first, then settle the copy")
            if what == "assign" and not (args.school and args.doc_type):
                raise UsageError("assign needs REF SCHOOL DOC_TYPE (e.g. assign R17 thcs-nguyen-hien bien_ban), "
                                 "or REF with --official / --not-official")
        with Store.open(ctx.config.paths.state) as store:
            done = corrections.correct(store, ctx.rules, what, now, who=args.who or corrections.default_who(), why=args.why,
                               ref=getattr(args, "ref", None), school=getattr(args, "school", None),
                               doc_type=getattr(args, "doc_type", None),
                               value=getattr(args, "until", None) or getattr(args, "at", None), cycle=args.cycle)
        print(done)
        return 0
    return handler


def cmd_dismiss(ctx: Context, args, now) -> int:
    from . import corrections  # not at the top: each command loads what it runs
    from .store import Store

    with Store.open(ctx.config.paths.state) as store:
        done = corrections.dismiss(store, args.ref, now, who=args.who or corrections.default_who(), why=args.why)
    print(done)
    return 0


def cmd_requeue(ctx: Context, args, now) -> int:
    from .store import Store  # not at the top: each command loads what it runs

    with Store.open(ctx.config.paths.state) as store:
        n = store.requeue(all_messages=args.all)
    print(f"{n} message(s) will be processed again on the next poll")
    return 0


def _notify(kind):
    """``remind`` and ``digest``: plan, queue, send; a dry run prints and records nothing."""
    def handler(ctx: Context, args, now) -> int:
        from . import app, notify  # not at the top: outgoing mail's modules are for the commands that write mail
        from .clock import system_clock
        from .lock import StateLock
        from .send import make_sender
        from .store import Store

        operation = notify.remind if kind == "remind" else notify.digest
        if args.dry_run:
            with Store.open(ctx.config.paths.state) as store:
                report = operation(ctx, store, None, now, dry_run=True)
            for to, subject, text in report.previews:
                print(f"To: {', '.join(to)}\nSubject: {subject}\n\n{text}\n{'=' * 72}")
            print(report.summary())
            return 0
        app.refuse_sample_recipients(ctx)
        with StateLock(ctx.config.paths.state, kind), Store.open(ctx.config.paths.state) as store:
            report = operation(ctx, store, None, now)
            report.delivery = notify.deliver(ctx, store, make_sender(ctx.config), now,
                                             clock=None if args.now else system_clock)
        print(report.summary())
        return 0
    return handler


cmd_remind = _notify("remind")
cmd_digest = _notify("digest")


def cmd_outbox(ctx: Context, args, now) -> int:
    from . import app, notify  # not at the top: outgoing mail's modules are for the commands that write mail
    from .clock import system_clock
    from .lock import StateLock
    from .outbound import outbox
    from .send import make_sender
    from .store import Store

    tz = ctx.rules.campaign.tz
    with Store.open(ctx.config.paths.state) as store:
        if args.retry:
            app.refuse_sample_recipients(ctx)
            with StateLock(ctx.config.paths.state, "outbox --retry"):
                n = outbox.retry(store, now)
                report = notify.deliver(ctx, store, make_sender(ctx.config), now,
                                        clock=None if args.now else system_clock)
            print(f"{n} mail(s) queued again; {report.summary()}")
        rows = store.outbox_rows(None if args.all else ("queued", "failed"))
        counts = store.outbox_counts()
    for r in rows:
        when = r.sent_at or r.next_attempt_at
        print(f"#{r.id:<5} {r.status:<10} {r.kind:<8} {r.school or '-':<24} {when.astimezone(tz):%Y-%m-%d %H:%M}  "
              f"attempts {r.attempts}  to {', '.join(r.recipients) or '-'}")
        if r.subject:
            print(f"       {r.subject}")
        if r.last_error:
            print(f"       {r.last_error}")
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "the outbox is empty")
    return 0


def cmd_report(ctx: Context, args, now) -> int:
    from . import app  # not at the top: each command loads what it runs
    from .store import Store

    with Store.open(ctx.config.paths.state) as store:
        paths = app.write_report(ctx, store, now, args.output, args.cycle)
    for path in paths:
        print(path)
    return 0


def cmd_backup(ctx: Context, args, now) -> int:
    from .backup import backup  # not at the top: tarfile is for backup only

    print(backup(ctx.config.paths.state, args.target.expanduser().absolute(), now).summary())
    return 0


def _handlers() -> dict:
    handlers = {"report": cmd_report, "check-config": cmd_check_config, "poll": cmd_poll, "status": cmd_status,
                "export": cmd_export, "requeue": cmd_requeue, "run": cmd_run, "health": cmd_health,
                "remind": cmd_remind, "digest": cmd_digest, "outbox": cmd_outbox, "dismiss": cmd_dismiss,
                "backup": cmd_backup}
    for kind in CORRECTIONS:
        handlers[kind] = _correction(kind)
    return handlers


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
