//! The real `hearth-server` binary in a temp data dir on `127.0.0.1:0`, and
//! an HTTPS client for it ([`Server`], [`Device`]).
//!
//! The client is ureq with rustls (ring) trusting exactly the server's
//! self-signed `tls/cert.pem`, as `sync-server/tests/server.rs` does.
//! Records are signed here with `hearth_shared`, so the server does all the
//! verifying and the bench process only encodes and sends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;
use hearth_shared::protocol::{BATCH_CONTENT_TYPE, EnrolResponse, UploadBatch, UploadResponse};
use hearth_shared::{
    Body, DeviceId, Envelope, FORMAT_VERSION, RecordHash, Seq, SignedRecord, Timestamp,
};

/// The directory holding the release binaries: `$HEARTH_BIN_DIR`, else the
/// directory of this executable (leaving `deps/` for bench executables).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HEARTH_BIN_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The path of binary `name`, or an error telling the user how to build it.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let p = bin_dir().join(name);
    if !p.exists() {
        bail!(
            "{} not found; build it first: cargo build --release -p hearth-sync-server -p hearth-agent (or set HEARTH_BIN_DIR)",
            p.display()
        );
    }
    Ok(p)
}

/// Installs ring as rustls's provider (idempotent).
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Its data directory.
    pub data: PathBuf,
    /// Environment of `serve` and every admin command (`HEARTH_DATABASE`).
    env: Vec<(String, String)>,
    agent: ureq::Agent,
}

/// Where a server's log goes: nowhere, or appended to the file
/// `HEARTH_BENCH_SERVER_LOG` names (with `RUST_LOG` to choose what it
/// says), to see where a figure's time went.
fn server_log() -> anyhow::Result<Stdio> {
    let Some(path) = std::env::var_os("HEARTH_BENCH_SERVER_LOG") else {
        return Ok(Stdio::null());
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("HEARTH_BENCH_SERVER_LOG: open {}", path.to_string_lossy()))?;
    Ok(file.into())
}

impl Server {
    /// Starts `hearth-server --data DATA serve --listen 127.0.0.1:0`.
    pub fn start(data: &Path) -> anyhow::Result<Self> {
        Self::start_env(data, &[])
    }

    /// Like [`Server::start`], with `env` given to `serve` and to every
    /// administration command (`HEARTH_DATABASE=postgres://...`).
    pub fn start_env(data: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        install_provider();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut child = Command::new(binary("hearth-server")?)
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(server_log()?)
            .spawn()
            .context("start hearth-server")?;
        let mut out = BufReader::new(child.stdout.take().context("stdout")?);
        let mut line = String::new();
        out.read_line(&mut line)?; // fingerprint
        line.clear();
        out.read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("expected `listening on`, got {line:?}"))?
            .to_string();
        // Keep the pipe drained so the server never blocks on stdout.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let pem = std::fs::read(data.join("tls/cert.pem"))?;
        let agent = client(&pem)?;
        Ok(Self {
            child,
            url,
            data: data.to_path_buf(),
            env,
            agent,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new HTTPS client (one per thread gives one connection per thread).
    pub fn client(&self) -> anyhow::Result<ureq::Agent> {
        client(&std::fs::read(self.data.join("tls/cert.pem"))?)
    }

    /// Runs an administration command, returning stdout.
    pub fn admin(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(binary("hearth-server")?)
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("USER", "hearth-bench")
            .output()?;
        if !out.status.success() {
            bail!(
                "hearth-server {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// A one-time enrolment token.
    pub fn enrol_token(&self) -> anyhow::Result<String> {
        Ok(self
            .admin(&[
                "enrol-token",
                "--agency",
                "HV-NORTH",
                "--worker",
                "hv.jones",
            ])?
            .trim()
            .to_string())
    }

    /// `GET path` with an optional bearer token: status and body.
    pub fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<(u16, String)> {
        let (status, _, body) = self.get_timed(path, token)?;
        Ok((status, body))
    }

    /// `GET path`, with the server's own `total` time from its
    /// `Server-Timing` header (seconds), if it sent one.
    pub fn get_timed(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> anyhow::Result<(u16, Option<f64>, String)> {
        let mut req = self.agent.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp = req.call()?;
        let total = resp
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(server_total);
        Ok((
            resp.status().as_u16(),
            total,
            resp.body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_string()?,
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `total;dur=` of a `Server-Timing` header, in seconds.
fn server_total(header: &str) -> Option<f64> {
    header
        .split(',')
        .find_map(|m| m.trim().strip_prefix("total;dur="))
        .and_then(|ms| ms.parse::<f64>().ok())
        .map(|ms| ms / 1e3)
}

fn client(pem: &[u8]) -> anyhow::Result<ureq::Agent> {
    install_provider();
    let cert = ureq::tls::Certificate::from_pem(pem)?.to_owned();
    Ok(ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .into())
}

/// A simulated tablet: a key and its chain, signing in-process.
pub struct Device {
    key: SigningKey,
    id: DeviceId,
    next: u64,
    prev: RecordHash,
    /// The server's clock at enrolment (device_time is set near it).
    pub server_time: Timestamp,
}

impl Device {
    /// A device with a key from `seed`.
    pub fn new(seed: u8) -> Self {
        let key = SigningKey::from_bytes(&[seed; 32]);
        Self {
            id: DeviceId::from_public_key(key.verifying_key().as_bytes()),
            key,
            next: 1,
            prev: RecordHash::GENESIS,
            server_time: Timestamp(1_795_700_000),
        }
    }

    /// Its device id.
    pub fn id(&self) -> DeviceId {
        self.id
    }

    /// Enrols with `server` through `POST /v1/enrol`.
    pub fn enrol(&mut self, server: &Server, http: &ureq::Agent) -> anyhow::Result<()> {
        let token = server.enrol_token()?;
        let body = serde_json::to_vec(&serde_json::json!({
            "token": token,
            "public_key": hex::encode(self.key.verifying_key().as_bytes()),
        }))?;
        let mut resp = http
            .post(format!("{}/v1/enrol", server.url))
            .header("Content-Type", "application/json")
            .send(body)?;
        let text = resp.body_mut().read_to_string()?;
        if resp.status().as_u16() != 200 {
            bail!("enrol failed: {text}");
        }
        let r: EnrolResponse = serde_json::from_str(&text)?;
        self.server_time = r.server_time;
        Ok(())
    }

    /// Signs `body` as the next record of the chain.
    pub fn sign(&mut self, body: Body) -> Vec<u8> {
        let env = Envelope {
            version: FORMAT_VERSION,
            device: self.id,
            seq: Seq(self.next),
            prev: self.prev,
            device_time: Timestamp(self.server_time.0 + 60),
            body,
        };
        let s = SignedRecord::sign(&self.key, &env).expect("corpus records are valid");
        self.next += 1;
        self.prev = s.hash();
        s.into_bytes()
    }

    /// Uploads `records` as one batch; every verdict must be an accept.
    pub fn upload(
        &self,
        server: &Server,
        http: &ureq::Agent,
        records: Vec<Vec<u8>>,
    ) -> anyhow::Result<UploadResponse> {
        let n = records.len();
        let batch = UploadBatch::new(&self.key, Timestamp(self.server_time.0 + 60), records);
        let body = postcard::to_allocvec(&batch)?;
        let mut resp = http
            .post(format!("{}/v1/sync", server.url))
            .header("Content-Type", BATCH_CONTENT_TYPE)
            .send(body)?;
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()?;
        if resp.status().as_u16() != 200 {
            bail!("upload failed ({}): {text}", resp.status());
        }
        let r: UploadResponse = serde_json::from_str(&text)?;
        let accepted = r.verdicts.iter().filter(|v| v.status.is_accepted()).count();
        if accepted != n {
            bail!(
                "{} of {n} records accepted: {:?}",
                accepted,
                r.verdicts.first()
            );
        }
        Ok(r)
    }
}
