//! `store copy`'s table list against SQLite's schema, and the record
//! checks on a SQLite store (the copy into PostgreSQL itself is tested end
//! to end in `tests/tests/e2e/store_copy.rs`).

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use hearth_shared::{DeviceId, Envelope, RecordHash, Seq, SignedRecord, Timestamp};
use rusqlite::{Connection, params};

use super::*;
use crate::store::sqlite::{SqliteStore, db_path};

/// A migrated SQLite store in a temporary directory, and a connection to it.
fn sqlite() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open(dir.path()).unwrap());
    let conn = Connection::open(db_path(dir.path())).unwrap();
    (dir, conn)
}

#[test]
fn the_table_list_is_sqlites_schema_column_for_column() {
    let (_dir, conn) = sqlite();
    let names: BTreeSet<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let listed: BTreeSet<String> = TABLES.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(
        names, listed,
        "every SQLite table is copied, and only those"
    );
    for t in TABLES {
        let columns: BTreeSet<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{}')", t.name))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let listed: BTreeSet<String> = t.columns.iter().map(|(c, _)| c.to_string()).collect();
        assert_eq!(columns, listed, "the columns of {}", t.name);
    }
}

#[test]
fn a_batch_insert_numbers_its_parameters_row_by_row() {
    let t = TABLES.iter().find(|t| t.name == "sessions").unwrap();
    assert_eq!(
        insert_sql(t, 2),
        "INSERT INTO sessions (\"id_hash\", \"user_name\", \"csrf\", \"created_at\", \"last_seen\") \
         VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)"
    );
    assert!(
        TABLES
            .iter()
            .all(|t| batch_rows(t) * t.columns.len() <= 65_535)
    );
}

struct Tablet(SigningKey);

impl Tablet {
    fn new(seed: u8) -> Self {
        Self(SigningKey::from_bytes(&[seed; 32]))
    }

    fn id(&self) -> DeviceId {
        DeviceId::from_public_key(self.0.verifying_key().as_bytes())
    }

    fn sign(&self, seq: u64, prev: RecordHash) -> SignedRecord {
        let json = format!(
            r#"{{"kind":"concern","children":["nhs:9434765919"],"occurred_at":"2026-01-01T09:00:00Z","headline":"record {seq}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
        );
        let body = hearth_shared::json::parse_body(
            &json,
            &hearth_shared::json::Defaults {
                author: "w".try_into().unwrap(),
                agency: "A".try_into().unwrap(),
            },
        )
        .unwrap();
        let env = Envelope {
            version: hearth_shared::FORMAT_VERSION,
            device: self.id(),
            seq: Seq(seq),
            prev,
            device_time: Timestamp(1_767_261_600),
            body,
        };
        SignedRecord::sign(&self.0, &env).unwrap()
    }

    fn enrol(&self, conn: &Connection) {
        conn.execute(
            "INSERT INTO devices (id, public_key, agency, worker, enrolled_at) VALUES (?1, ?2, 'A', 'w', 0)",
            params![self.id().0.to_vec(), self.0.verifying_key().as_bytes().to_vec()],
        )
        .unwrap();
    }

    /// Stores records `seqs` of a chain (skipping the others, as gaps).
    fn store(&self, conn: &Connection, seqs: &[u64], last: u64) -> Vec<SignedRecord> {
        let mut prev = RecordHash::GENESIS;
        let mut all = Vec::new();
        for seq in 1..=last {
            let r = self.sign(seq, prev);
            if seqs.contains(&seq) {
                put(conn, self.id(), seq, r.hash(), &prev, r.as_bytes());
            }
            prev = r.hash();
            all.push(r);
        }
        all
    }
}

fn put(
    conn: &Connection,
    device: DeviceId,
    seq: u64,
    hash: RecordHash,
    prev: &RecordHash,
    bytes: &[u8],
) {
    conn.execute(
        "INSERT INTO records (device, seq, hash, prev, bytes, kind, occurred_at, device_time,
             received_at, corrected_time, late_entry)
         VALUES (?1, ?2, ?3, ?4, ?5, 'concern', 0, 0, 0, 0, 0)",
        params![
            device.0.to_vec(),
            seq as i64,
            hash.0.to_vec(),
            prev.0.to_vec(),
            bytes
        ],
    )
    .unwrap();
}

#[test]
fn held_chains_with_gaps_verify_and_are_counted() {
    let (_dir, conn) = sqlite();
    let (a, b) = (Tablet::new(1), Tablet::new(2));
    a.enrol(&conn);
    b.enrol(&conn);
    a.store(&conn, &[1, 2, 3], 3);
    b.store(&conn, &[1, 2, 5, 6], 6);
    assert_eq!(verify_records(&conn).unwrap(), 7);
}

fn refusal(conn: &Connection) -> String {
    verify_records(conn).unwrap_err().to_string()
}

#[test]
fn a_tampered_byte_is_refused_naming_the_record() {
    let (_dir, conn) = sqlite();
    let a = Tablet::new(1);
    a.enrol(&conn);
    a.store(&conn, &[1, 2], 2);
    conn.execute(
        "UPDATE records SET bytes = CAST(substr(bytes, 1, 20) || X'FF' || substr(bytes, 22) AS BLOB) WHERE seq = 2",
        [],
    )
    .unwrap();
    let e = refusal(&conn);
    assert!(
        e.starts_with(&format!("record {}/2: ", a.id())) && e.ends_with("; nothing was copied"),
        "{e}"
    );
}

#[test]
fn a_stored_hash_or_prev_that_is_not_the_records_is_refused() {
    let (_dir, conn) = sqlite();
    let a = Tablet::new(1);
    a.enrol(&conn);
    a.store(&conn, &[1], 1);
    conn.execute("UPDATE records SET hash = zeroblob(32)", [])
        .unwrap();
    assert!(refusal(&conn).contains("do not hash to the stored hash"));
    let (_dir, conn) = sqlite();
    a.enrol(&conn);
    a.store(&conn, &[1], 1);
    conn.execute("UPDATE records SET prev = randomblob(32)", [])
        .unwrap();
    assert!(refusal(&conn).contains("previous hash differs"));
}

#[test]
fn a_broken_chain_and_an_unenrolled_device_are_refused() {
    let (_dir, conn) = sqlite();
    let a = Tablet::new(1);
    a.enrol(&conn);
    // Record 2 of another chain of the same device: it verifies alone, but
    // its previous hash is not record 1's.
    a.store(&conn, &[1], 1);
    let other = a.sign(2, RecordHash([7; 32]));
    put(
        &conn,
        a.id(),
        2,
        other.hash(),
        &RecordHash([7; 32]),
        other.as_bytes(),
    );
    let e = refusal(&conn);
    assert!(
        e.contains(&format!("record {}/2: the chain is broken", a.id())),
        "{e}"
    );

    let (_dir, conn) = sqlite();
    let b = Tablet::new(2);
    b.store(&conn, &[1], 1);
    assert!(refusal(&conn).contains("its device is not enrolled"));
}

#[test]
fn records_signed_by_another_device_are_refused() {
    let (_dir, conn) = sqlite();
    let (a, b) = (Tablet::new(1), Tablet::new(2));
    a.enrol(&conn);
    let r = b.sign(1, RecordHash::GENESIS);
    put(
        &conn,
        a.id(),
        1,
        r.hash(),
        &RecordHash::GENESIS,
        r.as_bytes(),
    );
    assert!(refusal(&conn).starts_with(&format!("record {}/1: ", a.id())));
}

/// PostgreSQL's schema, column for column, with the types the copy binds:
/// the migrations applied in a schema of their own inside a transaction
/// that is rolled back (nothing is left on the server).
#[test]
fn the_table_list_is_postgresqls_schema_with_its_types() {
    if !hearth_testpg::available() {
        return;
    }
    let url = hearth_testpg::cluster().admin_url();
    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let mut tx = c.transaction().unwrap();
    let schema = format!("copy_check_{}", std::process::id());
    tx.batch_execute(&format!(
        "CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema};"
    ))
    .unwrap();
    for (_, sql) in crate::store::postgres::migrations::MIGRATIONS {
        tx.batch_execute(sql).unwrap();
    }
    let rows = tx
        .query(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap();
    let found: BTreeSet<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .filter(|(t, _, _): &(String, String, String)| t != "schema_version")
        .collect();
    let listed: BTreeSet<(String, String, String)> = TABLES
        .iter()
        .flat_map(|t| {
            t.columns.iter().map(|(c, ty)| {
                let pg = match ty {
                    Ty::Int => "bigint",
                    Ty::Text => "text",
                    Ty::Blob => "bytea",
                    Ty::Bool => "boolean",
                };
                (
                    t.name.to_string(),
                    Table::pg_column(c).to_string(),
                    pg.to_string(),
                )
            })
        })
        .collect();
    assert_eq!(found, listed);
    tx.rollback().unwrap();
}
