//! Figure 9 (issue 16): practice signals. One run of the real server,
//! fed over HTTPS like figure 4 (signed records from simulated tablets,
//! the server's own ingest path), holds:
//!
//! - **one family** of three siblings with [`Counts::signals_family`]
//!   entries (records, less the amendments that fold in) naming one to
//!   three of them (the corpus generator's kinds in
//!   turn, so household kinds link the siblings); and
//! - **the caseload**: [`Counts::caseload_children`] children in families
//!   of three, [`Counts::caseload_records`] records between them, from four
//!   tablets.
//!
//! Then it times:
//!
//! - (a) [`rules::evaluate`] for the family's chronology, in process,
//!   beside the [`reconcile`] that a refresh runs before it (the baseline,
//!   same run) and the load and detail reads (≤ 20 ms target);
//! - (c) what keeping signals current costs ingest: one more batch of
//!   256 records committed over HTTPS, beside refreshing the signals of
//!   every child it names (in process, the same steps as the refresh);
//! - (b) in process, recomputing every child's signals from its records
//!   (what stale states would cost), then the caseload read, `GET
//!   /v1/signals` over HTTPS as a manager (with its TLS and access-log
//!   write), from the stored states the ingest kept fresh (≤ 1 s target).
//!
//! Times are medians of nine runs where a run is cheap, of three where it
//! is the whole caseload.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Context, bail};
use hearth_shared::clock::{Clock, SystemClock};
use hearth_shared::{Body, ChildRef, Timestamp};
use hearth_sync_server::chronology::family::Families;
use hearth_sync_server::chronology::{Chronology, DateRange, reconcile};
use hearth_sync_server::signals::{Config, rules};
use hearth_sync_server::store::Store;
use hearth_sync_server::store::sqlite::SqliteStore;

use crate::corpus::{self, Generator, SEED};
use crate::micro::bench_dir;
use crate::run::Counts;
use crate::server::{Device, Server};
use crate::size;
use crate::table::Row;

/// Records per upload: the server's default maximum batch.
const BATCH: usize = 256;
/// Tablets feeding the caseload.
const TABLETS: usize = 4;

fn ms(s: f64) -> String {
    format!("{:.1} ms", s * 1e3)
}

/// Signs `bodies` on `device` and uploads them in batches of [`BATCH`].
fn upload_all(
    server: &Server,
    http: &ureq::Agent,
    device: &mut Device,
    bodies: impl Iterator<Item = Body>,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(BATCH);
    for body in bodies {
        batch.push(device.sign(body));
        if batch.len() == BATCH {
            device.upload(server, http, std::mem::take(&mut batch))?;
        }
    }
    if !batch.is_empty() {
        device.upload(server, http, batch)?;
    }
    Ok(())
}

/// The times of one refresh of a family's signals, in seconds.
#[derive(Default, Clone, Copy)]
struct Steps {
    load: f64,
    reconcile: f64,
    detail: f64,
    evaluate: f64,
    entries: usize,
    signals: usize,
}

/// Recomputes the signals of every child of `family` from the store, as a
/// refresh does (load, reconcile, each record's fields, the rules), timing
/// each step.
fn refresh_family(
    store: &SqliteStore,
    config: &Config,
    family: &BTreeSet<ChildRef>,
    now: Timestamp,
) -> anyhow::Result<Steps> {
    let members: Vec<ChildRef> = family.iter().cloned().collect();
    let first = members.first().context("a family has a child")?.clone();
    let t = Instant::now();
    let records = store.records_for(&members)?;
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let entries = reconcile(&records, family, DateRange::default());
    let reconcile = t.elapsed().as_secs_f64();
    let mut c = Chronology {
        child: first,
        family: true,
        children: members.clone(),
        entries,
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
    };
    let t = Instant::now();
    hearth_sync_server::record::attach(store, &mut c)?;
    let detail = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut signals = 0;
    for child in &members {
        let e = rules::evaluate(child, &c.entries, &c.details, config, now);
        signals += e.signals.len();
        std::hint::black_box(&e);
    }
    let evaluate = t.elapsed().as_secs_f64();
    Ok(Steps {
        load,
        reconcile,
        detail,
        evaluate,
        entries: c.entries.len(),
        signals,
    })
}

/// The families of `children` (each once), as the store links them.
fn families(store: &SqliteStore, children: &[String]) -> anyhow::Result<Vec<BTreeSet<ChildRef>>> {
    let families = Families::new(&store.family_links()?);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in children {
        let child: ChildRef = c.parse().map_err(|_| anyhow::anyhow!("child ref {c}"))?;
        if seen.contains(&child) {
            continue;
        }
        let family = families.of(&child);
        seen.extend(family.iter().cloned());
        out.push(family);
    }
    Ok(out)
}

/// Builds the store, times (a), (b) and (c), and adds their rows.
pub fn figure_signals(c: &Counts, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir_in(bench_dir())?;
    let server = Server::start(&tmp.path().join("server"))?;
    let http = server.client()?;
    // "Now": after every generated date, so every deadline has passed.
    let now = Timestamp::from_civil(2027, 6, 1, 9, 0, 0).context("a date")?;

    eprintln!(
        "figure 9: one family of {} entries; caseload of {} children, {} records",
        c.signals_family, c.caseload_children, c.caseload_records
    );
    let siblings = corpus::child_pool(SEED ^ 0x516, 3);
    let mut device = Device::new(201);
    device.enrol(&server, &http)?;
    let mut g = Generator::for_device(SEED ^ 0x516, device.id().to_string(), 1);
    // Amendments fold into the entries they correct: records until the
    // family's chronology holds `signals_family` entries.
    let mut entries = 0;
    let family_bodies = std::iter::from_fn(|| {
        (entries < c.signals_family).then(|| {
            let sample = g.next_body(&siblings, None);
            if sample.kind != "amendment" {
                entries += 1;
            }
            sample.body
        })
    });
    upload_all(&server, &http, &mut device, family_bodies)?;

    let children = corpus::child_pool(SEED ^ 0xCA5E, c.caseload_children);
    let groups: Vec<&[String]> = children.chunks(3).collect();
    let per_tablet = c.caseload_records / TABLETS;
    let t = Instant::now();
    let mut tablets: Vec<(Device, Generator)> = Vec::new();
    for i in 0..TABLETS {
        let mut d = Device::new(211 + i as u8);
        d.enrol(&server, &http)?;
        let g = Generator::for_device(SEED ^ (0xCA5E + i as u64), d.id().to_string(), 1);
        tablets.push((d, g));
    }
    let tablets = std::thread::scope(|s| -> anyhow::Result<Vec<(Device, Generator)>> {
        let handles: Vec<_> = tablets
            .into_iter()
            .enumerate()
            .map(|(i, (mut d, mut g))| {
                let (server, groups) = (&server, &groups);
                s.spawn(move || -> anyhow::Result<(Device, Generator)> {
                    let http = server.client()?;
                    let bodies = (0..per_tablet)
                        .map(|k| {
                            g.next_body(groups[(k * TABLETS + i) % groups.len()], None)
                                .body
                        })
                        .collect::<Vec<_>>();
                    upload_all(server, &http, &mut d, bodies.into_iter())?;
                    Ok((d, g))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("uploader"))
            .collect()
    })?;
    let ingest = t.elapsed().as_secs_f64();
    eprintln!(
        "  caseload ingested: {} records in {ingest:.1} s ({:.0}/s)",
        per_tablet * TABLETS,
        (per_tablet * TABLETS) as f64 / ingest
    );

    let store = SqliteStore::connect(&server.data)?;
    let config = Config::load(&server.data).map_err(|e| anyhow::anyhow!("{}", e.0))?;
    // The server's own refresher catches up before anything is timed in
    // process (both would share the two cores otherwise).
    figure_catch_up(&store, &config, ingest, rows)?;
    figure_family(&store, &config, &siblings, now, rows)?;
    figure_ingest_cost(&server, &store, &config, tablets, &groups, now, rows)?;
    let stale = figure_stale(&store, &config, &children, now, rows)?;
    // Last: the read needs the issue-16 store and route.
    figure_caseload(&server, c, stale, rows)
}

/// How long after the bulk load the server's refresher (woken by each
/// commit) takes until no child's signals are stale, by the server's own
/// clock: the lag before the caseload is fresh after a load of this size.
fn figure_catch_up(
    store: &SqliteStore,
    config: &Config,
    ingest: f64,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let clock = SystemClock::default();
    let fingerprint = config.fingerprint();
    let t = Instant::now();
    while !store
        .stale_children(clock.now(), &fingerprint, 1)?
        .is_empty()
    {
        if t.elapsed().as_secs() > 1_800 {
            bail!("the server's signals were still stale 30 minutes after the load");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let lag = t.elapsed().as_secs_f64();
    rows.push(Row::new(
        "9 signals: after the caseload's load, until the server's refresher leaves no child stale"
            .to_string(),
        format!("{lag:.1} s"),
        format!("{ingest:.1} s the load itself (over HTTPS)"),
        format!("{:.2} × the load", lag / ingest),
        "(diagnostic)",
        None,
    ));
    Ok(())
}

/// (a) The rules for one family, beside the reconcile before them.
fn figure_family(
    store: &SqliteStore,
    config: &Config,
    siblings: &[String],
    now: Timestamp,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let family = families(store, siblings)?;
    if family.len() != 1 || family[0].len() != 3 {
        bail!("the three siblings are not one family: {family:?}");
    }
    let runs: Vec<Steps> = (0..9)
        .map(|_| refresh_family(store, config, &family[0], now))
        .collect::<anyhow::Result<_>>()?;
    let median = |f: fn(&Steps) -> f64| size::median(runs.iter().map(f).collect());
    let (load, rec, det) = (
        median(|s| s.load),
        median(|s| s.reconcile),
        median(|s| s.detail),
    );
    // The family's signals: one evaluation for each of its three children.
    let eval = median(|s| s.evaluate);
    let n = runs[0].entries;
    rows.push(Row::new(
        format!("9 signals: rules::evaluate, one family of {n} entries (3 children), in-process"),
        format!(
            "{} ({} per child; {} signals)",
            ms(eval),
            ms(eval / 3.0),
            runs[0].signals
        ),
        format!("{} reconcile of the same", ms(rec)),
        format!("{:.2}× reconcile; {:.2} of 20 ms", eval / rec, eval / 0.020),
        "≤ 20 ms",
        Some(eval <= 0.020),
    ));
    rows.push(Row::new(
        "9 signals: a refresh of that family (3 children), in-process",
        format!(
            "{} (load {} + reconcile {} + detail {} + rules {})",
            ms(load + rec + det + eval),
            ms(load),
            ms(rec),
            ms(det),
            ms(eval)
        ),
        "-",
        "-",
        "(diagnostic)",
        None,
    ));
    Ok(())
}

/// (b) Every child's signals recomputed from its records (what stale
/// states cost); returns the seconds it took.
fn figure_stale(
    store: &SqliteStore,
    config: &Config,
    children: &[String],
    now: Timestamp,
    rows: &mut Vec<Row>,
) -> anyhow::Result<f64> {
    let families = families(store, children)?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        for f in &families {
            refresh_family(store, config, f, now)?;
        }
        times.push(t.elapsed().as_secs_f64());
    }
    let all = size::median(times);
    rows.push(Row::new(
        format!(
            "9 signals: every state stale: recompute {} children's signals ({} families) from records, in-process",
            children.len(),
            families.len()
        ),
        format!("{all:.2} s"),
        "-",
        format!("{} a family", ms(all / families.len().max(1) as f64)),
        "(diagnostic)",
        None,
    ));
    Ok(all)
}

/// (b) The caseload read over HTTPS, from the states the ingest kept
/// fresh, beside recomputing them all (`stale`, seconds).
fn figure_caseload(
    server: &Server,
    c: &Counts,
    stale: f64,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let token = server
        .admin(&["user", "add", "bench", "--role", "manager"])?
        .split_whitespace()
        .last()
        .context("a token")?
        .to_string();
    let path = "/v1/signals?reason=benchmark%20caseload%20read";
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (status, body) = server.get(path, Some(&token))?;
        times.push(t.elapsed().as_secs_f64());
        if status != 200 {
            bail!("caseload GET {path}: {status} {body}");
        }
        bytes = body.len();
    }
    let read = size::median(times);
    let total = c.caseload_records + BATCH;
    rows.push(Row::new(
        format!(
            "9 signals: caseload, {} children, {total} records and the family, fresh states (HTTPS GET, {} KiB)",
            c.caseload_children + 3,
            bytes / 1024
        ),
        ms(read),
        format!("{stale:.2} s recomputing every state"),
        format!("{read:.2} of 1 s"),
        "≤ 1 s",
        Some(read <= 1.0),
    ));
    Ok(())
}

/// (c) One more batch committed, beside refreshing its children.
fn figure_ingest_cost(
    server: &Server,
    store: &SqliteStore,
    config: &Config,
    mut tablets: Vec<(Device, Generator)>,
    groups: &[&[String]],
    now: Timestamp,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let (device, g) = tablets.first_mut().context("a tablet")?;
    let http = server.client()?;
    let mut named = Vec::new();
    let batch: Vec<Vec<u8>> = (0..BATCH)
        .map(|k| {
            let body = g.next_body(groups[(k * 7) % groups.len()], None).body;
            named.extend(body.children.iter().map(|c| c.to_string()));
            device.sign(body)
        })
        .collect();
    let t = Instant::now();
    device.upload(server, &http, batch)?;
    let commit = t.elapsed().as_secs_f64();
    let touched = families(store, &named)?;
    let t = Instant::now();
    for f in &touched {
        refresh_family(store, config, f, now)?;
    }
    let refresh = t.elapsed().as_secs_f64();
    rows.push(Row::new(
        format!(
            "9 signals: at ingest, refreshing the {} families a {BATCH}-record batch names, in-process",
            touched.len()
        ),
        ms(refresh),
        format!("{} the batch's commit over HTTPS", ms(commit)),
        format!("{:.2}× the commit", refresh / commit),
        "(diagnostic)",
        None,
    ));
    Ok(())
}
