//! The record forms: one per record kind, generated from the core's
//! vocabularies and limits (`hearth-shared`), so that forms and core cannot
//! drift.
