//! What a pack author is warned of: things that load and evaluate, but are almost certainly not
//! what the author meant. A key no rule reads is evidence a commissioner would gather for
//! nothing; a rule nothing uses never reaches a verdict anyone sees; a level that can never be
//! reached makes the grade lie about its range. None of these makes the pack wrong, so they
//! never fail `lint`.

use std::collections::BTreeSet;

use crate::diagnostic::Diagnostic;
use crate::json::{self, Json, Kind};
use crate::pack::{Pack, SourceFile};
use crate::rules::{Body, Condition, LeafTest, Op, Threshold};
use crate::vocabulary::Value;

/// Every warning for a pack, located in the files it was loaded from (the same `files` given
/// to [`Pack::load`]), sorted by file and position.
pub fn pack_warnings(pack: &Pack, files: &[SourceFile]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    unused_keys(pack, files, &mut out);
    unused_parameters(pack, files, &mut out);
    unused_rules(pack, &mut out);
    unreachable_levels(pack, &mut out);
    shadowed_phases(pack, files, &mut out);
    self_comparisons(pack, &mut out);
    out.sort();
    out
}

/// Where the entry of the array `field` whose `id_field` is `id` begins, for warnings about keys
/// and parameters (which keep no position of their own once loaded, and are sorted by name).
fn entry(files: &[SourceFile], name: &str, field: &str, id_field: &str, id: &str) -> Diagnostic {
    let file = files.iter().find(|f| f.name == name);
    let label = file.map_or_else(|| name.to_string(), |f| f.label.clone());
    let parsed = file.and_then(|f| json::parse(&f.text).ok());
    let found = parsed
        .as_ref()
        .and_then(|j| member(j, field))
        .and_then(|arr| match &arr.kind {
            Kind::Array(items) => items.iter().enumerate().find(|(_, item)| {
                member(item, id_field).is_some_and(|v| matches!(&v.kind, Kind::String(s) if s == id))
            }),
            _ => None,
        });
    let mut path = String::from("$");
    json::push_key(&mut path, field);
    if let Some((i, _)) = found {
        path.push_str(&format!("[{i}]"));
    }
    Diagnostic {
        file: label,
        line: found.map_or(1, |(_, item)| item.pos.line),
        column: found.map_or(1, |(_, item)| item.pos.column),
        path,
        message: String::new(),
    }
}

fn member<'j>(json: &'j Json, key: &str) -> Option<&'j Json> {
    match &json.kind {
        Kind::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
        _ => None,
    }
}

/// Where a rule was declared.
fn origin(rule: &crate::rules::Rule) -> Diagnostic {
    Diagnostic {
        file: rule.origin.file.clone(),
        line: rule.origin.pos.line,
        column: rule.origin.pos.column,
        path: rule.origin.path.clone(),
        message: String::new(),
    }
}

fn warn(mut at: Diagnostic, message: String) -> Diagnostic {
    at.message = format!("warning: {message}");
    at
}

fn unused_keys(pack: &Pack, files: &[SourceFile], out: &mut Vec<Diagnostic>) {
    let mut read: BTreeSet<&str> = BTreeSet::new();
    for rule in pack.rules() {
        for k in pack.keys_read(rule) {
            read.insert(k.key.as_str());
        }
    }
    if let Some(r) = pack.recommendation() {
        read.insert(r.key.as_str());
    }
    // A key a read derived key is computed from is read too (through it), however deep.
    let mut frontier: Vec<&str> = read.iter().copied().collect();
    while let Some(name) = frontier.pop() {
        if let Some(formula) = pack.key(name).and_then(|k| k.derived.as_ref()) {
            for input in formula.inputs() {
                if read.insert(input) {
                    frontier.push(input);
                }
            }
        }
    }
    for k in pack.keys() {
        if !read.contains(k.key.as_str()) {
            out.push(warn(
                entry(files, "vocabulary.json", "keys", "key", &k.key),
                format!(
                    "no rule reads the key `{}`: evidence of it changes no verdict",
                    k.key
                ),
            ));
        }
    }
}

fn unused_parameters(pack: &Pack, files: &[SourceFile], out: &mut Vec<Diagnostic>) {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for rule in pack.rules() {
        for p in pack.parameters_used(rule) {
            used.insert(p.name.as_str());
        }
    }
    // A key's `max_age_days` may name one: a window of days like any other.
    used.extend(pack.keys().iter().filter_map(|k| k.max_age_parameter.as_deref()));
    for p in pack.parameters() {
        if !used.contains(p.name.as_str()) {
            out.push(warn(
                entry(files, "parameters.json", "parameters", "name", &p.name),
                format!(
                    "no rule uses the parameter `{}`: `--param {}=…` would change nothing",
                    p.name, p.name
                ),
            ));
        }
    }
}

/// A rule in no criteria set, referred to by no rule, and gating no function and not the exit,
/// is evaluated and reported under no heading: nobody would notice what it says.
fn unused_rules(pack: &Pack, out: &mut Vec<Diagnostic>) {
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for rule in pack.rules() {
        for (_, c) in rule.body.conditions() {
            c.for_each_ref(&mut |r| {
                used.insert(r.rule);
            });
        }
    }
    let mut gates: BTreeSet<&str> = pack.exit_gates().into_iter().collect();
    for f in pack.functions() {
        gates.extend(f.gates.iter().map(String::as_str));
    }
    for (i, rule) in pack.rules().iter().enumerate() {
        if rule.set.is_none() && !used.contains(&i) && !gates.contains(rule.id.as_str()) {
            out.push(warn(
                origin(rule),
                format!(
                    "the rule `{}` is in no criteria set, no rule refers to it and it gates nothing: its verdict reaches no one",
                    rule.id
                ),
            ));
        }
    }
}

/// A key compared `against` itself, on the same function, decides nothing: `<=` always holds on
/// the same value and `<` never does.
fn self_comparisons(pack: &Pack, out: &mut Vec<Diagnostic>) {
    for rule in pack.rules() {
        let mut found = false;
        for (_, c) in rule.body.conditions() {
            c.for_each_leaf(&mut |leaf| {
                if let crate::rules::LeafTest::Against { other, .. } = &leaf.test {
                    found |= other.key == leaf.key && other.function == leaf.function;
                }
            });
        }
        if found {
            out.push(warn(
                origin(rule),
                format!(
                    "the rule `{}` compares a key `against` itself: the comparison is decided before any evidence is read",
                    rule.id
                ),
            ));
        }
    }
}

/// Levels are tried best first: a level whose condition can only hold when a better level's
/// does is never the outcome.
fn unreachable_levels(pack: &Pack, out: &mut Vec<Diagnostic>) {
    for rule in pack.rules() {
        let Body::Graded { levels, .. } = &rule.body else {
            continue;
        };
        for (j, level) in levels.iter().enumerate() {
            let Some(c) = &level.condition else { continue };
            let better = levels
                .iter()
                .take(j)
                .find(|b| b.condition.as_ref().is_some_and(|bc| implies(c, bc)));
            if let Some(b) = better {
                let mut at = origin(rule);
                at.path = format!("{}.levels[{j}]", at.path);
                out.push(warn(
                    at,
                    format!(
                        "level `{}` of `{}` can never be reached: whenever its condition holds, the better level `{}`'s holds too, and levels are tried best first",
                        level.name, rule.id, b.name
                    ),
                ));
            }
        }
    }
}

/// Whether `a` holding (met) guarantees `b` is met. Sound, not complete: `false` means "not
/// shown", so a warning is only ever given when it is certain.
fn implies(a: &Condition, b: &Condition) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        // a implies one of b's alternatives.
        (_, Condition::Any(bs)) if bs.iter().any(|x| implies(a, x)) => true,
        // a implies every part of b.
        (_, Condition::All(bs)) if !bs.is_empty() && bs.iter().all(|x| implies(a, x)) => true,
        // One part of a already implies b.
        (Condition::All(parts), _) => parts.iter().any(|p| implies(p, b)),
        // Every alternative of a implies b.
        (Condition::Any(alts), _) if !alts.is_empty() => alts.iter().all(|p| implies(p, b)),
        (Condition::Leaf(x), Condition::Leaf(y)) => leaf_implies(x, y),
        _ => false,
    }
}

/// `x >= 5` implies `x >= 3` on the same key, read the same way.
fn leaf_implies(a: &crate::rules::Leaf, b: &crate::rules::Leaf) -> bool {
    if (a.key, &a.within_days, &a.function, a.fallback_to_council)
        != (b.key, &b.within_days, &b.function, b.fallback_to_council)
    {
        return false;
    }
    let (
        LeafTest::Compare {
            op: oa,
            threshold: Threshold::Literal(Value::Number(ta)),
        },
        LeafTest::Compare {
            op: ob,
            threshold: Threshold::Literal(Value::Number(tb)),
        },
    ) = (&a.test, &b.test)
    else {
        return false;
    };
    let (ta, tb) = (*ta, *tb);
    match (oa, ob) {
        (Op::Ge, Op::Ge) | (Op::Gt, Op::Gt) | (Op::Gt, Op::Ge) => ta >= tb,
        (Op::Ge, Op::Gt) => ta > tb,
        (Op::Le, Op::Le) | (Op::Lt, Op::Lt) | (Op::Lt, Op::Le) => ta <= tb,
        (Op::Le, Op::Lt) => ta < tb,
        (Op::Eq, Op::Ge) => ta >= tb,
        (Op::Eq, Op::Gt) => ta > tb,
        (Op::Eq, Op::Le) => ta <= tb,
        (Op::Eq, Op::Lt) => ta < tb,
        (Op::Eq, Op::Eq) => ta == tb,
        (Op::Eq, Op::Ne) => ta != tb,
        _ => false,
    }
}

/// The plan is in the last phase whose condition holds, so a phase followed by one that holds
/// whenever it does (no condition, or the same one) can never be the phase.
fn shadowed_phases(pack: &Pack, files: &[SourceFile], out: &mut Vec<Diagnostic>) {
    let phases = pack.phases();
    for (i, p) in phases.iter().enumerate() {
        let later = phases
            .iter()
            .skip(i + 1)
            .find(|q| q.when.is_none() || (q.when.is_some() && q.when == p.when));
        if let Some(q) = later {
            out.push(warn(
                entry(files, "functions.json", "phases", "id", &p.id),
                format!(
                    "phase `{}` can never be the phase: `{}`, after it, holds whenever it does (the plan is in the last phase whose condition holds)",
                    p.id, q.id
                ),
            ));
        }
    }
}
