//! A record's own fields in the chronology formats (issue 15): [`json`],
//! the `detail` object of a JSON entry and of `GET /v1/records/{id}` (one
//! serializer for both), and [`panel`], the CSV's panel columns.
//!
//! The panel columns are what a case-review panel scans a chronology for,
//! each a short cell, empty where the kind has none:
//!
//! | column | from | cell |
//! | --- | --- | --- |
//! | `hungry` | daily presentation | `yes` or `no` |
//! | `injuries` | daily presentation | `region: description (carer: ..., child: ...)`, ` \| ` between injuries |
//! | `grades_4_or_5` | home visit observations, neglect summary grades | `domain:grade`, `;` between |
//! | `below_threshold` | developmental review outcomes | the domains, `;` between |
//! | `action` | voice of the child (action), concern (action: detail), escalation (outcome) | the text |

use std::fmt::Write as _;

use hearth_shared::RecordKind;
use hearth_shared::json::detail_to_json;
use hearth_shared::kinds::Detail;
use hearth_shared::kinds::developmental_review::DevOutcome;
use hearth_shared::kinds::vocabulary::{CareDomain, Grade};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The panel columns' names, in order (after the CSV's other columns).
pub const PANEL_COLUMNS: [&str; 5] = [
    "hungry",
    "injuries",
    "grades_4_or_5",
    "below_threshold",
    "action",
];

/// A record's own fields as JSON: `{"kind": ..., <the kind's fields>}`,
/// the fields as the record's JSON form names them (what `record` reads).
/// Serialised directly, without a `serde_json::Value` tree first (a
/// chronology of 5,000 entries carries 5,000 of them), except a revision
/// shown on its own (its JSON form is built by the core).
#[derive(Debug, Clone, Copy)]
pub struct Json<'a>(pub &'a Detail);

/// `kind`, then the fields of `inner`.
#[derive(Serialize)]
struct Flat<'a, T: Serialize> {
    kind: RecordKind,
    #[serde(flatten)]
    inner: &'a T,
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kind = self.0.kind();
        match self.0 {
            Detail::HomeVisit(d) => Flat { kind, inner: d }.serialize(s),
            Detail::DailyPresentation(d) => Flat { kind, inner: d }.serialize(s),
            Detail::Voice(d) => Flat { kind, inner: d }.serialize(s),
            Detail::Concern(d) => Flat { kind, inner: d }.serialize(s),
            Detail::DevelopmentalReview(d) => Flat { kind, inner: d }.serialize(s),
            Detail::Meeting(d) => Flat { kind, inner: d }.serialize(s),
            Detail::Escalation(d) => Flat { kind, inner: d }.serialize(s),
            Detail::NeglectSummary(d) => Flat { kind, inner: d }.serialize(s),
            Detail::Amendment(d) => Flat { kind, inner: d }.serialize(s),
            Detail::Revision(_) => {
                let mut obj = Map::new();
                obj.insert("kind".into(), kind.as_str().into());
                if let Value::Object(fields) = detail_to_json(self.0) {
                    obj.extend(fields);
                }
                obj.serialize(s)
            }
        }
    }
}

/// [`Json`] as a value (the record endpoint builds its answer as one).
pub fn json(d: &Detail) -> Value {
    serde_json::to_value(Json(d)).expect("record fields serialize")
}

/// The grades of 4 or 5 (a concern, on the graded care profile's scale).
fn high_grades<'a>(grades: impl Iterator<Item = (CareDomain, Grade)> + 'a) -> String {
    let mut out = String::new();
    for (domain, grade) in grades.filter(|(_, g)| g.0 >= 4) {
        if !out.is_empty() {
            out.push(';');
        }
        let _ = write!(out, "{}:{}", domain.as_str(), grade.0);
    }
    out
}

/// The panel cells of `d`, in [`PANEL_COLUMNS`] order (empty where the
/// kind has none).
pub fn panel(d: &Detail) -> [String; 5] {
    let mut cells: [String; 5] = Default::default();
    match d {
        Detail::DailyPresentation(p) => {
            cells[0] = if p.hungry { "yes" } else { "no" }.to_string();
            let mut injuries = String::new();
            for i in p.injuries.iter() {
                if !injuries.is_empty() {
                    injuries.push_str(" | ");
                }
                let _ = write!(injuries, "{}: {}", i.body_region.as_str(), i.description);
                let carer = i.carer_explanation.trim();
                let child = i.child_account.trim();
                match (carer.is_empty(), child.is_empty()) {
                    (true, true) => injuries.push_str(" (no explanation)"),
                    (false, true) => {
                        let _ = write!(injuries, " (carer: {carer})");
                    }
                    (true, false) => {
                        let _ = write!(injuries, " (child: {child})");
                    }
                    (false, false) => {
                        let _ = write!(injuries, " (carer: {carer}; child: {child})");
                    }
                }
            }
            cells[1] = injuries;
        }
        Detail::HomeVisit(v) => {
            cells[2] = high_grades(v.observations.iter().map(|o| (o.domain, o.grade)));
        }
        Detail::NeglectSummary(n) => {
            cells[2] = high_grades(n.grades.iter().map(|g| (g.area, g.grade)));
        }
        Detail::DevelopmentalReview(r) => {
            let below: Vec<&str> = r
                .outcomes
                .iter()
                .filter(|o| o.outcome == DevOutcome::BelowThreshold)
                .map(|o| o.domain.as_str())
                .collect();
            cells[3] = below.join(";");
        }
        Detail::Voice(v) => cells[4] = v.action.to_string(),
        Detail::Concern(c) => {
            cells[4] = format!("{}: {}", c.action.as_str(), c.action_detail);
        }
        Detail::Escalation(e) => cells[4] = e.outcome.to_string(),
        Detail::Meeting(_) | Detail::Amendment(_) | Detail::Revision(_) => {}
    }
    cells
}
