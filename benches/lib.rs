//! Criterion benchmarks of the attested crates live in `benches/`; this library is empty.
