//! Drafts (migration 0006): a form's answers saved as the worker types,
//! sealed with the data key like a record body, under the slot
//! `drafts.sealed` and the draft's id. Not records: they are overwritten,
//! deleted, never signed and never synced. Each save is its own committed
//! transaction (WAL with `synchronous = FULL`, as for records), so a saved
//! draft survives a dead battery.

use hearth_shared::{Seq, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::LocalStore;
use crate::seal::Slot;
use crate::store::StoreError;

/// A draft as stored: its id, when it was last saved, and its answers
/// (opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDraft {
    /// Its id (random, above 0, below 2^63).
    pub id: u64,
    /// When it was last saved.
    pub saved_at: Timestamp,
    /// What the forms module saved, decrypted.
    pub content: Vec<u8>,
}

fn id_to_sql(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id)
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| StoreError::Corrupt(format!("draft id {id} out of range")))
}

fn rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(u64, i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let out = stmt
        .query_map(params, |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(out)
}

impl LocalStore {
    /// Saves (or replaces) draft `id` with `content`, sealed; returns once
    /// committed.
    pub fn save_draft(&self, id: u64, now: Timestamp, content: &[u8]) -> Result<(), StoreError> {
        let sealed = self.sealer()?.seal(Slot::Draft, Some(Seq(id)), content);
        self.conn.execute(
            "INSERT INTO drafts (id, saved_at, sealed) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET saved_at = excluded.saved_at, sealed = excluded.sealed",
            params![id_to_sql(id)?, now.0, sealed],
        )?;
        Ok(())
    }

    fn open_draft(
        &self,
        (id, saved_at, sealed): (u64, i64, Vec<u8>),
    ) -> Result<StoredDraft, StoreError> {
        let content = self.sealer()?.open(Slot::Draft, Some(Seq(id)), &sealed)?;
        Ok(StoredDraft {
            id,
            saved_at: Timestamp(saved_at),
            content,
        })
    }

    /// Draft `id`, if there is one.
    pub fn draft(&self, id: u64) -> Result<Option<StoredDraft>, StoreError> {
        let Ok(sql_id) = id_to_sql(id) else {
            return Ok(None);
        };
        let row = self
            .conn
            .query_row(
                "SELECT id, saved_at, sealed FROM drafts WHERE id = ?1",
                [sql_id],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|r| self.open_draft(r)).transpose()
    }

    /// Every draft, the most recently saved first.
    pub fn drafts(&self) -> Result<Vec<StoredDraft>, StoreError> {
        rows(
            &self.conn,
            "SELECT id, saved_at, sealed FROM drafts ORDER BY saved_at DESC, id",
            [],
        )?
        .into_iter()
        .map(|r| self.open_draft(r))
        .collect()
    }

    /// Deletes draft `id`; whether there was one. (`secure_delete` is on,
    /// so its pages are zeroed.)
    pub fn discard_draft(&self, id: u64) -> Result<bool, StoreError> {
        let Ok(sql_id) = id_to_sql(id) else {
            return Ok(false);
        };
        Ok(self
            .conn
            .execute("DELETE FROM drafts WHERE id = ?1", [sql_id])?
            > 0)
    }

    /// Deletes the drafts last saved before `before`; how many.
    pub fn purge_drafts(&self, before: Timestamp) -> Result<usize, StoreError> {
        self.sealer()?;
        Ok(self
            .conn
            .execute("DELETE FROM drafts WHERE saved_at < ?1", [before.0])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{DataKey, Sealer};
    use crate::store::DB_FILE_NAME;

    fn sealer() -> Sealer {
        Sealer::new(&DataKey::from_bytes([9u8; 32]))
    }

    #[test]
    fn a_draft_survives_reopening_and_is_sealed_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let typed = b"the child said: my arm hurts when daddy is cross";
        {
            let store = LocalStore::open_dir(dir.path()).unwrap().unlocked(sealer());
            store.save_draft(42, Timestamp(1_000), b"first").unwrap();
            store.save_draft(42, Timestamp(2_000), typed).unwrap();
        }
        for name in [DB_FILE_NAME, "hearth.db-wal"] {
            if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
                assert!(
                    !bytes.windows(typed.len()).any(|w| w == typed),
                    "{name} holds the typed text"
                );
                assert!(!bytes.windows(11).any(|w| w == b"my arm hurt"));
            }
        }
        let store = LocalStore::open_dir(dir.path()).unwrap().unlocked(sealer());
        let d = store.draft(42).unwrap().unwrap();
        assert_eq!(d.content, typed);
        assert_eq!(d.saved_at, Timestamp(2_000));
        assert_eq!(store.drafts().unwrap().len(), 1);
        let locked = LocalStore::open_dir(dir.path()).unwrap();
        assert!(matches!(locked.draft(42), Err(StoreError::Locked)));
        let other = LocalStore::open_dir(dir.path())
            .unwrap()
            .unlocked(Sealer::new(&DataKey::from_bytes([1u8; 32])));
        assert!(matches!(other.draft(42), Err(StoreError::Sealed(_))));
    }

    #[test]
    fn a_sealed_draft_moved_to_another_id_does_not_open() {
        let store = LocalStore::open_in_memory().unwrap();
        store.save_draft(1, Timestamp(1), b"one").unwrap();
        store
            .conn
            .execute(
                "INSERT INTO drafts (id, saved_at, sealed) SELECT 2, saved_at, sealed FROM drafts WHERE id = 1",
                [],
            )
            .unwrap();
        assert!(matches!(store.draft(2), Err(StoreError::Sealed(_))));
    }

    #[test]
    fn drafts_are_discarded_and_purged_by_age() {
        let store = LocalStore::open_in_memory().unwrap();
        store.save_draft(1, Timestamp(100), b"old").unwrap();
        store.save_draft(2, Timestamp(500), b"new").unwrap();
        store.save_draft(3, Timestamp(300), b"mid").unwrap();
        let ids: Vec<u64> = store.drafts().unwrap().iter().map(|d| d.id).collect();
        assert_eq!(ids, [2, 3, 1]);
        assert_eq!(store.purge_drafts(Timestamp(300)).unwrap(), 1);
        assert!(store.draft(1).unwrap().is_none());
        assert!(store.discard_draft(3).unwrap());
        assert!(!store.discard_draft(3).unwrap());
        assert!(store.draft(0).unwrap().is_none());
        assert!(store.draft(u64::MAX).unwrap().is_none());
        assert!(store.save_draft(0, Timestamp(1), b"x").is_err());
    }
}
