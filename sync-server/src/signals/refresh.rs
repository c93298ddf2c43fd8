//! Keeping each child's signals current, and reading them: the only part
//! of [`crate::signals`] that touches the store.
//!
//! Each child's signals are stored ([`SignalState`]) and recomputed only
//! when stale: the ingest transaction marks every child a stored record
//! names (and family links and unlinks mark both children), a deadline
//! may fall due (`recheck_at`), or the configuration may change. A
//! recompute reads `dirty` before the records and stores its result only
//! if `dirty` has not moved, so a record arriving meanwhile leaves the
//! child stale (see [`Store::save_signal_state`]). A recompute of one
//! child computes its whole family, since the family-wide rules read
//! every member's records.
//!
//! - [`current`]: the signals of a view (a child, or a family), stale
//!   families recomputed first, acknowledgements applied, a family-wide
//!   pattern seen from several children shown once.
//! - [`caseload`]: every child with an open signal, newest evidence
//!   first, from the stored states and acknowledgements alone once fresh.
//! - [`refresh_stale`]: recomputes stale children, within a budget;
//!   [`Refresher`] runs it on a thread of its own once a run of ingest
//!   commits has settled ([`super::settle`]) and once a minute (deadlines
//!   fall due with no record).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hearth_shared::kinds::Detail;
use hearth_shared::{ChildRef, RecordId, Timestamp};

use super::known::Known;
use super::rules::{Evaluation, evaluate_known};
use super::settle::Settle;
use super::{Acknowledgement, Config, Rule, Signal};
use crate::chronology::family::Families;
use crate::chronology::{Chronology, DateRange, Entry, family_of, reconcile};
use crate::clock::Clock;
use crate::links::FamilyLinks;
use crate::store::{SignalState, Store, StoreError};

/// What computes one child's signals from its family's entries: the rules
/// ([`evaluate`]), or in tests a stand-in that raises signals whatever the
/// records say.
type Evaluator =
    fn(&ChildRef, &[Entry], &BTreeMap<RecordId, Detail>, &Config, &Known, Timestamp) -> Evaluation;

/// What the register and the plans say that the rules read: read once per
/// pass (or per read of a view), never per child.
pub fn known<S: Store + ?Sized>(store: &S, now: Timestamp) -> Result<Known, StoreError> {
    let register = store.register()?;
    let setup = store.caseload_setup()?;
    Ok(Known::new(
        &register,
        &setup,
        |c| crate::people::identity_class(&register, c),
        now,
    ))
}

/// How often [`Refresher`] looks for stale children with no commit to
/// wake it: deadlines fall due with no record arriving.
pub const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// The most children one pass of [`Refresher`] recomputes before it
/// looks again at which children are stale.
const PASS_BUDGET: usize = 1_024;

/// How many computed states a refresh pass stores in one transaction.
const SAVE_BATCH: usize = 256;

/// How many times a recompute starts again when the family changed
/// while it read (a link, or a record joining households); after that the
/// result is still shown, and the children stay stale.
const FAMILY_RETRIES: usize = 3;

/// Computes the signals of every member of `child`'s family from the
/// records as they stand, and stores each member's state unless a change
/// arrived meanwhile. Returns the states computed (current as of this
/// read, stored or not).
fn recompute_family<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    known: &Known,
    child: &ChildRef,
    now: Timestamp,
    eval: Evaluator,
) -> Result<Vec<SignalState>, StoreError> {
    let mut links = store.family_links()?;
    let mut attempt = 0;
    let (family, dirty) = loop {
        let family = family_of(child, &links);
        let members: Vec<ChildRef> = family.iter().cloned().collect();
        // `dirty` before the records: a record committed after this read
        // moves it, and the state below is then not stored.
        let dirty: BTreeMap<ChildRef, i64> = store
            .signal_states(&members)?
            .into_iter()
            .map(|s| (s.child, s.dirty))
            .collect();
        links = store.family_links()?;
        attempt += 1;
        if family_of(child, &links) == family || attempt == FAMILY_RETRIES {
            break (family, dirty);
        }
    };
    let computed = compute_family(store, config, known, child, &family, &dirty, now, eval)?;
    save(store, computed)
}

/// Computes the signals of every member of `family` (`child`'s) from the
/// records as they stand, and stores each member's state unless its
/// `dirty` has moved from the value in `dirty` (read before the family's
/// links and records; a member missing from it is read as 0). Returns
/// the states computed, stored or not.
#[allow(clippy::too_many_arguments)]
fn compute_family<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    known: &Known,
    child: &ChildRef,
    family: &BTreeSet<ChildRef>,
    dirty: &BTreeMap<ChildRef, i64>,
    now: Timestamp,
    eval: Evaluator,
) -> Result<Vec<Computed>, StoreError> {
    let fingerprint = config.fingerprint();
    let members: Vec<ChildRef> = family.iter().cloned().collect();
    let records = store.records_for(&members)?;
    let mut c = Chronology {
        child: child.clone(),
        family: true,
        children: members.clone(),
        entries: reconcile(&records, family, DateRange::default()),
        details: Default::default(),
        signals: Vec::new(),
        names: Default::default(),
    };
    crate::record::attach(store, &mut c)?;
    let mut out = Vec::with_capacity(members.len());
    for member in members {
        let e = eval(&member, &c.entries, &c.details, config, known, now);
        let state = SignalState {
            dirty: dirty.get(&member).copied().unwrap_or(0),
            child: member,
            signals: e.signals,
            computed_at: Some(now),
            recheck_at: e.recheck_at,
            fingerprint: fingerprint.clone(),
        };
        // A child no record or link names (a read of any reference) is
        // not given a row: there is nothing to keep current.
        let unknown = c.entries.is_empty() && !dirty.contains_key(&state.child);
        out.push(Computed {
            state,
            store: !unknown,
        });
    }
    Ok(out)
}

/// A state computed by [`compute_family`], and whether to store it.
struct Computed {
    state: SignalState,
    store: bool,
}

/// Stores the states of `computed` that are to be stored, in one
/// transaction; returns the states.
fn save<S: Store + ?Sized>(
    store: &S,
    computed: Vec<Computed>,
) -> Result<Vec<SignalState>, StoreError> {
    let keep: Vec<SignalState> = computed
        .iter()
        .filter(|c| c.store)
        .map(|c| c.state.clone())
        .collect();
    if !keep.is_empty() {
        store.save_signal_states(&keep)?;
    }
    Ok(computed.into_iter().map(|c| c.state).collect())
}

/// Recomputes the stale children (each with its family) at `now`, at
/// most about `budget` children (a family is never split); returns how
/// many states were computed. One pass: a child changed again meanwhile
/// stays stale for the next.
pub fn refresh_stale<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    now: Timestamp,
    budget: usize,
) -> Result<usize, StoreError> {
    refresh_stale_with(store, config, now, budget, evaluate_known)
}

fn refresh_stale_with<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    now: Timestamp,
    budget: usize,
    eval: Evaluator,
) -> Result<usize, StoreError> {
    let stale = store.stale_children(now, &config.fingerprint(), usize::MAX)?;
    if stale.is_empty() {
        return Ok(0);
    }
    // One read of the family links for the whole pass (it reads every
    // record naming several children: once per family would make a pass
    // quadratic in the records). `dirty` is read before it, and a member
    // not stale then is read as 0: a record or link committed after this
    // read moves the `dirty` of the children it names, so their state is
    // not stored and they stay stale; the next pass recomputes their
    // family under the new links, every member included.
    let dirty: BTreeMap<ChildRef, i64> = store
        .signal_states(&stale)?
        .into_iter()
        .map(|s| (s.child, s.dirty))
        .collect();
    let families = Families::new(&store.family_links()?);
    let known = known(store, now)?;
    let mut done: BTreeSet<ChildRef> = BTreeSet::new();
    // Stored a batch at a time: one durable commit per batch, not one
    // per child.
    let mut batch: Vec<Computed> = Vec::new();
    for child in stale {
        if done.len() >= budget {
            break;
        }
        if done.contains(&child) {
            continue;
        }
        let family = families.of(&child);
        for c in compute_family(store, config, &known, &child, &family, &dirty, now, eval)? {
            done.insert(c.state.child.clone());
            batch.push(c);
        }
        // Named by a record, the child is in its own family.
        done.insert(child);
        if batch.len() >= SAVE_BATCH {
            save(store, std::mem::take(&mut batch))?;
        }
    }
    save(store, batch)?;
    Ok(done.len())
}

/// The states of `children` (each a member of `links`' families), every
/// stale family among them recomputed first.
fn fresh_states<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    known: &Known,
    links: &FamilyLinks,
    children: &[ChildRef],
    now: Timestamp,
    eval: Evaluator,
) -> Result<BTreeMap<ChildRef, SignalState>, StoreError> {
    let fingerprint = config.fingerprint();
    let mut out: BTreeMap<ChildRef, SignalState> = BTreeMap::new();
    let mut computed: BTreeSet<ChildRef> = BTreeSet::new();
    for child in children {
        if computed.contains(child) {
            continue;
        }
        let members: Vec<ChildRef> = family_of(child, links).into_iter().collect();
        let states = store.signal_states(&members)?;
        let fresh =
            states.len() == members.len() && states.iter().all(|s| !s.is_stale(now, &fingerprint));
        let states = if fresh {
            states
        } else {
            recompute_family(store, config, known, child, now, eval)?
        };
        for s in states {
            computed.insert(s.child.clone());
            out.insert(s.child.clone(), s);
        }
    }
    out.retain(|c, _| children.contains(c));
    Ok(out)
}

/// Applies the acknowledgements of `child` to its own signals.
fn apply_acks(child: &ChildRef, signals: &mut [Signal], acks: &[Acknowledgement]) {
    super::ack::apply(child, signals, acks);
}

/// Merges the signals of several children: the same rule with the same
/// evidence is one signal naming every child; it is acknowledged only if
/// every part is (showing the latest acknowledgement). In rule order,
/// then by first evidence.
fn merge(parts: Vec<Signal>) -> Vec<Signal> {
    let mut out: Vec<Signal> = Vec::new();
    for s in parts {
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
                o.children.sort();
                o.acknowledged = match (o.acknowledged.take(), s.acknowledged) {
                    (Some(a), Some(b)) => Some(if b.at > a.at { b } else { a }),
                    _ => None,
                };
            }
            None => out.push(s),
        }
    }
    out.sort_by_key(|s| (s.rule, s.first_seen));
    out
}

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
    current_with(store, config, children, now, evaluate_known)
}

fn current_with<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    children: &[ChildRef],
    now: Timestamp,
    eval: Evaluator,
) -> Result<Vec<Signal>, StoreError> {
    let links = store.family_links()?;
    let known = known(store, now)?;
    let states = fresh_states(store, config, &known, &links, children, now, eval)?;
    let acks = store.signal_acks(Some(children))?;
    let mut parts = Vec::new();
    for (child, state) in states {
        let mut signals = state.signals;
        apply_acks(&child, &mut signals, &acks);
        parts.extend(signals);
    }
    Ok(merge(parts))
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

/// Every child with an open signal, the newest evidence first (then by
/// child). Refreshes every stale child first; then reads only the stored
/// states and the acknowledgements.
pub fn caseload<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    now: Timestamp,
) -> Result<Vec<CaseloadRow>, StoreError> {
    caseload_with(store, config, now, evaluate_known)
}

fn caseload_with<S: Store + ?Sized>(
    store: &S,
    config: &Config,
    now: Timestamp,
    eval: Evaluator,
) -> Result<Vec<CaseloadRow>, StoreError> {
    refresh_stale_with(store, config, now, usize::MAX, eval)?;
    let mut acks: BTreeMap<ChildRef, Vec<Acknowledgement>> = BTreeMap::new();
    for a in store.signal_acks(None)? {
        acks.entry(a.child.clone()).or_default().push(a);
    }
    let mut rows = Vec::new();
    for state in store.raised_signal_states()? {
        let child = state.child;
        let mut signals = state.signals;
        apply_acks(
            &child,
            &mut signals,
            acks.get(&child).map_or(&[], Vec::as_slice),
        );
        let open: Vec<&Signal> = signals
            .iter()
            .filter(|s| s.acknowledged.is_none())
            .collect();
        let Some(newest) = open.iter().map(|s| s.last_seen).max() else {
            continue;
        };
        let mut rules: Vec<Rule> = open.iter().map(|s| s.rule).collect();
        rules.sort();
        rules.dedup();
        rows.push(CaseloadRow {
            child,
            rules,
            newest_evidence: newest,
            signals,
        });
    }
    rows.sort_by(|a, b| {
        b.newest_evidence
            .cmp(&a.newest_evidence)
            .then_with(|| a.child.cmp(&b.child))
    });
    Ok(rows)
}

/// Waits, after a wake-up, until the commits settle ([`Settle`]);
/// false when every [`Refresher`] is gone (the server is stopping).
fn settle(rx: &std::sync::mpsc::Receiver<()>) -> bool {
    use std::sync::mpsc::RecvTimeoutError;
    let mut run = Settle::new(Instant::now());
    while let Some(wait) = run.wait(Instant::now()) {
        match rx.recv_timeout(wait) {
            Ok(()) => run.woken(Instant::now()),
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
    true
}

/// Recomputes every stale child, in passes of at most [`PASS_BUDGET`],
/// each reading the stale children, their `dirty` and the links afresh:
/// a long pass begun during a bulk load would store nothing (every
/// `dirty` moved) and hold the catch-up back until it ended.
fn refresh_passes<S: Store>(store: &S, config: &Config, clock: &dyn Clock) {
    loop {
        match refresh_stale(store, config, clock.now(), PASS_BUDGET) {
            Ok(n) if n >= PASS_BUDGET => {
                tracing::debug!(children = n, "signals recomputed; more stale")
            }
            Ok(0) => break,
            Ok(n) => {
                tracing::debug!(children = n, "signals recomputed");
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "signals not recomputed; a read recomputes them");
                break;
            }
        }
    }
}

/// Wakes the thread that keeps signals current while serving.
#[derive(Clone)]
pub struct Refresher {
    wake: std::sync::mpsc::SyncSender<()>,
}

impl Refresher {
    /// Starts a thread that recomputes stale children over `store` when
    /// woken ([`Refresher::wake`], after each ingest commit), once the
    /// commits have settled ([`Settle`]), and every [`RECHECK_EVERY`].
    /// Off the writer: ingest never waits for the rules.
    pub fn start<S: Store>(store: S, config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("hearth-signals".into())
            .spawn(move || {
                use std::sync::mpsc::RecvTimeoutError;
                loop {
                    match rx.recv_timeout(RECHECK_EVERY) {
                        Err(RecvTimeoutError::Disconnected) => break,
                        // Deadlines may have fallen due: no settling.
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) => {
                            if !settle(&rx) {
                                break;
                            }
                        }
                    }
                    refresh_passes(&store, &config, clock.as_ref());
                }
            })
            .expect("spawning the signals thread");
        Self { wake }
    }

    /// Asks for a refresh soon; never blocks (a wake-up already pending
    /// covers this one).
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

#[cfg(test)]
mod tests;
