//! # hearth-sync-server: where the multi-agency chronology comes together
//!
//! Tablets upload signed records ([`hearth_shared::SignedRecord`] bytes) in
//! batches; the server verifies each one against its device's registered
//! key and hash chain, stores what is genuine, keeps what is not with its
//! reason, and acknowledges only what is committed. Authorised managers pull
//! a child's or a family's chronology, in event order, and every pull is
//! audited.
//!
//! ## How the pieces fit
//!
//! - [`cli`]: the `hearth-server` command line (serve and administration),
//!   generic over the store backend the binary picks.
//! - [`backend`]: [`backend::Backend`], how a store is opened in a data
//!   directory (the one place beside `main.rs` that names the SQLite
//!   backend).
//! - [`datadir`]: the data directory's permissions (private, or refused).
//! - [`config`]: [`config::Limits`], the configurable limits and durations.
//! - [`clock`]: [`clock::Clock`], the one place the wall clock is read, and
//!   the pure device-clock offset estimate.
//! - [`keys`]: the server's receipt-signing key and hashed one-time tokens.
//! - [`tls`]: the certificate (given, or self-signed on first start) and its
//!   fingerprint.
//! - [`ingest`]: the verdict on each record (pure decisions over
//!   [`store::IngestTx`]) and the single writer thread that batches commits.
//! - [`receipt`]: receipts for the committed runs of a batch.
//! - [`store`]: the [`store::Store`] trait, its SQLite backend and
//!   numbered migrations.
//! - [`line`]: the chronology line stored with each record ([`line::Line`],
//!   [`line::FiledRecord`], [`line::FlagSet`]), shared by store and chronology.
//! - [`chronology`]: pure reconciliation (entries, order, families,
//!   amendments, flags) and the table / CSV / JSON formats.
//! - [`localtime`]: times as people read them, in an IANA zone.
//! - [`whoami`]: the operating-system user running a CLI command.
//! - [`audit`]: the audited pull: no reason, no read; every read logged.
//! - [`signals`]: practice signals: rules across a family's records,
//!   each with its evidence, kept current at ingest and acknowledged by
//!   managers.
//! - [`record`]: the record behind a line: stored bytes decoded, the
//!   fields a correction leaves, and the audited read of one record.
//! - [`admin`]: administration commands over a store.
//! - [`http`]: the HTTPS API (axum over a hyper accept loop on
//!   tokio-rustls).
//! - [`web`]: the manager's web app on the same port: sessions, the
//!   chronology pages, the record behind each line, the timeline, the
//!   administration pages.

pub mod admin;
pub mod audit;
pub mod backend;
pub mod caseload;
pub mod chronology;
pub mod cli;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod line;
pub mod links;
pub mod localtime;
pub mod people;
pub mod receipt;
pub mod record;
pub mod signals;
pub mod store;
pub mod tenancy;
pub mod tls;
pub mod web;
pub mod whoami;
