"""Delivery reports about the bot's own mail, as recorded (see bot/bounces.py
for the judgement): ``bounce_verdicts``, ``bounces`` and ``bounce_messages``,
written here only."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Sequence

from ..clock import utc
from .db import conditions

if TYPE_CHECKING:  # annotations only: the records load with the reads that make them
    from ..bounces import BounceVerdict, SentMail
    from .bounces_records import BelievedBounce, BounceReport


class BouncesMixin:
    """The ``bounce_verdicts``, ``bounces`` and ``bounce_messages`` tables (a part of ``Store``)."""

    def unjudged_bounces(self) -> list[BounceReport]:
        """The delivery reports recorded (status 'done') and not judged yet, oldest first."""
        rows = self.conn.execute(
            # The partial index messages_bounce_reports holds only reports: a poll costs the same at any size.
            "SELECT id, sha256, message_id, received_at, subject, bounces FROM messages"
            " WHERE bounces NOT IN ('', '[]') AND +status = 'done'"
            " AND id NOT IN (SELECT message_row FROM bounce_messages) ORDER BY received_at, id").fetchall()
        if not rows:
            return []
        from .bounces_records import BounceReport  # not at the top: records load with the reads that make them

        out = []
        for r in rows:
            try:
                addresses = tuple(dict.fromkeys(a.strip().lower() for a in json.loads(r["bounces"])
                                                if a and a.strip()))
            except (ValueError, TypeError, AttributeError):
                addresses = ()
            out.append(BounceReport(r["id"], r["sha256"], r["message_id"], datetime.fromisoformat(r["received_at"]),
                                    r["subject"] or "", addresses))
        return out

    def sent_mail(self, message_ids: Iterable[str], tokens: Iterable[str] = ()) -> list[SentMail]:
        """The mail the outbox handed to the server with one of ``message_ids``
        (compared exactly, in lower case), or whose Message-ID has one of the
        VERP ``tokens`` (hexadecimal) as its random part, with the addresses it went to."""
        from ..bounces import SentMail, normalise_id  # not at the top: records load with the reads that make them

        ids = sorted({normalise_id(m) for m in message_ids if m and m.strip()})[:100]  # a report names a few
        patterns = sorted({f"<{t}.%" for t in tokens if t and all(c in "0123456789abcdef" for c in t)})[:10]
        if not ids and not patterns:
            return []
        where = [f"lower(message_id) IN ({','.join('?' * len(ids))})"] if ids else []
        where += ["lower(message_id) LIKE ?"] * len(patterns)  # hexadecimal: no wildcard but the one added
        found: dict[int, SentMail] = {}
        for r in self.conn.execute(
                f"SELECT id, message_id, recipients FROM outbox WHERE status = 'sent' AND ({' OR '.join(where)})",
                [*ids, *patterns]):
            found[r["id"]] = SentMail(r["id"], normalise_id(r["message_id"]),
                                      frozenset(a.strip().lower() for a in json.loads(r["recipients"])))
        return list(found.values())

    def record_bounce_verdicts(self, report: BounceReport, verdicts: Sequence[BounceVerdict]) -> None:
        """Keep the verdicts of one report (one transaction); a believed address
        also counts in the ``bounces`` summary table. The report is judged once."""
        at = utc(report.received_at)
        with self.transaction() as conn:
            for v in verdicts:
                conn.execute("INSERT OR REPLACE INTO bounce_verdicts (message_row, address, believed, outbox_id,"
                             " reason) VALUES (?, ?, ?, ?, ?)",
                             (report.row, v.address, int(v.believed), v.outbox_id, v.reason))
                if v.believed:
                    conn.execute(
                        "INSERT INTO bounces (address, first_at, last_at, count, detail) VALUES (?, ?, ?, 1, ?)"
                        " ON CONFLICT(address) DO UPDATE SET count = count + 1,"
                        " first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at),"
                        " detail = CASE WHEN excluded.last_at >= last_at THEN excluded.detail ELSE detail END",
                        (v.address, at, at, report.subject[:200]))
            conn.execute("INSERT OR IGNORE INTO bounce_messages (message_row) VALUES (?)", (report.row,))

    def believed_bounces(self, *, as_of: datetime | None = None) -> list[BelievedBounce]:
        """Every permanent failure believed (a report about the bot's own mail),
        oldest first; with ``as_of``, only the reports received by then."""
        from .bounces_records import BelievedBounce  # not at the top: records load with the reads that make them

        where, args = conditions(("m.received_at <= ?", as_of))
        return [BelievedBounce(r["address"], datetime.fromisoformat(r["received_at"]), r["subject"] or "")
                for r in self.conn.execute("SELECT v.address, m.received_at, m.subject FROM bounce_verdicts v"
                                           f" JOIN messages m ON m.id = v.message_row WHERE v.believed = 1{where}"
                                           " ORDER BY m.received_at, m.id", args)]

    def bounce_verdicts(self, message_row: int) -> list[BounceVerdict]:
        """The verdicts kept for one report (for the log, ``health`` and tests)."""
        from ..bounces import BounceVerdict  # not at the top: records load with the reads that make them

        return [BounceVerdict(r["address"], bool(r["believed"]), r["reason"], r["outbox_id"])
                for r in self.conn.execute(
                    "SELECT address, believed, outbox_id, reason FROM bounce_verdicts WHERE message_row = ?"
                    " ORDER BY address", (message_row,))]
