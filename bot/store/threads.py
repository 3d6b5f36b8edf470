"""Mail threads: the first mail to a school in a cycle starts the thread
the later ones join (same subject, In-Reply-To/References)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..clock import utc

if TYPE_CHECKING:  # annotations only: the records load with the reads that make them
    from .threads_records import Thread


class ThreadsMixin:
    """The ``threads`` table (a part of ``Store``)."""

    def thread(self, school: str, cycle: int) -> Thread | None:
        """The thread of mail to ``school`` in ``cycle``, if one was started."""
        from .threads_records import Thread  # not at the top: records load with the reads that make them

        r = self.conn.execute("SELECT first_message_id, subject FROM threads WHERE school = ? AND cycle = ?",
                              (school, cycle)).fetchone()
        return Thread(r[0], r[1]) if r else None

    def start_thread(self, school: str, cycle: int, first_message_id: str, subject: str, now: datetime) -> None:
        """Start the thread of ``school`` in ``cycle`` with this mail. Inside the caller's transaction."""
        self.conn.execute("INSERT INTO threads (school, cycle, first_message_id, subject, created_at)"
                          " VALUES (?, ?, ?, ?, ?)", (school, cycle, first_message_id, subject, utc(now)))
