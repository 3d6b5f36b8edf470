"""Messages of the ``official`` preset: is each copy the official paper? (issue 16)

Every message is a roster school's submission of one to three of the
required documents, written by the same content machinery as the other
presets (so the bot classifies them as usual), each in one **variant** of
how schools send the paper:

- ``signed``, ``signed_two``: a text PDF digitally signed with the test PKI
  (``tests/officialfactory.py``), by the head, or by the head then the
  school's organisation certificate;
- ``signed_page_added``, ``signed_bytes_edited``: signed, then changed (a
  page added by an incremental update; one byte of a content stream changed
  inside the signed range);
- ``signed_expired_when_signed``: signed with a certificate expired at the time;
- ``word``, ``text_pdf``: unsigned drafts (Word, a PDF printed from Word);
- ``scan_stamped``, ``scan_unstamped``: scanned (image-only PDF) with the
  red seal over the signature, or signed by hand without the seal;
- ``photo_stamped``, ``photo_unstamped``: the same, photographed (one-page
  documents; a longer one is scanned instead).

A Biên bản is written without its vote (``no_vote``) in about a third of
the cases. The label of each attachment gains ``official`` (the truth: the
office's rules ``signed_or_stamped``, ``number``, ``date_in_cycle`` and, for
the Biên bản, ``minutes_parts`` are met), ``variant``, ``signature``
(``valid``, ``tampered``, ``invalid`` or ``""``), ``draft`` (an unsigned
Word file or text PDF) and ``no_vote``.

Signed PDFs are not byte-identical between runs (keys and ECDSA signatures
are random); their labels, and every other file, are.
"""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, time as dtime, timedelta, timezone

from . import messages as mail
from .content import CAMPAIGN, DocSpec, school_facts, style_for
from .corpus import REQUIRED, Built, CorpusBuilder, Recipe, _File
from .documents import CONTENT_TYPES, EXTENSIONS
from .layout import Layout, layout_documents
from .render_docx import DocxRenderer
from .render_pdf import Measurer, render_pdf
from .render_scan import ScanRenderer, phone_photo, to_jpeg, to_pdf
from .wording import NAMINGS, signature, stem, submission_body, submission_subject, unique

# variant -> weight
VARIANTS = {"signed": 16, "signed_two": 4, "signed_page_added": 5, "signed_bytes_edited": 4,
            "signed_expired_when_signed": 3, "word": 12, "text_pdf": 10, "scan_stamped": 10,
            "scan_unstamped": 5, "photo_stamped": 5, "photo_unstamped": 3}
SIGNATURE = {"signed": "valid", "signed_two": "valid", "signed_page_added": "tampered",
             "signed_bytes_edited": "tampered", "signed_expired_when_signed": "invalid"}
FORMAT = {"word": "docx", "text_pdf": "pdf", "scan_stamped": "scan_pdf", "scan_unstamped": "scan_pdf",
          "photo_stamped": "scan_jpg", "photo_unstamped": "scan_jpg"}
NO_VOTE_SHARE = 0.35
# The sentences of a generated Biên bản that record the vote.
_VOTE_MARKS = ("Kết quả biểu quyết", "thống nhất 100%")


class OfficialBuilder(CorpusBuilder):
    """``CorpusBuilder`` whose messages carry documents in official-copy variants."""

    def __init__(self, settings, roster, factory) -> None:
        super().__init__(settings, roster, factory)
        self._pki = None
        self._measure = Measurer()
        self._scan = ScanRenderer()
        self._docx = DocxRenderer()
        self._cache: dict[tuple, tuple[bytes, int]] = {}
        self._identities: dict[str, tuple] = {}

    @property
    def pki(self):
        if self._pki is None:  # made once, on first use (a dry pass never signs)
            from tests.officialfactory import make_pki

            self._pki = make_pki(self.s.deadline.astimezone(timezone.utc))
        return self._pki

    def build(self, recipe: Recipe, rng: random.Random) -> Built:
        if recipe.kind != "official":
            return super().build(recipe, rng)
        school = self._school(recipe, rng)
        received, date, tags = self._times(recipe, rng)
        # A recipe naming its types and variant (``fmt``, e.g. "signed") is a whole
        # dossier sent that way, with its vote and number (the example inbox);
        # otherwise everything is drawn.
        forced = recipe.fmt in VARIANTS and bool(recipe.types)
        types = list(recipe.types) if forced else rng.sample(REQUIRED, k=rng.choice((1, 1, 2, 3)))
        naming = recipe.naming or rng.choices(NAMINGS, (30, 20, 20, 15, 15))[0]
        files = []
        for i, doc_type in enumerate(types, start=1):
            if forced:  # the first form whose number is filled in: an official copy
                variant, no_vote = recipe.fmt, False
                form = next(v for v in range(60) if not style_for(DocSpec(school.code, doc_type, CAMPAIGN,
                                                                          self.s.year, variant=v)).blank_number)
            else:
                variant = rng.choices(list(VARIANTS), list(VARIANTS.values()))[0]
                no_vote = doc_type == "bien_ban" and rng.random() < NO_VOTE_SHARE
                form = rng.choices((0, 1, 2), (8, 1, 1))[0]
            spec = DocSpec(school.code, doc_type, CAMPAIGN, self.s.year, variant=form)
            files.append(self.document_file(spec, variant, no_vote, naming, i, rng, own_certificate=forced))
        names = unique([f.attachment.filename for f in files])
        files = [replace(f, attachment=replace(f.attachment, filename=n),
                         entries=tuple({**e, "filename": n} for e in f.entries)) for f, n in zip(files, names)]
        name, addr = self._sender(school, "roster", rng)
        client_name = self._client(recipe, rng, addr, "")
        subject = submission_subject(school, self.s.year, rng)
        body = submission_body(school, self.s.year, types, rng, True)
        env = mail.Envelope(name, addr, self.s.office_addr, subject, date, body, to_name=self.s.office_name,
                            html=client_name not in ("raw8", "iphone"), signature=signature(school, rng))
        data, msgid = mail.client(client_name).build(env, [f.attachment for f in files], rng)
        return Built(data, self._label(recipe, msgid, school, addr, client_name, received, date, files,
                                       tags + ["sender:roster", f"client:{client_name}", "official"]))

    # ------------------------------------------------------------------ one document
    def document_file(self, spec: DocSpec, variant: str, no_vote: bool, naming: str, index: int,
              rng: random.Random, own_certificate: bool = False) -> _File:
        """One attachment; ``own_certificate``: signed by the school's own head
        (and organisation) certificates, not the shared test signer."""
        fmt = FORMAT.get(variant, "pdf")
        if fmt.startswith("scan"):
            spec = replace(spec, short=True, variant=0)  # scans are costly to paint: keep them short and shared
        content = self.docs.content(spec)
        if no_vote:
            content = replace(content, body=tuple(b for b in content.body
                                                  if not any(m in b.text for m in _VOTE_MARKS)))
        layout = layout_documents([content], self._measure)
        if fmt == "scan_jpg" and len(layout.pages) > 1:
            fmt, variant = "scan_pdf", variant.replace("photo_", "scan_")  # a photo is of one page
        data, pages = self._render(spec, content, layout, fmt, variant, no_vote, own_certificate)
        school = self.by_code[spec.school]
        name = stem(spec, school, naming, index, rng) + EXTENSIONS[fmt]
        ext = "." + name.rsplit(".", 1)[-1]
        entry = self._entry(spec, name, fmt, (1, max(1, pages)), pages, tags=(f"official:{variant}",))
        signature_kind = SIGNATURE.get(variant, "")
        paper_ok = signature_kind == "valid" or variant in ("scan_stamped", "photo_stamped")
        text_ok = not style_for(spec).blank_number and not no_vote  # dates lie in the cycle (content.doc_date)
        entry.update(official=paper_ok and text_ok, variant=variant, signature=signature_kind,
                     draft=variant in ("word", "text_pdf"), no_vote=no_vote)
        return _File(mail.FileAttachment(name, data, CONTENT_TYPES[ext]), (entry,))

    def _render(self, spec: DocSpec, content, layout: Layout, fmt: str, variant: str,
                no_vote: bool, own_certificate: bool = False) -> tuple[bytes, int]:
        key = (spec, fmt, variant, no_vote)
        if key in self._cache and not variant.startswith("signed"):
            return self._cache[key]
        if self.docs.dry:
            return b"", len(layout.pages)
        school = self.by_code[spec.school]
        clerk = school_facts(school, spec.year).secretary[0]
        if fmt == "docx":
            out = (self._docx.render(content, author=clerk), 1)
        elif fmt == "pdf":
            identities = self._school_identities(school) if own_certificate else None
            out = (self._signed(render_pdf(layout, author=clerk), variant, content.doc_date, identities),
                   len(layout.pages))
        else:
            rng = random.Random(f"scan:{key}")
            seal = f"{school.issuer()} * {self.docs.ctx.place.upper()} * "
            stamp = variant.endswith("_stamped")
            images = self._scan.pages(layout, rng, seal, stamp=stamp)
            if fmt == "scan_jpg":
                out = (to_jpeg(phone_photo(images[0], rng)), 1)
            else:
                out = (to_pdf(images, datetime.combine(content.doc_date, dtime(16, 30))), len(images))
        self._cache[key] = out
        return out

    def _school_identities(self, school):
        """The school head's and the school's certificates, chained to the test root
        (made once per school), so a receipt names the school's own signer."""
        if school.code not in self._identities:
            from tests.officialfactory import make_identity

            now, years = self.s.deadline.astimezone(timezone.utc), timedelta(days=2 * 365)
            org = f"Trường {school.name}"
            head = school_facts(school, self.s.year).principal[0]
            self._identities[school.code] = (
                make_identity(head, org, now - years, now + years, self.pki.root),
                make_identity(org, org, now - years, now + years, self.pki.root))
        return self._identities[school.code]

    def _signed(self, pdf: bytes, variant: str, day, identities=None) -> bytes:
        """``pdf`` signed as ``variant`` says (unchanged for an unsigned variant);
        ``identities``: (head, organisation) instead of the shared test signer."""
        if not variant.startswith("signed"):
            return pdf
        from tests import officialfactory as of

        pki = self.pki
        head, organisation = identities or (pki.signer, pki.organisation)
        at = datetime.combine(day, dtime(9, 0), tzinfo=timezone.utc)
        if variant == "signed_expired_when_signed":
            return of.sign(pdf, pki.expired, (pki.root,), at)
        signed = of.sign(pdf, head, (pki.root,), at)
        if variant == "signed_two":
            return of.sign(signed, organisation, (pki.root,), at, field="Signature2")
        if variant == "signed_page_added":
            return of.add_page_after_signing(signed)
        if variant == "signed_bytes_edited":
            return edit_a_content_stream(signed)
        return signed


def edit_a_content_stream(signed: bytes) -> bytes:
    """The same length of bytes, one byte of the first page content stream
    changed (inside the signed range: the signature no longer matches)."""
    at = signed.index(b"stream", signed.index(b"/Length")) + 20
    return signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]


def official_plan(n: int) -> list[tuple[Recipe, str]]:
    """``n`` submissions in official-copy variants, spread over the campaign (12% late)."""
    return [(Recipe("official"), "") for _ in range(n)]
