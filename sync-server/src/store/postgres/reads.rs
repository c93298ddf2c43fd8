//! Reads over PostgreSQL, the counterpart of `store/sqlite/reads.rs`, with
//! the same results in the same order: the stored chronology lines a pull
//! needs (with the whole chain of each record's corrections), what decides
//! families, the access log (and its one write, before a read is served),
//! and what is held aside and the alarms raised. A pull decodes no record.
//!
//! Order: where SQLite returns rows in an index's order, the query here
//! says `ORDER BY` those columns, with text compared byte by byte
//! (`COLLATE "C"`, as SQLite compares), not by the database's locale.

use std::collections::HashSet;

use ::postgres::{Client, GenericClient, IsolationLevel};
use hearth_shared::{ChildRef, RecordId};

use super::rows::{
    CHILD_SEPARATOR, LINE_COLUMNS, dev, dev_at, id_at, opt_time_at, parse_child, read_line, seq,
    seq_at, time_at,
};
use crate::line::FiledRecord;
use crate::links::{FamilyLinks, HouseholdStay, NamedTogether};
use crate::store::{Access, Alarm, Held, HoldStatus, StoreError, Via};

pub(super) fn records_for(
    c: &mut Client,
    children: &[ChildRef],
) -> Result<Vec<FiledRecord>, StoreError> {
    // One snapshot for every statement below, as SQLite's read
    // transaction gives: a record and its corrections as of one moment.
    let mut tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let by_child = tx.prepare(&format!(
        "SELECT {LINE_COLUMNS}
         FROM record_children c JOIN records r ON r.device = c.device AND r.seq = c.seq
         LEFT JOIN devices d ON d.id = r.device
         WHERE c.child = $1 ORDER BY c.device, c.seq"
    ))?;
    let mut corrections = Vec::new();
    for child in children {
        for row in tx.query(&by_child, &[&child.to_string()])? {
            let rec = read_line(&row)?;
            if seen.insert(rec.line.id) {
                // Only a device's own records can be amended (issue 11).
                corrections.extend(own_correction(&rec));
                out.push(rec);
            }
        }
    }
    add_corrected(&mut tx, &mut out, &mut seen, corrections)?;
    tx.commit()?;
    Ok(out)
}

/// Adds to `out` the whole chain of own-device corrections of every
/// record in it: back, the records `corrections` correct (and those their
/// corrections correct in turn), and forward, every later correction of a
/// record read. Each record once. (See SQLite's for why forward matters.)
///
/// Level by level, one query per level for all the records of that level
/// (`unnest` of their ids), not one per record: over a network each query
/// is a round trip, and a pull of 5,000 entries would otherwise make
/// 5,000 of them just to find that few were corrected.
fn add_corrected(
    c: &mut impl GenericClient,
    out: &mut Vec<FiledRecord>,
    seen: &mut HashSet<RecordId>,
    mut corrections: Vec<RecordId>,
) -> Result<(), StoreError> {
    let by_ids = c.prepare(&format!(
        "SELECT {LINE_COLUMNS} FROM records r LEFT JOIN devices d ON d.id = r.device
         JOIN unnest($1::bytea[], $2::bigint[]) AS k(dev, sq) ON r.device = k.dev AND r.seq = k.sq
         ORDER BY r.device, r.seq"
    ))?;
    // Only a device's own corrections (issue 11).
    let corrected_by = c.prepare(&format!(
        "SELECT {LINE_COLUMNS} FROM records r LEFT JOIN devices d ON d.id = r.device
         JOIN unnest($1::bytea[], $2::bigint[]) AS k(dev, sq)
           ON r.corrects_device = k.dev AND r.corrects_seq = k.sq AND r.device = k.dev
         WHERE r.corrects_device IS NOT NULL
         ORDER BY r.device, r.seq"
    ))?;
    let mut forward: Vec<RecordId> = out.iter().map(|r| r.line.id).collect();
    loop {
        let back: Vec<RecordId> = std::mem::take(&mut corrections)
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        let (stmt, ids) = if !back.is_empty() {
            (&by_ids, back)
        } else if !forward.is_empty() {
            (&corrected_by, std::mem::take(&mut forward))
        } else {
            return Ok(());
        };
        let (devices, seqs): (Vec<Vec<u8>>, Vec<i64>) =
            ids.iter().map(|id| (dev(id.device), seq(id.seq))).unzip();
        for row in c.query(stmt, &[&devices, &seqs])? {
            let rec = read_line(&row)?;
            let id = rec.line.id;
            if seen.insert(id) {
                corrections.extend(own_correction(&rec));
                forward.push(id);
                out.push(rec);
            }
        }
    }
}

/// Every correction and the records it corrects (issue 12), through the
/// partial index of amendments, in its order.
fn corrections(c: &mut impl GenericClient) -> Result<Vec<FiledRecord>, StoreError> {
    let rows = c.query(
        &format!(
            "SELECT {LINE_COLUMNS} FROM records r LEFT JOIN devices d ON d.id = r.device
             WHERE r.corrects_device IS NOT NULL
             ORDER BY r.corrects_device, r.corrects_seq, r.device, r.seq"
        ),
        &[],
    )?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut corrections = Vec::new();
    for row in rows {
        let rec = read_line(&row)?;
        seen.insert(rec.line.id);
        corrections.extend(own_correction(&rec));
        out.push(rec);
    }
    add_corrected(c, &mut out, &mut seen, corrections)?;
    Ok(out)
}

pub(super) fn family_links(c: &mut Client) -> Result<FamilyLinks, StoreError> {
    // One snapshot, as for a pull.
    let mut tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let mut links = FamilyLinks {
        corrections: corrections(&mut tx)?,
        ..FamilyLinks::default()
    };
    // Only records naming several children, through their partial index.
    for row in tx.query(
        "SELECT kind, children, device, seq FROM records
         WHERE strpos(children, E'\\n') > 0 ORDER BY device, seq",
        &[],
    )? {
        let kind: &str = row.try_get(0)?;
        let children: &str = row.try_get(1)?;
        links.named_together.push(NamedTogether {
            id: id_at(&row, 2)?,
            kind: kind
                .parse()
                .map_err(|_| StoreError::Corrupt("a record kind"))?,
            children: children
                .split(CHILD_SEPARATOR)
                .map(parse_child)
                .collect::<Result<_, _>>()?,
        });
    }
    links.linked = pairs(
        &mut tx,
        "SELECT child_a, child_b FROM family_links ORDER BY child_a COLLATE \"C\", child_b COLLATE \"C\"",
    )?;
    links.unlinked = pairs(
        &mut tx,
        "SELECT child_a, child_b FROM family_unlinks ORDER BY child_a COLLATE \"C\", child_b COLLATE \"C\"",
    )?;
    links.households = household_stays(&mut tx)?;
    links.identities = identity_pairs(&mut tx)?;
    tx.commit()?;
    Ok(links)
}

/// The pairs of child references `sql` selects.
fn pairs(c: &mut impl GenericClient, sql: &str) -> Result<Vec<(ChildRef, ChildRef)>, StoreError> {
    c.query(sql, &[])?
        .iter()
        .map(|row| Ok((parse_child(row.try_get(0)?)?, parse_child(row.try_get(1)?)?)))
        .collect()
}

/// Every child's household membership, with the child's references.
fn household_stays(c: &mut impl GenericClient) -> Result<Vec<HouseholdStay>, StoreError> {
    let rows = c.query(
        "SELECT m.id, m.household, m.from_at, m.until_at, r.ref FROM memberships m
         JOIN people p ON p.id = m.person AND p.child
         JOIN person_refs r ON r.person = m.person
         ORDER BY m.id, r.ref COLLATE \"C\"",
        &[],
    )?;
    let mut out: Vec<(i64, HouseholdStay)> = Vec::new();
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let r = parse_child(row.try_get(4)?)?;
        match out.last_mut() {
            Some((last, stay)) if *last == id => stay.refs.push(r),
            _ => out.push((
                id,
                HouseholdStay {
                    household: row.try_get(1)?,
                    refs: vec![r],
                    from: time_at(&row, 2)?,
                    until: opt_time_at(&row, 3)?,
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, stay)| stay).collect())
}

/// The identity links in force, and each pair of consecutive references
/// registered to one person (enough to join them all).
fn identity_pairs(c: &mut impl GenericClient) -> Result<Vec<(ChildRef, ChildRef)>, StoreError> {
    let mut out = pairs(
        c,
        "SELECT ref_a, ref_b FROM identity_links ORDER BY ref_a COLLATE \"C\", ref_b COLLATE \"C\"",
    )?;
    let mut last: Option<(i64, ChildRef)> = None;
    for row in c.query(
        "SELECT person, ref FROM person_refs ORDER BY person, ref COLLATE \"C\"",
        &[],
    )? {
        let (person, r): (i64, ChildRef) = (row.try_get(0)?, parse_child(row.try_get(1)?)?);
        if let Some((p, prev)) = &last
            && *p == person
        {
            out.push((prev.clone(), r.clone()));
        }
        last = Some((person, r));
    }
    Ok(out)
}

pub(super) fn log_access(c: &mut Client, a: &Access) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO access_log (at, who, via, child, family, reason, children, purpose)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &a.at.0,
            &a.who,
            &a.via.as_str(),
            // NOT NULL: an empty string is "no child asked for".
            &a.child
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            &a.family,
            &a.reason,
            // One per line (a child reference holds no control character).
            &a.children
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            &a.purpose.map(|p| p.as_str()),
        ],
    )?;
    Ok(())
}

pub(super) fn access_log(c: &mut Client) -> Result<Vec<Access>, StoreError> {
    let rows = c.query(
        "SELECT at, who, via, child, family, reason, children, purpose FROM access_log ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let via: &str = r.try_get(2)?;
            let child: &str = r.try_get(3)?;
            let children: &str = r.try_get(6)?;
            Ok(Access {
                at: time_at(r, 0)?,
                who: r.try_get(1)?,
                // `cli` for a word this build does not know (as ever).
                via: via.parse().unwrap_or(Via::Cli),
                child: match child {
                    "" => None,
                    c => Some(parse_child(c)?),
                },
                family: r.try_get(4)?,
                reason: r.try_get(5)?,
                // None for a word this build does not know.
                purpose: r
                    .try_get::<_, Option<&str>>(7)?
                    .and_then(|p| p.parse().ok()),
                children: children
                    .split('\n')
                    .filter(|c| !c.is_empty())
                    .map(parse_child)
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

pub(super) fn held(c: &mut Client) -> Result<Vec<Held>, StoreError> {
    let rows = c.query(
        "SELECT id, device, seq, status, reason, bytes, received_at, length, digest FROM quarantine ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let status: &str = r.try_get(3)?;
            Ok(Held {
                id: r.try_get(0)?,
                device: dev_at(r, 1)?,
                seq: match r.try_get::<_, Option<i64>>(2)? {
                    Some(_) => Some(seq_at(r, 2)?),
                    None => None,
                },
                // Anything but `quarantined` reads as rejected (as ever).
                status: status.parse().unwrap_or(HoldStatus::Rejected),
                reason: r.try_get(4)?,
                bytes: r.try_get(5)?,
                received_at: time_at(r, 6)?,
                length: r.try_get::<_, i64>(7)? as u64,
                digest: r
                    .try_get::<_, &[u8]>(8)?
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("a quarantine digest"))?,
            })
        })
        .collect()
}

pub(super) fn alarms(c: &mut Client) -> Result<Vec<Alarm>, StoreError> {
    let rows = c.query(
        "SELECT id, raised_at, device, seq, message FROM alarms ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Alarm {
                id: r.try_get(0)?,
                raised_at: time_at(r, 1)?,
                device: dev_at(r, 2)?,
                seq: seq_at(r, 3)?,
                message: r.try_get(4)?,
            })
        })
        .collect()
}

/// The record `rec` corrects, if it is a correction of its own device's
/// record (issue 11).
fn own_correction(rec: &FiledRecord) -> Option<RecordId> {
    rec.line
        .amends
        .as_ref()
        .filter(|a| a.corrects.device == rec.line.id.device)
        .map(|a| a.corrects)
}
