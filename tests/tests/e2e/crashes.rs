//! Scenario 2: kill -9 at random points — the agent in the middle of a
//! capture loop, the agent in the middle of a sync, the server in the
//! middle of ingest; 50 points in all. Every record whose capture reported
//! success ends up in the chronology exactly once.

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::{Duration, Instant};

use hearth_e2e::agent::Agent;
use hearth_e2e::rng::Rng;
use hearth_e2e::server::Server;

use crate::fixture::*;

/// Spawns `args` on `agent`, kills it after `delay` unless it has finished;
/// returns its stdout if it exited successfully by itself.
fn run_or_kill(agent: &Agent, args: &[&str], delay: Duration) -> Option<String> {
    let mut child = agent.spawn(args);
    let deadline = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return status
                .success()
                .then(|| String::from_utf8(out.stdout).unwrap());
        }
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        sleep(Duration::from_micros(200));
    }
}

/// How long `args` takes when left alone, to place kill points inside it.
fn duration_of(agent: &Agent, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = agent.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

fn random_point(rng: &mut Rng, span: Duration) -> Duration {
    let micros = span.as_micros() as u64 * 12 / 10;
    Duration::from_micros(rng.below(micros.max(1)))
}

/// Captures one record from a JSON file; the id if capture reported success.
fn capture(agent: &Agent, file: &std::path::Path, delay: Option<Duration>) -> Option<String> {
    let path = file.to_str().unwrap();
    let args = ["record", "--json", path];
    let out = match delay {
        Some(d) => run_or_kill(agent, &args, d),
        None => Some(agent.run_ok(&args)),
    }?;
    Some(out.trim().to_string())
}

#[test]
fn kill_nine_at_fifty_random_points_loses_nothing_acknowledged() {
    let mut rng = Rng::from_env("crashes");
    let mut server = Server::start();
    let agent = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("record.json");
    let t = now();
    let mut n = 0i64;
    let write_record = |n: &mut i64| {
        *n += 1;
        std::fs::write(
            &file,
            daily(CHILD_A, t - 60 * *n, &format!("Arrival {n}")).to_string(),
        )
        .unwrap();
    };
    let mut acknowledged = Vec::new();

    // 1. The agent killed in the middle of a capture loop: 20 points.
    write_record(&mut n);
    let span = duration_of(&agent, &["record", "--json", file.to_str().unwrap()]);
    let first = agent.list();
    acknowledged.push(first[0]["record_id"].as_str().unwrap().to_string());
    for _ in 0..20 {
        write_record(&mut n);
        let point = random_point(&mut rng, span);
        if let Some(id) = capture(&agent, &file, Some(point)) {
            acknowledged.push(id);
        }
        // The store is usable straight after a kill.
        write_record(&mut n);
        acknowledged.push(capture(&agent, &file, None).unwrap());
    }

    // 2. The agent killed in the middle of a sync: 15 points.
    let span = {
        write_record(&mut n);
        acknowledged.push(capture(&agent, &file, None).unwrap());
        duration_of(&agent, &["sync"])
    };
    for _ in 0..15 {
        for _ in 0..3 {
            write_record(&mut n);
            acknowledged.push(capture(&agent, &file, None).unwrap());
        }
        let point = random_point(&mut rng, span);
        let _ = run_or_kill(&agent, &["sync"], point);
    }

    // 3. The server killed in the middle of ingest: 15 points.
    for _ in 0..15 {
        for _ in 0..3 {
            write_record(&mut n);
            acknowledged.push(capture(&agent, &file, None).unwrap());
        }
        let mut sync = agent.spawn(&["sync"]);
        let point = random_point(&mut rng, span);
        sleep(point);
        server.kill();
        let _ = sync.wait();
        server.restart();
    }

    sync_until_done(&agent, 5);
    // Everything acknowledged is there exactly once; a capture killed after
    // its commit but before it printed may add a record nobody saw
    // acknowledged, which is fine, but never a duplicate.
    let counts = record_counts(&server, CHILD_A);
    for id in &acknowledged {
        assert_eq!(counts.get(id), Some(&1), "{id} exactly once");
    }
    assert!(counts.values().all(|&c| c == 1), "no duplicates");
    let local: BTreeSet<String> = statuses(&agent).into_keys().collect();
    let remote: BTreeSet<String> = counts.into_keys().collect();
    assert_eq!(
        local, remote,
        "the server holds exactly what the tablet holds"
    );
    assert!(statuses(&agent).values().all(|s| s == "synced"));
}
