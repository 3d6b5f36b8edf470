"""`bot eval` on official copies (issue 16): the corpus's `official` preset
carries true labels, and the scorer counts what the issue's "done when" asks:
evidence precision, draft recall, and the two counts that must stay zero."""
from __future__ import annotations

import email
import json
import unicodedata
from datetime import datetime, timezone
from email import policy

import pytest

from bot.evaluate.official_copies import format_official_report, has_official_labels, score_official
from bot.official import TrustRoots, read_signatures
from tests.corpus.generate import generate


def label(*entries):
    return {"0001.eml": {"message_id": "<m1@x>", "kind": "official", "attachments": [
        {"filename": name, "first_page": 1, "last_page": 1, "school": "thcs-nguyen-hien", "doc_types": ["to_trinh"],
         "campaign": True, "official": truth, "variant": variant, "signature": sig,
         "draft": variant in ("word", "text_pdf")} for name, variant, truth, sig in entries]}}


def row(name, official, signature=None, decision="counted"):
    ds = None if signature is None else {"signer": "A", "organisation": "B", "signed_at": None,
                                         "intact": signature != "broken", "covers_whole_file": True,
                                         "modified_after_signing": signature == "modified", "trusted": None}
    return {"message_id": "<m1@x>", "filename": name, "first_page": 1, "decision": decision,
            "evidence": {"official": official, "digital_signature": ds, "problems": []}}


@pytest.mark.parametrize("variant, truth, sig, got, ds, counts", [
    # (what the document is) -> (what the bot said) -> the counters that move
    ("signed", True, "valid", True, "ok", {"called_official": 1, "called_official_right": 1, "truly_official_called": 1}),
    ("signed", True, "valid", False, "broken", {"valid_called_invalid": 1}),
    ("signed", True, "valid", None, None, {"valid_called_invalid": 1, "undecided": 1}),  # signature not seen
    ("signed_page_added", False, "tampered", False, "modified", {}),
    ("signed_page_added", False, "tampered", False, "ok", {"modified_called_valid": 1}),  # reported intact
    ("signed_bytes_edited", False, "tampered", True, "broken",
     {"modified_called_valid": 1, "called_official": 1}),                                # called official
    ("signed_expired_when_signed", False, "invalid", True, "ok", {"invalid_called_official": 1, "called_official": 1}),
    ("word", False, "", False, None, {"drafts_flagged": 1}),
    ("word", False, "", None, None, {"undecided": 1}),                                   # a draft not flagged
    ("scan_stamped", True, "", None, None, {"undecided": 1}),
    ("scan_unstamped", False, "", True, None, {"called_official": 1}),                   # precision drops
])
def test_each_verdict_moves_the_right_counter(variant, truth, sig, got, ds, counts):
    m = score_official(label(("a.pdf", variant, truth, sig)), [row("a.pdf", got, ds)])
    moving = ("called_official", "called_official_right", "truly_official_called", "drafts_flagged",
              "valid_called_invalid", "modified_called_valid", "invalid_called_official", "undecided")
    assert {k: getattr(m, k) for k in moving if getattr(m, k)} == counts
    assert m.checked == m.labelled == 1
    assert m.must_be_zero == sum(counts.get(k, 0) for k in ("valid_called_invalid", "modified_called_valid",
                                                            "invalid_called_official"))


@pytest.mark.parametrize("variant, tags, no_vote, missing, asks_sent", [
    ("scan_stamped", [], False, ["number"], 1),                  # a stamped scan asked for the number it has
    ("scan_stamped", ["blank_number"], False, ["number"], 0),    # the number really is blank
    ("scan_stamped", [], False, ["minutes_parts"], 1),           # asked for the vote the minutes records
    ("scan_stamped", [], True, ["minutes_parts"], 0),            # no vote: the ask is right
    ("scan_unstamped", [], False, ["signed_or_stamped"], 0),     # no seal: the ask is right
])
def test_receipts_asking_for_what_the_school_sent_are_counted(variant, tags, no_vote, missing, asks_sent):
    labels = label(("a.pdf", variant, False, ""))
    labels["0001.eml"]["attachments"][0].update(tags=tags, no_vote=no_vote)
    r = row("a.pdf", False)
    r["evidence"]["missing"] = missing
    m = score_official(labels, [r])
    assert (m.asks, m.asks_sent) == (1, asks_sent)
    assert f"asking for what the school did send: {asks_sent}" in format_official_report(m)


def test_a_corpus_without_the_official_truth_gets_no_official_figures():
    plain = {"0001.eml": {"message_id": "<m1@x>", "attachments": [{"filename": "a.pdf", "campaign": True,
                                                                 "doc_types": ["to_trinh"]}]}}
    assert not has_official_labels(plain) and has_official_labels(label(("a.pdf", "word", False, "")))
    assert score_official(plain, [row("a.pdf", True)]).labelled == 0


def test_figures_and_report():
    labels = label(("a.pdf", "signed", True, "valid"), ("b.docx", "word", False, ""),
                   ("c.pdf", "scan_unstamped", False, ""), ("d.pdf", "text_pdf", False, ""),
                   ("e.pdf", "signed", True, "valid"))
    rows = [row("a.pdf", True, "ok"), row("b.docx", False), row("c.pdf", True), row("d.pdf", None),
            row("e.pdf", None, decision="review") | {"evidence": None}]
    m = score_official(labels, rows)
    assert (m.precision, m.draft_recall, m.not_checked) == (0.5, 0.5, 1)
    text = format_official_report(m)
    assert "evidence precision         50.0%  (1/2 called official are official)" in text
    assert "called_official          0001.eml 'c.pdf' (scan_unstamped): expected False, got True" in text
    assert text.index("called_official ") < text.index("undecided    ")  # the wrong ones first


def test_the_official_preset_labels_are_true(tmp_path):
    """What the labels claim of signed PDFs holds for the signature reader; every variant is labelled."""
    out = tmp_path / "c"
    labels = generate(out, seed=5, n=8, preset="official")
    assert has_official_labels(labels)
    now = datetime(2023, 10, 12, tzinfo=timezone.utc)
    seen = 0
    for name, lab in labels.items():
        msg = email.message_from_bytes((out / name).read_bytes(), policy=policy.default)
        files = {unicodedata.normalize("NFC", p.get_filename()): p.get_content() for p in msg.iter_attachments()}
        for e in lab["attachments"]:
            assert set(e) >= {"official", "variant", "signature", "draft", "no_vote"} and e["campaign"]
            assert e["filename"] in files
            if e["signature"]:
                seen += 1
                report = read_signatures(files[e["filename"]], TrustRoots(), now)
                assert report.valid == (e["signature"] == "valid"), (name, e["variant"])
            if e["official"]:
                assert e["variant"] in ("signed", "signed_two", "scan_stamped", "photo_stamped")
                assert not e["no_vote"]
    assert seen
    assert json.loads((out / "labels.json").read_text()) == labels
