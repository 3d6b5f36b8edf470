"""PDF digital signatures (ký số): who signed, when, and whether the file was
changed afterwards, read with pyHanko.

``read_signatures`` is pure (bytes, trust roots and ``now`` in, a frozen
``SignatureReport`` out); ``load_trust_roots`` is the I/O edge that reads a
folder of CA certificates once at start.

What we promise (issue 16):
- ``intact``: the hash over the signed byte range matches and the signature
  over it verifies. Bytes changed inside the signed range make it False.
- ``covers_whole_file``: the signed range is the whole file as received.
- ``modified_after_signing``: a later revision adds or changes content
  (pages, text, annotations). Another signature, or long-term-validation data
  (DSS, document timestamps), added later does NOT count: a Vietnamese
  e-document is signed first by the person, then by the organisation's
  seal certificate (Nghị định 30/2020, Phụ lục I).
- ``trusted``: the certificate chains to one of the configured roots at the
  time of signing; None when no roots are configured (we never guess).
- the certificate is checked against the time of signing, not today: a
  certificate that expired after the document was signed is still a valid
  signature (an office checks documents months later).
"""
from __future__ import annotations

import io
import logging
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ConfigError
from ..record import frozen

# Hash algorithms refused as evidence of integrity. SHA-1 stays accepted:
# older Vietnamese CA tokens still sign with it, and refusing it would call a
# valid signature invalid.
_WEAK_HASHES = frozenset({"md5"})
_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")

log = logging.getLogger(__name__)


@frozen
class TrustRoots:
    """CA certificates (DER) that a signature must chain to; empty = none configured."""

    certificates: tuple[bytes, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.certificates)


@frozen
class DigitalSignature:
    """One signature field of a PDF, as the office needs to know it."""

    field: str
    signer: str                      # certificate subject's common name
    organisation: str                # subject's O (or OU), "" when absent
    signed_at: datetime | None       # timestamp token, else the signer's own claim
    intact: bool
    covers_whole_file: bool
    modified_after_signing: bool
    trusted: bool | None             # None: no trust roots configured
    certificate_valid_at_signing: bool
    change: str = "none"             # what pyHanko saw after the signature: none, lta_updates,
                                     # form_filling, annotations, other, unknown

    @property
    def good(self) -> bool:
        """Intact, unchanged since, and made with a certificate valid at the time."""
        return self.intact and not self.modified_after_signing and self.certificate_valid_at_signing

    def to_json(self) -> dict:
        """The contract's ``digital_signature`` object (issue 16)."""
        return {
            "signer": self.signer,
            "organisation": self.organisation,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "intact": self.intact,
            "covers_whole_file": self.covers_whole_file,
            "modified_after_signing": self.modified_after_signing,
            "trusted": self.trusted,
        }


@frozen
class SignatureReport:
    """Every signature of one PDF, in signing order.

    ``error`` (Vietnamese) is set when the file has signature data that could
    not be checked; the signatures then say nothing either way.
    """

    signatures: tuple[DigitalSignature, ...] = ()
    error: str | None = None

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def main(self) -> DigitalSignature | None:
        """The signature to show: the first bad one, else the last (it covers the most)."""
        bad = [s for s in self.signatures if not s.good]
        return bad[0] if bad else (self.signatures[-1] if self.signatures else None)

    @property
    def valid(self) -> bool:
        """Signed, every signature good (a PDF changed after signing never is)."""
        return self.signed and self.error is None and all(s.good for s in self.signatures)


LIBRARY_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


def quiet_library_logs() -> None:
    """Keep pyHanko's per-signature warnings (with tracebacks) out of the bot's log.

    pyHanko logs every untrusted chain and every rejected revision at
    WARNING with a traceback; what matters is in the ``SignatureReport``.
    For the CLI's logging setup to call once, like the apscheduler line.
    """
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def has_signature_data(data: bytes) -> bool:
    """Cheap pre-check: whether the file can hold a PDF signature at all.

    Lets the no-OCR first poll skip pyHanko for the ordinary unsigned PDF.
    """
    # readers accept junk before the header within the first kilobyte
    return b"%PDF-" in data[:1024] and b"/ByteRange" in data


def read_signatures(data: bytes, roots: TrustRoots, now: datetime) -> SignatureReport:
    """The signatures of a PDF file, checked against ``roots`` at the time of signing.

    Never raises for a bad file: an unreadable or unsupported signature
    gives ``error`` (a reason in Vietnamese). ``now`` stands in for a
    missing signing time and bounds a claimed one.
    """
    if not has_signature_data(data):
        return SignatureReport()
    from pyhanko.pdf_utils.reader import PdfFileReader

    # Bytes a mail gateway put before the header shift every offset; the
    # signer signed the file from "%PDF-" on.
    data = data[data.find(b"%PDF-"):]
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        # Document timestamps (archival, PAdES-LTA) are no one's signature: the
        # difference analysis of the signatures before them already judges them.
        embedded = [sig for sig in reader.embedded_signatures if sig.sig_object_type != "/DocTimeStamp"]
    except Exception as exc:  # a hostile or broken PDF is the mail's fault, not ours
        log.info("PDF signatures unreadable: %s", exc)
        return SignatureReport(error="không đọc được chữ ký số trong tệp PDF (tệp hỏng hoặc không chuẩn)")
    found = []
    for index, sig in enumerate(embedded):
        try:
            found.append(_check(sig, roots, now, last=index == len(embedded) - 1))
        except Exception as exc:
            log.info("PDF signature %s not checkable: %s", index, exc)
            return SignatureReport(tuple(found), error="không kiểm tra được chữ ký số "
                                                       f"thứ {index + 1} (định dạng không hỗ trợ)")
    return SignatureReport(tuple(found))


def _check(sig, roots: TrustRoots, now: datetime, last: bool) -> DigitalSignature:
    """One embedded signature: integrity, coverage, later changes, trust."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from ..vietnamese import nfc  # not at the top: the config imports this module (TrustRoots) and reads no text

    claimed = sig.self_reported_timestamp
    moment = _aware(claimed) if claimed is not None else now
    if moment > now:
        moment = now  # a clock set ahead proves nothing; judge the certificate today
    # Trust is judged only against configured roots; without them, an empty
    # list (never the operating system's TLS list, which says nothing of
    # Vietnamese CAs).
    context = ValidationContext(trust_roots=list(_asn1_certs(roots.certificates)), moment=moment,
                                allow_fetching=False, weak_hash_algos=_WEAK_HASHES)
    # Any key usage: what the office asks is who signed and whether the file
    # changed, and Vietnamese CA certificates differ in their usage bits
    # (pyHanko's default, non-repudiation only, would call some untrusted).
    usage = KeyUsageConstraints(key_usage=set(), extd_key_usage=None)
    status = validate_pdf_signature(sig, context, key_usage_settings=usage)
    cert = status.signing_cert
    signed_at = _aware(status.timestamp_validity.timestamp) if status.timestamp_validity else (
        _aware(claimed) if claimed is not None else None)
    at = signed_at or now
    validity = cert["tbs_certificate"]["validity"]
    valid_then = validity["not_before"].native <= at <= validity["not_after"].native

    level = status.modification_level
    coverage = status.coverage
    change = level.name.lower() if level is not None else "unknown"
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        modified = False
    elif coverage != SignatureCoverageLevel.ENTIRE_REVISION or level is None:
        modified = True  # unclear coverage: never vouch for it
    elif level <= ModificationLevel.LTA_UPDATES:
        modified = False
    elif level == ModificationLevel.FORM_FILLING:
        # Later signatures show as form filling on the earlier ones; after
        # the last signature, a filled-in field is a change of content.
        modified = last
    else:
        modified = True
    subject = cert.subject.native
    return DigitalSignature(
        field=str(sig.field_name or ""),
        signer=nfc(str(subject.get("common_name", "") or "")),
        organisation=nfc(str(subject.get("organization_name", "")
                             or subject.get("organizational_unit_name", "") or "")),
        signed_at=signed_at,
        intact=bool(status.intact and status.valid),
        covers_whole_file=coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modified_after_signing=modified,
        trusted=(status.trusted and status.validation_path is not None) if roots.configured else None,
        certificate_valid_at_signing=valid_then,
        change=change,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _asn1_certs(ders: tuple[bytes, ...]):
    from asn1crypto import x509

    return (x509.Certificate.load(der) for der in ders)


def parse_certificates(data: bytes, name: str) -> tuple[bytes, ...]:
    """The certificates (DER) in one PEM or DER file; ``ConfigError`` naming the file if none."""
    from asn1crypto import pem, x509

    try:
        if pem.detect(data):
            ders = tuple(der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE")
        else:
            ders = (data,)
        for der in ders:
            x509.Certificate.load(der).native  # parse fully now: a bad file fails at start
    except Exception as exc:
        raise ConfigError(f"trust root {name}: not a PEM or DER certificate ({exc})") from None
    if not ders:
        raise ConfigError(f"trust root {name}: no CERTIFICATE block in it")
    return ders


def load_trust_roots(folder: Path | None) -> TrustRoots:
    """Read every .pem/.crt/.cer/.der file of ``folder`` (None: no roots configured).

    Raises ``ConfigError`` naming the folder or the file that is not there or
    not a certificate; meant to run once at start.
    """
    if folder is None:
        return TrustRoots()
    if not folder.is_dir():
        raise ConfigError(f"trust roots folder {folder} does not exist")
    ders: list[bytes] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in _CERT_SUFFIXES and path.is_file():
            ders.extend(parse_certificates(path.read_bytes(), str(path)))
    if not ders:
        raise ConfigError(f"trust roots folder {folder} holds no certificate (.pem, .crt, .cer, .der)")
    return TrustRoots(tuple(ders))
