"""The office's report: figures (pure), the DOCX opened with python-docx
(structure of Nghị định 30/2020/NĐ-CP, figures, annex, signature, page), the
XLSX of the same tables, the CLI, and the draft attached to the digest
between the schools' deadline and the office's."""
from __future__ import annotations

import email
import io
import re
import shutil
from collections import Counter
from email import policy

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from bot import notify
from bot.outbound.digest import report_draft_due
from bot.report import (annex_rows, build_report, level_order, report_docx_bytes, report_figures, write_report_xlsx,
                        write_reports)
from bot.rules.load import load_rules
from bot.status import LATE, ON_TIME, apply_corrections, compute_status
from bot.store import Correction, Store, StoredItem

from .outgoing import ROOT, VN, at, make_ctx, record

RULES = load_rules(ROOT / "rules")
CAMPAIGN = RULES.campaign
ALL = ("to_trinh", "bao_cao", "bien_ban")
NOW = at(12, 8)


def item(id, when, doc_types=ALL, school="thcs-nguyen-hien", decision="counted"):
    return StoredItem(id=id, message_id=f"<m{id}@x>", from_addr="a@b.c", subject="s", received_at=when, container="",
                      filename=f"f{id}.pdf", part_index=0, first_page=1, last_page=1, school=school,
                      doc_types=tuple(doc_types), campaign=True, decision=decision, confidence=0.9, reasons=("r",),
                      cycle=2023, content_sha256="")


def corr(id, kind, school, value=None):
    return Correction(id, kind, None, school, None, 2023, value, "mai", "quyết định của phòng", "cli", at(1))


# A simulated campaign at 08:00 on 12/10: complete on time (MN, TH, THCS), complete late (TH, THCS),
# partial, one document in review, one exempt school, one extension.
ITEMS = [
    item(1, at(2), ALL, "thcs-nguyen-hien"),
    item(2, at(3), ALL + ("ke_hoach",), "mn-hoa-mai"),
    item(3, at(9), ALL, "mn-son-ca-6"),
    item(4, at(10, 23, 59), ALL, "th-nguyen-trai"),
    item(5, at(11, 0, 0), ALL, "th-nguyen-du"),                              # 1 second late
    item(6, at(4), ("to_trinh", "bao_cao"), "thcs-trai"),                   # not in the roster: ignored
    item(7, at(5), ("to_trinh", "bao_cao"), "thcs-phan-boi-chau"),
    item(8, at(5), ("bien_ban",), "thcs-phan-boi-chau", decision="review"),
    item(9, at(8), ("to_trinh", "bien_ban"), "thcs-nguyen-trai"),
    item(10, at(11, 9), ("bao_cao",), "thcs-nguyen-trai"),                  # complete, late
    item(11, at(7), ("to_trinh",), "mn-hoa-sen"),
]
CORRECTIONS = [corr(1, "exempt", "th-le-van-tho"), corr(2, "extend", "th-ha-huy-giap", "2023-10-20T23:59:59+07:00")]


def status_at(now=NOW, items=ITEMS, corrections=CORRECTIONS, rules=RULES):
    facts = apply_corrections(items, corrections, rules.campaign, 2023, now)
    return compute_status(facts, rules.campaign, rules.schools, 2023, now)


def expected_counts(status):
    """The figures, computed here from the status independently of bot.report."""
    out = Counter()
    for s in status.schools:
        if s.exempt is not None:
            out["exempt"] += 1
        elif not s.complete:
            out["incomplete"] += 1
        elif any(s.documents[d].status == LATE for d in CAMPAIGN.required):
            out["late"] += 1
        else:
            assert all(s.documents[d].status == ON_TIME for d in CAMPAIGN.required)
            out["on_time"] += 1
    return out


def test_figures_by_level_and_in_total_match_the_status():
    status = status_at()
    f = report_figures(status, level_order(RULES))
    counts = expected_counts(status)
    assert counts == Counter(on_time=4, late=2, exempt=1, incomplete=20)
    t = f.total
    assert (t.schools, t.on_time, t.late, t.incomplete, t.exempt) == (27, 4, 2, 20, 1)
    assert (t.required, t.complete, t.rate) == (26, 6, round(100 * 6 / 26, 1))
    assert [lv.level for lv in f.levels] == ["MN", "MG", "NT", "TH", "THCS", "TH-THCS", "THPT", "TT GDNN-GDTX"]
    by = {lv.level: lv for lv in f.levels}
    assert (by["MN"].schools, by["MN"].on_time, by["MN"].incomplete) == (6, 2, 4)
    assert (by["TH"].on_time, by["TH"].late, by["TH"].exempt, by["TH"].required) == (1, 1, 1, 7)
    assert (by["THCS"].on_time, by["THCS"].late, by["THCS"].incomplete) == (1, 1, 6)
    assert sum(lv.schools for lv in f.levels) == len(RULES.schools)
    assert f.review == 1 and f.target == 100
    pbc = next(s for s in f.incomplete_schools if s.code == "thcs-phan-boi-chau")
    assert pbc.missing == () and pbc.in_review == ("Biên bản họp xét, đề nghị",) and not pbc.nothing
    giap = next(s for s in f.incomplete_schools if s.code == "th-ha-huy-giap")
    assert giap.extended and giap.nothing


def test_annex_has_every_school_once_grouped_by_level():
    rows = annex_rows(status_at(), level_order(RULES))
    schools = [r for r in rows if not r.heading]
    assert [r.code for r in schools] == [s.code for s in sorted(RULES.schools, key=lambda s: level_order(RULES).index(s.level))]
    assert [r.number for r in schools] == list(range(1, 28))
    assert [r.level for r in rows if r.heading] == level_order(RULES)
    assert next(r for r in schools if r.code == "th-nguyen-du").outcome == "late"
    assert next(r for r in schools if r.code == "th-le-van-tho").outcome == "exempt"


# -- the DOCX ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def docx():
    return Document(io.BytesIO(report_docx_bytes(status_at(), RULES, NOW)))


def texts(cell):
    return [p.text for p in cell.paragraphs if p.text.strip()]


def body(document):
    return [p.text for p in document.paragraphs if p.text.strip()]


def test_page_is_a4_with_the_decree_margins_and_times_new_roman(docx):
    s = docx.sections[0]
    assert abs(s.page_width - Cm(21)) < Cm(0.01) and abs(s.page_height - Cm(29.7)) < Cm(0.01)
    for edge, cm in (("top", 2.0), ("bottom", 2.0), ("left", 3.0)):
        assert abs(getattr(s, f"{edge}_margin") - Cm(cm)) < Cm(0.01), edge
    assert Cm(1.5) - Cm(0.01) <= s.right_margin <= Cm(2) + Cm(0.01)
    normal = docx.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt in (13, 14)
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Times New Roman" and fonts.get(qn("w:cs")) == "Times New Roman"
    runs = [r for p in docx.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in docx.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs and all(r.font.name == "Times New Roman" for r in runs)
    body_runs = [r for p in docx.paragraphs for r in p.runs if len(p.text) > 80]
    assert body_runs and all(r.font.size.pt in (13, 14) for r in body_runs)
    # page numbers from page 2, in the header
    assert s.different_first_page_header_footer
    assert "PAGE" in "".join(t.text for t in s.header._element.iter(qn("w:instrText")))


def test_header_table_issuer_national_title_number_place_and_date(docx):
    head = docx.tables[0]
    assert len(head.rows) == 2 and len(head.columns) == 2
    borders = head._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}                    # no borders
    assert texts(head.cell(0, 0)) == ["ỦY BAN NHÂN DÂN QUẬN 12", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"]
    name_runs = [r for p in head.cell(0, 0).paragraphs if p.text == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" for r in p.runs]
    assert all(r.font.bold for r in name_runs)                                  # the issuer in bold
    assert texts(head.cell(0, 1)) == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    (number,) = texts(head.cell(1, 0))
    assert re.fullmatch(r"Số:\s{3,}/BC-GDĐT", number)                          # the number left for the clerk
    assert texts(head.cell(1, 1)) == ["Quận 12, ngày 12 tháng 10 năm 2023"]
    assert all(r.font.italic for p in head.cell(1, 1).paragraphs for r in p.runs)
    lines = body(docx)
    title = next(p for p in docx.paragraphs if p.text == "BÁO CÁO")
    assert title.alignment == 1 and all(r.font.bold for r in title.runs)       # centred, bold
    assert lines[lines.index("BÁO CÁO") + 1] == (
        "Kết quả xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023")


def test_body_states_the_figures_of_the_status(docx):
    status = status_at()
    c = expected_counts(status)
    required = len(status.schools) - c["exempt"]
    complete = c["on_time"] + c["late"]
    text = "\n".join(body(docx))
    assert f"- Tổng số cơ sở giáo dục: {len(status.schools)} (Mầm non: 6; Mẫu giáo: 1; Nhà trẻ: 1; Tiểu học: 8;" in text
    assert f"- Số cơ sở được miễn nộp hồ sơ: {c['exempt']}; số cơ sở phải nộp: {required}." in text
    assert (f"- Số cơ sở đã nộp đủ hồ sơ: {complete}, trong đó nộp đúng hạn: {c['on_time']}, "
            f"nộp trễ hạn: {c['late']}.") in text
    assert f"- Số cơ sở chưa nộp đủ hồ sơ: {c['incomplete']}." in text
    rate = f"{100 * complete / required:.1f}".replace(".", ",")
    assert f"- Tỷ lệ cơ sở nộp đủ hồ sơ: {rate}% ({complete}/{required} cơ sở phải nộp); chỉ tiêu 100%" in text
    assert "- Số tệp hồ sơ đang chờ Phòng kiểm tra: 1" in text
    assert "- THCS Phan Bội Châu: đang kiểm tra biên bản họp xét, đề nghị." in text
    assert "TH Hà Huy Giáp (được gia hạn đến 23:59 ngày 20/10/2023)" in text
    assert "MN Hoa Sen: còn thiếu báo cáo kết quả xây dựng đơn vị điển hình; biên bản họp xét, đề nghị." in text
    assert text.split("\nPHỤ LỤC\n")[0].endswith("của Phòng Giáo dục và Đào tạo Quận 12./.")  # the body's end
    # the table by level: one row per level and the total
    levels = docx.tables[1]
    rows = [[c.text for c in r.cells] for r in levels.rows]
    assert rows[0] == ["Cấp học", "Tổng số", "Miễn nộp", "Phải nộp", "Đủ, đúng hạn", "Đủ, trễ hạn", "Chưa đủ",
                       "Tỷ lệ (%)"]
    assert rows[-1] == ["Tổng cộng", "27", str(c["exempt"]), str(required), str(c["on_time"]), str(c["late"]),
                        str(c["incomplete"]), rate]
    assert [r[0] for r in rows[1:-1]] == ["Mầm non", "Mẫu giáo", "Nhà trẻ", "Tiểu học", "Trung học cơ sở",
                                          "Tiểu học - Trung học cơ sở", "Trung học phổ thông", "Trung tâm GDNN-GDTX"]
    assert sum(int(r[1]) for r in rows[1:-1]) == 27


def test_recipients_and_signature_come_from_the_rules(docx):
    sig = docx.tables[2]
    left, right = sig.cell(0, 0), sig.cell(0, 1)
    assert texts(left) == ["Nơi nhận:", "- Sở Giáo dục và Đào tạo;", "- Ban Chỉ đạo 138 Quận 12;", "- Lưu: VT."]
    assert texts(right) == ["TRƯỞNG PHÒNG"]
    assert {b.get(qn("w:val")) for b in sig._tbl.tblPr.find(qn("w:tblBorders"))} == {"nil"}


def test_annex_lists_every_school_and_its_documents(docx):
    annex = docx.tables[3]
    header = [c.text for c in annex.rows[0].cells]
    assert header == ["TT", "Tên cơ sở giáo dục", "Tờ trình đề nghị công nhận",
                      "Báo cáo kết quả xây dựng đơn vị điển hình", "Biên bản họp xét, đề nghị",
                      "Kế hoạch triển khai (không bắt buộc)", "Kết quả"]
    assert annex.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None          # repeated on each page
    rows = [[c.text for c in r.cells] for r in annex.rows[1:]]
    schools = [r for r in rows if r[0].isdigit()]
    assert [r[1] for r in schools] == [r.school for r in annex_rows(status_at(), level_order(RULES)) if not r.heading]
    assert sorted(r[1] for r in schools) == sorted(s.name for s in RULES.schools)
    by_name = {r[1]: r for r in schools}
    # an optional document not sent is neither "quá hạn" nor owed, even for a complete school
    assert by_name["TH Nguyễn Du"][2:] == ["Trễ hạn\n11/10/2023"] * 3 + ["Không nộp (không bắt buộc)", "Đủ, trễ hạn"]
    assert by_name["MN Hoa Mai"][2:] == ["Đúng hạn\n03/10/2023"] * 4 + ["Đủ, đúng hạn"]
    assert by_name["TH Lê Văn Thọ"][-1] == "Miễn nộp"
    assert by_name["THCS Phan Bội Châu"][4:] == ["Đang chờ kiểm tra", "Không nộp (không bắt buộc)", "Chưa đủ"]
    assert by_name["MN Hoa Sen"][3:5] == ["Chưa nộp (đã quá hạn)"] * 2                 # required ones: overdue
    assert not any("quá hạn" in row[5] for row in schools)
    assert by_name["TH Hà Huy Giáp"][2] == "Chưa nộp (được gia hạn)"
    headings = [r[0] for r in rows if not r[0].isdigit()]
    assert headings[0] == "Mầm non (6 cơ sở)" and len(headings) == 8
    lines = body(docx)
    assert "PHỤ LỤC" in lines and "DANH SÁCH CƠ SỞ GIÁO DỤC VÀ TÌNH HÌNH NỘP HỒ SƠ" in lines


def test_office_and_wording_are_data_not_code(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    toml = (rules_dir / "campaign.toml").read_text(encoding="utf-8")
    toml = (toml.replace('parent = "ỦY BAN NHÂN DÂN QUẬN 12"', 'parent = "ỦY BAN NHÂN DÂN PHƯỜNG AN PHÚ ĐÔNG"')
            .replace('short = "GDĐT"', 'short = "VHXH"').replace('place = "Quận 12"', 'place = "An Phú Đông"')
            .replace('name = "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"', 'name = "PHÒNG VĂN HÓA - XÃ HỘI"')
            .replace('signer_title = "TRƯỞNG PHÒNG"', 'signer_title = "KT. TRƯỞNG PHÒNG\\nPHÓ TRƯỞNG PHÒNG"')
            .replace('signer_name = ""', 'signer_name = "Nguyễn Văn A"')
            .replace('recipients = ["Sở Giáo dục và Đào tạo", "Ban Chỉ đạo 138 Quận 12", "Lưu: VT"]',
                     'recipients = ["Sở GD&ĐT", "Lưu: VT, VHXH"]'))
    (rules_dir / "campaign.toml").write_text(toml, encoding="utf-8")
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    wording = (templates / "report.toml").read_text(encoding="utf-8")
    (templates / "report.toml").write_text(wording.replace("# III. ĐỀ XUẤT", "# III. KIẾN NGHỊ"), encoding="utf-8")
    rules = load_rules(rules_dir)
    doc = Document(io.BytesIO(report_docx_bytes(status_at(rules=rules), rules, NOW, templates=templates)))
    assert texts(doc.tables[0].cell(0, 0)) == ["ỦY BAN NHÂN DÂN PHƯỜNG AN PHÚ ĐÔNG", "PHÒNG VĂN HÓA - XÃ HỘI"]
    assert re.fullmatch(r"Số:\s+/BC-VHXH", texts(doc.tables[0].cell(1, 0))[0])
    assert texts(doc.tables[0].cell(1, 1)) == ["An Phú Đông, ngày 12 tháng 10 năm 2023"]
    assert texts(doc.tables[2].cell(0, 0)) == ["Nơi nhận:", "- Sở GD&ĐT;", "- Lưu: VT, VHXH."]
    assert texts(doc.tables[2].cell(0, 1)) == ["KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "Nguyễn Văn A"]
    assert "III. KIẾN NGHỊ" in body(doc) and "III. ĐỀ XUẤT" not in body(doc)
    lines = body(doc)
    text = "\n".join(lines)
    assert "Giáo dục và Đào tạo" not in text                     # nothing left of the bundled office
    assert lines[lines.index("BÁO CÁO") + 2].startswith(
        "Thực hiện kế hoạch xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc "
        "năm 2023, Phòng Văn hóa - Xã hội An Phú Đông đã triển khai")
    assert "Phòng Văn hóa - Xã hội An Phú Đông tiếp tục đôn đốc 20 cơ sở giáo dục" in text
    assert text.split("\nPHỤ LỤC\n")[0].endswith(
        "Trên đây là báo cáo kết quả xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc"
        " năm 2023 của Phòng Văn hóa - Xã hội An Phú Đông./.")
    assert re.fullmatch(r"\(Kèm theo Báo cáo số\s+/BC-VHXH ngày\s+tháng\s+năm 2023 của "
                        r"Phòng Văn hóa - Xã hội An Phú Đông\)", lines[lines.index("PHỤ LỤC") + 2])


def test_the_name_in_running_text_and_the_activity_can_be_set_in_the_rules(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    toml = (rules_dir / "campaign.toml").read_text(encoding="utf-8")
    toml = (toml.replace('name = "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"',
                         'name = "PHÒNG VĂN HÓA - XÃ HỘI"\nname_in_text = "Phòng Văn hóa - Xã hội phường An Phú Đông"')
            .replace('activity = "xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc"',
                     'activity = "xây dựng phường, cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ"'))
    (rules_dir / "campaign.toml").write_text(toml, encoding="utf-8")
    rules = load_rules(rules_dir)
    text = "\n".join(body(Document(io.BytesIO(report_docx_bytes(status_at(rules=rules), rules, NOW)))))
    assert ("Thực hiện kế hoạch xây dựng phường, cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ năm 2023, "
            "Phòng Văn hóa - Xã hội phường An Phú Đông đã triển khai") in text
    assert "của Phòng Văn hóa - Xã hội phường An Phú Đông./." in text
    from bot.errors import RulesError
    (rules_dir / "campaign.toml").write_text(toml.replace('name_in_text = "Phòng', 'name_in_text = "\\nPhòng'),
                                              encoding="utf-8")
    with pytest.raises(RulesError, match="name_in_text"):
        load_rules(rules_dir)


@pytest.mark.parametrize("day, month, expected", [(5, 2, "ngày 05 tháng 02 năm 2024"), (15, 3, "ngày 15 tháng 3 năm 2024"),
                                                  (1, 12, "ngày 01 tháng 12 năm 2024")])
def test_date_line_follows_the_decree(day, month, expected):
    from bot.outbound.render import Renderer
    from .outgoing import FROM
    from datetime import date
    assert Renderer(ROOT / "templates", VN, FROM).nd30_date(date(2024, month, day)) == expected


# -- the XLSX ---------------------------------------------------------------------------

def test_xlsx_holds_the_same_two_tables(docx):
    from openpyxl import load_workbook

    out = io.BytesIO()
    write_report_xlsx(status_at(), RULES, out, NOW)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames == ["Theo cấp học", "Phụ lục"]
    levels = [list(r) for r in wb["Theo cấp học"].iter_rows(min_row=4, values_only=True)]
    docx_levels = [[c.text for c in r.cells] for r in docx.tables[1].rows]
    assert [[str(v).replace(".", ",") if isinstance(v, float) else str(v) for v in r] for r in levels] == docx_levels
    annex = [list(r) for r in wb["Phụ lục"].iter_rows(min_row=3, values_only=True)]
    schools = [r for r in annex if isinstance(r[0], int)]
    assert [r[0] for r in schools] == list(range(1, 28))
    docx_rows = {r.cells[1].text: [c.text for c in r.cells] for r in docx.tables[3].rows[1:] if r.cells[0].text.isdigit()}
    for r in schools:
        number, code, name, level, *cells, result = r
        d = docx_rows[name]
        assert [number, name, *[c.replace(" - ", "\n") for c in cells], result] == [int(d[0]), d[1], *d[2:]]
    assert {r[1] for r in schools} == {s.code for s in RULES.schools}
    ws = wb["Phụ lục"]
    du = next(row for row in ws.iter_rows(min_row=3) if row[1].value == "th-nguyen-du")
    assert du[-1].value == "Đủ, trễ hạn"
    assert du[-2].value == "Không nộp (không bắt buộc)" and du[-2].fill.fill_type is None   # optional: no red
    hoa_sen = next(row for row in ws.iter_rows(min_row=3) if row[1].value == "mn-hoa-sen")
    assert hoa_sen[5].value == "Chưa nộp (đã quá hạn)" and hoa_sen[5].fill.fgColor.rgb.endswith("FEE2E2")
    assert not [c.coordinate for s in wb.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]


# -- files, command line ---------------------------------------------------------------------

def test_cli_report_writes_docx_and_xlsx_and_prints_their_paths(tmp_path):
    from .test_notify import cli, write_config

    cfg = write_config(tmp_path)
    code, out = cli("--config", cfg, "--now", "2023-10-12T08:00", "report")
    paths = out.split()
    assert code == 0 and [p.rsplit(".", 1)[1] for p in paths] == ["docx", "xlsx"]
    assert all(p.startswith(str(tmp_path / "state" / "reports")) for p in paths)
    doc = Document(paths[0])
    assert re.fullmatch(r"Số:\s+/BC-GDĐT", texts(doc.tables[0].cell(1, 0))[0])
    code, out = cli("--config", cfg, "--now", "2023-10-12T08:00", "report", "--output", tmp_path / "out")
    assert code == 0 and (tmp_path / "out" / "bao-cao-antq-dien-hinh-2023-2023-10-12.docx").exists()


def test_write_reports_names_files_by_campaign_cycle_and_day(tmp_path):
    docx_path, xlsx_path = write_reports(status_at(), RULES, tmp_path, NOW)
    assert (docx_path.name, xlsx_path.name) == ("bao-cao-antq-dien-hinh-2023-2023-10-12.docx",
                                                "bao-cao-antq-dien-hinh-2023-2023-10-12.xlsx")
    assert not list(tmp_path.glob(".*.tmp"))


# -- the draft in the digest -------------------------------------------------------------------

@pytest.mark.parametrize("now, due", [
    (at(10, 23, 59), False),            # the schools' deadline day
    (at(11, 0, 0), True),               # the day after
    (at(11, 7), True),
    (at(15, 23, 59), True),             # until the office's deadline
    (at(16, 0, 0), False),
    (at(9, 7), False),
])
def test_draft_window_runs_from_the_day_after_the_deadline_to_the_office_deadline(now, due):
    assert report_draft_due(CAMPAIGN, 2023, now) is due


def _digest_on(tmp_path, now):
    ctx = make_ctx(tmp_path)
    with Store.open(ctx.config.paths.state) as store:
        record(store, at(2), sender="thcsnguyenhien.q12@hcm-edu.example",
               files=[("ho-so.pdf", "thcs-nguyen-hien", ALL, "counted")])
        notify.digest(ctx, store, None, now)
        (row,) = store.outbox_rows(("queued",))
        return email.message_from_bytes(store.outbox_raw(row.id), policy=policy.default)


def test_digest_after_the_deadline_carries_the_draft_report_and_the_days_left(tmp_path):
    msg = _digest_on(tmp_path, at(11, 7))
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert names == ["tong-hop-ho-so-2023-10-11.xlsx", "du-thao-bao-cao-2023-10-11.docx"]
    (draft,) = [p for p in msg.iter_attachments() if p.get_filename().endswith(".docx")]
    assert draft.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    doc = Document(io.BytesIO(draft.get_content()))
    assert "- Số cơ sở đã nộp đủ hồ sơ: 1, trong đó nộp đúng hạn: 1, nộp trễ hạn: 0." in body(doc)
    text = msg.get_body(("plain",)).get_content()
    assert "Dự thảo Báo cáo tổng hợp của Phòng (tệp Word đính kèm" in text
    assert "còn 4 ngày đến hạn báo cáo" in text
    assert "Dự thảo Báo cáo tổng hợp của Phòng" in msg.get_body(("html",)).get_content()


@pytest.mark.parametrize("day", [10, 16])
def test_digest_outside_the_window_has_no_draft(tmp_path, day):
    msg = _digest_on(tmp_path, at(day, 7))
    assert [p.get_filename() for p in msg.iter_attachments()] == [f"tong-hop-ho-so-2023-10-{day}.xlsx"]
    assert "Dự thảo Báo cáo" not in msg.get_body(("plain",)).get_content()


def test_build_report_uses_the_status_instant_by_default():
    report = build_report(status_at(), RULES)
    assert report.now == NOW and report.wording.place_date == "Quận 12, ngày 12 tháng 10 năm 2023"
