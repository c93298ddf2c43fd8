//! Scenario: a connection flood before authentication. 256 hostile TLS
//! connections from four loopback addresses, half sending 4 MiB bodies as
//! fast as they can and half trickling a body a byte at a time, for a few
//! seconds, reconnecting whenever the server lets go. Throughout, a health
//! probe from another address (127.0.0.2) is answered within 1 s, and the
//! server's resident memory (`VmHWM`, the peak, and `VmRSS`, now, from
//! `/proc/<pid>/status`) stays at most 256 MiB, during the attack and after.
//!
//! The probe comes from an address no attacker uses: the server limits
//! connections per source address, so a probe from an attacker's own
//! address may be refused, which is the point of the limit.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hearth_e2e::server::Server;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use socket2::{Domain, Socket, Type};

/// Hostile connections at once.
const ATTACKERS: usize = 256;
/// Source addresses they come from.
const ATTACKER_ADDRS: [&str; 4] = ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"];
/// How long the attack lasts.
const ATTACK: Duration = Duration::from_secs(4);
/// The body each attacker announces.
const BODY: usize = 4 * 1024 * 1024;
/// The ceiling on the server's resident memory.
const CEILING_KIB: u64 = 256 * 1024;
/// The health probe's bound.
const HEALTH_BOUND: Duration = Duration::from_secs(1);

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn tls_config(data: &Path) -> Arc<ClientConfig> {
    let pem = std::fs::read(data.join("tls/cert.pem")).expect("the server wrote tls/cert.pem");
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.expect("a PEM certificate")).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A TLS connection to `to` from the loopback address `from`, with
/// `timeout` on connecting, reads and writes.
fn connect(
    from: IpAddr,
    to: SocketAddr,
    cfg: &Arc<ClientConfig>,
    timeout: Duration,
) -> std::io::Result<Tls> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(from, 0).into())?;
    socket.connect_timeout(&to.into(), timeout)?;
    let tcp: TcpStream = socket.into();
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(cfg.clone(), name).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    // Finish the handshake now, so a refused connection fails here.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// `GET /v1/health` from `from` on a fresh connection: how long it took,
/// or why it failed.
fn health(from: IpAddr, to: SocketAddr, cfg: &Arc<ClientConfig>) -> Result<Duration, String> {
    let started = Instant::now();
    let mut tls = connect(from, to, cfg, HEALTH_BOUND).map_err(|e| format!("connect: {e}"))?;
    tls.write_all(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    if !(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok")) {
        return Err(format!("answer: {answer:?}"));
    }
    Ok(started.elapsed())
}

/// One attacker until `until`: it connects (again every 100 ms while the
/// server refuses or drops it), announces a 4 MiB batch and sends it, fast
/// or a byte every 200 ms; a fast sender then holds its connection open.
fn attack(from: IpAddr, to: SocketAddr, cfg: Arc<ClientConfig>, trickle: bool, until: Instant) {
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-hearth-batch\r\nContent-Length: {BODY}\r\n\r\n"
    );
    let chunk = vec![0u8; 64 * 1024];
    while Instant::now() < until {
        let Ok(mut tls) = connect(from, to, &cfg, Duration::from_secs(2)) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let mut sent = 0;
        let mut ok = tls.write_all(head.as_bytes()).is_ok();
        while ok && sent < BODY && Instant::now() < until {
            let n = if trickle {
                1
            } else {
                chunk.len().min(BODY - sent)
            };
            ok = tls
                .write_all(&chunk[..n])
                .and_then(|()| tls.flush())
                .is_ok();
            sent += n;
            if trickle {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        if ok && sent == BODY {
            // Read the answer (503 busy, or 400 for a body of zeros), then
            // hold the connection.
            let mut sink = [0u8; 4096];
            let _ = tls.read(&mut sink);
            if let Some(rest) = until.checked_duration_since(Instant::now()) {
                std::thread::sleep(rest);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `VmHWM` and `VmRSS` of `pid`, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[test]
fn a_flood_of_unauthenticated_connections_neither_starves_health_nor_exhausts_memory() {
    let server = Server::start();
    let pid = server.pid();
    let to = SocketAddr::new("127.0.0.1".parse().unwrap(), server.addr().port());
    let cfg = tls_config(server.data());
    let prober: IpAddr = "127.0.0.2".parse().unwrap();
    health(prober, to, &cfg).expect("health answers before the attack");
    let (_, before) = memory(pid);

    let until = Instant::now() + ATTACK;
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            let from: IpAddr = ATTACKER_ADDRS[i % ATTACKER_ADDRS.len()].parse().unwrap();
            let cfg = cfg.clone();
            std::thread::spawn(move || attack(from, to, cfg, i % 2 == 1, until))
        })
        .collect();

    // Let the flood build, then probe and measure until it ends.
    std::thread::sleep(Duration::from_millis(500));
    let mut slowest = Duration::ZERO;
    let mut failures = Vec::new();
    let mut probes = 0;
    let mut peak_rss = 0;
    while Instant::now() + Duration::from_millis(300) < until {
        probes += 1;
        match health(prober, to, &cfg) {
            Ok(took) if took <= HEALTH_BOUND => slowest = slowest.max(took),
            Ok(took) => failures.push(format!("took {took:?}")),
            Err(e) => failures.push(e),
        }
        peak_rss = peak_rss.max(memory(pid).1);
        std::thread::sleep(Duration::from_millis(150));
    }
    for a in attackers {
        a.join().unwrap();
    }
    let (hwm, during_end) = memory(pid);
    // The server lets go of what the attack made it hold.
    std::thread::sleep(Duration::from_secs(1));
    let (_, after) = memory(pid);
    eprintln!(
        "flood: {probes} health probes, slowest {slowest:?}; RSS before {before} KiB, peak sampled {peak_rss} KiB, VmHWM {hwm} KiB, at the end {during_end} KiB, 1 s later {after} KiB"
    );
    assert!(
        failures.is_empty(),
        "health did not answer within {HEALTH_BOUND:?} during the flood ({} of {probes}): {failures:?}",
        failures.len()
    );
    assert!(probes >= 5, "only {probes} probes ran");
    assert!(
        hwm <= CEILING_KIB,
        "peak resident memory {hwm} KiB is over {CEILING_KIB} KiB"
    );
    assert!(
        after <= CEILING_KIB,
        "resident memory after the flood {after} KiB is over {CEILING_KIB} KiB"
    );
    let took = health(prober, to, &cfg).expect("health answers after the attack");
    assert!(took <= HEALTH_BOUND, "{took:?}");
    assert!(server.admin_ok(&["devices"]).starts_with("DEVICE"));
}
