"""Plain-text rendering of the status for the terminal."""
from __future__ import annotations

from .status import CampaignStatus

SYMBOLS = {"on_time": "✓", "late": "late", "pending": "·", "missing": "MISSING", "exempt": "exempt",
           "extended": "ext", "review": "review?"}
OPTIONAL_MISSING = "-"  # an optional document nobody sent is not a problem: no shouting
LEGEND = ("✓ on time, late = after the deadline (or the school's extension), · not received yet (deadline ahead), "
          "MISSING = required and not received by the deadline, ext = extended and not received yet, "
          "review? = a file waits for review, - = optional and not received; (optional) marks optional columns; "
          "after the time: ! = no official copy yet (unsigned draft, no seal, no number...: the school is asked for "
          "it), ? = the bot cannot tell whether the copy is the official paper (see the review queue)")
UNOFFICIAL, UNDECIDED = "!", "?"


def status_table(status: CampaignStatus) -> str:
    """A readable table: one row per school, one column per document type."""
    c = status.campaign
    tz = c.tz
    types = [d.id for d in c.doc_types]
    optional = set(c.optional)
    header = ["school", *(f"{t} (optional)" if t in optional else t for t in types), "complete"]
    rows = []
    for s in status.schools:
        cells = [s.name]
        for t in types:
            d = s.documents[t]
            cell = OPTIONAL_MISSING if t in optional and d.status in ("missing", "pending") else SYMBOLS[d.status]
            if d.received_at:
                cell += " " + d.received_at.astimezone(tz).strftime("%d/%m %H:%M")
                if d.evidence is not None and d.official is not True:
                    cell += " " + (UNOFFICIAL if d.official is False else UNDECIDED)
            cells.append(cell)
        cells.append("yes" if s.complete else ("exempt" if s.exempt else "no"))
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"{c.name}",
        f"cycle {status.cycle}, deadline {c.deadline(status.cycle).strftime('%H:%M %d/%m/%Y')} ({tz.key}), "
        f"now {status.now.astimezone(tz).strftime('%H:%M %d/%m/%Y')}",
        f"complete: {status.complete_count}/{len(status.schools)} schools; review queue: {len(status.review)}",
        "",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)) for r in rows]
    lines += ["", LEGEND]
    if status.review:
        lines += ["", "review queue:"]
        for r in status.review:
            lines.append(f"  {r.ref}  {r.received_at.astimezone(tz):%d/%m %H:%M}  {r.from_addr}  {r.filename!r}: {r.reason}")
    return "\n".join(lines)
