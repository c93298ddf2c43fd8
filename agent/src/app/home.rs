//! The home screen (`/`) and sync on demand (`/sync`).
//!
//! Home shows, when the server has sent a caseload (issue 17), a "Due"
//! list of its tasks (overdue first, each state in words, a task a record
//! captured here clears shown done); the children this device has
//! recorded, by reference; the pending,
//! synced and rejected counts, the last sync in local time, a "Sync now"
//! button and the background sync's state. `POST /sync` wakes the
//! background sync (it never runs the network on the page's thread);
//! `GET /sync/status` is the indicator's text, which the script polls.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hearth_shared::Timestamp;
use maud::{Markup, html};

use super::background::Status;
use super::{AppState, layout, localtime, security};
use crate::caseload::{TaskState, due_list, states};
use crate::commands::held_caseload;
use crate::store::{RecordStore, StatusCounts, StoreError};

/// `/`, `/sync` and `/sync/status`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sync", get(sync_page).post(sync_now))
        .route("/sync/status", get(sync_status))
}

/// A child this device has recorded: how many records name them, and the
/// latest time one of them happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSummary {
    /// The child's reference (`nhs:…` or `local:…`).
    pub child: String,
    /// Records naming the child.
    pub records: usize,
    /// The latest `occurred_at` among them.
    pub latest: Timestamp,
}

/// What the home screen shows, read in one go under the store's lock.
struct HomeData {
    worker: String,
    agency: String,
    children: Vec<ChildSummary>,
    counts: StatusCounts,
    last_sync: Option<Timestamp>,
    enrolled: bool,
    unreadable: usize,
    /// The caseload's tasks (overdue first); `None` without a caseload.
    due: Option<Vec<DueRow>>,
}

/// One line of the "Due" list.
struct DueRow {
    name: String,
    child: String,
    label: String,
    due: Timestamp,
    state: TaskState,
}

/// The held caseload's tasks in the home screen's order.
fn due_rows(
    store: &crate::store::LocalStore,
    now: Timestamp,
) -> Result<Option<Vec<DueRow>>, StoreError> {
    let Some((caseload, captures)) = held_caseload(store)? else {
        return Ok(None);
    };
    let children = states(&caseload, &captures, now);
    Ok(Some(
        due_list(&children)
            .into_iter()
            .map(|i| DueRow {
                name: i.child.name.clone(),
                child: i.child.child.clone(),
                label: i.task.label.clone(),
                due: i.task.due,
                state: i.state,
            })
            .collect(),
    ))
}

/// A task's state in words (never colour alone): "Overdue since 3 March
/// 2026", "Due 5 March 2026", "Done (recorded 4 March 2026, not sent yet)".
fn state_words(due: Timestamp, state: TaskState) -> String {
    match state {
        TaskState::Overdue => format!("Overdue since {}", localtime::date_words(due)),
        TaskState::Due => format!("Due {}", localtime::date_words(due)),
        TaskState::Done { captured, synced } => format!(
            "Done (recorded {}{})",
            localtime::date_words(captured),
            if synced { "" } else { ", not sent yet" }
        ),
    }
}

fn due_list_markup(rows: &[DueRow]) -> Markup {
    html! {
        h2 class="heading-m" id="due-heading" { "Due" }
        @if rows.is_empty() {
            p id="due-none" { "Nothing is due for the children on your caseload." }
        } @else {
            table class="table" id="due" {
                thead { tr { th scope="col" { "Child" } th scope="col" { "What" } th scope="col" { "When" } } }
                tbody {
                    @for r in rows {
                        tr class={ "due due--" (r.state.word()) } {
                            td { a href={ "/records?child=" (hearth_shared::url::encode(&r.child, b"")) } { (r.name) } }
                            td { (r.label) }
                            td {
                                @if r.state == TaskState::Overdue { strong { (state_words(r.due, r.state)) } }
                                @else { (state_words(r.due, r.state)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The children the records name, most recently seen first.
pub fn children_of(store: &dyn RecordStore) -> Result<(Vec<ChildSummary>, usize), StoreError> {
    let mut by_child: BTreeMap<String, ChildSummary> = BTreeMap::new();
    let mut unreadable = 0;
    for record in store.all()? {
        let Ok(envelope) = record.envelope() else {
            unreadable += 1;
            continue;
        };
        let occurred = envelope.body.occurred_at;
        for child in envelope.body.children.iter() {
            let entry = by_child
                .entry(child.to_string())
                .or_insert_with(|| ChildSummary {
                    child: child.to_string(),
                    records: 0,
                    latest: occurred,
                });
            entry.records += 1;
            entry.latest = entry.latest.max(occurred);
        }
    }
    let mut children: Vec<_> = by_child.into_values().collect();
    children.sort_by(|a, b| b.latest.cmp(&a.latest).then_with(|| a.child.cmp(&b.child)));
    Ok((children, unreadable))
}

fn read_home(state: &AppState) -> Option<Result<HomeData, StoreError>> {
    let now = state.clock().now();
    state.with_unlocked(|u| {
        let (children, unreadable) = children_of(&u.store)?;
        Ok(HomeData {
            worker: u.settings.worker.to_string(),
            agency: u.settings.agency.to_string(),
            children,
            counts: u.store.counts()?,
            last_sync: u.store.sync_state()?.last_sync_at,
            enrolled: u.store.registration()?.is_some(),
            unreadable,
            due: due_rows(&u.store, now)?,
        })
    })
}

/// The store failed: say so plainly (the message names no record data).
pub(crate) fn store_failed(e: &StoreError) -> Response {
    let page = layout::page(
        "Something went wrong",
        html! {
            h1 class="heading-l" { "Something went wrong" }
            p { "The tablet's store could not be read: " (e.to_string()) }
            p { "Nothing you saved has been lost. Try again; if it keeps happening, tell your administrator." }
        },
    );
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        layout::html(page),
    )
        .into_response()
}

fn counts_list(counts: &StatusCounts) -> Markup {
    html! {
        ul class="counts" {
            li id="count-pending" { strong { (counts.pending) } "waiting to send" }
            li id="count-synced" { strong { (counts.synced) } "sent" }
            li id="count-rejected" { strong { (counts.rejected + counts.quarantined) } "not accepted" }
        }
    }
}

fn sync_panel(data: &HomeData, status: &Status) -> Markup {
    html! {
        h2 class="heading-m" { "Sending records" }
        @if !data.enrolled {
            div class="notification" {
                p { "This tablet is not connected to a server yet, so records stay here." }
                a class="button" href="/enrol" { "Connect to your server" }
            }
        } @else {
            p id="last-sync" {
                "Last sent: "
                @match data.last_sync {
                    Some(t) => (localtime::date_time(t)),
                    None => "never",
                }
            }
            p id="sync-state" { (status.text()) }
            form method="post" action="/sync" {
                (security::csrf_field())
                button class="button button--secondary" type="submit" id="sync-now" { "Sync now" }
            }
        }
    }
}

fn children_list(children: &[ChildSummary], caseload: bool) -> Markup {
    html! {
        h2 class="heading-m" { "Children you have recorded" }
        @if !caseload {
            p class="hint" { "Your caseload will appear here once it comes from the server. Until then, these are the children this tablet has records about." }
        }
        @if children.is_empty() {
            p { "No records yet." }
        } @else {
            table class="table" id="children" {
                thead { tr { th scope="col" { "Child" } th scope="col" { "Records" } th scope="col" { "Latest" } } }
                tbody {
                    @for c in children {
                        tr {
                            td { a href={ "/records?child=" (hearth_shared::url::encode(&c.child, b"")) } { (c.child) } }
                            td { (c.records) }
                            td { (localtime::date_time(c.latest)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /`.
async fn home(State(state): State<AppState>) -> Response {
    let data = match read_home(&state) {
        None => return Redirect::to("/unlock").into_response(),
        Some(Err(e)) => return store_failed(&e),
        Some(Ok(data)) => data,
    };
    let status = state.sync_status();
    let page = layout::page(
        "Home",
        html! {
            h1 class="heading-l" { "Home" }
            p class="body-s" { "Signed in as " (data.worker) " (" (data.agency) ")" }
            a class="button" href="/forms" id="new-record" { "Record something" }
            @if let Some(due) = &data.due { (due_list_markup(due)) }
            (counts_list(&data.counts))
            @if data.counts.rejected + data.counts.quarantined > 0 {
                p { a href="/records?state=not-accepted" { "See the records that were not accepted, and why" } }
            }
            (sync_panel(&data, &status))
            (children_list(&data.children, data.due.is_some()))
            @if data.unreadable > 0 {
                p class="body-s" { (data.unreadable) " record(s) could not be read and are not counted in this list." }
            }
        },
    );
    layout::html(page).into_response()
}

/// `GET /sync`: the state in words (the header indicator links here).
async fn sync_page(State(state): State<AppState>) -> Response {
    let status = state.sync_status();
    let detail = match &status {
        Status::Failed(message) | Status::Revoked(message) => Some(message.clone()),
        _ => None,
    };
    let page = layout::page(
        "Sync",
        html! {
            h1 class="heading-l" { "Sending records" }
            p id="sync-state" { (status.text()) }
            @if let Some(detail) = detail { p class="panel" { (detail) } }
            p { "While Hearth is open and unlocked it sends records by itself: straight after each one is saved, and every few minutes. When there is no connection it tries again later, waiting longer each time (at most 15 minutes)." }
            form method="post" action="/sync" {
                (security::csrf_field())
                button class="button button--secondary" type="submit" { "Sync now" }
            }
            p { a href="/" { "Back to the home page" } }
        },
    );
    layout::html(page).into_response()
}

/// `POST /sync`: wake the background sync, back to home.
async fn sync_now(State(state): State<AppState>) -> Redirect {
    state.sync_soon();
    Redirect::to("/")
}

/// `GET /sync/status`: the indicator's text (plain text, for the script).
async fn sync_status(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.sync_text(),
    )
        .into_response()
}
