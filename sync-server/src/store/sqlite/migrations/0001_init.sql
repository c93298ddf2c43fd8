-- Hearth sync server schema, version 1.
-- Records are append-only evidence: rows in `records` are never updated
-- except for the `disputed` flag a fork sets.

CREATE TABLE devices (
    id TEXT PRIMARY KEY,                 -- 16 lower-case hex
    public_key BLOB NOT NULL,
    agency TEXT NOT NULL,
    worker TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_seen INTEGER,
    clock_offset INTEGER,                -- device minus server, seconds
    last_clock_report INTEGER,           -- device time of the last accepted report
    revoked_at INTEGER,
    revoked_reason TEXT
);

CREATE TABLE enrol_tokens (
    token_hash TEXT PRIMARY KEY,         -- SHA-256 hex; the token itself is never stored
    agency TEXT NOT NULL,
    worker TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('manager', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE records (
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    prev BLOB NOT NULL,
    bytes BLOB NOT NULL,                 -- signed bytes exactly as received
    kind TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    device_time INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    corrected_time INTEGER NOT NULL,
    late_entry INTEGER NOT NULL,
    disputed INTEGER NOT NULL DEFAULT 0,
    corrects_device TEXT,                -- amendments: the record corrected
    corrects_seq INTEGER,
    PRIMARY KEY (device, seq)
);
CREATE INDEX records_corrects ON records (corrects_device, corrects_seq);

CREATE TABLE record_children (
    child TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (child, device, seq)
);
CREATE INDEX record_children_record ON record_children (device, seq);

CREATE TABLE gaps (
    device TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    PRIMARY KEY (device, from_seq)
);

CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    seq INTEGER,
    status TEXT NOT NULL CHECK (status IN ('quarantined', 'rejected')),
    reason TEXT NOT NULL,
    bytes BLOB NOT NULL,
    received_at INTEGER NOT NULL
);

CREATE TABLE alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    raised_at INTEGER NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL
);

CREATE TABLE family_links (
    child_a TEXT NOT NULL,
    child_b TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (child_a, child_b)
);

CREATE TABLE access_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    who TEXT NOT NULL,
    via TEXT NOT NULL,
    child TEXT NOT NULL,
    family INTEGER NOT NULL,
    reason TEXT NOT NULL
);
