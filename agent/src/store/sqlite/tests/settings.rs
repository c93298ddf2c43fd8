//! Issue 13: the device id and the server's key are typed in memory and
//! kept on disk exactly as before (hex text), parsed once at load.

use ed25519_dalek::SigningKey;
use hearth_shared::{AgencyCode, DeviceId, WorkerId};

use super::*;
use crate::store::{DeviceSettings, Registration};

fn settings() -> DeviceSettings {
    DeviceSettings {
        device_id: DeviceId([0x3f, 0x9a, 0x2c, 0x1d, 0x7e, 0x4b, 0x8a, 0x01]),
        agency: AgencyCode::try_from_str("LA-01").unwrap(),
        worker: WorkerId::try_from_str("w-7").unwrap(),
        created_at: Timestamp(1_800_000_000),
    }
}

fn registration() -> Registration {
    Registration {
        server_url: "https://hearth.example:8443".into(),
        server_key: SigningKey::from_bytes(&[9u8; 32]).verifying_key(),
        agency: "LA-01".into(),
        worker: "w-7".into(),
        enrolled_at: Timestamp(1_800_000_100),
    }
}

fn text(store: &LocalStore, sql: &str) -> String {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn typed_settings_are_stored_as_hex_text_and_read_back() {
    let mut store = LocalStore::open_in_memory().unwrap();
    store.init_settings(&settings()).unwrap();
    store.set_registration(&registration()).unwrap();
    assert_eq!(
        text(&store, "SELECT device_id FROM device"),
        "3f9a2c1d7e4b8a01"
    );
    let key = registration().server_key;
    assert_eq!(
        text(&store, "SELECT server_key FROM registration"),
        hex::encode(key.as_bytes())
    );
    assert_eq!(store.settings().unwrap(), Some(settings()));
    assert_eq!(store.registration().unwrap(), Some(registration()));
    assert!(matches!(
        store.init_settings(&settings()),
        Err(e @ StoreError::AlreadyInitialised(_))
            if e.to_string() == "this store is already initialised as device 3f9a2c1d7e4b8a01"
    ));
}

/// Keys enrolled before this change were stored lower-cased; one in
/// capitals (never written, but hex either way) still reads.
#[test]
fn a_stored_key_in_capitals_reads() {
    let mut store = LocalStore::open_in_memory().unwrap();
    store.set_registration(&registration()).unwrap();
    store
        .conn
        .execute("UPDATE registration SET server_key = upper(server_key)", [])
        .unwrap();
    assert_eq!(store.registration().unwrap(), Some(registration()));
}

#[test]
fn a_bad_stored_value_names_its_field() {
    let mut store = LocalStore::open_in_memory().unwrap();
    store.init_settings(&settings()).unwrap();
    store.set_registration(&registration()).unwrap();
    store
        .conn
        .execute_batch(
            "UPDATE registration SET server_key = 'abcd';
             UPDATE device SET device_id = 'not-hex';",
        )
        .unwrap();
    let key = store.registration().unwrap_err();
    assert!(matches!(
        key,
        StoreError::BadValue {
            field: "registration.server_key",
            ..
        }
    ));
    assert_eq!(
        key.to_string(),
        "the local store is damaged: registration.server_key \"abcd\" is not an Ed25519 public key (64 hex digits)"
    );
    let device = store.settings().unwrap_err();
    assert_eq!(
        device.to_string(),
        "the local store is damaged: device.device_id \"not-hex\" is not a device id (16 hex digits)"
    );
}
