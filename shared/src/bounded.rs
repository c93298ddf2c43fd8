//! Fixed-capacity text and lists: [`Text`] and [`List`].
//!
//! Every string and list in a record has a capacity that is part of the wire
//! format (`docs/wire-format.md`). Capacities are what give each record a
//! worst-case encoded size known at compile time, so a device with no
//! allocator can encode and verify into a fixed buffer.
//!
//! Both types wrap [`heapless`] collections. Their serde impls enforce the
//! capacity while decoding: postcard reports an over-capacity value as a
//! decoding error, and the JSON form reports it with the field's name and
//! the limit, "is 1,342 bytes; the limit is 1,024".

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use postcard::experimental::max_size::MaxSize;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::thousands::Thousands;

/// Bytes a LEB128 varint of `n` takes, as postcard writes lengths.
pub(crate) const fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// A value did not fit its capacity. Returned by the fallible constructors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCapacity {
    /// The length that was offered: bytes for text, entries for lists.
    pub len: usize,
    /// The capacity.
    pub max: usize,
}

/// UTF-8 text of at most `N` bytes.
///
/// Capacities are in bytes, not characters, because bytes are what the
/// buffer must hold; a message says so ("is 1,342 bytes").
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const N: usize>(heapless::String<N>);

impl<const N: usize> Text<N> {
    /// The capacity in bytes.
    pub const CAPACITY: usize = N;

    /// Empty text.
    pub const fn new() -> Self {
        Self(heapless::String::new())
    }

    /// Text from `s`, or [`OverCapacity`] if it is longer than `N` bytes.
    pub fn try_from_str(s: &str) -> Result<Self, OverCapacity> {
        let mut out = heapless::String::new();
        out.push_str(s).map_err(|_| OverCapacity {
            len: s.len(),
            max: N,
        })?;
        Ok(Self(out))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl<const N: usize> Deref for Text<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> TryFrom<&str> for Text<N> {
    type Error = OverCapacity;
    fn try_from(s: &str) -> Result<Self, OverCapacity> {
        Self::try_from_str(s)
    }
}

impl<const N: usize> Serialize for Text<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

struct TextVisitor<const N: usize>;

impl<const N: usize> Visitor<'_> for TextVisitor<N> {
    type Value = Text<N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "text of at most {} bytes", Thousands(N))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<N>, E> {
        Text::try_from_str(v).map_err(|e| {
            E::custom(format_args!(
                "is {} bytes; the limit is {}",
                Thousands(e.len),
                Thousands(e.max)
            ))
        })
    }
}

impl<'de, const N: usize> Deserialize<'de> for Text<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor::<N>)
    }
}

impl<const N: usize> MaxSize for Text<N> {
    const POSTCARD_MAX_SIZE: usize = varint_len(N) + N;
}

/// A list of at most `N` entries.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct List<T, const N: usize>(heapless::Vec<T, N>);

impl<T, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self(heapless::Vec::new())
    }
}

impl<T, const N: usize> List<T, N> {
    /// The capacity in entries.
    pub const CAPACITY: usize = N;

    /// An empty list.
    pub const fn new() -> Self {
        Self(heapless::Vec::new())
    }

    /// Appends `value`, or hands it back if the list is full.
    pub fn push(&mut self, value: T) -> Result<(), T> {
        self.0.push(value)
    }

    /// The entries.
    pub fn as_slice(&self) -> &[T] {
        self.0.as_slice()
    }
}

impl<T: Clone, const N: usize> List<T, N> {
    /// A list holding a copy of `items`, or [`OverCapacity`].
    pub fn try_from_slice(items: &[T]) -> Result<Self, OverCapacity> {
        heapless::Vec::from_slice(items)
            .map(Self)
            .map_err(|_| OverCapacity {
                len: items.len(),
                max: N,
            })
    }
}

impl<T, const N: usize> Deref for List<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for List<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Serialize, const N: usize> Serialize for List<T, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for item in self.iter() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

struct ListVisitor<T, const N: usize>(PhantomData<T>);

fn too_many<E: de::Error>(len: usize, max: usize) -> E {
    E::custom(format_args!(
        "has {} entries; the limit is {}",
        Thousands(len),
        Thousands(max)
    ))
}

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for ListVisitor<T, N> {
    type Value = List<T, N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {} entries", Thousands(N))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T, N>, A::Error> {
        // postcard knows the length up front: refuse before reading entries.
        if let Some(len) = seq.size_hint()
            && len > N
        {
            return Err(too_many(len, N));
        }
        let mut out = heapless::Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            if out.push(item).is_err() {
                // JSON does not say the length; count the rest for the message.
                let mut len = N + 1;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {
                    len += 1;
                }
                return Err(too_many(len, N));
            }
        }
        Ok(List(out))
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for List<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ListVisitor::<T, N>(PhantomData))
    }
}

impl<T: MaxSize, const N: usize> MaxSize for List<T, N> {
    const POSTCARD_MAX_SIZE: usize = varint_len(N) + N * T::POSTCARD_MAX_SIZE;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths_match_leb128() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(16_383), 2);
        assert_eq!(varint_len(16_384), 3);
    }

    #[test]
    fn text_over_capacity_is_refused_with_its_length() {
        assert_eq!(
            Text::<4>::try_from_str("hello"),
            Err(OverCapacity { len: 5, max: 4 })
        );
        assert_eq!(Text::<5>::try_from_str("hello").unwrap().as_str(), "hello");
    }

    #[test]
    fn list_over_capacity_is_refused() {
        assert_eq!(
            List::<u8, 2>::try_from_slice(&[1, 2, 3]),
            Err(OverCapacity { len: 3, max: 2 })
        );
    }

    #[test]
    fn postcard_refuses_text_longer_than_capacity() {
        let long: Text<8> = Text::try_from_str("12345678").unwrap();
        let mut buf = [0u8; 16];
        let bytes = postcard::to_slice(&long, &mut buf).unwrap();
        assert!(postcard::from_bytes::<Text<7>>(bytes).is_err());
        assert_eq!(postcard::from_bytes::<Text<8>>(bytes).unwrap(), long);
    }

    #[test]
    fn postcard_refuses_list_longer_than_capacity() {
        let list: List<u8, 3> = List::try_from_slice(&[1, 2, 3]).unwrap();
        let mut buf = [0u8; 8];
        let bytes = postcard::to_slice(&list, &mut buf).unwrap();
        assert!(postcard::from_bytes::<List<u8, 2>>(bytes).is_err());
    }
}
