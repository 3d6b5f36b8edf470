"""The database schema, as an append-only list of migrations.

Never edit a migration that has shipped: add a new one at the end. Each runs
in one transaction with the bump of ``PRAGMA user_version`` (see bot/store/db.py).
"""
from __future__ import annotations


def _utc_times(table: str, column: str) -> str:
    """SQL rewriting each ISO-8601 time with an offset in ``table.column``
    (``2023-10-05T09:00:00.25+07:00``) as the same instant in UTC
    (``2023-10-05T02:00:00.25+00:00``), as ``clock.utc`` writes it. SQLite
    reads the offset; the fraction of a second is cut off first and put back,
    so that it is neither rounded nor shortened. Values of any other form are
    left alone. (Used by a shipped migration: never change its output.)"""
    c = column
    return (f"UPDATE {table} SET {c} = strftime('%Y-%m-%dT%H:%M:%S', substr({c}, 1, 19) || substr({c}, -6))"
            f" || substr({c}, 20, length({c}) - 25) || '+00:00'"
            f" WHERE {c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*"
            f"[+-][0-9][0-9]:[0-9][0-9]' AND substr({c}, -6) != '+00:00'")


MIGRATIONS: tuple[str, ...] = (
    # 1: ingestion, classification, corrections, run marks
    """
    CREATE TABLE checkpoints (
        source      TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid    INTEGER NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY,
        sha256       TEXT NOT NULL UNIQUE,
        message_id   TEXT NOT NULL,
        source_key   TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        size         INTEGER NOT NULL,
        status       TEXT NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'done', 'quarantined')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        from_addr    TEXT,
        subject      TEXT,
        automatic    TEXT,
        auth         TEXT,
        bounces      TEXT,
        fetched_at   TEXT NOT NULL,
        processed_at TEXT
    );
    CREATE INDEX messages_status ON messages(status);
    CREATE INDEX messages_message_id ON messages(message_id);
    CREATE TABLE items (
        id             INTEGER PRIMARY KEY,
        message_row    INTEGER NOT NULL REFERENCES messages(id),
        container      TEXT NOT NULL,
        filename       TEXT NOT NULL,
        part_index     INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        first_page     INTEGER NOT NULL,
        last_page      INTEGER NOT NULL,
        school         TEXT,
        doc_types      TEXT NOT NULL,
        campaign       INTEGER NOT NULL,
        decision       TEXT NOT NULL CHECK (decision IN ('counted', 'review', 'ignored')),
        confidence     REAL NOT NULL,
        reasons        TEXT NOT NULL,
        received_at    TEXT NOT NULL,
        cycle          INTEGER NOT NULL,
        classified_at  TEXT NOT NULL,
        UNIQUE (message_row, container, filename, part_index)
    );
    CREATE INDEX items_cycle ON items(cycle, decision);
    CREATE TABLE extractions (
        sha256     TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        result     TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE corrections (
        id        INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL CHECK (kind IN ('assign', 'reject', 'received', 'exempt', 'unexempt', 'extend')),
        item_id   INTEGER REFERENCES items(id),
        school    TEXT,
        doc_type  TEXT,
        cycle     INTEGER NOT NULL,
        value     TEXT,
        who       TEXT NOT NULL,
        why       TEXT NOT NULL,
        via       TEXT NOT NULL,
        at        TEXT NOT NULL
    );
    CREATE TABLE marks (
        name   TEXT PRIMARY KEY,
        at     TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: outgoing mail: the outbox, threads per school and cycle, receipts, bounces
    """
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        key             TEXT NOT NULL UNIQUE,
        kind            TEXT NOT NULL CHECK (kind IN ('receipt', 'reminder', 'digest', 'report')),
        school          TEXT,
        cycle           INTEGER NOT NULL,
        status          TEXT NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sent', 'failed', 'cancelled', 'superseded')),
        created_at      TEXT NOT NULL,
        queued_at       TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        sent_at         TEXT,
        message_id      TEXT,
        subject         TEXT NOT NULL DEFAULT '',
        from_addr       TEXT NOT NULL DEFAULT '',
        recipients      TEXT NOT NULL DEFAULT '[]',
        raw             BLOB,
        meta            TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    CREATE INDEX outbox_sent ON outbox(sent_at);
    CREATE TABLE threads (
        school           TEXT NOT NULL,
        cycle            INTEGER NOT NULL,
        first_message_id TEXT NOT NULL,
        subject          TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        PRIMARY KEY (school, cycle)
    );
    CREATE TABLE receipt_items (
        item_id   INTEGER PRIMARY KEY REFERENCES items(id),
        outbox_id INTEGER NOT NULL REFERENCES outbox(id)
    );
    CREATE INDEX receipt_items_outbox ON receipt_items(outbox_id);
    CREATE TABLE bounces (
        address  TEXT PRIMARY KEY,
        first_at TEXT NOT NULL,
        last_at  TEXT NOT NULL,
        count    INTEGER NOT NULL,
        detail   TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE bounce_messages (
        message_row INTEGER PRIMARY KEY REFERENCES messages(id)
    );
    """,
    # 3: the coordinator's commands by email; replies in the outbox (kind 'reply').
    # The outbox is rebuilt to widen its CHECK on kind (SQLite cannot alter a
    # CHECK); store.migrate runs this with foreign keys off and checks them after.
    """
    CREATE TABLE outbox_new (
        id              INTEGER PRIMARY KEY,
        key             TEXT NOT NULL UNIQUE,
        kind            TEXT NOT NULL CHECK (kind IN ('receipt', 'reminder', 'digest', 'report', 'reply')),
        school          TEXT,
        cycle           INTEGER NOT NULL,
        status          TEXT NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sent', 'failed', 'cancelled', 'superseded')),
        created_at      TEXT NOT NULL,
        queued_at       TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        sent_at         TEXT,
        message_id      TEXT,
        subject         TEXT NOT NULL DEFAULT '',
        from_addr       TEXT NOT NULL DEFAULT '',
        recipients      TEXT NOT NULL DEFAULT '[]',
        raw             BLOB,
        meta            TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO outbox_new (id, key, kind, school, cycle, status, created_at, queued_at, attempts, next_attempt_at,
                            last_error, sent_at, message_id, subject, from_addr, recipients, raw, meta)
        SELECT id, key, kind, school, cycle, status, created_at, queued_at, attempts, next_attempt_at,
               last_error, sent_at, message_id, subject, from_addr, recipients, raw, meta FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_new RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    CREATE INDEX outbox_sent ON outbox(sent_at);
    CREATE TABLE command_mails (
        id          INTEGER PRIMARY KEY,
        message_id  TEXT NOT NULL UNIQUE,
        message_row INTEGER NOT NULL REFERENCES messages(id),
        from_addr   TEXT NOT NULL,
        subject     TEXT NOT NULL,
        received_at TEXT NOT NULL,
        cycle       INTEGER NOT NULL,
        verdict     TEXT NOT NULL CHECK (verdict IN ('obeyed', 'refused')),
        reason      TEXT NOT NULL DEFAULT '',
        handled_at  TEXT NOT NULL
    );
    CREATE TABLE commands (
        message_id    TEXT NOT NULL,
        line          INTEGER NOT NULL,
        text          TEXT NOT NULL,
        kind          TEXT,
        outcome       TEXT NOT NULL CHECK (outcome IN ('done', 'error', 'refused')),
        detail        TEXT NOT NULL DEFAULT '',
        correction_id INTEGER REFERENCES corrections(id),
        at            TEXT NOT NULL,
        PRIMARY KEY (message_id, line)
    );
    """,
    # 4: two attachments with the same name in one mail are two items (the key
    # gains ``occurrence``, the n-th file of that name in the mail; rows made
    # before are all occurrence 0, so their ids and corrections survive);
    # cached extractions carry the extractor's version (an upgrade re-reads);
    # the coordinator can dismiss a quarantined message.
    """
    CREATE TABLE items_new (
        id             INTEGER PRIMARY KEY,
        message_row    INTEGER NOT NULL REFERENCES messages(id),
        container      TEXT NOT NULL,
        filename       TEXT NOT NULL,
        occurrence     INTEGER NOT NULL DEFAULT 0,
        part_index     INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        first_page     INTEGER NOT NULL,
        last_page      INTEGER NOT NULL,
        school         TEXT,
        doc_types      TEXT NOT NULL,
        campaign       INTEGER NOT NULL,
        decision       TEXT NOT NULL CHECK (decision IN ('counted', 'review', 'ignored')),
        confidence     REAL NOT NULL,
        reasons        TEXT NOT NULL,
        received_at    TEXT NOT NULL,
        cycle          INTEGER NOT NULL,
        classified_at  TEXT NOT NULL,
        UNIQUE (message_row, container, filename, occurrence, part_index)
    );
    INSERT INTO items_new (id, message_row, container, filename, part_index, content_sha256, first_page, last_page,
                           school, doc_types, campaign, decision, confidence, reasons, received_at, cycle,
                           classified_at)
        SELECT id, message_row, container, filename, part_index, content_sha256, first_page, last_page,
               school, doc_types, campaign, decision, confidence, reasons, received_at, cycle, classified_at
        FROM items;
    DROP TABLE items;
    ALTER TABLE items_new RENAME TO items;
    CREATE INDEX items_cycle ON items(cycle, decision);
    ALTER TABLE extractions ADD COLUMN version TEXT NOT NULL DEFAULT '';
    CREATE TABLE dismissals (
        message_row INTEGER PRIMARY KEY REFERENCES messages(id),
        who         TEXT NOT NULL,
        why         TEXT NOT NULL,
        via         TEXT NOT NULL,
        at          TEXT NOT NULL
    );
    """,
    # 5: a delivery report is believed only for the bot's own mail (issue 13): each
    # report is judged once, per failed address, against the mail the outbox sent
    # (its Message-ID and recipients). Reports recorded before were believed
    # blindly: they are judged again (from the archived mail) at the next run.
    """
    CREATE TABLE bounce_verdicts (
        message_row INTEGER NOT NULL REFERENCES messages(id),
        address     TEXT NOT NULL,
        believed    INTEGER NOT NULL,
        outbox_id   INTEGER REFERENCES outbox(id),
        reason      TEXT NOT NULL,
        PRIMARY KEY (message_row, address)
    );
    CREATE INDEX bounce_verdicts_address ON bounce_verdicts(address, believed);
    CREATE INDEX messages_bounce_reports ON messages(received_at, id) WHERE bounces NOT IN ('', '[]');
    DELETE FROM bounce_messages;
    DELETE FROM bounces;
    """,
    # 6: blame only a proven cause (issue 13). ``attempts`` now counts only the
    # message's own failures; ``inflight`` is the durable mark of a message
    # being handled: 'batch' (with others), 'alone' (the main process works
    # on its content with nothing else in flight: dying then is its fault),
    # 'resumed' (it was in flight when the bot last died: handled alone
    # next, not charged); ``resumed`` counts those resumptions (health).
    # Before, every death charged every message in flight: attempts of
    # waiting messages with no recorded error were such charges, so they are
    # forgiven and the messages resumed.
    """
    ALTER TABLE messages ADD COLUMN inflight TEXT;
    ALTER TABLE messages ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0;
    UPDATE messages SET inflight = 'resumed', resumed = 1, attempts = 0
        WHERE status = 'new' AND attempts > 0 AND last_error IS NULL;
    CREATE INDEX messages_inflight ON messages(inflight) WHERE inflight IS NOT NULL;
    """,
    # 7: official copies (issue 16). ``items.evidence``: the JSON of the
    # item's official-copy evidence; NULL for items recorded before (not
    # checked, never "unofficial"). The coordinator settles an undecided copy
    # with the correction kinds 'official' / 'not_official': corrections is
    # rebuilt to widen its CHECK (SQLite cannot alter one), keeping every row
    # and its id (commands.correction_id refers to it).
    """
    ALTER TABLE items ADD COLUMN evidence TEXT;
    CREATE TABLE corrections_new (
        id        INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL CHECK (kind IN ('assign', 'reject', 'received', 'exempt', 'unexempt', 'extend',
                                                'official', 'not_official')),
        item_id   INTEGER REFERENCES items(id),
        school    TEXT,
        doc_type  TEXT,
        cycle     INTEGER NOT NULL,
        value     TEXT,
        who       TEXT NOT NULL,
        why       TEXT NOT NULL,
        via       TEXT NOT NULL,
        at        TEXT NOT NULL
    );
    INSERT INTO corrections_new (id, kind, item_id, school, doc_type, cycle, value, who, why, via, at)
        SELECT id, kind, item_id, school, doc_type, cycle, value, who, why, via, at FROM corrections;
    DROP TABLE corrections;
    ALTER TABLE corrections_new RENAME TO corrections;
    """,
    # 8: one time format. Every
    # time is kept as UTC ISO-8601 text (``clock.utc``); before,
    # most kept the offset they were given (a mail's Date header, the
    # server's INTERNALDATE, ``--now``), so ``ORDER BY received_at`` sorted
    # text of mixed offsets. Each value with an offset is rewritten as the
    # same instant in UTC, its fraction of a second kept (SQLite reads the
    # offset; the fraction is cut off first so that it is not rounded).
    # Values of any other form (none are written) are left as they are.
    # Filters "as of --now" are then done in SQL, on an index of received_at.
    ";\n".join(_utc_times(table, column) for table, column in (
        ("checkpoints", "updated_at"), ("messages", "received_at"), ("messages", "fetched_at"),
        ("messages", "processed_at"), ("items", "received_at"), ("items", "classified_at"),
        ("extractions", "created_at"), ("corrections", "at"), ("marks", "at"), ("threads", "created_at"),
        ("bounces", "first_at"), ("bounces", "last_at"), ("outbox", "created_at"), ("outbox", "queued_at"),
        ("outbox", "next_attempt_at"), ("outbox", "sent_at"), ("command_mails", "received_at"),
        ("command_mails", "handled_at"), ("commands", "at"), ("dismissals", "at")))
    # "as of --now" is a filter on received_at in SQL (the loop and flood check reads only the last hours)
    + ";\nCREATE INDEX messages_received ON messages(received_at)",
    # 9: why an item is in review or ignored, typed (``bot.model.ReasonCode``); the digest groups and
    # words the review queue by it. NULL for rows recorded before: the digest
    # then reads their reasons' wording.
    """
    ALTER TABLE items ADD COLUMN reason_code TEXT;
    """,
    # 10: the parts of each outbox key as columns (``bot.mailkey.MailKey``), so that no code takes
    # the key's text apart. The text stays the UNIQUE key (a decision is still queued once). Rows
    # before are filled from their key's text (the school and cycle too: the row's own columns are
    # bookkeeping); a receipt given back (``#cancelled-N`` after its key) keeps its key's parts.
    """
    ALTER TABLE outbox ADD COLUMN key_kind TEXT;
    ALTER TABLE outbox ADD COLUMN key_school TEXT;
    ALTER TABLE outbox ADD COLUMN key_cycle INTEGER;
    ALTER TABLE outbox ADD COLUMN key_slot TEXT;
    ALTER TABLE outbox ADD COLUMN key_deadline TEXT;
    ALTER TABLE outbox ADD COLUMN key_ref TEXT;
    UPDATE outbox SET key_kind = substr(key, 1, instr(key, ':') - 1),
                      key_ref = substr(key, instr(key, ':') + 1) WHERE instr(key, ':') > 0;
    -- key_ref holds the text after the kind: take the school, then the cycle off it
    UPDATE outbox SET key_school = substr(key_ref, 1, instr(key_ref, ':') - 1),
                      key_ref = substr(key_ref, instr(key_ref, ':') + 1)
        WHERE key_kind IN ('receipt', 'receipt-to-sender', 'reminder');
    UPDATE outbox SET key_cycle = CAST(substr(key_ref, 1, instr(key_ref, ':') - 1) AS INTEGER),
                      key_ref = substr(key_ref, instr(key_ref, ':') + 1)
        WHERE key_kind IN ('receipt', 'receipt-to-sender', 'reminder', 'digest', 'report');
    UPDATE outbox SET key_cycle = cycle WHERE key_kind = 'reply';
    UPDATE outbox SET key_slot = substr(key_ref, 1, instr(key_ref, ':') - 1),
                      key_deadline = substr(key_ref, instr(key_ref, ':') + 1), key_ref = NULL
        WHERE key_kind = 'reminder';
    UPDATE outbox SET key_slot = key_ref, key_ref = NULL WHERE key_kind IN ('digest', 'report');
    UPDATE outbox SET key_ref = substr(key_ref, 1, instr(key_ref, '#cancelled-') - 1)
        WHERE key_kind = 'receipt' AND instr(key_ref, '#cancelled-') > 0;
    """,
)
