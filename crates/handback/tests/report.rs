//! Reports for auditors: golden reports reproduce byte for byte on every run; changing any one
//! input (an observation, a parameter, a rule, a byte of the report, the pack version) makes
//! verification fail and name what changed; permuted inputs give identical bytes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use handback::{
    report, verify, Difference, Directions, Evidence, Options, Pack, ReportInputs, SourceFile, VerifyInputs,
};

/// The golden reports, and how each was made (regenerate with `HANDBACK_BLESS=1`).
const GOLDEN: [(&str, &str, Option<&str>, bool); 3] = [
    (
        "fixtures/reports/2016-08-progress-letter.assess.json",
        "fixtures/rotherham/2016-08-progress-letter.json",
        None,
        false,
    ),
    (
        "fixtures/reports/2018-03-exit-recommended.plan.json",
        "fixtures/rotherham/2018-03-exit-recommended.json",
        None,
        true,
    ),
    (
        "fixtures/reports/2018-03-known-at-2018-03-20.assess.json",
        "fixtures/rotherham/2018-03-exit-recommended.json",
        Some("2018-03-20"),
        false,
    ),
];

fn rotherham_directions(pack: &Pack) -> Directions {
    Directions::load(pack, &common::source("fixtures/rotherham/directions.json")).unwrap()
}

fn make(pack: &Pack, evidence: &Evidence, known_at: Option<&str>, with_plan: bool) -> String {
    let mut options = Options::new(evidence.as_of.unwrap());
    options.known_at = known_at.map(|d| handback::parse_date(d).unwrap());
    let directions = rotherham_directions(pack);
    report(&ReportInputs {
        pack,
        evidence,
        options: &options,
        directions: with_plan.then_some(&directions),
        with_plan,
    })
}

#[test]
fn golden_reports_reproduce_byte_for_byte() {
    let pack = handback::rotherham().unwrap();
    for (path, evidence, known_at, with_plan) in GOLDEN {
        let evidence = common::load_evidence(&pack, evidence);
        let fresh = make(&pack, &evidence, known_at, with_plan);
        if std::env::var_os("HANDBACK_BLESS").is_some() {
            std::fs::write(common::root().join(path), &fresh).unwrap();
            continue;
        }
        let golden = std::fs::read_to_string(common::root().join(path)).unwrap();
        assert!(
            fresh == golden,
            "{path} no longer reproduces: regenerate deliberately with HANDBACK_BLESS=1"
        );
        let inputs = VerifyInputs {
            report: &golden,
            pack: &pack,
            evidence: None,
            directions: None,
        };
        assert_eq!(verify(&inputs), Ok(()), "{path}");
    }
}

fn golden_text() -> String {
    std::fs::read_to_string(common::root().join(GOLDEN[0].0)).unwrap()
}

fn differences(pack: &Pack, report: &str, evidence: Option<&Evidence>) -> Vec<Difference> {
    verify(&VerifyInputs {
        report,
        pack,
        evidence,
        directions: None,
    })
    .unwrap_err()
}

/// Every difference `verify` finds, as the lines a user reads.
fn difference_text(pack: &Pack, report: &str) -> String {
    differences(pack, report, None)
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_edited_observation_is_named() {
    let pack = handback::rotherham().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&common::source(GOLDEN[0].1).text).unwrap();
    for o in json["observations"].as_array_mut().unwrap() {
        if o["id"] == "aug-vacant" {
            o["value"] = serde_json::json!(12);
        }
    }
    let file = SourceFile {
        name: "e.json".into(),
        label: "e.json".into(),
        text: json.to_string(),
    };
    let edited = Evidence::load(&pack, &file).unwrap();
    let d = differences(&pack, &golden_text(), Some(&edited));
    let text: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert!(text[0].contains("`aug-vacant` (value 64 -> 12)"), "{text:?}");
}

fn edited_pack(file: &str, from: &str, to: &str) -> Pack {
    let mut files = handback::rotherham_files();
    let f = files.iter_mut().find(|f| f.name == file).unwrap();
    assert!(f.text.contains(from), "{from}");
    f.text = f.text.replacen(from, to, 1);
    Pack::load(&files).unwrap()
}

#[test]
fn a_changed_rule_is_named() {
    let pack = edited_pack(
        "rules/children.json",
        "\"value\": true,\n            \"says\": \"a medium term",
        "\"value\": false,\n            \"says\": \"a medium term",
    );
    let text = difference_text(&pack, &golden_text());
    assert!(text.contains("rules changed: `children-5`"), "{text}");
    // The edited leaf no longer fails, but senior finance capacity still does: the outcome
    // stands and the reasons change.
    assert!(
        text.contains("results differ: `children-5`: same outcome, different reasons"),
        "{text}"
    );
}

#[test]
fn a_changed_parameter_is_named() {
    let pack = edited_pack("parameters.json", "\"default\": 0.25", "\"default\": 0.2");
    let text = difference_text(&pack, &golden_text());
    assert!(
        text.contains("`children_agency_share_max` was 0.25 in the report, its default is now 0.2"),
        "{text}"
    );
}

#[test]
fn a_changed_report_byte_is_caught() {
    let pack = handback::rotherham().unwrap();
    let golden = golden_text();
    let tampered = golden.replacen("\"not_met\"", "\"met\"", 1);
    assert_ne!(tampered, golden);
    let d = differences(&pack, &tampered, None);
    assert!(
        matches!(&d[0], Difference::Edited { message } if message.contains("does not match its digest")),
        "{d:?}"
    );
}

#[test]
fn another_pack_version_is_version_drift_not_a_bare_failure() {
    let pack = edited_pack("pack.json", "\"version\": \"0.1.0\"", "\"version\": \"0.2.0\"");
    let text = difference_text(&pack, &golden_text());
    assert!(
        text.contains(
            "version drift: the report was made with pack `rotherham` 0.1.0; this is pack `rotherham` 0.2.0"
        ),
        "{text}"
    );
}

#[test]
fn permuted_inputs_give_identical_reports() {
    let pack = handback::rotherham().unwrap();
    let text = common::source(GOLDEN[0].1).text;
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["observations"].as_array_mut().unwrap().reverse();
    let file = SourceFile {
        name: "e.json".into(),
        label: "e.json".into(),
        text: serde_json::to_string(&json).unwrap(),
    };
    let reversed = Evidence::load(&pack, &file).unwrap();
    let mut files = handback::rotherham_files();
    files.reverse();
    let pack_reversed = Pack::load(&files).unwrap();
    assert_eq!(make(&pack_reversed, &reversed, None, false), golden_text());
}

#[test]
fn known_at_hides_later_records_and_the_report_says_so() {
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::root().join(GOLDEN[2].0)).unwrap()).unwrap();
    assert_eq!(golden["known_at"], "2018-03-20");
    assert_eq!(golden["as_of"], "2018-03-21");
    let hidden: Vec<&str> = golden["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(hidden.contains(&"hc-political-leadership"));
    let hc01 = golden["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "hc-01")
        .unwrap();
    assert_eq!(hc01["outcome"], "unknown");
    let judgements = golden["judgements"].as_array().unwrap();
    assert!(judgements
        .iter()
        .all(|j| !j["judged_by"].as_str().unwrap().is_empty()));
}

#[test]
fn citation_integrity_names_an_altered_quote() {
    let Some(seeds) = common::seeds("citation_integrity_names_an_altered_quote") else {
        return;
    };
    let pack = handback::rotherham().unwrap();
    assert!(handback::check_sources(&pack, &seeds, "seeds").is_empty());
    let altered = edited_pack(
        "rules/children.json",
        "Robust financial management.\"",
        "Robust and prudent financial management.\"",
    );
    let found = handback::check_sources(&altered, &seeds, "seeds");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]
        .message
        .starts_with("rule `children-5`: its quote no longer stands in `004_1f42ef5066f80d10.txt`"));
    assert!(found[0].path.ends_with(".quote"));
}
