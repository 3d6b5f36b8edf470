"""A DOCX is read from its parts directly (the text path's speed); what python-docx would read
differently or refuse is left to python-docx, so every file reads exactly as before.

``extract_zip(..., fast=False)`` is the python-docx reading; each case compares the two on the
same bytes: the coordinator sees the same text, the same notes and the same errors.
"""
from __future__ import annotations

import io
import os
import random
import re
import zipfile

import pytest

from bot.extract import ExtractLimits, extract
from bot.extract.office import extract_zip
from bot.model import Attachment

from . import docfactory as f

LIMITS = ExtractLimits()
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _read(data: bytes, fast: bool):
    """What reading gives: the Extraction, or what the reader raised (extract() words it)."""
    try:
        return extract_zip(data, LIMITS, fast=fast)
    except Exception as exc:  # compared as type and text, as extract() would show them
        return (type(exc).__name__, str(exc))


def _repack(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The DOCX with members replaced (None: removed) or added."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename in changes:
                if changes[item.filename] is not None:
                    dst.writestr(item, changes[item.filename])
                continue
            dst.writestr(item, src.read(item.filename))
        for name, blob in changes.items():
            if name not in src.namelist() and blob is not None:
                dst.writestr(name, blob)
    return out.getvalue()


def _edit(data: bytes, name: str, old: bytes, new: bytes, count: int = 1) -> bytes:
    blob = zipfile.ZipFile(io.BytesIO(data)).read(name)
    assert old in blob, (name, old)
    return _repack(data, {name: blob.replace(old, new, count)})


BASE = f.official_docx(f.OfficialDoc(), textbox="Hộp văn bản: hồ sơ đề nghị", header="Mẫu số 01",
                       legacy_runs=(("B¸o c¸o kÕt qu¶", ".VnTime"),), legacy_style=("b¸o c¸o tæng hîp", ".VnTimeH"))
RELS = "word/_rels/document.xml.rels"
STYLES_REL = b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"'
HEADER_REF = b'<w:headerReference w:type="default" r:id="rId9"/>'


def _two_sections_with_a_first_page_header(data: bytes) -> bytes:
    """A section break in the body: the first section has a first-page header of its own."""
    first = (b'<w:p><w:pPr><w:sectPr><w:headerReference w:type="first" r:id="rId99"/></w:sectPr></w:pPr></w:p>')
    data = _edit(data, "word/document.xml", b"<w:sectPr ", first + b"<w:sectPr ")
    header = zipfile.ZipFile(io.BytesIO(data)).read("word/header1.xml").replace("Mẫu số 01".encode(), "TRANG ĐẦU".encode())
    data = _edit(data, RELS, b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                 b'officeDocument/2006/relationships/header" Target="header9.xml"/></Relationships>')
    data = _edit(data, "[Content_Types].xml", b"</Types>", b'<Override PartName="/word/header9.xml" ContentType='
                 b'"application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/></Types>')
    return _repack(data, {"word/header9.xml": header})


CASES = {
    "plain": f.official_docx(),
    "header, text box, legacy fonts": BASE,
    "two sections, a first-page header": _two_sections_with_a_first_page_header(BASE),
    # what python-docx reads its own way or refuses: left to it
    "no styles part (python-docx makes default styles)": _edit(BASE, RELS, STYLES_REL, b'Type="x"'),
    "two styles relationships": _edit(BASE, RELS, b"</Relationships>", b'<Relationship Id="rId98" ' + STYLES_REL
                                      + b' Target="styles.xml"/></Relationships>'),
    "a relationship to a missing part": _repack(BASE, {"word/numbering.xml": None}),
    "a part with no content type": _edit(BASE, "[Content_Types].xml", b'<Default Extension="xml" ContentType="application/xml"/>',
                                         b""),
    "malformed numbering XML": _repack(BASE, {"word/numbering.xml": b"<w:numbering " + W + b"><w:abstractNum>"}),
    "malformed settings XML": _edit(BASE, "word/settings.xml", b"</w:settings>", b""),
    "not a Word document (a template)": _edit(BASE, "[Content_Types].xml", b"document.main+xml", b"template.main+xml"),
    "header reference to no relationship": _edit(BASE, "word/document.xml", HEADER_REF, HEADER_REF.replace(b"rId9", b"rId77")),
    "header reference without r:id": _edit(BASE, "word/document.xml", HEADER_REF, b'<w:headerReference w:type="default"/>'),
    "header relationship to the styles": _edit(BASE, RELS, b'Target="header1.xml"', b'Target="styles.xml"'),
    "header relationship to an image": _edit(BASE, RELS, b'Target="header1.xml"', b'Target="../docProps/thumbnail.jpeg"'),
    "no package relationships": _repack(BASE, {"_rels/.rels": None}),
    "no content types": _repack(BASE, {"[Content_Types].xml": None}),
    "document without a body": _edit(BASE, "word/document.xml", b"<w:body>", b"<w:bodx>", 1),
    "a duplicated relationship id": _edit(BASE, RELS, b'Id="rId4"', b'Id="rId3"'),
    "an external header relationship": _edit(BASE, RELS, b'Target="header1.xml"', b'Target="http://x.example/h.xml" '
                                             b'TargetMode="External"'),
    "a corrupt image member": None,  # built below: a member whose CRC fails
}


def _corrupt_member(data: bytes, name: str) -> bytes:
    """The DOCX with one stored member's bytes flipped (its CRC no longer matches)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2023, 10, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            dst.writestr(info, src.read(item.filename))
    raw = bytearray(out.getvalue())
    blob = src.read(name)
    at = raw.find(blob[16:48])
    raw[at] ^= 0xFF
    return bytes(raw)


CASES["a corrupt image member"] = _corrupt_member(BASE, "docProps/thumbnail.jpeg")


@pytest.mark.parametrize("name", list(CASES))
def test_a_docx_reads_the_same_as_through_python_docx(name):
    data = CASES[name]
    assert _read(data, fast=True) == _read(data, fast=False)


def test_the_ordinary_docx_is_read_whole_and_an_odd_one_is_refused_as_before():
    result = _read(CASES["two sections, a first-page header"], fast=True)
    lines = result.parts[0].text.split("\n")
    assert lines[:2] == ["TRANG ĐẦU", "Mẫu số 01"] and "Hộp văn bản: hồ sơ đề nghị" in lines
    assert "Báo cáo kết quả" in lines and "BÁO CÁO TỔNG HỢP" in lines
    broken = extract(Attachment("hong.docx", "application/octet-stream", CASES["a relationship to a missing part"]))
    assert broken.error == "tệp DOCX bị hỏng (thiếu hoặc sai các phần của Word)"


def test_mutated_docx_files_read_the_same_as_through_python_docx():
    """Bytes of the XML members changed at random (a seeded fuzz): the same text, notes or error.
    40 mutations in the fast lane; HOSO_FUZZ_EXAMPLES=N runs N (as tests/test_fuzz_extract.py)."""
    rng = random.Random(20231015)
    members = ["word/document.xml", "word/styles.xml", RELS, "_rels/.rels", "[Content_Types].xml", "word/header1.xml"]
    for _ in range(int(os.environ.get("HOSO_FUZZ_EXAMPLES", "0")) or 40):
        name = rng.choice(members)
        blob = bytearray(zipfile.ZipFile(io.BytesIO(BASE)).read(name))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(blob))
            blob[at] = rng.choice(b'<>/"= wrIdTx:') if rng.random() < 0.7 else rng.randrange(256)
        data = _repack(BASE, {name: bytes(blob)})
        assert _read(data, fast=True) == _read(data, fast=False), name


def test_a_docx_of_the_corpus_generator_reads_the_same(tmp_path):
    """The DOCX files the test corpus sends (Word and TCVN3 documents of schools)."""
    from tests.corpus import generate

    out = tmp_path / "corpus"
    generate.main(["--out", str(out), "--seed", "3", "--messages", "40", "--no-scans", "--jobs", "1"])
    from bot.parse import ParseLimits, parse_message

    seen = 0
    for path in sorted(out.glob("*.eml")):
        for att in parse_message(path.read_bytes(), ParseLimits()).attachments:
            if att.data[:2] == b"PK" and re.search(r"\.docx$", att.filename, re.I):
                seen += 1
                assert _read(att.data, fast=True) == _read(att.data, fast=False), att.filename
    assert seen >= 5
