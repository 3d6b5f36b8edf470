"""Bounds that keep one hostile or broken message cheap to parse (``ParseLimits``)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta, timezone

log = logging.getLogger("bot.parse")
MB = 1024 * 1024
VIETNAM = timezone(timedelta(hours=7), "+07:00")  # Asia/Ho_Chi_Minh: no DST


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep one hostile or broken message cheap to parse, and
    the one thing the parser may trust in it (``trusted_authserv_ids``)."""

    max_attachments: int = 50  # documents kept per message; more are skipped
    max_attachment_bytes: int = 60 * MB  # one document, after decoding
    max_depth: int = 5  # forwarded messages (message/rfc822) inside each other
    max_parts: int = 500  # MIME parts read in one message
    # The stdlib parser costs (nesting depth x lines); past this budget only
    # the headers are read (a 100-deep 4 MB message would take ~2 s).
    max_parse_cost: int = 8_000_000
    max_zip_members: int = 50
    max_zip_total_bytes: int = 100 * MB  # all ZIPs of the message together
    max_zip_ratio: int = 100  # uncompressed:compressed, per member...
    zip_ratio_floor: int = 1 * MB  # ...for members larger than this
    max_zip_depth: int = 2  # archives (ZIP, TNEF) inside each other: a ZIP in a ZIP is read, no deeper
    max_tnef_objects: int = 10_000
    max_body_chars: int = 200_000
    max_html_chars: int = 2_000_000  # HTML converted to text (the rest ignored)
    max_header_chars: int = 1_000  # subject, names
    # An image the HTML body draws (cid:) is a document when it is at least this
    # large: signature logos and icons are 2-40 KB and well under 0.3
    # megapixel; a phone photo of an A4 page is 0.15-5 MB and 3-12 megapixels,
    # a page scanned at 100 dpi 0.9 megapixel (Apple/iOS Mail and Outlook put
    # photos inserted in the text inline, with a cid: reference).
    # A large file that is small in pixels (under ``inline_logo_pixels``, e.g. a
    # 600x200 PNG banner saved with gradients) is still a logo.
    inline_document_bytes: int = 100 * 1024
    inline_document_pixels: int = 800_000
    inline_logo_pixels: int = 250_000
    # The authserv-ids (first token of Authentication-Results) of the office's
    # own receiving servers, lower case ([mailbox] trusted_authserv_ids). Only
    # their headers are read; any other was written by someone else, maybe the
    # sender. Empty: every mail has auth "none" (RFC 8601 sections 5 and 7.1).
    trusted_authserv_ids: tuple[str, ...] = ()
