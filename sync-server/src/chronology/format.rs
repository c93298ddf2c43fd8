//! Renders a [`Chronology`]: [`table`] (DATE | ACTIVITY | AGENCY, the shape
//! of a case-review chronology; a family table adds CHILDREN), [`csv()`]
//! (RFC 4180, a header row) and [`json`].
//!
//! The practice signals ([`crate::signals`]) of the children in view show
//! above the lines: the table prints a "Signals" section
//! ([`signals_table`]) after its title, and the JSON has a top-level
//! `signals` array ([`signals_json`]), always present. The CSV, one row
//! per entry, does not carry them.
//!
//! Table and CSV show times as people read them: local time in a
//! [`Zone`] with its abbreviation ("2026-07-01 10:30 BST"; default
//! Europe/London), all through one function, `date_time`. The CSV also
//! keeps each time in UTC (`occurred_at_utc`) so a spreadsheet can sort
//! and compare across zones. JSON keeps RFC 3339 UTC.
//!
//! Every text field was written on some agency's device and is untrusted
//! here. Table and CSV cells show control, bidirectional and invisible
//! characters escaped ([`Escaped`], `\u{1b}`), so no field can start a
//! new row, move the cursor or reorder a line; JSON writes them as `\uXXXX`
//! escapes ([`json_escaped`]), which parse back to the same text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hearth_shared::printable::{Escaped, json_escaped};
use hearth_shared::{ChildRef, RecordId, RecordKind, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::{Chronology, Entry};
use crate::localtime::Zone;

pub mod detail;
pub mod names;
mod signals;

pub use signals::{signals_json, signals_table};

hearth_shared::words! {
    /// An output format: `table`, `csv` or `json` (the words the CLI's
    /// `--format` and the API's `?format=` take).
    pub enum Format {
        /// Plain-text table.
        Table => "table",
        /// CSV.
        Csv => "csv",
        /// JSON.
        Json => "json",
    }
}

impl Format {
    /// What it is, for a person choosing one (`--help`).
    pub const fn summary(self) -> &'static str {
        match self {
            Self::Table => "DATE | ACTIVITY | AGENCY (a family table adds CHILDREN)",
            Self::Csv => "CSV with a header row",
            Self::Json => "JSON",
        }
    }

    /// Whether it shows each record's own fields (JSON `detail`, the CSV's
    /// panel columns), which are read from the stored bytes
    /// ([`crate::record::attach`]) after the pull.
    pub const fn shows_detail(self) -> bool {
        matches!(self, Self::Csv | Self::Json)
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
    pub fn render_compact(self, c: &Chronology, zone: &Zone) -> String {
        match self {
            Self::Json => json_text(c, false),
            other => other.render_in(c, zone),
        }
    }

    /// Renders `c`, times in the default zone (Europe/London).
    pub fn render(self, c: &Chronology) -> String {
        self.render_in(c, &Zone::default())
    }

    /// Renders `c`, times in the table and CSV in `zone`.
    pub fn render_in(self, c: &Chronology, zone: &Zone) -> String {
        match self {
            Self::Table => table_in(c, zone),
            Self::Csv => csv_in(c, zone),
            Self::Json => json_text(c, true),
        }
    }
}

/// The JSON form of `c`, indented or not, with a final line break.
fn json_text(c: &Chronology, pretty: bool) -> String {
    let view = json_view(c);
    let text = if pretty {
        serde_json::to_string_pretty(&view)
    } else {
        serde_json::to_string(&view)
    };
    let mut s = json_escaped(text.expect("chronology JSON serializes"));
    s.push('\n');
    s
}

/// A time as people read it, in `zone`: `[date, time, zone]`, such as
/// `["2026-07-01", "10:30", "BST"]`. Every time in a table or CSV goes
/// through here.
fn date_time(t: Timestamp, zone: &Zone) -> [String; 3] {
    let (date, time, abbreviation) = zone.parts(t);
    [date, time, abbreviation]
}

fn flag_list(e: &Entry) -> Vec<&'static str> {
    e.flags.iter().map(|f| f.as_str()).collect()
}

/// The table's mark of a record entered in error (the entry stays,
/// struck through in words).
pub const ENTERED_IN_ERROR_MARK: &str = "[ENTERED IN ERROR]";

fn activity(e: &Entry, zone: &Zone) -> String {
    let mut s = format!("{}: {}", e.kind.label(), e.headline);
    let retracted = e.flags.contains(&super::Flag::EnteredInError);
    if retracted {
        s = format!("{ENTERED_IN_ERROR_MARK} {s}");
    }
    // A retraction keeps every other flag (disputed, late entry, …) in
    // view, as the CSV and JSON do.
    let flags: Vec<&str> = flag_list(e)
        .into_iter()
        .filter(|f| !retracted || *f != super::Flag::EnteredInError.as_str())
        .collect();
    if !flags.is_empty() {
        let _ = write!(s, " [{}]", flags.join(", "));
    }
    if retracted {
        if let Some(v) = e.amended.as_ref().and_then(|a| a.versions.last()) {
            let _ = write!(
                s,
                " (entered in error: marked by {} on {}: {})",
                v.author,
                zone.show(v.recorded_at),
                v.reason.as_deref().unwrap_or_default()
            );
        }
        return s;
    }
    if let Some(a) = &e.amended {
        let _ = write!(
            s,
            " (amended by {}: {}; originally \"{}\" on {})",
            a.amended_by,
            a.reason,
            a.original_headline,
            date_time(a.original_occurred_at, zone)[0]
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

/// The CHILDREN cell: the children an entry is about, each by name and
/// reference where the register knows it ("Amy Brown (nhs:…)").
fn children_cell(e: &Entry, c: &Chronology) -> String {
    let children: Vec<String> = e
        .children
        .iter()
        .map(|r| names::named(r, &c.names))
        .collect();
    children.join(", ")
}

/// The table, times in Europe/London.
pub fn table(c: &Chronology) -> String {
    table_in(c, &Zone::default())
}

/// The table: a title line, then DATE | ACTIVITY | AGENCY, times in
/// `zone`; a family table adds CHILDREN after DATE (which children each
/// entry is about).
pub fn table_in(c: &Chronology, zone: &Zone) -> String {
    let mut head = vec!["DATE", "ACTIVITY", "AGENCY"];
    if c.family {
        head.insert(1, "CHILDREN");
    }
    let rows: Vec<Vec<String>> = c
        .entries
        .iter()
        .map(|e| {
            let mut row = vec![
                date_time(e.occurred_at, zone).join(" "),
                Escaped(&activity(e, zone)).to_string(),
                Escaped(&agency_cell(e)).to_string(),
            ];
            if c.family {
                row.insert(1, Escaped(&children_cell(e, c)).to_string());
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let who: Vec<String> = c
        .children
        .iter()
        .map(|r| names::named(r, &c.names))
        .collect();
    let child = names::described(&c.child, &c.names);
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
    // The signals sit above the lines and point into them; they never
    // hide or reorder one.
    out.push_str(&signals_table(&c.signals, zone));
    let last = head.len() - 1;
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str(" | ");
            }
            l.push_str(cell);
            if i < last {
                l.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
        }
        l.push('\n');
        l
    };
    out.push_str(&line(&head));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&rule.join("-+-"));
    out.push('\n');
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    if rows.is_empty() {
        out.push_str("(no entries)\n");
    }
    out
}

/// One CSV cell's text, before quoting: hidden characters escaped, and a
/// leading formula character made text.
fn cell(s: &str) -> String {
    let s = Escaped(s).to_string();
    // Managers open these files in spreadsheets. A cell that starts with
    // `=`, `+`, `-`, `@`, tab or carriage return would be run as a formula
    // (CSV injection, OWASP); a leading apostrophe makes it plain text. The
    // text is recorded by other agencies' devices, so it is untrusted here.
    // (Tab and carriage return are escaped above, but the rule stays
    // whole in case the escaping ever changes.) The `csv` crate quotes;
    // guarding against formulas is not its job, so it stays here.
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

/// A CSV writer after `start` (the header row): fields quoted only when
/// they must be (a comma, quote, CR or LF; quotes doubled, RFC 4180),
/// rows ended with CRLF.
fn csv_writer(start: &str) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(csv::Terminator::CRLF)
        .from_writer(start.as_bytes().to_vec())
}

/// The CSV, times in Europe/London.
pub fn csv(c: &Chronology) -> String {
    csv_in(c, &Zone::default())
}

/// The CSV: a header row, one row per entry, CRLF line ends. `date`,
/// `time` and `zone` are local (in `zone`), what a manager reads;
/// `occurred_at_utc` is the same instant in RFC 3339 UTC, for sorting
/// and comparing. The last five columns are the panel's
/// ([`detail::PANEL_COLUMNS`]), from each entry's fields in
/// [`Chronology::details`] (empty where they were not attached), then
/// `child_names` (issue 17, appended at the end so that no existing
/// column moves): each child as `Name (ref)` where the register knows
/// it, joined by `; `.
pub fn csv_in(c: &Chronology, zone: &Zone) -> String {
    let mut out = csv_writer(
        "date,time,zone,occurred_at_utc,record_id,agency,author,kind,headline,children,flags,amended,original_headline,amended_by,amendment_reason,device_worker,hungry,injuries,grades_4_or_5,below_threshold,action,child_names\r\n",
    );
    for e in &c.entries {
        let [date, time, abbreviation] = date_time(e.occurred_at, zone);
        let children: Vec<String> = e.children.iter().map(ToString::to_string).collect();
        let (orig, by, why) = match &e.amended {
            Some(a) => (
                a.original_headline.clone(),
                a.amended_by.to_string(),
                a.reason.clone(),
            ),
            None => Default::default(),
        };
        let [hungry, injuries, grades, below, action] = c
            .details
            .get(&e.record_id)
            .map(detail::panel)
            .unwrap_or_default();
        let row = [
            date,
            time,
            abbreviation,
            e.occurred_at.to_string(),
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
            hungry,
            injuries,
            grades,
            below,
            action,
            child_names(e, c),
        ];
        out.write_record(row.iter().map(|f| cell(f)))
            .expect("writing to memory");
    }
    let bytes = out.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

/// The CSV's `child_names` cell: `Name (ref)` for each child, `; `-joined.
fn child_names(e: &Entry, c: &Chronology) -> String {
    let children: Vec<String> = e
        .children
        .iter()
        .map(|r| names::named(r, &c.names))
        .collect();
    children.join("; ")
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
    /// The record's own fields ([`detail::Json`]), where attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<detail::Json<'a>>,
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
    /// The register's label of each reference in view it knows
    /// (issue 17): person id, name, `born` and `expected` as
    /// `YYYY-MM-DD` or null. Always present, maybe empty.
    names: BTreeMap<&'a ChildRef, names::JsonLabel<'a>>,
    /// The practice signals of the children in view (always present,
    /// maybe empty).
    signals: Vec<signals::JsonSignal<'a>>,
}

fn json_view(c: &Chronology) -> JsonChronology<'_> {
    JsonChronology {
        child: &c.child,
        children: &c.children,
        family: c.family,
        names: c
            .names
            .iter()
            .map(|(r, l)| (r, names::JsonLabel::of(l)))
            .collect(),
        signals: c.signals.iter().map(signals::JsonSignal::of).collect(),
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
                detail: c.details.get(&e.record_id).map(detail::Json),
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
mod tests;
