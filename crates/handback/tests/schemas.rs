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

#[allow(dead_code)]
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
        r#"{"op": "assess", "as_of": "2016-08-11"}"#,
        r#"{"op": "grid", "pack": {"files": {}, "extra": 1}, "directions": "{}"}"#,
    ] {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(handback::request::parse_request(line, handback::Limits::default()).is_err());
        invalid("request", &value, line);
    }
}
