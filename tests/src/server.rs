//! [`Server`]: a running `hearth-server` on loopback with its own data
//! directory, and its administration commands.
//!
//! On either backend (`HEARTH_TEST_BACKEND`, see `hearth-testpg`): with
//! PostgreSQL each server's store is a fresh database of the test cluster,
//! given to `serve` and every administration command as `HEARTH_DATABASE`.
//! Several instances of one partnership ([`Server::start_instance_of`]) and
//! other partnerships in one database ([`Server::start_partnership`]) need
//! PostgreSQL whatever the backend: start the first with
//! `Server::start_partnership(&hearth_testpg::cluster().fresh_database(),
//! "default")` after checking `hearth_testpg::available()`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::bins;

/// A `hearth-server` data directory, and the process serving it if running.
pub struct Server {
    data: PathBuf,
    process: Option<Child>,
    addr: Option<SocketAddr>,
    fingerprint: Option<String>,
    extra_args: Vec<String>,
    /// Environment variables `serve` is started with (test hooks).
    env: Vec<(String, String)>,
    /// The PostgreSQL URL of its store (`None`: SQLite in `data`).
    database: Option<String>,
    /// The partnership served (`None`: the default one).
    partnership: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// A server with a fresh temporary data directory, started.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`Server::start`], with extra `serve` arguments (limits, say).
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_with_env(extra, &[])
    }

    /// Like [`Server::start_with`], with environment variables for `serve`
    /// from its first start (test hooks such as `HEARTH_KILL_AT`).
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = private_tempdir();
        let database = hearth_testpg::database_for(dir.path());
        let mut server = Self::new(dir.path().to_path_buf(), Some(dir), database);
        server.extra_args = extra.iter().map(|s| s.to_string()).collect();
        for (k, v) in env {
            server.set_env(k, Some(v));
        }
        server.restart();
        server
    }

    /// A server not yet started: on `data`, with its store in `database`
    /// (PostgreSQL) or in `data` (SQLite).
    fn new(data: PathBuf, dir: Option<tempfile::TempDir>, database: Option<String>) -> Self {
        Self {
            data,
            process: None,
            addr: None,
            fingerprint: None,
            extra_args: Vec::new(),
            env: Vec::new(),
            database,
            partnership: None,
            _dir: dir,
        }
    }

    /// A server on an existing data directory (not removed on drop),
    /// listening on `listen`, started.
    /// On PostgreSQL, the store is the database `hearth_testpg::database_for`
    /// gives `data` (give a copied directory a copy of the database with
    /// `hearth_testpg::copy_database_for`).
    pub fn start_in(data: PathBuf, listen: SocketAddr) -> Self {
        let database = hearth_testpg::database_for(&data);
        let mut server = Self::new(data, None, database);
        server.addr = Some(listen);
        server.restart();
        server
    }

    /// A server on a private copy of the data directory `template` (a
    /// seeded one, say; copied whole, keys and certificate included, so
    /// each copy is the same server), started on a new loopback port. On
    /// PostgreSQL its database is copied too (no server may be running on
    /// `template`).
    pub fn start_copy_of(template: &Path) -> Self {
        let dir = private_tempdir();
        copy_dir(template, dir.path());
        let database = hearth_testpg::copy_database_for(template, dir.path());
        let mut server = Self::new(dir.path().to_path_buf(), Some(dir), database);
        server.restart();
        server
    }

    /// A second instance of `other`'s partnership (PostgreSQL only): a new
    /// data directory with copies of `other`'s files (receipt key, outbox
    /// key, certificate and key, `signals.toml`), the same database,
    /// partnership and `serve` arguments, started on a new loopback port.
    pub fn start_instance_of(other: &Server) -> Self {
        let database = other
            .database
            .clone()
            .expect("several instances share a PostgreSQL database: start the first on one");
        let dir = private_tempdir();
        copy_dir(&other.data, dir.path());
        let mut server = Self::new(dir.path().to_path_buf(), Some(dir), Some(database));
        server.partnership = other.partnership.clone();
        server.extra_args = other.extra_args.clone();
        server.restart();
        server
    }

    /// An instance of `partnership` in the PostgreSQL `database`, with a
    /// fresh data directory (its own keys and certificate), started.
    pub fn start_partnership(database: &str, partnership: &str) -> Self {
        let dir = private_tempdir();
        let mut server = Self::new(
            dir.path().to_path_buf(),
            Some(dir),
            Some(database.to_string()),
        );
        server.partnership = Some(partnership.to_string());
        server.restart();
        server
    }

    /// The PostgreSQL URL of its store (`None` on SQLite).
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// `hearth-server` on this server's data directory, store and
    /// partnership (whatever the test's own environment says).
    fn command(&self) -> Command {
        let mut command = Command::new(bins::path("hearth-server"));
        command
            .arg("--data")
            .arg(&self.data)
            .env("RUST_LOG", "warn");
        match &self.database {
            Some(url) => command.env(hearth_testpg::DATABASE_VAR, url),
            None => command.env_remove(hearth_testpg::DATABASE_VAR),
        };
        match &self.partnership {
            Some(p) => command.env("HEARTH_PARTNERSHIP", p),
            None => command.env_remove("HEARTH_PARTNERSHIP"),
        };
        command
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Starts (or starts again) the server, on the same address as before
    /// if it has run already.
    pub fn restart(&mut self) {
        assert!(self.process.is_none(), "the server is already running");
        let listen = self
            .addr
            .map_or_else(|| "127.0.0.1:0".to_string(), |a| a.to_string());
        let mut child = self
            .command()
            .args(["serve", "--listen", &listen])
            .args(&self.extra_args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start hearth-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut fingerprint = None;
        let addr = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("hearth-server printed `listening on` within 30 s");
            if let Some(f) = line.strip_prefix("fingerprint sha256:") {
                fingerprint = Some(f.trim().to_string());
            }
            if let Some(a) = line.strip_prefix("listening on https://") {
                break a.trim().parse::<SocketAddr>().expect("an address");
            }
        };
        self.fingerprint = fingerprint;
        self.addr = Some(addr);
        self.process = Some(child);
    }

    /// Replaces the extra `serve` arguments (limits, say), from the next
    /// [`Server::restart`] on.
    pub fn set_args(&mut self, extra: &[&str]) {
        self.extra_args = extra.iter().map(|s| s.to_string()).collect();
    }

    /// Sets (`Some`) or removes (`None`) an environment variable of
    /// `serve` (a test hook such as `HEARTH_TEST_TAMPER_CASELOAD`), from
    /// the next [`Server::restart`] on.
    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(v) = value {
            self.env.push((key.to_string(), v.to_string()));
        }
    }

    /// Kills the server with SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process ends within `timeout`: a kill point's SIGKILL
    /// closes the server's sockets before the kernel makes it a zombie, so
    /// an agent can see the connection drop a moment before `try_wait`
    /// sees the exit.
    pub fn exits_within(&mut self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if !self.is_running() {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.process {
            Some(child) => child.try_wait().unwrap().is_none(),
            None => false,
        }
    }

    /// The server process's id, while it runs (to read its memory use
    /// from `/proc`).
    pub fn pid(&self) -> u32 {
        self.process.as_ref().expect("the server is running").id()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the server has started")
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr())
    }

    /// The counter `name` of its `GET /v1/metrics` (panics if absent).
    pub fn metric(&self, name: &str) -> u64 {
        let text = crate::http::client(self.data())
            .get(format!("{}/v1/metrics", self.url()))
            .call()
            .expect("GET /v1/metrics")
            .body_mut()
            .read_to_string()
            .expect("the metrics text");
        text.lines()
            .find_map(|l| {
                let (counter, value) = l.split_once(' ')?;
                (counter == name).then(|| value.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    }

    /// The certificate fingerprint it printed, hex.
    pub fn fingerprint(&self) -> String {
        self.fingerprint
            .clone()
            .expect("the server printed its fingerprint")
    }

    /// Runs an administration command on the data directory.
    pub fn admin(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("run hearth-server")
    }

    /// Like [`Server::admin_ok`], with `input` on the command's stdin (a
    /// new password for `user passwd`, say).
    pub fn admin_with_input(&self, args: &[&str], input: &str) -> String {
        let out = bins::output_with_input(self.command().args(args), input.as_bytes());
        assert!(
            out.status.success(),
            "hearth-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Like [`Server::admin`], but the command must succeed; returns stdout.
    pub fn admin_ok(&self, args: &[&str]) -> String {
        let out = self.admin(args);
        assert!(
            out.status.success(),
            "hearth-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Issues an enrolment token.
    pub fn enrol_token(&self, agency: &str, worker: &str) -> String {
        let out = self.admin_ok(&["enrol-token", "--agency", agency, "--worker", worker]);
        last_word(&out)
    }

    /// Adds a user and returns their API token.
    pub fn add_user(&self, name: &str, role: &str) -> String {
        let out = self.admin_ok(&["user", "add", name, "--role", role]);
        last_word(&out)
    }

    /// The chronology as JSON, pulled by CLI with a reason.
    pub fn chronology_json(&self, child: &str, family: bool) -> serde_json::Value {
        let mut args = vec![
            "chronology",
            "--child",
            child,
            "--format",
            "json",
            "--reason",
            "end-to-end test",
        ];
        if family {
            args.push("--family");
        }
        serde_json::from_str(&self.admin_ok(&args)).expect("chronology JSON")
    }
}

/// A temporary directory only its owner may use: what the server requires
/// of its data directory (`tempfile` follows the umask, 0755 under 022).
pub fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .expect("a temporary directory")
}

/// Copies the directory `from` into `to` (which exists), recursively,
/// keeping each file's permissions.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the template directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            std::fs::create_dir(&target).expect("create a directory");
            std::fs::set_permissions(&target, entry.metadata().unwrap().permissions())
                .expect("copy a directory's permissions");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// The token a command printed: the last word of its output.
fn last_word(out: &str) -> String {
    out.split_whitespace()
        .last()
        .expect("the command printed a token")
        .to_string()
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
