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
