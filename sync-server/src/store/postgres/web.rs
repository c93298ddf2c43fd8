//! web: see the SQLite counterpart `store/sqlite/web.rs`; same behaviour over PostgreSQL.
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

pub(super) fn set_password(
    c: &mut Client,
    name: &str,
    password_hash: &str,
    at: Timestamp,
) -> Result<UserChange, StoreError> {
    Err(StoreError::Unfinished("web::set_password"))
}

pub(super) fn login_user(
    c: &mut Client,
    name: &str,
) -> Result<Option<(User, Option<String>)>, StoreError> {
    Err(StoreError::Unfinished("web::login_user"))
}

pub(super) fn add_session(c: &mut Client, s: &WebSession) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("web::add_session"))
}

pub(super) fn touch_session(
    c: &mut Client,
    id_hash: &str,
    idle_since: Timestamp,
    now: Timestamp,
) -> Result<Option<WebSession>, StoreError> {
    Err(StoreError::Unfinished("web::touch_session"))
}

pub(super) fn end_session(c: &mut Client, id_hash: &str) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("web::end_session"))
}

pub(super) fn end_sessions_of(c: &mut Client, name: &str) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("web::end_sessions_of"))
}

pub(super) fn add_login_failure(
    c: &mut Client,
    name: &str,
    peer: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("web::add_login_failure"))
}

pub(super) fn login_failures(
    c: &mut Client,
    name: &str,
    peer: &str,
    since: Timestamp,
) -> Result<(u32, u32), StoreError> {
    Err(StoreError::Unfinished("web::login_failures"))
}
