//! Rows and types: how each stored column maps to a type and back
//! (device ids as 8-byte BLOBs, child lists and staff lists joined by a
//! control character, chronology lines as the `records` columns), and the
//! column lists the reads select.

use std::fmt::Write as _;

use hearth_shared::{ChildRef, DeviceId, RecordHash, RecordId, RecordKind, Seq, Timestamp};
use rusqlite::Connection;

use crate::clock::ClockState;
use crate::line::{Amends, FiledRecord, FlagSet, Line};
use crate::store::{Device, Revocation, StoreError};

/// character, which no reference may hold).
pub(in crate::store) const CHILD_SEPARATOR: char = '\n';

/// Separates the worker ids in `enrol_tokens.staff` (a control character,
/// which no worker id may hold).
pub(in crate::store) const STAFF_SEPARATOR: char = '\n';

/// The staff list of `device`, in name order (current members only).
pub(super) fn staff_of(conn: &Connection, device: DeviceId) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT member FROM device_staff WHERE device = ?1 AND removed_at IS NULL ORDER BY member",
    )?;
    let rows = stmt.query_map([dev(device)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A device id as stored: its 8 bytes.
pub(super) fn dev(d: DeviceId) -> [u8; 8] {
    d.0
}

pub(in crate::store) fn parse_dev(b: &[u8]) -> Result<DeviceId, StoreError> {
    b.try_into()
        .map(DeviceId)
        .map_err(|_| StoreError::Corrupt("a device id"))
}

/// Reads a stored device id from column `i`.
pub(super) fn dev_at(row: &rusqlite::Row<'_>, i: usize) -> Result<DeviceId, StoreError> {
    let b: Vec<u8> = row.get(i)?;
    parse_dev(&b)
}

pub(in crate::store) fn parse_child(s: &str) -> Result<ChildRef, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("a child reference"))
}

pub(in crate::store) fn hash_of(b: Vec<u8>) -> Result<RecordHash, StoreError> {
    b.try_into()
        .map(RecordHash)
        .map_err(|_| StoreError::Corrupt("a record hash"))
}

/// The columns [`read_device`] reads, in its order.
pub(super) const DEVICE_COLUMNS: &str = "id, public_key, agency, worker, enrolled_at, last_seen, clock_offset, last_clock_report, revoked_at, revoked_reason";

/// A device from a row of [`DEVICE_COLUMNS`], with its gaps and staff.
pub(super) fn read_device(
    conn: &Connection,
    row: &rusqlite::Row<'_>,
) -> Result<Device, StoreError> {
    let id = dev_at(row, 0)?;
    let key: Vec<u8> = row.get(1)?;
    let revoked_at: Option<i64> = row.get(8)?;
    let revoked_reason: Option<String> = row.get(9)?;
    let mut gaps = Vec::new();
    let mut stmt = conn
        .prepare_cached("SELECT from_seq, to_seq FROM gaps WHERE device = ?1 ORDER BY from_seq")?;
    let rows = stmt.query_map([dev(id)], |r| {
        Ok((
            Seq(r.get::<_, i64>(0)? as u64),
            Seq(r.get::<_, i64>(1)? as u64),
        ))
    })?;
    for g in rows {
        gaps.push(g?);
    }
    let staff = staff_of(conn, id)?;
    Ok(Device {
        id,
        public_key: key
            .try_into()
            .map_err(|_| StoreError::Corrupt("a device key"))?,
        agency: row.get(2)?,
        worker: row.get(3)?,
        staff,
        enrolled_at: Timestamp(row.get(4)?),
        last_seen: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        clock: ClockState {
            offset: row.get(6)?,
            last_report: row.get::<_, Option<i64>>(7)?.map(Timestamp),
        },
        revoked: revoked_at.map(|at| Revocation {
            at: Timestamp(at),
            reason: revoked_reason.unwrap_or_default(),
        }),
        gaps,
    })
}

/// A [`Line`] in its stored form: the chronology columns of `records`.
pub(in crate::store) struct Columns<'a> {
    pub(in crate::store) agency: &'a str,
    pub(in crate::store) author: &'a str,
    pub(in crate::store) headline: &'a str,
    pub(in crate::store) children: String,
    pub(in crate::store) flags: u32,
    pub(in crate::store) corrects: Option<RecordId>,
    pub(in crate::store) reason: Option<&'a str>,
}

impl<'a> Columns<'a> {
    pub(in crate::store) fn of(line: &'a Line) -> Self {
        let mut children = String::new();
        for (i, c) in line.children.iter().enumerate() {
            if i > 0 {
                children.push(CHILD_SEPARATOR);
            }
            let _ = write!(children, "{c}");
        }
        Self {
            agency: &line.agency,
            author: &line.author,
            headline: &line.headline,
            children,
            flags: line.detail_flags.bits(),
            corrects: line.amends.as_ref().map(|a| a.corrects),
            reason: line.amends.as_ref().map(|a| a.reason.as_str()),
        }
    }
}

/// The columns [`read_line`] reads, for `records r` joined with the
/// sending device `d`: the agency shown is the device's enrolled agency,
/// never the one a record claims (issue 11; rows stored before the check
/// may claim another).
pub(super) const LINE_COLUMNS: &str = "r.device, r.seq, r.kind, r.occurred_at, d.agency, r.author, r.headline, r.children, r.detail_flags, r.corrects_device, r.corrects_seq, r.amend_reason, r.received_at, r.corrected_time, r.late_entry, r.disputed, d.worker";

/// A filed record from a row of [`LINE_COLUMNS`].
pub(super) fn read_line(row: &rusqlite::Row<'_>) -> Result<FiledRecord, StoreError> {
    let corrupt = StoreError::Corrupt;
    let text = |i: usize| -> Result<String, StoreError> {
        row.get::<_, Option<String>>(i)?
            .ok_or(corrupt("a chronology line"))
    };
    let kind: String = row.get(2)?;
    let children = text(7)?;
    let flags: u32 = row
        .get::<_, Option<u32>>(8)?
        .ok_or(corrupt("a chronology line"))?;
    let amends = match row.get::<_, Option<Vec<u8>>>(9)? {
        None => None,
        Some(d) => Some(Amends {
            corrects: RecordId {
                device: parse_dev(&d)?,
                seq: Seq(row.get::<_, i64>(10)? as u64),
            },
            reason: text(11)?,
        }),
    };
    Ok(FiledRecord {
        line: Line {
            id: RecordId {
                device: dev_at(row, 0)?,
                seq: Seq(row.get::<_, i64>(1)? as u64),
            },
            kind: kind
                .parse::<RecordKind>()
                .map_err(|_| corrupt("a record kind"))?,
            occurred_at: Timestamp(row.get(3)?),
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
        received_at: Timestamp(row.get(12)?),
        corrected_time: Timestamp(row.get(13)?),
        late_entry: row.get(14)?,
        disputed: row.get(15)?,
        worker: text(16)?,
    })
}
