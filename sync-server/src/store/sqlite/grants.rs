//! Read grants ("breaking the glass") in SQLite (migration 0008).

use hearth_shared::{ChildRef, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{Purpose, ReadGrant, StoreError};

pub(super) fn add_grant(conn: &Connection, g: &ReadGrant) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO read_grants (id, user, child, family, reason, purpose, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            g.id,
            g.user,
            g.child.to_string(),
            g.family,
            g.reason,
            g.purpose.as_str(),
            g.created_at.0,
            g.expires_at.0
        ],
    )?;
    Ok(())
}

pub(super) fn grant(conn: &Connection, id: &str) -> Result<Option<ReadGrant>, StoreError> {
    type Row = (String, String, bool, String, String, i64, i64);
    let row: Option<Row> = conn
        .query_row(
            "SELECT user, child, family, reason, purpose, created_at, expires_at
               FROM read_grants WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            },
        )
        .optional()?;
    row.map(|(user, child, family, reason, purpose, created, expires)| {
        Ok(ReadGrant {
            id: id.to_string(),
            user,
            child: child
                .parse::<ChildRef>()
                .map_err(|_| StoreError::Corrupt("a read grant's child"))?,
            family,
            reason,
            purpose: purpose
                .parse::<Purpose>()
                .map_err(|_| StoreError::Corrupt("a read grant's purpose"))?,
            created_at: Timestamp(created),
            expires_at: Timestamp(expires),
        })
    })
    .transpose()
}
