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

/// `--format csv` gives one row per outcome, function, change or gap, for people who finish in
/// a spreadsheet; a cell that begins like a formula is written as text.
#[test]
fn results_come_out_as_csv_too() {
    let rows = |args: &[&str]| -> Vec<String> {
        let o = handback(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o).lines().map(str::to_string).collect()
    };
    let assessed = rows(&["assess", AUG, "--format", "csv"]);
    assert_eq!(assessed[0], "rule,function,set,kind,outcome,at_least,basis,title");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&handback(&["assess", AUG, "--format", "json"]))).unwrap();
    assert_eq!(assessed.len() - 1, json["results"].as_array().unwrap().len());
    assert!(
        assessed
            .iter()
            .any(|r| r.starts_with("children-2,,children,test,not_met,,judgement,")),
        "{assessed:?}"
    );
    let plan = rows(&[
        "plan",
        AUG,
        "--directions",
        "fixtures/rotherham/directions.json",
        "--format",
        "csv",
    ]);
    assert!(
        plan[0].starts_with("function,title,power,since,to,until,ready,"),
        "{plan:?}"
    );
    assert_eq!(plan.len() - 1, 17);
    let needs = rows(&["needs", AUG, "--target", "rule:children-6", "--format", "csv"]);
    assert!(needs.iter().any(|r| r.contains(",'== true,true,")), "{needs:?}");
    let gaps = rows(&["gaps", AUG, "--format", "csv"]);
    assert_eq!(
        gaps[0],
        "key,function,settles_either_way,could_settle,description"
    );
}
