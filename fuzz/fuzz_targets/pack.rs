//! Any bytes as one file of the Rotherham pack (the first byte picks which); if the pack still
//! loads, assess the record against it: load then evaluate on arbitrary packs.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut files = handback::default_pack_files();
    let i = usize::from(pick) % files.len();
    files[i].text = String::from_utf8_lossy(rest).into_owned();
    if let Ok(pack) = handback::Pack::load(&files) {
        let record = common::file("record.json", include_bytes!("../../fixtures/rotherham/2018-03-exit-recommended.json"));
        if let Ok(evidence) = handback::Evidence::load(&pack, &record) {
            let assessment = handback::assess(&pack, &evidence, &handback::Options::new(common::as_of()));
            let _ = handback::plan(&pack, &assessment, None);
        }
    }
});
