//! The SQLite backend: [`SqliteStore`], implementing [`Store`] and
//! [`IngestTx`] over one `hearth.db` in the data directory.
//!
//! Why these settings: WAL lets administration commands and pulls read
//! while `serve` writes; `busy_timeout` makes concurrent writers wait
//! rather than fail; `synchronous=FULL` on the ingest connection means a
//! committed batch survives power loss, which is what a receipt promises.
//! Migrations are the numbered files in `migrations/`, applied in order and
//! tracked in `PRAGMA user_version`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hearth_shared::kinds::Detail;
use hearth_shared::signed::{SIGNATURE_LEN, decode_envelope};
use hearth_shared::{ChainState, ChildRef, DeviceId, RecordHash, RecordId, Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::{
    Access, Alarm, Device, EnrolRefusal, Grant, Held, HoldStatus, IngestTx, NewRecord, Revocation,
    Role, Store, StoreError, StoredRecord, User, Via,
};
use crate::clock::ClockState;

/// The numbered migrations, in order.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_lookup_by_hash.sql"),
    include_str!("migrations/0003_access_log_children.sql"),
];

/// The database file inside the data directory.
pub fn db_path(data: &Path) -> PathBuf {
    data.join("hearth.db")
}

/// A store over one SQLite connection.
pub struct SqliteStore {
    conn: Connection,
}

fn dev_text(d: DeviceId) -> String {
    d.to_string()
}

fn parse_dev(s: &str) -> Result<DeviceId, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt("a device id"))
}

fn parse_child(s: &str) -> Result<ChildRef, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("a child reference"))
}

fn hash_of(b: Vec<u8>) -> Result<RecordHash, StoreError> {
    b.try_into()
        .map(RecordHash)
        .map_err(|_| StoreError::Corrupt("a record hash"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data` and migrates it.
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data).map_err(|source| StoreError::Io {
            path: data.to_path_buf(),
            source,
        })?;
        let conn = Connection::open(db_path(data))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an already migrated database (for request handlers): no
    /// write lock is taken.
    pub fn connect(data: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(db_path(data))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Self { conn })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn read_device(&self, row: &rusqlite::Row<'_>) -> Result<Device, StoreError> {
        let id: String = row.get(0)?;
        let id = parse_dev(&id)?;
        let key: Vec<u8> = row.get(1)?;
        let revoked_at: Option<i64> = row.get(8)?;
        let revoked_reason: Option<String> = row.get(9)?;
        let mut gaps = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT from_seq, to_seq FROM gaps WHERE device = ?1 ORDER BY from_seq",
        )?;
        let rows = stmt.query_map([dev_text(id)], |r| {
            Ok((
                Seq(r.get::<_, i64>(0)? as u64),
                Seq(r.get::<_, i64>(1)? as u64),
            ))
        })?;
        for g in rows {
            gaps.push(g?);
        }
        Ok(Device {
            id,
            public_key: key
                .try_into()
                .map_err(|_| StoreError::Corrupt("a device key"))?,
            agency: row.get(2)?,
            worker: row.get(3)?,
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
}

const DEVICE_COLUMNS: &str = "id, public_key, agency, worker, enrolled_at, last_seen, clock_offset, last_clock_report, revoked_at, revoked_reason";

/// One ingest transaction over SQLite.
struct SqliteTx<'c> {
    tx: Transaction<'c>,
}

impl IngestTx for SqliteTx<'_> {
    fn set_clock_state(
        &mut self,
        device: DeviceId,
        state: ClockState,
        seen: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE devices SET clock_offset = ?2, last_clock_report = ?3, last_seen = ?4 WHERE id = ?1",
            params![dev_text(device), state.offset, state.last_report.map(|t| t.0), seen.0],
        )?;
        Ok(())
    }

    fn chain_state(&mut self, device: DeviceId, seq: Seq) -> Result<ChainState, StoreError> {
        let d = dev_text(device);
        let s = seq.0 as i64;
        let hash_at = |tx: &Transaction<'_>, at: i64| -> Result<Option<RecordHash>, StoreError> {
            tx.prepare_cached("SELECT hash FROM records WHERE device = ?1 AND seq = ?2")?
                .query_row(params![d, at], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
                .map(hash_of)
                .transpose()
        };
        let at_seq = hash_at(&self.tx, s)?;
        let before = if s > 1 {
            hash_at(&self.tx, s - 1)?
        } else {
            None
        };
        let after_prev = self
            .tx
            .prepare_cached("SELECT prev FROM records WHERE device = ?1 AND seq = ?2")?
            .query_row(params![d, s + 1], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .map(hash_of)
            .transpose()?;
        let head: Option<i64> = self
            .tx
            .prepare_cached("SELECT MAX(seq) FROM records WHERE device = ?1")?
            .query_row([&d], |r| r.get(0))?;
        Ok(ChainState {
            at_seq,
            before,
            after_prev,
            head: head.map(|h| Seq(h as u64)),
        })
    }

    fn insert_record(&mut self, r: &NewRecord) -> Result<(), StoreError> {
        let e = &r.envelope;
        let d = dev_text(e.device);
        let (cd, cs) = match &e.body.detail {
            Detail::Amendment(a) => (
                Some(dev_text(a.corrects.device)),
                Some(a.corrects.seq.0 as i64),
            ),
            _ => (None, None),
        };
        self.tx.prepare_cached(
            "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry, corrects_device, corrects_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            d,
            e.seq.0 as i64,
            r.hash.0.as_slice(),
            e.prev.0.as_slice(),
            r.bytes,
            e.body.detail.kind().as_str(),
            e.body.occurred_at.0,
            e.device_time.0,
            r.received_at.0,
            r.corrected_time.0,
            r.late_entry,
            cd,
            cs,
        ])?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO record_children (child, device, seq) VALUES (?1, ?2, ?3)",
        )?;
        for child in e.body.children.iter() {
            stmt.execute(params![child.to_string(), d, e.seq.0 as i64])?;
        }
        Ok(())
    }

    fn mark_disputed(&mut self, id: RecordId) -> Result<bool, StoreError> {
        let n = self.tx.execute(
            "UPDATE records SET disputed = 1 WHERE device = ?1 AND seq = ?2",
            params![dev_text(id.device), id.seq.0 as i64],
        )?;
        Ok(n > 0)
    }

    fn record_bytes(&mut self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT bytes FROM records WHERE device = ?1 AND seq = ?2",
                params![dev_text(id.device), id.seq.0 as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn is_held(&mut self, device: DeviceId, bytes: &[u8]) -> Result<bool, StoreError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        Ok(self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM quarantine WHERE device = ?1 AND digest = ?2)
                 OR EXISTS (SELECT 1 FROM quarantine WHERE device = ?1 AND digest IS NULL AND bytes = ?3)",
            params![dev_text(device), digest.as_slice(), bytes],
            |r| r.get(0),
        )?)
    }

    fn seq_holding(
        &mut self,
        device: DeviceId,
        hash: RecordHash,
        bytes: &[u8],
    ) -> Result<Option<Seq>, StoreError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT seq FROM records WHERE device = ?1 AND hash = ?2 AND bytes = ?3",
            )?
            .query_row(params![dev_text(device), hash.0.as_slice(), bytes], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(|s| Seq(s as u64)))
    }

    fn hold(&mut self, h: &Held) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO quarantine (device, seq, status, reason, bytes, received_at, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                dev_text(h.device),
                h.seq.map(|s| s.0 as i64),
                h.status.as_str(),
                h.reason,
                h.bytes,
                h.received_at.0,
                Sha256::digest(&h.bytes).as_slice()
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
            params![at.0, dev_text(device), seq.0 as i64, message],
        )?;
        Ok(())
    }

    fn add_gap(&mut self, device: DeviceId, from: Seq, to: Seq) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO gaps (device, from_seq, to_seq) VALUES (?1, ?2, ?3)",
            params![dev_text(device), from.0 as i64, to.0 as i64],
        )?;
        Ok(())
    }

    fn fill_gap(&mut self, device: DeviceId, seq: Seq) -> Result<(), StoreError> {
        let d = dev_text(device);
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

fn read_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, i64, i64, bool, bool)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_stored(
    (bytes, received, corrected, late, disputed): (Vec<u8>, i64, i64, bool, bool),
) -> Result<StoredRecord, StoreError> {
    // The bytes were verified before they were stored; decoding them again
    // (without the signature) cannot fail unless the database is damaged.
    let env_len = bytes
        .len()
        .checked_sub(SIGNATURE_LEN)
        .ok_or(StoreError::Corrupt("a stored record"))?;
    let envelope =
        decode_envelope(&bytes[..env_len]).map_err(|_| StoreError::Corrupt("a stored record"))?;
    Ok(StoredRecord {
        envelope,
        received_at: Timestamp(received),
        corrected_time: Timestamp(corrected),
        late_entry: late,
        disputed,
    })
}

impl Store for SqliteStore {
    fn ingest<T>(
        &mut self,
        f: impl FnOnce(&mut dyn IngestTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut stx = SqliteTx { tx };
        let out = f(&mut stx)?;
        stx.tx.commit()?;
        Ok(out)
    }

    fn device(&self, id: DeviceId) -> Result<Option<Device>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"
        ))?;
        let mut rows = stmt.query([dev_text(id)])?;
        match rows.next()? {
            Some(row) => Ok(Some(self.read_device(row)?)),
            None => Ok(None),
        }
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY enrolled_at, id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(self.read_device(row)?);
        }
        Ok(out)
    }

    fn revoke(&self, id: DeviceId, reason: &str, at: Timestamp) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE devices SET revoked_at = ?2, revoked_reason = ?3 WHERE id = ?1",
            params![dev_text(id), at.0, reason],
        )?;
        Ok(n > 0)
    }

    fn add_enrol_token(
        &self,
        hash: &str,
        grant: &Grant,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO enrol_tokens (token_hash, agency, worker, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash, grant.agency, grant.worker, created.0, expires.0],
        )?;
        Ok(())
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: DeviceId,
        public_key: [u8; 32],
        now: Timestamp,
    ) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let token: Option<(String, String, i64, Option<i64>)> = tx
            .query_row(
                "SELECT agency, worker, expires_at, used_at FROM enrol_tokens WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((agency, worker, expires, used)) = token else {
            return Ok(Err(EnrolRefusal::UnknownToken));
        };
        if let Some(used) = used {
            return Ok(Err(EnrolRefusal::Used(Timestamp(used))));
        }
        if expires <= now.0 {
            return Ok(Err(EnrolRefusal::Expired(Timestamp(expires))));
        }
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
            [dev_text(device)],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(Err(EnrolRefusal::DeviceExists));
        }
        tx.execute(
            "UPDATE enrol_tokens SET used_at = ?2, used_by = ?3 WHERE token_hash = ?1",
            params![token_hash, now.0, dev_text(device)],
        )?;
        tx.execute(
            "INSERT INTO devices (id, public_key, agency, worker, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![dev_text(device), public_key.as_slice(), agency, worker, now.0],
        )?;
        tx.commit()?;
        Ok(Ok(Grant { agency, worker }))
    }

    fn add_user(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO users (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), token_hash, now.0],
        )?;
        Ok(n > 0)
    }

    fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT name, role FROM users WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(name, role)| {
            Ok(User {
                name,
                role: Role::parse(&role).ok_or(StoreError::Corrupt("a user role"))?,
            })
        })
        .transpose()
    }

    fn link_family(&self, a: &ChildRef, b: &ChildRef, at: Timestamp) -> Result<(), StoreError> {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        self.conn.execute(
            "INSERT OR IGNORE INTO family_links (child_a, child_b, linked_at) VALUES (?1, ?2, ?3)",
            params![a.to_string(), b.to_string(), at.0],
        )?;
        Ok(())
    }

    fn family_groups(&self) -> Result<Vec<Vec<ChildRef>>, StoreError> {
        let mut groups: Vec<Vec<ChildRef>> = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT device, seq, child FROM record_children WHERE (device, seq) IN
               (SELECT device, seq FROM record_children GROUP BY device, seq HAVING COUNT(*) > 1)
             ORDER BY device, seq, child",
        )?;
        let mut rows = stmt.query([])?;
        let mut last: Option<(String, i64)> = None;
        while let Some(row) = rows.next()? {
            let key = (row.get::<_, String>(0)?, row.get::<_, i64>(1)?);
            let child = parse_child(&row.get::<_, String>(2)?)?;
            if last.as_ref() != Some(&key) {
                groups.push(Vec::new());
                last = Some(key);
            }
            groups.last_mut().expect("pushed above").push(child);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT child_a, child_b FROM family_links")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            groups.push(vec![
                parse_child(&row.get::<_, String>(0)?)?,
                parse_child(&row.get::<_, String>(1)?)?,
            ]);
        }
        Ok(groups)
    }

    fn records_for(&self, children: &[ChildRef]) -> Result<Vec<StoredRecord>, StoreError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        let mut by_child = self.conn.prepare(
            "SELECT r.bytes, r.received_at, r.corrected_time, r.late_entry, r.disputed, r.device, r.seq
             FROM record_children c JOIN records r ON r.device = c.device AND r.seq = c.seq
             WHERE c.child = ?1",
        )?;
        let mut corrections = Vec::new();
        for child in children {
            let mut rows = by_child.query([child.to_string()])?;
            while let Some(row) = rows.next()? {
                let key: (String, i64) = (row.get(5)?, row.get(6)?);
                if seen.insert(key) {
                    let rec = to_stored(read_record(row)?)?;
                    if let Detail::Amendment(a) = &rec.envelope.body.detail {
                        corrections.push(a.corrects);
                    }
                    out.push(rec);
                }
            }
        }
        let mut by_id = self.conn.prepare(
            "SELECT bytes, received_at, corrected_time, late_entry, disputed FROM records WHERE device = ?1 AND seq = ?2",
        )?;
        for id in corrections {
            let key = (dev_text(id.device), id.seq.0 as i64);
            if seen.contains(&key) {
                continue;
            }
            if let Some(raw) = by_id
                .query_row(params![key.0, key.1], read_record)
                .optional()?
            {
                out.push(to_stored(raw)?);
                seen.insert(key);
            }
        }
        Ok(out)
    }

    fn log_access(&self, a: &Access) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO access_log (at, who, via, child, family, reason, children) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                a.at.0,
                a.who,
                a.via.as_str(),
                a.child.to_string(),
                a.family,
                a.reason,
                a.children.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
            ],
        )?;
        Ok(())
    }

    fn access_log(&self) -> Result<Vec<Access>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, who, via, child, family, reason, children FROM access_log ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let via: String = r.get(2)?;
            out.push(Access {
                at: Timestamp(r.get(0)?),
                who: r.get(1)?,
                via: if via == "http" { Via::Http } else { Via::Cli },
                child: parse_child(&r.get::<_, String>(3)?)?,
                family: r.get(4)?,
                reason: r.get(5)?,
                children: r
                    .get::<_, String>(6)?
                    .split_whitespace()
                    .map(parse_child)
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(out)
    }

    fn held(&self) -> Result<Vec<Held>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, device, seq, status, reason, bytes, received_at FROM quarantine ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let status: String = r.get(3)?;
            out.push(Held {
                id: r.get(0)?,
                device: parse_dev(&r.get::<_, String>(1)?)?,
                seq: r.get::<_, Option<i64>>(2)?.map(|s| Seq(s as u64)),
                status: if status == "quarantined" {
                    HoldStatus::Quarantined
                } else {
                    HoldStatus::Rejected
                },
                reason: r.get(4)?,
                bytes: r.get(5)?,
                received_at: Timestamp(r.get(6)?),
            });
        }
        Ok(out)
    }

    fn alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, raised_at, device, seq, message FROM alarms ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Alarm {
                id: r.get(0)?,
                raised_at: Timestamp(r.get(1)?),
                device: parse_dev(&r.get::<_, String>(2)?)?,
                seq: Seq(r.get::<_, i64>(3)? as u64),
                message: r.get(4)?,
            });
        }
        Ok(out)
    }
}
