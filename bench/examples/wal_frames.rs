//! Figure 3 evidence: WAL bytes written per durable commit by an agent
//! capture and by the bare insert baseline, from the growth of the `-wal`
//! files over 200 commits (4,120 bytes per frame: a 4 KiB page and its
//! header), and which kind of b-tree page each frame holds (table leaf or
//! interior: a rowid table such as `records`; index leaf or interior: an
//! index or a `WITHOUT ROWID` table), read from the frames themselves.
//!
//! ```text
//! cargo run --release -p hearth-bench --example wal_frames
//! ```

use hearth_agent::capture::capture_body;
use hearth_agent::clock::FixedClock;
use hearth_agent::keys::DeviceKey;
use hearth_agent::seal::{DataKey, Sealer};
use hearth_agent::store::LocalStore;
use hearth_bench::micro::{CoreFixture, bare_connection, bench_dir};
use hearth_shared::Timestamp;

const COMMITS: usize = 200;
const FRAME: f64 = 4120.0;

fn wal_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// Frames appended to the WAL at `p` after byte `from`, counted by the
/// b-tree page type in each (SQLite file format, section 1.6): table leaf,
/// table interior, index leaf, index interior, other (overflow, freelist).
fn frame_kinds(p: &std::path::Path, from: u64) -> anyhow::Result<[usize; 5]> {
    let wal = std::fs::read(p)?;
    let page = u32::from_be_bytes(wal[8..12].try_into()?) as usize;
    let mut kinds = [0; 5];
    let mut at = from as usize;
    while at + 24 + page <= wal.len() {
        let number = u32::from_be_bytes(wal[at..at + 4].try_into()?);
        // Page 1 starts with the 100-byte database header.
        let header = if number == 1 { 100 } else { 0 };
        let i = match wal[at + 24 + header] {
            0x0d => 0,
            0x05 => 1,
            0x0a => 2,
            0x02 => 3,
            _ => 4,
        };
        kinds[i] += 1;
        at += 24 + page;
    }
    Ok(kinds)
}

fn describe(kinds: [usize; 5]) -> String {
    let per = |n: usize| n as f64 / COMMITS as f64;
    format!(
        "table leaf {:.2}, table interior {:.2}, index leaf {:.2}, index interior {:.2}, other {:.2}",
        per(kinds[0]),
        per(kinds[1]),
        per(kinds[2]),
        per(kinds[3]),
        per(kinds[4])
    )
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir_in(bench_dir())?;
    let f = CoreFixture::new();
    let agent_dir = dir.path().join("agent");
    std::fs::create_dir_all(&agent_dir)?;
    let mut store =
        LocalStore::open_dir(&agent_dir)?.unlocked(Sealer::new(&DataKey::from_bytes([9u8; 32])));
    let key = DeviceKey::from_signing_key(f.key.clone());
    let clock = FixedClock(Timestamp(1_795_700_000));
    let capture = |store: &mut LocalStore, i: usize| {
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
    let agent_kinds = frame_kinds(&wal, before)?;

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
    let bare_kinds = frame_kinds(&bare_wal, before)?;
    println!(
        "WAL bytes per commit: agent capture {agent:.0} ({:.2} frames), bare insert {bare:.0} ({:.2} frames)",
        agent / FRAME,
        bare / FRAME
    );
    println!("  agent frames per capture: {}", describe(agent_kinds));
    println!("  bare frames per insert:   {}", describe(bare_kinds));
    Ok(())
}
