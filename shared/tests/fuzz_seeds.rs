//! The fuzz targets' seed corpora (`fuzz/seeds/<target>/`, issue 19), made
//! from the golden records (`tests/golden/`) and the examples of
//! `docs/records.md`, signed with the repository's fixed test keys (device
//! `[7; 32]`, server `[9; 32]`; ed25519 is deterministic, so the seeds are
//! too).
//!
//! This test checks that the committed seeds are exactly what it makes, so
//! a change of wire format cannot leave the fuzzers starting from stale
//! inputs; `UPDATE_EXPECT=1` (the one switch for every golden file)
//! rewrites them.

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_dalek::SigningKey;
use hearth_shared::caseload::{
    Caseload, CaseloadChild, CaseloadRequest, HouseholdMember, Task, TaskKind,
};
use hearth_shared::kinds::RecordKind;
use hearth_shared::protocol::{
    ErrorBody, ErrorCode, RevocationNotice, UploadBatch, UploadResponse, Verdict, VerdictStatus,
};
use hearth_shared::receipt::RECEIPT_VERSION;
use hearth_shared::{DeviceId, Receipt, RecordHash, Seq, Timestamp};

mod common;

use common::{doc_examples, repo_file};

/// Seed files by target, then by name.
type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn device_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

fn device() -> DeviceId {
    DeviceId::from_public_key(device_key().verifying_key().as_bytes())
}

/// The golden chain, seq 1 to 10, with each record's chain hash.
fn golden() -> Vec<(Vec<u8>, RecordHash)> {
    let key = device_key().verifying_key();
    RecordKind::WORDS
        .iter()
        .map(|kind| {
            let text =
                std::fs::read_to_string(repo_file(&format!("shared/tests/golden/{kind}.hex")))
                    .unwrap();
            let bytes = hex::decode(text.trim()).unwrap();
            let hash = hearth_shared::verify(&key, &bytes).unwrap().hash();
            (bytes, hash)
        })
        .collect()
}

fn receipt(first: u64, last: u64, hash: RecordHash) -> String {
    let r = Receipt {
        version: RECEIPT_VERSION,
        device: device(),
        first: Seq(first),
        last: Seq(last),
        last_hash: hash,
        server_time: Timestamp(1_795_700_900),
    };
    hex::encode(r.sign(&server_key()))
}

fn response(statuses: &[VerdictStatus], receipts: Vec<String>) -> Vec<u8> {
    let verdicts = statuses
        .iter()
        .enumerate()
        .map(|(i, &status)| Verdict {
            index: i as u32,
            seq: Some(Seq(i as u64 + 1)),
            status,
            reason: match status {
                VerdictStatus::Rejected => "bad signature".into(),
                VerdictStatus::Quarantined => "fork at 3".into(),
                _ => String::new(),
            },
        })
        .collect();
    let r = UploadResponse {
        server_time: Timestamp(1_795_700_900),
        clock_offset_seconds: -4,
        verdicts,
        receipts,
        outbox_key: None,
    };
    serde_json::to_vec_pretty(&r).unwrap()
}

fn receipt_seeds(golden: &[(Vec<u8>, RecordHash)]) -> BTreeMap<String, Vec<u8>> {
    use VerdictStatus::{Accepted, Duplicate, Quarantined, Rejected};
    let all = [Accepted; 10];
    let mut mixed = [Accepted; 10];
    mixed[2] = Quarantined;
    mixed[5] = Rejected;
    mixed[9] = Duplicate;
    BTreeMap::from([
        (
            "all-synced.json".into(),
            response(&all, vec![receipt(1, 10, golden[9].1)]),
        ),
        (
            "two-receipts.json".into(),
            response(
                &all,
                vec![receipt(1, 4, golden[3].1), receipt(5, 10, golden[9].1)],
            ),
        ),
        (
            "refused.json".into(),
            response(&mixed, vec![receipt(1, 2, golden[1].1)]),
        ),
        (
            "other-hash.json".into(),
            response(&all, vec![receipt(1, 10, RecordHash([0xee; 32]))]),
        ),
        ("no-receipt.json".into(), response(&all[..3], vec![])),
    ])
}

fn revocation_seeds() -> BTreeMap<String, Vec<u8>> {
    // The target reads the status as 400 + (first byte mod 110): 3 is 403.
    let body = |notice: Option<RevocationNotice>| {
        let mut out = vec![3u8];
        out.extend(
            serde_json::to_vec_pretty(&ErrorBody {
                error: ErrorCode::DeviceRevoked,
                message: "device was revoked at 2026-11-20T10:00:00Z: tablet lost".into(),
                revocation: notice,
            })
            .unwrap(),
        );
        out
    };
    let at = Timestamp(1_795_700_000);
    BTreeMap::from([
        (
            "signed.json".into(),
            body(Some(RevocationNotice::sign(&server_key(), device(), at))),
        ),
        (
            "other-device.json".into(),
            body(Some(RevocationNotice::sign(
                &server_key(),
                DeviceId([1; 8]),
                at,
            ))),
        ),
        ("unsigned.json".into(), body(None)),
    ])
}

fn caseload() -> Caseload {
    let child = |child: &str, name: &str| CaseloadChild {
        child: child.into(),
        refs: vec![child.into(), "local:NURSERY-12:amy-b".into()],
        name: name.into(),
        born: Some(Timestamp(1_700_000_000)),
        expected: None,
        group: Some("Rainbow room".into()),
        household: vec![HouseholdMember {
            name: "Dean Brown".into(),
            relationship: "father".into(),
        }],
        alerts: "on a child protection plan".into(),
        tasks: vec![Task {
            kind: TaskKind::Visit,
            from: Timestamp(1_795_000_000),
            due: Timestamp(1_796_000_000),
            label: "Home visit due (every 10 working days)".into(),
        }],
    };
    Caseload {
        device: device(),
        issued_at: Timestamp(1_795_700_000),
        children: vec![
            child("nhs:9434765919", "Amy Brown"),
            child("nhs:4010232137", "Ben Brown"),
        ],
    }
}

fn caseload_seeds() -> BTreeMap<String, Vec<u8>> {
    let c = caseload();
    let request = CaseloadRequest::new(&device_key(), Timestamp(1_795_700_000));
    BTreeMap::from([
        ("signed.bin".into(), c.sign(&server_key())),
        ("unsigned.bin".into(), postcard::to_allocvec(&c).unwrap()),
        ("request.json".into(), serde_json::to_vec(&request).unwrap()),
    ])
}

fn seeds() -> Seeds {
    let golden = golden();
    let records: Vec<Vec<u8>> = golden.iter().map(|g| g.0.clone()).collect();
    let batch = |records: &[Vec<u8>]| {
        postcard::to_allocvec(&UploadBatch::new(
            &device_key(),
            Timestamp(1_795_700_900),
            records.to_vec(),
        ))
        .unwrap()
    };
    let mut out = Seeds::new();
    out.insert(
        "record",
        RecordKind::WORDS
            .iter()
            .zip(&records)
            .map(|(k, r)| (format!("{k}.bin"), r.clone()))
            .collect(),
    );
    out.insert(
        "batch",
        BTreeMap::from([
            ("chain.bin".into(), batch(&records)),
            ("empty.bin".into(), batch(&[])),
            (
                "gap.bin".into(),
                batch(&[records[0].clone(), records[3].clone(), records[1].clone()]),
            ),
            (
                "duplicate.bin".into(),
                batch(&[records[0].clone(), records[0].clone()]),
            ),
        ]),
    );
    out.insert(
        "record_json",
        RecordKind::WORDS
            .iter()
            .zip(doc_examples())
            .map(|(k, j)| (format!("{k}.json"), j.into_bytes()))
            .collect(),
    );
    // `record_fields` reads its bytes with `arbitrary`: roughly the golden
    // record, the field, and how to corrupt it, then the new value.
    let mut fields = BTreeMap::new();
    for kind in 0..10u8 {
        for field in 0..11u8 {
            let mut bytes = vec![kind, field, 0, 0];
            bytes.extend_from_slice(b"\x05\x07\xff\x00nhs:943476591\x10");
            fields.insert(
                format!("{}-{field:02}.bin", RecordKind::WORDS[kind as usize]),
                bytes,
            );
        }
    }
    out.insert("record_fields", fields);
    out.insert("receipt", receipt_seeds(&golden));
    out.insert("revocation", revocation_seeds());
    out.insert("caseload", caseload_seeds());
    out
}

fn held(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn committed_fuzz_seeds_are_current() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut stale = Vec::new();
    for (target, files) in seeds() {
        let dir = repo_file(&format!("fuzz/seeds/{target}"));
        if update {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in &files {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        } else if held(&dir) != files {
            stale.push(target);
        }
    }
    assert!(
        stale.is_empty(),
        "fuzz/seeds/ is stale for {stale:?}: rerun with UPDATE_EXPECT=1 and commit the seeds"
    );
}

#[test]
fn the_seeds_are_what_their_targets_read() {
    let golden = golden();
    let key = device_key().verifying_key();
    for (bytes, _) in &golden {
        assert!(hearth_shared::verify(&key, bytes).is_ok());
    }
    let c = caseload();
    let signed = c.sign(&server_key());
    assert_eq!(
        Caseload::verify(&signed, &server_key().verifying_key(), device(), None),
        Ok(c)
    );
    let request = CaseloadRequest::new(&device_key(), Timestamp(1_795_700_000));
    assert!(request.verify(&key));
}
