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
        hearth_testpg::set_database(&mut cmd, data)
            .arg("--data")
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

    /// `POST` with an API token, refusals included.
    fn post_as(&self, path: &str, token: &str, content_type: &str, body: &str) -> (u16, String) {
        let mut resp = self
            .agent()
            .post(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .send(body.as_bytes())
            .expect("POST");
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
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

fn admin_command(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    hearth_testpg::set_database(&mut cmd, data)
        .arg("--data")
        .arg(data)
        .args(args)
        .env("USER", "test-runner")
        .env("LOGNAME", "test-runner")
        .env_remove("HEARTH_TZ");
    cmd
}

fn admin(data: &Path, args: &[&str]) -> Output {
    admin_command(data, args).output().unwrap()
}

/// The operating-system user running the tests, as `id -un` names it.
fn os_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
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
    /// The agency it is enrolled for, the default of its records.
    agency: String,
}

impl Device {
    fn new(seed: u8) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
            next: 1,
            prev: RecordHash::GENESIS,
            server_key: None,
            server_time: Timestamp(0),
            agency: "HV-NORTH".into(),
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
        self.enrol_with(server, &["--agency", agency, "--worker", "w1"]);
        self.agency = agency.to_string();
    }

    /// Enrols with a token issued by `enrol-token` with `args`.
    fn enrol_with(&mut self, server: &Server, args: &[&str]) -> EnrolResponse {
        let mut command = vec!["enrol-token"];
        command.extend_from_slice(args);
        let token = admin_ok(&server.data, &command);
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
        r
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
                agency: self.agency.as_str().try_into().unwrap(),
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

    /// Signs the next record as a hostile device would: `json`, then
    /// `change` applied to the envelope after every rule was checked, so
    /// the bytes may break rules an honest agent enforces.
    fn record_hostile(&mut self, json: &str, change: impl FnOnce(&mut Envelope)) -> Vec<u8> {
        let mut env = hearth_shared::verify(
            &self.key.verifying_key(),
            self.record_at(self.next, self.prev, json).as_bytes(),
        )
        .unwrap()
        .into_envelope();
        change(&mut env);
        let mut bytes = postcard::to_allocvec(&env).unwrap();
        self.prev = hearth_shared::signed::chain_hash(&bytes);
        self.next += 1;
        let signature = hearth_shared::signed::sign_envelope_bytes(&self.key, &bytes);
        bytes.extend_from_slice(&signature.to_bytes());
        bytes
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
        .to_string()
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
    let q = admin_json(
        dir.path(),
        &["quarantine", "--json", "--reason", "triage of held records"],
    );
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
    let q = admin_json(
        dir.path(),
        &["quarantine", "--json", "--reason", "triage of held records"],
    );
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
    let q = admin_json(
        dir.path(),
        &["quarantine", "--json", "--reason", "triage of held records"],
    );
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
            "load test of many records",
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
    // A second revocation is refused: the first one's time and reason stand.
    let again = admin(
        dir.path(),
        &[
            "revoke",
            &dev.id().to_string(),
            "--reason",
            "found again, revoking twice",
        ],
    );
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already revoked") && err.contains("tablet lost"),
        "{err}"
    );
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
    let (s, body) = server.get(&format!("{path}?reason=case%20review"), None);
    assert_eq!((s, error_code(&body).as_str()), (401, "unauthorized"));
    let (s, body) = server.get(&format!("{path}?reason=case%20review"), Some("wrong-token"));
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
    // Not $USER (which the caller sets as they like): the uid's name.
    assert_eq!(log[1]["who"], os_user().as_str());
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
        &format!("/v1/children/{ANNA}/chronology?reason=case%20review&family=true&format=json"),
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
    // Issue 15: with detail=true every entry carries its record's own
    // fields, read from the stored bytes (an old-style amendment leaves the
    // original's); without it, none does (figure 7's pull stays a pull).
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("detail").is_none()),
        "{body}"
    );
    let (s, _, body) = server.get_with_timing(
        &format!(
            "/v1/children/{ANNA}/chronology?reason=case%20review&family=true&format=json&detail=true"
        ),
        Some(api.trim()),
    );
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    for e in v["entries"].as_array().unwrap() {
        assert_eq!(e["detail"]["kind"], e["kind"], "{e}");
    }
    assert_eq!(v["entries"][1]["detail"]["category"], "neglect", "{body}");
    assert!(
        v["entries"][0]["flags"]
            .as_array()
            .unwrap()
            .contains(&"late_entry".into())
    );
    // Not the family: Ben's own concern drops out.
    let (_, body) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=case%20review"),
        Some(api.trim()),
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 3);
    // CSV and table over HTTP.
    let (s, csv) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=case%20review&family=true&format=csv&from=2026-03-01&to=2026-03-03"),
        Some(api.trim()),
    );
    assert_eq!(s, 200);
    assert!(csv.starts_with("date,time,zone,occurred_at_utc,record_id,"));
    assert!(
        csv.lines().next().unwrap().ends_with(
            ",device_worker,hungry,injuries,grades_4_or_5,below_threshold,action,child_names"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let (_, table) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=case%20review&format=table"),
        Some(api.trim()),
    );
    // The title, the practice signals (issue 16: these records raise
    // some), then the table.
    assert!(
        table.lines().next().unwrap().starts_with("Chronology for"),
        "{table}"
    );
    assert!(table.contains("\nSignals ("), "{table}");
    assert!(table.lines().any(|l| l.starts_with("DATE ")), "{table}");
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
            "family review",
            "--as",
            "alice",
        ],
    );
    assert_eq!(out["children"].as_array().unwrap().len(), 3);
}

/// Issue 12, item 6: only household records link families, and an
/// administrator's unlink (with a reason, in the history) overrides them,
/// also for records that arrive later.
#[test]
fn issue_12_a_nursery_record_links_no_family_and_an_unlink_survives_new_records() {
    const CARA: &str = "local:LA-NORTH:C-0042";
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut hv = Device::new(42);
    hv.enrol(&server, "HV-NORTH");
    let mut nursery = Device::new(43);
    nursery.enrol(&server, "NURSERY-12");
    let visit = |at: &str| {
        format!(
            r#"{{"kind":"home_visit","children":["{ANNA}","{BEN}"],"occurred_at":"{at}","headline":"Both children seen","access":"unannounced","child_seen":"awake"}}"#
        )
    };
    let daily = nursery.record(&format!(
        r#"{{"kind":"daily_presentation","children":["{ANNA}","{CARA}"],"occurred_at":"2026-03-03T08:05:00Z","headline":"Arrived together","attendance":"present"}}"#
    ));
    nursery.upload(&server, &[&daily]);
    let first = hv.record(&visit("2026-03-02T10:00:00Z"));
    hv.upload(&server, &[&first]);
    let family = |child: &str| -> Vec<String> {
        let v = admin_json(
            dir.path(),
            &[
                "chronology",
                "--child",
                child,
                "--family",
                "--format",
                "json",
                "--reason",
                "family case review",
            ],
        );
        v["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    let mut siblings = vec![ANNA.to_string(), BEN.to_string()];
    siblings.sort();
    // The nursery record named Anna and Cara: no family.
    assert_eq!(family(CARA), [CARA]);
    // The home visit named Anna and Ben: one family.
    let mut anna = family(ANNA);
    anna.sort();
    assert_eq!(anna, siblings);
    // The family table says which children each entry is about.
    let table = admin_ok(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--family",
            "--reason",
            "family case review",
        ],
    );
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("DATE                 | CHILDREN"),
        "{table}"
    );
    assert!(table.contains(&format!("| {ANNA}, {CARA} ")), "{table}");

    // An unlink needs a reason that says something.
    let out = admin(
        dir.path(),
        &["family", "unlink", ANNA, BEN, "--reason", "oops"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--reason"), "{err}");
    assert!(
        admin_json(dir.path(), &["family", "history", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(family(BEN).len(), 2);

    let out = admin_ok(
        dir.path(),
        &[
            "family",
            "unlink",
            ANNA,
            BEN,
            "--reason",
            "different households, confirmed with the GP",
            "--as",
            "admin.okafor",
        ],
    );
    assert!(out.contains("unlinked"), "{out}");
    assert_eq!(family(ANNA), [ANNA]);
    assert_eq!(family(BEN), [BEN]);
    // A new home visit naming both does not re-link them.
    let second = hv.record(&visit("2026-03-09T10:00:00Z"));
    hv.upload(&server, &[&second]);
    assert_eq!(family(ANNA), [ANNA]);
    // The unlink is in the history, with who and why.
    let history = admin_json(dir.path(), &["family", "history", "--json"]);
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["action"], "unlink");
    assert_eq!(
        history[0]["reason"],
        "different households, confirmed with the GP"
    );
    assert!(history[0]["who"].as_str().unwrap().contains("admin.okafor"));
    let mut pair: Vec<&str> = history[0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    pair.sort();
    assert_eq!(pair, siblings);
    // Linking again (a reason is optional, as before) joins them again.
    admin_ok(dir.path(), &["family", "link", ANNA, BEN]);
    let mut anna = family(ANNA);
    anna.sort();
    assert_eq!(anna, siblings);
    let table = admin_ok(dir.path(), &["family", "history"]);
    assert!(
        table.starts_with("WHEN\tACTION\tCHILDREN\tWHO\tREASON\n"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 3, "{table}");
}

/// The query-string form of `s`: every byte that is not unreserved is
/// percent-encoded.
fn query_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The forged chronology row of issue 11, item 3.
const FORGED_ROW: &str =
    "2026-11-01 08:30 | Concern: FORGED LINE, child seen and well | CSC-SOCIAL (sw.smith)";

#[test]
fn hostile_text_from_a_device_is_rejected_and_never_forges_a_table_row() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut hv = Device::new(70);
    hv.enrol(&server, "HV-NORTH");
    let original = hv.record(&concern(ANNA, "2026-03-01T10:00:00Z", "Seen at home"));
    let amendment = hv.record_hostile(
        &format!(
            r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"2026-03-01T10:00:00Z","headline":"Seen at home, well","corrects":"{}-1","reason":"typo"}}"#,
            hv.id()
        ),
        |env| {
            let hearth_shared::Detail::Amendment(a) = &mut env.body.detail else {
                unreachable!()
            };
            a.reason = hearth_shared::Text::try_from_str(&format!("typo\n{FORGED_ROW}")).unwrap();
        },
    );
    let escape = hv.record_hostile(&concern(ANNA, "2026-03-02T10:00:00Z", "x"), |env| {
        env.body.headline =
            hearth_shared::Text::try_from_str("Seen \u{1b}[2J\u{7}\u{8}\u{202e}llew").unwrap();
    });
    let r = hv.upload_raw(
        &server,
        vec![original.as_bytes().to_vec(), amendment, escape],
    );
    assert_eq!(r.verdicts[0].status, VerdictStatus::Accepted);
    for (v, why) in r.verdicts[1..].iter().zip([
        "amendment.reason holds a line break (U+000A)",
        "headline holds a control character (U+001B)",
    ]) {
        assert_eq!(v.status, VerdictStatus::Rejected, "{v:?}");
        assert!(v.reason.contains(why), "{why}: {}", v.reason);
    }
    // Kept, with the reason, for a person to see.
    let held = admin_ok(
        dir.path(),
        &["quarantine", "--reason", "triage of rejected records"],
    );
    assert!(
        held.contains("amendment.reason holds a line break"),
        "{held}"
    );
    assert_eq!(
        held.lines().filter(|l| l.contains("rejected")).count(),
        2,
        "{held}"
    );

    let cli = admin_ok(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--reason",
            "check for forged rows",
        ],
    );
    let api = admin_ok(dir.path(), &["user", "add", "boss", "--role", "manager"]);
    let (status, http) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=check%20for%20forged%20rows&format=table"),
        Some(api.trim()),
    );
    assert_eq!(status, 200, "{http}");
    for table in [&cli, &http] {
        // Title, the signals section (issue 16: each line a heading, a
        // signal's title, an indented line or blank), then header, rule
        // and the one genuine entry.
        let mut lines = table.lines();
        assert!(
            lines.next().unwrap().starts_with("Chronology for"),
            "{table}"
        );
        let signals: Vec<&str> = lines
            .clone()
            .take_while(|l| !l.starts_with("DATE "))
            .collect();
        assert!(
            signals.iter().all(|l| l.is_empty()
                || l.starts_with("Signals (")
                || l.starts_with("* ")
                || l.starts_with("  ")),
            "{table}"
        );
        assert_eq!(lines.count(), signals.len() + 3, "{table}");
        assert!(
            !table.lines().any(|l| l.starts_with("2026-11-01")),
            "{table}"
        );
        assert!(!table.contains('\u{1b}'), "{table}");
    }
}

#[test]
fn reasons_and_readers_are_checked_and_cannot_forge_access_log_rows() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let api = admin_ok(dir.path(), &["user", "add", "boss", "--role", "manager"]);
    let path = format!("/v1/children/{ANNA}/chronology");
    let forged = "x\n2026-11-27T04:00:00Z\tdsl.lead\thttp\tnhs:9434765919\tno\tnhs:9434765919\tsafeguarding review";
    for (reason, says) in [
        (forged, "line break"),
        ("review", "at least 10"),
        ("case review \u{202e}weiver", "bidirectional"),
        (&"x".repeat(1_001), "the limit is 1,000"),
    ] {
        let (status, body) = server.get(
            &format!("{path}?reason={}", query_encode(reason)),
            Some(api.trim()),
        );
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_code(&body), "reason_required");
        assert!(body.contains(says), "{says}: {body}");
    }
    for (args, says) in [
        (vec!["--reason", forged], "line break"),
        (vec!["--reason", "review"], "at least 10"),
        (vec!["--reason", "case review", "--as", ""], "--as"),
        (vec!["--reason", "case review", "--as", "  "], "--as"),
        (
            vec![
                "--reason",
                "case review",
                "--as",
                "bob\n2026-11-27T04:00:00Z\tdsl.lead",
            ],
            "--as",
        ),
    ] {
        let mut all = vec!["chronology", "--child", ANNA];
        all.extend(args.iter().copied());
        let out = admin(dir.path(), &all);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing refused was logged, so nothing could be forged.
    let log = admin_ok(dir.path(), &["access-log"]);
    assert_eq!(log.lines().count(), 1, "{log}");
    // A good reason is logged once, on one row.
    let (status, _) = server.get(
        &format!(
            "{path}?reason={}",
            query_encode("strategy meeting 12 March")
        ),
        Some(api.trim()),
    );
    assert_eq!(status, 200);
    let log = admin_ok(dir.path(), &["access-log"]);
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(
        log.lines()
            .nth(1)
            .unwrap()
            .ends_with("\tstrategy meeting 12 March"),
        "{log}"
    );
}

#[test]
fn quarantine_reads_need_a_reason_are_audited_and_show_bytes_only_on_request() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(71);
    dev.enrol(&server, "HV-NORTH");
    let first = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "One"));
    let second = dev.record(&concern(BEN, "2026-03-02T10:00:00Z", "Two"));
    dev.upload(&server, &[&first, &second]);
    // A fork: two genuine, signed records at seq 2, both held.
    let rival = dev.record_at(
        2,
        first.hash(),
        &concern(BEN, "2026-03-02T10:00:00Z", "Rewritten"),
    );
    assert_eq!(
        statuses(&dev.upload(&server, &[&rival])),
        vec![VerdictStatus::Quarantined]
    );

    for args in [
        vec!["quarantine", "--json"],
        vec!["quarantine"],
        vec!["quarantine", "--json", "--reason", "look"],
        vec![
            "quarantine",
            "--json",
            "--reason",
            "fork triage\nforged row",
        ],
        vec![
            "quarantine",
            "--json",
            "--reason",
            "fork triage today",
            "--as",
            "",
        ],
        // Bytes only as JSON.
        vec!["quarantine", "--bytes", "--reason", "fork triage today"],
    ] {
        let out = admin(dir.path(), &args);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(out.stdout.is_empty(), "{args:?} printed something");
    }
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(
        log.as_array().unwrap().len(),
        0,
        "refusals are not reads: {log}"
    );

    // By default: metadata and verdicts, no bytes, and the read is logged.
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--reason",
            "fork alarm triage",
            "--as",
            "alice",
        ],
    );
    let held = q["held"].as_array().unwrap();
    assert_eq!(held.len(), 2, "{q}");
    for h in held {
        assert!(h.get("bytes_hex").is_none(), "bytes shown by default: {h}");
        assert!(h["size"].as_u64().unwrap() > 64 && h["reason"].as_str().unwrap().contains("fork"));
    }
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(
        (
            entry["who"].as_str(),
            entry["via"].as_str(),
            entry["reason"].as_str()
        ),
        (
            Some(format!("{} (as alice)", os_user()).as_str()),
            Some("quarantine"),
            Some("fork alarm triage")
        )
    );
    assert_eq!(entry["children"], serde_json::json!([BEN]));

    // The bytes on request, logged as such before they are shown.
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--bytes",
            "--reason",
            "fork evidence for review",
            "--as",
            "alice",
        ],
    );
    let shown: Vec<Vec<u8>> = q["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h["bytes_hex"].as_str().unwrap()).unwrap())
        .collect();
    assert!(shown.contains(&rival.as_bytes().to_vec()));
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[1]["via"], "quarantine-bytes");
    assert_eq!(log[1]["children"], serde_json::json!([BEN]));

    // The table's times are local, in the zone asked for (issue 12).
    let table = admin_ok(
        dir.path(),
        &[
            "quarantine",
            "--reason",
            "fork triage by time",
            "--tz",
            "America/New_York",
        ],
    );
    let mut lines = table.lines();
    let held = lines.nth(1).unwrap();
    assert!(
        local_time(held.split('\t').nth(1).unwrap(), &["EST", "EDT"]),
        "{table}"
    );
    let alarm = lines
        .skip_while(|l| !l.starts_with("ID\tRAISED"))
        .nth(1)
        .unwrap();
    assert!(
        local_time(alarm.split('\t').nth(1).unwrap(), &["EST", "EDT"]),
        "{table}"
    );
}

/// Issue 11, item 1: a device enrolled as HV-NORTH/w1 cannot file a record
/// under another agency or author; the record is rejected with a reason and
/// kept in quarantine, and the chronology never shows it. A shared device
/// is enrolled with its staff list, which an administrator can change.
#[test]
fn issue_11_a_record_is_filed_only_under_the_devices_enrolment() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut hv = Device::new(60);
    hv.enrol(&server, "HV-NORTH");
    let forged = hv.record(&format!(
        r#"{{"kind":"concern","children":["{ANNA}"],"occurred_at":"2026-03-01T10:00:00Z","headline":"Forged","agency":"POLICE-CAIT","author":"ds.nobody","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
    ));
    let r = hv.upload(&server, &[&forged]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Rejected]);
    assert!(
        r.verdicts[0].reason.contains("enrolled for \"HV-NORTH\""),
        "{r:?}"
    );
    assert!(r.receipts.is_empty(), "a rejected record gets no receipt");
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--bytes",
            "--reason",
            "triage of held records",
        ],
    );
    assert_eq!(q["held"][0]["status"], "rejected");
    assert_eq!(q["held"][0]["reason"], r.verdicts[0].reason.as_str());
    let c = admin_json(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--format",
            "json",
            "--reason",
            "case review of forged records",
        ],
    );
    assert_eq!(c["entries"], serde_json::json!([]));

    // A shared tablet: its staff may author, nobody else.
    let mut door = Device::new(61);
    let reply = door.enrol_with(
        &server,
        &[
            "--agency",
            "NURSERY-12",
            "--worker",
            "door-tablet",
            "--staff",
            "dsl.patel",
            "--staff",
            "nn.ahmed",
        ],
    );
    assert_eq!(reply.staff, ["dsl.patel", "nn.ahmed"]);
    door.agency = "NURSERY-12".into();
    let by = |author: &str| {
        format!(
            r#"{{"kind":"concern","children":["{ANNA}"],"occurred_at":"2026-03-02T10:00:00Z","headline":"By {author}","author":"{author}","category":"neglect","seen_or_said":"x","action":"shared","action_detail":"SW"}}"#
        )
    };
    let patel = door.record(&by("dsl.patel"));
    let visitor = door.record(&by("visitor"));
    let r = door.upload(&server, &[&patel, &visitor]);
    assert_eq!(
        statuses(&r),
        vec![VerdictStatus::Accepted, VerdictStatus::Rejected]
    );
    // The administrator adds the visitor; the resent record is accepted.
    let id = door.id().to_string();
    let out = admin_ok(dir.path(), &["staff", "add", &id, "visitor"]);
    assert!(out.contains("dsl.patel, nn.ahmed, visitor"), "{out}");
    let r = door.upload(&server, &[&visitor]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Accepted]);
    admin_ok(dir.path(), &["staff", "remove", &id, "nn.ahmed"]);
    let devices = admin_json(dir.path(), &["devices", "--json"]);
    let entry = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == id.as_str())
        .unwrap();
    assert_eq!(entry["staff"], serde_json::json!(["dsl.patel", "visitor"]));
    let ahmed = door.record(&by("nn.ahmed"));
    assert_eq!(
        statuses(&door.upload(&server, &[&ahmed])),
        vec![VerdictStatus::Rejected]
    );
    // The chronology shows the author and the device's worker.
    let table = admin_ok(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--format",
            "table",
            "--reason",
            "case review of forged records",
        ],
    );
    assert!(
        table.contains("NURSERY-12 (dsl.patel via door-tablet)"),
        "{table}"
    );
    assert!(!table.contains("POLICE-CAIT"), "{table}");
}

/// Issue 11, item 2: an amendment may correct only a record of the same
/// device; any other is rejected into quarantine and changes nothing.
#[test]
fn issue_11_a_device_cannot_amend_another_devices_record() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut nursery = Device::new(62);
    nursery.enrol(&server, "NURSERY-12");
    let mut hv = Device::new(63);
    hv.enrol(&server, "HV-NORTH");
    let about_ben = nursery.record(&concern(BEN, "2026-03-03T08:00:00Z", "Ben arrived hungry"));
    nursery.upload(&server, &[&about_ben]);
    let attack = hv.record(&format!(
        r#"{{"kind":"amendment","children":["{ANNA}"],"occurred_at":"1900-01-01T09:00:00Z","headline":"Moved","corrects":"{}-1","reason":"date typed wrongly"}}"#,
        nursery.id()
    ));
    let r = hv.upload(&server, &[&attack]);
    assert_eq!(statuses(&r), vec![VerdictStatus::Rejected]);
    assert!(r.verdicts[0].reason.contains("another device"), "{r:?}");
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--bytes",
            "--reason",
            "triage of held records",
        ],
    );
    assert_eq!(q["held"][0]["status"], "rejected");
    let pull = |child: &str, extra: &[&str]| {
        let mut args = vec![
            "chronology",
            "--child",
            child,
            "--format",
            "json",
            "--reason",
            "case review of forged records",
        ];
        args.extend_from_slice(extra);
        admin_json(dir.path(), &args)
    };
    // Still in the dated pull, unamended; Anna's shows nothing of Ben.
    let ben = pull(BEN, &["--from", "2026-03-03", "--to", "2026-03-03"]);
    assert_eq!(ben["entries"][0]["headline"], "Ben arrived hungry");
    assert_eq!(ben["entries"][0]["amended"], false);
    assert_eq!(pull(ANNA, &[])["entries"], serde_json::json!([]));
}

/// Issue 11, item 6: rejected records keep a capped prefix within a
/// per-device budget, so five 4 MiB rejected records barely grow the
/// database; one alarm is raised; a fork is still kept whole.
#[test]
fn issue_11_quarantine_cannot_fill_the_disk() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &["--quarantine-budget-bytes", "10000"], &[]);
    let mut dev = Device::new(64);
    dev.enrol(&server, "HV-NORTH");
    let db_size = || -> u64 {
        ["hearth.db", "hearth.db-wal"]
            .iter()
            .map(|f| std::fs::metadata(dir.path().join(f)).map_or(0, |m| m.len()))
            .sum()
    };
    let before = db_size();
    for i in 0..5u8 {
        let r = dev.upload_raw(&server, vec![vec![i; 4 * 1024 * 1024 - 1024]]);
        assert_eq!(statuses(&r), vec![VerdictStatus::Rejected]);
    }
    let grown = db_size() - before;
    if !hearth_testpg::skip_on_postgres(
        "the growth of hearth.db (the budget's figures are checked below)",
    ) {
        assert!(grown < 1024 * 1024, "the database grew by {grown} bytes");
    }
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--bytes",
            "--reason",
            "triage of held records",
        ],
    );
    let held = q["held"].as_array().unwrap();
    assert_eq!(held.len(), 5, "every rejection is recorded");
    let kept: Vec<u64> = held
        .iter()
        .map(|h| h["kept_bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(kept, [4096, 4096, 0, 0, 0]);
    assert!(held.iter().all(|h| h["size"] == 4 * 1024 * 1024 - 1024));
    let alarms = q["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert!(
        alarms[0]["message"]
            .as_str()
            .unwrap()
            .contains("quarantine budget")
    );
    // A fork: genuine records, kept whole past the budget.
    let one = dev.record(&concern(ANNA, "2026-03-01T10:00:00Z", "One"));
    dev.upload(&server, &[&one]);
    let rival = dev.record_at(
        1,
        RecordHash::GENESIS,
        &concern(ANNA, "2026-03-01T10:00:00Z", "Rival"),
    );
    assert_eq!(
        statuses(&dev.upload(&server, &[&rival])),
        vec![VerdictStatus::Quarantined]
    );
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--bytes",
            "--reason",
            "triage of held records",
        ],
    );
    let forks: Vec<&Value> = q["held"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["status"] == "quarantined")
        .collect();
    assert_eq!(forks.len(), 2);
    assert!(forks.iter().all(|h| h["kept_bytes"] == h["size"]));
}

/// `hearth-server --data DATA ARGS` under umask 022, as a shell would start it.
fn under_umask_022(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    hearth_testpg::set_database(&mut cmd, data)
        .args(["-c", "umask 022 && exec \"$0\" \"$@\"", BIN, "--data"])
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
    let sqlite = ["hearth.db", "hearth.db-wal", "hearth.db-shm"];
    let sqlite: &[&str] =
        if hearth_testpg::skip_on_postgres("hearth.db's files (the store is in PostgreSQL)") {
            &[]
        } else {
            &sqlite
        };
    for expected in sqlite
        .iter()
        .chain(&["server_key", "tls/cert.pem", "tls/key.pem"])
    {
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
    let mut serve = Command::new(BIN);
    let mut serve = hearth_testpg::set_database(&mut serve, &data)
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
    if hearth_testpg::skip_on_postgres("the mode of hearth.db") {
        admin_ok(&data, &["devices"]);
        return;
    }
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
        table.starts_with("NAME\tROLE\tCREATED\tPASSWORD\tREVOKED\n"),
        "{table}"
    );
    for listing in [list.to_string(), table] {
        assert!(!listing.contains(first) && !listing.contains(second));
    }

    // A revoked user stays revoked; unknown users and blank reasons are errors.
    for (args, says) in [
        (&["user", "rotate", "mgr"][..], "was revoked"),
        (
            &["user", "revoke", "mgr", "--reason", "revoked again today"],
            "was revoked",
        ),
        (
            &["user", "revoke", "nobody", "--reason", "no such user here"],
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

/// Issue 11, item 8: a quarantine read is in the access log even when no
/// held record names a child (garbage bytes decode to nothing, yet they
/// are shown with `--bytes`). On main before this, such a read reached
/// only the server's log.
#[test]
fn a_quarantine_read_naming_no_child_is_still_in_the_access_log() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(72);
    dev.enrol(&server, "HV-NORTH");
    let r = dev.upload_raw(
        &server,
        vec![b"not a record, but it could hold text".to_vec()],
    );
    assert_eq!(statuses(&r), vec![VerdictStatus::Rejected]);
    let q = admin_json(
        dir.path(),
        &[
            "quarantine",
            "--json",
            "--bytes",
            "--reason",
            "triage of rejected bytes",
            "--as",
            "alice",
        ],
    );
    assert_eq!(q["held"].as_array().unwrap().len(), 1, "{q}");
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{log}");
    assert_eq!(rows[0]["via"], "quarantine-bytes");
    assert_eq!(rows[0]["child"], serde_json::Value::Null);
    assert_eq!(rows[0]["children"], serde_json::json!([]));
    let table = admin_ok(dir.path(), &["access-log"]);
    let row = table.lines().nth(1).expect("one row");
    assert_eq!(row.split('\t').nth(3), Some("-"), "{table}");
}

#[test]
fn issue_12_a_reversed_date_range_is_an_error_not_an_empty_chronology() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let api = admin_ok(dir.path(), &["user", "add", "mgr", "--role", "manager"]);
    let (s, body) = server.get(
        &format!(
            "/v1/children/{ANNA}/chronology?reason=case%20review&from=2026-03-10&to=2026-03-01&format=table"
        ),
        Some(api.trim()),
    );
    assert_eq!(
        (s, error_code(&body).as_str()),
        (400, "bad_request"),
        "{body}"
    );
    assert!(
        body.contains("from 2026-03-10 is after to 2026-03-01"),
        "{body}"
    );
    let out = admin(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--from",
            "2026-03-10",
            "--to",
            "2026-03-01",
            "--reason",
            "case review",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        out.stdout.is_empty(),
        "printed {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        err.contains("--from 2026-03-10 is after --to 2026-03-01"),
        "{err}"
    );
    // One day is a range; a too-short reason is refused with an example.
    admin_ok(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-01",
            "--reason",
            "case review",
        ],
    );
    let out = admin(
        dir.path(),
        &["chronology", "--child", ANNA, "--reason", "  review "],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("for example \"strategy meeting 12 March\""),
        "{err}"
    );
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "refusals are not reads: {log}"
    );
}

#[test]
fn issue_12_cli_reads_are_logged_as_the_os_user_and_the_log_filters() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let api = admin_ok(dir.path(), &["user", "add", "mgr", "--role", "manager"]);
    let (s, _) = server.get(
        &format!("/v1/children/{ANNA}/chronology?reason=case%20review"),
        Some(api.trim()),
    );
    assert_eq!(s, 200);
    // $USER and $LOGNAME say "test-runner" (see `admin`); neither is trusted.
    admin_ok(
        dir.path(),
        &["chronology", "--child", ANNA, "--reason", "case review"],
    );
    admin_ok(
        dir.path(),
        &[
            "chronology",
            "--child",
            BEN,
            "--reason",
            "case review",
            "--as",
            "alice",
        ],
    );
    let me = os_user();
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    let who: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["who"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["mgr", me.as_str(), &format!("{me} (as alice)")]);
    let table = admin_ok(dir.path(), &["access-log"]);
    assert!(
        table.contains(&format!("\t{me} (as alice)\tcli\t{BEN}\t")),
        "{table}"
    );

    let count = |args: &[&str]| {
        let mut all = vec!["access-log", "--json"];
        all.extend_from_slice(args);
        let v = admin_json(dir.path(), &all);
        v.as_array().unwrap().len()
    };
    assert_eq!(count(&["--user", "mgr"]), 1);
    assert_eq!(count(&["--user", "alice"]), 1);
    assert_eq!(count(&["--user", &me]), 2);
    assert_eq!(count(&["--user", "test-runner"]), 0);
    assert_eq!(count(&["--child", ANNA]), 2);
    assert_eq!(count(&["--child", BEN]), 1);
    assert_eq!(count(&["--child", BEN, "--user", "mgr"]), 0);
    assert_eq!(
        count(&["--since", "2000-01-01", "--until", "2999-12-31"]),
        3
    );
    assert_eq!(count(&["--until", "2000-01-01"]), 0);
    assert_eq!(count(&["--since", "2999-01-01"]), 0);
    assert_eq!(
        admin_ok(dir.path(), &["access-log", "--user", "nobody"])
            .lines()
            .count(),
        1
    );
    for (args, says) in [
        (
            &["--since", "2026-13-01"][..],
            "--since date \"2026-13-01\" is not a date",
        ),
        (&["--until", "yesterday"][..], "--until date \"yesterday\""),
        (
            &["--since", "2026-03-10", "--until", "2026-03-01"][..],
            "--since 2026-03-10 is after --until 2026-03-01",
        ),
        (&["--child", "nhs:123"][..], "child \"nhs:123\""),
    ] {
        let mut all = vec!["access-log"];
        all.extend_from_slice(args);
        let out = admin(dir.path(), &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// Whether `cell` is a local time with one of `zones`: `2026-07-01 10:30 BST`.
fn local_time(cell: &str, zones: &[&str]) -> bool {
    let Some((when, zone)) = cell.rsplit_once(' ') else {
        return false;
    };
    let b = when.as_bytes();
    zones.contains(&zone)
        && b.len() == 16
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn issue_12_times_people_read_are_local_with_their_zone() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut hv = Device::new(60);
    hv.enrol(&server, "HV-NORTH");
    let summer = hv.record(&concern(ANNA, "2026-07-01T09:30:00Z", "Summer"));
    let winter = hv.record(&concern(ANNA, "2026-01-15T10:30:00Z", "Winter"));
    hv.upload(&server, &[&summer, &winter]);
    let pull = |extra: &[&str]| {
        let mut all = vec!["chronology", "--child", ANNA, "--reason", "case review"];
        all.extend_from_slice(extra);
        admin_ok(dir.path(), &all)
    };
    let london = pull(&[]);
    assert!(
        london.contains("\n2026-01-15 10:30 GMT | Concern: Winter"),
        "{london}"
    );
    assert!(
        london.contains("\n2026-07-01 10:30 BST | Concern: Summer"),
        "{london}"
    );
    let ny = pull(&["--tz", "America/New_York"]);
    assert!(
        ny.contains("\n2026-01-15 05:30 EST | Concern: Winter"),
        "{ny}"
    );
    assert!(
        ny.contains("\n2026-07-01 05:30 EDT | Concern: Summer"),
        "{ny}"
    );
    let csv = pull(&["--format", "csv"]);
    assert!(csv.starts_with("date,time,zone,occurred_at_utc,"), "{csv}");
    assert!(
        csv.contains("\n2026-07-01,10:30,BST,2026-07-01T09:30:00Z,"),
        "{csv}"
    );
    // JSON is UTC whatever the zone.
    let json: Value =
        serde_json::from_str(&pull(&["--format", "json", "--tz", "America/New_York"])).unwrap();
    assert_eq!(json["entries"][1]["occurred_at"], "2026-07-01T09:30:00Z");
    // --from and --to are local days: 1 July in New York starts at 04:00 UTC.
    let day = pull(&[
        "--tz",
        "America/New_York",
        "--from",
        "2026-07-01",
        "--to",
        "2026-07-01",
    ]);
    assert!(day.contains("Summer") && !day.contains("Winter"), "{day}");
    // The zone from the environment, as a service would set it.
    let out = hearth_testpg::set_database(&mut Command::new(BIN), dir.path())
        .arg("--data")
        .arg(dir.path())
        .args(["chronology", "--child", ANNA, "--reason", "case review"])
        .env("HEARTH_TZ", "America/New_York")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("2026-07-01 05:30 EDT"));
    // A zone the database does not know is named, and nothing is read.
    let before = admin_json(dir.path(), &["access-log", "--json"])
        .as_array()
        .unwrap()
        .len();
    let out = admin(
        dir.path(),
        &[
            "chronology",
            "--child",
            ANNA,
            "--reason",
            "case review",
            "--tz",
            "Europe/Lndon",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("the time zone \"Europe/Lndon\" is not in the IANA time zone database"),
        "{err}"
    );
    assert_eq!(
        admin_json(dir.path(), &["access-log", "--json"])
            .as_array()
            .unwrap()
            .len(),
        before
    );

    // The server's zone for HTTP tables and CSV.
    let api = admin_ok(dir.path(), &["user", "add", "mgr", "--role", "manager"]);
    let path = format!("/v1/children/{ANNA}/chronology?reason=case%20review&format=table");
    let (s, body) = server.get(&path, Some(api.trim()));
    assert_eq!(s, 200);
    assert!(body.contains("2026-07-01 10:30 BST"), "{body}");
    server.kill();
    let server = Server::start(dir.path(), &["--tz", "America/New_York"], &[]);
    let (_, body) = server.get(&path, Some(api.trim()));
    assert!(body.contains("2026-07-01 05:30 EDT"), "{body}");

    // Administration tables: access log, devices, users, quarantine.
    for (args, column) in [
        (&["access-log"][..], 0),
        (&["devices"][..], 3),
        (&["user", "list"][..], 2),
    ] {
        for (tz, zones) in [
            ("Europe/London", &["GMT", "BST"]),
            ("America/New_York", &["EST", "EDT"]),
        ] {
            let mut all = args.to_vec();
            all.extend(["--tz", tz]);
            let out = admin_ok(dir.path(), &all);
            let row = out
                .lines()
                .nth(1)
                .unwrap_or_else(|| panic!("{args:?}: {out}"));
            let cell = row.split('\t').nth(column).unwrap();
            assert!(local_time(cell, zones), "{args:?} {tz}: {cell:?} in {out}");
        }
    }
}

/// Runs an administration command whose standard output is a pipe nobody
/// reads any more (`hearth-server devices | head -0`).
fn admin_into_a_closed_pipe(data: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    admin_command(data, args).stdout(writer).output().unwrap()
}

/// Issue 13 (ripgrep's rule): a reader that stops reading is not a
/// failure of a listing (it used to panic in `print!`), but a token shown
/// once that could not be written is an error, not a silent success.
#[test]
fn a_closed_output_ends_a_listing_quietly_but_fails_a_new_token() {
    let dir = private_dir();
    admin_ok(
        dir.path(),
        &["enrol-token", "--agency", "HV-NORTH", "--worker", "w1"],
    );
    let listing = admin_into_a_closed_pipe(dir.path(), &["devices", "--json"]);
    let stderr = String::from_utf8_lossy(&listing.stderr);
    assert!(listing.status.success(), "{:?}: {stderr}", listing.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let token = admin_into_a_closed_pipe(
        dir.path(),
        &["enrol-token", "--agency", "HV-NORTH", "--worker", "w2"],
    );
    let stderr = String::from_utf8_lossy(&token.stderr);
    assert_eq!(token.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the output"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Issue 16: the signals routes and commands keep the chronology's
/// token, role and reason rules, are audited (the caseload as one row
/// naming no child), and an acknowledgement needs a current signal.
/// (Which signals fire is the rules' business: the assertions here hold
/// whichever do.)
#[test]
fn issue_16_signals_are_read_with_a_reason_audited_and_acknowledged_only_when_current() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut csc = Device::new(60);
    csc.enrol(&server, "CSC");
    let meeting = csc.record(&format!(
        r#"{{"kind":"meeting","children":["{ANNA}"],"occurred_at":"2026-03-05T14:00:00Z","headline":"Core group meeting","meeting_type":"core_group","attendees":[{{"name":"SW","agency":"CSC"}}],"minutes":"not_recorded"}}"#
    ));
    csc.upload(&server, &[&meeting]);
    let api = admin_ok(dir.path(), &["user", "add", "boss", "--role", "admin"]);
    let api = api.trim();
    let audit = admin_ok(dir.path(), &["user", "add", "eve", "--role", "auditor"]);
    let path = format!("/v1/children/{ANNA}/signals");

    let (s, body) = server.get(&format!("{path}?reason=case%20review"), None);
    assert_eq!(
        (s, error_code(&body)),
        (401, "unauthorized".into()),
        "{body}"
    );
    let (s, body) = server.get(&format!("{path}?reason=case%20review"), Some(audit.trim()));
    assert_eq!((s, error_code(&body)), (403, "forbidden".into()), "{body}");
    let (s, body) = server.get(&format!("{path}?reason=short"), Some(api));
    assert_eq!(
        (s, error_code(&body)),
        (400, "reason_required".into()),
        "{body}"
    );
    let (s, body) = server.get("/v1/signals", Some(api));
    assert_eq!(
        (s, error_code(&body)),
        (400, "reason_required".into()),
        "{body}"
    );
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log, serde_json::json!([]), "a refused read is not a read");

    let (s, body) = server.get(
        &format!("{path}?reason=case%20review&family=true"),
        Some(api),
    );
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["child"], ANNA);
    assert!(v["signals"].is_array(), "{body}");
    let (s, body) = server.get("/v1/signals?reason=weekly%20caseload%20review", Some(api));
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let disclosed: Vec<Value> = v["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["child"].clone())
        .collect();
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");
    assert_eq!(
        (log[0]["via"].as_str(), log[0]["child"].as_str()),
        (Some("http"), Some(ANNA))
    );
    assert_eq!(
        log[1]["child"],
        Value::Null,
        "the caseload asks for no child"
    );
    assert_eq!(log[1]["children"], Value::Array(disclosed));
    assert_eq!(log[1]["reason"], "weekly caseload review");

    // Acknowledging: the token, the rule, the body and the note are
    // checked, and a rule with no current signal is refused.
    let ack = |rule: &str, body: &str| {
        server.post_as(&format!("{path}/{rule}/ack"), api, "application/json", body)
    };
    let (s, body) = ack("no_such_rule", r#"{"note":"minutes chased"}"#);
    assert_eq!(s, 400, "{body}");
    assert!(
        body.contains("meetings_without_minutes"),
        "names the rules: {body}"
    );
    let (s, body) = ack("escalation_unresolved", "note=minutes");
    assert_eq!(s, 400, "{body}");
    let (s, body) = ack("escalation_unresolved", r#"{"note":"ok"}"#);
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("at least 10"), "{body}");
    let (s, body) = ack(
        "escalation_unresolved",
        r#"{"note":"resolved at the meeting"}"#,
    );
    assert_eq!((s, error_code(&body)), (404, "not_found".into()), "{body}");
    assert!(
        body.contains("no current escalation_unresolved signal"),
        "{body}"
    );

    // The same through the command line.
    let out = admin(
        dir.path(),
        &[
            "signals",
            "--child",
            ANNA,
            "--reason",
            "supervision today",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.is_array(), "{v}");
    let out = admin(
        dir.path(),
        &["signals", "--all", "--reason", "weekly caseload review"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = admin(dir.path(), &["signals", "--all", "--reason", "short"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10"));
    let out = admin(
        dir.path(),
        &[
            "signals",
            "--all",
            "--child",
            ANNA,
            "--reason",
            "weekly caseload review",
        ],
    );
    assert!(!out.status.success(), "--all and --child conflict");
    let out = admin(
        dir.path(),
        &[
            "signals",
            "ack",
            "--child",
            ANNA,
            "--rule",
            "escalation_unresolved",
            "--note",
            "resolved at the meeting",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no current escalation_unresolved signal"),
        "{err}"
    );
    let out = admin(
        dir.path(),
        &[
            "signals",
            "ack",
            "--child",
            ANNA,
            "--rule",
            "nope",
            "--note",
            "resolved at the meeting",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no rule is called \"nope\""), "{err}");
    let log = admin_json(dir.path(), &["access-log", "--json"]);
    assert_eq!(
        log.as_array().unwrap().len(),
        4,
        "two CLI reads; acknowledgements are not reads"
    );
    assert_eq!(log[3]["via"], "cli");
    assert_eq!(log[3]["child"], Value::Null);
}

/// Issue 17: `POST /v1/caseload` with `req` (JSON); the status, content
/// type and raw body.
fn post_caseload(server: &Server, body: Vec<u8>) -> (u16, String, Vec<u8>) {
    let mut resp = server
        .agent()
        .post(format!("{}/v1/caseload", server.url))
        .header("Content-Type", "application/json")
        .send(body)
        .expect("POST /v1/caseload");
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        resp.status().as_u16(),
        kind,
        resp.body_mut().read_to_vec().unwrap(),
    )
}

impl Device {
    /// A signed caseload request at the device's idea of now plus `skew`.
    fn caseload_request(&self, skew: i64) -> Vec<u8> {
        use hearth_shared::clock::Clock;
        let now = hearth_shared::clock::SystemClock::default().now();
        serde_json::to_vec(&hearth_shared::caseload::CaseloadRequest::new(
            &self.key,
            Timestamp(now.0 + skew),
        ))
        .unwrap()
    }

    /// Its caseload, verified with the pinned server key.
    fn caseload(
        &self,
        server: &Server,
    ) -> Result<hearth_shared::caseload::Caseload, hearth_shared::caseload::CaseloadRefusal> {
        let (status, kind, body) = post_caseload(server, self.caseload_request(0));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(kind, hearth_shared::caseload::CASELOAD_CONTENT_TYPE);
        hearth_shared::caseload::Caseload::verify(
            &body,
            self.server_key.as_ref().unwrap(),
            self.id(),
            None,
        )
    }
}

#[test]
fn issue_17_each_device_gets_its_own_signed_caseload_and_refusals_say_why() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut hv = Device::new(71);
    hv.enrol(&server, "HV-NORTH");
    let mut room = Device::new(72);
    room.enrol_with(
        &server,
        &["--agency", "NURSERY-12", "--worker", "room.tablet"],
    );
    let d = dir.path();
    assert_eq!(
        admin_ok(
            d,
            &["caseload", "assign", "--child", ANNA, "--worker", "w1"]
        ),
        format!("assigned {ANNA} to worker w1\n")
    );
    assert_eq!(
        admin_ok(
            d,
            &["caseload", "assign", "--child", ANNA, "--worker", "w1"]
        ),
        format!("{ANNA} was already assigned to worker w1; nothing changed\n")
    );
    admin_ok(
        d,
        &[
            "caseload",
            "assign",
            "--child",
            BEN,
            "--group",
            "Rainbow room",
        ],
    );
    let room_id = room.id().to_string();
    assert_eq!(
        admin_ok(
            d,
            &[
                "caseload",
                "group",
                "--device",
                &room_id,
                "--group",
                "Rainbow room"
            ]
        ),
        format!("device {room_id} joined group Rainbow room\n")
    );
    admin_ok(
        d,
        &[
            "caseload",
            "plan",
            "--child",
            ANNA,
            "--visit-every",
            "10",
            "--label",
            "child protection plan",
        ],
    );

    // Each device gets its own children, signed by the pinned key.
    // Anna in the register, with her father in her household.
    for args in [
        &[
            "person",
            "add",
            "--ref",
            ANNA,
            "--name",
            "Anna Brown",
            "--dob",
            "2023-01-01",
        ][..],
        &["person", "add", "--adult", "--name", "Dean Brown"],
        &[
            "person",
            "relate",
            "--adult",
            "P2",
            "--child",
            ANNA,
            "--relationship",
            "father",
        ],
        &[
            "household",
            "add-member",
            "--household",
            "12 Elm Road",
            "--person",
            ANNA,
            "--from",
            "2025-06-01",
        ],
        &[
            "household",
            "add-member",
            "--household",
            "12 Elm Road",
            "--person",
            "P2",
            "--from",
            "2025-06-01",
        ],
    ] {
        admin_ok(d, args);
    }
    let mine = hv.caseload(&server).unwrap();
    assert_eq!(mine.device, hv.id());
    let children: Vec<(&str, Option<&str>)> = mine
        .children
        .iter()
        .map(|c| (c.child.as_str(), c.group.as_deref()))
        .collect();
    assert_eq!(children, [(ANNA, None)]);
    let anna = &mine.children[0];
    assert_eq!(anna.name, "Anna Brown");
    // Born in 2023: every review by age has aged out, whatever today is.
    assert_eq!(anna.born.unwrap().date().to_string(), "2023-01-01");
    let household: Vec<(&str, &str)> = anna
        .household
        .iter()
        .map(|m| (m.name.as_str(), m.relationship.as_str()))
        .collect();
    assert_eq!(household, [("Dean Brown", "father")]);
    // The read of names is in the register log, as the device.
    let log = admin_json(d, &["person", "log", "--json"]);
    let read = log
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["action"] == "caseload")
        .expect("the caseload read is logged");
    assert_eq!(read["who"], format!("device:{}", hv.id()));
    assert_eq!(read["detail"], ANNA);
    assert_eq!(anna.alerts, "on a child protection plan");
    assert_eq!(anna.tasks.len(), 1);
    assert!(
        anna.tasks[0].label.contains("every 10 working days"),
        "{:?}",
        anna.tasks
    );
    let theirs = room.caseload(&server).unwrap();
    let children: Vec<(&str, Option<&str>)> = theirs
        .children
        .iter()
        .map(|c| (c.child.as_str(), c.group.as_deref()))
        .collect();
    assert_eq!(children, [(BEN, Some("Rainbow room"))]);
    assert_eq!(
        theirs.children[0].name, BEN,
        "not in the register: named by reference"
    );
    // `caseload show --device` prints what the device gets.
    let shown = admin_json(d, &["caseload", "show", "--device", &room_id, "--json"]);
    assert_eq!(shown["children"][0]["child"], BEN);
    assert_eq!(shown["children"][0]["group"], "Rainbow room");
    let shown = admin_ok(d, &["caseload", "show", "--worker", "w1"]);
    assert!(
        shown.starts_with("caseload of worker w1: 1 child\n"),
        "{shown}"
    );
    assert!(
        shown.contains("task: Home visit (every 10 working days; child protection plan): due "),
        "{shown}"
    );

    // Another device's caseload is refused by the device.
    let (_, _, body) = post_caseload(&server, room.caseload_request(0));
    assert_eq!(
        hearth_shared::caseload::Caseload::verify(
            &body,
            hv.server_key.as_ref().unwrap(),
            hv.id(),
            None
        ),
        Err(hearth_shared::caseload::CaseloadRefusal::OtherDevice)
    );

    // Unassigned: gone at the next fetch.
    admin_ok(
        d,
        &[
            "caseload",
            "unassign",
            "--child",
            BEN,
            "--group",
            "Rainbow room",
        ],
    );
    assert!(room.caseload(&server).unwrap().children.is_empty());

    // Refusals: a clock out of the window, a signature not the device's,
    // an unknown device, a body that is not a request.
    let (status, _, body) = post_caseload(&server, hv.caseload_request(20 * 60));
    let body = String::from_utf8(body).unwrap();
    assert_eq!((status, error_code(&body).as_str()), (400, "bad_request"));
    assert!(body.contains("device_time: "), "{body}");
    let mut forged: Value = serde_json::from_slice(&hv.caseload_request(0)).unwrap();
    forged["auth"] = Value::String("00".repeat(64));
    let (status, _, body) = post_caseload(&server, serde_json::to_vec(&forged).unwrap());
    assert_eq!(
        (
            status,
            error_code(&String::from_utf8(body).unwrap()).as_str()
        ),
        (401, "unauthenticated")
    );
    let (status, _, body) = post_caseload(&server, Device::new(73).caseload_request(0));
    assert_eq!(
        (
            status,
            error_code(&String::from_utf8(body).unwrap()).as_str()
        ),
        (401, "unauthenticated")
    );
    let (status, _, body) = post_caseload(&server, b"{}".to_vec());
    assert_eq!(
        (
            status,
            error_code(&String::from_utf8(body).unwrap()).as_str()
        ),
        (400, "bad_request")
    );

    // Bad input to the CLI names the field.
    let out = admin(
        d,
        &[
            "caseload",
            "plan",
            "--child",
            ANNA,
            "--visit-every",
            "0",
            "--label",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "a refusal exits 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("visit-every: 0 is not between 1 and 60"),
        "{err}"
    );

    // Revoked: told so, signed, as at sync.
    admin_ok(
        d,
        &["revoke", &hv.id().to_string(), "--reason", "tablet lost"],
    );
    let (status, _, body) = post_caseload(&server, hv.caseload_request(0));
    let body: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, body.error.to_string().as_str()),
        (403, "device_revoked")
    );
    let notice = body.revocation.expect("a signed notice");
    assert!(notice.verify(hv.server_key.as_ref().unwrap(), hv.id()));
}

#[test]
fn issue_17_a_tampered_caseload_is_refused_by_the_device() {
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[("HEARTH_TEST_TAMPER_CASELOAD", "1")]);
    let mut hv = Device::new(74);
    hv.enrol(&server, "HV-NORTH");
    admin_ok(
        dir.path(),
        &["caseload", "assign", "--child", ANNA, "--worker", "w1"],
    );
    assert_eq!(
        hv.caseload(&server),
        Err(hearth_shared::caseload::CaseloadRefusal::BadSignature)
    );
}

/// A `POST` with extra headers: status, the answer's headers (names lower
/// case) and its raw bytes, not inflated.
fn post_with(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut req = server.agent().post(format!("{}{path}", server.url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.send(body).expect("POST");
    let heads = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_vec()
        .unwrap();
    (resp.status().as_u16(), heads, bytes)
}

fn header<'a>(heads: &'a [(String, String)], name: &str) -> Option<&'a str> {
    heads
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Issue 20 (protocol 2): a batch sent deflated is inflated before the
/// handler, so the server verifies and stores the very bytes signed (a
/// plain resend of them is a duplicate, the receipt names their hash), and
/// its answer comes back deflated when asked for; every answer says
/// `Hearth-Protocol: 2`; the wire totals are on `/v1/metrics`.
#[test]
fn issue_20_a_deflated_batch_is_stored_byte_identical_and_answered_deflated() {
    use hearth_shared::wire;
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut dev = Device::new(1);
    dev.enrol(&server, "HV-NORTH");
    let recs: Vec<_> = (0..20)
        .map(|i| {
            dev.record(&concern(
                ANNA,
                &format!("2026-03-{:02}T10:00:00Z", i + 1),
                "Seen at home with mum, bruise on the left arm, said she fell",
            ))
        })
        .collect();
    let plain = dev.batch(recs.iter().map(|r| r.as_bytes().to_vec()).collect());
    let packed = wire::compress(&plain);
    assert!(
        packed.len() < plain.len(),
        "{} of {}",
        packed.len(),
        plain.len()
    );
    let (status, heads, answer) = post_with(
        &server,
        "/v1/sync",
        &[
            ("Content-Type", BATCH_CONTENT_TYPE),
            ("Content-Encoding", "deflate"),
            ("Accept-Encoding", "deflate"),
        ],
        packed.clone(),
    );
    assert_eq!(header(&heads, "hearth-protocol"), Some("2"), "{heads:?}");
    assert_eq!(
        header(&heads, "content-encoding"),
        Some("deflate"),
        "{heads:?}"
    );
    assert!(
        header(&heads, "vary").is_some_and(|v| v.contains("accept-encoding")),
        "{heads:?}"
    );
    let text = wire::decompress(&answer, 1 << 20).expect("the answer inflates");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&text));
    let r: UploadResponse = serde_json::from_slice(&text).unwrap();
    assert_eq!(statuses(&r), vec![VerdictStatus::Accepted; 20]);
    let receipts = dev.receipts(&r);
    assert_eq!(receipts[0].last_hash, recs[19].hash());

    // The same bytes plain, from an agent that asks for nothing: stored
    // already (byte-identical, or this would be a fork), a plain answer.
    let (status, heads, answer) = post_with(
        &server,
        "/v1/sync",
        &[("Content-Type", BATCH_CONTENT_TYPE)],
        plain.clone(),
    );
    assert_eq!(status, 200);
    assert_eq!(header(&heads, "hearth-protocol"), Some("2"));
    assert_eq!(header(&heads, "content-encoding"), None, "{heads:?}");
    let again: UploadResponse = serde_json::from_slice(&answer).unwrap();
    assert_eq!(statuses(&again), vec![VerdictStatus::Duplicate; 20]);

    assert_eq!(metric(&server, "hearth_deflated_requests_total"), 1);
    assert_eq!(
        metric(&server, "hearth_deflated_request_wire_bytes_total"),
        packed.len() as u64
    );
    assert_eq!(
        metric(&server, "hearth_deflated_request_plain_bytes_total"),
        plain.len() as u64
    );
    assert_eq!(metric(&server, "hearth_deflated_answers_total"), 1);
}

/// Issue 20: an encoding the server does not decode is 415 naming the
/// header and what it takes, on every device route; a deflated body that
/// inflates past the body limit is the plain body's 413 `body_too_large`
/// (a 4 KB bomb is not inflated to its 64 MiB); one that is not DEFLATE is
/// 400 `bad_batch`.
#[test]
fn issue_20_unknown_encodings_bombs_and_garbage_are_refused() {
    use hearth_shared::wire;
    let dir = private_dir();
    let server = Server::start(dir.path(), &[], &[]);
    for path in ["/v1/sync", "/v1/outbox", "/v1/caseload"] {
        for encoding in ["gzip", "zstd", "deflate, deflate"] {
            let (status, heads, body) = post_with(
                &server,
                path,
                &[
                    ("Content-Type", BATCH_CONTENT_TYPE),
                    ("Content-Encoding", encoding),
                ],
                b"whatever".to_vec(),
            );
            let e: ErrorBody = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                (status, e.error.to_string().as_str()),
                (415, "unsupported_encoding"),
                "{path} {encoding}"
            );
            assert!(
                e.message.contains("Content-Encoding") && e.message.contains("deflate"),
                "{}",
                e.message
            );
            assert_eq!(header(&heads, "hearth-protocol"), Some("2"));
        }
    }
    let bomb = wire::compress(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    for path in ["/v1/sync", "/v1/outbox"] {
        let deflated = [
            ("Content-Type", BATCH_CONTENT_TYPE),
            ("Content-Encoding", "deflate"),
        ];
        let (status, _, body) = post_with(&server, path, &deflated, bomb.clone());
        let e: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, e.error.to_string().as_str()),
            (413, "body_too_large"),
            "{path}"
        );
        let (status, _, body) = post_with(&server, path, &deflated, b"not deflate".to_vec());
        let e: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, e.error.to_string().as_str()),
            (400, "bad_batch"),
            "{path}"
        );
        assert!(e.message.contains("deflate"), "{}", e.message);
    }
    // Nothing was inflated whole.
    assert_eq!(metric(&server, "hearth_deflated_requests_total"), 0);
    // A deflated caseload request that inflates past its 4 KiB is the
    // plain one's 400.
    let small_bomb = wire::compress(&[b' '; 64 * 1024]);
    assert!(small_bomb.len() < 1024, "{}", small_bomb.len());
    let (status, _, body) = post_with(
        &server,
        "/v1/caseload",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "deflate"),
        ],
        small_bomb,
    );
    let e: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, e.error.to_string().as_str()), (400, "bad_request"));
}
