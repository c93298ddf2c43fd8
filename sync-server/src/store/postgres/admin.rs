//! admin: see the SQLite counterpart `store/sqlite/admin.rs`; same behaviour over PostgreSQL.
//! SKELETON: every function below is a stand-in that the issue-18 helpers replace.

#![allow(unused_variables)]

use ::postgres::Client;

#[allow(unused_imports)]
use crate::caseload::*;
#[allow(unused_imports)]
use crate::links::*;
#[allow(unused_imports)]
use crate::people::*;
#[allow(unused_imports)]
use crate::signals::*;
#[allow(unused_imports)]
use crate::store::*;
#[allow(unused_imports)]
use hearth_shared::*;

pub(super) fn device(c: &mut Client, id: DeviceId) -> Result<Option<Device>, StoreError> {
    Err(StoreError::Unfinished("admin::device"))
}

pub(super) fn devices(c: &mut Client) -> Result<Vec<Device>, StoreError> {
    Err(StoreError::Unfinished("admin::devices"))
}

pub(super) fn set_staff(
    c: &mut Client,
    device: DeviceId,
    member: &str,
    on: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Err(StoreError::Unfinished("admin::set_staff"))
}

pub(super) fn revoke(
    c: &mut Client,
    id: DeviceId,
    reason: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Err(StoreError::Unfinished("admin::revoke"))
}

pub(super) fn add_enrol_token(
    c: &mut Client,
    hash: &str,
    grant: &Grant,
    created: Timestamp,
    expires: Timestamp,
) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("admin::add_enrol_token"))
}

pub(super) fn enrol(
    c: &mut Client,
    token_hash: &str,
    device: DeviceId,
    public_key: [u8; 32],
    now: Timestamp,
) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
    Err(StoreError::Unfinished("admin::enrol"))
}

pub(super) fn add_user(
    c: &mut Client,
    name: &str,
    role: Role,
    token_hash: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Err(StoreError::Unfinished("admin::add_user"))
}

pub(super) fn user_by_token(c: &mut Client, token_hash: &str) -> Result<Option<User>, StoreError> {
    Err(StoreError::Unfinished("admin::user_by_token"))
}

pub(super) fn users(c: &mut Client) -> Result<Vec<UserEntry>, StoreError> {
    Err(StoreError::Unfinished("admin::users"))
}

pub(super) fn revoke_user(
    c: &mut Client,
    name: &str,
    reason: &str,
    at: Timestamp,
) -> Result<UserChange, StoreError> {
    Err(StoreError::Unfinished("admin::revoke_user"))
}

pub(super) fn replace_user_token(
    c: &mut Client,
    name: &str,
    token_hash: &str,
) -> Result<UserChange, StoreError> {
    Err(StoreError::Unfinished("admin::replace_user_token"))
}

pub(super) fn change_family(c: &mut Client, change: &FamilyChange) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("admin::change_family"))
}

pub(super) fn family_history(c: &mut Client) -> Result<Vec<FamilyChange>, StoreError> {
    Err(StoreError::Unfinished("admin::family_history"))
}
