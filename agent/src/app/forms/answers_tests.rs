use hearth_shared::RecordKind;
use hearth_shared::kinds::Detail;

use super::super::spec::FormSpec;
use super::super::spec::tests::{defaults, valid};
use super::super::zone::FixedZone;
use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn ids_are_stable_and_safe() {
    assert_eq!(field_id("headline"), "f-headline");
    assert_eq!(field_id("observations[1].grade"), "f-observations-1-grade");
    assert_eq!(field_id("children[0]"), "f-children-0");
    assert_eq!(field_id("x\"><script>"), "f-x---script-");
}

#[test]
fn entries_are_renumbered_and_unknown_names_dropped() {
    let spec = FormSpec::of(RecordKind::HomeVisit).unwrap();
    let a = Answers::from_pairs(
        &spec,
        &pairs(&[
            ("children[3]", "nhs:9434765919"),
            ("children[0]", ""),
            ("observations[5].domain", "housing"),
            ("observations[5].grade", "4"),
            ("observations[2].domain", "nutrition"),
            ("observations[2].bogus", "x"),
            ("author", "someone-else"),
            ("narrative", "a\r\nb"),
        ]),
    );
    assert_eq!(a.get("children[0]"), "nhs:9434765919");
    assert_eq!(a.entries("children"), 1);
    assert_eq!(a.get("observations[0].domain"), "nutrition");
    assert_eq!(a.get("observations[1].domain"), "housing");
    assert_eq!(a.get("observations[1].grade"), "4");
    assert_eq!(a.get("author"), "");
    assert_eq!(a.get("narrative"), "a\nb");
    assert!(!a.0.keys().any(|k| k.contains("bogus")));
}

#[test]
fn the_local_time_is_converted_with_the_zone() {
    let spec = FormSpec::of(RecordKind::Concern).unwrap();
    let body = check(
        &spec,
        &valid(RecordKind::Concern),
        &FixedZone(3600),
        &defaults(),
    )
    .unwrap();
    assert_eq!(body.occurred_at.to_string(), "2026-11-20T09:30:00Z");
}

#[test]
fn a_home_visit_becomes_the_cores_body() {
    let spec = FormSpec::of(RecordKind::HomeVisit).unwrap();
    let mut a = valid(RecordKind::HomeVisit);
    a.set("children[1]", "nhs:9434765870");
    let body = check(&spec, &a, &FixedZone(0), &defaults()).unwrap();
    assert_eq!(body.children.len(), 2);
    let Detail::HomeVisit(v) = body.detail else {
        panic!()
    };
    assert_eq!(v.observations[0].grade.0, 4);
    assert_eq!(v.seen_alone, None);
}

#[test]
fn every_problem_is_reported_at_once_with_the_cores_message() {
    let spec = FormSpec::of(RecordKind::Voice).unwrap();
    let mut a = valid(RecordKind::Voice);
    a.set("children[0]", "nhs:9434765918");
    a.set("headline", "");
    a.set("words", "");
    a.set("meaning", &"m".repeat(513));
    a.set("present[0].relationship", &"r".repeat(49));
    a.0.remove("mode");
    let errs = check(&spec, &a, &FixedZone(0), &defaults()).unwrap_err();
    let names: Vec<&str> = errs.iter().map(|e| e.name.as_str()).collect();
    for n in [
        "children[0]",
        "headline",
        "mode",
        "meaning",
        "present[0].relationship",
    ] {
        assert!(names.contains(&n), "{n} not reported: {errs:?}");
    }
    let meaning = errs.iter().find(|e| e.name == "meaning").unwrap();
    assert_eq!(
        meaning.message,
        "voice.meaning is 513 bytes; the limit is 512"
    );
}

#[test]
fn an_empty_child_list_does_not_hide_the_kinds_problems() {
    let spec = FormSpec::of(RecordKind::Concern).unwrap();
    let mut a = valid(RecordKind::Concern);
    a.0.remove("children[0]");
    a.set("seen_or_said", "");
    let errs = check(&spec, &a, &FixedZone(0), &defaults()).unwrap_err();
    let names: Vec<&str> = errs.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["children", "seen_or_said"], "{errs:?}");
}
