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
//! - [`run`]: the loop, pipelined (issue 20): while one batch is on the
//!   wire the agent applies the previous answer and builds the next batch;
//!   one request at a time. Each batch's outcome is applied in one store
//!   transaction, in order, so an interruption at any point loses at most
//!   the batches in flight (at most two: one on the wire, one answered but
//!   not yet applied), whose records are still pending and are resent
//!   (same signed bytes, answered "duplicate") next time. Rejected and
//!   quarantined records are never resent automatically; they stay in the
//!   store with the server's reason.

pub mod caseload;
pub mod outbox;
pub mod plan;
pub mod transport;

use ed25519_dalek::VerifyingKey;
use hearth_shared::Seq;
use hearth_shared::clock::Clock;
use hearth_shared::protocol::{ErrorCode, UploadBatch, UploadResponse};
use std::time::{Duration, Instant};

use crate::keys::DeviceKey;
use crate::store::{RecordStore, StoreError, SyncStatus};
use plan::{Judgement, ReceiptProblem};
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

/// Uploads every pending record in batches of [`Uploader::batch_size`]
/// (what the server said it takes, within [`plan::MAX_BATCH_SIZE`]),
/// pipelined ([`Link::pipeline`]). A server that refuses a batch as too
/// large (413 `batch_too_large`: its flags changed since it last said) says
/// its new size in that answer; the records still pending go again in
/// batches of that size, in this run. `progress(done, total)` is called after each
/// batch's outcome is applied. The uploader runs on a second (scoped)
/// thread while this one works on the store, hence `Sync`.
pub fn run(
    store: &mut dyn RecordStore,
    key: &DeviceKey,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
    uploader: &(dyn Uploader + Sync),
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport, SyncError> {
    let pending = store.pending_seqs()?;
    let total = pending.len();
    let mut size = uploader.batch_size();
    let mut batches = plan::batches(&pending, size);
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
        heartbeat,
    };
    let mut report = SyncReport::default();
    let mut done = 0;
    let mut on_batch = |sent, judgement, clock_offset| {
        report.add(sent, judgement, clock_offset);
        done += sent;
        progress(done, total);
    };
    let profile = loop {
        match link.pipeline(store, &batches, &mut on_batch) {
            Err(e) if too_large(&e) && uploader.batch_size() < size => {
                size = uploader.batch_size();
                tracing::info!(
                    size,
                    "the server takes fewer records a batch than it said: smaller batches"
                );
                batches = plan::batches(&store.pending_seqs()?, size);
            }
            other => break other?,
        }
    };
    profile.log();
    // Records still pending that have no box (captured before the outbox
    // key was pinned) get one now, so a later locked sync can send them.
    store.fill_outbox()?;
    Ok(report)
}

/// Whether `e` is the server's refusal of a batch with more records than
/// it takes.
fn too_large(e: &SyncError) -> bool {
    matches!(
        e,
        SyncError::Transport(TransportError::Refused {
            status: 413,
            code: Some(ErrorCode::BatchTooLarge),
            ..
        })
    )
}

/// Where a sync's time went (issue 20's profile), logged at `info` as
/// `sync pipeline`: the agent's own work on this thread, and the round
/// trips on the uploader's. The wall time is about the first `prepare`,
/// then per batch the longer of its round trip and the work overlapped
/// with it, then the last `settle`; `waited` is the round-trip time the
/// agent's own work did not hide.
#[derive(Debug, Default)]
struct Profile {
    /// Batches sent.
    batches: usize,
    /// Reading, unsealing, building and signing batches.
    prepare: Duration,
    /// Judging answers and applying them (one transaction each).
    settle: Duration,
    /// Inside `Uploader::upload`: encode, TLS, the server, the answer.
    round_trip: Duration,
    /// This thread blocked on an answer.
    waited: Duration,
}

impl Profile {
    fn log(&self) {
        let ms = |d: Duration| d.as_millis() as u64;
        tracing::info!(
            batches = self.batches,
            prepare_ms = ms(self.prepare),
            settle_ms = ms(self.settle),
            round_trip_ms = ms(self.round_trip),
            waited_ms = ms(self.waited),
            "sync pipeline"
        );
    }
}

/// What sending a batch needs besides the store.
struct Link<'a> {
    key: &'a DeviceKey,
    server_key: &'a VerifyingKey,
    clock: &'a dyn Clock,
    uploader: &'a (dyn Uploader + Sync),
    /// The one empty batch sent when nothing is pending.
    heartbeat: bool,
}

/// A batch's answer, read but not yet applied: its index and the response.
type Answered = (usize, UploadResponse);

impl Link<'_> {
    /// Sends `batches` one request at a time, overlapping the agent's own
    /// work with each round trip: while batch k is on the wire (on a
    /// scoped thread), this thread applies batch k−1's answer and builds
    /// batch k+1, which goes as soon as k's answer is in. `on_batch` gets
    /// each batch's size, judgement and clock offset once it is applied.
    ///
    /// Why one request at a time: the server judges a batch against the
    /// chain it holds when the writer reaches it; two in flight could reach
    /// it out of order and be recorded as a gap. So the server sees exactly
    /// the sequence of requests an unpipelined agent sends.
    ///
    /// Durability: each answer is applied in its own store transaction, in
    /// batch order. A batch is in flight from its send until that
    /// transaction; at most two are (one on the wire, one answered and
    /// being applied), and an interruption loses only those: their records
    /// stay pending and are resent (same signed bytes, answered
    /// "duplicate"). A failed request is joined after the work overlapped
    /// with it, so the previous batch's answer is applied first and only
    /// the failed batch's records are resent.
    ///
    /// Kill points: `sync.before-send` (batch k built, not sent; k−1
    /// answered, maybe not applied), `sync.after-response` (k's answer
    /// read, not applied), `sync.after-mark` (k−1's answer applied, k on
    /// the wire).
    fn pipeline(
        &self,
        store: &mut dyn RecordStore,
        batches: &[Vec<Seq>],
        on_batch: &mut dyn FnMut(usize, Judgement, i64),
    ) -> Result<Profile, SyncError> {
        let mut profile = Profile::default();
        let Some(first) = batches.first() else {
            return Ok(profile);
        };
        let mut next = Some((0, self.prepare(store, first, &mut profile)?));
        let mut answered: Option<Answered> = None;
        std::thread::scope(|scope| {
            while let Some((k, upload)) = next.take() {
                announce(&batches[k]);
                hearth_shared::kill_point::reach("sync.before-send");
                let uploader = self.uploader;
                let flight = scope.spawn(move || {
                    let started = Instant::now();
                    (uploader.upload(&upload), started.elapsed())
                });
                profile.batches += 1;
                // While batch k is on the wire: apply k−1, build k+1.
                let work = self.overlap(
                    store,
                    batches,
                    answered.take(),
                    k + 1,
                    on_batch,
                    &mut profile,
                );
                let started = Instant::now();
                let (response, round_trip) = flight
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                profile.waited += started.elapsed();
                profile.round_trip += round_trip;
                // A store failure first: the answer to k is then dropped
                // unapplied, as an unpipelined agent would never have
                // sent k.
                next = work?;
                let response = response?;
                // The response is read and parsed; no receipt is applied yet.
                hearth_shared::kill_point::reach("sync.after-response");
                answered = Some((k, response));
            }
            if let Some((k, response)) = answered {
                self.settle(store, &batches[k], &response, on_batch, &mut profile)?;
            }
            Ok(profile)
        })
    }

    /// The work overlapped with a round trip: apply the previous answer,
    /// then build batch `next` if there is one.
    fn overlap(
        &self,
        store: &mut dyn RecordStore,
        batches: &[Vec<Seq>],
        answered: Option<Answered>,
        next: usize,
        on_batch: &mut dyn FnMut(usize, Judgement, i64),
        profile: &mut Profile,
    ) -> Result<Option<(usize, UploadBatch)>, SyncError> {
        if let Some((k, response)) = answered {
            self.settle(store, &batches[k], &response, on_batch, profile)?;
        }
        match batches.get(next) {
            Some(batch) => Ok(Some((next, self.prepare(store, batch, profile)?))),
            None => Ok(None),
        }
    }

    /// Reads the records `batch` names and builds the signed upload.
    fn prepare(
        &self,
        store: &dyn RecordStore,
        batch: &[Seq],
        profile: &mut Profile,
    ) -> Result<UploadBatch, SyncError> {
        let started = Instant::now();
        let mut records = Vec::with_capacity(batch.len());
        for &seq in batch {
            let record = store.get(seq)?.ok_or(SyncError::Missing(seq))?;
            records.push(record.signed);
        }
        let upload = UploadBatch::new(self.key.signing_key(), self.clock.now(), records);
        profile.prepare += started.elapsed();
        Ok(upload)
    }

    /// Judges the answer to `batch` and applies it in one store
    /// transaction, then hands the judgement and the clock offset the
    /// server measured to `on_batch`.
    fn settle(
        &self,
        store: &mut dyn RecordStore,
        batch: &[Seq],
        response: &UploadResponse,
        on_batch: &mut dyn FnMut(usize, Judgement, i64),
        profile: &mut Profile,
    ) -> Result<(), SyncError> {
        let started = Instant::now();
        outbox::pin_notice(
            store,
            response.outbox_key.as_ref(),
            self.server_key,
            self.clock,
        )?;
        let our_hash = |seq: Seq| store.hash_of(seq).ok().flatten();
        let device = self.key.device_id();
        let mut judgement = plan::judge(device, self.server_key, batch, response, &our_hash);
        if self.heartbeat {
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
        profile.settle += started.elapsed();
        on_batch(batch.len(), judgement, response.clock_offset_seconds);
        Ok(())
    }
}

/// Logs a batch as it goes on the wire (the benchmark's resume figure
/// counts these lines: what an interrupted sync put on the wire).
fn announce(batch: &[Seq]) {
    tracing::info!(
        first = batch.first().map_or(0, |s| s.0),
        last = batch.last().map_or(0, |s| s.0),
        count = batch.len(),
        "uploading batch"
    );
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
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fake server: verifies records, rejects those whose seq is in
    /// `reject`, and signs receipts for maximal accepted runs it holds.
    /// The upload numbered `fail_at` (from 1) fails before reaching it.
    struct FakeServer {
        key: SigningKey,
        device_key: VerifyingKey,
        reject: Vec<u64>,
        fail_at: Option<usize>,
        held: Mutex<std::collections::BTreeMap<u64, hearth_shared::RecordHash>>,
        uploads: AtomicUsize,
        /// How many records a batch may hold, as its answers say (0: they
        /// say nothing, as a server older than issue 20).
        says: AtomicUsize,
        /// How many it really takes: a larger batch gets 413
        /// `batch_too_large`, whose answer says this many.
        takes: usize,
    }

    impl FakeServer {
        fn uploads(&self) -> usize {
            self.uploads.load(Ordering::SeqCst)
        }
    }

    impl Uploader for FakeServer {
        fn upload(&self, batch: &UploadBatch) -> Result<UploadResponse, TransportError> {
            let n = self.uploads.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail_at == Some(n) {
                return Err(TransportError::Refused {
                    status: 503,
                    code: None,
                    message: "cut for test".into(),
                });
            }
            if batch.records.len() > self.takes {
                self.says.store(self.takes, Ordering::SeqCst);
                return Err(TransportError::Refused {
                    status: 413,
                    code: Some(ErrorCode::BatchTooLarge),
                    message: "the batch has too many records".into(),
                });
            }
            assert!(batch.verify_auth(&self.device_key));
            let mut verdicts = Vec::new();
            for (i, bytes) in batch.records.iter().enumerate() {
                let v = hearth_shared::verify(&self.device_key, bytes).unwrap();
                let seq = v.envelope().seq;
                let status = if self.reject.contains(&seq.0) {
                    VerdictStatus::Rejected
                } else {
                    let dup = self.held.lock().unwrap().insert(seq.0, v.hash()).is_some();
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
            let held = self.held.lock().unwrap();
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

        fn batch_size(&self) -> usize {
            plan::batch_size(Some(self.says.load(Ordering::SeqCst)).filter(|&n| n > 0))
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
            fail_at: None,
            held: Mutex::default(),
            uploads: AtomicUsize::new(0),
            says: AtomicUsize::new(0),
            takes: usize::MAX,
        }
    }

    /// Syncs `store` to `srv`: the report and each progress call.
    fn sync_to(
        store: &mut LocalStore,
        key: &DeviceKey,
        clock: &FixedClock,
        srv: &FakeServer,
    ) -> (SyncReport, Vec<(usize, usize)>) {
        let mut calls = Vec::new();
        let report = run(
            store,
            key,
            &srv.key.verifying_key(),
            clock,
            srv,
            &mut |d, t| calls.push((d, t)),
        )
        .unwrap();
        (report, calls)
    }

    /// Issue 20: batches as large as the server says it takes, within the
    /// agent's cap; 100 a batch when it says nothing.
    #[test]
    fn issue_20_batches_are_as_large_as_the_server_says_within_the_cap() {
        for (says, calls) in [
            (256, vec![(256, 600), (512, 600), (600, 600)]),
            (100_000, vec![(256, 600), (512, 600), (600, 600)]),
            (250, vec![(250, 600), (500, 600), (600, 600)]),
            (0, (1..=6).map(|k| ((k * 100), 600)).collect()),
        ] {
            let (mut store, key, clock) = setup(600);
            let srv = server(&key, vec![]);
            srv.says.store(says, Ordering::SeqCst);
            let (report, got) = sync_to(&mut store, &key, &clock, &srv);
            assert_eq!((report.synced, &got), (600, &calls), "says {says}");
        }
    }

    /// Issue 20: a server whose limit fell since it last said refuses the
    /// first batch (413) and says its new size; the rest goes in batches
    /// of that size in the same run, nothing lost or doubled.
    #[test]
    fn issue_20_a_server_that_takes_fewer_than_it_said_gets_smaller_batches_at_once() {
        let (mut store, key, clock) = setup(300);
        let mut srv = server(&key, vec![]);
        srv.says.store(256, Ordering::SeqCst);
        srv.takes = 50;
        let (report, calls) = sync_to(&mut store, &key, &clock, &srv);
        assert_eq!((report.sent, report.synced), (300, 300));
        assert_eq!(srv.uploads(), 1 + 6, "one refused, then six of 50");
        assert_eq!(calls.first(), Some(&(50, 300)));
        assert_eq!(store.counts().unwrap().synced, 300);
        assert_eq!(srv.held.lock().unwrap().len(), 300);
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
        assert_eq!(srv.uploads(), 3);
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

    #[test]
    fn issue_20_the_next_batch_is_on_the_wire_while_the_last_is_applied() {
        let (mut store, key, clock) = setup(250);
        let srv = server(&key, vec![]);
        let vk = srv.key.verifying_key();
        // `progress` runs right after a batch's transaction. Unpipelined,
        // upload 2 would start only after it returns, so this would wait
        // out its limit; pipelined, upload 2 is already under way.
        let mut overlapped = Vec::new();
        let mut progress = |done: usize, _| {
            let want = done / plan::BATCH_SIZE + 1;
            let limit = Instant::now() + Duration::from_secs(10);
            while srv.uploads() < want.min(3) && Instant::now() < limit {
                std::thread::yield_now();
            }
            overlapped.push(srv.uploads() >= want.min(3));
        };
        let report = run(&mut store, &key, &vk, &clock, &srv, &mut progress).unwrap();
        assert_eq!((report.sent, report.synced), (250, 250));
        assert_eq!(overlapped, [true, true, true]);
        assert_eq!(store.counts().unwrap().synced, 250);
    }

    #[test]
    fn issue_20_a_cut_mid_sync_resends_only_the_batch_in_flight() {
        let (mut store, key, clock) = setup(350);
        let mut srv = server(&key, vec![]);
        srv.fail_at = Some(3);
        let vk = srv.key.verifying_key();
        let mut applied = Vec::new();
        let err = run(&mut store, &key, &vk, &clock, &srv, &mut |d, _| {
            applied.push(d)
        })
        .unwrap_err();
        assert!(matches!(err, SyncError::Transport(_)), "{err}");
        // Batch 2's answer came in before batch 3 failed: it is applied.
        assert_eq!(applied, [100, 200]);
        let counts = store.counts().unwrap();
        assert_eq!((counts.synced, counts.pending), (200, 150));
        srv.fail_at = None;
        let report = run(&mut store, &key, &vk, &clock, &srv, &mut |_, _| {}).unwrap();
        // Only the failed batch and those after it go again.
        assert_eq!((report.sent, report.synced), (150, 150));
        assert_eq!(store.counts().unwrap().pending, 0);
        assert_eq!(srv.uploads(), 3 + 2);
    }
}
