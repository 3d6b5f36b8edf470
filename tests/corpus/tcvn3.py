"""Unicode -> TCVN3 (ABC, TCVN 5712:1993 "VN3") encoder for test documents.

Word files typed with the old ``.VnTime`` fonts store one byte per letter;
when Word opens them the bytes come back as Latin-1 characters, so
"Tờ trình" reads ``Tê tr×nh``. This module produces exactly that, on purpose
independently of ``bot/vietnamese.py`` (which decodes), so that a test that
round-trips through both really checks the decoder.

VN3 has no upper-case letters with tone marks. Typists wrote capitals in the
``.VnTimeH`` font, whose glyphs at the lower-case codes are capitals, so
``encode_runs`` puts every upper-case toned letter (and whole all-caps lines)
into ``.VnTimeH`` runs with lower-case codes.
"""
from __future__ import annotations

import unicodedata

# Base letters and their five toned forms, in the order
# (grave, hook, tilde, acute, dot below) -> VN3 byte.
_TONED = {
    "a": "àảãáạ", "ă": "ằẳẵắặ", "â": "ầẩẫấậ", "e": "èẻẽéẹ", "ê": "ềểễếệ",
    "i": "ìỉĩíị", "o": "òỏõóọ", "ô": "ồổỗốộ", "ơ": "ờởỡớợ", "u": "ùủũúụ",
    "ư": "ừửữứự", "y": "ỳỷỹýỵ",
}
_TONED_BYTES = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9), "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB), "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6), "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4), "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE), "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9), "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_PLAIN = {
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
}
# Typographic characters the old fonts did not have: typists used ASCII.
_ASCII_FALLBACK = {"–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'",
                   "…": "...", "\u00a0": " "}


def _build_table() -> dict[str, int]:
    table = dict(_PLAIN)
    for base, forms in _TONED.items():
        for ch, code in zip(forms, _TONED_BYTES[base]):
            table[ch] = code
    return table


_TABLE = _build_table()


def encode_char(ch: str) -> str:
    """One NFC character as the Latin-1 character of its VN3 byte.

    Upper-case toned letters cannot be encoded in ``.VnTime``; callers put
    them in ``.VnTimeH`` runs (see ``encode_runs``), here they fall back to
    the lower-case code, which is what ``.VnTimeH`` shows as a capital.
    """
    ch = _ASCII_FALLBACK.get(ch, ch)
    if len(ch) > 1 or ord(ch) < 0x80:
        return ch
    code = _TABLE.get(ch)
    if code is None:
        code = _TABLE.get(ch.lower())
    if code is None:
        raise ValueError(f"no TCVN3 code for {ch!r} (U+{ord(ch):04X})")
    return chr(code)


def encode(text: str) -> str:
    """Encode a whole string (NFC first: NFD input would leave bare marks)."""
    return "".join(encode_char(c) for c in unicodedata.normalize("NFC", text))


def needs_capital_font(ch: str) -> bool:
    """True for capitals VN3 cannot hold in ``.VnTime`` (toned capitals)."""
    return ch.isupper() and ch not in _PLAIN and ord(ch) >= 0x80


def encode_runs(text: str, font: str = ".VnTime", caps_font: str = ".VnTimeH") -> list[tuple[str, str]]:
    """Split ``text`` into ``(font, encoded)`` runs the way a typist would.

    An all-capitals line goes entirely into ``caps_font`` with lower-case
    codes; otherwise only the toned capitals switch font.
    """
    text = unicodedata.normalize("NFC", text)
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and any(ord(c) >= 0x80 for c in letters):
        return [(caps_font, encode(text.lower()))]
    runs: list[tuple[str, str]] = []
    for ch in text:
        run_font = caps_font if needs_capital_font(ch) else font
        piece = encode_char(ch.lower() if run_font == caps_font else ch)
        if runs and runs[-1][0] == run_font:
            runs[-1] = (run_font, runs[-1][1] + piece)
        else:
            runs.append((run_font, piece))
    return runs
