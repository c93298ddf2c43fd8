//! signals: see the SQLite counterpart `store/sqlite/signals.rs`; same behaviour over PostgreSQL.
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

pub(super) fn signal_states(
    c: &mut Client,
    children: &[ChildRef],
) -> Result<Vec<SignalState>, StoreError> {
    Err(StoreError::Unfinished("signals::signal_states"))
}

pub(super) fn stale_children(
    c: &mut Client,
    now: Timestamp,
    fingerprint: &str,
    limit: usize,
) -> Result<Vec<ChildRef>, StoreError> {
    Err(StoreError::Unfinished("signals::stale_children"))
}

pub(super) fn save_signal_state(c: &mut Client, s: &SignalState) -> Result<bool, StoreError> {
    Err(StoreError::Unfinished("signals::save_signal_state"))
}

pub(super) fn raised_signal_states(c: &mut Client) -> Result<Vec<SignalState>, StoreError> {
    Err(StoreError::Unfinished("signals::raised_signal_states"))
}

pub(super) fn add_signal_ack(c: &mut Client, a: &Acknowledgement) -> Result<(), StoreError> {
    Err(StoreError::Unfinished("signals::add_signal_ack"))
}

pub(super) fn signal_acks(
    c: &mut Client,
    children: Option<&[ChildRef]>,
) -> Result<Vec<Acknowledgement>, StoreError> {
    Err(StoreError::Unfinished("signals::signal_acks"))
}

pub(super) fn save_signal_states(
    c: &mut Client,
    states: &[SignalState],
) -> Result<usize, StoreError> {
    Err(StoreError::Unfinished("signals::save_signal_states"))
}
