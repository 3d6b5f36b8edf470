"""The report's two files written into the reports directory."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from ..archive import write_atomic
from ..rules.model import Rules
from ..status import CampaignStatus
from .document import report_docx_bytes
from .workbook import write_report_xlsx


def write_reports(status: CampaignStatus, rules: Rules, directory: Path, now: datetime | None = None, *,
                  templates: Path | None = None) -> tuple[Path, Path]:
    """Write ``bao-cao-<campaign>-<cycle>-<date>.docx`` and ``.xlsx`` into ``directory``; return both paths."""
    now = now or status.now
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-{status.campaign.id}-{status.cycle}-{now.astimezone(status.campaign.tz):%Y-%m-%d}"
    docx_path, xlsx_path = directory / f"{stem}.docx", directory / f"{stem}.xlsx"
    write_atomic(docx_path, report_docx_bytes(status, rules, now, templates=templates))
    buffer = io.BytesIO()
    write_report_xlsx(status, rules, buffer, now, templates=templates)
    write_atomic(xlsx_path, buffer.getvalue())
    return docx_path, xlsx_path
