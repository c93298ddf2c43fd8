//! The rules a record must satisfy beyond its types: [`Validate`].
//!
//! Capacities are enforced by the types themselves ([`crate::Text`],
//! [`crate::List`]). What remains is checked here: required fields, numeric
//! ranges, NHS check digits, and fields that must agree with each other (a
//! "no access" visit cannot have seen the child), and that text holds
//! nothing a reader cannot see ([`crate::printable`]: one-line fields no
//! line breaks, narratives no hidden character but `\n` and tab). Every
//! decode of untrusted bytes and every JSON parse runs these checks, so a
//! record that exists as a [`crate::VerifiedRecord`] has passed them.

use crate::error::{Field, Problem, ValidationError};
use crate::printable::{Lines, check};

/// A value that can check its own rules.
pub trait Validate {
    /// `Ok` if every rule holds, or the first one broken.
    fn validate(&self) -> Result<(), ValidationError>;
}

/// `Err` naming `field` if `text` is empty or only white space.
pub(crate) fn require(field: Field, text: &str, fix: &'static str) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        Err(ValidationError::new(field, Problem::Empty(fix)))
    } else {
        Ok(())
    }
}

/// `Err` naming `field` if `text` holds a line break or any other
/// character a reader cannot see: for headlines, names, codes and reasons.
pub(crate) fn one_line(field: Field, text: &str) -> Result<(), ValidationError> {
    check(text, Lines::One).map_err(|found| ValidationError::new(field, Problem::Hidden(found)))
}

/// `Err` naming `field` if narrative `text` holds a hidden character other
/// than a line break (`\n`) or a tab.
pub(crate) fn narrative(field: Field, text: &str) -> Result<(), ValidationError> {
    check(text, Lines::Many).map_err(|found| ValidationError::new(field, Problem::Hidden(found)))
}

/// `Err` naming `field` unless `min <= value <= max`.
pub(crate) fn in_range(
    field: Field,
    value: i64,
    min: i64,
    max: i64,
) -> Result<(), ValidationError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            Problem::OutOfRange { value, min, max },
        ))
    }
}

/// `Err` naming `field` with `why` unless `ok`.
pub(crate) fn ensure(ok: bool, field: Field, why: &'static str) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(field, Problem::Inconsistent(why)))
    }
}

/// `Err` naming the second occurrence if `key` repeats within `items`.
pub(crate) fn unique<T, K: PartialEq>(
    items: &[T],
    key: impl Fn(&T) -> K,
    field: Field,
    why: &'static str,
) -> Result<(), ValidationError> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].iter().any(|earlier| key(earlier) == key(item)) {
            return Err(ValidationError::new(
                field.at(i),
                Problem::Inconsistent(why),
            ));
        }
    }
    Ok(())
}
