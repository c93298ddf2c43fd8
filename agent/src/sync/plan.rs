//! The pure half of sync: which records go in which batch
//! ([`batches`]), and what a server response proves ([`judge`]).
//!
//! No disk, no network: [`judge`] takes the response, the seqs that were
//! sent, the server key pinned at enrolment and a lookup of our own chain
//! hashes, and says which records become synced, which were refused, and
//! which receipts were not trusted and why.
//!
//! ## The rule for "synced"
//!
//! A verdict of "accepted" is not signed, so it proves nothing. A record
//! becomes synced only when a receipt covering it
//! 1. verifies with the server key saved at enrolment,
//! 2. names this device, and
//! 3. has `last_hash` equal to our own chain hash of record `last`.
//!
//! Because each record's `prev` is the hash of the one before, (3) proves
//! the server holds our exact chain up to `last`. Anything else stays
//! pending and is resent next time; resending the same signed bytes is
//! answered "duplicate", so an interrupted sync converges when rerun.
//!
//! ## An answer to another request
//!
//! Nothing in a response names the request it answers: a cache or a
//! misbehaving TLS-terminating proxy in front of the server could hand
//! over an earlier answer (this device's, or another device's). So:
//! 4. a receipt is kept only if it covers a record of this batch (the
//!    server signs one per run of the batch's records it holds); an older
//!    receipt, genuine as it is, would otherwise become "the last receipt";
//! 5. a refusal is believed only from an answer that accounts for the
//!    whole batch: one verdict per record at its index, naming its seq
//!    where it names one, every other record covered by a trusted receipt,
//!    and no receipt problem. A refusal is final (the record is never
//!    resent), and a rejection's verdict names no seq, so an answer with
//!    any sign of being someone else's refuses nothing; the records stay
//!    pending and the next answer decides.

use ed25519_dalek::VerifyingKey;
use hearth_shared::protocol::{UploadResponse, Verdict, VerdictStatus};
use hearth_shared::{DecodeError, DeviceId, Receipt, RecordHash, Seq};

use crate::store::{PushOutcome, StoredReceipt, SyncStatus};

/// The most records sent in one request to a server that has not said how
/// many it takes (one older than issue 20, or not heard from since the
/// agent was enrolled by an older agent): every server has taken 100
/// since the first milestone. The locked outbox sends this many too.
pub const BATCH_SIZE: usize = 100;

/// The most records this agent sends in one request, whatever a server
/// says it takes (`Hearth-Batch-Records`): a 10,000-record backlog is 40
/// commits on the server instead of 100 (issue 20's figure 5 in
/// `docs/PERFORMANCE.md`), and a batch of the largest records is still
/// about 1.2 MiB in the agent's memory.
pub const MAX_BATCH_SIZE: usize = 256;

/// How many records to send in one request to a server that said it takes
/// `said` (`None`: it has not said).
pub fn batch_size(said: Option<usize>) -> usize {
    said.map_or(BATCH_SIZE, |n| n.clamp(1, MAX_BATCH_SIZE))
}

/// Splits pending seqs (in order) into batches of at most `max`.
pub fn batches(pending: &[Seq], max: usize) -> Vec<Vec<Seq>> {
    pending.chunks(max.max(1)).map(<[Seq]>::to_vec).collect()
}

/// Why a receipt, or the response around it, was not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptProblem {
    /// Not hex.
    #[error("receipt {index} is not hex")]
    NotHex {
        /// Its position in the response.
        index: usize,
    },
    /// The signature or encoding is bad.
    #[error("receipt {index} does not verify with the server key saved at enrolment: {source}")]
    DoesNotVerify {
        /// Its position in the response.
        index: usize,
        /// Why.
        source: DecodeError,
    },
    /// It is for another device.
    #[error("receipt {index} is for device {found}, not this device")]
    OtherDevice {
        /// Its position in the response.
        index: usize,
        /// The device it names.
        found: DeviceId,
    },
    /// Its `last_hash` is not our hash of record `last`.
    #[error("receipt {index} says record {last} has a different hash from ours")]
    HashMismatch {
        /// Its position in the response.
        index: usize,
        /// The record it ends at.
        last: Seq,
    },
    /// It ends at a record we do not have.
    #[error("receipt {index} ends at record {last}, which this device does not hold")]
    UnknownRecord {
        /// Its position in the response.
        index: usize,
        /// The record it ends at.
        last: Seq,
    },
    /// A range that is backwards.
    #[error("receipt {index} covers an empty range")]
    EmptyRange {
        /// Its position in the response.
        index: usize,
    },
    /// It covers no record of the batch sent: an answer to another
    /// request.
    #[error("receipt {index} covers records {first} to {last}, none of the batch sent")]
    NotForBatch {
        /// Its position in the response.
        index: usize,
        /// The first record it covers.
        first: Seq,
        /// The last record it covers.
        last: Seq,
    },
    /// A verdict names another record than the one sent at its index.
    #[error("verdict {index} is for record {found}, but record {sent} was sent there")]
    VerdictMismatch {
        /// The verdict's index.
        index: usize,
        /// The record sent at that index.
        sent: Seq,
        /// The record the verdict names.
        found: Seq,
    },
    /// The verdicts do not match the batch.
    #[error("the server returned {found} verdicts for {sent} records")]
    VerdictCount {
        /// Records sent.
        sent: usize,
        /// Verdicts returned.
        found: usize,
    },
}

/// What a response proves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The changes to apply (`synced_at` left for the caller).
    pub outcome: PushOutcome,
    /// Sent records neither confirmed by a receipt nor refused: they stay
    /// pending.
    pub unconfirmed: Vec<Seq>,
    /// Receipts (or verdicts) that were not trusted.
    pub problems: Vec<ReceiptProblem>,
}

/// Judges one response to a batch of `sent` seqs (batch order).
pub fn judge(
    device: DeviceId,
    server_key: &VerifyingKey,
    sent: &[Seq],
    response: &UploadResponse,
    our_hash: &dyn Fn(Seq) -> Option<RecordHash>,
) -> Judgement {
    let mut j = Judgement::default();
    for (index, text) in response.receipts.iter().enumerate() {
        match trusted_receipt(index, text, device, server_key, our_hash) {
            Ok(receipt) if sent.is_empty() || sent.iter().any(|s| covers(&receipt, *s)) => {
                j.outcome.receipts.push(receipt);
            }
            Ok(receipt) => j.problems.push(ReceiptProblem::NotForBatch {
                index,
                first: receipt.first,
                last: receipt.last,
            }),
            Err(problem) => j.problems.push(problem),
        }
    }
    j.problems
        .extend(verdict_problems(sent, &response.verdicts));
    let mut refused = Vec::new();
    for (i, &seq) in sent.iter().enumerate() {
        if j.outcome.receipts.iter().any(|r| covers(r, seq)) {
            j.outcome.synced.push(seq);
        } else if let Some((status, reason)) = refusal(&response.verdicts, i, seq) {
            refused.push((seq, status, reason));
        } else {
            j.unconfirmed.push(seq);
        }
    }
    // Rule 5: refusals only from an answer that accounts for the batch.
    if j.problems.is_empty() && j.unconfirmed.is_empty() {
        j.outcome.refused = refused;
    } else {
        j.unconfirmed
            .extend(refused.into_iter().map(|(seq, _, _)| seq));
        j.unconfirmed.sort();
    }
    j.outcome.clock_offset_seconds = Some(response.clock_offset_seconds);
    j
}

/// Whether `receipt` covers `seq`.
fn covers(receipt: &StoredReceipt, seq: Seq) -> bool {
    receipt.first <= seq && seq <= receipt.last
}

/// How the verdicts fail to match the batch `sent`: a count other than
/// one per record, or a verdict naming another seq than the one sent at
/// its index.
fn verdict_problems(sent: &[Seq], verdicts: &[Verdict]) -> Vec<ReceiptProblem> {
    let mut problems = Vec::new();
    if verdicts.len() != sent.len() {
        problems.push(ReceiptProblem::VerdictCount {
            sent: sent.len(),
            found: verdicts.len(),
        });
    }
    for v in verdicts {
        let index = v.index as usize;
        if let (Some(&expected), Some(found)) = (sent.get(index), v.seq)
            && expected != found
        {
            problems.push(ReceiptProblem::VerdictMismatch {
                index,
                sent: expected,
                found,
            });
        }
    }
    problems
}

/// Receipt `index` of a response (`text`, hex), kept only if it verifies
/// with the pinned `server_key`, names `device`, covers a range, and ends
/// at a record whose hash is ours (the rule in the module comment).
fn trusted_receipt(
    index: usize,
    text: &str,
    device: DeviceId,
    server_key: &VerifyingKey,
    our_hash: &dyn Fn(Seq) -> Option<RecordHash>,
) -> Result<StoredReceipt, ReceiptProblem> {
    let bytes = hex::decode(text).map_err(|_| ReceiptProblem::NotHex { index })?;
    let receipt = Receipt::verify(server_key, &bytes)
        .map_err(|source| ReceiptProblem::DoesNotVerify { index, source })?;
    if receipt.device != device {
        return Err(ReceiptProblem::OtherDevice {
            index,
            found: receipt.device,
        });
    }
    if receipt.first > receipt.last {
        return Err(ReceiptProblem::EmptyRange { index });
    }
    let last = receipt.last;
    match our_hash(last) {
        None => return Err(ReceiptProblem::UnknownRecord { index, last }),
        Some(h) if h != receipt.last_hash => {
            return Err(ReceiptProblem::HashMismatch { index, last });
        }
        Some(_) => {}
    }
    Ok(StoredReceipt {
        first: receipt.first,
        last,
        last_hash: receipt.last_hash,
        server_time: receipt.server_time,
        signed: bytes,
    })
}

/// The server's refusal of `seq`, sent at position `i`, with its reason;
/// `None` if the verdict there does not refuse it.
fn refusal(verdicts: &[Verdict], i: usize, seq: Seq) -> Option<(SyncStatus, String)> {
    // Match the verdict by position, and only if it names this seq
    // (or no seq): a misaligned verdict must not refuse the wrong record.
    let verdict = verdicts
        .iter()
        .find(|v| v.index as usize == i)
        .filter(|v| v.seq.is_none_or(|s| s == seq))?;
    let status = match verdict.status {
        VerdictStatus::Rejected => SyncStatus::Rejected,
        VerdictStatus::Quarantined => SyncStatus::Quarantined,
        _ => return None,
    };
    Some((status, verdict.reason.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use hearth_shared::Timestamp;
    use hearth_shared::protocol::Verdict;

    const DEVICE: DeviceId = DeviceId([1, 2, 3, 4, 5, 6, 7, 8]);

    fn server() -> SigningKey {
        SigningKey::from_bytes(&[9u8; 32])
    }

    fn hash(seq: Seq) -> RecordHash {
        RecordHash([seq.0 as u8; 32])
    }

    fn ours(seq: Seq) -> Option<RecordHash> {
        (1..=10).contains(&seq.0).then(|| hash(seq))
    }

    fn receipt(key: &SigningKey, device: DeviceId, first: u64, last: u64, h: RecordHash) -> String {
        hex::encode(
            Receipt {
                version: hearth_shared::receipt::RECEIPT_VERSION,
                device,
                first: Seq(first),
                last: Seq(last),
                last_hash: h,
                server_time: Timestamp(1_800_000_000),
            }
            .sign(key),
        )
    }

    fn verdicts(sent: &[u64], status: VerdictStatus) -> Vec<Verdict> {
        sent.iter()
            .enumerate()
            .map(|(i, &s)| Verdict {
                index: i as u32,
                seq: Some(Seq(s)),
                status,
                reason: String::new(),
            })
            .collect()
    }

    fn response(sent: &[u64], receipts: Vec<String>) -> UploadResponse {
        UploadResponse {
            server_time: Timestamp(1_800_000_000),
            clock_offset_seconds: -4,
            verdicts: verdicts(sent, VerdictStatus::Accepted),
            receipts,
            outbox_key: None,
        }
    }

    fn seqs(v: &[u64]) -> Vec<Seq> {
        v.iter().copied().map(Seq).collect()
    }

    #[test]
    fn batches_are_bounded_and_ordered() {
        let pending = seqs(&(1..=250).collect::<Vec<_>>());
        let b = batches(&pending, BATCH_SIZE);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert_eq!(b[2][0], Seq(201));
        assert!(batches(&[], BATCH_SIZE).is_empty());
    }

    #[test]
    fn a_good_receipt_marks_its_range_synced() {
        let key = server();
        let r = response(&[1, 2, 3], vec![receipt(&key, DEVICE, 1, 3, hash(Seq(3)))]);
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1, 2, 3]), &r, &ours);
        assert_eq!(j.outcome.synced, seqs(&[1, 2, 3]));
        assert!(j.problems.is_empty(), "{:?}", j.problems);
        assert_eq!(j.outcome.receipts.len(), 1);
        assert_eq!(j.outcome.clock_offset_seconds, Some(-4));
    }

    #[test]
    fn a_receipt_that_does_not_verify_marks_nothing() {
        let forger = SigningKey::from_bytes(&[3u8; 32]);
        let r = response(&[1, 2], vec![receipt(&forger, DEVICE, 1, 2, hash(Seq(2)))]);
        let j = judge(DEVICE, &server().verifying_key(), &seqs(&[1, 2]), &r, &ours);
        assert!(j.outcome.synced.is_empty());
        assert_eq!(j.unconfirmed, seqs(&[1, 2]));
        assert!(matches!(
            j.problems[0],
            ReceiptProblem::DoesNotVerify { .. }
        ));
    }

    #[test]
    fn a_receipt_with_another_last_hash_marks_nothing() {
        let key = server();
        let r = response(
            &[1, 2],
            vec![receipt(&key, DEVICE, 1, 2, RecordHash([0xee; 32]))],
        );
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1, 2]), &r, &ours);
        assert!(j.outcome.synced.is_empty());
        assert_eq!(
            j.problems,
            [ReceiptProblem::HashMismatch {
                index: 0,
                last: Seq(2)
            }]
        );
    }

    #[test]
    fn a_receipt_for_another_device_marks_nothing() {
        let key = server();
        let other = DeviceId([8; 8]);
        let r = response(&[1, 2], vec![receipt(&key, other, 1, 2, hash(Seq(2)))]);
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1, 2]), &r, &ours);
        assert!(j.outcome.synced.is_empty());
        assert!(matches!(j.problems[0], ReceiptProblem::OtherDevice { .. }));
    }

    #[test]
    fn garbage_and_unknown_receipts_mark_nothing() {
        let key = server();
        let r = response(
            &[1],
            vec!["zz".into(), receipt(&key, DEVICE, 1, 11, hash(Seq(11)))],
        );
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1]), &r, &ours);
        assert!(j.outcome.synced.is_empty());
        assert_eq!(j.problems.len(), 2);
    }

    #[test]
    fn accepted_without_a_receipt_stays_pending() {
        let key = server();
        let r = response(&[1, 2], vec![]);
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1, 2]), &r, &ours);
        assert!(j.outcome.synced.is_empty());
        assert_eq!(j.unconfirmed, seqs(&[1, 2]));
    }

    #[test]
    fn refused_records_carry_the_servers_reason() {
        let key = server();
        let mut r = response(&[4, 5, 6], vec![receipt(&key, DEVICE, 1, 4, hash(Seq(4)))]);
        r.verdicts[1].status = VerdictStatus::Rejected;
        r.verdicts[1].reason = "bad signature".into();
        r.verdicts[2].status = VerdictStatus::Quarantined;
        r.verdicts[2].reason = "fork at 6".into();
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[4, 5, 6]), &r, &ours);
        assert_eq!(j.outcome.synced, seqs(&[4]));
        assert_eq!(
            j.outcome.refused,
            [
                (Seq(5), SyncStatus::Rejected, "bad signature".to_string()),
                (Seq(6), SyncStatus::Quarantined, "fork at 6".to_string()),
            ]
        );
    }

    /// Issue 19: an earlier answer (a cache in the way, say) carries a
    /// genuine receipt for records 1 to 3 while 4 and 5 were sent.
    #[test]
    fn issue19_a_stale_receipt_for_other_records_is_refused() {
        let key = server();
        let r = response(&[1, 2, 3], vec![receipt(&key, DEVICE, 1, 3, hash(Seq(3)))]);
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[4, 5]), &r, &ours);
        assert!(j.outcome.synced.is_empty());
        assert!(
            j.outcome.receipts.is_empty(),
            "not kept as the last receipt"
        );
        assert_eq!(j.unconfirmed, seqs(&[4, 5]));
        assert_eq!(
            j.problems,
            [
                ReceiptProblem::NotForBatch {
                    index: 0,
                    first: Seq(1),
                    last: Seq(3)
                },
                ReceiptProblem::VerdictCount { sent: 2, found: 3 },
                ReceiptProblem::VerdictMismatch {
                    index: 0,
                    sent: Seq(4),
                    found: Seq(1)
                },
                ReceiptProblem::VerdictMismatch {
                    index: 1,
                    sent: Seq(5),
                    found: Seq(2)
                },
            ]
        );
    }

    /// Issue 19: a stale answer of the same size whose first verdict is a
    /// rejection (which names no seq) must not reject the record sent
    /// first now: a rejected record is never resent.
    #[test]
    fn issue19_a_stale_rejection_refuses_nothing() {
        let key = server();
        let mut r = response(&[1, 2], vec![receipt(&key, DEVICE, 2, 2, hash(Seq(2)))]);
        r.verdicts[0] = Verdict {
            index: 0,
            seq: None,
            status: VerdictStatus::Rejected,
            reason: "record 0 is not signed by this device".into(),
        };
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[4, 5]), &r, &ours);
        assert!(j.outcome.refused.is_empty(), "{:?}", j.outcome.refused);
        assert_eq!(j.unconfirmed, seqs(&[4, 5]));
        // Without any receipt, the accepted one is unaccounted for: still
        // nothing refused.
        let mut r = r.clone();
        r.receipts.clear();
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[4, 5]), &r, &ours);
        assert!(j.outcome.refused.is_empty());
        assert_eq!(j.unconfirmed, seqs(&[4, 5]));
    }

    #[test]
    fn a_verdict_naming_another_seq_is_a_problem_and_refuses_nothing() {
        let key = server();
        let mut r = response(&[1, 2], vec![receipt(&key, DEVICE, 1, 1, hash(Seq(1)))]);
        r.verdicts[1] = Verdict {
            index: 1,
            seq: Some(Seq(9)),
            status: VerdictStatus::Quarantined,
            reason: "fork".into(),
        };
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1, 2]), &r, &ours);
        assert_eq!(j.outcome.synced, seqs(&[1]));
        assert!(j.outcome.refused.is_empty());
        assert_eq!(j.unconfirmed, seqs(&[2]));
        assert_eq!(
            j.problems,
            [ReceiptProblem::VerdictMismatch {
                index: 1,
                sent: Seq(2),
                found: Seq(9)
            }]
        );
    }

    #[test]
    fn a_misaligned_verdict_refuses_nothing() {
        let key = server();
        let mut r = response(&[1], vec![]);
        r.verdicts[0].seq = Some(Seq(7));
        r.verdicts[0].status = VerdictStatus::Rejected;
        let j = judge(DEVICE, &key.verifying_key(), &seqs(&[1]), &r, &ours);
        assert!(j.outcome.refused.is_empty());
        assert_eq!(j.unconfirmed, seqs(&[1]));
    }
}
