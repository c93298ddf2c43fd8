//! `hearth-server store copy`: every table of a SQLite data directory into
//! a partnership's empty PostgreSQL schema, in one transaction, with every
//! record re-verified on the way (issue 18).
//!
//! Three parts:
//! - [`TABLES`]: the tables and their columns, in an order the foreign keys
//!   accept, with the type each column maps to (SQLite's 0/1 flags become
//!   BOOLEAN; the column `user` is `user_name` in PostgreSQL). A test
//!   checks the list against both schemas, so a later migration that adds
//!   a column without adding it here fails the build's tests, not a copy.
//! - [`check_record`]: pure. A record's bytes verify under its device's
//!   enrolled key (the same [`hearth_shared::verify`] the ingest runs),
//!   name the row's device and sequence number, hash to the row's `hash`
//!   and carry its `prev`; the device's previous record, when held, hashes
//!   to that `prev` (the chain links).
//! - [`copy`]: the I/O. Every record is checked first, inside the read
//!   transaction that the copy then reads the tables in (one snapshot, even
//!   while `serve` writes); a failure stops before anything is written.
//!   The rows then go in batched INSERTs in one PostgreSQL transaction,
//!   which refuses a target holding any row; identity sequences are moved
//!   past the copied ids before the commit.

use std::collections::HashMap;

use ::postgres::types::ToSql;
use hearth_shared::{DeviceId, RecordHash};

use super::StoreError;

/// How a column's values cross from SQLite to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// INTEGER -> BIGINT.
    Int,
    /// TEXT -> TEXT.
    Text,
    /// BLOB -> BYTEA.
    Blob,
    /// INTEGER 0/1 -> BOOLEAN.
    Bool,
}

/// A table to copy.
#[derive(Debug)]
pub struct Table {
    /// Its name (the same in both).
    pub name: &'static str,
    /// Its columns by SQLite name, with their types.
    pub columns: &'static [(&'static str, Ty)],
    /// Whether its `id` is an identity column whose sequence must be set.
    pub identity: bool,
}

impl Table {
    /// A column's PostgreSQL name.
    pub fn pg_column(sqlite: &str) -> &str {
        match sqlite {
            "user" => "user_name",
            other => other,
        }
    }
}

use Ty::{Blob, Bool, Int, Text};

macro_rules! table {
    ($name:literal, $identity:literal, [$(($col:literal, $ty:expr)),* $(,)?]) => {
        Table { name: $name, identity: $identity, columns: &[$(($col, $ty)),*] }
    };
}

/// Every table, parents before the tables whose foreign keys name them.
pub const TABLES: &[Table] = &[
    table!(
        "devices",
        false,
        [
            ("id", Blob),
            ("public_key", Blob),
            ("agency", Text),
            ("worker", Text),
            ("enrolled_at", Int),
            ("last_seen", Int),
            ("clock_offset", Int),
            ("last_clock_report", Int),
            ("revoked_at", Int),
            ("revoked_reason", Text)
        ]
    ),
    table!(
        "device_staff",
        false,
        [
            ("device", Blob),
            ("member", Text),
            ("added_at", Int),
            ("removed_at", Int)
        ]
    ),
    table!(
        "enrol_tokens",
        false,
        [
            ("token_hash", Text),
            ("agency", Text),
            ("worker", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
            ("used_by", Text),
            ("staff", Text)
        ]
    ),
    table!(
        "records",
        false,
        [
            ("device", Blob),
            ("seq", Int),
            ("hash", Blob),
            ("prev", Blob),
            ("bytes", Blob),
            ("kind", Text),
            ("occurred_at", Int),
            ("device_time", Int),
            ("received_at", Int),
            ("corrected_time", Int),
            ("late_entry", Bool),
            ("disputed", Bool),
            ("corrects_device", Blob),
            ("corrects_seq", Int),
            ("agency", Text),
            ("author", Text),
            ("headline", Text),
            ("children", Text),
            ("detail_flags", Int),
            ("amend_reason", Text)
        ]
    ),
    table!(
        "record_children",
        false,
        [("child", Text), ("device", Blob), ("seq", Int)]
    ),
    table!(
        "gaps",
        false,
        [("device", Blob), ("from_seq", Int), ("to_seq", Int)]
    ),
    table!(
        "quarantine",
        true,
        [
            ("id", Int),
            ("device", Blob),
            ("seq", Int),
            ("status", Text),
            ("reason", Text),
            ("bytes", Blob),
            ("received_at", Int),
            ("digest", Blob),
            ("length", Int)
        ]
    ),
    table!(
        "alarms",
        true,
        [
            ("id", Int),
            ("raised_at", Int),
            ("device", Blob),
            ("seq", Int),
            ("message", Text)
        ]
    ),
    table!(
        "family_links",
        false,
        [("child_a", Text), ("child_b", Text), ("linked_at", Int)]
    ),
    table!(
        "family_unlinks",
        false,
        [("child_a", Text), ("child_b", Text), ("unlinked_at", Int)]
    ),
    table!(
        "family_link_history",
        true,
        [
            ("id", Int),
            ("at", Int),
            ("action", Text),
            ("child_a", Text),
            ("child_b", Text),
            ("who", Text),
            ("reason", Text)
        ]
    ),
    table!(
        "access_log",
        true,
        [
            ("id", Int),
            ("at", Int),
            ("who", Text),
            ("via", Text),
            ("child", Text),
            ("family", Bool),
            ("reason", Text),
            ("children", Text),
            ("purpose", Text)
        ]
    ),
    table!(
        "users",
        false,
        [
            ("name", Text),
            ("role", Text),
            ("token_hash", Text),
            ("created_at", Int),
            ("revoked_at", Int),
            ("revoked_reason", Text),
            ("password_hash", Text),
            ("password_set_at", Int)
        ]
    ),
    table!(
        "sessions",
        false,
        [
            ("id_hash", Text),
            ("user", Text),
            ("csrf", Text),
            ("created_at", Int),
            ("last_seen", Int)
        ]
    ),
    table!(
        "login_failures",
        true,
        [("id", Int), ("at", Int), ("name", Text), ("peer", Text)]
    ),
    table!(
        "read_grants",
        false,
        [
            ("id", Text),
            ("user", Text),
            ("child", Text),
            ("family", Bool),
            ("reason", Text),
            ("purpose", Text),
            ("created_at", Int),
            ("expires_at", Int)
        ]
    ),
    table!(
        "signal_state",
        false,
        [
            ("child", Text),
            ("dirty", Int),
            ("signals", Text),
            ("computed_at", Int),
            ("recheck_at", Int),
            ("config", Text)
        ]
    ),
    table!(
        "signal_acks",
        true,
        [
            ("id", Int),
            ("child", Text),
            ("rule", Text),
            ("by", Text),
            ("at", Int),
            ("note", Text),
            ("evidence", Text)
        ]
    ),
    table!(
        "people",
        true,
        [
            ("id", Int),
            ("child", Bool),
            ("name", Text),
            ("born", Int),
            ("expected", Int),
            ("sex", Text),
            ("added_at", Int)
        ]
    ),
    table!("person_refs", false, [("ref", Text), ("person", Int)]),
    table!(
        "relations",
        false,
        [("adult", Int), ("child", Int), ("relationship", Text)]
    ),
    table!(
        "memberships",
        true,
        [
            ("id", Int),
            ("household", Text),
            ("person", Int),
            ("from_at", Int),
            ("until_at", Int)
        ]
    ),
    table!(
        "identity_links",
        false,
        [
            ("ref_a", Text),
            ("ref_b", Text),
            ("at", Int),
            ("who", Text),
            ("reason", Text)
        ]
    ),
    table!(
        "register_log",
        true,
        [
            ("id", Int),
            ("at", Int),
            ("who", Text),
            ("action", Text),
            ("detail", Text),
            ("reason", Text)
        ]
    ),
    table!(
        "caseload_assignments",
        false,
        [
            ("child", Text),
            ("kind", Text),
            ("assignee", Text),
            ("at", Int),
            ("by", Text)
        ]
    ),
    table!(
        "device_groups",
        false,
        [("device", Blob), ("grp", Text), ("at", Int), ("by", Text)]
    ),
    table!(
        "visit_plans",
        false,
        [
            ("child", Text),
            ("every_working_days", Int),
            ("label", Text),
            ("since", Int),
            ("by", Text)
        ]
    ),
];

/// Why a copy stopped. Nothing was written to the target in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// A record failed its re-verification.
    #[error("record {device}/{seq}: {why}; nothing was copied")]
    Record {
        /// Its device.
        device: String,
        /// Its sequence number.
        seq: i64,
        /// What failed.
        why: String,
    },
    /// The target already holds rows.
    #[error(
        "the target partnership's table {0} already holds rows; store copy fills only an empty partnership; nothing was copied"
    )]
    NotEmpty(&'static str),
    /// A stored value that does not fit its column's type.
    #[error("{table}.{column}: {why}; nothing was copied")]
    Value {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A database refused.
    #[error("{0}; nothing was copied")]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for CopyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<rusqlite::types::FromSqlError> for CopyError {
    fn from(_: rusqlite::types::FromSqlError) -> Self {
        Self::Store(StoreError::Corrupt(
            "a record's hash, prev or bytes is not a BLOB",
        ))
    }
}

impl From<::postgres::Error> for CopyError {
    fn from(e: ::postgres::Error) -> Self {
        Self::Store(e.into())
    }
}

/// What was copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows per table, in [`TABLES`] order.
    pub tables: Vec<(&'static str, u64)>,
    /// Records whose signature, hash and chain link were verified.
    pub verified: u64,
}

/// One stored record, as [`check_record`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredRow<'a> {
    /// `records.seq`.
    pub seq: i64,
    /// `records.hash`.
    pub hash: &'a [u8],
    /// `records.prev`.
    pub prev: &'a [u8],
    /// `records.bytes`.
    pub bytes: &'a [u8],
}

/// Checks one record of `device` (enrolled with `key`): its signature and
/// decoding (as the ingest does), its device and number, its hash and
/// `prev` against the row, and its link to `before`, the hash of the
/// device's record `seq - 1` when that one is held. Returns its hash.
pub fn check_record(
    device: DeviceId,
    key: &ed25519_dalek::VerifyingKey,
    row: StoredRow<'_>,
    before: Option<RecordHash>,
) -> Result<RecordHash, String> {
    let v = hearth_shared::verify(key, row.bytes).map_err(|e| e.to_string())?;
    let e = v.envelope();
    if e.device != device || i64::try_from(e.seq.0) != Ok(row.seq) {
        return Err(format!(
            "the signed bytes are record {}/{}, not this row's",
            e.device, e.seq.0
        ));
    }
    let hash = v.hash();
    if hash.as_bytes().as_slice() != row.hash {
        return Err("the signed bytes do not hash to the stored hash".into());
    }
    if e.prev.as_bytes().as_slice() != row.prev {
        return Err("the signed previous hash differs from the stored one".into());
    }
    if let Some(before) = before
        && before != e.prev
    {
        return Err(format!(
            "the chain is broken: record {} does not hash to this record's previous hash",
            e.seq.0 - 1
        ));
    }
    Ok(hash)
}

/// Every enrolled device's key.
fn device_keys(
    src: &rusqlite::Connection,
) -> Result<HashMap<Vec<u8>, ed25519_dalek::VerifyingKey>, CopyError> {
    let mut stmt = src.prepare("SELECT id, public_key FROM devices")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut keys = HashMap::new();
    for row in rows {
        let (id, key) = row?;
        let bad = |why: &str| CopyError::Value {
            table: "devices",
            column: "public_key",
            why: format!("device {}: {why}", hex::encode(&id)),
        };
        let key: [u8; 32] = key.as_slice().try_into().map_err(|_| bad("not 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
            .map_err(|_| bad("not an ed25519 public key"))?;
        keys.insert(id, key);
    }
    Ok(keys)
}

/// Re-verifies every record in `src` ([`check_record`]); the count.
pub fn verify_records(src: &rusqlite::Connection) -> Result<u64, CopyError> {
    let keys = device_keys(src)?;
    let mut stmt =
        src.prepare("SELECT device, seq, hash, prev, bytes FROM records ORDER BY device, seq")?;
    let mut rows = stmt.query([])?;
    let mut last: Option<(Vec<u8>, i64, RecordHash)> = None;
    let mut verified = 0;
    while let Some(r) = rows.next()? {
        let device: Vec<u8> = r.get(0)?;
        let row = StoredRow {
            seq: r.get(1)?,
            hash: r.get_ref(2)?.as_blob()?,
            prev: r.get_ref(3)?.as_blob()?,
            bytes: r.get_ref(4)?.as_blob()?,
        };
        let fail = |why: String| CopyError::Record {
            device: hex::encode(&device),
            seq: row.seq,
            why,
        };
        let id = DeviceId(
            device
                .as_slice()
                .try_into()
                .map_err(|_| fail("the device id is not 8 bytes".into()))?,
        );
        let key = keys
            .get(&device)
            .ok_or_else(|| fail("its device is not enrolled".into()))?;
        let before = match &last {
            Some((d, s, h)) if *d == device && *s + 1 == row.seq => Some(*h),
            _ => None,
        };
        let hash = check_record(id, key, row, before).map_err(fail)?;
        last = Some((device, row.seq, hash));
        verified += 1;
    }
    Ok(verified)
}

/// A value on its way from SQLite to PostgreSQL.
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
    Bool(Option<bool>),
}

impl Value {
    fn read(r: &rusqlite::Row<'_>, i: usize, ty: Ty) -> rusqlite::Result<Self> {
        Ok(match ty {
            Ty::Int => Self::Int(r.get(i)?),
            Ty::Text => Self::Text(r.get(i)?),
            Ty::Blob => Self::Blob(r.get(i)?),
            Ty::Bool => match r.get::<_, Option<i64>>(i)? {
                None => Self::Bool(None),
                Some(0) => Self::Bool(Some(false)),
                Some(1) => Self::Bool(Some(true)),
                Some(n) => Self::Int(Some(n)), // refused by `param` below
            },
        })
    }

    fn param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Self::Int(v) => v,
            Self::Text(v) => v,
            Self::Blob(v) => v,
            Self::Bool(v) => v,
        }
    }
}

/// Refuses every table of the target that holds a row.
fn check_empty(dst: &mut ::postgres::Transaction<'_>) -> Result<(), CopyError> {
    for t in TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", t.name);
        if dst.query_one(sql.as_str(), &[])?.get::<_, bool>(0) {
            return Err(CopyError::NotEmpty(t.name));
        }
    }
    Ok(())
}

/// `INSERT INTO t (cols) VALUES (..), (..)` for `rows` rows.
fn insert_sql(t: &Table, rows: usize) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|(c, _)| format!("\"{}\"", Table::pg_column(c)))
        .collect();
    let n = t.columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=n).map(|i| format!("${}", r * n + i)).collect();
            format!("({})", ps.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        t.name,
        cols.join(", "),
        tuples.join(", ")
    )
}

/// Rows per INSERT: within PostgreSQL's 65,535 parameters.
fn batch_rows(t: &Table) -> usize {
    (60_000 / t.columns.len()).min(1_000)
}

fn flush(
    dst: &mut ::postgres::Transaction<'_>,
    t: &Table,
    full: &::postgres::Statement,
    batch: &mut Vec<Value>,
) -> Result<(), CopyError> {
    let rows = batch.len() / t.columns.len();
    if rows == 0 {
        return Ok(());
    }
    let params: Vec<&(dyn ToSql + Sync)> = batch.iter().map(Value::param).collect();
    if rows == batch_rows(t) {
        dst.execute(full, &params)?;
    } else {
        dst.execute(insert_sql(t, rows).as_str(), &params)?;
    }
    batch.clear();
    Ok(())
}

/// Copies one table; its row count.
fn copy_table(
    src: &rusqlite::Connection,
    dst: &mut ::postgres::Transaction<'_>,
    t: &'static Table,
) -> Result<u64, CopyError> {
    let cols: Vec<String> = t.columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    let mut stmt = src.prepare(&format!("SELECT {} FROM {}", cols.join(", "), t.name))?;
    let mut rows = stmt.query([])?;
    let full = dst.prepare(&insert_sql(t, batch_rows(t)))?;
    let mut batch = Vec::with_capacity(batch_rows(t) * t.columns.len());
    let mut count = 0;
    while let Some(r) = rows.next()? {
        for (i, (column, ty)) in t.columns.iter().enumerate() {
            let v = Value::read(r, i, *ty)?;
            if let (Ty::Bool, Value::Int(Some(n))) = (ty, &v) {
                return Err(CopyError::Value {
                    table: t.name,
                    column,
                    why: format!("{n} is not a flag (0 or 1)"),
                });
            }
            batch.push(v);
        }
        count += 1;
        if batch.len() == batch_rows(t) * t.columns.len() {
            flush(dst, t, &full, &mut batch)?;
        }
    }
    flush(dst, t, &full, &mut batch)?;
    if t.identity {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{0}', 'id'), max(id)) FROM {0}",
            t.name
        );
        dst.execute(sql.as_str(), &[])?;
    }
    Ok(count)
}

/// Copies every table of `src` (a migrated SQLite store) into `dst`, a
/// connection whose `search_path` is the partnership's migrated schema,
/// after re-verifying every record; one transaction on each side.
pub fn copy(
    src: &mut rusqlite::Connection,
    dst: &mut ::postgres::Client,
) -> Result<Report, CopyError> {
    // One snapshot of the source for the checks and the copy alike.
    let src = src.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
    let verified = verify_records(&src)?;
    let mut tx = dst.transaction()?;
    check_empty(&mut tx)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        tables.push((t.name, copy_table(&src, &mut tx, t)?));
    }
    tx.commit()?;
    Ok(Report { tables, verified })
}

#[cfg(test)]
mod tests;
