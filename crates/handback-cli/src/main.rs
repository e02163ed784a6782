//! The `handback` command: reads files, calls the library, renders the results.
//!
//! All judgement lives in the `handback` library; this binary only parses arguments, reads the
//! files the user names (the library does no I/O), and renders tables, JSON and Markdown. Every
//! failure maps to one documented exit code (see [`Exit`]).

#![forbid(unsafe_code)]

mod annex;
mod api;
mod authoring;
mod explore;
mod files;
mod render;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

/// The command allocates and frees in bulk (a large evidence file is a parse tree, then a
/// million small strings); mimalloc does that markedly faster than the system allocator
/// (docs/dependencies.md gives the figures). The library leaves the choice to its embedder.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use handback::{Evidence, LoadError, Options, Pack};

/// Exit codes, documented in the README and `docs/cli.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked.
    Ok = 0,
    /// Something went wrong inside Handback itself (a bug; please report it).
    Internal = 1,
    /// The command line was wrong (unknown option, bad date, missing argument).
    Usage = 2,
    /// An input file (pack, evidence) is not valid; every problem is listed.
    Invalid = 3,
    /// A file could not be read or written.
    Io = 4,
    /// `verify`: the report does not reproduce; what differs is listed.
    Mismatch = 5,
    /// `audit`: at least one decision was taken by someone who did not hold the power.
    Findings = 6,
    /// `test`: at least one of the pack's own cases failed.
    CasesFailed = 7,
}

/// A failure on the way to an exit code, with the message for the user.
pub struct Failure {
    /// The exit code to leave with.
    pub exit: Exit,
    /// What to tell the user on stderr.
    pub message: String,
    /// The located problems, when the failure is invalid input.
    pub problems: Vec<handback::Diagnostic>,
}

impl Failure {
    /// A failure with an exit code and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure {
            problems: e.diagnostics.0.clone(),
            ..Failure::new(Exit::Invalid, e.to_string())
        }
    }
}

impl From<handback::request::RequestError> for Failure {
    fn from(e: handback::request::RequestError) -> Self {
        use handback::request::RequestError as E;
        let exit = match &e {
            E::Invalid { .. } => Exit::Invalid,
            E::Mismatch { .. } => Exit::Mismatch,
            E::Internal { .. } => Exit::Internal,
            _ => Exit::Usage,
        };
        let problems = match &e {
            E::Invalid { problems, .. } => problems.clone(),
            _ => Vec::new(),
        };
        Failure {
            exit,
            message: e.to_string(),
            problems,
        }
    }
}

#[derive(Parser)]
#[command(
    name = "handback",
    version,
    about = "Decides when a council under government intervention can have its powers back",
    long_about = "Decides when a council under government intervention can have its powers back.\n\n\
                  Rules are read from a pack (default: the embedded Rotherham pack); evidence from \
                  JSON files of dated, cited observations.\n\n\
                  Exit codes: 0 ok, 1 internal error, 2 usage error, 3 invalid input, 4 file error, \
                  5 a report does not reproduce (`verify`), 6 invalid decisions found (`audit`), \
                  7 a pack's own case failed (`test`)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Bounds on input, so that no file can exhaust memory or the stack (see docs/robustness.md).
#[derive(clap::Args)]
struct LimitArgs {
    /// Largest input file, in bytes.
    #[arg(long, global = true, default_value_t = handback::Limits::default().max_input_bytes)]
    max_input_bytes: usize,
    /// Deepest nesting of JSON arrays and objects (at most 256).
    #[arg(long, global = true, default_value_t = handback::Limits::default().max_depth)]
    max_depth: usize,
    /// Most rules in a pack.
    #[arg(long, global = true, default_value_t = handback::Limits::default().max_rules)]
    max_rules: usize,
    /// Most observations in an evidence file.
    #[arg(long, global = true, default_value_t = handback::Limits::default().max_observations)]
    max_observations: usize,
    /// Most points in a sweep (`sweep`; each point is a whole what-if assessment).
    #[arg(long, global = true, default_value_t = handback::Limits::default().max_sweep_points)]
    max_points: usize,
    /// Most changes in a what-if: in each scenario file, and in all (a chain, `--set`, `--param`;
    /// the same in requests).
    #[arg(long, global = true, default_value_t = handback::Limits::default().max_scenario_changes)]
    max_changes: usize,
}

static LIMITS: std::sync::OnceLock<handback::Limits> = std::sync::OnceLock::new();

/// The limits in force for this run.
pub fn limits() -> handback::Limits {
    LIMITS.get().copied().unwrap_or_default()
}

#[derive(Subcommand)]
enum Command {
    /// Assess evidence against the pack's rules as of a date, with reasons.
    Assess {
        /// The evidence file (JSON).
        evidence: PathBuf,
        #[command(flatten)]
        pack: PackArg,
        /// The assessment date (YYYY-MM-DD): later observations are invisible. Default: the
        /// evidence file's `as_of`, else its latest observation date.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<chrono::NaiveDate>,
        /// Override a parameter, e.g. `--param children_agency_share_max=0.2`. Repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Table format: after the summary, the reasons for every outcome (`--explain`) or only
        /// for those not met or unknown (`--explain=fails`).
        #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "all", value_name = "fails")]
        explain: Option<render::Explain>,
        /// The summary without reasons: the default now; kept so existing scripts still work.
        #[arg(long, conflicts_with = "explain")]
        brief: bool,
        /// Use only evidence recorded by this date (YYYY-MM-DD): what was known then.
        #[arg(long, value_parser = parse_date_arg)]
        known_at: Option<chrono::NaiveDate>,
        /// Evaluate without observations of this basis (measured, document, judgement, decision,
        /// unstated, reconstructed, hypothetical), to see which verdicts stand without them.
        /// Repeatable.
        #[arg(long = "exclude-basis", value_name = "KIND", value_parser = parse_basis_arg)]
        exclude_basis: Vec<handback::Basis>,
        /// Also write a canonical, digested report for auditors (atomically; never over an input).
        #[arg(short = 'o', long = "output", value_name = "REPORT.json")]
        output: Option<PathBuf>,
        #[command(flatten)]
        signing: SignArgs,
    },
    /// Re-derive a report from its inputs and confirm it byte for byte, or say what differs.
    Verify {
        /// The report (JSON, from `assess -o` or `plan -o`).
        report: PathBuf,
        /// Evidence to verify against (default: the copy inside the report).
        #[arg(long)]
        evidence: Option<PathBuf>,
        #[command(flatten)]
        pack: PackArg,
        /// Directions to verify against (default: the copy inside the report, if any).
        #[arg(long)]
        directions: Option<PathBuf>,
        /// The signer's public key file (`NAME.pub`): check the report's signature too.
        #[arg(long, value_name = "PUBLIC")]
        key: Option<PathBuf>,
    },
    /// Make a key pair for signing reports: `NAME.key` (secret, never overwritten) and
    /// `NAME.pub` (to give to whoever verifies).
    Keygen {
        /// Where to write: `NAME.key` and `NAME.pub`.
        #[arg(short = 'o', long = "output", value_name = "NAME")]
        output: PathBuf,
        /// Who signs with this key, stored in both files and named in signed reports.
        #[arg(long)]
        signer: Option<String>,
    },
    /// Plan the return of powers: the phase, the tranche to recommend now, what blocks the rest.
    Plan {
        /// Evidence, pack, Directions (without them every function is taken as held), date.
        #[command(flatten)]
        situation: Situation,
        /// Override a parameter, e.g. `--param children_agency_share_max=0.2`. Repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Evaluate without observations of this basis (measured, document, judgement, decision,
        /// unstated, reconstructed, hypothetical), to see which verdicts stand without them.
        /// Repeatable.
        #[arg(long = "exclude-basis", value_name = "KIND", value_parser = parse_basis_arg)]
        exclude_basis: Vec<handback::Basis>,
        /// Also write a canonical, digested report including the plan.
        #[arg(short = 'o', long = "output", value_name = "REPORT.json")]
        output: Option<PathBuf>,
        /// Table format: after the summary, the signals behind every blocker (`--explain` and
        /// `--explain=fails` show the same: blockers are all failures).
        #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "all", value_name = "fails")]
        explain: Option<render::Explain>,
        #[command(flatten)]
        signing: SignArgs,
    },
    /// Who holds each function's powers on a date, from a Directions file.
    Grid {
        /// The Directions file (JSON).
        #[arg(long)]
        directions: PathBuf,
        #[command(flatten)]
        pack: PackArg,
        /// The date (YYYY-MM-DD). Default: the latest instrument's date.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<chrono::NaiveDate>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Draw the function graph: prerequisites, who holds what, when each can come back.
    Graph {
        /// Evidence to plan from (optional: without it the graph shows the catalogue only).
        evidence: Option<PathBuf>,
        #[command(flatten)]
        pack: PackArg,
        /// The Directions in force (JSON).
        #[arg(long)]
        directions: Option<PathBuf>,
        /// The date (YYYY-MM-DD). Default as for `assess`.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<chrono::NaiveDate>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Svg)]
        format: GraphFormat,
    },
    /// Audit recorded decisions against the Directions: did the decision-maker hold the power?
    Audit {
        /// The decision log (CSV: datetime, function, decided_by[, reference]).
        decisions: PathBuf,
        /// The Directions file (JSON).
        #[arg(long)]
        directions: PathBuf,
        #[command(flatten)]
        pack: PackArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Suggest effective dates for new Directions: after the representation period, on days with
    /// no formal decision meeting.
    Dates {
        /// The day the Secretary of State is minded to accept the recommendation.
        #[arg(long, value_parser = parse_date_arg)]
        minded: chrono::NaiveDate,
        /// The calendar of formal decision meetings (CSV with a `date` column).
        #[arg(long)]
        meetings: Option<PathBuf>,
        /// Length of the representation period in days (003 §2.3(b): ten).
        #[arg(long, default_value_t = 10)]
        representation_days: u32,
        /// How many dates to suggest.
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What if: apply a scenario (or quick `--set` changes) and explain what changes and why.
    Whatif {
        /// The base evidence file (JSON).
        evidence: PathBuf,
        /// A scenario file (JSON): ordered changes; may `extend` another scenario.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Set an observation: `KEY[:FUNCTION]=VALUE[@YYYY-MM-DD]`. Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Override a parameter in the scenario: `NAME=VALUE`. Repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// The scenario's as-of date (the base keeps its own).
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<chrono::NaiveDate>,
        /// Start from the base evidence as it was known on this date (YYYY-MM-DD): observations
        /// recorded later are left out before the changes apply, and listed.
        #[arg(long, value_parser = parse_date_arg)]
        known_at: Option<chrono::NaiveDate>,
        #[command(flatten)]
        pack: PackArg,
        /// The Directions in force (JSON).
        #[arg(long)]
        directions: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What it would take to meet a target: minimal evidence changes, ranked, each checked.
    Needs {
        #[command(flatten)]
        situation: Situation,
        /// `function:ID`, `rule:ID`, `rule:ID@FUNCTION`, `exit` (the best way out) or `exit:OUTCOME`.
        #[arg(long)]
        target: String,
        /// How many options to show.
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Write the best option as a scenario file, to apply with `whatif --scenario` (`-`:
        /// print it instead of the options).
        #[arg(long, value_name = "SCENARIO.json")]
        scenario_out: Option<PathBuf>,
        /// Override a parameter, e.g. `--param children_agency_share_max=0.2`. Repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExploreFormat::Table)]
        format: ExploreFormat,
    },
    /// Outcomes over a grid of values, as CSV (for a plot or a spreadsheet).
    Sweep {
        #[command(flatten)]
        situation: Situation,
        /// `KEY[:FUNCTION]=FROM..TO/STEP`, e.g. `children.agency_share=0.1..0.5/0.05`, or a parameter
        /// (`NAME=FROM..TO/STEP`), overridden at each point as `--param` does. Repeatable.
        #[arg(long = "vary", value_name = "KEY=FROM..TO/STEP", required = true)]
        vary: Vec<String>,
        /// Override a parameter, e.g. `--param children_agency_share_max=0.2`. Repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// The evidence-gap report: what to gather first to settle the most unknown outcomes.
    Gaps {
        #[command(flatten)]
        situation: Situation,
        /// Override a parameter, e.g. `--param children_agency_share_max=0.2`. Repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExploreFormat::Table)]
        format: ExploreFormat,
    },
    /// Validate a pack and evidence files without evaluating; report every problem.
    Lint {
        /// Evidence files to check against the pack.
        evidence: Vec<PathBuf>,
        #[command(flatten)]
        pack: PackArg,
        /// Output format for problems.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
        /// A folder of source documents (`.txt`): check every rule's quote, and every quoted
        /// fragment of the evidence's passages, stands in its source.
        #[arg(long)]
        sources: Option<PathBuf>,
        /// A Directions file to check against the pack: unknown functions, overlapping
        /// instruments, instruments dated after the Directions expire. Repeatable.
        #[arg(long = "directions", value_name = "FILE")]
        directions: Vec<PathBuf>,
    },
    /// Print every rule: its source quote, plain-English reading, parameters and evidence keys.
    Rules {
        #[command(flatten)]
        pack: PackArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Evidence helpers.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Pack authoring helpers.
    Pack {
        #[command(subcommand)]
        command: PackCommand,
    },
    /// Answer JSON requests on standard input, one per line, with one JSON response per line,
    /// until standard input closes (see docs/embedding.md). A malformed or oversized line gets an
    /// error response and the loop goes on; the input limits apply to each request.
    Api,
    /// Serve the commissioners' workbench: the verdict board, the plan, what-if and what it
    /// would take, in a browser on this machine. Prints the address; stop with Ctrl-C. The files
    /// given are read now and handed to the page, which sends them back by value in each
    /// request (see docs/api.md).
    Serve {
        /// The evidence to open with (JSON, CSV or XLSX); the page can upload another.
        evidence: Option<PathBuf>,
        #[command(flatten)]
        pack: PackArg,
        /// The Directions in force (JSON), for the plan and the graph.
        #[arg(long)]
        directions: Option<PathBuf>,
        /// The port to listen on (0: any free port; the address printed says which).
        #[arg(long, default_value_t = 7878)]
        port: u16,
        /// The address to listen on. Default: this machine only; anything else makes the
        /// workbench reachable from the network, with no sign-in.
        #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
        listen: std::net::IpAddr,
        /// Open the page in the default browser.
        #[arg(long)]
        open: bool,
    },
    /// Print the JSON Schema of an input or output (`docs/schemas/NAME.json`); without a name,
    /// list the names.
    Schema {
        /// The schema: pack, vocabulary, parameters, functions, rules, evidence, scenario,
        /// directions, case, report, request or response.
        name: Option<String>,
    },
    /// Run a pack's own golden cases (`DIR/tests/*.json`) and list the outcomes no case asserts.
    Test {
        /// The pack folder.
        dir: PathBuf,
        /// The folder of the pack it extends (default: found as for `--pack`).
        #[arg(long, value_name = "DIR")]
        base: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum PackCommand {
    /// Scaffold a new pack in a new or empty folder: it lints clean and its one case passes.
    Init {
        /// The folder to create.
        dir: PathBuf,
        /// The pack's id (default: the folder's name).
        #[arg(long)]
        id: Option<String>,
        /// The pack's title.
        #[arg(long)]
        title: Option<String>,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// List every evidence key the pack reads: what a commissioner fills in. `--format xlsx`
    /// writes a workbook to fill in (with `-o`); `--format sheet` the CSV header row to fill in.
    Template {
        #[command(flatten)]
        pack: PackArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TemplateFormat::Csv)]
        format: TemplateFormat,
        /// Where to write (required for `xlsx`).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Read a spreadsheet (CSV or XLSX, one observation per row) into evidence JSON, checked
    /// against the pack: every bad cell is reported, and nothing is written unless all is valid.
    Import {
        /// The spreadsheet (`.csv` or `.xlsx`).
        file: PathBuf,
        #[command(flatten)]
        pack: PackArg,
        /// The sheet of a workbook (default: `Observations`, else the first).
        #[arg(long)]
        sheet: Option<String>,
        /// The council the evidence is about (default: the file's name).
        #[arg(long)]
        council: Option<String>,
        /// Write the evidence here (default: print it).
        #[arg(short = 'o', long = "output", value_name = "EVIDENCE.json")]
        output: Option<PathBuf>,
    },
    /// Write evidence as a spreadsheet, one observation per row: importing it gives the same
    /// observations back.
    Export {
        /// The evidence (JSON, CSV or XLSX).
        evidence: PathBuf,
        #[command(flatten)]
        pack: PackArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SheetFormat::Csv)]
        format: SheetFormat,
        /// Where to write (required for `xlsx`; default for `csv`: print it).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SheetFormat {
    Csv,
    Xlsx,
}

/// What the exploring commands start from: evidence, the pack, the Directions, the date.
#[derive(clap::Args)]
struct Situation {
    /// The evidence file (JSON).
    evidence: PathBuf,
    #[command(flatten)]
    pack: PackArg,
    /// The Directions in force (JSON).
    #[arg(long)]
    directions: Option<PathBuf>,
    /// The date (YYYY-MM-DD). Default: the evidence's `as_of`, else its latest observation.
    #[arg(long, value_parser = parse_date_arg)]
    as_of: Option<chrono::NaiveDate>,
    /// Use only the evidence recorded by this date (YYYY-MM-DD): what was known then. What was
    /// left out is listed.
    #[arg(long, value_parser = parse_date_arg)]
    known_at: Option<chrono::NaiveDate>,
}

impl Situation {
    /// The base the exploring commands work from.
    fn base(&self) -> Result<explore::Base, Failure> {
        explore::base(
            load_pack(&self.pack)?,
            &self.evidence,
            self.as_of,
            self.known_at,
            self.directions.as_ref(),
        )
    }
}

/// Signing a report written with `-o`. The secret key is only ever read from a file, never
/// taken on the command line, where it would sit in shell history and process listings.
#[derive(clap::Args)]
struct SignArgs {
    /// Sign the report with the secret key in this file (`NAME.key`, from `handback keygen`).
    #[arg(long, value_name = "KEYFILE", requires = "output")]
    sign: Option<PathBuf>,
    /// Who signs (default: the name stored in the key file).
    #[arg(long, value_name = "NAME", requires = "sign")]
    signer: Option<String>,
}

#[derive(clap::Args)]
struct PackArg {
    /// A rule pack folder. Default: the embedded Rotherham pack.
    #[arg(long)]
    pack: Option<PathBuf>,
    /// The folder of the pack that `--pack` extends. Default: a folder beside it holding the
    /// pack pinned in its `pack.json`, else the embedded pack if that is the one pinned.
    #[arg(long, value_name = "DIR", requires = "pack")]
    base: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// Formats for assessments and plans: a terminal table, JSON for tools, or the evidence annex
/// as Markdown or a standalone HTML page.
#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
    Markdown,
    Html,
    /// One row per outcome (`assess`) or per function (`plan`), for a spreadsheet.
    Csv,
}

/// Formats for `needs` and `gaps`.
#[derive(Clone, Copy, ValueEnum)]
enum ExploreFormat {
    Table,
    Json,
    /// One row per change of each option (`needs`) or per gap (`gaps`), for a spreadsheet.
    Csv,
}

impl ExploreFormat {
    fn out(self) -> explore::Out {
        match self {
            ExploreFormat::Table => explore::Out::Table,
            ExploreFormat::Json => explore::Out::Json,
            ExploreFormat::Csv => explore::Out::Csv,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Svg,
    Dot,
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum TemplateFormat {
    /// The keys, one per row.
    Csv,
    Json,
    Markdown,
    /// A workbook to fill in: observations with drop-down lists, and the keys described.
    Xlsx,
    /// The header row of an observations sheet, as CSV, to fill in.
    Sheet,
}

fn parse_date_arg(s: &str) -> Result<chrono::NaiveDate, String> {
    handback::parse_date(s)
}

fn parse_basis_arg(s: &str) -> Result<handback::Basis, String> {
    handback::Basis::from_word(s).ok_or_else(|| {
        let words: Vec<&str> = handback::Basis::ALL.iter().map(|b| b.word()).collect();
        format!("`{s}` is not a basis; expected one of {}", words.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { Exit::Usage } else { Exit::Ok };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    let _ = LIMITS.set(handback::Limits {
        max_input_bytes: cli.limits.max_input_bytes,
        max_depth: cli.limits.max_depth,
        max_rules: cli.limits.max_rules,
        max_observations: cli.limits.max_observations,
        max_sweep_points: cli.limits.max_points,
        max_scenario_changes: cli.limits.max_changes,
    });
    match run(cli) {
        Ok(output) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = stdout.write_all(output.as_bytes());
            let _ = stdout.flush();
            ExitCode::from(Exit::Ok as u8)
        }
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("{}", f.message.trim_end());
            }
            // Tools that asked for JSON get the error as JSON on stdout too (lint has already
            // printed its own, and leaves the message empty).
            if wants_json() && !f.message.is_empty() {
                let error = serde_json::json!({
                    "ok": false, "exit": f.exit as u8, "error": f.message.trim_end(), "problems": f.problems,
                });
                println!("{}", serde_json::to_string_pretty(&error).unwrap_or_default());
            }
            ExitCode::from(f.exit as u8)
        }
    }
}

/// Whether the command line asked for JSON output.
fn wants_json() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|w| matches!(w, [flag, value] if flag == "--format" && value == "json"))
        || args.iter().any(|a| a == "--format=json")
}

/// Colour for tables only when stdout is a terminal and the user has not said `NO_COLOR`.
fn terminal_style() -> render::Style {
    use std::io::IsTerminal;
    let var = |name: &str| std::env::var(name).ok();
    render::Style::decide(
        std::io::stdout().is_terminal(),
        var("NO_COLOR").as_deref(),
        var("CLICOLOR_FORCE").as_deref(),
    )
}

fn load_pack(arg: &PackArg) -> Result<Pack, Failure> {
    match &arg.pack {
        Some(dir) => Ok(Pack::load_with_limits(
            &files::read_pack_layers(dir, arg.base.as_deref())?,
            limits(),
        )?),
        None => handback::default_pack().map_err(|e| {
            Failure::new(
                Exit::Internal,
                format!("the embedded pack is invalid (a bug in this build):\n{e}"),
            )
        }),
    }
}

fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Assess {
            evidence,
            pack,
            as_of,
            params,
            format,
            explain,
            brief: _,
            known_at,
            exclude_basis,
            output,
            signing,
        } => {
            let pack_dir = pack.pack.clone();
            let pack = load_pack(&pack)?;
            let key = signing.key()?;
            let (loaded, options) = prepare(&pack, &evidence, as_of, known_at, &exclude_basis, &params)?;
            let assessment = handback::assess(&pack, &loaded, &options);
            if let Some(out) = &output {
                let inputs = handback::ReportInputs {
                    pack: &pack,
                    evidence: &loaded,
                    options: &options,
                    directions: None,
                    with_plan: false,
                };
                write_report(
                    out,
                    &signed(handback::report(&inputs), key.as_ref())?,
                    &[Some(&evidence), pack_dir.as_ref(), signing.sign.as_ref()],
                )?;
            }
            // Only the annex shows the evidence digest: a large file's digest costs a third
            // of the run, so the other formats do not take it.
            let context = || annex::Context {
                pack: &pack,
                assessment: &assessment,
                evidence_digest: loaded.digest(),
                plan: None,
                picture: None,
            };
            Ok(match format {
                ReportFormat::Json => render::json(&assessment),
                ReportFormat::Csv => render::assessment_csv(&assessment),
                ReportFormat::Table => {
                    render::assessment_table(&pack, &assessment, explain, terminal_style())
                }
                ReportFormat::Markdown => annex::markdown(&context()),
                ReportFormat::Html => annex::html(&context()),
            })
        }
        Command::Plan {
            situation:
                Situation {
                    evidence,
                    pack,
                    directions: directions_path,
                    as_of,
                    known_at,
                },
            params,
            format,
            exclude_basis,
            output,
            explain,
            signing,
        } => {
            let pack_dir = pack.pack.clone();
            let pack = load_pack(&pack)?;
            let key = signing.key()?;
            let directions = match &directions_path {
                Some(path) => Some(handback::Directions::load(&pack, &files::read_source(path)?)?),
                None => None,
            };
            let (loaded, options) = prepare(&pack, &evidence, as_of, known_at, &exclude_basis, &params)?;
            let assessment = handback::assess(&pack, &loaded, &options);
            let plan = handback::plan(&pack, &assessment, directions.as_ref());
            if let Some(out) = &output {
                let inputs = handback::ReportInputs {
                    pack: &pack,
                    evidence: &loaded,
                    options: &options,
                    directions: directions.as_ref(),
                    with_plan: true,
                };
                let report = signed(handback::report(&inputs), key.as_ref())?;
                write_report(
                    out,
                    &report,
                    &[
                        Some(&evidence),
                        pack_dir.as_ref(),
                        directions_path.as_ref(),
                        signing.sign.as_ref(),
                    ],
                )?;
            }
            let title = format!("{}: functions as of {}", pack.manifest().title, plan.as_of);
            // Only the annex shows the evidence digest and the picture; the other formats do
            // not take them.
            let context = || annex::Context {
                pack: &pack,
                assessment: &assessment,
                evidence_digest: loaded.digest(),
                plan: Some(&plan),
                picture: Some(handback::graph::svg(&pack, Some(&plan), &title)),
            };
            Ok(match format {
                ReportFormat::Json => render::json(&plan),
                ReportFormat::Csv => render::plan_csv(&plan),
                ReportFormat::Table => {
                    render::plan_table(&pack, &assessment, &plan, explain, terminal_style())
                }
                ReportFormat::Markdown => annex::markdown(&context()),
                ReportFormat::Html => annex::html(&context()),
            })
        }
        Command::Verify {
            report,
            evidence,
            pack,
            directions,
            key,
        } => {
            let pack = load_pack(&pack)?;
            let key = match &key {
                Some(path) => Some(handback::sign::PublicKey::load(&files::read_source(path)?)?),
                None => None,
            };
            let text = match files::read_source(&report) {
                Ok(source) => source.text,
                Err(files::ReadError::Invalid(_)) => String::from("not UTF-8"),
                Err(files::ReadError::Io(f)) => return Err(f),
            };
            let evidence = match &evidence {
                Some(path) => Some(files::read_evidence(&pack, path, None, None)?),
                None => None,
            };
            let directions = match &directions {
                Some(path) => Some(handback::Directions::load(&pack, &files::read_source(path)?)?),
                None => None,
            };
            let inputs = handback::VerifyInputs {
                report: &text,
                pack: &pack,
                evidence: evidence.as_ref(),
                directions: directions.as_ref(),
                key: key.as_ref(),
            };
            match handback::verify(&inputs) {
                Ok(signed) => {
                    let said = match signed {
                        handback::sign::Signed::Unsigned => String::new(),
                        handback::sign::Signed::Valid { signer, key_id } => {
                            format!("; signed by {signer} with key `{key_id}`: the signature is valid")
                        }
                        handback::sign::Signed::NotChecked { signer, key_id } => format!(
                            "; it says it was signed by {signer} with key `{key_id}`, but the signature was not checked: give `--key` with that signer's public key file"
                        ),
                    };
                    Ok(format!(
                        "verified: `{}` reproduces byte for byte{said}\n",
                        report.display()
                    ))
                }
                Err(differences) => {
                    let mut message = format!("`{}` does not reproduce:", report.display());
                    for d in differences {
                        message.push_str(&format!("\n- {d}"));
                    }
                    Err(Failure::new(Exit::Mismatch, message))
                }
            }
        }
        Command::Keygen { output, signer } => files::keygen(&output, signer),
        Command::Api => api::serve_stdio(limits()),
        Command::Serve {
            evidence,
            pack,
            directions,
            port,
            listen,
            open,
        } => serve::serve(serve::Config {
            listen,
            port,
            open,
            limits: limits(),
            session: serve::Session::read(
                pack.pack.as_deref(),
                pack.base.as_deref(),
                evidence.as_deref(),
                directions.as_deref(),
                limits(),
            )?,
        }),
        Command::Schema { name: None } => {
            Ok(handback::schema::NAMES.iter().map(|n| format!("{n}\n")).collect())
        }
        Command::Schema { name: Some(name) } => handback::schema::render(&name).ok_or_else(|| {
            Failure::new(
                Exit::Usage,
                format!(
                    "no schema named `{name}`; expected one of {}",
                    handback::schema::NAMES.join(", ")
                ),
            )
        }),
        Command::Grid {
            directions,
            pack,
            as_of,
            format,
        } => {
            let pack = load_pack(&pack)?;
            let label = directions.display().to_string();
            let directions = handback::Directions::load(&pack, &files::read_source(&directions)?)?;
            let as_of = as_of
                .or_else(|| directions.instruments().iter().map(|i| i.date).max())
                .ok_or_else(|| {
                    Failure::new(Exit::Usage, "the Directions have no instruments; give `--as-of`")
                })?;
            let grid = directions.grid(&pack, as_of);
            Ok(match format {
                Format::Json => render::json(&serde_json::json!({ "as_of": as_of, "functions": grid })),
                Format::Table => render::grid_table(&pack, &directions, &label, as_of, &grid),
            })
        }
        Command::Graph {
            evidence,
            pack,
            directions,
            as_of,
            format,
        } => {
            let pack = load_pack(&pack)?;
            let directions = match &directions {
                Some(path) => Some(handback::Directions::load(&pack, &files::read_source(path)?)?),
                None => None,
            };
            let plan = match &evidence {
                Some(path) => {
                    let assessment = assess_file(&pack, path, as_of, &[])?;
                    Some(handback::plan(&pack, &assessment, directions.as_ref()))
                }
                None => None,
            };
            let title = match &plan {
                Some(p) => format!("{}: functions as of {}", pack.manifest().title, p.as_of),
                None => format!("{}: functions and prerequisites", pack.manifest().title),
            };
            Ok(match format {
                GraphFormat::Svg => handback::graph::svg(&pack, plan.as_ref(), &title),
                GraphFormat::Dot => handback::graph::dot(&pack, plan.as_ref()),
            })
        }
        Command::Audit {
            decisions,
            directions,
            pack,
            format,
        } => {
            let pack = load_pack(&pack)?;
            let directions = handback::Directions::load(&pack, &files::read_source(&directions)?)?;
            let decisions = handback::audit::load_decisions(&pack, &files::read_source(&decisions)?)?;
            let findings = handback::audit::audit(&directions, &decisions);
            let text = match format {
                Format::Json => render::json(&findings),
                Format::Table => render::audit_table(&findings),
            };
            if findings.iter().all(|f| f.valid) {
                Ok(text)
            } else {
                // The findings are the output: print them, and let scripts see the verdict.
                print!("{text}");
                Err(Failure::new(Exit::Findings, ""))
            }
        }
        Command::Dates {
            minded,
            meetings,
            representation_days,
            count,
            format,
        } => {
            let meetings = match &meetings {
                Some(path) => Some(handback::audit::load_meetings(&files::read_source(path)?)?),
                None => None,
            };
            let dates =
                handback::audit::effective_dates(minded, representation_days, meetings.as_deref(), count)
                    .map_err(|e| Failure::new(Exit::Usage, e))?;
            Ok(match format {
                Format::Json => render::json(&dates),
                Format::Table => render::dates_table(minded, &dates),
            })
        }
        Command::Whatif {
            evidence,
            scenario,
            sets,
            params,
            as_of,
            known_at,
            pack,
            directions,
            format,
        } => {
            let pack = load_pack(&pack)?;
            let mut changes = Vec::new();
            let mut places = Vec::new();
            let mut label = String::from("command-line changes");
            let mut base_evidence = evidence.clone();
            if let Some(path) = &scenario {
                let (chain, named) = explore::load_scenario_chain(path)?;
                label = chain
                    .iter()
                    .map(|(t, _, _)| t.clone())
                    .collect::<Vec<_>>()
                    .join(" + ");
                for (_, c, p) in chain {
                    changes.extend(c);
                    places.extend(p);
                }
                if let Some(named) = named {
                    if evidence.as_os_str() == "-" {
                        base_evidence = named;
                    }
                }
            }
            // The evidence is read before the flags are checked: evidence written for another
            // pack makes its keys in `--set` unknown too, and the fix is `--pack`, not the flag.
            let base = explore::base(pack, &base_evidence, None, known_at, directions.as_ref())?;
            let pack = &base.pack;
            // A scenario file's places cover its changes; each flag's change is placed at the
            // flag, and checked now so its problem names it.
            places.resize(changes.len(), handback::Place::default());
            for s in &sets {
                let change = explore::parse_set(s)?;
                explore::check_flag(pack, &change, "--set", s)?;
                changes.push(change);
                places.push(explore::flag_place("--set", s));
            }
            for p in &params {
                let Some((name, value)) = p.split_once('=') else {
                    return Err(Failure::new(
                        Exit::Usage,
                        format!("`--param {p}`: expected NAME=VALUE"),
                    ));
                };
                let value = serde_json::from_str(value.trim())
                    .unwrap_or_else(|_| serde_json::Value::String(value.trim().into()));
                let change = handback::Change::Param {
                    name: name.trim().into(),
                    value,
                };
                explore::check_flag(pack, &change, "--param", p)?;
                changes.push(change);
                places.push(explore::flag_place("--param", p));
            }
            if let Some(d) = as_of {
                changes.push(handback::Change::AsOf(d));
            }
            if let Some(message) = handback::too_many_changes(&changes, limits()) {
                return Err(Failure::new(Exit::Usage, message));
            }
            explore::whatif(&base, &changes, &places, &label, matches!(format, Format::Json))
        }
        Command::Needs {
            situation,
            target,
            limit,
            scenario_out,
            params,
            format,
        } => {
            let mut base = situation.base()?;
            set_params(&base.pack, &mut base.options, &params)?;
            let evidence = situation.evidence;
            if let Some(out) = &scenario_out {
                let text = explore::best_scenario(&base, &target)?;
                // `-` is standard output, with the scenario alone on it, so it pipes into
                // `whatif --scenario -`.
                if out.as_os_str() == "-" {
                    return Ok(text);
                }
                files::write_atomically(out, &text, &[evidence.as_path()])?;
                eprintln!("wrote `{}`", out.display());
            }
            explore::needs(&base, &target, limit, format.out())
        }
        Command::Sweep {
            situation,
            vary,
            params,
        } => {
            let varies = explore::parse_varies(&vary)?;
            let mut base = situation.base()?;
            set_params(&base.pack, &mut base.options, &params)?;
            // The CSV stays a plain grid for plotting; what was left out goes to stderr.
            eprint!("{}", explore::known_line(&base));
            explore::sweep(&base, &varies)
        }
        Command::Gaps {
            situation,
            params,
            format,
        } => {
            let mut base = situation.base()?;
            set_params(&base.pack, &mut base.options, &params)?;
            explore::gaps(&base, format.out())
        }
        Command::Lint {
            evidence,
            pack,
            format,
            sources,
            directions,
        } => lint(&pack, &evidence, format, sources.as_deref(), &directions),
        Command::Rules { pack, format } => {
            let pack = load_pack(&pack)?;
            Ok(match format {
                RulesFormat::Text => render::rules_text(&pack),
                RulesFormat::Markdown => render::rules_markdown(&pack),
                RulesFormat::Json => render::rules_json(&pack),
            })
        }
        Command::Pack {
            command: PackCommand::Init { dir, id, title },
        } => authoring::init(&dir, id.as_deref(), title.as_deref()),
        Command::Test { dir, base, format } => {
            let pack = load_pack(&PackArg {
                pack: Some(dir.clone()),
                base,
            })?;
            authoring::test(&pack, &dir, matches!(format, Format::Json))
        }
        Command::Evidence {
            command: EvidenceCommand::Template { pack, format, output },
        } => {
            let pack = load_pack(&pack)?;
            let text = match format {
                TemplateFormat::Csv => render::template_csv(&pack),
                TemplateFormat::Json => render::template_json(&pack),
                TemplateFormat::Markdown => render::template_markdown(&pack),
                TemplateFormat::Sheet => format!("{}\n", handback::spreadsheet::columns().join(",")),
                TemplateFormat::Xlsx => {
                    let bytes = handback::spreadsheet::template_xlsx(&pack).map_err(|e| {
                        Failure::new(Exit::Internal, format!("cannot make the workbook: {e}"))
                    })?;
                    return write_binary(output.as_deref(), &bytes, &[]);
                }
            };
            write_text(output.as_deref(), text, &[])
        }
        Command::Evidence {
            command:
                EvidenceCommand::Import {
                    file,
                    pack,
                    sheet,
                    council,
                    output,
                },
        } => {
            let pack = load_pack(&pack)?;
            if !files::is_sheet(&file) {
                return Err(Failure::new(
                    Exit::Usage,
                    format!("`{}`: import reads a `.csv` or `.xlsx` file", file.display()),
                ));
            }
            let evidence = files::read_evidence(&pack, &file, sheet.as_deref(), council.as_deref())?;
            let text = handback::canonical::canonical(&evidence.canonical());
            write_text(output.as_deref(), text, &[file.as_path()])
        }
        Command::Evidence {
            command:
                EvidenceCommand::Export {
                    evidence,
                    pack,
                    format,
                    output,
                },
        } => {
            let pack = load_pack(&pack)?;
            let loaded = files::read_evidence(&pack, &evidence, None, None)?;
            match format {
                SheetFormat::Csv => write_text(
                    output.as_deref(),
                    handback::spreadsheet::evidence_to_csv(&loaded),
                    &[evidence.as_path()],
                ),
                SheetFormat::Xlsx => {
                    let bytes = handback::spreadsheet::evidence_to_xlsx(&loaded).map_err(|e| {
                        Failure::new(Exit::Internal, format!("cannot make the workbook: {e}"))
                    })?;
                    write_binary(output.as_deref(), &bytes, &[evidence.as_path()])
                }
            }
        }
    }
}

/// Writes text to `-o` (atomically) and says so on stderr, or returns it to be printed.
fn write_text(
    output: Option<&std::path::Path>,
    text: String,
    inputs: &[&std::path::Path],
) -> Result<String, Failure> {
    match output {
        None => Ok(text),
        Some(path) => {
            files::write_atomically(path, &text, inputs)?;
            eprintln!("wrote `{}`", path.display());
            Ok(String::new())
        }
    }
}

/// Writes a workbook to `-o`; a workbook is never printed to a terminal.
fn write_binary(
    output: Option<&std::path::Path>,
    bytes: &[u8],
    inputs: &[&std::path::Path],
) -> Result<String, Failure> {
    let Some(path) = output else {
        return Err(Failure::new(
            Exit::Usage,
            "a workbook is written to a file: give `-o FILE.xlsx`",
        ));
    };
    files::write_bytes_atomically(path, bytes, inputs)?;
    eprintln!("wrote `{}`", path.display());
    Ok(String::new())
}

/// Reads an evidence file and settles the options: what `assess` and `plan` share.
pub(crate) fn prepare(
    pack: &Pack,
    path: &std::path::Path,
    as_of: Option<chrono::NaiveDate>,
    known_at: Option<chrono::NaiveDate>,
    exclude_basis: &[handback::Basis],
    params: &[String],
) -> Result<(Evidence, Options), Failure> {
    let evidence = files::read_evidence(pack, path, None, None)?;
    let as_of = as_of
        .or(evidence.as_of())
        .or_else(|| evidence.latest_date())
        .ok_or_else(|| {
            Failure::new(
                Exit::Usage,
                "the evidence has no observations and no `as_of`; give `--as-of YYYY-MM-DD`",
            )
        })?;
    let mut options = Options::new(as_of);
    set_params(pack, &mut options, params)?;
    options.known_at = known_at;
    options.exclude_basis = exclude_basis.to_vec();
    Ok((evidence, options))
}

/// Reads and assesses an evidence file, with reasons.
fn assess_file(
    pack: &Pack,
    path: &std::path::Path,
    as_of: Option<chrono::NaiveDate>,
    params: &[String],
) -> Result<handback::Assessment, Failure> {
    let (evidence, options) = prepare(pack, path, as_of, None, &[], params)?;
    Ok(handback::assess(pack, &evidence, &options))
}

impl SignArgs {
    /// The secret key to sign with, and who signs, when `--sign` was given.
    fn key(&self) -> Result<Option<(handback::sign::SecretKey, String)>, Failure> {
        let Some(path) = &self.sign else {
            return Ok(None);
        };
        let key = handback::sign::SecretKey::load(&files::read_source(path)?)?;
        let signer = self
            .signer
            .clone()
            .or_else(|| key.signer.clone())
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                Failure::new(
                    Exit::Usage,
                    format!(
                        "`{}` stores no signer's name: give `--signer NAME` (or make the key with `handback keygen --signer NAME`)",
                        path.display()
                    ),
                )
            })?;
        Ok(Some((key, signer)))
    }
}

/// The report, signed when a key was given.
fn signed(report: String, key: Option<&(handback::sign::SecretKey, String)>) -> Result<String, Failure> {
    match key {
        None => Ok(report),
        Some((key, signer)) => handback::sign::sign(&report, key, signer)
            .map_err(|e| Failure::new(Exit::Internal, format!("cannot sign the report: {e}"))),
    }
}

/// Writes a report atomically, never over an input, and says so on stderr.
fn write_report(out: &std::path::Path, report: &str, inputs: &[Option<&PathBuf>]) -> Result<(), Failure> {
    let inputs: Vec<&std::path::Path> = inputs.iter().flatten().map(|p| p.as_path()).collect();
    files::write_atomically(out, report, &inputs)?;
    let digest = serde_json::from_str::<serde_json::Value>(report)
        .ok()
        .and_then(|v| v.get("digest").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_default();
    eprintln!("wrote `{}` (digest {digest})", out.display());
    Ok(())
}

fn set_params(pack: &Pack, options: &mut Options, params: &[String]) -> Result<(), Failure> {
    let mut problems = Vec::new();
    for p in params {
        let Some((name, value)) = p.split_once('=') else {
            problems.push(format!("`--param {p}`: expected NAME=VALUE"));
            continue;
        };
        if let Err(e) = options.set_parameter(pack, name.trim(), value.trim()) {
            problems.push(format!("`--param {p}`: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(Exit::Usage, problems.join("\n")))
    }
}

fn lint(
    pack_arg: &PackArg,
    evidence: &[PathBuf],
    format: LintFormat,
    sources: Option<&std::path::Path>,
    directions: &[PathBuf],
) -> Result<String, Failure> {
    let mut diagnostics: Vec<handback::Diagnostic> = Vec::new();
    let mut summary = Vec::new();
    let pack_files = match &pack_arg.pack {
        Some(dir) => match files::read_pack_layers(dir, pack_arg.base.as_deref()) {
            Ok(files) => Ok(files),
            Err(files::ReadError::Invalid(d)) => Err(LoadError {
                diagnostics: handback::Diagnostics(d),
            }),
            Err(files::ReadError::Io(f)) => return Err(f),
        },
        None => Ok(handback::default_pack_files()),
    };
    let pack = pack_files
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|files| Pack::load_with_limits(files, limits()));
    // Warnings say what is almost certainly not meant; they never fail lint. They are for the
    // pack's author, so only for a pack named with `--pack`: someone checking evidence against
    // the embedded pack cannot act on them.
    let mut warnings = match (&pack, &pack_files, &pack_arg.pack) {
        (Ok(p), Ok(files), Some(_)) => handback::authoring::pack_warnings(p, files),
        _ => Vec::new(),
    };
    match &pack {
        Ok(p) => summary.push(format!(
            "pack `{}` {}: {} rules, {} evidence keys, {} parameters, {} functions",
            p.manifest().id,
            p.manifest().version,
            p.rules().len(),
            p.keys().len(),
            p.parameters().len(),
            p.functions().len()
        )),
        Err(e) => diagnostics.extend(e.diagnostics.0.iter().cloned()),
    }
    let texts = match sources {
        Some(dir) => files::read_folder_texts(dir, "txt")?,
        None => Vec::new(),
    };
    if let (Some(dir), Ok(p)) = (sources, &pack) {
        let found = handback::authoring::check_sources(p, &texts, &dir.display().to_string());
        if found.is_empty() {
            summary.push(format!(
                "every quote stands in its source ({} source documents in `{}`)",
                texts.len(),
                dir.display()
            ));
        }
        diagnostics.extend(found);
    }
    let mut unchecked = 0;
    // Valid input that will not count as written (a judgement in a role its key refuses).
    for path in evidence {
        if files::is_sheet(path) {
            match &pack {
                Ok(pack) => match files::read_evidence(pack, path, None, None) {
                    Ok(e) => {
                        summary.push(format!(
                            "{}: {} observations",
                            path.display(),
                            e.observations().len()
                        ));
                        // The checks JSON evidence gets beyond loading, at the cells.
                        let (table, about) = files::read_sheet_and_about(path, None, None)?;
                        let check =
                            |f: &handback::SourceFile| handback::authoring::refused_judgements(pack, f);
                        warnings.extend(handback::spreadsheet::check_as_json(pack, &table, &about, check));
                        if let Some(dir) = sources {
                            let found = handback::spreadsheet::check_as_json(pack, &table, &about, |f| {
                                handback::authoring::check_passages(f, &texts, &dir.display().to_string())
                            });
                            if found.is_empty() {
                                summary.push(format!(
                                    "{}: every quoted passage stands in its source",
                                    path.display()
                                ));
                            }
                            diagnostics.extend(found);
                        }
                    }
                    Err(f) if f.problems.is_empty() && f.exit != Exit::Invalid => return Err(f),
                    Err(f) if f.problems.is_empty() => diagnostics.push(handback::Diagnostic {
                        file: path.display().to_string(),
                        line: 1,
                        column: 1,
                        path: String::new(),
                        message: f.message,
                    }),
                    Err(f) => diagnostics.extend(f.problems),
                },
                Err(_) => unchecked += 1,
            }
            continue;
        }
        let source = match files::read_source(path) {
            Ok(source) => source,
            Err(files::ReadError::Invalid(d)) => {
                diagnostics.extend(d);
                continue;
            }
            Err(files::ReadError::Io(f)) => return Err(f),
        };
        match &pack {
            Ok(pack) => match Evidence::load_with_limits(pack, &source, limits()) {
                Ok(e) => {
                    warnings.extend(handback::authoring::refused_judgements(pack, &source));
                    summary.push(format!(
                        "{}: {} observations",
                        source.label,
                        e.observations().len()
                    ));
                    if let Some(dir) = sources {
                        let found =
                            handback::authoring::check_passages(&source, &texts, &dir.display().to_string());
                        if found.is_empty() {
                            summary.push(format!(
                                "{}: every quoted passage stands in its source",
                                source.label
                            ));
                        }
                        diagnostics.extend(found);
                    }
                }
                Err(e) => diagnostics.extend(e.diagnostics.0),
            },
            Err(_) => unchecked += 1,
        }
    }
    for path in directions {
        let source = match files::read_source(path) {
            Ok(source) => source,
            Err(files::ReadError::Invalid(d)) => {
                diagnostics.extend(d);
                continue;
            }
            Err(files::ReadError::Io(f)) => return Err(f),
        };
        match &pack {
            Ok(pack) => match handback::Directions::load(pack, &source) {
                Ok(d) => summary.push(format!("{}: {} instruments", source.label, d.instruments().len())),
                Err(e) => diagnostics.extend(e.diagnostics.0),
            },
            Err(_) => unchecked += 1,
        }
    }
    let ok = diagnostics.is_empty();
    let text = match format {
        LintFormat::Json => {
            let value = if warnings.is_empty() {
                serde_json::json!({ "ok": ok, "problems": diagnostics })
            } else {
                serde_json::json!({ "ok": ok, "problems": diagnostics, "warnings": warnings })
            };
            format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
        }
        LintFormat::Text => {
            let mut out = String::new();
            for d in diagnostics.iter().chain(&warnings) {
                out.push_str(&format!("{d}\n"));
            }
            if unchecked > 0 {
                out.push_str(&format!(
                    "{unchecked} evidence or Directions file(s) not checked: the pack must be valid first\n"
                ));
            }
            if ok {
                for s in &summary {
                    out.push_str(&format!("ok: {s}\n"));
                }
                if !warnings.is_empty() {
                    out.push_str(&format!(
                        "{} warning{} (not problems: the input is valid)\n",
                        warnings.len(),
                        if warnings.len() == 1 { "" } else { "s" }
                    ));
                }
            } else {
                out.push_str(&format!(
                    "{} problem{} found\n",
                    diagnostics.len(),
                    if diagnostics.len() == 1 { "" } else { "s" }
                ));
            }
            out
        }
    };
    if ok {
        Ok(text)
    } else if matches!(format, LintFormat::Json) {
        // Machine-readable problems go to stdout, so tools can read them; the exit code still
        // says the input is invalid.
        print!("{text}");
        Err(Failure::new(Exit::Invalid, ""))
    } else {
        Err(Failure::new(Exit::Invalid, text))
    }
}
