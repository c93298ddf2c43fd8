//! Partnerships (tenancy, issue 18): which safeguarding partnership a
//! server instance or command serves. Every device, user, record, person,
//! family link and access-log row belongs to one partnership.
//!
//! * SQLite: a data directory holds one partnership, [`Partnership::DEFAULT`]
//!   (nothing to configure).
//! * PostgreSQL: each partnership's tables live in the schema
//!   [`Partnership::schema`], and an instance started with
//!   `--partnership NAME` connects to that schema alone
//!   (`store::postgres::pool`). A request can therefore never reach another
//!   partnership's rows, whatever route or command it comes through.

use std::fmt;

/// A partnership's name: 1 to 40 of `a-z`, `0-9` and `_`, starting with a
/// letter (it becomes part of a schema name, so nothing else is allowed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partnership(String);

/// Why a partnership name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--partnership {0:?}: a partnership is 1 to 40 lower-case letters, digits and underscores, starting with a letter (such as north_yorkshire)"
)]
pub struct BadPartnership(pub String);

impl Partnership {
    /// The one partnership of a deployment that names none.
    pub const DEFAULT: &'static str = "default";

    /// Checks `name`.
    pub fn new(name: &str) -> Result<Self, BadPartnership> {
        let ok = (1..=40).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(name.to_string()))
        } else {
            Err(BadPartnership(name.to_string()))
        }
    }

    /// The default partnership.
    pub fn default_one() -> Self {
        Self(Self::DEFAULT.to_string())
    }

    /// Its name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is the default partnership.
    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }

    /// The PostgreSQL schema its tables live in: `hearth_<name>` (safe to
    /// put in SQL unquoted: the name was checked).
    pub fn schema(&self) -> String {
        format!("hearth_{}", self.0)
    }
}

impl fmt::Display for Partnership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(
            Partnership::new("north_yorks2").unwrap().schema(),
            "hearth_north_yorks2"
        );
        for bad in [
            "",
            "North",
            "1north",
            "a-b",
            "a b",
            "a;drop",
            &"a".repeat(41),
        ] {
            assert!(Partnership::new(bad).is_err(), "{bad:?}");
        }
    }
}
