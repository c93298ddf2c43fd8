//! The web app's accounts in SQLite: passwords, sessions and failed
//! sign-ins (migration 0008). Sessions and failures live in the database,
//! so every server over it sees the same ones.

use hearth_shared::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::admin::user_change;
use crate::store::{Role, StoreError, User, UserChange, WebSession};

fn role(word: &str) -> Result<Role, StoreError> {
    word.parse::<Role>()
        .map_err(|_| StoreError::Corrupt("a user role"))
}

pub(super) fn set_password(
    conn: &Connection,
    name: &str,
    password_hash: &str,
    at: Timestamp,
) -> Result<UserChange, StoreError> {
    let n = conn.execute(
        "UPDATE users SET password_hash = ?2, password_set_at = ?3 WHERE name = ?1 AND revoked_at IS NULL",
        params![name, password_hash, at.0],
    )?;
    if n > 0 {
        end_sessions_of(conn, name)?;
    }
    user_change(conn, name, n)
}

pub(super) fn login_user(
    conn: &Connection,
    name: &str,
) -> Result<Option<(User, Option<String>)>, StoreError> {
    let row: Option<(String, String, Option<String>)> = conn
        .query_row(
            "SELECT name, role, password_hash FROM users WHERE name = ?1 AND revoked_at IS NULL",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(name, r, hash)| {
        Ok((
            User {
                name,
                role: role(&r)?,
            },
            hash,
        ))
    })
    .transpose()
}

pub(super) fn add_session(conn: &Connection, s: &WebSession) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (id_hash, user, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.id_hash, s.user.name, s.csrf, s.created_at.0, s.last_seen.0],
    )?;
    Ok(())
}

pub(super) fn touch_session(
    conn: &Connection,
    id_hash: &str,
    idle_since: Timestamp,
    now: Timestamp,
) -> Result<Option<WebSession>, StoreError> {
    let row: Option<(String, String, String, i64, i64)> = conn
        .query_row(
            "SELECT s.user, u.role, s.csrf, s.created_at, s.last_seen
               FROM sessions s JOIN users u ON u.name = s.user
              WHERE s.id_hash = ?1 AND u.revoked_at IS NULL",
            [id_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((user, r, csrf, created, last_seen)) = row else {
        return Ok(None);
    };
    if last_seen < idle_since.0 {
        end_session(conn, id_hash)?;
        return Ok(None);
    }
    conn.execute(
        "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1 AND last_seen < ?2",
        params![id_hash, now.0],
    )?;
    Ok(Some(WebSession {
        id_hash: id_hash.to_string(),
        user: User {
            name: user,
            role: role(&r)?,
        },
        csrf,
        created_at: Timestamp(created),
        last_seen: Timestamp(last_seen.max(now.0)),
    }))
}

pub(super) fn end_session(conn: &Connection, id_hash: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

pub(super) fn end_sessions_of(conn: &Connection, name: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE user = ?1", [name])?;
    Ok(())
}

pub(super) fn add_login_failure(
    conn: &Connection,
    name: &str,
    peer: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO login_failures (at, name, peer) VALUES (?1, ?2, ?3)",
        params![at.0, name, peer],
    )?;
    // Old failures count for nothing: keep the table small.
    conn.execute("DELETE FROM login_failures WHERE at < ?1", [at.0 - 86_400])?;
    Ok(())
}

pub(super) fn login_failures(
    conn: &Connection,
    name: &str,
    peer: &str,
    since: Timestamp,
) -> Result<(u32, u32), StoreError> {
    let count = |sql: &str, key: &str| -> Result<u32, StoreError> {
        Ok(conn.query_row(sql, params![key, since.0], |r| r.get(0))?)
    };
    Ok((
        count(
            "SELECT COUNT(*) FROM login_failures WHERE name = ?1 AND at >= ?2",
            name,
        )?,
        count(
            "SELECT COUNT(*) FROM login_failures WHERE peer = ?1 AND at >= ?2",
            peer,
        )?,
    ))
}
