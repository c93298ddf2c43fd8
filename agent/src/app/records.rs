//! Records: `/records`, every record this device holds with its state
//! (pending, synced, or not accepted with the server's reason), and
//! `/records/{id}`, one record in full: every field of its body as the
//! JSON form names it, with a label, then links to correct it or mark it
//! as entered in error (`/records/{id}/amend`, `/records/{id}/retract`,
//! whose forms are [`super::forms`]'). Text from records and from the
//! server goes through maud, which escapes it.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hearth_shared::json::body_to_json;
use hearth_shared::{ChildRef, Envelope, RecordId};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::home::store_failed;
use super::{AppState, layout, localtime};
use crate::store::{LocalRecord, RecordStore, StoreError, SyncStatus};

/// `/records` and `/records/{id}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/records", get(list))
        .route("/records/{id}", get(detail))
}

/// `fish_and_chips` / `home-visit` → `Fish and chips` / `Home visit`.
pub fn label(key: &str) -> String {
    let spaced = key.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Every field of a JSON value as (label, value) rows: objects by key,
/// lists of words joined, lists of groups numbered (`Injuries 2 › Body
/// region`). Nulls are left out.
pub fn field_rows(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            label(key)
        } else {
            format!("{prefix} › {}", label(key))
        }
    };
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, v) in map {
                field_rows(&join(key), v, rows);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let words: Vec<String> = items.iter().map(scalar).collect();
            rows.push((
                prefix.to_string(),
                if words.is_empty() {
                    "None".into()
                } else {
                    words.join(", ")
                },
            ));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                field_rows(&format!("{prefix} {}", i + 1), item, rows);
            }
        }
        other => rows.push((prefix.to_string(), scalar(other))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "Yes".into(),
        Value::Bool(false) => "No".into(),
        other => other.to_string(),
    }
}

/// The fields a record's body shows, the common ones first.
pub fn body_rows(envelope: &Envelope) -> Vec<(String, String)> {
    let mut json = body_to_json(&envelope.body);
    let mut rows = Vec::new();
    if let Value::Object(map) = &mut json {
        for key in [
            "kind",
            "children",
            "occurred_at",
            "headline",
            "author",
            "agency",
        ] {
            if let Some(v) = map.remove(key) {
                field_rows(&label(key), &v, &mut rows);
            }
        }
    }
    field_rows("", &json, &mut rows);
    rows
}

fn state_tag(status: SyncStatus) -> Markup {
    let (class, text) = match status {
        SyncStatus::Pending => ("tag tag--pending", "Waiting to send"),
        SyncStatus::Synced => ("tag tag--synced", "Sent"),
        SyncStatus::Rejected => ("tag tag--rejected", "Not accepted"),
        SyncStatus::Quarantined => ("tag tag--quarantined", "Held for review"),
    };
    html! { strong class=(class) { (text) } }
}

/// `/records`' filters.
#[derive(Deserialize, Default)]
struct ListQuery {
    child: Option<String>,
    state: Option<String>,
}

/// One row of the list.
struct Row {
    id: RecordId,
    record: LocalRecord,
    envelope: Option<Envelope>,
}

fn read_rows(
    state: &AppState,
    child: Option<&ChildRef>,
    not_accepted: bool,
) -> Option<Result<Vec<Row>, StoreError>> {
    state.with_unlocked(|u| {
        let device = u.settings.device_id;
        let records = match child {
            Some(c) => u.store.for_child(c)?,
            None => u.store.all()?,
        };
        let mut rows: Vec<Row> = records
            .into_iter()
            .filter(|r| {
                !not_accepted || matches!(r.status, SyncStatus::Rejected | SyncStatus::Quarantined)
            })
            .map(|record| Row {
                id: RecordId {
                    device,
                    seq: record.seq,
                },
                envelope: record.envelope().ok(),
                record,
            })
            .filter(|row| {
                child.is_none_or(|c| {
                    row.envelope
                        .as_ref()
                        .is_some_and(|e| e.body.children.contains(c))
                })
            })
            .collect();
        rows.reverse();
        Ok(rows)
    })
}

fn row_markup(row: &Row) -> Markup {
    let id = row.id.to_string();
    html! {
        tr {
            td {
                a href={ "/records/" (id) } {
                    @match &row.envelope {
                        Some(e) => (e.body.headline.as_str()),
                        None => "Unreadable record",
                    }
                }
                br;
                span class="body-s" { (id) }
            }
            td {
                @if let Some(e) = &row.envelope {
                    (label(e.body.detail.kind().as_str()))
                    br;
                    span class="body-s" { (localtime::date_time(e.body.occurred_at)) }
                }
            }
            td {
                (state_tag(row.record.status))
                @if !row.record.reason.is_empty() {
                    p class="body-s" { "Reason: " (row.record.reason) }
                }
            }
        }
    }
}

/// A record sent and then purged: its body is gone from the tablet.
fn purged(rid: RecordId, at: hearth_shared::Timestamp) -> Response {
    let title = format!("Record {rid}");
    let page = layout::page(
        &title,
        html! {
            h1 class="heading-l" { (title) }
            p { "This record was sent and its contents removed from the tablet on " (localtime::date_time(at)) ". The server keeps it." }
            p { a href={ "/records" } { "Back to the records" } }
        },
    );
    layout::html(page).into_response()
}

/// `GET /records`.
async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Response {
    let child = match query
        .child
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(str::parse::<ChildRef>)
    {
        Some(Err(e)) => {
            let page = layout::page(
                "Records",
                html! { h1 class="heading-l" { "Records" } p { "That child reference is not valid: " (e.to_string()) } },
            );
            return (StatusCode::BAD_REQUEST, layout::html(page)).into_response();
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    let not_accepted = query.state.as_deref() == Some("not-accepted");
    let rows = match read_rows(&state, child.as_ref(), not_accepted) {
        None => return Redirect::to("/unlock").into_response(),
        Some(Err(e)) => return store_failed(&e),
        Some(Ok(rows)) => rows,
    };
    let heading = match (&child, not_accepted) {
        (Some(c), _) => format!("Records about {c}"),
        (None, true) => "Records not accepted".to_string(),
        (None, false) => "Records".to_string(),
    };
    let page = layout::page(
        &heading,
        html! {
            h1 class="heading-l" { (heading) }
            @if child.is_some() || not_accepted { p { a href="/records" { "Show all records" } } }
            @if rows.is_empty() {
                p { "No records." }
            } @else {
                table class="table" id="records" {
                    thead { tr { th scope="col" { "Record" } th scope="col" { "Kind and time" } th scope="col" { "State" } } }
                    tbody { @for row in &rows { (row_markup(row)) } }
                }
            }
        },
    );
    layout::html(page).into_response()
}

fn not_found(id: &str) -> Response {
    let page = layout::page(
        "Record not found",
        html! {
            h1 class="heading-l" { "Record not found" }
            p { "There is no record " (id) " on this tablet." }
            p { a href="/records" { "See all records" } }
        },
    );
    (StatusCode::NOT_FOUND, layout::html(page)).into_response()
}

/// `GET /records/{id}`.
async fn detail(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(rid) = id.parse::<RecordId>() else {
        return not_found(&id);
    };
    // A purged record has no row to get (its body is gone), only the time
    // it was purged: read that first, as `show` does.
    let read = state.with_unlocked(|u| {
        if rid.device != u.settings.device_id {
            return Ok((None, None));
        }
        Ok::<_, StoreError>((u.store.purged_at(rid.seq)?, u.store.get(rid.seq)?))
    });
    let record = match read {
        None => return Redirect::to("/unlock").into_response(),
        Some(Err(e)) => return store_failed(&e),
        Some(Ok((_, Some(record)))) => record,
        Some(Ok((Some(at), None))) => return purged(rid, at),
        Some(Ok((None, None))) => return not_found(&id),
    };
    let envelope = record.envelope().ok();
    let title = envelope
        .as_ref()
        .map_or_else(|| rid.to_string(), |e| e.body.headline.as_str().to_string());
    let page = layout::page(
        &title,
        html! {
            span class="body-s" { "Record " (rid) }
            h1 class="heading-l" { (title) }
            dl class="summary-list" id="record-state" {
                div class="summary-list__row" { dt class="summary-list__key" { "State" } dd class="summary-list__value" { (state_tag(record.status)) } }
                @if !record.reason.is_empty() {
                    div class="summary-list__row" { dt class="summary-list__key" { "Server's reason" } dd class="summary-list__value" { (record.reason) } }
                }
                div class="summary-list__row" { dt class="summary-list__key" { "Saved on this tablet" } dd class="summary-list__value" { (localtime::date_time(record.captured_at)) } }
            }
            @match &envelope {
                Some(e) => {
                    h2 class="heading-m" { "What was recorded" }
                    p class="body-s" { "Happened at " (localtime::date_time(e.body.occurred_at)) }
                    dl class="summary-list" id="record-fields" {
                        @for (key, value) in body_rows(e) {
                            div class="summary-list__row" { dt class="summary-list__key" { (key) } dd class="summary-list__value" { (value) } }
                        }
                    }
                    h2 class="heading-m" { "Something wrong?" }
                    ul class="link-list" {
                        li { a href={ "/records/" (rid) "/amend" } id="amend" { "Correct this record" } }
                        li { a href={ "/records/" (rid) "/retract" } id="retract" { "Mark as entered in error" } }
                    }
                }
                None => p { "This record cannot be read on this tablet." },
            }
            p { a href={ "/records" } { "Back to the records" } }
        },
    );
    layout::html(page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_words() {
        assert_eq!(label("seen_or_said"), "Seen or said");
        assert_eq!(label("home-visit"), "Home visit");
        assert_eq!(label(""), "");
    }

    #[test]
    fn every_field_becomes_a_row() {
        let value: Value = serde_json::json!({
            "observations": [{"domain": "nutrition", "grade": 4}, {"domain": "home", "grade": 2}],
            "words": ["a", "b"], "none": [], "skipped": null, "flag": true
        });
        let mut rows = Vec::new();
        field_rows("", &value, &mut rows);
        let expect = [
            ("Flag", "Yes"),
            ("None", "None"),
            ("Observations 1 › Domain", "nutrition"),
            ("Observations 1 › Grade", "4"),
            ("Observations 2 › Domain", "home"),
            ("Observations 2 › Grade", "2"),
            ("Words", "a, b"),
        ];
        let got: Vec<(&str, &str)> = rows.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expect);
    }
}
