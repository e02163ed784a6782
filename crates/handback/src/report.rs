//! Reports an auditor can reproduce: canonical, self-describing, digested; and their verification.
//!
//! A report holds everything needed to re-derive it: the engine version; the pack's id, version
//! and digests (whole pack, each file, each rule); the evidence itself in canonical form with its
//! digest; the Directions if a plan was made; the as-of and known-at dates; every parameter in
//! force; every outcome with its reasons; which verdicts rest on people's judgements; and a
//! SHA-256 digest of the report itself. [`verify`] re-evaluates from the inputs and either
//! reproduces the report byte for byte or says precisely what differs.

// Reading a `serde_json::Value` by key or index never panics (a missing entry reads as `Null`);
// writes go through `set`, which only inserts into objects this module built.
#![expect(
    clippy::indexing_slicing,
    reason = "serde_json::Value indexing for reads returns Null, never panics"
)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::assess::{assess, Assessment, Options, Reason};
use crate::canonical::{canonical, digest, sha256};
use crate::directions::Directions;
use crate::evidence::Evidence;
use crate::pack::{Pack, SourceFile};
use crate::plan::plan;
use crate::sign::{PublicKey, Signed};

/// The report format's name and version.
pub const FORMAT: &str = "handback-report/3";

/// What a report is made from.
pub struct ReportInputs<'a> {
    /// The pack.
    pub pack: &'a Pack,
    /// The evidence.
    pub evidence: &'a Evidence,
    /// As-of and known-at dates, parameter overrides.
    pub options: &'a Options,
    /// Directions, when the report includes a plan.
    pub directions: Option<&'a Directions>,
    /// Whether to include the plan.
    pub with_plan: bool,
}

/// Builds a report: canonical JSON text ending in a newline, with its digest.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::{report, verify, EvidenceBuilder, ObservationDraft, Options, ReportInputs, VerifyInputs};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", true, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let options = Options::new(day);
/// let inputs = ReportInputs { pack: &pack, evidence: &evidence, options: &options, directions: None, with_plan: false };
/// let text = report(&inputs);
/// // An auditor re-derives it from the copy of the evidence it carries: the same bytes.
/// let check = VerifyInputs { report: &text, pack: &pack, evidence: None, directions: None, key: None };
/// assert!(verify(&check).is_ok());
/// // One byte changed, and it no longer reproduces.
/// let edited = text.replacen("true", "false", 1);
/// let check = VerifyInputs { report: &edited, ..check };
/// assert!(verify(&check).is_err());
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn report(inputs: &ReportInputs<'_>) -> String {
    let mut options = inputs.options.clone();
    options.explain = true;
    let assessment = assess(inputs.pack, inputs.evidence, &options);
    let mut value = json!({
        "format": FORMAT,
        "engine": assessment.engine,
        "council": assessment.council,
        "pack": {
            "id": inputs.pack.manifest().id,
            "version": inputs.pack.manifest().version,
            "title": inputs.pack.manifest().title,
            "digest": inputs.pack.digests().pack,
            "files": inputs.pack.digests().files,
            "rules": inputs.pack.digests().rules,
        },
        "evidence": evidence_block(&inputs.evidence.canonical()),
        "as_of": assessment.as_of,
        "parameters": assessment.parameters,
        "judgements": judgements(&assessment),
        "results": assessment.results,
    });
    if let Some(k) = assessment.known_at {
        set(&mut value, "known_at", json!(k));
        value["hidden"] = json!(assessment.hidden);
    }
    if !assessment.excluded_basis.is_empty() {
        set(&mut value, "excluded_basis", json!(assessment.excluded_basis));
        value["excluded"] = json!(assessment.excluded);
    }
    if inputs.with_plan {
        let plan = plan(inputs.pack, &assessment, inputs.directions);
        set(
            &mut value,
            "plan",
            serde_json::to_value(&plan).unwrap_or_default(),
        );
        if let Some(d) = inputs.directions {
            let document = serde_json::to_value(d).unwrap_or_default();
            set(
                &mut value,
                "directions",
                json!({ "digest": digest(&document), "document": document }),
            );
        }
    }
    seal(value)
}

/// The evidence as a report carries it: the canonical document, its digest, and each
/// observation's digest by id, so that a report edited and resealed can be caught naming the
/// observation that no longer matches.
fn evidence_block(document: &J) -> J {
    json!({
        "digest": digest(document),
        "document": document,
        "observations": observation_digests(document),
    })
}

/// Each observation's digest, by id.
fn observation_digests(document: &J) -> BTreeMap<String, String> {
    document["observations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (o["id"].as_str().unwrap_or("").to_string(), digest(o)))
        .collect()
}

/// Sets a key on a JSON object (and does nothing to anything else).
fn set(value: &mut J, key: &str, v: J) {
    if let Some(map) = value.as_object_mut() {
        map.insert(key.to_string(), v);
    }
}

/// Adds the digest over everything else and renders the canonical text.
fn seal(mut value: J) -> String {
    if let Some(map) = value.as_object_mut() {
        map.remove("digest");
    }
    let d = sha256(canonical(&value).as_bytes());
    set(&mut value, "digest", json!(d));
    canonical(&value)
}

/// The shape of a report, for its JSON Schema only (`docs/schemas/report.json`): a report is
/// built as canonical JSON by [`report`] and read back by `verify`, never through this type, so
/// a test checks the fixtures' reports against the schema.
#[derive(schemars::JsonSchema)]
#[schemars(title = "Report", deny_unknown_fields)]
#[expect(dead_code, reason = "a schema-only type: never built, only described")]
pub(crate) struct ReportShape {
    /// `handback-report/3`.
    format: String,
    /// The engine that made it, e.g. `handback 0.1.0`.
    engine: String,
    /// The council.
    council: String,
    /// The pack and its digests.
    pack: PackBlock,
    /// The evidence, canonical, with its digests.
    evidence: EvidenceBlock,
    /// The as-of date.
    as_of: NaiveDate,
    /// What was known then, when the report was cut back to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    known_at: Option<NaiveDate>,
    /// The observations left out as recorded after `known_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden: Option<Vec<String>>,
    /// The bases left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    excluded_basis: Option<Vec<crate::evidence::Basis>>,
    /// The observations those bases removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    excluded: Option<Vec<String>>,
    /// Every parameter in force.
    parameters: Vec<crate::assess::ParameterInForce>,
    /// Every recorded judgement a verdict rests on.
    judgements: Vec<Judgement>,
    /// Every outcome, with its reasons.
    results: Vec<crate::assess::RuleResult>,
    /// The plan, for plans.
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<crate::plan::Plan>,
    /// The Directions used, for plans.
    #[serde(skip_serializing_if = "Option::is_none")]
    directions: Option<DirectionsBlock>,
    /// SHA-256 of the canonical text without this field and without `signature`.
    digest: String,
    /// For signed reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<SignatureBlock>,
}

#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "a schema-only type: never built, only described")]
struct PackBlock {
    id: String,
    version: String,
    title: String,
    /// SHA-256 over every file's digest.
    digest: String,
    /// Each file's digest, by name.
    files: BTreeMap<String, String>,
    /// Each rule's digest, by id.
    rules: BTreeMap<String, String>,
}

#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "a schema-only type: never built, only described")]
struct EvidenceBlock {
    /// The digest of the canonical document.
    digest: String,
    /// The evidence, canonical: the evidence file's format, observations sorted by id.
    #[schemars(schema_with = "crate::schema::evidence_document")]
    document: J,
    /// Each observation's digest, by id.
    observations: BTreeMap<String, String>,
}

#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "a schema-only type: never built, only described")]
struct DirectionsBlock {
    /// The digest of the document.
    digest: String,
    /// The Directions, in the Directions file's format.
    document: Directions,
}

#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "a schema-only type: never built, only described")]
struct SignatureBlock {
    /// `ed25519`.
    algorithm: String,
    /// The signing key's id.
    key_id: String,
    /// Who signed.
    signer: String,
    /// The signature, hex.
    value: String,
}

/// A recorded judgement an outcome rests on, kept apart from measured facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
struct Judgement {
    observation: String,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<String>,
    judged_by: String,
    date: NaiveDate,
    used_by: BTreeSet<String>,
}

fn judgements(assessment: &Assessment) -> Vec<Judgement> {
    let mut found: BTreeMap<String, Judgement> = BTreeMap::new();
    fn walk(reason: &Reason, rule: &str, found: &mut BTreeMap<String, Judgement>) {
        for e in &reason.evidence {
            if let Some(j) = &e.judged_by {
                found
                    .entry(e.id.clone())
                    .or_insert_with(|| Judgement {
                        observation: e.id.clone(),
                        key: e.key.clone(),
                        function: e.function.clone(),
                        judged_by: j.clone(),
                        date: e.date,
                        used_by: BTreeSet::new(),
                    })
                    .used_by
                    .insert(rule.to_string());
            }
        }
        for p in &reason.parts {
            walk(p, rule, found);
        }
    }
    for r in &assessment.results {
        let id = match &r.function {
            Some(f) => format!("{}@{f}", r.rule),
            None => r.rule.clone(),
        };
        if let Some(reason) = &r.reason {
            walk(reason, &id, &mut found);
        }
    }
    found.into_values().collect()
}

/// One way a report fails to reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// The report's content does not match its own digest: it was edited after it was written.
    Edited {
        /// What to say.
        message: String,
    },
    /// An inner digest does not match what it covers: the report was edited and its outer
    /// digest recomputed (anyone can), or it was assembled by hand.
    Digest {
        /// Where the digest sits in the report, e.g. `evidence.digest`.
        field: String,
        /// What to say, naming what differs.
        message: String,
    },
    /// The signature does not check out: wrong key, changed after signing, damaged, or a key
    /// was given for an unsigned report.
    Signature {
        /// What to say.
        message: String,
    },
    /// A different engine version made it.
    Engine {
        /// The report's engine.
        report: String,
        /// This engine.
        current: String,
    },
    /// A different pack, or pack version.
    PackVersion {
        /// What to say.
        message: String,
    },
    /// The same pack version, but rules or files differ.
    Pack {
        /// Rules added, removed or changed, by id.
        rules: Vec<String>,
        /// Files that differ.
        files: Vec<String>,
    },
    /// Parameters in force differ.
    Parameters {
        /// Which, with both values.
        changes: Vec<String>,
    },
    /// The evidence differs.
    Evidence {
        /// Observations only in the evidence given now.
        added: Vec<String>,
        /// Observations only in the report.
        removed: Vec<String>,
        /// Observations in both that differ, with the fields that changed.
        changed: Vec<String>,
    },
    /// The Directions differ.
    Directions {
        /// What to say.
        message: String,
    },
    /// Outcomes or reasons differ.
    Results {
        /// Each differing outcome: `rule@function: report -> now`.
        changes: Vec<String>,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[String]| v.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ");
        match self {
            Difference::Edited { message }
            | Difference::Digest { message, .. }
            | Difference::Signature { message }
            | Difference::PackVersion { message }
            | Difference::Directions { message } => {
                write!(f, "{message}")
            }
            Difference::Engine { report, current } => {
                write!(
                    f,
                    "engine version differs: the report was made by {report}, this is {current}"
                )
            }
            Difference::Pack { rules, files } => {
                write!(f, "the pack differs from the one the report used")?;
                if !rules.is_empty() {
                    write!(f, "; rules changed: {}", list(rules))?;
                }
                if !files.is_empty() {
                    write!(f, "; files changed: {}", list(files))?;
                }
                Ok(())
            }
            Difference::Parameters { changes } => write!(f, "parameters differ: {}", changes.join("; ")),
            Difference::Evidence {
                added,
                removed,
                changed,
            } => {
                write!(f, "the evidence differs from the report's")?;
                if !changed.is_empty() {
                    write!(f, "; observations changed: {}", changed.join("; "))?;
                }
                if !added.is_empty() {
                    write!(f, "; observations added: {}", list(added))?;
                }
                if !removed.is_empty() {
                    write!(f, "; observations removed: {}", list(removed))?;
                }
                Ok(())
            }
            Difference::Results { changes } => write!(f, "results differ: {}", changes.join("; ")),
        }
    }
}

/// What `verify` needs besides the report: the pack to check against, and optionally evidence
/// and Directions to use instead of the copies the report carries.
pub struct VerifyInputs<'a> {
    /// The report's text, as written.
    pub report: &'a str,
    /// The pack.
    pub pack: &'a Pack,
    /// Evidence to verify against; `None` uses the report's own copy.
    pub evidence: Option<&'a Evidence>,
    /// Directions to verify against; `None` uses the report's own copy, if any.
    pub directions: Option<&'a Directions>,
    /// The public key to check the report's signature with; `None` leaves a signature
    /// unchecked (and says so).
    pub key: Option<&'a PublicKey>,
}

/// How deep a report may nest. Reasons nest about twice as deep as the conditions they explain
/// (an object and its `parts` per level), and conditions nest at most 256 deep (`--max-depth`),
/// so every report the engine writes fits; anything deeper is not one of ours.
const MAX_REPORT_DEPTH: usize = 600;

/// Reads a report as JSON. serde_json stops at 128 levels, which a report of a condition nested
/// within the input limits can exceed; its own limit is lifted only after a scan has bounded the
/// nesting, so a hostile report still cannot exhaust the stack.
pub(crate) fn parse(text: &str) -> Result<J, String> {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_REPORT_DEPTH {
        return Err(format!(
            "it nests {deepest} levels deep; reports nest at most {MAX_REPORT_DEPTH}"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Re-derives a report from its inputs. `Ok` when the same bytes come out (and, with a key, the
/// signature is valid), saying who signed it; otherwise every difference found, most
/// fundamental first.
pub fn verify(inputs: &VerifyInputs<'_>) -> Result<Signed, Vec<Difference>> {
    let edited = |message: String| vec![Difference::Edited { message }];
    let report: J = parse(inputs.report).map_err(|e| {
        edited(format!(
            "the report is not valid JSON ({e}); it is not a Handback report or was damaged"
        ))
    })?;
    match report.get("format").and_then(J::as_str) {
        Some(FORMAT) => {}
        Some(other) if other.starts_with("handback-report/") => {
            return Err(edited(format!(
                "the report is in format `{other}`; this engine writes and verifies `{FORMAT}`: verify it with the engine that made it"
            )))
        }
        _ => return Err(edited(format!("the report is not in format `{FORMAT}`"))),
    }
    let mut content = report.clone();
    if let Some(map) = content.as_object_mut() {
        map.remove("digest");
        map.remove("signature");
    }
    let recorded_digest = report.get("digest").and_then(J::as_str).unwrap_or("");
    if sha256(canonical(&content).as_bytes()) != recorded_digest {
        return Err(edited(
            "the report's content does not match its digest: it was edited after it was written".into(),
        ));
    }

    let mut differences = Vec::new();
    let signed = match (crate::sign::block(&report), inputs.key) {
        (Err(message), _) => {
            differences.push(Difference::Signature { message });
            Signed::Unsigned
        }
        (Ok(None), None) => Signed::Unsigned,
        (Ok(Some((signer, key_id))), None) => Signed::NotChecked { signer, key_id },
        (Ok(_), Some(key)) => match crate::sign::check(&report, key) {
            Ok((signer, key_id)) => Signed::Valid { signer, key_id },
            Err(message) => {
                differences.push(Difference::Signature { message });
                Signed::Unsigned
            }
        },
    };
    differences.extend(inner_digests(&report, inputs.pack));
    let current_engine = format!("handback {}", env!("CARGO_PKG_VERSION"));
    let report_engine = report["engine"].as_str().unwrap_or("").to_string();
    if report_engine != current_engine {
        differences.push(Difference::Engine {
            report: report_engine,
            current: current_engine,
        });
    }
    let manifest = inputs.pack.manifest();
    let (report_pack, report_version) = (
        report["pack"]["id"].as_str().unwrap_or(""),
        report["pack"]["version"].as_str().unwrap_or(""),
    );
    if report_pack != manifest.id || report_version != manifest.version {
        differences.push(Difference::PackVersion {
            message: format!(
                "version drift: the report was made with pack `{report_pack}` {report_version}; this is pack `{}` {}. Verify against the pack it names (`--pack DIR`)",
                manifest.id, manifest.version
            ),
        });
    } else if report["pack"]["digest"].as_str() != Some(inputs.pack.digests().pack.as_str()) {
        differences.push(pack_difference(&report["pack"], inputs.pack));
    }

    // The evidence: the one given, or the report's own copy.
    let embedded = &report["evidence"]["document"];
    let own;
    let evidence = match inputs.evidence {
        Some(e) => {
            let now = e.canonical();
            if digest(&now) != report["evidence"]["digest"].as_str().unwrap_or("") {
                differences.push(evidence_difference(embedded, &now));
            }
            e
        }
        None => {
            let file = SourceFile {
                name: "report evidence".into(),
                label: "the report's evidence".into(),
                text: canonical(embedded),
            };
            own = match Evidence::load(inputs.pack, &file) {
                Ok(e) => e,
                Err(e) => {
                    differences.push(Difference::PackVersion {
                        message: format!("the report's evidence does not load under this pack:\n{e}"),
                    });
                    return Err(differences);
                }
            };
            &own
        }
    };

    // Parameters the report overrode, and its dates.
    let mut options = Options::new(
        report["as_of"]
            .as_str()
            .and_then(|d| crate::diagnostic::parse_date(d).ok())
            .unwrap_or_default(),
    );
    options.known_at = report["known_at"]
        .as_str()
        .and_then(|d| crate::diagnostic::parse_date(d).ok());
    options.exclude_basis = report["excluded_basis"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b.as_str().and_then(crate::evidence::Basis::from_word))
        .collect();
    for p in report["parameters"].as_array().into_iter().flatten() {
        if p["overridden"].as_bool() == Some(true) {
            let name = p["name"].as_str().unwrap_or("");
            if let Ok(v) = crate::pack::parse_parameter(inputs.pack, name, &p["value"].to_string()) {
                options.parameters.insert(name.to_string(), v);
            }
        }
    }
    let defaults: Vec<String> = inputs
        .pack
        .parameters()
        .iter()
        .filter(|p| !options.parameters.contains_key(&p.name))
        .filter_map(|p| {
            let was = report["parameters"]
                .as_array()?
                .iter()
                .find(|x| x["name"] == p.name.as_str())?;
            let now = serde_json::to_value(&p.default).ok()?;
            (was["value"] != now).then(|| {
                format!(
                    "`{}` was {} in the report, its default is now {}",
                    p.name, was["value"], now
                )
            })
        })
        .collect();
    if !defaults.is_empty() {
        differences.push(Difference::Parameters { changes: defaults });
    }

    let own_directions;
    let directions = match (inputs.directions, report.get("directions")) {
        (Some(d), Some(recorded)) => {
            let now = serde_json::to_value(d).unwrap_or_default();
            if digest(&now) != recorded["digest"].as_str().unwrap_or("") {
                differences.push(Difference::Directions {
                    message: "the Directions differ from the report's".into(),
                });
            }
            Some(d)
        }
        (Some(d), None) => Some(d),
        (None, Some(recorded)) => {
            let file = SourceFile {
                name: "report directions".into(),
                label: "the report's Directions".into(),
                text: canonical(&recorded["document"]),
            };
            own_directions = Directions::load(inputs.pack, &file).ok();
            own_directions.as_ref()
        }
        (None, None) => None,
    };

    let again = report_text_again(
        inputs.pack,
        evidence,
        &options,
        directions,
        report.get("plan").is_some(),
    );
    // The signature block is not part of what is re-derived: compare without it, and check the
    // report as given is exactly its own canonical text.
    let mut unsigned = report.clone();
    if let Some(map) = unsigned.as_object_mut() {
        map.remove("signature");
    }
    if again == canonical(&unsigned) && canonical(&report) == inputs.report {
        return if differences.is_empty() {
            Ok(signed)
        } else {
            Err(differences)
        };
    }
    if let Ok(fresh) = parse(&again) {
        let changes = result_changes(&report["results"], &fresh["results"]);
        if !changes.is_empty() {
            differences.push(Difference::Results { changes });
        } else if report.get("plan") != fresh.get("plan") {
            differences.push(Difference::Results {
                changes: vec!["the plan differs".into()],
            });
        }
    }
    if differences.is_empty() {
        differences.push(Difference::Edited {
            message: "the report's bytes differ from its canonical form (it was reformatted or re-encoded)"
                .into(),
        });
    }
    Err(differences)
}

/// Checks every digest inside the report against what it covers, in the order they appear:
/// the pack digest against the file digests, the rule and file digests against the pack when
/// its files match, the evidence and each observation, the Directions.
fn inner_digests(report: &J, pack: &Pack) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut differ = |field: String, message: String| found.push(Difference::Digest { field, message });
    let recorded = &report["pack"];
    let files = recorded["files"].clone();
    if recorded["digest"].as_str() != Some(digest(&json!({ "files": files })).as_str()) {
        differ(
            "pack.digest".into(),
            "`pack.digest` does not match the file digests the report carries: the report was edited and its digest recomputed".into(),
        );
    } else if recorded["digest"].as_str() == Some(pack.digests().pack.as_str()) {
        // The pack's files are the report's, so each rule digest must be this pack's.
        let now = &pack.digests().rules;
        let was = recorded["rules"].as_object();
        let ids: BTreeSet<&String> = now.keys().chain(was.into_iter().flat_map(|m| m.keys())).collect();
        for id in ids {
            let was = was.and_then(|m| m.get(id)).and_then(J::as_str);
            if was != now.get(id).map(String::as_str) {
                differ(
                    format!("pack.rules.{id}"),
                    format!(
                        "`pack.rules.{id}` does not match rule `{id}` of the pack whose files the report names: the report was edited and its digest recomputed"
                    ),
                );
            }
        }
    }

    let document = &report["evidence"]["document"];
    let was = report["evidence"]["observations"].as_object();
    let now = observation_digests(document);
    let ids: BTreeSet<&String> = now.keys().chain(was.into_iter().flat_map(|m| m.keys())).collect();
    let observations: Vec<String> = ids
        .into_iter()
        .filter(|id| was.and_then(|m| m.get(*id)).and_then(J::as_str) != now.get(*id).map(String::as_str))
        .map(
            |id| match (was.is_some_and(|m| m.contains_key(id)), now.contains_key(id)) {
                (true, false) => format!("`{id}` (removed)"),
                (false, true) => format!("`{id}` (added)"),
                _ => format!("`{id}`"),
            },
        )
        .collect();
    if report["evidence"]["digest"].as_str() != Some(digest(document).as_str()) {
        let which = if observations.is_empty() {
            "the observations match their digests, so the council, title or `as_of` changed".into()
        } else {
            format!(
                "observations that differ from their digests: {}",
                observations.join(", ")
            )
        };
        differ(
            "evidence.digest".into(),
            format!(
                "`evidence.digest` does not match the evidence the report carries: the report was edited and its digest recomputed; {which}"
            ),
        );
    } else if !observations.is_empty() {
        differ(
            "evidence.observations".into(),
            format!(
                "`evidence.observations` does not match the evidence the report carries: the report was edited and its digest recomputed; observations: {}",
                observations.join(", ")
            ),
        );
    }

    if let Some(directions) = report.get("directions") {
        if directions["digest"].as_str() != Some(digest(&directions["document"]).as_str()) {
            differ(
                "directions.digest".into(),
                "`directions.digest` does not match the Directions the report carries: the report was edited and its digest recomputed".into(),
            );
        }
    }
    found
}

fn report_text_again(
    pack: &Pack,
    evidence: &Evidence,
    options: &Options,
    directions: Option<&Directions>,
    with_plan: bool,
) -> String {
    report(&ReportInputs {
        pack,
        evidence,
        options,
        directions,
        with_plan,
    })
}

fn pack_difference(recorded: &J, pack: &Pack) -> Difference {
    let changed = |was: &J, now: &BTreeMap<String, String>| -> Vec<String> {
        let was: BTreeMap<String, String> = was
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let keys: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
        keys.into_iter()
            .filter(|k| was.get(*k) != now.get(*k))
            .map(|k| match (was.contains_key(k), now.contains_key(k)) {
                (true, false) => format!("{k} (removed)"),
                (false, true) => format!("{k} (added)"),
                _ => k.clone(),
            })
            .collect()
    };
    Difference::Pack {
        rules: changed(&recorded["rules"], &pack.digests().rules),
        files: changed(&recorded["files"], &pack.digests().files),
    }
}

fn evidence_difference(was: &J, now: &J) -> Difference {
    let by_id = |doc: &J| -> BTreeMap<String, J> {
        doc["observations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| (o["id"].as_str().unwrap_or("").to_string(), o.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (was, now) = (by_id(was), by_id(now));
    let added = now.keys().filter(|k| !was.contains_key(*k)).cloned().collect();
    let removed = was.keys().filter(|k| !now.contains_key(*k)).cloned().collect();
    let changed = was
        .iter()
        .filter_map(|(id, w)| {
            let n = now.get(id)?;
            if n == w {
                return None;
            }
            let fields: BTreeSet<&String> = w
                .as_object()
                .into_iter()
                .flatten()
                .chain(n.as_object().into_iter().flatten())
                .map(|(k, _)| k)
                .collect();
            let diffs: Vec<String> = fields
                .into_iter()
                .filter(|f| w.get(*f) != n.get(*f))
                .map(|f| {
                    format!(
                        "{f} {} -> {}",
                        w.get(f).map(J::to_string).unwrap_or("(none)".into()),
                        n.get(f).map(J::to_string).unwrap_or("(none)".into())
                    )
                })
                .collect();
            Some(format!("`{id}` ({})", diffs.join(", ")))
        })
        .collect();
    Difference::Evidence {
        added,
        removed,
        changed,
    }
}

fn result_changes(was: &J, now: &J) -> Vec<String> {
    let index = |results: &J| -> BTreeMap<String, J> {
        results
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        let id = match r["function"].as_str() {
                            Some(f) => format!("{}@{f}", r["rule"].as_str().unwrap_or("")),
                            None => r["rule"].as_str().unwrap_or("").to_string(),
                        };
                        (id, r.clone())
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (was, now) = (index(was), index(now));
    let ids: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        match (was.get(id), now.get(id)) {
            (Some(w), Some(n)) if w["outcome"] != n["outcome"] => {
                out.push(format!(
                    "`{id}`: {} in the report, {} now",
                    w["outcome"], n["outcome"]
                ));
            }
            (Some(w), Some(n)) if w != n => out.push(format!("`{id}`: same outcome, different reasons")),
            (Some(_), None) => out.push(format!("`{id}`: in the report, not produced now")),
            (None, Some(_)) => out.push(format!("`{id}`: produced now, not in the report")),
            _ => {}
        }
    }
    out
}
