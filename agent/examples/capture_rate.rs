//! Measures durable captures per second: `cargo run --release -p
//! hearth-agent --example capture_rate [N] [DIR]`. Each capture is one
//! immediate transaction committed with `synchronous = FULL`, as `record`
//! does, with the body sealed (XChaCha20-Poly1305) and the child indexed
//! as in production; the key is derived once, as a process would. Not a
//! test: the number depends on the disk.

use std::time::Instant;

use hearth_agent::capture::capture_json;
use hearth_agent::clock::SystemClock;
use hearth_agent::keys::DeviceKey;
use hearth_agent::seal::{DataKey, Sealer};
use hearth_agent::store::LocalStore;
use hearth_shared::Text;
use hearth_shared::json::Defaults;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let dir = std::env::args()
        .nth(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("hearth-capture-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the store dir");
    let mut store = LocalStore::open_dir(&dir)
        .expect("open the store")
        .unlocked(Sealer::new(&DataKey::generate(&mut rand_core::OsRng)));
    let key = DeviceKey::generate(&mut rand_core::OsRng);
    let defaults = Defaults {
        author: Text::try_from_str("hv-ann").expect("short"),
        agency: Text::try_from_str("HV-NORTH").expect("short"),
    };
    let json = r#"{"kind":"daily_presentation","children":["nhs:9434765919"],
        "occurred_at":"2026-11-20T08:00:00Z","headline":"Arrived on time",
        "attendance":"present","arrival_time":"08:00"}"#;
    let start = Instant::now();
    for _ in 0..n {
        capture_json(&mut store, &key, &SystemClock::default(), &defaults, json).expect("capture");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} durable captures in {secs:.2} s: {:.0} per second ({})",
        n as f64 / secs,
        dir.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
