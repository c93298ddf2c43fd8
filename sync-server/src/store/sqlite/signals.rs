//! Practice signals over SQLite: each child's stored state in
//! `signal_state` (see `migrations/0009_signals.sql` for why `dirty` is a
//! counter), marked stale by the ingest transaction and by family
//! changes, and the acknowledgements in `signal_acks`, which are only
//! ever added.

use hearth_shared::{ChildRef, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{CHILD_SEPARATOR, dev, parse_child};
use crate::signals::{Acknowledgement, Rule};
use crate::store::{SignalState, StoreError};

/// Adds 1 to `dirty` of each child in `children` (the `records.children`
/// form: references joined by [`CHILD_SEPARATOR`]), creating its state.
pub(super) fn mark_stale(conn: &Connection, children: &str) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO signal_state (child, dirty) VALUES (?1, 1)
         ON CONFLICT (child) DO UPDATE SET dirty = dirty + 1",
    )?;
    for child in children.split(CHILD_SEPARATOR).filter(|c| !c.is_empty()) {
        stmt.execute([child])?;
    }
    Ok(())
}

/// Marks stale the children a stored record names (an amendment's
/// original, a disputed record); nothing if there is no such record.
pub(super) fn mark_record_stale(
    conn: &Connection,
    id: hearth_shared::RecordId,
) -> Result<(), StoreError> {
    let children: Option<Option<String>> = conn
        .prepare_cached("SELECT children FROM records WHERE device = ?1 AND seq = ?2")?
        .query_row(params![dev(id.device), id.seq.0 as i64], |r| r.get(0))
        .optional()?;
    match children.flatten() {
        Some(c) => mark_stale(conn, &c),
        None => Ok(()),
    }
}

const STATE_COLUMNS: &str = "child, dirty, signals, computed_at, recheck_at, config";

fn read_state(row: &rusqlite::Row<'_>) -> Result<SignalState, StoreError> {
    let child: String = row.get(0)?;
    let signals: String = row.get(2)?;
    Ok(SignalState {
        child: parse_child(&child)?,
        dirty: row.get(1)?,
        signals: serde_json::from_str(&signals)
            .map_err(|_| StoreError::Corrupt("a child's stored signals"))?,
        computed_at: row.get::<_, Option<i64>>(3)?.map(Timestamp),
        recheck_at: row.get::<_, Option<i64>>(4)?.map(Timestamp),
        fingerprint: row.get(5)?,
    })
}

pub(super) fn signal_states(
    conn: &Connection,
    children: &[ChildRef],
) -> Result<Vec<SignalState>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM signal_state WHERE child = ?1"
    ))?;
    let mut out = Vec::new();
    for child in children {
        let mut rows = stmt.query([child.to_string()])?;
        if let Some(row) = rows.next()? {
            out.push(read_state(row)?);
        }
    }
    Ok(out)
}

pub(super) fn stale_children(
    conn: &Connection,
    now: Timestamp,
    fingerprint: &str,
    limit: usize,
) -> Result<Vec<ChildRef>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT child FROM signal_state
         WHERE dirty <> 0 OR computed_at IS NULL OR recheck_at <= ?1 OR config <> ?2
         LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![now.0, fingerprint, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| r.get::<_, String>(0),
    )?;
    rows.map(|c| parse_child(&c?)).collect()
}

pub(super) fn save_signal_state(conn: &Connection, s: &SignalState) -> Result<bool, StoreError> {
    let signals = serde_json::to_string(&s.signals)
        .map_err(|_| StoreError::Corrupt("a signal that cannot be stored"))?;
    // A child with no row yet (named by no record) was read as 0.
    let n = conn
        .prepare_cached(
            "INSERT INTO signal_state (child, dirty, signals, computed_at, recheck_at, config)
             VALUES (?1, 0, ?3, ?4, ?5, ?6)
             ON CONFLICT (child) DO UPDATE SET dirty = 0, signals = excluded.signals,
                 computed_at = excluded.computed_at, recheck_at = excluded.recheck_at,
                 config = excluded.config
             WHERE signal_state.dirty = ?2",
        )?
        .execute(params![
            s.child.to_string(),
            s.dirty,
            signals,
            s.computed_at.map(|t| t.0),
            s.recheck_at.map(|t| t.0),
            s.fingerprint,
        ])?;
    Ok(n > 0)
}

pub(super) fn raised_signal_states(conn: &Connection) -> Result<Vec<SignalState>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM signal_state WHERE signals <> '[]'"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_state(row)?);
    }
    Ok(out)
}

pub(super) fn add_signal_ack(conn: &Connection, a: &Acknowledgement) -> Result<(), StoreError> {
    let evidence = serde_json::to_string(&a.evidence)
        .map_err(|_| StoreError::Corrupt("evidence that cannot be stored"))?;
    conn.execute(
        "INSERT INTO signal_acks (child, rule, by, at, note, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            a.child.to_string(),
            a.rule.as_str(),
            a.by,
            a.at.0,
            a.note,
            evidence
        ],
    )?;
    Ok(())
}

fn read_ack(row: &rusqlite::Row<'_>) -> Result<Acknowledgement, StoreError> {
    let (child, rule, evidence): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(5)?);
    Ok(Acknowledgement {
        child: parse_child(&child)?,
        rule: rule
            .parse::<Rule>()
            .map_err(|_| StoreError::Corrupt("an acknowledgement's rule"))?,
        by: row.get(2)?,
        at: Timestamp(row.get(3)?),
        note: row.get(4)?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|_| StoreError::Corrupt("an acknowledgement's evidence"))?,
    })
}

pub(super) fn signal_acks(
    conn: &Connection,
    children: Option<&[ChildRef]>,
) -> Result<Vec<Acknowledgement>, StoreError> {
    const COLUMNS: &str = "child, rule, by, at, note, evidence";
    let mut out = Vec::new();
    match children {
        None => {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM signal_acks ORDER BY id"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                out.push(read_ack(row)?);
            }
        }
        Some(children) => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS}, id FROM signal_acks WHERE child = ?1 ORDER BY id"
            ))?;
            let mut ids = Vec::new();
            for child in children {
                let mut rows = stmt.query([child.to_string()])?;
                while let Some(row) = rows.next()? {
                    ids.push(row.get::<_, i64>(6)?);
                    out.push(read_ack(row)?);
                }
            }
            // Oldest first across the children.
            let mut both: Vec<_> = ids.into_iter().zip(out).collect();
            both.sort_by_key(|(id, _)| *id);
            out = both.into_iter().map(|(_, a)| a).collect();
        }
    }
    Ok(out)
}
