//! The per-device hash chain check: [`check_chain`], pure and I/O-free.
//!
//! Each record carries its device's sequence number and the chain hash of
//! the device's previous record. Given what a store already holds around an
//! incoming record's position ([`ChainState`]), [`check_chain`] says what the
//! record is ([`ChainVerdict`]): the next link, a harmless resend, a fork
//! (the same position with different bytes: two histories, which a person
//! must look at), or a record beyond a gap (accepted; the gap is recorded
//! until it fills).

use crate::ids::{RecordHash, Seq};

/// What the store holds around the incoming record's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChainState {
    /// The hash of the record already stored at this sequence number.
    pub at_seq: Option<RecordHash>,
    /// The hash of the record stored at `seq - 1`.
    pub before: Option<RecordHash>,
    /// The `prev` of the record stored at `seq + 1`.
    pub after_prev: Option<RecordHash>,
    /// The highest sequence number stored for the device.
    pub head: Option<Seq>,
}

/// How a fork shows itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fork {
    /// A different record is already stored at this sequence number.
    SameSeq,
    /// Its `prev` is not the hash of the stored record before it.
    PrevMismatch,
    /// The stored record after it does not name it as `prev`.
    NextMismatch,
}

/// What an incoming record is, relative to its device's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainVerdict {
    /// The next record: accept.
    Next,
    /// Exactly the record already stored: accept again, idempotently.
    Duplicate,
    /// Fills a gap: accept.
    FillsGap,
    /// Beyond a gap: accept, and note that `missing_from..=missing_to` are
    /// not yet here.
    AfterGap {
        /// The first missing sequence number.
        missing_from: Seq,
        /// The last missing sequence number.
        missing_to: Seq,
    },
    /// Conflicts with what is stored: quarantine both and raise an alarm.
    Fork(Fork),
}

impl ChainVerdict {
    /// Whether the record is (or already was) accepted.
    pub const fn is_accepted(self) -> bool {
        !matches!(self, Self::Fork(_))
    }
}

/// Places a record with sequence number `seq`, chain hash `hash` and
/// previous hash `prev` against `state`.
pub fn check_chain(
    state: &ChainState,
    seq: Seq,
    prev: RecordHash,
    hash: RecordHash,
) -> ChainVerdict {
    if let Some(stored) = state.at_seq {
        return if stored == hash {
            ChainVerdict::Duplicate
        } else {
            ChainVerdict::Fork(Fork::SameSeq)
        };
    }
    if seq == Seq::FIRST {
        if prev != RecordHash::GENESIS {
            return ChainVerdict::Fork(Fork::PrevMismatch);
        }
    } else if let Some(before) = state.before
        && before != prev
    {
        return ChainVerdict::Fork(Fork::PrevMismatch);
    }
    if let Some(after) = state.after_prev
        && after != hash
    {
        return ChainVerdict::Fork(Fork::NextMismatch);
    }
    match state.head {
        Some(head) if head > seq => ChainVerdict::FillsGap,
        head => {
            let expected = head.map_or(Seq::FIRST, Seq::next);
            if seq == expected {
                ChainVerdict::Next
            } else {
                ChainVerdict::AfterGap {
                    missing_from: expected,
                    missing_to: Seq(seq.0 - 1),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: RecordHash = RecordHash([1; 32]);
    const B: RecordHash = RecordHash([2; 32]);
    const C: RecordHash = RecordHash([3; 32]);

    #[test]
    fn first_record_of_a_new_device_is_next() {
        let v = check_chain(&ChainState::default(), Seq(1), RecordHash::GENESIS, A);
        assert_eq!(v, ChainVerdict::Next);
    }

    #[test]
    fn first_record_must_start_from_genesis() {
        let v = check_chain(&ChainState::default(), Seq(1), B, A);
        assert_eq!(v, ChainVerdict::Fork(Fork::PrevMismatch));
    }

    #[test]
    fn next_links_to_the_head() {
        let s = ChainState {
            before: Some(A),
            head: Some(Seq(1)),
            ..ChainState::default()
        };
        assert_eq!(check_chain(&s, Seq(2), A, B), ChainVerdict::Next);
        assert_eq!(
            check_chain(&s, Seq(2), C, B),
            ChainVerdict::Fork(Fork::PrevMismatch)
        );
    }

    #[test]
    fn same_bytes_again_is_a_duplicate_and_different_bytes_a_fork() {
        let s = ChainState {
            at_seq: Some(B),
            before: Some(A),
            head: Some(Seq(2)),
            ..ChainState::default()
        };
        assert_eq!(check_chain(&s, Seq(2), A, B), ChainVerdict::Duplicate);
        assert_eq!(
            check_chain(&s, Seq(2), A, C),
            ChainVerdict::Fork(Fork::SameSeq)
        );
    }

    #[test]
    fn a_jump_is_accepted_after_a_gap() {
        let s = ChainState {
            head: Some(Seq(2)),
            ..ChainState::default()
        };
        assert_eq!(
            check_chain(&s, Seq(5), C, A),
            ChainVerdict::AfterGap {
                missing_from: Seq(3),
                missing_to: Seq(4)
            }
        );
    }

    #[test]
    fn filling_a_gap_must_match_both_neighbours() {
        let s = ChainState {
            before: Some(A),
            after_prev: Some(B),
            head: Some(Seq(9)),
            ..ChainState::default()
        };
        assert_eq!(check_chain(&s, Seq(3), A, B), ChainVerdict::FillsGap);
        assert_eq!(
            check_chain(&s, Seq(3), A, C),
            ChainVerdict::Fork(Fork::NextMismatch)
        );
    }
}
