//! PostgreSQL-only tests of the backend's core: two instances migrating
//! one fresh database at once, two instances ingesting the same device's
//! batch at once (the chain lock), the partnership's schema as the only
//! one a store can see (and its role as the only one that may read it),
//! both backends deciding and reading back the same, and which failures
//! the writer runs again. Each test gets its own database of the test
//! cluster (`hearth-testpg`); without PostgreSQL they say loudly that
//! they are skipped (and fail in CI).

use std::sync::{Arc, Barrier};

use ::postgres::{Client, NoTls};
use ed25519_dalek::SigningKey;
use hearth_shared::protocol::VerdictStatus;
use hearth_shared::{ChildRef, DeviceId, Timestamp};

use super::PgStore;
use crate::ingest::{BatchJob, apply_batch, precheck};
use crate::store::sqlite::tests::{ANNA, BEN, bodies, chain};
use crate::store::{Store, StoreError};
use crate::tenancy::Partnership;

/// Whether the test cluster can be had (`hearth_testpg::available`,
/// which says loudly that `what` is skipped, and fails in CI, if not).
fn server(what: &str) -> bool {
    let there = hearth_testpg::available();
    if !there {
        eprintln!("SKIPPED: {what}");
    }
    there
}

/// A new, empty database owned by a new non-superuser role; its URL.
fn fresh_database() -> String {
    hearth_testpg::cluster().fresh_database()
}

fn default_one() -> Partnership {
    Partnership::default_one()
}

/// Enrols a device by its row (administration is another module's).
fn enrol_row(url: &str, partnership: &Partnership, key: &SigningKey) -> DeviceId {
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let mut c = Client::connect(url, NoTls).unwrap();
    c.execute(
        &format!(
            "INSERT INTO {}.devices (id, public_key, agency, worker, enrolled_at) VALUES ($1, $2, 'HV-NORTH', 'hv.jones', 1)",
            partnership.schema()
        ),
        &[&device.0.as_slice(), &key.verifying_key().as_bytes().as_slice()],
    )
    .unwrap();
    device
}

fn job(key: &SigningKey, records: &[Vec<u8>]) -> BatchJob {
    let vk = key.verifying_key();
    BatchJob {
        device: DeviceId::from_public_key(vk.as_bytes()),
        device_time: Timestamp(1_790_000_100),
        received_at: Timestamp(1_790_000_100),
        records: records
            .iter()
            .map(|b| precheck(&vk, b.clone(), 10_000))
            .collect(),
        late_entry_secs: 86_400,
        quarantine_budget: crate::ingest::DEFAULT_QUARANTINE_BUDGET,
    }
}

fn count(url: &str, sql: &str) -> i64 {
    Client::connect(url, NoTls)
        .unwrap()
        .query_one(sql, &[])
        .unwrap()
        .get(0)
}

#[test]
fn two_instances_migrating_one_fresh_database_migrate_it_once() {
    if !server("the migration race") {
        return;
    }
    let url = fresh_database();
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                PgStore::open(&url, None, &default_one()).map(|_| ())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().expect("both instances start");
    }
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM hearth_default.schema_version"),
        super::migrations::MIGRATIONS.len() as i64
    );
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'records'"
        ),
        1
    );
    // Opening again changes nothing; a database from a newer build is
    // refused, naming both versions.
    PgStore::open(&url, None, &default_one()).unwrap();
    Client::connect(&url, NoTls)
        .unwrap()
        .execute(
            "INSERT INTO hearth_default.schema_version VALUES (99, 0)",
            &[],
        )
        .unwrap();
    match PgStore::open(&url, None, &default_one()) {
        Err(StoreError::TooNew { found: 99, known }) => {
            assert_eq!(known, super::migrations::MIGRATIONS.len() as i64)
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer database was opened"),
    }
}

#[test]
fn two_instances_ingesting_one_batch_at_once_store_each_record_once() {
    if !server("concurrent ingest of one device") {
        return;
    }
    let url = fresh_database();
    let p = default_one();
    PgStore::open(&url, None, &p).unwrap();
    let key = SigningKey::from_bytes(&[21; 32]);
    let device = enrol_row(&url, &p, &key);
    let records: Vec<Vec<u8>> = chain(&key, &bodies(device))
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    for round in 0..5 {
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut store = PgStore::connect(&url, None, &p).unwrap();
                let (barrier, batch) = (barrier.clone(), job(&key, &records));
                std::thread::spawn(move || {
                    barrier.wait();
                    store.ingest(|tx| apply_batch(tx, batch))
                })
            })
            .collect();
        let mut statuses: Vec<Vec<VerdictStatus>> = threads
            .into_iter()
            .map(|t| {
                let out = t.join().unwrap().expect("no transient failure");
                out.verdicts.iter().map(|v| v.status).collect()
            })
            .collect();
        statuses.sort_by_key(|s| s[0] != VerdictStatus::Accepted);
        let n = records.len();
        if round == 0 {
            assert_eq!(statuses[0], vec![VerdictStatus::Accepted; n]);
        } else {
            assert_eq!(statuses[0], vec![VerdictStatus::Duplicate; n]);
        }
        assert_eq!(statuses[1], vec![VerdictStatus::Duplicate; n]);
        assert_eq!(
            count(&url, "SELECT COUNT(*) FROM hearth_default.records"),
            n as i64
        );
        assert_eq!(
            count(&url, "SELECT COUNT(*) FROM hearth_default.quarantine"),
            0,
            "no fork raised"
        );
    }
    // Each stored record named its children once, and they are stale.
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM hearth_default.record_children"),
        5
    );
    assert!(count(&url, "SELECT MIN(dirty) FROM hearth_default.signal_state") >= 1);
}

/// A fresh database migrated for `p`, and a store on it.
fn fresh_store(p: &Partnership) -> (String, PgStore) {
    let url = fresh_database();
    let store = PgStore::open(&url, None, p).unwrap();
    (url, store)
}

#[test]
fn a_store_sees_only_its_own_partnership() {
    if !server("search_path confinement") {
        return;
    }
    let (a, b) = (
        Partnership::new("a").unwrap(),
        Partnership::new("b").unwrap(),
    );
    let (url, mut store_b) = fresh_store(&b);
    // Partnership a's own role, as docs/operations.md sets them up.
    let url_a = hearth_testpg::cluster().role_url(&url, "partner_a");
    let store_a = PgStore::open(&url_a, None, &a).unwrap();
    let key = SigningKey::from_bytes(&[22; 32]);
    let device = enrol_row(&url, &b, &key);
    let records: Vec<Vec<u8>> = chain(&key, &bodies(device))
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let mut garbage = records.clone();
    garbage.push(vec![1; 200]);
    store_b
        .ingest(|tx| apply_batch(tx, job(&key, &garbage)))
        .unwrap();
    assert_eq!(store_b.records_for(&children()).unwrap().len(), 3);
    assert_eq!(store_b.held().unwrap().len(), 1);
    assert!(store_a.records_for(&children()).unwrap().is_empty());
    assert!(store_a.held().unwrap().is_empty());
    assert!(store_a.record(records_id(device, 1)).unwrap().is_none());
    let unqualified = |store: &PgStore| -> i64 {
        store
            .conn()
            .unwrap()
            .query_one("SELECT COUNT(*) FROM devices", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(unqualified(&store_a), 0);
    assert_eq!(unqualified(&store_b), 1);
    // Naming b's schema does not help a's role: the database refuses.
    let refused = store_a
        .conn()
        .unwrap()
        .query_one("SELECT COUNT(*) FROM hearth_b.devices", &[])
        .unwrap_err();
    let refused = StoreError::from(refused).to_string();
    assert!(refused.contains("permission denied"), "{refused}");
    // The device is not enrolled in `a`: its batch there stores nothing.
    let mut store_a = store_a;
    store_a
        .ingest(|tx| apply_batch(tx, job(&key, &records)))
        .unwrap();
    assert!(store_a.records_for(&children()).unwrap().is_empty());
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM hearth_b.records"),
        3,
        "b's records untouched"
    );
}

#[test]
fn a_schema_another_partnerships_role_made_first_is_refused() {
    if !server("schema squatting") {
        return;
    }
    let url = fresh_database();
    let cluster = hearth_testpg::cluster();
    let url_a = cluster.role_url(&url, "partner_a");
    let url_b = cluster.role_url(&url, "partner_b");
    // b's role makes a's schema before a's first start.
    let b = Partnership::new("b").unwrap();
    let store_b = PgStore::open(&url_b, None, &b).unwrap();
    store_b
        .conn()
        .unwrap()
        .batch_execute("CREATE SCHEMA hearth_a")
        .unwrap();
    let a = Partnership::new("a").unwrap();
    let Err(refused) = PgStore::open(&url_a, None, &a) else {
        panic!("a's server used a schema b's role owns");
    };
    let refused = refused.to_string();
    assert!(
        refused.contains("the schema hearth_a belongs to the role")
            && refused.contains("--partnership a"),
        "{refused}"
    );
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'hearth_a'"
        ),
        0,
        "nothing was created in it"
    );
}

fn records_id(device: DeviceId, seq: u64) -> hearth_shared::RecordId {
    hearth_shared::RecordId {
        device,
        seq: hearth_shared::Seq(seq),
    }
}

/// The children the test records name.
fn children() -> Vec<ChildRef> {
    vec![ANNA.parse().unwrap(), BEN.parse().unwrap()]
}

/// What one store made of the same batches, for comparing backends.
#[derive(Debug, PartialEq)]
struct Seen {
    outcomes: Vec<Vec<VerdictStatus>>,
    lines: Vec<crate::line::FiledRecord>,
    named_together: Vec<crate::links::NamedTogether>,
    corrections: Vec<crate::line::FiledRecord>,
    held: Vec<crate::store::Held>,
    alarms: Vec<(DeviceId, hearth_shared::Seq, String)>,
    records: Vec<Option<crate::store::StoredRecord>>,
    bytes: Vec<(hearth_shared::RecordId, Vec<u8>)>,
    access: Vec<crate::store::Access>,
}

/// Sends `batches` of `key`'s device to `store`, then reads everything
/// back through the `Store` API.
fn run_on<S: Store>(store: &mut S, key: &SigningKey, batches: &[Vec<Vec<u8>>]) -> Seen {
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let outcomes = batches
        .iter()
        .map(|b| {
            let out = store.ingest(|tx| apply_batch(tx, job(key, b))).unwrap();
            out.verdicts.iter().map(|v| v.status).collect()
        })
        .collect();
    let access = crate::store::Access {
        at: Timestamp(5),
        who: "m.smith".into(),
        via: crate::store::Via::Cli,
        child: Some(children()[0].clone()),
        family: true,
        reason: "s47 enquiry".into(),
        children: children(),
        purpose: None,
    };
    store.log_access(&access).unwrap();
    let links = store.family_links().unwrap();
    let ids: Vec<_> = (1..=4).map(|s| records_id(device, s)).collect();
    Seen {
        outcomes,
        lines: store.records_for(&children()).unwrap(),
        named_together: links.named_together,
        corrections: links.corrections,
        held: store.held().unwrap(),
        alarms: store
            .alarms()
            .unwrap()
            .into_iter()
            .map(|a| (a.device, a.seq, a.message))
            .collect(),
        records: ids.iter().map(|id| store.record(*id).unwrap()).collect(),
        bytes: store.record_bytes(&ids).unwrap(),
        access: store.access_log().unwrap(),
    }
}

#[test]
fn both_backends_decide_and_read_back_the_same() {
    if !server("the backends compared") {
        return;
    }
    let key = SigningKey::from_bytes(&[23; 32]);
    let device = DeviceId::from_public_key(key.verifying_key().as_bytes());
    let records: Vec<Vec<u8>> = chain(&key, &bodies(device))
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    // Another chain of the same device: its seq 2 forks the first's.
    let mut other = bodies(device);
    other[1] = other[1].replace("Hid under the table", "Sat by the door");
    let fork = chain(&key, &other).swap_remove(1).1;
    let batches = vec![
        // 1 and 3 (2 missing: a gap), and garbage (rejected).
        vec![records[0].clone(), records[2].clone(), vec![1; 200]],
        // 2 fills the gap; 1 again is a duplicate.
        vec![records[1].clone(), records[0].clone()],
        // The fork (quarantined, the record at 2 disputed), and the
        // garbage again (held already).
        vec![fork, vec![1; 200]],
    ];

    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = crate::store::sqlite::SqliteStore::open(dir.path()).unwrap();
    crate::store::sqlite::tests::enrol(&sqlite, &key, "HV-NORTH", "hv.jones");
    let on_sqlite = run_on(&mut sqlite, &key, &batches);

    let p = default_one();
    let (url, mut pg) = fresh_store(&p);
    enrol_row(&url, &p, &key);
    let on_pg = run_on(&mut pg, &key, &batches);

    assert_eq!(on_pg, on_sqlite);
    // And the scenario did what it says.
    assert_eq!(
        on_pg.outcomes[2][0],
        VerdictStatus::Quarantined,
        "{:?}",
        on_pg.outcomes
    );
    assert!(on_pg.lines.iter().any(|l| l.disputed));
    // The garbage once (its resend is not held again); the fork as both
    // records at seq 2.
    assert_eq!(on_pg.held.len(), 3, "{:?}", on_pg.held);
    assert_eq!(on_pg.alarms.len(), 1);
}

#[test]
fn only_transient_failures_are_run_again_and_at_most_three_times() {
    if !server("transient failures") {
        return;
    }
    let (_, store) = fresh_store(&default_one());
    let mut c = store.conn().unwrap();
    c.batch_execute(
        "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time, received_at, corrected_time, late_entry)
         VALUES ('\\x0101010101010101', 1, '', '', '', 'voice', 0, 0, 0, 0, FALSE);
         INSERT INTO alarms (id, raised_at, device, seq, message) VALUES (1, 0, '', 1, 'x')",
    )
    .unwrap();
    let mut duplicate = |table: &str| -> StoreError {
        let sql = match table {
            "records" => "INSERT INTO records SELECT * FROM records",
            _ => "INSERT INTO alarms SELECT * FROM alarms",
        };
        c.batch_execute(sql).map_err(StoreError::from).unwrap_err()
    };
    assert!(duplicate("records").is_transient());
    assert!(!duplicate("alarms").is_transient());
    assert!(!StoreError::Pool("timed out".into()).is_transient());

    use crate::ingest::writer::{RETRIES, retry_transient};
    let mut calls = 0;
    let out = retry_transient(1, || {
        calls += 1;
        if calls <= 2 {
            Err(duplicate("records"))
        } else {
            Ok(calls)
        }
    });
    assert_eq!(out.unwrap(), 3);
    calls = 0;
    let out: Result<(), _> = retry_transient(1, || {
        calls += 1;
        Err(duplicate("records"))
    });
    assert!(out.unwrap_err().is_transient());
    assert_eq!(calls, 1 + RETRIES);
    calls = 0;
    let out: Result<(), _> = retry_transient(1, || {
        calls += 1;
        Err(duplicate("alarms"))
    });
    assert!(out.is_err());
    assert_eq!(calls, 1, "never retried");
}
