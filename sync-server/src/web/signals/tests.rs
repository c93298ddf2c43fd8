//! Tests of the signals' pages: the panel (absent without signals,
//! evidence links to rows, acknowledged or open, hostile text inert), the
//! timeline's marks, the caseload list, and the routes' refusals that need
//! no stored signal.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use hearth_shared::{ChildRef, RecordKind, Timestamp};

use super::ack::{AckForm, targets};
use super::caseload::{ask_page, list_page};
use super::*;
use crate::chronology::{Chronology, DateRange, Flag};
use crate::signals::Acknowledgement;
use crate::store::{Purpose, ReadGrant, Role};
use crate::web::chronology::{ChronologyView, Filters, render, render_with};
use crate::web::find::Glass;
use crate::web::find::tests::{ANNA, BEN, HOSTILE, NOW, get, harness, ids_unique, post, viewer};
use crate::web::timeline;

fn child(s: &str) -> ChildRef {
    s.parse().unwrap()
}

fn id(i: u64) -> RecordId {
    format!("0102030405060708-{i}").parse().unwrap()
}

fn entry(i: u64, agency: &str, headline: &str) -> Entry {
    Entry {
        record_id: id(i),
        occurred_at: Timestamp(NOW - 86_400 * (10 - i as i64)),
        agency: agency.into(),
        author: "a.worker".into(),
        worker: "a.worker".into(),
        kind: RecordKind::Concern,
        headline: headline.into(),
        children: vec![child(ANNA)],
        flags: vec![Flag::Hungry],
        amended: None,
        received_at: Timestamp(NOW),
    }
}

fn signal(rule: Rule, title: &str, evidence: &[u64]) -> Signal {
    Signal {
        rule,
        title: title.into(),
        explanation: format!("{} entries within 90 days", evidence.len()),
        learning_point: "LP3, LP5: neglect builds up across agencies".into(),
        children: vec![child(ANNA)],
        evidence: evidence.iter().map(|i| id(*i)).collect(),
        first_seen: entry(evidence[0], "X", "").occurred_at,
        last_seen: entry(*evidence.last().unwrap(), "X", "").occurred_at,
        acknowledged: None,
    }
}

fn grant(family: bool) -> ReadGrant {
    ReadGrant {
        id: "g1".into(),
        user: "dsl".into(),
        child: child(ANNA),
        family,
        reason: "strategy meeting 12 March".into(),
        purpose: Purpose::CaseReview,
        created_at: Timestamp(NOW - 60),
        expires_at: Timestamp(NOW + 3_600),
    }
}

fn chronology(signals: Vec<Signal>, family: bool) -> Chronology {
    Chronology {
        child: child(ANNA),
        family,
        children: vec![child(ANNA), child(BEN)],
        entries: vec![
            entry(1, "HV-NORTH", "Arrived hungry"),
            entry(2, "NURSERY-12", "Hungry again"),
            entry(3, "SCHOOL-3", "Thin coat"),
        ],
        details: Default::default(),
        signals,
        names: Default::default(),
    }
}

fn page(c: &Chronology, filters: &Filters, draft: Option<&AckDraft>) -> String {
    let v = viewer("dsl", Role::Manager);
    let g = grant(c.family);
    let zone = Zone::default();
    let view = ChronologyView {
        viewer: &v,
        grant: &g,
        chronology: c,
        filters,
        zone: &zone,
        range: DateRange::default(),
        now: Timestamp(NOW),
    };
    render_with(&view, draft).into_string()
}

/// The panel's part of a page.
fn panel_of(page: &str) -> &str {
    let start = page.find(r#"id="signals""#).expect("a signals panel");
    let end = page[start..].find(r#"class="counts-tables""#).unwrap() + start;
    &page[start..end]
}

#[test]
fn without_signals_there_is_no_panel_and_no_ring() {
    let c = chronology(Vec::new(), false);
    let v = viewer("dsl", Role::Manager);
    let g = grant(false);
    let zone = Zone::default();
    let view = ChronologyView {
        viewer: &v,
        grant: &g,
        chronology: &c,
        filters: &Filters::default(),
        zone: &zone,
        range: DateRange::default(),
        now: Timestamp(NOW),
    };
    let html = render(&view).into_string();
    assert!(!html.contains(r#"id="signals""#), "{html}");
    assert!(!html.contains("Signals</h2>") && !html.contains("Acknowledge"));
    assert!(!html.contains("timeline__ring") && !html.contains("Evidence for:"));
    // The rows still have their ids, for links from elsewhere.
    assert!(
        html.contains(r#"<tr id="entry-0102030405060708-1""#),
        "{html}"
    );
    ids_unique(&html);
}

#[test]
fn an_open_signal_links_its_evidence_to_the_rows_and_offers_the_form() {
    let c = chronology(
        vec![signal(
            Rule::ConcernsAccumulating,
            "Concerns are building up across agencies",
            &[1, 3],
        )],
        false,
    );
    let html = page(&c, &Filters::default(), None);
    let panel = panel_of(&html);
    assert!(panel.contains("Concerns are building up across agencies"));
    assert!(panel.contains("2 entries within 90 days"));
    assert!(panel.contains("LP3, LP5: neglect builds up across agencies"));
    assert!(panel.contains("not a score"), "{panel}");
    assert!(
        panel.contains(r##"href="#entry-0102030405060708-1""##),
        "{panel}"
    );
    assert!(
        panel.contains(r##"href="#entry-0102030405060708-3""##),
        "{panel}"
    );
    assert!(!panel.contains("#entry-0102030405060708-2"), "{panel}");
    assert!(panel.contains("Arrived hungry") && panel.contains("HV-NORTH"));
    assert!(panel.contains("Not yet: open"));
    // The form: under the grant, CSRF, a labelled note with its hint.
    assert!(
        panel.contains(r#"action="/children/nhs:9434765919/signals/concerns_accumulating/ack""#),
        "{panel}"
    );
    assert!(panel.contains(r#"name="csrf" value="csrf-token""#));
    assert!(panel.contains(r#"name="grant" value="g1""#));
    assert!(panel.contains(r#"name="children" value="nhs:9434765919""#));
    assert!(panel.contains(r#"<label class="label" for="note-concerns_accumulating">"#));
    assert!(panel.contains(r#"aria-describedby="note-concerns_accumulating-hint""#));
    assert!(panel.contains("no-print"), "the form is not printed");
    // Not in the family view: no list of children.
    assert!(!panel.contains(">Children<"));
    // A signal naming a sibling, read in one child's view, is
    // acknowledged for that child only.
    let mut both = signal(Rule::ConcernsAccumulating, "T", &[1]);
    both.children = vec![child(ANNA), child(BEN)];
    let mut one = chronology(vec![both], false);
    one.children = vec![child(ANNA)];
    let alone = page(&one, &Filters::default(), None);
    assert!(
        alone.contains(r#"name="children" value="nhs:9434765919""#),
        "{alone}"
    );
    // The evidence rows and marks say so; the others do not.
    assert_eq!(
        html.matches("Evidence for: Concerns are building up across agencies")
            .count(),
        2
    );
    assert_eq!(
        html.matches("timeline__mark--evidence").count(),
        2,
        "{html}"
    );
    assert_eq!(
        html.matches("(evidence for: Concerns are building up across agencies)")
            .count(),
        2
    );
    assert!(html.contains("Ringed: evidence for a signal"));
    // The panel sits above the table.
    assert!(html.find(r#"id="signals""#) < html.find(r#"id="chronology""#));
    ids_unique(&html);
}

#[test]
fn evidence_filtered_out_of_the_rows_links_to_its_record() {
    let c = chronology(
        vec![signal(Rule::ConcernsAccumulating, "T", &[1, 3])],
        false,
    );
    let filters = Filters {
        agency: Some("SCHOOL-3".into()),
        ..Filters::default()
    };
    let html = page(&c, &filters, None);
    let panel = panel_of(&html);
    assert!(
        panel.contains(r#"href="/records/0102030405060708-1?grant=g1""#),
        "{panel}"
    );
    assert!(panel.contains("not in the rows shown"));
    assert!(panel.contains(r##"href="#entry-0102030405060708-3""##));
}

#[test]
fn an_acknowledged_signal_says_by_whom_when_and_why_and_has_no_form() {
    let mut s = signal(
        Rule::MeetingsWithoutMinutes,
        "Meetings without minutes",
        &[2],
    );
    s.acknowledged = Some(Acknowledgement {
        child: child(ANNA),
        rule: s.rule,
        by: "team.manager".into(),
        at: Timestamp(NOW - 3_600),
        note: "minutes chased with the chair".into(),
        evidence: s.evidence.clone(),
    });
    let c = chronology(vec![s], false);
    let html = page(&c, &Filters::default(), None);
    let panel = panel_of(&html);
    assert!(panel.contains("team.manager") && panel.contains("minutes chased with the chair"));
    assert!(panel.contains(&Zone::default().show(Timestamp(NOW - 3_600))));
    assert!(!panel.contains("<form"), "{panel}");
    assert!(panel.contains("1 signal, 0 open."));
}

#[test]
fn the_family_view_names_the_children_and_acknowledges_for_each() {
    let mut s = signal(
        Rule::MeetingsWithoutMinutes,
        "Meetings without minutes",
        &[2],
    );
    s.children = vec![child(ANNA), child(BEN)];
    let html = page(&chronology(vec![s], true), &Filters::default(), None);
    let panel = panel_of(&html);
    assert!(panel.contains(">Children<"));
    assert!(panel.contains("nhs:9434765919, nhs:4010232137"), "{panel}");
    assert!(
        panel.contains("value=\"nhs:9434765919\nnhs:4010232137\""),
        "{panel}"
    );
}

#[test]
fn hostile_text_in_signals_and_notes_is_inert() {
    let mut open = signal(
        Rule::AgencyAbsentFromMeetings,
        &format!("title {HOSTILE}"),
        &[1],
    );
    open.explanation = format!("explanation {HOSTILE}");
    open.learning_point = format!("lp {HOSTILE}");
    let mut done = signal(Rule::EscalationUnresolved, "t2", &[2]);
    done.acknowledged = Some(Acknowledgement {
        child: child(ANNA),
        rule: done.rule,
        by: format!("by {HOSTILE}"),
        at: Timestamp(NOW),
        note: format!("note {HOSTILE}"),
        evidence: done.evidence.clone(),
    });
    let draft = AckDraft {
        rule: Rule::AgencyAbsentFromMeetings,
        note: format!("typed {HOSTILE}"),
        error: format!("error {HOSTILE}"),
    };
    let html = page(
        &chronology(vec![open, done], false),
        &Filters::default(),
        Some(&draft),
    );
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{html}"
    );
    for what in ["title", "explanation", "lp", "by", "note", "typed", "error"] {
        assert!(
            html.contains(&format!("{what} &lt;script&gt;alert(1)&lt;/script&gt;")),
            "{what} is shown, escaped"
        );
    }
    // In the timeline's titles too.
    assert!(
        html.contains("(evidence for: title &lt;script&gt;"),
        "{html}"
    );
}

#[test]
fn a_refused_note_is_the_form_again_with_its_error() {
    let c = chronology(vec![signal(Rule::ConcernsAccumulating, "T", &[1])], false);
    let draft = AckDraft {
        rule: Rule::ConcernsAccumulating,
        note: "short".into(),
        error: "The note is too short".into(),
    };
    let html = page(&c, &Filters::default(), Some(&draft));
    assert!(
        html.contains("<title>Error: Chronology for nhs:9434765919"),
        "{html}"
    );
    assert!(html.contains(r##"<a href="#note-concerns_accumulating">The note is too short</a>"##));
    assert!(html.contains("form-group--error"));
    assert!(html.contains(r#"id="note-concerns_accumulating-error""#));
    assert!(html.contains(
        r#"aria-describedby="note-concerns_accumulating-hint note-concerns_accumulating-error""#
    ));
    assert!(html.contains(">short</textarea>"), "{html}");
    ids_unique(&html);
}

#[test]
fn evidence_titles_are_per_record_in_the_signals_order() {
    let a = signal(Rule::ConcernsAccumulating, "A", &[1, 2]);
    let b = signal(Rule::NeglectWithoutAssessment, "B", &[2, 3]);
    let by = evidence_titles(&[a, b]);
    assert_eq!(by[&id(1)], vec!["A".to_string()]);
    assert_eq!(by[&id(2)], vec!["A".to_string(), "B".to_string()]);
    assert_eq!(by[&id(3)], vec!["B".to_string()]);
    let c = chronology(Vec::new(), false);
    let refs: Vec<&Entry> = c.entries.iter().collect();
    let svg = timeline::svg_with(
        &refs,
        &Zone::default(),
        &|e: &Entry| format!("/r/{}", e.record_id),
        timeline::Options {
            evidence: Some(&by),
            ..timeline::Options::default()
        },
    )
    .into_string();
    assert!(svg.contains("(evidence for: A; B)"), "{svg}");
    assert_eq!(
        svg.matches("<circle class=\"timeline__ring\"").count(),
        4,
        "3 marks and the key"
    );
}

fn row(c: &str, at: i64, rules: &[Rule]) -> crate::signals::refresh::CaseloadRow {
    crate::signals::refresh::CaseloadRow {
        child: child(c),
        rules: rules.to_vec(),
        newest_evidence: Timestamp(at),
        signals: rules
            .iter()
            .map(|r| {
                let mut s = signal(*r, &format!("{} {HOSTILE}", r.as_str()), &[1]);
                s.children = vec![child(c)];
                s
            })
            .collect(),
    }
}

#[test]
fn the_caseload_lists_children_newest_evidence_first_linking_to_find() {
    let v = viewer("dsl", Role::Manager);
    let zone = Zone::default();
    let rows = [
        row(BEN, NOW - 90_000, &[Rule::WasNotBroughtRepeated]),
        row(
            ANNA,
            NOW - 1_000,
            &[Rule::ConcernsAccumulating, Rule::MeetingsWithoutMinutes],
        ),
    ];
    let html = list_page(&v, &zone, "caseload review", Purpose::Supervision, &rows).into_string();
    let anna = html
        .find("/find?child=nhs:9434765919")
        .expect("Anna links to find");
    let ben = html
        .find("/find?child=nhs:4010232137")
        .expect("Ben links to find");
    assert!(anna < ben, "most recent first");
    assert!(
        html.contains("concerns_accumulating &lt;script&gt;"),
        "the rules in words, escaped"
    );
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(&zone.show(Timestamp(NOW - 1_000))));
    assert!(html.contains("2 children have an open signal."));
    assert!(html.contains("caseload review"));
    ids_unique(&html);
    let empty = list_page(&v, &zone, "caseload review", Purpose::Supervision, &[]).into_string();
    assert!(empty.contains("No child has an open signal"), "{empty}");
    assert!(!empty.contains("<table"));
}

#[test]
fn the_caseload_form_is_the_glass_forms_fields_with_their_errors() {
    let v = viewer("dsl", Role::Manager);
    let html = ask_page(&v, &Glass::default()).into_string();
    assert!(html.contains(r#"action="/signals""#) && html.contains(r#"name="csrf""#));
    assert!(html.contains(r#"id="reason""#) && html.contains(r#"id="purpose-supervision""#));
    let g = Glass {
        reason: format!("x{HOSTILE}"),
        reason_error: Some("The reason is too short".into()),
        purpose_error: Some("Choose the purpose of reading".into()),
        ..Glass::default()
    };
    let html = ask_page(&v, &g).into_string();
    assert!(html.contains("<title>Error: Signals across the caseload"));
    assert!(
        html.contains(r##"href="#reason""##)
            && html.contains(r##"href="#purpose-strategy_discussion""##)
    );
    assert!(!html.contains("<script>alert"));
}

#[test]
fn an_acknowledgement_is_only_for_children_in_the_grants_view() {
    let view = BTreeSet::from([child(ANNA), child(BEN)]);
    let form = |children: &str| AckForm {
        children: children.into(),
        ..AckForm::default()
    };
    assert_eq!(
        targets(&form(""), &view, &child(ANNA)),
        Some(vec![child(ANNA)])
    );
    // Browsers send a hidden field's line breaks as CR LF.
    assert_eq!(
        targets(
            &form("nhs:9434765919\r\nnhs:4010232137"),
            &view,
            &child(ANNA)
        ),
        Some(vec![child(ANNA), child(BEN)])
    );
    assert_eq!(targets(&form("nhs:9876543210"), &view, &child(ANNA)), None);
    assert_eq!(targets(&form("not a child"), &view, &child(ANNA)), None);
}

#[tokio::test]
async fn auditors_are_refused_and_managers_asked_why() {
    let h = harness(viewer("auditor", Role::Auditor));
    let (status, _, _) = get(&h.app, "/signals").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(
        &h.app,
        "/signals",
        "csrf=csrf-token&reason=caseload+review+today&purpose=supervision",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let h = harness(viewer("dsl", Role::Manager));
    let (status, _, body) = get(&h.app, "/signals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"id="reason""#) && body.contains(r#"href="/signals""#));
    // A refused reason is the form again, and nothing is read or logged.
    let (status, _, body) = post(
        &h.app,
        "/signals",
        "csrf=csrf-token&reason=short&purpose=supervision",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains(r#"id="reason-error""#), "{body}");
    assert!(
        crate::store::testing::blocking(|| crate::store::Store::access_log(&*h.store))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_acknowledgement_without_a_good_grant_asks_why_again() {
    let h = harness(viewer("dsl", Role::Manager));
    let path = format!("/children/{ANNA}/signals/concerns_accumulating/ack");
    let (status, _, body) = post(
        &h.app,
        &path,
        "csrf=csrf-token&grant=nope&note=seen+and+planned+review",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains(r#"id="reason""#), "{body}");
    let (status, _, _) = post(
        &h.app,
        &format!("/children/{ANNA}/signals/no_such_rule/ack"),
        "csrf=csrf-token&grant=nope&note=x",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
