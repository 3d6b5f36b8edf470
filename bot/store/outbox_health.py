"""What ``health`` reads of the outbox (``Store.outbox_trouble``): a record of its own, so that
the probe does not define the outbox's other records.
"""
from __future__ import annotations

from datetime import datetime

from ..record import frozen


@frozen
class OutboxTrouble:
    """For ``health``: mail failed for good, and queued mail overdue."""

    failed: int
    failed_error: str  # the newest failure's error ("" when none)
    overdue: int
    overdue_since: datetime | None  # the oldest overdue attempt
