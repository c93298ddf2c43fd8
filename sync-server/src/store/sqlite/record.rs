//! One record by id (issue 15: the record behind a chronology line): its
//! chronology line with what the server learnt on arrival, and the signed
//! bytes exactly as received; and the signed bytes of many records at
//! once (the `detail` of every entry of a JSON or CSV chronology).

use hearth_shared::{RecordId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{LINE_COLUMNS, dev, read_line};
use crate::store::{StoreError, StoredRecord};

pub(super) fn record(conn: &Connection, id: RecordId) -> Result<Option<StoredRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LINE_COLUMNS}, r.bytes, r.device_time FROM records r
         LEFT JOIN devices d ON d.id = r.device
         WHERE r.device = ?1 AND r.seq = ?2"
    ))?;
    let row = stmt
        .query_row(params![dev(id.device), id.seq.0 as i64], |row| {
            // The line is read below, outside rusqlite's error type.
            Ok((
                row.get::<_, Vec<u8>>(17)?,
                row.get::<_, i64>(18)?,
                read_line(row),
            ))
        })
        .optional()?;
    row.map(|(bytes, device_time, filed)| {
        Ok(StoredRecord {
            filed: filed?,
            bytes,
            device_time: Timestamp(device_time),
        })
    })
    .transpose()
}

pub(super) fn record_bytes(
    conn: &Connection,
    ids: &[RecordId],
) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError> {
    // One read transaction for every lookup (see `reads::records_for`).
    let tx = conn.unchecked_transaction()?;
    let mut stmt = tx.prepare_cached("SELECT bytes FROM records WHERE device = ?1 AND seq = ?2")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let bytes: Option<Vec<u8>> = stmt
            .query_row(params![dev(id.device), id.seq.0 as i64], |r| r.get(0))
            .optional()?;
        if let Some(b) = bytes {
            out.push((*id, b));
        }
    }
    drop(stmt);
    tx.finish()?;
    Ok(out)
}
