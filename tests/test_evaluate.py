"""Scoring the bot's export rows against corpus labels (bot.evaluate)."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from bot.evaluate.classification import format_report, score
from bot.evaluate.labels import normalise_filename, normalise_message_id
from bot.evaluate.statuses import StatusCell, first_receipts, format_status_report, score_status, season_end, true_status

# A small corpus: one complete dossier (a combined PDF split in two parts
# plus a ZIP member), one other-campaign report, one earlier-year dossier.
LABELS = {
    "0001.eml": {
        "message_id": "<a1@hcm-edu.example>", "kind": "submission",
        "attachments": [
            {"filename": "Hồ sơ ANTQ.pdf", "first_page": 1, "last_page": 1, "school": "thcs-nguyen-trai",
             "doc_types": ["to_trinh"], "campaign": True, "topic": "antq", "year": 2023},
            {"filename": "Hồ sơ ANTQ.pdf", "first_page": 2, "last_page": 4, "school": "thcs-nguyen-trai",
             "doc_types": ["bao_cao"], "campaign": True, "topic": "antq", "year": 2023},
            {"filename": "Ho so/Biên bản.docx", "container": "zip:hoso.zip", "first_page": 1, "last_page": 1,
             "school": "thcs-nguyen-trai", "doc_types": ["bien_ban"], "campaign": True, "topic": "antq",
             "year": 2023},
        ],
    },
    "0002.eml": {
        "message_id": "<b2@hcm-edu.example>", "kind": "other_campaign",
        "attachments": [{"filename": "BC PCCC.pdf", "first_page": 1, "last_page": 1, "school": "th-kim-dong",
                         "doc_types": ["bao_cao"], "campaign": False, "topic": "pccc", "year": 2023}],
    },
    "0003.eml": {
        "message_id": "<c3@hcm-edu.example>", "kind": "earlier_year",
        "attachments": [{"filename": "Tờ trình 2022.pdf", "first_page": 1, "last_page": 1,
                         "school": "mn-son-ca-6", "doc_types": ["to_trinh"], "campaign": False, "topic": "antq",
                         "year": 2022}],
    },
    "0004.eml": {"message_id": "<d4@x>", "kind": "auto_reply", "attachments": []},
}


def row(mid, filename, school, types, decision="counted", first_page=1, reasons=()):
    return {"message_id": mid, "filename": filename, "school": school, "doc_types": list(types),
            "campaign": decision == "counted", "decision": decision, "reasons": list(reasons),
            "first_page": first_page, "last_page": first_page}


PERFECT = [
    row("<a1@hcm-edu.example>", "Hồ sơ ANTQ.pdf", "thcs-nguyen-trai", ["to_trinh"]),
    row("<a1@hcm-edu.example>", "Hồ sơ ANTQ.pdf", "thcs-nguyen-trai", ["bao_cao"], first_page=2),
    row("<a1@hcm-edu.example>", "Ho so/Biên bản.docx", "thcs-nguyen-trai", ["bien_ban"]),
    row("<b2@hcm-edu.example>", "BC PCCC.pdf", "th-kim-dong", ["bao_cao"], "ignored", reasons=["not this campaign"]),
    row("<c3@hcm-edu.example>", "Tờ trình 2022.pdf", "mn-son-ca-6", ["to_trinh"], "ignored"),
]


def replace_row(rows, i, **changes):
    out = [dict(r) for r in rows]
    out[i].update(changes)
    return out


CASES = [
    # name, rows, expected metric values, expected error kinds
    ("perfect run", PERFECT,
     dict(counted=3, school_precision=1.0, type_precision=1.0, recall=1.0, review_rate=0.0,
          wrong_campaign_counted=0), []),
    ("wrong school counted (TH instead of THCS Nguyễn Trãi)",
     replace_row(PERFECT, 0, school="th-nguyen-trai"),
     dict(counted=3, school_correct=2, type_precision=1.0, genuine_found=2, wrong_campaign_counted=0,
          genuine_school_found=2, genuine_type_found=3),
     ["wrong_school"]),
    ("right school, wrong type: school recall stays, type recall drops",
     replace_row(PERFECT, 1, doc_types=["bien_ban"]),
     dict(counted=3, genuine_found=2, school_recall=1.0, genuine_type_found=2),
     ["wrong_type"]),
    ("other-campaign report counted",
     replace_row(PERFECT, 3, decision="counted"),
     dict(counted=4, school_precision=1.0, other_campaign_counted=1, earlier_year_counted=0, recall=1.0),
     ["other_campaign_counted"]),
    ("earlier-year dossier counted",
     replace_row(PERFECT, 4, decision="counted"),
     dict(counted=4, earlier_year_counted=1, other_campaign_counted=0), ["earlier_year_counted"]),
    ("a genuine document sent to review",
     replace_row(PERFECT, 1, decision="review"),
     dict(counted=2, school_precision=1.0, genuine_review=1, genuine_found=2, review_rate=pytest.approx(1 / 3)),
     ["review"]),
    ("a missing row", PERFECT[1:],
     dict(counted=2, genuine_missing=1, genuine_found=2, recall=pytest.approx(2 / 3)), ["missing"]),
    ("a genuine document ignored", replace_row(PERFECT, 2, decision="ignored"),
     dict(genuine_ignored=1, genuine_found=2), ["ignored"]),
    ("wrong type counted (minutes called a report)",
     replace_row(PERFECT, 2, doc_types=["bao_cao"]),
     dict(counted=3, type_correct=2, school_precision=1.0, genuine_found=2), ["wrong_type"]),
    ("a counted row matching no label (an inline logo)",
     PERFECT + [row("<a1@hcm-edu.example>", "image001.png", "thcs-nguyen-trai", ["to_trinh"])],
     dict(counted=4, unlabelled_counted=1, school_correct=3, recall=1.0), ["unlabelled_counted"]),
    ("no rows at all", [], dict(counted=0, school_precision=1.0, recall=0.0, genuine_missing=3),
     ["missing", "missing", "missing"]),
]


@pytest.mark.parametrize("name,rows,expected,error_kinds", CASES, ids=[c[0] for c in CASES])
def test_score_cases(name, rows, expected, error_kinds):
    m = score(LABELS, rows)
    for attr, value in expected.items():
        assert getattr(m, attr) == value, f"{name}: {attr}"
    assert sorted(e.kind for e in m.errors) == sorted(error_kinds)
    assert m.genuine == 3


ROBUST_CASES = [
    ("message id without brackets, other case", dict(message_id="A1@hcm-edu.example")),
    ("NFD file name (Apple Mail)", dict(filename=unicodedata.normalize("NFD", "Hồ sơ ANTQ.pdf"))),
    ("ZIP member reported without its folder", None),
    ("part reported by a page inside its range", dict(first_page=3)),
]


@pytest.mark.parametrize("name,change", ROBUST_CASES, ids=[c[0] for c in ROBUST_CASES])
def test_matching_is_robust(name, change):
    rows = [dict(r) for r in PERFECT]
    if change is None:
        rows[2]["filename"] = "Biên bản.docx"
        target = 2
    else:
        target = 1 if "first_page" in change else 0
        rows[target].update(change)
    m = score(LABELS, rows)
    assert m.recall == 1.0, format_report(m)
    assert m.school_precision == 1.0 and m.type_precision == 1.0


def test_combined_pdf_reported_as_one_row_matches_first_part():
    rows = [row("<a1@hcm-edu.example>", "Hồ sơ ANTQ.pdf", "thcs-nguyen-trai", ["to_trinh"])]
    m = score(LABELS, rows)
    assert m.genuine_found == 1
    assert {e.kind for e in m.errors} == {"missing"}


def test_doc_types_as_string_and_missing_page_fields():
    rows = [{"message_id": "<a1@hcm-edu.example>", "filename": "Hồ sơ ANTQ.pdf", "school": "thcs-nguyen-trai",
             "doc_types": "to_trinh", "decision": "counted", "reasons": "title TỜ TRÌNH"}]
    m = score(LABELS, rows)
    assert m.type_precision == 1.0 and m.genuine_found == 1


def test_normalisers():
    assert normalise_message_id(" <Ab@X> ") == "ab@x"
    assert normalise_filename(unicodedata.normalize("NFD", " Tờ trình.pdf ")) == "Tờ trình.pdf"


def test_format_report_lists_errors():
    m = score(LABELS, replace_row(PERFECT, 3, decision="counted", reasons=["keyword ANTT"]))
    text = format_report(m)
    assert "other campaign counted         1" in text
    assert "0002.eml" in text and "keyword ANTT" in text
    assert "school precision" in text and "100.0%" in text


def test_two_files_with_one_name_are_told_apart_by_type():
    # Phone scanner apps name files by the minute: two documents, one name.
    labels = {"0001.eml": {"message_id": "<a@x>", "kind": "submission", "attachments": [
        {"filename": "CamScanner 07-10-2023 12.12.pdf", "first_page": 1, "last_page": 2, "school": "mn-son-ca-6",
         "doc_types": ["bao_cao"], "campaign": True, "topic": "antq", "year": 2023},
        {"filename": "CamScanner 07-10-2023 12.12.pdf", "first_page": 1, "last_page": 2, "school": "mn-son-ca-6",
         "doc_types": ["ke_hoach"], "campaign": True, "topic": "antq", "year": 2023}]}}
    rows = [row("<a@x>", "CamScanner 07-10-2023 12.12.pdf", "mn-son-ca-6", ["ke_hoach"]),
            row("<a@x>", "CamScanner 07-10-2023 12.12.pdf", "mn-son-ca-6", ["bao_cao"])]
    m = score(labels, rows)
    assert (m.type_precision, m.recall) == (1.0, 1.0), format_report(m)
    m = score(labels, rows[:1])  # one of them lost: a missing document, not a wrong type
    assert m.type_precision == 1.0 and [e.kind for e in m.errors] == ["missing"]


# --------------------------------------------------------------------------
# The status matrix: status --json against the truth of the labels
# --------------------------------------------------------------------------

DEADLINE = "2023-10-10T23:59:59+07:00"


def _genuine(school, doc_type, **extra):
    return {"filename": f"{doc_type}.pdf", "school": school, "doc_types": [doc_type], "campaign": True,
            "topic": "antq", "year": 2023, **extra}


SEASON = {
    "0001.eml": {"message_id": "<1@x>", "kind": "submission", "received_at": "2023-10-05T09:00:00+07:00",
                 "attachments": [_genuine("a", "to_trinh"), _genuine("a", "bao_cao"), _genuine("a", "bien_ban")]},
    # the first copy decides: a late resubmission does not make it late
    "0002.eml": {"message_id": "<2@x>", "kind": "resubmission", "received_at": "2023-10-12T09:00:00+07:00",
                 "attachments": [_genuine("a", "bao_cao")]},
    # b: one document at the deadline's last second, one a second after it; a page continuing it is no document
    "0003.eml": {"message_id": "<3@x>", "kind": "submission", "received_at": DEADLINE,
                 "attachments": [_genuine("b", "to_trinh"), _genuine("b", "bien_ban", continues="p1.jpg")]},
    "0004.eml": {"message_id": "<4@x>", "kind": "submission", "received_at": "2023-10-11T00:00:00+07:00",
                 "attachments": [_genuine("b", "bao_cao")]},
    # c: only another campaign's report and another issuer's plan: missing
    "0005.eml": {"message_id": "<5@x>", "kind": "other_campaign", "received_at": "2023-10-20T08:00:00+07:00",
                 "attachments": [{"filename": "x.pdf", "school": "c", "doc_types": ["bao_cao"], "campaign": False,
                                  "topic": "pccc", "year": 2023},
                                 {"filename": "KH PGD.pdf", "school": "c", "doc_types": ["ke_hoach"],
                                  "campaign": False, "issuer": "Phòng GD&ĐT", "topic": "issuer_office"}]},
}


def _status(cells: dict, now="2023-10-20T08:00:00+07:00", exempt=()):
    """A status --json with the given {school: {doc: status}}."""
    return {"campaign": {"required": ["to_trinh", "bao_cao", "bien_ban"]}, "now": now,
            "schools": [{"code": code, "deadline": DEADLINE, "exempt": code in exempt,
                         "documents": {d: {"status": st} for d, st in docs.items()}}
                        for code, docs in cells.items()]}


TRUTH = {"a": {"to_trinh": "on_time", "bao_cao": "on_time", "bien_ban": "on_time"},
         "b": {"to_trinh": "on_time", "bao_cao": "late", "bien_ban": "missing"},
         "c": {"to_trinh": "missing", "bao_cao": "missing", "bien_ban": "missing"}}


def test_the_truth_is_the_first_genuine_copy_of_each_document():
    assert first_receipts(SEASON) == {("a", "to_trinh"): "2023-10-05T09:00:00+07:00",
                                      ("a", "bao_cao"): "2023-10-05T09:00:00+07:00",
                                      ("a", "bien_ban"): "2023-10-05T09:00:00+07:00",
                                      ("b", "to_trinh"): DEADLINE, ("b", "bao_cao"): "2023-10-11T00:00:00+07:00"}
    assert season_end(SEASON) == "2023-10-20T08:00:00+07:00"
    # mail that has not arrived yet at the time of the status does not exist
    assert set(first_receipts(SEASON, until=DEADLINE)) == {("a", "to_trinh"), ("a", "bao_cao"), ("a", "bien_ban"),
                                                           ("b", "to_trinh")}


@pytest.mark.parametrize("first, at, exempt, grace, expected", [
    ("2023-10-10T23:59:59+07:00", "2023-10-20T00:00:00+07:00", False, 0, "on_time"),
    ("2023-10-11T00:00:00+07:00", "2023-10-20T00:00:00+07:00", False, 0, "late"),
    ("2023-10-11T00:00:00+07:00", "2023-10-20T00:00:00+07:00", False, 60, "on_time"),   # within the grace
    (None, "2023-10-20T00:00:00+07:00", False, 0, "missing"),
    (None, "2023-10-09T00:00:00+07:00", False, 0, "pending"),                             # before the deadline
    (None, "2023-10-20T00:00:00+07:00", True, 0, "exempt"),
    ("2023-10-12T00:00:00+07:00", "2023-10-20T00:00:00+07:00", True, 0, "late"),         # sent all the same
])
def test_true_status(first, at, exempt, grace, expected):
    assert true_status(first, DEADLINE, at, exempt, grace) == expected


@pytest.mark.parametrize("bot, wrong", [
    (TRUTH, []),
    # a false "received" hides a gap; a document waiting in review is not right yet; a needless reminder
    ({**TRUTH, "b": {**TRUTH["b"], "bien_ban": "on_time"}}, [StatusCell("b", "bien_ban", "missing", "on_time")]),
    ({**TRUTH, "a": {**TRUTH["a"], "bao_cao": "review"}}, [StatusCell("a", "bao_cao", "on_time", "review")]),
    ({**TRUTH, "c": {**TRUTH["c"], "to_trinh": "late"}, "b": {**TRUTH["b"], "bao_cao": "missing"}},
     [StatusCell("b", "bao_cao", "late", "missing"), StatusCell("c", "to_trinh", "missing", "late")]),
])
def test_status_matrix_cells(bot, wrong):
    m = score_status(SEASON, _status(bot))
    assert (m.cells, m.right, list(m.wrong)) == (9, 9 - len(wrong), wrong)
    report = format_status_report(m)
    assert f"cells right               {m.accuracy:6.1%}  ({9 - len(wrong)}/9)" in report
    for cell in wrong:
        assert f"{cell.school:24s} {cell.doc_type:10s} expected {cell.expected:8s} got {cell.got}" in report


def test_an_exempt_school_is_right_when_reported_exempt():
    bot = {**TRUTH, "c": {d: "exempt" for d in TRUTH["c"]}}
    assert score_status(SEASON, _status(bot, exempt=("c",))).right == 9


ROOT = Path(__file__).resolve().parents[1]


def test_eval_command_runs_the_pipeline_on_a_corpus(tmp_path, capsys):
    """``python -m bot eval``: poll the folder into a fresh state, score, print; the state is kept on request."""
    from bot.cli import main

    state = tmp_path / "state"
    code = main(["--config", str(tmp_path / "absent.toml"), "--now", "2023-10-12T08:00", "eval",
                 "--corpus", str(ROOT / "examples" / "inbox"), "--labels", str(ROOT / "examples" / "labels.json"),
                 "--keep-state", str(state), "--rows", str(tmp_path / "rows.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    # the bundled example is labelled by hand: every figure must stay perfect (a drop is a regression)
    # 49 = the 37 documents of the Word/PDF drafts + 4 schools x 3 digitally signed PDFs, all official
    for line in ("school precision          100.0%  (49/49)", "doc type precision        100.0%  (49/49)",
                 "school recall             100.0%  (49/49)", "doc type recall           100.0%  (49/49)",
                 "recall, genuine documents 100.0%  (49/49)", "other campaign counted         0",
                 "earlier year counted           0", "official called official  100.0%  (12/12)",
                 "valid signature invalid        0  (of 12; must be 0)",
                 "cells right               100.0%"):
        assert line in out, out
    rows = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))
    assert rows and all(r["reasons"] is not None for r in rows)
    assert (state / "bot.sqlite3").exists()
    # a kept state is never overwritten
    assert main(["eval", "--corpus", str(ROOT / "examples" / "inbox"), "--keep-state", str(state)]) == 2


def test_eval_exit_code_says_a_wrong_campaign_was_counted(tmp_path, monkeypatch, capsys):
    from bot.evaluate import corpus
    from bot.cli import main

    labels = {"0001.eml": {"message_id": "<b2@x>", "kind": "other_campaign", "attachments": [
        {"filename": "BC PCCC.pdf", "school": "th-kim-dong", "doc_types": ["bao_cao"], "campaign": False,
         "topic": "pccc", "year": 2023}]}}
    leaked = [row("<b2@x>", "BC PCCC.pdf", "th-kim-dong", ["bao_cao"])]
    monkeypatch.setattr(corpus, "evaluate_corpus", lambda *a, **k: corpus.CorpusRun(
        score(labels, leaked), leaked, str(tmp_path), 0.1))
    assert main(["eval", "--corpus", str(tmp_path)]) == 1
    assert "other campaign counted         1" in capsys.readouterr().out
