//! Fixture cases: every `fixtures/cases/*.json` runs through one `check` helper.
//!
//! A case names a pack, an evidence file, an optional as-of date and parameter overrides, the
//! outcomes it expects (`rule` or `rule@function`; `rule@at_least` for the level an unknown
//! grade certainly reaches) and text its reasons must contain. The Rotherham milestone cases
//! are the golden tests of the record: a rule or fixture that drifts from what the
//! Commissioners concluded fails here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use handback::{assess, Options};
use serde_json::Value;

fn check(case_path: &std::path::Path) -> Vec<String> {
    let case: Value = serde_json::from_str(&std::fs::read_to_string(case_path).unwrap()).unwrap();
    let name = case_path.file_name().unwrap().to_string_lossy().into_owned();
    let pack = common::load_pack(case["pack"].as_str().unwrap());
    let evidence = common::load_evidence(&pack, case["evidence"].as_str().unwrap());
    let as_of = match case["as_of"].as_str() {
        Some(d) => handback::parse_date(d).unwrap(),
        None => evidence.as_of().or(evidence.latest_date()).unwrap(),
    };
    let mut options = Options::new(as_of);
    if let Some(kinds) = case["exclude_basis"].as_array() {
        options.exclude_basis = kinds
            .iter()
            .map(|k| handback::Basis::from_word(k.as_str().unwrap()).unwrap())
            .collect();
    }
    if let Some(params) = case["parameters"].as_object() {
        for (k, v) in params {
            options.parameters.insert(
                k.clone(),
                handback::authoring::parse_parameter(&pack, k, &v.to_string()).unwrap(),
            );
        }
    }
    let assessment = assess(&pack, &evidence, &options);
    let mut results: BTreeMap<String, &handback::RuleResult> = BTreeMap::new();
    for r in &assessment.results {
        let id = match &r.function {
            Some(f) => format!("{}@{f}", r.rule),
            None => r.rule.clone(),
        };
        results.insert(id, r);
    }
    let mut problems = Vec::new();
    for (id, want) in case["expect"].as_object().unwrap() {
        let want = want.as_str().unwrap();
        let got = match id.strip_suffix("@at_least") {
            Some(rule) => results.get(rule).and_then(|r| r.at_least.clone()),
            None => results.get(id.as_str()).map(|r| r.outcome.code().to_string()),
        };
        if got.as_deref() != Some(want) {
            problems.push(format!(
                "{name}: `{id}` expected {want}, got {}",
                got.as_deref().unwrap_or("no result")
            ));
        }
    }
    // The weakest basis each verdict rests on, so that a change that quietly re-fills an answer
    // from a weaker kind of evidence fails here even when the outcome stays the same.
    if let Some(bases) = case["expect_basis"].as_object() {
        for (id, want) in bases {
            let want = want.as_str().unwrap();
            let got = results
                .get(id.as_str())
                .map(|r| r.basis.map_or("none", |b| b.word()));
            if got != Some(want) {
                problems.push(format!(
                    "{name}: `{id}` expected to rest on {want}, got {}",
                    got.unwrap_or("no result")
                ));
            }
        }
    }
    if let Some(reasons) = case["expect_reasons"].as_object() {
        for (id, wanted) in reasons {
            let Some(result) = results.get(id.as_str()) else {
                problems.push(format!("{name}: no result `{id}` to check reasons of"));
                continue;
            };
            let text = serde_json::to_string_pretty(&result.reason).unwrap();
            for w in wanted.as_array().unwrap() {
                let w = w.as_str().unwrap();
                if !text.contains(w) {
                    problems.push(format!(
                        "{name}: the reason for `{id}` does not mention `{w}`:\n{text}"
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn every_fixture_case_holds() {
    let dir = common::root().join("fixtures/cases");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 13,
        "expected the semantics and Rotherham cases in {}",
        dir.display()
    );
    let problems: Vec<String> = paths.iter().flat_map(|p| check(p)).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
