//! `list --child` on a full tablet: [`RecordStore::for_child`] over 10,000
//! records naming 1–3 of 300 children (about 67 records a child), beside
//! [`RecordStore::all`] (every record opened) and [`RecordStore::get`] (one
//! record) on the same store, so the figure can be read as a ratio in one
//! run on a noisy machine.
//!
//! ```text
//! cargo bench -p hearth-agent --bench child_lookup
//! ```
//!
//! The store goes under `$HEARTH_BENCH_DIR` (default: the system temp dir).
//! Building it is 10,000 durable captures, so allow a few seconds.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use hearth_agent::capture::capture_body;
use hearth_agent::clock::FixedClock;
use hearth_agent::keys::DeviceKey;
use hearth_agent::seal::{DataKey, Sealer};
use hearth_agent::store::{LocalStore, RecordStore};
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::{ChildRef, Seq, Text, Timestamp};

const RECORDS: usize = 10_000;
const CHILDREN: u64 = 300;

fn bench_dir() -> PathBuf {
    std::env::var_os("HEARTH_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

fn child(n: u64) -> String {
    format!("local:bench:child-{n:04}")
}

/// A deterministic xorshift: the same store on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn body_json(rng: &mut Rng, i: usize) -> String {
    let mut children: Vec<String> = Vec::new();
    let n = 1 + rng.below(3);
    while children.len() < n as usize {
        let c = child(rng.below(CHILDREN));
        if !children.contains(&c) {
            children.push(c);
        }
    }
    let words = "Seen at the door; mother said the night had been hard. ".repeat(1 + i % 5);
    serde_json::json!({
        "kind": "concern",
        "children": children,
        "occurred_at": "2026-11-20T10:30:00Z",
        "headline": format!("Visit note {i}"),
        "category": "physical",
        "seen_or_said": words,
        "action": "none",
        "action_detail": "watch",
    })
    .to_string()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: LocalStore,
    child: ChildRef,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir_in(bench_dir()).expect("bench dir");
    let mut store = LocalStore::open_dir(dir.path())
        .expect("store")
        .unlocked(Sealer::new(&DataKey::from_bytes([9u8; 32])));
    let key = DeviceKey::from_signing_key(SigningKey::from_bytes(&[7u8; 32]));
    let clock = FixedClock(Timestamp(1_795_700_000));
    let defaults = Defaults {
        author: Text::try_from_str("hv-ann").expect("author"),
        agency: Text::try_from_str("HV-NORTH").expect("agency"),
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..RECORDS {
        let body = parse_body(&body_json(&mut rng, i), &defaults).expect("a valid body");
        capture_body(&mut store, &key, &clock, body).expect("capture");
    }
    let child: ChildRef = child(42).parse().expect("child");
    let found = store.for_child(&child).expect("for_child").len();
    assert!(found > 20, "child 42 is named by {found} records");
    Fixture {
        _dir: dir,
        store,
        child,
    }
}

fn child_lookup(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("list_child_10k");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("for_child", |b| {
        b.iter(|| f.store.for_child(&f.child).expect("for_child").len())
    });
    g.bench_function("all", |b| b.iter(|| f.store.all().expect("all").len()));
    g.bench_function("get_one", |b| {
        b.iter(|| f.store.get(Seq(5_000)).expect("get").is_some())
    });
    g.finish();
}

criterion_group!(benches, child_lookup);
criterion_main!(benches);
