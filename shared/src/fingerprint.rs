//! [`Fingerprint`]: the SHA-256 of a server's TLS certificate, written
//! `sha256:<64 hex digits>`. It is a contract between the two sides: the
//! server prints it when it starts, an administrator reads it out, and the
//! agent pins it at enrolment (`--pin`). One type, so that both sides print
//! and parse it the same way.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use crate::hex::{Hex, parse_hex};

/// A SHA-256 certificate fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    /// `sha256:<64 lower-case hex>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", Hex(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Text that is not a SHA-256 fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadFingerprint;

impl fmt::Display for BadFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "is not a SHA-256 fingerprint; give it as the server prints it, sha256:<64 hex digits>",
        )
    }
}

impl core::error::Error for BadFingerprint {}

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    /// Accepts `sha256:<64 hex>` (the prefix in either case), bare hex, and
    /// colon-separated hex as other tools print it; hex in either case.
    fn from_str(s: &str) -> Result<Self, BadFingerprint> {
        let t = s.trim();
        let t = t
            .strip_prefix("sha256:")
            .or_else(|| t.strip_prefix("SHA256:"))
            .unwrap_or(t);
        // Drop the colons into a fixed buffer: no allocation.
        let mut digits = [0u8; 64];
        let mut len = 0;
        for b in t.bytes().filter(|b| *b != b':') {
            *digits.get_mut(len).ok_or(BadFingerprint)? = b;
            len += 1;
        }
        let digits = core::str::from_utf8(&digits[..len]).map_err(|_| BadFingerprint)?;
        parse_hex::<32>(digits).map(Self).ok_or(BadFingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_every_form_an_administrator_may_paste() {
        let fp = Fingerprint::of(b"a certificate");
        let shown = std::format!("{fp}");
        assert!(
            shown.starts_with("sha256:") && shown.len() == 7 + 64,
            "{shown}"
        );
        assert_eq!(shown.parse::<Fingerprint>(), Ok(fp));
        assert_eq!(shown[7..].parse::<Fingerprint>(), Ok(fp));
        assert_eq!(shown.to_uppercase().parse::<Fingerprint>(), Ok(fp));
        let colons: std::string::String = shown.as_bytes()[7..]
            .chunks(2)
            .map(|c| core::str::from_utf8(c).unwrap())
            .collect::<std::vec::Vec<_>>()
            .join(":");
        assert_eq!(colons.parse::<Fingerprint>(), Ok(fp));
        assert_eq!(std::format!("{fp:?}"), std::format!("Fingerprint({shown})"));
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "sha256:",
            "sha256:abc",
            "md5:00",
            &"0".repeat(66),
            &"g".repeat(64),
        ] {
            assert_eq!(bad.parse::<Fingerprint>(), Err(BadFingerprint), "{bad:?}");
        }
    }
}
