//! Any bytes as a spreadsheet: as CSV and as an XLSX workbook; what reads is imported as evidence
//! against the embedded pack, exported again, and re-imported to the same observations.
#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

use handback::spreadsheet;

fuzz_target!(|data: &[u8]| {
    let pack = common::pack();
    let limits = handback::Limits::default();
    let about = spreadsheet::About { council: "c".into(), ..Default::default() };
    if let Ok(table) = spreadsheet::read_csv("f.csv", data, limits) {
        if let Ok(evidence) = spreadsheet::evidence_from_table(pack, &table, &about, limits) {
            let csv = spreadsheet::evidence_to_csv(&evidence);
            let again = spreadsheet::read_csv("again.csv", csv.as_bytes(), limits).expect("an export reads");
            let back = spreadsheet::evidence_from_table(pack, &again, &about, limits).expect("an export imports");
            assert_eq!(back.canonical()["observations"], evidence.canonical()["observations"]);
        }
    }
    if let Ok(table) = spreadsheet::read_xlsx("f.xlsx", data, None, limits) {
        let _ = spreadsheet::evidence_from_table(pack, &table, &about, limits);
    }
    let _ = spreadsheet::read_about("f.xlsx", data, limits);
});
