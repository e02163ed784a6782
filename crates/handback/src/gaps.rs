//! The evidence-gap report: what to gather first to settle the most unknown outcomes.
//!
//! A gap is a key (for the council or one function) that some rule reads where the reading is
//! unknown. Each gap is tried twice, with the best and the worst value the key can take, and
//! ranked by how many unknown outcomes one fresh observation would settle whichever way it came
//! out, then by how many it could settle. The candidates come from walking the rules' conditions
//! with the evaluator, never from reading explanations back apart.

use serde::{Deserialize, Serialize};

use crate::assess::{Engine, Outcome, Truth};
use crate::pack::Pack;
use crate::rules::{Body, Condition, Leaf, LeafTest};
use crate::situation::Situation;
use crate::vocabulary::{Direction, Key, Scope, ValueType};
use crate::whatif::Change;

/// One missing or stale reading, and what gathering it would settle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gap {
    /// The evidence key.
    pub key: String,
    /// The function, for keys recorded per function.
    pub function: Option<String>,
    /// Unknown outcomes a fresh observation settles whatever it says.
    pub settles_either_way: usize,
    /// Unknown outcomes it settles if it comes out well (or badly, whichever settles more).
    pub could_settle: usize,
}

/// The gap report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gaps {
    /// How many outcomes (rule-subjects) are unknown now.
    pub unknown_outcomes: usize,
    /// The gaps, most settling first; ties by key and function.
    pub gaps: Vec<Gap>,
}

fn is_unknown(o: &Outcome) -> bool {
    match o {
        Outcome::Test(t) => *t == Truth::Unknown,
        Outcome::Graded { level, .. } => level.is_none(),
    }
}

/// Ranks the gaps in a situation's evidence.
///
/// ```
/// use handback::{gaps, EvidenceBuilder, Situation};
///
/// let pack = handback::default_pack()?;
/// let evidence = EvidenceBuilder::new("Example Council")
///     .as_of(chrono::NaiveDate::from_ymd_opt(2016, 8, 11).unwrap())
///     .build(&pack)?;
/// let situation = Situation::new(pack, evidence, None, None, None).unwrap();
/// let report = gaps(&situation);
/// // With no evidence at all, every outcome is unknown, and the first gap settles at least one.
/// assert!(report.unknown_outcomes > 0);
/// assert!(report.gaps[0].could_settle >= 1);
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn gaps(s: &Situation) -> Gaps {
    // Each candidate is one observation more: answered over the indexed evidence, re-evaluating
    // only the rules that read it.
    let indexed = crate::program::Indexed::new(&s.pack, &s.evidence);
    let mut whatif = crate::program::WhatIf::new(&indexed, &s.options);
    let mut after = crate::program::Outcomes::new();
    let base = whatif.base().clone();
    let unknown_outcomes = base.flat().iter().filter(|o| is_unknown(o)).count();
    let mut ranked = Vec::new();
    for (key, function) in candidates(s) {
        let Some(k) = s.pack.key(&key) else { continue };
        let mut settled = Vec::new();
        for value in extremes(&s.pack, k) {
            let change = Change::Set {
                key: key.clone(),
                function: function.clone(),
                value,
                date: None,
            };
            // A value the key refuses (a derived key, say) cannot be gathered: no gap.
            if whatif.outcomes_into(&[change], "gaps", &mut after).is_err() {
                continue;
            }
            settled.push(
                base.flat()
                    .iter()
                    .zip(after.flat())
                    .filter(|(x, y)| is_unknown(x) && !is_unknown(y))
                    .count(),
            );
        }
        let either = settled.iter().copied().min().unwrap_or(0);
        let could = settled.iter().copied().max().unwrap_or(0);
        if could > 0 {
            ranked.push(Gap {
                key,
                function,
                settles_either_way: either,
                could_settle: could,
            });
        }
    }
    ranked.sort_by(|a, b| {
        (b.settles_either_way, b.could_settle)
            .cmp(&(a.settles_either_way, a.could_settle))
            .then_with(|| (&a.key, &a.function).cmp(&(&b.key, &b.function)))
    });
    Gaps {
        unknown_outcomes,
        gaps: ranked,
    }
}

/// Every (key, function) some rule reads where the reading is unknown, in the evidence as the
/// evaluator sees it (known-at, excluded bases and derived keys applied).
fn candidates(s: &Situation) -> Vec<(String, Option<String>)> {
    let (pack, options) = (&s.pack, &s.options);
    let replayed = options.known_at.map(|k| s.evidence.known_at(k).0);
    let evidence = replayed.as_ref().unwrap_or(&s.evidence);
    let filtered =
        (!options.exclude_basis.is_empty()).then(|| evidence.without_basis(&options.exclude_basis).0);
    let evidence = filtered.as_ref().unwrap_or(evidence);
    let prepared = crate::derived::prepare(pack, evidence);
    let evidence = prepared.as_ref().map_or(evidence, |p| &p.evidence);
    let engine = Engine::new(pack, evidence, options);
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for rule in &pack.rules {
        let subjects: Vec<Option<usize>> = if rule.per_function {
            (0..pack.functions.len()).map(Some).collect()
        } else {
            vec![None]
        };
        let conditions: Vec<&Condition> = match &rule.body {
            Body::Test(c) => vec![c],
            Body::Graded { levels, .. } => levels.iter().filter_map(|l| l.condition.as_ref()).collect(),
        };
        for subject in subjects {
            for c in &conditions {
                c.for_each_leaf(&mut |leaf: &Leaf| {
                    if engine.leaf(leaf, subject).0 != Truth::Unknown {
                        return;
                    }
                    // The leaf's own key, and the other key it reads (a key compared against
                    // another, a second event): either may be what is missing.
                    let mut read = vec![(leaf.key, leaf.function.as_ref())];
                    match &leaf.test {
                        LeafTest::Against { other, .. } => read.push((other.key, other.function.as_ref())),
                        LeafTest::DaysSince { until: Some(e), .. } => read.push((e.key, e.function.as_ref())),
                        _ => {}
                    }
                    for (index, pinned) in read {
                        let Some(key) = pack.keys.get(index) else { continue };
                        let function = match key.scope {
                            Scope::Council => None,
                            Scope::Function => pinned.cloned().or_else(|| {
                                subject.and_then(|i| pack.functions.get(i)).map(|f| f.id.clone())
                            }),
                        };
                        let candidate = (key.key.clone(), function);
                        if !out.contains(&candidate) {
                            out.push(candidate);
                        }
                    }
                });
            }
        }
    }
    out
}

/// A best and a worst value for a key, to test whether gathering it settles an outcome either way.
fn extremes(pack: &Pack, key: &Key) -> [serde_json::Value; 2] {
    use serde_json::json;
    match &key.value_type {
        ValueType::Boolean => [json!(true), json!(false)],
        // Within the key's range, or the scenario would be refused and the gap never ranked.
        ValueType::Number {
            direction: Direction::HigherIsBetter,
            range,
            ..
        } => [json!(range.clamp(1e12)), json!(range.clamp(-1e12))],
        ValueType::Number {
            direction: Direction::LowerIsBetter,
            range,
            ..
        } => [json!(range.clamp(-1e12)), json!(range.clamp(1e12))],
        ValueType::Grade { scale } => {
            let levels = pack
                .scales()
                .iter()
                .find(|s| &s.id == scale)
                .map(|s| s.levels.clone())
                .unwrap_or_default();
            [
                json!(levels.last().cloned().unwrap_or_default()),
                json!(levels.first().cloned().unwrap_or_default()),
            ]
        }
        ValueType::Date => [json!("2000-01-01"), json!("2100-01-01")],
        ValueType::Text => [json!(""), json!("")],
    }
}
