"""Small helpers for the wording of reasons (names, short quotes, decimals) and of decisions."""
from __future__ import annotations

from typing import Iterable, Sequence

from ..rules import School
from .index import ClassifierIndex


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _names(schools: Sequence[School], sep: str = ", ") -> str:
    return sep.join(s.name for s in schools)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _decimal(value: float) -> str:
    """0.75 as Vietnamese writes it: "0,75"."""
    return f"{value:.2f}".replace(".", ",")


def _type_name(type_id: str, index: ClassifierIndex) -> str:
    return next((t.name for t in index.types if t.id == type_id), type_id)


def _code(school: School | None) -> str | None:
    return school.code if school is not None else None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))
