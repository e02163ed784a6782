//! Assessment: evaluating a pack's rules over evidence as of a date.
//!
//! Evaluation is pure: the same pack, evidence, date and parameters always give the same
//! [`Assessment`]. It reads only observations dated on or before the as-of date, treats missing
//! and stale evidence as *unknown* (never as failure) and combines conditions with Kleene's
//! three-valued logic. Rules are evaluated in dependency order, once for the council or once per
//! function. Outcomes are computed without building explanations; reasons are assembled only
//! when the caller asks for them, so bulk callers (what-if, sweeps) pay nothing for them.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::evidence::{Basis, Evidence, Observation, Source};
use crate::pack::Pack;
use crate::rules::{
    Amount, Body, Condition, Event, Leaf, LeafTest, Op, RuleRef, SinceBound, Threshold, TrendKind,
};
use crate::vocabulary::{Day, Direction, Value, ValueType};

/// Kleene's three truth values.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    /// Definitely not met.
    NotMet,
    /// Not known from the evidence.
    Unknown,
    /// Definitely met.
    Met,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b {
            Truth::Met
        } else {
            Truth::NotMet
        }
    }

    /// The word for people: "met", "not met", "unknown".
    pub fn words(self) -> &'static str {
        match self {
            Truth::Met => "met",
            Truth::NotMet => "not met",
            Truth::Unknown => "unknown",
        }
    }

    pub(crate) fn not(self) -> Truth {
        match self {
            Truth::Met => Truth::NotMet,
            Truth::NotMet => Truth::Met,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// A rule's outcome as reported: a test's truth value, or the level a graded rule reached.
///
/// On the wire it is one string: `met`, `not_met`, `unknown`, or the level's name (pack
/// loading refuses a level named like a truth value, so the string reads back unambiguously).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// A test that is met.
    Met,
    /// A test that is not met.
    NotMet,
    /// A test, or a graded rule, that the evidence does not settle.
    Unknown,
    /// The level a graded rule reached.
    Level(String),
}

impl Verdict {
    /// The wire word: `met`, `not_met`, `unknown` or the level's name.
    pub fn code(&self) -> &str {
        match self {
            Verdict::Met => "met",
            Verdict::NotMet => "not_met",
            Verdict::Unknown => "unknown",
            Verdict::Level(l) => l,
        }
    }

    /// The words for people: `met`, `not met`, `unknown` or the level's name.
    pub fn words(&self) -> &str {
        match self {
            Verdict::NotMet => "not met",
            other => other.code(),
        }
    }

    /// The truth value, for a test's verdict (and `Unknown` for an unsettled grade).
    pub fn truth(&self) -> Option<Truth> {
        match self {
            Verdict::Met => Some(Truth::Met),
            Verdict::NotMet => Some(Truth::NotMet),
            Verdict::Unknown => Some(Truth::Unknown),
            Verdict::Level(_) => None,
        }
    }

    /// True for `Met`.
    pub fn is_met(&self) -> bool {
        *self == Verdict::Met
    }

    /// True for `Unknown`.
    pub fn is_unknown(&self) -> bool {
        *self == Verdict::Unknown
    }

    /// Reads a wire word back.
    pub fn from_code(code: &str) -> Verdict {
        match code {
            "met" => Verdict::Met,
            "not_met" => Verdict::NotMet,
            "unknown" => Verdict::Unknown,
            level => Verdict::Level(level.to_string()),
        }
    }
}

impl From<Truth> for Verdict {
    fn from(t: Truth) -> Verdict {
        match t {
            Truth::Met => Verdict::Met,
            Truth::NotMet => Verdict::NotMet,
            Truth::Unknown => Verdict::Unknown,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Verdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Verdict, D::Error> {
        let code = String::deserialize(d)?;
        Ok(Verdict::from_code(&code))
    }
}

impl schemars::JsonSchema for Verdict {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Verdict".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`met`, `not_met`, `unknown`, or the name of the level a graded rule reached.",
            "type": "string"
        })
    }
}

/// Whether a rule is a three-valued test or a graded rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Met, not met or unknown.
    Test,
    /// A level on a scale.
    Graded,
}

impl RuleKind {
    /// The wire word: `test` or `graded`.
    pub fn code(self) -> &'static str {
        match self {
            RuleKind::Test => "test",
            RuleKind::Graded => "graded",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A rule's outcome, before names are attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A test's truth value.
    Test(Truth),
    /// A graded rule's level (rank on its scale), or unknown with the best level known to hold.
    Graded {
        /// The level reached, when known.
        level: Option<usize>,
        /// When the level is unknown: the best level that certainly holds.
        at_least: Option<usize>,
    },
}

/// What to evaluate and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The date of the assessment: later observations are invisible.
    pub as_of: NaiveDate,
    /// Parameter values replacing the pack's defaults (set them with [`Options::set_parameter`], which checks them).
    pub parameters: BTreeMap<String, Value>,
    /// Whether to build reasons for every outcome.
    pub explain: bool,
    /// Evaluate with only the evidence recorded by this date (bitemporal replay): what the
    /// Commissioners could have known then.
    pub known_at: Option<NaiveDate>,
    /// Evaluate without observations of these bases (e.g. without reconstructions and recorded
    /// decisions), to see which verdicts stand on the evidence alone.
    pub exclude_basis: Vec<Basis>,
}

impl Options {
    /// Overrides a parameter, checked against the pack (known name, value of its type and
    /// range): the one way callers should set `parameters`, since `assess` cannot report a bad
    /// override and would fall back to the default.
    pub fn set_parameter(&mut self, pack: &Pack, name: &str, json_text: &str) -> Result<(), String> {
        let value = crate::pack::parse_parameter(pack, name, json_text)?;
        self.parameters.insert(name.to_string(), value);
        Ok(())
    }

    /// Every problem with the parameter overrides (unknown names, wrong types, out of range),
    /// for options whose `parameters` were filled in directly.
    pub fn check(&self, pack: &Pack) -> Result<(), Vec<String>> {
        let problems: Vec<String> = self
            .parameters
            .iter()
            .filter_map(|(name, value)| {
                let text = serde_json::to_string(value).unwrap_or_default();
                crate::pack::parse_parameter(pack, name, &text)
                    .err()
                    .map(|e| format!("parameter override: {e}"))
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Options for a date, with default parameters and explanations on.
    pub fn new(as_of: NaiveDate) -> Self {
        Options {
            as_of,
            parameters: BTreeMap::new(),
            explain: true,
            known_at: None,
            exclude_basis: Vec::new(),
        }
    }
}

/// The result of assessing evidence against a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Assessment {
    /// The engine that produced it.
    pub engine: String,
    /// The pack used.
    pub pack: PackRef,
    /// The council assessed.
    pub council: String,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The known-at date, when evidence recorded later was left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_at: Option<NaiveDate>,
    /// Observations left out because they were recorded after the known-at date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<String>,
    /// The bases left out (`--exclude-basis`), strongest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_basis: Vec<Basis>,
    /// Observations left out because of their basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// Every parameter in force, and whether it was overridden.
    pub parameters: Vec<ParameterInForce>,
    /// The latest fresh recorded recommendation for each function that has one, when the pack
    /// says which key records them: what the planner reads as "recommended on D".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recommendations: Vec<RecordedRecommendation>,
    /// One result per rule (per function for per-function rules), criteria first.
    pub results: Vec<RuleResult>,
}

/// A recommendation to return a function (or a recorded "not yet"), as the evidence records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecordedRecommendation {
    /// The function.
    pub function: String,
    /// True: recommended for return; false: not yet recommended.
    pub recommended: bool,
    /// The observation that records it.
    pub observation: String,
    /// The day it describes.
    pub date: NaiveDate,
    /// What it rests on (a recorded decision, as a rule).
    pub basis: Basis,
    /// Where it comes from.
    pub source: Source,
    /// Who recommended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_by: Option<String>,
}

/// Which pack an assessment used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PackRef {
    /// Pack id.
    pub id: String,
    /// Pack version.
    pub version: String,
}

/// A parameter's value during an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ParameterInForce {
    /// Its name.
    pub name: String,
    /// The value used.
    pub value: Value,
    /// True when the caller overrode the pack's default.
    pub overridden: bool,
}

/// One rule's outcome, for the council or for one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleResult {
    /// The rule id.
    pub rule: String,
    /// Its title.
    pub title: String,
    /// The criteria set, for criteria.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// The function, for per-function rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// A test or a graded rule.
    pub kind: RuleKind,
    /// Met, not met, unknown, or the level reached.
    pub outcome: Verdict,
    /// For an unknown grade: the best level known to hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<String>,
    /// The weakest basis the outcome rests on (see [`Basis`]): for a met `all`, the weakest of
    /// its parts; for a met `any`, the strongest part that is met; and so on. None when the
    /// outcome is unknown or rests on no observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// Why, when explanations were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// Why a condition came out as it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reason {
    /// Met, not met, unknown or, for a graded rule, the level.
    pub outcome: Verdict,
    /// The condition in plain English.
    pub says: String,
    /// What a leaf or a rule reference checks, as data: its kind, key, comparison and what the
    /// evidence showed. `says` and `because` are written from the same parts, so a program reads
    /// these fields rather than parsing the sentences. `None` for compound conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// For evidence leaves: why it passed, failed or is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    /// The observations used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceUsed>,
    /// The threshold compared against, and where it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdUsed>,
    /// How far the latest value is from the threshold in the key's better direction, in the
    /// key's unit (levels, for grades): positive to spare, negative short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The parts of a compound condition, or the levels of a graded rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Reason>,
}

impl Reason {
    /// The truth of a condition's reason (every condition's outcome is a truth; only a graded
    /// rule's own reason names a level, and no fold reads that).
    fn truth(&self) -> Truth {
        self.outcome.truth().unwrap_or(Truth::Unknown)
    }
}

/// What one leaf of a condition (or a reference to another rule) checks, and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Check {
    /// The kind of test.
    pub test: CheckKind,
    /// The evidence key read; `None` for a rule reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The function whose evidence was read (a function-scoped key), or the function a rule
    /// reference is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The comparison, for the tests that compare values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<crate::rules::Op>,
    /// The other key of a key-against-key comparison, or the later event of `days_since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_key: Option<String>,
    /// The function whose evidence the other key (or the later event) is read from, when the
    /// rule pins it to a function other than the subject's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_function: Option<String>,
    /// The rule referenced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For a reference to a graded rule: the level it must reach at least. The level reached
    /// is that rule's own outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<String>,
    /// What the evidence showed; `None` for a rule reference (the referenced rule's result
    /// says what it reached; the reason's outcome says whether that was enough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<Found>,
}

/// The kind of test a [`Check`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckKind {
    /// The latest value compared with a threshold.
    Compare,
    /// Every value over a window satisfies a comparison.
    Sustained,
    /// Some fresh evidence exists.
    Present,
    /// The value moved in the better direction over a window (by a size, if given).
    Trend,
    /// Enough observations in a window satisfy a comparison.
    Count,
    /// The latest value compared with another key's.
    Against,
    /// The days since an event, at most or at least a number.
    DaysSince,
    /// Another rule's outcome.
    Rule,
}

/// What the evidence showed for a [`Check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Found {
    /// No observation of the key on or before the as-of date.
    Missing,
    /// The latest observation is older than the key stays fresh.
    Stale,
    /// The latest observation is older than the test's `within_days`.
    TooOld,
    /// An observation exists (a presence test).
    Present,
    /// The latest value was compared with the threshold.
    Compared,
    /// A value in the window broke the comparison.
    SustainedBroken,
    /// Every value covering the window kept the comparison.
    SustainedHeld,
    /// No observation covers the window's start.
    SustainedNotCovered,
    /// Too few observations for a trend.
    TrendTooFew,
    /// The trend's start and latest values.
    Trend,
    /// A sized change from the window's start to the latest value.
    Changed,
    /// No value at the window's start to measure a change from.
    ChangeNotAnchored,
    /// Observations in the window were counted.
    Counted,
    /// No observation in the window to count.
    CountEmpty,
    /// The other key has no observation to compare with.
    AgainstMissing,
    /// The other key's observation is stale.
    AgainstStale,
    /// The two keys' values were compared.
    AgainstCompared,
    /// The event was not observed.
    NoEvent,
    /// The days since the event were counted.
    Since,
}

impl Finding<'_> {
    fn found(&self) -> Found {
        match self {
            Finding::Missing => Found::Missing,
            Finding::Stale { .. } => Found::Stale,
            Finding::TooOld { .. } => Found::TooOld,
            Finding::Compared { .. } => Found::Compared,
            Finding::Present { .. } => Found::Present,
            Finding::SustainedBroken { .. } => Found::SustainedBroken,
            Finding::SustainedHeld { .. } => Found::SustainedHeld,
            Finding::SustainedNotCovered { .. } => Found::SustainedNotCovered,
            Finding::TrendTooFew { .. } => Found::TrendTooFew,
            Finding::Trend { .. } => Found::Trend,
            Finding::Changed { .. } => Found::Changed,
            Finding::ChangeNotAnchored { .. } => Found::ChangeNotAnchored,
            Finding::Counted { .. } => Found::Counted,
            Finding::CountEmpty { .. } => Found::CountEmpty,
            Finding::AgainstMissing { .. } => Found::AgainstMissing,
            Finding::AgainstStale { .. } => Found::AgainstStale,
            Finding::AgainstCompared { .. } => Found::AgainstCompared,
            Finding::NoEvent { .. } => Found::NoEvent,
            Finding::Since { .. } => Found::Since,
        }
    }
}

/// An observation as cited in a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceUsed {
    /// Observation id.
    pub id: String,
    /// Its key.
    pub key: String,
    /// Its function, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Its value.
    pub value: Value,
    /// The day it describes.
    pub date: NaiveDate,
    /// What it rests on.
    pub basis: Basis,
    /// Where it comes from.
    pub source: Source,
    /// Who judged, for judgements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_by: Option<String>,
    /// In what role they judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// A threshold as cited in a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThresholdUsed {
    /// The value compared against.
    pub value: Value,
    /// The parameter it came from, if not written in the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// True when the parameter was overridden by the caller.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overridden: bool,
}

/// Assesses evidence against a pack as of a date.
///
/// Parameter overrides must name parameters of the pack with values of their type (set them with
/// [`Options::set_parameter`], or check them with [`Options::check`]); an override that does not
/// is ignored rather than trusted.
pub fn assess(pack: &Pack, evidence: &Evidence, options: &Options) -> Assessment {
    assess_with(pack, evidence, options, true)
}

/// As [`assess`]; without `bases`, every result's basis is left out (`None`). What a verdict
/// rests on is for readers; whether a target is met (`needs` checks each option it offers by a
/// plan) does not depend on it, and working it out was a third of each check.
pub(crate) fn assess_with(pack: &Pack, evidence: &Evidence, options: &Options, bases: bool) -> Assessment {
    let (replayed, hidden) = match options.known_at {
        Some(known_at) => {
            let (e, hidden) = evidence.known_at(known_at);
            (Some(e), hidden)
        }
        None => (None, Vec::new()),
    };
    let evidence = replayed.as_ref().unwrap_or(evidence);
    let mut excluded_basis = options.exclude_basis.clone();
    excluded_basis.sort();
    excluded_basis.dedup();
    let (filtered, excluded) = if excluded_basis.is_empty() {
        (None, Vec::new())
    } else {
        let (e, left_out) = evidence.without_basis(&excluded_basis);
        (Some(e), left_out)
    };
    let evidence = filtered.as_ref().unwrap_or(evidence);
    let prepared = crate::derived::prepare(pack, evidence);
    let evidence = prepared.as_ref().map_or(evidence, |p| &p.evidence);
    let engine = Engine::new(pack, evidence, options).with_prepared(prepared.as_ref());
    let outcomes = engine.outcomes();
    let bases = if bases {
        engine.bases(&outcomes)
    } else {
        Vec::new()
    };
    let mut results = Vec::new();
    for (rule_index, rule) in pack.rules.iter().enumerate() {
        let subjects: Vec<Option<usize>> = if rule.per_function {
            (0..pack.functions.len()).map(Some).collect()
        } else {
            vec![None]
        };
        for subject in subjects {
            let outcome = outcomes
                .get(rule_index)
                .and_then(|o| o.get(subject.unwrap_or(0)))
                .copied()
                .unwrap_or(Outcome::Test(Truth::Unknown));
            let (kind, text, at_least) = engine.outcome_words(rule_index, outcome);
            // An unknown verdict rests on nothing, even when a graded rule's floor is known (its
            // basis is kept for the references that ask for "at least" that floor).
            let basis = bases
                .get(rule_index)
                .and_then(|b| b.get(subject.unwrap_or(0)))
                .copied()
                .flatten()
                .filter(|_| !text.is_unknown());
            let reason = options
                .explain
                .then(|| engine.explain_rule(rule_index, subject, &outcomes));
            results.push(RuleResult {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                set: rule.set.clone(),
                function: subject.and_then(|s| pack.functions.get(s)).map(|f| f.id.clone()),
                kind,
                outcome: text,
                at_least,
                basis,
                reason,
            });
        }
    }
    Assessment {
        engine: format!("handback {}", env!("CARGO_PKG_VERSION")),
        pack: PackRef {
            id: pack.manifest.id.clone(),
            version: pack.manifest.version.clone(),
        },
        council: evidence.council.clone(),
        as_of: options.as_of,
        known_at: options.known_at,
        hidden,
        excluded_basis,
        excluded,
        recommendations: engine.recommendations(),
        parameters: pack
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| ParameterInForce {
                name: p.name.clone(),
                value: engine
                    .param(i)
                    .map(|(v, _)| v.clone())
                    .unwrap_or_else(|| p.default.clone()),
                overridden: engine.param(i).is_some_and(|(_, o)| o),
            })
            .collect(),
        results,
    }
}

/// Outcomes only, indexed by rule then subject (function index, or 0 for council-wide rules):
/// the fast path for callers that need verdicts but not reasons.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::bulk::{outcomes, Outcome};
/// use handback::{EvidenceBuilder, ObservationDraft, Options, Truth};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let all = outcomes(&pack, &evidence, &Options::new(day));
/// let rule = pack.rules().iter().position(|r| r.id == "children-5").unwrap();
/// assert_eq!(all[rule][0], Outcome::Test(Truth::NotMet)); // a council-wide rule: subject 0
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn outcomes(pack: &Pack, evidence: &Evidence, options: &Options) -> Vec<Vec<Outcome>> {
    let replayed = options.known_at.map(|k| evidence.known_at(k).0);
    let evidence = replayed.as_ref().unwrap_or(evidence);
    let filtered =
        (!options.exclude_basis.is_empty()).then(|| evidence.without_basis(&options.exclude_basis).0);
    let evidence = filtered.as_ref().unwrap_or(evidence);
    let prepared = crate::derived::prepare(pack, evidence);
    let evidence = prepared.as_ref().map_or(evidence, |p| &p.evidence);
    Engine::new(pack, evidence, options).outcomes()
}

pub(crate) struct Engine<'a> {
    pub pack: &'a Pack,
    pub as_of: NaiveDate,
    /// Parameter values in pack order, with whether each was overridden (`None`: no
    /// overrides, every parameter its default; read them with [`Engine::param`]).
    params: Option<Vec<(&'a Value, bool)>>,
    /// The evidence's observations, sorted by (key, function, date, ...).
    observations: &'a [Observation],
    /// Observations past the evidence's end, for series a what-if answer rebuilt at the end of
    /// the index's columns (`observations.len()` onward): empty but for such answers.
    extra: &'a [Observation],
    /// Each series as a range of `observations`, at `key * slots + slot`, where slot 0 is the
    /// council-wide series and slot `f + 1` function `f`'s: found by arithmetic, not by
    /// comparing strings.
    index: std::borrow::Cow<'a, crate::program::Index>,
    /// The as-of date as a day number (days from the common era), for the compiled program.
    pub(crate) as_of_days: i32,
    /// The pack's functions plus one.
    slots: usize,
    /// What reading the evidence left out (refused roles) and computed (derived keys), for
    /// reasons.
    prepared: Option<&'a crate::derived::Prepared>,
}

/// What a leaf found, in a form cheap to build; words are made from it only when explaining.
pub(crate) enum Finding<'a> {
    Missing,
    Stale {
        latest: &'a Observation,
        max_age: u32,
    },
    TooOld {
        latest: &'a Observation,
        within: u32,
    },
    Compared {
        observation: &'a Observation,
    },
    Present {
        observation: &'a Observation,
    },
    SustainedBroken {
        observation: &'a Observation,
        days: u32,
    },
    SustainedHeld {
        observations: Vec<&'a Observation>,
        days: u32,
    },
    SustainedNotCovered {
        observations: Vec<&'a Observation>,
        days: u32,
    },
    TrendTooFew {
        observations: Vec<&'a Observation>,
        days: u32,
    },
    Trend {
        from: &'a Observation,
        to: &'a Observation,
        days: u32,
    },
    /// A trend with a size: the change from the value in force at the window's start to the
    /// latest, in the key's better direction (`None`: a percentage of a zero start value).
    Changed {
        from: &'a Observation,
        to: &'a Observation,
        days: u32,
        change: Option<f64>,
        needed: f64,
        relative: bool,
    },
    /// A sized trend with no observation on or before the window's start.
    ChangeNotAnchored {
        observations: Vec<&'a Observation>,
        days: u32,
    },
    /// A count over the window: the observations it rests on (the qualifying ones when met,
    /// else every one considered) and how many qualified.
    Counted {
        observations: Vec<&'a Observation>,
        considered: usize,
        qualifying: usize,
        needed: u32,
        days: u32,
        consecutive: bool,
    },
    /// A count over a window with no observation in it.
    CountEmpty {
        days: u32,
    },
    /// The other key of a comparison has no (fresh) observation to compare with.
    AgainstMissing {
        observation: &'a Observation,
        other: usize,
        same_date: bool,
    },
    AgainstStale {
        observation: &'a Observation,
        other: &'a Observation,
        max_age: u32,
    },
    AgainstCompared {
        observation: &'a Observation,
        other: &'a Observation,
    },
    /// An event of `days_since` was not observed (`after`: the first event it must follow).
    NoEvent {
        key: usize,
        after: Option<&'a Observation>,
    },
    /// The days between an event and the as-of date (`to: None`) or a later event.
    Since {
        from: &'a Observation,
        to: Option<&'a Observation>,
        elapsed: i64,
        limit: u32,
    },
}

/// Names an outcome: (kind, outcome word, at-least level).
pub(crate) fn outcome_words(
    pack: &Pack,
    rule: usize,
    outcome: Outcome,
) -> (RuleKind, Verdict, Option<String>) {
    let (scale, floor) = match pack.rules.get(rule).map(|r| &r.body) {
        Some(Body::Graded { scale, levels }) => (pack.scales.get(*scale), levels.last().map(|l| l.rank)),
        _ => (None, None),
    };
    let level_name = |rank: usize| {
        scale
            .and_then(|s| s.levels.get(rank))
            .cloned()
            .unwrap_or_default()
    };
    match outcome {
        Outcome::Test(t) => (RuleKind::Test, t.into(), None),
        Outcome::Graded { level: Some(l), .. } => (RuleKind::Graded, Verdict::Level(level_name(l)), None),
        // "At least the floor" says nothing a reader can use, so it is not reported.
        Outcome::Graded {
            level: None,
            at_least,
        } => (
            RuleKind::Graded,
            Verdict::Unknown,
            at_least.filter(|&l| Some(l) != floor).map(level_name),
        ),
    }
}

/// Each series of `observations` (sorted by key, function, date…) as a range, at
/// `key * slots + slot`, where slot 0 is the council-wide series and slot `f + 1` function `f`'s.
pub(crate) fn index_series(pack: &Pack, obs: &[Observation]) -> Vec<(u32, u32)> {
    let slots = pack.functions.len() + 1;
    let mut series = vec![(0u32, 0u32); pack.keys.len().saturating_mul(slots)];
    // INVARIANT: evidence observations are sorted by (key, function, date, recorded, id),
    // so each series is one contiguous, date-ordered run.
    let mut start = 0;
    // Runs of the same function are adjacent across keys too, so the last slot found is
    // usually the next one: look it up again only when the function changes.
    let mut last: Option<(&str, Option<usize>)> = None;
    while start < obs.len() {
        let Some(first) = obs.get(start) else { break };
        let group = (first.key_index, first.function.as_deref());
        let len = obs
            .get(start..)
            .map(|rest| {
                rest.iter()
                    .take_while(|o| (o.key_index, o.function.as_deref()) == group)
                    .count()
            })
            .unwrap_or(1)
            .max(1);
        let slot = match group.1 {
            None => Some(0),
            Some(f) => match last {
                Some((name, slot)) if name == f => slot,
                _ => {
                    let slot = pack.functions.iter().position(|x| x.id == f).map(|i| i + 1);
                    last = Some((f, slot));
                    slot
                }
            },
        };
        if let Some(cell) = slot.and_then(|slot| series.get_mut(group.0 * slots + slot)) {
            // The loader caps evidence far below 2^32 observations.
            *cell = (start as u32, (start + len) as u32);
        }
        start += len;
    }
    series
}

impl<'a> Engine<'a> {
    pub fn new(pack: &'a Pack, evidence: &'a Evidence, options: &'a Options) -> Self {
        let index = crate::program::Index::new(pack, &evidence.observations);
        Engine::with_series(pack, evidence, options, std::borrow::Cow::Owned(index))
    }

    /// An engine over evidence already indexed.
    pub(crate) fn with_series(
        pack: &'a Pack,
        evidence: &'a Evidence,
        options: &'a Options,
        index: std::borrow::Cow<'a, crate::program::Index>,
    ) -> Self {
        // Without overrides every parameter is its default: nothing to build.
        let params = (!options.parameters.is_empty()).then(|| {
            pack.parameters
                .iter()
                .map(|p| match options.parameters.get(&p.name) {
                    Some(v) if value_fits(v, &p.value_type) => (v, true),
                    _ => (&p.default, false),
                })
                .collect()
        });
        Engine {
            pack,
            as_of: options.as_of,
            params,
            observations: &evidence.observations,
            extra: &[],
            index,
            as_of_days: chrono::Datelike::num_days_from_ce(&options.as_of),
            slots: pack.functions.len() + 1,
            prepared: None,
        }
    }

    /// Whether any parameter is overridden.
    pub(crate) fn overridden(&self) -> bool {
        self.params.is_some()
    }

    /// Parameter `i`'s value in force, and whether it was overridden.
    pub(crate) fn param(&self, i: usize) -> Option<(&'a Value, bool)> {
        match &self.params {
            Some(params) => params.get(i).copied(),
            None => self.pack.parameters.get(i).map(|p| (&p.default, false)),
        }
    }

    /// The engine, reading evidence made by [`crate::derived::prepare`], which reasons cite.
    pub(crate) fn with_prepared(mut self, prepared: Option<&'a crate::derived::Prepared>) -> Self {
        self.prepared = prepared;
        self
    }

    fn subjects(&self, rule: usize) -> usize {
        match self.pack.rules.get(rule) {
            Some(r) if r.per_function => self.pack.functions.len(),
            _ => 1,
        }
    }

    /// Every rule's outcomes, from the pack's compiled program.
    pub fn outcomes(&self) -> Vec<Vec<Outcome>> {
        let mut out = crate::program::Outcomes::new();
        self.pack.program.run(self, None, &mut out);
        out.to_vecs()
    }

    /// Every rule's outcomes by walking the condition trees: the compiled program's oracle.
    #[cfg(test)]
    pub(crate) fn outcomes_interpreted(&self) -> Vec<Vec<Outcome>> {
        let mut outcomes: Vec<Vec<Outcome>> = self
            .pack
            .rules
            .iter()
            .enumerate()
            .map(|(i, _)| vec![Outcome::Test(Truth::Unknown); self.subjects(i)])
            .collect();
        // INVARIANT: `order` puts every rule after the rules it refers to, so references read
        // finished outcomes.
        for &rule in &self.pack.order {
            let n = self.subjects(rule);
            let per_function = self.pack.rules.get(rule).is_some_and(|r| r.per_function);
            for s in 0..n {
                let subject = per_function.then_some(s);
                let outcome = self.rule_outcome(rule, subject, &outcomes);
                if let Some(slot) = outcomes.get_mut(rule).and_then(|o| o.get_mut(s)) {
                    *slot = outcome;
                }
            }
        }
        outcomes
    }

    #[cfg(test)]
    fn rule_outcome(&self, rule: usize, subject: Option<usize>, outcomes: &[Vec<Outcome>]) -> Outcome {
        let Some(rule) = self.pack.rules.get(rule) else {
            return Outcome::Test(Truth::Unknown);
        };
        match &rule.body {
            Body::Test(c) => Outcome::Test(self.truth(c, subject, outcomes)),
            Body::Graded { levels, .. } => {
                let truths = levels
                    .iter()
                    .map(|l| l.condition.as_ref().map(|c| self.truth(c, subject, outcomes)));
                grade(levels.iter().map(|l| l.rank).zip(truths))
            }
        }
    }

    pub(crate) fn truth(&self, c: &Condition, subject: Option<usize>, outcomes: &[Vec<Outcome>]) -> Truth {
        match c {
            Condition::All(parts) => {
                let mut acc = Truth::Met;
                for p in parts {
                    acc = acc.min(self.truth(p, subject, outcomes));
                    if acc == Truth::NotMet {
                        break;
                    }
                }
                acc
            }
            Condition::Any(parts) => {
                let mut acc = Truth::NotMet;
                for p in parts {
                    acc = acc.max(self.truth(p, subject, outcomes));
                    if acc == Truth::Met {
                        break;
                    }
                }
                acc
            }
            Condition::AtLeast(k, parts) => {
                at_least(*k, parts.iter().map(|p| self.truth(p, subject, outcomes)))
            }
            Condition::Not(inner) => self.truth(inner, subject, outcomes).not(),
            Condition::Leaf(leaf) => self.leaf(leaf, subject).0,
            Condition::Rule(r) => self.reference(r, subject, outcomes),
        }
    }

    fn reference(&self, r: &RuleRef, subject: Option<usize>, outcomes: &[Vec<Outcome>]) -> Truth {
        let target_subject = self.ref_subject(r, subject);
        let outcome = outcomes.get(r.rule).and_then(|o| o.get(target_subject)).copied();
        match (outcome, r.at_least) {
            (Some(Outcome::Test(t)), _) => t,
            (Some(Outcome::Graded { level, at_least }), Some(needed)) => match (level, at_least) {
                (Some(level), _) => Truth::from_bool(level >= needed),
                (None, Some(floor)) if floor >= needed => Truth::Met,
                _ => Truth::Unknown,
            },
            _ => Truth::Unknown,
        }
    }

    fn ref_subject(&self, r: &RuleRef, subject: Option<usize>) -> usize {
        let per_function = self.pack.rules.get(r.rule).is_some_and(|t| t.per_function);
        if !per_function {
            return 0;
        }
        match &r.function {
            Some(f) => self.pack.functions.iter().position(|x| &x.id == f).unwrap_or(0),
            None => subject.unwrap_or(0),
        }
    }

    /// An amount's value: the literal, or the parameter in force (a whole number from 1; an
    /// override that is not one is ignored, as [`Options::check`] would have refused it).
    pub(crate) fn amount(&self, a: Amount) -> u32 {
        match a {
            Amount::Literal(n) => n,
            Amount::Parameter(i) => {
                let value = self.param(i).map(|(v, _)| v);
                let default = self.pack.parameters.get(i).map(|p| &p.default);
                value
                    .and_then(crate::rules::whole_amount)
                    .or_else(|| default.and_then(crate::rules::whole_amount))
                    .unwrap_or(1)
            }
        }
    }

    /// A key's maximum age in force: its `max_age_days`, or the parameter it names (which may
    /// be overridden).
    pub(crate) fn max_age(&self, key: usize) -> Option<u32> {
        let k = self.pack.keys.get(key)?;
        match k.max_age_parameter_index {
            Some(i) => Some(self.amount(Amount::Parameter(i))),
            None => k.max_age_days,
        }
    }

    pub(crate) fn threshold(&self, t: &'a Threshold) -> &'a Value {
        match t {
            Threshold::Literal(v) => v,
            Threshold::Parameter(i) => self.param(*i).map(|(v, _)| v).unwrap_or(&FALLBACK),
        }
    }

    /// The visible observations for a leaf: its key, in the subject's (or the pinned) function,
    /// falling back to council-wide evidence where the leaf allows it.
    pub(crate) fn visible(&self, leaf: &Leaf, subject: Option<usize>) -> &'a [Observation] {
        self.visible_key(
            leaf.key,
            leaf.function.as_deref(),
            subject,
            leaf.fallback_to_council,
        )
    }

    /// The visible observations of a key: in the pinned function, else the subject's (for a
    /// function-scoped key), falling back to council-wide evidence where allowed.
    pub(crate) fn visible_key(
        &self,
        key: usize,
        pinned: Option<&str>,
        subject: Option<usize>,
        fallback_to_council: bool,
    ) -> &'a [Observation] {
        let function_scoped = matches!(
            self.pack.keys.get(key).map(|k| k.scope),
            Some(crate::vocabulary::Scope::Function)
        );
        // The slot read: the pinned function's, else the subject's, for a function-scoped key;
        // `None` for a pinned function the pack does not have (no evidence can be filed there).
        let slot = if !function_scoped {
            Some(0)
        } else if let Some(name) = pinned {
            self.pack
                .functions
                .iter()
                .position(|f| f.id == name)
                .map(|i| i + 1)
        } else {
            Some(subject.map_or(0, |s| s + 1))
        };
        let own = slot.map_or(&[][..], |slot| self.series_at(key, slot));
        let own = self.until_as_of(own);
        if own.is_empty() && fallback_to_council && slot != Some(0) {
            return self.until_as_of(self.series_at(key, 0));
        }
        own
    }

    /// A threshold's value in force, for thresholds held outside the pack's rules.
    pub(crate) fn threshold_value<'t>(&'t self, t: &'t Threshold) -> &'t Value {
        match t {
            Threshold::Literal(v) => v,
            Threshold::Parameter(i) => self.param(*i).map(|(v, _)| v).unwrap_or(&FALLBACK),
        }
    }

    /// One series, by key and slot.
    fn series_at(&self, key: usize, slot: usize) -> &'a [Observation] {
        let (start, end) = self.series_range(key, slot);
        let len = self.observations.len();
        match start.checked_sub(len) {
            Some(from) => self.extra.get(from..end.saturating_sub(len)),
            None => self.observations.get(start..end),
        }
        .unwrap_or(&[])
    }

    /// The engine reading `extra` past the evidence's observations, as an overlaid index's
    /// rebuilt series place them.
    pub(crate) fn set_extra(&mut self, extra: &'a [Observation]) {
        self.extra = extra;
    }

    /// Where one series lies in the evidence's observations (and the index's columns).
    pub(crate) fn series_range(&self, key: usize, slot: usize) -> (usize, usize) {
        let (start, end) = self
            .index
            .series
            .get(key * self.slots + slot)
            .copied()
            .unwrap_or((0, 0));
        (start as usize, end as usize)
    }

    /// Observation `i` of the evidence read.
    pub(crate) fn observation(&self, i: usize) -> Option<&'a Observation> {
        match i.checked_sub(self.observations.len()) {
            Some(j) => self.extra.get(j),
            None => self.observations.get(i),
        }
    }

    /// The evidence's columns, for the compiled program.
    pub(crate) fn index(&self) -> &crate::program::Index {
        &self.index
    }

    fn until_as_of(&self, series: &'a [Observation]) -> &'a [Observation] {
        let visible = series.partition_point(|o| o.date <= self.as_of);
        series.get(..visible).unwrap_or(&[])
    }

    /// The first day of a window of `days` days ending on the as-of date; `None` when it would
    /// start before the first day chrono can name, so no observation can be on or before it.
    fn window_start(&self, days: u32) -> Option<NaiveDate> {
        self.as_of.checked_sub_days(chrono::Days::new(u64::from(days)))
    }

    fn age(&self, o: &Observation) -> i64 {
        (self.as_of - o.date).num_days()
    }

    pub(crate) fn leaf(&self, leaf: &'a Leaf, subject: Option<usize>) -> (Truth, Finding<'a>) {
        let series = self.visible(leaf, subject);
        // `days_since` asks when events happened, not what a key's value is now: staleness does
        // not apply to it.
        if let LeafTest::DaysSince {
            op,
            threshold,
            bound,
            days,
            until,
        } = &leaf.test
        {
            return self.days_since(
                series,
                (*op, threshold),
                *bound,
                *days,
                until.as_ref(),
                leaf,
                subject,
            );
        }
        // `present` asks whether fresh evidence exists, so absence answers it (not met) instead
        // of leaving it unknown: the one leaf for which missing evidence is a definite answer.
        let absent = if matches!(leaf.test, LeafTest::Present) {
            Truth::NotMet
        } else {
            Truth::Unknown
        };
        let Some(latest) = series.last() else {
            return (absent, Finding::Missing);
        };
        let key = self.pack.keys.get(leaf.key);
        let mut stale = None;
        if let Some(max_age) = self.max_age(leaf.key) {
            if self.age(latest) > i64::from(max_age) {
                stale = Some(Finding::Stale { latest, max_age });
            }
        }
        if let (None, Some(within)) = (&stale, leaf.within_days) {
            let within = self.amount(within);
            if self.age(latest) > i64::from(within) {
                stale = Some(Finding::TooOld { latest, within });
            }
        }
        if let Some(stale) = stale {
            // Observations that happened stay counted when the record goes stale: later ones
            // could only add to a count (not so for `consecutive`, whose latest run they could
            // break).
            if let LeafTest::Count {
                op,
                threshold,
                at_least,
                days,
                consecutive: false,
            } = &leaf.test
            {
                let (t, finding) = self.count(series, *op, threshold, *at_least, *days, false);
                if t == Truth::Met {
                    return (t, finding);
                }
            }
            return (absent, stale);
        }
        match &leaf.test {
            LeafTest::Present => (Truth::Met, Finding::Present { observation: latest }),
            LeafTest::Compare { op, threshold } => {
                let t = compare(&latest.value, *op, self.threshold(threshold));
                (t, Finding::Compared { observation: latest })
            }
            LeafTest::Sustained { op, threshold, days } => {
                let days = self.amount(*days);
                let threshold = self.threshold(threshold);
                let series = in_force(series);
                let start = window_start(self.as_of, days);
                let in_window = series.partition_point(|o| o.date <= start);
                // The value in force at the window's start is the last one observed on or
                // before it; without one, the window is not covered.
                let anchor = in_window.checked_sub(1).and_then(|i| series.get(i)).copied();
                let window: Vec<&Observation> = anchor
                    .into_iter()
                    .chain(series.get(in_window..).unwrap_or(&[]).iter().copied())
                    .collect();
                if let Some(broken) = window
                    .iter()
                    .find(|o| compare(&o.value, *op, threshold) != Truth::Met)
                {
                    return (
                        Truth::NotMet,
                        Finding::SustainedBroken {
                            observation: broken,
                            days,
                        },
                    );
                }
                if anchor.is_none() {
                    return (
                        Truth::Unknown,
                        Finding::SustainedNotCovered {
                            observations: window,
                            days,
                        },
                    );
                }
                (
                    Truth::Met,
                    Finding::SustainedHeld {
                        observations: window,
                        days,
                    },
                )
            }
            LeafTest::Trend { kind, days, by } => {
                let days = self.amount(*days);
                let series = in_force(series);
                let start = window_start(self.as_of, days);
                let in_window = series.partition_point(|o| o.date <= start);
                let direction = key.map(|k| &k.value_type);
                if let Some(change) = by {
                    // A sized change is measured from the value in force at the window's start:
                    // without one, the window is not covered.
                    let anchor = in_window.checked_sub(1).and_then(|i| series.get(i)).copied();
                    let Some(from) = anchor.filter(|_| in_window < series.len()) else {
                        return (
                            Truth::Unknown,
                            Finding::ChangeNotAnchored {
                                observations: series
                                    .get(in_window.saturating_sub(1)..)
                                    .unwrap_or(&[])
                                    .to_vec(),
                                days,
                            },
                        );
                    };
                    let needed = match self.threshold(&change.size) {
                        Value::Number(n) => *n,
                        _ => f64::INFINITY,
                    };
                    let amount = improvement(&from.value, &latest.value, direction, change.relative);
                    let t = match amount {
                        Some(a) => Truth::from_bool(a >= needed),
                        None => Truth::Unknown,
                    };
                    return (
                        t,
                        Finding::Changed {
                            from,
                            to: latest,
                            days,
                            change: amount,
                            needed,
                            relative: change.relative,
                        },
                    );
                }
                let from_index = in_window.saturating_sub(1);
                let from = series.get(from_index).copied();
                match from {
                    Some(from) if from_index + 1 < series.len() => {
                        let ord = better(&latest.value, &from.value, direction);
                        let t = match kind {
                            TrendKind::Improving => Truth::from_bool(ord == Ordering::Greater),
                            TrendKind::NotWorsening => Truth::from_bool(ord != Ordering::Less),
                        };
                        (
                            t,
                            Finding::Trend {
                                from,
                                to: latest,
                                days,
                            },
                        )
                    }
                    _ => (
                        Truth::Unknown,
                        Finding::TrendTooFew {
                            observations: series.get(from_index..).unwrap_or(&[]).to_vec(),
                            days,
                        },
                    ),
                }
            }
            LeafTest::Count {
                op,
                threshold,
                at_least,
                days,
                consecutive,
            } => self.count(series, *op, threshold, *at_least, *days, *consecutive),
            LeafTest::Against { op, other } => {
                let others = self.visible_key(
                    other.key,
                    other.function.as_deref().or(leaf.function.as_deref()),
                    subject,
                    leaf.fallback_to_council,
                );
                let others = in_force(others);
                let found = if other.same_date {
                    others.iter().rev().find(|o| o.date == latest.date).copied()
                } else {
                    others.last().copied()
                };
                let Some(found) = found else {
                    return (
                        Truth::Unknown,
                        Finding::AgainstMissing {
                            observation: latest,
                            other: other.key,
                            same_date: other.same_date,
                        },
                    );
                };
                let max_age = self.max_age(other.key);
                let within = leaf.within_days.map(|w| self.amount(w));
                let limit = match (max_age, within) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if let Some(limit) = limit {
                    if self.age(found) > i64::from(limit) {
                        return (
                            Truth::Unknown,
                            Finding::AgainstStale {
                                observation: latest,
                                other: found,
                                max_age: limit,
                            },
                        );
                    }
                }
                (
                    compare(&latest.value, *op, &found.value),
                    Finding::AgainstCompared {
                        observation: latest,
                        other: found,
                    },
                )
            }
            // Handled before staleness, above.
            LeafTest::DaysSince { .. } => (Truth::Unknown, Finding::Missing),
        }
    }

    /// A count over the window (as-of − days, as-of] of the observations in force.
    fn count(
        &self,
        series: &'a [Observation],
        op: Op,
        threshold: &'a Threshold,
        at_least: Amount,
        days: Amount,
        consecutive: bool,
    ) -> (Truth, Finding<'a>) {
        let (needed, days) = (self.amount(at_least), self.amount(days));
        let threshold = self.threshold(threshold);
        let series = in_force(series);
        let start = window_start(self.as_of, days);
        let first = series.partition_point(|o| o.date <= start);
        let window = series.get(first..).unwrap_or(&[]);
        if window.is_empty() {
            return (Truth::Unknown, Finding::CountEmpty { days });
        }
        let considered: &[&Observation] = if consecutive {
            window
                .get(window.len().saturating_sub(needed as usize)..)
                .unwrap_or(&[])
        } else {
            window
        };
        let qualifying: Vec<&Observation> = considered
            .iter()
            .copied()
            .filter(|o| compare(&o.value, op, threshold) == Truth::Met)
            .collect();
        let met = qualifying.len() >= needed as usize;
        let finding = |observations: Vec<&'a Observation>| Finding::Counted {
            considered: considered.len(),
            qualifying: qualifying.len(),
            observations,
            needed,
            days,
            consecutive,
        };
        if met {
            (Truth::Met, finding(qualifying.clone()))
        } else {
            (Truth::NotMet, finding(considered.to_vec()))
        }
    }

    /// The days from the latest observation of the leaf's key meeting its comparison to the
    /// as-of date, or to the first observation of `until`'s event on or after it.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one leaf, taken apart once"
    )]
    fn days_since(
        &self,
        series: &'a [Observation],
        (op, threshold): (Op, &'a Threshold),
        bound: SinceBound,
        days: Amount,
        until: Option<&'a Event>,
        leaf: &'a Leaf,
        subject: Option<usize>,
    ) -> (Truth, Finding<'a>) {
        let limit = self.amount(days);
        let threshold = self.threshold(threshold);
        let Some(from) = in_force(series)
            .into_iter()
            .rev()
            .find(|o| compare(&o.value, op, threshold) == Truth::Met)
        else {
            return (
                Truth::Unknown,
                Finding::NoEvent {
                    key: leaf.key,
                    after: None,
                },
            );
        };
        let to = match until {
            None => None,
            Some(event) => {
                let others = self.visible_key(event.key, event.function.as_deref(), subject, false);
                let wanted = self.threshold(&event.threshold);
                let found = in_force(others)
                    .into_iter()
                    .find(|o| o.date >= from.date && compare(&o.value, event.op, wanted) == Truth::Met);
                match found {
                    Some(o) => Some(o),
                    None => {
                        return (
                            Truth::Unknown,
                            Finding::NoEvent {
                                key: event.key,
                                after: Some(from),
                            },
                        )
                    }
                }
            }
        };
        let end = to.map_or(self.as_of, |o| o.date);
        let elapsed = (end - from.date).num_days();
        let t = match bound {
            SinceBound::AtMost => elapsed <= i64::from(limit),
            SinceBound::AtLeast => elapsed >= i64::from(limit),
        };
        (
            Truth::from_bool(t),
            Finding::Since {
                from,
                to,
                elapsed,
                limit,
            },
        )
    }

    /// The latest fresh observation of the pack's recommendation key for each function.
    pub(crate) fn recommendations(&self) -> Vec<RecordedRecommendation> {
        let Some(r) = &self.pack.recommendation else {
            return Vec::new();
        };
        let Some(key_index) = self.pack.key_index(&r.key) else {
            return Vec::new();
        };
        let max_age = self.max_age(key_index);
        self.pack
            .functions
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let latest = self.until_as_of(self.series_at(key_index, i + 1)).last()?;
                if max_age.is_some_and(|m| self.age(latest) > i64::from(m)) {
                    return None;
                }
                Some(RecordedRecommendation {
                    function: f.id.clone(),
                    recommended: latest.value == Value::Boolean(true),
                    observation: latest.id.clone(),
                    date: latest.date,
                    basis: latest.basis,
                    source: latest.source.clone(),
                    judged_by: latest.judged_by.clone(),
                })
            })
            .collect()
    }

    /// The weakest basis each outcome rests on, indexed like [`Engine::outcomes`].
    pub fn bases(&self, outcomes: &[Vec<Outcome>]) -> Vec<Vec<Option<Basis>>> {
        let mut bases: Vec<Vec<Option<Basis>>> = outcomes.iter().map(|o| vec![None; o.len()]).collect();
        // INVARIANT: `order` puts every rule after the rules it refers to.
        for &rule in &self.pack.order {
            let per_function = self.pack.rules.get(rule).is_some_and(|r| r.per_function);
            for s in 0..self.subjects(rule) {
                let subject = per_function.then_some(s);
                let outcome = outcomes.get(rule).and_then(|o| o.get(s)).copied();
                let basis = match (self.pack.rules.get(rule).map(|r| &r.body), outcome) {
                    (Some(Body::Test(c)), Some(Outcome::Test(t))) if t != Truth::Unknown => {
                        self.condition_basis(c, subject, outcomes, &bases)
                    }
                    // The exact level is unknown but a floor holds: a reference asking for "at
                    // least" the floor rests on the floor level's condition being met.
                    (
                        Some(Body::Graded { levels, .. }),
                        Some(Outcome::Graded {
                            level: None,
                            at_least: Some(floor),
                        }),
                    ) => levels
                        .iter()
                        .filter(|l| l.rank == floor)
                        .filter_map(|l| l.condition.as_ref())
                        .map(|c| self.condition_basis(c, subject, outcomes, &bases))
                        .max()
                        .flatten(),
                    (
                        Some(Body::Graded { levels, .. }),
                        Some(Outcome::Graded {
                            level: Some(reached), ..
                        }),
                    ) => {
                        // The level reached rests on its own condition being met and on every
                        // higher level's condition not being met.
                        let mut weakest = None;
                        for l in levels {
                            let Some(c) = &l.condition else { continue };
                            if l.rank >= reached {
                                weakest = weakest.max(self.condition_basis(c, subject, outcomes, &bases));
                            }
                        }
                        weakest
                    }
                    _ => None,
                };
                if let Some(slot) = bases.get_mut(rule).and_then(|b| b.get_mut(s)) {
                    *slot = basis;
                }
            }
        }
        bases
    }

    /// The weakest basis a condition's (known) truth rests on. `None` sorts before every basis,
    /// so "weakest" is `max` and "strongest" is `min`; unknown parts rest on nothing.
    fn condition_basis(
        &self,
        c: &'a Condition,
        subject: Option<usize>,
        outcomes: &[Vec<Outcome>],
        bases: &[Vec<Option<Basis>>],
    ) -> Option<Basis> {
        let truth = self.truth(c, subject, outcomes);
        if truth == Truth::Unknown {
            return None;
        }
        let parts_with = |parts: &'a [Condition], wanted: Truth| -> Vec<Option<Basis>> {
            parts
                .iter()
                .filter(|p| self.truth(p, subject, outcomes) == wanted)
                .map(|p| self.condition_basis(p, subject, outcomes, bases))
                .collect()
        };
        match c {
            // Met: every part counts, so the weakest; not met: one failing part suffices, so
            // the strongest failing part.
            Condition::All(parts) => match truth {
                Truth::Met => parts_with(parts, Truth::Met).into_iter().max().flatten(),
                _ => parts_with(parts, Truth::NotMet).into_iter().min().flatten(),
            },
            Condition::Any(parts) => match truth {
                Truth::Met => parts_with(parts, Truth::Met).into_iter().min().flatten(),
                _ => parts_with(parts, Truth::NotMet).into_iter().max().flatten(),
            },
            // The best set of parts that decides it: k met parts, or n - k + 1 failing ones.
            Condition::AtLeast(k, parts) => {
                let (mut deciding, needed) = match truth {
                    Truth::Met => (parts_with(parts, Truth::Met), *k as usize),
                    _ => (
                        parts_with(parts, Truth::NotMet),
                        parts.len() + 1 - (*k as usize).min(parts.len()),
                    ),
                };
                deciding.sort();
                deciding.get(needed.saturating_sub(1)).copied().flatten()
            }
            Condition::Not(inner) => self.condition_basis(inner, subject, outcomes, bases),
            Condition::Rule(r) => bases
                .get(r.rule)
                .and_then(|b| b.get(self.ref_subject(r, subject)))
                .copied()
                .flatten(),
            Condition::Leaf(leaf) => match self.leaf(leaf, subject).1 {
                Finding::Missing => None,
                Finding::Stale { latest, .. } | Finding::TooOld { latest, .. } => Some(latest.basis),
                Finding::Compared { observation }
                | Finding::Present { observation }
                | Finding::SustainedBroken { observation, .. } => Some(observation.basis),
                Finding::SustainedHeld { observations, .. }
                | Finding::SustainedNotCovered { observations, .. }
                | Finding::TrendTooFew { observations, .. }
                | Finding::ChangeNotAnchored { observations, .. }
                | Finding::Counted { observations, .. } => observations.iter().map(|o| o.basis).max(),
                Finding::Trend { from, to, .. } | Finding::Changed { from, to, .. } => {
                    Some(from.basis.max(to.basis))
                }
                Finding::CountEmpty { .. } | Finding::NoEvent { .. } => None,
                Finding::AgainstMissing { observation, .. } => Some(observation.basis),
                Finding::AgainstStale {
                    observation, other, ..
                }
                | Finding::AgainstCompared {
                    observation, other, ..
                } => Some(observation.basis.max(other.basis)),
                Finding::Since { from, to, .. } => Some(to.map_or(from.basis, |t| from.basis.max(t.basis))),
            },
        }
    }

    /// Names an outcome: (kind, outcome word, at-least level).
    pub fn outcome_words(&self, rule: usize, outcome: Outcome) -> (RuleKind, Verdict, Option<String>) {
        outcome_words(self.pack, rule, outcome)
    }

    fn explain_rule(&self, rule_index: usize, subject: Option<usize>, outcomes: &[Vec<Outcome>]) -> Reason {
        let outcome = outcomes
            .get(rule_index)
            .and_then(|o| o.get(subject.unwrap_or(0)))
            .copied()
            .unwrap_or(Outcome::Test(Truth::Unknown));
        let (_, word, at_least) = self.outcome_words(rule_index, outcome);
        let Some(rule) = self.pack.rules.get(rule_index) else {
            return empty_reason(word);
        };
        let mut says = self
            .pack
            .reason_sentences()
            .get(rule_index)
            .map_or(&[][..], Vec::as_slice)
            .iter();
        match &rule.body {
            Body::Test(c) => self.explain(c, subject, outcomes, &mut says),
            Body::Graded { levels, .. } => {
                let parts = levels
                    .iter()
                    .map(|l| match &l.condition {
                        Some(c) => self.explain(c, subject, outcomes, &mut says),
                        None => Reason {
                            margin: None,
                            outcome: if outcome
                                == (Outcome::Graded {
                                    level: Some(l.rank),
                                    at_least: None,
                                }) {
                                Verdict::Met
                            } else {
                                Verdict::NotMet
                            },
                            says: says.next().cloned().unwrap_or_default(),
                            check: None,
                            because: None,
                            evidence: vec![],
                            threshold: None,
                            parts: vec![],
                        },
                    })
                    .collect();
                let says = match at_least {
                    Some(l) => format!("the highest level whose condition is met (at least `{l}`; a higher level is undetermined)"),
                    None => "the highest level whose condition is met".to_string(),
                };
                Reason {
                    margin: None,
                    outcome: word,
                    says,
                    check: None,
                    because: None,
                    evidence: vec![],
                    threshold: None,
                    parts,
                }
            }
        }
    }

    /// A condition's reason, its truth folded from the parts' as [`Engine::truth`] folds it (so
    /// no subtree is evaluated twice), the sentences taken in turn from `says` (the pack's
    /// [`reason_sentences`](crate::explain::reason_sentences) for the rule).
    fn explain(
        &self,
        c: &'a Condition,
        subject: Option<usize>,
        outcomes: &[Vec<Outcome>],
        says: &mut std::slice::Iter<'_, String>,
    ) -> Reason {
        let mut reason = empty_reason(Verdict::Unknown);
        reason.says = says.next().cloned().unwrap_or_default();
        let truth = match c {
            Condition::All(parts) | Condition::Any(parts) | Condition::AtLeast(_, parts) => {
                reason.parts = parts
                    .iter()
                    .map(|p| self.explain(p, subject, outcomes, says))
                    .collect();
                let truths = reason.parts.iter().map(Reason::truth);
                match c {
                    Condition::All(_) => truths.fold(Truth::Met, Truth::min),
                    Condition::Any(_) => truths.fold(Truth::NotMet, Truth::max),
                    Condition::AtLeast(k, _) => at_least(*k, truths),
                    _ => Truth::Unknown,
                }
            }
            Condition::Not(inner) => {
                let part = self.explain(inner, subject, outcomes, says);
                let truth = part.truth().not();
                reason.parts = vec![part];
                truth
            }
            Condition::Rule(r) => {
                let target = self.ref_subject(r, subject);
                let per_function = self.pack.rules.get(r.rule).is_some_and(|t| t.per_function);
                let outcome = outcomes.get(r.rule).and_then(|o| o.get(target)).copied();
                if let Some(o) = outcome {
                    let (_, word, at_least) = self.outcome_words(r.rule, o);
                    let (open, function, close) =
                        match per_function.then(|| self.pack.functions.get(target)).flatten() {
                            Some(f) => (" for `", f.id.as_str(), "`"),
                            None => ("", "", ""),
                        };
                    let id = self.pack.rules.get(r.rule).map(|t| t.id.as_str()).unwrap_or("?");
                    reason.check = Some(Check {
                        test: CheckKind::Rule,
                        key: None,
                        function: per_function
                            .then(|| self.pack.functions.get(target))
                            .flatten()
                            .map(|f| f.id.clone()),
                        op: None,
                        other_key: None,
                        other_function: None,
                        rule: Some(id.to_string()),
                        at_least: r.at_least.and_then(|needed| {
                            let scale = match self.pack.rules.get(r.rule).map(|t| &t.body) {
                                Some(Body::Graded { scale, .. }) => self.pack.scales.get(*scale),
                                _ => None,
                            };
                            scale.and_then(|s| s.levels.get(needed)).cloned()
                        }),
                        found: None,
                    });
                    reason.because = Some(match at_least {
                        Some(l) => format!("rule `{id}`{open}{function}{close} is unknown (at least `{l}`)"),
                        None => format!("rule `{id}`{open}{function}{close} is {word}"),
                    });
                }
                self.reference(r, subject, outcomes)
            }
            Condition::Leaf(leaf) => self.explain_leaf(leaf, subject, &mut reason),
        };
        reason.outcome = truth.into();
        reason
    }

    /// A leaf's reason, filled in; its truth returned.
    fn explain_leaf(&self, leaf: &'a Leaf, subject: Option<usize>, reason: &mut Reason) -> Truth {
        let (truth, finding) = self.leaf(leaf, subject);
        let key = self
            .pack
            .keys
            .get(leaf.key)
            .map(|k| k.key.as_str())
            .unwrap_or("?");
        reason.check = Some(self.check(leaf, subject, finding.found()));
        let used = |o: &Observation| EvidenceUsed {
            id: o.id.clone(),
            key: o.key.clone(),
            function: o.function.clone(),
            value: o.value.clone(),
            date: o.date,
            basis: o.basis,
            source: o.source.clone(),
            judged_by: o.judged_by.clone(),
            role: o.role.clone(),
        };
        let threshold = match &leaf.test {
            LeafTest::Compare { threshold, .. }
            | LeafTest::Sustained { threshold, .. }
            | LeafTest::Count { threshold, .. }
            | LeafTest::DaysSince { threshold, .. } => Some(threshold),
            LeafTest::Trend { by: Some(c), .. } => Some(&c.size),
            _ => None,
        };
        reason.threshold = threshold.map(|t| match t {
            Threshold::Literal(v) => ThresholdUsed {
                value: v.clone(),
                parameter: None,
                overridden: false,
            },
            Threshold::Parameter(i) => ThresholdUsed {
                value: self.threshold(t).clone(),
                parameter: self.pack.parameters.get(*i).map(|p| p.name.clone()),
                overridden: self.param(*i).is_some_and(|(_, o)| o),
            },
        });
        let op_words = match &leaf.test {
            LeafTest::Compare { op, .. }
            | LeafTest::Sustained { op, .. }
            | LeafTest::Count { op, .. }
            | LeafTest::Against { op, .. }
            | LeafTest::DaysSince { op, .. } => op.words(),
            _ => "",
        };
        // The amounts that came from parameters, named, so a reader sees what moved a window.
        let amounts: Vec<String> = leaf
            .amounts()
            .into_iter()
            .filter_map(|(field, a)| match a {
                Amount::Parameter(i) => {
                    let p = self.pack.parameters.get(i)?;
                    let overridden = if self.param(i).is_some_and(|(_, o)| o) {
                        ", overridden"
                    } else {
                        ""
                    };
                    Some(format!(
                        "`{field}` {} (parameter `{}`{overridden})",
                        self.amount(a),
                        p.name
                    ))
                }
                Amount::Literal(_) => None,
            })
            .collect();
        let key_name = |i: usize| self.pack.keys.get(i).map(|k| k.key.as_str()).unwrap_or("?");
        let limit = Shown(threshold.map(|t| self.threshold(t)));
        let because = match finding {
            Finding::Missing => sentence!("no observation of `{key}` on or before {}", Day(self.as_of)),
            Finding::Stale { latest, max_age } => {
                reason.evidence.push(used(latest));
                let parameter = self
                    .pack
                    .keys
                    .get(leaf.key)
                    .and_then(|k| k.max_age_parameter.as_ref())
                    .map(|p| format!(" (parameter `{p}`)"))
                    .unwrap_or_default();
                sentence!(
                    "the latest observation ({}) is {} days old, older than the {max_age} days{parameter} `{key}` stays fresh",
                    Day(latest.date),
                    self.age(latest)
                )
            }
            Finding::TooOld { latest, within } => {
                reason.evidence.push(used(latest));
                sentence!(
                    "the latest observation ({}) is {} days old; this test needs one within {within} days",
                    Day(latest.date),
                    self.age(latest)
                )
            }
            Finding::Present { observation } => {
                reason.evidence.push(used(observation));
                sentence!("recorded on {}", Day(observation.date))
            }
            Finding::Compared { observation } => {
                reason.margin = threshold.and_then(|t| {
                    margin(
                        &observation.value,
                        self.threshold(t),
                        self.pack.keys.get(leaf.key).map(|k| &k.value_type),
                    )
                });
                reason.evidence.push(used(observation));
                let verdict = if truth == Truth::Met { "is" } else { "is not" };
                sentence!(
                    "{} (on {}) {verdict} {op_words} {limit}",
                    observation.value,
                    Day(observation.date)
                )
            }
            Finding::SustainedBroken { observation, days } => {
                reason.evidence.push(used(observation));
                // The value in force when the window opened may be dated before it.
                let when = if observation.date <= window_start(self.as_of, days) {
                    format!("the value in force when the last {days} days began")
                } else {
                    format!("within the last {days} days")
                };
                sentence!(
                    "{} on {} is not {op_words} {limit}, {when}",
                    observation.value,
                    Day(observation.date)
                )
            }
            Finding::SustainedHeld { observations, days } => {
                reason.evidence.extend(observations.iter().map(|o| used(o)));
                sentence!(
                    "all {} observations covering the last {days} days are {op_words} {limit}",
                    observations.len()
                )
            }
            Finding::SustainedNotCovered { observations, days } => {
                reason.evidence.extend(observations.iter().map(|o| used(o)));
                sentence!(
                    "no observation on or before the start of the {days}-day window ({}), so it is not known to have held throughout",
                    self.window_start(days)
                        .map_or_else(|| "before the first day of the calendar".into(), |d| d.to_string())
                )
            }
            Finding::TrendTooFew { observations, days } => {
                reason.evidence.extend(observations.iter().map(|o| used(o)));
                sentence!(
                    "a trend over {days} days needs two observations, from the window's start and after it"
                )
            }
            Finding::Trend { from, to, days } => {
                reason.evidence.push(used(from));
                reason.evidence.push(used(to));
                let went = match better(
                    &to.value,
                    &from.value,
                    self.pack.keys.get(leaf.key).map(|k| &k.value_type),
                ) {
                    Ordering::Greater => "improved",
                    Ordering::Equal => "held steady",
                    Ordering::Less => "worsened",
                };
                sentence!(
                    "{went} from {} ({}) to {} ({}) over the last {days} days",
                    from.value,
                    Day(from.date),
                    to.value,
                    Day(to.date)
                )
            }
            Finding::ChangeNotAnchored { observations, days } => {
                reason.evidence.extend(observations.iter().map(|o| used(o)));
                sentence!(
                    "a change over {days} days is measured from the value in force at the window's start ({}); there is no observation on or before it, or none after it",
                    self.window_start(days)
                        .map_or_else(|| "before the first day of the calendar".into(), |d| d.to_string())
                )
            }
            Finding::Changed {
                from,
                to,
                days,
                change,
                needed,
                relative,
            } => {
                reason.evidence.push(used(from));
                reason.evidence.push(used(to));
                let unit = if relative {
                    "%".to_string()
                } else {
                    match self.pack.keys.get(leaf.key).map(|k| &k.value_type) {
                        Some(ValueType::Number { unit, .. }) => format!(" {unit}"),
                        _ => " levels".to_string(),
                    }
                };
                let needed_words = crate::vocabulary::format_number(needed);
                let lower_better = matches!(
                    self.pack.keys.get(leaf.key).map(|k| &k.value_type),
                    Some(ValueType::Number {
                        direction: crate::vocabulary::Direction::LowerIsBetter,
                        ..
                    })
                );
                let difference = if lower_better {
                    format!("{} − {}", from.value, to.value)
                } else {
                    format!("{} − {}", to.value, from.value)
                };
                match change {
                    Some(c) => {
                        reason.margin = Some(((c - needed) * 1e9).round() / 1e9 + 0.0);
                        let arithmetic = if relative {
                            format!("({difference}) ÷ {} × 100", from.value)
                        } else {
                            difference
                        };
                        sentence!(
                            "from {} ({}) to {} ({}) over the last {days} days: {arithmetic} = an improvement of {}{unit} in the better direction, {} the {needed}{unit} needed",
                            from.value,
                            Day(from.date),
                            to.value,
                            Day(to.date),
                            crate::vocabulary::format_number(c),
                            if c >= needed { "at least" } else { "short of" },
                            needed = needed_words
                        )
                    }
                    None => sentence!(
                        "from {} ({}) to {} ({}): a change in percent of a start value of 0 is not defined",
                        from.value,
                        Day(from.date),
                        to.value,
                        Day(to.date)
                    ),
                }
            }
            Finding::Counted {
                observations,
                considered,
                qualifying,
                needed,
                days,
                consecutive,
            } => {
                reason.evidence.extend(observations.iter().map(|o| used(o)));
                if consecutive {
                    sentence!(
                        "of the latest {considered} observation{} in the last {days} days, {qualifying} {} {op_words} {limit}; {needed} in a row needed",
                        if considered == 1 { "" } else { "s" },
                        if qualifying == 1 { "is" } else { "are" }
                    )
                } else {
                    sentence!(
                        "{qualifying} of {considered} observation{} in the last {days} days {} {op_words} {limit}; at least {needed} needed",
                        if considered == 1 { "" } else { "s" },
                        if qualifying == 1 { "is" } else { "are" }
                    )
                }
            }
            Finding::CountEmpty { days } => {
                sentence!("no observation of `{key}` in the last {days} days, so none can be counted")
            }
            Finding::AgainstMissing {
                observation,
                other,
                same_date,
            } => {
                reason.evidence.push(used(observation));
                if same_date {
                    sentence!(
                        "{} (on {}), but no observation of `{}` on {} to compare it with",
                        observation.value,
                        Day(observation.date),
                        key_name(other),
                        Day(observation.date)
                    )
                } else {
                    sentence!(
                        "{} (on {}), but no observation of `{}` on or before {}",
                        observation.value,
                        Day(observation.date),
                        key_name(other),
                        Day(self.as_of)
                    )
                }
            }
            Finding::AgainstStale {
                observation,
                other,
                max_age,
            } => {
                reason.evidence.push(used(observation));
                reason.evidence.push(used(other));
                sentence!(
                    "the latest `{}` ({}) is {} days old, older than the {max_age} days it counts for",
                    other.key,
                    Day(other.date),
                    self.age(other)
                )
            }
            Finding::AgainstCompared { observation, other } => {
                reason.evidence.push(used(observation));
                reason.evidence.push(used(other));
                reason.margin = margin(
                    &observation.value,
                    &other.value,
                    self.pack.keys.get(leaf.key).map(|k| &k.value_type),
                );
                let verdict = if truth == Truth::Met { "is" } else { "is not" };
                sentence!(
                    "`{key}` {} (on {}) {verdict} {op_words} `{}` {} (on {})",
                    observation.value,
                    Day(observation.date),
                    other.key,
                    other.value,
                    Day(other.date)
                )
            }
            Finding::NoEvent {
                key: event_key,
                after,
            } => match after {
                None => sentence!(
                    "no observation of `{}` on or before {} is {op_words} {limit}",
                    key_name(event_key),
                    Day(self.as_of)
                ),
                Some(from) => {
                    reason.evidence.push(used(from));
                    sentence!(
                        "`{}` was {} on {}, but no later observation of `{}` on or before {} meets the second event",
                        from.key,
                        from.value,
                        Day(from.date),
                        key_name(event_key),
                        Day(self.as_of)
                    )
                }
            },
            Finding::Since {
                from,
                to,
                elapsed,
                limit: days,
            } => {
                reason.evidence.push(used(from));
                let end = match to {
                    Some(o) => {
                        reason.evidence.push(used(o));
                        format!("`{}` was {} on {}", o.key, o.value, Day(o.date))
                    }
                    None => format!("the as-of date {}", Day(self.as_of)),
                };
                let (word, holds) = match &leaf.test {
                    LeafTest::DaysSince {
                        bound: SinceBound::AtLeast,
                        ..
                    } => ("at least", elapsed >= i64::from(days)),
                    _ => ("at most", elapsed <= i64::from(days)),
                };
                sentence!(
                    "`{}` was {} on {}; {end}: {} − {} = {elapsed} days, {} {word} {days}",
                    from.key,
                    from.value,
                    Day(from.date),
                    Day(to.map_or(self.as_of, |o| o.date)),
                    Day(from.date),
                    if holds { "which is" } else { "which is not" }
                )
            }
        };
        let because = if amounts.is_empty() {
            because
        } else {
            sentence!("{because} ({})", amounts.join(", "))
        };
        reason.because = Some(because);
        self.explain_prepared(leaf, subject, reason);
        truth
    }

    /// A leaf's test as data, for [`Reason::check`].
    fn check(&self, leaf: &Leaf, subject: Option<usize>, found: Found) -> Check {
        let key_name = |i: usize| self.pack.keys.get(i).map(|k| k.key.clone());
        let function = match self.pack.keys.get(leaf.key).map(|k| k.scope) {
            Some(crate::vocabulary::Scope::Function) => leaf.function.clone().or_else(|| {
                subject
                    .and_then(|s| self.pack.functions.get(s))
                    .map(|f| f.id.clone())
            }),
            _ => None,
        };
        // With `fallback_to_council`, a function with no evidence of its own is judged on the
        // council-wide series: that is the evidence read, so no function is named.
        let function = function.filter(|_| {
            !leaf.fallback_to_council
                || self
                    .visible(leaf, subject)
                    .last()
                    .is_some_and(|o| o.function.is_some())
        });
        let (test, op, other) = match &leaf.test {
            LeafTest::Compare { op, .. } => (CheckKind::Compare, Some(*op), None),
            LeafTest::Sustained { op, .. } => (CheckKind::Sustained, Some(*op), None),
            LeafTest::Present => (CheckKind::Present, None, None),
            LeafTest::Trend { .. } => (CheckKind::Trend, None, None),
            LeafTest::Count { op, .. } => (CheckKind::Count, Some(*op), None),
            LeafTest::Against { op, other } => (
                CheckKind::Against,
                Some(*op),
                Some((key_name(other.key), other.function.clone())),
            ),
            LeafTest::DaysSince { op, until, .. } => (
                CheckKind::DaysSince,
                Some(*op),
                until.as_ref().map(|e| (key_name(e.key), e.function.clone())),
            ),
        };
        let (other_key, other_function) = other.unwrap_or((None, None));
        Check {
            test,
            key: key_name(leaf.key),
            function,
            op,
            other_key,
            other_function,
            rule: None,
            at_least: None,
            found: Some(found),
        }
    }

    /// Adds to a leaf's reason what reading the evidence changed: a derived key's inputs (cited
    /// in place of the computed value) and arithmetic, and judgements not counted for their role.
    fn explain_prepared(&self, leaf: &'a Leaf, subject: Option<usize>, reason: &mut Reason) {
        let Some(prepared) = self.prepared else { return };
        let Some(key) = self.pack.keys.get(leaf.key) else {
            return;
        };
        let subject_function = leaf.function.clone().or_else(|| {
            subject
                .and_then(|s| self.pack.functions.get(s))
                .map(|f| f.id.clone())
        });
        let mut functions = match key.scope {
            crate::vocabulary::Scope::Function => vec![subject_function],
            crate::vocabulary::Scope::Council => vec![None],
        };
        if leaf.fallback_to_council && !functions.contains(&None) {
            functions.push(None);
        }
        let mut notes: Vec<String> = Vec::new();
        if let Some(formula) = &key.derived {
            let unit = match &key.value_type {
                ValueType::Number { unit, .. } => format!(" {unit}"),
                _ => String::new(),
            };
            let mut cited: Vec<EvidenceUsed> = Vec::new();
            let mut sums: Vec<String> = Vec::new();
            for e in std::mem::take(&mut reason.evidence) {
                match prepared.derivations.get(&e.id) {
                    Some(d) => {
                        sums.push(format!("{}{unit} on {}", d.arithmetic, e.date));
                        for o in &d.inputs {
                            if !cited.iter().any(|c| c.id == o.id) {
                                cited.push(evidence_used(o));
                            }
                        }
                    }
                    None => cited.push(e),
                }
            }
            reason.evidence = cited;
            notes.push(if sums.is_empty() {
                format!(
                    "`{}` is derived as {}, with a value on each day all of {} are observed",
                    key.key,
                    formula.named(),
                    crate::diagnostic::ticked(&formula.inputs(), ", ")
                )
            } else {
                format!("`{}` = {}: {}", key.key, formula.named(), sums.join("; "))
            });
            notes.extend(prepared.undefined_words(leaf.key, &functions, self.as_of));
        }
        notes.extend(prepared.refused_words(self.pack, leaf.key, &functions, self.as_of));
        if !notes.is_empty() {
            let because = reason.because.take().unwrap_or_default();
            reason.because = Some(format!("{because}; {}", notes.join("; ")));
        }
    }
}

/// An observation as a reason cites it.
fn evidence_used(o: &Observation) -> EvidenceUsed {
    EvidenceUsed {
        id: o.id.clone(),
        key: o.key.clone(),
        function: o.function.clone(),
        value: o.value.clone(),
        date: o.date,
        basis: o.basis,
        source: o.source.clone(),
        judged_by: o.judged_by.clone(),
        role: o.role.clone(),
    }
}

static FALLBACK: Value = Value::Boolean(false);

/// A leaf's `because`, written into room for a typical one (Rotherham's are 72 bytes at the
/// median, 81 at the third quartile): `format!` sizes its string from the literal text alone,
/// and most sentences then grew two or three times.
macro_rules! sentence {
    ($($arg:tt)*) => {{
        let mut text = String::with_capacity(96);
        // Writing to a string cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut text, format_args!($($arg)*));
        text
    }};
}
use sentence;

/// A value in a sentence, or nothing: written where it is used rather than into a string of its
/// own (one fewer allocation per leaf of an explained assessment).
struct Shown<'v>(Option<&'v Value>);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(v) => v.fmt(f),
            None => Ok(()),
        }
    }
}

fn empty_reason(outcome: Verdict) -> Reason {
    Reason {
        outcome,
        says: String::new(),
        check: None,
        because: None,
        evidence: vec![],
        threshold: None,
        margin: None,
        parts: vec![],
    }
}

fn value_fits(v: &Value, t: &ValueType) -> bool {
    matches!(
        (v, t),
        (Value::Boolean(_), ValueType::Boolean)
            | (Value::Number(_), ValueType::Number { .. })
            | (Value::Grade { .. }, ValueType::Grade { .. })
            | (Value::Date(_), ValueType::Date)
            | (Value::Text(_), ValueType::Text)
    )
}

/// Compares an observed value with a threshold. Values of different types never meet.
pub(crate) fn compare(value: &Value, op: Op, threshold: &Value) -> Truth {
    match value.partial_cmp_value(threshold) {
        Some(ord) => Truth::from_bool(op.holds(ord)),
        None => Truth::Unknown,
    }
}

/// The observations in force, in date order: of several describing the same day, only the last
/// recorded (a correction supersedes what it corrects everywhere, as it does for the latest
/// value). `series` is one key's run, sorted by (date, recorded, id).
pub(crate) fn in_force(series: &[Observation]) -> Vec<&Observation> {
    let mut out: Vec<&Observation> = Vec::with_capacity(series.len());
    for o in series {
        if let Some(last) = out.last_mut() {
            if last.date == o.date {
                *last = o;
                continue;
            }
        }
        out.push(o);
    }
    out
}

/// The first day of a window of `days` ending on `as_of`; near the calendar's start the window
/// reaches back to its first day instead of overflowing.
pub(crate) fn window_start(as_of: NaiveDate, days: u32) -> NaiveDate {
    as_of
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Orders two values of one key by *quality*: `Greater` when `a` is better than `b`.
pub(crate) fn better(a: &Value, b: &Value, value_type: Option<&ValueType>) -> Ordering {
    let ord = a.partial_cmp_value(b).unwrap_or(Ordering::Equal);
    match value_type {
        Some(ValueType::Number {
            direction: Direction::LowerIsBetter,
            ..
        }) => ord.reverse(),
        _ => ord,
    }
}

/// How much better `to` is than `from` in the key's better direction: in its unit (levels, for
/// grades), or as a percentage of `from` when `relative` (none for a zero `from`). Rounded to
/// nine decimal places, so 0.3 - 0.1 is the 0.2 people read.
pub(crate) fn improvement(
    from: &Value,
    to: &Value,
    value_type: Option<&ValueType>,
    relative: bool,
) -> Option<f64> {
    let (a, b) = match (from, to) {
        (Value::Number(a), Value::Number(b)) => (*a, *b),
        (Value::Grade { rank: a, .. }, Value::Grade { rank: b, .. }) => (*a as f64, *b as f64),
        _ => return None,
    };
    let raw = match value_type {
        Some(ValueType::Number {
            direction: Direction::LowerIsBetter,
            ..
        }) => a - b,
        _ => b - a,
    };
    let raw = if relative {
        if a == 0.0 {
            return None;
        }
        raw / a.abs() * 100.0
    } else {
        raw
    };
    // A change too large to scale is kept as it is; one too large for a float has no value.
    let rounded = (raw * 1e9).round() / 1e9;
    let change = if rounded.is_finite() { rounded } else { raw };
    change.is_finite().then_some(change + 0.0)
}

/// The signed distance from a threshold in the better direction: for numbers in their unit,
/// for grades in levels; none for booleans, dates and text.
pub(crate) fn margin(value: &Value, threshold: &Value, value_type: Option<&ValueType>) -> Option<f64> {
    let raw = match (value, threshold) {
        (Value::Number(v), Value::Number(t)) => v - t,
        (Value::Grade { rank: v, .. }, Value::Grade { rank: t, .. }) => *v as f64 - *t as f64,
        _ => return None,
    };
    let signed = match value_type {
        Some(ValueType::Number {
            direction: Direction::LowerIsBetter,
            ..
        }) => -raw,
        _ => raw,
    };
    // Round away binary noise (0.47 - 0.2 = 0.26999999999999996) so reports print 0.27; a
    // margin too large to scale is kept as it is, one too large for a float has none (JSON
    // cannot carry infinity), and `+ 0.0` turns negative zero into zero, as the loader does.
    let rounded = (signed * 1e9).round() / 1e9;
    let margin = if rounded.is_finite() { rounded } else { signed };
    margin.is_finite().then_some(margin + 0.0)
}

/// Kleene "at least k of": met once k parts are met, not met once too few could be.
pub(crate) fn at_least(k: u32, truths: impl Iterator<Item = Truth>) -> Truth {
    let (mut met, mut unknown) = (0u32, 0u32);
    for t in truths {
        match t {
            Truth::Met => met += 1,
            Truth::Unknown => unknown += 1,
            Truth::NotMet => {}
        }
    }
    if met >= k {
        Truth::Met
    } else if met + unknown < k {
        Truth::NotMet
    } else {
        Truth::Unknown
    }
}

/// A graded outcome from level truths, best level first; the floor's truth is `None`.
pub(crate) fn grade(levels: impl Iterator<Item = (usize, Option<Truth>)>) -> Outcome {
    let mut undetermined_above = false;
    for (rank, truth) in levels {
        match truth {
            Some(Truth::Met) | None => {
                return if undetermined_above {
                    Outcome::Graded {
                        level: None,
                        at_least: Some(rank),
                    }
                } else {
                    Outcome::Graded {
                        level: Some(rank),
                        at_least: None,
                    }
                };
            }
            Some(Truth::Unknown) => undetermined_above = true,
            Some(Truth::NotMet) => {}
        }
    }
    Outcome::Graded {
        level: None,
        at_least: None,
    }
}
