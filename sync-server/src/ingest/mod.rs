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
//! Receipts are made by [`crate::receipt`] from the [`BatchOutcome`] only
//! after the transaction has committed.

pub mod writer;

use ed25519_dalek::VerifyingKey;
use hearth_shared::chain::Fork;
use hearth_shared::protocol::{Verdict, VerdictStatus};
use hearth_shared::signed::{chain_hash, peek_id, split_signed};
use hearth_shared::{ChainVerdict, DeviceId, RecordHash, RecordId, Seq, Timestamp, check_chain};

use crate::clock::{corrected_time, estimate_offset, is_late_entry};
use crate::store::{Held, HoldStatus, IngestTx, Line, NewRecord, StoreError};

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
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
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

/// Decides and writes a whole batch inside one transaction.
pub fn apply_batch(tx: &mut dyn IngestTx, job: BatchJob) -> Result<BatchOutcome, StoreError> {
    let clock = estimate_offset(job.device_time, job.received_at);
    tx.set_clock_state(job.device, clock, job.received_at)?;
    let offset = clock.offset.unwrap_or(0);
    let mut verdicts = Vec::with_capacity(job.records.len());
    let mut held = Vec::new();
    for (index, item) in job.records.into_iter().enumerate() {
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
                if tx.is_held(job.device, &bytes)? {
                    // A resend: already kept with its reason; no new row.
                    verdicts.push(verdict(index, None, VerdictStatus::Rejected, reason));
                    continue;
                }
                tx.hold(&Held {
                    id: 0,
                    device: job.device,
                    seq: None,
                    status: HoldStatus::Rejected,
                    reason: reason.clone(),
                    bytes,
                    received_at: job.received_at,
                })?;
                tracing::warn!(device = %job.device, index, "record rejected");
                verdicts.push(verdict(index, None, VerdictStatus::Rejected, reason));
                continue;
            }
            Prechecked::Verified(c) => *c,
        };
        let id = checked.id();
        let seq = id.seq;
        let state = tx.chain_state(job.device, seq)?;
        let chain = check_chain(&state, seq, checked.prev, checked.hash);
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
                if tx.is_held(job.device, &checked.bytes)? {
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
                    tx.hold(&Held {
                        id: 0,
                        device: job.device,
                        seq: Some(disputes.seq),
                        status: HoldStatus::Quarantined,
                        reason: format!("disputed by the conflicting record {id}: {reason}"),
                        bytes,
                        received_at: job.received_at,
                    })?;
                }
                tx.hold(&Held {
                    id: 0,
                    device: job.device,
                    seq: Some(seq),
                    status: HoldStatus::Quarantined,
                    reason: reason.clone(),
                    bytes: checked.bytes,
                    received_at: job.received_at,
                })?;
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
    Ok(BatchOutcome {
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
    }

    impl IngestTx for MemTx {
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
        fn is_held(&mut self, _: DeviceId, bytes: &[u8]) -> Result<bool, StoreError> {
            Ok(self.held.iter().any(|h| h.bytes == bytes))
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
        fn sign(&self, seq: u64, prev: RecordHash, headline: &str) -> hearth_shared::SignedRecord {
            let body = hearth_shared::json::parse_body(
                &format!(
                    r#"{{"kind":"concern","children":["nhs:9434765919"],"occurred_at":"2026-01-01T09:00:00Z","headline":"{headline}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
                ),
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
            }
        }
    }

    fn statuses(o: &BatchOutcome) -> Vec<VerdictStatus> {
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
}
