"""What the official-copy check needs of one attachment, got in the worker
with the text (issue 16; docs/official-copies.md).

- ``medium``: Word (docx/doc/rtf), text (plain, HTML), a scan (an image, or a
  PDF whose pages were OCR'd), else a text PDF.
- PDF digital signatures, read with pyHanko only when the bytes hold
  signature data at all (``has_signature_data``, a byte search): the
  ordinary unsigned PDF of the no-OCR first poll costs nothing more.
- Seals: the last page of each document part of a scan or photo, in colour
  at ~50 dpi (not the grayscale OCR render), given to ``find_seal``; for a
  text PDF only when that page is mostly an image (a searchable scan).
  Scans are read on the OCR path, so the first poll does not pay for it.
- The signer: OCR by need reads a page's head, rarely its foot, where the
  signature block is. When a seal is seen on a page whose part's text has
  no signature block, the region around the seal is read (one tesseract
  run on a crop, in the red channel so that the seal's ink fades and the
  title and name under it stay).
- What the policy needs and OCR by need did not read (scans only): a part
  whose head gave no number or no date has its first page's head read
  again at 300 dpi (tesseract's errors differ from one resolution to
  another); a Biên bản whose text lacks some of its parts (the vote is in
  its body, which OCR by need may skip) has its pages read whole again.

Never raises for a bad file: a page that cannot be drawn or read is simply
not looked at (the verdict then cannot tell, and says so).
"""
from __future__ import annotations

import io
import logging
import subprocess
import re
from datetime import date, datetime
from pathlib import Path

from ..model import DocumentPart, Extraction
from ..official.minutes import check_minutes
from ..official.numbering import clean_number, read_number_date, title_line
from ..official.record import OfficialInputs
from ..official.seal import PageSeal, find_seal
from ..official.signature import SignatureReport, has_signature_data, quiet_library_logs, read_signatures
from ..official.signblock import find_blocks
from ..official.verdict import Medium
from .common import ExtractLimits, MappedFile
from .images import image_dpi
from ..vietnamese import fold
from .ocr import ImagePage, PdfPage, ocr_layout, tesseract
from .pdf_layout import has_big_image

log = logging.getLogger(__name__)

SEAL_DPI = 50  # enough for a 36 mm seal (~70 px across); find_seal works on ~400 px anyway
_SEARCHABLE_SCAN_SHARE = 0.5  # a text PDF page at least this much covered by an image: a scan with a text layer
_SIGNER_MARGIN = 0.1  # share of the page height read above and below the seal for the signer's title and name
SIGNER_DPI = 200  # a PDF page is drawn at this resolution for it
_ONE_BLOCK = 6  # tesseract's page segmentation mode "a single uniform block of text"
_SPARSE = 11  # ... "sparse text": finds the name between the signature's strokes and the scan's specks
_INK_CUT = 175  # red-channel level above which a pixel is paper or seal ink, never print
_BLUE_INK = 40  # blue above red by this much: the signature's blue ink, never the black print
_REREAD_DPI = 300  # a head whose number or date was not read is read again at this resolution
_HEAD_BAND = 0.3  # share of the page height that holds the number and date lines (A4, Nghị định 30/2020)
_BODY_SCALE = 1.25  # a Biên bản's page read whole again: not at the resolution it was read at
_BODY_PAGES = 2  # at most this many pages of a Biên bản read again
_NOT_WORD = " -—–_.,:;'\"`~^|ˆ*¬„“”‘’()[]{}!?=+/\\<>"
_SPECKS = " -_.,:;'\"`~^|ˆ*"

_MEDIUM = {"docx": Medium.WORD, "doc": Medium.WORD, "rtf": Medium.WORD, "text": Medium.TEXT, "html": Medium.TEXT,
           "image": Medium.SCAN}


def medium_of(result: Extraction) -> Medium:
    """How the document came, from its extraction (pure)."""
    if result.kind == "pdf":
        return Medium.SCAN if result.ocr else Medium.TEXT_PDF
    return _MEDIUM.get(result.kind, Medium.TEXT)


def official_inputs(data: bytes, result: Extraction, limits: ExtractLimits, now: datetime,
                    page_of=None) -> OfficialInputs | None:
    """The official-copy inputs of one extracted attachment; None when it has no document part.

    ``page_of(number)``: for a PDF the reader has open, its loaded page (or None), so that no
    page is parsed twice; without it the PDF is opened again.
    """
    if not result.parts:
        return None
    medium = medium_of(result)
    signatures = SignatureReport()
    if result.kind == "pdf" and has_signature_data(data):
        quiet_library_logs()  # in the worker too: pyHanko's tracebacks for an untrusted chain say nothing new
        signatures = read_signatures(data, limits.trust_roots, now)
    pages: tuple[PageSeal, ...] = ()
    signer: tuple[tuple[int, str], ...] = ()
    heads: tuple[tuple[int, str], ...] = ()
    bodies: tuple[tuple[int, str], ...] = ()
    try:
        # A text PDF is looked at only when it holds an image at all: an image is a stream, never inside an
        # object stream, so its "/Image" subtype is in the plain bytes (a byte search, not a second parse).
        if result.kind == "pdf" and (medium == Medium.SCAN or (medium == Medium.TEXT_PDF and b"/Image" in data)):
            pages, signer, heads, bodies = _pdf_seals(data, result.parts, scans_only=medium == Medium.TEXT_PDF,
                                                      limits=limits, ocr=result.ocr, page_of=page_of)
        elif result.kind == "image":
            pages, signer, heads, bodies = _image_seals(data, result.parts, limits)
    except MemoryError:
        raise  # the worker's memory limit: dispatch says so for the whole file
    except Exception as exc:  # a page that cannot be drawn: not looked at, the verdict says it cannot tell
        log.info("no page image for the seal check: %s: %s", type(exc).__name__, exc)
    return OfficialInputs(medium=medium, signatures=signatures, pages=pages, signer_text=signer,
                          head_text=heads, body_text=bodies)


def _last_pages(parts: tuple[DocumentPart, ...]) -> dict[int, DocumentPart]:
    return {p.last_page: p for p in parts}


def _wants_signer(seal: PageSeal, part: DocumentPart) -> bool:
    """A seal was seen, but the part's text shows no signer: read around the seal."""
    return seal.seal is True and seal.candidate is not None and not find_blocks(part.text.splitlines()).found


def wants_head(part: DocumentPart) -> bool:
    """The part's OCR'd text gave no number, or one with stray characters ("06/äC-NTBB"), or no date
    above its title: read its head again (pure)."""
    nd = read_number_date(part.text.splitlines(), (), date.min, date.max)
    return (nd.number is None and not nd.number_blank) or (nd.number is not None and not clean_number(nd.number)) \
        or (nd.date is None and not nd.date_blank) or nd.date_below_title


def wants_body(part: DocumentPart) -> bool:
    """The part is a Biên bản whose OCR'd text lacks some of its parts: read its pages whole again (pure)."""
    head = part.text.splitlines()[:25]
    title = title_line(head)
    if title is None or not re.sub(r"[^a-z]", "", fold(head[title])).startswith("bienban"):
        return False
    return not check_minutes(part.text).complete


def _rereads(page_of, parts, limits: ExtractLimits):
    """(heads, bodies) read again where the policy's checks need them (``wants_head``,
    ``wants_body``); ``page_of(number)``: an ``ocr`` page (PdfPage, ImagePage) or None."""
    heads, bodies = [], []
    for part in parts:
        try:
            if wants_head(part) and (page := page_of(part.first_page)) is not None:
                image, dpi = page.region(0.0, _HEAD_BAND, _REREAD_DPI / limits.ocr_dpi)
                heads.append((part.first_page, ocr_layout(tesseract(image, dpi, limits), head_share=1.0)))
            if wants_body(part):
                for number in range(part.first_page, min(part.last_page, part.first_page + _BODY_PAGES - 1) + 1):
                    if (page := page_of(number)) is not None:
                        image, dpi = page.region(0.0, 1.0, _BODY_SCALE)
                        bodies.append((number, ocr_layout(tesseract(image, dpi, limits), head_share=None)))
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            log.info("pages %s-%s: not read again: %s", part.first_page, part.last_page, exc)
    return tuple(heads), tuple(bodies)


def signer_texts(image, seal: PageSeal, dpi: int, limits: ExtractLimits, part: DocumentPart) -> list[str]:
    """What is read around the seal: as one block of text first; when that gives no signer's
    title with a name under it, once more as sparse text (where one block loses the name
    between the signature's strokes and the scan's specks)."""
    texts = []
    for psm in (_ONE_BLOCK, _SPARSE):
        text = _signer_text(image, seal, dpi, limits, psm)
        if text.strip():
            texts.append(text)
            if find_blocks(part.text.splitlines() + text.splitlines()).found:
                break
    return texts


def _signer_text(image, seal: PageSeal, dpi: int, limits: ExtractLimits, psm: int = _ONE_BLOCK) -> str:
    """OCR of the signature block around the seal on ``image`` (the page, in colour): the
    signer's title above the seal, the name below, a seal's width or so to each side. Read in
    the red channel, where the seal's ink turns pale and the black print under it stays."""
    x0, y0, x1, y1 = seal.candidate.box
    across = x1 - x0
    width, height = image.size
    box = (int(max(0.0, x0 - across) * width), int(max(0.0, y0 - _SIGNER_MARGIN) * height),
           int(min(1.0, x1 + 1.5 * across) * width), int(min(1.0, y1 + _SIGNER_MARGIN) * height))
    if box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return ""
    strip = _print_only(image.crop(box).convert("RGB"))
    try:
        # one block of text (psm 6): the automatic layout takes the seal's ring for a picture and drops
        # the title above it
        text = ocr_layout(tesseract(strip, dpi, limits, psm=psm), head_share=0.0)
        # specks of the seal's ring read as punctuation at a line's ends ("-HIỆU TRƯỞNG")
        return "\n".join(_clean_signer_line(line) for line in text.splitlines())
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        log.info("page %s: signer not read around the seal: %s", seal.page, exc)
        return ""


def _print_only(rgb):
    """The black print of a colour crop, the seal and the signature turned to paper (a grey image).

    The seal's ink is light in the red channel (R ~ 200+ even where dense) and the black print
    dark: cut between. The handwritten signature is in blue ink (Nghị định 30/2020 asks for it),
    dark in the red channel: its strokes cross the name under it, so a pixel much bluer than red
    is paper too."""
    from PIL import ImageChops

    red, _, blue = rgb.split()
    signature = ImageChops.subtract(blue, red).point(lambda v: 255 if v >= _BLUE_INK else 0)
    return ImageChops.lighter(red.point(lambda v: 255 if v >= _INK_CUT else v), signature)


def _clean_signer_line(line: str) -> str:
    """A line read around the seal without the specks of the seal's ring and the paper at its ends:
    tokens with no letter or digit, and lone short lower-case "words" ("s.", "ẻ") a speck was read as."""
    tokens = line.split()

    def noise(token: str) -> bool:
        word = token.strip(_NOT_WORD)
        return not word or (len(word) <= 2 and word.islower() and word != token)

    def lone(token: str) -> bool:
        return len(token) <= 1 and token.islower()

    while tokens and (noise(tokens[0]) or (len(tokens) > 1 and lone(tokens[0]))):
        tokens.pop(0)
    while tokens and (noise(tokens[-1]) or (len(tokens) > 1 and lone(tokens[-1]))):
        tokens.pop()
    return " ".join(tokens).strip(_NOT_WORD.replace(",", "").replace(".", "") + _SPECKS) if tokens else ""


def _pdf_seals(data: bytes, parts, *, scans_only: bool, limits: ExtractLimits, ocr: bool, page_of=None):
    if page_of is not None:
        return _pdf_page_seals(page_of, parts, scans_only=scans_only, limits=limits, ocr=ocr)
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(Path(data.path) if isinstance(data, MappedFile) else data)
    try:
        count = min(len(pdf), limits.max_pages)
        return _pdf_page_seals(lambda n: pdf[n - 1] if 1 <= n <= count else None, parts, scans_only=scans_only,
                               limits=limits, ocr=ocr)
    finally:
        pdf.close()


def _pdf_page_seals(page_of, parts, *, scans_only: bool, limits: ExtractLimits, ocr: bool):
    seals, signer = [], []
    for number, part in sorted(_last_pages(parts).items()):
        page = page_of(number)
        if page is None:
            continue
        if scans_only and not has_big_image(page, _SEARCHABLE_SCAN_SHARE):
            continue
        width, height = page.get_size()
        scale = SEAL_DPI / 72
        if width * height * scale * scale > limits.max_image_pixels:  # a huge page: drawn smaller
            scale = (limits.max_image_pixels / (width * height)) ** 0.5
        seal = find_seal(page.render(scale=scale).to_pil(), number)
        seals.append(seal)
        if ocr and _wants_signer(seal, part):
            dpi = SIGNER_DPI
            if width * height * (dpi / 72) ** 2 > limits.max_image_pixels:  # a huge page: drawn smaller
                dpi = max(1, int(72 * (limits.max_image_pixels / (width * height)) ** 0.5))
            for text in signer_texts(page.render(scale=dpi / 72).to_pil(), seal, dpi, limits, part):
                signer.append((number, text))
    heads, bodies = (), ()
    if ocr and not scans_only:  # a scan: what OCR by need did not read and the checks need
        def ocr_page(number):
            page = page_of(number)
            return PdfPage(page, limits.ocr_dpi, limits.max_image_pixels) if page is not None else None
        heads, bodies = _rereads(ocr_page, parts, limits)
    return tuple(seals), tuple(signer), heads, bodies


def _image_seals(data: bytes, parts, limits: ExtractLimits):
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    frames = getattr(image, "n_frames", 1)
    seals, signer = [], []
    for number, part in sorted(_last_pages(parts).items()):
        if not 1 <= number <= frames:
            continue
        image.seek(number - 1)
        if image.width * image.height > limits.max_image_pixels:
            continue
        frame = ImageOps.exif_transpose(image)  # a phone photo stood upright, as the seal finder expects
        seal = find_seal(frame.convert("RGB"), number)
        seals.append(seal)
        if _wants_signer(seal, part):
            for text in signer_texts(frame, seal, image_dpi(image), limits, part):
                signer.append((number, text))

    def ocr_page(number):
        if not 1 <= number <= frames:
            return None
        image.seek(number - 1)
        if image.width * image.height > limits.max_image_pixels:
            return None
        return ImagePage(ImageOps.exif_transpose(image).convert("L"), image_dpi(image))

    heads, bodies = _rereads(ocr_page, parts, limits)
    return tuple(seals), tuple(signer), heads, bodies
