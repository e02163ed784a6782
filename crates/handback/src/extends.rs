//! Packs that build on another: `"extends": {"id", "version", "digest"}` in `pack.json`.
//!
//! Two interventions under the same framework share its criteria and differ in a few thresholds,
//! keys or functions. An extending pack writes only what differs; its base is pinned by id,
//! version and digest, so a report of the extending pack names exactly one set of rules, and a
//! base that changes under it is an error to review, never a silent change of verdicts.
//!
//! The library reads no files: the caller passes the base pack's files with their names under
//! `base/` (its own base under `base/base/`, and so on), labelled where they were read from.
//! Entries are merged by id on the parsed JSON, each keeping the position it was written at, so
//! a problem in the extending pack is reported where its author wrote it.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Limits};
use crate::json::{self, Json, Kind, Member};
use crate::pack::{Pack, SourceFile};

/// What a pack extends, as its `pack.json` says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Extends {
    /// The base pack's id.
    pub id: String,
    /// The base pack's version.
    pub version: String,
    /// The base pack's digest (`handback rules --format json` prints it as `digest`).
    pub digest: String,
}

/// The prefix under which a base pack's files are passed.
pub const BASE_PREFIX: &str = "base/";

/// Splits a pack's own files from its base's (names stripped of one `base/`).
pub(crate) fn split(files: &[SourceFile]) -> (Vec<SourceFile>, Vec<SourceFile>) {
    let mut own = Vec::new();
    let mut base = Vec::new();
    for f in files {
        match f.name.strip_prefix(BASE_PREFIX) {
            Some(rest) => base.push(SourceFile {
                name: rest.to_string(),
                ..f.clone()
            }),
            None => own.push(f.clone()),
        }
    }
    (own, base)
}

/// What a pack's `pack.json` says it extends, read before the pack is loaded so a caller can
/// find the base's files. `None` when it extends nothing or the file cannot be read as JSON
/// (loading it then says what is wrong).
pub fn extends_of(files: &[SourceFile]) -> Option<Extends> {
    let f = files.iter().find(|f| f.name == "pack.json")?;
    let json = json::parse(&f.text).ok()?;
    let e = member(&json, "extends")?;
    let text = |k: &str| match member(e, k).map(|v| &v.kind) {
        Some(Kind::String(s)) => Some(s.clone()),
        _ => None,
    };
    Some(Extends {
        id: text("id")?,
        version: text("version")?,
        digest: text("digest")?,
    })
}

fn member<'j>(json: &'j Json, key: &str) -> Option<&'j Json> {
    match &json.kind {
        Kind::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
        _ => None,
    }
}

/// The base a pack is loaded over: its files, by role, and the ids its rules declare.
pub(crate) struct Layer {
    pub files: Vec<SourceFile>,
}

impl Layer {
    /// Checks the `extends` of an own `pack.json` against the base files given, loading the
    /// base (itself possibly extending another). `None` when the pack extends nothing; problems
    /// (no base given, a base that does not load, a pin that does not match) go to
    /// `diagnostics`, located at the pin.
    pub fn new(
        own_manifest: Option<&SourceFile>,
        base_files: Vec<SourceFile>,
        limits: Limits,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<Layer> {
        let f = own_manifest?;
        let parsed = json::parse(&f.text).ok()?;
        let e = member(&parsed, "extends")?;
        let at = |path: &str, node: &Json, message: String| Diagnostic {
            file: f.label.clone(),
            line: node.pos.line,
            column: node.pos.column,
            path: path.to_string(),
            message,
        };
        let Some(pin) = extends_of(std::slice::from_ref(f)) else {
            diagnostics.push(at(
                "$.extends",
                e,
                "`extends` names the base pack: `{\"id\": ID, \"version\": VERSION, \"digest\": SHA256}`"
                    .into(),
            ));
            return None;
        };
        if base_files.is_empty() {
            diagnostics.push(at(
                "$.extends",
                e,
                format!(
                    "this pack extends `{}` {}, whose files were not given (the command line looks for it beside the pack's folder, or takes `--base DIR`)",
                    pin.id, pin.version
                ),
            ));
            return None;
        }
        let base = match Pack::load_with_limits(&base_files, limits) {
            Ok(base) => base,
            Err(e) => {
                diagnostics.extend(e.diagnostics.0);
                return None;
            }
        };
        let m = base.manifest();
        let field = |k: &str| member(e, k).unwrap_or(e);
        if m.id != pin.id {
            diagnostics.push(at(
                "$.extends.id",
                field("id"),
                format!("the base pack given is `{}`, not `{}`", m.id, pin.id),
            ));
        } else if m.version != pin.version {
            diagnostics.push(at(
                "$.extends.version",
                field("version"),
                format!(
                    "the base pack `{}` given is version {}, not {}",
                    m.id, m.version, pin.version
                ),
            ));
        } else if base.digests().pack != pin.digest {
            diagnostics.push(at(
                "$.extends.digest",
                field("digest"),
                format!(
                    "the base pack `{}` {} has digest `{}`, not the one pinned: it changed since this pack was written over it; review what changed, then pin the new digest",
                    m.id,
                    m.version,
                    base.digests().pack
                ),
            ));
        }
        Some(Layer { files: base_files })
    }

    /// The base's file in a role (`vocabulary.json`, …).
    pub fn file(&self, name: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The base's rule files, in name order.
    pub fn rule_files(&self) -> Vec<&SourceFile> {
        let mut out: Vec<&SourceFile> = self
            .files
            .iter()
            .filter(|f| f.name.starts_with("rules/") && f.name.ends_with(".json"))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The rule ids declared in a set of rule files (read leniently: a file that does not parse is
/// reported when it is decoded).
pub(crate) fn declared_rule_ids(files: &[&SourceFile]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let Ok(json) = json::parse(&f.text) else { continue };
        if let Some(Kind::Array(items)) = member(&json, "rules").map(|r| &r.kind) {
            for item in items {
                if let Some(Kind::String(id)) = member(item, "id").map(|v| &v.kind) {
                    out.insert(id.clone());
                }
            }
        }
    }
    out
}

/// `own` laid over `base`: in each listed array, an own entry replaces the base entry with the
/// same id (in the base's place) and new entries follow; every other member is the own one if
/// written, else the base's. Each node keeps its position.
pub(crate) fn overlay(base: &Json, own: &Json, arrays: &[(&str, &str)]) -> Json {
    let (Kind::Object(bm), Kind::Object(om)) = (&base.kind, &own.kind) else {
        return own.clone();
    };
    let mut members: Vec<Member> = Vec::new();
    for m in om {
        let merged = match (arrays.iter().find(|(f, _)| *f == m.key), member(base, &m.key)) {
            (Some((_, id)), Some(b)) => overlay_array(b, &m.value, id),
            _ => m.value.clone(),
        };
        members.push(Member {
            key: m.key.clone(),
            key_pos: m.key_pos,
            value: merged,
        });
    }
    for m in bm {
        // `extends` is the extending pack's own statement, never inherited.
        if m.key != "extends" && !om.iter().any(|o| o.key == m.key) {
            members.push(m.clone());
        }
    }
    Json {
        pos: own.pos,
        kind: Kind::Object(members),
    }
}

fn overlay_array(base: &Json, own: &Json, id: &str) -> Json {
    let (Kind::Array(b), Kind::Array(o)) = (&base.kind, &own.kind) else {
        return own.clone();
    };
    let id_of = |j: &Json| match member(j, id).map(|v| &v.kind) {
        Some(Kind::String(s)) => Some(s.clone()),
        _ => None,
    };
    let own_ids: Vec<Option<String>> = o.iter().map(id_of).collect();
    let mut used = vec![false; o.len()];
    let mut items = Vec::new();
    for item in b {
        let bid = id_of(item);
        let replacement = bid
            .as_ref()
            .and_then(|bid| own_ids.iter().position(|oid| oid.as_ref() == Some(bid)));
        match replacement {
            Some(i) => {
                if let (Some(slot), Some(node)) = (used.get_mut(i), o.get(i)) {
                    *slot = true;
                    items.push(node.clone());
                }
            }
            None => items.push(item.clone()),
        }
    }
    for (node, was_used) in o.iter().zip(&used) {
        if !was_used {
            items.push(node.clone());
        }
    }
    Json {
        pos: own.pos,
        kind: Kind::Array(items),
    }
}
