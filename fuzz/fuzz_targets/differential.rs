//! The `differential` harness (see `fuzz/harness.rs`), under libFuzzer: random small packs,
//! evidence, dates and scenarios, drawn from the bytes with `arbitrary`; every evaluator must
//! agree and every `needs` option must meet its target.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::differential(data));
