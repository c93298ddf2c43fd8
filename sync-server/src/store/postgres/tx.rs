//! The ingest transaction over PostgreSQL: [`PgTx`], the [`IngestTx`]
//! that [`crate::ingest`] drives over one READ COMMITTED transaction,
//! committed only if the whole group of batches was decided. Same
//! semantics as `store/sqlite/tx.rs`, statement for statement.
//!
//! Why this is race-free when several instances ingest at once (issue 18):
//!
//! * **The chain lock.** The first thing [`crate::ingest::apply_batch`]
//!   does for a batch is [`IngestTx::set_clock_state`], which here first
//!   takes the sending device's row lock (`SELECT 1 FROM devices WHERE id
//!   = $1 FOR UPDATE`), held until commit. Everything written for one
//!   device's chain (records, gaps, quarantine, clock) is therefore
//!   serialised across instances: a second instance's transaction waits at
//!   that statement until the first commits or rolls back, and at READ
//!   COMMITTED each later statement sees what the first committed, so a
//!   retried batch is decided as "already held", never stored twice, and
//!   no fork is falsely raised from a half-seen chain.
//! * **Lock order.** The writer sorts a group's batches by device id
//!   (`ingest/writer.rs`), so two instances lock devices in the same
//!   order; children's `signal_state` rows are changed only by adding to
//!   `dirty` (atomic under the row lock), all at once at the commit, in
//!   child order ([`PgTx::mark_stale`]). Every ingest transaction thus
//!   locks devices, then children, each in one global order, and the
//!   signal refresher holds one child's row at a time: no cycle, so no
//!   deadlock. (Marking them record by record deadlocked two instances,
//!   and an instance with its refresher, every few seconds under the
//!   benchmark.)
//! * **Backstops.** The primary key `(device, seq)` refuses a second copy
//!   of a record whatever happens; that error (23505), a serialisation
//!   failure (40001) or a deadlock (40P01) rolls the whole group back and
//!   the writer runs it again ([`StoreError::is_transient`]).
//!
//! Statements are prepared once per transaction ([`PgTx::prep`]), not per
//! record.

use std::collections::{BTreeMap, HashMap};

use ::postgres::types::ToSql;
use ::postgres::{Client, IsolationLevel, Statement, Transaction};
use hearth_shared::{ChainState, DeviceId, RecordId, Seq, Timestamp};

use super::rows::{CHILD_SEPARATOR, Columns, dev, hash_of, seq, staff_of};
use crate::clock::ClockState;
use crate::store::{Enrolment, Held, IngestTx, NewRecord, QuarantineUsage, StoreError};

/// Runs `f` in one READ COMMITTED transaction on `c`, committed if it
/// returns `Ok` (see [`crate::store::Store::ingest`]); dropped (rolled
/// back) otherwise.
pub(super) fn ingest<T>(
    c: &mut Client,
    f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()?;
    let mut ptx = PgTx {
        tx,
        prepared: HashMap::new(),
        stale: BTreeMap::new(),
    };
    let out = f(&mut ptx)?;
    ptx.mark_stale()?;
    ptx.tx.commit()?;
    Ok(out)
}

/// One ingest transaction over PostgreSQL.
struct PgTx<'c> {
    tx: Transaction<'c>,
    /// Statements prepared in this transaction, by their SQL.
    prepared: HashMap<&'static str, Statement>,
    /// The children whose signals this transaction makes stale (issue 16),
    /// with how many changes each (a record naming it, a record amending
    /// or disputing one that names it), marked once, in order, just before
    /// the commit ([`PgTx::mark_stale`]).
    stale: BTreeMap<String, i64>,
}

impl PgTx<'_> {
    /// Marks stale, in one statement, every child this transaction's
    /// records name (and those of the records they amend or dispute):
    /// `dirty` plus its number of changes each, in code point order. Done last, so that every
    /// ingest transaction takes the devices' row locks (in device order,
    /// as the writer sorts a group) and then the children's (in child
    /// order): two instances ingesting at once never wait on each other in
    /// a circle, and the signal refresher holds one row at a time.
    fn mark_stale(&mut self) -> Result<(), StoreError> {
        if self.stale.is_empty() {
            return Ok(());
        }
        let (children, changes): (Vec<String>, Vec<i64>) =
            std::mem::take(&mut self.stale).into_iter().unzip();
        self.exec(
            "INSERT INTO signal_state (child, dirty)
             SELECT child, n FROM unnest($1::TEXT[], $2::BIGINT[]) WITH ORDINALITY AS k(child, n, o)
             ORDER BY o
             ON CONFLICT (child) DO UPDATE SET dirty = signal_state.dirty + excluded.dirty",
            &[&children, &changes],
        )?;
        Ok(())
    }

    /// Counts one change of `child`'s signals, marked at the commit.
    fn stale_child(&mut self, child: &str) {
        *self.stale.entry(child.to_string()).or_insert(0) += 1;
    }

    /// Adds the children of the stored record `id` (an amendment's
    /// original, a disputed record) to those marked stale at the commit.
    fn stale_record(&mut self, id: RecordId) -> Result<(), StoreError> {
        let rows = self.rows(
            "SELECT children FROM records WHERE device = $1 AND seq = $2",
            &[&dev(id.device), &seq(id.seq)],
        )?;
        if let Some(children) = rows
            .first()
            .map(|r| r.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten()
        {
            for child in children.split(CHILD_SEPARATOR).filter(|c| !c.is_empty()) {
                self.stale_child(child);
            }
        }
        Ok(())
    }

    /// The statement for `sql`, prepared on first use.
    fn prep(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.prepared.insert(sql, s.clone());
        Ok(s)
    }

    /// Runs the statement `sql` with `params`; the rows it changed.
    fn exec(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let s = self.prep(sql)?;
        Ok(self.tx.execute(&s, params)?)
    }

    /// The rows of the query `sql` with `params`.
    fn rows(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<::postgres::Row>, StoreError> {
        let s = self.prep(sql)?;
        Ok(self.tx.query(&s, params)?)
    }

    /// Whether the query `sql` (a `SELECT EXISTS`) answers true.
    fn exists(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<bool, StoreError> {
        let s = self.prep(sql)?;
        Ok(self.tx.query_one(&s, params)?.try_get(0)?)
    }
}

impl IngestTx for PgTx<'_> {
    fn enrolment(&mut self, device: DeviceId) -> Result<Option<Enrolment>, StoreError> {
        let rows = self.rows(
            "SELECT agency, worker FROM devices WHERE id = $1",
            &[&dev(device)],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(Enrolment {
            agency: row.try_get(0)?,
            worker: row.try_get(1)?,
            staff: staff_of(&mut self.tx, device)?,
        }))
    }

    fn quarantine_usage(&mut self, device: DeviceId) -> Result<QuarantineUsage, StoreError> {
        let rows = self.rows(
            "SELECT COALESCE(SUM(octet_length(bytes)), 0)::BIGINT,
                    COALESCE(BOOL_OR(length > 0 AND octet_length(bytes) = 0), FALSE)
             FROM quarantine WHERE device = $1 AND status = 'rejected'",
            &[&dev(device)],
        )?;
        let row = rows
            .first()
            .ok_or(StoreError::Corrupt("a quarantine sum"))?;
        Ok(QuarantineUsage {
            bytes: row.try_get::<_, i64>(0)? as u64,
            exhausted: row.try_get(1)?,
        })
    }

    fn set_clock_state(
        &mut self,
        device: DeviceId,
        state: ClockState,
        seen: Timestamp,
    ) -> Result<(), StoreError> {
        let d = dev(device);
        // The chain lock (see the module's overview): held until commit.
        self.rows("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE", &[&d])?;
        self.exec(
            "UPDATE devices SET clock_offset = $2, last_clock_report = $3, last_seen = $4 WHERE id = $1",
            &[&d, &state.offset, &state.last_report.map(|t| t.0), &seen.0],
        )?;
        Ok(())
    }

    fn chain_state(&mut self, device: DeviceId, at: Seq) -> Result<ChainState, StoreError> {
        let s = seq(at);
        let d = dev(device);
        let mut state = ChainState {
            at_seq: None,
            before: None,
            after_prev: None,
            head: None,
        };
        // The record at `seq`, its two neighbours and the device's head, in
        // one round trip: a range probe of the primary key, and the head's
        // row (the largest seq) beside it.
        let mut head = None;
        for row in self.rows(
            "SELECT seq, hash, prev FROM records
             WHERE device = $1
               AND (seq BETWEEN $2::BIGINT - 1 AND $2::BIGINT + 1
                    OR seq = (SELECT MAX(seq) FROM records WHERE device = $1))",
            &[&d, &s],
        )? {
            let found: i64 = row.try_get(0)?;
            head = head.max(Some(found));
            if found == s - 1 {
                state.before = Some(hash_of(row.try_get(1)?)?);
            } else if found == s {
                state.at_seq = Some(hash_of(row.try_get(1)?)?);
            } else if found == s + 1 {
                state.after_prev = Some(hash_of(row.try_get(2)?)?);
            }
        }
        state.head = head.map(|h| Seq(h as u64));
        Ok(state)
    }

    fn insert_record(&mut self, r: &NewRecord) -> Result<(), StoreError> {
        let id = r.line.id;
        let d = dev(id.device);
        let s = seq(id.seq);
        let c = Columns::of(&r.line);
        // The references were formatted once, for the `children` column.
        let children: Vec<&str> = c
            .children
            .split(CHILD_SEPARATOR)
            .filter(|c| !c.is_empty())
            .collect();
        for child in &children {
            self.stale_child(child);
        }
        // The record and its children's index rows in one statement: one
        // round trip per record. Their signals are marked stale at the
        // commit ([`PgTx::mark_stale`]).
        self.exec(
            "WITH stored AS (
                 INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry, corrects_device, corrects_seq, agency, author, headline, children, detail_flags, amend_reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
             )
             INSERT INTO record_children (child, device, seq)
             SELECT child, $1, $2 FROM unnest($20::TEXT[]) AS child
             ON CONFLICT DO NOTHING",
            &[
                &d,
                &s,
                &r.hash.0.as_slice(),
                &r.prev.0.as_slice(),
                &r.bytes,
                &r.line.kind.as_str(),
                &r.line.occurred_at.0,
                &r.device_time.0,
                &r.received_at.0,
                &r.corrected_time.0,
                &r.late_entry,
                &c.corrects.map(|c| dev(c.device)),
                &c.corrects.map(|c| seq(c.seq)),
                &c.agency,
                &c.author,
                &c.headline,
                &c.children,
                &i64::from(c.flags),
                &c.reason,
                &children,
            ],
        )?;
        // An amendment changes the chronology of its original's children
        // too.
        if let Some(original) = c.corrects {
            self.stale_record(original)?;
        }
        Ok(())
    }

    fn mark_disputed(&mut self, id: RecordId) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE records SET disputed = TRUE WHERE device = $1 AND seq = $2",
            &[&dev(id.device), &seq(id.seq)],
        )?;
        self.stale_record(id)?;
        Ok(n > 0)
    }

    fn record_bytes(&mut self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.rows(
            "SELECT bytes FROM records WHERE device = $1 AND seq = $2",
            &[&dev(id.device), &seq(id.seq)],
        )?;
        Ok(match rows.first() {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        })
    }

    fn is_held(&mut self, device: DeviceId, digest: &[u8; 32]) -> Result<bool, StoreError> {
        self.exists(
            "SELECT EXISTS (SELECT 1 FROM quarantine WHERE device = $1 AND digest = $2)",
            &[&dev(device), &digest.as_slice()],
        )
    }

    fn holds_bytes(&mut self, id: RecordId, bytes: &[u8]) -> Result<bool, StoreError> {
        self.exists(
            "SELECT EXISTS (SELECT 1 FROM records WHERE device = $1 AND seq = $2 AND bytes = $3)",
            &[&dev(id.device), &seq(id.seq), &bytes],
        )
    }

    fn hold(&mut self, h: &Held) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO quarantine (device, seq, status, reason, bytes, received_at, digest, length)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &dev(h.device),
                &h.seq.map(seq),
                &h.status.as_str(),
                &h.reason,
                &h.bytes,
                &h.received_at.0,
                &h.digest.as_slice(),
                &(h.length as i64),
            ],
        )?;
        Ok(())
    }

    fn raise_alarm(
        &mut self,
        device: DeviceId,
        at_seq: Seq,
        message: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO alarms (raised_at, device, seq, message) VALUES ($1, $2, $3, $4)",
            &[&at.0, &dev(device), &seq(at_seq), &message],
        )?;
        Ok(())
    }

    fn add_gap(&mut self, device: DeviceId, from: Seq, to: Seq) -> Result<(), StoreError> {
        // SQLite's INSERT OR REPLACE: the key is (device, from_seq).
        self.exec(
            "INSERT INTO gaps (device, from_seq, to_seq) VALUES ($1, $2, $3)
             ON CONFLICT (device, from_seq) DO UPDATE SET to_seq = EXCLUDED.to_seq",
            &[&dev(device), &seq(from), &seq(to)],
        )?;
        Ok(())
    }

    fn fill_gap(&mut self, device: DeviceId, at: Seq) -> Result<(), StoreError> {
        let d = dev(device);
        let s = seq(at);
        let rows = self.rows(
            "SELECT from_seq, to_seq FROM gaps WHERE device = $1 AND from_seq <= $2 AND to_seq >= $2",
            &[&d, &s],
        )?;
        let Some(row) = rows.first() else {
            return Ok(());
        };
        let (from, to): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        self.exec(
            "DELETE FROM gaps WHERE device = $1 AND from_seq = $2",
            &[&d, &from],
        )?;
        if from < s {
            self.add_gap(device, Seq(from as u64), Seq(s as u64 - 1))?;
        }
        if s < to {
            self.add_gap(device, Seq(s as u64 + 1), Seq(to as u64))?;
        }
        Ok(())
    }
}
