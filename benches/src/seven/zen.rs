//! zen-engine (GoRules JDM): the seven tests as one decision graph,
//! `benches/baselines/seven-tests.jdm.json`: request → an expression node with one expression
//! per test → response.
//!
//! Three values as numbers in their order, 0 not met, 1 unknown, 2 met: a comparison is
//! `(key == null ? 1 : (key <= 0.25 ? 2 : 0))` (a missing key reads as `null`), `all` is `min`
//! of its parts and `any` `max`. The input is the evidence set as nested JSON
//! (`{"children": {"agency_share": 0.2, …}, …}`, so `children.agency_share` is a path), with
//! unknown keys left out.
//!
//! The graph is parsed and compiled (`Decision::compile`, expressions to bytecode) once in
//! [`Zen::new`]. Evaluation is async in zen's API but awaits nothing for these nodes, so it runs
//! on the calling thread with `pollster::block_on`, no runtime.

use super::{Fact, Facts, Outcomes, Seven, TESTS};
use handback::Truth;
use zen_engine::model::GraphContent;
use zen_engine::Decision;
use zen_engine::Variable;

/// The decision graph.
pub const GRAPH: &str = include_str!("../../baselines/seven-tests.jdm.json");

/// The compiled decision.
pub struct Zen {
    decision: Decision,
}

impl Zen {
    /// Parses and compiles the graph.
    pub fn new() -> Result<Zen, String> {
        let content: GraphContent =
            serde_json::from_str(GRAPH).map_err(|e| format!("seven-tests.jdm.json does not parse: {e}"))?;
        let mut decision = Decision::from(content);
        decision
            .validate()
            .map_err(|e| format!("seven-tests.jdm.json is not a valid graph: {e}"))?;
        decision.compile();
        Ok(Zen { decision })
    }
}

fn truth(value: Option<Variable>) -> Result<Truth, String> {
    let number = value
        .as_ref()
        .and_then(Variable::as_number)
        .and_then(|d| i64::try_from(d).ok());
    match number {
        Some(0) => Ok(Truth::NotMet),
        Some(1) => Ok(Truth::Unknown),
        Some(2) => Ok(Truth::Met),
        _ => Err(format!("zen gave {value:?}, not 0, 1 or 2")),
    }
}

impl Seven for Zen {
    type Input = Variable;

    fn name(&self) -> &'static str {
        "zen-engine"
    }

    fn prepare(&self, facts: &Facts) -> Result<Variable, String> {
        let mut root = serde_json::Map::new();
        for (key, value) in facts.entries() {
            let Some(value) = value else { continue };
            let (group, name) = key
                .split_once('.')
                .ok_or_else(|| format!("key {key} has no group"))?;
            let value = match value {
                Fact::Flag(b) => serde_json::Value::from(b),
                Fact::Amount(x) => serde_json::Value::from(x),
            };
            if let serde_json::Value::Object(group) = root
                .entry(group)
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
            {
                group.insert(name.to_string(), value);
            }
        }
        Ok(Variable::from(serde_json::Value::Object(root)))
    }

    #[inline]
    fn outcomes(&self, input: &Variable) -> Result<Outcomes, String> {
        let response =
            pollster::block_on(self.decision.evaluate(input.clone())).map_err(|e| format!("zen: {e}"))?;
        let mut outcomes = [Truth::Unknown; 7];
        for (outcome, id) in outcomes.iter_mut().zip(TESTS) {
            *outcome = truth(response.result.dot(id))?;
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::seven::{evidence_sets, SEED};

    /// The benchmark passes each input by `Variable::clone`, which shares it (reference
    /// counted): fair only if evaluating leaves the input as it was, so every call does the same
    /// work.
    #[test]
    fn evaluating_leaves_the_input_alone() {
        let zen = Zen::new().unwrap();
        for facts in evidence_sets(SEED, 9) {
            let input = zen.prepare(&facts).unwrap();
            let before = input.to_value();
            let first = zen.outcomes(&input).unwrap();
            assert_eq!(input.to_value(), before);
            assert_eq!(zen.outcomes(&input).unwrap(), first);
        }
    }
}
