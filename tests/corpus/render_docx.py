"""Word documents the way schools type them, packaged with python-docx.

The header is a borderless two-column TABLE (issuer left, national motto
right), which ``document.paragraphs`` does not see. ``legacy=True`` writes
the text in TCVN3: Latin-1 characters standing for VN3 bytes in runs whose
font is ``.VnTime`` (``.VnTimeH`` for capitals), as old files opened in Word
look.

python-docx provides the package (template, styles, section, core
properties, saving); the body is emitted as WordprocessingML text and parsed
once, because building hundreds of runs through python-docx's element API
costs ~0.2 s per document, too slow for a 2,000-message corpus.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Mm, Pt

from . import tcvn3
from .content import Block, DocContent
from .layout import letter_space

UNICODE_FONT = "Times New Roman"
# Parts of python-docx's template that a real Word 2016 file does not carry
# (a Word 2010 styles copy and a thumbnail of an empty page); dropping them
# also keeps the mail small.
_DROP = ("word/stylesWithEffects.xml", "docProps/thumbnail.jpeg")
_LATENT = re.compile(rb"<w:latentStyles\b.*?</w:latentStyles>", re.S)
_STYLE = re.compile(rb"<w:style\b[^>]*>.*?</w:style>", re.S)
# The template defines ~160 styles (330 KB); a typed letter uses a handful.
_KEEP_STYLES = (b'w:styleId="Normal"', b'w:styleId="DefaultParagraphFont"', b'w:styleId="TableNormal"',
                b'w:styleId="NoList"', b'w:styleId="TableGrid"')


class DocxRenderer:
    """Renders ``DocContent`` to .docx bytes; holds a prepared template."""

    def __init__(self) -> None:
        self._templates: dict[bool, bytes] = {}

    def _template(self, legacy: bool) -> bytes:
        if legacy not in self._templates:
            doc = Document()
            normal = doc.styles["Normal"]
            normal.font.name = ".VnTime" if legacy else UNICODE_FONT
            normal.font.size = Pt(13)
            section = doc.sections[0]
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.left_margin, section.right_margin = Cm(3), Cm(1.5)
            section.top_margin, section.bottom_margin = Cm(2), Cm(2)
            buf = io.BytesIO()
            doc.save(buf)
            self._templates[legacy] = _rewrite(buf.getvalue(), None, {"word/styles.xml": _prune_styles})
        return self._templates[legacy]

    def render(self, content: DocContent, legacy: bool = False, author: str = "") -> bytes:
        """The document as .docx bytes (deterministic: fixed zip timestamps)."""
        doc = Document(io.BytesIO(self._template(legacy)))
        xml = _Xml(legacy, content.style.nfd and not legacy).document(content)
        body = doc.element.body
        sect = body[-1]
        for child in list(parse_xml(f"<w:body {nsdecls('w')}>{xml}</w:body>")):
            sect.addprevious(child)
        stamp = datetime.combine(content.doc_date, datetime.min.time()).replace(hour=8)
        props = doc.core_properties
        props.author = props.last_modified_by = author
        props.title = ""
        props.created = props.modified = stamp
        props.revision = 1
        buf = io.BytesIO()
        doc.save(buf)
        return normalise_zip(buf.getvalue(), stamp)


class _Xml:
    """WordprocessingML for one document's body."""

    def __init__(self, legacy: bool, nfd: bool) -> None:
        self.legacy = legacy
        self.nfd = nfd

    def runs(self, text: str, bold=False, italic=False, size=13.0) -> str:
        if self.legacy:
            pieces = tcvn3.encode_runs(text)
        else:
            pieces = [(UNICODE_FONT, unicodedata.normalize("NFD", text) if self.nfd else text)]
        out = []
        half = int(size * 2)
        for font, piece in pieces:
            props = (f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:cs="{font}" w:eastAsia="{font}"/>'
                     + ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
                     + f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>')
            out.append(f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{escape(piece)}</w:t></w:r>')
        return "".join(out)

    def para(self, runs: str, align: str = "both", indent_cm: float = 0, after_pt: float = 0) -> str:
        ind = f'<w:ind w:firstLine="{int(indent_cm * 567)}"/>' if indent_cm else ""
        return (f'<w:p><w:pPr><w:spacing w:before="0" w:after="{int(after_pt * 20)}"/>{ind}'
                f'<w:jc w:val="{align}"/></w:pPr>{runs}</w:p>')

    def cell(self, width: int, lines: list[tuple[str, bool, bool, float]], align: str = "center") -> str:
        paras = "".join(self.para(self.runs(t, b, i, s), align) for t, b, i, s in lines) or "<w:p/>"
        return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{paras}</w:tc>'

    def table(self, widths: tuple[int, int], cells: list[str]) -> str:
        grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
        return (f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
                f'<w:tblLook w:val="04A0"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>'
                f'<w:tr>{"".join(cells)}</w:tr></w:tbl>')

    def document(self, c: DocContent) -> str:
        widths = (3800, 5800)
        head = self.table(widths, [
            self.cell(widths[0], [(c.parent, False, False, 12), (c.issuer, True, False, 12),
                                  ("_______", False, False, 8), (c.number, False, False, 13)]),
            self.cell(widths[1], [(c.nation, True, False, 12), (c.motto, True, False, 13),
                                  ("____________________", False, False, 8), (c.place_date, False, True, 13)]),
        ])
        parts = [head, self.para("", after_pt=6)]
        title = letter_space(c.title) if c.style.letter_spaced else c.title
        parts.append(self.para(self.runs(title, bold=True, size=14), "center"))
        parts += [self.para(self.runs(line, bold=True), "center", after_pt=6) for line in c.subject]
        if c.recipient:
            parts.append(self.para(self.runs(c.recipient), "center", after_pt=6))
        parts += [self.block(b) for b in c.body]
        parts.append(self.signatures(c))
        return "".join(parts)

    def block(self, b: Block) -> str:
        if b.kind == "h":
            return self.para(self.runs(b.text, bold=True), after_pt=3)
        if b.kind == "c":
            return self.para(self.runs(b.text, italic=True), "center", after_pt=3)
        if b.kind == "kv":
            return self.para(self.runs(b.label + " ", bold=True) + self.runs(b.text), indent_cm=1.0, after_pt=3)
        return self.para(self.runs(b.text), indent_cm=1.0 if b.kind == "p" else 0.5, after_pt=3)

    def signatures(self, c: DocContent) -> str:
        widths = (4300, 5300)

        def signer_lines(s):
            return [(t, True, False, 13) for t in s.titles] + [("", False, False, 13)] * 4 + [(s.name, True, False, 13)]
        if c.places:
            left = self.cell(widths[0], [("Nơi nhận:", True, True, 12)] + [(p, False, False, 11) for p in c.places],
                             align="left")
        elif len(c.signers) == 2:
            left = self.cell(widths[0], signer_lines(c.signers[0]))
        else:
            left = self.cell(widths[0], [])
        right = self.cell(widths[1], signer_lines(c.signers[-1]))
        return self.table(widths, [left, right])


def normalise_zip(data: bytes, when: datetime) -> bytes:
    """Re-pack an OOXML zip with fixed timestamps (python-docx stamps 'now')
    and without the template leftovers in ``_DROP``."""
    return _rewrite(data, when, {})


def _rewrite(data: bytes, when: datetime | None, edits: dict) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    when = when or datetime(2016, 1, 1)
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in _DROP:
                continue
            body = src.read(info.filename)
            if info.filename in ("[Content_Types].xml", "_rels/.rels", "word/_rels/document.xml.rels"):
                body = _drop_references(body)
            if info.filename in edits:
                body = edits[info.filename](body)
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()


def _prune_styles(xml: bytes) -> bytes:
    """Drop latent styles and every style definition a letter does not use."""
    xml = _LATENT.sub(b"", xml)
    return _STYLE.sub(lambda m: m.group(0) if any(k in m.group(0)[:300] for k in _KEEP_STYLES) else b"", xml)


def _drop_references(xml: bytes) -> bytes:
    for name in _DROP:
        target = name.split("/", 1)[1] if name.startswith("word/") else name
        xml = re.sub(rb'<(?:Override|Relationship)[^>]*"/?' + re.escape(target.encode()) + rb'"[^>]*/>', b"", xml)
    return xml
