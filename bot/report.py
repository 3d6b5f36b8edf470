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
- the *rate* is complete / schools that had to submit (exempt ones excluded).
"""
from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Sequence

import jinja2

from .errors import ConfigError
from .render import Renderer, shown_status, status_labels
from .rules import Campaign, Rules
from .status import LATE, ON_TIME, REVIEW, CampaignStatus, SchoolStatus

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
WORDING_FILE = "report.toml"

OUTCOMES = ("on_time", "late", "incomplete", "exempt")

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


# -- figures (pure) -------------------------------------------------------------

@dataclass(frozen=True)
class LevelFigures:
    """The numbers of one level (or of all schools: ``level == ""``)."""

    level: str
    label: str
    schools: int = 0
    on_time: int = 0
    late: int = 0
    incomplete: int = 0
    exempt: int = 0

    @property
    def required(self) -> int:
        """Schools that had to submit (not exempt)."""
        return self.schools - self.exempt

    @property
    def complete(self) -> int:
        return self.on_time + self.late

    @property
    def rate(self) -> float:
        """Percent of the schools that had to submit whose dossier is complete (one decimal)."""
        return round(100 * self.complete / self.required, 1) if self.required else 0.0


@dataclass(frozen=True)
class IncompleteSchool:
    code: str
    name: str
    level: str
    level_label: str
    missing: tuple[str, ...]    # document names
    in_review: tuple[str, ...]  # document names
    extended: bool
    deadline: datetime
    nothing: bool = False  # no required document received at all (and none in review)
    # received, but no copy is the official paper yet (issue 16): not official, or not yet judged
    not_official: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportFigures:
    cycle: int
    now: datetime
    deadline: datetime
    report_deadline: datetime
    levels: tuple[LevelFigures, ...]
    total: LevelFigures
    incomplete_schools: tuple[IncompleteSchool, ...]
    review: int  # files waiting for the coordinator's review
    target: int = 100


def outcome(school: SchoolStatus, required: Sequence[str]) -> str:
    """on_time, late, incomplete or exempt (see the module docstring)."""
    if school.exempt is not None:
        return "exempt"
    if not school.complete:
        return "incomplete"
    if any(school.documents[d].status == LATE for d in required):
        return "late"
    return "on_time"


def level_order(rules: Rules) -> list[str]:
    """Levels in the order the roster first lists them."""
    return list(dict.fromkeys(s.level for s in rules.schools))


def report_figures(status: CampaignStatus, levels: Sequence[str] = (), labels: dict | None = None) -> ReportFigures:
    """The report's numbers: by level (``levels`` gives the order; others
    follow alphabetically) and in total. ``labels`` maps a level code to
    its name (``LEVEL`` of ``_common.txt``)."""
    campaign = status.campaign
    labels = labels or {}
    counts: dict[str, dict[str, int]] = {}
    incomplete = []
    for s in status.schools:
        result = outcome(s, campaign.required)
        counts.setdefault(s.level, dict.fromkeys(OUTCOMES, 0))[result] += 1
        if result == "incomplete":
            missing = s.missing_required(campaign.required)
            incomplete.append(IncompleteSchool(
                s.code, s.name, s.level, labels.get(s.level, s.level),
                tuple(_doc_name(campaign, d) for d in missing),
                tuple(_doc_name(campaign, d) for d in campaign.required if s.documents[d].status == REVIEW),
                s.extended, s.deadline, nothing=len(missing) == len(campaign.required),
                not_official=tuple(_doc_name(campaign, d) for d in campaign.required if _unofficial(s, campaign, d))))
    order = [lv for lv in levels if lv in counts] + sorted(lv for lv in counts if lv not in levels)
    rows = tuple(LevelFigures(lv, labels.get(lv, lv), sum(counts[lv].values()), **counts[lv]) for lv in order)
    total = LevelFigures("", "", sum(r.schools for r in rows), sum(r.on_time for r in rows), sum(r.late for r in rows),
                         sum(r.incomplete for r in rows), sum(r.exempt for r in rows))
    rank = {lv: i for i, lv in enumerate(order)}
    incomplete.sort(key=lambda s: rank[s.level])
    return ReportFigures(status.cycle, status.now, campaign.deadline(status.cycle),
                         campaign.report_deadline(status.cycle), rows, total, tuple(incomplete), len(status.review))


def _unofficial(s: SchoolStatus, campaign: Campaign, doc_id: str) -> bool:
    """Received, checked, the rules require an official copy, and none is (yet)."""
    d = s.documents[doc_id]
    return (d.status in (ON_TIME, LATE) and d.evidence is not None and d.official is not True
            and not campaign.doc_type(doc_id).official.empty)


@dataclass(frozen=True)
class AnnexCell:
    status: str
    received_at: datetime | None = None
    versions: int = 0
    required: bool = True

    @property
    def shown(self) -> str:
        """The status as shown: an optional document not sent is not "overdue"."""
        return shown_status(self.status, self.required)


@dataclass(frozen=True)
class AnnexRow:
    """One row of the annex: a level heading (``school`` empty) or a school."""

    level: str
    number: int = 0
    code: str = ""
    school: str = ""
    cells: tuple[AnnexCell, ...] = ()
    outcome: str = ""
    count: int = 0  # schools of the level, on a heading row

    @property
    def heading(self) -> bool:
        return not self.school


def annex_rows(status: CampaignStatus, levels: Sequence[str] = ()) -> list[AnnexRow]:
    """Every school, grouped by level (a heading row before each level),
    numbered 1..N across the whole list; one cell per document type."""
    campaign = status.campaign
    by_level: dict[str, list[SchoolStatus]] = {}
    for s in status.schools:
        by_level.setdefault(s.level, []).append(s)
    order = [lv for lv in levels if lv in by_level] + sorted(lv for lv in by_level if lv not in levels)
    rows, n = [], 0
    for lv in order:
        rows.append(AnnexRow(lv, count=len(by_level[lv])))
        for s in by_level[lv]:
            n += 1
            cells = tuple(AnnexCell(s.documents[d.id].status, s.documents[d.id].received_at, s.documents[d.id].versions,
                                    d.required)
                          for d in campaign.doc_types)
            rows.append(AnnexRow(lv, n, s.code, s.name, cells, outcome(s, campaign.required)))
    return rows


def _doc_name(campaign: Campaign, doc_id: str) -> str:
    try:
        return campaign.doc_type(doc_id).name
    except KeyError:
        return doc_id


# -- wording ----------------------------------------------------------------------

@dataclass(frozen=True)
class Wording:
    """``templates/report.toml`` rendered for one report: every string the documents show."""

    national: str
    motto: str
    number: str
    place_date: str
    title: str
    subject: str
    body: tuple[str, ...]  # lines (see report.toml for the markup)
    levels_columns: tuple[str, ...]
    levels_total: str
    recipients_label: str
    annex_title: str
    annex_subtitle: str
    annex_note: str
    annex_number: str
    annex_school: str
    annex_result: str
    annex_optional: str
    level_heading: object  # callable(label, count) -> str
    outcomes: dict
    status_labels: dict
    level_labels: dict


def load_wording(status: CampaignStatus, rules: Rules, figures: ReportFigures, now: datetime,
                 templates: Path | None = None) -> Wording:
    templates = Path(templates or DEFAULT_TEMPLATES)
    path = templates / WORDING_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the report's wording ({exc.strerror})",
                          hint="restore it from the bot's templates/ directory") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    env = _environment(templates, status.campaign.tz)
    common = _common(env)
    campaign = status.campaign
    office = campaign.office
    context = {
        "office": {"parent": office.parent, "name": office.name, "short": office.short, "place": office.place,
                   "signer_title": office.signer_title, "signer_name": office.signer_name,
                   "report_subject": office.report_subject, "name_in_text": office.name_in_text},
        "campaign": {"id": campaign.id, "name": campaign.name, "activity": campaign.activity},
        # Before office.name_in_text: a report.toml kept from an older version may still use it.
        "OFFICE_PREFIX": common["OFFICE_PREFIX"],
        "cycle": status.cycle, "now": now, "today": now.astimezone(campaign.tz).date(),
        "deadline": figures.deadline, "report_deadline": figures.report_deadline,
        "required_names": [d.name for d in campaign.doc_types if d.required],
        "review": figures.review, "f": figures,
    }

    def get(table: dict, key: str, where: str) -> str:
        if key not in table or not isinstance(table[key], str):
            raise ConfigError(f"{path}: {where}{key} is missing (a text is expected)",
                              hint="restore the key from the bot's templates/report.toml")
        return table[key]

    def render(text: str, key: str, **extra) -> str:
        try:
            return env.from_string(text).render({**context, **extra}).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{path}: {key}: line {exc.lineno}: {exc.message}",
                              hint="fix the template (Jinja2 syntax) in report.toml") from exc
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"{path}: {key}: {exc.message}",
                              hint="the text uses a name the bot does not provide; see the list at the top of report.toml") from exc

    def text(table: dict, key: str, where: str = "") -> str:
        return render(get(table, key, where), where + key)

    levels = data.get("levels_table", {})
    annex = data.get("annex", {})
    signature = data.get("signature", {})
    columns = levels.get("columns")
    if not (isinstance(columns, list) and len(columns) == 8 and all(isinstance(c, str) for c in columns)):
        raise ConfigError(f"{path}: levels_table.columns must list 8 column titles")
    outcomes = annex.get("outcomes", {})
    for key in OUTCOMES:
        get(outcomes, key, "annex.outcomes.")
    level_template = get(annex, "level", "annex.")
    return Wording(
        national=text(data, "national"), motto=text(data, "motto"), number=text(data, "number"),
        place_date=text(data, "place_date"), title=text(data, "title"), subject=text(data, "subject"),
        body=tuple(line.strip() for line in text(data, "body").split("\n") if line.strip()),
        levels_columns=tuple(columns), levels_total=text(levels, "total", "levels_table."),
        recipients_label=text(signature, "recipients_label", "signature."),
        annex_title=text(annex, "title", "annex."), annex_subtitle=text(annex, "subtitle", "annex."),
        annex_note=text(annex, "note", "annex."), annex_number=text(annex, "number", "annex."),
        annex_school=text(annex, "school", "annex."), annex_result=text(annex, "result", "annex."),
        annex_optional=text(annex, "optional", "annex."),
        level_heading=lambda label, count: render(level_template, "annex.level", label=label, count=count),
        outcomes={k: render(outcomes[k], f"annex.outcomes.{k}") for k in OUTCOMES},
        status_labels=common["STATUS"], level_labels=common["LEVEL"],
    )


def _environment(templates: Path, tz) -> jinja2.Environment:
    # The mail templates' environment: the same filters (vn_date, vn_datetime,
    # nd30_date, vn_number...) and _common.txt. No mail is built from it.
    return Renderer(templates, tz, from_address="report@localhost.invalid").env


def _common(env: jinja2.Environment) -> dict:
    try:
        module = env.get_template("_common.txt").module
    except jinja2.TemplateError as exc:
        raise ConfigError(f"template _common.txt: {exc}") from exc
    return {"STATUS": status_labels(module), "LEVEL": dict(getattr(module, "LEVEL", {})),
            "OFFICE_PREFIX": getattr(module, "OFFICE_PREFIX", "")}


def level_labels(rules: Rules, templates: Path | None = None) -> dict:
    env = _environment(Path(templates or DEFAULT_TEMPLATES), rules.campaign.tz)
    return _common(env)["LEVEL"]


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


# -- DOCX ---------------------------------------------------------------------------

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
            text = _vn_number(value) if isinstance(value, float) else str(value)
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


def _vn_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


# -- XLSX --------------------------------------------------------------------------

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

    from .render import STATUS_FILLS, text_cells_only

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


# -- files on disk --------------------------------------------------------------------

def write_reports(status: CampaignStatus, rules: Rules, directory: Path, now: datetime | None = None, *,
                  templates: Path | None = None) -> tuple[Path, Path]:
    """Write ``bao-cao-<campaign>-<cycle>-<date>.docx`` and ``.xlsx`` into ``directory``; return both paths."""
    now = now or status.now
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-{status.campaign.id}-{status.cycle}-{now.astimezone(status.campaign.tz):%Y-%m-%d}"
    docx_path, xlsx_path = directory / f"{stem}.docx", directory / f"{stem}.xlsx"
    _atomic_write(docx_path, report_docx_bytes(status, rules, now, templates=templates))
    buffer = io.BytesIO()
    write_report_xlsx(status, rules, buffer, now, templates=templates)
    _atomic_write(xlsx_path, buffer.getvalue())
    return docx_path, xlsx_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)



__all__ = ["report_figures", "annex_rows", "outcome", "build_report", "write_report_docx", "write_report_xlsx",
           "report_docx_bytes", "write_reports", "ReportFigures", "LevelFigures", "AnnexRow",
           "Report", "DOCX_TYPE"]
