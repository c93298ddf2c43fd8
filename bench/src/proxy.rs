//! A counting TCP proxy: every byte between the agent and the server passes
//! through [`CountingProxy`], which adds it to the upstream (client to
//! server) or downstream counter. TLS records, HTTP headers and all: these
//! are the bytes on the wire.
//!
//! [`CountingProxy::cut_after`] arms it to drop every connection once that
//! many more bytes have gone upstream (the resume figure: a link lost
//! halfway through a sync); [`CountingProxy::reset`] disarms it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A running proxy (its threads end with the process).
pub struct CountingProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    /// Upstream bytes after which connections are cut (`u64::MAX`: never).
    limit: Arc<AtomicU64>,
}

/// No cut armed.
const NO_LIMIT: u64 = u64::MAX;

/// Copies `from` to `to`, counting into `counter`. With `limit` (the
/// upstream direction), forwards only up to it, then cuts both sockets.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    counter: Arc<AtomicU64>,
    limit: Option<Arc<AtomicU64>>,
) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = limit
            .as_ref()
            .map_or(NO_LIMIT, |l| l.load(Ordering::Relaxed));
        let before = counter.fetch_add(n as u64, Ordering::Relaxed);
        let pass = allowed.saturating_sub(before).min(n as u64) as usize;
        if to.write_all(&buf[..pass]).is_err() {
            break;
        }
        if pass < n {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl CountingProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicU64::new(0));
        let limit = Arc::new(AtomicU64::new(NO_LIMIT));
        let (u, d, l) = (up.clone(), down.clone(), limit.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                let (u, d, l) = (u.clone(), d.clone(), l.clone());
                std::thread::spawn(move || pump(client, server, u, Some(l)));
                std::thread::spawn(move || pump(s2, c2, d, None));
            }
        });
        Ok(Self {
            addr,
            up,
            down,
            limit,
        })
    }

    /// Bytes client → server so far.
    pub fn up(&self) -> u64 {
        self.up.load(Ordering::Relaxed)
    }

    /// Bytes server → client so far.
    pub fn down(&self) -> u64 {
        self.down.load(Ordering::Relaxed)
    }

    /// Zeroes both counters and disarms a cut.
    pub fn reset(&self) {
        self.limit.store(NO_LIMIT, Ordering::Relaxed);
        self.up.store(0, Ordering::Relaxed);
        self.down.store(0, Ordering::Relaxed);
    }

    /// Zeroes both counters and cuts every connection (the one open and
    /// any later) once `bytes` more have gone upstream; the bytes past it
    /// are never forwarded. Until [`Self::reset`].
    pub fn cut_after(&self, bytes: u64) {
        self.reset();
        self.limit.store(bytes, Ordering::Relaxed);
    }
}
