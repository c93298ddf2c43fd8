//! Admission before authentication: what an unauthenticated peer may hold.
//!
//! Nobody is authenticated until a whole batch has arrived and its header
//! signature verifies, so everything a peer can make the server hold before
//! then is bounded here, and refused at once past the bound rather than
//! queued (a queue lets a few hundred slow peers delay everyone):
//!
//! - [`Gate`]: at accept, a connection needs a free slot of
//!   `max_connections` and its source address may hold at most
//!   `max_connections_per_ip` of them ([`PerIp`], the pure count). Refused
//!   connections are closed without a TLS handshake, and the accept loop
//!   never waits for a slot, so other peers (a health probe, a tablet on
//!   another address) still get in.
//! - [`BodyBudget`]: request bodies are read into memory only against a
//!   global budget of bytes in flight, taken as the bytes arrive (so a peer
//!   trickling a body holds only what it has sent), and returned when the
//!   request is done. Past the budget the request gets 503 `busy`. A
//!   compressed body (protocol 2) is charged its compressed bytes as they
//!   arrive, then its inflated bytes as the decoder's buffer grows
//!   ([`BodyBudget::take`], from [`super::wire::inflate`]); the first
//!   charge is returned once it is inflated.
//!
//! Together they put a ceiling on the memory an attacker can pin: the
//! budget (about twice over, while a batch is decoded) plus a bounded
//! per-connection cost for at most `max_connections` connections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Live connections per source address: the pure part of [`Gate`].
#[derive(Debug, Default)]
pub struct PerIp {
    counts: HashMap<IpAddr, usize>,
}

impl PerIp {
    /// Counts one more connection from `ip`, unless it already has `max`.
    pub fn try_add(&mut self, ip: IpAddr, max: usize) -> bool {
        let n = self.counts.entry(ip).or_insert(0);
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    /// Counts one connection from `ip` fewer; forgets addresses at zero, so
    /// the table holds only addresses with live connections.
    pub fn remove(&mut self, ip: IpAddr) {
        if let Some(n) = self.counts.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.counts.remove(&ip);
            }
        }
    }

    /// Live connections from `ip`.
    pub fn count(&self, ip: IpAddr) -> usize {
        self.counts.get(&ip).copied().unwrap_or(0)
    }
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every connection slot is taken.
    Full,
    /// This source address holds its share of slots already.
    PerIp,
}

/// Connection slots: global and per source address.
pub struct Gate {
    slots: Arc<Semaphore>,
    per_ip: Arc<Mutex<PerIp>>,
    max_per_ip: usize,
}

/// A connection's slot, released on drop.
pub struct Admitted {
    _slot: OwnedSemaphorePermit,
    per_ip: Arc<Mutex<PerIp>>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut t) = self.per_ip.lock() {
            t.remove(self.ip);
        }
    }
}

impl Gate {
    /// `max` connections in all, `max_per_ip` from any one address.
    pub fn new(max: usize, max_per_ip: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            per_ip: Arc::default(),
            max_per_ip,
        }
    }

    /// A slot for a connection from `ip`, or why not. Never waits.
    pub fn admit(&self, ip: IpAddr) -> Result<Admitted, Refusal> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Full)?;
        let mut table = self.per_ip.lock().map_err(|_| Refusal::Full)?;
        if !table.try_add(ip, self.max_per_ip) {
            return Err(Refusal::PerIp);
        }
        Ok(Admitted {
            _slot: slot,
            per_ip: self.per_ip.clone(),
            ip,
        })
    }
}

/// The global budget of request-body bytes held in memory.
#[derive(Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
}

/// Budget held by one request's body; returned on drop.
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
}

impl Held {
    /// No budget yet: [`BodyBudget::take`] adds to it.
    pub fn none() -> Self {
        Self { permit: None }
    }
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over the per-request limit.
    TooLarge,
    /// The global budget is spent: the server is receiving too much.
    Busy,
    /// The connection failed or the client stopped mid-body.
    Read,
}

/// The smallest buffer a body starts with.
const FIRST_CAPACITY: usize = 8 * 1024;

/// How large a body buffer of capacity `cap` grows to hold `need` bytes,
/// at most `max`: doubling, so a body is copied O(log n) times.
pub fn grown_capacity(cap: usize, need: usize, max: usize) -> usize {
    need.max(cap.saturating_mul(2)).max(FIRST_CAPACITY).min(max)
}

impl BodyBudget {
    /// A budget of `bytes` in flight.
    pub fn new(bytes: usize) -> Self {
        Self {
            bytes: Arc::new(Semaphore::new(bytes)),
        }
    }

    /// Reads `body` whole, at most `max` bytes, taking budget for its
    /// buffer's capacity as the buffer grows.
    pub async fn read(&self, body: Body, max: usize) -> Result<(Vec<u8>, Held), BodyError> {
        let mut body = body;
        let mut buf: Vec<u8> = Vec::new();
        let mut held = Held::none();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Read)?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            let need = buf.len() + chunk.len();
            if need > max {
                return Err(BodyError::TooLarge);
            }
            if need > buf.capacity() {
                let cap = grown_capacity(buf.capacity(), need, max);
                self.take(&mut held, cap - buf.capacity())?;
                buf.reserve_exact(cap - buf.len());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((buf, held))
    }

    /// Takes `n` more bytes of budget into `held`, at once, or refuses
    /// with [`BodyError::Busy`] and takes nothing. A compressed body's
    /// inflated bytes are taken through here as its decoder's buffer grows
    /// ([`super::wire`]).
    pub fn take(&self, held: &mut Held, n: usize) -> Result<(), BodyError> {
        let more = u32::try_from(n).map_err(|_| BodyError::TooLarge)?;
        let permit = self
            .bytes
            .clone()
            .try_acquire_many_owned(more)
            .map_err(|_| BodyError::Busy)?;
        match &mut held.permit {
            Some(h) => h.merge(permit),
            None => held.permit = Some(permit),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_counts_up_to_the_limit_and_forgets_at_zero() {
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let mut t = PerIp::default();
        assert!(t.try_add(a, 2));
        assert!(t.try_add(a, 2));
        assert!(!t.try_add(a, 2), "a third from one address is refused");
        assert!(t.try_add(b, 2), "another address is not affected");
        t.remove(a);
        assert!(t.try_add(a, 2));
        t.remove(a);
        t.remove(a);
        assert_eq!(t.count(a), 0);
        assert!(!t.counts.contains_key(&a));
    }

    #[test]
    fn the_gate_refuses_at_once_and_frees_slots_on_drop() {
        let gate = Gate::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = gate.admit(a).unwrap();
        let _a2 = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).err(), Some(Refusal::PerIp));
        let _b1 = gate.admit(b).unwrap();
        assert_eq!(gate.admit(b).err(), Some(Refusal::Full));
        drop(a1);
        assert!(gate.admit(b).is_ok());
    }

    #[test]
    fn buffers_grow_by_doubling_within_the_limit() {
        assert_eq!(grown_capacity(0, 10, 100_000), FIRST_CAPACITY);
        assert_eq!(grown_capacity(8_192, 8_193, 100_000), 16_384);
        assert_eq!(grown_capacity(8_192, 50_000, 100_000), 50_000);
        assert_eq!(grown_capacity(65_536, 65_537, 100_000), 100_000);
    }

    #[tokio::test]
    async fn bodies_take_budget_as_they_grow_and_give_it_back() {
        let budget = BodyBudget::new(64 * 1024);
        let (buf, held) = budget
            .read(Body::from(vec![7u8; 20_000]), 1 << 20)
            .await
            .unwrap();
        assert_eq!(buf.len(), 20_000);
        assert!(budget.bytes.available_permits() <= 64 * 1024 - 20_000);
        // While it is held, a second body that would pass the budget is refused.
        let second = budget.read(Body::from(vec![0u8; 60_000]), 1 << 20).await;
        assert_eq!(second.err(), Some(BodyError::Busy));
        drop((buf, held));
        assert_eq!(budget.bytes.available_permits(), 64 * 1024);
        let third = budget.read(Body::from(vec![0u8; 60_000]), 1 << 20).await;
        assert!(third.is_ok());
        let big = budget.read(Body::from(vec![0u8; 2_000]), 1_000).await;
        assert_eq!(big.err(), Some(BodyError::TooLarge));
    }
}
