"""The report as an XLSX workbook: the same two tables as the DOCX (by
level, and the annex with one row per school), cells coloured by status.

openpyxl is imported inside the function that uses it: it loads only when a
report is written."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..outbound.xlsx import STATUS_FILLS, text_cells_only
from ..rules.model import Rules
from ..status import CampaignStatus
from .content import Report, build_report, cell_text, levels_table


def write_report_xlsx(status: CampaignStatus, rules: Rules, out: Path | str | BinaryIO, now: datetime | None = None,
                      *, templates: Path | None = None) -> None:
    """The same two tables as the DOCX: by level, and the annex (one row per school)."""
    report = build_report(status, rules, now, templates)
    workbook = _xlsx(report)
    workbook.save(str(out) if isinstance(out, Path) else out)


def _xlsx(report: Report):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    w, campaign = report.wording, report.campaign
    wb = Workbook()
    ws = wb.active
    ws.title = "Theo cấp học"
    ws.append([w.title + " " + w.subject])
    ws.append([w.place_date])
    ws.append([])
    for row in levels_table(report):
        ws.append(row)
    header_row = 4
    for c in ws[header_row]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for r in range(header_row + 1, ws.max_row + 1):
        ws.cell(r, 8).number_format = "0.0"
    ws["A1"].font = Font(bold=True)
    for i, width in enumerate([26, 10, 10, 10, 13, 13, 10, 10], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    annex = wb.create_sheet("Phụ lục")
    docs = campaign.doc_types
    annex.append([w.annex_subtitle])
    annex.append([w.annex_number, "Mã trường", w.annex_school, "Cấp học",
                  *[d.name + ("" if d.required else " " + w.annex_optional) for d in docs], w.annex_result])
    for c in annex[2]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    annex["A1"].font = Font(bold=True)
    for row in report.annex:
        if row.heading:
            annex.append(["", "", w.level_heading(w.level_labels.get(row.level, row.level), row.count)])
            annex.cell(annex.max_row, 3).font = Font(bold=True)
            continue
        texts = [cell_text(report, c) for c in row.cells]
        annex.append([row.number, row.code, row.school, w.level_labels.get(row.level, row.level),
                      *[f"{label} - {when}" if when else label for label, when in texts], w.outcomes[row.outcome]])
        for i, cell in enumerate(row.cells):
            colour = STATUS_FILLS.get(cell.shown)
            if colour:
                annex.cell(annex.max_row, 5 + i).fill = PatternFill("solid", fgColor=colour)
    for i, width in enumerate([5, 22, 30, 16] + [24] * len(docs) + [14], start=1):
        annex.column_dimensions[get_column_letter(i)].width = width
    annex.freeze_panes = "D3"
    annex.auto_filter.ref = f"A2:{get_column_letter(annex.max_column)}{annex.max_row}"
    text_cells_only(wb)
    return wb
