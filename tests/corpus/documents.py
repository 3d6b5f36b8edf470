"""Rendering documents to files, with a cache.

``DocumentFactory.render(specs, fmt)`` returns the bytes of one attachment:

- ``pdf``        text PDF (reportlab); several specs make a combined PDF
- ``docx``       Word, Unicode, header in a two-column table
- ``docx_tcvn3`` Word typed in TCVN3 (``.VnTime`` runs, legacy bytes)
- ``scan_pdf``   image-only PDF (no text layer); several specs allowed
- ``scan_jpg``   a phone photo of page 1, as JPEG
- ``scan_jpg@N``  a phone photo of page N alone; ``scan_jpg@N~cut``: the same
  framed too low, so that the top of the sheet (issuer, motto, number, date,
  title and trích yếu) is not in the picture

Renders depend only on their arguments, so the factory caches them: a
2,000-message corpus re-sends the same school's report many times, and a
scan costs ~0.1 s a page.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, time as dtime

from .content import Context, DocContent, DocSpec, compose, school_facts
from .layout import BODY, LEFT, PAGE_W, RIGHT, TITLE_SIZE, Layout, Text, layout_documents, wrap
from .render_docx import DocxRenderer
from .render_pdf import Measurer, render_pdf
from .render_scan import ScanRenderer, phone_photo, to_jpeg, to_pdf

_PAGE_PHOTO = re.compile(r"^scan_jpg@\d+(~cut)?$")
FORMATS = ("pdf", "docx", "docx_tcvn3", "scan_pdf", "scan_jpg")
EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "docx_tcvn3": ".docx", "scan_pdf": ".pdf", "scan_jpg": ".jpg"}
CONTENT_TYPES = {
    ".pdf": "application/pdf", ".jpg": "image/jpeg", ".zip": "application/zip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Rendered:
    """One file. ``parts`` gives each document's (first, last) page; for
    Word files, which have no fixed pages, it is (1, 1) per document."""

    data: bytes
    pages: int
    parts: tuple[tuple[int, int], ...]


class DocumentFactory:
    """Composes, lays out and renders documents, caching every step.

    ``dry=True`` renders nothing: it records which files were asked for and
    answers with their page ranges and empty data. A dry pass over the
    corpus lists the distinct files, which can then be rendered in parallel
    and handed back through ``rendered``.
    """

    def __init__(self, ctx: Context, rendered: dict | None = None, dry: bool = False) -> None:
        self.ctx = ctx
        self.dry = dry
        self.requested: list[tuple] = []
        self._content: dict[DocSpec, DocContent] = {}
        self._layout: dict[tuple[DocSpec, ...], Layout] = {}
        self._files: dict[tuple, Rendered] = dict(rendered or {})
        self._measure = Measurer()
        self._docx = DocxRenderer()
        self._scan = ScanRenderer()

    @classmethod
    def from_dry_run(cls, dry: "DocumentFactory", rendered: dict) -> "DocumentFactory":
        """A real factory with ``rendered`` files, keeping the dry run's
        composed and laid-out documents."""
        factory = cls(dry.ctx, rendered)
        factory._content = dict(dry._content)
        factory._layout = dict(dry._layout)
        return factory

    def content(self, spec: DocSpec) -> DocContent:
        if spec not in self._content:
            self._content[spec] = compose(spec, self.ctx)
        return self._content[spec]

    def layout(self, specs: tuple[DocSpec, ...]) -> Layout:
        """Each document is laid out once; a combined file concatenates them
        (every document starts on a new page and numbers its own pages)."""
        for s in specs:
            if (s,) not in self._layout:
                self._layout[(s,)] = layout_documents([self.content(s)], self._measure)
        if len(specs) == 1:
            return self._layout[specs]
        pages, parts = [], []
        for s in specs:
            one = self._layout[(s,)]
            parts.append((len(pages) + 1, len(pages) + len(one.pages)))
            pages += one.pages
        return Layout(pages=tuple(pages), parts=tuple(parts))

    def page_count(self, spec: DocSpec) -> int:
        return len(self.layout((spec,)).pages)

    def render(self, specs: tuple[DocSpec, ...], fmt: str) -> Rendered:
        """``fmt`` "scan_jpg@N" is a phone photo of page N alone (photographed page by page);
        "scan_jpg@N~cut" the same with the top of the sheet down to the trích yếu outside the picture."""
        if fmt not in FORMATS and not _PAGE_PHOTO.match(fmt):
            raise ValueError(f"unknown format {fmt!r}")
        if len(specs) > 1 and fmt not in ("pdf", "scan_pdf"):
            raise ValueError("only PDFs combine several documents")
        key = (specs, fmt)
        if key not in self._files:
            self.requested.append(key)
            self._files[key] = self._placeholder(specs, fmt) if self.dry else self._render(specs, fmt)
        return self._files[key]

    def _below_subject(self, ops: tuple, doc: DocContent) -> float:
        """Where (points from the top) the first page's title block ends: a little under the
        last line of the trích yếu, as ``layout._title`` wrapped it."""
        texts = [op for op in ops if isinstance(op, Text)]
        title = next(i for i, op in enumerate(texts) if op.font == "bold" and op.size == TITLE_SIZE)
        width = PAGE_W - RIGHT - LEFT - 60
        lines = sum(len(wrap(line, "bold", BODY, width, self._measure)) for line in doc.subject)
        return texts[title + lines].y + 7

    def _placeholder(self, specs: tuple[DocSpec, ...], fmt: str) -> Rendered:
        if fmt.startswith("docx"):
            return Rendered(b"", 0, ((1, 1),))
        if fmt.startswith("scan_jpg"):
            return Rendered(b"", 1, ((1, 1),))
        layout = self.layout(specs)
        return Rendered(b"", len(layout.pages), layout.parts)

    def _render(self, specs: tuple[DocSpec, ...], fmt: str) -> Rendered:
        first = self.content(specs[0])
        school = self.ctx.roster[specs[0].school]
        clerk = school_facts(school, specs[0].year).secretary[0]
        if fmt in ("docx", "docx_tcvn3"):
            data = self._docx.render(first, legacy=fmt == "docx_tcvn3", author=clerk)
            return Rendered(data, 0, ((1, 1),))
        layout = self.layout(specs)
        if fmt == "pdf":
            return Rendered(render_pdf(layout, author=clerk), len(layout.pages), layout.parts)
        rng = random.Random(f"scan:{specs}:{fmt}")
        issuer = first.issuer if first.spec.topic.startswith("issuer_") else school.issuer()
        seal = f"{issuer} * {self.ctx.place.upper()} * "
        if fmt.startswith("scan_jpg@"):
            number, _, damage = fmt[9:].partition("~")
            k = int(number)
            page = self._scan.pages(Layout(layout.pages[k - 1:k], ((1, 1),)), rng, seal)[0]
            if damage == "cut":
                below = self._below_subject(layout.pages[k - 1], first)
                page = page.crop((0, round(below * self._scan.scale), page.width, page.height))
            return Rendered(to_jpeg(phone_photo(page, rng)), 1, ((1, 1),))
        if fmt == "scan_jpg":
            page = self._scan.pages(Layout(layout.pages[:1], ((1, 1),)), rng, seal)[0]
            return Rendered(to_jpeg(phone_photo(page, rng)), 1, ((1, 1),))
        pages = self._scan.pages(layout, rng, seal)
        scanned = datetime.combine(first.doc_date, dtime(16, 30))
        return Rendered(to_pdf(pages, scanned), len(pages), layout.parts)
