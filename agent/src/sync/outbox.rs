//! The locked sync (issue 14): send the sealed outbox with no passphrase.
//!
//! A locked tablet has no device key to sign a batch header and no data
//! key to read its records, but it has the boxes sealed at capture
//! (`crate::outbox`), the receipt key pinned at enrolment (kept in the
//! clear) and each record's chain hash (kept in the clear). So
//! [`run_locked`] sends the boxes to `POST /v1/outbox` in batches of
//! [`BATCH_SIZE`], judges each answer with the same [`plan::judge`] as the
//! unlocked sync (a record is synced only on a receipt that verifies with
//! the pinned key and matches our chain hash), and applies the receipts.
//! A refusal's reason cannot be stored while locked (it is sealed under the
//! data key): the record stays pending, its box stays, and the next
//! unlocked sync resends it and keeps the server's reason. An unconfirmed
//! record likewise stays pending; a rerun resends it and the server answers
//! "duplicate".
//!
//! [`pin_notice`] and [`pin_enrolled`] pin the server's outbox key: from
//! enrolment, or from a sync response's notice signed with the pinned
//! receipt key.

use ed25519_dalek::VerifyingKey;
use hearth_shared::clock::Clock;
use hearth_shared::protocol::{OutboxKeyNotice, OutboxUpload, UploadResponse};
use hearth_shared::{DeviceId, Seq};

use super::plan::{self, BATCH_SIZE};
use super::transport::TransportError;
use super::{SyncError, SyncReport};
use crate::outbox::OutboxKey;
use crate::store::{RecordStore, StoreError};

/// Sends one outbox upload: what [`run_locked`] needs from a transport.
pub trait OutboxSender {
    /// Uploads `upload` to `POST /v1/outbox` and returns the answer.
    fn send_outbox(&self, upload: &OutboxUpload) -> Result<UploadResponse, TransportError>;
}

/// Sends every box of a pending record, in batches; marks synced what a
/// trusted receipt covers. Needs no data key and no device key.
pub fn run_locked(
    store: &mut dyn RecordStore,
    device: DeviceId,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
    sender: &dyn OutboxSender,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let mut after = Seq(0);
    loop {
        let boxes = store.outbox_boxes(after, BATCH_SIZE)?;
        let Some(&(last, _)) = boxes.last() else {
            break;
        };
        after = last;
        let seqs: Vec<Seq> = boxes.iter().map(|b| b.0).collect();
        let upload = OutboxUpload {
            device,
            boxes: boxes.into_iter().map(|b| b.1).collect(),
        };
        tracing::info!(
            first = seqs[0].0,
            last = last.0,
            count = seqs.len(),
            "uploading sealed outbox"
        );
        let response = sender.send_outbox(&upload)?;
        pin_notice(store, response.outbox_key.as_ref(), server_key, clock)?;
        let our_hash = |seq: Seq| store.hash_of(seq).ok().flatten();
        let mut judgement = plan::judge(device, server_key, &seqs, &response, &our_hash);
        // The reasons are sealed under the data key: the unlocked sync
        // stores them. Reported now, applied then.
        let refused = std::mem::take(&mut judgement.outcome.refused);
        if judgement.problems.is_empty() {
            judgement.outcome.synced_at = Some(clock.now());
        }
        store.apply(&judgement.outcome, clock.now())?;
        for p in &judgement.problems {
            tracing::warn!(problem = %p, "receipt not trusted");
        }
        judgement.outcome.refused = refused;
        report.add(seqs.len(), judgement, response.clock_offset_seconds);
    }
    Ok(report)
}

/// Pins the outbox key a sync response carries, if the pinned receipt key
/// signed it; a notice that does not verify is logged and ignored.
/// Returns whether the pinned key changed.
pub fn pin_notice(
    store: &mut dyn RecordStore,
    notice: Option<&OutboxKeyNotice>,
    server_key: &VerifyingKey,
    clock: &dyn Clock,
) -> Result<bool, StoreError> {
    let Some(notice) = notice else {
        return Ok(false);
    };
    match OutboxKey::from_notice(notice, server_key) {
        Some(key) => {
            let changed = store.pin_outbox_key(&key, clock.now())?;
            if changed {
                tracing::info!("outbox key pinned from a notice signed by the receipt key");
            }
            Ok(changed)
        }
        None => {
            tracing::warn!("the server's outbox key notice does not verify with the pinned receipt key; ignored");
            Ok(false)
        }
    }
}

/// Pins the outbox key enrolment sent (64 hex digits; an older server
/// sends none), and seals the records already captured into the outbox.
/// Needs the data key (enrolment has it).
pub fn pin_enrolled(
    store: &mut dyn RecordStore,
    key: Option<&str>,
    clock: &dyn Clock,
) -> Result<(), StoreError> {
    let Some(text) = key else {
        return Ok(());
    };
    let Some(key) = OutboxKey::from_hex(text) else {
        tracing::warn!(key = text, "the server's outbox key is not 64 hex digits; no outbox until a sync brings a signed one");
        return Ok(());
    };
    store.pin_outbox_key(&key, clock.now())?;
    store.fill_outbox()?;
    Ok(())
}
