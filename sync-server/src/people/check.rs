//! Input checks of the register, pure: dates, names, a person to add;
//! and [`RegisterError`], which names the field at fault. Used by
//! [`super::ops`] and [`super::import`].

use hearth_shared::Timestamp;
use hearth_shared::printable::{Lines, check};

use super::{NewPerson, RegisterRefusal};
use crate::store::StoreError;

/// Why a register operation failed. Displays as `field: message`.
#[derive(Debug)]
#[non_exhaustive]
pub enum RegisterError {
    /// The store refused the change (nothing changed).
    Refused(RegisterRefusal),
    /// The input was wrong.
    BadInput {
        /// The field (CLI option, HTTP field, CSV column) at fault.
        field: &'static str,
        /// What is wrong with it, and the fix.
        message: String,
    },
    /// The store failed (the server's problem).
    Store(StoreError),
}

impl From<StoreError> for RegisterError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl std::fmt::Display for RegisterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field(), self.message())
    }
}

impl std::error::Error for RegisterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Refused(r) => Some(r),
            Self::BadInput { .. } => None,
            Self::Store(e) => Some(e),
        }
    }
}

impl RegisterError {
    /// The field at fault (`store` for a store failure).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Refused(r) => r.field(),
            Self::BadInput { field, .. } => field,
            Self::Store(_) => "store",
        }
    }

    /// What is wrong, without the field.
    pub fn message(&self) -> String {
        match self {
            Self::Refused(r) => r.to_string(),
            Self::BadInput { message, .. } => message.clone(),
            Self::Store(e) => e.to_string(),
        }
    }
}

pub(crate) fn bad(field: &'static str, message: impl Into<String>) -> RegisterError {
    RegisterError::BadInput {
        field,
        message: message.into(),
    }
}

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A date as the CLI, HTTP and CSV give it (`YYYY-MM-DD`), as midnight UTC.
pub fn parse_date(field: &'static str, s: &str) -> Result<Timestamp, RegisterError> {
    let s = s.trim();
    let wrong = || {
        bad(
            field,
            format!("{s:?} is not a date; write YYYY-MM-DD (for example 2026-03-02)"),
        )
    };
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(wrong());
    }
    let (y, m, d) = (s[..4].parse(), s[5..7].parse(), s[8..].parse());
    let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else {
        return Err(wrong());
    };
    let t = Timestamp::from_civil(y, m, d, 0, 0, 0).ok_or_else(wrong)?;
    if !t.in_range() {
        return Err(bad(
            field,
            format!("{s} is outside the years 1900 to 2199; check the date"),
        ));
    }
    Ok(t)
}

/// A name or household name: trimmed, 1 to 100 characters of visible
/// text on one line.
pub fn check_name(field: &'static str, name: &str) -> Result<String, RegisterError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(bad(
            field,
            "is blank; give the name as a worker would say it",
        ));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(bad(
            field,
            format!("is {chars} characters; the limit is {MAX_NAME_CHARS}: shorten it"),
        ));
    }
    check(name, Lines::One).map_err(|found| bad(field, found.to_string()))?;
    Ok(name.to_string())
}

/// Checks a person to add: a child has references and no adult's
/// omissions; an adult has a name alone; a date of birth is not in the
/// future (an unborn child has an expected date instead). Returns it with
/// its name trimmed.
pub fn check_new_person(mut p: NewPerson, now: Timestamp) -> Result<NewPerson, RegisterError> {
    p.name = check_name("name", &p.name)?;
    if p.child {
        if p.refs.is_empty() {
            return Err(bad(
                "ref",
                "a child needs at least one reference (nhs:NUMBER or local:ISSUER:ID)",
            ));
        }
        for (i, r) in p.refs.iter().enumerate() {
            if p.refs[..i].contains(r) {
                return Err(bad("ref", format!("{r} is given twice; give it once")));
            }
        }
    } else {
        let given = [
            ("ref", !p.refs.is_empty()),
            ("dob", p.born.is_some()),
            ("edd", p.expected.is_some()),
            ("sex", p.sex.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, given)| *given) {
            return Err(bad(
                field,
                "the register keeps an adult's name and relationships only; leave it out (or add a child without --adult)",
            ));
        }
    }
    check_dates(p.born, p.expected, now)?;
    Ok(p)
}

pub(super) fn check_dates(
    born: Option<Timestamp>,
    expected: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), RegisterError> {
    if born.is_some() && expected.is_some() {
        return Err(bad(
            "edd",
            "give a date of birth or an expected date of delivery, not both",
        ));
    }
    match born {
        Some(b) if b > now => Err(bad(
            "dob",
            format!(
                "{} is in the future; for an unborn child give --edd",
                b.date()
            ),
        )),
        _ => Ok(()),
    }
}
