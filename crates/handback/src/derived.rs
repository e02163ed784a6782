//! The evidence as the evaluator reads it: judgements by roles a key does not accept left out,
//! and derived keys computed from their inputs.
//!
//! Both happen before evaluation, on the evidence already narrowed to what was known and to the
//! bases asked for, so corrections, `known_at` and `--exclude-basis` apply to a derived key's
//! inputs exactly as to any other observation. A derived key has a value on every date on which
//! all its inputs are observed (the observations in force that day: a correction replaces what
//! it corrects), so `sustained_days` and `trend` read it as a series like any other. On a date
//! where the formula is undefined (a zero denominator) it has no value, as on a date where an
//! input is missing. Its basis is the weakest of its inputs'; its date is theirs, so it goes
//! stale with them. What was left out or computed is kept beside the evidence, so reasons can
//! show the inputs and the arithmetic. Nothing here reads a clock or a file, or panics.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::evidence::{Evidence, Observation, Source};
use crate::pack::Pack;
use crate::vocabulary::{Scope, Value};

/// The document a derived observation cites: the pack's own arithmetic, not a source.
pub(crate) const DERIVED_DOCUMENT: &str = "computed by the pack";

/// One series: (key index, function).
type Series = (usize, Option<String>);

/// How one derived value was computed.
#[derive(Debug, Clone)]
pub(crate) struct Derivation {
    /// The input observations, in the formula's order.
    pub inputs: Vec<Observation>,
    /// The arithmetic, e.g. "57 / 64 × 100 = 89.0625".
    pub arithmetic: String,
}

/// The evidence the evaluator reads, and what changed on the way.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// The evidence with refused judgements left out and derived observations added.
    pub evidence: Evidence,
    /// Each derived observation's inputs and arithmetic, by its id.
    pub derivations: BTreeMap<String, Derivation>,
    /// Judgements left out because of their role, by (key index, function).
    pub refused: BTreeMap<Series, Vec<Observation>>,
    /// Dates on which a derived key's formula was undefined, with the arithmetic, by (key
    /// index, function).
    pub undefined: BTreeMap<Series, Vec<(NaiveDate, String)>>,
}

/// The evidence as the evaluator reads it, or `None` when the pack has neither derived keys nor
/// role restrictions (the evidence is then read as it is, at no cost).
pub(crate) fn prepare(pack: &Pack, evidence: &Evidence) -> Option<Prepared> {
    let keys = pack.keys();
    if !keys
        .iter()
        .any(|k| k.derived.is_some() || !k.judged_by_roles.is_empty())
    {
        return None;
    }
    let mut refused: BTreeMap<Series, Vec<Observation>> = BTreeMap::new();
    let mut kept: Vec<Observation> = Vec::with_capacity(evidence.observations.len());
    for o in &evidence.observations {
        match keys.get(o.key_index) {
            Some(k) if !k.accepts_role(o.role.as_deref()) => refused
                .entry((o.key_index, o.function.clone()))
                .or_default()
                .push(o.clone()),
            _ => kept.push(o.clone()),
        }
    }
    let mut derivations = BTreeMap::new();
    let mut undefined: BTreeMap<Series, Vec<(NaiveDate, String)>> = BTreeMap::new();
    for key_index in derivation_order(pack) {
        let Some(key) = keys.get(key_index) else { continue };
        let Some(formula) = &key.derived else { continue };
        let inputs: Vec<Option<usize>> = formula.inputs().iter().map(|n| pack.key_index(n)).collect();
        let Some(inputs) = inputs.into_iter().collect::<Option<Vec<usize>>>() else {
            continue;
        };
        // The inputs' observations by (key, function), gathered in one pass so the work stays
        // linear in the evidence however many functions there are.
        let mut runs: BTreeMap<(usize, Option<&str>), Vec<&Observation>> = BTreeMap::new();
        for o in kept.iter().filter(|o| inputs.contains(&o.key_index)) {
            runs.entry((o.key_index, o.function.as_deref()))
                .or_default()
                .push(o);
        }
        // The functions to compute for: every function an input is recorded for (and the
        // council-wide series, which per-function rules may fall back to).
        let mut functions: Vec<Option<String>> = match key.scope {
            Scope::Council => vec![None],
            Scope::Function => runs.keys().map(|(_, f)| f.map(str::to_string)).collect(),
        };
        functions.sort();
        functions.dedup();
        let mut computed: Vec<Observation> = Vec::new();
        for function in functions {
            // The observation in force on each date, per input: in (date, recorded, id) order,
            // the last of a day replaces the earlier ones, as a correction does.
            let series: Vec<BTreeMap<NaiveDate, &Observation>> = inputs
                .iter()
                .map(|&input| {
                    let mut run: Vec<&Observation> = runs
                        .get(&(input, function.as_deref()))
                        .cloned()
                        .unwrap_or_default();
                    run.sort_by(|a, b| (a.date, a.recorded, &a.id).cmp(&(b.date, b.recorded, &b.id)));
                    run.into_iter().map(|o| (o.date, o)).collect()
                })
                .collect();
            let Some(first) = series.first() else { continue };
            for date in first.keys() {
                let day: Option<Vec<&Observation>> = series.iter().map(|s| s.get(date).copied()).collect();
                let Some(day) = day else { continue };
                let values: Option<Vec<f64>> = day
                    .iter()
                    .map(|o| match o.value {
                        Value::Number(n) => Some(n),
                        _ => None,
                    })
                    .collect();
                let Some(values) = values else { continue };
                let arithmetic = formula.arithmetic(&values);
                let Some(value) = formula.apply(&values) else {
                    undefined
                        .entry((key_index, function.clone()))
                        .or_default()
                        .push((*date, arithmetic));
                    continue;
                };
                let id = match &function {
                    Some(f) => format!("derived:{}@{f}:{date}", key.key),
                    None => format!("derived:{}:{date}", key.key),
                };
                let recorded = day.iter().filter_map(|o| o.recorded).max();
                computed.push(Observation {
                    id: id.clone(),
                    key: key.key.clone(),
                    function: function.clone(),
                    value: Value::Number(value),
                    date: *date,
                    period_from: None,
                    recorded,
                    basis: day
                        .iter()
                        .map(|o| o.basis)
                        .max()
                        .unwrap_or(crate::Basis::Unstated),
                    source: Source {
                        document: DERIVED_DOCUMENT.into(),
                        passage: format!("`{}` = {}", key.key, formula.named()),
                    },
                    judged_by: None,
                    role: None,
                    note: Some(arithmetic.clone()),
                    key_index,
                });
                derivations.insert(
                    id,
                    Derivation {
                        inputs: day.into_iter().cloned().collect(),
                        arithmetic,
                    },
                );
            }
        }
        kept.extend(computed);
    }
    Some(Prepared {
        evidence: Evidence::from_parts(
            evidence.council.clone(),
            evidence.as_of,
            evidence.title.clone(),
            kept,
        ),
        derivations,
        refused,
        undefined,
    })
}

/// Derived keys, each after the derived keys it reads. The loader refuses cycles; should one
/// slip through, its keys are left out rather than looped over.
fn derivation_order(pack: &Pack) -> Vec<usize> {
    let keys = pack.keys();
    let mut pending: Vec<usize> = (0..keys.len())
        .filter(|&i| keys.get(i).is_some_and(|k| k.derived.is_some()))
        .collect();
    let mut order: Vec<usize> = Vec::with_capacity(pending.len());
    loop {
        let (ready, waiting): (Vec<usize>, Vec<usize>) = pending.iter().partition(|&&i| {
            keys.get(i).and_then(|k| k.derived.as_ref()).is_some_and(|f| {
                f.inputs().iter().all(|n| match pack.key_index(n) {
                    Some(j) => !waiting_on(&pending, j),
                    None => true,
                })
            })
        });
        if ready.is_empty() {
            return order;
        }
        order.extend(ready);
        pending = waiting;
    }
}

fn waiting_on(pending: &[usize], key: usize) -> bool {
    pending.contains(&key)
}

impl Prepared {
    /// The judgements of `key` (for `function`) left out because of their role, dated on or
    /// before `as_of`, in words; `None` when there are none.
    pub(crate) fn refused_words(
        &self,
        pack: &Pack,
        key: usize,
        functions: &[Option<String>],
        as_of: NaiveDate,
    ) -> Option<String> {
        let k = pack.keys().get(key)?;
        let mut by_role: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for f in functions {
            for o in self.refused.get(&(key, f.clone())).into_iter().flatten() {
                if o.date <= as_of {
                    *by_role.entry(o.role.as_deref()).or_default() += 1;
                }
            }
        }
        if by_role.is_empty() {
            return None;
        }
        let accepted = crate::diagnostic::ticked(&k.judged_by_roles, " or ");
        let parts: Vec<String> = by_role
            .into_iter()
            .map(|(role, n)| {
                let (noun, verb) = if n == 1 {
                    ("observation", "was")
                } else {
                    ("observations", "were")
                };
                match role {
                    Some(r) => format!(
                        "{n} {noun} of `{}` {verb} judged by `{r}`, which this key does not accept",
                        k.key
                    ),
                    None => format!(
                        "{n} {noun} of `{}` {verb} judged in no stated role, which this key does not accept",
                        k.key
                    ),
                }
            })
            .collect();
        Some(format!(
            "{} (it counts judgements by {accepted} only)",
            parts.join("; ")
        ))
    }

    /// Why a derived key has no value on dates on or before `as_of` where its inputs were
    /// observed: the formula was undefined there.
    pub(crate) fn undefined_words(
        &self,
        key: usize,
        functions: &[Option<String>],
        as_of: NaiveDate,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for f in functions {
            for (date, arithmetic) in self.undefined.get(&(key, f.clone())).into_iter().flatten() {
                if *date <= as_of {
                    out.push(format!("on {date}, {arithmetic}"));
                }
            }
        }
        out
    }
}
