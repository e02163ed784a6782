//! The schemas of the files Handback reads (pack files, evidence, scenarios, Directions),
//! written from the documented formats and the loaders' field lists. They are never used for
//! parsing: the located decoders are. Every object the loader reads field by field refuses
//! unknown fields, so every object here has `additionalProperties: false`.

use serde_json::{json, Value};

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// `YYYY-MM-DD`.
fn date() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "format": "date",
           "description": "A calendar day, YYYY-MM-DD: no time, no zone."})
}

/// An identifier: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
fn id() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 200})
}

/// A non-empty string.
fn text() -> Value {
    json!({"type": "string", "minLength": 1, "pattern": "\\S"})
}

/// A JSON value a key's type decides: a boolean, a number, or a string (a grade's level, a date,
/// text, or a share as a percentage such as `"25%"`).
fn value() -> Value {
    json!({"type": ["boolean", "number", "string"]})
}

fn source() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["document", "passage"],
           "properties": {"document": text(), "passage": text()},
           "description": "Where it comes from: the document and the passage."})
}

fn citation() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["source", "at"],
           "properties": {"source": text(), "at": text()}})
}

fn power() -> Value {
    json!({"type": "string", "enum": ["held", "advice", "direction", "returned", "never_taken", "transferred"]})
}

/// A whole number from 1, or `{"param": NAME}`.
fn amount() -> Value {
    json!({"anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 36600},
        {"type": "object", "additionalProperties": false, "required": ["param"], "properties": {"param": id()}}
    ]})
}

fn root(title: &str, description: &str, mut body: Value, defs: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.insert("$schema".into(), json!(DRAFT));
        object.insert("title".into(), json!(title));
        object.insert("description".into(), json!(description));
        if defs.as_object().is_some_and(|d| !d.is_empty()) {
            object.insert("$defs".into(), defs);
        }
    }
    body
}

/// One dated instrument of a Directions file, as written there and as reports carry it.
pub(crate) fn instrument() -> Value {
    // A transfer says to whom, so `transferred` is never a bare word; only a safeguard ends.
    let setting = json!({"anyOf": [
        {"type": "string", "enum": ["held", "advice", "direction", "returned", "never_taken"]},
        {"type": "object", "additionalProperties": false, "required": ["power"],
         "properties": {"power": power(), "to": text(), "until": date(),
                        "for_months": {"type": "integer", "minimum": 1, "maximum": 1200}},
         "not": {"required": ["until", "for_months"]},
         "allOf": [
             {"if": {"properties": {"power": {"const": "transferred"}}},
              "then": {"required": ["to"]}, "else": {"properties": {"to": false}}},
             {"if": {"properties": {"power": {"enum": ["advice", "direction"]}}},
              "else": {"properties": {"until": false, "for_months": false}}}
         ]}
    ]});
    json!({"type": "object", "additionalProperties": false,
           "required": ["id", "date", "title", "source"],
           "properties": {
               "id": id(), "date": date(), "title": text(), "source": source(), "all": power(),
               "functions": {"type": "object", "additionalProperties": setting,
                             "description": "The power it sets, by function id: a power, `{power: transferred, to}`, or a safeguard that ends (`until` or `for_months`)."},
               "note": text()
           },
           "description": "One dated instrument: it applies from the previous midnight of its date."})
}

pub(crate) fn directions() -> Value {
    root(
        "Directions",
        "A Directions file: the instruments that took and returned the council's powers.",
        json!({"type": "object", "additionalProperties": false, "required": ["council", "instruments"],
               "properties": {"council": text(), "title": text(), "expires": date(),
                              "instruments": {"type": "array", "items": {"$ref": "#/$defs/instrument"}}}}),
        json!({"instrument": instrument()}),
    )
}

pub(crate) fn evidence() -> Value {
    let observation = json!({
        "type": "object", "additionalProperties": false,
        "required": ["id", "key", "value", "source"],
        "oneOf": [{"required": ["date"]}, {"required": ["period"]}],
        "properties": {
            "id": id(), "key": id(), "function": id(), "value": value(), "date": date(),
            "period": {"type": "object", "additionalProperties": false, "required": ["from", "to"],
                       "properties": {"from": date(), "to": date()}},
            "recorded": date(),
            "basis": {"type": "string", "enum": ["measured", "document", "judgement", "decision", "unstated", "reconstructed", "hypothetical"]},
            "source": source(), "judged_by": text(), "role": id(), "note": text()
        },
        "description": "One dated, cited observation of one evidence key: a `date` or a `period`."
    });
    root(
        "Evidence",
        "An evidence file: dated, cited observations of the pack's evidence keys.",
        json!({"type": "object", "additionalProperties": false, "required": ["council", "observations"],
               "properties": {"council": text(), "title": text(), "as_of": date(),
                              "observations": {"type": "array", "items": {"$ref": "#/$defs/observation"}}}}),
        json!({"observation": observation}),
    )
}

pub(crate) fn scenario() -> Value {
    let change = json!({
        "type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
        "properties": {
            "set": {"type": "object", "additionalProperties": false, "required": ["key", "value"],
                    "properties": {"key": id(), "function": id(), "value": value(), "date": date()}},
            "remove": id(),
            "param": {"type": "object", "additionalProperties": false, "required": ["name", "value"],
                      "properties": {"name": id(), "value": true}},
            "as_of": date()
        },
        "description": "Exactly one of `set` (an observation), `remove` (an observation by id), `param` (a parameter override), `as_of` (the scenario's date)."
    });
    root(
        "Scenario",
        "A what-if scenario: changes to evidence, parameters and the date, applied in order.",
        json!({"type": "object", "additionalProperties": false, "required": ["title", "changes"],
               "properties": {"title": text(), "extends": text(), "evidence": text(),
                              "changes": {"type": "array", "items": {"$ref": "#/$defs/change"}}}}),
        json!({"change": change}),
    )
}

pub(crate) fn pack() -> Value {
    root(
        "Pack manifest",
        "A pack's `pack.json`: its id, version, sources and criteria sets.",
        json!({"type": "object", "additionalProperties": false, "required": ["id", "version", "title"],
        "properties": {
            "id": id(), "version": text(), "title": text(), "description": text(),
            "sources": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["file", "title"],
                "properties": {"file": text(), "title": text(), "date": text()}}},
            "sets": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["id", "title", "citation"],
                "properties": {"id": id(), "title": text(), "citation": citation()}}},
            "extends": {"type": "object", "additionalProperties": false, "required": ["id", "version", "digest"],
                        "properties": {"id": id(), "version": text(), "digest": text()},
                        "description": "The base pack, pinned by id, version and digest."}
        }}),
        json!({}),
    )
}

/// The fields of a key or parameter that say its type.
fn typed(extra: Value, required: &[&str]) -> Value {
    let mut properties = json!({
        "type": {"type": "string", "enum": ["boolean", "number", "grade", "date", "text"]},
        "unit": text(),
        "direction": {"type": "string", "enum": ["higher_is_better", "lower_is_better"]},
        "min": {"type": "number"}, "max": {"type": "number"}, "integer": {"type": "boolean"},
        "scale": id()
    });
    if let (Some(p), Some(e)) = (properties.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "additionalProperties": false, "required": required,
    "properties": properties,
    "allOf": [
        {"if": {"properties": {"type": {"const": "number"}}},
         "then": {"required": ["unit", "direction"], "properties": {"scale": false}}},
        {"if": {"properties": {"type": {"const": "grade"}}},
         "then": {"required": ["scale"], "properties": {"unit": false, "direction": false, "min": false, "max": false, "integer": false}}},
        {"if": {"properties": {"type": {"enum": ["boolean", "date", "text"]}}},
         "then": {"properties": {"unit": false, "direction": false, "min": false, "max": false, "integer": false, "scale": false}}}
    ]})
}

pub(crate) fn vocabulary() -> Value {
    let key_list = json!({"type": "array", "items": id()});
    let formula = json!({
        "type": "object", "additionalProperties": false, "minProperties": 1,
        "oneOf": [{"required": ["ratio"]}, {"required": ["difference"]}, {"required": ["sum"]}, {"required": ["percent_change"]}],
        "properties": {
            "ratio": {"type": "array", "items": id(), "minItems": 2, "maxItems": 2},
            "difference": {"type": "array", "items": id(), "minItems": 2, "maxItems": 2},
            "sum": {"type": "array", "items": id(), "minItems": 2},
            "percent_change": {"type": "object", "additionalProperties": false, "required": ["from", "to"],
                               "properties": {"from": id(), "to": id()}},
            "scale": {"type": "number"},
            "align": {"const": "same_date"}
        },
        "description": "How a number key is computed from others: exactly one formula."
    });
    let key = typed(
        json!({"key": id(), "scope": {"type": "string", "enum": ["council", "function"]},
               "max_age_days": amount(), "judgement": {"type": "boolean"}, "description": text(),
               "derived": {"$ref": "#/$defs/formula"}, "judged_by_roles": key_list}),
        &["key", "type", "description"],
    );
    root(
        "Vocabulary",
        "A pack's `vocabulary.json`: ordinal scales and the evidence keys rules may read.",
        json!({"type": "object", "additionalProperties": false, "required": ["keys"],
        "properties": {
            "scales": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["id", "title", "levels"],
                "properties": {"id": id(), "title": text(), "source": text(),
                               "levels": {"type": "array", "items": text(), "minItems": 2,
                                          "description": "Worst level first."}}}},
            "keys": {"type": "array", "items": {"$ref": "#/$defs/key"}}
        }}),
        json!({"key": key, "formula": formula}),
    )
}

pub(crate) fn parameters() -> Value {
    let mut parameter = typed(
        json!({"name": id(), "default": value(), "rationale": text(), "assumption": {"type": "boolean"}, "rests_on": text()}),
        &["name", "type", "default", "rationale"],
    );
    // A parameter marked `assumption` says what it rests on.
    if let Some(Value::Array(all)) = parameter.get_mut("allOf") {
        all.push(
            json!({"if": {"required": ["assumption"], "properties": {"assumption": {"const": true}}},
                        "then": {"required": ["rests_on"]}}),
        );
    }
    root(
        "Parameters",
        "A pack's `parameters.json`: named thresholds with their defaults and rationale.",
        json!({"type": "object", "additionalProperties": false, "required": ["parameters"],
               "properties": {"parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}}}}),
        json!({"parameter": parameter}),
    )
}

pub(crate) fn functions() -> Value {
    let gates = json!({"type": "array", "items": id()});
    let safeguard = json!({"type": "string", "enum": ["advice", "direction", "none"]});
    let safeguards = json!({"anyOf": [safeguard, {"type": "array", "items": {
        "type": "object", "additionalProperties": false, "required": ["safeguard", "citation"],
        "properties": {"from": date(), "safeguard": safeguard, "citation": citation()}}}]});
    let counted = json!({"type": "object", "minProperties": 1, "maxProperties": 1,
        "propertyNames": {"enum": ["<", "<=", ">", ">=", "==", "!="]},
        "additionalProperties": {"type": "number"}});
    let outcome_word = json!({"type": "string"});
    let phase_condition = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "all": {"type": "array", "items": {"$ref": "#/$defs/phase_condition"}},
            "any": {"type": "array", "items": {"$ref": "#/$defs/phase_condition"}},
            "not": {"$ref": "#/$defs/phase_condition"},
            "returned": counted, "returned_share": counted, "held": counted, "transferred": counted,
            "rule": id(), "is": {"anyOf": [outcome_word, {"type": "array", "items": outcome_word}]},
            "set_known": id(), "says": text()
        },
        "oneOf": [{"required": ["all"]}, {"required": ["any"]}, {"required": ["not"]}, {"required": ["returned"]},
                  {"required": ["returned_share"]}, {"required": ["held"]}, {"required": ["transferred"]},
                  {"required": ["rule", "is"]}, {"required": ["set_known"]}],
        "description": "When a phase holds: counts of functions returned, held or transferred, a rule's outcome, a set known, or `all`, `any`, `not` of these."
    });
    let function = json!({
        "type": "object", "additionalProperties": false, "required": ["id", "title"],
        "properties": {
            "id": id(), "title": text(), "portfolio": text(), "gates": gates, "safeguard": safeguards,
            "prerequisites": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["function", "reason", "citation"],
                "properties": {"function": id(), "reason": text(), "citation": citation()}}},
            "held_until_exit": {"type": "object", "additionalProperties": false, "required": ["reason", "citation"],
                                "properties": {"reason": text(), "citation": citation()}}
        }
    });
    let exit = json!({"type": "object", "additionalProperties": false,
        "oneOf": [{"required": ["gates", "citation"], "not": {"required": ["outcomes"]}},
                  {"required": ["outcomes"], "properties": {"gates": false, "citation": false}}],
        "properties": {
            "gates": gates, "citation": citation(),
            "outcomes": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["id", "name", "citation"],
                "properties": {"id": id(), "name": text(), "gates": gates,
                               "functions_returned": {"type": "boolean"}, "citation": citation()}}}
        },
        "description": "One way out (`gates`, `citation`), or several `outcomes`, best first."});
    root(
        "Function catalogue",
        "A pack's `functions.json`: the functions, their gates and safeguards, the phases and the ways out.",
        json!({"type": "object", "additionalProperties": false, "required": ["functions"],
        "properties": {
            "defaults": {"type": "object", "additionalProperties": false,
                         "properties": {"gates": gates, "safeguard": safeguards}},
            "recommendation": {"type": "object", "additionalProperties": false, "required": ["key", "says", "citation"],
                               "properties": {"key": id(), "says": text(), "citation": citation()}},
            "exit": exit,
            "phases": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["id", "name"],
                "properties": {"id": id(), "name": text(), "citation": citation(),
                               "when": {"$ref": "#/$defs/phase_condition"},
                               "expects": {"type": "array", "items": text()}}}},
            "functions": {"type": "array", "items": {"$ref": "#/$defs/function"}}
        }}),
        json!({"function": function, "phase_condition": phase_condition}),
    )
}

pub(crate) fn rules() -> Value {
    let op = json!({"type": "string", "enum": ["<", "<=", ">", ">=", "==", "!="]});
    let event = json!({"type": "object", "additionalProperties": false, "required": ["key", "op"],
        "oneOf": [{"required": ["value"]}, {"required": ["param"]}],
        "properties": {"key": id(), "op": op, "value": value(), "param": id(), "function": id()}});
    let size = json!({"anyOf": [{"type": "number", "exclusiveMinimum": 0},
        {"type": "object", "additionalProperties": false, "required": ["param"], "properties": {"param": id()}}]});
    let condition = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
            "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
            "at_least": {"anyOf": [amount(), text()],
                         "description": "With `of`: how many parts must be met; with `rule`: a level of the rule's scale; with `days_since`: a number of days."},
            "of": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
            "not": {"$ref": "#/$defs/condition"},
            "rule": id(), "function": id(),
            "key": id(), "op": op, "value": value(), "param": id(),
            "present": {"type": "boolean"},
            "sustained_days": amount(),
            "trend": {"type": "string", "enum": ["improving", "not_worsening"]},
            "window_days": amount(), "within_days": amount(),
            "fallback_to_council": {"type": "boolean"},
            "says": text(),
            "count": {"type": "object", "additionalProperties": false, "required": ["at_least", "within_days"],
                      "properties": {"at_least": amount(), "within_days": amount(), "consecutive": {"type": "boolean"}}},
            "against": {"type": "object", "additionalProperties": false, "required": ["key"],
                        "properties": {"key": id(), "function": id(), "same_date": {"type": "boolean"}}},
            "by_at_least": size, "by_at_least_percent": size,
            "days_since": {"$ref": "#/$defs/event"},
            "at_most": amount(),
            "before": {"$ref": "#/$defs/event"}
        },
        "oneOf": [{"required": ["all"]}, {"required": ["any"]}, {"required": ["at_least", "of"]}, {"required": ["not"]},
                  {"required": ["rule"]}, {"required": ["days_since"]}, {"required": ["key"]}],
        "description": "Exactly one form: `all`, `any`, `at_least` with `of`, `not`, `rule`, `days_since`, or `key` with `op`, `present`, `sustained_days`, `count`, `against` or `trend`."
    });
    let rule = json!({
        "type": "object", "additionalProperties": false,
        "required": ["id", "title", "quote", "citation", "kind"],
        "properties": {
            "id": id(), "title": text(), "set": id(), "quote": text(), "citation": citation(),
            "kind": {"type": "string", "enum": ["test", "graded"]},
            "per_function": {"type": "boolean"},
            "condition": {"$ref": "#/$defs/condition"},
            "scale": id(),
            "levels": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": false, "required": ["level"],
                "properties": {"level": text(), "condition": {"$ref": "#/$defs/condition"}}},
                "description": "Best first; the last level is the floor and has no condition."}
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": "test"}}},
             "then": {"required": ["condition"], "properties": {"scale": false, "levels": false}}},
            {"if": {"properties": {"kind": {"const": "graded"}}},
             "then": {"required": ["scale", "levels"], "properties": {"condition": false}}}
        ]
    });
    root(
        "Rules",
        "A rules file of a pack (`rules/*.json`).",
        json!({"type": "object", "additionalProperties": false, "required": ["rules"],
               "properties": {"rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}}}}),
        json!({"rule": rule, "condition": condition, "event": event}),
    )
}

pub(crate) fn case() -> Value {
    let by_rule = |wants: Value, what: &str| {
        json!({"type": "object", "additionalProperties": wants,
               "description": format!("{what}, by rule id (`RULE` or `RULE@FUNCTION`).")})
    };
    root(
        "Case",
        "A pack's own golden case (`tests/*.json`), run by `handback test`: evidence, a date, and the outcomes expected.",
        json!({"type": "object", "additionalProperties": false, "required": ["description", "evidence"],
               "properties": {
                   "description": text(),
                   "evidence": {"allOf": [text()], "description": "The evidence file, relative to the case."},
                   "directions": {"allOf": [text()], "description": "The Directions file, relative to the case."},
                   "as_of": date(), "known_at": date(),
                   "parameters": {"type": "object", "description": "Parameter overrides, by name."},
                   "exclude_basis": {"type": "array", "items": {"type": "string", "enum": ["measured", "document", "judgement", "decision", "unstated", "reconstructed", "hypothetical"]}},
                   "expect": by_rule(text(), "The outcome expected (`met`, `not_met`, `unknown`, or a level)"),
                   "expect_basis": by_rule(text(), "The weakest basis expected"),
                   "expect_reasons": by_rule(json!({"type": "array", "items": text()}), "Words the reasons must contain"),
                   "expect_plan": {"type": "object", "description": "Plan fields expected, by dotted path (`functions.ID.step`)."}
               }}),
        json!({}),
    )
}
