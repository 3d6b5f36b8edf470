"""``export --format csv`` opened by a spreadsheet: every field quoted, no
cell run as a formula, and ``--excel`` as Vietnamese Windows Excel opens it
(UTF-8 with BOM, ";" between fields)."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from bot.export_csv import BOM, export_csv, neutralise

from .outgoing import at, record

ATTACK = ";=cmd|' /C calc'!A0.pdf"
NH = "thcs-nguyen-hien"


@pytest.mark.parametrize("text, expected", [
    ("Tờ trình.pdf", "Tờ trình.pdf"),                       # ordinary text untouched
    ("Báo cáo - bản 2.pdf", "Báo cáo - bản 2.pdf"),         # a dash inside is harmless
    ("=1+1", "'=1+1"),
    ("+84 912 345 678", "'+84 912 345 678"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),                                      # a control character first
    ("\r=1", "'\r=1"),
    ("\x07bell", "'\x07bell"),
    ("  =1", "'  =1"),                                      # behind spaces
    ("\u00a0=1", "'\u00a0=1"),                              # behind a no-break space
    (ATTACK, "'" + ATTACK),                                 # behind the ";" Vietnamese Excel splits on
    (",=1", "',=1"),
    ("| =1", "'| =1"),
    (" ; =1", "' ; =1"),
    ("\uff1d1+1", "'\uff1d1+1"),                            # full-width "="
    (";;", ";;"),                                           # separators only: no formula
    ("", ""),
    ("a;=1", "a;=1"),                                       # inside a quoted field, after text: one cell of text
])
def test_a_cell_a_spreadsheet_could_run_is_shown_as_text(text, expected):
    assert neutralise(text) == expected


ROWS = [{"ref": "R1", "filename": ATTACK, "subject": "=1+1 Hồ sơ", "doc_types": ["to_trinh", "bao_cao"],
         "first_page": 1, "confidence": 0.95, "school": None},
        {"ref": "R2", "filename": "Biên bản họp.pdf", "subject": "Hồ sơ", "doc_types": [], "first_page": 3,
         "confidence": 0.5, "school": NH}]
FIELDS = list(ROWS[0])


def test_every_field_is_quoted_and_the_attack_filename_stays_one_text_cell():
    text = export_csv(ROWS, FIELDS)
    assert not text.startswith(BOM)
    lines = text.split("\r\n")
    assert lines[0] == ",".join(f'"{f}"' for f in FIELDS)
    for line in lines[1:]:
        if line:  # the line is exactly its fields, each one quoted
            assert line == ",".join('"' + f.replace('"', '""') + '"' for f in next(csv.reader([line])))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["filename"] == "'" + ATTACK and rows[0]["subject"] == "'=1+1 Hồ sơ"
    assert rows[0]["doc_types"] == "to_trinh;bao_cao" and rows[0]["school"] == ""
    assert rows[1]["filename"] == "Biên bản họp.pdf" and rows[1]["confidence"] == "0.5"


def test_excel_flavour_has_a_bom_and_semicolons_and_no_cell_is_a_formula():
    text = export_csv(ROWS, FIELDS, excel=True)
    assert text.startswith(BOM)
    body = text[len(BOM):]
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert [r["filename"] for r in rows] == ["'" + ATTACK, "Biên bản họp.pdf"]
    # A reader that honours quotes (Excel does) keeps the ";" inside the one cell: no "=cmd" cell.
    cells = [c for r in csv.reader(io.StringIO(body), delimiter=";") for c in r]
    assert not [c for c in cells if c.lstrip().startswith(("=", "+", "-", "@"))]


def test_cli_export_excel_writes_the_bytes_excel_expects(tmp_path):
    from bot.store import Store

    from .test_notify import write_config

    cfg = write_config(tmp_path)
    with Store.open(tmp_path / "state") as store:
        record(store, at(5, 9), sender="thcsnguyenhien.q12@hcm-edu.example", subject="Hồ sơ",
               files=[(ATTACK, NH, ("to_trinh",), "counted"), ("Biên bản.pdf", NH, ("bien_ban",), "counted")])
    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "ascii"}  # a locale that is not UTF-8
    run = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "export", "--format", "csv", "--excel"],
                         capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    data = run.stdout
    assert data.startswith(BOM.encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert {r["filename"] for r in rows} == {"'" + ATTACK, "Biên bản.pdf"}
    assert all(r["school"] == NH for r in rows)
