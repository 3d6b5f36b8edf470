"""The red round seal on page images: scans and phone photos drawn with Pillow."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.official.seal import find_seal
from tests import officialfactory as f
from tests.officialfactory import Page

# name, page drawn, expected seal (True seen, False not there, None cannot tell)
PAGES = [
    ("stamped", Page(), True),
    ("stamped, large scan", Page(width=1240), True),
    ("stamped, small photo", Page(width=400), True),
    # a 50 dpi render of a scan: thin rings of half-transparent ink, paled at their edges by JPEG
    ("thin seal of a small scan", Page(width=414, seal_strength=0.78), True),
    ("photo rotated 7°", Page(rotate=7), True),
    ("photo rotated -12°", Page(rotate=-12), True),
    ("photo with a shadow", Page(shadow=True), True),
    ("photo rotated with a shadow", Page(shadow=True, rotate=5), True),
    ("dim photo", Page(darkness=0.55), True),
    ("stamped, with red title and logo", Page(red_title=True, red_logo=True), True),
    ("stamped, with a red pen circle", Page(red_circle=True), True),
    ("signed, not stamped", Page(seal=False), False),
    ("red title is no seal", Page(seal=False, red_title=True), False),
    ("red logo at the top is no seal", Page(seal=False, red_logo=True), False),
    ("red rule is no seal", Page(seal=False, red_underline=True), False),
    ("red pen circle is no seal", Page(seal=False, red_circle=True), False),
    ("everything red but a seal", Page(seal=False, red_title=True, red_logo=True, red_underline=True,
                                       red_circle=True), False),
    ("faint seal", Page(seal_strength=0.35), None),
    ("photo too dark", Page(darkness=0.25), None),
    ("black-and-white scan of a stamped page", Page(grayscale=True), None),
    ("black-and-white scan, no signature", Page(seal=False, signature=False), None),
]


@pytest.fixture(scope="module")
def drawn():
    """``page_image(spec)``, each page drawn once for its four encodings (read-only:
    the tests encode it, never change it)."""
    pages = {}

    def draw(spec: Page):
        if spec not in pages:
            pages[spec] = f.page_image(spec)
        return pages[spec]

    return draw


# JPEG at the qualities schools' scanners and phones save (chroma subsampled, rings around strokes):
# a seal found on the page must still be found after compression, and nothing else become one
@pytest.mark.parametrize("encoding", ["png", "jpeg40", "jpeg55", "jpeg70"])
@pytest.mark.parametrize("spec,expected", [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_seal_on_page_images(spec, expected, encoding, drawn):
    img = drawn(spec)
    data = f.png(img) if encoding == "png" else f.jpeg(img, int(encoding[4:]))
    found = find_seal(Image.open(io.BytesIO(data)), page=3)
    assert found.seal is expected, found.reason
    assert found.reason.startswith("trang 3: ")
    assert (found.candidate is not None) == (expected is True or "mờ" in found.reason)


def test_seal_is_reported_where_it_is():
    found = find_seal(f.page_image(Page()), page=2)
    x, y = found.candidate.centre
    assert 0.5 < x < 0.75 and 0.75 < y < 0.9      # over the signature, bottom right
    assert 0.14 < found.candidate.diameter < 0.22  # a 36 mm seal on A4
    assert found.reason == "trang 2: có dấu đỏ tròn"


def test_logo_and_title_are_named_as_rejected():
    found = find_seal(f.page_image(Page(seal=False, red_logo=True, red_title=True)))
    assert "vùng đỏ tròn ở đầu trang (biểu trưng, không phải dấu)" in found.rejected
    assert any(r.startswith("vùng đỏ dài") for r in found.rejected)


@pytest.mark.parametrize("block,expected", [
    ((0.55, 0.74, 0.85, 0.9), True),    # the signature block around the seal
    ((0.05, 0.74, 0.25, 0.8), False),   # block far to the left: a round red thing elsewhere is no seal
])
def test_seal_must_be_near_a_known_signature_block(block, expected):
    assert find_seal(f.page_image(Page()), near=block).seal is expected


def test_faint_seal_says_why():
    found = find_seal(f.page_image(Page(seal_strength=0.35)), page=1)
    assert found.reason == "trang 1: có vùng đỏ tròn nhưng quá mờ, chưa chắc là dấu"


def test_dark_photo_says_why():
    assert find_seal(f.page_image(Page(darkness=0.25))).reason == \
        "trang 1: ảnh quá tối, không nhận ra được dấu đỏ"


def test_any_image_mode_and_tiny_images_do_not_crash():
    for img in (Image.new("1", (10, 10)), Image.new("L", (3, 900), 255), Image.new("RGBA", (1, 1)),
                Image.new("P", (50, 70)), Image.new("CMYK", (40, 40))):
        assert find_seal(img).seal in (None, False)
