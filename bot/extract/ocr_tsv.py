"""Tesseract's TSV output -> page text: the two-column header in reading order, a misread date line repaired."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..vietnamese import fold

# --------------------------------------------------------------------------
# OCR layout: the two-column header of a scan put in reading order
# --------------------------------------------------------------------------
#
# Tesseract reads a scanned header row by row across the page: "TRƯỜNG MN
# SƠN CA 8  Độc lập - Tự do - Hạnh phúc" comes out as one line, with specks
# of the gap read as "`..." between the columns, and the issuer's name runs
# into the motto. Its TSV output gives every word's box, so the header is cut
# where PDF text is (``layout_lines``): a wide gap near the middle of a line
# splits it into a left and a right segment; the left column is read first,
# then the right one, then the rest of the page. Nothing else changes.

@dataclass(frozen=True)
class _Word:
    text: str
    left: int
    right: int
    top: int
    conf: float

    @property
    def solid(self) -> bool:
        """A real word: letters or digits, read with some confidence (not a speck)."""
        return self.conf >= _MIN_WORD_CONF and any(ch.isalnum() for ch in self.text)


_MIN_WORD_CONF = 15.0     # tesseract's confidence of specks and stamps read as text
_HEAD_BAND_LINES = 10     # the two-column header is in the first lines of a page
_HEAD_BAND_SHARE = 0.45   # ... and in the top of the page


@dataclass(frozen=True)
class OcrLine:
    """One line of a page as OCR read it: its text and how sure tesseract was of each word
    (0-100; specks and stamps read as text are below ``_MIN_WORD_CONF``)."""

    text: str
    confidences: tuple[float, ...]


def ocr_layout(tsv: str, head_share: float | None = None, repair: bool = True) -> str:
    """Tesseract TSV -> page text, with a two-column header in reading order and, with
    ``repair``, misread date lines repaired (``repair_date_line``)."""
    text = "\n".join(line.text for line in ocr_lines(tsv, head_share))
    return repair_text(text) if repair else text


def ocr_lines(tsv: str, head_share: float | None = None) -> list[OcrLine]:
    """Tesseract TSV -> the page's lines (``ocr_layout``'s, not repaired), each with its words' confidences."""
    width, height, lines = _tsv_lines(tsv)
    band, rest = _header_band(lines, width, height, _HEAD_BAND_SHARE if head_share is None else head_share)
    left = [seg for seg, side, _ in band if side == "left"]
    right = [seg for seg, side, _ in band if side == "right"]
    return [OcrLine(_words_text(words), tuple(w.conf for w in words)) for words in left + right + rest]


def repair_text(text: str) -> str:
    """``text`` with its misread date lines repaired (``repair_date_line``)."""
    return "\n".join(repair_date_line(line) for line in text.split("\n"))


def _words_text(words: list[_Word]) -> str:
    return _SECTION_SO.sub("Số", " ".join(_capital_lookalikes(w.text) for w in words))


# OCR reads the "S" of "Số" as a section sign: "§ố: 04/BB-...".
_SECTION_SO = re.compile(r"§(?=ố)")
# Symbols tesseract reads for capitals in words printed in capitals ("SƠN €A6").
_CAPITAL_LOOKALIKES = str.maketrans({"€": "C", "§": "S", "£": "E", "¥": "Y"})


def _capital_lookalikes(word: str) -> str:
    letters = [ch for ch in word if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and any(ch in "€§£¥" for ch in word):
        return word.translate(_CAPITAL_LOOKALIKES)
    return word


def _tsv_lines(tsv: str) -> tuple[int, int, list[list[_Word]]]:
    """(page width, page height, lines of words in tesseract's order) from TSV output."""
    width = height = 0
    lines: dict[tuple[str, str, str, str], list[_Word]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12:
            continue
        try:
            level, left, top, w, h = (int(c) for c in (cols[0], cols[6], cols[7], cols[8], cols[9]))
            conf = float(cols[10])
        except ValueError:
            continue
        if level == 1:
            width, height = w, h
        elif level == 5 and cols[11].strip():
            lines.setdefault((cols[1], cols[2], cols[3], cols[4]), []).append(
                _Word(cols[11].strip(), left, left + w, top, conf))
    return width, height, list(lines.values())


def _header_band(lines: list[list[_Word]], width: int, height: int, head_share: float | None = None):
    """Split the header lines into (segment, "left"/"right", top); return (band, the other lines).

    The band is the run of top lines (by position: tesseract may list a
    stamp or a signature first) above the title: each is cut at a wide gap
    near the middle of the page, or lies on one side. It ends at the first
    line centred across the middle (the title), after ``_HEAD_BAND_LINES``
    lines, or below ``_HEAD_BAND_SHARE`` of the page. Without lines on both
    sides there is no two-column header, and no band.
    """
    if width <= 0 or not lines:
        return [], lines
    char_width = _median([(w.right - w.left) / len(w.text) for line in lines for w in line if w.solid] or [10.0])
    tops = {id(line): _median([w.top for w in line if w.solid] or [w.top for w in line]) for line in lines}
    share = _HEAD_BAND_SHARE if head_share is None else head_share
    top_lines = sorted((line for line in lines if tops[id(line)] <= share * height),
                       key=lambda line: tops[id(line)])
    band: list[tuple[list[_Word], str, float]] = []
    taken: set[int] = set()
    for line in top_lines[:_HEAD_BAND_LINES]:
        solid = [w for w in line if w.solid]
        if solid:
            cut = _column_cut(solid, width, char_width)
            if cut is None:
                break  # centred across the middle: the title
            top = _median([w.top for w in solid])
            # every word of the line goes to its side of the cut, specks and all
            for side, keep in (("left", lambda w: (w.left + w.right) / 2 < cut),
                               ("right", lambda w: (w.left + w.right) / 2 >= cut)):
                words = [w for w in line if keep(w)]
                if any(w.solid for w in words):
                    band.append((words, side, top))
        taken.add(id(line))
    if not any(side == "right" for _, side, _ in band) or not any(side == "left" for _, side, _ in band):
        return [], lines
    return band, [line for line in lines if id(line) not in taken]


def _column_cut(words: list[_Word], width: int, char_width: float) -> float | None:
    """Where one header line divides into columns (an x), or None if it is centred (the title).

    At the widest gap near the middle when it is much wider than the line's
    other gaps; 0 or ``width`` for a line wholly on the right or the left.
    A line from the left margin across the middle that cannot be cut stays
    whole, as the left column's (its right part is then the motto, which
    the classifier cuts off by its words).
    """
    gaps = [(b.left - a.right, i) for i, (a, b) in enumerate(zip(words, words[1:]))]
    usual = _median([g for g, _ in gaps]) if gaps else 0
    wide = [(g, i) for g, i in gaps
            if g >= max(2 * char_width, 2.5 * usual)
            and 0.25 * width <= (words[i].right + words[i + 1].left) / 2 <= 0.7 * width]
    if wide:
        _, i = max(wide)
        cut = (words[i].right + words[i + 1].left) / 2
        if _centre(words[:i + 1]) < width / 2 < _centre(words[i + 1:]):
            return cut
    centre = _centre(words)
    if max(w.right for w in words) < 0.55 * width and centre < 0.45 * width:
        return float(width)
    if min(w.left for w in words) > 0.45 * width and centre > 0.55 * width:
        return 0.0
    if min(w.left for w in words) < 0.2 * width and abs(centre - width / 2) > 0.05 * width:
        return float(width)
    return None


def _centre(words: list[_Word]) -> float:
    return (min(w.left for w in words) + max(w.right for w in words)) / 2


def _median(values) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


# --------------------------------------------------------------------------
# The date line, as OCR misreads it
# --------------------------------------------------------------------------
#
# The date line ("Quận 12, ngày 05 tháng 10 năm 2023") is the line OCR most
# often gets wrong in the head of a scan, and the classifier reads it with a
# strict pattern: "ngày.12", "ngà 21", "nụày20", "ngày L4", "tháng $ 9" leave
# the document undated (and its page read a second time, whole). A line whose
# words are within a letter of "ngày D tháng M năm YYYY" and that the strict
# pattern cannot read is written back in the form the classifier reads, but
# only when its day and month are read, one number each: a date half read
# ("ngày 35", "ngày 2 25", "tháng ạ") is left as it is, never guessed (a
# guessed day can make a document look dated after it arrived). The year is
# never changed: a misread year (2033) stays misread, and the head rule's
# check against the subject's years still catches it.

# The date line as the classifier reads it (bot.classify.year, a layer above: the
# patterns are repeated here, on folded text); the head rule (``ocr_pages``) uses them too.
DATE_LONG = re.compile(r"ngay\s*(\d{1,2})?[\s.…_]*thang\s*(\d{1,2})?[\s.…_]*nam\s*(\d{4})")
DATE_SHORT = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_TOKEN = re.compile(r"[^\s,;:]+")
_DIGITISH = str.maketrans({"l": "1", "i": "1", "|": "1", "o": "0"})  # on folded (lower-case) text


def _near(word: str, target: str) -> bool:
    """``word`` is ``target`` with at most one letter wrong, missing or added."""
    if word == target:
        return True
    if abs(len(word) - len(target)) > 1 or len(word) < 3:
        return False
    if len(word) == len(target):
        return sum(a != b for a, b in zip(word, target)) == 1
    short, long_ = sorted((word, target), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _number(tokens: list[str], most: int) -> str:
    """The one number among ``tokens`` (OCR's l/i/o for 1/0 in it), 1 to ``most``; "" when there is
    none, more than one ("2 25": which?) or it is not a number ("t8", "+0", "35"): not guessed."""
    numeric = [token for token in tokens if any(ch.isdigit() for ch in token)]
    if len(numeric) != 1:
        return ""
    digits = numeric[0].translate(_DIGITISH).strip(".")
    return digits if digits.isdigit() and len(digits) <= 2 and 1 <= int(digits) <= most else ""


def repair_date_line(line: str) -> str:
    """``line`` with a misread date written as the classifier reads it (see the section comment);
    any other line unchanged."""
    folded = fold(line)
    if "th" not in folded or (DATE_LONG.search(folded) or DATE_SHORT.search(folded)):
        return line
    spans = [(m.start(), m.end(), fold(m.group(0))) for m in _TOKEN.finditer(line)]
    # each token split into its letters and what follows them ("ngay.12" -> "ngay", ".12")
    words = [(re.match(r"[a-z]*", f).group(0), f) for _, _, f in spans]
    for i, (word, _) in enumerate(words):
        exact = word == "ngay"
        if not (exact or (_near(word, "ngay") and "," in line[:spans[i][0]])):
            continue
        j = next((j for j in range(i + 1, min(i + 5, len(words))) if _near(words[j][0], "thang")), None)
        if j is None:
            continue
        k = next((k for k in range(j + 1, min(j + 5, len(words))) if _near(words[k][0], "nam")), None)
        if k is None:
            continue
        tail = words[k][1][len(words[k][0]):].strip(".")
        year_at = k if tail else k + 1
        if year_at >= len(words):
            continue
        year = re.fullmatch(r"[.]*((?:19|20)\d\d)[.]*", words[year_at][1] if year_at > k else tail)
        if year is None:
            continue
        day = _number([words[i][1][len(word):]] + [f for _, f in words[i + 1:j]], 31)
        month = _number([words[j][1][len(words[j][0]):]] + [f for _, f in words[j + 1:k]], 12)
        if not (day and month):  # a date half read is no better than unread: the page is read whole
            return line
        fixed = f"ngày {day} tháng {month} năm {year.group(1)}"
        start, end = spans[i][0], spans[year_at][1]
        return line[:start] + fixed + line[end:]
    return line
