//! Any bytes as a Directions file; if it loads, read the grid on a few dates.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let pack = common::pack();
    if let Ok(d) = handback::Directions::load(pack, &common::file("d.json", data)) {
        for i in &d.instruments {
            let _ = d.grid(pack, i.date);
        }
    }
});
