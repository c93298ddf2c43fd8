//! One record by id (issue 15: the record behind a chronology line): its
//! chronology line with what the server learnt on arrival, and the signed
//! bytes exactly as received; and the signed bytes of many records at
//! once (the `detail` of every entry of a JSON or CSV chronology). The
//! counterpart of `store/sqlite/record.rs`.

use ::postgres::{Client, IsolationLevel};
use hearth_shared::RecordId;

use super::rows::{LINE_COLUMN_COUNT, LINE_COLUMNS, dev, read_line, seq, time_at};
use crate::store::{StoreError, StoredRecord};

pub(super) fn record(c: &mut Client, id: RecordId) -> Result<Option<StoredRecord>, StoreError> {
    let rows = c.query(
        &format!(
            "SELECT {LINE_COLUMNS}, r.bytes, r.device_time FROM records r
             LEFT JOIN devices d ON d.id = r.device
             WHERE r.device = $1 AND r.seq = $2"
        ),
        &[&dev(id.device), &seq(id.seq)],
    )?;
    rows.first()
        .map(|row| {
            Ok(StoredRecord {
                filed: read_line(row)?,
                bytes: row.try_get(LINE_COLUMN_COUNT)?,
                device_time: time_at(row, LINE_COLUMN_COUNT + 1)?,
            })
        })
        .transpose()
}

pub(super) fn record_bytes(
    c: &mut Client,
    ids: &[RecordId],
) -> Result<Vec<(RecordId, Vec<u8>)>, StoreError> {
    // One snapshot and one prepared statement for every lookup.
    let mut tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let stmt = tx.prepare("SELECT bytes FROM records WHERE device = $1 AND seq = $2")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = tx.query_opt(&stmt, &[&dev(id.device), &seq(id.seq)])? {
            out.push((*id, row.try_get(0)?));
        }
    }
    tx.commit()?;
    Ok(out)
}
