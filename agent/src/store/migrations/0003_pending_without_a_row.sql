-- 0003: a record with no row in record_status is pending.
--
-- Capture is the hot path and must cost little more than the fsync it
-- needs: every b-tree a capture touches is another page in the WAL. A
-- status row (and its index entry) for every new record doubled what a
-- capture wrote, to say only "pending". Now capture writes the record and
-- its child index; a status row is written when the server first answers
-- for the record (synced, rejected, quarantined).

DELETE FROM record_status WHERE status = 'pending';
