"""Mail nobody authenticated must not steer the bot (issue 13, items 2, 3, 7;
issue 12, item 6): each attack is a crafted mail polled through ``app.poll``
on a folder, and the state a coordinator sees (status, corrections, the
refused-command list of the digest) must not change -- while the
coordinator's own words in the same mail are still obeyed.
"""
from __future__ import annotations

import pytest

from bot import app
from bot.send import make_sender
from bot.status import status_for, to_json
from bot.store import Store

from . import mailfactory as mf
from .outgoing import COORDINATOR, OFFICE_MX, at, make_ctx

AUTH_PASS = (f"{OFFICE_MX}; dkim=pass header.d=tphcm-gov.example header.s=s1; spf=pass "
             "smtp.mailfrom=tphcm-gov.example; dmarc=pass (p=QUARANTINE) header.from=tphcm-gov.example")
FIXED = "Thu, 12 Oct 2023 08:00:00 +0700"
SCHOOL = "thcsphanboichau.q12@hcm-edu.example"


@pytest.fixture
def ctx(tmp_path):
    ctx = make_ctx(tmp_path)
    (tmp_path / "inbox").mkdir()
    return ctx


def poll(ctx, raw: bytes, name: str = "m.eml"):
    (ctx.config.mailbox.path / name).write_bytes(raw)
    return app.poll(ctx, at(12, 9), sender=make_sender(ctx.config))


def state(ctx) -> tuple[list, list, dict]:
    """(corrections, refused command lines, status) as the coordinator would see them."""
    with Store.open(ctx.config.paths.state) as store:
        corrections = [(c.kind, c.school) for c in store.corrections()]
        lines = store.command_lines()
        refused = [(m.from_addr, m.reason, c.text) for m in store.command_mails() if m.verdict == "refused"
                   for c in lines if c.message_id == m.message_id]
        status = to_json(status_for(store, ctx.rules, at(12, 10)))
    for school in status["schools"]:
        school.pop("exempt_reason", None)
    return corrections, refused, status["schools"]


def untouched(ctx) -> dict:
    """The schools' status in a fresh state (nothing obeyed)."""
    with Store.open(ctx.config.paths.state) as store:
        return to_json(status_for(store, ctx.rules, at(12, 10)))["schools"]


def from_coordinator(*, text: str = "", html: str | None = None, html_only: bool = False, auth: str = AUTH_PASS,
                     files=(), sender: str = COORDINATOR, headers=(), message_id: str = "<cmd@tphcm-gov.example>"):
    raw = mf.build("gmail", sender=sender, sender_name="Nguyễn Thị Hồng Mai", subject="Re: Tổng hợp", text=text,
                   html=html, html_only=html_only, files=files, date=FIXED, message_id=message_id, headers=headers)
    return mf.with_headers(raw, [("Authentication-Results", auth)] if auth else [])


# -- 13.2: an attached mail's text is never the coordinator's -----------------------------

def school_mail_with_hidden_commands() -> bytes:
    """A school's mail whose plain part hides commands under blank lines; its HTML is innocent."""
    plain = "Kính gửi Phòng,\nTrường gửi hồ sơ." + "\n" * 60 + "miễn mn-hoa-mai\ngia hạn th-le-van-tho 30/12/2023\n"
    return mf.build("gmail", sender=SCHOOL, text=plain, html="<div>Kính gửi Phòng,</div><div>Trường gửi hồ sơ.</div>")


@pytest.mark.parametrize("how", ["eml attachment", "message/rfc822 forward"])
def test_an_attached_schools_mail_is_never_run_as_the_coordinators_commands(ctx, how):
    inner = school_mail_with_hidden_commands()
    if how == "eml attachment":
        raw = from_coordinator(text="", files=[mf.File("thu-truong.eml", inner, content_type="application/octet-stream")])
    else:
        raw = mf.with_headers(mf.forward_attached(inner, style="gmail", sender=COORDINATOR, text=""),
                              [("Authentication-Results", AUTH_PASS)])
    before = untouched(ctx)
    poll(ctx, raw)
    corrections, refused, status = state(ctx)
    assert corrections == [] and refused == []
    assert status == before


# -- 13.3: Authentication-Results read by the RFC ------------------------------------------

@pytest.mark.parametrize("auth", [
    # the quoted local part is not the domain: the envelope sender is at evil.example
    f'{OFFICE_MX}; spf=pass smtp.mailfrom="{COORDINATOR}"@evil.example; dkim=none; dmarc=none',
    f'{OFFICE_MX}; spf=pass smtp.mailfrom="{COORDINATOR}" @evil.example; dkim=none; dmarc=none',
    # a DKIM signature of evil.example with a quoted identity that looks like the office
    f'{OFFICE_MX}; spf=softfail smtp.mailfrom=evil.example; dkim=pass header.i="{COORDINATOR}"@evil.example; dmarc=none',
    # a ';' inside a quoted local part cannot start a result of its own
    f'{OFFICE_MX}; spf=pass smtp.mailfrom="x;dmarc=pass header.from=tphcm-gov.example"@evil.example',
    # held: a forged pass below (or above) the office's own failing header
    f"{OFFICE_MX}; spf=fail smtp.mailfrom=evil.example; dkim=none; dmarc=none",
])
def test_forged_authentication_results_never_get_commands_obeyed(ctx, auth):
    forged = "mx.evil.example; dmarc=pass header.from=tphcm-gov.example; dkim=pass header.d=tphcm-gov.example"
    raw = mf.with_headers(from_coordinator(text="miễn mn-hoa-mai", auth=auth), [("Authentication-Results", forged)])
    before = untouched(ctx)
    poll(ctx, raw)
    corrections, refused, status = state(ctx)
    assert corrections == [] and status == before
    assert [(r[0], r[1].partition(":")[0], r[2]) for r in refused] in (
        [(COORDINATOR, "auth_unaligned", "miễn mn-hoa-mai")], [(COORDINATOR, "auth_fail", "miễn mn-hoa-mai")])


@pytest.mark.parametrize("case, raw", [
    ("look-alike authserv-id", lambda: from_coordinator(text="miễn mn-hoa-mai", auth=AUTH_PASS.replace(
        OFFICE_MX, OFFICE_MX + ".evil.example"))),
    ("two From addresses", lambda: from_coordinator(text="miễn mn-hoa-mai").replace(
        f"<{COORDINATOR}>".encode(), f"<{COORDINATOR}>, attacker@evil.example".encode(), 1)),
    ("two From headers", lambda: mf.with_headers(from_coordinator(text="miễn mn-hoa-mai"),
                                                 [("From", "attacker@evil.example")])),
])
def test_held_forgeries_stay_refused(ctx, case, raw):
    before = untouched(ctx)
    poll(ctx, raw())
    corrections, refused, status = state(ctx)
    assert corrections == [] and status == before
    # refused as unauthenticated, or (the first From is the attacker's) as not a coordinator
    assert [r[1].partition(":")[0] for r in refused] in (["auth_none"], ["not_coordinator"])


def test_a_display_name_that_is_the_coordinators_address_is_not_the_coordinator(ctx):
    raw = mf.build("gmail", sender="attacker@evil.example", sender_name=COORDINATOR, text="miễn mn-hoa-mai",
                   date=FIXED, message_id="<dn@evil.example>")
    raw = mf.with_headers(raw, [("Authentication-Results", AUTH_PASS.replace("tphcm-gov.example", "evil.example")
                                 .replace("mx.evil.example", OFFICE_MX))])
    before = untouched(ctx)
    poll(ctx, raw)
    corrections, refused, status = state(ctx)
    assert corrections == [] and status == before
    assert refused == [("attacker@evil.example", "not_coordinator", "miễn mn-hoa-mai")]


# -- 13.7: in an HTML-only reply, quoted and hidden text is not the coordinator's ----------

OWN = "<div>miễn mn-hoa-sen vì trường đã sáp nhập</div><div>Cảm ơn.</div>"


@pytest.mark.parametrize("case, html", [
    ("blockquote without attribution", f"<html><body>{OWN}<blockquote><div>miễn mn-hoa-mai</div></blockquote></body></html>"),
    ("gmail_quote", f'{OWN}<div class="gmail_quote"><div>miễn mn-hoa-mai</div></div>'),
    ("thunderbird cite prefix", f'{OWN}<div class="moz-cite-prefix">miễn mn-hoa-mai</div>'),
    ("outlook reply header", f'{OWN}<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> x</div>'
                             "<div>miễn mn-hoa-mai</div>"),
    ("display:none", f'{OWN}<div style="display: none">miễn mn-hoa-mai</div>'),
    ("visibility:hidden", f'{OWN}<p style="color:#333;visibility:hidden">miễn mn-hoa-mai</p>'),
    ("hidden attribute", f"{OWN}<div hidden>miễn mn-hoa-mai</div>"),
    ("font-size:0", f'{OWN}<span style="font-size:0px">miễn mn-hoa-mai</span>'),
    ("tiny font", f'{OWN}<span style="font-size:1px">miễn mn-hoa-mai</span>'),
    ("white text", f'{OWN}<div style="color:#FFFFFF">miễn mn-hoa-mai</div>'),
    ("white font tag", f'{OWN}<font color="white">miễn mn-hoa-mai</font>'),
    ("zero height", f'{OWN}<div style="max-height:0;overflow:hidden">miễn mn-hoa-mai</div>'),
    ("class hidden by a style block", f"<html><head><style>.pre {{ display:none }}</style></head><body>{OWN}"
                                      '<div class="pre">miễn mn-hoa-mai</div></body></html>'),
    ("self-closed hidden div", f'{OWN}<div style="display:none"/>miễn mn-hoa-mai'),
    ("unclosed hidden div", f'{OWN}<div style="display:none">miễn mn-hoa-mai'),
])
def test_quoted_and_hidden_html_is_not_run_but_the_coordinators_own_words_are(ctx, case, html):
    poll(ctx, from_coordinator(text="", html=html, html_only=True))
    corrections, refused, status = state(ctx)
    assert corrections == [("exempt", "mn-hoa-sen")]
    exempt = {s["code"] for s in status if s["exempt"]}
    assert exempt == {"mn-hoa-sen"}


# -- 12.6: ordinary mail is never "a refused command" --------------------------------------

@pytest.mark.parametrize("text", [
    "Kính gửi Phòng,\nStatus : 25 hồ sơ đã hoàn thành\nTrường gửi hồ sơ đính kèm.",
    "Kính gửi Phòng,\nTrạng thái: đã gửi đủ hồ sơ\nTrân trọng.",
    "Kính gửi Phòng,\nBỏ 2 bản photo vào phong bì.\nMiễn tham gia buổi họp chiều nay.",
])
def test_ordinary_mail_with_command_words_is_not_a_refused_command(ctx, text):
    raw = mf.build("gmail", sender=SCHOOL, text=text, date=FIXED, files=[mf.File("Tờ trình.pdf", mf.pdf_bytes())])
    report = poll(ctx, raw)
    corrections, refused, _ = state(ctx)
    assert corrections == [] and refused == []
    assert report.processed == 1
    with Store.open(ctx.config.paths.state) as store:
        assert store.command_mails() == []
        assert [i.filename for i in store.items()] == ["Tờ trình.pdf"]  # read as the school's mail


def test_a_schools_deliberate_command_is_still_reported_as_refused(ctx):
    poll(ctx, mf.build("gmail", sender=SCHOOL, text="miễn mn-hoa-mai\nTrạng thái: đã gửi", date=FIXED))
    corrections, refused, _ = state(ctx)
    assert corrections == [] and refused == [(SCHOOL, "not_coordinator", "miễn mn-hoa-mai")]


@pytest.mark.parametrize("line, reported", [
    ("miễn mn-hoa-mai", True),
    ("bỏ R17 vì trùng", True),
    ("duyệt #17", True),
    ("bỏ Q12", True),
    ("gia hạn th-le-van-tho 20/10/2023", True),
    ("trạng thái th-le-van-tho", True),
    ("Status : 25 hồ sơ", False),              # a label and its value
    ("Trạng thái: đã gửi đủ hồ sơ", False),
    ("trạng thái", False),                     # names nothing
    ("Bỏ 2 bản photo vào phong bì", False),    # a number is not a reference
    ("Miễn tham gia buổi họp", False),         # a word is not a school code
    ("duyêt R17", False),                      # misspelt: an error line, not a command
])
def test_which_lines_of_other_senders_are_reported_as_attempted_commands(line, reported):
    from bot.commands import deliberate, parse_commands

    assert any(deliberate(p) for p in parse_commands(line)) == reported
