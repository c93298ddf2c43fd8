//! One record by id (issue 15: the record behind a chronology line): its
//! chronology line with what the server learnt on arrival, and the signed
//! bytes exactly as received; and the signed bytes of many records at
//! once (the `detail` of every entry of a JSON or CSV chronology). The
//! counterpart of `store/sqlite/record.rs`.

use ::postgres::Client;
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
    // One query for them all (a round trip each would dominate a pull's
    // JSON of 5,000 entries), in the order asked.
    let (devices, seqs): (Vec<Vec<u8>>, Vec<i64>) =
        ids.iter().map(|id| (dev(id.device), seq(id.seq))).unzip();
    let rows = c.query(
        "SELECT r.bytes, k.n FROM unnest($1::bytea[], $2::bigint[]) WITH ORDINALITY AS k(dev, sq, n)
         JOIN records r ON r.device = k.dev AND r.seq = k.sq
         ORDER BY k.n",
        &[&devices, &seqs],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let n: i64 = row.try_get(1)?;
        let id = usize::try_from(n - 1)
            .ok()
            .and_then(|i| ids.get(i))
            .ok_or(StoreError::Corrupt("a record's position"))?;
        out.push((*id, row.try_get(0)?));
    }
    Ok(out)
}
