//! The device's caseload (issue 17, migration 0008): one row, the
//! caseload the server last signed for this device (already verified by
//! `crate::sync::caseload`), sealed with the data key under the slot
//! `caseload.sealed` and its issue time. Only the issue time (and when it
//! was stored) is in the clear. Replaced whole by each newer caseload, so
//! a child taken off the caseload leaves the device; deleted by revocation
//! and `purge`.

use hearth_shared::caseload::Caseload;
use hearth_shared::{Seq, Timestamp};
use rusqlite::{OptionalExtension, params};

use super::LocalStore;
use crate::seal::Slot;
use crate::store::StoreError;

/// The associated data's row number: the issue time, so a changed clear
/// `issued_at` makes the seal fail to open.
fn slot_seq(issued_at: Timestamp) -> Option<Seq> {
    Some(Seq(issued_at.0 as u64))
}

impl LocalStore {
    /// Replaces the held caseload with `caseload` (verified by the
    /// caller), sealed; returns once committed.
    pub fn replace_caseload(&self, caseload: &Caseload, now: Timestamp) -> Result<(), StoreError> {
        let bytes = postcard::to_allocvec(caseload)
            .map_err(|e| StoreError::Corrupt(format!("a caseload does not encode: {e}")))?;
        let sealed = self
            .sealer()?
            .seal(Slot::Caseload, slot_seq(caseload.issued_at), &bytes);
        self.conn.execute(
            "INSERT INTO caseload (id, issued_at, stored_at, sealed) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET issued_at = excluded.issued_at,
               stored_at = excluded.stored_at, sealed = excluded.sealed",
            params![caseload.issued_at.0, now.0, sealed],
        )?;
        Ok(())
    }

    /// The held caseload, opened; `None` if there is none.
    pub fn caseload(&self) -> Result<Option<Caseload>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT issued_at, sealed FROM caseload WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((issued_at, sealed)) = row else {
            return Ok(None);
        };
        let issued_at = Timestamp(issued_at);
        let bytes = self
            .sealer()?
            .open(Slot::Caseload, slot_seq(issued_at), &sealed)?;
        let caseload: Caseload = postcard::from_bytes(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("the held caseload does not decode: {e}")))?;
        if caseload.issued_at != issued_at {
            return Err(StoreError::Corrupt(
                "the held caseload's issue time disagrees with its row".into(),
            ));
        }
        Ok(Some(caseload))
    }

    /// The held caseload's issue time (in the clear: needs no data key).
    pub fn caseload_issued_at(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT issued_at FROM caseload WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(Timestamp))
    }

    /// Deletes the held caseload (revocation, `purge`); whether there was
    /// one. Needs no data key: wiping must work on a revoked device.
    pub fn clear_caseload(&self) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM caseload", [])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{DataKey, Sealer};
    use crate::store::DB_FILE_NAME;
    use hearth_shared::DeviceId;
    use hearth_shared::caseload::CaseloadChild;

    fn sealer() -> Sealer {
        Sealer::new(&DataKey::from_bytes([5u8; 32]))
    }

    const SENTINEL: &str = "Zebedee Quixotic-Sentinel";

    fn one_child(issued_at: i64, name: &str) -> Caseload {
        Caseload {
            device: DeviceId([1; 8]),
            issued_at: Timestamp(issued_at),
            children: vec![CaseloadChild {
                child: "local:HV:zq".into(),
                refs: vec!["local:HV:zq".into()],
                name: name.into(),
                born: Some(Timestamp(1_700_000_000)),
                expected: None,
                group: None,
                household: vec![],
                alerts: String::new(),
                tasks: vec![],
            }],
        }
    }

    #[test]
    fn a_caseload_is_sealed_on_disk_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LocalStore::open_dir(dir.path()).unwrap().unlocked(sealer());
            assert_eq!(store.caseload().unwrap(), None);
            store
                .replace_caseload(&one_child(100, SENTINEL), Timestamp(5))
                .unwrap();
            for name in [DB_FILE_NAME, "hearth.db-wal"] {
                let bytes = std::fs::read(dir.path().join(name)).unwrap();
                assert!(
                    !bytes.windows(9).any(|w| w == b"Quixotic-"),
                    "{name} holds the name"
                );
            }
            store
                .replace_caseload(&one_child(200, "Other Child"), Timestamp(6))
                .unwrap();
        }
        let locked = LocalStore::open_dir(dir.path()).unwrap();
        assert_eq!(locked.caseload_issued_at().unwrap(), Some(Timestamp(200)));
        assert!(matches!(locked.caseload(), Err(StoreError::Locked)));
        let store = locked.unlocked(sealer());
        assert_eq!(
            store.caseload().unwrap(),
            Some(one_child(200, "Other Child"))
        );
        // The issue time in the clear is bound into the seal.
        store
            .conn
            .execute("UPDATE caseload SET issued_at = 300", [])
            .unwrap();
        assert!(matches!(store.caseload(), Err(StoreError::Sealed(_))));
        assert!(store.clear_caseload().unwrap());
        assert_eq!(store.caseload().unwrap(), None);
        assert!(!store.clear_caseload().unwrap());
    }
}
