//! A tablet for the system figures: a real `hearth-server` in a temp dir,
//! a [`CountingProxy`] in front of it, and a real `hearth-agent` store
//! enrolled through the proxy ([`Tablet::enrol`]); a backlog captured
//! in-process through the agent's own capture path ([`capture_backlog`],
//! [`capture_each`]); and the agent binary run as a tablet runs it
//! ([`run_agent`], [`watch_agent`] with its peak RSS).
//!
//! Figure 5 (the backlog) and figure 10 (beside the CHT stack, [`crate::cht`])
//! both sync through these, so the two figures' Hearth syncs are the same
//! code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use hearth_agent::capture::capture_body;
use hearth_agent::clock;
use hearth_agent::store::{LocalRecord, RecordStore};

use crate::corpus::{self, Generator, SEED};
use crate::proxy::CountingProxy;
use crate::rss::Watcher;
use crate::server::{Server, binary};

/// The agent's passphrase (`HEARTH_PASSPHRASE`) in the tablet figures.
pub const PASSPHRASE: &str = "hearth-bench passphrase";

/// The server, the proxy in front of it, and the agent store behind it.
pub struct Tablet {
    /// The real server (stopped on drop).
    pub server: Server,
    /// Counts every byte between the agent and the server.
    pub proxy: CountingProxy,
    /// The agent's store directory.
    pub store: PathBuf,
}

impl Tablet {
    /// Starts a server under `dir/server` and a proxy in front of it, and
    /// makes an agent store in `dir/agent` (`init`, then `enrol` through
    /// the proxy, pinning the server's certificate).
    pub fn enrol(dir: &Path) -> anyhow::Result<Self> {
        let server = Server::start(&dir.join("server"))?;
        let proxy = CountingProxy::start(socket_of(&server.url)?)?;
        let store = dir.join("agent");
        run_agent(
            &store,
            &["init", "--agency", "HV-NORTH", "--worker", "hv.jones"],
        )?;
        let token = server.enrol_token()?;
        let ca = server.data.join("tls/cert.pem");
        run_agent(
            &store,
            &[
                "enrol",
                "--server",
                &format!("https://{}", proxy.addr),
                "--token",
                &token,
                "--ca",
                ca.to_str().context("a UTF-8 path")?,
            ],
        )?;
        Ok(Self {
            server,
            proxy,
            store,
        })
    }
}

/// The socket address of an `https://ADDR` URL.
pub fn socket_of(url: &str) -> anyhow::Result<SocketAddr> {
    url.strip_prefix("https://")
        .context("an https URL")?
        .parse()
        .context("a socket address")
}

/// Runs `hearth-agent --store STORE ARGS` with the passphrase; its stdout.
pub fn run_agent(store: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(binary("hearth-agent")?)
        .arg("--store")
        .arg(store)
        .args(args)
        .env("HEARTH_PASSPHRASE", PASSPHRASE)
        .output()?;
    if !out.status.success() {
        bail!(
            "hearth-agent {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Captures `n` corpus records into the agent store at `store`, in-process
/// through the agent's own keyring, store and capture path (unwrapping the
/// data key as the agent does, Argon2 once); returns their signed bytes.
/// 10,000 process starts would dominate the setup time.
pub fn capture_backlog(store: &Path, n: usize, seed: u64) -> anyhow::Result<u64> {
    capture_each(store, n, seed, |_| Ok(()))
}

/// [`capture_backlog`], handing each record to `each` as it is stored.
pub fn capture_each(
    store: &Path,
    n: usize,
    seed: u64,
    mut each: impl FnMut(&LocalRecord) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let (mut st, key) = hearth_agent::unlock::open_store(store, PASSPHRASE)?;
    let clock = clock::from_env()?;
    let pool = corpus::child_pool(SEED, 64);
    let c = st.counts()?;
    let held = c.pending + c.synced + c.rejected + c.quarantined;
    let mut g = Generator::for_device(seed, key.device_id().to_string(), held + 1);
    let mut bytes = 0u64;
    for _ in 0..n {
        let body = g.next_body(&pool, None).body;
        let record = capture_body(&mut st, &key, &clock, body)?;
        bytes += record.signed.len() as u64;
        each(&record)?;
    }
    Ok(bytes)
}

/// Runs `hearth-agent ARGS` (with `HEARTH_PASSPHRASE` if `passphrase`) and
/// returns its peak RSS in KiB.
pub fn watch_agent(store: &Path, args: &[&str], passphrase: bool) -> anyhow::Result<u64> {
    // The unlock session lives under XDG_RUNTIME_DIR: give it a private one.
    let runtime = store.with_extension("runtime");
    std::fs::create_dir_all(&runtime)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
    }
    let mut cmd = Command::new(binary("hearth-agent")?);
    cmd.env("XDG_RUNTIME_DIR", &runtime)
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("HEARTH_PASSPHRASE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if passphrase {
        cmd.env("HEARTH_PASSPHRASE", PASSPHRASE);
    }
    let child = cmd.spawn()?;
    let watcher = Watcher::start(child.id());
    let out = child.wait_with_output()?;
    let peak = watcher.finish();
    if !out.status.success() {
        bail!(
            "hearth-agent {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(peak)
}
