//! Capture: a JSON body in, a signed, chained, durably stored record out.
//!
//! [`capture_json`] parses with [`hearth_shared::json::parse_body`] (so
//! the `record <kind>` flags and `record --json` give identical messages),
//! then [`capture_body`] asks the store to append: the store picks seq and
//! prev inside its write transaction, we sign there, and the call returns
//! only after the commit. Nothing is written when the input is refused.

use hearth_shared::clock::Clock;
use hearth_shared::json::{Defaults, JsonError, parse_body};
use hearth_shared::{Body, Envelope, SignedRecord};

use crate::keys::DeviceKey;
use crate::store::{LocalRecord, RecordStore, StoreError};

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The input was refused; the message names the field.
    #[error(transparent)]
    Input(#[from] JsonError),
    /// The store failed; nothing was saved.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses `json` and captures it. See [`capture_body`].
pub fn capture_json(
    store: &mut dyn RecordStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    defaults: &Defaults,
    json: &str,
) -> Result<LocalRecord, CaptureError> {
    let body = parse_body(json, defaults)?;
    Ok(capture_body(store, key, clock, body)?)
}

/// Signs `body` as the device's next record and commits it. Returns only
/// once the record is durable.
pub fn capture_body(
    store: &mut dyn RecordStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    body: Body,
) -> Result<LocalRecord, StoreError> {
    let device_time = clock.now();
    let device = key.device_id();
    let record = store.append(device_time, &mut |seq, prev| {
        SignedRecord::sign(
            key.signing_key(),
            &Envelope {
                version: body.format_version(),
                device,
                seq,
                prev,
                device_time,
                body: body.clone(),
            },
        )
    })?;
    // Durable, not yet reported: "Saved" (the id) has not been printed.
    hearth_shared::kill_point::reach("capture.after-commit");
    tracing::info!(device = %device, seq = record.seq.0, "record captured");
    Ok(record)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::LocalStore;
    use ed25519_dalek::SigningKey;
    use hearth_shared::clock::FixedClock;
    use hearth_shared::{Text, Timestamp};

    pub(crate) fn test_key() -> DeviceKey {
        DeviceKey::from_signing_key(SigningKey::from_bytes(&[7u8; 32]))
    }

    pub(crate) fn defaults() -> Defaults {
        Defaults {
            author: Text::try_from_str("hv-ann").unwrap(),
            agency: Text::try_from_str("HV-NORTH").unwrap(),
        }
    }

    pub(crate) const CONCERN: &str = r#"{"kind":"concern","children":["nhs:9434765919"],
        "occurred_at":"2026-11-20T10:30:00Z","headline":"Bruise on arm",
        "category":"physical","seen_or_said":"Bruise","action":"none","action_detail":"watch"}"#;

    pub(crate) fn sample_body() -> Body {
        parse_body(CONCERN, &defaults()).unwrap()
    }

    #[test]
    fn captured_records_verify_and_chain() {
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        let clock = FixedClock(Timestamp(1_800_000_000));
        let a = capture_json(&mut store, &key, &clock, &defaults(), CONCERN).unwrap();
        let b = capture_json(&mut store, &key, &clock, &defaults(), CONCERN).unwrap();
        let va = hearth_shared::verify(&key.verifying_key(), &a.signed).unwrap();
        let vb = hearth_shared::verify(&key.verifying_key(), &b.signed).unwrap();
        assert_eq!(vb.envelope().prev, va.hash());
        assert_eq!(va.hash(), a.hash);
        assert_eq!(va.envelope().device_time, Timestamp(1_800_000_000));
    }

    #[test]
    fn refused_input_writes_nothing() {
        let key = test_key();
        let mut store = LocalStore::open_in_memory().unwrap();
        let clock = FixedClock(Timestamp(1_800_000_000));
        let bad = CONCERN.replace("9434765919", "9434765918");
        assert!(capture_json(&mut store, &key, &clock, &defaults(), &bad).is_err());
        assert!(store.all().unwrap().is_empty());
    }
}
