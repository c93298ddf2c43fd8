//! Writes the seeds of the server's targets into `fuzz/seeds/<target>/`:
//! `cargo run --manifest-path fuzz/Cargo.toml --example server_seeds`.
//!
//! From the docs and the golden vectors: the record examples of
//! `docs/records.md` signed as an enrolled device's chain and sent as one
//! authenticated batch (and the golden vectors of `shared/tests/golden/`,
//! signed by a key the server does not know), the enrolment body of
//! `docs/api.md`, an outbox upload of sealed records, and
//! `docs/people.example.csv`. Each target's first byte picks its mode (see
//! the targets); the structure-aware modes get a few byte patterns.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../fuzz_targets/server/mod.rs"]
mod server;

use hearth_fuzz::golden;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::kinds::RecordKind;
use hearth_shared::protocol::{OutboxUpload, UploadBatch, seal_record};
use hearth_shared::{DeviceId, Envelope, RecordHash, Seq, SignedRecord, Timestamp};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The JSON examples of docs/records.md, in order: the `record_json`
/// target's seeds, which `shared/tests/fuzz_seeds.rs` takes from the docs
/// (and fails on when they are stale).
fn doc_examples() -> Vec<String> {
    RecordKind::WORDS
        .iter()
        .map(|kind| {
            std::fs::read_to_string(repo(&format!("fuzz/seeds/record_json/{kind}.json"))).unwrap()
        })
        .collect()
}

/// The docs' examples as device `seed`'s chain, seq 1.., linked.
fn doc_chain(seed: u8) -> Vec<Vec<u8>> {
    let key = server::key(seed);
    let defaults = Defaults {
        author: "w".try_into().unwrap(),
        agency: "A".try_into().unwrap(),
    };
    let mut prev = RecordHash::GENESIS;
    let mut out = Vec::new();
    for (i, json) in doc_examples().iter().enumerate() {
        let Ok(body) = parse_body(json, &defaults) else {
            continue;
        };
        let env = Envelope {
            version: body.format_version(),
            device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
            seq: Seq(out.len() as u64 + 1),
            prev,
            device_time: Timestamp(server::NOW.0 - 3_600 + 60 * i as i64),
            body,
        };
        let Ok(signed) = SignedRecord::sign(&key, &env) else {
            continue;
        };
        prev = signed.hash();
        out.push(signed.into_bytes());
    }
    out
}

/// A few byte patterns for the structure-aware modes.
fn patterns(mode: u8) -> Vec<(String, Vec<u8>)> {
    [(64usize, 1u8), (256, 7), (1024, 31)]
        .into_iter()
        .map(|(len, step)| {
            let mut b = vec![mode];
            b.extend((0..len).map(|i| (i as u8).wrapping_mul(step)));
            (format!("structured-{mode}-{len}-{step}"), b)
        })
        .collect()
}

fn write(target: &str, seeds: Vec<(String, Vec<u8>)>) {
    let dir = repo("fuzz/seeds").join(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn with_mode(mode: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![mode];
    out.extend_from_slice(bytes);
    out
}

fn main() {
    let device = server::ENROLLED[0];
    let chain = doc_chain(device);
    let batch = UploadBatch::new(&server::key(device), server::NOW, chain.clone());
    let foreign = UploadBatch::new(
        &server::key(device),
        server::NOW,
        golden().iter().map(|g| g.signed.clone()).collect(),
    );
    let mut sync = vec![
        (
            "raw-docs-batch".to_string(),
            with_mode(0, &postcard::to_allocvec(&batch).unwrap()),
        ),
        (
            "raw-golden-batch".to_string(),
            with_mode(0, &postcard::to_allocvec(&foreign).unwrap()),
        ),
    ];
    sync.extend(patterns(1));
    write("sync_request", sync);

    let recipient = server::Template::get().outbox_public();
    let boxes = chain
        .iter()
        .enumerate()
        .map(|(i, r)| seal_record(&recipient, [i as u8 + 1; 32], [i as u8; 24], r))
        .collect();
    let upload = OutboxUpload {
        device: batch.device,
        boxes,
    };
    let enrol = serde_json::json!({
        "token": server::TOKENS[0],
        "public_key": server::key(200).verifying_key().as_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>(),
    });
    let mut bodies = vec![
        (
            "raw-enrol".to_string(),
            with_mode(0, enrol.to_string().as_bytes()),
        ),
        (
            "raw-outbox".to_string(),
            with_mode(2, &postcard::to_allocvec(&upload).unwrap()),
        ),
    ];
    bodies.extend(patterns(1));
    bodies.extend(patterns(3));
    write("device_bodies", bodies);

    let csv = std::fs::read_to_string(repo("docs/people.example.csv")).unwrap();
    let header = csv.lines().next().unwrap().to_string();
    let mut people = vec![
        ("raw-example".to_string(), with_mode(0, csv.as_bytes())),
        ("raw-header".to_string(), with_mode(0, header.as_bytes())),
    ];
    people.extend(patterns(1));
    write("people_csv", people);

    let reconcile = patterns(0)
        .into_iter()
        .map(|(name, mut b)| {
            b.remove(0);
            (name, b)
        })
        .collect();
    write("reconcile", reconcile);
}
