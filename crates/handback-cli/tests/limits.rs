//! Every surface's limit is reported like any input problem: located, exit 3 (or the API's
//! error envelope), naming the flag that raises it, or saying it is fixed and what to do
//! instead (#15). The HTTP body limit is tested in `serve.rs`
//! (`what_is_not_a_request_gets_a_4xx_with_the_located_message`), the spreadsheet column limit
//! by `fixtures/invalid/sheets/ten-thousand-columns.csv`, file size and nesting in `cli.rs` and
//! `robust.rs`; this file holds the rest. The table is in `docs/robustness.md`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{handback, root, sheet_in, stderr};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";

/// Asserts the run was refused with exit `code`, saying `says`.
fn refused(o: &std::process::Output, code: i32, says: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert!(stderr(o).contains(says), "{}", stderr(o));
}

/// A scratch folder named for this file's tests.
fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch(&format!("limits-{name}"))
}

/// `handback api`: a request line over `--max-input-bytes` is answered with an error naming the
/// flag, without being held, and the next line is answered as usual.
#[test]
fn an_api_line_over_the_limit_names_the_flag() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handback"))
        .args(["api", "--max-input-bytes", "1000"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = vec![b' '; 5000];
    input.extend_from_slice(b"\n{\"op\": \"version\"}\n");
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let answers: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 2, "{text}");
    let message = answers[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the limit is 1000 (raise it with `--max-input-bytes`)"),
        "{message}"
    );
    assert_eq!(answers[1]["ok"], true);
}

/// A spreadsheet with more rows than `--max-observations`: refused, naming the flag.
#[test]
fn a_sheet_over_the_row_limit_names_the_flag() {
    let dir = scratch("rows");
    let sheet = sheet_in(&dir);
    let o = handback(&[
        "evidence",
        "import",
        sheet.to_str().unwrap(),
        "--max-observations",
        "10",
    ]);
    refused(
        &o,
        3,
        "the limit is 10 observations (raise it with `--max-observations`)",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A scenario with more than `--max-changes` changes (10,000 by default): refused before any is
/// applied, located at its `changes`, naming the flag; raised, the same scenario is applied.
#[test]
fn a_scenario_over_the_change_limit_names_the_flag() {
    let dir = scratch("scenario");
    let scenario = dir.join("big.json");
    let write = |n: i32| {
        let changes: Vec<serde_json::Value> = (0..n)
            .map(|i| serde_json::json!({"set": {"key": "children.agency_share", "value": f64::from(i % 100) / 100.0}}))
            .collect();
        std::fs::write(
            &scenario,
            serde_json::json!({"title": "big", "changes": changes}).to_string(),
        )
        .unwrap();
    };
    write(10_001);
    let started = std::time::Instant::now();
    let o = handback(&["whatif", AUG_2016, "--scenario", scenario.to_str().unwrap()]);
    refused(
        &o,
        3,
        ": $.changes: the scenario has 10001 changes; at most 10000 (raise it with `--max-changes`",
    );
    // Refused, not worked through: well under the seconds applying them takes.
    assert!(started.elapsed().as_secs() < 20);
    write(30);
    let path = scenario.to_str().unwrap();
    let o = handback(&["whatif", AUG_2016, "--scenario", path, "--max-changes", "29"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        // Located at the `changes` array itself (the document is `{"changes":[…`).
        stderr(&o).contains("big.json:1:12: $.changes: the scenario has 30 changes; at most 29"),
        "{}",
        stderr(&o)
    );
    let o = handback(&["whatif", AUG_2016, "--scenario", path, "--max-changes", "30"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The limit holds the what-if's changes in all, not only each file's: `--set` adds to them.
    let o = handback(&[
        "whatif",
        AUG_2016,
        "--scenario",
        path,
        "--set",
        "children.agency_share=0.1",
        "--max-changes",
        "30",
    ]);
    refused(
        &o,
        2,
        "the what-if makes 31 changes in all; at most 30 (raise it with `--max-changes`)",
    );
    // A new as-of date is not a change the limit counts.
    let o = handback(&[
        "whatif",
        AUG_2016,
        "--scenario",
        path,
        "--as-of",
        "2016-09-01",
        "--max-changes",
        "30",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sweeps over `--max-points` (100,000 by default): refused before sweeping, whether one key's
/// range or the whole grid is too big, saying how to stay under it and naming the flag; raised,
/// the same sweep runs.
#[test]
fn sweeps_over_the_point_limit_name_the_flag() {
    let o = handback(&["sweep", AUG_2016, "--vary", "children.agency_share=0..1/0.000001"]);
    refused(&o, 2, "makes 1000001 points; a sweep has at most 100000 (a larger step or a shorter range, or raise the limit with `--max-points`)");
    let o = handback(&[
        "sweep",
        AUG_2016,
        "--vary",
        "children.agency_share=0..1/0.001",
        "--vary",
        "children.overspend_gbp_m=0..200/1",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(
            "`--vary children.overspend_gbp_m=0..200/1`: makes 201 points, and with the keys varied before it the sweep would have more than 100000 (a larger step or a shorter range, or raise the limit with `--max-points`)"
        ),
        "{}",
        stderr(&o)
    );
    // Each range is held to what the ones before it leave, before its values are made, so
    // repeating a range cannot claim memory beyond the limit.
    let o = handback(&[
        "sweep",
        AUG_2016,
        "--vary",
        "children.agency_share=0..0.5/0.01",
        "--vary",
        "children.overspend_gbp_m=0..10/1",
        "--max-points",
        "500",
    ]);
    refused(&o, 2, "`--vary children.overspend_gbp_m=0..10/1`: makes 11 points, and with the keys varied before it the sweep would have more than 500");
    let small = ["sweep", AUG_2016, "--vary", "children.agency_share=0..0.1/0.01"];
    let o = handback(&[&small[..], &["--max-points", "10"]].concat());
    refused(&o, 2, "makes 11 points; a sweep has at most 10");
    let o = handback(&[&small[..], &["--max-points", "11"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 12);
}

/// The loaders' own limits each name their flag: rules in a pack, observations, nesting.
#[test]
fn the_loaders_limits_name_their_flags() {
    let o = handback(&["lint", "--pack", "rules/rotherham", "--max-rules", "3"]);
    refused(&o, 3, "the limit is 3 (raise it with `--max-rules`)");
    let o = handback(&[
        "assess",
        "fixtures/rotherham/record.json",
        "--max-observations",
        "10",
    ]);
    refused(
        &o,
        3,
        "$.observations: 79 observations; the limit is 10 (raise it with `--max-observations`)",
    );
    let o = handback(&["assess", AUG_2016, "--max-depth", "2"]);
    refused(&o, 3, "nesting deeper than 2 levels");
    assert!(
        stderr(&o).contains("(the limit is `--max-depth`)"),
        "{}",
        stderr(&o)
    );
}
