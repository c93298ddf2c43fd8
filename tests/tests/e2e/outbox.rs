//! Issue 14: sync that needs no unlock. A record captured before the
//! tablet locked reaches the server through the sealed outbox with no
//! passphrase and no session, and shows as synced once the tablet is
//! unlocked again; `POST /v1/outbox` takes only boxes that open to records
//! the device signed, answers everything else with the one 401 that tells
//! nothing, and is idempotent on a resend.

use hearth_e2e::http;
use hearth_e2e::server::Server;
use hearth_shared::RecordHash;
use hearth_shared::protocol::{
    OUTBOX_CONTENT_TYPE, OutboxUpload, UploadResponse, VerdictStatus, outbox_public_key,
    seal_record,
};
use serde_json::Value;

use crate::fixture::*;
use crate::hostile::Device;

/// The server's outbox public key, from its secret in the data directory.
fn outbox_key(server: &Server) -> [u8; 32] {
    let path = server.data().join("outbox_key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the outbox key is owner-only");
    let text = std::fs::read_to_string(path).unwrap();
    let secret: [u8; 32] = hex::decode(text.trim()).unwrap().try_into().unwrap();
    outbox_public_key(&secret)
}

/// Seals `signed` to `key` (test randomness: distinct per call).
fn seal(key: &[u8; 32], signed: &[u8], n: u8) -> Vec<u8> {
    seal_record(key, [n; 32], [n.wrapping_add(1); 24], signed)
}

fn post_outbox(server: &Server, body: Vec<u8>) -> (u16, String) {
    let mut resp = http::client(server.data())
        .post(format!("{}/v1/outbox", server.url()))
        .header("Content-Type", OUTBOX_CONTENT_TYPE)
        .send(body)
        .unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

fn upload(server: &Server, device: hearth_shared::DeviceId, boxes: Vec<Vec<u8>>) -> (u16, String) {
    post_outbox(
        server,
        postcard::to_allocvec(&OutboxUpload { device, boxes }).unwrap(),
    )
}

fn answer(response: &(u16, String)) -> UploadResponse {
    assert_eq!(response.0, 200, "{}", response.1);
    serde_json::from_str(&response.1).unwrap()
}

fn error_code(response: &(u16, String)) -> String {
    let v: Value = serde_json::from_str(&response.1).unwrap_or_default();
    v["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_locked_tablet_syncs_its_sealed_outbox_without_the_passphrase() {
    let server = Server::start();
    let agent = enrolled(&server, "HV-NORTH", "hv.jones", 0, None);
    let t = now();
    let a = agent.record(&concern(CHILD_A, t - 600, "Captured before the lock"));
    let b = agent.record(&concern(CHILD_A, t - 300, "Also before the lock"));

    // Locked: no HEARTH_PASSPHRASE, no unlock session, nobody at a terminal.
    let locked = |args: &[&str]| {
        agent
            .command(args)
            .env_remove("HEARTH_PASSPHRASE")
            .output()
            .unwrap()
    };
    let refused = locked(&["list"]);
    assert!(!refused.status.success(), "the store really is locked");
    let out = locked(&["sync"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "locked sync failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("locked"), "{stdout}");
    assert!(stdout.contains("sent 2, synced 2"), "{stdout}");
    assert_exactly_once(&server, CHILD_A, &[a.clone(), b.clone()]);

    // Still locked: status (which needs no key) shows them synced, and a
    // second locked sync has nothing left to send.
    let status: Value = serde_json::from_slice(&locked(&["status", "--json"]).stdout).unwrap();
    assert_eq!(
        (status["pending"].as_u64(), status["synced"].as_u64()),
        (Some(0), Some(2))
    );
    let again = locked(&["sync"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("sent 0"));

    // Unlocked: the same, record by record, and the normal sync agrees.
    let status: Value = serde_json::from_str(&agent.run_ok(&["status", "--json"])).unwrap();
    assert_eq!(
        (status["pending"].as_u64(), status["synced"].as_u64()),
        (Some(0), Some(2))
    );
    let st = statuses(&agent);
    assert_eq!((st[&a].as_str(), st[&b].as_str()), ("synced", "synced"));
    assert_eq!(agent.sync(), 0);
    assert_exactly_once(&server, CHILD_A, &[a, b]);
}

#[test]
fn the_outbox_takes_only_genuine_sealed_records_and_tells_nothing_else() {
    let server = Server::start();
    let device = Device::new(41, "HV-NORTH");
    device.enrol(&server);
    let stranger = Device::new(42, "HV-NORTH");
    let key = outbox_key(&server);
    let json = concern(CHILD_A, now() - 60, "Sealed at capture");
    let genuine = device.sign(device.id(), 1, RecordHash::GENESIS, &json);
    let genuine = genuine.as_bytes();

    // Not an outbox upload at all, and an empty one.
    let garbage = post_outbox(&server, b"not postcard".to_vec());
    assert_eq!(
        (garbage.0, error_code(&garbage).as_str()),
        (400, "bad_batch")
    );
    let empty = upload(&server, device.id(), vec![]);
    assert_eq!((empty.0, error_code(&empty).as_str()), (400, "bad_batch"));

    // An unknown device's genuine record: the reference refusal.
    let theirs = stranger.sign(stranger.id(), 1, RecordHash::GENESIS, &json);
    let unknown = upload(
        &server,
        stranger.id(),
        vec![seal(&key, theirs.as_bytes(), 1)],
    );
    assert_eq!(
        (unknown.0, error_code(&unknown).as_str()),
        (401, "unauthenticated")
    );
    // Every other failure is answered with exactly the same bytes.
    let mut other_key = key;
    other_key[0] ^= 0x55;
    let forged = stranger.sign(device.id(), 1, RecordHash::GENESIS, &json);
    let mut tampered = genuine.to_vec();
    let last = tampered.len() - 70;
    tampered[last] ^= 1;
    for (what, boxes) in [
        ("a box of garbage", vec![vec![0u8; 200]]),
        (
            "a box sealed to another key",
            vec![seal(&other_key, genuine, 2)],
        ),
        (
            "a record another key signed",
            vec![seal(&key, forged.as_bytes(), 3)],
        ),
        ("a tampered record", vec![seal(&key, &tampered, 4)]),
        (
            "one good box beside a bad one",
            vec![seal(&key, genuine, 5), vec![1u8; 90]],
        ),
    ] {
        let r = upload(&server, device.id(), boxes);
        assert_eq!(r, unknown, "{what}");
    }

    // The genuine box: accepted (so nothing above stored it), a receipt.
    let first = answer(&upload(&server, device.id(), vec![seal(&key, genuine, 6)]));
    assert_eq!(first.verdicts[0].status, VerdictStatus::Accepted);
    assert_eq!(first.receipts.len(), 1);
    assert!(
        first.outbox_key.is_some(),
        "the sync answer carries the signed key"
    );
    // A resend, the same box or a fresh one: duplicate, receipted again.
    for n in [6, 7] {
        let again = answer(&upload(&server, device.id(), vec![seal(&key, genuine, n)]));
        assert_eq!(again.verdicts[0].status, VerdictStatus::Duplicate);
        assert_eq!(again.receipts.len(), 1);
    }

    // A record the device signed with a version byte this server does not
    // know (a newer agent, or a broken one) is the device's all the same:
    // judged like any record on `/v1/sync`, refused with its reason and
    // kept, not the 401 of a box nobody can vouch for (found by the
    // `device_bodies` fuzz target).
    let envelope = hearth_shared::signed::split_signed(genuine).unwrap().0;
    let mut unknown_version = envelope.to_vec();
    unknown_version[0] = 0x7f;
    let unknown_version = device.sign_raw(&unknown_version);
    let judged = answer(&upload(
        &server,
        device.id(),
        vec![seal(&key, &unknown_version, 9)],
    ));
    assert_eq!(judged.verdicts[0].status, VerdictStatus::Rejected);
    assert!(
        judged.verdicts[0].reason.contains("version"),
        "{}",
        judged.verdicts[0].reason
    );

    // Revoked: the device's genuine boxes get the same 401 as a stranger's,
    // not `device_revoked`; the outbox tells no one about revocation.
    let id = device.id().to_string();
    server.admin_ok(&["revoke", &id, "--reason", "Tablet lost"]);
    let next = device.sign(
        device.id(),
        2,
        hearth_shared::signed::chain_hash(hearth_shared::signed::split_signed(genuine).unwrap().0),
        &json,
    );
    let revoked = upload(&server, device.id(), vec![seal(&key, next.as_bytes(), 8)]);
    assert_eq!(revoked, unknown);
}
