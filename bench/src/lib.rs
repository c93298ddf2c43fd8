//! Hearth benchmarks (being written).
