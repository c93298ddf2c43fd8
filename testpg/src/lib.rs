//! A throwaway PostgreSQL cluster for Hearth's tests (issue 18).
//!
//! The suites run on SQLite by default and on PostgreSQL with
//! `HEARTH_TEST_BACKEND=postgres` ([`backend`]). PostgreSQL is a real server
//! from Debian's packages, not a mock: [`cluster`] starts one per test process
//! in a temporary directory on a free loopback port (`initdb` as `nobody` when
//! the tests run as root, since `initdb` refuses root), and a watchdog stops it
//! and removes the directory when the test process exits, even on a panic or a
//! kill. `HEARTH_TEST_POSTGRES_URL` (a superuser URL) uses an already running
//! server instead.
//!
//! Every test gets its own database owned by its own non-superuser role
//! ([`Cluster::fresh_database`]), so tests run in parallel without seeing each
//! other, and a server under test never runs with more rights than a
//! deployment would give it. SQL is sent with `psql` (found beside `initdb`):
//! it needs no runtime, so a `#[tokio::test]` may call these functions.
//!
//! Never a dependency of a shipped crate: dev-dependencies and `hearth-e2e`
//! only.

mod sql;
mod start;
mod url;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::url::DbUrl;

/// The variable that chooses the backend of a test run.
pub const BACKEND_VAR: &str = "HEARTH_TEST_BACKEND";
/// A superuser URL of an already running server, used instead of starting one.
pub const URL_VAR: &str = "HEARTH_TEST_POSTGRES_URL";

/// The store a test run exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    /// SQLite in the data directory (the default).
    Sqlite,
    /// PostgreSQL: a database from [`cluster`].
    Postgres,
}

/// The backend named by `HEARTH_TEST_BACKEND`: `postgres`, or `sqlite` (also
/// when unset). Anything else panics: a typo must not silently test SQLite.
pub fn backend() -> TestBackend {
    parse_backend(std::env::var(BACKEND_VAR).ok().as_deref())
}

fn parse_backend(value: Option<&str>) -> TestBackend {
    match value {
        None | Some("") | Some("sqlite") => TestBackend::Sqlite,
        Some("postgres") => TestBackend::Postgres,
        Some(other) => {
            panic!("{BACKEND_VAR}={other:?} is not a backend: set it to \"postgres\" or \"sqlite\"")
        }
    }
}

/// Whether PostgreSQL can be used: `HEARTH_TEST_POSTGRES_URL` is set or the
/// server binaries are installed. When not, it prints
/// `SKIPPED (PostgreSQL not installed): <test>` and returns false, so the
/// caller returns early; in CI (`CI=true`) a missing PostgreSQL panics instead,
/// since CI always installs it and a skipped test there would hide a failure.
pub fn available() -> bool {
    if std::env::var_os(URL_VAR).is_some() || start::bindir().is_ok() {
        return true;
    }
    let what = std::thread::current()
        .name()
        .unwrap_or("a PostgreSQL test")
        .to_owned();
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!(
            "PostgreSQL is not installed and CI=true: {what} must run in CI \
             (.ci/run installs the postgresql package)"
        );
    }
    eprintln!(
        "\n*** SKIPPED (PostgreSQL not installed): {what} ***\n    \
         install Debian's postgresql package, or set {URL_VAR}\n"
    );
    false
}

/// Whether this is the PostgreSQL pass (`HEARTH_TEST_BACKEND=postgres`)
/// and PostgreSQL can be used ([`available`]): for the scenarios that need
/// PostgreSQL whatever the backend (several instances, partnerships), which
/// would otherwise run twice when `scripts/test.sh` runs the suite on each
/// backend. In the SQLite pass it prints where they run and returns false.
pub fn postgres_pass() -> bool {
    if backend() == TestBackend::Postgres {
        return available();
    }
    let what = std::thread::current()
        .name()
        .unwrap_or("a PostgreSQL scenario")
        .to_owned();
    eprintln!(
        "SKIPPED in the SQLite pass: {what} runs in the PostgreSQL pass \
         ({BACKEND_VAR}=postgres, as scripts/test.sh runs it)"
    );
    false
}

/// The database of the test store kept in `dir` (a data directory): `None`
/// on SQLite; on PostgreSQL, a [`Cluster::fresh_database`] made on first use
/// and the same one for the same `dir` afterwards, so that every command and
/// server given `dir` reaches the same data, as on SQLite.
pub fn database_for(dir: &Path) -> Option<String> {
    if backend() == TestBackend::Sqlite {
        return None;
    }
    let mut databases = DATABASES.lock().unwrap_or_else(PoisonError::into_inner);
    let url = databases
        .get_or_insert_with(HashMap::new)
        .entry(dir.to_path_buf())
        .or_insert_with(|| cluster().fresh_database());
    Some(url.clone())
}

/// Gives `to` a copy of the database of `from` ([`Cluster::copy_database`]),
/// for a data directory copied from another (whose servers must be
/// stopped); `None` on SQLite, where copying the directory copies the store.
pub fn copy_database_for(from: &Path, to: &Path) -> Option<String> {
    let source = database_for(from)?;
    let copy = cluster().copy_database(&source);
    let mut databases = DATABASES.lock().unwrap_or_else(PoisonError::into_inner);
    databases
        .get_or_insert_with(HashMap::new)
        .insert(to.to_path_buf(), copy.clone());
    Some(copy)
}

/// The databases given to data directories so far (PostgreSQL runs).
static DATABASES: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);

/// The variable that gives `hearth-server` its PostgreSQL URL.
pub const DATABASE_VAR: &str = "HEARTH_DATABASE";

/// Points a `hearth-server --data dir` command at the test store of `dir`:
/// `HEARTH_DATABASE` set to [`database_for`] `dir` on PostgreSQL, removed on
/// SQLite (so that a variable left in the shell never changes what a test
/// exercises).
pub fn set_database<'c>(
    command: &'c mut std::process::Command,
    dir: &Path,
) -> &'c mut std::process::Command {
    match database_for(dir) {
        Some(url) => command.env(DATABASE_VAR, url),
        None => command.env_remove(DATABASE_VAR),
    }
}

/// Says on stderr that the rest of a test is skipped on PostgreSQL, and why
/// (`why`: what it inspects that only SQLite has); true when skipping.
pub fn skip_on_postgres(why: &str) -> bool {
    if backend() == TestBackend::Sqlite {
        return false;
    }
    let what = std::thread::current().name().unwrap_or("a test").to_owned();
    eprintln!("SKIPPED on PostgreSQL: {what}: {why}");
    true
}

/// The cluster of this test process, started on first use. Panics with what
/// to install when PostgreSQL is missing.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| match std::env::var(URL_VAR) {
        Ok(url) => Cluster::existing(&url),
        Err(_) => {
            start::start().unwrap_or_else(|e| panic!("cannot start PostgreSQL for the tests: {e}"))
        }
    })
}

/// A PostgreSQL server the tests may create databases and roles on.
pub struct Cluster {
    /// The superuser's URL (database `postgres`).
    admin: DbUrl,
    /// Where `psql` is.
    psql: std::path::PathBuf,
    /// Makes names unique within this process; [`Cluster::tag`] across
    /// processes.
    next: AtomicU64,
    /// Random per process: two test binaries sharing one server (or one run's
    /// leftovers) never pick the same name.
    tag: String,
}

impl Cluster {
    fn existing(url: &str) -> Self {
        let admin = DbUrl::parse(url).unwrap_or_else(|e| panic!("{URL_VAR}: {e}"));
        Self::new(admin, start::psql())
    }

    fn new(admin: DbUrl, psql: std::path::PathBuf) -> Self {
        Self {
            admin,
            psql,
            next: AtomicU64::new(0),
            tag: random_tag(),
        }
    }

    /// The superuser's URL (database `postgres`).
    pub fn admin_url(&self) -> String {
        self.admin.to_string()
    }

    /// A new database owned by a new non-superuser login role; that role's URL.
    pub fn fresh_database(&self) -> String {
        let role = self.unique("hearth_owner");
        let database = self.unique("hearth_test");
        self.admin_sql(&[
            &format!(
                "CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{role}'"
            ),
            &format!("CREATE DATABASE {database} OWNER {role}"),
        ]);
        self.admin.with(&role, &role, &database).to_string()
    }

    /// A new non-superuser role that may CONNECT to and CREATE schemas in the
    /// database of `database_url`; its URL (same database). The role's name is
    /// `role` followed by a unique suffix (role names are cluster-wide).
    pub fn role_url(&self, database_url: &str, role: &str) -> String {
        assert!(
            !role.is_empty()
                && role
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "role {role:?}: use lower-case letters, digits and _"
        );
        let database = parse(database_url).database().to_owned();
        let name = self.unique(role);
        self.admin_sql(&[
            &format!(
                "CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{name}'"
            ),
            &format!("GRANT CONNECT, CREATE ON DATABASE {database} TO {name}"),
        ]);
        self.admin.with(&name, &name, &database).to_string()
    }

    /// A copy of the database of `database_url` (`CREATE DATABASE .. TEMPLATE`),
    /// owned by the same role; the URL with the same credentials. A template
    /// must have no other connections: stop the servers using it first (their
    /// idle connections are ended if they linger).
    pub fn copy_database(&self, database_url: &str) -> String {
        let source = parse(database_url);
        let from = source.database();
        let copy = self.unique("hearth_copy");
        let owner = sql::query_one(
            &self.psql,
            &self.admin.to_string(),
            &format!("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{from}'"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!owner.is_empty(), "copy_database: no database {from}");
        let create = format!("CREATE DATABASE {copy} TEMPLATE {from} OWNER {owner}");
        let mut last = String::new();
        for _ in 0..50 {
            // A server just killed may leave its backends a moment longer.
            let terminate = format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = '{from}' AND pid <> pg_backend_pid()"
            );
            let admin = self.admin.to_string();
            match sql::query_one(&self.psql, &admin, &terminate)
                .and_then(|_| sql::run(&self.psql, &admin, &[&create]))
            {
                Ok(()) => return source.with_database(&copy).to_string(),
                Err(e) => last = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("copy_database: {last}");
    }

    /// The database of `database_url` as the superuser (for tests that look
    /// inside, whatever the schema's owner allows).
    pub fn superuser_url(&self, database_url: &str) -> String {
        self.admin
            .with_database(parse(database_url).database())
            .to_string()
    }

    /// Runs SQL statements (each its own transaction) at `url`; the error is
    /// psql's message.
    pub fn execute(&self, url: &str, statements: &[&str]) -> Result<(), String> {
        sql::run(&self.psql, url, statements)
    }

    /// The first column of the first row of `query` at `url`, as text (empty
    /// when there is no row).
    pub fn query_one(&self, url: &str, query: &str) -> Result<String, String> {
        sql::query_one(&self.psql, url, query)
    }

    fn admin_sql(&self, statements: &[&str]) {
        sql::run(&self.psql, &self.admin.to_string(), statements).unwrap_or_else(|e| panic!("{e}"));
    }

    fn unique(&self, prefix: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}_{}_{n}", self.tag)
    }
}

fn parse(url: &str) -> DbUrl {
    DbUrl::parse(url).unwrap_or_else(|e| panic!("{e}"))
}

/// 12 random hex digits (std's hasher keys are random per process).
fn random_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests;
