//! Figure 8: the manager's web pages drawn on the server. Issue 15 sets
//! 100 ms for a family chronology page of 5,000 entries with its timeline.
//! [`figure_page`] times the whole page (`web::chronology::render`: the
//! counts, the timeline, the table, the panel pack's header) in process,
//! against the API's JSON of the same chronology drawn in the same run;
//! [`figure_timeline`] times the picture alone. The entries are those a
//! family chronology gives: five agencies over two years, one in seven
//! flagged.

use std::time::Instant;

use hearth_shared::{ChildRef, DeviceId, RecordId, RecordKind, Seq, Timestamp};
use hearth_sync_server::chronology::format::Format;
use hearth_sync_server::chronology::{Chronology, DateRange, Entry, Flag};
use hearth_sync_server::localtime::Zone;
use hearth_sync_server::store::{Purpose, ReadGrant, Role};
use hearth_sync_server::web::chronology::{ChronologyView, Filters, render};
use hearth_sync_server::web::{SignedInBy, Viewer, timeline};

use crate::corpus::{Generator, SEED};
use crate::size;
use crate::table::Row;

/// The agencies of the family's chronology: one lane each.
const AGENCIES: [&str; 5] = ["CSC-EAST", "HV-NORTH", "NURSERY-12", "GP-PARK", "SCHOOL-3"];

/// `n` entries as a family chronology of two years gives them (kinds,
/// agencies and headlines from the corpus generator; in date order).
pub fn entries(n: usize) -> Vec<Entry> {
    let mut g = Generator::new(SEED);
    let children: Vec<ChildRef> = ["nhs:9434765919", "nhs:4010232137"]
        .iter()
        .map(|c| c.parse().expect("a valid NHS number"))
        .collect();
    let device = DeviceId::from_public_key(&[9; 32]);
    let start = Timestamp::from_civil(2024, 1, 1, 8, 0, 0)
        .expect("a date")
        .0;
    let step = 2 * 365 * 86_400 / n.max(1) as i64;
    (0..n)
        .map(|i| {
            let kind = *g.rng().pick(&RecordKind::ALL[..8]);
            let agency = g.rng().pick(&AGENCIES).to_string();
            let len = g.rng().range(40, 120) as usize;
            let at = Timestamp(start + i as i64 * step);
            Entry {
                record_id: RecordId {
                    device,
                    seq: Seq(i as u64 + 1),
                },
                occurred_at: at,
                agency,
                author: "hv.jones".into(),
                worker: "hv.jones".into(),
                kind,
                headline: g.text(len),
                children: vec![children[i % 2].clone()],
                flags: if i % 7 == 0 {
                    vec![Flag::NoAction]
                } else {
                    Vec::new()
                },
                amended: None,
                received_at: at,
            }
        })
        .collect()
}

/// The median of nine timings of `f`, and the length of what it drew.
fn time_nine(mut f: impl FnMut() -> String) -> (f64, usize) {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..9 {
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed().as_secs_f64());
        bytes = out.len();
        std::hint::black_box(out);
    }
    (size::median(times), bytes)
}

/// Draws the family chronology page of `n` entries nine times, and the
/// API's JSON of the same chronology nine times, and adds their rows.
pub fn figure_page(n: usize, rows: &mut Vec<Row>) {
    eprintln!("figure 8: chronology page of {n} entries");
    let all = entries(n);
    let child: ChildRef = "nhs:9434765919".parse().expect("a valid NHS number");
    let chronology = Chronology {
        child: child.clone(),
        family: true,
        children: vec![child.clone(), "nhs:4010232137".parse().expect("valid")],
        entries: all,
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
    };
    let viewer = Viewer {
        name: "manager.ross".into(),
        role: Role::Manager,
        csrf: "0".repeat(64),
        by: SignedInBy::Session,
    };
    let now = Timestamp::from_civil(2026, 1, 1, 9, 0, 0).expect("a date");
    let grant = ReadGrant {
        id: "0123456789abcdef0123456789abcdef".into(),
        user: viewer.name.clone(),
        child,
        family: true,
        reason: "Case review preparation, panel of 12 March".into(),
        purpose: Purpose::CaseReview,
        created_at: now,
        expires_at: Timestamp(now.0 + 8 * 3600),
    };
    let zone = Zone::default();
    let view = ChronologyView {
        viewer: &viewer,
        grant: &grant,
        chronology: &chronology,
        filters: &Filters::default(),
        zone: &zone,
        range: DateRange::default(),
        now,
    };
    let (page, page_bytes) = time_nine(|| render(&view).into_string());
    let (json, json_bytes) = time_nine(|| Format::Json.render(&chronology));
    rows.push(Row::new(
        format!(
            "8 web: family chronology page, {n} entries with timeline, in-process ({} KiB)",
            page_bytes / 1024
        ),
        format!("{:.1} ms", page * 1e3),
        format!(
            "{:.1} ms JSON of the same ({} KiB)",
            json * 1e3,
            json_bytes / 1024
        ),
        format!("{:.1}× JSON; {:.2} of 100 ms", page / json, page / 0.100),
        "≤ 100 ms",
        Some(page <= 0.100),
    ));
}

/// Draws the timeline of `n` entries nine times and adds its row.
pub fn figure_timeline(n: usize, rows: &mut Vec<Row>) {
    eprintln!("figure 8: timeline of {n} entries");
    let all = entries(n);
    let refs: Vec<&Entry> = all.iter().collect();
    let zone = Zone::default();
    let href = |e: &Entry| format!("/records/{}?grant=0123456789abcdef", e.record_id);
    let (s, bytes) = time_nine(|| timeline::svg(&refs, &zone, &href).into_string());
    rows.push(Row::new(
        format!(
            "8 web: timeline SVG of {n} entries, in-process ({} KiB)",
            bytes / 1024
        ),
        format!("{:.1} ms", s * 1e3),
        "-",
        format!("{:.2} of 100 ms", s / 0.100),
        "(part of the ≤ 100 ms page)",
        None,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entries_span_two_years_across_five_agencies() {
        let e = entries(500);
        assert_eq!(e.len(), 500);
        assert!(e.windows(2).all(|w| w[0].occurred_at < w[1].occurred_at));
        let agencies: std::collections::BTreeSet<_> = e.iter().map(|e| &e.agency).collect();
        assert_eq!(agencies.len(), AGENCIES.len());
        let mut rows = Vec::new();
        figure_timeline(50, &mut rows);
        figure_page(50, &mut rows);
        assert_eq!(rows.len(), 2);
        assert!(
            rows[1]
                .figure
                .starts_with("8 web: family chronology page, 50 entries")
        );
        assert!(
            rows[0]
                .figure
                .starts_with("8 web: timeline SVG of 50 entries")
        );
    }
}
