-- 0011 (issue 17): caseloads. Which children each device works with, and
-- each child's visiting plan.
--
-- * `caseload_assignments`: a child (any of its references, as given) is
--   assigned to a worker (`kind = 'worker'`: an enrolment's worker or one
--   of its staff) or to a group (`kind = 'group'`: a nursery room, a
--   school class). Unassigning deletes the row; the register log keeps the
--   history (who, when, what).
-- * `device_groups`: which groups a device is in (a room's shared
--   tablets).
-- * `visit_plans`: a child's home visit every so many working days
--   (Monday to Friday), with the plan's label for the alerts line; one
--   plan per child, replaced by a new one, deleted when ended.
--
-- Every change is written to `register_log` (0010) in the same
-- transaction, by `store::sqlite::caseload`.
CREATE TABLE caseload_assignments (
    child    TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('worker', 'group')),
    assignee TEXT NOT NULL,
    at       INTEGER NOT NULL,
    by       TEXT NOT NULL,
    PRIMARY KEY (child, kind, assignee)
) WITHOUT ROWID;
CREATE INDEX caseload_assignments_to ON caseload_assignments (kind, assignee);

CREATE TABLE device_groups (
    device BLOB NOT NULL,
    grp    TEXT NOT NULL,
    at     INTEGER NOT NULL,
    by     TEXT NOT NULL,
    PRIMARY KEY (device, grp)
) WITHOUT ROWID;

CREATE TABLE visit_plans (
    child              TEXT PRIMARY KEY,
    every_working_days INTEGER NOT NULL CHECK (every_working_days BETWEEN 1 AND 60),
    label              TEXT NOT NULL,
    since              INTEGER NOT NULL,
    by                 TEXT NOT NULL
) WITHOUT ROWID;
