//! `sync`: upload what is pending ([`crate::sync::run`]), print what
//! happened, fetch the caseload ([`crate::sync::caseload`]; unlocked
//! only), and on a revocation signed by the enrolled server wipe the
//! caseload, destroy the data key and name the records that never reached
//! it.

use std::io::{IsTerminal, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use hearth_shared::clock::Clock;

use super::render::emit;
use super::{CommandError, EXIT_OK, EXIT_REFUSED, open};
use crate::keyring;
use crate::keys::DeviceKey;
use crate::store::{LocalStore, RecordStore, StatusCounts, SyncStatus};
use crate::sync::plan::BATCH_SIZE;
use crate::sync::transport::{PROTOCOL_FILE, Transport, TransportError};
use crate::sync::{self, SyncError, SyncReport};
use crate::tls;
use crate::unlock;

/// A progress bar on stderr when there is more than one batch to send and
/// a person to watch it; otherwise a hidden one.
fn progress_bar(pending: usize) -> ProgressBar {
    if pending > BATCH_SIZE && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(pending as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} records {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    }
}

/// `sync`.
pub(super) fn sync_command(
    dir: &Path,
    clock: &dyn Clock,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let (mut store, settings, key) = match open(dir, clock) {
        // Locked (no passphrase, no session, nobody to ask): send the
        // sealed outbox, which needs neither (issue 14).
        Err(locked @ CommandError::Locked { .. }) => return locked_sync(dir, clock, out, locked),
        other => other?,
    };
    let bar = progress_bar(store.pending_seqs()?.len());
    let result = sync_store(dir, clock, &mut store, &key, &mut |done, _| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();
    let report = result?;
    for (seq, status, reason) in &report.refused {
        eprintln!("record {}-{seq} {status}: {reason}", settings.device_id);
    }
    let counts = store.counts()?;
    emit(out, &sync_line(&report, &counts))?;
    let earlier =
        ((counts.rejected + counts.quarantined) as usize).saturating_sub(report.refused.len());
    if earlier > 0 {
        eprintln!(
            "{earlier} earlier rejected or quarantined record(s) need a person to resolve; see `hearth-agent list`"
        );
    }
    exit_code(report)
}

/// `sync` on a locked store: the sealed outbox ([`sync::outbox`]). With
/// no registration or no outbox key pinned there is nothing it can send:
/// then `locked`, the error that says how to unlock.
fn locked_sync(
    dir: &Path,
    clock: &dyn Clock,
    out: &mut dyn Write,
    locked: CommandError,
) -> Result<u8, CommandError> {
    let (mut store, settings) = super::open_locked(dir)?;
    let (Some(reg), Some(_)) = (store.registration()?, store.outbox_key()?) else {
        return Err(locked);
    };
    let transport =
        Transport::new(&reg.server_url, tls::load_trust(dir)?).remembering(dir.join(PROTOCOL_FILE));
    let report = sync::outbox::run_locked(
        &mut store,
        settings.device_id,
        &reg.server_key,
        clock,
        &transport,
    )?;
    for (seq, status, reason) in &report.refused {
        eprintln!(
            "record {}-{seq} {status}: {reason} (unlock and sync to keep the reason)",
            settings.device_id
        );
    }
    let counts = store.counts()?;
    emit(
        out,
        &format!(
            "locked: sent the sealed outbox; {}",
            sync_line(&report, &counts)
        ),
    )?;
    let (boxes, _) = store.outbox_size()?;
    let unsealed = counts.pending.saturating_sub(boxes);
    if unsealed > 0 {
        eprintln!(
            "{unsealed} pending record(s) have no sealed copy (captured before the server's outbox key was known); unlock and sync to send them"
        );
    }
    exit_code(report)
}

/// The exit code of a sync that ran: unconfirmed records are an error,
/// refused ones [`EXIT_REFUSED`].
fn exit_code(report: SyncReport) -> Result<u8, CommandError> {
    if !report.unconfirmed.is_empty() {
        return Err(CommandError::Unconfirmed {
            count: report.unconfirmed.len(),
            problems: report.problems,
        });
    }
    if !report.refused.is_empty() {
        return Ok(EXIT_REFUSED);
    }
    Ok(EXIT_OK)
}

/// What `sync` does with the store open, for the tablet app's background
/// sync too: upload what is pending to the enrolled server
/// ([`crate::sync::run`]); on a revocation signed by that server, destroy
/// the data key and return [`CommandError::Revoked`] naming the records
/// that never reached it.
pub fn sync_store(
    dir: &Path,
    clock: &dyn Clock,
    store: &mut LocalStore,
    key: &DeviceKey,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport, CommandError> {
    let reg = store.registration()?.ok_or(CommandError::NotEnrolled)?;
    let server_key = reg.server_key;
    let transport =
        Transport::new(&reg.server_url, tls::load_trust(dir)?).remembering(dir.join(PROTOCOL_FILE));
    let result = sync::run(store, key, &server_key, clock, &transport, progress);
    if result.is_ok() {
        fetch_caseload(store, key, &server_key, clock, &transport);
    }
    match result {
        Err(SyncError::Transport(TransportError::Revoked { message, notice })) => {
            // Destroy the data key only on the word of the server pinned at
            // enrolment: anyone else the TLS layer might trust could
            // otherwise wipe the evidence on this tablet.
            let genuine = notice.is_some_and(|n| n.verify(&server_key, key.device_id()));
            if !genuine {
                return Err(CommandError::UnverifiedRevocation { message });
            }
            Err(revoked(dir, clock, store, key, message))
        }
        other => Ok(other?),
    }
}

/// After a successful upload: the caseload ([`sync::caseload`]). What
/// happens to it never changes the sync's outcome or exit code; a caseload
/// not stored is a warning on stderr, and the held one stays.
fn fetch_caseload(
    store: &LocalStore,
    key: &DeviceKey,
    server_key: &ed25519_dalek::VerifyingKey,
    clock: &dyn Clock,
    transport: &Transport,
) {
    match sync::caseload::fetch(store, key, server_key, clock, transport) {
        Ok(outcome) => {
            if let Some(line) = sync::caseload::warning(&outcome) {
                tracing::warn!(%line, "caseload not stored");
                eprintln!("{line}");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "caseload not stored");
            eprintln!("warning: caseload not stored: {e}");
        }
    }
}

/// The line `sync` prints: this run, then the store's totals.
fn sync_line(report: &SyncReport, counts: &StatusCounts) -> String {
    format!(
        "sent {}, synced {}, rejected or quarantined now {}; totals: {} pending, {} synced, {} rejected, {} quarantined",
        report.sent,
        report.synced,
        report.refused.len(),
        counts.pending,
        counts.synced,
        counts.rejected,
        counts.quarantined
    )
}

/// The server revoked this device. Everything it would still take has
/// been offered (batches before the refusal were judged and applied);
/// now destroy the data key, and name what never reached the server.
fn revoked(
    dir: &Path,
    clock: &dyn Clock,
    store: &LocalStore,
    key: &DeviceKey,
    message: String,
) -> CommandError {
    let mut abandoned = Vec::new();
    for status in [SyncStatus::Pending, SyncStatus::Rejected] {
        match store.seqs_with_status(status) {
            Ok(seqs) => abandoned.extend(seqs.into_iter().map(|seq| hearth_shared::RecordId {
                device: key.device_id(),
                seq,
            })),
            Err(e) => return e.into(),
        }
    }
    abandoned.sort_by_key(|id| id.seq);
    // The caseload (names, households) goes with the key.
    if let Err(e) = store.clear_caseload() {
        return e.into();
    }
    unlock::remove_session(dir);
    if let Err(e) = keyring::destroy(dir, &clock.now().to_string()) {
        return e.into();
    }
    tracing::warn!(
        device = %key.device_id(),
        abandoned = abandoned.len(),
        "device revoked; data key destroyed"
    );
    CommandError::Revoked { message, abandoned }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::{PASSPHRASE, init_store};
    use crate::unlock::{KeySource, open_store_with};
    use hearth_shared::caseload::Caseload;
    use hearth_shared::clock::FixedClock;

    #[test]
    fn a_revocation_wipes_the_caseload_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        init_store(dir.path());
        let (store, key) = open_store_with(dir.path(), KeySource::Passphrase(PASSPHRASE)).unwrap();
        let caseload = Caseload {
            device: key.device_id(),
            issued_at: hearth_shared::Timestamp(100),
            children: vec![],
        };
        store
            .replace_caseload(&caseload, caseload.issued_at)
            .unwrap();
        let clock = FixedClock(hearth_shared::Timestamp(1_800_000_000));
        let err = revoked(dir.path(), &clock, &store, &key, "revoked: lost".into());
        assert!(matches!(err, CommandError::Revoked { .. }), "{err}");
        assert_eq!(store.caseload_issued_at().unwrap(), None);
        drop(store);
        let reopened = LocalStore::open_dir(dir.path()).unwrap();
        assert_eq!(reopened.caseload_issued_at().unwrap(), None);
    }
}
