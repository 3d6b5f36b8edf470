"""School names in canonical form (level words abbreviated), and ``SchoolMention``."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..rules.model import School
from ..vietnamese import fold


# --------------------------------------------------------------------------
# School names
# --------------------------------------------------------------------------

_NAME_JUNK = re.compile(r"[^a-z0-9\s-]+")
_LONE_DASH = re.compile(r"(?<![a-z0-9])-+|-+(?![a-z0-9])")
# Level words to their abbreviations, longest first; then multi-level names.
_LEVEL_WORDS = tuple((re.compile(p), r) for p, r in (
    (r"\btrung tam giao duc nghe nghiep\s*-?\s*giao duc thuong xuyen\b", "tt gdnn-gdtx"),
    # the spaces may be lost ("TRUNGHỌC PHỔTHÔNG" in a scan)
    (r"\btrung\s?hoc\s?co\s?so\b", "thcs"),
    (r"\btrung\s?hoc\s?pho\s?thong\b", "thpt"),
    (r"\btieu\s?hoc\b", "th"),
    (r"\bmam\s?non\b", "mn"),
    (r"\bmau\s?giao\b", "mg"),
    (r"\bnha\s?tre\b", "nt"),
    (r"\btrung\s?tam\b", "tt"),
    (r"\bgdnn\s*-\s*gdtx\b", "gdnn-gdtx"),
    (r"\bth\s*(?:-|va)?\s*thcs\s*(?:-|va)?\s*thpt\b", "th-thcs-thpt"),
    (r"\bth\s*(?:-|va)?\s*thcs\b", "th-thcs"),
    (r"\bthcs\s*(?:-|va)?\s*thpt\b", "thcs-thpt"),
))
LEVEL_TOKENS = frozenset({"mn", "mg", "nt", "th", "thcs", "thpt", "th-thcs", "thcs-thpt",
                          "th-thcs-thpt", "tt"})
# A following small number makes it another school: "Sơn Ca 6" is not "Sơn Ca 68"
# nor "Sơn Ca"; a year ("Nguyễn Hiền 2023") is not a school number.
NAME_END = r"(?![a-z0-9])(?!\s\d{1,2}(?!\d))"
TRAILING_NUMBER = re.compile(r"\s\d{1,2}$")
STANDALONE_NUMBER = re.compile(r"(?<![a-z0-9])\d+(?![a-z0-9])")


def canon_school_text(text: str) -> str:
    """Folded text where school names are matched: level words abbreviated.

    ``canon_school_text("Trường Trung học cơ sở Nguyễn Hiền")`` ==
    ``"truong thcs nguyen hien"``; "Tiểu học - Trung học cơ sở", "TH và
    THCS" both become ``th-thcs``.
    """
    text = _NAME_JUNK.sub(" ", fold(text))
    for pattern, abbreviation in _LEVEL_WORDS:
        text = pattern.sub(abbreviation, text)
    return " ".join(_LONE_DASH.sub(" ", text).split())


@dataclass(frozen=True)
class SchoolMention:
    """A school name found in some text.

    ``schools`` has one school when the name identifies it, several when it
    is ambiguous ("MN Sơn Ca" without its number). ``exact`` is False for an
    incomplete (no level, no number) or approximate (OCR) match.
    """

    schools: tuple[School, ...]
    text: str
    exact: bool = True
