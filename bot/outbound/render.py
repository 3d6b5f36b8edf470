"""Planned mail -> RFC 5322 message: Jinja2 templates, template filters, attachments.

Templates live in ``config.paths.templates`` so the office can reword them
without touching code: ``NAME.txt`` (plain text) and ``NAME.html`` for each
kind (receipt, reminder, digest), ``school_subject.txt`` (the subject of the
one thread per school and cycle) and ``digest_subject.txt``; shared wording
is in ``_common.txt`` and the HTML frame in ``_layout.html``.

HTML templates are autoescaped and every template is strict about undefined
variables: a filename such as ``<b>{{ 7*7 }}</b>.pdf`` shows as that text.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import ConfigError
from ..status import CampaignStatus
from .common import PlannedMail
from .headers import encode_address, encode_header, one_line, set_header
from .xlsx import digest_xlsx, status_labels

if TYPE_CHECKING:  # annotations only: jinja2 is imported where templates are loaded
    import jinja2

HCM = "Asia/Ho_Chi_Minh"
AUTO_SUBMITTED = {"receipt": "auto-replied", "reply": "auto-replied"}  # everything else: auto-generated

# The templates compiled in this process, shared by every Renderer: bucket key (template
# name and file) -> (checksum of the source, code). Every Renderer makes its environment
# with the same settings, so the code one compiles is the code another would; a file
# edited on disk has another checksum and is compiled again (auto_reload still holds).
# A cache, not state: without it each new renderer (a coordinator's reply, a command
# of the CLI, each test) compiles the digest's templates again, a few hundred ms.
_COMPILED: dict[str, tuple[str, object]] = {}


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
        """This renderer's Jinja environment, made on first use. It keeps each
        template compiled (compiling the digest's costs a few hundred
        milliseconds, rendering it about one) and compiles it again only when
        its file changes on disk (``auto_reload`` compares mtimes at each
        use): an office's edit of templates/ shows in the next mail, without
        a restart. Keep one renderer for many mails (the worker keeps one for
        its life, ``notify.tasks``). Not made in ``__init__``: ``check-config``
        and a quiet poll build a renderer (the sender is checked) but render
        nothing, and need not load jinja2."""
        if self._env is None:
            import jinja2

            class Compiled(jinja2.BytecodeCache):
                def load_bytecode(self, bucket):
                    checksum, code = _COMPILED.get(bucket.key, (None, None))
                    if checksum == bucket.checksum:
                        bucket.code = code

                def dump_bytecode(self, bucket):
                    _COMPILED[bucket.key] = (bucket.checksum, bucket.code)

            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(self.dir), encoding="utf-8"),
                autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default_for_string=False,
                                                    default=False),
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=False,
                auto_reload=True,
                bytecode_cache=Compiled(),
            )
            env.filters.update(vn_date=self.vn_date, vn_datetime=self.vn_datetime, vn_short=self.vn_short,
                               vn_deadline=self.vn_deadline, nd30_date=self.nd30_date, vn_duration=vn_duration,
                               vn_number=vn_number, middle=shorten_middle, address=shorten_address,
                               days_vi=days_vi, lower_first=lower_first)
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
        import jinja2  # this only names its errors (self.env loads jinja2)

        try:
            module = self.env.get_template("_digest_wording.txt").module
        except jinja2.TemplateNotFound:
            return {}  # an office's older templates/ without it: the sheet goes without the guess
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template _digest_wording.txt: {exc}") from exc
        return {name: getattr(module, name, "") for name in ("CAUSE", "UNLIKELY", "GUESS_PREFIX", "NO_DOC",
                                                                  "FROM_FILENAME")}


# -- small text helpers (also template filters) ----------------------------------


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


__all__ = ["Renderer", "Rendered", "Attachment", "HCM", "AUTO_SUBMITTED", "shorten_middle", "shorten_address",
           "lower_first", "vn_number", "vn_duration", "days_vi"]
