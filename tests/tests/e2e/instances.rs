//! Several instances (issue 18): two `hearth-server serve` processes of one
//! partnership on one PostgreSQL database, sharing their keys and
//! certificate ([`Server::start_instance_of`]), with tablets syncing
//! through whichever one a stand-in load balancer ([`Switch`]) points at.
//!
//! - four tablets capture and sync at once, each sync sent to a randomly
//!   chosen instance;
//! - a retry of a batch whose answer was lost lands on the other instance;
//! - an instance dies in the middle of ingest (the `HEARTH_FAULT` hook,
//!   aborting with the transaction open, and `kill -9` at a random point
//!   after a backlog's first batch is stored), and the other finishes the
//!   sync.
//!
//! Each ends with every record a tablet marked synced in the database
//! exactly once, no record held or alarm raised, and no gap left. Also:
//! `GET /v1/health` answers 503 when an instance's database is gone.
//!
//! These need PostgreSQL, so they run in the PostgreSQL pass
//! (`HEARTH_TEST_BACKEND=postgres`, which `scripts/test.sh` runs after the
//! SQLite one) and say loudly in the SQLite pass that they are skipped
//! there ([`hearth_testpg::postgres_pass`]), rather than run twice.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hearth_e2e::agent::Agent;
use hearth_e2e::http;
use hearth_e2e::proxy::{Fault, FaultProxy};
use hearth_e2e::rng::Rng;
use hearth_e2e::server::Server;
use serde_json::Value;

use crate::fixture::*;

/// A stand-in load balancer for one tablet: a TCP forwarder whose target
/// the test sets before each sync (TLS passes through, as in TCP mode;
/// both instances present the same certificate, so the tablet's pin
/// holds whichever answers). Counts the connections each target took.
pub(crate) struct Switch {
    addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    taken: Arc<Mutex<Vec<(SocketAddr, usize)>>>,
}

impl Switch {
    pub(crate) fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let taken = Arc::new(Mutex::new(Vec::new()));
        let (to, counts) = (target.clone(), taken.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let upstream = *to.lock().unwrap();
                count(&counts, upstream);
                thread::spawn(move || forward(client, upstream));
            }
        });
        Self {
            addr,
            target,
            taken,
        }
    }

    /// The URL a tablet enrols with.
    pub(crate) fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Sends the next connections to `to`.
    pub(crate) fn point_at(&self, to: SocketAddr) {
        *self.target.lock().unwrap() = to;
    }

    /// Connections `to` took so far.
    fn taken_by(&self, to: SocketAddr) -> usize {
        let taken = self.taken.lock().unwrap();
        taken.iter().find(|(a, _)| *a == to).map_or(0, |(_, n)| *n)
    }
}

fn count(counts: &Mutex<Vec<(SocketAddr, usize)>>, to: SocketAddr) {
    let mut counts = counts.lock().unwrap();
    match counts.iter_mut().find(|(a, _)| *a == to) {
        Some((_, n)) => *n += 1,
        None => counts.push((to, 1)),
    }
}

/// Copies bytes both ways until either side closes.
fn forward(client: TcpStream, upstream: SocketAddr) {
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    };
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = thread::spawn(move || pipe(c2, s2));
    pipe(server, client);
    let _ = up.join();
}

/// Two instances of the default partnership on a fresh database.
fn two_instances() -> (Server, Server) {
    let database = hearth_testpg::cluster().fresh_database();
    let first = Server::start_partnership(&database, "default");
    let second = Server::start_instance_of(&first);
    assert_eq!(first.database(), second.database(), "one database");
    assert_eq!(
        first.fingerprint(),
        second.fingerprint(),
        "both instances present the same certificate, so one pin holds for both"
    );
    (first, second)
}

/// A tablet enrolled through its own [`Switch`], which points at `at`.
fn tablet(server: &Server, worker: &str, at: SocketAddr) -> (Agent, Switch) {
    let switch = Switch::start(at);
    let agent = enrolled(server, "HV-NORTH", worker, 0, Some(switch.url()));
    (agent, switch)
}

/// The ids of the agent's records it shows as synced.
fn synced(agent: &Agent) -> Vec<String> {
    statuses(agent)
        .into_iter()
        .filter(|(_, s)| s == "synced")
        .map(|(id, _)| id)
        .collect()
}

/// Every record a tablet marked synced is in the database exactly once
/// (and nothing else is); nothing held, no alarm (no false fork); no gap.
fn assert_whole(server: &Server, child: &str, agents: &[&Agent]) {
    let mut ids = Vec::new();
    for agent in agents {
        let all = statuses(agent);
        assert!(
            all.values().all(|s| s == "synced"),
            "every record synced: {all:?}"
        );
        ids.extend(synced(agent));
    }
    assert_exactly_once(server, child, &ids);
    let quarantine: Value = serde_json::from_str(&server.admin_ok(&[
        "quarantine",
        "--json",
        "--reason",
        "end-to-end test",
    ]))
    .expect("quarantine --json");
    assert_eq!(quarantine["held"], Value::Array(vec![]), "nothing held");
    assert_eq!(
        quarantine["alarms"],
        Value::Array(vec![]),
        "no alarm: no fork falsely raised"
    );
    let devices: Value =
        serde_json::from_str(&server.admin_ok(&["devices", "--json"])).expect("devices --json");
    let devices = devices.as_array().expect("a device list");
    assert_eq!(devices.len(), agents.len());
    for d in devices {
        assert_eq!(d["gaps"], Value::Array(vec![]), "no gap left: {d}");
    }
}

#[test]
fn four_tablets_sync_at_once_each_sync_to_a_random_instance() {
    if !hearth_testpg::postgres_pass() {
        return;
    }
    let mut rng = Rng::from_env("instances");
    let (first, second) = two_instances();
    let instances = [first.addr(), second.addr()];
    const ROUNDS: usize = 4;
    let tablets: Vec<(Agent, Switch, Rng)> = (0..4)
        .map(|i| {
            let (agent, switch) = tablet(&first, &format!("hv.{i}"), instances[i % 2]);
            (agent, switch, Rng::new(rng.next_u64()))
        })
        .collect();
    let t = now();
    thread::scope(|s| {
        for (i, (agent, switch, rng)) in tablets.iter().enumerate() {
            let mut rng = rng.clone();
            s.spawn(move || {
                // Each instance takes half the syncs, in a random order.
                let mut picks: Vec<usize> = (0..ROUNDS).map(|r| r % 2).collect();
                rng.shuffle(&mut picks);
                for (round, pick) in picks.into_iter().enumerate() {
                    for k in 0..3 {
                        let n = (round * 3 + k) as i64;
                        agent.record(&daily(
                            CHILD_A,
                            t - 60 * n - i as i64,
                            &format!("Tablet {i} arrival {n}"),
                        ));
                    }
                    switch.point_at(instances[pick]);
                    assert_eq!(agent.sync(), 0, "tablet {i}, round {round}");
                }
            });
        }
    });
    for (agent, switch, _) in &tablets {
        assert_eq!(synced(agent).len(), 3 * ROUNDS);
        for at in instances {
            assert!(switch.taken_by(at) > 0, "{at} took syncs");
        }
    }
    let agents: Vec<&Agent> = tablets.iter().map(|(a, _, _)| a).collect();
    assert_whole(&first, CHILD_A, &agents);
    // Both instances read the one database.
    assert_eq!(
        record_counts(&first, CHILD_A),
        record_counts(&second, CHILD_A)
    );
}

#[test]
fn a_retry_of_the_same_batch_lands_on_the_other_instance() {
    if !hearth_testpg::postgres_pass() {
        return;
    }
    let (first, second) = two_instances();
    // The first instance commits, but its answer never reaches the tablet.
    let proxy = FaultProxy::start(first.addr());
    let (agent, switch) = tablet(&first, "hv.retry", proxy.addr());
    let t = now();
    let ids: Vec<String> = (0..5)
        .map(|i| agent.record(&concern(CHILD_A, t - 300 * i, &format!("Concern {i}"))))
        .collect();
    proxy.queue(&[Fault::DropResponse]);
    assert_eq!(agent.sync(), 3, "the answer was lost: unreachable");
    assert!(
        statuses(&agent).values().all(|s| s == "pending"),
        "nothing marked synced without a receipt"
    );
    assert_eq!(
        record_counts(&first, CHILD_A).len(),
        5,
        "the first instance committed the batch"
    );

    // The tablet resends the same batch; this time the second instance
    // answers: every record is a duplicate it accepts, none is a fork.
    switch.point_at(second.addr());
    assert_eq!(agent.sync(), 0);
    assert!(
        switch.taken_by(second.addr()) > 0,
        "the retry went to the second"
    );
    assert_eq!(synced(&agent).len(), ids.len());
    assert_whole(&second, CHILD_A, &[&agent]);
}

/// Captures `n` records for `agent` (a backlog to upload).
fn backlog(agent: &Agent, n: i64, what: &str) {
    let t = now();
    for i in 0..n {
        agent.record(&daily(CHILD_A, t - 30 * i, &format!("{what} {i}")));
    }
}

#[test]
fn an_instance_dying_mid_ingest_leaves_the_other_to_finish() {
    if !hearth_testpg::postgres_pass() {
        return;
    }
    let mut rng = Rng::from_env("instances-kill");
    let (first, mut second) = two_instances();

    // 1. The second instance aborts with the batch decided and its
    // transaction open (the device's row locked): nothing it was sent is
    // committed, and the first instance takes the same batch at once.
    second.kill();
    second.set_env("HEARTH_FAULT", Some("abort-before-commit"));
    second.restart();
    // Enrolled through the first (the hook aborts before any commit).
    let (agent, switch) = tablet(&first, "hv.abort", first.addr());
    backlog(&agent, 20, "Before the abort");
    switch.point_at(second.addr());
    assert_eq!(agent.sync(), 3, "the instance died before answering");
    assert!(
        second.exits_within(Duration::from_secs(10)),
        "the fault hook stopped the instance"
    );
    assert!(
        record_counts(&first, CHILD_A).is_empty(),
        "nothing committed"
    );
    switch.point_at(first.addr());
    let started = Instant::now();
    assert_eq!(agent.sync(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the dead instance's lock was released at once: {:?}",
        started.elapsed()
    );

    // 2. `kill -9` while a backlog of two batches (of 100) uploads through
    // the second instance: once the first batch is in the database (ingest
    // has begun), at a random point of the next 100 ms. The first
    // instance finishes.
    second.kill();
    second.set_env("HEARTH_FAULT", None);
    second.restart();
    let (other, other_switch) = tablet(&first, "hv.kill", second.addr());
    backlog(&other, 150, "Backlog");
    let cluster = hearth_testpg::cluster();
    let look = cluster.superuser_url(first.database().expect("on PostgreSQL"));
    let stored = || -> u64 {
        let n = cluster.query_one(&look, "SELECT count(*) FROM hearth_default.records");
        n.expect("count the records").parse().expect("a count")
    };
    let before = stored();
    let mut sync = other.spawn(&["sync"]);
    let started = Instant::now();
    while stored() == before {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first batch was never stored"
        );
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(rng.below(100)));
    second.kill();
    let at_kill = stored() - before;
    let interrupted = sync.wait().unwrap();
    eprintln!(
        "instances-kill: killed {:?} after the sync began, {at_kill} of 150 stored; that sync exited {:?}",
        started.elapsed(),
        interrupted.code()
    );
    other_switch.point_at(first.addr());
    sync_until_done(&other, 3);
    assert_whole(&first, CHILD_A, &[&agent, &other]);
}

#[test]
fn health_is_503_when_the_database_is_gone() {
    if !hearth_testpg::postgres_pass() {
        return;
    }
    let cluster = hearth_testpg::cluster();
    let database = cluster.fresh_database();
    let server = Server::start_partnership(&database, "default");
    let client = http::client(server.data());
    let health = || {
        let mut r = client
            .get(format!("{}/v1/health", server.url()))
            .call()
            .expect("an answer");
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    assert_eq!(health(), (200, "ok".to_string()));

    let name = database.rsplit('/').next().unwrap().to_string();
    cluster
        .execute(
            &cluster.admin_url(),
            &[&format!("DROP DATABASE {name} WITH (FORCE)")],
        )
        .expect("drop the database under the running instance");
    let started = Instant::now();
    assert_eq!(health(), (503, "database unavailable".to_string()));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered within the check's own bound: {:?}",
        started.elapsed()
    );
}
