//! Ingest: the verdict on every record of a batch.
//!
//! Two steps, so that the expensive and the durable parts stay apart:
//!
//! 1. [`precheck`] (pure, CPU only, runs off the writer thread): size limit,
//!    then [`hearth_shared::verify`] with the device's registered key, which
//!    checks the signature over the bytes received, decodes strictly, checks
//!    the device id and validates. The result is a [`Prechecked`]: either a
//!    verified record or a rejection with its reason. [`precheck_all`] runs
//!    it over a batch on every core (issue 20), verdicts in batch order.
//! 2. [`apply_batch`] (inside one store transaction on the writer thread):
//!    the device clock report, then each record placed against its chain
//!    with [`hearth_shared::check_chain`] and the decision [`decide`] turns
//!    into writes on [`IngestTx`]: store, record a gap, fill a gap,
//!    quarantine both sides of a fork and raise an alarm, or keep a
//!    rejected record with its reason. Nothing is dropped.
//!
//! Who may write what (issue 11): [`identity_refusal`] rejects a genuine
//! record whose agency is not the device's enrolled agency, whose author is
//! neither the enrolled worker nor on the device's staff list, or which
//! amends another device's record. The signature proves which device sent
//! a record, not that the names inside it are true.
//!
//! A rejected record is kept as evidence but bounded ([`keep_rejected`]):
//! its SHA-256, its length and at most [`REJECTED_PREFIX_BYTES`] of its
//! bytes, within a per-device budget ([`BatchJob::quarantine_budget`]);
//! past it, the metadata only, and one alarm. Forks are genuine records
//! and are kept whole.
//!
//! Receipts are made by [`crate::receipt`] from the [`IngestOutcome`] only
//! after the transaction has committed.

pub mod writer;

use ed25519_dalek::VerifyingKey;
use hearth_shared::chain::Fork;
use hearth_shared::protocol::{Verdict, VerdictStatus};
use hearth_shared::signed::{chain_hash, peek_id, split_signed};
use hearth_shared::{ChainVerdict, DeviceId, RecordHash, RecordId, Seq, Timestamp, check_chain};
use sha2::{Digest, Sha256};

use crate::clock::{corrected_time, estimate_offset, is_late_entry};
use crate::store::{
    Enrolment, Held, HoldStatus, IngestTx, Line, NewRecord, QuarantineUsage, StoreError,
};

/// The most bytes of a rejected record kept in quarantine: enough to see
/// what was sent (most records are smaller), too few to fill a disk.
pub const REJECTED_PREFIX_BYTES: usize = 4 * 1024;

/// The default quarantine budget of one device for rejected records, in
/// bytes: 256 capped prefixes.
pub const DEFAULT_QUARANTINE_BUDGET: u64 = 1024 * 1024;

/// A record that passed [`precheck`]: verified, and reduced to what the
/// writer stores (not the decoded envelope, whose fixed-capacity buffers
/// take 4.8 KB; a batch of them cost the server as much in `malloc` and
/// page faults as in everything else but verifying).
#[derive(Debug, Clone)]
pub struct Checked {
    line: Line,
    prev: RecordHash,
    device_time: Timestamp,
    bytes: Vec<u8>,
    hash: RecordHash,
}

impl Checked {
    /// Its id.
    pub fn id(&self) -> RecordId {
        self.line.id
    }
}

/// The outcome of [`precheck`].
#[derive(Debug, Clone)]
pub enum Prechecked {
    /// Genuine and well formed.
    Verified(Box<Checked>),
    /// Refused, with the bytes and the reason.
    Rejected {
        /// The bytes as received.
        bytes: Vec<u8>,
        /// Why, for a person.
        reason: String,
    },
}

/// Checks one record's size, signature, encoding, device and rules.
pub fn precheck(key: &VerifyingKey, bytes: Vec<u8>, max_record_bytes: usize) -> Prechecked {
    if bytes.len() > max_record_bytes {
        let reason = format!(
            "record is {} bytes; this server's limit is {} bytes",
            bytes.len(),
            max_record_bytes
        );
        return Prechecked::Rejected { bytes, reason };
    }
    match hearth_shared::verify(key, &bytes) {
        Ok(v) => {
            let e = v.envelope();
            let checked = Checked {
                line: Line::of(e),
                prev: e.prev,
                device_time: e.device_time,
                hash: v.hash(),
                bytes,
            };
            Prechecked::Verified(Box::new(checked))
        }
        Err(e) => Prechecked::Rejected {
            reason: e.to_string(),
            bytes,
        },
    }
}

/// The fewest records worth a thread of their own in [`precheck_all`]:
/// about half a millisecond of verifying, against the tens of microseconds
/// a thread costs to start and join. A heartbeat or a single capture stays
/// on the calling thread.
const MIN_RECORDS_PER_THREAD: usize = 16;

/// [`precheck`] on every record of a batch, spread over every core this
/// process may use (`std::thread::available_parallelism`); the results come
/// back in batch order, one per record, each exactly what [`precheck`]
/// gives alone.
///
/// Why per-record `verify` in parallel, not ed25519-dalek's batch
/// verification: the batch equation is cofactored and can accept a
/// signature with a mixed-order `R` that the strict single verification
/// ([`hearth_shared::verify`]) rejects, so a crafted record could be
/// accepted or refused depending on which other records shared its batch.
/// Verifying each record on its own keeps every verdict a function of that
/// record alone, whatever the batch, the core count or the thread it ran
/// on; and the floor for a batch is then exactly `n × verify ÷ cores`.
pub fn precheck_all(
    key: &VerifyingKey,
    records: Vec<Vec<u8>>,
    max_record_bytes: usize,
) -> Vec<Prechecked> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    precheck_on(cores, key, records, max_record_bytes)
}

/// [`precheck_all`] on at most `threads` threads (the calling one
/// included): contiguous chunks of at least [`MIN_RECORDS_PER_THREAD`]
/// records, joined in order.
fn precheck_on(
    threads: usize,
    key: &VerifyingKey,
    records: Vec<Vec<u8>>,
    max_record_bytes: usize,
) -> Vec<Prechecked> {
    let check = |chunk: Vec<Vec<u8>>| -> Vec<Prechecked> {
        chunk
            .into_iter()
            .map(|r| precheck(key, r, max_record_bytes))
            .collect()
    };
    let per_thread = records
        .len()
        .div_ceil(threads.max(1))
        .max(MIN_RECORDS_PER_THREAD);
    if records.len() <= per_thread {
        return check(records);
    }
    let mut rest = records.into_iter();
    let mut chunks = std::iter::from_fn(|| {
        let chunk: Vec<Vec<u8>> = rest.by_ref().take(per_thread).collect();
        (!chunk.is_empty()).then_some(chunk)
    });
    let first = chunks.next().unwrap_or_default();
    std::thread::scope(|s| {
        let others: Vec<_> = chunks.map(|c| s.spawn(move || check(c))).collect();
        let mut out = check(first);
        for handle in others {
            // A panic in a verifier is a bug: raise it here, as the
            // serial loop would have.
            out.extend(
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        out
    })
}

/// What to do with a verified record, from its chain verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Store it.
    Store,
    /// Store it and record `from..=to` as missing.
    StoreAfterGap {
        /// First missing.
        from: Seq,
        /// Last missing.
        to: Seq,
    },
    /// Store it; it fills a gap.
    StoreFillingGap,
    /// Already held byte for byte.
    Duplicate,
    /// Conflicts with the held record `disputes`: quarantine both.
    Fork {
        /// The held record it conflicts with.
        disputes: RecordId,
        /// How.
        how: Fork,
    },
}

/// The pure decision for a record `id` with chain verdict `verdict`.
pub fn decide(id: RecordId, verdict: ChainVerdict) -> Decision {
    match verdict {
        ChainVerdict::Next => Decision::Store,
        ChainVerdict::Duplicate => Decision::Duplicate,
        ChainVerdict::FillsGap => Decision::StoreFillingGap,
        ChainVerdict::AfterGap {
            missing_from,
            missing_to,
        } => Decision::StoreAfterGap {
            from: missing_from,
            to: missing_to,
        },
        ChainVerdict::Fork(how) => {
            let seq = match how {
                Fork::SameSeq => id.seq,
                Fork::PrevMismatch => Seq(id.seq.0.saturating_sub(1).max(1)),
                Fork::NextMismatch => id.seq.next(),
            };
            Decision::Fork {
                disputes: RecordId {
                    device: id.device,
                    seq,
                },
                how,
            }
        }
    }
}

/// Why a genuine record from a device enrolled as `enrolment` may not be
/// stored, if it may not: its agency is not the device's, its author is
/// neither the device's worker nor on its staff list, or it amends a record
/// of another device. Pure: the caller rejects the record with this reason.
pub fn identity_refusal(line: &Line, enrolment: &Enrolment) -> Option<String> {
    let device = line.id.device;
    if line.agency != enrolment.agency {
        return Some(format!(
            "agency is \"{}\", but device {device} is enrolled for \"{}\"; a device records only for its own agency",
            line.agency, enrolment.agency
        ));
    }
    if !enrolment.may_author(&line.author) {
        return Some(format!(
            "author is \"{}\", who is neither device {device}'s worker \"{}\" nor on its staff list; an administrator adds staff with `hearth-server staff add {device} {}`",
            line.author, enrolment.worker, line.author
        ));
    }
    if let Some(a) = &line.amends
        && a.corrects.device != device
    {
        return Some(format!(
            "amendment corrects {}, a record of another device; a device may amend only its own records; to dispute another agency's record, record something new (for example a concern)",
            a.corrects
        ));
    }
    None
}

/// The words a person reads for a fork.
pub fn fork_reason(id: RecordId, disputes: RecordId, how: Fork) -> String {
    match how {
        Fork::SameSeq => format!(
            "fork: a different record is already held at {disputes}; both are quarantined and an alarm raised for a person to resolve"
        ),
        Fork::PrevMismatch => format!(
            "fork: {id} does not follow the held record {disputes} (its prev hash differs); both are quarantined and an alarm raised"
        ),
        Fork::NextMismatch => format!(
            "fork: the held record {disputes} does not follow {id}; both are quarantined and an alarm raised"
        ),
    }
}

/// One batch for the writer.
#[derive(Debug, Clone)]
pub struct BatchJob {
    /// The sending device.
    pub device: DeviceId,
    /// Its clock reading, authenticated by the batch signature.
    pub device_time: Timestamp,
    /// When the server received the batch.
    pub received_at: Timestamp,
    /// The records, prechecked, in batch order.
    pub records: Vec<Prechecked>,
    /// The late-entry threshold, seconds.
    pub late_entry_secs: i64,
    /// How many bytes of rejected records the device may have kept in
    /// quarantine ([`DEFAULT_QUARANTINE_BUDGET`] unless configured).
    pub quarantine_budget: u64,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    /// The device.
    pub device: DeviceId,
    /// The clock offset in effect, seconds (device minus server).
    pub clock_offset: i64,
    /// One verdict per record, in batch order.
    pub verdicts: Vec<Verdict>,
    /// The records now held (accepted or duplicate), with their hashes.
    pub held: Vec<(Seq, RecordHash)>,
}

fn verdict(
    index: usize,
    seq: Option<Seq>,
    status: VerdictStatus,
    reason: impl Into<String>,
) -> Verdict {
    Verdict {
        index: index as u32,
        seq,
        status,
        reason: reason.into(),
    }
}

/// The device's quarantine budget and, once a record of the batch has
/// been rejected, its use (read from the store then, kept in step after).
struct Quarantine {
    budget: u64,
    usage: Option<QuarantineUsage>,
}

/// Keeps a rejected record as bounded evidence: its digest, its length,
/// and a prefix of at most [`REJECTED_PREFIX_BYTES`] while the device is
/// within its budget; past it, no bytes, and one alarm the first time.
/// Returns false (and keeps nothing new) for a resend of bytes already held.
fn keep_rejected(
    tx: &mut dyn IngestTx,
    q: &mut Quarantine,
    job: &BatchJob,
    seq: Option<Seq>,
    bytes: &[u8],
    reason: &str,
) -> Result<bool, StoreError> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    if tx.is_held(job.device, &digest)? {
        return Ok(false);
    }
    let usage = match &mut q.usage {
        Some(u) => u,
        None => q.usage.insert(tx.quarantine_usage(job.device)?),
    };
    let prefix = &bytes[..bytes.len().min(REJECTED_PREFIX_BYTES)];
    let kept = if usage.bytes.saturating_add(prefix.len() as u64) <= q.budget {
        prefix.to_vec()
    } else {
        if !usage.exhausted {
            usage.exhausted = true;
            let message = format!(
                "device {} has used its quarantine budget of {} bytes on rejected records; later rejected records from it keep only their hash, length and reason; check the device (it may be faulty or hostile)",
                job.device, q.budget
            );
            // Seq 0: the alarm is about the device, not one record.
            tx.raise_alarm(job.device, Seq(0), &message, job.received_at)?;
            tracing::error!(device = %job.device, budget = q.budget, "ALARM: quarantine budget used up");
        }
        Vec::new()
    };
    usage.bytes += kept.len() as u64;
    tx.hold(&Held {
        id: 0,
        device: job.device,
        seq,
        status: HoldStatus::Rejected,
        reason: reason.to_string(),
        bytes: kept,
        length: bytes.len() as u64,
        digest,
        received_at: job.received_at,
    })?;
    tracing::warn!(device = %job.device, "record rejected");
    Ok(true)
}

/// Keeps a genuine record that forks the chain, whole.
fn hold_whole(
    tx: &mut dyn IngestTx,
    job: &BatchJob,
    seq: Seq,
    bytes: Vec<u8>,
    reason: String,
) -> Result<(), StoreError> {
    tx.hold(&Held {
        id: 0,
        device: job.device,
        seq: Some(seq),
        status: HoldStatus::Quarantined,
        reason,
        length: bytes.len() as u64,
        digest: Sha256::digest(&bytes).into(),
        bytes,
        received_at: job.received_at,
    })
}

/// Decides and writes a whole batch inside one transaction: the clock
/// report first, then each record in batch order ([`Applying::rejected`]
/// or [`Applying::verified`]).
pub fn apply_batch(tx: &mut dyn IngestTx, mut job: BatchJob) -> Result<IngestOutcome, StoreError> {
    let clock = estimate_offset(job.device_time, job.received_at);
    tx.set_clock_state(job.device, clock, job.received_at)?;
    let records = std::mem::take(&mut job.records);
    let mut a = Applying {
        offset: clock.offset.unwrap_or(0),
        enrolment: tx.enrolment(job.device)?,
        quarantine: Quarantine {
            budget: job.quarantine_budget,
            usage: None,
        },
        verdicts: Vec::with_capacity(records.len()),
        held: Vec::new(),
        job: &job,
    };
    for (index, item) in records.into_iter().enumerate() {
        let v = match item {
            Prechecked::Rejected { bytes, reason } => a.rejected(tx, index, bytes, reason)?,
            Prechecked::Verified(c) => a.verified(tx, index, *c)?,
        };
        a.verdicts.push(v);
    }
    Ok(IngestOutcome {
        device: job.device,
        clock_offset: a.offset,
        verdicts: a.verdicts,
        held: a.held,
    })
}

/// A batch being applied: what each record's step reads (the job, the
/// clock offset, the enrolment) and adds to (quarantine use, verdicts,
/// the records held).
struct Applying<'j> {
    /// The batch, its records taken out.
    job: &'j BatchJob,
    /// The device's clock offset in effect, seconds.
    offset: i64,
    /// The device's enrolment (`None`: not enrolled).
    enrolment: Option<Enrolment>,
    /// The device's quarantine budget and use.
    quarantine: Quarantine,
    /// One verdict per record so far.
    verdicts: Vec<Verdict>,
    /// The records now held (accepted or duplicate), with their hashes.
    held: Vec<(Seq, RecordHash)>,
}

/// The verdict for a record already held byte for byte.
fn duplicate(index: usize, seq: Seq) -> Verdict {
    verdict(
        index,
        Some(seq),
        VerdictStatus::Duplicate,
        "already held, byte for byte",
    )
}

impl Applying<'_> {
    /// A record [`precheck`] refused: a duplicate if its bytes are already
    /// stored, else kept (bounded) as rejected.
    fn rejected(
        &mut self,
        tx: &mut dyn IngestTx,
        index: usize,
        bytes: Vec<u8>,
        reason: String,
    ) -> Result<Verdict, StoreError> {
        // A resend of a record already stored is a duplicate, even if it
        // would be refused now (a lower size limit, a stricter rule after
        // an upgrade): never reject what the chronology already shows, or
        // the tablet marks it rejected for good.
        if let Ok((envelope, _)) = split_signed(&bytes)
            && let Some(id) = peek_id(envelope)
            && id.device == self.job.device
            && tx.holds_bytes(id, &bytes)?
        {
            self.held.push((id.seq, chain_hash(envelope)));
            return Ok(duplicate(index, id.seq));
        }
        // Kept once; a resend gets the same verdict, no new row.
        keep_rejected(tx, &mut self.quarantine, self.job, None, &bytes, &reason)?;
        Ok(verdict(index, None, VerdictStatus::Rejected, reason))
    }

    /// A verified record: placed against its chain, checked against the
    /// device's enrolment, then stored, counted a duplicate, or held as a
    /// fork.
    fn verified(
        &mut self,
        tx: &mut dyn IngestTx,
        index: usize,
        checked: Checked,
    ) -> Result<Verdict, StoreError> {
        let id = checked.id();
        let seq = id.seq;
        let device = self.job.device;
        let state = tx.chain_state(device, seq)?;
        let chain = check_chain(&state, seq, checked.prev, checked.hash);
        if let Some(reason) = self.refusal(&checked.line, chain) {
            let q = &mut self.quarantine;
            keep_rejected(tx, q, self.job, Some(seq), &checked.bytes, &reason)?;
            return Ok(verdict(index, Some(seq), VerdictStatus::Rejected, reason));
        }
        Ok(match decide(id, chain) {
            // A plain accept: no seq, no reason (see `Verdict::seq`).
            Decision::Store => {
                self.store(tx, checked)?;
                verdict(index, None, VerdictStatus::Accepted, "")
            }
            Decision::StoreFillingGap => {
                self.store(tx, checked)?;
                tx.fill_gap(device, seq)?;
                let reason = "accepted; fills a gap";
                verdict(index, Some(seq), VerdictStatus::Accepted, reason)
            }
            Decision::StoreAfterGap { from, to } => {
                self.store(tx, checked)?;
                tx.add_gap(device, from, to)?;
                tracing::info!(%device, from = from.0, to = to.0, "gap recorded");
                verdict(
                    index,
                    Some(seq),
                    VerdictStatus::Accepted,
                    format!(
                        "accepted after a gap: records {from} to {to} of this device have not arrived; send them"
                    ),
                )
            }
            Decision::Duplicate => {
                self.held.push((seq, checked.hash));
                duplicate(index, seq)
            }
            Decision::Fork { disputes, how } => self.fork(tx, index, checked, disputes, how)?,
        })
    }

    /// Who may write what: checked after the chain, so that a record
    /// stored before the check (a duplicate) stays a duplicate.
    fn refusal(&self, line: &Line, chain: ChainVerdict) -> Option<String> {
        match (&self.enrolment, chain) {
            (_, ChainVerdict::Duplicate) => None,
            (Some(e), _) => identity_refusal(line, e),
            (None, _) => Some(format!(
                "device {} is not enrolled on this server",
                self.job.device
            )),
        }
    }

    /// Stores a record with its corrected capture time and late-entry
    /// flag, and counts it held.
    fn store(&mut self, tx: &mut dyn IngestTx, c: Checked) -> Result<(), StoreError> {
        self.held.push((c.id().seq, c.hash));
        let corrected = corrected_time(c.device_time, self.offset);
        let late = is_late_entry(corrected, c.line.occurred_at, self.job.late_entry_secs);
        tx.insert_record(&NewRecord {
            line: c.line,
            prev: c.prev,
            device_time: c.device_time,
            bytes: c.bytes,
            hash: c.hash,
            received_at: self.job.received_at,
            corrected_time: corrected,
            late_entry: late,
        })
    }

    /// A genuine record that forks its chain: both sides held whole, the
    /// held one marked disputed, and one alarm (none again for a resend).
    fn fork(
        &mut self,
        tx: &mut dyn IngestTx,
        index: usize,
        checked: Checked,
        disputes: RecordId,
        how: Fork,
    ) -> Result<Verdict, StoreError> {
        let (id, job) = (checked.id(), self.job);
        let seq = id.seq;
        let reason = fork_reason(id, disputes, how);
        let digest: [u8; 32] = Sha256::digest(&checked.bytes).into();
        if tx.is_held(job.device, &digest)? {
            // A resend of a quarantined record: the alarm was raised once
            // already; do not raise it again.
            return Ok(verdict(
                index,
                Some(seq),
                VerdictStatus::Quarantined,
                reason,
            ));
        }
        if let Some(bytes) = tx.record_bytes(disputes)? {
            tx.mark_disputed(disputes)?;
            let why = format!("disputed by the conflicting record {id}: {reason}");
            hold_whole(tx, job, disputes.seq, bytes, why)?;
        }
        hold_whole(tx, job, seq, checked.bytes, reason.clone())?;
        tx.raise_alarm(job.device, seq, &reason, job.received_at)?;
        tracing::error!(device = %job.device, seq = seq.0, disputes = %disputes, "ALARM: fork in a device chain; both records quarantined");
        Ok(verdict(
            index,
            Some(seq),
            VerdictStatus::Quarantined,
            reason,
        ))
    }
}

#[cfg(test)]
mod tests;
