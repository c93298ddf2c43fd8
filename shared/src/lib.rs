//! # hearth-shared: the record format every part of Hearth agrees on
//!
//! One observation, written once on a tablet with no signal and trusted
//! years later in a case review, is one [`Envelope`] signed by the device
//! that captured it. This crate is that contract and nothing else: no I/O,
//! no clock, no allocator unless asked for.
//!
//! ## How the pieces fit
//!
//! - [`bounded`]: [`Text`] and [`List`], fixed-capacity strings and lists
//!   whose limits are part of the wire format.
//! - [`child`]: [`ChildRef`], an NHS number (modulus-11 checked) or a local
//!   reference with its issuer.
//! - [`time`]: [`Timestamp`] (RFC 3339 in JSON, seconds on the wire) and
//!   [`TimeOfDay`].
//! - [`kinds`]: one module per record kind from `../shared/DOMAIN.md`, gathered in
//!   [`Detail`].
//! - [`record`]: [`Body`], the fields every record carries, and
//!   [`Envelope`], which adds the device, sequence number, chain hash and
//!   device clock.
//! - [`signed`]: encoding into a caller's buffer, ed25519 signing with a
//!   domain-separation prefix, and strict verification of untrusted bytes
//!   into a [`VerifiedRecord`]: the only type a server may store.
//! - [`chain`]: the pure per-device hash-chain check (next, duplicate, fork,
//!   gap).
//! - [`receipt`]: the server's signed acknowledgement of a committed range.
//! - [`printable`]: which characters text may hold (no line breaks in
//!   one-line fields, no controls or bidirectional overrides anywhere), and
//!   [`printable::Escaped`], how renderers show the rest.
//! - [`validate`] and [`error`]: every rule a record must satisfy, and the
//!   typed errors that name the field and the fix.
//! - `json` (feature `std`): the documented JSON form, the agent's input.
//! - `caseload` (feature `alloc`): a device's caseload, signed by the
//!   server, and the device's signed request for it.
//! - `protocol` (feature `alloc`): the sync API's request and response
//!   bodies, and [`protocol::ErrorCode`], the stable error codes.
//! - `wire` (feature `std`): protocol 2's transport compression (DEFLATE
//!   bodies, negotiated by `Hearth-Protocol` and `Accept-Encoding`, with a
//!   capped decoder); it never touches a record's bytes.
//!
//! And what the agent and the server share beside the records:
//! [`fingerprint`] (the server certificate's `sha256:` pin), [`hex`],
//! `private_file` (feature `std`: owner-only files written whole),
//! `assets` (feature `alloc`: static files under content-hashed names, for
//! the tablet app and the manager's web app), `url` (feature `alloc`:
//! percent-encoding what a page puts into a link),
//! [`words!`] (the one way an enum becomes a word and back), `clock`
//! (feature `std`: the `Clock` trait, the system and fixed clocks),
//! `kill_point` (feature `std`: the test builds' `HEARTH_KILL_AT` kill
//! points, armed only with `test-hooks`), and the leaf helpers
//! [`thousands`] and `serde_str`.
//!
//! Module order, with no cycle (`scripts/module-graph.py` checks it):
//! `thousands`, `hex`, `serde_str` and `printable` are leaves; then
//! `bounded`; then `ids`, `time` and `child`; then `error`; then the
//! kinds, records, signatures and protocol built on them.
//!
//! ## Features
//!
//! - none: `no_std`, no allocator. Records can be built, encoded into a
//!   fixed buffer, signed, verified and decoded.
//! - `alloc`: `Vec`-returning helpers and the protocol types.
//! - `std` (default): the JSON form, the clock.
//! - `test-hooks`: arms `kill_point` (tests only; never in a release).
//! - `sqlite`: `migrate`, the one runner of the agent's and the server's
//!   numbered SQLite migrations.
//!
//! The bytes are specified in `docs/wire-format.md`; golden vectors in the
//! tests pin them.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

#[cfg(feature = "alloc")]
pub mod assets;
pub mod bounded;
#[cfg(feature = "alloc")]
pub mod caseload;
pub mod chain;
pub mod child;
#[cfg(feature = "std")]
pub mod clock;
pub mod error;
pub mod fingerprint;
pub mod hex;
pub mod ids;
#[cfg(feature = "std")]
pub mod json;
#[cfg(feature = "std")]
pub mod kill_point;
pub mod kinds;
#[cfg(feature = "sqlite")]
pub mod migrate;
pub mod printable;
#[cfg(feature = "std")]
pub mod private_file;
#[cfg(feature = "alloc")]
pub mod protocol;
pub mod receipt;
pub mod record;
mod serde_str;
pub mod signed;
pub mod thousands;
pub mod time;
#[cfg(feature = "alloc")]
pub mod url;
pub mod validate;
#[cfg(feature = "std")]
pub mod wire;
pub mod words;

pub use bounded::{List, Text};
pub use chain::{ChainState, ChainVerdict, check_chain};
pub use child::{ChildRef, NhsNumber};
pub use error::{DecodeError, Field, Problem, ValidationError};
pub use ids::{AgencyCode, DeviceId, RecordHash, RecordId, Seq, WorkerId};
pub use kinds::{Detail, RecordKind};
pub use receipt::Receipt;
pub use record::{Body, Envelope, FORMAT_VERSION, REVISION_FORMAT_VERSION};
#[cfg(feature = "alloc")]
pub use signed::SignedRecord;
pub use signed::{MAX_SIGNED_SIZE, VerifiedRecord, sign_into, verify};
pub use time::{TimeOfDay, Timestamp};
