//! Benchmarks for Handback, and what they are compared with.
//!
//! The benchmarks themselves are in `benches/` (criterion). This library holds what a benchmark
//! and a test both need: [`seven`], the seven readiness tests for children's social care in four
//! implementations (a hand-written function, Handback's bulk mode, zen-engine and Cedar), with
//! the deterministic evidence sets they are checked and timed on.

pub mod seven;
