"""Parse one raw email into a ``ParsedMessage``: who sent it, its text, its documents.

``parse_message(data)`` is a pure function that never raises, whatever the
bytes: everything that goes wrong becomes a line in ``problems`` or a
``Skipped`` entry with a reason a coordinator can read.

Which library does what, and why
--------------------------------
* **The standard library parses the MIME tree, once**
  (``email.parser.BytesParser`` with ``policy=compat32``). compat32 keeps
  each header exactly as received (raw 8-bit bytes survive as surrogate
  escapes, so a cp1258 file name can still be recovered), never raises when
  a malformed header is read (the default policy's header registry parses
  lazily and can raise on access), and is the faster of the two.
* **mail-parser reads the address and date headers.** ``MailParser`` is
  given a small header-only message (From, To, Cc, Reply-To, Date) whose
  8-bit bytes we have already decoded. Its address parser recovers
  mailboxes from malformed headers and decodes display names in their
  lexical context (a quoted comma in "Phòng GD, Q12" is not a separator),
  and its date parser validates every field and explains failures.
  mail-parser is *not* allowed to walk the MIME tree: it base64-re-encodes
  every attachment (wasted time on a 5 MB scan), names inline images after
  their Content-ID, decodes raw 8-bit names as UTF-8 only (cp1258 is
  lost), and knows nothing of containers (ZIP, forwarded mail, TNEF), of
  limits or of forwarding depth.
* **Our own code** does what neither offers: file names in every client's
  encoding (RFC 2231, RFC 2047 inside quotes, raw UTF-8/cp1258, cp437 in
  ZIPs) normalised to NFC; ZIP expansion with bomb limits (``zipfile``);
  a small bounded TNEF (winmail.dat) reader; HTML to text
  (``html.parser``, nothing fetched); inline-forward detection; automatic
  mail and delivery reports (with the Message-IDs they return:
  ``bounce_refs``).
* **bot/mailauth.py** reads Authentication-Results by RFC 8601 into a typed
  verdict (``auth_verdict``); **bot/outlookmsg.py** turns an Outlook .msg
  (``olefile``) into a mail that is then read like any other.

What the sender wrote in this very mail (``command_text``, where commands
are read) is the outer message's own text part, or its HTML without quoted
or hidden text; never a forwarded or attached message's. An image the HTML
draws (cid:) is decoration unless it is marked as an attachment or is as
large as a photo of a page. Every part that is not read is logged (English,
logger ``bot.parse``) and listed in ``skipped`` with its reason.

Why not tnefparse: it loops over a 32-bit property count taken from the file
without checking it against the data (a 20-byte winmail.dat keeps it busy
for hours), and its ``name`` raises on non-UTF-8 names. The attachment part
of TNEF is small enough to read ourselves with every count bounded.

Containers chain with " > ", e.g. ``rfc822:Fwd: Hồ sơ > zip:hoso.zip``.

One concern per module: ``limits`` (ParseLimits), ``text`` (charsets,
encoded-words), ``headers`` (addresses, dates, ids), ``mime`` (parts,
names, payloads), ``htmltext`` (HTML to text, the sender's own words),
``archives`` (ZIP, TNEF), ``forwards`` (inline forwards), ``automatic``
(auto-replies, delivery reports) and ``message`` (the walk over one mail).
"""
from __future__ import annotations

from .limits import MB, ParseLimits
from .message import parse_message
from .mime import OUTLOOK_MSG

__all__ = ["ParseLimits", "parse_message", "OUTLOOK_MSG", "MB"]
