//! Administration over a [`Store`]: enrolment tokens, API users, devices,
//! revocation, family links, and listings of the access log and of what is
//! quarantined. Each function returns what the CLI prints.
//!
//! Listings are read by a person in a terminal, so every stored string in
//! them (names, reasons, messages that quote device text) is shown through
//! [`Escaped`] in tables and [`json_escaped`] in JSON: no stored value can
//! start a forged row or move the cursor.
//!
//! Tables show times in local time with the zone's abbreviation (a
//! [`Zone`], default Europe/London); JSON keeps RFC 3339 UTC.

use std::time::Duration;

use hearth_shared::printable::{Escaped, Lines, check, json_escaped};
use hearth_shared::{AgencyCode, ChildRef, DeviceId, Envelope, Timestamp, WorkerId};
use serde_json::json;

use crate::audit::{BadReader, BadReason, check_reader, check_reason};
use crate::chronology::DateRange;
use crate::chronology::family::joined_through;
use crate::clock::Clock;
use crate::keys::SecretToken;
use crate::localtime::Zone;
use crate::store::{
    Access, Alarm, Device, FamilyChange, Grant, Held, Revocation, Role, Store, StoreError,
    UserChange, Via,
};

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An agency code that records could not carry.
    #[error("agency \"{}\" must be 1 to 16 bytes of visible text", Escaped(.0))]
    BadAgency(String),
    /// A worker id that records could not carry.
    #[error("worker \"{}\" must be 1 to 32 bytes of visible text", Escaped(.0))]
    BadWorker(String),
    /// A staff member's worker id that records could not carry.
    #[error("--staff \"{}\" must be a worker id of 1 to 32 bytes without control characters", .0.escape_debug())]
    BadStaff(String),
    /// A user name already taken.
    #[error("a user named \"{0}\" already exists; choose another name")]
    UserExists(String),
    /// A blank user name.
    #[error(
        "the user name is blank or holds a line break, control or invisible character; give a name of visible text"
    )]
    BlankName,
    /// No such device.
    #[error("no device {0} is enrolled; see `hearth-server devices`")]
    UnknownDevice(DeviceId),
    /// The device was revoked already: its first revocation stands.
    #[error(
        "device {device} was already revoked at {at}, because: {reason}; that revocation stands"
    )]
    AlreadyRevoked {
        /// The device.
        device: DeviceId,
        /// When it was revoked.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// A missing or unacceptable reason.
    #[error("{0} (--reason TEXT)")]
    Reason(#[from] BadReason),
    /// A blank or hidden-character reader's name.
    #[error(transparent)]
    Reader(#[from] BadReader),
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

/// Checks a staff member's worker id: what a record's author can carry.
fn staff_member(member: &str) -> Result<String, AdminError> {
    if !visible(member) || WorkerId::try_from_str(member).is_err() {
        return Err(AdminError::BadStaff(member.to_string()));
    }
    Ok(member.to_string())
}

/// Whether `s` is one line of visible text: what an agency, worker or
/// staff name must be, since each is printed in every chronology.
fn visible(s: &str) -> bool {
    !s.trim().is_empty() && check(s, Lines::One).is_ok()
}

/// Issues a one-time enrolment token; returns it and its expiry. `staff`
/// lists who else may author records on the device (a shared device, such
/// as a nursery's door tablet); empty for a worker's own tablet.
pub fn issue_enrol_token<S: Store>(
    store: &S,
    clock: &dyn Clock,
    agency: &str,
    worker: &str,
    staff: &[String],
    valid_for: Duration,
) -> Result<(SecretToken, Timestamp), AdminError> {
    if !visible(agency) || AgencyCode::try_from_str(agency).is_err() {
        return Err(AdminError::BadAgency(agency.to_string()));
    }
    if !visible(worker) || WorkerId::try_from_str(worker).is_err() {
        return Err(AdminError::BadWorker(worker.to_string()));
    }
    let mut staff = staff
        .iter()
        .map(|m| staff_member(m))
        .collect::<Result<Vec<_>, _>>()?;
    staff.sort();
    staff.dedup();
    let token = SecretToken::generate();
    let now = clock.now();
    let expires = Timestamp(now.0.saturating_add(valid_for.as_secs() as i64));
    store.add_enrol_token(
        &token.hash(),
        &Grant {
            agency: agency.to_string(),
            worker: worker.to_string(),
            staff,
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
    // The name is shown in the access log: visible text on one line.
    if !visible(name) {
        return Err(AdminError::BlankName);
    }
    let token = SecretToken::generate();
    if !store.add_user(name, role, &token.hash(), clock.now())? {
        return Err(AdminError::UserExists(name.to_string()));
    }
    Ok(token)
}

/// Adds staff members to a device's list (`on`), or takes them off. A
/// member taken off can no longer author records on the device; records
/// already stored stay.
pub fn set_staff<S: Store>(
    store: &S,
    clock: &dyn Clock,
    device: DeviceId,
    members: &[String],
    on: bool,
) -> Result<(), AdminError> {
    let members = members
        .iter()
        .map(|m| staff_member(m))
        .collect::<Result<Vec<_>, _>>()?;
    for m in &members {
        if !store.set_staff(device, m, on, clock.now())? {
            return Err(AdminError::UnknownDevice(device));
        }
    }
    Ok(())
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
    let reason = check_reason(reason)?;
    user_change(name, store.revoke_user(name, reason, clock.now())?)
}

/// Gives a user a new API token; the old one stops working. Returns it.
pub fn rotate_user<S: Store>(store: &S, name: &str) -> Result<SecretToken, AdminError> {
    let token = SecretToken::generate();
    user_change(name, store.replace_user_token(name, &token.hash())?)?;
    Ok(token)
}

/// Sets a user's password to `password_hash` (an Argon2id PHC string,
/// never the password) and signs their browsers out; not for a revoked
/// user.
pub fn set_password<S: Store>(
    store: &S,
    clock: &dyn Clock,
    name: &str,
    password_hash: &str,
) -> Result<(), AdminError> {
    user_change(name, store.set_password(name, password_hash, clock.now())?)
}

/// The user list (never the tokens).
pub fn users<S: Store>(store: &S, as_json: bool, zone: &Zone) -> Result<String, AdminError> {
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
                    "password_set_at": u.password_set_at.map(|t| t.to_string()),
                })
            })
            .collect();
        return Ok(pretty_json(&v));
    }
    let mut out = String::from("NAME\tROLE\tCREATED\tPASSWORD\tREVOKED\n");
    for u in &users {
        let password = u.password_set_at.map_or_else(
            || "not set".to_string(),
            |t| format!("set {}", zone.show(t)),
        );
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            Escaped(&u.user.name),
            u.user.role.as_str(),
            zone.show(u.created_at),
            password,
            revoked_cell(u.revoked.as_ref(), zone),
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
    let reason = check_reason(reason)?;
    match store.device(device)? {
        None => return Err(AdminError::UnknownDevice(device)),
        Some(Device {
            revoked: Some(r), ..
        }) => {
            return Err(AdminError::AlreadyRevoked {
                device,
                at: r.at,
                reason: r.reason,
            });
        }
        Some(_) => {}
    }
    // The store keeps a first revocation even if two race here.
    if !store.revoke(device, reason, clock.now())? {
        return Err(AdminError::UnknownDevice(device));
    }
    Ok(())
}

/// An administrator's `family link` or `family unlink`.
#[derive(Debug, Clone, Copy)]
pub struct FamilyRequest<'a> {
    /// One child.
    pub a: &'a ChildRef,
    /// The other.
    pub b: &'a ChildRef,
    /// Who runs the command (shown in the family-links history).
    pub who: &'a str,
    /// Why: required to unlink, optional to link (older scripts give
    /// none), and checked like every stated reason when given.
    pub reason: Option<&'a str>,
}

/// Links two children into a family, clearing an unlink of the pair, and
/// writes it to the family-links history.
pub fn link_family<S: Store>(
    store: &S,
    clock: &dyn Clock,
    req: &FamilyRequest<'_>,
) -> Result<(), AdminError> {
    change_family(store, clock, req, true)
}

/// Unlinks two children: removes a link of the pair and overrides every
/// record naming both, now and later, until `family link`; writes it to the
/// family-links history. Returns the children through whom the two are
/// still in one family (empty if they are now apart).
pub fn unlink_family<S: Store>(
    store: &S,
    clock: &dyn Clock,
    req: &FamilyRequest<'_>,
) -> Result<Vec<ChildRef>, AdminError> {
    change_family(store, clock, req, false)?;
    Ok(joined_through(req.a, req.b, &store.family_links()?))
}

fn change_family<S: Store>(
    store: &S,
    clock: &dyn Clock,
    req: &FamilyRequest<'_>,
    linked: bool,
) -> Result<(), AdminError> {
    if req.a == req.b {
        return Err(AdminError::SameChild);
    }
    let reason = match req.reason {
        Some(r) => check_reason(r)?,
        None if linked => "",
        None => check_reason("")?,
    };
    check_reader(req.who)?;
    store.change_family(&FamilyChange {
        at: clock.now(),
        linked,
        a: req.a.clone(),
        b: req.b.clone(),
        who: req.who.to_string(),
        reason: reason.to_string(),
    })?;
    Ok(())
}

/// The family-links history: every link and unlink, oldest first.
pub fn family_history<S: Store>(
    store: &S,
    as_json: bool,
    zone: &Zone,
) -> Result<String, AdminError> {
    let log = store.family_history()?;
    let action = |c: &FamilyChange| if c.linked { "link" } else { "unlink" };
    if as_json {
        let v: Vec<_> = log
            .iter()
            .map(|c| {
                json!({
                    "at": c.at.to_string(),
                    "action": action(c),
                    "children": [c.a.to_string(), c.b.to_string()],
                    "who": c.who,
                    "reason": c.reason,
                })
            })
            .collect();
        return Ok(pretty_json(&v));
    }
    let mut out = String::from("WHEN\tACTION\tCHILDREN\tWHO\tREASON\n");
    for c in &log {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            zone.show(c.at),
            action(c),
            Escaped(&format!("{} {}", c.a, c.b)),
            Escaped(&c.who),
            if c.reason.is_empty() {
                "-".to_string()
            } else {
                Escaped(&c.reason).to_string()
            }
        ));
    }
    Ok(out)
}

/// The REVOKED column: `no`, or when and why (escaped).
fn revoked_cell(r: Option<&Revocation>, zone: &Zone) -> String {
    r.map_or_else(
        || "no".to_string(),
        |r| format!("{}: {}", zone.show(r.at), Escaped(&r.reason)),
    )
}

/// `v` as indented JSON and a line end, hidden characters escaped.
fn pretty_json(v: &impl serde::Serialize) -> String {
    let mut s = json_escaped(serde_json::to_string_pretty(v).expect("JSON"));
    s.push('\n');
    s
}

fn opt_time(t: Option<Timestamp>, zone: &Zone) -> String {
    t.map_or_else(|| "-".to_string(), |t| zone.show(t))
}

/// The device list.
pub fn devices<S: Store>(store: &S, as_json: bool, zone: &Zone) -> Result<String, AdminError> {
    let devices = store.devices()?;
    if as_json {
        let v: Vec<_> = devices
            .iter()
            .map(|d| {
                json!({
                    "device": d.id.to_string(),
                    "agency": d.agency,
                    "worker": d.worker,
                    "staff": d.staff,
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
    let mut out = String::from(
        "DEVICE\tAGENCY\tWORKER\tENROLLED\tLAST SEEN\tCLOCK OFFSET\tREVOKED\tGAPS\tSTAFF\n",
    );
    for d in &devices {
        let gaps: Vec<String> = d.gaps.iter().map(|(f, t)| format!("{f}-{t}")).collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            d.id,
            Escaped(&d.agency),
            Escaped(&d.worker),
            zone.show(d.enrolled_at),
            opt_time(d.last_seen, zone),
            d.clock
                .offset
                .map_or_else(|| "-".to_string(), |o| format!("{o}s")),
            revoked_cell(d.revoked.as_ref(), zone),
            if gaps.is_empty() {
                "-".to_string()
            } else {
                gaps.join(",")
            },
            if d.staff.is_empty() {
                "-".to_string()
            } else {
                Escaped(&d.staff.join(",")).to_string()
            },
        ));
    }
    Ok(out)
}

/// Which access-log rows to list: each filter given must match.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    /// Reads that asked for this child or disclosed its entries.
    pub child: Option<ChildRef>,
    /// Reads by this user: an API user's name, an operating-system user,
    /// or a name given with `--as` (a CLI read is logged as
    /// `os-user (as NAME)`, and matches either).
    pub user: Option<String>,
    /// Reads made in this range (whole days, inclusive).
    pub range: DateRange,
}

/// The names a logged reader answers to: `os (as NAME)` is both `os` and
/// `NAME`, and the whole.
fn reader_names(who: &str) -> [&str; 3] {
    match who.strip_suffix(')').and_then(|w| w.split_once(" (as ")) {
        Some((os, name)) => [who, os, name],
        None => [who, who, who],
    }
}

impl AccessFilter {
    /// Whether `a` is to be listed.
    pub fn matches(&self, a: &Access) -> bool {
        self.child
            .as_ref()
            .is_none_or(|c| a.child.as_ref() == Some(c) || a.children.contains(c))
            && self
                .user
                .as_deref()
                .is_none_or(|u| reader_names(&a.who).contains(&u))
            && self.range.from.is_none_or(|f| a.at >= f)
            && self.range.to.is_none_or(|t| a.at <= t)
    }
}

/// The access log: the rows that `filter` matches, oldest first.
pub fn access_log<S: Store>(
    store: &S,
    as_json: bool,
    filter: &AccessFilter,
    zone: &Zone,
) -> Result<String, AdminError> {
    let mut log = store.access_log()?;
    log.retain(|a| filter.matches(a));
    if as_json {
        let v: Vec<_> = log
            .iter()
            .map(|a| {
                json!({
                    "at": a.at.to_string(),
                    "who": a.who,
                    "via": a.via.as_str(),
                    "child": a.child.as_ref().map(ToString::to_string),
                    "family": a.family,
                    "children": a.children.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "reason": a.reason,
                })
            })
            .collect();
        return Ok(pretty_json(&v));
    }
    let mut out = String::from("WHEN\tWHO\tVIA\tCHILD\tFAMILY\tDISCLOSED\tREASON\n");
    for a in &log {
        let disclosed: Vec<String> = a.children.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            zone.show(a.at),
            Escaped(&a.who),
            a.via.as_str(),
            a.child
                .as_ref()
                .map_or_else(|| "-".to_string(), |c| Escaped(&c.to_string()).to_string()),
            if a.family { "yes" } else { "no" },
            Escaped(&disclosed.join(" ")),
            Escaped(&a.reason)
        ));
    }
    Ok(out)
}

/// A read of the quarantine: who, why, and in what form.
#[derive(Debug, Clone, Copy)]
pub struct QuarantineRead<'a> {
    /// Who is reading.
    pub who: &'a str,
    /// Why (checked like a pull's reason).
    pub reason: &'a str,
    /// JSON rather than a table.
    pub json: bool,
    /// The held records' bytes too (JSON only).
    pub bytes: bool,
    /// The zone of the table's times.
    pub zone: &'a Zone,
}

/// A held record's envelope, if its bytes decode (a rejected record's may
/// not: truncated, kept only as a prefix, or not a record at all). The
/// signature is not checked here: what decodes is shown for a person to
/// judge, never stored or filed.
pub fn decode_held(h: &Held) -> Option<Envelope> {
    use hearth_shared::signed::{decode_stored_envelope, split_signed};
    split_signed(&h.bytes)
        .and_then(|(e, _)| decode_stored_envelope(e))
        .ok()
}

/// The children named by held records whose bytes still decode, sorted,
/// each once.
fn children_held(held: &[Held]) -> Vec<ChildRef> {
    let mut out = std::collections::BTreeSet::new();
    for e in held.iter().filter_map(decode_held) {
        out.extend(e.body.children.iter().cloned());
    }
    out.into_iter().collect()
}

/// Quarantined and rejected records, and alarms: metadata and verdicts,
/// and the records' bytes only when asked for.
///
/// Held records are genuine records about children (a fork is two signed
/// records). So a read needs a reason, like a pull, and is written to the
/// access log before anything is returned, naming every child a held
/// record names (`via` is `quarantine`, or `quarantine-bytes` when the
/// bytes are shown). The row names no child asked for (`child` is
/// `None`), and is written even when no held record names a child.
pub fn quarantine<S: Store>(
    store: &S,
    clock: &dyn Clock,
    read: &QuarantineRead<'_>,
) -> Result<String, AdminError> {
    let bytes = read.json && read.bytes;
    let via = if bytes {
        Via::QuarantineBytes
    } else {
        Via::Quarantine
    };
    let (held, alarms) = read_quarantine(store, clock, read.who, read.reason, via)?;
    if read.json {
        return Ok(quarantine_json(&held, &alarms, bytes));
    }
    Ok(quarantine_table(&held, &alarms, read.zone))
}

/// The audited step of every quarantine read (the command's, the web
/// page's): checks the reason and the reader, writes the read to the
/// access log as `via` (naming every child a held record names), and only
/// then returns the held records and the alarms, oldest first.
pub fn read_quarantine<S: Store>(
    store: &S,
    clock: &dyn Clock,
    who: &str,
    reason: &str,
    via: Via,
) -> Result<(Vec<Held>, Vec<Alarm>), AdminError> {
    let reason = check_reason(reason)?;
    check_reader(who)?;
    let held = store.held()?;
    let alarms = store.alarms()?;
    let children = children_held(&held);
    // Logged whether or not a held record names a child: the bytes of a
    // record that does not decode may still hold text about one.
    store.log_access(&Access {
        at: clock.now(),
        who: who.to_string(),
        via,
        child: None,
        family: false,
        reason: reason.to_string(),
        purpose: None,
        children: children.clone(),
    })?;
    tracing::info!(who = %Escaped(who), via = via.as_str(), children = children.len(), "quarantine read");
    Ok((held, alarms))
}

/// The quarantine as JSON: held records (with their bytes in hex if
/// `bytes`) and alarms.
fn quarantine_json(held: &[Held], alarms: &[Alarm], bytes: bool) -> String {
    let v = json!({
        "held": held.iter().map(|h| {
            let mut v = json!({
                "id": h.id,
                "device": h.device.to_string(),
                "seq": h.seq.map(|s| s.0),
                "status": h.status.as_str(),
                "reason": h.reason,
                "size": h.length,
                "kept_bytes": h.bytes.len(),
                "received_at": h.received_at.to_string(),
            });
            if bytes {
                v["bytes_hex"] = hex::encode(&h.bytes).into();
            }
            v
        }).collect::<Vec<_>>(),
        "alarms": alarms.iter().map(|a| json!({
            "id": a.id,
            "raised_at": a.raised_at.to_string(),
            "device": a.device.to_string(),
            "seq": a.seq.0,
            "message": a.message,
        })).collect::<Vec<_>>(),
    });
    pretty_json(&v)
}

/// The quarantine as two tables, held records then alarms; stored text
/// escaped.
fn quarantine_table(held: &[Held], alarms: &[Alarm], zone: &Zone) -> String {
    let mut out = String::from("ID\tRECEIVED\tDEVICE\tSEQ\tSTATUS\tSIZE\tREASON\n");
    for h in held {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            h.id,
            zone.show(h.received_at),
            h.device,
            h.seq.map_or_else(|| "-".to_string(), |s| s.to_string()),
            h.status.as_str(),
            h.length,
            Escaped(&h.reason)
        ));
    }
    out.push_str("\nALARMS\nID\tRAISED\tDEVICE\tSEQ\tMESSAGE\n");
    for a in alarms {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            a.id,
            zone.show(a.raised_at),
            a.device,
            a.seq,
            Escaped(&a.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;
    use crate::store::{Access, Via};

    #[test]
    fn a_stored_reason_cannot_forge_an_access_log_row() {
        // Whatever is stored already (rows from before reasons were
        // checked): the listing shows it escaped, one row per read.
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let child: ChildRef = "nhs:9434765919".parse().unwrap();
        store
            .log_access(&Access {
                at: Timestamp(1_800_000_000),
                who: "mallory\u{1b}[1A".into(),
                via: Via::Http,
                child: Some(child.clone()),
                family: false,
                reason: "x\n2026-11-27T04:00:00Z\tdsl.lead\thttp\tnhs:9434765919\tno\tnhs:9434765919\tsafeguarding review\u{202e}".into(),
                purpose: None,
                children: vec![child],
            })
            .unwrap();
        let out = access_log(&store, false, &AccessFilter::default(), &Zone::default()).unwrap();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            !out.lines().any(|l| l.starts_with("2026-11-27T04:00:00Z")),
            "{out}"
        );
        assert!(out.contains("mallory\\u{1b}[1A\thttp"), "{out}");
        assert!(
            out.contains("x\\u{a}2026-11-27T04:00:00Z\\u{9}dsl.lead"),
            "{out}"
        );
        assert!(out.ends_with("review\\u{202e}\n"), "{out}");
        let json = access_log(&store, true, &AccessFilter::default(), &Zone::default()).unwrap();
        assert!(
            json.chars()
                .all(|c| c == '\n' || hearth_shared::printable::hidden(c).is_none()),
            "{json}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0]["who"], "mallory\u{1b}[1A");
    }

    #[test]
    fn revocation_needs_a_visible_reason_of_ten_characters() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let clock = crate::clock::SystemClock::default();
        let device = DeviceId([7; 8]);
        for bad in ["", "lost", "lost\nforged row here", "tablet \u{202e}tsol"] {
            let e = revoke(&store, &clock, device, bad).unwrap_err();
            assert!(matches!(e, AdminError::Reason(_)), "{bad:?}: {e}");
            assert!(e.to_string().ends_with("(--reason TEXT)"), "{e}");
        }
        // A good reason gets as far as the store, which knows no device.
        assert!(matches!(
            revoke(&store, &clock, device, "tablet lost on the bus"),
            Err(AdminError::UnknownDevice(_))
        ));
    }

    #[test]
    fn enrolment_grants_are_visible_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let clock = crate::clock::SystemClock::default();
        let day = Duration::from_secs(86_400);
        for (agency, worker) in [
            ("HV\nNORTH", "w1"),
            ("HV-NORTH", "w\u{202e}1"),
            ("  ", "w1"),
        ] {
            assert!(issue_enrol_token(&store, &clock, agency, worker, &[], day).is_err());
        }
        assert!(issue_enrol_token(&store, &clock, "HV-NORTH", "hv.jones", &[], day).is_ok());
    }
}
