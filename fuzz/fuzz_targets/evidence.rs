//! The `evidence` harness (see `fuzz/harness.rs`), under libFuzzer.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::evidence(data));
