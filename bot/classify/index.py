"""``ClassifierIndex``: every lookup structure derived from the rules, built once per Rules object."""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..rules.model import Campaign, Pages, Rules, School
from ..vietnamese import fold_compact, nfc
from .constants import ADMIN_TYPES
from .forms import match_phrase
from .pages import PageForms, page_forms
from .school_names import NAME_END, STANDALONE_NUMBER, TRAILING_NUMBER, canon_school_text


# --------------------------------------------------------------------------
# The index: everything derived from the rules, built once per Rules object
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeSig:
    """How one document type is recognised (from the rules or Phụ lục III).

    ``dossier`` is True for the campaign's own types. Titles are compact
    folded (``totrinh``), codes folded (``ttr``), keywords in match form with the
    phrase as written.
    """

    id: str
    name: str
    dossier: bool
    titles: tuple[str, ...]
    codes: frozenset[str]
    keywords: tuple[tuple[str, str], ...] = ()  # (match form, as written)
    written: frozenset[str] = frozenset()       # titles casefolded with their marks, no spaces (tiếng Việt)
    body: tuple[tuple[str, str], ...] = ()      # lines that open a line of its body (match form, as written)
    end: tuple[tuple[str, str], ...] = ()       # its closing sentence naming it ("Trên đây là báo cáo")
    signers: tuple[tuple[str, str], ...] = ()   # lines of its closing block ("Nơi nhận", "HIỆU TRƯỞNG")


@dataclass(frozen=True)
class OfficeSigns:
    """``[office_documents]`` of the rules in match form: (match form, as written) pairs.

    ``place`` is the office's place ("quan 12"), dropped from a text before
    its phrases are searched ("Phòng Giáo dục và Đào tạo Quận 12 xây dựng").
    """

    name: str
    subjects: tuple[tuple[str, str], ...]
    phrases: tuple[tuple[str, str], ...]
    signers: frozenset[str]
    filenames: tuple[tuple[str, str], ...]
    place: str


@dataclass(frozen=True)
class ClassifierIndex:
    """Lookup structures derived from one ``Rules``; build with ``build_index``."""

    campaign: Campaign
    schools: Mapping[str, School]                # code -> school
    by_email: Mapping[str, School]
    name_re: re.Pattern | None                   # every key and stem, longest first
    name_keys: Mapping[str, tuple[tuple[School, ...], bool]]  # key -> (schools, partial)
    core_re: re.Pattern | None                   # "truong <name>" without level
    core_keys: Mapping[str, tuple[School, ...]]
    fuzzy_keys: tuple[tuple[str, tuple[str, ...], tuple[School, ...]], ...]  # key, numbers, schools
    compact_keys: tuple[tuple[str, tuple[School, ...]], ...]  # for filenames, longest first
    types: tuple[TypeSig, ...]
    titles: Mapping[str, TypeSig]                # compact title -> type
    title_prefixes: tuple[tuple[str, TypeSig], ...]
    title_split_re: re.Pattern                   # a printed title inside a run-on head line
    codes: Mapping[str, TypeSig]                 # folded code -> type
    topic_strong: tuple[tuple[str, str], ...]    # (match form, as written)
    topic_weak: tuple[tuple[str, str], ...]
    min_weak: int
    other_topics: tuple[tuple[str, tuple[str, ...]], ...]
    office_code: str                             # folded issuer abbreviation of the office
    glued_code_re: re.Pattern | None = None      # "/TTrTHHHG": a mixed-case code glued to the issuer
    # The campaign's object: groups of (match form, as written); a text names it with a phrase of every group.
    topic_object: tuple[tuple[tuple[str, str], ...], ...] = ()
    # Issuers that are not schools: (name, issuer-line starts in match form, folded codes).
    issuers: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = ()
    # This campaign's topic phrases that contain a neighbour's phrase (match form), longest first.
    own_terms: tuple[str, ...] = ()
    # The office's own documents, known by their content (None: not configured).
    office_docs: OfficeSigns | None = None
    # Issuers that are not schools, by the titles they sign with: (name, signer titles in match form).
    issuer_signers: tuple[tuple[str, frozenset[str]], ...] = ()
    # Whether a page photo continues the document before it ([pages] of campaign.toml).
    pages: PageForms = page_forms(Pages())
    # The closing-block lines of each dossier type ("Nơi nhận", signers' titles): (type id, phrases).
    signers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # The words of a document's closing sentence ("Trên đây là"): [pages] closing that close no block.
    end_words: tuple[tuple[str, str], ...] = ()



def build_index(rules: Rules) -> ClassifierIndex:
    """Derive every lookup structure from ``rules`` (about a millisecond for 30 schools)."""
    campaign = rules.campaign
    name_keys, core_keys = _school_keys(rules.schools)
    types = _type_sigs(campaign)
    titles = {t: sig for sig in types for t in sig.titles}
    codes: dict[str, TypeSig] = {}
    for sig in types:
        for code in sig.codes:
            codes.setdefault(code, sig)
    own = {p for p in (*campaign.topic.strong, *campaign.topic.weak)}
    own_forms = {match_phrase(p) for p in own}
    return ClassifierIndex(
        campaign=campaign,
        schools={s.code: s for s in rules.schools},
        by_email={e: s for s in rules.schools for e in s.emails},
        name_re=_alternation(name_keys, r"(?<![a-z0-9-])(", ")" + NAME_END),
        name_keys=name_keys,
        core_re=_alternation(core_keys, r"(?<![a-z0-9-])truong (", ")" + NAME_END),
        core_keys=core_keys,
        fuzzy_keys=tuple((k, tuple(STANDALONE_NUMBER.findall(k)), v[0])
                         for k, v in name_keys.items() if not v[1]),
        compact_keys=tuple(sorted(((re.sub(r"[^a-z0-9]", "", k), v[0])
                                   for k, v in name_keys.items() if not v[1]),
                                  key=lambda kv: -len(kv[0]))),
        types=types,
        titles=titles,
        title_prefixes=tuple(sorted(titles.items(), key=lambda kv: -len(kv[0]))),
        title_split_re=_title_split_re(campaign),
        codes=codes,
        topic_strong=_phrases(campaign.topic.strong),
        topic_weak=_phrases(campaign.topic.weak),
        min_weak=campaign.topic.min_weak,
        other_topics=tuple((label, tuple(f for f in (match_phrase(p) for p in phrases) if f not in own_forms))
                           for label, phrases in campaign.topic.others),
        office_code=match_phrase(campaign.office.short).replace(" ", ""),
        glued_code_re=_glued_code_re(campaign, codes),
        topic_object=tuple(_phrases(group) for group in campaign.topic.object)
        or (_phrases(campaign.topic.strong),),
        issuers=_issuers(campaign),
        own_terms=tuple(sorted({f for f in own_forms for _, phrases in campaign.topic.others
                                for p in phrases if f" {match_phrase(p)} " in f" {f} " and match_phrase(p) != f},
                               key=len, reverse=True)),
        office_docs=_office_signs(campaign),
        issuer_signers=tuple((i.name, frozenset(match_phrase(t) for t in i.signers)) for i in campaign.issuers
                             if i.signers),
        pages=page_forms(campaign.pages),
        signers=tuple((t.id, t.signers) for t in types if t.dossier and t.signers),
        end_words=tuple((p, w) for p, w in _phrases(campaign.pages.closing)
                        if not any(p == q for t in types for q, _ in t.signers)),
    )


def _office_signs(campaign: Campaign) -> OfficeSigns | None:
    docs = campaign.office_documents
    if docs is None:
        return None
    return OfficeSigns(name=docs.name, subjects=_phrases(docs.subjects), phrases=_phrases(docs.phrases),
                       signers=frozenset(match_phrase(s) for s in docs.signers), filenames=_phrases(docs.filenames),
                       place=match_phrase(campaign.office.place))


def _issuers(campaign: Campaign) -> tuple[tuple[str, tuple[str, ...], frozenset[str]], ...]:
    """The issuers of rules/programmes.toml, then the office itself (its own documents sent back)."""
    office = campaign.office
    found = [(i.name, tuple(match_phrase(line) for line in i.lines),
              frozenset(match_phrase(c).replace(" ", "") for c in i.codes)) for i in campaign.issuers]
    found.append(("chính Phòng", (match_phrase(office.name), "phong gd dt", "phong gddt"),
                  frozenset({match_phrase(office.short).replace(" ", "")})))
    return tuple(found)


def _glued_code_re(campaign: Campaign, codes: Mapping[str, TypeSig]) -> re.Pattern | None:
    """Type codes written in mixed case ("TTr", "CTr"), right after "/" and glued to capitals.

    The lower-case letter shows where the code ends, so "TTrTHHHG" can be
    read as TTr + THHHG; an all-capitals code glued to the issuer ("BCTHCS")
    cannot be cut safely and is left alone.
    """
    written = {nfc(c) for d in campaign.doc_types for c in d.number_codes} | {nfc(c) for *_, c in ADMIN_TYPES}
    mixed = sorted((c for c in written if c != c.upper() and match_phrase(c).replace(" ", "") in codes),
                   key=len, reverse=True)
    if not mixed:
        return None
    return re.compile(r"/\s*(" + "|".join(map(re.escape, mixed)) + r")([A-ZĐ][A-ZĐ0-9]+)")


def _school_keys(schools: Iterable[School]):
    """Canonical names, aliases and number-less stems of every school.

    Returns ``(name_keys, core_keys)``: ``name_keys`` maps "thcs nguyen hien"
    to its schools and whether the key is partial (a stem like "mn son ca"
    that lacks the number); ``core_keys`` maps the name without its level
    ("nguyen trai") to every school of that name, for "Trường Nguyễn Trãi".
    """
    full: dict[str, list[School]] = {}
    cores: dict[str, list[School]] = {}
    for s in schools:
        level = canon_school_text(s.level)
        for written in (s.name, *s.aliases):
            key = canon_school_text(written)
            key = key[len("truong "):] if key.startswith("truong ") else key
            _add(full, key, s)
            if key.startswith(level + " "):
                _add(cores, key[len(level) + 1:], s)
    stems: dict[str, list[School]] = {}
    for key, owners in full.items():
        if TRAILING_NUMBER.search(key):
            for s in owners:
                _add(stems, TRAILING_NUMBER.sub("", key), s)
    for core, owners in list(cores.items()):
        if TRAILING_NUMBER.search(core):
            for s in owners:
                _add(cores, TRAILING_NUMBER.sub("", core), s)
    name_keys = {k: (tuple(v), False) for k, v in full.items()}
    for stem, owners in stems.items():
        name_keys.setdefault(stem, (tuple(owners), True))
    core_keys = {k: tuple(v) for k, v in cores.items() if len(k) >= 4}
    return name_keys, core_keys


def _add(table: dict[str, list[School]], key: str, school: School) -> None:
    owners = table.setdefault(key, [])
    if school not in owners:
        owners.append(school)


def _alternation(keys: Iterable[str], before: str, after: str) -> re.Pattern | None:
    """One regex matching any key, longest first (so "th-thcs x" beats "thcs x")."""
    ordered = sorted(keys, key=len, reverse=True)
    return re.compile(before + "|".join(map(re.escape, ordered)) + after) if ordered else None


def _title_split_re(campaign: Campaign) -> re.Pattern:
    """Printed titles (capitals, as in the rules and Phụ lục III) between spaces."""
    printed = {nfc(t) for d in campaign.doc_types for t in d.titles} | {nfc(t) for _, _, t, _ in ADMIN_TYPES}
    alternation = "|".join(map(re.escape, sorted(printed, key=len, reverse=True)))
    return re.compile(r"\s+(" + alternation + r")(?=\s|$)")


def _phrases(written: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(match form, as first written) of each phrase; spelling variants folded together."""
    forms: dict[str, str] = {}
    for phrase in written:
        forms.setdefault(match_phrase(phrase), phrase)
    return tuple(forms.items())


def _type_sigs(campaign: Campaign) -> tuple[TypeSig, ...]:
    """The campaign's document types, then the other Phụ lục III types it does not use."""
    sigs = [TypeSig(d.id, d.name, True,
                    titles=tuple(fold_compact(t) for t in d.titles),
                    codes=frozenset(match_phrase(c).replace(" ", "") for c in d.number_codes),
                    keywords=_phrases(d.keywords), body=_phrases(d.body),
                    end=_phrases(d.end), signers=_phrases(d.signers))
            for d in campaign.doc_types]
    taken_titles = {t for s in sigs for t in s.titles}
    taken_codes = {c for s in sigs for c in s.codes}
    taken_ids = {s.id for s in sigs}
    for type_id, name, title, code in ADMIN_TYPES:
        title_c, code_c = fold_compact(title), match_phrase(code).replace(" ", "")
        titles = () if title_c in taken_titles else (title_c,)
        codes = frozenset() if code_c in taken_codes else frozenset({code_c})
        if titles or codes:
            other_id = type_id if type_id not in taken_ids else f"other_{type_id}"
            written = frozenset({"".join(ch for ch in nfc(title).casefold() if ch.isalnum())}) if titles else frozenset()
            sigs.append(TypeSig(other_id, name, False, titles=titles, codes=codes, written=written))
    return tuple(sigs)


_INDEX_CACHE: dict[int, tuple[weakref.ref, ClassifierIndex]] = {}


def index_for(rules: Rules) -> ClassifierIndex:
    """The index of ``rules``, built on first use and kept while ``rules`` lives.

    ``Rules`` holds dicts so it cannot be hashed; the cache is keyed by
    ``id()`` and checked through a weak reference, so a new Rules object that
    happens to get a recycled id never sees a stale index. The index does not
    refer back to the Rules object, so the entry goes when the rules do.
    """
    key = id(rules)
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0]() is rules:
        return hit[1]
    index = build_index(rules)
    _INDEX_CACHE[key] = (weakref.ref(rules, lambda _ref, key=key: _INDEX_CACHE.pop(key, None)), index)
    return index
