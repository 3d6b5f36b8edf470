"""Turns recipes into labelled messages.

A ``Recipe`` says what kind of message to make and may force any choice
(school, client, packaging, format, naming, timing...); what it leaves open
is drawn from the message's own ``random.Random``. ``CorpusBuilder.build``
returns the .eml bytes with the label that says what the bot should find.

Label of a message (README.md beside this file has the full format)::

    {"message_id", "kind", "genuine", "school", "from", "client",
     "received_at", "date_header", "late", "complete", "tags",
     "attachments": [{"filename", "container", "first_page", "last_page",
                      "pages", "school", "doc_types", "campaign", "topic",
                      "year", "format", "tags"}]}
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime

from reportlab.pdfgen import canvas

from . import messages as mail
from .archive import legacy_zip
from .content import CAMPAIGN, OTHER_TOPICS, DocSpec, person, style_for, topic_types
from .documents import CONTENT_TYPES, EXTENSIONS, DocumentFactory
from .roster import School
from .wording import (NAMINGS, ascii_fold, other_subject, signature, stem, submission_body,
                      submission_subject, unique)

REQUIRED = ("to_trinh", "bao_cao", "bien_ban")
OPTIONAL = ("ke_hoach",)
GENUINE_KINDS = ("submission", "forwarded", "unknown_sender", "resubmission")


@dataclass(frozen=True)
class Settings:
    year: int
    seed: int
    scans: bool
    tz: object                       # a tzinfo (+07:00)
    deadline: datetime               # aware, inclusive
    office_addr: str = "nthmai.q12@tphcm-gov.example"
    office_name: str = "Phòng GD&ĐT Quận 12 (Cô Mai)"
    mail_host: str = "mail.tphcm-gov.example"


@dataclass
class Recipe:
    """One message to make. ``None`` fields are drawn at build time."""

    kind: str
    received_at: datetime | None = None
    school: str | None = None
    client: str | None = None
    sender: str | None = None        # roster, roster_alt, mixed_case, forward_inline, forward_rfc822, unknown
    packaging: str | None = None     # separate, zip, combined, phone
    fmt: str | None = None           # format of every document
    naming: str | None = None
    types: tuple[str, ...] | None = None
    corrected: bool = False
    misleading: bool = False
    mixed_topic: bool = False
    logo: bool | None = None
    style: dict = field(default_factory=dict)   # force Style flags, e.g. {"letter_spaced": True}
    date_skew: timedelta | None = None         # Date header minus receipt (wrong clocks)
    topic: str | None = None
    english: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Built:
    data: bytes
    label: dict


@dataclass(frozen=True)
class _File:
    attachment: mail.FileAttachment
    entries: tuple[dict, ...]


class CorpusBuilder:
    """Builds messages from recipes; remembers which schools already sent
    (a resubmission follows an earlier submission of the same school)."""

    def __init__(self, settings: Settings, roster: tuple[School, ...], factory: DocumentFactory) -> None:
        self.s = settings
        self.roster = roster
        self.by_code = {s.code: s for s in roster}
        self.docs = factory
        self.sent: list[str] = []
        # About a quarter of the schools scan their signed papers; the others
        # send files. Keeping scans to these schools bounds the number of
        # distinct scans to paint, whatever the corpus size.
        pick = random.Random(f"scanners:{settings.seed}")
        self.scanners = frozenset(pick.sample([s.code for s in roster], k=max(1, round(len(roster) * 0.25))))

    # ------------------------------------------------------------------ entry point
    def build(self, recipe: Recipe, rng: random.Random) -> Built:
        makers = {"submission": self._submission, "forwarded": self._submission,
                  "unknown_sender": self._submission, "resubmission": self._submission,
                  "other_campaign": self._other_campaign, "earlier_year": self._earlier_year,
                  "auto_reply": self._auto_reply, "bounce": self._bounce, "spam": self._spam,
                  "no_attachment": self._no_attachment}
        return makers[recipe.kind](recipe, rng)

    # ------------------------------------------------------------------ choices
    def _school(self, r: Recipe, rng: random.Random) -> School:
        if r.school and r.school in self.by_code:
            return self.by_code[r.school]
        if r.kind == "resubmission" and self.sent:
            return self.by_code[rng.choice(self.sent)]
        return rng.choice(self.roster)

    def _variant(self, spec: DocSpec, r: Recipe, rng: random.Random) -> DocSpec:
        """Mostly variant 0 (so renders are shared); forced style flags pick
        the first variant that has them."""
        if r.style:
            for v in range(60):
                cand = replace(spec, variant=v)
                st = style_for(cand)
                if all(getattr(st, k) == val for k, val in r.style.items()):
                    return cand
        return replace(spec, variant=rng.choices((0, 1, 2), (8, 1, 1))[0])

    def _scans(self, school_code: str) -> bool:
        return self.s.scans and school_code in self.scanners

    def _format(self, r: Recipe, rng: random.Random, spec: DocSpec) -> str:
        if r.fmt:
            return r.fmt if (self.s.scans or not r.fmt.startswith("scan")) else "pdf"
        if self._scans(spec.school):
            weights = {"pdf": 12, "docx": 10, "docx_tcvn3": 3, "scan_pdf": 75}
        else:
            weights = {"pdf": 52, "docx": 40, "docx_tcvn3": 8}
        return rng.choices(list(weights), list(weights.values()))[0]

    def _packaging(self, r: Recipe, rng: random.Random, school_code: str) -> str:
        if r.packaging:
            return r.packaging if (r.packaging != "phone" or self.s.scans) else "separate"
        options = {"separate": 72, "zip": 12, "combined": 8, "phone": 25 if self._scans(school_code) else 0}
        return rng.choices(list(options), list(options.values()))[0]

    def _client(self, r: Recipe, rng: random.Random, addr: str, packaging: str) -> str:
        if r.client:
            return r.client
        if packaging == "phone":
            return rng.choice(["iphone", "gmail"])
        if addr.endswith("@gmail.com"):
            return "gmail"
        return rng.choices(["outlook", "gmail", "thunderbird", "apple", "raw8"], (32, 28, 15, 13, 12))[0]

    # ------------------------------------------------------------------ documents to files
    def _specs(self, school: School, r: Recipe, rng: random.Random, year: int, topic: str = CAMPAIGN) -> list[DocSpec]:
        if r.types:
            types = list(r.types)
        elif r.kind == "resubmission":
            types = rng.choice([["bao_cao"], ["to_trinh", "bao_cao"], list(REQUIRED)])
        else:
            types = list(REQUIRED) + (list(OPTIONAL) if rng.random() < 0.35 else [])
            if r.kind == "submission" and rng.random() < 0.08:
                types.remove(rng.choice(REQUIRED))  # forgot one: an incomplete dossier
        corrected = r.corrected or r.kind == "resubmission"
        return [self._variant(DocSpec(school.code, t, topic, year, corrected=corrected), r, rng) for t in types]

    def _files(self, specs: list[DocSpec], r: Recipe, rng: random.Random, when: datetime) -> list[_File]:
        packaging = self._packaging(r, rng, specs[0].school)
        naming = r.naming or rng.choices(NAMINGS, (30, 20, 20, 15, 15))[0]
        if not r.misleading and r.naming is None and rng.random() < 0.03:
            r = replace(r, misleading=True)
        if packaging == "combined" and len(specs) > 1:
            return [self._combined(specs, r, rng, naming)]
        if packaging == "phone":
            return self._phone(specs, rng, when)
        fmts = [self._format(r, rng, s) for s in specs]
        specs = [self._for_scan(s, r) if f.startswith("scan") else s for s, f in zip(specs, fmts)]
        names = self._names(specs, fmts, naming, r, rng)
        singles = [self._single(s, f, n, naming, r) for s, f, n in zip(specs, fmts, names)]
        if packaging == "zip":
            return [self._zip(singles, specs, rng, when)]
        return singles

    @staticmethod
    def _for_scan(spec: DocSpec, r: Recipe) -> DocSpec:
        """Scans are short and of variant 0 unless a style is forced: a scan
        costs ~0.1 s a page to paint, so the cache must catch the repeats."""
        return replace(spec, short=True, variant=spec.variant if r.style else 0)

    def _names(self, specs, fmts, naming, r: Recipe, rng) -> list[str]:
        stems = [stem(s, self.by_code[s.school], naming, i, rng) for i, s in enumerate(specs, start=1)]
        if r.misleading and len(stems) > 1:
            # "Bao cao.pdf" that holds the minutes: swap two documents' names.
            i, j = self._misleading_pair(specs)
            stems[i], stems[j] = stems[j], stems[i]
        return unique([st + EXTENSIONS[f] for st, f in zip(stems, fmts)])

    @staticmethod
    def _misleading_pair(specs) -> tuple[int, int]:
        types = [s.doc_type for s in specs]
        if "bao_cao" in types and "bien_ban" in types:
            return types.index("bao_cao"), types.index("bien_ban")
        return 0, 1

    def _entry(self, spec: DocSpec, filename: str, fmt: str, part: tuple[int, int], pages: int,
               container: str = "", tags: tuple[str, ...] = ()) -> dict:
        st = style_for(spec)
        content = self.docs.content(spec)
        flags = [name for name in ("letter_spaced", "nfd", "old_hoa", "full_issuer", "deputy_signs",
                                   "blank_number") if getattr(st, name)]
        if content.other_school:
            flags.append(f"mentions:{content.other_school}")
        if spec.corrected:
            flags.append("corrected")
        if spec.year < self.s.year:
            flags.append("earlier_year")
        return {"filename": filename, "container": container, "first_page": part[0], "last_page": part[1],
                "pages": pages, "school": spec.school, "doc_types": [spec.doc_type],
                "campaign": spec.topic == CAMPAIGN and spec.year == self.s.year, "topic": spec.topic,
                "year": spec.year, "format": fmt, "tags": sorted(set(flags) | set(tags))}

    def _single(self, spec: DocSpec, fmt: str, name: str, naming: str, r: Recipe) -> _File:
        out = self.docs.render((spec,), fmt)
        tags = ("misleading_name",) if r.misleading and naming != "meaningless" else ()
        tags += ("meaningless_name",) if naming == "meaningless" else ()
        ext = name.rsplit(".", 1)[-1]
        att = mail.FileAttachment(name, out.data, CONTENT_TYPES["." + ext])
        return _File(att, (self._entry(spec, name, fmt, out.parts[0], out.pages, tags=tags),))

    def _combined(self, specs, r: Recipe, rng, naming) -> _File:
        order = {"to_trinh": 0, "bao_cao": 1, "bien_ban": 2, "ke_hoach": 3}
        specs = sorted(specs, key=lambda s: order[s.doc_type])
        if r.fmt in ("pdf", "scan_pdf"):
            fmt = r.fmt if (self.s.scans or r.fmt == "pdf") else "pdf"
        else:
            fmt = "scan_pdf" if self._scans(specs[0].school) and rng.random() < 0.6 else "pdf"
        if fmt == "scan_pdf":
            specs = [self._for_scan(s, r) for s in specs]
        out = self.docs.render(tuple(specs), fmt)
        school = self.by_code[specs[0].school]
        name = rng.choice([f"Hồ sơ ANTQ - {school.name}.pdf", f"HO SO ANTQ {school.abbreviation}.pdf",
                           "scan0001.pdf" if fmt == "scan_pdf" else "document.pdf", "Hồ sơ điển hình ANTQ.pdf"])
        entries = tuple(self._entry(s, name, fmt, part, out.pages, tags=("combined_part",))
                        for s, part in zip(specs, out.parts))
        return _File(mail.FileAttachment(name, out.data, "application/pdf"), entries)

    def _phone(self, specs, rng, when: datetime) -> list[_File]:
        files = []
        moment = when - timedelta(minutes=rng.randint(5, 90))
        for spec in specs:
            spec = replace(spec, short=True, variant=0)
            moment += timedelta(seconds=rng.randint(8, 70))
            if self.docs.page_count(spec) == 1:
                fmt, name = "scan_jpg", f"IMG_{moment:%Y%m%d_%H%M%S}.jpg"
            else:
                fmt, name = "scan_pdf", f"CamScanner {moment:%d-%m-%Y %H.%M}.pdf"
            out = self.docs.render((spec,), fmt)
            ctype = "image/jpeg" if fmt == "scan_jpg" else "application/pdf"
            files.append(_File(mail.FileAttachment(name, out.data, ctype),
                               (self._entry(spec, name, fmt, out.parts[0], out.pages, tags=("phone",)),)))
        return files

    def _zip(self, singles: list[_File], specs, rng, when: datetime) -> _File:
        school = self.by_code[specs[0].school]
        folder = rng.choice(["", "", f"Hồ sơ ANTQ {school.name}", "HO SO ANTQ"])
        members = [(f.attachment.filename, f.attachment.data) for f in singles]
        data = legacy_zip(members, when - timedelta(minutes=rng.randint(3, 60)), folder)
        name = rng.choice([f"Hồ sơ ANTQ - {school.name}.zip", f"HoSo_ANTQ_{school.abbreviation}.zip",
                           "Hồ sơ điển hình.zip"])
        entries = []
        for f in singles:
            for e in f.entries:
                member = f"{folder}/{e['filename']}" if folder else e["filename"]
                entries.append({**e, "filename": member, "container": f"zip:{name}",
                                "tags": sorted(set(e["tags"]) | {"zip_member"})})
        return _File(mail.FileAttachment(name, data, "application/zip"), tuple(entries))

    # ------------------------------------------------------------------ senders and envelopes
    def _sender(self, school: School, mode: str, rng: random.Random) -> tuple[str, str]:
        primary = school.emails[0]
        if mode == "roster_alt" and len(school.emails) > 1:
            return "", school.emails[1]
        if mode == "mixed_case":
            local, domain = primary.split("@")
            local = "".join(c.upper() if rng.random() < 0.35 else c for c in local)
            return school.name, f"{local}@{domain.upper() if rng.random() < 0.5 else domain}"
        if mode == "unknown":
            name, _ = person(rng)
            parts = ascii_fold(name).lower().split()
            return name, f"{parts[-1]}{parts[0]}{rng.randint(70, 99)}@gmail.com"
        return rng.choice([school.name, school.unit(), f"Văn thư {school.name}", ""]), primary

    def _sender_mode(self, r: Recipe, rng: random.Random) -> str:
        if r.sender:
            return r.sender
        if r.kind == "forwarded":
            return rng.choice(["forward_inline", "forward_rfc822"])
        if r.kind == "unknown_sender":
            return "unknown"
        return rng.choices(["roster", "roster_alt", "mixed_case"], (80, 8, 12))[0]

    def _times(self, r: Recipe, rng: random.Random) -> tuple[datetime, datetime, list[str]]:
        """Receipt time (INTERNALDATE) and the Date header (the sender's clock)."""
        received = r.received_at
        tags = []
        if r.date_skew is not None:
            date = received + r.date_skew
            tags.append("date_skew")
        elif rng.random() < 0.04:
            date = received + timedelta(days=rng.choice([-3, -1, 1]), minutes=rng.randint(-300, 300))
            tags.append("wrong_clock")
        else:
            date = received - timedelta(seconds=rng.randint(2, 240))
        return received, date, tags

    def _label(self, r: Recipe, msgid: str, school: School | None, sender: str, client: str,
               received: datetime, date: datetime, files: list, tags: list[str]) -> dict:
        """``files``: the message's ``_File``s, or directly their label entries."""
        entries = [e for f in files for e in (f.entries if isinstance(f, _File) else [f])]
        genuine = any(e["campaign"] for e in entries)
        present = {t for e in entries if e["campaign"] for t in e["doc_types"]}
        return {
            "message_id": msgid, "kind": r.kind, "genuine": genuine,
            "school": school.code if school else None, "from": sender, "client": client,
            "received_at": received.isoformat(), "date_header": format_datetime(date),
            "late": received > self.s.deadline,
            "complete": genuine and all(t in present for t in REQUIRED),
            "tags": sorted(set(tags) | set(r.tags)), "attachments": entries,
        }

    # ------------------------------------------------------------------ kinds
    def _submission(self, r: Recipe, rng: random.Random, year: int | None = None) -> Built:
        year = year or self.s.year
        school = self._school(r, rng)
        received, date, tags = self._times(r, rng)
        specs = self._specs(school, r, rng, year)
        if r.mixed_topic:
            topic = r.topic or self._other_topic(school, rng)
            specs.append(self._variant(DocSpec(school.code, topic_types(topic)[0], topic, year), r, rng))
            tags.append("mixed_topics")
        files = self._files(specs, r, rng, received)
        mode = self._sender_mode(r, rng)
        tags.append(f"sender:{mode}")
        if r.kind == "submission" and mode != "roster":
            r = replace(r, kind="forwarded" if mode.startswith("forward") else
                        ("unknown_sender" if mode == "unknown" else "submission"))
        if year == self.s.year and r.kind != "resubmission":
            self.sent.append(school.code)
        if mode in ("forward_inline", "forward_rfc822"):
            return self._forward(r, rng, school, mode, files, received, date, tags, year)
        name, addr = self._sender(school, mode, rng)
        packaging_phone = any("phone" in e["tags"] for f in files for e in f.entries)
        client_name = self._client(r, rng, addr, "phone" if packaging_phone else "")
        env = self._envelope(r, rng, school, name, addr, date, files, year, mode != "unknown", client_name)
        data, msgid = mail.client(client_name).build(env, [f.attachment for f in files], rng)
        tags += [f"client:{client_name}"] + (["inline_logo"] if env.logo else [])
        return Built(data, self._label(r, msgid, school, addr, client_name, received, date, files, tags))

    def _envelope(self, r, rng, school, name, addr, date, files, year, names_school, client_name) -> mail.Envelope:
        types = [t for f in files for e in f.entries for t in e["doc_types"]]
        if r.kind == "resubmission":
            subject = rng.choice(["V/v gửi lại hồ sơ ANTQ (bản chỉnh sửa)", f"Gửi lại Báo cáo ANTQ - {school.name}",
                                  "RE: Hồ sơ ANTQ - bổ sung, chỉnh sửa"])
            body = (f"Kính gửi Cô Mai,\n{school.unit()} gửi lại hồ sơ đã chỉnh sửa theo góp ý, đề nghị cô nhận bản "
                    "này thay cho bản gửi trước.\nTrân trọng.")
        else:
            subject = submission_subject(school, year, rng)
            body = submission_body(school, year, types, rng, names_school)
        if client_name == "iphone":
            body += "\n\nGửi từ iPhone của tôi"
        logo = r.logo if r.logo is not None else (client_name in ("outlook", "gmail") and rng.random() < 0.3)
        return mail.Envelope(name, addr, self.s.office_addr, subject, date, body, to_name=self.s.office_name,
                             html=client_name not in ("raw8", "iphone"), logo=school.abbreviation if logo else "",
                             signature=signature(school, rng) if names_school else "")

    def _forward(self, r, rng, school, mode, files, received, date, tags, year) -> Built:
        """Someone forwards the school's mail: a teacher's Gmail inline
        (Gmail's "Forwarded message" block, attachments re-attached), or as
        an attached message/rfc822 (a staff member who received it, or the
        office clerk when the school wrote to the office's general box)."""
        orig_date = date - timedelta(hours=rng.randint(1, 60))
        orig_subject = submission_subject(school, year, rng)
        orig_body = submission_body(school, year, [e["doc_types"][0] for f in files for e in f.entries], rng, True)
        atts = [f.attachment for f in files]
        if mode == "forward_inline":
            fwd_name, fwd_addr = self._staff_gmail(school, rng)
            body = rng.choice(["", "Em chuyển tiếp hồ sơ của trường giúp cô ạ.\n\n"]) + \
                _forward_block(school, orig_date, orig_subject, self.s.office_addr) + orig_body
            env = mail.Envelope(fwd_name, fwd_addr, self.s.office_addr, "Fwd: " + orig_subject, date, body)
            client_name = "gmail"
            data, msgid = mail.client(client_name).build(env, atts, rng)
        else:
            if rng.random() < 0.5:
                fwd_name, fwd_addr = self._staff_gmail(school, rng)
                note = "Em chuyển cô hồ sơ trường gửi vào hộp thư của em."
            else:
                fwd_name, fwd_addr = "Văn thư Phòng GD&ĐT", "vanthu.pgdq12@gmail.com"
                note = "Chuyển cô Mai hồ sơ của trường gửi nhầm vào hộp thư chung của Phòng."
            inner_env = mail.Envelope(school.name, school.emails[0], fwd_addr, orig_subject, orig_date, orig_body,
                                      to_name=fwd_name)
            inner, _ = mail.client(rng.choice(["outlook", "thunderbird"])).build(inner_env, atts, rng)
            env = mail.Envelope(fwd_name, fwd_addr, self.s.office_addr, "FW: " + orig_subject, date, note)
            client_name = "thunderbird"
            data, msgid = mail.client(client_name).build(env, [], rng, forwarded=inner,
                                                         forwarded_name=orig_subject + ".eml")
            files = [_File(f.attachment, tuple({**e, "container": ("rfc822:" + e["container"]).rstrip(":")}
                                               for e in f.entries)) for f in files]
        tags += [f"client:{client_name}", f"original_from:{school.emails[0]}"]
        return Built(data, self._label(r, msgid, school, fwd_addr, client_name, received, date, files, tags))

    @staticmethod
    def _staff_gmail(school: School, rng: random.Random) -> tuple[str, str]:
        """A staff member's Gmail: the roster's second address when it is
        one (it is known to the office), else a teacher's own."""
        known = [e for e in school.emails[1:] if e.endswith("@gmail.com")]
        if known and rng.random() < 0.5:
            return "", known[0]
        name, _ = person(rng)
        parts = ascii_fold(name).lower().split()
        return name, f"{parts[-1]}.{parts[0]}.gv@gmail.com"

    def _other_topic(self, school: School, rng: random.Random) -> str:
        """Each school sends reports on two other topics (fixed per school):
        realistic, and it bounds the number of distinct reports to render."""
        own = random.Random(f"topics:{school.code}").sample(OTHER_TOPICS, k=2)
        return rng.choice(own)

    def _other_campaign(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        topic = r.topic or self._other_topic(school, rng)
        types = list(r.types) if r.types else rng.sample(topic_types(topic), k=rng.choice([1, 1, 2]))
        received, date, tags = self._times(r, rng)
        specs = [self._variant(DocSpec(school.code, t, topic, self.s.year), r, rng) for t in types]
        files = self._files(specs, replace(r, packaging=r.packaging or "separate"), rng, received)
        mode = self._sender_mode(r, rng)
        name, addr = self._sender(school, mode, rng)
        client_name = self._client(r, rng, addr, "")
        env = mail.Envelope(name, addr, self.s.office_addr, other_subject(school, topic, self.s.year, rng), date,
                            f"Kính gửi Phòng GD&ĐT,\n{school.unit()} gửi báo cáo theo yêu cầu.\nTrân trọng.",
                            html=client_name != "raw8")
        data, msgid = mail.client(client_name).build(env, [f.attachment for f in files], rng)
        tags += [f"topic:{topic}", f"client:{client_name}"]
        return Built(data, self._label(r, msgid, school, addr, client_name, received, date, files, tags))

    def _earlier_year(self, r: Recipe, rng: random.Random) -> Built:
        """Last year's dossier sent again (directly or forwarding the old mail)."""
        if r.sender == "forward_rfc822":
            school = self._school(r, rng)
            received, date, tags = self._times(r, rng)
            old = replace(r, kind="submission", sender="roster", received_at=received.replace(year=self.s.year - 1)
                          - timedelta(days=rng.randint(1, 8)), date_skew=None)
            old_built = self._submission(replace(old, school=school.code), rng, year=self.s.year - 1)
            env = mail.Envelope(school.name, school.emails[0], self.s.office_addr,
                                "Fwd: Hồ sơ ANTQ (gửi lại)", date,
                                f"{school.unit()} gửi lại hồ sơ ANTQ đã nộp.")
            data, msgid = mail.client("thunderbird").build(env, [], rng, forwarded=old_built.data,
                                                           forwarded_name="Hồ sơ ANTQ.eml")
            entries = [{**e, "container": ("rfc822:" + e["container"]).rstrip(":")}
                       for e in old_built.label["attachments"]]
            tags += ["sender:forward_rfc822", "client:thunderbird"]
            return Built(data, self._label(r, msgid, school, school.emails[0], "thunderbird", received, date,
                                           entries, tags))
        built = self._submission(replace(r, kind="submission"), rng, year=self.s.year - 1)
        built.label["kind"] = "earlier_year"
        return built

    def _auto_reply(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        received, date, tags = self._times(r, rng)
        replied = f"<reminder-{self.s.year}-{school.code}-{rng.randint(1, 3)}@tphcm-gov.example>"
        data, msgid = mail.auto_reply(rng, school.name, school.emails[0], self.s.office_addr, date, replied,
                                      r.english)
        client_name = "outlook" if r.english else "gmail"
        return Built(data, self._label(r, msgid, school, school.emails[0], client_name, received, date, [],
                                       tags + [f"client:{client_name}"]))

    def _bounce(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        received, date, tags = self._times(r, rng)
        data, msgid = mail.bounce(rng, self.s.mail_host, self.s.office_addr, school.emails[0], date,
                                  f"<reminder-{self.s.year}-{school.code}-1@tphcm-gov.example>",
                                  "[Nhắc việc] Hồ sơ điển hình ANTQ")
        label = self._label(r, msgid, school, f"MAILER-DAEMON@{self.s.mail_host}", "postfix", received, date, [],
                            tags + [f"bounced:{school.emails[0]}"])
        return Built(data, label)

    def _spam(self, r: Recipe, rng: random.Random) -> Built:
        received, date, tags = self._times(r, rng)
        subject, body, sender, attachment = rng.choice(mail.SPAM) if not r.types else mail.SPAM[2]
        files = []
        if attachment:
            files = [self._spam_file(attachment, received)]
        extra = (("Precedence", "bulk"), ("List-Unsubscribe", f"<mailto:unsubscribe@{sender.split('@')[1]}>")) \
            if rng.random() < 0.5 else ()
        env = mail.Envelope("", sender, self.s.office_addr, subject, date, body, extra=extra)
        data, msgid = mail.client("gmail" if rng.random() < 0.5 else "raw8").build(
            env, [f.attachment for f in files], rng)
        return Built(data, self._label(r, msgid, None, sender, "spam", received, date, files, tags))

    def _spam_file(self, name: str, when: datetime) -> _File:
        pdf = _invoice_pdf()
        entry = {"filename": "", "container": "", "first_page": 1, "last_page": 1, "pages": 1, "school": None,
                 "doc_types": [], "campaign": False, "topic": "spam", "year": when.year, "format": "pdf",
                 "tags": ["spam"]}
        if name.endswith(".zip"):
            member = "HoaDon_0012345.pdf"
            data = legacy_zip([(member, pdf)], when)
            return _File(mail.FileAttachment(name, data, "application/zip"),
                         ({**entry, "filename": member, "container": f"zip:{name}"},))
        return _File(mail.FileAttachment(name, pdf, "application/pdf"), ({**entry, "filename": name},))

    def _no_attachment(self, r: Recipe, rng: random.Random) -> Built:
        school = self._school(r, rng)
        received, date, tags = self._times(r, rng)
        link = f"https://drive.google.com/drive/folders/1{mail._rand(rng, 32)}?usp=sharing"
        body = rng.choice(["Em gửi hồ sơ ANTQ ạ.", f"Dạ em gửi cô hồ sơ ANTQ của {school.unit()} ạ.",
                           f"Hồ sơ ANTQ của trường em để ở đường dẫn: {link}"])
        if "drive.google" in body:
            tags.append("drive_link")
        env = mail.Envelope(school.name, school.emails[0], self.s.office_addr, submission_subject(school, self.s.year,
                                                                                                  rng), date, body)
        data, msgid = mail.client(rng.choice(["gmail", "outlook"])).build(env, [], rng)
        return Built(data, self._label(r, msgid, school, school.emails[0], "", received, date, [], tags))


def _forward_block(school: School, when: datetime, subject: str, to_addr: str) -> str:
    """Gmail's inline forward header (English UI)."""
    hour = when.hour % 12 or 12
    stamp = f"{when:%a, %b} {when.day}, {when.year} at {hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"
    return ("---------- Forwarded message ---------\n"
            f"From: {school.name} <{school.emails[0]}>\nDate: {stamp}\n"
            f"Subject: {subject}\nTo: <{to_addr}>\n\n")


def _invoice_pdf() -> bytes:
    """A tiny ASCII-only invoice PDF (spam attachment)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, 760, "HOA DON GIA TRI GIA TANG")
    c.setFont("Helvetica", 11)
    c.drawString(72, 730, "Cong ty TNHH Thuong mai Minh Phat - So: 0012345 - Tong cong: 12.450.000 VND")
    c.showPage()
    c.save()
    return buf.getvalue()
