//! `handback api`: JSON requests on standard input, one response a line, answering exactly what
//! the command line answers for the same inputs.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{cli_json, handback, root, stdout};
use serde_json::{json, Value};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";
const DIRECTIONS: &str = "fixtures/rotherham/directions.json";
const SCENARIO: &str = "fixtures/scenarios/agency-20-next-quarter.json";

fn text(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// Sends `input` to `handback api [args]` and returns every response line, parsed.
fn api(input: &[u8], args: &[&str]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handback"))
        .arg("api")
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn one(request: Value) -> Value {
    let mut line = request.to_string();
    line.push('\n');
    let mut answers = api(line.as_bytes(), &[]);
    assert_eq!(answers.len(), 1);
    answers.remove(0)
}

/// The outcomes `assess` gives, by rule and function.
fn outcomes(assessment: &Value) -> Vec<(String, String, String)> {
    common::verdicts(&assessment["results"], "outcome")
}

#[test]
fn assess_answers_as_the_command_line_does() {
    let answer = one(json!({"id": 1, "op": "assess", "evidence": text(AUG_2016)}));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["api_version"], 1);
    let cli = cli_json(&["assess", AUG_2016, "--format", "json"]);
    // Byte for byte: the same assessment, reasons and all.
    assert_eq!(answer["result"], cli);
    assert!(outcomes(&cli).iter().any(|(_, _, o)| o == "not_met"));
}

/// Evidence given as the document itself assesses as its text does.
#[test]
fn evidence_as_a_document_or_as_text_is_the_same() {
    let document: Value = serde_json::from_str(&text(AUG_2016)).unwrap();
    let a = one(json!({"op": "assess", "evidence": document, "explain": false}));
    let b = one(json!({"op": "assess", "evidence": text(AUG_2016), "explain": false}));
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(a["result"], b["result"]);
}

#[test]
fn plan_whatif_needs_gaps_and_sweep_agree_with_the_command_line() {
    let evidence = text(AUG_2016);
    let directions = text(DIRECTIONS);
    let plan = one(json!({"op": "plan", "evidence": evidence, "directions": directions}));
    assert_eq!(
        plan["result"]["plan"],
        cli_json(&["plan", AUG_2016, "--directions", DIRECTIONS, "--format", "json"])
    );
    // The scenario extends another: the API takes the chain, base first.
    let scenario: Value = serde_json::from_str(&text(SCENARIO)).unwrap();
    let base: Value = serde_json::from_str(&text("fixtures/scenarios/mtfs-adopted.json")).unwrap();
    let alone = one(json!({"op": "whatif", "evidence": evidence, "scenario": scenario}));
    assert_eq!(alone["error"]["kind"], "usage", "{alone}");
    assert!(alone["error"]["message"]
        .as_str()
        .unwrap()
        .contains("mtfs-adopted.json"));
    let whatif = one(json!({"op": "whatif", "evidence": evidence, "scenario": [base, scenario]}));
    let cli = cli_json(&["whatif", AUG_2016, "--scenario", SCENARIO, "--format", "json"]);
    assert_eq!(whatif["result"]["diff"], cli["diff"]);
    assert_eq!(whatif["result"]["changes"], cli["changes"]);
    assert_eq!(whatif["result"]["scenario"], cli["scenario"]);
    // Quick changes, and a diff that is not empty.
    let sets = [
        "children.overspend_gbp_m=0",
        "children.mtfs_adopted=true",
        "children.senior_finance_capacity=true",
    ];
    let whatif = one(json!({"op": "whatif", "evidence": evidence, "set": sets}));
    let mut args = vec!["whatif", AUG_2016, "--format", "json"];
    for s in &sets {
        args.extend(["--set", s]);
    }
    let cli = cli_json(&args);
    assert_eq!(whatif["result"]["diff"], cli["diff"]);
    assert!(!cli["diff"]["outcomes"].as_array().unwrap().is_empty());
    let needs = one(json!({
        "op": "needs", "evidence": evidence, "directions": directions, "target": "exit", "limit": 3,
    }));
    assert_eq!(
        needs["result"],
        cli_json(&[
            "needs",
            AUG_2016,
            "--directions",
            DIRECTIONS,
            "--target",
            "exit",
            "--limit",
            "3",
            "--format",
            "json"
        ])
    );
    let gaps = one(json!({"op": "gaps", "evidence": evidence}));
    assert_eq!(gaps["result"], cli_json(&["gaps", AUG_2016, "--format", "json"]));
    let gaps =
        one(json!({"op": "gaps", "evidence": evidence, "parameters": {"children_overspend_max_gbp_m": 10}}));
    assert_eq!(gaps["ok"], true, "{gaps}");
    assert_eq!(
        gaps["result"],
        cli_json(&[
            "gaps",
            AUG_2016,
            "--param",
            "children_overspend_max_gbp_m=10",
            "--format",
            "json"
        ])
    );
    let sweep =
        one(json!({"op": "sweep", "evidence": evidence, "vary": ["children.overspend_gbp_m=0..10/5"]}));
    let csv = stdout(&handback(&[
        "sweep",
        AUG_2016,
        "--vary",
        "children.overspend_gbp_m=0..10/5",
    ]));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(sweep["result"]["header"], json!(header));
    assert_eq!(sweep["result"]["rows"].as_array().unwrap().len(), 3);
    for (row, line) in sweep["result"]["rows"].as_array().unwrap().iter().zip(lines) {
        assert_eq!(row, &json!(line.split(',').collect::<Vec<_>>()));
    }
}

/// `needs` and `sweep` take `parameters` as `assess` does, and agree with `--param` (they were
/// refused as unknown fields).
#[test]
fn needs_and_sweep_take_parameters() {
    let evidence = text(AUG_2016);
    let needs = one(json!({
        "op": "needs", "evidence": evidence, "target": "rule:children-6",
        "parameters": {"children_agency_share_max": 0.1},
    }));
    assert_eq!(needs["ok"], true, "{needs}");
    assert_eq!(
        needs["result"],
        cli_json(&[
            "needs",
            AUG_2016,
            "--target",
            "rule:children-6",
            "--param",
            "children_agency_share_max=0.1",
            "--format",
            "json"
        ])
    );
    let sweep = one(json!({
        "op": "sweep", "evidence": evidence, "vary": ["children.overspend_gbp_m=0..10/5"],
        "parameters": {"children_agency_share_max": 0.1},
    }));
    assert_eq!(sweep["ok"], true, "{sweep}");
    let bad = one(json!({
        "op": "needs", "evidence": evidence, "target": "rule:children-6",
        "parameters": {"children_agency_share_max": 25},
    }));
    assert_eq!(bad["error"]["kind"], "usage", "{bad}");
}

/// Ten requests in a row, one of them malformed, give ten answers in order; the loop goes on.
#[test]
fn a_malformed_line_gets_an_error_and_the_loop_goes_on() {
    let mut input = String::new();
    for i in 0..10 {
        if i == 4 {
            input.push_str("{\"id\": 4, \"op\": \"assess\", \n");
            continue;
        }
        input.push_str(&json!({"id": i, "op": "version"}).to_string());
        input.push('\n');
    }
    let answers = api(input.as_bytes(), &[]);
    assert_eq!(answers.len(), 10);
    for (i, a) in answers.iter().enumerate() {
        if i == 4 {
            assert_eq!(a["ok"], false);
            assert_eq!(a["error"]["kind"], "malformed");
            assert!(a["error"]["message"].as_str().unwrap().contains("1:"), "{a}");
        } else {
            assert_eq!(a["ok"], true, "{a}");
            assert_eq!(a["id"], i);
        }
    }
}

/// Garbage of every kind gets an answer, not a crash: bytes that are not UTF-8, a line over the
/// input limit, nesting deeper than any input may, a request that is not an object.
#[test]
fn garbage_gets_error_answers() {
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(b"\xff\xfe not utf-8\n");
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.push(b'\n');
    input.extend(std::iter::repeat_n(b'[', 3_000));
    input.push(b'\n');
    input.extend_from_slice(b"[1, 2]\n");
    input.extend_from_slice(b"\n\n{\"op\": \"version\"}\n");
    let answers = api(&input, &["--max-input-bytes", "4096"]);
    assert_eq!(answers.len(), 5, "{answers:?}");
    let messages: Vec<&str> = answers[..4]
        .iter()
        .map(|a| a["error"]["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("not UTF-8"), "{}", messages[0]);
    assert!(messages[1].contains("the limit is 4096"), "{}", messages[1]);
    assert!(messages[2].contains("not valid JSON"), "{}", messages[2]);
    assert!(messages[3].contains("object"), "{}", messages[3]);
    assert_eq!(answers[4]["ok"], true);
}

/// Invalid evidence is answered with every located problem, as the command line lists them.
#[test]
fn invalid_input_carries_every_located_problem() {
    let evidence = json!({
        "council": "x",
        "observations": [
            {"id": "a", "key": "children.overspend_gbp_m", "value": "lots", "date": "2016-01-01",
             "source": {"document": "d", "passage": "p"}},
            {"id": "b", "key": "no.such_key", "value": 1, "date": "2016-13-01",
             "source": {"document": "d", "passage": "p"}},
        ]
    });
    let answer = one(json!({"id": "x", "op": "assess", "evidence": evidence}));
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["id"], "x");
    assert_eq!(answer["error"]["kind"], "invalid");
    let problems = answer["error"]["problems"].as_array().unwrap();
    let paths: Vec<&str> = problems.iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"$.observations[0].value"), "{paths:?}");
    assert!(
        paths.iter().any(|p| p.starts_with("$.observations[1]")),
        "{paths:?}"
    );
}

/// A misspelt field is named (with a hint), never silently ignored: an ignored `as_of` would
/// answer for another day.
#[test]
fn unknown_fields_are_refused_by_name() {
    let answer =
        one(json!({"op": "needs", "evidence": text(AUG_2016), "target": "exit", "as_off": "2016-01-01"}));
    assert_eq!(answer["ok"], false);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`as_off`") && message.contains("as_of"),
        "{message}"
    );
}

#[test]
fn a_newer_api_version_is_refused_plainly() {
    let answer = one(json!({"id": 9, "api_version": 99, "op": "version"}));
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error"]["kind"], "version");
    assert_eq!(answer["error"]["requested"], 99);
    assert_eq!(answer["error"]["supported"], 1);
}

/// A report written through the API verifies through the API, and through the command line.
#[test]
fn report_and_verify_round_trip() {
    let evidence = text(AUG_2016);
    let report = one(json!({"op": "report", "evidence": evidence, "directions": text(DIRECTIONS)}));
    assert_eq!(report["ok"], true, "{report}");
    let text_report = report["result"]["report"].as_str().unwrap();
    let verified = one(json!({"op": "verify", "report": text_report}));
    assert_eq!(verified["result"]["reproduces"], true, "{verified}");
    let edited = text_report.replacen("not_met", "met", 1);
    let refused = one(json!({"op": "verify", "report": edited}));
    assert_eq!(refused["error"]["kind"], "mismatch", "{refused}");
}

#[test]
fn a_request_for_a_newer_api_is_a_version_error_even_with_an_op_or_field_this_one_lacks() {
    // A host writing for API 2 may use an operation or a field version 1 does not know: it
    // must learn that the engine is too old (`version`), not that its request is malformed.
    for request in [
        json!({"id": 1, "api_version": 2, "op": "frobnicate"}),
        json!({"id": 2, "api_version": 2, "op": "version", "new_field": true}),
    ] {
        let a = one(request.clone());
        assert_eq!(a["ok"], false, "{a}");
        assert_eq!(a["error"]["kind"], "version", "{request}: {a}");
        assert_eq!(a["id"], request["id"], "{a}");
    }
}

#[test]
fn every_error_carries_a_message() {
    // The envelope promises `error.kind` and `error.message` for every kind: a host prints the
    // message, whatever the kind.
    let version = one(json!({"id": 1, "api_version": 9, "op": "version"}));
    assert_eq!(version["error"]["kind"], "version", "{version}");
    assert!(
        version["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains('9')),
        "{version}"
    );
    let report = one(json!({"op": "report", "evidence": text(AUG_2016)}));
    let report = report["result"]["report"].as_str().unwrap().to_string();
    let later = text("fixtures/rotherham/2016-12-licensing.json");
    let mismatch = one(json!({"id": 2, "op": "verify", "report": report, "evidence": later}));
    assert_eq!(mismatch["error"]["kind"], "mismatch", "{mismatch}");
    assert!(
        mismatch["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not reproduce")),
        "{mismatch}"
    );
    assert!(mismatch["error"]["differences"].is_array(), "{mismatch}");
}

#[test]
fn a_field_of_the_wrong_shape_is_located() {
    // "input is out of range" alone does not say which field is wrong.
    let a = one(json!({"id": 1, "op": "assess", "evidence": text(AUG_2016), "as_of": "2016-13-01"}));
    assert_eq!(a["error"]["kind"], "malformed", "{a}");
    assert_eq!(a["id"], 1, "{a}");
    assert!(a["error"]["message"].as_str().unwrap().contains("column"), "{a}");
}
