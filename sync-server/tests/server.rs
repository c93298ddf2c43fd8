//! Integration tests: the real `hearth-server` binary on `127.0.0.1:0`
//! with a temp data directory, spoken to over HTTPS (ureq, pinned to the
//! generated certificate) with records signed here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use hearth_shared::json::{Defaults, parse_body};
use hearth_shared::protocol::{
    BATCH_CONTENT_TYPE, EnrolResponse, ErrorBody, UploadBatch, UploadResponse, VerdictStatus,
};
use hearth_shared::{Envelope, FORMAT_VERSION, Receipt, RecordHash, Seq, SignedRecord, Timestamp};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hearth-server");
const ANNA: &str = "nhs:9434765919";
const BEN: &str = "nhs:4010232137";

/// A running server; killed (SIGKILL) on drop.
struct Server {
    child: Child,
    url: String,
    fingerprint: String,
    data: PathBuf,
}

impl Server {
    fn start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_logging(data, args, env, Stdio::null())
    }

    /// Like [`Server::start`], with the server's log (stderr) to `log`.
    fn start_logging(data: &Path, args: &[&str], env: &[(&str, &str)], log: Stdio) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start hearth-server");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let fingerprint = line
            .trim()
            .strip_prefix("fingerprint sha256:")
            .unwrap_or_else(|| panic!("expected the fingerprint line, got {line:?}"))
            .to_string();
        assert_eq!(fingerprint.len(), 64);
        assert!(
            fingerprint
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        line.clear();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
            .to_string();
        let server = Self {
            child,
            url,
            fingerprint,
            data: data.to_path_buf(),
        };
        let (status, body) = server.get("/v1/health", None);
        assert_eq!((status, body.as_str()), (200, "ok"));
        server
    }

    fn agent(&self) -> ureq::Agent {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pem = std::fs::read(self.data.join("tls/cert.pem")).unwrap();
        let cert = ureq::tls::Certificate::from_pem(&pem).unwrap();
        ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
                    .build(),
            )
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let (status, _, body) = self.get_with_timing(path, token);
        (status, body)
    }

    /// `GET`, with the `Server-Timing` header if there was one.
    fn get_with_timing(&self, path: &str, token: Option<&str>) -> (u16, Option<String>, String) {
        let mut req = self.agent().get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.call().expect("GET");
        let timing = resp
            .headers()
            .get("server-timing")
            .map(|v| v.to_str().unwrap().to_string());
        (
            resp.status().as_u16(),
            timing,
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, String), ureq::Error> {
        let mut resp = self
            .agent()
            .post(format!("{}{path}", self.url))
            .header("Content-Type", content_type)
            .send(body)?;
        Ok((
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        ))
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory only its owner may use, as the server requires of
/// its data directory (`tempfile` follows the umask, 0755 under 022).
fn private_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .unwrap()
}

fn admin(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env("USER", "test-runner")
        .output()
        .unwrap()
}

fn admin_ok(data: &Path, args: &[&str]) -> String {
    let out = admin(data, args);
    assert!(
        out.status.success(),
        "hearth-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn admin_json(data: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&admin_ok(data, args)).unwrap()
}

/// A tablet: a fixed key and its chain.
struct Device {
    key: SigningKey,
    next: u64,
    prev: RecordHash,
    server_key: Option<ed25519_dalek::VerifyingKey>,
    server_time: Timestamp,
}

impl Device {
    fn new(seed: u8) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
            next: 1,
            prev: RecordHash::GENESIS,
            server_key: None,
            server_time: Timestamp(0),
        }
    }

    fn id(&self) -> hearth_shared::DeviceId {
        hearth_shared::DeviceId::from_public_key(self.key.verifying_key().as_bytes())
    }

    fn enrol_request(&self, token: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "token": token,
            "public_key": hex::encode(self.key.verifying_key().as_bytes()),
        }))
        .unwrap()
    }

    fn enrol(&mut self, server: &Server, agency: &str) {
        let token = admin_ok(
            &server.data,
            &["enrol-token", "--agency", agency, "--worker", "w1"],
        );
        let (status, body) = server
            .post(
                "/v1/enrol",
                "application/json",
                self.enrol_request(token.trim()),
            )
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let r: EnrolResponse = serde_json::from_str(&body).unwrap();
        assert_eq!(r.device, self.id());
        let key: [u8; 32] = hex::decode(&r.server_key).unwrap().try_into().unwrap();
        self.server_key = Some(ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap());
        self.server_time = r.server_time;
    }

    /// Signs the next record in the chain.
    fn record(&mut self, json: &str) -> SignedRecord {
        let s = self.record_at(self.next, self.prev, json);
        self.next += 1;
        self.prev = s.hash();
        s
    }

    fn record_at(&self, seq: u64, prev: RecordHash, json: &str) -> SignedRecord {
        let body = parse_body(
            json,
            &Defaults {
                author: "w1".try_into().unwrap(),
                agency: "HV-NORTH".try_into().unwrap(),
            },
        )
        .unwrap();
        let env = Envelope {
            version: FORMAT_VERSION,
            device: self.id(),
            seq: Seq(seq),
            prev,
            device_time: Timestamp(self.server_time.0 + 60),
            body,
        };
        SignedRecord::sign(&self.key, &env).unwrap()
    }

    fn batch(&self, records: Vec<Vec<u8>>) -> Vec<u8> {
        postcard::to_allocvec(&UploadBatch::new(
            &self.key,
            Timestamp(self.server_time.0 + 60),
            records,
        ))
        .unwrap()
    }

    fn upload(&self, server: &Server, records: &[&SignedRecord]) -> UploadResponse {
        let body = self.batch(records.iter().map(|r| r.as_bytes().to_vec()).collect());
        let (status, text) = server.post("/v1/sync", BATCH_CONTENT_TYPE, body).unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    fn upload_raw(&self, server: &Server, records: Vec<Vec<u8>>) -> UploadResponse {
        let (status, text) = server
            .post("/v1/sync", BATCH_CONTENT_TYPE, self.batch(records))
            .unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    fn receipts(&self, r: &UploadResponse) -> Vec<Receipt> {
        r.receipts
            .iter()
            .map(|h| {
                Receipt::verify(self.server_key.as_ref().unwrap(), &hex::decode(h).unwrap())
                    .unwrap()
            })
            .collect()
    }
}

fn concern(child: &str, at: &str, headline: &str) -> String {
    format!(
        r#"{{"kind":"concern","children":["{child}"],"occurred_at":"{at}","headline":"{headline}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
    )
}

fn statuses(r: &UploadResponse) -> Vec<VerdictStatus> {
    r.verdicts.iter().map(|v| v.status).collect()
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<ErrorBody>(body)
        .unwrap_or_else(|e| panic!("not an error body ({e}): {body}"))
        .error
}

#[test]
fn accept_then_duplicate_with_receipts_after_commit() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(1);
    dev.enrol(&server, "HV-NORTH");
    let recs: Vec<_> = (0..3)
        .map(|i| {
            dev.record(&concern(
                ANNA,
                &format!("2026-03-0{}T10:00:00Z", i + 1),
                "Seen",
            ))
        })
        .collect();
    let refs: Vec<_> = recs.iter().collect();
    let r = dev.upload(&server, &refs);
    assert_eq!(statuses(&r), vec![VerdictStatus::Accepted; 3]);
    let receipts = dev.receipts(&r);
    assert_eq!(receipts.len(), 1);
    assert_eq!((receipts[0].first, receipts[0].last), (Seq(1), Seq(3)));
    assert_eq!(receipts[0].last_hash, recs[2].hash());
    assert_eq!(receipts[0].device, dev.id());
    // The device clock runs 60 s ahead of the server's enrolment time.
    let expected = 60 - (r.server_time.0 - dev.server_time.0);
    assert!(
        (expected..=60).contains(&r.clock_offset_seconds),
        "offset {} not in {expected}..=60",
        r.clock_offset_seconds
    );
    let again = dev.upload(&server, &refs);
    assert_eq!(statuses(&again), vec![VerdictStatus::Duplicate; 3]);
    assert_eq!(dev.receipts(&again)[0].last_hash, recs[2].hash());
}

#[test]
fn fork_quarantines_both_and_raises_an_alarm() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(2);
    dev.enrol(&server, "HV-NORTH");
    let first = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "One"));
    let prev = first.hash();
    let second = dev.record(&concern(ANNA, "2026-03-02T10:00:00Z", "Two"));
    assert_eq!(
        statuses(&dev.upload(&server, &[&first, &second])),
        vec![VerdictStatus::Accepted; 2]
    );
    let rival = dev.record_at(
        2,
        prev,
        &concern(ANNA, "2026-03-02T10:00:00Z", "Two, rewritten"),
    );
    let r = dev.upload(&server, &[&rival]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Quarantined]);
    assert!(
        r.verdicts[0].reason.contains("fork"),
        "{}",
        r.verdicts[0].reason
    );
    assert!(r.receipts.is_empty(), "a fork is not acknowledged");
    let q = admin_json(dir.path(), &["quarantine", "--json"]);
    let held = q["held"].as_array().unwrap();
    assert_eq!(held.len(), 2, "both sides kept: {q}");
    assert!(
        held.iter()
            .all(|h| h["status"] == "quarantined" && h["seq"] == 2)
    );
    assert_eq!(q["alarms"].as_array().unwrap().len(), 1);
    // The agent resends what was not acknowledged: still quarantined, no new alarm.
    let again = dev.upload(&server, &[&rival]);
    assert_eq!(statuses(&again), vec![VerdictStatus::Quarantined]);
    let q = admin_json(dir.path(), &["quarantine", "--json"]);
    assert_eq!(
        (
            q["held"].as_array().unwrap().len(),
            q["alarms"].as_array().unwrap().len()
        ),
        (2, 1)
    );
    // The held record is shown disputed in the chronology.
    let out = admin_json(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--format",
            "json",
            "--reason",
            "fork review",
        ],
    );
    let flags = out["entries"][1]["flags"].as_array().unwrap();
    assert!(flags.contains(&"disputed".into()), "{flags:?}");
    assert!(
        !out["entries"][0]["flags"]
            .as_array()
            .unwrap()
            .contains(&"disputed".into())
    );
}

#[test]
fn gap_is_recorded_then_filled() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(3);
    dev.enrol(&server, "HV-NORTH");
    let r1 = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "One"));
    let r2 = dev.record(&concern(ANNA, "2026-03-02T10:00:00Z", "Two"));
    let r3 = dev.record(&concern(ANNA, "2026-03-03T10:00:00Z", "Three"));
    let r = dev.upload(&server, &[&r1, &r3]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Accepted; 2]);
    assert!(
        r.verdicts[1].reason.contains("gap"),
        "{}",
        r.verdicts[1].reason
    );
    assert_eq!(dev.receipts(&r).len(), 2, "two runs: 1 and 3");
    let devices = admin_json(dir.path(), &["devices", "--json"]);
    assert_eq!(
        devices[0]["gaps"],
        serde_json::json!([{"from": 2, "to": 2}])
    );
    let r = dev.upload(&server, &[&r2]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Accepted]);
    assert!(r.verdicts[0].reason.contains("fills a gap"));
    let devices = admin_json(dir.path(), &["devices", "--json"]);
    assert_eq!(devices[0]["gaps"], serde_json::json!([]));
    let full = dev.upload(&server, &[&r1, &r2, &r3]);
    let receipts = dev.receipts(&full);
    assert_eq!(
        (receipts.len(), receipts[0].first, receipts[0].last),
        (1, Seq(1), Seq(3))
    );
}

#[test]
fn rejected_records_are_kept_with_reasons() {
    let dir = private_dir();
    let limit = (3 * hearth_shared::MAX_SIGNED_SIZE).to_string();
    let server = Server::start(
        dir.path(),
        &["--max-batch-records", "4", "--max-body-bytes", &limit],
        &[],
    );
    let mut dev = Device::new(4);
    dev.enrol(&server, "HV-NORTH");
    let mut other = Device::new(5);
    other.enrol(&server, "SCHOOL-3");
    other.server_time = dev.server_time;

    let good = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "Good"));
    let mut tampered = good.as_bytes().to_vec();
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    // Signed by the other (enrolled) device but sent in this device's batch.
    let foreign = other.record(&concern(ANNA, "2026-03-01T10:00:00Z", "Foreign"));
    let oversize = vec![FORMAT_VERSION; hearth_shared::MAX_SIGNED_SIZE + 1];
    let body = dev.batch(vec![
        tampered,
        foreign.as_bytes().to_vec(),
        oversize,
        good.as_bytes().to_vec(),
    ]);
    let (status, text) = server.post("/v1/sync", BATCH_CONTENT_TYPE, body).unwrap();
    assert_eq!(status, 200, "{text}");
    let r: UploadResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(
        statuses(&r),
        vec![
            VerdictStatus::Rejected,
            VerdictStatus::Rejected,
            VerdictStatus::Rejected,
            VerdictStatus::Accepted
        ]
    );
    assert!(
        r.verdicts[0].reason.contains("signature"),
        "{}",
        r.verdicts[0].reason
    );
    assert!(
        r.verdicts[1].reason.contains("signature"),
        "{}",
        r.verdicts[1].reason
    );
    assert!(
        r.verdicts[2].reason.contains("limit"),
        "{}",
        r.verdicts[2].reason
    );
    assert_eq!(
        dev.receipts(&r).len(),
        1,
        "only the good record is acknowledged"
    );
    // A truncated record.
    let r = dev.upload_raw(&server, vec![vec![FORMAT_VERSION; 3]]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Rejected]);
    assert!(
        r.verdicts[0].reason.contains("shorter"),
        "{}",
        r.verdicts[0].reason
    );
    assert!(r.receipts.is_empty());
    let q = admin_json(dir.path(), &["quarantine", "--json"]);
    let held = q["held"].as_array().unwrap();
    assert_eq!(held.len(), 4);
    assert!(
        held.iter()
            .all(|h| h["status"] == "rejected" && !h["reason"].as_str().unwrap().is_empty())
    );

    // Too many records.
    let body = dev.batch(vec![good.as_bytes().to_vec(); 5]);
    let (status, text) = server.post("/v1/sync", BATCH_CONTENT_TYPE, body).unwrap();
    assert_eq!(
        (status, error_code(&text).as_str()),
        (413, "batch_too_large")
    );
    // Garbage.
    let (status, text) = server
        .post("/v1/sync", BATCH_CONTENT_TYPE, b"not postcard".to_vec())
        .unwrap();
    assert_eq!((status, error_code(&text).as_str()), (400, "bad_batch"));
    // Too big a body.
    let too_big = vec![0; 4 * hearth_shared::MAX_SIGNED_SIZE];
    let (status, text) = server
        .post("/v1/sync", BATCH_CONTENT_TYPE, too_big)
        .unwrap();
    assert_eq!(
        (status, error_code(&text).as_str()),
        (413, "body_too_large")
    );
    // A key that was never enrolled.
    let mut forged = Device::new(6);
    forged.server_time = dev.server_time;
    let rec = forged.record(&concern(ANNA, "2026-03-01T10:00:00Z", "Forged"));
    let body = forged.batch(vec![rec.as_bytes().to_vec()]);
    let (status, text) = server.post("/v1/sync", BATCH_CONTENT_TYPE, body).unwrap();
    assert_eq!(
        (status, error_code(&text).as_str()),
        (401, "unauthenticated")
    );
    // A batch header not signed by the device it names.
    let mut batch = UploadBatch::new(&dev.key, Timestamp(0), vec![good.as_bytes().to_vec()]);
    batch.auth = UploadBatch::new(&other.key, Timestamp(0), vec![]).auth;
    let (status, text) = server
        .post(
            "/v1/sync",
            BATCH_CONTENT_TYPE,
            postcard::to_allocvec(&batch).unwrap(),
        )
        .unwrap();
    assert_eq!(
        (status, error_code(&text).as_str()),
        (401, "unauthenticated")
    );
}

/// The body of a 401 with its message, for comparing refusals.
fn refusal(server: &Server, body: Vec<u8>) -> (u16, String) {
    server.post("/v1/sync", BATCH_CONTENT_TYPE, body).unwrap()
}

/// A counter's value on `GET /v1/metrics`.
fn metric(server: &Server, name: &str) -> u64 {
    let (status, text) = server.get("/v1/metrics", None);
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn an_unauthenticated_batch_learns_nothing_about_a_revoked_device() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(40);
    dev.enrol(&server, "HV-NORTH");
    let reason = "Tablet lost on bus 42 near the depot";
    admin_ok(
        dir.path(),
        &["revoke", &dev.id().to_string(), "--reason", reason],
    );
    // The revoked device's id, a header signed by someone else's key.
    let attacker = Device::new(41);
    let mut forged = UploadBatch::new(&dev.key, Timestamp(0), vec![]);
    forged.auth = UploadBatch::new(&attacker.key, Timestamp(0), vec![]).auth;
    let revoked_forged = refusal(&server, postcard::to_allocvec(&forged).unwrap());
    // The same with no signature at all.
    forged.auth = Vec::new();
    let revoked_unsigned = refusal(&server, postcard::to_allocvec(&forged).unwrap());
    // A device that was never enrolled.
    let unknown = refusal(&server, attacker.batch(vec![]));
    for (status, body) in [&revoked_forged, &revoked_unsigned, &unknown] {
        assert_eq!(
            (*status, error_code(body).as_str()),
            (401, "unauthenticated"),
            "{body}"
        );
        assert!(!body.contains("bus 42"), "the reason leaked: {body}");
        assert!(!body.contains("revoked"), "the revocation leaked: {body}");
        assert!(!body.contains(&dev.id().to_string()), "{body}");
    }
    assert_eq!(
        revoked_forged.1, unknown.1,
        "revoked and unknown look alike"
    );
    assert_eq!(revoked_unsigned.1, unknown.1);
    assert_eq!(metric(&server, "hearth_batch_auth_failures_total"), 3);
    // Signed by the revoked device itself: told, with the reason and the
    // signed notice the tablet acts on.
    let (status, body) = refusal(&server, dev.batch(vec![]));
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "device_revoked")
    );
    assert!(body.contains("bus 42"), "{body}");
    let notice: ErrorBody = serde_json::from_str(&body).unwrap();
    assert!(notice.revocation.is_some());
}

#[test]
fn refused_methods_get_json_and_failed_credentials_are_logged_and_counted() {
    let dir = private_dir();
    let data = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Server::start_logging(&data, &[], &[], log.into());
    for (path, method) in [
        ("/v1/health", "POST"),
        ("/v1/sync", "GET"),
        ("/v1/enrol", "PUT"),
        ("/v1/children/nhs:9434765919/chronology", "DELETE"),
    ] {
        let mut resp = server
            .agent()
            .run(
                ureq::http::Request::builder()
                    .method(method)
                    .uri(format!("{}{path}", server.url))
                    .body(())
                    .unwrap(),
            )
            .unwrap();
        let body = resp.body_mut().read_to_string().unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}: {body}");
        assert_eq!(error_code(&body), "method_not_allowed", "{method} {path}");
    }
    assert_eq!(metric(&server, "hearth_enrol_failures_total"), 0);
    assert_eq!(metric(&server, "hearth_token_failures_total"), 0);
    let (status, _) = server
        .post(
            "/v1/enrol",
            "application/json",
            Device::new(42).enrol_request("guessed-token"),
        )
        .unwrap();
    assert_eq!(status, 401);
    let path = format!("/v1/children/{ANNA}/chronology?reason=looking%20around");
    assert_eq!(server.get(&path, Some("guessed-token")).0, 401);
    assert_eq!(server.get(&path, None).0, 401);
    assert_eq!(metric(&server, "hearth_enrol_failures_total"), 1);
    assert_eq!(metric(&server, "hearth_token_failures_total"), 2);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines = |what: &str| log.lines().filter(|l| l.contains(what)).count();
    assert_eq!(lines("enrolment refused"), 1, "{log}");
    assert_eq!(lines("chronology request refused"), 2, "{log}");
    assert!(
        log.lines()
            .filter(|l| l.contains("refused"))
            .all(|l| l.contains("WARN") && l.contains("127.0.0.1:")),
        "each refusal is a warning naming the peer: {log}"
    );
    assert!(!log.contains("guessed-token"), "a token was logged: {log}");
    assert!(!log.contains(ANNA), "a child was logged: {log}");
}

#[test]
fn record_naming_another_device_is_refused_as_wrong_device() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(7);
    dev.enrol(&server, "HV-NORTH");
    // Signed with this device's key but naming another device.
    let body = parse_body(
        &concern(ANNA, "2026-03-01T10:00:00Z", "Replayed"),
        &Defaults {
            author: "w1".try_into().unwrap(),
            agency: "HV-NORTH".try_into().unwrap(),
        },
    )
    .unwrap();
    let env = Envelope {
        version: FORMAT_VERSION,
        device: Device::new(8).id(),
        seq: Seq(1),
        prev: RecordHash::GENESIS,
        device_time: dev.server_time,
        body,
    };
    let rec = SignedRecord::sign(&dev.key, &env).unwrap();
    let r = dev.upload(&server, &[&rec]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Rejected]);
    assert!(
        r.verdicts[0]
            .reason
            .contains("replayed from another device"),
        "{}",
        r.verdicts[0].reason
    );
}

#[test]
fn acknowledged_batch_survives_sigkill_and_resend_is_idempotent() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let fingerprint = server.fingerprint.clone();
    let mut dev = Device::new(9);
    dev.enrol(&server, "HV-NORTH");
    let a = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "A"));
    let b = dev.record(&concern(ANNA, "2026-03-02T10:00:00Z", "B"));
    let r = dev.upload(&server, &[&a, &b]);
    assert_eq!(dev.receipts(&r).len(), 1);
    server.kill();
    let server = Server::start(dir.path(), &[], &[]);
    assert_eq!(server.fingerprint, fingerprint, "the certificate is kept");
    let again = dev.upload(&server, &[&a, &b]);
    assert_eq!(statuses(&again), vec![VerdictStatus::Duplicate; 2]);
    assert_eq!(dev.receipts(&again)[0].last_hash, b.hash());
}

#[test]
fn crash_before_commit_gives_no_receipt_and_the_resend_is_accepted() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(10);
    dev.enrol(&server, "HV-NORTH");
    server.kill();
    let crashing = Server::start(dir.path(), &[], &[("HEARTH_FAULT", "abort-before-commit")]);
    let a = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "A"));
    let body = dev.batch(vec![a.as_bytes().to_vec()]);
    let result = crashing.post("/v1/sync", BATCH_CONTENT_TYPE, body);
    assert!(result.is_err(), "no response, so no receipt: {result:?}");
    drop(crashing);
    let server = Server::start(dir.path(), &[], &[]);
    let r = dev.upload(&server, &[&a]);
    assert_eq!(
        statuses(&r),
        vec![VerdictStatus::Accepted],
        "nothing was committed before the crash"
    );
}

#[test]
fn several_devices_upload_at_once() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut devices: Vec<Device> = (20..26).map(Device::new).collect();
    for d in &mut devices {
        d.enrol(&server, "HV-NORTH");
    }
    std::thread::scope(|s| {
        for mut d in devices {
            let server = &server;
            s.spawn(move || {
                for batch in 0..5 {
                    let recs: Vec<_> = (0..10)
                        .map(|i| {
                            d.record(&concern(
                                ANNA,
                                &format!("2026-03-{:02}T10:{i:02}:00Z", batch + 1),
                                "C",
                            ))
                        })
                        .collect();
                    let refs: Vec<_> = recs.iter().collect();
                    let r = d.upload(server, &refs);
                    assert_eq!(statuses(&r), vec![VerdictStatus::Accepted; 10]);
                    let rc = d.receipts(&r);
                    assert_eq!(rc[0].last, Seq(batch * 10 + 10));
                }
            });
        }
    });
    let out = admin_json(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--format",
            "json",
            "--reason",
            "load test",
        ],
    );
    assert_eq!(out["entries"].as_array().unwrap().len(), 6 * 50);
}

#[test]
fn refusals_revoked_device_tokens_and_api_auth() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    // Reused token.
    let token = admin_ok(
        dir.path(),
        &["enrol-token", "--agency", "HV-NORTH", "--worker", "w1"],
    );
    let token = token.trim();
    assert_eq!(token.len(), 43);
    let d1 = Device::new(30);
    let (s, _) = server
        .post("/v1/enrol", "application/json", d1.enrol_request(token))
        .unwrap();
    assert_eq!(s, 200);
    let d2 = Device::new(31);
    let (s, body) = server
        .post("/v1/enrol", "application/json", d2.enrol_request(token))
        .unwrap();
    assert_eq!((s, error_code(&body).as_str()), (401, "token_invalid"));
    assert!(body.contains("already used"), "{body}");
    // Unknown token.
    let (s, body) = server
        .post("/v1/enrol", "application/json", d2.enrol_request("nope"))
        .unwrap();
    assert_eq!((s, error_code(&body).as_str()), (401, "token_invalid"));
    // Device already enrolled.
    let t2 = admin_ok(
        dir.path(),
        &["enrol-token", "--agency", "HV-NORTH", "--worker", "w1"],
    );
    let (s, body) = server
        .post("/v1/enrol", "application/json", d1.enrol_request(t2.trim()))
        .unwrap();
    assert_eq!((s, error_code(&body).as_str()), (409, "device_exists"));
    // Malformed.
    let (s, body) = server
        .post("/v1/enrol", "application/json", b"{}".to_vec())
        .unwrap();
    assert_eq!((s, error_code(&body).as_str()), (400, "bad_request"));
    // Expired token.
    let t3 = admin_ok(
        dir.path(),
        &[
            "enrol-token",
            "--agency",
            "HV-NORTH",
            "--worker",
            "w1",
            "--expires",
            "1s",
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    let (s, body) = server
        .post("/v1/enrol", "application/json", d2.enrol_request(t3.trim()))
        .unwrap();
    assert_eq!((s, error_code(&body).as_str()), (401, "token_invalid"));
    assert!(body.contains("expired"), "{body}");

    // Revoked device.
    let mut dev = Device::new(32);
    dev.enrol(&server, "HV-NORTH");
    let rec = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "A"));
    dev.upload(&server, &[&rec]);
    admin_ok(
        dir.path(),
        &["revoke", &dev.id().to_string(), "--reason", "tablet lost"],
    );
    let (s, body) = server
        .post(
            "/v1/sync",
            BATCH_CONTENT_TYPE,
            dev.batch(vec![rec.as_bytes().to_vec()]),
        )
        .unwrap();
    assert_eq!((s, error_code(&body).as_str()), (403, "device_revoked"));
    assert!(body.contains("tablet lost"), "{body}");
    let devices = admin_json(dir.path(), &["devices", "--json"]);
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["revoked_reason"] == "tablet lost")
    );

    // API tokens and reasons.
    let api = admin_ok(dir.path(), &["user", "add", "mgr", "--role", "manager"]);
    let api = api.trim();
    let path = format!("/v1/children/{ANNA}/chronology");
    let (s, body) = server.get(&format!("{path}?reason=review"), None);
    assert_eq!((s, error_code(&body).as_str()), (401, "unauthorized"));
    let (s, body) = server.get(&format!("{path}?reason=review"), Some("wrong-token"));
    assert_eq!((s, error_code(&body).as_str()), (401, "unauthorized"));
    let (s, body) = server.get(&path, Some(api));
    assert_eq!((s, error_code(&body).as_str()), (400, "reason_required"));
    let (s, body) = server.get(&format!("{path}?reason=%20%20"), Some(api));
    assert_eq!((s, error_code(&body).as_str()), (400, "reason_required"));
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log, serde_json::json!([]), "a refused pull is not a read");
    let (s, body) = server.get(&format!("{path}?reason=strategy%20meeting"), Some(api));
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log[0]["who"], "mgr");
    assert_eq!(log[0]["via"], "http");
    assert_eq!(log[0]["reason"], "strategy meeting");
    assert_eq!(log[0]["child"], ANNA);

    // CLI pull without a reason is refused, with one is audited as the OS user.
    let out = admin(
        dir.path(),
        &["chronology", "--child", ANNA, "--format", "table"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reason is required"));
    let table = admin_ok(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--format",
            "table",
            "--reason",
            "case review",
        ],
    );
    assert!(table.contains("DATE"), "{table}");
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[1]["who"], "test-runner");
    assert_eq!(log[1]["via"], "cli");
}

#[test]
fn family_view_merges_siblings_orders_by_event_and_folds_amendments() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut hv = Device::new(40);
    hv.enrol(&server, "HV-NORTH");
    let mut school = Device::new(41);
    school.enrol(&server, "SCHOOL-3");
    let both = hv.record(&format!(
        r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"2026-03-02T10:00:00Z","headline":"Visit","access":"unannounced","child_seen":"awake"}}"#
    ));
    let ben = hv.record(&concern(BEN, "2026-03-04T10:00:00Z", "Ben concern"));
    let wrong = hv.record(&concern(ANNA, "2026-03-05T10:00:00Z", "Wrong"));
    let amend = hv.record(&format!(
        r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-03-01T09:00:00Z","headline":"Right","corrects":"{}-3","reason":"date wrong"}}"#,
        hv.id()
    ));
    hv.upload(&server, &[&both, &ben, &wrong, &amend]);
    // Synced later, happened earlier; 3 days late relative to the device clock.
    let early = school.record(&concern(ANNA, "2026-02-01T08:00:00Z", "Early"));
    school.upload(&server, &[&early]);
    let api = admin_ok(dir.path(), &["user", "add", "boss", "--role", "admin"]);
    let (s, timing, body) = server.get_with_timing(
        &format!("/v1/children/{ANNA}/chronology?reason=review&family=true&format=json"),
        Some(api.trim()),
    );
    assert_eq!(s, 200, "{body}");
    // The server says how long it took: pull, render and total, in ms.
    let timing = timing.expect("a Server-Timing header");
    let names: Vec<&str> = timing
        .split(", ")
        .map(|m| m.split_once(";dur=").expect("name;dur=ms").0)
        .collect();
    assert_eq!(names, ["pull", "render", "total"], "{timing}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let heads: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["headline"].as_str().unwrap())
        .collect();
    assert_eq!(heads, ["Early", "Right", "Visit", "Ben concern"]);
    let right = &v["entries"][1];
    assert_eq!(right["amended"], true);
    assert_eq!(right["original_headline"], "Wrong");
    assert_eq!(right["amendment_reason"], "date wrong");
    assert!(
        v["entries"][0]["flags"]
            .as_array()
            .unwrap()
            .contains(&"late_entry".into())
    );
    // Not the family: Ben's own concern drops out.
    let (_, body) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=review"),
        Some(api.trim()),
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 3);
    // CSV and table over HTTP.
    let (s, csv) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=review&family=true&format=csv&from=2026-03-01&to=2026-03-03"),
        Some(api.trim()),
    );
    assert_eq!(s, 200);
    assert!(csv.starts_with("date,time,record_id,"));
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let (_, table) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=review&format=table"),
        Some(api.trim()),
    );
    assert!(table.lines().nth(1).unwrap().starts_with("DATE"), "{table}");
    // An administrator link joins an otherwise unrelated child.
    admin_ok(dir.path(), &["family", "link", BEN, "local:LA-NORTH:C-7"]);
    let out = admin_json(
        dir.path(),
        &[
            "chronology",
            "--child",
            "local:LA-NORTH:C-7",
            "--family",
            "--format",
            "json",
            "--reason",
            "r",
            "--as",
            "alice",
        ],
    );
    assert_eq!(out["children"].as_array().unwrap().len(), 3);
}

/// `hearth-server --data DATA ARGS` under umask 022, as a shell would start it.
fn under_umask_022(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "umask 022 && exec \"$0\" \"$@\"", BIN, "--data"])
        .arg(data)
        .args(args)
        .env("USER", "test-runner");
    cmd
}

/// Every path under `dir` with its permission bits, `dir` first.
fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = vec![(
        dir.to_path_buf(),
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
    )];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(modes(&path));
        } else {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            out.push((path, mode));
        }
    }
    out
}

#[test]
fn the_data_directory_and_every_file_in_it_are_private_whatever_the_umask() {
    let dir = private_dir();
    let data = dir.path().join("data");
    let mut child = under_umask_022(&data, &["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("listening on") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve exited");
    }
    // An administration command under the same umask, while serve runs.
    let added = under_umask_022(&data, &["user", "add", "mgr", "--role", "manager"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let seen = modes(&data);
    let _ = child.kill();
    let _ = child.wait();
    let names: Vec<String> = seen
        .iter()
        .map(|(p, _)| p.strip_prefix(&data).unwrap().display().to_string())
        .collect();
    for expected in [
        "hearth.db",
        "hearth.db-wal",
        "hearth.db-shm",
        "server_key",
        "tls/cert.pem",
        "tls/key.pem",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for (path, mode) in &seen {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{} is {mode:04o}", path.display());
    }
}

#[test]
fn a_data_directory_open_to_others_is_refused_by_every_command() {
    use std::os::unix::fs::PermissionsExt;
    let dir = private_dir();
    let data = dir.path().join("data");
    admin_ok(&data, &["devices"]);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    // serve must refuse at once, not start (a server that started would be
    // killed after 10 s and the test fail).
    let mut serve = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while serve.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = serve.kill();
    let out = serve.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve ran on a 0755 directory");
    assert!(
        err.contains(&format!("chmod 700 {}", data.display())),
        "{err}"
    );
    for args in [
        &["devices"][..],
        &["user", "add", "mgr", "--role", "manager"],
        &["enrol-token", "--agency", "HV-NORTH", "--worker", "w1"],
        &["access-log"],
    ] {
        let out = admin(&data, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} ran on a 0755 directory");
        assert!(
            err.contains(&format!("chmod 700 {}", data.display())),
            "{args:?}: {err}"
        );
    }
    // Fixed as told, it runs, and a database an older version left
    // world-readable is made private.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let db = data.join("hearth.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    admin_ok(&data, &["devices"]);
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn api_tokens_can_be_listed_revoked_and_rotated() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let path = format!("/v1/children/{ANNA}/chronology?reason=strategy%20meeting");
    let first = admin_ok(dir.path(), &["user", "add", "mgr", "--role", "manager"]);
    let first = first.trim();
    admin_ok(dir.path(), &["user", "add", "lead", "--role", "admin"]);
    assert_eq!(server.get(&path, Some(first)).0, 200);

    // Rotated: the old token stops working at once, the new one works.
    let second = admin_ok(dir.path(), &["user", "rotate", "mgr"]);
    let second = second.trim();
    assert_eq!(second.len(), 43);
    assert_ne!(second, first);
    let (s, body) = server.get(&path, Some(first));
    assert_eq!((s, error_code(&body).as_str()), (401, "unauthorized"));
    assert_eq!(server.get(&path, Some(second)).0, 200);

    // Revoked: the running server refuses it at once.
    let out = admin_ok(
        dir.path(),
        &["user", "revoke", "mgr", "--reason", "left the service"],
    );
    assert!(out.contains("revoked user mgr"), "{out}");
    let (s, body) = server.get(&path, Some(second));
    assert_eq!((s, error_code(&body).as_str()), (401, "unauthorized"));

    let list = admin_json(dir.path(), &["user", "list", "--json"]);
    let users = list.as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["name"], "lead");
    assert_eq!(users[0]["revoked_at"], Value::Null);
    assert_eq!(users[1]["name"], "mgr");
    assert_eq!(users[1]["role"], "manager");
    assert_eq!(users[1]["revoked_reason"], "left the service");
    let table = admin_ok(dir.path(), &["user", "list"]);
    assert!(
        table.starts_with("NAME\tROLE\tCREATED\tREVOKED\n"),
        "{table}"
    );
    for listing in [list.to_string(), table] {
        assert!(!listing.contains(first) && !listing.contains(second));
    }

    // A revoked user stays revoked; unknown users and blank reasons are errors.
    for (args, says) in [
        (&["user", "rotate", "mgr"][..], "was revoked"),
        (
            &["user", "revoke", "mgr", "--reason", "again"],
            "was revoked",
        ),
        (
            &["user", "revoke", "nobody", "--reason", "x"],
            "no user named",
        ),
        (&["user", "rotate", "nobody"], "no user named"),
        (
            &["user", "revoke", "lead", "--reason", "  "],
            "reason is required",
        ),
    ] {
        let out = admin(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(server.get(&path, Some(second)).0, 401);
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log.as_array().unwrap().len(), 2, "the two allowed pulls");
}
