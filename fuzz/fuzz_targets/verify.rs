//! Any bytes as a report to verify against the embedded pack.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let pack = common::pack();
    let text = String::from_utf8_lossy(data);
    let _ = handback::verify(&handback::VerifyInputs { report: &text, pack, evidence: None, directions: None, key: None });
});
