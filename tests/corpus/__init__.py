"""A labelled corpus of the mail a district education office receives.

``python -m tests.corpus.generate --out DIR --seed 1 --messages N`` writes
realistic .eml files (every mail client's MIME habits, scans, TCVN3 Word
files, ZIPs without the UTF-8 flag, combined PDFs, forwards, bounces,
auto-replies, spam...), ``labels.json`` saying what each attachment is,
and ``internaldates.json`` with each message's receipt time.

Modules: content (what documents say), layout + render_* (PDF, DOCX,
scans), documents (cached rendering), tcvn3 (legacy encoder), mime +
messages (mail clients), archive (ZIPs), wording (names, subjects),
corpus (recipes -> labelled messages), plan (the mix), generate (CLI).
"""
