"""The labelled corpus generator (tests.corpus) tells the truth about its mail.

A ~40-message corpus is generated once into a temporary directory; every
check reads the .eml files back with the standard library only, so a bug in
the generator cannot hide behind the bot's own parsing code.
"""
from __future__ import annotations

import email
import functools
import io
import json
import re
import unicodedata
import zipfile
from collections import Counter, defaultdict
from datetime import datetime
from email import policy
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from tests.corpus import tcvn3
from tests.corpus.generate import generate

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = datetime.fromisoformat("2023-10-10T23:59:59+07:00")
UTF8_FLAG = 0x800


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    labels = generate(out, seed=1, n=40, year=2023, scans=True)
    return out, labels


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def files_of(msg) -> dict[str, bytes]:
    """Every named part (also inside message/rfc822) -> decoded bytes."""
    out = {}
    for part in msg.walk():
        name = part.get_filename()
        if name and not part.is_multipart():
            out[nfc(name)] = part.get_payload(decode=True)
    return out


def zip_names(data: bytes) -> dict[str, zipfile.ZipInfo]:
    """Member names as a reader that knows the cp437 trap decodes them."""
    names = {}
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        name = info.filename
        if not info.flag_bits & UTF8_FLAG:
            name = name.encode("cp437").decode("utf-8")
        names[nfc(name)] = info
    return names


@functools.lru_cache(maxsize=64)
def message_files(path: Path) -> dict[str, bytes]:
    return files_of(parse(path))


def attachment_bytes(out: Path, message_file: str, entry: dict) -> bytes:
    files = message_files(out / message_file)
    container = entry["container"].removeprefix("rfc822:").removeprefix("rfc822")
    if container.startswith("zip:"):
        data = files[nfc(container[4:])]
        zf = zipfile.ZipFile(io.BytesIO(data))
        info = zip_names(data)[nfc(entry["filename"])]
        return zf.read(info)
    return files[nfc(entry["filename"])]


def entries(labels: dict, predicate=lambda e: True):
    for message_file, label in sorted(labels.items()):
        for entry in label["attachments"]:
            if predicate(entry):
                yield message_file, entry


def pdf_text(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


# --------------------------------------------------------------------------- files and labels

def test_every_message_parses_and_matches_its_label(corpus):
    out, labels = corpus
    emls = sorted(p.name for p in out.glob("*.eml"))
    assert emls == sorted(labels) and len(emls) == 40
    for name in emls:
        msg = parse(out / name)
        assert not [d for d in msg.defects if "Missing" in type(d).__name__], name
        assert msg["Message-ID"].strip() == labels[name]["message_id"]
        assert msg["From"] and msg["Date"] and msg["To"]
        for part in msg.walk():  # every body decodes
            if not part.is_multipart():
                part.get_payload(decode=True)


def test_every_label_refers_to_an_attachment_really_present(corpus):
    out, labels = corpus
    for message_file, entry in entries(labels):
        data = attachment_bytes(out, message_file, entry)
        assert data, (message_file, entry["filename"])


def test_the_mix_has_every_kind_of_mail(corpus):
    _, labels = corpus
    kinds = Counter(label["kind"] for label in labels.values())
    for kind in ("submission", "forwarded", "unknown_sender", "resubmission", "other_campaign", "earlier_year",
                 "auto_reply", "bounce", "spam", "no_attachment"):
        assert kinds[kind] >= 1, kind
    formats = Counter(e["format"] for _, e in entries(labels))
    assert {"pdf", "docx", "docx_tcvn3", "scan_pdf", "scan_jpg"} <= set(formats)
    campaign = [e for _, e in entries(labels) if e["campaign"]]
    assert all(e["school"] and e["doc_types"] for e in campaign)
    not_campaign = [e for _, e in entries(labels) if not e["campaign"]]
    assert {e["topic"] for e in not_campaign} >= {"antq", "spam"} and len({e["topic"] for e in not_campaign}) >= 3


def test_client_styles_are_really_in_the_headers(corpus):
    out, labels = corpus
    raw = {name: (out / name).read_bytes() for name in labels}
    assert any(b"filename*=UTF-8''" in data for data in raw.values())            # RFC 2231 (Gmail)
    assert any(re.search(rb'filename="=\?utf-8\?B\?', data) for data in raw.values())  # RFC 2047 in quotes
    assert any(b"filename*0*=UTF-8''" in data for data in raw.values())          # continuations
    assert any(re.search(rb'filename="[^"\r\n]*[\x80-\xff]', data) for data in raw.values())  # raw 8-bit
    assert any(b"%CC%80" in data or b"%CC%81" in data for data in raw.values())  # NFD (Apple Mail)
    assert any(b"Content-ID: <image001.png@" in data for data in raw.values())   # inline logo
    assert any(b"---------- Forwarded message ---------" in data for data in raw.values())
    assert any(b"Content-Type: message/rfc822" in data for data in raw.values())
    assert any(re.search(rb"^From: .*[A-Z]{3,}.*@", data, re.M) and b"mixed_case" in
               json.dumps(labels[name]["tags"]).encode() for name, data in raw.items())


def test_automatic_mail_is_marked_as_such(corpus):
    out, labels = corpus
    for name, label in labels.items():
        msg = parse(out / name)
        if label["kind"] == "auto_reply":
            assert msg["Auto-Submitted"] in ("auto-replied", "auto-generated")
            assert not label["attachments"]
        if label["kind"] == "bounce":
            assert msg.get_content_type() == "multipart/report"
            assert msg.get_param("report-type") == "delivery-status"
            assert msg["Return-Path"] == "<>"
        if label["kind"] == "no_attachment":
            assert not files_of(msg)


# --------------------------------------------------------------------------- document formats

def test_tcvn3_docx_has_vntime_runs_with_legacy_bytes(corpus):
    out, labels = corpus
    found = list(entries(labels, lambda e: e["format"] == "docx_tcvn3"))
    assert found
    for message_file, entry in found:
        xml = zipfile.ZipFile(io.BytesIO(attachment_bytes(out, message_file, entry))).read("word/document.xml")
        xml = xml.decode("utf-8")
        assert 'w:ascii=".VnTime"' in xml and 'w:ascii=".VnTimeH"' in xml
        text = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
        # The national motto typed in .VnTimeH: lower-case VN3 codes.
        assert tcvn3.encode("cộng hòa xã hội chủ nghĩa việt nam") in text or \
            tcvn3.encode("cộng hoà xã hội chủ nghĩa việt nam") in text
        assert "Céng hoµ" == tcvn3.encode("Cộng hoà")  # the domain notes' example
        assert "trình" not in text and "Việt" not in text  # no Unicode Vietnamese left


def test_zip_member_names_lack_the_utf8_flag(corpus):
    out, labels = corpus
    zips = {(m, e["container"]) for m, e in entries(labels, lambda e: "zip:" in e["container"])}
    assert zips
    vietnamese_names = 0
    for message_file, container in zips:
        data = files_of(parse(out / message_file))[nfc(container.split("zip:", 1)[1])]
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
        assert all(not info.flag_bits & UTF8_FLAG for info in infos)
        raw = [info.filename.encode("cp437") for info in infos]
        vietnamese_names += sum(any(b > 0x7F for b in name) for name in raw)
        labelled = {nfc(e["filename"]) for m, e in entries(labels) if m == message_file and e["container"] == container}
        assert labelled <= set(zip_names(data))
    assert vietnamese_names, "expected Vietnamese member names (UTF-8 bytes, no flag)"


def test_scans_are_image_only_pdfs(corpus):
    out, labels = corpus
    scans = list(entries(labels, lambda e: e["format"] == "scan_pdf"))
    assert scans
    for message_file, entry in scans:
        data = attachment_bytes(out, message_file, entry)
        texts = pdf_text(data)
        assert len(texts) == entry["pages"]
        assert all(not t.strip() for t in texts), (message_file, entry["filename"])
    photos = list(entries(labels, lambda e: e["format"] == "scan_jpg"))
    assert photos and all(attachment_bytes(out, m, e)[:3] == b"\xff\xd8\xff" for m, e in photos)


def test_combined_pdf_has_the_pages_the_labels_say(corpus):
    out, labels = corpus
    groups = defaultdict(list)
    for message_file, entry in entries(labels, lambda e: "combined_part" in e["tags"]):
        groups[(message_file, entry["filename"])].append(entry)
    assert any(len(parts) >= 3 for parts in groups.values())
    for (message_file, _), parts in groups.items():
        data = attachment_bytes(out, message_file, parts[0])
        pages = len(pdf_text(data))
        parts.sort(key=lambda e: e["first_page"])
        assert parts[0]["first_page"] == 1 and parts[-1]["last_page"] == pages == parts[0]["pages"]
        for a, b in zip(parts, parts[1:]):
            assert b["first_page"] == a["last_page"] + 1


def test_text_pdfs_say_what_their_labels_say(corpus):
    """The label's type is in the title, the label's school in the header."""
    out, labels = corpus
    titles = {"to_trinh": "TỜTRÌNH", "bao_cao": "BÁOCÁO", "bien_ban": "BIÊNBẢN", "ke_hoach": "KẾHOẠCH"}
    checked = 0
    for message_file, entry in entries(labels, lambda e: e["format"] == "pdf" and e["doc_types"]):
        texts = pdf_text(attachment_bytes(out, message_file, entry))
        head = nfc("".join(texts[entry["first_page"] - 1].split()[:60])).upper()
        assert titles[entry["doc_types"][0]] in head.replace(" ", ""), (message_file, entry["filename"])
        checked += 1
    assert checked >= 5


# --------------------------------------------------------------------------- time

def test_internal_dates_straddle_the_deadline(corpus):
    out, labels = corpus
    dates = json.loads((out / "internaldates.json").read_text(encoding="utf-8"))
    assert set(dates) == set(labels)
    moments = {name: datetime.fromisoformat(value) for name, value in dates.items()}
    assert all(value.endswith("+07:00") for value in dates.values())
    assert any(m <= DEADLINE for m in moments.values()) and any(m > DEADLINE for m in moments.values())
    assert sum(m == DEADLINE for m in moments.values()) >= 1
    assert any((m - DEADLINE).total_seconds() == 1 for m in moments.values())
    assert all(labels[name]["late"] == (m > DEADLINE) for name, m in moments.items())
    assert all(m.month in (9, 10) and m.year == 2023 for m in moments.values())
    # Files are in receipt order (the order APPEND gives UIDs).
    assert [moments[n] for n in sorted(moments)] == sorted(moments.values())


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, seed=5, n=12, scans=True)
    generate(b, seed=5, n=12, scans=True)
    for path in sorted(a.iterdir()):
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name


# --------------------------------------------------------------------------- the bundled sample inbox

def test_bundled_example_inbox_is_small_and_labelled():
    inbox = ROOT / "examples" / "inbox"
    labels = json.loads((ROOT / "examples" / "labels.json").read_text(encoding="utf-8"))
    dates = json.loads((inbox / "internaldates.json").read_text(encoding="utf-8"))
    emls = sorted(p.name for p in inbox.glob("*.eml"))
    assert 15 <= len(emls) <= 25 and sorted(labels) == emls == sorted(dates)
    assert not (inbox / "labels.json").exists()
    assert sum((inbox / n).stat().st_size for n in emls) < 1_500_000
    kinds = Counter(label["kind"] for label in labels.values())
    assert {"auto_reply", "other_campaign", "forwarded"} <= set(kinds)
    assert any(label["late"] for label in labels.values() if label["genuine"])
    assert any(label["genuine"] and not label["complete"] for label in labels.values())
    assert sum(label["complete"] for label in labels.values()) >= 3
    # the demo shows official copies both ways: whole dossiers digitally signed, and Word drafts
    signed = [label for label in labels.values() if label["attachments"]
              and all(e.get("official") and e["signature"] == "valid" for e in label["attachments"])]
    assert len(signed) >= 4 and all(label["complete"] and not label["late"] for label in signed)
    assert any(e["format"] == "docx" for _, e in entries(labels))
    for message_file, entry in entries(labels):
        assert attachment_bytes(inbox, message_file, entry)


def test_labels_turned_into_rows_score_perfectly(corpus):
    """The label format and bot.evaluate agree: a bot that answers exactly
    what the labels say scores 100% with nothing of another campaign counted."""
    from bot.evaluate.classification import score

    _, labels = corpus
    rows = []
    for label in labels.values():
        for e in label["attachments"]:
            rows.append({"message_id": label["message_id"], "filename": unicodedata.normalize("NFD", e["filename"]),
                         "school": e["school"], "doc_types": e["doc_types"], "campaign": e["campaign"],
                         "decision": "counted" if e["campaign"] else "ignored", "reasons": [],
                         "first_page": e["first_page"], "last_page": e["last_page"]})
    m = score(labels, rows)
    assert m.genuine > 50
    assert (m.school_precision, m.type_precision, m.recall, m.review_rate) == (1.0, 1.0, 1.0, 0.0)
    assert m.wrong_campaign_counted == 0 and not m.errors


# --------------------------------------------------------------------------- the hard preset (issue 12)

@pytest.fixture(scope="module")
def hard_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("hard")
    labels = generate(out, seed=3, n=30, year=2023, scans=True, preset="hard")
    return out, labels


def test_hard_preset_has_every_class(hard_corpus):
    _, labels = hard_corpus
    kinds = Counter(label["kind"] for label in labels.values())
    for kind in ("neighbour", "other_issuer", "earlier_year", "photo_pages", "attachment_flood", "spam"):
        assert kinds[kind] >= 1, kind
    topics = {e["topic"] for _, e in entries(labels, lambda e: not e["campaign"])}
    assert {"ngay_hoi", "an_toan_antt", "thi_dua", "issuer_cap", "issuer_ubnd", "issuer_doan",
            "issuer_office"} <= topics
    assert any("date_unreadable" in e["tags"] and e["year"] == 2022 for _, e in entries(labels))


def test_neighbouring_programmes_share_this_campaigns_words(hard_corpus):
    """What makes the class hard: a neighbour's document speaks of the movement too."""
    out, labels = hard_corpus
    checked = 0
    for message_file, entry in entries(labels, lambda e: e["topic"] in ("ngay_hoi", "an_toan_antt")
                                       and e["format"] == "pdf"):
        text = nfc(" ".join(pdf_text(attachment_bytes(out, message_file, entry))))
        assert "an ninh" in text and ("Tổ quốc" in text or "ANTQ" in text), (message_file, entry["filename"])
        checked += 1
    assert checked >= 1


def test_other_issuers_print_their_own_name_in_the_head(hard_corpus):
    out, labels = hard_corpus
    heads = {"issuer_cap": "CÔNG AN PHƯỜNG", "issuer_ubnd": "ỦY BAN NHÂN DÂN", "issuer_doan": "BCH ĐOÀN",
             "issuer_office": "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"}
    for message_file, entry in entries(labels, lambda e: e["topic"].startswith("issuer_")):
        assert entry["issuer"] and not entry["campaign"]
        if entry["format"] == "pdf":
            text = nfc(pdf_text(attachment_bytes(out, message_file, entry))[0])
            assert heads[entry["topic"]] in text, (message_file, entry["filename"])


def test_photographed_pages_continue_their_first_page(hard_corpus):
    out, labels = hard_corpus
    seen = 0
    for message_file, label in labels.items():
        files = {e["filename"]: e for e in label["attachments"]}
        for entry in label["attachments"]:
            if not entry.get("continues"):
                continue
            first = files[entry["continues"]]
            assert (first["school"], first["doc_types"], first["campaign"]) == \
                (entry["school"], entry["doc_types"], entry["campaign"])
            assert not first.get("continues") and "continuation" in entry["tags"]
            assert attachment_bytes(out, message_file, entry)[:2] == b"\xff\xd8"  # a JPEG
            assert re.match(r"^(IMG_\d{8}_\d{6}\.jpg|z\d{13}_[0-9a-f]{32}\.jpg|image\d+\.jpeg)$", entry["filename"])
            seen += 1
    assert seen >= 1


def test_a_later_documents_first_page_photo_may_have_its_head_cut_off(hard_corpus):
    """``photos_mixed``: the mail real offices get and the bot once merged (seed 2032): page photos of
    several documents, a later document's first page photographed with the top of the sheet cut off."""
    from PIL import Image

    out, labels = hard_corpus
    mixed = [(name, label) for name, label in labels.items() if "photos_mixed" in label["tags"]]
    assert mixed
    for message_file, label in mixed:
        entries_ = label["attachments"]
        cut = [k for k, e in enumerate(entries_) if "head_unreadable" in e["tags"]]
        assert len(cut) == 1
        entry = entries_[cut[0]]
        # a first page (not a continuation), after another document's pages, of a genuine document
        assert "page:1" in entry["tags"] and not entry.get("continues") and entry["campaign"]
        assert any(e["doc_types"] != entry["doc_types"] for e in entries_[:cut[0]])
        # the photo shows less of the sheet than its neighbours: the head is not in it
        sizes = [Image.open(io.BytesIO(attachment_bytes(out, message_file, e))).size for e in entries_]
        assert sizes[cut[0]][1] < 0.9 * min(h for k, (_, h) in enumerate(sizes) if k != cut[0])


def test_an_evidence_flood_has_more_files_than_the_cap(hard_corpus):
    out, labels = hard_corpus
    floods = [name for name, label in labels.items() if label["kind"] == "attachment_flood"]
    assert floods and all(len(message_files(out / name)) > 30 for name in floods)


def test_hard_labels_turned_into_rows_score_perfectly(hard_corpus):
    from bot.evaluate.classification import score

    _, labels = hard_corpus
    rows = [{"message_id": label["message_id"], "filename": e["filename"], "school": e["school"],
             "doc_types": e["doc_types"], "campaign": e["campaign"],
             "decision": "counted" if e["campaign"] else "ignored", "reasons": [],
             "first_page": e["first_page"], "last_page": e["last_page"]}
            for label in labels.values() for e in label["attachments"]]
    m = score(labels, rows)
    assert m.continuation_pages >= 1 and m.genuine > 10
    assert (m.school_precision, m.type_precision, m.recall, m.review_rate) == (1.0, 1.0, 1.0, 0.0)
    assert m.wrong_campaign_counted == 0 and not m.errors


# --------------------------------------------------------------------------- the photos preset

def _page_files(pages: dict[str, int]):
    """Page photos of documents in order: {"BB": 2} gives BB1.jpg, BB2.jpg (BB2 continues BB1)."""
    from tests.corpus.corpus import _File
    from tests.corpus.messages import FileAttachment
    files = []
    for doc, count in pages.items():
        for k in range(1, count + 1):
            entry = {"filename": f"{doc}{k}.jpg", **({"continues": f"{doc}1.jpg"} if k > 1 else {})}
            files.append(_File(FileAttachment(f"{doc}{k}.jpg", b"", "image/jpeg"), (entry,)))
    return files


@pytest.mark.parametrize("seed", range(8))
def test_photos_preset_moves_later_pages_out_of_order(seed):
    """A later page arrives before its first page or among the next document's pages; nothing is lost."""
    import random

    from tests.corpus.hard_builder import _shuffle_pages
    files = _page_files({"TTr": 1, "BC": 3, "BB": 2})
    shuffled, tags = _shuffle_pages(files, random.Random(seed))
    names = [f.attachment.filename for f in shuffled]
    assert sorted(names) == sorted(f.attachment.filename for f in files) and names != [f.attachment.filename
                                                                                         for f in files]
    assert tags[0] == "photos_shuffled" and set(tags[1:]) <= {"page_before_first", "page_among_other"}
    out_of_place = [n for n in names if n[-5] != "1" and (names.index(n) < names.index(n[:-5] + "1.jpg") or any(
        names.index(other) < names.index(n) for other in ("BB1.jpg",) if n.startswith("BC")))]
    assert out_of_place   # some later page is before its first page, or after the next document's first page


def test_photos_preset_leaves_single_pages_alone():
    import random

    from tests.corpus.hard_builder import _shuffle_pages
    files = _page_files({"TTr": 1, "BC": 1})
    assert _shuffle_pages(files, random.Random(1)) == (files, [])


@pytest.mark.parametrize("seed", range(12))
def test_photos_order_preset_turns_a_document_over_drops_a_page_or_shuffles(seed):
    """``photos_order``: one document's pages last to first, a later page not sent, or the photos preset's
    shuffle; first pages are never lost, and every page left still continues a first page in the mail."""
    import random

    from tests.corpus.hard_builder import _vary_pages
    files = _page_files({"TTr": 1, "BC": 3, "BB": 2})
    varied, tags = _vary_pages(files, random.Random(seed))
    names = [f.attachment.filename for f in varied]
    assert tags[0] == "photos_order" and len(tags) >= 2
    assert {"TTr1.jpg", "BC1.jpg", "BB1.jpg"} <= set(names)
    assert all(f.entries[0].get("continues", f.attachment.filename) in names for f in varied)
    if "pages_reversed" in tags:
        assert names in (["TTr1.jpg", "BC3.jpg", "BC2.jpg", "BC1.jpg", "BB1.jpg", "BB2.jpg"],
                         ["TTr1.jpg", "BC1.jpg", "BC2.jpg", "BC3.jpg", "BB2.jpg", "BB1.jpg"])
    elif "page_missing" in tags:
        assert len(names) == 5 and names == [n for n in (f.attachment.filename for f in files) if n in names]
    else:
        assert sorted(names) == sorted(f.attachment.filename for f in files)
