//! Each rule's thresholds: [`Config`], with defaults, overridden per
//! deployment by `signals.toml` in the data directory ([`FILE`]).
//!
//! TODO(issue 16, rules branch): the fields, the TOML form, and errors
//! that name the field and the fix.

use std::path::Path;

/// The configuration file's name, in the data directory.
pub const FILE: &str = "signals.toml";

/// Every rule's thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {}

/// Why `signals.toml` was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// The configuration in `data_dir`: the defaults, with whatever
    /// `signals.toml` there sets (the defaults alone if there is none).
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        let _ = data_dir;
        Ok(Self::default())
    }

    /// A short fingerprint of the thresholds: stored beside each child's
    /// computed signals, so that a changed configuration recomputes them.
    pub fn fingerprint(&self) -> String {
        String::new()
    }
}
