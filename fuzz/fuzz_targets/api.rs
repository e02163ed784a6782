//! The `api` harness (see `fuzz/harness.rs`), under libFuzzer: one line of `handback api`.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::api(data));
