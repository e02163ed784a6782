//! A pack's own golden cases: evidence, a date and the outcomes its author expects, kept in the
//! pack's `tests/` folder and run by `handback test` (in the manner of `opa test` and
//! OpenFisca's YAML tests).
//!
//! A case is checked against the pack when it is read, so a mistyped rule id or level is a
//! located error, not a silently failing (or silently passing) expectation. The library reads no
//! files: the caller resolves a case's `evidence` and `directions` paths and passes them in.
//! Coverage is counted over what cases *assert*, not what they happen to evaluate: an outcome
//! nobody checks protects nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::assess::{assess, Options};
use crate::diagnostic::{did_you_mean, optional, required, At, Decoder, Diagnostic};
use crate::directions::Directions;
use crate::evidence::{Basis, Evidence};
use crate::json::Pos;
use crate::pack::{decode_file, LoadError, Pack, SourceFile};
use crate::rules::Body;

/// One golden case of a pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The case file, as the caller named it.
    pub file: String,
    /// What the case shows, in the author's words.
    pub description: String,
    /// The evidence file, relative to the case file's folder.
    pub evidence: String,
    /// A Directions file, relative to the case file's folder: who holds each power, for
    /// `expect_plan` (without it every function is taken as held).
    pub directions: Option<String>,
    /// The assessment date; default: the evidence's `as_of`, else its latest observation.
    pub as_of: Option<chrono::NaiveDate>,
    /// Use only evidence recorded by this date.
    pub known_at: Option<chrono::NaiveDate>,
    /// Parameter overrides, already checked against the pack.
    pub parameters: BTreeMap<String, crate::vocabulary::Value>,
    /// Bases left out of the evaluation.
    pub exclude_basis: Vec<Basis>,
    /// What the author expects.
    pub expectations: Vec<Expectation>,
}

/// One expected fact about the case's assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The rule.
    pub rule: String,
    /// The function, for a per-function rule.
    pub function: Option<String>,
    /// What is expected of it.
    pub expects: Expects,
    /// Where the expectation is written.
    pub at: Diagnostic,
}

/// What an expectation checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Expects {
    /// The outcome: `met`, `not_met`, `unknown`, or a level of a graded rule.
    Outcome(String),
    /// The level an unknown grade certainly reaches (`rule@at_least`).
    AtLeast(String),
    /// The weakest basis the verdict rests on (`none` when it rests on nothing).
    Basis(String),
    /// Text the reasons must contain.
    Reason(String),
    /// A value in the plan, at a dotted path (`exit.possible`, `functions.audit.step`: an
    /// array is indexed by its elements' `id` or `function`).
    Plan(String, serde_json::Value),
}

/// A case that does not hold, and every way in which it does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseResult {
    /// The case file.
    pub file: String,
    /// What the case shows.
    pub description: String,
    /// How many expectations were checked.
    pub checked: usize,
    /// Each expectation that failed: where it is written, what was expected and what came out.
    pub failures: Vec<String>,
}

/// A rule's outcomes (or levels) that no case asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Uncovered {
    /// The rule.
    pub rule: String,
    /// The outcomes or levels no case expects of it, in the rule's order.
    pub outcomes: Vec<String>,
}

impl Case {
    /// Reads a case file and checks it against the pack: rule ids, functions, outcomes and
    /// levels, parameters and bases. Every problem is reported, located.
    pub fn load(pack: &Pack, file: &SourceFile) -> Result<Case, LoadError> {
        let mut diagnostics = Vec::new();
        let case = decode_file(file, &mut diagnostics, |d, at| decode_case(pack, d, at));
        match case {
            Some(c) if diagnostics.is_empty() => Ok(c),
            _ => Err(LoadError::new(diagnostics)),
        }
    }

    /// Runs the case on its evidence (and Directions), already loaded by the caller.
    pub fn run(&self, pack: &Pack, evidence: &Evidence, directions: Option<&Directions>) -> CaseResult {
        let as_of = self.as_of.or(evidence.as_of).or_else(|| evidence.latest_date());
        let mut failures = Vec::new();
        let Some(as_of) = as_of else {
            failures.push(format!(
                "{}: the evidence has no observations and no `as_of`; give the case an `as_of`",
                self.file
            ));
            return self.result(failures);
        };
        let mut options = Options::new(as_of);
        options.parameters = self.parameters.clone();
        options.known_at = self.known_at;
        options.exclude_basis = self.exclude_basis.clone();
        let assessment = assess(pack, evidence, &options);
        let plan = self
            .expectations
            .iter()
            .any(|e| matches!(e.expects, Expects::Plan(..)))
            .then(|| {
                serde_json::to_value(crate::plan::plan(pack, &assessment, directions)).unwrap_or_default()
            });
        let results: BTreeMap<(&str, Option<&str>), &crate::assess::RuleResult> = assessment
            .results
            .iter()
            .map(|r| ((r.rule.as_str(), r.function.as_deref()), r))
            .collect();
        for e in &self.expectations {
            if let (Expects::Plan(path, want), Some(plan)) = (&e.expects, &plan) {
                let got = at_path(plan, path);
                match got {
                    Err(missing) => failures.push(format!("{}: {missing}", place(&e.at))),
                    Ok(got) if got != want => failures.push(format!(
                        "{}: the plan's `{path}` expected {}, got {}",
                        place(&e.at),
                        serde_json::to_string(want).unwrap_or_default(),
                        serde_json::to_string(got).unwrap_or_default()
                    )),
                    Ok(_) => {}
                }
                continue;
            }
            let name = match &e.function {
                Some(f) => format!("{}@{f}", e.rule),
                None => e.rule.clone(),
            };
            let Some(result) = results.get(&(e.rule.as_str(), e.function.as_deref())) else {
                failures.push(format!("{}: `{name}` has no result", place(&e.at)));
                continue;
            };
            let failure = match &e.expects {
                Expects::Outcome(want) => (result.outcome.code() != want)
                    .then(|| format!("`{name}` expected {want}, got {}", result.outcome.code())),
                Expects::AtLeast(want) => {
                    let got = result.at_least.as_deref();
                    (got != Some(want.as_str())).then(|| {
                        format!(
                            "`{name}` expected to reach at least {want}, got {}",
                            got.unwrap_or("no floor")
                        )
                    })
                }
                Expects::Basis(want) => {
                    let got = result.basis.map_or("none", Basis::word);
                    (got != want).then(|| format!("`{name}` expected to rest on {want}, got {got}"))
                }
                Expects::Plan(..) => None,
                Expects::Reason(want) => {
                    let text = result
                        .reason
                        .as_ref()
                        .and_then(|r| serde_json::to_string(r).ok())
                        .unwrap_or_default();
                    (!text.contains(want.as_str()))
                        .then(|| format!("the reasons for `{name}` do not mention `{want}`"))
                }
            };
            if let Some(f) = failure {
                failures.push(format!("{}: {f}", place(&e.at)));
            }
        }
        self.result(failures)
    }

    fn result(&self, failures: Vec<String>) -> CaseResult {
        CaseResult {
            file: self.file.clone(),
            description: self.description.clone(),
            checked: self.expectations.len(),
            failures,
        }
    }
}

fn place(d: &Diagnostic) -> String {
    format!("{}:{}:{}: {}", d.file, d.line, d.column, d.path)
}

/// The outcomes (test rules) or levels (graded rules) of every rule that no case expects.
/// `unknown` is not counted: a case that expects it checks that evidence is missing, not that a
/// criterion is decided.
pub fn coverage(pack: &Pack, cases: &[Case]) -> Vec<Uncovered> {
    let mut asserted: BTreeSet<(&str, &str)> = BTreeSet::new();
    for case in cases {
        for e in &case.expectations {
            if let Expects::Outcome(o) = &e.expects {
                asserted.insert((e.rule.as_str(), o.as_str()));
            }
        }
    }
    let mut out = Vec::new();
    for rule in pack.rules() {
        let outcomes = outcomes_of(&rule.body);
        let missing: Vec<String> = outcomes
            .into_iter()
            .filter(|o| {
                !o.is_empty() && o != "unknown" && !asserted.contains(&(rule.id.as_str(), o.as_str()))
            })
            .collect();
        if !missing.is_empty() {
            out.push(Uncovered {
                rule: rule.id.clone(),
                outcomes: missing,
            });
        }
    }
    out
}

/// The outcomes a rule can have, in its own order (best first for graded rules).
fn outcomes_of(body: &Body) -> Vec<String> {
    match body {
        Body::Test(_) => vec!["met".into(), "not_met".into()],
        Body::Graded { levels, .. } => levels.iter().map(|l| l.name.clone()).collect(),
    }
}

const CASE_FIELDS: [&str; 11] = [
    "description",
    "evidence",
    "directions",
    "expect_plan",
    "as_of",
    "known_at",
    "parameters",
    "exclude_basis",
    "expect",
    "expect_basis",
    "expect_reasons",
];

fn decode_case(pack: &Pack, d: &mut Decoder, at: At<'_, '_>) -> Option<Case> {
    let obj = d.object(at, &CASE_FIELDS)?;
    let description = required(d, &obj, "description", |d, at| d.text(at));
    let evidence = required(d, &obj, "evidence", |d, at| d.text(at));
    let directions = optional(d, &obj, "directions", |d, at| d.text(at));
    let as_of = optional(d, &obj, "as_of", |d, at| d.date(at));
    let known_at = optional(d, &obj, "known_at", |d, at| d.date(at));
    let mut parameters = BTreeMap::new();
    let mut exclude_basis = Vec::new();
    if let Some(items) = optional(d, &obj, "exclude_basis", |d, at| d.array(at)) {
        for (json, path) in items {
            let at = At { json, path: &path };
            if let Some(word) = d.text(at) {
                match Basis::from_word(&word) {
                    Some(b) => exclude_basis.push(b),
                    None => d.error(
                        at,
                        format!(
                            "unknown basis `{word}`; one of measured, document, judgement, decision, unstated, reconstructed, hypothetical"
                        ),
                    ),
                }
            }
        }
    }
    let mut expectations = Vec::new();
    for (field, kind) in [("expect", 0u8), ("expect_basis", 1), ("expect_reasons", 2)] {
        let Some((json, path)) = obj.get(field) else {
            continue;
        };
        let crate::json::Kind::Object(members) = &json.kind else {
            d.error(
                At { json, path: &path },
                format!("`{field}` is an object of rule ids (`RULE` or `RULE@FUNCTION`)"),
            );
            continue;
        };
        for m in members {
            let mut p = path.clone();
            crate::json::push_key(&mut p, &m.key);
            let at = At {
                json: &m.value,
                path: &p,
            };
            let Some((rule, function, at_least)) = target(pack, d, &m.key, m.key_pos, &p) else {
                continue;
            };
            let mut wants: Vec<String> = Vec::new();
            if kind == 2 {
                if let Some(items) = d.array(at) {
                    for (json, path) in items {
                        if let Some(t) = d.text(At { json, path: &path }) {
                            wants.push(t);
                        }
                    }
                }
            } else if let Some(t) = d.text(at) {
                wants.push(t);
            }
            for want in wants {
                let expects = match kind {
                    0 if at_least => Expects::AtLeast(want),
                    0 => Expects::Outcome(want),
                    1 => Expects::Basis(want),
                    _ => Expects::Reason(want),
                };
                if !expectation_fits(pack, d, at, &rule, &expects) {
                    continue;
                }
                expectations.push(Expectation {
                    rule: rule.clone(),
                    function: function.clone(),
                    expects,
                    at: Diagnostic {
                        file: d.file.clone(),
                        line: m.value.pos.line,
                        column: m.value.pos.column,
                        path: p.clone(),
                        message: String::new(),
                    },
                });
            }
        }
    }
    if let Some((json, path)) = obj.get("parameters") {
        if let crate::json::Kind::Object(members) = &json.kind {
            for m in members {
                let mut p = path.clone();
                crate::json::push_key(&mut p, &m.key);
                let value = crate::canonical::value(&m.value);
                match crate::pack::parse_parameter(pack, &m.key, &value.to_string()) {
                    Ok(v) => {
                        parameters.insert(m.key.clone(), v);
                    }
                    Err(e) => d.report(m.value.pos, &p, e),
                }
            }
        } else {
            d.error(
                At { json, path: &path },
                "`parameters` is an object of parameter names and values".into(),
            );
        }
    }
    if let Some((json, path)) = obj.get("expect_plan") {
        match &json.kind {
            crate::json::Kind::Object(members) => {
                for m in members {
                    let mut p = path.clone();
                    crate::json::push_key(&mut p, &m.key);
                    expectations.push(Expectation {
                        rule: String::new(),
                        function: None,
                        expects: Expects::Plan(m.key.clone(), crate::canonical::value(&m.value)),
                        at: Diagnostic {
                            file: d.file.clone(),
                            line: m.value.pos.line,
                            column: m.value.pos.column,
                            path: p,
                            message: String::new(),
                        },
                    });
                }
            }
            _ => d.error(
                At { json, path: &path },
                "`expect_plan` is an object of dotted paths into the plan (`exit.possible`, `functions.ID.step`) and the values expected there".into(),
            ),
        }
    }
    if ["expect", "expect_basis", "expect_reasons", "expect_plan"]
        .iter()
        .all(|f| obj.get(f).is_none())
    {
        d.report(
            obj.pos,
            &obj.path,
            "a case expects something: give `expect` (outcomes by rule id), `expect_basis`, `expect_reasons` or `expect_plan`".into(),
        );
    }
    Some(Case {
        file: d.file.clone(),
        description: description?,
        evidence: evidence?,
        directions,
        as_of,
        known_at,
        parameters,
        exclude_basis,
        expectations,
    })
}

/// Splits `RULE`, `RULE@FUNCTION`, `RULE@at_least` or `RULE@FUNCTION@at_least` and checks each
/// part against the pack.
fn target(
    pack: &Pack,
    d: &mut Decoder,
    key: &str,
    pos: Pos,
    path: &str,
) -> Option<(String, Option<String>, bool)> {
    let (name, at_least) = match key.strip_suffix("@at_least") {
        Some(rest) => (rest, true),
        None => (key, false),
    };
    let (rule_id, function) = match name.split_once('@') {
        Some((r, f)) => (r, Some(f.to_string())),
        None => (name, None),
    };
    let Some(rule) = pack.rule(rule_id) else {
        let ids: Vec<&str> = pack.rules().iter().map(|r| r.id.as_str()).collect();
        d.report(
            pos,
            path,
            format!("the pack has no rule `{rule_id}`{}", did_you_mean(rule_id, &ids)),
        );
        return None;
    };
    match (&function, rule.per_function) {
        (None, true) => {
            d.report(
                pos,
                path,
                format!("`{rule_id}` is evaluated per function: write `{rule_id}@FUNCTION`"),
            );
            return None;
        }
        (Some(_), false) => {
            d.report(
                pos,
                path,
                format!(
                    "`{rule_id}` is evaluated once for the council: write `{rule_id}` without a function"
                ),
            );
            return None;
        }
        (Some(f), true) if pack.functions().iter().all(|x| &x.id != f) => {
            let ids: Vec<&str> = pack.functions().iter().map(|x| x.id.as_str()).collect();
            d.report(
                pos,
                path,
                format!("the pack has no function `{f}`{}", did_you_mean(f, &ids)),
            );
            return None;
        }
        _ => {}
    }
    Some((rule_id.to_string(), function, at_least))
}

/// Whether an expected outcome, level or basis is one the rule can have.
fn expectation_fits(pack: &Pack, d: &mut Decoder, at: At<'_, '_>, rule: &str, expects: &Expects) -> bool {
    let Some(rule) = pack.rule(rule) else { return false };
    let (word, allowed): (&str, Vec<String>) = match expects {
        Expects::Outcome(w) => {
            let mut allowed = outcomes_of(&rule.body);
            allowed.push("unknown".into());
            (w, allowed)
        }
        Expects::AtLeast(w) => {
            if matches!(rule.body, Body::Test(_)) {
                d.error(
                    at,
                    format!(
                        "`{}` is a test, not graded: `@at_least` applies to graded rules",
                        rule.id
                    ),
                );
                return false;
            }
            (w, outcomes_of(&rule.body))
        }
        Expects::Basis(w) => {
            let mut allowed: Vec<String> = Basis::ALL.iter().map(|b| b.word().to_string()).collect();
            allowed.push("none".into());
            (w, allowed)
        }
        Expects::Reason(_) | Expects::Plan(..) => return true,
    };
    if allowed.iter().any(|a| a == word) {
        return true;
    }
    let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
    d.error(
        at,
        format!(
            "`{word}` is not a possible answer for `{}`; one of {}",
            rule.id,
            crate::diagnostic::ticked(&names, ", ")
        ),
    );
    false
}

/// The value at a dotted path in a plan's JSON; an array segment matches the element whose `id`
/// or `function` is the segment. The error names what is there instead.
fn at_path<'v>(plan: &'v serde_json::Value, path: &str) -> Result<&'v serde_json::Value, String> {
    let mut here = plan;
    let mut walked = String::new();
    for segment in path.split('.') {
        let next = match here {
            serde_json::Value::Object(map) => map.get(segment).ok_or_else(|| {
                let fields: Vec<&str> = map.keys().map(String::as_str).collect();
                format!(
                    "the plan has no `{segment}`{} (there: {})",
                    if walked.is_empty() {
                        String::new()
                    } else {
                        format!(" in `{walked}`")
                    },
                    crate::diagnostic::ticked(&fields, ", ")
                )
            })?,
            serde_json::Value::Array(items) => items
                .iter()
                .find(|i| i.get("id").or_else(|| i.get("function")).and_then(|v| v.as_str()) == Some(segment))
                .ok_or_else(|| format!("the plan's `{walked}` has no entry `{segment}`"))?,
            _ => {
                return Err(format!(
                    "the plan's `{walked}` is a value, not an object or a list"
                ))
            }
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
        here = next;
    }
    Ok(here)
}
