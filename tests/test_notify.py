"""A simulated campaign, 1 October to 1 November, through a real SMTP server.

Every run is a "restart": a fresh Store and a fresh SmtpSender, as the worker
or a cron job would have. The templates are loaded once for the month, as the
worker keeps one Renderer for its life (``notify.tasks``): compiling them again
for each of the 75 runs would render the same mail and cost most of the time. What is checked is what the schools and the
coordinator would see: who got which reminder on which day, receipts, one
thread per school, no duplicates, digests whose numbers match ``status --json``.
"""
from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from bot import corrections, notify
from bot.outbound.compose import renderer_for
from bot.send import SmtpSender, make_sender
from bot.status import status_for, to_json
from bot.store import Store

from . import mailfactory as mf
from .bounce_mail import bounce
from .servers import SmtpServer
from .outgoing import COORDINATOR, VN, at, bodies, by_kind, make_ctx, parsed, record, xlsx_rows

ALL = ("to_trinh", "bao_cao", "bien_ban")
BEFORE = {"before-7": date(2023, 10, 3), "before-3": date(2023, 10, 7), "before-1": date(2023, 10, 9)}
AFTER = {"after-1": date(2023, 10, 13), "after-2": date(2023, 10, 16), "after-3": date(2023, 10, 19)}
EVERY = [*BEFORE.values(), *AFTER.values()]


def schedule(ctx):
    """Events of the simulated campaign: (instant, callable(store))."""
    def send(school, files, sender=None):
        address = sender or ctx.rules.school(school).emails[0]
        return lambda store, when: record(store, when, sender=address,
                                          files=[(name, school, types, decision, *rest) for name, types, decision, *rest in files])

    def correct(**kw):
        return lambda store, when: store.add_correction(cycle=2023, who="mai", why="quyết định của phòng", via="cli",
                                                        now=when, **kw)

    def assign_review(school, doc):
        def run(store, when):
            (item,) = [i for i in store.items(cycle=2023, decision="review") if i.school == school]
            store.add_correction(kind="assign", item_id=item.id, school=school, doc_type=doc, cycle=2023, who="mai",
                                 why="đã xem bản scan", via="cli", now=when)
        return run

    def raw(data):
        return lambda store, when: record(store, when, sender="", raw=data)

    oof = (b"From: mnsonca6.q12@hcm-edu.example\r\nTo: hoso-bot@pgd-q12.example\r\nSubject: =?utf-8?b?"
           b"VHLhuqMgbOG7nWkgdOG7sSDEkeG7mW5n?=\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <oof-1@hcm-edu.example>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nT\xc3\xb4i \xc4\x91ang ngh\xe1\xbb\x89 ph\xc3\xa9p.\r\n")
    return [
        (at(1, 7), correct(kind="exempt", school="th-le-van-tho")),
        (at(2, 9), send("thcs-nguyen-hien", [("ho-so-day-du.pdf", ALL, "counted")])),
        (at(3, 10), raw(oof)),                                           # an out-of-office reply to a reminder
        (at(4, 9), send("mn-hoa-mai", [("<b>tờ trình</b> {{x}}.pdf", ("to_trinh",), "counted")],
                        sender="hieutruong.hoamai@gmail.example")),
        (at(4, 11), lambda store, when: bounce(store, when, "mnhoasen.q12@hcm-edu.example")),  # of 3/10's reminder
        (at(5, 9), send("thcs-phan-boi-chau", [("tt.pdf", ("to_trinh",), "counted"), ("bc.pdf", ("bao_cao",), "counted"),
                                                ("scan0001.jpg", ("bien_ban",), "review", "ảnh chụp, chữ ký không rõ")])),
        (at(6, 14), lambda store, when: record(store, when, sender="la.nguoi@example.com",
                                               files=[("hoso.pdf", None, (), "review", "người gửi không có trong danh sách")])),
        (at(8, 10), send("mn-hoa-mai", [("bao-cao.pdf", ("bao_cao",), "counted")], sender="staff.forward@yahoo.com")),
        (at(8, 10, 4), send("mn-hoa-mai", [("bien-ban.pdf", ("bien_ban",), "counted")])),
        (at(11, 15), send("mn-hoa-sen", [])),                            # asks for more time, from the address that bounced
        (at(12, 7), correct(kind="extend", school="mn-hoa-sen", value="2023-10-20T23:59:59+07:00")),
        (at(12, 7, 30), assign_review("thcs-phan-boi-chau", "bien_ban")),
        (at(14, 9), send("th-nguyen-du", [("ho-so.pdf", ALL, "counted")])),
    ]


def runs():
    """When the bot runs: every day at 08:00 and 18:00, a few extra runs to
    show receipt batching, and every 10 minutes while SMTP is down on 9/10."""
    out = []
    for n in range(32):
        day = at(1) + timedelta(days=n)
        out += [day.replace(hour=8), day.replace(hour=18)]
    out += [at(8, 10, 10), at(8, 10, 15)]
    out += [at(9, 8, m) for m in range(10, 60, 10)] + [at(9, 9, m) for m in range(0, 60, 10)]
    return sorted(set(out))


@pytest.fixture(scope="module")
def smtp_for_campaign():
    pytest.importorskip("aiosmtpd")
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, smtp_for_campaign):
    """Runs the whole simulated campaign once; the tests below read what was sent."""
    server = smtp_for_campaign
    ctx = make_ctx(tmp_path_factory.mktemp("campaign"), server, per_minute=60)
    events = sorted(schedule(ctx), key=lambda e: e[0])
    digests: list[tuple[datetime, dict]] = []
    renderer = renderer_for(ctx)
    for now in runs():
        with Store.open(ctx.config.paths.state) as store:       # a restart before every run
            while events and events[0][0] <= now:
                when, event = events.pop(0)
                event(store, when)
            if now == at(9, 8):
                server.refuse_all(421)                           # SMTP down for an hour
            if now == at(9, 9):
                server.accept_all()
            sender = SmtpSender(ctx.config.smtp)
            notify.send_receipts(ctx, store, sender, now, renderer)
            notify.remind(ctx, store, sender, now, renderer=renderer)
            if now.hour == 8 and now.minute == 0:
                report = notify.digest(ctx, store, sender, now, renderer=renderer)
                if report.queued:
                    digests.append((now, to_json(status_for(store, ctx.rules, now))))
            # a second run at the same instant changes nothing
            notify.remind(ctx, store, SmtpSender(ctx.config.smtp), now, renderer=renderer)
            notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), now, renderer)
    return ctx, server, digests


def school_of(ctx, message):
    codes = {ctx.rules.school_by_email(a).code for a in message.rcpt_tos if ctx.rules.school_by_email(a)}
    return codes.pop() if len(codes) == 1 else None


def received(ctx, server, kind):
    out = defaultdict(list)
    for m in server.messages:
        msg = parsed(m)
        if msg["X-Bot-Kind"] == kind:
            out[school_of(ctx, m)].append((msg["Date"].datetime.astimezone(VN).date(), msg, m))
    return out


@pytest.mark.slow  # the month-long campaign through a real SMTP server (pure logic: test_plan.py)
def test_each_school_gets_exactly_the_reminders_its_state_calls_for(campaign):
    ctx, server, _ = campaign
    reminders = received(ctx, server, "reminder")
    expected = {code: EVERY for code in (s.code for s in ctx.rules.schools)}
    expected.update({
        "thcs-nguyen-hien": [],                                        # complete before the first slot
        "th-le-van-tho": [],                                           # exempt
        "mn-hoa-mai": [BEFORE["before-7"], BEFORE["before-3"]],        # complete on 8/10
        "thcs-phan-boi-chau": [BEFORE["before-7"]],                    # then only a document in review
        "th-nguyen-du": [*BEFORE.values(), AFTER["after-1"]],          # sent everything late on 14/10
        # its only address bounced on 4/10: nothing until it wrote from it on 11/10; extended on 12/10
        # to 20/10: the new schedule (29/10 is a Sunday)
        "mn-hoa-sen": [BEFORE["before-7"], date(2023, 10, 13), date(2023, 10, 17), date(2023, 10, 19),
                       date(2023, 10, 23), date(2023, 10, 26), date(2023, 10, 30)],
    })
    got = {code: sorted(d for d, _, _ in reminders.get(code, [])) for code in expected}
    assert got == expected
    assert None not in reminders                                        # every reminder went to one school
    # exactly what is missing, in Vietnamese
    (_, msg, _) = [r for r in reminders["mn-hoa-mai"] if r[0] == BEFORE["before-3"]][0]
    text, html = bodies(msg)
    missing = text.split("Hồ sơ Phòng đã nhận:")[0]
    assert "Báo cáo kết quả xây dựng đơn vị điển hình" in missing and "Biên bản họp xét, đề nghị" in missing
    assert "Tờ trình đề nghị công nhận" not in missing
    (_, late, _) = [r for r in reminders["th-nguyen-du"] if r[0] == AFTER["after-1"]][0]
    assert "đã quá hạn 3 ngày" in bodies(late)[0]
    (_, ext, _) = [r for r in reminders["mn-hoa-sen"] if r[0] == date(2023, 10, 13)][0]
    assert "23:59 ngày 20/10/2023 (giờ Việt Nam) (đã được gia hạn), còn 7 ngày" in bodies(ext)[0]


@pytest.mark.slow
def test_reminders_go_to_the_roster_in_office_hours_only(campaign):
    ctx, server, _ = campaign
    for code, mails in received(ctx, server, "reminder").items():
        roster = set(ctx.rules.school(code).emails)
        for _, msg, m in mails:
            assert set(m.rcpt_tos) == roster
            local = msg["Date"].datetime.astimezone(VN)
            assert local.weekday() != 6 and 7 <= local.hour < 17


@pytest.mark.slow
def test_no_mail_is_sent_twice_across_restarts_and_an_smtp_outage(campaign):
    ctx, server, _ = campaign
    ids = [parsed(m)["Message-ID"] for m in server.messages]
    assert len(ids) == len(set(ids))
    with Store.open(ctx.config.paths.state) as store:
        counts = store.outbox_counts()
    assert counts.get("queued", 0) == 0 and counts.get("failed", 0) == 0
    assert counts["sent"] == len(server.messages)
    # the 9/10 mail was held by the outage and delivered after it, once
    nine = [m for m in server.messages if parsed(m)["Date"].datetime.astimezone(VN).date() == date(2023, 10, 9)]
    assert len([m for m in nine if parsed(m)["X-Bot-Kind"] == "reminder"]) == 22  # not MN Hoa Sen: it bounced


@pytest.mark.slow
def test_one_thread_per_school_per_cycle(campaign):
    ctx, server, _ = campaign
    by_school = defaultdict(list)
    for m in server.messages:
        msg = parsed(m)
        if msg["X-Bot-Kind"] in ("receipt", "reminder"):
            by_school[school_of(ctx, m)].append(msg)
    assert len(by_school) >= 20
    for code, msgs in by_school.items():
        assert len({str(m["Subject"]) for m in msgs}) == 1, code
        first = msgs[0]["Message-ID"]
        assert msgs[0]["In-Reply-To"] is None
        assert all(m["In-Reply-To"] == first and m["References"] == first for m in msgs[1:]), code
    assert str(by_school["mn-hoa-mai"][0]["Subject"]) == (
        "MN Hoa Mai - Hồ sơ đề nghị công nhận cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023")


@pytest.mark.slow
def test_receipts_are_batched_acknowledge_what_was_counted_and_never_answer_automatic_mail(campaign):
    ctx, server, _ = campaign
    receipts = received(ctx, server, "receipt")
    assert set(receipts) == {"thcs-nguyen-hien", "mn-hoa-mai", "thcs-phan-boi-chau", "th-nguyen-du"}
    # mn-hoa-mai: 4/10 (sent from the principal's Gmail), then ONE receipt for the two emails of 8/10
    hoa_mai = receipts["mn-hoa-mai"]
    assert [d for d, _, _ in hoa_mai] == [date(2023, 10, 4), date(2023, 10, 8)]
    first_text, first_html = bodies(hoa_mai[0][1])
    assert "<b>tờ trình</b> {{x}}.pdf" in first_text
    assert "&lt;b&gt;tờ trình&lt;/b&gt; {{x}}.pdf" in first_html
    second = hoa_mai[1]
    assert second[1]["Date"].datetime == at(8, 10, 15)                   # 10 minutes after the last email
    text, _ = bodies(second[1])
    assert "bao-cao.pdf" in text and "bien-ban.pdf" in text and "đã nộp đủ" in text
    # the school's roster only: the forwarding staff member's mail was vouched for by no trusted
    # Authentication-Results, so that address gets nothing (tests/test_receipts.py: when it is)
    assert set(second[2].rcpt_tos) == {"mnhoamai.q12@hcm-edu.example", "hieutruong.hoamai@gmail.example"}
    assert second[1]["Auto-Submitted"] == "auto-replied"
    (_, late, _), = receipts["th-nguyen-du"]
    assert "Trễ hạn" in bodies(late)[0]
    # the reviewed document is acknowledged once the coordinator counted it
    pbc = receipts["thcs-phan-boi-chau"]
    assert [d for d, _, _ in pbc] == [date(2023, 10, 5), date(2023, 10, 12)]
    assert "scan0001.jpg" in bodies(pbc[1][1])[0]
    assert "Biên bản họp xét, đề nghị" in bodies(pbc[0][1])[0].split("không cần gửi lại")[1]
    # nothing ever went to the unknown sender, nor in answer to the out-of-office reply or the bounce
    everyone = {a for m in server.messages for a in m.rcpt_tos}
    allowed = {e for s in ctx.rules.schools for e in s.emails} | {COORDINATOR}
    assert everyone <= allowed
    assert not any(parsed(m)["X-Bot-Kind"] == "receipt" and "mnsonca6.q12@hcm-edu.example" in m.rcpt_tos
                   for m in server.messages)


@pytest.mark.slow
def test_the_daily_digest_matches_status_json_and_carries_the_matrix(campaign):
    ctx, server, digests = campaign
    mails = [parsed(m) for m in server.messages if parsed(m)["X-Bot-Kind"] == "digest"]
    assert len(mails) == len(digests) == 32                              # one per day, 1/10 to 1/11
    assert all(m.rcpt_tos == (COORDINATOR,) for m in server.messages if parsed(m)["X-Bot-Kind"] == "digest")
    for msg, (now, js) in zip(mails, digests):
        text, _ = bodies(msg)
        s = js["summary"]
        assert f"Đã nộp đủ hồ sơ: {s['complete']}/{s['schools']} trường" in text, now
        assert f"{s['review']} tệp chờ xem xét" in text, now
        assert f"{s['complete']}/{s['schools']} trường đã đủ hồ sơ" in str(msg["Subject"])
        rows = xlsx_rows(msg)["Tổng hợp"]
        assert len(rows) == 1 + s["schools"]
        assert sum(r[4] in ("Đủ", "Miễn nộp") for r in rows[1:]) == s["complete"]
    by_day = {now.date(): bodies(msg)[0] for msg, (now, _) in zip(mails, digests)}
    assert "mnhoasen.q12@hcm-edu.example (MN Hoa Sen): 1 lần" in by_day[date(2023, 10, 5)]
    assert "mnhoasen.q12@hcm-edu.example (MN Hoa Sen): 1 lần" in by_day[date(2023, 10, 20)]   # counted once, not daily
    assert "ĐỊA CHỈ BỊ TRẢ LẠI THƯ (0)" in by_day[date(2023, 10, 4)]
    # its only address bounced: the coordinator is told to phone MN Hoa Sen until it writes from it (11/10)
    phone = "KHÔNG LIÊN LẠC ĐƯỢC QUA THƯ ĐIỆN TỬ (1 trường)"
    assert phone in by_day[date(2023, 10, 5)] and phone in by_day[date(2023, 10, 11)]
    assert "+ MN Hoa Sen (mnhoasen.q12@hcm-edu.example): còn thiếu Tờ trình" in by_day[date(2023, 10, 5)]
    assert phone not in by_day[date(2023, 10, 12)]
    assert "vẫn gửi bình thường" in by_day[date(2023, 10, 12)]
    # schools that completed their dossier, each once, the day after
    completed = {d: re.findall(r"Hồ sơ đủ \(\d+ trường\): (.*)\.", text) for d, text in by_day.items()}
    assert {d: c for d, c in completed.items() if c} == {
        date(2023, 10, 3): ["THCS Nguyễn Hiền"], date(2023, 10, 9): ["MN Hoa Mai"],
        date(2023, 10, 12): ["THCS Phan Bội Châu"], date(2023, 10, 15): ["TH Nguyễn Du"]}
    assert "la.nguoi@example.com: 1 thư" in by_day[date(2023, 10, 7)]
    unknown = by_day[date(2023, 10, 7)].split("6. NGƯỜI GỬI")[1].split("7. ĐỊA CHỈ")[0]
    assert "mailer-daemon" not in unknown and "mnsonca6" not in unknown   # automatic mail is not an unknown sender
    assert "người gửi không có trong danh sách" in by_day[date(2023, 10, 7)]
    # "what changed": the 8/10 documents of MN Hoa Mai appear in the 9/10 digest only
    assert "bien-ban.pdf" in by_day[date(2023, 10, 9)] and "bien-ban.pdf" not in by_day[date(2023, 10, 10)]
    assert "Gia hạn - MN Hoa Sen" in by_day[date(2023, 10, 12)]
    assert "Gia hạn - MN Hoa Sen" not in by_day[date(2023, 10, 13)]
    assert "Hạn nộp của các trường: 23:59 ngày 10/10/2023 (giờ Việt Nam) - còn 9 ngày" in by_day[date(2023, 10, 1)]
    assert "đã quá hạn 2 ngày" in by_day[date(2023, 10, 12)]
    last = rows = xlsx_rows(mails[-1])["Tổng hợp"]
    nguyen_du = next(r for r in last if r[0] == "th-nguyen-du")
    assert nguyen_du[4] == "Đủ" and nguyen_du[5].startswith("Trễ hạn - 14/10/2023 09:00")
    tho = next(r for r in last if r[0] == "th-le-van-tho")
    assert tho[4] == "Miễn nộp"


def test_dry_runs_send_and_record_nothing(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        r = notify.remind(ctx, store, SmtpSender(ctx.config.smtp), at(3, 9), dry_run=True)
        d = notify.digest(ctx, store, SmtpSender(ctx.config.smtp), at(3, 9), dry_run=True)
        assert len(r.planned) == 27 and len(d.planned) == 1
        assert "Kính gửi: Ban Giám hiệu Trường THCS Nguyễn Hiền" in "".join(t for _, _, t in r.previews)
        assert store.outbox_counts() == {} and store.mark("digest") is None
    assert server.messages == []


def test_digest_lists_quarantined_mail_with_its_error(tmp_path, smtp_server_factory):
    from bot.model import RawMessage

    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        raw = (b"From: thcsnguyenhien.q12@hcm-edu.example\r\nSubject: Ho so <b>ANTQ</b>\r\n"
               b"Message-ID: <poison@x>\r\n\r\nbody\r\n")
        store.record_fetched([RawMessage("k", raw, at(2, 9))], at(2, 9))
        (pending,) = store.pending(10, 3)
        for _ in range(3):
            store.begin_attempts([pending.row])
        store.record_failure(pending.row, "could not read the message (test)", 3, at(2, 9))
        notify.digest(ctx, store, SmtpSender(ctx.config.smtp), at(3, 7))
    (msg,) = [parsed(m) for m in server.messages]
    text, html = bodies(msg)
    assert "THƯ BOT KHÔNG XỬ LÝ ĐƯỢC (1)" in text and "could not read the message (test)" in text
    assert "Thư bot không xử lý được (1)" in html and "&lt;poison@x&gt;" in html  # its Message-ID
    assert "<b>ANTQ</b>" not in html  # the subject is shown as text, escaped


def test_digest_gives_each_quarantined_mail_its_reference_and_forgets_it_once_dismissed(tmp_path):
    import email
    from email import policy

    from .outgoing import quarantine

    ctx = make_ctx(tmp_path)                                   # no SMTP: the digest stays in the outbox

    def digest_bodies(store, now):
        notify.digest(ctx, store, None, now)
        latest = max((r for r in store.outbox_rows() if r.kind == "digest"), key=lambda r: r.id)
        return bodies(email.message_from_bytes(store.outbox_raw(latest.id), policy=policy.default))

    with Store.open(ctx.config.paths.state) as store:
        ref = quarantine(store, at(2, 9))
        text, html = digest_bodies(store, at(3, 7))
        section = text.split("THƯ BOT KHÔNG XỬ LÝ ĐƯỢC (1)")[1].split("Bảng tổng hợp")[0]
        assert f"- {ref}  09:00 ngày 02/10/2023" in section and "could not read the message (test)" in section
        assert 'trả lời thư này với dòng "bỏ Q<số> <lý do>" để hệ thống thôi nhắc thư đó' in section
        assert f"<b>{ref}</b>" in html and "bỏ Q&lt;số&gt; &lt;lý do&gt;" in html
        text, _ = digest_bodies(store, at(4, 7))
        assert "THƯ BOT KHÔNG XỬ LÝ ĐƯỢC (1)" in text            # every day, until someone deals with it

        corrections.dismiss(store, ref, at(4, 10), who="mai", why="trường đã gửi lại hồ sơ qua Zalo")
        text, html = digest_bodies(store, at(5, 7))
    assert "KHÔNG XỬ LÝ ĐƯỢC" not in text and "không xử lý được" not in html.split("Lệnh qua thư")[0]
    assert f"- {ref}  " not in text


# -- bounced addresses and newly complete dossiers, through the SMTP server -------------

HIEN, HIEN_GMAIL, HOA_SEN = "thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example", "mnhoasen.q12@hcm-edu.example"


def three_schools(tmp_path, server):
    """THCS Nguyễn Hiền and MN Hoa Mai (two addresses each), MN Hoa Sen (one)."""
    from .outgoing import small_rules
    return make_ctx(tmp_path, server, rules=small_rules(tmp_path, ("thcs-nguyen-hien", "mn-hoa-sen", "mn-hoa-mai")))


def run(ctx, store, now, *, digest=False):
    sender = SmtpSender(ctx.config.smtp)
    notify.send_receipts(ctx, store, sender, now)
    if digest:
        return notify.digest(ctx, store, sender, now)
    return notify.remind(ctx, store, sender, now)


def sent_on(ctx, server, kind, day) -> dict[str, set[str]]:
    """school -> the addresses that got a ``kind`` mail on ``day``."""
    return {code: {a for d, _, m in mails if d == day for a in m.rcpt_tos}
            for code, mails in received(ctx, server, kind).items() if any(d == day for d, _, _ in mails)}


def last_digest(server) -> str:
    return bodies([parsed(m) for m in server.messages if parsed(m)["X-Bot-Kind"] == "digest"][-1])[0]


def test_a_bounced_address_gets_no_more_mail_but_the_schools_other_address_does(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))                                           # before-7 to every address
        bounce(store, at(4, 11), HIEN)
        run(ctx, store, at(7, 9))                                           # before-3
        record(store, at(7, 10), sender=HIEN_GMAIL, files=[("bc.pdf", "thcs-nguyen-hien", ("bao_cao",), "counted")])
        run(ctx, store, at(7, 10, 30))                                      # its receipt
        report = run(ctx, store, at(8, 7), digest=True)
    assert sent_on(ctx, server, "reminder", date(2023, 10, 3))["thcs-nguyen-hien"] == {HIEN, HIEN_GMAIL}
    assert sent_on(ctx, server, "reminder", date(2023, 10, 7))["thcs-nguyen-hien"] == {HIEN_GMAIL}
    assert sent_on(ctx, server, "receipt", date(2023, 10, 7))["thcs-nguyen-hien"] == {HIEN_GMAIL}
    assert sent_on(ctx, server, "reminder", date(2023, 10, 7))["mn-hoa-mai"] == {"mnhoamai.q12@hcm-edu.example",
                                                                                 "hieutruong.hoamai@gmail.example"}
    text = last_digest(server)
    assert f"- {HIEN} (THCS Nguyễn Hiền): 1 lần" in text and "Đã ngừng gửi thư đến địa chỉ này." in text
    assert "KHÔNG LIÊN LẠC ĐƯỢC" not in text                                 # one address still works
    assert report.queued == 1


def test_a_school_whose_every_address_bounced_gets_nothing_and_the_digest_says_to_phone(tmp_path,
                                                                                        smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))
        bounce(store, at(4, 11), HOA_SEN, style="x-failed")
        report = run(ctx, store, at(7, 9))
        run(ctx, store, at(9, 9))
        run(ctx, store, at(10, 7), digest=True)
    assert "mn-hoa-sen" in sent_on(ctx, server, "reminder", date(2023, 10, 3))
    assert all(HOA_SEN not in m.rcpt_tos for m in server.messages if parsed(m)["Date"].datetime > at(4, 11))
    assert ("mn-hoa-sen", "every roster address bounced") in report.skipped
    assert set(sent_on(ctx, server, "reminder", date(2023, 10, 9))) == {"thcs-nguyen-hien", "mn-hoa-mai"}
    text = last_digest(server)
    assert "KHÔNG LIÊN LẠC ĐƯỢC QUA THƯ ĐIỆN TỬ (1 trường)" in text and "gọi điện thoại cho trường" in text
    assert f"+ MN Hoa Sen ({HOA_SEN}): còn thiếu Tờ trình đề nghị công nhận" in text
    html = bodies([parsed(m) for m in server.messages if parsed(m)["X-Bot-Kind"] == "digest"][-1])[1]
    assert "<b>gọi điện thoại</b>" in html and "<b>MN Hoa Sen</b>" in html


def test_mail_from_a_bounced_address_makes_it_used_again(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))
        bounce(store, at(4, 11), HOA_SEN)
        run(ctx, store, at(7, 9))                                           # nothing for MN Hoa Sen
        record(store, at(8, 10), sender=HOA_SEN, files=[("tt.pdf", "mn-hoa-sen", ("to_trinh",), "counted")])
        run(ctx, store, at(8, 10, 30))                                      # its receipt
        run(ctx, store, at(9, 9))                                           # before-1
        run(ctx, store, at(10, 7), digest=True)
    assert "mn-hoa-sen" not in sent_on(ctx, server, "reminder", date(2023, 10, 7))
    assert sent_on(ctx, server, "receipt", date(2023, 10, 8))["mn-hoa-sen"] == {HOA_SEN}
    assert sent_on(ctx, server, "reminder", date(2023, 10, 9))["mn-hoa-sen"] == {HOA_SEN}
    text = last_digest(server)
    assert "KHÔNG LIÊN LẠC ĐƯỢC" not in text
    assert f"- {HOA_SEN} (MN Hoa Sen): 1 lần" in text and "vẫn gửi bình thường" in text


def test_a_reminder_queued_before_the_bounce_arrived_leaves_the_bounced_address_out(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))                                           # before-7, sent
        server.refuse_all(421)
        run(ctx, store, at(7, 9))                                           # before-3, queued, not sent
        bounce(store, at(7, 9, 30), HOA_SEN)                                # 3/10's reminders bounce
        bounce(store, at(7, 9, 31), HIEN, style="x-failed")
        server.accept_all()
        notify.deliver(ctx, store, SmtpSender(ctx.config.smtp), at(7, 11))
    reminders = sent_on(ctx, server, "reminder", date(2023, 10, 7))
    assert set(reminders) == {"thcs-nguyen-hien", "mn-hoa-mai"}
    assert reminders["thcs-nguyen-hien"] == {HIEN_GMAIL}
    (hien,) = [parsed(m) for m in by_kind(server.messages, "reminder")[-2:] if HIEN_GMAIL in m.rcpt_tos]
    assert str(hien["To"]) == HIEN_GMAIL


def test_a_receipt_queued_before_the_bounce_arrived_goes_only_to_the_schools_other_address(tmp_path,
                                                                                           smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))                                           # before-7, sent
        server.clear()
        server.refuse_all(421)                                              # SMTP down: the receipt waits
        record(store, at(7, 10), sender=HIEN, files=[("bc.pdf", "thcs-nguyen-hien", ("bao_cao",), "counted")])
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(7, 10, 30))
        bounce(store, at(7, 11), HIEN)                                      # meanwhile, HIEN bounces for good
        server.accept_all()
        notify.deliver(ctx, store, SmtpSender(ctx.config.smtp), at(7, 11, 30))
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(7, 12))
    (receipt,) = by_kind(server.messages, "receipt")
    assert receipt.rcpt_tos == (HIEN_GMAIL,) and str(parsed(receipt)["To"]) == HIEN_GMAIL
    assert "bc.pdf" in bodies(parsed(receipt))[0]
    assert all(HIEN not in m.rcpt_tos for m in server.messages)


def test_a_receipt_whose_every_address_bounced_meanwhile_is_cancelled_and_sent_once_the_school_writes_again(
        tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 9))                                           # before-7, sent
        server.clear()
        server.refuse_all(421)
        record(store, at(7, 10), sender=HOA_SEN, files=[("tt.pdf", "mn-hoa-sen", ("to_trinh",), "counted")])
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(7, 10, 30))
        bounce(store, at(7, 11), HOA_SEN)
        server.accept_all()
        report = notify.deliver(ctx, store, SmtpSender(ctx.config.smtp), at(7, 11, 30))
        assert report.cancelled == 1 and server.messages == []
        (cancelled,) = store.outbox_rows(("cancelled",))
        assert cancelled.school == "mn-hoa-sen"
        assert cancelled.last_error.startswith(f"every recipient bounced: {HOA_SEN}")
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(7, 14))  # still bounced: nothing
        assert server.messages == []
        # The school writes from the address again (its mailbox works): the document gets its receipt after all.
        record(store, at(8, 9), sender=HOA_SEN, subject="Phòng đã nhận hồ sơ của trường chưa ạ?")
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(8, 9, 30))
        notify.send_receipts(ctx, store, SmtpSender(ctx.config.smtp), at(8, 10))
    (receipt,) = by_kind(server.messages, "receipt")
    assert receipt.rcpt_tos == (HOA_SEN,) and "tt.pdf" in bodies(parsed(receipt))[0]


def test_a_temporary_delivery_failure_does_not_stop_mail(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        record(store, at(4, 11), sender="", raw=mf.postfix_bounce([], temporary=[HOA_SEN]))
        run(ctx, store, at(7, 9))
        run(ctx, store, at(8, 7), digest=True)
    assert sent_on(ctx, server, "reminder", date(2023, 10, 7))["mn-hoa-sen"] == {HOA_SEN}
    text = last_digest(server)
    assert "ĐỊA CHỈ BỊ TRẢ LẠI THƯ (0)" in text and "KHÔNG LIÊN LẠC ĐƯỢC" not in text


def test_the_digest_names_schools_whose_dossier_became_complete_since_the_previous_one(tmp_path,
                                                                                        smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    all_docs = [("ho-so.pdf", ALL, "counted")]
    with Store.open(ctx.config.paths.state) as store:
        run(ctx, store, at(3, 7), digest=True)
        record(store, at(3, 9), sender=HIEN, files=[(n, "thcs-nguyen-hien", t, d) for n, t, d in all_docs])
        run(ctx, store, at(4, 7), digest=True)
        record(store, at(4, 9), sender=HIEN, files=[("bao-cao-v2.pdf", "thcs-nguyen-hien", ("bao_cao",), "counted")])
        record(store, at(4, 9, 30), sender="mnhoamai.q12@hcm-edu.example",
               files=[(n, "mn-hoa-mai", t, d) for n, t, d in all_docs])
        run(ctx, store, at(5, 7), digest=True)
    digests = [bodies(parsed(m)) for m in server.messages if parsed(m)["X-Bot-Kind"] == "digest"]
    (first, _), (second, second_html), (third, _) = digests
    assert "Hồ sơ đủ" not in first
    assert "- Hồ sơ đủ (1 trường): THCS Nguyễn Hiền." in second
    assert "<b>Hồ sơ đủ (1 trường):</b> THCS Nguyễn Hiền." in second_html
    assert "- Hồ sơ đủ (1 trường): MN Hoa Mai." in third
    assert "bao-cao-v2.pdf" in third                                         # its new file is a change, not news


# -- the command line, without SMTP: mail goes to state/outbox/ ------------------------

def write_config(tmp_path):
    from .outgoing import ROOT
    (tmp_path / "inbox").mkdir(exist_ok=True)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""
[mailbox]
source = "folder"
path = "inbox"

[smtp]
enabled = false
from_address = "hoso-bot@pgd-q12.example"

[coordinator]
emails = ["{COORDINATOR}"]

[paths]
rules = "{ROOT / 'rules'}"
templates = "{ROOT / 'templates'}"
state = "state"
""", encoding="utf-8")
    return cfg


def cli(*argv):
    import contextlib
    from bot.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue()


def test_cli_remind_digest_and_outbox_write_eml_files(tmp_path):
    import email
    from email import policy
    cfg = write_config(tmp_path)
    outdir = tmp_path / "state" / "outbox"

    code, out = cli("--config", cfg, "--now", "2023-10-03T09:00", "remind", "--dry-run")
    assert code == 0 and "27 mail(s) would be queued (dry run" in out
    assert "Kính gửi: Ban Giám hiệu Trường MN Sơn Ca 6" in out
    assert not outdir.exists()

    code, out = cli("--config", cfg, "--now", "2023-10-03T20:00", "remind")
    assert code == 0 and "0 queued" in out and "outside office hours" in out

    code, out = cli("--config", cfg, "--now", "2023-10-03T09:00", "remind")
    assert code == 0 and "27 queued" in out and "27 sent" in out
    emls = sorted(outdir.glob("*.eml"))
    assert len(emls) == 27 and len(list(outdir.glob("*.html"))) == 27
    assert emls[0].name == "000001-reminder-mn-son-ca-6.eml"

    code, out = cli("--config", cfg, "--now", "2023-10-03T10:00", "remind")
    assert "0 queued" in out and len(list(outdir.glob("*.eml"))) == 27    # never twice

    code, out = cli("--config", cfg, "--now", "2023-10-04T07:00", "digest")
    assert code == 0 and "1 queued" in out
    (digest,) = outdir.glob("*-digest.eml")
    msg = email.message_from_bytes(digest.read_bytes(), policy=policy.default)
    assert msg["X-Bot-Kind"] == "digest" and str(msg["To"]) == COORDINATOR
    assert [p.get_filename() for p in msg.iter_attachments()] == ["tong-hop-ho-so-2023-10-04.xlsx"]
    code, out = cli("--config", cfg, "--now", "2023-10-04T09:00", "digest")
    assert "already queued" in out

    code, out = cli("--config", cfg, "--now", "2023-10-04T09:00", "outbox", "--all")
    assert code == 0 and "28 sent" in out and "#28" in out and "digest" in out

    code, out = cli("--config", cfg, "--now", "2023-10-04T09:00", "outbox", "--retry")
    assert code == 0 and "0 mail(s) queued again" in out


# -- the digest sees only what had happened by its instant; its wording ---------------------

def digest_text(ctx, store, now, *, dry_run=True) -> tuple[str, str]:
    """The digest's text and subject at ``now`` (a dry run records nothing)."""
    report = notify.digest(ctx, store, None, now, dry_run=dry_run)
    if dry_run:
        ((_, subject, text),) = report.previews
        return text, subject
    latest = max((r for r in store.outbox_rows() if r.kind == "digest"), key=lambda r: r.id)
    return bodies(parsed_raw(store.outbox_raw(latest.id)))[0], latest.subject


def parsed_raw(raw: bytes):
    import email
    from email import policy
    return email.message_from_bytes(raw, policy=policy.default)


def test_a_digest_dated_before_later_mail_shows_none_of_it(tmp_path):
    from .outgoing import quarantine
    ctx = three_schools(tmp_path, None)
    with Store.open(ctx.config.paths.state) as store:
        record(store, at(4, 9), sender=HIEN, files=[("ho-so.pdf", "thcs-nguyen-hien", ALL, "counted")])
        # mail received after 12/10 08:00, recorded before that digest runs (a --now simulation)
        record(store, at(14, 9), sender="mnhoamai.q12@hcm-edu.example",
               files=[("ho-so-hoa-mai.pdf", "mn-hoa-mai", ALL, "counted")])
        notify.remind(ctx, store, make_sender(ctx.config), at(3, 9))         # state/outbox/
        bounce(store, at(14, 11), HOA_SEN)
        record(store, at(14, 12), sender="la.nguoi@example.com", files=[("x.pdf", None, (), "review", "lạ")])
        quarantine(store, at(14, 13))
        early, _ = digest_text(ctx, store, at(12, 8), dry_run=False)
        later, _ = digest_text(ctx, store, at(15, 7), dry_run=False)
    assert "ho-so.pdf" in early and "ho-so-hoa-mai.pdf" not in early
    assert "ĐỊA CHỈ BỊ TRẢ LẠI THƯ (0)" in early and HOA_SEN not in early
    assert "la.nguoi@example.com" not in early and "KHÔNG XỬ LÝ ĐƯỢC" not in early
    assert "Đã nộp đủ hồ sơ: 1/3 trường" in early
    # the next digest shows what arrived since, even though it was recorded before the first one
    assert "ho-so-hoa-mai.pdf" in later and "ho-so.pdf" not in later
    assert f"- {HOA_SEN} (MN Hoa Sen): 1 lần, gần nhất 11:00 ngày 14/10/2023" in later
    assert "la.nguoi@example.com" in later and "THƯ BOT KHÔNG XỬ LÝ ĐƯỢC (1)" in later
    assert "Đã nộp đủ hồ sơ: 2/3 trường" in later


@pytest.mark.parametrize("wrote, expected", [
    (None, "Đã ngừng gửi thư đến địa chỉ này."),
    (at(16, 9), "Địa chỉ đã gửi thư đến Phòng lúc 09:00 ngày 16/10/2023, sau lần bị trả lại: vẫn gửi bình thường."),
    (at(18, 9), "Đã ngừng gửi thư đến địa chỉ này."),                         # not yet, at the digest's instant
])
def test_a_bounced_address_is_said_to_work_again_only_after_mail_from_it(tmp_path, wrote, expected):
    ctx = three_schools(tmp_path, None)
    with Store.open(ctx.config.paths.state) as store:
        notify.remind(ctx, store, make_sender(ctx.config), at(3, 9))         # state/outbox/
        bounce(store, at(14, 11), HOA_SEN)
        if wrote:
            record(store, wrote, sender=HOA_SEN, subject="Xin gia hạn")
        text, _ = digest_text(ctx, store, at(17, 7))
    line = next(ln for ln in text.splitlines() if ln.startswith(f"- {HOA_SEN}"))
    assert line.endswith(expected)
    assert ("vẫn gửi bình thường" in text) == (expected.endswith("vẫn gửi bình thường."))


def test_the_digest_headline_says_how_many_complete_schools_are_exempt_and_matches_status_json(tmp_path):
    ctx = three_schools(tmp_path, None)
    with Store.open(ctx.config.paths.state) as store:
        record(store, at(4, 9), sender=HIEN, files=[("ho-so.pdf", "thcs-nguyen-hien", ALL, "counted")])
        store.add_correction(kind="exempt", school="mn-hoa-sen", cycle=2023, who="mai", why="sáp nhập", via="cli",
                             now=at(4, 10))
        text, subject = digest_text(ctx, store, at(5, 7))
        summary = to_json(status_for(store, ctx.rules, at(5, 7)))["summary"]
    assert (summary["complete"], summary["exempt"]) == (2, 1)
    assert "- Đã nộp đủ hồ sơ: 2/3 trường, kể cả 1 trường được miễn nộp (66,7%; mục tiêu 100%)." in text
    assert "- Hồ sơ đủ (1 trường): THCS Nguyễn Hiền." in text                   # the exempt school is not news
    assert "2/3 trường đã đủ hồ sơ (kể cả 1 trường miễn nộp; 66,7%)" in subject


def test_the_digest_names_the_kind_of_file_and_mail_it_talks_about(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        # a mail without attachment waiting in review; a forwarder whose document was counted
        record(store, at(2, 9), sender=HOA_SEN, files=[("", "mn-hoa-sen", (), "review", "thư không có tệp")])
        record(store, at(2, 10), sender="staff.forward@yahoo.com",
               files=[("bao-cao.pdf", "mn-hoa-mai", ("bao_cao",), "counted")])
        record(store, at(2, 11), sender="la.nguoi@example.com")
        # the receipt is refused for good by the server
        server.refuse_all(550, "5.1.1 <mnhoamai.q12@hcm-edu.example>: Recipient address rejected: User unknown")
        for minute in (0, 5, 10, 20):
            run(ctx, store, at(2, 11, minute))
        server.accept_all()
        text = digest_text(ctx, store, at(3, 7))[0]
    assert "R1  MN Hoa Sen: (chưa rõ loại) - (thư không có tệp đính kèm) [Chờ xem xét]" in text
    assert "MN Hoa Sen: (thư không có tệp đính kèm)" in text.split("5. TỆP CHỜ XEM XÉT")[1]
    assert "tạm hoãn thư nhắc" not in text                                  # a mail without a file holds nothing
    unknown = text.split("6. NGƯỜI GỬI")[1].split("7. ĐỊA CHỈ")[0]
    assert "staff.forward@yahoo.com: 1 thư, gần nhất 10:00 ngày 02/10/2023" in unknown
    assert "- đã ghi nhận cho MN Hoa Mai" in unknown
    assert "la.nguoi@example.com" in unknown and unknown.count("đã ghi nhận cho") == 1
    failed = text.split("THƯ CHƯA GỬI ĐƯỢC")[1].split("Bảng tổng hợp")[0]
    assert "biên nhận - MN Hoa Mai: " in failed and "receipt" not in failed
    assert "5.1.1" in failed and "b'" not in failed and "(3 lần thử)" in failed


def test_a_school_whose_scan_waits_in_review_is_not_reminded_and_the_digest_says_so(tmp_path, smtp_server_factory):
    server = smtp_server_factory()
    ctx = three_schools(tmp_path, server)
    with Store.open(ctx.config.paths.state) as store:
        (scan,) = record(store, at(2, 9), sender=HOA_SEN,
                         files=[("scan0001.jpg", "mn-hoa-sen", (), "review", "không đọc được tiêu đề")])
        run(ctx, store, at(3, 9))                                           # before-7
        text = digest_text(ctx, store, at(4, 7))[0]
        store.add_correction(kind="reject", item_id=scan, cycle=2023, who="mai", why="ảnh mờ, không phải hồ sơ",
                             via="cli", now=at(4, 8))
        run(ctx, store, at(4, 9))                                           # the slot is still due
    assert set(sent_on(ctx, server, "reminder", date(2023, 10, 3))) == {"thcs-nguyen-hien", "mn-hoa-mai"}
    assert "mn-hoa-sen" in sent_on(ctx, server, "reminder", date(2023, 10, 4))
    assert ("- MN Hoa Sen: thiếu Tờ trình đề nghị công nhận; Báo cáo kết quả xây dựng đơn vị điển hình; "
            "Biên bản họp xét, đề nghị; đã nhận 1 tệp chưa rõ loại (R1), đang chờ kiểm tra: tạm hoãn thư nhắc") in text
    assert "Thư nhắc MN Hoa Sen tạm hoãn cho đến khi tệp này được xử lý (duyệt hoặc bỏ)." in text
