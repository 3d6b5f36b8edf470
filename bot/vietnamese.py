"""Vietnamese text normalisation: NFC, diacritic-insensitive folding.

(Legacy TCVN3/VNI detection and conversion live here too.)
"""
from __future__ import annotations

import re
import unicodedata

# Characters that carry no meaning for matching: NBSP, zero-width, soft hyphen
# is NOT here on purpose (in TCVN3 0xAD is the letter ư; see fix_legacy).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def nfc(text: str) -> str:
    """Unicode NFC; every text that enters the bot goes through this first."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case, diacritics removed, đ->d, spaces collapsed.

    ``fold("Tờ  TRÌNH đề nghị")`` == ``"to trinh de nghi"``. Old and new tone
    placement (hoà/hòa) fold to the same string.
    """
    text = unicodedata.normalize("NFD", nfc(text).casefold().translate(_INVISIBLE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d").replace("\u00f0", "d")  # Ð (U+00D0) casefolds to ð
    return _SPACES.sub(" ", text).strip()


def fold_compact(text: str) -> str:
    """``fold`` without any spaces: matches letter-spaced titles ("T Ờ  T R Ì N H")."""
    return fold(text).replace(" ", "")
