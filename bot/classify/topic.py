"""Topic: whether a document is this campaign's, another programme's, or unclear.

What identifies a document of this campaign is its OBJECT (the recognition
of a "cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ"), named in
its own words: the title and the trích yếu (subject lines). Topic words
("an ninh trật tự", "ANTQ", "Bộ tiêu chí") are shared with neighbouring
programmes (Ngày hội toàn dân bảo vệ ANTQ, An toàn về an ninh trật tự, thi
đua...) and never make a document count on their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..model import ReasonCode
from ..vietnamese import fold
from .forms import match_form
from .head import Head
from .helpers import quoted, shortened
from .index import ClassifierIndex


# --------------------------------------------------------------------------
# Topic
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicVerdict:
    """``kind``: "this" (this campaign), "other" (another programme) or "unknown".

    ``label`` names the other programme; ``words`` is True when the text has
    any word of this campaign's topic (object or vocabulary): mail with none
    and no school is not about the campaign at all.
    """

    kind: str
    reason: str
    label: str = ""
    words: bool = True
    both: bool = False  # unclear because this campaign's object and another programme are both named

    @property
    def code(self) -> ReasonCode | None:
        """Why it is not (surely) this campaign's: None when it is."""
        if self.kind == "other":
            return ReasonCode.OTHER_PROGRAMME if self.label else ReasonCode.OTHER_SUBJECT
        if self.kind == "unknown":
            if not self.words:
                return ReasonCode.NO_TOPIC
            return ReasonCode.BOTH_TOPICS if self.both else ReasonCode.TOPIC_WORDS_ONLY
        return None


# Lines of a body that cite other documents or address someone: their words
# are not the document's own ("Căn cứ Thông tư 124/2021/TT-BCA ...").
_CITING = ("can cu", "thuc hien", "theo ", "- can cu")
_ADDRESS = ("kinh gui", "noi nhan", "dong kinh gui")
_DOCUMENT_WORD = re.compile(r"\b(?:ke hoach|quyet dinh|thong tu|cong van|huong dan|chi thi|nghi quyet|van ban|"
                            r"nghi dinh|luat|bo tieu chi|so \d)")
_CITATION_INSIDE = re.compile(r"\b(?:can cu|theo|thuc hien|tai) (?:ke hoach|quyet dinh|thong tu|cong van|huong dan|"
                              r"chi thi|nghi quyet|van ban|bo tieu chi)\b")
# Body lines read for the object when the head does not decide.
_BODY_LINES = 400
# Without a trích yếu, a body names another programme this often before the
# document is taken for that programme's (this campaign's reports mention
# neighbours in passing, and a criterion may name one).
_BODY_MENTIONS = 3


def topic_score(head: Head, text: str, index: ClassifierIndex) -> TopicVerdict:
    """Whether a document is about this campaign, judged on its own words.

    1. The title and trích yếu: the campaign's object there makes it this
       campaign's (unless they name another programme too: unclear); another
       programme there (and not the object) makes it that programme's.
    2. Otherwise (the trích yếu lost or silent) the sentence by which the
       body says what the document is ("... xây dựng Kế hoạch triển khai ...
       như sau:"), weighed as a trích yếu: the object and no other programme
       -> this campaign. Then the body's own sentences, citations left out:
       the object and no other programme -> this campaign; another programme
       and not the object -> that one.
    3. Topic words alone: unclear (review), saying which words were seen.
    """
    own = match_form(" ".join((head.subject_text(), head.title_line, _line_under_title(head))))
    obj = _object_hits(index, own)
    others = _other_topics(index, own)
    if obj and others:
        return TopicVerdict("unknown", f"trích yếu nêu cả đợt này ({quoted(obj)}) và {others[0]}: cần xem lại",
                            both=True)
    if obj:
        return TopicVerdict("this", f"trích yếu nêu đối tượng của đợt này: {quoted(obj)}")
    if others:
        return TopicVerdict("other", f"không thuộc đợt này (chủ đề: {others[0]})", others[0])
    # The first lines (the head: title block, trích yếu, opening sentences), as
    # OCR may leave them: a trích yếu cut in two, a line moved above the title.
    first = match_form(" ".join(f for f in head.folded if _own(f)))
    obj = _object_hits(index, first)
    if obj and not _other_topics(index, _without(first, index.own_terms)):
        return TopicVerdict("this", f"đầu văn bản nêu đối tượng của đợt này: {quoted(obj)}")
    said, last_line = _declaration(text)
    obj = _object_hits(index, match_form(said))
    if obj and not _other_topics(index, _without(match_form(said), index.own_terms)):
        return TopicVerdict("this", f"câu mở đầu văn bản ('... {shortened(last_line, 60)}') nêu đối tượng của "
                                    f"đợt này: {quoted(obj)}")
    body = match_form(" ".join(_own_lines(head, text)))
    ours = _object_count(index, body)
    obj = _object_hits(index, body) if ours else []
    # This campaign's own terms that contain a neighbour's name ("Xanh - Sạch - Đẹp
    # - An toàn" is a criterion of the Bộ tiêu chí) are not that neighbour.
    theirs_form = _without(body, index.own_terms)
    others = _other_topics(index, theirs_form)
    if obj or others:
        # Both named in the body: the one it is about is named again and again; a
        # mention in passing ("cổng trường an toàn giao thông") is not its object.
        theirs = max((_count(p, theirs_form) for label, phrases in index.other_topics if label in others
                      for p in phrases), default=0)
        if obj and (not others or (ours >= 2 and ours > theirs)):
            return TopicVerdict("this", f"nội dung nêu đối tượng của đợt này: {quoted(obj)} (trích yếu không nêu)")
        if others and theirs >= max(_BODY_MENTIONS, 2 * ours):
            return TopicVerdict("other", f"không thuộc đợt này (chủ đề: {others[0]})", others[0])
        if obj:
            return TopicVerdict("unknown", f"chưa chắc thuộc đợt này: nội dung nêu cả {quoted(obj)} và {others[0]}",
                                both=True)
        # another programme mentioned a few times and not the object: judged as if silent
    whole = match_form(" ".join(head.folded)) + body
    words = _hits(index.topic_strong, whole) + _hits(index.topic_weak, whole)
    subject = match_form(head.subject_text())
    if not ours and _speaks_of_something_else(subject, index):
        written = " ".join(head.lines[i] for i in head.subject)
        return TopicVerdict("other", f"không thuộc đợt này: trích yếu '{shortened(written, 80)}' không nói "
                                     "về việc xây dựng, công nhận điển hình", words=bool(words))
    if words:
        return TopicVerdict("unknown", "chưa chắc thuộc đợt này: chỉ có từ ngữ chung của chủ đề "
                            f"({quoted(words[:3])}), văn bản không nêu việc xây dựng, công nhận "
                                       "điển hình")
    if others:
        return TopicVerdict("unknown", f"chưa chắc thuộc đợt này: nội dung nhắc đến {others[0]}, trích yếu không nêu")
    return TopicVerdict("unknown", "không thấy từ ngữ nào của đợt này", words=False)


# The sentence by which a document says what it is, before its first section:
# "Căn cứ tình hình thực tế của đơn vị, Trường X xây dựng Kế hoạch triển khai ... như sau:".
_DECLARATION_LINES = 15
_AS_FOLLOWS = re.compile(r"\bnhu\s*sau\b\W{0,3}:")
_SENTENCE_END = re.compile(r"[.;](?=\s)")
# A declaration that is a citation of another document ("Thực hiện Kế hoạch số 887 ... như sau:").
_CITED = re.compile(r"^\W*(?:can cu|thuc hien|theo) (?:ke hoach|quyet dinh|thong tu|cong van|huong dan|chi thi|"
                    r"nghi quyet|van ban|bo tieu chi)\b")


def _declaration(text: str) -> tuple[str, str]:
    """The document's own sentence ending "như sau:" in its first lines (its trích yếu in running
    text, as documents open their body), folded, with the line that ends it as written; ("", "")
    when there is none or it cites another document."""
    raw = text.splitlines()[:_DECLARATION_LINES]
    folded = [fold(line) for line in raw]
    for k, line in enumerate(folded):
        m = _AS_FOLLOWS.search(line)
        if m is None:
            continue
        top = " ".join(folded[:k] + [line[:m.end()]])
        ends = [e.end() for e in _SENTENCE_END.finditer(top)]
        sentence = top[ends[-1] if ends else 0:].strip()
        return ("", "") if _CITED.match(sentence) else (sentence, raw[k].strip())
    return "", ""


def _line_under_title(head: Head) -> str:
    """The line right under the title when the head did not take it as the subject:
    a plan's trích yếu may begin with "Thực hiện Kế hoạch số ..." (it ends without ":" or ";")."""
    at = head.title_at
    if at is None or at + 1 >= len(head.folded) or at + 1 in head.subject:
        return ""
    line = head.folded[at + 1]
    return line if line.startswith("thuc hien") and not line.rstrip(" .").endswith((":", ";")) else ""


# A trích yếu that names neither this campaign's object nor its words, nor what
# its documents say ("đề nghị công nhận", "họp xét"), in this many words or
# more: the document is about something else ("Tổng kết năm học ...").
_SUBJECT_WORDS = 5


def _speaks_of_something_else(subject: str, index: ClassifierIndex) -> bool:
    words = subject.split()
    if len(words) < _SUBJECT_WORDS:
        return False
    if any(_hits(group, subject) for group in index.topic_object):
        return False
    if _hits(index.topic_strong, subject) or _hits(index.topic_weak, subject):
        return False
    return not any(_hits(t.keywords, subject) for t in index.types if t.dossier)


def _own_lines(head: Head, text: str) -> list[str]:
    """The body's lines that are the document's own words (citations left out)."""
    return [f for f in (fold(raw).strip(" -+*•") for raw in text.splitlines()[:_BODY_LINES]) if _own(f)]


def _own(folded: str) -> bool:
    """A line in the document's own words: not an address, not a citation of
    another document ("Căn cứ Kế hoạch số 887 ..."; "Căn cứ kết quả thực
    hiện ... của đơn vị" is the document's own)."""
    if not folded or folded.startswith(_ADDRESS) or _CITATION_INSIDE.search(folded):
        return False
    return not (folded.startswith(_CITING) and _DOCUMENT_WORD.search(folded))


def campaign_words(text: str, index: ClassifierIndex) -> tuple[str, ...]:
    """This campaign's words (object or topic vocabulary) in any text: mail subject, body."""
    form = match_form(text)
    return tuple(_object_hits(index, form) or _hits(index.topic_strong, form) + _hits(index.topic_weak, form))


def _object_hits(index: ClassifierIndex, form: str) -> list[str]:
    """A phrase of every group of the object, or nothing."""
    found = []
    for group in index.topic_object:
        hit = _hits(group, form)
        if not hit:
            return []
        found.append(hit[0])
    return found


def _without(form: str, phrases: Sequence[str]) -> str:
    for phrase in phrases:
        form = form.replace(f" {phrase} ", " ")
    return form


def _count(phrase: str, form: str) -> int:
    return form.count(f" {phrase} ")


# In a body the object's phrases must stand together ("... điển hình về phong
# trào toàn dân bảo vệ ANTQ"), not in two unrelated sentences.
_OBJECT_SPAN = 90


def _object_count(index: ClassifierIndex, form: str) -> int:
    """How many times the object is named in a body: places where a phrase of
    the first group has a phrase of every other group within ``_OBJECT_SPAN``
    characters."""
    groups = [[m.start() for p, _ in group for m in re.finditer(re.escape(f" {p} "), form)]
              for group in index.topic_object]
    if not groups or not all(groups):
        return 0
    return sum(1 for at in groups[0]
               if all(any(abs(other - at) <= _OBJECT_SPAN for other in g) for g in groups[1:]))


def _hits(phrases: Sequence[tuple[str, str]], form: str) -> list[str]:
    return [written for phrase, written in phrases if f" {phrase} " in form]


def _other_topics(index: ClassifierIndex, form: str) -> list[str]:
    return [label for label, phrases in index.other_topics if any(f" {p} " in form for p in phrases)]
