//! Controlled vocabularies shared by several kinds: who was present
//! ([`PersonRole`], [`PersonPresent`]), care domains ([`CareDomain`]) and the
//! 1–5 [`Grade`].
//!
//! Each vocabulary is an enum whose JSON form is a snake_case word and whose
//! wire form is the variant's index; [`vocabulary!`] writes both, and the
//! `ALL` list the CLI offers as choices.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use crate::bounded::Text;
use crate::error::{Field, Problem, ValidationError};

/// Defines a vocabulary enum: [`words!`](crate::words) (the JSON words,
/// `as_str`, `ALL`, `WORDS`, `FromStr`, `Display`) plus `MaxSize`. Wire
/// form: the variant index (serde's derive under postcard). Appending a
/// variant is compatible; reordering is a new format version.
#[macro_export]
#[doc(hidden)]
macro_rules! vocabulary {
    (
        $(#[$doc:meta])*
        pub enum $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident => $word:literal, )+
        }
    ) => {
        $crate::words! {
            $(#[$doc])*
            #[derive(postcard::experimental::max_size::MaxSize)]
            pub enum $name {
                $( $(#[$vdoc])* $variant => $word, )+
            }
        }
    };
}

vocabulary! {
    /// A person's role in the child's household. Fathers and male carers are
    /// first-class: the review found them left out of assessments.
    pub enum PersonRole {
        /// The child's mother.
        Mother => "mother",
        /// The child's father.
        Father => "father",
        /// A male carer, or the mother's partner.
        MaleCarerOrPartner => "male_carer_or_partner",
        /// A grandparent.
        Grandparent => "grandparent",
        /// A brother or sister.
        Sibling => "sibling",
        /// Another adult, known.
        OtherAdult => "other_adult",
        /// An adult the worker could not identify.
        UnknownAdult => "unknown_adult",
    }
}

vocabulary! {
    /// A care domain, after the structure of neglect assessment: physical
    /// care (nutrition, housing, clothing, hygiene, health), safety,
    /// emotional care and developmental care. Only the area names are used;
    /// no licensed descriptor text is embedded.
    pub enum CareDomain {
        /// Food and feeding.
        Nutrition => "nutrition",
        /// Home conditions.
        Housing => "housing",
        /// Clothing.
        Clothing => "clothing",
        /// Hygiene.
        Hygiene => "hygiene",
        /// Health and health care.
        Health => "health",
        /// Safety and supervision.
        Safety => "safety",
        /// Love, warmth and emotional care.
        EmotionalCare => "emotional_care",
        /// Stimulation and education.
        DevelopmentalCare => "developmental_care",
    }
}

/// Someone present at a visit or conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct PersonPresent {
    /// Their role.
    pub role: PersonRole,
    /// Their relationship to the child in the worker's words, such as
    /// "mother's partner, lives in the home". At most 48 bytes.
    #[serde(default)]
    pub relationship: Text<48>,
}

/// Checks each person's `relationship` is one line of visible text.
pub(crate) fn check_present(
    kind: &'static str,
    present: &[PersonPresent],
) -> Result<(), ValidationError> {
    for (i, p) in present.iter().enumerate() {
        crate::validate::one_line(
            Field::of(kind, "present[].relationship").at(i),
            &p.relationship,
        )?;
    }
    Ok(())
}

/// A grade from 1 (best) to 5 (worst), the scale of graded neglect
/// assessment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, MaxSize,
)]
#[serde(transparent)]
pub struct Grade(pub u8);

impl Grade {
    /// Checks 1 ≤ grade ≤ 5.
    pub fn check(self, field: Field) -> Result<(), ValidationError> {
        if (1..=5).contains(&self.0) {
            Ok(())
        } else {
            Err(ValidationError::new(
                field,
                Problem::OutOfRange {
                    value: i64::from(self.0),
                    min: 1,
                    max: 5,
                },
            ))
        }
    }
}
