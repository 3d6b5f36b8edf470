"""The extraction cache: what was read from each file content, by extractor version."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from ..clock import utc
from ..official.record import inputs_from_dict, inputs_to_dict
from .db import chunks

if TYPE_CHECKING:  # annotations only: the records load with the first cached extraction read
    from ..mail_model import Extraction


class ExtractionsMixin:
    """The ``extractions`` table (a part of ``Store``)."""

    def cached_extractions(self, digests: Iterable[str], version: str) -> dict[str, Extraction]:
        """The cached extractions of these contents made by extractor ``version``
        (those of another version are read again, so an upgrade takes effect)."""
        found: dict[str, Extraction] = {}
        for chunk in chunks(list(set(digests)), 500):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT sha256, result FROM extractions WHERE sha256 IN ({marks})"
                                       " AND version = ?", [*chunk, version]):
                found[r[0]] = extraction_from_json(r[1])
        return found

    def cache_extractions(self, results: dict[str, Extraction], version: str, now: datetime) -> None:
        """Remember extractions by content hash: a file re-sent is never read
        twice. The caller leaves out results worth making again (timeouts)."""
        rows = [(d, e.kind, extraction_to_json(e), version, utc(now)) for d, e in results.items()]
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO extractions (sha256, kind, result, version, created_at)"
                                  " VALUES (?, ?, ?, ?, ?)", rows)


def extraction_to_json(e: Extraction) -> str:
    return json.dumps({
        "kind": e.kind, "pages": e.pages, "ocr": e.ocr, "error": e.error, "notes": list(e.notes),
        "parts": [{"head": p.head, "text": p.text, "first_page": p.first_page, "last_page": p.last_page} for p in e.parts],
        "official": inputs_to_dict(e.official) if e.official is not None else None,
    }, ensure_ascii=False)


def extraction_from_json(text: str) -> Extraction:
    from ..mail_model import DocumentPart, Extraction  # not at the top: only the pipeline reads the cache

    d = json.loads(text)
    official = d.get("official")
    return Extraction(kind=d["kind"], pages=d["pages"], ocr=d["ocr"], error=d["error"], notes=tuple(d["notes"]),
                      parts=tuple(DocumentPart(**p) for p in d["parts"]),
                      official=inputs_from_dict(official) if official else None)
