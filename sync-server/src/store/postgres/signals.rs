//! Practice signals over PostgreSQL (the counterpart of
//! `store/sqlite/signals.rs`, with the same behaviour): each child's
//! stored state in `signal_state`, marked stale by the ingest transaction
//! and by family and register changes, and the acknowledgements in
//! `signal_acks`, which are only ever added (a trigger refuses the rest).
//!
//! Several instances write `signal_state` at once: the ingest transaction
//! only ever adds to `dirty` (atomic under the row's lock), once per child
//! at its commit and in sorted child order (`tx.rs`), so two transactions
//! cannot deadlock on each other's children; the refresher saves one
//! child per statement; and a recomputed state is stored only if `dirty`
//! is still the value read before the child's records were
//! (compare-and-set).

use std::collections::HashMap;

use ::postgres::{Client, GenericClient};
use hearth_shared::{ChildRef, Timestamp};

use super::rows::{CHILD_SEPARATOR, parse_child};
use crate::signals::{Acknowledgement, Rule};
use crate::store::{SignalState, StoreError};

/// Adds 1 to `dirty` of each child in `children` (the `records.children`
/// form: references joined by [`CHILD_SEPARATOR`](crate::store::sqlite::rows::CHILD_SEPARATOR)), creating its state.
/// The children are taken in sorted order, so that two transactions
/// marking overlapping children lock their rows in the same order.
pub(super) fn mark_stale(c: &mut impl GenericClient, children: &str) -> Result<(), StoreError> {
    let mut sorted: Vec<&str> = children
        .split(CHILD_SEPARATOR)
        .filter(|c| !c.is_empty())
        .collect();
    if sorted.is_empty() {
        return Ok(());
    }
    sorted.sort_unstable();
    let stmt = c.prepare(
        "INSERT INTO signal_state (child, dirty) VALUES ($1, 1)
         ON CONFLICT (child) DO UPDATE SET dirty = signal_state.dirty + 1",
    )?;
    for child in sorted {
        c.execute(&stmt, &[&child])?;
    }
    Ok(())
}

const STATE_COLUMNS: &str = "child, dirty, signals, computed_at, recheck_at, config";

fn read_state(row: &::postgres::Row) -> Result<SignalState, StoreError> {
    let child: &str = row.try_get(0)?;
    let signals: &str = row.try_get(2)?;
    Ok(SignalState {
        child: parse_child(child)?,
        dirty: row.try_get(1)?,
        signals: serde_json::from_str(signals)
            .map_err(|_| StoreError::Corrupt("a child's stored signals"))?,
        computed_at: row.try_get::<_, Option<i64>>(3)?.map(Timestamp),
        recheck_at: row.try_get::<_, Option<i64>>(4)?.map(Timestamp),
        fingerprint: row.try_get(5)?,
    })
}

/// The stored states of `children`, in their order; a child with no state
/// is left out.
pub(super) fn signal_states(
    c: &mut Client,
    children: &[ChildRef],
) -> Result<Vec<SignalState>, StoreError> {
    let keys: Vec<String> = children.iter().map(ToString::to_string).collect();
    let mut found = HashMap::new();
    for row in c.query(
        &format!("SELECT {STATE_COLUMNS} FROM signal_state WHERE child = ANY($1)"),
        &[&keys],
    )? {
        let state = read_state(&row)?;
        found.insert(state.child.to_string(), state);
    }
    Ok(keys.iter().filter_map(|k| found.get(k).cloned()).collect())
}

pub(super) fn stale_children(
    c: &mut Client,
    now: Timestamp,
    fingerprint: &str,
    limit: usize,
) -> Result<Vec<ChildRef>, StoreError> {
    let rows = c.query(
        "SELECT child FROM signal_state
         WHERE dirty <> 0 OR computed_at IS NULL OR recheck_at <= $1 OR config <> $2
         LIMIT $3",
        &[
            &now.0,
            &fingerprint,
            &i64::try_from(limit).unwrap_or(i64::MAX),
        ],
    )?;
    rows.iter().map(|r| parse_child(r.try_get(0)?)).collect()
}

/// Stores `s` only if the child's `dirty` is still `s.dirty` (setting it
/// to 0); whether it was stored.
fn save_one(c: &mut impl GenericClient, s: &SignalState) -> Result<bool, StoreError> {
    let signals = serde_json::to_string(&s.signals)
        .map_err(|_| StoreError::Corrupt("a signal that cannot be stored"))?;
    // A child with no row yet (named by no record) was read as 0.
    let n = c.execute(
        "INSERT INTO signal_state (child, dirty, signals, computed_at, recheck_at, config)
         VALUES ($1, 0, $3, $4, $5, $6)
         ON CONFLICT (child) DO UPDATE SET dirty = 0, signals = excluded.signals,
             computed_at = excluded.computed_at, recheck_at = excluded.recheck_at,
             config = excluded.config
         WHERE signal_state.dirty = $2",
        &[
            &s.child.to_string(),
            &s.dirty,
            &signals,
            &s.computed_at.map(|t| t.0),
            &s.recheck_at.map(|t| t.0),
            &s.fingerprint,
        ],
    )?;
    Ok(n > 0)
}

pub(super) fn save_signal_state(c: &mut Client, s: &SignalState) -> Result<bool, StoreError> {
    save_one(c, s)
}

/// [`save_signal_state`] for each of `states`; how many were stored.
///
/// Each child's state is saved by its own statement, committed at once, so
/// a refresh holds at most one `signal_state` row lock at a time and can
/// never be half of a deadlock with an ingest transaction (which marks
/// children stale in record order while holding the rows it has marked).
/// The commits are not waited for on disk (`synchronous_commit` off for
/// these statements only): a state is derived data, saved only if its
/// child's `dirty` is unchanged, so one lost in a crash leaves the child
/// stale and it is computed again. SQLite's single durable transaction
/// is the cheap way there; here one round trip a child is.
pub(super) fn save_signal_states(
    c: &mut Client,
    states: &[SignalState],
) -> Result<usize, StoreError> {
    c.batch_execute("SET synchronous_commit TO OFF")?;
    let saved = states.iter().try_fold(0, |stored, s| {
        Ok::<_, StoreError>(if save_one(c, s)? {
            stored + 1
        } else {
            tracing::debug!(child = %s.child, "signals changed while computing; left stale");
            stored
        })
    });
    // The connection goes back to the pool as it came.
    c.batch_execute("RESET synchronous_commit")?;
    saved
}

pub(super) fn raised_signal_states(c: &mut Client) -> Result<Vec<SignalState>, StoreError> {
    c.query(
        &format!("SELECT {STATE_COLUMNS} FROM signal_state WHERE signals <> '[]'"),
        &[],
    )?
    .iter()
    .map(read_state)
    .collect()
}

pub(super) fn add_signal_ack(c: &mut Client, a: &Acknowledgement) -> Result<(), StoreError> {
    let evidence = serde_json::to_string(&a.evidence)
        .map_err(|_| StoreError::Corrupt("evidence that cannot be stored"))?;
    c.execute(
        "INSERT INTO signal_acks (child, rule, by, at, note, evidence)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &a.child.to_string(),
            &a.rule.as_str(),
            &a.by,
            &a.at.0,
            &a.note,
            &evidence,
        ],
    )?;
    Ok(())
}

fn read_ack(row: &::postgres::Row) -> Result<Acknowledgement, StoreError> {
    let (child, rule, evidence): (&str, &str, &str) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(5)?);
    Ok(Acknowledgement {
        child: parse_child(child)?,
        rule: rule
            .parse::<Rule>()
            .map_err(|_| StoreError::Corrupt("an acknowledgement's rule"))?,
        by: row.try_get(2)?,
        at: Timestamp(row.try_get(3)?),
        note: row.try_get(4)?,
        evidence: serde_json::from_str(evidence)
            .map_err(|_| StoreError::Corrupt("an acknowledgement's evidence"))?,
    })
}

/// The acknowledgements of `children` (every child's for `None`), oldest
/// first; a child named twice has its acknowledgements twice, as SQLite's.
pub(super) fn signal_acks(
    c: &mut Client,
    children: Option<&[ChildRef]>,
) -> Result<Vec<Acknowledgement>, StoreError> {
    const COLUMNS: &str = "child, rule, by, at, note, evidence, id";
    let Some(children) = children else {
        return c
            .query(
                &format!("SELECT {COLUMNS} FROM signal_acks ORDER BY id"),
                &[],
            )?
            .iter()
            .map(read_ack)
            .collect();
    };
    let keys: Vec<String> = children.iter().map(ToString::to_string).collect();
    let mut by_child: HashMap<String, Vec<(i64, Acknowledgement)>> = HashMap::new();
    for row in c.query(
        &format!("SELECT {COLUMNS} FROM signal_acks WHERE child = ANY($1) ORDER BY id"),
        &[&keys],
    )? {
        let id: i64 = row.try_get(6)?;
        let ack = read_ack(&row)?;
        by_child
            .entry(ack.child.to_string())
            .or_default()
            .push((id, ack));
    }
    let mut both: Vec<(i64, Acknowledgement)> = keys
        .iter()
        .filter_map(|k| by_child.get(k))
        .flatten()
        .cloned()
        .collect();
    // Oldest first across the children.
    both.sort_by_key(|(id, _)| *id);
    Ok(both.into_iter().map(|(_, a)| a).collect())
}
