//! The caseload at sync (issue 17): after the records' upload, ask for
//! this device's caseload (`POST /v1/caseload`, a request signed with the
//! device key), verify it with [`Caseload::verify`] against the receipt key
//! pinned at enrolment, this device and the issue time of the caseload
//! held, and let a verified one replace the held one whole (a child taken
//! off the caseload is gone from the device). A refused caseload is not
//! stored and the held one stays; a server with no caseloads (404) is
//! skipped quietly. Only an unlocked sync fetches it: the caseload is
//! sealed with the data key.
//!
//! [`fetch`] does the work and says what happened ([`CaseloadOutcome`]);
//! [`warning`] is the line `sync` prints on stderr when it did not.

use ed25519_dalek::VerifyingKey;
use hearth_shared::Timestamp;
use hearth_shared::caseload::{Caseload, CaseloadRefusal, CaseloadRequest};
use hearth_shared::clock::Clock;

use super::transport::{CaseloadFetcher, TransportError};
use crate::keys::DeviceKey;
use crate::store::{LocalStore, StoreError};

/// What fetching the caseload did.
#[derive(Debug)]
pub enum CaseloadOutcome {
    /// A verified caseload replaced the held one.
    Stored {
        /// How many children it names.
        children: usize,
        /// The server's issue time.
        issued_at: Timestamp,
    },
    /// The server has no caseloads (404).
    Unsupported,
    /// The caseload did not verify; the held one (issued then) stays.
    Refused {
        /// Why.
        refusal: CaseloadRefusal,
        /// The held caseload's issue time, if one is held.
        held: Option<Timestamp>,
    },
    /// The request failed; the held one (issued then) stays.
    Failed {
        /// Why.
        error: TransportError,
        /// The held caseload's issue time, if one is held.
        held: Option<Timestamp>,
    },
}

/// Asks for the caseload, verifies it, and replaces the held one with it.
/// Only a store failure is an error; the server's answer, whatever it is,
/// is an outcome.
pub fn fetch(
    store: &LocalStore,
    key: &DeviceKey,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
    fetcher: &dyn CaseloadFetcher,
) -> Result<CaseloadOutcome, StoreError> {
    // The held issue time from inside the seal, not the clear column.
    let held = store.caseload()?.map(|c| c.issued_at);
    let request = CaseloadRequest::new(key.signing_key(), clock.now());
    let bytes = match fetcher.fetch_caseload(&request) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(CaseloadOutcome::Unsupported),
        Err(error) => return Ok(CaseloadOutcome::Failed { error, held }),
    };
    let caseload = match Caseload::verify(&bytes, server_key, key.device_id(), held) {
        Ok(c) => c,
        Err(refusal) => return Ok(CaseloadOutcome::Refused { refusal, held }),
    };
    store.replace_caseload(&caseload, clock.now())?;
    tracing::info!(
        children = caseload.children.len(),
        issued_at = %caseload.issued_at,
        "caseload stored"
    );
    Ok(CaseloadOutcome::Stored {
        children: caseload.children.len(),
        issued_at: caseload.issued_at,
    })
}

/// What the held caseload is, for a warning: "the caseload from
/// 2026-11-20", or "no caseload" if none is held.
fn kept(held: Option<Timestamp>) -> String {
    match held {
        Some(t) => format!("keeping the caseload from {}", t.date()),
        None => "no caseload is held".into(),
    }
}

/// The stderr line for an outcome that kept the held caseload; `None` when
/// there is nothing to warn about.
pub fn warning(outcome: &CaseloadOutcome) -> Option<String> {
    match outcome {
        CaseloadOutcome::Stored { .. } | CaseloadOutcome::Unsupported => None,
        CaseloadOutcome::Refused { refusal, held } => Some(format!(
            "warning: caseload refused: {refusal}; {}",
            kept(*held)
        )),
        CaseloadOutcome::Failed { error, held } => Some(format!(
            "warning: caseload not fetched: {error}; {}",
            kept(*held)
        )),
    }
}

#[cfg(test)]
mod tests;
