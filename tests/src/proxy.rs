//! [`FaultProxy`]: a TCP proxy between agent and server that injects faults.
//!
//! TLS runs end to end through the proxy, so the proxy cannot read HTTP.
//! It can read TLS record headers, which are in the clear, and that is
//! enough to find the request/response boundary: the client's first
//! application-data record is its `Finished`, every later one carries the
//! request, and once the request has started anything the server sends is
//! the response (the server sends no session tickets). So the proxy can
//! drop a connection
//!
//! - before the request arrives ([`Fault::DropOnAccept`]),
//! - part-way through the request ([`Fault::TruncateRequest`]),
//! - after the server has committed and started its response, before the
//!   client sees any of it ([`Fault::DropResponse`]),
//! - in the middle of the response ([`Fault::TruncateResponse`]),
//!
//! or slow every chunk down ([`Fault::Delay`]). Each accepted connection
//! takes the next fault from a queue, or a random one in [`Mode::Random`].

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::rng::Rng;

/// What happens to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Close the client's connection at once; the server never hears of it.
    DropOnAccept,
    /// Forward only this many bytes of the request, then close both sides.
    TruncateRequest(usize),
    /// Forward the request; when the response starts (the server has
    /// committed), close both sides without forwarding any of it.
    DropResponse,
    /// Forward this many bytes of the response, then close both sides.
    TruncateResponse(usize),
    /// Forward everything, sleeping this many milliseconds before each chunk.
    Delay(u64),
}

/// How faults are chosen.
#[derive(Debug)]
pub enum Mode {
    /// Take faults from the queue in order; [`Fault::Pass`] when it is empty.
    Queue(VecDeque<Fault>),
    /// Each connection draws a fault: pass with probability `pass_percent`,
    /// otherwise one of the others at random.
    Random {
        /// The generator.
        rng: Rng,
        /// How often to pass traffic untouched, 0 to 100.
        pass_percent: u64,
    },
}

impl Fault {
    /// The fault's kind, as [`FaultProxy::counts`] names it.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::DropOnAccept => "drop-on-accept",
            Self::TruncateRequest(_) => "truncate-request",
            Self::DropResponse => "drop-response",
            Self::TruncateResponse(_) => "truncate-response",
            Self::Delay(_) => "delay",
        }
    }
}

impl Mode {
    fn next(&mut self) -> Fault {
        match self {
            Self::Queue(q) => q.pop_front().unwrap_or(Fault::Pass),
            Self::Random { rng, pass_percent } => {
                if rng.below(100) < *pass_percent {
                    return Fault::Pass;
                }
                match rng.below(5) {
                    0 => Fault::DropOnAccept,
                    1 => Fault::TruncateRequest(rng.below(600) as usize),
                    2 => Fault::DropResponse,
                    3 => Fault::TruncateResponse(rng.below(300) as usize),
                    _ => Fault::Delay(rng.below(40)),
                }
            }
        }
    }
}

/// A running proxy. Dropping it stops accepting new connections.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    counts: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(Mode::Queue(VecDeque::new())));
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let (m, s, c) = (mode.clone(), stop.clone(), connections.clone());
        let k = counts.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let fault = m.lock().unwrap().next();
                *k.lock().unwrap().entry(fault.kind()).or_insert(0) += 1;
                thread::spawn(move || serve(client, upstream, fault));
            }
        });
        Self {
            addr,
            mode,
            stop,
            connections,
            counts,
        }
    }

    /// How many connections met each kind of fault ([`Fault::kind`]),
    /// `pass` included.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.counts.lock().unwrap().clone()
    }

    /// The address agents should use.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues faults for the next connections, in order.
    pub fn queue(&self, faults: &[Fault]) {
        *self.mode.lock().unwrap() = Mode::Queue(faults.iter().copied().collect());
    }

    /// Chooses faults at random from now on.
    pub fn randomly(&self, rng: Rng, pass_percent: u64) {
        *self.mode.lock().unwrap() = Mode::Random { rng, pass_percent };
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Counts TLS records of type application data (23) in one direction.
#[derive(Default)]
struct RecordCounter {
    header: Vec<u8>,
    remaining: usize,
    app_records: usize,
}

impl RecordCounter {
    /// Feeds `bytes`; returns the offset in `bytes` at which the record
    /// numbered `nth` (counting application-data records from 1) starts,
    /// if it starts within them.
    fn feed(&mut self, bytes: &[u8], nth: usize) -> Option<usize> {
        let mut at = 0;
        let mut found = None;
        while at < bytes.len() {
            if self.remaining > 0 {
                let n = self.remaining.min(bytes.len() - at);
                self.remaining -= n;
                at += n;
                continue;
            }
            let header_start = at - self.header.len().min(at);
            let need = 5 - self.header.len();
            let n = need.min(bytes.len() - at);
            self.header.extend_from_slice(&bytes[at..at + n]);
            at += n;
            if self.header.len() == 5 {
                if self.header[0] == 23 {
                    self.app_records += 1;
                    if self.app_records == nth && found.is_none() {
                        found = Some(header_start);
                    }
                }
                self.remaining = usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
                self.header.clear();
            }
        }
        found
    }
}

fn serve(client: TcpStream, upstream: SocketAddr, fault: Fault) {
    if fault == Fault::DropOnAccept {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // Set once the client's second application-data record (the first
    // after its Finished) has been forwarded: the request has started.
    let request_started = Arc::new(AtomicBool::new(false));

    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let started = request_started.clone();
    let up = thread::spawn(move || {
        let mut counter = RecordCounter::default();
        let mut buf = [0u8; 16 * 1024];
        let mut request_bytes = 0usize;
        loop {
            let n = match c_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Fault::Delay(ms) = fault {
                thread::sleep(Duration::from_millis(ms));
            }
            // Split the chunk where the request starts, if it starts here.
            let (handshake, request) = if started.load(Ordering::SeqCst) {
                (&buf[..0], &buf[..n])
            } else {
                match counter.feed(&buf[..n], 2) {
                    Some(at) => buf[..n].split_at(at),
                    None => (&buf[..n], &buf[..0]),
                }
            };
            if s_write.write_all(handshake).is_err() {
                break;
            }
            if request.is_empty() {
                continue;
            }
            // Mark the request as started before any of it can reach the
            // server, so the server's answer is always seen as a response.
            started.store(true, Ordering::SeqCst);
            let request = match fault {
                Fault::TruncateRequest(limit) => {
                    let allowed = limit.saturating_sub(request_bytes).min(request.len());
                    &request[..allowed]
                }
                _ => request,
            };
            request_bytes += request.len();
            if s_write.write_all(request).is_err() {
                break;
            }
            if let Fault::TruncateRequest(limit) = fault
                && request_bytes >= limit
            {
                break;
            }
        }
        let _ = s_write.shutdown(Shutdown::Both);
        let _ = c_read.shutdown(Shutdown::Both);
    });

    let (mut s_read, mut c_write) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    let mut response_bytes = 0usize;
    loop {
        let n = match s_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Fault::Delay(ms) = fault {
            thread::sleep(Duration::from_millis(ms));
        }
        let in_response = request_started.load(Ordering::SeqCst);
        let chunk = match fault {
            Fault::DropResponse if in_response => break,
            Fault::TruncateResponse(limit) if in_response => {
                let allowed = limit.saturating_sub(response_bytes).min(n);
                response_bytes += allowed;
                let _ = c_write.write_all(&buf[..allowed]);
                if response_bytes >= limit {
                    break;
                }
                continue;
            }
            _ => &buf[..n],
        };
        if c_write.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = s_read.shutdown(Shutdown::Both);
    let _ = up.join();
}
