//! cedar-policy: the seven tests as fourteen permit policies,
//! `benches/baselines/seven-tests.cedar`, over a council entity holding the values
//! (`benches/baselines/seven-tests.cedarschema`).
//!
//! Cedar answers allow or deny, so each test is two policies, satisfied when it is met and when
//! it is not met (neither: unknown); one `is_authorized` request evaluates all fourteen, and the
//! policies it satisfies (the response's reasons) give the seven outcomes. The schema and the
//! policies are parsed, and the policies validated against the schema (strict mode, so every
//! optional attribute is read only behind `has`), once in [`Cedar::new`]; the entities and the
//! request of each evidence set are built, and checked against the schema, when it is prepared.

use super::{Fact, Facts, Outcomes, Seven, TESTS};
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, PolicyId, PolicySet, Request, RestrictedExpression,
    Schema, ValidationMode, Validator,
};
use handback::Truth;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// The policies.
pub const POLICIES: &str = include_str!("../../baselines/seven-tests.cedar");

/// Their schema.
pub const SCHEMA: &str = include_str!("../../baselines/seven-tests.cedarschema");

/// The policies, parsed and validated, and what each one's satisfaction means.
pub struct Cedar {
    authorizer: Authorizer,
    policies: PolicySet,
    schema: Schema,
    /// Each policy's test (index into [`TESTS`]) and the outcome it is satisfied on.
    means: HashMap<PolicyId, (usize, Truth)>,
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
}

fn uid(text: &str) -> Result<EntityUid, String> {
    EntityUid::from_str(text).map_err(|e| format!("{text}: {e}"))
}

impl Cedar {
    /// Parses the schema and the policies and validates the policies against the schema.
    pub fn new() -> Result<Cedar, String> {
        let (schema, warnings) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| format!("seven-tests.cedarschema: {e:?}"))?;
        if let Some(w) = warnings.into_iter().next() {
            return Err(format!("seven-tests.cedarschema: {w}"));
        }
        let policies = PolicySet::from_str(POLICIES).map_err(|e| format!("seven-tests.cedar: {e:?}"))?;
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !validation.validation_passed() {
            let errors: Vec<String> = validation.validation_errors().map(|e| e.to_string()).collect();
            return Err(format!(
                "seven-tests.cedar does not validate: {}",
                errors.join("; ")
            ));
        }
        let mut means = HashMap::new();
        for policy in policies.policies() {
            let test = policy.annotation("test").unwrap_or_default();
            let index = TESTS
                .iter()
                .position(|t| *t == test)
                .ok_or_else(|| format!("policy {} names no test ({test:?})", policy.id()))?;
            let outcome = match policy.annotation("outcome") {
                Some("met") => Truth::Met,
                Some("not met") => Truth::NotMet,
                other => return Err(format!("policy {} has outcome {other:?}", policy.id())),
            };
            means.insert(policy.id().clone(), (index, outcome));
        }
        for (index, test) in TESTS.iter().enumerate() {
            for outcome in [Truth::Met, Truth::NotMet] {
                if !means.values().any(|m| *m == (index, outcome)) {
                    return Err(format!("no policy for {test} {}", outcome.words()));
                }
            }
        }
        Ok(Cedar {
            authorizer: Authorizer::new(),
            policies,
            schema,
            means,
            principal: uid(r#"Commissioner::"lead""#)?,
            action: uid(r#"Action::"assess""#)?,
            resource: uid(r#"Council::"benchmark""#)?,
        })
    }
}

/// A number as Cedar's `decimal` literal (four places; the values generated are hundredths).
fn decimal(x: f64) -> String {
    format!("{x:.4}")
}

impl Seven for Cedar {
    type Input = (Request, Entities);

    fn name(&self) -> &'static str {
        "cedar-policy"
    }

    fn prepare(&self, facts: &Facts) -> Result<(Request, Entities), String> {
        let mut attributes = HashMap::new();
        for (key, value) in facts.entries() {
            let value = match value {
                None => continue,
                Some(Fact::Flag(b)) => RestrictedExpression::new_bool(b),
                Some(Fact::Amount(x)) => RestrictedExpression::new_decimal(decimal(x)),
            };
            attributes.insert(key.to_string(), value);
        }
        let council =
            Entity::new(self.resource.clone(), attributes, HashSet::new()).map_err(|e| e.to_string())?;
        let entities = Entities::from_entities([council], Some(&self.schema)).map_err(|e| e.to_string())?;
        let request = Request::new(
            self.principal.clone(),
            self.action.clone(),
            self.resource.clone(),
            Context::empty(),
            Some(&self.schema),
        )
        .map_err(|e| e.to_string())?;
        Ok((request, entities))
    }

    #[inline]
    fn outcomes(&self, (request, entities): &(Request, Entities)) -> Result<Outcomes, String> {
        let response = self.authorizer.is_authorized(request, &self.policies, entities);
        let diagnostics = response.diagnostics();
        if let Some(error) = diagnostics.errors().next() {
            return Err(format!("cedar: {error}"));
        }
        let mut outcomes = [Truth::Unknown; 7];
        for id in diagnostics.reason() {
            let (index, outcome) = self
                .means
                .get(id)
                .ok_or_else(|| format!("cedar: unexpected policy {id}"))?;
            let slot = outcomes
                .get_mut(*index)
                .ok_or_else(|| format!("cedar: no test {index}"))?;
            if *slot != Truth::Unknown {
                return Err(format!(
                    "cedar: {} is both met and not met",
                    TESTS.get(*index).unwrap_or(&"?")
                ));
            }
            *slot = *outcome;
        }
        Ok(outcomes)
    }
}
