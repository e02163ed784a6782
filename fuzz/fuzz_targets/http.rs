//! The `http` harness (see `fuzz/harness.rs`), under libFuzzer: a body POSTed to the
//! workbench's `/api`.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::http(data));
