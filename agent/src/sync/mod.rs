//! Sync: upload pending records in bounded batches and mark them synced
//! on verified receipts.
//!
//! - [`plan`]: pure. Pending seqs → batches; response → synced / refused /
//!   unconfirmed, with every receipt checked.
//! - [`transport`]: the HTTPS client ([`transport::Uploader`] is what
//!   [`run`] needs of it).
//! - [`caseload`]: after the upload, the signed caseload (issue 17),
//!   verified and sealed into the store.
//! - [`outbox`]: the locked sync (issue 14): the sealed outbox sent with
//!   no passphrase, receipts checked the same way.
//! - [`run`]: the loop. Each batch's outcome is applied in one store
//!   transaction as soon as its response is judged, so an interruption at
//!   any point loses at most the batch in flight, whose records are still
//!   pending and are resent (same signed bytes, answered "duplicate") next
//!   time. Rejected and quarantined records are never resent
//!   automatically; they stay in the store with the server's reason.

pub mod caseload;
pub mod outbox;
pub mod plan;
pub mod transport;

use ed25519_dalek::VerifyingKey;
use hearth_shared::Seq;
use hearth_shared::clock::Clock;
use hearth_shared::protocol::UploadBatch;

use crate::keys::DeviceKey;
use crate::store::{RecordStore, StoreError, SyncStatus};
use plan::{BATCH_SIZE, Judgement, ReceiptProblem};
use transport::{TransportError, Uploader};

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server could not be reached or refused the batch.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A pending record has vanished from the store.
    #[error("record {0} is pending but missing from the store")]
    Missing(Seq),
}

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Records sent (including resends).
    pub sent: usize,
    /// Records newly confirmed by a receipt.
    pub synced: usize,
    /// Records the server refused or quarantined in this run.
    pub refused: Vec<(Seq, SyncStatus, String)>,
    /// Records sent but not confirmed: still pending.
    pub unconfirmed: Vec<Seq>,
    /// Receipts or verdicts not trusted.
    pub problems: Vec<ReceiptProblem>,
    /// The clock offset the server last measured (device − server).
    pub clock_offset_seconds: Option<i64>,
}

impl SyncReport {
    /// Adds what one batch of `sent` records did.
    fn add(&mut self, sent: usize, judgement: Judgement, clock_offset_seconds: i64) {
        self.sent += sent;
        self.synced += judgement.outcome.synced.len();
        self.refused.extend(judgement.outcome.refused);
        self.unconfirmed.extend(judgement.unconfirmed);
        self.problems.extend(judgement.problems);
        self.clock_offset_seconds = Some(clock_offset_seconds);
    }
}

/// Uploads every pending record in batches of [`BATCH_SIZE`].
/// `progress(done, total)` is called after each batch.
pub fn run(
    store: &mut dyn RecordStore,
    key: &DeviceKey,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
    uploader: &dyn Uploader,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport, SyncError> {
    let pending = store.pending_seqs()?;
    let total = pending.len();
    let mut report = SyncReport::default();
    let mut done = 0;
    let mut batches = plan::batches(&pending, BATCH_SIZE);
    // Nothing pending: still contact the server with an empty batch, so a
    // revoked device learns it (403 `device_revoked`) and the clock offset
    // stays current.
    let heartbeat = batches.is_empty();
    if heartbeat {
        batches.push(Vec::new());
    }
    let link = Link {
        key,
        server_key,
        clock,
        uploader,
    };
    for batch in batches {
        let (judgement, clock_offset) = link.send(store, &batch, heartbeat)?;
        report.add(batch.len(), judgement, clock_offset);
        done += batch.len();
        progress(done, total);
    }
    // Records still pending that have no box (captured before the outbox
    // key was pinned) get one now, so a later locked sync can send them.
    store.fill_outbox()?;
    Ok(report)
}

/// What sending a batch needs besides the store.
struct Link<'a> {
    key: &'a DeviceKey,
    server_key: &'a VerifyingKey,
    clock: &'a dyn Clock,
    uploader: &'a dyn Uploader,
}

impl Link<'_> {
    /// Sends the records `batch` names, judges the answer and applies it
    /// in one store transaction; returns the judgement and the clock offset
    /// the server measured.
    fn send(
        &self,
        store: &mut dyn RecordStore,
        batch: &[Seq],
        heartbeat: bool,
    ) -> Result<(Judgement, i64), SyncError> {
        let mut records = Vec::with_capacity(batch.len());
        for &seq in batch {
            let record = store.get(seq)?.ok_or(SyncError::Missing(seq))?;
            records.push(record.signed);
        }
        let upload = UploadBatch::new(self.key.signing_key(), self.clock.now(), records);
        tracing::info!(
            first = batch.first().map_or(0, |s| s.0),
            last = batch.last().map_or(0, |s| s.0),
            count = batch.len(),
            "uploading batch"
        );
        hearth_shared::kill_point::reach("sync.before-send");
        let response = self.uploader.upload(&upload)?;
        // The response is read and parsed; no receipt is applied yet.
        hearth_shared::kill_point::reach("sync.after-response");
        outbox::pin_notice(
            store,
            response.outbox_key.as_ref(),
            self.server_key,
            self.clock,
        )?;
        let our_hash = |seq: Seq| store.hash_of(seq).ok().flatten();
        let device = self.key.device_id();
        let mut judgement = plan::judge(device, self.server_key, batch, &response, &our_hash);
        if heartbeat {
            // The receipts re-confirm ranges already kept; storing them
            // again on every heartbeat would only grow the table.
            judgement.outcome.receipts.clear();
        }
        if judgement.problems.is_empty() {
            judgement.outcome.synced_at = Some(self.clock.now());
        }
        store.apply(&judgement.outcome, self.clock.now())?;
        hearth_shared::kill_point::reach("sync.after-mark");
        tracing::info!(
            synced = judgement.outcome.synced.len(),
            refused = judgement.outcome.refused.len(),
            unconfirmed = judgement.unconfirmed.len(),
            problems = judgement.problems.len(),
            clock_offset = response.clock_offset_seconds,
            "batch judged"
        );
        for p in &judgement.problems {
            tracing::warn!(problem = %p, "receipt not trusted");
        }
        Ok((judgement, response.clock_offset_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::capture_json;
    use crate::capture::tests::{CONCERN, defaults, test_key};
    use crate::store::LocalStore;
    use ed25519_dalek::SigningKey;
    use hearth_shared::clock::FixedClock;
    use hearth_shared::protocol::{UploadResponse, Verdict, VerdictStatus};
    use hearth_shared::{Receipt, Timestamp};
    use std::cell::RefCell;

    /// A fake server: verifies records, rejects those whose seq is in
    /// `reject`, and signs receipts for maximal accepted runs it holds.
    struct FakeServer {
        key: SigningKey,
        device_key: VerifyingKey,
        reject: Vec<u64>,
        held: RefCell<std::collections::BTreeMap<u64, hearth_shared::RecordHash>>,
        uploads: RefCell<usize>,
    }

    impl Uploader for FakeServer {
        fn upload(&self, batch: &UploadBatch) -> Result<UploadResponse, TransportError> {
            *self.uploads.borrow_mut() += 1;
            assert!(batch.verify_auth(&self.device_key));
            let mut verdicts = Vec::new();
            for (i, bytes) in batch.records.iter().enumerate() {
                let v = hearth_shared::verify(&self.device_key, bytes).unwrap();
                let seq = v.envelope().seq;
                let status = if self.reject.contains(&seq.0) {
                    VerdictStatus::Rejected
                } else {
                    let dup = self.held.borrow_mut().insert(seq.0, v.hash()).is_some();
                    if dup {
                        VerdictStatus::Duplicate
                    } else {
                        VerdictStatus::Accepted
                    }
                };
                verdicts.push(Verdict {
                    index: i as u32,
                    seq: Some(seq),
                    status,
                    reason: if status == VerdictStatus::Rejected {
                        "refused for test".into()
                    } else {
                        String::new()
                    },
                });
            }
            let held = self.held.borrow();
            let mut receipts = Vec::new();
            let mut run: Option<(u64, u64)> = None;
            let device = batch.device;
            let mut flush = |(first, last): (u64, u64)| {
                receipts.push(hex::encode(
                    Receipt {
                        version: hearth_shared::receipt::RECEIPT_VERSION,
                        device,
                        first: Seq(first),
                        last: Seq(last),
                        last_hash: held[&last],
                        server_time: Timestamp(1_800_000_100),
                    }
                    .sign(&self.key),
                ));
            };
            for &s in held.keys() {
                run = match run {
                    Some((f, l)) if l + 1 == s => Some((f, s)),
                    Some(r) => {
                        flush(r);
                        Some((s, s))
                    }
                    None => Some((s, s)),
                };
            }
            if let Some(r) = run {
                flush(r);
            }
            Ok(UploadResponse {
                server_time: Timestamp(1_800_000_100),
                clock_offset_seconds: 7,
                verdicts,
                receipts,
                outbox_key: None,
            })
        }
    }

    fn setup(n: usize) -> (LocalStore, DeviceKey, FixedClock) {
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        let clock = FixedClock(Timestamp(1_800_000_000));
        for _ in 0..n {
            capture_json(&mut store, &key, &clock, &defaults(), CONCERN).unwrap();
        }
        (store, key, clock)
    }

    fn server(key: &DeviceKey, reject: Vec<u64>) -> FakeServer {
        FakeServer {
            key: SigningKey::from_bytes(&[9u8; 32]),
            device_key: key.verifying_key(),
            reject,
            held: RefCell::default(),
            uploads: RefCell::new(0),
        }
    }

    #[test]
    fn a_large_backlog_syncs_in_bounded_batches() {
        let (mut store, key, clock) = setup(230);
        let srv = server(&key, vec![]);
        let mut calls = Vec::new();
        let report = run(
            &mut store,
            &key,
            &srv.key.verifying_key(),
            &clock,
            &srv,
            &mut |d, t| calls.push((d, t)),
        )
        .unwrap();
        assert_eq!(report.synced, 230);
        assert_eq!(*srv.uploads.borrow(), 3);
        assert_eq!(calls, [(100, 230), (200, 230), (230, 230)]);
        assert_eq!(store.counts().unwrap().synced, 230);
        let state = store.sync_state().unwrap();
        assert_eq!(state.clock_offset_seconds, Some(7));
        assert!(state.last_sync_at.is_some());
        assert_eq!(state.last_receipt.unwrap().last, Seq(230));
    }

    #[test]
    fn a_rejected_record_stays_visible_and_is_not_resent() {
        let (mut store, key, clock) = setup(3);
        let srv = server(&key, vec![2]);
        let vk = srv.key.verifying_key();
        let report = run(&mut store, &key, &vk, &clock, &srv, &mut |_, _| {}).unwrap();
        assert_eq!(report.refused.len(), 1);
        assert_eq!(report.synced, 2);
        // A later capture and sync: seq 2 is not resent and stays rejected.
        capture_json(&mut store, &key, &clock, &defaults(), CONCERN).unwrap();
        let report = run(&mut store, &key, &vk, &clock, &srv, &mut |_, _| {}).unwrap();
        assert_eq!(report.sent, 1);
        let r2 = store.get(Seq(2)).unwrap().unwrap();
        assert_eq!(r2.status, SyncStatus::Rejected);
        assert_eq!(r2.reason, "refused for test");
        let counts = store.counts().unwrap();
        assert_eq!((counts.synced, counts.rejected, counts.pending), (3, 1, 0));
    }

    #[test]
    fn a_rerun_after_a_lost_response_converges() {
        let (mut store, key, clock) = setup(5);
        let srv = server(&key, vec![]);
        // The server committed the batch, but the response never arrived.
        let lost = UploadBatch::new(
            key.signing_key(),
            clock.now(),
            (1..=5)
                .map(|s| store.get(Seq(s)).unwrap().unwrap().signed)
                .collect(),
        );
        srv.upload(&lost).unwrap();
        assert_eq!(store.counts().unwrap().pending, 5);
        let report = run(
            &mut store,
            &key,
            &srv.key.verifying_key(),
            &clock,
            &srv,
            &mut |_, _| {},
        )
        .unwrap();
        assert_eq!(report.synced, 5);
        assert_eq!(store.counts().unwrap().synced, 5);
    }

    #[test]
    fn a_server_with_the_wrong_key_syncs_nothing() {
        let (mut store, key, clock) = setup(2);
        let srv = server(&key, vec![]);
        let wrong = SigningKey::from_bytes(&[4u8; 32]).verifying_key();
        let report = run(&mut store, &key, &wrong, &clock, &srv, &mut |_, _| {}).unwrap();
        assert_eq!(report.synced, 0);
        assert_eq!(report.unconfirmed.len(), 2);
        assert!(!report.problems.is_empty());
        assert_eq!(store.counts().unwrap().pending, 2);
        assert!(store.sync_state().unwrap().last_sync_at.is_none());
    }
}
