//! Receipts for a committed batch: [`receipt_runs`] (pure) finds the
//! maximal runs of consecutive sequence numbers now held, and
//! [`sign_receipts`] signs one [`Receipt`] per run with the server key.
//! Called only after the ingest transaction has committed.

use ed25519_dalek::SigningKey;
use hearth_shared::receipt::RECEIPT_VERSION;
use hearth_shared::{DeviceId, Receipt, RecordHash, Seq, Timestamp};

/// Maximal runs `(first, last, hash of last)` of consecutive held records.
pub fn receipt_runs(held: &[(Seq, RecordHash)]) -> Vec<(Seq, Seq, RecordHash)> {
    let mut sorted = held.to_vec();
    sorted.sort_by_key(|(s, _)| *s);
    sorted.dedup_by_key(|(s, _)| *s);
    let mut runs: Vec<(Seq, Seq, RecordHash)> = Vec::new();
    for (seq, hash) in sorted {
        match runs.last_mut() {
            Some(run) if run.1.next() == seq => {
                run.1 = seq;
                run.2 = hash;
            }
            _ => runs.push((seq, seq, hash)),
        }
    }
    runs
}

/// Signed receipts, lower-case hex, one per run.
pub fn sign_receipts(
    key: &SigningKey,
    device: DeviceId,
    held: &[(Seq, RecordHash)],
    server_time: Timestamp,
) -> Vec<String> {
    receipt_runs(held)
        .into_iter()
        .map(|(first, last, last_hash)| {
            hex::encode(
                Receipt {
                    version: RECEIPT_VERSION,
                    device,
                    first,
                    last,
                    last_hash,
                    server_time,
                }
                .sign(key),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_gaps_and_end_on_the_last_hash() {
        let h = |n| RecordHash([n; 32]);
        let held = [
            (Seq(3), h(3)),
            (Seq(1), h(1)),
            (Seq(2), h(2)),
            (Seq(5), h(5)),
        ];
        assert_eq!(
            receipt_runs(&held),
            vec![(Seq(1), Seq(3), h(3)), (Seq(5), Seq(5), h(5))]
        );
        assert!(receipt_runs(&[]).is_empty());
    }

    #[test]
    fn receipts_verify_with_the_server_key() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let r = sign_receipts(
            &key,
            DeviceId([1; 8]),
            &[(Seq(1), RecordHash([4; 32]))],
            Timestamp(10),
        );
        let bytes = hex::decode(&r[0]).unwrap();
        let receipt = Receipt::verify(&key.verifying_key(), &bytes).unwrap();
        assert_eq!((receipt.first, receipt.last), (Seq(1), Seq(1)));
    }
}
