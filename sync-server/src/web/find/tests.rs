//! Tests of finding a child and breaking the glass.
