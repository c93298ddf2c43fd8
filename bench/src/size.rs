//! Figure 1: signed record bytes against the agent's own JSON
//! ([`hearth_shared::json::body_to_json`], minified, unsigned) for every
//! observation of the [`crate::corpus`].

use ed25519_dalek::SigningKey;
use hearth_shared::json::body_to_json;
use hearth_shared::{
    Body, DeviceId, Envelope, FORMAT_VERSION, RecordHash, Seq, SignedRecord, Timestamp,
};

/// The sizes of one observation.
#[derive(Debug, Clone)]
pub struct Sized {
    /// Its kind.
    pub kind: String,
    /// Signed record bytes.
    pub signed: usize,
    /// Minified JSON bytes.
    pub json: usize,
    /// The floor: free-text bytes plus the 104 bytes every record must carry
    /// (64 signature, 32 chain hash, 8 device id).
    pub floor: usize,
    /// The floor if the free text were entropy-coded at the corpus's own
    /// order-0 byte entropy (the best any per-character text coder, such as
    /// a static Huffman code, can do): what compressing text could reach.
    pub coded_floor: usize,
}

impl Sized {
    /// signed / json.
    pub fn ratio(&self) -> f64 {
        self.signed as f64 / self.json as f64
    }
}

/// Per-kind (and overall) medians.
#[derive(Debug, Clone)]
pub struct KindRow {
    /// The kind, or `all`.
    pub kind: String,
    /// How many records.
    pub count: usize,
    /// Median signed bytes.
    pub signed: f64,
    /// Median JSON bytes.
    pub json: f64,
    /// Median of the per-record ratios.
    pub ratio: f64,
    /// Median of the per-record floor / JSON ratios: the best any encoding
    /// that keeps text uncompressed, the signature and the chain hash can do.
    pub floor_ratio: f64,
    /// Median of the per-record coded floor / JSON ratios.
    pub coded_floor_ratio: f64,
}

/// Bytes every signed record carries whatever its content: signature (64),
/// chain hash (32), device id (8).
pub const FIXED_BYTES: usize = 64 + 32 + 8;

/// The fixed key the size figure signs with (sizes do not depend on it).
pub fn bench_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The envelope of `body` as record `seq` of the bench key's device.
pub fn envelope(key: &SigningKey, seq: u64, prev: RecordHash, body: Body) -> Envelope {
    Envelope {
        version: FORMAT_VERSION,
        device: DeviceId::from_public_key(key.verifying_key().as_bytes()),
        seq: Seq(seq),
        prev,
        device_time: Timestamp(1_795_700_000 + seq as i64 * 60),
        body,
    }
}

/// Order-0 entropy of the bytes of `texts`, in bits per byte.
pub fn entropy_bits<'a>(texts: impl Iterator<Item = &'a str>) -> f64 {
    let mut counts = [0u64; 256];
    for t in texts {
        for b in t.bytes() {
            counts[usize::from(b)] += 1;
        }
    }
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

/// Signs the corpus as one chain and measures every record.
pub fn measure(corpus: &[crate::corpus::Sample]) -> Vec<Sized> {
    let bits = entropy_bits(corpus.iter().map(|s| s.text.as_str()));
    let key = bench_key();
    let mut prev = RecordHash::GENESIS;
    corpus
        .iter()
        .enumerate()
        .map(|(i, sample)| {
            let (kind, body) = (&sample.kind, &sample.body);
            let json = serde_json::to_string(&body_to_json(body))
                .expect("JSON")
                .len();
            let signed =
                SignedRecord::sign(&key, &envelope(&key, i as u64 + 1, prev, body.clone()))
                    .expect("corpus records are valid");
            prev = signed.hash();
            Sized {
                kind: kind.clone(),
                signed: signed.as_bytes().len(),
                json,
                floor: sample.text_bytes + FIXED_BYTES,
                coded_floor: (sample.text_bytes as f64 * bits / 8.0).ceil() as usize + FIXED_BYTES,
            }
        })
        .collect()
}

/// The median of `v` (mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn row(kind: &str, items: &[&Sized]) -> KindRow {
    KindRow {
        kind: kind.to_string(),
        count: items.len(),
        signed: median(items.iter().map(|s| s.signed as f64).collect()),
        json: median(items.iter().map(|s| s.json as f64).collect()),
        ratio: median(items.iter().map(|s| s.ratio()).collect()),
        floor_ratio: median(
            items
                .iter()
                .map(|s| s.floor as f64 / s.json as f64)
                .collect(),
        ),
        coded_floor_ratio: median(
            items
                .iter()
                .map(|s| s.coded_floor as f64 / s.json as f64)
                .collect(),
        ),
    }
}

/// One row per kind, then `structured` (the three structured kinds
/// together) and `all`.
pub fn summarise(sizes: &[Sized]) -> Vec<KindRow> {
    let mut rows: Vec<KindRow> = crate::corpus::KINDS
        .iter()
        .map(|k| {
            row(
                k,
                &sizes.iter().filter(|s| s.kind == *k).collect::<Vec<_>>(),
            )
        })
        .collect();
    let structured: Vec<&Sized> = sizes
        .iter()
        .filter(|s| crate::corpus::STRUCTURED.contains(&s.kind.as_str()))
        .collect();
    rows.push(row("structured", &structured));
    rows.push(row("all", &sizes.iter().collect::<Vec<_>>()));
    rows
}

/// The per-kind table as text.
pub fn render(rows: &[KindRow]) -> String {
    let mut out = String::from(
        "kind                 | records | median signed B | median JSON B | median ratio | median floor ratio | floor, text entropy-coded\n\
         ---------------------+---------+-----------------+---------------+--------------+--------------------+--------------------------\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:<20} | {:>7} | {:>15.0} | {:>13.0} | {:>12.3} | {:>18.3} | {:>25.3}\n",
            r.kind, r.count, r.signed, r.json, r.ratio, r.floor_ratio, r.coded_floor_ratio
        ));
    }
    out
}
