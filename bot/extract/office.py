"""Word documents: DOCX (tables, text boxes, legacy fonts, ZIP-bomb and DOCTYPE
checks), and .doc/RTF through external converters (catdoc, LibreOffice)."""
from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import zipfile

from ..model import Extraction
from ..vietnamese import convert_legacy, fix_legacy, font_capitals, font_encoding
from .common import BROKEN_DOCX, EMPTY_WORD, ExtractLimits
from .text import Block, legacy_note, extraction_from_blocks, clean_lines


# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)


def _check_docx_zip(zf: zipfile.ZipFile, limits: ExtractLimits, blobs: dict[str, bytes] | None = None) -> str | None:
    """Refuse ZIP bombs and XML with a DOCTYPE (external entities, billion laughs).

    python-docx's parser does not resolve entities, but a DOCTYPE has no
    place in a Word file, so it is refused before any XML parser sees it.
    ``blobs``: filled with the XML and .rels members read (by name, as ``zf.read`` gives them).
    """
    names = zf.namelist()
    if "word/document.xml" not in names:
        return None  # caller decides what other ZIPs are
    if sum(info.file_size for info in zf.infolist()) > limits.max_unpacked:
        return "tệp DOCX giải nén ra quá dung lượng cho phép (có thể là ZIP bomb)"
    for info in zf.infolist():
        if info.filename.endswith((".xml", ".rels")):
            data = zf.read(info)
            if blobs is not None:
                blobs[info.filename] = data  # a name given twice: the last one, as zf.read(name) reads
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                data = data.decode("utf-16", "replace").encode("utf-8")
            if _DOCTYPE.search(data):
                return "tệp DOCX có khai báo XML DOCTYPE/entity (không đọc, vì an toàn)"
    return None


def extract_zip(data: bytes, limits: ExtractLimits, *, fast: bool = True) -> Extraction:
    """A ZIP-based file: a DOCX is read; any other ZIP is an error with the reason.
    ``fast=False``: a DOCX is read through python-docx alone (the same result; tests compare them)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return Extraction("docx", error=BROKEN_DOCX)
    if "word/document.xml" not in names:
        if any(n.startswith("xl/") for n in names):
            return Extraction("unknown", error="tệp Excel, không phải văn bản Word")
        if "content.xml" in names:
            return Extraction("unknown", error="tệp OpenDocument (LibreOffice), chưa đọc được")
        return Extraction("unknown", error="tệp nén ZIP, không phải văn bản")
    blobs: dict[str, bytes] = {}
    try:
        problem = _check_docx_zip(zf, limits, blobs)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return Extraction("docx", error=BROKEN_DOCX)
    if problem:
        return Extraction("docx", error=problem)
    return _extract_docx(data, zf, limits, blobs if fast else None)


def _extract_docx(data: bytes, zf: zipfile.ZipFile, limits: ExtractLimits,
                  blobs: dict[str, bytes] | None = None) -> Extraction:
    """A DOCX's text: its parts read by ``_plain_package`` when it can, else by python-docx
    (what it refuses, and how it fails, stay python-docx's)."""
    package = _plain_package(zf, blobs) if blobs is not None else None
    if package is not None:
        styles, headers, body = package
        fonts = _FontResolver(styles)
        raw_blocks = _header_blocks(headers, fonts) + _walk_container(body, fonts)
    else:
        import docx

        try:
            document = docx.Document(io.BytesIO(data))
        except Exception:  # python-docx raises KeyError, ValueError, lxml errors...
            return Extraction("docx", error="tệp DOCX bị hỏng (thiếu hoặc sai các phần của Word)")
        fonts = _FontResolver(document.styles.element)
        raw_blocks = _header_blocks(_docx_headers(document), fonts) + _walk_container(document.element.body, fonts)
    blocks, encodings = _fix_docx_blocks(raw_blocks)
    return extraction_from_blocks("docx", blocks, limits, pages=_docx_pages(zf), notes=legacy_note(encodings),
                                  empty_error=EMPTY_WORD)


def _docx_pages(zf: zipfile.ZipFile) -> int:
    try:
        app = zf.read("docProps/app.xml")
    except KeyError:
        return 0
    match = re.search(rb"<Pages>(\d+)</Pages>", app)
    return int(match.group(1)) if match else 0


# A DOCX line: its text and the legacy encoding its font implied (already converted).
_Line = tuple[str, str | None]


class _FontResolver:
    """The font of a run: run properties, then character style, paragraph
    style (following basedOn), then the document defaults."""

    def __init__(self, styles):
        """``styles``: the root element of the styles part."""
        self._fonts: dict[str, tuple[str | None, str | None]] = {}
        self.default_paragraph_style: str | None = None
        for style in styles.iter(f"{_W}style"):
            sid = style.get(f"{_W}styleId")
            based = style.find(f"{_W}basedOn")
            self._fonts[sid] = (_rfonts(style.find(f"{_W}rPr")),
                                based.get(f"{_W}val") if based is not None else None)
            if style.get(f"{_W}type") == "paragraph" and style.get(f"{_W}default") in ("1", "true"):
                self.default_paragraph_style = sid
        defaults = styles.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr")
        self.default_font = _rfonts(defaults)

    def style_font(self, style_id: str | None) -> str | None:
        for _ in range(20):  # basedOn chains are short; a cycle must not hang us
            if style_id is None or style_id not in self._fonts:
                return None
            font, style_id_next = self._fonts[style_id]
            if font:
                return font
            style_id = style_id_next
        return None

    def run_font(self, run, paragraph_style: str | None) -> str | None:
        rpr = run.find(f"{_W}rPr")
        font = _rfonts(rpr)
        if font:
            return font
        rstyle = rpr.find(f"{_W}rStyle") if rpr is not None else None
        if rstyle is not None and (font := self.style_font(rstyle.get(f"{_W}val"))):
            return font
        return self.style_font(paragraph_style or self.default_paragraph_style) or self.default_font


def _rfonts(rpr) -> str | None:
    """The font for non-ASCII Latin text (w:hAnsi), else w:ascii."""
    if rpr is None:
        return None
    fonts = rpr.find(f"{_W}rFonts")
    if fonts is None:
        return None
    return fonts.get(f"{_W}hAnsi") or fonts.get(f"{_W}ascii")


def _walk_container(container, fonts: _FontResolver) -> list[list[_Line]]:
    """Blocks (paragraphs, tables) of a body/cell/text box, in document order."""
    blocks: list[list[_Line]] = []
    for child in container:
        tag = child.tag
        if tag == f"{_W}p":
            blocks.extend(_paragraph_blocks(child, fonts))
        elif tag == f"{_W}tbl":
            blocks.append(_table_lines(child, fonts))
        elif tag in (f"{_W}sdt", f"{_W}customXml", f"{_W}sdtContent"):
            inner = child.find(f"{_W}sdtContent") if tag == f"{_W}sdt" else child
            if inner is not None:
                blocks.extend(_walk_container(inner, fonts))
    return blocks


def _table_lines(table, fonts: _FontResolver) -> list[_Line]:
    """All lines of a table: row by row, cell by cell (left cell, then right)."""
    lines: list[_Line] = []
    for row in table.iter(f"{_W}tr"):
        if row.getparent() is not table:
            continue  # nested tables are read inside their cell
        for cell in row.iter(f"{_W}tc"):
            if cell.getparent() is row:
                for block in _walk_container(cell, fonts):
                    lines.extend(block)
    return lines


def _paragraph_blocks(p, fonts: _FontResolver) -> list[list[_Line]]:
    """A paragraph's line(s), followed by the paragraphs of its text boxes."""
    ppr = p.find(f"{_W}pPr")
    pstyle = ppr.find(f"{_W}pStyle") if ppr is not None else None
    style_id = pstyle.get(f"{_W}val") if pstyle is not None else None
    pieces: list[tuple[str, str | None, bool]] = []
    boxes = []
    _collect_runs(p, fonts, style_id, pieces, boxes)
    blocks = [_join_pieces(pieces)]
    for box in boxes:
        blocks.extend(_walk_container(box, fonts))
    return blocks


def _collect_runs(element, fonts, style_id, pieces, boxes) -> None:
    """Walk a paragraph in order: runs give text, text boxes are set aside.

    ``mc:Fallback`` repeats the ``mc:Choice`` content (VML copy of a text
    box) and deleted text is not text: both are skipped.
    """
    for child in element:
        tag = child.tag
        if tag == f"{_W}r":
            _run_text(child, fonts, style_id, pieces, boxes)
        elif tag == f"{_W}txbxContent":
            boxes.append(child)
        elif tag in (f"{_MC}Fallback", f"{_W}del", f"{_W}pPr", f"{_W}rPr", f"{_W}moveFrom"):
            continue
        elif isinstance(tag, str):
            _collect_runs(child, fonts, style_id, pieces, boxes)


def _run_text(run, fonts, style_id, pieces, boxes) -> None:
    font = fonts.run_font(run, style_id)
    encoding = font_encoding(font)
    capitals = font_capitals(font)
    text = []
    for child in run:
        tag = child.tag
        if tag == f"{_W}t":
            text.append(child.text or "")
        elif tag == f"{_W}tab":
            text.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            text.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            text.append("-")
        elif tag == f"{_W}softHyphen" and encoding == "tcvn3":
            text.append("\u00ad")  # Word keeps TCVN3's ư (0xAD) as an optional hyphen
        elif tag == f"{_W}sym":
            text.append(_sym_char(child))
        elif isinstance(tag, str):
            _collect_runs(child, fonts, style_id, pieces, boxes)  # drawings, text boxes
    value = "".join(text)
    if encoding and value:
        pieces.append((convert_legacy(value, encoding, capitals), encoding, True))
    elif value:
        pieces.append((value, None, False))


def _sym_char(sym) -> str:
    try:
        code = int(sym.get(f"{_W}char", ""), 16)
    except ValueError:
        return ""
    return chr(code - 0xF000 if code >= 0xF000 else code)


def _join_pieces(pieces) -> list[_Line]:
    """One paragraph -> lines tagged with the font encoding that converted them."""
    text = "".join(p[0] for p in pieces)
    encodings = {p[1] for p in pieces if p[2]}
    encoding = encodings.pop() if len(encodings) == 1 else ("mixed" if encodings else None)
    return [(line, encoding) for line in text.split("\n")]


def _docx_headers(document) -> list:
    """python-docx's page headers (first-page, then default, of each section), those not linked
    to the previous section's: their root elements."""
    out = []
    for section in document.sections:
        for header in (section.first_page_header, section.header):
            if not header.is_linked_to_previous:
                out.append(header._element)
    return out


def _header_blocks(headers: list, fonts: _FontResolver) -> list[list[_Line]]:
    """Page headers (their root elements), each distinct one once."""
    blocks, seen = [], set()
    for element in headers:
        for block in _walk_container(element, fonts):
            key = tuple(text for text, _ in block)
            if any(t.strip() for t in key) and key not in seen:
                seen.add(key)
                blocks.append(block)
    return blocks


# The DOCX package as python-docx 1.2 reads it (docx.opc): content types, relationships, the
# parts whose XML it parses. ``_plain_package`` reads the same parts with the same XML parser
# settings, and only what python-docx would read without an error; anything else goes to
# python-docx. (Measured: python-docx building its package was 40 % of reading a DOCX.)
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_RT_DOCUMENT, _RT_STYLES, _RT_IMAGE = _RT + "officeDocument", _RT + "styles", _RT + "image"
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
_CT_DOCUMENT, _CT_STYLES = _WML + "document.main+xml", _WML + "styles+xml"
_XML_PARTS = {  # the content types python-docx loads as XML parts (docx/__init__.py)
    "application/vnd.openxmlformats-package.core-properties+xml", _WML + "comments+xml", _CT_DOCUMENT,
    _WML + "footer+xml", _WML + "header+xml", _WML + "numbering+xml", _WML + "settings+xml", _CT_STYLES}
_HEADER_TYPES = ("first", "default")  # python-docx's first_page_header, then header


def _plain_package(zf: zipfile.ZipFile, blobs: dict[str, bytes]):
    """(styles root, header roots, body) of a DOCX whose package python-docx would open as it
    is (every part reached by a relationship present and typed, each XML part well formed, one
    main document and one styles part, headers that resolve); None for anything else."""
    try:
        return _read_plain_package(zf, blobs)
    except Exception:  # whatever it is, python-docx decides (and words the error) as before
        return None


def _read_plain_package(zf: zipfile.ZipFile, blobs: dict[str, bytes]):
    from lxml import etree  # not at the top: loaded by the worker that reads a DOCX, as python-docx was

    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)  # python-docx's settings

    def member(partname: str) -> bytes:
        name = partname[1:]
        return blobs[name] if name in blobs else zf.read(name)

    types = etree.fromstring(member("/[Content_Types].xml"), parser)
    overrides = {o.get("PartName").lower(): o.get("ContentType") for o in types.findall(_CT_NS + "Override")}
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in types.findall(_CT_NS + "Default")}

    def content_type(partname: str) -> str:
        if partname.lower() in overrides:
            return overrides[partname.lower()]
        ext = posixpath.splitext(partname)[1]
        return defaults[(ext[1:] if ext.startswith(".") else ext).lower()]  # KeyError: not typed

    def relationships(source: str) -> dict[str, tuple[str, str, bool]]:
        """rId -> (type, target part name or URL, external) of ``source``'s .rels."""
        base, name = posixpath.split(source)
        try:
            xml = member(posixpath.join(base, "_rels", name + ".rels"))
        except KeyError:
            return {}
        rels = {}
        for rel in etree.fromstring(xml, parser).findall(_REL_NS + "Relationship"):
            rid, external = rel.get("Id"), rel.get("TargetMode", "Internal") == "External"
            target = rel.get("Target")
            if rid in rels or not isinstance(target, str):
                raise ValueError("a relationship id given twice, or no target")
            if not external:
                target = posixpath.abspath(posixpath.join(base, target))
            rels[rid] = (rel.get("Type"), target, external)
        return rels

    parts: dict[str, tuple[str, str, object, dict]] = {}  # name -> (content type, reltype, root, rels)

    def walk(rels: dict) -> None:  # as python-docx's PackageReader: depth first, each part once
        for reltype, target, external in rels.values():
            if external or target in parts:
                continue
            parts[target] = ("", reltype, None, {})  # visited
            own = relationships(target)
            blob = member(target)
            ctype = content_type(target)
            root = etree.fromstring(blob, parser) if ctype in _XML_PARTS and reltype != _RT_IMAGE else None
            parts[target] = (ctype, reltype, root, own)
            walk(own)

    package_rels = relationships("/")
    walk(package_rels)

    def related(rels: dict, reltype: str):
        matching = [(target, external) for type_, target, external in rels.values() if type_ == reltype]
        if len(matching) != 1 or matching[0][1]:
            raise ValueError(f"not one part related by {reltype}")
        return parts[matching[0][0]]

    ctype, _, document, document_rels = related(package_rels, _RT_DOCUMENT)
    if ctype != _CT_DOCUMENT or document is None or document.tag != _W + "document":
        raise ValueError("not a Word document")
    ctype, _, styles, _ = related(document_rels, _RT_STYLES)
    if ctype != _CT_STYLES or styles is None:
        raise ValueError("the styles are not a styles part")
    headers = []
    namespaces = {"w": _W[1:-1]}
    for sect in document.xpath("./w:body/w:p/w:pPr/w:sectPr | ./w:body/w:sectPr", namespaces=namespaces):
        for kind in _HEADER_TYPES:
            refs = sect.xpath(f"./w:headerReference[@w:type='{kind}']", namespaces=namespaces)
            if not refs:
                continue  # linked to the previous section's
            _, target, external = document_rels[refs[0].attrib[_R_ID]]
            if external or parts[target][2] is None:
                raise ValueError("a header that is not an XML part")
            headers.append(parts[target][2])
    body = document.find(_W + "body")
    if body is None:
        raise ValueError("no body")
    return styles, headers, body


def _fix_docx_blocks(raw_blocks: list[list[_Line]]):
    """Convert legacy text that no font announced, scoring the whole document.

    Lines converted by their font are left alone; the others go through
    ``fix_legacy`` together (more words, surer detection), line by line.
    """
    encodings = {enc for block in raw_blocks for _, enc in block if enc and enc != "mixed"}
    flat = [text for block in raw_blocks for text, enc in block if enc is None]
    fixed, detected = fix_legacy("\n".join(flat)) if flat else ("", None)
    fixed_lines = iter(fixed.split("\n"))
    blocks = []
    for block in raw_blocks:
        lines = [next(fixed_lines) if enc is None else text for text, enc in block]
        cleaned, _ = clean_lines("\n".join(lines), legacy=False)
        blocks.append(Block(tuple(cleaned)))
    return blocks, encodings | {detected}


# --------------------------------------------------------------------------
# DOC / RTF (external converters)
# --------------------------------------------------------------------------

def ole_kind(data: bytes) -> str:
    """What an OLE2 compound file holds: "encrypted", "word" or "other"."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"  # a password-protected DOCX/XLSX is an OLE2 wrapper
    if "WordDocument".encode("utf-16-le") in data:
        return "word"
    return "other"


def extract_legacy_word(data: bytes, kind: str, limits: ExtractLimits) -> Extraction:
    """.doc (Word 97-2003) and RTF through catdoc, or LibreOffice if present."""
    with tempfile.TemporaryDirectory(prefix="doc-") as tmp:
        path = os.path.join(tmp, "input." + ("rtf" if kind == "rtf" else "doc"))
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            text = _convert_doc(path, tmp, limits)
        except subprocess.TimeoutExpired:
            return Extraction("doc", error=f"chuyển đổi tệp .doc cũ quá {limits.convert_timeout:g} giây")
        except RuntimeError as exc:
            return Extraction("doc", error=f"không đọc được tệp Word cũ ({exc})")
    if text is None:
        return Extraction("doc", error="tệp .doc cũ nhưng máy chưa cài chương trình chuyển đổi (catdoc)")
    lines, encoding = clean_lines(text)
    blocks = [Block((line,)) for line in lines]
    return extraction_from_blocks("doc", blocks, limits, notes=legacy_note([encoding]),
                                  empty_error=EMPTY_WORD)


def _convert_doc(path: str, tmp: str, limits: ExtractLimits) -> str | None:
    catdoc = shutil.which("catdoc")
    if catdoc:
        done = subprocess.run([catdoc, "-w", "-d", "utf-8", path], capture_output=True,
                              timeout=limits.convert_timeout)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[:200] or "catdoc failed")
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office:
        done = subprocess.run([office, "--headless", "--convert-to", "txt:Text (encoded):UTF8",
                               "--outdir", tmp, path], capture_output=True, timeout=limits.convert_timeout)
        out = os.path.splitext(path)[0] + ".txt"
        if done.returncode == 0 and os.path.exists(out):
            with open(out, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        raise RuntimeError("LibreOffice could not convert it")
    return None
