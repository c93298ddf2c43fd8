//! Where the built `hearth-server` and `hearth-agent` binaries are (in
//! `target/<profile>/`, beside a binary such as `soak` or above a test
//! executable's `deps/` folder), a guarantee that they were built with
//! their test hooks, and [`output_with_input`], a run with its stdin fed.
//!
//! The tests need the `test-hooks` cargo feature of both binaries
//! (`HEARTH_CLOCK_SKEW_SECS`, `HEARTH_FAULT`); no release build has it.
//! `cargo test --workspace` builds the binaries with it: this crate's
//! dev-dependencies ask for the feature, and feature unification turns it
//! on for the binaries built in that invocation. `cargo test -p hearth-e2e`
//! alone builds no binaries, and a plain `cargo build` leaves binaries
//! without hooks in the same place; so before the first use [`path`]
//! checks that each binary names its hook (the same check, inverted, that
//! `scripts/no-test-hooks.sh` makes of release binaries) and, if one is
//! missing or has no hooks, builds both with the feature.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Each binary, and test hooks' variable names that only a build with
/// the `test-hooks` feature contains (`HEARTH_KILL_AT`, the kill points,
/// also tells a binary built before them from a current one).
const HOOKED: [(&str, &[&str]); 2] = [
    (
        "hearth-agent",
        &["HEARTH_CLOCK_SKEW_SECS", "HEARTH_KILL_AT"],
    ),
    ("hearth-server", &["HEARTH_FAULT", "HEARTH_KILL_AT"]),
];

/// Runs `cmd` with `input` on its stdin and its stdout and stderr
/// captured (a record's JSON for `record --json -`, a password for
/// `user passwd`); its output once it has exited, however it ended.
pub fn output_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input)
        .expect("write the command's stdin");
    child.wait_with_output().expect("wait for the binary")
}

/// The path of the workspace binary `name`, built with its test hooks.
pub fn path(name: &str) -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(ensure_hooked).join(name)
}

/// `target/<profile>/`, where cargo put the workspace's binaries: the
/// parent of `deps/` for a test executable (`target/<profile>/deps/`), the
/// executable's own folder for a binary such as `soak`
/// (`target/<profile>/`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the executable has a path");
    let dir = exe.parent().expect("an executable lives in a folder");
    let dir = if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("deps/ lives in target/<profile>/")
    } else {
        dir
    };
    dir.to_path_buf()
}

/// The binaries that are missing or lack their test hooks.
fn unhooked(dir: &Path) -> Vec<&'static str> {
    HOOKED
        .iter()
        .filter(|(bin, hooks)| match std::fs::read(dir.join(bin)) {
            Ok(bytes) => !hooks.iter().all(|h| contains(&bytes, h.as_bytes())),
            Err(_) => true,
        })
        .map(|(bin, _)| *bin)
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Builds both binaries with `test-hooks` into `target/<profile>/` unless
/// they are already there with their hooks; returns that directory.
fn ensure_hooked() -> PathBuf {
    let dir = profile_dir();
    let missing = unhooked(&dir);
    if missing.is_empty() {
        return dir;
    }
    eprintln!("hearth-e2e: building {missing:?} with the test-hooks feature");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--bins", "--manifest-path"])
        .arg(workspace)
        .args(["-p", "hearth-agent", "-p", "hearth-sync-server"])
        // Plain `test-hooks`, for both selected packages: `hearth-agent/
        // test-hooks` would name the crates' dev-dependencies on themselves.
        .args(["--features", "test-hooks"])
        .env(
            "CARGO_TARGET_DIR",
            dir.parent().expect("target/<profile> has a parent"),
        );
    match dir.file_name().and_then(|p| p.to_str()) {
        Some("debug") => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(profile) => {
            cmd.args(["--profile", profile]);
        }
        None => panic!("{} is not a cargo profile directory", dir.display()),
    }
    let status = cmd.status().expect("run cargo build");
    assert!(
        status.success(),
        "building the binaries with test-hooks failed"
    );
    let still = unhooked(&dir);
    assert!(
        still.is_empty(),
        "{still:?} in {} still lack the test hooks; build them with `cargo build --bins -p hearth-agent -p hearth-sync-server --features test-hooks`",
        dir.display()
    );
    dir
}
