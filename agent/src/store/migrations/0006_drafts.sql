-- 0006: drafts (issue 14). A half-filled form, saved as the worker types,
-- so that it survives a killed browser, a killed agent and a dead battery.
--
-- A draft is not a record: not signed, not chained, not synced, and it may
-- be overwritten and deleted. Its answers are sealed with the data key
-- exactly like a record body (XChaCha20-Poly1305 under the data key's AEAD
-- subkey, the slot `drafts.sealed` and the draft's id bound in as
-- associated data, so a sealed draft cannot be moved to another row or
-- column). Only the id (random) and when it was last saved are in the
-- clear: the second so that old drafts are purged on unlock by age alone.
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY CHECK (id > 0),
    saved_at INTEGER NOT NULL,
    sealed BLOB NOT NULL CHECK (length(sealed) > 0)
) STRICT;

CREATE INDEX drafts_by_age ON drafts (saved_at);
