//! # hearth-bench: Hearth's figures beside their limits
//!
//! Issue 6 asks that Hearth be bound by physics (fsync, ed25519, bytes on
//! the wire), not overhead. Every figure here is a ratio against a baseline
//! measured in the same run on the same machine, because the machine is
//! shared and noisy; absolute times are printed only for orientation.
//!
//! ## How the pieces fit
//!
//! - [`corpus`]: deterministic, realistic observations ([`corpus::Generator`]).
//! - [`size`]: figure 1, signed bytes against the agent's minified JSON.
//! - [`micro`]: the subjects and baselines of figures 2 and 3, shared by the
//!   criterion benches (`benches/`) and the table command.
//! - [`timing`]: interleaved baseline/subject rounds, so that noise from the
//!   other tenants lands on both sides of a ratio.
//! - [`server`]: the real `hearth-server` binary in a temp dir, an HTTPS
//!   client, enrolment and signed uploads.
//! - [`proxy`]: a counting TCP proxy (bytes on the wire).
//! - [`rss`]: peak RSS of a child process from `/proc/PID/status`.
//! - [`table`]: the results table.
//! - [`run`]: the command line ([`run::Args`]) and each figure's counts.
//! - [`backends`]: figure 4 on SQLite and on PostgreSQL with one and two
//!   instances, side by side, and figure 7's pull on each (issue 18).
//! - [`backlog`]: figure 5's issue 20 rows: the backlog sync beside its
//!   floor (`n × bare verify ÷ cores`), the CPU split, the resume cost.
//! - [`chronology`]: figure 7, a chronology pulled from the real server.
//! - [`web`]: figure 8, the manager's web pages drawn on the server.
//! - [`signals`]: figure 9, practice signals: the rules for one family, the
//!   caseload read, and what keeping signals current costs ingest.
//! - [`tablet`]: a real server behind a counting proxy and a real agent
//!   store enrolled through it, a backlog captured through the agent's
//!   capture path, and the agent binary run as a tablet runs it (figures 5
//!   and 10).
//! - [`cht`]: figure 10, the same backlog replicated by PouchDB 9 to
//!   express-pouchdb 4 (installed from npm into a scratch directory), then
//!   synced by Hearth (issue 20).
//!
//! The binary `hearth-bench` (`src/main.rs`) runs the system figures and
//! prints the table; `docs/PERFORMANCE.md` has the results and the analysis.

pub mod backends;
pub mod backlog;
pub mod chronology;
pub mod cht;
pub mod corpus;
pub mod micro;
pub mod proxy;
pub mod rss;
pub mod run;
pub mod server;
pub mod signals;
pub mod size;
pub mod table;
pub mod tablet;
pub mod timing;
pub mod web;
