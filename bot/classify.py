"""Classify documents: which school sent each one, what it is, and whether it counts.

Pure functions, no I/O and no clock: ``classify_message`` takes a parsed
message, the text extracted from its attachments, the rules and the time the
mail reached the server, and returns one ``ItemDecision`` per document part.

How evidence is weighed (details in the functions below):

- School. Strong: the sender's address on the roster (for forwarded mail the
  original sender) and the issuing body in the document's header block.
  Medium: the forwarder's roster address, the mail subject, the signature of
  the mail body, the sender's display name, an approximate (OCR) or
  incomplete header match. Weak: the filename. A school mentioned in passing
  in a body never counts. Two strong sources that disagree mean review.
- Document type. The title line and the type abbreviation of the ``Số:`` line
  in the head weigh most; the subject line ("Về việc", "V/v") confirms; body
  words and the filename only ever produce a guess that goes to review.
- Campaign and year. The topic vocabulary of the campaign (the subject line
  first, then the whole text) and the document's date and school year.

Every decision carries short reasons in Vietnamese, with diacritics: they
are shown to the coordinator in the digest and the review queue. When in
doubt the answer is "review": a wrong "counted" means a school is never
reminded.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, replace
from datetime import date, datetime
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from .model import Attachment, DocumentPart, Extraction, ItemDecision, ParsedMessage, Skipped
from .rules import Campaign, Rules, School
from .vietnamese import fold, fold_compact, nfc

# --------------------------------------------------------------------------
# Constants (national formats and mail conventions, not campaign data)
# --------------------------------------------------------------------------

# Administrative document types of Nghị định 30/2020/NĐ-CP, Phụ lục III:
# (id, name, title, type abbreviation). Those the campaign lists as its own
# documents are taken from the rules; the others are recognised so that a
# "QUYẾT ĐỊNH" is ignored rather than sent to review as "unknown type".
_ADMIN_TYPES = (
    ("nghi_quyet", "Nghị quyết", "NGHỊ QUYẾT", "NQ"),
    ("quyet_dinh", "Quyết định", "QUYẾT ĐỊNH", "QĐ"),
    ("chi_thi", "Chỉ thị", "CHỈ THỊ", "CT"),
    ("quy_che", "Quy chế", "QUY CHẾ", "QC"),
    ("quy_dinh", "Quy định", "QUY ĐỊNH", "QyĐ"),
    ("thong_bao", "Thông báo", "THÔNG BÁO", "TB"),
    ("huong_dan", "Hướng dẫn", "HƯỚNG DẪN", "HD"),
    ("chuong_trinh", "Chương trình", "CHƯƠNG TRÌNH", "CTr"),
    ("ke_hoach", "Kế hoạch", "KẾ HOẠCH", "KH"),
    ("phuong_an", "Phương án", "PHƯƠNG ÁN", "PA"),
    ("de_an", "Đề án", "ĐỀ ÁN", "ĐA"),
    ("bao_cao", "Báo cáo", "BÁO CÁO", "BC"),
    ("bien_ban", "Biên bản", "BIÊN BẢN", "BB"),
    ("to_trinh", "Tờ trình", "TỜ TRÌNH", "TTr"),
    ("hop_dong", "Hợp đồng", "HỢP ĐỒNG", "HĐ"),
    ("giay_moi", "Giấy mời", "GIẤY MỜI", "GM"),
    ("giay_gioi_thieu", "Giấy giới thiệu", "GIẤY GIỚI THIỆU", "GGT"),
)

# Phrases of a mail body that announce documents (for mail without any).
_SUBMISSION_PHRASES = ("gửi hồ sơ", "đính kèm", "gửi kèm", "kèm theo", "nộp hồ sơ",
                       "gửi tờ trình", "gửi báo cáo", "gửi biên bản", "hồ sơ đề nghị", "attached")

# Words of a Công văn subject that say it only transmits other documents.
_TRANSMIT_WORDS = ("gui", "nop", "chuyen", "kem theo", "dinh kem")

# Words around a school name that make it a mention in passing, not a signature.
_PASSING_WORDS = ("kinh nghiem", "phoi hop", "hoc tap", "cung voi", "giup do", "ho tro",
                  "tham quan", "so voi", "nhu truong", "giao luu")

# Weights of the sources of school evidence, and their tier (3 strong, 2 medium, 1 weak).
# "header_cut" (only the start of the issuer's name read) weighs nothing: it can
# only contradict, as strongly as the header it is.
_SOURCE_WEIGHT = {"address": 0.6, "header": 0.6, "header_partial": 0.45, "forwarder": 0.4,
                  "subject": 0.3, "signature": 0.3, "sender_name": 0.25, "filename": 0.15, "header_cut": 0.0}
_SOURCE_TIER = {"address": 3, "header": 3, "header_partial": 2, "forwarder": 2,
                "subject": 2, "signature": 2, "sender_name": 2, "filename": 1, "header_cut": 3}

# Confidence is capped here when something needs a person, whatever the threshold.
_CONCERN_CAP = 0.5
# Only this much of a part's text is read for topic and year (it is already bounded
# by extraction; this keeps one part well under a few milliseconds).
_MAX_TEXT = 20_000
# Images smaller than this without any document type are logos and signatures.
_TINY_IMAGE_BYTES = 40_000

# --------------------------------------------------------------------------
# Matching forms
# --------------------------------------------------------------------------


@lru_cache(maxsize=16)
def text_form(text: str) -> str:
    """``match_form`` of the first ``_MAX_TEXT`` characters of a part's text.

    Memoised (a pure function of its argument): the topic and the type
    guess may both read the same text; folding it is the costliest step of
    classifying a part, so it is done only when the head did not decide.
    """
    return match_form(text[:_MAX_TEXT])


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


def _phrase(text: str) -> str:
    """A phrase in match form without the padding."""
    return match_form(text).strip()


# --------------------------------------------------------------------------
# School names
# --------------------------------------------------------------------------

_NAME_JUNK = re.compile(r"[^a-z0-9\s-]+")
_LONE_DASH = re.compile(r"(?<![a-z0-9])-+|-+(?![a-z0-9])")
# Level words to their abbreviations, longest first; then multi-level names.
_LEVEL_WORDS = tuple((re.compile(p), r) for p, r in (
    (r"\btrung tam giao duc nghe nghiep\s*-?\s*giao duc thuong xuyen\b", "tt gdnn-gdtx"),
    # the spaces may be lost ("TRUNGHỌC PHỔTHÔNG" in a scan)
    (r"\btrung\s?hoc\s?co\s?so\b", "thcs"),
    (r"\btrung\s?hoc\s?pho\s?thong\b", "thpt"),
    (r"\btieu\s?hoc\b", "th"),
    (r"\bmam\s?non\b", "mn"),
    (r"\bmau\s?giao\b", "mg"),
    (r"\bnha\s?tre\b", "nt"),
    (r"\btrung\s?tam\b", "tt"),
    (r"\bgdnn\s*-\s*gdtx\b", "gdnn-gdtx"),
    (r"\bth\s*(?:-|va)?\s*thcs\s*(?:-|va)?\s*thpt\b", "th-thcs-thpt"),
    (r"\bth\s*(?:-|va)?\s*thcs\b", "th-thcs"),
    (r"\bthcs\s*(?:-|va)?\s*thpt\b", "thcs-thpt"),
))
_LEVEL_TOKENS = frozenset({"mn", "mg", "nt", "th", "thcs", "thpt", "th-thcs", "thcs-thpt",
                           "th-thcs-thpt", "tt"})
# A following small number makes it another school: "Sơn Ca 6" is not "Sơn Ca 68"
# nor "Sơn Ca"; a year ("Nguyễn Hiền 2023") is not a school number.
_NAME_END = r"(?![a-z0-9])(?!\s\d{1,2}(?!\d))"
_TRAILING_NUMBER = re.compile(r"\s\d{1,2}$")
_STANDALONE_NUMBER = re.compile(r"(?<![a-z0-9])\d+(?![a-z0-9])")


def canon_school_text(text: str) -> str:
    """Folded text where school names are matched: level words abbreviated.

    ``canon_school_text("Trường Trung học cơ sở Nguyễn Hiền")`` ==
    ``"truong thcs nguyen hien"``; "Tiểu học - Trung học cơ sở", "TH và
    THCS" both become ``th-thcs``.
    """
    text = _NAME_JUNK.sub(" ", fold(text))
    for pattern, abbreviation in _LEVEL_WORDS:
        text = pattern.sub(abbreviation, text)
    return " ".join(_LONE_DASH.sub(" ", text).split())


@dataclass(frozen=True)
class SchoolMention:
    """A school name found in some text.

    ``schools`` has one school when the name identifies it, several when it
    is ambiguous ("MN Sơn Ca" without its number). ``exact`` is False for an
    incomplete (no level, no number) or approximate (OCR) match.
    """

    schools: tuple[School, ...]
    text: str
    exact: bool = True


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
    own_forms = {_phrase(p) for p in own}
    return ClassifierIndex(
        campaign=campaign,
        schools={s.code: s for s in rules.schools},
        by_email={e: s for s in rules.schools for e in s.emails},
        name_re=_alternation(name_keys, r"(?<![a-z0-9-])(", ")" + _NAME_END),
        name_keys=name_keys,
        core_re=_alternation(core_keys, r"(?<![a-z0-9-])truong (", ")" + _NAME_END),
        core_keys=core_keys,
        fuzzy_keys=tuple((k, tuple(_STANDALONE_NUMBER.findall(k)), v[0])
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
        other_topics=tuple((label, tuple(f for f in (_phrase(p) for p in phrases) if f not in own_forms))
                           for label, phrases in campaign.topic.others),
        office_code=_phrase(campaign.office.short).replace(" ", ""),
        glued_code_re=_glued_code_re(campaign, codes),
    )


def _glued_code_re(campaign: Campaign, codes: Mapping[str, TypeSig]) -> re.Pattern | None:
    """Type codes written in mixed case ("TTr", "CTr"), right after "/" and glued to capitals.

    The lower-case letter shows where the code ends, so "TTrTHHHG" can be
    read as TTr + THHHG; an all-capitals code glued to the issuer ("BCTHCS")
    cannot be cut safely and is left alone.
    """
    written = {nfc(c) for d in campaign.doc_types for c in d.number_codes} | {nfc(c) for *_, c in _ADMIN_TYPES}
    mixed = sorted((c for c in written if c != c.upper() and _phrase(c).replace(" ", "") in codes),
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
        if _TRAILING_NUMBER.search(key):
            for s in owners:
                _add(stems, _TRAILING_NUMBER.sub("", key), s)
    for core, owners in list(cores.items()):
        if _TRAILING_NUMBER.search(core):
            for s in owners:
                _add(cores, _TRAILING_NUMBER.sub("", core), s)
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
    printed = {nfc(t) for d in campaign.doc_types for t in d.titles} | {nfc(t) for _, _, t, _ in _ADMIN_TYPES}
    alternation = "|".join(map(re.escape, sorted(printed, key=len, reverse=True)))
    return re.compile(r"\s+(" + alternation + r")(?=\s|$)")


def _phrases(written: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(match form, as first written) of each phrase; spelling variants folded together."""
    forms: dict[str, str] = {}
    for phrase in written:
        forms.setdefault(_phrase(phrase), phrase)
    return tuple(forms.items())


def _type_sigs(campaign: Campaign) -> tuple[TypeSig, ...]:
    """The campaign's document types, then the other Phụ lục III types it does not use."""
    sigs = [TypeSig(d.id, d.name, True,
                    titles=tuple(fold_compact(t) for t in d.titles),
                    codes=frozenset(_phrase(c).replace(" ", "") for c in d.number_codes),
                    keywords=_phrases(d.keywords))
            for d in campaign.doc_types]
    taken_titles = {t for s in sigs for t in s.titles}
    taken_codes = {c for s in sigs for c in s.codes}
    taken_ids = {s.id for s in sigs}
    for type_id, name, title, code in _ADMIN_TYPES:
        title_c, code_c = fold_compact(title), _phrase(code).replace(" ", "")
        titles = () if title_c in taken_titles else (title_c,)
        codes = frozenset() if code_c in taken_codes else frozenset({code_c})
        if titles or codes:
            other_id = type_id if type_id not in taken_ids else f"other_{type_id}"
            sigs.append(TypeSig(other_id, name, False, titles=titles, codes=codes))
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


# --------------------------------------------------------------------------
# Finding schools
# --------------------------------------------------------------------------


def find_schools(text: str, index: ClassifierIndex) -> tuple[SchoolMention, ...]:
    """Every roster school named in ``text`` (level + name, or alias).

    "Trường <name>" without a level is tried only when nothing else is found,
    and gives an incomplete (inexact) mention.
    """
    canon = canon_school_text(text)
    found = []
    if index.name_re is not None:
        for m in index.name_re.finditer(canon):
            schools, partial = index.name_keys[m.group(1)]
            found.append(SchoolMention(schools, m.group(1), exact=not partial and len(schools) == 1))
    if not found and index.core_re is not None:
        for m in index.core_re.finditer(canon):
            found.append(SchoolMention(index.core_keys[m.group(1)], m.group(0), exact=False))
    return tuple(found)


def merge_mentions(mentions: Sequence[SchoolMention]) -> SchoolMention | None:
    """One mention standing for several: ambiguous when they name different schools."""
    if not mentions:
        return None
    schools: list[School] = []
    for m in mentions:
        schools.extend(s for s in m.schools if s not in schools)
    if len(schools) == 1:
        return SchoolMention(tuple(schools), mentions[0].text, exact=any(m.exact for m in mentions))
    return SchoolMention(tuple(schools), " / ".join(dict.fromkeys(m.text for m in mentions)), exact=False)


def fuzzy_school(line: str, index: ClassifierIndex, min_ratio: float = 0.85) -> SchoolMention | None:
    """The school an OCR-damaged name most likely is, or None.

    Compares folded canonical forms with difflib; numbers must be equal
    ("Sơn Ca 6" never matches "Sơn Ca 8") and the best school must beat every
    other school clearly, else the mention is ambiguous.
    """
    canon = canon_school_text(line)
    canon = canon[len("truong "):] if canon.startswith("truong ") else canon
    if not 6 <= len(canon) <= 60:
        return None
    numbers = tuple(_STANDALONE_NUMBER.findall(canon))
    level = canon.split()[0] if canon.split()[0] in _LEVEL_TOKENS else None
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(canon)  # difflib caches the second sequence
    scored: dict[str, tuple[float, School]] = {}
    for key, key_numbers, schools in index.fuzzy_keys:
        if key_numbers != numbers or abs(len(key) - len(canon)) > max(4, len(key) // 4):
            continue
        if level is not None and key.split()[0] in _LEVEL_TOKENS and key.split()[0] != level:
            continue  # a level read clearly is never another level: THCS Nguyễn Du is not TH Nguyễn Du
        matcher.set_seq1(key)
        if matcher.real_quick_ratio() < min_ratio or matcher.quick_ratio() < min_ratio:
            continue
        ratio = matcher.ratio()
        for s in schools:
            if ratio >= min_ratio and ratio > scored.get(s.code, (0.0, s))[0]:
                scored[s.code] = (ratio, s)
    if not scored:
        return None
    ranked = sorted(scored.values(), key=lambda rs: -rs[0])
    close = tuple(s for r, s in ranked if r >= ranked[0][0] - 0.04)
    return SchoolMention(close, canon, exact=False)


# --------------------------------------------------------------------------
# The head of a document
# --------------------------------------------------------------------------

_MOTTO = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap\s*-?\s*tu do\s*-?\s*hanh phuc")
# Where the motto of the right column begins, as OCR leaves it ("Độc lâg-Tựdo-",
# "CỘNG HOÀ XÃ HỘICHỦ", "Tư do - anh phúc"): any of its distinctive pieces.
_MOTTO_PIECE = re.compile(r"(?<![a-z])(?:cong\s*hoa\s*xa|xa\s*hoi\s*chu|doc\s*la[pg]?(?![a-z])|"
                          r"tu\s*do\s*-\s*h|hanh\s*phuc)")
# Folded "số: 15/TTr-THCSNH", "Số: ..../BC-X", "Số 15/2023/TTr-X": type slot, issuer slot.
# OCR: "Số-36/TTr-.X", "Số:-87/TTr:X", "Sốố: 12/BC-X", "48/BB THCSNVN" (the dash lost).
_NUMBER = re.compile(r"^soo?\s*[:./-]*\s*[\d._ ]*(?:/\s*\d{4}\s*)?/\s*([a-z0-9]+)"
                     r"(?:\s*[-.:]*\s*([a-z0-9][a-z0-9.-]*))?")
# Leading specks of an OCR'd line: ". Số: ...", "` Số: ...".
_LEADING_JUNK = re.compile(r"^[^\w]+")
# Letters OCR reads as digits in a type abbreviation ("8C" for "BC").
_DIGIT_LOOKALIKES = str.maketrans("8051", "bosl")
_SUBJECT_START = ("ve viec", "v/v", "v v ")
_NOT_ISSUER = ("kinh gui", "can cu", "ve viec", "v/v", "thuc hien", "theo ")
_SUPERVISOR = ("ubnd", "uy ban nhan dan", "phong giao duc", "phong gd", "so giao duc", "so gd", "bo giao duc")


@dataclass(frozen=True)
class NumberLine:
    """The ``Số:`` line: ``type_code`` is the slot after "/" (``ttr``), folded."""

    line: str
    type_code: str
    issuer_code: str
    type: TypeSig | None
    approximate: bool = False  # the abbreviation was read through OCR errors ("TTỉ", "8C")
    written: str = ""          # the code as printed, when it is not the whole slot ("TTr" of "TTrTHHHG")


@dataclass(frozen=True)
class Head:
    """The top of one document, split into the blocks that carry signals.

    ``issuer`` lines are the top-left block above the title (supervising
    body, issuing body, number); ``subject`` lines are the "Về việc"/"V/v"
    line(s) and the lines right under the title.
    """

    lines: tuple[str, ...]
    folded: tuple[str, ...]
    title_at: int | None
    title: TypeSig | None
    title_fuzzy: bool
    number: NumberLine | None
    issuer: tuple[int, ...]
    subject: tuple[int, ...]
    ocr: bool = False  # read by OCR: names and codes may be damaged

    @property
    def title_line(self) -> str:
        return self.lines[self.title_at] if self.title_at is not None else ""

    def subject_text(self) -> str:
        return " ".join(self.folded[i] for i in self.subject)


def split_lines(text: str) -> tuple[str, ...]:
    """Non-empty lines, NFC, stripped."""
    return tuple(line for line in (nfc(raw).strip() for raw in text.splitlines()) if line)


_RUN_ON_BREAKS = re.compile(
    r"\s+(?=(?:CỘNG HÒA|CỘNG HOÀ|Độc lập|ĐỘC LẬP|Số\s*:|Về việc|V/v|Kính gửi|Căn cứ)(?!\w))")
# A head line longer than this is several lines run together (PDF text
# without line breaks) or a sentence; issuer lines are never this long.
_RUN_ON = 90


def split_run_on(line: str, index: ClassifierIndex) -> list[str]:
    """Break a run-on head line at the places a printed head has line breaks.

    "UBND QUẬN 12 TRƯỜNG THCS X Số: 15/TTr-X CỘNG HÒA ... TỜ TRÌNH Về việc
    ..." becomes the issuer, number, motto, date, title and subject lines.
    """
    if len(line) <= _RUN_ON:
        return [line]
    line = index.title_split_re.sub(lambda m: "\n" + m.group(1) + "\n", _RUN_ON_BREAKS.sub("\n", line))
    return [part.strip() for part in line.split("\n") if part.strip()]


def parse_head(head: str, index: ClassifierIndex, ocr: bool = False) -> Head:
    """Find the title, the number line, the issuer block and the subject line.

    ``ocr``: the text was read by OCR, so a type abbreviation may be read
    through the usual recognition errors (see ``_number_line``).
    """
    lines = tuple(part for line in split_lines(head) for part in split_run_on(line, index))
    folded = tuple(fold(line) for line in lines)
    title_at, title, fuzzy = _find_title(lines, index)
    # Without a title the head may be body text: only its first lines can be the issuer.
    top = range(title_at if title_at is not None else min(len(lines), 5))
    number = next((n for n in (_number_line(lines[i], folded[i], index, ocr) for i in top) if n), None)
    issuer = tuple(i for i in top if _may_be_issuer(lines[i], folded[i]))
    return Head(lines, folded, title_at, title, fuzzy, number, issuer, _subject_lines(folded, title_at), ocr)


def _find_title(lines: Sequence[str], index: ClassifierIndex) -> tuple[int | None, TypeSig | None, bool]:
    """The first title line; exact matches over all lines before approximate ones.

    The approximate pass is slower and must not pick a line above a clean title.
    """
    for approximate in (False, True):
        for i, line in enumerate(lines):
            found = match_title(line, index, approximate)
            if found is not None:
                return i, found[0], found[1]
    return None, None, False


def _may_be_issuer(line: str, folded: str) -> bool:
    """Whether a line above the title can name the issuing body.

    Not the addressee, a citation or a subject; not a sentence (too long, or
    in lower case with words of a mention in passing like "học tập kinh
    nghiệm"); issuer lines are short and printed in capitals.
    """
    if folded.startswith(_NOT_ISSUER) or len(line) > _RUN_ON:
        return False
    return _mostly_caps(line) or not any(w in folded for w in _PASSING_WORDS)


def _mostly_caps(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters)


def _subject_lines(folded: Sequence[str], title_at: int | None) -> tuple[int, ...]:
    """"V/v"/"Về việc" lines, and up to three lines under the title."""
    chosen = {i for i, f in enumerate(folded) if f.startswith(_SUBJECT_START)}
    if title_at is not None:
        for i in range(title_at + 1, min(len(folded), title_at + 4)):
            if folded[i].startswith(("kinh gui", "can cu", "thuc hien", "- can cu")):
                break
            chosen.add(i)
    return tuple(sorted(chosen))


def match_title(line: str, index: ClassifierIndex, approximate: bool = True) -> tuple[TypeSig, bool] | None:
    """The document type whose title this line is, and whether the match is approximate.

    Exact: the line is the title, folded and without spaces ("T Ờ  T R Ì N H",
    "TỞ TRÌNH", "BIEN BAN"), or starts with it in capitals ("BÁO CÁO KẾT QUẢ
    ..."). Approximate (OCR): a short line in capitals close to a title.
    """
    compact = fold_compact(line)
    if not compact or len(compact) > 120:
        return None
    found = _exact_title(line, compact, index)
    if found is not None:
        return found, False
    cores = [(core, dropped) for core, dropped in _title_cores(line) if core != line]
    for core, dropped in cores:
        found = _exact_title(core, fold_compact(core), index)
        if found is not None:
            return found, dropped
    if not approximate:
        return None
    for text in [line] + [core for core, _ in cores]:
        found_approx = _fuzzy_title(text, fold_compact(text), index)
        if found_approx is not None:
            return found_approx
    return None


def _exact_title(line: str, compact: str, index: ClassifierIndex) -> TypeSig | None:
    sig = index.titles.get(compact)
    if sig is not None:
        return sig
    for title, sig in index.title_prefixes:
        if compact.startswith(title) and _caps_prefix(line, len(title)):
            return sig
    return None


_EDGE_JUNK = re.compile(r"^[^\w]+|[^\w]+$")
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}|[a-zđ])[.)]?$")  # "1." "2)" "a)" before a heading
_ROMAN_NUMBER = re.compile(r"^[IVX]{1,4}[.)]$")              # "II." opening a heading


def _title_cores(line: str) -> list[tuple[str, bool]]:
    """``_title_core``, then the same without short capital words at its ends ("SC BIỂN BẢN ĐC")."""
    core, dropped = _title_core(line)
    if not core:
        return []
    found = [(core, dropped)]
    words = core.split()
    while len(words) > 2 and len(words[0]) <= 2:
        words = words[1:]
        found.append((" ".join(words), True))
    while len(words) > 2 and len(words[-1]) <= 2:
        words = words[:-1]
        found.append((" ".join(words), True))
    return found


def _title_core(line: str) -> tuple[str, bool]:
    """The run of capital words in a line, without the specks OCR put around it.

    ". TỜ TRÌNH ` =" -> "TỜ TRÌNH"; ": , 'TỜ TRÌNH P" -> "TỜ TRÌNH" (a lone
    letter dropped); "ca có TỜTRNH ... - ẻ" -> "TỜTRNH". Returns the core
    and whether letters were dropped (then a match is only approximate).
    Words count when they have two or more letters, all capitals.
    """
    words = [_EDGE_JUNK.sub("", w) for w in line.split()]
    capital = [len(w) >= 2 and w.isalpha() and w.isupper() for w in words]
    best, start = (0, 0), None
    for i, ok in enumerate(capital + [False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    rest = words[:best[0]] + words[best[1]:]
    if best[1] == best[0] or (best[0] == 1 and _SECTION_NUMBER.match(line.split()[0])) \
            or _ROMAN_NUMBER.match(line.split()[best[0]]):
        return "", False  # "1. KẾ HOẠCH THỰC HIỆN", "II. BIÊN BẢN ...": numbered headings, not titles
    return " ".join(words[best[0]:best[1]]), any(ch.isalpha() for w in rest for ch in w)


def _caps_prefix(line: str, letters: int) -> bool:
    """Whether the first ``letters`` letters of the line are capitals (a printed title)."""
    seen = [ch for ch in line if ch.isalpha()][:letters]
    return len(seen) == letters and all(ch.isupper() for ch in seen)


def _fuzzy_title(line: str, compact: str, index: ClassifierIndex) -> tuple[TypeSig, bool] | None:
    """A short, mostly capital line within a couple of letters of exactly one title."""
    if any(ch.isdigit() for ch in compact) or not _mostly_caps(line):
        return None
    best: list[tuple[float, TypeSig]] = []
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(compact)
    for title, sig in index.titles.items():
        if abs(len(title) - len(compact)) <= 2:
            matcher.set_seq1(title)
            if matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8:
                best.append((matcher.ratio(), sig))
    best.sort(key=lambda rs: -rs[0])
    if best and (len(best) == 1 or best[0][0] - best[1][0] >= 0.1):
        return best[0][1], True
    return None


def _number_line(line: str, folded: str, index: ClassifierIndex, ocr: bool = False) -> NumberLine | None:
    """Parse "Số: 15/TTr-THCSNH"; only at the start of a line with a capital S.

    "căn cứ Kế hoạch số 887/KH-GDĐT" in a body is a citation, not the
    document's own number. Specks before "Số" are skipped. In OCR'd text
    (``ocr``) an abbreviation that is no known code is read once more
    through the usual errors, as one of the dossier's own codes only, and
    the result is marked approximate (it never counts on its own): digits
    for look-alike letters ("8C" -> BC), one wrong letter in a code of three
    or more ("TTỉ" -> TTr), a mixed-case code glued to the issuer
    ("TTrTHHHG" -> TTr, THHHG: the case change shows the seam), or a code
    opening a longer all-capitals slot ("BBMNSC6", a guess).
    """
    line = _LEADING_JUNK.sub("", line)
    if not line.startswith("S"):
        return None
    m = _NUMBER.match(_LEADING_JUNK.sub("", folded))
    if not m:
        return None
    first, second = m.group(1), m.group(2) or ""
    sig, approximate = index.codes.get(first), False
    if sig is None and ocr:
        sig, issuer, written = _ocr_code(line, first, index)
        if sig is not None:
            return NumberLine(line, first, issuer or second.split("-")[0].strip("."), sig, approximate=True,
                              written=written)
    issuer = second.split("-")[0].strip(".") if sig is not None else first
    return NumberLine(line, first, issuer, sig, approximate)


def _ocr_code(line: str, slot: str, index: ClassifierIndex) -> tuple[TypeSig | None, str, str]:
    """The type code an OCR-damaged slot most likely is, the issuer glued to it and the code as printed."""
    codes = {code: sig for code, sig in index.codes.items() if sig.dossier}
    if any(ch.isdigit() for ch in slot) and any(ch.isalpha() for ch in slot):
        sig = codes.get(slot.translate(_DIGIT_LOOKALIKES))
        if sig is not None:
            return sig, "", ""
    if len(slot) >= 3:
        near = {sig.id: sig for code, sig in codes.items()
                if len(code) >= 3 and len(code) == len(slot) and sum(a != b for a, b in zip(code, slot)) == 1}
        if len(near) == 1:
            return next(iter(near.values())), "", ""
    m = index.glued_code_re.search(line) if index.glued_code_re is not None else None
    if m is not None and fold(m.group(1)) in codes:
        return codes[fold(m.group(1))], fold(m.group(2)), m.group(1)
    # "BBMNSC6": the dash lost between a code and the issuer; all capitals, so
    # only a guess (approximate, never counted on its own)
    for code in sorted(codes, key=len, reverse=True):
        if slot.startswith(code) and len(slot) - len(code) >= 3:
            return codes[code], slot[len(code):], code.upper()
    return None, "", ""


def issuer_text(head: Head) -> str:
    """The issuer block as one line, the national motto of the right column cut off.

    Joined so that a name broken over two lines ("TRƯỜNG TRUNG HỌC CƠ SỞ" /
    "NGUYỄN VĨNH NGHIỆP") is still found; in an interleaved two-column head
    ("UBND QUẬN 12 CỘNG HÒA XÃ HỘI ...") the motto and what follows it belong
    to the right column.
    """
    return " ".join(_left_column(head.lines[i], head.folded[i]) for i in head.issuer)


def _left_column(line: str, folded: str) -> str:
    m = _MOTTO.search(folded) or _MOTTO_PIECE.search(folded)
    if m is None:
        return line
    if m.start() > 0:
        # as many words of the line as the folded text has before the motto, case kept
        return " ".join(line.split()[:len(folded[:m.start()].split())])
    return _MOTTO.sub(" ", folded) if _MOTTO.match(folded) else ""


def _printed_name(text: str) -> str:
    """An issuer line up to the first word with a lower-case letter (past the first two).

    The issuing body is printed in capitals; OCR specks read as words
    ("TRƯỜNG THCS NGUYÊN VĨNH cau: số") are not part of its name.
    """
    words = text.split()
    for i, word in enumerate(words):
        if i >= 2 and any(ch.islower() for ch in word):
            return " ".join(words[:i])
    return text


@dataclass(frozen=True)
class HeadSchool:
    """The issuing school of a document head (``mention``), or an unknown issuer line."""

    mention: SchoolMention | None
    line: str = ""
    fuzzy: bool = False
    unknown_line: str = ""
    # Only the start of the name could be read ("TRƯỜNG THCS NGUYỄN", "TRƯỜNG
    # TRUNG HỌC PHỔ THÔNG"): the mention lists the schools it fits. It can
    # contradict another source, never support one.
    cut_short: bool = False


def find_school_in_head(head: Head, index: ClassifierIndex) -> HeadSchool:
    """The issuing body of the head: the first roster school in the top-left block.

    Only the block above the title counts: a subject line like "V/v học tập
    kinh nghiệm Trường X" names another school. Falls back to an approximate
    match line by line (OCR), and reports a "TRƯỜNG ..." line that matches no
    school so the coordinator sees an issuer that is not on the roster.
    """
    mentions = find_schools(issuer_text(head), index)
    if mentions:
        first = mentions[0]
        same = [m for m in mentions if set(m.schools) == set(first.schools)]
        return HeadSchool(merge_mentions(same), _line_with(head, first.text))
    for i in head.issuer:
        left = _printed_name(_left_column(head.lines[i], head.folded[i]))
        if _not_a_name(head.folded[i]):
            continue
        mention = compact_school(left, index) or fuzzy_school(left, index)
        if mention is not None:
            return HeadSchool(mention, head.lines[i], fuzzy=True)
    if head.ocr:
        found = _ocr_name_over_lines(head, index)
        if found is not None:
            return found
    for i in head.issuer:
        canon = canon_school_text(_printed_name(_left_column(head.lines[i], head.folded[i])))
        words = canon.split()
        if words and (words[0] == "truong" or words[0] in _LEVEL_TOKENS) and len(words) >= 2:
            cut_short = _schools_named_by_start(canon, index)
            if cut_short:  # "TRƯỜNG THCS NGUYỄN" and the rest lost: consistent, not unknown
                return HeadSchool(SchoolMention(cut_short, canon, exact=False), head.lines[i], cut_short=True)
            return HeadSchool(None, unknown_line=head.lines[i])
    return HeadSchool(None)


def _ocr_name_over_lines(head: Head, index: ClassifierIndex) -> HeadSchool | None:
    """OCR'd names broken over two lines, or with the level word damaged.

    "TRƯỜNG TRUNGHỌC PHỔTHÔNG" / "TRƯỜNG CHIH": two issuer lines read as one
    (approximately). "TRƯỜNG LÑON TUỔI NGỌC": the name without its level
    ("tuoi ngoc") names the schools that have it, as long as the word before
    it is no level of its own (a "TIỂU HỌC TUỔI NGỌC" is another school).
    """
    lefts = [(i, canon_school_text(_printed_name(_left_column(head.lines[i], head.folded[i]))))
             for i in head.issuer if not _not_a_name(head.folded[i])]
    for (i, a), (_, b) in zip(lefts, lefts[1:]):
        if a.split()[:1] == ["truong"] or a.split()[:1] and a.split()[0] in _LEVEL_TOKENS:
            mention = fuzzy_school(f"{a} {b}", index)
            if mention is not None:
                return HeadSchool(mention, head.lines[i], fuzzy=True)
    cores = sorted(((c, s) for c, s in index.core_keys.items() if len(c.split()) >= 2), key=lambda kv: -len(kv[0]))
    for i, canon in lefts:
        for core, schools in cores:
            m = re.search(r"(?:^|\s)(\S+)\s" + re.escape(core) + _NAME_END, canon)
            if m is not None and m.group(1) not in _LEVEL_TOKENS:
                return HeadSchool(SchoolMention(schools, core, exact=False), head.lines[i], fuzzy=True)
    return None


def _not_a_name(folded: str) -> bool:
    """The supervising body's line or the number line (specks before them skipped)."""
    folded = _LEADING_JUNK.sub("", folded)
    return folded.startswith(_SUPERVISOR) or bool(_NUMBER.match(folded))


def compact_school(text: str, index: ClassifierIndex) -> SchoolMention | None:
    """A roster name in ``text`` once spaces and punctuation are gone (OCR glues words).

    "TRƯỜNG MẦM NON SƠNCA8" and "TRƯỜNG MNHOASEN" are found; a number must
    end where the name does ("SƠNCA68" is not Sơn Ca 6). The mention is
    approximate: the words were not where a printed name has them.
    """
    compact = re.sub(r"[^a-z0-9]", "", canon_school_text(text))
    for key, schools in index.compact_keys:
        at = compact.find(key)
        while at >= 0:
            end = at + len(key)
            if not (key[-1].isdigit() and end < len(compact) and compact[end].isdigit()):
                return SchoolMention(schools, key, exact=False)
            at = compact.find(key, at + 1)
    return None


def _schools_named_by_start(canon: str, index: ClassifierIndex) -> tuple[School, ...]:
    """Schools whose full name begins with this cut-short one ("thcs nguyen" -> every THCS Nguyễn ...).

    The name must keep its level ("TRƯỜNG TRUNG HỌC PHỔ THÔNG" and the name
    lost: any THPT); it says which schools it may be, never which one.
    """
    name = canon[len("truong "):] if canon.startswith("truong ") else canon
    words = name.split()
    if not words or words[0] not in _LEVEL_TOKENS:
        return ()
    found: list[School] = []
    for key, (schools, partial) in index.name_keys.items():
        if not partial and key.startswith(name + " "):
            found.extend(s for s in schools if s not in found)
    return tuple(found)


def _line_with(head: Head, canon_name: str) -> str:
    """The original head line holding a canonical name (for the reason text)."""
    for needle in (canon_name, canon_name.split()[-1]):
        for i in head.issuer:
            if needle in canon_school_text(head.lines[i]):
                return head.lines[i]
    return canon_name.upper()


# --------------------------------------------------------------------------
# Mail-level school evidence: addresses, subject, display names, signature
# --------------------------------------------------------------------------

_FORWARD_MARK = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|original message|thu da chuyen tiep|tin nhan da chuyen tiep)"
    r"|begin forwarded message)")
_HEADER_LINE = re.compile(r"^(?:from|to|cc|date|sent|subject|tu|toi|ngay|tieu de|chu de|gui)\s*:")
_CLOSINGS = ("tran trong", "than ai", "kinh thu", "kinh chuc", "best regards", "regards",
             "thanks", "cam on", "xin cam on", "--")


def signature_lines(body: str) -> tuple[str, ...]:
    """The lines of a mail body that sign it, for each forwarded segment.

    A segment's signature is what follows its last closing ("Trân trọng,")
    or, without one, its last three lines; quoted lines and forwarded
    headers are skipped. Lines are short: a sentence is not a signature.
    """
    segments: list[list[tuple[str, str]]] = [[]]
    for raw in body.splitlines():
        line = nfc(raw).strip()
        folded = fold(line)
        if _FORWARD_MARK.match(folded):
            segments.append([])
        elif line and not line.startswith(">") and not _HEADER_LINE.match(folded):
            segments[-1].append((line, folded))
    found: list[str] = []
    for seg in segments:
        closing = max((i for i, (_, f) in enumerate(seg) if f.rstrip(",.!:").startswith(_CLOSINGS)
                       and len(f) < 40), default=None)
        tail = seg[closing + 1:closing + 7] if closing is not None else seg[-3:]
        found.extend(line for line, _ in tail if len(line) <= 90)
    return tuple(found)


def signature_school(body: str, index: ClassifierIndex) -> SchoolMention | None:
    """The school a mail body is signed by, or None.

    A line counts only when it is mostly the school's name ("Văn thư Trường
    THCS Nguyễn Hiền"): "học tập kinh nghiệm của Trường X" is a school named
    in passing, not the sender.
    """
    mentions = []
    for line in signature_lines(body):
        canon = canon_school_text(line)
        for m in find_schools(line, index):
            # The words around the name, not the name ("Trung tâm Hỗ trợ ..." is a name).
            rest = canon.replace(m.text, " ")
            if len(rest.split()) <= 5 and not any(w in rest for w in _PASSING_WORDS):
                mentions.append(m)
    return merge_mentions(mentions)


@dataclass(frozen=True)
class SchoolEvidence:
    """One source's say on the school. Several ``schools`` mean it is ambiguous."""

    source: str
    schools: tuple[School, ...]
    detail: str

    @property
    def tier(self) -> int:
        return _SOURCE_TIER[self.source]


def message_evidence(msg: ParsedMessage, index: ClassifierIndex) -> tuple[SchoolEvidence, ...]:
    """School evidence of the mail itself (shared by all its documents)."""
    found: list[SchoolEvidence] = []
    original = (msg.original_from or "").strip().lower()
    sender = msg.from_addr.strip().lower()
    if original:
        school = index.by_email.get(original)
        if school:
            detail = f"người gửi gốc {original} có trong danh sách trường ({school.name})"
            found.append(SchoolEvidence("address", (school,), detail))
        school = index.by_email.get(sender)
        if school:
            detail = f"thư do {sender} chuyển tiếp, là địa chỉ của {school.name}"
            found.append(SchoolEvidence("forwarder", (school,), detail))
    elif sender in index.by_email:
        school = index.by_email[sender]
        found.append(SchoolEvidence("address", (school,),
                                    f"địa chỉ gửi {sender} có trong danh sách trường ({school.name})"))
    for source, text, label in (("subject", msg.subject, "tiêu đề thư"),
                                ("sender_name", msg.from_name, "tên người gửi"),
                                ("sender_name", msg.original_from_name, "tên người gửi gốc")):
        mention = merge_mentions(find_schools(text, index)) if text else None
        if mention is not None:
            found.append(SchoolEvidence(source, mention.schools, f"{label} ghi {_names(mention.schools)}"))
    mention = signature_school(msg.body_text, index)
    if mention is not None:
        found.append(SchoolEvidence("signature", mention.schools, f"chữ ký cuối thư: {_names(mention.schools)}"))
    return tuple(found)


def head_evidence(head_school: HeadSchool) -> tuple[SchoolEvidence, ...]:
    """The document header's say on the school."""
    mention = head_school.mention
    if mention is None:
        return ()
    quoted = _short(head_school.line)
    if head_school.cut_short:
        detail = f"đầu văn bản chỉ đọc được '{quoted}' (có thể là {_names(mention.schools, ' hoặc ')})"
        return (SchoolEvidence("header_cut", mention.schools, detail),)
    if len(mention.schools) > 1:
        detail = f"đầu văn bản '{quoted}' có thể là {_names(mention.schools, ' hoặc ')}"
        return (SchoolEvidence("header", mention.schools, detail),)
    if head_school.fuzzy:
        detail = f"đầu văn bản '{quoted}' được đọc là {mention.schools[0].name} (khớp gần đúng)"
    elif not mention.exact:
        detail = f"đầu văn bản '{quoted}' ghi {mention.schools[0].name} (tên chưa đầy đủ)"
    else:
        detail = f"đầu văn bản ghi {mention.schools[0].name} ('{quoted}')"
    return (SchoolEvidence("header" if mention.exact else "header_partial", mention.schools, detail),)


_MEANINGLESS_NAME = re.compile(
    r"^(?:scan\w*|img|image|dsc|dcim|pxl|photo|picture|cam ?scanner|document|doc|untitled|new doc\w*|"
    r"file|tai lieu|van ban|noname|screenshot|attachment|att|copy of|ban sao|mau|pdf|word)?"
    r"[\s\d_().,-]*$")


def filename_stem(filename: str) -> str:
    """The filename without its extension, folded, separators as spaces."""
    stem = filename.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return " ".join(fold(stem.replace("_", " ").replace("+", " ")).split())


def is_meaningless_filename(filename: str) -> bool:
    """scan0001.pdf, IMG_20231005_0932.jpg, document.pdf, Untitled (1).docx, 20231005.pdf..."""
    return bool(_MEANINGLESS_NAME.match(filename_stem(filename)))


def filename_evidence(filename: str, index: ClassifierIndex) -> tuple[SchoolEvidence, ...]:
    """A school named in the filename ("HoSo_THCS_NguyenHien.pdf"): weak evidence."""
    if not filename or is_meaningless_filename(filename):
        return ()
    compact = re.sub(r"[^a-z0-9]", "", canon_school_text(filename_stem(filename)))
    for key, schools in index.compact_keys:
        at = compact.find(key)
        end = at + len(key)
        if at >= 0 and not (key[-1].isdigit() and end < len(compact) and compact[end].isdigit()):
            return (SchoolEvidence("filename", schools, f"tên tệp '{filename}' ghi {_names(schools)}"),)
    return ()


# --------------------------------------------------------------------------
# Weighing school evidence
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolVerdict:
    """Which school, how sure, and why. ``concerns`` force a review."""

    school: School | None
    confidence: float
    reasons: tuple[str, ...]
    concerns: tuple[str, ...] = ()
    from_address: bool = False


def resolve_school(evidence: Sequence[SchoolEvidence], sender: str) -> SchoolVerdict:
    """Weigh every source and pick the school.

    Confidence of the winner: two strong sources 1.0; one strong 0.9 (0.95
    with a medium one agreeing); an approximate header 0.8 (0.9 with two
    medium); medium only 0.6 (0.7 with two); filename only 0.4. A strong
    source naming another school is a conflict (review); a medium one costs
    0.2; the filename costs nothing but is mentioned.
    """
    scores: dict[str, float] = {}
    for ev in evidence:
        if len(ev.schools) == 1 and _SOURCE_WEIGHT[ev.source] > 0:
            code = ev.schools[0].code
            scores[code] = scores.get(code, 0.0) + _SOURCE_WEIGHT[ev.source]
    if not scores:
        return _no_school(evidence, sender)
    by_address = {ev.schools[0].code for ev in evidence if ev.source == "address" and len(ev.schools) == 1}
    winner_code = max(scores, key=lambda c: (round(scores[c], 6), c in by_address))
    support = [ev for ev in evidence if any(s.code == winner_code for s in ev.schools)]
    winner = next(s for ev in support for s in ev.schools if s.code == winner_code)
    confidence = _support_confidence([ev for ev in support if len(ev.schools) == 1])
    reasons = [ev.detail for ev in support]
    if sender and _has_header(support) and not any(ev.source in ("address", "forwarder") for ev in evidence):
        reasons.append(f"địa chỉ gửi {sender} không có trong danh sách trường; nhận ra trường từ đầu văn bản")
    concerns: list[str] = []
    for ev in evidence:
        if ev in support:
            continue
        if ev.tier == 3:
            concerns.append(f"mâu thuẫn: {ev.detail}, không phải {winner.name}")
            confidence = min(confidence, 0.4)
        elif ev.tier == 2:
            reasons.append(f"{ev.detail} (không khớp)")
            confidence -= 0.2
        else:
            reasons.append(f"{ev.detail} (không khớp; không tính)")
    from_address = any(ev.source in ("address", "forwarder") for ev in support)
    return SchoolVerdict(winner, round(max(confidence, 0.0), 3), tuple(reasons), tuple(concerns), from_address)


def _has_header(support: Sequence[SchoolEvidence]) -> bool:
    return any(ev.source in ("header", "header_partial") for ev in support)


def _support_confidence(support: Sequence[SchoolEvidence]) -> float:
    sources = {ev.source for ev in support} - {"header_cut"}  # it only ever contradicts
    strong = sum(1 for s in sources if _SOURCE_TIER[s] == 3)
    medium = sum(1 for s in sources if _SOURCE_TIER[s] == 2)
    if strong >= 2:
        return 1.0
    if strong == 1:
        return 0.95 if medium else 0.9
    if "header_partial" in sources:
        return 0.9 if medium >= 3 else 0.8 + 0.05 * (medium - 1)
    if medium:
        return 0.7 if medium >= 2 else 0.6
    return 0.4 if sources else 0.0


def _no_school(evidence: Sequence[SchoolEvidence], sender: str) -> SchoolVerdict:
    """No source identifies one school: either ambiguous names or nothing at all."""
    ambiguous = [ev for ev in evidence if len(ev.schools) > 1]
    if ambiguous:
        return SchoolVerdict(None, 0.3, tuple(ev.detail for ev in ambiguous[1:]),
                             (f"chưa rõ là trường nào: {ambiguous[0].detail}",))
    where = f"địa chỉ gửi {sender} không có trong danh sách trường" if sender else "không có địa chỉ gửi"
    return SchoolVerdict(None, 0.0, (), (f"không nhận ra trường ({where}, đầu văn bản không ghi trường nào "
                                         "trong danh sách)",))


# --------------------------------------------------------------------------
# Document type
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeVerdict:
    """The dossier type(s) of a part, or the non-dossier type it was recognised as.

    ``doc_types`` are campaign type ids; ``other`` names a recognised type
    that is not part of the dossier ("Công văn", "Quyết định"), in which case
    the part is ignored (``other_reason`` says why) unless ``concerns`` ask
    for a review.
    """

    doc_types: tuple[str, ...]
    confidence: float
    reasons: tuple[str, ...]
    concerns: tuple[str, ...] = ()
    other: str | None = None
    other_reason: str = ""


def detect_doc_type(head: Head, text: str, filename: str, index: ClassifierIndex) -> TypeVerdict:
    """The document type from title, number code, subject line, body and filename.

    Title exact 0.9, approximate 0.8; number code 0.8; both agreeing 1.0
    (0.95 when approximate); the subject line's keywords add 0.05. Without
    title or code, subject keywords give a 0.5 guess, body words or a
    meaningful filename a 0.3 guess: review. Title and code of different
    types: review. Bodies cite other types ("căn cứ Kế hoạch số ...") and are
    never read for the title.
    """
    title, number = head.title, head.number
    code_type = number.type if number is not None else None
    if title is not None and not title.dossier and (code_type is None or code_type == title):
        return _other_type(title.name, f"tiêu đề '{_short(head.title_line)}'")
    if title is None and code_type is not None and not code_type.dossier:
        return _other_type(code_type.name, f"số ký hiệu '{_short(number.line)}'")
    if title is None and code_type is None:
        cong_van = _cong_van(head, index)
        if cong_van is not None:
            return cong_van
    chosen, confidence, reasons, concerns = _type_from_head(head)
    confirming = _keyword_hits(chosen, head.subject_text()) if chosen is not None else []
    if chosen is None:
        chosen, confidence, reasons = _guess_type(head, text, filename, index)
    elif confirming:
        confidence = min(1.0, confidence + 0.05)
        reasons.append(f"trích yếu khớp ({', '.join(confirming)})")
    reasons.extend(_filename_disagreement(filename, chosen, index))
    if chosen is None:
        concerns.append("không nhận ra loại văn bản (đầu văn bản không có tiêu đề hay số ký hiệu)")
        return TypeVerdict((), confidence, tuple(reasons), tuple(concerns))
    extra = tuple(t for t in second_documents(text, index) if t != chosen.id)
    if extra:
        names = ", ".join(_type_name(t, index) for t in (chosen.id, *extra))
        concerns.append(f"phần này có vẻ chứa nhiều văn bản ({names}); cần xem lại cách tách tệp")
    ids = (chosen.id,) if chosen.dossier else ()
    return TypeVerdict((*ids, *extra), round(confidence, 3), tuple(reasons), tuple(concerns))


def _type_from_head(head: Head) -> tuple[TypeSig | None, float, list[str], list[str]]:
    """Title and number code of the head, and whether they agree."""
    title, number = head.title, head.number
    code_type = number.type if number is not None else None
    reasons: list[str] = []
    if title is not None:
        how = " (khớp gần đúng)" if head.title_fuzzy else ""
        # the title as printed, without the specks OCR read around it
        shown = _title_core(head.title_line)[0]
        reasons.append(f"tiêu đề '{_short(shown or head.title_line)}' ở đầu văn bản{how}")
    if code_type is not None:
        how = " (khớp gần đúng)" if number.approximate else ""
        reasons.append(f"số ký hiệu {_written_code(number)} trong '{_short(number.line)}'{how}")
    if title is not None and code_type is not None:
        if title.id != code_type.id:
            return title, 0.4, reasons, [f"tiêu đề là {title.name} nhưng số ký hiệu là {code_type.name}"]
        return title, 0.95 if head.title_fuzzy or number.approximate else 1.0, reasons, []
    if title is not None:
        return title, 0.8 if head.title_fuzzy else 0.9, reasons, []
    if code_type is not None:
        return code_type, 0.7 if number.approximate else 0.8, reasons, []
    return None, 0.0, reasons, []


def _written_code(number: NumberLine) -> str:
    """The type abbreviation as printed ("TTr"), for the reason text."""
    if number.written:
        return number.written
    m = re.search(r"/\s*([^/\s-]+)\s*-", number.line)
    return m.group(1) if m and fold_compact(m.group(1)) == number.type_code else number.type_code.upper()


def _guess_type(head: Head, text: str, filename: str,
                index: ClassifierIndex) -> tuple[TypeSig | None, float, list[str]]:
    """Weak guesses for a head without title or code: subject words, body words, filename."""
    dossier = [t for t in index.types if t.dossier]
    for where, haystack, confidence in (("trích yếu", head.subject_text(), 0.5),
                                        ("từ ngữ trong nội dung", text, 0.3)):
        if not haystack:
            continue
        form = text_form(haystack) if haystack is text else match_form(haystack)
        hits = {t.id: _keyword_hits(t, form) for t in dossier}
        best = _unique_best(hits)
        if best is not None:
            sig = next(t for t in dossier if t.id == best)
            words = ", ".join(hits[best])
            return sig, confidence, [f"không có tiêu đề hay số ký hiệu; đoán loại văn bản từ {where} ({words})"]
    guessed = filename_types(filename, index)
    if len(guessed) == 1:
        return guessed[0], 0.3, [f"không có tiêu đề hay số ký hiệu; đoán loại văn bản từ tên tệp '{filename}'"]
    if filename and is_meaningless_filename(filename):
        return None, 0.0, [f"tên tệp '{filename}' không cho biết gì"]
    return None, 0.0, []


def _unique_best(hits: Mapping[str, Sequence[str]]) -> str | None:
    ranked = sorted(hits.items(), key=lambda kv: -len(kv[1]))
    if not ranked or not ranked[0][1] or (len(ranked) > 1 and len(ranked[1][1]) == len(ranked[0][1])):
        return None
    return ranked[0][0]


def _keyword_hits(sig: TypeSig, text: str) -> list[str]:
    form = text if text.startswith(" ") else match_form(text)
    return [written for k, written in sig.keywords if f" {k} " in form]


def _other_type(name: str, where: str) -> TypeVerdict:
    return TypeVerdict((), 0.9, (f"{name} ({where})",), other=name,
                       other_reason=f"là {name}, không phải văn bản của bộ hồ sơ này")


def _cong_van(head: Head, index: ClassifierIndex) -> TypeVerdict | None:
    """A Công văn: a number without type abbreviation and a "V/v" subject.

    One that merely transmits the dossier ("V/v gửi hồ sơ") is ignored; one
    whose subject reads like a dossier document (a proposal written as a
    letter) goes to review. Without a number, or without a subject, it may
    as well be a document whose title was lost: not concluded here.
    """
    number = head.number
    subject = head.subject_text()
    if number is None or not subject:
        return None
    where = f"'{_short(number.line)}'"
    form = match_form(subject)
    if any(f" {w} " in form for w in _TRANSMIT_WORDS):
        return TypeVerdict((), 0.9, (f"Công văn ({where}, không có chữ viết tắt loại văn bản)",), other="Công văn",
                           other_reason="công văn chuyển hồ sơ, không phải một văn bản của bộ hồ sơ")
    hits = {t.id: _keyword_hits(t, form) for t in index.types if t.dossier}
    best = _unique_best(hits)
    if best is None:
        return None
    name = next(t.name for t in index.types if t.id == best)
    reason = f"Công văn ({where}) có trích yếu giống {name} ({', '.join(hits[best])})"
    return TypeVerdict((best,), 0.4, (reason,), (f"là Công văn, không phải {name}: cần xem có thay cho {name} "
                                                 "được không",))


def filename_types(filename: str, index: ClassifierIndex) -> tuple[TypeSig, ...]:
    """Dossier types a filename names: a title ("Bao cao", "BienBan") or a code token ("03_BB")."""
    if not filename or is_meaningless_filename(filename):
        return ()
    stem = filename_stem(filename)
    compact, tokens = stem.replace(" ", "").replace("-", ""), set(re.split(r"[^a-z0-9]+", stem))
    return tuple(t for t in index.types if t.dossier
                 and (any(title in compact for title in t.titles) or t.codes & tokens))


def _filename_disagreement(filename: str, chosen: TypeSig | None, index: ClassifierIndex) -> list[str]:
    named = filename_types(filename, index)
    if chosen is not None and named and chosen not in named:
        return [f"tên tệp '{filename}' không khớp nội dung (không tính)"]
    return []


def second_documents(text: str, index: ClassifierIndex) -> tuple[str, ...]:
    """Dossier types whose own title appears in ``text`` under a national motto.

    A part that was not split holds a second "CỘNG HÒA ... / TỜ TRÌNH" head;
    a title alone in a body (a heading, a citation) does not count.
    """
    lines = [line.strip() for line in text[:_MAX_TEXT].splitlines()]
    found: list[str] = []
    for i, line in enumerate(lines):
        # Cheap tests first: this runs over every line of every part.
        if not line or len(line) > 40 or not _caps_prefix(line, 3):
            continue
        sig = index.titles.get(fold_compact(line))
        if sig is None or not sig.dossier or sig.id in found:
            continue
        if any(_MOTTO.search(fold(prev)) for prev in lines[max(0, i - 10):i]):
            found.append(sig.id)
    return tuple(found)


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


# --------------------------------------------------------------------------
# Year
# --------------------------------------------------------------------------

_DATE_LONG = re.compile(r"ngay\s*(\d{1,2})?[\s.…_]*thang\s*(\d{1,2})?[\s.…_]*nam\s*(\d{4})")
_DATE_SHORT = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_PLACE_DATE = re.compile(r",\s*(ngay\s*[\d.…_ ]*(?:thang|[/.-]).*)")
_SCHOOL_YEAR = re.compile(r"nam(?: hoc)?\s*:?\s*(\d{4})\s*[-/]\s*(\d{4})")
_PLAIN_YEAR = re.compile(r"\bnam\s+(\d{4})\b(?!\s*[-/]\s*\d{4})")
_CITATION = ("can cu", "theo ", "thuc hien", "ve viec", "v/v", "kinh gui")
# A document dated this many days after it arrived is taken as dated ahead
# (for the day it is to be signed or filed), not as a wrong year.
_PREDATED_DAYS = 3


@dataclass(frozen=True)
class YearSignals:
    """What a document says about its year.

    ``date`` is the date line when complete; ``year`` its year even when day
    or month were left blank ("ngày    tháng 10 năm 2023"). School years are
    given by their first year; ``head_school_years`` come from the head,
    ``text_school_years`` from the whole text (only read when the head has
    none); ``subject_years`` are plain "năm 2022" of the subject line.
    """

    date: date | None = None
    date_text: str = ""
    year: int | None = None
    head_school_years: tuple[int, ...] = ()
    text_school_years: tuple[int, ...] = ()
    subject_years: tuple[int, ...] = ()


def document_year(head: Head, text: str) -> YearSignals:
    """The date line of the head and the school years the document speaks of."""
    # The date line sits above the title; dates below it are citations.
    top = head.folded[:head.title_at] if head.title_at is not None else head.folded[:12]
    day, text_date, year = _date_line(top)
    subject = head.subject_text()
    in_head = _school_years(" ".join(head.folded))
    return YearSignals(
        date=day, date_text=text_date, year=year,
        head_school_years=in_head,
        # The head's school year decides; the body is read only without one.
        text_school_years=() if in_head else _text_school_years(text[:_MAX_TEXT]),
        subject_years=tuple(int(y) for y in _PLAIN_YEAR.findall(_DATE_LONG.sub(" ", subject))),
    )


def _date_line(folded: Sequence[str]) -> tuple[date | None, str, int | None]:
    """The "Quận 12, ngày 05 tháng 10 năm 2023" line: place, comma, date first."""
    candidates = [m.group(1) for f in folded for m in [_PLACE_DATE.search(f)] if m]
    candidates += [f for f in folded if not f.startswith(_CITATION) and "thang" in f]
    for candidate in candidates:
        m = _DATE_SHORT.search(candidate) or _DATE_LONG.search(candidate)
        if m is None:
            continue
        d, mo, y = (int(g) if g else None for g in m.groups())
        if not 1900 < y < 2200:
            continue
        try:
            found = date(y, mo, d) if d and mo else None
        except ValueError:
            found = None
        shown = found.strftime("%d/%m/%Y") if found else (f"{mo:02d}/{y}" if mo else str(y))
        return found, shown, y
    return None, "", None


# "năm học 2022-2023" in raw NFC text (any case, marks or none), so that a
# long body need not be folded just for its school years.
_RAW_SCHOOL_YEAR = re.compile(r"n[aăâ]m(?:\s+h[oọô]c)?\s*:?\s*(\d{4})\s*[-\u2013\u2014/]\s*(\d{4})", re.IGNORECASE)


def _text_school_years(text: str) -> tuple[int, ...]:
    """School years of a long text, by a regex on the raw text (no folding)."""
    pairs = _RAW_SCHOOL_YEAR.findall(nfc(text))
    return tuple(sorted({int(a) for a, b in pairs if int(b) == int(a) + 1}))


def _school_years(folded: str) -> tuple[int, ...]:
    return tuple(sorted({int(a) for a, b in _SCHOOL_YEAR.findall(folded) if int(b) == int(a) + 1}))


@dataclass(frozen=True)
class YearVerdict:
    """``kind``: "ok", "earlier" (ignored), "unsure" or "future" (review)."""

    kind: str
    reason: str = ""


def check_year(signals: YearSignals, cycle: int, received: date) -> YearVerdict:
    """Whether a document belongs to the cycle it was received in.

    Dated in a year before the cycle's, or speaking only of a school year
    older than (cycle-1)-(cycle): an earlier year's dossier. Dated after it
    was received: review, unless by a few days of the same year (offices
    date a paper for the day it is to be signed or filed, and send it
    earlier; said in the reasons). A current date with an old school year:
    review (an old report with a new date). No date: judged on school years
    alone.
    """
    dated = f"ngày văn bản {signals.date_text}" if signals.date_text else ""
    if signals.date is not None and signals.date > received:
        ahead = (signals.date - received).days
        if ahead > _PREDATED_DAYS or signals.date.year != received.year:
            return YearVerdict("future", f"văn bản ghi ngày {signals.date_text}, sau ngày nhận ({received:%d/%m/%Y})")
        dated = (f"văn bản ghi ngày {signals.date_text}, sau ngày nhận ({received:%d/%m/%Y}) {ahead} ngày: "
                 "coi là ghi ngày trước, vẫn tính")
    if signals.year is not None and signals.year > received.year:
        return YearVerdict("future", f"văn bản ghi ngày {signals.date_text}, sau ngày nhận ({received:%d/%m/%Y})")
    if signals.year is not None and signals.year < cycle:
        return YearVerdict("earlier", f"hồ sơ của năm trước (ngày {signals.date_text})")
    school_years = signals.head_school_years or signals.text_school_years
    newest = max(school_years) if school_years else None
    old = []
    if newest is not None and newest < cycle - 1:
        old.append(f"năm học {newest}-{newest + 1}")
    if signals.subject_years and max(signals.subject_years) < cycle - 1:
        old.append(f"năm {max(signals.subject_years)}")
    if old and signals.year is None:
        return YearVerdict("earlier", f"hồ sơ của năm trước ({old[0]})")
    if old:
        return YearVerdict("unsure", f"văn bản ghi ngày {signals.date_text} nhưng nói về {old[0]}")
    if newest is not None and newest > cycle:
        return YearVerdict("unsure", f"nói về một năm học chưa tới (năm học {newest}-{newest + 1})")
    return YearVerdict("ok", dated)


# --------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageContext:
    """What every part of one message shares."""

    msg: ParsedMessage
    index: ClassifierIndex
    evidence: tuple[SchoolEvidence, ...]
    sender: str
    cycle: int
    received: date
    ocr_available: bool


def classify_message(msg: ParsedMessage, docs: Sequence[tuple[Attachment, Extraction]], rules: Rules,
                     received_at: datetime, ocr_available: bool, *,
                     index: ClassifierIndex | None = None) -> list[ItemDecision]:
    """One decision per document part (or per attachment without text).

    ``received_at`` is the server's time of arrival (aware); the cycle is
    ``rules.campaign.cycle_of(received_at)``. Automatic mail yields only
    "ignored" items. Mail whose text announces documents but that carries
    none (or only logos and signatures) gets a review item with
    ``part_index`` -1 and filename "". A part the parser could not read
    (a ZIP bomb, a RAR, an encrypted part: ``Skipped`` entries that matter)
    gets a review item with ``part_index`` -2, -3...; a mail that may have
    lost content (cut short, broken structure) says so on every item, or in
    a review item of its own. Pass ``index`` (from ``build_index``) to bypass
    the per-Rules cache.
    """
    index = index or index_for(rules)
    automatic = automatic_reason(msg)
    if automatic:
        return [_ignored_attachment(att, automatic) for att, _ in docs]
    ctx = MessageContext(msg, index, message_evidence(msg, index),
                         (msg.original_from or msg.from_addr or "").strip().lower(),
                         index.campaign.cycle_of(received_at),
                         received_at.astimezone(index.campaign.tz).date(), ocr_available)
    decisions: list[ItemDecision] = []
    for att, ext in docs:
        if not ext.parts:
            decisions.append(_unreadable(att, ext, ctx))
            continue
        for i, part in enumerate(ext.parts):
            decisions.append(classify_part(att, ext, part, i, ctx))
    unread = [_unread_part(skip, -2 - k, ctx) for k, skip in enumerate(x for x in msg.skipped if x.matters)]
    decisions += unread
    if not unread and all(not_a_document(att) for att, _ in docs):
        missing = missing_attachment(msg, ctx)
        if missing is not None:
            decisions.append(missing)
    return _with_damage(decisions, msg, ctx)


def _unread_part(skipped: Skipped, part_index: int, ctx: MessageContext) -> ItemDecision:
    """A part the parser did not read (a ZIP bomb, a RAR...): a person must look at it."""
    name = skipped.filename or "(phần không có tên)"
    verdict = resolve_school(ctx.evidence + filename_evidence(skipped.filename, ctx.index), ctx.sender)
    guessed = filename_types(skipped.filename, ctx.index)
    return ItemDecision(filename=name, part_index=part_index, school=_code(verdict.school),
                        doc_types=tuple(t.id for t in guessed[:1] if len(guessed) == 1), campaign=False,
                        decision="review", confidence=0.0,
                        reasons=_unique((f"không đọc được: {skipped.reason}", *verdict.reasons)))


def _with_damage(decisions: list[ItemDecision], msg: ParsedMessage, ctx: MessageContext) -> list[ItemDecision]:
    """A mail that may have lost content says so on its items, or in a review item of its own."""
    if not msg.incomplete:
        return decisions
    notes = tuple(f"thư bị hỏng: {p}" for p in msg.incomplete)
    if decisions:
        return [replace(d, reasons=_unique((*d.reasons, *notes))) for d in decisions]
    verdict = resolve_school(ctx.evidence, ctx.sender)
    return [ItemDecision(filename="", part_index=-1, school=_code(verdict.school), doc_types=(), campaign=False,
                         decision="review", confidence=0.0,
                         reasons=_unique(("không đọc được toàn bộ thư: cần mở thư ra xem", *notes,
                                          *verdict.reasons)))]


def automatic_reason(msg: ParsedMessage) -> str:
    """Why a message is automatic (auto-reply, bulk, bounce), or ""."""
    if msg.bounce_recipients:
        return f"thư báo gửi không thành công (tới {', '.join(msg.bounce_recipients)}): không phải hồ sơ"
    if msg.automatic:
        return f"thư tự động ({msg.automatic}): không phải hồ sơ"
    return ""


def looks_like_submission(subject: str, body: str) -> bool:
    """Whether subject or body announce documents ("gửi hồ sơ", "đính kèm")."""
    form = match_form(subject + "\n" + body[:_MAX_TEXT])
    return any(f" {_phrase(p)} " in form for p in _SUBMISSION_PHRASES)


def missing_attachment(msg: ParsedMessage, ctx: MessageContext) -> ItemDecision | None:
    """A review item for mail that announces documents but carries none."""
    if not looks_like_submission(msg.subject, msg.body_text):
        return None
    verdict = resolve_school(ctx.evidence, ctx.sender)
    skipped = tuple(f"bỏ qua '{s.filename}': {s.reason}" for s in msg.skipped)
    return ItemDecision(filename="", part_index=-1, school=_code(verdict.school), doc_types=(), campaign=False,
                        decision="review", confidence=0.0,
                        reasons=("thư nói có gửi văn bản nhưng không có tệp đính kèm", *skipped, *verdict.reasons))


def classify_part(att: Attachment, ext: Extraction, part: DocumentPart, part_index: int,
                  ctx: MessageContext) -> ItemDecision:
    """The decision for one document part.

    Ignored when it is not a dossier document, not this campaign or of an
    earlier year; review when something needs a person (``_concerns``) or
    the confidence (the weaker of school and type) is below the threshold;
    counted otherwise.
    """
    index = ctx.index
    head = parse_head(part.head, index, ocr=ext.ocr)
    head_school = find_school_in_head(head, index)
    doc_type = detect_doc_type(head, part.text, att.filename, index)
    school = resolve_school(ctx.evidence + head_evidence(head_school) + filename_evidence(att.filename, index),
                            ctx.sender)
    topic = topic_score(head, part.text, index)
    year = check_year(document_year(head, part.text), ctx.cycle, ctx.received)
    confidence = min(school.confidence, doc_type.confidence)
    threshold = index.campaign.review_threshold

    ignored = _ignore_reason(att, head, doc_type, topic, year, index)
    concerns = _concerns(ctx, school, doc_type, topic, year, head_school)
    if ignored:
        decision, lead = "ignored", (ignored,)
    elif concerns:
        decision, lead, confidence = "review", concerns, min(confidence, _CONCERN_CAP)
    elif confidence < threshold:
        decision, lead = "review", (f"độ tin cậy {_decimal(confidence)} dưới ngưỡng {_decimal(threshold)}",)
    else:
        decision, lead = "counted", ()
    notes = ext.notes + ((ext.error,) if ext.error else ())
    if ext.ocr and not any("OCR" in n for n in notes):
        notes = ("chữ đọc bằng OCR (có thể nhận dạng sai)", *notes)
    if ctx.msg.auth == "fail" and not school.from_address:
        notes += (f"xác thực người gửi không đạt: {ctx.msg.auth_reason or 'fail'} (trường không được xác định "
                  "theo địa chỉ gửi)",)
    return ItemDecision(
        filename=att.filename, part_index=part_index, school=_code(school.school), doc_types=doc_type.doc_types,
        campaign=topic.kind == "this" and year.kind != "earlier", decision=decision,
        confidence=round(confidence, 3),
        reasons=_unique((*lead, *doc_type.reasons, *school.reasons, topic.reason, year.reason, *notes)),
        first_page=part.first_page, last_page=part.last_page)


def _ignore_reason(att: Attachment, head: Head, doc_type: TypeVerdict, topic: TopicVerdict,
                   year: YearVerdict, index: ClassifierIndex) -> str:
    """Why a part is no dossier document of this campaign and year, or ""."""
    if doc_type.other and not doc_type.concerns:
        return doc_type.other_reason
    office = _office_document(head, index)
    if office:
        return office
    if topic.kind == "other":
        return topic.reason
    if year.kind == "earlier":
        return year.reason
    if not doc_type.doc_types and not_a_document(att):
        return f"không phải văn bản ({_describe(att)})"
    return ""


def _concerns(ctx: MessageContext, school: SchoolVerdict, doc_type: TypeVerdict, topic: TopicVerdict,
              year: YearVerdict, head_school: HeadSchool) -> tuple[str, ...]:
    """Everything that needs a person, whatever the confidence."""
    found = [*school.concerns, *doc_type.concerns]
    if head_school.unknown_line:
        found.append(f"đầu văn bản ghi '{_short(head_school.unknown_line)}', không có trong danh sách trường")
    if topic.kind == "unknown":
        found.append(topic.reason)
    if year.kind in ("future", "unsure"):
        found.append(year.reason)
    if ctx.msg.auth == "fail" and school.from_address:
        found.append(f"xác thực người gửi không đạt: {ctx.msg.auth_reason or 'Authentication-Results: fail'}")
    return tuple(found)


def _office_document(head: Head, index: ClassifierIndex) -> str:
    """A document issued by the office itself (its own plan sent back): ignored."""
    number = head.number
    if number is not None and index.office_code and number.issuer_code == index.office_code:
        return f"văn bản do chính Phòng ban hành ('{_short(number.line)}')"
    return ""


def _unreadable(att: Attachment, ext: Extraction, ctx: MessageContext) -> ItemDecision:
    """An attachment without text: review with the extraction error, unless not a document."""
    if not_a_document(att):
        return _ignored_attachment(att, f"không phải văn bản ({_describe(att)})")
    error = ext.error or "không lấy được chữ từ tệp"
    verdict = resolve_school(ctx.evidence + filename_evidence(att.filename, ctx.index), ctx.sender)
    guessed = filename_types(att.filename, ctx.index)
    reasons = [error]
    if not ctx.ocr_available and ext.kind in ("pdf", "image") and "OCR" not in error:
        reasons.append("máy chưa cài OCR nên không đọc được bản scan")
    if len(guessed) == 1:
        reasons.append(f"đoán loại văn bản từ tên tệp '{att.filename}'")
    return ItemDecision(filename=att.filename, part_index=0, school=_code(verdict.school),
                        doc_types=tuple(t.id for t in guessed[:1] if len(guessed) == 1), campaign=False,
                        decision="review", confidence=0.0, reasons=_unique((*reasons, *verdict.reasons)))


def _ignored_attachment(att: Attachment, reason: str) -> ItemDecision:
    """An attachment not looked into (automatic mail, a logo): nothing identified."""
    return ItemDecision(filename=att.filename, part_index=0, school=None, doc_types=(), campaign=False,
                        decision="ignored", confidence=0.0, reasons=(reason,))


_NOT_DOCUMENT_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature", "text/vcard",
                       "text/x-vcard", "text/calendar", "application/ics", "application/pgp-signature")
_NOT_DOCUMENT_EXT = (".p7s", ".vcf", ".ics", ".asc", ".sig")


def not_a_document(att: Attachment) -> bool:
    """Logos, signature images, signed-mail signatures, vCards, invitations."""
    ctype = att.content_type.lower()
    name = att.filename.lower()
    if ctype in _NOT_DOCUMENT_TYPES or name.endswith(_NOT_DOCUMENT_EXT):
        return True
    return ctype.startswith("image/") and len(att.data) < _TINY_IMAGE_BYTES


def _describe(att: Attachment) -> str:
    size = f"{len(att.data):,}".replace(",", ".")  # 40.000 byte, as Vietnamese writes it
    return f"{att.content_type or 'không rõ loại'}, {size} byte"


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _names(schools: Sequence[School], sep: str = ", ") -> str:
    return sep.join(s.name for s in schools)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _decimal(value: float) -> str:
    """0.75 as Vietnamese writes it: "0,75"."""
    return f"{value:.2f}".replace(".", ",")


def _type_name(type_id: str, index: ClassifierIndex) -> str:
    return next((t.name for t in index.types if t.id == type_id), type_id)


def _code(school: School | None) -> str | None:
    return school.code if school is not None else None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))
