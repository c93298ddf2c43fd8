-- 0007: the sealed outbox (issue 14): sync that needs no unlock.
--
-- At capture, in the same transaction as the record, its signed bytes are
-- also sealed to the server's X25519 outbox key (X25519 + XChaCha20-
-- Poly1305, a fresh ephemeral key per record; src/outbox.rs). Only the
-- server can open a box: not this tablet, not a thief holding it. A locked
-- tablet sends the boxes (`POST /v1/outbox`) with no passphrase, and marks
-- the records synced on receipts it verifies with the pinned receipt key.
--
-- `outbox` holds only the sealed bytes, the record's seq and the box's
-- size: nothing a thief can read but sizes and counts, which `records`
-- already shows. A row goes when its record is synced or refused (by either
-- path). It is appended in seq order, like `records`: one more rightmost
-- leaf page per capture.
--
-- `outbox_key` is the server's X25519 public key, pinned at enrolment or
-- from a sync response signed with the pinned receipt key. Until a key is
-- pinned there is no outbox: records go by the unlocked path only, and are
-- sealed into the outbox when the key arrives and the store is unlocked.

CREATE TABLE outbox_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key        BLOB    NOT NULL CHECK (length(key) = 32),
    pinned_at  INTEGER NOT NULL
);

CREATE TABLE outbox (
    seq     INTEGER PRIMARY KEY REFERENCES records (seq),
    sealed  BLOB    NOT NULL,
    size    INTEGER NOT NULL CHECK (size = length(sealed))
);
