//! Handback decides when a council under government intervention can have its powers back.
//!
//! Criteria are written as declarative rules over dated, cited evidence, in rule packs (folders
//! of JSON). The library loads a pack and an evidence document, validating both and reporting
//! every problem with its file, line:column and JSON path; then it assesses the evidence as of a
//! date, giving each rule a three-valued outcome (met / not met / unknown) or a grade, with the
//! reasons: the observations used, the thresholds and where they came from.
//!
//! The library does no I/O of its own: callers hand it texts and dates. It reads no clock and no
//! environment, so the same inputs give the same assessment, byte for byte.
//!
//! ```
//! use handback::{assess, Evidence, Options, SourceFile};
//!
//! let pack = handback::default_pack()?;
//! let text = r#"{
//!   "council": "Rotherham MBC",
//!   "observations": [
//!     { "id": "mtfs", "key": "children.mtfs_adopted", "value": true, "date": "2016-03-01",
//!       "source": { "document": "004_1f42ef5066f80d10.txt", "passage": "Appendix 1, test 5" } }
//!   ]
//! }"#;
//! let file = SourceFile { name: "evidence.json".into(), label: "evidence.json".into(), text: text.into() };
//! let evidence = Evidence::load(&pack, &file)?;
//! let as_of = chrono::NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
//! let assessment = assess(&pack, &evidence, &Options::new(as_of));
//! // Most evidence is missing, so most tests are unknown rather than failed.
//! assert!(assessment.results.iter().any(|r| r.outcome == handback::Verdict::Unknown));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod assess;
pub mod audit;
pub mod canonical;
mod cases;
mod citations;
mod csv;
mod derived;
mod diagnostic;
mod directions;
mod evidence;
mod explain;
mod extends;
mod functions;
mod gaps;
mod json;
mod needs;
mod pack;
mod phases;
mod picture;
mod plan;
mod program;
mod report;
pub mod request;
mod rules;
pub mod schema;
#[cfg(feature = "spreadsheets")]
mod sheets;
pub mod sign;
mod situation;
pub mod sweep;
mod vocabulary;
mod warnings;
mod whatif;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

// The everyday path: load, assess, plan, ask what it would take, compare scenarios, report.
pub use assess::{
    assess, Assessment, Check, CheckKind, EvidenceUsed, Found, Options, PackRef, ParameterInForce, Reason,
    RecordedRecommendation, RuleKind, RuleResult, ThresholdUsed, Truth, Verdict,
};
pub use diagnostic::{parse_date, Diagnostic, Diagnostics, Limits};
pub use directions::{Directions, Holding, Instrument, Power};
pub use evidence::{Basis, Evidence, EvidenceBuilder, Observation, ObservationDraft, Source};
pub use gaps::{gaps, Gap, Gaps};
pub use needs::{needs, target_met, Baseline, ChangeSet, Needs, Requirement, Target};
pub use pack::{LoadError, Pack, SourceFile};
pub use plan::{
    plan, AwaitingItem, Blocker, Exit, ExitState, FunctionPlan, Phase, Plan, Readiness, Step, TrancheItem,
};
pub use report::{report, verify, Difference, ReportInputs, VerifyInputs, FORMAT as REPORT_FORMAT};
pub use situation::{settle_as_of, KnownAt, Situation, SituationError};
pub use sweep::{sweep, Sweep, SweepError, Vary};
pub use vocabulary::{format_number, Value};
pub use whatif::{
    apply, apply_at, check_change, diff, parse_set, too_many_changes, Applied, Change, Diff, OutcomeChange,
    Place, Scenario, SCENARIO_ID_PREFIX,
};

/// The loaded pack's model, read-only: what [`Pack`]'s accessors return. A pack is built only
/// by [`Pack::load`], which checks it; nothing here can change one.
pub mod model {
    pub use crate::extends::Extends;
    pub use crate::functions::{
        DatedSafeguard, Function, HeldUntilExit, Prerequisite, Recommendation, Safeguard,
    };
    pub use crate::pack::{CriteriaSet, Manifest, PackDigests, Parameter, Source as PackSource};
    pub use crate::phases::{Counted, ExitOutcome, PhaseCondition, PhaseDecl};
    pub use crate::rules::{Citation, Op, Rule};
    pub use crate::vocabulary::{Direction, Formula, Key, Range, Scale, Scope, ValueType};
}

/// For pack authors: a pack's own cases, its citations checked against the seed documents,
/// warnings, a rule in words, what a pack extends.
pub mod authoring {
    pub use crate::cases::{coverage, Case, CaseResult, Expectation, Expects, Uncovered};
    pub use crate::citations::{
        check_passages, cited_passages, fragment_documents, fragment_stands, misfiled, quoted_fragments,
        CitedPassage,
    };
    pub use crate::evidence::{refused_judgements, OBSERVATION_FIELDS};
    pub use crate::explain::{rule_lines, rule_sentence};
    pub use crate::extends::{extends_of, BASE_PREFIX};
    pub use crate::pack::{check_sources, parse_parameter};
    pub use crate::warnings::pack_warnings;
}

/// Outcomes only, without names or reasons: the fast path for callers that evaluate many
/// times (sweeps, benchmarks). Results are positional, indexed by [`Pack::rules`] and then by
/// [`Pack::functions`] (or 0 for a council-wide rule); use [`assess`] for named results.
/// [`bulk::outcomes`] indexes the evidence each call; [`bulk::Indexed`] indexes it once for many
/// assessments, into [`bulk::Outcomes`] buffers the caller keeps.
pub mod bulk {
    pub use crate::assess::{outcomes, Outcome};
    pub use crate::program::generate::rust as generate_rust;
    pub use crate::program::{Indexed, Outcomes, WhatIf};

    /// What code written by [`generate_rust`] is made of: it names these, and a program passes
    /// its `GENERATED` to [`Indexed::outcomes_generated`]. Not for calling directly.
    pub mod generated {
        pub use crate::program::{Generated, Run, Seen as Cell};
    }
}

/// The function graph as DOT and SVG.
pub mod graph {
    pub use crate::picture::{dot, svg};
}
/// Evidence from and to spreadsheets (feature `spreadsheets`, on by default).
#[cfg(feature = "spreadsheets")]
pub mod spreadsheet {
    pub use crate::sheets::{
        check_as_json, columns, evidence_from_table, evidence_to_csv, evidence_to_xlsx, read_about, read_csv,
        read_xlsx, template_xlsx, xlsx_sheet_names, About, Cell, Table, MAX_COLUMNS, MAX_UNPACKED_BYTES,
    };
}

/// The files of the embedded default pack, as its folder in `rules/` holds them (the build
/// embeds the pack named in `crates/handback/build.rs`).
pub fn default_pack_files() -> Vec<SourceFile> {
    embedded::PACK
        .iter()
        .map(|(name, text)| SourceFile {
            name: (*name).to_string(),
            label: format!("<embedded>/{name}"),
            text: (*text).to_string(),
        })
        .collect()
}

/// Loads the embedded default pack.
///
/// The pack is read and checked once per process and cloned after that: every API request and
/// workbench body that names no pack asks for it, and reading it again each time was about
/// three quarters of the work of answering a small request (measured by the `http` fuzz target).
/// The texts are compiled in, so the first answer is the answer for the life of the process.
pub fn default_pack() -> Result<Pack, LoadError> {
    static LOADED: std::sync::OnceLock<Result<Pack, LoadError>> = std::sync::OnceLock::new();
    LOADED.get_or_init(|| Pack::load(&default_pack_files())).clone()
}

#[cfg(test)]
mod properties;
// The reference evaluator: checks the real one in the property tests and, with the opt-in
// feature `oracle`, in the differential fuzz target (`fuzz/harness.rs`). Deliberately simple, it
// indexes the validated pack directly. Clippy lets tests do that only in `#[cfg(test)]` code,
// which this module no longer is alone, so the lints are relaxed here, for this module only.
#[cfg(any(test, feature = "oracle"))]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod reference;

/// The reference evaluator, for the differential fuzz target and its replay in the tests
/// (feature `oracle`, off by default). Not part of the API: it may change or go at any time.
#[cfg(feature = "oracle")]
#[doc(hidden)]
pub mod oracle {
    pub use crate::reference::outcomes;
}

// The README's library example is compiled and run with the crate's doc tests, so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
