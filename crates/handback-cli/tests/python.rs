//! The Python example for `handback api` (standard library only) runs, and prints the verdicts
//! the command line gives for the same files.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::process::Command;

use common::{handback, root, stdout};
use serde_json::{json, Map, Value};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";
const DIRECTIONS: &str = "fixtures/rotherham/directions.json";

/// The command line's verdicts, reduced as `examples/python/verdicts.py` reduces the API's.
pub fn summary_from_cli(evidence: &str, directions: &str) -> Value {
    let assessment: Value =
        serde_json::from_str(&stdout(&handback(&["assess", evidence, "--format", "json"]))).unwrap();
    let plan: Value = serde_json::from_str(&stdout(&handback(&[
        "plan",
        evidence,
        "--directions",
        directions,
        "--format",
        "json",
    ])))
    .unwrap();
    let mut outcomes = Map::new();
    for r in assessment["results"].as_array().unwrap() {
        let name = match r["function"].as_str() {
            Some(f) => format!("{}@{f}", r["rule"].as_str().unwrap()),
            None => r["rule"].as_str().unwrap().to_string(),
        };
        outcomes.insert(name, r["outcome"].clone());
    }
    let tranche: Vec<Value> = plan["tranche"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"].clone())
        .collect();
    json!({
        "council": assessment["council"],
        "as_of": assessment["as_of"],
        "outcomes": outcomes,
        "phase": plan["phase"]["number"],
        "tranche": tranche,
        "exit_possible": plan["exit"]["possible"],
    })
}

#[test]
fn the_stdio_example_agrees_with_the_command_line() {
    let out = Command::new("python3")
        .arg("examples/python/stdio_api.py")
        .arg(env!("CARGO_BIN_EXE_handback"))
        .args([AUG_2016, DIRECTIONS])
        .current_dir(root())
        .output()
        .expect("python3 runs (the CI script installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, summary_from_cli(AUG_2016, DIRECTIONS));
    assert_eq!(printed["outcomes"]["children-5"], "not_met");
}
