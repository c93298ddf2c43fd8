//! `/admin/quarantine`: what is kept aside (forks, whole; rejected records,
//! whole or a prefix or nothing) and the alarms, as `hearth-server
//! quarantine` lists them, and each held record's content: decoded where
//! its bytes decode ([`admin::decode_held`]), else a hex preview.
//!
//! Held records are genuine records about children, so the page asks a
//! reason first (`GET`, field `reason`) and the `POST` writes the read to
//! the access log through [`admin::read_quarantine`], the command's own
//! step, before anything is shown. It is logged as `quarantine-bytes`, as
//! the command logs `--bytes`: the page shows the records' content, not
//! only their verdicts.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_shared::printable::json_escaped;
use maud::{Markup, html};

use super::{Answer, Problem, ReasonForm, admin_page, answer, reason_field, refusal_message, when};
use crate::admin;
use crate::backend::Backend;
use crate::clock::Clock;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::{Alarm, Held, Store, Via};
use crate::web::{Admin, Viewer, layout};

/// How many bytes of an undecodable record the hex preview shows.
pub const HEX_PREVIEW_BYTES: usize = 256;

/// `GET /admin/quarantine`: the reason form.
pub async fn ask<S: Backend>(Admin(viewer): Admin, State(state): State<AppState<S>>) -> Response {
    answer(state, move |_| {
        Ok((StatusCode::OK, ask_page(&viewer, "", &[])))
    })
    .await
}

/// `POST /admin/quarantine`: the audited read.
pub async fn show<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Form(form): Form<ReasonForm>,
) -> Response {
    answer(state, move |st| {
        read(
            st.store(),
            st.clock.as_ref(),
            &st.zone,
            &viewer,
            &form.reason,
        )
    })
    .await
}

/// The read: refused with the form again (400), or logged and shown.
pub fn read<S: Store>(
    store: &S,
    clock: &dyn Clock,
    zone: &Zone,
    viewer: &Viewer,
    reason: &str,
) -> Answer {
    match admin::read_quarantine(store, clock, &viewer.name, reason, Via::QuarantineBytes) {
        Ok((held, alarms)) => Ok((StatusCode::OK, render(viewer, zone, &held, &alarms))),
        Err(e) => {
            let problems = vec![("reason".to_string(), refusal_message(e)?)];
            Ok((StatusCode::BAD_REQUEST, ask_page(viewer, reason, &problems)))
        }
    }
}

/// The reason form, with `reason` and its problem filled in again.
pub fn ask_page(viewer: &Viewer, reason: &str, problems: &[Problem]) -> Markup {
    let content = html! {
        h1 class="heading-l" { "Quarantine" }
        p { "Records kept aside are records about children: a fork is two genuine records with one number. "
            "Reading them is written to the access log, with your reason, before they are shown." }
        form method="post" action="/admin/quarantine" novalidate {
            (layout::csrf_field(viewer))
            (reason_field("reason", "Why are you reading the quarantine?", reason, problems))
            button class="button" type="submit" { "Show the quarantine" }
        }
    };
    admin_page(viewer, "Quarantine", problems, content)
}

/// The quarantine: held records with their content, then the alarms.
pub fn render(viewer: &Viewer, zone: &Zone, held: &[Held], alarms: &[Alarm]) -> Markup {
    let content = html! {
        h1 class="heading-l" { "Quarantine" }
        p { "Your read is in the access log. Times are local (" (zone.name()) ")." }
        h2 class="heading-m" { "Records kept aside" }
        @if held.is_empty() { p id="quarantine" { "Nothing is kept aside." } } @else {
            table class="table table--admin" id="quarantine" {
                caption class="visually-hidden" { "Records kept aside, oldest first" }
                thead { tr {
                    th scope="col" { "Device" } th scope="col" { "Record" } th scope="col" { "Status" }
                    th scope="col" { "Why" } th scope="col" { "Received" } th scope="col" { "Size" }
                    th scope="col" { "Content" }
                } }
                tbody { @for h in held { (held_row(h, zone)) } }
            }
        }
        h2 class="heading-m" { "Alarms" }
        @if alarms.is_empty() { p id="alarms" { "No alarm has been raised." } } @else {
            table class="table" id="alarms" {
                caption class="visually-hidden" { "Alarms, oldest first" }
                thead { tr { th scope="col" { "Raised" } th scope="col" { "Device" } th scope="col" { "Record" }
                             th scope="col" { "What happened" } } }
                tbody {
                    @for a in alarms {
                        tr { td { (zone.show(a.raised_at)) } td class="nowrap" { code { (a.device) } } td { (a.seq) } td { (a.message) } }
                    }
                }
            }
        }
    };
    admin_page(viewer, "Quarantine", &[], content)
}

fn held_row(h: &Held, zone: &Zone) -> Markup {
    html! {
        tr id={ "held-" (h.id) } {
            td class="nowrap" { code { (h.device) } }
            td { @match h.seq { Some(s) => (s), None => "unreadable" } }
            td { strong class={ "tag tag--" (h.status.as_str()) } { (h.status.as_str()) } }
            td { (h.reason) }
            td { (when(zone, Some(h.received_at))) }
            td { (h.length) " bytes" @if !h.is_whole() { " (" (h.bytes.len()) " kept)" } }
            td { (content(h, zone)) }
        }
    }
}

/// A held record's content: the decoded record as JSON, a hex preview of
/// bytes that do not decode, or a note that none were kept.
pub fn content(h: &Held, zone: &Zone) -> Markup {
    if let Some(envelope) = admin::decode_held(h) {
        // Hidden characters (bidirectional overrides, controls) are shown
        // as escapes, as in the command's JSON; maud escapes the markup.
        let json = serde_json::to_string_pretty(&envelope.body)
            .map(json_escaped)
            .unwrap_or_else(|e| format!("(cannot show the decoded record: {e})"));
        return html! {
            details class="admin-content" {
                summary { "Decoded record " (envelope.id()) ", captured " (zone.show(envelope.device_time)) " by the device's clock" }
                pre class="admin-pre" { (json) }
            }
        };
    }
    if h.bytes.is_empty() {
        return html! { "None kept (past the device's quarantine budget)" };
    }
    let shown = &h.bytes[..h.bytes.len().min(HEX_PREVIEW_BYTES)];
    html! {
        details class="admin-content" {
            summary { "Does not decode: the first " (shown.len()) " bytes in hex" }
            pre class="admin-pre" { (hex_lines(shown)) }
        }
    }
}

/// Bytes as hex, 16 to a line in groups of two.
fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| {
            line.chunks(2)
                .map(hex::encode)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use hearth_shared::Seq;

    use super::*;
    use crate::clock::FixedClock;
    use crate::store::{HoldStatus, Role};
    use crate::web::admin::testing::{INJECTIONS, NOW, enrol, inert, signed, store, viewer};

    const ANNA: &str = "nhs:9434765919";

    fn held(device: hearth_shared::DeviceId, bytes: Vec<u8>, length: u64, reason: &str) -> Held {
        Held {
            id: 0,
            device,
            seq: Some(Seq(2)),
            status: HoldStatus::Rejected,
            reason: reason.into(),
            bytes,
            length,
            digest: [0; 32],
            received_at: NOW,
        }
    }

    #[test]
    fn a_read_is_logged_first_and_shows_decoded_content_or_hex_inertly() {
        let (_dir, mut store) = store();
        let (key, device) = enrol(&store, 9, "HV-NORTH", "hv.jones");
        let headline = format!("Bruise under the eye {}", INJECTIONS[0]);
        let record = signed(
            &key,
            2,
            &format!(
                r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"{}","mode":"behaviour","behaviour":"hid"}}"#,
                headline.replace('"', "\\\"")
            ),
        );
        let junk = b"\x01\x02<script>alert(1)</script>".to_vec();
        let len = record.len() as u64;
        store
            .ingest(|tx| {
                tx.hold(&held(device, record, len, INJECTIONS[1]))?;
                tx.hold(&held(device, junk, 4_000, "not a record"))?;
                tx.raise_alarm(device, Seq(2), INJECTIONS[0], NOW)
            })
            .unwrap();
        let (zone, clock) = (Zone::default(), FixedClock(NOW));
        let admin = viewer("root", Role::Admin);

        let (status, page) = read(&store, &clock, &zone, &admin, "curious").unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let page = page.into_string();
        assert!(
            page.contains("href=\"#reason\"") && !page.contains("Bruise"),
            "{page}"
        );
        assert!(store.access_log().unwrap().is_empty());

        let (status, page) = read(&store, &clock, &zone, &admin, "checking a fork alarm").unwrap();
        assert_eq!(status, StatusCode::OK);
        let page = page.into_string();
        assert!(inert(&page), "{page}");
        assert!(
            page.contains("Bruise under the eye &lt;script&gt;"),
            "{page}"
        );
        assert!(page.contains("Does not decode"), "{page}");
        assert!(page.contains("0102 3c73"), "the hex preview: {page}");
        assert!(page.contains("4000 bytes (27 kept)"), "{page}");
        let log = store.access_log().unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].via, Via::QuarantineBytes);
        assert_eq!(log[0].who, "root");
        assert_eq!(log[0].children, vec![ANNA.parse().unwrap()]);
    }
}
