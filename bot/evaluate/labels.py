"""Matching the bot's export rows to the labelled documents of a corpus.

``labels`` is the ``labels.json`` written by ``tests.corpus.generate``
(message file -> label with ``message_id`` and ``attachments``). What the
scorers of this package share: the decisions they read, ``ratio``, the
labelled document (``LabelledDoc``) and the index that finds the one a row
speaks of (``LabelIndex``).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

COUNTED, REVIEW = "counted", "review"


def ratio(a: int, b: int) -> float:
    """``a / b``; 1.0 when ``b`` is 0."""
    # Nothing to measure is a perfect score: an empty run made no mistake.
    return a / b if b else 1.0


# --------------------------------------------------------------------------- matching

def normalise_message_id(value: str | None) -> str:
    """``<ABC@x>``, `` abc@x `` and ``ABC@X`` are the same message."""
    return (value or "").strip().strip("<>").strip().lower()


def normalise_filename(value: str | None) -> str:
    """NFC, trimmed: Apple Mail sends NFD names, labels hold NFC."""
    return unicodedata.normalize("NFC", value or "").strip()


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LabelledDoc:
    """One labelled document (part)."""

    message_file: str
    message_id: str
    kind: str
    filename: str
    first_page: int
    last_page: int
    entry: dict

    @property
    def genuine(self) -> bool:
        """A document of this campaign and year (a page continuing one is not a document of its own)."""
        return bool(self.entry.get("campaign")) and bool(self.entry.get("doc_types")) and not self.continuation

    @property
    def continuation(self) -> bool:
        return bool(self.entry.get("continues"))


class LabelIndex:
    """Finds the labelled document a row speaks of.

    Tries, in order: the exact name, the name without a ZIP folder, the same
    ignoring case; then, among that file's documents, the part whose page
    range holds the row's first page (a bot may report a part as 1..n when
    it did not split a combined PDF).
    """

    def __init__(self, labels: dict) -> None:
        self.docs: list[LabelledDoc] = []
        self._by_name: dict[tuple[str, str], list[LabelledDoc]] = {}
        for message_file, label in sorted(labels.items()):
            mid = normalise_message_id(label.get("message_id"))
            for entry in label.get("attachments", []):
                name = normalise_filename(entry.get("filename"))
                first = int(entry.get("first_page") or 1)
                doc = LabelledDoc(message_file, mid, label.get("kind", ""), name, first,
                           int(entry.get("last_page") or first), entry)
                self.docs.append(doc)
                for key in self._keys(mid, name):
                    self._by_name.setdefault(key, []).append(doc)

    @staticmethod
    def _keys(mid: str, name: str) -> list[tuple[str, str]]:
        base = _basename(name)
        keys = [(mid, name), (mid, "base:" + base), (mid, "fold:" + base.casefold())]
        return list(dict.fromkeys(keys))

    def find(self, row: dict) -> LabelledDoc | None:
        mid = normalise_message_id(row.get("message_id"))
        name = normalise_filename(row.get("filename"))
        page = int(row.get("first_page") or 1)
        base = _basename(name)
        for key in ((mid, name), (mid, "base:" + base), (mid, "fold:" + base.casefold())):
            candidates = self._by_name.get(key)
            if candidates:
                return _pick_part(candidates, page, label_types(row.get("doc_types")))
        return None

    def rows_by_doc(self, rows: list[dict]) -> dict[int, list[dict]]:
        """The rows that speak of each labelled document, keyed by ``id(doc)``
        (a row no label matches is left out)."""
        rows_of: dict[int, list[dict]] = {}
        for row in rows:
            doc = self.find(row)
            if doc is not None:
                rows_of.setdefault(id(doc), []).append(row)
        return rows_of


def _pick_part(candidates: list[LabelledDoc], page: int, types: frozenset[str] = frozenset()) -> LabelledDoc:
    """The labelled part a row's first page points at. Two files of one mail
    may share a name ("CamScanner 07-10-2023 12.12.pdf"): then the one of the
    row's type is taken, so a right answer is not scored against the other."""
    for fits in (lambda d: d.first_page == page, lambda d: d.first_page <= page <= d.last_page):
        found = [doc for doc in candidates if fits(doc)]
        if found:
            return next((doc for doc in found if label_types(doc.entry.get("doc_types")) == types), found[0])
    return candidates[0]


def label_types(value) -> frozenset[str]:
    """The document types of a row or label: a list, or text separated by commas."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(t.strip() for t in value.split(",") if t.strip())
    return frozenset(value)

