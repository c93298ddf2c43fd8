//! The subjects and baselines of figures 2 (core) and 3 (capture), shared
//! by the criterion benches and the table command so both measure the same
//! code.
//!
//! - [`CoreFixture`]: nine corpus records (one per kind), their envelopes,
//!   signed bytes and the exact message ed25519 signs
//!   (`hearth/record/v1\0 || envelope`). The baselines sign and verify that
//!   message with plain `ed25519-dalek`; the subjects are
//!   [`SignedRecord::sign`] (validate, encode, sign) and
//!   [`hearth_shared::verify`] (verify, strict decode, chain hash).
//! - [`CaptureFixture`]: the agent's [`LocalStore`] through
//!   [`capture_body`], and beside it a bare rusqlite table with the same
//!   durability settings (WAL, `synchronous = FULL`, one transaction per
//!   insert) receiving the same signed bytes.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hearth_agent::capture::capture_body;
use hearth_agent::clock::FixedClock;
use hearth_agent::keys::DeviceKey;
use hearth_agent::outbox::OutboxKey;
use hearth_agent::seal::{DataKey, Sealer, Slot};
use hearth_agent::store::{LocalStore, RecordStore};
use hearth_shared::signed::{SIGNATURE_DOMAIN, chain_hash, decode_stored_envelope, split_signed};
use hearth_shared::{Body, Envelope, RecordHash, Seq, SignedRecord, Timestamp};

use crate::corpus;
use crate::size::{bench_key, envelope};

/// Where benchmark databases go: `$HEARTH_BENCH_DIR`, else the system temp
/// dir. It should be on the disk whose fsync you want to measure (not tmpfs).
pub fn bench_dir() -> PathBuf {
    std::env::var_os("HEARTH_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// Figure 2's inputs.
pub struct CoreFixture {
    /// The device key.
    pub key: SigningKey,
    /// Its public half.
    pub verifying: VerifyingKey,
    /// One envelope per kind.
    pub envelopes: Vec<Envelope>,
    /// Their signed bytes.
    pub signed: Vec<Vec<u8>>,
    /// The signed messages: domain prefix then envelope bytes.
    pub messages: Vec<Vec<u8>>,
    /// Their signatures.
    pub signatures: Vec<Signature>,
}

impl CoreFixture {
    /// Builds the fixture from the first nine corpus records.
    pub fn new() -> Self {
        let key = bench_key();
        let mut prev = RecordHash::GENESIS;
        let mut envelopes = Vec::new();
        let mut signed = Vec::new();
        let mut messages = Vec::new();
        let mut signatures = Vec::new();
        for (i, sample) in corpus::corpus(corpus::KINDS.len()).into_iter().enumerate() {
            let env = envelope(&key, i as u64 + 1, prev, sample.body);
            let s = SignedRecord::sign(&key, &env).expect("valid");
            prev = s.hash();
            let bytes = s.into_bytes();
            let (env_bytes, sig) = bytes.split_at(bytes.len() - 64);
            let mut msg = SIGNATURE_DOMAIN.to_vec();
            msg.extend_from_slice(env_bytes);
            signatures.push(Signature::from_bytes(sig.try_into().expect("64")));
            messages.push(msg);
            envelopes.push(env);
            signed.push(bytes);
        }
        Self {
            verifying: key.verifying_key(),
            key,
            envelopes,
            signed,
            messages,
            signatures,
        }
    }

    /// Subject: validate, encode and sign record `i`.
    pub fn encode_sign(&self, i: usize) -> usize {
        let i = i % self.envelopes.len();
        SignedRecord::sign(&self.key, &self.envelopes[i])
            .expect("valid")
            .as_bytes()
            .len()
    }

    /// Baseline: plain ed25519 signature of record `i`'s signed message.
    pub fn bare_sign(&self, i: usize) -> Signature {
        let i = i % self.messages.len();
        self.key.sign(&self.messages[i])
    }

    /// Subject: verify and strictly decode record `i`.
    pub fn verify_decode(&self, i: usize) -> RecordHash {
        let i = i % self.signed.len();
        hearth_shared::verify(&self.verifying, &self.signed[i])
            .expect("verifies")
            .hash()
    }

    /// Part of the subject: the streaming signature check alone
    /// ([`hearth_shared::signed::verify_with_domain`]).
    pub fn verify_part(&self, i: usize) -> bool {
        let i = i % self.signed.len();
        let (env, sig) = hearth_shared::signed::split_signed(&self.signed[i]).expect("splits");
        hearth_shared::signed::verify_with_domain(&self.verifying, SIGNATURE_DOMAIN, env, &sig)
    }

    /// Part of the subject: strict decoding and validation alone.
    pub fn decode_part(&self, i: usize) -> u64 {
        let i = i % self.signed.len();
        let b = &self.signed[i];
        hearth_shared::signed::decode_envelope(&b[..b.len() - 64])
            .expect("decodes")
            .seq
            .0
    }

    /// Part of the subject: the chain hash and device id (two SHA-256s).
    pub fn hash_part(&self, i: usize) -> RecordHash {
        let i = i % self.signed.len();
        let b = &self.signed[i];
        std::hint::black_box(hearth_shared::DeviceId::from_public_key(
            self.verifying.as_bytes(),
        ));
        hearth_shared::signed::chain_hash(&b[..b.len() - 64])
    }

    /// Baseline: plain ed25519 verification of record `i`'s message.
    pub fn bare_verify(&self, i: usize) -> bool {
        let i = i % self.messages.len();
        self.verifying
            .verify(&self.messages[i], &self.signatures[i])
            .is_ok()
    }
}

impl Default for CoreFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// Figure 3's stores, in one temp dir. The agent's store is unlocked with a
/// fixed data key, so its captures pay for sealing as on a tablet. A second
/// agent store has the server's outbox key pinned, as an enrolled tablet's
/// has after its first sync, so that its captures also write the sealed
/// outbox copy in the same transaction (issue 14).
pub struct CaptureFixture {
    _dir: tempfile::TempDir,
    store: LocalStore,
    enrolled: LocalStore,
    key: DeviceKey,
    envelopes: Vec<Envelope>,
    clock: FixedClock,
    bodies: Vec<Body>,
    bare: rusqlite::Connection,
    /// Signed bytes of the same records, for the bare insert.
    pub signed: Vec<Vec<u8>>,
    next: usize,
    bare_seq: i64,
}

/// The CPU phases of one capture, each timed alone (seconds): what a
/// capture does that the bare insert does not, besides its SQL.
#[derive(Debug, Clone, Copy)]
pub struct CapturePhases {
    /// Opening the head record's seal and hashing it, to check the stored
    /// chain hash before it is signed in as `prev` (issue 11).
    pub head: f64,
    /// Validating, encoding and signing the envelope (ed25519), and its
    /// chain hash.
    pub sign: f64,
    /// Sealing the signed bytes at rest (XChaCha20-Poly1305).
    pub seal: f64,
    /// Decoding the signed envelope for its children and their keyed tags.
    pub tags: f64,
    /// The sealed outbox copy (X25519 box), on an enrolled tablet only.
    pub outbox: f64,
}

impl CapturePhases {
    /// Every phase an unenrolled capture runs (all but the outbox copy).
    pub fn unenrolled(&self) -> f64 {
        self.head + self.sign + self.seal + self.tags
    }
}

/// The outbox key the enrolled capture store has pinned.
fn outbox_key() -> OutboxKey {
    OutboxKey(hearth_shared::protocol::outbox_public_key(&[21u8; 32]))
}

/// Opens a bare SQLite database with the agent's durability settings.
pub fn bare_connection(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, signed BLOB NOT NULL)",
    )?;
    Ok(conn)
}

impl CaptureFixture {
    /// Fresh stores under [`bench_dir`].
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir_in(bench_dir())?;
        let agent_dir = dir.path().join("agent");
        std::fs::create_dir_all(&agent_dir)?;
        // The agent now seals records at rest (XChaCha20-Poly1305); a fixed
        // data key stands in for the one the passphrase unwraps.
        let store = LocalStore::open_dir(&agent_dir)?
            .unlocked(Sealer::new(&DataKey::from_bytes([9u8; 32])));
        let enrolled_dir = dir.path().join("enrolled");
        std::fs::create_dir_all(&enrolled_dir)?;
        let mut enrolled = LocalStore::open_dir(&enrolled_dir)?
            .unlocked(Sealer::new(&DataKey::from_bytes([9u8; 32])));
        enrolled.pin_outbox_key(&outbox_key(), Timestamp(1_795_700_000))?;
        let bare = bare_connection(&dir.path().join("bare.db"))?;
        let core = CoreFixture::new();
        Ok(Self {
            _dir: dir,
            store,
            enrolled,
            key: DeviceKey::from_signing_key(bench_key()),
            bodies: core.envelopes.iter().map(|e| e.body.clone()).collect(),
            envelopes: core.envelopes,
            clock: FixedClock(Timestamp(1_795_700_000)),
            bare,
            signed: core.signed,
            next: 0,
            bare_seq: 0,
        })
    }

    /// Subject: one durable capture through the agent's store.
    pub fn capture(&mut self) -> anyhow::Result<()> {
        let body = self.bodies[self.next % self.bodies.len()].clone();
        self.next += 1;
        capture_body(&mut self.store, &self.key, &self.clock, body)?;
        Ok(())
    }

    /// Subject: one durable capture through the enrolled store, which also
    /// seals the outbox copy (an X25519 box to the server's key).
    pub fn capture_enrolled(&mut self) -> anyhow::Result<()> {
        let body = self.bodies[self.next % self.bodies.len()].clone();
        self.next += 1;
        capture_body(&mut self.enrolled, &self.key, &self.clock, body)?;
        Ok(())
    }

    /// Seconds each CPU phase of a capture takes alone, averaged over `n`
    /// runs of each: see [`CapturePhases`].
    pub fn phases(&self, n: usize) -> CapturePhases {
        let sealer = Sealer::new(&DataKey::from_bytes([9u8; 32]));
        let count = self.signed.len();
        let sealed: Vec<Vec<u8>> = (0..count)
            .map(|i| sealer.seal(Slot::RecordBody, Some(Seq(i as u64 + 1)), &self.signed[i]))
            .collect();
        let outbox = outbox_key();
        let time = |f: &dyn Fn(usize)| {
            let start = std::time::Instant::now();
            for i in 0..n {
                f(i % count);
            }
            start.elapsed().as_secs_f64() / n.max(1) as f64
        };
        CapturePhases {
            head: time(&|i| {
                let signed = sealer
                    .open(Slot::RecordBody, Some(Seq(i as u64 + 1)), &sealed[i])
                    .expect("opens");
                let (env, _) = split_signed(&signed).expect("splits");
                std::hint::black_box(chain_hash(env));
            }),
            sign: time(&|i| {
                let signed = SignedRecord::sign(self.key.signing_key(), &self.envelopes[i]);
                std::hint::black_box(signed.expect("valid").hash());
            }),
            seal: time(&|i| {
                std::hint::black_box(sealer.seal(
                    Slot::RecordBody,
                    Some(Seq(i as u64 + 1)),
                    &self.signed[i],
                ));
            }),
            tags: time(&|i| {
                let b = &self.signed[i];
                let env = decode_stored_envelope(&b[..b.len() - 64]).expect("decodes");
                for child in env.body.children.iter() {
                    std::hint::black_box(sealer.child_tag(child));
                }
            }),
            outbox: time(&|i| {
                std::hint::black_box(hearth_agent::outbox::seal(&outbox, &self.signed[i]));
            }),
        }
    }

    /// Seconds to seal one record's signed bytes (XChaCha20-Poly1305 with a
    /// fresh random nonce), averaged over `n`: the whole of what
    /// encryption at rest adds to a capture's CPU work.
    pub fn seal_seconds(&self, n: usize) -> f64 {
        let sealer = Sealer::new(&DataKey::from_bytes([9u8; 32]));
        let start = std::time::Instant::now();
        for i in 0..n {
            let bytes = &self.signed[i % self.signed.len()];
            std::hint::black_box(sealer.seal(Slot::RecordBody, Some(Seq(i as u64 + 1)), bytes));
        }
        start.elapsed().as_secs_f64() / n.max(1) as f64
    }

    /// Baseline: one bare insert of the same bytes, its own transaction.
    pub fn bare_insert(&mut self) -> anyhow::Result<()> {
        self.bare_seq += 1;
        let bytes = &self.signed[self.bare_seq as usize % self.signed.len()];
        let tx = self.bare.transaction()?;
        tx.execute(
            "INSERT INTO records (seq, signed) VALUES (?1, ?2)",
            rusqlite::params![self.bare_seq, bytes],
        )?;
        tx.commit()?;
        Ok(())
    }
}
