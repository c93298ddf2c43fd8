//! `hearth-server store copy` (issue 18): a SQLite store seeded through
//! the real paths (records of several kinds from two tablets, the people
//! register, a caseload, the access log, a web session) is copied into
//! PostgreSQL; a server on the copy gives the same chronology, byte for
//! byte, and honours the session. A record with one byte changed in SQLite
//! is refused by name and leaves the PostgreSQL database untouched.
//!
//! Runs in every test run when PostgreSQL is installed (the copy's source
//! is always SQLite; its target always PostgreSQL).

use std::process::{Command, Output};

use hearth_e2e::bins;
use hearth_e2e::server::Server;

use crate::fixture::*;

const REASON: &str = "reason=moving%20the%20store&family=true";

/// `hearth-server store copy --from sqlite:DATA --to URL`.
fn store_copy(data: &std::path::Path, url: &str) -> Output {
    Command::new(bins::path("hearth-server"))
        .arg("--data")
        .arg(data)
        .args(["store", "copy", "--to", url])
        .arg(format!("--from=sqlite:{}", data.display()))
        .env("RUST_LOG", "warn")
        .env_remove("HEARTH_DATABASE")
        .output()
        .expect("run hearth-server store copy")
}

/// The family chronology of `child` as the API serves it, raw.
fn chronology(server: &Server, token: &str, child: &str) -> String {
    let mut resp = hearth_e2e::http::client(server.data())
        .get(format!(
            "{}/v1/children/{child}/chronology?{REASON}",
            server.url()
        ))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("GET chronology");
    assert_eq!(resp.status().as_u16(), 200);
    resp.body_mut().read_to_string().unwrap()
}

/// The value of cookie `name` set by a response.
fn set_cookie(resp: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("a {name} cookie"))
        .to_string()
}

/// Signs `name` in to the web app; the session cookie.
fn sign_in(server: &Server, name: &str, password: &str) -> String {
    let http = hearth_e2e::http::client(server.data());
    let form = http
        .get(format!("{}/login", server.url()))
        .call()
        .expect("GET /login");
    let token = set_cookie(&form, "__Host-hearth-login");
    let resp = http
        .post(format!("{}/login", server.url()))
        .config()
        .max_redirects(0)
        .build()
        .header("Cookie", format!("__Host-hearth-login={token}"))
        .header("Origin", server.url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!(
            "csrf={token}&name={name}&password={password}&next=%2F"
        ))
        .expect("POST /login");
    assert_eq!(resp.status().as_u16(), 303, "signed in");
    set_cookie(&resp, "__Host-hearth")
}

/// The status of the web app's search page with the session `cookie`
/// (200 signed in; 303 to /login without a live session).
fn home_with(server: &Server, cookie: &str) -> u16 {
    hearth_e2e::http::client(server.data())
        .get(format!("{}/find", server.url()))
        .config()
        .max_redirects(0)
        .build()
        .header("Cookie", format!("__Host-hearth={cookie}"))
        .call()
        .expect("GET /")
        .status()
        .as_u16()
}

fn lines(out: &Output) -> String {
    assert!(
        out.status.success(),
        "store copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A SQLite server seeded through the real paths; the manager's token,
/// the session cookie and how many records were synced.
fn seeded() -> Option<(Server, String, String, usize)> {
    let server = Server::start();
    if server.database().is_some() || !hearth_testpg::available() {
        eprintln!("store copy needs a SQLite source and PostgreSQL: skipped in this run");
        return None;
    }
    let nursery = enrolled(&server, "NURSERY-12", "dsl.patel", 0, None);
    let hv = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let t = now();
    for n in 0..4 {
        nursery.record(&daily(CHILD_A, t - 86_400 * n, &format!("Arrival {n}")));
    }
    hv.record(&home_visit(&[CHILD_A, CHILD_B], t - 7_200, "Visit"));
    hv.record(&concern(CHILD_B, t - 3_600, "Bruise"));
    sync_until_done(&nursery, 3);
    sync_until_done(&hv, 3);
    server.admin_ok(&[
        "person",
        "add",
        "--ref",
        CHILD_A,
        "--name",
        "Amy Brown",
        "--dob",
        "2021-03-15",
    ]);
    server.admin_ok(&[
        "caseload", "assign", "--child", CHILD_A, "--worker", "hv.jones",
    ]);
    let token = server.add_user("m.reed", "manager");
    server.admin_with_input(
        &["user", "passwd", "m.reed"],
        "correct horse battery staple\n",
    );
    let cookie = sign_in(&server, "m.reed", "correct%20horse%20battery%20staple");
    assert_eq!(home_with(&server, &cookie), 200);
    // Pulls: rows of the access log.
    server.chronology_json(CHILD_A, true);
    Some((server, token, cookie, 6))
}

#[test]
fn a_copied_store_serves_the_same_chronology_from_postgresql() {
    let Some((mut server, token, cookie, records)) = seeded() else {
        return;
    };
    let before = chronology(&server, &token, CHILD_A);
    server.kill();
    let url = hearth_testpg::cluster().fresh_database();
    let printed = lines(&store_copy(server.data(), &url));
    for line in [
        format!("copied {records} rows of records"),
        "copied 2 rows of devices".to_string(),
        "copied 1 rows of people".to_string(),
        "copied 1 rows of sessions".to_string(),
        format!("verified {records} signatures"),
    ] {
        assert!(printed.lines().any(|l| l == line), "{line:?} in {printed}");
    }
    assert!(printed.contains("rows of access_log"), "{printed}");

    // The same data directory (keys, certificate), now on PostgreSQL.
    server.set_env("HEARTH_DATABASE", Some(&url));
    server.restart();
    let after = chronology(&server, &token, CHILD_A);
    assert_eq!(after, before, "the chronology, byte for byte");
    assert_eq!(home_with(&server, &cookie), 200, "the session moved too");

    // A second copy into the same database is refused: it is not empty.
    let again = store_copy(server.data(), &url);
    assert!(!again.status.success());
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(
        e.contains("already holds rows") && e.contains("nothing was copied"),
        "{e}"
    );
}

#[test]
fn a_tampered_record_is_refused_by_name_and_nothing_is_copied() {
    let Some((mut server, _, _, _)) = seeded() else {
        return;
    };
    server.kill();
    // One byte of one stored record changed behind the server's back.
    let db = tamper(server.data());
    let url = hearth_testpg::cluster().fresh_database();
    let out = store_copy(server.data(), &url);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains(&format!("record {db}: ")) && e.contains("; nothing was copied"),
        "{e}"
    );
    // The target holds no row: a copy of the untampered store would be
    // accepted, and an empty schema is all that is there.
    let superuser = hearth_testpg::cluster().superuser_url(&url);
    let rows = hearth_testpg::cluster()
        .query_one(
            &superuser,
            "SELECT (SELECT count(*) FROM hearth_default.records) + (SELECT count(*) FROM hearth_default.devices)",
        )
        .unwrap();
    assert_eq!(rows.trim(), "0");
}

/// Flips one byte in the middle of the first record's signed bytes,
/// behind the server's back; that record's `device/seq`.
fn tamper(data: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
    let (device, seq, mut bytes): (Vec<u8>, i64, Vec<u8>) = conn
        .query_row(
            "SELECT device, seq, bytes FROM records ORDER BY device, seq LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    bytes[30] ^= 1;
    conn.execute(
        "UPDATE records SET bytes = ?1 WHERE device = ?2 AND seq = ?3",
        rusqlite::params![bytes, device, seq],
    )
    .unwrap();
    format!("{}/{seq}", hex::encode(device))
}
