//! Rule packs: loading a folder of JSON files into a validated, evaluable pack.
//!
//! A pack is `pack.json` (the manifest), `vocabulary.json` (scales and evidence keys),
//! `parameters.json` (named thresholds with rationale), `functions.json` (the council functions
//! per-function rules range over) and any number of `rules/*.json`. The caller hands the texts
//! in; this module does no I/O. Loading checks everything and returns every problem at once;
//! a [`Pack`] that exists is valid: every name resolves, every comparison is well-typed and the
//! rule graph has no cycle.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use crate::diagnostic::{member_string, optional, required, At, Decoder, Diagnostic, Diagnostics, Limits};
use crate::functions::Function;
use crate::json::{Json, Kind};
use crate::rules::{self, Body, Citation, Origin, PendingRef, Rule, Scope_};
use crate::vocabulary::{
    decode_value, format_number, Direction, Formula, Key, Range, Scale, Scope, Value, ValueType,
};

/// One file of a pack or an evidence document, as the caller read it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file's path inside the pack, `/`-separated (`rules/children.json`).
    pub name: String,
    /// How diagnostics should name the file (usually the path the user gave).
    pub label: String,
    /// The file's text.
    pub text: String,
}

/// Loading failed; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{diagnostics}\n{} problem{} found", diagnostics.0.len(), if diagnostics.0.len() == 1 { "" } else { "s" })]
pub struct LoadError {
    /// The problems, sorted by file and position, after any one that explains the rest (evidence
    /// written for another pack).
    pub diagnostics: Diagnostics,
}

impl LoadError {
    pub(crate) fn new(mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort();
        diagnostics.dedup();
        LoadError {
            diagnostics: Diagnostics(diagnostics),
        }
    }
}

/// A source document the pack encodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// File name of the source (a seed).
    pub file: String,
    /// Its title.
    pub title: String,
    /// Its date, as the source gives it.
    pub date: Option<String>,
}

/// A named set of criteria (e.g. the seven children's tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CriteriaSet {
    /// The set's id, which rules name in `set`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Where the set is defined.
    pub citation: Citation,
}

/// The pack's identity and what it encodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    /// Pack id.
    pub id: String,
    /// Pack version.
    pub version: String,
    /// Title.
    pub title: String,
    /// What the pack is for.
    pub description: Option<String>,
    /// The source documents it encodes.
    pub sources: Vec<Source>,
    /// The criteria sets, in the order reports list them.
    pub sets: Vec<CriteriaSet>,
    /// The pack this one builds on, pinned by id, version and digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<crate::extends::Extends>,
}

/// A named threshold with its default and the reason for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Parameter {
    /// Name, as rules refer to it.
    pub name: String,
    /// Its type (numbers carry a unit and direction, grades a scale).
    #[serde(flatten)]
    pub value_type: ValueType,
    /// The default value.
    pub default: Value,
    /// Why this value.
    pub rationale: String,
    /// True when the value is a policy choice not found in the sources.
    pub assumption: bool,
    /// The public figure the value rests on, if any.
    pub rests_on: Option<String>,
}

/// Digests of a pack's canonical form: what a report records so `verify` can say exactly which
/// file or rule changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PackDigests {
    /// SHA-256 over the canonical digests of every file.
    pub pack: String,
    /// SHA-256 of each file's canonical JSON, by path in the pack.
    pub files: BTreeMap<String, String>,
    /// SHA-256 of each rule's canonical JSON, by rule id.
    pub rules: BTreeMap<String, String>,
}

impl PackDigests {
    fn of(files: &[SourceFile]) -> PackDigests {
        let mut file_digests = BTreeMap::new();
        let mut rule_digests = BTreeMap::new();
        // Deepest base first, the pack's own files last: a rule the pack redefines is digested
        // as the pack defines it, whatever order the files come in.
        let depth = |name: &str| name.matches(crate::extends::BASE_PREFIX).count();
        let mut ordered: Vec<&SourceFile> = files.iter().filter(|f| is_pack_data(&f.name)).collect();
        ordered.sort_by(|a, b| {
            depth(&b.name)
                .cmp(&depth(&a.name))
                .then_with(|| a.name.cmp(&b.name))
        });
        for f in ordered {
            let Ok(json) = crate::json::parse(&f.text) else {
                continue;
            };
            let value = crate::canonical::value(&json);
            file_digests.insert(f.name.clone(), crate::canonical::digest(&value));
            if let Some(rules) = value.get("rules").and_then(|r| r.as_array()) {
                for rule in rules {
                    if let Some(id) = rule.get("id").and_then(|i| i.as_str()) {
                        rule_digests.insert(id.to_string(), crate::canonical::digest(rule));
                    }
                }
            }
        }
        let pack = crate::canonical::digest(&serde_json::json!({ "files": file_digests }));
        PackDigests {
            pack,
            files: file_digests,
            rules: rule_digests,
        }
    }
}

/// A validated rule pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub(crate) manifest: Manifest,
    pub(crate) scales: Vec<Scale>,
    pub(crate) keys: Vec<Key>,
    /// Each key's index by name: evidence, what-if changes and derived keys name keys, and a
    /// search of the list per name made loading quadratic in the number of keys.
    pub(crate) key_names: std::collections::BTreeMap<String, usize>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) functions: Vec<Function>,
    pub(crate) exit: Vec<crate::phases::ExitOutcome>,
    pub(crate) phases: Vec<crate::phases::PhaseDecl>,
    pub(crate) recommendation: Option<crate::functions::Recommendation>,
    pub(crate) rules: Vec<Rule>,
    /// Rule indices such that every rule comes after the rules it refers to.
    pub(crate) order: Vec<usize>,
    /// Computed on first use: most runs (an assessment printed as a table, a fuzz input, a
    /// request without a report) never show them, and digesting is a quarter of a load. Shared
    /// between clones, so a pack cloned per request digests its files at most once.
    pub(crate) digests: std::sync::Arc<LazyDigests>,
    /// The rules compiled for evaluation (`program.rs`), built with the pack and never apart
    /// from it, so it cannot go stale.
    pub(crate) program: crate::program::Program,
    /// By parameter, how the rules and keys use it, found once with the pack: an override is
    /// checked against these (`parse_parameter`) at every point of a sweep, and walking every
    /// rule's leaves for them was most of a point's time.
    pub(crate) parameter_uses: Vec<ParameterUse>,
    /// The sentences of the reasons' parts ([`crate::explain::reason_sentences`]), written on
    /// the first explained assessment and shared by clones: they depend on the pack alone. Like
    /// `program`, they belong to the pack as loaded: code that edits a clone's rules, keys,
    /// scales or parameters must load it afresh (or replace this with a new cell), or its
    /// reasons will read the original's words.
    pub(crate) sentences: std::sync::Arc<std::sync::OnceLock<Vec<Vec<String>>>>,
}

/// How a pack uses one parameter, as an override must respect it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParameterUse {
    /// The keys whose values it is compared with ([`Pack::keys_compared_with`]).
    compared: Vec<usize>,
    /// Where it decides a window, a count or a maximum age ([`Pack::amount_use`]).
    amount: Option<(String, &'static str)>,
    /// The first rule whose change size it is ([`Pack::size_use`]).
    size: Option<String>,
}

/// The pack's data files, kept to digest when the digests are first asked for.
pub(crate) struct LazyDigests {
    files: Vec<SourceFile>,
    digests: std::sync::OnceLock<PackDigests>,
}

impl LazyDigests {
    fn new(all_files: &[SourceFile]) -> LazyDigests {
        LazyDigests {
            files: all_files
                .iter()
                .filter(|f| is_pack_data(&f.name))
                .cloned()
                .collect(),
            digests: std::sync::OnceLock::new(),
        }
    }

    fn get(&self) -> &PackDigests {
        self.digests.get_or_init(|| PackDigests::of(&self.files))
    }
}

impl std::fmt::Debug for LazyDigests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.files.iter().map(|f| f.name.as_str()).collect();
        f.debug_struct("LazyDigests")
            .field("files", &names)
            .field("digests", &self.digests.get())
            .finish()
    }
}

impl Pack {
    /// By rule, the sentences of its reason's parts in the order an explanation visits them.
    pub(crate) fn reason_sentences(&self) -> &[Vec<String>] {
        self.sentences
            .get_or_init(|| crate::explain::reason_sentences(self))
    }
    /// Digests of the pack's canonical form (computed on the first call).
    pub fn digests(&self) -> &PackDigests {
        self.digests.get()
    }
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// The ordinal scales, sorted by id.
    pub fn scales(&self) -> &[Scale] {
        &self.scales
    }
    /// The evidence keys, sorted by name.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
    /// The parameters, sorted by name.
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }
    /// The council functions, sorted by id.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }
    /// The rules, criteria first (in set order), each group sorted by id.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    /// The rules (council-wide tests) the end of the intervention needs, besides every function
    /// being returned.
    pub fn exit_gates(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for o in &self.exit {
            for g in &o.gates {
                if !out.contains(&g.as_str()) {
                    out.push(g);
                }
            }
        }
        out
    }
    /// The ways out of the intervention, best first; empty when the pack declares none.
    pub fn exit_outcomes(&self) -> &[crate::phases::ExitOutcome] {
        &self.exit
    }
    /// The phases of the intervention, in order; empty when the pack declares none.
    pub fn phases(&self) -> &[crate::phases::PhaseDecl] {
        &self.phases
    }
    /// How the pack reads a recorded recommendation to return a function, if it says.
    pub fn recommendation(&self) -> Option<&crate::functions::Recommendation> {
        self.recommendation.as_ref()
    }
    /// Looks up a key by name.
    pub fn key(&self, name: &str) -> Option<&Key> {
        self.keys.get(self.key_index(name)?)
    }
    /// Looks up a rule by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
    /// The evidence keys a rule reads directly (not through the rules it refers to), sorted.
    pub fn keys_read(&self, rule: &Rule) -> Vec<&Key> {
        let mut indices = Vec::new();
        for (_, c) in rule.body.conditions() {
            c.for_each_leaf(&mut |l| indices.extend(l.keys()));
        }
        indices.sort_unstable();
        indices.dedup();
        indices.iter().filter_map(|&i| self.keys.get(i)).collect()
    }
    /// The parameters a rule uses directly (thresholds, a change's size, windows and counts),
    /// sorted by name.
    pub fn parameters_used(&self, rule: &Rule) -> Vec<&Parameter> {
        let mut indices = Vec::new();
        for (_, c) in rule.body.conditions() {
            c.for_each_leaf(&mut |l| indices.extend(l.parameters()));
        }
        indices.sort_unstable();
        indices.dedup();
        indices.iter().filter_map(|&i| self.parameters.get(i)).collect()
    }
    /// Keys a parameter is compared with, by rule conditions (so its values must fit them too).
    fn keys_compared_with(&self, parameter: usize) -> Vec<usize> {
        let mut keys: Vec<usize> = Vec::new();
        for rule in &self.rules {
            for (_, c) in rule.body.conditions() {
                c.for_each_leaf(&mut |leaf| {
                    for (key, threshold) in leaf.compared() {
                        if *threshold == rules::Threshold::Parameter(parameter) {
                            keys.push(key);
                        }
                    }
                });
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
    /// The first rule whose change size (`by_at_least`, `by_at_least_percent`) names the parameter.
    fn size_use(&self, parameter: usize) -> Option<&str> {
        self.rules.iter().find_map(|rule| {
            let mut found = false;
            for (_, c) in rule.body.conditions() {
                c.for_each_leaf(&mut |leaf| {
                    if let rules::LeafTest::Trend {
                        by:
                            Some(rules::ChangeSize {
                                size: rules::Threshold::Parameter(i),
                                ..
                            }),
                        ..
                    } = &leaf.test
                    {
                        found |= *i == parameter;
                    }
                });
            }
            found.then_some(rule.id.as_str())
        })
    }

    /// Where a parameter decides a window or a count: (the rule or key, field), the first use.
    fn amount_use(&self, parameter: usize) -> Option<(String, &'static str)> {
        for rule in &self.rules {
            let mut found = None;
            for (_, c) in rule.body.conditions() {
                c.for_each_leaf(&mut |leaf| {
                    for (field, a) in leaf.amounts() {
                        if found.is_none() && a == rules::Amount::Parameter(parameter) {
                            found = Some(field);
                        }
                    }
                });
            }
            if let Some(field) = found {
                return Some((format!("rule `{}`", rule.id), field));
            }
        }
        let name = self.parameters.get(parameter).map(|p| p.name.as_str())?;
        self.keys
            .iter()
            .find(|k| k.max_age_parameter.as_deref() == Some(name))
            .map(|k| (format!("key `{}`", k.key), "max_age_days"))
    }

    /// Whether some rule reads council-wide observations of this per-function key for functions
    /// with none of their own (`fallback_to_council`): only then does such an observation count.
    pub(crate) fn falls_back_to_council(&self, key: &str) -> bool {
        let Some(index) = self.key_index(key) else {
            return false;
        };
        let mut found = false;
        for rule in &self.rules {
            for (_, c) in rule.body.conditions() {
                c.for_each_leaf(&mut |leaf| {
                    found |= leaf.fallback_to_council && leaf.keys().contains(&index)
                });
            }
        }
        found
    }

    pub(crate) fn key_index(&self, name: &str) -> Option<usize> {
        self.key_names.get(name).copied()
    }

    /// Loads a pack from its files. Every problem in every file is reported together.
    ///
    /// ```
    /// use handback::{Pack, SourceFile};
    ///
    /// // A pack is its folder's files, handed over as texts: here the embedded pack with its
    /// // manifest damaged, to show that a problem is located by file, line and JSON path.
    /// let mut files = handback::default_pack_files();
    /// assert!(Pack::load(&files).is_ok());
    /// let manifest = files.iter_mut().find(|f| f.name == "pack.json").unwrap();
    /// manifest.text = manifest.text.replacen('{', "{\"unexpected\": 1,", 1);
    /// let error = Pack::load(&files).unwrap_err();
    /// assert!(error.diagnostics.0.iter().any(|d| d.file.ends_with("pack.json") && d.line == 1));
    /// ```
    pub fn load(files: &[SourceFile]) -> Result<Pack, LoadError> {
        load(files, Limits::default())
    }

    /// As [`Pack::load`], within the given limits.
    pub fn load_with_limits(files: &[SourceFile], limits: Limits) -> Result<Pack, LoadError> {
        load(files, limits)
    }
}

/// Whether a file is part of the pack's data (and its digest). A pack folder's `tests/` holds its
/// golden cases and their evidence: editing a case must not change the pack a report cites.
fn is_pack_data(name: &str) -> bool {
    let mut own = name;
    while let Some(rest) = own.strip_prefix(crate::extends::BASE_PREFIX) {
        own = rest;
    }
    own.ends_with(".json") && !own.starts_with("tests/")
}

fn load(all_files: &[SourceFile], limits: Limits) -> Result<Pack, LoadError> {
    let mut diagnostics = Vec::new();
    // A base pack's files come under `base/`; the pack's own are the rest.
    let (own_files, base_files) = crate::extends::split(all_files);
    let files = own_files.as_slice();
    let mut by_role: BTreeMap<&str, &SourceFile> = BTreeMap::new();
    let mut rule_files: Vec<&SourceFile> = Vec::new();
    for f in files {
        let name = f.name.as_str();
        match name {
            "pack.json" | "vocabulary.json" | "parameters.json" | "functions.json" => {
                by_role.insert(name, f);
            }
            _ if name.starts_with("rules/") && name.ends_with(".json") => rule_files.push(f),
            // The pack's own golden cases (and their evidence), read by `handback test`.
            _ if !is_pack_data(name) => {}
            _ if name.ends_with(".json") => diagnostics.push(file_level(
                &f.label,
                format!("unexpected file `{name}` in the pack; a pack holds `pack.json`, `vocabulary.json`, `parameters.json`, `functions.json` and `rules/*.json`"),
            )),
            // Non-JSON files (READMEs, notes) may sit beside the pack's data.
            _ => {}
        }
    }
    // INVARIANT: rule files are read in name order, so the order the caller lists them in
    // cannot change the result.
    rule_files.sort_by(|a, b| a.name.cmp(&b.name));
    // A pack that extends another inherits what it does not write itself.
    let layer = crate::extends::Layer::new(
        by_role.get("pack.json").copied(),
        base_files,
        limits,
        &mut diagnostics,
    );
    let inherited = |name: &str| layer.as_ref().and_then(|l| l.file(name));
    for required_file in ["pack.json", "vocabulary.json"] {
        if !by_role.contains_key(required_file) && inherited(required_file).is_none() {
            diagnostics.push(file_level(
                required_file,
                format!("the pack has no `{required_file}`"),
            ));
        }
    }
    // Rules an extending pack declares replace the base's rules of the same id.
    let base_rule_files: Vec<&SourceFile> = layer.as_ref().map(|l| l.rule_files()).unwrap_or_default();
    // Only a pack with a base needs them (a rule file is otherwise parsed a second time).
    let own_rule_ids = if base_rule_files.is_empty() {
        std::collections::BTreeSet::new()
    } else {
        crate::extends::declared_rule_ids(&rule_files)
    };
    if rule_files.is_empty() && base_rule_files.is_empty() {
        diagnostics.push(file_level(
            "rules/",
            "the pack has no rule files (`rules/*.json`)".into(),
        ));
    }
    let mut role = |name: &str, arrays: &[(&str, &str)]| -> Option<(SourceFile, Option<Json>)> {
        match (by_role.get(name), inherited(name)) {
            // Entries merged by id, each keeping where it was written.
            (Some(own), Some(base)) if !arrays.is_empty() => {
                let mut d = Decoder::with_limits(&own.label, limits);
                let own_json = d.parse(&own.text);
                let base_json = crate::json::parse(&base.text).ok();
                diagnostics.extend(d.finish());
                let merged = match (own_json, base_json) {
                    (Some(o), Some(b)) => Some(crate::extends::overlay(&b, &o, arrays)),
                    _ => None,
                };
                merged.map(|m| ((*own).clone(), Some(m)))
            }
            (Some(own), _) => Some(((*own).clone(), None)),
            (None, Some(base)) => Some((base.clone(), None)),
            (None, None) => None,
        }
    };
    let manifest_file = role("pack.json", &[("sources", "file"), ("sets", "id")]);
    let vocabulary_file = role("vocabulary.json", &[("scales", "id"), ("keys", "key")]);
    let parameters_file = role("parameters.json", &[("parameters", "name")]);
    let functions_file = role("functions.json", &[]);
    let manifest = manifest_file
        .as_ref()
        .and_then(|f| decode_role(f, &mut diagnostics, limits, decode_manifest));
    let (scales, mut keys, pending_max_age) = vocabulary_file
        .as_ref()
        .and_then(|f| decode_role(f, &mut diagnostics, limits, decode_vocabulary))
        .unwrap_or_default();
    let parameters = parameters_file
        .as_ref()
        .and_then(|f| {
            decode_role(f, &mut diagnostics, limits, |d, at| {
                decode_parameters(d, at, &scales)
            })
        })
        .unwrap_or_default();
    // A key's `max_age_days` may name a parameter (a window of days), known only now.
    let vocabulary_label = vocabulary_file
        .as_ref()
        .map_or_else(|| "vocabulary.json".to_string(), |f| f.0.label.clone());
    let by_name: BTreeMap<String, usize> = key_names(&keys)
        .into_iter()
        .map(|(k, i)| (k.to_string(), i))
        .collect();
    for (key, name, pos, path) in pending_max_age {
        match rules::amount_parameter(&parameters, &name, rules::AmountKind::Days) {
            Ok(index) => {
                let default = parameters
                    .get(index)
                    .and_then(|p| rules::amount_value(&p.default).ok());
                if let Some(k) = by_name.get(key.as_str()).and_then(|&i| keys.get_mut(i)) {
                    k.max_age_days = default;
                    k.max_age_parameter = Some(name);
                    k.max_age_parameter_index = Some(index);
                }
            }
            Err(message) => diagnostics.push(Diagnostic {
                file: vocabulary_label.clone(),
                line: pos.line,
                column: pos.column,
                path,
                message,
            }),
        }
    }
    let catalogue = functions_file
        .as_ref()
        .and_then(|f| decode_role(f, &mut diagnostics, limits, crate::functions::decode_functions))
        .unwrap_or_default();
    let base_rule_files: Vec<(&SourceFile, bool)> = base_rule_files.into_iter().map(|f| (f, true)).collect();
    let rule_files: Vec<(&SourceFile, bool)> = rule_files
        .into_iter()
        .map(|f| (f, false))
        .chain(base_rule_files)
        .collect();
    let functions = &catalogue.functions;

    let mut rules: Vec<Rule> = Vec::new();
    let mut pending: Vec<PendingRef> = Vec::new();
    // Ids of rules that were declared but had problems: references to them are not reported
    // again as references to unknown rules.
    let mut failed: Vec<String> = Vec::new();
    // Where each rule id was first declared, across files, to report duplicates.
    let mut declared: BTreeMap<String, (String, crate::json::Pos)> = BTreeMap::new();
    let names = key_names(&keys);
    for &(f, from_base) in &rule_files {
        let mut d = Decoder::with_limits(&f.label, limits);
        if let Some(json) = d.parse(&f.text) {
            let at = At {
                json: &json,
                path: "$",
            };
            if let Some(obj) = d.object(at, &["rules"]) {
                if let Some(items) = required(&mut d, &obj, "rules", |d, at| d.array(at)) {
                    for (json, path) in items {
                        if from_base
                            && member_string(json, "id").is_some_and(|(id, _)| own_rule_ids.contains(&id))
                        {
                            continue;
                        }
                        if let Some((id, pos)) = member_string(json, "id") {
                            match declared.get(&id) {
                                Some((file, first)) => d.report(
                                    pos,
                                    &format!("{path}.id"),
                                    format!("duplicate rule id `{id}` (first declared at {file}:{first})"),
                                ),
                                None => {
                                    declared.insert(id, (f.label.clone(), pos));
                                }
                            }
                        }
                        let at = At { json, path: &path };
                        let ctx = RuleContext {
                            keys: &keys,
                            key_names: &names,
                            scales: &scales,
                            parameters: &parameters,
                            functions,
                            sets: manifest.as_ref().map(|m| m.sets.as_slice()).unwrap_or(&[]),
                        };
                        match decode_rule(&mut d, at, &ctx, rules.len(), &mut pending) {
                            Some(rule) => rules.push(rule),
                            None => failed.extend(member_string(json, "id").map(|(id, _)| id)),
                        }
                    }
                }
            }
        }
        diagnostics.extend(d.finish());
    }

    if rules.len() > limits.max_rules {
        diagnostics.push(file_level(
            "rules/",
            format!(
                "the pack has {} rules; the limit is {} (raise it with `--max-rules`)",
                rules.len(),
                limits.max_rules
            ),
        ));
    }
    let Some(manifest) = manifest else {
        return Err(LoadError::new(diagnostics));
    };
    if !diagnostics.is_empty() {
        // References are only resolved over a clean set of rules: a rule that failed to decode
        // would otherwise show up again as an "unknown rule" everywhere it is referred to.
        let mut more = Vec::new();
        resolve_refs(&mut rules, &pending, &scales, &mut more);
        crate::functions::check_gates(&catalogue, &rules, &mut more);
        // Cycles among the rules that did decode are reported now too, so fixing the other
        // problems does not reveal a new one.
        rule_order(&rules, &mut more);
        diagnostics.extend(more.into_iter().filter(|d| {
            !failed
                .iter()
                .any(|id| d.message.contains(&format!("unknown rule `{id}`")))
        }));
        return Err(LoadError::new(diagnostics));
    }

    // INVARIANT: rules are sorted (criteria in set order, then helpers, each by id), so reports
    // do not depend on file order or the order of rules within a file.
    let set_rank = |r: &Rule| {
        r.set
            .as_ref()
            .and_then(|s| manifest.sets.iter().position(|m| &m.id == s))
            .unwrap_or(usize::MAX)
    };
    let mut keyed: Vec<(usize, Rule)> = rules.into_iter().enumerate().collect();
    keyed.sort_by_cached_key(|(_, r)| (set_rank(r), natural_key(&r.id)));
    let mut new_index = vec![0; keyed.len()];
    for (new, (old, _)) in keyed.iter().enumerate() {
        if let Some(slot) = new_index.get_mut(*old) {
            *slot = new;
        }
    }
    let mut rules: Vec<Rule> = keyed.into_iter().map(|(_, r)| r).collect();
    for p in &mut pending {
        p.owner = new_index.get(p.owner).copied().unwrap_or(usize::MAX);
    }
    resolve_refs(&mut rules, &pending, &scales, &mut diagnostics);
    crate::functions::check_gates(&catalogue, &rules, &mut diagnostics);
    crate::phases::check_phases(
        &catalogue.phase_sites,
        &catalogue.file,
        &rules,
        &manifest.sets,
        &scales,
        &mut diagnostics,
    );
    if let Some((r, pos, path)) = &catalogue.recommendation {
        let problem = match keys.iter().find(|k| k.key == r.key) {
            None => {
                let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
                let hint = crate::diagnostic::did_you_mean(&r.key, &names);
                Some(format!("unknown evidence key `{}`{hint}", r.key))
            }
            Some(k) if k.scope != crate::vocabulary::Scope::Function => Some(format!(
                "the recommendation key `{}` is council-wide; a recommendation is about one function, so the key needs `\"scope\": \"function\"`",
                r.key
            )),
            Some(k) if !matches!(k.value_type, crate::vocabulary::ValueType::Boolean) => Some(format!(
                "the recommendation key `{}` is not a boolean; it records whether a function was recommended (true) or not yet (false)",
                r.key
            )),
            Some(_) => None,
        };
        if let Some(message) = problem {
            diagnostics.push(Diagnostic {
                file: catalogue.file.clone(),
                line: pos.line,
                column: pos.column,
                path: path.clone(),
                message,
            });
        }
    }
    let order = rule_order(&rules, &mut diagnostics);
    if !diagnostics.is_empty() {
        return Err(LoadError::new(diagnostics));
    }
    compute_monotone(&mut rules, &keys, &parameters, &order);
    let program = crate::program::Program::compile(&rules, &order, &keys, &catalogue.functions, &parameters);
    let key_names = key_names(&keys)
        .into_iter()
        .map(|(k, i)| (k.to_string(), i))
        .collect();
    let mut pack = Pack {
        manifest,
        scales,
        keys,
        key_names,
        parameters,
        exit: catalogue.exit,
        phases: catalogue.phases,
        recommendation: catalogue.recommendation.map(|(r, _, _)| r),
        functions: catalogue.functions,
        rules,
        order,
        digests: std::sync::Arc::new(LazyDigests::new(all_files)),
        program,
        parameter_uses: Vec::new(),
        sentences: Default::default(),
    };
    pack.parameter_uses = (0..pack.parameters.len())
        .map(|i| ParameterUse {
            compared: pack.keys_compared_with(i),
            amount: pack.amount_use(i),
            size: pack.size_use(i).map(str::to_string),
        })
        .collect();
    Ok(pack)
}

/// Decodes a pack file, or, for a pack that extends another, the own file laid over the base's
/// (decoded as the own file: its entries are located where they were written).
fn decode_role<T>(
    file: &(SourceFile, Option<Json>),
    diagnostics: &mut Vec<Diagnostic>,
    limits: Limits,
    decode: impl FnOnce(&mut Decoder, At<'_, '_>) -> Option<T>,
) -> Option<T> {
    match &file.1 {
        None => decode_file_with(&file.0, diagnostics, limits, decode),
        Some(json) => {
            let mut d = Decoder::with_limits(&file.0.label, limits);
            let out = decode(&mut d, At { json, path: "$" });
            diagnostics.extend(d.finish());
            out
        }
    }
}

fn file_level(file: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: 1,
        column: 1,
        path: "$".into(),
        message,
    }
}

/// Parses one file and decodes it with `f`, collecting diagnostics.
pub(crate) fn decode_file<T>(
    f: &SourceFile,
    diagnostics: &mut Vec<Diagnostic>,
    decode: impl FnOnce(&mut Decoder, At<'_, '_>) -> Option<T>,
) -> Option<T> {
    decode_file_with(f, diagnostics, Limits::default(), decode)
}

/// As [`decode_file`], within the given limits.
pub(crate) fn decode_file_with<T>(
    f: &SourceFile,
    diagnostics: &mut Vec<Diagnostic>,
    limits: Limits,
    decode: impl FnOnce(&mut Decoder, At<'_, '_>) -> Option<T>,
) -> Option<T> {
    let mut d = Decoder::with_limits(&f.label, limits);
    // What decoded is kept even when some entries had problems, so later files are checked
    // against it (no cascade of "unknown key" errors); the load as a whole still fails.
    let out = d.parse(&f.text).and_then(|json| {
        decode(
            &mut d,
            At {
                json: &json,
                path: "$",
            },
        )
    });
    diagnostics.extend(d.finish());
    out
}

/// Splits an id into text and number runs so that `hc-2` sorts before `hc-10`.
pub(crate) fn natural_key(id: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in id.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((std::mem::take(&mut text), digits.parse().unwrap_or(u64::MAX)));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

fn decode_manifest(d: &mut Decoder, at: At<'_, '_>) -> Option<Manifest> {
    let obj = d.object(
        at,
        &[
            "id",
            "version",
            "title",
            "description",
            "sources",
            "sets",
            "extends",
        ],
    )?;
    let extends = optional(d, &obj, "extends", |d, at| {
        let o = d.object(at, &["id", "version", "digest"])?;
        let id = required(d, &o, "id", |d, at| d.id(at));
        let version = required(d, &o, "version", |d, at| d.text(at));
        let digest = required(d, &o, "digest", |d, at| d.text(at));
        Some(crate::extends::Extends {
            id: id?,
            version: version?,
            digest: digest?,
        })
    });
    let id = required(d, &obj, "id", |d, at| d.id(at));
    let version = required(d, &obj, "version", |d, at| d.text(at));
    let title = required(d, &obj, "title", |d, at| d.text(at));
    let description = optional(d, &obj, "description", |d, at| d.text(at));
    let sources = optional(d, &obj, "sources", |d, at| {
        let items = d.array(at)?;
        let mut out = Vec::new();
        for (json, path) in items {
            let at = At { json, path: &path };
            let Some(o) = d.object(at, &["file", "title", "date"]) else {
                continue;
            };
            let file = required(d, &o, "file", |d, at| d.text(at));
            let title = required(d, &o, "title", |d, at| d.text(at));
            let date = optional(d, &o, "date", |d, at| d.text(at));
            if let (Some(file), Some(title)) = (file, title) {
                out.push(Source { file, title, date });
            }
        }
        Some(out)
    })
    .unwrap_or_default();
    let sets = optional(d, &obj, "sets", |d, at| {
        let items = d.array(at)?;
        let mut out: Vec<CriteriaSet> = Vec::new();
        for (json, path) in items {
            let at = At { json, path: &path };
            let Some(o) = d.object(at, &["id", "title", "citation"]) else {
                continue;
            };
            let id = required(d, &o, "id", |d, at| d.id(at));
            let title = required(d, &o, "title", |d, at| d.text(at));
            let citation = required(d, &o, "citation", decode_citation);
            if let (Some(id), Some(title), Some(citation)) = (id, title, citation) {
                if out.iter().any(|s| s.id == id) {
                    d.error(at, format!("duplicate set id `{id}`"));
                }
                out.push(CriteriaSet { id, title, citation });
            }
        }
        Some(out)
    })
    .unwrap_or_default();
    Some(Manifest {
        id: id?,
        version: version?,
        title: title?,
        description,
        sources,
        sets,
        extends,
    })
}

pub(crate) fn decode_citation(d: &mut Decoder, at: At<'_, '_>) -> Option<Citation> {
    let o = d.object(at, &["source", "at"])?;
    let source = required(d, &o, "source", |d, at| d.text(at));
    let at_ = required(d, &o, "at", |d, at| d.text(at));
    Some(Citation {
        source: source?,
        at: at_?,
    })
}

/// Decodes the fields that give a value type (`type`, `unit`, `direction`, `scale`).
fn decode_type(d: &mut Decoder, obj: &crate::diagnostic::Object<'_>, scales: &[Scale]) -> Option<ValueType> {
    let kind = required(d, obj, "type", |d, at| {
        d.string(at).map(|s| (s, at.json.pos, at.path.to_string()))
    })?;
    let (kind, pos, path) = kind;
    let forbid = |d: &mut Decoder, fields: &[&str]| {
        for f in fields {
            if let Some((json, path)) = obj.get(f) {
                d.error(
                    At { json, path: &path },
                    format!("`{f}` does not apply to a {kind} value"),
                );
            }
        }
    };
    match kind.as_str() {
        "boolean" | "date" | "text" => {
            forbid(d, &["unit", "direction", "scale", "min", "max", "integer"]);
            Some(match kind.as_str() {
                "boolean" => ValueType::Boolean,
                "date" => ValueType::Date,
                _ => ValueType::Text,
            })
        }
        "number" => {
            forbid(d, &["scale"]);
            let unit = required(d, obj, "unit", |d, at| d.text(at));
            let direction = required(d, obj, "direction", |d, at| {
                let s = d.string(at)?;
                match s.as_str() {
                    "higher_is_better" => Some(Direction::HigherIsBetter),
                    "lower_is_better" => Some(Direction::LowerIsBetter),
                    _ => {
                        d.error(
                            at,
                            format!(
                                "unknown direction `{s}`; expected `higher_is_better` or `lower_is_better`"
                            ),
                        );
                        None
                    }
                }
            });
            let unit = unit?;
            let range = decode_range(d, obj, &unit)?;
            Some(ValueType::Number {
                unit,
                direction: direction?,
                range,
            })
        }
        "grade" => {
            forbid(d, &["unit", "direction", "min", "max", "integer"]);
            let scale = required(d, obj, "scale", |d, at| {
                let s = d.string(at)?;
                if !scales.iter().any(|sc| sc.id == s) {
                    let ids: Vec<&str> = scales.iter().map(|s| s.id.as_str()).collect();
                    let hint = crate::diagnostic::did_you_mean(&s, &ids);
                    d.error(at, format!("unknown scale `{s}`{hint}"));
                    return None;
                }
                Some(s)
            })?;
            Some(ValueType::Grade { scale })
        }
        other => {
            d.report(
                pos,
                &path,
                format!(
                    "unknown type `{other}`; expected one of `boolean`, `number`, `grade`, `date`, `text`"
                ),
            );
            None
        }
    }
}

/// Decodes a number's range (`min`, `max`, `integer`). A share lies in [0, 1] whether or not the
/// file says so; explicit bounds may only narrow that.
fn decode_range(d: &mut Decoder, obj: &crate::diagnostic::Object<'_>, unit: &str) -> Option<Range> {
    let share = unit == crate::vocabulary::SHARE;
    let mut ok = true;
    let mut bound = |d: &mut Decoder, field: &str, implied: f64| -> Option<f64> {
        let (json, path) = obj.get(field)?;
        let at = At { json, path: &path };
        let n = d.number(at)?;
        if share && !(0.0..=1.0).contains(&n) {
            d.error(
                at,
                format!(
                    "a share lies from 0 to 1, so `{field}` cannot be {}",
                    format_number(n)
                ),
            );
            ok = false;
            return Some(implied);
        }
        Some(n)
    };
    let min = bound(d, "min", 0.0).or(share.then_some(0.0));
    let max = bound(d, "max", 1.0).or(share.then_some(1.0));
    let integer = optional(d, obj, "integer", |d, at| d.boolean(at)).unwrap_or(false);
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            if let Some((json, path)) = obj.get("max").or_else(|| obj.get("min")) {
                d.error(
                    At { json, path: &path },
                    format!(
                        "the range is empty: `min` {} is above `max` {}",
                        format_number(a),
                        format_number(b)
                    ),
                );
            }
            ok = false;
        }
    }
    ok.then_some(Range { min, max, integer })
}

/// A key's `max_age_days` naming a parameter, resolved once parameters are decoded: (key,
/// parameter name, where it was written).
type PendingMaxAge = (String, String, crate::json::Pos, String);

fn decode_vocabulary(d: &mut Decoder, at: At<'_, '_>) -> Option<(Vec<Scale>, Vec<Key>, Vec<PendingMaxAge>)> {
    let obj = d.object(at, &["scales", "keys"])?;
    let mut scales: Vec<Scale> = Vec::new();
    if let Some(items) = optional(d, &obj, "scales", |d, at| d.array(at)) {
        for (json, path) in items {
            let at = At { json, path: &path };
            let Some(o) = d.object(at, &["id", "title", "levels", "source"]) else {
                continue;
            };
            let id = required(d, &o, "id", |d, at| d.id(at));
            let title = required(d, &o, "title", |d, at| d.text(at));
            let source = optional(d, &o, "source", |d, at| d.text(at));
            let levels = required(d, &o, "levels", |d, at| {
                let items = d.array(at)?;
                let mut levels: Vec<String> = Vec::new();
                for (json, path) in items {
                    let at = At { json, path: &path };
                    if let Some(l) = d.text(at) {
                        if levels.contains(&l) {
                            d.error(at, format!("level `{l}` is listed twice"));
                        }
                        // A graded rule's verdict is the level's name, in the same place as a
                        // test's `met`/`not_met`/`unknown`; phases also say `known`.
                        if ["met", "not_met", "unknown", "known"].contains(&l.as_str()) {
                            d.error(
                                at,
                                format!("`{l}` is reserved for outcomes and cannot name a level; choose another word"),
                            );
                        }
                        levels.push(l);
                    }
                }
                if levels.len() < 2 {
                    d.error(at, "a scale needs at least two levels, worst first".into());
                    return None;
                }
                Some(levels)
            });
            if let (Some(id), Some(title), Some(levels)) = (id, title, levels) {
                if scales.iter().any(|s| s.id == id) {
                    d.error(at, format!("duplicate scale id `{id}`"));
                }
                scales.push(Scale {
                    id,
                    title,
                    levels,
                    source,
                });
            }
        }
    }
    scales.sort_by(|a, b| a.id.cmp(&b.id));
    let mut keys: Vec<Key> = Vec::new();
    // Where each derived key's formula is written, for the checks that need every key.
    let mut derived_keys: Vec<(String, crate::json::Pos, String)> = Vec::new();
    let mut pending_max_age: Vec<PendingMaxAge> = Vec::new();
    // The names declared so far, to report duplicates without a search of the list per key.
    let mut declared: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let items = required(d, &obj, "keys", |d, at| d.array(at))?;
    for (json, path) in items {
        let at = At { json, path: &path };
        let Some(o) = d.object(
            at,
            &[
                "key",
                "type",
                "unit",
                "direction",
                "min",
                "max",
                "integer",
                "scale",
                "scope",
                "max_age_days",
                "judgement",
                "description",
                "derived",
                "judged_by_roles",
            ],
        ) else {
            continue;
        };
        let key = required(d, &o, "key", |d, at| d.id(at));
        let value_type = decode_type(d, &o, &scales);
        let scope = optional(d, &o, "scope", |d, at| {
            let s = d.string(at)?;
            match s.as_str() {
                "council" => Some(Scope::Council),
                "function" => Some(Scope::Function),
                _ => {
                    d.error(
                        at,
                        format!("unknown scope `{s}`; expected `council` or `function`"),
                    );
                    None
                }
            }
        })
        .unwrap_or(Scope::Council);
        // `{"param": NAME}` is resolved once parameters are known (they are decoded after the
        // vocabulary, since they may be grades on its scales).
        let mut max_age_param: Option<(String, crate::json::Pos, String)> = None;
        let max_age_days = optional(d, &o, "max_age_days", |d, at| {
            if matches!(at.json.kind, Kind::Object(_)) {
                let inner = d.object(at, &["param"])?;
                let (json, path) = inner.require(d, "param")?;
                let name = d.string(At { json, path: &path })?;
                max_age_param = Some((name, json.pos, path));
                return None;
            }
            d.count(at, 1, rules::MAX_AMOUNT)
        });
        let judgement = optional(d, &o, "judgement", |d, at| d.boolean(at)).unwrap_or(false);
        let description = required(d, &o, "description", |d, at| d.text(at));
        let derived = optional(d, &o, "derived", decode_formula);
        let derived_pos = o.get("derived").map(|(json, path)| (json.pos, path));
        let judged_by_roles = optional(d, &o, "judged_by_roles", |d, at| {
            let items = d.array(at)?;
            let mut roles: Vec<String> = Vec::new();
            for (json, path) in items {
                if let Some(r) = d.id(At { json, path: &path }) {
                    if !roles.contains(&r) {
                        roles.push(r);
                    }
                }
            }
            if roles.is_empty() {
                d.error(
                    at,
                    "list at least one role whose judgement counts, or leave `judged_by_roles` out".into(),
                );
            }
            if !judgement {
                d.error(
                    at,
                    "`judged_by_roles` applies to a key that records a judgement; add `\"judgement\": true`"
                        .into(),
                );
            }
            Some(roles)
        })
        .unwrap_or_default();
        if derived.is_some() && judgement {
            d.error(
                at,
                "a derived key is computed, not judged: leave out `judgement`".into(),
            );
        }
        if let (Some(key), Some(value_type), Some(description)) = (key, value_type, description) {
            if !declared.insert(key.clone()) {
                d.error(at, format!("duplicate key `{key}`"));
            }
            if let (Some(_), Some((pos, path))) = (&derived, derived_pos) {
                derived_keys.push((key.clone(), pos, path));
            }
            if let Some((name, pos, path)) = max_age_param {
                pending_max_age.push((key.clone(), name, pos, path));
            }
            keys.push(Key {
                key,
                value_type,
                scope,
                max_age_days,
                max_age_parameter: None,
                max_age_parameter_index: None,
                judgement,
                description,
                derived,
                judged_by_roles,
            });
        }
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    check_derived(d, &keys, &derived_keys);
    Some((scales, keys, pending_max_age))
}

/// Decodes a derived key's formula: exactly one of `ratio` (with an optional `scale`),
/// `difference`, `sum` or `percent_change`, and an optional `align`.
fn decode_formula(d: &mut Decoder, at: At<'_, '_>) -> Option<Formula> {
    const FORMS: [&str; 4] = ["ratio", "difference", "sum", "percent_change"];
    let o = d.object(
        at,
        &["ratio", "difference", "sum", "percent_change", "scale", "align"],
    )?;
    let present: Vec<&str> = FORMS.iter().copied().filter(|f| o.has(f)).collect();
    if present.len() != 1 {
        d.error(
            at,
            format!(
                "a derived key needs exactly one formula: one of {}",
                crate::diagnostic::ticked(&FORMS, ", ")
            ),
        );
        return None;
    }
    if let Some((json, path)) = o.get("align") {
        let at = At { json, path: &path };
        if let Some(align) = d.string(at) {
            if align != "same_date" {
                d.error(
                    at,
                    format!("alignment `{align}` is not offered: a derived key combines inputs observed on the same date (`same_date`), so each value is one day's figure"),
                );
            }
        }
    }
    let names = |d: &mut Decoder, at: At<'_, '_>, exactly: Option<usize>| -> Option<Vec<String>> {
        let items = d.array(at)?;
        let names: Vec<String> = items
            .iter()
            .filter_map(|(json, path)| d.id(At { json, path }))
            .collect();
        if names.len() != items.len() {
            return None;
        }
        match exactly {
            Some(n) if names.len() != n => {
                d.error(at, format!("expected {n} input keys, found {}", names.len()));
                None
            }
            None if names.len() < 2 => {
                d.error(
                    at,
                    format!("a sum needs at least two input keys, found {}", names.len()),
                );
                None
            }
            _ => Some(names),
        }
    };
    if o.has("scale") && !o.has("ratio") {
        if let Some((json, path)) = o.get("scale") {
            d.error(
                At { json, path: &path },
                "`scale` applies to a `ratio` only".into(),
            );
        }
    }
    let form = present.first().copied().unwrap_or_default();
    let (json, path) = o.get(form)?;
    let at = At { json, path: &path };
    match form {
        "ratio" => {
            let scale = optional(d, &o, "scale", |d, at| {
                let n = d.number(at)?;
                if n == 0.0 {
                    d.error(at, "a scale of 0 makes every ratio 0".into());
                    return None;
                }
                Some(n)
            });
            let names = names(d, at, Some(2))?;
            let [numerator, denominator]: [String; 2] = names.try_into().ok()?;
            if o.has("scale") && scale.is_none() {
                return None;
            }
            Some(Formula::Ratio {
                numerator,
                denominator,
                scale: scale.unwrap_or(1.0),
            })
        }
        "difference" => {
            let [minuend, subtrahend]: [String; 2] = names(d, at, Some(2))?.try_into().ok()?;
            Some(Formula::Difference { minuend, subtrahend })
        }
        "sum" => Some(Formula::Sum {
            terms: names(d, at, None)?,
        }),
        _ => {
            let p = d.object(at, &["from", "to"])?;
            let from = required(d, &p, "from", |d, at| d.id(at));
            let to = required(d, &p, "to", |d, at| d.id(at));
            Some(Formula::PercentChange { from: from?, to: to? })
        }
    }
}

/// The checks on derived keys that need the whole vocabulary: inputs are declared number keys
/// of the key's scope, a sum or difference adds like units (in the key's own unit), and no
/// derived key depends on itself through others (every key in a cycle is named).
fn check_derived(d: &mut Decoder, keys: &[Key], derived: &[(String, crate::json::Pos, String)]) {
    // INVARIANT: `keys` is sorted by name.
    let find = |name: &str| {
        keys.binary_search_by(|k| k.key.as_str().cmp(name))
            .ok()
            .and_then(|i| keys.get(i))
    };
    let unit = |k: &Key| match &k.value_type {
        ValueType::Number { unit, .. } => Some(unit.clone()),
        _ => None,
    };
    for (name, pos, path) in derived {
        let Some(key) = find(name) else { continue };
        let Some(formula) = &key.derived else { continue };
        let Some(own_unit) = unit(key) else {
            d.report(
                *pos,
                path,
                format!("derived key `{name}` must be a number (its formula computes one)"),
            );
            continue;
        };
        let mut units: Vec<(String, String)> = Vec::new();
        for input in formula.inputs() {
            let Some(k) = find(input) else {
                let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
                let hint = crate::diagnostic::did_you_mean(input, &names);
                d.report(
                    *pos,
                    path,
                    format!(
                        "derived key `{name}` ({}) reads unknown key `{input}`{hint}",
                        formula.named()
                    ),
                );
                continue;
            };
            let Some(u) = unit(k) else {
                d.report(
                    *pos,
                    path,
                    format!(
                        "derived key `{name}` ({}) reads `{input}`, which is a {}, not a number",
                        formula.named(),
                        k.value_type.describe()
                    ),
                );
                continue;
            };
            if k.scope != key.scope {
                d.report(
                    *pos,
                    path,
                    format!(
                        "derived key `{name}` is {} but its input `{input}` is {}; inputs have the derived key's scope",
                        scope_words(key.scope),
                        scope_words(k.scope)
                    ),
                );
            }
            units.push((input.to_string(), u));
        }
        if matches!(formula, Formula::Sum { .. } | Formula::Difference { .. }) {
            if let Some((input, u)) = units.iter().find(|(_, u)| *u != own_unit) {
                d.report(
                    *pos,
                    path,
                    format!(
                        "derived key `{name}` ({}) is in `{own_unit}` but its input `{input}` is in `{u}`; a sum or difference adds figures in one unit",
                        formula.named()
                    ),
                );
            }
        }
    }
    let position = |name: &str| derived.iter().find(|(n, _, _)| n == name);
    for cycle in derived_cycles(keys) {
        let Some((_, pos, path)) = cycle.first().and_then(|first| position(first)) else {
            continue;
        };
        let names: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|k| format!("`{k}`"))
            .collect();
        d.report(
            *pos,
            path,
            format!("derived keys depend on themselves: {}", names.join(" → ")),
        );
    }
}

/// Every cycle among derived keys (each once, as the keys on it in dependency order). The walk
/// keeps its own stack, so a long chain of derived keys cannot overflow the thread's.
fn derived_cycles(keys: &[Key]) -> Vec<Vec<String>> {
    let index: BTreeMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.key.as_str(), i))
        .collect();
    let inputs = |i: usize| -> Vec<usize> {
        keys.get(i)
            .and_then(|k| k.derived.as_ref())
            .map(|f| f.inputs().iter().filter_map(|n| index.get(n).copied()).collect())
            .unwrap_or_default()
    };
    // 0: not seen; 1: on the current path; 2: done.
    let mut state = vec![0u8; keys.len()];
    let mut cycles = Vec::new();
    for start in 0..keys.len() {
        if state.get(start) != Some(&0) {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, inputs(start))];
        if let Some(s) = state.get_mut(start) {
            *s = 1;
        }
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) => match state.get(next) {
                    Some(0) => {
                        if let Some(s) = state.get_mut(next) {
                            *s = 1;
                        }
                        stack.push((next, inputs(next)));
                    }
                    Some(1) => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let cycle = stack
                            .get(from..)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|(n, _)| keys.get(*n).map(|k| k.key.clone()))
                            .collect();
                        cycles.push(cycle);
                    }
                    _ => {}
                },
                None => {
                    if let Some(s) = state.get_mut(node) {
                        *s = 2;
                    }
                    stack.pop();
                }
            }
        }
    }
    cycles
}

fn scope_words(scope: Scope) -> &'static str {
    match scope {
        Scope::Council => "council-wide",
        Scope::Function => "recorded per function",
    }
}

fn decode_parameters(d: &mut Decoder, at: At<'_, '_>, scales: &[Scale]) -> Option<Vec<Parameter>> {
    let obj = d.object(at, &["parameters"])?;
    let items = required(d, &obj, "parameters", |d, at| d.array(at))?;
    let mut out: Vec<Parameter> = Vec::new();
    for (json, path) in items {
        let at = At { json, path: &path };
        let Some(o) = d.object(
            at,
            &[
                "name",
                "type",
                "unit",
                "direction",
                "min",
                "max",
                "integer",
                "scale",
                "default",
                "rationale",
                "assumption",
                "rests_on",
            ],
        ) else {
            continue;
        };
        let name = required(d, &o, "name", |d, at| d.id(at));
        let value_type = decode_type(d, &o, scales);
        let default = match &value_type {
            Some(t) => required(d, &o, "default", |d, at| decode_value(d, at, t, scales)),
            None => None,
        };
        let rationale = required(d, &o, "rationale", |d, at| d.text(at));
        let assumption = optional(d, &o, "assumption", |d, at| d.boolean(at)).unwrap_or(false);
        let rests_on = optional(d, &o, "rests_on", |d, at| d.text(at));
        if assumption && rests_on.is_none() {
            d.error(
                at,
                "a parameter marked `assumption` must say in `rests_on` what public figure or policy it rests on".into(),
            );
        }
        if let (Some(name), Some(value_type), Some(default), Some(rationale)) =
            (name, value_type, default, rationale)
        {
            if out.iter().any(|p| p.name == name) {
                d.error(at, format!("duplicate parameter `{name}`"));
            }
            out.push(Parameter {
                name,
                value_type,
                default,
                rationale,
                assumption,
                rests_on,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Some(out)
}

/// Keys by name; where a name is declared twice (a load error), the first.
pub(crate) fn key_names(keys: &[Key]) -> BTreeMap<&str, usize> {
    let mut names = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        names.entry(k.key.as_str()).or_insert(i);
    }
    names
}

struct RuleContext<'a> {
    keys: &'a [Key],
    key_names: &'a std::collections::BTreeMap<&'a str, usize>,
    scales: &'a [Scale],
    parameters: &'a [Parameter],
    functions: &'a [Function],
    sets: &'a [CriteriaSet],
}

fn decode_rule(
    d: &mut Decoder,
    at: At<'_, '_>,
    ctx: &RuleContext<'_>,
    owner: usize,
    pending: &mut Vec<PendingRef>,
) -> Option<Rule> {
    let obj = d.object(
        at,
        &[
            "id",
            "title",
            "set",
            "quote",
            "citation",
            "kind",
            "per_function",
            "condition",
            "scale",
            "levels",
        ],
    )?;
    let before = d.diagnostics.len();
    let id = required(d, &obj, "id", |d, at| d.id(at));
    let title = required(d, &obj, "title", |d, at| d.text(at));
    let set = optional(d, &obj, "set", |d, at| {
        let s = d.id(at)?;
        if !ctx.sets.iter().any(|m| m.id == s) {
            d.error(at, format!("unknown set `{s}`; sets are declared in `pack.json`"));
            return None;
        }
        Some(s)
    });
    let quote = required(d, &obj, "quote", |d, at| d.text(at));
    let citation = required(d, &obj, "citation", decode_citation);
    let per_function = optional(d, &obj, "per_function", |d, at| d.boolean(at)).unwrap_or(false);
    if per_function && ctx.functions.is_empty() {
        d.error(
            at,
            "a `per_function` rule needs functions, declared in `functions.json`".into(),
        );
    }
    let mut scope = Scope_ {
        keys: ctx.keys,
        key_names: ctx.key_names,
        scales: ctx.scales,
        parameters: ctx.parameters,
        functions: ctx.functions,
        per_function,
        owner,
        level: 0,
        next_ref: 0,
        pending,
    };
    let body = rules::decode_body(d, &obj, &mut scope);
    if d.diagnostics.len() != before {
        // Drop the references this rule made: it will not be part of the pack.
        pending.retain(|p| p.owner != owner);
        return None;
    }
    let body = body?;
    Some(Rule {
        id: id?,
        title: title?,
        set,
        quote: quote?,
        citation: citation?,
        per_function,
        body,
        // Computed once the rule graph is known.
        monotone: false,
        origin: Origin {
            file: d.file.clone(),
            pos: at.json.pos,
            path: at.path.to_string(),
        },
    })
}

fn at_rule(rule: &Rule, message: String) -> Diagnostic {
    Diagnostic {
        file: rule.origin.file.clone(),
        line: rule.origin.pos.line,
        column: rule.origin.pos.column,
        path: rule.origin.path.clone(),
        message,
    }
}

fn resolve_refs(
    rules: &mut [Rule],
    pending: &[PendingRef],
    scales: &[Scale],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let index: BTreeMap<String, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
    // Resolve each pending reference to (target, level rank), or report why it cannot be.
    let mut resolved: BTreeMap<(usize, usize, usize), (usize, Option<usize>)> = BTreeMap::new();
    for p in pending {
        let Some(owner) = rules.get(p.owner) else {
            continue;
        };
        let report = |diagnostics: &mut Vec<Diagnostic>, message: String| {
            diagnostics.push(Diagnostic {
                file: owner.origin.file.clone(),
                line: p.pos.line,
                column: p.pos.column,
                path: p.path.clone(),
                message,
            });
        };
        let Some(&target) = index.get(&p.target) else {
            let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
            let hint = crate::diagnostic::did_you_mean(&p.target, &ids);
            report(
                diagnostics,
                format!("rule `{}` refers to unknown rule `{}`{hint}", owner.id, p.target),
            );
            continue;
        };
        let Some(target_rule) = rules.get(target) else {
            continue;
        };
        if target_rule.per_function && !owner.per_function && p.function.is_none() {
            report(
                diagnostics,
                format!(
                    "rule `{}` is evaluated per function; from the council-wide rule `{}`, name the function with `function`",
                    target_rule.id, owner.id
                ),
            );
            continue;
        }
        if !target_rule.per_function && p.function.is_some() {
            report(
                diagnostics,
                format!(
                    "rule `{}` is council-wide, so `function` does not apply",
                    target_rule.id
                ),
            );
            continue;
        }
        let level = match (&target_rule.body, &p.at_least) {
            (Body::Test(_), None) => None,
            (Body::Test(_), Some(_)) => {
                report(
                    diagnostics,
                    format!(
                        "rule `{}` is a test; `at_least` applies only to graded rules",
                        target_rule.id
                    ),
                );
                continue;
            }
            (Body::Graded { scale, .. }, None) => {
                let name = scales.get(*scale).map(|s| s.id.as_str()).unwrap_or("?");
                report(
                    diagnostics,
                    format!(
                        "rule `{}` is graded on scale `{name}`; say which level is enough with `at_least`",
                        target_rule.id
                    ),
                );
                continue;
            }
            (Body::Graded { scale, .. }, Some(level)) => {
                let Some(scale) = scales.get(*scale) else {
                    continue;
                };
                match scale.rank(level) {
                    Some(rank) => Some(rank),
                    None => {
                        report(
                            diagnostics,
                            format!("`{level}` is not a level of scale `{}`", scale.id),
                        );
                        continue;
                    }
                }
            }
        };
        resolved.insert((p.owner, p.slot.0, p.slot.1), (target, level));
    }
    for (owner, rule) in rules.iter_mut().enumerate() {
        for (slot, condition) in rule.body.conditions_mut() {
            let mut n = 0;
            rules::refs_mut(condition, &mut |r| {
                if let Some(&(target, level)) = resolved.get(&(owner, slot, n)) {
                    r.rule = target;
                    r.at_least = level;
                }
                n += 1;
            });
        }
    }
}

/// Orders rules so that each comes after those it refers to; reports every cycle, naming each
/// rule in it.
fn rule_order(rules: &[Rule], diagnostics: &mut Vec<Diagnostic>) -> Vec<usize> {
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..rules.len()).map(|i| graph.add_node(i)).collect();
    for (i, rule) in rules.iter().enumerate() {
        for (_, c) in rule.body.conditions() {
            c.for_each_ref(&mut |r| {
                if let (Some(&from), Some(&to)) = (nodes.get(i), nodes.get(r.rule)) {
                    graph.update_edge(from, to, ());
                }
            });
        }
    }
    let mut cyclic = false;
    // Kosaraju's algorithm, not Tarjan's: petgraph's Tarjan recurses once per rule in a chain,
    // and overflows a 2 MiB stack at a few thousand.
    for scc in petgraph::algo::kosaraju_scc(&graph) {
        let self_loop = scc.len() == 1 && scc.first().is_some_and(|&n| graph.contains_edge(n, n));
        if scc.len() < 2 && !self_loop {
            continue;
        }
        cyclic = true;
        let cycle = cycle_path(&graph, &scc);
        let names: Vec<&str> = cycle
            .iter()
            .filter_map(|n| {
                graph
                    .node_weight(*n)
                    .and_then(|&i| rules.get(i))
                    .map(|r| r.id.as_str())
            })
            .collect();
        let first = scc
            .iter()
            .filter_map(|n| graph.node_weight(*n).and_then(|&i| rules.get(i)))
            .min_by(|a, b| natural_key(&a.id).cmp(&natural_key(&b.id)));
        if let Some(first) = first {
            let message = if self_loop {
                format!("rule `{}` refers to itself", first.id)
            } else {
                format!(
                    "rules refer to each other in a cycle: {}; a rule may not depend on its own outcome",
                    crate::diagnostic::ticked(&names, " -> ")
                )
            };
            diagnostics.push(at_rule(first, message));
        }
    }
    if cyclic {
        return Vec::new();
    }
    match petgraph::algo::toposort(&graph, None) {
        // toposort puts a referring rule before the rules it refers to; evaluation needs the
        // reverse.
        Ok(order) => order
            .into_iter()
            .rev()
            .filter_map(|n| graph.node_weight(n).copied())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A closed walk through every node of a strongly connected component is not always simple;
/// this finds one simple cycle through the component's smallest node, which names the rules a
/// user must untangle, and appends the start again to show the loop.
///
/// The search keeps its own stack, so a cycle through thousands of rules cannot overflow the
/// thread's; membership is looked up in sets, so it stays near-linear in the component's size.
fn cycle_path(graph: &DiGraph<usize, ()>, scc: &[NodeIndex]) -> Vec<NodeIndex> {
    let Some(&start) = scc.iter().min_by_key(|n| graph.node_weight(**n).copied()) else {
        return Vec::new();
    };
    let members: std::collections::BTreeSet<NodeIndex> = scc.iter().copied().collect();
    let successors = |here: NodeIndex| {
        let mut next: Vec<NodeIndex> = graph.neighbors(here).filter(|n| members.contains(n)).collect();
        next.sort();
        next.into_iter()
    };
    let mut path = vec![start];
    let mut visited = std::collections::BTreeSet::from([start]);
    // One iterator of unexplored successors per node on the path, in the same order as a
    // recursive depth-first search would take them.
    let mut pending = vec![successors(start)];
    while let Some(next) = pending.last_mut() {
        match next.next() {
            Some(n) if n == start => {
                path.push(start);
                return path;
            }
            Some(n) => {
                if visited.insert(n) {
                    path.push(n);
                    pending.push(successors(n));
                }
            }
            None => {
                pending.pop();
                if !pending.is_empty() {
                    path.pop();
                }
            }
        }
    }
    path
}

/// Whether improving any input of a derived key (in the input's better direction) can only
/// improve the derived value (in the key's): a sum whose terms point the key's way, a
/// difference whose minuend does and whose subtrahend points the other way. A ratio or a
/// percentage change moves with its inputs' signs and is undefined at zero, so never; a key that
/// is not derived, always.
fn improves_with_inputs(key: &Key, keys: &[Key], depth: usize) -> bool {
    let Some(formula) = &key.derived else {
        return true;
    };
    let higher = |k: &Key| match k.value_type {
        ValueType::Number { direction, .. } => Some(direction == Direction::HigherIsBetter),
        _ => None,
    };
    let Some(up) = higher(key) else {
        return false;
    };
    // Derived keys cannot form a cycle (a load error), but stay bounded whatever.
    let input = |name: &str, same: bool| {
        depth < 32
            && keys.iter().find(|k| k.key == name).is_some_and(|k| {
                higher(k).is_some_and(|h| (h == up) == same) && improves_with_inputs(k, keys, depth + 1)
            })
    };
    match formula {
        Formula::Sum { terms } => terms.iter().all(|t| input(t, true)),
        Formula::Difference { minuend, subtrahend } => input(minuend, true) && input(subtrahend, false),
        Formula::Ratio { .. } | Formula::PercentChange { .. } => false,
    }
}

/// Marks each rule monotone when improving any observation (in its key's better direction) can
/// never worsen its outcome: every comparison points the key's better way, there is no `not` and
/// no trend, and every rule it refers to is monotone too.
fn compute_monotone(rules: &mut [Rule], keys: &[Key], parameters: &[Parameter], order: &[usize]) {
    let leaf_monotone = |leaf: &rules::Leaf| {
        let Some(key) = keys.get(leaf.key) else {
            return false;
        };
        // A derived value must improve whenever one of its inputs does.
        let sides = match &leaf.test {
            rules::LeafTest::Against { other, .. } => vec![leaf.key, other.key],
            _ => vec![leaf.key],
        };
        if !sides
            .iter()
            .all(|&k| keys.get(k).is_some_and(|k| improves_with_inputs(k, keys, 0)))
        {
            return false;
        }
        let (op, threshold) = match &leaf.test {
            rules::LeafTest::Present => return true,
            // A trend compares with an earlier value, which improving makes harder to beat; the
            // days since an event move with which observation is the latest to meet it.
            rules::LeafTest::Trend { .. } | rules::LeafTest::DaysSince { .. } => return false,
            // Improving either side must never hurt: the key's better direction must agree with
            // the operator, and the other key's with the operator turned round.
            rules::LeafTest::Against { op, other } => {
                let Some(other_key) = keys.get(other.key) else {
                    return false;
                };
                let agrees = |value_type: &ValueType, op: rules::Op| match value_type {
                    ValueType::Number {
                        direction: Direction::HigherIsBetter,
                        ..
                    }
                    | ValueType::Grade { .. } => matches!(op, rules::Op::Gt | rules::Op::Ge),
                    ValueType::Number {
                        direction: Direction::LowerIsBetter,
                        ..
                    } => matches!(op, rules::Op::Lt | rules::Op::Le),
                    _ => false,
                };
                let turned = match op {
                    rules::Op::Lt => rules::Op::Gt,
                    rules::Op::Le => rules::Op::Ge,
                    rules::Op::Gt => rules::Op::Lt,
                    rules::Op::Ge => rules::Op::Le,
                    other => *other,
                };
                return agrees(&key.value_type, *op) && agrees(&other_key.value_type, turned);
            }
            // A count (consecutive or not) only gains qualifying observations when values
            // improve; which observations are in its window does not depend on their values.
            rules::LeafTest::Compare { op, threshold }
            | rules::LeafTest::Sustained { op, threshold, .. }
            | rules::LeafTest::Count { op, threshold, .. } => (*op, threshold),
        };
        use rules::Op::*;
        match &key.value_type {
            ValueType::Number {
                direction: Direction::HigherIsBetter,
                ..
            }
            | ValueType::Grade { .. } => matches!(op, Gt | Ge),
            ValueType::Number {
                direction: Direction::LowerIsBetter,
                ..
            } => matches!(op, Lt | Le),
            ValueType::Boolean => {
                let value = match threshold {
                    rules::Threshold::Literal(v) => Some(v),
                    rules::Threshold::Parameter(i) => parameters.get(*i).map(|p| &p.default),
                };
                matches!(
                    (op, value),
                    (Eq, Some(Value::Boolean(true))) | (Ne, Some(Value::Boolean(false)))
                )
            }
            // Dates and text have no better direction, so "improving" them is not defined.
            ValueType::Date | ValueType::Text => true,
        }
    };
    let mut monotone = vec![false; rules.len()];
    for &i in order {
        let Some(rule) = rules.get(i) else { continue };
        let m = rule
            .body
            .conditions()
            .iter()
            .all(|(_, c)| c.is_monotone(&leaf_monotone, &|r| monotone.get(r).copied().unwrap_or(false)));
        if let Some(slot) = monotone.get_mut(i) {
            *slot = m;
        }
    }
    for (rule, m) in rules.iter_mut().zip(monotone) {
        rule.monotone = m;
    }
}

/// A parameter value given by the caller to override a default (for what-if runs).
pub fn parse_parameter(pack: &Pack, name: &str, json_text: &str) -> Result<Value, String> {
    let found = pack.parameters.iter().position(|p| p.name == name);
    let Some(param) = found.and_then(|i| pack.parameters.get(i)) else {
        let names: Vec<&str> = pack.parameters.iter().map(|p| p.name.as_str()).collect();
        let hint = crate::diagnostic::did_you_mean(name, &names);
        return Err(format!("unknown parameter `{name}`{hint}"));
    };
    let mut d = Decoder::new("<parameter>");
    let text = match (&param.value_type, json_text.trim_start().chars().next()) {
        // Let people write grades, dates and text without JSON quotes on a command line.
        (ValueType::Grade { .. } | ValueType::Date | ValueType::Text, Some(c)) if c != '"' => {
            serde_json::to_string(json_text).unwrap_or_default()
        }
        // `25%` for a share, as people write it.
        (ValueType::Number { unit, .. }, Some(c))
            if unit == crate::vocabulary::SHARE && c != '"' && json_text.trim_end().ends_with('%') =>
        {
            serde_json::to_string(json_text.trim()).unwrap_or_default()
        }
        _ => json_text.to_string(),
    };
    let json = d.parse(&text);
    let value = json.as_ref().and_then(|json| {
        if matches!(json.kind, Kind::Null) {
            return None;
        }
        decode_value(&mut d, At { json, path: "$" }, &param.value_type, &pack.scales)
    });
    let uses = found.and_then(|i| pack.parameter_uses.get(i));
    if let (Some(Value::Number(n)), Some(uses)) = (&value, uses) {
        for key in uses.compared.iter().filter_map(|&k| pack.keys.get(k)) {
            if let ValueType::Number { unit, range, .. } = &key.value_type {
                if let Some(problem) = crate::vocabulary::out_of_range(*n, unit, range) {
                    return Err(format!(
                        "parameter `{name}` is compared with key `{}`: {problem}",
                        key.key
                    ));
                }
            }
        }
    }
    // A window or a count must stay a whole number of days or observations from 1.
    if let (Some(v), Some(uses)) = (&value, uses) {
        if let Some((rule, field)) = &uses.amount {
            if let Err(problem) = crate::rules::amount_value(v) {
                return Err(format!("parameter `{name}` is `{field}` in {rule}: {problem}"));
            }
        }
    }
    // A change's size must stay above 0, as its default must: 0 would count no change, and
    // less a worsening, as the improvement asked for.
    if let (Some(Value::Number(n)), Some(uses)) = (&value, uses) {
        if let Some(rule) = &uses.size {
            if *n <= 0.0 {
                return Err(format!(
                    "parameter `{name}` sizes an improvement in rule `{rule}`: `{n}` is not above 0"
                ));
            }
        }
    }
    // A number of the right type that is out of range gets the range's own message and hint.
    if let (ValueType::Number { unit, range, .. }, Some(Kind::Number(n))) =
        (&param.value_type, json.as_ref().map(|j| &j.kind))
    {
        if let Some(problem) = crate::vocabulary::out_of_range(*n, unit, range) {
            return Err(format!("parameter `{name}`: {problem}"));
        }
    }
    match value {
        Some(v) if d.diagnostics.is_empty() => Ok(v),
        _ => Err(format!(
            "`{json_text}` is not a valid value for parameter `{name}`, which is {}",
            param.value_type.describe()
        )),
    }
}

/// Checks every rule's quote against the source documents it cites (`sources`: file name and
/// text), whitespace and typography normalised. Each rule whose source is missing, or whose
/// quote no longer stands in it, gets a diagnostic located at the rule.
pub fn check_sources(pack: &Pack, sources: &[(String, String)], folder: &str) -> Vec<Diagnostic> {
    let normalised: BTreeMap<&str, String> = sources
        .iter()
        .map(|(name, text)| (name.as_str(), crate::canonical::normalise_quote(text)))
        .collect();
    let mut out = Vec::new();
    for rule in &pack.rules {
        let message = match normalised.get(rule.citation.source.as_str()) {
            None => format!(
                "rule `{}` cites `{}`, which is not among the sources in `{folder}`",
                rule.id, rule.citation.source
            ),
            Some(text) if !text.contains(&crate::canonical::normalise_quote(&rule.quote)) => format!(
                "rule `{}`: its quote no longer stands in `{}` ({}); quote sha256 {}",
                rule.id,
                rule.citation.source,
                rule.citation.at,
                crate::canonical::sha256(crate::canonical::normalise_quote(&rule.quote).as_bytes())
            ),
            Some(_) => continue,
        };
        out.push(Diagnostic {
            file: rule.origin.file.clone(),
            line: rule.origin.pos.line,
            column: rule.origin.pos.column,
            path: format!("{}.quote", rule.origin.path),
            message,
        });
    }
    out
}
