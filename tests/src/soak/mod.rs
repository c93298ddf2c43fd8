//! The soak harness (issue 19): many short trials, each with 2 to 4
//! devices on skewed clocks capturing and syncing through a fault proxy,
//! one `kill -9` of the agent or the server, then a fault-free sync to
//! convergence and the invariants.
//!
//! - [`plan`]: pure; a trial's seed → [`plan::TrialPlan`].
//! - [`invariants`]: pure; the six invariants (and convergence) over plain
//!   data, [`invariants::check`].
//! - [`trial`]: runs one plan with the real binaries and gathers the
//!   data the checks need ([`trial::run`]).
//! - [`report`]: the totals and the final table.
//!
//! The binary is `tests/src/bin/soak.rs` (`cargo run -p hearth-e2e --bin
//! soak -- --trials N --seed S`). The proxy sits behind [`FaultInjector`],
//! so the TLS-record proxy ([`crate::proxy::FaultProxy`]) and the
//! HTTP-aware one ([`crate::mitm::HttpFaultProxy`]) plug in alike; each
//! trial's seed chooses one ([`plan::proxy_kind`]).

pub mod invariants;
pub mod plan;
pub mod report;
pub mod trial;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::mitm::HttpFaultProxy;
use crate::proxy::FaultProxy;
use crate::rng::Rng;

/// What a trial needs of a fault-injecting proxy.
pub trait FaultInjector {
    /// The address agents sync through.
    fn addr(&self) -> SocketAddr;
    /// Faults at random from now on: a connection (or request) passes
    /// untouched `pass_percent` times in 100.
    fn randomly(&self, rng: Rng, pass_percent: u64);
    /// No faults from now on.
    fn calm(&self);
    /// How many connections or requests met each kind of fault.
    fn counts(&self) -> BTreeMap<&'static str, u64>;
}

impl FaultInjector for FaultProxy {
    fn addr(&self) -> SocketAddr {
        FaultProxy::addr(self)
    }
    fn randomly(&self, rng: Rng, pass_percent: u64) {
        FaultProxy::randomly(self, rng, pass_percent);
    }
    fn calm(&self) {
        self.queue(&[]);
    }
    fn counts(&self) -> BTreeMap<&'static str, u64> {
        FaultProxy::counts(self)
    }
}

impl FaultInjector for HttpFaultProxy {
    fn addr(&self) -> SocketAddr {
        HttpFaultProxy::addr(self)
    }
    fn randomly(&self, rng: Rng, pass_percent: u64) {
        HttpFaultProxy::randomly(self, rng, pass_percent);
    }
    fn calm(&self) {
        self.queue(&[]);
    }
    fn counts(&self) -> BTreeMap<&'static str, u64> {
        HttpFaultProxy::counts(self)
    }
}
