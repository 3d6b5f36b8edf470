"""The worker renders the receipts its polls queue with the renderer it keeps for
its life (the one its outbox, remind and digest jobs use): an office's edited
wording reaches those receipts, and the templates are not compiled again per poll."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

from bot import app
from bot.send import SmtpSender

from .outgoing import ROOT, bodies, by_kind, make_ctx, parsed

VN = timezone(timedelta(hours=7))
MARK = "Mẫu biên nhận riêng của Phòng"


def test_a_worker_poll_renders_its_receipts_with_the_workers_renderer(tmp_path, smtp_server_factory):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(ROOT / "examples" / "inbox" / "0003.eml", inbox / "0003.eml")
    received = datetime(2023, 9, 30, 22, 36, tzinfo=VN)
    (inbox / "internaldates.json").write_text(json.dumps({"0003.eml": received.isoformat()}))
    edited = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", edited)
    with (edited / "receipt.txt").open("a", encoding="utf-8") as f:
        f.write(f"\n{MARK}\n")

    server = smtp_server_factory()
    ctx = make_ctx(tmp_path, server)                                  # the config's own templates
    renderer = app.worker_renderer(make_ctx(tmp_path / "w", server, templates=edited))
    sender = SmtpSender(ctx.config.smtp)
    app.poll(ctx, received + timedelta(minutes=5), sender=sender, renderer=renderer)
    app.poll(ctx, received + timedelta(hours=2), sender=sender, renderer=renderer)

    (receipt,) = by_kind(server.messages, "receipt")
    text, _ = bodies(parsed(receipt))
    assert MARK in text                                               # rendered by the renderer given
