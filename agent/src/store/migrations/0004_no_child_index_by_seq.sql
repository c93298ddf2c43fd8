-- 0004: drop record_children_by_seq.
--
-- Only purge looked child tags up by seq, and purge can compute a record's
-- tags itself (it opens the record before dropping its body), deleting by
-- the primary key (tag, seq). Every capture was paying for this index with
-- one more page in the WAL.

DROP INDEX record_children_by_seq;
