//! [`VoiceOfChild`]: what the child said or showed, what it may mean, and
//! what was done.
//!
//! Child V was pre-verbal; her behaviour was her voice, and it was recorded
//! but not acted on. So the record holds the words verbatim, or the observed
//! behaviour; then what it may be telling us; then the action. An empty
//! action is allowed, because that is the truth to record, and the
//! chronology flags it.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::vocabulary::PersonPresent;
use crate::bounded::{List, Text};
use crate::error::{Field, ValidationError};
use crate::validate::{Validate, narrative, require};

const KIND: &str = "voice";

crate::vocabulary! {
    /// How the child communicated.
    pub enum VoiceMode {
        /// Spoken or signed words.
        Words => "words",
        /// Behaviour, for a pre-verbal child or alongside words.
        Behaviour => "behaviour",
        /// Play.
        Play => "play",
        /// A drawing.
        Drawing => "drawing",
    }
}

/// The voice of the child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, MaxSize)]
#[serde(deny_unknown_fields)]
pub struct VoiceOfChild {
    /// How the child communicated.
    pub mode: VoiceMode,
    /// The child's own words, verbatim. Required when `mode` is `words`.
    /// At most 1,024 bytes.
    #[serde(default)]
    pub words: Text<1024>,
    /// What the child did, as observed. Required for behaviour, play and
    /// drawing. At most 1,024 bytes.
    #[serde(default)]
    pub behaviour: Text<1024>,
    /// Who was present, at most 8.
    #[serde(default)]
    pub present: List<PersonPresent, 8>,
    /// Whether the child was seen alone; absent if not recorded.
    #[serde(default)]
    pub seen_alone: Option<bool>,
    /// What it may be telling us. At most 512 bytes.
    #[serde(default)]
    pub meaning: Text<512>,
    /// The action taken; empty if none. At most 512 bytes.
    #[serde(default)]
    pub action: Text<512>,
}

impl Validate for VoiceOfChild {
    fn validate(&self) -> Result<(), ValidationError> {
        match self.mode {
            VoiceMode::Words => require(
                Field::of(KIND, "words"),
                &self.words,
                "write the child's own words, verbatim",
            ),
            _ => require(
                Field::of(KIND, "behaviour"),
                &self.behaviour,
                "describe what the child did, as you saw it",
            ),
        }?;
        narrative(Field::of(KIND, "words"), &self.words)?;
        narrative(Field::of(KIND, "behaviour"), &self.behaviour)?;
        super::vocabulary::check_present(KIND, &self.present)?;
        narrative(Field::of(KIND, "meaning"), &self.meaning)?;
        narrative(Field::of(KIND, "action"), &self.action)
    }
}
