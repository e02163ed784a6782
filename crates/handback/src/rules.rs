//! Rules and their conditions: the declarative language packs are written in.
//!
//! A rule is either a *test* (met / not met / unknown) or a *graded* judgement (the highest level
//! of a scale whose condition holds). Conditions combine evidence leaves with Kleene
//! three-valued `all`, `any`, `at_least` and `not`, and may refer to other rules' outcomes. This
//! module holds the validated model and decodes it from JSON; the language itself is documented
//! in `docs/rule-language.md`. Evaluation lives in `assess`.

use serde::Serialize;

use crate::diagnostic::{optional, required, At, Decoder};
use crate::json::Pos;
use crate::vocabulary::{decode_value, Key, Scale, Scope, Value, ValueType};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    pub(crate) fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            _ => return None,
        })
    }

    /// The operator's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Plain-English reading ("at most").
    pub fn words(self) -> &'static str {
        match self {
            Op::Lt => "less than",
            Op::Le => "at most",
            Op::Gt => "more than",
            Op::Ge => "at least",
            Op::Eq => "equal to",
            Op::Ne => "not equal to",
        }
    }

    /// Applies the operator to an ordering of `left` against `right`.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Gt => ord == Greater,
            Op::Ge => ord != Less,
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
        }
    }
}

/// What a leaf compares the evidence with.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// A value written in the rule.
    Literal(Value),
    /// A named parameter of the pack (index into the pack's parameters).
    Parameter(usize),
}

/// A whole number that decides a leaf (a window of days, a count of observations): written in the
/// rule, or named as a parameter (`{"param": NAME}`) so callers can move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// A number written in the rule.
    Literal(u32),
    /// A parameter of the pack (index into the pack's parameters), a whole number from 1.
    Parameter(usize),
}

/// The largest window (days) or count a rule or a parameter may give: a century.
pub const MAX_AMOUNT: u32 = 36_600;

/// What an [`Amount`] counts, which decides the unit its parameter must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmountKind {
    /// A number of days (`sustained_days`, `window_days`, `within_days`, ...): unit `days`.
    Days,
    /// A number of observations (`count.at_least`): unit `count`.
    Count,
}

impl AmountKind {
    pub(crate) fn unit(self) -> &'static str {
        match self {
            AmountKind::Days => "days",
            AmountKind::Count => "count",
        }
    }
}

/// Which way a trend must go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendKind {
    /// The latest value is strictly better than the value at the window's start.
    Improving,
    /// The latest value is no worse than the value at the window's start.
    NotWorsening,
}

/// The test a leaf applies to a key's evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum LeafTest {
    /// The latest value compared with a threshold.
    Compare {
        /// The operator.
        op: Op,
        /// The threshold.
        threshold: Threshold,
    },
    /// Every value over the last `days` days (the window covered by evidence) satisfies the
    /// comparison.
    Sustained {
        /// The operator.
        op: Op,
        /// The threshold.
        threshold: Threshold,
        /// The window, in days before the as-of date.
        days: Amount,
    },
    /// Some visible, fresh evidence exists.
    Present,
    /// The value moved in the key's better direction over the window.
    Trend {
        /// Improving or not worsening.
        kind: TrendKind,
        /// The window, in days before the as-of date.
        days: Amount,
        /// How much better the latest value must be than the value in force at the window's
        /// start, if the trend has a size.
        by: Option<ChangeSize>,
    },
    /// At least `at_least` observations in force in the window satisfy the comparison (with
    /// `consecutive`, the latest `at_least` of them all do).
    Count {
        /// The operator.
        op: Op,
        /// The threshold.
        threshold: Threshold,
        /// How many must satisfy it.
        at_least: Amount,
        /// The window, in days before the as-of date.
        days: Amount,
        /// Only the latest `at_least` observations in the window count, and all must satisfy it.
        consecutive: bool,
    },
    /// The latest value compared with another key's latest value.
    Against {
        /// The operator.
        op: Op,
        /// The other key, and how it is read.
        other: Against,
    },
    /// The days from the latest observation of the key meeting a comparison to the as-of date
    /// (or to the first observation of another event on or after it) are at most / at least a
    /// number.
    DaysSince {
        /// The event: the key's observation meeting this comparison.
        op: Op,
        /// The event's threshold.
        threshold: Threshold,
        /// At most or at least.
        bound: SinceBound,
        /// The number of days.
        days: Amount,
        /// The later event, for "between event A and event B"; `None`: the as-of date.
        until: Option<Event>,
    },
}

/// The size of a change a trend asks for.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangeSize {
    /// The size: in the key's unit (levels, for grades), or percent of the start value.
    pub size: Threshold,
    /// Whether `size` is a percentage of the value at the window's start.
    pub relative: bool,
}

/// The other side of a key-against-key comparison.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Against {
    /// Index into the pack's keys.
    pub key: usize,
    /// For a function-scoped key: this function's evidence rather than the leaf's.
    pub function: Option<String>,
    /// Compare with the other key's observation of the same day as the key's latest, not with
    /// its latest.
    pub same_date: bool,
}

/// Which side of a number of days `days_since` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SinceBound {
    /// No more than the number of days.
    AtMost,
    /// No fewer than the number of days.
    AtLeast,
}

/// An event: an observation of a key meeting a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Index into the pack's keys.
    pub key: usize,
    /// The operator.
    pub op: Op,
    /// The threshold.
    pub threshold: Threshold,
    /// For a function-scoped key: this function's evidence rather than the rule's subject.
    pub function: Option<String>,
}

/// A condition over one evidence key.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Index into the pack's keys.
    pub key: usize,
    /// The test.
    pub test: LeafTest,
    /// The latest observation must be at most this many days old, or the leaf is unknown.
    pub within_days: Option<Amount>,
    /// For function-scoped keys: read this function's evidence rather than the rule's subject.
    pub function: Option<String>,
    /// For function-scoped keys in per-function rules: use council-wide observations of the key
    /// when the function has none of its own.
    pub fallback_to_council: bool,
    /// What this signal means in the words of the source ("a permanent senior management team").
    pub says: Option<String>,
}

impl Leaf {
    /// Every amount the leaf reads, with the field it was written in.
    pub fn amounts(&self) -> Vec<(&'static str, Amount)> {
        let mut out = Vec::new();
        if let Some(a) = self.within_days {
            out.push(("within_days", a));
        }
        match &self.test {
            LeafTest::Sustained { days, .. } => out.push(("sustained_days", *days)),
            LeafTest::Trend { days, .. } => out.push(("window_days", *days)),
            LeafTest::Count { at_least, days, .. } => {
                out.push(("count.at_least", *at_least));
                out.push(("count.within_days", *days));
            }
            LeafTest::DaysSince { bound, days, .. } => out.push((
                match bound {
                    SinceBound::AtMost => "at_most",
                    SinceBound::AtLeast => "at_least",
                },
                *days,
            )),
            LeafTest::Compare { .. } | LeafTest::Present | LeafTest::Against { .. } => {}
        }
        out
    }

    /// Every threshold the leaf compares a key's values with, with that key.
    pub fn compared(&self) -> Vec<(usize, &Threshold)> {
        match &self.test {
            LeafTest::Compare { threshold, .. }
            | LeafTest::Sustained { threshold, .. }
            | LeafTest::Count { threshold, .. } => vec![(self.key, threshold)],
            LeafTest::DaysSince { threshold, until, .. } => {
                let mut v = vec![(self.key, threshold)];
                v.extend(until.as_ref().map(|e| (e.key, &e.threshold)));
                v
            }
            LeafTest::Trend { .. } | LeafTest::Present | LeafTest::Against { .. } => vec![],
        }
    }

    /// Every parameter the leaf reads: thresholds, a change's size and amounts.
    pub fn parameters(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .compared()
            .into_iter()
            .filter_map(|(_, t)| match t {
                Threshold::Parameter(i) => Some(*i),
                Threshold::Literal(_) => None,
            })
            .collect();
        if let LeafTest::Trend {
            by:
                Some(ChangeSize {
                    size: Threshold::Parameter(i),
                    ..
                }),
            ..
        } = &self.test
        {
            v.push(*i);
        }
        v.extend(self.amounts().into_iter().filter_map(|(_, a)| match a {
            Amount::Parameter(i) => Some(i),
            Amount::Literal(_) => None,
        }));
        v
    }

    /// Every key the leaf reads.
    pub fn keys(&self) -> Vec<usize> {
        let mut v = vec![self.key];
        match &self.test {
            LeafTest::Against { other, .. } => v.push(other.key),
            LeafTest::DaysSince { until: Some(e), .. } => v.push(e.key),
            _ => {}
        }
        v
    }
}

/// A reference to another rule's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRef {
    /// Index of the referenced rule in the pack.
    pub rule: usize,
    /// For per-function rules: which function's outcome; `None` means the referring rule's own
    /// function.
    pub function: Option<String>,
    /// For graded rules: the level at or above which the reference is met (rank on the scale).
    pub at_least: Option<usize>,
}

/// A three-valued condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Met when every part is met.
    All(Vec<Condition>),
    /// Met when some part is met.
    Any(Vec<Condition>),
    /// Met when at least `k` parts are met.
    AtLeast(u32, Vec<Condition>),
    /// Met when the part is not met.
    Not(Box<Condition>),
    /// A test of evidence.
    Leaf(Leaf),
    /// Another rule's outcome.
    Rule(RuleRef),
}

impl Condition {
    /// Whether improving evidence can never make this condition worse, given which leaves and
    /// referenced rules are monotone. `not` never is.
    pub(crate) fn is_monotone(&self, leaf: &impl Fn(&Leaf) -> bool, rule: &impl Fn(usize) -> bool) -> bool {
        match self {
            Condition::All(cs) | Condition::Any(cs) | Condition::AtLeast(_, cs) => {
                cs.iter().all(|c| c.is_monotone(leaf, rule))
            }
            Condition::Not(_) => false,
            Condition::Leaf(l) => leaf(l),
            Condition::Rule(r) => rule(r.rule),
        }
    }

    /// Calls `f` on every rule reference in the condition.
    pub(crate) fn for_each_ref(&self, f: &mut impl FnMut(&RuleRef)) {
        match self {
            Condition::All(cs) | Condition::Any(cs) | Condition::AtLeast(_, cs) => {
                cs.iter().for_each(|c| c.for_each_ref(f))
            }
            Condition::Not(c) => c.for_each_ref(f),
            Condition::Leaf(_) => {}
            Condition::Rule(r) => f(r),
        }
    }

    /// Calls `f` on every leaf in the condition.
    pub(crate) fn for_each_leaf(&self, f: &mut impl FnMut(&Leaf)) {
        match self {
            Condition::All(cs) | Condition::Any(cs) | Condition::AtLeast(_, cs) => {
                cs.iter().for_each(|c| c.for_each_leaf(f))
            }
            Condition::Not(c) => c.for_each_leaf(f),
            Condition::Leaf(l) => f(l),
            Condition::Rule(_) => {}
        }
    }
}

/// Where a rule's text comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Citation {
    /// The source document (a seed file name).
    pub source: String,
    /// The passage: appendix, item, paragraph.
    pub at: String,
}

/// A level of a graded rule and the condition for reaching it.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Rank on the scale (0 = worst).
    pub rank: usize,
    /// The level's name.
    pub name: String,
    /// The condition; `None` for the floor, reached when no higher level is.
    pub condition: Option<Condition>,
}

/// What a rule decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Met, not met or unknown.
    Test(Condition),
    /// A level of a scale.
    Graded {
        /// Index into the pack's scales.
        scale: usize,
        /// Levels from best to worst; the last is the floor, with no condition.
        levels: Vec<Level>,
    },
}

/// One rule of a pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// Short title.
    pub title: String,
    /// The criteria set this rule belongs to (a criterion), or `None` for a helper rule.
    pub set: Option<String>,
    /// The verbatim source text the rule encodes.
    pub quote: String,
    /// Where the quote comes from.
    pub citation: Citation,
    /// Evaluated once per council function rather than once for the council.
    pub per_function: bool,
    /// Test or graded: the condition tree, private because its references are indices into
    /// the pack's own tables (read it in words with [`crate::authoring::rule_lines`]).
    pub(crate) body: Body,
    /// Whether better evidence can never make the rule's outcome worse.
    pub monotone: bool,
    pub(crate) origin: Origin,
}

impl Rule {
    /// A test or a graded rule.
    pub fn kind(&self) -> crate::assess::RuleKind {
        match self.body {
            Body::Test(_) => crate::assess::RuleKind::Test,
            Body::Graded { .. } => crate::assess::RuleKind::Graded,
        }
    }
}

/// Where a rule was declared, so later checks can point at it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Origin {
    pub file: String,
    pub pos: Pos,
    pub path: String,
}

/// A reference whose target is checked once every rule is known.
pub(crate) struct PendingRef {
    pub owner: usize,
    pub target: String,
    pub function: Option<String>,
    pub at_least: Option<String>,
    pub pos: Pos,
    pub path: String,
    /// Address of the reference inside the owner: body level (0 for tests) and pre-order index.
    pub slot: (usize, usize),
}

/// Everything a condition decoder needs to resolve names.
pub(crate) struct Scope_<'a> {
    pub keys: &'a [Key],
    /// `keys` by name ([`crate::pack::key_names`]).
    pub key_names: &'a std::collections::BTreeMap<&'a str, usize>,
    pub scales: &'a [Scale],
    pub parameters: &'a [crate::pack::Parameter],
    pub functions: &'a [crate::functions::Function],
    pub per_function: bool,
    pub owner: usize,
    pub level: usize,
    pub next_ref: usize,
    pub pending: &'a mut Vec<PendingRef>,
}

const CONDITION_FORMS: &str =
    "`all`, `any`, `at_least` with `of`, `not`, `rule`, `days_since`, or `key` with `op`, `present`, `sustained_days`, `count`, `against` or `trend`";

/// Decodes one condition, reporting every problem found.
pub(crate) fn decode_condition(d: &mut Decoder, at: At<'_, '_>, scope: &mut Scope_<'_>) -> Option<Condition> {
    let allowed = [
        "all",
        "any",
        "at_least",
        "of",
        "not",
        "rule",
        "function",
        "key",
        "op",
        "value",
        "param",
        "present",
        "sustained_days",
        "trend",
        "window_days",
        "within_days",
        "fallback_to_council",
        "says",
        "count",
        "against",
        "by_at_least",
        "by_at_least_percent",
        "days_since",
        "at_most",
        "before",
    ];
    let obj = d.object(at, &allowed)?;
    let forms: Vec<&str> = ["all", "any", "at_least", "not", "rule", "key", "days_since"]
        .into_iter()
        .filter(|k| obj.has(k))
        // In a `rule` condition, `at_least` names a level of the referenced rule's scale; in
        // `days_since`, a number of days.
        .filter(|k| !(*k == "at_least" && (obj.has("rule") || obj.has("days_since"))))
        .collect();
    let form = match forms.as_slice() {
        [one] => *one,
        [] => {
            d.error(at, format!("a condition needs one of {CONDITION_FORMS}"));
            return None;
        }
        many => {
            let list = crate::diagnostic::ticked(many, " and ");
            d.error(
                at,
                format!("a condition has exactly one form; this one has {list}"),
            );
            return None;
        }
    };
    let only = |d: &mut Decoder, permitted: &[&str]| {
        for m in obj.members {
            if allowed.contains(&m.key.as_str()) && !permitted.contains(&m.key.as_str()) {
                let mut path = obj.path.clone();
                crate::json::push_key(&mut path, &m.key);
                d.report(
                    m.key_pos,
                    &path,
                    format!("`{}` does not belong in a `{form}` condition", m.key),
                );
            }
        }
    };
    match form {
        "all" | "any" => {
            only(d, &[form, "says"]);
            let parts = required(d, &obj, form, |d, at| decode_list(d, at, scope))?;
            Some(if form == "all" {
                Condition::All(parts)
            } else {
                Condition::Any(parts)
            })
        }
        "at_least" => {
            only(d, &["at_least", "of", "says"]);
            let k = required(d, &obj, "at_least", |d, at| d.count(at, 1, 10_000));
            let parts = required(d, &obj, "of", |d, at| decode_list(d, at, scope))?;
            let k = k?;
            if k as usize > parts.len() {
                let (json, path) = obj.get("at_least")?;
                d.error(
                    At { json, path: &path },
                    format!("`at_least` is {k} but `of` has only {} conditions", parts.len()),
                );
                return None;
            }
            Some(Condition::AtLeast(k, parts))
        }
        "not" => {
            only(d, &["not", "says"]);
            let inner = required(d, &obj, "not", |d, at| decode_condition(d, at, scope))?;
            Some(Condition::Not(Box::new(inner)))
        }
        "rule" => {
            only(d, &["rule", "function", "at_least", "says"]);
            decode_rule_ref(d, &obj, scope)
        }
        "days_since" => {
            only(d, &["days_since", "at_most", "at_least", "before", "says"]);
            decode_days_since(d, &obj, scope)
        }
        _ => decode_leaf(d, &obj, scope, only),
    }
}

fn decode_list(d: &mut Decoder, at: At<'_, '_>, scope: &mut Scope_<'_>) -> Option<Vec<Condition>> {
    let items = d.array(at)?;
    if items.is_empty() {
        d.error(at, "expected at least one condition".into());
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (json, path) in items {
        match decode_condition(d, At { json, path: &path }, scope) {
            Some(c) => out.push(c),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn decode_rule_ref(
    d: &mut Decoder,
    obj: &crate::diagnostic::Object<'_>,
    scope: &mut Scope_<'_>,
) -> Option<Condition> {
    let (json, path) = obj.get("rule")?;
    let target = d.id(At { json, path: &path })?;
    let function = optional(d, obj, "function", |d, at| {
        decode_function_name(d, at, scope.functions)
    });
    let at_least = optional(d, obj, "at_least", |d, at| d.text(at));
    let slot = (scope.level, scope.next_ref);
    scope.next_ref += 1;
    scope.pending.push(PendingRef {
        owner: scope.owner,
        target,
        function: function.clone(),
        at_least,
        pos: json.pos,
        path,
        slot,
    });
    // The target index and level rank are filled in once every rule is known.
    Some(Condition::Rule(RuleRef {
        rule: usize::MAX,
        function,
        at_least: None,
    }))
}

fn decode_function_name(
    d: &mut Decoder,
    at: At<'_, '_>,
    functions: &[crate::functions::Function],
) -> Option<String> {
    let name = d.id(at)?;
    if functions.iter().any(|f| f.id == name) {
        return Some(name);
    }
    let ids: Vec<&str> = functions.iter().map(|f| f.id.as_str()).collect();
    let hint = crate::diagnostic::did_you_mean(&name, &ids);
    d.error(
        at,
        format!("unknown function `{name}`{hint}; functions are declared in `functions.json`"),
    );
    None
}

/// Looks a key up by name, reporting an unknown one with a hint.
fn decode_key<'k>(
    d: &mut Decoder,
    at: At<'_, '_>,
    keys: &'k [Key],
    names: &std::collections::BTreeMap<&str, usize>,
) -> Option<(usize, &'k Key)> {
    let name = d.string(at)?;
    let Some(&index) = names.get(name.as_str()) else {
        let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        let hint = crate::diagnostic::did_you_mean(&name, &names);
        d.error(
            at,
            format!("unknown evidence key `{name}`{hint}; keys are declared in `vocabulary.json`"),
        );
        return None;
    };
    Some((index, keys.get(index)?))
}

/// Checks where a key's observations come from: a council-wide key takes no function; a
/// function-scoped one in a council-wide rule needs one.
fn check_key_scope(
    d: &mut Decoder,
    at: At<'_, '_>,
    key: &Key,
    scope: &Scope_<'_>,
    function: Option<&String>,
    fallback_to_council: bool,
) {
    if key.scope == Scope::Council && (function.is_some() || fallback_to_council) {
        d.error(
            at,
            format!(
                "key `{}` is council-wide, so `function` and `fallback_to_council` do not apply",
                key.key
            ),
        );
    }
    if key.scope == Scope::Function && !scope.per_function && function.is_none() {
        d.error(
            at,
            format!(
                "key `{}` is recorded per function; in a council-wide rule, name the function with `function`",
                key.key
            ),
        );
    }
}

/// An operator, checked against the key's type (booleans and text have no order).
fn decode_op(d: &mut Decoder, obj: &crate::diagnostic::Object<'_>, key: &Key) -> Option<Op> {
    let op = required(d, obj, "op", |d, at| {
        let s = d.string(at)?;
        let op = Op::parse(&s);
        if op.is_none() {
            d.error(
                at,
                format!("unknown operator `{s}`; expected one of `<`, `<=`, `>`, `>=`, `==`, `!=`"),
            );
        }
        op
    })?;
    if !key.value_type.is_ordered() && !matches!(op, Op::Eq | Op::Ne) {
        let (json, path) = obj.get("op")?;
        d.error(
            At { json, path: &path },
            format!(
                "key `{}` is {}, which has no order; use `==` or `!=`",
                key.key,
                key.value_type.describe()
            ),
        );
        return None;
    }
    Some(op)
}

/// A whole number of days or observations: a literal from 1, or `{"param": NAME}` naming a
/// number parameter in the unit `days` (or `count`) whose default is such a number.
pub(crate) fn decode_amount(
    d: &mut Decoder,
    at: At<'_, '_>,
    kind: AmountKind,
    parameters: &[crate::pack::Parameter],
) -> Option<Amount> {
    if !matches!(at.json.kind, crate::json::Kind::Object(_)) {
        return d.count(at, 1, MAX_AMOUNT).map(Amount::Literal);
    }
    let obj = d.object(at, &["param"])?;
    let (json, path) = obj.require(d, "param")?;
    let at = At { json, path: &path };
    let name = d.string(at)?;
    match amount_parameter(parameters, &name, kind) {
        Ok(index) => Some(Amount::Parameter(index)),
        Err(message) => {
            d.error(at, message);
            None
        }
    }
}

/// The index of the parameter named `name`, or what to say: it is unknown, with a "did you mean".
fn parameter_index(parameters: &[crate::pack::Parameter], name: &str) -> Result<usize, String> {
    parameters.iter().position(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        let hint = crate::diagnostic::did_you_mean(name, &names);
        format!("unknown parameter `{name}`{hint}; parameters are declared in `parameters.json`")
    })
}

/// The index of a parameter that may decide an amount of `kind`: a number in its unit whose
/// default is a whole number from 1.
pub(crate) fn amount_parameter(
    parameters: &[crate::pack::Parameter],
    name: &str,
    kind: AmountKind,
) -> Result<usize, String> {
    let index = parameter_index(parameters, name)?;
    let param = parameters
        .get(index)
        .ok_or_else(|| format!("unknown parameter `{name}`"))?;
    let unit = kind.unit();
    let fits = matches!(&param.value_type, ValueType::Number { unit: u, .. } if u == unit);
    if !fits {
        return Err(format!(
            "parameter `{name}` is {}, but this is a number of {unit}: declare it with `\"type\": \"number\", \"unit\": \"{unit}\"`",
            param.value_type.describe()
        ));
    }
    if let Err(problem) = amount_value(&param.default) {
        return Err(format!(
            "parameter `{name}` decides a number of {unit}, but its default {problem}"
        ));
    }
    Ok(index)
}

/// A parameter's value as an amount: a whole number from 1 to [`MAX_AMOUNT`].
pub(crate) fn amount_value(value: &Value) -> Result<u32, String> {
    whole_amount(value).ok_or_else(|| format!("`{value}` is not a whole number from 1 to {MAX_AMOUNT}"))
}

/// [`amount_value`] without the message, for a caller that falls back when a value is not an
/// amount (a parameter resolved at every point of a sweep, most of them shares).
pub(crate) fn whole_amount(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) if n.fract() == 0.0 && *n >= 1.0 && *n <= f64::from(MAX_AMOUNT) => {
            // The range check above makes this conversion exact.
            Some(*n as u32)
        }
        _ => None,
    }
}

fn decode_leaf(
    d: &mut Decoder,
    obj: &crate::diagnostic::Object<'_>,
    scope: &mut Scope_<'_>,
    only: impl Fn(&mut Decoder, &[&str]),
) -> Option<Condition> {
    let (key_json, key_path) = obj.get("key")?;
    let key_at = At {
        json: key_json,
        path: &key_path,
    };
    let (key_index, key) = decode_key(d, key_at, scope.keys, scope.key_names)?;
    let key_name = key.key.clone();
    let common = ["key", "within_days", "function", "fallback_to_council", "says"];
    let tests: Vec<&str> = ["op", "present", "trend"]
        .into_iter()
        .filter(|t| obj.has(t))
        .collect();
    let says = optional(d, obj, "says", |d, at| d.text(at));
    let within_days = optional(d, obj, "within_days", |d, at| {
        decode_amount(d, at, AmountKind::Days, scope.parameters)
    });
    let function = optional(d, obj, "function", |d, at| {
        decode_function_name(d, at, scope.functions)
    });
    let fallback_to_council = optional(d, obj, "fallback_to_council", |d, at| d.boolean(at)).unwrap_or(false);
    let here = At {
        json: key_json,
        path: &key_path,
    };
    check_key_scope(d, here, key, scope, function.as_ref(), fallback_to_council);
    let test = match tests.as_slice() {
        ["op"] => {
            let variants: Vec<&str> = ["sustained_days", "count", "against"]
                .into_iter()
                .filter(|t| obj.has(t))
                .collect();
            let mut permitted = common.to_vec();
            permitted.extend(["op", "value", "param", "sustained_days", "count", "against"]);
            if obj.has("against") {
                permitted.retain(|f| !matches!(*f, "value" | "param"));
            }
            only(d, &permitted);
            if let [_, _, ..] = variants.as_slice() {
                let list = crate::diagnostic::ticked(&variants, " and ");
                d.error(
                    here,
                    format!("a comparison takes at most one of `sustained_days`, `count` and `against`; this one has {list}"),
                );
                return None;
            }
            let op = decode_op(d, obj, key);
            if let Some((json, path)) = obj.get("against") {
                let other = decode_against(d, At { json, path: &path }, key, scope);
                return Some(Condition::Leaf(Leaf {
                    key: key_index,
                    test: LeafTest::Against {
                        op: op?,
                        other: other?,
                    },
                    within_days,
                    function,
                    fallback_to_council,
                    says,
                }));
            }
            let threshold = decode_threshold(d, obj, key, scope);
            let sustained = optional(d, obj, "sustained_days", |d, at| {
                decode_amount(d, at, AmountKind::Days, scope.parameters)
            });
            let count = optional(d, obj, "count", |d, at| decode_count(d, at, scope.parameters));
            let (op, threshold) = (op?, threshold?);
            match (obj.has("sustained_days"), sustained, obj.has("count"), count) {
                (true, Some(days), _, _) => LeafTest::Sustained { op, threshold, days },
                (false, _, true, Some((at_least, days, consecutive))) => LeafTest::Count {
                    op,
                    threshold,
                    at_least,
                    days,
                    consecutive,
                },
                (false, _, false, _) => LeafTest::Compare { op, threshold },
                _ => return None,
            }
        }
        ["present"] => {
            let mut permitted = common.to_vec();
            permitted.push("present");
            only(d, &permitted);
            let (json, path) = obj.get("present")?;
            let at = At { json, path: &path };
            if d.boolean(at)? {
                LeafTest::Present
            } else {
                d.error(
                    at,
                    "`present` takes only `true`; to require absence, wrap it in `not`".into(),
                );
                return None;
            }
        }
        ["trend"] => {
            let mut permitted = common.to_vec();
            permitted.extend(["trend", "window_days", "by_at_least", "by_at_least_percent"]);
            only(d, &permitted);
            let kind = required(d, obj, "trend", |d, at| {
                let s = d.string(at)?;
                match s.as_str() {
                    "improving" => Some(TrendKind::Improving),
                    "not_worsening" => Some(TrendKind::NotWorsening),
                    _ => {
                        d.error(
                            at,
                            format!("unknown trend `{s}`; expected `improving` or `not_worsening`"),
                        );
                        None
                    }
                }
            });
            let days = required(d, obj, "window_days", |d, at| {
                decode_amount(d, at, AmountKind::Days, scope.parameters)
            });
            if !matches!(key.value_type, ValueType::Number { .. } | ValueType::Grade { .. }) {
                d.error(
                    here,
                    format!(
                        "a trend needs a number or grade key; `{key_name}` is {}",
                        key.value_type.describe()
                    ),
                );
                return None;
            }
            let by = decode_change(d, obj, key, kind, scope)?;
            LeafTest::Trend {
                kind: kind?,
                days: days?,
                by,
            }
        }
        [] => {
            d.error(
                here,
                "a `key` condition needs one test: `op` (with `value` or `param`, and optionally `sustained_days` or `count`; or with `against`), `present` or `trend`".into(),
            );
            return None;
        }
        many => {
            let list = crate::diagnostic::ticked(many, " and ");
            d.error(
                here,
                format!("a `key` condition has exactly one test; this one has {list}"),
            );
            return None;
        }
    };
    Some(Condition::Leaf(Leaf {
        key: key_index,
        test,
        within_days,
        function,
        fallback_to_council,
        says,
    }))
}

/// `"count": {"at_least": N, "within_days": D, "consecutive": bool}`.
fn decode_count(
    d: &mut Decoder,
    at: At<'_, '_>,
    parameters: &[crate::pack::Parameter],
) -> Option<(Amount, Amount, bool)> {
    let obj = d.object(at, &["at_least", "within_days", "consecutive"])?;
    let at_least = required(d, &obj, "at_least", |d, at| {
        decode_amount(d, at, AmountKind::Count, parameters)
    });
    let days = required(d, &obj, "within_days", |d, at| {
        decode_amount(d, at, AmountKind::Days, parameters)
    });
    let consecutive = optional(d, &obj, "consecutive", |d, at| d.boolean(at)).unwrap_or(false);
    Some((at_least?, days?, consecutive))
}

/// `by_at_least` (in the key's unit) or `by_at_least_percent` on an `improving` trend.
/// `Some(None)`: no size; `None`: a problem was reported.
fn decode_change(
    d: &mut Decoder,
    obj: &crate::diagnostic::Object<'_>,
    key: &Key,
    kind: Option<TrendKind>,
    scope: &Scope_<'_>,
) -> Option<Option<ChangeSize>> {
    let (field, relative) = match (obj.get("by_at_least"), obj.get("by_at_least_percent")) {
        (None, None) => return Some(None),
        (Some(_), Some((json, path))) => {
            d.error(
                At { json, path: &path },
                "give either `by_at_least` or `by_at_least_percent`, not both".into(),
            );
            return None;
        }
        (Some(_), None) => ("by_at_least", false),
        (None, Some(_)) => ("by_at_least_percent", true),
    };
    let (json, path) = obj.get(field)?;
    let at = At { json, path: &path };
    if kind == Some(TrendKind::NotWorsening) {
        d.error(
            at,
            format!("`{field}` sizes an improvement; use it with `\"trend\": \"improving\"`"),
        );
        return None;
    }
    let unit = match (&key.value_type, relative) {
        (_, true) if !matches!(key.value_type, ValueType::Number { .. }) => {
            d.error(
                at,
                format!(
                    "a change in percent needs a number key; `{}` is {} (use `by_at_least`, in levels)",
                    key.key,
                    key.value_type.describe()
                ),
            );
            return None;
        }
        (_, true) => "%".to_string(),
        (ValueType::Number { unit, .. }, false) => unit.clone(),
        _ => "levels".to_string(),
    };
    let size = match &json.kind {
        crate::json::Kind::Object(_) => {
            let inner = d.object(at, &["param"])?;
            let (json, path) = inner.require(d, "param")?;
            let at = At { json, path: &path };
            let name = d.string(at)?;
            let index = match parameter_index(scope.parameters, &name) {
                Ok(index) => index,
                Err(message) => {
                    d.error(at, message);
                    return None;
                }
            };
            let param = scope.parameters.get(index)?;
            let ok = match &param.value_type {
                ValueType::Number { unit: u, .. } => *u == unit,
                _ => false,
            };
            if !ok {
                d.error(
                    at,
                    format!(
                        "parameter `{name}` is {}, but `{field}` is a number in {unit}",
                        param.value_type.describe()
                    ),
                );
                return None;
            }
            if !matches!(param.default, Value::Number(n) if n > 0.0) {
                d.error(
                    at,
                    format!("parameter `{name}` sizes an improvement, so its default must be above 0"),
                );
                return None;
            }
            Threshold::Parameter(index)
        }
        _ => {
            let n = d.number(at)?;
            if n <= 0.0 {
                d.error(
                    at,
                    format!("`{field}` must be above 0 (an improvement of {n} is no improvement); for no worse, use `\"trend\": \"not_worsening\"`"),
                );
                return None;
            }
            Threshold::Literal(Value::Number(n))
        }
    };
    Some(Some(ChangeSize { size, relative }))
}

/// `"against": {"key": K2, "function"?: F, "same_date"?: bool}`: a key of the same kind (numbers
/// in the same unit, grades on the same scale).
fn decode_against(d: &mut Decoder, at: At<'_, '_>, key: &Key, scope: &Scope_<'_>) -> Option<Against> {
    let obj = d.object(at, &["key", "function", "same_date"])?;
    let (json, path) = obj.require(d, "key")?;
    let other_at = At { json, path: &path };
    let (index, other) = decode_key(d, other_at, scope.keys, scope.key_names)?;
    let function = optional(d, &obj, "function", |d, at| {
        decode_function_name(d, at, scope.functions)
    });
    let same_date = optional(d, &obj, "same_date", |d, at| d.boolean(at)).unwrap_or(false);
    check_key_scope(d, other_at, other, scope, function.as_ref(), false);
    let comparable = match (&key.value_type, &other.value_type) {
        (ValueType::Number { unit: a, .. }, ValueType::Number { unit: b, .. }) => a == b,
        (a, b) => a == b,
    };
    if !comparable {
        d.error(
            other_at,
            format!(
                "key `{}` is {} but key `{}` is {}; a key is compared only with a key of the same unit or scale",
                key.key,
                key.value_type.describe(),
                other.key,
                other.value_type.describe()
            ),
        );
        return None;
    }
    Some(Against {
        key: index,
        function,
        same_date,
    })
}

/// `{"days_since": {"key": K, "op": OP, "value"|"param": V}, "at_most"|"at_least": N,
/// "before"?: {"key": K2, ...}}`.
fn decode_days_since(
    d: &mut Decoder,
    obj: &crate::diagnostic::Object<'_>,
    scope: &mut Scope_<'_>,
) -> Option<Condition> {
    let says = optional(d, obj, "says", |d, at| d.text(at));
    let event = required(d, obj, "days_since", |d, at| decode_event(d, at, scope));
    let until = optional(d, obj, "before", |d, at| decode_event(d, at, scope));
    let bound = match (obj.get("at_most"), obj.get("at_least")) {
        (Some((json, path)), None) => Some((SinceBound::AtMost, json, path)),
        (None, Some((json, path))) => Some((SinceBound::AtLeast, json, path)),
        (Some(_), Some((json, path))) => {
            d.error(
                At { json, path: &path },
                "give either `at_most` or `at_least` days, not both".into(),
            );
            None
        }
        (None, None) => {
            d.report(
                obj.pos,
                &obj.path,
                "`days_since` needs `at_most` or `at_least`: a number of days".into(),
            );
            None
        }
    };
    let days = bound
        .as_ref()
        .and_then(|(_, json, path)| decode_amount(d, At { json, path }, AmountKind::Days, scope.parameters));
    let (bound, days) = (bound?.0, days?);
    let (event, until) = (event?, if obj.has("before") { Some(until?) } else { None });
    Some(Condition::Leaf(Leaf {
        key: event.key,
        test: LeafTest::DaysSince {
            op: event.op,
            threshold: event.threshold,
            bound,
            days,
            until,
        },
        within_days: None,
        function: event.function,
        fallback_to_council: false,
        says,
    }))
}

/// `{"key": K, "op": OP, "value"|"param": V, "function"?: F}`: an observation that counts as the
/// event.
fn decode_event(d: &mut Decoder, at: At<'_, '_>, scope: &Scope_<'_>) -> Option<Event> {
    let obj = d.object(at, &["key", "op", "value", "param", "function"])?;
    let (json, path) = obj.require(d, "key")?;
    let key_at = At { json, path: &path };
    let (index, key) = decode_key(d, key_at, scope.keys, scope.key_names)?;
    let function = optional(d, &obj, "function", |d, at| {
        decode_function_name(d, at, scope.functions)
    });
    check_key_scope(d, key_at, key, scope, function.as_ref(), false);
    let op = decode_op(d, &obj, key);
    let threshold = decode_threshold(d, &obj, key, scope);
    Some(Event {
        key: index,
        op: op?,
        threshold: threshold?,
        function,
    })
}

fn decode_threshold(
    d: &mut Decoder,
    obj: &crate::diagnostic::Object<'_>,
    key: &Key,
    scope: &Scope_<'_>,
) -> Option<Threshold> {
    match (obj.get("value"), obj.get("param")) {
        (Some((json, path)), None) => {
            decode_value(d, At { json, path: &path }, &key.value_type, scope.scales).map(Threshold::Literal)
        }
        (None, Some((json, path))) => {
            let at = At { json, path: &path };
            let name = d.string(at)?;
            let index = match parameter_index(scope.parameters, &name) {
                Ok(index) => index,
                Err(message) => {
                    d.error(at, message);
                    return None;
                }
            };
            let param = scope.parameters.get(index)?;
            if !same_type(&param.value_type, &key.value_type) {
                d.error(
                    at,
                    format!(
                        "parameter `{name}` is {} but key `{}` is {}",
                        param.value_type.describe(),
                        key.key,
                        key.value_type.describe()
                    ),
                );
                return None;
            }
            // The parameter's own range comes from its declaration; compared with this key it
            // must also be a value the key can take, or the comparison is decided in advance.
            if let (Value::Number(n), ValueType::Number { unit, range, .. }) =
                (&param.default, &key.value_type)
            {
                if let Some(problem) = crate::vocabulary::out_of_range(*n, unit, range) {
                    d.error(
                        at,
                        format!(
                            "parameter `{name}` is compared with key `{}`, but its default {problem}",
                            key.key
                        ),
                    );
                    return None;
                }
            }
            Some(Threshold::Parameter(index))
        }
        (Some(_), Some((json, path))) => {
            d.error(
                At { json, path: &path },
                "give either `value` or `param`, not both".into(),
            );
            None
        }
        (None, None) => {
            d.report(obj.pos, &obj.path, "a comparison needs `value` or `param`".into());
            None
        }
    }
}

/// Types agree when they are the same kind, with the same unit and direction or scale. Ranges
/// may differ: a parameter's values are checked against each key it is compared with instead.
pub(crate) fn same_type(a: &ValueType, b: &ValueType) -> bool {
    match (a, b) {
        (
            ValueType::Number { unit, direction, .. },
            ValueType::Number {
                unit: unit_b,
                direction: direction_b,
                ..
            },
        ) => unit == unit_b && direction == direction_b,
        _ => a == b,
    }
}

/// Decodes a rule's body: `condition` for a test, `scale` and `levels` for a graded rule.
pub(crate) fn decode_body(
    d: &mut Decoder,
    obj: &crate::diagnostic::Object<'_>,
    scope: &mut Scope_<'_>,
) -> Option<Body> {
    let kind = required(d, obj, "kind", |d, at| {
        let s = d.string(at)?;
        match s.as_str() {
            "test" | "graded" => Some(s),
            _ => {
                d.error(
                    at,
                    format!("unknown rule kind `{s}`; expected `test` or `graded`"),
                );
                None
            }
        }
    })?;
    if kind == "test" {
        for extra in ["scale", "levels"] {
            if let Some((json, path)) = obj.get(extra) {
                d.error(
                    At { json, path: &path },
                    format!("`{extra}` belongs to graded rules; this rule is a test"),
                );
            }
        }
        scope.level = 0;
        let condition = required(d, obj, "condition", |d, at| decode_condition(d, at, scope))?;
        return Some(Body::Test(condition));
    }
    if let Some((json, path)) = obj.get("condition") {
        d.error(
            At { json, path: &path },
            "a graded rule has a condition per level, under `levels`".into(),
        );
    }
    let scale_index = required(d, obj, "scale", |d, at| {
        let name = d.string(at)?;
        let found = scope.scales.iter().position(|s| s.id == name);
        if found.is_none() {
            d.error(
                at,
                format!("unknown scale `{name}`; scales are declared in `vocabulary.json`"),
            );
        }
        found
    })?;
    let scale = scope.scales.get(scale_index)?;
    let (json, path) = obj.require(d, "levels")?;
    let levels_at = At { json, path: &path };
    let items = d.array(levels_at)?;
    let mut levels: Vec<Level> = Vec::new();
    let mut ok = true;
    let count = items.len();
    for (i, (json, path)) in items.into_iter().enumerate() {
        let at = At { json, path: &path };
        let Some(level_obj) = d.object(at, &["level", "condition"]) else {
            ok = false;
            continue;
        };
        let name = required(d, &level_obj, "level", |d, at| {
            let name = d.string(at)?;
            if scale.rank(&name).is_none() {
                d.error(at, format!("`{name}` is not a level of scale `{}`", scale.id));
                return None;
            }
            Some(name)
        });
        let is_floor = i + 1 == count;
        scope.level = i;
        scope.next_ref = 0;
        let condition = match (is_floor, level_obj.get("condition")) {
            (true, None) => None,
            (true, Some((json, path))) => {
                d.error(
                    At { json, path: &path },
                    "the last level is the floor, reached when no higher level is; it takes no condition"
                        .into(),
                );
                ok = false;
                None
            }
            (false, _) => {
                let c = required(d, &level_obj, "condition", |d, at| decode_condition(d, at, scope));
                if c.is_none() {
                    ok = false;
                }
                c
            }
        };
        match name {
            Some(name) => {
                let rank = scale.rank(&name).unwrap_or(0);
                if let Some(prev) = levels.last() {
                    if rank >= prev.rank {
                        d.error(
                            at,
                            format!(
                                "levels must run from best to worst; `{name}` is not below `{}`",
                                prev.name
                            ),
                        );
                        ok = false;
                    }
                }
                levels.push(Level {
                    rank,
                    name,
                    condition,
                });
            }
            None => ok = false,
        }
    }
    if count < 2 {
        d.error(
            levels_at,
            "a graded rule needs at least two levels: one with a condition and the floor".into(),
        );
        return None;
    }
    ok.then_some(Body::Graded {
        scale: scale_index,
        levels,
    })
}

impl Body {
    /// Every condition in the body, with its level slot.
    pub(crate) fn conditions(&self) -> Vec<(usize, &Condition)> {
        match self {
            Body::Test(c) => vec![(0, c)],
            Body::Graded { levels, .. } => levels
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.condition.as_ref().map(|c| (i, c)))
                .collect(),
        }
    }

    pub(crate) fn conditions_mut(&mut self) -> Vec<(usize, &mut Condition)> {
        match self {
            Body::Test(c) => vec![(0, c)],
            Body::Graded { levels, .. } => levels
                .iter_mut()
                .enumerate()
                .filter_map(|(i, l)| l.condition.as_mut().map(|c| (i, c)))
                .collect(),
        }
    }
}

/// Visits rule references mutably in pre-order, the order in which they were decoded.
pub(crate) fn refs_mut(c: &mut Condition, f: &mut impl FnMut(&mut RuleRef)) {
    match c {
        Condition::All(cs) | Condition::Any(cs) | Condition::AtLeast(_, cs) => {
            for c in cs {
                refs_mut(c, f);
            }
        }
        Condition::Not(c) => refs_mut(c, f),
        Condition::Leaf(_) => {}
        Condition::Rule(r) => f(r),
    }
}
