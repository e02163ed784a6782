//! The JSON Schemas in `docs/schemas/` are the ones the library generates (run with
//! `HANDBACK_BLESS=1` to rewrite them), and every fixture validates against its schema while
//! files the loaders refuse for their shape are refused by the schema too.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use handback::schema::{render, schema, NAMES};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn schemas_in_docs_match_the_generated_ones() {
    let bless = std::env::var_os("HANDBACK_BLESS").is_some();
    let dir = root().join("docs/schemas");
    let mut drifted = Vec::new();
    for name in NAMES {
        let text = render(name).unwrap();
        let path = dir.join(format!("{name}.json"));
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            drifted.push(path.display().to_string());
        }
    }
    assert!(
        drifted.is_empty(),
        "schemas drifted from the types (rerun with HANDBACK_BLESS=1 and review): {drifted:?}"
    );
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string()
        })
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    names.sort();
    assert_eq!(
        on_disk, names,
        "docs/schemas holds a schema for no name, or misses one"
    );
}

#[test]
fn an_unknown_name_has_no_schema() {
    assert!(schema("nonsense").is_none());
}

#[test]
fn rendering_is_byte_stable() {
    for name in NAMES {
        assert_eq!(render(name), render(name));
        assert!(render(name).unwrap().ends_with("}\n"));
    }
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema(name).unwrap()).unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[track_caller]
fn valid(name: &str, instance: &Value, what: &str) {
    let errs = errors(&validator(name), instance);
    assert!(
        errs.is_empty(),
        "{what} does not validate against `{name}`: {errs:#?}"
    );
}

#[track_caller]
fn invalid(name: &str, instance: &Value, what: &str) {
    assert!(
        !validator(name).is_valid(instance),
        "{what} validates against `{name}`, but should not"
    );
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn requests_validate() {
    for line in [
        r#"{"op": "version"}"#,
        r#"{"id": 7, "op": "assess", "as_of": "2016-08-11", "evidence": {"council": "X", "observations": []}}"#,
        r#"{"id": "a", "api_version": 1, "op": "plan", "evidence": "{}", "directions": {"council": "X", "instruments": []}, "with_assessment": true}"#,
        r#"{"op": "rules", "pack": {"files": {"pack.json": "{}"}}}"#,
        r#"{"op": "whatif", "evidence": {"csv": "key,value", "council": "X"}, "scenario": [{"title": "a", "changes": []}], "set": ["k=1"]}"#,
        r#"{"op": "dates", "minded": "2016-01-01"}"#,
    ] {
        let value: Value = serde_json::from_str(line).unwrap();
        handback::request::parse_request(line, handback::Limits::default()).unwrap();
        valid("request", &value, line);
    }
    for line in [
        r#"{"op": "frobnicate"}"#,
        r#"{"op": "dates"}"#,
        r#"{"op": "assess", "as_f": "2016-08-11", "evidence": "{}"}"#,
        r#"{"op": "version", "pack": {"files": {}}}"#,
        r#"{"op": "rules", "evidence": "{}"}"#,
        r#"{"op": "assess", "as_of": "2016-08-11"}"#,
        r#"{"op": "grid", "pack": {"files": {}, "extra": 1}, "directions": "{}"}"#,
    ] {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(handback::request::parse_request(line, handback::Limits::default()).is_err());
        invalid("request", &value, line);
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Every file of a pack folder against the schema of its kind.
fn check_pack(dir: &Path) {
    for (file, name) in [
        ("pack.json", "pack"),
        ("vocabulary.json", "vocabulary"),
        ("parameters.json", "parameters"),
        ("functions.json", "functions"),
    ] {
        let path = dir.join(file);
        if path.exists() {
            valid(name, &read(&path), &path.display().to_string());
        }
    }
    let rules = json_files(&dir.join("rules"));
    assert!(!rules.is_empty(), "{} has no rules", dir.display());
    for path in rules {
        valid("rules", &read(&path), &path.display().to_string());
    }
}

#[test]
fn every_pack_validates() {
    let root = root();
    let mut packs = vec![root.join("rules/rotherham")];
    for e in std::fs::read_dir(root.join("fixtures/packs")).unwrap() {
        packs.push(e.unwrap().path());
    }
    for dir in packs {
        check_pack(&dir);
    }
}

#[test]
fn every_evidence_scenario_and_directions_fixture_validates() {
    let root = root();
    let mut evidence = Vec::new();
    let mut directions = Vec::new();
    for path in json_files(&root.join("fixtures/rotherham")) {
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("directions"))
        {
            directions.push(path);
        } else {
            evidence.push(path);
        }
    }
    evidence.extend(json_files(&root.join("fixtures/evidence")));
    evidence.extend(json_files(
        &root.join("fixtures/packs/northmoor-children/tests/evidence"),
    ));
    directions.extend(json_files(
        &root.join("fixtures/packs/northmoor-children/tests/directions"),
    ));
    assert!(evidence.len() > 10 && !directions.is_empty());
    for path in evidence {
        // A byte-order mark is skipped by the loader, not part of the JSON.
        let text = std::fs::read_to_string(&path).unwrap();
        let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
        valid("evidence", &value, &path.display().to_string());
    }
    for path in directions {
        valid("directions", &read(&path), &path.display().to_string());
    }
    let cases = json_files(&root.join("fixtures/packs/northmoor-children/tests"));
    assert!(!cases.is_empty());
    for path in cases {
        valid("case", &read(&path), &path.display().to_string());
    }
    let scenarios = json_files(&root.join("fixtures/scenarios"));
    assert!(!scenarios.is_empty());
    for path in scenarios {
        valid("scenario", &read(&path), &path.display().to_string());
    }
}

#[test]
fn every_report_fixture_validates() {
    let reports = json_files(&root().join("fixtures/reports"));
    assert!(!reports.is_empty());
    for path in reports {
        valid("report", &read(&path), &path.display().to_string());
    }
}

/// Files the loaders refuse for their shape (an unknown field, a missing or empty one, a word
/// outside an enumeration, a date with a time) are refused by the schema too.
#[test]
fn files_refused_for_their_shape_are_refused_by_the_schema() {
    let invalid_dir = root().join("fixtures/invalid");
    for (file, name) in [
        ("evidence/several-mistakes.json", "evidence"),
        ("evidence/array-not-object.json", "evidence"),
        ("packs/several-mistakes/vocabulary.json", "vocabulary"),
        ("packs/several-mistakes/parameters.json", "parameters"),
        ("packs/several-mistakes/rules/tests.json", "rules"),
        ("directions/transfers-and-expiry.json", "directions"),
    ] {
        let path = invalid_dir.join(file);
        invalid(name, &read(&path), &path.display().to_string());
    }
    // One mistake at a time, each made in a valid file.
    let evidence = read(&root().join("fixtures/evidence/semantics-good.json"));
    let mut unknown_field = evidence.clone();
    unknown_field["observations"][0]["confidence"] = "high".into();
    invalid("evidence", &unknown_field, "an observation with an unknown field");
    let mut no_source = evidence.clone();
    no_source["observations"][0]
        .as_object_mut()
        .unwrap()
        .remove("source");
    invalid("evidence", &no_source, "an observation without a source");
    let mut no_council = evidence.clone();
    no_council.as_object_mut().unwrap().remove("council");
    invalid("evidence", &no_council, "evidence without a council");
    let mut two_dates = evidence.clone();
    two_dates["observations"][0]["period"] = serde_json::json!({"from": "2016-01-01", "to": "2016-02-01"});
    invalid("evidence", &two_dates, "an observation with a date and a period");
    let mut bad_basis = evidence;
    bad_basis["observations"][0]["basis"] = "rumour".into();
    invalid("evidence", &bad_basis, "an observation with an unknown basis");

    let rules = read(
        &root().join("rules/rotherham/rules").join(
            json_files(&root().join("rules/rotherham/rules"))[0]
                .file_name()
                .unwrap(),
        ),
    );
    let mut no_quote = rules.clone();
    no_quote["rules"][0].as_object_mut().unwrap().remove("quote");
    invalid("rules", &no_quote, "a rule without a quote");
    let mut bad_op = rules;
    bad_op["rules"][0]["kind"] = "test".into();
    bad_op["rules"][0]["condition"] = serde_json::json!({"all": [{"key": "k", "op": "=<", "value": 1}]});
    invalid("rules", &bad_op, "a nested condition with an unknown operator");
    let mut two_forms = bad_op.clone();
    two_forms["rules"][0]["condition"] =
        serde_json::json!({"not": {"key": "k", "present": true}, "rule": "r"});
    invalid("rules", &two_forms, "a condition with two forms");
    let mut functions = read(&root().join("rules/rotherham/functions.json"));
    functions["exit"]["outcomes"] = serde_json::json!([]);
    invalid("functions", &functions, "an exit with both gates and outcomes");
}

fn answer(request: Value) -> Value {
    let line = request.to_string();
    valid("request", &request, &line);
    let response: Value = serde_json::from_str(&handback::request::handle_line(
        &line,
        handback::Limits::default(),
    ))
    .unwrap();
    valid("response", &response, &format!("the response to {line}"));
    response
}

#[test]
fn responses_validate() {
    let root = root();
    let text = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let evidence = text("fixtures/rotherham/2018-03-exit-recommended.json");
    let directions = text("fixtures/rotherham/directions.json");
    let scenario = read(&root.join("fixtures/scenarios/mtfs-adopted.json"));
    let situation = serde_json::json!({"evidence": evidence, "directions": directions});
    let with = |op: &str, extra: Value| {
        let mut r = situation.clone();
        r["op"] = op.into();
        r["id"] = op.into();
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    };
    assert_eq!(answer(serde_json::json!({"op": "version", "id": 1}))["ok"], true);
    assert_eq!(answer(serde_json::json!({"op": "rules"}))["ok"], true);
    assert_eq!(answer(serde_json::json!({"op": "template"}))["ok"], true);
    assert_eq!(
        answer(serde_json::json!({"op": "lint", "evidence": [evidence], "directions": [directions]}))["ok"],
        true
    );
    let mut assess = with("assess", serde_json::json!({"known_at": "2018-03-20"}));
    assess.as_object_mut().unwrap().remove("directions");
    assert_eq!(answer(assess)["ok"], true);
    let mut assess = with("assess", serde_json::json!({}));
    assess.as_object_mut().unwrap().remove("directions");
    let mut wrong = answer(assess);
    wrong["result"]["results"][0]["outcome"] = 5.into();
    invalid(
        "response",
        &wrong,
        "an assessment whose first outcome is a number",
    );
    let mut plan = with("plan", serde_json::json!({"with_assessment": true}));
    plan.as_object_mut().unwrap().remove("known_at");
    assert_eq!(answer(plan)["ok"], true);
    assert_eq!(answer(with("gaps", serde_json::json!({})))["ok"], true);
    assert_eq!(
        answer(with("whatif", serde_json::json!({"scenario": scenario})))["ok"],
        true
    );
    assert_eq!(
        answer(with("needs", serde_json::json!({"target": "exit", "limit": 2})))["ok"],
        true
    );
    let grid = serde_json::json!({"op": "grid", "directions": directions});
    assert_eq!(answer(grid)["ok"], true);
    let graph =
        serde_json::json!({"op": "graph", "evidence": evidence, "directions": directions, "format": "dot"});
    assert_eq!(answer(graph)["ok"], true);
    let dates = serde_json::json!({"op": "dates", "minded": "2018-03-01"});
    assert_eq!(answer(dates)["ok"], true);

    // A report made through the API validates against the report schema.
    let mut report_request = with("report", serde_json::json!({}));
    report_request.as_object_mut().unwrap().remove("known_at");
    let report = answer(report_request);
    assert_eq!(report["ok"], true, "{report}");
    let report_text = report["result"]["report"].as_str().unwrap().to_string();
    let report: Value = serde_json::from_str(&report_text).unwrap();
    valid("report", &report, "a report made through the API");

    let verify = answer(serde_json::json!({"op": "verify", "report": report_text}));
    assert_eq!(verify["ok"], true, "{verify}");
    let mut sweep = with(
        "sweep",
        serde_json::json!({"vary": ["children.agency_share=0.1..0.3/0.1"]}),
    );
    sweep.as_object_mut().unwrap().remove("known_at");
    assert_eq!(answer(sweep)["ok"], true);
    let audit = serde_json::json!({"op": "audit", "decisions": text("fixtures/audit/decisions.csv"), "directions": directions});
    assert_eq!(answer(audit)["ok"], true);
    let meetings = serde_json::json!({"op": "dates", "minded": "2016-12-01", "meetings": text("fixtures/audit/meetings.csv")});
    assert_eq!(answer(meetings)["ok"], true);
    let edited = serde_json::json!({"op": "verify", "report": report_text.replacen("2018", "2019", 1)});
    assert_eq!(answer(edited)["error"]["kind"], "mismatch");

    // Errors validate too.
    let bad = serde_json::json!({"op": "assess", "evidence": {"council": "X", "observations": [{"id": "a"}]}, "as_of": "2016-01-01"});
    // The evidence in a request is described by the evidence schema: a request carrying an
    // observation with no key is refused by both.
    invalid(
        "request",
        &bad,
        "a request whose evidence has an observation without a key",
    );
    let response: Value = serde_json::from_str(&handback::request::handle_line(
        &bad.to_string(),
        handback::Limits::default(),
    ))
    .unwrap();
    assert_eq!(response["error"]["kind"], "invalid");
    valid("response", &response, "the response to invalid evidence");
    let response: Value = serde_json::from_str(&handback::request::handle_line(
        "not json",
        handback::Limits::default(),
    ))
    .unwrap();
    valid("response", &response, "the response to a malformed line");
    invalid(
        "response",
        &serde_json::json!({"ok": true}),
        "a response without an api_version",
    );
}

fn lint_ok(evidence: &Value) -> bool {
    let line = serde_json::json!({"op": "lint", "evidence": [evidence.to_string()]}).to_string();
    let response: Value = serde_json::from_str(&handback::request::handle_line(
        &line,
        handback::Limits::default(),
    ))
    .unwrap();
    response["result"]["ok"] == true
}

/// The schema's `required` lists are the loader's: dropping any field the schema requires from
/// an evidence file or from one of its observations makes the loader refuse it too, and
/// dropping a field the schema leaves optional does not make the schema refuse it.
#[test]
fn the_evidence_schema_requires_what_the_loader_requires() {
    let evidence = read(&root().join("fixtures/rotherham/2018-03-exit-recommended.json"));
    assert!(lint_ok(&evidence));
    let schema = schema("evidence").unwrap();
    let top: Vec<String> = serde_json::from_value(schema["required"].clone()).unwrap();
    let each: Vec<String> =
        serde_json::from_value(schema["$defs"]["observation"]["required"].clone()).unwrap();
    for field in &top {
        let mut e = evidence.clone();
        e.as_object_mut().unwrap().remove(field);
        invalid("evidence", &e, &format!("evidence without `{field}`"));
        assert!(!lint_ok(&e), "the loader accepts evidence without `{field}`");
    }
    let observations = evidence["observations"].as_array().unwrap();
    for (i, observation) in observations.iter().enumerate().take(20) {
        for field in observation.as_object().unwrap().keys() {
            let mut e = evidence.clone();
            e["observations"][i].as_object_mut().unwrap().remove(field);
            let required = each.contains(field) || field == "date";
            if required {
                invalid("evidence", &e, &format!("observation {i} without `{field}`"));
                assert!(
                    !lint_ok(&e),
                    "the loader accepts observation {i} without `{field}`"
                );
            } else if lint_ok(&e) {
                valid("evidence", &e, &format!("observation {i} without `{field}`"));
            }
        }
    }
}

/// The same for Directions and their instruments.
#[test]
fn the_directions_schema_requires_what_the_loader_requires() {
    let lint = |directions: &Value| {
        let line = serde_json::json!({"op": "lint", "directions": [directions]}).to_string();
        let response: Value = serde_json::from_str(&handback::request::handle_line(
            &line,
            handback::Limits::default(),
        ))
        .unwrap();
        response["result"]["ok"] == true
    };
    let directions = read(&root().join("fixtures/rotherham/directions.json"));
    assert!(lint(&directions));
    let schema = schema("directions").unwrap();
    let top: Vec<String> = serde_json::from_value(schema["required"].clone()).unwrap();
    let each: Vec<String> =
        serde_json::from_value(schema["$defs"]["instrument"]["required"].clone()).unwrap();
    for field in directions.as_object().unwrap().keys() {
        let mut d = directions.clone();
        d.as_object_mut().unwrap().remove(field);
        if top.contains(field) {
            invalid("directions", &d, &format!("Directions without `{field}`"));
            assert!(!lint(&d), "the loader accepts Directions without `{field}`");
        } else if lint(&d) {
            valid("directions", &d, &format!("Directions without `{field}`"));
        }
    }
    for (i, instrument) in directions["instruments"].as_array().unwrap().iter().enumerate() {
        for field in instrument.as_object().unwrap().keys() {
            let mut d = directions.clone();
            d["instruments"][i].as_object_mut().unwrap().remove(field);
            if each.contains(field) {
                invalid("directions", &d, &format!("instrument {i} without `{field}`"));
                assert!(!lint(&d), "the loader accepts instrument {i} without `{field}`");
            } else if lint(&d) {
                valid("directions", &d, &format!("instrument {i} without `{field}`"));
            }
        }
    }
}
