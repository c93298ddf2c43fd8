//! Identifiers: [`DeviceId`], [`Seq`], [`RecordId`], [`RecordHash`], and the
//! bounded names [`AgencyCode`] and [`WorkerId`].
//!
//! Newtypes, never bare integers or strings, so that a sequence number
//! cannot be passed where a device is meant. In JSON, byte ids are lower-case
//! hex; on the wire they are raw bytes.

use core::fmt;
use core::str::FromStr;

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::bounded::Text;

/// An agency's code, such as `HV-NORTH` or `NURSERY-12`: at most 16 bytes.
pub type AgencyCode = Text<16>;

/// A worker's identifier within their agency: at most 32 bytes.
pub type WorkerId = Text<32>;

/// The error from parsing an id's text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseIdError(&'static str);

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl core::error::Error for ParseIdError {}

/// Defines a fixed-size byte id shown as hex.
macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $len:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", $crate::hex::Hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "("))?;
                write!(f, "{}", $crate::hex::Hex(&self.0))?;
                f.write_str(")")
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                $crate::hex::parse_hex::<$len>(s).map(Self).ok_or(ParseIdError(concat!(
                    "a ", $what, " is ", stringify!($len), " bytes written as ",
                    stringify!($len), "×2 hex digits"
                )))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.collect_str(self)
                } else {
                    self.0.serialize(s)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    crate::serde_str::deserialize_from_str(d)
                } else {
                    <[u8; $len]>::deserialize(d).map(Self)
                }
            }
        }

        impl MaxSize for $name {
            const POSTCARD_MAX_SIZE: usize = $len;
        }
    };
}

hex_id!(
    /// A device: the first 8 bytes of SHA-256 of its ed25519 public key.
    ///
    /// Derived, not assigned, so a record names its signer's key without
    /// carrying all 32 bytes; the server refuses to enrol a second key with
    /// the same id.
    DeviceId,
    8,
    "device id"
);

hex_id!(
    /// The chain hash of a record: SHA-256 over a domain prefix and the
    /// envelope bytes (see [`crate::signed`]).
    RecordHash,
    32,
    "record hash"
);

impl DeviceId {
    /// The id of the device whose public key is `public_key`.
    pub fn from_public_key(public_key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(public_key);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self(id)
    }
}

impl RecordHash {
    /// The `prev` of a device's first record.
    pub const GENESIS: Self = Self([0u8; 32]);
}

/// A per-device sequence number. The first record is 1; each next record
/// adds 1, so a gap or a repeat is visible.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, MaxSize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// The first record's number.
    pub const FIRST: Self = Self(1);

    /// The number after this one.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A record's identity: the device that signed it and its sequence number,
/// written `3f9a2c1d7e4b8a01-42`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, MaxSize)]
pub struct RecordId {
    /// The signing device.
    pub device: DeviceId,
    /// Its sequence number on that device.
    pub seq: Seq,
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.device, self.seq)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

impl FromStr for RecordId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, ParseIdError> {
        const WHAT: &str = "a record id is the device id, a dash and the sequence number, like 3f9a2c1d7e4b8a01-42";
        let (device, seq) = s.split_once('-').ok_or(ParseIdError(WHAT))?;
        let device = device.parse().map_err(|_| ParseIdError(WHAT))?;
        let seq = seq.parse::<u64>().map_err(|_| ParseIdError(WHAT))?;
        if seq == 0 {
            return Err(ParseIdError(WHAT));
        }
        Ok(Self {
            device,
            seq: Seq(seq),
        })
    }
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            (self.device, self.seq).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            crate::serde_str::deserialize_from_str(d)
        } else {
            let (device, seq) = <(DeviceId, Seq)>::deserialize(d)?;
            Ok(Self { device, seq })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn record_id_round_trips_through_text() {
        let id = RecordId {
            device: DeviceId([0x3f, 0x9a, 0x2c, 0x1d, 0x7e, 0x4b, 0x8a, 0x01]),
            seq: Seq(42),
        };
        assert_eq!(id.to_string(), "3f9a2c1d7e4b8a01-42");
        assert_eq!("3f9a2c1d7e4b8a01-42".parse::<RecordId>(), Ok(id));
        assert!("3f9a2c1d7e4b8a01".parse::<RecordId>().is_err());
        assert!("3f9a2c1d7e4b8a0z-1".parse::<RecordId>().is_err());
        assert!("3f9a2c1d7e4b8a01-0".parse::<RecordId>().is_err());
    }
}
