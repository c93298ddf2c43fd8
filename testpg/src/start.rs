//! Finding Debian's PostgreSQL binaries and starting a throwaway cluster.
//!
//! Debian keeps the server binaries off `PATH` in
//! `/usr/lib/postgresql/<version>/bin`; `pg_config --bindir` names that
//! directory when the client development files are installed. The cluster
//! lives in a temporary directory: `initdb` (as `nobody` via `runuser` when we
//! are root, because `initdb` refuses root), then `postgres` itself (not
//! `pg_ctl`'s service logic) on a free loopback port with its unix socket in
//! that directory, trust authentication, and the default durability settings
//! (`fsync` stays on: the crash tests depend on it). A watchdog shell loop
//! stops the server with SIGINT (fast shutdown) once the test process is gone,
//! then removes the directory.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Cluster;
use crate::url::DbUrl;

/// How long the server may take to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// Every e2e server has a pool; many run at once.
const MAX_CONNECTIONS: &str = "max_connections=400";

/// The directory of `initdb` and `postgres`.
pub(crate) fn bindir() -> Result<PathBuf, String> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        "PostgreSQL is not installed (no initdb from `pg_config --bindir` or in \
         /usr/lib/postgresql/*/bin): apt-get install postgresql"
            .to_owned()
    })
}

/// `psql` beside `initdb`, else from `PATH`.
pub(crate) fn psql() -> PathBuf {
    bindir()
        .map(|dir| dir.join("psql"))
        .ok()
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// Starts a cluster that lives as long as this process.
pub(crate) fn start() -> Result<Cluster, String> {
    let bin = bindir()?;
    let dir = tempfile::Builder::new()
        .prefix("hearth-pg-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?
        .keep();
    let owner = as_nobody_if_root(&dir)?;
    let data = dir.join("data");
    init(&bin, &data, owner)?;
    let port = free_port()?;
    let log_path = dir.join("postgres.log");
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(&dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", MAX_CONNECTIONS])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        // Not in the test's process group: a Ctrl-C reaches the test, and the
        // watchdog then shuts the server down in order.
        .process_group(0);
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    let mut server = command
        .spawn()
        .map_err(|e| format!("cannot run postgres: {e}"))?;
    watchdog(server.id(), &dir)?;
    let admin = DbUrl::parse(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))?;
    let cluster = Cluster::new(admin, psql());
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!(
                "postgres exited ({status}): {}",
                log_tail(&log_path)
            ));
        }
        match cluster.query_one(&cluster.admin_url(), "SELECT 1") {
            Ok(one) if one == "1" => return Ok(cluster),
            Ok(_) | Err(_) if started.elapsed() < READY_WITHIN => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Ok(other) => return Err(format!("postgres answered {other:?} to SELECT 1")),
            Err(e) => {
                let _ = server.kill();
                return Err(format!(
                    "postgres did not accept connections within 30 s: {e}; {}",
                    log_tail(&log_path)
                ));
            }
        }
    }
}

/// When we are root, hands `dir` to `nobody` and returns its ids.
fn as_nobody_if_root(dir: &Path) -> Result<Option<(u32, u32)>, String> {
    // The directory was just made by this process: its owner is our user.
    let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if meta.uid() != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    let ids = passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"nobody") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .ok_or("running as root and there is no user nobody to run initdb as")?;
    std::os::unix::fs::chown(dir, Some(ids.0), Some(ids.1))
        .map_err(|e| format!("chown {}: {e}", dir.display()))?;
    Ok(Some(ids))
}

fn init(bin: &Path, data: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
    let initdb = bin.join("initdb");
    let mut command = match owner {
        Some(_) => {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "nobody", "--"]).arg(&initdb);
            runuser
        }
        None => Command::new(&initdb),
    };
    // -N: initdb's own final fsync only; the server keeps fsync on.
    command
        .arg("-D")
        .arg(data)
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ])
        .stdin(Stdio::null());
    let out = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", initdb.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "initdb failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A port the kernel just gave out on loopback (bound, then released).
fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("free port: {e}"))
}

/// A shell loop that outlives nothing: once this process has gone (exit,
/// panic, SIGKILL) it stops the server, waits for it, and removes `dir`.
fn watchdog(server: u32, dir: &Path) -> Result<(), String> {
    const SCRIPT: &str = "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; \
         kill -INT \"$2\" 2>/dev/null; \
         i=0; while [ -e \"$3/data/postmaster.pid\" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done; \
         rm -rf \"$3\"";
    Command::new("sh")
        .args(["-c", SCRIPT, "hearth-testpg-watchdog"])
        .arg(std::process::id().to_string())
        .arg(server.to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the watchdog: {e}"))
}

fn log_tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("the server's log {} ends:\n{tail}", path.display())
}
