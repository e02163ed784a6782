//! Long chains of rule references and deeply nested conditions, through every library walk, in
//! a test thread's small (2 MiB) stack in a debug build: nothing may overflow the stack.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use handback::{Evidence, Limits, Options, Pack, SourceFile};

fn rule(id: &str, condition: &str) -> String {
    format!(
        r#"{{"id": "{id}", "title": "t", "set": "constructs", "quote": "q", "citation": {{"source": "s", "at": "a"}}, "kind": "test", "condition": {condition}}}"#
    )
}

fn pack_files(rules: &[String]) -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> = common::pack_files(&common::root().join("fixtures/packs/semantics"))
        .into_iter()
        .filter(|f| !f.name.starts_with("rules/"))
        .collect();
    files.push(SourceFile {
        name: "rules/generated.json".into(),
        label: "rules/generated.json".into(),
        text: format!("{{\"rules\": [{}]}}", rules.join(",\n")),
    });
    files
}

/// Every walk a loaded pack goes through: assess with reasons, plan, report and verify, a what-if
/// diff, and the plain-English rendering of each rule.
fn walk_everything(pack: &Pack, check_verify: bool) {
    // The generated rules read no per-function key council-wide, so a council-wide value of one
    // would be refused: leave those out.
    let mut json: serde_json::Value =
        serde_json::from_str(&common::source("fixtures/evidence/semantics-good.json").text).unwrap();
    json["observations"]
        .as_array_mut()
        .unwrap()
        .retain(|o| !(o["key"] == "ready" && o.get("function").is_none()));
    let evidence = Evidence::load(
        pack,
        &SourceFile {
            name: "semantics-good.json".into(),
            label: "semantics-good.json".into(),
            text: json.to_string(),
        },
    )
    .unwrap();
    let options = Options::new(chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap());
    let assessment = handback::assess(pack, &evidence, &options);
    let plan = handback::plan(pack, &assessment, None);
    let inputs = handback::ReportInputs {
        pack,
        evidence: &evidence,
        options: &options,
        directions: None,
        with_plan: true,
    };
    let report = handback::report(&inputs);
    let verified = handback::verify(&handback::VerifyInputs {
        report: &report,
        pack,
        evidence: Some(&evidence),
        directions: None,
        key: None,
    });
    if check_verify {
        assert!(verified.is_ok(), "{verified:?}");
    }
    let changed = handback::apply(
        pack,
        &evidence,
        options.as_of,
        &Default::default(),
        &[handback::Change::AsOf(
            chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
        )],
        "earlier",
    );
    if let Ok(applied) = changed {
        let after = handback::assess(pack, &applied.evidence, &Options::new(applied.as_of));
        let after_plan = handback::plan(pack, &after, None);
        handback::diff(pack, &assessment, &after, Some((&plan, &after_plan)));
    }
    for r in pack.rules() {
        handback::authoring::rule_lines(pack, r);
        handback::authoring::rule_sentence(pack, r);
    }
    let _ = handback::graph::svg(pack, Some(&plan), "t");
    let _ = Evidence::load(pack, &common::source("fixtures/evidence/semantics-mixed.json"));
}

#[test]
fn a_chain_of_9000_rule_references_is_walked_without_overflow() {
    let n = 9_000;
    let rules: Vec<String> = (0..n)
        .map(|i| match i + 1 < n {
            true => rule(&format!("r{i}"), &format!(r#"{{"rule": "r{}"}}"#, i + 1)),
            false => rule(&format!("r{i}"), r#"{"key": "flag", "present": true}"#),
        })
        .collect();
    let pack = Pack::load(&pack_files(&rules)).unwrap();
    walk_everything(&pack, true);
}

#[test]
fn a_cycle_of_9000_rules_is_reported_without_overflow() {
    let n = 9_000;
    let rules: Vec<String> = (0..n)
        .map(|i| rule(&format!("r{i}"), &format!(r#"{{"rule": "r{}"}}"#, (i + 1) % n)))
        .collect();
    let e = Pack::load(&pack_files(&rules)).unwrap_err();
    assert!(e.to_string().contains("cycle"), "{}", &e.to_string()[..500]);
}

#[test]
fn conditions_nested_to_the_highest_depth_limit_are_walked_without_overflow() {
    let depth = 250;
    let condition = format!(
        "{}{}{}",
        r#"{"not": "#.repeat(depth),
        r#"{"key": "flag", "present": true}"#,
        "}".repeat(depth)
    );
    let limits = Limits {
        max_depth: 256,
        ..Limits::default()
    };
    let pack = Pack::load_with_limits(&pack_files(&[rule("deep", &condition)]), limits).unwrap();
    walk_everything(&pack, false);
}

/// A condition nested 120 deep, within the default limits, gives a report whose reasons nest
/// deeper than serde_json's recursion limit (128); `verify` must still read it (it once called
/// such a report damaged).
#[test]
fn reports_of_conditions_nested_within_the_default_limit_verify() {
    let depth = 120;
    let condition = format!(
        "{}{}{}",
        r#"{"not": "#.repeat(depth),
        r#"{"key": "flag", "present": true}"#,
        "}".repeat(depth)
    );
    let pack = Pack::load(&pack_files(&[rule("deep", &condition)])).unwrap();
    walk_everything(&pack, true);
}
