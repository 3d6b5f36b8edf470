"""Whether a delivery report is about the bot's own mail (pure).

Anyone can send a mail with ``X-Failed-Recipients: <a school's address>`` or
a forged delivery-status report. Believed blindly, it would make the bot stop
writing to that school. A report is therefore believed for an address only
when it names (by Message-ID, in the returned original or its headers, or in
In-Reply-To/References) a mail the bot really sent to that address. The
Message-IDs the bot writes are random (96 bits), so only someone who
received that mail can name it. Every other report is logged and ignored.

(VERP, a return path per mail and recipient, would tie a report to its mail
even when the report quotes nothing; the bot sends with its plain address
because common submission servers rewrite the envelope sender.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class SentMail:
    """A mail the outbox handed to the server: its Message-ID (lower case,
    with angle brackets) and the addresses it went to (lower case)."""

    outbox_id: int
    message_id: str
    recipients: frozenset[str]


@dataclass(frozen=True)
class BounceVerdict:
    """The judgement of one failed address of one delivery report."""

    address: str
    believed: bool
    reason: str
    outbox_id: int | None = None  # the bot's mail that bounced, when believed


def normalise_id(message_id: str) -> str:
    """A Message-ID as compared: stripped, lower case, in angle brackets."""
    text = message_id.strip().lower()
    if text and not text.startswith("<"):
        text = "<" + text
    if text and not text.endswith(">"):
        text += ">"
    return text


def judge(addresses: Iterable[str], refs: Iterable[str], sent: Iterable[SentMail]) -> tuple[BounceVerdict, ...]:
    """One verdict per failed address of a report (in order, without repeats).

    ``refs``: the Message-IDs the report refers to; ``sent``: the bot's mail
    with one of those Message-IDs. An address is believed when a referred
    mail was sent to it; otherwise the reason says which check failed.
    """
    wanted = {normalise_id(r) for r in refs if r and r.strip()}
    mails = [m for m in sent if normalise_id(m.message_id) in wanted]
    out = []
    for address in dict.fromkeys(a.strip().lower() for a in addresses if a and a.strip()):
        hit = next((m for m in mails if address in m.recipients), None)
        if hit is not None:
            out.append(BounceVerdict(address, True, f"bounce of outbox #{hit.outbox_id}", hit.outbox_id))
        elif mails:
            out.append(BounceVerdict(address, False, "the mail it names (outbox "
                                     + ", ".join(f"#{m.outbox_id}" for m in mails) + ") was not sent to this address"))
        elif wanted:
            out.append(BounceVerdict(address, False, "it names no mail the bot sent"))
        else:
            out.append(BounceVerdict(address, False, "it names no mail at all (no Message-ID of the returned mail)"))
    return tuple(out)


__all__ = ["SentMail", "BounceVerdict", "judge", "normalise_id"]
