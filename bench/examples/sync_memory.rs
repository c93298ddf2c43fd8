//! Figure 6 evidence: where the agent's resident memory goes during a
//! backlog sync. Fills an agent store with N corpus records (default
//! 10,000) through the agent's own capture path, unlocks it once (as a
//! tablet does at the start of a shift), then runs `hearth-agent sync`
//! against the real server and prints its peak RSS (`VmHWM`) and the
//! breakdown of `/proc/PID/smaps` nearest that peak: the binary's text and
//! data pages, the heap, other anonymous memory (thread arenas and
//! stacks), the WAL index, libraries.
//!
//! ```text
//! cargo build --release -p hearth-sync-server -p hearth-agent
//! cargo run --release -p hearth-bench --example sync_memory [-- N]
//! # the same sync under a wrapper (heaptrack, valgrind --tool=massif):
//! HEARTH_SYNC_WRAP=heaptrack cargo run --release -p hearth-bench --example sync_memory
//! ```

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use hearth_agent::capture::capture_body;
use hearth_agent::clock;
use hearth_agent::store::RecordStore;
use hearth_bench::corpus::{self, Generator, SEED};
use hearth_bench::micro::bench_dir;
use hearth_bench::rss::{Watcher, render_breakdown};
use hearth_bench::server::{Server, binary};

const PASSPHRASE: &str = "hearth-bench passphrase";

/// `hearth-agent --store STORE ARGS` with a private unlock-session dir;
/// the passphrase in the environment only if `passphrase`.
fn agent(store: &Path, args: &[&str], passphrase: bool) -> anyhow::Result<Command> {
    let runtime = store.with_extension("runtime");
    std::fs::create_dir_all(&runtime)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
    }
    let wrap = std::env::var("HEARTH_SYNC_WRAP")
        .ok()
        .filter(|_| args == ["sync"]);
    let mut cmd = match &wrap {
        Some(w) => {
            let mut words = w.split_whitespace();
            let mut c = Command::new(words.next().context("HEARTH_SYNC_WRAP is empty")?);
            c.args(words).arg(binary("hearth-agent")?);
            c
        }
        None => Command::new(binary("hearth-agent")?),
    };
    cmd.env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("HEARTH_PASSPHRASE")
        .arg("--store")
        .arg(store)
        .args(args);
    if passphrase {
        cmd.env("HEARTH_PASSPHRASE", PASSPHRASE);
    }
    Ok(cmd)
}

fn run(mut cmd: Command) -> anyhow::Result<String> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn main() -> anyhow::Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse().context("N: a number of records")?,
        None => 10_000,
    };
    let tmp = tempfile::tempdir_in(bench_dir())?;
    let server = Server::start(&tmp.path().join("server"))?;
    let store = tmp.path().join("agent");
    run(agent(
        &store,
        &["init", "--agency", "HV-NORTH", "--worker", "hv.jones"],
        true,
    )?)?;
    let token = server.enrol_token()?;
    let ca = server.data.join("tls/cert.pem");
    let ca = ca.to_str().context("a UTF-8 path")?;
    run(agent(
        &store,
        &[
            "enrol",
            "--server",
            &server.url,
            "--token",
            &token,
            "--ca",
            ca,
        ],
        true,
    )?)?;
    {
        let (mut st, key) = hearth_agent::unlock::open_store(&store, PASSPHRASE)?;
        let clock = clock::from_env()?;
        let pool = corpus::child_pool(SEED, 64);
        let mut g = Generator::for_device(SEED ^ 5, key.device_id().to_string(), 1);
        for _ in 0..n {
            capture_body(&mut st, &key, &clock, g.next_body(&pool, None).body)?;
        }
        eprintln!("captured {n} records; pending {}", st.counts()?.pending);
    }
    run(agent(&store, &["unlock"], true)?)?;
    let mut cmd = agent(&store, &["sync"], false)?;
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let watcher = Watcher::with_breakdown(child.id());
    let t = std::time::Instant::now();
    let out = child.wait_with_output()?;
    let secs = t.elapsed().as_secs_f64();
    let (peak, parts) = watcher.finish_with_breakdown();
    if !out.status.success() {
        bail!("sync failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let total: u64 = parts.iter().map(|p| p.rss_kib).sum();
    println!("sync of {n} records: {secs:.2} s, peak RSS {peak} KiB");
    println!(
        "nearest the peak ({total} KiB): {}",
        render_breakdown(&parts)
    );
    Ok(())
}
