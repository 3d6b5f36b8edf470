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
- ``headers``: bounded reading of raw header blocks;
- ``*_records`` (and ``outbox_health``): the frozen records each aggregate reads and writes, loaded with
  the methods that make them.
"""
from __future__ import annotations

from ..archive import sha256
from ..lazy import lazy_exports
from ..model import Correction, StoredItem
from .bounces import BouncesMixin
from .checkpoints import CheckpointsMixin
from .commands import CommandsMixin
from .corrections import CorrectionsMixin
from .db import DB_NAME, StoreBase, environment_fault
from .extractions import ExtractionsMixin
from .items import ItemsMixin
from .marks import MarksMixin
from .messages import MessagesMixin
from .outbox import OutboxMixin
from .processing import DIED_ALONE, ProcessingMixin
from .quarantine import QuarantineMixin, parse_quarantine_ref, quarantine_ref
from .threads import ThreadsMixin


class Store(ProcessingMixin, QuarantineMixin, ItemsMixin, MessagesMixin, CheckpointsMixin, ExtractionsMixin,
            CorrectionsMixin, MarksMixin, OutboxMixin, ThreadsMixin, BouncesMixin, CommandsMixin, StoreBase):
    """The state directory: ``bot.sqlite3``, ``archive/`` (raw mail), ``blobs/`` (attachments).

    ``Store.open(state_dir)`` opens (creating if needed) and migrates it; the
    methods come from the aggregate modules of this package.
    """


# Each aggregate's records (frozen dataclasses) live in ``<aggregate>_records`` and load with the first
# method that makes one, or here on first use of the name (PEP 562): ``status`` reads none of them, and
# Python compiles several methods for each frozen dataclass when its module loads.
RECORDS = {
    "BounceReport": "bounces_records", "BelievedBounce": "bounces_records",
    "CommandLine": "commands_records", "CommandMail": "commands_records", "CommandOutcome": "commands_records",
    "ItemOrigin": "items_records", "ItemRecord": "items_records",
    "InboundMail": "messages_records", "MessageRecord": "messages_records",
    "OutboxRow": "outbox_records", "OutboxTrouble": "outbox_health", "QueuedMail": "outbox_records",
    "SentReply": "outbox_records",
    "ItemRow": "processing_records", "MessageSummary": "processing_records", "PendingMessage": "processing_records",
    "Recovery": "processing_records",
    "Thread": "threads_records",
}
__getattr__, __dir__ = lazy_exports(__name__, RECORDS)

__all__ = ["Store", "StoredItem", "Correction", "sha256", "quarantine_ref", "parse_quarantine_ref",
           "environment_fault", "DIED_ALONE", "DB_NAME", *RECORDS]
