-- 0005: who may write under a device's name, and a bounded quarantine
-- (issue 11, items 1, 2 and 6).
--
-- * `device_staff`: the people allowed to author records on a shared
--   device (a nursery's door tablet), besides its enrolled worker. Ingest
--   rejects a record whose author is neither. Rows are not deleted: a
--   member taken off the list keeps the row with `removed_at` set.
-- * `enrol_tokens.staff`: the staff list a token grants with its device
--   (worker ids, one per line), copied into `device_staff` at enrolment.
-- * `quarantine.length`: the full length of the bytes received. A rejected
--   record now keeps its SHA-256 (`digest`, which finds resends), its
--   length and at most a capped prefix of its bytes in `bytes`; past the
--   device's quarantine budget, no bytes at all. Forks (genuine, validly
--   signed records) are still kept whole. Rows stored before this
--   migration keep every byte they had; their length is their bytes'.
--   A row is "metadata only" when `length > 0` and `bytes` is empty.
-- * A quarantine-budget alarm names no record: it is stored with seq 0,
--   which no record has (sequence numbers start at 1).

CREATE TABLE device_staff (
    device     BLOB NOT NULL,
    member     TEXT NOT NULL,               -- a worker id
    added_at   INTEGER NOT NULL,
    removed_at INTEGER,                     -- NULL while on the list
    PRIMARY KEY (device, member)
) WITHOUT ROWID;

ALTER TABLE enrol_tokens ADD COLUMN staff TEXT NOT NULL DEFAULT '';

ALTER TABLE quarantine ADD COLUMN length INTEGER;
UPDATE quarantine SET length = length(bytes);
