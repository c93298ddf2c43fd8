//! # hearth-agent: offline capture and resumable sync for a Hearth tablet
//!
//! A health visitor in a kitchen with no signal, or a nursery's shared
//! tablet at the door at 8am, records observations with this program. Each
//! observation is signed with the device key and committed to a local
//! SQLite store before the user is told it is saved; `sync` later uploads
//! what is pending and marks a record synced only on a signed server
//! receipt that proves the server holds exactly those bytes.
//!
//! ## How the pieces fit
//!
//! - [`clock`]: [`clock::from_env`], the clock a command runs with (the
//!   `HEARTH_CLOCK_SKEW_SECS` test hook); the clock itself is
//!   `hearth_shared::clock`.
//! - [`keys`]: [`keys::DeviceKey`], the device's ed25519 key (redacted in
//!   `Debug`; on disk only sealed inside the keyring).
//! - [`seal`]: encryption at rest (issue 7): [`seal::DataKey`] and
//!   [`seal::Sealer`] (XChaCha20-Poly1305 with seq and column bound in,
//!   and the keyed child index).
//! - [`keyring`]: [`keyring::Keyring`], the data key wrapped under the
//!   passphrase with Argon2id, the sealed device key, the failure counter,
//!   atomic re-wrapping and destruction on revocation.
//! - [`private_file`]: owner-only files written whole or not at all
//!   (the keyring, the staff list, the unlock session).
//! - [`unlock`]: where a command gets the passphrase or key
//!   (`HEARTH_PASSPHRASE`, an unlock session, a prompt).
//! - [`store`]: [`store::RecordStore`], the storage trait, and
//!   [`store::LocalStore`], its SQLite implementation with numbered `.sql`
//!   migrations.
//! - [`amend`]: builds a correction from the original record (pure).
//! - [`capture`]: turns a JSON body into a signed, chained, durably stored
//!   record.
//! - [`caseload`]: the held caseload's tasks as this device sees them
//!   (pure: a task captured here shows done before it syncs).
//! - [`outbox`]: the sealed outbox (issue 14): each record's signed bytes
//!   sealed at capture to the server's X25519 key, sent by a locked tablet
//!   ([`sync::outbox`]).
//! - [`sync`]: [`sync::plan`] is pure (pending records → batches; server
//!   response + receipts → which records become synced or rejected);
//!   [`sync::transport`] is the HTTPS client; [`sync::run`] joins them.
//! - [`tls`]: server identity: a CA file, or a pinned SHA-256 fingerprint
//!   of the server's leaf certificate.
//! - [`cli`]: the clap command line; [`commands`] runs each command.
//!
//! Errors are `thiserror` enums per module; [`commands::CommandError`]
//! gathers them and maps each to the exit code of `docs/sync-protocol.md`.

pub mod amend;
pub mod app;
pub mod capture;
pub mod caseload;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod identity;
pub mod keyring;
pub mod keys;
pub mod outbox;
pub use hearth_shared::private_file;
pub mod seal;
pub mod store;
pub mod sync;
pub mod tls;
pub mod unlock;
