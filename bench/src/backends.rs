//! Figure 4 on each backend (issue 18), side by side in one run: the same
//! signed batches from four devices ingested by SQLite with one instance,
//! PostgreSQL with one instance, and PostgreSQL with two instances (each
//! device's batches alternate between them); records per second, server
//! CPU per record (the instances' CPU summed), PostgreSQL's share (the
//! CPU of the cluster's processes, from `/proc`), and the chronology pull
//! of figure 7's small child on SQLite and on PostgreSQL.
//!
//! The cluster is a throwaway one from `hearth-testpg` (or the server at
//! `HEARTH_TEST_POSTGRES_URL`); without PostgreSQL the PostgreSQL rows are
//! skipped with a note.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;

use crate::corpus::{self, Generator, SEED};
use crate::rss::process_cpu;
use crate::run::Counts;
use crate::server::{Device, Server};
use crate::size;
use crate::table::Row;

/// Devices sending at once.
pub const DEVICES: usize = 4;

/// Records per batch: the server's default maximum.
pub const INGEST_BATCH: usize = 256;

/// Each device's signed batches.
pub type Signed = Vec<(Device, Vec<Vec<Vec<u8>>>)>;

/// Signs every device's records in batches, two threads at a time, so that
/// the timed part only sends bytes. Device 0's first `c.chron_small`
/// records name `child_a` alone and device 1's first `c.chron_large` name
/// `child_b` alone (figure 7's children).
pub fn sign_batches(
    c: &Counts,
    devices: Vec<Device>,
    pool: &[String],
    child_a: &str,
    child_b: &str,
) -> Signed {
    std::thread::scope(|s| {
        let handles: Vec<_> = devices
            .into_iter()
            .enumerate()
            .map(|(i, mut d)| {
                let (per, na, nb) = (c.ingest_per_device, c.chron_small, c.chron_large);
                s.spawn(move || {
                    // Amendments correct this device's own records.
                    let mut g = Generator::for_device(
                        SEED ^ ((i as u64 + 1) * 7919),
                        d.id().to_string(),
                        1,
                    );
                    let mut batches = Vec::new();
                    let mut batch = Vec::with_capacity(INGEST_BATCH);
                    for k in 0..per {
                        let only = match i {
                            0 if k < na => Some(child_a),
                            1 if k < nb => Some(child_b),
                            _ => None,
                        };
                        batch.push(d.sign(g.next_body(pool, only).body));
                        if batch.len() == INGEST_BATCH {
                            batches.push(std::mem::take(&mut batch));
                        }
                    }
                    if !batch.is_empty() {
                        batches.push(batch);
                    }
                    (d, batches)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signer"))
            .collect()
    })
}

/// Where a run's data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    Sqlite,
    Postgres { instances: usize },
}

impl Setup {
    fn label(self) -> String {
        match self {
            Self::Sqlite => "SQLite, 1 instance".into(),
            Self::Postgres { instances: 1 } => "PostgreSQL, 1 instance".into(),
            Self::Postgres { instances } => format!("PostgreSQL, {instances} instances"),
        }
    }
}

/// One setup's ingest.
struct Ingest {
    rate: f64,
    server_cpu_per_record: f64,
    postgres_cpu_per_record: f64,
    pull: Option<(usize, f64)>,
}

/// The files every instance of a partnership shares (docs/operations.md).
fn share_keys(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to.join("tls"))?;
    for f in [
        "server.key",
        "outbox.key",
        "tls/cert.pem",
        "tls/key.pem",
        "signals.toml",
    ] {
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f))?;
        }
    }
    Ok(())
}

/// Sends every device's signed batches at once, a thread a device, each
/// device's batches in turn to `servers[k % servers.len()]` (one server:
/// all to it); returns when every upload is answered.
pub fn upload(servers: &[Server], signed: Signed) -> anyhow::Result<()> {
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = signed
            .into_iter()
            .map(|(d, batches)| {
                s.spawn(move || -> anyhow::Result<()> {
                    let clients = servers
                        .iter()
                        .map(Server::client)
                        .collect::<Result<Vec<_>, _>>()?;
                    for (k, b) in batches.into_iter().enumerate() {
                        let i = k % servers.len();
                        d.upload(&servers[i], &clients[i], b)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().expect("uploader")?;
        }
        Ok(())
    })
}

/// Starts the setup's servers under `dir`.
fn start(setup: Setup, dir: &Path, database: Option<&str>) -> anyhow::Result<Vec<Server>> {
    let first = dir.join("a");
    let env: Vec<(&str, &str)> = database
        .map(|d| ("HEARTH_DATABASE", d))
        .into_iter()
        .collect();
    let mut servers = vec![Server::start_env(&first, &env)?];
    if let Setup::Postgres { instances } = setup {
        for i in 1..instances {
            let data = dir.join(format!("i{i}"));
            std::fs::create_dir_all(&data)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))?;
            share_keys(&first, &data)?;
            servers.push(Server::start_env(&data, &env)?);
        }
    }
    Ok(servers)
}

/// The cluster's processes: the postmaster listening on `port` and its
/// children, found in `/proc`.
fn postgres_pids(port: u16) -> Vec<String> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut parent = None;
    let mut all = Vec::new();
    for p in procs.flatten() {
        let pid = p.file_name().to_string_lossy().to_string();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(p.path().join("stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let ppid = stat[close + 2..]
            .split(' ')
            .nth(1)
            .unwrap_or("")
            .to_string();
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let port_arg = port.to_string();
        if args.first().is_some_and(|a| a.ends_with(b"postgres"))
            && args
                .windows(2)
                .any(|w| w[0] == b"-p" && w[1] == port_arg.as_bytes())
        {
            parent = Some(pid.clone());
        }
        all.push((pid, ppid));
    }
    let Some(parent) = parent else {
        return Vec::new();
    };
    let mut pids: Vec<String> = all
        .into_iter()
        .filter(|(_, ppid)| *ppid == parent)
        .map(|(pid, _)| pid)
        .collect();
    pids.push(parent);
    pids
}

fn cpu_of(pids: &[String]) -> f64 {
    pids.iter().map(|p| process_cpu(p)).sum()
}

/// Ingests `signed` into a fresh `setup`; `port`: the cluster's, for its
/// CPU. Pulls `child_a`'s chronology (of about `pull_n` entries) after.
fn ingest(
    c: &Counts,
    setup: Setup,
    database: Option<&str>,
    port: Option<u16>,
    (child_a, pull_n): (&str, usize),
) -> anyhow::Result<Ingest> {
    let tmp = tempfile::tempdir_in(crate::micro::bench_dir())?;
    let servers = start(setup, tmp.path(), database)?;
    let http = servers[0].client()?;
    let pool = corpus::child_pool(SEED, 512);
    let mut devices: Vec<Device> = (0..DEVICES).map(|i| Device::new(101 + i as u8)).collect();
    for d in &mut devices {
        d.enrol(&servers[0], &http)?;
    }
    let child_b = corpus::child_pool(SEED ^ 0xB, 1).remove(0);
    let signed = sign_batches(c, devices, &pool, child_a, &child_b);
    let total: usize = signed
        .iter()
        .map(|(_, b)| b.iter().map(Vec::len).sum::<usize>())
        .sum();
    let pids: Vec<String> = servers.iter().map(|s| s.pid().to_string()).collect();
    let pg_pids = port.map(postgres_pids).unwrap_or_default();
    let (cpu0, pg0) = (cpu_of(&pids), cpu_of(&pg_pids));
    let t = Instant::now();
    upload(&servers, signed)?;
    let secs = t.elapsed().as_secs_f64();
    // Backends that started during the run count too.
    let pg_pids = port.map(postgres_pids).unwrap_or_default();
    let server_cpu = cpu_of(&pids) - cpu0;
    let pg_cpu = cpu_of(&pg_pids) - pg0;
    let pull = pull_time(&servers[0], child_a, pull_n)?;
    Ok(Ingest {
        rate: total as f64 / secs,
        server_cpu_per_record: server_cpu / total as f64,
        postgres_cpu_per_record: pg_cpu / total as f64,
        pull: Some(pull),
    })
}

/// `child`'s chronology pulled five times: its entries and the median
/// server time (`Server-Timing`).
fn pull_time(server: &Server, child: &str, expected: usize) -> anyhow::Result<(usize, f64)> {
    let token = server
        .admin(&["user", "add", "bench", "--role", "manager"])?
        .trim()
        .to_string();
    let path = format!("/v1/children/{child}/chronology?reason=benchmark%20pull&format=json");
    let mut times = Vec::new();
    let mut entries = 0;
    for _ in 0..5 {
        let (status, served, body) = server.get_timed(&path, Some(&token))?;
        if status != 200 {
            bail!("chronology GET: {status} {body}");
        }
        times.push(served.ok_or_else(|| anyhow::anyhow!("no Server-Timing header"))?);
        let v: serde_json::Value = serde_json::from_str(&body)?;
        entries = v["entries"].as_array().map_or(0, Vec::len);
    }
    if entries == 0 || entries > expected {
        bail!("the chronology of {child} has {entries} entries, expected up to {expected}");
    }
    Ok((entries, size::median(times)))
}

fn us(s: f64) -> String {
    format!("{:.1} µs", s * 1e6)
}

/// Figure 4 per backend, and figure 7's pull on each.
pub fn figure_backends(c: &Counts, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let total = DEVICES * c.ingest_per_device;
    eprintln!("figure 4 by backend: ingest of {total} records from {DEVICES} devices");
    let child_a = corpus::child_pool(SEED ^ 0xA, 1).remove(0);
    let pull = (child_a.as_str(), c.chron_small);
    let mut results = vec![(Setup::Sqlite, ingest(c, Setup::Sqlite, None, None, pull)?)];
    if hearth_testpg::available() {
        let cluster = hearth_testpg::cluster();
        let port = port_of(&cluster.admin_url());
        for instances in [1, 2] {
            let setup = Setup::Postgres { instances };
            let url = cluster.fresh_database();
            results.push((setup, ingest(c, setup, Some(&url), port, pull)?));
        }
    } else {
        eprintln!("  NOTE: PostgreSQL is not installed: its rows are skipped");
    }
    let sqlite_rate = results[0].1.rate;
    for (setup, r) in &results {
        let pg = matches!(setup, Setup::Postgres { .. });
        let (target, pass) = match setup {
            Setup::Postgres { instances: 1 } => {
                ("≥ 0.5× SQLite", Some(r.rate / sqlite_rate >= 0.5))
            }
            _ => ("(diagnostic)", None),
        };
        rows.push(Row::new(
            format!("4 ingest by backend: records/s, {}", setup.label()),
            format!("{:.0}/s", r.rate),
            format!("{sqlite_rate:.0}/s SQLite"),
            format!("{:.3}×", r.rate / sqlite_rate),
            target,
            pass,
        ));
        let share = if pg {
            format!(
                "PostgreSQL {} ({:.0} % of the total)",
                us(r.postgres_cpu_per_record),
                100.0 * r.postgres_cpu_per_record
                    / (r.postgres_cpu_per_record + r.server_cpu_per_record)
            )
        } else {
            "-".into()
        };
        rows.push(Row::new(
            format!(
                "4 ingest by backend: server CPU per record, {}",
                setup.label()
            ),
            us(r.server_cpu_per_record),
            share,
            "-",
            "(diagnostic)",
            None,
        ));
        if let Some((n, served)) = r.pull {
            let (target, pass) = if pg {
                ("≤ 50 ms", Some(served <= 0.050))
            } else {
                ("(beside PostgreSQL's)", None)
            };
            rows.push(Row::new(
                format!(
                    "7 chronology by backend: {n} entries, server time, {}",
                    setup.label()
                ),
                format!("{:.1} ms", served * 1e3),
                "-",
                format!("{:.2} of 50 ms", served / 0.050),
                target,
                pass,
            ));
        }
    }
    Ok(())
}

/// The port of a `postgres://user@host:port/db` URL.
fn port_of(url: &str) -> Option<u16> {
    let host = url.split('@').nth(1)?.split('/').next()?;
    host.rsplit(':').next()?.parse().ok()
}
