//! JSON Schemas for every file Handback reads and every answer it gives.
//!
//! The input files (packs, evidence, scenarios, Directions, a pack's cases) are read by located decoders, not by
//! serde, so their schemas are written here from the documented formats (`docs/rule-language.md`,
//! `docs/evidence.md`, `docs/whatif.md`), with `additionalProperties: false` wherever the loader
//! refuses unknown fields. The request and the response are serde types: their schemas are
//! generated from the types themselves (schemars), so they cannot describe another shape than
//! the one the engine reads and writes. `docs/schemas/NAME.json` holds each one; a test
//! regenerates them and fails when they drift, and validates every fixture against its schema.
//!
//! A schema describes shape only: a file that validates may still be refused by the loader
//! (an unknown key, a value of the wrong type for its key, a cycle). The other way round is the
//! aim: a file the loader accepts validates (every fixture is checked, and the evidence and
//! Directions schemas require exactly the fields the loader requires). This module reads no
//! files.

mod files;

use schemars::{generate::SchemaSettings, JsonSchema};
use serde_json::{Map, Value};

/// Every schema's name, as `handback schema NAME` takes it and as `docs/schemas/NAME.json`
/// stores it.
pub const NAMES: &[&str] = &[
    "pack",
    "vocabulary",
    "parameters",
    "functions",
    "rules",
    "evidence",
    "scenario",
    "directions",
    "case",
    "report",
    "request",
    "response",
];

/// The schema called `name`, or `None` for an unknown name. Keys are sorted, so the text is
/// byte-stable.
pub fn schema(name: &str) -> Option<Value> {
    let value = match name {
        "pack" => files::pack(),
        "vocabulary" => files::vocabulary(),
        "parameters" => files::parameters(),
        "functions" => files::functions(),
        "rules" => files::rules(),
        "evidence" => files::evidence(),
        "scenario" => files::scenario(),
        "directions" => files::directions(),
        "case" => files::case(),
        "report" => written::<crate::report::ReportShape>(),
        "request" => refuse_unknown_fields(read::<crate::request::Request>()),
        "response" => written::<crate::request::Response>(),
        _ => return None,
    };
    Some(sorted(value))
}

/// The schema called `name` as pretty JSON with sorted keys and a trailing newline: the text
/// `docs/schemas/NAME.json` holds.
///
/// ```
/// let text = handback::schema::render("evidence").unwrap();
/// assert!(text.contains("\"observations\""));
/// assert!(handback::schema::render("no-such-schema").is_none());
/// ```
pub fn render(name: &str) -> Option<String> {
    let value = schema(name)?;
    let mut text = serde_json::to_string_pretty(&value).ok()?;
    text.push('\n');
    Some(text)
}

/// Moves a hand-written schema's `$defs` into the generator's definitions (so its
/// `#/$defs/NAME` references resolve at the root of the schema it is embedded in) and returns
/// the rest.
fn embed(generator: &mut schemars::SchemaGenerator, mut value: Value) -> schemars::Schema {
    if let Some(object) = value.as_object_mut() {
        for key in ["$schema", "title"] {
            object.remove(key);
        }
        if let Some(Value::Object(defs)) = object.remove("$defs") {
            generator.definitions_mut().extend(defs);
        }
    }
    schemars::Schema::try_from(value).unwrap_or_default()
}

/// The evidence file's schema, embedded in another (a report carries the evidence document).
pub(crate) fn evidence_document(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    embed(generator, files::evidence())
}

/// The schema of one instrument of a Directions file, which is also how a report carries one.
pub(crate) fn instrument() -> schemars::Schema {
    schemars::Schema::try_from(files::instrument()).unwrap_or_default()
}

/// The schema of what the engine reads into `T` (defaults make fields optional).
fn read<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12().for_deserialize().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// The schema of what the engine writes from `T` (`skip_serializing_if` makes fields optional).
fn written<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12().for_serialize().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// A request's fields are checked against its operation's own (a misspelt `as_of` is refused by
/// name), which serde's `flatten` cannot say: `unevaluatedProperties: false` at the root refuses
/// any field that neither the envelope nor the operation's branch describes.
fn refuse_unknown_fields(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
    value
}

/// Rebuilds every object with its keys in order, whatever map serde_json was built with.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
