//! A deliberately simple evaluator, used only to check the real one: in the property tests and,
//! with the opt-in feature `oracle`, in the differential fuzz target (`fuzz/harness.rs`).
//!
//! It follows `docs/rule-language.md` as literally as possible: rule references are evaluated by
//! recursion (no dependency order, no memo table), evidence is found by scanning every
//! observation, and Kleene connectives are written out case by case. It is slow and obviously
//! right, which is the point.

use chrono::{Duration, NaiveDate};

use crate::assess::{Outcome, Truth};
use crate::evidence::{Evidence, Observation};
use crate::pack::Pack;
use crate::rules::{Amount, Body, Condition, Leaf, LeafTest, Op, SinceBound, Threshold, TrendKind};
use crate::vocabulary::{Direction, Scope, Value, ValueType};

/// Every rule's outcome, as [`crate::bulk::outcomes`] gives them, found the slow, literal way.
pub fn outcomes(pack: &Pack, evidence: &Evidence, as_of: NaiveDate) -> Vec<Vec<Outcome>> {
    let read = read_evidence(pack, evidence);
    let r = Reference {
        pack,
        evidence: &read,
        as_of,
    };
    pack.rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            if rule.per_function {
                (0..pack.functions.len()).map(|f| r.rule(i, Some(f))).collect()
            } else {
                vec![r.rule(i, None)]
            }
        })
        .collect()
}

struct Reference<'a> {
    pack: &'a Pack,
    evidence: &'a Evidence,
    as_of: NaiveDate,
}

impl Reference<'_> {
    fn rule(&self, index: usize, function: Option<usize>) -> Outcome {
        let rule = &self.pack.rules[index];
        match &rule.body {
            Body::Test(c) => Outcome::Test(self.cond(c, function)),
            Body::Graded { levels, .. } => {
                let mut unknown_above = false;
                for level in levels {
                    let t = match &level.condition {
                        None => Truth::Met,
                        Some(c) => self.cond(c, function),
                    };
                    if t == Truth::Met {
                        return if unknown_above {
                            Outcome::Graded {
                                level: None,
                                at_least: Some(level.rank),
                            }
                        } else {
                            Outcome::Graded {
                                level: Some(level.rank),
                                at_least: None,
                            }
                        };
                    }
                    if t == Truth::Unknown {
                        unknown_above = true;
                    }
                }
                Outcome::Graded {
                    level: None,
                    at_least: None,
                }
            }
        }
    }

    fn cond(&self, c: &Condition, function: Option<usize>) -> Truth {
        match c {
            Condition::All(parts) => {
                let ts: Vec<Truth> = parts.iter().map(|p| self.cond(p, function)).collect();
                if ts.contains(&Truth::NotMet) {
                    Truth::NotMet
                } else if ts.contains(&Truth::Unknown) {
                    Truth::Unknown
                } else {
                    Truth::Met
                }
            }
            Condition::Any(parts) => {
                let ts: Vec<Truth> = parts.iter().map(|p| self.cond(p, function)).collect();
                if ts.contains(&Truth::Met) {
                    Truth::Met
                } else if ts.contains(&Truth::Unknown) {
                    Truth::Unknown
                } else {
                    Truth::NotMet
                }
            }
            Condition::AtLeast(k, parts) => {
                let ts: Vec<Truth> = parts.iter().map(|p| self.cond(p, function)).collect();
                let met = ts.iter().filter(|t| **t == Truth::Met).count();
                let possible = ts.iter().filter(|t| **t != Truth::NotMet).count();
                if met >= *k as usize {
                    Truth::Met
                } else if possible < *k as usize {
                    Truth::NotMet
                } else {
                    Truth::Unknown
                }
            }
            Condition::Not(inner) => match self.cond(inner, function) {
                Truth::Met => Truth::NotMet,
                Truth::NotMet => Truth::Met,
                Truth::Unknown => Truth::Unknown,
            },
            Condition::Rule(r) => {
                let target = &self.pack.rules[r.rule];
                let subject = if target.per_function {
                    match &r.function {
                        Some(name) => self.pack.functions.iter().position(|f| &f.id == name),
                        None => function,
                    }
                } else {
                    None
                };
                match (self.rule(r.rule, subject), r.at_least) {
                    (Outcome::Test(t), _) => t,
                    (Outcome::Graded { level: Some(l), .. }, Some(need)) => {
                        if l >= need {
                            Truth::Met
                        } else {
                            Truth::NotMet
                        }
                    }
                    (
                        Outcome::Graded {
                            level: None,
                            at_least: Some(l),
                        },
                        Some(need),
                    ) if l >= need => Truth::Met,
                    _ => Truth::Unknown,
                }
            }
            Condition::Leaf(leaf) => self.leaf(leaf, function),
        }
    }

    fn series(&self, leaf: &Leaf, function: Option<usize>) -> Vec<&Observation> {
        self.series_of(
            leaf.key,
            leaf.function.as_ref(),
            function,
            leaf.fallback_to_council,
        )
    }

    fn series_of(
        &self,
        key_index: usize,
        pinned: Option<&String>,
        function: Option<usize>,
        fallback: bool,
    ) -> Vec<&Observation> {
        let key = &self.pack.keys[key_index];
        let wanted: Option<String> = match key.scope {
            Scope::Council => None,
            Scope::Function => pinned
                .cloned()
                .or_else(|| function.map(|f| self.pack.functions[f].id.clone())),
        };
        let pick = |f: &Option<String>| {
            let mut v: Vec<&Observation> = self
                .evidence
                .observations
                .iter()
                .filter(|o| o.key == key.key && &o.function == f && o.date <= self.as_of)
                .collect();
            v.sort_by(|a, b| (a.date, a.recorded, &a.id).cmp(&(b.date, b.recorded, &b.id)));
            // A correction supersedes what it corrects: of the observations describing one day,
            // only the one recorded last is in force.
            let superseded = |o: &Observation| {
                v.iter()
                    .any(|p| p.date == o.date && (p.recorded, &p.id) > (o.recorded, &o.id))
            };
            v.iter().copied().filter(|o| !superseded(o)).collect::<Vec<_>>()
        };
        let own = pick(&wanted);
        if own.is_empty() && fallback && wanted.is_some() {
            return pick(&None);
        }
        own
    }

    fn amount(&self, a: Amount) -> i64 {
        match a {
            Amount::Literal(n) => i64::from(n),
            Amount::Parameter(i) => match self.pack.parameters[i].default {
                Value::Number(n) => n as i64,
                _ => unreachable!(),
            },
        }
    }

    fn leaf(&self, leaf: &Leaf, function: Option<usize>) -> Truth {
        let series = self.series(leaf, function);
        let threshold = |t: &Threshold| match t {
            Threshold::Literal(v) => v.clone(),
            Threshold::Parameter(i) => self.pack.parameters[*i].default.clone(),
        };
        // Days since an event: the latest observation meeting the comparison; no freshness.
        if let LeafTest::DaysSince {
            op,
            threshold: t,
            bound,
            days,
            until,
        } = &leaf.test
        {
            let t = threshold(t);
            let Some(from) = series
                .iter()
                .rev()
                .find(|o| holds(&o.value, *op, &t) == Truth::Met)
            else {
                return Truth::Unknown;
            };
            let end = match until {
                None => self.as_of,
                Some(e) => {
                    let others = self.series_of(e.key, e.function.as_ref(), function, false);
                    let wanted = threshold(&e.threshold);
                    match others
                        .iter()
                        .filter(|o| o.date >= from.date && holds(&o.value, e.op, &wanted) == Truth::Met)
                        .min_by_key(|o| o.date)
                    {
                        Some(o) => o.date,
                        None => return Truth::Unknown,
                    }
                }
            };
            let elapsed = (end - from.date).num_days();
            let limit = self.amount(*days);
            return truth(match bound {
                SinceBound::AtMost => elapsed <= limit,
                SinceBound::AtLeast => elapsed >= limit,
            });
        }
        let absent = if matches!(leaf.test, LeafTest::Present) {
            Truth::NotMet
        } else {
            Truth::Unknown
        };
        let Some(latest) = series.last() else {
            return absent;
        };
        let age = (self.as_of - latest.date).num_days();
        let key = &self.pack.keys[leaf.key];
        // A count over a window, written out: the observations with start < date <= as-of.
        let count = |op: Op, t: &Value, at_least: Amount, days: Amount, consecutive: bool| -> Truth {
            let start = self.as_of - Duration::days(self.amount(days));
            let window: Vec<&&Observation> = series.iter().filter(|o| o.date > start).collect();
            if window.is_empty() {
                return Truth::Unknown;
            }
            let n = self.amount(at_least) as usize;
            let considered: Vec<&&Observation> = if consecutive {
                window.iter().rev().take(n).copied().collect()
            } else {
                window
            };
            let qualifying = considered
                .iter()
                .filter(|o| holds(&o.value, op, t) == Truth::Met)
                .count();
            truth(qualifying >= n)
        };
        if key.max_age_days.is_some_and(|m| age > i64::from(m))
            || leaf.within_days.is_some_and(|w| age > self.amount(w))
        {
            // Events counted stay counted when the record goes stale (not a consecutive run).
            if let LeafTest::Count {
                op,
                threshold: t,
                at_least,
                days,
                consecutive: false,
            } = &leaf.test
            {
                if count(*op, &threshold(t), *at_least, *days, false) == Truth::Met {
                    return Truth::Met;
                }
            }
            return absent;
        }
        match &leaf.test {
            LeafTest::Present => Truth::Met,
            LeafTest::Compare { op, threshold: t } => holds(&latest.value, *op, &threshold(t)),
            LeafTest::Sustained {
                op,
                threshold: t,
                days,
            } => {
                let start = self.as_of - Duration::days(self.amount(*days));
                let t = threshold(t);
                let before: Vec<&&Observation> = series.iter().filter(|o| o.date <= start).collect();
                let mut considered: Vec<&Observation> =
                    series.iter().copied().filter(|o| o.date > start).collect();
                if let Some(anchor) = before.last() {
                    considered.push(anchor);
                }
                if considered.iter().any(|o| holds(&o.value, *op, &t) != Truth::Met) {
                    Truth::NotMet
                } else if before.is_empty() {
                    Truth::Unknown
                } else {
                    Truth::Met
                }
            }
            LeafTest::Trend { kind, days, by } => {
                let start = self.as_of - Duration::days(self.amount(*days));
                let before: Vec<&&Observation> = series.iter().filter(|o| o.date <= start).collect();
                let lower_better = matches!(
                    key.value_type,
                    ValueType::Number {
                        direction: Direction::LowerIsBetter,
                        ..
                    }
                );
                if let Some(change) = by {
                    // The value in force at the window's start, and a later one.
                    let Some(from) = before.last() else {
                        return Truth::Unknown;
                    };
                    if latest.date <= start {
                        return Truth::Unknown;
                    }
                    let (a, b) = (num(&from.value), num(&latest.value));
                    let gain = if lower_better { a - b } else { b - a };
                    let gain = if change.relative {
                        if a == 0.0 {
                            return Truth::Unknown;
                        }
                        gain / a.abs() * 100.0
                    } else {
                        gain
                    };
                    let rounded = (gain * 1e9).round() / 1e9;
                    let gain = if rounded.is_finite() { rounded } else { gain };
                    if !gain.is_finite() {
                        return Truth::Unknown;
                    }
                    return truth(gain >= num(&threshold(&change.size)));
                }
                let from = match before.last() {
                    Some(o) => **o,
                    None => series[0],
                };
                if std::ptr::eq(from, *latest) {
                    return Truth::Unknown;
                }
                let (a, b) = (num(&latest.value), num(&from.value));
                let improved = if lower_better { a < b } else { a > b };
                let same = a == b;
                match kind {
                    TrendKind::Improving => truth(improved),
                    TrendKind::NotWorsening => truth(improved || same),
                }
            }
            LeafTest::Count {
                op,
                threshold: t,
                at_least,
                days,
                consecutive,
            } => count(*op, &threshold(t), *at_least, *days, *consecutive),
            LeafTest::Against { op, other } => {
                let others = self.series_of(
                    other.key,
                    other.function.as_ref().or(leaf.function.as_ref()),
                    function,
                    leaf.fallback_to_council,
                );
                let found = if other.same_date {
                    others.iter().find(|o| o.date == latest.date)
                } else {
                    others.last()
                };
                let Some(found) = found else {
                    return Truth::Unknown;
                };
                let age = (self.as_of - found.date).num_days();
                if self.pack.keys[other.key]
                    .max_age_days
                    .is_some_and(|m| age > i64::from(m))
                    || leaf.within_days.is_some_and(|w| age > self.amount(w))
                {
                    return Truth::Unknown;
                }
                holds(&latest.value, *op, &found.value)
            }
            LeafTest::DaysSince { .. } => unreachable!(),
        }
    }
}

fn truth(b: bool) -> Truth {
    if b {
        Truth::Met
    } else {
        Truth::NotMet
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Grade { rank, .. } => *rank as f64,
        Value::Boolean(b) => f64::from(u8::from(*b)),
        Value::Date(d) => (*d - NaiveDate::default()).num_days() as f64,
        Value::Text(_) => 0.0,
    }
}

fn holds(value: &Value, op: Op, threshold: &Value) -> Truth {
    if let (Value::Text(a), Value::Text(b)) = (value, threshold) {
        return match op {
            Op::Eq => truth(a == b),
            Op::Ne => truth(a != b),
            _ => Truth::Unknown,
        };
    }
    let (a, b) = (num(value), num(threshold));
    truth(match op {
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Eq => a == b,
        Op::Ne => a != b,
    })
}

/// The evidence as the language reference says rules read it, done the slow way: judgements in
/// a role the key does not accept are dropped; then, until nothing changes, each derived key is
/// recomputed from scratch on every (function, date) where each input has an observation, using
/// the one recorded last that day, and the formula written out by hand.
fn read_evidence(pack: &Pack, evidence: &Evidence) -> Evidence {
    let base: Vec<Observation> = evidence
        .observations
        .iter()
        .filter(|o| {
            let key = &pack.keys[o.key_index];
            key.judged_by_roles.is_empty() || o.role.as_ref().is_some_and(|r| key.judged_by_roles.contains(r))
        })
        .cloned()
        .collect();
    let derived: Vec<usize> = (0..pack.keys.len())
        .filter(|&i| pack.keys[i].derived.is_some())
        .collect();
    let mut previous: Vec<Observation> = Vec::new();
    for _ in 0..=derived.len() {
        let observations: Vec<Observation> = base.iter().chain(&previous).cloned().collect();
        let mut computed = Vec::new();
        for &k in &derived {
            let key = &pack.keys[k];
            let formula = key.derived.as_ref().unwrap();
            let inputs = formula.inputs();
            // In force: the observation of that key, function and day recorded last.
            let in_force = |name: &str, f: &Option<String>, date: NaiveDate| -> Option<f64> {
                observations
                    .iter()
                    .filter(|o| o.key == name && &o.function == f && o.date == date)
                    .max_by(|a, b| (a.recorded, &a.id).cmp(&(b.recorded, &b.id)))
                    .map(|o| match o.value {
                        Value::Number(n) => n,
                        _ => f64::NAN,
                    })
            };
            let mut days: Vec<(Option<String>, NaiveDate)> = observations
                .iter()
                .filter(|o| o.key == inputs[0])
                .map(|o| (o.function.clone(), o.date))
                .collect();
            days.sort();
            days.dedup();
            for (f, date) in days {
                let values: Vec<Option<f64>> = inputs.iter().map(|n| in_force(n, &f, date)).collect();
                if values.iter().any(Option::is_none) {
                    continue;
                }
                let v: Vec<f64> = values.into_iter().flatten().collect();
                let raw = match formula {
                    crate::vocabulary::Formula::Ratio { scale, .. } => {
                        if v[1] == 0.0 {
                            continue;
                        }
                        v[0] / v[1] * scale
                    }
                    crate::vocabulary::Formula::Difference { .. } => v[0] - v[1],
                    crate::vocabulary::Formula::Sum { .. } => v.iter().sum(),
                    crate::vocabulary::Formula::PercentChange { .. } => {
                        if v[0] == 0.0 {
                            continue;
                        }
                        (v[1] - v[0]) / v[0] * 100.0
                    }
                };
                // Nine decimal places, as the language reference says.
                let value = (raw * 1e9).round() / 1e9;
                if !value.is_finite() {
                    continue;
                }
                let mut o = observations
                    .iter()
                    .find(|o| o.key == inputs[0] && o.function == f && o.date == date)
                    .unwrap()
                    .clone();
                o.id = format!("reference-derived-{}-{:?}-{date}", key.key, f);
                o.key = key.key.clone();
                o.key_index = k;
                o.value = Value::Number(value);
                o.recorded = None;
                computed.push(o);
            }
        }
        previous = computed;
    }
    Evidence::from_parts(
        evidence.council.clone(),
        evidence.as_of,
        evidence.title.clone(),
        base.into_iter().chain(previous).collect(),
    )
}
