//! Enums whose values are words: the one way Hearth turns an enum into text
//! and back. [`words!`](crate::words) writes, from one list of variants and
//! their words, `ALL`, `WORDS`, `as_str`, `Display`, `FromStr` (refusing
//! with [`UnknownWord`], which lists the words that are accepted) and serde
//! (the word, in JSON). Record vocabularies add a compact wire form on top
//! (`vocabulary!` in [`crate::kinds::vocabulary`]); the agent's and server's
//! own enums (sync status, roles, output formats, flags, error codes) use
//! `words!` directly, and their command lines offer `WORDS` as the choices.

use core::fmt;

/// A word not in a vocabulary; lists the words that are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownWord {
    /// The accepted words.
    pub choices: &'static [&'static str],
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("is not one of: ")?;
        for (i, c) in self.choices.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(c)?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownWord {}

/// Defines an enum whose values are words: the variants with their words,
/// `ALL` (every value, in order), `WORDS` (every word, in order),
/// `as_str`, `Display`, `FromStr` (error [`UnknownWord`]) and serde as the
/// word. Attributes before `pub enum` (docs, extra derives) and before each
/// variant (docs, serde attributes) are kept.
///
/// ```
/// hearth_shared::words! {
///     /// How a report is printed.
///     pub enum Format {
///         /// A table for a person.
///         Table => "table",
///         /// One JSON document.
///         Json => "json",
///     }
/// }
/// assert_eq!(Format::Json.as_str(), "json");
/// assert_eq!("table".parse::<Format>(), Ok(Format::Table));
/// assert_eq!(Format::WORDS, &["table", "json"]);
/// ```
///
/// The crate using it needs `serde` (with `derive`) among its dependencies.
#[macro_export]
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $word)] $variant, )+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every value's word, in the same order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The value's word.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $word,)+ }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::words::UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
                    .ok_or($crate::words::UnknownWord { choices: Self::WORDS })
            }
        }
    };
}
