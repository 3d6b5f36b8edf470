"""Planned mail -> RFC 5322 message: Jinja2 templates, headers, attachments.

Templates live in ``config.paths.templates`` so the office can reword them
without touching code: ``NAME.txt`` (plain text) and ``NAME.html`` for each
kind (receipt, reminder, digest), ``school_subject.txt`` (the subject of the
one thread per school and cycle) and ``digest_subject.txt``; shared wording
is in ``_common.txt`` and the HTML frame in ``_layout.html``.

HTML templates are autoescaped and every template is strict about undefined
variables: a filename such as ``<b>{{ 7*7 }}</b>.pdf`` shows as that text.
"""
from __future__ import annotations

import base64
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .errors import ConfigError
from .plan import PlannedMail, ReviewGuess, official_replies, official_rows, review_guess, suggested_replies
from .status import CampaignStatus

if TYPE_CHECKING:  # annotations only: jinja2 is imported where templates are loaded
    import jinja2

HCM = "Asia/Ho_Chi_Minh"
AUTO_SUBMITTED = {"receipt": "auto-replied", "reply": "auto-replied"}  # everything else: auto-generated
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Cell colours of a document's status in the spreadsheets (digest matrix, report annex).
STATUS_FILLS = {"on_time": "DCFCE7", "late": "FEF3C7", "missing": "FEE2E2", "review": "FFEDD5", "exempt": "E5E7EB"}
# A text cell starting with one of these is read as a formula by Excel or
# LibreOffice (OWASP "CSV injection"): mail-derived text must stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A document that is not required and was not received by the deadline: its
# own label (OPTIONAL_ABSENT of _common.txt) and no colour.
OPTIONAL_ABSENT = "optional_absent"
_ENVIRONMENTS: dict[tuple[str, str], jinja2.Environment] = {}
# Rows of the digest XLSX's review sheet: with the matrix, the DOCX draft and the
# bodies the digest stays under 300 KB even when a flood fills the review queue.
REVIEW_SHEET_ROWS = 1000


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    """Renders templates from one directory for one campaign time zone."""

    def __init__(self, templates_dir: Path, tz, from_address: str, from_name: str = ""):
        if "@" not in from_address:
            raise ConfigError("smtp.from_address: set the address outgoing mail is sent from",
                              hint="add from_address = \"...\" under [smtp] in config.toml")
        self.dir = Path(templates_dir)
        self.tz = tz
        self.from_address = from_address
        self.from_name = from_name
        self.domain = from_address.rsplit("@", 1)[1].strip().lower()
        self._env: jinja2.Environment | None = None

    @property
    def env(self) -> jinja2.Environment:
        """The Jinja environment of the templates, made on first use: one per
        (directory, time zone) and process, so templates are compiled once and
        again only when a file changes (auto_reload checks mtimes). Not in
        ``__init__``: ``check-config`` and a quiet poll build a renderer (the
        sender is checked) but render nothing, and need not load jinja2."""
        if self._env is None:
            cache_key = (str(self.dir.resolve()), getattr(self.tz, "key", str(self.tz)))
            env = _ENVIRONMENTS.get(cache_key)
            if env is None:
                import jinja2

                env = jinja2.Environment(
                    loader=jinja2.FileSystemLoader(str(self.dir), encoding="utf-8"),
                    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default_for_string=False,
                                                        default=False),
                    undefined=jinja2.StrictUndefined,
                    keep_trailing_newline=False,
                    auto_reload=True,
                )
                env.filters.update(vn_date=self.vn_date, vn_datetime=self.vn_datetime, vn_short=self.vn_short,
                                   vn_deadline=self.vn_deadline, nd30_date=self.nd30_date, vn_duration=vn_duration,
                                   vn_number=vn_number, middle=shorten_middle, address=shorten_address,
                                   days_vi=days_vi, lower_first=lower_first)
                _ENVIRONMENTS[cache_key] = env
            self._env = env
        return self._env

    @classmethod
    def for_config(cls, config, campaign) -> "Renderer":
        return cls(config.paths.templates, campaign.tz, config.smtp.from_address, config.smtp.from_name)

    # -- filters ----------------------------------------------------------
    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def vn_date(self, value) -> str:
        if isinstance(value, datetime):
            value = self._local(value).date()
        return f"{value.day:02d}/{value.month:02d}/{value.year}"

    def vn_datetime(self, moment: datetime) -> str:
        local = self._local(moment)
        return f"{local:%H:%M} ngày {local:%d/%m/%Y}"

    def vn_short(self, moment: datetime) -> str:
        return f"{self._local(moment):%d/%m %H:%M}"

    def nd30_date(self, value) -> str:
        """``ngày 05 tháng 02 năm 2024``: the date line of an official document
        (Nghị định 30/2020: a zero before days below 10 and months 1 and 2)."""
        if isinstance(value, datetime):
            value = self._local(value).date()
        month = f"{value.month:02d}" if value.month < 3 else str(value.month)
        return f"ngày {value.day:02d} tháng {month} năm {value.year}"

    def vn_deadline(self, moment: datetime) -> str:
        """``23:59 ngày 10/10/2023 (giờ Việt Nam)``."""
        key = getattr(self.tz, "key", str(self.tz))
        zone = "giờ Việt Nam" if key == HCM else f"giờ {key}"
        return f"{self.vn_datetime(moment)} ({zone})"

    # -- rendering ----------------------------------------------------------
    def render_template(self, name: str, context: dict) -> str:
        import jinja2  # this only names its errors (self.env loads jinja2)

        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"template {self.dir / exc.name} is missing",
                              hint="restore it from the bot's templates/ directory") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{exc.filename or name}: line {exc.lineno}: {exc.message}",
                              hint="fix the template (Jinja2 syntax), then run the command again") from exc
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"template {name}: {exc.message}",
                              hint="the template uses a name the bot does not provide; see the other templates") from exc

    def subject(self, name: str, context: dict) -> str:
        """A subject template rendered to one clean line (no CR/LF, no runs of spaces)."""
        return one_line(self.render_template(f"{name}_subject.txt", context))

    def bodies(self, template: str, context: dict) -> tuple[str, str]:
        text = self.render_template(f"{template}.txt", context).strip() + "\n"
        html = self.render_template(f"{template}.html", context)
        return text, html

    def labels(self) -> dict:
        """The status labels of ``_common.txt`` (used for the XLSX)."""
        import jinja2  # this only names its errors (self.env loads jinja2)

        try:
            module = self.env.get_template("_common.txt").module
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template _common.txt: {exc}") from exc
        return {"STATUS": status_labels(module), "LEVEL": dict(getattr(module, "LEVEL", {}))}

    def new_message_id(self, kind: str) -> str:
        """``<random.kind@sender-domain>``: unique, on the sender's domain, short
        enough that In-Reply-To/References are never folded."""
        return f"<{secrets.token_hex(12)}.{kind}@{self.domain}>"

    def message(self, mail: PlannedMail, *, subject: str, text: str, html: str, message_id: str, now: datetime,
                thread_root: str | None = None, attachments: Sequence[Attachment] = ()) -> bytes:
        """The full message as bytes (CRLF): multipart/alternative (text, html),
        attachments, hygiene headers."""
        msg = EmailMessage(policy=policy.SMTP)
        msg["Date"] = format_datetime(self._local(now))
        msg["Message-ID"] = message_id
        msg["Auto-Submitted"] = AUTO_SUBMITTED.get(mail.kind, "auto-generated")
        msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
        msg["X-Bot-Kind"] = mail.kind
        msg.set_content(text, subtype="plain", charset="utf-8")
        msg.add_alternative(html, subtype="html", charset="utf-8")
        for att in attachments:
            msg.add_attachment(att.data, maintype=att.maintype, subtype=att.subtype, filename=att.filename)
        # Last: set_content() drops the Content-* headers set before it, and
        # add_attachment() moves them onto the inner part.
        msg["Content-Language"] = "vi"
        raw = msg.as_bytes()
        if thread_root and thread_root != message_id:
            raw = set_header(raw, "References", thread_root)
            raw = set_header(raw, "In-Reply-To", thread_root)
        raw = set_header(raw, "Subject", encode_header("Subject", subject))
        raw = set_header(raw, "To", encode_header("To", ", ".join(mail.to)))
        return set_header(raw, "From", encode_address("From", self.from_name, self.from_address))

    # -- the digest's spreadsheet ---------------------------------------------
    def digest_xlsx(self, status: CampaignStatus) -> bytes:
        return digest_xlsx(status, {**self.labels(), "REVIEW": self.review_wording()}, self.tz)

    def review_wording(self) -> dict:
        """The wording of the bot's guesses (``_digest_wording.txt``), for the XLSX."""
        try:
            module = self.env.get_template("_digest_wording.txt").module
        except jinja2.TemplateNotFound:
            return {}  # an office's older templates/ without it: the sheet goes without the guess
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template _digest_wording.txt: {exc}") from exc
        return {name: getattr(module, name, "") for name in ("CAUSE", "UNLIKELY", "GUESS_PREFIX", "NO_DOC",
                                                                  "FROM_FILENAME")}


def digest_xlsx(status: CampaignStatus, labels: dict, tz) -> bytes:
    """The full matrix: one row per school, one column per document type;
    a second sheet lists the review queue."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    campaign = status.campaign
    names = labels["STATUS"]
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    header = ["Mã trường", "Tên trường", "Cấp học", "Hạn nộp", "Đủ hồ sơ",
              *[d.name + ("" if d.required else " (không bắt buộc)") for d in campaign.doc_types]]
    ws.append(header)
    fills = STATUS_FILLS
    for s in status.schools:
        row = [s.code, s.name, s.level, _xl_time(s.deadline, tz),
               "Miễn nộp" if s.exempt is not None else ("Đủ" if s.complete else "Chưa đủ")]
        for d in campaign.doc_types:
            doc = s.documents[d.id]
            shown = shown_status(doc.status, d.required)
            cell = names.get(shown, shown)
            if doc.received_at:
                cell += f" - {doc.received_at.astimezone(tz):%d/%m/%Y %H:%M}"
                if doc.versions > 1:
                    cell += f" ({doc.versions} bản)"
                if doc.evidence is not None and doc.official is not True:  # issue 16
                    cell += " - " + OFFICIAL_LABELS[doc.official]
            row.append(cell)
        ws.append(row)
        r = ws.max_row
        for i, d in enumerate(campaign.doc_types):
            colour = fills.get(shown_status(s.documents[d.id].status, d.required))
            if colour:
                ws.cell(r, 6 + i).fill = PatternFill("solid", fgColor=colour)
        ws.cell(r, 4).number_format = "dd/mm/yyyy hh:mm"
    for c in ws[1]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [22, 34, 10, 17, 10] + [30] * len(campaign.doc_types)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = ws.dimensions

    rq = wb.create_sheet("Chờ xem xét")
    rq.append(["Mã", "Nhận lúc", "Người gửi", "Trường (dự đoán)", "Mã trường", "Loại hồ sơ (dự đoán)", "Tệp",
               "Dự đoán", "Trả lời gợi ý", "Lý do"])
    school_names = {s.code: s.name for s in status.schools}
    doc_names = {d.id: d.name for d in campaign.doc_types}
    wording = labels.get("REVIEW") or {}
    for r in status.review[:REVIEW_SHEET_ROWS]:
        if r.official_doubt:  # a counted copy the bot could not judge: official or not?
            guess, reply = r.reason, official_replies(r.ref)[0]
        else:
            g = review_guess(r.reason, r.filename, r.doc_types, campaign, r.reason_code)
            guess, reply = guess_text(g, wording), suggested_replies(r.ref, r.school, r.doc_types, g.likely)[0]
        rq.append([r.ref, _xl_time(r.received_at, tz), r.from_addr, school_names.get(r.school, r.school or ""),
                   r.school or "", "; ".join(doc_names.get(d, d) for d in r.doc_types), r.filename,
                   guess, reply, r.reason])
        rq.cell(rq.max_row, 2).number_format = "dd/mm/yyyy hh:mm"
    if len(status.review) > REVIEW_SHEET_ROWS:  # a flood: the mail stays small, `export` has every file
        rq.append([f"... và {len(status.review) - REVIEW_SHEET_ROWS} tệp khác: xem lệnh "
                   "python3 -m bot export --format csv"])
    for c in rq[1]:
        c.font = Font(bold=True)
    rq.freeze_panes = "B2"
    rq.auto_filter.ref = rq.dimensions
    for i, w in enumerate([8, 17, 30, 30, 20, 34, 40, 44, 34, 60], start=1):
        rq.column_dimensions[get_column_letter(i)].width = w
    _official_sheet(wb, status, names, tz)
    text_cells_only(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# The official-copy verdict of a document in the XLSX (issue 16).
OFFICIAL_LABELS = {True: "bản chính thức", False: "chưa phải bản chính thức", None: "chưa rõ bản chính thức"}
NOT_CHECKED = "chưa kiểm tra"
OFFICIAL_FILLS = {True: "DCFCE7", False: "FEE2E2", None: "FFEDD5"}


def _yes_no(value: bool | None) -> str:
    return {True: "có", False: "không", None: ""}[value]


def _official_sheet(wb, status: CampaignStatus, names: dict, tz) -> None:
    """The sheet "Bản chính thức": every received document with the evidence of
    its deciding copy: official, signed by, seal, number, date, problems."""
    from openpyxl.styles import Font, PatternFill  # loaded by digest_xlsx already
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("Bản chính thức")
    ws.append(["Mã trường", "Tên trường", "Hồ sơ", "Tình trạng", "Nhận lúc", "Bản chính thức", "Ký số bởi",
               "Dấu đỏ", "Số văn bản", "Ngày văn bản", "Vấn đề"])
    for r in official_rows(status):
        verdict = OFFICIAL_LABELS[r.official] if r.checked else NOT_CHECKED
        ws.append([r.code, r.school, r.doc_name, names.get(r.status, r.status),
                   _xl_time(r.received_at, tz) if r.received_at else "", verdict, r.signed_by or "",
                   _yes_no(r.seal), r.number or "", r.date or "", "; ".join(r.problems)])
        ws.cell(ws.max_row, 5).number_format = "dd/mm/yyyy hh:mm"
        if r.checked:
            ws.cell(ws.max_row, 6).fill = PatternFill("solid", fgColor=OFFICIAL_FILLS[r.official])
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = ws.dimensions
    for i, w in enumerate([22, 30, 34, 14, 17, 22, 34, 8, 20, 12, 70], start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def guess_text(guess: ReviewGuess, wording: dict) -> str:
    """The bot's guess in words, as the digest shows it ("có lẽ: Báo cáo — bản
    scan, không đọc được chữ"); ``wording``: ``Renderer.review_wording()``."""
    if not wording:
        return ""
    if guess.likely:
        cause = wording["CAUSE"].get(guess.cause, "{}").replace("{}", guess.label)
        named = wording.get("FROM_FILENAME", "") if guess.from_filename else ""
        return f"{wording['GUESS_PREFIX']}{guess.doc or wording['NO_DOC']}{named} — {cause}"
    return wording["UNLIKELY"].get(guess.cause, "{}").replace("{}", guess.label)


def status_labels(common_module) -> dict:
    """``STATUS`` of ``_common.txt`` plus the label of an optional document not sent."""
    labels = dict(common_module.STATUS)
    labels.setdefault(OPTIONAL_ABSENT, getattr(common_module, "OPTIONAL_ABSENT", "—"))
    return labels


def shown_status(status: str, required: bool) -> str:
    """The status a spreadsheet or the report shows for a document: an
    optional one not received is neither overdue nor owed, so "missing"
    becomes ``OPTIONAL_ABSENT`` and "extended" plain "pending"."""
    if required:
        return status
    return {"missing": OPTIONAL_ABSENT, "extended": "pending"}.get(status, status)


def formula_like(value) -> bool:
    """Whether ``value`` is text a spreadsheet would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def text_cells_only(workbook) -> None:
    """Make every text cell of ``workbook`` plain text: openpyxl turns a
    string starting with "=" into a live formula, and Excel evaluates
    "+", "-" and "@" too. Such cells are stored as strings with the
    quote prefix (Excel shows the text unchanged, as if typed after ').
    The bot never writes formulas, so no cell is left a formula."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def csv_text(value):
    """A value for a CSV cell: text a spreadsheet would evaluate as a
    formula gets a leading single quote (OWASP CSV-injection guidance);
    anything else is returned unchanged."""
    return "'" + value if formula_like(value) else value


def _xl_time(moment: datetime, tz) -> datetime:
    """Excel has no time zones: write the local wall-clock time."""
    return moment.astimezone(tz).replace(tzinfo=None)


# -- small text helpers (also template filters) ----------------------------------

_SPACES = re.compile(r"\s+")


def shorten_middle(text: str, limit: int = 34) -> str:
    """``text`` cut in the middle to at most ``limit`` characters, with "…"
    where it was cut: the start and the end (a file's extension, an
    address's domain) stay readable. Shorter text is returned unchanged."""
    text = "" if text is None else str(text)
    if len(text) <= limit or limit < 5:
        return text
    keep = limit - 1
    tail = keep * 2 // 5
    dot = text.rfind(".")
    if 0 < len(text) - dot <= 6:  # keep ".pdf" / ".docx" whole in the tail
        tail = max(tail, len(text) - dot)
    head = keep - tail
    return text[:head].rstrip() + "…" + text[len(text) - tail:].lstrip()


def shorten_address(address: str, limit: int = 34) -> str:
    """An e-mail address in at most ``limit`` characters for a narrow screen:
    the domain stays whole and the local part is cut at its end
    ("mntranquangkh…@hcm-edu.example"); a short address is unchanged."""
    address = "" if address is None else str(address)
    local, at, domain = address.rpartition("@")
    if len(address) <= limit or not at or len(domain) > limit - 6:
        return shorten_middle(address, limit)
    return local[:limit - len(domain) - 2] + "…@" + domain


# The email package of Python 3.11 loses the space between two encoded
# words when it folds a long non-ASCII Subject ("đề nghị công" arrives as
# "đề nghịcông"); the From/To/Subject headers are therefore encoded with
# email.header.Header, whose folding is correct, and put in as raw lines.

def encode_header(name: str, value: str) -> str:
    """One header value, RFC 2047-encoded when needed and folded at 78 columns."""
    value = one_line(value)
    ascii_only = value.isascii() and "=?" not in value
    return Header(value, "us-ascii" if ascii_only else "utf-8", header_name=name).encode(
        linesep="\r\n", splitchars=", ")


def encode_address(name: str, display_name: str, address: str) -> str:
    display_name = one_line(display_name)
    if not display_name:
        return address
    if display_name.isascii() and "=?" not in display_name:
        return formataddr((display_name, address))
    return f"{_encoded_words(display_name)} <{address}>"


def _encoded_words(text: str, limit: int = 75) -> str:
    """RFC 2047 encoded-words that break only between words.

    ``Header`` breaks wherever the line fills, even inside a word
    ("...điển h" + "ình..."): correct readers join the pieces, but some
    (Python's own address parser among them) put a space between them, so
    the school would read "điển h ình". Breaking before a space, kept inside
    the next piece, costs such a reader only a double space.
    """
    def word(piece: str) -> str:
        return "=?utf-8?b?" + base64.b64encode(piece.encode("utf-8")).decode("ascii") + "?="

    pieces, current = [], ""
    for index, part in enumerate(text.split(" ")):
        piece = part if index == 0 else " " + part
        if current and len(word(current + piece)) > limit:
            pieces.append(current)
            current = piece
        else:
            current += piece
    pieces.append(current)
    return "\r\n ".join(word(p) for p in pieces)


def set_header(raw: bytes, name: str, encoded: str) -> bytes:
    """Replace every ``name:`` header (with its folded lines) of a raw
    message by one, put first. ``encoded`` must be ASCII (see encode_header)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept, skipping = [], False
    prefix = name.lower().encode("ascii") + b":"
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(prefix)
        if not skipping:
            kept.append(line)
    new = f"{name}: {encoded}".encode("ascii")
    return b"\r\n".join([new, *kept]) + sep + body


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text or "").strip()


def lower_first(text: str) -> str:
    """"Hồ sơ đề nghị" -> "hồ sơ đề nghị"; an acronym ("ANTQ ...") is kept."""
    if len(text) >= 2 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def vn_number(value: float) -> str:
    """44.4 -> "44,4"; 100.0 -> "100" (Vietnamese decimal comma)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def vn_duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ([f"{days} ngày"] if days else []) + ([f"{hours} giờ"] if hours else []) + \
            ([f"{mins} phút"] if mins and not days else [])
    return " ".join(parts) or "dưới 1 phút"


def days_vi(days: int) -> str:
    if days > 0:
        return f"còn {days} ngày"
    if days == 0:
        return "hạn là hôm nay"
    return f"đã quá hạn {-days} ngày"


__all__ = ["Renderer", "Rendered", "Attachment", "digest_xlsx", "one_line", "XLSX_TYPE", "encode_header",
           "encode_address", "set_header", "text_cells_only", "csv_text", "formula_like"]
