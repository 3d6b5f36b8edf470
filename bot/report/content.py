"""What both files of the report show: the figures, the annex rows and the
rendered wording (``Report``), and the tables built from them, so the DOCX
and the XLSX cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..rules.model import Campaign, Rules
from ..status import LATE, ON_TIME, CampaignStatus
from .figures import AnnexCell, AnnexRow, ReportFigures, annex_rows, level_order, report_figures
from .wording import Wording, level_labels, load_wording


@dataclass(frozen=True)
class Report:
    """Everything both files show: figures, annex rows and the rendered wording."""

    figures: ReportFigures
    annex: tuple[AnnexRow, ...]
    wording: Wording
    campaign: Campaign
    now: datetime


def build_report(status: CampaignStatus, rules: Rules, now: datetime | None = None,
                 templates: Path | None = None) -> Report:
    now = now or status.now
    order = level_order(rules)
    labels = level_labels(rules, templates)
    figures = report_figures(status, order, labels)
    wording = load_wording(status, rules, figures, now, templates)
    return Report(figures, tuple(annex_rows(status, order)), wording, status.campaign, now)


def cell_text(report: Report, cell: AnnexCell) -> tuple[str, str]:
    """(status label, received date) of one annex cell."""
    label = report.wording.status_labels.get(cell.shown, cell.shown)
    if cell.status in (ON_TIME, LATE) and cell.received_at is not None:
        return label, f"{cell.received_at.astimezone(report.campaign.tz):%d/%m/%Y}"
    return label, ""


def levels_table(report: Report) -> list[list]:
    """The by-level table as rows of values (header first, total last)."""
    w, f = report.wording, report.figures
    rows: list[list] = [list(w.levels_columns)]
    for r in [*f.levels, f.total]:
        rows.append([r.label or w.levels_total, r.schools, r.exempt, r.required, r.on_time, r.late, r.incomplete,
                     r.rate])
    return rows
