//! `POST /v1/sync` from the HTTP body to the verdicts, through the real
//! router and a fresh SQLite store per input (see `server/mod.rs`).
//!
//! The first byte picks the mode. Even: the rest is the body as sent, as
//! any peer may send it. Odd: the rest drives a plan of up to four batches
//! from enrolled, revoked and unknown devices, of valid signed records
//! chained (or not: gaps, forks, duplicates, corrections) with one part
//! broken at will, so that most inputs get past the batch signature and
//! exercise the precheck, the chain decisions and the writes.
//!
//! Invariants, beyond "no panic": no input gets a server error; a batch
//! signed by an enrolled device gets one verdict per record; every record
//! accepted is in the store byte for byte; sending the same batch again
//! stores nothing new; an unauthenticated batch gets 401, a revoked
//! device's 403.

#![no_main]

#[allow(dead_code)]
mod server;

use arbitrary::{Arbitrary, Unstructured};
use axum::http::StatusCode;
use hearth_shared::protocol::{UploadBatch, UploadResponse, VerdictStatus};
use hearth_shared::signed::peek_id;
use hearth_shared::{DeviceId, RecordHash, Seq, Timestamp};
use hearth_sync_server::store::Store;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

use server::records::{BodyPlan, Corrupt, hash_of, signed_bytes};
use server::{ENROLLED, Instance, NOW, REVOKED, STRANGER, key, no_server_error};

#[derive(Arbitrary, Debug)]
enum Sender {
    Enrolled(bool),
    Revoked,
    Unknown,
}

#[derive(Arbitrary, Debug)]
enum HeaderFault {
    None,
    FlipAuth(u8),
    OtherTime(i64),
    DropRecordAfterSigning,
}

#[derive(Arbitrary, Debug)]
enum SeqPlan {
    Next,
    Again(u8),
    Skip(u8),
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
enum PrevPlan {
    Chain,
    Genesis,
    OfSeq(u8),
    Other([u8; 4]),
}

#[derive(Arbitrary, Debug)]
struct RecordPlan {
    seq: SeqPlan,
    prev: PrevPlan,
    body: BodyPlan,
    device_minutes: i16,
    corrupt: Corrupt,
}

#[derive(Arbitrary, Debug)]
struct BatchPlan {
    sender: Sender,
    clock_minutes: i32,
    records: Vec<RecordPlan>,
    fault: HeaderFault,
    resend: bool,
}

/// What a tablet has made: per device, the hash of each sequence number
/// built last, and its head.
#[derive(Default)]
struct Tablets {
    chains: BTreeMap<u8, BTreeMap<u64, RecordHash>>,
}

impl Tablets {
    fn build(&mut self, seed: u8, devices: &[DeviceId], r: &RecordPlan) -> Option<Vec<u8>> {
        let chain = self.chains.entry(seed).or_default();
        let head = chain.keys().next_back().copied().unwrap_or(0);
        let seq = match r.seq {
            SeqPlan::Next => head + 1,
            SeqPlan::Again(back) => head.saturating_sub(u64::from(back % 4)).max(1),
            SeqPlan::Skip(n) => head + 2 + u64::from(n % 8),
            SeqPlan::Raw(s) => s,
        };
        let prev = match r.prev {
            PrevPlan::Chain => chain
                .get(&(seq.saturating_sub(1)))
                .copied()
                .unwrap_or(RecordHash::GENESIS),
            PrevPlan::Genesis => RecordHash::GENESIS,
            PrevPlan::OfSeq(s) => chain
                .get(&u64::from(s))
                .copied()
                .unwrap_or(RecordHash::GENESIS),
            PrevPlan::Other(b) => {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&b);
                RecordHash(h)
            }
        };
        let k = key(seed);
        let env = r
            .body
            .envelope(&k, devices, Seq(seq), prev, r.device_minutes)?;
        let bytes = signed_bytes(&k, &env, r.corrupt);
        chain.insert(seq, hash_of(&bytes));
        Some(bytes)
    }
}

fn send(server: &Instance, batch: &UploadBatch) -> (StatusCode, Vec<u8>) {
    let body = postcard::to_allocvec(batch).expect("a batch encodes");
    let (status, answer) = server.post("/v1/sync", None, body);
    no_server_error("sync", status, &answer);
    (status, answer)
}

fn verdicts(status: StatusCode, answer: &[u8], sent: usize) -> UploadResponse {
    assert_eq!(
        status,
        StatusCode::OK,
        "an authenticated batch: {}",
        String::from_utf8_lossy(answer)
    );
    let r: UploadResponse = serde_json::from_slice(answer).expect("the response is JSON");
    assert_eq!(r.verdicts.len(), sent, "one verdict per record");
    for (i, v) in r.verdicts.iter().enumerate() {
        assert_eq!(v.index as usize, i, "verdicts in batch order");
    }
    r
}

fn run_batch(server: &Instance, tablets: &mut Tablets, plan: &BatchPlan) {
    let seed = match plan.sender {
        Sender::Enrolled(second) => ENROLLED[usize::from(second)],
        Sender::Revoked => ENROLLED[REVOKED],
        Sender::Unknown => STRANGER,
    };
    let devices: Vec<DeviceId> = ENROLLED
        .iter()
        .map(|s| DeviceId::from_public_key(key(*s).verifying_key().as_bytes()))
        .collect();
    let records: Vec<Vec<u8>> = plan
        .records
        .iter()
        .take(12)
        .filter_map(|r| tablets.build(seed, &devices, r))
        .collect();
    let time = Timestamp(NOW.0 + i64::from(plan.clock_minutes) * 60);
    let mut batch = UploadBatch::new(&key(seed), time, records);
    let authentic = match plan.fault {
        HeaderFault::None => true,
        HeaderFault::FlipAuth(x) => {
            let i = usize::from(x) % batch.auth.len().max(1);
            if let Some(b) = batch.auth.get_mut(i) {
                *b ^= 1 << (x % 8);
            }
            false
        }
        HeaderFault::OtherTime(t) => {
            let same = batch.device_time.0 == t;
            batch.device_time = Timestamp(t);
            same
        }
        HeaderFault::DropRecordAfterSigning => batch.records.pop().is_none(),
    };
    let (status, answer) = send(server, &batch);
    if !authentic || matches!(plan.sender, Sender::Unknown) {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "an unauthenticated batch");
        return;
    }
    if matches!(plan.sender, Sender::Revoked) {
        assert_eq!(status, StatusCode::FORBIDDEN, "a revoked device's batch");
        return;
    }
    if !batch.device_time.in_range() {
        assert_eq!(status, StatusCode::BAD_REQUEST, "a clock out of range");
        return;
    }
    let first = verdicts(status, &answer, batch.records.len());
    for (v, bytes) in first.verdicts.iter().zip(&batch.records) {
        if v.status == VerdictStatus::Accepted {
            let (envelope, _) = hearth_shared::signed::split_signed(bytes).unwrap();
            let id = peek_id(envelope).expect("an accepted record has an id");
            let held = server
                .store
                .record(id)
                .unwrap()
                .expect("accepted, so stored");
            assert_eq!(&held.bytes, bytes, "stored byte for byte");
        }
    }
    if plan.resend {
        let (status, answer) = send(server, &batch);
        let again = verdicts(status, &answer, batch.records.len());
        for (a, b) in first.verdicts.iter().zip(&again.verdicts) {
            assert!(
                b.status != VerdictStatus::Accepted,
                "sent again, stored again: first {a:?}, then {b:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let server = Instance::fresh();
    if mode % 2 == 0 {
        let (status, answer) = server.post("/v1/sync", None, rest.to_vec());
        no_server_error("sync (raw body)", status, &answer);
        return;
    }
    let mut u = Unstructured::new(rest);
    let Ok(plans) = Vec::<BatchPlan>::arbitrary(&mut u) else {
        return;
    };
    let mut tablets = Tablets::default();
    for plan in plans.iter().take(4) {
        run_batch(&server, &mut tablets, plan);
    }
});
