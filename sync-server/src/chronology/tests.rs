//! Reconciliation's tests, and the fixtures (`record`, the children) that
//! `family`'s tests share.

use super::*;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::{DeviceId, Envelope, RecordHash, Seq};

pub(crate) const ANNA: &str = "nhs:9434765919";
pub(crate) const BEN: &str = "nhs:4010232137";
pub(crate) const CARA: &str = "local:LA-NORTH:C-0042";

pub(crate) fn record(device: u8, seq: u64, json: &str) -> FiledRecord {
    let body = parse_body(
        json,
        &Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        },
    )
    .unwrap_or_else(|e| panic!("fixture {json}: {e}"));
    let received = body.occurred_at.0 + 3_600;
    let envelope = Envelope {
        version: body.format_version(),
        device: DeviceId([device; 8]),
        seq: Seq(seq),
        prev: RecordHash::GENESIS,
        device_time: Timestamp(received),
        body,
    };
    FiledRecord::from_envelope(
        &envelope,
        Timestamp(received),
        Timestamp(received),
        false,
        false,
    )
}

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn concern(children: &str, at: &str, headline: &str) -> String {
    format!(
        r#"{{"kind":"concern","children":[{children}],"occurred_at":"{at}","headline":"{headline}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
    )
}

#[test]
fn entries_are_ordered_by_when_things_happened_not_when_synced() {
    let mut late = record(
        1,
        2,
        &concern(&format!("\"{ANNA}\""), "2026-01-01T09:00:00Z", "First"),
    );
    late.received_at = Timestamp(i64::MAX / 2);
    let early_synced = record(
        1,
        1,
        &concern(&format!("\"{ANNA}\""), "2026-02-01T09:00:00Z", "Second"),
    );
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[early_synced, late], &view, DateRange::default());
    let heads: Vec<_> = e.iter().map(|e| e.headline.as_str()).collect();
    assert_eq!(heads, ["First", "Second"]);
}

#[test]
fn ties_break_by_agency_then_device_then_seq() {
    let at = "2026-01-01T09:00:00Z";
    let a = record(2, 1, &concern(&format!("\"{ANNA}\""), at, "B-agency dev2"));
    let mut b = record(1, 1, &concern(&format!("\"{ANNA}\""), at, "A-agency"));
    b.line.agency = "AAA".into();
    let c = record(1, 2, &concern(&format!("\"{ANNA}\""), at, "B-agency dev1"));
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[a, b, c], &view, DateRange::default());
    let heads: Vec<_> = e.iter().map(|e| e.headline.as_str()).collect();
    assert_eq!(heads, ["A-agency", "B-agency dev1", "B-agency dev2"]);
}

#[test]
fn an_entry_naming_two_siblings_appears_once_in_the_family_view() {
    let both = record(
        1,
        1,
        &concern(
            &format!("\"{ANNA}\",\"{BEN}\""),
            "2026-01-01T09:00:00Z",
            "Both",
        ),
    );
    let ben = record(
        1,
        2,
        &concern(&format!("\"{BEN}\""), "2026-01-02T09:00:00Z", "Ben"),
    );
    let view = BTreeSet::from([child(ANNA), child(BEN)]);
    let e = reconcile(&[both.clone(), ben.clone()], &view, DateRange::default());
    assert_eq!(e.len(), 2);
    let only_anna = reconcile(
        &[both, ben],
        &BTreeSet::from([child(ANNA)]),
        DateRange::default(),
    );
    assert_eq!(only_anna.len(), 1);
}

#[test]
fn an_amendment_corrects_the_entry_and_keeps_the_original() {
    let orig = record(
        1,
        1,
        &concern(&format!("\"{ANNA}\""), "2026-01-05T09:00:00Z", "Wrong date"),
    );
    let am = record(
        1,
        2,
        &format!(
            r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-01-04T09:00:00Z","headline":"Right date","corrects":"{}","reason":"date typed wrongly"}}"#,
            orig.line.id
        ),
    );
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[orig.clone(), am.clone()], &view, DateRange::default());
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].headline, "Right date");
    assert_eq!(e[0].occurred_at, am.line.occurred_at);
    let info = e[0].amended.as_ref().unwrap();
    assert_eq!(info.original_headline, "Wrong date");
    assert_eq!(info.amended_by, am.line.id);
    assert_eq!(info.reason, "date typed wrongly");
    assert!(e[0].flags.contains(&Flag::Amended));
    // An amendment whose original is not here shows on its own.
    let alone = reconcile(&[am], &view, DateRange::default());
    assert_eq!(alone[0].kind, RecordKind::Amendment);
}

#[test]
fn flags_follow_the_record() {
    let voice = record(
        1,
        1,
        &format!(
            r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-01-01T09:00:00Z","headline":"V","mode":"behaviour","behaviour":"hid"}}"#
        ),
    );
    let meeting = record(
        1,
        2,
        &format!(
            r#"{{"kind":"meeting","children":["{ANNA}"],"occurred_at":"2026-01-02T09:00:00Z","headline":"M","meeting_type":"core_group","attendees":[{{"name":"SW"}}],"minutes":"not_recorded"}}"#
        ),
    );
    let review = record(
        1,
        3,
        &format!(
            r#"{{"kind":"developmental_review","children":["{ANNA}"],"occurred_at":"2026-01-03T09:00:00Z","headline":"R","contact":"1_year","was_not_brought":true}}"#
        ),
    );
    let esc = record(
        1,
        4,
        &format!(
            r#"{{"kind":"escalation","children":["{ANNA}"],"occurred_at":"2026-01-04T09:00:00Z","headline":"E","stage":1,"raised_by":"HV","raised_with":"SW","disputed":"inaction","disagreement":"x"}}"#
        ),
    );
    let mut late = record(
        1,
        5,
        &concern(&format!("\"{ANNA}\""), "2026-01-05T09:00:00Z", "L"),
    );
    late.late_entry = true;
    late.disputed = true;
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(
        &[voice, meeting, review, esc, late],
        &view,
        DateRange::default(),
    );
    let flags: Vec<_> = e.iter().map(|e| e.flags.clone()).collect();
    assert_eq!(
        flags,
        vec![
            vec![Flag::NoAction],
            vec![Flag::MinutesNotRecorded],
            vec![Flag::WasNotBrought],
            vec![Flag::Unresolved],
            vec![Flag::LateEntry, Flag::Disputed],
        ]
    );
}

#[test]
fn an_event_dated_after_its_capture_is_flagged() {
    // Captured (clock corrected) an hour before the date it gives: a
    // mistyped date or local time entered as UTC. Within the tolerance
    // it is not flagged.
    let json = concern(&format!("\"{ANNA}\""), "2026-01-05T10:00:00Z", "F");
    let mut future = record(1, 1, &json);
    future.corrected_time = Timestamp(future.line.occurred_at.0 - 3_600);
    let mut close = record(1, 2, &json);
    close.corrected_time = Timestamp(close.line.occurred_at.0 - 600);
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[future, close], &view, DateRange::default());
    let flags: Vec<_> = e.iter().map(|e| e.flags.clone()).collect();
    assert_eq!(flags, vec![vec![Flag::FutureDated], vec![]]);
}

#[test]
fn a_date_range_is_inclusive() {
    let a = record(
        1,
        1,
        &concern(&format!("\"{ANNA}\""), "2026-01-01T09:00:00Z", "A"),
    );
    let b = record(
        1,
        2,
        &concern(&format!("\"{ANNA}\""), "2026-01-02T09:00:00Z", "B"),
    );
    let range = DateRange {
        from: Some(b.line.occurred_at),
        to: None,
    };
    let e = reconcile(&[a, b], &BTreeSet::from([child(ANNA)]), range);
    assert_eq!(e.len(), 1);
}

#[test]
fn issue_11_an_amendment_of_another_devices_record_changes_nothing() {
    let orig = record(
        1,
        1,
        &concern(&format!("\"{BEN}\""), "2026-01-05T09:00:00Z", "About Ben"),
    );
    // Device 2 claims to correct device 1's record: stored before
    // ingest refused such amendments.
    let forged = record(
        2,
        1,
        &format!(
            r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"1900-01-01T09:00:00Z","headline":"Moved","corrects":"{}","reason":"date typed wrongly"}}"#,
            orig.line.id
        ),
    );
    let both = [orig.clone(), forged.clone()];
    let ben = reconcile(&both, &BTreeSet::from([child(BEN)]), DateRange::default());
    assert_eq!(ben.len(), 1);
    assert_eq!(ben[0].headline, "About Ben");
    assert_eq!(ben[0].occurred_at, orig.line.occurred_at);
    assert!(ben[0].amended.is_none());
    let anna = BTreeSet::from([child(ANNA)]);
    let a = reconcile(&both, &anna, DateRange::default());
    assert_eq!(a.len(), 1, "only the amendment itself");
    assert_eq!(a[0].record_id, forged.line.id);
    assert!(!a[0].headline.contains("Ben"));
    assert_eq!(disclosed(&a, &anna), anna);
}

#[test]
fn issue_11_an_own_amendment_moving_children_discloses_both() {
    let orig = record(
        1,
        1,
        &concern(&format!("\"{BEN}\""), "2026-01-05T09:00:00Z", "Wrong child"),
    );
    let am = record(
        1,
        2,
        &format!(
            r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-01-05T09:00:00Z","headline":"Right child","corrects":"{}","reason":"child chosen wrongly"}}"#,
            orig.line.id
        ),
    );
    let anna = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[orig, am], &anna, DateRange::default());
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].amended.as_ref().unwrap().original_headline,
        "Wrong child"
    );
    assert_eq!(
        disclosed(&e, &anna),
        BTreeSet::from([child(ANNA), child(BEN)])
    );
}

fn revision(at: &str, headline: &str, corrects: RecordId, reason: &str, rest: &str) -> String {
    format!(
        r#"{{"kind":"revision","children":["{ANNA}"],"occurred_at":"{at}","headline":"{headline}","corrects":"{corrects}","reason":"{reason}",{rest}}}"#
    )
}

#[test]
fn issue_12_a_revision_corrects_structured_fields_and_the_flags_follow() {
    let voice = record(
        1,
        1,
        &format!(
            r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-11-26T09:00:00Z","headline":"Hid under the table","mode":"behaviour","behaviour":"hid"}}"#
        ),
    );
    let fixed = record(
        1,
        2,
        &revision(
            "2026-11-26T09:00:00Z",
            "Hid under the table",
            voice.line.id,
            "action left out by mistake",
            r#""revised":{"kind":"voice","mode":"behaviour","behaviour":"hid","action":"Shared with the GP and social worker"}"#,
        ),
    );
    let view = BTreeSet::from([child(ANNA)]);
    let before = reconcile(std::slice::from_ref(&voice), &view, DateRange::default());
    assert_eq!(before[0].flags, vec![Flag::NoAction]);
    let e = reconcile(&[voice.clone(), fixed], &view, DateRange::default());
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].flags, vec![Flag::Amended], "no_action is gone");
    assert_eq!(e[0].kind, RecordKind::Voice);
    assert_eq!(e[0].occurred_at, voice.line.occurred_at);
}

#[test]
fn issue_12_a_record_entered_in_error_stays_struck_through_and_links_no_family() {
    let both = record(
        1,
        1,
        &concern(
            &format!("\"{ANNA}\",\"{BEN}\""),
            "2026-11-26T09:00:00Z",
            "Both at nursery",
        ),
    );
    let retract = record(
        1,
        2,
        &format!(
            r#"{{"kind":"revision","children":["{ANNA}","{BEN}"],"occurred_at":"2026-11-26T09:00:00Z","headline":"Both at nursery","corrects":"{}","reason":"recorded against the wrong family","entered_in_error":true}}"#,
            both.line.id
        ),
    );
    let records = [both.clone(), retract.clone()];
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&records, &view, DateRange::default());
    assert_eq!(e.len(), 1, "the entry stays: nothing is deleted");
    assert!(e[0].flags.contains(&Flag::EnteredInError));
    let last = e[0].amended.as_ref().unwrap().versions.last().unwrap();
    assert!(last.entered_in_error);
    assert_eq!(last.author, "hv.jones");
    assert_eq!(
        last.reason.as_deref(),
        Some("recorded against the wrong family")
    );
    let table = format::table(&Chronology {
        child: child(ANNA),
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
        family: false,
        children: vec![child(ANNA)],
        entries: e,
    });
    assert!(
        table.contains("[ENTERED IN ERROR] Concern: Both at nursery"),
        "{table}"
    );
    assert!(
        table.contains("recorded against the wrong family"),
        "{table}"
    );
    assert_eq!(
        retracted(&records),
        BTreeSet::from([both.line.id, retract.line.id])
    );
    assert!(retracted(std::slice::from_ref(&both)).is_empty());
    // An old-style amendment after the retraction corrects only the common
    // fields: the entry stays struck through, and so it still links no
    // family (one rule for both; they disagreed before).
    let later = record(
        1,
        3,
        &format!(
            r#"{{"kind":"amendment","children":["{ANNA}","{BEN}"],"occurred_at":"2026-11-26T09:00:00Z","headline":"Both at nursery","corrects":"{}","reason":"headline reworded"}}"#,
            retract.line.id
        ),
    );
    let records = [both.clone(), retract.clone(), later.clone()];
    let e = reconcile(&records, &view, DateRange::default());
    assert!(e[0].flags.contains(&Flag::EnteredInError));
    assert!(retracted(&records).contains(&both.line.id));
}

#[test]
fn issue_12_an_amendment_whose_original_has_not_arrived_is_pending_then_applied() {
    let orig = record(
        1,
        1,
        &concern(&format!("\"{ANNA}\""), "2026-01-05T09:00:00Z", "Original"),
    );
    let am = record(
        1,
        2,
        &revision(
            "2026-01-04T09:00:00Z",
            "Corrected",
            orig.line.id,
            "date typed wrongly",
            r#""revised":{"kind":"concern","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}"#,
        ),
    );
    let view = BTreeSet::from([child(ANNA)]);
    let alone = reconcile(std::slice::from_ref(&am), &view, DateRange::default());
    assert_eq!(alone.len(), 1);
    assert_eq!(alone[0].flags, vec![Flag::CorrectsUnknownRecord]);
    assert!(alone[0].amended.is_none(), "held pending, not applied");
    let both = reconcile(&[am, orig.clone()], &view, DateRange::default());
    assert_eq!(both.len(), 1);
    assert_eq!(both[0].record_id, orig.line.id);
    assert_eq!(both[0].headline, "Corrected");
    assert_eq!(both[0].flags, vec![Flag::Amended]);
}

#[test]
fn issue_12_an_amendment_of_an_amendment_is_the_latest_version_and_keeps_the_chain() {
    let orig = record(
        1,
        1,
        &concern(&format!("\"{ANNA}\""), "2026-01-05T09:00:00Z", "First"),
    );
    let rest = r#""revised":{"kind":"concern","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}"#;
    let am1 = record(
        1,
        2,
        &revision(
            "2026-01-05T09:00:00Z",
            "Second",
            orig.line.id,
            "headline wrong",
            rest,
        ),
    );
    let am2 = record(
        1,
        3,
        &revision(
            "2026-01-05T09:00:00Z",
            "Third",
            am1.line.id,
            "still wrong",
            rest,
        ),
    );
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[am2.clone(), orig, am1], &view, DateRange::default());
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].headline, "Third");
    let a = e[0].amended.as_ref().unwrap();
    assert_eq!(a.amended_by, am2.line.id);
    let chain: Vec<_> = a
        .versions
        .iter()
        .map(|v| (v.headline.as_str(), v.reason.as_deref()))
        .collect();
    assert_eq!(
        chain,
        [
            ("First", None),
            ("Second", Some("headline wrong")),
            ("Third", Some("still wrong"))
        ]
    );
    let json = format::json(&Chronology {
        child: child(ANNA),
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
        family: false,
        children: vec![child(ANNA)],
        entries: e,
    });
    assert_eq!(json["entries"][0]["versions"][2]["reason"], "still wrong");
}

/// On main an amendment of an amendment vanished: the second was
/// folded into the first, which was itself folded away.
#[test]
fn issue_12_an_amendment_of_an_old_style_amendment_is_not_lost() {
    let orig = record(
        1,
        1,
        &concern(&format!("\"{ANNA}\""), "2026-01-05T09:00:00Z", "First"),
    );
    let amendment = |seq: u64, headline: &str, corrects: RecordId| {
        record(
            1,
            seq,
            &format!(
                r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-01-05T09:00:00Z","headline":"{headline}","corrects":"{corrects}","reason":"typed wrongly"}}"#
            ),
        )
    };
    let am1 = amendment(2, "Second", orig.line.id);
    let am2 = amendment(3, "Third", am1.line.id);
    let view = BTreeSet::from([child(ANNA)]);
    let e = reconcile(&[orig, am1, am2], &view, DateRange::default());
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].headline, "Third");
    assert_eq!(e[0].amended.as_ref().unwrap().versions.len(), 3);
}
