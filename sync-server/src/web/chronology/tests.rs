//! Tests of the chronology page.
