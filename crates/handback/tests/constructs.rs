//! The constructs of #14 outside evaluation (which the semantics cases cover): parameters that
//! decide windows and counts, what lint counts as read, and the English a reader sees.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use handback::{Options, Pack, SourceFile};
use serde_json::{json, Value as J};

fn file(name: &str, json: &J) -> SourceFile {
    SourceFile {
        name: name.into(),
        label: name.into(),
        text: serde_json::to_string_pretty(json).unwrap(),
    }
}

fn rule(id: &str, condition: J) -> J {
    json!({"id": id, "title": "t", "set": "s", "quote": "q", "citation": {"source": "s", "at": "a"}, "kind": "test", "condition": condition})
}

/// Spend and budget in one unit, a visit flag, and two parameters declared with no range of
/// their own: a window of days and a count.
fn load(rules: J) -> (Pack, Vec<SourceFile>) {
    let files = vec![
        file(
            "pack.json",
            &json!({"id": "t", "version": "1", "title": "t",
                "sets": [{"id": "s", "title": "s", "citation": {"source": "s", "at": "a"}}]}),
        ),
        file(
            "vocabulary.json",
            &json!({"keys": [
                {"key": "spend", "type": "number", "unit": "GBP", "direction": "lower_is_better", "description": "d"},
                {"key": "budget", "type": "number", "unit": "GBP", "direction": "higher_is_better", "description": "d"},
                {"key": "visit", "type": "boolean", "description": "d"},
                {"key": "issued", "type": "boolean", "description": "d"},
            ]}),
        ),
        file(
            "parameters.json",
            &json!({"parameters": [
                {"name": "window", "type": "number", "unit": "days", "direction": "lower_is_better", "default": 90, "rationale": "r"},
                {"name": "visits", "type": "number", "unit": "count", "direction": "lower_is_better", "default": 2, "rationale": "r"},
            ]}),
        ),
        file("rules/r.json", &json!({ "rules": rules })),
    ];
    (Pack::load(&files).unwrap_or_else(|e| panic!("{e}")), files)
}

fn pack() -> (Pack, Vec<SourceFile>) {
    load(json!([
        rule(
            "budget",
            json!({"key": "spend", "op": "<=", "against": {"key": "budget"}})
        ),
        rule(
            "visits",
            json!({"key": "visit", "op": "==", "value": true, "count": {"at_least": {"param": "visits"}, "within_days": {"param": "window"}}})
        ),
        rule(
            "since",
            json!({"days_since": {"key": "issued", "op": "==", "value": true}, "before": {"key": "visit", "op": "==", "value": true}, "at_most": 548})
        ),
    ]))
}

#[test]
fn a_window_or_count_parameter_takes_only_a_whole_number_from_1() {
    let (pack, _) = pack();
    let mut options = Options::new(chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap());
    for bad in ["0", "2.5", "-3"] {
        let e = options.set_parameter(&pack, "window", bad).unwrap_err();
        assert!(
            e.contains("parameter `window` is `count.within_days` in rule `visits`")
                && e.contains("not a whole number from 1"),
            "{e}"
        );
    }
    let e = options.set_parameter(&pack, "visits", "1.5").unwrap_err();
    assert!(e.contains("`count.at_least` in rule `visits`"), "{e}");
    options.set_parameter(&pack, "window", "30").unwrap();
    options.set_parameter(&pack, "visits", "1").unwrap();
    // Filled in directly, a bad override is refused by `check` too.
    options
        .parameters
        .insert("window".into(), handback::Value::Number(0.0));
    let problems = options.check(&pack).unwrap_err();
    assert!(problems.iter().any(|p| p.contains("`window`")), "{problems:?}");
}

#[test]
fn parameters_used_as_windows_and_keys_read_on_the_other_side_are_not_warned_of() {
    let (pack, files) = pack();
    let warnings = handback::authoring::pack_warnings(&pack, &files);
    // `budget` is read only as the other side of a comparison, `visit` only as a second event;
    // `window` and `visits` are used only as a window and a count.
    assert!(warnings.is_empty(), "{warnings:?}");
    let rule = pack.rule("visits").unwrap();
    let used: Vec<&str> = pack
        .parameters_used(rule)
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(used, ["visits", "window"]);
}

#[test]
fn the_constructs_read_in_english() {
    let (pack, _) = pack();
    let sentence = |id: &str| handback::authoring::rule_sentence(&pack, pack.rule(id).unwrap());
    assert_eq!(
        sentence("budget"),
        "Met when the latest `spend` is at most the latest `budget`."
    );
    assert_eq!(
        sentence("visits"),
        "Met when at least 2 (parameter `visits`) observations of `visit` in the last 90 (parameter `window`) days are equal to true."
    );
    assert_eq!(
        sentence("since"),
        "Met when at most 548 days passed from the latest `issued` equal to true to the first `visit` equal to true on or after it."
    );
}

#[test]
fn monotone_only_where_improving_evidence_cannot_hurt() {
    let (pack, _) = load(json!([
        rule(
            "up",
            json!({"key": "spend", "op": "<=", "against": {"key": "budget"}})
        ),
        rule(
            "down",
            json!({"key": "spend", "op": ">=", "against": {"key": "budget"}})
        ),
        rule(
            "count",
            json!({"key": "visit", "op": "==", "value": true, "count": {"at_least": 2, "within_days": 90, "consecutive": true}})
        ),
        rule(
            "since",
            json!({"days_since": {"key": "visit", "op": "==", "value": true}, "at_most": 30})
        ),
        rule(
            "change",
            json!({"key": "spend", "trend": "improving", "window_days": 30, "by_at_least": 1})
        ),
    ]));
    let monotone = |id: &str| pack.rule(id).unwrap().monotone;
    assert!(monotone("up"));
    assert!(!monotone("down"));
    assert!(monotone("count"));
    assert!(!monotone("since"));
    assert!(!monotone("change"));
}

#[test]
fn a_keys_maximum_age_may_name_a_parameter_which_an_override_moves() {
    let files = vec![
        file(
            "pack.json",
            &json!({"id": "t", "version": "1", "title": "t",
            "sets": [{"id": "s", "title": "s", "citation": {"source": "s", "at": "a"}}]}),
        ),
        file(
            "vocabulary.json",
            &json!({"keys": [
                {"key": "spend", "type": "number", "unit": "GBP", "direction": "lower_is_better", "max_age_days": {"param": "fresh"}, "description": "d"},
            ]}),
        ),
        file(
            "parameters.json",
            &json!({"parameters": [
                {"name": "fresh", "type": "number", "unit": "days", "direction": "higher_is_better", "default": 30, "rationale": "r"},
            ]}),
        ),
        file(
            "rules/r.json",
            &json!({"rules": [rule("low", json!({"key": "spend", "op": "<=", "value": 5}))]}),
        ),
    ];
    let pack = Pack::load(&files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pack.key("spend").unwrap().max_age_days, Some(30));
    assert!(handback::authoring::pack_warnings(&pack, &files).is_empty());
    let doc = json!({"council": "c", "observations": [
        {"id": "o", "key": "spend", "value": 4, "date": "2016-01-01", "source": {"document": "d", "passage": "p"}}
    ]});
    let ev = handback::Evidence::load(&pack, &file("e.json", &doc)).unwrap_or_else(|e| panic!("{e}"));
    let mut options = Options::new(chrono::NaiveDate::from_ymd_opt(2016, 3, 1).unwrap());
    let outcome = |options: &Options| handback::assess(&pack, &ev, options).results[0].outcome.clone();
    assert_eq!(outcome(&options), handback::Verdict::Unknown);
    let reason = serde_json::to_string(&handback::assess(&pack, &ev, &options).results[0].reason).unwrap();
    assert!(
        reason.contains("older than the 30 days (parameter `fresh`)"),
        "{reason}"
    );
    options.set_parameter(&pack, "fresh", "90").unwrap();
    assert_eq!(outcome(&options), handback::Verdict::Met);
    let e = options.set_parameter(&pack, "fresh", "0").unwrap_err();
    assert!(e.contains("`max_age_days` in key `spend`"), "{e}");
}

/// A change's size named by a parameter must stay above 0 when overridden, as its default must:
/// a size of 0 or below would count no change, or a worsening, as the improvement asked for.
#[test]
fn a_change_size_parameter_override_must_be_above_0() {
    let files = vec![
        file(
            "pack.json",
            &json!({"id": "t", "version": "1", "title": "t",
                "sets": [{"id": "s", "title": "s", "citation": {"source": "s", "at": "a"}}]}),
        ),
        file(
            "vocabulary.json",
            &json!({"keys": [
                {"key": "reliance", "type": "number", "unit": "%", "direction": "lower_is_better", "description": "d"},
            ]}),
        ),
        file(
            "parameters.json",
            &json!({"parameters": [
                {"name": "cut", "type": "number", "unit": "%", "direction": "higher_is_better", "default": 20, "rationale": "r"},
            ]}),
        ),
        file(
            "rules/r.json",
            &json!({ "rules": [rule(
                "cut",
                json!({"key": "reliance", "trend": "improving", "window_days": 365, "by_at_least_percent": {"param": "cut"}})
            )] }),
        ),
    ];
    let pack = Pack::load(&files).unwrap_or_else(|e| panic!("{e}"));
    let mut options = Options::new(chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap());
    for bad in ["0", "-10", "-0.5"] {
        let e = options.set_parameter(&pack, "cut", bad).expect_err(&format!(
            "`cut={bad}` accepted: a worsening would count as an improvement"
        ));
        assert!(e.contains("`cut`") && e.contains("above 0"), "{e}");
    }
    options.set_parameter(&pack, "cut", "5").unwrap();
    options
        .parameters
        .insert("cut".into(), handback::Value::Number(-10.0));
    assert!(options.check(&pack).is_err());
}
