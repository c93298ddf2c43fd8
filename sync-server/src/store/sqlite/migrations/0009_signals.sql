-- 0009 (issue 16): practice signals, kept current as records arrive.
--
-- `signal_state` holds each child's computed signals (JSON, as
-- `signals::Signal` serialises) with what decides whether they are still
-- current:
--
-- * `dirty` counts changes since they were computed: the ingest
--   transaction adds 1 for every child a stored record names (and the
--   children of the record an amendment corrects), a family link or
--   unlink adds 1 for both children. A recompute reads `dirty` before it
--   reads records and writes its result only `WHERE dirty = <value read>`,
--   setting 0, so a record arriving meanwhile leaves the child stale;
-- * `recheck_at`: when the passage of time alone could change them (a
--   deadline falling due), or NULL;
-- * `config`: the fingerprint of the thresholds they were computed with.
--
-- `signal_acks` keeps every acknowledgement (who, when, the note, and the
-- evidence as it stood, a JSON array of record ids). Rows are only ever
-- added: the triggers refuse an update or a delete.
--
-- The Rust step after this script recomputes `records.detail_flags` of
-- every stored record from its bytes (ten flags were added) and marks
-- every child named by a record stale.
CREATE TABLE signal_state (
    child       TEXT PRIMARY KEY,
    dirty       INTEGER NOT NULL DEFAULT 0,
    signals     TEXT NOT NULL DEFAULT '[]',
    computed_at INTEGER,
    recheck_at  INTEGER,
    config      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE signal_acks (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    child    TEXT NOT NULL,
    rule     TEXT NOT NULL,
    by       TEXT NOT NULL,
    at       INTEGER NOT NULL,
    note     TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE INDEX signal_acks_child ON signal_acks (child, rule);

CREATE TRIGGER signal_acks_never_updated BEFORE UPDATE ON signal_acks
BEGIN
    SELECT RAISE(ABORT, 'acknowledgements are never changed');
END;

CREATE TRIGGER signal_acks_never_deleted BEFORE DELETE ON signal_acks
BEGIN
    SELECT RAISE(ABORT, 'acknowledgements are never deleted');
END;
