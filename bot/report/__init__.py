"""The office's own report (Báo cáo) to the Department and the Steering Committee.

Two halves, as everywhere in the bot:

- pure: ``report_figures(status, ...)`` turns a ``CampaignStatus`` into the
  numbers the report states (schools by level; complete on time, complete
  late, incomplete, exempt; the rate against the 100 % target) and
  ``annex_rows(status, ...)`` into the annex, one row per school;
- writers: ``write_report_docx`` (python-docx, the administrative format of
  Nghị định 30/2020/NĐ-CP) and ``write_report_xlsx`` (the same tables), both
  from the same figures and rows, so the two files cannot disagree.

Every sentence of the report is in ``templates/report.toml`` (Jinja2 inside
TOML strings) so the office can reword it; the office's name, addressees
and signer come from ``[office]`` in ``rules/campaign.toml``.

Definitions (also printed in the report):
- a school is *exempt* when the coordinator or the rules exempted it;
- *complete on time*: every required document counted, the first copy of
  each received by the school's (possibly extended) deadline;
- *complete late*: every required document counted, at least one late;
- *incomplete*: any other school (missing, or waiting for review);
- the *rate* is complete / schools that had to submit (exempt ones exclude

The package, one concern a module (import the public names from
``bot.report`` itself):

* ``figures``: the numbers and the annex rows (pure);
* ``wording``: ``templates/report.toml`` rendered for one report;
* ``content``: what both files show (figures, annex, wording) and the
  tables built from it;
* ``document``: the DOCX (python-docx, Nghị định 30/2020/NĐ-CP layout);
* ``workbook``: the XLSX (openpyxl);
* ``files``: both files written into the reports directory.
"""
from __future__ import annotations

from .content import Report, build_report, cell_text, levels_table
from .document import DOCX_TYPE, report_docx_bytes, write_report_docx
from .figures import (AnnexCell, AnnexRow, IncompleteSchool, LevelFigures, ReportFigures, annex_rows, level_order,
                      outcome, report_figures)
from .files import write_reports
from .wording import Wording, level_labels, load_wording
from .workbook import write_report_xlsx

__all__ = ["report_figures", "annex_rows", "outcome", "build_report", "write_report_docx", "write_report_xlsx",
           "report_docx_bytes", "write_reports", "ReportFigures", "LevelFigures", "AnnexRow",
           "Report", "DOCX_TYPE", "AnnexCell", "IncompleteSchool", "Wording", "cell_text", "level_labels",
           "level_order", "levels_table", "load_wording"]
