//! The task rules: one due, overdue, then cleared by a record; working
//! days over weekends; reviews by age, aged out, none unborn; rebooking.

use hearth_shared::ChildRef;

use super::*;

const ANNA: &str = "nhs:9434765919";

/// Midnight UTC of a `YYYY-MM-DD` date.
fn d(s: &str) -> Timestamp {
    let n: Vec<u32> = s.split('-').map(|p| p.parse().unwrap()).collect();
    Timestamp::from_civil(i64::from(n[0]), n[1], n[2], 0, 0, 0).unwrap()
}

fn at(s: &str, hour: u32) -> Timestamp {
    Timestamp(d(s).0 + i64::from(hour) * 3_600)
}

fn detail(json: &str) -> Detail {
    hearth_shared::json::parse_body(
        &format!(
            r#"{{"children":["{ANNA}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"h",{json}}}"#
        ),
        &hearth_shared::json::Defaults {
            author: "hv.jones".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        },
    )
    .unwrap()
    .detail
}

fn visit_seen() -> Detail {
    detail(r#""kind":"home_visit","access":"announced","child_seen":"awake""#)
}

fn visit_not_seen() -> Detail {
    detail(
        r#""kind":"home_visit","access":"no_access","child_seen":"not_seen","not_seen_reason":"no answer""#,
    )
}

fn review(contact: &str, not_brought: bool) -> Detail {
    let outcomes = if not_brought {
        ""
    } else {
        r#","outcomes":[{"domain":"communication","outcome":"on_track"}]"#
    };
    detail(&format!(
        r#""kind":"developmental_review","contact":"{contact}","was_not_brought":{not_brought}{outcomes}"#
    ))
}

fn plan(since: &str, every: u16) -> VisitPlan {
    VisitPlan {
        child: ANNA.parse::<ChildRef>().unwrap(),
        every_working_days: every,
        label: "child protection plan".into(),
        since: d(since),
    }
}

#[test]
fn working_days_skip_weekends() {
    // 2026-03-02 is a Monday.
    assert_eq!(add_working_days(d("2026-03-02"), 0), d("2026-03-02"));
    assert_eq!(add_working_days(at("2026-03-02", 15), 4), d("2026-03-06"));
    assert_eq!(
        add_working_days(d("2026-03-06"), 1),
        d("2026-03-09"),
        "Friday + 1"
    );
    assert_eq!(
        add_working_days(d("2026-03-07"), 1),
        d("2026-03-09"),
        "Saturday + 1"
    );
    assert_eq!(
        add_working_days(d("2026-03-08"), 5),
        d("2026-03-13"),
        "Sunday + 5"
    );
    assert_eq!(add_working_days(d("2026-03-02"), 10), d("2026-03-16"));
    assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
    assert_eq!(add_months(d("2024-01-31"), 1), d("2024-02-29"));
    assert_eq!(add_months(d("2025-11-10"), 30), d("2028-05-10"));
}

#[test]
fn a_visit_is_due_then_overdue_then_cleared_by_a_visit_that_sees_the_child() {
    let p = plan("2026-03-02", 10);
    let due = tasks(None, Some(&p), &[], at("2026-03-05", 9));
    assert_eq!(due.len(), 1);
    let task = &due[0];
    assert_eq!(
        (task.kind, task.from, task.due),
        (TaskKind::Visit, d("2026-03-02"), d("2026-03-16"))
    );
    assert!(
        task.label.contains("every 10 working days"),
        "{}",
        task.label
    );
    assert!(
        !overdue(task, at("2026-03-16", 23)),
        "due that day: not yet overdue"
    );
    assert!(overdue(task, d("2026-03-17")));

    // A visit without seeing the child clears nothing.
    let missed = visit_not_seen();
    assert!(!task.cleared_by(&missed, at("2026-03-17", 10)));
    let still = tasks(
        None,
        Some(&p),
        &[Seen {
            at: at("2026-03-17", 10),
            detail: &missed,
        }],
        d("2026-03-18"),
    );
    assert_eq!(still, due);

    // A visit that sees the child clears it; the next starts the day after.
    let seen = visit_seen();
    assert!(task.cleared_by(&seen, at("2026-03-17", 10)));
    let records = [
        Seen {
            at: at("2026-03-17", 10),
            detail: &missed,
        },
        Seen {
            at: at("2026-03-17", 14),
            detail: &seen,
        },
    ];
    let next = tasks(None, Some(&p), &records, d("2026-03-18"));
    assert_eq!(next.len(), 1);
    assert_ne!(next[0], *task, "the cleared task is not listed");
    assert_eq!(
        (next[0].from, next[0].due),
        (d("2026-03-18"), d("2026-03-31"))
    );
    assert!(!next[0].cleared_by(&seen, at("2026-03-17", 14)));
    assert!(!overdue(&next[0], d("2026-03-18")));
    // No plan, no visit task.
    assert!(tasks(None, None, &records, d("2026-03-18")).is_empty());
}

#[test]
fn a_visit_before_the_plan_still_counts_so_a_child_long_unseen_is_overdue_at_once() {
    let seen = visit_seen();
    let records = [Seen {
        at: at("2026-02-20", 10),
        detail: &seen,
    }];
    let t = tasks(
        None,
        Some(&plan("2026-03-02", 5)),
        &records,
        d("2026-03-03"),
    );
    // Seen Friday 20 February; every 5 working days: due Friday 27th.
    assert_eq!((t[0].from, t[0].due), (d("2026-02-21"), d("2026-02-27")));
    assert!(overdue(&t[0], d("2026-03-03")));
    // Never seen: counted from the plan's start.
    let t = tasks(None, Some(&plan("2026-03-02", 5)), &[], d("2026-03-03"));
    assert_eq!((t[0].from, t[0].due), (d("2026-03-02"), d("2026-03-09")));
}

#[test]
fn reviews_by_age_are_listed_near_their_time_cleared_by_that_review_and_age_out() {
    let born = d("2026-01-10");
    let on = |now: &str, records: &[Seen<'_>]| -> Vec<(TaskKind, Timestamp, Timestamp)> {
        tasks(Some(at("2026-01-10", 7)), None, records, d(now))
            .into_iter()
            .map(|t| (t.kind, t.from, t.due))
            .collect()
    };
    assert_eq!(
        on("2026-01-10", &[]),
        [(TaskKind::ReviewNewBirth, d("2026-01-20"), d("2026-01-24"))]
    );
    let nb = tasks(Some(born), None, &[], d("2026-01-25"));
    assert!(overdue(&nb[0], d("2026-01-25")));
    // A 6–8 week review does not clear the new birth review; a new birth
    // review not brought does not either.
    let six = review("6_8_weeks", false);
    let nb_missed = review("new_birth", true);
    let nb_done = review("new_birth", false);
    let wrong = [
        Seen {
            at: d("2026-01-25"),
            detail: &six,
        },
        Seen {
            at: d("2026-01-25"),
            detail: &nb_missed,
        },
    ];
    assert_eq!(on("2026-01-26", &wrong)[0].0, TaskKind::ReviewNewBirth);
    let done = [Seen {
        at: d("2026-01-26"),
        detail: &nb_done,
    }];
    assert!(on("2026-01-27", &done).is_empty());
    // 6–8 weeks listed from 14 days before its from (42 days).
    assert_eq!(
        on("2026-02-07", &done),
        [(TaskKind::Review6To8Weeks, d("2026-02-21"), d("2026-03-07"))]
    );
    assert!(on("2026-02-06", &done).is_empty());
    // Born 2024-01-10: only the 2 year review is still listed in 2026.
    let older = tasks(Some(d("2024-01-10")), None, &[], d("2026-03-02"));
    let kinds: Vec<TaskKind> = older.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TaskKind::Review2Years]);
    assert_eq!(
        (older[0].from, older[0].due),
        (d("2026-01-10"), d("2026-07-10"))
    );
    // Aged out: 6 months past the due date.
    assert!(tasks(Some(d("2024-01-10")), None, &[], d("2027-01-11")).is_empty());
    assert_eq!(
        tasks(Some(d("2024-01-10")), None, &[], d("2027-01-10")).len(),
        1
    );
    // Unborn: none.
    assert!(tasks(None, None, &[], d("2026-03-02")).is_empty());
}

#[test]
fn a_review_not_brought_is_rebooked_until_a_review_the_child_is_brought_to() {
    let missed = review("1_year", true);
    let brought = review("6_8_weeks", false);
    let records = [
        Seen {
            at: at("2026-01-05", 9),
            detail: &brought,
        },
        Seen {
            at: at("2026-03-03", 9),
            detail: &missed,
        },
    ];
    let t = tasks(None, None, &records, d("2026-03-04"));
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].kind, t[0].from, t[0].due),
        (TaskKind::Rebook, d("2026-03-03"), d("2026-03-10"))
    );
    assert!(
        t[0].label.contains("1 year review") && t[0].label.contains("2026-03-03"),
        "{}",
        t[0].label
    );
    assert!(overdue(&t[0], d("2026-03-11")));
    assert!(t[0].cleared_by(&brought, at("2026-03-09", 9)));
    let later = [
        records[0],
        records[1],
        Seen {
            at: at("2026-03-09", 9),
            detail: &brought,
        },
    ];
    assert!(tasks(None, None, &later, d("2026-03-11")).is_empty());
}
