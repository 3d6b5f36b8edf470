"""``rules/schools.csv``, the roster, parsed (pure): UTF-8, header exactly
``code,name,level,emails,aliases`` (emails and aliases separated by ``;``)."""
from __future__ import annotations

import csv
import io
import re
import unicodedata

from ..errors import RulesError
from .model import School

ROSTER_HEADER = ["code", "name", "level", "emails", "aliases"]
# A school's code, and a campaign's id: what a person types in a command.
SCHOOL_CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


def parse_roster(text: str, where: str = "schools.csv") -> tuple[School, ...]:
    """Parse roster CSV text; every error names the line."""
    rows = list(csv.reader(io.StringIO(unicodedata.normalize("NFC", text))))
    if not rows or [h.strip() for h in rows[0]] != ROSTER_HEADER:
        raise RulesError(f"{where}: line 1: header must be exactly {','.join(ROSTER_HEADER)}")
    schools: list[School] = []
    seen_codes: dict[str, int] = {}
    seen_emails: dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(ROSTER_HEADER):
            raise RulesError(f"{where}: line {lineno}: expected {len(ROSTER_HEADER)} columns, got {len(row)}")
        code, name, level, emails, aliases = (cell.strip() for cell in row)
        if not SCHOOL_CODE.match(code):
            raise RulesError(f"{where}: line {lineno}: code {code!r} must be lower-case letters, digits and '-'")
        if code in seen_codes:
            raise RulesError(f"{where}: line {lineno}: code {code!r} already used on line {seen_codes[code]}")
        if not name or not level:
            raise RulesError(f"{where}: line {lineno}: name and level are required")
        email_list = tuple(e.strip().lower() for e in emails.split(";") if e.strip())
        for e in email_list:
            if not _EMAIL.match(e):
                raise RulesError(f"{where}: line {lineno}: {e!r} is not an email address")
            if e in seen_emails:
                raise RulesError(f"{where}: line {lineno}: {e} is already the address of {seen_emails[e]}")
            seen_emails[e] = code
        seen_codes[code] = lineno
        schools.append(School(code=code, name=name, level=level, emails=email_list,
                              aliases=tuple(a.strip() for a in aliases.split(";") if a.strip())))
    if not schools:
        raise RulesError(f"{where}: the roster has no schools")
    return tuple(schools)
