//! A host stores what Handback answers and reads it back later: every answer the request layer
//! gives, read back into its Rust types and written again, must be the same bytes.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

use handback::request::{handle_line, Response};
use handback::{Assessment, Limits};
use serde_json::{json, Value};

fn fixture(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// Answers a request, reads the line back as the operation's types, and writes it again.
fn round_trip(request: Value) -> Response {
    let op = request["op"].as_str().unwrap().to_string();
    let line = handle_line(&request.to_string(), Limits::default());
    let response =
        Response::from_json(&op, &line).unwrap_or_else(|e| panic!("`{op}` does not read back: {e}\n{line}"));
    assert!(response.ok, "`{op}` failed: {line}");
    let again = serde_json::to_string(&response).unwrap();
    assert_eq!(again, line, "`{op}` does not write back the same");
    response
}

#[test]
fn every_answer_reads_back_and_writes_the_same_bytes() {
    let evidence = fixture("fixtures/rotherham/2016-08-progress-letter.json");
    let later = fixture("fixtures/rotherham/2018-02-children-recommended.json");
    let directions = fixture("fixtures/rotherham/directions.json");
    let scenario = json!([
        fixture("fixtures/scenarios/mtfs-adopted.json"),
        fixture("fixtures/scenarios/agency-20-next-quarter.json")
    ]);
    let decisions = fixture("fixtures/audit/decisions.csv");
    let meetings = fixture("fixtures/audit/meetings.csv");
    let requests = [
        json!({"op": "version"}),
        json!({"op": "lint", "evidence": [evidence], "directions": [directions]}),
        json!({"op": "rules"}),
        json!({"op": "template"}),
        json!({"op": "assess", "evidence": evidence}),
        json!({"op": "assess", "evidence": later, "exclude_basis": ["decision"]}),
        json!({"op": "plan", "evidence": later, "directions": directions, "with_assessment": true}),
        json!({"op": "report", "evidence": evidence, "directions": directions}),
        json!({"op": "grid", "directions": directions, "as_of": "2017-01-01"}),
        json!({"op": "graph", "format": "dot"}),
        json!({"op": "whatif", "evidence": evidence, "directions": directions, "scenario": scenario}),
        json!({"op": "needs", "evidence": evidence, "directions": directions, "target": "exit", "limit": 3}),
        json!({"op": "gaps", "evidence": evidence}),
        json!({"op": "sweep", "evidence": evidence, "vary": ["children.overspend_gbp_m=0..10/5"]}),
        json!({"op": "audit", "decisions": decisions, "directions": directions}),
        json!({"op": "dates", "minded": "2017-06-01", "meetings": meetings}),
    ];
    for request in requests {
        round_trip(request);
    }
}

/// The answer of a failed request reads back too, with its located problems.
#[test]
fn an_error_reads_back() {
    let line = handle_line(
        r#"{"id": 7, "op": "assess", "evidence": "{\"council\": 1}"}"#,
        Limits::default(),
    );
    let response = Response::from_json("assess", &line).unwrap();
    assert!(!response.ok);
    assert_eq!(serde_json::to_string(&response).unwrap(), line);
}

/// A stored assessment, read back, gives the same verdicts as a fresh one: the typed values
/// (verdicts, kinds, bases) survive the trip, not only the bytes.
#[test]
fn a_stored_assessment_keeps_its_verdicts() {
    let pack = handback::default_pack().unwrap();
    let file = handback::SourceFile {
        name: "e.json".into(),
        label: "e.json".into(),
        text: fixture("fixtures/rotherham/2016-08-progress-letter.json"),
    };
    let evidence = handback::Evidence::load(&pack, &file).unwrap();
    let options = handback::Options::new(evidence.as_of().unwrap());
    let fresh = handback::assess(&pack, &evidence, &options);
    let stored = serde_json::to_string(&fresh).unwrap();
    let read: Assessment = serde_json::from_str(&stored).unwrap();
    assert_eq!(read.results.len(), fresh.results.len());
    for (a, b) in read.results.iter().zip(&fresh.results) {
        assert_eq!(
            (&a.rule, &a.function, &a.kind, &a.outcome, a.basis),
            (&b.rule, &b.function, &b.kind, &b.outcome, b.basis)
        );
    }
    assert!(read
        .results
        .iter()
        .any(|r| r.outcome == handback::Verdict::NotMet));
}
