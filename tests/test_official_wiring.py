"""Official copies wired into the bot (issue 16): config, rules, the choice of
the deciding copy, completeness, the coordinator's settlement (command line
and mail), the export's columns, storage of the evidence and migration 7.

Pure decisions are tables of cases; storage runs on real SQLite."""
from __future__ import annotations

import json
import sqlite3
import tomllib
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import app
from bot.commands import parse_line
from bot.config.load import parse_config
from bot.errors import ConfigError, RulesError
from bot.extract.official import medium_of
from bot.model import Correction, DocumentPart, Extraction, StoredItem
from bot.official.policy import OfficialPolicy, Requirement
from bot.official.record import (OfficialInputs, evidence_from_dict, evidence_to_dict, inputs_from_dict,
                                 inputs_to_dict)
from bot.official.seal import PageSeal
from bot.official.signature import DigitalSignature, SignatureReport
from bot.official.verdict import Evidence, Medium
from bot.officialcopy import best_copy, cycle_window, document_official, evidence_for, json_columns, satisfies
from bot.rules.campaign import parse_campaign
from bot.rules.load import load_rules
from bot.schema import MIGRATIONS
from bot.status import apply_corrections, compute_status, to_json
from bot.store import Store

from . import docfactory as df
from . import officialfactory as of
from . import rawdb

ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules(ROOT / "rules")
CAMPAIGN = RULES.campaign
VN = CAMPAIGN.tz
SCHOOL = "thcs-nguyen-hien"
UTC = timezone.utc

OFFICIAL = Evidence(official=True, seen=("đã ký số bởi Nguyễn Văn A",))
DRAFT = Evidence(official=False, problems=("bản Word chưa ký: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số",),
                 missing=(Requirement.SIGNED_OR_STAMPED,))
UNSURE = Evidence(official=None, doubts=("trang 2: có vùng đỏ tròn nhưng quá mờ, chưa chắc là dấu",))


# -- config -------------------------------------------------------------------------------

def _config(tmp_path: Path, official: dict | None = None) -> dict:
    data = {"mailbox": {"source": "folder", "path": str(tmp_path)}, "coordinator": {"emails": ["a@b.example"]}}
    if official is not None:
        data["official"] = official
    return data


def test_trust_roots_are_read_at_start(tmp_path):
    pki = of.make_pki(datetime(2023, 10, 1, tzinfo=UTC))
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "root.pem").write_bytes(pki.root.pem)
    (certs / "other.der").write_bytes(pki.stranger_root.cert)
    (certs / "README.txt").write_text("not a certificate, not read")
    cfg = parse_config(_config(tmp_path, {"trust_roots": "certs"}), tmp_path)
    assert cfg.official.trust_roots == certs
    assert set(cfg.official.roots.certificates) == {pki.root.cert, pki.stranger_root.cert}
    assert not parse_config(_config(tmp_path), tmp_path).official.roots.configured


@pytest.mark.parametrize("setup, key, says", [
    (lambda d: None, {"trust_roots": "nowhere"}, "official.trust_roots: trust roots folder"),
    (lambda d: (d / "certs").mkdir(), {"trust_roots": "certs"}, "holds no certificate"),
    (lambda d: ((d / "certs").mkdir(), (d / "certs" / "bad.pem").write_text("hello")), {"trust_roots": "certs"},
     "bad.pem"),
    (lambda d: None, {"trust_root": "certs"}, "official.trust_root"),
    (lambda d: None, {"trust_roots": 3}, "official.trust_roots"),
])
def test_bad_trust_roots_are_a_config_error_naming_them(tmp_path, setup, key, says):
    setup(tmp_path)
    with pytest.raises(ConfigError) as err:
        parse_config(_config(tmp_path, key), tmp_path)
    assert says in str(err.value)


def test_trusted_signature_without_roots_is_a_config_error(tmp_path):
    cfg = parse_config(_config(tmp_path), tmp_path)
    doc = replace(CAMPAIGN.doc_types[0], official=OfficialPolicy((Requirement.TRUSTED_SIGNATURE,)))
    rules = replace(RULES, campaign=replace(CAMPAIGN, doc_types=(doc, *CAMPAIGN.doc_types[1:])))
    with pytest.raises(ConfigError, match="trusted_signature.*to_trinh"):
        app.check_official(cfg, rules)
    app.check_official(cfg, RULES)  # the shipped rules need no roots


# -- rules --------------------------------------------------------------------------------

CAMPAIGN_TOML = (ROOT / "rules" / "campaign.toml").read_text(encoding="utf-8")
CODES = {s.code for s in RULES.schools}


def test_shipped_rules_require_the_signed_numbered_dated_paper():
    policy = {d.id: [r.value for r in d.official.requires] for d in CAMPAIGN.doc_types}
    assert policy["to_trinh"] == ["signed_or_stamped", "number", "date_in_cycle"]
    assert policy["bien_ban"] == ["signed_or_stamped", "number", "date_in_cycle", "minutes_parts"]
    assert [d.id for d in CAMPAIGN.doc_types if d.minutes] == ["bien_ban"]


@pytest.mark.parametrize("edit, expect", [
    # no [official]: nothing is required (an office that takes any file)
    (lambda t: t.replace('require = ["signed_or_stamped", "number", "date_in_cycle"]\n', "")
     .replace("[official]\n", ""), {"to_trinh": [], "bien_ban": ["signed_or_stamped", "number", "date_in_cycle",
                                                                 "minutes_parts"]}),
    # a document that takes a Word file
    (lambda t: t.replace('number_codes = ["KH"]', 'number_codes = ["KH"]\nrequire = []'),
     {"ke_hoach": [], "to_trinh": ["signed_or_stamped", "number", "date_in_cycle"]}),
])
def test_policy_default_and_override(edit, expect):
    campaign = parse_campaign(tomllib.loads(edit(CAMPAIGN_TOML)), CODES)
    got = {d.id: [r.value for r in d.official.requires] for d in campaign.doc_types}
    assert {k: got[k] for k in expect} == expect


@pytest.mark.parametrize("edit, says", [
    (lambda t: t.replace('require = ["signed_or_stamped", "number", "date_in_cycle"]\n',
                         'require = ["signed", "number"]\n', 1), "'signed'"),
    (lambda t: t.replace('number_codes = ["KH"]', 'number_codes = ["KH"]\nrequire = ["stamp"]'),
     "document 'ke_hoach'"),
    (lambda t: t.replace('number_codes = ["KH"]', 'number_codes = ["KH"]\nrequire = "number"'), "require: expected a list"),
    (lambda t: t.replace("[official]\n", "[official]\nstrict = true\n"), "official.strict"),
])
def test_bad_policy_is_an_error_naming_it(edit, says):
    with pytest.raises(RulesError) as err:
        parse_campaign(tomllib.loads(edit(CAMPAIGN_TOML)), CODES)
    assert says in str(err.value)


# -- the deciding copy and completeness ---------------------------------------------------

@pytest.mark.parametrize("copies, official, decides", [
    ([], None, None),
    ([None], None, 0),                       # recorded before the check: not checked
    ([DRAFT], False, 0),
    ([DRAFT, OFFICIAL], True, 1),            # a later signed copy replaces the draft
    ([OFFICIAL, DRAFT], True, 0),            # ... and a later draft does not undo it
    ([DRAFT, UNSURE], None, 1),              # undecided: the coordinator's question
    ([UNSURE, DRAFT], None, 0),
    ([None, DRAFT], False, 1),               # a checked copy decides over an unchecked one
    ([DRAFT, replace(DRAFT, problems=("x",))], False, 1),  # the latest draft says what to fix
])
def test_best_copy(copies, official, decides):
    assert document_official(copies) is official
    best = best_copy(list(range(len(copies))), lambda i: copies[i])
    assert best == decides


@pytest.mark.parametrize("policy, copies, complete", [
    (OfficialPolicy(), [DRAFT], True),                       # empty policy: any copy
    (OfficialPolicy((Requirement.NUMBER,)), [DRAFT], False),
    (OfficialPolicy((Requirement.NUMBER,)), [DRAFT, OFFICIAL], True),
    (OfficialPolicy((Requirement.NUMBER,)), [UNSURE], False),  # not until the coordinator decides
    (OfficialPolicy((Requirement.NUMBER,)), [None], True),   # not checked: not held against the school
])
def test_satisfies(policy, copies, complete):
    assert satisfies(policy, copies) is complete


def item(id: int, at: datetime, doc_types=("to_trinh",), evidence=None, decision="counted") -> StoredItem:
    return StoredItem(id=id, message_id=f"<m{id}@x>", from_addr="a@x", subject="", received_at=at, container="",
                      filename=f"f{id}.pdf", part_index=0, first_page=1, last_page=1, school=SCHOOL,
                      doc_types=doc_types, campaign=True, decision=decision, confidence=0.9, reasons=(), cycle=2023,
                      content_sha256="")


def counted(id: int, day: int, doc: str, evidence: Evidence | None) -> StoredItem:
    return replace(item(id, datetime(2023, 10, day, 9, tzinfo=VN), (doc,)), evidence=evidence)


def settle(id: int, kind: str) -> Correction:
    return Correction(100 + id, kind, id, None, None, 2023, None, "mai", "đã xem", "cli",
                      datetime(2023, 10, 12, tzinfo=VN))


NOW = datetime(2023, 10, 20, 8, tzinfo=VN)


def school_status(items, corrections=()):
    facts = apply_corrections(items, corrections, CAMPAIGN, 2023, NOW)
    st = compute_status(facts, CAMPAIGN, RULES.schools, 2023, NOW)
    return next(s for s in st.schools if s.code == SCHOOL), st


ALL_OFFICIAL = [counted(1, 5, "to_trinh", OFFICIAL), counted(2, 5, "bao_cao", OFFICIAL),
                counted(3, 5, "bien_ban", OFFICIAL)]


@pytest.mark.parametrize("items, corrections, complete, to_trinh_official, review", [
    (ALL_OFFICIAL, [], True, True, []),
    # a draft Tờ trình: received on time, but the dossier is not complete
    ([counted(1, 5, "to_trinh", DRAFT), *ALL_OFFICIAL[1:]], [], False, False, []),
    # the signed copy came after the deadline: complete, and still on time (counted from the first copy)
    ([counted(1, 5, "to_trinh", DRAFT), counted(4, 15, "to_trinh", OFFICIAL), *ALL_OFFICIAL[1:]], [], True, True, []),
    # undecided: counted, a question for the coordinator, not complete until settled
    ([counted(1, 5, "to_trinh", UNSURE), *ALL_OFFICIAL[1:]], [], False, None, ["R1"]),
    ([counted(1, 5, "to_trinh", UNSURE), *ALL_OFFICIAL[1:]], [settle(1, "official")], True, True, []),
    ([counted(1, 5, "to_trinh", UNSURE), *ALL_OFFICIAL[1:]], [settle(1, "not_official")], False, False, []),
    # the latest settlement wins
    ([counted(1, 5, "to_trinh", UNSURE), *ALL_OFFICIAL[1:]],
     [settle(1, "not_official"), replace(settle(1, "official"), id=300)], True, True, []),
    # recorded before the check existed: complete as before the upgrade, official unknown
    ([counted(1, 5, "to_trinh", None), *ALL_OFFICIAL[1:]], [], True, None, []),
])
def test_status_official_and_complete(items, corrections, complete, to_trinh_official, review):
    s, st = school_status(items, corrections)
    assert s.complete is complete
    doc = s.documents["to_trinh"]
    assert doc.official is to_trinh_official
    assert doc.received_at == datetime(2023, 10, 5, 9, tzinfo=VN) and doc.status == "on_time"
    assert [r.ref for r in st.review] == review
    assert all(r.official_doubt and r.reason.startswith("chưa chắc là bản chính thức: trang 2") for r in st.review)


def test_status_json_documents_official_and_evidence():
    s, st = school_status([counted(1, 5, "to_trinh", DRAFT), *ALL_OFFICIAL[1:]])
    js = next(x for x in to_json(st)["schools"] if x["code"] == SCHOOL)
    assert js["complete"] is False
    assert js["documents"]["to_trinh"]["official"] is False
    assert js["documents"]["to_trinh"]["evidence"]["problems"] == list(DRAFT.problems)
    assert js["documents"]["bao_cao"]["official"] is True
    assert js["documents"]["ke_hoach"] == {"status": "missing", "official": None}


# -- judging a part ------------------------------------------------------------------------

GOOD_SIG = DigitalSignature(field="S1", signer="Nguyễn Văn A", organisation="Trường THCS Nguyễn Hiền",
                            signed_at=datetime(2023, 10, 4, 20, 30, tzinfo=UTC), intact=True,
                            covers_whole_file=True, modified_after_signing=False, trusted=None,
                            certificate_valid_at_signing=True)
HEAD = "UBND QUẬN 12\nTRƯỜNG THCS NGUYỄN HIỀN\nSố: 12/TTr-THCSNH\nQuận 12, ngày 05 tháng 10 năm 2023\nTỜ TRÌNH"
BLOCK = "\nHIỆU TRƯỞNG\n\nNguyễn Văn An"
RECEIVED = datetime(2023, 10, 6, 9, tzinfo=VN)


@pytest.mark.parametrize("inputs, text, official, problem", [
    (OfficialInputs(Medium.TEXT_PDF, SignatureReport((GOOD_SIG,))), HEAD, True, "chưa xác minh được nơi cấp"),
    (OfficialInputs(Medium.TEXT_PDF, SignatureReport((replace(GOOD_SIG, modified_after_signing=True),))), HEAD,
     False, "sửa hoặc thêm nội dung sau khi"),
    (OfficialInputs(Medium.WORD), HEAD + BLOCK, False, "bản Word chưa ký"),
    (OfficialInputs(Medium.SCAN, pages=(PageSeal(1, True, "trang 1: có dấu đỏ tròn"),)), HEAD + BLOCK, True, None),
    (OfficialInputs(Medium.SCAN, pages=(PageSeal(1, None, "trang 1: có vùng đỏ tròn nhưng quá mờ"),)),
     HEAD + BLOCK, None, None),
    # a seal on a page of another part does not count for this one
    (OfficialInputs(Medium.SCAN, pages=(PageSeal(3, True, "trang 3: có dấu đỏ tròn"),)), HEAD + BLOCK, None, None),
    # dated before the cycle opened
    (OfficialInputs(Medium.TEXT_PDF, SignatureReport((GOOD_SIG,))),
     HEAD.replace("năm 2023", "năm 2022"), False, "không thuộc đợt này"),
    (None, HEAD, None, None),  # extraction made before the check: not judged
])
def test_evidence_for_a_part(inputs, text, official, problem):
    part = DocumentPart(head=text, text=text, first_page=1, last_page=1)
    ev = evidence_for(inputs, part, CAMPAIGN.doc_type("to_trinh"), CAMPAIGN, 2023, RECEIVED)
    if inputs is None:
        assert ev is None
        return
    assert ev.official is official
    if problem:
        assert any(problem in p for p in ev.problems), ev.problems


def test_a_late_document_may_be_dated_after_the_deadline():
    window = cycle_window(CAMPAIGN, 2023, datetime(2023, 10, 14, 9, tzinfo=VN))
    assert (window.start, window.end) == (date(2023, 8, 1), date(2023, 10, 14))
    assert cycle_window(CAMPAIGN, 2023, RECEIVED).end == date(2023, 10, 10)


@pytest.mark.parametrize("kind, ocr, medium", [
    ("docx", False, Medium.WORD), ("doc", False, Medium.WORD), ("pdf", False, Medium.TEXT_PDF),
    ("pdf", True, Medium.SCAN), ("image", True, Medium.SCAN), ("text", False, Medium.TEXT),
])
def test_medium_of_an_extraction(kind, ocr, medium):
    assert medium_of(Extraction(kind, ocr=ocr)) is medium


# -- serialised and stored ----------------------------------------------------------------

def test_inputs_and_evidence_survive_json():
    inputs = OfficialInputs(Medium.SCAN, SignatureReport((GOOD_SIG,), None),
                            (PageSeal(2, None, "trang 2: quá mờ", None, ("chữ đỏ ở đầu trang",)),))
    assert inputs_from_dict(json.loads(json.dumps(inputs_to_dict(inputs)))) == inputs
    ev = Evidence(official=True, digital_signature=GOOD_SIG, seal=None, signature_block=True, number="12/TTr-THCSNH",
                  date=date(2023, 10, 5), problems=("chưa xác minh được nơi cấp chứng thư",), seen=("số 12",),
                  missing=(Requirement.NUMBER,), seal_page=2, tampered=False)
    assert evidence_from_dict(json.loads(json.dumps(evidence_to_dict(ev)))) == ev


@pytest.mark.parametrize("evidence, cols", [
    (None, {"official": None, "signed_by": None, "seal": None, "number": None, "date": None, "problems": []}),
    (Evidence(official=True, digital_signature=GOOD_SIG, number="12/TTr-THCSNH", date=date(2023, 10, 5),
              problems=("chưa xác minh được nơi cấp chứng thư",)),
     {"official": True, "signed_by": "Nguyễn Văn A, Trường THCS Nguyễn Hiền", "seal": None,
      "number": "12/TTr-THCSNH", "date": "2023-10-05", "problems": ["chưa xác minh được nơi cấp chứng thư"]}),
    (Evidence(official=False, seal=False), {"official": False, "signed_by": None, "seal": False, "number": None,
                                            "date": None, "problems": []}),
])
def test_export_columns(evidence, cols):
    assert json_columns(evidence.to_json() if evidence else None) == cols


def test_migration_7_keeps_every_correction_and_leaves_old_items_unchecked(tmp_path):
    state = tmp_path / "state"
    rawdb.old_database(
        state, 6,
        "INSERT INTO messages (id, message_id, source_key, sha256, size, received_at, fetched_at, status)"
        " VALUES (1, '<m@x>', 'k', 's', 1, '2023-10-05T09:00:00+07:00', '2023-10-05T09:00:00+07:00', 'done')",
        ("INSERT INTO items (id, message_row, container, filename, part_index, content_sha256, first_page,"
         " last_page, school, doc_types, campaign, decision, confidence, reasons, received_at, cycle,"
         " classified_at) VALUES (17, 1, '', 'a.pdf', 0, '', 1, 1, ?, '[\"to_trinh\"]', 1, 'counted', 0.9,"
         " '[]', '2023-10-05T09:00:00+07:00', 2023, '2023-10-05T09:00:00+07:00')", (SCHOOL,)),
        "INSERT INTO corrections (id, kind, item_id, cycle, who, why, via, at)"
        " VALUES (5, 'reject', 17, 2023, 'mai', 'nháp', 'cli', '2023-10-06T09:00:00+07:00')")
    with Store.open(state) as store:
        assert store.schema_version() == len(MIGRATIONS)
        (old,) = store.items()
        assert old.id == 17 and old.evidence is None
        assert [(c.id, c.kind, c.item_id) for c in store.corrections()] == [(5, "reject", 17)]
        store.add_correction(kind="official", cycle=2023, who="mai", why="đã xem dấu", via="cli",
                             now=datetime(2023, 10, 7, tzinfo=VN), item_id=17)
        store.add_correction(kind="not_official", cycle=2023, who="mai", why="bản nháp", via="cli",
                             now=datetime(2023, 10, 8, tzinfo=VN), item_id=17)
        assert [c.kind for c in store.corrections()] == ["reject", "official", "not_official"]
        with pytest.raises(sqlite3.IntegrityError):
            store.add_correction(kind="officiel", cycle=2023, who="mai", why="x", via="cli",
                                 now=datetime(2023, 10, 8, tzinfo=VN), item_id=17)


# -- the coordinator's words ---------------------------------------------------------------

@pytest.mark.parametrize("line, kind, refs, why", [
    ("xác nhận R17 bản chính thức", "official", ("R17",), ""),
    ("xac nhan R17 ban chinh thuc vì đã gọi điện", "official", ("R17",), "đã gọi điện"),
    ("R17 là bản chính thức", "official", ("R17",), ""),
    ("R17 không phải bản chính thức", "not_official", ("R17",), ""),
    ("R17 khong phai ban chinh thuc, chỉ là bản nháp", "not_official", ("R17",), "chỉ là bản nháp"),
    ("R17-R19 không phải bản chính thức", "not_official", ("R17", "R18", "R19"), ""),
    ("xác nhận R17 R18 bản chính thức", "official", ("R17", "R18"), ""),
    # still the other commands
    ("xác nhận R17 thcs-nguyen-hien bien_ban", "assign", ("R17",), ""),
    ("duyệt R17", "assign", ("R17",), ""),
])
def test_official_commands_by_mail(line, kind, refs, why):
    c = parse_line(line)
    assert (c.kind, c.refs, c.why) == (kind, refs, why)


@pytest.mark.parametrize("line", ["bản chính thức đã gửi R17 hôm qua", "Trường gửi bản chính thức",
                                  "R17 bản chính"])
def test_sentences_about_official_copies_are_no_official_command(line):
    c = parse_line(line)
    assert c is None or c.kind not in ("official", "not_official")


# -- extraction, for real -----------------------------------------------------------------

@pytest.fixture(scope="module")
def signed_pdf():
    pki = of.make_pki(datetime(2023, 9, 1, tzinfo=UTC))
    return of.sign(of.plain_pdf(HEAD.splitlines()), pki.signer, (pki.root,),
                   signed_at=datetime(2023, 10, 5, 3, tzinfo=UTC))


def test_extraction_reads_the_signature_and_the_cache_keeps_it(tmp_path, signed_pdf):
    from bot.extract import extract
    from bot.model import Attachment

    result = extract(Attachment("to-trinh.pdf", "application/pdf", signed_pdf))
    inputs = result.official
    assert inputs.medium is Medium.TEXT_PDF and inputs.pages == ()
    (sig,) = inputs.signatures.signatures
    assert (sig.signer, sig.intact, sig.covers_whole_file, sig.trusted) == ("Nguyễn Văn A", True, True, None)
    with Store.open(tmp_path) as store:
        store.cache_extractions({"abc": result}, "v", NOW)
        assert store.cached_extractions(["abc"], "v")["abc"].official == inputs


@pytest.mark.parametrize("name, data, medium", [
    ("plan.docx", lambda: df.official_docx(), Medium.WORD),
    ("note.txt", lambda: "TỜ TRÌNH\nSố: 12/TTr-THCSNH\nNội dung".encode(), Medium.TEXT),
])
def test_extraction_says_how_a_document_came(name, data, medium):
    from bot.extract import extract
    from bot.model import Attachment

    result = extract(Attachment(name, "application/octet-stream", data()))
    assert result.official.medium is medium and not result.official.signatures.signed


# -- settled by mail ----------------------------------------------------------------------

def test_the_coordinator_settles_copies_by_mail_audited(tmp_path):
    from bot.model import ItemDecision, RawMessage
    from bot.store import ItemRow, MessageSummary

    from .outgoing import COORDINATOR, at, make_ctx
    from .test_coordinator import command_mail, poll, replies

    ctx = make_ctx(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    when = at(5, 9)
    raw = b"From: thcsnguyenhien.q12@hcm-edu.example\r\nMessage-ID: <s@x>\r\n\r\nbody\r\n"
    with Store.open(ctx.config.paths.state) as store:
        store.record_fetched([RawMessage("test:1", raw, when)], when)
        (row,) = [p.row for p in store.pending(10, 3)]
        rows = [ItemRow(ItemDecision(f"{doc}.jpg", i, SCHOOL, (doc,), True, "counted", 0.9, content_sha256=f"{i:064x}"),
                        "", when, 2023, 0, UNSURE) for i, doc in enumerate(("to_trinh", "bao_cao"))]
        store.record_processed(row, MessageSummary("<s@x>", "thcsnguyenhien.q12@hcm-edu.example", "", None, "none"),
                               rows, when)
        first, second = (i.id for i in store.items())
        assert {q.ref for q in school_status(store.items())[1].review} == {f"R{first}", f"R{second}"}
    (inbox / "cmd.eml").write_bytes(command_mail(
        f"xác nhận R{first} bản chính thức vì đã xem bản gốc\nR{second} khong phai ban chinh thuc\n"))
    poll(ctx, at(12, 8, 5))
    with Store.open(ctx.config.paths.state) as store:
        done = store.corrections()
        assert [(c.kind, c.item_id, c.who, c.via) for c in done] == [
            ("official", first, COORDINATOR, "email"), ("not_official", second, COORDINATOR, "email")]
        assert done[0].why.startswith("đã xem bản gốc [thư <cmd-1@tphcm-gov.example>, dòng 1]")
        s, st = school_status(store.items(), done)
    assert s.documents["to_trinh"].official is True and s.documents["bao_cao"].official is False
    assert st.review == ()
    (reply,) = replies(ctx)
    text = reply.get_body(("plain",)).get_content()
    assert f"tệp R{first} (to_trinh.jpg) được xác nhận là bản chính thức" in text
    assert f"tệp R{second} (bao_cao.jpg) được xác định không phải bản chính thức" in text


@pytest.mark.parametrize("args, says", [
    (["assign", "R1", "--why", "x"], "assign needs REF SCHOOL DOC_TYPE"),
    (["assign", "R1", SCHOOL, "to_trinh", "--official", "--why", "x"], "takes no school nor document type"),
    (["assign", "R999", "--not-official", "--why", "x"], "no item 'R999'"),
])
def test_assign_official_on_the_command_line_says_what_is_wrong(tmp_path, capsys, args, says):
    from bot.cli import main

    from .configs import write_config

    (tmp_path / "inbox").mkdir()
    config = write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"')
    assert main(["--config", str(config), "--now", "2023-10-12T08:00", *args]) != 0
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("read,clean", [
    ("¬ .—- HIỂU TRƯỜNG", "HIỂU TRƯỜNG"),          # specks of the seal's ring before the title
    ("s. PHO HIỂU TRƯƠNG", "PHO HIỂU TRƯƠNG"),      # a speck read as a short word
    ("s ¬ Nguyen Quốc Trí", "Nguyen Quốc Trí"),
    ("— HIẾU TRƯỜNG ¬", "HIẾU TRƯỜNG"),
    ("Lê Văn A", "Lê Văn A"),                        # a one-letter given name stays
    ("-HIỆU TRƯỞNG", "HIỆU TRƯỞNG"),
])
def test_signer_lines_read_around_a_seal_lose_their_specks(read, clean):
    from bot.extract.official import _clean_signer_line

    assert _clean_signer_line(read) == clean


_BB_HEAD = "TRƯỜNG THCS NGUYỄN HIỀN\nSố: 3/BB-THCSNH\nQuận 12, ngày 20 tháng 9 năm 2023\nBIÊN BẢN\n"
_BB_BODY = ("Thời gian: 14 giờ, ngày 20 tháng 9 năm 2023\nĐịa điểm: Phòng họp\nThành phần: 9/9 thành viên\n"
            "Chủ trì: Bà Lê Thị Hoa\nThư ký: Bà Trần Thị Mai\nKết quả biểu quyết: 9/9 đồng ý\n"
            "Hội đồng đề nghị Phòng Giáo dục xét công nhận.")


@pytest.mark.parametrize("text,head,body", [
    ("TRƯỜNG TH KIM ĐỒNG\nSố: 36/TTr-THKĐ\nQuận 12, ngày 22 tháng 9 năm 2023\nTỜ TRÌNH", False, False),
    ("TRƯỜNG TH KIM ĐỒNG\nSố: 36/TTr-THKĐ\nQuận 12, ngày 2! tháng9 năm 2023\nTỜ TRÌNH", True, False),  # date unread
    ("TRƯỜNG TH KIM ĐỒNG\nSố: (T8TRRĐ\nQuận 12, ngày 22 tháng 9 năm 2023\nTỜ TRÌNH", True, False),   # number unread
    ("TRƯỜNG TH KIM ĐỒNG\nSố:   /TTr-THKĐ\nQuận 12, ngày   tháng 9 năm 2023\nTỜ TRÌNH", False, False),  # blanks: read
    (_BB_HEAD + "Họp xét, đề nghị công nhận", False, True),       # a minutes read only to its head
    (_BB_HEAD + _BB_BODY, False, False),                          # a minutes read whole with every part
])
def test_what_a_scan_has_read_again(text, head, body):
    """OCR by need reads heads: the official check reads again only what its policy needs."""
    from bot.extract.official import wants_body, wants_head

    part = DocumentPart(head=text, text=text)
    assert (wants_head(part), wants_body(part)) == (head, body)


def test_the_crop_read_around_a_seal_keeps_the_print_and_drops_seal_and_signature():
    """The signer's name under the seal and the blue signature is read from black print only:
    the seal's red and the signature's blue ink turn to paper (a drawn page, 1240 px wide)."""
    from bot.extract.official import _print_only

    image = of.page_image(of.Page(width=1240))
    s = 1240 / 620
    signature_band = (int(390 * s), int(700 * s), int(490 * s), int(740 * s))  # the scribble, inside the seal
    name_band = (int(380 * s), int(765 * s), int(520 * s), int(790 * s))
    red_only = image.crop(signature_band).getchannel("R")

    def dark(img):  # pixels darker than 100 in the crop
        return img.point(lambda v: 255 if v < 100 else 0).histogram()[255]

    assert dark(red_only) > 50  # in the red channel alone the blue strokes stay dark, across the seal
    assert dark(_print_only(image.crop(signature_band))) == 0
    assert dark(_print_only(image.crop(name_band))) > 200  # the printed name stays


@pytest.mark.parametrize("number,head", [
    ("Số: 06/äC-NTBB", True),    # a letter of the code garbled: the head is read again
    ("Số: 06/BC-NTBB", False),
])
def test_a_garbled_number_has_its_head_read_again(number, head):
    from bot.extract.official import wants_head

    text = f"TRƯỜNG NT BÚP BÊ\n{number}\nQuận 12, ngày 23 tháng 9 năm 2023\nBÁO CÁO"
    assert wants_head(DocumentPart(head=text, text=text)) is head
