"""PDF digital signatures, on real PDFs signed in the test with a test CA."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.official.signature import (LIBRARY_LOGGERS, TrustRoots, has_signature_data, load_trust_roots,
                                    parse_certificates, quiet_library_logs, read_signatures)
from tests import officialfactory as f

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
SIGNED_AT = NOW - timedelta(days=60)


@pytest.fixture(scope="module")
def pki():
    return f.make_pki(NOW)


@pytest.fixture(scope="module")
def files(pki):
    """Every variant, built once: name -> bytes."""
    plain = f.plain_pdf()
    good = f.sign(plain, pki.signer, (pki.root,), SIGNED_AT)
    return {
        "plain": plain,
        "good": good,
        "person_then_organisation": f.sign(good, pki.organisation, (pki.root,), SIGNED_AT + timedelta(hours=2),
                                           field="Signature2"),
        "page_added_after_signing": f.add_page_after_signing(good),
        "content_replaced_after_signing": f.overwrite_page_after_signing(good),
        "bytes_edited_in_signed_range": f.edit_inside_signed_range(good),
        "comment_appended": f.append_bytes(good),
        "second_signature_then_page": f.add_page_after_signing(
            f.sign(good, pki.organisation, (pki.root,), SIGNED_AT, field="Signature2")),
        "cert_expired_since": f.sign(plain, pki.expired, (pki.root,), datetime(2020, 6, 1, tzinfo=timezone.utc)),
        "cert_expired_when_signed": f.sign(plain, pki.expired, (pki.root,), SIGNED_AT),
        "untrusted_root": f.sign(plain, pki.stranger, (pki.stranger_root,), SIGNED_AT),
    }


# name, roots configured?, valid, per-signature (intact, covers_whole_file, modified_after_signing, trusted,
# certificate_valid_at_signing) of the main signature
CASES = [
    ("good", True, True, (True, True, False, True, True)),
    ("good", False, True, (True, True, False, None, True)),
    ("person_then_organisation", True, True, (True, True, False, True, True)),
    ("page_added_after_signing", True, False, (True, False, True, True, True)),
    ("page_added_after_signing", False, False, (True, False, True, None, True)),
    ("content_replaced_after_signing", True, False, (True, False, True, True, True)),
    ("bytes_edited_in_signed_range", True, False, (False, True, False, False, True)),
    ("bytes_edited_in_signed_range", False, False, (False, True, False, None, True)),
    # bytes after the signed revision that change nothing: still a valid signature
    ("comment_appended", True, True, (True, False, False, True, True)),
    ("second_signature_then_page", True, False, (True, False, True, True, True)),
    # expired today, valid when signed: a valid signature, never called invalid
    ("cert_expired_since", True, True, (True, True, False, True, True)),
    ("cert_expired_when_signed", True, False, (True, True, False, False, False)),
    ("untrusted_root", True, True, (True, True, False, False, True)),
    ("untrusted_root", False, True, (True, True, False, None, True)),
]


@pytest.mark.parametrize("name,configured,valid,expected", CASES, ids=[f"{c[0]}-{'roots' if c[1] else 'noroots'}"
                                                                        for c in CASES])
def test_signature_variants(files, pki, name, configured, valid, expected):
    roots = TrustRoots((pki.root.cert,)) if configured else TrustRoots()
    report = read_signatures(files[name], roots, NOW)
    assert report.error is None
    assert report.valid is valid
    main = report.main
    got = (main.intact, main.covers_whole_file, main.modified_after_signing, main.trusted,
           main.certificate_valid_at_signing)
    assert got == expected


def test_signer_organisation_and_time_come_from_the_certificate(files, pki):
    report = read_signatures(files["person_then_organisation"], TrustRoots((pki.root.cert,)), NOW)
    person, organisation = report.signatures
    assert (person.signer, person.organisation) == ("Nguyễn Văn A", "Trường THCS Nguyễn Hiền")
    assert organisation.signer == "Trường THCS Nguyễn Hiền"
    assert person.signed_at == SIGNED_AT
    # the person's signature does not cover the organisation's, and that is no tampering
    assert not person.covers_whole_file and not person.modified_after_signing
    assert person.to_json() == {
        "signer": "Nguyễn Văn A", "organisation": "Trường THCS Nguyễn Hiền",
        "signed_at": SIGNED_AT.isoformat(), "intact": True, "covers_whole_file": False,
        "modified_after_signing": False, "trusted": True}


@pytest.fixture(scope="module")
def tsa(pki):
    return f.make_tsa(pki.root, NOW)


def test_document_timestamp_after_signing_is_no_modification(files, pki, tsa):
    stamped = f.timestamp_document(files["good"], f.stamper(tsa, SIGNED_AT + timedelta(days=1)))
    report = read_signatures(stamped, TrustRoots((pki.root.cert,)), NOW)
    assert report.valid and len(report.signatures) == 1
    assert report.main.change == "lta_updates" and not report.main.covers_whole_file


def test_signing_time_comes_from_a_timestamp_token_over_the_signers_claim(pki, tsa):
    tsa_time = SIGNED_AT + timedelta(hours=5)
    signed = f.sign(f.plain_pdf(), pki.signer, (pki.root,), SIGNED_AT - timedelta(days=400),
                    timestamper=f.stamper(tsa, tsa_time))
    report = read_signatures(signed, TrustRoots((pki.root.cert,)), NOW)
    assert report.valid and report.main.signed_at == tsa_time


@pytest.mark.parametrize("usage", ["none", "client_auth"])
def test_certificate_key_usage_does_not_make_a_signature_untrusted(pki, usage):
    who = f.make_identity("Phạm Văn D", "Trường TH Thạnh Lộc", NOW - timedelta(days=400),
                          NOW + timedelta(days=400), pki.root, usage=usage)
    report = read_signatures(f.sign(f.plain_pdf(), who, (pki.root,), SIGNED_AT), TrustRoots((pki.root.cert,)), NOW)
    assert report.valid and report.main.trusted is True


def test_unsigned_pdf_has_no_signature_and_is_not_parsed(files):
    assert not has_signature_data(files["plain"])
    assert read_signatures(files["plain"], TrustRoots(), NOW).signatures == ()
    assert not has_signature_data(b"PK\x03\x04 /ByteRange")  # not a PDF at all


def test_signed_pdf_after_leading_junk_is_still_checked(files, pki):
    report = read_signatures(b"\r\n junk from a mail gateway \r\n" + files["good"], TrustRoots(), NOW)
    assert report.signed and report.main.signer == "Nguyễn Văn A"


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n/ByteRange [0 10 20 30]\n%%EOF",   # claims a signature, no structure
    b"%PDF-1.4\n" + b"\x00" * 200 + b"/ByteRange",
])
def test_broken_signed_pdf_gives_a_reason_not_a_crash(data):
    report = read_signatures(data, TrustRoots(), NOW)
    assert not report.valid
    assert report.error == "không đọc được chữ ký số trong tệp PDF (tệp hỏng hoặc không chuẩn)"


def test_truncated_signed_pdf_is_not_valid(files):
    good = files["good"]
    report = read_signatures(good[: len(good) // 2] + b"/ByteRange", TrustRoots(), NOW)
    assert not report.valid and report.error


def test_forged_signature_value_is_not_intact(files):
    good = files["good"]
    start = good.index(b"/Contents <") + len(b"/Contents <")
    end = start + len(good[start:good.index(b">", start)].rstrip(b"0")) - 10  # inside the signature value
    forged = good[:end] + (b"A" if good[end:end + 1] != b"A" else b"B") + good[end + 1:]
    report = read_signatures(forged, TrustRoots(), NOW)
    assert not report.valid and report.main.intact is False


def test_trust_roots_folder(tmp_path: Path, pki):
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    (tmp_path / "other.der").write_bytes(pki.stranger_root.cert)
    (tmp_path / "README.txt").write_text("not a certificate, not read")
    roots = load_trust_roots(tmp_path)
    assert set(roots.certificates) == {pki.root.cert, pki.stranger_root.cert}
    assert load_trust_roots(None) == TrustRoots()


def test_trust_roots_errors_name_the_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_trust_roots(tmp_path / "missing")
    with pytest.raises(ConfigError, match="holds no certificate"):
        load_trust_roots(tmp_path)
    (tmp_path / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="bad.pem"):
        load_trust_roots(tmp_path)
    with pytest.raises(ConfigError, match="x.crt"):
        parse_certificates(b"hello", "x.crt")


def test_pyhanko_warnings_can_be_kept_out_of_the_log(files, pki, caplog):
    import logging

    before = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    for name in LIBRARY_LOGGERS:  # the command line quiets them in-process: start from the library's default
        logging.getLogger(name).setLevel(logging.NOTSET)
    try:
        with caplog.at_level(logging.INFO):
            read_signatures(files["untrusted_root"], TrustRoots((pki.root.cert,)), NOW)
        assert any(r.name.startswith("pyhanko") and r.levelno == logging.WARNING for r in caplog.records)
        caplog.clear()
        quiet_library_logs()
        read_signatures(files["untrusted_root"], TrustRoots((pki.root.cert,)), NOW)
        assert not [r for r in caplog.records if r.name.startswith("pyhanko")]
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
