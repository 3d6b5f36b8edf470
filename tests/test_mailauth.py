"""Authentication-Results read by RFC 8601 (bot/mailauth.py): what a forged or
oddly written header can and cannot make the bot believe about a sender."""
from __future__ import annotations

import dataclasses

import pytest

from bot.mailauth import AuthVerdict, domain_of, parse_header, verdict

MX = "mx.tphcm-gov.example"
BOSS = "nthmai.q12@tphcm-gov.example"


@pytest.mark.parametrize("value, domain", [
    ("tphcm-gov.example", "tphcm-gov.example"),
    ("nthmai@tphcm-gov.example", "tphcm-gov.example"),
    ("@tphcm-gov.example", "tphcm-gov.example"),
    ("TPHCM-gov.Example.", "tphcm-gov.example"),
    # RFC 5321/8601: a quoted local part may hold '@'; the domain is after the last '@' outside quotes
    ('"nthmai@tphcm-gov.example"@evil.example', "evil.example"),
    ('"a\\"@tphcm-gov.example"@evil.example', "evil.example"),           # an escaped quote inside
    ('"x;dkim=pass header.d=tphcm-gov.example"@evil.example', "evil.example"),
    # a value that is one quoted string is read inside (escapes resolved)
    ('"nthmai@tphcm-gov.example"', "tphcm-gov.example"),
    ('"\\"nthmai@tphcm-gov.example\\"@evil.example"', "evil.example"),
    ('"open@tphcm-gov.example', ""),                                    # a quote left open: no domain
    ("a@b@evil.example", "evil.example"),
    ("not a domain!", ""),
    ("", ""),
])
def test_the_domain_of_a_value_is_the_one_after_the_last_at_outside_quotes(value, domain):
    assert domain_of(value) == domain


def test_comments_nest_and_hold_separators_without_ending_a_result():
    parsed = parse_header(f"(our server; trusted) {MX} 1; spf=pass (sender (very) good; dkim=fail) "
                          "smtp.mailfrom=a@tphcm-gov.example; dkim=pass (2048-bit key; unprotected) "
                          'header.d=tphcm-gov.example header.b="Ab/c+="; dmarc=pass (p=NONE) header.from=tphcm-gov.example;')
    assert parsed.authserv_id == MX and parsed.error == ""
    assert [(r.method, r.result) for r in parsed.results] == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass")]
    assert parsed.results[0].value("smtp.mailfrom") == "a@tphcm-gov.example"
    assert parsed.results[1].prop("header.b").text == "Ab/c+="
    assert parsed.results[2].comments == ("p=NONE",)


def test_microsoft_365_header_without_authserv_id_is_read_and_has_none():
    parsed = parse_header("spf=fail (sender IP is 5.6.7.8) smtp.mailfrom=gmail.com; dkim=none (message not signed) "
                          "header.d=none;dmarc=fail action=none header.from=gmail.com;compauth=fail reason=001")
    assert parsed.authserv_id == ""
    assert [(r.method, r.result) for r in parsed.results] == [("spf", "fail"), ("dkim", "none"), ("dmarc", "fail"),
                                                              ("compauth", "fail")]
    assert parsed.results[3].reason == "001" and parsed.results[2].value("action") == "none"


@pytest.mark.parametrize("header", [
    f"{MX}; spf=pass smtp.mailfrom=(unclosed comment",
    f"{MX}; =pass",
    f'{MX}; spf="pass"',
])
def test_a_header_that_cannot_be_read_whole_believes_nothing(header):
    v = verdict([header], BOSS, (MX,))
    assert (v.result, v.aligned) == ("none", False) and "could not be read" in v.reason


# (results of the office's server, the verdict's (result, method, domain, aligned))
@pytest.mark.parametrize("results, expected", [
    ("dmarc=pass header.from=tphcm-gov.example", ("pass", "dmarc", "tphcm-gov.example", True)),
    ("dkim=pass header.d=tphcm-gov.example", ("pass", "dkim", "tphcm-gov.example", True)),
    ("dkim=pass header.i=@mail.tphcm-gov.example", ("pass", "dkim", "mail.tphcm-gov.example", True)),
    ("spf=pass smtp.mailfrom=nthmai@tphcm-gov.example", ("pass", "spf", "tphcm-gov.example", True)),
    ("spf=pass smtp.mailfrom=bulk.evil.example", ("pass", "spf", "bulk.evil.example", False)),
    # issue 13.3: a quoted local part is not the domain
    ('spf=pass smtp.mailfrom="nthmai@tphcm-gov.example"@evil.example', ("pass", "spf", "evil.example", False)),
    ('spf=pass smtp.mailfrom="nthmai@tphcm-gov.example" @evil.example', ("pass", "spf", "evil.example", False)),
    ('spf=pass smtp.mailfrom="nthmai@tphcm-gov.example"(c) @ evil.example', ("pass", "spf", "evil.example", False)),
    ('dkim=pass header.i="x@tphcm-gov.example"@evil.example', ("none", "", "", False)),
    ('spf=fail smtp.mailfrom=tphcm-gov.example; dkim=pass header.i="x@tphcm-gov.example"@evil.example',
     ("fail", "spf", "tphcm-gov.example", True)),
    # a comment or a quoted ';' cannot smuggle a second result in
    ('spf=pass smtp.mailfrom="a; dmarc=pass header.from=tphcm-gov.example"@evil.example',
     ("pass", "spf", "evil.example", False)),
    ("spf=pass (dmarc=pass header.from=tphcm-gov.example) smtp.mailfrom=evil.example",
     ("pass", "spf", "evil.example", False)),
    ("dmarc=fail (p=REJECT) header.from=tphcm-gov.example; dkim=pass header.d=tphcm-gov.example",
     ("fail", "dmarc", "tphcm-gov.example", True)),
    ("dmarc=pass header.from=evil.example; spf=pass smtp.mailfrom=evil.example", ("pass", "spf", "evil.example", False)),
])
def test_the_verdict_names_the_real_domain_and_whether_it_is_aligned(results, expected):
    v = verdict([f"{MX}; {results}"], BOSS, (MX,))
    assert (v.result, v.method, v.domain, v.aligned) == expected
    assert v.authserv_id == MX


@pytest.mark.parametrize("headers, trusted, result", [
    # forged header above the office's own: only the office's counts
    (["mx.evil.example; dmarc=pass header.from=tphcm-gov.example", f"{MX}; spf=fail smtp.mailfrom=evil.example"],
     (MX,), "fail"),
    # a look-alike authserv-id is another server
    ([f"{MX}.evil.example; dmarc=pass header.from=tphcm-gov.example"], (MX,), "none"),
    ([f'"{MX}.evil.example"; dmarc=pass header.from=tphcm-gov.example'], (MX,), "none"),
    ([f"{MX}evil; dmarc=pass header.from=tphcm-gov.example"], (MX,), "none"),
    # quoted authserv-id of the office itself: still the office
    ([f'"{MX}"; dmarc=pass header.from=tphcm-gov.example'], (MX,), "pass"),
    ([f"{MX}; dmarc=pass header.from=tphcm-gov.example"], (), "none"),
])
def test_only_the_trusted_servers_header_is_read(headers, trusted, result):
    assert verdict(headers, BOSS, trusted).result == result


def test_the_verdict_is_a_frozen_value_with_safe_defaults():
    v = AuthVerdict()
    assert (v.result, v.method, v.domain, v.aligned) == ("none", "", "", False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.aligned = True  # type: ignore[misc]


@pytest.mark.parametrize("header, results", [
    (f"{MX}; none", []),
    (f"{MX}; spf=pass smtp.mailfrom=a@b.example;", [("spf", "pass")]),     # a trailing ';'
    (f"{MX}; dkim/1=pass header.d=b.example", [("dkim", "pass")]),           # a method version
    (f"{MX}; dkim=pass reason=\"good (key)\" header.d=b.example", [("dkim", "pass")]),
    (f"{MX}; spf=pass smtp.mailfrom=a@b.example junk; dkim=fail", [("spf", "pass"), ("dkim", "fail")]),
])
def test_results_are_read_as_the_rfc_writes_them(header, results):
    parsed = parse_header(header)
    assert parsed.error == "" and [(r.method, r.result) for r in parsed.results] == results
