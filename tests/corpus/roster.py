"""The roster as the generator sees it: names, issuer lines, addresses.

Read straight from ``rules/schools.csv`` with the csv module (not through
``bot.rules``) so the corpus stays an independent oracle for the bot.
"""
from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path

LEVEL_WORDS = {
    "NT": "Nhà trẻ", "MG": "Mẫu giáo", "MN": "Mầm non", "TH": "Tiểu học",
    "THCS": "Trung học cơ sở", "THPT": "Trung học phổ thông",
    "TH-THCS": "Tiểu học - Trung học cơ sở",
}


@dataclass(frozen=True)
class School:
    """One roster school; ``emails`` lower-case, first is the official one."""

    code: str
    name: str
    level: str
    emails: tuple[str, ...]
    aliases: tuple[str, ...]

    @property
    def bare_name(self) -> str:
        """The name without its level: "Nguyễn Hiền" for "THCS Nguyễn Hiền"."""
        if self.name.startswith(self.level + " "):
            return self.name[len(self.level) + 1:]
        return self.name

    @property
    def is_centre(self) -> bool:
        return self.level.startswith("TT")

    def unit(self, full: bool = False) -> str:
        """How the school names itself in running text ("Trường THCS Nguyễn Hiền")."""
        if self.is_centre:
            return "Trung tâm " + self.name[3:] if self.name.startswith("TT ") else self.name
        if full and self.level in LEVEL_WORDS:
            return f"Trường {LEVEL_WORDS[self.level]} {self.bare_name}"
        return f"Trường {self.name}"

    def issuer(self, full: bool = False) -> str:
        """The bold second header line: ``TRƯỜNG THCS NGUYỄN HIỀN``."""
        return self.unit(full).upper()

    def parent(self, place: str, style: int = 0) -> str:
        """The supervising body, first header line (varies between schools)."""
        if self.level == "THPT":
            return "SỞ GIÁO DỤC VÀ ĐÀO TẠO TP. HỒ CHÍ MINH"
        if style % 2:
            return f"PHÒNG GIÁO DỤC VÀ ĐÀO TẠO {place.upper()}"
        return f"UBND {place.upper()}"

    @property
    def abbreviation(self) -> str:
        """Issuer code of document numbers: ``THCSNH``, ``MNSC6``."""
        level = self.level.replace("-", "").replace(" ", "")
        if self.is_centre:
            return "TTGDNNGDTX"
        initials = "".join(_initial(w) for w in self.bare_name.split())
        return level + initials


def _initial(word: str) -> str:
    if word.isdigit():
        return word
    first = unicodedata.normalize("NFD", word)[0].upper()
    return "Đ" if word[0] in "Đđ" else first


def load_roster(path: Path) -> tuple[School, ...]:
    """Read ``schools.csv`` (UTF-8, optional BOM, header code,name,level,emails,aliases)."""
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8-sig"))
    rows = csv.DictReader(text.splitlines())
    schools = []
    for row in rows:
        if not row.get("code"):
            continue
        schools.append(School(
            code=row["code"].strip(), name=row["name"].strip(), level=row["level"].strip(),
            emails=tuple(e.strip().lower() for e in row["emails"].split(";") if e.strip()),
            aliases=tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()),
        ))
    if not schools:
        raise ValueError(f"{path}: no schools")
    return tuple(schools)


# Pairs the classifier must keep apart: same name, different level or digit.
def confusable(school: School, roster: tuple[School, ...]) -> School | None:
    """A roster school easily mistaken for ``school`` (TH vs THCS Nguyễn Trãi,
    MN Sơn Ca 6 vs 8), or None."""
    stem = school.bare_name.rstrip("0123456789 ")
    for other in roster:
        if other.code == school.code:
            continue
        if other.bare_name == school.bare_name or (stem and other.bare_name.rstrip("0123456789 ") == stem
                                                   and other.level == school.level):
            return other
    return None
