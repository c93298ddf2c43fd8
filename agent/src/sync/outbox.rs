//! The locked sync (issue 14): send the sealed outbox with no passphrase.
//!
//! A locked tablet has no device key to sign a batch header and no data
//! key to read its records, but it has the boxes sealed at capture
//! (`crate::outbox`), the receipt key pinned at enrolment (kept in the
//! clear) and each record's chain hash (kept in the clear). So
//! [`run_locked`] sends the boxes to `POST /v1/outbox` in batches of
//! [`BATCH_SIZE`], judges each answer with the same [`plan::judge`] as the
//! unlocked sync (a record is synced only on a receipt that verifies with
//! the pinned key and matches our chain hash), and applies the receipts.
//! A refusal's reason cannot be stored while locked (it is sealed under the
//! data key): the record stays pending, its box stays, and the next
//! unlocked sync resends it and keeps the server's reason. An unconfirmed
//! record likewise stays pending; a rerun resends it and the server answers
//! "duplicate".
//!
//! [`pin_notice`] and [`pin_enrolled`] pin the server's outbox key: from
//! enrolment, or from a sync response's notice signed with the pinned
//! receipt key.

use ed25519_dalek::VerifyingKey;
use hearth_shared::clock::Clock;
use hearth_shared::protocol::{OutboxKeyNotice, OutboxUpload};
use hearth_shared::{DeviceId, Seq};

use super::plan::{self, BATCH_SIZE};
use super::transport::OutboxSender;
use super::{SyncError, SyncReport};
use crate::outbox::OutboxKey;
use crate::store::{RecordStore, StoreError};

/// Sends every box of a pending record, in batches; marks synced what a
/// trusted receipt covers. Needs no data key and no device key.
pub fn run_locked(
    store: &mut dyn RecordStore,
    device: DeviceId,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
    sender: &dyn OutboxSender,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let mut after = Seq(0);
    loop {
        let boxes = store.outbox_boxes(after, BATCH_SIZE)?;
        let Some(&(last, _)) = boxes.last() else {
            break;
        };
        after = last;
        let seqs: Vec<Seq> = boxes.iter().map(|b| b.0).collect();
        let upload = OutboxUpload {
            device,
            boxes: boxes.into_iter().map(|b| b.1).collect(),
        };
        tracing::info!(
            first = seqs[0].0,
            last = last.0,
            count = seqs.len(),
            "uploading sealed outbox"
        );
        let response = sender.send_outbox(&upload)?;
        pin_notice(store, response.outbox_key.as_ref(), server_key, clock)?;
        let our_hash = |seq: Seq| store.hash_of(seq).ok().flatten();
        let mut judgement = plan::judge(device, server_key, &seqs, &response, &our_hash);
        // The reasons are sealed under the data key: the unlocked sync
        // stores them. Reported now, applied then.
        let refused = std::mem::take(&mut judgement.outcome.refused);
        if judgement.problems.is_empty() {
            judgement.outcome.synced_at = Some(clock.now());
        }
        store.apply(&judgement.outcome, clock.now())?;
        for p in &judgement.problems {
            tracing::warn!(problem = %p, "receipt not trusted");
        }
        judgement.outcome.refused = refused;
        report.add(seqs.len(), judgement, response.clock_offset_seconds);
    }
    Ok(report)
}

/// Pins the outbox key a sync response carries, if the pinned receipt key
/// signed it; a notice that does not verify is logged and ignored.
/// Returns whether the pinned key changed.
pub fn pin_notice(
    store: &mut dyn RecordStore,
    notice: Option<&OutboxKeyNotice>,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
) -> Result<bool, StoreError> {
    let Some(notice) = notice else {
        return Ok(false);
    };
    // Every answer carries the notice: once its key is pinned, there is
    // nothing to verify or write.
    if store
        .outbox_key()?
        .is_some_and(|k| Some(k) == OutboxKey::from_hex(&notice.key))
    {
        return Ok(false);
    }
    match OutboxKey::from_notice(notice, server_key) {
        Some(key) => {
            let changed = store.pin_outbox_key(&key, clock.now())?;
            if changed {
                tracing::info!("outbox key pinned from a notice signed by the receipt key");
            }
            Ok(changed)
        }
        None => {
            tracing::warn!(
                "the server's outbox key notice does not verify with the pinned receipt key; ignored"
            );
            Ok(false)
        }
    }
}

/// Pins the outbox key enrolment sent (64 hex digits; an older server
/// sends none), and seals the records already captured into the outbox.
/// Needs the data key (enrolment has it).
pub fn pin_enrolled(
    store: &mut dyn RecordStore,
    key: Option<&str>,
    clock: &dyn Clock,
) -> Result<(), StoreError> {
    let Some(text) = key else {
        return Ok(());
    };
    let Some(key) = OutboxKey::from_hex(text) else {
        tracing::warn!(
            key = text,
            "the server's outbox key is not 64 hex digits; no outbox until a sync brings a signed one"
        );
        return Ok(());
    };
    store.pin_outbox_key(&key, clock.now())?;
    store.fill_outbox()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::capture_json;
    use crate::capture::tests::{CONCERN, defaults, test_key};
    use crate::keys::DeviceKey;
    use crate::seal::{DataKey, Sealer};
    use crate::store::{LocalStore, SyncStatus};
    use crate::sync::transport::TransportError;
    use ed25519_dalek::SigningKey;
    use hearth_shared::clock::FixedClock;
    use hearth_shared::protocol::UploadResponse;
    use hearth_shared::protocol::{Verdict, VerdictStatus, open_sealed, outbox_public_key};
    use hearth_shared::receipt::RECEIPT_VERSION;
    use hearth_shared::{Receipt, Timestamp};
    use std::cell::RefCell;

    const SECRET: [u8; 32] = [31; 32];

    fn outbox_key() -> OutboxKey {
        OutboxKey(outbox_public_key(&SECRET))
    }

    /// A fake server: opens each box with its secret, verifies the record,
    /// rejects the seqs in `reject`, and signs a receipt for each other one.
    struct FakeOutbox {
        receipt_key: SigningKey,
        device_key: VerifyingKey,
        reject: Vec<u64>,
        notice: Option<OutboxKeyNotice>,
        seen: RefCell<Vec<u64>>,
    }

    impl FakeOutbox {
        fn new(device: &DeviceKey, reject: Vec<u64>) -> Self {
            Self {
                receipt_key: SigningKey::from_bytes(&[9; 32]),
                device_key: device.verifying_key(),
                reject,
                notice: None,
                seen: RefCell::default(),
            }
        }
    }

    impl OutboxSender for FakeOutbox {
        fn send_outbox(&self, upload: &OutboxUpload) -> Result<UploadResponse, TransportError> {
            let mut verdicts = Vec::new();
            let mut receipts = Vec::new();
            for (i, sealed) in upload.boxes.iter().enumerate() {
                let signed = open_sealed(&SECRET, sealed).expect("the server opens every box");
                let v = hearth_shared::verify(&self.device_key, &signed).unwrap();
                let seq = v.envelope().seq;
                self.seen.borrow_mut().push(seq.0);
                let rejected = self.reject.contains(&seq.0);
                verdicts.push(Verdict {
                    index: i as u32,
                    seq: Some(seq),
                    status: if rejected {
                        VerdictStatus::Rejected
                    } else {
                        VerdictStatus::Accepted
                    },
                    reason: if rejected {
                        "refused for test".into()
                    } else {
                        String::new()
                    },
                });
                if !rejected {
                    let receipt = Receipt {
                        version: RECEIPT_VERSION,
                        device: upload.device,
                        first: seq,
                        last: seq,
                        last_hash: v.hash(),
                        server_time: Timestamp(1_800_000_100),
                    };
                    receipts.push(hex::encode(receipt.sign(&self.receipt_key)));
                }
            }
            Ok(UploadResponse {
                server_time: Timestamp(1_800_000_100),
                clock_offset_seconds: 0,
                verdicts,
                receipts,
                outbox_key: self.notice.clone(),
            })
        }
    }

    const CLOCK: FixedClock = FixedClock(Timestamp(1_800_000_000));

    /// A store file with `n` records captured after the outbox key was
    /// pinned, and the data key that unlocks it.
    fn captured(dir: &std::path::Path, n: usize) -> (std::path::PathBuf, DataKey) {
        let path = dir.join("hearth.db");
        let dk = DataKey::generate(&mut rand_core::OsRng);
        let mut store = LocalStore::open(&path).unwrap().unlocked(Sealer::new(&dk));
        store.pin_outbox_key(&outbox_key(), CLOCK.now()).unwrap();
        for _ in 0..n {
            capture_json(&mut store, &test_key(), &CLOCK, &defaults(), CONCERN).unwrap();
        }
        (path, dk)
    }

    #[test]
    fn each_capture_seals_its_box_and_earlier_records_are_sealed_when_the_key_arrives() {
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        capture_json(&mut store, &key, &CLOCK, &defaults(), CONCERN).unwrap();
        assert_eq!(store.outbox_size().unwrap(), (0, 0), "no key, no outbox");
        assert!(store.pin_outbox_key(&outbox_key(), CLOCK.now()).unwrap());
        assert!(!store.pin_outbox_key(&outbox_key(), CLOCK.now()).unwrap());
        assert_eq!(store.fill_outbox().unwrap(), 1);
        assert_eq!(store.fill_outbox().unwrap(), 0);
        capture_json(&mut store, &key, &CLOCK, &defaults(), CONCERN).unwrap();
        let boxes = store.outbox_boxes(Seq(0), 10).unwrap();
        assert_eq!(boxes.iter().map(|b| b.0.0).collect::<Vec<_>>(), [1, 2]);
        let mut total = 0;
        for (seq, sealed) in &boxes {
            // Each box opens, on the server only, to the stored bytes exactly.
            let signed = store.get(*seq).unwrap().unwrap().signed;
            assert_eq!(open_sealed(&SECRET, sealed).unwrap(), signed);
            total += sealed.len() as u64;
        }
        assert_eq!(store.outbox_size().unwrap(), (2, total));
        assert_eq!(store.outbox_boxes(Seq(1), 10).unwrap().len(), 1);
    }

    #[test]
    fn a_locked_store_sends_its_outbox_and_marks_receipted_records_synced() {
        let dir = tempfile::tempdir().unwrap();
        let (path, dk) = captured(dir.path(), 3);
        let mut locked = LocalStore::open(&path).unwrap();
        assert!(matches!(locked.get(Seq(1)), Err(StoreError::Locked)));
        let device = test_key();
        let srv = FakeOutbox::new(&device, vec![]);
        let vk = srv.receipt_key.verifying_key();
        let report = run_locked(&mut locked, device.device_id(), &vk, &CLOCK, &srv).unwrap();
        assert_eq!((report.sent, report.synced), (3, 3));
        assert_eq!(*srv.seen.borrow(), [1, 2, 3]);
        assert_eq!(locked.counts().unwrap().synced, 3);
        assert_eq!(locked.outbox_size().unwrap(), (0, 0));
        assert_eq!(locked.sync_state().unwrap().last_sync_at, Some(CLOCK.now()));
        let again = run_locked(&mut locked, device.device_id(), &vk, &CLOCK, &srv).unwrap();
        assert_eq!(again.sent, 0);
        drop(locked);
        let unlocked = LocalStore::open(&path).unwrap().unlocked(Sealer::new(&dk));
        assert!(
            unlocked
                .all()
                .unwrap()
                .iter()
                .all(|r| r.status == SyncStatus::Synced)
        );
    }

    #[test]
    fn a_locked_sync_trusts_only_the_pinned_receipt_key_and_leaves_refusals_pending() {
        let dir = tempfile::tempdir().unwrap();
        let (path, dk) = captured(dir.path(), 3);
        let mut locked = LocalStore::open(&path).unwrap();
        let device = test_key();
        let srv = FakeOutbox::new(&device, vec![2]);
        let wrong = SigningKey::from_bytes(&[4; 32]).verifying_key();
        let report = run_locked(&mut locked, device.device_id(), &wrong, &CLOCK, &srv).unwrap();
        assert_eq!(report.synced, 0);
        assert!(!report.problems.is_empty());
        assert_eq!(locked.counts().unwrap().pending, 3);
        assert_eq!(locked.outbox_size().unwrap().0, 3);

        let vk = srv.receipt_key.verifying_key();
        let report = run_locked(&mut locked, device.device_id(), &vk, &CLOCK, &srv).unwrap();
        assert_eq!(report.synced, 2);
        assert_eq!(report.refused.len(), 1);
        // The reason is sealed under the data key: the record stays pending
        // with its box until an unlocked sync stores the server's reason.
        assert_eq!(locked.pending_seqs().unwrap(), [Seq(2)]);
        assert_eq!(locked.outbox_boxes(Seq(0), 10).unwrap()[0].0, Seq(2));
        drop(locked);
        let mut unlocked = LocalStore::open(&path).unwrap().unlocked(Sealer::new(&dk));
        let outcome = crate::store::PushOutcome {
            refused: report.refused.clone(),
            ..Default::default()
        };
        unlocked.apply(&outcome, CLOCK.now()).unwrap();
        assert_eq!(unlocked.outbox_size().unwrap(), (0, 0));
        let r2 = unlocked.get(Seq(2)).unwrap().unwrap();
        assert_eq!(
            (r2.status, r2.reason.as_str()),
            (SyncStatus::Rejected, "refused for test")
        );
    }

    #[test]
    fn a_notice_pins_only_under_the_pinned_receipt_key_and_a_new_key_reseals() {
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        capture_json(&mut store, &key, &CLOCK, &defaults(), CONCERN).unwrap();
        let receipt = SigningKey::from_bytes(&[9; 32]);
        let pinned = receipt.verifying_key();
        let public = outbox_public_key(&SECRET);
        let forged = OutboxKeyNotice::sign(&SigningKey::from_bytes(&[5; 32]), &public);
        assert!(!pin_notice(&mut store, Some(&forged), &pinned, &CLOCK).unwrap());
        assert_eq!(store.outbox_key().unwrap(), None);
        let genuine = OutboxKeyNotice::sign(&receipt, &public);
        assert!(pin_notice(&mut store, Some(&genuine), &pinned, &CLOCK).unwrap());
        assert_eq!(store.outbox_key().unwrap(), Some(outbox_key()));
        assert_eq!(store.fill_outbox().unwrap(), 1);
        // The server's key replaced: the old boxes go, and are sealed anew.
        let replaced = OutboxKeyNotice::sign(&receipt, &outbox_public_key(&[32; 32]));
        assert!(pin_notice(&mut store, Some(&replaced), &pinned, &CLOCK).unwrap());
        assert_eq!(store.outbox_size().unwrap().0, 0);
        assert_eq!(store.fill_outbox().unwrap(), 1);
        let sealed = &store.outbox_boxes(Seq(0), 1).unwrap()[0].1;
        assert!(open_sealed(&[32; 32], sealed).is_some());
        assert!(open_sealed(&SECRET, sealed).is_none());
    }

    #[test]
    fn records_captured_before_a_signed_key_arrives_go_by_the_outbox_once_sealed() {
        // Enrolled before the server had an outbox key: the first sync's
        // answer brings it, and what is still pending gets a box.
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        capture_json(&mut store, &key, &CLOCK, &defaults(), CONCERN).unwrap();
        let mut srv = FakeOutbox::new(&key, vec![]);
        srv.notice = Some(OutboxKeyNotice::sign(
            &srv.receipt_key,
            &outbox_public_key(&SECRET),
        ));
        let vk = srv.receipt_key.verifying_key();
        let report = run_locked(&mut store, key.device_id(), &vk, &CLOCK, &srv).unwrap();
        assert_eq!(report.sent, 0, "no box yet: nothing goes by the outbox");
        assert_eq!(
            store.outbox_key().unwrap(),
            None,
            "and no answer brought a key"
        );
        assert!(pin_notice(&mut store, srv.notice.as_ref(), &vk, &CLOCK).unwrap());
        assert_eq!(store.fill_outbox().unwrap(), 1);
        let report = run_locked(&mut store, key.device_id(), &vk, &CLOCK, &srv).unwrap();
        assert_eq!(report.synced, 1);
        assert_eq!(store.outbox_size().unwrap(), (0, 0));
    }
}
