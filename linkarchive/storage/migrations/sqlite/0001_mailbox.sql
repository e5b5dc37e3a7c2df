-- Durable mailbox: one row per message until acknowledged or dead-lettered.
CREATE TABLE mailbox (
    id            TEXT PRIMARY KEY,
    queue         TEXT NOT NULL,
    body          BLOB NOT NULL,
    msg_key       TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    enqueued_at   REAL NOT NULL,
    available_at  REAL NOT NULL,
    receipt       TEXT,
    last_error    TEXT
);
-- available_at doubles as the lease deadline while a receipt is set.
CREATE INDEX mailbox_ready ON mailbox (queue, priority, available_at);
CREATE UNIQUE INDEX mailbox_key ON mailbox (queue, msg_key) WHERE msg_key IS NOT NULL;

CREATE TABLE mailbox_dead (
    id          TEXT PRIMARY KEY,
    queue       TEXT NOT NULL,
    body        BLOB NOT NULL,
    msg_key     TEXT,
    attempts    INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    failed_at   REAL NOT NULL
);
CREATE INDEX mailbox_dead_queue ON mailbox_dead (queue, failed_at);
