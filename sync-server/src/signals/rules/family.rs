//! The rules over the whole family's records (scope F): what builds up
//! across the household, whichever child each record names.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::kinds::concern::ConcernCategory;

use super::text::{count as words, span};
use super::{Ctx, count, dense, secs};
use crate::chronology::Flag;
use crate::signals::{Rule, Signal};

/// The distinct agencies of `picked`, sorted.
fn agencies(cx: &Ctx<'_>, picked: &[usize]) -> Vec<String> {
    let set: BTreeSet<&str> = picked
        .iter()
        .map(|&i| cx.items[i].entry.agency.as_str())
        .collect();
    set.into_iter().map(str::to_string).collect()
}

/// `concerns_accumulating`: (a) a window holding enough concern-type
/// entries from enough agencies, or (b) enough neglect concerns within
/// the neglect window.
pub fn concerns_accumulating(cx: &Ctx<'_>) -> Option<Signal> {
    let c = &cx.config.concerns_accumulating;
    let concerns = cx.select(|i| i.concern_type());
    let across = dense(
        &cx.items,
        &concerns,
        secs(c.window_days),
        count(c.min_entries),
        count(c.min_agencies),
        |i| i.entry.agency.as_str(),
    );
    let neglect = cx.select(|i| i.facts.concern_of(ConcernCategory::Neglect));
    let neglect = dense(
        &cx.items,
        &neglect,
        secs(c.neglect_window_days),
        count(c.min_neglect_concerns),
        1,
        |_| (),
    );
    let mut parts = Vec::new();
    if !across.is_empty() {
        let (first, last) = cx.ends(&across);
        let names = agencies(cx, &across);
        parts.push(format!(
            "{} from {} agencies ({}) {}: at least {} from at least {} agencies within {} days",
            words(across.len(), "concern entry", "concern entries"),
            names.len(),
            names.join(", "),
            span(first, last),
            c.min_entries,
            c.min_agencies,
            c.window_days
        ));
    }
    if !neglect.is_empty() {
        let (first, last) = cx.ends(&neglect);
        parts.push(format!(
            "{} {}: at least {} within {} days",
            words(neglect.len(), "neglect concern", "neglect concerns"),
            span(first, last),
            c.min_neglect_concerns,
            c.neglect_window_days
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let mut evidence = across;
    evidence.extend(neglect);
    Some(cx.signal(
        Rule::ConcernsAccumulating,
        &evidence,
        format!("{}.", parts.join("; and ")),
    ))
}

/// `meetings_without_minutes`: core groups, conferences and strategy
/// discussions flagged minutes not recorded.
pub fn meetings_without_minutes(cx: &Ctx<'_>) -> Option<Signal> {
    let c = &cx.config.meetings_without_minutes;
    let meetings = cx.select(|i| i.facts.minuted_meeting() && i.has(Flag::MinutesNotRecorded));
    if meetings.len() < count(c.min_meetings) {
        return None;
    }
    let (first, last) = cx.ends(&meetings);
    Some(cx.signal(
        Rule::MeetingsWithoutMinutes,
        &meetings,
        format!(
            "{} (core group, conference or strategy discussion) with minutes not recorded, {} (at least {}).",
            words(meetings.len(), "meeting", "meetings"),
            span(first, last),
            c.min_meetings
        ),
    ))
}

/// `agency_absent_from_meetings`: the same agency absent from enough
/// meetings within the window; one signal naming every such agency.
pub fn agency_absent_from_meetings(cx: &Ctx<'_>) -> Option<Signal> {
    let c = &cx.config.agency_absent_from_meetings;
    let mut by_agency: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, i) in cx.items.iter().enumerate() {
        for a in &i.facts.absent_agencies {
            by_agency.entry(a.as_str()).or_default().push(n);
        }
    }
    let mut evidence = Vec::new();
    let mut parts = Vec::new();
    for (agency, meetings) in by_agency {
        let hit = dense(
            &cx.items,
            &meetings,
            secs(c.window_days),
            count(c.min_meetings),
            1,
            |_| (),
        );
        if hit.is_empty() {
            continue;
        }
        let (first, last) = cx.ends(&hit);
        parts.push(format!(
            "{agency} absent from {} {}",
            words(hit.len(), "meeting", "meetings"),
            span(first, last)
        ));
        evidence.extend(hit);
    }
    if parts.is_empty() {
        return None;
    }
    Some(cx.signal(
        Rule::AgencyAbsentFromMeetings,
        &evidence,
        format!(
            "{} (at least {} meetings within {} days).",
            parts.join("; "),
            c.min_meetings,
            c.window_days
        ),
    ))
}

/// `escalation_unresolved`: an unresolved escalation at least the
/// configured days old, with no later resolved escalation in the family.
pub fn escalation_unresolved(cx: &mut Ctx<'_>) -> Option<Signal> {
    let days = cx.config.escalation_unresolved.days;
    let latest_resolved = cx
        .items
        .iter()
        .filter(|i| i.facts.escalation_resolved == Some(true))
        .map(|i| i.at)
        .max();
    let open = cx.select(|i| {
        i.facts.escalation_resolved == Some(false)
            && i.has(Flag::Unresolved)
            && latest_resolved.is_none_or(|r| r <= i.at)
    });
    let mut due = Vec::new();
    for n in open {
        let deadline = cx.items[n].at.saturating_add(secs(days));
        if cx.now >= deadline {
            due.push(n);
        } else {
            cx.pending(deadline);
        }
    }
    if due.is_empty() {
        return None;
    }
    let (first, last) = cx.ends(&due);
    Some(cx.signal(
        Rule::EscalationUnresolved,
        &due,
        format!(
            "{} raised {}, unresolved after {} days, with no later escalation resolved.",
            words(due.len(), "escalation", "escalations"),
            span(first, last),
            days
        ),
    ))
}

/// `neglect_without_assessment`: enough neglect concerns or grade 4 or 5
/// entries within the window, and no neglect summary dated on or after
/// the first of them.
pub fn neglect_without_assessment(cx: &Ctx<'_>) -> Option<Signal> {
    let c = &cx.config.neglect_without_assessment;
    // A qualifying window escapes every summary only if it starts after
    // the latest one, so only the entries after it can qualify.
    let latest_summary = cx
        .items
        .iter()
        .filter(|i| i.facts.neglect_summary)
        .map(|i| i.at)
        .max();
    let seen = cx.select(|i| {
        (i.facts.concern_of(ConcernCategory::Neglect) || i.has(Flag::Grade4Or5))
            && latest_summary.is_none_or(|s| i.at > s)
    });
    let hit = dense(
        &cx.items,
        &seen,
        secs(c.window_days),
        count(c.min_entries),
        1,
        |_| (),
    );
    if hit.is_empty() {
        return None;
    }
    let (first, last) = cx.ends(&hit);
    let since = match latest_summary {
        Some(_) => "no neglect summary since the first of them",
        None => "no neglect summary recorded",
    };
    Some(cx.signal(
        Rule::NeglectWithoutAssessment,
        &hit,
        format!(
            "{} {} (at least {} within {} days), and {since}.",
            words(
                hit.len(),
                "neglect concern or grade 4 or 5 observation",
                "neglect concerns or grade 4 or 5 observations"
            ),
            span(first, last),
            c.min_entries,
            c.window_days
        ),
    ))
}

/// `male_carer_unseen`: a father or male carer last recorded as present
/// at least the configured days ago, with home visits, meetings or
/// neglect summaries since; or, with none ever recorded present, one the
/// register knows (a father or male carer of a child in the family, or a
/// male adult of its household) and such records for at least those days.
pub fn male_carer_unseen(cx: &mut Ctx<'_>) -> Option<Signal> {
    let days = cx.config.male_carer_unseen.days;
    let last = (0..cx.items.len()).rev().find(|&n| {
        let i = &cx.items[n];
        (i.facts.home_visit || i.facts.voice) && i.facts.male_carer_present
    });
    let Some(last) = last else {
        return known_carer_unseen(cx);
    };
    let at = cx.items[last].at;
    let since: Vec<usize> = (last + 1..cx.items.len())
        .filter(|&n| cx.items[n].at > at && without_him(&cx.items[n].facts))
        .collect();
    if since.is_empty() {
        return None;
    }
    let deadline = at.saturating_add(secs(days));
    if cx.now < deadline {
        cx.pending(deadline);
        return None;
    }
    let mut evidence = vec![last];
    evidence.extend(&since);
    Some(cx.signal(
        Rule::MaleCarerUnseen,
        &evidence,
        format!(
            "A father or male carer was last recorded as present on {}; since then {} without him (at least {} days).{}",
            super::text::date(at),
            words(
                since.len(),
                "visit, meeting or assessment has been recorded",
                "visits, meetings or assessments have been recorded"
            ),
            days,
            register_says(cx)
        ),
    ))
}

/// A record at which a father or male carer would be expected: a home
/// visit, a meeting, a neglect summary.
fn without_him(f: &crate::signals::facts::Facts) -> bool {
    f.home_visit || f.meeting.is_some() || f.neglect_summary
}

/// " The register names Dean Brown (father)." or nothing.
fn register_says(cx: &Ctx<'_>) -> String {
    if cx.male_carers.is_empty() {
        String::new()
    } else {
        format!(" The register names {}.", cx.male_carers.join(", "))
    }
}

/// `male_carer_unseen` when no record ever shows a father or male carer
/// present: raised if the register knows one and visits, meetings or
/// neglect summaries have gone on without him for the configured days.
fn known_carer_unseen(cx: &mut Ctx<'_>) -> Option<Signal> {
    if cx.male_carers.is_empty() {
        return None;
    }
    let days = cx.config.male_carer_unseen.days;
    let since = cx.select(|i| without_him(&i.facts));
    let first = cx.items[*since.first()?].at;
    let deadline = first.saturating_add(secs(days));
    if cx.now < deadline {
        cx.pending(deadline);
        return None;
    }
    let (first, last) = cx.ends(&since);
    Some(cx.signal(
        Rule::MaleCarerUnseen,
        &since,
        format!(
            "No record shows a father or male carer present, and {} {} (at least {} days).{}",
            words(
                since.len(),
                "visit, meeting or assessment has been recorded",
                "visits, meetings or assessments have been recorded"
            ),
            span(first, last),
            days,
            register_says(cx)
        ),
    ))
}
