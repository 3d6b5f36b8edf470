"""Loop and flood detection: one address sending many messages in minutes
stops receipts and command replies to it, and the digest names it.

Pure decisions in table tests; what the coordinator and the schools see
through the real store, ``app.poll`` on a folder of .eml files and the
outbox files in state/outbox/."""
from __future__ import annotations

import dataclasses
import email
from datetime import timedelta
from email import policy

import pytest

from bot import app, flood, notify
from bot.outbound.facts import bursting_addresses
from bot.send import make_sender
from bot.store import Store

from . import mailfactory as mf
from .outgoing import COORDINATOR, VN, Ctx, at, bodies, make_ctx, record

A, B = "loop@example.com", "thcsnguyenhien.q12@hcm-edu.example"


def every(address, start, n, step_seconds=60):
    return [(address, start + timedelta(seconds=step_seconds * k)) for k in range(n)]


# -- the pure decision ---------------------------------------------------------------

@pytest.mark.parametrize("mail, now, expected", [
    ([], at(5, 9), []),
    (every(A, at(5, 9), 9), at(5, 10), []),                                        # 9 in 8 minutes: not a burst
    (every(A, at(5, 9), 10), at(5, 10), [(A, 10, at(5, 9), at(5, 9, 9))]),        # 10 in 9 minutes
    (every(A, at(5, 9), 10, step_seconds=70), at(5, 10), []),                      # 10 in 10.5 minutes
    (every(A, at(5, 9), 10, step_seconds=66), at(5, 10), [(A, 10, at(5, 9), at(5, 9, 9, ) + timedelta(seconds=54))]),
    (every(A, at(5, 9), 30), at(5, 10), [(A, 30, at(5, 9), at(5, 9, 29))]),       # one long burst, every mail counted
    (every(A, at(5, 9), 10), at(5, 9, 5), []),                                     # the rest has not arrived yet
    (every(A.upper(), at(5, 9), 5) + every(A, at(5, 9, 5), 5), at(5, 10),         # case does not matter
     [(A, 10, at(5, 9), at(5, 9, 9))]),
    (every(A, at(5, 9), 5) + every(B, at(5, 9), 5), at(5, 10), []),                # two addresses: no burst
    (every(A, at(5, 9), 10) + every(A, at(5, 15), 10), at(5, 16),                  # two bursts of one address
     [(A, 10, at(5, 15), at(5, 15, 9)), (A, 10, at(5, 9), at(5, 9, 9))]),
])
def test_a_burst_is_n_messages_from_one_address_within_m_minutes(mail, now, expected):
    found = flood.bursts(mail, now, messages=10, minutes=10, cooldown_minutes=60)
    assert [(b.address, b.count, b.first_at, b.last_at) for b in found] == expected


@pytest.mark.parametrize("now, silent", [
    (at(5, 9, 8), False),        # 9 mails so far: not yet a burst
    (at(5, 9, 9), True),         # the 10th
    (at(5, 10, 8), True),        # cool-down: 60 minutes after the last mail
    (at(5, 10, 9), False),
])
def test_the_bot_is_silent_to_a_bursting_address_until_the_cool_down_ends(now, silent):
    found = flood.bursts(every(A, at(5, 9), 10), now, messages=10, minutes=10, cooldown_minutes=60)
    assert (A in flood.bursting(found, now)) == silent


@pytest.mark.parametrize("kind, earlier, silenced, expected", [
    (flood.REPLY_RESULTS, [(flood.REPLY_RESULTS, at(5, 8))], True, True),       # commands carried out: always told
    (flood.REPLY_REFUSED, [], False, True),
    (flood.REPLY_REFUSED, [(flood.REPLY_REFUSED, at(5, 8))], False, False),     # once a day
    (flood.REPLY_REFUSED, [(flood.REPLY_REFUSED, at(4, 23, 59))], False, True),  # a new local day
    (flood.REPLY_REFUSED, [(flood.REPLY_NO_COMMANDS, at(5, 8))], False, True),
    (flood.REPLY_REFUSED, [], True, False),                                      # a burst: nothing
    (flood.REPLY_NO_COMMANDS, [], False, True),
    (flood.REPLY_NO_COMMANDS, [(flood.REPLY_NO_COMMANDS, at(5, 7))], False, False),
    (None, [], False, False),                                                    # forged, no command: no reply
])
def test_command_replies_are_rationed(kind, earlier, silenced, expected):
    assert flood.reply_allowed(kind, earlier, at(5, 9), VN, silenced) == expected


def test_the_thresholds_are_campaign_rules_with_defaults(tmp_path):
    from bot.errors import RulesError
    from bot.rules.load import load_rules
    from .outgoing import ROOT, small_rules

    rem = load_rules(ROOT / "rules").campaign.reminders
    assert (rem.burst_messages, rem.burst_minutes, rem.burst_cooldown_minutes) == (10, 10, 60)
    rules = small_rules(tmp_path)
    toml = (rules / "campaign.toml").read_text(encoding="utf-8")
    (rules / "campaign.toml").write_text(toml.replace("burst_messages = 10", "burst_messages = 1"), encoding="utf-8")
    with pytest.raises(RulesError, match="burst_messages"):
        load_rules(rules)


# -- what the schools and the coordinator see ----------------------------------------

def outbox_rows(store, kind):
    return [r for r in store.outbox_rows() if r.kind == kind]


def digest_text(ctx, store, now):
    notify.digest(ctx, store, None, now)
    latest = max(outbox_rows(store, "digest"), key=lambda r: r.id)
    return bodies(email.message_from_bytes(store.outbox_raw(latest.id), policy=policy.default))


def test_a_school_address_in_a_mail_loop_gets_no_receipt_until_the_cool_down_and_the_digest_names_it(tmp_path):
    ctx = make_ctx(tmp_path)
    hien_gmail = "vanthu.nguyenhien@gmail.example"
    with Store.open(ctx.config.paths.state) as store:
        # an auto-responder at the school answers every mail: 12 messages in 11 minutes
        for k in range(12):
            record(store, at(5, 9, k), sender=B, subject=f"Re: Re: Hồ sơ {k}")
        record(store, at(5, 9, 11), sender=B, files=[("to-trinh.pdf", "thcs-nguyen-hien", ("to_trinh",), "counted")])
        notify.send_receipts(ctx, store, None, at(5, 9, 30))
        (receipt,) = outbox_rows(store, "receipt")                       # the school's other address only
        assert receipt.recipients == (hien_gmail,)
        assert bursting_addresses(ctx, store, at(5, 9, 30)) == {B}
        assert bursting_addresses(ctx, store, at(5, 10, 11)) == frozenset()   # 60 minutes after its last mail
        text, html = digest_text(ctx, store, at(6, 7))
    section = text.split("ĐỊA CHỈ GỬI DỒN DẬP")[1].split("\n\n")[0]
    assert "bot tạm ngừng trả lời" in section
    assert f"- {B} (THCS Nguyễn Hiền): 13 thư từ 09:00 đến 09:11 ngày 05/10/2023" in section
    assert "Địa chỉ gửi dồn dập — bot tạm ngừng trả lời" in html


def test_a_school_whose_only_address_loops_gets_its_receipt_once_the_cool_down_ends(tmp_path):
    from .outgoing import small_rules
    ctx = make_ctx(tmp_path, rules=small_rules(tmp_path, ("mn-hoa-sen",)))
    hoa_sen = "mnhoasen.q12@hcm-edu.example"
    with Store.open(ctx.config.paths.state) as store:
        for k in range(10):
            record(store, at(5, 9, k), sender=hoa_sen, subject="Re: tự động trả lời")
        record(store, at(5, 9, 9), sender=hoa_sen, files=[("tt.pdf", "mn-hoa-sen", ("to_trinh",), "counted")])
        assert notify.receipts_after_poll(ctx, store, None, at(5, 9, 30), recorded=True)
        assert outbox_rows(store, "receipt") == []                       # held while the loop lasts
        notify.receipts_after_poll(ctx, store, None, at(5, 10, 5), recorded=False)
        assert outbox_rows(store, "receipt") == []
        notify.receipts_after_poll(ctx, store, None, at(5, 10, 10), recorded=False)   # a quiet poll after it
        (receipt,) = outbox_rows(store, "receipt")
        assert receipt.recipients == (hoa_sen,)


FIXED = "Thu, 12 Oct 2023 08:{:02d}:00 +0700"


def forged(n: int, body: str) -> bytes:
    """Mail that says it is from the coordinator, with no authentication verdict."""
    return mf.build("gmail", sender=COORDINATOR, sender_name="Nguyễn Thị Hồng Mai", subject=f"Lệnh {n}", text=body,
                    date=FIXED.format(n), message_id=f"<forged-{n}@evil.example>")


def replies(ctx):
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default)
            for f in sorted((ctx.config.paths.state / "outbox").glob("*-reply.eml"))]


def test_forged_coordinator_mail_gets_one_refusal_a_day_and_mail_without_commands_gets_none(tmp_path):
    ctx = make_ctx(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(8):
        (inbox / f"f{n}.eml").write_bytes(forged(n, "miễn mn-hoa-mai"))
    for n in range(8, 11):
        (inbox / f"f{n}.eml").write_bytes(forged(n, "Xin chào, tôi là cán bộ phụ trách."))
    app.poll(ctx, at(12, 9), sender=make_sender(ctx.config))
    (reply,) = replies(ctx)                                                # not 11
    assert "KHÔNG THỰC HIỆN LỆNH NÀO" in bodies(reply)[0]
    with Store.open(ctx.config.paths.state) as store:
        assert store.corrections(2023) == []
        assert len([m for m in store.command_mails() if m.verdict == "refused"]) == 11
        text, _ = digest_text(ctx, store, at(13, 7))
    assert "LỆNH QUA THƯ BỊ TỪ CHỐI (11)" in text
    assert f"- {COORDINATOR}: 11 thư từ 08:00 đến 08:10 ngày 12/10/2023" in text.split("ĐỊA CHỈ GỬI DỒN DẬP")[1]
    # the next day, a new forged mail gets one refusal again (the coordinator may have mistyped)
    (inbox / "g.eml").write_bytes(forged(0, "miễn mn-hoa-mai").replace(b"12 Oct", b"13 Oct")
                                  .replace(b"forged-0", b"forged-next"))
    app.poll(ctx, at(13, 9), sender=make_sender(ctx.config))
    assert len(replies(ctx)) == 2


def test_the_coordinators_own_mail_without_commands_gets_the_syntax_once_a_day(tmp_path):
    base = make_ctx(tmp_path)
    ctx = Ctx(config=dataclasses.replace(base.config, allow_unauthenticated_commands=True), rules=base.rules)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(forged(1, "Cảm ơn."))
    (inbox / "b.eml").write_bytes(forged(2, "Cảm ơn lần nữa."))
    (inbox / "c.eml").write_bytes(forged(3, "miễn mn-hoa-mai"))
    app.poll(ctx, at(12, 9), sender=make_sender(ctx.config))
    got = replies(ctx)
    assert len(got) == 2                                                   # one syntax help, one result
    with Store.open(ctx.config.paths.state) as store:
        assert [(c.kind, c.school) for c in store.corrections(2023)] == [("exempt", "mn-hoa-mai")]
