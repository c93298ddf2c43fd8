//! The device's settings (from `init`) and its registration with a server
//! (from `enrol`): one row each, in the clear (agency code, worker id,
//! server URL and key are not about people).

use hearth_shared::hex::Hex;
use hearth_shared::{AgencyCode, DeviceId, Timestamp, WorkerId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::store::{DeviceSettings, Registration, StoreError};

/// The device settings, if `init` has run.
pub(super) fn device(conn: &Connection) -> Result<Option<DeviceSettings>, StoreError> {
    let row = conn
        .query_row(
            "SELECT device_id, agency, worker, created_at FROM device WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .optional()?;
    row.map(|(device_id, agency, worker, created_at)| {
        Ok(DeviceSettings {
            device_id: device_id_from(device_id)?,
            agency: AgencyCode::try_from_str(&agency)
                .map_err(|_| StoreError::Corrupt("the agency is too long".into()))?,
            worker: WorkerId::try_from_str(&worker)
                .map_err(|_| StoreError::Corrupt("the worker is too long".into()))?,
            created_at: Timestamp(created_at),
        })
    })
    .transpose()
}

/// Records the device settings; fails if already set.
pub(super) fn init_device(conn: &mut Connection, s: &DeviceSettings) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: Option<String> = tx
        .query_row("SELECT device_id FROM device WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(id) = existing {
        return Err(StoreError::AlreadyInitialised(device_id_from(id)?));
    }
    tx.execute(
        "INSERT INTO device (id, device_id, agency, worker, created_at) VALUES (1, ?1, ?2, ?3, ?4)",
        params![
            s.device_id.to_string(),
            s.agency.as_str(),
            s.worker.as_str(),
            s.created_at.0
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// The registration, if enrolled.
pub(super) fn registration(conn: &Connection) -> Result<Option<Registration>, StoreError> {
    let row = conn
        .query_row(
            "SELECT server_url, server_key, agency, worker, enrolled_at FROM registration WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(server_url, server_key, agency, worker, enrolled_at)| {
        Ok(Registration {
            server_url,
            server_key: Registration::parse_server_key(&server_key).ok_or(
                StoreError::BadValue {
                    field: "registration.server_key",
                    value: server_key,
                    expected: "an Ed25519 public key (64 hex digits)",
                },
            )?,
            agency,
            worker,
            enrolled_at: Timestamp(enrolled_at),
        })
    })
    .transpose()
}

/// Stores (or replaces) the registration; the key as 64 lower-case hex
/// digits, as enrolment always stored it.
pub(super) fn set_registration(conn: &Connection, reg: &Registration) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO registration (id, server_url, server_key, agency, worker, enrolled_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        params![
            reg.server_url,
            Hex(reg.server_key.as_bytes()).to_string(),
            reg.agency,
            reg.worker,
            reg.enrolled_at.0
        ],
    )?;
    Ok(())
}

/// A stored `device.device_id`.
fn device_id_from(text: String) -> Result<DeviceId, StoreError> {
    text.parse().map_err(|_| StoreError::BadValue {
        field: "device.device_id",
        value: text,
        expected: "a device id (16 hex digits)",
    })
}
