//! What it would take: the minimal sets of evidence changes that would make a target met.
//!
//! A target is a rule (for the council or a function), a function's return (its gates and its
//! prerequisites' return) or the end of the intervention. Each leaf that is not met contributes a
//! requirement (key, function, operator, threshold); requirements combine up the condition tree:
//! `all` takes every part (a cross product of the parts' sets), `any` one part, `at_least k` k
//! parts, a rule reference the referenced rule's sets. Requirements on the same key merge into the
//! stricter; sets that contain a smaller set are dropped. For the monotone fragment (no `not`, no
//! `trend`) this is exact: every set returned makes the target met and no proper subset does.
//! `not` is pushed inward (De Morgan, flipped comparisons) before the search, so a `not` is solved
//! like any other condition. `trend` is handled as "better than the window's baseline", a
//! documented heuristic; a trend with a size as "the value in force at the window's start moved
//! by the size". A key against another key is offered either side, set against the other's
//! fresh latest value. A set
//! holds one value per key, recorded on the as-of date, so a `count` is offered one more
//! observation only where one is enough, and `days_since` only its event recorded today; other
//! cases are blocks that say so. Every set is checked by applying it before it is returned.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::assess::{Engine, Options, Outcome, Truth};
use crate::directions::Directions;
use crate::evidence::{Evidence, Observation};
use crate::pack::Pack;
use crate::plan::Sketch;
use crate::rules::{Body, Condition, Leaf, LeafTest, Op, TrendKind};
use crate::vocabulary::{Direction, Scope, Value, ValueType};

/// Sets are capped at this many per condition, smallest first, so wide `at_least` conditions over
/// large packs stay bounded.
const MAX_SETS: usize = 64;

/// What to make met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// A way out of the intervention: the pack's best (`exit`), or a named one (`exit:ID`).
    Exit {
        /// The exit outcome's id; `None`: the best.
        #[serde(skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
}

impl Target {
    /// Parses `function:ID`, `rule:ID`, `rule:ID@FUNCTION`, `exit` or `exit:OUTCOME`.
    pub fn parse(s: &str) -> Result<Target, String> {
        if s == "exit" {
            return Ok(Target::Exit { outcome: None });
        }
        match s.split_once(':') {
            Some(("exit", id)) => Ok(Target::Exit {
                outcome: Some(id.to_string()),
            }),
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
                "`{s}` is not a target; use `function:ID`, `rule:ID`, `rule:ID@FUNCTION`, `exit` or `exit:OUTCOME`"
            )),
        }
    }

    /// Checks that the target names what the pack has: a misspelt id is a usage error with a
    /// suggestion, not a search that finds evidence "cannot make it met".
    pub fn check(&self, pack: &Pack) -> Result<(), String> {
        let function_known = |f: &str| -> Result<(), String> {
            let ids: Vec<&str> = pack.functions().iter().map(|x| x.id.as_str()).collect();
            if ids.contains(&f) {
                Ok(())
            } else {
                let hint = crate::diagnostic::did_you_mean(f, &ids);
                Err(format!("the pack has no function `{f}`{hint}"))
            }
        };
        match self {
            Target::Function { function } => function_known(function),
            Target::Rule { rule, function } => {
                let Some(r) = pack.rules().iter().find(|r| &r.id == rule) else {
                    let ids: Vec<&str> = pack.rules().iter().map(|r| r.id.as_str()).collect();
                    let hint = crate::diagnostic::did_you_mean(rule, &ids);
                    return Err(format!("the pack has no rule `{rule}`{hint}"));
                };
                match (r.per_function, function) {
                    (true, Some(f)) => function_known(f),
                    (true, None) => Err(format!(
                        "rule `{rule}` is evaluated per function; name one: `rule:{rule}@FUNCTION`"
                    )),
                    (false, Some(f)) => Err(format!("rule `{rule}` is council-wide; drop `@{f}`")),
                    (false, None) => Ok(()),
                }
            }
            Target::Exit { outcome: None } => Ok(()),
            Target::Exit { outcome: Some(o) } => {
                let ids: Vec<&str> = pack.exit_outcomes().iter().map(|x| x.id.as_str()).collect();
                if ids.contains(&o.as_str()) {
                    Ok(())
                } else {
                    let hint = crate::diagnostic::did_you_mean(o, &ids);
                    Err(format!(
                        "the pack has no exit outcome `{o}`{hint}; it has {}",
                        crate::diagnostic::ticked(&ids, ", ")
                    ))
                }
            }
        }
    }
}

/// One evidence change a set needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The day the latest value describes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_date: Option<NaiveDate>,
    /// Whether the latest value is too old to count (past the key's maximum age or the
    /// condition's `within_days`), so a reader does not take it for the value in force.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    /// How far the current value is from what is needed (in the key's unit; levels for grades;
    /// 1 for booleans and missing evidence).
    pub distance: f64,
    /// The earliest day it can hold: the as-of date, or later for `sustained_days`.
    pub earliest: NaiveDate,
    /// For a trend with no data: an earlier observation the value is measured against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// For a key that counts only some roles' judgements: the roles whose judgement would count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged_by_roles: Vec<String>,
}

/// An observation a trend needs before the value it judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Baseline {
    /// The day it describes: the start of the trend's window.
    pub date: NaiveDate,
    /// Its value.
    pub value: Value,
}

/// A minimal set of changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeSet {
    /// The changes.
    pub changes: Vec<Requirement>,
    /// The sum of their distances.
    pub distance: f64,
    /// The earliest day all can hold.
    pub earliest: NaiveDate,
}

/// What it would take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Needs {
    /// The target.
    pub target: Target,
    /// Whether it is met already.
    pub met: bool,
    /// Minimal change sets, fewest changes first, then least distance.
    pub sets: Vec<ChangeSet>,
    /// What stands in the way: what evidence alone cannot change (a function held until exit, a
    /// `not present` that needs evidence removed, a rule unknown to the pack), and how many
    /// options were found but refused by their check. Empty `sets` with no block is not a proof
    /// that nothing can be done: the search tries, for each key, the value nearest its threshold,
    /// then the far end of its bound, then the current value recorded again.
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
    /// At least the threshold and at most the ceiling (`Req::ceiling`), numbers or levels only:
    /// a range on one key (`x >= 5` and `x <= 8`), which no one-sided bound says without asking
    /// more than the two do.
    Between {
        low_strict: bool,
        high_strict: bool,
    },
}

/// A requirement on one key before it is rendered: a bound, a threshold, and for sustained tests
/// the window it must hold over.
#[derive(Debug, Clone, PartialEq)]
struct Req {
    bound: Bound,
    threshold: Option<Value>,
    sustained: u32,
    /// The condition's `within_days`, only to say whether the current value is too old.
    within: Option<u32>,
    /// For a trend with no data: the observation (day, value) to record first.
    baseline: Option<(NaiveDate, Value)>,
    /// The weaker bound the window is held over, when it is not `bound` itself: two bounds of
    /// one kind merged (`x > 9` now and `x > 0` held for 30 days) ask for the stricter value
    /// and for the weaker bound's run, which evidence already good may have begun. Only with a
    /// window (`sustained > 0`).
    held_over: Option<Over>,
    /// The upper end of a [`Bound::Between`] (`threshold` is its lower end); none otherwise.
    ceiling: Option<Value>,
    /// The values the key allows (numbers): where narrowing may leave a part of a range that
    /// holds none (`> 8 and < 9` on a whole-number key, `< 0` on a share), the part that does.
    domain: crate::vocabulary::Range,
}

impl Req {
    /// A bound on one value now: no window, no baseline, checked against the key's values by
    /// `Solver::on_scale`.
    fn compare(bound: Bound, threshold: Option<Value>, within: Option<u32>) -> Req {
        Req {
            bound,
            threshold,
            sustained: 0,
            within,
            baseline: None,
            held_over: None,
            ceiling: None,
            domain: crate::vocabulary::Range::default(),
        }
    }
}

/// The bound a merged requirement's window is held over, when it is not the requirement's own:
/// a bound, its threshold, and for a range its ceiling.
type Over = (Bound, Value, Option<Value>);

/// The key and function a requirement is on.
type Slot = (usize, Option<String>);

/// One way of meeting a target: requirements on slots, each named by its number in the search's
/// [`Table`], sorted by slot number (one requirement per slot).
///
/// The search copies, merges and compares sets far more often than it makes requirements (most
/// of `needs --target exit` is cross products and the checks that one set asks no more than
/// another), so a set is a short list of pairs of numbers rather than a map keyed by key and
/// function name: copying one is a copy, and comparing slots compares numbers.
#[derive(Debug, Clone, Default, PartialEq)]
struct Fix {
    items: Vec<(u32, u32)>,
    /// One bit per slot (its number's low eight bits): a set whose slots are all in another has
    /// bits that are all in the other's, so most sets are passed over by one test. Slots are
    /// numbered densely from 0, so for searches of up to 256 slots (Rotherham's exit has about
    /// 150) the bits are the slots exactly.
    bits: [u64; 4],
}

impl Fix {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn from_items(items: Vec<(u32, u32)>) -> Fix {
        let mut bits = [0u64; 4];
        for &(slot, _) in &items {
            if let Some(word) = bits.get_mut((slot as usize >> 6) & 3) {
                *word |= 1 << (slot & 63);
            }
        }
        Fix { items, bits }
    }

    /// Whether every slot bit of `self` is among `other`'s (so its slots may all be there).
    fn bits_within(&self, other: &Fix) -> bool {
        self.bits.iter().zip(&other.bits).all(|(a, b)| a & !b == 0)
    }
}

/// The slots and requirements a search has met, each held once and named by its place.
#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    slot_numbers: BTreeMap<Slot, u32>,
    reqs: Vec<Req>,
}

impl Table {
    /// The set of one requirement.
    fn single(&mut self, slot: Slot, req: Req) -> Fix {
        let slot = match self.slot_numbers.get(&slot) {
            Some(&n) => n,
            None => {
                let n = self.slots.len() as u32;
                self.slots.push(slot.clone());
                self.slot_numbers.insert(slot, n);
                n
            }
        };
        let req = self.add(req);
        Fix::from_items(vec![(slot, req)])
    }

    fn add(&mut self, req: Req) -> u32 {
        self.reqs.push(req);
        (self.reqs.len() - 1) as u32
    }

    fn req(&self, n: u32) -> Option<&Req> {
        self.reqs.get(n as usize)
    }

    /// Whether requirement `a` guarantees `b` (numbers the table does not hold imply nothing).
    fn implies(&self, a: u32, b: u32) -> bool {
        match (self.req(a), self.req(b)) {
            (Some(a), Some(b)) => implies(a, b),
            _ => false,
        }
    }

    /// The requirement that meets both `a` and `b`, if there is one: one of them when it does
    /// (no new requirement), else a new one.
    fn merge(&mut self, a: u32, b: u32) -> Option<u32> {
        let (ra, rb) = (self.req(a)?, self.req(b)?);
        let pick = merge_pick(ra, rb)?;
        // The merged requirement carries `a`'s baseline, else `b`'s (see `merge_pick`).
        let merged = match pick {
            Pick::A if ra.baseline.is_some() || rb.baseline.is_none() => return Some(a),
            Pick::B if ra.baseline.is_none() => return Some(b),
            Pick::A => ra,
            Pick::B => rb,
            Pick::ALonger | Pick::BLonger => {
                let (stricter, weaker) = if pick == Pick::ALonger { (ra, rb) } else { (rb, ra) };
                let req = Req {
                    baseline: ra.baseline.clone().or_else(|| rb.baseline.clone()),
                    ..lengthened(stricter, weaker)
                };
                return Some(self.add(req));
            }
            Pick::Narrowed => {
                let req = Req {
                    baseline: ra.baseline.clone().or_else(|| rb.baseline.clone()),
                    ..narrowed(ra, rb)?
                };
                return Some(self.add(req));
            }
        };
        let req = Req {
            sustained: ra.sustained.max(rb.sustained),
            baseline: ra.baseline.clone().or_else(|| rb.baseline.clone()),
            ..merged.clone()
        };
        Some(self.add(req))
    }

    /// A set's (slot, requirement) numbers in slot order (key, then function): the order they
    /// are shown in.
    fn ordered(&self, fix: &Fix) -> Vec<(u32, u32)> {
        let mut out = fix.items.clone();
        out.sort_by(|a, b| self.slots.get(a.0 as usize).cmp(&self.slots.get(b.0 as usize)));
        out
    }

    /// A set's requirements with their slots, in slot order (key, then function): the order
    /// they are shown in.
    #[cfg(test)]
    fn resolve(&self, fix: &Fix) -> Vec<(&Slot, &Req)> {
        let mut out: Vec<(&Slot, &Req)> = fix
            .items
            .iter()
            .filter_map(|&(slot, req)| Some((self.slots.get(slot as usize)?, self.req(req)?)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }
}

/// A (slot, requirement) of a set, rendered near (`false`) or at the far end of its bound.
type Rendered = ((u32, u32), Choice);

/// Which value a requirement is written with. The value next to the threshold is the least
/// change, but it can break a condition that holds now on the same key (outside the monotone
/// fragment); the far end of the bound is tried next, then the current value recorded again
/// where it meets the bound and is asked for only because it is too old or its window is not
/// yet held (`x == 0` met, `x != 8` within 30 days stale: 8.1 breaks the first, 0 again meets
/// both). Tried in this order, so where the near value works the answer is as minimal as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Choice {
    Near,
    Far,
    /// The other end of a range (for other requirements, the near value again).
    Other,
    Current,
    /// Each requirement merged first with the comparisons on its key that hold now, so its
    /// value keeps them (`x > 5` needed, `x != 6` and `x < 10` met: `> 6 and < 10`, 7 on a
    /// whole-number key, where 6 breaks `x != 6`).
    Kept,
}

/// A requirement of a set as written out, or why no set holding it can be written.
#[derive(Debug, Clone)]
enum Written {
    Requirement(Requirement),
    /// A window that would end past the calendar's last day: the block to report.
    Beyond(String),
}

struct Solver<'a> {
    pack: &'a Pack,
    engine: Engine<'a>,
    outcomes: Vec<Vec<Outcome>>,
    as_of: NaiveDate,
    blocks: Vec<String>,
    heuristic: bool,
    /// Sets per (rule, subject, level needed, negated).
    memo: BTreeMap<MemoKey, Vec<Fix>>,
    table: Table,
    /// Each (slot, requirement) written out, near or far (`render`).
    written: BTreeMap<Rendered, Option<Written>>,
    /// The functions a recommendation to return is recorded for, as of the date: ready, as
    /// the plan has them, whatever their gates.
    recommended: std::collections::BTreeSet<String>,
    /// Comparisons the search passed as met now, by slot, in the order met: a value written
    /// for the slot may break them ([`Choice::Kept`]). Only those the target needs whatever the
    /// option: met parts of the conjunctions from a target rule down (`noting`), not of a
    /// disjunction's branches or of rules referred to, which another branch may stand in for.
    holding: BTreeMap<Slot, Vec<Req>>,
    /// The rules the target is made of (its gates), whose conditions' met parts are noted.
    roots: std::collections::BTreeSet<MemoKey>,
    /// Whether the condition being solved lies on a chain of conjunctions from a target rule.
    noting: bool,
}

/// Works out what it would take to make `target` met.
///
/// Every set returned has been checked: applied as a scenario on the as-of date and evaluated on
/// its earliest day, it makes the target met. A set that fails the check is dropped, never
/// returned (outside the monotone fragment a suggested value can break a condition that was met).
///
/// ```
/// use chrono::NaiveDate;
/// use handback::{needs, EvidenceBuilder, ObservationDraft, Options, Target};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let target = Target::Rule { rule: "children-5".into(), function: None };
/// let answer = needs(&pack, &evidence, &Options::new(day), None, &target);
/// assert!(!answer.met);
/// // Every option offered has been applied and checked to meet the target.
/// assert!(!answer.sets.is_empty());
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn needs(
    pack: &Pack,
    evidence: &Evidence,
    options: &Options,
    directions: Option<&Directions>,
    target: &Target,
) -> Needs {
    needs_checked(pack, evidence, options, directions, target, true)
}

/// [`needs`], with each option checked over the overlay where it stands for the option
/// (`overlay`), or always in full (the tests' oracle).
pub(crate) fn needs_checked(
    pack: &Pack,
    evidence: &Evidence,
    options: &Options,
    directions: Option<&Directions>,
    target: &Target,
    overlay: bool,
) -> Needs {
    // With `known_at`, the search and every check start from the evidence as known then: the
    // options are hypothetical observations recorded by nobody, dated after `known_at`, so the
    // cut must be made once here rather than again on the evidence the options lead to.
    if let Some(known_at) = options.known_at {
        let (known, _) = evidence.known_at(known_at);
        let options = Options {
            known_at: None,
            ..options.clone()
        };
        return needs_checked(pack, &known, &options, directions, target, overlay);
    }
    let prepared = crate::derived::prepare(pack, evidence);
    let read = prepared.as_ref().map_or(evidence, |p| &p.evidence);
    let engine = Engine::new(pack, read, options).with_prepared(prepared.as_ref());
    let outcomes = engine.outcomes();
    let recommended = engine
        .recommendations()
        .into_iter()
        .filter(|r| r.recommended)
        .map(|r| r.function)
        .collect();
    let mut solver = Solver {
        pack,
        recommended,
        engine,
        outcomes,
        as_of: options.as_of,
        blocks: Vec::new(),
        heuristic: false,
        memo: BTreeMap::new(),
        table: Table::default(),
        written: BTreeMap::new(),
        holding: BTreeMap::new(),
        roots: std::collections::BTreeSet::new(),
        noting: false,
    };
    let fixes = match target {
        Target::Rule { rule, function } => solver.rule_target(rule, function.as_deref()),
        Target::Function { function } => solver.function_target(function, directions, &mut Vec::new()),
        Target::Exit { outcome } => solver.exit_target(directions, outcome.as_deref()),
    };
    // Met now by any route, including a recorded recommendation awaiting its decision, which
    // the condition search does not see: nothing is needed.
    let indexed = crate::program::Indexed::new(pack, evidence);
    let mut checker = Checker::new(pack, evidence, &indexed, options, directions, target);
    checker.overlay = overlay;
    let met = fixes.iter().any(Fix::is_empty) || checker.met_now();
    // Each set is written near its thresholds first, then at the far ends of its bounds, then
    // with current values recorded again ([`Choice`]), before it is given up.
    let mut sets: Vec<ChangeSet> = Vec::new();
    let mut dropped = 0usize;
    if !met {
        for fix in &fixes {
            // Each choice is written only when those before it fail their check (a window past
            // the calendar's end fails all alike, with the same block); the current value only
            // where it differs from the near one somewhere.
            let items = solver.table.ordered(fix);
            let mut near = None;
            let mut found = None;
            for choice in [
                Choice::Near,
                Choice::Far,
                Choice::Other,
                Choice::Current,
                Choice::Kept,
            ] {
                let Some(set) = solver.render(fix, choice) else {
                    continue;
                };
                if choice != Choice::Near && choice != Choice::Far && near.as_ref() == Some(&set) {
                    continue;
                }
                if checker.meets(&set, &items, choice) {
                    found = Some(set);
                    break;
                }
                if choice == Choice::Near {
                    near = Some(set);
                }
            }
            match found {
                Some(set) => sets.push(set),
                None => dropped += 1,
            }
        }
    }
    sets.sort_by(|a, b| {
        (a.changes.len(), a.distance, a.earliest)
            .partial_cmp(&(b.changes.len(), b.distance, b.earliest))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut blocks = solver.blocks;
    if dropped > 0 {
        // Say so rather than let "nothing found" read as "nothing can be done".
        blocks.push(format!(
            "{dropped} option{} found did not make it met when applied and checked (for example, other evidence goes stale before a sustained window ends), so {} not shown",
            if dropped == 1 { "" } else { "s" },
            if dropped == 1 { "it is" } else { "they are" }
        ));
    }
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

/// The check every set passes before it is returned: its changes applied on the as-of date, the
/// target evaluated on the set's earliest day.
///
/// Most sets are checked over the indexed evidence with the changes overlaid (one
/// [`crate::bulk::WhatIf`] for each earliest day), outcomes only, and the plan's steps and exit
/// sketched from them ([`Sketch`]); what the overlay does not stand for, and options that
/// filter the evidence, take the full path ([`set_meets`]: the changes applied to a copy of the
/// evidence, assessed and planned). Both give the same answer; a test holds them to it.
struct Checker<'i, 'a> {
    pack: &'a Pack,
    indexed: &'i crate::program::Indexed<'a>,
    evidence: &'a Evidence,
    options: &'a Options,
    directions: Option<&'a Directions>,
    target: &'a Target,
    /// The recommendation key, which the sketch reads as the evidence has it: a set that
    /// changes it takes the full path.
    recommendation: Option<&'a str>,
    sketch: Option<Sketch>,
    days: Vec<CheckDay<'i, 'a>>,
    out: crate::program::Outcomes,
    /// Each (slot, requirement) of a set rendered near or far, as the overlay places its
    /// changes (`None`: it does not stand for them).
    placings: BTreeMap<Rendered, Option<Vec<crate::program::Placing>>>,
    /// Whether checks may take the overlay (`false`: every check in full).
    overlay: bool,
}

/// What the checks on one earliest day share: the what-if over the evidence on that day, who
/// holds each function then, and whether a recommendation to return each is recorded then.
struct CheckDay<'i, 'a> {
    day: NaiveDate,
    whatif: crate::program::WhatIf<'i, 'a>,
    powers: Vec<crate::directions::Power>,
    recommended: Vec<bool>,
}

impl<'i, 'a> Checker<'i, 'a> {
    fn new(
        pack: &'a Pack,
        evidence: &'a Evidence,
        indexed: &'i crate::program::Indexed<'a>,
        options: &'a Options,
        directions: Option<&'a Directions>,
        target: &'a Target,
    ) -> Checker<'i, 'a> {
        Checker {
            pack,
            indexed,
            evidence,
            options,
            directions,
            target,
            recommendation: pack.recommendation().map(|r| r.key.as_str()),
            sketch: (!matches!(target, Target::Rule { .. })).then(|| Sketch::new(pack)),
            days: Vec::new(),
            out: crate::program::Outcomes::new(),
            placings: BTreeMap::new(),
            overlay: true,
        }
    }

    /// Whether the target is met on the as-of date with nothing changed.
    fn met_now(&mut self) -> bool {
        if let Some(met) = self.overlaid(self.options.as_of, &[]) {
            return met;
        }
        target_met(
            self.pack,
            self.evidence,
            self.options,
            self.directions,
            self.target,
        )
    }

    /// Whether `set`, rendered from `items` near or `far`, applied, meets the target.
    fn meets(&mut self, set: &ChangeSet, items: &[(u32, u32)], choice: Choice) -> bool {
        if let Some(met) = self.placed(set, items, choice) {
            return met;
        }
        let changes = set.as_changes(self.options.as_of);
        set_meets(
            self.pack,
            self.evidence,
            self.options,
            self.directions,
            self.target,
            changes,
            set.earliest,
        )
    }

    /// The check over the overlay, when it stands for the changes; `None` otherwise.
    fn overlaid(&mut self, day: NaiveDate, changes: &[crate::whatif::Change]) -> Option<bool> {
        if !self.overlay_stands() {
            return None;
        }
        let touches_recommendation = changes.iter().any(|c| {
            matches!(c, crate::whatif::Change::Set { key, .. } if Some(key.as_str()) == self.recommendation)
        });
        if touches_recommendation {
            return None;
        }
        let at = self.day_index(day);
        self.days
            .get_mut(at)?
            .whatif
            .overlaid_into(changes, "needs", &mut self.out)?;
        self.decide(at)
    }

    /// The check of a set rendered from `items` (in order, one requirement each), over the
    /// overlay: each item's changes are checked and decoded once (`placings`), for every set
    /// that holds it; `None` when the overlay does not stand for them.
    fn placed(&mut self, set: &ChangeSet, items: &[(u32, u32)], choice: Choice) -> Option<bool> {
        if !self.overlay_stands() || items.len() != set.changes.len() {
            return None;
        }
        let at = self.day_index(set.earliest);
        let mut changes = Vec::new();
        for (&item, r) in items.iter().zip(&set.changes) {
            if !self.placings.contains_key(&(item, choice)) {
                let placings = if Some(r.key.as_str()) == self.recommendation {
                    None
                } else {
                    changes.clear();
                    r.push_changes(self.options.as_of, &mut changes);
                    (changes.iter().enumerate())
                        .map(|(n, c)| crate::program::placing(self.pack, self.options.as_of, n, c, "needs"))
                        .collect::<Option<Vec<_>>>()
                };
                self.placings.insert((item, choice), placings);
            }
        }
        let mut placings = Vec::new();
        for &item in items {
            placings.extend(self.placings.get(&(item, choice))?.as_ref()?);
        }
        self.days
            .get_mut(at)?
            .whatif
            .placed_into(placings, &mut self.out)?;
        self.decide(at)
    }

    /// Whether checks may take the overlay at all: not when told to check in full, nor when
    /// the options filter the evidence (what is known at a date, bases left out), which the
    /// overlay does not do.
    fn overlay_stands(&self) -> bool {
        self.overlay && self.options.known_at.is_none() && self.options.exclude_basis.is_empty()
    }

    /// The place among `days` of the what-if on `day`, made if there is none yet.
    fn day_index(&mut self, day: NaiveDate) -> usize {
        if let Some(at) = self.days.iter().position(|d| d.day == day) {
            return at;
        }
        let options = Options {
            as_of: day,
            parameters: self.options.parameters.clone(),
            explain: false,
            known_at: None,
            exclude_basis: Vec::new(),
        };
        let recorded = self.indexed.recommendations(&options);
        let functions = self.pack.functions();
        self.days.push(CheckDay {
            day,
            whatif: crate::program::WhatIf::new(self.indexed, &options),
            powers: functions
                .iter()
                .map(|f| {
                    self.directions
                        .map_or(crate::directions::Power::Held, |d| d.holding(&f.id, day).power)
                })
                .collect(),
            recommended: functions
                .iter()
                .map(|f| recorded.iter().any(|r| r.function == f.id && r.recommended))
                .collect(),
        });
        self.days.len() - 1
    }

    /// Whether the outcomes in `out`, on the day of `days[at]`, meet the target.
    fn decide(&self, at: usize) -> Option<bool> {
        let checked = self.days.get(at)?;
        let out = &self.out;
        Some(match self.target {
            Target::Rule { rule, function } => rule_reached(self.pack, out, rule, function.as_deref()),
            Target::Function { function } => {
                let steps =
                    self.sketch
                        .as_ref()?
                        .steps(self.pack, out, &checked.powers, &checked.recommended);
                let i = self.pack.functions().iter().position(|f| &f.id == function);
                i.and_then(|i| steps.get(i)).is_some_and(|s| {
                    matches!(
                        s,
                        crate::plan::Step::Now
                            | crate::plan::Step::AwaitingDecision
                            | crate::plan::Step::Returned
                    )
                })
            }
            Target::Exit { outcome } => {
                let sketch = self.sketch.as_ref()?;
                let steps = sketch.steps(self.pack, out, &checked.powers, &checked.recommended);
                sketch.exit_reached(out, &steps, outcome.as_deref())
            }
        })
    }
}

/// Whether a rule reaches its target (met; a graded rule's best level) in bulk outcomes, as
/// [`target_met`] reads an assessment's results.
fn rule_reached(
    pack: &Pack,
    outcomes: &crate::program::Outcomes,
    rule: &str,
    function: Option<&str>,
) -> bool {
    let Some(index) = pack.rules().iter().position(|r| r.id == rule) else {
        return false;
    };
    let Some(model) = pack.rules().get(index) else {
        return false;
    };
    let subject = if model.per_function {
        match function.and_then(|f| pack.functions().iter().position(|x| x.id == f)) {
            Some(i) => i,
            None => return false,
        }
    } else {
        0
    };
    let wanted = match &model.body {
        Body::Graded { levels, .. } => {
            crate::assess::Verdict::from_code(&levels.first().map(|l| l.name.clone()).unwrap_or_default())
        }
        _ => crate::assess::Verdict::Met,
    };
    outcomes
        .get(index, subject)
        .is_some_and(|o| crate::assess::outcome_words(pack, index, o).1 == wanted)
}

/// The check every set passes before it is returned, in full: `changes` applied on the as-of
/// date to a copy of the evidence, the target evaluated on `earliest` by an assessment and a
/// plan.
fn set_meets(
    pack: &Pack,
    evidence: &Evidence,
    options: &Options,
    directions: Option<&Directions>,
    target: &Target,
    mut changes: Vec<crate::whatif::Change>,
    earliest: NaiveDate,
) -> bool {
    changes.push(crate::whatif::Change::AsOf(earliest));
    let Ok(applied) = crate::whatif::apply(
        pack,
        evidence,
        options.as_of,
        &options.parameters,
        &changes,
        "needs",
    ) else {
        return false;
    };
    let checked = Options {
        as_of: applied.as_of,
        parameters: applied.parameters,
        explain: false,
        known_at: options.known_at,
        exclude_basis: options.exclude_basis.clone(),
    };
    target_met(pack, &applied.evidence, &checked, directions, target)
}

/// A bound as `needs` writes it before its threshold.
fn bound_words(bound: Bound) -> &'static str {
    match bound {
        Bound::Upper { strict: true } => "<",
        Bound::Upper { strict: false } => "<=",
        Bound::Lower { strict: true } => ">",
        Bound::Lower { strict: false } => ">=",
        Bound::Exactly => "==",
        Bound::NotEqual => "!=",
        // A range is written with both ends (`range_words`).
        Bound::Present | Bound::Between { .. } => "",
    }
}

/// A bound and its thresholds in words: `<= 8`, `>= 5 and < 7`.
fn limit_words(bound: Bound, threshold: &Value, ceiling: Option<&Value>) -> String {
    match (bound, ceiling) {
        (
            Bound::Between {
                low_strict,
                high_strict,
            },
            Some(c),
        ) => format!(
            "{} {threshold} and {} {c}",
            if low_strict { ">" } else { ">=" },
            if high_strict { "<" } else { "<=" }
        ),
        _ => format!("{} {threshold}", bound_words(bound)),
    }
}

/// The comparison a bound stands for, to test observed values against it.
fn bound_op(bound: Bound) -> Option<Op> {
    Some(match bound {
        Bound::Upper { strict: true } => Op::Lt,
        Bound::Upper { strict: false } => Op::Le,
        Bound::Lower { strict: true } => Op::Gt,
        Bound::Lower { strict: false } => Op::Ge,
        Bound::Exactly => Op::Eq,
        Bound::NotEqual => Op::Ne,
        // A range is two comparisons (`Limit::met_by`).
        Bound::Present | Bound::Between { .. } => return None,
    })
}

/// The bound a comparison stands for.
fn op_bound(op: Op) -> Bound {
    match op {
        Op::Lt => Bound::Upper { strict: true },
        Op::Le => Bound::Upper { strict: false },
        Op::Gt => Bound::Lower { strict: true },
        Op::Ge => Bound::Lower { strict: false },
        Op::Eq => Bound::Exactly,
        Op::Ne => Bound::NotEqual,
    }
}

/// The comparison that holds exactly when `op` does not (on values that compare at all).
fn flip(op: Op) -> Op {
    match op {
        Op::Lt => Op::Ge,
        Op::Le => Op::Gt,
        Op::Gt => Op::Le,
        Op::Ge => Op::Lt,
        Op::Eq => Op::Ne,
        Op::Ne => Op::Eq,
    }
}

/// Walks every reference below a condition that `Solver::cond` would follow, with the polarity
/// it would follow it in, skipping parts already met (the solver does not descend into those).
/// The condition tree itself is shallow (nesting is capped by the JSON reader); only chains of
/// rule references are long, and those are walked by `Solver::ensure` with an explicit stack.
type MemoKey = (usize, Option<usize>, Option<usize>, bool);

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
        self.roots.insert((index, subject, top, false));
        self.rule_fixes((index, subject, top, false))
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
            return vec![Fix::default()];
        }
        if let Some(h) = &f.held_until_exit {
            self.blocks.push(format!(
                "`{id}` is held until the intervention ends: {}",
                h.reason
            ));
            return Vec::new();
        }
        if visiting.contains(&f.id) {
            return vec![Fix::default()];
        }
        visiting.push(f.id.clone());
        let mut acc = vec![Fix::default()];
        // Recommended for return, it is ready whatever its tests (its prerequisites still
        // come first).
        let gates: &[String] = if self.recommended.contains(id) {
            &[]
        } else {
            &f.gates
        };
        for gate in gates {
            let fixes = self.rule_target(gate, Some(id));
            acc = cross(&mut self.table, &acc, &fixes);
        }
        for p in &f.prerequisites {
            let fixes = self.function_target(&p.function, directions, visiting);
            acc = cross(&mut self.table, &acc, &fixes);
        }
        visiting.pop();
        minimise(&self.table, acc)
    }

    fn exit_target(&mut self, directions: Option<&Directions>, outcome: Option<&str>) -> Vec<Fix> {
        let declared = self.pack.exit_outcomes();
        let chosen = match outcome {
            None => declared.first().cloned(),
            Some(id) => match declared.iter().find(|o| o.id == id) {
                Some(o) => Some(o.clone()),
                None => {
                    let ids: Vec<&str> = declared.iter().map(|o| o.id.as_str()).collect();
                    self.blocks.push(format!(
                        "the pack has no exit outcome `{id}`{}",
                        crate::diagnostic::did_you_mean(id, &ids)
                    ));
                    return Vec::new();
                }
            },
        };
        let (gates, functions_returned) =
            chosen.map_or((Vec::new(), true), |o| (o.gates, o.functions_returned));
        let mut acc = vec![Fix::default()];
        if functions_returned {
            // A transferred function is not the council's to have back: it never holds the end up.
            let transferred = |id: &str| {
                directions
                    .is_some_and(|d| d.holding(id, self.as_of).power == crate::directions::Power::Transferred)
            };
            let functions: Vec<String> = self
                .pack
                .functions()
                .iter()
                .filter(|f| f.held_until_exit.is_none() && !transferred(&f.id))
                .map(|f| f.id.clone())
                .collect();
            for f in functions {
                let fixes = self.function_target(&f, directions, &mut Vec::new());
                acc = cross(&mut self.table, &acc, &fixes);
            }
        }
        for gate in gates {
            let fixes = self.rule_target(&gate, None);
            acc = cross(&mut self.table, &acc, &fixes);
        }
        minimise(&self.table, acc)
    }

    /// The sets for a rule reaching `at_least` (or, `negated`, not reaching it).
    ///
    /// Chains of references can be as long as the pack has rules, far deeper than the stack
    /// allows, so the rules a body refers to are solved first, bottom up with an explicit stack,
    /// and the body then finds them in the memo table instead of recursing.
    fn rule_fixes(&mut self, key: MemoKey) -> Vec<Fix> {
        self.ensure(key);
        self.memo.get(&key).cloned().unwrap_or_default()
    }

    fn ensure(&mut self, root: MemoKey) {
        let mut stack = vec![root];
        while let Some(&key) = stack.last() {
            if self.memo.contains_key(&key) {
                stack.pop();
                continue;
            }
            let mut deps = Vec::new();
            self.rule_deps(key, &mut deps);
            let missing: Vec<MemoKey> = deps.into_iter().filter(|d| !self.memo.contains_key(d)).collect();
            if missing.is_empty() {
                stack.pop();
                let fixes = self.solve_rule(key);
                self.memo.insert(key, fixes);
            } else {
                // INVARIANT: the rule graph is acyclic (the loader rejects cycles), so pushing
                // dependencies always ends.
                stack.extend(missing);
            }
        }
    }

    /// The references `solve_rule(key)` will read from the memo table.
    fn rule_deps(&self, (rule, subject, at_least, negated): MemoKey, out: &mut Vec<MemoKey>) {
        let Some(model) = self.pack.rules().get(rule) else {
            return;
        };
        match &model.body {
            Body::Test(c) => self.cond_deps(c, subject, negated, out),
            Body::Graded { levels, .. } => {
                let Some(need) = at_least else { return };
                for level in levels {
                    if let Some(c) = &level.condition {
                        if !negated || level.rank >= need {
                            self.cond_deps(c, subject, negated, out);
                        }
                        if negated {
                            self.cond_deps(c, subject, false, out);
                            self.cond_deps(c, subject, true, out);
                        }
                    }
                }
            }
        }
    }

    fn cond_deps(&self, c: &Condition, subject: Option<usize>, negated: bool, out: &mut Vec<MemoKey>) {
        let truth = self.engine.truth(c, subject, &self.outcomes);
        let truth = if negated { truth.not() } else { truth };
        if truth == Truth::Met {
            return;
        }
        match c {
            Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
                for p in parts {
                    self.cond_deps(p, subject, negated, out);
                }
            }
            Condition::Not(inner) => self.cond_deps(inner, subject, !negated, out),
            Condition::Rule(r) => out.push(self.reference_key(r, subject, negated)),
            Condition::Leaf(_) => {}
        }
    }

    fn reference_key(&self, r: &crate::rules::RuleRef, subject: Option<usize>, negated: bool) -> MemoKey {
        let target_per_function = self.pack.rules().get(r.rule).is_some_and(|t| t.per_function);
        let target_subject = if target_per_function {
            match &r.function {
                Some(f) => self.function_index(f),
                None => subject,
            }
        } else {
            None
        };
        (r.rule, target_subject, r.at_least, negated)
    }

    fn solve_rule(&mut self, key: MemoKey) -> Vec<Fix> {
        // A target rule's test notes what holds; a graded rule's levels are alternatives, and a
        // rule referred to may be stood in for.
        let was = self.noting;
        let test = self
            .pack
            .rules()
            .get(key.0)
            .is_some_and(|r| matches!(r.body, Body::Test(_)));
        self.noting = test && self.roots.contains(&key);
        let fixes = self.solve_rule_body(key);
        self.noting = was;
        fixes
    }

    fn solve_rule_body(&mut self, (rule, subject, at_least, negated): MemoKey) -> Vec<Fix> {
        let Some(model) = self.pack.rules().get(rule) else {
            return Vec::new();
        };
        match &model.body {
            Body::Test(c) => self.cond(c, subject, negated),
            // A graded rule read without a level is never met nor not met (see `reference`).
            Body::Graded { .. } if at_least.is_none() => Vec::new(),
            Body::Graded { levels, .. } => {
                let need = at_least.unwrap_or(0);
                if !negated {
                    // At least `need`: some level at or above it is met (the first met level,
                    // top down, is the grade).
                    let mut all = Vec::new();
                    for level in levels.iter().filter(|l| l.rank >= need) {
                        match &level.condition {
                            Some(c) => all.extend(self.cond(c, subject, false)),
                            None => all.push(Fix::default()),
                        }
                    }
                    return minimise(&self.table, all);
                }
                // Below `need` means a known grade below it: every level at or above `need` is
                // not met, and, top down, the first level below it that is not "not met" is met.
                let mut acc = vec![Fix::default()];
                let mut above_not_met = vec![Fix::default()];
                let mut choices = Vec::new();
                for level in levels {
                    match (&level.condition, level.rank >= need) {
                        (None, true) => return Vec::new(),
                        (Some(c), true) => {
                            let not_met = self.cond(c, subject, true);
                            acc = cross(&mut self.table, &acc, &not_met);
                        }
                        (None, false) => {
                            choices.extend(above_not_met.clone());
                            break;
                        }
                        (Some(c), false) => {
                            let met = self.cond(c, subject, false);
                            choices.extend(cross(&mut self.table, &above_not_met, &met));
                            let not_met = self.cond(c, subject, true);
                            above_not_met = cross(&mut self.table, &above_not_met, &not_met);
                        }
                    }
                }
                let choices = minimise(&self.table, choices);
                cross(&mut self.table, &acc, &choices)
            }
        }
    }

    /// The sets that make `c` met (or, `negated`, not met). `not` is pushed inward rather than
    /// given up on: De Morgan for `all` and `any`, `at_least k of n` becomes `at_least n-k+1` of
    /// the negated parts, and leaves flip their comparison. Kleene's `not` maps unknown to
    /// unknown, so each rewrite is exact: the negated part is met exactly when the part is not
    /// met.
    fn cond(&mut self, c: &Condition, subject: Option<usize>, negated: bool) -> Vec<Fix> {
        let truth = self.engine.truth(c, subject, &self.outcomes);
        let truth = if negated { truth.not() } else { truth };
        if truth == Truth::Met {
            if self.noting {
                self.note_holding(c, subject, negated);
            }
            return vec![Fix::default()];
        }
        // Below a disjunction, a met part may not be needed: another branch can stand in.
        let conjunctive = matches!(
            (c, negated),
            (Condition::All(_), false) | (Condition::Any(_), true) | (Condition::Not(_), _)
        );
        let was = self.noting;
        self.noting = was && conjunctive;
        let fixes = self.cond_parts(c, subject, negated);
        self.noting = was;
        fixes
    }

    /// The sets of a condition that is not met now, from its parts.
    fn cond_parts(&mut self, c: &Condition, subject: Option<usize>, negated: bool) -> Vec<Fix> {
        let conjunction = |parts: &[Condition], s: &mut Self| {
            let mut acc = vec![Fix::default()];
            for p in parts {
                let fixes = s.cond(p, subject, negated);
                acc = cross(&mut s.table, &acc, &fixes);
            }
            acc
        };
        let disjunction = |parts: &[Condition], s: &mut Self| {
            let mut all = Vec::new();
            for p in parts {
                all.extend(s.cond(p, subject, negated));
            }
            minimise(&s.table, all)
        };
        match c {
            Condition::All(parts) if !negated => conjunction(parts, self),
            Condition::All(parts) => disjunction(parts, self),
            Condition::Any(parts) if !negated => disjunction(parts, self),
            Condition::Any(parts) => conjunction(parts, self),
            Condition::AtLeast(k, parts) => {
                let k = *k as usize;
                // Not at least k of n: more than n-k are not met.
                let k = if negated {
                    (parts.len() + 1).saturating_sub(k)
                } else {
                    k
                };
                let each: Vec<Vec<Fix>> = parts.iter().map(|p| self.cond(p, subject, negated)).collect();
                let mut all = Vec::new();
                for combo in combinations(each.len(), k) {
                    let mut acc = vec![Fix::default()];
                    for i in combo {
                        acc = cross(
                            &mut self.table,
                            &acc,
                            each.get(i).map(Vec::as_slice).unwrap_or(&[]),
                        );
                    }
                    all.extend(acc);
                }
                minimise(&self.table, all)
            }
            Condition::Not(inner) => self.cond(inner, subject, !negated),
            Condition::Rule(r) => {
                let key = self.reference_key(r, subject, negated);
                self.rule_fixes(key)
            }
            Condition::Leaf(leaf) => self.leaf(leaf, subject, negated),
        }
    }

    /// Notes the comparisons a met condition holds on (every part of a met conjunction), for
    /// values written later to keep ([`Choice::Kept`]). A met disjunction is passed over: which
    /// of its parts matter is not known.
    fn note_holding(&mut self, c: &Condition, subject: Option<usize>, negated: bool) {
        match c {
            Condition::All(parts) if !negated => {
                for p in parts {
                    self.note_holding(p, subject, negated);
                }
            }
            Condition::Any(parts) if negated => {
                for p in parts {
                    self.note_holding(p, subject, negated);
                }
            }
            Condition::Not(inner) => self.note_holding(inner, subject, !negated),
            Condition::Leaf(leaf) => {
                let (op, threshold) = match &leaf.test {
                    LeafTest::Compare { op, threshold } => (*op, threshold),
                    // A window that holds goes on only with a value that meets it.
                    LeafTest::Sustained { op, threshold, .. } if !negated => (*op, threshold),
                    _ => return,
                };
                let Some(key) = self.pack.keys().get(leaf.key).filter(|k| k.derived.is_none()) else {
                    return;
                };
                let req = Req::compare(
                    op_bound(if negated { flip(op) } else { op }),
                    Some(self.engine.threshold(threshold).clone()),
                    None,
                );
                let Some(req) = self.on_scale(req, &key.value_type) else {
                    return;
                };
                let function = self.slot_function(leaf.key, leaf.function.as_ref(), subject);
                let list = self.holding.entry((leaf.key, function)).or_default();
                if !list.contains(&req) {
                    list.push(req);
                }
            }
            _ => {}
        }
    }

    /// A requirement merged with each comparison on its slot that holds now, in the order met,
    /// where the two merge ([`Choice::Kept`]).
    fn kept(&self, slot: &Slot, req: &Req) -> Req {
        let mut merged = req.clone();
        for holding in self.holding.get(slot).into_iter().flatten() {
            if implies(&merged, holding) {
                continue;
            }
            if let Some(m) = merge(&merged, holding) {
                merged = m;
            }
        }
        merged
    }

    fn leaf_fix(&mut self, leaf: &Leaf, subject: Option<usize>, negated: bool) -> Option<Fix> {
        let key = self.pack.keys().get(leaf.key)?;
        // A derived value has many inputs that would give it; guessing one could fail where the
        // others would not, so nothing is offered, and the reader is told what to change.
        if let Some(formula) = &key.derived {
            self.blocks.push(format!(
                "`{}` is derived ({}); needs does not invert a formula: change its inputs {} and check with `whatif`",
                key.key,
                formula.named(),
                crate::diagnostic::ticked(&formula.inputs(), ", ")
            ));
            return None;
        }
        let function = match key.scope {
            Scope::Council => None,
            Scope::Function => leaf.function.clone().or_else(|| {
                subject
                    .and_then(|s| self.pack.functions().get(s))
                    .map(|f| f.id.clone())
            }),
        };
        let bound = |op: Op| op_bound(if negated { flip(op) } else { op });
        let plain = |bound: Bound, threshold: Option<Value>, sustained: u32| Req {
            sustained,
            ..Req::compare(bound, threshold, leaf.within_days.map(|w| self.engine.amount(w)))
        };
        let req = match &leaf.test {
            LeafTest::Compare { op, threshold } => {
                plain(bound(*op), Some(self.engine.threshold(threshold).clone()), 0)
            }
            // Not held over the window: one fresh value that breaks it is enough.
            LeafTest::Sustained { op, threshold, .. } if negated => {
                plain(bound(*op), Some(self.engine.threshold(threshold).clone()), 0)
            }
            LeafTest::Sustained { op, threshold, days } => plain(
                bound(*op),
                Some(self.engine.threshold(threshold).clone()),
                self.engine.amount(*days),
            ),
            LeafTest::Present if negated => {
                self.blocks.push(format!(
                    "`{}` must have no fresh evidence, which needs evidence removed or left to go stale, not recorded",
                    key.key
                ));
                return None;
            }
            LeafTest::Present => plain(Bound::Present, None, 0),
            // A set holds one value per key, recorded on the as-of date: that is one more
            // observation for a count, which is enough only when the count is one short (or, for
            // a run, when the latest before it all qualify). Otherwise nothing is offered.
            LeafTest::Count {
                op,
                threshold,
                at_least,
                days,
                consecutive,
            } => {
                let needed = self.engine.amount(*at_least) as usize;
                let days = self.engine.amount(*days);
                let wanted = self.engine.threshold(threshold);
                let series = crate::assess::in_force(self.engine.visible(leaf, subject));
                let start = crate::assess::window_start(self.as_of, days);
                // Today's observation, if any, is the one a new value would replace.
                let before_today: Vec<&Observation> = series
                    .iter()
                    .copied()
                    .filter(|o| o.date > start && o.date < self.as_of)
                    .collect();
                let qualifies = |o: &Observation| crate::assess::compare(&o.value, *op, wanted) == Truth::Met;
                let feasible = match (consecutive, negated) {
                    (false, false) => before_today.iter().filter(|o| qualifies(o)).count() + 1 >= needed,
                    (true, false) => {
                        let run = needed.saturating_sub(1);
                        before_today.len() >= run
                            && before_today
                                .get(before_today.len().saturating_sub(run)..)
                                .is_some_and(|latest| latest.iter().all(|o| qualifies(o)))
                    }
                    // One value that fails breaks a run.
                    (true, true) => true,
                    // Today's value, failing, makes the window hold evidence (an empty one is
                    // unknown) or replaces one that qualified: enough when the rest fall short.
                    (false, true) => before_today.iter().filter(|o| qualifies(o)).count() < needed,
                };
                if !feasible {
                    self.blocks.push(if negated {
                        format!(
                            "fewer observations of `{}` meeting the comparison means evidence removed, not recorded",
                            key.key
                        )
                    } else {
                        format!(
                            "`{}` is counted over the last {days} days ({needed} observations{}); one more recorded today is not enough: record the others on their days and check with `whatif`",
                            key.key,
                            if *consecutive { " in a row" } else { "" }
                        )
                    });
                    return None;
                }
                plain(bound(*op), Some(wanted.clone()), 0)
            }
            // The event recorded today: met when at most N days must have passed since it (or,
            // negated, fewer than N); for "between two events", the second event recorded today.
            LeafTest::DaysSince {
                op,
                threshold,
                bound: since,
                until,
                ..
            } => {
                use crate::rules::SinceBound;
                let today_helps = matches!(
                    (since, negated),
                    (SinceBound::AtMost, false) | (SinceBound::AtLeast, true)
                );
                match until {
                    None if today_helps => {
                        plain(op_bound(*op), Some(self.engine.threshold(threshold).clone()), 0)
                    }
                    Some(event)
                        if matches!(
                            self.engine.leaf(leaf, subject).1,
                            crate::assess::Finding::NoEvent { after: Some(_), .. }
                        ) =>
                    {
                        let other = self.pack.keys().get(event.key)?;
                        let function = match other.scope {
                            Scope::Council => None,
                            Scope::Function => event.function.clone().or_else(|| {
                                subject
                                    .and_then(|s| self.pack.functions().get(s))
                                    .map(|f| f.id.clone())
                            }),
                        };
                        let req = self.on_scale(
                            Req::compare(
                                op_bound(event.op),
                                Some(self.engine.threshold(&event.threshold).clone()),
                                None,
                            ),
                            &other.value_type,
                        )?;
                        return Some(self.table.single((event.key, function), req));
                    }
                    _ => {
                        self.blocks.push(format!(
                            "a condition on the days since an observation of `{}` depends on when events happened; needs offers only an event recorded today, which does not meet it",
                            key.key
                        ));
                        return None;
                    }
                }
            }
            // The other key's latest value is the threshold; the key is set to meet it.
            LeafTest::Against { op, other } => {
                let others = crate::assess::in_force(self.engine.visible_key(
                    other.key,
                    other.function.as_deref().or(leaf.function.as_deref()),
                    subject,
                    leaf.fallback_to_council,
                ));
                let age_ok = |o: &Observation| {
                    let age = (self.as_of - o.date).num_days();
                    self.engine.max_age(other.key).is_none_or(|m| age <= i64::from(m))
                        && leaf
                            .within_days
                            .is_none_or(|w| age <= i64::from(self.engine.amount(w)))
                };
                // Recorded today, the key meets the other's latest value or, of the same date,
                // the other's value of today.
                let against = if other.same_date {
                    others.last().filter(|o| o.date == self.as_of)
                } else {
                    others.last()
                };
                match against {
                    Some(o) if age_ok(o) && other.key != leaf.key => {
                        plain(bound(*op), Some(o.value.clone()), 0)
                    }
                    // Offered from the other side, if at all (see `leaf`).
                    _ => return None,
                }
            }
            LeafTest::Trend {
                days,
                by: Some(change),
                ..
            } => {
                // Measured from the value in force at the window's start: the key must reach that
                // value moved by the size (negated: stay short of it).
                let days = self.engine.amount(*days);
                let series = crate::assess::in_force(self.engine.visible(leaf, subject));
                let start = crate::assess::window_start(self.as_of, days);
                let anchor = series.iter().rev().find(|o| o.date <= start);
                let size = match self.engine.threshold(&change.size) {
                    Value::Number(n) => *n,
                    _ => return None,
                };
                let lower_better = matches!(
                    key.value_type,
                    ValueType::Number {
                        direction: Direction::LowerIsBetter,
                        ..
                    }
                );
                let (Some(anchor), false) = (anchor, start >= self.as_of) else {
                    self.blocks.push(format!(
                        "`{}` must change over {days} days from the value in force on {start}, and none was observed by then: record it and check with `whatif`",
                        key.key
                    ));
                    return None;
                };
                let target = match (&anchor.value, change.relative) {
                    (Value::Number(a), true) if *a != 0.0 => {
                        let step = a.abs() * size / 100.0;
                        Value::Number(((if lower_better { a - step } else { a + step }) * 1e9).round() / 1e9)
                    }
                    (Value::Number(a), false) => {
                        Value::Number(((if lower_better { a - size } else { a + size }) * 1e9).round() / 1e9)
                    }
                    (Value::Grade { rank, .. }, false) => {
                        let levels = match &key.value_type {
                            ValueType::Grade { scale } => self
                                .pack
                                .scales()
                                .iter()
                                .find(|s| &s.id == scale)
                                .map(|s| s.levels.clone())
                                .unwrap_or_default(),
                            _ => Vec::new(),
                        };
                        let up = size.ceil();
                        let r = (*rank as f64 + up) as usize;
                        match levels.get(r) {
                            Some(level) if up.is_finite() && up >= 0.0 => Value::Grade {
                                level: level.clone(),
                                rank: r,
                            },
                            _ => {
                                self.blocks.push(format!(
                                    "`{}` would have to rise {size} levels from `{}`, past the top of its scale",
                                    key.key, anchor.value
                                ));
                                return None;
                            }
                        }
                    }
                    _ => {
                        self.blocks.push(format!(
                            "`{}` must change by {size}% of {}, which is not defined for 0",
                            key.key, anchor.value
                        ));
                        return None;
                    }
                };
                let is_grade = matches!(key.value_type, ValueType::Grade { .. });
                let b = match (negated, lower_better && !is_grade) {
                    (false, false) => Bound::Lower { strict: false },
                    (false, true) => Bound::Upper { strict: false },
                    (true, false) => Bound::Upper { strict: true },
                    (true, true) => Bound::Lower { strict: true },
                };
                plain(b, Some(target), 0)
            }
            LeafTest::Trend { kind, days, by: None } => {
                let days = &self.engine.amount(*days);
                // Heuristic: better than the value at the window's start (negated: no better).
                self.heuristic = true;
                let series = crate::assess::in_force(self.engine.visible(leaf, subject));
                let start = self
                    .as_of
                    .checked_sub_days(chrono::Days::new(u64::from(*days)))
                    .unwrap_or(NaiveDate::MIN);
                let from = series.iter().rev().find(|o| o.date <= start).or(series.first());
                let lower_better = matches!(
                    key.value_type,
                    ValueType::Number {
                        direction: Direction::LowerIsBetter,
                        ..
                    }
                );
                let improving = *kind == TrendKind::Improving;
                // Better (strictly, when improving); negated, no better (or worse, when it must
                // not be "not worsening").
                let (toward_better, strict) = if negated {
                    (false, !improving)
                } else {
                    (true, improving)
                };
                let b = if lower_better == toward_better {
                    Bound::Upper { strict }
                } else {
                    Bound::Lower { strict }
                };
                match from {
                    Some(from) => plain(b, Some(from.value.clone()), 0),
                    // No data: a baseline at the window's start, then a value against it.
                    None => {
                        let baseline = baseline_value(
                            &key.value_type,
                            toward_better != lower_better,
                            self.pack.scales(),
                        )?;
                        Req {
                            baseline: Some((start, baseline.clone())),
                            ..plain(b, Some(baseline), 0)
                        }
                    }
                }
            }
        };
        let req = self.on_scale(req, &key.value_type)?;
        Some(self.table.single((leaf.key, function), req))
    }

    /// On an ordinal scale a strict bound is an inclusive bound on the next level (`> low` is
    /// `>= mid`), so requirements compare as they should; nothing is above the top level or
    /// below the bottom one, so such a requirement cannot be met (`None`).
    fn on_scale(&self, mut req: Req, value_type: &ValueType) -> Option<Req> {
        if let ValueType::Number { range, .. } = value_type {
            req.domain = *range;
        }
        if let (Some(Value::Grade { rank, .. }), ValueType::Grade { scale }) = (&req.threshold, value_type) {
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
        Some(req)
    }

    /// The function a key is read for: the pinned one, else the subject's (function-scoped keys).
    fn slot_function(&self, key: usize, pinned: Option<&String>, subject: Option<usize>) -> Option<String> {
        match self.pack.keys().get(key)?.scope {
            Scope::Council => None,
            Scope::Function => pinned.cloned().or_else(|| {
                subject
                    .and_then(|s| self.pack.functions().get(s))
                    .map(|f| f.id.clone())
            }),
        }
    }

    /// The sets that make a leaf met (negated: not met). A comparison of two keys can be met by
    /// changing either: the key against the other's fresh latest value, or the other against
    /// the key's.
    fn leaf(&mut self, leaf: &Leaf, subject: Option<usize>, negated: bool) -> Vec<Fix> {
        let mut fixes: Vec<Fix> = self.leaf_fix(leaf, subject, negated).into_iter().collect();
        if let LeafTest::Against { op, other } = &leaf.test {
            fixes.extend(self.other_side(leaf, *op, other, subject, negated));
            if fixes.is_empty() {
                let name = |k: usize| self.pack.keys().get(k).map(|k| k.key.clone()).unwrap_or_default();
                self.blocks.push(format!(
                    "`{}` is compared with `{}`{}, and neither has a fresh value the other can be set against (needs changes one of them): change them together and check with `whatif`",
                    name(leaf.key),
                    name(other.key),
                    if other.same_date { " of the same date" } else { "" }
                ));
            }
        }
        minimise(&self.table, fixes)
    }

    /// The other key of an `against` set to meet the key's fresh latest value (recorded today,
    /// so with `same_date` only when the key's latest is today's).
    fn other_side(
        &mut self,
        leaf: &Leaf,
        op: Op,
        other: &crate::rules::Against,
        subject: Option<usize>,
        negated: bool,
    ) -> Option<Fix> {
        if other.key == leaf.key {
            return None;
        }
        let latest = match self.engine.leaf(leaf, subject).1 {
            crate::assess::Finding::AgainstMissing { observation, .. }
            | crate::assess::Finding::AgainstStale { observation, .. }
            | crate::assess::Finding::AgainstCompared { observation, .. } => observation,
            _ => return None,
        };
        if other.same_date && latest.date != self.as_of {
            return None;
        }
        let op = if negated { flip(op) } else { op };
        // `a op b` read from b's side: `a <= b` is `b >= a`.
        let turned = match op {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            same => same,
        };
        let other_key = self.pack.keys().get(other.key)?;
        let req = Req::compare(
            op_bound(turned),
            Some(latest.value.clone()),
            leaf.within_days.map(|w| self.engine.amount(w)),
        );
        let req = self.on_scale(req, &other_key.value_type)?;
        let function = self.slot_function(
            other.key,
            other.function.as_ref().or(leaf.function.as_ref()),
            subject,
        );
        Some(self.table.single((other.key, function), req))
    }

    /// A set in words and values, or none when a window would end past the last date the
    /// calendar can hold.
    fn render(&mut self, fix: &Fix, choice: Choice) -> Option<ChangeSet> {
        let mut changes = Vec::with_capacity(fix.items.len());
        for item in self.table.ordered(fix) {
            // Sets share most of their requirements: each is written once, and copied.
            let written = match self.written.get(&(item, choice)) {
                Some(written) => written.clone(),
                None => {
                    let written = self.render_one(item, choice);
                    self.written.insert((item, choice), written.clone());
                    written
                }
            };
            match written {
                Some(Written::Requirement(r)) => changes.push(r),
                Some(Written::Beyond(block)) => {
                    self.blocks.push(block);
                    return None;
                }
                None => {}
            }
        }
        let distance = changes.iter().map(|c| c.distance).sum();
        let earliest = changes.iter().map(|c| c.earliest).max().unwrap_or(self.as_of);
        Some(ChangeSet {
            changes,
            distance,
            earliest,
        })
    }

    /// One requirement of a set written out (`None`: a key the pack does not have), or the
    /// block that stops any set holding it (a window past the calendar's end).
    fn render_one(&mut self, (slot, req): (u32, u32), choice: Choice) -> Option<Written> {
        let ((key_index, function), req) = (self.table.slots.get(slot as usize)?, self.table.req(req)?);
        let kept;
        let req = if choice == Choice::Kept {
            kept = self.kept(&(*key_index, function.clone()), req);
            &kept
        } else {
            req
        };
        let key = self.pack.keys().get(*key_index)?;
        let series = self.series(*key_index, function.as_deref());
        let latest = series.last().copied();
        let current = latest.map(|o| o.value.clone());
        let near = satisfying(req, &key.value_type, current.as_ref(), self.pack.scales());
        let value = match (choice, &current) {
            (Choice::Far, _) => far_end(req, &key.value_type, self.pack.scales()).unwrap_or(near),
            (Choice::Other, _) => {
                range_value(req, &key.value_type, current.as_ref(), self.pack.scales(), true).unwrap_or(near)
            }
            (Choice::Current, Some(c)) if Limit::of(req).met_by(c) == Some(true) => c.clone(),
            _ => near,
        };
        let value = within_range(value, req, &key.value_type);
        let needs = match (&req.bound, &req.threshold) {
            (Bound::Present, _) => "recorded (fresh)".to_string(),
            (b, Some(t)) => {
                let ends = limit_words(*b, t, req.ceiling.as_ref());
                let held = match &req.held_over {
                    _ if req.sustained == 0 => String::new(),
                    Some((over, at, ceiling)) => format!(
                        ", and {} held for {} days",
                        limit_words(*over, at, ceiling.as_ref()),
                        req.sustained
                    ),
                    None => format!(", held for {} days", req.sustained),
                };
                let baseline = match &req.baseline {
                    Some((date, v)) => format!(", after a baseline of {v} on {date}"),
                    None => String::new(),
                };
                format!("{ends}{held}{baseline}")
            }
            (_, None) => String::new(),
        };
        let needs = if key.judged_by_roles.is_empty() {
            needs
        } else {
            format!(
                "{needs}, judged by {}",
                crate::diagnostic::ticked(&key.judged_by_roles, " or ")
            )
        };
        let distance = match (&current, &value) {
            // Rounded to the billionth, where that does not overflow (thresholds near 1e300).
            (Some(Value::Number(a)), Value::Number(b)) => {
                let rounded = ((a - b).abs() * 1e9).round() / 1e9;
                if rounded.is_finite() {
                    rounded
                } else {
                    (a - b).abs()
                }
            }
            (Some(Value::Grade { rank: a, .. }), Value::Grade { rank: b, .. }) => a.abs_diff(*b) as f64,
            _ => 1.0,
        };
        let stale = latest.is_some_and(|o| {
            let age = (self.as_of - o.date).num_days();
            self.engine
                .max_age(*key_index)
                .is_some_and(|m| age > i64::from(m))
                || req.within.is_some_and(|w| age > i64::from(w))
        });
        let Some(earliest) = self.earliest(req, &series) else {
            return Some(Written::Beyond(format!(
                "`{}` would have to hold for {} days, past the last date the calendar can represent",
                key.key, req.sustained
            )));
        };
        Some(Written::Requirement(Requirement {
            key: key.key.clone(),
            function: function.clone(),
            needs,
            value,
            current,
            current_date: latest.map(|o| o.date),
            stale,
            distance,
            earliest,
            baseline: req.baseline.as_ref().map(|(date, value)| Baseline {
                date: *date,
                value: value.clone(),
            }),
            judged_by_roles: key.judged_by_roles.clone(),
        }))
    }

    /// The first day a requirement can hold. For a sustained window that is the window's length
    /// after the key last started meeting the bound: evidence already good counts, so a key good
    /// since D is held from D plus the window, not from the as-of date plus the window.
    fn earliest(&self, req: &Req, series: &[&Observation]) -> Option<NaiveDate> {
        if req.sustained == 0 {
            return Some(self.as_of);
        }
        let over = window_bound(req);
        // What is recorded on the as-of date is what the change, dated then, supersedes.
        let since = series
            .iter()
            .rev()
            .skip_while(|o| o.date == self.as_of)
            .take_while(|o| over.met_by(&o.value) == Some(true))
            .last()
            .map(|o| o.date)
            .unwrap_or(self.as_of);
        let held = since.checked_add_days(chrono::Days::new(u64::from(req.sustained)))?;
        Some(held.max(self.as_of))
    }

    /// The observations in force for a key (a same-day correction replacing what it corrects).
    fn series(&self, key: usize, function: Option<&str>) -> Vec<&'a Observation> {
        let leaf = Leaf {
            key,
            test: LeafTest::Present,
            within_days: None,
            function: function.map(str::to_string),
            fallback_to_council: false,
            says: None,
        };
        crate::assess::in_force(self.engine.visible(&leaf, None))
    }
}

/// A baseline for a trend with no data: the worst end of the key's values when the value that
/// follows must be better, the best end when it must be no better.
fn baseline_value(
    value_type: &ValueType,
    higher_after: bool,
    scales: &[crate::vocabulary::Scale],
) -> Option<Value> {
    match value_type {
        ValueType::Number { .. } => Some(Value::Number(if higher_after { 0.0 } else { 1.0 })),
        ValueType::Grade { scale } => {
            let levels = &scales.iter().find(|s| &s.id == scale)?.levels;
            let rank = if higher_after {
                0
            } else {
                levels.len().checked_sub(1)?
            };
            Some(Value::Grade {
                level: levels.get(rank)?.clone(),
                rank,
            })
        }
        ValueType::Boolean => Some(Value::Boolean(!higher_after)),
        ValueType::Date | ValueType::Text => None,
    }
}

/// A number the key's range refuses (below its minimum, above its maximum, a fraction of a
/// whole-number key) moved to the nearest value the range allows that still meets the
/// requirement: `!= 0` on a share offers 0.1 rather than -0.1, `< 3` on a count 2 rather than
/// 2.9, the far end of `<= 0.2` on a share 0 rather than -1e9. Anything else, or when no such
/// value is found, is left as it is (and refused when checked, so not offered).
fn within_range(value: Value, req: &Req, value_type: &ValueType) -> Value {
    let (Value::Number(n), ValueType::Number { range, .. }) = (&value, value_type) else {
        return value;
    };
    let n = *n;
    if range.contains(n) {
        return value;
    }
    let meets = |c: f64| Limit::of(req).met_by(&Value::Number(c)).unwrap_or(true);
    let t = match &req.threshold {
        Some(Value::Number(t)) => *t,
        _ => n,
    };
    let mut candidates = [
        n.floor(),
        n.ceil(),
        2.0 * t - n,
        t - 1.0,
        t + 1.0,
        t.floor() - 1.0,
        t.ceil() + 1.0,
    ]
    .map(|c| range.clamp(c));
    candidates.sort_by(|a, b| (a - n).abs().total_cmp(&(b - n).abs()).then(a.total_cmp(b)));
    let best = std::iter::once(range.clamp(n))
        .chain(candidates)
        .find(|&c| range.contains(c) && meets(c));
    best.map_or(value, |c| Value::Number((c * 1e9).round() / 1e9))
}

/// A value meeting a requirement: the threshold for inclusive bounds, one step past it for
/// strict ones (a step of the threshold's last decimal place, one place finer).
fn satisfying(
    req: &Req,
    value_type: &ValueType,
    current: Option<&Value>,
    scales: &[crate::vocabulary::Scale],
) -> Value {
    match (&req.bound, &req.threshold) {
        // `present` asks only that something be recorded. Re-recording the current value keeps
        // every comparison on the key as it was (a different value could break one that is
        // met); with no current value, the least favourable, so the suggestion meets nothing
        // else by accident (and the set stays minimal).
        (Bound::Present, _) if current.is_some() => current.cloned().unwrap_or(Value::Boolean(false)),
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
        (Bound::Between { .. }, Some(low)) => {
            range_value(req, value_type, current, scales, false).unwrap_or_else(|| low.clone())
        }
        (Bound::NotEqual, Some(Value::Boolean(b))) => Value::Boolean(!b),
        // Anything else: one step past it, on the better side.
        (Bound::NotEqual, Some(Value::Number(t))) => {
            let lower_better = matches!(
                value_type,
                ValueType::Number {
                    direction: Direction::LowerIsBetter,
                    ..
                }
            );
            let next = if lower_better { t - step(*t) } else { t + step(*t) };
            Value::Number((next * 1e9).round() / 1e9)
        }
        (Bound::NotEqual, Some(Value::Grade { rank, level })) => {
            let levels = match value_type {
                ValueType::Grade { scale } => scales.iter().find(|s| &s.id == scale).map(|s| &s.levels),
                _ => None,
            };
            let other = levels.and_then(|l| {
                let r = if rank + 1 < l.len() {
                    rank + 1
                } else {
                    rank.checked_sub(1)?
                };
                Some(Value::Grade {
                    level: l.get(r)?.clone(),
                    rank: r,
                })
            });
            other.unwrap_or_else(|| Value::Grade {
                level: level.clone(),
                rank: *rank,
            })
        }
        (_, Some(t)) => t.clone(),
        (_, None) => Value::Boolean(true),
    }
}

/// The far end of a one-sided bound: the lowest level or a very low number for "at most", the
/// highest or a very high one for "at least"; none for other requirements.
fn far_end(req: &Req, value_type: &ValueType, scales: &[crate::vocabulary::Scale]) -> Option<Value> {
    let upper = match (req.bound, &req.threshold, &req.ceiling) {
        (Bound::Upper { .. }, ..) => true,
        (Bound::Lower { .. }, ..) => false,
        // Deepest inside a range of numbers is its middle.
        (Bound::Between { .. }, Some(Value::Number(low)), Some(Value::Number(high))) => {
            return Some(Value::Number(((low / 2.0 + high / 2.0) * 1e9).round() / 1e9));
        }
        _ => return None,
    };
    match value_type {
        ValueType::Number { .. } => Some(Value::Number(if upper { -1e9 } else { 1e9 })),
        ValueType::Grade { scale } => {
            let levels = &scales.iter().find(|s| &s.id == scale)?.levels;
            let rank = if upper { 0 } else { levels.len().checked_sub(1)? };
            Some(Value::Grade {
                level: levels.get(rank)?.clone(),
                rank,
            })
        }
        _ => None,
    }
}

/// A value inside a range requirement: [`in_range`] with the key's levels for a range of levels.
fn range_value(
    req: &Req,
    value_type: &ValueType,
    current: Option<&Value>,
    scales: &[crate::vocabulary::Scale],
    other: bool,
) -> Option<Value> {
    let Bound::Between {
        low_strict,
        high_strict,
    } = req.bound
    else {
        return None;
    };
    let levels = match value_type {
        ValueType::Grade { scale } => scales
            .iter()
            .find(|s| &s.id == scale)
            .map(|s| s.levels.as_slice()),
        _ => None,
    };
    in_range(
        (req.threshold.as_ref()?, low_strict),
        (req.ceiling.as_ref()?, high_strict),
        current,
        other,
        levels,
    )
}

/// A value inside a range: the end nearer the current value (`other`: the end further from
/// it), one step inside where the end is strict, else the middle; with no current value of the
/// range's kind, the lower end first. A level is named from the scale's `levels`.
fn in_range(
    (low, ls): (&Value, bool),
    (high, hs): (&Value, bool),
    current: Option<&Value>,
    other: bool,
    levels: Option<&[String]>,
) -> Option<Value> {
    let round = |n: f64| (n * 1e9).round() / 1e9;
    match (low, high) {
        (Value::Number(l), Value::Number(h)) => {
            let (l, h) = (*l, *h);
            let inside = |n: f64| (if ls { n > l } else { n >= l }) && (if hs { n < h } else { n <= h });
            let low_end = round(if ls { l + step(l) } else { l });
            let high_end = round(if hs { h - step(h) } else { h });
            // Halves first, so ends near the largest numbers do not overflow.
            let middle = l / 2.0 + h / 2.0;
            let nearer_high = matches!(current, Some(Value::Number(c)) if c - l > h - c);
            let (first, second) = if nearer_high != other {
                (high_end, low_end)
            } else {
                (low_end, high_end)
            };
            [first, second, round(middle), middle]
                .into_iter()
                .find(|&n| inside(n))
                .map(Value::Number)
        }
        (Value::Grade { rank: rl, .. }, Value::Grade { rank: rh, .. }) => {
            let (lowest, highest) = (rl + usize::from(ls), rh.checked_sub(usize::from(hs))?);
            if lowest > highest {
                return None;
            }
            let nearer_high = matches!(current, Some(Value::Grade { rank: c, .. })
                if c.abs_diff(highest) < c.abs_diff(lowest));
            let rank = if nearer_high != other { highest } else { lowest };
            let level = match (rank, levels) {
                (r, _) if r == *rl => level_name(low)?,
                (r, _) if r == *rh => level_name(high)?,
                (r, Some(levels)) => levels.get(r)?.clone(),
                (_, None) => return None,
            };
            Some(Value::Grade { level, rank })
        }
        _ => None,
    }
}

/// A level's name.
fn level_name(value: &Value) -> Option<String> {
    match value {
        Value::Grade { level, .. } => Some(level.clone()),
        _ => None,
    }
}

/// One step past a number: a step of its last decimal place, one place finer.
fn step(t: f64) -> f64 {
    let text = crate::vocabulary::format_number(t);
    let decimals = text.split('.').nth(1).map_or(0, str::len) as i32;
    10f64.powi(-(decimals + 1))
}

/// Whether the key allows a number between two ends (threshold, strict): within its range, and
/// whole where it must be.
fn allows((l, ls): (f64, bool), (h, hs): (f64, bool), domain: &crate::vocabulary::Range) -> bool {
    let (lo, lo_strict) = match domain.min {
        Some(m) if m > l => (m, false),
        _ => (l, ls),
    };
    let (hi, hi_strict) = match domain.max {
        Some(m) if m < h => (m, false),
        _ => (h, hs),
    };
    if domain.integer {
        let first = if lo_strict { lo.floor() + 1.0 } else { lo.ceil() };
        return if hi_strict { first < hi } else { first <= hi };
    }
    lo < hi || (lo == hi && !lo_strict && !hi_strict)
}

/// The requirement of every value between a lower end and an upper end (threshold, strict),
/// held over one window: a range, exactly one value where the ends leave one the thresholds
/// name, none where they leave none (or no number the key allows).
fn interval(
    low: (&Value, bool),
    high: (&Value, bool),
    sustained: u32,
    within: Option<u32>,
    domain: crate::vocabulary::Range,
) -> Option<Req> {
    let ((tl, sl), (th, sh)) = (low, high);
    let req = |bound: Bound, threshold: &Value, ceiling: Option<&Value>| Req {
        bound,
        threshold: Some(threshold.clone()),
        sustained,
        within,
        baseline: None,
        held_over: None,
        ceiling: ceiling.cloned(),
        domain,
    };
    let range = |tl, th| {
        req(
            Bound::Between {
                low_strict: sl,
                high_strict: sh,
            },
            tl,
            Some(th),
        )
    };
    match (tl, th) {
        (Value::Number(l), Value::Number(h)) => match l.partial_cmp(h)? {
            _ if !allows((*l, sl), (*h, sh), &domain) => None,
            std::cmp::Ordering::Less => Some(range(tl, th)),
            std::cmp::Ordering::Equal if !sl && !sh => Some(req(Bound::Exactly, tl, None)),
            _ => None,
        },
        (Value::Grade { rank: rl, .. }, Value::Grade { rank: rh, .. }) => {
            let (lowest, highest) = (rl + usize::from(sl), rh.checked_sub(usize::from(sh))?);
            match () {
                () if lowest > highest => None,
                () if lowest == highest && !sl => Some(req(Bound::Exactly, tl, None)),
                () if lowest == highest && !sh => Some(req(Bound::Exactly, th, None)),
                // A strict end leaves a level the thresholds do not name: the scale names it
                // when the value is written (`range_value`).
                () => Some(range(tl, th)),
            }
        }
        _ => None,
    }
}

/// The shorter of two `within_days`, the one that says sooner that a value is too old.
fn shorter(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The bound a requirement's window is held over, to carry into a merge.
fn over(r: &Req) -> Option<Over> {
    match &r.held_over {
        Some(over) => Some(over.clone()),
        None => Some((r.bound, r.threshold.clone()?, r.ceiling.clone())),
    }
}

/// The stricter of two ends (threshold, strict), where they compare; either where only one is.
fn stricter<'v>(
    x: Option<(&'v Value, bool)>,
    y: Option<(&'v Value, bool)>,
    implies: fn((&Value, bool), (&Value, bool)) -> bool,
) -> Option<(&'v Value, bool)> {
    match (x, y) {
        (Some(x), Some(y)) if implies(x, y) => Some(x),
        (Some(x), Some(y)) if implies(y, x) => Some(y),
        (Some(_), Some(_)) => None,
        (x, y) => x.or(y),
    }
}

/// What two window bounds both allow, as a bound a window is held over; none where either is not
/// an interval (a value to avoid) or they leave nothing.
fn limits_meet(x: Limit, y: Limit) -> Option<Over> {
    let interval_bound = |b: Bound| {
        matches!(
            b,
            Bound::Upper { .. } | Bound::Lower { .. } | Bound::Between { .. } | Bound::Exactly
        )
    };
    if !interval_bound(x.bound) || !interval_bound(y.bound) {
        return None;
    }
    let low = match (x.low(), y.low()) {
        (Some(p), Some(q)) => Some(stricter(Some(p), Some(q), low_implies)?),
        (p, q) => p.or(q),
    };
    let high = match (x.high(), y.high()) {
        (Some(p), Some(q)) => Some(stricter(Some(p), Some(q), high_implies)?),
        (p, q) => p.or(q),
    };
    match (low, high) {
        (Some((l, ls)), Some((h, hs))) => match l.partial_cmp_value(h)? {
            std::cmp::Ordering::Equal if !ls && !hs => Some((Bound::Exactly, l.clone(), None)),
            std::cmp::Ordering::Less => Some((
                Bound::Between {
                    low_strict: ls,
                    high_strict: hs,
                },
                l.clone(),
                Some(h.clone()),
            )),
            _ => None,
        },
        (Some((l, strict)), None) => Some((Bound::Lower { strict }, l.clone(), None)),
        (None, Some((h, strict))) => Some((Bound::Upper { strict }, h.clone(), None)),
        (None, None) => None,
    }
}

/// Gives `merged`, one requirement meeting both `a` and `b` now, their windows: with a window
/// on one only, held over the bound that one's window is held over, whose run the evidence may
/// have begun (exactly the two); with windows on both, the longer, held over what both window
/// bounds allow (exactly the two where the windows are one length, more where they differ, so
/// met later, never wrongly), or over `merged` itself where that cannot be said.
fn hold(a: &Req, b: &Req, mut merged: Req) -> Req {
    merged.sustained = a.sustained.max(b.sustained);
    let over = match (a.sustained, b.sustained) {
        (0, 0) => None,
        (0, _) => over(b),
        (_, 0) => over(a),
        _ if a.held_over.is_none() && b.held_over.is_none() => None,
        _ => limits_meet(window_bound(a), window_bound(b)),
    };
    // Over the merged bound itself, it is its own window.
    merged.held_over = over.filter(|(bound, threshold, ceiling)| {
        let limit = Limit {
            bound: *bound,
            threshold: Some(threshold),
            ceiling: ceiling.as_ref(),
        };
        !bound_implies(limit, Limit::of(&merged))
    });
    merged
}

/// Two interval bounds (at most, at least, a range) on one key, neither guaranteeing the other,
/// as one: what both allow now, with their windows as [`hold`] gives them (`x > 5` now and `x <
/// 9` held for 60 days: `> 5 and < 9, and < 9 held for 60 days`).
fn intersection(a: &Req, b: &Req) -> Option<Req> {
    let (la, lb) = (Limit::of(a), Limit::of(b));
    let low = stricter(la.low(), lb.low(), low_implies)?;
    let high = stricter(la.high(), lb.high(), high_implies)?;
    let req = interval(low, high, 0, shorter(a.within, b.within), a.domain)?;
    Some(hold(a, b, req))
}

/// A range and a value to avoid inside it, as one, with their windows as [`hold`] gives them:
/// the range with that end made strict where the value is one of its ends; where it is further inside, the part
/// of the range below it, or above it where the key allows no number below (`x >= 5`, `x <= 8`,
/// `x != 7`: `>= 5 and < 7`, which asks a little more than the three do, as a one-sided bound
/// is narrowed).
fn range_avoiding(range: &Req, avoid: &Req) -> Option<Req> {
    let limit = Limit::of(range);
    let (low, high, e) = (limit.low()?, limit.high()?, avoid.threshold.as_ref()?);
    let (low, high) = match (low.0.partial_cmp_value(e)?, high.0.partial_cmp_value(e)?) {
        (std::cmp::Ordering::Equal, _) => ((low.0, true), high),
        (_, std::cmp::Ordering::Equal) => (low, (high.0, true)),
        (std::cmp::Ordering::Less, std::cmp::Ordering::Greater) => match (low.0, e, high.0) {
            (Value::Number(l), Value::Number(n), _) if !allows((*l, low.1), (*n, true), &range.domain) => {
                ((e, true), high)
            }
            _ => (low, (e, true)),
        },
        // Outside the range: the range alone rules it out (`bound_implies`).
        _ => return None,
    };
    let req = interval(low, high, 0, shorter(range.within, avoid.within), range.domain)?;
    Some(hold(range, avoid, req))
}

/// Whether requirement `a` already guarantees `b` (on the same key).
fn implies(a: &Req, b: &Req) -> bool {
    (b.baseline.is_none() || a.baseline.is_some()) && bounds_imply(a, b) && windows_imply(a, b)
}

/// A bound with its thresholds, as implication reads it: the threshold, and for a range its
/// ceiling too.
#[derive(Debug, Clone, Copy)]
struct Limit<'a> {
    bound: Bound,
    threshold: Option<&'a Value>,
    ceiling: Option<&'a Value>,
}

impl<'a> Limit<'a> {
    #[inline]
    fn of(r: &'a Req) -> Limit<'a> {
        Limit {
            bound: r.bound,
            threshold: r.threshold.as_ref(),
            ceiling: r.ceiling.as_ref(),
        }
    }

    /// The lower end (threshold, strict) of a bound that has one, among the interval bounds.
    fn low(&self) -> Option<(&'a Value, bool)> {
        match self.bound {
            Bound::Lower { strict } => Some((self.threshold?, strict)),
            Bound::Between { low_strict, .. } => Some((self.threshold?, low_strict)),
            Bound::Exactly => Some((self.threshold?, false)),
            _ => None,
        }
    }

    /// The upper end (threshold, strict) of a bound that has one, among the interval bounds.
    fn high(&self) -> Option<(&'a Value, bool)> {
        match self.bound {
            Bound::Upper { strict } => Some((self.threshold?, strict)),
            Bound::Between { high_strict, .. } => Some((self.ceiling?, high_strict)),
            Bound::Exactly => Some((self.threshold?, false)),
            _ => None,
        }
    }

    /// Whether an observed value meets it (`None`: the bound has no comparison, as `present`).
    fn met_by(&self, value: &Value) -> Option<bool> {
        let met = |op: Op, t: &Value| crate::assess::compare(value, op, t) == Truth::Met;
        match self.bound {
            Bound::Between { .. } => {
                let ((low, ls), (high, hs)) = (self.low()?, self.high()?);
                Some(
                    met(if ls { Op::Gt } else { Op::Ge }, low) && met(if hs { Op::Lt } else { Op::Le }, high),
                )
            }
            bound => Some(met(bound_op(bound)?, self.threshold?)),
        }
    }
}

/// Whether a lower end guarantees another: as high, or as high and strict where the other is.
#[inline]
fn low_implies((ta, sa): (&Value, bool), (tb, sb): (&Value, bool)) -> bool {
    match ta.partial_cmp_value(tb) {
        Some(std::cmp::Ordering::Greater) => true,
        Some(std::cmp::Ordering::Equal) => sa || !sb,
        _ => false,
    }
}

/// Whether an upper end guarantees another.
#[inline]
fn high_implies((ta, sa): (&Value, bool), (tb, sb): (&Value, bool)) -> bool {
    match ta.partial_cmp_value(tb) {
        Some(std::cmp::Ordering::Less) => true,
        Some(std::cmp::Ordering::Equal) => sa || !sb,
        _ => false,
    }
}

/// The bound a requirement's window is held over: the weaker one it was merged with, else its
/// own.
fn window_bound(r: &Req) -> Limit<'_> {
    match &r.held_over {
        Some((bound, threshold, ceiling)) => Limit {
            bound: *bound,
            threshold: Some(threshold),
            ceiling: ceiling.as_ref(),
        },
        None => Limit::of(r),
    }
}

/// Whether `a`'s window guarantees `b`'s (given that `a`'s bound guarantees `b`'s): at least as
/// long, over a bound that guarantees the one `b`'s is held over.
fn windows_imply(a: &Req, b: &Req) -> bool {
    if b.sustained == 0 {
        return true;
    }
    if a.sustained < b.sustained {
        return false;
    }
    if a.held_over.is_none() && b.held_over.is_none() {
        return true;
    }
    bound_implies(window_bound(a), window_bound(b))
}

/// Whether `a`'s bound and threshold guarantee `b`'s, whatever their windows and baselines.
#[inline]
fn bounds_imply(a: &Req, b: &Req) -> bool {
    bound_implies(Limit::of(a), Limit::of(b))
}

/// Whether a bound and its thresholds guarantee another.
#[inline]
fn bound_implies(a: Limit, b: Limit) -> bool {
    let (a_threshold, b_threshold) = (a.threshold, b.threshold);
    match (&a.bound, &b.bound, a_threshold, b_threshold) {
        // The common bounds first: implication is the search's innermost test.
        (Bound::Upper { strict: sa }, Bound::Upper { strict: sb }, Some(ta), Some(tb)) => {
            high_implies((ta, *sa), (tb, *sb))
        }
        (Bound::Lower { strict: sa }, Bound::Lower { strict: sb }, Some(ta), Some(tb)) => {
            low_implies((ta, *sa), (tb, *sb))
        }
        // A boolean that is not one value is the other.
        (Bound::NotEqual, Bound::Exactly, Some(Value::Boolean(ta)), Some(Value::Boolean(tb))) => ta != tb,
        // A one-sided bound rules out every value on its far side of the threshold.
        (Bound::Upper { strict }, Bound::NotEqual, Some(ta), Some(tb)) => ta
            .partial_cmp_value(tb)
            .is_some_and(|o| o.is_lt() || (*strict && o.is_eq())),
        (Bound::Lower { strict }, Bound::NotEqual, Some(ta), Some(tb)) => ta
            .partial_cmp_value(tb)
            .is_some_and(|o| o.is_gt() || (*strict && o.is_eq())),
        (_, Bound::Present, _, _) => true,
        // A range guarantees what each of its ends does, and is guaranteed by a range (or one
        // value) inside it; a one-sided bound never guarantees a range.
        (_, Bound::Between { .. }, _, _) => match (a.low(), a.high(), b.low(), b.high()) {
            (Some(al), Some(ah), Some(bl), Some(bh)) => low_implies(al, bl) && high_implies(ah, bh),
            _ => false,
        },
        (Bound::Between { .. }, Bound::Upper { .. }, _, _) => match (a.high(), b.high()) {
            (Some(ah), Some(bh)) => high_implies(ah, bh),
            _ => false,
        },
        (Bound::Between { .. }, Bound::Lower { .. }, _, _) => match (a.low(), b.low()) {
            (Some(al), Some(bl)) => low_implies(al, bl),
            _ => false,
        },
        // A range rules out every value beyond either end.
        (Bound::Between { .. }, Bound::NotEqual, _, Some(tb)) => match (a.low(), a.high()) {
            (Some((low, ls)), Some((high, hs))) => {
                let below = low
                    .partial_cmp_value(tb)
                    .is_some_and(|o| o.is_gt() || (ls && o.is_eq()));
                let above = high
                    .partial_cmp_value(tb)
                    .is_some_and(|o| o.is_lt() || (hs && o.is_eq()));
                below || above
            }
            _ => false,
        },
        (Bound::Between { .. }, _, _, _) => false,
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
            // Decided above, with the range's ceiling.
            Bound::Between { .. } => false,
        },
        _ => (a.bound, a_threshold) == (b.bound, b_threshold),
    }
}

/// `stricter` (whose bound guarantees `weaker`'s) with `weaker`'s longer window. Without a
/// window of its own, the window is held over `weaker`'s bound, whose run the evidence may
/// already have begun: `x > 9` now and `x > 0` held for 30 days, with `x` at 5 for the last
/// 20 days, are met 10 days after 9.1 is recorded, not 30. With windows on both it is held over
/// the stricter bound, which asks for both (and may be met later than they are).
fn lengthened(stricter: &Req, weaker: &Req) -> Req {
    // The weaker's window bound stands for both windows when the stricter has none, or when it
    // guarantees the bound the stricter's window is held over (held for the longer window, it
    // holds for the shorter); else the window is held over the stricter bound itself.
    let over = window_bound(weaker);
    let stands = stricter.sustained == 0 || bound_implies(over, window_bound(stricter));
    // Over a bound the stricter's own guarantees and is guaranteed by, it is the same window.
    let same = bound_implies(over, Limit::of(stricter));
    let held_over = match over.threshold {
        Some(threshold) if stands && !same => Some((over.bound, threshold.clone(), over.ceiling.cloned())),
        _ => None,
    };
    Req {
        sustained: stricter.sustained.max(weaker.sustained),
        held_over,
        ..stricter.clone()
    }
}

/// Which requirement meets both of two on one key, if either does: `a` or `b` as they are, or
/// with the longer of their sustained windows. Baselines are set aside (a merged requirement
/// carries `a`'s baseline, else `b`'s: a trend's baseline is recorded before its value).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pick {
    A,
    B,
    ALonger,
    BLonger,
    /// A one-sided bound and a value it must avoid inside its range: the bound made strict at
    /// that value ([`narrowed`]).
    Narrowed,
}

fn merge_pick(a: &Req, b: &Req) -> Option<Pick> {
    let (ab, ba) = (bounds_imply(a, b), bounds_imply(b, a));
    match () {
        () if ab && windows_imply(a, b) => Some(Pick::A),
        () if ba && windows_imply(b, a) => Some(Pick::B),
        // The same kind of bound with different sustained windows: the stricter bound, the
        // longer window.
        () if ab && carries_window(a, b) => Some(Pick::ALonger),
        () if ba && carries_window(b, a) => Some(Pick::BLonger),
        () if narrowed(a, b).is_some() => Some(Pick::Narrowed),
        () => None,
    }
}

/// Whether `a`, which implies `b`'s bound, may take on `b`'s longer window. Not when `b` is a
/// value to avoid and `a` a bound with a window of its own: held for the window, the bound
/// would ask far more than the two do (`x > 12` and `x != 10` held for 90 days is met today by
/// 12.1 when nothing recorded was 10, but `x > 12` held for 90 days is not met for 90 days), so
/// the two are not merged. Without a window of its own, `a` holds `b`'s window over `b`'s bound
/// ([`lengthened`]: `> 12, and != 10 held for 90 days`), which is exactly the two.
fn carries_window(a: &Req, b: &Req) -> bool {
    a.sustained == 0
        || !(matches!(a.bound, Bound::Upper { .. } | Bound::Lower { .. })
            && matches!(b.bound, Bound::NotEqual))
}

/// One requirement meeting a one-sided bound and a value to avoid inside its range, with the
/// longer of their windows and no baseline; or two interval bounds as one ([`intersection`]).
///
/// No single bound says "at least 5 but not 7", so without this the two cannot be merged and a
/// target needing both is offered nothing, though a value meets it. Where the avoided value is
/// the threshold itself (`x <= 9`, `x != 9`) the bound made strict is exactly the two together.
/// Inside the range, a number must lie between the threshold and the avoided value (`x >= 5`
/// and `x != 7`: `>= 5 and < 7`; `x < 0.1` and `x != 0` on a share: `> 0 and < 0.1`), which asks
/// a little more than the two do but keeps the values nearest the threshold, where the value
/// the bound alone offers is (and for a trend "no worse" the value it holds now, so a window
/// already held goes on); where the key allows no number there (`x < 9` and `x != 8` on a
/// whole-number key), beyond the avoided value (`< 8`). A level becomes exactly the threshold
/// (`>= mid` and `!= high`: `== mid`).
fn narrowed(a: &Req, b: &Req) -> Option<Req> {
    let interval_bound = |b: Bound| {
        matches!(
            b,
            Bound::Upper { .. } | Bound::Lower { .. } | Bound::Between { .. }
        )
    };
    if interval_bound(a.bound) && interval_bound(b.bound) {
        return intersection(a, b);
    }
    // The windows of both, and the bounds they are held over, are given by `hold`.
    let (one_sided, avoid) = match (a.bound, b.bound) {
        (Bound::Between { .. }, Bound::NotEqual) => return range_avoiding(a, b),
        (Bound::NotEqual, Bound::Between { .. }) => return range_avoiding(b, a),
        (Bound::Upper { .. } | Bound::Lower { .. }, Bound::NotEqual) => (a, b),
        (Bound::NotEqual, Bound::Upper { .. } | Bound::Lower { .. }) => (b, a),
        _ => return None,
    };
    let (t, e) = (one_sided.threshold.as_ref()?, avoid.threshold.as_ref()?);
    let order = e.partial_cmp_value(t)?;
    let (upper, strict) = match one_sided.bound {
        Bound::Upper { strict } => (true, strict),
        Bound::Lower { strict } => (false, strict),
        _ => return None,
    };
    let inside = if upper { order.is_lt() } else { order.is_gt() };
    let within = shorter(a.within, b.within);
    let domain = one_sided.domain;
    let beyond = || {
        if upper {
            Bound::Upper { strict: true }
        } else {
            Bound::Lower { strict: true }
        }
    };
    let (bound, threshold) = match (t, e) {
        // Inside the range, numbers keep the part between the threshold and the value to
        // avoid: the values nearest the threshold, where the value the bound alone offers is;
        // where the key allows none there, the part beyond the value to avoid.
        (Value::Number(_), Value::Number(en)) if inside => {
            let (threshold_end, avoid_end) = ((t, strict), (e, true));
            let (low, high) = if upper {
                (avoid_end, threshold_end)
            } else {
                (threshold_end, avoid_end)
            };
            if let Some(req) = interval(low, high, 0, within, domain) {
                return Some(hold(a, b, req));
            }
            let far = if upper {
                ((f64::NEG_INFINITY, true), (*en, true))
            } else {
                ((*en, true), (f64::INFINITY, true))
            };
            if !allows(far.0, far.1, &domain) {
                return None;
            }
            (beyond(), e)
        }
        _ if order.is_eq() => (beyond(), e),
        _ if inside && !strict => (Bound::Exactly, t),
        _ => return None,
    };
    let req = Req {
        bound,
        threshold: Some(threshold.clone()),
        sustained: 0,
        within,
        baseline: None,
        held_over: None,
        ceiling: None,
        domain,
    };
    Some(hold(a, b, req))
}

/// The merge as first written, on the requirements themselves: the lazy search's
/// [`Table::merge`] must agree with it, and [`Choice::Kept`] merges with it.
fn merge(a: &Req, b: &Req) -> Option<Req> {
    let baseline = a.baseline.clone().or_else(|| b.baseline.clone());
    let strip = |r: &Req| Req {
        baseline: None,
        ..r.clone()
    };
    let mut merged = merge_bounds(&strip(a), &strip(b))?;
    merged.baseline = baseline;
    Some(merged)
}

fn merge_bounds(a: &Req, b: &Req) -> Option<Req> {
    if implies(a, b) {
        return Some(a.clone());
    }
    if implies(b, a) {
        return Some(b.clone());
    }
    if bounds_imply(a, b) && carries_window(a, b) {
        return Some(lengthened(a, b));
    }
    if bounds_imply(b, a) && carries_window(b, a) {
        return Some(lengthened(b, a));
    }
    narrowed(a, b)
}

/// Every way of meeting both lists: one set from each, merged; infeasible merges dropped; then
/// minimised as [`minimise`] would.
///
/// The pairs are sized and checked for feasibility first, without building them, and only
/// built in [`minimise`]'s order until it has kept `MAX_SETS`: two lists of 64 make 4,096
/// pairs, of which the first few hundred decide the answer, and building every merged set was
/// most of `needs --target exit`. The order is exactly the one `minimise` would see (a stable
/// sort by size of the pairs in row order), so the sets kept are the same.
fn cross(table: &mut Table, a: &[Fix], b: &[Fix]) -> Vec<Fix> {
    let mut pairs: Vec<(usize, &Fix, &Fix)> = Vec::new();
    for x in a {
        'next: for y in b {
            let mut len = x.len();
            let mut theirs = x.items.iter().peekable();
            for &(slot, req) in &y.items {
                while theirs.next_if(|&&(other, _)| other < slot).is_some() {}
                match theirs.next_if(|&&(other, _)| other == slot) {
                    Some(&(_, existing)) => {
                        let feasible = match (table.req(existing), table.req(req)) {
                            (Some(e), Some(r)) => merge_pick(e, r).is_some(),
                            _ => false,
                        };
                        if !feasible {
                            continue 'next;
                        }
                    }
                    None => len += 1,
                }
            }
            pairs.push((len, x, y));
        }
    }
    pairs.sort_by_key(|&(len, _, _)| len);
    let mut kept = Kept::default();
    for (len, x, y) in pairs {
        let mut items = Vec::with_capacity(len);
        let mut theirs = y.items.iter().peekable();
        for &(slot, req) in &x.items {
            while let Some(&pair) = theirs.next_if(|&&(other, _)| other < slot) {
                items.push(pair);
            }
            match theirs.next_if(|&&(other, _)| other == slot) {
                // INVARIANT: checked feasible above, so the merge is there.
                Some(&(_, other)) => items.push((slot, table.merge(req, other).unwrap_or(req))),
                None => items.push((slot, req)),
            }
        }
        items.extend(theirs);
        kept.admit(table, Fix::from_items(items));
        if kept.sets.len() >= MAX_SETS {
            break;
        }
    }
    kept.sets
}

/// Drops sets implied by a smaller (or equal, earlier) set, keeps the smallest `MAX_SETS`.
fn minimise(table: &Table, mut sets: Vec<Fix>) -> Vec<Fix> {
    sets.sort_by_key(Fix::len);
    let mut kept = Kept::default();
    for s in sets {
        kept.admit(table, s);
        if kept.sets.len() >= MAX_SETS {
            break;
        }
    }
    kept.sets
}

/// The sets kept so far. A kept set can only make a candidate redundant if every slot it asks
/// about is in the candidate too, so a set whose slot bits are not all in the candidate's is
/// passed over without looking at it.
#[derive(Default)]
struct Kept {
    sets: Vec<Fix>,
}

impl Kept {
    /// Keeps `s` unless a set kept already asks for no more than it does (so it adds nothing).
    fn admit(&mut self, table: &Table, s: Fix) {
        let dominated = self
            .sets
            .iter()
            .any(|k| k.bits_within(&s) && asks_no_more(table, k, &s));
        if !dominated {
            self.sets.push(s);
        }
    }
}

/// Whether `k` asks for no more than `s`: every slot of `k` is in `s` with a requirement that
/// implies `k`'s. Both lists are walked in slot order, not searched.
fn asks_no_more(table: &Table, k: &Fix, s: &Fix) -> bool {
    let mut theirs = s.items.iter().peekable();
    k.items.iter().all(|&(slot, req)| {
        while theirs.next_if(|&&(other, _)| other < slot).is_some() {}
        theirs
            .next_if(|&&(other, _)| other == slot)
            // A requirement implies itself (its threshold is a finite value).
            .is_some_and(|&(_, r)| r == req || table.implies(r, req))
    })
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
    // Outcomes are all a target reads: neither reasons nor bases.
    let unexplained;
    let options = if options.explain {
        unexplained = Options {
            explain: false,
            ..options.clone()
        };
        &unexplained
    } else {
        options
    };
    let assessment = crate::assess::assess_with(pack, evidence, options, false);
    match target {
        Target::Rule { rule, function } => {
            // Met for a test; the best level for a graded rule.
            let wanted = match pack.rule(rule).map(|r| &r.body) {
                Some(Body::Graded { levels, .. }) => {
                    levels.first().map(|l| l.name.clone()).unwrap_or_default()
                }
                _ => "met".to_string(),
            };
            let wanted = crate::assess::Verdict::from_code(&wanted);
            assessment.results.iter().any(|r| {
                &r.rule == rule && (r.function.is_none() || &r.function == function) && r.outcome == wanted
            })
        }
        Target::Function { function } => {
            let plan = crate::plan::plan(pack, &assessment, directions);
            plan.functions.iter().any(|f| {
                &f.id == function
                    && matches!(
                        f.step,
                        crate::plan::Step::Now
                            | crate::plan::Step::AwaitingDecision
                            | crate::plan::Step::Returned
                    )
            })
        }
        Target::Exit { outcome: None } => crate::plan::plan(pack, &assessment, directions).exit.possible,
        Target::Exit { outcome: Some(id) } => {
            let exit = crate::plan::plan(pack, &assessment, directions).exit;
            if exit.outcomes.is_empty() {
                // One way out: the target is it, if the id names it.
                exit.possible && pack.exit_outcomes().first().is_some_and(|o| &o.id == id)
            } else {
                exit.outcomes.iter().any(|o| &o.id == id && o.reached)
            }
        }
    }
}

impl ChangeSet {
    /// The set as scenario changes, dated at `date` (its earliest day for sustained windows is
    /// reached by evaluating `sustained_days` after it).
    pub fn as_changes(&self, date: NaiveDate) -> Vec<crate::whatif::Change> {
        let mut changes = Vec::new();
        for r in &self.changes {
            r.push_changes(date, &mut changes);
        }
        changes
    }
}

impl Requirement {
    /// The requirement as scenario changes, dated at `date`: its baseline first, if it has one.
    fn push_changes(&self, date: NaiveDate, changes: &mut Vec<crate::whatif::Change>) {
        if let Some(b) = &self.baseline {
            changes.push(crate::whatif::Change::Set {
                key: self.key.clone(),
                function: self.function.clone(),
                value: serde_json::to_value(&b.value).unwrap_or_default(),
                date: Some(b.date),
            });
        }
        changes.push(crate::whatif::Change::Set {
            key: self.key.clone(),
            function: self.function.clone(),
            value: serde_json::to_value(&self.value).unwrap_or_default(),
            date: Some(date),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn source(path: &std::path::Path, name: String) -> crate::SourceFile {
        crate::SourceFile {
            label: path.display().to_string(),
            text: std::fs::read_to_string(path).expect("the fixture reads"),
            name,
        }
    }

    /// A pack folder's files, named as the loader expects (`pack.json`, `rules/….json`).
    fn pack_folder(dir: &std::path::Path) -> Pack {
        let mut files = Vec::new();
        for sub in ["", "rules"] {
            let mut entries: Vec<_> = std::fs::read_dir(dir.join(sub))
                .expect("the pack lists")
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            entries.sort();
            for path in entries {
                let name = path.strip_prefix(dir).expect("inside").display().to_string();
                files.push(source(&path, name));
            }
        }
        Pack::load(&files).expect("the pack loads")
    }

    /// Checking a set over the overlay (outcomes only, the plan's steps and exit sketched from
    /// them) answers as the full check does (the changes applied to a copy of the evidence,
    /// assessed and planned): on the shipped records of the embedded pack and of a pack with two
    /// exit outcomes, with and without Directions, for the exit (and each outcome), every
    /// function and some rules, over the sets `needs` finds and each of them with a change left
    /// out (which often fails); and `needs` answers as it does with every option checked in
    /// full.
    #[test]
    fn overlaid_checks_agree_with_the_full_check() {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"));
        let rotherham = crate::default_pack().expect("the embedded pack loads");
        let northmoor = pack_folder(&root.join("packs/northmoor-children"));
        let cases = [
            (
                &rotherham,
                vec![
                    "rotherham/2016-02-first-tranche.json",
                    "rotherham/2016-08-progress-letter.json",
                    "rotherham/2018-02-children-recommended.json",
                    "rotherham/2018-03-exit-recommended.json",
                ],
                "rotherham/directions.json",
            ),
            (
                &northmoor,
                vec![
                    "packs/northmoor-children/tests/evidence/2022-09.json",
                    "packs/northmoor-children/tests/evidence/2023-06.json",
                ],
                "packs/northmoor-children/tests/directions/2021.json",
            ),
        ];
        let (mut overlaid, mut met, mut unmet) = (0, 0, 0);
        for (pack, records, directions) in cases {
            let path = root.join(directions);
            let directions =
                Directions::load(pack, &source(&path, directions.into())).expect("directions load");
            let mut targets = vec![Target::Exit { outcome: None }];
            targets.extend(pack.exit_outcomes().iter().map(|o| Target::Exit {
                outcome: Some(o.id.clone()),
            }));
            targets.extend(pack.functions().iter().map(|f| Target::Function {
                function: f.id.clone(),
            }));
            targets.extend(pack.rules().iter().step_by(7).map(|r| {
                Target::Rule {
                    rule: r.id.clone(),
                    function: r
                        .per_function
                        .then(|| pack.functions().first().map(|f| f.id.clone()))
                        .flatten(),
                }
            }));
            for record in records {
                let path = root.join(record);
                let evidence = Evidence::load(pack, &source(&path, record.into())).expect("the record loads");
                let options = Options::new(evidence.as_of().expect("an as-of date"));
                for directions in [None, Some(&directions)] {
                    for target in &targets {
                        let found = needs(pack, &evidence, &options, directions, target);
                        let in_full = needs_checked(pack, &evidence, &options, directions, target, false);
                        assert_eq!(
                            found,
                            in_full,
                            "{record}, {target:?}, Directions: {}",
                            directions.is_some()
                        );
                        let indexed = crate::program::Indexed::new(pack, &evidence);
                        let mut checker =
                            Checker::new(pack, &evidence, &indexed, &options, directions, target);
                        let mut sets: Vec<ChangeSet> = Vec::new();
                        for set in found.sets.iter().take(3) {
                            sets.push(set.clone());
                            for left_out in 0..set.changes.len().min(3) {
                                let mut short = set.clone();
                                short.changes.remove(left_out);
                                sets.push(short);
                            }
                        }
                        // Nothing changed, too: met or not, as the evidence stands.
                        sets.push(ChangeSet {
                            changes: Vec::new(),
                            distance: 0.0,
                            earliest: options.as_of,
                        });
                        for set in &sets {
                            let changes = set.as_changes(options.as_of);
                            let full = set_meets(
                                pack,
                                &evidence,
                                &options,
                                directions,
                                target,
                                changes.clone(),
                                set.earliest,
                            );
                            if let Some(quick) = checker.overlaid(set.earliest, &changes) {
                                assert_eq!(
                                    quick,
                                    full,
                                    "{record}, {target:?}, Directions: {}, {set:?}",
                                    directions.is_some()
                                );
                                overlaid += 1;
                                if quick {
                                    met += 1;
                                } else {
                                    unmet += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        // The overlay stood for most sets, and both answers were given often.
        assert!(
            overlaid > 400 && met > 100 && unmet > 100,
            "{overlaid} overlaid: {met} met, {unmet} not"
        );
    }

    /// A set as a map of its slots to their requirements: the form the search was first written
    /// over, and the form the oracles below work on.
    type Plain = BTreeMap<Slot, Req>;

    fn numbered(table: &mut Table, plain: &Plain) -> Fix {
        let mut items: Vec<(u32, u32)> = plain
            .iter()
            .flat_map(|(slot, req)| table.single(slot.clone(), req.clone()).items)
            .collect();
        items.sort_unstable();
        Fix::from_items(items)
    }

    fn plain(table: &Table, fix: &Fix) -> Plain {
        (table.resolve(fix).into_iter())
            .map(|(slot, req)| (slot.clone(), req.clone()))
            .collect()
    }

    /// The cross product as it was first written: every pair merged, then minimised. The lazy
    /// `cross` must keep exactly the same sets in the same order.
    fn cross_naive(a: &[Plain], b: &[Plain]) -> Vec<Plain> {
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
        minimise_naive(out)
    }

    /// Minimising as first written: every kept set's slots looked up in the candidate, with no
    /// summary to pass over it and no walk in order. `Kept` must keep the same sets.
    fn minimise_naive(mut sets: Vec<Plain>) -> Vec<Plain> {
        sets.sort_by_key(BTreeMap::len);
        let mut kept: Vec<Plain> = Vec::new();
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

    fn req() -> impl Strategy<Value = Req> {
        let baseline = proptest::option::weighted(
            0.2,
            (0..2i64, 0..3u8).prop_map(|(day, v)| {
                let date =
                    NaiveDate::from_ymd_opt(2017, 1, 1).unwrap_or_default() + chrono::Days::new(day as u64);
                (date, Value::Number(f64::from(v)))
            }),
        );
        // Some windows held over a weaker bound, as merges make them.
        // And ranges, as merges make them (never held over a weaker bound).
        (0..6u8, 0..6u8, 0..3u32, baseline, 0..3u8).prop_map(|(bound, t, sustained, baseline, weaker)| {
            let bound = match bound {
                0 => Bound::Upper { strict: false },
                1 => Bound::Upper { strict: true },
                2 => Bound::Lower { strict: false },
                3 => Bound::Lower { strict: true },
                4 => Bound::Between {
                    low_strict: weaker == 1,
                    high_strict: weaker == 2,
                },
                _ => Bound::Exactly,
            };
            let t = f64::from(t) * 10.0;
            let by = f64::from(weaker) * 10.0;
            // Ranges held over a wider range, as merges make them.
            let held_over = match bound {
                _ if weaker == 0 || sustained == 0 => None,
                Bound::Between { .. } => Some((
                    Bound::Between {
                        low_strict: false,
                        high_strict: false,
                    },
                    Value::Number(t - by),
                    Some(Value::Number(t + 10.0 + 2.0 * by)),
                )),
                Bound::Upper { .. } => Some((Bound::Upper { strict: false }, Value::Number(t + by), None)),
                _ => Some((Bound::Lower { strict: false }, Value::Number(t - by), None)),
            };
            Req {
                bound,
                threshold: Some(Value::Number(t)),
                sustained: sustained * 30,
                within: None,
                baseline,
                held_over,
                ceiling: matches!(bound, Bound::Between { .. }).then(|| Value::Number(t + 10.0 + by)),
                domain: crate::vocabulary::Range::default(),
            }
        })
    }

    fn fixes() -> impl Strategy<Value = Vec<Plain>> {
        let slot = (
            0..4usize,
            proptest::option::of(prop_oneof![Just("a".to_string()), Just("b".to_string())]),
        );
        prop::collection::vec(prop::collection::btree_map(slot, req(), 0..4), 0..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn lazy_cross_keeps_what_building_every_pair_kept(a in fixes(), b in fixes()) {
            // Slots are numbered as first met, which is not their order as keys.
            let mut table = Table::default();
            let (na, nb): (Vec<Fix>, Vec<Fix>) = (
                a.iter().map(|p| numbered(&mut table, p)).collect(),
                b.iter().map(|p| numbered(&mut table, p)).collect(),
            );
            let crossed = cross(&mut table, &na, &nb);
            let got: Vec<Plain> = crossed.iter().map(|f| plain(&table, f)).collect();
            prop_assert_eq!(got, cross_naive(&a, &b));
        }

        #[test]
        fn kept_sets_are_those_the_plain_search_keeps(a in fixes(), b in fixes()) {
            let all: Vec<Plain> = a.into_iter().chain(b).collect();
            let mut table = Table::default();
            let numbered: Vec<Fix> = all.iter().map(|p| numbered(&mut table, p)).collect();
            let got: Vec<Plain> = minimise(&table, numbered).iter().map(|f| plain(&table, f)).collect();
            prop_assert_eq!(got, minimise_naive(all));
        }
    }
}
