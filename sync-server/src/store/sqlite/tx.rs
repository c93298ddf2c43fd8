//! The ingest transaction: [`SqliteTx`], the [`IngestTx`] that
//! [`crate::ingest`] drives over one `BEGIN IMMEDIATE` transaction on the
//! writer's connection, committed (durably: `synchronous=FULL`) only if
//! the whole batch was decided.

use hearth_shared::{ChainState, DeviceId, RecordId, Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::rows::{CHILD_SEPARATOR, Columns, dev, hash_of, staff_of};
use crate::clock::ClockState;
use crate::store::{Enrolment, Held, IngestTx, NewRecord, QuarantineUsage, StoreError};

/// Runs `f` in one immediate transaction on `conn`, committed if it
/// returns `Ok` (see [`crate::store::Store::ingest`]).
pub(super) fn ingest<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut stx = SqliteTx { tx };
    let out = f(&mut stx)?;
    stx.tx.commit()?;
    Ok(out)
}

/// One ingest transaction over SQLite.
struct SqliteTx<'c> {
    tx: Transaction<'c>,
}

impl IngestTx for SqliteTx<'_> {
    fn enrolment(&mut self, device: DeviceId) -> Result<Option<Enrolment>, StoreError> {
        let row: Option<(String, String)> = self
            .tx
            .prepare_cached("SELECT agency, worker FROM devices WHERE id = ?1")?
            .query_row([dev(device)], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(agency, worker)| {
            Ok(Enrolment {
                agency,
                worker,
                staff: staff_of(&self.tx, device)?,
            })
        })
        .transpose()
    }

    fn quarantine_usage(&mut self, device: DeviceId) -> Result<QuarantineUsage, StoreError> {
        let (bytes, exhausted): (i64, bool) = self.tx.prepare_cached(
            "SELECT COALESCE(SUM(length(bytes)), 0), COALESCE(MAX(length > 0 AND length(bytes) = 0), 0)
             FROM quarantine WHERE device = ?1 AND status = 'rejected'",
        )?
        .query_row([dev(device)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(QuarantineUsage {
            bytes: bytes as u64,
            exhausted,
        })
    }

    fn set_clock_state(
        &mut self,
        device: DeviceId,
        state: ClockState,
        seen: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE devices SET clock_offset = ?2, last_clock_report = ?3, last_seen = ?4 WHERE id = ?1",
            params![dev(device), state.offset, state.last_report.map(|t| t.0), seen.0],
        )?;
        Ok(())
    }

    fn chain_state(&mut self, device: DeviceId, seq: Seq) -> Result<ChainState, StoreError> {
        let s = seq.0 as i64;
        let mut state = ChainState {
            at_seq: None,
            before: None,
            after_prev: None,
            head: None,
        };
        // The record at `seq` and its two neighbours: one range probe of
        // the primary key.
        let mut near = self.tx.prepare_cached(
            "SELECT seq, hash, prev FROM records WHERE device = ?1 AND seq BETWEEN ?2 - 1 AND ?2 + 1",
        )?;
        let mut rows = near.query(params![dev(device), s])?;
        while let Some(row) = rows.next()? {
            let at: i64 = row.get(0)?;
            if at == s - 1 {
                state.before = Some(hash_of(row.get(1)?)?);
            } else if at == s {
                state.at_seq = Some(hash_of(row.get(1)?)?);
            } else {
                state.after_prev = Some(hash_of(row.get(2)?)?);
            }
        }
        let head: Option<i64> = self
            .tx
            .prepare_cached("SELECT MAX(seq) FROM records WHERE device = ?1")?
            .query_row([dev(device)], |r| r.get(0))?;
        state.head = head.map(|h| Seq(h as u64));
        Ok(state)
    }

    fn insert_record(&mut self, r: &NewRecord) -> Result<(), StoreError> {
        let id = r.line.id;
        let d = dev(id.device);
        let seq = id.seq.0 as i64;
        let c = Columns::of(&r.line);
        self.tx.prepare_cached(
            "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry, corrects_device, corrects_seq, agency, author, headline, children, detail_flags, amend_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?
        .execute(params![
            d,
            seq,
            r.hash.0.as_slice(),
            r.prev.0.as_slice(),
            r.bytes,
            r.line.kind.as_str(),
            r.line.occurred_at.0,
            r.device_time.0,
            r.received_at.0,
            r.corrected_time.0,
            r.late_entry,
            c.corrects.map(|c| dev(c.device)),
            c.corrects.map(|c| c.seq.0 as i64),
            c.agency,
            c.author,
            c.headline,
            c.children,
            c.flags,
            c.reason,
        ])?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO record_children (child, device, seq) VALUES (?1, ?2, ?3)",
        )?;
        // The references were formatted once, for the `children` column.
        for child in c.children.split(CHILD_SEPARATOR).filter(|c| !c.is_empty()) {
            stmt.execute(params![child, d, seq])?;
        }
        // Their signals are stale, in this transaction (issue 16); an
        // amendment changes the chronology of its original's children too.
        super::signals::mark_stale(&self.tx, &c.children)?;
        if let Some(original) = c.corrects {
            super::signals::mark_record_stale(&self.tx, original)?;
        }
        Ok(())
    }

    fn mark_disputed(&mut self, id: RecordId) -> Result<bool, StoreError> {
        let n = self.tx.execute(
            "UPDATE records SET disputed = 1 WHERE device = ?1 AND seq = ?2",
            params![dev(id.device), id.seq.0 as i64],
        )?;
        super::signals::mark_record_stale(&self.tx, id)?;
        Ok(n > 0)
    }

    fn record_bytes(&mut self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT bytes FROM records WHERE device = ?1 AND seq = ?2",
                params![dev(id.device), id.seq.0 as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn is_held(&mut self, device: DeviceId, digest: &[u8; 32]) -> Result<bool, StoreError> {
        // Every row has its digest (0005 filled in those held before 0002).
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM quarantine WHERE device = ?1 AND digest = ?2)",
            )?
            .query_row(params![dev(device), digest.as_slice()], |r| r.get(0))?)
    }

    fn holds_bytes(&mut self, id: RecordId, bytes: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM records WHERE device = ?1 AND seq = ?2 AND bytes = ?3)",
            )?
            .query_row(params![dev(id.device), id.seq.0 as i64, bytes], |r| {
                r.get(0)
            })?)
    }

    fn hold(&mut self, h: &Held) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO quarantine (device, seq, status, reason, bytes, received_at, digest, length) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                dev(h.device),
                h.seq.map(|s| s.0 as i64),
                h.status.as_str(),
                h.reason,
                h.bytes,
                h.received_at.0,
                h.digest.as_slice(),
                h.length as i64,
            ],
        )?;
        Ok(())
    }

    fn raise_alarm(
        &mut self,
        device: DeviceId,
        seq: Seq,
        message: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO alarms (raised_at, device, seq, message) VALUES (?1, ?2, ?3, ?4)",
            params![at.0, dev(device), seq.0 as i64, message],
        )?;
        Ok(())
    }

    fn add_gap(&mut self, device: DeviceId, from: Seq, to: Seq) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO gaps (device, from_seq, to_seq) VALUES (?1, ?2, ?3)",
            params![dev(device), from.0 as i64, to.0 as i64],
        )?;
        Ok(())
    }

    fn fill_gap(&mut self, device: DeviceId, seq: Seq) -> Result<(), StoreError> {
        let d = dev(device);
        let s = seq.0 as i64;
        let gap: Option<(i64, i64)> = self
            .tx
            .query_row(
                "SELECT from_seq, to_seq FROM gaps WHERE device = ?1 AND from_seq <= ?2 AND to_seq >= ?2",
                params![d, s],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((from, to)) = gap {
            self.tx.execute(
                "DELETE FROM gaps WHERE device = ?1 AND from_seq = ?2",
                params![d, from],
            )?;
            if from < s {
                self.add_gap(device, Seq(from as u64), Seq(s as u64 - 1))?;
            }
            if s < to {
                self.add_gap(device, Seq(s as u64 + 1), Seq(to as u64))?;
            }
        }
        Ok(())
    }
}
