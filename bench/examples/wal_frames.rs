//! Figure 3 evidence: WAL bytes written per durable commit by an agent
//! capture and by the bare insert baseline, from the growth of the `-wal`
//! files over 200 commits (4,120 bytes per frame: a 4 KiB page and its
//! header).
//!
//! ```text
//! cargo run --release -p hearth-bench --example wal_frames
//! ```

use hearth_agent::capture::capture_body;
use hearth_agent::clock::FixedClock;
use hearth_agent::keys::DeviceKey;
use hearth_agent::seal::{DataKey, Sealer};
use hearth_agent::store::SqliteStore;
use hearth_bench::micro::{CoreFixture, bare_connection, bench_dir};
use hearth_shared::Timestamp;

const COMMITS: usize = 200;
const FRAME: f64 = 4120.0;

fn wal_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir_in(bench_dir())?;
    let f = CoreFixture::new();
    let agent_dir = dir.path().join("agent");
    std::fs::create_dir_all(&agent_dir)?;
    let mut store =
        SqliteStore::open_dir(&agent_dir)?.unlocked(Sealer::new(&DataKey::from_bytes([9u8; 32])));
    let key = DeviceKey::from_signing_key(f.key.clone());
    let clock = FixedClock(Timestamp(1_795_700_000));
    let capture = |store: &mut SqliteStore, i: usize| {
        capture_body(
            store,
            &key,
            &clock,
            f.envelopes[i % f.envelopes.len()].body.clone(),
        )
    };
    capture(&mut store, 0)?;
    let wal = std::fs::read_dir(&agent_dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-wal"))
        .ok_or_else(|| anyhow::anyhow!("the agent store has no -wal file"))?;
    let before = wal_len(&wal);
    for i in 0..COMMITS {
        capture(&mut store, i)?;
    }
    let agent = (wal_len(&wal) - before) as f64 / COMMITS as f64;

    let bare_path = dir.path().join("bare.db");
    let conn = bare_connection(&bare_path)?;
    conn.execute("INSERT INTO records (seq, signed) VALUES (0, x'00')", [])?;
    let bare_wal = dir.path().join("bare.db-wal");
    let before = wal_len(&bare_wal);
    for i in 1..=COMMITS {
        conn.execute(
            "INSERT INTO records (seq, signed) VALUES (?1, ?2)",
            rusqlite::params![i as i64, f.signed[i % f.signed.len()]],
        )?;
    }
    let bare = (wal_len(&bare_wal) - before) as f64 / COMMITS as f64;
    println!(
        "WAL bytes per commit: agent capture {agent:.0} ({:.2} frames), bare insert {bare:.0} ({:.2} frames)",
        agent / FRAME,
        bare / FRAME
    );
    Ok(())
}
