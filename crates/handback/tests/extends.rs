//! Packs that extend another: entries merged by id, the base pinned by id, version and digest,
//! every problem located where it was written.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use handback::{Pack, SourceFile};
use serde_json::{json, Value as J};

fn file(name: &str, json: &J) -> SourceFile {
    SourceFile {
        name: name.into(),
        label: format!("<{name}>"),
        text: serde_json::to_string_pretty(json).unwrap(),
    }
}

fn citation() -> J {
    json!({"source": "s", "at": "a"})
}

fn base() -> Vec<SourceFile> {
    vec![
        file(
            "pack.json",
            &json!({"id": "framework", "version": "1.0", "title": "A framework",
                "sets": [{"id": "tests", "title": "The tests", "citation": citation()}]}),
        ),
        file(
            "vocabulary.json",
            &json!({"scales": [], "keys": [
                {"key": "share", "type": "number", "unit": "share", "direction": "lower_is_better", "description": "d"},
                {"key": "plan", "type": "boolean", "description": "d"},
            ]}),
        ),
        file(
            "parameters.json",
            &json!({"parameters": [{"name": "share_max", "type": "number", "unit": "share", "direction": "lower_is_better", "default": 0.3, "rationale": "r"}]}),
        ),
        file(
            "rules/tests.json",
            &json!({"rules": [
                {"id": "low-share", "title": "t", "set": "tests", "quote": "q", "citation": citation(), "kind": "test",
                 "condition": {"key": "share", "op": "<=", "param": "share_max"}},
                {"id": "plan", "title": "t", "set": "tests", "quote": "q", "citation": citation(), "kind": "test",
                 "condition": {"key": "plan", "op": "==", "value": true}},
            ]}),
        ),
    ]
}

fn digest(files: &[SourceFile]) -> String {
    Pack::load(files)
        .unwrap_or_else(|e| panic!("{e}"))
        .digests()
        .pack
        .clone()
}

/// The extending pack's files, with the base's under `base/`.
fn layered(own: Vec<SourceFile>, base: &[SourceFile]) -> Vec<SourceFile> {
    let mut out = own;
    out.extend(base.iter().map(|f| SourceFile {
        name: format!("base/{}", f.name),
        ..f.clone()
    }));
    out
}

fn variant(pin: &str) -> Vec<SourceFile> {
    vec![
        file(
            "pack.json",
            &json!({"id": "northmoor", "version": "0.1", "title": "The framework, for Northmoor",
                "extends": {"id": "framework", "version": "1.0", "digest": pin}}),
        ),
        // A stricter threshold; nothing else about parameters changes.
        file(
            "parameters.json",
            &json!({"parameters": [{"name": "share_max", "type": "number", "unit": "share", "direction": "lower_is_better", "default": 0.2, "rationale": "stricter here"}]}),
        ),
        file(
            "vocabulary.json",
            &json!({"keys": [{"key": "visits", "type": "number", "unit": "visits", "direction": "higher_is_better", "integer": true, "description": "d"}]}),
        ),
        file(
            "rules/local.json",
            &json!({"rules": [
                // Replaces the base's `plan`.
                {"id": "plan", "title": "a plan and a visit", "set": "tests", "quote": "q", "citation": citation(), "kind": "test",
                 "condition": {"all": [{"key": "plan", "op": "==", "value": true}, {"key": "visits", "op": ">=", "value": 1}]}},
            ]}),
        ),
    ]
}

#[test]
fn an_extending_pack_inherits_what_it_does_not_write_and_replaces_what_it_does() {
    let base = base();
    let pack = Pack::load(&layered(variant(&digest(&base)), &base)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pack.manifest().id, "northmoor");
    assert_eq!(pack.manifest().extends.as_ref().unwrap().id, "framework");
    // Inherited: the set, the key `share`, the rule `low-share`; overridden: the default.
    assert_eq!(pack.manifest().sets.len(), 1);
    assert!(pack.key("share").is_some() && pack.key("visits").is_some());
    assert_eq!(pack.parameters().len(), 1);
    assert_eq!(pack.parameters()[0].default, handback::Value::Number(0.2));
    let ids: Vec<&str> = pack.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["low-share", "plan"]);
    assert_eq!(pack.rule("plan").unwrap().title, "a plan and a visit");
    // The pack's digest covers the base it was loaded over; it is not the base's.
    assert_ne!(pack.digests().pack, digest(&base));
    // The order files are given in changes nothing.
    let mut reversed = layered(variant(&digest(&base)), &base);
    reversed.reverse();
    assert_eq!(Pack::load(&reversed).unwrap().digests(), pack.digests());
}

#[test]
fn a_base_that_changed_under_its_pin_is_refused_at_the_pin() {
    let base = base();
    let pinned = digest(&base);
    let mut changed = base.clone();
    changed[2] = file(
        "parameters.json",
        &json!({"parameters": [{"name": "share_max", "type": "number", "unit": "share", "direction": "lower_is_better", "default": 0.5, "rationale": "r"}]}),
    );
    let err = Pack::load(&layered(variant(&pinned), &changed))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("$.extends.digest: the base pack `framework` 1.0 has digest `")
            && err.starts_with("<pack.json>:"),
        "{err}"
    );
    assert!(
        err.contains("changed since this pack was written over it"),
        "{err}"
    );
    // No base at all: said at `extends`.
    let err = Pack::load(&variant(&pinned)).unwrap_err().to_string();
    assert!(
        err.contains("$.extends: this pack extends `framework` 1.0, whose files were not given"),
        "{err}"
    );
}

#[test]
fn a_problem_in_the_extending_pack_is_located_where_it_was_written() {
    let base = base();
    let mut own = variant(&digest(&base));
    own[2] = file(
        "vocabulary.json",
        &json!({"keys": [{"key": "visits", "type": "numbr", "description": "d"}]}),
    );
    let err = Pack::load(&layered(own, &base)).unwrap_err().to_string();
    assert!(
        err.contains("<vocabulary.json>:6:15: $.keys[2].type: unknown type `numbr`"),
        "{err}"
    );
}
