//! `list` (this device's records, optionally pending only or for one
//! child) and `show` (one record in full).

use std::io::Write;
use std::path::Path;

use hearth_shared::ChildRef;
use hearth_shared::clock::Clock;
use serde_json::Value;

use super::render::{emit, list_line, show_json, summary};
use super::{CommandError, EXIT_OK, envelope_of, open, parse_record_id};
use crate::store::{RecordStore, SyncStatus};

/// `list`.
pub(super) fn list(
    dir: &Path,
    clock: &dyn Clock,
    pending: bool,
    child: Option<&str>,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let child = child
        .map(|c| {
            c.parse::<ChildRef>()
                .map_err(|problem| CommandError::BadChild {
                    input: c.to_string(),
                    problem,
                })
        })
        .transpose()?;
    let (store, settings, _key) = open(dir, clock)?;
    let records = match &child {
        // The keyed blind index finds the rows; the decrypted body confirms.
        Some(c) => store.for_child(c)?,
        None => store.all()?,
    };
    let mut rows = Vec::new();
    for r in records {
        if pending && r.status != SyncStatus::Pending {
            continue;
        }
        let env = envelope_of(&r)?;
        if let Some(c) = &child
            && !env.body.children.contains(c)
        {
            continue;
        }
        rows.push(summary(&settings.device_id.to_string(), &r, &env)?);
    }
    if as_json {
        emit(out, &Value::Array(rows).to_string())?;
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        emit(out, "no records")?;
    }
    for row in rows {
        emit(out, &list_line(&row))?;
    }
    Ok(EXIT_OK)
}

/// `show ID`.
pub(super) fn show(
    dir: &Path,
    clock: &dyn Clock,
    id: &str,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<u8, CommandError> {
    let rid = parse_record_id(id)?;
    let (store, _settings, key) = open(dir, clock)?;
    if rid.device != key.device_id() {
        return Err(CommandError::NoSuchRecord(rid));
    }
    if let Some(at) = store.purged_at(rid.seq)? {
        return Err(CommandError::Purged { id: rid, at });
    }
    let r = store.get(rid.seq)?.ok_or(CommandError::NoSuchRecord(rid))?;
    let v = show_json(rid, &r, &envelope_of(&r)?);
    if as_json {
        emit(out, &v.to_string())?;
    } else {
        let pretty = serde_json::to_string_pretty(&v).expect("a JSON value prints");
        emit(out, &pretty)?;
    }
    Ok(EXIT_OK)
}
