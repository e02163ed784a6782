//! The phases of an intervention and its ways out, as the pack declares them.
//!
//! Every intervention names its own stages ("Commissioners take all decisions", "the majority of
//! powers restored") and its own way out (an end, or a step down to an improvement board). The
//! engine knows none of them: a pack lists its phases, each with the condition for being in it
//! over what the plan knows (functions returned, held, transferred; rules' outcomes), and its
//! exit outcomes, best first, each with its gates.

use serde::{Deserialize, Serialize};

use crate::diagnostic::{did_you_mean, optional, required, At, Decoder, Diagnostic};
use crate::json::{Kind, Pos};
use crate::rules::{Citation, Op};

/// A phase of the intervention.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PhaseDecl {
    /// Its id.
    pub id: String,
    /// Its name, as the source describes it.
    pub name: String,
    /// Where the source describes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Citation>,
    /// When the intervention is in it; `None`: always (the starting phase).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<PhaseCondition>,
    /// What else the source expects of the phase, said in the plan's reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expects: Vec<String>,
}

/// A condition over the plan's state.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhaseCondition {
    /// Every part holds.
    All(Vec<PhaseCondition>),
    /// Some part holds.
    Any(Vec<PhaseCondition>),
    /// The part does not hold.
    Not(Box<PhaseCondition>),
    /// A count or share compared with a number, with what to say when it holds.
    Count {
        /// What is counted.
        of: Counted,
        /// The comparison.
        op: Op,
        /// The number.
        value: f64,
        /// Said in the reasons when it holds.
        #[serde(skip_serializing_if = "Option::is_none")]
        says: Option<String>,
    },
    /// A council-wide rule's outcome is one of these (`met`, `not_met`, `unknown`, a level).
    Rule {
        /// The rule.
        rule: String,
        /// The outcomes that satisfy it.
        is: Vec<String>,
        /// Said in the reasons when it holds.
        #[serde(skip_serializing_if = "Option::is_none")]
        says: Option<String>,
    },
    /// Some rule of a criteria set has a known outcome (the set has been assessed).
    SetKnown {
        /// The set.
        set: String,
        /// Said in the reasons when it holds.
        #[serde(skip_serializing_if = "Option::is_none")]
        says: Option<String>,
    },
}

/// What a phase condition can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    /// Functions returned to the council.
    Returned,
    /// Functions returned, as a share of the catalogue.
    ReturnedShare,
    /// Functions still held (by Commissioners, or returned only to advice or direction) other
    /// than those held until the end.
    Held,
    /// Functions transferred out of the council's control.
    Transferred,
}

impl Counted {
    const WORDS: [(&'static str, Counted); 4] = [
        ("returned", Counted::Returned),
        ("returned_share", Counted::ReturnedShare),
        ("held", Counted::Held),
        ("transferred", Counted::Transferred),
    ];
}

/// A way out of the intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExitOutcome {
    /// Its id (`exit:ID` in `needs`).
    pub id: String,
    /// What it is ("the end of the intervention", "a step down to an improvement board").
    pub name: String,
    /// The council-wide rules it needs met.
    pub gates: Vec<String>,
    /// Whether it needs every function returned (or recommended now, or held only to the end).
    pub functions_returned: bool,
    /// Where the source sets it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Citation>,
}

/// What the plan knows when it places the intervention in a phase.
pub(crate) struct State<'a> {
    pub total: usize,
    pub returned: usize,
    pub held: usize,
    pub transferred: usize,
    pub outcome: &'a dyn Fn(&str) -> Option<crate::assess::Verdict>,
    pub set_known: &'a dyn Fn(&str) -> bool,
}

impl PhaseCondition {
    /// Whether it holds; what it says when it does goes to `says`.
    pub(crate) fn holds(&self, s: &State<'_>, says: &mut Vec<String>) -> bool {
        match self {
            PhaseCondition::All(parts) => {
                let mut said = Vec::new();
                let all = parts.iter().all(|p| p.holds(s, &mut said));
                if all {
                    says.extend(said);
                }
                all
            }
            PhaseCondition::Any(parts) => {
                let mut any = false;
                for p in parts {
                    any |= p.holds(s, says);
                }
                any
            }
            PhaseCondition::Not(p) => !p.holds(s, &mut Vec::new()),
            PhaseCondition::Count {
                of,
                op,
                value,
                says: said,
            } => {
                #[expect(clippy::cast_precision_loss, reason = "function counts are small")]
                let n = match of {
                    Counted::Returned => s.returned as f64,
                    Counted::ReturnedShare if s.total == 0 => 0.0,
                    Counted::ReturnedShare => s.returned as f64 / s.total as f64,
                    Counted::Held => s.held as f64,
                    Counted::Transferred => s.transferred as f64,
                };
                let holds = n.partial_cmp(value).is_some_and(|o| op.holds(o));
                if holds {
                    says.extend(said.clone());
                }
                holds
            }
            PhaseCondition::Rule { rule, is, says: said } => {
                let outcome = (s.outcome)(rule).unwrap_or(crate::assess::Verdict::Unknown);
                let holds = is
                    .iter()
                    .any(|w| w == outcome.code() || (w == "known" && !outcome.is_unknown()));
                if holds {
                    says.extend(said.clone());
                }
                holds
            }
            PhaseCondition::SetKnown { set, says: said } => {
                let holds = (s.set_known)(set);
                if holds {
                    says.extend(said.clone());
                }
                holds
            }
        }
    }
}

/// Names a phase condition uses, and where they were written: checked once rules are known.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhaseSites {
    /// (is a rule, name, position, path).
    pub names: Vec<(bool, String, Pos, String)>,
    /// (outcome words, rule, position, path) to check against the rule's kind.
    pub outcomes: Vec<(Vec<String>, String, Pos, String)>,
}

pub(crate) fn decode_phases(
    d: &mut Decoder,
    at: At<'_, '_>,
    sites: &mut PhaseSites,
) -> Option<Vec<PhaseDecl>> {
    let items = d.array(at)?;
    let mut out: Vec<PhaseDecl> = Vec::new();
    for (json, path) in items {
        let at = At { json, path: &path };
        let Some(o) = d.object(at, &["id", "name", "citation", "when", "expects"]) else {
            continue;
        };
        let id = required(d, &o, "id", |d, at| d.id(at));
        let name = required(d, &o, "name", |d, at| d.text(at));
        let citation = optional(d, &o, "citation", crate::pack::decode_citation);
        let when = optional(d, &o, "when", |d, at| decode_condition(d, at, sites, 0));
        let expects = optional(d, &o, "expects", |d, at| {
            let items = d.array(at)?;
            Some(
                items
                    .into_iter()
                    .filter_map(|(j, p)| d.text(At { json: j, path: &p }))
                    .collect(),
            )
        })
        .unwrap_or_default();
        if let (Some(id), Some(name)) = (id, name) {
            if out.iter().any(|p| p.id == id) {
                d.error(at, format!("duplicate phase id `{id}`"));
            }
            out.push(PhaseDecl {
                id,
                name,
                citation,
                when,
                expects,
            });
        }
    }
    Some(out)
}

const CONDITION_WORDS: &str = "`all`, `any`, `not`, `returned`, `returned_share`, `held`, `transferred`, `rule` with `is`, or `set_known`";

fn decode_condition(
    d: &mut Decoder,
    at: At<'_, '_>,
    sites: &mut PhaseSites,
    depth: usize,
) -> Option<PhaseCondition> {
    if depth > 32 {
        d.error(at, "phase conditions nest at most 32 deep".into());
        return None;
    }
    let Kind::Object(members) = &at.json.kind else {
        d.error(
            at,
            format!("expected a phase condition: an object with {CONDITION_WORDS}"),
        );
        return None;
    };
    let has = |k: &str| members.iter().any(|m| m.key == k);
    let o = d.object(
        at,
        &[
            "all",
            "any",
            "not",
            "returned",
            "returned_share",
            "held",
            "transferred",
            "rule",
            "is",
            "set_known",
            "says",
        ],
    )?;
    let says = optional(d, &o, "says", |d, at| d.text(at));
    let list = |d: &mut Decoder, sites: &mut PhaseSites, key: &str| -> Option<Vec<PhaseCondition>> {
        let (json, path) = o.get(key)?;
        let items = d.array(At { json, path: &path })?;
        Some(
            items
                .into_iter()
                .filter_map(|(j, p)| decode_condition(d, At { json: j, path: &p }, sites, depth + 1))
                .collect(),
        )
    };
    if has("all") {
        return list(d, sites, "all").map(PhaseCondition::All);
    }
    if has("any") {
        return list(d, sites, "any").map(PhaseCondition::Any);
    }
    if let Some((json, path)) = o.get("not") {
        return decode_condition(d, At { json, path: &path }, sites, depth + 1)
            .map(|c| PhaseCondition::Not(Box::new(c)));
    }
    for (word, of) in Counted::WORDS {
        let Some((json, path)) = o.get(word) else { continue };
        let at = At { json, path: &path };
        let c = d.object(at, &["<", "<=", ">", ">=", "==", "!="])?;
        let [member] = c.members else {
            d.error(
                at,
                format!("`{word}` compares with one operator: `{{\"<=\": 0.5}}`"),
            );
            return None;
        };
        let op = Op::parse(&member.key)?;
        let mut p = path.clone();
        crate::json::push_key(&mut p, &member.key);
        let value = d.number(At {
            json: &member.value,
            path: &p,
        })?;
        if of == Counted::ReturnedShare && !(0.0..=1.0).contains(&value) {
            d.error(
                At {
                    json: &member.value,
                    path: &p,
                },
                format!("`returned_share` is a share from 0 to 1, not {value}"),
            );
        }
        return Some(PhaseCondition::Count { of, op, value, says });
    }
    if let Some((json, path)) = o.get("rule") {
        let at_rule = At { json, path: &path };
        let rule = d.id(at_rule)?;
        let is = required(d, &o, "is", |d, at| match &at.json.kind {
            Kind::String(s) => Some(vec![s.clone()]),
            _ => {
                let items = d.array(at)?;
                Some(
                    items
                        .into_iter()
                        .filter_map(|(j, p)| d.text(At { json: j, path: &p }))
                        .collect(),
                )
            }
        })?;
        sites.names.push((true, rule.clone(), json.pos, path.clone()));
        if let Some((j, p)) = o.get("is") {
            sites.outcomes.push((is.clone(), rule.clone(), j.pos, p));
        }
        return Some(PhaseCondition::Rule { rule, is, says });
    }
    if let Some((json, path)) = o.get("set_known") {
        let set = d.id(At { json, path: &path })?;
        sites.names.push((false, set.clone(), json.pos, path.clone()));
        return Some(PhaseCondition::SetKnown { set, says });
    }
    d.error(at, format!("a phase condition needs one of {CONDITION_WORDS}"));
    None
}

/// Decodes `exit`: `{gates, citation}` (one way out, the end of the intervention) or
/// `{outcomes: [{id, name, gates, functions_returned, citation}, …]}`, best first.
pub(crate) fn decode_exit(
    d: &mut Decoder,
    at: At<'_, '_>,
    gate_sites: &mut Vec<(String, Pos, String)>,
) -> Option<Vec<ExitOutcome>> {
    let o = d.object(at, &["gates", "citation", "outcomes"])?;
    if o.has("outcomes") {
        for k in ["gates", "citation"] {
            if let Some((json, path)) = o.get(k) {
                d.error(
                    At { json, path: &path },
                    format!("`{k}` belongs to each outcome when `exit` lists `outcomes`"),
                );
            }
        }
        let items = required(d, &o, "outcomes", |d, at| d.array(at))?;
        let mut out: Vec<ExitOutcome> = Vec::new();
        for (json, path) in items {
            let at = At { json, path: &path };
            let Some(x) = d.object(at, &["id", "name", "gates", "functions_returned", "citation"]) else {
                continue;
            };
            let id = required(d, &x, "id", |d, at| d.id(at));
            let name = required(d, &x, "name", |d, at| d.text(at));
            let gates = optional(d, &x, "gates", crate::functions::decode_gates).unwrap_or_default();
            let functions_returned =
                optional(d, &x, "functions_returned", |d, at| d.boolean(at)).unwrap_or(true);
            let citation = required(d, &x, "citation", crate::pack::decode_citation);
            if let (Some(id), Some(name)) = (id, name) {
                if out.iter().any(|e| e.id == id) {
                    d.error(at, format!("duplicate exit outcome id `{id}`"));
                }
                gate_sites.extend(gates.iter().cloned());
                out.push(ExitOutcome {
                    id,
                    name,
                    gates: gates.into_iter().map(|(g, _, _)| g).collect(),
                    functions_returned,
                    citation,
                });
            }
        }
        if out.is_empty() {
            d.error(at, "`outcomes` lists at least one way out, best first".into());
        }
        return Some(out);
    }
    let gates = required(d, &o, "gates", crate::functions::decode_gates).unwrap_or_default();
    let citation = required(d, &o, "citation", crate::pack::decode_citation);
    gate_sites.extend(gates.iter().cloned());
    Some(vec![ExitOutcome {
        id: "end".into(),
        name: "the end of the intervention".into(),
        gates: gates.into_iter().map(|(g, _, _)| g).collect(),
        functions_returned: true,
        citation,
    }])
}

/// Checks the rules and sets phase conditions name, and the outcomes they expect of each rule.
pub(crate) fn check_phases(
    sites: &PhaseSites,
    file: &str,
    rules: &[crate::rules::Rule],
    sets: &[crate::pack::CriteriaSet],
    scales: &[crate::vocabulary::Scale],
    out: &mut Vec<Diagnostic>,
) {
    let at = |pos: &Pos, path: &str, message: String| Diagnostic {
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
        path: path.to_string(),
        message,
    };
    for (is_rule, name, pos, path) in &sites.names {
        if *is_rule {
            match rules.iter().find(|r| &r.id == name) {
                None => {
                    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
                    out.push(at(
                        pos,
                        path,
                        format!("unknown rule `{name}`{}", did_you_mean(name, &ids)),
                    ));
                }
                Some(r) if r.per_function => out.push(at(
                    pos,
                    path,
                    format!("`{name}` is evaluated per function; a phase condition reads council-wide rules"),
                )),
                Some(_) => {}
            }
        } else if !sets.iter().any(|s| &s.id == name) {
            let ids: Vec<&str> = sets.iter().map(|s| s.id.as_str()).collect();
            out.push(at(
                pos,
                path,
                format!("unknown criteria set `{name}`{}", did_you_mean(name, &ids)),
            ));
        }
    }
    for (words, rule, pos, path) in &sites.outcomes {
        let Some(r) = rules.iter().find(|r| &r.id == rule) else {
            continue;
        };
        let mut allowed: Vec<String> = vec!["unknown".into(), "known".into()];
        match &r.body {
            crate::rules::Body::Test(_) => allowed.extend(["met".into(), "not_met".into()]),
            crate::rules::Body::Graded { scale, .. } => {
                allowed.extend(scales.get(*scale).map(|s| s.levels.clone()).unwrap_or_default());
            }
        }
        for w in words {
            if !allowed.contains(w) {
                let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
                out.push(at(
                    pos,
                    path,
                    format!(
                        "`{w}` is not an outcome of `{rule}`; one of {}",
                        crate::diagnostic::ticked(&names, ", ")
                    ),
                ));
            }
        }
    }
}
