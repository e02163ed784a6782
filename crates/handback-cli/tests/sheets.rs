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

/// `lint` checks a sheet as it checks JSON: a quoted passage that does not stand in its source
/// (`--sources`) and a judgement made in a role its key refuses are reported at their cells.
#[test]
fn lint_checks_a_sheet_as_it_checks_json() {
    let dir = std::env::temp_dir().join(format!("handback-sheets-lint-{}", std::process::id()));
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(
        sources.join("doc.txt"),
        "Of 64 vacant posts, 57 are being covered by agency workers.\n",
    )
    .unwrap();
    let csv = dir.join("e.csv");
    std::fs::write(
        &csv,
        "key,value,date,source,passage\n\
         children.vacant_posts,64,2016-08-11,doc.txt,§1: 'Of 64 vacant posts'\n\
         children.vacancies_covered_by_agency,58,2016-08-11,doc.txt,§1: '58 are being covered'\n",
    )
    .unwrap();
    let o = handback(&[
        "lint",
        csv.to_str().unwrap(),
        "--sources",
        sources.to_str().unwrap(),
    ]);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains(&format!("{}:3:5: row 3, column passage: `row-", csv.display()))
            && out.contains("the quoted `58 are being covered` does not stand in `doc.txt`"),
        "{out}"
    );
    // A judgement in a role its key refuses: valid, but it will not count; lint says so.
    let northmoor = dir.join("n.csv");
    std::fs::write(
        &northmoor,
        "key,value,date,source,passage,judged_by,role\n\
         plan.on_track,yes,2016-08-11,doc.txt,§1,the Council,council\n",
    )
    .unwrap();
    let json = dir.join("n.json");
    let o = handback(&[
        "evidence",
        "import",
        northmoor.to_str().unwrap(),
        "--pack",
        "fixtures/packs/northmoor-children",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lint = |file: &std::path::Path| {
        let o = handback(&[
            "lint",
            file.to_str().unwrap(),
            "--pack",
            "fixtures/packs/northmoor-children",
        ]);
        format!("{}{}", stdout(&o), stderr(&o))
    };
    let from_json = lint(&json);
    assert!(from_json.contains("1 warning"), "{from_json}");
    let from_csv = lint(&northmoor);
    assert!(from_csv.contains("1 warning"), "{from_csv}");
    assert!(
        from_csv.contains(&format!("{}:2:7: row 2, column role: ", northmoor.display())),
        "{from_csv}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
