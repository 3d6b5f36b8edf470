"""The spreadsheets of outgoing mail: the digest's XLSX (the matrix, the
review queue, the official copies) and the cell helpers the office report
shares (status colours and labels, text that must not become a formula).
openpyxl is imported where a workbook is written (a heavy library)."""
from __future__ import annotations

import io
from datetime import datetime

from ..status import CampaignStatus
from .digest import official_rows
from .review import ReviewGuess, official_replies, review_guess, suggested_replies

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Cell colours of a document's status in the spreadsheets (digest matrix, report annex).
STATUS_FILLS = {"on_time": "DCFCE7", "late": "FEF3C7", "missing": "FEE2E2", "review": "FFEDD5", "exempt": "E5E7EB"}
# A text cell starting with one of these is read as a formula by Excel or
# LibreOffice (OWASP "CSV injection"): mail-derived text must stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A document that is not required and was not received by the deadline: its
# own label (OPTIONAL_ABSENT of _common.txt) and no colour.
OPTIONAL_ABSENT = "optional_absent"
# Rows of the digest XLSX's review sheet: with the matrix, the DOCX draft and the
# bodies the digest stays under 300 KB even when a flood fills the review queue.
REVIEW_SHEET_ROWS = 1000


def digest_xlsx(status: CampaignStatus, labels: dict, tz) -> bytes:
    """The full matrix: one row per school, one column per document type;
    a second sheet lists the review queue."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    campaign = status.campaign
    names = labels["STATUS"]
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    header = ["Mã trường", "Tên trường", "Cấp học", "Hạn nộp", "Đủ hồ sơ",
              *[d.name + ("" if d.required else " (không bắt buộc)") for d in campaign.doc_types]]
    ws.append(header)
    fills = STATUS_FILLS
    for s in status.schools:
        row = [s.code, s.name, s.level, _xl_time(s.deadline, tz),
               "Miễn nộp" if s.exempt is not None else ("Đủ" if s.complete else "Chưa đủ")]
        for d in campaign.doc_types:
            doc = s.documents[d.id]
            shown = shown_status(doc.status, d.required)
            cell = names.get(shown, shown)
            if doc.received_at:
                cell += f" - {doc.received_at.astimezone(tz):%d/%m/%Y %H:%M}"
                if doc.versions > 1:
                    cell += f" ({doc.versions} bản)"
                if doc.evidence is not None and doc.official is not True:  # issue 16
                    cell += " - " + OFFICIAL_LABELS[doc.official]
            row.append(cell)
        ws.append(row)
        r = ws.max_row
        for i, d in enumerate(campaign.doc_types):
            colour = fills.get(shown_status(s.documents[d.id].status, d.required))
            if colour:
                ws.cell(r, 6 + i).fill = PatternFill("solid", fgColor=colour)
        ws.cell(r, 4).number_format = "dd/mm/yyyy hh:mm"
    for c in ws[1]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [22, 34, 10, 17, 10] + [30] * len(campaign.doc_types)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = ws.dimensions

    rq = wb.create_sheet("Chờ xem xét")
    rq.append(["Mã", "Nhận lúc", "Người gửi", "Trường (dự đoán)", "Mã trường", "Loại hồ sơ (dự đoán)", "Tệp",
               "Dự đoán", "Trả lời gợi ý", "Lý do"])
    school_names = {s.code: s.name for s in status.schools}
    doc_names = {d.id: d.name for d in campaign.doc_types}
    wording = labels.get("REVIEW") or {}
    for r in status.review[:REVIEW_SHEET_ROWS]:
        if r.official_doubt:  # a counted copy the bot could not judge: official or not?
            guess, reply = r.reason, official_replies(r.ref)[0]
        else:
            g = review_guess(r.reason, r.filename, r.doc_types, campaign, r.reason_code)
            guess, reply = guess_text(g, wording), suggested_replies(r.ref, r.school, r.doc_types, g.likely)[0]
        rq.append([r.ref, _xl_time(r.received_at, tz), r.from_addr, school_names.get(r.school, r.school or ""),
                   r.school or "", "; ".join(doc_names.get(d, d) for d in r.doc_types), r.filename,
                   guess, reply, r.reason])
        rq.cell(rq.max_row, 2).number_format = "dd/mm/yyyy hh:mm"
    if len(status.review) > REVIEW_SHEET_ROWS:  # a flood: the mail stays small, `export` has every file
        rq.append([f"... và {len(status.review) - REVIEW_SHEET_ROWS} tệp khác: xem lệnh "
                   "python3 -m bot export --format csv"])
    for c in rq[1]:
        c.font = Font(bold=True)
    rq.freeze_panes = "B2"
    rq.auto_filter.ref = rq.dimensions
    for i, w in enumerate([8, 17, 30, 30, 20, 34, 40, 44, 34, 60], start=1):
        rq.column_dimensions[get_column_letter(i)].width = w
    _official_sheet(wb, status, names, tz)
    text_cells_only(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# The official-copy verdict of a document in the XLSX (issue 16).
OFFICIAL_LABELS = {True: "bản chính thức", False: "chưa phải bản chính thức", None: "chưa rõ bản chính thức"}
NOT_CHECKED = "chưa kiểm tra"
OFFICIAL_FILLS = {True: "DCFCE7", False: "FEE2E2", None: "FFEDD5"}


def _yes_no(value: bool | None) -> str:
    return {True: "có", False: "không", None: ""}[value]


def _official_sheet(wb, status: CampaignStatus, names: dict, tz) -> None:
    """The sheet "Bản chính thức": every received document with the evidence of
    its deciding copy: official, signed by, seal, number, date, problems."""
    from openpyxl.styles import Font, PatternFill  # loaded by digest_xlsx already
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("Bản chính thức")
    ws.append(["Mã trường", "Tên trường", "Hồ sơ", "Tình trạng", "Nhận lúc", "Bản chính thức", "Ký số bởi",
               "Dấu đỏ", "Số văn bản", "Ngày văn bản", "Vấn đề"])
    for r in official_rows(status):
        verdict = OFFICIAL_LABELS[r.official] if r.checked else NOT_CHECKED
        ws.append([r.code, r.school, r.doc_name, names.get(r.status, r.status),
                   _xl_time(r.received_at, tz) if r.received_at else "", verdict, r.signed_by or "",
                   _yes_no(r.seal), r.number or "", r.date or "", "; ".join(r.problems)])
        ws.cell(ws.max_row, 5).number_format = "dd/mm/yyyy hh:mm"
        if r.checked:
            ws.cell(ws.max_row, 6).fill = PatternFill("solid", fgColor=OFFICIAL_FILLS[r.official])
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = ws.dimensions
    for i, w in enumerate([22, 30, 34, 14, 17, 22, 34, 8, 20, 12, 70], start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def guess_text(guess: ReviewGuess, wording: dict) -> str:
    """The bot's guess in words, as the digest shows it ("có lẽ: Báo cáo — bản
    scan, không đọc được chữ"); ``wording``: ``Renderer.review_wording()``."""
    if not wording:
        return ""
    if guess.likely:
        cause = wording["CAUSE"].get(guess.cause, "{}").replace("{}", guess.label)
        named = wording.get("FROM_FILENAME", "") if guess.from_filename else ""
        return f"{wording['GUESS_PREFIX']}{guess.doc or wording['NO_DOC']}{named} — {cause}"
    return wording["UNLIKELY"].get(guess.cause, "{}").replace("{}", guess.label)


def status_labels(common_module) -> dict:
    """``STATUS`` of ``_common.txt`` plus the label of an optional document not sent."""
    labels = dict(common_module.STATUS)
    labels.setdefault(OPTIONAL_ABSENT, getattr(common_module, "OPTIONAL_ABSENT", "—"))
    return labels


def shown_status(status: str, required: bool) -> str:
    """The status a spreadsheet or the report shows for a document: an
    optional one not received is neither overdue nor owed, so "missing"
    becomes ``OPTIONAL_ABSENT`` and "extended" plain "pending"."""
    if required:
        return status
    return {"missing": OPTIONAL_ABSENT, "extended": "pending"}.get(status, status)


def formula_like(value) -> bool:
    """Whether ``value`` is text a spreadsheet would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def text_cells_only(workbook) -> None:
    """Make every text cell of ``workbook`` plain text: openpyxl turns a
    string starting with "=" into a live formula, and Excel evaluates
    "+", "-" and "@" too. Such cells are stored as strings with the
    quote prefix (Excel shows the text unchanged, as if typed after ').
    The bot never writes formulas, so no cell is left a formula."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def csv_text(value):
    """A value for a CSV cell: text a spreadsheet would evaluate as a
    formula gets a leading single quote (OWASP CSV-injection guidance);
    anything else is returned unchanged."""
    return "'" + value if formula_like(value) else value


def _xl_time(moment: datetime, tz) -> datetime:
    """Excel has no time zones: write the local wall-clock time."""
    return moment.astimezone(tz).replace(tzinfo=None)


__all__ = ["digest_xlsx", "XLSX_TYPE", "STATUS_FILLS", "OPTIONAL_ABSENT", "OFFICIAL_LABELS", "guess_text",
           "status_labels", "shown_status", "formula_like", "text_cells_only", "csv_text"]
