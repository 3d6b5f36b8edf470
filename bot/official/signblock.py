"""The signature block: the signer's title (HIỆU TRƯỞNG, KT. HIỆU TRƯỞNG /
PHÓ HIỆU TRƯỞNG, CHỦ TỌA, THƯ KÝ...) with a person's name under it, read
from the text lines of a page (text layer or OCR).

``find_blocks`` is pure: lines in, a frozen ``BlockFinding`` out. A title
counts only when it stands alone in capitals (a column of a two-column OCR
line is split off first); "Hiệu trưởng nhà trường chủ trì" in a sentence is
no signature block. The name is the first line below the title, within a
few lines (the handwritten signature leaves a gap or OCR noise), that looks
like a Vietnamese personal name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..vietnamese import fold, nfc

# Titles of the people who sign a school's or a meeting's papers (folded).
TITLES = (
    "hieu truong", "pho hieu truong", "giam doc", "pho giam doc", "chu toa", "chu tri", "thu ky",
    "chu tich", "pho chu tich", "truong phong", "pho truong phong", "bi thu", "pho bi thu",
    "to truong", "truong ban", "pho truong ban", "chu tich hoi dong", "nguoi lap bien ban",
    "ban giam hieu", "hoi dong truong", "hoi dong thi dua khen thuong",
)
# "KT." (ký thay), "TM." (thay mặt), "TL." (thừa lệnh), "TUQ." (thừa ủy quyền), "Q." (quyền)
_PREFIX = re.compile(r"^(?:(?:kt|tm|tl|tuq|q)\s*\.\s*)+")
# ... as OCR reads them around a seal ("KF,HIỆU TRƯỞNG", "KT HIỆU"): any short word ending in a dot or comma
_OCR_PREFIX = re.compile(r"^(?:[a-z]{1,3}\s*[.,]\s*)+")
_COLUMNS = re.compile(r"\s{3,}|\t+")
_SURNAMES = frozenset(fold(s) for s in (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đoàn Trương Lâm Mai Trịnh "
    "Đinh Lương Cao Tạ Hà Châu Tăng Thái Quách Lưu Kiều Triệu Văn Tô La Chu Phùng Mạc Từ Thân Khúc Vương "
    "Hứa Diệp Âu Giang Tôn Nghiêm Thạch Bạch Kim Lục Ninh Quan").split())
_ACADEMIC = re.compile(r"^(?:ths|ts|pgs\.?\s*ts|cn|ks|bs)\s*\.\s*", re.I)
_SIGNED_COPY = re.compile(r"\(\s*da ky\s*\)|\bda ky\b\s*$")


@dataclass(frozen=True)
class SignatureBlock:
    """A signer's title as printed, the name under it and the title's line index."""

    title: str
    name: str
    line: int


@dataclass(frozen=True)
class BlockFinding:
    """Every signature block of a page or document, in reading order.

    ``titles_without_name``: titles seen with no name found under them
    (the name was not read, or the block was left blank).
    ``typed_signed``: a "(Đã ký)" under a title, the mark of a typed copy of
    a signed paper, not the paper itself.
    """

    blocks: tuple[SignatureBlock, ...] = ()
    titles_without_name: tuple[str, ...] = ()
    typed_signed: bool = False

    @property
    def found(self) -> bool:
        return bool(self.blocks)

    @property
    def last(self) -> SignatureBlock | None:
        return self.blocks[-1] if self.blocks else None


def find_blocks(lines: Sequence[str], titles: Sequence[str] = TITLES) -> BlockFinding:
    """The signature blocks in ``lines`` (a page's or a document's text lines)."""
    known = frozenset(titles)
    cells = [[c.strip() for c in _COLUMNS.split(nfc(line)) if c.strip()] for line in lines]
    blocks: list[SignatureBlock] = []
    orphans: list[str] = []
    typed = False
    i = 0
    while i < len(cells):
        title = next((c for c in reversed(cells[i]) if _is_title(c, known)), None)
        if title is None:
            i += 1
            continue
        parts, j = [_shown_title(title)], i + 1
        # "KT. HIỆU TRƯỞNG" is followed by the signer's own title "PHÓ HIỆU TRƯỞNG"
        while j < len(cells) and cells[j] and _is_title(cells[j][-1], known):
            parts.append(_shown_title(cells[j][-1]))
            j += 1
        name, end = None, j
        for k in range(j, min(len(cells), j + 6)):
            cell = cells[k][-1] if cells[k] else ""
            if _SIGNED_COPY.search(fold(cell)):
                typed = True
            if _is_name(cell):
                name, end = _clean_name(cell), k + 1
                break
            if cell and _is_title(cell, known):
                break  # the next block starts: this one has no name
        if name is None:
            orphans.append(" / ".join(parts))
        else:
            blocks.append(SignatureBlock(" / ".join(parts), name, i))
        i = max(end, i + 1) if name else j
    return BlockFinding(tuple(blocks), tuple(orphans), typed)


def _is_title(cell: str, known: frozenset[str]) -> bool:
    """A cell that is only a signer's title, printed in capitals.

    As OCR reads it around a seal: up to two specks read as short "words" at
    either end ("› 0 CHÙTOA", "CÔ HIỆU TRƯỞNG TC", "HIỆU TRƯỞNG Tin") are
    dropped, and a long title (8 letters or more, without spaces) may differ
    by one letter ("HIUTRƯỜNG", "MIỆUTRƯỞNG")."""
    cell = " ".join(_without_specks(cell.split(), _title_speck))
    if len(cell) - len(_LOWER_LETTERS.sub("", cell)) > 0.1 * len(cell):  # (speed) too many small letters: the
        return False  # test below, at the speed of a regex (each of them is a letter, not a capital)
    letters = [ch for ch in cell if ch.isalpha()]
    if not letters or sum(ch.isupper() for ch in letters) < 0.9 * len(letters):
        return False
    folded = _PREFIX.sub("", fold(cell)).strip(" .:;,")
    if folded in known:
        return True
    # OCR drops the space between words set close ("PHÓHIỆU TRƯỞNG") and misreads the "KT." before them
    # ... and reads an accent as a mark of its own between letters ("HIỆˆUTRƯỞNG")
    squeezed = re.sub(r"[^a-z]", "", _OCR_PREFIX.sub("", folded))
    squeezed_known = {t.replace(" ", "") for t in known}
    if squeezed in squeezed_known or any(len(t) >= 8 and _one_edit(squeezed, t) for t in squeezed_known):
        return True
    # a letter read twice ("HEUTRƯỞỜNG": the Ở's hook read as a second letter) besides one misread
    single = _single_letters(squeezed)
    return any(len(t) >= 8 and _one_edit(single, _single_letters(t)) for t in squeezed_known)


# Lower-case letters (Latin, Vietnamese): each is ``isalpha()`` and not ``isupper()``.
_LOWER_LETTERS = re.compile("[a-z" + "".join(ch for ch in map(chr, [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)])
                                             if ch.isalpha() and ch.islower() and not ch.isupper()) + "]")


def _single_letters(text: str) -> str:
    """``text`` with each run of one letter written once ("truoong" -> "truong")."""
    return re.sub(r"(.)\1+", r"\1", text)


def _shown_title(cell: str) -> str:
    """A title as shown to people: without the specks OCR read around it ("› 0 CHÙTOA" -> "CHÙTOA"),
    keeping "KT." and the like."""
    def speck(token: str) -> bool:
        letters = sum(ch.isalpha() for ch in token)
        return letters == 0 or (letters <= 3 and not token.isupper()) or (letters == 1 and "." not in token)

    return " ".join(_without_specks(cell.split(), speck))


def _title_speck(token: str) -> bool:
    """A token around a title that OCR made of a speck: no letter, at most two letters, or
    three letters not in capitals."""
    letters = sum(ch.isalpha() for ch in token)
    return letters <= 2 or (letters <= 3 and not token.isupper())


def _name_speck(token: str) -> bool:
    """A token around a name that OCR made of a speck or a stroke of the signature: no letter,
    or at most two lower-case letters ("tr -", "củ")."""
    letters = sum(ch.isalpha() for ch in token)
    return letters == 0 or (letters <= 2 and token.islower())


def _without_specks(tokens: list[str], speck, most: int = 2) -> list[str]:
    """``tokens`` without up to ``most`` specks at each end (never all of them)."""
    for _ in range(most):
        if len(tokens) > 1 and speck(tokens[0]):
            tokens = tokens[1:]
        if len(tokens) > 1 and speck(tokens[-1]):
            tokens = tokens[:-1]
    return tokens


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by at most one inserted, deleted or replaced letter."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def _is_name(cell: str) -> bool:
    """A cell that reads as a Vietnamese personal name: 2-6 words, each capitalised.

    As OCR reads it under a seal: specks at its ends dropped ("tr - Nguyễn Quốc Trí"), words
    glued together split at their capitals ("Trần ĐứcBình"), a two-letter word read in
    capitals ("Phan Thị Kim HÀ") when the surname is known."""
    words = _name_words(cell)
    if not 2 <= len(words) <= 6 or any(not w.isalpha() for w in words):
        return False
    if all(_capitalised(w) for w in words):
        return fold(words[0]) in _SURNAMES or len(words) >= 3
    # the surname's capital read as a lower-case letter ("bàng Thị Trang" for Đặng Thị Trang)
    if len(words) >= 3 and words[0].islower() and len(words[0]) >= 2 and all(_capitalised(w) for w in words[1:]):
        return True
    if (fold(words[0]) in _SURNAMES and not all(w.isupper() for w in words)
            and all(w[0].isupper() and (w[1:].islower() or len(w) <= 2) for w in words)):
        return True
    # "NGUYỄN VĂN AN" in capitals: only with a known surname (else it is a heading)
    return all(w.isupper() for w in words) and fold(words[0]) in _SURNAMES


def _capitalised(word: str) -> bool:
    """A name's word: a capital, then lower-case letters; one more capital read in a word of four
    letters or more ("PHương") is OCR's."""
    rest = word[1:]
    return word[0].isupper() and (not rest or rest.islower() or (
        len(word) >= 4 and sum(ch.isupper() for ch in rest) == 1 and rest[0].isupper()))


def _name_words(cell: str) -> list[str]:
    tokens = [t for t in _without_specks(cell.split(), _name_speck) if any(ch.isalnum() for ch in t)]
    text = _ACADEMIC.sub("", " ".join(tokens).strip(" .,;:-"))
    return [w for token in text.split() for w in _split_glued(token)]


def _split_glued(word: str) -> list[str]:
    """ "ĐứcBình" -> ["Đức", "Bình"]: a capital after a lower-case letter starts a new word, and
    so does a capital followed by a lower-case letter after capitals ("LỄThị" -> ["LỄ", "Thị"])."""
    out, start = [], 0
    for i in range(1, len(word)):
        if word[i].isupper() and (word[i - 1].islower() or (
                i - start >= 2 and word[i - 1].isupper() and i + 1 < len(word) and word[i + 1].islower())):
            out.append(word[start:i])
            start = i
    return out + [word[start:]]


def _clean_name(cell: str) -> str:
    tokens = [t for t in _without_specks(cell.split(), _name_speck) if any(ch.isalnum() for ch in t)]
    text = " ".join(tokens).strip(" .,;:-")
    prefix = _ACADEMIC.match(text)
    head = prefix.group(0) if prefix else ""
    return head + " ".join(w for token in text[len(head):].split() for w in _split_glued(token))
