"""The ``export --format csv`` file: every field quoted, no cell a spreadsheet
would run as a formula (OWASP "CSV injection"), and an ``excel`` flavour for
the office's Vietnamese Windows Excel.

Vietnamese Windows uses "," as its decimal mark, so Excel opens a
double-clicked CSV with ";" as the list separator and reads it in the ANSI
code page unless the file starts with a UTF-8 byte-order mark. ``excel=True``
writes exactly that: a BOM, ";" between fields, CRLF line ends.

Pure: rows in, text out; the CLI writes it.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from typing import Iterable, Mapping, Sequence

# A cell starting with one of these is evaluated by Excel, LibreOffice or
# Google Sheets ("@" and the full-width forms by some of them).
TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# List separators a locale may use: Excel splits an unquoted field on them, so
# a formula may hide behind one (";=cmd|...").
SEPARATORS = frozenset(",;|\t\uff0c\uff1b")
BOM = "\ufeff"


def neutralise(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet could take it for a
    formula: its first character is a control character (tab, CR, LF, ...),
    or its first character after any leading whitespace and list separators
    is ``= + - @`` (or their full-width forms) or a control character.
    Any other text is returned unchanged; Excel shows the quoted text as typed."""
    if not value:
        return value
    if _control(value[0]):
        return "'" + value
    for ch in value:
        if ch in SEPARATORS or ch.isspace():
            continue  # " ; =x": still a formula once a reader splits or trims here
        return "'" + value if ch in TRIGGERS or _control(ch) else value
    return value


def _control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def cell(value) -> str:
    """The text of one cell: lists joined with ";" (as before), None empty, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, str):
        return str(value)  # numbers and flags the bot computed: never mail-derived
    return neutralise(value)


def export_csv(rows: Iterable[Mapping], fieldnames: Sequence[str], *, excel: bool = False) -> str:
    """The CSV text of ``rows`` (columns ``fieldnames``), every field quoted.

    ``excel``: UTF-8 byte-order mark first and ";" as separator, for Excel
    with Vietnamese regional settings; otherwise "," and no BOM (RFC 4180).
    """
    out = io.StringIO()
    if excel:
        out.write(BOM)
    writer = csv.writer(out, delimiter=";" if excel else ",", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise(str(f)) for f in fieldnames])
    for row in rows:
        writer.writerow([cell(row.get(f)) for f in fieldnames])
    return out.getvalue()


__all__ = ["export_csv", "neutralise", "cell", "TRIGGERS", "SEPARATORS", "BOM"]
