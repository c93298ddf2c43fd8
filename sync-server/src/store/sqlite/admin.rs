//! Administration over SQLite: devices (enrolment tokens, enrolment,
//! staff lists, revocation), users and their tokens, and the
//! administrators' family links and their history. Each function takes the
//! connection; [`super::SqliteStore`]'s [`Store`](crate::store::Store)
//! methods call them.

use hearth_shared::{DeviceId, Timestamp};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::rows::{DEVICE_COLUMNS, STAFF_SEPARATOR, dev, parse_child, read_device};
use crate::links::pair;
use crate::store::{
    Device, EnrolRefusal, FamilyChange, Grant, Revocation, Role, StoreError, User, UserChange,
    UserEntry,
};

pub(super) fn device(conn: &Connection, id: DeviceId) -> Result<Option<Device>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([dev(id)])?;
    match rows.next()? {
        Some(row) => Ok(Some(read_device(conn, row)?)),
        None => Ok(None),
    }
}

pub(super) fn devices(conn: &Connection) -> Result<Vec<Device>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY enrolled_at, id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_device(conn, row)?);
    }
    Ok(out)
}

pub(super) fn set_staff(
    conn: &Connection,
    device: DeviceId,
    member: &str,
    on: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
        [dev(device)],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(false);
    }
    if on {
        conn.execute(
            "INSERT INTO device_staff (device, member, added_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (device, member) DO UPDATE
             SET removed_at = NULL, added_at = excluded.added_at
             WHERE removed_at IS NOT NULL",
            params![dev(device), member, at.0],
        )?;
    } else {
        conn.execute(
            "UPDATE device_staff SET removed_at = ?3
             WHERE device = ?1 AND member = ?2 AND removed_at IS NULL",
            params![dev(device), member, at.0],
        )?;
    }
    Ok(true)
}

pub(super) fn revoke(
    conn: &Connection,
    id: DeviceId,
    reason: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    // A first revocation stands: a second keeps its time and reason.
    conn.execute(
        "UPDATE devices SET revoked_at = ?2, revoked_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL",
        params![dev(id), at.0, reason],
    )?;
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM devices WHERE id = ?1",
            params![dev(id)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(exists.is_some())
}

pub(super) fn add_enrol_token(
    conn: &Connection,
    hash: &str,
    grant: &Grant,
    created: Timestamp,
    expires: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO enrol_tokens (token_hash, agency, worker, created_at, expires_at, staff) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            hash,
            grant.agency,
            grant.worker,
            created.0,
            expires.0,
            grant.staff.join(&STAFF_SEPARATOR.to_string())
        ],
    )?;
    Ok(())
}

pub(super) fn enrol(
    conn: &Connection,
    token_hash: &str,
    device: DeviceId,
    public_key: [u8; 32],
    now: Timestamp,
) -> Result<Result<Grant, EnrolRefusal>, StoreError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let token: Option<(String, String, i64, Option<i64>, String)> = tx
        .query_row(
            "SELECT agency, worker, expires_at, used_at, staff FROM enrol_tokens WHERE token_hash = ?1",
            [token_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((agency, worker, expires, used, staff)) = token else {
        return Ok(Err(EnrolRefusal::UnknownToken));
    };
    if let Some(used) = used {
        return Ok(Err(EnrolRefusal::Used(Timestamp(used))));
    }
    if expires <= now.0 {
        return Ok(Err(EnrolRefusal::Expired(Timestamp(expires))));
    }
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
        [dev(device)],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(Err(EnrolRefusal::DeviceExists));
    }
    tx.execute(
        "UPDATE enrol_tokens SET used_at = ?2, used_by = ?3 WHERE token_hash = ?1",
        params![token_hash, now.0, device.to_string()],
    )?;
    tx.execute(
        "INSERT INTO devices (id, public_key, agency, worker, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![dev(device), public_key.as_slice(), agency, worker, now.0],
    )?;
    let staff: Vec<String> = staff
        .split(STAFF_SEPARATOR)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    for member in &staff {
        tx.execute(
            "INSERT OR IGNORE INTO device_staff (device, member, added_at) VALUES (?1, ?2, ?3)",
            params![dev(device), member, now.0],
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
    conn: &Connection,
    name: &str,
    role: Role,
    token_hash: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO users (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, role.as_str(), token_hash, now.0],
    )?;
    Ok(n > 0)
}

pub(super) fn user_by_token(
    conn: &Connection,
    token_hash: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT name, role FROM users WHERE token_hash = ?1 AND revoked_at IS NULL",
            [token_hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(name, role)| {
        Ok(User {
            name,
            role: role
                .parse::<Role>()
                .map_err(|_| StoreError::Corrupt("a user role"))?,
        })
    })
    .transpose()
}

pub(super) fn users(conn: &Connection) -> Result<Vec<UserEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT name, role, created_at, revoked_at, revoked_reason, password_set_at FROM users ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<i64>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<i64>>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (name, role, created, revoked_at, reason, password_set_at) = row?;
        Ok(UserEntry {
            user: User {
                name,
                role: role
                    .parse::<Role>()
                    .map_err(|_| StoreError::Corrupt("a user role"))?,
            },
            created_at: Timestamp(created),
            revoked: revoked_at.map(|at| Revocation {
                at: Timestamp(at),
                reason: reason.unwrap_or_default(),
            }),
            password_set_at: password_set_at.map(Timestamp),
        })
    })
    .collect()
}

pub(super) fn revoke_user(
    conn: &Connection,
    name: &str,
    reason: &str,
    at: Timestamp,
) -> Result<UserChange, StoreError> {
    let n = conn.execute(
        "UPDATE users SET revoked_at = ?2, revoked_reason = ?3 WHERE name = ?1 AND revoked_at IS NULL",
        params![name, at.0, reason],
    )?;
    // Their browsers are signed out at once.
    conn.execute("DELETE FROM sessions WHERE user = ?1", [name])?;
    user_change(conn, name, n)
}

pub(super) fn replace_user_token(
    conn: &Connection,
    name: &str,
    token_hash: &str,
) -> Result<UserChange, StoreError> {
    let n = conn.execute(
        "UPDATE users SET token_hash = ?2 WHERE name = ?1 AND revoked_at IS NULL",
        params![name, token_hash],
    )?;
    user_change(conn, name, n)
}

/// What an update of `changed` rows to user `name` did.
pub(super) fn user_change(
    conn: &Connection,
    name: &str,
    changed: usize,
) -> Result<UserChange, StoreError> {
    if changed > 0 {
        return Ok(UserChange::Done);
    }
    let revoked: Option<Option<i64>> = conn
        .query_row(
            "SELECT revoked_at FROM users WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match revoked {
        None => UserChange::NoSuchUser,
        Some(at) => UserChange::Revoked(Timestamp(at.unwrap_or_default())),
    })
}

pub(super) fn change_family(conn: &Connection, c: &FamilyChange) -> Result<(), StoreError> {
    let (a, b) = pair(&c.a, &c.b);
    let (a, b) = (a.to_string(), b.to_string());
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if c.linked {
        tx.execute(
            "DELETE FROM family_unlinks WHERE child_a = ?1 AND child_b = ?2",
            params![a, b],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO family_links (child_a, child_b, linked_at) VALUES (?1, ?2, ?3)",
            params![a, b, c.at.0],
        )?;
    } else {
        tx.execute(
            "DELETE FROM family_links WHERE child_a = ?1 AND child_b = ?2",
            params![a, b],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO family_unlinks (child_a, child_b, unlinked_at) VALUES (?1, ?2, ?3)",
            params![a, b, c.at.0],
        )?;
    }
    tx.execute(
        "INSERT INTO family_link_history (at, action, child_a, child_b, who, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            c.at.0,
            if c.linked { "link" } else { "unlink" },
            a,
            b,
            c.who,
            c.reason
        ],
    )?;
    // Both children's families changed: their signals are stale.
    super::signals::mark_stale(&tx, &format!("{a}{}{b}", super::rows::CHILD_SEPARATOR))?;
    tx.commit()?;
    Ok(())
}

pub(super) fn family_history(conn: &Connection) -> Result<Vec<FamilyChange>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT at, action, child_a, child_b, who, reason FROM family_link_history ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(FamilyChange {
            at: Timestamp(r.get(0)?),
            linked: r.get::<_, String>(1)? == "link",
            a: parse_child(&r.get::<_, String>(2)?)?,
            b: parse_child(&r.get::<_, String>(3)?)?,
            who: r.get(4)?,
            reason: r.get(5)?,
        });
    }
    Ok(out)
}
