"""Where the OCR of a corpus spends tesseract's CPU, in one process:
``python3 -m bench.ocr_cost CORPUS [OUT.json] [--all-reads | --poll]``.

Every distinct PDF and image attached in the corpus's messages is extracted
with OCR on (``extract(..., ocr=True)``, the official-copy inputs included,
as an extraction worker does: a scan's signer crop and rereads are left for
after classification, where the pipeline does them only for the parts that
count and whose verdict they may change; ``--all-reads`` does them all, for
every part, as extraction did before) and each tesseract run is timed with the
thread's CPU clock and put in the region it read: a page's head (or the
first rows of a page that may continue a document), a page read whole, the
signer around a seal, a head or a body read again for the official-copy
check; and each head's decision (as read, and with its date line repaired).
``--poll`` does what a first poll does instead: the messages in order, each
attachment extracted once (by its digest), each message classified, and the
official-copy reads done where they may decide (``pipeline.items.completing``,
the rules of ``rules/``, the corpus's receipt times): the reads the poll
pays, not all of them; OUT then also holds each message's verdicts.
Prints one JSON line (CPU seconds and runs per region, total CPU of
the extractions); with OUT, also writes each file's text and official inputs,
so that two versions of the readers can be compared file by file.
Set ``OMP_THREAD_LIMIT=1`` as the workers do (done here before tesseract loads).
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bot.extract import ocr_engine, ocr_pages, ocr_tsv  # noqa: E402
from bot.extract.common import ExtractLimits  # noqa: E402
from bot.extract.dispatch import extract  # noqa: E402
from bot.extract.official import complete_official  # noqa: E402
from bot.model import Attachment  # noqa: E402

_CALLERS = {"_read_whole": "whole", "read_page": "head", "_signer_text": "signer", "_reread_head": "reread_head",
            "_reread_body": "reread_body"}


def _region() -> str:
    """The region being read, from the call stack (the reader's function names)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name in _CALLERS:
            return _CALLERS[frame.f_code.co_name]
        frame = frame.f_back
    return "other"


def scanned_files(corpus: Path):
    """(name, bytes) of each distinct PDF or image attached in the corpus, in message order."""
    seen = set()
    for path in sorted(corpus.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.iter_attachments():
            data = part.get_payload(decode=True) or b""
            if not (data[:5] == b"%PDF-" or data[:3] == b"\xff\xd8\xff" or data[:4] in (b"\x89PNG", b"II*\x00", b"MM\x00*")):
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest not in seen:
                seen.add(digest)
                yield f"{path.name}/{part.get_filename()}", data


def _poll(corpus: Path, limits: ExtractLimits, current: list[str]):
    """(digest -> extraction, message -> its rows' verdicts) as a first poll makes them (see above)."""
    from datetime import datetime

    from bot.archive import sha256
    from bot.classify import classify_message
    from bot.parse import ParseLimits, parse_message
    from bot.pipeline.items import completing
    from bot.rules.load import load_rules

    rules = load_rules(Path(__file__).resolve().parents[1] / "rules")
    dates = json.loads((corpus / "internaldates.json").read_text("utf-8"))
    results, verdicts = {}, {}
    for name in sorted(dates):
        message = parse_message((corpus / name).read_bytes(), ParseLimits())
        received = datetime.fromisoformat(dates[name]).replace(tzinfo=rules.campaign.tz)
        digests = [sha256(a.data) for a in message.attachments]
        for att, digest in zip(message.attachments, digests):
            if digest not in results:
                current[0] = f"{name}/{att.filename}"
                results[digest] = extract(att, limits, ocr=True)
        docs = [(a, results[d]) for a, d in zip(message.attachments, digests)]
        decisions = classify_message(message, docs, rules, received, True)
        done = completing(decisions, docs, digests, received, rules, limits,
                          lambda i: message.attachments[i].data)
        results.update(done.extractions)
        verdicts[name] = [[r.decision.filename, r.decision.school, list(r.decision.doc_types), r.decision.decision,
                           r.evidence and r.evidence.official, r.evidence and list(r.evidence.problems)]
                          for r in done.rows]
    return results, verdicts


def main(argv: list[str]) -> int:
    all_reads = "--all-reads" in argv
    poll = "--poll" in argv
    argv = [a for a in argv if a not in ("--all-reads", "--poll")]
    corpus = Path(argv[0])
    costs: dict[str, list[float]] = {}
    tsv = ocr_engine._ENGINE.tsv

    def timed(*args, **kwargs):
        start = time.thread_time()
        try:
            return tsv(*args, **kwargs)
        finally:
            entry = costs.setdefault(_region(), [0.0, 0])
            entry[0] += time.thread_time() - start
            entry[1] += 1

    ocr_engine._ENGINE.tsv = timed
    heads: list[dict] = []
    current = [""]
    decides = ocr_pages.head_decides

    def logged(lines):
        decided = decides(lines)
        texts = [line.strip() for line in lines if line.strip()]
        heads.append({"file": current[0], "whole": sys._getframe(1).f_code.co_name == "_read_whole",
                      "decided": decided,
                      "repaired": ocr_pages._deciding_lines([ocr_tsv.repair_date_line(t) for t in texts]) is not None,
                      "texts": texts})
        return decided

    ocr_pages.head_decides = logged
    if poll:
        start = time.process_time()
        extractions, verdicts = _poll(corpus, ExtractLimits(), current)
        figures = {"files": sum(1 for e in extractions.values() if e.ocr),
                   "poll_cpu_s": round(time.process_time() - start, 1),
                   "tesseract": {k: {"cpu_s": round(v[0], 1), "runs": v[1]} for k, v in sorted(costs.items())}}
        print(json.dumps(figures))
        if len(argv) > 1:
            Path(argv[1]).write_text(json.dumps({"figures": figures, "verdicts": verdicts, "heads": heads},
                                                ensure_ascii=False, indent=1, default=str))
        return 0
    results, total, files = {}, 0.0, 0
    for name, data in scanned_files(corpus):
        current[0] = name
        before = sum(c[1] for c in costs.values())
        start = time.process_time()
        result = extract(Attachment(name.split("/", 1)[1], "application/octet-stream", data), ExtractLimits(), ocr=True)
        if all_reads and result.official is not None:
            result = complete_official(data, result, result.official.deferred, ExtractLimits())
        spent = time.process_time() - start
        if sum(c[1] for c in costs.values()) == before:
            continue  # no OCR: a text PDF
        files += 1
        total += spent
        official = result.official
        results[name] = {"text": [p.text for p in result.parts], "error": result.error,
                         "signer": official and [list(t) for t in official.signer_text],
                         "heads": official and [list(t) for t in official.head_text],
                         "bodies": official and [list(t) for t in official.body_text],
                         "seals": official and [repr(p) for p in official.pages]}
    figures = {"files": files, "extract_cpu_s": round(total, 1),
               "tesseract": {k: {"cpu_s": round(v[0], 1), "runs": v[1]} for k, v in sorted(costs.items())}}
    print(json.dumps(figures))
    if len(argv) > 1:
        Path(argv[1]).write_text(json.dumps({"figures": figures, "files": results, "heads": heads}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
