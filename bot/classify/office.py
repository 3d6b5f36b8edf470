"""The office's own documents, known by their content when their head cannot be read.

A school forwards the office's plan (Kế hoạch 887/KH-GDĐT), or puts it
beside its dossier, often photocopied or scanned so that OCR reads neither
its issuer line ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO") nor its number ("887/KH-GDĐT"):
``issuer.other_issuer`` then has nothing to go by, and the plan looks like
the school's Kế hoạch. A person still knows it at a glance: the office's
trích yếu, sentences in which the office is the author or gives the schools
their tasks ("Chỉ đạo các trường", "Đề nghị các đơn vị nghiêm túc triển
khai"), the office's signature ("TRƯỞNG PHÒNG") and, weakly, "PGD" in the
file name. The signs are data (``[office_documents]`` of rules/programmes.toml).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .constants import MAX_TEXT
from .forms import match_phrase, match_form, text_form
from .head import Head
from .helpers import quoted, shortened
from .index import ClassifierIndex, OfficeSigns
from .issuer import HeadSchool

# Weights of the signs. Content that only the office writes (its sentences,
# its signature) is needed; the trích yếu may be copied by a school, and the
# file name is the sender's word.
_SUBJECT, _PHRASE, _SIGNER, _FILENAME = 1, 1, 2, 1
_MAX_PHRASES = 3
_IGNORE_AT = 3   # this much evidence: the office's document at a glance (ignored)
_REVIEW_AT = 2   # this much: a person looks
# A roster school read in the head is the issuer unless the content says
# otherwise this strongly (then a person looks; it is never ignored).
_AGAINST_SCHOOL = 4
# Lines under the title that may hold the trích yếu (OCR cuts it in pieces).
_SUBJECT_LINES = 4
_CITATION = ("can cu", "thuc hien", "theo ", "kinh gui")
_EDGE_JUNK = re.compile(r"^[^\w]+|[^\w]+$")


@dataclass(frozen=True)
class OfficeVerdict:
    """``kind``: "office" (the office's own document: ignored) or "maybe" (review)."""

    kind: str
    reason: str


def office_document(head: Head, text: str, filename: str, index: ClassifierIndex,
                    head_school: HeadSchool) -> OfficeVerdict | None:
    """Whether a part is the office's own document, judged by what it says.

    Signs (weights): the office's trích yếu in the title block (1), each of
    its sentences anywhere in the text (1, at most 3), its signature title
    on a line of its own (2), an office word in the file name (1). At least
    one sentence or the signature is needed. 3 or more: the office's
    document (ignored); 2: review. When the head names a roster school
    (read whole), that school issued it unless the signs reach 4, and even
    then a person decides. None: no reason to think so.
    """
    signs = index.office_docs
    if signs is None:
        return None
    subject = _subject_hit(head, signs)
    form = text_form(text)
    if signs.place:
        form = form.replace(f" {signs.place} ", " ")
    phrases = [written for phrase, written in signs.phrases if f" {phrase} " in form][:_MAX_PHRASES]
    signer = _signer_line(text, signs)
    named = _filename_hit(filename, signs)
    if not (phrases or signer):
        return None
    score = (_SUBJECT if subject else 0) + _PHRASE * len(phrases) + (_SIGNER if signer else 0) \
        + (_FILENAME if named else 0)
    evidence = []
    if subject:
        evidence.append(f"trích yếu của Phòng ('{subject}')")
    if phrases:
        evidence.append(f"lời của Phòng: {quoted(phrases)}")
    if signer:
        evidence.append(f"người ký '{shortened(signer, 40)}'")
    if named:
        evidence.append(f"tên tệp ghi '{named}'")
    said = ", ".join(evidence)
    school = head_school.mention is not None and head_school.mention.exact and not head_school.fuzzy \
        and not head_school.cut_short
    if school:
        if score < _AGAINST_SCHOOL:
            return None
        return OfficeVerdict("maybe", f"đầu văn bản ghi '{shortened(head_school.line)}' nhưng nội dung giống văn bản "
                                      f"của chính Phòng ({signs.name}: {said}): cần xem lại")
    if score >= _IGNORE_AT:
        return OfficeVerdict("office", f"văn bản của chính Phòng ({signs.name}), không phải văn bản của trường: "
                                       f"{said}")
    if score >= _REVIEW_AT:
        return OfficeVerdict("maybe", f"có thể là văn bản của chính Phòng ({signs.name}), không phải của trường: "
                                      f"{said}: cần xem lại")
    return None


def _subject_hit(head: Head, signs: OfficeSigns) -> str:
    """The office's trích yếu in the title block (as written in the rules), or ""."""
    if not signs.subjects:
        return ""
    at = head.title_at
    lines = list(head.subject)
    if at is not None:
        lines += range(at + 1, min(len(head.folded), at + 1 + _SUBJECT_LINES))
    own = []
    for i in sorted(set(lines)):
        folded = _EDGE_JUNK.sub("", head.folded[i])
        if folded.startswith(_CITATION):
            break
        own.append(folded)
    form = match_form(" ".join([head.title_line, *own]))
    if signs.place:
        form = form.replace(f" {signs.place} ", " ")
    return next((written for phrase, written in signs.subjects if f" {phrase} " in form), "")


def _signer_line(text: str, signs: OfficeSigns) -> str:
    """A line that ends with the office's signature title in capitals ("KT. TRƯỞNG PHÒNG"), or ""."""
    return next((line for form, line in signature_titles(text) if form in signs.signers), "")


def signed_by_other_issuer(text: str, index: ClassifierIndex) -> tuple[str, str] | None:
    """(issuer name, the line) when the document is signed with the title of a body that is not a
    school ("TRƯỞNG CÔNG AN PHƯỜNG", "TM. BAN CHẤP HÀNH / BÍ THƯ"): ``[[issuer]] signers``."""
    if not index.issuer_signers:
        return None
    for form, line in signature_titles(text):
        for name, signers in index.issuer_signers:
            if form in signers:
                return name, line
    return None


def signature_titles(text: str) -> list[tuple[str, str]]:
    """(match form, line) of what may be a signature title: the run of capital words that ends a line,
    and the same without a short prefix ("KT.", "TL.", OCR's "KL"), in the first and last
    ``_MAX_TEXT`` characters (a signature block closes a document, or its first page)."""
    if len(text) > 2 * MAX_TEXT:
        text = text[:MAX_TEXT] + "\n" + text[-MAX_TEXT:]
    found = []
    for line in text.splitlines():
        last = line.rsplit(None, 1)[-1:]  # (speed) a line whose last word is not in capitals has no title
        if not last or not (word := _EDGE_JUNK.sub("", last[0])).isalpha() or not word.isupper():
            continue
        words = [_EDGE_JUNK.sub("", w) for w in line.split()]
        tail: list[str] = []
        for word in reversed(words):
            if not word or not word.isalpha() or not word.isupper():
                break
            tail.insert(0, word)
        for k in range(len(tail)):
            if any(len(w) > 2 for w in tail[:k]):
                break
            found.append((match_phrase(" ".join(tail[k:])), line.strip()))
    return found


def _filename_hit(filename: str, signs: OfficeSigns) -> str:
    """An office word of the file name ("Kế hoạch PGD - THCS X.pdf"), as written in the rules, or ""."""
    if not filename or not signs.filenames:
        return ""
    stem = filename.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    form = match_form(stem.replace("_", " "))
    return next((written for phrase, written in signs.filenames if f" {phrase} " in form), "")
