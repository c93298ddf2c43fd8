//! Ingest's tests: decisions, prechecks, and whole batches over an in-memory [`IngestTx`].

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

/// What a precheck decided, comparable: the record's id and hash, or the
/// reason and bytes of a refusal.
fn summary(p: &Prechecked) -> Result<(RecordId, RecordHash), (String, Vec<u8>)> {
    match p {
        Prechecked::Verified(c) => Ok((c.id(), c.hash)),
        Prechecked::Rejected { bytes, reason } => Err((reason.clone(), bytes.clone())),
    }
}

#[test]
fn issue_20_a_parallel_precheck_keeps_each_verdict_in_batch_order() {
    let t = Tablet {
        key: ed25519_dalek::SigningKey::from_bytes(&[20; 32]),
    };
    let vk = t.key.verifying_key();
    let mut records: Vec<Vec<u8>> = (1..=60)
        .map(|seq| t.sign(seq, RecordHash([0; 32]), "x").as_bytes().to_vec())
        .collect();
    // A bad signature in the middle of the second chunk, an oversized
    // record in the third, garbage at the very end.
    let last = records[20].len() - 1;
    records[20][last] ^= 1;
    records[37] = vec![7; 3_000];
    records[59] = vec![1; 90];
    let max = 2_048;
    let serial: Vec<_> = records
        .iter()
        .map(|r| summary(&precheck(&vk, r.clone(), max)))
        .collect();
    for threads in [1, 2, 3, 4, 64] {
        let parallel: Vec<_> = precheck_on(threads, &vk, records.clone(), max)
            .iter()
            .map(summary)
            .collect();
        assert_eq!(parallel, serial, "{threads} threads");
    }
    let rejected: Vec<usize> = serial
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.is_err().then_some(i))
        .collect();
    assert_eq!(rejected, [20, 37, 59]);
    assert_eq!(serial[21].as_ref().map(|(id, _)| id.seq), Ok(Seq(22)));
    assert_eq!(precheck_all(&vk, records, max).len(), 60);
}
