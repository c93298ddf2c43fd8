//! Power loss for the agent's SQLite (issue 19): no record the agent
//! acknowledged is lost when the power goes, not only on `kill -9`.
//!
//! Each trial, from its own seed:
//! 1. starts from a store that `init` made (the real keyring and settings,
//!    durable on the simulated disk: written long before);
//! 2. captures records through the real capture path
//!    ([`crate::capture::capture_body`], what `record` calls) into the real
//!    [`LocalStore`], opened with its own settings ([`LocalStore::open_on_vfs`]
//!    runs the same `from_connection`) on the crash VFS (`vfs`), closing
//!    and reopening the store now and then (a checkpoint, the WAL deleted
//!    and made anew);
//! 3. cuts the power right after the k-th write/truncate/sync/delete, k
//!    drawn over the whole run; what survives follows the crash model in
//!    `disk` (unsynced writes kept, lost or torn at sectors; new names lost
//!    until the directory is synced);
//! 4. writes the surviving files to a real directory beside the keyring and
//!    opens them as `list` does ([`crate::unlock::open_store`] on the
//!    normal VFS), then checks: `PRAGMA integrity_check` is `ok`; every
//!    capture that returned before the cut is there, byte for byte, in an
//!    unbroken signed chain; at most the one capture in flight is there
//!    besides; and two more captures succeed and chain on (on the copy);
//! 5. goes again from the files the crash left (a second round: the store
//!    recovers the WAL on the crash VFS, captures, and the power goes
//!    again, perhaps mid-recovery), every record listed after the first
//!    crash counted as acknowledged.
//!
//! The negative control runs the same trials with `synchronous = NORMAL`
//! (the WAL default that syncs only at checkpoints) and must find a lost
//! record: the check can fail, and `FULL` is what makes it pass.
//!
//! `HEARTH_POWERLOSS_TRIALS=N` and `HEARTH_POWERLOSS_SEED=S` size a long
//! run (`cargo test -p hearth-agent --lib powerloss -- --nocapture`); a
//! failing trial prints its own seed, and `HEARTH_POWERLOSS_REPLAY=<seed>`
//! runs that trial alone.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use hearth_shared::clock::{Clock, FixedClock};
use hearth_shared::{Body, Seq, Timestamp};

use super::LocalStore;
use crate::capture::capture_body;
use crate::keyring::Keyring;
use crate::keys::DeviceKey;
use crate::outbox::OutboxKey;
use crate::seal::{DataKey, Sealer};
use crate::store::{DB_FILE_NAME as DB_FILE, LocalRecord, RecordStore, StoreError};

mod disk;
mod vfs;

use disk::{Disk, Fate, Rng};

/// A store as `init` leaves it: its files, and the keys to open it.
struct Initialised {
    /// Every file in the store directory after `init` (database, keyring).
    files: BTreeMap<String, Vec<u8>>,
    key: DeviceKey,
    data_key: DataKey,
}

/// Made once per test process (Argon2, even weak, is not free).
fn initialised() -> &'static Initialised {
    static ONCE: OnceLock<Initialised> = OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        crate::app::tests::init_store(dir.path());
        // Enrolled with an outbox key: each capture also seals its record
        // into the outbox, in its own transaction (two b-trees a commit).
        LocalStore::open_dir(dir.path())
            .unwrap()
            .pin_outbox_key(&OUTBOX_KEY, clock().now())
            .unwrap();
        let ring = Keyring::load(dir.path()).unwrap();
        let data_key = ring
            .unwrap_key(crate::app::tests::PASSPHRASE)
            .unwrap()
            .unwrap();
        let key = ring.device_key(&data_key).unwrap();
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            files.insert(name, std::fs::read(entry.path()).unwrap());
        }
        assert!(files.contains_key(DB_FILE), "init made the database");
        Initialised {
            files,
            key,
            data_key,
        }
    })
}

/// The server's outbox key the store is enrolled with (any 32 bytes seal).
const OUTBOX_KEY: OutboxKey = OutboxKey([9; 32]);

/// The database files (what SQLite opens), apart from the keyring.
fn is_database(name: &str) -> bool {
    name.starts_with(DB_FILE)
}

/// What a trial does before the power goes: all from its seed.
#[derive(Debug, Clone)]
struct Plan {
    /// Close and reopen the store before every n-th capture.
    reopen_every: Option<usize>,
    /// Each capture's free-text length (so records span 0–2 pages).
    text_lens: Vec<usize>,
}

impl Plan {
    fn new(rng: &mut Rng) -> Self {
        let captures = 4 + rng.below(20) as usize;
        let reopen_every = (rng.below(2) == 0).then(|| 2 + rng.below(5) as usize);
        let text_lens = (0..captures)
            .map(|_| 1 + rng.below(1000) as usize)
            .collect();
        Self {
            reopen_every,
            text_lens,
        }
    }
}

/// A concern whose `seen_or_said` is `len` bytes.
fn body(len: usize) -> Body {
    let json = crate::capture::tests::CONCERN.replace(
        r#""seen_or_said":"Bruise""#,
        &format!(r#""seen_or_said":"{}""#, "b".repeat(len)),
    );
    hearth_shared::json::parse_body(&json, &crate::capture::tests::defaults()).unwrap()
}

fn clock() -> FixedClock {
    FixedClock(Timestamp(1_800_000_000))
}

/// The SQLite settings the store is opened with: its own, or (the negative
/// control) its own with `synchronous` overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    Store,
    Override(&'static str),
}

fn open_on(vfs: &str, init: &Initialised, sync: Durability) -> Result<LocalStore, StoreError> {
    let store = LocalStore::open_on_vfs(DB_FILE, vfs)?.unlocked(Sealer::new(&init.data_key));
    if let Durability::Override(mode) = sync {
        store.conn.pragma_update(None, "synchronous", mode)?;
    }
    Ok(store)
}

/// Runs `plan` on the VFS `vfs`; every capture that returned is pushed to
/// `acked`. Stops at the first failure (the power went).
fn run_plan(
    vfs: &str,
    plan: &Plan,
    sync: Durability,
    acked: &mut Vec<LocalRecord>,
) -> Result<(), StoreError> {
    let init = initialised();
    let mut store = open_on(vfs, init, sync)?;
    for (i, &len) in plan.text_lens.iter().enumerate() {
        if plan.reopen_every.is_some_and(|n| i > 0 && i % n == 0) {
            drop(store);
            store = open_on(vfs, init, sync)?;
        }
        acked.push(capture_body(&mut store, &init.key, &clock(), body(len))?);
    }
    Ok(())
}

/// The database files that `init` made.
fn initial_files() -> Files {
    initialised()
        .files
        .iter()
        .filter(|(name, _)| is_database(name))
        .map(|(name, bytes)| (name.clone(), bytes.clone()))
        .collect()
}

/// File names and contents.
type Files = BTreeMap<String, Vec<u8>>;

/// What one trial saw, summed over its rounds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Outcome {
    /// Calls made before the cuts.
    calls: u64,
    /// Captures acknowledged (each checked after every later crash too).
    acked: usize,
    /// Captures in flight at a cut that were found stored.
    in_flight_kept: usize,
    /// Cuts after which a WAL was on the disk.
    wal_survived: u64,
    fate: Fate,
}

/// How many times the power goes in one trial: the second cut can fall
/// while the store recovers from the first (the WAL it left behind).
const ROUNDS: usize = 2;

/// One trial: [`ROUNDS`] rounds, each starting from what the last crash
/// left on the disk.
fn trial(seed: u64, sync: Durability) -> Result<Outcome, String> {
    let mut rng = Rng::new(seed);
    let mut files = initial_files();
    // What the worker has seen stored: it must all survive every crash.
    let mut listed = Vec::new();
    let mut outcome = Outcome::default();
    for round in 0..ROUNDS {
        let crash = round_to_crash(&mut rng, &files, sync, &listed)
            .map_err(|e| format!("round {}: {e}", round + 1))?;
        let records = check_survivors(&crash.image, &crash.acked)
            .map_err(|e| format!("round {}: {e}", round + 1))?;
        outcome.acked += crash.acked.len() - listed.len();
        outcome.in_flight_kept += records.len() - crash.acked.len();
        outcome.wal_survived += u64::from(crash.image.contains_key(&format!("{DB_FILE}-wal")));
        outcome.calls += crash.crash_at;
        outcome.fate.add(crash.fate);
        listed = records;
        files = crash.image;
    }
    Ok(outcome)
}

/// What a round left when the power went.
struct Crash {
    /// The files on the disk.
    image: Files,
    /// `listed`, then every capture that returned before the cut.
    acked: Vec<LocalRecord>,
    /// What became of the unsynced writes.
    fate: Fate,
    /// The call after which the power went.
    crash_at: u64,
}

/// One round from `files`: a plan, the calls a clean run makes, and the
/// run again with the power cut after a random one of them.
fn round_to_crash(
    rng: &mut Rng,
    files: &Files,
    sync: Durability,
    listed: &[LocalRecord],
) -> Result<Crash, String> {
    let plan = Plan::new(rng);
    let seed = rng.next();
    let clean = Arc::new(Mutex::new(Disk::new(files.clone(), None, seed)));
    let mut acked = listed.to_vec();
    run_plan(&vfs::register(clean.clone(), seed), &plan, sync, &mut acked)
        .map_err(|e| format!("the run without a crash failed: {e}"))?;
    let calls = lock(&clean).calls();
    let crash_at = 1 + rng.below(calls);
    let disk = Arc::new(Mutex::new(Disk::new(files.clone(), Some(crash_at), seed)));
    acked.truncate(listed.len());
    // The run stops with an I/O error at the cut.
    let _ = run_plan(&vfs::register(disk.clone(), seed), &plan, sync, &mut acked);
    let disk = lock(&disk);
    let image = disk
        .image()
        .ok_or_else(|| format!("the power never went (call {crash_at} of {calls})"))?;
    Ok(Crash {
        image: image.clone(),
        acked,
        fate: disk.fate(),
        crash_at,
    })
}

fn lock(disk: &Mutex<Disk>) -> std::sync::MutexGuard<'_, Disk> {
    disk.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes `image` beside the keyring in a new directory, opens it as the
/// agent does, and checks it; returns the records it lists (before the
/// two captures that show capturing goes on).
fn check_survivors(image: &Files, acked: &[LocalRecord]) -> Result<Vec<LocalRecord>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let keyring = initialised().files.iter().filter(|(n, _)| !is_database(n));
    for (name, bytes) in keyring.chain(image) {
        write_private(&dir.path().join(name), bytes).map_err(|e| e.to_string())?;
    }
    let (mut store, key) = crate::unlock::open_store(dir.path(), crate::app::tests::PASSPHRASE)
        .map_err(|e| format!("the store does not open after the crash: {e}"))?;
    integrity_ok(&store)?;
    let records = store.all().map_err(|e| format!("list fails: {e}"))?;
    check_chain(&key, &records)?;
    for want in acked {
        let got = records.get(want.seq.0 as usize - 1);
        if got.map(|r| &r.signed) != Some(&want.signed) {
            return Err(format!(
                "acknowledged record {} is lost or changed",
                want.seq
            ));
        }
    }
    outbox_holds(&store, acked)?;
    if records.len() > acked.len() + 1 {
        return Err(format!(
            "{} records after the crash, {} acknowledged: more than the one in flight",
            records.len(),
            acked.len()
        ));
    }
    captures_continue(&mut store, &key, records.len())?;
    drop(store);
    reopened_holds(dir.path(), records.len() + 2)?;
    Ok(records)
}

/// Writes `bytes` to a new file only its owner can read (as the agent
/// keeps its store; it refuses a keyring others can read).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

/// Every acknowledged record's sealed box is in the outbox (a locked sync
/// can send it).
fn outbox_holds(store: &LocalStore, acked: &[LocalRecord]) -> Result<(), String> {
    let boxes = store
        .outbox_boxes(Seq(0), 1 << 20)
        .map_err(|e| format!("the outbox fails: {e}"))?;
    for want in acked {
        if !boxes.iter().any(|(seq, _)| *seq == want.seq) {
            return Err(format!(
                "acknowledged record {} has no outbox box",
                want.seq
            ));
        }
    }
    Ok(())
}

fn integrity_ok(store: &LocalStore) -> Result<(), String> {
    let mut stmt = store
        .conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| e.to_string())?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(Iterator::collect)
        .map_err(|e| e.to_string())?;
    if rows != ["ok"] {
        return Err(format!("integrity_check: {rows:?}"));
    }
    Ok(())
}

/// Seqs 1..=n, each record verifying under the device key and naming the
/// one before it.
fn check_chain(key: &DeviceKey, records: &[LocalRecord]) -> Result<(), String> {
    let mut prev = hearth_shared::RecordHash::GENESIS;
    for (i, record) in records.iter().enumerate() {
        if record.seq.0 != i as u64 + 1 {
            return Err(format!("record {i} of the list has seq {}", record.seq));
        }
        let verified = hearth_shared::verify(&key.verifying_key(), &record.signed)
            .map_err(|e| format!("record {} does not verify: {e}", record.seq))?;
        if verified.envelope().prev != prev || verified.hash() != record.hash {
            return Err(format!("record {} breaks the chain", record.seq));
        }
        prev = record.hash;
    }
    Ok(())
}

fn captures_continue(store: &mut LocalStore, key: &DeviceKey, held: usize) -> Result<(), String> {
    for n in 1..=2 {
        let record = capture_body(store, key, &clock(), body(10))
            .map_err(|e| format!("capture after the crash fails: {e}"))?;
        if record.seq.0 != (held + n) as u64 {
            return Err(format!("capture after the crash got seq {}", record.seq));
        }
    }
    Ok(())
}

fn reopened_holds(dir: &Path, want: usize) -> Result<(), String> {
    let (store, key) = crate::unlock::open_store(dir, crate::app::tests::PASSPHRASE)
        .map_err(|e| format!("reopening after the new captures: {e}"))?;
    integrity_ok(&store)?;
    let records = store.all().map_err(|e| e.to_string())?;
    check_chain(&key, &records)?;
    if records.len() != want {
        return Err(format!(
            "{} records after reopening, {want} expected",
            records.len()
        ));
    }
    Ok(())
}

/// Totals over a run of trials.
#[derive(Debug, Default)]
struct Tally {
    trials: u64,
    failures: Vec<(u64, String)>,
    acked: usize,
    in_flight_kept: usize,
    wal_survived: u64,
    calls: u64,
    fate: Fate,
}

impl Tally {
    fn summary(&self) -> String {
        format!(
            "{} trials of {ROUNDS} crashes: {} acknowledged records checked, {} in-flight records \
             kept, WAL present after {} crashes, {} calls before the cuts; unsynced writes kept {} \
             / lost {} / torn {}; {} failures",
            self.trials,
            self.acked,
            self.in_flight_kept,
            self.wal_survived,
            self.calls,
            self.fate.kept,
            self.fate.lost,
            self.fate.torn,
            self.failures.len()
        )
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// Runs `trials` trials from `seed` (each trial's seed derived from it).
fn run_trials(trials: u64, seed: u64, sync: Durability) -> Tally {
    let mut seeds = Rng::new(seed);
    let mut tally = Tally::default();
    for _ in 0..trials {
        let trial_seed = seeds.next();
        tally.trials += 1;
        match trial(trial_seed, sync) {
            Ok(o) => {
                tally.acked += o.acked;
                tally.in_flight_kept += o.in_flight_kept;
                tally.wal_survived += o.wal_survived;
                tally.calls += o.calls;
                tally.fate.add(o.fate);
            }
            Err(e) => tally.failures.push((trial_seed, e)),
        }
        if tally.trials % 100 == 0 {
            eprintln!("powerloss progress: {}", tally.summary());
        }
    }
    tally
}

const DEFAULT_TRIALS: u64 = 20;
const DEFAULT_SEED: u64 = 0x1919;

#[test]
fn no_acknowledged_record_is_lost_when_the_power_goes() {
    if let Some(replay) = env_u64("HEARTH_POWERLOSS_REPLAY") {
        let outcome = trial(replay, Durability::Store);
        eprintln!("powerloss: trial seed {replay:#x}: {outcome:?}");
        assert!(outcome.is_ok());
        return;
    }
    let trials = env_u64("HEARTH_POWERLOSS_TRIALS").unwrap_or(DEFAULT_TRIALS);
    let seed = env_u64("HEARTH_POWERLOSS_SEED").unwrap_or(DEFAULT_SEED);
    let t = run_trials(trials, seed, Durability::Store);
    eprintln!("powerloss (seed {seed:#x}): {}", t.summary());
    for (s, e) in &t.failures {
        eprintln!("  trial seed {s:#x}: {e}; replay: HEARTH_POWERLOSS_REPLAY={s:#x}");
    }
    assert!(t.failures.is_empty(), "{:?}", t.failures);
    assert!(
        t.fate.lost > 0 && t.fate.torn > 0,
        "the cuts dropped and tore writes"
    );
}

#[test]
fn the_check_finds_the_loss_that_synchronous_normal_allows() {
    let t = run_trials(10, DEFAULT_SEED, Durability::Override("NORMAL"));
    let lost = t
        .failures
        .iter()
        .filter(|(_, e)| e.contains("is lost"))
        .count();
    eprintln!(
        "powerloss, synchronous = NORMAL: {lost} of {} trials lost an acknowledged record",
        t.trials
    );
    assert!(
        lost > 0,
        "WAL with synchronous = NORMAL can lose a returned commit: {} trials found none",
        t.trials
    );
}
