"""What mail is due: pure functions of (status, rules, send history, now). No I/O."""
from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.outbound.common import next_office_time, short_error, suppressed_addresses
from bot.outbound.digest import (DEFAULT_ENTRIES, Bounce, DigestInputs, OutboxProblem, digest_content, digest_due,
                                 digest_limits, todo_list)
from bot.outbound.receipts import CountedItem, due_receipts, receipt_key, recheck_receipt
from bot.outbound.reminders import due_reminders, recheck_reminder, reminder_key, reminder_slots, still_wanted
from bot.outbound.sections import ReviewRow
from bot.outbound.review import ReviewGuess, batch_reply, review_guess, review_sections, suggested_replies
from bot.rules.load import load_rules
from bot.status import apply_corrections, compute_status, to_json
from bot.store import Correction, StoredItem

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RULES = load_rules(Path(__file__).resolve().parents[1] / "rules")
CAMPAIGN = RULES.campaign
NH = "thcs-nguyen-hien"  # two roster addresses
DEADLINE = datetime(2023, 10, 10, 23, 59, 59, tzinfo=VN)
ALL = ("to_trinh", "bao_cao", "bien_ban")


def at(day, hour=8, minute=0, month=10):
    return datetime(2023, month, day, hour, minute, tzinfo=VN)


def item(id, when, doc_types=("to_trinh",), school=NH, decision="counted", filename=None, reasons=()):
    return StoredItem(id=id, message_id=f"<m{id}@x>", from_addr="a@b.c", subject="s", received_at=when,
                      container="", filename=filename or f"f{id}.pdf", part_index=0, first_page=1, last_page=1,
                      school=school, doc_types=tuple(doc_types), campaign=True, decision=decision, confidence=0.9,
                      reasons=tuple(reasons), cycle=CAMPAIGN.cycle_of(when), content_sha256="")


def corr(id, kind, school, value=None, why="lý do"):
    return Correction(id, kind, None, school, None, 2023, value, "mai", why, "cli", at(1))


def status_of(items=(), corrections=(), now=at(7), rules=RULES):
    facts = apply_corrections(items, corrections, rules.campaign, 2023, now)
    return compute_status(facts, rules.campaign, rules.schools, 2023, now)


def key(kind, school=NH, deadline=DEADLINE):
    return reminder_key(school, 2023, kind, deadline, VN)


def kinds_for(mails, school=NH):
    return [m.context["kind"] for m in mails if m.school == school]


# -- slots ------------------------------------------------------------------------

def test_default_slots_are_7_3_1_days_before_then_every_3_days_after_at_most_3():
    slots = reminder_slots(DEADLINE, CAMPAIGN.reminders, VN)
    assert [(s.kind, s.at) for s in slots] == [
        ("before-7", at(3, 7, 30)), ("before-3", at(7, 7, 30)), ("before-1", at(9, 7, 30)),
        ("after-1", at(13, 7, 30)), ("after-2", at(16, 7, 30)), ("after-3", at(19, 7, 30))]


def test_slots_follow_the_campaign_rules():
    rem = dataclasses.replace(CAMPAIGN.reminders, before_days=(2,), after_every_days=5, after_max=1,
                              office_start=time(8, 0))
    assert [(s.kind, s.at) for s in reminder_slots(DEADLINE, rem, VN)] == [
        ("before-2", at(8, 8)), ("after-1", at(15, 8))]


# -- which reminder is due, for a school that sent nothing ----------------------------

@pytest.mark.parametrize("now, sent, expected, superseded", [
    (at(2, 9), set(), [], []),                                     # before the first slot
    (at(3, 7, 29), set(), [], []),                                  # before office hours
    (at(3, 7, 30), set(), ["before-7"], []),
    (at(3, 16, 59), set(), ["before-7"], []),
    (at(3, 17, 0), set(), [], []),                                  # office closes at 17:00
    (at(4, 9), {"before-7"}, [], []),                               # already decided
    (at(7, 9), {"before-7"}, ["before-3"], []),                     # Saturday morning is worked
    (at(8, 9), {"before-7"}, [], []),                               # Sunday: nothing, not even the due before-3
    (at(9, 9), {"before-7"}, ["before-1"], ["before-3"]),           # missed slot: only the latest is sent
    (at(7, 9), set(), ["before-3"], ["before-7"]),                  # bot down until 7/10: one mail, not two
    (at(10, 20), {"before-7", "before-3"}, [], []),                 # evening of the deadline: outside hours
    (at(11, 9), set(), [], []),                                     # "1 day before" makes no sense after it
    (at(13, 7, 30), {"before-7", "before-3", "before-1"}, ["after-1"], []),
    (at(16, 9), {"after-1"}, ["after-2"], []),
    (at(20, 9), set(), ["after-3"], ["after-1", "after-2"]),
    (at(23, 9), {"after-1", "after-2", "after-3"}, [], []),         # at most 3 after the deadline
    (at(1, 9, month=11), {"after-1", "after-2", "after-3"}, [], []),
])
def test_due_reminder_for_a_school_that_sent_nothing(now, sent, expected, superseded):
    status = status_of(now=now)
    result = due_reminders(status, RULES, {key(k) for k in sent}, now)
    assert kinds_for(result.mails) == expected
    assert sorted(k.text for k, _ in result.superseded if k.school == NH) == sorted(key(k).text for k in superseded)
    for mail in result.mails:
        assert mail.key == key(mail.context["kind"], mail.school)


@pytest.mark.parametrize("items, corrections, expected_missing", [
    ([], [], ["Tờ trình đề nghị công nhận", "Báo cáo kết quả xây dựng đơn vị điển hình", "Biên bản họp xét, đề nghị"]),
    ([item(1, at(2), ("to_trinh",))], [], ["Báo cáo kết quả xây dựng đơn vị điển hình", "Biên bản họp xét, đề nghị"]),
    # the optional Kế hoạch is never chased
    ([item(1, at(2), ("to_trinh", "bao_cao"))], [], ["Biên bản họp xét, đề nghị"]),
    # a document waiting in the review queue is not "missing"
    ([item(1, at(2), ("to_trinh",)), item(2, at(2), ("bien_ban",), decision="review")], [],
     ["Báo cáo kết quả xây dựng đơn vị điển hình"]),
    ([item(1, at(2), ALL)], [], None),                                          # complete
    ([item(1, at(2), ("to_trinh", "bao_cao")), item(2, at(2), ("bien_ban",), decision="review")], [], None),
    ([], [corr(1, "exempt", NH)], None),                                        # exempt
])
def test_reminder_lists_exactly_what_is_missing(items, corrections, expected_missing):
    now = at(3, 9)
    result = due_reminders(status_of(items, corrections, now), RULES, set(), now)
    mine = [m for m in result.mails if m.school == NH]
    if expected_missing is None:
        assert mine == []
        return
    (mail,) = mine
    assert mail.context["missing"] == expected_missing
    assert mail.to == ("thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example")
    assert mail.kind == "reminder" and mail.template == "reminder"


def test_complete_and_exempt_schools_get_nothing_all_campaign_long():
    items = [item(1, at(2), ALL)]
    corrections = [corr(1, "exempt", "th-le-van-tho")]
    sent: set[str] = set()
    for day in range(1, 32):
        now = at(day, 9)
        result = due_reminders(status_of(items, corrections, now), RULES, sent, now)
        assert NH not in {m.school for m in result.mails}
        assert "th-le-van-tho" not in {m.school for m in result.mails}
        sent |= {m.key for m in result.mails} | {k for k, _ in result.superseded}


def test_an_extension_gives_a_new_schedule_keyed_by_the_new_deadline():
    until = datetime(2023, 10, 20, 23, 59, 59, tzinfo=VN)
    corrections = [corr(1, "extend", NH, until.isoformat())]
    now = at(13, 9)
    old = {key(k) for k in ("before-7", "before-3", "before-1")}
    result = due_reminders(status_of((), corrections, now), RULES, old, now)
    (mail,) = [m for m in result.mails if m.school == NH]
    assert mail.key == key("before-7", deadline=until)
    assert mail.context["extended"] and mail.context["deadline"] == until
    assert mail.context["days_left"] == 7


def test_a_school_without_address_is_reported_not_mailed():
    schools = tuple(dataclasses.replace(s, emails=()) if s.code == NH else s for s in RULES.schools)
    rules = dataclasses.replace(RULES, schools=schools)
    now = at(3, 9)
    result = due_reminders(status_of(now=now, rules=rules), rules, set(), now)
    assert NH not in {m.school for m in result.mails}
    assert (NH, "no address in the roster") in result.skipped


@pytest.mark.parametrize("items, corrections, key_deadline, expected", [
    ([], [], DEADLINE.isoformat(), None),
    ([item(1, at(4), ALL)], [], DEADLINE.isoformat(), "complete"),
    ([], [corr(1, "exempt", NH)], DEADLINE.isoformat(), "exempt"),
    ([], [corr(1, "extend", NH, "2023-10-20T23:59:59+07:00")], DEADLINE.isoformat(), "the school's deadline changed"),
    ([item(1, at(4), ("to_trinh", "bao_cao")), item(2, at(4), ("bien_ban",), decision="review")], [],
     DEADLINE.isoformat(), "the rest waits for the coordinator's review"),
])
def test_a_queued_reminder_is_decided_again_before_sending(items, corrections, key_deadline, expected):
    assert still_wanted(status_of(items, corrections, at(5)), NH, key_deadline) == expected


NH_ROSTER = ("thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example")


@pytest.mark.parametrize("now, items, meta, recipients, suppressed, expected", [
    # nothing changed since it was queued: it goes as it is
    (at(5, 9), [], {"missing": list(ALL)}, NH_ROSTER, (), ("send", "", None, None)),
    (at(5, 9), [], {"missing": list(ALL)}, NH_ROSTER[::-1], (), ("send", "", None, None)),   # order is no change
    (at(5, 9), [item(1, at(4), ALL)], {"missing": list(ALL)}, NH_ROSTER, (), ("cancel", "complete", None, None)),
    # queued at 16:55, the outbox reached it after hours: it waits for the office to open, Friday 7:30
    (at(5, 17, 5), [], {"missing": list(ALL)}, NH_ROSTER, (), ("defer", "outside office hours", at(6, 7, 30), None)),
    (at(5, 9), [], {"missing": list(ALL)}, NH_ROSTER, NH_ROSTER,
     ("cancel", "every roster address bounced", None, None)),
    # an address bounced since: the same reminder to the one left
    (at(5, 9), [], {"missing": list(ALL)}, NH_ROSTER, NH_ROSTER[1:], ("replace", "", None, NH_ROSTER[:1])),
    # a document arrived since: the reminder lists what is still missing
    (at(5, 9), [item(1, at(4, 10), ("to_trinh",))], {"missing": list(ALL)}, NH_ROSTER, (),
     ("replace", "", None, NH_ROSTER)),
])
def test_a_queued_reminder_is_sent_cancelled_held_or_brought_up_to_date(now, items, meta, recipients, suppressed,
                                                                         expected):
    k, status = key("before-7"), status_of(items, now=now)
    decision = recheck_reminder(status, RULES, k, {"not_official": [], **meta}, recipients, suppressed, now)
    action, reason, until, to = expected
    assert (decision.action, decision.reason, decision.until) == (action, reason, until)
    assert (decision.mail.to if decision.mail else None) == to
    if decision.mail:  # the mail it is replaced by: the same key, what the school lacks now
        nh = next(s for s in status.schools if s.code == NH)
        assert decision.mail.key == k and decision.mail.meta["missing"] == nh.missing_required(CAMPAIGN.required)


@pytest.mark.parametrize("now, expected", [
    (at(3, 9), at(3, 9)),
    (at(3, 18), at(4, 7, 30)),
    (at(7, 18), at(9, 7, 30)),   # Saturday evening -> Monday
    (at(8, 6), at(9, 7, 30)),    # Sunday morning -> Monday
])
def test_next_office_time(now, expected):
    assert next_office_time(now, CAMPAIGN.reminders, VN) == expected


# -- receipts ---------------------------------------------------------------------

def counted(id, when, doc_types=("to_trinh",), school=NH, from_addr="thcsnguyenhien.q12@hcm-edu.example",
            filename=None, automatic=False):
    return CountedItem(id, school, tuple(doc_types), filename or f"f{id}.pdf", when, from_addr, automatic)


def receipts_at(now, counted_items, acknowledged=()):
    items = [item(c.item_id, c.received_at, c.doc_types, c.school, filename=c.filename) for c in counted_items]
    return due_receipts(status_of(items, now=now), RULES, counted_items, acknowledged, now)


def test_several_emails_within_minutes_give_one_receipt_after_the_batch_time():
    first, second = at(5, 9, 0), at(5, 9, 3)
    items = [counted(1, first, ("to_trinh",)), counted(2, second, ("bao_cao", "bien_ban"))]
    assert receipts_at(at(5, 9, 12), items) == ()           # newest is 9 minutes old
    (mail,) = receipts_at(at(5, 9, 13), items)
    assert mail.key.text == f"receipt:{NH}:2023:1,2"
    assert mail.item_ids == (1, 2)
    assert [(l.doc_name, l.filename, l.status) for l in mail.context["lines"]] == [
        ("Tờ trình đề nghị công nhận", "f1.pdf", "on_time"),
        ("Báo cáo kết quả xây dựng đơn vị điển hình", "f2.pdf", "on_time"),
        ("Biên bản họp xét, đề nghị", "f2.pdf", "on_time")]
    assert mail.context["complete"] and mail.context["missing"] == []
    assert mail.kind == "receipt"


def test_receipt_lists_what_is_still_missing_and_says_late():
    (mail,) = receipts_at(at(12, 10), [counted(1, at(11, 9), ("bao_cao",))])
    assert [l.status for l in mail.context["lines"]] == ["late"]
    assert mail.context["missing"] == ["Tờ trình đề nghị công nhận", "Biên bản họp xét, đề nghị"]


def test_acknowledged_and_automatic_items_get_no_receipt():
    items = [counted(1, at(5, 9)), counted(2, at(5, 9), ("bao_cao",), automatic=True)]
    assert receipts_at(at(5, 10), items, acknowledged={1}) == ()


def test_receipt_goes_to_the_roster_only_not_to_an_unauthenticated_sender_outside_it():
    (mail,) = receipts_at(at(5, 10), [counted(1, at(5, 9), from_addr="Staff.Forwarder@Gmail.com")])
    assert mail.to == ("thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example")
    assert mail.senders == ()  # tests/test_receipts.py: a sender the trusted Authentication-Results vouch for


def test_a_later_version_keeps_the_first_copys_on_time_status():
    items = [counted(1, at(5, 9)), counted(2, at(12, 9))]
    (mail,) = receipts_at(at(12, 10), items, acknowledged={1})
    (line,) = mail.context["lines"]
    assert line.status == "on_time" and line.later_version
    assert line.first_received_at == at(5, 9)


def test_receipt_key_of_many_items_stays_short():
    k = receipt_key(NH, 2023, range(1, 200)).text
    assert k.startswith(f"receipt:{NH}:2023:sha1-") and len(k) < 100


# -- digest -----------------------------------------------------------------------

def test_digest_headline_matches_status_json():
    now = at(7, 7)
    items = [item(1, at(2), ALL), item(2, at(3), ALL, school="mn-hoa-mai"), item(3, at(4), ("to_trinh",), school="th-nguyen-du"),
             item(4, at(4), ("bien_ban",), school="th-nguyen-du", decision="review", reasons=("chữ ký không rõ",))]
    status = status_of(items, now=now)
    content = digest_content(status, RULES, DigestInputs(), ["c@x.vn"], limits={"missing": 400})
    summary = to_json(status)["summary"]
    h = content["headline"]
    assert (h.schools, h.complete, h.review) == (summary["schools"], summary["complete"], summary["review"])
    assert h.percent == round(100 * 2 / 27, 1)
    assert (h.days_to_deadline, h.days_to_report) == (3, 8)
    assert [r.reason for r in content["review"].rows] == ["chữ ký không rõ"]
    th = next(g for g in content["missing_groups"] if g.level == "TH")
    du = next(s for s in th.schools if s.code == "th-nguyen-du")
    assert du.missing == ("Báo cáo kết quả xây dựng đơn vị điển hình",)
    assert du.in_review == ("Biên bản họp xét, đề nghị",)
    assert [g.level for g in content["missing_groups"]] == ["MN", "MG", "NT", "TH", "THCS", "TH-THCS", "THPT",
                                                                "TT GDNN-GDTX"]
    assert h.missing_schools == 25


def test_digest_lists_late_submissions_and_counts_days_past_the_deadline():
    now = at(16, 7)
    status = status_of([item(1, at(12, 9, 30), ("bao_cao",))], now=now)
    content = digest_content(status, RULES, DigestInputs(), ["c@x.vn"])
    assert [(r.code, r.doc_name) for r in content["late"].rows] == [(NH, "Báo cáo kết quả xây dựng đơn vị điển hình")]
    assert (content["headline"].days_to_deadline, content["headline"].days_to_report) == (-6, -1)


def test_digest_lists_are_capped_and_the_rest_is_counted():
    status = status_of(now=at(20))
    content = digest_content(status, RULES, DigestInputs(), ["c@x.vn"], limits={"missing": 5})
    assert sum(len(g.schools) for g in content["missing_groups"]) == 5
    assert content["missing_more"] == 22


@pytest.mark.parametrize("now, last, expected", [
    (at(5, 6, 59), None, False),
    (at(5, 7, 0), None, True),
    (at(5, 7, 0), at(4, 7, 0), True),
    (at(5, 9, 0), at(5, 7, 0), False),
])
def test_digest_due_once_a_day_after_digest_at(now, last, expected):
    assert digest_due(now, time(7, 0), VN, last) is expected


# -- bounced addresses ---------------------------------------------------------------

NH_SCHOOL, NH_GMAIL = "thcsnguyenhien.q12@hcm-edu.example", "vanthu.nguyenhien@gmail.example"


@pytest.mark.parametrize("bounced, wrote, now, expected", [
    ([(NH_SCHOOL, at(4, 11))], [], at(5), {NH_SCHOOL}),
    ([(NH_SCHOOL, at(4, 11))], [(NH_SCHOOL, at(6, 9))], at(7), set()),             # it wrote since: it works
    ([(NH_SCHOOL, at(4, 11))], [(NH_SCHOOL, at(3, 9))], at(7), {NH_SCHOOL}),       # it wrote before the bounce
    ([(NH_SCHOOL, at(4, 11)), (NH_SCHOOL, at(8, 11))], [(NH_SCHOOL, at(6, 9))], at(9), {NH_SCHOOL}),  # bounced again
    ([(NH_SCHOOL, at(4, 11))], [(NH_SCHOOL, at(6, 9))], at(5), {NH_SCHOOL}),       # simulated before it wrote
    ([(NH_SCHOOL, at(4, 11))], [], at(4, 10), set()),                              # before the bounce
    ([("THCSNguyenHien.Q12@hcm-edu.example", at(4, 11))], [(NH_SCHOOL, at(6, 9))], at(7), set()),  # case does not matter
    ([(NH_SCHOOL, at(4, 11))], [(NH_GMAIL, at(6, 9))], at(7), {NH_SCHOOL}),        # another address proves nothing
])
def test_which_addresses_are_suppressed(bounced, wrote, now, expected):
    assert suppressed_addresses(bounced, wrote, now) == expected


@pytest.mark.parametrize("suppressed, to, skipped", [
    (set(), (NH_SCHOOL, NH_GMAIL), None),
    ({NH_SCHOOL}, (NH_GMAIL,), None),                                # the other address still gets it
    ({NH_SCHOOL, NH_GMAIL}, None, "every roster address bounced"),   # nothing to send to
    ({"mnhoasen.q12@hcm-edu.example"}, (NH_SCHOOL, NH_GMAIL), None),      # another school's bounce
])
def test_a_reminder_leaves_out_suppressed_addresses(suppressed, to, skipped):
    now = at(3, 9)
    result = due_reminders(status_of(now=now), RULES, set(), now, suppressed)
    mine = [m.to for m in result.mails if m.school == NH]
    assert mine == ([to] if to else [])
    assert dict(result.skipped).get(NH) == skipped


@pytest.mark.parametrize("suppressed, from_addr, to", [
    (set(), NH_SCHOOL, (NH_SCHOOL, NH_GMAIL)),
    ({NH_GMAIL}, NH_SCHOOL, (NH_SCHOOL,)),
    ({NH_SCHOOL, NH_GMAIL}, "staff@yahoo.com", None),  # an unauthenticated sender outside the roster: never
    ({NH_SCHOOL, NH_GMAIL, "staff@yahoo.com"}, "staff@yahoo.com", None),  # nobody left: the items wait
])
def test_a_receipt_leaves_out_suppressed_addresses(suppressed, from_addr, to):
    items = [counted(1, at(5, 9), from_addr=from_addr)]
    status = status_of([item(1, at(5, 9))], now=at(5, 10))
    mails = due_receipts(status, RULES, items, (), at(5, 10), suppressed)
    assert [m.to for m in mails] == ([to] if to else [])


def test_digest_names_the_schools_no_address_reaches_and_marks_stopped_addresses():
    items = [item(1, at(2), ("to_trinh",), school="mn-hoa-sen")]
    bounces = (Bounce("mnhoasen.q12@hcm-edu.example", at(4), at(4), 1, "Undelivered Mail"),
               Bounce(NH_SCHOOL, at(4), at(4), 1, "Undelivered Mail"))
    inputs = DigestInputs(bounces=bounces, suppressed=frozenset({"mnhoasen.q12@hcm-edu.example"}))
    content = digest_content(status_of(items, now=at(5, 7)), RULES, inputs, ["c@x.vn"])
    (row,) = content["unreachable"].rows
    assert (row.school, row.emails) == ("MN Hoa Sen", ("mnhoasen.q12@hcm-edu.example",))
    assert row.missing == ("Báo cáo kết quả xây dựng đơn vị điển hình", "Biên bản họp xét, đề nghị")
    assert [(b.address, b.suppressed) for b in content["bounces"].rows] == [
        ("mnhoasen.q12@hcm-edu.example", True), (NH_SCHOOL, False)]


@pytest.mark.parametrize("items, corrections, before, expected", [
    ([item(1, at(4), ALL)], [], set(), ["THCS Nguyễn Hiền"]),                     # became complete
    ([item(1, at(4), ALL)], [], {NH}, []),                                        # already complete before
    ([item(1, at(4), ("to_trinh", "bao_cao"))], [], set(), []),                   # not complete yet
    ([], [corr(1, "exempt", NH)], set(), []),                                     # exempt is not a dossier
    ([item(1, at(4), ALL), item(2, at(4), ALL, school="mn-hoa-mai")], [], {NH}, ["MN Hoa Mai"]),
])
def test_digest_lists_schools_that_became_complete_since_the_previous_digest(items, corrections, before, expected):
    status = status_of(items, corrections, now=at(5, 7))
    content = digest_content(status, RULES, DigestInputs(complete_before=frozenset(before)), ["c@x.vn"])
    assert list(content["completed"].rows) == expected


# -- a file in review without a document type ----------------------------------------------

SCAN = item(9, at(4), (), decision="review", filename="scan0001.jpg", reasons=("không đọc được tiêu đề",))


def reject(id, item_id):
    return Correction(id, "reject", item_id, None, None, 2023, None, "mai", "không phải hồ sơ", "cli", at(5))


@pytest.mark.parametrize("items, corrections, reminded", [
    ([], [], True),
    ([SCAN], [], False),                                         # it may be the "missing" document: held
    ([SCAN, item(1, at(2), ("to_trinh",))], [], False),
    ([SCAN], [reject(1, 9)], True),                              # the coordinator decided it is nothing
    ([dataclasses.replace(SCAN, school=None)], [], True),        # not known to be this school's
    ([dataclasses.replace(SCAN, received_at=at(7, 10))], [], True),  # arrives after now
])
def test_a_school_whose_file_waits_in_review_without_a_type_is_not_chased(items, corrections, reminded):
    now = at(7, 9)                                               # the before-3 slot
    status = status_of(items, corrections, now)
    result = due_reminders(status, RULES, {key("before-7")}, now)
    assert (NH in {m.school for m in result.mails}) == reminded
    assert (still_wanted(status, NH, DEADLINE.isoformat()) is None) == reminded


def test_the_digest_says_the_reminder_waits_for_the_file_in_review():
    content = digest_content(status_of([SCAN], now=at(5, 9)), RULES, DigestInputs(), ["c@x.vn"],
                                  limits={"missing": 400})
    (row,) = content["review"].rows
    assert row.reminder_held and row.filename == "scan0001.jpg"
    (school_row,) = [s for g in content["missing_groups"] for s in g.schools if s.code == NH]
    assert school_row.untyped_review == ("R9",) and school_row.reminder_held


# -- the digest's figures and wording --------------------------------------------------------

def test_digest_headline_counts_exempt_schools_as_complete_like_status_json_and_says_how_many():
    status = status_of([item(1, at(4), ALL)], [corr(1, "exempt", "th-le-van-tho")], now=at(5, 9))
    summary = to_json(status)["summary"]
    h = digest_content(status, RULES, DigestInputs(), ["c@x.vn"])["headline"]
    assert (h.complete, h.exempt) == (summary["complete"], summary["exempt"]) == (2, 1)


@pytest.mark.parametrize("error, expected", [
    ("recipients refused: a@b.vn: (550, b'5.1.1 <a@b.vn>: Recipient address rejected: User unknown')",
     "recipients refused: a@b.vn: 550 5.1.1 <a@b.vn>: Recipient address rejected: User unknown"),
    ("SMTP refused the message: 554 5.7.1\n  spam detected", "SMTP refused the message: 554 5.7.1 spam detected"),
    ("x" * 400, "x" * 159 + "…"),
    ("", ""),
])
def test_a_sending_error_is_shown_short(error, expected):
    assert short_error(error) == expected


def test_outbox_problems_name_the_kind_in_vietnamese():
    problems = tuple(OutboxProblem(n, kind, NH, "failed", "s", "550 no", 3)
                     for n, kind in enumerate(("receipt", "reminder", "digest", "reply"), 1))
    content = digest_content(status_of(now=at(5, 9)), RULES, DigestInputs(outbox_problems=problems), ["c@x"])
    assert [o.kind_name for o in content["outbox"].rows] == ["biên nhận", "thư nhắc", "thư tổng hợp", "trả lời"]


def test_a_receipt_knows_how_many_days_the_schools_deadline_has_passed():
    (late,) = receipts_at(at(14, 10), [counted(1, at(14, 9), ("to_trinh", "bao_cao"))])
    assert late.context["overdue"] and late.context["overdue_days"] == 4
    (on_time,) = receipts_at(at(5, 10), [counted(1, at(5, 9), ("to_trinh", "bao_cao"))])
    assert not on_time.context["overdue"] and on_time.context["overdue_days"] == 0
    # an extension moves the school's deadline: not overdue yet
    items = [item(1, at(14, 9), ("to_trinh",))]
    status = status_of(items, [corr(1, "extend", NH, "2023-10-20T23:59:59+07:00")], now=at(14, 10))
    (extended,) = due_receipts(status, RULES, [counted(1, at(14, 9))], (), at(14, 10))
    assert not extended.context["overdue"] and extended.context["extended"]


def test_receipt_lines_of_a_combined_pdf_carry_their_pages():
    parts = [dataclasses.replace(counted(i, at(5, 9), (d,), filename="document.pdf"), first_page=a, last_page=b,
                                 parts=3)
             for i, (d, a, b) in enumerate([("to_trinh", 1, 1), ("bao_cao", 2, 4), ("bien_ban", 5, 6)], start=1)]
    (mail,) = receipts_at(at(5, 10), parts + [counted(4, at(5, 9), ("ke_hoach",))])
    assert [(l.filename, l.pages, l.first_page, l.last_page) for l in mail.context["lines"]] == [
        ("document.pdf", True, 1, 1), ("document.pdf", True, 2, 4), ("document.pdf", True, 5, 6),
        ("f4.pdf", False, 1, 1)]


# -- a queued receipt decided again just before sending -------------------------------

def _burst(address, last, until):
    from bot.flood import Burst
    return Burst(address, 10, last - timedelta(minutes=9), last, until)


@pytest.mark.parametrize("recipients, suppressed, bursts, expected", [
    (("a@x", "b@y"), set(), [], ("send", ("a@x", "b@y"), None)),
    (("a@x", "b@y"), {"a@x"}, [], ("replace", ("b@y",), None)),
    (("A@x", "b@y"), set(), [_burst("a@x", at(7, 9), at(7, 10))], ("replace", ("b@y",), None)),
    (("a@x",), set(), [_burst("a@x", at(7, 9), at(7, 10))], ("defer", (), at(7, 10))),
    (("a@x",), set(), [_burst("a@x", at(7, 7), at(7, 8, 30))], ("send", ("a@x",), None)),  # cool-down over
    (("a@x", "b@y"), set(), [_burst("a@x", at(7, 9), at(7, 10)), _burst("b@y", at(7, 9), at(7, 9, 30))],
     ("defer", (), at(7, 9, 30))),                                    # the first address free again
    (("a@x", "b@y"), {"a@x"}, [_burst("b@y", at(7, 9), at(7, 10))], ("defer", (), at(7, 10))),
    (("a@x", "b@y"), {"a@x", "b@y"}, [], ("cancel", (), None)),
])
def test_a_queued_receipt_leaves_out_bounced_and_bursting_recipients(recipients, suppressed, bursts, expected):
    decision = recheck_receipt(recipients, suppressed, bursts, at(7, 9, 5))
    assert (decision.action, decision.to, decision.until) == expected
    if decision.action == "cancel":
        assert decision.reason.startswith("every recipient bounced: a@x, b@y")


# -- the review queue as the coordinator decides it (issue 17) -------------------------------

@pytest.mark.parametrize("reason, filename, doc_types, expected", [
    # probably this campaign: why a person must look, in a few words
    ("tệp scan nhưng OCR đang tắt; đoán loại văn bản từ tên tệp 'scan.pdf'", "scan0001.pdf", ("bao_cao",),
     (True, "Báo cáo", "scan_no_text", "")),
    ("OCR không đọc được chữ nào trong ảnh; địa chỉ gửi có trong danh sách trường", "IMG_1.jpg", (),
     (True, "", "photo_no_text", "")),
    ("không nhận ra loại văn bản (đầu văn bản không có tiêu đề hay số ký hiệu); chữ đọc bằng OCR (có thể nhận dạng sai)",
     "IMG_2.JPG", ("bao_cao",), (True, "Báo cáo", "photo_no_type", "")),
    ("không nhận ra loại văn bản (đầu văn bản không có tiêu đề hay số ký hiệu)", "bc.docx", (),
     (True, "", "no_type", "")),
    ("thư nói có gửi văn bản nhưng không có tệp đính kèm; tên người gửi ghi MN Hoa Mai", "", (),
     (True, "", "no_attachment", "")),
    ("độ tin cậy 0,55 dưới ngưỡng 0,70; tiêu đề 'TỜ TRÌNH' ở đầu văn bản", "tt.pdf", ("to_trinh",),
     (True, "Tờ trình", "low_confidence", "")),
    ("tiêu đề là Biên bản họp xét, đề nghị nhưng số ký hiệu là Tờ trình đề nghị công nhận", "bb.docx",
     ("bien_ban",), (True, "Biên bản", "type_conflict", "")),
    ("mâu thuẫn: đầu văn bản ghi THCS Nguyễn Trãi, không phải THCS Nguyễn Hiền", "tt.pdf", ("to_trinh",),
     (True, "Tờ trình", "school_conflict", "")),
    ("PDF được bảo vệ bằng mật khẩu", "hs.pdf", (), (True, "", "encrypted", "")),
    ("không thấy từ ngữ nào của đợt này; tiêu đề '.BIÊN-BẢN' ở đầu văn bản; chữ đọc bằng OCR (có thể nhận dạng sai)",
     "IMG_3.jpg", ("bien_ban",), (True, "Biên bản", "photo_unclear_topic", "")),
    ("một lý do hiếm gặp mà bot chưa có cách nói ngắn", "x.pdf", ("bien_ban",),
     (True, "Biên bản", "other", "một lý do hiếm gặp mà bot chưa có cách nói ngắn")),
    # probably not this campaign or year
    ("chưa chắc thuộc đợt này: có từ ngữ về y tế trường học, từ ngữ của đợt này chỉ có 'an ninh'", "bc.pdf",
     ("bao_cao",), (False, "Báo cáo", "topic", "y tế trường học")),
    ("không nhận ra trường (địa chỉ gửi x@gmail.com không có trong danh sách trường); không thấy từ ngữ nào của đợt này",
     "HoaDon.pdf", (), (False, "", "no_topic", "")),
    ("văn bản ghi ngày 12/11/2024, sau ngày nhận (05/10/2023)", "bc.pdf", ("bao_cao",),
     (False, "Báo cáo", "future_date", "12/11/2024")),
    ("văn bản ghi ngày 15/10/2023, sau ngày nhận (10/10/2023) 5 ngày: coi là ghi ngày trước, vẫn tính; "
     "độ tin cậy 0,6 dưới ngưỡng 0,7", "bc.pdf", ("bao_cao",), (True, "Báo cáo", "low_confidence", "")),
    ("văn bản ghi ngày 05/10/2023 nhưng nói về năm học 2020-2021", "bc.pdf", ("bao_cao",),
     (False, "Báo cáo", "old_year", "năm học 2020-2021")),
])
def test_the_bots_guess_about_a_file_in_review_in_a_few_words(reason, filename, doc_types, expected):
    g = review_guess(reason, filename, doc_types, CAMPAIGN)
    assert (g.likely, g.doc, g.cause, g.label) == expected
    assert g.from_filename == ("đoán loại văn bản từ tên tệp" in reason)   # said: "Báo cáo (theo tên tệp)"


@pytest.mark.parametrize("school, doc_types, likely, expected", [
    (NH, ("bao_cao",), True, ["duyệt R17", "bỏ R17"]),                 # the guess is complete: "duyệt R17" takes it
    (NH, ("bao_cao",), False, ["bỏ R17", "duyệt R17"]),                # probably not this campaign: reject first
    (NH, (), True, [f"duyệt R17 {NH} <loại hồ sơ>", "bỏ R17"]),
    (NH, ("to_trinh", "bao_cao"), True, [f"duyệt R17 {NH} <loại hồ sơ>", "bỏ R17"]),
    (None, (), False, ["bỏ R17", "duyệt R17 <mã trường> <loại hồ sơ>"]),
])
def test_each_file_in_review_has_the_reply_that_settles_it(school, doc_types, likely, expected):
    assert suggested_replies("R17", school, doc_types, likely) == expected


@pytest.mark.parametrize("refs, expected", [
    (["R12"], "bỏ R12"),
    (["R14", "R12", "R13"], "bỏ R12-R14"),
    (["R12", "R13", "R15", "R16", "R17", "R30"], "bỏ R12 R13 R15-R17 R30"),
    ([], ""),
])
def test_one_line_for_several_files_names_exactly_those_files(refs, expected):
    from bot.commands import parse_line

    line = batch_reply("bỏ", refs)
    assert line == expected
    if refs:
        assert sorted(parse_line(line).refs, key=lambda r: int(r[1:])) == sorted(set(refs), key=lambda r: int(r[1:]))


def _review_rows(likely: int, unlikely: int) -> list[ReviewRow]:
    rows = []
    for n in range(likely + unlikely):
        ok = n < likely
        rows.append(ReviewRow(f"R{n + 1}", "THCS Nguyễn Hiền", NH, (), "f.pdf", NH_SCHOOL, at(4), "",
                              ReviewGuess(ok, "Báo cáo", "low_confidence"),
                              tuple(suggested_replies(f"R{n + 1}", NH, ("bao_cao",) if n % 2 else (), ok)), False))
    return rows


@pytest.mark.parametrize("likely, unlikely, limit, shown", [
    (74, 36, 10, (7, 3)),   # both long: the second group keeps a third
    (2, 36, 10, (2, 8)),    # few likely ones: the rest of the room goes to the others
    (74, 0, 10, (10, 0)),
    (3, 2, 10, (3, 2)),
])
def test_the_review_section_shows_likely_files_first_and_at_most_limit_entries(likely, unlikely, limit, shown):
    section = review_sections(_review_rows(likely, unlikely), limit)
    assert (len(section.likely.rows), len(section.unlikely.rows)) == shown
    assert section.rows == section.likely.rows + section.unlikely.rows
    assert section.more == likely + unlikely - sum(shown)
    assert all(r.guess.likely for r in section.likely.rows)
    # one line settles the group: every shown file whose guess is complete, or every unlikely one
    complete = [r.ref for r in section.likely.rows if r.replies[0] == f"duyệt {r.ref}"]
    if len(complete) > 1:
        assert section.likely.batch == batch_reply("duyệt", complete)
    assert section.likely.rows[:len(complete)] == tuple(r for r in section.likely.rows if r.ref in complete)
    if shown[1] > 1:
        assert section.unlikely.batch == batch_reply("bỏ", [r.ref for r in section.unlikely.rows])


def test_todays_decisions_come_with_their_counts_and_only_when_there_is_one():
    todo = todo_list(110, 74, [{"school": "MN Hoa Sen"}], 2, 1, 0, True, 4)
    assert [(t.kind, t.count) for t in todo] == [("review", 110), ("unreachable", 1), ("quarantined", 2),
                                                  ("report", 4), ("outbox", 1)]
    assert todo[0].likely == 74 and todo[0].unlikely == 36
    assert todo_list(0, 0, [], 0, 0, 0, False, 10) == []


def test_the_digest_shows_at_most_the_configured_entries_per_section():
    items = [item(100 + n, at(2 + n % 5), ("bao_cao",) if n % 3 else (), school=NH, decision="review",
                  reasons=("tệp scan nhưng OCR đang tắt",)) for n in range(40)]
    content = digest_content(status_of(items, now=at(11, 7)), RULES, DigestInputs(), ["c@x.vn"],
                                  limits=digest_limits(6))
    assert len(content["review"].rows) == 6 and content["review"].more == 34
    assert sum(len(g.schools) for g in content["missing_groups"]) == 6 and content["missing_more"] == 21
    assert [t.kind for t in content["todo"]] == ["review", "report"]
    assert digest_limits()["review"] == DEFAULT_ENTRIES == 10
