"""Scanned and photographed documents: pages painted with Pillow.

Each page of the shared layout is painted in DejaVu Serif at ~100 dpi,
signed (a blue scribble) and stamped (a red circular seal over the
signature), then tilted and speckled like a cheap office scanner. Output is
a JPEG (a phone photo of one page) or an image-only PDF, which has no text
layer at all: the bot needs OCR to read it.
"""
from __future__ import annotations

import io
import math
import random
from datetime import datetime

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from .layout import PAGE_H, PAGE_W, Layout, Rule, Seal, Text, font_path

DPI = 100
INK = 25
SEAL_RED = (205, 35, 45)


class ScanRenderer:
    """Paints layouts; keeps the loaded fonts (per size) between pages."""

    def __init__(self, dpi: int = DPI) -> None:
        self.dpi = dpi
        self.scale = dpi / 72.0
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}

    def _font(self, name: str, size: float) -> ImageFont.FreeTypeFont:
        px = max(6, round(size * self.scale))
        key = (name, px)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(str(font_path(name)), px)
        return self._fonts[key]

    def pages(self, layout: Layout, rng: random.Random, seal_text: str = "", stamp: bool = True) -> list[Image.Image]:
        """One image per page: grayscale, except signed pages (RGB, red seal;
        ``stamp=False``: signed by hand, no seal)."""
        return [self._page(ops, rng, seal_text, stamp) for ops in layout.pages]

    def _page(self, ops: tuple, rng: random.Random, seal_text: str, stamp: bool = True) -> Image.Image:
        """Paint, age, then sign and stamp.

        The text is painted and aged in grayscale; only a signed page is
        turned to RGB, after the costly filters, for its blue signature and
        red seal (three times cheaper than ageing an RGB page)."""
        s = self.scale
        size = (round(PAGE_W * s), round(PAGE_H * s))
        img = Image.new("L", size, 255)
        draw = ImageDraw.Draw(img)
        for op in ops:
            if isinstance(op, Text):
                draw.text((op.x * s, op.y * s), op.text, font=self._font(op.font, op.size), fill=INK, anchor="ls")
            elif isinstance(op, Rule):
                draw.line([(op.x1 * s, op.y * s), (op.x2 * s, op.y * s)], fill=INK, width=1)
        img = self._age(img, rng)
        seals = [op for op in ops if isinstance(op, Seal)]
        if not seals:
            return img
        img = img.convert("RGB")
        draw = ImageDraw.Draw(img)
        for i, seal in enumerate(seals):
            self._signature(draw, seal, rng)
            if stamp and i == len(seals) - 1:  # the head of the unit stamps; the secretary only signs
                img = self._stamp(img, seal, rng, seal_text)
        return img

    def _signature(self, draw: ImageDraw.ImageDraw, seal: Seal, rng: random.Random) -> None:
        s = self.scale
        x, y = (seal.cx - 30) * s, seal.cy * s
        points = [(x + i * 6 * s, y + math.sin(i * 1.3 + rng.random()) * 7 * s) for i in range(11)]
        draw.line(points, fill=(30, 40, 140), width=2)

    def _stamp(self, img: Image.Image, seal: Seal, rng: random.Random, text: str) -> Image.Image:
        """A red round seal, half transparent, a little off the signature.

        Drawn on a small patch and pasted with its alpha as mask: compositing
        a full-page layer costs ten times more."""
        s = self.scale
        r = 38 * s
        side = int(2 * r + 8)
        patch = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        d = ImageDraw.Draw(patch)
        c = side / 2
        colour = SEAL_RED + (170,)
        d.ellipse([c - r, c - r, c + r, c + r], outline=colour, width=max(2, round(2.5 * s)))
        d.ellipse([c - r * 0.72, c - r * 0.72, c + r * 0.72, c + r * 0.72], outline=colour, width=1)
        _star(d, c, c, r * 0.3, colour)
        font = self._font("bold", 5.2)
        for i, ch in enumerate(text[:34]):
            angle = math.pi * (1.05 + i / 34 * 1.9)
            d.text((c + math.cos(angle) * r * 0.86, c + math.sin(angle) * r * 0.86), ch, font=font,
                   fill=colour, anchor="mm")
        x = round((seal.cx - 35 + rng.uniform(-6, 6)) * s - c)
        y = round((seal.cy + rng.uniform(-5, 5)) * s - c)
        img.paste(patch.convert("RGB"), (x, y), patch)
        return img

    def _age(self, img: Image.Image, rng: random.Random) -> Image.Image:
        """Blur, tilt, grey paper and sparse speckles, cheaply (grayscale only).

        The speckles come from ``rng`` (Pillow's own noise is not seedable)
        and stay sparse: dense noise triples the JPEG size."""
        # Scanner optics blur a little; it also makes the JPEG smaller. A 3x3
        # kernel costs a tenth of a Gaussian blur.
        img = img.filter(ImageFilter.SMOOTH)
        # NEAREST: five times cheaper than BILINEAR, and cheap scanners are jagged anyway.
        img = img.rotate(rng.uniform(-1.2, 1.2), resample=Image.NEAREST, fillcolor=255)
        img = img.point(_PAPER)
        return ImageChops.subtract(img, _speckles(img.size, rng))


# Paper is a little grey; ink a little lighter than black.
_PAPER = [int(v * 0.9 + 14) for v in range(256)]
# Byte -> darkening: about 1 pixel in 250 becomes a dark dot.
_SPECKLE = [110 if v < 1 else 0 for v in range(256)]


def _speckles(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Sparse dark dots, generated at a quarter of the size and enlarged
    (dust is bigger than one pixel, and it is 16 times cheaper)."""
    small = (size[0] // 2, size[1] // 2)
    raw = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    return raw.point(_SPECKLE).resize(size, Image.NEAREST)


def _star(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, colour) -> None:
    pts = []
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.42
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + math.cos(a) * rad, cy + math.sin(a) * rad))
    d.polygon(pts, fill=colour)


def to_jpeg(img: Image.Image, quality: int = 55) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def to_pdf(pages: list[Image.Image], when: datetime, dpi: int = DPI, quality: int = 55) -> bytes:
    """An image-only PDF (one JPEG per page, no text layer), stamped ``when``
    (Pillow would stamp the current time and break reproducibility)."""
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=dpi, quality=quality,
                  producer="", creator="", creationDate=when.timetuple(), modDate=when.timetuple())
    return buf.getvalue()


def phone_photo(img: Image.Image, rng: random.Random) -> Image.Image:
    """A page photographed on a desk: wood-coloured margin, stronger tilt."""
    img = img.convert("RGB")
    w, h = img.size
    pad = round(w * 0.06)
    desk = Image.new("RGB", (w + 2 * pad, h + 2 * pad), (118 + rng.randint(-10, 10), 96, 74))
    desk.paste(img, (pad + rng.randint(-8, 8), pad + rng.randint(-8, 8)))
    return desk.rotate(rng.uniform(-3.5, 3.5), resample=Image.BILINEAR, fillcolor=(90, 80, 70))
