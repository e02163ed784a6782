//! Evidence: dated, cited observations about a council and its functions.
//!
//! An evidence document is checked against a pack's vocabulary when it is loaded: every key
//! must be declared, every value must have the key's type (grades on its scale), every date must
//! be a real day, ids must be unique, and two observations may not claim different things about
//! the same key, function and day. What the evaluator receives is therefore always well-typed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{optional, required, At, Decoder, Diagnostic};
use crate::pack::{LoadError, Pack, SourceFile};
use crate::vocabulary::{decode_value, Key, Scope, Value};

/// The fields an observation may have, in the order evidence files write them.
pub const OBSERVATION_FIELDS: &[&str] = &[
    "id",
    "key",
    "function",
    "value",
    "date",
    "period",
    "recorded",
    "basis",
    "source",
    "judged_by",
    "role",
    "note",
];

/// What an observation rests on, strongest first: a verdict is only as good as the weakest
/// observation it needs, so every verdict reports the weakest basis it rests on and can be
/// re-run without the weaker kinds (`--exclude-basis`).
///
/// The order is the order of trust an auditor gives them: a published figure or an adopted
/// document is a fact anyone can check; a judgement is a named person's view; a recorded decision
/// stands for a judgement whose evidence is not before us; an unstated basis is unknown
/// provenance; a reconstruction is the project's own inference; a hypothetical is a what-if.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A figure from a published source.
    Measured,
    /// A document adopted or published (a strategy, a plan, a report).
    Document,
    /// A named person's or body's judgement (`judged_by` says whose).
    Judgement,
    /// A recorded decision or recommendation, standing for the judgement behind it.
    Decision,
    /// The evidence does not say (an observation with neither `basis` nor `judged_by`).
    Unstated,
    /// Filled in where the sources are silent; `note` says why and from what.
    Reconstructed,
    /// Set by a what-if scenario: not evidence at all.
    Hypothetical,
}

impl Basis {
    /// Every basis, strongest first.
    pub const ALL: [Basis; 7] = [
        Basis::Measured,
        Basis::Document,
        Basis::Judgement,
        Basis::Decision,
        Basis::Unstated,
        Basis::Reconstructed,
        Basis::Hypothetical,
    ];

    /// The word used in files and output.
    pub fn word(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::Document => "document",
            Basis::Judgement => "judgement",
            Basis::Decision => "decision",
            Basis::Unstated => "unstated",
            Basis::Reconstructed => "reconstructed",
            Basis::Hypothetical => "hypothetical",
        }
    }

    /// The basis a word names.
    pub fn from_word(word: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.word() == word)
    }
}

impl std::fmt::Display for Basis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// Where an observation comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// The document (a seed file name, a report title).
    pub document: String,
    /// The passage: paragraph, appendix, page or quotation.
    pub passage: String,
}

/// One dated, cited observation of one evidence key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Observation {
    /// Unique id within the document.
    pub id: String,
    /// The evidence key.
    pub key: String,
    /// The function it is about, for function-scoped keys (`None`: council-wide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The value.
    pub value: Value,
    /// The day the observation describes: the date observed, or the last day of its period.
    pub date: NaiveDate,
    /// The first day of the period it covers, when it covers one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_from: Option<NaiveDate>,
    /// The day it was recorded (known to the Commissioners), when that differs from `date`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<NaiveDate>,
    /// What it rests on: measured, document, judgement, decision, reconstructed…
    pub basis: Basis,
    /// Where it comes from.
    pub source: Source,
    /// Who made the judgement, when the observation is a person's judgement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged_by: Option<String>,
    /// The role in which `judged_by` judged (`inspectorate`, `commissioners`, `council`): a key
    /// that lists `judged_by_roles` counts only judgements made in one of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A note; for reconstructed evidence (required there), why and from what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip)]
    pub(crate) key_index: usize,
}

/// A validated evidence document.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// The council the evidence is about.
    pub(crate) council: String,
    /// The as-of date the document suggests, used when the caller gives none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) as_of: Option<NaiveDate>,
    /// What the document is (e.g. "Evidence as known at the August 2016 progress letter").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    /// The observations, sorted by key, function, date, recorded date and id: the engine
    /// finds a key's series by binary search, so the fields are private and every way in
    /// ([`Evidence::load`], [`EvidenceBuilder`]) sorts and checks them.
    pub(crate) observations: Vec<Observation>,
}

impl Evidence {
    /// The council the evidence is about.
    pub fn council(&self) -> &str {
        &self.council
    }

    /// The as-of date the document suggests, used when the caller gives none.
    pub fn as_of(&self) -> Option<NaiveDate> {
        self.as_of
    }

    /// What the document is (e.g. "Evidence as known at the August 2016 progress letter").
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The observations, sorted by key, function, date, recorded date and id.
    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    /// Loads and validates an evidence document against a pack's vocabulary, reporting every
    /// problem at once.
    pub fn load(pack: &Pack, file: &SourceFile) -> Result<Evidence, LoadError> {
        Evidence::load_with_limits(pack, file, crate::diagnostic::Limits::default())
    }

    /// As [`Evidence::load`], within the given limits.
    pub fn load_with_limits(
        pack: &Pack,
        file: &SourceFile,
        limits: crate::diagnostic::Limits,
    ) -> Result<Evidence, LoadError> {
        load(pack, file, limits, false)
    }

    /// Loads the document a scenario made, whose own observations use the reserved id prefix.
    pub(crate) fn load_scenario(pack: &Pack, file: &SourceFile) -> Result<Evidence, LoadError> {
        load(pack, file, crate::diagnostic::Limits::default(), true)
    }

    /// The document in canonical form: the input format (so it loads again), observations sorted
    /// by id, keys sorted. Its digest identifies the evidence whatever the file's layout or order.
    pub fn canonical(&self) -> serde_json::Value {
        let mut observations: Vec<&Observation> = self.observations.iter().collect();
        observations.sort_by(|a, b| a.id.cmp(&b.id));
        let observations: Vec<serde_json::Value> =
            observations.into_iter().map(Observation::input_form).collect();
        let mut doc = serde_json::Map::new();
        doc.insert("council".into(), serde_json::json!(self.council));
        doc.insert("observations".into(), serde_json::Value::Array(observations));
        if let Some(t) = &self.title {
            doc.insert("title".into(), serde_json::json!(t));
        }
        if let Some(d) = self.as_of {
            doc.insert(
                "as_of".into(),
                serde_json::json!(d.format("%Y-%m-%d").to_string()),
            );
        }
        serde_json::Value::Object(doc)
    }

    /// The SHA-256 of the canonical document: `canonical::digest(&evidence.canonical())`,
    /// computed one observation at a time, so it never holds the whole document as a tree (for
    /// a million observations that tree, and its text, took gigabytes).
    pub fn digest(&self) -> String {
        crate::canonical::digest_of(&CanonicalDocument(self))
    }

    /// The evidence as it was known on `known_at`: observations recorded later (an observation
    /// with no `recorded` date was known on the day it describes) are left out, and listed.
    pub fn known_at(&self, known_at: NaiveDate) -> (Evidence, Vec<String>) {
        let (kept, hidden): (Vec<&Observation>, Vec<&Observation>) = self
            .observations
            .iter()
            .partition(|o| o.recorded.unwrap_or(o.date) <= known_at);
        let evidence = Evidence {
            council: self.council.clone(),
            as_of: self.as_of,
            title: self.title.clone(),
            observations: kept.into_iter().cloned().collect(),
        };
        let mut hidden: Vec<String> = hidden.into_iter().map(|o| o.id.clone()).collect();
        hidden.sort();
        (evidence, hidden)
    }

    /// The evidence without observations of the given bases (an auditor's "does this verdict
    /// stand without reconstructions?"), and the ids left out.
    pub fn without_basis(&self, excluded: &[Basis]) -> (Evidence, Vec<String>) {
        let (kept, left_out): (Vec<&Observation>, Vec<&Observation>) = self
            .observations
            .iter()
            .partition(|o| !excluded.contains(&o.basis));
        let evidence = Evidence {
            council: self.council.clone(),
            as_of: self.as_of,
            title: self.title.clone(),
            observations: kept.into_iter().cloned().collect(),
        };
        let mut left_out: Vec<String> = left_out.into_iter().map(|o| o.id.clone()).collect();
        left_out.sort();
        (evidence, left_out)
    }

    /// The latest observation date in the document, the default as-of date when neither the
    /// caller nor the document gives one.
    pub fn latest_date(&self) -> Option<NaiveDate> {
        self.observations.iter().map(|o| o.date).max()
    }

    /// Builds a document from observations already checked against `pack` (e.g. by a scenario
    /// editor), sorting them into canonical order.
    pub(crate) fn from_parts(
        council: String,
        as_of: Option<NaiveDate>,
        title: Option<String>,
        mut observations: Vec<Observation>,
    ) -> Evidence {
        sort_observations(&mut observations);
        Evidence {
            council,
            as_of,
            title,
            observations,
        }
    }
}

impl Observation {
    /// The observation as an evidence file writes it.
    fn input_form(&self) -> serde_json::Value {
        let day = |d: NaiveDate| serde_json::json!(d.format("%Y-%m-%d").to_string());
        let mut o = serde_json::Map::new();
        o.insert("id".into(), serde_json::json!(self.id));
        o.insert("key".into(), serde_json::json!(self.key));
        o.insert("basis".into(), serde_json::json!(self.basis.word()));
        o.insert(
            "value".into(),
            serde_json::to_value(&self.value).unwrap_or_default(),
        );
        o.insert(
            "source".into(),
            serde_json::json!({ "document": self.source.document, "passage": self.source.passage }),
        );
        match self.period_from {
            Some(from) => o.insert(
                "period".into(),
                serde_json::json!({ "from": day(from), "to": day(self.date) }),
            ),
            None => o.insert("date".into(), day(self.date)),
        };
        let optional = [
            ("function", self.function.as_ref().map(|f| serde_json::json!(f))),
            ("recorded", self.recorded.map(day)),
            ("judged_by", self.judged_by.as_ref().map(|j| serde_json::json!(j))),
            ("role", self.role.as_ref().map(|r| serde_json::json!(r))),
            ("note", self.note.as_ref().map(|n| serde_json::json!(n))),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                o.insert(k.into(), v);
            }
        }
        serde_json::Value::Object(o)
    }
}

/// The judgements in an evidence file that their key will not count (judged in a role the key
/// does not accept, or in no stated role where it restricts roles), as warnings located at the
/// role or the observation. The file is valid and loads; these observations are skipped as if
/// absent, which a person entering them should hear before the verdicts quietly ignore them.
pub fn refused_judgements(pack: &Pack, file: &SourceFile) -> Vec<Diagnostic> {
    let place = Decoder::new(&file.label);
    let mut warnings = Vec::new();
    // Each observation is looked at as the reader reaches it, never the whole tree at once.
    let mut look = |item: crate::json::Json, i: usize, _read: usize| {
        let Some((key, _)) = crate::diagnostic::member_string(&item, "key") else {
            return;
        };
        let Some(k) = pack.key(&key) else { return };
        let role = crate::diagnostic::member_string(&item, "role");
        if k.accepts_role(role.as_ref().map(|(r, _)| r.as_str())) {
            return;
        }
        let id = crate::diagnostic::member_string(&item, "id")
            .map(|(id, _)| id)
            .unwrap_or_default();
        let accepted = crate::diagnostic::ticked(&k.judged_by_roles, " or ");
        let (pos, path, whose) = match role {
            Some((r, pos)) => (
                pos,
                format!("$.observations[{i}].role"),
                format!("was judged by `{r}`"),
            ),
            None => (
                item.pos,
                format!("$.observations[{i}]"),
                "states no `role`".to_string(),
            ),
        };
        warnings.push(located(
            &place,
            pos,
            &path,
            format!("warning: observation `{id}` of `{key}` {whose}, and this key counts only judgements by {accepted}; it is skipped as if absent"),
        ));
    };
    let mut d = Decoder::new(&file.label);
    match d.parse_streaming(&file.text, "observations", &mut look) {
        Some(_) => warnings,
        None => Vec::new(),
    }
}

/// INVARIANT: observations are kept in this order, so evaluation and output never depend on the
/// order of the input file.
pub(crate) fn sort_observations(observations: &mut [Observation]) {
    observations.sort_unstable_by(|a, b| {
        (a.key_index, &a.function, a.date, a.recorded, &a.id).cmp(&(
            b.key_index,
            &b.function,
            b.date,
            b.recorded,
            &b.id,
        ))
    });
}

/// Why an observation of `key` cannot name (or leave out) `function`, or `None` if it fits. An
/// observation of a per-function key with no function is read only by rules that fall back to
/// council-wide evidence (`fallback_to_council`); without such a rule it would be loaded and then
/// never read, so it is refused with the functions it could be for.
pub(crate) fn function_problem(pack: &Pack, key: &Key, function: Option<&str>) -> Option<String> {
    match (key.scope, function) {
        (Scope::Council, Some(_)) => Some(format!(
            "key `{}` is council-wide; it takes no `function`",
            key.key
        )),
        (Scope::Function, Some(f)) if !pack.functions().iter().any(|x| x.id == f) => {
            let ids: Vec<&str> = pack.functions().iter().map(|x| x.id.as_str()).collect();
            let hint = crate::diagnostic::did_you_mean(f, &ids);
            Some(format!("unknown function `{f}`{hint}"))
        }
        (Scope::Function, None) if !pack.falls_back_to_council(&key.key) => {
            let ids: Vec<&str> = pack.functions().iter().map(|x| x.id.as_str()).collect();
            Some(format!(
                "key `{}` is recorded per function, and no rule reads it council-wide; say which function in `function`: one of {}",
                key.key,
                crate::diagnostic::ticked(&ids, ", ")
            ))
        }
        _ => None,
    }
}

/// What an observation claims: key (by index), function, day described and day recorded.
type Fact<'a> = (usize, Option<&'a str>, NaiveDate, Option<NaiveDate>);

fn load(
    pack: &Pack,
    file: &SourceFile,
    limits: crate::diagnostic::Limits,
    scenario: bool,
) -> Result<Evidence, LoadError> {
    let mut lead = None;
    // The observations are decoded as the reader reaches each one, and each one's tree dropped:
    // the document is never held whole as a tree (for a large file that tree was four times the
    // size of the text). The result is the same as decoding the whole tree: what is decoded
    // before a syntax error is discarded, and diagnostics are sorted when the decoder finishes.
    let mut streamed = Streamed::new(&file.label, limits, scenario);
    let mut d = Decoder::with_limits(&file.label, limits);
    let length = file.text.len();
    let json = d.parse_streaming(&file.text, "observations", &mut |json, i, read| {
        streamed.make_room(length, read);
        streamed.take(pack, json, i)
    });
    let evidence = json.and_then(|json| {
        decode_evidence(
            &mut d,
            At {
                json: &json,
                path: "$",
            },
            pack,
            streamed,
            &mut lead,
        )
    });
    let diagnostics = d.finish();
    match evidence {
        Some(e) if diagnostics.is_empty() => Ok(e),
        _ => {
            let mut error = LoadError::new(diagnostics);
            // The wrong-pack diagnostic explains the ones after it, so it comes first whatever
            // its position would sort as.
            if let Some(lead) = lead {
                error.diagnostics.0.insert(0, lead);
            }
            Err(error)
        }
    }
}

/// The observations as the reader hands them over, decoded one at a time.
struct Streamed {
    /// The decoder of the observations' own problems, merged into the document's at the end.
    decoder: Decoder,
    scenario: bool,
    /// How many observations the file holds (those over the limit are counted, not decoded).
    count: usize,
    unknown: Vec<UnknownKey>,
    /// Each decoded observation, in file order.
    observations: Vec<Observation>,
    /// Where each of `observations` was: its position and index in the array. Kept apart so
    /// the observations become the evidence without being copied into a new list.
    places: Vec<(crate::json::Pos, usize)>,
    conflicts: Vec<Diagnostic>,
    // Duplicate ids are found on the raw ids, so an observation with other problems still
    // counts: fixing those must not reveal a new error. A hash map: it is only ever looked up,
    // never iterated, so its order cannot reach any output, and with 210,000 ids the ordered
    // map's string comparisons were a tenth of loading the file.
    // Boxed ids: a third smaller than `String`s, at 210,000 ids a few megabytes of the load's
    // peak.
    by_id: std::collections::HashMap<Box<str>, crate::json::Pos>,
}

impl Streamed {
    /// Foresees how many observations the rest of the text holds, from how many the part read
    /// so far held, when the list is full: grown by doubling, the list was copied at each step,
    /// and the last copy held both lists at a large file's peak. A little more than foreseen is
    /// asked for (the rest of the file may be denser), and only asked for: where it cannot be
    /// had, the list grows as it would.
    fn make_room(&mut self, length: usize, read: usize) {
        let have = self.observations.len();
        if have < 1024 || have < self.observations.capacity() || read == 0 {
            return;
        }
        let foreseen = (have as f64 * length as f64 / read as f64 * 1.125) as usize;
        let wanted = foreseen
            .min(self.decoder.limits.max_observations)
            .max(have + 1024);
        if self.observations.try_reserve_exact(wanted - have).is_ok() {
            let _ = self
                .places
                .try_reserve_exact(wanted.saturating_sub(self.places.len()));
        }
    }

    fn new(file: &str, limits: crate::diagnostic::Limits, scenario: bool) -> Self {
        Streamed {
            decoder: Decoder::with_limits(file, limits),
            scenario,
            count: 0,
            unknown: Vec::new(),
            observations: Vec::new(),
            places: Vec::new(),
            conflicts: Vec::new(),
            by_id: Default::default(),
        }
    }

    fn take(&mut self, pack: &Pack, json: crate::json::Json, i: usize) {
        self.count += 1;
        if self.count > self.decoder.limits.max_observations {
            // The whole document is refused for its size; decoding more would only hold memory.
            return;
        }
        let path = observation_path(i);
        let d = &mut self.decoder;
        if let Some((id, id_pos)) = crate::diagnostic::member_string(&json, "id") {
            if !self.scenario && id.starts_with(crate::whatif::SCENARIO_ID_PREFIX) {
                self.conflicts.push(located(
                    d,
                    id_pos,
                    &format!("{path}.id"),
                    format!(
                        "observation ids beginning `{}` are reserved for the observations a scenario sets; rename `{id}`",
                        crate::whatif::SCENARIO_ID_PREFIX
                    ),
                ));
            }
            match self.by_id.get(id.as_str()) {
                Some(first) => self.conflicts.push(located(
                    d,
                    id_pos,
                    &format!("{path}.id"),
                    format!("duplicate observation id `{id}` (first at {first})"),
                )),
                None => {
                    self.by_id.insert(id.into_boxed_str(), id_pos);
                }
            }
        }
        let at = At {
            json: &json,
            path: &path,
        };
        if let Some(o) = decode_observation(d, at, pack, &mut self.unknown) {
            self.observations.push(o);
            self.places.push((json.pos, i));
        }
    }
}

/// The path of the observation at `index`, as the decoder writes paths.
fn observation_path(index: usize) -> String {
    format!("$.observations[{index}]")
}

/// How many unknown-key errors are still listed once the evidence looks written for another
/// pack: enough to show the pattern, few enough that other problems are not buried.
const UNKNOWN_KEYS_LISTED: usize = 3;

/// The fewest unknown keys that can make evidence look written for another pack: one or two
/// are typos, listed one by one, whatever the size of the document.
const FOREIGN_AT_LEAST: usize = 3;

/// An observation whose key the pack does not declare, and the error that says so.
struct UnknownKey {
    key: String,
    /// Where the key was written.
    pos: crate::json::Pos,
    path: String,
}

impl UnknownKey {
    /// The error for the key, with the nearest key the pack declares. Made only for the errors
    /// reported: evidence written for another pack may hold thousands of unknown keys, and
    /// finding the nearest for each (an edit distance to every key of the pack) was most of the
    /// time spent refusing it.
    fn diagnostic(self, d: &Decoder, pack: &Pack) -> Diagnostic {
        let names: Vec<&str> = pack.keys.iter().map(|k| k.key.as_str()).collect();
        let hint = crate::diagnostic::did_you_mean(&self.key, &names);
        located(
            d,
            self.pos,
            &self.path,
            format!(
                "unknown evidence key `{}`{hint}; `handback evidence template` lists the keys this pack reads",
                self.key
            ),
        )
    }
}

/// Reports the unknown keys. Evidence written for another pack (at least three observations,
/// and more than half of them, with keys this pack does not declare) would otherwise bury the
/// user in one error per observation when the one fix is `--pack`; so it gets a single `lead`
/// saying that, and only the first few unknown-key errors with a count of the rest. Problems of
/// other kinds are untouched: they are still problems under the right pack.
fn report_unknown_keys(
    d: &mut Decoder,
    at: At<'_, '_>,
    pack: &Pack,
    observations: usize,
    unknown: Vec<UnknownKey>,
    lead: &mut Option<Diagnostic>,
) {
    let foreign = unknown.len() >= FOREIGN_AT_LEAST && unknown.len() * 2 > observations;
    if !foreign {
        let reported: Vec<Diagnostic> = unknown.into_iter().map(|u| u.diagnostic(d, pack)).collect();
        d.diagnostics.extend(reported);
        return;
    }
    let mut examples: Vec<&str> = Vec::new();
    for u in &unknown {
        if examples.len() < UNKNOWN_KEYS_LISTED && !examples.contains(&u.key.as_str()) {
            examples.push(&u.key);
        }
    }
    let manifest = pack.manifest();
    *lead = Some(located(
        d,
        at.json.pos,
        at.path,
        format!(
            "this evidence does not look like it belongs to pack `{}` {}: {} of {observations} observations use keys it does not declare (e.g. {}); give the pack it was written for with `--pack DIR`",
            manifest.id,
            manifest.version,
            unknown.len(),
            crate::diagnostic::ticked(&examples, ", ")
        ),
    ));
    let rest = unknown.len().saturating_sub(UNKNOWN_KEYS_LISTED);
    let mut unknown = unknown.into_iter();
    let listed: Vec<Diagnostic> = unknown
        .by_ref()
        .take(UNKNOWN_KEYS_LISTED)
        .map(|u| u.diagnostic(d, pack))
        .collect();
    d.diagnostics.extend(listed);
    if let Some(first_unlisted) = unknown.next() {
        d.diagnostics.push(located(
            d,
            first_unlisted.pos,
            &first_unlisted.path,
            format!("… and {rest} more unknown keys, from this observation on"),
        ));
    }
}

fn decode_evidence(
    d: &mut Decoder,
    at: At<'_, '_>,
    pack: &Pack,
    streamed: Streamed,
    lead: &mut Option<Diagnostic>,
) -> Option<Evidence> {
    let obj = d.object(at, &["council", "title", "as_of", "observations"])?;
    let council = required(d, &obj, "council", |d, at| d.text(at));
    let title = optional(d, &obj, "title", |d, at| d.text(at));
    let as_of = optional(d, &obj, "as_of", |d, at| d.date(at));
    // INVARIANT: an array here was streamed (its elements are in `streamed`), so it is empty.
    required(d, &obj, "observations", |d, at| d.array(at))?;
    if streamed.count > d.limits.max_observations {
        let (n, max) = (streamed.count, d.limits.max_observations);
        d.report(
            obj.pos,
            "$.observations",
            format!("{n} observations; the limit is {max} (raise it with `--max-observations`)"),
        );
        return None;
    }
    let Streamed {
        decoder,
        count,
        unknown,
        observations,
        places,
        mut conflicts,
        by_id,
        ..
    } = streamed;
    // Freed before the conflicts are found, so the two never share the load's peak.
    drop(by_id);
    d.diagnostics.extend(decoder.diagnostics);
    report_unknown_keys(d, at, pack, count, unknown, lead);
    // Conflicting observations of the same thing on the same day: the observations ordered by
    // what they record, then by place in the file, so each one's conflict is with the first of
    // its run. An order of indices, not a map of facts: at 210,000 observations a map took
    // fourteen megabytes at the load's peak. (The decoder sorts its diagnostics when it
    // finishes, so the order they are found in is never seen.)
    fn fact(o: &Observation) -> Fact<'_> {
        (o.key_index, o.function.as_deref(), o.date, o.recorded)
    }
    let mut order: Vec<usize> = (0..observations.len()).collect();
    order.sort_unstable_by(|&a, &b| match (observations.get(a), observations.get(b)) {
        (Some(x), Some(y)) => fact(x).cmp(&fact(y)).then(a.cmp(&b)),
        _ => a.cmp(&b),
    });
    let mut first: Option<&Observation> = None;
    for &i in &order {
        let (Some(o), Some((pos, index))) = (observations.get(i), places.get(i)) else {
            continue;
        };
        match first {
            Some(other) if fact(other) == fact(o) => conflicts.push(located(
                d,
                *pos,
                &observation_path(*index),
                format!(
                    "observation `{}` and observation `{}` both record `{}`{} on {}; keep one, or give the later correction its own `recorded` date",
                    o.id,
                    other.id,
                    o.key,
                    o.function.as_deref().map(|f| format!(" for `{f}`")).unwrap_or_default(),
                    o.date
                ),
            )),
            _ => first = Some(o),
        }
    }
    drop(order);
    d.diagnostics.extend(conflicts);
    Some(Evidence::from_parts(council?, as_of, title, observations))
}

fn located(d: &Decoder, pos: crate::json::Pos, path: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: d.file.clone(),
        line: pos.line,
        column: pos.column,
        path: path.to_string(),
        message,
    }
}

/// Decodes one observation; an unknown key is not reported here but added to `unknown`, which
/// [`report_unknown_keys`] reports once the whole document has been seen.
fn decode_observation(
    d: &mut Decoder,
    at: At<'_, '_>,
    pack: &Pack,
    unknown: &mut Vec<UnknownKey>,
) -> Option<Observation> {
    let obj = d.object(at, OBSERVATION_FIELDS)?;
    let id = required(d, &obj, "id", |d, at| d.id(at));
    let key = required(d, &obj, "key", |d, at| {
        let name = d.string(at)?;
        match pack.key_index(&name) {
            Some(i) => {
                if let Some(formula) = pack.keys.get(i).and_then(|k| k.derived.as_ref()) {
                    d.error(
                        at,
                        format!(
                            "key `{name}` is derived ({}): the pack computes it, so record its inputs {} instead",
                            formula.named(),
                            crate::diagnostic::ticked(&formula.inputs(), " and ")
                        ),
                    );
                    return None;
                }
                Some((name, i))
            }
            None => {
                unknown.push(UnknownKey {
                    key: name,
                    pos: at.json.pos,
                    path: at.path.to_string(),
                });
                None
            }
        }
    });
    let key_def = key.as_ref().and_then(|(_, i)| pack.keys.get(*i));
    let function = optional(d, &obj, "function", |d, at| {
        let f = d.id(at)?;
        if !pack.functions.iter().any(|x| x.id == f) {
            let ids: Vec<&str> = pack.functions.iter().map(|x| x.id.as_str()).collect();
            let hint = crate::diagnostic::did_you_mean(&f, &ids);
            d.error(at, format!("unknown function `{f}`{hint}"));
            return None;
        }
        if let Some(problem) = key_def.and_then(|k| function_problem(pack, k, Some(&f))) {
            d.error(at, problem);
            return None;
        }
        Some(f)
    });
    if !obj.has("function") {
        if let Some(problem) = key_def.and_then(|k| function_problem(pack, k, None)) {
            d.error(at, problem);
        }
    }
    let value = match key_def {
        Some(k) => required(d, &obj, "value", |d, at| {
            decode_value(d, at, &k.value_type, &pack.scales)
        }),
        None => None,
    };
    let date = optional(d, &obj, "date", |d, at| d.date(at));
    let period = optional(d, &obj, "period", |d, at| {
        let o = d.object(at, &["from", "to"])?;
        let from = required(d, &o, "from", |d, at| d.date(at))?;
        let to = required(d, &o, "to", |d, at| d.date(at))?;
        if from > to {
            d.error(
                at,
                format!("the period runs backwards: `from` {from} is after `to` {to}"),
            );
            return None;
        }
        Some((from, to))
    });
    let (date, period_from) = match (date, period, obj.has("date"), obj.has("period")) {
        (Some(date), None, _, false) => (Some(date), None),
        (None, Some((from, to)), false, _) => (Some(to), Some(from)),
        (_, _, true, true) => {
            d.error(at, "give either `date` or `period`, not both".into());
            (None, None)
        }
        (_, _, false, false) => {
            d.error(
                at,
                "an observation needs a `date` (or a `period` with `from` and `to`)".into(),
            );
            (None, None)
        }
        _ => (None, None),
    };
    let recorded = optional(d, &obj, "recorded", |d, at| d.date(at));
    if let (Some(date), Some(recorded)) = (date, recorded) {
        if recorded < date {
            if let Some((json, path)) = obj.get("recorded") {
                d.error(
                    At { json, path: &path },
                    format!("recorded on {recorded}, before the day it describes ({date})"),
                );
            }
        }
    }
    let source = required(d, &obj, "source", |d, at| {
        let o = d.object(at, &["document", "passage"])?;
        let document = required(d, &o, "document", |d, at| d.text(at));
        let passage = required(d, &o, "passage", |d, at| d.text(at));
        Some(Source {
            document: document?,
            passage: passage?,
        })
    });
    let judged_by = optional(d, &obj, "judged_by", |d, at| d.text(at));
    if let Some(k) = key_def {
        if k.judgement && judged_by.is_none() {
            d.error(
                at,
                format!(
                    "key `{}` records a judgement; say who made it in `judged_by`",
                    k.key
                ),
            );
        }
    }
    let role = optional(d, &obj, "role", |d, at| d.id(at));
    if role.is_some() && judged_by.is_none() {
        d.error(
            at,
            "a `role` says in what capacity `judged_by` judged; say who in `judged_by`".into(),
        );
    }
    let note = optional(d, &obj, "note", |d, at| d.text(at));
    let stated = optional(d, &obj, "basis", |d, at| {
        let word = d.string(at)?;
        let found = Basis::from_word(&word);
        if found.is_none() {
            let words: Vec<&str> = Basis::ALL.iter().map(|b| b.word()).collect();
            let hint = crate::diagnostic::did_you_mean(&word, &words);
            d.error(
                at,
                format!(
                    "unknown basis `{word}`{hint}; expected one of {}",
                    crate::diagnostic::ticked(&words, ", ")
                ),
            );
        }
        found
    });
    // Absent: a judgement when someone is named as judging, otherwise the file does not say.
    let basis = match (stated, obj.has("basis")) {
        (Some(b), _) => Some(b),
        (None, true) => None,
        (None, false) if judged_by.is_some() => Some(Basis::Judgement),
        (None, false) => Some(Basis::Unstated),
    };
    match basis {
        Some(Basis::Judgement) if judged_by.is_none() => {
            d.error(at, "a judgement says who made it in `judged_by`".into())
        }
        Some(Basis::Reconstructed) if note.is_none() => d.error(
            at,
            "a reconstructed observation says why, and from what, in `note`".into(),
        ),
        _ => {}
    }
    let (key, key_index) = key?;
    Some(Observation {
        id: id?,
        key,
        function,
        value: value?,
        date: date?,
        period_from,
        recorded,
        basis: basis?,
        source: source?,
        judged_by,
        role,
        note,
        key_index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed digest is the digest of the canonical document, byte for byte: with and
    /// without a title and an as-of date, with no observations, and over every Rotherham record.
    #[test]
    fn the_streamed_digest_is_the_canonical_documents() {
        let pack = crate::default_pack().unwrap();
        let mut texts: Vec<String> = vec![
            r#"{"council": "R", "observations": []}"#.into(),
            r#"{"council": "R", "title": "t", "as_of": "2016-01-01", "observations": []}"#.into(),
            document(3, 0, true).text,
        ];
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/rotherham");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains("\"observations\"") {
                texts.push(text);
            }
        }
        let mut loaded = 0;
        for text in texts {
            let file = SourceFile {
                name: "e.json".into(),
                label: "e.json".into(),
                text,
            };
            if let Ok(e) = Evidence::load(&pack, &file) {
                assert_eq!(e.digest(), crate::canonical::digest(&e.canonical()));
                loaded += 1;
            }
        }
        assert!(loaded >= 6, "only {loaded} documents loaded");
    }

    /// Each observation recording what an earlier one in the file records (key, function, day
    /// and recorded day) is reported once, against the first in the file, whatever the ids'
    /// order; the same fact for another function or recorded on another day is no conflict.
    #[test]
    fn conflicts_are_with_the_first_in_the_file() {
        let pack = crate::default_pack().unwrap();
        let source = r#""source": {"document": "d", "passage": "p"}"#;
        let row = |id: &str, rest: &str| {
            format!(
                r#"{{"id": "{id}", "key": "children.mtfs_adopted", "value": true, "date": "2016-08-11", {rest}{source}}}"#
            )
        };
        let items = [
            row("z", ""),
            row("m", r#""recorded": "2016-09-01", "#),
            row("a", ""),
            row("y", r#""recorded": "2016-09-01", "#),
            row("b", ""),
        ];
        let file = SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: format!(
                "{{\"council\": \"R\", \"observations\": [\n{}\n]}}",
                items.join(",\n")
            ),
        };
        let error = Evidence::load(&pack, &file).unwrap_err();
        let got: Vec<(String, String)> = error
            .diagnostics
            .0
            .into_iter()
            .map(|d| (d.path, d.message.split(';').next().unwrap_or("").to_string()))
            .collect();
        let conflict = |path: &str, id: &str, other: &str| {
            (
                path.to_string(),
                format!("observation `{id}` and observation `{other}` both record `children.mtfs_adopted` on 2016-08-11"),
            )
        };
        assert_eq!(
            got,
            vec![
                conflict("$.observations[2]", "a", "z"),
                conflict("$.observations[3]", "y", "m"),
                conflict("$.observations[4]", "b", "z"),
            ]
        );
    }

    /// A document with `known` valid Rotherham observations and `foreign` ones whose keys the
    /// pack does not declare, interleaved known first.
    fn document(known: usize, foreign: usize, council: bool) -> SourceFile {
        let source = r#""source": {"document": "d", "passage": "p"}"#;
        let mut items = Vec::new();
        for i in 0..known {
            items.push(format!(
                r#"{{"id": "k{i}", "key": "children.agency_share", "value": 0.2, "date": "2016-01-{:02}", {source}}}"#,
                i + 1
            ));
        }
        for i in 0..foreign {
            items.push(format!(
                r#"{{"id": "f{i}", "key": "other.key_{i}", "value": 1, "date": "2016-01-01", {source}}}"#
            ));
        }
        let council = if council { r#""council": "R", "# } else { "" };
        SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: format!("{{{council}\"observations\": [\n{}\n]}}", items.join(",\n")),
        }
    }

    fn messages(known: usize, foreign: usize, council: bool) -> Vec<String> {
        let pack = crate::default_pack().unwrap();
        let error = Evidence::load(&pack, &document(known, foreign, council)).unwrap_err();
        error.diagnostics.0.into_iter().map(|d| d.message).collect()
    }

    fn looks_foreign(messages: &[String]) -> bool {
        messages
            .first()
            .is_some_and(|m| m.starts_with("this evidence does not look like it belongs to pack `rotherham`"))
    }

    /// A few typos in evidence that is otherwise the pack's own are listed one by one: the
    /// wrong-pack explanation would mislead.
    #[test]
    fn a_few_unknown_keys_are_each_reported() {
        let two_of_two = messages(0, 2, true);
        assert!(!looks_foreign(&two_of_two), "{two_of_two:?}");
        assert_eq!(two_of_two.len(), 2);
        let half = messages(3, 3, true);
        assert!(!looks_foreign(&half), "{half:?}");
        assert_eq!(half.len(), 3);
    }

    /// Most keys unknown: one explanation first, three examples, and a count of the rest.
    #[test]
    fn mostly_unknown_keys_are_explained_once() {
        let three_of_five = messages(2, 3, true);
        assert_eq!(
            three_of_five[0],
            "this evidence does not look like it belongs to pack `rotherham` 0.1.0: 3 of 5 observations use keys it does not declare (e.g. `other.key_0`, `other.key_1`, `other.key_2`); give the pack it was written for with `--pack DIR`"
        );
        assert_eq!(three_of_five.len(), 4, "{three_of_five:?}");
        let many = messages(1, 40, true);
        assert!(looks_foreign(&many), "{many:?}");
        assert_eq!(
            many.iter()
                .filter(|m| m.starts_with("unknown evidence key"))
                .count(),
            3
        );
        assert_eq!(
            many.last().map(String::as_str),
            Some("… and 37 more unknown keys, from this observation on")
        );
    }

    /// The explanation leads even when another problem is located at the same place (a missing
    /// field is reported at the document itself), and that problem is still listed.
    #[test]
    fn the_explanation_leads_every_other_problem() {
        let m = messages(0, 5, false);
        assert!(looks_foreign(&m), "{m:?}");
        assert!(
            m.contains(&"missing required field `council`".to_string()),
            "{m:?}"
        );
    }
}

/// An observation for evidence built in code, before it is checked.
///
/// A draft is written as the evidence file writes an observation, and [`EvidenceBuilder::build`]
/// puts it through the same loader, so evidence made in code passes exactly the checks a file
/// does, and a problem is located by the draft's place (`$.observations[N]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObservationDraft {
    fields: serde_json::Map<String, serde_json::Value>,
}

impl ObservationDraft {
    /// An observation of `key` with `value` (as the file writes it: `true`, `0.2`, `"good"`,
    /// `"25%"` for a share) on `date`, cited to a document and passage.
    pub fn new(
        id: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
        date: NaiveDate,
        document: impl Into<String>,
        passage: impl Into<String>,
    ) -> Self {
        let mut fields = serde_json::Map::new();
        fields.insert("id".into(), serde_json::Value::String(id.into()));
        fields.insert("key".into(), serde_json::Value::String(key.into()));
        fields.insert("value".into(), value.into());
        fields.insert("date".into(), serde_json::Value::String(date.to_string()));
        fields.insert(
            "source".into(),
            serde_json::json!({ "document": document.into(), "passage": passage.into() }),
        );
        ObservationDraft { fields }
    }

    fn with(mut self, name: &str, value: serde_json::Value) -> Self {
        self.fields.insert(name.into(), value);
        self
    }

    /// The function it is about, for a key recorded per function.
    pub fn function(self, function: impl Into<String>) -> Self {
        self.with("function", serde_json::Value::String(function.into()))
    }

    /// The period it covers, instead of one day: its date becomes the period's last day.
    pub fn period(mut self, from: NaiveDate, to: NaiveDate) -> Self {
        self.fields.remove("date");
        self.with(
            "period",
            serde_json::json!({ "from": from.to_string(), "to": to.to_string() }),
        )
    }

    /// The day it was recorded, when that is after the day it describes.
    pub fn recorded(self, day: NaiveDate) -> Self {
        self.with("recorded", serde_json::Value::String(day.to_string()))
    }

    /// What it rests on.
    pub fn basis(self, basis: Basis) -> Self {
        self.with("basis", serde_json::Value::String(basis.word().into()))
    }

    /// Who judged it, for a judgement.
    pub fn judged_by(self, who: impl Into<String>) -> Self {
        self.with("judged_by", serde_json::Value::String(who.into()))
    }

    /// The role in which they judged.
    pub fn role(self, role: impl Into<String>) -> Self {
        self.with("role", serde_json::Value::String(role.into()))
    }

    /// A note (required for a reconstruction: why, and from what).
    pub fn note(self, note: impl Into<String>) -> Self {
        self.with("note", serde_json::Value::String(note.into()))
    }
}

/// Evidence built in code, checked as a file is.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::{EvidenceBuilder, ObservationDraft};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", true, day, "Council minutes", "item 4"))
///     .build(&pack)?;
/// assert_eq!(evidence.observations().len(), 1);
///
/// // A value of the wrong type is refused where it was written, as the loader refuses it.
/// let wrong = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", "perhaps", day, "Minutes", "item 4"))
///     .build(&pack)
///     .unwrap_err();
/// assert_eq!(wrong.diagnostics.0[0].path, "$.observations[0].value");
/// # Ok::<(), handback::LoadError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvidenceBuilder {
    council: String,
    as_of: Option<NaiveDate>,
    title: Option<String>,
    observations: Vec<ObservationDraft>,
}

impl EvidenceBuilder {
    /// Evidence about a council, with no observations yet.
    pub fn new(council: impl Into<String>) -> Self {
        EvidenceBuilder {
            council: council.into(),
            ..Default::default()
        }
    }

    /// The as-of date the evidence suggests.
    pub fn as_of(mut self, day: NaiveDate) -> Self {
        self.as_of = Some(day);
        self
    }

    /// What the evidence is.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Adds an observation.
    pub fn observe(mut self, draft: ObservationDraft) -> Self {
        self.observations.push(draft);
        self
    }

    /// Checks every observation against the pack, as [`Evidence::load`] checks a file, and
    /// reports every problem at once.
    pub fn build(&self, pack: &Pack) -> Result<Evidence, LoadError> {
        self.build_with_limits(pack, crate::diagnostic::Limits::default())
    }

    /// As [`EvidenceBuilder::build`], within the given limits.
    pub fn build_with_limits(
        &self,
        pack: &Pack,
        limits: crate::diagnostic::Limits,
    ) -> Result<Evidence, LoadError> {
        let mut document = serde_json::Map::new();
        document.insert("council".into(), serde_json::Value::String(self.council.clone()));
        if let Some(d) = self.as_of {
            document.insert("as_of".into(), serde_json::Value::String(d.to_string()));
        }
        if let Some(t) = &self.title {
            document.insert("title".into(), serde_json::Value::String(t.clone()));
        }
        document.insert(
            "observations".into(),
            serde_json::Value::Array(
                self.observations
                    .iter()
                    .map(|o| serde_json::Value::Object(o.fields.clone()))
                    .collect(),
            ),
        );
        let text = serde_json::to_string_pretty(&document).unwrap_or_default();
        Evidence::load_with_limits(
            pack,
            &SourceFile {
                name: "evidence.json".into(),
                label: "<evidence built in code>".into(),
                text,
            },
            limits,
        )
    }
}

/// The canonical document ([`Evidence::canonical`]) as a serialisation, built one observation at
/// a time; its keys are written in sorted order, as the canonical form sorts them.
struct CanonicalDocument<'a>(&'a Evidence);

impl Serialize for CanonicalDocument<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Observations<'a>(&'a [Observation]);
        impl Serialize for Observations<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut by_id: Vec<&Observation> = self.0.iter().collect();
                by_id.sort_by(|a, b| a.id.cmp(&b.id));
                let mut out = s.serialize_seq(Some(by_id.len()))?;
                for o in by_id {
                    out.serialize_element(&crate::canonical::Sorted(&o.input_form()))?;
                }
                out.end()
            }
        }
        let e = self.0;
        // INVARIANT: in sorted order, as `Evidence::canonical` is written out.
        let mut out = s.serialize_map(None)?;
        if let Some(d) = e.as_of {
            out.serialize_entry("as_of", &d.format("%Y-%m-%d").to_string())?;
        }
        out.serialize_entry("council", &e.council)?;
        out.serialize_entry("observations", &Observations(&e.observations))?;
        if let Some(t) = &e.title {
            out.serialize_entry("title", t)?;
        }
        out.end()
    }
}
