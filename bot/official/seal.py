"""The school's red round seal on a page image (a scan or a phone photo).

``find_seal`` is pure: a Pillow image in, a frozen ``PageSeal`` out. It uses
Pillow alone (no numpy: it is not a dependency of the bot) on a copy of the
page shrunk to ~400 px, so a page costs a few tens of milliseconds.

What counts as a seal: a red region, roughly round (a ring of ink around
its centre, seen in most directions), 5-30 % of the page width across, not
in the top band of the page (where red titles, rules and logos sit) and,
when the signature block's position is known, next to it. A red region that
is round but too pale, a photo too dark to judge and a page without any
colour at all (a black-and-white scan) give ``seal=None`` with the reason:
the bot cannot tell, a person decides.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as shares of the page's width and height

_WORK_SIDE = 400          # the longer side of the working copy, in pixels
_RED_HUE = (12, 238)      # Pillow hue 0-255: red is at or below 12 (17°) or at or above 238 (336°)
_STRONG_SAT = 80          # saturation (0-255) of seal ink as scanners and phones see it
_FAINT_SAT = 25           # ... of half-dry or washed-out ink: seen, not trusted
_MIN_DIAMETER, _MAX_DIAMETER = 0.05, 0.30   # share of the page width (a 36 mm seal on A4 is ~0.17)
_MIN_ROUNDNESS = 0.8      # share of directions from the centre with ink near the rim
_SECTORS = 24
_TOP_BAND = 0.2           # share of the page height: headers, titles and logos live here
_CORE_SHARE = 0.9        # percentile of a red region's saturation taken as its ink's (see _core_saturation)
_STRONG_SHARE = 0.5       # share of a pale-found seal's ink that is strong red: a strong seal after all
_MIN_INNER_INK = 0.03     # share of the inner disc inked: seals hold a star and lines of text
_FAINT_TRACE = 0.002      # share of the page in pale red ink below the top band: worth a look
_TOO_DARK = 70            # paper brightness (0-255) below which a photo cannot be judged
_COLOUR_SAT = 50          # saturation from which a pixel counts as coloured (blue ink, a logo)
_MIN_COLOUR = 0.0003      # share of coloured pixels below which the page has no colour at all


@dataclass(frozen=True)
class SealCandidate:
    """A red region that might be a seal, and what was measured on it."""

    box: Box
    diameter: float      # share of page width
    roundness: float     # 0..1
    faint: bool

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class PageSeal:
    """What one page image shows: ``seal`` True, False, or None (cannot tell), and why.

    ``reason`` is Vietnamese, names the page, and is shown to the school
    (when False) or in the coordinator's question (when None).
    """

    page: int
    seal: bool | None
    reason: str
    candidate: SealCandidate | None = None
    rejected: tuple[str, ...] = ()   # red regions that were not taken for a seal, and why


def find_seal(image, page: int = 1, near: Box | None = None) -> PageSeal:
    """Whether ``image`` (a Pillow image of one page) shows a red round seal.

    ``near``: the signature block's box on this page, when known (OCR
    positions); a seal must then touch or overlap its surroundings.
    """
    from PIL import Image, ImageChops, ImageFilter, ImageStat

    rgb = image.convert("RGB")
    scale = _WORK_SIDE / max(rgb.size)
    if scale < 1:
        rgb = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                         Image.BILINEAR)
    width, height = rgb.size
    gray = rgb.convert("L")
    paper = _percentile(gray.histogram(), 0.9)
    if paper < _TOO_DARK:
        return PageSeal(page, None, f"trang {page}: ảnh quá tối, không nhận ra được dấu đỏ")
    hue, sat, val = rgb.convert("HSV").split()
    v_min = max(40, int(paper * 0.35))
    lit = val.point(lambda v: 255 if v >= v_min else 0)
    red_hue = hue.point(lambda h: 255 if h <= _RED_HUE[0] or h >= _RED_HUE[1] else 0)
    red = _and(red_hue, lit)
    strong = _and(red, sat.point(lambda s: 255 if s >= _STRONG_SAT else 0))
    faint = _and(red, sat.point(lambda s: 255 if s >= _FAINT_SAT else 0))
    chromatic = _and(lit, sat.point(lambda s: 255 if s >= _COLOUR_SAT else 0))
    colour_share = ImageStat.Stat(chromatic).mean[0] / 255
    page_box = _page_box(gray, paper)

    rejected: list[str] = []
    for mask, is_faint in ((strong, False), (faint, True)):
        # close small gaps in the ring (thin lines, JPEG blocks) before labelling
        grown = mask.filter(ImageFilter.MaxFilter(5 if is_faint else 3))
        for box, pixels in _components(grown):
            cand, why = _judge(mask, box, pixels, page_box, near, is_faint)
            if cand is not None:
                if is_faint and (_share_strong(strong, faint, box) >= _STRONG_SHARE
                                 or _core_saturation(sat, faint, box) >= _STRONG_SAT):
                    # strong ink whose thin ring JPEG broke into arcs, or whose strokes shrinking
                    # and chroma subsampling paled at their edges: a seal, not a faint one
                    return PageSeal(page, True, f"trang {page}: có dấu đỏ tròn", _replace_faint(cand),
                                    tuple(rejected))
                if is_faint:
                    return PageSeal(page, None, f"trang {page}: có vùng đỏ tròn nhưng quá mờ, "
                                                 "chưa chắc là dấu", cand, tuple(rejected))
                return PageSeal(page, True, f"trang {page}: có dấu đỏ tròn", cand, tuple(rejected))
            if why and not is_faint:
                rejected.append(why)
    # pale red ink that is not the fringe of a strong red region already judged
    pale = ImageChops.subtract(faint, strong.filter(ImageFilter.MaxFilter(5)))
    below = pale.crop((0, page_box[1] + int((page_box[3] - page_box[1]) * _TOP_BAND), width, height))
    pale_share = ImageStat.Stat(below).mean[0] / 255 * below.height / height if below.width and below.height else 0
    if pale_share >= _FAINT_TRACE:
        return PageSeal(page, None, f"trang {page}: có vết mực đỏ nhạt, chưa chắc là dấu", None, tuple(rejected))
    if colour_share < _MIN_COLOUR:
        return PageSeal(page, None, f"trang {page}: ảnh không có màu (bản scan đen trắng?), "
                                     "không nhận ra được dấu đỏ", None, tuple(rejected))
    return PageSeal(page, False, f"trang {page}: không thấy dấu đỏ", None, tuple(rejected))


def _judge(mask, box, pixels, page_box, near, faint) -> tuple[SealCandidate | None, str]:
    """A component taken for a seal, or None with the reason it was not (empty: too small to say)."""
    x0, y0, x1, y1 = box
    px0, py0, px1, py1 = page_box
    pw, ph = max(1, px1 - px0), max(1, py1 - py0)
    w, h = x1 - x0 + 1, y1 - y0 + 1
    diameter = max(w, h) / pw
    if diameter < _MIN_DIAMETER * 0.6:
        return None, ""  # specks, letters, a red pen's tick
    norm = ((x0 - px0) / pw, (y0 - py0) / ph, (x1 + 1 - px0) / pw, (y1 + 1 - py0) / ph)
    aspect = w / h
    cy = (norm[1] + norm[3]) / 2
    if not 0.7 <= aspect <= 1 / 0.7:
        return None, f"vùng đỏ dài (chữ hoặc đường kẻ đỏ) ở {_where(cy)}"
    if not _MIN_DIAMETER <= diameter <= _MAX_DIAMETER:
        return None, f"vùng đỏ cỡ {diameter:.0%} bề ngang trang, không vừa cỡ dấu"
    roundness = _roundness(pixels, (x0 + x1) / 2, (y0 + y1) / 2, (w + h) / 4)
    if roundness < _MIN_ROUNDNESS:
        return None, f"vùng đỏ không tròn ở {_where(cy)}"
    if _inner_ink(mask, (x0 + x1) / 2, (y0 + y1) / 2, (w + h) / 4) < _MIN_INNER_INK:
        return None, f"vòng tròn đỏ rỗng ở {_where(cy)} (nét bút khoanh, không phải dấu)"
    if cy < _TOP_BAND:
        return None, "vùng đỏ tròn ở đầu trang (biểu trưng, không phải dấu)"
    if near is not None and not _close(norm, near, diameter):
        return None, "vùng đỏ tròn xa khối chữ ký"
    return SealCandidate(norm, round(diameter, 3), round(roundness, 2), faint), ""


def _share_strong(strong, faint, box) -> float:
    """Share of the red ink inside ``box`` that is strong red."""
    from PIL import ImageStat

    crop = (box[0], box[1], box[2] + 1, box[3] + 1)
    total = ImageStat.Stat(faint.crop(crop)).sum[0]
    return ImageStat.Stat(strong.crop(crop)).sum[0] / total if total else 0.0


def _core_saturation(sat, faint, box) -> int:
    """Saturation of the ink at the core of the strokes inside ``box``: the 90th percentile
    over the red pixels. Thin strokes (a seal's rings and letters at ~50 dpi) are mostly edge
    pixels, half ink and half paper once shrunk and JPEG-compressed (chroma at half
    resolution), so a per-pixel threshold reads a strong seal as pale; the stroke's core keeps
    the ink's colour. A faint, half-dry seal is pale at its core too."""
    crop = (box[0], box[1], box[2] + 1, box[3] + 1)
    histogram = sat.crop(crop).histogram(mask=faint.crop(crop))
    return _percentile(histogram, _CORE_SHARE) if sum(histogram) else 0


def _replace_faint(cand: SealCandidate) -> SealCandidate:
    return SealCandidate(cand.box, cand.diameter, cand.roundness, False)


def _where(cy: float) -> str:
    return "đầu trang" if cy < _TOP_BAND else ("cuối trang" if cy > 0.6 else "giữa trang")


def _close(seal: Box, block: Box, diameter: float) -> bool:
    """Whether the seal overlaps or lies within one seal width of the signature block."""
    gap_x = max(0.0, block[0] - seal[2], seal[0] - block[2])
    gap_y = max(0.0, block[1] - seal[3], seal[1] - block[3])
    return math.hypot(gap_x, gap_y) <= diameter


def _inner_ink(mask, cx: float, cy: float, radius: float) -> float:
    """Share of the disc of 0.6 radius around the centre that is inked."""
    from PIL import Image, ImageDraw, ImageStat

    r = 0.6 * radius
    box = (int(cx - r), int(cy - r), int(cx + r) + 1, int(cy + r) + 1)
    disc = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
    ImageDraw.Draw(disc).ellipse((0, 0, disc.width - 1, disc.height - 1), fill=255)
    stat = ImageStat.Stat(mask.crop(box), disc)
    return stat.mean[0] / 255 if stat.count[0] else 0.0


def _roundness(pixels: list[tuple[int, int]], cx: float, cy: float, radius: float) -> float:
    """Share of directions from the centre in which ink lies near the expected rim."""
    seen = set()
    lo, hi = (0.7 * radius) ** 2, (1.15 * radius) ** 2
    for x, y in pixels:
        dx, dy = x - cx, y - cy
        if lo <= dx * dx + dy * dy <= hi:
            seen.add(int((math.atan2(dy, dx) + math.pi) / (2 * math.pi) * _SECTORS) % _SECTORS)
    return len(seen) / _SECTORS


def _components(mask):
    """Connected regions (8-neighbour) of a binary "L" mask: (bbox, pixels), largest first."""
    width, height = mask.size
    data = bytearray(mask.tobytes())
    bbox = mask.getbbox()
    if bbox is None:
        return []
    found = []
    bx0, by0, bx1, by1 = bbox
    for y in range(by0, by1):
        row = y * width
        start = data.find(255, row + bx0, row + bx1)
        while start != -1:
            x = start - row
            pixels = _flood(data, width, height, x, y)
            xs = [p[0] for p in pixels]
            ys = [p[1] for p in pixels]
            found.append(((min(xs), min(ys), max(xs), max(ys)), pixels))
            start = data.find(255, start + 1, row + bx1)
    found.sort(key=lambda c: -len(c[1]))
    return found


def _flood(data: bytearray, width: int, height: int, x: int, y: int) -> list[tuple[int, int]]:
    """The pixels connected to (x, y), cleared from ``data`` as they are taken."""
    pixels = []
    queue = deque([(x, y)])
    data[y * width + x] = 0
    while queue:
        px, py = queue.popleft()
        pixels.append((px, py))
        for nx in (px - 1, px, px + 1):
            if 0 <= nx < width:
                for ny in (py - 1, py, py + 1):
                    if 0 <= ny < height and data[ny * width + nx] == 255:
                        data[ny * width + nx] = 0
                        queue.append((nx, ny))
    return pixels


def _and(a, b):
    from PIL import ImageChops

    return ImageChops.multiply(a, b).point(lambda v: 255 if v >= 128 else 0)


def _percentile(histogram: list[int], share: float) -> int:
    total = sum(histogram)
    running = 0
    for value, count in enumerate(histogram):
        running += count
        if running >= total * share:
            return value
    return 255


def _page_box(gray, paper: int) -> tuple[int, int, int, int]:
    """The paper's extent in a photo (background around a rotated or cropped page excluded)."""
    bright = gray.point(lambda v: 255 if v >= paper * 0.45 else 0)
    return bright.getbbox() or (0, 0, gray.width, gray.height)
