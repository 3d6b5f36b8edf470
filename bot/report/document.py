"""The report as a Word document: A4, the administrative layout of Nghị
định 30/2020/NĐ-CP (issuing office and Quốc hiệu, number, place and date,
title, body, recipients and signature), then the annex on its own page.

python-docx is imported inside the functions that use it: it loads only
when a report is written, not with the modules that import this one.
"""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Sequence

from ..outbound.render import vn_number
from ..rules.model import Rules
from ..status import CampaignStatus
from .content import Report, build_report, cell_text, levels_table

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")

# Page and type (Nghị định 30/2020/NĐ-CP, Phụ lục I): A4; margins top and
# bottom 20-25 mm, left 30-35 mm, right 15-20 mm; Times New Roman 13-14 pt.
PAGE_WIDTH_CM, PAGE_HEIGHT_CM = 21.0, 29.7
MARGINS_CM = {"top": 2.0, "bottom": 2.0, "left": 3.0, "right": 1.5}
TEXT_WIDTH_CM = PAGE_WIDTH_CM - MARGINS_CM["left"] - MARGINS_CM["right"]
FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 12  # issuing office and Quốc hiệu: 12-13 pt
TABLE_PT = 12
ANNEX_PT = 11


def write_report_docx(status: CampaignStatus, rules: Rules, out: Path | str | BinaryIO, now: datetime | None = None,
                      *, templates: Path | None = None) -> None:
    """The report as a Word document (A4, Nghị định 30/2020/NĐ-CP layout)."""
    report = build_report(status, rules, now, templates)
    document = _docx(report)
    document.save(str(out) if isinstance(out, Path) else out)


def report_docx_bytes(status: CampaignStatus, rules: Rules, now: datetime | None = None, *,
                      templates: Path | None = None) -> bytes:
    buffer = io.BytesIO()
    write_report_docx(status, rules, buffer, now, templates=templates)
    return buffer.getvalue()


def _docx(report: Report):
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    w, campaign = report.wording, report.campaign
    office = campaign.office
    doc = Document()
    _base_style(doc)
    props = doc.core_properties
    props.title = f"{w.title} {w.subject}"
    props.author = f"{office.name} {office.place}".strip()
    props.language = "vi-VN"

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.top_margin, section.bottom_margin = Cm(MARGINS_CM["top"]), Cm(MARGINS_CM["bottom"])
    section.left_margin, section.right_margin = Cm(MARGINS_CM["left"]), Cm(MARGINS_CM["right"])
    section.header_distance = section.footer_distance = Cm(1.0)
    _page_numbers(section)

    # Header: issuing office | Quốc hiệu and Tiêu ngữ; number | place and date.
    left_w, right_w = 7.0, TEXT_WIDTH_CM - 7.0
    head = doc.add_table(rows=2, cols=2)
    _fixed_table(head, [left_w, right_w], borders=False, cell_margin_cm=0.05)
    c = head.cell(0, 0)
    _para(c, office.parent.upper(), HEADER_PT, first=True)
    _para(c, office.name.upper(), HEADER_PT, bold=True)
    _rule(c, left_w, min(left_w * 0.45, 3.0))
    c = head.cell(0, 1)
    _para(c, w.national.upper(), HEADER_PT, bold=True, first=True)
    _para(c, w.motto, 13, bold=True)
    _rule(c, right_w, _text_width_cm(w.motto, 13, bold=True))
    _para(head.cell(1, 0), w.number, 13, first=True, space_before=4)
    _para(head.cell(1, 1), w.place_date, BODY_PT, italic=True, first=True, space_before=4)

    # Title and subject.
    _para(doc, w.title, BODY_PT, bold=True, space_before=18, space_after=0)
    _para(doc, w.subject, BODY_PT, bold=True, space_after=0)
    _rule(doc, TEXT_WIDTH_CM, min(_text_width_cm(w.subject, BODY_PT, bold=True), TEXT_WIDTH_CM) * 0.35)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)

    # Body.
    for i, line in enumerate(w.body):
        before_table = i + 1 < len(w.body) and w.body[i + 1] == "@bang_cap_hoc"  # keep "Số liệu ...:" with it
        if line == "@bang_cap_hoc":
            _levels_docx(doc, report)
        elif line.startswith("# "):
            _para(doc, line[2:].strip(), BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=1.0,
                  space_before=6, keep_with_next=True)
        elif line.startswith("- "):
            _para(doc, "- " + line[2:].strip(), BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=1.0,
                  keep_with_next=before_table)
        else:
            _para(doc, line, BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=1.0, keep_with_next=before_table)

    # Nơi nhận | signature.
    sig = doc.add_table(rows=1, cols=2)
    _fixed_table(sig, [8.0, TEXT_WIDTH_CM - 8.0], borders=False)
    sig.rows[0]._tr.get_or_add_trPr().append(_el("w:cantSplit"))
    left, right = sig.cell(0, 0), sig.cell(0, 1)
    _para(left, w.recipients_label, 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, first=True,
          space_before=12, space_after=0)
    recipients = list(office.recipients)
    for i, name in enumerate(recipients):
        _para(left, f"- {name}{'.' if i == len(recipients) - 1 else ';'}", 11, align=WD_ALIGN_PARAGRAPH.LEFT,
              space_after=0)
    title_lines = [t.strip() for t in office.signer_title.split("\n") if t.strip()]
    for i, line in enumerate(title_lines):
        _para(right, line.upper(), BODY_PT, bold=True, first=i == 0, space_before=12 if i == 0 else 0, space_after=0)
    for _ in range(4):
        _para(right, "", BODY_PT, space_after=0)
    _para(right, office.signer_name, BODY_PT, bold=True, space_after=0)

    _annex_docx(doc, report)
    return doc


def _levels_docx(doc, report: Report) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    rows = levels_table(report)
    widths = [4.6] + [(TEXT_WIDTH_CM - 4.6) / 7] * 7
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    _fixed_table(table, widths, borders=True)
    for r, (row, values) in enumerate(zip(table.rows, rows)):
        row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
        last = r == len(rows) - 1
        keep = not last  # a small table: keep it on one page (each row's paragraphs keep with the next)
        cells = row.cells  # table.cell(r, c) walks the whole table on every call
        for col, value in enumerate(values):
            text = vn_number(value) if isinstance(value, float) else str(value)
            _para(cells[col], text, TABLE_PT, bold=r == 0 or last, first=True,
                  align=WD_ALIGN_PARAGRAPH.LEFT if col == 0 and r else WD_ALIGN_PARAGRAPH.CENTER, space_after=0,
                  keep_with_next=keep)
        if r == 0:
            _repeat_header(table.rows[0])
    _para(doc, "", 6, space_after=0)


def _annex_docx(doc, report: Report) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

    w, campaign = report.wording, report.campaign
    brk = doc.add_paragraph()
    brk.paragraph_format.space_after = 0
    brk.add_run().add_break(WD_BREAK.PAGE)
    _para(doc, w.annex_title, BODY_PT, bold=True, space_after=0)
    _para(doc, w.annex_subtitle, BODY_PT, bold=True, space_after=0)
    _para(doc, w.annex_note, 13, italic=True, space_after=8)

    docs = campaign.doc_types
    number_w, result_w = 0.9, 2.1
    school_w = 4.2
    doc_w = (TEXT_WIDTH_CM - number_w - school_w - result_w) / max(1, len(docs))
    widths = [number_w, school_w] + [doc_w] * len(docs) + [result_w]
    header = [w.annex_number, w.annex_school] + [d.name + ("" if d.required else " " + w.annex_optional)
                                                  for d in docs] + [w.annex_result]
    table = doc.add_table(rows=1, cols=len(header))
    _fixed_table(table, widths, borders=True)
    for col, text in enumerate(header):
        _para(table.cell(0, col), text, ANNEX_PT, bold=True, first=True, space_after=0)
    _repeat_header(table.rows[0])
    for row in report.annex:
        cells = table.add_row().cells
        table.rows[-1]._tr.get_or_add_trPr().append(_el("w:cantSplit"))
        if row.heading:
            merged = cells[0].merge(cells[-1])
            label = w.level_labels.get(row.level, row.level)
            _para(merged, w.level_heading(label, row.count), ANNEX_PT, bold=True, first=True,
                  align=WD_ALIGN_PARAGRAPH.LEFT, space_after=0, keep_with_next=True)  # never alone at a page foot
            continue
        _para(cells[0], str(row.number), ANNEX_PT, first=True, space_after=0)
        _para(cells[1], row.school, ANNEX_PT, first=True, align=WD_ALIGN_PARAGRAPH.LEFT, space_after=0)
        for i, cell in enumerate(row.cells):
            label, when = cell_text(report, cell)
            _para(cells[2 + i], label, ANNEX_PT, first=True, space_after=0)
            if when:
                _para(cells[2 + i], when, ANNEX_PT, space_after=0)
        _para(cells[-1], w.outcomes[row.outcome], ANNEX_PT, first=True, space_after=0,
              bold=row.outcome == "incomplete")


# -- python-docx helpers -------------------------------------------------------------

def _el(tag: str, **attrs):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), str(v))
    return el


def _fonts(rpr, name: str = FONT) -> None:
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = _el("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)


def _base_style(doc) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    _fonts(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = _el("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "vi-VN")
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    pf.line_spacing = 1.1


def _para(container, text: str, size: float, *, bold: bool = False, italic: bool = False, align=None,
          first: bool = False, space_before: float = 0, space_after: float | None = None, indent: float = 0,
          keep_with_next: bool = False):
    """A paragraph in a document or a table cell; ``first`` reuses the cell's
    empty first paragraph. Centred unless ``align`` says otherwise."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    if first and hasattr(container, "paragraphs") and len(container.paragraphs) == 1 \
            and not container.paragraphs[0].text and hasattr(container, "merge"):
        p = container.paragraphs[0]
    else:
        p = container.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if align is None else align
    pf = p.paragraph_format
    pf.space_before = Pt(space_before)
    if space_after is not None:
        pf.space_after = Pt(space_after)
    elif hasattr(container, "merge"):  # in a table cell
        pf.space_after = Pt(0)
    if indent:
        pf.first_line_indent = Cm(indent)
    if keep_with_next:
        pf.keep_with_next = True
    if text:
        run = p.add_run(text)
        run.font.size = Pt(size)
        if bold:
            run.font.bold = True
        if italic:
            run.font.italic = True
        _fonts(run._element.get_or_add_rPr())  # ascii, hAnsi, eastAsia and cs: Vietnamese stays in the font
    else:
        p.paragraph_format.line_spacing = Pt(size * 1.15)
    return p


_PBDR_SUCCESSORS = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_TBLBORDERS_SUCCESSORS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")


def _rule(container, container_cm: float, length_cm: float) -> None:
    """The short centred line under the issuing office, the motto and the
    subject: an empty paragraph with a bottom border, indented so that the
    border is ``length_cm`` long."""
    from docx.shared import Cm, Pt

    p = container.add_paragraph()
    pf = p.paragraph_format
    side = max(0.0, (container_cm - length_cm) / 2)
    pf.left_indent = pf.right_indent = Cm(side)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing = Pt(2)
    ppr = p._p.get_or_add_pPr()
    borders = _el("w:pBdr")
    borders.append(_el("w:bottom", val="single", sz=6, space=1, color="000000"))
    ppr.insert_element_before(borders, *_PBDR_SUCCESSORS)


def _fixed_table(table, widths_cm: Sequence[float], *, borders: bool, cell_margin_cm: float | None = None) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
    from docx.shared import Cm

    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    if borders:
        table.style = "Table Grid"
    tblpr = table._tbl.tblPr
    edges = _el("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edges.append(_el(f"w:{edge}", val="single" if borders else "nil", sz=4, space=0, color="000000")
                     if borders else _el(f"w:{edge}", val="nil"))
    tblpr.insert_element_before(edges, *_TBLBORDERS_SUCCESSORS)
    if cell_margin_cm is not None:
        margins = _el("w:tblCellMar")
        for edge in ("left", "right"):
            margins.append(_el(f"w:{edge}", w=int(cell_margin_cm * 567), type="dxa"))
        tblpr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription")
    for i, width in enumerate(widths_cm):
        table.columns[i].width = Cm(width)
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            cell.width = Cm(widths_cm[i])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER if borders else WD_CELL_VERTICAL_ALIGNMENT.TOP
    original_add_row = table.add_row

    def add_row():
        row = original_add_row()
        for i, cell in enumerate(row.cells):
            cell.width = Cm(widths_cm[i])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        return row

    table.add_row = add_row


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    if trpr.find(_el("w:cantSplit").tag) is None:
        trpr.append(_el("w:cantSplit"))
    trpr.append(_el("w:tblHeader"))


def _page_numbers(section) -> None:
    """Page numbers centred in the header from page 2 (Nghị định 30: Arabic
    numerals, not on the first page)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    run.font.size = Pt(HEADER_PT)
    run.font.name = FONT
    _fonts(run._element.get_or_add_rPr())
    run._r.append(_el("w:fldChar", fldCharType="begin"))
    instr = _el("w:instrText")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    run._r.append(_el("w:fldChar", fldCharType="separate"))
    t = _el("w:t")
    t.text = "2"
    run._r.append(t)
    run._r.append(_el("w:fldChar", fldCharType="end"))


def _text_width_cm(text: str, size_pt: float, bold: bool = False) -> float:
    """A rough width of a line of Times New Roman (average glyph ~0.5 em;
    bold ~0.53 em): only to size the decorative rules."""
    em_cm = size_pt * 2.54 / 72
    return len(text) * em_cm * (0.53 if bold else 0.5)
