"""Build real PDF, DOCX and image files on the fly for the extraction tests.

Documents follow Nghị định 30/2020 (issuer top left, national motto top
right, number, place and date, centred title). Everything is drawn with the
DejaVu fonts Debian ships, so Vietnamese letters are real Unicode text.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
SERIF = f"{FONT_DIR}/DejaVuSerif.ttf"
SERIF_BOLD = f"{FONT_DIR}/DejaVuSerif-Bold.ttf"
SANS = f"{FONT_DIR}/DejaVuSans.ttf"

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class OfficialDoc:
    """One administrative document: header, title, and body pages."""

    title: str = "TỜ TRÌNH"
    number: str = "Số: 15/TTr-THCSNH"
    subject: str = "Về việc đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ"
    supervisor: str = "UBND QUẬN 12"
    issuer: str = "TRƯỜNG THCS NGUYỄN HUỆ"
    place_date: str = "Quận 12, ngày 05 tháng 10 năm 2023"
    body: tuple[str, ...] = ("Kính gửi: Phòng Giáo dục và Đào tạo Quận 12",
                             "Căn cứ Kế hoạch số 887/KH-GDĐT về phong trào toàn dân bảo vệ an ninh Tổ quốc;")
    extra_pages: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------
# PDF (reportlab)
# --------------------------------------------------------------------------

def _canvas(buf: io.BytesIO, encrypt: str | None = None):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    for name, path in (("DejaVuSerif", SERIF), ("DejaVuSerif-Bold", SERIF_BOLD)):
        if name not in pdfmetrics.getRegisteredFontNames():  # parsed once a process: the same bytes come out
            pdfmetrics.registerFont(TTFont(name, path))
    # invariant: no creation date or random ID, so a document built twice is the same bytes
    return canvas.Canvas(buf, pagesize=A4, encrypt=encrypt, invariant=1)


def _draw_header(c, doc: OfficialDoc, order: str, width: float, top: float) -> float:
    """Two-column header; ``order`` "cells" (left cell, then right, like Word)
    or "rows" (row by row across the page, as some PDF printers write it)."""
    left_x, right_x = width * 0.22, width * 0.66
    left = [(doc.supervisor, "DejaVuSerif", 12), (doc.issuer, "DejaVuSerif-Bold", 12),
            (doc.number, "DejaVuSerif", 12)]
    right = [(MOTTO, "DejaVuSerif-Bold", 11), (MOTTO_2, "DejaVuSerif-Bold", 12),
             (doc.place_date, "DejaVuSerif", 11)]
    rows = [(top - 18 * i) for i in range(3)]
    ops = []
    for i in range(3):
        ops.append((left_x, rows[i], left[i]))
        ops.append((right_x, rows[i], right[i]))
    if order == "cells":
        ops = ops[0::2] + ops[1::2]
    for x, y, (text, font, size) in ops:
        c.setFont(font, size)
        c.drawCentredString(x, y, text)
    return rows[-1] - 40


def _draw_lines(c, lines, y: float, x: float = 70, size: int = 12) -> float:
    c.setFont("DejaVuSerif", size)
    for line in lines:
        c.drawString(x, y, line)
        y -= 18
    return y


def official_pdf(docs: list[OfficialDoc], order: str = "cells", letter_spaced: bool = False,
                 encrypt: str | None = None) -> bytes:
    """A PDF holding ``docs`` one after another, each starting on a new page."""
    from reportlab.lib.pagesizes import A4

    buf = io.BytesIO()
    c = _canvas(buf, encrypt)
    width, height = A4
    for doc in docs:
        y = _draw_header(c, doc, order, width, height - 60)
        c.setFont("DejaVuSerif-Bold", 14)
        if letter_spaced:
            c.saveState()  # character spacing is graphics state: keep it to the title
            text = c.beginText()
            text.setTextOrigin(width / 2 - 80, y)
            text.setCharSpace(6)
            text.textLine(doc.title)
            c.drawText(text)
            c.restoreState()
        else:
            c.drawCentredString(width / 2, y, doc.title)
        c.setFont("DejaVuSerif", 12)
        c.drawCentredString(width / 2, y - 18, doc.subject)
        _draw_lines(c, doc.body, y - 54)
        for page in doc.extra_pages:
            c.showPage()
            _draw_lines(c, page, height - 70)
        c.showPage()
    c.save()
    return buf.getvalue()


def text_pdf(pages: list[list[str]]) -> bytes:
    """A plain PDF: each page holds the given lines, top-left aligned."""
    from reportlab.lib.pagesizes import A4

    buf = io.BytesIO()
    c = _canvas(buf)
    for lines in pages:
        _draw_lines(c, lines, A4[1] - 70)
        c.showPage()
    c.save()
    return buf.getvalue()


def image_pdf(png_pages: list[bytes]) -> bytes:
    """A "scanned" PDF: each page is one image, no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = _canvas(buf)
    width, height = A4
    for png in png_pages:
        c.drawImage(ImageReader(io.BytesIO(png)), 0, 0, width=width, height=height)
        c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------------
# Images (Pillow)
# --------------------------------------------------------------------------

def text_image(lines: list[str], fmt: str = "PNG", size: tuple[int, int] = (1240, 1754),
               font_size: int = 44) -> bytes:
    """A page-sized white image with black text, as a scanner would give."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(SANS, font_size)
    y = 120
    for line in lines:
        draw.text((100, y), line, font=font, fill=0)
        y += int(font_size * 1.8)
    buf = io.BytesIO()
    image.save(buf, format=fmt, dpi=(150, 150))
    return buf.getvalue()


# --------------------------------------------------------------------------
# DOCX (python-docx, plus raw XML where it has no API)
# --------------------------------------------------------------------------

_TEXTBOX = """<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
  xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
  xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
  xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
  xmlns:v="urn:schemas-microsoft-com:vml">
 <mc:AlternateContent>
  <mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0"
    simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">
    <wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>
    <wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>
    <wp:extent cx="2000000" cy="500000"/><wp:wrapNone/><wp:docPr id="7" name="Text Box 7"/>
    <a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">
     <wps:wsp><wps:txbx><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></wps:txbx>
     <wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>
  <mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p>
   </w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>
 </mc:AlternateContent>
</w:r>"""


def official_docx(doc: OfficialDoc = OfficialDoc(), textbox: str | None = None,
                  legacy_runs: tuple[tuple[str, str], ...] = (), header: str | None = None,
                  legacy_style: tuple[str, str] | None = None) -> bytes:
    """A DOCX with the two-column header TABLE, the title and the body.

    ``textbox``: text put in a floating text box (DrawingML with its VML
    fallback, as Word writes it). ``legacy_runs``: (text, font) runs in a
    paragraph of their own, e.g. ("B¸o c¸o", ".VnTime"). ``legacy_style``:
    (text, font) for a paragraph whose font comes from its style only.
    ``header``: text of the page header.
    """
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml

    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.text = doc.supervisor
    left.add_paragraph(doc.issuer).runs[0].bold = True
    left.add_paragraph(doc.number)
    right.text = MOTTO
    right.add_paragraph(MOTTO_2)
    right.add_paragraph(doc.place_date)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(doc.title).bold = True
    document.add_paragraph(doc.subject)
    if textbox is not None:
        anchor = document.add_paragraph("Neo:")
        anchor._p.append(parse_xml(_TEXTBOX.format(text=textbox)))
    for line in doc.body:
        document.add_paragraph(line)
    if legacy_runs:
        paragraph = document.add_paragraph()
        for text, font in legacy_runs:
            paragraph.add_run(text).font.name = font
    if legacy_style is not None:
        style = document.styles.add_style("LegacyFont", 1)  # WD_STYLE_TYPE.PARAGRAPH
        style.font.name = legacy_style[1]
        document.add_paragraph(legacy_style[0], style=style)
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    buf = io.BytesIO()
    document.save(buf)
    return _with_fixed_zip_times(buf.getvalue())


def _with_fixed_zip_times(data: bytes) -> bytes:
    """Re-pack a ZIP with one fixed timestamp: python-docx stamps the current
    second on every member, so two builds straddling a second would differ."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2023, 10, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


def docx_with_doctype(docx_bytes: bytes, doctype: str) -> bytes:
    """Rewrite word/document.xml of a DOCX with a DOCTYPE (XXE, billion laughs)."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                head, sep, rest = data.partition(b"?>")
                data = head + sep + doctype.encode() + rest
                data = data.replace("Kính gửi".encode(), b"&xxe;", 1)
            dst.writestr(item, data)
    return out.getvalue()


XXE_DOCTYPE = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS_DOCTYPE = ('<!DOCTYPE w:document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                  '<!ENTITY xxe "&b;&b;&b;&b;&b;&b;&b;&b;">]>')
