"""Quarantined messages waiting for a person, and their dismissal.

A quarantined message is referred to as ``Q<messages.id>`` (Q12), as items
are as ``R<items.id>``. Once a person has dealt with it by hand, ``dismiss``
records who, why, how and when in ``dismissals``: the message keeps its
status 'quarantined' (and its bytes), but ``quarantined()`` no longer lists
it, so ``health`` and the digest stop asking about it.
"""
from __future__ import annotations

import re
from datetime import datetime

from ..clock import utc
from ..errors import DismissError
from .db import conditions


def quarantine_ref(row: int) -> str:
    """The short reference of a quarantined message: Q12 for ``messages.id`` 12."""
    return f"Q{row}"


def parse_quarantine_ref(ref: str | int) -> int | None:
    """The ``messages.id`` of a reference: ``Q12``, ``q12``, ``Q-12``, ``Q#12``, ``12`` or 12; None otherwise."""
    if isinstance(ref, int):
        return ref
    m = re.fullmatch(r"(?:q[-#]?)?(\d{1,9})", (ref or "").strip(), re.IGNORECASE)
    return int(m.group(1)) if m else None


class QuarantineMixin:
    """The quarantined rows of ``messages`` and the ``dismissals`` table (a part of ``Store``)."""

    def quarantined(self, *, include_dismissed: bool = False, as_of: datetime | None = None) -> list[dict]:
        """The quarantined messages waiting for a person, oldest first.

        Each is a dict with ``id``, ``ref`` (Q12), ``message_id``,
        ``source_key``, ``received_at`` (ISO text), ``attempts``,
        ``last_error``, ``from_addr``, ``subject``, ``size`` and the
        dismissal's ``dismissed_by``, ``dismissed_why``, ``dismissed_via``,
        ``dismissed_at`` (None unless dismissed). Dismissed messages are left
        out unless ``include_dismissed``; with ``as_of``, so are those
        received after it (as of ``--now``).
        """
        where, args = conditions(("m.received_at <= ?", as_of))
        if not include_dismissed:
            where += " AND d.message_row IS NULL"
        rows = self.conn.execute(
            "SELECT m.id, m.message_id, m.source_key, m.received_at, m.attempts, m.last_error, m.from_addr,"
            " m.subject, m.size, d.who AS dismissed_by, d.why AS dismissed_why, d.via AS dismissed_via,"
            " d.at AS dismissed_at FROM messages m LEFT JOIN dismissals d ON d.message_row = m.id"
            f" WHERE m.status = 'quarantined'{where} ORDER BY m.received_at, m.id", args)
        return [{**dict(r), "ref": quarantine_ref(r["id"])} for r in rows]

    def dismiss(self, ref: str | int, *, who: str, why: str, via: str, now: datetime) -> dict:
        """Dismiss a quarantined message that a person dealt with by hand (audited).

        ``ref`` is its reference (``Q12``, or the row number). Records who,
        why, ``via`` ("cli" or "email") and ``now`` in ``dismissals``; the
        message and its archived bytes stay as they are. Returns the message
        as ``quarantined(include_dismissed=True)`` shows it. Raises
        ``DismissError`` when no message has that reference, when the
        message is not quarantined, or when it was dismissed already. The
        check and the record are one write transaction (the database's
        write lock), so a concurrent ``requeue`` cannot slip in between.
        """
        row = parse_quarantine_ref(ref)
        if row is None:
            raise DismissError(f"{str(ref)!r} is not the reference of a quarantined message (like Q12)", "no_message",
                               hint="items (R17) are not dismissed but rejected: 'python -m bot reject R17 --why ...'"
                               if str(ref).strip().upper().startswith("R") else None)
        with self.transaction():
            r = self.conn.execute(
                "SELECT m.status, m.message_id, d.who, d.at FROM messages m"
                " LEFT JOIN dismissals d ON d.message_row = m.id WHERE m.id = ?", (row,)).fetchone()
            if r is None:
                raise DismissError(f"no message {quarantine_ref(row)}", "no_message")
            if r["status"] != "quarantined":
                state = "it was processed normally" if r["status"] == "done" else "it is waiting to be processed"
                raise DismissError(f"{quarantine_ref(row)} ({r['message_id']}) is not quarantined: {state}",
                                   "not_quarantined", hint="only quarantined messages (see 'health') are dismissed")
            if r["who"] is not None:
                raise DismissError(f"{quarantine_ref(row)} was already dismissed by {r['who']} at {r['at']}",
                                   "already_dismissed", hint="nothing to do")
            self.conn.execute("INSERT INTO dismissals (message_row, who, why, via, at) VALUES (?, ?, ?, ?, ?)",
                              (row, who, why, via, utc(now)))
        return next(q for q in self.quarantined(include_dismissed=True) if q["id"] == row)
