//! # hearth-e2e: end-to-end tests of the real binaries
//!
//! The tests in `tests/tests/` spawn the real `hearth-server` and
//! `hearth-agent` binaries on loopback, each in its own temporary
//! directory, and drive them as their users would. This library holds the
//! harness they share:
//!
//! - [`bins`]: where the built binaries are, built with their test hooks;
//! - [`server`]: [`server::Server`], a running `hearth-server` with its data
//!   directory, address and certificate fingerprint, plus the admin commands;
//! - [`agent`]: [`agent::Agent`], one tablet: a store directory and a
//!   `hearth-agent` invocation with a chosen clock skew;
//! - [`proxy`]: [`proxy::FaultProxy`], a TCP proxy between agent and server
//!   that drops, truncates and delays traffic on command, blind to TLS;
//! - [`mitm`]: [`mitm::HttpFaultProxy`], an HTTP-aware proxy holding the
//!   server's own certificate, that also duplicates, reorders and answers
//!   requests with stale responses (issue 19);
//! - [`http`]: an HTTPS client pinned to a test server's certificate;
//! - [`rng`]: a small seeded generator, so every random schedule can be
//!   replayed from the seed a failing test prints;
//! - [`browser`]: [`browser::Browser`], headless Chromium over WebDriver
//!   with axe-core checks, screenshots and a tap counter, and [`app`]:
//!   [`app::App`], a running `hearth-agent app` (the browser tests);
//!   [`manager`]: [`manager::Site`], the manager's web app on a real
//!   `hearth-server serve` holding three agencies' records of one family;
//!   [`pdf`]: a printed page's text, page by page (`pdftotext`);
//! - [`people`]: the register's JSON API as a user, the register log and
//!   civil dates (issue 17); [`caseload`]: [`caseload::ProtocolDevice`], a
//!   device that fetches its signed caseload itself;
//! - [`soak`]: the soak harness (issue 19), many seeded trials of kills and
//!   network faults with the invariants checked after each (its binary is
//!   `src/bin/soak.rs`).
//!
//! The binaries are found next to the test executable (`target/<profile>/`)
//! and must have their test hooks (the `test-hooks` cargo feature, which no
//! release build has). `cargo test --workspace` builds them so; under
//! `cargo test -p hearth-e2e` alone, [`bins`] builds them on first use.

pub mod agent;
pub mod app;
pub mod bins;
pub mod browser;
pub mod caseload;
pub mod http;
pub mod manager;
pub mod mitm;
pub mod pdf;
pub mod people;
pub mod proxy;
pub mod rng;
pub mod server;
pub mod soak;
