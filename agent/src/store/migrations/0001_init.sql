-- 0001: the device, its records, their sync status, receipts, registration.
--
-- Records are immutable: `records` holds the signed bytes exactly as
-- signed, and triggers refuse UPDATE and DELETE. Everything that changes
-- (sync status, the server's reason) lives in `record_status`.
--
-- Plaintext is kept to one column on purpose: the signed bytes. Kind,
-- children and headline are decoded from them when listing, so that the
-- encryption-at-rest issue has one column to encrypt, not many.

CREATE TABLE device (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device_id   TEXT    NOT NULL,
    agency      TEXT    NOT NULL,
    worker      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE records (
    seq          INTEGER PRIMARY KEY CHECK (seq >= 1),
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    signed       BLOB    NOT NULL,
    captured_at  INTEGER NOT NULL
);

CREATE TRIGGER records_are_immutable BEFORE UPDATE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are immutable; write an amendment');
END;

CREATE TRIGGER records_are_never_deleted BEFORE DELETE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are never deleted');
END;

CREATE TABLE record_status (
    seq         INTEGER PRIMARY KEY REFERENCES records (seq),
    status      TEXT    NOT NULL
                CHECK (status IN ('pending', 'synced', 'rejected', 'quarantined')),
    reason      TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL
);

CREATE INDEX record_status_by_status ON record_status (status, seq);

CREATE TABLE registration (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    server_url   TEXT    NOT NULL,
    server_key   TEXT    NOT NULL,
    agency       TEXT    NOT NULL,
    worker       TEXT    NOT NULL,
    enrolled_at  INTEGER NOT NULL
);

CREATE TABLE receipts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    last_hash    BLOB    NOT NULL,
    server_time  INTEGER NOT NULL,
    signed       BLOB    NOT NULL,
    received_at  INTEGER NOT NULL
);

CREATE TABLE sync_state (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    last_sync_at          INTEGER,
    clock_offset_seconds  INTEGER
);

INSERT INTO sync_state (id, last_sync_at, clock_offset_seconds) VALUES (1, NULL, NULL);
