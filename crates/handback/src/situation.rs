//! The situation a commissioner's question starts from: a pack, the evidence as known on a date,
//! the options settled, the Directions in force.
//!
//! Every front end (the CLI, `handback api`, the C ABI, the workbench) asks its questions of a
//! `Situation`, so settling defaults (the as-of date from the evidence, cutting the evidence back
//! to what was known) happens here once, not once per front end.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::assess::Options;
use crate::directions::Directions;
use crate::evidence::Evidence;
use crate::pack::{LoadError, Pack};
use crate::whatif::{Change, Place};

/// The evidence was cut back to what had been recorded by a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KnownAt {
    /// The date.
    pub date: NaiveDate,
    /// The observations recorded later, left out.
    pub left_out: Vec<String>,
}

/// A pack, evidence, settled options and the Directions: what the exploring questions start from.
#[derive(Debug, Clone)]
pub struct Situation {
    /// The rules.
    pub pack: Pack,
    /// The evidence, already cut back to `known` when that is set.
    pub evidence: Evidence,
    /// The options, with the as-of date settled.
    pub options: Options,
    /// The Directions in force, if given (without them every function is taken as held).
    pub directions: Option<Directions>,
    /// When the evidence was cut back to what was known on a date: the date and what was left out.
    pub known: Option<KnownAt>,
}

/// Why a situation cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SituationError {
    /// No as-of date was given, and the evidence names none and has no observation to take one
    /// from.
    #[error("the evidence has no observations and no `as_of`; give an as-of date")]
    NoDate,
}

/// The as-of date a question is answered on: the one given, else the evidence's own `as_of`,
/// else its latest observation's date.
pub fn settle_as_of(evidence: &Evidence, as_of: Option<NaiveDate>) -> Option<NaiveDate> {
    as_of.or(evidence.as_of).or_else(|| evidence.latest_date())
}

impl Situation {
    /// Settles the as-of date and, with `known_at`, cuts the evidence back to what had been
    /// recorded by then *before* anything is explored: a hypothetical change is dated today and
    /// recorded by nobody, so filtering after the changes were applied would hide the very
    /// changes being explored.
    pub fn new(
        pack: Pack,
        evidence: Evidence,
        as_of: Option<NaiveDate>,
        known_at: Option<NaiveDate>,
        directions: Option<Directions>,
    ) -> Result<Situation, SituationError> {
        let as_of = settle_as_of(&evidence, as_of).ok_or(SituationError::NoDate)?;
        let (evidence, known) = match known_at {
            Some(date) => {
                let (known, left_out) = evidence.known_at(date);
                (known, Some(KnownAt { date, left_out }))
            }
            None => (evidence, None),
        };
        Ok(Situation {
            pack,
            evidence,
            options: Options::new(as_of),
            directions,
            known,
        })
    }

    /// The evidence and options a list of changes leads to, a problem with change N reported at
    /// `places[N]` (or at `label`, `$.changes[N]`).
    pub fn scenario(
        &self,
        changes: &[Change],
        label: &str,
        places: &[Place],
    ) -> Result<(Evidence, Options), LoadError> {
        let applied = crate::whatif::apply_at(
            &self.pack,
            &self.evidence,
            self.options.as_of,
            &self.options.parameters,
            changes,
            label,
            places,
        )?;
        let mut options = self.options.clone();
        options.as_of = applied.as_of;
        options.parameters = applied.parameters;
        Ok((applied.evidence, options))
    }
}
