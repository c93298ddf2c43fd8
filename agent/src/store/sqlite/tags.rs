//! The `records.child_tags` column: each child a record names as a keyed
//! blind-index tag ([`Sealer::child_tag`]), each once, concatenated
//! (migration 0005). Pure: no SQL here.

use hearth_shared::ChildRef;

use crate::seal::{CHILD_TAG_LEN, Sealer};

/// `records.child_tags` for a record naming `children`: their keyed
/// blind-index tags, each once, concatenated; `None` for no children.
pub(super) fn child_tags_column(sealer: &Sealer, children: &[ChildRef]) -> Option<Vec<u8>> {
    let mut column: Vec<u8> = Vec::with_capacity(children.len() * CHILD_TAG_LEN);
    for child in children {
        let tag = sealer.child_tag(child);
        if !names_tag(&column, &tag) {
            column.extend_from_slice(&tag);
        }
    }
    (!column.is_empty()).then_some(column)
}

/// Whether two `records.child_tags` values hold the same tags, in any
/// order (capture writes them in the record's order, migration 0005 in
/// byte order).
pub(super) fn same_tags(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && sorted_tags(a) == sorted_tags(b)
}

fn sorted_tags(column: &[u8]) -> Vec<&[u8]> {
    let mut tags: Vec<&[u8]> = column.chunks(CHILD_TAG_LEN).collect();
    tags.sort_unstable();
    tags
}

/// Whether a `records.child_tags` value holds `tag` at a tag boundary.
pub(super) fn names_tag(column: &[u8], tag: &[u8; CHILD_TAG_LEN]) -> bool {
    column
        .chunks_exact(CHILD_TAG_LEN)
        .any(|t| t == tag.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::DataKey;

    #[test]
    fn tags_compare_as_sets() {
        let (a, b) = ([1u8; CHILD_TAG_LEN], [2u8; CHILD_TAG_LEN]);
        let ab = [a, b].concat();
        let ba = [b, a].concat();
        assert!(same_tags(&ab, &ba));
        assert!(same_tags(&[], &[]));
        assert!(!same_tags(&ab, &a));
        assert!(!same_tags(&a, &b));
        let mut flipped = ab.clone();
        flipped[0] ^= 1;
        assert!(!same_tags(&flipped, &ba));
    }

    #[test]
    fn a_tag_counts_only_at_a_tag_boundary() {
        let tag = [0xabu8; CHILD_TAG_LEN];
        let mut column = vec![0u8; 8];
        column.extend_from_slice(&tag);
        column.extend_from_slice(&[0u8; 8]);
        assert!(!names_tag(&column, &tag), "straddling two tags");
        assert!(names_tag(&column[8..24], &tag));
        let mut two = [1u8; CHILD_TAG_LEN].to_vec();
        two.extend_from_slice(&tag);
        assert!(names_tag(&two, &tag));
        assert!(!names_tag(&two[..31], &tag), "a torn tag");
        let s = Sealer::new(&DataKey::from_bytes([5u8; 32]));
        let a: ChildRef = "nhs:9434765919".parse().unwrap();
        let once = child_tags_column(&s, &[a.clone(), a.clone()]).unwrap();
        assert_eq!(once, s.child_tag(&a), "each child once");
        assert_eq!(child_tags_column(&s, &[]), None);
    }
}
