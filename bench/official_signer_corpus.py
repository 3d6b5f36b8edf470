"""How often the signer (title and name) is read around the seal on the stamped scans and
photos of an ``official`` corpus, and at what OCR cost.

    PYTHONPATH=$PWD python3 -m bench.official_signer_corpus /tmp/o16 [--state /tmp/st16]

For every distinct stamped scan/photo attachment (``scan_stamped``/``photo_stamped``), the last
page of each document part is drawn as the extraction draws it, the seal looked for, and the
region around it read as ``bot.extract.official`` reads it (``signer_texts``); the figure is the
share of seals whose signer block is found in what was read (without the page's own OCR text,
which OCR by need rarely holds). CPU seconds (tesseract runs in process) are of these readings.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import resource
from pathlib import Path

from bench.official_scan_cost import scan_attachments
from bot.extract.common import ExtractLimits
from bot.extract.images import image_dpi
from bot.extract.official import SIGNER_DPI, signer_texts
from bot.model import DocumentPart
from bot.official.seal import find_seal
from bot.official.signblock import find_blocks


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _last_pages(data: bytes):
    """(page number, seal-finder image, signer image, dpi) of the file's last page."""
    if data[:4] == b"%PDF":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        page = pdf[len(pdf) - 1]
        yield len(pdf), page.render(scale=50 / 72).to_pil(), page.render(scale=SIGNER_DPI / 72).to_pil(), SIGNER_DPI
    else:
        from PIL import Image, ImageOps

        image = Image.open(io.BytesIO(data))
        frame = ImageOps.exif_transpose(image).convert("RGB")
        yield 1, frame, frame, image_dpi(image)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpora", type=Path, nargs="+")
    p.add_argument("--show", action="store_true")
    args = p.parse_args()
    limits = ExtractLimits()
    seen = read = 0
    cpu = 0.0
    done = set()
    for corpus in args.corpora:
        for name, filename, data in scan_attachments(corpus, variants=("scan_stamped", "photo_stamped")):
            digest = hashlib.sha256(data).hexdigest()
            if digest in done:
                continue
            done.add(digest)
            for number, small, big, dpi in _last_pages(data):
                seal = find_seal(small, number)
                if seal.seal is not True or seal.candidate is None:
                    continue
                seen += 1
                start = _cpu()
                texts = signer_texts(big, seal, dpi, limits, DocumentPart("", ""))
                cpu += _cpu() - start
                found = find_blocks([line for t in texts for line in t.splitlines()])
                read += found.found
                if args.show:
                    print(f"{corpus.name}/{name} {filename} p{number}: "
                          f"{found.last.title + ' / ' + found.last.name if found.found else 'NOT READ'}")
                    if not found.found:
                        for t in texts:
                            print("    | " + t.replace("\n", "\n    | "))
    print(f"{', '.join(c.name for c in args.corpora)}: {len(done)} distinct stamped files, seal seen on {seen}, "
          f"signer read on {read}; signer readings {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
