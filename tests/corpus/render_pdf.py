"""Text PDFs drawn with reportlab and DejaVu Serif (embedded, subset)."""
from __future__ import annotations

import io

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .layout import FONTS, PAGE_H, PAGE_W, Layout, Rule, Text, font_path

_RL_NAMES = {key: "Corpus" + name.removesuffix(".ttf") for key, name in FONTS.items()}
# Each embedded DejaVu subset costs ~20 KB. The text PDFs embed one font:
# bold is drawn as filled-and-stroked regular glyphs ("fake bold", as PDF
# printers do when the bold face is missing) and italics are upright.
# Scans and DOCX keep real bold and italics.
_PDF_FONT = _RL_NAMES["regular"]
_FAKE_BOLD_STROKE = 0.35


def ensure_fonts() -> None:
    """Register the DejaVu fonts with reportlab (its registry is process-wide;
    registering twice is harmless but slow, hence the check)."""
    known = set(pdfmetrics.getRegisteredFontNames())
    for key, rl_name in _RL_NAMES.items():
        if rl_name not in known:
            pdfmetrics.registerFont(TTFont(rl_name, str(font_path(key))))


class Measurer:
    """Text widths in points with the metrics the PDF will use.

    reportlab measures TrueType text in pure Python; word wrapping measures
    every trial line, so widths are cached per word (at size 1; widths are
    linear in size and reportlab applies no kerning, so a line's width is
    the sum of its words and spaces)."""

    def __init__(self) -> None:
        ensure_fonts()
        self._words: dict[tuple[str, str], float] = {}

    def _word(self, word: str, font: str) -> float:
        key = (word, font)
        width = self._words.get(key)
        if width is None:
            width = self._words[key] = pdfmetrics.stringWidth(word, _RL_NAMES[font], 1.0)
        return width

    def __call__(self, text: str, font: str, size: float) -> float:
        words = text.split(" ")
        total = sum(self._word(w, font) for w in words) + (len(words) - 1) * self._word(" ", font)
        return total * size


def _draw_text(c: canvas.Canvas, op: Text) -> None:
    text = c.beginText(op.x, PAGE_H - op.y)
    text.setFont(_PDF_FONT, op.size)
    if op.font != "bold":
        text.textOut(op.text)
        c.drawText(text)
        return
    # The render mode belongs to the graphics state and outlives the text
    # object: q/Q keeps it from leaking into the following lines.
    c.saveState()
    text.setTextRenderMode(2)
    text.textOut(op.text)
    c.drawText(text)
    c.restoreState()


def render_pdf(layout: Layout, title: str = "", author: str = "") -> bytes:
    """Draw a layout; ``invariant`` keeps the bytes identical run to run."""
    ensure_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(author)
    c.setCreator("Microsoft® Word 2016")
    c.setLineWidth(_FAKE_BOLD_STROKE)
    for page in layout.pages:
        for op in page:
            if isinstance(op, Text):
                _draw_text(c, op)
            elif isinstance(op, Rule):
                c.line(op.x1, PAGE_H - op.y, op.x2, PAGE_H - op.y)
        c.showPage()
    c.save()
    return buf.getvalue()
