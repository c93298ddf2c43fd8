//! PostgreSQL-only tests of the backend's core: two instances migrating
//! one fresh database at once, two instances ingesting the same device's
//! batch at once (the chain lock), and the partnership's schema as the
//! only one a store can see. Each test gets its own database on the
//! server named by `HEARTH_TEST_POSTGRES_URL` (a superuser URL); without
//! it they say loudly that they are skipped (and fail in CI).

use std::sync::{Arc, Barrier};

use ::postgres::{Client, NoTls};
use ed25519_dalek::SigningKey;
use hearth_shared::protocol::VerdictStatus;
use hearth_shared::{DeviceId, Timestamp};

use super::PgStore;
use crate::ingest::{BatchJob, apply_batch, precheck};
use crate::store::sqlite::tests::{bodies, chain};
use crate::store::{Store, StoreError};
use crate::tenancy::Partnership;

/// A superuser URL of a running server, or `None` (said loudly).
fn server(what: &str) -> Option<String> {
    match std::env::var("HEARTH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is required in CI: set HEARTH_TEST_POSTGRES_URL ({what})"
            );
            eprintln!("SKIPPED (PostgreSQL not available, set HEARTH_TEST_POSTGRES_URL): {what}");
            None
        }
    }
}

/// A new, empty database on the server at `base`; its URL.
fn fresh_database(base: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "core_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut c = Client::connect(base, NoTls).unwrap();
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (root, _) = base.rsplit_once('/').unwrap();
    format!("{root}/{name}")
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
    let Some(base) = server("the migration race") else {
        return;
    };
    let url = fresh_database(&base);
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
    let Some(base) = server("concurrent ingest of one device") else {
        return;
    };
    let url = fresh_database(&base);
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
