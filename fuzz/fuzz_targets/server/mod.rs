//! The server harness the server-side targets share: the real router
//! ([`hearth_sync_server::http::router`]) over the real SQLite store, as
//! `hearth-server serve` builds it, minus TLS and the accept loop.
//!
//! Reproducibility: a migrated store with its devices, tokens and users is
//! made once per process (the template, [`Template`]); every iteration
//! runs on a fresh copy of its database file in a directory of its own
//! ([`Instance::fresh`]), with a fixed clock and fixed keys. So an
//! iteration depends on its input only, and a crashing input replays
//! alone (`cargo +nightly fuzz run <target> <artifact>`). The copies live
//! in `/dev/shm` where it exists, so `synchronous=FULL` costs no disk.

pub mod records;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ed25519_dalek::SigningKey;
use hearth_shared::Timestamp;
use hearth_shared::clock::FixedClock;
use hearth_sync_server::cli::store::backup_sqlite;
use hearth_sync_server::clock::Clock;
use hearth_sync_server::config::Limits;
use hearth_sync_server::http::admit::BodyBudget;
use hearth_sync_server::http::metrics::Counters;
use hearth_sync_server::http::{AppState, OutboxKeys, router};
use hearth_sync_server::ingest::writer::{Fault, Writer};
use hearth_sync_server::keys::{load_or_create_outbox_key, outbox_key_path, token_hash};
use hearth_sync_server::localtime::Zone;
use hearth_sync_server::store::sqlite::{SqliteStore, db_path};
use hearth_sync_server::store::{Grant, Role, Store};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The server's clock: 2026-01-06T10:00:00Z, the time the tablets' records
/// are captured around.
pub const NOW: Timestamp = Timestamp(1_767_693_600);

/// The seeds of the enrolled devices' keys: agency `A`, worker `w`, staff
/// `s` (the first two); the last is revoked.
pub const ENROLLED: [u8; 3] = [11, 12, 13];
/// The index in [`ENROLLED`] of the revoked device.
pub const REVOKED: usize = 2;
/// A key no device was enrolled with.
pub const STRANGER: u8 = 99;

/// The enrolment tokens still unused in every fresh instance.
pub const TOKENS: [&str; 2] = ["fuzz-token-1", "fuzz-token-2"];
/// A token already spent (on the first enrolled device).
pub const SPENT_TOKEN: &str = "fuzz-token-spent";
/// An administrator's API token.
pub const ADMIN_TOKEN: &str = "fuzz-admin-token";
/// An auditor's API token (may not change the register).
pub const AUDITOR_TOKEN: &str = "fuzz-auditor-token";

/// The device key with seed `seed`.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The template's snapshot file, beside its data directory.
const SNAPSHOT: &str = "template-snapshot.db";

/// The process's template store and what every instance shares.
pub struct Template {
    dir: Scratch,
    server_key: Arc<SigningKey>,
    outbox: Arc<OutboxKeys>,
    runtime: tokio::runtime::Runtime,
    next: AtomicU64,
}

/// The scratch directory's parent: `/dev/shm` if it exists.
fn scratch_parent() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The process's scratch directory, `hearth-fuzzsrv-<pid>`: removed at
/// exit if the process exits normally, and by the next process otherwise
/// (libFuzzer ends a process without running destructors of statics, and
/// a crash ends it anyhow).
struct Scratch(PathBuf);

impl Scratch {
    const PREFIX: &str = "hearth-fuzzsrv-";

    fn new() -> Self {
        let parent = scratch_parent();
        // Leftovers of processes that are gone.
        for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(Self::PREFIX)) else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = parent.join(format!("{}{}", Self::PREFIX, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

fn setup(data: &Path) {
    let store = SqliteStore::open(data).expect("opening the template store");
    let grant = |agency: &str| Grant {
        agency: agency.into(),
        worker: "w".into(),
        staff: vec!["s".into()],
    };
    let (created, expires) = (Timestamp(NOW.0 - 86_400), Timestamp(NOW.0 + 86_400));
    for t in TOKENS {
        store
            .add_enrol_token(&token_hash(t), &grant("A"), created, expires)
            .unwrap();
    }
    for (i, seed) in ENROLLED.into_iter().enumerate() {
        let token = format!("fuzz-token-device-{i}");
        let token = if i == 0 {
            SPENT_TOKEN.to_string()
        } else {
            token
        };
        store
            .add_enrol_token(&token_hash(&token), &grant("A"), created, expires)
            .unwrap();
        let k = key(seed).verifying_key();
        let id = hearth_shared::DeviceId::from_public_key(k.as_bytes());
        store
            .enrol(&token_hash(&token), id, *k.as_bytes(), created)
            .unwrap()
            .expect("enrolling a template device");
        if i == REVOKED {
            store.revoke(id, "tablet lost", created).unwrap();
        }
    }
    assert!(
        store
            .add_user("root", Role::Admin, &token_hash(ADMIN_TOKEN), created)
            .unwrap()
    );
    assert!(
        store
            .add_user("audit", Role::Auditor, &token_hash(AUDITOR_TOKEN), created)
            .unwrap()
    );
}

impl Template {
    /// The process's template, made on first use.
    pub fn get() -> &'static Template {
        static T: OnceLock<Template> = OnceLock::new();
        T.get_or_init(|| {
            let dir = Scratch::new();
            let data = dir.path().join("template");
            setup(&data);
            // One consistent snapshot, made with the server's own backup
            // (one read transaction), which no connection ever opens: every
            // instance copies it. Copying the live template's database and
            // then its WAL raced with the template's connections closing
            // (the last close checkpoints and deletes the WAL), and an
            // instance could start with neither the tokens nor the WAL
            // (found by the long `device_bodies` run, under load).
            backup_sqlite(&data, &dir.path().join(SNAPSHOT)).expect("a snapshot of the template");
            // A fixed outbox key, so that a sealed body replays in another
            // process.
            std::fs::write(outbox_key_path(dir.path()), hex_of(&[7; 32])).unwrap();
            let server_key = Arc::new(SigningKey::from_bytes(&[9; 32]));
            let outbox = load_or_create_outbox_key(dir.path(), false).unwrap();
            let outbox = Arc::new(OutboxKeys::new(outbox, &server_key));
            // Blocking threads are kept, never ended: a thread ending during
            // LeakSanitizer's scan makes its thread-locals look leaked.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .thread_keep_alive(Duration::from_secs(365 * 86_400))
                .build()
                .expect("a runtime");
            Template {
                dir,
                server_key,
                outbox,
                runtime,
                next: AtomicU64::new(0),
            }
        })
    }

    /// The template's snapshot, which every instance copies.
    fn snapshot(&self) -> PathBuf {
        self.dir.path().join(SNAPSHOT)
    }

    /// The server's X25519 outbox key (public half).
    pub fn outbox_public(&self) -> [u8; 32] {
        self.outbox.secret.public_key()
    }

    /// The server's receipt key.
    pub fn server_key(&self) -> &SigningKey {
        &self.server_key
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One iteration's server: a fresh copy of the template store behind the
/// real router.
pub struct Instance {
    app: Router,
    /// Disconnected once the writer thread has dropped its closures.
    writer_done: mpsc::Receiver<()>,
    /// The store, as the handlers read it.
    pub store: Arc<SqliteStore>,
    dir: PathBuf,
}

/// Copies a file by reading and writing it whole. Not `std::fs::copy`:
/// libFuzzer's `-timeout` alarm interrupts system calls, and `copy`'s
/// `copy_file_range` returns the interruption as an error (found by the
/// long `people_csv` run), where `read` and `write_all` retry it.
fn copy(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, bytes).unwrap();
}

impl Instance {
    /// A server over a fresh copy of the template.
    pub fn fresh() -> Self {
        let t = Template::get();
        let n = t.next.fetch_add(1, Ordering::Relaxed);
        let dir = t.dir.path().join(format!("i{n}"));
        std::fs::create_dir(&dir).unwrap();
        copy(&t.snapshot(), &db_path(&dir));
        let clock: Arc<dyn Clock> = Arc::new(FixedClock(NOW));
        let (done, writer_done) = mpsc::channel::<()>();
        let writer = Writer::start(
            SqliteStore::open(&dir).unwrap(),
            clock.clone(),
            Fault::None,
            move || {
                let _ = &done;
            },
        );
        let store = Arc::new(SqliteStore::connect(&dir).unwrap());
        let limits = Limits::default();
        let state = AppState {
            reads: store.clone(),
            server_key: t.server_key.clone(),
            outbox: t.outbox.clone(),
            writer,
            limits,
            clock,
            counters: Arc::new(Counters::default()),
            budget: BodyBudget::new(limits.max_body_bytes_in_flight),
            zone: Zone::default(),
            signals: Default::default(),
        };
        Self {
            app: router(state),
            writer_done,
            store,
            dir,
        }
    }

    /// POSTs `body` to `path` (with a bearer token, if given): the status
    /// and the body of the answer.
    pub fn post(&self, path: &str, bearer: Option<&str>, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/octet-stream");
        if let Some(t) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req.body(Body::from(body)).unwrap();
        Template::get().runtime.block_on(async {
            let res = self.app.clone().oneshot(req).await.unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, body.to_vec())
        })
    }
}

/// The process's threads.
fn live_threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

impl Drop for Instance {
    /// Ends the writer thread and waits until it has exited, so that no
    /// thread of this iteration is still ending (its thread-locals being
    /// freed) when LeakSanitizer scans after the input: an iteration ends
    /// with the threads it started.
    fn drop(&mut self) {
        let before = live_threads();
        // The router holds the only handle to the writer.
        drop(std::mem::replace(&mut self.app, Router::new()));
        let deadline = Instant::now() + Duration::from_secs(5);
        let _ = self.writer_done.recv_timeout(Duration::from_secs(5));
        while live_threads() >= before && Instant::now() < deadline {
            std::thread::yield_now();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Panics (a crash, for the fuzzer) if `status` is a server error: no
/// input from outside may make the server fail.
pub fn no_server_error(what: &str, status: StatusCode, body: &[u8]) {
    assert!(
        !status.is_server_error(),
        "{what}: {status}: {}",
        String::from_utf8_lossy(body)
    );
}
