"""The naive baseline: the script a person writes first.

Fetch every message of the folder with imapclient, parse each with
mail-parser, and extract the text of every page of every PDF (pdfplumber)
and DOCX (python-docx) attachment, including the ones inside ZIP files.
No archive, no database, no classification, no worker processes: just the
reading, which is most of what the bot does, so the bot's time relative to
this script is a fair headline figure (the bot does strictly more work).

    python -m bench.naive --host 127.0.0.1 --port 14300 --user office \\
        --password-file PW [--folder INBOX]

Prints one JSON line: messages, attachments, pages, characters, seconds.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import time
import zipfile

import docx
import mailparser
import pdfplumber
from imapclient import IMAPClient


def pdf_text(data: bytes) -> tuple[str, int]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages), len(pdf.pages)


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def extract(name: str, data: bytes, totals: dict) -> None:
    name = name.lower()
    try:
        if name.endswith(".pdf"):
            text, pages = pdf_text(data)
            totals["pages"] += pages
        elif name.endswith(".docx"):
            text = docx_text(data)
        elif name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for member in zf.namelist():
                    extract(member, zf.read(member), totals)
            return
        else:
            return
    except Exception:  # a damaged file: skip it, as a first script would
        totals["errors"] += 1
        return
    totals["attachments"] += 1
    totals["characters"] += len(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--folder", default="INBOX")
    args = ap.parse_args(argv)
    password = open(args.password_file, encoding="utf-8").read().strip()

    start = time.perf_counter()
    totals = {"messages": 0, "attachments": 0, "pages": 0, "characters": 0, "errors": 0}
    client = IMAPClient(args.host, port=args.port, ssl=False)
    client.login(args.user, password)
    client.select_folder(args.folder, readonly=True)
    uids = client.search("ALL")
    for uid, item in client.fetch(uids, ["BODY.PEEK[]"]).items():
        mail = mailparser.parse_from_bytes(item[b"BODY[]"])
        totals["messages"] += 1
        for att in mail.attachments:
            payload = att["payload"]
            data = base64.b64decode(payload) if att["binary"] else payload.encode("utf-8")
            extract(att["filename"] or "", data, totals)
    client.logout()
    totals["seconds"] = round(time.perf_counter() - start, 3)
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
