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
- These three OCR reads are left for later by default (``defer``): the
  parts that would want them are named in ``OfficialInputs.deferred``, and
  ``complete_official`` does them once the pipeline knows which parts count
  and whose verdict they may change (``officialcopy.rereading_may_decide``).

Never raises for a bad file: a page that cannot be drawn or read is simply
not looked at (the verdict then cannot tell, and says so).
"""
from __future__ import annotations

import io
import logging
import subprocess
import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from ..model import DocumentPart, Extraction
from ..official.minutes import check_minutes
from ..official.numbering import clean_number, read_number_date, title_line
from ..official.record import BODY, HEAD, SIGNER, OfficialInputs
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
                    page_of=None, *, defer: bool = True) -> OfficialInputs | None:
    """The official-copy inputs of one extracted attachment; None when it has no document part.

    ``page_of(number)``: for a PDF the reader has open, its loaded page (or None), so that no
    page is parsed twice; without it the PDF is opened again. ``defer``: a scan's signer crop
    and rereads (OCR) are left for ``complete_official`` (their parts named in ``deferred``),
    which the pipeline runs after classification, only where the verdict depends on them.
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
    deferred: tuple[int, ...] = ()
    try:
        # A text PDF is looked at only when it holds an image at all: an image is a stream, never inside an
        # object stream, so its "/Image" subtype is in the plain bytes (a byte search, not a second parse).
        if result.kind == "pdf" and (medium == Medium.SCAN or (medium == Medium.TEXT_PDF and b"/Image" in data)):
            pages, signer, heads, bodies, deferred = _pdf_seals(
                data, result.parts, scans_only=medium == Medium.TEXT_PDF, limits=limits, ocr=result.ocr,
                page_of=page_of, defer=defer)
        elif result.kind == "image":
            pages, signer, heads, bodies, deferred = _image_seals(data, result.parts, limits, defer=defer)
    except MemoryError:
        raise  # the worker's memory limit: dispatch says so for the whole file
    except Exception as exc:  # a page that cannot be drawn: not looked at, the verdict says it cannot tell
        log.info("no page image for the seal check: %s: %s", type(exc).__name__, exc)
    return OfficialInputs(medium=medium, signatures=signatures, pages=pages, signer_text=signer,
                          head_text=heads, body_text=bodies, deferred=deferred)


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
        if wants_head(part):
            heads.extend(_reread_head(page_of, part, limits))
        if wants_body(part):
            bodies.extend(_reread_body(page_of, part, limits))
    return tuple(heads), tuple(bodies)


def _reread_head(page_of, part: DocumentPart, limits: ExtractLimits) -> list[tuple[int, str]]:
    """The head of the part's first page read again at 300 dpi: [(page, text)], or [] (not drawn or read)."""
    try:
        if (page := page_of(part.first_page)) is not None:
            image, dpi = page.region(0.0, _HEAD_BAND, _REREAD_DPI / limits.ocr_dpi)
            return [(part.first_page, ocr_layout(tesseract(image, dpi, limits), head_share=1.0))]
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        log.info("page %s: head not read again: %s", part.first_page, exc)
    return []


def _reread_body(page_of, part: DocumentPart, limits: ExtractLimits) -> list[tuple[int, str]]:
    """The part's first pages (a Biên bản's) read whole again: [(page, text)]."""
    out = []
    try:
        for number in range(part.first_page, min(part.last_page, part.first_page + _BODY_PAGES - 1) + 1):
            if (page := page_of(number)) is not None:
                image, dpi = page.region(0.0, 1.0, _BODY_SCALE)
                out.append((number, ocr_layout(tesseract(image, dpi, limits), head_share=None)))
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        log.info("pages %s-%s: not read again: %s", part.first_page, part.last_page, exc)
    return out


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


class _Scan:
    """How to look at the pages of one scan or photo: ``seal_image(n)``, the page in colour for
    the seal finder (None: not looked at); ``signer_image(n)``, (the page in colour at the
    signer's resolution, its dpi); ``ocr_page(n)``, an ``ocr`` page for the rereads (None: none)."""

    def __init__(self, seal_image, signer_image, ocr_page):
        self.seal_image, self.signer_image, self.ocr_page = seal_image, signer_image, ocr_page


def _look(scan: _Scan, parts, limits: ExtractLimits, *, ocr: bool, defer: bool):
    """(seals, signer, heads, bodies, deferred) of a scan: the seal on the last page of each part;
    the signer around it and the rereads now, or, with ``defer``, the first page of each part
    that would want them (``deferred``: read later by ``complete_official``)."""
    seals, signer, deferred = [], [], []
    seal_of = {}
    for number, part in sorted(_last_pages(parts).items()):
        image = scan.seal_image(number)
        if image is None:
            continue
        seal = find_seal(image, number)
        seals.append(seal)
        seal_of[number] = seal
        if ocr and not defer and _wants_signer(seal, part):
            signer.extend(_read_signer(scan, seal, part, limits))
    heads, bodies = (), ()
    if ocr and defer:
        deferred = [p.first_page for p in parts if _pending(p, seal_of.get(p.last_page))]
    elif ocr:  # a scan: what OCR by need did not read and the checks need
        heads, bodies = _rereads(scan.ocr_page, parts, limits)
    return tuple(seals), tuple(signer), heads, bodies, tuple(deferred)


def _pending(part: DocumentPart, seal: PageSeal | None) -> bool:
    """Whether the part would want its signer read around the seal, or its head or pages read again."""
    return (seal is not None and _wants_signer(seal, part)) or wants_head(part) or wants_body(part)


def _read_signer(scan: _Scan, seal: PageSeal, part: DocumentPart, limits: ExtractLimits) -> list[tuple[int, str]]:
    drawn = scan.signer_image(seal.page)
    if drawn is None:
        return []
    image, dpi = drawn
    return [(seal.page, text) for text in signer_texts(image, seal, dpi, limits, part)]


def _pdf_scan(page_of, limits: ExtractLimits, scans_only: bool = False) -> _Scan:
    """The pages of a PDF (``page_of(n)``: its loaded page, or None)."""
    def seal_image(number):
        page = page_of(number)
        if page is None or (scans_only and not has_big_image(page, _SEARCHABLE_SCAN_SHARE)):
            return None
        width, height = page.get_size()
        scale = SEAL_DPI / 72
        if width * height * scale * scale > limits.max_image_pixels:  # a huge page: drawn smaller
            scale = (limits.max_image_pixels / (width * height)) ** 0.5
        return page.render(scale=scale).to_pil()

    def signer_image(number):
        page = page_of(number)
        if page is None:
            return None
        width, height = page.get_size()
        dpi = SIGNER_DPI
        if width * height * (dpi / 72) ** 2 > limits.max_image_pixels:  # a huge page: drawn smaller
            dpi = max(1, int(72 * (limits.max_image_pixels / (width * height)) ** 0.5))
        return page.render(scale=dpi / 72).to_pil(), dpi

    def ocr_page(number):
        page = page_of(number)
        return PdfPage(page, limits.ocr_dpi, limits.max_image_pixels) if page is not None else None

    return _Scan(seal_image, signer_image, ocr_page)


def _image_scan(image, limits: ExtractLimits) -> _Scan:
    """The frames of an image file (a photo, a TIFF's pages), stood upright."""
    from PIL import ImageOps

    frames = getattr(image, "n_frames", 1)

    def frame(number):
        if not 1 <= number <= frames:
            return None
        image.seek(number - 1)
        if image.width * image.height > limits.max_image_pixels:
            return None
        return ImageOps.exif_transpose(image)  # a phone photo stood upright, as the seal finder expects

    def seal_image(number):
        page = frame(number)
        return page.convert("RGB") if page is not None else None

    def signer_image(number):
        page = frame(number)
        return (page, image_dpi(image)) if page is not None else None

    def ocr_page(number):
        page = frame(number)
        return ImagePage(page.convert("L"), image_dpi(image)) if page is not None else None

    return _Scan(seal_image, signer_image, ocr_page)


def _pdf_seals(data: bytes, parts, *, scans_only: bool, limits: ExtractLimits, ocr: bool, page_of=None,
               defer: bool = False):
    if page_of is not None:
        return _look(_pdf_scan(page_of, limits, scans_only), parts, limits, ocr=ocr and not scans_only,
                     defer=defer)
    with _open_pdf(data, limits) as page_of:
        return _look(_pdf_scan(page_of, limits, scans_only), parts, limits, ocr=ocr and not scans_only,
                     defer=defer)


class _open_pdf:
    """A PDF opened with PDFium for its pages: ``with _open_pdf(data, limits) as page_of``."""

    def __init__(self, data, limits: ExtractLimits):
        self.data, self.limits, self.pdf = data, limits, None

    def __enter__(self):
        import pypdfium2 as pdfium

        self.pdf = pdfium.PdfDocument(Path(self.data.path) if isinstance(self.data, MappedFile) else self.data)
        count = min(len(self.pdf), self.limits.max_pages)
        return lambda n: self.pdf[n - 1] if 1 <= n <= count else None

    def __exit__(self, *exc):
        self.pdf.close()


def _image_seals(data: bytes, parts, limits: ExtractLimits, defer: bool = False):
    from PIL import Image

    return _look(_image_scan(Image.open(io.BytesIO(data)), limits), parts, limits, ocr=True, defer=defer)


def reads_of(part: DocumentPart, inputs: OfficialInputs) -> tuple[str, ...]:
    """The reads left for later that ``part`` would want, cheapest first (pure): the signer when its
    last page shows a seal and its text no signer; the head (``wants_head``); the pages (``wants_body``)."""
    stored = next((p for p in inputs.pages if p.page == part.last_page), None)
    signer = stored is not None and stored.seal is True and not find_blocks(part.text.splitlines()).found
    return tuple(read for read, wanted in ((SIGNER, signer), (HEAD, wants_head(part)), (BODY, wants_body(part)))
                 if wanted)


def complete_official(data, result: Extraction, first_pages, limits: ExtractLimits, may_decide=None) -> Extraction:
    """``result`` with the official-copy reads left for later (``OfficialInputs.deferred``) done for
    the parts starting on ``first_pages``: the signer around the seal, the head and the Biên
    bản's pages read again, as ``official_inputs(..., defer=False)`` reads them, cheapest first.
    ``may_decide(inputs, part, reads)``: whether the reads still to do (a set of ``SIGNER``,
    ``HEAD``, ``BODY``) may still change the part's verdict, given what ``inputs`` hold now;
    asked before each read (None: every read is done). ``data``: the file's bytes. A page that
    cannot be drawn or read is not looked at (never raises for a bad file); the parts done
    leave ``deferred`` either way, so that they are not tried again."""
    inputs = result.official
    if inputs is None or not inputs.deferred:
        return result
    wanted = set(first_pages)
    todo = [p for p in result.parts if p.first_page in inputs.deferred and p.first_page in wanted]
    if not todo:
        return result
    try:
        if result.kind == "pdf":
            with _open_pdf(data, limits) as page_of:
                inputs = _complete(_pdf_scan(page_of, limits), todo, inputs, limits, may_decide)
        elif result.kind == "image":
            from PIL import Image

            inputs = _complete(_image_scan(Image.open(io.BytesIO(data)), limits), todo, inputs, limits, may_decide)
    except MemoryError:
        raise  # the worker's memory limit: the job's failure says so
    except Exception as exc:  # a page that cannot be drawn: not looked at, the verdict says it cannot tell
        log.info("official-copy reads not done: %s: %s", type(exc).__name__, exc)
    done = {p.first_page for p in todo}
    return replace(result, official=replace(inputs, deferred=tuple(n for n in result.official.deferred
                                                                   if n not in done)))


def _complete(scan: _Scan, parts, inputs: OfficialInputs, limits: ExtractLimits, may_decide) -> OfficialInputs:
    """``inputs`` with the deferred reads of ``parts`` added, each only while it may still decide."""
    for part in parts:
        reads = reads_of(part, inputs)
        for index, read in enumerate(reads):
            if may_decide is not None and not may_decide(inputs, part, frozenset(reads[index:])):
                break
            if read == SIGNER:
                inputs = replace(inputs, signer_text=inputs.signer_text + tuple(_signer_again(scan, part, inputs,
                                                                                              limits)))
            elif read == HEAD:
                inputs = replace(inputs, head_text=inputs.head_text + tuple(_reread_head(scan.ocr_page, part,
                                                                                         limits)))
            else:
                inputs = replace(inputs, body_text=inputs.body_text + tuple(_reread_body(scan.ocr_page, part,
                                                                                         limits)))
    return inputs


def _signer_again(scan: _Scan, part: DocumentPart, inputs: OfficialInputs, limits: ExtractLimits):
    """The signer around the seal on the part's last page (the seal found again when it was read
    back from the cache, which keeps no box)."""
    seal = next((p for p in inputs.pages if p.page == part.last_page), None)
    if seal is None:
        return []
    if seal.candidate is None and (image := scan.seal_image(part.last_page)) is not None:
        seal = find_seal(image, part.last_page)
    return _read_signer(scan, seal, part, limits) if _wants_signer(seal, part) else []
