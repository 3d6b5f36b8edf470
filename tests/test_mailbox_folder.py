"""The folder source (a directory of .eml / .mbox files, e.g. a webmail export):
which time counts as the receipt time when there is no IMAP INTERNALDATE."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from bot.mailbox.folder import FolderSource

VN = timezone(timedelta(hours=7))
SENT = "Mon, 09 Oct 2023 16:00:00 +0700"               # the sender's clock: before the deadline
RELAYED = "Tue, 10 Oct 2023 23:58:00 +0700"            # an earlier hop
ARRIVED = "Wed, 11 Oct 2023 00:00:05 +0700"            # the office's server: after it
FILE_TIME = datetime(2023, 12, 1, 9, 0, tzinfo=timezone.utc)


def eml(*, date: str | None = SENT, received: tuple[str, ...] = (ARRIVED, RELAYED)) -> bytes:
    lines = [f"Received: from mx2.hcm-edu.example by mail.pgd.example; {when}" for when in received]
    lines += ["From: thcsnguyenhien.q12@hcm-edu.example", "Subject: Hồ sơ"]
    if date:
        lines.append(f"Date: {date}")
    return ("\r\n".join(lines) + "\r\n\r\nbody\r\n").encode()


def receipt_times(folder) -> list[datetime]:
    source = FolderSource(folder)
    return [m.received_at for batch in source.batches(None, lambda pairs: set()) for m in batch.messages]


@pytest.mark.parametrize("mail, sidecar, expected", [
    (eml(), None, datetime(2023, 10, 11, 0, 0, 5, tzinfo=VN)),                    # the newest Received: late
    (eml(), "2023-10-10T12:00:00+07:00", datetime(2023, 10, 10, 12, tzinfo=VN)),  # exported INTERNALDATE wins
    (eml(received=("garbage without a date",) + (ARRIVED,)), None,
     datetime(2023, 10, 11, 0, 0, 5, tzinfo=VN)),                                  # an unreadable stamp is skipped
    (eml(received=()), None, datetime(2023, 10, 9, 16, tzinfo=VN)),                # no server stamp: Date, warned
    (eml(received=(), date=None), None, FILE_TIME),                                # nothing at all: the file's time
])
def test_the_receipt_time_of_a_file_is_the_servers_not_the_senders(tmp_path, mail, sidecar, expected):
    (tmp_path / "1.eml").write_bytes(mail)
    os.utime(tmp_path / "1.eml", (FILE_TIME.timestamp(), FILE_TIME.timestamp()))
    if sidecar:
        (tmp_path / "internaldates.json").write_text(json.dumps({"1.eml": sidecar}))
    assert receipt_times(tmp_path) == [expected]


def test_mbox_messages_take_their_own_received_times(tmp_path):
    mbox = b"".join(b"From MAILER-DAEMON Thu Oct 12 10:00:00 2023\n" + eml(received=(when,)).replace(b"\r\n", b"\n")
                    + b"\n" for when in (RELAYED, ARRIVED))
    (tmp_path / "export.mbox").write_bytes(mbox)
    assert receipt_times(tmp_path) == [datetime(2023, 10, 10, 23, 58, tzinfo=VN),
                                       datetime(2023, 10, 11, 0, 0, 5, tzinfo=VN)]


def test_a_receipt_time_from_the_date_header_is_logged(tmp_path, caplog):
    (tmp_path / "1.eml").write_bytes(eml(received=()))
    receipt_times(tmp_path)
    assert "1.eml" in caplog.text and "Date header" in caplog.text


def test_files_that_are_not_mail_are_listed_in_the_log_and_the_poll_report(tmp_path, caplog):
    from bot.ingest import PollReport, ingest
    from bot.store import Store

    from . import mailfactory as mf

    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "1.eml").write_bytes(eml())
    (inbox / "2.msg").write_bytes(mf.outlook_msg(transport_headers=f"Date: {SENT}\n"))  # Outlook's own format: read
    (inbox / "Kế hoạch.pdf").write_bytes(b"%PDF-1.4")
    (inbox / "sub" / "ghi chú.txt").write_text("x")
    (inbox / "internaldates.json").write_text("{}")  # the side-car is read, not skipped
    report = PollReport()
    with Store.open(tmp_path / "state") as store:
        ingest(FolderSource(inbox), store, FILE_TIME, report)
        arrived = [m.received_at for m in sorted(store.message_records(), key=lambda m: m.source_key)]
    assert (report.new, report.skipped_files) == (2, ["Kế hoạch.pdf", "sub/ghi chú.txt"])
    assert "2 file(s) in the folder not read (not .eml/.msg/.mbox): Kế hoạch.pdf, sub/ghi chú.txt" in report.summary()
    assert "2 file(s) not read" in caplog.text and "Kế hoạch.pdf" in caplog.text
    assert arrived == [datetime(2023, 10, 11, 0, 0, 5, tzinfo=VN),
                                                            datetime(2023, 10, 9, 16, tzinfo=VN)]  # the .msg's Date


def test_a_folder_without_mail_files_still_reports_what_it_skipped(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    batches = list(FolderSource(tmp_path).batches(None, lambda pairs: set()))
    assert [(b.messages, b.skipped) for b in batches] == [([], ("notes.txt",))]
