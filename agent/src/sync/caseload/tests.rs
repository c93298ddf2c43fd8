//! The caseload fetched at sync, against a fake server: good, tampered,
//! older, another device's, a child removed, no caseloads.

use super::*;
use crate::capture::tests::test_key;
use ed25519_dalek::SigningKey;
use hearth_shared::DeviceId;
use hearth_shared::caseload::CaseloadChild;
use hearth_shared::clock::FixedClock;
use std::cell::RefCell;

/// A fake server answering with whatever `answer` holds, checking the
/// request's signature as the real one does.
struct FakeServer {
    device_key: VerifyingKey,
    answer: RefCell<Option<Vec<u8>>>,
    asked: RefCell<usize>,
}

impl CaseloadFetcher for FakeServer {
    fn fetch_caseload(&self, request: &CaseloadRequest) -> Result<Option<Vec<u8>>, TransportError> {
        assert!(request.verify(&self.device_key));
        *self.asked.borrow_mut() += 1;
        Ok(self.answer.borrow().clone())
    }
}

fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

fn child(name: &str, r: &str) -> CaseloadChild {
    CaseloadChild {
        child: r.into(),
        refs: vec![r.into()],
        name: name.into(),
        born: Some(Timestamp(1_750_000_000)),
        expected: None,
        group: None,
        household: vec![],
        alerts: String::new(),
        tasks: vec![],
    }
}

fn caseload(device: DeviceId, at: i64, children: Vec<CaseloadChild>) -> Caseload {
    Caseload {
        device,
        issued_at: Timestamp(at),
        children,
    }
}

struct Setup {
    store: LocalStore,
    key: DeviceKey,
    server: FakeServer,
    clock: FixedClock,
}

impl Setup {
    fn new() -> Self {
        let key = test_key();
        Self {
            store: LocalStore::open_in_memory().unwrap(),
            server: FakeServer {
                device_key: key.verifying_key(),
                answer: RefCell::new(None),
                asked: RefCell::new(0),
            },
            key,
            clock: FixedClock(Timestamp(1_800_000_000)),
        }
    }

    fn answer(&self, bytes: Vec<u8>) {
        *self.server.answer.borrow_mut() = Some(bytes);
    }

    fn fetch(&self) -> CaseloadOutcome {
        fetch(
            &self.store,
            &self.key,
            &server_key().verifying_key(),
            &self.clock,
            &self.server,
        )
        .unwrap()
    }

    fn names(&self) -> Vec<String> {
        self.store
            .caseload()
            .unwrap()
            .map(|c| c.children.into_iter().map(|c| c.name).collect())
            .unwrap_or_default()
    }
}

#[test]
fn a_good_caseload_is_stored_and_replaces_the_held_one_whole() {
    let s = Setup::new();
    let me = s.key.device_id();
    let both = vec![
        child("Amy Brown", "local:HV:amy"),
        child("Ben Cole", "local:HV:ben"),
    ];
    s.answer(caseload(me, 100, both).sign(&server_key()));
    assert!(matches!(
        s.fetch(),
        CaseloadOutcome::Stored { children: 2, .. }
    ));
    assert_eq!(s.names(), ["Amy Brown", "Ben Cole"]);
    // Ben is taken off the caseload: he is gone from the device.
    s.answer(caseload(me, 200, vec![child("Amy Brown", "local:HV:amy")]).sign(&server_key()));
    assert!(matches!(
        s.fetch(),
        CaseloadOutcome::Stored { children: 1, .. }
    ));
    assert_eq!(s.names(), ["Amy Brown"]);
    assert_eq!(warning(&s.fetch()), None);
}

#[test]
fn a_tampered_caseload_is_refused_and_the_held_one_kept() {
    let s = Setup::new();
    let me = s.key.device_id();
    s.answer(caseload(me, 100, vec![child("Amy Brown", "local:HV:amy")]).sign(&server_key()));
    s.fetch();
    let mut bad = caseload(me, 200, vec![child("Eve Mallory", "local:HV:eve")]).sign(&server_key());
    bad[3] ^= 1;
    s.answer(bad);
    let outcome = s.fetch();
    assert!(matches!(
        outcome,
        CaseloadOutcome::Refused {
            refusal: CaseloadRefusal::BadSignature | CaseloadRefusal::Malformed,
            held: Some(Timestamp(100)),
        }
    ));
    assert_eq!(s.names(), ["Amy Brown"]);
    let line = warning(&outcome).unwrap();
    assert!(line.starts_with("warning: caseload refused: "), "{line}");
    assert!(
        line.ends_with("; keeping the caseload from 1970-01-01"),
        "{line}"
    );
    // Signed by another key: refused too.
    s.answer(caseload(me, 300, vec![]).sign(&SigningKey::from_bytes(&[3u8; 32])));
    assert!(matches!(
        s.fetch(),
        CaseloadOutcome::Refused {
            refusal: CaseloadRefusal::BadSignature,
            ..
        }
    ));
    assert_eq!(s.names(), ["Amy Brown"]);
}

#[test]
fn an_older_caseload_is_refused() {
    let s = Setup::new();
    let me = s.key.device_id();
    s.answer(caseload(me, 200, vec![child("Amy Brown", "local:HV:amy")]).sign(&server_key()));
    s.fetch();
    let back = vec![
        child("Amy Brown", "local:HV:amy"),
        child("Ben Cole", "local:HV:ben"),
    ];
    s.answer(caseload(me, 100, back).sign(&server_key()));
    assert!(matches!(
        s.fetch(),
        CaseloadOutcome::Refused {
            refusal: CaseloadRefusal::Older,
            held: Some(Timestamp(200)),
        }
    ));
    assert_eq!(s.names(), ["Amy Brown"]);
}

#[test]
fn another_devices_caseload_is_refused() {
    let s = Setup::new();
    let other = DeviceId([0xEE; 8]);
    s.answer(caseload(other, 100, vec![child("Amy Brown", "local:HV:amy")]).sign(&server_key()));
    let outcome = s.fetch();
    assert!(matches!(
        outcome,
        CaseloadOutcome::Refused {
            refusal: CaseloadRefusal::OtherDevice,
            held: None,
        }
    ));
    assert_eq!(s.store.caseload().unwrap(), None);
    assert_eq!(
        warning(&outcome).unwrap(),
        "warning: caseload refused: the caseload is for another device; no caseload is held"
    );
}

#[test]
fn a_server_without_caseloads_is_skipped_quietly() {
    let s = Setup::new();
    let outcome = s.fetch();
    assert!(matches!(outcome, CaseloadOutcome::Unsupported));
    assert_eq!(warning(&outcome), None);
    assert_eq!(*s.server.asked.borrow(), 1);
    assert_eq!(s.store.caseload().unwrap(), None);
}
