"""The HTML mails as a reader sees them: screenshots in headless Chromium.

The .html previews the bot writes to state/outbox/ are opened at a desktop
width and at a phone width. Checked: the page renders, it has text, and on
a phone the card still fits the screen (its right border is visible, so no
table forces a horizontal scroll). The PNGs are kept under the test's tmp
directory for a person to look at.

Needs the Debian package ``chromium-headless-shell`` (or ``chromium``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot import notify
from bot.send import FileSender
from bot.store import Store

from .outgoing import at, make_ctx, record

BORDER = (0xD1, 0xD5, 0xDB)  # the card's border colour in _layout.html
BACKGROUND = (0xF3, 0xF4, 0xF6)  # the page around it


def _browser() -> str | None:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    path = _browser()
    if path is None:
        reason = "headless Chromium is not installed: apt-get install chromium-headless-shell"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason} -- CI=true, so this is an error", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def previews(tmp_path_factory):
    """A receipt, a reminder and a digest written as .html previews by the FileSender."""
    tmp = tmp_path_factory.mktemp("shots")
    ctx = make_ctx(tmp)
    outdir = ctx.config.paths.state / "outbox"
    with Store.open(ctx.config.paths.state) as store:
        record(store, at(4, 9), sender="thcsnguyenhien.q12@hcm-edu.example",
               files=[("Tờ trình đề nghị công nhận năm 2023 - bản có chữ ký và đóng dấu đỏ.pdf", "thcs-nguyen-hien",
                       ("to_trinh",), "counted"),
                      ("scan0001.jpg", "thcs-nguyen-hien", ("bien_ban",), "review", "ảnh chụp, chữ ký không rõ")])
        sender = FileSender(outdir)
        notify.send_receipts(ctx, store, sender, at(4, 10))
        notify.remind(ctx, store, sender, at(7, 9))
        notify.digest(ctx, store, sender, at(8, 7))
    pages = {}
    for kind in ("receipt", "reminder", "digest"):
        pages[kind] = sorted(outdir.glob(f"*-{kind}*.html"))[0]
    return tmp, pages


def screenshot(browser: str, page: Path, out: Path, width: int, height: int = 1400):
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image
    return Image.open(out).convert("RGB")


def near(pixel, colour, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


@pytest.mark.parametrize("kind", ["receipt", "reminder", "digest"])
@pytest.mark.parametrize("width", [600, 375])  # a desktop mail pane; an iPhone SE
def test_mail_renders_and_fits_the_screen(browser, previews, kind, width):
    pytest.importorskip("PIL")
    tmp, pages = previews
    image = screenshot(browser, pages[kind], tmp / f"{kind}-{width}.png", width)
    assert image.size[0] == width
    pixels = image.load()
    w, h = image.size
    dark = sum(1 for x in range(0, w, 2) for y in range(0, min(h, 600), 2) if sum(pixels[x, y]) < 300)
    assert dark > 500, "no text rendered"
    # the card's right border is on screen, with the page background beyond it:
    # nothing is wider than the viewport
    y = 60
    edge = next((x for x in range(w - 1, w // 2, -1) if near(pixels[x, y], BORDER)), None)
    assert edge is not None, f"{kind} at {width}px: the card's right edge is off screen"
    assert all(near(pixels[x, y], BACKGROUND, 4) for x in range(edge + 1, w))
