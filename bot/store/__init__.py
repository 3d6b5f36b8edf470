"""The state: one SQLite database (WAL) plus content-addressed files.

Facts are stored; statuses are computed from them (see status.py). Every
write takes ``now`` from the caller. Schema changes are migrations (see
schema.py), each run in a transaction together with the bump of
``PRAGMA user_version``.

This package is the storage layer: one module per aggregate, each a mixin
of ``Store`` over its tables.

- ``db``: the connection, migrations, transactions, the optional filters of a read;
- ``processing``: ingestion, processing, blame (a message's life, and the items it writes);
- ``quarantine``: quarantined messages waiting for a person, and their dismissal;
- ``items``: reading the items (what each file or document part was found to be);
- ``messages``: reading the stored messages (who sent what, when);
- ``checkpoints``: how far each mailbox source was fetched;
- ``extractions``: the cache of what was read from each file;
- ``corrections``: what people decided (the audit trail);
- ``marks``: named moments for ``health``;
- ``outbox``: the outgoing mail queue and what each receipt acknowledges;
- ``threads``: the thread of mail to each school in a cycle;
- ``bounces``: delivery reports about the bot's mail, as judged;
- ``commands``: command mail from the coordinators, line by line;
- ``snapshot``: the database file as a whole (its version, a consistent copy);
- ``headers``: bounded reading of raw header blocks.
"""
from __future__ import annotations

from ..archive import sha256
from ..model import Correction, StoredItem
from .bounces import BelievedBounce, BounceReport, BouncesMixin
from .checkpoints import CheckpointsMixin
from .commands import CommandLine, CommandMail, CommandOutcome, CommandsMixin
from .corrections import CorrectionsMixin
from .db import DB_NAME, StoreBase, environment_fault
from .extractions import ExtractionsMixin
from .marks import MarksMixin
from .items import ItemOrigin, ItemRecord, ItemsMixin
from .messages import InboundMail, MessageRecord, MessagesMixin
from .outbox import OutboxMixin, OutboxRow, OutboxTrouble, QueuedMail, SentReply
from .processing import DIED_ALONE, ItemRow, MessageSummary, PendingMessage, ProcessingMixin, Recovery
from .quarantine import QuarantineMixin, parse_quarantine_ref, quarantine_ref
from .threads import Thread, ThreadsMixin


class Store(ProcessingMixin, QuarantineMixin, ItemsMixin, MessagesMixin, CheckpointsMixin, ExtractionsMixin,
            CorrectionsMixin, MarksMixin, OutboxMixin, ThreadsMixin, BouncesMixin, CommandsMixin, StoreBase):
    """The state directory: ``bot.sqlite3``, ``archive/`` (raw mail), ``blobs/`` (attachments).

    ``Store.open(state_dir)`` opens (creating if needed) and migrates it; the
    methods come from the aggregate modules of this package.
    """


__all__ = ["Store", "ItemRow", "StoredItem", "Correction", "PendingMessage", "MessageSummary", "Recovery", "sha256",
           "quarantine_ref", "parse_quarantine_ref", "environment_fault", "DIED_ALONE", "DB_NAME",
           "InboundMail", "ItemOrigin", "QueuedMail", "OutboxRow", "OutboxTrouble",
           "SentReply", "Thread", "BounceReport", "BelievedBounce", "CommandMail", "CommandOutcome",
           "CommandLine", "MessageRecord", "ItemRecord"]
