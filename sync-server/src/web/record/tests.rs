//! Tests of the record page and its JSON.
