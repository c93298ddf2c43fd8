//! Typed errors: [`DecodeError`] for untrusted bytes, [`ValidationError`]
//! for a record that breaks a rule.
//!
//! Messages name the field, the problem and the fix, for example
//! "voice.words is 1,342 bytes; the limit is 1,024". Both enums are
//! `#[non_exhaustive]` so that new rules are not breaking changes.

use core::fmt;

use crate::ids::DeviceId;
use crate::printable::Found;
pub use crate::thousands::Thousands;

/// Where in a record a rule was broken: a dotted path with an optional list
/// index, written `children[2]` or `present[1].relationship`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The record kind's JSON name, for fields inside a kind ("voice").
    pub kind: Option<&'static str>,
    /// The path. A `[]` in it is where `index` goes.
    pub path: &'static str,
    /// The list index, if the path passes through a list.
    pub index: Option<usize>,
}

impl Field {
    /// A common field, such as `headline`.
    pub const fn common(path: &'static str) -> Self {
        Self {
            kind: None,
            path,
            index: None,
        }
    }

    /// A field of a record kind, such as `voice.words`.
    pub const fn of(kind: &'static str, path: &'static str) -> Self {
        Self {
            kind: Some(kind),
            path,
            index: None,
        }
    }

    /// The same field at list index `index`.
    pub const fn at(self, index: usize) -> Self {
        Self {
            index: Some(index),
            ..self
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(kind) = self.kind {
            write!(f, "{kind}.")?;
        }
        match (self.path.split_once("[]"), self.index) {
            (Some((before, after)), Some(i)) => write!(f, "{before}[{i}]{after}"),
            _ => f.write_str(self.path),
        }
    }
}

/// Why an NHS number is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NhsProblem {
    /// Not exactly ten digits (spaces are allowed in the JSON form).
    NotTenDigits,
    /// The modulus-11 check gives 10, which no valid number has.
    NoValidCheckDigit,
    /// The last digit is not the check digit.
    WrongCheckDigit {
        /// What the check digit should be.
        expected: u8,
        /// What it was.
        found: u8,
    },
}

impl fmt::Display for NhsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotTenDigits => f.write_str("an NHS number has exactly 10 digits"),
            Self::NoValidCheckDigit => {
                f.write_str("no NHS number has these first 9 digits (the check gives 10)")
            }
            Self::WrongCheckDigit { expected, found } => write!(
                f,
                "the check digit should be {expected}, not {found}; check the number was copied correctly"
            ),
        }
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is empty; the text says what to put there.
    Empty(&'static str),
    /// Text longer than its capacity, in bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The capacity in bytes.
        max: usize,
    },
    /// A list longer than its capacity.
    TooMany {
        /// Its number of entries.
        len: usize,
        /// The capacity.
        max: usize,
    },
    /// A number outside its range.
    OutOfRange {
        /// The value given.
        value: i64,
        /// The lowest allowed.
        min: i64,
        /// The highest allowed.
        max: i64,
    },
    /// An invalid NHS number.
    Nhs(NhsProblem),
    /// A local child reference is malformed; the text says how.
    LocalRef(&'static str),
    /// A field contradicts another; the text says which and how to fix it.
    Inconsistent(&'static str),
    /// Text holds a character a reader cannot see (a line break in a
    /// one-line field, a control, a bidirectional override); see
    /// [`crate::printable`].
    Hidden(Found),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty(fix) => write!(f, "is empty; {fix}"),
            Self::TooLong { len, max } => write!(
                f,
                "is {} bytes; the limit is {}",
                Thousands(*len),
                Thousands(*max)
            ),
            Self::TooMany { len, max } => write!(
                f,
                "has {} entries; the limit is {}",
                Thousands(*len),
                Thousands(*max)
            ),
            Self::OutOfRange { value, min, max } => {
                write!(f, "is {value}; it must be from {min} to {max}")
            }
            Self::Nhs(p) => write!(f, "is not a valid NHS number: {p}"),
            Self::LocalRef(why) => write!(f, "is not a valid local reference: {why}"),
            Self::Inconsistent(why) => f.write_str(why),
            Self::Hidden(found) => found.fmt(f),
        }
    }
}

/// A record broke a rule: which field, and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidationError {
    /// The field.
    pub field: Field,
    /// The problem.
    pub problem: Problem,
}

impl ValidationError {
    /// A new error.
    pub const fn new(field: Field, problem: Problem) -> Self {
        Self { field, problem }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

impl core::error::Error for ValidationError {}

/// Untrusted bytes were not a genuine, well-formed record.
///
/// Decoding never panics; every way bytes can be wrong lands here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than the smallest possible signed record.
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// Longer than the largest possible signed record.
    TooLarge {
        /// Bytes received.
        len: usize,
        /// The limit, [`crate::MAX_SIGNED_SIZE`].
        max: usize,
    },
    /// A format version this build does not know.
    UnknownVersion(u8),
    /// The signature does not verify over the bytes received with the
    /// device's key (strictly: no small-order key or `R`): the record was
    /// altered, or signed by another key.
    BadSignature,
    /// The envelope names a different device from the key it was verified
    /// with: a record replayed from another device.
    WrongDevice {
        /// The device whose key verified it.
        expected: DeviceId,
        /// The device the envelope names.
        found: DeviceId,
    },
    /// The bytes are not a postcard envelope; the text says where it broke.
    Malformed(&'static str),
    /// A value outside what the format allows: an unknown enum tag, or text
    /// or a list over its capacity.
    OutOfRange,
    /// Bytes left over after a complete envelope.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A well-formed record that breaks a rule.
    Invalid(ValidationError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => write!(
                f,
                "record is {len} bytes, shorter than any signed record; it was truncated"
            ),
            Self::TooLarge { len, max } => write!(
                f,
                "record is {} bytes; the limit is {}",
                Thousands(*len),
                Thousands(*max)
            ),
            Self::UnknownVersion(v) => write!(
                f,
                "record format version {v} is not known to this build; upgrade the software"
            ),
            Self::BadSignature => f.write_str(
                "signature does not verify with the device's key: the record was altered or signed by another key",
            ),
            Self::WrongDevice { expected, found } => write!(
                f,
                "record names device {found} but was sent by device {expected}; records cannot be replayed from another device"
            ),
            Self::Malformed(why) => write!(f, "record is malformed: {why}"),
            Self::OutOfRange => f.write_str(
                "record holds a value outside the format (an unknown option, or text or a list over its capacity)",
            ),
            Self::TrailingBytes { count } => {
                write!(f, "record has {count} unexpected bytes after its end")
            }
            Self::Invalid(e) => write!(f, "record is invalid: {e}"),
        }
    }
}

impl core::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ValidationError> for DecodeError {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e)
    }
}

impl From<postcard::Error> for DecodeError {
    fn from(e: postcard::Error) -> Self {
        use postcard::Error as P;
        match e {
            P::DeserializeUnexpectedEnd => Self::Malformed("it ends in the middle of a field"),
            P::DeserializeBadVarint => Self::Malformed("a number is badly encoded"),
            P::DeserializeBadBool => Self::Malformed("a yes/no field is neither 0 nor 1"),
            P::DeserializeBadChar | P::DeserializeBadUtf8 => {
                Self::Malformed("text is not valid UTF-8")
            }
            P::DeserializeBadOption => Self::Malformed("an optional field has a bad tag"),
            P::DeserializeBadEnum => Self::OutOfRange,
            P::SerdeDeCustom => Self::OutOfRange,
            _ => Self::Malformed("it is not a postcard envelope"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(Thousands(0).to_string(), "0");
        assert_eq!(Thousands(999).to_string(), "999");
        assert_eq!(Thousands(1_024).to_string(), "1,024");
        assert_eq!(Thousands(1_342).to_string(), "1,342");
        assert_eq!(Thousands(1_234_567).to_string(), "1,234,567");
    }

    #[test]
    fn field_paths_place_the_index() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(Field::of("voice", "words").to_string(), "voice.words");
        assert_eq!(Field::common("children[]").at(2).to_string(), "children[2]");
        assert_eq!(
            Field::of("home_visit", "present[].relationship")
                .at(1)
                .to_string(),
            "home_visit.present[1].relationship"
        );
    }
}
