//! Rules in plain English, for people who do not read JSON.
//!
//! Every condition renders as a sentence ("the latest `children.agency_share` is at most 0.2
//! (parameter `agency_share_max`)") and every rule as a sentence or an indented list. The same
//! words are used in assessment reasons, `handback rules` and the generated pack reference, so a
//! reviewer reads one vocabulary everywhere.

use crate::pack::Pack;
use crate::rules::{Amount, Body, Condition, Leaf, LeafTest, Op, Rule, SinceBound, Threshold, TrendKind};
use crate::vocabulary::Value;

/// The sentence of every part of every rule's reason, by rule, in the order an explanation visits
/// them: each condition before its parts, and a graded rule's levels in turn (its own sentence,
/// which depends on the outcome, is not among them). They depend on the pack alone (a parameter
/// is named with its default, not an override), and writing them afresh at every assessment was
/// a third of an explained one.
pub(crate) fn reason_sentences(pack: &Pack) -> Vec<Vec<String>> {
    fn visit(pack: &Pack, c: &Condition, out: &mut Vec<String>) {
        out.push(part_words(pack, c));
        match c {
            Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
                for p in parts {
                    visit(pack, p, out);
                }
            }
            Condition::Not(inner) => visit(pack, inner, out),
            Condition::Leaf(_) | Condition::Rule(_) => {}
        }
    }
    pack.rules
        .iter()
        .map(|rule| {
            let mut out = Vec::new();
            match &rule.body {
                Body::Test(c) => visit(pack, c, &mut out),
                Body::Graded { levels, .. } => {
                    for level in levels {
                        match &level.condition {
                            Some(c) => {
                                let first = out.len();
                                visit(pack, c, &mut out);
                                if let Some(says) = out.get_mut(first) {
                                    *says = format!("`{}` when {says}", level.name);
                                }
                            }
                            None => out.push(format!("`{}` otherwise", level.name)),
                        }
                    }
                }
            }
            out
        })
        .collect()
}

/// A condition's own sentence as a part of a reason: a compound's short phrase (its parts have
/// theirs), a leaf's or a reference's whole sentence.
pub(crate) fn part_words(pack: &Pack, c: &Condition) -> String {
    match c {
        Condition::All(_) | Condition::Any(_) | Condition::AtLeast(..) => compound_words(c),
        Condition::Not(_) => "not the following".into(),
        Condition::Leaf(_) | Condition::Rule(_) => condition_words(pack, c, false),
    }
}

/// The condition as one sentence.
pub fn condition_words(pack: &Pack, c: &Condition, _top: bool) -> String {
    match c {
        Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
            let inner: Vec<String> = parts.iter().map(|p| condition_words(pack, p, false)).collect();
            format!(
                "{} [{}]",
                compound_words(c).trim_end_matches(" the following"),
                inner.join("; ")
            )
        }
        Condition::Not(inner) => format!("not ({})", condition_words(pack, inner, false)),
        Condition::Leaf(leaf) => leaf_words(pack, leaf),
        Condition::Rule(r) => {
            let target = pack.rules.get(r.rule);
            let id = target.map(|t| t.id.as_str()).unwrap_or("?");
            let function = r
                .function
                .as_ref()
                .map(|f| format!(" for `{f}`"))
                .unwrap_or_default();
            match (r.at_least, target.map(|t| &t.body)) {
                (Some(rank), Some(Body::Graded { scale, .. })) => {
                    let level = pack
                        .scales
                        .get(*scale)
                        .and_then(|s| s.levels.get(rank))
                        .map(String::as_str)
                        .unwrap_or("?");
                    format!("rule `{id}`{function} is at least `{level}`")
                }
                _ => format!("rule `{id}`{function} is met"),
            }
        }
    }
}

/// "all of the following", "any of the following", "at least 2 of the following".
pub fn compound_words(c: &Condition) -> String {
    match c {
        Condition::All(_) => "all of the following".into(),
        Condition::Any(_) => "any of the following".into(),
        Condition::AtLeast(k, parts) => format!("at least {k} of the following {}", parts.len()),
        _ => String::new(),
    }
}

fn leaf_words(pack: &Pack, leaf: &Leaf) -> String {
    let key = pack.keys.get(leaf.key).map(|k| k.key.as_str()).unwrap_or("?");
    let whose = match &leaf.function {
        Some(f) => format!("`{key}` for `{f}`"),
        None => format!("`{key}`"),
    };
    // A derived key reads as its formula too, so the rule says what is computed from what.
    let whose = match pack.keys.get(leaf.key).and_then(|k| k.derived.as_ref()) {
        Some(formula) => format!("{whose} ({})", formula.named()),
        None => whose,
    };
    let threshold = |t: &Threshold| match t {
        Threshold::Literal(v) => v.to_string(),
        Threshold::Parameter(i) => pack
            .parameters
            .get(*i)
            .map(|p| format!("{} (parameter `{}`)", p.default, p.name))
            .unwrap_or_default(),
    };
    let mut text = match &leaf.test {
        LeafTest::Compare {
            op: Op::Eq,
            threshold: Threshold::Literal(Value::Boolean(b)),
        } => format!("the latest {whose} is {b}"),
        LeafTest::Compare { op, threshold: t } => {
            format!("the latest {whose} is {} {}", op.words(), threshold(t))
        }
        LeafTest::Sustained {
            op,
            threshold: t,
            days,
        } => {
            format!(
                "{whose} has stayed {} {} throughout the last {} days",
                op.words(),
                threshold(t),
                amount(pack, *days)
            )
        }
        LeafTest::Present => format!("{whose} has been recorded"),
        LeafTest::Trend { kind, days, by } => match (kind, by) {
            (_, Some(change)) => {
                let unit = match (&change.relative, pack.keys.get(leaf.key).map(|k| &k.value_type)) {
                    (true, _) => "%".to_string(),
                    (false, Some(crate::vocabulary::ValueType::Number { unit, .. })) => format!(" {unit}"),
                    (false, _) => " levels".to_string(),
                };
                let of = if change.relative {
                    " of the value in force at the window's start"
                } else {
                    " on the value in force at the window's start"
                };
                format!(
                    "{whose} has improved by at least {}{unit}{of}, over the last {} days",
                    threshold(&change.size),
                    amount(pack, *days)
                )
            }
            (TrendKind::Improving, None) => {
                format!("{whose} has improved over the last {} days", amount(pack, *days))
            }
            (TrendKind::NotWorsening, None) => {
                format!(
                    "{whose} has not worsened over the last {} days",
                    amount(pack, *days)
                )
            }
        },
        LeafTest::Count {
            op,
            threshold: t,
            at_least,
            days,
            consecutive: false,
        } => format!(
            "at least {} observations of {whose} in the last {} days are {} {}",
            amount(pack, *at_least),
            amount(pack, *days),
            op.words(),
            threshold(t)
        ),
        LeafTest::Count {
            op,
            threshold: t,
            at_least,
            days,
            consecutive: true,
        } => format!(
            "the latest {} observations of {whose} in the last {} days are all {} {}",
            amount(pack, *at_least),
            amount(pack, *days),
            op.words(),
            threshold(t)
        ),
        LeafTest::Against { op, other } => {
            let name = pack.keys.get(other.key).map(|k| k.key.as_str()).unwrap_or("?");
            let theirs = match &other.function {
                Some(f) => format!("`{name}` for `{f}`"),
                None => format!("`{name}`"),
            };
            if other.same_date {
                format!("the latest {whose} is {} {theirs} of the same date", op.words())
            } else {
                format!("the latest {whose} is {} the latest {theirs}", op.words())
            }
        }
        LeafTest::DaysSince {
            op,
            threshold: t,
            bound,
            days,
            until,
        } => {
            let word = match bound {
                SinceBound::AtMost => "at most",
                SinceBound::AtLeast => "at least",
            };
            match until {
                None => format!(
                    "{word} {} days have passed since {whose} was last {} {}",
                    amount(pack, *days),
                    op.words(),
                    threshold(t)
                ),
                Some(e) => {
                    let name = pack.keys.get(e.key).map(|k| k.key.as_str()).unwrap_or("?");
                    let second = match &e.function {
                        Some(f) => format!("`{name}` for `{f}`"),
                        None => format!("`{name}`"),
                    };
                    format!(
                        "{word} {} days passed from the latest {whose} {} {} to the first {second} {} {} on or after it",
                        amount(pack, *days),
                        op.words(),
                        threshold(t),
                        e.op.words(),
                        threshold(&e.threshold)
                    )
                }
            }
        }
    };
    if let Some(days) = leaf.within_days {
        text.push_str(&format!(", observed within the last {} days", amount(pack, days)));
    }
    if leaf.fallback_to_council {
        text.push_str(" (the council-wide figure where the function has none)");
    }
    match &leaf.says {
        Some(says) => format!("{says}: {text}"),
        None => text,
    }
}

/// An amount as written: the number, and the parameter it comes from.
fn amount(pack: &Pack, a: Amount) -> String {
    match a {
        Amount::Literal(n) => n.to_string(),
        Amount::Parameter(i) => pack
            .parameters
            .get(i)
            .map(|p| format!("{} (parameter `{}`)", p.default, p.name))
            .unwrap_or_default(),
    }
}

/// The rule as an indented list of lines (two spaces per level), for Markdown and terminals.
pub fn rule_lines(pack: &Pack, rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    match &rule.body {
        Body::Test(c) => {
            out.push("Met when:".to_string());
            condition_lines(pack, c, 0, &mut out);
        }
        Body::Graded { levels, .. } => {
            for l in levels {
                match &l.condition {
                    Some(c) => {
                        out.push(format!("`{}` when:", l.name));
                        condition_lines(pack, c, 0, &mut out);
                    }
                    None => out.push(format!("`{}` otherwise.", l.name)),
                }
            }
        }
    }
    out
}

fn condition_lines(pack: &Pack, c: &Condition, depth: usize, out: &mut Vec<String>) {
    let indent = "  ".repeat(depth);
    match c {
        Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
            out.push(format!("{indent}- {}:", compound_words(c)));
            for p in parts {
                condition_lines(pack, p, depth + 1, out);
            }
        }
        Condition::Not(inner) => {
            out.push(format!("{indent}- not:"));
            condition_lines(pack, inner, depth + 1, out);
        }
        _ => out.push(format!("{indent}- {}", condition_words(pack, c, false))),
    }
}

/// The rule as one sentence.
pub fn rule_sentence(pack: &Pack, rule: &Rule) -> String {
    match &rule.body {
        Body::Test(c) => format!("Met when {}.", condition_words(pack, c, true)),
        Body::Graded { levels, .. } => {
            let parts: Vec<String> = levels
                .iter()
                .map(|l| match &l.condition {
                    Some(c) => format!("`{}` when {}", l.name, condition_words(pack, c, true)),
                    None => format!("otherwise `{}`", l.name),
                })
                .collect();
            format!("{}.", parts.join("; "))
        }
    }
}
