//! Ingest: the verdict on every record of a batch.
//!
//! Two steps, so that the expensive and the durable parts stay apart:
//!
//! 1. [`precheck`] (pure, CPU only, runs off the writer thread): size limit,
//!    then [`hearth_shared::verify`] with the device's registered key, which
//!    checks the signature over the bytes received, decodes strictly, checks
//!    the device id and validates. The result is a [`Prechecked`]: either a
//!    verified record or a rejection with its reason.
//! 2. [`apply_batch`] (inside one store transaction on the writer thread):
//!    the device clock report, then each record placed against its chain
//!    with [`hearth_shared::check_chain`] and the decision [`decide`] turns
//!    into writes on [`IngestTx`]: store, record a gap, fill a gap,
//!    quarantine both sides of a fork and raise an alarm, or keep a
//!    rejected record with its reason. Nothing is dropped.
//!
//! Who may write what (issue 11): [`identity_refusal`] rejects a genuine
//! record whose agency is not the device's enrolled agency, whose author is
//! neither the enrolled worker nor on the device's staff list, or which
//! amends another device's record. The signature proves which device sent
//! a record, not that the names inside it are true.
//!
//! A rejected record is kept as evidence but bounded ([`keep_rejected`]):
//! its SHA-256, its length and at most [`REJECTED_PREFIX_BYTES`] of its
//! bytes, within a per-device budget ([`BatchJob::quarantine_budget`]);
//! past it, the metadata only, and one alarm. Forks are genuine records
//! and are kept whole.
//!
//! Receipts are made by [`crate::receipt`] from the [`IngestOutcome`] only
//! after the transaction has committed.

pub mod writer;

use ed25519_dalek::VerifyingKey;
use hearth_shared::chain::Fork;
use hearth_shared::protocol::{Verdict, VerdictStatus};
use hearth_shared::signed::{chain_hash, peek_id, split_signed};
use hearth_shared::{ChainVerdict, DeviceId, RecordHash, RecordId, Seq, Timestamp, check_chain};
use sha2::{Digest, Sha256};

use crate::clock::{corrected_time, estimate_offset, is_late_entry};
use crate::store::{
    Enrolment, Held, HoldStatus, IngestTx, Line, NewRecord, QuarantineUsage, StoreError,
};

/// The most bytes of a rejected record kept in quarantine: enough to see
/// what was sent (most records are smaller), too few to fill a disk.
pub const REJECTED_PREFIX_BYTES: usize = 4 * 1024;

/// The default quarantine budget of one device for rejected records, in
/// bytes: 256 capped prefixes.
pub const DEFAULT_QUARANTINE_BUDGET: u64 = 1024 * 1024;

/// A record that passed [`precheck`]: verified, and reduced to what the
/// writer stores (not the decoded envelope, whose fixed-capacity buffers
/// take 4.8 KB; a batch of them cost the server as much in `malloc` and
/// page faults as in everything else but verifying).
#[derive(Debug, Clone)]
pub struct Checked {
    line: Line,
    prev: RecordHash,
    device_time: Timestamp,
    bytes: Vec<u8>,
    hash: RecordHash,
}

impl Checked {
    /// Its id.
    pub fn id(&self) -> RecordId {
        self.line.id
    }
}

/// The outcome of [`precheck`].
#[derive(Debug, Clone)]
pub enum Prechecked {
    /// Genuine and well formed.
    Verified(Box<Checked>),
    /// Refused, with the bytes and the reason.
    Rejected {
        /// The bytes as received.
        bytes: Vec<u8>,
        /// Why, for a person.
        reason: String,
    },
}

/// Checks one record's size, signature, encoding, device and rules.
pub fn precheck(key: &VerifyingKey, bytes: Vec<u8>, max_record_bytes: usize) -> Prechecked {
    if bytes.len() > max_record_bytes {
        let reason = format!(
            "record is {} bytes; this server's limit is {} bytes",
            bytes.len(),
            max_record_bytes
        );
        return Prechecked::Rejected { bytes, reason };
    }
    match hearth_shared::verify(key, &bytes) {
        Ok(v) => {
            let e = v.envelope();
            let checked = Checked {
                line: Line::of(e),
                prev: e.prev,
                device_time: e.device_time,
                hash: v.hash(),
                bytes,
            };
            Prechecked::Verified(Box::new(checked))
        }
        Err(e) => Prechecked::Rejected {
            reason: e.to_string(),
            bytes,
        },
    }
}

/// What to do with a verified record, from its chain verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Store it.
    Store,
    /// Store it and record `from..=to` as missing.
    StoreAfterGap {
        /// First missing.
        from: Seq,
        /// Last missing.
        to: Seq,
    },
    /// Store it; it fills a gap.
    StoreFillingGap,
    /// Already held byte for byte.
    Duplicate,
    /// Conflicts with the held record `disputes`: quarantine both.
    Fork {
        /// The held record it conflicts with.
        disputes: RecordId,
        /// How.
        how: Fork,
    },
}

/// The pure decision for a record `id` with chain verdict `verdict`.
pub fn decide(id: RecordId, verdict: ChainVerdict) -> Decision {
    match verdict {
        ChainVerdict::Next => Decision::Store,
        ChainVerdict::Duplicate => Decision::Duplicate,
        ChainVerdict::FillsGap => Decision::StoreFillingGap,
        ChainVerdict::AfterGap {
            missing_from,
            missing_to,
        } => Decision::StoreAfterGap {
            from: missing_from,
            to: missing_to,
        },
        ChainVerdict::Fork(how) => {
            let seq = match how {
                Fork::SameSeq => id.seq,
                Fork::PrevMismatch => Seq(id.seq.0.saturating_sub(1).max(1)),
                Fork::NextMismatch => id.seq.next(),
            };
            Decision::Fork {
                disputes: RecordId {
                    device: id.device,
                    seq,
                },
                how,
            }
        }
    }
}

/// Why a genuine record from a device enrolled as `enrolment` may not be
/// stored, if it may not: its agency is not the device's, its author is
/// neither the device's worker nor on its staff list, or it amends a record
/// of another device. Pure: the caller rejects the record with this reason.
pub fn identity_refusal(line: &Line, enrolment: &Enrolment) -> Option<String> {
    let device = line.id.device;
    if line.agency != enrolment.agency {
        return Some(format!(
            "agency is \"{}\", but device {device} is enrolled for \"{}\"; a device records only for its own agency",
            line.agency, enrolment.agency
        ));
    }
    if !enrolment.may_author(&line.author) {
        return Some(format!(
            "author is \"{}\", who is neither device {device}'s worker \"{}\" nor on its staff list; an administrator adds staff with `hearth-server staff add {device} {}`",
            line.author, enrolment.worker, line.author
        ));
    }
    if let Some(a) = &line.amends
        && a.corrects.device != device
    {
        return Some(format!(
            "amendment corrects {}, a record of another device; a device may amend only its own records; to dispute another agency's record, record something new (for example a concern)",
            a.corrects
        ));
    }
    None
}

/// The words a person reads for a fork.
pub fn fork_reason(id: RecordId, disputes: RecordId, how: Fork) -> String {
    match how {
        Fork::SameSeq => format!(
            "fork: a different record is already held at {disputes}; both are quarantined and an alarm raised for a person to resolve"
        ),
        Fork::PrevMismatch => format!(
            "fork: {id} does not follow the held record {disputes} (its prev hash differs); both are quarantined and an alarm raised"
        ),
        Fork::NextMismatch => format!(
            "fork: the held record {disputes} does not follow {id}; both are quarantined and an alarm raised"
        ),
    }
}

/// One batch for the writer.
#[derive(Debug, Clone)]
pub struct BatchJob {
    /// The sending device.
    pub device: DeviceId,
    /// Its clock reading, authenticated by the batch signature.
    pub device_time: Timestamp,
    /// When the server received the batch.
    pub received_at: Timestamp,
    /// The records, prechecked, in batch order.
    pub records: Vec<Prechecked>,
    /// The late-entry threshold, seconds.
    pub late_entry_secs: i64,
    /// How many bytes of rejected records the device may have kept in
    /// quarantine ([`DEFAULT_QUARANTINE_BUDGET`] unless configured).
    pub quarantine_budget: u64,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    /// The device.
    pub device: DeviceId,
    /// The clock offset in effect, seconds (device minus server).
    pub clock_offset: i64,
    /// One verdict per record, in batch order.
    pub verdicts: Vec<Verdict>,
    /// The records now held (accepted or duplicate), with their hashes.
    pub held: Vec<(Seq, RecordHash)>,
}

fn verdict(
    index: usize,
    seq: Option<Seq>,
    status: VerdictStatus,
    reason: impl Into<String>,
) -> Verdict {
    Verdict {
        index: index as u32,
        seq,
        status,
        reason: reason.into(),
    }
}

/// The device's quarantine budget and, once a record of the batch has
/// been rejected, its use (read from the store then, kept in step after).
struct Quarantine {
    budget: u64,
    usage: Option<QuarantineUsage>,
}

/// Keeps a rejected record as bounded evidence: its digest, its length,
/// and a prefix of at most [`REJECTED_PREFIX_BYTES`] while the device is
/// within its budget; past it, no bytes, and one alarm the first time.
/// Returns false (and keeps nothing new) for a resend of bytes already held.
fn keep_rejected(
    tx: &mut dyn IngestTx,
    q: &mut Quarantine,
    job: &BatchJob,
    seq: Option<Seq>,
    bytes: &[u8],
    reason: &str,
) -> Result<bool, StoreError> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    if tx.is_held(job.device, &digest)? {
        return Ok(false);
    }
    let usage = match &mut q.usage {
        Some(u) => u,
        None => q.usage.insert(tx.quarantine_usage(job.device)?),
    };
    let prefix = &bytes[..bytes.len().min(REJECTED_PREFIX_BYTES)];
    let kept = if usage.bytes.saturating_add(prefix.len() as u64) <= q.budget {
        prefix.to_vec()
    } else {
        if !usage.exhausted {
            usage.exhausted = true;
            let message = format!(
                "device {} has used its quarantine budget of {} bytes on rejected records; later rejected records from it keep only their hash, length and reason; check the device (it may be faulty or hostile)",
                job.device, q.budget
            );
            // Seq 0: the alarm is about the device, not one record.
            tx.raise_alarm(job.device, Seq(0), &message, job.received_at)?;
            tracing::error!(device = %job.device, budget = q.budget, "ALARM: quarantine budget used up");
        }
        Vec::new()
    };
    usage.bytes += kept.len() as u64;
    tx.hold(&Held {
        id: 0,
        device: job.device,
        seq,
        status: HoldStatus::Rejected,
        reason: reason.to_string(),
        bytes: kept,
        length: bytes.len() as u64,
        digest,
        received_at: job.received_at,
    })?;
    tracing::warn!(device = %job.device, "record rejected");
    Ok(true)
}

/// Keeps a genuine record that forks the chain, whole.
fn hold_whole(
    tx: &mut dyn IngestTx,
    job: &BatchJob,
    seq: Seq,
    bytes: Vec<u8>,
    reason: String,
) -> Result<(), StoreError> {
    tx.hold(&Held {
        id: 0,
        device: job.device,
        seq: Some(seq),
        status: HoldStatus::Quarantined,
        reason,
        length: bytes.len() as u64,
        digest: Sha256::digest(&bytes).into(),
        bytes,
        received_at: job.received_at,
    })
}

/// Decides and writes a whole batch inside one transaction.
pub fn apply_batch(tx: &mut dyn IngestTx, job: BatchJob) -> Result<IngestOutcome, StoreError> {
    let clock = estimate_offset(job.device_time, job.received_at);
    tx.set_clock_state(job.device, clock, job.received_at)?;
    let offset = clock.offset.unwrap_or(0);
    let enrolment = tx.enrolment(job.device)?;
    let mut quarantine = Quarantine {
        budget: job.quarantine_budget,
        usage: None,
    };
    let mut verdicts = Vec::with_capacity(job.records.len());
    let mut held = Vec::new();
    let mut job = job;
    let records = std::mem::take(&mut job.records);
    for (index, item) in records.into_iter().enumerate() {
        let checked = match item {
            Prechecked::Rejected { bytes, reason } => {
                // A resend of a record already stored is a duplicate, even
                // if it would be refused now (a lower size limit, a stricter
                // rule after an upgrade): never reject what the chronology
                // already shows, or the tablet marks it rejected for good.
                if let Ok((envelope, _)) = split_signed(&bytes)
                    && let Some(id) = peek_id(envelope)
                    && id.device == job.device
                    && tx.holds_bytes(id, &bytes)?
                {
                    held.push((id.seq, chain_hash(envelope)));
                    verdicts.push(verdict(
                        index,
                        Some(id.seq),
                        VerdictStatus::Duplicate,
                        "already held, byte for byte",
                    ));
                    continue;
                }
                // Kept once; a resend gets the same verdict, no new row.
                keep_rejected(tx, &mut quarantine, &job, None, &bytes, &reason)?;
                verdicts.push(verdict(index, None, VerdictStatus::Rejected, reason));
                continue;
            }
            Prechecked::Verified(c) => *c,
        };
        let id = checked.id();
        let seq = id.seq;
        let state = tx.chain_state(job.device, seq)?;
        let chain = check_chain(&state, seq, checked.prev, checked.hash);
        // Who may write what: checked after the chain, so that a record
        // stored before the check (a duplicate) stays a duplicate.
        let refusal = match (&enrolment, chain) {
            (_, ChainVerdict::Duplicate) => None,
            (Some(e), _) => identity_refusal(&checked.line, e),
            (None, _) => Some(format!(
                "device {} is not enrolled on this server",
                job.device
            )),
        };
        if let Some(reason) = refusal {
            keep_rejected(
                tx,
                &mut quarantine,
                &job,
                Some(seq),
                &checked.bytes,
                &reason,
            )?;
            verdicts.push(verdict(index, Some(seq), VerdictStatus::Rejected, reason));
            continue;
        }
        let store = |tx: &mut dyn IngestTx, c: Checked| -> Result<(), StoreError> {
            let corrected = corrected_time(c.device_time, offset);
            let late = is_late_entry(corrected, c.line.occurred_at, job.late_entry_secs);
            tx.insert_record(&NewRecord {
                line: c.line,
                prev: c.prev,
                device_time: c.device_time,
                bytes: c.bytes,
                hash: c.hash,
                received_at: job.received_at,
                corrected_time: corrected,
                late_entry: late,
            })
        };
        match decide(id, chain) {
            Decision::Store => {
                held.push((seq, checked.hash));
                store(tx, checked)?;
                // A plain accept: no seq, no reason (see `Verdict::seq`).
                verdicts.push(verdict(index, None, VerdictStatus::Accepted, ""));
            }
            Decision::StoreFillingGap => {
                held.push((seq, checked.hash));
                store(tx, checked)?;
                tx.fill_gap(job.device, seq)?;
                verdicts.push(verdict(
                    index,
                    Some(seq),
                    VerdictStatus::Accepted,
                    "accepted; fills a gap",
                ));
            }
            Decision::StoreAfterGap { from, to } => {
                held.push((seq, checked.hash));
                store(tx, checked)?;
                tx.add_gap(job.device, from, to)?;
                tracing::info!(device = %job.device, from = from.0, to = to.0, "gap recorded");
                verdicts.push(verdict(
                    index,
                    Some(seq),
                    VerdictStatus::Accepted,
                    format!("accepted after a gap: records {from} to {to} of this device have not arrived; send them"),
                ));
            }
            Decision::Duplicate => {
                held.push((seq, checked.hash));
                verdicts.push(verdict(
                    index,
                    Some(seq),
                    VerdictStatus::Duplicate,
                    "already held, byte for byte",
                ));
            }
            Decision::Fork { disputes, how } => {
                let reason = fork_reason(id, disputes, how);
                let digest: [u8; 32] = Sha256::digest(&checked.bytes).into();
                if tx.is_held(job.device, &digest)? {
                    // A resend of a quarantined record: the alarm was
                    // raised once already; do not raise it again.
                    verdicts.push(verdict(
                        index,
                        Some(seq),
                        VerdictStatus::Quarantined,
                        reason,
                    ));
                    continue;
                }
                if let Some(bytes) = tx.record_bytes(disputes)? {
                    tx.mark_disputed(disputes)?;
                    hold_whole(
                        tx,
                        &job,
                        disputes.seq,
                        bytes,
                        format!("disputed by the conflicting record {id}: {reason}"),
                    )?;
                }
                hold_whole(tx, &job, seq, checked.bytes, reason.clone())?;
                tx.raise_alarm(job.device, seq, &reason, job.received_at)?;
                tracing::error!(device = %job.device, seq = seq.0, disputes = %disputes, "ALARM: fork in a device chain; both records quarantined");
                verdicts.push(verdict(
                    index,
                    Some(seq),
                    VerdictStatus::Quarantined,
                    reason,
                ));
            }
        }
    }
    Ok(IngestOutcome {
        device: job.device,
        clock_offset: offset,
        verdicts,
        held,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(seq: u64) -> RecordId {
        RecordId {
            device: DeviceId([7; 8]),
            seq: Seq(seq),
        }
    }

    #[test]
    fn chain_verdicts_map_to_decisions() {
        assert_eq!(decide(id(1), ChainVerdict::Next), Decision::Store);
        assert_eq!(decide(id(1), ChainVerdict::Duplicate), Decision::Duplicate);
        assert_eq!(
            decide(id(3), ChainVerdict::FillsGap),
            Decision::StoreFillingGap
        );
        assert_eq!(
            decide(
                id(5),
                ChainVerdict::AfterGap {
                    missing_from: Seq(3),
                    missing_to: Seq(4)
                }
            ),
            Decision::StoreAfterGap {
                from: Seq(3),
                to: Seq(4)
            }
        );
    }

    #[test]
    fn a_fork_disputes_the_conflicting_neighbour() {
        let d = |how| match decide(id(5), ChainVerdict::Fork(how)) {
            Decision::Fork { disputes, .. } => disputes.seq,
            other => panic!("expected a fork, got {other:?}"),
        };
        assert_eq!(d(Fork::SameSeq), Seq(5));
        assert_eq!(d(Fork::PrevMismatch), Seq(4));
        assert_eq!(d(Fork::NextMismatch), Seq(6));
    }

    #[test]
    fn oversize_and_garbage_records_are_rejected_with_reasons() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        match precheck(&key, vec![1; 100], 50) {
            Prechecked::Rejected { reason, .. } => {
                assert!(reason.contains("limit is 50"), "{reason}")
            }
            Prechecked::Verified(_) => panic!("oversize accepted"),
        }
        match precheck(&key, vec![1; 100], 10_000) {
            Prechecked::Rejected { reason, .. } => {
                assert!(reason.contains("signature"), "{reason}")
            }
            Prechecked::Verified(_) => panic!("garbage accepted"),
        }
    }

    /// An in-memory [`IngestTx`]: the verdict logic runs without a disk.
    #[derive(Default)]
    struct MemTx {
        records: std::collections::BTreeMap<u64, (RecordHash, RecordHash, Vec<u8>)>,
        disputed: Vec<u64>,
        held: Vec<Held>,
        alarms: usize,
        gaps: Vec<(u64, u64)>,
        clock: crate::clock::ClockState,
        /// The device's enrolment; `A`/`w` (what [`Tablet::sign`] writes)
        /// unless set.
        enrolled: Option<Enrolment>,
    }

    impl IngestTx for MemTx {
        fn enrolment(&mut self, _: DeviceId) -> Result<Option<Enrolment>, StoreError> {
            Ok(Some(self.enrolled.clone().unwrap_or(Enrolment {
                agency: "A".into(),
                worker: "w".into(),
                staff: vec![],
            })))
        }
        fn quarantine_usage(&mut self, _: DeviceId) -> Result<QuarantineUsage, StoreError> {
            let rejected = self
                .held
                .iter()
                .filter(|h| h.status == HoldStatus::Rejected);
            Ok(QuarantineUsage {
                bytes: rejected.clone().map(|h| h.bytes.len() as u64).sum(),
                exhausted: rejected.clone().any(|h| h.length > 0 && h.bytes.is_empty()),
            })
        }
        fn set_clock_state(
            &mut self,
            _: DeviceId,
            s: crate::clock::ClockState,
            _: Timestamp,
        ) -> Result<(), StoreError> {
            self.clock = s;
            Ok(())
        }
        fn chain_state(
            &mut self,
            _: DeviceId,
            seq: Seq,
        ) -> Result<hearth_shared::ChainState, StoreError> {
            Ok(hearth_shared::ChainState {
                at_seq: self.records.get(&seq.0).map(|r| r.0),
                before: self.records.get(&(seq.0 - 1)).map(|r| r.0),
                after_prev: self.records.get(&(seq.0 + 1)).map(|r| r.1),
                head: self.records.keys().next_back().map(|s| Seq(*s)),
            })
        }
        fn insert_record(&mut self, r: &NewRecord) -> Result<(), StoreError> {
            self.records
                .insert(r.line.id.seq.0, (r.hash, r.prev, r.bytes.clone()));
            Ok(())
        }
        fn mark_disputed(&mut self, id: RecordId) -> Result<bool, StoreError> {
            self.disputed.push(id.seq.0);
            Ok(true)
        }
        fn record_bytes(&mut self, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.records.get(&id.seq.0).map(|r| r.2.clone()))
        }
        fn is_held(&mut self, _: DeviceId, digest: &[u8; 32]) -> Result<bool, StoreError> {
            Ok(self.held.iter().any(|h| h.digest == *digest))
        }
        fn holds_bytes(&mut self, id: RecordId, bytes: &[u8]) -> Result<bool, StoreError> {
            Ok(self.records.get(&id.seq.0).is_some_and(|r| r.2 == bytes))
        }
        fn hold(&mut self, h: &Held) -> Result<(), StoreError> {
            self.held.push(h.clone());
            Ok(())
        }
        fn raise_alarm(
            &mut self,
            _: DeviceId,
            _: Seq,
            _: &str,
            _: Timestamp,
        ) -> Result<(), StoreError> {
            self.alarms += 1;
            Ok(())
        }
        fn add_gap(&mut self, _: DeviceId, from: Seq, to: Seq) -> Result<(), StoreError> {
            self.gaps.push((from.0, to.0));
            Ok(())
        }
        fn fill_gap(&mut self, _: DeviceId, seq: Seq) -> Result<(), StoreError> {
            self.gaps.retain(|g| !(g.0 <= seq.0 && seq.0 <= g.1));
            Ok(())
        }
    }

    struct Tablet {
        key: ed25519_dalek::SigningKey,
    }

    impl Tablet {
        fn device(&self) -> DeviceId {
            DeviceId::from_public_key(self.key.verifying_key().as_bytes())
        }

        fn sign(&self, seq: u64, prev: RecordHash, headline: &str) -> hearth_shared::SignedRecord {
            self.sign_json(
                seq,
                prev,
                &format!(
                    r#"{{"kind":"concern","children":["nhs:9434765919"],"occurred_at":"2026-01-01T09:00:00Z","headline":"{headline}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
                ),
            )
        }

        /// Signs any body; `agency` and `author` default to `A` and `w`.
        fn sign_json(&self, seq: u64, prev: RecordHash, json: &str) -> hearth_shared::SignedRecord {
            let body = hearth_shared::json::parse_body(
                json,
                &hearth_shared::json::Defaults {
                    author: "w".try_into().unwrap(),
                    agency: "A".try_into().unwrap(),
                },
            )
            .unwrap();
            let env = hearth_shared::Envelope {
                version: hearth_shared::FORMAT_VERSION,
                device: DeviceId::from_public_key(self.key.verifying_key().as_bytes()),
                seq: Seq(seq),
                prev,
                device_time: Timestamp(1_767_261_600 + 5 * 86_400),
                body,
            };
            hearth_shared::SignedRecord::sign(&self.key, &env).unwrap()
        }

        fn job(&self, records: &[&hearth_shared::SignedRecord]) -> BatchJob {
            let vk = self.key.verifying_key();
            BatchJob {
                device: DeviceId::from_public_key(vk.as_bytes()),
                device_time: Timestamp(1_767_261_600 + 5 * 86_400),
                received_at: Timestamp(1_767_261_600 + 5 * 86_400),
                records: records
                    .iter()
                    .map(|r| precheck(&vk, r.as_bytes().to_vec(), hearth_shared::MAX_SIGNED_SIZE))
                    .collect(),
                late_entry_secs: 86_400,
                quarantine_budget: DEFAULT_QUARANTINE_BUDGET,
            }
        }
    }

    fn statuses(o: &IngestOutcome) -> Vec<VerdictStatus> {
        o.verdicts.iter().map(|v| v.status).collect()
    }

    #[test]
    fn apply_batch_accepts_duplicates_forks_and_gaps_without_a_disk() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
        };
        let r1 = t.sign(1, RecordHash::GENESIS, "one");
        let r2 = t.sign(2, r1.hash(), "two");
        let r3 = t.sign(3, r2.hash(), "three");
        let rival2 = t.sign(2, r1.hash(), "two again");
        let mut tx = MemTx::default();

        let o = apply_batch(&mut tx, t.job(&[&r1, &r3])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Accepted; 2]);
        assert_eq!(tx.gaps, vec![(2, 2)]);
        assert_eq!(o.clock_offset, 0);

        let o = apply_batch(&mut tx, t.job(&[&r2, &r1])).unwrap();
        assert_eq!(
            statuses(&o),
            vec![VerdictStatus::Accepted, VerdictStatus::Duplicate]
        );
        assert!(tx.gaps.is_empty());
        assert_eq!(o.held.len(), 2);

        let o = apply_batch(&mut tx, t.job(&[&rival2])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Quarantined]);
        assert_eq!(tx.disputed, vec![2]);
        assert_eq!(tx.held.len(), 2, "the new bytes and the held record");
        assert!(tx.held.iter().all(|h| h.status == HoldStatus::Quarantined));
        assert_eq!(tx.alarms, 1);
        assert!(o.held.is_empty());

        // Resending the rival is quarantined again without a second alarm.
        let o = apply_batch(&mut tx, t.job(&[&rival2])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Quarantined]);
        assert_eq!((tx.held.len(), tx.alarms), (2, 1));
    }

    #[test]
    fn a_resend_of_a_held_record_is_a_duplicate_even_if_now_refused() {
        // The server's record size limit was lowered after r1 was stored:
        // a resend must not turn it into "rejected" on the tablet while the
        // chronology shows it.
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[4; 32]),
        };
        let r1 = t.sign(1, RecordHash::GENESIS, "one");
        let mut tx = MemTx::default();
        apply_batch(&mut tx, t.job(&[&r1])).unwrap();
        let mut job = t.job(&[&r1]);
        let vk = t.key.verifying_key();
        job.records = vec![precheck(&vk, r1.as_bytes().to_vec(), 16)];
        assert!(matches!(job.records[0], Prechecked::Rejected { .. }));
        let o = apply_batch(&mut tx, job).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Duplicate]);
        assert_eq!(o.held, vec![(Seq(1), r1.hash())]);
        assert!(tx.held.is_empty(), "nothing quarantined");
    }

    fn concern_by(agency: &str, author: &str) -> String {
        format!(
            r#"{{"kind":"concern","children":["nhs:9434765919"],"occurred_at":"2026-01-01T09:00:00Z","headline":"h","agency":"{agency}","author":"{author}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
        )
    }

    fn amendment_of(corrects: RecordId) -> String {
        format!(
            r#"{{"kind":"amendment","children":["nhs:9434765919"],"occurred_at":"1900-01-01T09:00:00Z","headline":"moved","corrects":"{corrects}","reason":"date typed wrongly"}}"#
        )
    }

    #[test]
    fn issue_11_a_record_claiming_another_agency_or_author_is_rejected_and_kept() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        };
        let police = t.sign_json(1, RecordHash::GENESIS, &concern_by("POLICE-CAIT", "w"));
        let nobody = t.sign_json(1, RecordHash::GENESIS, &concern_by("A", "ds.nobody"));
        let mut tx = MemTx::default();
        let o = apply_batch(&mut tx, t.job(&[&police, &nobody])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Rejected; 2]);
        assert!(o.verdicts[0].reason.contains("enrolled for \"A\""), "{o:?}");
        assert!(o.verdicts[1].reason.contains("staff list"), "{o:?}");
        assert!(tx.records.is_empty(), "nothing stored");
        assert!(o.held.is_empty(), "no receipt");
        assert_eq!(tx.held.len(), 2, "both kept in quarantine");
        assert!(
            tx.held
                .iter()
                .all(|h| h.status == HoldStatus::Rejected && h.seq == Some(Seq(1)) && h.is_whole())
        );
        assert_eq!(tx.held[0].reason, o.verdicts[0].reason);
        // The genuine record from the enrolled worker goes on.
        let own = t.sign_json(1, RecordHash::GENESIS, &concern_by("A", "w"));
        let o = apply_batch(&mut tx, t.job(&[&own])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Accepted]);
    }

    #[test]
    fn issue_11_a_shared_device_accepts_its_staff_only() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[6; 32]),
        };
        let mut tx = MemTx {
            enrolled: Some(Enrolment {
                agency: "NURSERY-12".into(),
                worker: "door-tablet".into(),
                staff: vec!["dsl.patel".into(), "nn.ahmed".into()],
            }),
            ..MemTx::default()
        };
        let patel = t.sign_json(
            1,
            RecordHash::GENESIS,
            &concern_by("NURSERY-12", "dsl.patel"),
        );
        let ahmed = t.sign_json(2, patel.hash(), &concern_by("NURSERY-12", "nn.ahmed"));
        let visitor = t.sign_json(3, ahmed.hash(), &concern_by("NURSERY-12", "visitor"));
        let o = apply_batch(&mut tx, t.job(&[&patel, &ahmed, &visitor])).unwrap();
        assert_eq!(
            statuses(&o),
            vec![
                VerdictStatus::Accepted,
                VerdictStatus::Accepted,
                VerdictStatus::Rejected
            ]
        );
        assert!(o.verdicts[2].reason.contains("\"visitor\""), "{o:?}");
    }

    #[test]
    fn issue_11_only_a_devices_own_records_can_be_amended() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        };
        let other = RecordId {
            device: DeviceId([9; 8]),
            seq: Seq(1),
        };
        let r1 = t.sign(1, RecordHash::GENESIS, "one");
        let foreign = t.sign_json(2, r1.hash(), &amendment_of(other));
        let own = t.sign_json(
            2,
            r1.hash(),
            &amendment_of(RecordId {
                device: t.device(),
                seq: Seq(1),
            }),
        );
        let mut tx = MemTx::default();
        let o = apply_batch(&mut tx, t.job(&[&r1, &foreign])).unwrap();
        assert_eq!(
            statuses(&o),
            vec![VerdictStatus::Accepted, VerdictStatus::Rejected]
        );
        assert!(o.verdicts[1].reason.contains("another device"), "{o:?}");
        assert_eq!(tx.held.len(), 1);
        let o = apply_batch(&mut tx, t.job(&[&own])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Accepted]);
    }

    #[test]
    fn issue_11_a_record_stored_before_the_check_stays_a_duplicate() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[8; 32]),
        };
        let police = t.sign_json(1, RecordHash::GENESIS, &concern_by("POLICE-CAIT", "w"));
        let mut tx = MemTx {
            enrolled: Some(Enrolment {
                agency: "POLICE-CAIT".into(),
                worker: "w".into(),
                staff: vec![],
            }),
            ..MemTx::default()
        };
        apply_batch(&mut tx, t.job(&[&police])).unwrap();
        tx.enrolled = None;
        let o = apply_batch(&mut tx, t.job(&[&police])).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Duplicate]);
    }

    #[test]
    fn issue_11_rejected_records_keep_a_capped_prefix_within_a_budget() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[10; 32]),
        };
        let mut tx = MemTx::default();
        let big = |i: u8| vec![i; 4 * 1024 * 1024];
        let budget = 3 * REJECTED_PREFIX_BYTES as u64;
        let mut job = t.job(&[]);
        job.quarantine_budget = budget;
        let vk = t.key.verifying_key();
        job.records = (0..5)
            .map(|i| precheck(&vk, big(i), hearth_shared::MAX_SIGNED_SIZE))
            .collect();
        let o = apply_batch(&mut tx, job.clone()).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Rejected; 5]);
        assert_eq!(tx.held.len(), 5, "every rejection is recorded");
        let kept: Vec<usize> = tx.held.iter().map(|h| h.bytes.len()).collect();
        assert_eq!(
            kept,
            [
                REJECTED_PREFIX_BYTES,
                REJECTED_PREFIX_BYTES,
                REJECTED_PREFIX_BYTES,
                0,
                0
            ]
        );
        assert!(tx.held.iter().all(|h| h.length == 4 * 1024 * 1024));
        assert_eq!(tx.held[1].bytes, big(1)[..REJECTED_PREFIX_BYTES]);
        assert_eq!(tx.alarms, 1, "one alarm when the budget runs out");
        // A resend is found by its digest: no new row, no new alarm.
        let o = apply_batch(&mut tx, job).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Rejected; 5]);
        assert_eq!((tx.held.len(), tx.alarms), (5, 1));
        // A new rejection in a later batch: metadata only, still one alarm.
        let mut later = t.job(&[]);
        later.quarantine_budget = budget;
        later.records = vec![precheck(&vk, big(9), hearth_shared::MAX_SIGNED_SIZE)];
        apply_batch(&mut tx, later).unwrap();
        assert_eq!((tx.held.len(), tx.alarms), (6, 1));
        assert!(tx.held[5].bytes.is_empty());
    }

    #[test]
    fn issue_11_a_fork_is_kept_whole_past_the_budget() {
        let t = Tablet {
            key: ed25519_dalek::SigningKey::from_bytes(&[11; 32]),
        };
        let r1 = t.sign(1, RecordHash::GENESIS, "one");
        let rival = t.sign(1, RecordHash::GENESIS, "one again");
        let mut tx = MemTx::default();
        apply_batch(&mut tx, t.job(&[&r1])).unwrap();
        let mut job = t.job(&[&rival]);
        job.quarantine_budget = 0;
        let o = apply_batch(&mut tx, job).unwrap();
        assert_eq!(statuses(&o), vec![VerdictStatus::Quarantined]);
        assert_eq!(tx.held.len(), 2);
        assert!(tx.held.iter().all(Held::is_whole));
        assert_eq!(tx.held[1].bytes, rival.as_bytes());
    }
}
