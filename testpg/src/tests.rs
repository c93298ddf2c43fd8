//! The crate's own tests: the backend switch and URLs always; the cluster
//! where PostgreSQL is installed (skipped loudly elsewhere, never in CI).

use super::*;

#[test]
fn the_backend_is_sqlite_unless_postgres_is_named() {
    assert_eq!(parse_backend(None), TestBackend::Sqlite);
    assert_eq!(parse_backend(Some("")), TestBackend::Sqlite);
    assert_eq!(parse_backend(Some("sqlite")), TestBackend::Sqlite);
    assert_eq!(parse_backend(Some("postgres")), TestBackend::Postgres);
}

#[test]
#[should_panic(expected = "is not a backend")]
fn a_misspelt_backend_panics() {
    parse_backend(Some("postgresql"));
}

#[test]
fn urls_change_credentials_and_database_only() {
    let url = DbUrl::parse("postgres://postgres:secret@127.0.0.1:54329/postgres?sslmode=disable")
        .unwrap();
    assert_eq!(url.database(), "postgres");
    assert_eq!(
        url.with("r1", "p1", "d1").to_string(),
        "postgres://r1:p1@127.0.0.1:54329/d1?sslmode=disable"
    );
    assert_eq!(
        url.with_database("d2").to_string(),
        "postgres://postgres:secret@127.0.0.1:54329/d2?sslmode=disable"
    );
    let bare = DbUrl::parse("postgresql://localhost/x").unwrap();
    assert_eq!(bare.to_string(), "postgresql://localhost/x");
    for bad in [
        "mysql://h/d",
        "postgres://h",
        "postgres://h/",
        "h/d",
        "postgres:///d",
    ] {
        assert!(DbUrl::parse(bad).is_err(), "{bad} parsed");
    }
}

#[test]
fn names_are_unique_within_and_across_processes() {
    let a = Cluster::new(DbUrl::parse("postgres://u@h/d").unwrap(), "psql".into());
    let b = Cluster::new(DbUrl::parse("postgres://u@h/d").unwrap(), "psql".into());
    assert_ne!(a.unique("x"), a.unique("x"));
    assert_ne!(a.unique("x"), b.unique("x"));
    assert!(
        a.unique("hearth_owner").len() < 63,
        "PostgreSQL truncates names at 63 bytes"
    );
}

#[test]
fn a_fresh_database_belongs_to_a_role_that_is_not_superuser() {
    if !available() {
        return;
    }
    let cluster = cluster();
    let url = cluster.fresh_database();
    let other = cluster.fresh_database();
    assert_ne!(url, other);
    assert_eq!(
        cluster
            .query_one(
                &url,
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            .unwrap(),
        "f"
    );
    assert_eq!(
        cluster.query_one(&url, "SELECT pg_get_userbyid(datdba) = current_user FROM pg_database WHERE datname = current_database()").unwrap(),
        "t"
    );
    // The owner may make a partnership's schema, as the migration runner does.
    cluster
        .execute(
            &url,
            &[
                "CREATE SCHEMA hearth_default",
                "CREATE TABLE hearth_default.t (x BIGINT)",
                "INSERT INTO hearth_default.t VALUES (7)",
            ],
        )
        .unwrap();
    // Another test's owner may connect (PUBLIC has CONNECT by default) but
    // not read the tables.
    let stranger = DbUrl::parse(&other).unwrap();
    let stranger_here = DbUrl::parse(&url).unwrap();
    let intruder = stranger.with_database(stranger_here.database()).to_string();
    let refused = cluster
        .query_one(&intruder, "SELECT x FROM hearth_default.t")
        .unwrap_err();
    assert!(refused.contains("permission denied"), "{refused}");
}

#[test]
fn a_role_may_create_its_own_schema_but_not_read_another() {
    if !available() {
        return;
    }
    let cluster = cluster();
    let url = cluster.fresh_database();
    cluster
        .execute(
            &url,
            &[
                "CREATE SCHEMA hearth_a",
                "CREATE TABLE hearth_a.t (x BIGINT)",
            ],
        )
        .unwrap();
    let b = cluster.role_url(&url, "partner_b");
    assert_eq!(
        DbUrl::parse(&b).unwrap().database(),
        DbUrl::parse(&url).unwrap().database()
    );
    cluster
        .execute(
            &b,
            &[
                "CREATE SCHEMA hearth_b",
                "CREATE TABLE hearth_b.t (x BIGINT)",
            ],
        )
        .unwrap();
    assert_eq!(
        cluster
            .query_one(
                &b,
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            .unwrap(),
        "f"
    );
    let refused = cluster
        .query_one(&b, "SELECT x FROM hearth_a.t")
        .unwrap_err();
    assert!(
        refused.contains("permission denied for schema hearth_a"),
        "{refused}"
    );
    // The superuser URL sees both.
    let root = cluster.superuser_url(&url);
    assert_eq!(
        cluster
            .query_one(&root, "SELECT count(*) FROM hearth_a.t, hearth_b.t")
            .unwrap(),
        "0"
    );
    assert_eq!(
        cluster
            .query_one(
                &root,
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            .unwrap(),
        "t"
    );
}

#[test]
fn a_copy_holds_the_rows_and_owner_of_its_template() {
    if !available() {
        return;
    }
    let cluster = cluster();
    let url = cluster.fresh_database();
    cluster
        .execute(
            &url,
            &[
                "CREATE SCHEMA s",
                "CREATE TABLE s.t (x BIGINT)",
                "INSERT INTO s.t VALUES (1), (2)",
            ],
        )
        .unwrap();
    let copy = cluster.copy_database(&url);
    assert_ne!(
        DbUrl::parse(&copy).unwrap().database(),
        DbUrl::parse(&url).unwrap().database()
    );
    assert_eq!(
        cluster.query_one(&copy, "SELECT sum(x) FROM s.t").unwrap(),
        "3"
    );
    // Independent afterwards.
    cluster
        .execute(&copy, &["INSERT INTO s.t VALUES (10)"])
        .unwrap();
    assert_eq!(
        cluster.query_one(&url, "SELECT sum(x) FROM s.t").unwrap(),
        "3"
    );
    assert_eq!(
        cluster.query_one(&copy, "SELECT sum(x) FROM s.t").unwrap(),
        "13"
    );
}
