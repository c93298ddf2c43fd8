//! The SQLite backend's tests: migrations from older schemas, the ingest
//! transaction, reads of stored lines and corrections, checkpointing;
//! `signals`: stored signal states and acknowledgements; `people`: the
//! people register and its log.

mod caseload;
mod people;
mod signals;

use std::time::Duration;

use ed25519_dalek::SigningKey;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::protocol::VerdictStatus;
use hearth_shared::{Envelope, RecordHash, Seq, SignedRecord};
use rusqlite::params;

use super::migrations::{MIGRATIONS, migrate};
use super::*;
use crate::ingest::{BatchJob, Prechecked, apply_batch, precheck};
use crate::line::Line;
use crate::store::NewRecord;
use crate::store::any::AnyStore;

pub(crate) const ANNA: &str = "nhs:9434765919";
pub(crate) const BEN: &str = "local:LA-NORTH:C 0042";

/// Signs a chain of records from JSON bodies; returns (envelope, bytes).
pub(crate) fn chain(key: &SigningKey, bodies: &[String]) -> Vec<(Envelope, Vec<u8>)> {
    let defaults = Defaults {
        author: "hv.jones".try_into().unwrap(),
        agency: "HV-NORTH".try_into().unwrap(),
    };
    let mut prev = RecordHash::GENESIS;
    let mut out = Vec::new();
    for (i, json) in bodies.iter().enumerate() {
        let body = parse_body(json, &defaults).unwrap();
        let env = Envelope {
            version: body.format_version(),
            device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
            seq: Seq(i as u64 + 1),
            prev,
            device_time: Timestamp(1_790_000_000 + i as i64),
            body,
        };
        let signed = SignedRecord::sign(key, &env).unwrap();
        prev = signed.hash();
        out.push((env, signed.into_bytes()));
    }
    out
}

pub(crate) fn bodies(device: DeviceId) -> Vec<String> {
    vec![
        format!(
            r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","access":"unannounced","child_seen":"awake"}}"#
        ),
        format!(
            r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"Hid under the table","mode":"behaviour","behaviour":"hid"}}"#
        ),
        format!(
            r#"{{"kind":"amendment","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T09:30:00Z","headline":"Both seen, at 09:30","corrects":"{device}-1","reason":"time typed wrongly"}}"#
        ),
    ]
}

/// A database at schema version 3, as a server before migration 0004
/// left it: hex TEXT device ids, one row per table.
pub(crate) fn version_3(dir: &Path, key: &SigningKey, records: &[(Envelope, Vec<u8>)]) {
    let conn = Connection::open(db_path(dir)).unwrap();
    for m in &MIGRATIONS[..3] {
        conn.execute_batch(m.sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 3).unwrap();
    let device = records[0].0.device.to_string();
    conn.execute(
        "INSERT INTO devices (id, public_key, agency, worker, enrolled_at, clock_offset) VALUES (?1, ?2, 'HV-NORTH', 'hv.jones', 1, -5)",
        params![device, key.verifying_key().as_bytes().as_slice()],
    )
    .unwrap();
    for (e, bytes) in records {
        let hash = SignedRecord::sign(key, e).unwrap().hash();
        let corrects = e.body.detail.corrects().map(|(c, _)| c);
        conn.execute(
            "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry, disputed, corrects_device, corrects_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                device,
                e.seq.0 as i64,
                hash.0.as_slice(),
                e.prev.0.as_slice(),
                bytes,
                e.body.detail.kind().as_str(),
                e.body.occurred_at.0,
                e.device_time.0,
                e.device_time.0 + 60,
                e.device_time.0 - 5,
                e.seq.0 == 2,
                e.seq.0 == 2,
                corrects.map(|c| c.device.to_string()),
                corrects.map(|c| c.seq.0 as i64),
            ],
        )
        .unwrap();
        for child in e.body.children.iter() {
            conn.execute(
                "INSERT INTO record_children (child, device, seq) VALUES (?1, ?2, ?3)",
                params![child.to_string(), device, e.seq.0 as i64],
            )
            .unwrap();
        }
    }
    conn.execute(
        "INSERT INTO gaps (device, from_seq, to_seq) VALUES (?1, 7, 9)",
        [&device],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO quarantine (device, seq, status, reason, bytes, received_at, digest) VALUES (?1, 2, 'quarantined', 'fork', x'01', 5, NULL)",
        [&device],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO alarms (raised_at, device, seq, message) VALUES (5, ?1, 2, 'fork')",
        [&device],
    )
    .unwrap();
}

#[test]
fn migrating_a_version_3_database_keeps_every_row_and_fills_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[3; 32]);
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let records = chain(&key, &bodies(device));
    version_3(dir.path(), &key, &records);

    let store = SqliteStore::open(dir.path()).unwrap();
    let version: i64 = store
        .conn()
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);

    let d = store.device(device).unwrap().expect("device kept");
    assert_eq!(d.public_key, *key.verifying_key().as_bytes());
    assert_eq!(d.clock.offset, Some(-5));
    assert_eq!(d.gaps, vec![(Seq(7), Seq(9))]);
    assert_eq!(store.held().unwrap()[0].device, device);
    assert_eq!(store.alarms().unwrap()[0].device, device);

    // Every line equals what ingest would now store for the same bytes.
    let mut got = store
        .records_for(&[ANNA.parse().unwrap(), BEN.parse().unwrap()])
        .unwrap();
    got.sort_by_key(|r| r.line.id);
    let want: Vec<_> = records
        .iter()
        .map(|(e, _)| {
            FiledRecord::from_envelope(
                e,
                Timestamp(e.device_time.0 + 60),
                Timestamp(e.device_time.0 - 5),
                e.seq.0 == 2,
                e.seq.0 == 2,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        got[2].line.amends.as_ref().unwrap().reason,
        "time typed wrongly"
    );
    assert!(got[1].line.detail_flags.has(crate::line::Flag::NoAction));
    // Records naming several children still make a family.
    let groups = store.family_links().unwrap().named_together;
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups.iter().all(|g| g.children.len() == 2));
}

fn job(device: DeviceId, records: Vec<Prechecked>) -> BatchJob {
    BatchJob {
        device,
        device_time: Timestamp(1_790_000_100),
        received_at: Timestamp(1_790_000_100),
        records,
        late_entry_secs: 86_400,
        quarantine_budget: crate::ingest::DEFAULT_QUARANTINE_BUDGET,
    }
}

#[test]
fn after_migrating_the_chain_goes_on_and_a_refused_resend_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[4; 32]);
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let mut all = bodies(device);
    all.push(format!(
        r#"{{"kind":"voice","children":["{BEN}"],"occurred_at":"2026-03-04T11:00:00Z","headline":"Said he was hungry","mode":"words","words":"hungry","action":"told the DSL"}}"#
    ));
    let records = chain(&key, &all);
    version_3(dir.path(), &key, &records[..3]);
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let vk = key.verifying_key();
    let (_, next) = &records[3];
    let (_, first) = &records[0];
    let out = store
        .ingest(|tx| {
            apply_batch(
                tx,
                job(
                    device,
                    vec![
                        precheck(&vk, next.clone(), 10_000),
                        // Stored before; refused now (say, a lower size
                        // limit): still a duplicate, never a rejection.
                        precheck(&vk, first.clone(), 10),
                        // A record this server never held, refused.
                        precheck(&vk, vec![1; 200], 10_000),
                    ],
                ),
            )
        })
        .unwrap();
    let statuses: Vec<_> = out.verdicts.iter().map(|v| v.status).collect();
    assert_eq!(
        statuses,
        [
            VerdictStatus::Accepted,
            VerdictStatus::Duplicate,
            VerdictStatus::Rejected
        ]
    );
    assert_eq!(out.verdicts[1].seq, Some(Seq(1)));
    assert_eq!(
        out.held[1].1,
        SignedRecord::sign(&key, &records[0].0).unwrap().hash()
    );
    let ben = store.records_for(&[BEN.parse().unwrap()]).unwrap();
    assert_eq!(ben.len(), 3, "two from before, one after");
    assert_eq!(
        store.held().unwrap().len(),
        2,
        "the earlier hold and the new rejection"
    );
}

/// Enrols a device for `agency`/`worker` through a token.
pub(crate) fn enrol(store: &impl Store, key: &SigningKey, agency: &str, worker: &str) -> DeviceId {
    let grant = Grant {
        agency: agency.into(),
        worker: worker.into(),
        staff: vec![],
    };
    let hash = format!("token-{agency}");
    store
        .add_enrol_token(&hash, &grant, Timestamp(1), Timestamp(i64::MAX))
        .unwrap();
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let public = *key.verifying_key().as_bytes();
    store
        .enrol(&hash, device, public, Timestamp(2))
        .unwrap()
        .unwrap();
    device
}

/// Stores `records` of `key`'s device as ingest would.
pub(crate) fn insert(store: &mut impl Store, key: &SigningKey, records: &[(Envelope, Vec<u8>)]) {
    store
        .ingest(|tx| {
            for (e, bytes) in records {
                tx.insert_record(&NewRecord {
                    line: Line::of(e),
                    prev: e.prev,
                    device_time: e.device_time,
                    bytes: bytes.clone(),
                    hash: SignedRecord::sign(key, e).unwrap().hash(),
                    received_at: e.device_time,
                    corrected_time: e.device_time,
                    late_entry: false,
                })?;
            }
            Ok(())
        })
        .unwrap();
}

/// A correction that moves a record to other children is found from
/// the original's child too (review of issue 12): before, a pull of
/// the original's child read only the original and showed it as never
/// corrected. After the move, the record is no longer about that child
/// and is not shown to its reader; the new child's pull shows the
/// latest version and logs every child of the chain.
#[test]
fn a_correction_moving_a_record_to_another_child_is_read_from_the_original_child() {
    use crate::chronology::{DateRange, disclosed, reconcile};
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::testing::open(dir.path());
    let key = SigningKey::from_bytes(&[33; 32]);
    let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
    const CARL: &str = "nhs:4010232137";
    let revision = |corrects: u64, child: &str| {
        format!(
            r#"{{"kind":"revision","children":["{child}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Seen at home","corrects":"{device}-{corrects}","reason":"recorded against the wrong child","revised":{{"kind":"home_visit","access":"announced","child_seen":"awake"}}}}"#
        )
    };
    let bodies = [
        format!(
            r#"{{"kind":"home_visit","children":["{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Seen at home","access":"announced","child_seen":"awake"}}"#
        ),
        revision(1, ANNA),
        revision(2, CARL),
    ];
    let records = chain(&key, &bodies);
    let pull = |store: &AnyStore, child: &str| {
        let view = std::collections::BTreeSet::from([child.parse::<ChildRef>().unwrap()]);
        let recs = store.records_for(&[child.parse().unwrap()]).unwrap();
        let entries = reconcile(&recs, &view, DateRange::default());
        let logged = disclosed(&entries, &view);
        (entries, logged)
    };
    insert(&mut store, &key, &records[..2]);
    let (ben, _) = pull(&store, BEN);
    assert!(ben.is_empty(), "moved to Anna, not shown as Ben's: {ben:?}");
    let (anna, logged) = pull(&store, ANNA);
    assert_eq!(anna.len(), 1);
    assert_eq!(logged.len(), 2, "Anna's and Ben's: {logged:?}");

    insert(&mut store, &key, &records[2..]);
    let (anna, _) = pull(&store, ANNA);
    assert!(anna.is_empty(), "moved on to Carl: {anna:?}");
    let (ben, _) = pull(&store, BEN);
    assert!(ben.is_empty(), "{ben:?}");
    let (carl, logged) = pull(&store, CARL);
    assert_eq!(carl.len(), 1);
    assert_eq!(carl[0].children, vec![CARL.parse::<ChildRef>().unwrap()]);
    assert_eq!(logged.len(), 3, "every child of the chain: {logged:?}");
}

/// Issue 12: a record entered in error (through a chain of
/// corrections) links no family; its records are still all read.
#[test]
fn issue_12_a_retracted_record_links_no_family_and_chains_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::testing::open(dir.path());
    let key = SigningKey::from_bytes(&[31; 32]);
    let device = enrol(&store, &key, "HV-NORTH", "hv.jones");
    let bodies = [
        format!(
            r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","access":"unannounced","child_seen":"awake"}}"#
        ),
        format!(
            r#"{{"kind":"revision","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","corrects":"{device}-1","reason":"time typed wrongly","revised":{{"kind":"home_visit","access":"announced","child_seen":"awake"}}}}"#
        ),
        format!(
            r#"{{"kind":"revision","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:30:00Z","headline":"Both children seen","corrects":"{device}-2","reason":"not this family","entered_in_error":true}}"#
        ),
    ];
    let records = chain(&key, &bodies);
    insert(&mut store, &key, &records[..2]);
    let standing = store.family_links().unwrap();
    assert_eq!(standing.named_together.len(), 2, "both read");
    assert_eq!(
        crate::chronology::family::edges(&standing).len(),
        1,
        "linked while it stands"
    );
    insert(&mut store, &key, &records[2..]);
    let links = store.family_links().unwrap();
    assert_eq!(links.corrections.len(), 3, "the chain is read whole");
    assert!(
        crate::chronology::family::edges(&links).is_empty(),
        "a retracted record links no family"
    );
    let anna = store.records_for(&[ANNA.parse().unwrap()]).unwrap();
    assert_eq!(anna.len(), 3);
}

/// Rows stored before ingest checked identities and amendments (issue
/// 11) cannot mislead a reader: the agency shown is the device's, and
/// another device's amendment brings no record in and corrects nothing.
#[test]
fn issue_11_rows_stored_before_the_checks_are_read_safely() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::testing::open(dir.path());
    let nursery_key = SigningKey::from_bytes(&[21; 32]);
    let hv_key = SigningKey::from_bytes(&[22; 32]);
    let nursery = enrol(&store, &nursery_key, "NURSERY-12", "dsl.patel");
    let hv = enrol(&store, &hv_key, "HV-NORTH", "hv.jones");
    let about_ben = chain(
        &nursery_key,
        &[format!(
            r#"{{"kind":"voice","children":["{BEN}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"About Ben","mode":"behaviour","behaviour":"hid","action":"told the DSL"}}"#
        )],
    );
    let forged = chain(
        &hv_key,
        &[
            format!(
                r#"{{"kind":"voice","children":["{ANNA}"],"occurred_at":"2026-03-03T11:00:00Z","headline":"Forged","agency":"POLICE-CAIT","author":"ds.nobody","mode":"behaviour","behaviour":"hid","action":"x"}}"#
            ),
            format!(
                r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"1900-01-01T00:00:00Z","headline":"Moved","corrects":"{nursery}-1","reason":"date typed wrongly"}}"#
            ),
        ],
    );
    // Written as an old server did: straight in, no checks.
    store
        .ingest(|tx| {
            for (e, bytes) in about_ben.iter().chain(&forged) {
                let signed = SignedRecord::sign(
                    if e.device == hv {
                        &hv_key
                    } else {
                        &nursery_key
                    },
                    e,
                )
                .unwrap();
                tx.insert_record(&NewRecord {
                    line: Line::of(e),
                    prev: e.prev,
                    device_time: e.device_time,
                    bytes: bytes.clone(),
                    hash: signed.hash(),
                    received_at: e.device_time,
                    corrected_time: e.device_time,
                    late_entry: false,
                })?;
            }
            Ok(())
        })
        .unwrap();
    let anna = store.records_for(&[ANNA.parse().unwrap()]).unwrap();
    assert_eq!(anna.len(), 2, "the forged record and the amendment only");
    assert!(anna.iter().all(|r| r.line.id.device == hv));
    assert!(anna.iter().all(|r| r.line.agency == "HV-NORTH"), "{anna:?}");
    assert!(anna.iter().all(|r| r.worker == "hv.jones"));
    assert_eq!(
        anna[0].line.author, "ds.nobody",
        "the claim is kept, shown beside the worker"
    );
    let ben = store.records_for(&[BEN.parse().unwrap()]).unwrap();
    let view = std::collections::BTreeSet::from([BEN.parse().unwrap()]);
    let entries = crate::chronology::reconcile(&ben, &view, Default::default());
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].headline, "About Ben");
    assert!(entries[0].amended.is_none());
    assert_eq!(entries[0].agency, "NURSERY-12");
}

#[test]
fn the_checkpoint_thread_copies_the_wal_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    let checkpointer = store.checkpoint_in_background(dir.path()).unwrap();
    let auto: i64 = store
        .conn()
        .unwrap()
        .pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))
        .unwrap();
    assert_eq!(auto, WRITER_CHECKPOINT_PAGES);
    let db_len = || std::fs::metadata(db_path(dir.path())).unwrap().len();
    let before = db_len();
    for i in 0..50 {
        store
            .conn()
        .unwrap()
            .execute(
                "INSERT INTO alarms (raised_at, device, seq, message) VALUES (?1, x'0102030405060708', ?1, ?2)",
                params![i, "x".repeat(2000)],
            )
            .unwrap();
        checkpointer.nudge();
    }
    // The database file grows only when WAL pages are copied into it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while db_len() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 10 s"
        );
        checkpointer.nudge();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn issue_12_an_unlink_replaces_a_link_is_undone_by_a_link_and_is_kept_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::testing::open(dir.path());
    let (anna, ben): (ChildRef, ChildRef) = (ANNA.parse().unwrap(), BEN.parse().unwrap());
    let change = |linked, at, reason: &str| FamilyChange {
        at: Timestamp(at),
        linked,
        a: ben.clone(),
        b: anna.clone(),
        who: "admin.okafor".into(),
        reason: reason.into(),
    };
    let sorted = vec![(anna.clone(), ben.clone())];
    store.change_family(&change(true, 1, "")).unwrap();
    let links = store.family_links().unwrap();
    assert_eq!((links.linked, links.unlinked), (sorted.clone(), vec![]));
    store
        .change_family(&change(
            false,
            2,
            "different families, named together by mistake",
        ))
        .unwrap();
    // Reopened: the unlink is stored, and the link is gone.
    drop(store);
    let store = crate::store::testing::open(dir.path());
    let links = store.family_links().unwrap();
    assert_eq!((links.linked, links.unlinked), (vec![], sorted.clone()));
    store
        .change_family(&change(true, 3, "confirmed siblings at strategy meeting"))
        .unwrap();
    let links = store.family_links().unwrap();
    assert_eq!((links.linked, links.unlinked), (sorted, vec![]));
    let history = store.family_history().unwrap();
    let got: Vec<_> = history
        .iter()
        .map(|c| (c.at.0, c.linked, c.reason.as_str(), &c.a, &c.b))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, true, "", &anna, &ben),
            (
                2,
                false,
                "different families, named together by mistake",
                &anna,
                &ben
            ),
            (
                3,
                true,
                "confirmed siblings at strategy meeting",
                &anna,
                &ben
            ),
        ]
    );
    assert!(history.iter().all(|c| c.who == "admin.okafor"));
}

/// The schema, as SQLite prints it: every table, index and trigger.
fn schema(conn: &Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_database_at_each_earlier_version_migrates_to_the_schema_of_a_new_one() {
    let fresh = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(fresh.path()).unwrap();
    let want = schema(&store.conn().unwrap());
    // user_version counts the migrations applied: list order is the version.
    let version: i64 = store
        .conn()
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    for earlier in 0..MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(db_path(dir.path())).unwrap();
        migrate(&mut conn, &MIGRATIONS[..earlier]).unwrap();
        let at: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(at, earlier as i64);
        drop(conn);
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(
            schema(&store.conn().unwrap()),
            want,
            "migrated from version {earlier}"
        );
        // Opening again changes nothing.
        drop(store);
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(
            schema(&store.conn().unwrap()),
            want,
            "reopened from version {earlier}"
        );
    }
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let conn = Connection::open(db_path(dir.path())).unwrap();
    let newer = MIGRATIONS.len() as i64 + 1;
    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    match SqliteStore::open(dir.path()) {
        Err(StoreError::TooNew { found, known }) => {
            assert_eq!((found, known), (newer, MIGRATIONS.len() as i64));
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn pooled_connections_keep_the_pragmas_of_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let int =
        |c: &Connection, p: &str| -> i64 { c.pragma_query_value(None, p, |r| r.get(0)).unwrap() };
    let writer = SqliteStore::open(dir.path()).unwrap();
    let w = writer.conn().unwrap();
    let mode: String = w
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(int(&w, "synchronous"), 2, "FULL");
    assert_eq!(int(&w, "foreign_keys"), 1);
    assert_eq!(int(&w, "busy_timeout"), 30_000);
    drop(w);
    let reader = SqliteStore::connect(dir.path()).unwrap();
    let held: Vec<_> = (0..pool::READ_CONNECTIONS)
        .map(|_| reader.conn().unwrap())
        .collect();
    for r in &held {
        assert_eq!(int(r, "synchronous"), 2, "FULL");
        assert_eq!(int(r, "busy_timeout"), 30_000);
    }
    drop(held);
    // Connections go back to the pool and are reused.
    assert_eq!(reader.pool.state().connections, pool::READ_CONNECTIONS);
    assert!(reader.devices().unwrap().is_empty());
    assert_eq!(reader.pool.state().connections, pool::READ_CONNECTIONS);
}

#[test]
fn the_access_log_keeps_local_references_with_spaces_and_the_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::testing::open(dir.path());
    let spaced: ChildRef = "local:LA-NORTH:C 0042".parse().unwrap();
    let nhs: ChildRef = "nhs:9434765919".parse().unwrap();
    let access = Access {
        at: Timestamp(1_800_000_000),
        who: "dsl.lead".into(),
        via: crate::store::Via::Web,
        child: Some(spaced.clone()),
        family: true,
        reason: "strategy meeting 12 March".into(),
        purpose: Some(crate::store::Purpose::StrategyDiscussion),
        children: vec![spaced, nhs],
    };
    store.log_access(&access).unwrap();
    assert_eq!(store.access_log().unwrap(), vec![access]);
}
