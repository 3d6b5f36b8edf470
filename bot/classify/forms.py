"""Matching forms: folded words separated by single spaces, for whole-word phrase search."""
from __future__ import annotations

from functools import lru_cache

from ..vietnamese import fold
from .constants import MAX_TEXT


# --------------------------------------------------------------------------
# Matching forms
# --------------------------------------------------------------------------


@lru_cache(maxsize=16)
def text_form(text: str) -> str:
    """``match_form`` of the first ``MAX_TEXT`` characters of a part's text.

    Memoised (a pure function of its argument): the topic and the type
    guess may both read the same text; folding it is the costliest step of
    classifying a part, so it is done only when the head did not decide.
    """
    return match_form(text[:MAX_TEXT])


# For bytes.translate (much faster than a regex on long text): letters,
# digits and "/" stay, everything else becomes a space.
_WORD_BYTES = bytes(c if (0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 or c == 0x2F) else 0x20 for c in range(256))


def match_form(text: str) -> str:
    """Folded words separated by single spaces, padded: ``" an ninh trat tu "``.

    Punctuation is dropped ("an ninh, trật tự" == "an ninh trật tự", "Xanh -
    Sạch" == "Xanh Sạch"); "/" is kept for document numbers ("9745/QĐ-BCA").
    Search a phrase with ``f" {phrase} " in text``: whole words only.
    """
    ascii_text = fold(text).encode("ascii").translate(_WORD_BYTES).decode("ascii")  # fold gives ASCII
    return " " + " ".join(ascii_text.split()) + " "


def match_phrase(text: str) -> str:
    """A phrase in match form without the padding."""
    return match_form(text).strip()
