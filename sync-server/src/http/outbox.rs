//! `POST /v1/outbox`: a locked tablet's sealed records (issue 14).
//!
//! A tablet seals each record's signed bytes, unchanged, to this server's
//! X25519 outbox key at capture ([`hearth_shared::protocol::seal_record`]).
//! While it is locked it cannot sign a batch header (its device key is
//! sealed under the passphrase), so this upload
//! ([`hearth_shared::protocol::OutboxUpload`]) has none: it is
//! authenticated by the records themselves.
//!
//! Order of checks: the same body limit and in-flight budget as `/v1/sync`
//! ([`super::sync::read_body`]), postcard shape, at least one box, the same
//! record count limit; then, on a blocking thread, every box is opened with
//! the outbox secret (before the device is looked up, so the work done does
//! not depend on whether it exists); then the device must be known and not
//! revoked, and every opened record's signature must verify under its key.
//! Anything else (an unknown or revoked device, a box that does not open,
//! a record another key signed) gets the one 401 `unauthenticated` that
//! `/v1/sync` gives, and nothing is stored. So a peer without genuine
//! device-signed records learns nothing about which devices exist; a
//! revoked device is not told so here (its records are refused as an
//! unknown device's are), and learns it at its next unlocked sync, signed.
//!
//! Then the records take exactly the `/v1/sync` path:
//! [`crate::ingest::precheck`] and the writer, verdicts, quarantine,
//! receipts signed only after the commit ([`super::sync::commit`]). A
//! resend is answered "duplicate", as on `/v1/sync`. The one difference is
//! the clock: a locked tablet cannot sign a clock reading, so the upload
//! carries none and the device's last measured offset is kept.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use ed25519_dalek::VerifyingKey;
use hearth_shared::Timestamp;
use hearth_shared::protocol::{OutboxUpload, UploadResponse, open_sealed};
use hearth_shared::signed::signed_by;

use super::sync::{bad_batch, commit, not_authenticated, read_body, too_many};
use super::wire::RequestEncoding;
use super::{ApiError, AppState, Peer, error::blocking};
use crate::backend::Backend;
use crate::ingest::{BatchJob, Prechecked, precheck_all};
use crate::store::StoreError;

/// The handler.
pub async fn outbox<S: Backend>(
    State(st): State<AppState<S>>,
    peer: Peer,
    encoding: RequestEncoding,
    body: Body,
) -> Result<Json<UploadResponse>, ApiError> {
    let (bytes, _held) = read_body(&st, &peer, encoding, body).await?;
    let upload = match postcard::take_from_bytes::<OutboxUpload>(&bytes) {
        Ok((u, [])) => u,
        _ => {
            return Err(bad_batch(
                "the body is not a postcard OutboxUpload (content type application/x-hearth-outbox)",
            ));
        }
    };
    drop(bytes);
    if upload.boxes.is_empty() {
        return Err(bad_batch(
            "the outbox upload holds no boxes; send at least one",
        ));
    }
    if let Some(refusal) = too_many(&st, upload.boxes.len()) {
        return Err(refusal);
    }
    let received_at = st.clock.now();
    let st2 = st.clone();
    let job = blocking(move || check(&st2, &peer, upload, received_at)).await?;
    commit(&st, job).await
}

/// Opens the boxes, authenticates them by the device's signatures, and
/// prechecks each record: the job for the writer. Runs on a blocking thread.
fn check<S: Backend>(
    st: &AppState<S>,
    peer: &Peer,
    upload: OutboxUpload,
    received_at: Timestamp,
) -> Result<BatchJob, ApiError> {
    let claimed = upload.device;
    let refuse = |why| not_authenticated(st, peer, claimed, why);
    let secret = st.outbox.secret.secret();
    let opened: Option<Vec<Vec<u8>>> = upload
        .boxes
        .iter()
        .map(|sealed| open_sealed(secret, sealed))
        .collect();
    let device = st.store().device(claimed)?;
    let Some(records) = opened else {
        return Err(refuse("an outbox box does not open with this server's key"));
    };
    let device = device.ok_or_else(|| refuse("unknown device (outbox)"))?;
    if device.revoked.is_some() {
        return Err(refuse("revoked device (outbox)"));
    }
    let key = VerifyingKey::from_bytes(&device.public_key)
        .map_err(|_| StoreError::Corrupt("a device key"))?;
    let records = precheck_all(&key, records, st.limits.max_record_bytes);
    // A verified record is the device's; only a refused one has its
    // signature checked on its own: one Ed25519 verification a record.
    // Only the signature: a genuine record that breaks a rule (an unknown
    // version byte or an oversized record included) is the writer's to
    // judge, with its reason, exactly as on `/v1/sync`.
    let genuine = records.iter().all(|p| match p {
        Prechecked::Verified(_) => true,
        Prechecked::Rejected { bytes, .. } => signed_by(&key, bytes),
    });
    if !genuine {
        return Err(refuse("an outbox record is not signed by the device"));
    }
    // No signed clock reading: keep the offset last measured (none: zero).
    let offset = device.clock.offset.unwrap_or(0);
    Ok(BatchJob {
        device: device.id,
        device_time: Timestamp(received_at.0.saturating_add(offset)),
        received_at,
        records,
        late_entry_secs: st.limits.late_entry_secs,
        quarantine_budget: st.limits.quarantine_budget_bytes,
    })
}
