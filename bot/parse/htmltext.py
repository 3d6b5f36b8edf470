"""HTML to text, nothing fetched; and the sender's own words of an HTML body (no quoted or hidden text)."""
from __future__ import annotations

import html as html_module  # "html" names the text being converted
import re
import unicodedata
from html.parser import HTMLParser

from .text import CONTROLS


class _HtmlText(HTMLParser):
    """Visible text of an HTML body; scripts and styles dropped, nothing fetched."""

    _HIDDEN = frozenset({"script", "style", "title", "template"})
    _BLOCKS = frozenset({"p", "div", "br", "tr", "table", "blockquote", "hr", "ul", "ol", "pre",
                         "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
                         "footer", "dt", "dd", "address", "center"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS and tag != "br":  # <br/> is one break, not two
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            # Source line breaks are not visible in HTML; tags make the lines.
            self.chunks.append(re.sub(r"\s+", " ", data))


class _OwnHtmlText(_HtmlText):
    """The text the sender wrote in an HTML body: quoted and hidden text left out.

    Left out with everything inside them: <blockquote>; the quote wrappers of
    the common clients (Gmail's gmail_quote/gmail_attr, Thunderbird's
    moz-cite-prefix, Yahoo's yahoo_quoted, Apple's AppleOriginalContents);
    hidden elements (the ``hidden`` attribute, display:none,
    visibility:hidden, opacity:0, zero or tiny font-size, zero height or
    width, mso-hide:all, white text, and classes or ids that a <style> block
    hides that way). From Outlook's reply header (divRplyFwdMsg, appendonsend)
    on, the rest is the quoted original. An element left open hides the rest:
    when unsure, text is left out, never read as the sender's own.
    """

    _VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                       "source", "track", "wbr"})
    _QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_attr", "gmail_extra", "moz-cite-prefix", "yahoo_quoted",
                                "yahoo-quoted-begin", "applemailquote", "appleoriginalcontents", "protonmail_quote",
                                "zimbra-quoted", "outlookmessageheader"})
    _REST_QUOTED = frozenset({"divrplyfwdmsg", "appendonsend", "divrplyfwdmsg1", "x_divrplyfwdmsg"})
    _HIDING_STYLE = re.compile(
        r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|!)"
        r"|font-size\s*:\s*(?:0+(?:\.0*)?|\.0+)\s*(?:px|pt|em|rem|%)?\s*(?:;|$|!)"
        r"|(?<![-\w])(?:max-)?(?:height|width)\s*:\s*0+(?:px|pt|em|%)?\s*(?:;|$|!)|mso-hide\s*:\s*all"
        r"|(?<![-\w])color\s*:\s*(?:#fff\b|#ffffff\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)",
        re.IGNORECASE)
    _TINY_FONT = re.compile(r"font-size\s*:\s*(\d*\.?\d+)\s*(px|pt|em|rem|%)", re.IGNORECASE)
    _TINY = {"px": 5.0, "pt": 4.0, "em": 0.35, "rem": 0.35, "%": 35.0}  # below these, no reader sees the text

    def __init__(self) -> None:
        super().__init__()
        self._stack: list[tuple[str, bool]] = []  # (tag, leaves its content out)
        self._out = 0  # open elements that leave their content out
        self._stopped = False
        self._css: list[str] = []
        self._in_style = False
        self._hidden_classes: set[str] = set()
        self._hidden_ids: set[str] = set()

    def _hides(self, tag: str, attrs: dict[str, str]) -> bool:
        classes = set((attrs.get("class") or "").lower().split())
        ident = (attrs.get("id") or "").lower()
        style = attrs.get("style") or ""
        if tag == "blockquote" or classes & self._QUOTE_CLASSES or "hidden" in attrs:
            return True
        if self._HIDING_STYLE.search(style) or self._tiny(style):
            return True
        if tag == "font" and (attrs.get("color") or "").strip().lower() in ("#fff", "#ffffff", "white"):
            return True
        return bool(classes & self._hidden_classes) or bool(ident and ident in self._hidden_ids)

    def _tiny(self, style: str) -> bool:
        """A font too small to read (under 5 px, 4 pt, 0.35 em or 35 %)."""
        return any(float(m.group(1)) < self._TINY[m.group(2).lower()] for m in self._TINY_FONT.finditer(style))

    def handle_starttag(self, tag, attrs):
        if self._stopped:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        if (values.get("id") or "").lower() in self._REST_QUOTED:
            self._stopped = True  # Outlook: the reply header and the quoted original follow
            return
        if tag == "style":
            self._in_style = True
        if tag in self._VOID:
            if not self._out:
                super().handle_starttag(tag, attrs)
            return
        hides = self._hides(tag, values)
        self._stack.append((tag, hides))
        self._out += hides
        if not self._out:
            super().handle_starttag(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)  # as browsers do: "<div/>" opens a div

    def handle_endtag(self, tag):
        if tag == "style" and self._in_style:
            self._in_style = False
            self._read_css("".join(self._css))
            self._css = []
        if self._stopped or tag in self._VOID:
            return
        if any(t == tag for t, _ in self._stack):  # an end tag without its start is ignored
            while self._stack:
                t, hides = self._stack.pop()
                self._out -= hides
                if t == tag:
                    break
        if not self._out:
            super().handle_endtag(tag)

    def handle_data(self, data):
        if self._in_style:
            self._css.append(data)
        if not self._stopped and not self._out:
            super().handle_data(data)

    def _read_css(self, css: str) -> None:
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css[:200_000]):
            if self._HIDING_STYLE.search(body) or self._tiny(body):
                for selector in selectors.split(","):
                    last = selector.strip().split()[-1:] or [""]
                    for kind, name in re.findall(r"([.#])([\w-]+)", last[0]):
                        (self._hidden_classes if kind == "." else self._hidden_ids).add(name.lower())


def html_to_text(html: str, limit: int, own: bool = False) -> str:
    """The visible text of ``html``; with ``own``, only what the sender wrote
    (``_OwnHtmlText``: no quoted or hidden text)."""
    parser = _OwnHtmlText() if own else _HtmlText()
    try:
        parser.feed(html[:limit])
        parser.close()
        text = "".join(parser.chunks)
    except Exception:  # html.parser gave up: drop the tags bluntly (never for the sender's own words)
        if own:
            return ""
        text = html_module.unescape(re.sub(r"<[^>]*>", " ", html[:limit]))
    return "\n".join(line.strip() for line in text.split("\n"))


def tidy_body(text: str, limit: int) -> str:
    """NFC, no control characters but newlines and tabs, blank lines collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.translate({k: None for k in CONTROLS if k not in (9, 10)})
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return unicodedata.normalize("NFC", text)[:limit]
