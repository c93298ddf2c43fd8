//! Figure 10: Hearth beside the CHT stack (issue 20, target 3), on the same
//! records in the same run.
//!
//! ## What runs
//!
//! 1. A [`Tablet`] (the real server behind a counting proxy, a real agent
//!    store enrolled through it) captures the backlog: `Counts::backlog`
//!    records (10,000 in the full run) through the agent's own capture
//!    path, exactly as figure 5 does. Each record, as stored, is converted
//!    to the document a CHT deployment would store for it ([`cht_doc`]) and
//!    written as one line of an NDJSON file.
//! 2. `npm ci` installs `bench/cht/` (PouchDB 9, express-pouchdb 4, their
//!    committed `package-lock.json`) into a scratch directory under
//!    [`bench_dir`], never into the repository. Without `node` and `npm` on
//!    `PATH`, or when the install fails (offline), the figure is a row that
//!    says so and nothing else runs.
//! 3. `node cht.js serve` starts express-pouchdb on 127.0.0.1, plain HTTP,
//!    its databases in leveldb (PouchDB's node default, as pouchdb-server
//!    uses). A second [`CountingProxy`] sits in front of it. `node cht.js
//!    replicate` loads the NDJSON into a local PouchDB (leveldb, the
//!    tablet's own storage; not timed), then, after the bench has zeroed
//!    the proxy's counters, pushes it to the server through the proxy with
//!    `PouchDB.replicate(local, remote)` and default options (batch_size
//!    100), as CHT's webapp pushes its reports. Its time is the replicate
//!    call alone, measured inside node (node's start and the local load are
//!    left out). The server's `doc_count` is checked afterwards, directly,
//!    not through the proxy.
//! 4. The agent then syncs the same records: `unlock` (Argon2id, once a
//!    shift; not timed), then `hearth-agent sync` timed from process start
//!    to exit, bytes counted by the tablet's proxy, and `status` must show
//!    every record synced.
//!
//! ## The mapping ([`cht_doc`])
//!
//! A CHT app form's submission is a `data_record` report. For each Hearth
//! record:
//!
//! | CHT field | from the Hearth record |
//! | --- | --- |
//! | `_id` | a version-4-shaped UUID made from the first 16 bytes of the record's chain hash (unique per record, deterministic) |
//! | `type` | `"data_record"` |
//! | `form` | the record's kind (`home_visit`, `concern`, ...) |
//! | `reported_date` | the device time of capture, in milliseconds since the epoch (CHT's unit) |
//! | `contact` | `{"_id": UUID of the author, "parent": {"_id": UUID of the agency}}`: CHT's reference to the submitting person and their place; the UUIDs are derived from the names ([`name_uuid`]) |
//! | `fields` | every field of the record's body in its documented JSON form (`hearth_shared::json::body_to_json`: `children`, `occurred_at`, `headline`, `author`, `agency` and the kind's own fields) except `kind`, which is `form` |
//!
//! Nothing of the record's content is left out: `form` plus `fields` parse
//! back to the same body (the test below). What a CHT document does not
//! carry is Hearth's envelope: device id, sequence number, previous hash
//! and the 64-byte signature (CHT has no per-device chain or signature).
//! What it also leaves out, in PouchDB's favour, is what CHT's forms add
//! to a real report: the form's XML as an attachment, `meta`, `inputs`,
//! `hidden_fields` and the geolocation log.
//!
//! ## Not like for like
//!
//! The rows say it too: Hearth's sync verifies every record's signature
//! and chain on the server, pins the server's TLS certificate, encrypts
//! its store, and writes and checks a signed receipt; PouchDB runs over
//! plain HTTP with no signatures. Hearth's time includes the agent
//! process's start; PouchDB's is the replicate call alone.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use hearth_agent::store::LocalRecord;
use hearth_shared::json::body_to_json;
use hearth_shared::{Body, Timestamp};
use serde_json::{Value, json};

use crate::corpus::{SEED, SplitMix64};
use crate::micro::bench_dir;
use crate::proxy::CountingProxy;
use crate::run::Counts;
use crate::table::Row;
use crate::tablet::{Tablet, capture_each, run_agent, watch_agent};

/// `bench/cht/package.json`: PouchDB 9 and express-pouchdb 4, pinned.
const PACKAGE_JSON: &str = include_str!("../cht/package.json");
/// Its lock file: `npm ci` installs exactly these versions.
const PACKAGE_LOCK: &str = include_str!("../cht/package-lock.json");
/// The node script (both roles: `serve` and `replicate`).
const SCRIPT: &str = include_str!("../cht/cht.js");

/// The database CHT's webapp replicates to.
const DB: &str = "medic";

/// The time target: Hearth at most this fraction of PouchDB's time.
pub const TIME_TARGET: f64 = 0.1;
/// The bytes target: Hearth at most this fraction of PouchDB's bytes.
pub const BYTES_TARGET: f64 = 0.33;

/// Every row's name starts with this.
const FIGURE: &str = "10 vs CHT";

/// A UUID in the version-4 layout (version nibble 4, variant 10) from 16
/// bytes.
pub fn uuid(bytes: [u8; 16]) -> String {
    let mut b = bytes;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A deterministic UUID for a name (`kind` keeps a worker and an agency of
/// the same spelling apart): FNV-1a of both seeds a [`SplitMix64`].
pub fn name_uuid(kind: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.bytes().chain([0]).chain(name.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = SplitMix64::new(h);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    uuid(bytes)
}

/// The CHT `data_record` for a record whose chain hash is `hash`, captured
/// at `reported` (device time), with `body` (see the module docs).
pub fn cht_doc(hash: &[u8; 32], reported: Timestamp, body: &Body) -> Value {
    let mut fields = body_to_json(body);
    if let Some(obj) = fields.as_object_mut() {
        obj.remove("kind");
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&hash[..16]);
    json!({
        "_id": uuid(id),
        "type": "data_record",
        "form": body.detail.kind().as_str(),
        "reported_date": reported.seconds() * 1000,
        "contact": {
            "_id": name_uuid("person", body.author.as_str()),
            "parent": {"_id": name_uuid("place", body.agency.as_str())},
        },
        "fields": fields,
    })
}

/// [`cht_doc`] of a stored record.
pub fn cht_doc_of(record: &LocalRecord) -> anyhow::Result<Value> {
    let env = record
        .envelope()
        .map_err(|e| anyhow::anyhow!("decoding a captured record: {e:?}"))?;
    Ok(cht_doc(&record.hash.0, env.device_time, &env.body))
}

/// A row saying the figure did not run, and why.
fn skipped(why: impl Into<String>) -> Row {
    Row::new(
        format!("{FIGURE}: skipped"),
        why,
        "-",
        "-",
        format!("≤ {TIME_TARGET}× time, ≤ {BYTES_TARGET}× bytes"),
        None,
    )
}

/// `NAME --version`, if it runs.
fn tool_version(name: &str) -> Option<String> {
    let out = Command::new(name).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The installed npm packages.
struct Npm {
    /// Where `node_modules` and `cht.js` are.
    dir: PathBuf,
    /// What was installed, for the table: `pouchdb 9.0.0, ...; node ..., npm ...`.
    versions: String,
}

/// Writes `bench/cht/` into `dir` and runs `npm ci` there. `Err` is the
/// reason to skip the figure (the install's last lines).
fn install(dir: &Path) -> Result<Npm, String> {
    let (Some(node), Some(npm)) = (tool_version("node"), tool_version("npm")) else {
        return Err("node and npm are not both on PATH".into());
    };
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text);
    std::fs::create_dir_all(dir)
        .and_then(|()| write("package.json", PACKAGE_JSON))
        .and_then(|()| write("package-lock.json", PACKAGE_LOCK))
        .and_then(|()| write("cht.js", SCRIPT))
        .map_err(|e| format!("writing {}: {e}", dir.display()))?;
    eprintln!("  npm ci in {} (node {node}, npm {npm})", dir.display());
    // No install scripts: leveldown loads its prebuilt binary at run time.
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .args(["--loglevel=error", "--fetch-retries=1"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("npm ci did not start: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        return Err(format!(
            "npm ci failed (offline?): {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    let version = |pkg: &str| {
        std::fs::read_to_string(dir.join("node_modules").join(pkg).join("package.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .and_then(|v| v["version"].as_str().map(str::to_string))
            .unwrap_or_else(|| "?".into())
    };
    let versions = format!(
        "pouchdb {}, express-pouchdb {}, leveldown {}, express {}; node {node}, npm {npm}",
        version("pouchdb"),
        version("express-pouchdb"),
        version("leveldown"),
        version("express"),
    );
    Ok(Npm {
        dir: dir.to_path_buf(),
        versions,
    })
}

/// A node process, killed if still running when dropped.
struct Node {
    child: Child,
    out: BufReader<ChildStdout>,
    stdin: Option<ChildStdin>,
}

impl Node {
    /// `node cht.js ARGS` in `npm.dir`, stdout (and stdin) piped.
    fn start(npm: &Npm, args: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new("node")
            .arg("cht.js")
            .args(args)
            .current_dir(&npm.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting node")?;
        let out = BufReader::new(child.stdout.take().context("node's stdout")?);
        let stdin = child.stdin.take();
        Ok(Self { child, out, stdin })
    }

    /// The next line the script prints, as JSON.
    fn line(&mut self) -> anyhow::Result<Value> {
        let mut line = String::new();
        if self.out.read_line(&mut line)? == 0 {
            bail!("node cht.js ended early (its error is above)");
        }
        serde_json::from_str(&line).with_context(|| format!("node cht.js printed {line:?}"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One side's sync: time and bytes each way.
struct Sync {
    secs: f64,
    up: u64,
    down: u64,
}

impl Sync {
    fn bytes(&self) -> u64 {
        self.up + self.down
    }
}

/// Replicates `ndjson` (`n` documents) with PouchDB to express-pouchdb
/// through a counting proxy; databases under `work`.
fn replicate_pouchdb(npm: &Npm, work: &Path, ndjson: &Path, n: usize) -> anyhow::Result<Sync> {
    let path = |p: &Path| p.to_str().map(str::to_string).context("a UTF-8 path");
    let mut server = Node::start(npm, &["serve", &path(&work.join("server"))?])?;
    let port = server.line()?["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .context("express-pouchdb's port")?;
    let upstream = SocketAddr::from(([127, 0, 0, 1], port));
    let proxy = CountingProxy::start(upstream)?;
    let target = format!("http://{}/{DB}", proxy.addr);
    let check = format!("http://{upstream}/{DB}");
    let client_dir = path(&work.join("client"))?;
    let mut client = Node::start(
        npm,
        &["replicate", &client_dir, &path(ndjson)?, &target, &check],
    )?;
    let loaded = client.line()?;
    eprintln!("  PouchDB: loaded {loaded} locally; replicating");
    proxy.reset();
    let mut go = client.stdin.take().context("node's stdin")?;
    writeln!(go, "go")?;
    drop(go);
    let done = client.line()?;
    let (up, down) = (proxy.up(), proxy.down());
    eprintln!("  PouchDB: {done}");
    let count = |k: &str| done[k].as_u64().unwrap_or(0);
    if count("docs") != n as u64 || count("server_docs") != n as u64 {
        bail!("PouchDB replicated {done} of {n} documents");
    }
    let ms = done["ms"].as_f64().context("the replication's ms")?;
    drop(client);
    drop(server);
    Ok(Sync {
        secs: ms / 1000.0,
        up,
        down,
    })
}

/// Syncs the tablet's backlog of `n` records with Hearth (unlocked first,
/// as in figure 5) and checks that every record is synced.
fn sync_hearth(tablet: &Tablet, n: usize) -> anyhow::Result<Sync> {
    watch_agent(&tablet.store, &["unlock"], true)?;
    tablet.proxy.reset();
    let t = Instant::now();
    watch_agent(&tablet.store, &["sync"], false)?;
    let secs = t.elapsed().as_secs_f64();
    let (up, down) = (tablet.proxy.up(), tablet.proxy.down());
    let status: Value = serde_json::from_str(&run_agent(&tablet.store, &["status", "--json"])?)?;
    if status["synced"].as_u64() != Some(n as u64) || status["pending"].as_u64() != Some(0) {
        bail!("Hearth's sync left {status}");
    }
    Ok(Sync { secs, up, down })
}

/// Figure 10 (see the module docs). Not in `--quick`: CI installs no npm
/// packages.
pub fn figure_cht(c: &Counts, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    if c.quick {
        rows.push(skipped("not in --quick (it installs npm packages)"));
        return Ok(());
    }
    let n = c.backlog;
    eprintln!("figure 10: {n} records, PouchDB 9 → express-pouchdb 4, then Hearth");
    let tmp = tempfile::tempdir_in(bench_dir())?;
    let npm = match install(&tmp.path().join("npm")) {
        Ok(npm) => npm,
        Err(why) => {
            eprintln!("  skipped: {why}");
            rows.push(skipped(why));
            return Ok(());
        }
    };
    let tablet = Tablet::enrol(&tmp.path().join("hearth"))?;
    let ndjson = tmp.path().join("cht.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&ndjson)?);
    let mut doc_bytes = 0u64;
    let record_bytes = capture_each(&tablet.store, n, SEED ^ 5, |record| {
        let line = serde_json::to_string(&cht_doc_of(record)?)?;
        doc_bytes += line.len() as u64;
        writeln!(out, "{line}")?;
        Ok(())
    })?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let pouch = replicate_pouchdb(&npm, &tmp.path().join("pouchdb"), &ndjson, n)?;
    let hearth = sync_hearth(&tablet, n)?;
    push_rows(rows, n, &npm, &pouch, &hearth, (record_bytes, doc_bytes));
    Ok(())
}

/// The figure's rows; `stored` is (signed record bytes, CHT JSON bytes).
fn push_rows(
    rows: &mut Vec<Row>,
    n: usize,
    npm: &Npm,
    pouch: &Sync,
    hearth: &Sync,
    stored: (u64, u64),
) {
    let x = |r: f64| format!("{r:.3}×");
    let time = hearth.secs / pouch.secs;
    rows.push(Row::new(
        format!(
            "{FIGURE}: {n} records synced, Hearth vs PouchDB (Hearth also verifies every \
             signature, pins TLS and writes receipts; PouchDB runs without TLS)"
        ),
        format!("{:.2} s Hearth (agent process start to exit)", hearth.secs),
        format!(
            "{:.2} s PouchDB 9 → express-pouchdb 4, plain HTTP (replicate call)",
            pouch.secs
        ),
        x(time),
        format!("≤ {TIME_TARGET}×"),
        Some(time <= TIME_TARGET),
    ));
    let bytes = hearth.bytes() as f64 / pouch.bytes() as f64;
    rows.push(Row::new(
        format!(
            "{FIGURE}: bytes on the wire, both ways (Hearth's are TLS records; PouchDB's plain HTTP)"
        ),
        format!(
            "{} B Hearth ({} up, {} down)",
            hearth.bytes(),
            hearth.up,
            hearth.down
        ),
        format!(
            "{} B PouchDB ({} up, {} down)",
            pouch.bytes(),
            pouch.up,
            pouch.down
        ),
        x(bytes),
        format!("≤ {BYTES_TARGET}×"),
        Some(bytes <= BYTES_TARGET),
    ));
    let (signed, docs) = stored;
    rows.push(Row::new(
        format!("{FIGURE}: the same records at rest"),
        format!("{signed} B signed records"),
        format!("{docs} B CHT JSON documents"),
        x(signed as f64 / docs as f64),
        "(diagnostic)",
        None,
    ));
    rows.push(Row::new(
        format!("{FIGURE}: installed"),
        npm.versions.clone(),
        "-",
        "-",
        "(diagnostic)",
        None,
    ));
}

#[cfg(test)]
mod tests {
    use hearth_shared::json::{Defaults, parse_body};

    use super::*;
    use crate::corpus;

    #[test]
    fn a_cht_document_carries_the_whole_body() {
        let defaults = Defaults {
            author: "someone.else".try_into().unwrap(),
            agency: "OTHER".try_into().unwrap(),
        };
        for (i, sample) in corpus::corpus(18).into_iter().enumerate() {
            let hash = [i as u8; 32];
            let doc = cht_doc(&hash, Timestamp(1_700_000_000), &sample.body);
            assert_eq!(doc["type"], "data_record");
            assert_eq!(doc["form"], sample.kind.as_str());
            assert_eq!(doc["reported_date"], 1_700_000_000_000i64);
            let id = doc["_id"].as_str().unwrap();
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4", "{id}");
            assert_eq!(
                doc["contact"]["_id"],
                name_uuid("person", sample.body.author.as_str())
            );
            assert_ne!(doc["contact"]["_id"], doc["contact"]["parent"]["_id"]);
            // form + fields parse back to the very same body.
            let mut fields = doc["fields"].clone();
            assert!(fields.get("kind").is_none());
            fields["kind"] = doc["form"].clone();
            let back = parse_body(&fields.to_string(), &defaults).unwrap();
            assert_eq!(back, sample.body);
        }
    }

    #[test]
    fn ids_differ_by_record_and_name() {
        let body = corpus::corpus(1).remove(0).body;
        let a = cht_doc(&[1; 32], Timestamp(0), &body);
        let b = cht_doc(&[2; 32], Timestamp(0), &body);
        assert_ne!(a["_id"], b["_id"]);
        assert_eq!(uuid([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_ne!(name_uuid("person", "a"), name_uuid("place", "a"));
        assert_eq!(name_uuid("person", "a"), name_uuid("person", "a"));
    }
}
