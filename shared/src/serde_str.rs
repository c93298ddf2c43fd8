//! Deserializing a type from its text form through `FromStr`: how ids,
//! times and child references read their JSON strings. A leaf module, so
//! that [`crate::bounded`], [`crate::ids`], [`crate::time`] and
//! [`crate::child`] can all use it without importing one another.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

/// Deserializes a human-readable string through `T::from_str`. Works for
/// borrowed and transient strings alike (serde_json's `Value` hands out the
/// latter), without allocating.
pub(crate) fn deserialize_from_str<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: core::str::FromStr,
    T::Err: fmt::Display,
{
    struct ParseVisitor<T>(PhantomData<T>);
    impl<T> Visitor<'_> for ParseVisitor<T>
    where
        T: core::str::FromStr,
        T::Err: fmt::Display,
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.parse().map_err(E::custom)
        }
    }
    d.deserialize_str(ParseVisitor(PhantomData))
}
