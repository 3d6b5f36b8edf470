"""How often the official-copy check reads the signer around a seal on a
stamped photo whose OCR text (read by need: the page's head) has no
signature block.

Drawn pages (``tests/officialfactory.page_image``: the seal drawn over the
signature, its top ring touching the title), photographed: rotated
-8..8 degrees, a shadow on some, dimmed, JPEG quality 50-90, at the widths
given. Each is extracted as the worker does (OCR of the page, the seal
finder, the strip around the seal); the figure is on the pages whose seal
was seen.

    PYTHONPATH=$PWD python3 -m bench.official_signer --seed 16 --n 20 --widths 1240,1600,2000

Prints one line: photos, seals seen, signers read (and read without the strip), seconds.
"""
from __future__ import annotations

import argparse
import random
import time

from bot.extract import extract
from bot.model import Attachment
from bot.official.signblock import find_blocks
from tests import officialfactory as of


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--widths", default="1240,1600,2000", help="photo widths in pixels, comma-separated")
    args = p.parse_args()
    rng = random.Random(args.seed)
    widths = [int(w) for w in args.widths.split(",")]
    seen = read = by_text = 0
    start = time.monotonic()
    for i in range(args.n):
        spec = of.Page(rotate=rng.uniform(-8, 8), shadow=rng.random() < 0.3, darkness=rng.uniform(0.75, 1.0),
                       width=rng.choice(widths), title=rng.choice(["HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"]))
        result = extract(Attachment(f"p{i}.jpg", "image/jpeg", of.jpeg(of.page_image(spec), rng.randint(50, 90))))
        if not result.parts or result.official is None or not any(p.seal for p in result.official.pages):
            continue
        seen += 1
        text = result.parts[0].text.splitlines()
        by_text += find_blocks(text).found  # what the page's own OCR text gave
        read += find_blocks(text + result.official.signer_lines(1, result.pages or 1)).found
    print(f"seed {args.seed}: {args.n} stamped photos (widths {args.widths}), seal seen on {seen}, "
          f"signer read on {read} (from the page's OCR text alone: {by_text}), {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
