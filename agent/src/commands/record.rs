//! `record` (a new record from a kind's flags or its JSON form) and
//! `amend` (a correction of one of this device's records, built from the
//! original by [`amended_body`]). Both capture through [`capture_checked`]:
//! who this device may record as ([`Identity`]) is checked before signing.

use std::io::Write;
use std::path::Path;

use hearth_shared::clock::Clock;
use hearth_shared::json::{Defaults, JsonError, parse_body};
use hearth_shared::kinds::Detail;
use hearth_shared::{Body, DeviceId, RecordId, Seq, Text, Timestamp};
use serde_json::Value;

use super::render::emit;
use super::{CommandError, EXIT_OK, envelope_of, open, parse_record_id, read_input};
use crate::amend::{AmendError, Changes, Correction, amended_body, latest_version, parse_set};
use crate::capture::{CaptureError, capture_body};
use crate::cli::{AmendArgs, RecordArgs};
use crate::identity::{Identity, IdentityError, load_staff};
use crate::keys::DeviceKey;
use crate::store::{DeviceSettings, LocalStore, RecordStore};

/// `record <kind> ...` or `record --json FILE`.
pub(super) fn record(
    dir: &Path,
    clock: &dyn Clock,
    args: RecordArgs,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    // The input is checked before the passphrase is asked for.
    let json = match (&args.json, &args.kind) {
        (Some(path), _) => read_input(path)?,
        (None, Some(kind)) => kind.to_json(&clock.now().to_string())?,
        (None, None) => return Err(CommandError::NothingToRecord),
    };
    let (mut store, settings, key) = open(dir, clock)?;
    let identity = identity(dir, &store, &settings, &key)?;
    let defaults = defaults(&identity, settings, None)?;
    let mut body = parse_body(&json, &defaults).map_err(CaptureError::from)?;
    // `record amendment` without --occurred-at keeps the original's date
    // (issue 12): a correction never moves an event to when it was typed.
    if let (Some(kind), Detail::Amendment(a)) = (&args.kind, &body.detail)
        && !kind.occurred_at_given()
    {
        body.occurred_at = original_date(&store, &key, a.corrects)?;
    }
    capture_checked(&mut store, &key, clock, &identity, body, out)
}

/// When the record `id` corrects happened, from this device's copy.
fn original_date(
    store: &LocalStore,
    key: &DeviceKey,
    id: RecordId,
) -> Result<Timestamp, CommandError> {
    let own = id.device == key.device_id();
    let held = own.then(|| store.get(id.seq)).transpose()?.flatten();
    let Some(original) = held else {
        return Err(if store.purged_at(id.seq)?.is_some() && own {
            CommandError::CorrectsPurged(id)
        } else {
            CommandError::CorrectsUnknown(id)
        });
    };
    Ok(envelope_of(&original)?.body.occurred_at)
}

/// The author and agency a record gets when it names none: who the device
/// records as, the enrolment once enrolled (the server's word), else the
/// `init` settings. A named `author` that does not fit is an error, never
/// the worker.
fn defaults(
    identity: &Identity,
    settings: DeviceSettings,
    author: Option<&str>,
) -> Result<Defaults, CommandError> {
    let author = match author {
        Some(a) => Text::try_from_str(a).map_err(|_| {
            CaptureError::Input(JsonError::Field {
                path: "author".into(),
                message: format!("is {} bytes; the limit is 32", a.len()),
            })
        })?,
        None => Text::try_from_str(&identity.worker).unwrap_or(settings.worker),
    };
    Ok(Defaults {
        author,
        agency: Text::try_from_str(&identity.agency).unwrap_or(settings.agency),
    })
}

/// Captures `body` once the device may record it (its identity, and for
/// a correction a record it holds); prints the new record's id.
fn capture_checked(
    store: &mut LocalStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    identity: &Identity,
    body: Body,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let id = capture_checked_id(store, key, clock, identity, body)?;
    emit(out, &id.to_string())?;
    Ok(EXIT_OK)
}

/// [`capture_checked`] without the printing: the new record's id, once
/// it is durable.
fn capture_checked_id(
    store: &mut LocalStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    identity: &Identity,
    body: Body,
) -> Result<RecordId, CommandError> {
    identity.check(&body)?;
    if let Some((corrects, _)) = body.detail.corrects() {
        ensure_held(store, corrects)?;
    }
    let record = capture_body(store, key, clock, body).map_err(CaptureError::from)?;
    Ok(RecordId {
        device: key.device_id(),
        seq: record.seq,
    })
}

/// The author and agency the `record` command gives a body that names
/// neither, for the app's forms (the same [`Identity`] and defaults).
pub fn record_defaults(
    dir: &Path,
    store: &LocalStore,
    settings: &DeviceSettings,
    key: &DeviceKey,
    author: Option<&str>,
) -> Result<Defaults, CommandError> {
    let identity = identity(dir, store, settings, key)?;
    defaults(&identity, settings.clone(), author)
}

/// Who may author this device's records: its worker, then a shared
/// device's staff list (`staff.json`), for the app's author picker.
pub fn device_authors(
    dir: &Path,
    store: &LocalStore,
    settings: &DeviceSettings,
    key: &DeviceKey,
) -> Result<Vec<String>, CommandError> {
    let identity = identity(dir, store, settings, key)?;
    let mut all = vec![identity.worker];
    for s in identity.staff {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    Ok(all)
}

/// The `record` command's capture path, for the app: checks who this
/// device may record as (a shared device's staff list), then signs and
/// commits `body`; returns the new record's id only once it is durable.
pub fn capture_record(
    dir: &Path,
    store: &mut LocalStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    settings: &DeviceSettings,
    body: Body,
) -> Result<RecordId, CommandError> {
    let identity = identity(dir, store, settings, key)?;
    capture_checked_id(store, key, clock, &identity, body)
}

/// Refuses a correction of a record this device never stored (a purged
/// record was stored, so it may be corrected).
fn ensure_held(store: &LocalStore, id: RecordId) -> Result<(), CommandError> {
    if store.get(id.seq)?.is_none() && store.purged_at(id.seq)?.is_none() {
        return Err(CommandError::CorrectsUnknown(id));
    }
    Ok(())
}

/// `amend RECORD_ID`: captures the correction built by
/// [`amended_body`] from the original in this device's store.
pub(super) fn amend(
    dir: &Path,
    clock: &dyn Clock,
    args: AmendArgs,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let rid = parse_record_id(&args.id)?;
    let author = args.author.clone();
    let changes = changes(args)?;
    let (mut store, settings, key) = open(dir, clock)?;
    let id = amend_record(
        dir,
        &mut store,
        &key,
        clock,
        &settings,
        rid,
        &changes,
        author.as_deref(),
    )?;
    emit(out, &id.to_string())?;
    Ok(EXIT_OK)
}

/// The `amend` command's path, for the app too: refuses another device's,
/// a purged or a superseded record, builds the correction from the
/// original with [`amended_body`] and captures it through the `record`
/// path; the correction's id once durable.
#[allow(clippy::too_many_arguments)]
pub fn amend_record(
    dir: &Path,
    store: &mut LocalStore,
    key: &DeviceKey,
    clock: &dyn Clock,
    settings: &DeviceSettings,
    rid: RecordId,
    changes: &Changes,
    author: Option<&str>,
) -> Result<RecordId, CommandError> {
    if rid.device != key.device_id() {
        return Err(IdentityError::ForeignAmendment(rid).into());
    }
    if let Some(at) = store.purged_at(rid.seq)? {
        return Err(CommandError::Purged { id: rid, at });
    }
    let original = store
        .get(rid.seq)?
        .ok_or(CommandError::CorrectsUnknown(rid))?;
    let original = envelope_of(&original)?.body;
    refuse_stale(store, rid, &original, changes)?;
    let identity = identity(dir, store, settings, key)?;
    let defaults = defaults(&identity, settings.clone(), author)?;
    let body = amended_body(rid, &original, changes, &defaults)?;
    capture_checked_id(store, key, clock, &identity, body)
}

/// The latest version of this device's record `rid` (itself if never
/// corrected), which a new correction must start from.
pub fn latest_record(store: &LocalStore, rid: RecordId) -> Result<RecordId, CommandError> {
    let latest = latest_version(rid.seq.0, &own_corrections(store, rid.device)?);
    Ok(RecordId {
        device: rid.device,
        seq: Seq(latest),
    })
}

/// What `amend`'s flags change: the named fields, from `--json` then each
/// `--set` in order.
fn changes(args: AmendArgs) -> Result<Changes, CommandError> {
    let mut changes = Changes {
        reason: args.reason,
        entered_in_error: args.entered_in_error,
        children: args.children,
        occurred_at: args.occurred_at,
        headline: args.headline,
        fields: serde_json::Map::new(),
    };
    if let Some(path) = &args.json {
        match serde_json::from_str(&read_input(path)?) {
            Ok(Value::Object(fields)) => changes.fields = fields,
            _ => return Err(CommandError::AmendJson(path.clone())),
        }
    }
    for s in &args.set {
        let (k, v) = parse_set(s)?;
        changes.fields.insert(k, v);
    }
    Ok(changes)
}

/// Refuses to correct an older version of a corrected record, naming the
/// latest, so a second correction never undoes the first. (A retraction
/// named is refused by [`amended_body`], with its own words; retracting
/// any version is allowed.)
fn refuse_stale(
    store: &LocalStore,
    rid: RecordId,
    original: &Body,
    changes: &Changes,
) -> Result<(), CommandError> {
    let named_is_retraction =
        matches!(&original.detail, Detail::Revision(v) if v.entered_in_error());
    if changes.entered_in_error || named_is_retraction {
        return Ok(());
    }
    let latest = latest_version(rid.seq.0, &own_corrections(store, rid.device)?);
    if latest != rid.seq.0 {
        let latest = RecordId {
            device: rid.device,
            seq: Seq(latest),
        };
        return Err(AmendError::NotLatest { named: rid, latest }.into());
    }
    Ok(())
}

/// This device's corrections of its own records, for [`latest_version`].
fn own_corrections(store: &LocalStore, device: DeviceId) -> Result<Vec<Correction>, CommandError> {
    let mut out = Vec::new();
    for r in store.all()? {
        let body = envelope_of(&r)?.body;
        if let Some((corrects, _)) = body.detail.corrects()
            && corrects.device == device
        {
            out.push(Correction {
                seq: r.seq.0,
                corrects: corrects.seq.0,
                retraction: matches!(&body.detail, Detail::Revision(v) if v.entered_in_error()),
            });
        }
    }
    Ok(out)
}

/// Who this device records as: its enrolment (with a shared device's
/// staff list), or before enrolment its `init` settings.
fn identity(
    dir: &Path,
    store: &LocalStore,
    settings: &DeviceSettings,
    key: &DeviceKey,
) -> Result<Identity, CommandError> {
    let device = key.device_id();
    Ok(match store.registration()? {
        Some(reg) => Identity {
            device,
            agency: reg.agency,
            worker: reg.worker,
            staff: load_staff(dir)?,
        },
        None => Identity {
            device,
            agency: settings.agency.as_str().to_string(),
            worker: settings.worker.as_str().to_string(),
            staff: Vec::new(),
        },
    })
}
