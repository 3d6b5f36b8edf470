"""The command line's arguments: ``hoso-bot --config PATH [--now ISO8601] COMMAND ...``.

``build_parser`` builds the argparse parser (only the running command's
arguments when ``only`` names it: argparse and gettext cost the light
commands a few per cent of their start-up); ``command_in`` tells that
command from ``argv`` without parsing. ``bot.cli`` runs what they parse.
"""
from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """examples (the config path is absolute: any directory works):
  hoso-bot --config /etc/hoso-bot/config.toml check-config --connect
  hoso-bot --config /etc/hoso-bot/config.toml poll
  hoso-bot --config /etc/hoso-bot/config.toml --now 2023-10-12T08:00 status
  hoso-bot --config /etc/hoso-bot/config.toml export --format csv > items.csv
  hoso-bot --config /etc/hoso-bot/config.toml assign R17 thcs-nguyen-hien bien_ban --why "scan checked by hand"
  hoso-bot --config /etc/hoso-bot/config.toml assign R17 --official --why "seal checked on the scan"
  hoso-bot --config /etc/hoso-bot/config.toml dismiss Q12 --why "school phoned, file received on Zalo"
  hoso-bot --config /etc/hoso-bot/config.toml backup /root/hoso-bot-backup.tar.gz
"""


CORRECTIONS = {
    "assign": ("count a reviewed item as a school's document", ["ref", "school", "doc_type"]),
    "reject": ("do not count an item", ["ref"]),
    "received": ("record a document delivered on paper", ["school", "doc_type"]),
    "exempt": ("exempt a school for the cycle", ["school"]),
    "unexempt": ("cancel an exemption", ["school"]),
    "extend": ("extend the deadline of one school", ["school", "until"]),
}

# Every command, in the order of the help (build_parser adds each; tests/test_startup_imports.py checks both agree).
COMMANDS = ("check-config", "poll", "status", "export", *CORRECTIONS, "dismiss", "run", "health", "requeue", "remind",
            "digest", "report", "outbox", "backup", "eval")


class _LeftOut:
    """The parser ``build_parser(only=...)`` gives a command it leaves out: its arguments are not built."""

    def add_argument(self, *args, **kwargs) -> None:
        pass

    def add_mutually_exclusive_group(self, *args, **kwargs) -> _LeftOut:
        return self


def command_in(argv: list[str]) -> str | None:
    """The command ``argv`` runs when it can be told without parsing: the first word that is
    neither a global option (``--config``, ``--now``, ``-v``, or an abbreviation argparse
    accepts) nor its value, when it names a command. None when anything else comes first (help,
    another option, an unknown word): the whole parser then answers."""
    words = iter(argv)
    for word in words:
        if word == "-v" or (len(word) > 2 and "--verbose".startswith(word)):
            continue
        option = next((o for o in ("--config", "--now") if len(word) > 2 and o.startswith(word.split("=", 1)[0])), None)
        if option is not None:
            if "=" not in word:
                next(words, None)  # its value
            continue
        return word if word in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With ``only`` (a command), the other commands are left out:
    argparse builds a parser per command (with gettext looking for translations of each of its
    texts), which costs a light command more than its own work. ``only``'s arguments, its help
    and its errors are those of the whole parser."""
    p = argparse.ArgumentParser(prog="hoso-bot", description="Mailbox bot for document-collection campaigns.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, default=Path("config.toml"), help="path to config.toml (default: %(default)s)")
    p.add_argument("--now", help="decide as if it were this instant (ISO 8601; local time of the campaign if no offset)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_parser(name: str, **kwargs):
        return commands.add_parser(name, **kwargs) if only in (None, name) else _LeftOut()

    cc = add_parser("check-config", help="validate config.toml and rules/, print warnings; --connect: try it all",
                    description="Validate config.toml and the rules; exit 2 on an error. With --connect, also "
                                "log in to IMAP and examine the folder, open an SMTP session (EHLO, TLS, AUTH; "
                                "nothing is sent), check the state directory is writable with free space, the "
                                "templates render, OCR and catdoc are installed, the coordinator and "
                                "trusted_authserv_ids are set and no sample data would receive mail; one line "
                                "per check, exit 1 on any FAIL. Run it as the service's user before enabling "
                                "the service. Example: check-config --connect")
    cc.add_argument("--connect", action="store_true",
                    help="also connect to the servers and check the installation (sends nothing)")
    add_parser("poll", help="fetch and process new mail once",
               description="Fetch new mail once, archive it, classify it. Example: poll")
    s = add_parser("status", help="per-school status of the current cycle",
                   description="Per-school, per-document status. Example: --now 2023-10-11 status --json")
    s.add_argument("--json", action="store_true", help="machine-readable output (documented shape)")
    s.add_argument("--cycle", type=int, help="another cycle than the one --now falls in")
    e = add_parser("export", help="every attachment the bot has seen, with its decision",
                   description="List every attachment or document part. Example: export --format csv")
    e.add_argument("--format", choices=("json", "csv"), default="json")
    e.add_argument("--excel", action="store_true",
                   help="CSV as Excel opens it on Vietnamese Windows: UTF-8 with BOM, ';' between fields (implies --format csv)")

    for name, (text, args) in CORRECTIONS.items():
        c = add_parser(name, help=text, description=f"{text.capitalize()} (audited: who, when, why).")
        for arg in args:
            # assign R17 --official needs no school nor type: the copy keeps what it is counted as
            optional = name == "assign" and arg in ("school", "doc_type")
            c.add_argument(arg, nargs="?" if optional else None,
                           help={"ref": "item reference, e.g. R17", "until": "date, e.g. 2023-10-20",
                                 "doc_type": "document type id, e.g. bien_ban"}.get(arg, "school code"))
        if name == "assign":
            verdict = c.add_mutually_exclusive_group()
            verdict.add_argument("--official", action="store_true",
                                 help="settle that the copy IS the official paper (signed/stamped; the bot could not tell)")
            verdict.add_argument("--not-official", action="store_true",
                                 help="settle that the copy is NOT the official paper (the school must send it)")
        if name == "received":
            c.add_argument("--at", required=True, help="when it was delivered, e.g. 2023-10-09T10:00")
        c.add_argument("--why", required=True, help="the reason, kept in the audit log")
        c.add_argument("--who", default=None, help="who decided (default: the login name)")
        c.add_argument("--cycle", type=int, help="cycle (default: the one --now falls in)")
    dm = add_parser("dismiss", help="stop reporting a quarantined message dealt with by hand",
                    description="Dismiss a quarantined message (audited: who, when, why) once it was dealt with "
                                "by hand: health no longer fails for it and the digest no longer lists it. The "
                                "message stays archived. Example: dismiss Q12 --why \"school phoned, file "
                                "received on paper\"")
    dm.add_argument("ref", help="quarantined message reference, e.g. Q12 (shown by health and in the digest)")
    dm.add_argument("--why", required=True, help="the reason, kept in the audit log")
    dm.add_argument("--who", default=None, help="who decided (default: the login name)")
    w = add_parser("run", help="the worker: poll, remind and send the digest on schedule, until stopped",
                   description="Run the scheduled worker in the foreground (what the systemd unit starts). "
                               "Example: run")
    w.add_argument("--poll-seconds", type=float, help=argparse.SUPPRESS)  # tests: poll faster than 1 min
    add_parser("health", help="last poll, last digest, backlogs; exit 1 when stale (for monitoring)",
               description="Print the worker's health; exit code 1 on a PROBLEM line: no recent poll, mail "
                           "quarantined (until it is requeued or dismissed), outgoing mail failed in this "
                           "cycle or stuck in the queue, no digest for over a day. Config warnings are "
                           "shown, not failed. Example: health || mail -s 'bot unhealthy' it@example.org")
    r = add_parser("requeue", help="process stored messages again (after a rules change, or quarantined ones)",
                   description="Mark the quarantined messages (not the dismissed ones) to be processed again on "
                               "the next poll; --all: every message. Example: requeue --all")
    r.add_argument("--all", action="store_true",
                   help="every message, not only quarantined ones (dismissed ones included; they stay dismissed)")
    m = add_parser("remind", help="send the reminders due now to schools with missing documents",
                   description="Queue and send the reminders due now (office hours only). "
                               "Example: --now 2023-10-07T08:00 remind --dry-run")
    m.add_argument("--dry-run", action="store_true", help="show what would be sent; send and record nothing")
    d = add_parser("digest", help="send today's digest to the coordinator (once a day)",
                   description="Queue and send today's digest with the XLSX matrix. Example: digest --dry-run")
    d.add_argument("--dry-run", action="store_true", help="print the digest; send and record nothing")
    rp = add_parser("report", help="write the office's report (DOCX, Nghị định 30 format) and its XLSX",
                    description="Write the aggregated report of the cycle as DOCX and XLSX (default into "
                                "state/reports/) and print their paths. The number (Số) is left blank for the "
                                "clerk. Example: --now 2023-10-12T08:00 report --output ~/bao-cao")
    rp.add_argument("--output", type=Path, help="directory to write into (default: state/reports/)")
    rp.add_argument("--cycle", type=int, help="another cycle than the one --now falls in")
    o = add_parser("outbox", help="list outgoing mail; --retry sends failed and waiting mail now",
                   description="List the outbox (newest first). Example: outbox --retry")
    o.add_argument("--retry", action="store_true", help="queue failed mail again and send everything due now")
    o.add_argument("--all", action="store_true", help="list sent mail too, not only waiting and failed")
    b = add_parser("backup", help="copy the state (database and mail archive) while the worker runs",
                   description="Copy the state directory: the database with SQLite's online backup API, and "
                               "the archive of mail, attachments, outbox and reports. TARGET is a new directory, "
                               "or an archive when it ends in .tar, .tar.gz or .tgz. Safe while the worker runs. "
                               "Restore: see docs/install.md. Example: backup /root/hoso-bot-2023-10-16.tar.gz")
    b.add_argument("target", type=Path, help="new directory or .tar/.tar.gz/.tgz file (never overwritten)")
    v = add_parser("eval", help="run the bot on a labelled corpus and print precision and recall",
                   description="Run poll on a generated corpus (a folder of .eml with labels.json) into a "
                               "temporary state, score it, print the report; exit 1 if a document of another "
                               "campaign or an earlier year was counted (or, on an official-copy corpus, a valid "
                               "signature was called invalid or a changed PDF valid). Uses --config's rules when the file "
                               "exists, else the shipped rules/. Example: eval --corpus /tmp/c11")
    v.add_argument("--corpus", type=Path, required=True, help="directory written by tests.corpus.generate")
    v.add_argument("--labels", type=Path, help="labels.json (default: CORPUS/labels.json)")
    v.add_argument("--keep-state", type=Path, help="keep the bot's state here (a new or empty directory)")
    v.add_argument("--rows", type=Path, help="also write the bot's export rows to this JSON file")
    v.add_argument("--errors", type=int, default=20, help="errors listed in the report (default: %(default)s)")
    return p
