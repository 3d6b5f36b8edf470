"""The parts a Biên bản (minutes of the meeting that proposes the school)
must have: when, where, who attended, who chaired, who took the minutes,
how the meeting voted, and what it proposes.

Pure: the minutes' text in, a frozen ``MinutesCheck`` out. Matching is on
folded text (no case, no diacritics), so OCR'd and legacy-encoded minutes
read the same. The parts are data (``PARTS``) so an office can be told
exactly which ones are missing, in Vietnamese.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..vietnamese import fold

_VOTE_WORD = r"(?:bieu quyet|bo phieu|lay y kien)"
_AGREE = r"(?:tan thanh|dong y|nhat tri|thong qua)"
_COUNT = r"(?:\d+\s*/\s*\d+|\d+(?:[.,]\d+)?\s*%|\d+\s*(?:phieu|thanh vien|nguoi|dai bieu)|100 phan tram)"

# (label shown to people, patterns of which one must occur in the folded text)
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("thời gian", (r"\bthoi gian\b", r"\bvao (?:luc|hoi)\s*\d", r"\b\d{1,2}\s*(?:gio|h)\s*\d{0,2}\b.{0,40}\bngay\b")),
    ("địa điểm", (r"\bdia diem\b", r"\btai\s*:", r"\btai (?:phong|hoi truong|van phong|truong)\b")),
    ("thành phần", (r"\bthanh phan\b", r"\bco mat\b", r"\btham du\b")),
    ("chủ trì (chủ tọa)", (r"\bchu tri\b", r"\bchu toa\b")),
    ("thư ký", (r"\bthu ky\b",)),
    ("kết quả biểu quyết", (
        rf"{_VOTE_WORD}.{{0,200}}?{_AGREE}", rf"{_VOTE_WORD}.{{0,200}}?{_COUNT}",
        rf"{_AGREE}.{{0,80}}?{_COUNT}", rf"{_COUNT}.{{0,80}}?{_AGREE}",
        # "được thống nhất 100%": agreed by all, said with a share right after it
        r"\bthong nhat\s*(?:\d+(?:[.,]\d+)?\s*%|100 phan tram)")),
    ("nội dung đề nghị", (
        r"\bnoi dung de nghi\b", r"\bkien nghi\b",
        r"\bde nghi\s*(?::|cap tren|uy ban|phong giao duc|so giao duc|xet|cong nhan|khen thuong)")),
)
LABELS = tuple(label for label, _ in PARTS)
_COMPILED = tuple((label, tuple(re.compile(p) for p in patterns)) for label, patterns in PARTS)
_TITLE = re.compile(r"\bbien ban\b[^\n]{0,80}")


@dataclass(frozen=True)
class MinutesCheck:
    """Which parts of a minutes were found, and which are missing (labels of ``PARTS``)."""

    present: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def check_minutes(text: str) -> MinutesCheck:
    """The parts of ``PARTS`` that the minutes' text holds and lacks.

    The title line ("BIÊN BẢN HỌP XÉT, ĐỀ NGHỊ ...") is not read as content:
    a minutes that only names the proposal in its title has not recorded it.
    """
    folded = "\n".join(fold(line) for line in text.splitlines())
    folded = _TITLE.sub(" ", folded, count=1)
    flat = " ".join(folded.split())
    present, missing = [], []
    for label, patterns in _COMPILED:
        (present if any(p.search(flat) for p in patterns) else missing).append(label)
    return MinutesCheck(tuple(present), tuple(missing))
