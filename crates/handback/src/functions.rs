//! The function catalogue: the council's functions, what gates their return, and what each
//! depends on.
//!
//! This is the Commissioners' "A to Z responsibility grid" as data (`functions.json`). Each
//! function names the test rules that gate its return, the functions it cannot be returned
//! before (with the reason and the source), the safeguard it returns with, and whether it is held
//! until the intervention ends. Prerequisites form a graph that must be acyclic; a cycle is a
//! load error naming every function in it.

use chrono::NaiveDate;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use crate::diagnostic::{optional, required, At, Decoder, Diagnostic};
use crate::json::Pos;
use crate::rules::Citation;

/// What a returned function comes back with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Safeguard {
    /// Commissioners may issue formal Advice, set aside only with written reasons.
    Advice,
    /// Any Commissioner may direct on any matter in a formal decision report.
    Direction,
    /// No safeguard.
    None,
}

impl Safeguard {
    pub(crate) fn parse(s: &str) -> Option<Safeguard> {
        Some(match s {
            "advice" => Safeguard::Advice,
            "direction" => Safeguard::Direction,
            "none" => Safeguard::None,
            _ => return None,
        })
    }

    /// Words for people.
    pub fn words(self) -> &'static str {
        match self {
            Safeguard::Advice => "with Advice",
            Safeguard::Direction => "with a power of Direction",
            Safeguard::None => "with no safeguard",
        }
    }
}

/// A safeguard that applies to returns from a date on (e.g. returns made outright once the
/// Directions were revised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DatedSafeguard {
    /// The first day it applies to.
    pub from: NaiveDate,
    /// The safeguard.
    pub safeguard: Safeguard,
    /// Where it comes from.
    pub citation: Citation,
}

/// How the pack reads a recorded recommendation: the evidence key (a per-function boolean) that
/// records the Commissioners' recommendation to return a function, or that they are not yet
/// recommending it. The planner reads its latest fresh value: `true` stands for the judgement
/// that the function met its tests, and a function still held is then awaiting the decision of
/// whoever returns powers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Recommendation {
    /// The evidence key.
    pub key: String,
    /// What a recorded recommendation stands for, in the pack's words.
    pub says: String,
    /// Where that reading comes from.
    pub citation: Citation,
}

/// A function that must be returned before (or with) another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Prerequisite {
    /// The function depended on.
    pub function: String,
    /// Why.
    pub reason: String,
    /// Where the dependency comes from.
    pub citation: Citation,
}

/// Why a function stays with the Commissioners until the intervention ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HeldUntilExit {
    /// Why.
    pub reason: String,
    /// Where it comes from.
    pub citation: Citation,
}

/// A council function, the subject of per-function rules and of the planner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Function {
    /// Id, as evidence, rules and Directions name it.
    pub id: String,
    /// Title.
    pub title: String,
    /// The Cabinet portfolio it sits in, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portfolio: Option<String>,
    /// The test rules that must be met before it can be returned (rule ids).
    pub gates: Vec<String>,
    /// Functions that must be returned before it, or in the same tranche.
    pub prerequisites: Vec<Prerequisite>,
    /// The safeguard it returns with (before any dated change).
    pub safeguard: Safeguard,
    /// Later safeguards, each from its date on, in date order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safeguard_changes: Vec<DatedSafeguard>,
    /// Held by the Commissioners until the intervention ends, whatever the evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_until_exit: Option<HeldUntilExit>,
}

impl Function {
    /// The safeguard a return on `date` comes with.
    pub fn safeguard_on(&self, date: NaiveDate) -> Safeguard {
        self.safeguard_changes
            .iter()
            .rev()
            .find(|c| c.from <= date)
            .map_or(self.safeguard, |c| c.safeguard)
    }
}

/// The catalogue with the places names were written, for checks made once rules are known.
#[derive(Default)]
pub(crate) struct Catalogue {
    pub functions: Vec<Function>,
    /// (function index, gate index, position, path) of each gate name.
    pub gate_sites: Vec<(usize, usize, Pos, String)>,
    /// The gates the end of the intervention needs, with where each was written.
    pub exit_gates: Vec<(String, Pos, String)>,
    /// The recommendation key, with where it was written, checked once keys are known.
    pub recommendation: Option<(Recommendation, Pos, String)>,
    /// The ways out, best first (none when the catalogue declares no `exit`).
    pub exit: Vec<crate::phases::ExitOutcome>,
    /// The phases, in order.
    pub phases: Vec<crate::phases::PhaseDecl>,
    /// The rules and sets the phases name, checked once rules are known.
    pub phase_sites: crate::phases::PhaseSites,
    pub file: String,
}

pub(crate) fn decode_functions(d: &mut Decoder, at: At<'_, '_>) -> Option<Catalogue> {
    let obj = d.object(at, &["defaults", "exit", "phases", "recommendation", "functions"])?;
    let mut default_gates: Vec<(String, Pos, String)> = Vec::new();
    let mut default_safeguard = (Safeguard::None, Vec::new());
    if let Some((json, path)) = obj.get("defaults") {
        if let Some(defaults) = d.object(At { json, path: &path }, &["gates", "safeguard"]) {
            default_gates = optional(d, &defaults, "gates", decode_gates).unwrap_or_default();
            default_safeguard = optional(d, &defaults, "safeguard", decode_safeguards)
                .unwrap_or((Safeguard::None, Vec::new()));
        }
    }
    let recommendation = optional(d, &obj, "recommendation", |d, at| {
        let r = d.object(at, &["key", "says", "citation"])?;
        let key = required(d, &r, "key", |d, at| {
            d.string(at).map(|k| (k, at.json.pos, at.path.to_string()))
        });
        let says = required(d, &r, "says", |d, at| d.text(at));
        let citation = required(d, &r, "citation", crate::pack::decode_citation);
        let (key, pos, path) = key?;
        Some((
            Recommendation {
                key,
                says: says?,
                citation: citation?,
            },
            pos,
            path,
        ))
    });
    let mut exit_gates: Vec<(String, Pos, String)> = Vec::new();
    let exit = optional(d, &obj, "exit", |d, at| {
        crate::phases::decode_exit(d, at, &mut exit_gates)
    })
    .unwrap_or_default();
    let mut phase_sites = crate::phases::PhaseSites::default();
    let phases = optional(d, &obj, "phases", |d, at| {
        crate::phases::decode_phases(d, at, &mut phase_sites)
    })
    .unwrap_or_default();
    let items = required(d, &obj, "functions", |d, at| d.array(at))?;
    let mut catalogue = Catalogue {
        file: d.file.clone(),
        exit_gates,
        recommendation,
        exit,
        phases,
        phase_sites,
        ..Catalogue::default()
    };
    // Prerequisite names and where they were written, checked once every function is known.
    let mut prereq_sites: Vec<(String, Pos, String)> = Vec::new();
    // Where each function was declared, in decode order, for cycle messages.
    let mut declared: Vec<(Pos, String)> = Vec::new();
    for (json, path) in items {
        let at = At { json, path: &path };
        let Some(o) = d.object(
            at,
            &[
                "id",
                "title",
                "portfolio",
                "gates",
                "prerequisites",
                "safeguard",
                "held_until_exit",
            ],
        ) else {
            continue;
        };
        let id = required(d, &o, "id", |d, at| d.id(at));
        let title = required(d, &o, "title", |d, at| d.text(at));
        let portfolio = optional(d, &o, "portfolio", |d, at| d.text(at));
        let gates = optional(d, &o, "gates", decode_gates).unwrap_or_else(|| default_gates.clone());
        let (safeguard, safeguard_changes) =
            optional(d, &o, "safeguard", decode_safeguards).unwrap_or_else(|| default_safeguard.clone());
        let prerequisites = optional(d, &o, "prerequisites", |d, at| {
            let items = d.array(at)?;
            let mut out = Vec::new();
            for (json, path) in items {
                let at = At { json, path: &path };
                let Some(p) = d.object(at, &["function", "reason", "citation"]) else {
                    continue;
                };
                let function = required(d, &p, "function", |d, at| {
                    d.id(at).map(|f| (f, at.json.pos, at.path.to_string()))
                });
                let reason = required(d, &p, "reason", |d, at| d.text(at));
                let citation = required(d, &p, "citation", crate::pack::decode_citation);
                if let (Some(function), Some(reason), Some(citation)) = (function, reason, citation) {
                    out.push((
                        Prerequisite {
                            function: function.0,
                            reason,
                            citation,
                        },
                        function.1,
                        function.2,
                    ));
                }
            }
            Some(out)
        })
        .unwrap_or_default();
        let held_until_exit = optional(d, &o, "held_until_exit", |d, at| {
            let h = d.object(at, &["reason", "citation"])?;
            let reason = required(d, &h, "reason", |d, at| d.text(at));
            let citation = required(d, &h, "citation", crate::pack::decode_citation);
            Some(HeldUntilExit {
                reason: reason?,
                citation: citation?,
            })
        });
        let (Some(id), Some(title)) = (id, title) else {
            continue;
        };
        if catalogue.functions.iter().any(|f| f.id == id) {
            d.error(at, format!("duplicate function `{id}`"));
            continue;
        }
        let index = catalogue.functions.len();
        for (g, (_, pos, path)) in gates.iter().enumerate() {
            catalogue.gate_sites.push((index, g, *pos, path.clone()));
        }
        let mut prereqs = Vec::new();
        for (p, pos, path) in prerequisites {
            if p.function == id {
                d.report(
                    pos,
                    &path,
                    format!("function `{id}` cannot be its own prerequisite"),
                );
                continue;
            }
            prereq_sites.push((p.function.clone(), pos, path));
            prereqs.push(p);
        }
        declared.push((json.pos, path.clone()));
        catalogue.functions.push(Function {
            id,
            title,
            portfolio,
            gates: gates.into_iter().map(|(g, _, _)| g).collect(),
            prerequisites: prereqs,
            safeguard,
            safeguard_changes,
            held_until_exit,
        });
    }
    // Unknown prerequisites, now that every function is known.
    let ids: Vec<String> = catalogue.functions.iter().map(|f| f.id.clone()).collect();
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    for (name, pos, path) in prereq_sites {
        if !ids.contains(&name) {
            let hint = crate::diagnostic::did_you_mean(&name, &names);
            d.report(
                pos,
                &path,
                format!("unknown prerequisite function `{name}`{hint}"),
            );
        }
    }
    // Unknown prerequisites are left out of the graph, so cycles can be checked regardless.
    check_cycles(&catalogue, &declared, d);
    catalogue.functions.sort_by(|a, b| a.id.cmp(&b.id));
    // Gate sites index functions by their decode order; re-point them after sorting.
    let order: Vec<String> = ids;
    for site in &mut catalogue.gate_sites {
        if let Some(id) = order.get(site.0) {
            site.0 = catalogue
                .functions
                .iter()
                .position(|f| &f.id == id)
                .unwrap_or(usize::MAX);
        }
    }
    Some(catalogue)
}

pub(crate) fn decode_gates(d: &mut Decoder, at: At<'_, '_>) -> Option<Vec<(String, Pos, String)>> {
    let items = d.array(at)?;
    let mut out = Vec::new();
    for (json, path) in items {
        if let Some(id) = d.id(At { json, path: &path }) {
            out.push((id, json.pos, path));
        }
    }
    Some(out)
}

/// A safeguard as a word (`"direction"`), or as a list of dated safeguards, the first of which
/// may have no `from` (it applies until the next); later ones must be in date order.
fn decode_safeguards(d: &mut Decoder, at: At<'_, '_>) -> Option<(Safeguard, Vec<DatedSafeguard>)> {
    if !matches!(at.json.kind, crate::json::Kind::Array(_)) {
        return decode_safeguard(d, at).map(|s| (s, Vec::new()));
    }
    let items = d.array(at)?;
    let mut first = Safeguard::None;
    let mut changes: Vec<DatedSafeguard> = Vec::new();
    for (i, (json, path)) in items.into_iter().enumerate() {
        let at = At { json, path: &path };
        let Some(o) = d.object(at, &["from", "safeguard", "citation"]) else {
            continue;
        };
        let from = optional(d, &o, "from", |d, at| d.date(at));
        let safeguard = required(d, &o, "safeguard", decode_safeguard);
        let citation = required(d, &o, "citation", crate::pack::decode_citation);
        match (i, from, safeguard, citation) {
            (0, None, Some(s), Some(_)) => first = s,
            (_, Some(from), Some(safeguard), Some(citation)) => {
                if changes.last().is_some_and(|c| c.from >= from) {
                    d.error(
                        at,
                        format!("dated safeguards must be in date order; {from} is not after the one before"),
                    );
                }
                changes.push(DatedSafeguard {
                    from,
                    safeguard,
                    citation,
                });
            }
            (_, None, Some(_), Some(_)) => d.error(
                at,
                "only the first safeguard may leave out `from`; give the day this one applies from".into(),
            ),
            _ => {}
        }
    }
    Some((first, changes))
}

fn decode_safeguard(d: &mut Decoder, at: At<'_, '_>) -> Option<Safeguard> {
    let s = d.string(at)?;
    let parsed = Safeguard::parse(&s);
    if parsed.is_none() {
        d.error(
            at,
            format!("unknown safeguard `{s}`; expected `advice`, `direction` or `none`"),
        );
    }
    parsed
}

fn check_cycles(catalogue: &Catalogue, declared: &[(Pos, String)], d: &mut Decoder) {
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..catalogue.functions.len())
        .map(|i| graph.add_node(i))
        .collect();
    for (i, f) in catalogue.functions.iter().enumerate() {
        for p in &f.prerequisites {
            let target = catalogue.functions.iter().position(|x| x.id == p.function);
            if let (Some(&from), Some(&to)) = (nodes.get(i), target.and_then(|t| nodes.get(t))) {
                graph.update_edge(from, to, ());
            }
        }
    }
    // Kosaraju's, not Tarjan's (recursive in petgraph): a long prerequisite chain cannot
    // overflow the stack.
    for scc in petgraph::algo::kosaraju_scc(&graph) {
        if scc.len() < 2 {
            continue;
        }
        let mut names: Vec<&str> = scc
            .iter()
            .filter_map(|n| {
                graph
                    .node_weight(*n)
                    .and_then(|&i| catalogue.functions.get(i))
                    .map(|f| f.id.as_str())
            })
            .collect();
        names.sort_unstable();
        let first = scc
            .iter()
            .filter_map(|n| graph.node_weight(*n).copied())
            .min()
            .unwrap_or(0);
        let (pos, path) = declared.get(first).cloned().unwrap_or_default();
        d.report(
            pos,
            &path,
            format!(
                "functions depend on each other in a cycle: {}; prerequisites must form no loop",
                crate::diagnostic::ticked(&names, ", ")
            ),
        );
    }
}

/// Checks that every gate names a test rule; called once rules are loaded.
pub(crate) fn check_gates(catalogue: &Catalogue, rules: &[crate::rules::Rule], out: &mut Vec<Diagnostic>) {
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let function_gates = catalogue.gate_sites.iter().filter_map(|(f, g, pos, path)| {
        catalogue
            .functions
            .get(*f)
            .and_then(|f| f.gates.get(*g))
            .map(|name| (name, pos, path, false))
    });
    let exit_gates = catalogue
        .exit_gates
        .iter()
        .map(|(name, pos, path)| (name, pos, path, true));
    for (name, pos, path, exit) in function_gates.chain(exit_gates) {
        let message = match rules.iter().find(|r| &r.id == name) {
            None => format!(
                "unknown gate rule `{name}`{}",
                crate::diagnostic::did_you_mean(name, &ids)
            ),
            Some(r) if !matches!(r.body, crate::rules::Body::Test(_)) => {
                format!("gate `{name}` is a graded rule; a gate must be a test (refer to it through a test rule with `at_least`)")
            }
            Some(r) if exit && r.per_function => {
                format!("exit gate `{name}` is evaluated per function; the end of the intervention needs a council-wide rule")
            }
            Some(_) => continue,
        };
        out.push(Diagnostic {
            file: catalogue.file.clone(),
            line: pos.line,
            column: pos.column,
            path: path.clone(),
            message,
        });
    }
}
