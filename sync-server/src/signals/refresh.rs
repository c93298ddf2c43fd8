//! Keeping each child's signals current, and reading them: the only part
//! of [`crate::signals`] that touches the store.
//!
//! TODO(issue 16, store branch): stored signal states marked stale in the
//! ingest transaction (and by family changes), recomputed after commit and
//! whenever a deadline falls due or the configuration changes; reads for
//! a view and for the caseload.

use hearth_shared::{ChildRef, Timestamp};

use super::rules::evaluate;
use super::{Config, Rule, Signal};
use crate::chronology::{Chronology, DateRange, family_of, reconcile};
use crate::store::{Store, StoreError};

/// The current signals of `children` (a child, or a family), with
/// acknowledgements applied: a family-wide pattern seen from several
/// children is one signal naming them all. Recomputes any child whose
/// stored signals are stale first.
pub fn current<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    children: &[ChildRef],
    now: Timestamp,
) -> Result<Vec<Signal>, StoreError> {
    // Skeleton (replaced by the store branch): recomputed on every read,
    // no stored states, no acknowledgements.
    let links = store.family_links()?;
    let mut out: Vec<Signal> = Vec::new();
    for child in children {
        let family = family_of(child, &links);
        let members: Vec<ChildRef> = family.iter().cloned().collect();
        let records = store.records_for(&members)?;
        let mut c = Chronology {
            child: child.clone(),
            family: true,
            children: members,
            entries: reconcile(&records, &family, DateRange::default()),
            details: Default::default(),
            signals: Vec::new(),
        };
        crate::record::attach(store, &mut c)?;
        for s in evaluate(child, &c.entries, &c.details, config, now).signals {
            match out
                .iter_mut()
                .find(|o| o.rule == s.rule && o.evidence == s.evidence)
            {
                Some(o) => {
                    for c in s.children {
                        if !o.children.contains(&c) {
                            o.children.push(c);
                        }
                    }
                }
                None => out.push(s),
            }
        }
    }
    Ok(out)
}

/// One line of the caseload view: a child with at least one open (not
/// acknowledged, or re-opened) signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadRow {
    /// The child.
    pub child: ChildRef,
    /// The rules with an open signal.
    pub rules: Vec<Rule>,
    /// When the newest evidence of an open signal happened.
    pub newest_evidence: Timestamp,
    /// The child's signals, open and acknowledged.
    pub signals: Vec<Signal>,
}

/// Every child with an open signal, the newest evidence first.
pub fn caseload<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    now: Timestamp,
) -> Result<Vec<CaseloadRow>, StoreError> {
    let _ = (store, config, now);
    todo!("issue 16 store branch")
}
