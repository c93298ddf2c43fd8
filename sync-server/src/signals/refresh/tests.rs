//! Tests of keeping signals current (with a stand-in for the rules).
