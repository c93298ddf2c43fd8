//! Administration over PostgreSQL (the counterpart of
//! `store/sqlite/admin.rs`, with the same behaviour): devices (enrolment
//! tokens, enrolment, staff lists, revocation), users and their tokens,
//! and the administrators' family links and their history.
//!
//! Where SQLite relies on `BEGIN IMMEDIATE` (one writer at a time) to make
//! a read-then-write atomic, several instances need a lock of their own:
//! [`enrol`] reads the token `FOR UPDATE`, so two instances given the
//! same token serialise on its row and the second sees it used;
//! [`change_family`] takes a self-conflicting lock on the family history,
//! so changes are applied (and numbered) one at a time, as in SQLite.

use ::postgres::{Client, GenericClient, Row};
use hearth_shared::{DeviceId, Seq, Timestamp};

use super::rows::{CHILD_SEPARATOR, parse_child, parse_dev, staff_of};
use crate::clock::ClockState;
use crate::links::pair;
use crate::store::sqlite::rows::STAFF_SEPARATOR;
use crate::store::{
    Device, EnrolRefusal, FamilyChange, Grant, Revocation, Role, StoreError, User, UserChange,
    UserEntry,
};

/// The columns [`read_device`] reads, in its order.
const DEVICE_COLUMNS: &str = "id, public_key, agency, worker, enrolled_at, last_seen, clock_offset, last_clock_report, revoked_at, revoked_reason";

/// A device from a row of [`DEVICE_COLUMNS`], with its gaps and staff.
fn read_device(c: &mut Client, row: &Row) -> Result<Device, StoreError> {
    let id = parse_dev(row.try_get(0)?)?;
    let key: &[u8] = row.try_get(1)?;
    let revoked_at: Option<i64> = row.try_get(8)?;
    let revoked_reason: Option<String> = row.try_get(9)?;
    let d: &[u8] = &id.0;
    let gaps = c
        .query(
            "SELECT from_seq, to_seq FROM gaps WHERE device = $1 ORDER BY from_seq",
            &[&d],
        )?
        .iter()
        .map(|r| {
            Ok((
                Seq(r.try_get::<_, i64>(0)? as u64),
                Seq(r.try_get::<_, i64>(1)? as u64),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Device {
        id,
        public_key: key
            .try_into()
            .map_err(|_| StoreError::Corrupt("a device key"))?,
        agency: row.try_get(2)?,
        worker: row.try_get(3)?,
        staff: {
            // In code point order, as SQLite's, whatever the locale.
            let mut staff = staff_of(c, id)?;
            staff.sort();
            staff
        },
        enrolled_at: Timestamp(row.try_get(4)?),
        last_seen: row.try_get::<_, Option<i64>>(5)?.map(Timestamp),
        clock: ClockState {
            offset: row.try_get(6)?,
            last_report: row.try_get::<_, Option<i64>>(7)?.map(Timestamp),
        },
        revoked: revoked_at.map(|at| Revocation {
            at: Timestamp(at),
            reason: revoked_reason.unwrap_or_default(),
        }),
        gaps,
    })
}

pub(super) fn device(c: &mut Client, id: DeviceId) -> Result<Option<Device>, StoreError> {
    let d: &[u8] = &id.0;
    let row = c.query_opt(
        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1"),
        &[&d],
    )?;
    row.map(|row| read_device(c, &row)).transpose()
}

pub(super) fn devices(c: &mut Client) -> Result<Vec<Device>, StoreError> {
    let rows = c.query(
        &format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY enrolled_at, id"),
        &[],
    )?;
    rows.iter().map(|row| read_device(c, row)).collect()
}

pub(super) fn set_staff(
    c: &mut Client,
    device: DeviceId,
    member: &str,
    on: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let d: &[u8] = &device.0;
    let mut tx = c.transaction()?;
    // KEY SHARE: the device stays while its staff changes. It waits at
    // most for an ingest transaction of this device (which holds the row
    // as its chain lock) and cannot deadlock with one: ingest takes no
    // lock on `device_staff`.
    if tx
        .query_opt("SELECT 1 FROM devices WHERE id = $1 FOR KEY SHARE", &[&d])?
        .is_none()
    {
        return Ok(false);
    }
    if on {
        tx.execute(
            "INSERT INTO device_staff (device, member, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (device, member) DO UPDATE
             SET removed_at = NULL, added_at = excluded.added_at
             WHERE device_staff.removed_at IS NOT NULL",
            &[&d, &member, &at.0],
        )?;
    } else {
        tx.execute(
            "UPDATE device_staff SET removed_at = $3
             WHERE device = $1 AND member = $2 AND removed_at IS NULL",
            &[&d, &member, &at.0],
        )?;
    }
    tx.commit()?;
    Ok(true)
}

pub(super) fn revoke(
    c: &mut Client,
    id: DeviceId,
    reason: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let d: &[u8] = &id.0;
    // A first revocation stands: a second keeps its time and reason.
    c.execute(
        "UPDATE devices SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
        &[&d, &at.0, &reason],
    )?;
    Ok(c.query_opt("SELECT 1 FROM devices WHERE id = $1", &[&d])?
        .is_some())
}

pub(super) fn add_enrol_token(
    c: &mut Client,
    hash: &str,
    grant: &Grant,
    created: Timestamp,
    expires: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO enrol_tokens (token_hash, agency, worker, created_at, expires_at, staff)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &hash,
            &grant.agency,
            &grant.worker,
            &created.0,
            &expires.0,
            &grant.staff.join(&STAFF_SEPARATOR.to_string()),
        ],
    )?;
    Ok(())
}

/// Spends the token `token_hash` on enrolling `device`, in one
/// transaction. The token's row is read `FOR UPDATE`: a second
/// enrolment with the same token, on any instance, waits for the first
/// to commit and then reads the token as used.
pub(super) fn enrol(
    c: &mut Client,
    token_hash: &str,
    device: DeviceId,
    public_key: [u8; 32],
    now: Timestamp,
) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
    let d: &[u8] = &device.0;
    let mut tx = c.transaction()?;
    let Some(token) = tx.query_opt(
        "SELECT agency, worker, expires_at, used_at, staff FROM enrol_tokens
         WHERE token_hash = $1 FOR UPDATE",
        &[&token_hash],
    )?
    else {
        return Ok(Err(EnrolRefusal::UnknownToken));
    };
    let (agency, worker): (String, String) = (token.try_get(0)?, token.try_get(1)?);
    let (expires, used): (i64, Option<i64>) = (token.try_get(2)?, token.try_get(3)?);
    if let Some(used) = used {
        return Ok(Err(EnrolRefusal::Used(Timestamp(used))));
    }
    if expires <= now.0 {
        return Ok(Err(EnrolRefusal::Expired(Timestamp(expires))));
    }
    // A device enrolled meanwhile by another token (on another instance)
    // is a conflict here, not an error: nothing is inserted and the
    // transaction rolls back, leaving this token unspent.
    let key: &[u8] = &public_key;
    let inserted = tx.execute(
        "INSERT INTO devices (id, public_key, agency, worker, enrolled_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        &[&d, &key, &agency, &worker, &now.0],
    )?;
    if inserted == 0 {
        return Ok(Err(EnrolRefusal::DeviceExists));
    }
    tx.execute(
        "UPDATE enrol_tokens SET used_at = $2, used_by = $3 WHERE token_hash = $1",
        &[&token_hash, &now.0, &device.to_string()],
    )?;
    let staff: Vec<String> = token
        .try_get::<_, &str>(4)?
        .split(STAFF_SEPARATOR)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    for member in &staff {
        tx.execute(
            "INSERT INTO device_staff (device, member, added_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&d, member, &now.0],
        )?;
    }
    tx.commit()?;
    Ok(Ok(Grant {
        agency,
        worker,
        staff,
    }))
}

pub(super) fn add_user(
    c: &mut Client,
    name: &str,
    role: Role,
    token_hash: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "INSERT INTO users (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&name, &role.as_str(), &token_hash, &now.0],
    )?;
    Ok(n > 0)
}

/// A stored role.
pub(super) fn role(word: &str) -> Result<Role, StoreError> {
    word.parse::<Role>()
        .map_err(|_| StoreError::Corrupt("a user role"))
}

pub(super) fn user_by_token(c: &mut Client, token_hash: &str) -> Result<Option<User>, StoreError> {
    let row = c.query_opt(
        "SELECT name, role FROM users WHERE token_hash = $1 AND revoked_at IS NULL",
        &[&token_hash],
    )?;
    row.map(|r| {
        Ok(User {
            name: r.try_get(0)?,
            role: role(r.try_get(1)?)?,
        })
    })
    .transpose()
}

pub(super) fn users(c: &mut Client) -> Result<Vec<UserEntry>, StoreError> {
    let rows = c.query(
        "SELECT name, role, created_at, revoked_at, revoked_reason, password_set_at
         FROM users ORDER BY name COLLATE \"C\"",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let revoked_at: Option<i64> = r.try_get(3)?;
            let reason: Option<String> = r.try_get(4)?;
            Ok(UserEntry {
                user: User {
                    name: r.try_get(0)?,
                    role: role(r.try_get(1)?)?,
                },
                created_at: Timestamp(r.try_get(2)?),
                revoked: revoked_at.map(|at| Revocation {
                    at: Timestamp(at),
                    reason: reason.unwrap_or_default(),
                }),
                password_set_at: r.try_get::<_, Option<i64>>(5)?.map(Timestamp),
            })
        })
        .collect()
}

pub(super) fn revoke_user(
    c: &mut Client,
    name: &str,
    reason: &str,
    at: Timestamp,
) -> Result<UserChange, StoreError> {
    let mut tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE users SET revoked_at = $2, revoked_reason = $3 WHERE name = $1 AND revoked_at IS NULL",
        &[&name, &at.0, &reason],
    )?;
    // Their browsers are signed out at once.
    tx.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])?;
    let change = user_change(&mut tx, name, n)?;
    tx.commit()?;
    Ok(change)
}

pub(super) fn replace_user_token(
    c: &mut Client,
    name: &str,
    token_hash: &str,
) -> Result<UserChange, StoreError> {
    let n = c.execute(
        "UPDATE users SET token_hash = $2 WHERE name = $1 AND revoked_at IS NULL",
        &[&name, &token_hash],
    )?;
    user_change(c, name, n)
}

/// What an update of `changed` rows to user `name` did.
pub(super) fn user_change(
    c: &mut impl GenericClient,
    name: &str,
    changed: u64,
) -> Result<UserChange, StoreError> {
    if changed > 0 {
        return Ok(UserChange::Done);
    }
    let row = c.query_opt("SELECT revoked_at FROM users WHERE name = $1", &[&name])?;
    Ok(match row {
        None => UserChange::NoSuchUser,
        Some(r) => UserChange::Revoked(Timestamp(
            r.try_get::<_, Option<i64>>(0)?.unwrap_or_default(),
        )),
    })
}

/// Links or unlinks two children's families and writes the history, in
/// one transaction; both children's signals go stale. The history table
/// is locked against other changes first (SHARE ROW EXCLUSIVE conflicts
/// with itself, not with readers), so concurrent changes to one pair
/// cannot leave it both linked and unlinked, and the history's order is
/// the order the changes were applied in.
pub(super) fn change_family(c: &mut Client, change: &FamilyChange) -> Result<(), StoreError> {
    let (a, b) = pair(&change.a, &change.b);
    let (a, b) = (a.to_string(), b.to_string());
    let mut tx = c.transaction()?;
    tx.batch_execute("LOCK TABLE family_link_history IN SHARE ROW EXCLUSIVE MODE")?;
    let (remove_from, add_to, at_column) = if change.linked {
        ("family_unlinks", "family_links", "linked_at")
    } else {
        ("family_links", "family_unlinks", "unlinked_at")
    };
    tx.execute(
        &format!("DELETE FROM {remove_from} WHERE child_a = $1 AND child_b = $2"),
        &[&a, &b],
    )?;
    tx.execute(
        &format!(
            "INSERT INTO {add_to} (child_a, child_b, {at_column}) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING"
        ),
        &[&a, &b, &change.at.0],
    )?;
    tx.execute(
        "INSERT INTO family_link_history (at, action, child_a, child_b, who, reason)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &change.at.0,
            &if change.linked { "link" } else { "unlink" },
            &a,
            &b,
            &change.who,
            &change.reason,
        ],
    )?;
    // Both children's families changed: their signals are stale.
    super::signals::mark_stale(&mut tx, &format!("{a}{CHILD_SEPARATOR}{b}"))?;
    tx.commit()?;
    Ok(())
}

pub(super) fn family_history(c: &mut Client) -> Result<Vec<FamilyChange>, StoreError> {
    let rows = c.query(
        "SELECT at, action, child_a, child_b, who, reason FROM family_link_history ORDER BY id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(FamilyChange {
                at: Timestamp(r.try_get(0)?),
                linked: r.try_get::<_, &str>(1)? == "link",
                a: parse_child(r.try_get(2)?)?,
                b: parse_child(r.try_get(3)?)?,
                who: r.try_get(4)?,
                reason: r.try_get(5)?,
            })
        })
        .collect()
}
