-- 0005: the child blind index moves into the record's own row.
--
-- A capture wrote to two b-trees: `records`, appended in seq order (the
-- same rightmost leaf page, capture after capture), and `record_children`,
-- keyed by (tag, seq). A tag is an HMAC, so each child's entry landed on an
-- effectively random leaf of `record_children`: a record naming two
-- children dirtied up to two more pages, and every dirty page is another
-- 4 KiB frame in the WAL and behind the fsync. Measured with
-- `bench/examples/wal_frames.rs`: 2.82 frames a capture (1.35 for
-- `records`, 1.48 for `record_children`) against 1.27 for a bare insert.
--
-- Now the same keyed tags (HMAC-SHA256 under the index key, 16 bytes each;
-- see src/seal.rs) are concatenated into `records.child_tags`, written in
-- the same INSERT as the record, so a capture touches `records` alone.
-- `list --child` scans the tags of every unpurged row instead of seeking
-- an index: on 10,000 records about 2.5 ms against 0.2 ms with the index
-- (a tenth of opening every record for `list`), paid only when someone
-- asks for a child's records (`benches/child_lookup.rs`). Captures now
-- write 1.33 frames each.
--
-- The tags stay keyed, never plaintext. They are now part of the immutable
-- row: the trigger below allows the purge (which must clear them, so a
-- purged record still loses its tags) and nothing else. `record_children`
-- had no such trigger.
--
-- Existing stores keep every tag: each unpurged record's rows in
-- `record_children` are copied into its `child_tags` (hex round trip, so
-- the bytes are exact), then the table is dropped. Purged records had no
-- rows there and get NULL. The trigger is dropped for the copy and
-- recreated after it, all in this migration's one transaction.

DROP TRIGGER records_are_immutable;

ALTER TABLE records ADD COLUMN child_tags BLOB
    CHECK (child_tags IS NULL
           OR (purged_at IS NULL AND length(child_tags) > 0 AND length(child_tags) % 16 = 0));

-- One pass over record_children, grouped by seq (its key starts with the
-- tag, so a lookup per record would scan the whole table each time).
UPDATE records SET child_tags = c.tags
FROM (SELECT seq, unhex(group_concat(hex(tag), '' ORDER BY tag)) AS tags
      FROM record_children GROUP BY seq) AS c
WHERE c.seq = records.seq AND records.purged_at IS NULL;

DROP TABLE record_children;

CREATE TRIGGER records_are_immutable BEFORE UPDATE ON records
WHEN NOT (
    NEW.seq = OLD.seq
    AND NEW.hash = OLD.hash
    AND NEW.captured_at = OLD.captured_at
    AND OLD.sealed IS NOT NULL AND NEW.sealed IS NULL
    AND OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
    AND NEW.child_tags IS NULL
    AND EXISTS (SELECT 1 FROM record_status s
                WHERE s.seq = OLD.seq AND s.status = 'synced')
    AND EXISTS (SELECT 1 FROM receipts r
                WHERE r.first_seq <= OLD.seq AND OLD.seq <= r.last_seq)
)
BEGIN
    SELECT RAISE(ABORT, 'records are immutable; write an amendment (only a synced record with a receipt may be purged)');
END;
