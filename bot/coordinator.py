"""The coordinator's command mail, the shell: check who sent it, apply each
command as an audited correction, and answer, all in one transaction.

``handle_command_mail(ctx, store, pending, message, now)`` is called by the
pipeline for every message before it is classified (see ``app.poll``):

- mail from a coordinator address (``[coordinator] emails``) that is not
  automatic (an out-of-office reply to the digest is never a command) is a
  command mail, not a submission -- unless it holds no command line at all
  and carries attachments: then it is a dossier the coordinator forwarded,
  and it is classified like any other mail;
- it is obeyed only when the receiving server authenticated it
  (``ParsedMessage.auth_verdict``: a pass aligned with the From domain, which
  the parser gives only from an Authentication-Results header of
  ``[mailbox] trusted_authserv_ids``; "none" too when
  ``allow_unauthenticated_commands`` is set). Otherwise nothing changes: the
  mail is recorded as refused (shown in the digest) and the coordinator's
  address is told why;
- each command goes through ``corrections.correct`` (via="email", who=the address),
  or ``Store.dismiss`` for "bỏ Q12" (a quarantined message dealt with by
  hand), its outcome is recorded under (Message-ID, line), and one reply (kind
  "reply", In-Reply-To the command mail) says what was done, or what was
  wrong with the correct syntax (refusals and "no command found" replies are
  rationed: ``flood.reply_allowed``). The commands, the reply, the record of the
  mail and the message's "done" mark commit together: a crash applies all
  of it or none, and a message processed again (``requeue --all``) finds its
  (Message-ID, line) keys and its reply key and applies nothing twice;
- mail with commands from any other address is recorded as refused (the
  digest shows it), never answered, and then processed as an ordinary
  message, so a school's dossier is never lost to a stray line.

Returns True when the message was handled here (the pipeline then skips it).
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import logging
import re
from datetime import datetime

from . import corrections, flood
from .commands import Command, CommandError, deliberate, parse_commands
from .context import Context
from .errors import DismissError, EarlyExtensionError, UsageError
from .mailkey import REPLY, MailKey
from .model import ParsedMessage
from .outbound.common import PlannedMail, campaign_context
from .outbound.facts import bursting_addresses
from .outbound.headers import set_header
from .outbound.render import Renderer
from .rules.model import Campaign, Rules
from .status import RECEIVED, REVIEW, status_for
from .store import MessageSummary, PendingMessage, QueuedMail, Store

log = logging.getLogger("bot.coordinator")

# Outcomes of one command line (the reply's wording for each is in templates/command_reply.*).
NO_ITEM, NO_SCHOOL, NO_DOC = "no_item", "no_school", "no_doc"
NEEDS_SCHOOL, MANY_TYPES, FAILED = "needs_school", "many_types", "failed"
# Outcomes of "bỏ Q12" that did not dismiss (the codes of ``DismissError``).
NO_MESSAGE, NOT_QUARANTINED, ALREADY_DISMISSED = "no_message", "not_quarantined", "already_dismissed"
_MSG_ID = re.compile(r"^<[!-;=?-~]{1,250}>$")  # printable ASCII without < and >
MAX_COMMANDS = 200  # lines carried out per mail; the rest is named in the reply and ignored
# Every key a result of one line has (the templates are strict about undefined names).
RESULT_DEFAULTS = {"ok": False, "code": "", "detail": "", "ref": None, "school": None, "doc_name": None,
                   "value": None, "why": "", "filename": None, "suggestions": [], "doc_names": [],
                   "school_status": None, "message": None, "batch": []}


def is_coordinator(config, address: str) -> bool:
    return (address or "").strip().lower() in {e.lower() for e in config.coordinator_emails}


def authentication(config, message: ParsedMessage) -> tuple[bool, str, str]:
    """(obey?, refusal reason, detail): reasons "auth_fail", "auth_none" and
    "auth_unaligned" (see ``REFUSAL`` in ``_common.txt``).

    Reads the typed verdict (``ParsedMessage.auth_verdict``, bot/mailauth.py)
    as it is: a pass counts only when the domain it proved is aligned with
    the From domain (a DMARC pass and an aligned DKIM pass always are; an
    SPF pass only when the envelope sender's real domain is the From domain
    or a parent or subdomain of it), as DMARC would require; otherwise anyone
    with an SPF record of their own could write "From: the coordinator".
    """
    verdict = message.auth_verdict
    if verdict.result == "pass":
        if not verdict.aligned:
            return False, "auth_unaligned", verdict.reason
        return True, "", verdict.reason
    if verdict.result == "none" and config.allow_unauthenticated_commands:
        return True, "", "no authentication verdict; allowed by coordinator.allow_unauthenticated_commands"
    if verdict.result == "fail":
        return False, "auth_fail", verdict.reason
    return False, "auth_none", verdict.reason


def handle_command_mail(ctx: Context, store: Store, pending: PendingMessage, message: ParsedMessage, now: datetime) -> bool:
    if message.automatic or not message.from_addr:
        return False
    sender = message.from_addr.lower()
    # Only the sender's own words: never an attached or forwarded mail, never quoted or hidden text.
    parsed = parse_commands(message.command_text)
    dropped = max(0, len(parsed) - MAX_COMMANDS)
    parsed = parsed[:MAX_COMMANDS]
    campaign = ctx.rules.campaign
    cycle = campaign.cycle_of(pending.received_at)
    mid = message.message_id or pending.message_id
    if not is_coordinator(ctx.config, sender):
        attempts = [p for p in parsed if deliberate(p)]  # "Status : 25" in ordinary mail is no attempt
        if attempts:
            with store.transaction():
                _record_mail(store, pending, message, cycle, "refused", "not_coordinator", "", now)
                _record_lines(store, mid, attempts, "refused", now)
            log.warning("command mail from %s (not a coordinator address) refused: %d line(s)", sender,
                        len(attempts))
        return False  # processed as an ordinary message: it may be a school's dossier
    if not parsed and message.attachments:
        return False  # a dossier the coordinator forwarded: classify it
    obey, reason, detail = authentication(ctx.config, message)
    renderer = Renderer.for_config(ctx.config, campaign)
    with store.transaction():
        _record_mail(store, pending, message, cycle, "obeyed" if obey else "refused", reason,
                     "" if obey else detail, now)
        if obey:
            results = [_execute(ctx, store, mid, message, entry, cycle, now) for entry in parsed]
        else:
            _record_lines(store, mid, parsed, "refused", now)
            results = []
            log.warning("command mail from %s refused: %s (%s)", sender, reason, detail)
        status = status_for(store, ctx.rules, now, cycle)
        context = reply_context(status, ctx.rules, message, pending.received_at, results,
                                None if obey else {"reason": reason, "detail": detail}, parsed)
        context["dropped"] = dropped
        key = _reply_key(mid, cycle)
        reply = _reply_kind(obey, parsed)
        # processed again (requeue): answered already; refusals and "no command" replies are rationed
        if not store.outbox_has_key(key) and _may_reply(ctx, store, sender, reply, pending.received_at, now):
            _queue_reply(store, renderer, key, cycle, sender, message, context, now, reply)
        store.record_processed(pending.row, MessageSummary.of(message), [], now)
    return True


# -- recording --------------------------------------------------------------------------

def _record_mail(store: Store, pending: PendingMessage, message: ParsedMessage, cycle: int, verdict: str,
                 reason: str, detail: str, now: datetime) -> bool:
    """Remember the command mail once (by Message-ID); True the first time."""
    return store.record_command_mail(
        message_id=message.message_id or pending.message_id, message_row=pending.row,
        from_addr=message.from_addr.lower(), subject=message.subject[:300], received_at=pending.received_at,
        cycle=cycle, verdict=verdict, reason=f"{reason}: {detail}" if detail else reason, now=now)


def _record_lines(store: Store, message_id: str, parsed, outcome: str, now: datetime) -> None:
    for entry in parsed:
        store.note_command_line(message_id, entry.line, entry.text[:500], entry.kind, outcome, now)


# -- one command ------------------------------------------------------------------------

def _execute(ctx: Context, store: Store, mid: str, message: ParsedMessage, entry: Command | CommandError, cycle: int,
             now: datetime) -> dict:
    """Carry out one line (at most once per Message-ID and line); a dict for the reply."""
    base = {"line": entry.line, "text": entry.text, "kind": entry.kind}
    earlier = store.command_outcome(mid, entry.line)
    if earlier is not None:
        return {**RESULT_DEFAULTS, **base, "ok": earlier.outcome == "done", "code": "already",
                "detail": earlier.detail}
    if isinstance(entry, CommandError):
        result = {**base, "ok": False, "code": entry.code, "detail": entry.detail}
    elif entry.kind == "status":
        result = _status_result(ctx, store, entry, cycle, now)
    elif entry.kind == "dismiss":
        result = _dismissal(store, mid, message, entry, now)
    elif len(entry.refs) > 1:
        result = _batch(ctx, store, mid, message, entry, cycle, now)
    else:
        result = _correction(ctx, store, mid, message, entry, cycle, now)
    result = {**RESULT_DEFAULTS, **result}
    correction_id = result.pop("correction_id", None)
    store.record_command_result(mid, entry.line, entry.text[:500], entry.kind, "done" if result["ok"] else "error",
                                result["detail"] if result["batch"] else result.get("code") or "", correction_id, now)
    return result


def _correction(ctx: Context, store: Store, mid: str, message: ParsedMessage, c: Command, cycle: int, now: datetime) -> dict:
    rules = ctx.rules
    campaign = rules.campaign
    base = {"line": c.line, "text": c.text, "kind": c.kind}

    def error(code: str, detail: str = "", **extra) -> dict:
        return {**base, "ok": False, "code": code, "detail": detail, **extra}

    item = None
    school, doc_type = c.school, c.doc_type
    if c.kind in corrections.ITEM_KINDS:
        item = store.item(int(c.ref[1:]))
        if item is None:
            return error(NO_ITEM, c.ref)
    if c.kind == "assign":
        if school is None:
            if not item.school or not item.doc_types:
                return error(NEEDS_SCHOOL, c.ref)
            if len(item.doc_types) > 1:
                return error(MANY_TYPES, c.ref, doc_names=[campaign.doc_name(d) for d in item.doc_types])
            school, doc_type = item.school, item.doc_types[0]
        elif resolve_school(rules, school) is None and resolve_doc(campaign, school) and resolve_school(rules, doc_type):
            school, doc_type = doc_type, school  # "duyệt R17 bien_ban thcs-x": the order does not matter
    if school is not None:
        code = resolve_school(rules, school)
        if code is None:
            return error(NO_SCHOOL, school, suggestions=suggest_schools(rules, school))
        school = code
    if doc_type is not None:
        doc_id = resolve_doc(campaign, doc_type)
        if doc_id is None:
            return error(NO_DOC, doc_type)
        doc_type = doc_id
    why = (c.why or "lệnh qua thư") + f" [thư {mid}, dòng {c.line}]"
    try:
        with store.transaction():  # a savepoint: a failure undoes this line only
            corrections.correct(store, rules, c.kind, now, who=message.from_addr.lower(), why=why, via="email", ref=c.ref,
                        school=school, doc_type=doc_type, value=c.value, cycle=cycle)
            correction_id = store.newest_correction_id()  # the one just recorded
    except EarlyExtensionError:
        return error(EarlyExtensionError.code, c.value or "")
    except UsageError as exc:
        return error(FAILED, str(exc))
    value = store.correction(correction_id).value
    return {**base, "ok": True, "code": "", "ref": c.ref, "correction_id": correction_id,
            "school": _school(rules, school), "doc_name": campaign.doc_name(doc_type) if doc_type else None,
            "value": datetime.fromisoformat(value) if value else None, "why": c.why,
            "filename": item.filename if item else None}


def _batch(ctx: Context, store: Store, mid: str, message: ParsedMessage, c: Command, cycle: int, now: datetime) -> dict:
    """"bỏ R12 R13 R14", "duyệt R21-R25": each file as its own command (its own
    audited correction, its own savepoint: one unknown reference does not undo
    the others); a dict for the reply with the result of each in ``batch``."""
    batch = [{**RESULT_DEFAULTS, **_correction(ctx, store, mid, message, dataclasses.replace(c, ref=ref, refs=(ref,)),
                                               cycle, now), "ref": ref} for ref in c.refs]
    ok = all(b["ok"] for b in batch)
    first_id = next((b["correction_id"] for b in batch if b.get("correction_id")), None)
    detail = " ".join(f"{b['ref']}:{'done' if b['ok'] else b['code']}" for b in batch)
    for b in batch:
        b.pop("correction_id", None)
    return {"line": c.line, "text": c.text, "kind": c.kind, "ok": ok, "code": "" if ok else "partial",
            "detail": detail[:500], "why": c.why, "batch": batch, "correction_id": first_id}


def _dismissal(store: Store, mid: str, message: ParsedMessage, c: Command, now: datetime) -> dict:
    """"bỏ Q12": dismiss a quarantined message (audited like a correction); a dict for the reply."""
    base = {"line": c.line, "text": c.text, "kind": c.kind, "ref": c.ref}
    why = (c.why or "lệnh qua thư") + f" [thư {mid}, dòng {c.line}]"
    try:
        with store.transaction():  # a savepoint: a failure undoes this line only
            q = store.dismiss(c.ref, who=message.from_addr.lower(), why=why, via="email", now=now)
    except DismissError as exc:
        return {**base, "ok": False, "code": exc.code if exc.code in (NO_MESSAGE, NOT_QUARANTINED, ALREADY_DISMISSED)
                else FAILED, "detail": c.ref}
    return {**base, "ok": True, "code": "", "why": c.why,
            "message": {"from_addr": q["from_addr"] or q["message_id"], "subject": q["subject"] or "",
                        "received_at": datetime.fromisoformat(q["received_at"])}}


def _status_result(ctx: Context, store: Store, c: Command, cycle: int, now: datetime) -> dict:
    rules = ctx.rules
    base = {"line": c.line, "text": c.text, "kind": c.kind}
    status = status_for(store, rules, now, cycle)
    if c.school is None:
        return {**base, "ok": True, "code": "", "school": None}
    code = resolve_school(rules, c.school)
    if code is None:
        return {**base, "ok": False, "code": NO_SCHOOL, "detail": c.school,
                "suggestions": suggest_schools(rules, c.school)}
    s = next(x for x in status.schools if x.code == code)
    campaign = rules.campaign
    docs = [{"name": d.name, "required": d.required, "status": s.documents[d.id].status,
             "received_at": s.documents[d.id].received_at, "versions": s.documents[d.id].versions,
             "filename": s.documents[d.id].filename,
             # the official paper (issue 16): True/False/None; "checked": a copy was judged at all
             "official": s.documents[d.id].official, "checked": s.documents[d.id].evidence is not None}
            for d in campaign.doc_types]
    return {**base, "ok": True, "code": "", "school": _school(rules, code),
            "school_status": {"complete": s.complete, "exempt": s.exempt, "extended": s.extended,
                              "deadline": s.deadline, "docs": docs}}


# -- names ------------------------------------------------------------------------------

def resolve_school(rules: Rules, word: str) -> str | None:
    """A roster code as written, or with '_' for '-'."""
    codes = {s.code for s in rules.schools}
    for candidate in (word, word.replace("_", "-"), word.strip("-")):
        if candidate in codes:
            return candidate
    return None


def suggest_schools(rules: Rules, word: str) -> list[str]:
    return difflib.get_close_matches(word, [s.code for s in rules.schools], n=3, cutoff=0.6)


def resolve_doc(campaign: Campaign, word: str | None) -> str | None:
    """A document type by id (``bien_ban``, ``bien-ban``) or number code (``BB``)."""
    if not word:
        return None
    w = word.strip().lower()
    for d in campaign.doc_types:
        if w in (d.id, d.id.replace("_", "-"), d.id.replace("_", "")) or w in {c.lower() for c in d.number_codes}:
            return d.id
    return None


def _school(rules: Rules, code: str | None) -> dict | None:
    if code is None:
        return None
    s = rules.school(code)
    return {"code": s.code, "name": s.name}


# -- the reply ----------------------------------------------------------------------------

def reply_context(status, rules: Rules, message: ParsedMessage, received_at: datetime, results: list[dict],
                  refused: dict | None, parsed) -> dict:
    """What the reply templates show (plain data)."""
    total = len(status.schools)
    incomplete = [{"code": s.code, "name": s.name} for s in status.schools if not s.complete]
    return {
        **campaign_context(status),
        "original": {"subject": message.subject, "received_at": received_at, "from_addr": message.from_addr},
        "already_reply": bool(re.match(r"^\s*(re|tl|trả lời|aw|sv)\s*:", message.subject or "", re.IGNORECASE)),
        "results": results,
        "refused": refused,
        "no_commands": refused is None and not parsed,
        "show_syntax": refused is None and (not parsed or any(not r["ok"] for r in results)),
        "headline": {"schools": total, "complete": status.complete_count,
                     "percent": round(100 * status.complete_count / total, 1) if total else 0.0,
                     "review": len(status.review), "incomplete": incomplete[:60],
                     "incomplete_more": max(0, len(incomplete) - 60)},
        "review": [{"ref": r.ref, "filename": r.filename, "school": r.school} for r in status.review[:30]],
        "STATUS_RECEIVED": list(RECEIVED), "REVIEW": REVIEW,
    }


def _reply_key(message_id: str, cycle: int) -> MailKey:
    if len(message_id) > 200:
        message_id = "sha1-" + hashlib.sha1(message_id.encode("utf-8", "replace")).hexdigest()
    return MailKey(REPLY, cycle, ref=message_id)


def _reply_kind(obey: bool, parsed) -> str | None:
    """What a reply to this command mail would be (``flood.REPLY_*``); None:
    unauthenticated mail without a single command line, which gets no reply."""
    if obey:
        return flood.REPLY_RESULTS if parsed else flood.REPLY_NO_COMMANDS
    return flood.REPLY_REFUSED if parsed else None


def _may_reply(ctx: Context, store: Store, sender: str, reply: str | None, received_at: datetime, now: datetime) -> bool:
    """Whether to answer (``flood.reply_allowed``): results always; a refusal
    or a "no command" reply at most once per sender and local day, and
    never to an address sending a burst of mail (a loop or a forged flood)."""
    if reply == flood.REPLY_RESULTS:
        return True
    earlier = [(r.reply, r.created_at) for r in store.sent_replies() if sender in {a.lower() for a in r.recipients}]
    silenced = sender in bursting_addresses(ctx, store, now, extra=[(sender, received_at)])
    allowed = flood.reply_allowed(reply, earlier, now, ctx.rules.campaign.tz, silenced)
    if not allowed:
        log.warning("command mail from %s: no %s reply (%s)", sender, reply or "refusal",
                    "a burst of mail" if silenced else "already answered today" if reply else "no command line")
    return allowed


def _queue_reply(store: Store, renderer: Renderer, key: MailKey, cycle: int, to: str, message: ParsedMessage,
                 context: dict, now: datetime, reply: str = flood.REPLY_RESULTS) -> None:
    mail = PlannedMail(key=key, kind="reply", template="command_reply", cycle=cycle, to=(to,), context=context)
    subject = renderer.subject("command_reply", context)
    text, html = renderer.bodies("command_reply", context)
    message_id = renderer.new_message_id("reply")
    raw = renderer.message(mail, subject=subject, text=text, html=html, message_id=message_id, now=now)
    ids = [i for i in (*message.references[-10:], message.message_id) if _MSG_ID.match(i or "")]
    if ids and _MSG_ID.match(message.message_id or ""):
        raw = set_header(raw, "References", "\r\n ".join(dict.fromkeys(ids)))
        raw = set_header(raw, "In-Reply-To", message.message_id)
    store.queue_mail(QueuedMail(key=key, kind="reply", cycle=cycle, from_addr=renderer.from_address,
                                recipients=(to,), subject=subject, message_id=message_id, raw=raw,
                                meta={"command_mail": message.message_id, "reply": reply}), now)


__all__ = ["handle_command_mail", "authentication", "is_coordinator", "resolve_school", "resolve_doc",
           "reply_context"]
