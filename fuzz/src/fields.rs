//! `record_fields`' structure: a valid envelope's postcard bytes cut into
//! its fields, so that one field can be corrupted and the rest kept.
//!
//! Postcard writes a struct as its fields one after another, with no
//! framing, so encoding each field alone gives the exact byte span it
//! occupies in the envelope; [`spans`] checks that the spans join to the
//! envelope's bytes. [`corrupt`] then rewrites one span, either with a
//! value of the field's own wire type (an out-of-range seq, a headline with
//! control characters, a child list of nine, a detail of another kind) so
//! that decoding succeeds and the rules are exercised, or with raw byte
//! damage (flip, cut, extend, replace) so that the decoder is.

use arbitrary::{Result, Unstructured};
use hearth_shared::Envelope;
use serde::Serialize;

/// The envelope's fields in wire order (the body's flattened into it).
pub const FIELDS: [&str; 11] = [
    "version",
    "device",
    "seq",
    "prev",
    "device_time",
    "children",
    "occurred_at",
    "author",
    "agency",
    "headline",
    "detail",
];

fn enc<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("a field encodes")
}

/// Each field's bytes, in wire order; they join to the envelope's bytes.
pub fn spans(e: &Envelope) -> Vec<Vec<u8>> {
    let b = &e.body;
    let out = vec![
        enc(&e.version),
        enc(&e.device),
        enc(&e.seq),
        enc(&e.prev),
        enc(&e.device_time),
        enc(&b.children),
        enc(&b.occurred_at),
        enc(&b.author),
        enc(&b.agency),
        enc(&b.headline),
        enc(&b.detail),
    ];
    assert_eq!(
        out.concat(),
        enc(e),
        "field spans do not join to the envelope"
    );
    out
}

/// A string the fuzzer chose, sometimes salted with what the rules refuse
/// (line breaks, control, bidi and zero-width characters).
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    let mut s: String = u.arbitrary()?;
    if u.ratio(1, 4)? {
        let salt = u.choose(&["\n", "\r", "\u{1b}[31m", "\u{202e}", "\u{200b}", "\0", " "])?;
        let at = (0..=s.len())
            .filter(|&i| s.is_char_boundary(i))
            .nth(u.choose_index(s.chars().count() + 1)?)
            .unwrap_or(0);
        s.insert_str(at, salt);
    }
    Ok(s)
}

/// A child list of the wire's form: up to nine, NHS numbers or local
/// references.
fn children(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let n = u.int_in_range(0..=9usize)?;
    let mut out = enc(&n);
    for _ in 0..n {
        if u.arbitrary()? {
            let nhs = *u.choose(&[9_434_765_919u64, 4_010_232_137, 9_434_765_918])?;
            let nhs = if u.arbitrary()? { u.arbitrary()? } else { nhs };
            out.extend(enc(&(0u32, nhs)));
        } else {
            out.extend(enc(&(1u32, text(u)?, text(u)?)));
        }
    }
    Ok(out)
}

/// A value of the field's own wire type.
fn typed(
    u: &mut Unstructured<'_>,
    field: usize,
    spans: &[Vec<u8>],
    others: &[Envelope],
) -> Result<Vec<u8>> {
    Ok(match FIELDS[field] {
        "version" => enc(&u.arbitrary::<u8>()?),
        "device" => enc(&u.arbitrary::<[u8; 8]>()?),
        "seq" => enc(&u.arbitrary::<u64>()?),
        "prev" => enc(&u.arbitrary::<[u8; 32]>()?),
        "device_time" | "occurred_at" => enc(&u.arbitrary::<i64>()?),
        "children" => children(u)?,
        "author" | "agency" | "headline" => enc(text(u)?.as_str()),
        // Another kind's detail (its version may then not match), or this
        // detail under another variant tag.
        _ => {
            if u.arbitrary()? {
                enc(&u.choose(others)?.body.detail)
            } else {
                let tag_len = enc(&0u32).len().min(spans[field].len());
                let mut out = enc(&u.int_in_range(0..=12u32)?);
                out.extend_from_slice(&spans[field][tag_len..]);
                out
            }
        }
    })
}

/// Raw damage to `bytes`.
fn damaged(u: &mut Unstructured<'_>, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = bytes.to_vec();
    match u.int_in_range(0..=3u8)? {
        0 if !out.is_empty() => {
            let i = u.choose_index(out.len())?;
            out[i] ^= u.int_in_range(1..=255u8)?;
        }
        1 => out.truncate(u.choose_index(out.len() + 1)?),
        2 => {
            let extra: Vec<u8> = u.arbitrary()?;
            let at = u.choose_index(out.len() + 1)?;
            out.splice(at..at, extra);
        }
        _ => out = u.arbitrary()?,
    }
    Ok(out)
}

/// One field of `base` corrupted: the envelope bytes and the field's name.
pub fn corrupt(
    u: &mut Unstructured<'_>,
    base: &Envelope,
    others: &[Envelope],
) -> Result<(Vec<u8>, &'static str)> {
    let mut parts = spans(base);
    let field = u.choose_index(FIELDS.len())?;
    parts[field] = if u.ratio(2, 3)? {
        typed(u, field, &parts, others)?
    } else {
        damaged(u, &parts[field])?
    };
    Ok((parts.concat(), FIELDS[field]))
}
