"""``templates/report.toml`` rendered for one report: every sentence the
two files show (Jinja2 inside TOML strings, so the office can reword it),
with the mail templates' filters and ``_common.txt``."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2

from ..errors import ConfigError
from ..outbound.render import Renderer
from ..outbound.xlsx import status_labels
from ..rules.model import Rules
from ..status import CampaignStatus
from .figures import OUTCOMES, ReportFigures

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
WORDING_FILE = "report.toml"


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
