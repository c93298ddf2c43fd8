//! The web app's accounts in PostgreSQL (the counterpart of
//! `store/sqlite/web.rs`, with the same behaviour): passwords, sessions
//! and failed sign-ins. They live in the database, so every instance over
//! it sees the same ones: an instance keeps no session of its own.

use ::postgres::Client;
use hearth_shared::Timestamp;

use super::admin::{role, user_change};
use crate::store::{StoreError, User, UserChange, WebSession};

/// Sets `name`'s password and signs out their browsers, in one
/// transaction.
pub(super) fn set_password(
    c: &mut Client,
    name: &str,
    password_hash: &str,
    at: Timestamp,
) -> Result<UserChange, StoreError> {
    let mut tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE users SET password_hash = $2, password_set_at = $3
         WHERE name = $1 AND revoked_at IS NULL",
        &[&name, &password_hash, &at.0],
    )?;
    if n > 0 {
        tx.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])?;
    }
    let change = user_change(&mut tx, name, n)?;
    tx.commit()?;
    Ok(change)
}

pub(super) fn login_user(
    c: &mut Client,
    name: &str,
) -> Result<Option<(User, Option<String>)>, StoreError> {
    let row = c.query_opt(
        "SELECT name, role, password_hash FROM users WHERE name = $1 AND revoked_at IS NULL",
        &[&name],
    )?;
    row.map(|r| {
        Ok((
            User {
                name: r.try_get(0)?,
                role: role(r.try_get(1)?)?,
            },
            r.try_get(2)?,
        ))
    })
    .transpose()
}

pub(super) fn add_session(c: &mut Client, s: &WebSession) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO sessions (id_hash, user_name, csrf, created_at, last_seen)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &s.id_hash,
            &s.user.name,
            &s.csrf,
            &s.created_at.0,
            &s.last_seen.0,
        ],
    )?;
    Ok(())
}

pub(super) fn touch_session(
    c: &mut Client,
    id_hash: &str,
    idle_since: Timestamp,
    now: Timestamp,
) -> Result<Option<WebSession>, StoreError> {
    let Some(row) = c.query_opt(
        "SELECT s.user_name, u.role, s.csrf, s.created_at, s.last_seen
           FROM sessions s JOIN users u ON u.name = s.user_name
          WHERE s.id_hash = $1 AND u.revoked_at IS NULL",
        &[&id_hash],
    )?
    else {
        return Ok(None);
    };
    let last_seen: i64 = row.try_get(4)?;
    if last_seen < idle_since.0 {
        end_session(c, id_hash)?;
        return Ok(None);
    }
    c.execute(
        "UPDATE sessions SET last_seen = $2 WHERE id_hash = $1 AND last_seen < $2",
        &[&id_hash, &now.0],
    )?;
    Ok(Some(WebSession {
        id_hash: id_hash.to_string(),
        user: User {
            name: row.try_get(0)?,
            role: role(row.try_get(1)?)?,
        },
        csrf: row.try_get(2)?,
        created_at: Timestamp(row.try_get(3)?),
        last_seen: Timestamp(last_seen.max(now.0)),
    }))
}

pub(super) fn end_session(c: &mut Client, id_hash: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash])?;
    Ok(())
}

pub(super) fn end_sessions_of(c: &mut Client, name: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])?;
    Ok(())
}

pub(super) fn add_login_failure(
    c: &mut Client,
    name: &str,
    peer: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO login_failures (at, name, peer) VALUES ($1, $2, $3)",
        &[&at.0, &name, &peer],
    )?;
    // Old failures count for nothing: keep the table small.
    c.execute(
        "DELETE FROM login_failures WHERE at < $1",
        &[&(at.0 - 86_400)],
    )?;
    Ok(())
}

/// Failed sign-ins since `since`: as `name` (any address), and from
/// `peer` (any name).
pub(super) fn login_failures(
    c: &mut Client,
    name: &str,
    peer: &str,
    since: Timestamp,
) -> Result<(u32, u32), StoreError> {
    let row = c.query_one(
        "SELECT (SELECT COUNT(*) FROM login_failures WHERE name = $1 AND at >= $3),
                (SELECT COUNT(*) FROM login_failures WHERE peer = $2 AND at >= $3)",
        &[&name, &peer, &since.0],
    )?;
    let count = |i: usize| -> Result<u32, StoreError> {
        Ok(u32::try_from(row.try_get::<_, i64>(i)?).unwrap_or(u32::MAX))
    };
    Ok((count(0)?, count(1)?))
}
