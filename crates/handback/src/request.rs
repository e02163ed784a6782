//! One request layer for every front end: typed requests in, typed responses out.
//!
//! The CLI, `handback api` (JSON lines on stdin), the C ABI and the workbench all answer the same
//! [`Request`]s through [`handle`], so what to compute and how defaults are settled (the as-of
//! date from the evidence, parameter overrides, quick `set` changes, what was known when) is
//! decided here once. Requests carry their inputs by value (evidence as text or as a document,
//! the pack as files or the embedded default, Directions, scenarios), so no request can name a
//! file on the answering machine, and the library stays free of I/O.
//!
//! The JSON form is documented in `docs/embedding.md`:
//!
//! ```
//! let line = r#"{"id": 7, "op": "assess", "as_of": "2016-08-11",
//!   "evidence": {"council": "Example", "observations": []}}"#;
//! let answer: serde_json::Value =
//!     serde_json::from_str(&handback::request::handle_line(line, handback::Limits::default()))?;
//! assert_eq!(answer["ok"], true);
//! assert_eq!(answer["id"], 7);
//! assert_eq!(answer["result"]["as_of"], "2016-08-11");
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::assess::{assess, Assessment, Options};
use crate::diagnostic::{Diagnostic, Limits};
use crate::directions::Directions;
use crate::evidence::{Basis, Evidence};
use crate::needs::{ChangeSet, Needs, Target};
use crate::pack::{LoadError, Pack, SourceFile};
use crate::situation::{KnownAt, Situation};
use crate::whatif::{Change, Diff, Scenario};

/// The version of the request and response format. A request may say which version it was
/// written for; one newer than this is refused with [`RequestError::Version`].
pub const API_VERSION: u32 = 1;

/// One request: an optional id echoed in the response, the version it was written for, and the
/// operation with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// Echoed in the response, so a caller can match answers to questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// The API version the request was written for (default: this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<u32>,
    /// What to do.
    #[serde(flatten)]
    pub operation: Operation,
}

/// Every operation, tagged by `op`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// The engine's and the API's versions.
    Version,
    /// Check a pack, evidence and Directions without evaluating: every problem, located.
    Lint(LintRequest),
    /// Every rule of the pack: its quote, citation and plain-English reading.
    Rules(PackOnly),
    /// Every evidence key the pack reads.
    Template(PackOnly),
    /// Assess evidence as of a date.
    Assess(AssessRequest),
    /// Plan the return of powers.
    Plan(PlanRequest),
    /// A canonical, digested report for auditors.
    Report(ReportRequest),
    /// Re-derive a report and confirm it byte for byte.
    Verify(VerifyRequest),
    /// Who holds each function's powers on a date.
    Grid(GridRequest),
    /// The function graph, as SVG or DOT.
    Graph(GraphRequest),
    /// What changes, and why, if the evidence changed.
    Whatif(WhatifRequest),
    /// The smallest evidence changes that would meet a target.
    Needs(NeedsRequest),
    /// Outcomes over a grid of values.
    Sweep(SweepRequest),
    /// What evidence to gather first.
    Gaps(GapsRequest),
    /// Did whoever took each recorded decision hold the power that day?
    Audit(AuditRequest),
    /// Effective dates for new Directions, clear of decision meetings.
    Dates(DatesRequest),
}

/// A pack given by value: its files by name (`pack.json`, `rules/….json`; a base it extends
/// under `base/`). Absent: the embedded default pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackInput {
    /// File name (relative to the pack folder) to text.
    pub files: BTreeMap<String, String>,
}

impl PackInput {
    /// The files as the pack loader reads them, each labelled as part of the request.
    pub fn source_files(&self) -> Vec<SourceFile> {
        self.files
            .iter()
            .map(|(name, text)| SourceFile {
                name: name.clone(),
                label: format!("request.pack/{name}"),
                text: text.clone(),
            })
            .collect()
    }
}

/// Evidence given by value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EvidenceInput {
    /// The evidence file's JSON text; problems are located by its lines and columns.
    Text(String),
    /// A spreadsheet's rows as CSV text (the columns `handback evidence template --format
    /// sheet` gives).
    Csv {
        /// The CSV text.
        csv: String,
        /// The council the evidence is about (default: `unnamed`).
        #[serde(default)]
        council: Option<String>,
    },
    /// The evidence document itself; problems are located by JSON path.
    Document(
        // Described as the evidence file's schema, so a request's evidence is checked by it.
        #[schemars(schema_with = "crate::schema::evidence_document")]
        serde_json::Map<String, serde_json::Value>,
    ),
}

/// A JSON input (Directions, a scenario) given as text or as the document itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum JsonInput {
    /// The file's text.
    Text(String),
    /// The document.
    Document(serde_json::Map<String, serde_json::Value>),
}

/// One scenario, or a chain of them, base first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ScenarioInput {
    /// One scenario.
    One(JsonInput),
    /// A chain, base first: each one's `extends` is the one before it.
    Chain(Vec<JsonInput>),
}

/// A request that needs only the pack.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackOnly {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
}

/// `lint`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintRequest {
    /// The pack (default: the embedded one). Warnings are given only for a pack given here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// Evidence documents to check against the pack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceInput>,
    /// Directions to check against the pack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<JsonInput>,
}

/// The inputs every question about evidence starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SituationInput {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// The evidence.
    pub evidence: EvidenceInput,
    /// The Directions in force (without them every function is taken as held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<JsonInput>,
    /// The assessment date (default: the evidence's `as_of`, else its latest observation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    /// Use only evidence recorded by this date: what was known then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_at: Option<NaiveDate>,
}

/// The inputs of an evaluation: the pack, the evidence, and how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evaluation {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// The evidence.
    pub evidence: EvidenceInput,
    /// The assessment date (default: the evidence's `as_of`, else its latest observation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    /// Use only evidence recorded by this date: what was known then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_at: Option<NaiveDate>,
    /// Evaluate without observations of these bases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_basis: Vec<Basis>,
    /// Parameter overrides, by name, each checked against the pack.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
}

/// `assess`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssessRequest {
    /// What to evaluate.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// Whether to give every outcome's reasons (default: true).
    #[serde(default = "yes")]
    pub explain: bool,
}

fn yes() -> bool {
    true
}

/// `plan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanRequest {
    /// What to evaluate.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// The Directions in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<JsonInput>,
    /// Whether to include the assessment the plan rests on (default: false).
    #[serde(default)]
    pub with_assessment: bool,
}

/// `report`: the canonical text `verify` reproduces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportRequest {
    /// What to evaluate.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// The Directions; with them (or with `plan`) the report includes the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<JsonInput>,
    /// Include the plan (default: when Directions are given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<bool>,
}

/// `verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// The report's text, exactly as written.
    pub report: String,
    /// Evidence to verify against (default: the copy inside the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceInput>,
    /// Directions to verify against (default: the copy inside the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<JsonInput>,
    /// The signer's public key file's text, to check a signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// `grid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GridRequest {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// The Directions.
    pub directions: JsonInput,
    /// The date (default: the latest instrument's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
}

/// How the function graph is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GraphFormat {
    /// A standalone SVG picture.
    #[default]
    Svg,
    /// Graphviz DOT.
    Dot,
}

/// `graph`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphRequest {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// Evidence to plan from (without it the graph shows the catalogue only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceInput>,
    /// The Directions in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<JsonInput>,
    /// The date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    /// SVG (default) or DOT.
    #[serde(default)]
    pub format: GraphFormat,
}

/// `whatif`: a base situation and the changes to explore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WhatifRequest {
    /// The base.
    #[serde(flatten)]
    pub situation: SituationInput,
    /// A scenario document (as a scenario file holds it: `title`, `changes`), or a chain of
    /// them, base first. A request names no files, so a lone scenario that `extends` another is
    /// refused rather than applied without its base: give the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<ScenarioInput>,
    /// Quick changes, `KEY[:FUNCTION]=VALUE[@YYYY-MM-DD]`, applied after the scenario's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// Parameter overrides in the scenario, applied after the sets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// The scenario's as-of date (the base keeps its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_as_of: Option<NaiveDate>,
}

/// `needs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NeedsRequest {
    /// The base.
    #[serde(flatten)]
    pub situation: SituationInput,
    /// `function:ID`, `rule:ID`, `rule:ID@FUNCTION`, `exit` or `exit:OUTCOME`.
    pub target: String,
    /// How many options to give (default 5).
    #[serde(default = "five")]
    pub limit: usize,
    /// Parameter overrides, as `assess` takes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn five() -> usize {
    5
}

/// `gaps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GapsRequest {
    /// The base.
    #[serde(flatten)]
    pub situation: SituationInput,
    /// Parameter overrides, as `assess` takes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
}

/// `sweep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepRequest {
    /// The base.
    #[serde(flatten)]
    pub situation: SituationInput,
    /// The varied keys (or parameters), each `KEY[:FUNCTION]=FROM..TO/STEP`.
    pub vary: Vec<String>,
    /// Parameter overrides, as `assess` takes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, serde_json::Value>,
}

/// `audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// The pack (default: the embedded one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
    /// The decision log's CSV text (datetime, function, decided_by[, reference]).
    pub decisions: String,
    /// The Directions.
    pub directions: JsonInput,
}

/// `dates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatesRequest {
    /// The day the Secretary of State is minded to accept the recommendation.
    pub minded: NaiveDate,
    /// The calendar of formal decision meetings: CSV text with a `date` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meetings: Option<String>,
    /// The representation period in days (default 10).
    #[serde(default = "ten")]
    pub representation_days: u32,
    /// How many dates to suggest (default 3).
    #[serde(default = "three")]
    pub count: usize,
}

fn ten() -> u32 {
    10
}

fn three() -> usize {
    3
}

/// Why a request was not answered. Its JSON form (`kind`, `message`, `problems`) carries every
/// located problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestError {
    /// The request is not valid JSON, or not a request of a known shape.
    #[error("{message}")]
    Malformed {
        /// What is wrong, with the line and column.
        message: String,
    },
    /// The request was written for a newer version of the API.
    #[error("{message}")]
    Version {
        /// What is wrong, in words (every error carries one).
        message: String,
        /// The version asked for.
        requested: u32,
        /// The newest version this engine answers.
        supported: u32,
    },
    /// An input (pack, evidence, Directions, scenario, parameter) is not valid; every problem
    /// is listed.
    #[error("{message}")]
    Invalid {
        /// A summary.
        message: String,
        /// Every located problem.
        problems: Vec<Diagnostic>,
    },
    /// The request asks for something that cannot be done (no date to assess on, an unknown
    /// target, a sweep too large).
    #[error("{message}")]
    Usage {
        /// What to change.
        message: String,
    },
    /// `verify`: the report does not reproduce.
    #[error("{message}")]
    Mismatch {
        /// What is wrong, in words (every error carries one).
        message: String,
        /// Every difference found, most fundamental first.
        differences: Vec<String>,
    },
    /// The embedded pack failed to load: a bug in this build.
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl From<LoadError> for RequestError {
    fn from(e: LoadError) -> Self {
        RequestError::Invalid {
            message: e.to_string(),
            problems: e.diagnostics.0,
        }
    }
}

fn version_error(requested: u32) -> RequestError {
    RequestError::Version {
        message: format!(
            "the request is for API version {requested}; this engine answers version {API_VERSION} and older"
        ),
        requested,
        supported: API_VERSION,
    }
}

fn usage(message: impl Into<String>) -> RequestError {
    RequestError::Usage {
        message: message.into(),
    }
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Response {
    /// The API version of this response.
    pub api_version: u32,
    /// The request's id, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// Whether the request was answered.
    pub ok: bool,
    /// The answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Answer>,
    /// Why it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RequestError>,
}

/// What each operation answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Answer {
    /// `version`.
    Version {
        /// The engine, e.g. `handback 0.1.0`.
        engine: String,
        /// The newest API version answered.
        api_version: u32,
    },
    /// `lint`.
    Lint(LintAnswer),
    /// `rules`.
    Rules(RulesAnswer),
    /// `template`.
    Template {
        /// Every key the pack declares.
        keys: Vec<crate::vocabulary::Key>,
    },
    /// `assess`.
    Assess(Box<Assessment>),
    /// `plan`.
    Plan(Box<PlanAnswer>),
    /// `report`.
    Report {
        /// The canonical report text, as `verify` reproduces it.
        report: String,
        /// Its digest.
        digest: String,
    },
    /// `verify`.
    Verified {
        /// Always true: a report that does not reproduce is a [`RequestError::Mismatch`].
        reproduces: bool,
        /// Who the report says signed it, if anyone.
        #[serde(skip_serializing_if = "Option::is_none")]
        signer: Option<String>,
        /// The key id it was signed with.
        #[serde(skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
        /// Whether the signature was checked against a public key and holds.
        signature_checked: bool,
    },
    /// `grid`.
    Grid {
        /// The date.
        as_of: NaiveDate,
        /// Each function's holding.
        functions: Vec<crate::directions::Holding>,
    },
    /// `graph`.
    Graph {
        /// The format drawn.
        format: GraphFormat,
        /// The picture's text.
        text: String,
    },
    /// `whatif`.
    Whatif(Box<WhatifAnswer>),
    /// `needs`.
    Needs(Box<NeedsAnswer>),
    /// `sweep`.
    Sweep(crate::sweep::Sweep),
    /// `gaps`.
    Gaps(GapsAnswer),
    /// `audit`.
    Audit {
        /// Whether every decision was taken by whoever held the power.
        all_valid: bool,
        /// One finding per decision.
        findings: Vec<crate::audit::Finding>,
    },
    /// `dates`.
    Dates {
        /// The suggested effective dates.
        dates: Vec<crate::audit::EffectiveDate>,
    },
}

impl Operation {
    /// The operation's name, as the request's `op` field gives it.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Version => "version",
            Operation::Lint(_) => "lint",
            Operation::Rules(_) => "rules",
            Operation::Template(_) => "template",
            Operation::Assess(_) => "assess",
            Operation::Plan(_) => "plan",
            Operation::Report(_) => "report",
            Operation::Verify(_) => "verify",
            Operation::Grid(_) => "grid",
            Operation::Graph(_) => "graph",
            Operation::Whatif(_) => "whatif",
            Operation::Needs(_) => "needs",
            Operation::Sweep(_) => "sweep",
            Operation::Gaps(_) => "gaps",
            Operation::Audit(_) => "audit",
            Operation::Dates(_) => "dates",
        }
    }
}

impl Answer {
    /// Reads an answer back from its JSON, given the operation it answers: the wire form does
    /// not repeat the operation (the caller asked it), so the operation names the shape.
    ///
    /// ```
    /// use handback::request::{handle_line, Answer, Response};
    ///
    /// let line = handle_line(r#"{"op": "version"}"#, handback::Limits::default());
    /// let response = Response::from_json("version", &line)?;
    /// assert!(matches!(response.result, Some(Answer::Version { api_version: 1, .. })));
    /// // Written again, it is the same line.
    /// assert_eq!(serde_json::to_string(&response)?, line);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn from_json(op: &str, value: serde_json::Value) -> Result<Answer, serde_json::Error> {
        use serde::de::Error as _;
        use serde_json::from_value as read;
        #[derive(Deserialize)]
        struct Version {
            engine: String,
            api_version: u32,
        }
        #[derive(Deserialize)]
        struct Template {
            keys: Vec<crate::vocabulary::Key>,
        }
        #[derive(Deserialize)]
        struct Report {
            report: String,
            digest: String,
        }
        #[derive(Deserialize)]
        struct Verified {
            reproduces: bool,
            signer: Option<String>,
            key_id: Option<String>,
            signature_checked: bool,
        }
        #[derive(Deserialize)]
        struct Grid {
            as_of: NaiveDate,
            functions: Vec<crate::directions::Holding>,
        }
        #[derive(Deserialize)]
        struct Graph {
            format: GraphFormat,
            text: String,
        }
        #[derive(Deserialize)]
        struct Audit {
            all_valid: bool,
            findings: Vec<crate::audit::Finding>,
        }
        #[derive(Deserialize)]
        struct Dates {
            dates: Vec<crate::audit::EffectiveDate>,
        }
        Ok(match op {
            "version" => {
                let v: Version = read(value)?;
                Answer::Version {
                    engine: v.engine,
                    api_version: v.api_version,
                }
            }
            "lint" => Answer::Lint(read(value)?),
            "rules" => Answer::Rules(read(value)?),
            "template" => Answer::Template {
                keys: read::<Template>(value)?.keys,
            },
            "assess" => Answer::Assess(read(value)?),
            "plan" => Answer::Plan(read(value)?),
            "report" => {
                let r: Report = read(value)?;
                Answer::Report {
                    report: r.report,
                    digest: r.digest,
                }
            }
            "verify" => {
                let v: Verified = read(value)?;
                Answer::Verified {
                    reproduces: v.reproduces,
                    signer: v.signer,
                    key_id: v.key_id,
                    signature_checked: v.signature_checked,
                }
            }
            "grid" => {
                let g: Grid = read(value)?;
                Answer::Grid {
                    as_of: g.as_of,
                    functions: g.functions,
                }
            }
            "graph" => {
                let g: Graph = read(value)?;
                Answer::Graph {
                    format: g.format,
                    text: g.text,
                }
            }
            "whatif" => Answer::Whatif(read(value)?),
            "needs" => Answer::Needs(read(value)?),
            "sweep" => Answer::Sweep(read(value)?),
            "gaps" => Answer::Gaps(read(value)?),
            "audit" => {
                let a: Audit = read(value)?;
                Answer::Audit {
                    all_valid: a.all_valid,
                    findings: a.findings,
                }
            }
            "dates" => Answer::Dates {
                dates: read::<Dates>(value)?.dates,
            },
            other => return Err(serde_json::Error::custom(format!("unknown operation `{other}`"))),
        })
    }
}

impl Response {
    /// Reads a response line back, given the operation it answers (see [`Answer::from_json`]).
    pub fn from_json(op: &str, text: &str) -> Result<Response, serde_json::Error> {
        #[derive(Deserialize)]
        struct Raw {
            api_version: u32,
            id: Option<serde_json::Value>,
            ok: bool,
            result: Option<serde_json::Value>,
            error: Option<RequestError>,
        }
        let raw: Raw = serde_json::from_str(text)?;
        Ok(Response {
            api_version: raw.api_version,
            id: raw.id,
            ok: raw.ok,
            result: raw.result.map(|v| Answer::from_json(op, v)).transpose()?,
            error: raw.error,
        })
    }
}

/// `lint`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LintAnswer {
    /// True when no problem was found.
    pub ok: bool,
    /// Every problem, located.
    pub problems: Vec<Diagnostic>,
    /// What loads but is almost certainly not meant (never a failure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Diagnostic>,
}

/// One rule as `rules` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Criteria set.
    pub set: Option<String>,
    /// `test` or `graded on SCALE`.
    pub kind: String,
    /// Evaluated per function.
    pub per_function: bool,
    /// Better evidence never makes it worse.
    pub monotone: bool,
    /// The source text it encodes.
    pub quote: String,
    /// SHA-256 of the normalised quote.
    pub quote_sha256: String,
    /// Where the quote comes from.
    pub citation: crate::rules::Citation,
    /// The rule in plain English.
    pub reading: String,
    /// Parameters it reads.
    pub parameters: Vec<String>,
    /// Evidence keys it reads.
    pub keys: Vec<String>,
}

/// `rules`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RulesAnswer {
    /// The pack's manifest.
    pub pack: crate::pack::Manifest,
    /// The digest a pack extending this one pins.
    pub digest: String,
    /// Every rule.
    pub rules: Vec<RuleInfo>,
}

/// `plan`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanAnswer {
    /// The plan.
    pub plan: crate::plan::Plan,
    /// The assessment it rests on, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
}

/// `whatif`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WhatifAnswer {
    /// The scenario's title.
    pub scenario: String,
    /// The changes applied, in order.
    pub changes: Vec<Change>,
    /// What changed, and why.
    pub diff: Diff,
    /// When the base was cut back to what was known on a date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_at: Option<KnownAt>,
}

/// One option `needs` offers, with whether applying it met the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckedSet {
    /// The option.
    #[serde(flatten)]
    pub set: ChangeSet,
    /// Applied on the as-of date and evaluated on its earliest day, it meets the target.
    pub checked: bool,
}

/// `needs`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NeedsAnswer {
    /// The target.
    pub target: Target,
    /// Whether it is met already.
    pub met: bool,
    /// The options, best first, at most the limit asked for.
    pub sets: Vec<CheckedSet>,
    /// How many more options there are beyond the limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: usize,
    /// What stands in the way: what evidence alone cannot change, and how many options were
    /// found but refused by their check (see [`crate::Needs::blocks`]).
    pub blocks: Vec<String>,
    /// Whether any part of the answer is heuristic.
    pub heuristic: bool,
    /// The date.
    pub as_of: NaiveDate,
    /// When the base was cut back to what was known on a date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_at: Option<KnownAt>,
}

/// `gaps`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GapsAnswer {
    /// The date.
    pub as_of: NaiveDate,
    /// The report.
    #[serde(flatten)]
    pub gaps: crate::gaps::Gaps,
    /// When the base was cut back to what was known on a date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_at: Option<KnownAt>,
}

/// Answers one JSON request line: the response as one line of JSON. Never fails: a malformed or
/// oversized line gets an error response, with the request's id when it could be read.
///
/// ```
/// use handback::request::handle_line;
///
/// let line = r#"{"id": 7, "op": "assess", "evidence": {"council": "X", "observations": []}, "as_of": "2016-08-11"}"#;
/// let answer: serde_json::Value = serde_json::from_str(&handle_line(line, Default::default()))?;
/// assert_eq!(answer["id"], 7);
/// assert_eq!(answer["ok"], true);
/// // A line that is not a request still gets an answer, never a panic.
/// let answer: serde_json::Value = serde_json::from_str(&handle_line("{oops", Default::default()))?;
/// assert_eq!(answer["ok"], false);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn handle_line(line: &str, limits: Limits) -> String {
    let response = match parse_request(line, limits) {
        Ok(request) => handle_with_limits(&request, limits),
        Err((id, error)) => Response {
            api_version: API_VERSION,
            id,
            ok: false,
            result: None,
            error: Some(error),
        },
    };
    serde_json::to_string(&response).unwrap_or_else(|e| {
        format!(r#"{{"api_version":{API_VERSION},"ok":false,"error":{{"kind":"internal","message":"cannot write the response: {e}"}}}}"#)
    })
}

/// Reads a request from JSON text within the limits: its size, and its nesting checked by the
/// project's own reader before serde reads it, so nothing recursive can overflow. On failure,
/// the id when one could be read.
pub fn parse_request(
    text: &str,
    limits: Limits,
) -> Result<Request, (Option<serde_json::Value>, RequestError)> {
    if text.len() > limits.max_input_bytes {
        return Err((
            None,
            RequestError::Malformed {
                message: format!(
                    "the request is {} bytes; the limit is {} (raise it with `--max-input-bytes`)",
                    text.len(),
                    limits.max_input_bytes
                ),
            },
        ));
    }
    // A byte-order mark (Windows tools write one) is skipped, as the project's own reader and
    // every file command skip it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Err(e) = crate::json::parse_with_depth(text, limits.max_depth) {
        return Err((
            None,
            RequestError::Malformed {
                message: format!(
                    "the request is not valid JSON: {}:{}: {}: {}",
                    e.pos.line, e.pos.column, e.path, e.message
                ),
            },
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        (
            None,
            RequestError::Malformed {
                message: format!("the request is not valid JSON: {e}"),
            },
        )
    })?;
    let id = value.get("id").cloned();
    if !value.is_object() {
        return Err((
            id,
            RequestError::Malformed {
                message: "a request is a JSON object with an `op`".into(),
            },
        ));
    }
    // A request written for a newer API may use an operation or a field this one lacks: it is
    // refused as `version` before its fields are read, never as `malformed`.
    if let Some(v) = value.get("api_version").and_then(serde_json::Value::as_u64) {
        if v > u64::from(API_VERSION) {
            return Err((id, version_error(u32::try_from(v).unwrap_or(u32::MAX))));
        }
    }
    // serde reads an internally tagged enum's tag from an integer too, as the variant's index
    // (`{"op": 4}` would be `assess`): an operation is named, never numbered.
    if value.get("op").is_some_and(|op| !op.is_string()) {
        return Err((
            id,
            RequestError::Malformed {
                message: "`op` names the operation as a string, e.g. `\"assess\"`".into(),
            },
        ));
    }
    let request = serde_json::from_value::<Request>(value.clone()).map_err(|e| {
        // Read from the text again for the error alone: it then names the line and column of
        // the field at fault, which an error from a parsed value cannot.
        let message = match serde_json::from_str::<Request>(text) {
            Err(located) => located.to_string(),
            Ok(_) => e.to_string(),
        };
        (
            id.clone(),
            RequestError::Malformed {
                message: format!("not a valid request: {message}"),
            },
        )
    })?;
    // serde cannot refuse unknown fields of a struct with a flattened part, so every field
    // given is checked against the operation's own: a misspelt `as_of` must not be silently
    // ignored.
    let known = fields(&request.operation);
    let unknown: Vec<String> = value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !["id", "api_version", "op"].contains(&k.as_str()) && !known.contains(&k.as_str()))
        .map(|k| {
            let hint = crate::diagnostic::did_you_mean(k, known);
            format!("unknown field `{k}`{hint}")
        })
        .collect();
    if !unknown.is_empty() {
        return Err((
            id,
            RequestError::Malformed {
                message: format!("not a valid request: {}", unknown.join("; ")),
            },
        ));
    }
    Ok(request)
}

/// The fields an operation takes, besides `id`, `api_version` and `op`.
#[rustfmt::skip]
fn fields(op: &Operation) -> &'static [&'static str] {
    match op {
        Operation::Version => &[],
        Operation::Lint(_) => &["pack", "evidence", "directions"],
        Operation::Rules(_) | Operation::Template(_) => &["pack"],
        Operation::Assess(_) => &["pack", "evidence", "as_of", "known_at", "exclude_basis", "parameters", "explain"],
        Operation::Plan(_) => &["pack", "evidence", "as_of", "known_at", "exclude_basis", "parameters", "directions", "with_assessment"],
        Operation::Report(_) => &["pack", "evidence", "as_of", "known_at", "exclude_basis", "parameters", "directions", "plan"],
        Operation::Verify(_) => &["pack", "report", "evidence", "directions", "public_key"],
        Operation::Grid(_) => &["pack", "directions", "as_of"],
        Operation::Graph(_) => &["pack", "evidence", "directions", "as_of", "format"],
        Operation::Whatif(_) => &["pack", "evidence", "directions", "as_of", "known_at", "scenario", "set", "parameters", "scenario_as_of"],
        Operation::Needs(_) => &["pack", "evidence", "directions", "as_of", "known_at", "target", "limit", "parameters"],
        Operation::Sweep(_) => &["pack", "evidence", "directions", "as_of", "known_at", "vary", "parameters"],
        Operation::Gaps(_) => &["pack", "evidence", "directions", "as_of", "known_at", "parameters"],
        Operation::Audit(_) => &["pack", "decisions", "directions"],
        Operation::Dates(_) => &["minded", "meetings", "representation_days", "count"],
    }
}

/// Answers a request with the default limits.
pub fn handle(request: &Request) -> Response {
    handle_with_limits(request, Limits::default())
}

/// Answers a request; `limits` bound every input it carries.
pub fn handle_with_limits(request: &Request, limits: Limits) -> Response {
    let result = match request.api_version {
        Some(v) if v > API_VERSION => Err(version_error(v)),
        _ => answer(&request.operation, limits),
    };
    let (result, error) = match result {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e)),
    };
    Response {
        api_version: API_VERSION,
        id: request.id.clone(),
        ok: error.is_none(),
        result,
        error,
    }
}

/// Answers one operation.
pub fn answer(operation: &Operation, limits: Limits) -> Result<Answer, RequestError> {
    match operation {
        Operation::Version => Ok(Answer::Version {
            engine: format!("handback {}", env!("CARGO_PKG_VERSION")),
            api_version: API_VERSION,
        }),
        Operation::Lint(r) => Ok(Answer::Lint(lint(r, limits))),
        Operation::Rules(r) => Ok(Answer::Rules(rules(&load_pack(r.pack.as_ref(), limits)?))),
        Operation::Template(r) => Ok(Answer::Template {
            keys: load_pack(r.pack.as_ref(), limits)?.keys().to_vec(),
        }),
        Operation::Assess(r) => {
            let (pack, evidence, options) = evaluation(&r.evaluation, limits)?;
            let options = Options {
                explain: r.explain,
                ..options
            };
            Ok(Answer::Assess(Box::new(assess(&pack, &evidence, &options))))
        }
        Operation::Plan(r) => {
            let (pack, evidence, options) = evaluation(&r.evaluation, limits)?;
            let directions = load_directions(&pack, r.directions.as_ref())?;
            let assessment = assess(&pack, &evidence, &options);
            let plan = crate::plan::plan(&pack, &assessment, directions.as_ref());
            Ok(Answer::Plan(Box::new(PlanAnswer {
                plan,
                assessment: r.with_assessment.then_some(assessment),
            })))
        }
        Operation::Report(r) => {
            let (pack, evidence, options) = evaluation(&r.evaluation, limits)?;
            let directions = load_directions(&pack, r.directions.as_ref())?;
            let inputs = crate::report::ReportInputs {
                pack: &pack,
                evidence: &evidence,
                options: &options,
                directions: directions.as_ref(),
                with_plan: r.plan.unwrap_or(directions.is_some()),
            };
            let report = crate::report::report(&inputs);
            let digest = serde_json::from_str::<serde_json::Value>(&report)
                .ok()
                .and_then(|v| v.get("digest").and_then(|d| d.as_str()).map(str::to_string))
                .unwrap_or_default();
            Ok(Answer::Report { report, digest })
        }
        Operation::Verify(r) => {
            let pack = load_pack(r.pack.as_ref(), limits)?;
            let evidence = match &r.evidence {
                Some(e) => Some(load_evidence(&pack, e, limits)?),
                None => None,
            };
            let directions = load_directions(&pack, r.directions.as_ref())?;
            let key = match &r.public_key {
                Some(text) => Some(crate::sign::PublicKey::load(&SourceFile {
                    name: "public_key".into(),
                    label: "request.public_key".into(),
                    text: text.clone(),
                })?),
                None => None,
            };
            let inputs = crate::report::VerifyInputs {
                report: &r.report,
                pack: &pack,
                evidence: evidence.as_ref(),
                directions: directions.as_ref(),
                key: key.as_ref(),
            };
            match crate::report::verify(&inputs) {
                Ok(signed) => {
                    let (signer, key_id, checked) = match signed {
                        crate::sign::Signed::Unsigned => (None, None, false),
                        crate::sign::Signed::NotChecked { signer, key_id } => {
                            (Some(signer), Some(key_id), false)
                        }
                        crate::sign::Signed::Valid { signer, key_id } => (Some(signer), Some(key_id), true),
                    };
                    Ok(Answer::Verified {
                        reproduces: true,
                        signer,
                        key_id,
                        signature_checked: checked,
                    })
                }
                Err(differences) => {
                    let differences: Vec<String> = differences.iter().map(ToString::to_string).collect();
                    Err(RequestError::Mismatch {
                        message: format!("the report does not reproduce: {}", differences.join("; ")),
                        differences,
                    })
                }
            }
        }
        Operation::Grid(r) => {
            let pack = load_pack(r.pack.as_ref(), limits)?;
            let directions =
                load_directions(&pack, Some(&r.directions))?.ok_or_else(|| usage("no Directions given"))?;
            let as_of = r
                .as_of
                .or_else(|| directions.instruments.iter().map(|i| i.date).max())
                .ok_or_else(|| usage("the Directions have no instruments; give `as_of`"))?;
            Ok(Answer::Grid {
                as_of,
                functions: directions.grid(&pack, as_of),
            })
        }
        Operation::Graph(r) => {
            let pack = load_pack(r.pack.as_ref(), limits)?;
            let directions = load_directions(&pack, r.directions.as_ref())?;
            let plan = match &r.evidence {
                Some(e) => {
                    let evidence = load_evidence(&pack, e, limits)?;
                    let options = settle_options(&pack, &evidence, r.as_of, None, &[], &BTreeMap::new())?;
                    let assessment = assess(&pack, &evidence, &options);
                    Some(crate::plan::plan(&pack, &assessment, directions.as_ref()))
                }
                None => None,
            };
            let title = match &plan {
                Some(p) => format!("{}: functions as of {}", pack.manifest().title, p.as_of),
                None => format!("{}: functions and prerequisites", pack.manifest().title),
            };
            let text = match r.format {
                GraphFormat::Svg => crate::picture::svg(&pack, plan.as_ref(), &title),
                GraphFormat::Dot => crate::picture::dot(&pack, plan.as_ref()),
            };
            Ok(Answer::Graph {
                format: r.format,
                text,
            })
        }
        Operation::Whatif(r) => whatif(r, limits).map(|a| Answer::Whatif(Box::new(a))),
        Operation::Needs(r) => {
            let mut s = situation(&r.situation, limits)?;
            set_parameters(&mut s, &r.parameters)?;
            let target = Target::parse(&r.target).map_err(usage)?;
            target.check(&s.pack).map_err(usage)?;
            Ok(Answer::Needs(Box::new(needs(&s, &target, r.limit))))
        }
        Operation::Sweep(r) => {
            let varies =
                crate::sweep::Vary::parse_all(r.vary.iter().map(String::as_str), limits.max_sweep_points)
                    .map_err(|(i, e)| {
                        let v = r.vary.get(i).map(String::as_str).unwrap_or_default();
                        usage(format!("`vary[{i}]` `{v}`: {e}"))
                    })?;
            let mut s = situation(&r.situation, limits)?;
            set_parameters(&mut s, &r.parameters)?;
            let sweep = crate::sweep::sweep_with_limits(&s, &varies, limits, &mut |_, _| {}).map_err(
                |e| match e {
                    crate::sweep::SweepError::Refused { vary, problems } => RequestError::Invalid {
                        message: format!("`vary[{vary}]`: {}", problems.join("; ")),
                        problems: Vec::new(),
                    },
                    other => usage(other.to_string()),
                },
            )?;
            Ok(Answer::Sweep(sweep))
        }
        Operation::Gaps(r) => {
            let mut s = situation(&r.situation, limits)?;
            set_parameters(&mut s, &r.parameters)?;
            Ok(Answer::Gaps(GapsAnswer {
                as_of: s.options.as_of,
                gaps: crate::gaps::gaps(&s),
                known_at: s.known.clone(),
            }))
        }
        Operation::Audit(r) => {
            let pack = load_pack(r.pack.as_ref(), limits)?;
            let directions =
                load_directions(&pack, Some(&r.directions))?.ok_or_else(|| usage("no Directions given"))?;
            let decisions = crate::audit::load_decisions(
                &pack,
                &SourceFile {
                    name: "decisions.csv".into(),
                    label: "request.decisions".into(),
                    text: r.decisions.clone(),
                },
            )?;
            let findings = crate::audit::audit(&directions, &decisions);
            Ok(Answer::Audit {
                all_valid: findings.iter().all(|f| f.valid),
                findings,
            })
        }
        Operation::Dates(r) => {
            let meetings = match &r.meetings {
                Some(text) => Some(crate::audit::load_meetings(&SourceFile {
                    name: "meetings.csv".into(),
                    label: "request.meetings".into(),
                    text: text.clone(),
                })?),
                None => None,
            };
            let dates =
                crate::audit::effective_dates(r.minded, r.representation_days, meetings.as_deref(), r.count)
                    .map_err(usage)?;
            Ok(Answer::Dates { dates })
        }
    }
}

/// Loads the pack a request names, or the embedded default.
pub fn load_pack(input: Option<&PackInput>, limits: Limits) -> Result<Pack, RequestError> {
    match input {
        Some(p) => Ok(Pack::load_with_limits(&p.source_files(), limits)?),
        None => crate::default_pack().map_err(|e| RequestError::Internal {
            message: format!("the embedded pack is invalid (a bug in this build): {e}"),
        }),
    }
}

fn json_text(input: &JsonInput) -> String {
    match input {
        JsonInput::Text(t) => t.clone(),
        JsonInput::Document(d) => serde_json::to_string_pretty(d).unwrap_or_default(),
    }
}

/// Loads evidence given by value, checked against the pack exactly as a file would be.
pub fn load_evidence(pack: &Pack, input: &EvidenceInput, limits: Limits) -> Result<Evidence, RequestError> {
    let (label, text) = match input {
        EvidenceInput::Text(t) => ("request.evidence", t.clone()),
        EvidenceInput::Document(d) => (
            "request.evidence (document)",
            serde_json::to_string_pretty(d).unwrap_or_default(),
        ),
        EvidenceInput::Csv { csv, council } => return load_csv(pack, csv, council.as_deref(), limits),
    };
    Ok(Evidence::load_with_limits(
        pack,
        &SourceFile {
            name: "evidence.json".into(),
            label: label.into(),
            text,
        },
        limits,
    )?)
}

#[cfg(feature = "spreadsheets")]
fn load_csv(pack: &Pack, csv: &str, council: Option<&str>, limits: Limits) -> Result<Evidence, RequestError> {
    let table = crate::sheets::read_csv("request.evidence.csv", csv.as_bytes(), limits)?;
    let about = crate::sheets::About {
        council: council.unwrap_or("unnamed").to_string(),
        ..Default::default()
    };
    Ok(crate::sheets::evidence_from_table(pack, &table, &about, limits)?)
}

#[cfg(not(feature = "spreadsheets"))]
fn load_csv(_: &Pack, _: &str, _: Option<&str>, _: Limits) -> Result<Evidence, RequestError> {
    Err(usage(
        "evidence as CSV needs the `spreadsheets` feature, which this build leaves out",
    ))
}

/// Loads Directions given by value.
pub fn load_directions(pack: &Pack, input: Option<&JsonInput>) -> Result<Option<Directions>, RequestError> {
    let Some(input) = input else { return Ok(None) };
    Ok(Some(Directions::load(
        pack,
        &SourceFile {
            name: "directions.json".into(),
            label: "request.directions".into(),
            text: json_text(input),
        },
    )?))
}

/// Settles the options: the as-of date (given, else the evidence's, else its latest
/// observation's), parameter overrides (each checked against the pack: every problem at once),
/// known-at and excluded bases.
pub fn settle_options(
    pack: &Pack,
    evidence: &Evidence,
    as_of: Option<NaiveDate>,
    known_at: Option<NaiveDate>,
    exclude_basis: &[Basis],
    parameters: &BTreeMap<String, serde_json::Value>,
) -> Result<Options, RequestError> {
    let as_of = crate::situation::settle_as_of(evidence, as_of)
        .ok_or_else(|| usage(crate::situation::SituationError::NoDate.to_string()))?;
    let mut options = Options::new(as_of);
    let mut problems = Vec::new();
    for (name, value) in parameters {
        if let Err(e) = options.set_parameter(pack, name, &value.to_string()) {
            problems.push(format!("parameter `{name}`: {e}"));
        }
    }
    if !problems.is_empty() {
        return Err(usage(problems.join("\n")));
    }
    options.known_at = known_at;
    options.exclude_basis = exclude_basis.to_vec();
    Ok(options)
}

/// Loads what an evaluation names and settles its options.
pub fn evaluation(e: &Evaluation, limits: Limits) -> Result<(Pack, Evidence, Options), RequestError> {
    let pack = load_pack(e.pack.as_ref(), limits)?;
    let evidence = load_evidence(&pack, &e.evidence, limits)?;
    let options = settle_options(
        &pack,
        &evidence,
        e.as_of,
        e.known_at,
        &e.exclude_basis,
        &e.parameters,
    )?;
    Ok((pack, evidence, options))
}

/// Overrides a situation's parameters, each checked as `assess` checks them.
fn set_parameters(
    s: &mut Situation,
    parameters: &BTreeMap<String, serde_json::Value>,
) -> Result<(), RequestError> {
    let mut problems = Vec::new();
    for (name, value) in parameters {
        if let Err(e) = s.options.set_parameter(&s.pack, name, &value.to_string()) {
            problems.push(format!("parameter `{name}`: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(usage(problems.join("\n")))
    }
}

/// Sets up the situation a request describes.
pub fn situation(input: &SituationInput, limits: Limits) -> Result<Situation, RequestError> {
    let pack = load_pack(input.pack.as_ref(), limits)?;
    let evidence = load_evidence(&pack, &input.evidence, limits)?;
    let directions = load_directions(&pack, input.directions.as_ref())?;
    Situation::new(pack, evidence, input.as_of, input.known_at, directions).map_err(|e| usage(e.to_string()))
}

fn whatif(r: &WhatifRequest, limits: Limits) -> Result<WhatifAnswer, RequestError> {
    let s = situation(&r.situation, limits)?;
    let mut changes = Vec::new();
    let mut places = Vec::new();
    let mut label = String::from("request changes");
    let chain: Vec<(String, &JsonInput)> = match &r.scenario {
        None => Vec::new(),
        Some(ScenarioInput::One(one)) => vec![("request.scenario".into(), one)],
        Some(ScenarioInput::Chain(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("request.scenario[{i}]"), s))
            .collect(),
    };
    let mut titles = Vec::new();
    for (i, (name, input)) in chain.iter().enumerate() {
        let scenario = Scenario::load_with_limits(
            &SourceFile {
                name: "scenario.json".into(),
                label: name.clone(),
                text: json_text(input),
            },
            limits,
        )?;
        if let (0, Some(base)) = (i, &scenario.extends) {
            return Err(usage(format!(
                "{name} extends `{base}`, which a request cannot read: give the chain as a list, base first"
            )));
        }
        titles.push(scenario.title.clone());
        places.extend(scenario.places.iter().cloned());
        places.resize(
            changes.len() + scenario.changes.len(),
            crate::whatif::Place::default(),
        );
        changes.extend(scenario.changes);
    }
    if !titles.is_empty() {
        label = titles.join(" + ");
    }
    let mut problems = Vec::new();
    for (i, s_text) in r.set.iter().enumerate() {
        match crate::whatif::parse_set(s_text) {
            Ok(change) => {
                places.push(crate::whatif::Place {
                    file: "request".into(),
                    line: 1,
                    column: 1,
                    path: format!("$.set[{i}]"),
                });
                changes.push(change);
            }
            Err(e) => problems.push(Diagnostic {
                file: "request".into(),
                line: 1,
                column: 1,
                path: format!("$.set[{i}]"),
                message: e,
            }),
        }
    }
    for (name, value) in &r.parameters {
        places.push(crate::whatif::Place {
            file: "request".into(),
            line: 1,
            column: 1,
            path: format!("$.parameters.{name}"),
        });
        changes.push(Change::Param {
            name: name.clone(),
            value: value.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(LoadError::new(problems).into());
    }
    if let Some(d) = r.scenario_as_of {
        places.push(crate::whatif::Place {
            file: "request".into(),
            line: 1,
            column: 1,
            path: "$.scenario_as_of".into(),
        });
        changes.push(Change::AsOf(d));
    }
    if let Some(message) = crate::whatif::too_many_changes(&changes, limits) {
        return Err(usage(message));
    }
    let diff = explore_diff(&s, &changes, &places, &label)?;
    Ok(WhatifAnswer {
        scenario: label,
        changes,
        diff,
        known_at: s.known.clone(),
    })
}

/// The explained difference between a situation and the scenario its changes make: outcomes,
/// readiness, the tranche and the exit.
pub fn explore_diff(
    s: &Situation,
    changes: &[Change],
    places: &[crate::whatif::Place],
    label: &str,
) -> Result<Diff, RequestError> {
    let (evidence, options) = s.scenario(changes, label, places)?;
    let before = assess(&s.pack, &s.evidence, &s.options);
    let after = assess(&s.pack, &evidence, &options);
    let plan_before = crate::plan::plan(&s.pack, &before, s.directions.as_ref());
    let plan_after = crate::plan::plan(&s.pack, &after, s.directions.as_ref());
    Ok(crate::whatif::diff(
        &s.pack,
        &before,
        &after,
        Some((&plan_before, &plan_after)),
    ))
}

/// What it would take to meet a target: the options, each checked by applying it on the as-of
/// date and evaluating it on its earliest day.
///
/// ```
/// use handback::{EvidenceBuilder, ObservationDraft, Situation, Target};
///
/// let pack = handback::default_pack()?;
/// let day = chrono::NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let situation = Situation::new(pack, evidence, None, None, None).unwrap();
/// let target = Target::parse("rule:children-5").unwrap();
/// let answer = handback::request::needs(&situation, &target, 3);
/// assert!(!answer.met);
/// // Every option offered was applied and met the target.
/// assert!(answer.sets.iter().all(|s| s.checked));
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn needs(s: &Situation, target: &Target, limit: usize) -> NeedsAnswer {
    let Needs {
        target,
        met,
        sets,
        blocks,
        heuristic,
    } = crate::needs::needs(&s.pack, &s.evidence, &s.options, s.directions.as_ref(), target);
    let more = sets.len().saturating_sub(limit);
    let sets = sets
        .into_iter()
        .take(limit)
        .map(|set| {
            let mut changes = set.as_changes(s.options.as_of);
            changes.push(Change::AsOf(set.earliest));
            let checked = match s.scenario(&changes, "needs", &[]) {
                Ok((evidence, options)) => {
                    crate::needs::target_met(&s.pack, &evidence, &options, s.directions.as_ref(), &target)
                }
                Err(_) => false,
            };
            CheckedSet { set, checked }
        })
        .collect();
    NeedsAnswer {
        target,
        met,
        sets,
        more,
        blocks,
        heuristic,
        as_of: s.options.as_of,
        known_at: s.known.clone(),
    }
}

/// Every rule with its quote, citation and reading.
pub fn rules(pack: &Pack) -> RulesAnswer {
    let rules = pack
        .rules()
        .iter()
        .map(|r| RuleInfo {
            id: r.id.clone(),
            title: r.title.clone(),
            set: r.set.clone(),
            kind: kind_words(pack, r),
            per_function: r.per_function,
            monotone: r.monotone,
            quote: r.quote.clone(),
            quote_sha256: crate::canonical::sha256(crate::canonical::normalise_quote(&r.quote).as_bytes()),
            citation: r.citation.clone(),
            reading: crate::explain::rule_sentence(pack, r),
            parameters: pack.parameters_used(r).iter().map(|p| p.name.clone()).collect(),
            keys: pack.keys_read(r).iter().map(|k| k.key.clone()).collect(),
        })
        .collect();
    RulesAnswer {
        pack: pack.manifest().clone(),
        digest: pack.digests().pack.clone(),
        rules,
    }
}

/// `test`, or ``graded on `SCALE` ``.
pub fn kind_words(pack: &Pack, rule: &crate::rules::Rule) -> String {
    match &rule.body {
        crate::rules::Body::Test(_) => "test".into(),
        crate::rules::Body::Graded { scale, .. } => {
            let name = pack.scales().get(*scale).map(|s| s.id.as_str()).unwrap_or("?");
            format!("graded on `{name}`")
        }
    }
}

fn lint(r: &LintRequest, limits: Limits) -> LintAnswer {
    let mut problems: Vec<Diagnostic> = Vec::new();
    let files = match &r.pack {
        Some(p) => p.source_files(),
        None => crate::default_pack_files(),
    };
    let pack = Pack::load_with_limits(&files, limits);
    let mut warnings = match (&pack, &r.pack) {
        (Ok(p), Some(_)) => crate::warnings::pack_warnings(p, &files),
        _ => Vec::new(),
    };
    match &pack {
        Err(e) => problems.extend(e.diagnostics.0.iter().cloned()),
        Ok(pack) => {
            for (i, e) in r.evidence.iter().enumerate() {
                match load_evidence(pack, e, limits) {
                    Ok(_) => {
                        if let EvidenceInput::Text(text) = e {
                            warnings.extend(crate::evidence::refused_judgements(
                                pack,
                                &SourceFile {
                                    name: "evidence.json".into(),
                                    label: format!("request.evidence[{i}]"),
                                    text: text.clone(),
                                },
                            ));
                        }
                    }
                    Err(RequestError::Invalid { problems: p, .. }) => problems.extend(p),
                    Err(other) => problems.push(Diagnostic {
                        file: format!("request.evidence[{i}]"),
                        line: 1,
                        column: 1,
                        path: String::new(),
                        message: other.to_string(),
                    }),
                }
            }
            for d in &r.directions {
                if let Err(RequestError::Invalid { problems: p, .. }) = load_directions(pack, Some(d)) {
                    problems.extend(p);
                }
            }
        }
    }
    LintAnswer {
        ok: problems.is_empty(),
        problems,
        warnings,
    }
}
