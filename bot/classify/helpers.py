"""Small helpers for the wording of reasons (names, short quotes, decimals) and of decisions."""
from __future__ import annotations

from typing import Iterable, Sequence

from ..rules.model import School
from .index import ClassifierIndex


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def names_of(schools: Sequence[School], sep: str = ", ") -> str:
    """The schools' names joined by ``sep``, for a reason."""
    return sep.join(s.name for s in schools)


def shortened(text: str, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters with "…", to quote it in a reason."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def quoted(words: Sequence[str]) -> str:
    """Words quoted for a reason: 'a', 'b'."""
    return ", ".join(f"'{w}'" for w in words)


def vn_decimal(value: float) -> str:
    """0.75 as Vietnamese writes it: "0,75"."""
    return f"{value:.2f}".replace(".", ",")


def type_name(type_id: str, index: ClassifierIndex) -> str:
    """The document type's name in the rules (the id when the rules do not know it)."""
    return next((t.name for t in index.types if t.id == type_id), type_id)


def school_code(school: School | None) -> str | None:
    """The school's code, or None for no school."""
    return school.code if school is not None else None


def unique_nonempty(items: Iterable[str]) -> tuple[str, ...]:
    """The non-empty items, each once, in their first order."""
    return tuple(dict.fromkeys(i for i in items if i))
