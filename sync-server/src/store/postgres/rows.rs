//! Row <-> type mapping for PostgreSQL (the counterpart of
//! `store/sqlite/rows.rs`). SKELETON: pg-core fills this in; the other
//! PostgreSQL modules use what it provides.

use hearth_shared::DeviceId;

/// A device id as its 8-byte column value.
#[allow(dead_code)]
pub(super) fn dev(d: DeviceId) -> [u8; 8] {
    d.0
}
