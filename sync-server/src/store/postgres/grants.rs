//! Read grants ("breaking the glass") in PostgreSQL (the counterpart of
//! `store/sqlite/grants.rs`, with the same behaviour).

use ::postgres::Client;
use hearth_shared::{ChildRef, Timestamp};

use crate::store::{Purpose, ReadGrant, StoreError};

pub(super) fn add_grant(c: &mut Client, g: &ReadGrant) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO read_grants (id, user_name, child, family, reason, purpose, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &g.id,
            &g.user,
            &g.child.to_string(),
            &g.family,
            &g.reason,
            &g.purpose.as_str(),
            &g.created_at.0,
            &g.expires_at.0,
        ],
    )?;
    Ok(())
}

pub(super) fn grant(c: &mut Client, id: &str) -> Result<Option<ReadGrant>, StoreError> {
    let row = c.query_opt(
        "SELECT user_name, child, family, reason, purpose, created_at, expires_at
           FROM read_grants WHERE id = $1",
        &[&id],
    )?;
    row.map(|r| {
        Ok(ReadGrant {
            id: id.to_string(),
            user: r.try_get(0)?,
            child: r
                .try_get::<_, &str>(1)?
                .parse::<ChildRef>()
                .map_err(|_| StoreError::Corrupt("a read grant's child"))?,
            family: r.try_get(2)?,
            reason: r.try_get(3)?,
            purpose: r
                .try_get::<_, &str>(4)?
                .parse::<Purpose>()
                .map_err(|_| StoreError::Corrupt("a read grant's purpose"))?,
            created_at: Timestamp(r.try_get(5)?),
            expires_at: Timestamp(r.try_get(6)?),
        })
    })
    .transpose()
}
