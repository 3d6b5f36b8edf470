"""Whether an extraction may be reused for the same bytes, and the key it is cached under."""
from __future__ import annotations

from ..model import Extraction
from .common import OCR_FOUND_NOTHING, SCAN_UNREAD, SCANS_UNREAD, ExtractLimits
from .pool import TIMEOUT_ERROR


# Bump when a change to extraction changes its results: the cache is keyed by
# content and by this version (with the limits), so an upgrade re-reads files.
# 3: official-copy inputs (medium, digital signatures, seals) in every result.
# 4: scans' official-copy inputs hold their heads and Biên bản pages read again (head_text, body_text).
# 5: OCR'd date lines repaired ("ngày.12" -> "ngày 12"), fewer scanned pages read whole.
# 6: the signer read around a seal with the signature's blue ink whitened too; heads whose number
#    was read with stray characters read again at 300 dpi.
# 7: a scan's signer crop and rereads are left for after classification (OfficialInputs.deferred),
#    done only for the parts that count and whose verdict depends on them.
EXTRACT_VERSION = 7


def worth_caching(result: Extraction, ocr: bool | None) -> bool:
    """Whether an extraction may be reused for the same bytes later: not a
    timeout (it may succeed on a quieter machine), not a file whose scanned
    pages OCR could not read, nor, with OCR off, any PDF or image (it may be
    a scan, to be read once OCR is turned on)."""
    if timed_out(result):
        return False
    if result.kind in ("pdf", "image") and ocr is False:
        return False
    unread = (result.error or "").startswith(SCAN_UNREAD + " ") and result.error != OCR_FOUND_NOTHING
    return not unread and not any(SCANS_UNREAD in note for note in result.notes)


def cache_version(limits: ExtractLimits) -> str:
    """The key under which extractions made with ``limits`` are cached."""
    fields = (limits.max_bytes, limits.max_pages, limits.max_chars, limits.head_lines, limits.ocr_max_pages,
              limits.ocr_dpi, limits.max_unpacked, limits.max_image_pixels)
    version = f"{EXTRACT_VERSION}:" + ",".join(map(str, fields))
    if limits.trust_roots.configured:  # other roots, another verdict on the same signature
        import hashlib

        version += ":roots=" + hashlib.sha256(b"".join(sorted(limits.trust_roots.certificates))).hexdigest()[:16]
    return version


def timed_out(result: Extraction) -> bool:
    """The Extractor gave up on the file after its timeout (worth trying again later)."""
    head = TIMEOUT_ERROR.split("{", 1)[0]
    return bool(result.error) and result.error.startswith(head)
