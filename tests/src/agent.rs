//! [`Agent`]: one tablet, a store directory and the `hearth-agent` binary,
//! with a chosen clock skew.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::bins;

/// The passphrase every test tablet uses.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// One tablet's store, and how to run `hearth-agent` against it.
pub struct Agent {
    store: PathBuf,
    skew_secs: i64,
    /// Extra environment variables of every run (test hooks).
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// A new, uninitialised tablet whose clock runs `skew_secs` off.
    pub fn new(skew_secs: i64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            store: dir.path().join("store"),
            skew_secs,
            env: Vec::new(),
            _dir: dir,
        }
    }

    /// The store directory.
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// A `hearth-agent` command against this store.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bins::path("hearth-agent"));
        cmd.arg("--store")
            .arg(&self.store)
            .args(args)
            .env("HEARTH_CLOCK_SKEW_SECS", self.skew_secs.to_string())
            .env("HEARTH_PASSPHRASE", PASSPHRASE)
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Sets an environment variable of every later run (a test hook such
    /// as `HEARTH_INSECURE_TEST_KDF`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Runs `hearth-agent` with `args`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run hearth-agent")
    }

    /// Runs and requires success; returns stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "hearth-agent {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Spawns `hearth-agent` without waiting.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hearth-agent")
    }

    /// `init`.
    pub fn init(&self, agency: &str, worker: &str) {
        self.run_ok(&["init", "--agency", agency, "--worker", worker]);
    }

    /// `enrol` with the server's pinned fingerprint.
    pub fn enrol(&self, url: &str, token: &str, fingerprint: &str) {
        self.run_ok(&[
            "enrol",
            "--server",
            url,
            "--token",
            token,
            "--pin",
            fingerprint,
        ]);
    }

    /// Captures a record from its JSON form; returns the record id.
    pub fn record(&self, json: &serde_json::Value) -> String {
        let out = bins::output_with_input(
            &mut self.command(&["record", "--json", "-"]),
            json.to_string().as_bytes(),
        );
        assert!(
            out.status.success(),
            "record failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `sync`; returns the exit code.
    pub fn sync(&self) -> i32 {
        self.run(&["sync"]).status.code().unwrap_or(-1)
    }

    /// `list --json`.
    pub fn list(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.run_ok(&["list", "--json"])).expect("list --json")
    }
}

impl Agent {
    /// The device id, as `status --json` shows it (16 hex digits): what
    /// `hearth-server revoke` and `caseload group --device` take.
    pub fn device_id(&self) -> String {
        let status: serde_json::Value =
            serde_json::from_str(&self.run_ok(&["status", "--json"])).expect("status --json");
        status["device_id"]
            .as_str()
            .expect("status --json has a device_id")
            .to_string()
    }
}
