//! A device's caseload: the children its worker (or its room's devices)
//! works with, as the server sends it at each sync (feature `alloc`).
//!
//! | call | request | response |
//! | --- | --- | --- |
//! | `POST /v1/caseload` | [`CaseloadRequest`] (JSON) | [`SignedCaseload`] bytes (`application/x-hearth-caseload`) |
//!
//! **Who may ask.** The request is signed with the device key under
//! [`CASELOAD_REQUEST_DOMAIN`] over the device id and its clock, so only
//! the device itself can fetch the names on its caseload; the server
//! refuses a request whose clock is more than [`REQUEST_WINDOW_SECONDS`]
//! from its own (a replayed request is short-lived).
//!
//! **Why it is signed.** The caseload decides which names a worker picks a
//! child by, and which tasks a home screen shows. Anyone the TLS layer
//! trusts must not be able to add a child or hide a task, so the server
//! signs the caseload with its receipt key (the one the device pinned at
//! enrolment) under [`CASELOAD_DOMAIN`]; the caseload names the device
//! (one device's caseload cannot be replayed to another) and carries the
//! server's time (the device refuses one older than the one it holds, so
//! an old caseload cannot bring back a child removed since).
//!
//! **Minimum data.** Only what a worker needs in the field: names, dates
//! of birth, references, household members (name and relationship), a
//! one-line alert and the tasks due. No record content, no addresses.
//!
//! Wire form: postcard of [`Caseload`] followed by a 64-byte ed25519
//! signature over [`CASELOAD_DOMAIN`] and those bytes.

use alloc::string::String;
use alloc::vec::Vec;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::hex::{Hex, parse_hex};
use crate::ids::DeviceId;
use crate::signed::{SIGNATURE_LEN, sign_with_domain, verify_with_domain};
use crate::time::Timestamp;

/// Prefixed to a caseload request before the device signs it.
pub const CASELOAD_REQUEST_DOMAIN: &[u8] = b"hearth/caseload-request/v1\0";

/// Prefixed to a caseload's bytes before the server signs it.
pub const CASELOAD_DOMAIN: &[u8] = b"hearth/caseload/v1\0";

/// The content type of a signed caseload.
pub const CASELOAD_CONTENT_TYPE: &str = "application/x-hearth-caseload";

/// How far a request's device clock may be from the server's.
pub const REQUEST_WINDOW_SECONDS: i64 = 15 * 60;

/// The largest signed caseload a device accepts (a room of 60 children
/// with households and tasks is 26,295 bytes:
/// `tests::a_room_of_sixty_children_is_well_under_the_limit`).
pub const MAX_CASELOAD_BYTES: usize = 1 << 20;

/// A device asks for its caseload (`POST /v1/caseload`, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadRequest {
    /// The asking device.
    pub device: DeviceId,
    /// Its clock as it asked.
    pub device_time: Timestamp,
    /// Its signature over both, 128 hex digits.
    pub auth: String,
}

impl CaseloadRequest {
    fn message(device: DeviceId, device_time: Timestamp) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(device.as_bytes());
        out[8..].copy_from_slice(&device_time.0.to_le_bytes());
        out
    }

    /// Builds and signs a request.
    pub fn new(key: &SigningKey, device_time: Timestamp) -> Self {
        let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
        let sig = sign_with_domain(
            key,
            CASELOAD_REQUEST_DOMAIN,
            &Self::message(device, device_time),
        );
        Self {
            device,
            device_time,
            auth: alloc::format!("{}", Hex(&sig.to_bytes())),
        }
    }

    /// Whether the signature is the device key's.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        let Some(sig) = parse_hex::<64>(&self.auth) else {
            return false;
        };
        verify_with_domain(
            key,
            CASELOAD_REQUEST_DOMAIN,
            &Self::message(self.device, self.device_time),
            &Signature::from_bytes(&sig),
        )
    }
}

/// What a device holds about the children it works with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caseload {
    /// The device it is for.
    pub device: DeviceId,
    /// The server's clock when it was made.
    pub issued_at: Timestamp,
    /// The children, by name.
    pub children: Vec<CaseloadChild>,
}

/// One child on a caseload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadChild {
    /// The reference records are made under: the NHS number once the
    /// child has one, else the local reference (`ChildRef` text form).
    pub child: String,
    /// Every reference linked to the child, `child` first.
    pub refs: Vec<String>,
    /// The child's name.
    pub name: String,
    /// Date of birth (midnight UTC), if born.
    pub born: Option<Timestamp>,
    /// Expected date of delivery (midnight UTC), for an unborn child.
    pub expected: Option<Timestamp>,
    /// The group (nursery room, school class) it is on this device's
    /// caseload through, if not the worker's own.
    pub group: Option<String>,
    /// Who lives with the child now.
    pub household: Vec<HouseholdMember>,
    /// A short line for a worker about to see the child ("on a child
    /// protection plan; last seen 12 days ago"); empty if nothing to say.
    pub alerts: String,
    /// What is due.
    pub tasks: Vec<Task>,
}

/// A member of a child's household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdMember {
    /// Their name.
    pub name: String,
    /// Their relationship to the child, as a word (`mother`, `father`,
    /// `male_carer`, `grandparent`, `sibling`, `other`).
    pub relationship: String,
}

crate::words! {
    /// What a task asks for.
    pub enum TaskKind {
        /// A home visit, by the child's plan's visiting frequency.
        Visit => "visit",
        /// The new birth review (10–14 days).
        ReviewNewBirth => "review_new_birth",
        /// The 6–8 week review.
        Review6To8Weeks => "review_6_8_weeks",
        /// The 1 year review.
        Review1Year => "review_1_year",
        /// The 2–2½ year review.
        Review2Years => "review_2_years",
        /// Rebook an appointment the child was not brought to.
        Rebook => "rebook",
        /// A task kind this build does not know (a newer server's).
        #[serde(other)]
        Unknown => "unknown",
    }
}

/// Something due for a child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// What.
    pub kind: TaskKind,
    /// From when a matching record clears it (midnight UTC).
    pub from: Timestamp,
    /// When it is due (midnight UTC); overdue after this day.
    pub due: Timestamp,
    /// What a worker reads ("Home visit due (every 10 working days)").
    pub label: String,
}

impl Task {
    /// Whether a record about the child, with these fields, made at
    /// `occurred_at`, clears the task: the one matching rule the server
    /// (which drops a cleared task) and the device (which shows a task
    /// done as soon as it is captured, before it syncs) both apply.
    ///
    /// - a visit: a home visit on or after `from` at which the child was
    ///   seen (awake or asleep);
    /// - a review: a developmental review of that contact on or after
    ///   `from` that the child was brought to;
    /// - a rebooking: any developmental review on or after `from` that the
    ///   child was brought to.
    pub fn cleared_by(&self, detail: &crate::kinds::Detail, occurred_at: Timestamp) -> bool {
        use crate::kinds::Detail;
        use crate::kinds::developmental_review::ReviewContact;
        use crate::kinds::home_visit::ChildSeen;
        if occurred_at < self.from {
            return false;
        }
        match (self.kind, detail) {
            (TaskKind::Visit, Detail::HomeVisit(v)) => v.child_seen != ChildSeen::NotSeen,
            (kind, Detail::DevelopmentalReview(r)) if !r.was_not_brought => match kind {
                TaskKind::ReviewNewBirth => r.contact == ReviewContact::NewBirth,
                TaskKind::Review6To8Weeks => r.contact == ReviewContact::SixToEightWeeks,
                TaskKind::Review1Year => r.contact == ReviewContact::OneYear,
                TaskKind::Review2Years => r.contact == ReviewContact::TwoToTwoAndAHalfYears,
                TaskKind::Rebook => true,
                TaskKind::Visit | TaskKind::Unknown => false,
            },
            _ => false,
        }
    }
}

/// Why a signed caseload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseloadRefusal {
    /// Too short, too long, or not a caseload.
    Malformed,
    /// The signature is not the pinned server key's.
    BadSignature,
    /// It is another device's.
    OtherDevice,
    /// It is older than the one held.
    Older,
}

impl core::fmt::Display for CaseloadRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the caseload does not decode",
            Self::BadSignature => {
                "the caseload is not signed by the server this device enrolled with"
            }
            Self::OtherDevice => "the caseload is for another device",
            Self::Older => "the caseload is older than the one this device holds",
        })
    }
}

impl Caseload {
    /// Signs the caseload: its postcard bytes, then the signature.
    pub fn sign(&self, server_key: &SigningKey) -> Vec<u8> {
        let mut out = postcard::to_allocvec(self).expect("a caseload always encodes");
        let sig = sign_with_domain(server_key, CASELOAD_DOMAIN, &out);
        out.extend_from_slice(&sig.to_bytes());
        out
    }

    /// Checks signed bytes from the server: the pinned key's signature,
    /// this device's, and not older than `held` (the issue time of the
    /// caseload the device already has, if any).
    pub fn verify(
        bytes: &[u8],
        server_key: &VerifyingKey,
        device: DeviceId,
        held: Option<Timestamp>,
    ) -> Result<Self, CaseloadRefusal> {
        if bytes.len() <= SIGNATURE_LEN || bytes.len() > MAX_CASELOAD_BYTES {
            return Err(CaseloadRefusal::Malformed);
        }
        let (body, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        let sig = <[u8; 64]>::try_from(sig).map_err(|_| CaseloadRefusal::Malformed)?;
        if !verify_with_domain(
            server_key,
            CASELOAD_DOMAIN,
            body,
            &Signature::from_bytes(&sig),
        ) {
            return Err(CaseloadRefusal::BadSignature);
        }
        let caseload: Self = match postcard::from_bytes(body) {
            Ok(c) => c,
            Err(_) => return Err(CaseloadRefusal::Malformed),
        };
        if caseload.device != device {
            return Err(CaseloadRefusal::OtherDevice);
        }
        if held.is_some_and(|h| caseload.issued_at < h) {
            return Err(CaseloadRefusal::Older);
        }
        Ok(caseload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn caseload(device: DeviceId, at: i64) -> Caseload {
        Caseload {
            device,
            issued_at: Timestamp(at),
            children: vec![CaseloadChild {
                child: "local:NURSERY-12:amy-b".into(),
                refs: vec!["local:NURSERY-12:amy-b".into()],
                name: "Amy Brown".into(),
                born: Some(Timestamp(1_700_000_000)),
                expected: None,
                group: Some("Rainbow room".into()),
                household: vec![HouseholdMember {
                    name: "Dean Brown".into(),
                    relationship: "father".into(),
                }],
                alerts: "on a child protection plan".into(),
                tasks: vec![Task {
                    kind: TaskKind::Visit,
                    from: Timestamp(1_700_000_000),
                    due: Timestamp(1_701_000_000),
                    label: "Home visit due".into(),
                }],
            }],
        }
    }

    #[test]
    fn a_signed_caseload_verifies_and_any_changed_byte_is_refused() {
        let device = DeviceId([7; 8]);
        let bytes = caseload(device, 100).sign(&key(1));
        let pinned = key(1).verifying_key();
        assert_eq!(
            Caseload::verify(&bytes, &pinned, device, Some(Timestamp(100))),
            Ok(caseload(device, 100))
        );
        for i in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(
                Caseload::verify(&bad, &pinned, device, None).is_err(),
                "{i}"
            );
        }
        assert_eq!(
            Caseload::verify(&bytes, &key(2).verifying_key(), device, None),
            Err(CaseloadRefusal::BadSignature)
        );
        assert_eq!(
            Caseload::verify(&bytes, &pinned, DeviceId([8; 8]), None),
            Err(CaseloadRefusal::OtherDevice)
        );
        assert_eq!(
            Caseload::verify(&bytes, &pinned, device, Some(Timestamp(101))),
            Err(CaseloadRefusal::Older)
        );
        assert_eq!(
            Caseload::verify(&bytes[..10], &pinned, device, None),
            Err(CaseloadRefusal::Malformed)
        );
    }

    #[test]
    fn a_request_verifies_only_with_its_device_key() {
        let req = CaseloadRequest::new(&key(3), Timestamp(5));
        assert!(req.verify(&key(3).verifying_key()));
        assert!(!req.verify(&key(4).verifying_key()));
        let moved = CaseloadRequest {
            device_time: Timestamp(6),
            ..req
        };
        assert!(!moved.verify(&key(3).verifying_key()));
    }

    /// A record's fields from its JSON (the `record` command's form).
    #[cfg(feature = "std")]
    fn detail(json: &str) -> crate::kinds::Detail {
        crate::json::parse_body(
            &alloc::format!(
                r#"{{"children":["nhs:9434765919"],"occurred_at":"2026-03-02T10:30:00Z","headline":"h",{json}}}"#
            ),
            &crate::json::Defaults {
                author: "hv.jones".try_into().unwrap(),
                agency: "HV-NORTH".try_into().unwrap(),
            },
        )
        .unwrap()
        .detail
    }

    #[cfg(feature = "std")]
    fn review(contact: &str, not_brought: bool) -> crate::kinds::Detail {
        let outcomes = if not_brought {
            ""
        } else {
            r#","outcomes":[{"domain":"communication","outcome":"on_track"}]"#
        };
        detail(&alloc::format!(
            r#""kind":"developmental_review","contact":"{contact}","was_not_brought":{not_brought}{outcomes}"#
        ))
    }

    fn task(kind: TaskKind) -> Task {
        Task {
            kind,
            from: Timestamp(1_000),
            due: Timestamp(2_000),
            label: "t".into(),
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn a_visit_is_cleared_by_a_home_visit_seeing_the_child_on_or_after_from() {
        let visit = task(TaskKind::Visit);
        let awake = detail(r#""kind":"home_visit","access":"announced","child_seen":"awake""#);
        let asleep = detail(r#""kind":"home_visit","access":"unannounced","child_seen":"asleep""#);
        let not_seen = detail(
            r#""kind":"home_visit","access":"no_access","child_seen":"not_seen","not_seen_reason":"no answer""#,
        );
        assert!(visit.cleared_by(&awake, Timestamp(1_000)));
        assert!(
            visit.cleared_by(&asleep, Timestamp(5_000)),
            "after due: still clears"
        );
        assert!(!visit.cleared_by(&awake, Timestamp(999)), "before from");
        assert!(!visit.cleared_by(&not_seen, Timestamp(1_500)));
        assert!(!visit.cleared_by(&review("1_year", false), Timestamp(1_500)));
        assert!(!task(TaskKind::Unknown).cleared_by(&awake, Timestamp(1_500)));
    }

    #[cfg(feature = "std")]
    #[test]
    fn a_review_is_cleared_by_that_contact_brought_and_a_rebooking_by_any_brought() {
        let kinds = [
            (TaskKind::ReviewNewBirth, "new_birth"),
            (TaskKind::Review6To8Weeks, "6_8_weeks"),
            (TaskKind::Review1Year, "1_year"),
            (TaskKind::Review2Years, "2_2half_years"),
        ];
        for (kind, contact) in kinds {
            let t = task(kind);
            for (_, other) in kinds {
                assert_eq!(
                    t.cleared_by(&review(other, false), Timestamp(1_200)),
                    other == contact,
                    "{kind:?} by {other}"
                );
            }
            assert!(
                !t.cleared_by(&review(contact, true), Timestamp(1_200)),
                "not brought"
            );
            assert!(
                !t.cleared_by(&review(contact, false), Timestamp(900)),
                "before from"
            );
            let rebook = task(TaskKind::Rebook);
            assert!(rebook.cleared_by(&review(contact, false), Timestamp(1_000)));
            assert!(!rebook.cleared_by(&review(contact, true), Timestamp(1_000)));
            assert!(!rebook.cleared_by(&review(contact, false), Timestamp(999)));
        }
        let visit = detail(r#""kind":"home_visit","access":"announced","child_seen":"awake""#);
        assert!(!task(TaskKind::Rebook).cleared_by(&visit, Timestamp(1_500)));
    }

    /// The size a device holds for a full room: 60 children, each with
    /// two references, three household members, an alerts line and three
    /// tasks, names and labels of realistic length. The figure in
    /// `MAX_CASELOAD_BYTES`'s comment is this one.
    #[test]
    fn a_room_of_sixty_children_is_well_under_the_limit() {
        let child = |i: usize| CaseloadChild {
            child: alloc::format!("nhs:94347659{i:02}"),
            refs: vec![
                alloc::format!("nhs:94347659{i:02}"),
                alloc::format!("local:NURSERY-12:child-{i:03}"),
            ],
            name: alloc::format!("Firstname{i:02} Surname-Longer"),
            born: Some(Timestamp(1_700_000_000)),
            expected: None,
            group: Some("Rainbow room".into()),
            household: (0..3)
                .map(|k| HouseholdMember {
                    name: alloc::format!("Adult{k} Surname-Longer"),
                    relationship: "male_carer".into(),
                })
                .collect(),
            alerts:
                "on a child protection plan; last seen 12 days ago; open signals: child_not_seen"
                    .into(),
            tasks: (0..3)
                .map(|_| Task {
                    kind: TaskKind::Review2Years,
                    from: Timestamp(1_700_000_000),
                    due: Timestamp(1_701_000_000),
                    label: "2–2½ year review (due at 30 months)".into(),
                })
                .collect(),
        };
        let room = Caseload {
            device: DeviceId([7; 8]),
            issued_at: Timestamp(100),
            children: (0..60).map(child).collect(),
        };
        let bytes = room.sign(&key(1));
        assert!(bytes.len() < 32 * 1024, "{} bytes", bytes.len());
        assert!(
            bytes.len() * 16 < MAX_CASELOAD_BYTES,
            "{} bytes",
            bytes.len()
        );
    }
}
