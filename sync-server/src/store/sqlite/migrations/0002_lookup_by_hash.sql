-- 0002: find records and held bytes by hash, not by scanning.
--
-- records_by_hash lets ingest recognise a resend of a record it already
-- holds even when the resend would now be refused (a lower size limit or a
-- stricter rule after an upgrade): the answer is "duplicate", never a
-- rejection of something the chronology shows.
--
-- quarantine.digest is SHA-256 of the held bytes, indexed, so checking
-- whether a refused record is already held costs an index probe instead of
-- comparing every held blob on the single writer. Rows held before this
-- migration have no digest and are still matched by their bytes.

CREATE INDEX records_by_hash ON records (device, hash);

ALTER TABLE quarantine ADD COLUMN digest BLOB;

CREATE INDEX quarantine_by_digest ON quarantine (device, digest);
