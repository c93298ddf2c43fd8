-- 0008: accounts for the manager's web app (issue 15).
--
-- * `users` is rebuilt (SQLite cannot change a CHECK in place) to admit the
--   `auditor` role (reads the access log only) and to hold a password:
--   `password_hash` is an Argon2id PHC string (`$argon2id$v=19$...`), NULL
--   until `hearth-server user passwd NAME` sets one; API tokens stay.
-- * `sessions`: one row per signed-in browser. The cookie carries a random
--   id; only its SHA-256 is stored (`id_hash`), so a copy of the database
--   signs nobody in. `csrf` is the session's own random CSRF token.
--   A session ends on sign-out, on revocation of its user, or after
--   `last_seen` is older than the idle limit. Sessions live in the
--   database, not in a server's memory, so several servers over one
--   database share them.
-- * `login_failures`: failed sign-ins, by the name tried and the source
--   address, for rate limiting (again shared by every server).
-- * `read_grants`: "break the glass". Before a child's data is shown in the
--   web app, the reader states a reason and its purpose; the grant names
--   who, which child, family or not, and expires. Each page read under it
--   is still written to `access_log` before it is served.
-- * `access_log.purpose`: the purpose stated with a reason (NULL where none
--   was asked for: rows before this migration, the command line).
-- * `access_log.children` now holds one child reference per line, not
--   separated by spaces: a local reference's id may hold a space (never a
--   line break). Rows before this migration are converted.

CREATE TABLE users_0008 (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('manager', 'admin', 'auditor')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    password_hash TEXT,
    password_set_at INTEGER
);
INSERT INTO users_0008 (name, role, token_hash, created_at, revoked_at, revoked_reason)
    SELECT name, role, token_hash, created_at, revoked_at, revoked_reason FROM users;
DROP TABLE users;
ALTER TABLE users_0008 RENAME TO users;

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,            -- SHA-256 hex of the cookie's id
    user TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    name TEXT NOT NULL,                  -- the name tried
    peer TEXT NOT NULL                   -- the source address
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_peer ON login_failures (peer, at);

CREATE TABLE read_grants (
    id TEXT PRIMARY KEY,                 -- random, 32 hex; carried in the URL
    user TEXT NOT NULL,
    child TEXT NOT NULL,
    family INTEGER NOT NULL,
    reason TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

ALTER TABLE access_log ADD COLUMN purpose TEXT;
UPDATE access_log SET children = replace(children, ' ', char(10));
