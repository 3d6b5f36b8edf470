"""What the corpus contains: the recipes and when each message arrives.

``plan(n, ...)`` returns ``n`` recipes with receipt times. The first ones
cover every case the bot must handle (so even a 40-message corpus has a
TCVN3 file, a ZIP, a scan, a bounce, a message at the deadline's last
second...); the rest follow the default mix: ~70% genuine submissions, 10%
other campaigns, 5% earlier years, 15% automatic mail, spam and mail
without attachment.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .corpus import REQUIRED, Recipe
from .roster import School

MIX = {"submission": 52, "forwarded": 8, "unknown_sender": 5, "resubmission": 5, "other_campaign": 10,
       "earlier_year": 5, "auto_reply": 5, "bounce": 3, "spam": 4, "no_attachment": 3}
# The hard preset (hard.py): about a third of the mail is what a real office
# receives besides the dossiers (neighbouring programmes, other issuers, old
# dossiers photographed, spam with files, evidence floods); dossiers are also
# photographed page by page.
MIX_HARD = {"submission": 34, "forwarded": 5, "unknown_sender": 3, "resubmission": 4, "other_campaign": 4,
            "earlier_year": 2, "auto_reply": 3, "bounce": 2, "spam": 2, "no_attachment": 2,
            "neighbour": 15, "other_issuer": 7, "earlier_photo": 4, "photo_pages": 8, "spam2": 4, "flood": 1}


# The photos preset: page photos sent out of order or among another document's
# pages (hard_builder._shuffle_pages), the first page of a later document
# sometimes framed below its head (photos_mixed).
MIX_PHOTOS = {"photo_pages": 1}


def coverage(roster: tuple[School, ...], scans: bool) -> list[tuple[Recipe, str]]:
    """One recipe per case worth testing, with its timing ("on_time",
    "late", "deadline", "deadline+1s" or "" for the kind's usual spread)."""
    codes = {s.code for s in roster}

    def pick(*wanted: str) -> str | None:
        return next((c for c in wanted if c in codes), None)

    out = [
        (Recipe("submission", school=pick("thcs-nguyen-trai"), client="outlook", packaging="separate", fmt="pdf",
                naming="vn", logo=True), "on_time"),
        (Recipe("submission", school=pick("th-nguyen-trai"), client="gmail", packaging="separate", fmt="docx",
                naming="numbered"), "on_time"),
        (Recipe("submission", school=pick("mn-son-ca-6"), client="thunderbird", packaging="separate",
                fmt="docx_tcvn3", naming="school"), "on_time"),
        (Recipe("submission", school=pick("mn-son-ca-8"), client="raw8", packaging="zip", fmt="docx",
                naming="vn"), "on_time"),
        (Recipe("submission", client="outlook", packaging="combined", fmt="pdf"), "on_time"),
        (Recipe("submission", client="apple", packaging="separate", fmt="pdf", naming="vn",
                style={"letter_spaced": True}), "on_time"),
        (Recipe("submission", sender="mixed_case", packaging="separate", fmt="docx", naming="ascii",
                style={"nfd": True}), "on_time"),
        (Recipe("submission", packaging="separate", fmt="pdf", naming="meaningless",
                style={"mention_other": True}), "on_time"),
        (Recipe("submission", packaging="separate", fmt="docx", naming="ascii", misleading=True), "on_time"),
        (Recipe("submission", packaging="separate", fmt="pdf", mixed_topic=True), "on_time"),
        (Recipe("submission", packaging="separate", fmt="docx", types=("to_trinh", "bao_cao"),
                tags=("incomplete",)), "on_time"),
        (Recipe("forwarded", sender="forward_inline", packaging="separate", fmt="pdf"), "on_time"),
        (Recipe("forwarded", sender="forward_rfc822", packaging="separate", fmt="docx"), "on_time"),
        (Recipe("unknown_sender", sender="unknown", packaging="separate", fmt="pdf"), "on_time"),
        (Recipe("submission", packaging="separate", fmt="docx"), "late"),
        (Recipe("submission", packaging="separate", fmt="docx", tags=("deadline_last_second",)), "deadline"),
        (Recipe("submission", packaging="separate", fmt="pdf", date_skew=timedelta(seconds=-25),
                tags=("deadline_plus_1s",)), "deadline+1s"),
        (Recipe("resubmission", packaging="separate", fmt="pdf", types=("bao_cao",)), "resubmission"),
        (Recipe("other_campaign", topic="pccc", types=("bao_cao",), fmt="pdf"), ""),
        (Recipe("other_campaign", topic="ma_tuy", fmt="docx"), ""),
        (Recipe("other_campaign", topic="ne_nep", types=("bien_ban",), fmt="pdf"), ""),
        (Recipe("earlier_year", packaging="separate", fmt="pdf"), ""),
        (Recipe("earlier_year", sender="forward_rfc822", packaging="separate", fmt="docx"), ""),
        (Recipe("auto_reply"), ""),
        (Recipe("auto_reply", english=True), ""),
        (Recipe("bounce"), ""),
        (Recipe("spam", types=("invoice",)), ""),
        (Recipe("spam"), ""),
        (Recipe("no_attachment"), ""),
    ]
    if scans:
        out += [(Recipe("submission", packaging="separate", fmt="scan_pdf"), "on_time"),
                (Recipe("submission", packaging="phone", client="iphone"), "on_time"),
                (Recipe("submission", packaging="combined", fmt="scan_pdf"), "on_time")]
    return out


def examples(roster: tuple[School, ...]) -> list[tuple[Recipe, str]]:
    """The small bundled sample inbox: readable, under 1.5 MB, no scans; four
    schools send their dossier digitally signed (built by ``OfficialBuilder``)."""
    codes = [s.code for s in roster]

    def at(i: int) -> str:
        return codes[i % len(codes)]

    return [
        (Recipe("submission", school=at(17), client="outlook", packaging="separate", fmt="docx", naming="vn",
                logo=True, types=("to_trinh", "bao_cao", "bien_ban", "ke_hoach")), "early"),
        (Recipe("submission", school=at(8), client="gmail", packaging="separate", fmt="docx", naming="numbered"),
         "on_time"),
        (Recipe("submission", school=at(16), client="thunderbird", packaging="combined", fmt="pdf"), "on_time"),
        (Recipe("submission", school=at(0), client="raw8", packaging="zip", fmt="docx", naming="vn"), "on_time"),
        (Recipe("submission", school=at(1), client="apple", packaging="separate", fmt="docx_tcvn3",
                naming="school"), "on_time"),
        (Recipe("submission", school=at(12), client="outlook", packaging="separate", fmt="pdf", naming="vn",
                types=("to_trinh", "bien_ban")), "on_time"),
        (Recipe("submission", school=at(2), client="gmail", sender="roster_alt", packaging="separate", fmt="docx",
                naming="ascii", types=("to_trinh", "bao_cao"), tags=("incomplete",)), "on_time"),
        (Recipe("forwarded", school=at(9), sender="forward_inline", packaging="separate", fmt="docx",
                naming="meaningless"), "on_time"),
        (Recipe("forwarded", school=at(10), sender="forward_rfc822", packaging="separate", fmt="docx",
                naming="vn"), "on_time"),
        (Recipe("unknown_sender", school=at(15), sender="unknown", packaging="separate", fmt="docx",
                naming="school"), "on_time"),
        (Recipe("submission", school=at(19), client="outlook", packaging="separate", fmt="docx", naming="vn"),
         "late"),
        (Recipe("submission", school=at(20), client="gmail", packaging="separate", fmt="docx", naming="numbered",
                tags=("deadline_last_second",)), "deadline"),
        (Recipe("resubmission", school=at(17), client="outlook", packaging="separate", fmt="docx",
                types=("bao_cao",)), "final_days"),
        (Recipe("other_campaign", school=at(3), topic="pccc", types=("bao_cao",), fmt="docx", client="outlook"), ""),
        (Recipe("earlier_year", school=at(4), packaging="separate", fmt="docx", client="gmail"), ""),
        (Recipe("auto_reply", school=at(5)), ""),
        (Recipe("bounce", school=at(6)), ""),
        (Recipe("spam"), ""),
        (Recipe("no_attachment", school=at(7)), ""),
        # Official copies (issue 16): whole dossiers as PDFs digitally signed with the
        # test PKI (tests/officialfactory.py), numbered and dated in the cycle, so the
        # demo shows complete schools beside the Word drafts above. Four, not more: a
        # signed dossier is ~150 KB of mail and the inbox stays under 1.5 MB. Last in
        # the list: the messages above keep their receipt times and choices.
        (Recipe("official", school=at(11), client="outlook", fmt="signed", naming="vn", types=REQUIRED), "on_time"),
        (Recipe("official", school=at(13), client="gmail", fmt="signed", naming="numbered", types=REQUIRED),
         "on_time"),
        (Recipe("official", school=at(14), client="thunderbird", fmt="signed_two", naming="school", types=REQUIRED),
         "on_time"),
        (Recipe("official", school=at(18), client="apple", fmt="signed", naming="ascii", types=REQUIRED), "early"),
    ]


def hard(roster: tuple[School, ...], scans: bool) -> list[tuple[Recipe, str]]:
    """One recipe per class of the hard preset, then a few of the usual cases."""
    from .hard import NEIGHBOURS, OTHER_ISSUERS
    out = [(Recipe("neighbour", topic=t), "") for t in sorted(NEIGHBOURS)]
    out += [(Recipe("other_issuer", topic=k), "") for k in sorted(OTHER_ISSUERS)]
    out += [(Recipe("earlier_photo"), ""), (Recipe("photo_pages"), "on_time"),
            (Recipe("photo_pages", topic="photos_mixed"), "on_time"),
            (Recipe("spam2"), ""), (Recipe("flood"), "")]
    return out + coverage(roster, scans)[:12]


def plan(n: int, rng: random.Random, year: int, deadline: datetime, roster: tuple[School, ...], scans: bool,
         preset: str = "mix") -> list[Recipe]:
    """``n`` recipes with receipt times (not yet in time order)."""
    if preset == "official":
        from .official import official_plan
        base = official_plan(n)
    else:
        base = examples(roster) if preset == "examples" else hard(roster, scans) if preset == "hard" \
            else coverage(roster, scans)
    photos = {"photos": "photos_shuffled", "photos_order": "photos_order"}.get(preset)
    if photos:  # every mail a dossier photographed page by page, its pages out of order
        base = [(Recipe("photo_pages", topic=photos), "on_time")]
    chosen = base[:n]
    mix = MIX_HARD if preset == "hard" else MIX_PHOTOS if photos else MIX
    kinds, weights = list(mix), list(mix.values())
    while len(chosen) < n:
        chosen.append((Recipe(rng.choices(kinds, weights)[0], topic=photos), ""))
    recipes = []
    for recipe, timing in chosen:
        recipe.received_at = receipt_time(recipe.kind, timing, rng, year, deadline)
        recipes.append(recipe)
    return recipes


def receipt_time(kind: str, timing: str, rng: random.Random, year: int, deadline: datetime) -> datetime:
    """When the server received the message (its INTERNALDATE).

    ``timing``: "deadline" (its last second), "deadline+1s", "early" (two
    weeks to a week before), "final_days" (the last three days), "on_time",
    "late", "resubmission", or "" for the kind's usual spread."""
    tz = deadline.tzinfo
    day0 = datetime(year, deadline.month, deadline.day, tzinfo=tz)
    if timing == "deadline":
        return deadline
    if timing == "deadline+1s":
        return deadline + timedelta(seconds=1)
    if timing == "early":
        return day0 - timedelta(days=rng.randint(8, 14)) + _time_of_day(rng)
    if timing == "final_days":
        return day0 - timedelta(days=rng.randint(0, 2)) + _time_of_day(rng)
    genuine = kind in ("submission", "forwarded", "unknown_sender", "photo_pages", "other_issuer", "earlier_photo",
                       "neighbour", "official")
    if timing == "late" or (not timing and genuine and rng.random() < 0.12):
        day = day0 + timedelta(days=rng.choices(range(1, 21), [20 - i for i in range(20)])[0])
    elif timing == "on_time" or genuine:
        span = 15  # the last two weeks before the deadline, busier near it
        back = rng.choices(range(span), [span - i for i in range(span)])[0]
        day = day0 - timedelta(days=back)
    elif kind == "resubmission" or timing == "resubmission":
        day = day0 + timedelta(days=rng.randint(-6, 8))
    else:
        day = datetime(year, 9, 1, tzinfo=tz) + timedelta(days=rng.randint(0, 60))
    return day + _time_of_day(rng)


def _time_of_day(rng: random.Random) -> timedelta:
    if rng.random() < 0.8:   # office hours
        seconds = rng.randint(7 * 3600, 17 * 3600 + 1800)
    else:                     # evenings, up to the last second of the day
        seconds = rng.randint(19 * 3600, 24 * 3600 - 1)
    return timedelta(seconds=seconds)
