//! `/admin/devices`: every enrolled device with its agency, worker and
//! staff, when it was last seen, its clock in words ("2 min fast"), the
//! gaps in its chain and its forks (alarms), and whether it is revoked;
//! `POST /admin/devices/{id}/revoke` (field `reason`) revokes one through
//! [`admin::revoke`], the `revoke` command's function.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hearth_shared::DeviceId;
use maud::{Markup, html};

use super::{
    Answer, Problem, ReasonForm, admin_page, answer, confirmation, reason_field, status_of, when,
};
use crate::admin;
use crate::backend::Backend;
use crate::clock::Clock;
use crate::http::AppState;
use crate::localtime::Zone;
use crate::store::{Alarm, Device, Store};
use crate::web::{Admin, Viewer, layout};

/// What the page says above the list.
#[derive(Debug, Default)]
pub struct Outcome {
    /// What was done.
    pub done: Option<Markup>,
    /// What was refused, by field id.
    pub problems: Vec<Problem>,
    /// The device whose form had a problem (its form is opened again).
    pub device: Option<DeviceId>,
    /// The reason given, to fill in again.
    pub reason: String,
}

/// `GET /admin/devices`.
pub async fn page<S: Backend>(Admin(viewer): Admin, State(state): State<AppState<S>>) -> Response {
    answer(state, move |st| {
        list(st.store(), &st.zone, &viewer, Outcome::default())
    })
    .await
}

/// `POST /admin/devices/{id}/revoke`.
pub async fn revoke<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    answer(state, move |st| {
        revoke_device(
            st.store(),
            st.clock.as_ref(),
            &st.zone,
            &viewer,
            &id,
            &form.reason,
        )
    })
    .await
}

/// The id of a device's reason field.
fn reason_id(d: DeviceId) -> String {
    format!("reason-{d}")
}

/// Revokes device `id` for `reason` and answers with the list: the
/// confirmation, or the problem with the form filled in again. A device
/// already revoked keeps its first revocation (when and why).
pub fn revoke_device<S: Store>(
    store: &S,
    clock: &dyn Clock,
    zone: &Zone,
    viewer: &Viewer,
    id: &str,
    reason: &str,
) -> Answer {
    let Ok(device) = id.parse::<DeviceId>() else {
        return Ok((
            StatusCode::NOT_FOUND,
            not_found(viewer, "That is not a device id"),
        ));
    };
    let mut outcome = Outcome {
        device: Some(device),
        reason: reason.to_string(),
        ..Outcome::default()
    };
    match store.device(device)? {
        None => return Ok((StatusCode::NOT_FOUND, not_found(viewer, "No such device"))),
        Some(Device {
            revoked: Some(r), ..
        }) => outcome.problems.push((
            "devices".into(),
            format!(
                "Device {device} was already revoked at {}, because: {}",
                zone.show(r.at),
                r.reason
            ),
        )),
        Some(_) => match admin::revoke(store, clock, device, reason) {
            Ok(()) => {
                tracing::info!(who = %viewer.name, %device, "device revoked on the web");
                outcome = Outcome {
                    done: Some(html! {
                        p { "Device " strong { (device) } " is revoked. It can no longer sync; "
                            "records it already sent stay in the chronology." }
                    }),
                    ..Outcome::default()
                };
            }
            Err(e) => outcome
                .problems
                .push((reason_id(device), super::refusal_message(e)?)),
        },
    }
    list(store, zone, viewer, outcome)
}

fn not_found(viewer: &Viewer, title: &str) -> Markup {
    admin_page(
        viewer,
        title,
        &[],
        html! {
            h1 class="heading-l" { (title) }
            p { a href="/admin/devices" { "See every enrolled device" } }
        },
    )
}

/// The devices page over what the store holds.
pub fn list<S: Store>(store: &S, zone: &Zone, viewer: &Viewer, outcome: Outcome) -> Answer {
    let devices = store.devices()?;
    let alarms = store.alarms()?;
    let status = status_of(&outcome.problems);
    Ok((status, render(viewer, zone, &devices, &alarms, &outcome)))
}

/// The devices page: the table, then a revoke form for each device not
/// revoked (full width below the table, each behind a disclosure; the
/// table's "Revoke" link targets the form's field, which a browser opens
/// the disclosure to show).
pub fn render(
    viewer: &Viewer,
    zone: &Zone,
    devices: &[Device],
    alarms: &[Alarm],
    outcome: &Outcome,
) -> Markup {
    let live: Vec<&Device> = devices.iter().filter(|d| d.revoked.is_none()).collect();
    let content = html! {
        @if let Some(done) = &outcome.done { (confirmation("Device revoked", done.clone())) }
        h1 class="heading-l" { "Devices" }
        p { "Every enrolled tablet. Times are local (" (zone.name()) "). A fork is two different records "
            "signed with the same number: both are kept in quarantine for a person to look at." }
        @if devices.is_empty() {
            p id="devices" { "No device is enrolled yet. Issue an enrolment token with "
                code { "hearth-server enrol-token" } "." }
        } @else {
            table class="table table--admin" id="devices" {
                caption class="visually-hidden" { "Enrolled devices" }
                thead { tr {
                    th scope="col" { "Device" } th scope="col" { "Agency" } th scope="col" { "Worker" }
                    th scope="col" { "Staff" } th scope="col" { "Last seen" } th scope="col" { "Clock" }
                    th scope="col" { "Gaps" } th scope="col" { "Forks" } th scope="col" { "Revoked" }
                } }
                tbody {
                    @for d in devices { (row(d, alarms, zone)) }
                }
            }
        }
        @if !live.is_empty() {
            h2 class="heading-m" id="revoke" { "Revoke a device" }
            p { "A revoked device can no longer sync. Records it already sent stay in the chronology." }
            @for d in live { (revoke_form(viewer, d, outcome)) }
        }
    };
    admin_page(viewer, "Devices", &outcome.problems, content)
}

fn row(d: &Device, alarms: &[Alarm], zone: &Zone) -> Markup {
    let forks: Vec<&Alarm> = alarms.iter().filter(|a| a.device == d.id).collect();
    html! {
        tr id={ "device-" (d.id) } {
            td class="nowrap" { code { (d.id) } }
            td { (d.agency) }
            td { (d.worker) }
            td { @if d.staff.is_empty() { "none" } @else { (d.staff.join(", ")) } }
            td { (when(zone, d.last_seen)) }
            td { (clock_words(d.clock.offset)) }
            td {
                @if d.gaps.is_empty() { "none" } @else {
                    ul class="list-plain" {
                        @for (from, to) in &d.gaps {
                            li { @if from == to { "record " (from) } @else { "records " (from) " to " (to) } }
                        }
                    }
                }
            }
            td {
                @if forks.is_empty() { "none" } @else {
                    strong class="tag tag--rejected" { (forks.len()) @if forks.len() == 1 { " fork" } @else { " forks" } }
                    ul class="list-plain" {
                        @for a in &forks { li { "record " (a.seq) ", " (zone.show(a.raised_at)) ": " (a.message) } }
                    }
                }
            }
            td {
                @if let Some(r) = &d.revoked { strong { "Revoked" } " " (zone.show(r.at)) ": " (r.reason) }
                @else { "No. " a href={ "#" (reason_id(d.id)) } { "Revoke" span class="visually-hidden" { " device " (d.id) } } }
            }
        }
    }
}

fn revoke_form(viewer: &Viewer, d: &Device, outcome: &Outcome) -> Markup {
    let mine = outcome.device == Some(d.id);
    let problems: &[Problem] = if mine { &outcome.problems } else { &[] };
    html! {
        details class="admin-action" id={ "revoke-" (d.id) } open[mine] {
            summary { "Revoke " (d.id) " (" (d.agency) ", " (d.worker) ")" }
            form method="post" action={ "/admin/devices/" (d.id) "/revoke" } novalidate {
                (layout::csrf_field(viewer))
                (reason_field(&reason_id(d.id), &format!("Why are you revoking device {}?", d.id), if mine { &outcome.reason } else { "" }, problems))
                button class="button button--warning" type="submit" { "Revoke device" }
            }
        }
    }
}

/// How far a device's clock is from the server's, in words: "on time",
/// "2 min fast", "3 h slow", "not known yet".
pub fn clock_words(offset: Option<i64>) -> String {
    let Some(offset) = offset else {
        return "not known yet".to_string();
    };
    let secs = offset.unsigned_abs();
    if secs < 2 {
        return "on time".to_string();
    }
    let (n, unit) = match secs {
        0..60 => (secs, "s"),
        60..3_600 => (secs / 60, "min"),
        3_600..172_800 => (secs / 3_600, "h"),
        _ => (secs / 86_400, "days"),
    };
    let way = if offset > 0 { "fast" } else { "slow" };
    format!("{n} {unit} {way}")
}

#[cfg(test)]
mod tests {
    use hearth_shared::{Seq, Timestamp};

    use super::*;
    use crate::clock::{ClockState, FixedClock};
    use crate::store::{Revocation, Role};
    use crate::web::admin::testing::{INJECTIONS, NOW, enrol, inert, store, viewer};

    #[test]
    fn a_clock_offset_reads_in_words() {
        for (offset, words) in [
            (None, "not known yet"),
            (Some(0), "on time"),
            (Some(-1), "on time"),
            (Some(30), "30 s fast"),
            (Some(125), "2 min fast"),
            (Some(-7_200), "2 h slow"),
            (Some(3 * 86_400 + 5), "3 days fast"),
        ] {
            assert_eq!(clock_words(offset), words, "{offset:?}");
        }
    }

    fn hostile_device() -> Device {
        Device {
            id: DeviceId([0xab; 8]),
            public_key: [0; 32],
            agency: INJECTIONS[0].into(),
            worker: INJECTIONS[1].into(),
            staff: vec![INJECTIONS[0].into()],
            enrolled_at: NOW,
            last_seen: Some(NOW),
            clock: ClockState {
                offset: Some(125),
                last_report: None,
            },
            revoked: None,
            gaps: vec![(Seq(4), Seq(6)), (Seq(9), Seq(9))],
        }
    }

    #[test]
    fn every_stored_text_is_inert_and_gaps_and_forks_are_shown() {
        let mut revoked = hostile_device();
        revoked.id = DeviceId([0xcd; 8]);
        revoked.revoked = Some(Revocation {
            at: NOW,
            reason: INJECTIONS[1].into(),
        });
        let fork = Alarm {
            id: 1,
            raised_at: NOW,
            device: DeviceId([0xab; 8]),
            seq: Seq(3),
            message: INJECTIONS[0].into(),
        };
        let page = render(
            &viewer("root", Role::Admin),
            &Zone::default(),
            &[hostile_device(), revoked],
            &[fork],
            &Outcome::default(),
        )
        .into_string();
        assert!(inert(&page), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(page.contains("2 min fast"), "{page}");
        assert!(
            page.contains("records 4 to 6") && page.contains("record 9"),
            "{page}"
        );
        assert!(page.contains("1 fork"), "{page}");
        // The live device has a revoke form with the CSRF field; the
        // revoked one shows when and why instead.
        assert!(page.contains(r#"action="/admin/devices/abababababababab/revoke""#));
        assert!(!page.contains(r#"action="/admin/devices/cdcdcdcdcdcdcdcd/revoke""#));
        assert!(page.contains(r#"name="csrf" value="c5rf""#));
        assert!(page.contains("2027-01-15 08:00 GMT"), "{page}");
    }

    #[test]
    fn a_device_is_revoked_once_with_a_reason_that_is_kept() {
        let (_dir, store) = store();
        let (_, device) = enrol(&store, 7, "HV-NORTH", "hv.jones");
        let admin = viewer("root", Role::Admin);
        let zone = Zone::default();
        let clock = FixedClock(NOW);
        let id = device.to_string();

        let (status, page) = revoke_device(&store, &clock, &zone, &admin, &id, "lost").unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let page = page.into_string();
        assert!(page.contains(&format!("href=\"#reason-{id}\"")), "{page}");
        assert!(page.contains("has 4 visible characters"), "{page}");
        assert!(!page.contains("--reason"), "no command-line hint: {page}");
        assert!(store.device(device).unwrap().unwrap().revoked.is_none());

        let (status, page) =
            revoke_device(&store, &clock, &zone, &admin, &id, "tablet lost on the bus").unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(page.into_string().contains("is revoked"));
        let first = store.device(device).unwrap().unwrap().revoked.unwrap();
        assert_eq!(first.reason, "tablet lost on the bus");

        // A second revocation (a form sent again) keeps the first.
        let later = FixedClock(Timestamp(NOW.0 + 3_600));
        let (status, page) =
            revoke_device(&store, &later, &zone, &admin, &id, "another reason given").unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.into_string().contains("was already revoked"));
        assert_eq!(store.device(device).unwrap().unwrap().revoked, Some(first));

        for bad in ["0000000000000000", "not-a-device"] {
            let (status, _) =
                revoke_device(&store, &clock, &zone, &admin, bad, "tablet lost on the bus")
                    .unwrap();
            assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        }
    }
}
