//! A manager's acknowledgement applied to a signal (pure): it covers the
//! signal while the signal's evidence is all evidence the manager saw;
//! new evidence re-opens it.
//!
//! TODO(issue 16, rules branch).

use super::{Acknowledgement, Signal};

/// Sets each signal's `acknowledged` from `acks` (every acknowledgement of
/// the children in view, any order): the latest acknowledgement of the
/// signal's rule for one of its children whose evidence covers all of the
/// signal's evidence, else `None`.
pub fn apply(signals: &mut [Signal], acks: &[Acknowledgement]) {
    // Skeleton (replaced by the rules branch).
    let _ = (signals, acks);
}
