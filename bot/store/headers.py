"""Cheap, bounded reading of a raw message's header block (the Message-ID
of every fetched message, the sender of one whose processing failed), with
the standard library alone: no mail parser, no body."""
from __future__ import annotations

from typing import Sequence

# (the same size bound as the folder reader's, mailbox.MAX_HEADER_BYTES): a
# mail of millions of tiny header lines must not make it grow without limit.
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADER_LINES = 2000


def header_block(data: bytes, limit: int = MAX_HEADER_BYTES) -> bytes:
    """The header block of a raw message (without the blank line), at most ``limit`` bytes."""
    head = data[:limit]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    return head[:min(ends)] if ends else head  # not split(): it would copy the whole body


def header_fields(data: bytes, names: Sequence[str]) -> bytes:
    """The first header of each of ``names`` (with its continuation lines),
    as a small header block: bounded in size (``MAX_HEADER_BYTES``) and in
    lines read (``MAX_HEADER_LINES``), whatever the message holds."""
    wanted = {n.lower().encode() for n in names}
    block = header_block(data)
    out: list[bytes] = []
    taking, start = False, 0
    for _ in range(MAX_HEADER_LINES):
        if start >= len(block):
            break
        end = block.find(b"\n", start)
        end = len(block) if end < 0 else end + 1
        line = block[start:end]
        start = end
        if line[:1] in (b" ", b"\t"):  # a folded continuation of the header before
            if taking:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        taking = name in wanted and b":" in line
        if taking:
            wanted.discard(name)
            out.append(line if line.endswith(b"\n") else line + b"\r\n")
        elif not wanted:
            break
    return b"".join(out)


def message_id_of(data: bytes) -> str:
    """The Message-ID header, read cheaply (and boundedly) from the raw header block."""
    from email.parser import BytesHeaderParser  # not at the top: status and health parse no mail (start-up)
    from email import policy

    try:
        value = BytesHeaderParser(policy=policy.compat32).parsebytes(
            header_fields(data, ("Message-ID",))).get("Message-ID", "")
    except Exception:  # malformed headers: the parse stage will report it
        return ""
    return " ".join(str(value).split())[:998]


def sender_of(data: bytes) -> tuple[str, str]:
    """(From address, subject) of a raw message, read from its header block
    with the standard library alone, as ``message_id_of`` reads every
    fetched message: no mail-parser, no body, so a message whose processing
    crashed cannot crash this too. Unreadable fields are ""."""
    from email.parser import BytesHeaderParser  # not at the top: status and health parse no mail (start-up)
    from email import policy

    headers = BytesHeaderParser(policy=policy.default).parsebytes(header_fields(data, ("From", "Subject")))
    fields = []
    for name in ("From", "Subject"):
        try:
            value = headers[name]
            if name == "From":
                value = value.addresses[0].addr_spec.lower() if value and value.addresses else ""
            fields.append(" ".join(str(value or "").split())[:998])
        except Exception:  # a malformed header: the reason of the quarantine says more
            fields.append("")
    return fields[0], fields[1]

