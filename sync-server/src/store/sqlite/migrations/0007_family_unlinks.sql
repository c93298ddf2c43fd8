-- Issue 12: a record naming two children must not join their families
-- for ever.
--
-- `family_unlinks` holds an administrator's `family unlink`: a pair that no
-- record links, now or later, until an administrator links them again
-- (which deletes the row). Which record kinds link at all is decided in
-- code (chronology::family::implies_household), from `records.kind`.
--
-- `family_link_history` is the audit trail of every link and unlink: who,
-- when, which pair and the stated reason (empty for a `family link` given
-- none). Rows are only ever added. Links made before this migration have
-- no history row; they stay in `family_links`.
CREATE TABLE family_unlinks (
    child_a     TEXT NOT NULL,
    child_b     TEXT NOT NULL,
    unlinked_at INTEGER NOT NULL,
    PRIMARY KEY (child_a, child_b)
) WITHOUT ROWID;

CREATE TABLE family_link_history (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    action  TEXT NOT NULL CHECK (action IN ('link', 'unlink')),
    child_a TEXT NOT NULL,
    child_b TEXT NOT NULL,
    who     TEXT NOT NULL,
    reason  TEXT NOT NULL
);
