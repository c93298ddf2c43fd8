//! Administration over a [`Store`]: enrolment tokens, API users, devices,
//! revocation, family links, and listings of the access log and of what is
//! quarantined. Each function returns what the CLI prints.

use std::time::Duration;

use hearth_shared::{AgencyCode, ChildRef, DeviceId, Timestamp, WorkerId};
use serde_json::json;

use crate::clock::Clock;
use crate::keys::SecretToken;
use crate::store::{Grant, Revocation, Role, Store, StoreError, UserChange};

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An agency code that records could not carry.
    #[error("agency \"{0}\" must be 1 to 16 bytes")]
    BadAgency(String),
    /// A worker id that records could not carry.
    #[error("worker \"{0}\" must be 1 to 32 bytes")]
    BadWorker(String),
    /// A user name already taken.
    #[error("a user named \"{0}\" already exists; choose another name")]
    UserExists(String),
    /// A blank user name.
    #[error("the user name is blank; give a name")]
    BlankName,
    /// No such device.
    #[error("no device {0} is enrolled; see `hearth-server devices`")]
    UnknownDevice(DeviceId),
    /// A blank reason.
    #[error("a reason is required; say why (--reason TEXT)")]
    BlankReason,
    /// No such user.
    #[error("no user named \"{0}\"; see `hearth-server user list`")]
    UnknownUser(String),
    /// The user was revoked.
    #[error(
        "user \"{0}\" was revoked at {1}; a revoked token stays revoked (add a user under a new name)"
    )]
    UserRevoked(String, Timestamp),
    /// A child linked to itself.
    #[error("a child cannot be linked to itself; give two different children")]
    SameChild,
}

/// Issues a one-time enrolment token; returns it and its expiry.
pub fn issue_enrol_token<S: Store>(
    store: &S,
    clock: &dyn Clock,
    agency: &str,
    worker: &str,
    valid_for: Duration,
) -> Result<(SecretToken, Timestamp), AdminError> {
    if agency.is_empty() || AgencyCode::try_from_str(agency).is_err() {
        return Err(AdminError::BadAgency(agency.to_string()));
    }
    if worker.is_empty() || WorkerId::try_from_str(worker).is_err() {
        return Err(AdminError::BadWorker(worker.to_string()));
    }
    let token = SecretToken::generate();
    let now = clock.now();
    let expires = Timestamp(now.0.saturating_add(valid_for.as_secs() as i64));
    store.add_enrol_token(
        &token.hash(),
        &Grant {
            agency: agency.to_string(),
            worker: worker.to_string(),
        },
        now,
        expires,
    )?;
    Ok((token, expires))
}

/// Adds an API user; returns their token.
pub fn add_user<S: Store>(
    store: &S,
    clock: &dyn Clock,
    name: &str,
    role: Role,
) -> Result<SecretToken, AdminError> {
    if name.trim().is_empty() {
        return Err(AdminError::BlankName);
    }
    let token = SecretToken::generate();
    if !store.add_user(name, role, &token.hash(), clock.now())? {
        return Err(AdminError::UserExists(name.to_string()));
    }
    Ok(token)
}

fn user_change(name: &str, change: UserChange) -> Result<(), AdminError> {
    match change {
        UserChange::Done => Ok(()),
        UserChange::NoSuchUser => Err(AdminError::UnknownUser(name.to_string())),
        UserChange::Revoked(at) => Err(AdminError::UserRevoked(name.to_string(), at)),
    }
}

/// Revokes a user's API token: it stops working at once.
pub fn revoke_user<S: Store>(
    store: &S,
    clock: &dyn Clock,
    name: &str,
    reason: &str,
) -> Result<(), AdminError> {
    if reason.trim().is_empty() {
        return Err(AdminError::BlankReason);
    }
    user_change(name, store.revoke_user(name, reason.trim(), clock.now())?)
}

/// Gives a user a new API token; the old one stops working. Returns it.
pub fn rotate_user<S: Store>(store: &S, name: &str) -> Result<SecretToken, AdminError> {
    let token = SecretToken::generate();
    user_change(name, store.replace_user_token(name, &token.hash())?)?;
    Ok(token)
}

/// The user list (never the tokens).
pub fn users<S: Store>(store: &S, as_json: bool) -> Result<String, AdminError> {
    let users = store.users()?;
    if as_json {
        let v: Vec<_> = users
            .iter()
            .map(|u| {
                json!({
                    "name": u.user.name,
                    "role": u.user.role.as_str(),
                    "created_at": u.created_at.to_string(),
                    "revoked_at": u.revoked.as_ref().map(|r| r.at.to_string()),
                    "revoked_reason": u.revoked.as_ref().map(|r| r.reason.clone()),
                })
            })
            .collect();
        return Ok(pretty_json(&v));
    }
    let mut out = String::from("NAME\tROLE\tCREATED\tREVOKED\n");
    for u in &users {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            u.user.name,
            u.user.role.as_str(),
            u.created_at,
            revoked_cell(u.revoked.as_ref()),
        ));
    }
    Ok(out)
}

/// Revokes a device.
pub fn revoke<S: Store>(
    store: &S,
    clock: &dyn Clock,
    device: DeviceId,
    reason: &str,
) -> Result<(), AdminError> {
    if reason.trim().is_empty() {
        return Err(AdminError::BlankReason);
    }
    if !store.revoke(device, reason.trim(), clock.now())? {
        return Err(AdminError::UnknownDevice(device));
    }
    Ok(())
}

/// Links two children into a family.
pub fn link_family<S: Store>(
    store: &S,
    clock: &dyn Clock,
    a: &ChildRef,
    b: &ChildRef,
) -> Result<(), AdminError> {
    if a == b {
        return Err(AdminError::SameChild);
    }
    store.link_family(a, b, clock.now())?;
    Ok(())
}

/// The REVOKED column: `no`, or when and why.
fn revoked_cell(r: Option<&Revocation>) -> String {
    r.map_or_else(|| "no".to_string(), |r| format!("{}: {}", r.at, r.reason))
}

/// A listing as pretty JSON with a final newline.
fn pretty_json(v: &[serde_json::Value]) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).expect("JSON"))
}

fn opt_time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.to_string())
}

/// The device list.
pub fn devices<S: Store>(store: &S, as_json: bool) -> Result<String, AdminError> {
    let devices = store.devices()?;
    if as_json {
        let v: Vec<_> = devices
            .iter()
            .map(|d| {
                json!({
                    "device": d.id.to_string(),
                    "agency": d.agency,
                    "worker": d.worker,
                    "enrolled_at": d.enrolled_at.to_string(),
                    "last_seen": d.last_seen.map(|t| t.to_string()),
                    "clock_offset_seconds": d.clock.offset,
                    "revoked_at": d.revoked.as_ref().map(|r| r.at.to_string()),
                    "revoked_reason": d.revoked.as_ref().map(|r| r.reason.clone()),
                    "gaps": d.gaps.iter().map(|(f, t)| json!({"from": f.0, "to": t.0})).collect::<Vec<_>>(),
                })
            })
            .collect();
        return Ok(pretty_json(&v));
    }
    let mut out =
        String::from("DEVICE\tAGENCY\tWORKER\tENROLLED\tLAST SEEN\tCLOCK OFFSET\tREVOKED\tGAPS\n");
    for d in &devices {
        let gaps: Vec<String> = d.gaps.iter().map(|(f, t)| format!("{f}-{t}")).collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            d.id,
            d.agency,
            d.worker,
            d.enrolled_at,
            opt_time(d.last_seen),
            d.clock
                .offset
                .map_or_else(|| "-".to_string(), |o| format!("{o}s")),
            revoked_cell(d.revoked.as_ref()),
            if gaps.is_empty() {
                "-".to_string()
            } else {
                gaps.join(",")
            },
        ));
    }
    Ok(out)
}

/// The access log.
pub fn access_log<S: Store>(store: &S, as_json: bool) -> Result<String, AdminError> {
    let log = store.access_log()?;
    if as_json {
        let v: Vec<_> = log
            .iter()
            .map(|a| {
                json!({
                    "at": a.at.to_string(),
                    "who": a.who,
                    "via": a.via.as_str(),
                    "child": a.child.to_string(),
                    "family": a.family,
                    "children": a.children.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "reason": a.reason,
                })
            })
            .collect();
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&v).expect("JSON")
        ));
    }
    let mut out = String::from("WHEN\tWHO\tVIA\tCHILD\tFAMILY\tDISCLOSED\tREASON\n");
    for a in &log {
        let disclosed: Vec<String> = a.children.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            a.at,
            a.who,
            a.via.as_str(),
            a.child,
            if a.family { "yes" } else { "no" },
            disclosed.join(" "),
            a.reason
        ));
    }
    Ok(out)
}

/// Quarantined and rejected records, and alarms.
pub fn quarantine<S: Store>(store: &S, as_json: bool) -> Result<String, AdminError> {
    let held = store.held()?;
    let alarms = store.alarms()?;
    if as_json {
        let v = json!({
            "held": held.iter().map(|h| json!({
                "id": h.id,
                "device": h.device.to_string(),
                "seq": h.seq.map(|s| s.0),
                "status": h.status.as_str(),
                "reason": h.reason,
                "size": h.bytes.len(),
                "bytes_hex": hex::encode(&h.bytes),
                "received_at": h.received_at.to_string(),
            })).collect::<Vec<_>>(),
            "alarms": alarms.iter().map(|a| json!({
                "id": a.id,
                "raised_at": a.raised_at.to_string(),
                "device": a.device.to_string(),
                "seq": a.seq.0,
                "message": a.message,
            })).collect::<Vec<_>>(),
        });
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&v).expect("JSON")
        ));
    }
    let mut out = String::from("ID\tRECEIVED\tDEVICE\tSEQ\tSTATUS\tSIZE\tREASON\n");
    for h in &held {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            h.id,
            h.received_at,
            h.device,
            h.seq.map_or_else(|| "-".to_string(), |s| s.to_string()),
            h.status.as_str(),
            h.bytes.len(),
            h.reason
        ));
    }
    out.push_str("\nALARMS\nID\tRAISED\tDEVICE\tSEQ\tMESSAGE\n");
    for a in &alarms {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            a.id, a.raised_at, a.device, a.seq, a.message
        ));
    }
    Ok(out)
}
