//! The rules: a family's entries in, each child's signals out. Pure: no
//! disk, network or clock (the time "now" is an argument).
//!
//! [`evaluate`] reads each entry once into an [`Item`] (its time, agency,
//! flags and [`Facts`]), leaving out entries entered in error, sorts them
//! once by time, and runs every rule over them in [`Rule`] order. The
//! rules that count within a window use one sliding window ([`dense`]),
//! so a family of thousands of entries is read in a few passes, never
//! pair by pair.
//!
//! - [`family`]: the rules over the whole family's records (scope F).
//! - [`child`]: the rules over the records naming the child (scope C).
//! - [`text`]: each rule's title and learning point, and dates in words.

mod child;
mod family;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::caseload::Task;
use hearth_shared::kinds::Detail;
use hearth_shared::{ChildRef, RecordId, RecordKind, Timestamp};

use super::facts::Facts;
use super::known::{ChildKnown, Known};
use super::{Config, Rule, Signal};
use crate::caseload::tasks::{Seen, tasks};
use crate::chronology::{Entry, Flag, FlagSet};

/// Seconds in a day: "a day" in every rule is 86,400 s.
pub const DAY: i64 = 86_400;

/// What the rules found for one child, and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// The signals, none acknowledged, in [`super::Rule`] order.
    pub signals: Vec<Signal>,
    /// The earliest time after `now` at which the passage of time alone
    /// could change `signals` (a deadline falling due: 14 days without
    /// action, 28 days unresolved); `None` if only new records or links
    /// can change them.
    pub recheck_at: Option<Timestamp>,
}

/// One entry as the rules read it.
#[derive(Debug)]
pub(crate) struct Item<'a> {
    /// Its position in the chronology (evidence is reported in this order).
    pub pos: usize,
    /// When it happened (seconds).
    pub at: i64,
    /// The entry.
    pub entry: &'a Entry,
    /// Its flags.
    pub flags: FlagSet,
    /// What its fields say.
    pub facts: Facts,
    /// Whether it names the child being evaluated.
    pub names_child: bool,
}

impl Item<'_> {
    /// Whether it has `flag`.
    pub fn has(&self, flag: Flag) -> bool {
        self.flags.has(flag)
    }

    /// A concern-type entry: a concern of any category, or an entry
    /// flagged hungry, injury, grade 4 or 5, nappy or hygiene concern.
    pub fn concern_type(&self) -> bool {
        self.facts.concern.is_some()
            || self.entry.kind == RecordKind::Concern
            || [
                Flag::Hungry,
                Flag::Injury,
                Flag::Grade4Or5,
                Flag::NappyConcern,
                Flag::HygieneConcern,
            ]
            .into_iter()
            .any(|f| self.has(f))
    }
}

/// What every rule reads: the items in time order, the child, `now`, and
/// the deadlines still to fall due.
pub(crate) struct Ctx<'a> {
    /// The child evaluated.
    pub child: &'a ChildRef,
    /// Every entry not entered in error, by time (then chronology order).
    pub items: Vec<Item<'a>>,
    /// The thresholds.
    pub config: &'a Config,
    /// Now (seconds).
    pub now: i64,
    /// The earliest pending deadline after `now`.
    pub recheck: Option<i64>,
    /// What the register and the plans say of the child, if anything.
    pub known: Option<&'a ChildKnown>,
    /// The child's tasks at `now` (by the register and its plan).
    pub tasks: Vec<Task>,
    /// The fathers and male carers the register knows for any child in
    /// the family.
    pub male_carers: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn new(
        child: &'a ChildRef,
        entries: &'a [Entry],
        details: &BTreeMap<RecordId, Detail>,
        config: &'a Config,
        known: &'a Known,
        now: Timestamp,
    ) -> Self {
        let mut items: Vec<Item<'a>> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.flags.contains(&Flag::EnteredInError))
            .map(|(pos, e)| Item {
                pos,
                at: e.occurred_at.0,
                entry: e,
                flags: e.flags.iter().fold(FlagSet::default(), |s, f| s.with(*f)),
                facts: details.get(&e.record_id).map(Facts::of).unwrap_or_default(),
                names_child: e.children.contains(child),
            })
            .collect();
        items.sort_by_key(|i| (i.at, i.pos));
        let mine = known.of(child);
        let mut family: BTreeSet<&ChildRef> = entries.iter().flat_map(|e| &e.children).collect();
        family.insert(child);
        let mut male_carers: Vec<String> = family
            .into_iter()
            .filter_map(|c| known.of(c))
            .flat_map(|k| k.male_carers.iter().cloned())
            .collect();
        male_carers.sort();
        male_carers.dedup();
        Self {
            child,
            tasks: mine.map_or_else(Vec::new, |k| child_tasks(k, entries, details, now)),
            items,
            config,
            now: now.0,
            recheck: None,
            known: mine,
            male_carers,
        }
    }

    /// The indices (into `items`) of the items that pass `keep`, in time
    /// order.
    pub fn select(&self, keep: impl Fn(&Item<'_>) -> bool) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| keep(&self.items[i]))
            .collect()
    }

    /// The first and last time of `picked` (indices into `items`).
    pub fn ends(&self, picked: &[usize]) -> (i64, i64) {
        let times = picked.iter().map(|&i| self.items[i].at);
        let first = times.clone().min().unwrap_or(self.now);
        (first, times.max().unwrap_or(self.now))
    }

    /// Notes a deadline that has not yet fallen due.
    pub fn pending(&mut self, at: i64) {
        if at > self.now {
            self.recheck = Some(self.recheck.map_or(at, |r| r.min(at)));
        }
    }

    /// A signal of `rule` with `evidence` (indices into `items`, any order,
    /// not empty) and `explanation`.
    pub fn signal(&self, rule: Rule, evidence: &[usize], explanation: String) -> Signal {
        let mut evidence: Vec<&Item<'_>> = evidence.iter().map(|&i| &self.items[i]).collect();
        evidence.sort_by_key(|i| i.pos);
        evidence.dedup_by_key(|i| i.pos);
        let mut children: BTreeSet<ChildRef> = BTreeSet::from([self.child.clone()]);
        for i in &evidence {
            children.extend(i.entry.children.iter().cloned());
        }
        let first = evidence.iter().map(|i| i.at).min().unwrap_or(self.now);
        let last = evidence.iter().map(|i| i.at).max().unwrap_or(self.now);
        Signal {
            rule,
            title: text::title(rule).to_string(),
            explanation,
            learning_point: text::learning_point(rule).to_string(),
            children: children.into_iter().collect(),
            evidence: evidence.iter().map(|i| i.entry.record_id).collect(),
            first_seen: Timestamp(first),
            last_seen: Timestamp(last),
            acknowledged: None,
        }
    }
}

/// The tasks of a child the register or a plan knows, from the entries
/// naming any of its references (none entered in error).
fn child_tasks(
    k: &ChildKnown,
    entries: &[Entry],
    details: &BTreeMap<RecordId, Detail>,
    now: Timestamp,
) -> Vec<Task> {
    let seen: Vec<Seen<'_>> = entries
        .iter()
        .filter(|e| !e.flags.contains(&Flag::EnteredInError))
        .filter(|e| e.children.iter().any(|c| k.refs.contains(c)))
        .filter_map(|e| {
            details.get(&e.record_id).map(|detail| Seen {
                at: e.occurred_at,
                detail,
            })
        })
        .collect();
    tasks(k.born, k.plan.as_ref(), &seen, now)
}

/// Days as seconds (the configuration bounds the days, so this cannot
/// overflow; saturating all the same).
pub(crate) fn secs(days: i64) -> i64 {
    days.saturating_mul(DAY)
}

/// A count threshold as a count (at least 1).
pub(crate) fn count(n: i64) -> usize {
    usize::try_from(n.max(1)).unwrap_or(usize::MAX)
}

/// The items of `picked` (indices into `items`, in time order) that lie
/// inside some window of at most `span` seconds holding at least `min`
/// of them with at least `min_keys` distinct `key`s.
///
/// One pass: for each item as the window's last, the window reaches back
/// as far as `span` allows. Any qualifying window lies inside such a
/// widest window, which then qualifies too, so the widest windows that
/// qualify cover exactly the items of every qualifying window.
pub(crate) fn dense<'a, K: Ord + Copy>(
    items: &'a [Item<'a>],
    picked: &[usize],
    span: i64,
    min: usize,
    min_keys: usize,
    key: impl Fn(&'a Item<'a>) -> K,
) -> Vec<usize> {
    let mut keys: BTreeMap<K, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let mut start = 0;
    // Items before this position are already in `out`.
    let mut marked = 0;
    for end in 0..picked.len() {
        *keys.entry(key(&items[picked[end]])).or_default() += 1;
        while items[picked[end]].at - items[picked[start]].at > span {
            let k = key(&items[picked[start]]);
            if let Some(n) = keys.get_mut(&k) {
                *n -= 1;
                if *n == 0 {
                    keys.remove(&k);
                }
            }
            start += 1;
        }
        if end + 1 - start >= min && keys.len() >= min_keys {
            out.extend(picked[start.max(marked)..=end].iter().copied());
            marked = end + 1;
        }
    }
    out
}

/// The signals for `child`, from `entries` (the family's whole chronology,
/// every date, as [`crate::chronology::reconcile`] orders it) and
/// `details` (each entry's record's own fields as its latest correction
/// leaves them, by record id), as of `now`.
pub fn evaluate(
    child: &ChildRef,
    entries: &[Entry],
    details: &BTreeMap<RecordId, Detail>,
    config: &Config,
    now: Timestamp,
) -> Evaluation {
    evaluate_known(child, entries, details, config, &Known::default(), now)
}

/// [`evaluate`], with what the register and the plans say ([`Known`]):
/// `child_not_seen` also raises on an overdue visit or review, and
/// `male_carer_unseen` knows the fathers and male carers the register
/// names.
pub fn evaluate_known(
    child: &ChildRef,
    entries: &[Entry],
    details: &BTreeMap<RecordId, Detail>,
    config: &Config,
    known: &Known,
    now: Timestamp,
) -> Evaluation {
    let mut cx = Ctx::new(child, entries, details, config, known, now);
    let mut signals = Vec::new();
    for rule in Rule::ALL.iter().copied() {
        let found = match rule {
            Rule::ConcernsAccumulating => family::concerns_accumulating(&cx),
            Rule::DevelopmentalDelayRepeated => child::developmental_delay_repeated(&cx),
            Rule::ChildNotSeen => child::child_not_seen(&mut cx),
            Rule::VoiceNotActedOn => child::voice_not_acted_on(&mut cx),
            Rule::MeetingsWithoutMinutes => family::meetings_without_minutes(&cx),
            Rule::AgencyAbsentFromMeetings => family::agency_absent_from_meetings(&cx),
            Rule::HarmfulSexualBehaviourWithoutMeeting => {
                child::harmful_sexual_behaviour_without_meeting(&mut cx)
            }
            Rule::EscalationUnresolved => family::escalation_unresolved(&mut cx),
            Rule::WasNotBroughtRepeated => child::was_not_brought_repeated(&cx),
            Rule::NeglectWithoutAssessment => family::neglect_without_assessment(&cx),
            Rule::MaleCarerUnseen => family::male_carer_unseen(&mut cx),
        };
        signals.extend(found);
    }
    Evaluation {
        signals,
        recheck_at: cx.recheck.map(Timestamp),
    }
}

#[cfg(test)]
mod tests;
