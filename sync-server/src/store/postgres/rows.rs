//! Rows and types over PostgreSQL, the counterpart of
//! `store/sqlite/rows.rs`: device ids as 8-byte `BYTEA`, sequence numbers
//! and times as `BIGINT`, flags as `BOOLEAN`, child and staff lists in
//! the same joined form as SQLite's (the pure parts, [`Columns`] and the
//! parsers, are SQLite's own), and the column lists the reads select.
//! Every value is read with `try_get`: a damaged row is an error, never
//! a panic.

use ::postgres::{GenericClient, Row};
use hearth_shared::{DeviceId, RecordId, RecordKind, Seq, Timestamp};

pub(super) use crate::store::sqlite::rows::{
    CHILD_SEPARATOR, Columns, hash_of, parse_child, parse_dev,
};

use crate::line::{Amends, FiledRecord, FlagSet, Line};
use crate::store::StoreError;

/// A device id as stored: its 8 bytes.
pub(super) fn dev(d: DeviceId) -> Vec<u8> {
    d.0.to_vec()
}

/// A sequence number as stored.
pub(super) fn seq(s: Seq) -> i64 {
    s.0 as i64
}

/// A stored sequence number from column `i`.
pub(super) fn seq_at(row: &Row, i: usize) -> Result<Seq, StoreError> {
    Ok(Seq(row.try_get::<_, i64>(i)? as u64))
}

/// Reads a stored device id from column `i`.
pub(super) fn dev_at(row: &Row, i: usize) -> Result<DeviceId, StoreError> {
    parse_dev(row.try_get::<_, &[u8]>(i)?)
}

/// A stored record id from the device column `i` and the seq column
/// `i + 1`.
pub(super) fn id_at(row: &Row, i: usize) -> Result<RecordId, StoreError> {
    Ok(RecordId {
        device: dev_at(row, i)?,
        seq: seq_at(row, i + 1)?,
    })
}

/// A stored time from column `i`.
pub(super) fn time_at(row: &Row, i: usize) -> Result<Timestamp, StoreError> {
    Ok(Timestamp(row.try_get(i)?))
}

/// A stored optional time from column `i`.
pub(super) fn opt_time_at(row: &Row, i: usize) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<_, Option<i64>>(i)?.map(Timestamp))
}

/// The staff list of `device`, in name order (current members only;
/// `COLLATE "C"`: code point order, as SQLite's).
pub(super) fn staff_of(
    c: &mut impl GenericClient,
    device: DeviceId,
) -> Result<Vec<String>, StoreError> {
    c.query(
        "SELECT member FROM device_staff WHERE device = $1 AND removed_at IS NULL
         ORDER BY member COLLATE \"C\"",
        &[&dev(device)],
    )?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// The columns [`read_line`] reads, for `records r` joined with the
/// sending device `d`: the agency shown is the device's enrolled agency,
/// never the one a record claims (issue 11).
pub(super) const LINE_COLUMNS: &str = "r.device, r.seq, r.kind, r.occurred_at, d.agency, r.author, r.headline, r.children, r.detail_flags, r.corrects_device, r.corrects_seq, r.amend_reason, r.received_at, r.corrected_time, r.late_entry, r.disputed, d.worker";

/// How many columns [`LINE_COLUMNS`] has (the next one is at this index).
pub(super) const LINE_COLUMN_COUNT: usize = 17;

/// A filed record from a row of [`LINE_COLUMNS`].
pub(super) fn read_line(row: &Row) -> Result<FiledRecord, StoreError> {
    let corrupt = StoreError::Corrupt;
    let text = |i: usize| -> Result<String, StoreError> {
        row.try_get::<_, Option<String>>(i)?
            .ok_or(corrupt("a chronology line"))
    };
    let kind: &str = row.try_get(2)?;
    let children = text(7)?;
    let flags = row
        .try_get::<_, Option<i64>>(8)?
        .and_then(|f| u32::try_from(f).ok())
        .ok_or(corrupt("a chronology line"))?;
    let amends = match row.try_get::<_, Option<&[u8]>>(9)? {
        None => None,
        Some(d) => Some(Amends {
            corrects: RecordId {
                device: parse_dev(d)?,
                seq: seq_at(row, 10)?,
            },
            reason: text(11)?,
        }),
    };
    Ok(FiledRecord {
        line: Line {
            id: id_at(row, 0)?,
            kind: kind
                .parse::<RecordKind>()
                .map_err(|_| corrupt("a record kind"))?,
            occurred_at: time_at(row, 3)?,
            agency: text(4)?,
            author: text(5)?,
            headline: text(6)?,
            children: children
                .split(CHILD_SEPARATOR)
                .map(parse_child)
                .collect::<Result<_, _>>()?,
            detail_flags: FlagSet::from_bits(flags).ok_or(corrupt("a chronology line's flags"))?,
            amends,
        },
        received_at: time_at(row, 12)?,
        corrected_time: time_at(row, 13)?,
        late_entry: row.try_get(14)?,
        disputed: row.try_get(15)?,
        worker: text(16)?,
    })
}
