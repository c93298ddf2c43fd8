//! What the commands print: one line or document at a time to stdout
//! ([`emit`]), a record's `list` row and `show` document, and the
//! `status` report, as JSON for scripts and as text for a person.
//!
//! Text a record or the server supplied (headlines, reasons) is printed
//! through [`Escaped`], so hidden characters in records kept from before
//! capture refused them (issue 11) cannot reach the terminal.

use std::io::Write;

use hearth_shared::Envelope;
use hearth_shared::RecordId;
use hearth_shared::json::body_to_json;
use hearth_shared::printable::Escaped;
use serde_json::{Value, json};

use super::CommandError;
use crate::store::{DeviceSettings, LocalRecord, Registration, StatusCounts, SyncState};

/// Prints one line (or document) to `out` and flushes it.
pub(super) fn emit(out: &mut dyn Write, text: &str) -> Result<(), CommandError> {
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(CommandError::Output)
}

/// One record's summary for `list`.
pub(super) fn summary(
    device: &str,
    r: &LocalRecord,
    env: &Envelope,
) -> Result<Value, CommandError> {
    Ok(json!({
        "record_id": format!("{device}-{}", r.seq),
        "seq": r.seq.0,
        "kind": env.body.detail.kind().as_str(),
        "occurred_at": env.body.occurred_at.to_string(),
        "headline": env.body.headline.as_str(),
        "children": env.body.children.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "author": env.body.author.as_str(),
        "agency": env.body.agency.as_str(),
        "captured_at": r.captured_at.to_string(),
        "status": r.status.as_str(),
        "reason": r.reason,
    }))
}

/// A `list` summary as one line of the table.
pub(super) fn list_line(row: &Value) -> String {
    let mut line = format!(
        "{:<22} {:<11} {:<20} {:<20} {}",
        row["record_id"].as_str().unwrap_or_default(),
        row["status"].as_str().unwrap_or_default(),
        row["occurred_at"].as_str().unwrap_or_default(),
        row["kind"].as_str().unwrap_or_default(),
        // Records kept from before capture refused hidden characters
        // (issue 11), and the server's reasons, are shown escaped.
        Escaped(row["headline"].as_str().unwrap_or_default()),
    );
    if let Some(reason) = row["reason"].as_str().filter(|r| !r.is_empty()) {
        line.push_str(&format!("  [{}]", Escaped(reason)));
    }
    line
}

/// `show`'s document: the record's JSON form with where it stands here.
pub(super) fn show_json(id: RecordId, r: &LocalRecord, env: &Envelope) -> Value {
    let mut v = body_to_json(&env.body);
    if let Value::Object(obj) = &mut v {
        obj.insert("record_id".into(), id.to_string().into());
        obj.insert("seq".into(), r.seq.0.into());
        obj.insert("device_time".into(), env.device_time.to_string().into());
        obj.insert("prev".into(), env.prev.to_string().into());
        obj.insert("hash".into(), r.hash.to_string().into());
        obj.insert("status".into(), r.status.as_str().into());
        // Not "reason": an amendment's own reason is a body field of that
        // name, and the sync status must not overwrite it.
        obj.insert("status_reason".into(), r.reason.clone().into());
    }
    v
}

/// What `status` reports, read from the store without the key.
pub(super) struct StatusReport {
    /// The `init` settings.
    pub settings: DeviceSettings,
    /// The enrolment, once enrolled.
    pub reg: Option<Registration>,
    /// Records by sync status.
    pub counts: StatusCounts,
    /// The last sync and clock reading.
    pub state: SyncState,
}

impl StatusReport {
    /// `status --json`.
    pub(super) fn to_json(&self) -> Value {
        let Self {
            settings,
            reg,
            counts,
            state,
        } = self;
        let receipt = state.last_receipt.as_ref().map(|r| {
            json!({
                "first": r.first.0,
                "last": r.last.0,
                "server_time": r.server_time.to_string(),
            })
        });
        json!({
            "device_id": settings.device_id,
            "agency": reg.as_ref().map_or(settings.agency.as_str(), |r| r.agency.as_str()),
            "worker": reg.as_ref().map_or(settings.worker.as_str(), |r| r.worker.as_str()),
            "enrolled": reg.is_some(),
            "server": reg.as_ref().map(|r| r.server_url.clone()),
            "pending": counts.pending,
            "synced": counts.synced,
            "rejected": counts.rejected + counts.quarantined,
            "rejected_only": counts.rejected,
            "quarantined": counts.quarantined,
            "purged": counts.purged,
            "last_sync_at": state.last_sync_at.map(|t| t.to_string()),
            "last_receipt": receipt,
            "clock_offset_seconds": state.clock_offset_seconds,
        })
    }

    /// `status` for a person, one line each.
    pub(super) fn lines(&self) -> Vec<String> {
        let (settings, counts, state) = (&self.settings, &self.counts, &self.state);
        let v = self.to_json();
        let or_none = |v: &Value| match v {
            Value::Null => "never".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        vec![
            format!("device       {}", settings.device_id),
            format!("agency       {}", v["agency"].as_str().unwrap_or_default()),
            format!("worker       {}", v["worker"].as_str().unwrap_or_default()),
            format!(
                "server       {}",
                self.reg
                    .as_ref()
                    .map_or("not enrolled", |r| r.server_url.as_str())
            ),
            format!("pending      {}", counts.pending),
            format!("synced       {}", counts.synced),
            format!(
                "purged       {} (synced, body dropped locally)",
                counts.purged
            ),
            format!(
                "rejected     {} ({} rejected, {} quarantined)",
                counts.rejected + counts.quarantined,
                counts.rejected,
                counts.quarantined
            ),
            format!("last sync    {}", or_none(&v["last_sync_at"])),
            match &state.last_receipt {
                Some(r) => format!(
                    "last receipt records {}..={} at {} (server time)",
                    r.first, r.last, r.server_time
                ),
                None => "last receipt none".to_string(),
            },
            match state.clock_offset_seconds {
                Some(s) => format!("clock offset {s:+} s (device minus server)"),
                None => "clock offset unknown".to_string(),
            },
        ]
    }
}
