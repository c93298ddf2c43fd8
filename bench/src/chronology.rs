//! Figure 7: a child's chronology pulled over HTTPS from the real server,
//! and the same steps in process (load, reconcile, each record's detail
//! from its stored bytes, JSON), timed apart.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::bail;
use hearth_shared::ChildRef;
use hearth_sync_server::chronology::format::Format;
use hearth_sync_server::chronology::{Chronology, DateRange, reconcile};
use hearth_sync_server::store::Store;
use hearth_sync_server::store::sqlite::SqliteStore;

use crate::server::Server;
use crate::table::Row;
use crate::{corpus, size};

/// Pulls `child`'s chronology of `n` records (less the amendments folded
/// into them) five times as the user holding `token`, and adds its rows;
/// `has_target`: the 50 ms target applies (the small chronology).
pub fn figure_chronology(
    server: &Server,
    token: &str,
    child: &str,
    n: usize,
    has_target: bool,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    // Its own amendments fold into the entries they correct.
    let n = n - corpus::amendments_among(n);
    eprintln!("figure 7: chronology of {n} entries");
    let path = format!("/v1/children/{child}/chronology?reason=benchmark%20pull&format=json");
    let mut times = Vec::new();
    let mut server_times = Vec::new();
    let mut entries = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let (status, server_time, body) = server.get_timed(&path, Some(token))?;
        times.push(t.elapsed().as_secs_f64());
        if status != 200 {
            bail!("chronology GET: {status} {body}");
        }
        server_times.push(server_time.ok_or_else(|| anyhow::anyhow!("no Server-Timing header"))?);
        let v: serde_json::Value = serde_json::from_str(&body)?;
        entries = v["entries"].as_array().map_or(0, Vec::len);
    }
    if entries != n {
        bail!("the chronology of {child} has {entries} entries, expected {n}");
    }
    let http = size::median(times);
    let served = size::median(server_times);
    // In-process: the same steps as `audit::pull` minus the access-log
    // write (one fsync), timed apart.
    let store = SqliteStore::connect(&server.data)?;
    let cref: ChildRef = child.parse().map_err(|_| anyhow::anyhow!("child ref"))?;
    let mut load = Vec::new();
    let mut rec = Vec::new();
    let mut det = Vec::new();
    let mut fmt = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let records = store.records_for(std::slice::from_ref(&cref))?;
        load.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let view = BTreeSet::from([cref.clone()]);
        let entries = reconcile(&records, &view, DateRange::default());
        rec.push(t.elapsed().as_secs_f64());
        let mut c = Chronology {
            child: cref.clone(),
            details: Default::default(),
            signals: Vec::new(),
            names: Default::default(),
            family: false,
            children: vec![cref.clone()],
            entries,
        };
        // Each entry's record fields, from its stored bytes (issue 15).
        let t = Instant::now();
        hearth_sync_server::record::attach(&store, &mut c)?;
        det.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let json = Format::Json.render(&c);
        std::hint::black_box(json.len());
        fmt.push(t.elapsed().as_secs_f64());
    }
    let (load, rec, det, fmt) = (
        size::median(load),
        size::median(rec),
        size::median(det),
        size::median(fmt),
    );
    let ms = |s: f64| format!("{:.1} ms", s * 1e3);
    // The target is server time: the handler's own measure of the pull
    // (authorise, read, reconcile, access-log commit) and the rendering,
    // from its `Server-Timing` header. What the client sees adds TLS and the
    // transfer of the body; it is shown beside it.
    let (target, pass) = if has_target {
        ("≤ 50 ms", Some(served <= 0.050))
    } else {
        ("(growth; no target)", None)
    };
    rows.push(Row::new(
        format!("7 chronology: {n} entries, server time (HTTPS GET JSON)"),
        ms(served),
        "-",
        format!("{:.2} of 50 ms", served / 0.050),
        target,
        pass,
    ));
    rows.push(Row::new(
        format!("7 chronology: {n} entries, as the client sees it (+ TLS, transfer)"),
        ms(http),
        "-",
        format!("{:.2} of 50 ms", http / 0.050),
        "(diagnostic)",
        None,
    ));
    rows.push(Row::new(
        format!("7 chronology: {n} entries, in-process, no audit write"),
        format!(
            "{} (load {} + reconcile {} + detail {} + JSON {})",
            ms(load + rec + det + fmt),
            ms(load),
            ms(rec),
            ms(det),
            ms(fmt)
        ),
        "-",
        format!("{:.2} of 50 ms", (load + rec + det + fmt) / 0.050),
        "(diagnostic)",
        None,
    ));
    Ok(())
}
