"""Finding roster schools named in text: exact, ambiguous, or approximate (OCR)."""
from __future__ import annotations

from difflib import SequenceMatcher
from typing import Sequence

from ..rules.model import School
from .index import ClassifierIndex
from .school_names import LEVEL_TOKENS, STANDALONE_NUMBER, SchoolMention, canon_school_text


# --------------------------------------------------------------------------
# Finding schools
# --------------------------------------------------------------------------


def find_schools(text: str, index: ClassifierIndex) -> tuple[SchoolMention, ...]:
    """Every roster school named in ``text`` (level + name, or alias).

    "Trường <name>" without a level is tried only when nothing else is found,
    and gives an incomplete (inexact) mention.
    """
    canon = canon_school_text(text)
    found = []
    if index.name_re is not None:
        for m in index.name_re.finditer(canon):
            schools, partial = index.name_keys[m.group(1)]
            found.append(SchoolMention(schools, m.group(1), exact=not partial and len(schools) == 1))
    if not found and index.core_re is not None:
        for m in index.core_re.finditer(canon):
            found.append(SchoolMention(index.core_keys[m.group(1)], m.group(0), exact=False))
    return tuple(found)


def merge_mentions(mentions: Sequence[SchoolMention]) -> SchoolMention | None:
    """One mention standing for several: ambiguous when they name different schools."""
    if not mentions:
        return None
    schools: list[School] = []
    for m in mentions:
        schools.extend(s for s in m.schools if s not in schools)
    if len(schools) == 1:
        return SchoolMention(tuple(schools), mentions[0].text, exact=any(m.exact for m in mentions))
    return SchoolMention(tuple(schools), " / ".join(dict.fromkeys(m.text for m in mentions)), exact=False)


def fuzzy_school(line: str, index: ClassifierIndex, min_ratio: float = 0.85) -> SchoolMention | None:
    """The school an OCR-damaged name most likely is, or None.

    Compares folded canonical forms with difflib; numbers must be equal
    ("Sơn Ca 6" never matches "Sơn Ca 8") and the best school must beat every
    other school clearly, else the mention is ambiguous.
    """
    canon = canon_school_text(line)
    canon = canon[len("truong "):] if canon.startswith("truong ") else canon
    if not 6 <= len(canon) <= 60:
        return None
    numbers = tuple(STANDALONE_NUMBER.findall(canon))
    level = canon.split()[0] if canon.split()[0] in LEVEL_TOKENS else None
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(canon)  # difflib caches the second sequence
    scored: dict[str, tuple[float, School]] = {}
    for key, key_numbers, schools in index.fuzzy_keys:
        if key_numbers != numbers or abs(len(key) - len(canon)) > max(4, len(key) // 4):
            continue
        if level is not None and key.split()[0] in LEVEL_TOKENS and key.split()[0] != level:
            continue  # a level read clearly is never another level: THCS Nguyễn Du is not TH Nguyễn Du
        matcher.set_seq1(key)
        if matcher.real_quick_ratio() < min_ratio or matcher.quick_ratio() < min_ratio:
            continue
        ratio = matcher.ratio()
        for s in schools:
            if ratio >= min_ratio and ratio > scored.get(s.code, (0.0, s))[0]:
                scored[s.code] = (ratio, s)
    if not scored:
        return None
    ranked = sorted(scored.values(), key=lambda rs: -rs[0])
    close = tuple(s for r, s in ranked if r >= ranked[0][0] - 0.04)
    return SchoolMention(close, canon, exact=False)
