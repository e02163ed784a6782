//! Any bytes as a scenario; if it loads, apply it to the August 2016 record.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(scenario) = handback::Scenario::load(&common::file("s.json", data)) else { return };
    let pack = common::pack();
    let base = common::file("e.json", include_bytes!("../../fixtures/rotherham/2016-08-progress-letter.json"));
    let evidence = handback::Evidence::load(pack, &base).expect("the fixture loads");
    let _ = handback::apply(pack, &evidence, common::as_of(), &Default::default(), &scenario.changes, "fuzz");
});
