-- 0002: encryption at rest and local retention (issue 7).
--
-- Everything about people is sealed (XChaCha20-Poly1305 under the data
-- key, the row's table and seq bound in as associated data; see
-- src/seal.rs and docs/security.md):
--
-- - records.sealed: the signed bytes; NULL once purged.
-- - record_status.reason_sealed: the server's reason; NULL when none.
-- - record_children.tag: a keyed blind index of each child reference
--   (HMAC-SHA256 under a key derived from the data key, 128 bits), so
--   `list --child` works with no plaintext child column.
--
-- Left in the clear, on purpose: seq, chain hash, capture time, status,
-- timestamps, receipts (server-signed ranges and hashes), device and
-- registration settings (agency code, worker id, server URL).
--
-- The 0001 tables held plaintext bodies. This migration only runs on a
-- store with no records (the program refuses an older store that has
-- some: it cannot encrypt without a passphrase), so the tables are
-- rebuilt rather than altered.
--
-- Records stay append-only. The one change allowed is the purge: a
-- synced record covered by a kept receipt may have its sealed body
-- replaced by NULL, with purged_at set; seq, hash and capture time stay,
-- so the chain head is still known. The triggers enforce exactly that.

DROP TRIGGER records_are_immutable;
DROP TRIGGER records_are_never_deleted;
DROP INDEX record_status_by_status;
DROP TABLE record_status;
DROP TABLE records;

CREATE TABLE records (
    seq          INTEGER PRIMARY KEY CHECK (seq >= 1),
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    sealed       BLOB    CHECK (sealed IS NULL OR length(sealed) > 40),
    captured_at  INTEGER NOT NULL,
    purged_at    INTEGER,
    CHECK ((sealed IS NULL) = (purged_at IS NOT NULL))
);

CREATE TRIGGER records_are_immutable BEFORE UPDATE ON records
WHEN NOT (
    NEW.seq = OLD.seq
    AND NEW.hash = OLD.hash
    AND NEW.captured_at = OLD.captured_at
    AND OLD.sealed IS NOT NULL AND NEW.sealed IS NULL
    AND OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM record_status s
                WHERE s.seq = OLD.seq AND s.status = 'synced')
    AND EXISTS (SELECT 1 FROM receipts r
                WHERE r.first_seq <= OLD.seq AND OLD.seq <= r.last_seq)
)
BEGIN
    SELECT RAISE(ABORT, 'records are immutable; write an amendment (only a synced record with a receipt may be purged)');
END;

CREATE TRIGGER records_are_never_deleted BEFORE DELETE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are never deleted; purging keeps the row');
END;

CREATE TABLE record_status (
    seq            INTEGER PRIMARY KEY REFERENCES records (seq),
    status         TEXT    NOT NULL
                   CHECK (status IN ('pending', 'synced', 'rejected', 'quarantined')),
    reason_sealed  BLOB,
    updated_at     INTEGER NOT NULL
);

CREATE INDEX record_status_by_status ON record_status (status, seq);

CREATE TABLE record_children (
    tag  BLOB    NOT NULL CHECK (length(tag) = 16),
    seq  INTEGER NOT NULL REFERENCES records (seq),
    PRIMARY KEY (tag, seq)
) WITHOUT ROWID;

CREATE INDEX record_children_by_seq ON record_children (seq);
