//! Scenario 5: after a device is revoked, its next sync is refused with a
//! clear message, and its records already synced remain.

use hearth_e2e::server::Server;

use crate::fixture::*;

#[test]
fn a_revoked_device_is_refused_and_its_synced_records_remain() {
    let server = Server::start();
    let agent = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let t = now();
    let synced = agent.record(&concern(CHILD_A, t - 600, "Before the tablet was lost"));
    assert_eq!(agent.sync(), 0);

    let status: serde_json::Value =
        serde_json::from_str(&agent.run_ok(&["status", "--json"])).unwrap();
    let device = status["device_id"].as_str().unwrap();
    server.admin_ok(&[
        "revoke",
        device,
        "--reason",
        "Tablet reported lost on the bus",
    ]);

    agent.record(&concern(CHILD_A, t - 60, "After the revocation"));
    let out = agent.run(&["sync"]);
    assert_eq!(out.status.code(), Some(4), "a revoked device exits 4");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(
        stderr.contains("Tablet reported lost on the bus"),
        "{stderr}"
    );

    assert_exactly_once(&server, CHILD_A, &[synced]);
}

/// Copies a directory tree.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_revocation_not_signed_by_the_enrolled_server_destroys_nothing() {
    // An impostor holds the server's TLS certificate and key (and a copy of
    // its database), so the tablet's pinned TLS check passes, but not the
    // server's receipt-signing key. Its "revoked" must not wipe the tablet.
    let mut server = Server::start();
    let agent = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let t = now();
    agent.record(&concern(CHILD_A, t - 600, "Synced before the impostor"));
    assert_eq!(agent.sync(), 0);
    let kept = agent.record(&concern(CHILD_A, t - 60, "Not yet synced"));

    let addr = server.addr();
    server.kill();
    let impostor_dir = hearth_e2e::server::private_tempdir();
    copy_dir(server.data(), impostor_dir.path());
    hearth_testpg::copy_database_for(server.data(), impostor_dir.path());
    std::fs::remove_file(impostor_dir.path().join("server_key")).unwrap();
    std::fs::write(impostor_dir.path().join("server_key"), "99".repeat(32)).unwrap();
    let impostor = hearth_e2e::server::Server::start_in(impostor_dir.path().to_path_buf(), addr);
    let status: serde_json::Value =
        serde_json::from_str(&agent.run_ok(&["status", "--json"])).unwrap();
    let device = status["device_id"].as_str().unwrap();
    impostor.admin_ok(&["revoke", device, "--reason", "impostor device"]);

    let out = agent.run(&["sync"]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not signed by the server"), "{stderr}");
    // The data key is intact: the tablet still reads its records.
    let ids: Vec<String> = agent
        .list()
        .iter()
        .map(|r| r["record_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&kept), "{ids:?}");
}
