"""Vietnamese text normalisation: NFC, diacritic-insensitive folding, and the
legacy 8-bit encodings TCVN3 (ABC) and VNI that still turn up in Word files
and in PDFs printed from them.

Legacy text reaches us as Latin-1 look-alikes: TCVN3 ``B¸o c¸o`` is
``Báo cáo`` and VNI ``Baùo caùo`` is the same. Conversion tables below are
built from one row per vowel (six tones each) so that every one of the 134
Vietnamese letters (67 lower-case, 67 capitals) is listed exactly once and a
test can walk them all.

Detection (``fix_legacy``) never trusts a single character: it converts a
candidate text both ways and keeps a conversion only when it turns clearly
more words into valid Vietnamese syllables (see ``is_syllable``).
"""
from __future__ import annotations

import functools
import re
import string
import unicodedata

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# After NFD, what is neither ASCII nor a combining mark: rare in Vietnamese
# text (quotes, dashes, bullets, zero-width characters, foreign letters).
_RARE = re.compile("[^\x00-\x7f\u0300-\u036f]")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# Characters that sit inside words and carry nothing: zero-width ones and the
# soft hyphen (in TCVN3 byte 0xAD is the letter ư, but legacy text is
# converted before anything is folded; see fix_legacy).
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")


def nfc(text: str) -> str:
    """Unicode NFC; every text that enters the bot goes through this first."""
    return unicodedata.normalize("NFC", text)


def _fold(text: str) -> str:
    """Lower-case ASCII for matching: diacritics removed, đ->d, spaces collapsed.

    ``fold("Tờ  TRÌNH đề nghị")`` == ``"to trinh de nghi"``. Old and new tone
    placement (hoà/hòa), NFC and NFD fold to the same string; NBSP and
    zero-width characters vanish. Typographic dashes become "-", and any
    other character without an ASCII form (quotes, bullets, symbols) a
    space, so the result is always ASCII.

    Fast (about 0.5 ms for 10,000 characters of Vietnamese): NFD does the
    decomposition in C, the marks go with the ASCII encoding, and only the
    rare characters that are neither ASCII nor a mark are looked at one by
    one (cached).
    """
    if not text.isascii():
        text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "d")
        if _RARE.search(text):
            text = _RARE.sub(_fold_rare, text)
        text = text.encode("ascii", "ignore").decode("ascii")
    return " ".join(text.lower().split())


# Classifying folds the same lines again and again (a document's head by several rules, the same
# files re-sent all season): the bench corpus's 433,000 calls fold 9,200 distinct strings, 97 % of
# the calls a line (at most 256 characters). A whole text is folded by several rules in a row.
# Both are bounded: 16,384 lines (at most about 16 MB, typically 4), 64 texts of up to 20,000 characters.
_fold_line = functools.lru_cache(maxsize=16384)(_fold)
_fold_text = functools.lru_cache(maxsize=64)(_fold)


def fold(text: str) -> str:
    n = len(text)
    return _fold_line(text) if n <= 256 else _fold_text(text) if n <= 20_000 else _fold(text)


fold.__doc__ = _fold.__doc__


def _fold_rare(match: re.Match) -> str:
    return _fold_char(match.group(0))


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character that is neither ASCII nor a combining mark, folded."""
    if ch in _DASHES:
        return "-"
    if ch in _INVISIBLE:
        return ""
    if ch.isspace():
        return " "
    out = "".join(c for c in unicodedata.normalize("NFD", ch.casefold()) if not unicodedata.combining(c))
    out = out.replace("đ", "d").replace("ð", "d")  # Ð (U+00D0), the look-alike of Đ, casefolds to ð
    return out if out.isascii() else " "


def fold_compact(text: str) -> str:
    """``fold`` without any spaces: matches letter-spaced titles ("T Ờ  T R Ì N H")."""
    return fold(text).replace(" ", "")


# --------------------------------------------------------------------------
# The alphabet, and the legacy encodings' spelling of each letter
# --------------------------------------------------------------------------

# Tone marks in the column order used by every row below.
_TONE_MARKS = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # none, huyền, hỏi, ngã, sắc, nặng
_VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")

# TCVN3 (TCVN 5712:1993 VN3, the "ABC" fonts .VnTime, .VnArial...): one byte
# per lower-case letter, read here as the Latin-1 character of that byte.
# Columns: no tone, huyền, hỏi, ngã, sắc, nặng. Only the seven toneless
# capitals exist; capital toned letters need a ".VnTimeH" font (see below).
_TCVN3_ROWS = {
    "a": "a\xb5\xb6\xb7\xb8\xb9",      # a µ ¶ · ¸ ¹
    "ă": "\xa8\xbb\xbc\xbd\xbe\xc6",   # ¨ » ¼ ½ ¾ Æ
    "â": "\xa9\xc7\xc8\xc9\xca\xcb",   # © Ç È É Ê Ë
    "e": "e\xcc\xce\xcf\xd0\xd1",      # e Ì Î Ï Ð Ñ
    "ê": "\xaa\xd2\xd3\xd4\xd5\xd6",   # ª Ò Ó Ô Õ Ö
    "i": "i\xd7\xd8\xdc\xdd\xde",      # i × Ø Ü Ý Þ
    "o": "o\xdf\xe1\xe2\xe3\xe4",      # o ß á â ã ä
    "ô": "\xab\xe5\xe6\xe7\xe8\xe9",   # « å æ ç è é
    "ơ": "\xac\xea\xeb\xec\xed\xee",   # ¬ ê ë ì í î
    "u": "u\xef\xf1\xf2\xf3\xf4",      # u ï ñ ò ó ô
    "ư": "\xad\xf5\xf6\xf7\xf8\xf9",   # soft hyphen õ ö ÷ ø ù
    "y": "y\xfa\xfb\xfc\xfd\xfe",      # y ú û ü ý þ
}
_TCVN3_EXTRA = {"đ": "\xae", "Ă": "\xa1", "Â": "\xa2", "Ê": "\xa3", "Ô": "\xa4",
                "Ơ": "\xa5", "Ư": "\xa6", "Đ": "\xa7"}

# VNI (VNI-Times, VNI-Helve...): a base letter followed by a mark byte, both
# read as Latin-1. Ơ, Ư, Đ and the toned i/ỵ are single bytes.
_VNI_PLAIN_MARKS = ("", "ø", "û", "õ", "ù", "ï")
_VNI_CIRCUMFLEX_MARKS = ("â", "à", "å", "ã", "á", "ä")
_VNI_BREVE_MARKS = ("ê", "è", "ú", "ü", "é", "ë")
_VNI_ROWS = {
    "a": tuple("a" + m for m in _VNI_PLAIN_MARKS),
    "ă": tuple("a" + m for m in _VNI_BREVE_MARKS),
    "â": tuple("a" + m for m in _VNI_CIRCUMFLEX_MARKS),
    "e": tuple("e" + m for m in _VNI_PLAIN_MARKS),
    "ê": tuple("e" + m for m in _VNI_CIRCUMFLEX_MARKS),
    "i": ("i", "ì", "æ", "ó", "í", "ò"),
    "o": tuple("o" + m for m in _VNI_PLAIN_MARKS),
    "ô": tuple("o" + m for m in _VNI_CIRCUMFLEX_MARKS),
    "ơ": tuple("ô" + m for m in _VNI_PLAIN_MARKS),
    "u": tuple("u" + m for m in _VNI_PLAIN_MARKS),
    "ư": tuple("ö" + m for m in _VNI_PLAIN_MARKS),
    "y": ("y", "yø", "yû", "yõ", "yù", "î"),
}
_VNI_EXTRA = {"đ": "ñ"}


def _letter(vowel: str, tone: str) -> str:
    return unicodedata.normalize("NFC", vowel + tone)


def vietnamese_letters() -> tuple[str, ...]:
    """The 134 non-ASCII Vietnamese letters (67 lower-case, then 67 capitals)."""
    lower = [_letter(v, t) for v in _VOWELS for t in _TONE_MARKS]
    lower = [ch for ch in lower if not ch.isascii()] + ["đ"]
    return tuple(lower + [ch.upper() for ch in lower])


def _tcvn3_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for vowel, codes in _TCVN3_ROWS.items():
        for tone, code in zip(_TONE_MARKS, codes):
            if not code.isascii():
                table[ord(code)] = _letter(vowel, tone)
    for letter, code in _TCVN3_EXTRA.items():
        table[ord(code)] = letter
    return table


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for vowel, codes in _VNI_ROWS.items():
        for tone, code in zip(_TONE_MARKS, codes):
            if code.isascii():
                continue
            letter = _letter(vowel, tone)
            table[code] = letter
            table[code.upper()] = letter.upper()
            if len(code) == 2:  # capital base with a lower-case mark byte and vice versa
                table[code[0].upper() + code[1]] = letter.upper()
                table[code[0] + code[1].upper()] = letter
    for letter, code in _VNI_EXTRA.items():
        table[code] = letter
        table[code.upper()] = letter.upper()
    return table


_TCVN3 = _tcvn3_table()
_VNI = _vni_table()
# Longest sequences first so "ôø" (ờ) wins over "ô" (ơ).
_VNI_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_VNI, key=len, reverse=True)))
# Word stores text in "symbol" fonts in the private-use area U+F000-U+F0FF.
_PUA = {code: chr(code - 0xF000) for code in range(0xF020, 0xF100)}


def _unpua(text: str) -> str:
    return text.translate(_PUA) if any("\uf020" <= ch <= "\uf0ff" for ch in text) else text


def tcvn3_to_unicode(text: str, capitals: bool = False) -> str:
    """Convert TCVN3 (ABC) text, read as Latin-1 characters, to Unicode NFC.

    ``tcvn3_to_unicode("B¸o c¸o") == "Báo cáo"``. ``capitals=True`` is for
    the ".VnTimeH" family of fonts, which draw every code as a capital:
    ``tcvn3_to_unicode("Tê tr×nh", capitals=True) == "TỜ TRÌNH"``.
    Characters outside the table (ASCII, genuine Unicode) pass unchanged.
    """
    out = _unpua(text).translate(_TCVN3)
    return nfc(out.upper() if capitals else out)


def tcvn3h_to_unicode(text: str) -> str:
    """TCVN3 text typed in a ".VnTimeH"-style font: everything shows as capitals."""
    return tcvn3_to_unicode(text, capitals=True)


def vni_to_unicode(text: str) -> str:
    """Convert VNI (VNI-Windows) text, read as Latin-1 characters, to Unicode NFC.

    ``vni_to_unicode("Tôø trình") == "Tờ trình"``.
    """
    return nfc(_VNI_PATTERN.sub(lambda m: _VNI[m.group(0)], _unpua(text)))


def convert_legacy(text: str, encoding: str, capitals: bool = False) -> str:
    """Convert ``text`` from the named legacy encoding ("tcvn3" or "vni")."""
    if encoding == "tcvn3":
        return tcvn3_to_unicode(text, capitals)
    if encoding == "vni":
        out = vni_to_unicode(text)
        return out.upper() if capitals else out
    raise ValueError(f"unknown legacy encoding {encoding!r}")


def font_encoding(font_name: str | None) -> str | None:
    """The legacy encoding a font name implies: "tcvn3", "vni" or None.

    ABC/TCVN3 fonts are named ".VnTime", ".VnTimeH", ".VnArial", ".VnArial
    NarrowH"...; VNI fonts "VNI-Times", "VNI-Helve", "VNI-Aptima"... PDF
    font names may carry a subset prefix ("ABCDEF+.VnTime") or a style
    suffix (",Bold"), which are ignored.
    """
    name = _bare_font_name(font_name)
    if name.startswith(".vn"):
        return "tcvn3"
    if name.startswith(("vni-", "vni ", "vni_")):
        return "vni"
    return None


def font_capitals(font_name: str | None) -> bool:
    """True for TCVN3 capital-only fonts (".VnTimeH", ".VnArialH"...)."""
    name = _bare_font_name(font_name)
    return name.startswith(".vn") and re.sub(r"[\s,-](bold|italic|bolditalic)$", "", name).endswith("h")


def _bare_font_name(font_name: str | None) -> str:
    name = (font_name or "").strip().casefold()
    return name.split("+", 1)[1] if re.match(r"^[a-z]{6}\+", name) else name


# --------------------------------------------------------------------------
# Syllables and legacy detection
# --------------------------------------------------------------------------

_TONE_SET = frozenset(_TONE_MARKS[1:])
_STOP_TONES = frozenset(("\u0301", "\u0323"))  # only sắc/nặng before c, ch, p, t
_INITIALS = "ngh ng gh gi kh nh ph th tr ch qu b c d đ g h k l m n p r s t v x".split()
_OPEN_RHYMES = ("a e ê i o ô ơ u ư y oa oe uy uê uơ ai ao au ay âu ây eo êu ia iu oi ôi ơi "
                "ua ui ưa ưi ưu oai oao oay oeo uây uôi uya uyu ươi ươu iêu yêu").split()
_CLOSED_NUCLEI = ("a ă â e ê i o ô ơ u ư iê yê uô ươ oa oă oe oo uâ uê uy uyê").split()
_FINALS = "ch ng nh c m n p t".split()


def _alternation(items: list[str]) -> str:
    return "|".join(sorted(items, key=len, reverse=True))


_SYLLABLE = re.compile(
    rf"(?:{_alternation(_INITIALS)})?"
    rf"(?:(?P<open>{_alternation(_OPEN_RHYMES)})|(?:{_alternation(_CLOSED_NUCLEI)})(?P<final>{_alternation(_FINALS)}))"
)
_EDGE_PUNCT = string.punctuation + "“”‘’–—…"


def is_syllable(word: str) -> bool:
    """True if ``word`` is spelled like one Vietnamese syllable.

    Checks the shape (initial consonant, vowel cluster, final consonant), at
    most one tone mark, and that syllables ending in c/ch/p/t carry only the
    sắc or nặng tone. It does not know the lexicon: "hịa" passes. Edge
    punctuation is ignored; case does not matter.
    """
    word = word.strip(_EDGE_PUNCT).casefold()
    if not word:
        return False
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONE_SET]
    if len(tones) > 1:
        return False
    base = nfc("".join(ch for ch in decomposed if ch not in _TONE_SET))
    match = _SYLLABLE.fullmatch(base)
    if not match:
        return False
    return not (match.group("final") in ("c", "ch", "p", "t") and tones and tones[0] not in _STOP_TONES)


# Characters that betray legacy text: the Latin-1 upper half (and Word's PUA).
_LEGACY_CHARS = re.compile("[\u00a1-\u00ff\uf0a1-\uf0ff]")
_MIN_GAIN = 0.25       # share of changed words that must become valid syllables
_MIN_VALID_AFTER = 0.6  # share of changed words that are valid after conversion


def legacy_score(text: str, encoding: str) -> tuple[float, float, int]:
    """Score a candidate decoding: (valid share before, after, words changed).

    Only words that the conversion changes are counted, so English words and
    digits, which no conversion touches, do not dilute the signal.
    """
    before = text.split()
    after = convert_legacy(text, encoding).split()
    changed = [(b, a) for b, a in zip(before, after) if nfc(b) != a]
    if not changed or len(before) != len(after):
        return 0.0, 0.0, 0
    n = len(changed)
    return (sum(is_syllable(b) for b, _ in changed) / n,
            sum(is_syllable(a) for _, a in changed) / n, n)


def detect_legacy(text: str) -> str | None:
    """The legacy encoding ("tcvn3"/"vni") ``text`` is most likely in, or None.

    Genuine Unicode Vietnamese and English text give None: their words are
    already valid (or unchanged), so no conversion improves them.
    """
    if not _LEGACY_CHARS.search(text):
        return None
    best, best_gain = None, 0.0
    for encoding in ("tcvn3", "vni"):
        before, after, _ = legacy_score(text, encoding)
        gain = after - before
        if after >= _MIN_VALID_AFTER and gain >= _MIN_GAIN and gain > best_gain:
            best, best_gain = encoding, gain
    return best


# Letters that only Unicode text has (ă đ ĩ ũ ơ ư ạ ... ỹ): a line holding
# one is genuine Unicode and is never converted.
_UNICODE_LETTER = re.compile("[\u0100-\u024f\u1e00-\u1eff]")


def fix_legacy(text: str) -> tuple[str, str | None]:
    """Convert ``text`` if it is TCVN3- or VNI-encoded; return (text, encoding).

    ``fix_legacy("B¸o c¸o") == ("Báo cáo", "tcvn3")``;
    ``fix_legacy("Baùo caùo") == ("Báo cáo", "vni")``; Unicode or English
    text comes back unchanged (NFC) with None.

    The encoding is decided on all lines together (more words, surer
    score); then each line is converted unless it holds a letter only
    Unicode has (a Unicode line in a mixed text) or the conversion would make
    it worse. For TCVN3, a line whose ASCII letters are all capitals is taken
    as ".VnTimeH" text and upper-cased (``Tê TR×NH`` -> ``TỜ TRÌNH``), since
    that font family draws the lower-case codes as capitals.
    """
    text = nfc(text)
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines)
                  if _LEGACY_CHARS.search(line) and not _UNICODE_LETTER.search(line)]
    if not candidates:
        return text, None
    encoding = detect_legacy("\n".join(lines[i] for i in candidates))
    if encoding is None:
        return text, None
    for i in candidates:
        before, after, _ = legacy_score(lines[i], encoding)
        if after >= before:
            capitals = encoding == "tcvn3" and _ascii_all_caps(lines[i])
            lines[i] = convert_legacy(lines[i], encoding, capitals)
    return "\n".join(lines), encoding


def _ascii_all_caps(line: str) -> bool:
    """True when the words holding legacy codes are typed in ASCII capitals.

    ``Tê TR×NH`` qualifies (TR×NH); ``Sè: 15/BC`` does not (one capital
    only, as in any title-case word).
    """
    words = [w for w in line.split() if _LEGACY_CHARS.search(w)]
    letters = [[ch for ch in w if ch.isascii() and ch.isalpha()] for w in words]
    return (bool(words) and all(ch.isupper() for word in letters for ch in word)
            and any(len(word) >= 2 for word in letters))


# --------------------------------------------------------------------------
# PDF text repairs
# --------------------------------------------------------------------------

# A space (or several) before a combining mark: the mark belongs to the letter before.
_SPACE_BEFORE_MARK = re.compile(r"[ \t\u00a0]+(?=[\u0300-\u036f])")
# Spacing tone marks some PDF fonts emit after the vowel instead of combining ones.
_SPACING_TONES = {"\u02cb": "\u0300", "\u02ca": "\u0301", "\u02dc": "\u0303", "\u00b4": "\u0301"}
_SPACING_AFTER_VOWEL = re.compile(
    "(?<=[aăâeêioôơuưyAĂÂEÊIOÔƠUƯY])[ ]?([\u02cb\u02ca\u02dc\u00b4])(?=\\w)")
_GAP = re.compile(r" {2,}")
_MARKISH = re.compile("[\u0300-\u036f\u02ca\u02cb\u02dc\u00b4]")
_LETTER_PAIR = re.compile(r"(?<!\S)[^\W\d_] [^\W\d_](?!\S)")  # "T Ờ": two lone letters


def repair_marks(text: str) -> str:
    """Re-attach tone marks that PDF extraction detached, then NFC.

    Safe cases only: a space before a combining mark, and a spacing tone mark
    (ˋ ˊ ˜ ´) right after a Vietnamese vowel and followed by more of the word.
    """
    if _MARKISH.search(text):  # fast path: most lines have no loose mark at all
        text = _SPACE_BEFORE_MARK.sub("", text)
        text = _SPACING_AFTER_VOWEL.sub(lambda m: _SPACING_TONES[m.group(1)], text)
    return nfc(text)


def _single_letters(group: str, minimum: int = 2) -> bool:
    tokens = nfc(group).split(" ")  # PDF text may give "A" + combining acute
    return len(tokens) >= minimum and all(len(t) == 1 and t.isalpha() for t in tokens)


def is_letter_spaced(line: str) -> bool:
    """True for a line of 3+ single letters separated by spaces ("T Ờ T R Ì N H")."""
    return _single_letters(_SPACES.sub(" ", line.strip()), 3)


def join_letter_spaced(line: str) -> str:
    """Join letter-spaced words: ``"T Ờ  T R Ì N H"`` -> ``"TỜ TRÌNH"``.

    Letters of a word are separated by single spaces and words by two or
    more. A group is joined only if all its tokens are single letters, so an
    ordinary line is returned unchanged (apart from ``repair_marks``).
    """
    line = repair_marks(line)
    if not _LETTER_PAIR.search(line):
        return line
    groups = _GAP.split(line.strip())
    if len(groups) == 1:
        # Without a wider gap between words, only an all-capitals run of 3+
        # letters is taken as a spaced-out title ("a b c" in text is not).
        word = groups[0]
        if _single_letters(word, 3) and word.isupper():
            return word.replace(" ", "")
        return line
    if not any(_single_letters(g) for g in groups):
        return line
    return " ".join(g.replace(" ", "") if _single_letters(g) else g for g in groups)
