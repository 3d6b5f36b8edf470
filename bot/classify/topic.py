"""Topic: whether a document is about this campaign (its vocabulary) or another one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .forms import match_form, text_form
from .head import Head
from .helpers import _quoted
from .index import ClassifierIndex


# --------------------------------------------------------------------------
# Topic
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicVerdict:
    """``kind``: "this" (this campaign), "other" (another campaign's topic) or "unknown"."""

    kind: str
    reason: str
    label: str = ""


def topic_score(head: Head, text: str, index: ClassifierIndex) -> TopicVerdict:
    """Whether a document is about this campaign.

    The subject line decides first (a fire-safety report that mentions
    "an ninh trật tự" in passing is still about fire safety); then the whole
    text: a strong phrase suffices, weak ones need ``min_weak`` distinct
    hits, unless another campaign's topic is present too (then unsure).
    """
    subject = match_form(head.subject_text() + " " + head.title_line)
    strong = _hits(index.topic_strong, subject)
    if strong:
        return TopicVerdict("this", f"chủ đề trong trích yếu: '{strong[0]}'")
    other = _other_topic(index, subject)
    if other and len(_hits(index.topic_weak, subject)) < index.min_weak:
        return TopicVerdict("other", f"không thuộc đợt này (chủ đề: {other})", other)
    whole = match_form(" ".join(head.folded)) + text_form(text)
    strong = _hits(index.topic_strong, whole)
    if strong:
        return TopicVerdict("this", f"chủ đề: '{strong[0]}'")
    weak = _hits(index.topic_weak, whole)
    other = _other_topic(index, whole)
    if len(weak) >= index.min_weak and not other:
        return TopicVerdict("this", f"từ ngữ của chủ đề: {_quoted(weak)}")
    if other and not weak:
        return TopicVerdict("other", f"không thuộc đợt này (chủ đề: {other})", other)
    if other:
        return TopicVerdict("unknown", f"chưa chắc thuộc đợt này: có từ ngữ về {other}, "
                                       f"từ ngữ của đợt này chỉ có {_quoted(weak)}")
    return TopicVerdict("unknown", "không thấy từ ngữ nào của đợt này")


def _hits(phrases: Sequence[tuple[str, str]], form: str) -> list[str]:
    return [written for phrase, written in phrases if f" {phrase} " in form]


def _other_topic(index: ClassifierIndex, form: str) -> str:
    for label, phrases in index.other_topics:
        if any(f" {p} " in form for p in phrases):
            return label
    return ""
