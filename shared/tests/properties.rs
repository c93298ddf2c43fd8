//! Property tests: generated records of every kind survive encode → decode
//! unchanged, and no byte string, random or mutated from a real record,
//! makes decoding panic.

use ed25519_dalek::SigningKey;
use hearth_shared::kinds::{
    Amendment, CareDomain, Concern, DailyPresentation, DevelopmentalReview, Escalation, Grade,
    HomeVisit, Meeting, NeglectSummary, PersonPresent, PersonRole, VoiceOfChild, concern,
    daily_presentation as dp, developmental_review as dr, escalation, home_visit as hv, meeting,
    neglect_summary, voice,
};
use hearth_shared::signed::decode_envelope;
use hearth_shared::{
    Body, ChildRef, DeviceId, Envelope, FORMAT_VERSION, List, RecordHash, RecordId, Seq,
    SignedRecord, Text, TimeOfDay, Timestamp, verify,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Free text of at most `N` bytes (and at most 60 characters, for speed),
/// including multi-byte characters.
fn text<const N: usize>() -> impl Strategy<Value = Text<N>> {
    let max = (N / 4).min(60);
    proptest::string::string_regex(&format!("[a-zA-Z0-9 ,.'é€-]{{0,{max}}}"))
        .unwrap()
        .prop_map(|s| Text::try_from_str(&s).unwrap())
}

/// Required text: starts with a letter, so it is never blank.
fn required<const N: usize>() -> impl Strategy<Value = Text<N>> {
    let max = (N / 4).min(60);
    proptest::string::string_regex(&format!("[A-Z][a-z0-9 ,.'é-]{{0,{max}}}"))
        .unwrap()
        .prop_map(|s| Text::try_from_str(&s).unwrap())
}

fn list<T: Clone + std::fmt::Debug, const N: usize>(
    item: impl Strategy<Value = T>,
    min: usize,
) -> impl Strategy<Value = List<T, N>> {
    prop::collection::vec(item, min..=N).prop_map(|v| List::try_from_slice(&v).unwrap())
}

/// A list of distinct vocabulary values.
fn distinct<T: Copy + Ord + std::fmt::Debug + 'static, const N: usize>(
    all: &'static [T],
    min: usize,
) -> impl Strategy<Value = Vec<T>> {
    proptest::sample::subsequence(all, min..=all.len().min(N))
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (Timestamp::MIN.0..=Timestamp::MAX.0).prop_map(Timestamp)
}

fn grade() -> impl Strategy<Value = Grade> {
    (1u8..=5).prop_map(Grade)
}

fn person() -> impl Strategy<Value = PersonPresent> {
    (select(PersonRole::ALL), text::<48>())
        .prop_map(|(role, relationship)| PersonPresent { role, relationship })
}

fn child() -> impl Strategy<Value = ChildRef> {
    prop_oneof![
        (0u64..1_000_000_000).prop_filter_map("no valid check digit", |first9| {
            (0..10)
                .map(|d| first9 * 10 + d)
                .find(|n| hearth_shared::NhsNumber::new(*n).is_ok())
                .map(|n| ChildRef::Nhs(hearth_shared::NhsNumber::new(n).unwrap()))
        }),
        ("[A-Z][A-Z0-9-]{0,15}", "[A-Za-z0-9/]{1,24}").prop_map(|(issuer, id)| ChildRef::Local {
            issuer: Text::try_from_str(&issuer).unwrap(),
            id: Text::try_from_str(&id).unwrap(),
        }),
    ]
}

fn home_visit() -> impl Strategy<Value = HomeVisit> {
    (
        select(hv::VisitAccess::ALL),
        list::<_, 8>(person(), 0),
        select(hv::ChildSeen::ALL),
        required::<256>(),
        any::<Option<bool>>(),
        any::<Option<bool>>(),
        distinct::<_, 8>(CareDomain::ALL, 0),
        prop::collection::vec((grade(), text::<256>()), 8),
        text::<1024>(),
    )
        .prop_map(
            |(access, present, seen, reason, alone, bedroom, domains, grades, narrative)| {
                let child_seen = if access == hv::VisitAccess::NoAccess {
                    hv::ChildSeen::NotSeen
                } else {
                    seen
                };
                let not_seen = child_seen == hv::ChildSeen::NotSeen;
                let observations: Vec<_> = domains
                    .into_iter()
                    .zip(grades)
                    .map(|(domain, (grade, note))| hv::DomainObservation {
                        domain,
                        grade,
                        note,
                    })
                    .collect();
                HomeVisit {
                    access,
                    present,
                    child_seen,
                    not_seen_reason: if not_seen { reason } else { Text::new() },
                    seen_alone: if not_seen {
                        alone.filter(|a| !a)
                    } else {
                        alone
                    },
                    bedroom_seen: bedroom,
                    observations: List::try_from_slice(&observations).unwrap(),
                    narrative,
                }
            },
        )
}

fn injury() -> impl Strategy<Value = dp::Injury> {
    (
        select(dp::BodyRegion::ALL),
        required::<256>(),
        text::<256>(),
        text::<256>(),
    )
        .prop_map(
            |(body_region, description, carer_explanation, child_account)| dp::Injury {
                body_region,
                description,
                carer_explanation,
                child_account,
            },
        )
}

fn daily() -> impl Strategy<Value = DailyPresentation> {
    (
        select(dp::Attendance::ALL),
        required::<256>(),
        (0u16..1440).prop_map(TimeOfDay),
        (text::<48>(), text::<48>()),
        any::<[bool; 4]>(),
        text::<256>(),
        list::<_, 4>(injury(), 0),
    )
        .prop_map(
            |(attendance, reason, arrival, (brought_by, collected_by), flags, note, injuries)| {
                let absent = matches!(
                    attendance,
                    dp::Attendance::AbsentWithReason | dp::Attendance::AbsentUnexplained
                );
                DailyPresentation {
                    attendance,
                    absence_reason: if attendance == dp::Attendance::AbsentWithReason {
                        reason
                    } else {
                        Text::new()
                    },
                    arrival_time: (!absent).then_some(arrival),
                    brought_by,
                    collected_by,
                    hungry: flags[0],
                    hygiene_concern: flags[1],
                    clothing_concern: flags[2],
                    nappy_concern: flags[3],
                    concern_note: note,
                    injuries,
                }
            },
        )
}

fn voice() -> impl Strategy<Value = VoiceOfChild> {
    (
        select(voice::VoiceMode::ALL),
        required::<1024>(),
        required::<1024>(),
        list::<_, 8>(person(), 0),
        any::<Option<bool>>(),
        text::<512>(),
        text::<512>(),
    )
        .prop_map(
            |(mode, words, behaviour, present, seen_alone, meaning, action)| VoiceOfChild {
                mode,
                words,
                behaviour,
                present,
                seen_alone,
                meaning,
                action,
            },
        )
}

fn concern() -> impl Strategy<Value = Concern> {
    (
        select(concern::ConcernCategory::ALL),
        required::<1024>(),
        select(concern::ConcernAction::ALL),
        required::<256>(),
    )
        .prop_map(|(category, seen_or_said, action, action_detail)| Concern {
            category,
            seen_or_said,
            action,
            action_detail,
        })
}

fn review() -> impl Strategy<Value = DevelopmentalReview> {
    (
        select(dr::ReviewContact::ALL),
        any::<bool>(),
        distinct::<_, 5>(dr::DevDomain::ALL, 1),
        prop::collection::vec(select(dr::DevOutcome::ALL), 5),
        text::<512>(),
    )
        .prop_map(|(contact, wnb, domains, outcomes, note)| {
            let outcomes: Vec<_> = domains
                .into_iter()
                .zip(outcomes)
                .map(|(domain, outcome)| dr::DomainOutcome { domain, outcome })
                .collect();
            DevelopmentalReview {
                contact,
                was_not_brought: wnb,
                outcomes: if wnb {
                    List::new()
                } else {
                    List::try_from_slice(&outcomes).unwrap()
                },
                note,
            }
        })
}

fn meeting() -> impl Strategy<Value = Meeting> {
    let attendee = (required::<48>(), text::<16>())
        .prop_map(|(name, agency)| meeting::Attendee { name, agency });
    (
        select(meeting::MeetingType::ALL),
        list::<_, 16>(attendee, 1),
        list::<_, 8>(required::<16>(), 0),
        text::<1024>(),
        select(meeting::Minutes::ALL),
        required::<48>(),
    )
        .prop_map(
            |(meeting_type, attendees, absent_agencies, decisions, minutes, by)| Meeting {
                meeting_type,
                attendees,
                absent_agencies,
                decisions,
                minutes,
                minutes_by: if minutes == meeting::Minutes::Recorded {
                    by
                } else {
                    Text::new()
                },
            },
        )
}

fn escalation() -> impl Strategy<Value = Escalation> {
    (
        1u8..=4,
        required::<48>(),
        required::<48>(),
        select(escalation::Disputed::ALL),
        required::<1024>(),
        text::<512>(),
        any::<bool>(),
    )
        .prop_map(
            |(stage, raised_by, raised_with, disputed, disagreement, outcome, resolved)| {
                Escalation {
                    stage,
                    raised_by,
                    raised_with,
                    disputed,
                    disagreement,
                    outcome,
                    resolved,
                }
            },
        )
}

fn neglect() -> impl Strategy<Value = NeglectSummary> {
    (
        distinct::<_, 8>(CareDomain::ALL, 1),
        prop::collection::vec(grade(), 8),
        1u8..=100,
        any::<bool>(),
        text::<1024>(),
    )
        .prop_map(|(areas, grades, visits, trained, evidence)| {
            let grades: Vec<_> = areas
                .into_iter()
                .zip(grades)
                .map(|(area, grade)| neglect_summary::AreaGrade { area, grade })
                .collect();
            NeglectSummary {
                grades: List::try_from_slice(&grades).unwrap(),
                visits,
                assessor_trained: trained,
                evidence,
            }
        })
}

fn amendment() -> impl Strategy<Value = Amendment> {
    (any::<[u8; 8]>(), 1u64.., required::<512>(), text::<1024>()).prop_map(
        |(device, seq, reason, correction)| Amendment {
            corrects: RecordId {
                device: DeviceId(device),
                seq: Seq(seq),
            },
            reason,
            correction,
        },
    )
}

fn detail() -> impl Strategy<Value = hearth_shared::Detail> {
    use hearth_shared::Detail as D;
    prop_oneof![
        home_visit().prop_map(D::HomeVisit),
        daily().prop_map(D::DailyPresentation),
        voice().prop_map(D::Voice),
        concern().prop_map(D::Concern),
        review().prop_map(D::DevelopmentalReview),
        meeting().prop_map(D::Meeting),
        escalation().prop_map(D::Escalation),
        neglect().prop_map(D::NeglectSummary),
        amendment().prop_map(D::Amendment),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        prop::collection::btree_set(child(), 1..=8),
        timestamp(),
        required::<32>(),
        required::<16>(),
        required::<120>(),
        detail(),
        1u64..=i64::MAX as u64,
        any::<[u8; 32]>(),
        timestamp(),
    )
        .prop_map(
            |(children, occurred_at, author, agency, headline, detail, seq, prev, device_time)| {
                let children: Vec<_> = children.into_iter().collect();
                Envelope {
                    version: FORMAT_VERSION,
                    device: DeviceId::from_public_key(key().verifying_key().as_bytes()),
                    seq: Seq(seq),
                    prev: if seq == 1 {
                        RecordHash::GENESIS
                    } else {
                        RecordHash(prev)
                    },
                    device_time,
                    body: Body {
                        children: List::try_from_slice(&children).unwrap(),
                        occurred_at,
                        author,
                        agency,
                        headline,
                        detail,
                    },
                }
            },
        )
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(envelope in envelope()) {
        let signed = SignedRecord::sign(&key(), &envelope).unwrap();
        let verified = verify(&key().verifying_key(), signed.as_bytes()).unwrap();
        prop_assert_eq!(verified.envelope(), &envelope);
        let json = hearth_shared::json::body_to_json(&envelope.body).to_string();
        let again = hearth_shared::json::parse_body(&json, &Default::default()).unwrap();
        prop_assert_eq!(again, envelope.body);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..6000)) {
        let _ = decode_envelope(&bytes);
        let _ = verify(&key().verifying_key(), &bytes);
        let _ = hearth_shared::Receipt::verify(&key().verifying_key(), &bytes);
    }

    #[test]
    fn decoding_mutated_records_never_panics(
        envelope in envelope(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let signed = SignedRecord::sign(&key(), &envelope).unwrap().into_bytes();
        let envelope_bytes = &signed[..signed.len() - 64];
        let mut mutated = envelope_bytes.to_vec();
        for (at, byte) in flips {
            let i = at.index(mutated.len());
            mutated[i] = byte;
        }
        // Decoding mutated, unsigned bytes exercises the decoder past the signature check.
        let _ = decode_envelope(&mutated);
        let _ = decode_envelope(&mutated[..cut.index(mutated.len())]);
        let _ = verify(&key().verifying_key(), &signed[..cut.index(signed.len())]);
    }
}
