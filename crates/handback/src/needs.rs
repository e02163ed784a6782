//! What it would take: the minimal sets of evidence changes that would make a target met.
//!
//! A target is a rule (for the council or a function), a function's return (its gates and its
//! prerequisites' return) or the end of the intervention. Each leaf that is not met contributes a
//! requirement (key, function, operator, threshold); requirements combine up the condition tree:
//! `all` takes every part (a cross product of the parts' sets), `any` one part, `at_least k` k
//! parts, a rule reference the referenced rule's sets. Requirements on the same key merge into the
//! stricter; sets that contain a smaller set are dropped. For the monotone fragment (no `not`, no
//! `trend`) this is exact: every set returned makes the target met and no proper subset does.
//! `not` met-by-worse-evidence is reported as a structural block; `trend` is handled as
//! "better than the window's baseline", a documented heuristic.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::assess::{Engine, Options, Outcome, Truth};
use crate::directions::Directions;
use crate::evidence::Evidence;
use crate::pack::Pack;
use crate::rules::{Body, Condition, Leaf, LeafTest, Op, TrendKind};
use crate::vocabulary::{Direction, Scope, Value, ValueType};

/// Sets are capped at this many per condition, smallest first, so wide `at_least` conditions over
/// large packs stay bounded.
const MAX_SETS: usize = 64;

/// What to make met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A rule, for the council (or, for a per-function rule, a function).
    Rule {
        /// Rule id.
        rule: String,
        /// The function, for per-function rules.
        #[serde(skip_serializing_if = "Option::is_none")]
        function: Option<String>,
    },
    /// A function's return: its gates, and its prerequisites' return unless already returned.
    Function {
        /// Function id.
        function: String,
    },
    /// The end of the intervention.
    Exit,
}

impl Target {
    /// Parses `function:ID`, `rule:ID`, `rule:ID@FUNCTION` or `exit`.
    pub fn parse(s: &str) -> Result<Target, String> {
        if s == "exit" {
            return Ok(Target::Exit);
        }
        match s.split_once(':') {
            Some(("function", id)) => Ok(Target::Function {
                function: id.to_string(),
            }),
            Some(("rule", rest)) => Ok(match rest.split_once('@') {
                Some((rule, f)) => Target::Rule {
                    rule: rule.into(),
                    function: Some(f.into()),
                },
                None => Target::Rule {
                    rule: rest.into(),
                    function: None,
                },
            }),
            _ => Err(format!(
                "`{s}` is not a target; use `function:ID`, `rule:ID`, `rule:ID@FUNCTION` or `exit`"
            )),
        }
    }
}

/// One evidence change a set needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requirement {
    /// The evidence key.
    pub key: String,
    /// The function, for function-scoped keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// What the value must be, e.g. `<= 0.25`, `== true`, `recorded`.
    pub needs: String,
    /// A value that satisfies it, in the key's type.
    pub value: Value,
    /// The latest value now, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
    /// How far the current value is from what is needed (in the key's unit; levels for grades;
    /// 1 for booleans and missing evidence).
    pub distance: f64,
    /// The earliest day it can hold: the as-of date, or later for `sustained_days`.
    pub earliest: NaiveDate,
}

/// A minimal set of changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeSet {
    /// The changes.
    pub changes: Vec<Requirement>,
    /// The sum of their distances.
    pub distance: f64,
    /// The earliest day all can hold.
    pub earliest: NaiveDate,
}

/// What it would take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Needs {
    /// The target.
    pub target: Target,
    /// Whether it is met already.
    pub met: bool,
    /// Minimal change sets, fewest changes first, then least distance.
    pub sets: Vec<ChangeSet>,
    /// What evidence alone cannot change (a function held until exit, a `not` that needs worse
    /// evidence, a rule unknown to the pack).
    pub blocks: Vec<String>,
    /// Whether any part of the answer is heuristic (a `trend` was involved).
    pub heuristic: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    /// At most (value <= t, or < t when strict).
    Upper {
        strict: bool,
    },
    /// At least.
    Lower {
        strict: bool,
    },
    Exactly,
    NotEqual,
    Present,
}

/// A requirement on one key before it is rendered: a bound, a threshold, and for sustained tests
/// the window it must hold over.
#[derive(Debug, Clone, PartialEq)]
struct Req {
    bound: Bound,
    threshold: Option<Value>,
    sustained: u32,
}

type Slot = (usize, Option<String>);
type Fix = BTreeMap<Slot, Req>;

struct Solver<'a> {
    pack: &'a Pack,
    engine: Engine<'a>,
    outcomes: Vec<Vec<Outcome>>,
    as_of: NaiveDate,
    blocks: Vec<String>,
    heuristic: bool,
    memo: BTreeMap<(usize, Option<usize>, Option<usize>), Vec<Fix>>,
}

/// Works out what it would take to make `target` met.
pub fn needs(
    pack: &Pack,
    evidence: &Evidence,
    options: &Options,
    directions: Option<&Directions>,
    target: &Target,
) -> Needs {
    let engine = Engine::new(pack, evidence, options);
    let outcomes = engine.outcomes();
    let mut solver = Solver {
        pack,
        engine,
        outcomes,
        as_of: options.as_of,
        blocks: Vec::new(),
        heuristic: false,
        memo: BTreeMap::new(),
    };
    let fixes = match target {
        Target::Rule { rule, function } => solver.rule_target(rule, function.as_deref()),
        Target::Function { function } => solver.function_target(function, directions, &mut Vec::new()),
        Target::Exit => solver.exit_target(directions),
    };
    let met = fixes.iter().any(BTreeMap::is_empty);
    let mut sets: Vec<ChangeSet> = if met {
        Vec::new()
    } else {
        fixes.iter().map(|f| solver.render(f)).collect()
    };
    sets.sort_by(|a, b| {
        (a.changes.len(), a.distance, a.earliest)
            .partial_cmp(&(b.changes.len(), b.distance, b.earliest))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut blocks = solver.blocks;
    blocks.sort();
    blocks.dedup();
    Needs {
        target: target.clone(),
        met,
        sets,
        blocks,
        heuristic: solver.heuristic,
    }
}

impl<'a> Solver<'a> {
    fn function_index(&self, id: &str) -> Option<usize> {
        self.pack.functions().iter().position(|f| f.id == id)
    }

    fn rule_target(&mut self, rule: &str, function: Option<&str>) -> Vec<Fix> {
        let Some(index) = self.pack.rules().iter().position(|r| r.id == rule) else {
            self.blocks.push(format!("the pack has no rule `{rule}`"));
            return Vec::new();
        };
        let per_function = self.pack.rules().get(index).is_some_and(|r| r.per_function);
        let subject = match (per_function, function) {
            (true, Some(f)) => match self.function_index(f) {
                Some(i) => Some(i),
                None => {
                    self.blocks.push(format!("the pack has no function `{f}`"));
                    return Vec::new();
                }
            },
            (true, None) => {
                self.blocks.push(format!(
                    "rule `{rule}` is evaluated per function; name one: `rule:{rule}@FUNCTION`"
                ));
                return Vec::new();
            }
            (false, _) => None,
        };
        // A graded rule as a target means reaching its best level.
        let top = match self.pack.rules().get(index).map(|r| &r.body) {
            Some(Body::Graded { levels, .. }) => levels.first().map(|l| l.rank),
            _ => None,
        };
        self.rule_fixes(index, subject, top)
    }

    fn function_target(
        &mut self,
        id: &str,
        directions: Option<&Directions>,
        visiting: &mut Vec<String>,
    ) -> Vec<Fix> {
        let Some(f) = self.pack.functions().iter().find(|f| f.id == id).cloned() else {
            self.blocks.push(format!("the pack has no function `{id}`"));
            return Vec::new();
        };
        if directions.is_some_and(|d| d.holding(id, self.as_of).power.is_returned()) {
            return vec![Fix::new()];
        }
        if let Some(h) = &f.held_until_exit {
            self.blocks.push(format!(
                "`{id}` is held until the intervention ends: {}",
                h.reason
            ));
            return Vec::new();
        }
        if visiting.contains(&f.id) {
            return vec![Fix::new()];
        }
        visiting.push(f.id.clone());
        let mut acc = vec![Fix::new()];
        for gate in &f.gates {
            let fixes = self.rule_target(gate, Some(id));
            acc = cross(&acc, &fixes);
        }
        for p in &f.prerequisites {
            let fixes = self.function_target(&p.function, directions, visiting);
            acc = cross(&acc, &fixes);
        }
        visiting.pop();
        minimise(acc)
    }

    fn exit_target(&mut self, directions: Option<&Directions>) -> Vec<Fix> {
        let mut acc = vec![Fix::new()];
        let functions: Vec<String> = self
            .pack
            .functions()
            .iter()
            .filter(|f| f.held_until_exit.is_none())
            .map(|f| f.id.clone())
            .collect();
        for f in functions {
            acc = cross(&acc, &self.function_target(&f, directions, &mut Vec::new()));
        }
        for gate in self.pack.exit_gates().to_vec() {
            acc = cross(&acc, &self.rule_target(&gate, None));
        }
        minimise(acc)
    }

    fn rule_fixes(&mut self, rule: usize, subject: Option<usize>, at_least: Option<usize>) -> Vec<Fix> {
        let memo_key = (rule, subject, at_least);
        if let Some(f) = self.memo.get(&memo_key) {
            return f.clone();
        }
        let Some(model) = self.pack.rules().get(rule) else {
            return Vec::new();
        };
        let fixes = match &model.body {
            Body::Test(c) => self.cond(c, subject),
            Body::Graded { levels, .. } => {
                let need = at_least.unwrap_or(0);
                let mut all = Vec::new();
                for level in levels.iter().filter(|l| l.rank >= need) {
                    match &level.condition {
                        Some(c) => all.extend(self.cond(c, subject)),
                        None => all.push(Fix::new()),
                    }
                }
                minimise(all)
            }
        };
        self.memo.insert(memo_key, fixes.clone());
        fixes
    }

    fn cond(&mut self, c: &Condition, subject: Option<usize>) -> Vec<Fix> {
        if self.engine.truth(c, subject, &self.outcomes) == Truth::Met {
            return vec![Fix::new()];
        }
        match c {
            Condition::All(parts) => {
                let mut acc = vec![Fix::new()];
                for p in parts {
                    let fixes = self.cond(p, subject);
                    acc = cross(&acc, &fixes);
                }
                acc
            }
            Condition::Any(parts) => {
                let mut all = Vec::new();
                for p in parts {
                    all.extend(self.cond(p, subject));
                }
                minimise(all)
            }
            Condition::AtLeast(k, parts) => {
                let each: Vec<Vec<Fix>> = parts.iter().map(|p| self.cond(p, subject)).collect();
                let mut all = Vec::new();
                for combo in combinations(each.len(), *k as usize) {
                    let mut acc = vec![Fix::new()];
                    for i in combo {
                        acc = cross(&acc, each.get(i).map(Vec::as_slice).unwrap_or(&[]));
                    }
                    all.extend(acc);
                }
                minimise(all)
            }
            Condition::Not(_) => {
                self.blocks.push(format!(
                    "a `not` condition ({}) would need evidence to get worse; evidence alone cannot meet it by improving",
                    crate::explain::condition_words(self.pack, c, false)
                ));
                Vec::new()
            }
            Condition::Rule(r) => {
                let target_per_function = self.pack.rules().get(r.rule).is_some_and(|t| t.per_function);
                let target_subject = if target_per_function {
                    match &r.function {
                        Some(f) => self.function_index(f),
                        None => subject,
                    }
                } else {
                    None
                };
                self.rule_fixes(r.rule, target_subject, r.at_least)
            }
            Condition::Leaf(leaf) => self.leaf(leaf, subject).into_iter().collect(),
        }
    }

    fn leaf(&mut self, leaf: &Leaf, subject: Option<usize>) -> Option<Fix> {
        let key = self.pack.keys().get(leaf.key)?;
        let function = match key.scope {
            Scope::Council => None,
            Scope::Function => leaf.function.clone().or_else(|| {
                subject
                    .and_then(|s| self.pack.functions().get(s))
                    .map(|f| f.id.clone())
            }),
        };
        let bound = |op: Op| match op {
            Op::Lt => Bound::Upper { strict: true },
            Op::Le => Bound::Upper { strict: false },
            Op::Gt => Bound::Lower { strict: true },
            Op::Ge => Bound::Lower { strict: false },
            Op::Eq => Bound::Exactly,
            Op::Ne => Bound::NotEqual,
        };
        let req = match &leaf.test {
            LeafTest::Compare { op, threshold } => Req {
                bound: bound(*op),
                threshold: Some(self.engine.threshold(threshold).clone()),
                sustained: 0,
            },
            LeafTest::Sustained { op, threshold, days } => Req {
                bound: bound(*op),
                threshold: Some(self.engine.threshold(threshold).clone()),
                sustained: *days,
            },
            LeafTest::Present => Req {
                bound: Bound::Present,
                threshold: None,
                sustained: 0,
            },
            LeafTest::Trend { kind, days } => {
                // Heuristic: better than the value at the window's start.
                self.heuristic = true;
                let series = self.engine.visible(leaf, subject);
                let start = self.as_of - chrono::Duration::days(i64::from(*days));
                let from = series.iter().rev().find(|o| o.date <= start).or(series.first())?;
                let lower_better = matches!(
                    key.value_type,
                    ValueType::Number {
                        direction: Direction::LowerIsBetter,
                        ..
                    }
                );
                let strict = *kind == TrendKind::Improving;
                let b = if lower_better {
                    Bound::Upper { strict }
                } else {
                    Bound::Lower { strict }
                };
                Req {
                    bound: b,
                    threshold: Some(from.value.clone()),
                    sustained: 0,
                }
            }
        };
        // On an ordinal scale a strict bound is an inclusive bound on the next level (`> low` is
        // `>= mid`), so requirements compare as they should; nothing is above the top level or
        // below the bottom one, so such a leaf cannot be met.
        let mut req = req;
        if let (Some(Value::Grade { rank, .. }), ValueType::Grade { scale }) =
            (&req.threshold, &key.value_type)
        {
            let levels = self
                .pack
                .scales()
                .iter()
                .find(|s| &s.id == scale)
                .map(|s| s.levels.clone())
                .unwrap_or_default();
            let rank = *rank;
            let next = match req.bound {
                Bound::Lower { strict: true } => Some(rank + 1),
                Bound::Upper { strict: true } => Some(rank.checked_sub(1)?),
                _ => None,
            };
            if let Some(r) = next {
                let level = levels.get(r)?.clone();
                req.threshold = Some(Value::Grade { level, rank: r });
                req.bound = match req.bound {
                    Bound::Lower { .. } => Bound::Lower { strict: false },
                    _ => Bound::Upper { strict: false },
                };
            }
        }
        let mut fix = Fix::new();
        fix.insert((leaf.key, function), req);
        Some(fix)
    }

    fn render(&self, fix: &Fix) -> ChangeSet {
        let mut changes = Vec::new();
        for ((key_index, function), req) in fix {
            let Some(key) = self.pack.keys().get(*key_index) else {
                continue;
            };
            let latest = self.current(*key_index, function.as_deref());
            let value = satisfying(req, &key.value_type, latest.as_ref(), self.pack.scales());
            let needs = match (&req.bound, &req.threshold) {
                (Bound::Present, _) => "recorded (fresh)".to_string(),
                (b, Some(t)) => {
                    let op = match b {
                        Bound::Upper { strict: true } => "<",
                        Bound::Upper { strict: false } => "<=",
                        Bound::Lower { strict: true } => ">",
                        Bound::Lower { strict: false } => ">=",
                        Bound::Exactly => "==",
                        Bound::NotEqual => "!=",
                        Bound::Present => "",
                    };
                    let held = if req.sustained > 0 {
                        format!(", held for {} days", req.sustained)
                    } else {
                        String::new()
                    };
                    format!("{op} {t}{held}")
                }
                (_, None) => String::new(),
            };
            let distance = match (&latest, &value) {
                (Some(Value::Number(a)), Value::Number(b)) => ((a - b).abs() * 1e9).round() / 1e9,
                (Some(Value::Grade { rank: a, .. }), Value::Grade { rank: b, .. }) => a.abs_diff(*b) as f64,
                _ => 1.0,
            };
            changes.push(Requirement {
                key: key.key.clone(),
                function: function.clone(),
                needs,
                value,
                current: latest,
                distance,
                earliest: self.as_of + chrono::Duration::days(i64::from(req.sustained)),
            });
        }
        let distance = changes.iter().map(|c| c.distance).sum();
        let earliest = changes.iter().map(|c| c.earliest).max().unwrap_or(self.as_of);
        ChangeSet {
            changes,
            distance,
            earliest,
        }
    }

    fn current(&self, key: usize, function: Option<&str>) -> Option<Value> {
        let leaf = Leaf {
            key,
            test: LeafTest::Present,
            within_days: None,
            function: function.map(str::to_string),
            fallback_to_council: false,
            says: None,
        };
        self.engine.visible(&leaf, None).last().map(|o| o.value.clone())
    }
}

/// A value meeting a requirement: the threshold for inclusive bounds, one step past it for
/// strict ones (a step of the threshold's last decimal place, one place finer).
fn satisfying(
    req: &Req,
    value_type: &ValueType,
    current: Option<&Value>,
    scales: &[crate::vocabulary::Scale],
) -> Value {
    let step = |t: f64| {
        let text = crate::vocabulary::format_number(t);
        let decimals = text.split('.').nth(1).map_or(0, str::len) as i32;
        10f64.powi(-(decimals + 1))
    };
    match (&req.bound, &req.threshold) {
        // `present` asks only that something be recorded: the least favourable value, so the
        // suggestion meets nothing else by accident (and the set stays minimal).
        (Bound::Present, _) => match value_type {
            ValueType::Boolean => Value::Boolean(false),
            ValueType::Grade { scale } => scales
                .iter()
                .find(|s| &s.id == scale)
                .and_then(|s| s.levels.first())
                .map(|l| Value::Grade {
                    level: l.clone(),
                    rank: 0,
                })
                .unwrap_or_else(|| current.cloned().unwrap_or(Value::Boolean(false))),
            // The worst value the key's range allows, so applying the suggestion is not refused.
            ValueType::Number {
                direction: Direction::HigherIsBetter,
                range,
                ..
            } => Value::Number(range.clamp(-1e9)),
            ValueType::Number {
                direction: Direction::LowerIsBetter,
                range,
                ..
            } => Value::Number(range.clamp(1e9)),
            ValueType::Date | ValueType::Text => current.cloned().unwrap_or(Value::Text(String::new())),
        },
        (Bound::Upper { strict: true }, Some(Value::Number(t))) => {
            Value::Number(((t - step(*t)) * 1e9).round() / 1e9)
        }
        (Bound::Lower { strict: true }, Some(Value::Number(t))) => {
            Value::Number(((t + step(*t)) * 1e9).round() / 1e9)
        }
        (Bound::Lower { strict: true }, Some(Value::Grade { rank, level })) => {
            let next = match value_type {
                ValueType::Grade { scale } => scales
                    .iter()
                    .find(|s| &s.id == scale)
                    .and_then(|s| s.levels.get(rank + 1)),
                _ => None,
            };
            match next {
                Some(l) => Value::Grade {
                    level: l.clone(),
                    rank: rank + 1,
                },
                // Nothing is above the top level: the closest is the level itself.
                None => Value::Grade {
                    level: level.clone(),
                    rank: *rank,
                },
            }
        }
        (Bound::NotEqual, Some(Value::Boolean(b))) => Value::Boolean(!b),
        (_, Some(t)) => t.clone(),
        (_, None) => Value::Boolean(true),
    }
}

/// Whether requirement `a` already guarantees `b` (on the same key).
fn implies(a: &Req, b: &Req) -> bool {
    if a.sustained < b.sustained {
        return false;
    }
    match (&a.bound, &b.bound, &a.threshold, &b.threshold) {
        (_, Bound::Present, _, _) => true,
        (Bound::Upper { strict: sa }, Bound::Upper { strict: sb }, Some(ta), Some(tb)) => {
            match ta.partial_cmp_value(tb) {
                Some(std::cmp::Ordering::Less) => true,
                Some(std::cmp::Ordering::Equal) => *sa || !*sb,
                _ => false,
            }
        }
        (Bound::Lower { strict: sa }, Bound::Lower { strict: sb }, Some(ta), Some(tb)) => {
            match ta.partial_cmp_value(tb) {
                Some(std::cmp::Ordering::Greater) => true,
                Some(std::cmp::Ordering::Equal) => *sa || !*sb,
                _ => false,
            }
        }
        (Bound::Exactly, _, Some(ta), Some(tb)) => match b.bound {
            Bound::Exactly => ta == tb,
            Bound::NotEqual => ta != tb,
            Bound::Upper { strict } => ta
                .partial_cmp_value(tb)
                .is_some_and(|o| o.is_lt() || (!strict && o.is_eq())),
            Bound::Lower { strict } => ta
                .partial_cmp_value(tb)
                .is_some_and(|o| o.is_gt() || (!strict && o.is_eq())),
            Bound::Present => true,
        },
        _ => a == b,
    }
}

/// Merges two requirements on one key into one that meets both, if there is one.
fn merge(a: &Req, b: &Req) -> Option<Req> {
    if implies(a, b) {
        return Some(a.clone());
    }
    if implies(b, a) {
        return Some(b.clone());
    }
    // The same kind of bound with different sustained windows: the stricter bound, the longer
    // window.
    let longer = a.sustained.max(b.sustained);
    let (sa, sb) = (
        Req {
            sustained: longer,
            ..a.clone()
        },
        Req {
            sustained: longer,
            ..b.clone()
        },
    );
    if implies(&sa, &sb) {
        return Some(sa);
    }
    if implies(&sb, &sa) {
        return Some(sb);
    }
    None
}

/// Every way of meeting both lists: one set from each, merged; infeasible merges dropped.
fn cross(a: &[Fix], b: &[Fix]) -> Vec<Fix> {
    let mut out = Vec::new();
    for x in a {
        'next: for y in b {
            let mut merged = x.clone();
            for (slot, req) in y {
                let combined = match merged.get(slot) {
                    Some(existing) => match merge(existing, req) {
                        Some(m) => m,
                        None => continue 'next,
                    },
                    None => req.clone(),
                };
                merged.insert(slot.clone(), combined);
            }
            out.push(merged);
        }
    }
    minimise(out)
}

/// Drops sets implied by a smaller (or equal, earlier) set, keeps the smallest `MAX_SETS`.
fn minimise(mut sets: Vec<Fix>) -> Vec<Fix> {
    sets.sort_by_key(BTreeMap::len);
    let mut kept: Vec<Fix> = Vec::new();
    for s in sets {
        let dominated = kept.iter().any(|k| {
            k.iter()
                .all(|(slot, req)| s.get(slot).is_some_and(|r| implies(r, req)))
        });
        if !dominated {
            kept.push(s);
        }
        if kept.len() >= MAX_SETS {
            break;
        }
    }
    kept
}

/// All k-element subsets of 0..n, in lexicographic order (bounded by MAX_SETS * 16).
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut combo: Vec<usize> = (0..k).collect();
    if k > n {
        return out;
    }
    loop {
        out.push(combo.clone());
        if out.len() >= MAX_SETS * 16 {
            return out;
        }
        let mut i = k;
        loop {
            if i == 0 {
                return out;
            }
            i -= 1;
            if combo.get(i).copied().unwrap_or(0) < n - k + i {
                break;
            }
            if i == 0 {
                return out;
            }
        }
        if let Some(c) = combo.get_mut(i) {
            *c += 1;
        }
        let base = combo.get(i).copied().unwrap_or(0);
        for (offset, slot) in combo.iter_mut().enumerate().skip(i + 1) {
            *slot = base + offset - i;
        }
    }
}

/// Whether a target is met under the given evidence and options (functions: ready now or
/// already returned; exit: the plan says the intervention can end).
pub fn target_met(
    pack: &Pack,
    evidence: &Evidence,
    options: &Options,
    directions: Option<&Directions>,
    target: &Target,
) -> bool {
    let assessment = crate::assess::assess(pack, evidence, options);
    match target {
        Target::Rule { rule, function } => {
            // Met for a test; the best level for a graded rule.
            let wanted = match pack.rule(rule).map(|r| &r.body) {
                Some(Body::Graded { levels, .. }) => {
                    levels.first().map(|l| l.name.clone()).unwrap_or_default()
                }
                _ => "met".to_string(),
            };
            assessment.results.iter().any(|r| {
                &r.rule == rule && (r.function.is_none() || &r.function == function) && r.outcome == wanted
            })
        }
        Target::Function { function } => {
            let plan = crate::plan::plan(pack, &assessment, directions);
            plan.functions.iter().any(|f| {
                &f.id == function && matches!(f.step, crate::plan::Step::Now | crate::plan::Step::Returned)
            })
        }
        Target::Exit => crate::plan::plan(pack, &assessment, directions).exit.possible,
    }
}

impl ChangeSet {
    /// The set as scenario changes, dated at `date` (its earliest day for sustained windows is
    /// reached by evaluating `sustained_days` after it).
    pub fn as_changes(&self, date: NaiveDate) -> Vec<crate::whatif::Change> {
        self.changes
            .iter()
            .map(|r| crate::whatif::Change::Set {
                key: r.key.clone(),
                function: r.function.clone(),
                value: serde_json::to_value(&r.value).unwrap_or_default(),
                date: Some(date),
            })
            .collect()
    }
}
