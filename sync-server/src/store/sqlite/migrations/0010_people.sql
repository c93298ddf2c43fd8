-- 0010 (issue 17): the people register and its log.
--
-- `people`: children and adults. A child has references in `person_refs`
-- (each reference belongs to at most one person: the primary key), a
-- name, a date of birth or an expected date of delivery (midnight UTC),
-- and a sex if recorded; an adult has a name.
--
-- `relations`: an adult's relationship to a child (one per pair; a new
-- one replaces it).
--
-- `memberships`: who lived in which household, from when until when
-- (inclusive, midnight UTC; `until_at` NULL while they live there). One
-- current membership per household and person.
--
-- `identity_links`: two references an administrator said name the same
-- child, the pair in a fixed order (`ref_a < ref_b`), with who, when and
-- why. An unlink deletes the row; the register log keeps both.
--
-- `register_log`: every change and every read of the register (who, when,
-- what, why). Rows are only ever added: the triggers refuse an update or
-- a delete.
CREATE TABLE people (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    child    INTEGER NOT NULL CHECK (child IN (0, 1)),
    name     TEXT NOT NULL,
    born     INTEGER,
    expected INTEGER,
    sex      TEXT CHECK (sex IN ('female', 'male', 'indeterminate')),
    added_at INTEGER NOT NULL
);

CREATE TABLE person_refs (
    ref    TEXT PRIMARY KEY,
    person INTEGER NOT NULL REFERENCES people (id)
) WITHOUT ROWID;
CREATE INDEX person_refs_person ON person_refs (person);

CREATE TABLE relations (
    adult        INTEGER NOT NULL REFERENCES people (id),
    child        INTEGER NOT NULL REFERENCES people (id),
    relationship TEXT NOT NULL,
    PRIMARY KEY (adult, child)
) WITHOUT ROWID;

CREATE TABLE memberships (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    household TEXT NOT NULL,
    person    INTEGER NOT NULL REFERENCES people (id),
    from_at   INTEGER NOT NULL,
    until_at  INTEGER,
    CHECK (until_at IS NULL OR until_at >= from_at)
);
CREATE UNIQUE INDEX memberships_current ON memberships (household, person) WHERE until_at IS NULL;
CREATE INDEX memberships_person ON memberships (person);

CREATE TABLE identity_links (
    ref_a  TEXT NOT NULL,
    ref_b  TEXT NOT NULL,
    at     INTEGER NOT NULL,
    who    TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (ref_a, ref_b),
    CHECK (ref_a < ref_b)
) WITHOUT ROWID;

CREATE TABLE register_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    who    TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TRIGGER register_log_never_updated BEFORE UPDATE ON register_log
BEGIN
    SELECT RAISE(ABORT, 'the register log is never changed');
END;

CREATE TRIGGER register_log_never_deleted BEFORE DELETE ON register_log
BEGIN
    SELECT RAISE(ABORT, 'the register log is never deleted from');
END;
