//! Any bytes as an evidence file for the Rotherham pack.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let pack = common::pack();
    let _ = handback::Evidence::load(pack, &common::file("e.json", data));
});
