"""The records of a mail as the pipeline reads it: fetched, parsed, extracted, classified.

fetch -> parse -> extract -> classify -> record

Every stage takes and returns these frozen values, so each stage can be
tested on its own with a table of cases and no I/O. They live apart from
``bot.model`` (what the store reads back and the statuses are computed
from) so that the commands that read the state (``status``, ``health``, a
``poll`` with no new mail) do not define them: Python compiles a handful
of methods for each frozen dataclass when its module loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .model import ReasonCode

if TYPE_CHECKING:  # the official-copy types load with the modules that make them
    from .official.record import OfficialInputs


@dataclass(frozen=True)
class RawMessage:
    """One message exactly as the mailbox (or a folder of .eml files) gave it.

    ``source_key`` identifies the message in its source, e.g.
    ``imap:INBOX:1700000000:42`` or ``folder:sub/file.eml#3``.
    ``received_at`` is the server's INTERNALDATE (timezone-aware); for the
    folder source it is the Date header or the file's mtime (see bot/mailbox/folder.py).
    """

    source_key: str
    data: bytes
    received_at: datetime
    # Set when the message is larger than the configured limit and was NOT
    # downloaded: ``data`` is then only its header block (to say which mail
    # it is), ``full_size`` the size of the whole message on the server and
    # ``withheld`` why, in the coordinator's words. The mailbox keeps it.
    full_size: int | None = None
    withheld: str = ""

    @property
    def headers_only(self) -> bool:
        return self.full_size is not None


@dataclass(frozen=True)
class Attachment:
    """One candidate document found in a message.

    ``filename`` is decoded (RFC 2047/2231, raw 8-bit, cp437 in ZIPs) and NFC,
    exactly as the sender named it; never used as a path on disk.
    ``container`` says where it came from: "" for a plain attachment,
    otherwise a chain such as "zip:hoso.zip" or "rfc822:Fwd: ..." or "tnef".
    """

    filename: str
    content_type: str
    data: bytes
    container: str = ""


@dataclass(frozen=True)
class Skipped:
    """Something in a message that is not a document, or could not be read.

    Kept so that nothing disappears silently: ``reason`` is shown to the
    coordinator when the item matters (e.g. a ZIP bomb), and logged otherwise.
    """

    filename: str
    reason: str
    # False for parts that are not content (a logo drawn by the HTML, a
    # signature, a returned original): those are only logged. The others
    # (a ZIP bomb, a RAR, an encrypted part...) become review items.
    matters: bool = True


@dataclass(frozen=True)
class AuthVerdict:
    """What the office's own receiving server proved about the From domain
    (bot/mailauth.py, from Authentication-Results; RFC 8601).

    ``result`` is "pass", "fail" or "none"; ``method`` the one that decided
    ("dmarc", "dkim", "spf"; "" for none); ``domain`` the domain that method
    authenticated, read from the header as the RFC writes it (a quoted local
    part resolved: ``"boss@office"@evil.example`` is evil.example);
    ``aligned`` whether that domain is the From domain or a parent or
    subdomain of it (only then does a pass vouch for the From address).
    ``reason`` is for people (digest, replies, review reasons): never parse it.
    """

    result: str = "none"
    method: str = ""
    domain: str = ""
    aligned: bool = False
    reason: str = ""
    authserv_id: str = ""

    @property
    def vouches(self) -> bool:
        """True when the receiving server proved the From address's domain
        itself: a pass by a method aligned with it (an SPF pass for another
        envelope domain proves nothing about who wrote From)."""
        return self.result == "pass" and self.aligned

    @property
    def stored(self) -> str:
        """The one word kept with the message (``messages.auth``): "pass" only
        when the verdict vouches for the From address, "fail", or "none"."""
        return "pass" if self.vouches else ("fail" if self.result == "fail" else "none")


@dataclass(frozen=True)
class ParsedMessage:
    """A message reduced to what classification needs.

    Addresses are lower-case. ``original_from``/``original_date`` are set
    when the message forwards another one (inline or message/rfc822): the
    school is then the original sender, not the staff member who forwarded.
    """

    message_id: str
    from_addr: str
    from_name: str = ""
    reply_to: tuple[str, ...] = ()
    to_addrs: tuple[str, ...] = ()
    subject: str = ""
    date_header: datetime | None = None
    body_text: str = ""
    attachments: tuple[Attachment, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    original_from: str | None = None
    original_from_name: str = ""
    original_date: datetime | None = None
    # Automatic mail (auto-replies, bulk, delivery reports): never answered.
    automatic: str | None = None  # the reason, e.g. "Auto-Submitted: auto-replied"
    # Delivery report (RFC 3464, or X-Failed-Recipients): the recipients that failed
    # permanently (a Status of 4.x.x, temporary, is left out).
    bounce_recipients: tuple[str, ...] = ()
    # Authentication-Results verdict for the From domain:
    # "pass", "fail" (with reason in auth_reason) or "none" (no header).
    auth: str = "none"
    auth_reason: str = ""
    auth_verdict: AuthVerdict = AuthVerdict()  # the typed verdict behind auth/auth_reason
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    # The text the sender wrote in this very mail, the only place commands are
    # read from: the outer message's own text/plain part, else its HTML without
    # quoted (<blockquote>, gmail_quote, Outlook's reply header...) or hidden
    # (display:none, white or zero-size...) text. Never an attached or
    # forwarded message's text (``body_text`` falls back to it; this does not).
    command_text: str = ""
    # Delivery reports: the Message-IDs of the returned message (from its
    # message/rfc822 or text/rfc822-headers part, a copy in the text, or the
    # report's In-Reply-To/References), "<...>" lower case, deduplicated; ()
    # for mail that is not a delivery report.
    bounce_refs: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # parse warnings worth showing
    # The problems that may have lost content (the mail is cut short, its
    # structure could not be read): a person should look at the mail.
    incomplete: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentPart:
    """One document inside an attachment.

    Most attachments hold one document; a combined PDF may hold several one
    after another, and is split into parts by page range.
    ``head`` is the top of the document (first ~20 non-empty lines, NFC,
    legacy encodings converted): where the issuer, number and title are.
    ``text`` is the bounded text used for topic and year signals.
    """

    head: str
    text: str
    first_page: int = 1
    last_page: int = 1


@dataclass(frozen=True)
class Extraction:
    """Text got out of one attachment.

    ``kind`` is pdf, docx, doc, image, text or unknown. When no usable text
    could be got, ``parts`` is empty and ``error`` says why in words the
    coordinator understands (encrypted PDF, scan without OCR, empty file...).
    """

    kind: str
    parts: tuple[DocumentPart, ...] = ()
    pages: int = 0
    ocr: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()  # e.g. "converted from TCVN3"
    # What the official-copy check needs (issue 16): None when there is no
    # part, or for a result made before the check existed.
    official: OfficialInputs | None = None


@dataclass(frozen=True)
class ItemDecision:
    """The classification of one document part (or of a whole attachment).

    ``decision``: "counted" (goes into the campaign's facts), "review"
    (a person must decide) or "ignored" (not this campaign/year, not a
    document). ``reasons`` are short human-readable strings, stored and shown.
    """

    filename: str
    part_index: int
    school: str | None
    doc_types: tuple[str, ...]
    campaign: bool
    decision: str
    confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple)
    first_page: int = 1
    last_page: int = 1
    content_sha256: str = ""
    # why it is "review" or "ignored", typed (None for "counted")
    reason_code: ReasonCode | None = None
