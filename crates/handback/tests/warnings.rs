//! Pack warnings: what loads and evaluates but is almost certainly not what the author meant.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use handback::{Pack, SourceFile};
use serde_json::{json, Value as J};

fn file(name: &str, json: &J) -> SourceFile {
    SourceFile {
        name: name.into(),
        label: name.into(),
        // Pretty, so that positions are on distinct lines.
        text: serde_json::to_string_pretty(json).unwrap(),
    }
}

fn rule(id: &str, set: Option<&str>, body: J) -> J {
    let mut r = json!({"id": id, "title": "t", "quote": "q", "citation": {"source": "s", "at": "a"}});
    if let Some(s) = set {
        r["set"] = json!(s);
    }
    for (k, v) in body.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

fn load(rules: J) -> (Pack, Vec<SourceFile>) {
    let files = vec![
        file(
            "pack.json",
            &json!({"id": "t", "version": "1", "title": "t",
                "sets": [{"id": "s", "title": "s", "citation": {"source": "s", "at": "a"}}]}),
        ),
        file(
            "vocabulary.json",
            &json!({"scales": [{"id": "g", "title": "g", "levels": ["low", "mid", "high"]}], "keys": [
                {"key": "x", "type": "number", "unit": "u", "direction": "higher_is_better", "description": "d"},
                {"key": "spare", "type": "boolean", "description": "d"},
            ]}),
        ),
        file(
            "parameters.json",
            &json!({"parameters": [{"name": "unused_max", "type": "number", "unit": "u", "direction": "higher_is_better", "default": 1, "rationale": "r"}]}),
        ),
        file("rules/r.json", &json!({ "rules": rules })),
    ];
    (Pack::load(&files).unwrap_or_else(|e| panic!("{e}")), files)
}

fn ge(v: f64) -> J {
    json!({"key": "x", "op": ">=", "value": v})
}

#[test]
fn unused_keys_parameters_rules_and_unreachable_levels_are_warned_of_and_located() {
    let graded = |levels: J| json!({"kind": "graded", "scale": "g", "levels": levels});
    let (pack, files) = load(json!([
        rule("used", Some("s"), json!({"kind": "test", "condition": ge(1.0)})),
        // In no set, referred to by nothing, gating nothing.
        rule("orphan", None, json!({"kind": "test", "condition": ge(2.0)})),
        // A helper referred to by a rule in a set: not warned of.
        rule("helper", None, json!({"kind": "test", "condition": ge(3.0)})),
        rule(
            "uses-helper",
            Some("s"),
            json!({"kind": "test", "condition": {"rule": "helper"}})
        ),
        // `mid` (x >= 7) can only hold when `high` (x >= 5) does: never the outcome.
        rule(
            "shadowed",
            Some("s"),
            graded(json!([
                {"level": "high", "condition": ge(5.0)},
                {"level": "mid", "condition": {"all": [ge(7.0), {"key": "x", "op": "<=", "value": 9}]}},
                {"level": "low"},
            ]))
        ),
        // Ordered sensibly: every level can be reached.
        rule(
            "ordered",
            Some("s"),
            graded(json!([
                {"level": "high", "condition": ge(7.0)},
                {"level": "mid", "condition": ge(5.0)},
                {"level": "low"},
            ]))
        ),
    ]));
    let warnings = handback::authoring::pack_warnings(&pack, &files);
    let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(
        has("vocabulary.json:10:5: $.keys[1]: warning: no rule reads the key `spare`"),
        "{text:#?}"
    );
    assert!(
        has("parameters.json:3:5: $.parameters[0]: warning: no rule uses the parameter `unused_max`"),
        "{text:#?}"
    );
    assert!(has("the rule `orphan` is in no criteria set"), "{text:#?}");
    assert!(has("level `mid` of `shadowed` can never be reached"), "{text:#?}");
    assert!(has("$.rules[4].levels[1]"), "{text:#?}");
    assert_eq!(warnings.len(), 4, "{text:#?}");
}

#[test]
fn a_phase_overlapped_by_a_later_one_is_warned_of() {
    let (mut pack_files, rules) = (
        Vec::new(),
        json!([rule(
            "used",
            Some("s"),
            json!({"kind": "test", "condition": ge(1.0)})
        )]),
    );
    let (_, files) = load(rules);
    for f in files {
        if f.name == "parameters.json" {
            continue;
        }
        pack_files.push(f);
    }
    pack_files.push(file(
        "functions.json",
        &json!({"functions": [{"id": "fa", "title": "fa"}], "phases": [
            {"id": "first", "name": "first"},
            {"id": "second", "name": "second", "when": {"returned": {">=": 1}}},
            {"id": "always", "name": "always"}
        ]}),
    ));
    let pack = Pack::load(&pack_files).unwrap_or_else(|e| panic!("{e}"));
    let text: Vec<String> = handback::authoring::pack_warnings(&pack, &pack_files)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("phase `first` can never be the phase: `second`")
                || t.contains("phase `first` can never be the phase: `always`")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("phase `second` can never be the phase: `always`")),
        "{text:#?}"
    );
}

/// A key compared against itself decides nothing; comparing it with another key does.
#[test]
fn a_key_compared_against_itself_is_warned_of() {
    let (pack, files) = load(json!([
        rule(
            "itself",
            Some("s"),
            json!({"kind": "test", "condition": {"key": "x", "op": "<=", "against": {"key": "x"}}})
        ),
        rule("fine", Some("s"), json!({"kind": "test", "condition": ge(1.0)})),
    ]));
    let warnings = handback::authoring::pack_warnings(&pack, &files);
    let about: Vec<&str> = warnings
        .iter()
        .filter(|w| w.message.contains("against` itself"))
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(about.len(), 1, "{warnings:?}");
    assert!(about[0].contains("`itself`"), "{}", about[0]);
}
