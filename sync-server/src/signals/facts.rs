//! What a record's own fields say that a rule reads: [`Facts::of`] (pure).
//!
//! TODO(issue 16, rules branch): the facts the rules need beyond an
//! entry's flags (concern category and action, meeting type and absent
//! agencies, developmental domains below threshold, who was present,
//! whether the child was seen).
