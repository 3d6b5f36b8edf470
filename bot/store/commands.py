"""Command mail from the coordinators: each mail (``command_mails``) and each
of its lines (``commands``), so that a line is carried out at most once."""
from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from ..clock import utc

if TYPE_CHECKING:  # annotations only: the records load with the reads that make them
    from .commands_records import CommandLine, CommandMail, CommandOutcome


class CommandsMixin:
    """The ``command_mails`` and ``commands`` tables (a part of ``Store``)."""

    def record_command_mail(self, *, message_id: str, message_row: int, from_addr: str, subject: str,
                            received_at: datetime, cycle: int, verdict: str, reason: str, now: datetime) -> bool:
        """Remember a command mail once (by Message-ID); True the first time."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO command_mails (message_id, message_row, from_addr, subject, received_at, cycle,"
            " verdict, reason, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, message_row, from_addr, subject, utc(received_at), cycle, verdict, reason, utc(now)))
        return cur.rowcount == 1

    def note_command_line(self, message_id: str, line: int, text: str, kind: str, outcome: str,
                          now: datetime) -> None:
        """Keep a line not carried out (refused), unless that line was kept already."""
        self.conn.execute(
            "INSERT OR IGNORE INTO commands (message_id, line, text, kind, outcome, detail, at)"
            " VALUES (?, ?, ?, ?, ?, '', ?)", (message_id, line, text, kind, outcome, utc(now)))

    def record_command_result(self, message_id: str, line: int, text: str, kind: str, outcome: str, detail: str,
                              correction_id: int | None, now: datetime) -> None:
        """Keep what a line carried out did ("done" or "error"), with the correction it made, if any."""
        self.conn.execute(
            "INSERT INTO commands (message_id, line, text, kind, outcome, detail, correction_id, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, line, text, kind, outcome, detail, correction_id, utc(now)))

    def command_outcome(self, message_id: str, line: int) -> CommandOutcome | None:
        """What became of this line of this mail, if it was handled before."""
        from .commands_records import CommandOutcome  # not at the top: records load with the reads that make them

        r = self.conn.execute("SELECT outcome, detail FROM commands WHERE message_id = ? AND line = ?",
                              (message_id, line)).fetchone()
        return CommandOutcome(r[0], r[1]) if r else None

    def refused_command_mails(self, after_id: int) -> list[CommandMail]:
        """The command mail refused, of id above ``after_id``, by id."""
        return [command_mail(r) for r in self.conn.execute(
            "SELECT * FROM command_mails WHERE verdict = 'refused' AND id > ? ORDER BY id", (after_id,))]

    def command_texts(self, message_id: str) -> tuple[str, ...]:
        """The lines kept of one command mail, in order."""
        return tuple(t[0] for t in self.conn.execute("SELECT text FROM commands WHERE message_id = ? ORDER BY line",
                                                     (message_id,)))

    def command_mails(self) -> list[CommandMail]:
        """Every command mail recorded, obeyed or refused, by id."""
        return [command_mail(r) for r in self.conn.execute("SELECT * FROM command_mails ORDER BY id")]

    def command_lines(self) -> list[CommandLine]:
        """Every command line kept, by mail and line."""
        from .commands_records import CommandLine  # not at the top: records load with the reads that make them

        return [CommandLine(r["message_id"], r["line"], r["text"], r["kind"], r["outcome"], r["detail"],
                            r["correction_id"], datetime.fromisoformat(r["at"]))
                for r in self.conn.execute("SELECT * FROM commands ORDER BY message_id, line")]


def command_mail(r: sqlite3.Row) -> CommandMail:
    from .commands_records import CommandMail  # not at the top: records load with the reads that make them

    return CommandMail(r["id"], r["message_id"], r["from_addr"], r["subject"], datetime.fromisoformat(r["received_at"]),
                       r["verdict"], r["reason"] or "")
