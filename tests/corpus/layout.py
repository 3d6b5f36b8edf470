"""Page layout shared by the text-PDF and the scan renderers.

A document is laid out once into positioned text lines (points, origin top
left, y = baseline); the PDF backend draws them with reportlab, the scan
backend paints them with Pillow. Sharing the layout means a scan has
exactly the pages its text twin has, so page ranges in the labels hold for
both.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .content import Block, DocContent

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"regular": "DejaVuSerif.ttf", "bold": "DejaVuSerif-Bold.ttf", "italic": "DejaVuSerif-Italic.ttf"}

PAGE_W, PAGE_H = 595.28, 841.89
LEFT, RIGHT, TOP, BOTTOM = 70.0, 45.0, 50.0, 55.0
BODY, LEADING, HEAD = 11.5, 15.5, 10.0
TITLE_SIZE = 13.5
LEFT_COL = (LEFT - 30, 285.0)            # issuer block
RIGHT_COL = (265.0, PAGE_W - RIGHT + 15)  # national motto block

Measure = Callable[[str, str, float], float]


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline, from the top of the page
    text: str
    font: str
    size: float


@dataclass(frozen=True)
class Rule:
    x1: float
    x2: float
    y: float


@dataclass(frozen=True)
class Seal:
    """Where the red seal and the signature go (centre, points)."""

    cx: float
    cy: float


@dataclass(frozen=True)
class Layout:
    pages: tuple[tuple, ...]               # each page: tuple of Text/Rule/Seal
    parts: tuple[tuple[int, int], ...]     # (first_page, last_page) per document, 1-based


def font_path(font: str) -> Path:
    return FONT_DIR / FONTS[font]


class _Pager:
    """Accumulates operations, breaking pages when the cursor runs out."""

    def __init__(self) -> None:
        self.pages: list[list] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = TOP
        if len(self.pages) > 1 and self._doc_page > 1:
            # Nghị định 30: page numbers centred at the top from page 2 on.
            self.add(Text(PAGE_W / 2 - 3, TOP - 18, str(self._doc_page), "regular", 10))

    _doc_start = 0

    @property
    def _doc_page(self) -> int:
        return len(self.pages) - self._doc_start

    def start_document(self) -> None:
        if self.pages[-1]:
            self.pages.append([])
        self._doc_start = len(self.pages) - 1
        self.y = TOP

    def add(self, op) -> None:
        self.pages[-1].append(op)

    def need(self, height: float) -> None:
        if self.y + height > PAGE_H - BOTTOM:
            self.new_page()


def wrap(text: str, font: str, size: float, width: float, measure: Measure, indent: float = 0) -> list[str]:
    """Greedy word wrap; the first line is ``indent`` points narrower."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        avail = width - (indent if not lines else 0)
        if current and measure(trial, font, size) > avail:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def letter_space(title: str) -> str:
    """``TỜ TRÌNH`` -> ``T Ờ  T R Ì N H`` as some schools type headings."""
    return "  ".join(" ".join(word) for word in title.split())


def _centred(p: _Pager, text: str, font: str, size: float, col: tuple[float, float], measure: Measure,
             leading: float) -> None:
    for line in wrap(text, font, size, col[1] - col[0], measure):
        w = measure(line, font, size)
        p.add(Text((col[0] + col[1]) / 2 - w / 2, p.y + size, line, font, size))
        p.y += leading


def _header(p: _Pager, doc: DocContent, measure: Measure, tx: Callable[[str], str]) -> None:
    top = p.y
    _centred(p, tx(doc.parent), "regular", HEAD, LEFT_COL, measure, 13)
    _centred(p, tx(doc.issuer), "bold", HEAD, LEFT_COL, measure, 13)
    mid = (LEFT_COL[0] + LEFT_COL[1]) / 2
    p.add(Rule(mid - 30, mid + 30, p.y + 1))
    p.y += 8
    _centred(p, tx(doc.number), "regular", HEAD + 1, LEFT_COL, measure, 14)
    left_end = p.y
    p.y = top
    _centred(p, tx(doc.nation), "bold", HEAD, RIGHT_COL, measure, 13)
    _centred(p, tx(doc.motto), "bold", HEAD + 1, RIGHT_COL, measure, 13)
    mid = (RIGHT_COL[0] + RIGHT_COL[1]) / 2
    p.add(Rule(mid - 75, mid + 75, p.y + 1))
    p.y += 10
    _centred(p, tx(doc.place_date), "italic", HEAD + 1, RIGHT_COL, measure, 14)
    p.y = max(p.y, left_end) + 14


def _title(p: _Pager, doc: DocContent, measure: Measure, tx: Callable[[str], str]) -> None:
    title = letter_space(doc.title) if doc.style.letter_spaced else doc.title
    body_col = (LEFT, PAGE_W - RIGHT)
    _centred(p, tx(title), "bold", TITLE_SIZE, body_col, measure, 18)
    for line in doc.subject:
        _centred(p, tx(line), "bold", BODY, (LEFT + 30, PAGE_W - RIGHT - 30), measure, LEADING)
    p.y += 6
    if doc.recipient:
        _centred(p, tx(doc.recipient), "regular", BODY + 0.5, body_col, measure, LEADING + 2)
    p.y += 6


def _block(p: _Pager, block: Block, measure: Measure, tx: Callable[[str], str]) -> None:
    width = PAGE_W - RIGHT - LEFT
    if block.kind == "c":
        p.need(LEADING)
        _centred(p, tx(block.text), "italic", BODY, (LEFT, PAGE_W - RIGHT), measure, LEADING)
        return
    font = "bold" if block.kind == "h" else "regular"
    indent = 28.0 if block.kind in ("p", "kv") else (14.0 if block.kind == "b" else 0.0)
    x0 = LEFT
    prefix_w = 0.0
    if block.kind == "kv":
        label = tx(block.label)
        p.need(LEADING)
        p.add(Text(LEFT + indent, p.y + BODY, label, "bold", BODY))
        prefix_w = measure(label + " ", "bold", BODY)
    lines = wrap(tx(block.text), font, BODY, width, measure, indent + prefix_w)
    for i, line in enumerate(lines):
        p.need(LEADING)
        x = x0 + (indent + prefix_w if i == 0 else 0)
        p.add(Text(x, p.y + BODY, line, font, BODY))
        p.y += LEADING
    p.y += 3


def _signatures(p: _Pager, doc: DocContent, measure: Measure, tx: Callable[[str], str]) -> None:
    height = 30 + 15 * (len(doc.signers[-1].titles) + 1) + 70
    p.need(height)
    top = p.y + 6
    left_col, right_col = (LEFT - 20, 280.0), (300.0, PAGE_W - RIGHT)
    if doc.places:
        p.y = top
        p.add(Text(LEFT - 20, p.y + 10.5, tx("Nơi nhận:"), "bold", 10.5))
        p.y += 14
        for place in doc.places:
            p.add(Text(LEFT - 20, p.y + 10, tx(place), "regular", 10))
            p.y += 12.5
    bottom = p.y
    cols = [left_col, right_col] if len(doc.signers) == 2 else [right_col]
    for signer, col in zip(doc.signers, cols):
        p.y = top
        for t in signer.titles:
            _centred(p, tx(t), "bold", BODY, col, measure, 15)
        sign_y = p.y + 30
        p.add(Seal((col[0] + col[1]) / 2, sign_y))
        p.y += 62
        _centred(p, tx(signer.name), "bold", BODY, col, measure, 15)
        bottom = max(bottom, p.y)
    p.y = bottom


def layout_documents(docs: list[DocContent], measure: Measure) -> Layout:
    """Lay out documents one after another (each starts on a new page)."""
    p = _Pager()
    parts = []
    for doc in docs:
        p.start_document()
        first = len(p.pages)
        tx = _transform(doc)
        _header(p, doc, measure, tx)
        _title(p, doc, measure, tx)
        for block in doc.body:
            _block(p, block, measure, tx)
        _signatures(p, doc, measure, tx)
        parts.append((first, len(p.pages)))
    return Layout(pages=tuple(tuple(page) for page in p.pages), parts=tuple(parts))


def _transform(doc: DocContent) -> Callable[[str], str]:
    """NFD documents (typed on a Mac or converted) carry combining marks."""
    if doc.style.nfd:
        return lambda s: unicodedata.normalize("NFD", s)
    return lambda s: s
