"""Messages of the ``hard`` preset (see hard.py): recipes -> labelled .eml, like ``CorpusBuilder``."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from . import messages as mail
from .content import CAMPAIGN, DocSpec
from .corpus import REQUIRED, Built, CorpusBuilder, Recipe, _File
from .hard import NEIGHBOURS, OTHER_ISSUERS, SPAM2, evidence_files, photo_names, text_pdf
from .wording import signature, submission_body, submission_subject

# The share of page-by-page photo mails in which a later document's first page has its head cut off.
PHOTOS_MIXED_SHARE = 0.4

HARD_KINDS = ("neighbour", "other_issuer", "earlier_photo", "photo_pages", "spam2", "flood")


class HardBuilder(CorpusBuilder):
    """``CorpusBuilder`` with the hard preset's kinds."""

    def build(self, recipe: Recipe, rng: random.Random) -> Built:
        makers = {"neighbour": self._neighbour, "other_issuer": self._other_issuer,
                  "earlier_photo": self._earlier_photo, "photo_pages": self._photo_pages, "spam2": self._spam2,
                  "flood": self._flood}
        if recipe.kind in makers:
            return makers[recipe.kind](recipe, rng)
        return super().build(recipe, rng)

    # ------------------------------------------------------------------ helpers
    def _send(self, r: Recipe, rng, school, files: list[_File], subject: str, body: str, tags: list[str],
              client: str | None = None) -> Built:
        received, date, more = self._times(r, rng)
        name, addr = self._sender(school, "roster", rng)
        client_name = client or self._client(r, rng, addr, "")
        env = mail.Envelope(name, addr, self.s.office_addr, subject, date, body, to_name=self.s.office_name,
                            html=client_name not in ("raw8", "iphone"), signature=signature(school, rng))
        data, msgid = mail.client(client_name).build(env, [f.attachment for f in files], rng)
        return Built(data, self._label(r, msgid, school, addr, client_name, received, date, files,
                                       tags + more + [f"client:{client_name}"]))

    def _doc_files(self, specs, r: Recipe, rng, packaging: str = "separate") -> list[_File]:
        return self._files(specs, replace(r, packaging=packaging), rng, r.received_at)

    # ------------------------------------------------------------------ kinds
    def _neighbour(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        topic = r.topic or rng.choice(sorted(NEIGHBOURS))
        doc_type = rng.choice(NEIGHBOURS[topic]["types"])
        spec = DocSpec(school.code, doc_type, topic, self.s.year, variant=rng.choice((0, 0, 1)))
        files = self._doc_files([spec], r, rng)
        subject = rng.choice([f"{school.name} gửi văn bản", f"Gửi Phòng {files[0].attachment.filename}",
                              "V/v gửi báo cáo", f"[{school.abbreviation}] gửi hồ sơ"])
        body = rng.choice([f"Kính gửi Phòng GD&ĐT,\n{school.unit()} gửi văn bản đính kèm.\nTrân trọng.",
                           "Dạ em gửi cô văn bản của trường ạ.", "Trường gửi báo cáo theo yêu cầu."])
        return self._send(r, rng, school, files, subject, body, [f"topic:{topic}", "neighbour"])

    def _other_issuer(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        key = r.topic or rng.choice(sorted(OTHER_ISSUERS))
        spec = DocSpec(school.code, OTHER_ISSUERS[key][4], key, self.s.year)
        faded = key == "issuer_office_faded"  # a paper copy scanned by the school: always a scan
        extra = self._doc_files([spec], replace(r, fmt="scan_pdf") if faded else r, rng)
        tags = ["head_unreadable"] if faded else []
        extra = [_File(f.attachment, tuple({**e, "issuer": OTHER_ISSUERS[key][0], "campaign": False,
                                            "tags": sorted(set(e["tags"]) | set(tags))}
                                           for e in f.entries)) for f in extra]
        if rng.random() < 0.5:  # beside the school's own dossier
            specs = [self._variant(DocSpec(school.code, t, CAMPAIGN, self.s.year), r, rng) for t in REQUIRED]
            files = self._doc_files(specs, r, rng) + extra
            subject = submission_subject(school, self.s.year, rng)
            body = submission_body(school, self.s.year, list(REQUIRED), rng, True) + \
                f"\nKèm theo kế hoạch của {OTHER_ISSUERS[key][0]} để Phòng tham khảo."
            self.sent.append(school.code)
            kind_tags = ["other_issuer", "with_dossier"]
        else:
            files = extra
            subject = rng.choice([f"Chuyển Phòng kế hoạch của {OTHER_ISSUERS[key][0]}",
                                  "Fw: Kế hoạch phong trào toàn dân bảo vệ ANTQ", f"{school.name} gửi kế hoạch"])
            body = (f"Kính gửi cô,\n{school.unit()} nhận được kế hoạch của {OTHER_ISSUERS[key][0]}, "
                    "xin gửi Phòng để biết.\nTrân trọng.")
            kind_tags = ["other_issuer"]
        return self._send(r, rng, school, files, subject, body, [f"issuer:{key}", *kind_tags])

    def _earlier_photo(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        year = self.s.year - 1
        types = rng.choice([list(REQUIRED), ["to_trinh", "bao_cao"], ["bao_cao"]])
        files = []
        moment = r.received_at - timedelta(minutes=rng.randint(5, 60))
        for t in types:
            spec = replace(DocSpec(school.code, t, "antq_smudged", year), short=True)
            if not self.s.scans:
                files += self._doc_files([spec], r, rng)
                continue
            name = photo_names("camera", moment, 1, rng)[0]
            moment += timedelta(seconds=rng.randint(20, 90))
            out = self.docs.render((spec,), "scan_jpg")
            entry = self._entry(spec, name, "scan_jpg", (1, 1), 1, tags=("phone", "date_unreadable"))
            files.append(_File(mail.FileAttachment(name, out.data, "image/jpeg"), (entry,)))
        subject = rng.choice(["Hồ sơ ANTQ", f"{school.name} gửi hồ sơ điển hình ANTQ", "Gửi lại hồ sơ ANTQ"])
        body = rng.choice(["Em gửi cô hồ sơ ANTQ của trường ạ.", "Trường gửi lại hồ sơ, cô xem giúp ạ."])
        built = self._send(r, rng, school, files, subject, body, ["earlier_photo"], client=rng.choice(
            ["iphone", "gmail"]))
        built.label["kind"] = "earlier_year"
        return built

    def _photo_pages(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        plan = rng.random() < 0.2
        types = list(REQUIRED) + (["ke_hoach"] if plan or (r.topic == "photos_mixed" and self.s.scans) else [])
        specs = [replace(self._variant(DocSpec(school.code, t, CAMPAIGN, self.s.year), r, rng), variant=0)
                 for t in types]
        if not self.s.scans:
            files = self._doc_files(specs, r, rng)
            return self._send(r, rng, school, files, submission_subject(school, self.s.year, rng),
                              submission_body(school, self.s.year, types, rng, True), ["photo_pages"])
        style = rng.choice(["camera", "zalo", "ios"])
        moment = r.received_at - timedelta(minutes=rng.randint(5, 90))
        cut = self._cut_first_page(r, school.code, types)
        files, index = [], 0
        for d, spec in enumerate(specs):
            pages = self.docs.page_count(spec)
            names = photo_names(style, moment, pages, rng, first_index=index)
            index += pages
            moment += timedelta(minutes=1)
            for k, name in enumerate(names, start=1):
                damaged = k == 1 and d == cut
                out = self.docs.render((spec,), f"scan_jpg@{k}~cut" if damaged else f"scan_jpg@{k}")
                ctype = "image/jpeg"
                tags = ("phone", f"page:{k}") + (("head_unreadable",) if damaged else ())
                entry = self._entry(spec, name, "scan_jpg", (1, 1), 1, tags=tags)
                if k > 1:
                    entry = {**entry, "continues": names[0], "tags": sorted(set(entry["tags"]) | {"continuation"})}
                files.append(_File(mail.FileAttachment(name, out.data, ctype), (entry,)))
        shuffled = []
        if r.topic == "photos_shuffled":
            files, shuffled = _shuffle_pages(files, random.Random(f"photos_order:{r.received_at}:{school.code}"))
        elif r.topic == "photos_order":
            files, shuffled = _vary_pages(files, random.Random(f"photos_variant:{r.received_at}:{school.code}"))
        self.sent.append(school.code)
        client = "iphone" if style == "ios" else "gmail"
        mixed = (["photos_mixed"] if cut is not None else []) + shuffled
        return self._send(r, rng, school, files, submission_subject(school, self.s.year, rng),
                          submission_body(school, self.s.year, types, rng, True),
                          ["photo_pages", f"photos:{style}", *mixed], client=client)

    @staticmethod
    def _cut_first_page(r: Recipe, school: str, types: list[str]) -> int | None:
        """Which document's first page photo has the top of the sheet cut off (``photos_mixed``), or None.

        Never the first document: the case is a new document's first page that follows another
        document's pages in the same mail, and whose head cannot be read. The Kế hoạch when there
        is one (the case seen on a held-out seed), else a random later one. Drawn from a generator
        of its own, so that the rest of the message and of the corpus stay as they were.
        """
        pick = random.Random(f"photos_mixed:{r.received_at}:{school}")
        if r.topic != "photos_mixed" and pick.random() >= PHOTOS_MIXED_SHARE:
            return None
        if "ke_hoach" in types:
            return types.index("ke_hoach")
        return pick.randrange(1, len(types))

    def _spam2(self, r: Recipe, rng: random.Random) -> Built:
        received, date, tags = self._times(r, rng)
        subject, body, sender, name, lines = rng.choice(SPAM2)
        data = text_pdf(lines)
        entry = {"filename": name, "container": "", "first_page": 1, "last_page": 1, "pages": 1, "school": None,
                 "doc_types": [], "campaign": False, "topic": "spam", "year": self.s.year, "format": "pdf",
                 "tags": ["spam"]}
        files = [_File(mail.FileAttachment(name, data, "application/pdf"), (entry,))]
        env = mail.Envelope("", sender, self.s.office_addr, subject, date, body)
        data, msgid = mail.client("gmail" if rng.random() < 0.5 else "raw8").build(
            env, [f.attachment for f in files], rng)
        label = self._label(r, msgid, None, sender, "spam", received, date, files, tags + ["spam2"])
        label["kind"] = "spam"
        return Built(data, label)

    def _flood(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        count = rng.randint(34, 46)
        files = []
        for att in evidence_files(school, count):
            entry = {"filename": att.filename, "container": "", "first_page": 1, "last_page": 1, "pages": 1,
                     "school": school.code, "doc_types": [], "campaign": False, "topic": "minh_chung",
                     "year": self.s.year, "format": "pdf", "tags": ["evidence"]}
            files.append(_File(att, (entry,)))
        body = f"Kính gửi cô,\n{school.unit()} gửi {count} tệp minh chứng kèm hồ sơ ANTQ.\nTrân trọng."
        built = self._send(r, rng, school, files, f"Minh chứng hồ sơ ANTQ - {school.name}", body, ["flood"])
        built.label["kind"] = "attachment_flood"
        return built


def _shuffle_pages(files: list[_File], rng: random.Random) -> tuple[list[_File], list[str]]:
    """The page photos of a mail out of order, as a school's phone gallery sends them (``photos``
    preset): a later page moved before its document's first page, or among the next document's
    pages. Drawn from a generator of its own; the labels do not change (a later page still
    ``continues`` its first page). Returns the files and the message tags saying what was done."""
    later = [i for i, f in enumerate(files) if f.entries[0].get("continues")]
    if not later:
        return files, []
    files, tags = list(files), []
    for _ in range(rng.choice((1, 1, 2))):
        later = [i for i, f in enumerate(files) if f.entries[0].get("continues")]
        i = rng.choice(later)
        page = files.pop(i)
        first = next(k for k, f in enumerate(files) if f.attachment.filename == page.entries[0]["continues"])
        ends = [k for k, f in enumerate(files) if k > first and not f.entries[0].get("continues")]
        if ends and rng.random() < 0.5:   # among the next document's pages
            nxt = ends[0]
            stop = next((k for k in ends[1:]), len(files))
            files.insert(rng.randint(nxt + 1, stop), page)
            tags.append("page_among_other")
        else:                              # before its first page
            files.insert(first, page)
            tags.append("page_before_first")
    return files, ["photos_shuffled", *sorted(set(tags))]


def _vary_pages(files: list[_File], rng: random.Random) -> tuple[list[_File], list[str]]:
    """What else a school's phone does to page photos (``photos_order`` preset), one per mail:
    a document's pages photographed from the last to the first (``pages_reversed``: the stack
    turned over), a later page not sent (``page_missing``: its document is still one document,
    its other pages still ``continue`` its first page), or the pages shuffled as in the
    ``photos`` preset. Drawn from a generator of its own. Returns the files and the tags."""
    docs: dict[str, list[int]] = {}
    for i, f in enumerate(files):
        docs.setdefault(f.entries[0].get("continues") or f.attachment.filename, []).append(i)
    long = [pages for pages in docs.values() if len(pages) > 1]
    if not long:
        return files, []
    variant = rng.choice(("pages_reversed", "page_missing", "shuffled"))
    if variant == "shuffled":
        files, tags = _shuffle_pages(files, rng)
        return files, ["photos_order", *tags[1:]]
    pages = rng.choice(long)
    files = list(files)
    if variant == "pages_reversed":
        for i, f in zip(pages, [files[p] for p in reversed(pages)]):
            files[i] = f
    else:
        files.pop(rng.choice(pages[1:]))
    return files, ["photos_order", variant]


__all__ = ["HARD_KINDS", "HardBuilder", "text_pdf"]
