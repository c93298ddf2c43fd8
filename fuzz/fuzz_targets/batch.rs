//! `batch`: a sync batch body as the server parses it (`POST /v1/sync`):
//! the postcard `UploadBatch` with nothing after it, at most 256 records,
//! the header signature, then each record verified as ingest's precheck
//! does and placed in the device's chain.
//!
//! The header signature is checked on the batch as it came; then the same
//! records are signed into a header by the device key (as the genuine
//! device would), so that what lies behind the signature is reached.
#![no_main]

use hearth_fuzz::{check_verified, device, device_key};
use hearth_shared::protocol::UploadBatch;
use hearth_shared::signed::MAX_SIGNED_SIZE;
use hearth_shared::{ChainState, ChainVerdict, RecordHash, Seq, check_chain};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

/// The server's default `max_batch_records`.
const MAX_BATCH_RECORDS: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Ok((batch, [])) = postcard::take_from_bytes::<UploadBatch>(data) else {
        return;
    };
    if batch.records.len() > MAX_BATCH_RECORDS {
        return;
    }
    let key = device_key();
    let public = key.verifying_key();
    let _ = batch.verify_auth(&public);
    let genuine = UploadBatch::new(&key, batch.device_time, batch.records.clone());
    assert!(
        genuine.verify_auth(&public),
        "the device's own header does not verify"
    );
    assert_eq!(genuine.device, device());
    // The chain as the server would build it from this batch alone.
    let mut held: BTreeMap<Seq, (RecordHash, RecordHash)> = BTreeMap::new();
    for bytes in &genuine.records {
        if bytes.len() > MAX_SIGNED_SIZE {
            continue;
        }
        let Ok(v) = hearth_shared::verify(&public, bytes) else {
            continue;
        };
        check_verified(&v, bytes, device());
        let e = v.envelope();
        let state = ChainState {
            at_seq: held.get(&e.seq).map(|h| h.0),
            before: e
                .seq
                .0
                .checked_sub(1)
                .and_then(|s| held.get(&Seq(s)))
                .map(|h| h.0),
            after_prev: e
                .seq
                .0
                .checked_add(1)
                .and_then(|s| held.get(&Seq(s)))
                .map(|h| h.1),
            head: held.keys().next_back().copied(),
        };
        let verdict = check_chain(&state, e.seq, e.prev, v.hash());
        if let ChainVerdict::AfterGap {
            missing_from,
            missing_to,
        } = verdict
        {
            assert!(
                missing_from <= missing_to && missing_to < e.seq,
                "a gap that is not before it"
            );
        }
        if verdict == ChainVerdict::Duplicate {
            assert_eq!(held.get(&e.seq).map(|h| h.0), Some(v.hash()));
        }
        if verdict.is_accepted() {
            held.entry(e.seq).or_insert((v.hash(), e.prev));
        }
    }
});
