"""Reading the rules directory: each file read, parsed and validated into ``Rules``."""
from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import RulesError
from .campaign import parse_campaign
from .model import Campaign, Rules, School
from .programmes import with_programmes
from .roster import parse_roster


def load_rules(directory: Path) -> Rules:
    """Load and validate ``schools.csv``, ``campaign.toml`` and, when present,
    ``programmes.toml`` (neighbouring programmes and issuers that are not
    schools) from ``directory``."""
    schools = load_roster(directory / "schools.csv")
    campaign = load_campaign(directory / "campaign.toml", {s.code for s in schools})
    programmes = directory / "programmes.toml"
    if programmes.exists():
        campaign = with_programmes(campaign, _read_toml(programmes, "the neighbouring programmes"), str(programmes))
    return Rules(campaign=campaign, schools=schools)


def _read_toml(path: Path, what: str) -> dict:
    """The parsed TOML of ``path``; a RulesError naming the file (and ``what`` it holds) otherwise."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read {what} ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc


def load_roster(path: Path) -> tuple[School, ...]:
    """Read the roster CSV (as saved by Excel or a text editor)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the roster ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 (byte {exc.start})",
                         hint="in Excel use 'Save as: CSV UTF-8 (Comma delimited)'") from exc
    return parse_roster(text, str(path))


def load_campaign(path: Path, school_codes: set[str]) -> Campaign:
    """Read and validate ``campaign.toml``; ``school_codes``: the roster's, for its extensions and exemptions."""
    return parse_campaign(_read_toml(path, "the campaign"), school_codes, str(path))
