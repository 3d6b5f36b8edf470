"""Authentication-Results (RFC 8601) read as the RFC writes them, and the
verdict for the From domain. Pure: text in, frozen values out.

``verdict(headers, from_addr, trusted)`` gives an ``AuthVerdict`` (result,
method, domain, aligned, reason) that the rest of the bot uses as it is;
nothing downstream re-parses the human-readable ``reason``.

Why our own parser and not a library
------------------------------------
The grammar is small (RFC 8601 section 2.2 on top of RFC 5322 lexical
tokens), and what matters here is exactly its hard corners: comments that
nest and hold ";" or "=", quoted strings with backslash escapes, and
property values that are ``[local-part "@"] domain`` where the local part
may itself be a quoted string (``smtp.mailfrom="boss@office"@evil.example``
is an address at evil.example). ``authres`` (PyPI, last release 2019) keeps
the quoted form but refuses the header Microsoft 365 writes (no authserv-id:
"Syntax error"), which this bot must at least recognise to say why it is
ignored; ``authresults`` is a first alpha. A scanner of ~150 lines, tested
with a table of hostile headers, is easier to trust than either.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import AuthVerdict

__all__ = ["AuthVerdict", "AuthResults", "MethodResult", "Property", "parse_header", "domain_of", "aligned",
           "verdict"]

MAX_HEADER_CHARS = 8_000  # one header field read (a real one is a few hundred characters)
MAX_HEADERS = 100  # Authentication-Results fields looked at, from the top


@dataclass(frozen=True)
class Property:
    """One ``ptype.property=value`` of a result (``ptype`` is "" for Microsoft's
    ``action=none``). ``value`` is as written, quotes and all; ``text`` is
    the value unquoted (escapes resolved)."""

    ptype: str
    name: str
    value: str
    text: str


@dataclass(frozen=True)
class MethodResult:
    method: str  # lower case, without its version ("dkim/1" -> "dkim")
    result: str  # lower case
    reason: str = ""
    props: tuple[Property, ...] = ()
    comments: tuple[str, ...] = ()  # the comments inside this result, for people only

    def prop(self, key: str) -> Property | None:
        """The first property named ``key`` ("smtp.mailfrom", "header.d", "action")."""
        ptype, _, name = key.lower().rpartition(".")
        return next((p for p in self.props if p.ptype == ptype and p.name == name), None)

    def value(self, key: str) -> str:
        p = self.prop(key)
        return p.value if p else ""


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str  # lower case; "" when the header has none (Microsoft 365)
    results: tuple[MethodResult, ...] = ()
    error: str = ""  # why the header could not be read whole ("" when it could)


# --------------------------------------------------------------------------
# The scanner: RFC 5322 CFWS, quoted strings, tokens
# --------------------------------------------------------------------------

_KEYWORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")
_PROPERTY = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_DIGITS = re.compile(r"[0-9]+")
_VALUE_END = frozenset(" \t\r\n;()")


class _Syntax(ValueError):
    pass


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.comments: list[str] = []

    def at_end(self) -> bool:
        return self.i >= len(self.s)

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def cfws(self) -> None:
        """Skip folding white space and comments (nested, with quoted-pairs)."""
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in " \t\r\n":
                self.i += 1
            elif ch == "(":
                self.comments.append(self._comment())
            else:
                return

    def _comment(self) -> str:
        depth, out = 0, []
        while self.i < len(self.s):
            ch = self.s[self.i]
            self.i += 1
            if ch == "\\" and self.i < len(self.s):
                out.append(self.s[self.i])
                self.i += 1
                continue
            if ch == "(":
                depth += 1
                if depth == 1:
                    continue
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return "".join(out)
            out.append(ch)
        raise _Syntax("comment not closed")

    def take(self, ch: str) -> bool:
        self.cfws()
        if self.peek() == ch:
            self.i += 1
            return True
        return False

    def match(self, pattern: re.Pattern) -> str | None:
        self.cfws()
        m = pattern.match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def quoted(self) -> str:
        """A quoted-string at the cursor (which is on '"'); its text, escapes resolved."""
        self.i += 1
        out = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            self.i += 1
            if ch == "\\" and self.i < len(self.s):
                out.append(self.s[self.i])
                self.i += 1
            elif ch == '"':
                return "".join(out)
            else:
                out.append(ch)
        raise _Syntax("quoted string not closed")

    def value(self) -> tuple[str, str]:
        """A property value: token, quoted-string, or ``[local-part "@"] domain``
        with a quoted local part, (as written, unquoted text). RFC 5322 lets
        CFWS stand around the '@' of an address (``"x" @evil.example``): it is
        read as one value, never as a value and something else."""
        self.cfws()
        start = self.i
        text = []
        while True:
            while self.i < len(self.s) and self.s[self.i] not in _VALUE_END:
                if self.s[self.i] == '"':
                    text.append(self.quoted())
                else:
                    text.append(self.s[self.i])
                    self.i += 1
            if self.i == start:
                raise _Syntax("value missing")
            end, last = self.i, self.s[self.i - 1]
            if last in '@"':
                self.cfws()
                if (last == "@" or self.peek() == "@") and self.i < len(self.s) and self.s[self.i] not in _VALUE_END:
                    text.append(" ")  # the text shows the gap; the domain is read from what was written
                    continue
            self.i = end
            break
        return self.s[start:self.i], "".join(text)

    def skip_to_semicolon(self) -> None:
        """After a property that cannot be read: on to the next ';' outside
        comments and quotes (an unclosed one is a syntax error of the header)."""
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == ";":
                return
            if ch == "(":
                self._comment()
            elif ch == '"':
                self.quoted()
            else:
                self.i += 1


def parse_header(value: str) -> AuthResults:
    """One Authentication-Results field value, read by RFC 8601.

    A result whose method and result cannot be read makes the whole header
    unreadable (``error`` set, no results): dropping it could turn a
    "dmarc=fail" into silence and the rest into a pass. A property that
    cannot be read is dropped from its result only.
    """
    s = _Scanner(re.sub(r"\r?\n", "", str(value))[:MAX_HEADER_CHARS])
    authserv = ""
    results = []
    try:
        authserv = _authserv_id(s)
        first = not authserv  # Microsoft 365: the first result follows at once, without ';'
        while True:
            s.cfws()
            if s.at_end():
                break
            if not first and not s.take(";"):
                raise _Syntax(f"';' expected at {s.s[s.i:s.i + 20]!r}")
            first = False
            s.cfws()
            if s.at_end():
                break  # a trailing ';' (seen in the wild)
            before = len(s.comments)
            result = _resinfo(s)
            if result is not None:  # None: "none", no result at all
                results.append(_with_comments(result, s.comments[before:]))
    except _Syntax as exc:
        return AuthResults(authserv, (), str(exc))
    return AuthResults(authserv, tuple(results))


def _authserv_id(s: _Scanner) -> str:
    s.cfws()
    start = s.i
    if s.peek() == '"':
        ident = s.quoted()
    else:
        ident = s.match(_PROPERTY) or ""
        if ident and (s.take("=") or s.take("/")):  # Microsoft 365: no authserv-id, a result first
            s.i = start
            s.comments.clear()
            return ""
    if not ident:
        raise _Syntax("no authserv-id")
    s.match(_DIGITS)  # authres-version
    return ident.lower()


def _resinfo(s: _Scanner) -> MethodResult | None:
    method = s.match(_KEYWORD)
    if method is None:
        raise _Syntax(f"method expected at {s.s[s.i:s.i + 20]!r}")
    if s.take("/"):
        if s.match(_DIGITS) is None:
            raise _Syntax("method version expected")
    if not s.take("="):
        if method.lower() == "none":
            return None
        raise _Syntax(f"'=' expected after {method!r}")
    result = s.match(_KEYWORD)
    if result is None:
        raise _Syntax(f"result of {method!r} expected")
    reason, props = "", []
    while True:
        s.cfws()
        if s.at_end() or s.peek() == ";":
            break
        start = s.i
        try:
            name = s.match(_PROPERTY)
            if name is None or not s.take("="):
                raise _Syntax("property expected")
            raw, text = s.value()
        except _Syntax:
            s.i = start
            s.skip_to_semicolon()
            break
        ptype, _, pname = name.lower().rpartition(".")
        if not ptype and pname == "reason":
            reason = text
        else:
            props.append(Property(ptype, pname, raw, text))
    return MethodResult(method.lower(), result.lower(), reason, tuple(props))


def _with_comments(r: MethodResult, comments: list[str]) -> MethodResult:
    return MethodResult(r.method, r.result, r.reason, r.props, tuple(comments))


# --------------------------------------------------------------------------
# Domains and alignment
# --------------------------------------------------------------------------

_DOMAIN = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")


def domain_of(value: str) -> str:
    """The domain a property value names: ``[local-part "@"] domain``, with a
    local part that may be a quoted string holding '@' (the domain is after
    the last '@' outside quotes). A value that is one quoted string is read
    inside. Lower case; "" when it is not a domain name."""
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and _closing_quote(value, 0) == len(value) - 1:
        return domain_of(_unquote(value))
    at, i = -1, 0
    while i < len(value):
        ch = value[i]
        if ch == '"':
            end = _closing_quote(value, i)
            if end < 0:
                return ""  # a quote left open: nothing can be said about the domain
            i = end + 1
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == "@":
            at = i
        i += 1
    domain = value[at + 1:].strip().rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return ""
    return domain if _DOMAIN.fullmatch(domain) else ""


def _closing_quote(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def aligned(domain: str, from_domain: str) -> bool:
    """``domain`` is the From domain, a subdomain of it, or a parent of it
    (DMARC's relaxed alignment, without a public-suffix list)."""
    domain, from_domain = domain.lower().strip("@. "), from_domain.lower().strip("@. ")
    return bool(domain and from_domain) and (
        domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain))


def _from_domain(from_addr: str) -> str:
    return domain_of(from_addr) if "@" in from_addr else ""


# --------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------

def verdict(headers, from_addr: str, trusted: tuple[str, ...]) -> AuthVerdict:
    """The verdict for the From domain from the topmost Authentication-Results
    written by one of our own receiving servers.

    A header counts only when its authserv-id is in ``trusted`` (RFC 8601
    sections 5 and 7.1): any other may have been written by the sender, or
    by a server on the way that we do not know. Of the trusted ones the
    topmost is read (a server adds its header above those it received).
    No trusted header (or an empty ``trusted``): "none".
    """
    headers = list(headers or [])[:MAX_HEADERS]
    if not headers:
        return AuthVerdict()
    wanted = {t.lower() for t in trusted}
    ignored: list[str] = []
    for header in headers:
        parsed = parse_header(str(header))
        if parsed.authserv_id and parsed.authserv_id in wanted:
            if parsed.error:
                return AuthVerdict("none", reason=f"Authentication-Results of {parsed.authserv_id} "
                                                  f"could not be read: {parsed.error[:80]}",
                                   authserv_id=parsed.authserv_id)
            return decide(parsed, _from_domain(from_addr))
        ignored.append(parsed.authserv_id[:64] or "(no authserv-id)")
    names = ", ".join(dict.fromkeys(ignored[:3])) + (", ..." if len(set(ignored)) > 3 else "")
    return AuthVerdict("none", reason=(f"Authentication-Results ignored: {names} not in mailbox.trusted_authserv_ids"
                                       if trusted else
                                       "Authentication-Results ignored: mailbox.trusted_authserv_ids is empty"))


def _signer(r: MethodResult) -> str:
    """The domain a DKIM result vouches for: header.d, else the domain of header.i."""
    d = r.prop("header.d")
    return domain_of(d.value) if d else domain_of(r.value("header.i"))


def decide(header: AuthResults, from_domain: str) -> AuthVerdict:
    """The verdict for the From domain from one trusted header's results.

    - dmarc=fail: fail.
    - dmarc=pass counts only for the From domain: its ``header.from`` must be
      the From address's domain. A pass for another domain, or without
      ``header.from`` (every common implementation writes it), is ignored,
      as if the header had no DMARC result.
    - spf=fail/softfail without a usable DMARC result: fail, unless a DKIM
      signature aligned with the From domain passed. A DKIM pass for an
      unrelated domain proves nothing about the From address.
    - otherwise pass on an aligned DKIM pass, or on spf=pass; the verdict
      says whether the SPF domain (of ``smtp.mailfrom``, quotes resolved) is
      aligned with From: only then does it vouch for the From address.
    """
    authserv = header.authserv_id
    by: dict[str, list[MethodResult]] = {}
    for r in header.results:
        by.setdefault(r.method, []).append(r)
    dmarc = (by.get("dmarc") or [None])[0]
    spf = (by.get("spf") or [None])[0]
    dkim_pass = [r for r in by.get("dkim", []) if r.result == "pass"]
    dkim_aligned = [r for r in dkim_pass if aligned(_signer(r), from_domain)]

    def made(result: str, method: str, domain: str, reason: str) -> AuthVerdict:
        return AuthVerdict(result, method, domain, aligned(domain, from_domain), reason, authserv)

    if dmarc and dmarc.result == "fail":
        policy = next((m for c in dmarc.comments if (m := re.search(r"\bp=(\w+)", c, re.IGNORECASE))), None)
        policy = f" (p={policy.group(1).lower()})" if policy else (
            f" (action={dmarc.value('action')})" if dmarc.prop("action") else "")
        checked = domain_of(dmarc.value("header.from")) or from_domain
        return made("fail", "dmarc", checked, f"dmarc=fail{policy} header.from={checked}")
    ignored = ""
    if dmarc and dmarc.result == "pass":
        checked = domain_of(dmarc.value("header.from"))
        if checked and from_domain and checked == from_domain:
            return made("pass", "dmarc", checked, f"dmarc=pass header.from={checked}")
        ignored = (f" (ignored: dmarc=pass for {checked[:64] or 'no header.from'}, "
                   f"not {from_domain or 'the From domain'})")
        dmarc = None
    mailfrom = spf.value("smtp.mailfrom") if spf else ""
    spf_domain = domain_of(mailfrom) if spf else ""
    if spf and spf.result in ("fail", "softfail") and not dkim_aligned:
        why = (f"DKIM pass only for {', '.join(dict.fromkeys(_signer(r)[:64] or '?' for r in dkim_pass[:3]))}"
               " (not the From domain)") if dkim_pass else "no DKIM pass"
        return made("fail", "spf", spf_domain, f"spf={spf.result} smtp.mailfrom={mailfrom or '?'}, {why}{ignored}")
    for r in dkim_aligned:
        return made("pass", "dkim", _signer(r), f"dkim=pass header.d={_signer(r)} (aligned with From){ignored}")
    if spf and spf.result == "pass":
        return made("pass", "spf", spf_domain, f"spf=pass smtp.mailfrom={mailfrom or '?'}{ignored}")
    seen = ", ".join(f"{m}={rs[0].result}" for m, rs in by.items()) or "no results"
    return AuthVerdict("none", reason=f"no verdict from {authserv or 'the receiving server'}: {seen}{ignored}",
                       authserv_id=authserv)
