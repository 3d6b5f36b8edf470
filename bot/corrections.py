"""The coordinator's corrections: one module used by the command line and by
command mail (``bot/coordinator.py``). Each correction is validated here and
recorded, audited (who, why, via, when), by the store."""
from __future__ import annotations

import os
from datetime import datetime

from .errors import EarlyExtensionError, UsageError
from .rules.model import Rules
from .store import Store, StoredItem


# Corrections about one item (R17): counting it, or settling whether it is the official paper.
ITEM_KINDS = ("assign", "reject", "official", "not_official")


def correct(store: Store, rules: Rules, kind: str, now: datetime, *, who: str, why: str, via: str = "cli",
            ref: str | None = None, school: str | None = None, doc_type: str | None = None,
            value: str | None = None, cycle: int | None = None) -> str:
    """Validate and record one correction; return a sentence saying what was done."""
    if not why.strip():
        raise UsageError("a correction needs a reason (--why)")
    campaign = rules.campaign
    item = _item_by_ref(store, ref) if kind in ITEM_KINDS else None
    if school is not None:
        _known_school(rules, school)
    if doc_type is not None and doc_type not in {d.id for d in campaign.doc_types}:
        raise UsageError(f"unknown document type {doc_type!r}; known: {', '.join(d.id for d in campaign.doc_types)}")
    cycle = item.cycle if item else (cycle if cycle is not None else campaign.cycle_of(now))
    if kind == "extend" or kind == "received":
        instant = _local_instant(value, campaign.tz, end_of_day=kind == "extend")
        if kind == "extend" and instant <= campaign.deadline(cycle):
            raise EarlyExtensionError(f"{instant:%Y-%m-%d %H:%M} is not after the campaign's deadline "
                                      f"{campaign.deadline(cycle):%Y-%m-%d %H:%M}: an extension must end later")
        value = instant.isoformat()
    store.add_correction(kind=kind, cycle=cycle, who=who, why=why, via=via, now=now,
                         item_id=item.id if item else None, school=school, doc_type=doc_type, value=value)
    return _describe(kind, ref, school, doc_type, value, cycle)


def dismiss(store: Store, ref: str, now: datetime, *, who: str, why: str, via: str = "cli") -> str:
    """Dismiss a quarantined message (``Q12``) that a person dealt with by
    hand: audited like a correction (who, why, via, when); it leaves
    ``health`` and the digest. Returns a sentence saying what was done.

    Raises ``UsageError`` without a reason, ``DismissError`` (see
    ``Store.dismiss``) for an unknown or not-quarantined reference.
    """
    if not why.strip():
        raise UsageError("a dismissal needs a reason (--why)")
    q = store.dismiss(ref, who=who, why=why, via=via, now=now)
    sender = f" from {q['from_addr']}" if q.get("from_addr") else ""
    return f"{q['ref']} ({q['message_id']}{sender}) dismissed: no longer reported by health and the digest"


def default_who() -> str:
    return os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown"


def _item_by_ref(store: Store, ref: str | None) -> StoredItem:
    text = (ref or "").strip().upper().lstrip("R")
    item = store.item(int(text)) if text.isdigit() else None
    if item is None:
        raise UsageError(f"no item {ref!r}; see 'status' (review queue) or 'export' for references like R17")
    return item


def _known_school(rules: Rules, code: str) -> None:
    try:
        rules.school(code)
    except KeyError:
        raise UsageError(f"no school {code!r} in the roster (rules/schools.csv)") from None


def _local_instant(text: str | None, tz, end_of_day: bool) -> datetime:
    if not text:
        raise UsageError("a date is required, e.g. 2023-10-20 or 2023-10-20T16:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date; write 2023-10-20 or 2023-10-20T16:00") from None
    if len(text) == 10 and end_of_day:  # a bare date extends to the end of that day
        value = value.replace(hour=23, minute=59, second=59)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _describe(kind, ref, school, doc_type, value, cycle) -> str:
    return {
        "assign": f"{ref} counted as {doc_type} of {school}",
        "official": f"{ref} settled: the official paper (signed/stamped)",
        "not_official": f"{ref} settled: not the official paper (the school is asked for it)",
        "reject": f"{ref} rejected (not counted)",
        "received": f"{doc_type} of {school} marked received at {value}",
        "exempt": f"{school} exempted for cycle {cycle}",
        "unexempt": f"{school} no longer exempt for cycle {cycle}",
        "extend": f"{school} deadline extended to {value}",
    }[kind]
