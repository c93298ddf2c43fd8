//! The rules over the records naming the child (scope C): what happened,
//! or did not happen, to this child.

use std::collections::BTreeMap;

use hearth_shared::Timestamp;
use hearth_shared::caseload::{Task, TaskKind};
use hearth_shared::kinds::concern::ConcernCategory;

use super::text::{count as words, date, span};
use super::{Ctx, count, dense, secs};
use crate::caseload::tasks::{DAY, add_months, day_of, overdue, working_days};
use crate::chronology::Flag;
use crate::signals::{Rule, Signal};

/// Whether some item of `followers` (indices in time order) other than
/// `n` lies from `items[n]` to `days` after it.
fn followed(cx: &Ctx<'_>, n: usize, followers: &[usize], days: i64) -> bool {
    let at = cx.items[n].at;
    let until = at.saturating_add(secs(days));
    let from = followers.partition_point(|&f| cx.items[f].at < at);
    followers[from..]
        .iter()
        .take_while(|&&f| cx.items[f].at <= until)
        .any(|&f| f != n)
}

/// For each of `starts` not followed by one of `followers` within
/// `days`: raised once `days` have passed, else a pending deadline.
fn unfollowed(cx: &mut Ctx<'_>, starts: &[usize], followers: &[usize], days: i64) -> Vec<usize> {
    let mut due = Vec::new();
    for &n in starts {
        if followed(cx, n, followers, days) {
            continue;
        }
        let deadline = cx.items[n].at.saturating_add(secs(days));
        if cx.now >= deadline {
            due.push(n);
        } else {
            cx.pending(deadline);
        }
    }
    due
}

/// `developmental_delay_repeated`: enough reviews below threshold within
/// the window, or the same domain below threshold in enough reviews.
pub fn developmental_delay_repeated(cx: &Ctx<'_>) -> Option<Signal> {
    let c = &cx.config.developmental_delay_repeated;
    let below = cx.select(|i| {
        i.names_child
            && i.facts.developmental_review
            && (!i.facts.below_threshold.is_empty() || i.has(Flag::BelowThreshold))
    });
    let window = dense(
        &cx.items,
        &below,
        secs(c.window_days),
        count(c.min_reviews),
        1,
        |_| (),
    );
    let mut by_domain: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &n in &below {
        for d in &cx.items[n].facts.below_threshold {
            by_domain.entry(d.as_str()).or_default().push(n);
        }
    }
    by_domain.retain(|_, reviews| reviews.len() >= count(c.min_same_domain));
    let mut parts = Vec::new();
    if !window.is_empty() {
        let (first, last) = cx.ends(&window);
        parts.push(format!(
            "{} with an outcome below threshold {} (at least {} within {} days)",
            words(
                window.len(),
                "developmental review",
                "developmental reviews"
            ),
            span(first, last),
            c.min_reviews,
            c.window_days
        ));
    }
    for (domain, reviews) in &by_domain {
        let (first, last) = cx.ends(reviews);
        parts.push(format!(
            "{} below threshold in {} {}",
            domain.replace('_', " "),
            words(reviews.len(), "review", "reviews"),
            span(first, last)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let mut evidence = window;
    evidence.extend(by_domain.into_values().flatten());
    Some(cx.signal(
        Rule::DevelopmentalDelayRepeated,
        &evidence,
        format!("{}.", parts.join("; ")),
    ))
}

/// The overdue visit and review tasks of the child, each as words ("visit
/// due 3 March 2026 (every 10 working days), overdue") with its evidence
/// (the home visit the next visit is counted from, if any); the others'
/// due dates noted as deadlines, and an overdue review's aging out.
fn overdue_tasks(cx: &mut Ctx<'_>) -> (Vec<String>, Vec<usize>, Option<i64>) {
    let tasks: Vec<Task> = cx
        .tasks
        .iter()
        .filter(|t| t.kind != TaskKind::Rebook && t.kind != TaskKind::Unknown)
        .cloned()
        .collect();
    let (mut parts, mut evidence, mut earliest) = (Vec::new(), Vec::new(), None::<i64>);
    for t in tasks {
        let end_of_due = day_of(t.due).0 + DAY;
        if !overdue(&t, Timestamp(cx.now)) {
            cx.pending(end_of_due);
            continue;
        }
        earliest = Some(earliest.map_or(t.due.0, |e| e.min(t.due.0)));
        match t.kind {
            TaskKind::Visit => {
                let every = cx
                    .known
                    .and_then(|k| k.plan.as_ref())
                    .map_or(0, |p| p.every_working_days);
                parts.push(format!(
                    "visit due {} (every {}), overdue",
                    date(t.due.0),
                    working_days(every)
                ));
                let started = t.from.0 - DAY;
                let refs = cx.known.map(|k| &k.refs);
                evidence.extend(cx.select(|i| {
                    i.facts.home_visit
                        && i.facts.seen
                        && day_of(Timestamp(i.at)).0 == started
                        && refs.is_some_and(|r| i.entry.children.iter().any(|c| r.contains(c)))
                }));
            }
            _ => {
                parts.push(format!(
                    "{} due {}, overdue",
                    t.label.to_lowercase(),
                    date(t.due.0)
                ));
                // An overdue review is listed until 6 months past due.
                cx.pending(add_months(day_of(t.due), 6).0 + DAY);
            }
        }
    }
    (parts, evidence, earliest)
}

/// `child_not_seen`: (a) enough home visits with the child not seen or no
/// access within the window; or (b) a concern naming the child and no
/// record seeing the child in the days after it, once they have passed;
/// or (c) a visit by the child's plan, or a developmental review by its
/// age, overdue (issue 17).
pub fn child_not_seen(cx: &mut Ctx<'_>) -> Option<Signal> {
    let c = cx.config.child_not_seen.clone();
    let missed = cx.select(|i| {
        i.names_child && i.facts.home_visit && (i.has(Flag::ChildNotSeen) || i.has(Flag::NoAccess))
    });
    let visits = dense(
        &cx.items,
        &missed,
        secs(c.window_days),
        count(c.min_visits),
        1,
        |_| (),
    );
    let concerns = cx.select(|i| i.names_child && i.concern_type());
    let seen = cx.select(|i| i.names_child && i.facts.seen);
    let unseen = unfollowed(cx, &concerns, &seen, c.unseen_days);
    let mut parts = Vec::new();
    let mut evidence = visits.clone();
    if !visits.is_empty() {
        let (first, last) = cx.ends(&visits);
        parts.push(format!(
            "{} with the child not seen or no access {} (at least {} within {} days)",
            words(visits.len(), "home visit", "home visits"),
            span(first, last),
            c.min_visits,
            c.window_days
        ));
    }
    if !unseen.is_empty() {
        let (first, last) = cx.ends(&unseen);
        parts.push(format!(
            "nobody recorded seeing the child in the {} days after {} {}",
            c.unseen_days,
            words(unseen.len(), "concern", "concerns"),
            span(first, last)
        ));
        for &n in &unseen {
            let at = cx.items[n].at;
            let until = at.saturating_add(secs(c.unseen_days));
            evidence.push(n);
            let from = missed.partition_point(|&v| cx.items[v].at < at);
            evidence.extend(
                missed[from..]
                    .iter()
                    .copied()
                    .take_while(|&v| cx.items[v].at <= until),
            );
        }
    }
    let (due, due_evidence, earliest) = overdue_tasks(cx);
    parts.extend(due);
    evidence.extend(due_evidence);
    if parts.is_empty() {
        return None;
    }
    let mut text = parts.join("; and ");
    if let Some(first) = text.get(..1) {
        text = format!("{}{}", first.to_uppercase(), &text[1..]);
    }
    let mut signal = cx.signal(Rule::ChildNotSeen, &evidence, format!("{text}."));
    if let (true, Some(due)) = (evidence.is_empty(), earliest) {
        // Only overdue tasks, no record: dated by the earliest due date.
        (signal.first_seen, signal.last_seen) = (Timestamp(due), Timestamp(due));
    }
    Some(signal)
}

/// `voice_not_acted_on`: a voice record with no action, and nothing that
/// acts for the child within the days after it, once they have passed.
pub fn voice_not_acted_on(cx: &mut Ctx<'_>) -> Option<Signal> {
    let days = cx.config.voice_not_acted_on.days;
    let voices = cx.select(|i| i.names_child && i.facts.voice && i.has(Flag::NoAction));
    let acting = cx.select(|i| i.names_child && i.facts.acts());
    let due = unfollowed(cx, &voices, &acting, days);
    if due.is_empty() {
        return None;
    }
    let (first, last) = cx.ends(&due);
    Some(cx.signal(
        Rule::VoiceNotActedOn,
        &due,
        format!(
            "{} with no action {}, and no referral, sharing, strategy discussion, conference or escalation for the child within {days} days after.",
            words(due.len(), "voice record", "voice records"),
            span(first, last)
        ),
    ))
}

/// `harmful_sexual_behaviour_without_meeting`: a concern of that
/// category, and no strategy discussion or conference naming the child
/// within the days after it, once they have passed.
pub fn harmful_sexual_behaviour_without_meeting(cx: &mut Ctx<'_>) -> Option<Signal> {
    let days = cx.config.harmful_sexual_behaviour_without_meeting.days;
    let concerns =
        cx.select(|i| i.names_child && i.facts.concern_of(ConcernCategory::HarmfulSexualBehaviour));
    let meetings = cx.select(|i| i.names_child && i.facts.protection_meeting());
    let due = unfollowed(cx, &concerns, &meetings, days);
    if due.is_empty() {
        return None;
    }
    let (first, last) = cx.ends(&due);
    Some(cx.signal(
        Rule::HarmfulSexualBehaviourWithoutMeeting,
        &due,
        format!(
            "{} of harmful sexual behaviour {}, with no strategy discussion or conference for the child within {days} days after.",
            words(due.len(), "concern", "concerns"),
            span(first, last)
        ),
    ))
}

/// `was_not_brought_repeated`: enough entries flagged was not brought
/// within the window.
pub fn was_not_brought_repeated(cx: &Ctx<'_>) -> Option<Signal> {
    let c = &cx.config.was_not_brought_repeated;
    let missed = cx.select(|i| i.names_child && i.has(Flag::WasNotBrought));
    let hit = dense(
        &cx.items,
        &missed,
        secs(c.window_days),
        count(c.min_entries),
        1,
        |_| (),
    );
    if hit.is_empty() {
        return None;
    }
    let (first, last) = cx.ends(&hit);
    Some(cx.signal(
        Rule::WasNotBroughtRepeated,
        &hit,
        format!(
            "Not brought {} {} (at least {} within {} days).",
            words(hit.len(), "time", "times"),
            span(first, last),
            c.min_entries,
            c.window_days
        ),
    ))
}
