//! Child references: [`ChildRef`] and [`NhsNumber`].
//!
//! The review found that Child V's family moved between local authorities
//! and agencies did not share one identifier. A reference is the NHS number
//! where it is known, because it works across every authority and agency;
//! otherwise a local or partnership reference together with its issuer, so
//! two councils' "C1234" never collide.
//!
//! JSON form: `nhs:9434765919` (spaces allowed: `nhs:943 476 5919`) or
//! `local:<issuer>:<id>`. On the wire: a tag, then the number as a varint or
//! the issuer and id as text.

use core::fmt;
use core::str::FromStr;

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bounded::Text;
use crate::error::{NhsProblem, Problem};

/// The issuer of a local reference, such as `LA-LEEDS`: at most 16 bytes.
pub type Issuer = Text<16>;

/// A local reference's id within its issuer: at most 24 bytes.
pub type LocalId = Text<24>;

/// A 10-digit NHS number whose last digit is a valid modulus-11 check digit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NhsNumber(u64);

impl NhsNumber {
    /// Checks `n` and wraps it.
    pub fn new(n: u64) -> Result<Self, NhsProblem> {
        check_nhs(n)?;
        Ok(Self(n))
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The modulus-11 check: weights 10 down to 2 over the first nine digits;
/// 11 minus the remainder is the check digit, where 11 means 0 and 10 means
/// the number cannot be valid.
pub fn check_nhs(n: u64) -> Result<(), NhsProblem> {
    if n >= 10_000_000_000 {
        return Err(NhsProblem::NotTenDigits);
    }
    let mut digits = [0u8; 10];
    let mut rest = n;
    for d in digits.iter_mut().rev() {
        *d = (rest % 10) as u8;
        rest /= 10;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    let expected = match 11 - sum % 11 {
        11 => 0,
        10 => return Err(NhsProblem::NoValidCheckDigit),
        c => c as u8,
    };
    if digits[9] == expected {
        Ok(())
    } else {
        Err(NhsProblem::WrongCheckDigit {
            expected,
            found: digits[9],
        })
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:010}", self.0)
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NhsNumber({:010})", self.0)
    }
}

/// The child a record concerns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildRef {
    /// An NHS number.
    Nhs(NhsNumber),
    /// A partnership or local authority reference, with who issued it.
    Local {
        /// The issuing organisation's code.
        issuer: Issuer,
        /// The reference within that issuer.
        id: LocalId,
    },
}

impl ChildRef {
    /// Checks what the wire format cannot: the NHS check digit, and that a
    /// local reference's parts are present and printable.
    pub fn check(&self) -> Result<(), Problem> {
        match self {
            Self::Nhs(n) => check_nhs(n.0).map_err(Problem::Nhs),
            Self::Local { issuer, id } => {
                if issuer.is_empty() {
                    return Err(Problem::LocalRef(
                        "the issuer is empty; write local:<issuer>:<id>",
                    ));
                }
                if !issuer
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
                {
                    return Err(Problem::LocalRef(
                        "the issuer may hold only letters, digits, '-', '_' and '.'",
                    ));
                }
                if id.is_empty() {
                    return Err(Problem::LocalRef(
                        "the id is empty; write local:<issuer>:<id>",
                    ));
                }
                if id.chars().any(|c| crate::printable::hidden(c).is_some()) {
                    return Err(Problem::LocalRef(
                        "the id holds a control or invisible character; remove it",
                    ));
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nhs(n) => write!(f, "nhs:{n}"),
            Self::Local { issuer, id } => write!(f, "local:{issuer}:{id}"),
        }
    }
}

impl FromStr for ChildRef {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Self, Problem> {
        if let Some(number) = s.strip_prefix("nhs:") {
            let mut n: u64 = 0;
            let mut count = 0;
            for c in number.chars().filter(|c| *c != ' ') {
                let d = c
                    .to_digit(10)
                    .ok_or(Problem::Nhs(NhsProblem::NotTenDigits))?;
                count += 1;
                if count > 10 {
                    return Err(Problem::Nhs(NhsProblem::NotTenDigits));
                }
                n = n * 10 + u64::from(d);
            }
            if count != 10 {
                return Err(Problem::Nhs(NhsProblem::NotTenDigits));
            }
            return NhsNumber::new(n).map(Self::Nhs).map_err(Problem::Nhs);
        }
        if let Some(rest) = s.strip_prefix("local:") {
            let (issuer, id) = rest.split_once(':').ok_or(Problem::LocalRef(
                "write local:<issuer>:<id>, with a colon after the issuer",
            ))?;
            let issuer = Text::try_from_str(issuer).map_err(|_| {
                Problem::LocalRef("the issuer is longer than its limit of 16 bytes")
            })?;
            let id = Text::try_from_str(id)
                .map_err(|_| Problem::LocalRef("the id is longer than its limit of 24 bytes"))?;
            let child = Self::Local { issuer, id };
            child.check()?;
            return Ok(child);
        }
        Err(Problem::LocalRef(
            "a child reference starts nhs: (an NHS number) or local: (local:<issuer>:<id>)",
        ))
    }
}

/// The wire form, derived so that postcard writes a tag then the fields.
#[derive(Serialize, Deserialize, MaxSize)]
enum Wire {
    Nhs(u64),
    Local { issuer: Issuer, id: LocalId },
}

impl Serialize for ChildRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return s.collect_str(self);
        }
        match self {
            Self::Nhs(n) => Wire::Nhs(n.0),
            Self::Local { issuer, id } => Wire::Local {
                issuer: issuer.clone(),
                id: id.clone(),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ChildRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            return crate::serde_str::deserialize_from_str(d);
        }
        // The check digit is not checked here but by `Body::validate`, which
        // every decode runs, so that a bad number is a typed error.
        Ok(match Wire::deserialize(d)? {
            Wire::Nhs(n) => Self::Nhs(NhsNumber(n)),
            Wire::Local { issuer, id } => Self::Local { issuer, id },
        })
    }
}

impl MaxSize for ChildRef {
    const POSTCARD_MAX_SIZE: usize = Wire::POSTCARD_MAX_SIZE;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_good_nhs_numbers_pass() {
        for n in [9_434_765_919, 4_010_232_137, 9_990_548_609] {
            assert_eq!(check_nhs(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn a_wrong_check_digit_says_what_it_should_be() {
        assert_eq!(
            check_nhs(9_434_765_918),
            Err(NhsProblem::WrongCheckDigit {
                expected: 9,
                found: 8
            })
        );
    }

    #[test]
    fn remainder_ten_has_no_valid_number() {
        // 1,2,3,4,5,6,7,8,9 weighted 10..2 sums to 210; 210 % 11 = 1 → 10.
        assert_eq!(check_nhs(1_234_567_890), Err(NhsProblem::NoValidCheckDigit));
    }

    #[test]
    fn text_forms_parse_and_print() {
        let c: ChildRef = "nhs:943 476 5919".parse().unwrap();
        assert_eq!(c.to_string(), "nhs:9434765919");
        let l: ChildRef = "local:LA-LEEDS:C1234".parse().unwrap();
        assert_eq!(l.to_string(), "local:LA-LEEDS:C1234");
        assert_eq!(
            "nhs:12345".parse::<ChildRef>(),
            Err(Problem::Nhs(NhsProblem::NotTenDigits))
        );
        assert!(matches!(
            "local:LA-LEEDS".parse::<ChildRef>(),
            Err(Problem::LocalRef(_))
        ));
        assert!(matches!(
            "local::C1".parse::<ChildRef>(),
            Err(Problem::LocalRef(_))
        ));
        assert!(matches!(
            "C1234".parse::<ChildRef>(),
            Err(Problem::LocalRef(_))
        ));
    }
}
