//! The compiled form of a pack's rules, built once when the pack loads.
//!
//! The rules as loaded are trees of boxed conditions whose leaves name keys, functions and
//! parameters; walking them for every rule and every function is most of what an assessment
//! costs. Loading also compiles them into a [`Program`]:
//!
//! - every condition tree is flattened into one contiguous run of stack instructions, with
//!   `all`/`any` short-circuiting by jumps, so evaluation is a loop over a slice;
//! - every leaf is a row of one table, with the series it reads resolved to a slot (council-wide,
//!   a pinned function, or the subject's) instead of a function name to look up;
//! - a leaf that does not depend on the subject (a council-wide key read by a per-function rule,
//!   or a pinned function) is evaluated once per assessment and remembered, not once per
//!   function;
//! - the plain latest-value comparisons (`compare`, `present`), most leaves in practice, are
//!   decided inline; the others go to the interpreter's leaf, the one definition of their
//!   meaning;
//! - the values in force on a day asked about again and again (the first as-of date an
//!   [`Indexed`] is asked about twice in a row, a [`WhatIf`]'s) are gathered once into one
//!   cell per series the latest-value leaves read ([`InForce`]), so such a leaf is decided
//!   from one cell by a flat row ([`Quick`]): what the other engines are given as input (one
//!   value per key), built from dated evidence;
//! - outcomes go into one flat buffer ([`Outcomes`]) that a caller can keep and reuse, so a
//!   warm bulk assessment of latest-value comparisons allocates nothing (the other leaf tests,
//!   decided by the interpreter's leaf, and parameter overrides still allocate a little).
//!
//! Explained assessments still walk the trees (a reason needs the tree's shape); their outcomes
//! come from here. `properties.rs` holds the program to the tree interpreter and to the
//! reference evaluator on random packs.

use std::borrow::Cow;

use crate::assess::{at_least, compare, grade, Engine, Options, Outcome, Truth};
use crate::evidence::Evidence;
use crate::pack::Pack;
use crate::rules::{Amount, Body, Condition, Leaf, LeafTest, Op, Threshold};
use crate::vocabulary::{Key, Scope, Value};

pub(crate) mod generate;

/// A value as one number of a kind, so the common comparisons are one float comparison; kind 0
/// (text) is compared as a [`Value`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scalar {
    kind: u8,
    x: f64,
}

impl Scalar {
    fn of(v: &Value) -> Scalar {
        let (kind, x) = match v {
            Value::Boolean(b) => (1, f64::from(u8::from(*b))),
            Value::Number(n) => (2, *n),
            // Ranks and day numbers are far below 2^53: exact as floats.
            Value::Grade { rank, .. } => (3, *rank as f64),
            Value::Date(d) => (4, f64::from(chrono::Datelike::num_days_from_ce(d))),
            Value::Text(_) => (0, 0.0),
        };
        Scalar { kind, x }
    }
}

/// Evidence indexed for evaluation: each series as a range of the (sorted) observations, and
/// the observations' days and values as columns, so reading the latest visible value touches
/// two small arrays rather than whole observations.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// At `key * slots + slot`, where slot 0 is the council-wide series and slot `f + 1`
    /// function `f`'s.
    pub(crate) series: Vec<(u32, u32)>,
    days: Vec<i32>,
    values: Vec<Scalar>,
}

impl Index {
    pub(crate) fn new(pack: &Pack, observations: &[crate::evidence::Observation]) -> Index {
        Index {
            series: crate::assess::index_series(pack, observations),
            days: observations
                .iter()
                .map(|o| chrono::Datelike::num_days_from_ce(&o.date))
                .collect(),
            values: observations.iter().map(|o| Scalar::of(&o.value)).collect(),
        }
    }
}

/// The latest observation of one series visible on a day, as a latest-value leaf reads it: its
/// day and value, copied out of the columns so that a leaf reads one small cell rather than
/// following the series' range into them; kind 255 (and no day) when nothing is visible.
///
/// Code written by `handback::bulk::generate_rust` reads these cells as
/// `handback::bulk::generated::Cell`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// The value as a number of its kind: a boolean as 0 or 1, a grade as its rank, a date as
    /// its day number.
    pub x: f64,
    /// The day it describes, as a day number from the common era.
    pub day: i32,
    /// The value's kind: 0 text, 1 boolean, 2 number, 3 grade, 4 date; 255: nothing in force.
    pub kind: u8,
}

const UNSEEN: u8 = u8::MAX;

impl Seen {
    const NONE: Seen = Seen {
        x: 0.0,
        day: i32::MIN,
        kind: UNSEEN,
    };
}

/// The values in force on one day: for each series a quick leaf reads (a [`Program`]'s
/// `cells`), what a latest-value leaf would find on that day. Built once for a day that is
/// asked about again and again (an [`Indexed`]'s first date, a [`WhatIf`]'s), so that deciding
/// a leaf is one read of a cell rather than a search of its series; as small as what the rules
/// read (the seven tests: 28 cells), not the index's keys × slots.
#[derive(Debug, Clone, Default)]
pub(crate) struct InForce {
    day: i32,
    /// The day as a date, when kept by an [`Indexed`] (which is asked by date).
    date: Option<chrono::NaiveDate>,
    seen: Vec<Seen>,
}

impl Index {
    /// The last observation of series `at` visible on day `as_of`. Most series end before it,
    /// so the last day is tried before searching.
    #[inline]
    fn visible(&self, at: usize, as_of: i32) -> Option<usize> {
        let &(start, end) = self.series.get(at)?;
        let (start, end) = (start as usize, end as usize);
        let days = self.days.get(start..end)?;
        let e = match days.last() {
            Some(&last) if last <= as_of => end,
            Some(_) => start + days.partition_point(|&d| d <= as_of),
            None => return None,
        };
        (e > start).then(|| e - 1)
    }

    /// What series `at` holds in force on day `as_of`.
    fn seen(&self, at: usize, as_of: i32) -> Seen {
        self.visible(at, as_of).map_or(Seen::NONE, |i| self.seen_at(i))
    }

    /// Observation `i` of the columns as a [`Seen`].
    #[inline]
    fn seen_at(&self, i: usize) -> Seen {
        match (self.days.get(i), self.values.get(i)) {
            (Some(&day), Some(v)) => Seen {
                x: v.x,
                day,
                kind: v.kind,
            },
            _ => Seen::NONE,
        }
    }

    /// The values in force on day `as_of` of the series `cells` (a [`Program`]'s).
    fn in_force(&self, cells: &[u32], as_of: i32) -> InForce {
        InForce {
            day: as_of,
            date: None,
            seen: cells.iter().map(|&at| self.seen(at as usize, as_of)).collect(),
        }
    }
}

/// An entry [`Index::set`] placed in a series it rebuilt.
#[derive(Debug, Clone, Copy)]
enum Placed {
    /// The entry at this place in the columns, kept.
    Original(usize),
    /// The new entry at this place in the list given.
    New(usize),
}

impl Index {
    /// Puts observations into series `at` (`key * slots + slot`): `new`, sorted by day with one
    /// per day, in place of any the series has on those days, as a scenario's observations
    /// supersede them. The series is copied once to the end of the columns with the new entries
    /// merged in date order, so the columns grow past the evidence's observations. Each entry
    /// placed is told to `placed`, in order: an original (its place in the columns) or a new
    /// one (its place in `new`), so that a caller whose leaves read observations rather than the
    /// columns can place the same observations beside them.
    fn set(&mut self, at: usize, new: &[(i32, Scalar)], mut placed: impl FnMut(Placed)) -> Option<()> {
        let &(start, end) = self.series.get(at)?;
        let (start, end) = (start as usize, end as usize);
        let from = u32::try_from(self.days.len()).ok()?;
        let mut new = new.iter().enumerate().peekable();
        // The day of the last new entry placed: the series' own entries of that day (there may
        // be several, recorded on different days) are superseded.
        let mut superseding = None;
        for j in start..end {
            let (d, v) = (*self.days.get(j)?, *self.values.get(j)?);
            while let Some(&(i, &(day, value))) = new.peek() {
                if day > d {
                    break;
                }
                self.days.push(day);
                self.values.push(value);
                placed(Placed::New(i));
                superseding = Some(day);
                new.next();
            }
            if superseding == Some(d) {
                continue;
            }
            self.days.push(d);
            self.values.push(v);
            placed(Placed::Original(j));
        }
        for (i, &(day, value)) in new {
            self.days.push(day);
            self.values.push(value);
            placed(Placed::New(i));
        }
        let to = u32::try_from(self.days.len()).ok()?;
        *self.series.get_mut(at)? = (from, to);
        Some(())
    }
}

/// One step of a flattened condition, over a stack of truth values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instr {
    /// Push the truth of leaf `i` of the leaf table.
    Leaf(u32),
    /// Push the truth of reference `i` of the reference table.
    Ref(u32),
    /// Push a constant (the identity of `all` or `any`).
    Push(Truth),
    /// Pop a value into the accumulator below it by `min`; when the accumulator is `not met`,
    /// jump to the instruction given (the end of the `all`).
    And(u32),
    /// Pop a value into the accumulator below it by `max`; when it is `met`, jump to the end.
    Or(u32),
    /// Leaves `from..to` (consecutive in the leaf table) folded into the accumulator one by
    /// one as `And` folds them, stopping at the first that settles it, when the rest of the
    /// `all` is skipped (`jump`): the commonest shape, an `all` of leaves, in one step.
    AndLeaves { from: u32, to: u32, jump: u32 },
    /// The same for an `any`.
    OrLeaves { from: u32, to: u32, jump: u32 },
    /// References `from..to` of the reference table, folded in as `AndLeaves` folds leaves.
    AndRefs { from: u32, to: u32, jump: u32 },
    /// The same for an `any`.
    OrRefs { from: u32, to: u32, jump: u32 },
    /// Pop `n` values and push whether at least `k` of them are met.
    AtLeast { k: u32, n: u32 },
    /// Negate the top of the stack.
    Not,
    /// Push the truth of shared block `i`: a subtree of a per-function rule that reads nothing
    /// of the subject, decided once per assessment.
    Shared(u32),
}

/// Which series slot a read resolves to: slot 0 is council-wide, `f + 1` function `f`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// The same slot whatever the subject (`None`: a pinned function the pack does not have).
    Fixed(Option<usize>),
    /// The subject's own function (slot 0 when the rule is council-wide).
    Subject,
}

impl Slot {
    fn of(keys: &[Key], functions: &[crate::functions::Function], key: usize, pinned: Option<&str>) -> Slot {
        let function_scoped = matches!(keys.get(key).map(|k| k.scope), Some(Scope::Function));
        if !function_scoped {
            Slot::Fixed(Some(0))
        } else if let Some(name) = pinned {
            Slot::Fixed(functions.iter().position(|f| f.id == name).map(|i| i + 1))
        } else {
            Slot::Subject
        }
    }
}

/// How a leaf is decided.
#[derive(Debug, Clone)]
enum LeafCode {
    /// The latest fresh value compared with a threshold, or `present`.
    Latest(Latest),
    /// Any other test, decided by the interpreter's leaf.
    General(Box<Leaf>),
}

/// A latest-value leaf in the form read for every evaluation: small and flat, so deciding it
/// is a handful of loads and comparisons.
#[derive(Debug, Clone)]
struct Latest {
    /// `key * slots`: where the key's series start in the index.
    base: usize,
    /// The slot read: a fixed one, [`SUBJECT`] (the subject's own: slot 0 in a council-wide
    /// rule) or [`MISSING`] (a pinned function the pack does not have: no series of its own).
    slot: u32,
    /// Whether an empty function series falls back to the council's.
    fallback: bool,
    /// The comparison's operator; `None`: `present`.
    op: Option<Op>,
    /// The key's maximum age, and the leaf's `within`.
    max_age: Limit,
    within: Limit,
    /// The threshold: a literal's scalar, or the parameter it names (`param`).
    want: Scalar,
    param: Option<usize>,
    /// The threshold as written, for comparing text (kind 0) as values.
    threshold: Option<Box<Threshold>>,
}

const SUBJECT: u32 = u32::MAX;
const MISSING: u32 = u32::MAX - 1;

/// An age limit in days: none, written in the pack, or a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    None,
    Days(u32),
    Param(usize),
}

impl Limit {
    fn of(a: Option<Amount>) -> Limit {
        match a {
            None => Limit::None,
            Some(Amount::Literal(n)) => Limit::Days(n),
            Some(Amount::Parameter(p)) => Limit::Param(p),
        }
    }
}

#[derive(Debug, Clone)]
struct LeafEntry {
    code: LeafCode,
    /// Whether the leaf reads the same series for every subject, so it is decided once.
    subject_free: bool,
    /// Whether its truth is remembered for the assessment: it is subject-free in a rule
    /// evaluated per function (elsewhere it is evaluated once anyway).
    memo: bool,
}

impl LeafEntry {
    fn memoised_if(mut self, per_function: bool) -> LeafEntry {
        self.memo = self.subject_free && per_function;
        self
    }
}

/// Which subject of a referenced rule a reference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefSubject {
    /// This one (council-wide rules have one; a pinned function's index).
    Fixed(usize),
    /// The referring rule's own subject.
    Own,
}

#[derive(Debug, Clone, Copy)]
struct RefEntry {
    rule: usize,
    subject: RefSubject,
    at_least: Option<usize>,
    /// Where the rule's outcomes are in the flat buffer, and how many it has (set once the
    /// rules are compiled).
    from: usize,
    subjects: usize,
}

/// A rule's code: a test's one condition, or a graded rule's levels.
#[derive(Debug, Clone)]
enum RuleCode {
    Test(Block),
    Graded(Vec<(usize, Option<Block>)>),
}

/// One condition's code, with the shapes most conditions have (one leaf; an `all` or `any` of
/// leaves, of references, of both, and of `all`s and `any`s nested in it) decided directly,
/// without the stack machine, which is left the rest (`at_least`, `not`, shared subtrees).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Leaf(u32),
    Leaves {
        all: bool,
        from: u32,
        to: u32,
    },
    Refs {
        all: bool,
        from: u32,
        to: u32,
    },
    /// An `all` or `any` of parts (`from..to` of the program's `parts`): runs of leaves, of
    /// references, and `all`/`any` nested in it (`all [any [a, b], c, d]`), decided without the
    /// stack machine. It would decide the one-run shapes too, but a loop over their single part
    /// cost a Rotherham assessment a tenth more (29,200 to 32,300 instructions), so they keep
    /// their own.
    Group {
        all: bool,
        from: u32,
        to: u32,
    },
    Code(std::ops::Range<u32>),
}

/// A part of a [`Block::Group`]: a run of leaves or of references (folded in turn), or a
/// group nested in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Leaves(u32, u32),
    Refs(u32, u32),
    Group { all: bool, from: u32, to: u32 },
}

/// How deep groups may nest and still be decided as a [`Block::Group`] (deeper code goes to
/// the stack machine): the evaluator recurses once per level.
const GROUP_DEPTH: usize = 8;

impl Block {
    /// The shape of the code at `range`; nested groups' parts are added to `parts`.
    fn of(code: &[Instr], range: std::ops::Range<u32>, parts: &mut Vec<Part>) -> Block {
        match code.get(range.start as usize..range.end as usize) {
            Some(&[Instr::Leaf(i)]) => Block::Leaf(i),
            Some(&[Instr::Push(Truth::Met), Instr::AndLeaves { from, to, .. }]) => {
                Block::Leaves { all: true, from, to }
            }
            Some(&[Instr::Push(Truth::NotMet), Instr::OrLeaves { from, to, .. }]) => {
                Block::Leaves { all: false, from, to }
            }
            Some(&[Instr::Push(Truth::Met), Instr::AndRefs { from, to, .. }]) => {
                Block::Refs { all: true, from, to }
            }
            Some(&[Instr::Push(Truth::NotMet), Instr::OrRefs { from, to, .. }]) => {
                Block::Refs { all: false, from, to }
            }
            _ => {
                let mark = parts.len();
                match group(code, range.start as usize, range.end as usize, parts, GROUP_DEPTH) {
                    Some((Part::Group { all, from, to }, end)) if end == range.end as usize => {
                        Block::Group { all, from, to }
                    }
                    _ => {
                        parts.truncate(mark);
                        Block::Code(range)
                    }
                }
            }
        }
    }
}

/// The group whose code starts at `pc` (its identity pushed, then its runs and nested groups,
/// each settling it by a jump to its end), if the code is that shape within `depth` levels and
/// ends by `limit`: the group as a [`Part`] (its parts added to `parts`, consecutive) and where
/// it ends.
fn group(
    code: &[Instr],
    pc: usize,
    limit: usize,
    parts: &mut Vec<Part>,
    depth: usize,
) -> Option<(Part, usize)> {
    let all = match code.get(pc)? {
        Instr::Push(Truth::Met) => true,
        Instr::Push(Truth::NotMet) => false,
        _ => return None,
    };
    let depth = depth.checked_sub(1)?;
    let mut own = Vec::new();
    let mut jumps = Vec::new();
    let mut pc = pc + 1;
    while pc < limit {
        // Each part with the jump that settles the group, and where the next part starts.
        let (part, jump, next) = match *code.get(pc)? {
            Instr::AndLeaves { from, to, jump } if all => (Part::Leaves(from, to), jump, pc + 1),
            Instr::OrLeaves { from, to, jump } if !all => (Part::Leaves(from, to), jump, pc + 1),
            Instr::AndRefs { from, to, jump } if all => (Part::Refs(from, to), jump, pc + 1),
            Instr::OrRefs { from, to, jump } if !all => (Part::Refs(from, to), jump, pc + 1),
            Instr::Push(_) => {
                // A nested group, then the step that folds it into this one.
                let (part, end) = group(code, pc, limit, parts, depth)?;
                match *code.get(end)? {
                    Instr::And(jump) if all => (part, jump, end + 1),
                    Instr::Or(jump) if !all => (part, jump, end + 1),
                    _ => return None,
                }
            }
            // This group's end: the step folding it into the one around it.
            Instr::And(_) | Instr::Or(_) => break,
            _ => return None,
        };
        own.push(part);
        jumps.push(jump);
        pc = next;
    }
    // Every part settles the group by jumping to its end, as the stack machine runs it.
    let end = u32::try_from(pc).ok()?;
    if jumps.iter().any(|&j| j != end) {
        return None;
    }
    let from = u32::try_from(parts.len()).ok()?;
    parts.extend(own);
    let to = u32::try_from(parts.len()).ok()?;
    Some((Part::Group { all, from, to }, pc))
}

/// A pack's rules compiled for evaluation; see the module's documentation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    code: Vec<Instr>,
    /// The parts of [`Block::Group`]s.
    parts: Vec<Part>,
    leaves: Vec<LeafEntry>,
    /// By leaf, the latest-value leaves in the form decided over the values in force
    /// (`Quick::SLOW` for the rest): small flat rows, so a run of them is read in sequence.
    quick: Vec<Quick>,
    /// The series the quick leaves read, ascending: the cells of the values in force; by key,
    /// where its cells start (and, after the last key, end), so a series' cell is found
    /// without searching them all.
    cells: Vec<u32>,
    key_cells: Vec<u32>,
    slots: usize,
    refs: Vec<RefEntry>,
    /// The code of each shared block.
    shared: Vec<std::ops::Range<u32>>,
    rules: Vec<RuleCode>,
    /// Where each rule's outcomes start in the flat buffer, plus the end.
    offsets: Vec<usize>,
    /// Rules in dependency order, and each rule's place in it.
    order: Vec<usize>,
    rank: Vec<u32>,
    per_function: Vec<bool>,
    /// What each rule reads, so a change re-evaluates only the rules it touches.
    reads: Reads,
    /// By key, the rules whose own conditions read it; by rule, the rules that refer to it:
    /// what a change touches is found from these (`dirty`) without walking every rule. Their
    /// size is the pack's own (every read and reference once), whatever its shape.
    readers: Vec<Vec<usize>>,
    referrers: Vec<Vec<usize>>,
    /// By parameter, the rules whose own conditions read it: an override touches those, as a
    /// change to a key touches its readers.
    param_readers: Vec<Vec<usize>>,
    /// Each parameter's default as an amount (days, a count) and as a scalar (a threshold),
    /// resolved as the engine resolves them: what an assessment without overrides reads.
    params: Vec<(u32, Scalar)>,
    /// Whether some leaf is memoised or some block shared: whether an assessment must empty
    /// the memos first.
    memos: bool,
    /// What generated code must have been written from to run over this program (see
    /// [`Program::fingerprint`]), worked out when first asked for.
    fingerprint: std::sync::OnceLock<u64>,
}

/// What one assessment reads, resolved once rather than per leaf: the engine, the index's
/// columns, the as-of day, and each parameter in force as an amount and as a scalar.
struct Ctx<'e, 'a> {
    engine: &'e Engine<'a>,
    index: &'e Index,
    as_of: i32,
    params: &'e [(u32, Scalar)],
    /// The values in force on the as-of day, when the caller keeps them for that day; else
    /// each leaf finds its own in the columns.
    seen: Option<&'e [Seen]>,
    /// Whether some parameter is overridden (`params` are then not the defaults).
    overridden: bool,
}

/// What the rules read, for re-evaluating only what a change to one series touches.
#[derive(Debug, Clone, Default)]
struct Reads {
    /// The keys each rule's own conditions read (sorted, without repeats).
    keys: Vec<Vec<usize>>,
    /// The rules each rule's conditions refer to.
    rules: Vec<Vec<usize>>,
    /// The parameters each rule's own conditions read (sorted, without repeats): its leaves'
    /// thresholds, windows, counts and limits, and the maximum age of each key they read.
    params: Vec<Vec<usize>>,
    /// By key: whether a leaf the interpreter decides (anything but a latest-value comparison)
    /// reads it. Those leaves read the evidence's observations, not the index's columns.
    general: Vec<bool>,
    /// By key: whether a derived key that some rule reads is computed from it.
    derived_input: Vec<bool>,
}

impl Reads {
    fn of(rules: &[crate::rules::Rule], keys: &[Key]) -> Reads {
        let mut reads = Reads {
            general: vec![false; keys.len()],
            derived_input: vec![false; keys.len()],
            ..Reads::default()
        };
        for rule in rules {
            let mut read_keys = Vec::new();
            let mut read_rules = Vec::new();
            let mut read_params = Vec::new();
            let mut stack: Vec<&Condition> = match &rule.body {
                Body::Test(c) => vec![c],
                Body::Graded { levels, .. } => levels.iter().filter_map(|l| l.condition.as_ref()).collect(),
            };
            // A stack, not recursion: conditions may nest as deep as the reader allows.
            while let Some(c) = stack.pop() {
                match c {
                    Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
                        stack.extend(parts.iter())
                    }
                    Condition::Not(inner) => stack.push(inner),
                    Condition::Rule(r) => read_rules.push(r.rule),
                    Condition::Leaf(leaf) => {
                        let leaf_keys = leaf.keys();
                        read_params.extend(leaf.parameters());
                        read_params.extend(
                            leaf_keys
                                .iter()
                                .filter_map(|&k| keys.get(k).and_then(|key| key.max_age_parameter_index)),
                        );
                        let general = !matches!(leaf.test, LeafTest::Compare { .. } | LeafTest::Present);
                        for k in leaf_keys {
                            if general {
                                if let Some(flag) = reads.general.get_mut(k) {
                                    *flag = true;
                                }
                            }
                            read_keys.push(k);
                        }
                    }
                }
            }
            read_keys.sort_unstable();
            read_keys.dedup();
            read_rules.sort_unstable();
            read_rules.dedup();
            read_params.sort_unstable();
            read_params.dedup();
            reads.keys.push(read_keys);
            reads.rules.push(read_rules);
            reads.params.push(read_params);
        }
        // The inputs of the derived keys some rule reads, and of the derived keys those are
        // computed from in turn: a derived key no rule reads cannot change an outcome.
        let mut wanted: Vec<usize> = reads.keys.iter().flatten().copied().collect();
        while let Some(k) = wanted.pop() {
            for input in keys
                .get(k)
                .and_then(|key| key.derived.as_ref())
                .map_or(Vec::new(), |f| f.inputs())
            {
                if let Some(i) = keys.iter().position(|key| key.key == input) {
                    if let Some(flag) = reads.derived_input.get_mut(i) {
                        if !*flag {
                            *flag = true;
                            wanted.push(i);
                        }
                    }
                }
            }
        }
        reads
    }
}

impl Program {
    /// Compiles validated rules: references point at rules, `order` puts each rule after those
    /// it refers to.
    pub(crate) fn compile(
        rules: &[crate::rules::Rule],
        order: &[usize],
        keys: &[Key],
        functions: &[crate::functions::Function],
        parameters: &[crate::pack::Parameter],
    ) -> Program {
        let mut p = Program {
            order: order.to_vec(),
            reads: Reads::of(rules, keys),
            // As `Engine::amount` and `Engine::threshold_value` read a parameter left at its
            // default.
            params: parameters
                .iter()
                .map(|q| {
                    (
                        crate::rules::amount_value(&q.default).unwrap_or(1),
                        Scalar::of(&q.default),
                    )
                })
                .collect(),
            ..Program::default()
        };
        let mut at = 0;
        for rule in rules {
            p.offsets.push(at);
            at += if rule.per_function { functions.len() } else { 1 };
            p.per_function.push(rule.per_function);
        }
        p.offsets.push(at);
        for rule in rules {
            let share = rule.per_function;
            let code = match &rule.body {
                Body::Test(c) => {
                    let range = p.emit_all(c, share, rules, keys, functions);
                    RuleCode::Test(Block::of(&p.code, range, &mut p.parts))
                }
                Body::Graded { levels, .. } => RuleCode::Graded(
                    levels
                        .iter()
                        .map(|l| {
                            (
                                l.rank,
                                l.condition.as_ref().map(|c| {
                                    let range = p.emit_all(c, share, rules, keys, functions);
                                    Block::of(&p.code, range, &mut p.parts)
                                }),
                            )
                        })
                        .collect(),
                ),
            };
            p.rules.push(code);
        }
        p.rank = vec![u32::MAX; rules.len()];
        for (place, &rule) in order.iter().enumerate() {
            if let (Some(cell), Ok(place)) = (p.rank.get_mut(rule), u32::try_from(place)) {
                *cell = place;
            }
        }
        for r in &mut p.refs {
            if let (Some(&from), Some(&to)) = (p.offsets.get(r.rule), p.offsets.get(r.rule + 1)) {
                r.from = from;
                r.subjects = to.saturating_sub(from);
            }
        }
        p.quick = p.leaves.iter().map(Quick::of).collect();
        p.number_cells(keys.len(), functions.len() + 1);
        for q in &mut p.quick {
            q.resolve_fast(&p.params);
        }
        p.memos = p.leaves.iter().any(|l| l.memo) || !p.shared.is_empty();
        p.readers = vec![Vec::new(); keys.len()];
        p.referrers = vec![Vec::new(); rules.len()];
        for (rule, read) in p.reads.keys.iter().enumerate() {
            for &k in read {
                if let Some(list) = p.readers.get_mut(k) {
                    list.push(rule);
                }
            }
        }
        p.param_readers = vec![Vec::new(); p.params.len()];
        for (rule, read) in p.reads.params.iter().enumerate() {
            for &i in read {
                if let Some(list) = p.param_readers.get_mut(i) {
                    list.push(rule);
                }
            }
        }
        for (rule, referred) in p.reads.rules.iter().enumerate() {
            for &r in referred {
                if let Some(list) = p.referrers.get_mut(r) {
                    list.push(rule);
                }
            }
        }
        p
    }

    /// Lists the series the quick leaves read (`cells`, ascending) and points each quick leaf
    /// at its cells: the values in force are kept for those series alone, so they are as
    /// small as what the rules read, not the index's keys × slots. A leaf reading the
    /// subject's slot reads every slot of its key, whose cells are then consecutive.
    fn number_cells(&mut self, keys: usize, slots: usize) {
        self.slots = slots;
        let Ok(slots) = u32::try_from(slots) else {
            self.quick.fill(Quick::NOT);
            return;
        };
        let mut cells = Vec::new();
        for q in &mut self.quick {
            if q.kind == Quick::SLOW {
                continue;
            }
            let read = match q.slot {
                SUBJECT => q.base.checked_add(slots).map(|end| q.base..end),
                s => q.base.checked_add(s).map(|at| at..at + 1),
            };
            match read {
                Some(read) => {
                    cells.extend(read);
                    if q.fallback {
                        cells.push(q.base);
                    }
                }
                None => *q = Quick::NOT,
            }
        }
        cells.sort_unstable();
        cells.dedup();
        let cell = |at: u32| cells.binary_search(&at).ok().and_then(|c| u32::try_from(c).ok());
        for q in &mut self.quick {
            if q.kind == Quick::SLOW {
                continue;
            }
            let own = if q.slot == SUBJECT {
                q.base
            } else {
                q.base + q.slot
            };
            let council = if q.fallback { q.base } else { own };
            match (cell(own), cell(council)) {
                (Some(own), Some(council)) => {
                    q.cell = own;
                    q.council = council;
                }
                _ => *q = Quick::NOT,
            }
        }
        self.key_cells = (0..=keys)
            .map(|k| {
                let start = u32::try_from(k.saturating_mul(self.slots)).unwrap_or(u32::MAX);
                u32::try_from(cells.partition_point(|&c| c < start)).unwrap_or(u32::MAX)
            })
            .collect();
        self.cells = cells;
    }

    /// Series `at`'s cell among the values in force, if a quick leaf reads it.
    fn cell_of(&self, at: usize) -> Option<usize> {
        let k = at.checked_div(self.slots)?;
        let from = *self.key_cells.get(k)? as usize;
        let to = *self.key_cells.get(k + 1)? as usize;
        let cells = self.cells.get(from..to)?;
        if cells.len() == self.slots {
            // Every slot of the key: the cells are the slots in order.
            return Some(from + at % self.slots);
        }
        let at = u32::try_from(at).ok()?;
        cells.iter().position(|&c| c == at).map(|p| from + p)
    }

    fn here(&self) -> u32 {
        // Packs are capped far below 2^32 instructions (10,000 rules by default).
        u32::try_from(self.code.len()).unwrap_or(u32::MAX)
    }

    /// Adds leaf `i` (with `refs`, reference `i`) of an `all` (`all`) or `any` to the run the
    /// last instruction holds, when it directly precedes it, or starts a run. The run's jump is
    /// still open, so it is this `all`/`any`'s own: one nested in it has been patched, and is
    /// followed by its `And`/`Or`, not by a run.
    fn join_run(&mut self, i: u32, all: bool, refs: bool) {
        let open = match self.code.last_mut() {
            Some(Instr::AndLeaves { to, jump, .. }) if all && !refs => Some((to, jump)),
            Some(Instr::OrLeaves { to, jump, .. }) if !all && !refs => Some((to, jump)),
            Some(Instr::AndRefs { to, jump, .. }) if all && refs => Some((to, jump)),
            Some(Instr::OrRefs { to, jump, .. }) if !all && refs => Some((to, jump)),
            _ => None,
        };
        if let Some((to, jump)) = open {
            if *to == i && *jump == u32::MAX {
                *to = i + 1;
                return;
            }
        }
        let (from, to, jump) = (i, i + 1, u32::MAX);
        self.code.push(match (all, refs) {
            (true, false) => Instr::AndLeaves { from, to, jump },
            (false, false) => Instr::OrLeaves { from, to, jump },
            (true, true) => Instr::AndRefs { from, to, jump },
            (false, true) => Instr::OrRefs { from, to, jump },
        });
    }

    /// Emits a condition's code and returns where it is; with `share`, a compound subtree that
    /// reads nothing of the subject becomes a shared block, emitted after it.
    fn emit_all(
        &mut self,
        c: &Condition,
        share: bool,
        rules: &[crate::rules::Rule],
        keys: &[Key],
        functions: &[crate::functions::Function],
    ) -> std::ops::Range<u32> {
        let start = self.here();
        // An explicit stack of work, not recursion: a condition may be nested as deep as the
        // reader allows, and compiling runs on the caller's thread.
        enum Work<'c> {
            Cond(&'c Condition),
            Emit(Instr),
            /// Patch the jumps of an `all`/`any` whose instructions start at this index.
            Patch(usize),
            /// A leaf of an `all` (`true`) or an `any`, fused with the step that folds it in.
            Fused(&'c Leaf, bool),
            /// A reference of an `all` (`true`) or an `any`, fused likewise.
            FusedRef(&'c crate::rules::RuleRef, bool),
        }
        let mut work = vec![Work::Cond(c)];
        let mut blocks: Vec<(usize, &Condition)> = Vec::new();
        while let Some(w) = work.pop() {
            match w {
                Work::Emit(i) => self.code.push(i),
                Work::FusedRef(r, all) => {
                    let i = u32::try_from(self.refs.len()).unwrap_or(u32::MAX);
                    self.refs.push(ref_entry(r, rules, functions));
                    self.join_run(i, all, true);
                }
                Work::Fused(leaf, all) => {
                    let i = u32::try_from(self.leaves.len()).unwrap_or(u32::MAX);
                    self.leaves
                        .push(leaf_entry(leaf, keys, functions).memoised_if(share));
                    self.join_run(i, all, false);
                }
                Work::Patch(from) => {
                    let end = self.here();
                    for i in self.code.iter_mut().skip(from) {
                        match i {
                            Instr::And(to)
                            | Instr::Or(to)
                            | Instr::AndLeaves { jump: to, .. }
                            | Instr::OrLeaves { jump: to, .. }
                            | Instr::AndRefs { jump: to, .. }
                            | Instr::OrRefs { jump: to, .. }
                                if *to == u32::MAX =>
                            {
                                *to = end
                            }
                            _ => {}
                        }
                    }
                }
                Work::Cond(c)
                    if share
                        && !matches!(c, Condition::Leaf(_) | Condition::Rule(_))
                        && subject_free(c, rules, keys, functions) =>
                {
                    let i = u32::try_from(self.shared.len()).unwrap_or(u32::MAX);
                    self.shared.push(0..0);
                    blocks.push((self.shared.len() - 1, c));
                    self.code.push(Instr::Shared(i));
                }
                Work::Cond(c) => match c {
                    Condition::All(parts) | Condition::Any(parts) => {
                        let all = matches!(c, Condition::All(_));
                        let (identity, step) = if all {
                            (Truth::Met, Instr::And(u32::MAX))
                        } else {
                            (Truth::NotMet, Instr::Or(u32::MAX))
                        };
                        self.code.push(Instr::Push(identity));
                        // Jumps inside nested `all`/`any` are patched before this one's patch
                        // runs (they finish first), so only this one's open jumps remain.
                        work.push(Work::Patch(self.code.len()));
                        for part in parts.iter().rev() {
                            match part {
                                Condition::Leaf(leaf) => work.push(Work::Fused(leaf, all)),
                                Condition::Rule(r) => work.push(Work::FusedRef(r, all)),
                                _ => {
                                    work.push(Work::Emit(step));
                                    work.push(Work::Cond(part));
                                }
                            }
                        }
                    }
                    Condition::AtLeast(k, parts) => {
                        let n = u32::try_from(parts.len()).unwrap_or(u32::MAX);
                        work.push(Work::Emit(Instr::AtLeast { k: *k, n }));
                        for part in parts.iter().rev() {
                            work.push(Work::Cond(part));
                        }
                    }
                    Condition::Not(inner) => {
                        work.push(Work::Emit(Instr::Not));
                        work.push(Work::Cond(inner));
                    }
                    Condition::Leaf(leaf) => {
                        let i = u32::try_from(self.leaves.len()).unwrap_or(u32::MAX);
                        self.leaves
                            .push(leaf_entry(leaf, keys, functions).memoised_if(share));
                        self.code.push(Instr::Leaf(i));
                    }
                    Condition::Rule(r) => {
                        let i = u32::try_from(self.refs.len()).unwrap_or(u32::MAX);
                        self.refs.push(ref_entry(r, rules, functions));
                        self.code.push(Instr::Ref(i));
                    }
                },
            }
        }
        let main = start..self.here();
        for (i, c) in blocks {
            let range = self.emit_all(c, false, rules, keys, functions);
            if let Some(slot) = self.shared.get_mut(i) {
                *slot = range;
            }
        }
        main
    }

    /// Evaluates every rule into `out`, reusing its buffers; `in_force`, when it holds the
    /// values in force on the engine's as-of day over its index, spares each leaf the search.
    pub(crate) fn run<'a>(&'a self, engine: &Engine<'a>, in_force: Option<&InForce>, out: &mut Outcomes) {
        self.prepare(out);
        let mut params = std::mem::take(&mut out.params);
        let ctx = self.ctx(engine, in_force, &mut params);
        for &rule in &self.order {
            self.rule_into(rule, &ctx, out);
        }
        out.params = params;
    }

    /// A digest of what generated code is written from: the crate's version and the
    /// program's tables (cells, leaves, rules, references, order, layout of the outcomes).
    /// Generated code carries the fingerprint of the program it was written from, and runs
    /// only over a program with the same one.
    pub(crate) fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            let text = format!(
                "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                env!("CARGO_PKG_VERSION"),
                self.quick,
                self.leaves,
                self.rules,
                self.parts,
                self.code,
                self.refs,
                self.cells,
                self.offsets,
                self.order,
                self.per_function,
            );
            // FNV-1a: a fixed function, the same on every machine and in every process.
            text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        })
    }

    /// The cells of `in_force` when they are this program's values in force on `day`.
    fn seen_on<'f>(&self, in_force: Option<&'f InForce>, day: i32) -> Option<&'f [Seen]> {
        in_force
            .filter(|f| f.day == day && f.seen.len() == self.cells.len())
            .map(|f| f.seen.as_slice())
    }

    /// The context of an assessment with every parameter at its default (`engine` overrides
    /// none) over the values in force `in_force`.
    fn ctx_at_defaults<'e, 'a>(&'e self, engine: &'e Engine<'a>, in_force: &'e InForce) -> Ctx<'e, 'a> {
        let seen = self.seen_on(Some(in_force), engine.as_of_days);
        Ctx {
            engine,
            index: engine.index(),
            as_of: engine.as_of_days,
            params: &self.params,
            seen,
            overridden: false,
        }
    }

    /// The context of one assessment; `scratch` holds the parameters when some are
    /// overridden.
    fn ctx<'e, 'a>(
        &'e self,
        engine: &'e Engine<'a>,
        in_force: Option<&'e InForce>,
        scratch: &'e mut Vec<(u32, Scalar)>,
    ) -> Ctx<'e, 'a> {
        let params: &[(u32, Scalar)] = if engine.overridden() {
            scratch.clear();
            scratch.extend((0..self.params.len()).map(|i| {
                let threshold = Threshold::Parameter(i);
                (
                    engine.amount(Amount::Parameter(i)),
                    Scalar::of(engine.threshold_value(&threshold)),
                )
            }));
            scratch
        } else {
            &self.params
        };
        let index = engine.index();
        let seen = self.seen_on(in_force, engine.as_of_days);
        Ctx {
            engine,
            index,
            as_of: engine.as_of_days,
            params,
            seen,
            overridden: engine.overridden(),
        }
    }

    /// Evaluates into `out` only the rules `dirty` (in dependency order), taking the rest from
    /// `base`: the outcomes of the same program over evidence that differs only in what the
    /// dirty rules read. `dirty` must be closed under reference (a rule referring to a dirty
    /// rule is dirty).
    ///
    /// `stamp` names `base` (a [`WhatIf`]'s): when `out` holds that base's last answer, only the
    /// rules that answer re-evaluated are taken back from `base`, not the whole buffer.
    #[allow(clippy::too_many_arguments)]
    fn rerun<'a>(
        &'a self,
        engine: &Engine<'a>,
        in_force: Option<&InForce>,
        base: &Outcomes,
        dirty: &[usize],
        out: &mut Outcomes,
        stamp: u64,
    ) {
        let warm = stamp != 0 && out.stamp == stamp && out.flat.len() == base.flat.len();
        if warm {
            for &rule in &out.rerun {
                let range = self.offsets.get(rule).copied().unwrap_or(0)
                    ..self.offsets.get(rule + 1).copied().unwrap_or(0);
                if let (Some(to), Some(from)) = (out.flat.get_mut(range.clone()), base.flat.get(range)) {
                    to.copy_from_slice(from);
                }
            }
        } else {
            out.flat.clone_from(&base.flat);
            out.offsets.clone_from(&base.offsets);
            out.layout = 0;
        }
        out.rerun.clear();
        self.forget(out);
        let mut params = std::mem::take(&mut out.params);
        let ctx = self.ctx(engine, in_force, &mut params);
        for &rule in dirty {
            self.rule_into(rule, &ctx, out);
            out.rerun.push(rule);
        }
        out.params = params;
        out.stamp = stamp;
    }

    /// Readies `out` for a whole assessment: laid out as this program's outcomes, the memos
    /// empty. An assessment writes every outcome (each rule, every subject, in dependency
    /// order, before any reference reads it), so buffers already laid out for this program
    /// are not cleared again; nor are memos a program without memoised leaves or shared
    /// blocks never reads.
    fn prepare(&self, out: &mut Outcomes) {
        out.stamp = 0;
        out.layout = 0;
        let outcomes = self.offsets.last().copied().unwrap_or(0);
        if out.flat.len() != outcomes {
            out.flat.clear();
            out.flat.resize(outcomes, Outcome::Test(Truth::Unknown));
        }
        if out.offsets != self.offsets {
            out.offsets.clear();
            out.offsets.extend_from_slice(&self.offsets);
        }
        if self.memos {
            self.forget(out);
        }
    }

    /// Empties the memos of subject-free leaves and shared blocks, which hold one evidence's
    /// truths.
    fn forget(&self, out: &mut Outcomes) {
        out.memo.clear();
        out.memo.resize(self.leaves.len(), None);
        out.shared.clear();
        out.shared.resize(self.shared.len(), None);
    }

    /// Evaluates one rule for each of its subjects into `out`.
    fn rule_into(&self, rule: usize, ctx: &Ctx<'_, '_>, out: &mut Outcomes) {
        let (Some(code), Some(&offset)) = (self.rules.get(rule), self.offsets.get(rule)) else {
            return;
        };
        let subjects = self.offsets.get(rule + 1).copied().unwrap_or(offset) - offset;
        let per_function = self.per_function.get(rule).copied().unwrap_or(false);
        match code {
            // The commonest shapes, an `all` or `any` of leaves or of references, folded for
            // each subject without going through `truth`.
            RuleCode::Test(Block::Leaves { all, from, to } | Block::Refs { all, from, to }) => {
                let refs = matches!(code, RuleCode::Test(Block::Refs { .. }));
                let (run, each) = (*from..*to, (subjects, per_function, offset));
                match (*all, refs) {
                    (true, false) => self.fold_each::<true, false>(run, each, ctx, out),
                    (false, false) => self.fold_each::<false, false>(run, each, ctx, out),
                    (true, true) => self.fold_each::<true, true>(run, each, ctx, out),
                    (false, true) => self.fold_each::<false, true>(run, each, ctx, out),
                }
            }
            RuleCode::Test(block) => {
                for s in 0..subjects {
                    let t = self.truth(block, ctx, per_function.then_some(s), out);
                    if let Some(cell) = out.flat.get_mut(offset + s) {
                        *cell = Outcome::Test(t);
                    }
                }
            }
            RuleCode::Graded(levels) => {
                for s in 0..subjects {
                    let subject = per_function.then_some(s);
                    // Levels are decided best first, and `grade` stops at the first met.
                    let outcome = grade(levels.iter().map(|(rank, range)| {
                        (*rank, range.as_ref().map(|r| self.truth(r, ctx, subject, out)))
                    }));
                    if let Some(cell) = out.flat.get_mut(offset + s) {
                        *cell = outcome;
                    }
                }
            }
        }
    }

    /// The rules a change to the `changed` keys and the overridden `params` touches, directly
    /// or through references, in a mask by rule and listed in dependency order (`touched`): the
    /// rules that read a changed key or parameter, then those that refer to a touched rule,
    /// followed outward (`frontier` is scratch). Only what is touched is visited.
    fn dirty(
        &self,
        changed: &[usize],
        params: &[usize],
        dirty: &mut Vec<bool>,
        frontier: &mut Vec<usize>,
        touched: &mut Vec<usize>,
    ) {
        dirty.clear();
        dirty.resize(self.rules.len(), false);
        frontier.clear();
        touched.clear();
        let mut touch = |rule: usize, frontier: &mut Vec<usize>| {
            if let Some(cell) = dirty.get_mut(rule) {
                if !*cell {
                    *cell = true;
                    frontier.push(rule);
                    touched.push(rule);
                }
            }
        };
        for &k in changed {
            for &rule in self.readers.get(k).map_or(&[][..], Vec::as_slice) {
                touch(rule, frontier);
            }
        }
        for &i in params {
            for &rule in self.param_readers.get(i).map_or(&[][..], Vec::as_slice) {
                touch(rule, frontier);
            }
        }
        while let Some(rule) = frontier.pop() {
            for &other in self.referrers.get(rule).map_or(&[][..], Vec::as_slice) {
                touch(other, frontier);
            }
        }
        touched.sort_unstable_by_key(|&rule| self.rank.get(rule).copied().unwrap_or(u32::MAX));
    }

    /// [`Program::dirty`] by walking the rules in dependency order: each rule is dirty when it
    /// reads a changed key or parameter, or refers to a dirty rule. The plain definition, kept
    /// as the test's reference.
    #[cfg(test)]
    fn dirty_by_walk(&self, changed: &[usize], params: &[usize], dirty: &mut Vec<bool>) {
        dirty.clear();
        dirty.resize(self.rules.len(), false);
        // `order` puts every rule after those it refers to, so one pass settles each.
        for &rule in &self.order {
            let reads_changed = self
                .reads
                .keys
                .get(rule)
                .is_some_and(|keys| keys.iter().any(|k| changed.contains(k)))
                || self
                    .reads
                    .params
                    .get(rule)
                    .is_some_and(|read| read.iter().any(|i| params.contains(i)));
            let refers_dirty = self
                .reads
                .rules
                .get(rule)
                .is_some_and(|rules| rules.iter().any(|&r| dirty.get(r).copied().unwrap_or(false)));
            if let Some(cell) = dirty.get_mut(rule) {
                *cell = reads_changed || refers_dirty;
            }
        }
    }

    fn truth(&self, block: &Block, ctx: &Ctx<'_, '_>, subject: Option<usize>, out: &mut Outcomes) -> Truth {
        // Folded as the code folds them: `min` for `all` from met, `max` for `any` from not
        // met, stopping once settled.
        let (all, from, to, refs) = match block {
            Block::Leaf(i) => return self.leaf(*i as usize, ctx, subject, out),
            Block::Leaves { all, from, to } => (*all, *from, *to, false),
            Block::Refs { all, from, to } => (*all, *from, *to, true),
            Block::Group { all: true, from, to } => return self.group::<true>(*from..*to, ctx, subject, out),
            Block::Group { all: false, from, to } => {
                return self.group::<false>(*from..*to, ctx, subject, out)
            }
            Block::Code(range) => return self.run_code(range, ctx, subject, out),
        };
        let mut acc = if all { Truth::Met } else { Truth::NotMet };
        self.fold_run(from..to, all, refs, &mut acc, ctx, subject, out);
        acc
    }

    /// A [`Block::Group`]'s truth: its parts (`parts`) folded in turn, `min` for an `all`
    /// (`ALL`) and `max` for an `any`, stopping once settled; nested groups recurse (at most
    /// [`GROUP_DEPTH`] deep, by construction).
    fn group<const ALL: bool>(
        &self,
        parts: std::ops::Range<u32>,
        ctx: &Ctx<'_, '_>,
        subject: Option<usize>,
        out: &mut Outcomes,
    ) -> Truth {
        let mut acc = if ALL { Truth::Met } else { Truth::NotMet };
        for part in self
            .parts
            .get(parts.start as usize..parts.end as usize)
            .unwrap_or_default()
        {
            let settled = match *part {
                Part::Leaves(from, to) => self.fold::<ALL, false>(from..to, &mut acc, ctx, subject, out),
                Part::Refs(from, to) => self.fold::<ALL, true>(from..to, &mut acc, ctx, subject, out),
                Part::Group { all, from, to } => {
                    let t = if all {
                        self.group::<true>(from..to, ctx, subject, out)
                    } else {
                        self.group::<false>(from..to, ctx, subject, out)
                    };
                    acc = if ALL { acc.min(t) } else { acc.max(t) };
                    acc == if ALL { Truth::NotMet } else { Truth::Met }
                }
            };
            if settled {
                break;
            }
        }
        acc
    }

    /// Folds leaves `run` (with `refs`, references) into `acc` one by one, `min` for an `all`
    /// and `max` for an `any`, stopping at the first that settles it; says whether it is
    /// settled (the rest of the `all`/`any` can be skipped).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn fold_run(
        &self,
        run: std::ops::Range<u32>,
        all: bool,
        refs: bool,
        acc: &mut Truth,
        ctx: &Ctx<'_, '_>,
        subject: Option<usize>,
        out: &mut Outcomes,
    ) -> bool {
        // The shape chosen once for the run, not at every part.
        match (all, refs) {
            (true, false) => self.fold::<true, false>(run, acc, ctx, subject, out),
            (false, false) => self.fold::<false, false>(run, acc, ctx, subject, out),
            (true, true) => self.fold::<true, true>(run, acc, ctx, subject, out),
            (false, true) => self.fold::<false, true>(run, acc, ctx, subject, out),
        }
    }

    /// A rule that is one run (see [`Program::fold`]) decided for each of its subjects (`each`:
    /// how many, whether they are functions, where their outcomes start).
    #[inline(always)]
    fn fold_each<const ALL: bool, const REFS: bool>(
        &self,
        run: std::ops::Range<u32>,
        (subjects, per_function, offset): (usize, bool, usize),
        ctx: &Ctx<'_, '_>,
        out: &mut Outcomes,
    ) {
        for s in 0..subjects {
            let mut acc = if ALL { Truth::Met } else { Truth::NotMet };
            self.fold::<ALL, REFS>(run.clone(), &mut acc, ctx, per_function.then_some(s), out);
            if let Some(cell) = out.flat.get_mut(offset + s) {
                *cell = Outcome::Test(acc);
            }
        }
    }

    /// [`Program::fold_run`] for one shape: an `all` (`ALL`) or an `any`, of references
    /// (`REFS`) or of leaves.
    #[inline(always)]
    fn fold<const ALL: bool, const REFS: bool>(
        &self,
        run: std::ops::Range<u32>,
        acc: &mut Truth,
        ctx: &Ctx<'_, '_>,
        subject: Option<usize>,
        out: &mut Outcomes,
    ) -> bool {
        let settled = if ALL { Truth::NotMet } else { Truth::Met };
        for i in run {
            let t = if REFS {
                self.reference(i as usize, subject, out)
            } else {
                self.leaf(i as usize, ctx, subject, out)
            };
            *acc = if ALL { (*acc).min(t) } else { (*acc).max(t) };
            if *acc == settled {
                return true;
            }
        }
        false
    }

    fn run_code(
        &self,
        range: &std::ops::Range<u32>,
        ctx: &Ctx<'_, '_>,
        subject: Option<usize>,
        out: &mut Outcomes,
    ) -> Truth {
        let mut stack = std::mem::take(&mut out.stack);
        stack.clear();
        let t = self.eval(range, ctx, subject, out, &mut stack);
        out.stack = stack;
        t
    }

    /// Runs code on top of `stack`, leaving it as it found it, and returns the truth computed.
    fn eval(
        &self,
        range: &std::ops::Range<u32>,
        ctx: &Ctx<'_, '_>,
        subject: Option<usize>,
        out: &mut Outcomes,
        stack: &mut Vec<Truth>,
    ) -> Truth {
        let base = stack.len();
        let mut pc = range.start as usize;
        let end = range.end as usize;
        while pc < end {
            let Some(&instr) = self.code.get(pc) else { break };
            pc += 1;
            match instr {
                Instr::Shared(i) => {
                    let t = match out.shared.get(i as usize).copied().flatten() {
                        Some(t) => t,
                        None => {
                            let block = self.shared.get(i as usize).cloned().unwrap_or(0..0);
                            let t = self.eval(&block, ctx, subject, out, stack);
                            if let Some(cell) = out.shared.get_mut(i as usize) {
                                *cell = Some(t);
                            }
                            t
                        }
                    };
                    stack.push(t);
                }
                Instr::Leaf(i) => {
                    let t = self.leaf(i as usize, ctx, subject, out);
                    stack.push(t);
                }
                Instr::Ref(i) => {
                    let t = self.reference(i as usize, subject, out);
                    stack.push(t);
                }
                Instr::Push(t) => stack.push(t),
                Instr::AndLeaves { from, to, jump }
                | Instr::OrLeaves { from, to, jump }
                | Instr::AndRefs { from, to, jump }
                | Instr::OrRefs { from, to, jump } => {
                    let all = matches!(instr, Instr::AndLeaves { .. } | Instr::AndRefs { .. });
                    let refs = matches!(instr, Instr::AndRefs { .. } | Instr::OrRefs { .. });
                    if let Some(acc) = stack.last_mut() {
                        if self.fold_run(from..to, all, refs, acc, ctx, subject, out) {
                            pc = jump as usize;
                        }
                    }
                }
                Instr::And(to) => {
                    let t = stack.pop().unwrap_or(Truth::Unknown);
                    if fold(stack, t, true) {
                        pc = to as usize;
                    }
                }
                Instr::Or(to) => {
                    let t = stack.pop().unwrap_or(Truth::Unknown);
                    if fold(stack, t, false) {
                        pc = to as usize;
                    }
                }
                Instr::AtLeast { k, n } => {
                    let from = stack.len().saturating_sub(n as usize).max(base);
                    let t = at_least(k, stack.drain(from..));
                    stack.push(t);
                }
                Instr::Not => {
                    if let Some(top) = stack.last_mut() {
                        *top = top.not();
                    }
                }
            }
        }
        let t = if stack.len() > base {
            stack.pop().unwrap_or(Truth::Unknown)
        } else {
            Truth::Unknown
        };
        stack.truncate(base);
        t
    }

    fn reference(&self, i: usize, subject: Option<usize>, out: &Outcomes) -> Truth {
        let Some(r) = self.refs.get(i) else {
            return Truth::Unknown;
        };
        let s = match r.subject {
            RefSubject::Fixed(s) => s,
            RefSubject::Own => subject.unwrap_or(0),
        };
        // `out.flat` is laid out by `offsets` (`run` sizes it so).
        let outcome = if s < r.subjects {
            out.flat.get(r.from + s).copied()
        } else {
            None
        };
        match (outcome, r.at_least) {
            (Some(Outcome::Test(t)), _) => t,
            (Some(Outcome::Graded { level, at_least }), Some(needed)) => match (level, at_least) {
                (Some(level), _) => {
                    if level >= needed {
                        Truth::Met
                    } else {
                        Truth::NotMet
                    }
                }
                (None, Some(floor)) if floor >= needed => Truth::Met,
                _ => Truth::Unknown,
            },
            _ => Truth::Unknown,
        }
    }

    /// Leaf `i`'s truth: over the values in force when the caller keeps them and the leaf is
    /// one they decide, else as [`Program::slow_leaf`] decides it.
    #[inline(always)]
    fn leaf(&self, i: usize, ctx: &Ctx<'_, '_>, subject: Option<usize>, out: &mut Outcomes) -> Truth {
        if let (Some(seen), Some(q)) = (ctx.seen, self.quick.get(i)) {
            if let Some(t) = q.decide(seen, ctx, subject) {
                return t;
            }
        }
        self.slow_leaf(i, ctx, subject, out)
    }

    /// Leaf `i`'s truth, remembered for the assessment when it is subject-free in a
    /// per-function rule.
    #[inline]
    fn slow_leaf(&self, i: usize, ctx: &Ctx<'_, '_>, subject: Option<usize>, out: &mut Outcomes) -> Truth {
        let Some(entry) = self.leaves.get(i) else {
            return Truth::Unknown;
        };
        if entry.memo {
            if let Some(Some(t)) = out.memo.get(i) {
                return *t;
            }
        }
        let t = match &entry.code {
            LeafCode::Latest(l) => latest(ctx, l, subject),
            LeafCode::General(leaf) => ctx.engine.leaf(leaf, subject).0,
        };
        if entry.memo {
            if let Some(cell) = out.memo.get_mut(i) {
                *cell = Some(t);
            }
        }
        t
    }
}

/// A latest-value leaf: the latest observation of the series visible on the as-of date (the
/// council's when `fallback` and the function has none), absent when there is none or it is
/// older than the key's maximum age or the leaf's `within`, else compared with the threshold
/// (`present`: met).
#[inline]
fn latest(ctx: &Ctx<'_, '_>, l: &Latest, subject: Option<usize>) -> Truth {
    let absent = if l.op.is_none() {
        Truth::NotMet
    } else {
        Truth::Unknown
    };
    let own = match l.slot {
        SUBJECT => Some(subject.map_or(0, |s| s + 1)),
        MISSING => None,
        slot => Some(slot as usize),
    };
    // Found in the columns, not among the values in force: those are kept for the series the
    // quick rows read, which this leaf's may not be.
    let seen = found(ctx, l, own).map_or(Seen::NONE, |i| ctx.index.seen_at(i));
    if seen.kind == UNSEEN {
        return absent;
    }
    let age = i64::from(ctx.as_of) - i64::from(seen.day);
    let stale = |limit: Limit| match limit {
        Limit::None => false,
        Limit::Days(n) => age > i64::from(n),
        Limit::Param(p) => age > i64::from(ctx.params.get(p).map_or(1, |q| q.0)),
    };
    if stale(l.max_age) || stale(l.within) {
        return absent;
    }
    let Some(op) = l.op else {
        return Truth::Met;
    };
    let wanted = match l.param {
        None => l.want,
        Some(p) => ctx.params.get(p).map_or(Scalar { kind: 0, x: 0.0 }, |q| q.1),
    };
    if seen.kind != 0 && wanted.kind != 0 {
        if seen.kind != wanted.kind {
            return Truth::Unknown;
        }
        return match seen.x.partial_cmp(&wanted.x) {
            Some(ord) if op.holds(ord) => Truth::Met,
            Some(_) => Truth::NotMet,
            None => Truth::Unknown,
        };
    }
    // Text, compared as values: the observation itself is found (rare enough to search again).
    match (
        found(ctx, l, own).and_then(|i| ctx.engine.observation(i)),
        l.threshold.as_deref(),
    ) {
        (Some(o), Some(threshold)) => compare(&o.value, op, ctx.engine.threshold_value(threshold)),
        _ => Truth::Unknown,
    }
}

/// The observation a latest-value leaf reads, by searching the columns: the latest of its own
/// series (`own`) visible on the as-of day, else, with `fallback`, the council's.
#[inline]
fn found(ctx: &Ctx<'_, '_>, l: &Latest, own: Option<usize>) -> Option<usize> {
    let index = ctx.index;
    let found = own.and_then(|slot| index.visible(l.base + slot, ctx.as_of));
    if found.is_none() && l.fallback && own != Some(0) {
        return index.visible(l.base, ctx.as_of);
    }
    found
}

/// A latest-value leaf as decided over the values in force: its cell (`base` plus a fixed slot,
/// or the subject's), the one age limit it applies (the key's maximum age and the leaf's
/// `within`, whichever is shorter, each a literal or a parameter), and the threshold.
#[derive(Debug, Clone, Copy)]
struct Quick {
    want: f64,
    /// Until the cells are numbered (`Program::number_cells`), the series of the key's slot 0
    /// (`key * slots`); then that series' cell among the values in force.
    base: u32,
    /// The cell of the slot read (the subject's own is `base + 1 + subject`), and the
    /// council's, read by `fallback`.
    cell: u32,
    council: u32,
    /// A fixed slot, or [`SUBJECT`].
    slot: u32,
    /// The literal limit, `u32::MAX` for none; and a parameter's, [`Quick::NO_PARAM`] for none.
    max_age: u32,
    age_param: u32,
    /// The threshold's parameter, [`Quick::NO_PARAM`] for a literal (`want`, of `kind`).
    want_param: u32,
    /// The literal threshold's kind, as [`Scalar`]'s; [`Quick::SLOW`]: not decided here.
    kind: u8,
    /// Which orderings of value to threshold meet the test (`LESS`, `EQUAL`, `GREATER`), or
    /// `PRESENT`.
    ops: u8,
    fallback: bool,
    /// The common case, decided first: the parameters at their defaults (`Program::params`)
    /// and a value of the threshold's kind in the cell. `fast_kind` is that kind
    /// ([`Quick::NEVER`] when the leaf has no such case: `present`, text), `limit` and
    /// `fast_want` the age limit and threshold so resolved, and `below`, `equal`, `above` the
    /// truth for each ordering of value to threshold. With `params`, an override sends the
    /// leaf the long way, which reads them.
    fast_kind: u8,
    /// The truth when nothing is in force, where no fallback can change that: `None` sends
    /// the leaf the long way.
    unseen: Option<Truth>,
    params: bool,
    subject: bool,
    below: Truth,
    equal: Truth,
    above: Truth,
    limit: u32,
    fast_want: f64,
}

impl Quick {
    const SLOW: u8 = u8::MAX;
    /// Any literal kind but text, for a `present` test or a parameter threshold.
    const ANY: u8 = u8::MAX - 1;
    const NO_PARAM: u32 = u32::MAX;
    const LESS: u8 = 1;
    const EQUAL: u8 = 2;
    const GREATER: u8 = 4;
    const PRESENT: u8 = 8;
    /// A kind no cell has (cells have a [`Scalar`]'s kinds, or [`UNSEEN`]).
    const NEVER: u8 = u8::MAX - 2;

    const NOT: Quick = Quick {
        want: 0.0,
        base: 0,
        cell: 0,
        council: 0,
        slot: 0,
        max_age: u32::MAX,
        age_param: Quick::NO_PARAM,
        want_param: Quick::NO_PARAM,
        kind: Quick::SLOW,
        ops: 0,
        fallback: false,
        fast_kind: Quick::NEVER,
        unseen: None,
        params: false,
        subject: false,
        below: Truth::Unknown,
        equal: Truth::Unknown,
        above: Truth::Unknown,
        limit: 0,
        fast_want: 0.0,
    };

    fn of(entry: &LeafEntry) -> Quick {
        let LeafCode::Latest(l) = &entry.code else {
            return Quick::NOT;
        };
        let (Ok(base), slot, fallback) = (u32::try_from(l.base), l.slot, l.fallback) else {
            return Quick::NOT;
        };
        // A pinned function the pack lacks (left to the slow leaf: no pack that validates has
        // one).
        if slot == MISSING {
            return Quick::NOT;
        }
        let (mut max_age, mut age_param) = (u32::MAX, Quick::NO_PARAM);
        for limit in [l.max_age, l.within] {
            match limit {
                Limit::None => {}
                Limit::Days(n) => max_age = max_age.min(n),
                Limit::Param(p) if age_param == Quick::NO_PARAM => {
                    let Ok(p) = u32::try_from(p) else {
                        return Quick::NOT;
                    };
                    age_param = p;
                }
                Limit::Param(_) => return Quick::NOT,
            }
        }
        let (ops, kind, want_param) = match (l.op, l.param) {
            (None, _) => (Quick::PRESENT, Quick::ANY, Quick::NO_PARAM),
            (Some(op), param) => {
                let ops = [
                    (std::cmp::Ordering::Less, Quick::LESS),
                    (std::cmp::Ordering::Equal, Quick::EQUAL),
                    (std::cmp::Ordering::Greater, Quick::GREATER),
                ]
                .iter()
                .filter(|(ord, _)| op.holds(*ord))
                .fold(0, |bits, (_, bit)| bits | bit);
                match param {
                    Some(p) => match u32::try_from(p) {
                        Ok(p) if p != Quick::NO_PARAM => (ops, Quick::ANY, p),
                        _ => return Quick::NOT,
                    },
                    // Text thresholds are compared as values, by the slow leaf.
                    None if l.want.kind == 0 => return Quick::NOT,
                    None => (ops, l.want.kind, Quick::NO_PARAM),
                }
            }
        };
        Quick {
            want: l.want.x,
            base,
            cell: 0,
            council: 0,
            slot,
            max_age,
            age_param,
            want_param,
            kind,
            ops,
            fallback,
            ..Quick::NOT
        }
    }

    /// The age limit with the parameters `params` in force (`u32::MAX`: none).
    #[inline(always)]
    fn limit_in(&self, params: &[(u32, Scalar)]) -> u32 {
        match self.age_param {
            Quick::NO_PARAM => self.max_age,
            p => self.max_age.min(params.get(p as usize).map_or(1, |q| q.0)),
        }
    }

    /// The threshold's kind and number with the parameters `params` in force; `None` for a
    /// parameter the pack does not have.
    #[inline(always)]
    fn threshold_in(&self, params: &[(u32, Scalar)]) -> Option<(u8, f64)> {
        match self.want_param {
            Quick::NO_PARAM => Some((self.kind, self.want)),
            p => params.get(p as usize).map(|q| (q.1.kind, q.1.x)),
        }
    }

    /// Resolves the common case (`fast_kind` and the fields after it) with the parameters at
    /// `defaults`, once the cells are numbered.
    fn resolve_fast(&mut self, defaults: &[(u32, Scalar)]) {
        if self.kind == Quick::SLOW {
            return;
        }
        self.subject = self.slot == SUBJECT;
        if !self.fallback {
            self.unseen = Some(if self.ops & Quick::PRESENT != 0 {
                Truth::NotMet
            } else {
                Truth::Unknown
            });
        }
        if self.ops & Quick::PRESENT != 0 {
            return;
        }
        let limit = self.limit_in(defaults);
        let Some((kind, want)) = self.threshold_in(defaults) else {
            return;
        };
        // Text is compared as values, the long way.
        if kind == 0 || kind == Quick::ANY {
            return;
        }
        let truth = |bit: u8| {
            if self.ops & bit != 0 {
                Truth::Met
            } else {
                Truth::NotMet
            }
        };
        self.fast_kind = kind;
        self.params = self.age_param != Quick::NO_PARAM || self.want_param != Quick::NO_PARAM;
        self.below = truth(Quick::LESS);
        self.equal = truth(Quick::EQUAL);
        self.above = truth(Quick::GREATER);
        self.limit = limit;
        self.fast_want = want;
    }

    /// The leaf's truth over `seen`, the values in force on the as-of day, as [`latest`]
    /// decides it; `None` when it is not decided here (text, or not a latest-value leaf).
    #[inline(always)]
    fn decide(&self, seen: &[Seen], ctx: &Ctx<'_, '_>, subject: Option<usize>) -> Option<Truth> {
        // The cell as `decide_long` finds it: the subject's own is the cell plus its slot.
        let at = if self.subject {
            subject
                .map_or(Some(0), |s| s.checked_add(1))
                .and_then(|own| (self.cell as usize).checked_add(own))
        } else {
            Some(self.cell as usize)
        };
        if let Some(cell) = at.and_then(|at| seen.get(at)) {
            if cell.kind == self.fast_kind && !(self.params && ctx.overridden) {
                return Some(
                    if i64::from(ctx.as_of) - i64::from(cell.day) > i64::from(self.limit) {
                        Truth::Unknown
                    } else if cell.x < self.fast_want {
                        self.below
                    } else if cell.x > self.fast_want {
                        self.above
                    } else if cell.x == self.fast_want {
                        self.equal
                    } else {
                        Truth::Unknown
                    },
                );
            }
            if cell.kind == UNSEEN && self.unseen.is_some() {
                return self.unseen;
            }
        }
        self.decide_long(seen, ctx, subject)
    }

    /// [`Quick::decide`] for what its common case does not cover: a fallback, `present`, an
    /// overridden parameter, a value of another kind or none.
    #[inline(never)]
    fn decide_long(&self, seen: &[Seen], ctx: &Ctx<'_, '_>, subject: Option<usize>) -> Option<Truth> {
        if self.kind == Quick::SLOW {
            return None;
        }
        let (own, at) = if self.slot == SUBJECT {
            let own = subject.map_or(0, |s| s + 1);
            (own, self.cell as usize + own)
        } else {
            (self.slot as usize, self.cell as usize)
        };
        let mut cell = *seen.get(at)?;
        if cell.kind == UNSEEN && self.fallback && own != 0 {
            cell = *seen.get(self.council as usize)?;
        }
        let present = self.ops & Quick::PRESENT != 0;
        let absent = if present { Truth::NotMet } else { Truth::Unknown };
        if cell.kind == UNSEEN {
            return Some(absent);
        }
        let limit = self.limit_in(ctx.params);
        if i64::from(ctx.as_of) - i64::from(cell.day) > i64::from(limit) {
            return Some(absent);
        }
        if present {
            return Some(Truth::Met);
        }
        let (kind, want) = self.threshold_in(ctx.params)?;
        if cell.kind == 0 || kind == 0 {
            return None;
        }
        if cell.kind != kind {
            return Some(Truth::Unknown);
        }
        let bit = if cell.x < want {
            Quick::LESS
        } else if cell.x > want {
            Quick::GREATER
        } else if cell.x == want {
            Quick::EQUAL
        } else {
            return Some(Truth::Unknown);
        };
        Some(if self.ops & bit != 0 {
            Truth::Met
        } else {
            Truth::NotMet
        })
    }
}

/// Folds `t` into the accumulator on top of the stack (`all`: by `min`, else by `max`) and says
/// whether the result is settled, so the rest of the `all`/`any` can be skipped.
#[inline]
fn fold(stack: &mut [Truth], t: Truth, all: bool) -> bool {
    match stack.last_mut() {
        Some(acc) if all => {
            *acc = (*acc).min(t);
            *acc == Truth::NotMet
        }
        Some(acc) => {
            *acc = (*acc).max(t);
            *acc == Truth::Met
        }
        None => false,
    }
}

/// A reference's entry: the rule and which of its subjects it reads.
fn ref_entry(
    r: &crate::rules::RuleRef,
    rules: &[crate::rules::Rule],
    functions: &[crate::functions::Function],
) -> RefEntry {
    let per_function = rules.get(r.rule).is_some_and(|t| t.per_function);
    let subject = if !per_function {
        RefSubject::Fixed(0)
    } else {
        match &r.function {
            Some(f) => RefSubject::Fixed(functions.iter().position(|x| &x.id == f).unwrap_or(0)),
            None => RefSubject::Own,
        }
    };
    RefEntry {
        rule: r.rule,
        subject,
        at_least: r.at_least,
        from: 0,
        subjects: 0,
    }
}

/// Whether a condition reads nothing of the subject: every leaf reads fixed series, and every
/// reference a fixed subject.
fn subject_free(
    c: &Condition,
    rules: &[crate::rules::Rule],
    keys: &[Key],
    functions: &[crate::functions::Function],
) -> bool {
    let mut stack = vec![c];
    while let Some(c) = stack.pop() {
        match c {
            Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
                stack.extend(parts.iter())
            }
            Condition::Not(inner) => stack.push(inner),
            Condition::Leaf(leaf) => {
                if !leaf_entry(leaf, keys, functions).subject_free {
                    return false;
                }
            }
            Condition::Rule(r) => {
                if rules.get(r.rule).is_some_and(|t| t.per_function) && r.function.is_none() {
                    return false;
                }
            }
        }
    }
    true
}

fn leaf_entry(leaf: &Leaf, keys: &[Key], functions: &[crate::functions::Function]) -> LeafEntry {
    let slot = Slot::of(keys, functions, leaf.key, leaf.function.as_deref());
    let own_fixed = matches!(slot, Slot::Fixed(_));
    let max_age = keys.get(leaf.key).and_then(|k| match k.max_age_parameter_index {
        Some(i) => Some(Amount::Parameter(i)),
        None => k.max_age_days.map(Amount::Literal),
    });
    let latest = |op: Option<Op>, threshold: Option<&Threshold>| Latest {
        base: leaf.key.saturating_mul(functions.len() + 1),
        slot: match slot {
            Slot::Subject => SUBJECT,
            // Fixed slots are at most the number of functions, far below `MISSING`.
            Slot::Fixed(Some(s)) => u32::try_from(s).unwrap_or(MISSING),
            Slot::Fixed(None) => MISSING,
        },
        fallback: leaf.fallback_to_council,
        op,
        max_age: Limit::of(max_age),
        within: Limit::of(leaf.within_days),
        want: match threshold {
            Some(Threshold::Literal(v)) => Scalar::of(v),
            _ => Scalar { kind: 0, x: 0.0 },
        },
        param: match threshold {
            Some(Threshold::Parameter(p)) => Some(*p),
            _ => None,
        },
        threshold: threshold.map(|t| Box::new(t.clone())),
    };
    match &leaf.test {
        LeafTest::Compare { op, threshold } => LeafEntry {
            code: LeafCode::Latest(latest(Some(*op), Some(threshold))),
            subject_free: own_fixed,
            memo: false,
        },
        LeafTest::Present => LeafEntry {
            code: LeafCode::Latest(latest(None, None)),
            subject_free: own_fixed,
            memo: false,
        },
        test => {
            // Every other series the leaf reads must be fixed too.
            let others_fixed = match test {
                LeafTest::Against { other, .. } => matches!(
                    Slot::of(
                        keys,
                        functions,
                        other.key,
                        other.function.as_deref().or(leaf.function.as_deref())
                    ),
                    Slot::Fixed(_)
                ),
                LeafTest::DaysSince { until: Some(e), .. } => matches!(
                    Slot::of(keys, functions, e.key, e.function.as_deref()),
                    Slot::Fixed(_)
                ),
                _ => true,
            };
            LeafEntry {
                code: LeafCode::General(Box::new(leaf.clone())),
                subject_free: own_fixed && others_fixed,
                memo: false,
            }
        }
    }
}

/// Rules written out as Rust by [`crate::bulk::generate_rust`], for [`Indexed::outcomes_generated`]: the
/// fingerprint of the program they were written from, and the code. Its fields are public so
/// that the written code can name it as a constant; a value made by hand with a fingerprint
/// copied from real code runs whatever `run` does, with none of the guarantees of
/// `generate_rust`'s code (which writes every outcome, as the interpreter does).
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    /// The fingerprint of the program the code was written from: a hash of this crate's
    /// version and the compiled program's tables.
    pub fingerprint: u64,
    /// The code: every rule of the pack, in dependency order, into the run's outcomes.
    pub run: fn(&mut Run<'_>),
}

impl Generated {
    /// Whether this code was written from `pack` by this version of the crate, so that
    /// [`Indexed::outcomes_generated`] runs it (otherwise the interpreter answers, with the
    /// same outcomes, at the interpreter's speed).
    pub fn fits(&self, pack: &Pack) -> bool {
        self.fingerprint == pack.program.fingerprint()
    }
}

/// One assessment as generated code sees it: the values in force, the as-of day, the
/// interpreter for what the code leaves to it, and the outcomes it writes. Its methods are for
/// generated code; a program calls [`Indexed::outcomes_generated`].
pub struct Run<'r> {
    program: &'r Program,
    indexed: &'r Indexed<'r>,
    options: &'r Options,
    in_force: &'r InForce,
    /// The interpreter's engine and context, made when the code first hands it something.
    engine: &'r std::cell::OnceCell<Engine<'r>>,
    ctx: &'r std::cell::OnceCell<Ctx<'r, 'r>>,
    seen: &'r [Seen],
    as_of: i64,
    out: &'r mut Outcomes,
}

/// Runs `$body` with `$ctx`, the interpreter's context over a [`Run`]'s evidence and day (made
/// on first use, with its engine), and `$out`, the run's outcomes.
macro_rules! with_ctx {
    ($run:expr, |$ctx:ident, $out:ident| $body:expr) => {{
        let run = $run;
        let (indexed, options, program, in_force, engine) =
            (run.indexed, run.options, run.program, run.in_force, run.engine);
        let $ctx = run.ctx.get_or_init(|| {
            let engine = engine.get_or_init(|| {
                let read = indexed.prepared.as_ref().unwrap_or(&indexed.given);
                Engine::with_series(indexed.pack, read, options, Cow::Borrowed(&indexed.index))
            });
            // No parameter is overridden on this path: the defaults are in force.
            program.ctx_at_defaults(engine, in_force)
        });
        let $out = &mut *run.out;
        $body
    }};
}

impl<'r> Run<'r> {
    /// The values in force, one cell per series a latest-value leaf reads (as many as the
    /// program the code was written from has: the fingerprint holds them).
    #[inline(always)]
    pub fn cells(&self) -> &'r [Seen] {
        self.seen
    }

    /// The as-of day, as a day number from the common era.
    #[inline(always)]
    pub fn as_of(&self) -> i64 {
        self.as_of
    }

    /// Leaf `i`'s truth for `subject` (a function's index in a per-function rule), as the
    /// interpreter decides it: for what the code does not decide itself.
    #[inline(never)]
    pub fn leaf(&mut self, i: usize, subject: Option<usize>) -> Truth {
        let program = self.program;
        with_ctx!(self, |ctx, out| program.leaf(i, ctx, subject, out))
    }

    /// Reference `i`'s truth for `subject`, from the outcomes already written.
    #[inline(never)]
    pub fn reference(&self, i: usize, subject: Option<usize>) -> Truth {
        self.program.reference(i, subject, self.out)
    }

    /// Rule `rule`, every subject, by the interpreter.
    #[inline(never)]
    pub fn rule(&mut self, rule: usize) {
        let program = self.program;
        with_ctx!(self, |ctx, out| program.rule_into(rule, ctx, out));
    }

    /// Every rule by the interpreter: for code that finds the cells not as it was written for
    /// (which the fingerprint rules out).
    #[inline(never)]
    pub fn interpret(&mut self) {
        let program = self.program;
        with_ctx!(self, |ctx, out| {
            for &rule in &program.order {
                program.rule_into(rule, ctx, out);
            }
        });
    }

    /// Writes an outcome at `at` of the outcomes (a rule's first outcome plus its subject).
    #[inline(always)]
    pub fn put(&mut self, at: usize, outcome: Outcome) {
        if let Some(cell) = self.out.flat.get_mut(at) {
            *cell = outcome;
        }
    }
}

/// Outcomes of one bulk assessment, by rule and subject, in buffers a caller keeps and passes
/// again: once they have grown to a pack's size, assessing allocates nothing for latest-value
/// comparisons without parameter overrides (other leaf tests and overrides allocate a little).
///
/// Subjects are function indices for per-function rules and `0` for council-wide rules, as in
/// [`crate::bulk::outcomes`].
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    flat: Vec<Outcome>,
    offsets: Vec<usize>,
    stack: Vec<Truth>,
    memo: Vec<Option<Truth>>,
    shared: Vec<Option<Truth>>,
    /// The parameters in force when some are overridden (see `Ctx`).
    params: Vec<(u32, Scalar)>,
    /// The fingerprint of the program whose generated code last laid these buffers out (0:
    /// none known): its next run over them need not check the layout again.
    layout: u64,
    /// Which [`WhatIf`]'s base these outcomes are the last answer over (0: none), and the
    /// rules that answer evaluated again; everything else is that base's.
    stamp: u64,
    rerun: Vec<usize>,
}

impl Outcomes {
    /// Empty buffers.
    pub fn new() -> Outcomes {
        Outcomes::default()
    }

    /// One rule's outcome for one subject.
    pub fn get(&self, rule: usize, subject: usize) -> Option<Outcome> {
        let (&from, &to) = (self.offsets.get(rule)?, self.offsets.get(rule + 1)?);
        if subject < to.saturating_sub(from) {
            self.flat.get(from + subject).copied()
        } else {
            None
        }
    }

    /// One rule's outcomes, one per subject.
    pub fn rule(&self, rule: usize) -> &[Outcome] {
        match (self.offsets.get(rule), self.offsets.get(rule + 1)) {
            (Some(&from), Some(&to)) => self.flat.get(from..to).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Every outcome, rule by rule (in pack order) and subject by subject.
    pub(crate) fn flat(&self) -> &[Outcome] {
        &self.flat
    }

    /// How many rules there are outcomes for.
    pub fn rules(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The outcomes as [`crate::bulk::outcomes`] gives them, one vector per rule.
    pub fn to_vecs(&self) -> Vec<Vec<Outcome>> {
        (0..self.rules()).map(|r| self.rule(r).to_vec()).collect()
    }
}

/// Evidence indexed once for repeated bulk assessment against one pack: what-if loops, sweeps
/// and embedding tools that assess the same evidence at many dates or with many parameter
/// settings skip re-indexing it every time.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::bulk::{Indexed, Outcome, Outcomes};
/// use handback::{EvidenceBuilder, ObservationDraft, Options, Truth};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let indexed = Indexed::new(&pack, &evidence);
/// let rule = pack.rules().iter().position(|r| r.id == "children-5").unwrap();
/// let mut out = Outcomes::new();
/// for as_of in [day, day.succ_opt().unwrap()] {
///     indexed.outcomes_into(&Options::new(as_of), &mut out);
///     assert_eq!(out.get(rule, 0), Some(Outcome::Test(Truth::NotMet)));
/// }
/// # Ok::<(), handback::LoadError>(())
/// ```
#[derive(Debug)]
pub struct Indexed<'a> {
    pack: &'a Pack,
    /// The evidence as given, for options that filter it (`known_at`, `exclude_basis`).
    given: Cow<'a, Evidence>,
    /// The evidence as the evaluator reads it, when that differs from what was given (derived
    /// keys computed, refused roles left out).
    prepared: Option<Evidence>,
    index: Index,
    /// The values in force on the first as-of day asked about twice in a row (or a
    /// [`WhatIf`]'s), kept for the questions after it (most callers ask about one day); other
    /// days search the columns.
    in_force: std::sync::OnceLock<InForce>,
    /// The last day asked about (`i64::MIN`: none), until the values in force are kept.
    last_day: std::sync::atomic::AtomicI64,
}

impl<'a> Indexed<'a> {
    /// Indexes `evidence` (loaded against `pack`) for assessment.
    pub fn new(pack: &'a Pack, evidence: &'a Evidence) -> Indexed<'a> {
        Indexed::of(pack, Cow::Borrowed(evidence))
    }

    /// Indexes `evidence`, keeping it: for callers that hold many indexed evidence files.
    pub fn owning(pack: &'a Pack, evidence: Evidence) -> Indexed<'a> {
        Indexed::of(pack, Cow::Owned(evidence))
    }

    fn of(pack: &'a Pack, given: Cow<'a, Evidence>) -> Indexed<'a> {
        let prepared = crate::derived::prepare(pack, &given).map(|p| p.evidence);
        let read = prepared.as_ref().unwrap_or(&given);
        let index = Index::new(pack, &read.observations);
        Indexed {
            pack,
            given,
            prepared,
            index,
            in_force: std::sync::OnceLock::new(),
            last_day: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }

    /// The evidence indexed, as given.
    pub fn evidence(&self) -> &Evidence {
        &self.given
    }

    /// Assesses the evidence as `options` say, outcomes only, into `out`. Options that filter
    /// the evidence (`known_at`, `exclude_basis`) are honoured by filtering it afresh, at the
    /// cost of indexing again.
    pub fn outcomes_into(&self, options: &Options, out: &mut Outcomes) {
        if options.known_at.is_some() || !options.exclude_basis.is_empty() {
            let given: &Evidence = &self.given;
            let replayed = options.known_at.map(|k| given.known_at(k).0);
            let evidence = replayed.as_ref().unwrap_or(given);
            let filtered =
                (!options.exclude_basis.is_empty()).then(|| evidence.without_basis(&options.exclude_basis).0);
            let evidence = filtered.as_ref().unwrap_or(evidence);
            let prepared = crate::derived::prepare(self.pack, evidence);
            let evidence = prepared.as_ref().map_or(evidence, |p| &p.evidence);
            let engine = Engine::new(self.pack, evidence, options);
            self.pack.program.run(&engine, None, out);
            return;
        }
        let read = self.prepared.as_ref().unwrap_or(&self.given);
        let engine = Engine::with_series(self.pack, read, options, Cow::Borrowed(&self.index));
        let in_force = self.in_force(engine.as_of_days, options.as_of);
        self.pack.program.run(&engine, in_force, out);
    }

    /// As [`Indexed::outcomes_into`], by code generated from this pack ([`generate::rust`])
    /// where it applies: the same outcomes, faster. The generated code runs when the values
    /// in force are kept for the day (the second question about a day onwards), no parameter
    /// is overridden, no option filters the evidence, and it was written from this pack by this
    /// version of the crate; otherwise the interpreter answers.
    pub fn outcomes_generated(&self, options: &Options, out: &mut Outcomes, generated: &Generated) {
        let program = &self.pack.program;
        if options.known_at.is_some()
            || !options.exclude_basis.is_empty()
            || !options.parameters.is_empty()
            || generated.fingerprint != program.fingerprint()
        {
            return self.outcomes_into(options, out);
        }
        // The values in force kept for this date, found without working out its day number.
        let in_force = match self.in_force.get() {
            Some(kept) if kept.date == Some(options.as_of) => Some(kept),
            _ => self.in_force(chrono::Datelike::num_days_from_ce(&options.as_of), options.as_of),
        };
        let Some(in_force) = in_force.filter(|f| f.seen.len() == program.cells.len()) else {
            // Interpreted as `outcomes_into` would, without asking about the day a second time
            // (which would count as asking twice, and gather the values in force for evidence
            // assessed once).
            let read = self.prepared.as_ref().unwrap_or(&self.given);
            let engine = Engine::with_series(self.pack, read, options, Cow::Borrowed(&self.index));
            return program.run(&engine, None, out);
        };
        let day = in_force.day;
        if generated.fingerprint != 0 && out.layout == generated.fingerprint {
            out.stamp = 0;
            if program.memos {
                program.forget(out);
            }
        } else {
            program.prepare(out);
            out.layout = generated.fingerprint;
        }
        let (engine, ctx) = (std::cell::OnceCell::new(), std::cell::OnceCell::new());
        let mut run = Run {
            program,
            indexed: self,
            options,
            in_force,
            engine: &engine,
            ctx: &ctx,
            seen: &in_force.seen,
            as_of: i64::from(day),
            out,
        };
        (generated.run)(&mut run);
    }

    /// The recommendations recorded and in force as `options` say (which must not filter the
    /// evidence), as an assessment lists them.
    pub(crate) fn recommendations(&self, options: &Options) -> Vec<crate::assess::RecordedRecommendation> {
        let read = self.prepared.as_ref().unwrap_or(&self.given);
        Engine::with_series(self.pack, read, options, Cow::Borrowed(&self.index)).recommendations()
    }

    /// The values in force on `day`, if they are kept for it: the first day asked about twice
    /// in a row, so that evidence assessed once pays nothing for gathering them.
    fn in_force(&self, day: i32, date: chrono::NaiveDate) -> Option<&InForce> {
        if let Some(kept) = self.in_force.get() {
            return (kept.day == day).then_some(kept);
        }
        let before = self
            .last_day
            .swap(i64::from(day), std::sync::atomic::Ordering::Relaxed);
        if before != i64::from(day) {
            return None;
        }
        Some(self.in_force.get_or_init(|| self.dated(day, date))).filter(|f| f.day == day)
    }

    /// The values in force on `day`, kept for it if none are kept yet.
    fn in_force_now(&self, day: i32, date: chrono::NaiveDate) -> Option<&InForce> {
        Some(self.in_force.get_or_init(|| self.dated(day, date))).filter(|f| f.day == day)
    }

    /// The values in force on `day`, which is `date`.
    fn dated(&self, day: i32, date: chrono::NaiveDate) -> InForce {
        InForce {
            date: Some(date),
            ..self.index.in_force(&self.pack.program.cells, day)
        }
    }
}

/// What-if questions over indexed evidence, outcomes only: each answer re-evaluates only the
/// rules that read what the changes touch, over the indexed evidence with the changed series
/// overlaid, instead of copying the evidence, indexing it again and assessing every rule.
///
/// The answers are those of [`crate::apply`] followed by a bulk assessment, always: changes
/// the overlay cannot stand for (removals, a new as-of date, a key that a derived key read by
/// a rule is computed from, a text key, evidence that already holds a scenario's
/// observations, options that filter the evidence) take that path itself, and a change the
/// loader would refuse is refused with the same located messages. An answer that overrides a
/// parameter evaluates again, under the overridden parameters, the rules that read it (as a
/// threshold, a window, a count, a limit or a key's maximum age) and those that refer to them.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::bulk::{Indexed, Outcome, Outcomes, WhatIf};
/// use handback::{parse_set, EvidenceBuilder, ObservationDraft, Options, Truth};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let indexed = Indexed::new(&pack, &evidence);
/// let mut whatif = WhatIf::new(&indexed, &Options::new(day));
/// let rule = pack.rules().iter().position(|r| r.id == "children-5").unwrap();
/// assert_eq!(whatif.base().get(rule, 0), Some(Outcome::Test(Truth::NotMet)));
/// let mut out = Outcomes::new();
/// whatif.outcomes_into(&[parse_set("children.mtfs_adopted=true").unwrap()], "--set", &mut out)?;
/// assert_ne!(out.get(rule, 0), Some(Outcome::Test(Truth::NotMet)));
/// # Ok::<(), handback::LoadError>(())
/// ```
#[derive(Debug)]
pub struct WhatIf<'i, 'a> {
    indexed: &'i Indexed<'a>,
    options: Options,
    base: Outcomes,
    /// Whether the evidence holds a scenario's observations (a chain), whose ids a new
    /// scenario's could collide with: the document path reports that.
    chained: bool,
    /// The index with the last answer's changes overlaid: a copy of the evidence's index, to
    /// which each answer's overlay is undone (`undo`: each series changed and its range
    /// before) rather than copied afresh.
    index: Index,
    undo: Vec<Undo>,
    /// The values in force on the as-of day over `index`, kept with it: each series an answer
    /// changes is looked at again, and put back with it.
    in_force: InForce,
    /// Scratch: the sets of an answer as (series, day, value), the keys changed, the rules
    /// dirty.
    sets: Vec<(usize, i32, Scalar, u32)>,
    /// Scratch: the observations made for sets of keys read as observations (a set's last
    /// field is its place here, or [`NOT_MADE`]), taken as they are placed.
    made: Vec<Option<crate::evidence::Observation>>,
    /// The observations of the series an answer rebuilt that are read as observations, in
    /// the order of their entries in the columns past the evidence's end.
    extra: Vec<crate::evidence::Observation>,
    changed: Vec<usize>,
    changed_params: Vec<usize>,
    dirty: Vec<bool>,
    frontier: Vec<usize>,
    touched: Vec<usize>,
    /// Scratch: one changed series' new entries.
    series: Vec<(i32, Scalar)>,
    series_made: Vec<u32>,
    /// Whether the last answer overrode parameters, and the options it was answered under
    /// (kept, so an answer does not allocate them afresh).
    reparameterised: bool,
    reparameterised_options: Options,
    /// Names this `WhatIf`'s base, so an answer into the buffer of the last one restores only
    /// what that answer changed.
    stamp: u64,
}

/// What an answer changed of one series, to put back: its range in the columns, and its cell
/// among the values in force if a quick leaf reads it.
#[derive(Debug)]
struct Undo {
    at: usize,
    range: (u32, u32),
    seen: Option<(usize, Seen)>,
}

/// One set of a scenario, checked and decoded as [`WhatIf::overlay`] checks and decodes it,
/// ready to be placed: for callers that overlay the same set in many answers.
#[derive(Debug, Clone)]
pub(crate) struct Placing {
    key: usize,
    /// The series (`key * slots + slot`), the day and the value.
    at: usize,
    day: i32,
    value: Scalar,
    /// For a key read as observations, the observation `apply` would make.
    made: Option<crate::evidence::Observation>,
}

/// Change `n` of a scenario (labelled `label`) checked and decoded for the overlay; `None` for
/// one it does not stand for (not a set; a text key; an input of a derived key some rule reads)
/// or one `apply` would refuse.
pub(crate) fn placing(
    pack: &Pack,
    as_of: chrono::NaiveDate,
    n: usize,
    change: &crate::whatif::Change,
    label: &str,
) -> Option<Placing> {
    let crate::whatif::Change::Set {
        key,
        function,
        value,
        date,
    } = change
    else {
        return None;
    };
    let reads = &pack.program.reads;
    let k = pack.key_index(key)?;
    let def = pack.keys.get(k)?;
    let overlaid = !reads.derived_input.get(k).copied().unwrap_or(true)
        && !matches!(def.value_type, crate::vocabulary::ValueType::Text);
    if !overlaid {
        return None;
    }
    let date = date.unwrap_or(as_of);
    // Checked as `apply` checks it; a refusal goes down its path, which reports it.
    let value = crate::whatif::set_value(pack, def, function.as_deref(), date, value)?;
    let slot = match function {
        None => 0,
        Some(f) => pack.functions.iter().position(|x| &x.id == f)? + 1,
    };
    let scalar = Scalar::of(&value);
    // A key read as observations: the observation `apply` would make, kept to be placed.
    let made = if reads.general.get(k).copied().unwrap_or(true) {
        Some(crate::whatif::scenario_observation(
            pack,
            label,
            n,
            k,
            function.as_deref(),
            date,
            value,
        )?)
    } else {
        None
    };
    Some(Placing {
        key: k,
        at: k * (pack.functions.len() + 1) + slot,
        day: chrono::Datelike::num_days_from_ce(&date),
        value: scalar,
        made,
    })
}

/// A set of a key read from the columns alone: nothing made to place.
const NOT_MADE: u32 = u32::MAX;

/// The stamps [`WhatIf`]s take, one each.
static STAMPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl<'i, 'a> WhatIf<'i, 'a> {
    /// Assesses the indexed evidence as `options` say, once, as the base of the answers.
    pub fn new(indexed: &'i Indexed<'a>, options: &Options) -> WhatIf<'i, 'a> {
        let mut base = Outcomes::new();
        indexed.outcomes_into(options, &mut base);
        let chained = indexed
            .given
            .observations
            .iter()
            .any(|o| o.id.starts_with(crate::whatif::SCENARIO_ID_PREFIX));
        let day = chrono::Datelike::num_days_from_ce(&options.as_of);
        let in_force = match indexed.in_force_now(day, options.as_of) {
            Some(f) => f.clone(),
            None => indexed.index.in_force(&indexed.pack.program.cells, day),
        };
        WhatIf {
            indexed,
            options: options.clone(),
            base,
            chained,
            index: indexed.index.clone(),
            undo: Vec::new(),
            in_force,
            sets: Vec::new(),
            changed: Vec::new(),
            changed_params: Vec::new(),
            dirty: Vec::new(),
            frontier: Vec::new(),
            touched: Vec::new(),
            series: Vec::new(),
            series_made: Vec::new(),
            made: Vec::new(),
            extra: Vec::new(),
            reparameterised: false,
            reparameterised_options: options.clone(),
            stamp: STAMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The outcomes with no change.
    pub fn base(&self) -> &Outcomes {
        &self.base
    }

    /// The outcomes after `changes`, into `out`; problems are reported at `label`,
    /// `$.changes[N]`, as [`crate::apply`] reports them.
    pub fn outcomes_into(
        &mut self,
        changes: &[crate::whatif::Change],
        label: &str,
        out: &mut Outcomes,
    ) -> Result<(), crate::pack::LoadError> {
        if self.overlaid_into(changes, label, out).is_some() {
            return Ok(());
        }
        let options = &self.options;
        let applied = crate::whatif::apply(
            self.indexed.pack,
            &self.indexed.given,
            options.as_of,
            &options.parameters,
            changes,
            label,
        )?;
        let after = Options {
            as_of: applied.as_of,
            parameters: applied.parameters,
            ..options.clone()
        };
        Indexed::new(self.indexed.pack, &applied.evidence).outcomes_into(&after, out);
        Ok(())
    }

    /// The outcomes after `changes`, into `out`, when the overlay stands for them all; `None`
    /// (and `out` untouched) otherwise.
    pub(crate) fn overlaid_into(
        &mut self,
        changes: &[crate::whatif::Change],
        label: &str,
        out: &mut Outcomes,
    ) -> Option<()> {
        self.overlay(changes, label)?;
        self.rerun_into(out);
        Some(())
    }

    /// The outcomes after what is overlaid, into `out`: the rules it touches evaluated again.
    fn rerun_into(&mut self, out: &mut Outcomes) {
        let pack = self.indexed.pack;
        let read = self.indexed.prepared.as_ref().unwrap_or(&self.indexed.given);
        let options = if self.reparameterised {
            &self.reparameterised_options
        } else {
            &self.options
        };
        let mut engine = Engine::with_series(pack, read, options, Cow::Borrowed(&self.index));
        engine.set_extra(&self.extra);
        pack.program.dirty(
            &self.changed,
            &self.changed_params,
            &mut self.dirty,
            &mut self.frontier,
            &mut self.touched,
        );
        pack.program.rerun(
            &engine,
            Some(&self.in_force),
            &self.base,
            &self.touched,
            out,
            self.stamp,
        );
    }

    /// Overlays the changes on the index, and lists the keys they change, when every change is
    /// one the overlay stands for exactly; `None` otherwise.
    ///
    /// A key that leaves other than latest-value comparisons read (windows, trends, counts)
    /// is read as observations, not from the columns: its series are rebuilt first, each with
    /// the observations `apply` would make (named after `label`) placed in `extra` beside their
    /// entries in the columns, so that the engine finds them where the columns say.
    pub(crate) fn overlay(&mut self, changes: &[crate::whatif::Change], label: &str) -> Option<()> {
        self.restore();
        let pack = self.indexed.pack;
        if self.chained || self.options.known_at.is_some() || !self.options.exclude_basis.is_empty() {
            return None;
        }
        self.changed.clear();
        self.changed_params.clear();
        for (n, change) in changes.iter().enumerate() {
            if let crate::whatif::Change::Param { name, value } = change {
                // Checked and parsed as `apply` does (`check_change` is this parse); a refusal
                // goes down its path, which reports it. A later override of the same parameter
                // wins, as there.
                let parsed = crate::pack::parse_parameter(pack, name, &value.to_string()).ok()?;
                let index = pack.parameters.iter().position(|p| &p.name == name)?;
                self.changed_params.push(index);
                if !self.reparameterised {
                    self.reparameterised_options.clone_from(&self.options);
                    self.reparameterised = true;
                }
                self.reparameterised_options
                    .parameters
                    .insert(name.clone(), parsed);
                continue;
            }
            let placing = placing(pack, self.options.as_of, n, change, label)?;
            self.push(placing)?;
        }
        self.place()
    }

    /// Overlays sets already checked and decoded ([`placing`]), as [`WhatIf::overlay`] would
    /// overlay the changes they came from, and gives the outcomes after them into `out`.
    pub(crate) fn placed_into<'p>(
        &mut self,
        placings: impl IntoIterator<Item = &'p Placing>,
        out: &mut Outcomes,
    ) -> Option<()> {
        self.restore();
        if self.chained || self.options.known_at.is_some() || !self.options.exclude_basis.is_empty() {
            return None;
        }
        self.changed.clear();
        self.changed_params.clear();
        for placing in placings {
            self.push(placing.clone())?;
        }
        self.place()?;
        self.rerun_into(out);
        Some(())
    }

    /// Takes one set to be placed.
    fn push(&mut self, placing: Placing) -> Option<()> {
        let made = match placing.made {
            Some(o) => {
                self.made.push(Some(o));
                u32::try_from(self.made.len() - 1).ok()?
            }
            None => NOT_MADE,
        };
        self.sets.push((placing.at, placing.day, placing.value, made));
        self.changed.push(placing.key);
        Some(())
    }

    /// Places the sets taken: each series they change rebuilt at the end of the columns.
    fn place(&mut self) -> Option<()> {
        let pack = self.indexed.pack;
        // Each series changed is rebuilt once, with its sets in day order and the last set of
        // a day winning (a later change supersedes an earlier one): many sets on one long
        // series must not copy it once per set. Series read as observations come first, so that
        // `extra` lines up with the columns from the evidence's end.
        let mut sets = std::mem::take(&mut self.sets);
        // Stable: the change order is kept within a series and a day.
        let observed = !self.made.is_empty();
        if observed {
            sets.sort_by_key(|&(at, day, _, made)| (made == NOT_MADE, at, day));
        } else {
            sets.sort_by_key(|&(at, day, _, _)| (at, day));
        }
        let mut series = std::mem::take(&mut self.series);
        let mut series_made = std::mem::take(&mut self.series_made);
        let read = self.indexed.prepared.as_ref().unwrap_or(&self.indexed.given);
        let evidence_len = read.observations.len();
        let mut i = 0;
        while let Some(&(at, _, _, _)) = sets.get(i) {
            series.clear();
            series_made.clear();
            while let Some(&(other, day, value, made)) = sets.get(i) {
                if other != at {
                    break;
                }
                match series.last_mut() {
                    Some(last) if last.0 == day => {
                        *last = (day, value);
                        if let Some(m) = series_made.last_mut().filter(|_| observed) {
                            *m = made;
                        }
                    }
                    _ => {
                        series.push((day, value));
                        if observed {
                            series_made.push(made);
                        }
                    }
                }
                i += 1;
            }
            let before = *self.index.series.get(at)?;
            let as_observations = observed && series_made.first().is_some_and(|&m| m != NOT_MADE);
            if as_observations {
                // INVARIANT: series read as observations are rebuilt before any other, so the
                // columns past the evidence and `extra` have grown together.
                if self.index.days.len() != evidence_len + self.extra.len() {
                    return None;
                }
                let (extra, made) = (&mut self.extra, &mut self.made);
                let mut lost = false;
                self.index.set(at, &series, |placed| {
                    let o = match placed {
                        Placed::Original(j) => read.observations.get(j).cloned(),
                        Placed::New(n) => series_made
                            .get(n)
                            .and_then(|&m| made.get_mut(m as usize))
                            .and_then(Option::take),
                    };
                    match o {
                        Some(o) => extra.push(o),
                        None => lost = true,
                    }
                })?;
                if lost {
                    // The series has moved: the next answer must still put it back.
                    self.undo.push(Undo {
                        at,
                        range: before,
                        seen: None,
                    });
                    return None;
                }
            } else {
                self.index.set(at, &series, |_| {})?;
            }
            // The series' cell among the values in force, if a quick leaf reads it.
            let cell = pack.program.cell_of(at);
            let seen = match cell.and_then(|c| self.in_force.seen.get_mut(c)) {
                Some(seen) => Some(std::mem::replace(seen, self.index.seen(at, self.in_force.day))),
                None => None,
            };
            self.undo.push(Undo {
                at,
                range: before,
                seen: cell.zip(seen),
            });
        }
        sets.clear();
        self.sets = sets;
        self.series = series;
        self.series_made = series_made;
        Some(())
    }

    /// Whether the last overlay rebuilt a series read as observations (for the tests that
    /// guard the properties).
    #[cfg(test)]
    pub(crate) fn overlays_observations(&self) -> bool {
        !self.extra.is_empty()
    }

    /// Takes the index back to the evidence as indexed, undoing what the last answer overlaid.
    fn restore(&mut self) {
        for Undo { at, range, seen } in self.undo.drain(..).rev() {
            if let Some(cell) = self.index.series.get_mut(at) {
                *cell = range;
            }
            if let Some((c, seen)) = seen {
                if let Some(cell) = self.in_force.seen.get_mut(c) {
                    *cell = seen;
                }
            }
        }
        let len = self.indexed.index.days.len();
        self.index.days.truncate(len);
        self.index.values.truncate(len);
        // An answer that set a long series many times may have grown the columns far past the
        // evidence; that space is not kept for the answers after it.
        if self.index.days.capacity() > 2 * len + 4096 {
            self.index.days.shrink_to(2 * len);
            self.index.values.shrink_to(2 * len);
        }
        self.sets.clear();
        self.extra.clear();
        self.made.clear();
        self.reparameterised = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series' cell among the values in force is found through its key's cells as a search of
    /// them all finds it, for every series of the embedded pack's index.
    #[test]
    fn a_series_cell_is_found_through_its_key() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let program = &pack.program;
        let series = pack.keys.len() * (pack.functions.len() + 1);
        let mut found = 0;
        for at in 0..series + 3 {
            let searched = u32::try_from(at)
                .ok()
                .and_then(|a| program.cells.binary_search(&a).ok());
            assert_eq!(program.cell_of(at), searched, "series {at}");
            found += usize::from(searched.is_some());
        }
        // Both shapes occur: keys read in every slot and keys read in some.
        assert_eq!(found, program.cells.len());
        assert!(program.cells.len() > pack.keys.len() && program.cells.len() < series);
    }

    /// Every condition of the embedded pack is decided in one of the direct shapes, none by the
    /// stack machine: `children-1`'s `all [any [a, b], c, …]` is a group with a nested group.
    #[test]
    fn the_embedded_pack_needs_no_stack_machine() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let program = &pack.program;
        let blocks = program.rules.iter().flat_map(|code| match code {
            RuleCode::Test(b) => vec![b],
            RuleCode::Graded(levels) => levels.iter().filter_map(|(_, b)| b.as_ref()).collect(),
        });
        let mut nested = 0;
        for block in blocks {
            assert!(!matches!(block, Block::Code(_)), "{block:?}");
            if let Block::Group { from, to, .. } = *block {
                nested += program.parts[from as usize..to as usize]
                    .iter()
                    .filter(|p| matches!(p, Part::Group { .. }))
                    .count();
            }
        }
        assert!(nested >= 1, "no nested group: {:?}", program.parts);
    }

    /// The rules a change touches, followed outward from the rules that read it, are those a
    /// walk of every rule finds, for each key alone and with any other key, and each parameter
    /// alone and with any key, over the embedded pack (the what-if property test holds the
    /// answers on generated packs).
    #[test]
    fn touched_rules_are_those_a_walk_finds() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let program = &pack.program;
        let keys = pack.keys.len();
        let (mut by_key, mut by_walk, mut frontier, mut touched) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut touched_any = 0;
        for a in 0..keys {
            for b in a..keys {
                for changed in [vec![a], vec![a, b]] {
                    program.dirty(&changed, &[], &mut by_key, &mut frontier, &mut touched);
                    program.dirty_by_walk(&changed, &[], &mut by_walk);
                    assert_eq!(by_key, by_walk, "keys {changed:?}");
                    // Listed in dependency order, each once.
                    let in_order: Vec<usize> = program
                        .order
                        .iter()
                        .copied()
                        .filter(|&r| by_walk.get(r).copied().unwrap_or(false))
                        .collect();
                    assert_eq!(touched, in_order, "keys {changed:?}");
                    touched_any += usize::from(by_key.contains(&true));
                }
            }
        }
        assert!(touched_any > keys, "few keys touch any rule: {touched_any}");
        // Each parameter overridden, alone and with each key changed.
        let params = pack.parameters.len();
        let mut touched_by_param = 0;
        for p in 0..params {
            for changed in std::iter::once(vec![]).chain((0..keys).map(|k| vec![k])) {
                program.dirty(&changed, &[p], &mut by_key, &mut frontier, &mut touched);
                program.dirty_by_walk(&changed, &[p], &mut by_walk);
                assert_eq!(by_key, by_walk, "keys {changed:?}, parameter {p}");
                touched_by_param += usize::from(changed.is_empty() && by_key.contains(&true));
            }
        }
        // Both parameters of the embedded pack are thresholds some rule reads.
        assert!(
            touched_by_param == params && params >= 2,
            "{touched_by_param} of {params}"
        );
    }

    /// Many sets on one long series copy it once, not once per set: the overlay grows the
    /// columns by the series and the sets, and the answer is still `apply`'s.
    #[test]
    fn many_sets_on_one_series_copy_it_once() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let first = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).expect("a date");
        let mut builder = crate::EvidenceBuilder::new("Example Council");
        for i in 0..500 {
            let day = first + chrono::Duration::days(i);
            builder = builder.observe(crate::ObservationDraft::new(
                format!("a{i}"),
                "children.agency_share",
                0.3,
                day,
                "Returns",
                "table 1",
            ));
        }
        let evidence = builder.build(&pack).expect("the evidence builds");
        let options = Options::new(first + chrono::Duration::days(600));
        let indexed = Indexed::new(&pack, &evidence);
        let mut whatif = WhatIf::new(&indexed, &options);
        let changes: Vec<crate::whatif::Change> = (0..400)
            .map(|i| crate::whatif::Change::Set {
                key: "children.agency_share".into(),
                function: None,
                value: serde_json::json!(if i % 2 == 0 { 0.1 } else { 0.2 }),
                date: Some(first + chrono::Duration::days(i * 2)),
            })
            .collect();
        assert!(
            whatif.overlay(&changes, "s").is_some(),
            "the overlay stands for these sets"
        );
        let grown = whatif.index.days.len() - indexed.index.days.len();
        assert!(grown <= 500 + 400, "the columns grew by {grown}");
        let mut out = Outcomes::new();
        assert!(whatif.outcomes_into(&changes, "s", &mut out).is_ok());
        let applied = crate::whatif::apply(
            &pack,
            &evidence,
            options.as_of,
            &options.parameters,
            &changes,
            "s",
        )
        .expect("the changes apply");
        assert_eq!(
            out.to_vecs(),
            crate::assess::outcomes(&pack, &applied.evidence, &options)
        );
    }
}
