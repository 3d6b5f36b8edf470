"""The HTML mails as a reader sees them: screenshots in headless Chromium.

The .html previews the bot writes to state/outbox/ are opened at a desktop
width and at a phone width. Checked: the page renders, it has text, and on
a phone the card still fits the screen (its right border is visible, so no
table forces a horizontal scroll). The PNGs are kept under the test's tmp
directory for a person to look at.

The daily digest of a generated season (``tests/season.py``: 60 schools,
110 files in review, the morning after the deadline) is measured in the
browser too, by a script added to a copy of the page (``--dump-dom`` prints
what it found): nothing drawn wider than the screen, no e-mail address
broken over two lines, and at 375 px at most eight phone screens tall.

Needs the Debian package ``chromium-headless-shell`` (or ``chromium``).
"""
from __future__ import annotations

import email
import html as htmllib
import json
import os
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest

from bot import notify
from bot.commands import Command, parse_commands
from bot.send import FileSender
from bot.store import Store

from .outgoing import at, make_ctx, record
from .season import MORNING_AFTER, record_season, season_rules

pytestmark = pytest.mark.slow  # a real browser (headless Chromium) per page

PHONE_SCREENS = 8
SCREEN_375 = 675  # px: an iPhone SE's screen less the mail app's bars; 8 screens = 5,400 px

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


# -- the digest of a busy morning ----------------------------------------------------------

# Runs in the page once it is laid out; writes its findings into <pre id="probe">.
PROBE = """
<script>
(function () {
  var W = document.documentElement.clientWidth, out = {width: W, height: document.documentElement.scrollHeight,
      scrollWidth: document.documentElement.scrollWidth, wide: [], broken: [], addresses: 0};
  function clipped(el) {  // inside a box that hides its overflow (an ellipsis line): not drawn beyond it
    for (var p = el.parentElement; p; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === 'hidden' || o === 'clip') return true;
    }
    return false;
  }
  var all = document.body.getElementsByTagName('*');
  for (var i = 0; i < all.length; i++) {
    var r = all[i].getBoundingClientRect();
    if (r.width > 0 && (r.right > W + 0.5 || r.left < -0.5) && !clipped(all[i]))
      out.wide.push(all[i].tagName + ': ' + (all[i].textContent || '').slice(0, 80));
  }
  var re = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+/g, walker = document.createTreeWalker(document.body, 4), n;
  while ((n = walker.nextNode())) {
    var m; re.lastIndex = 0;
    while ((m = re.exec(n.nodeValue))) {
      var range = document.createRange(), lines = {};
      range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
      var rects = range.getClientRects();
      for (var k = 0; k < rects.length; k++) if (rects[k].width > 0) lines[Math.round(rects[k].bottom)] = 1;
      out.addresses++;
      if (Object.keys(lines).length > 1) out.broken.push(m[0]);
    }
  }
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def probe(browser: str, page: Path, width: int) -> dict:
    """Lay ``page`` out at ``width`` px and measure it (see ``PROBE``)."""
    copy = page.with_name(f"{page.stem}.probe-{width}.html")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          f"--window-size={width},900", "--dump-dom", copy.as_uri()],
                         check=True, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, re.S)
    assert found, f"the probe did not run: {out.stderr[-500:]}"
    return json.loads(htmllib.unescape(found.group(1)))


@pytest.fixture(scope="module")
def season_digest(tmp_path_factory):
    """The digest of the generated season, written by the FileSender: (.html preview, the .eml)."""
    tmp = tmp_path_factory.mktemp("season")
    ctx = make_ctx(tmp, rules=season_rules(tmp))
    outdir = ctx.config.paths.state / "outbox"
    with Store.open(ctx.config.paths.state) as store:
        recorded = record_season(store, ctx, FileSender(tmp / "receipts"))
        notify.digest(ctx, store, FileSender(outdir), MORNING_AFTER)
    (page,) = outdir.glob("*-digest.html")
    (eml,) = outdir.glob("*-digest.eml")
    assert recorded["review"] >= 100
    return tmp, page, email.message_from_bytes(eml.read_bytes(), policy=policy.default), eml.stat().st_size


@pytest.mark.parametrize("width", [375, 600])
def test_the_digest_of_a_busy_morning_fits_a_phone_and_no_address_breaks(browser, season_digest, width):
    pytest.importorskip("PIL")
    tmp, page, _, _ = season_digest
    found = probe(browser, page, width)
    assert found["scrollWidth"] <= width and not found["wide"], f"wider than {width}px: {found['wide'][:5]}"
    assert found["addresses"] >= 10 and not found["broken"], f"addresses broken over two lines: {found['broken']}"
    print(f"\nseason digest at {width} px: {found['height']} px tall, {found['addresses']} addresses, none broken")
    if width == 375:
        assert found["height"] <= PHONE_SCREENS * SCREEN_375, (
            f"{found['height']} px tall: more than {PHONE_SCREENS} phone screens")
    # the whole page, for a person to look at
    image = screenshot(browser, page, tmp / f"season-digest-{width}.png", width, found["height"])
    assert image.size == (width, found["height"])


def test_the_probe_sees_a_table_too_wide_and_an_address_broken(browser, tmp_path):
    """The checks above can fail: the old review table (a narrow column that breaks
    anywhere, a cell that cannot shrink) is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body style="margin:0"><table style="width:100%"><tr><td style="width:40px;'
                    'overflow-wrap:anywhere;word-break:break-all">thlytutrong.q12@hcm-edu.example</td>'
                    '<td style="white-space:nowrap">' + "x" * 120 + "</td></tr></table></body></html>",
                    encoding="utf-8")
    found = probe(browser, page, 375)
    assert found["wide"] and found["broken"] == ["thlytutrong.q12@hcm-edu.example"]


def test_every_review_entry_shown_has_its_reply_and_the_text_part_keeps_every_decision(season_digest):
    _, page, msg, size = season_digest
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    print(f"\nseason digest: HTML part {len(html.encode('utf-8'))} bytes, whole message {size} bytes")
    assert len(html.encode("utf-8")) < 100_000 and size < 300_000, (len(html.encode("utf-8")), size)
    assert [p.get_filename()[-5:] for p in msg.iter_attachments()] == [".xlsx", ".docx"]
    cards = re.findall(r"<b>(R\d+)</b> · ", html)
    assert 5 <= len(cards) <= 10                                       # bounded: the rest is counted
    for ref in cards:                                                  # each with the reply that settles it
        assert re.search(rf"<code[^>]*>(duyệt|bỏ) {ref}\b", html), ref
        assert re.search(rf'Trả lời: "(duyệt|bỏ) {ref}\b', text), ref
    for part in (html, text):                                          # the guess in a few words
        assert "có lẽ: Biên bản (theo tên tệp) — bản scan, không đọc được chữ" in part
        assert "có lẽ không thuộc đợt này: phòng cháy chữa cháy" in part
    # likely first, then likely not; one line settles a whole group
    likely, unlikely = html.index("Có lẽ thuộc đợt này ("), html.index("Có lẽ không thuộc đợt này (")
    assert likely < unlikely
    batch = re.search(r"Không tính mọi tệp ở trên, trả lời một dòng:<br><code[^>]*>(bỏ [^<]+)</code>", html).group(1)
    (command,) = parse_commands(batch)
    assert isinstance(command, Command) and command.kind == "reject" and len(command.refs) >= 2
    assert f'"{batch}"' in text
    # today's decisions come first, with their counts, in both parts
    assert html.index("Việc cần làm hôm nay") < html.index("Tệp chờ xem xét")
    for part in (html, text):
        assert "110 tệp chờ xem xét" in part and "Gọi điện 2 trường" in part and "2 thư bot không xử lý được" in part
        assert "còn 4 ngày" in part
    assert text.index("VIỆC CẦN LÀM HÔM NAY") < text.index("1. TÌNH HÌNH CHUNG")
    # the text never starts a line with a command the reader could quote back by mistake
    assert not [c for c in parse_commands(text) if isinstance(c, Command) and c.kind != "status"]
