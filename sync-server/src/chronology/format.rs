//! Renders a [`Chronology`]: [`table`] (DATE | ACTIVITY | AGENCY, the shape
//! of a case-review chronology), [`csv`] (RFC 4180, a header row) and
//! [`json`].
//!
//! Every text field was written on some agency's device and is untrusted
//! here. Table and CSV cells show control, bidirectional and invisible
//! characters escaped ([`Escaped`], `\u{1b}`), so no field can start a
//! new row, move the cursor or reorder a line; JSON writes them as `\uXXXX`
//! escapes ([`json_escaped`]), which parse back to the same text.

use std::fmt::Write as _;

use hearth_shared::printable::{Escaped, json_escaped};
use hearth_shared::{ChildRef, RecordId, RecordKind, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::{Chronology, Entry};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain-text table.
    Table,
    /// CSV.
    Csv,
    /// JSON.
    Json,
}

impl Format {
    /// From its name: `table`, `csv` or `json`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "table" => Some(Self::Table),
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The HTTP content type.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Table => "text/plain; charset=utf-8",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }

    /// Like [`Format::render`], but JSON without indentation: what the
    /// HTTP API sends (about a third fewer bytes for a large chronology).
    pub fn render_compact(self, c: &Chronology) -> String {
        match self {
            Self::Json => {
                let mut s = json_escaped(
                    serde_json::to_string(&json_view(c)).expect("chronology JSON serializes"),
                );
                s.push('\n');
                s
            }
            other => other.render(c),
        }
    }

    /// Renders `c`.
    pub fn render(self, c: &Chronology) -> String {
        match self {
            Self::Table => table(c),
            Self::Csv => csv(c),
            Self::Json => {
                let mut s = json_escaped(
                    serde_json::to_string_pretty(&json_view(c))
                        .expect("chronology JSON serializes"),
                );
                s.push('\n');
                s
            }
        }
    }
}

fn date_time(e: &Entry) -> String {
    let (y, mo, d, h, mi, _) = e.occurred_at.to_civil();
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

fn flag_list(e: &Entry) -> Vec<&'static str> {
    e.flags.iter().map(|f| f.as_str()).collect()
}

/// The table's mark of a record entered in error (the entry stays,
/// struck through in words).
pub const ENTERED_IN_ERROR_MARK: &str = "[ENTERED IN ERROR]";

fn activity(e: &Entry) -> String {
    let mut s = format!("{}: {}", e.kind.label(), e.headline);
    if e.flags.contains(&super::Flag::EnteredInError) {
        s = format!("{ENTERED_IN_ERROR_MARK} {s}");
        if let Some(v) = e.amended.as_ref().and_then(|a| a.versions.last()) {
            let (y, mo, d, h, mi, _) = v.recorded_at.to_civil();
            let _ = write!(
                s,
                " (entered in error: marked by {} on {y:04}-{mo:02}-{d:02} {h:02}:{mi:02}: {})",
                v.author,
                v.reason.as_deref().unwrap_or_default()
            );
        }
        return s;
    }
    let flags = flag_list(e);
    if !flags.is_empty() {
        let _ = write!(s, " [{}]", flags.join(", "));
    }
    if let Some(a) = &e.amended {
        let _ = write!(
            s,
            " (amended by {}: {}; originally \"{}\" on {})",
            a.amended_by,
            a.reason,
            a.original_headline,
            a.original_occurred_at.date()
        );
    }
    s
}

/// The device's worker, when it is not the author (a shared device, or a
/// record stored before ingest checked authors): shown beside the author.
fn device_worker(e: &Entry) -> Option<&str> {
    (e.worker != e.author).then_some(e.worker.as_str())
}

/// The AGENCY cell: `AGENCY (author)`, or `AGENCY (author via worker)`.
fn agency_cell(e: &Entry) -> String {
    match device_worker(e) {
        Some(w) => format!("{} ({} via {w})", e.agency, e.author),
        None => format!("{} ({})", e.agency, e.author),
    }
}

/// The table: a title line, then DATE | ACTIVITY | AGENCY.
pub fn table(c: &Chronology) -> String {
    let rows: Vec<[String; 3]> = c
        .entries
        .iter()
        .map(|e| {
            [
                date_time(e),
                Escaped(&activity(e)).to_string(),
                Escaped(&agency_cell(e)).to_string(),
            ]
        })
        .collect();
    let head = ["DATE", "ACTIVITY", "AGENCY"];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let who: Vec<String> = c.children.iter().map(ToString::to_string).collect();
    let child = c.child.to_string();
    if c.family {
        let _ = writeln!(
            out,
            "Family chronology for {} (children: {})",
            Escaped(&child),
            Escaped(&who.join(", "))
        );
    } else {
        let _ = writeln!(out, "Chronology for {}", Escaped(&child));
    }
    let line = |cells: [&str; 3]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                l.push_str(" | ");
            }
            l.push_str(cell);
            if i < 2 {
                l.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
        }
        l.push('\n');
        l
    };
    out.push_str(&line(head));
    out.push_str(&format!(
        "{}-+-{}-+-{}\n",
        "-".repeat(widths[0]),
        "-".repeat(widths[1]),
        "-".repeat(widths[2])
    ));
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2]]));
    }
    if rows.is_empty() {
        out.push_str("(no entries)\n");
    }
    out
}

/// One CSV field, hidden characters escaped, quoted when it must be (RFC
/// 4180).
fn field(s: &str) -> String {
    let s = Escaped(s).to_string();
    // Managers open these files in spreadsheets. A cell that starts with
    // `=`, `+`, `-`, `@`, tab or carriage return would be run as a formula
    // (CSV injection, OWASP); a leading apostrophe makes it plain text. The
    // text is recorded by other agencies' devices, so it is untrusted here.
    // (Tab and carriage return are escaped above, but the rule stays
    // whole in case the escaping ever changes.)
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV: a header row, one row per entry, CRLF line ends.
pub fn csv(c: &Chronology) -> String {
    let mut out = String::from(
        "date,time,record_id,agency,author,kind,headline,children,flags,amended,original_headline,amended_by,amendment_reason,device_worker\r\n",
    );
    for e in &c.entries {
        let (y, mo, d, h, mi, _) = e.occurred_at.to_civil();
        let children: Vec<String> = e.children.iter().map(ToString::to_string).collect();
        let (orig, by, why) = match &e.amended {
            Some(a) => (
                a.original_headline.clone(),
                a.amended_by.to_string(),
                a.reason.clone(),
            ),
            None => Default::default(),
        };
        let row = [
            format!("{y:04}-{mo:02}-{d:02}"),
            format!("{h:02}:{mi:02}"),
            e.record_id.to_string(),
            e.agency.clone(),
            e.author.clone(),
            e.kind.as_str().to_string(),
            e.headline.clone(),
            children.join(";"),
            flag_list(e).join(";"),
            e.amended.is_some().to_string(),
            orig,
            by,
            why,
            device_worker(e).unwrap_or_default().to_string(),
        ];
        let row: Vec<String> = row.iter().map(|f| field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One entry as JSON. Fields are in alphabetical order, the order the
/// golden file pins; serialising these borrowed structs directly (rather
/// than building a `serde_json::Value` tree first) is what keeps a
/// 5,000-entry pull fast.
#[derive(Serialize)]
struct JsonEntry<'a> {
    agency: &'a str,
    amended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    amended_by: Option<RecordId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amendment_reason: Option<&'a str>,
    author: &'a str,
    children: &'a [ChildRef],
    #[serde(skip_serializing_if = "Option::is_none")]
    device_worker: Option<&'a str>,
    flags: Vec<&'static str>,
    headline: &'a str,
    kind: RecordKind,
    occurred_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_headline: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_occurred_at: Option<Timestamp>,
    received_at: Timestamp,
    record_id: RecordId,
    /// An amended entry's every version, the original first.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    versions: &'a [super::Version],
}

/// The whole chronology as JSON.
#[derive(Serialize)]
struct JsonChronology<'a> {
    child: &'a ChildRef,
    children: &'a [ChildRef],
    entries: Vec<JsonEntry<'a>>,
    family: bool,
}

fn json_view(c: &Chronology) -> JsonChronology<'_> {
    JsonChronology {
        child: &c.child,
        children: &c.children,
        family: c.family,
        entries: c
            .entries
            .iter()
            .map(|e| JsonEntry {
                agency: &e.agency,
                amended: e.amended.is_some(),
                amended_by: e.amended.as_ref().map(|a| a.amended_by),
                amendment_reason: e.amended.as_ref().map(|a| a.reason.as_str()),
                author: &e.author,
                children: &e.children,
                device_worker: device_worker(e),
                flags: flag_list(e),
                headline: &e.headline,
                kind: e.kind,
                occurred_at: e.occurred_at,
                original_headline: e.amended.as_ref().map(|a| a.original_headline.as_str()),
                original_occurred_at: e.amended.as_ref().map(|a| a.original_occurred_at),
                received_at: e.received_at,
                record_id: e.record_id,
                versions: e.amended.as_ref().map_or(&[], |a| &a.versions[..]),
            })
            .collect(),
    }
}

/// The JSON document, as a value (for tests and callers that post-process).
pub fn json(c: &Chronology) -> Value {
    serde_json::to_value(json_view(c)).expect("chronology JSON serializes")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use ed25519_dalek::SigningKey;
    use hearth_shared::{DeviceId, Timestamp};

    use super::super::tests::{ANNA, BEN, record};
    use super::super::{DateRange, family_of, reconcile};
    use super::*;
    use crate::store::StoredRecord;

    /// A fixed fixture: two agencies' devices (fixed keys), siblings, an
    /// amendment, a late entry, a fork-disputed record and every flag.
    fn fixture() -> Chronology {
        let dev = |seed: u8| {
            DeviceId::from_public_key(
                SigningKey::from_bytes(&[seed; 32])
                    .verifying_key()
                    .as_bytes(),
            )
        };
        let hv = dev(1);
        let nursery = dev(2);
        let rec = |device: DeviceId, seq: u64, json: String| -> StoredRecord {
            let mut r = record(0, seq, &json);
            r.line.id.device = device;
            r
        };
        let mut records = vec![
            rec(
                hv,
                1,
                format!(
                    r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Unannounced visit, \"home cold\", children seen","access":"unannounced","child_seen":"awake"}}"#
                ),
            ),
            rec(
                nursery,
                1,
                format!(
                    r#"{{"kind":"daily_presentation","children":["{ANNA}"],"occurred_at":"2026-03-03T08:05:00Z","headline":"Arrived hungry, same clothes as Friday","agency":"NURSERY-12","author":"dsl.patel","attendance":"present"}}"#
                ),
            ),
            rec(
                nursery,
                2,
                format!(
                    r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"Hid under table when tidy-up bell rang","agency":"NURSERY-12","author":"dsl.patel","mode":"behaviour","behaviour":"hid"}}"#
                ),
            ),
            rec(
                hv,
                2,
                format!(
                    r#"{{"kind":"meeting","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-05T14:00:00Z","headline":"Core group meeting","meeting_type":"core_group","attendees":[{{"name":"SW","agency":"CSC"}}],"minutes":"not_recorded"}}"#
                ),
            ),
            rec(
                hv,
                3,
                format!(
                    r#"{{"kind":"developmental_review","children":["{BEN}"],"occurred_at":"2026-03-06T09:30:00Z","headline":"2-year review: not brought","contact":"2_2half_years","was_not_brought":true}}"#
                ),
            ),
            rec(
                hv,
                4,
                format!(
                    r#"{{"kind":"escalation","children":["{ANNA}"],"occurred_at":"2026-03-07T12:00:00Z","headline":"Escalated lack of response, stage 1","stage":1,"raised_by":"HV","raised_with":"CSC team manager","disputed":"inaction","disagreement":"no reply"}}"#
                ),
            ),
            rec(
                hv,
                5,
                format!(
                    r#"{{"kind":"concern","children":["{ANNA}"],"occurred_at":"2026-03-04T16:00:00Z","headline":"Bruise on forearm, explanation: fell","category":"physical","seen_or_said":"bruise","action":"referred","action_detail":"CSC front door"}}"#
                ),
            ),
            rec(
                hv,
                6,
                format!(
                    r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-03-04T15:00:00Z","headline":"Bruise on left forearm, explanation: fell off sofa","corrects":"{hv}-5","reason":"time and detail corrected"}}"#
                ),
            ),
        ];
        records[4].late_entry = true;
        records[5].disputed = true;
        for r in &mut records {
            r.received_at = Timestamp(r.line.occurred_at.0 + 7_200);
        }
        let anna = ANNA.parse().unwrap();
        let groups: Vec<Vec<_>> = records
            .iter()
            .filter(|r| r.line.children.len() > 1)
            .map(|r| r.line.children.clone())
            .collect();
        let view: BTreeSet<_> = family_of(&anna, &groups);
        Chronology {
            child: anna,
            family: true,
            children: view.iter().cloned().collect(),
            entries: reconcile(&records, &view, DateRange::default()),
        }
    }

    fn golden(name: &str, actual: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        if std::env::var_os("HEARTH_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, actual).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with HEARTH_UPDATE_GOLDEN=1 to create it",
                path.display()
            )
        });
        assert_eq!(
            expected, actual,
            "golden file {name} differs (HEARTH_UPDATE_GOLDEN=1 rewrites it)"
        );
    }

    #[test]
    fn golden_table() {
        golden("chronology.table.txt", &Format::Table.render(&fixture()));
    }

    #[test]
    fn golden_csv() {
        golden("chronology.csv", &Format::Csv.render(&fixture()));
    }

    #[test]
    fn golden_json() {
        golden("chronology.json", &Format::Json.render(&fixture()));
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        // A line break is shown escaped (issue 11), so a cell never spans
        // lines; a file opened in a terminal shows one row per entry.
        assert_eq!(field("a\nb"), "a\\u{a}b");
    }

    /// The fixture with hostile text in every field a renderer shows, as a
    /// store holding records from before capture refused it would have.
    fn hostile() -> Chronology {
        let mut c = fixture();
        let forged = "typo\n2026-11-01 08:30 | Concern: FORGED LINE | CSC-SOCIAL (sw.smith)";
        for e in &mut c.entries {
            e.headline = format!("Seen \u{1b}[2J\u{7}\u{8}\u{202e}gnihton\r{}", e.headline);
            e.agency.push_str("\u{2066}\t");
            e.author.push_str("\u{85}\u{2028}=cmd");
            if let Some(a) = &mut e.amended {
                a.reason = forged.to_string();
                a.original_headline.push_str("\u{200b}\u{feff}\u{7f}");
            }
        }
        assert!(c.entries.iter().any(|e| e.amended.is_some()));
        c
    }

    fn no_hidden_but_line_ends(out: &str) {
        let bad: Vec<char> = out
            .chars()
            .filter(|&c| c != '\n' && c != '\r' && hearth_shared::printable::hidden(c).is_some())
            .collect();
        assert!(bad.is_empty(), "raw hidden characters {bad:?} in {out}");
    }

    #[test]
    fn hostile_text_cannot_forge_a_table_row_or_move_the_cursor() {
        let c = hostile();
        let out = Format::Table.render(&c);
        // Title, header, rule, then exactly one line per entry.
        assert_eq!(out.lines().count(), 3 + c.entries.len(), "{out}");
        assert!(
            !out.contains("\n2026-11-01 08:30 | Concern: FORGED"),
            "{out}"
        );
        assert!(out.contains("typo\\u{a}2026-11-01 08:30 | Concern: FORGED LINE"));
        assert!(out.contains("\\u{1b}[2J\\u{7}\\u{8}\\u{202e}gnihton\\u{d}"));
        assert!(!out.contains('\r'));
        no_hidden_but_line_ends(&out);
    }

    #[test]
    fn hostile_text_cannot_forge_a_csv_row() {
        let c = hostile();
        let out = Format::Csv.render(&c);
        assert_eq!(out.matches('\n').count(), 1 + c.entries.len(), "{out}");
        assert_eq!(out.matches("\r\n").count(), 1 + c.entries.len(), "{out}");
        no_hidden_but_line_ends(&out);
        assert!(out.contains("typo\\u{a}2026-11-01 08:30 | Concern: FORGED LINE"));
    }

    #[test]
    fn hostile_text_in_json_is_escaped_and_reads_back_unchanged() {
        let c = hostile();
        for out in [Format::Json.render(&c), Format::Json.render_compact(&c)] {
            no_hidden_but_line_ends(&out);
            assert!(!out.contains('\r'));
            let back: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(back, json(&c));
        }
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_made_text() {
        assert_eq!(
            field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-2+3"), "'-2+3");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("Arrived hungry"), "Arrived hungry");
    }

    #[test]
    fn json_entries_carry_the_required_fields() {
        let v = json(&fixture());
        for e in v["entries"].as_array().unwrap() {
            for k in [
                "record_id",
                "occurred_at",
                "agency",
                "author",
                "kind",
                "headline",
                "children",
                "flags",
                "amended",
            ] {
                assert!(e.get(k).is_some(), "missing {k} in {e}");
            }
        }
    }

    #[test]
    fn issue_11_a_shared_devices_worker_is_shown_beside_the_author() {
        let mut c = fixture();
        let e = &mut c.entries[1];
        assert_eq!(e.author, "dsl.patel");
        e.worker = "door-tablet".into();
        assert!(
            table(&c).contains("| NURSERY-12 (dsl.patel via door-tablet)"),
            "{}",
            table(&c)
        );
        assert!(table(&c).contains("| HV-NORTH (hv.jones)\n"));
        let csv = csv(&c);
        let row = csv.lines().nth(2).unwrap();
        assert!(row.ends_with(",door-tablet"), "{row}");
        let j = json(&c);
        assert_eq!(j["entries"][1]["device_worker"], "door-tablet");
        assert!(j["entries"][0].get("device_worker").is_none());
    }
}
