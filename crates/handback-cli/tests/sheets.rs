//! Spreadsheets from the command line: a workbook made from the August 2016 fixture assesses
//! byte for byte as the JSON does, and evidence commands take `.csv` and `.xlsx` by extension.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::{handback, stderr, stdout};

const AUG: &str = "fixtures/rotherham/2016-08-progress-letter.json";

#[test]
fn the_august_2016_fixture_assesses_identically_from_a_workbook() {
    let dir = std::env::temp_dir().join(format!("handback-sheets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xlsx = dir.join("aug.xlsx");
    let x = xlsx.to_str().unwrap();
    let o = handback(&["evidence", "export", AUG, "--format", "xlsx", "-o", x]);
    assert!(o.status.success(), "{}", stderr(&o));
    let from_json = handback(&["assess", AUG, "--format", "json"]);
    let from_xlsx = handback(&["assess", x, "--format", "json"]);
    assert!(from_xlsx.status.success(), "{}", stderr(&from_xlsx));
    assert_eq!(stdout(&from_xlsx), stdout(&from_json));
    // Imported, it is the same evidence.
    let json = dir.join("back.json");
    let o = handback(&["evidence", "import", x, "-o", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = handback(&["assess", json.to_str().unwrap(), "--format", "json"]);
    assert_eq!(stdout(&again), stdout(&from_json));
    // The plan too, and lint.
    let plan = |e: &str| {
        stdout(&handback(&[
            "plan",
            e,
            "--directions",
            "fixtures/rotherham/directions.json",
            "--format",
            "json",
        ]))
    };
    assert_eq!(plan(x), plan(AUG));
    let o = handback(&["lint", x]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_workbook_is_never_printed_to_a_terminal() {
    let o = handback(&["evidence", "template", "--format", "xlsx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give `-o FILE.xlsx`"), "{}", stderr(&o));
    let o = handback(&["evidence", "template", "--format", "sheet"]);
    assert!(
        stdout(&o).starts_with("id,key,function,value,date,from,to,"),
        "{}",
        stdout(&o)
    );
}
