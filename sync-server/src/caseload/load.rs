//! A caseload read from the store: the one I/O part of [`crate::caseload`]
//! (`POST /v1/caseload` and `caseload show` both come here).
//!
//! One pass: the setup and the register, then one read of the records of
//! every child on the caseload (decoded once), the stored signal states
//! and acknowledgements; then the pure [`super::build`]. The read of names
//! is written to the register log before the caseload is returned.

use std::collections::{BTreeMap, BTreeSet};

use hearth_shared::caseload::Caseload;
use hearth_shared::{ChildRef, DeviceId, Timestamp};

use super::CaseloadSetup;
use super::build::{ChildFacts, For, Member, build, members};
use super::tasks::Seen;
use crate::chronology::{Chronology, DateRange, Flag, reconcile};
use crate::people::RegisterEntry;
use crate::signals::Rule;
use crate::store::{Store, StoreError};

/// The caseload of whom `of` picks from the setup (a device's worker,
/// staff and groups: [`For::device`]), sent to `device`, at `now`; its read
/// written to the register log first as `who` (`device:<id>`, or the
/// CLI's user).
pub fn read<S: Store + ?Sized>(
    store: &S,
    of: impl FnOnce(&CaseloadSetup) -> For,
    device: DeviceId,
    who: &str,
    now: Timestamp,
) -> Result<Caseload, StoreError> {
    let setup = store.caseload_setup()?;
    let register = store.register()?;
    let on = members(&of(&setup), &setup, |c| {
        crate::people::identity_class(&register, c)
    });
    let every: Vec<ChildRef> = on.iter().flat_map(|m| m.refs.iter().cloned()).collect();
    let c = records(store, &every)?;
    let open = open_rules(store, &every)?;
    let facts: BTreeMap<ChildRef, ChildFacts<'_>> = match &c {
        Some(c) => on
            .iter()
            .map(|m| (m.refs[0].clone(), facts(c, m, &open)))
            .collect(),
        None => BTreeMap::new(),
    };
    let caseload = build(device, &on, &register, &setup, &facts, now);
    let sent: Vec<&str> = caseload.children.iter().map(|c| c.child.as_str()).collect();
    store.log_register(&RegisterEntry {
        at: now,
        who: who.to_string(),
        action: "caseload".into(),
        detail: sent.join(" "),
        reason: String::new(),
    })?;
    Ok(caseload)
}

/// Every record of `children` (none: no chronology), with its fields.
fn records<S: Store + ?Sized>(
    store: &S,
    children: &[ChildRef],
) -> Result<Option<Chronology>, StoreError> {
    let Some(first) = children.first() else {
        return Ok(None);
    };
    let view: BTreeSet<ChildRef> = children.iter().cloned().collect();
    let mut c = Chronology {
        child: first.clone(),
        family: false,
        children: children.to_vec(),
        entries: reconcile(&store.records_for(children)?, &view, DateRange::default()),
        details: BTreeMap::new(),
        signals: Vec::new(),
        names: BTreeMap::new(),
    };
    crate::record::attach(store, &mut c)?;
    Ok(Some(c))
}

/// The rules with an open (not acknowledged) signal, by reference.
fn open_rules<S: Store + ?Sized>(
    store: &S,
    children: &[ChildRef],
) -> Result<BTreeMap<ChildRef, Vec<Rule>>, StoreError> {
    if children.is_empty() {
        return Ok(BTreeMap::new());
    }
    let acks = store.signal_acks(Some(children))?;
    let mut out = BTreeMap::new();
    for mut state in store.signal_states(children)? {
        crate::signals::ack::apply(&state.child, &mut state.signals, &acks);
        let rules: Vec<Rule> = state
            .signals
            .iter()
            .filter(|s| s.acknowledged.is_none())
            .map(|s| s.rule)
            .collect();
        out.insert(state.child, rules);
    }
    Ok(out)
}

/// One member's facts from the whole caseload's chronology.
fn facts<'a>(
    c: &'a Chronology,
    m: &Member,
    open: &BTreeMap<ChildRef, Vec<Rule>>,
) -> ChildFacts<'a> {
    let records = c
        .entries
        .iter()
        .filter(|e| !e.flags.contains(&Flag::EnteredInError))
        .filter(|e| e.children.iter().any(|r| m.refs.contains(r)))
        .filter_map(|e| {
            c.details.get(&e.record_id).map(|detail| Seen {
                at: e.occurred_at,
                detail,
            })
        })
        .collect();
    let mut rules: Vec<Rule> = m
        .refs
        .iter()
        .filter_map(|r| open.get(r))
        .flatten()
        .copied()
        .collect();
    rules.sort();
    rules.dedup();
    ChildFacts {
        records,
        open: rules,
    }
}
