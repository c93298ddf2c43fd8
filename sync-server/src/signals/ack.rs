//! A manager's acknowledgement applied to a signal (pure): it covers the
//! signal while the signal's evidence is all evidence the manager saw;
//! new evidence re-opens it.
//!
//! An acknowledgement is kept for good (the store never deletes one); it
//! only stops showing when the signal holds a record the manager had not
//! seen. If the signal later shrinks back (a record entered in error),
//! the acknowledgement covers it again.

use hearth_shared::ChildRef;

use super::{Acknowledgement, Signal};

/// Sets each of `child`'s signals' `acknowledged` from `acks` (any
/// acknowledgements, any order): the latest acknowledgement of that
/// child and the signal's rule whose evidence holds every record of the
/// signal's evidence, else `None`. Another child's acknowledgement never
/// counts: a family-wide signal is acknowledged child by child, and
/// merged by [`super::refresh`].
pub fn apply(child: &ChildRef, signals: &mut [Signal], acks: &[Acknowledgement]) {
    for s in signals {
        s.acknowledged = acks
            .iter()
            .filter(|a| &a.child == child && a.rule == s.rule)
            .filter(|a| s.evidence.iter().all(|id| a.evidence.contains(id)))
            .max_by_key(|a| a.at)
            .cloned();
    }
}

#[cfg(test)]
mod tests {
    use hearth_shared::{DeviceId, RecordId, Seq, Timestamp};

    use super::*;
    use crate::chronology::tests::{ANNA, BEN};
    use crate::signals::Rule;

    fn id(seq: u64) -> RecordId {
        RecordId {
            device: DeviceId([1; 8]),
            seq: Seq(seq),
        }
    }

    fn signal(rule: Rule, evidence: &[u64]) -> Signal {
        Signal {
            rule,
            title: "t".into(),
            explanation: "e".into(),
            learning_point: "l".into(),
            children: vec![ANNA.parse().unwrap()],
            evidence: evidence.iter().map(|&s| id(s)).collect(),
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            acknowledged: None,
        }
    }

    fn ack(child: &str, rule: Rule, at: i64, evidence: &[u64], note: &str) -> Acknowledgement {
        Acknowledgement {
            child: child.parse().unwrap(),
            rule,
            by: "tm.khan".into(),
            at: Timestamp(at),
            note: note.into(),
            evidence: evidence.iter().map(|&s| id(s)).collect(),
        }
    }

    fn anna() -> ChildRef {
        ANNA.parse().unwrap()
    }

    #[test]
    fn an_ack_covering_every_piece_of_evidence_acknowledges() {
        let mut s = [signal(Rule::VoiceNotActedOn, &[1, 2])];
        let a = ack(ANNA, Rule::VoiceNotActedOn, 10, &[1, 2, 3], "discussed");
        apply(&anna(), &mut s, std::slice::from_ref(&a));
        assert_eq!(s[0].acknowledged, Some(a));
    }

    #[test]
    fn new_evidence_reopens_and_the_latest_covering_ack_wins() {
        let older = ack(ANNA, Rule::VoiceNotActedOn, 10, &[1], "first look");
        let newer = ack(ANNA, Rule::VoiceNotActedOn, 20, &[1, 2], "seen both");
        let mut s = [signal(Rule::VoiceNotActedOn, &[1, 2, 3])];
        s[0].acknowledged = Some(older.clone());
        apply(&anna(), &mut s, &[newer.clone(), older.clone()]);
        assert_eq!(s[0].acknowledged, None, "record 3 re-opens it");
        let mut s = [signal(Rule::VoiceNotActedOn, &[1])];
        apply(&anna(), &mut s, &[newer.clone(), older.clone()]);
        assert_eq!(
            s[0].acknowledged,
            Some(newer.clone()),
            "latest of the two covering"
        );
        let mut s = [signal(Rule::VoiceNotActedOn, &[1, 2])];
        apply(&anna(), &mut s, &[older, newer.clone()]);
        assert_eq!(s[0].acknowledged, Some(newer), "only the one covering 2");
    }

    #[test]
    fn another_childs_or_another_rules_ack_does_not_count() {
        let mut s = [signal(Rule::VoiceNotActedOn, &[1])];
        apply(
            &anna(),
            &mut s,
            &[
                ack(BEN, Rule::VoiceNotActedOn, 10, &[1], "Ben's"),
                ack(ANNA, Rule::ChildNotSeen, 10, &[1], "another rule"),
            ],
        );
        assert_eq!(s[0].acknowledged, None);
    }
}
