//! Lower-case hex, the text form of every id, key, hash and signature
//! Hearth shows or sends: [`Hex`] writes bytes through `Display` without
//! allocating, and [`parse_hex`] reads a fixed number of bytes back. A leaf
//! module: ids, the protocol and fingerprints all use it.

use core::fmt;

/// Bytes shown as lower-case hex: `format!("{}", Hex(&[0xab, 0x01]))` is
/// `ab01`.
#[derive(Clone, Copy)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Reads exactly `N` bytes from `2 * N` hex digits (either case); `None`
/// for any other length or a character that is not a hex digit.
pub fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_digits_or_lengths() {
        let bytes = [0x00, 0x7f, 0xab, 0xff];
        let text = std::format!("{}", Hex(&bytes));
        assert_eq!(text, "007fabff");
        assert_eq!(parse_hex::<4>(&text), Some(bytes));
        assert_eq!(parse_hex::<4>("007FABFF"), Some(bytes));
        assert_eq!(parse_hex::<4>("007fab"), None);
        assert_eq!(parse_hex::<4>("007fabfg"), None);
        assert_eq!(parse_hex::<1>("+1"), None);
    }
}
