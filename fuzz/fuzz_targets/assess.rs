//! Any bytes as evidence; if it loads, assess, plan, diff against itself and ask what it would
//! take to end the intervention: load then evaluate on arbitrary evidence.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let pack = common::pack();
    let Ok(evidence) = handback::Evidence::load(pack, &common::file("e.json", data)) else { return };
    let as_of = evidence.as_of.or(evidence.latest_date()).unwrap_or_else(common::as_of);
    let mut options = handback::Options::new(as_of);
    options.known_at = evidence.latest_date();
    let assessment = handback::assess(pack, &evidence, &options);
    let plan = handback::plan(pack, &assessment, None);
    assert!(handback::diff(pack, &assessment, &assessment, Some((&plan, &plan))).is_empty());
    let _ = handback::needs(pack, &evidence, &options, None, &handback::Target::Rule { rule: "children-6".into(), function: None });
    let _ = handback::graph::svg(pack, Some(&plan), "fuzz");
});
