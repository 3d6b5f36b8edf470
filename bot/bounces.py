"""Whether a delivery report is about the bot's own mail (pure).

Anyone can send a mail with ``X-Failed-Recipients: <a school's address>`` or
a forged delivery-status report. Believed blindly, it would make the bot stop
writing to that school. A report is therefore believed for an address only
when it names (by Message-ID, in the returned original or its headers, or in
In-Reply-To/References) a mail the bot really sent to that address. The
Message-IDs the bot writes are random (96 bits), so only someone who
received that mail can name it. Every other report is logged and ignored.

With ``[smtp] verp = true`` each mail leaves with its own return path,
``bot+b.<token>@domain``, where the token is the random part of the mail's
Message-ID (VERP): a report addressed there names that mail even when it
quotes nothing of it. It is off by default, because common submission
servers (Gmail, Microsoft 365) rewrite or refuse such an envelope sender.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

VERP_TAG = "b."
_TOKEN = re.compile(r"^<([0-9a-f]{16,64})\.")
_VERP = re.compile(r"^[^@\s]+\+" + re.escape(VERP_TAG) + r"([0-9a-f]{16,64})@[^@\s]+$")


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


def judge(addresses: Iterable[str], refs: Iterable[str], sent: Iterable[SentMail],
          tokens: Iterable[str] = ()) -> tuple[BounceVerdict, ...]:
    """One verdict per failed address of a report (in order, without repeats).

    ``refs``: the Message-IDs the report refers to; ``tokens``: the VERP
    tokens of the return paths it was addressed to (``verp_token``);
    ``sent``: the bot's mail found for them. An address is believed when a
    mail the report names was sent to it; otherwise the reason says which
    check failed.
    """
    wanted = {normalise_id(r) for r in refs if r and r.strip()}
    tokens = {t for t in tokens if t}
    mails = [m for m in sent if normalise_id(m.message_id) in wanted or _token_of(m.message_id) in tokens]
    wanted |= tokens
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


def _token_of(message_id: str) -> str | None:
    match = _TOKEN.match(normalise_id(message_id))
    return match.group(1) if match else None


def verp_address(from_addr: str, message_id: str) -> str:
    """The return path of one mail: ``local+b.<token>@domain``, the token being
    the random part of its Message-ID; ``from_addr`` itself when the
    Message-ID has no such part (then reports are tied by Message-ID only)."""
    token = _token_of(message_id)
    local, at, domain = from_addr.rpartition("@")
    if not token or not at:
        return from_addr
    return f"{local}+{VERP_TAG}{token}@{domain}"


def verp_token(address: str) -> str | None:
    """The token of a return path made by ``verp_address`` (``...+b.<token>@...``), or None.
    Any domain: the token must still be the random part of a Message-ID the bot sent."""
    match = _VERP.match(address.strip().lower())
    return match.group(1) if match else None


__all__ = ["SentMail", "BounceVerdict", "judge", "normalise_id", "verp_address", "verp_token"]
