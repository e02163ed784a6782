//! Any bytes as a decision log (CSV); if it loads, audit it against the Rotherham Directions.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let pack = common::pack();
    let Ok(decisions) = handback::load_decisions(pack, &common::file("d.csv", data)) else { return };
    let directions = common::file("directions.json", include_bytes!("../../fixtures/rotherham/directions.json"));
    let directions = handback::Directions::load(pack, &directions).expect("the fixture loads");
    let _ = handback::audit(&directions, &decisions);
    let _ = handback::load_meetings(&common::file("m.csv", data));
});
