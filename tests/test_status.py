"""Status is a pure function of (facts, campaign, now): boundaries, versions, corrections."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.rules.load import load_rules
from bot.status import apply_corrections, compute_status, to_json
from bot.store import Correction, StoredItem

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RULES = load_rules(Path(__file__).resolve().parents[1] / "rules")
CAMPAIGN = RULES.campaign
SCHOOL = "thcs-nguyen-hien"


def item(id, when, doc_types=("to_trinh",), school=SCHOOL, decision="counted", campaign=True, reasons=()):
    return StoredItem(id=id, message_id=f"<m{id}@x>", from_addr="a@b.c", subject="s", received_at=when,
                      container="", filename=f"f{id}.pdf", part_index=0, first_page=1, last_page=1, school=school,
                      doc_types=tuple(doc_types), campaign=campaign, decision=decision, confidence=0.9,
                      reasons=tuple(reasons), cycle=CAMPAIGN.cycle_of(when), content_sha256="")


def corr(id, kind, *, item_id=None, school=None, doc_type=None, value=None, cycle=2023):
    return Correction(id, kind, item_id, school, doc_type, cycle, value, "mai", "because", "cli",
                      datetime(2023, 10, 1, tzinfo=VN))


def status_of(items, corrections=(), now=datetime(2023, 11, 1, 8, tzinfo=VN)):
    cycle = CAMPAIGN.cycle_of(now)
    facts = apply_corrections(items, corrections, CAMPAIGN, cycle, now)
    return compute_status(facts, CAMPAIGN, RULES.schools, cycle, now)


def school(status, code=SCHOOL):
    return next(s for s in status.schools if s.code == code)


@pytest.mark.parametrize("received, expected", [
    (datetime(2023, 10, 10, 23, 59, 59, tzinfo=VN), "on_time"),
    (datetime(2023, 10, 11, 0, 0, 0, tzinfo=VN), "late"),
    (datetime(2023, 10, 10, 16, 59, 59, tzinfo=timezone.utc), "on_time"),  # = 23:59:59 +07
    (datetime(2023, 10, 10, 17, 0, 0, tzinfo=timezone.utc), "late"),       # = 00:00:00 +07 on 11/10
    (datetime(2023, 8, 1, 0, 0, tzinfo=VN), "on_time"),                    # first instant of the cycle
])
def test_deadline_boundaries_in_local_time(received, expected):
    doc = school(status_of([item(1, received)])).documents["to_trinh"]
    assert doc.status == expected
    assert doc.received_at == received


def test_late_submission_keeps_by_how_much():
    doc = school(status_of([item(1, datetime(2023, 10, 12, 9, 30, tzinfo=VN))])).documents["to_trinh"]
    assert doc.status == "late"
    assert doc.late_by == timedelta(days=1, hours=9, minutes=30, seconds=1)


@pytest.mark.parametrize("now, expected", [
    (datetime(2023, 10, 10, 23, 59, 59, tzinfo=VN), "pending"),
    (datetime(2023, 10, 11, 0, 0, 0, tzinfo=VN), "missing"),
])
def test_not_received_is_pending_until_the_deadline_then_missing(now, expected):
    assert school(status_of([], now=now)).documents["bien_ban"].status == expected


def test_resubmission_after_deadline_does_not_turn_on_time_into_late():
    first = item(1, datetime(2023, 10, 5, 9, tzinfo=VN))
    corrected = item(2, datetime(2023, 10, 14, 9, tzinfo=VN))
    doc = school(status_of([corrected, first])).documents["to_trinh"]
    assert doc.status == "on_time"
    assert doc.versions == 2
    assert doc.received_at == first.received_at
    assert doc.last_received_at == corrected.received_at


def test_dossier_received_on_20_october_is_late_for_this_cycle_not_early_for_next():
    received = datetime(2023, 10, 20, 10, tzinfo=VN)
    assert CAMPAIGN.cycle_of(received) == 2023
    assert school(status_of([item(1, received)])).documents["to_trinh"].status == "late"


def test_complete_needs_every_required_document_but_not_the_optional_one():
    t = datetime(2023, 10, 5, 9, tzinfo=VN)
    st = status_of([item(1, t, ("to_trinh",)), item(2, t, ("bao_cao",)), item(3, t + timedelta(days=6), ("bien_ban",))])
    s = school(st)
    assert s.complete
    assert s.documents["bien_ban"].status == "late"
    assert s.documents["ke_hoach"].status == "missing"
    assert st.complete_count == 1


def test_extension_moves_one_schools_deadline_only():
    extended_until = datetime(2023, 10, 20, 23, 59, 59, tzinfo=VN).isoformat()
    received = datetime(2023, 10, 15, 9, tzinfo=VN)
    items = [item(1, received), item(2, received, school="thcs-nguyen-trai")]
    st = status_of(items, [corr(1, "extend", school=SCHOOL, value=extended_until)],
                   now=datetime(2023, 10, 16, tzinfo=VN))
    assert school(st).documents["to_trinh"].status == "on_time"
    assert school(st).documents["bao_cao"].status == "extended"
    assert school(st, "thcs-nguyen-trai").documents["to_trinh"].status == "late"
    assert school(st, "thcs-nguyen-trai").documents["bao_cao"].status == "missing"


def test_extension_that_has_passed_gives_missing():
    until = datetime(2023, 10, 20, 23, 59, 59, tzinfo=VN).isoformat()
    st = status_of([], [corr(1, "extend", school=SCHOOL, value=until)], now=datetime(2023, 10, 21, tzinfo=VN))
    assert school(st).documents["bao_cao"].status == "missing"


def test_exempt_school_is_complete_and_never_missing():
    st = status_of([], [corr(1, "exempt", school="mn-hoa-mai")])
    s = school(st, "mn-hoa-mai")
    assert s.complete and s.exempt == "because"
    assert {d.status for d in s.documents.values()} == {"exempt"}
    st = status_of([], [corr(1, "exempt", school="mn-hoa-mai"), corr(2, "unexempt", school="mn-hoa-mai")])
    assert not school(st, "mn-hoa-mai").complete


def test_review_item_is_not_missing_and_is_listed_with_its_reason():
    review = item(7, datetime(2023, 10, 9, tzinfo=VN), ("bien_ban",), decision="review",
                  reasons=("scanned document and OCR is not installed",))
    st = status_of([review])
    assert school(st).documents["bien_ban"].status == "review"
    assert [(r.ref, r.reason) for r in st.review] == [("R7", "scanned document and OCR is not installed")]


def test_assign_correction_counts_a_reviewed_item_and_survives_reclassification():
    when = datetime(2023, 10, 9, 15, tzinfo=VN)
    review = item(7, when, (), school=None, decision="review", reasons=("no title found",))
    assign = corr(1, "assign", item_id=7, school=SCHOOL, doc_type="bien_ban")
    st = status_of([review], [assign])
    assert school(st).documents["bien_ban"].status == "on_time"
    assert school(st).documents["bien_ban"].received_at == when
    assert st.review == ()
    # a re-poll re-classifies the item (same id): the correction still wins
    reclassified = item(7, when, ("bao_cao",), school="th-kim-dong", decision="counted")
    st = status_of([reclassified], [assign])
    assert school(st).documents["bien_ban"].status == "on_time"
    assert school(st, "th-kim-dong").documents["bao_cao"].status == "missing"


def test_reject_correction_uncounts_an_item():
    st = status_of([item(1, datetime(2023, 10, 5, tzinfo=VN))], [corr(1, "reject", item_id=1)])
    assert school(st).documents["to_trinh"].status == "missing"


def test_paper_delivery_counts_at_its_time():
    at = datetime(2023, 10, 9, 10, tzinfo=VN).isoformat()
    st = status_of([], [corr(1, "received", school=SCHOOL, doc_type="bao_cao", value=at)])
    doc = school(st).documents["bao_cao"]
    assert doc.status == "on_time" and doc.source == "paper"


def test_mail_received_after_now_does_not_exist_yet():
    later = item(1, datetime(2023, 10, 14, 9, tzinfo=VN))
    st = status_of([later], now=datetime(2023, 10, 12, 8, tzinfo=VN))
    assert school(st).documents["to_trinh"].status == "missing"
    st = status_of([later], now=datetime(2023, 10, 14, 9, tzinfo=VN))
    assert school(st).documents["to_trinh"].status == "late"


def test_ignored_and_other_cycle_items_do_not_count():
    old = item(1, datetime(2022, 10, 5, tzinfo=VN))
    other = item(2, datetime(2023, 10, 5, tzinfo=VN), campaign=False, decision="ignored")
    assert school(status_of([old, other])).documents["to_trinh"].status == "missing"


def test_json_shape():
    st = status_of([item(1, datetime(2023, 10, 5, 9, 12, tzinfo=VN))])
    data = to_json(st)
    assert data["campaign"] == {
        "id": "antq-dien-hinh", "name": CAMPAIGN.name, "cycle": 2023, "deadline": "2023-10-10T23:59:59+07:00",
        "report_deadline": "2023-10-15T23:59:59+07:00",
        "required": ["to_trinh", "bao_cao", "bien_ban"], "optional": ["ke_hoach"]}
    assert data["now"] == "2023-11-01T08:00:00+07:00"
    s = next(x for x in data["schools"] if x["code"] == SCHOOL)
    assert s["name"] == "THCS Nguyễn Hiền" and s["complete"] is False
    assert s["documents"]["to_trinh"]["status"] == "on_time"
    assert s["documents"]["to_trinh"]["received_at"] == "2023-10-05T09:12:00+07:00"
    # an item recorded before the official-copy check: not checked (null), never "unofficial"
    assert s["documents"]["to_trinh"]["official"] is None and s["documents"]["to_trinh"]["evidence"] is None
    assert s["documents"]["bao_cao"] == {"status": "missing", "official": None}
    assert len(data["schools"]) == len(RULES.schools)
    assert data["review"] == []


@pytest.mark.parametrize("items, corrections, untyped, statuses", [
    # a scan whose title could not be read: the school is known, the document type is not
    ([item(1, datetime(2023, 10, 5, tzinfo=VN), (), decision="review")], [], ("R1",),
     {"to_trinh": "missing", "bao_cao": "missing", "bien_ban": "missing"}),
    # with a type, the document itself is in review
    ([item(1, datetime(2023, 10, 5, tzinfo=VN), ("bien_ban",), decision="review")], [], (),
     {"to_trinh": "missing", "bao_cao": "missing", "bien_ban": "review"}),
    # no school: nothing to hold for anyone
    ([item(1, datetime(2023, 10, 5, tzinfo=VN), (), school=None, decision="review")], [], (),
     {"to_trinh": "missing", "bao_cao": "missing", "bien_ban": "missing"}),
    # the coordinator rejected it: it no longer waits
    ([item(1, datetime(2023, 10, 5, tzinfo=VN), (), decision="review")], [corr(1, "reject", item_id=1)], (),
     {"to_trinh": "missing", "bao_cao": "missing", "bien_ban": "missing"}),
    # it arrives after now: it does not exist yet
    ([item(1, datetime(2023, 11, 2, tzinfo=VN), (), decision="review")], [], (),
     {"to_trinh": "missing", "bao_cao": "missing", "bien_ban": "missing"}),
])
def test_a_file_in_review_without_a_document_type_is_recorded_for_its_school(items, corrections, untyped, statuses):
    s = school(status_of(items, corrections))
    assert s.untyped_review == untyped
    assert {d: s.documents[d].status for d in statuses} == statuses
    js = next(x for x in to_json(status_of(items, corrections))["schools"] if x["code"] == SCHOOL)
    assert js.get("untyped_review", []) == list(untyped)


def test_status_json_counts_exempt_schools_as_complete_and_says_how_many():
    summary = to_json(status_of([], [corr(1, "exempt", school=SCHOOL)]))["summary"]
    assert (summary["complete"], summary["exempt"]) == (1, 1)
