//! The phase planner: what can be handed back now, what later, and what blocks the rest.
//!
//! Given an assessment and who holds each function (from the Directions), the planner derives
//! the intervention's phase (`004` §7), says for every held function whether it is ready and
//! what blocks it, recommends a tranche (closed under prerequisites: a function is never
//! recommended before its prerequisites are returned or in the same tranche), projects when the
//! rest can follow, and says what the end of the intervention still needs.
//!
//! The scheduling core ([`schedule`]) is a pure function of readiness and prerequisites, so its
//! invariants are tested directly by property tests.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::assess::{Assessment, Reason, RuleResult, Truth, Verdict};
use crate::directions::{Directions, Power};
use crate::functions::Safeguard;
use crate::pack::Pack;
use crate::rules::Body;

/// When a function can come back.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Transferred out of the council's control: not the council's to have back, and no
    /// function waits for it.
    Transferred,
    /// Already returned.
    Returned,
    /// Recommended for return (a recorded recommendation), still held: awaiting the decision of
    /// whoever returns powers (the Secretary of State, in an English intervention).
    AwaitingDecision,
    /// Ready now, with its prerequisites returned or in the same tranche.
    Now,
    /// Once its own tests, or a prerequisite's, are met.
    Later,
    /// Only when the intervention ends.
    AtExit,
}

/// Whether a function's gates (its return tests) are met.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Readiness {
    /// Every gate is met.
    Met,
    /// A gate is not met.
    NotMet,
    /// No gate is failed, but one is not known.
    Unknown,
    /// The function has no gates: only prerequisites and `held_until_exit` can hold it back.
    NotGated,
}

impl Readiness {
    /// The words for people: "met", "not met", "unknown", "not gated".
    pub fn words(self) -> &'static str {
        match self {
            Readiness::Met => "met",
            Readiness::NotMet => "not met",
            Readiness::Unknown => "unknown",
            Readiness::NotGated => "not gated",
        }
    }

    /// The wire word: `met`, `not_met`, `unknown`, `not_gated`.
    pub fn code(self) -> &'static str {
        match self {
            Readiness::Met => "met",
            Readiness::NotMet => "not_met",
            Readiness::Unknown => "unknown",
            Readiness::NotGated => "not_gated",
        }
    }

    /// Met, or nothing to meet.
    pub fn is_ready(self) -> bool {
        matches!(self, Readiness::Met | Readiness::NotGated)
    }
}

/// The planner's view of one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub prerequisites: Vec<usize>,
    pub returned: bool,
    /// Recommended and still held: awaiting the decision.
    pub awaiting: bool,
    pub ready: bool,
    pub held_until_exit: bool,
    /// Transferred out of the council's control: neither held nor returned, in no tranche.
    pub transferred: bool,
}

/// Schedules functions: each comes back no earlier than its own readiness allows and no earlier
/// than any prerequisite. `order` lists every node after its prerequisites.
pub(crate) fn schedule(nodes: &[Node], order: &[usize]) -> Vec<Step> {
    let mut steps = vec![Step::Later; nodes.len()];
    for &i in order {
        let Some(node) = nodes.get(i) else { continue };
        let step = if node.transferred {
            Step::Transferred
        } else if node.returned {
            Step::Returned
        } else if node.held_until_exit {
            Step::AtExit
        } else {
            let own = if node.awaiting {
                Step::AwaitingDecision
            } else if node.ready {
                Step::Now
            } else {
                Step::Later
            };
            // No earlier than any prerequisite: a returned or awaiting prerequisite allows an
            // awaiting or ready dependent; one that can come back now makes it "now" too.
            node.prerequisites
                .iter()
                .filter_map(|p| steps.get(*p).copied())
                .fold(own, Step::max)
        };
        if let Some(slot) = steps.get_mut(i) {
            *slot = step;
        }
    }
    steps
}

/// The intervention's phase: the last of the pack's phases whose condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Phase {
    /// Its place in the pack's list of phases, from 1.
    pub number: u8,
    /// The pack's description of it.
    pub name: String,
    /// Why this phase.
    pub reasons: Vec<String>,
}

/// Something in the way of a function's return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    /// A criterion that is not met (or not known to be).
    Criterion {
        /// The rule.
        rule: String,
        /// Its title.
        title: String,
        /// The function it was assessed for, if per function.
        #[serde(skip_serializing_if = "Option::is_none")]
        function: Option<String>,
        /// Not met or unknown.
        outcome: Verdict,
        /// The signals that failed or are unknown, with why.
        signals: Vec<String>,
    },
    /// A prerequisite that is neither returned nor in the tranche.
    Prerequisite {
        /// The function depended on.
        function: String,
        /// Why it must come first.
        reason: String,
    },
    /// The function stays with the Commissioners to the end.
    HeldUntilExit {
        /// Why.
        reason: String,
    },
    /// A recorded finding that the function is not yet recommended for return.
    NotRecommended {
        /// The day it describes.
        date: NaiveDate,
        /// The observation that records it.
        observation: String,
        /// Where it comes from.
        source: crate::evidence::Source,
    },
}

/// One function in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FunctionPlan {
    /// Function id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Who holds it now.
    pub power: Power,
    /// Since when (the instrument's date), if any instrument set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    /// For a transferred function: to whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// For a safeguard that ends: the first day without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Whether its gates are met.
    pub ready: Readiness,
    /// The weakest basis the gates' verdict rests on, when it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_basis: Option<crate::evidence::Basis>,
    /// Why it is ready or not, in words: "all its tests met on the evidence (judgement)",
    /// "recommended by the Commissioners on D (source)", "not recommended on D (source)"…
    pub ready_because: String,
    /// The latest fresh recorded recommendation, when the evidence has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<crate::assess::RecordedRecommendation>,
    /// When it can come back.
    pub step: Step,
    /// The phase it can come back in (for functions not yet returned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected_phase: Option<u8>,
    /// The safeguard it returns with.
    pub safeguard: Safeguard,
    /// What stands in the way, for functions not recommended now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<Blocker>,
}

/// Whether the intervention can end (or step down), and what it still needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Exit {
    /// True when the pack's best way out is open: every exit gate met and, where it asks, every
    /// function returned, recommended now or held only until the end.
    pub possible: bool,
    /// What the best way out still needs, in words.
    pub needs: Vec<String>,
    /// For a pack with several ways out: the best one open now (`None`: none is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
    /// For a pack with several ways out: each, best first, with what it still needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<ExitState>,
}

/// One way out of the intervention, as the plan finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExitState {
    /// The outcome's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it is open now.
    pub reached: bool,
    /// What it still needs.
    pub needs: Vec<String>,
}

/// The plan as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// The date.
    pub as_of: NaiveDate,
    /// Whether powers came from a Directions file (otherwise every function is taken as held).
    pub directions: bool,
    /// The current phase; `None` when the pack declares no phases (or none's condition holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The recommended tranche, in catalogue order, each with its safeguard.
    pub tranche: Vec<TrancheItem>,
    /// Functions already recommended and still held, awaiting the decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<AwaitingItem>,
    /// Every function.
    pub functions: Vec<FunctionPlan>,
    /// The end of the intervention.
    pub exit: Exit,
}

/// A function recommended for return and still held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AwaitingItem {
    /// Function id.
    pub function: String,
    /// The day of the recommendation.
    pub recommended: NaiveDate,
    /// Where it is recorded.
    pub source: crate::evidence::Source,
    /// The safeguard it would return with.
    pub safeguard: Safeguard,
}

/// A function recommended for return now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrancheItem {
    /// Function id.
    pub function: String,
    /// The safeguard to attach.
    pub safeguard: Safeguard,
}

/// Plans from an assessment (made with reasons, so blockers can be explained) and, optionally,
/// the Directions in force.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::{assess, plan, EvidenceBuilder, ObservationDraft, Options};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let assessment = assess(&pack, &evidence, &Options::new(day));
/// // Without Directions every function is taken as held by the Commissioners.
/// let plan = plan(&pack, &assessment, None);
/// assert_eq!(plan.as_of, day);
/// assert!(!plan.exit.possible);
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn plan(pack: &Pack, assessment: &Assessment, directions: Option<&Directions>) -> Plan {
    let as_of = assessment.as_of;
    let results: BTreeMap<(&str, Option<&str>), &RuleResult> = assessment
        .results
        .iter()
        .map(|r| ((r.rule.as_str(), r.function.as_deref()), r))
        .collect();
    let outcome = |rule: &str, function: &str| -> Option<&RuleResult> {
        results
            .get(&(rule, Some(function)))
            .or_else(|| results.get(&(rule, None)))
            .copied()
    };
    let functions = pack.functions();
    let held = |f: &str| crate::directions::Holding {
        function: f.to_string(),
        power: Power::Held,
        since: None,
        instrument: None,
        to: None,
        until: None,
        expired: false,
    };
    let full: Vec<crate::directions::Holding> = functions
        .iter()
        .map(|f| directions.map_or_else(|| held(&f.id), |d| d.holding(&f.id, as_of)))
        .collect();
    let holdings: Vec<(Power, Option<NaiveDate>)> = full.iter().map(|h| (h.power, h.since)).collect();
    let readiness: Vec<Readiness> = functions
        .iter()
        .map(|f| {
            gate_truth(f.gates.iter().map(|g| {
                outcome(g, &f.id)
                    .and_then(|r| r.outcome.truth())
                    .unwrap_or(Truth::Unknown)
            }))
        })
        .collect();
    // The weakest basis of each function's gates, when they are all met: what "ready on the
    // evidence" rests on.
    let gate_basis: Vec<Option<crate::evidence::Basis>> = functions
        .iter()
        .map(|f| {
            f.gates
                .iter()
                .map(|g| outcome(g, &f.id).and_then(|r| r.basis))
                .max()
                .flatten()
        })
        .collect();
    let recommendation = |f: &str| assessment.recommendations.iter().find(|r| r.function == f);
    let nodes: Vec<Node> = functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            node(
                f,
                prerequisites(functions, f),
                holdings.get(i).map_or(Power::Held, |h| h.0),
                recommendation(&f.id).is_some_and(|r| r.recommended),
                readiness.get(i).copied().unwrap_or(Readiness::Unknown),
            )
        })
        .collect();
    let steps = schedule(&nodes, &function_order(&nodes));
    let phase = derive_phase(pack, &nodes, assessment, directions.is_some());
    let last_phase = u8::try_from(pack.phases().len()).unwrap_or(u8::MAX);
    let now_phase = phase.as_ref().map(|p| p.number);
    let later_phase = now_phase.map(|n| n.saturating_add(1).min(last_phase));

    let mut plans = Vec::new();
    for (i, f) in functions.iter().enumerate() {
        let step = steps.get(i).copied().unwrap_or(Step::Later);
        let (power, since) = holdings.get(i).copied().unwrap_or((Power::Held, None));
        let mut blockers = Vec::new();
        let recorded = recommendation(&f.id);
        if matches!(step, Step::Later | Step::AtExit) {
            if let Some(h) = &f.held_until_exit {
                blockers.push(Blocker::HeldUntilExit {
                    reason: h.reason.clone(),
                });
            }
            if let Some(r) = recorded.filter(|r| !r.recommended) {
                blockers.push(Blocker::NotRecommended {
                    date: r.date,
                    observation: r.observation.clone(),
                    source: r.source.clone(),
                });
            }
            for gate in &f.gates {
                unmet(pack, &results, gate, &f.id, &mut blockers, 0);
            }
            for p in &f.prerequisites {
                let j = functions.iter().position(|x| x.id == p.function);
                if j.and_then(|j| steps.get(j))
                    .is_some_and(|s| !matches!(s, Step::Returned | Step::Now))
                {
                    blockers.push(Blocker::Prerequisite {
                        function: p.function.clone(),
                        reason: p.reason.clone(),
                    });
                }
            }
        }
        let ready = readiness.get(i).copied().unwrap_or(Readiness::Unknown);
        let ready_basis = gate_basis
            .get(i)
            .copied()
            .flatten()
            .filter(|_| ready == Readiness::Met);
        let holding = full.get(i);
        plans.push(FunctionPlan {
            id: f.id.clone(),
            title: f.title.clone(),
            power,
            since,
            to: holding.and_then(|h| h.to.clone()),
            until: holding.and_then(|h| h.until),
            ready_because: ready_because(ready, ready_basis, recorded, pack),
            ready,
            ready_basis,
            recommendation: recorded.cloned(),
            step,
            projected_phase: match step {
                Step::Returned | Step::Transferred => None,
                Step::AwaitingDecision | Step::Now => now_phase,
                Step::Later => later_phase,
                Step::AtExit => now_phase.map(|_| last_phase),
            },
            safeguard: f.safeguard_on(as_of),
            blockers,
        });
    }
    let tranche = plans
        .iter()
        .filter(|p| p.step == Step::Now)
        .map(|p| TrancheItem {
            function: p.id.clone(),
            safeguard: p.safeguard,
        })
        .collect();
    let awaiting = plans
        .iter()
        .filter(|p| p.step == Step::AwaitingDecision)
        .filter_map(|p| {
            let r = p.recommendation.as_ref()?;
            Some(AwaitingItem {
                function: p.id.clone(),
                recommended: r.date,
                source: r.source.clone(),
                safeguard: p.safeguard,
            })
        })
        .collect();
    let exit = exit(pack, &results, &plans);
    Plan {
        as_of,
        directions: directions.is_some(),
        phase,
        tranche,
        awaiting,
        functions: plans,
        exit,
    }
}

/// Why a function is ready or not, in words: on the evidence, by a recorded recommendation, or
/// held back by a recorded "not yet".
fn ready_because(
    ready: Readiness,
    basis: Option<crate::evidence::Basis>,
    recorded: Option<&crate::assess::RecordedRecommendation>,
    pack: &Pack,
) -> String {
    let by = |r: &crate::assess::RecordedRecommendation| {
        let who = r.judged_by.as_deref().unwrap_or("the Commissioners");
        format!(
            "by {who} on {} ({}, {})",
            r.date, r.source.document, r.source.passage
        )
    };
    let tests = match basis {
        Some(b) => format!("all its tests met on the evidence (weakest basis: {b})"),
        None => "all its tests met".to_string(),
    };
    match (ready, recorded) {
        (Readiness::Met, Some(r)) if r.recommended => format!("{tests}; recommended {}", by(r)),
        (Readiness::Met, _) => tests,
        (Readiness::NotGated, _) => "nothing gates its return".into(),
        (_, Some(r)) if r.recommended => {
            let stands = pack
                .recommendation()
                .map(|p| format!(": {}", p.says))
                .unwrap_or_default();
            format!("recommended {}{stands}", by(r))
        }
        (outcome, Some(r)) => format!("not recommended {}; its tests are {}", by(r), outcome.words()),
        (Readiness::NotMet, None) => "its tests are not met".into(),
        _ => "not known: the evidence does not settle its tests".into(),
    }
}

/// All gates met → met; any not met → not met; else unknown (a graded gate, or one the
/// assessment lacks, counts as unknown). No gates: `not_gated` (which counts as ready: nothing
/// but prerequisites and `held_until_exit` can hold it back).
fn gate_truth(gates: impl ExactSizeIterator<Item = Truth>) -> Readiness {
    if gates.len() == 0 {
        return Readiness::NotGated;
    }
    let mut acc = Readiness::Met;
    for g in gates {
        match g {
            Truth::Met => {}
            Truth::NotMet => return Readiness::NotMet,
            Truth::Unknown => acc = Readiness::Unknown,
        }
    }
    acc
}

/// The places of a function's prerequisites among the pack's functions.
fn prerequisites(functions: &[crate::functions::Function], f: &crate::functions::Function) -> Vec<usize> {
    f.prerequisites
        .iter()
        .filter_map(|p| functions.iter().position(|x| x.id == p.function))
        .collect()
}

/// A function as the scheduler sees it: who holds it, whether a recommendation to return it
/// is recorded, and whether its gates are met.
fn node(
    f: &crate::functions::Function,
    prerequisites: Vec<usize>,
    power: Power,
    recommended: bool,
    readiness: Readiness,
) -> Node {
    let returned = power.is_returned();
    Node {
        prerequisites,
        returned,
        awaiting: recommended && !returned,
        ready: recommended || readiness.is_ready(),
        held_until_exit: f.held_until_exit.is_some(),
        transferred: power == Power::Transferred,
    }
}

/// What a plan's steps and exit read of a pack, resolved once, so that `needs` can check each
/// of its options from outcomes alone ([`crate::bulk::Outcomes`]), without the strings of an
/// assessment and a plan: each function's gates as rules, its prerequisites, and the order
/// they put the functions in; each exit outcome's gates. [`plan`] decides the same from an
/// assessment, through the same [`node`], [`gate_truth`] and [`schedule`]; a test holds the two
/// to each other.
#[derive(Debug)]
pub(crate) struct Sketch {
    /// Per function: its gates.
    gates: Vec<Vec<Gate>>,
    prerequisites: Vec<Vec<usize>>,
    order: Vec<usize>,
    /// Per exit outcome, in the pack's order: its id, its gates (as above) and whether it needs
    /// every function back.
    exits: Vec<(String, Vec<Gate>, bool)>,
}

/// A gate as a rule: its place and whether it is per function (`None`: the pack has no such
/// rule, so the gate is never met).
type Gate = Option<(usize, bool)>;

impl Sketch {
    pub(crate) fn new(pack: &Pack) -> Sketch {
        let rule = |id: &str| {
            pack.rules
                .iter()
                .position(|r| r.id == id)
                .and_then(|i| pack.rules.get(i).map(|r| (i, r.per_function)))
        };
        let functions = pack.functions();
        let prerequisites: Vec<Vec<usize>> = functions.iter().map(|f| prerequisites(functions, f)).collect();
        let shape: Vec<Node> = prerequisites
            .iter()
            .map(|p| Node {
                prerequisites: p.clone(),
                returned: false,
                awaiting: false,
                ready: false,
                held_until_exit: false,
                transferred: false,
            })
            .collect();
        Sketch {
            gates: functions
                .iter()
                .map(|f| f.gates.iter().map(|g| rule(g)).collect())
                .collect(),
            order: function_order(&shape),
            prerequisites,
            exits: pack
                .exit_outcomes()
                .iter()
                .map(|o| {
                    (
                        o.id.clone(),
                        o.gates.iter().map(|g| rule(g)).collect(),
                        o.functions_returned,
                    )
                })
                .collect(),
        }
    }

    /// Each function's step, as [`plan`] schedules it, from outcomes, who holds each function
    /// (`powers`, in the pack's order) and whether a recommendation to return it is recorded.
    pub(crate) fn steps(
        &self,
        pack: &Pack,
        outcomes: &crate::program::Outcomes,
        powers: &[Power],
        recommended: &[bool],
    ) -> Vec<Step> {
        let truth = |gate: &Gate, f: usize| match gate {
            Some((rule, per_function)) => match outcomes.get(*rule, if *per_function { f } else { 0 }) {
                Some(crate::assess::Outcome::Test(t)) => t,
                _ => Truth::Unknown,
            },
            None => Truth::Unknown,
        };
        let nodes: Vec<Node> = pack
            .functions()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let gates = self.gates.get(i).map_or(&[][..], Vec::as_slice);
                node(
                    f,
                    self.prerequisites.get(i).cloned().unwrap_or_default(),
                    powers.get(i).copied().unwrap_or(Power::Held),
                    recommended.get(i).copied().unwrap_or(false),
                    gate_truth(gates.iter().map(|g| truth(g, i))),
                )
            })
            .collect();
        schedule(&nodes, &self.order)
    }

    /// Whether the plan's exit is possible (`outcome: None`) or reaches the exit outcome named,
    /// as `needs` reads a [`Plan`]'s exit, from outcomes and the steps [`Sketch::steps`] gave.
    pub(crate) fn exit_reached(
        &self,
        outcomes: &crate::program::Outcomes,
        steps: &[Step],
        outcome: Option<&str>,
    ) -> bool {
        let later = steps.contains(&Step::Later);
        let met = |gate: &Gate| matches!(gate, Some((rule, false)) if outcomes.get(*rule, 0) == Some(crate::assess::Outcome::Test(Truth::Met)));
        let reached = |(_, gates, functions_returned): &(String, Vec<Gate>, bool)| {
            gates.iter().all(met) && !(*functions_returned && later)
        };
        match outcome {
            // A pack that declares no exit: the intervention can end once every function is back.
            None => self.exits.first().map_or(!later, reached),
            // One way out (or none): the target is it, if the id names it.
            Some(id) if self.exits.len() <= 1 => self.exits.first().is_some_and(|o| o.0 == id && reached(o)),
            Some(id) => self.exits.iter().any(|o| o.0 == id && reached(o)),
        }
    }
}

/// Topological order of functions, prerequisites first; acyclic by the pack's invariant.
fn function_order(nodes: &[Node]) -> Vec<usize> {
    let mut graph = petgraph::graph::DiGraph::<usize, ()>::new();
    let ids: Vec<_> = (0..nodes.len()).map(|i| graph.add_node(i)).collect();
    for (i, n) in nodes.iter().enumerate() {
        for &p in &n.prerequisites {
            if let (Some(&a), Some(&b)) = (ids.get(p), ids.get(i)) {
                graph.update_edge(a, b, ());
            }
        }
    }
    match petgraph::algo::toposort(&graph, None) {
        Ok(order) => order
            .into_iter()
            .filter_map(|n| graph.node_weight(n).copied())
            .collect(),
        // INVARIANT: the pack rejects cycles, so this is unreachable; fall back to a stable
        // order rather than panic.
        Err(_) => (0..nodes.len()).collect(),
    }
}

/// The last of the pack's phases whose condition holds, with why; `None` when the pack declares
/// no phases or none holds.
fn derive_phase(pack: &Pack, nodes: &[Node], assessment: &Assessment, directions: bool) -> Option<Phase> {
    let total = nodes.len();
    let returned = nodes.iter().filter(|n| n.returned).count();
    let held = nodes
        .iter()
        .filter(|n| !n.returned && !n.held_until_exit && !n.transferred)
        .count();
    let transferred = nodes.iter().filter(|n| n.transferred).count();
    let outcome = |rule: &str| {
        assessment
            .results
            .iter()
            .find(|r| r.rule == rule && r.function.is_none())
            .map(|r| r.outcome.clone())
    };
    let set_known = |set: &str| {
        assessment
            .results
            .iter()
            .any(|r| r.set.as_deref() == Some(set) && !r.outcome.is_unknown())
    };
    let state = crate::phases::State {
        total,
        returned,
        held,
        transferred,
        outcome: &outcome,
        set_known: &set_known,
    };
    let mut chosen = None;
    for (i, decl) in pack.phases().iter().enumerate() {
        let mut says = Vec::new();
        if decl.when.as_ref().is_none_or(|c| c.holds(&state, &mut says)) {
            chosen = Some((i, decl, says));
        }
    }
    let (i, decl, says) = chosen?;
    let number = u8::try_from(i + 1).unwrap_or(u8::MAX);
    let mut reasons = Vec::new();
    if !directions {
        reasons.push("no Directions given: every function is taken as held by the Commissioners".into());
    }
    reasons.push(format!("{returned} of {total} functions returned"));
    if transferred > 0 {
        reasons.push(format!("{transferred} transferred out of the council's control"));
    }
    reasons.extend(says);
    for e in &decl.expects {
        reasons.push(format!("phase {number} also expects {e}"));
    }
    Some(Phase {
        number,
        name: decl.name.clone(),
        reasons,
    })
}

/// Collects the criteria under `rule` (for `function`) that are not met, with their failing
/// signals. Helper rules are looked through to the criteria they combine.
fn unmet(
    pack: &Pack,
    results: &BTreeMap<(&str, Option<&str>), &RuleResult>,
    rule: &str,
    function: &str,
    out: &mut Vec<Blocker>,
    depth: usize,
) {
    let Some(model) = pack.rule(rule) else { return };
    let key_function = model.per_function.then_some(function);
    let Some(result) = results.get(&(rule, key_function)) else {
        return;
    };
    if result.outcome.is_met() || depth > 8 {
        return;
    }
    if model.set.is_some() || depth == 8 {
        let mut signals = Vec::new();
        if let Some(reason) = &result.reason {
            failing_signals(reason, &mut signals);
        }
        let blocker = Blocker::Criterion {
            rule: model.id.clone(),
            title: model.title.clone(),
            function: key_function.map(str::to_string),
            outcome: result.outcome.clone(),
            signals,
        };
        if !out.contains(&blocker) {
            out.push(blocker);
        }
        return;
    }
    if let Body::Test(c) = &model.body {
        let mut refs = Vec::new();
        c.for_each_ref(&mut |r| refs.push((r.rule, r.function.clone())));
        for (target, pinned) in refs {
            if let Some(t) = pack.rules().get(target) {
                let f = pinned.unwrap_or_else(|| function.to_string());
                unmet(pack, results, &t.id, &f, out, depth + 1);
            }
        }
    }
}

/// The leaves of a reason tree that are not met, as "signal: because".
fn failing_signals(reason: &Reason, out: &mut Vec<String>) {
    if reason.parts.is_empty() {
        if !reason.outcome.is_met() {
            let because = reason.because.as_deref().unwrap_or("");
            out.push(format!("{} ({}): {because}", reason.says, reason.outcome.words()));
        }
        return;
    }
    for p in &reason.parts {
        failing_signals(p, out);
    }
}

fn exit(pack: &Pack, results: &BTreeMap<(&str, Option<&str>), &RuleResult>, plans: &[FunctionPlan]) -> Exit {
    let mut function_needs = Vec::new();
    for p in plans.iter().filter(|p| p.step == Step::Later) {
        function_needs.push(format!(
            "`{}` returned (not ready: its tests or prerequisites are not met)",
            p.id
        ));
    }
    let needs_of = |gates: &[String], functions_returned: bool| {
        let mut needs = if functions_returned {
            function_needs.clone()
        } else {
            Vec::new()
        };
        for gate in gates {
            match results.get(&(gate.as_str(), None)).map(|r| &r.outcome) {
                Some(Verdict::Met) => {}
                Some(o) => needs.push(format!("`{gate}` met (now {})", o.words())),
                None => needs.push(format!("`{gate}` met")),
            }
        }
        needs
    };
    let declared = pack.exit_outcomes();
    // A pack that declares no exit: the intervention can end once every function is back.
    if declared.len() <= 1 {
        let needs = declared.first().map_or_else(
            || needs_of(&[], true),
            |o| needs_of(&o.gates, o.functions_returned),
        );
        return Exit {
            possible: needs.is_empty(),
            needs,
            reached: None,
            outcomes: Vec::new(),
        };
    }
    let outcomes: Vec<ExitState> = declared
        .iter()
        .map(|o| {
            let needs = needs_of(&o.gates, o.functions_returned);
            ExitState {
                id: o.id.clone(),
                name: o.name.clone(),
                reached: needs.is_empty(),
                needs,
            }
        })
        .collect();
    let best = outcomes.first();
    Exit {
        possible: best.is_some_and(|b| b.reached),
        needs: best.map(|b| b.needs.clone()).unwrap_or_default(),
        reached: outcomes.iter().find(|o| o.reached).map(|o| o.id.clone()),
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Random catalogues: prerequisites only point to earlier nodes, so the graph is acyclic.
    fn catalogue() -> impl Strategy<Value = Vec<Node>> {
        (1usize..16).prop_flat_map(|n| {
            proptest::collection::vec(
                (
                    proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
                    any::<bool>(),
                    any::<bool>(),
                    0u8..10,
                    0u8..4,
                ),
                n,
            )
            .prop_map(|raw| {
                raw.into_iter()
                    .enumerate()
                    .map(|(i, (prereqs, returned, ready, exit, recommended))| {
                        let mut prerequisites: Vec<usize> = if i == 0 {
                            vec![]
                        } else {
                            prereqs.iter().map(|p| p.index(i)).collect()
                        };
                        prerequisites.sort_unstable();
                        prerequisites.dedup();
                        // A recommendation makes a function ready; held, it is awaiting the decision.
                        let awaiting = recommended == 0 && !returned;
                        Node {
                            prerequisites,
                            returned,
                            awaiting,
                            ready: ready || recommended == 0,
                            held_until_exit: exit == 0,
                            transferred: false,
                        }
                    })
                    .collect()
            })
        })
    }

    /// The obvious fixpoint: start everyone at their own step, raise to prerequisites' until
    /// nothing changes.
    fn reference(nodes: &[Node]) -> Vec<Step> {
        let own = |n: &Node| {
            if n.returned {
                Step::Returned
            } else if n.held_until_exit {
                Step::AtExit
            } else if n.awaiting {
                Step::AwaitingDecision
            } else if n.ready {
                Step::Now
            } else {
                Step::Later
            }
        };
        let mut steps: Vec<Step> = nodes.iter().map(own).collect();
        loop {
            let mut changed = false;
            for (i, n) in nodes.iter().enumerate() {
                if matches!(steps[i], Step::Returned | Step::AtExit) {
                    continue;
                }
                for &p in &n.prerequisites {
                    let s = steps[p];
                    if s > steps[i] {
                        steps[i] = s;
                        changed = true;
                    }
                }
            }
            if !changed {
                return steps;
            }
        }
    }

    proptest! {
        #![proptest_config(crate::properties::config(256))]

        #[test]
        fn never_before_a_prerequisite(nodes in catalogue()) {
            let steps = schedule(&nodes, &function_order(&nodes));
            for (i, n) in nodes.iter().enumerate() {
                if steps[i] == Step::Now {
                    prop_assert!(n.ready && !n.returned && !n.held_until_exit);
                    for &p in &n.prerequisites {
                        prop_assert!(matches!(steps[p], Step::Returned | Step::AwaitingDecision | Step::Now), "{i} now but prerequisite {p} is {:?}", steps[p]);
                    }
                }
                if steps[i] == Step::AwaitingDecision {
                    prop_assert!(n.awaiting && !n.returned);
                    for &p in &n.prerequisites {
                        prop_assert!(matches!(steps[p], Step::Returned | Step::AwaitingDecision), "{i} awaiting but prerequisite {p} is {:?}", steps[p]);
                    }
                }
                if steps[i] != Step::Returned {
                    for &p in &n.prerequisites {
                        prop_assert!(steps[p] <= steps[i], "{i} is {:?} before prerequisite {p} ({:?})", steps[i], steps[p]);
                    }
                }
            }
        }

        #[test]
        fn agrees_with_the_fixpoint(nodes in catalogue()) {
            prop_assert_eq!(schedule(&nodes, &function_order(&nodes)), reference(&nodes));
        }

        #[test]
        fn readiness_never_delays(nodes in catalogue(), pick in any::<prop::sample::Index>()) {
            let before = schedule(&nodes, &function_order(&nodes));
            let mut better = nodes.clone();
            let i = pick.index(better.len());
            better[i].ready = true;
            let after = schedule(&better, &function_order(&better));
            for (b, a) in before.iter().zip(&after) {
                prop_assert!(a <= b, "{:?} became {:?}", b, a);
            }
        }

        #[test]
        fn node_order_does_not_matter(nodes in catalogue(), seed in any::<u64>()) {
            // Reverse-and-rotate permutation of indices, with prerequisites renumbered.
            let n = nodes.len();
            let shift = (seed as usize) % n;
            let to_new = |old: usize| (n - 1 - old + shift) % n;
            let mut permuted = vec![Node { prerequisites: vec![], returned: false, awaiting: false, ready: false, held_until_exit: false, transferred: false }; n];
            for (old, node) in nodes.iter().enumerate() {
                let mut moved = node.clone();
                moved.prerequisites = node.prerequisites.iter().map(|&p| to_new(p)).collect();
                permuted[to_new(old)] = moved;
            }
            let a = schedule(&nodes, &function_order(&nodes));
            let b = schedule(&permuted, &function_order(&permuted));
            for old in 0..n {
                prop_assert_eq!(a[old], b[to_new(old)]);
            }
        }
    }
}
