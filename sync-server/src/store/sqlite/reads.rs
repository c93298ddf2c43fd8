//! Reads over SQLite: the stored chronology lines a pull needs (with the
//! whole chain of each record's corrections), what decides families, the
//! access log (and its one write, before a read is served), and what is
//! held aside and the alarms raised. A pull decodes no record.

use std::collections::HashSet;

use hearth_shared::{ChildRef, RecordId, Seq, Timestamp};
use rusqlite::{Connection, params};

use super::rows::{CHILD_SEPARATOR, LINE_COLUMNS, dev, dev_at, parse_child, read_line};
use crate::line::FiledRecord;
use crate::links::{FamilyLinks, HouseholdStay, NamedTogether};
use crate::store::{Access, Alarm, Held, HoldStatus, StoreError, Via};

pub(super) fn records_for(
    conn: &Connection,
    children: &[ChildRef],
) -> Result<Vec<FiledRecord>, StoreError> {
    // One read transaction for every statement below: each on its own
    // would take and release SQLite's locks (a few hundred per family).
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut by_child = conn.prepare(&format!(
        "SELECT {LINE_COLUMNS}
         FROM record_children c JOIN records r ON r.device = c.device AND r.seq = c.seq
         LEFT JOIN devices d ON d.id = r.device
         WHERE c.child = ?1"
    ))?;
    let mut corrections = Vec::new();
    for child in children {
        let mut rows = by_child.query([child.to_string()])?;
        while let Some(row) = rows.next()? {
            let rec = read_line(row)?;
            if seen.insert(rec.line.id) {
                // Only a device's own records can be amended (issue
                // 11): an amendment of another device's record, stored
                // before ingest refused them, brings nothing in.
                corrections.extend(own_correction(&rec));
                out.push(rec);
            }
        }
    }
    add_corrected(conn, &mut out, &mut seen, corrections)?;
    drop(by_child);
    tx.finish()?;
    Ok(out)
}

/// Adds to `out` the whole chain of own-device corrections of every
/// record in it: back, the records `corrections` correct (and those
/// their corrections correct in turn), and forward, every later
/// correction of a record read. Each record once.
///
/// Forward matters: a correction that moved a record to other children
/// is not indexed under the children the original named, so without it
/// a pull of the original's child would show the original as if it had
/// never been corrected (found in review of issue 12).
pub(super) fn add_corrected(
    conn: &Connection,
    out: &mut Vec<FiledRecord>,
    seen: &mut HashSet<RecordId>,
    mut corrections: Vec<RecordId>,
) -> Result<(), StoreError> {
    let mut by_id = conn.prepare(&format!(
        "SELECT {LINE_COLUMNS} FROM records r LEFT JOIN devices d ON d.id = r.device
         WHERE r.device = ?1 AND r.seq = ?2"
    ))?;
    // Only a device's own corrections (issue 11).
    let mut corrected_by = conn.prepare(&format!(
        "SELECT {LINE_COLUMNS} FROM records r INDEXED BY records_corrects
         LEFT JOIN devices d ON d.id = r.device
         WHERE r.corrects_device = ?1 AND r.corrects_seq = ?2 AND r.device = ?1"
    ))?;
    let mut forward: Vec<RecordId> = out.iter().map(|r| r.line.id).collect();
    loop {
        if let Some(id) = corrections.pop() {
            if seen.contains(&id) {
                continue;
            }
            let mut rows = by_id.query(params![dev(id.device), id.seq.0 as i64])?;
            if let Some(row) = rows.next()? {
                let rec = read_line(row)?;
                corrections.extend(own_correction(&rec));
                forward.push(id);
                out.push(rec);
                seen.insert(id);
            }
        } else if let Some(id) = forward.pop() {
            let mut rows = corrected_by.query(params![dev(id.device), id.seq.0 as i64])?;
            while let Some(row) = rows.next()? {
                let rec = read_line(row)?;
                let later = rec.line.id;
                if seen.insert(later) {
                    corrections.extend(own_correction(&rec));
                    forward.push(later);
                    out.push(rec);
                }
            }
        } else {
            return Ok(());
        }
    }
}

/// Every correction and the records it corrects (issue 12: the chronology
/// decides from them which records were entered in error, and a retracted
/// record links no family). Reads them through the partial index of
/// amendments.
pub(super) fn corrections(conn: &Connection) -> Result<Vec<FiledRecord>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {LINE_COLUMNS} FROM records r INDEXED BY records_corrects
         LEFT JOIN devices d ON d.id = r.device
         WHERE r.corrects_device IS NOT NULL"
    ))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut corrections = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let rec = read_line(row)?;
        seen.insert(rec.line.id);
        corrections.extend(own_correction(&rec));
        out.push(rec);
    }
    add_corrected(conn, &mut out, &mut seen, corrections)?;
    Ok(out)
}

pub(super) fn family_links(conn: &Connection) -> Result<FamilyLinks, StoreError> {
    let mut links = FamilyLinks {
        corrections: corrections(conn)?,
        ..FamilyLinks::default()
    };
    // Only records naming several children, through their partial
    // index (INDEXED BY fails loudly if the index cannot serve it).
    let mut stmt = conn.prepare(
        "SELECT kind, children, device, seq FROM records INDEXED BY records_naming_several
         WHERE instr(children, char(10)) > 0 ORDER BY device, seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id = RecordId {
            device: dev_at(row, 2)?,
            seq: Seq(row.get::<_, i64>(3)? as u64),
        };
        let kind: String = row.get(0)?;
        let children: String = row.get(1)?;
        links.named_together.push(NamedTogether {
            id,
            kind: kind
                .parse()
                .map_err(|_| StoreError::Corrupt("a record kind"))?,
            children: children
                .split(CHILD_SEPARATOR)
                .map(parse_child)
                .collect::<Result<_, _>>()?,
        });
    }
    for (table, out) in [
        ("family_links", &mut links.linked),
        ("family_unlinks", &mut links.unlinked),
    ] {
        let mut stmt = conn.prepare(&format!("SELECT child_a, child_b FROM {table}"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            out.push((
                parse_child(&row.get::<_, String>(0)?)?,
                parse_child(&row.get::<_, String>(1)?)?,
            ));
        }
    }
    links.households = household_stays(conn)?;
    links.identities = identity_pairs(conn)?;
    Ok(links)
}

/// Every child's household membership, with the child's references.
fn household_stays(conn: &Connection) -> Result<Vec<HouseholdStay>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT m.id, m.household, m.from_at, m.until_at, r.ref FROM memberships m
         JOIN people p ON p.id = m.person AND p.child = 1
         JOIN person_refs r ON r.person = m.person
         ORDER BY m.id, r.ref",
    )?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<(i64, HouseholdStay)> = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let r = parse_child(&row.get::<_, String>(4)?)?;
        match out.last_mut() {
            Some((last, stay)) if *last == id => stay.refs.push(r),
            _ => out.push((
                id,
                HouseholdStay {
                    household: row.get(1)?,
                    refs: vec![r],
                    from: Timestamp(row.get(2)?),
                    until: row.get::<_, Option<i64>>(3)?.map(Timestamp),
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, stay)| stay).collect())
}

/// The identity links in force, and each pair of consecutive references
/// registered to one person (enough to join them all).
fn identity_pairs(conn: &Connection) -> Result<Vec<(ChildRef, ChildRef)>, StoreError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare("SELECT ref_a, ref_b FROM identity_links")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        out.push((
            parse_child(&row.get::<_, String>(0)?)?,
            parse_child(&row.get::<_, String>(1)?)?,
        ));
    }
    let mut stmt = conn.prepare("SELECT person, ref FROM person_refs ORDER BY person, ref")?;
    let mut rows = stmt.query([])?;
    let mut last: Option<(i64, ChildRef)> = None;
    while let Some(row) = rows.next()? {
        let (person, r): (i64, ChildRef) = (row.get(0)?, parse_child(&row.get::<_, String>(1)?)?);
        if let Some((p, prev)) = &last
            && *p == person
        {
            out.push((prev.clone(), r.clone()));
        }
        last = Some((person, r));
    }
    Ok(out)
}

pub(super) fn log_access(conn: &Connection, a: &Access) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO access_log (at, who, via, child, family, reason, children, purpose) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            a.at.0,
            a.who,
            a.via.as_str(),
            // The column is NOT NULL: an empty string is "no child
            // asked for".
            a.child.as_ref().map(ToString::to_string).unwrap_or_default(),
            a.family,
            a.reason,
            // One per line: a local id may hold a space, never a line
            // break (a child reference holds no control character).
            a.children.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
            a.purpose.map(|p| p.as_str())
        ],
    )?;
    Ok(())
}

pub(super) fn access_log(conn: &Connection) -> Result<Vec<Access>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT at, who, via, child, family, reason, children, purpose FROM access_log ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let via: String = r.get(2)?;
        out.push(Access {
            at: Timestamp(r.get(0)?),
            who: r.get(1)?,
            // `cli` for a word this build does not know (as ever).
            via: via.parse().unwrap_or(Via::Cli),
            child: match r.get::<_, String>(3)? {
                c if c.is_empty() => None,
                c => Some(parse_child(&c)?),
            },
            family: r.get(4)?,
            reason: r.get(5)?,
            // None for a word this build does not know.
            purpose: r.get::<_, Option<String>>(7)?.and_then(|p| p.parse().ok()),
            children: r
                .get::<_, String>(6)?
                .split('\n')
                .filter(|c| !c.is_empty())
                .map(parse_child)
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(out)
}

pub(super) fn held(conn: &Connection) -> Result<Vec<Held>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, device, seq, status, reason, bytes, received_at, length, digest FROM quarantine ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let status: String = r.get(3)?;
        out.push(Held {
            id: r.get(0)?,
            device: dev_at(r, 1)?,
            seq: r.get::<_, Option<i64>>(2)?.map(|s| Seq(s as u64)),
            // Anything but `quarantined` reads as rejected (as ever).
            status: status.parse().unwrap_or(HoldStatus::Rejected),
            reason: r.get(4)?,
            bytes: r.get(5)?,
            received_at: Timestamp(r.get(6)?),
            length: r.get::<_, i64>(7)? as u64,
            digest: r
                .get::<_, Vec<u8>>(8)?
                .try_into()
                .map_err(|_| StoreError::Corrupt("a quarantine digest"))?,
        });
    }
    Ok(out)
}

pub(super) fn alarms(conn: &Connection) -> Result<Vec<Alarm>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT id, raised_at, device, seq, message FROM alarms ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Alarm {
            id: r.get(0)?,
            raised_at: Timestamp(r.get(1)?),
            device: dev_at(r, 2)?,
            seq: Seq(r.get::<_, i64>(3)? as u64),
            message: r.get(4)?,
        });
    }
    Ok(out)
}

/// The record `rec` corrects, if it is a correction of its own device's
/// record (issue 11: an amendment of another device's record, stored
/// before ingest refused them, brings nothing in).
fn own_correction(rec: &FiledRecord) -> Option<RecordId> {
    rec.line
        .amends
        .as_ref()
        .filter(|a| a.corrects.device == rec.line.id.device)
        .map(|a| a.corrects)
}
