//! What-if: scenarios of changed evidence, and explained differences between assessments.
//!
//! A scenario is an ordered list of changes to a base evidence document (set an observation,
//! remove one, override a parameter, move the as-of date). Changes are applied to the document
//! itself and the result is loaded like any evidence, so a scenario's values are checked exactly
//! as evidence is, with located errors. Two assessments (base and scenario, two dates, two pack
//! versions) are then compared: which outcomes changed, and for each, what caused it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::assess::{Assessment, RuleResult};
use crate::diagnostic::{optional, required, At, Decoder};
use crate::evidence::Evidence;
use crate::pack::{LoadError, Pack, SourceFile};
use crate::plan::Plan;

/// One change a scenario makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Record an observation (superseding any of the same key and function on that day).
    Set {
        /// The evidence key.
        key: String,
        /// The function, for function-scoped keys.
        #[serde(skip_serializing_if = "Option::is_none")]
        function: Option<String>,
        /// The value, as JSON.
        value: J,
        /// The day it describes (default: the as-of date).
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<NaiveDate>,
    },
    /// Remove an observation by id.
    Remove(String),
    /// Override a parameter (value as JSON).
    Param {
        /// The parameter.
        name: String,
        /// Its value.
        value: J,
    },
    /// Move the as-of date.
    AsOf(NaiveDate),
}

/// A scenario file: a title, what it extends, the base evidence it names, and its changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scenario {
    /// What the scenario asks.
    pub title: String,
    /// Another scenario file it builds on (a path relative to this one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// The base evidence file (a path relative to this one), if the scenario names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The changes, applied in order.
    pub changes: Vec<Change>,
    /// Where each change is written in the scenario file, so a problem with it is reported
    /// there rather than in the merged document the user never saw.
    #[serde(skip)]
    pub places: Vec<Place>,
}

/// Where a change was written: a scenario file's line, column and JSON path, or a flag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    /// The file as the caller named it, or the flag and its value (`--set k=v`).
    pub file: String,
    /// 1-based line (1 for a flag).
    pub line: u32,
    /// 1-based column (1 for a flag).
    pub column: u32,
    /// JSON path of the change in its file (`$` for a flag).
    pub path: String,
}

impl Place {
    fn diagnostic(&self, message: String) -> crate::diagnostic::Diagnostic {
        crate::diagnostic::Diagnostic {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            path: self.path.clone(),
            message,
        }
    }
}

/// The prefix of the ids of observations a scenario sets. Evidence files may not use it, so a
/// hypothetical observation can never collide with (or be mistaken for) a real one.
pub const SCENARIO_ID_PREFIX: &str = "scenario-";

/// Why a what-if's changes in all (its scenarios chained, `--set`, parameters) are too many,
/// or `None`: each scenario file is held to the limit as it is read, and this holds the sum,
/// so neither a chain nor a long list of `set` escapes it.
/// A change of the as-of date is not counted: it costs nothing to apply, and a user who gives
/// `--as-of` did not write a change.
pub fn too_many_changes(changes: &[Change], limits: crate::Limits) -> Option<String> {
    let max = limits.max_scenario_changes;
    let count = changes.iter().filter(|c| !matches!(c, Change::AsOf(_))).count();
    (count > max).then(|| {
        format!("the what-if makes {count} changes in all; at most {max} (raise it with `--max-changes`)")
    })
}

impl Scenario {
    /// Reads a scenario file (no I/O: the caller resolves `extends` and `evidence`).
    pub fn load(file: &SourceFile) -> Result<Scenario, LoadError> {
        Scenario::load_with_limits(file, crate::Limits::default())
    }

    /// As [`Scenario::load`], within the given limits (the most changes, and the file's size
    /// and depth).
    pub fn load_with_limits(file: &SourceFile, limits: crate::Limits) -> Result<Scenario, LoadError> {
        let mut diagnostics = Vec::new();
        let scenario = crate::pack::decode_file_with(file, &mut diagnostics, limits, decode_scenario);
        match scenario {
            Some(s) if diagnostics.is_empty() => Ok(s),
            _ => Err(LoadError::new(diagnostics)),
        }
    }
}

fn decode_scenario(d: &mut Decoder, at: At<'_, '_>) -> Option<Scenario> {
    let obj = d.object(at, &["title", "extends", "evidence", "changes"])?;
    let title = required(d, &obj, "title", |d, at| d.text(at));
    let extends = optional(d, &obj, "extends", |d, at| d.text(at));
    let evidence = optional(d, &obj, "evidence", |d, at| d.text(at));
    let (changes, changes_path) = obj.require(d, "changes")?;
    let items = d.array(At {
        json: changes,
        path: &changes_path,
    })?;
    let max = d.limits.max_scenario_changes;
    if items.len() > max {
        d.report(
            changes.pos,
            "$.changes",
            format!(
                "the scenario has {} changes; at most {max} (raise it with `--max-changes`: each change is applied to a copy of the evidence's working state, so a large scenario can hold gigabytes)",
                items.len()
            ),
        );
        return None;
    }
    let mut changes = Vec::new();
    let mut places = Vec::new();
    for (json, path) in items {
        let at = At { json, path: &path };
        let place = Place {
            file: d.file.clone(),
            line: json.pos.line,
            column: json.pos.column,
            path: path.clone(),
        };
        let before = changes.len();
        let Some(c) = d.object(at, &["set", "remove", "param", "as_of"]) else {
            continue;
        };
        if c.members.len() != 1 {
            d.error(
                at,
                "a change has exactly one of `set`, `remove`, `param`, `as_of`".into(),
            );
            continue;
        }
        if let Some((json, path)) = c.get("set") {
            let at = At { json, path: &path };
            let Some(s) = d.object(at, &["key", "function", "value", "date"]) else {
                continue;
            };
            let key = required(d, &s, "key", |d, at| d.id(at));
            let function = optional(d, &s, "function", |d, at| d.id(at));
            let value = s.get("value").map(|(v, _)| crate::canonical::value(v));
            if value.is_none() {
                d.error(at, "missing required field `value`".into());
            }
            let date = optional(d, &s, "date", |d, at| d.date(at));
            if let (Some(key), Some(value)) = (key, value) {
                changes.push(Change::Set {
                    key,
                    function,
                    value,
                    date,
                });
            }
        } else if let Some((json, path)) = c.get("remove") {
            if let Some(id) = d.id(At { json, path: &path }) {
                changes.push(Change::Remove(id));
            }
        } else if let Some((json, path)) = c.get("param") {
            let at = At { json, path: &path };
            let Some(p) = d.object(at, &["name", "value"]) else {
                continue;
            };
            let name = required(d, &p, "name", |d, at| d.id(at));
            let value = p.get("value").map(|(v, _)| crate::canonical::value(v));
            match (name, value) {
                (Some(name), Some(value)) => changes.push(Change::Param { name, value }),
                (_, None) => d.error(at, "missing required field `value`".into()),
                _ => {}
            }
        } else if let Some((json, path)) = c.get("as_of") {
            if let Some(date) = d.date(At { json, path: &path }) {
                changes.push(Change::AsOf(date));
            }
        }
        if changes.len() > before {
            places.push(place);
        }
    }
    Some(Scenario {
        title: title?,
        extends,
        evidence,
        changes,
        places,
    })
}

/// The evidence and options a list of changes leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The evidence after the changes.
    pub evidence: Evidence,
    /// The as-of date after the changes.
    pub as_of: NaiveDate,
    /// Parameter overrides after the changes.
    pub parameters: BTreeMap<String, crate::vocabulary::Value>,
}

/// What is wrong with a change on its own, checked against the pack: an unknown key or
/// function, a function where the key is council-wide (or none where it is per function), a value
/// of the wrong type or out of the key's range, a bad parameter. Empty when it is fine. Whether a
/// removed observation exists depends on the evidence, so `apply` checks that.
pub fn check_change(pack: &Pack, change: &Change) -> Vec<String> {
    let mut out = Vec::new();
    match change {
        Change::Set {
            key, function, value, ..
        } => {
            let Some(k) = pack.key(key) else {
                let names: Vec<&str> = pack.keys().iter().map(|k| k.key.as_str()).collect();
                let hint = crate::diagnostic::did_you_mean(key, &names);
                out.push(format!("unknown evidence key `{key}`{hint}"));
                return out;
            };
            out.extend(crate::evidence::function_problem(pack, k, function.as_deref()));
            if plain_value(pack, k, value).is_some() {
                return out;
            }
            let (_, problems) = decode_set_value(pack, k, value);
            out.extend(
                problems
                    .into_iter()
                    .map(|p| format!("value for `{key}`: {}", p.message)),
            );
        }
        Change::Param { name, value } => {
            if let Err(e) = crate::pack::parse_parameter(pack, name, &value.to_string()) {
                out.push(e);
            }
        }
        Change::Remove(_) | Change::AsOf(_) => {}
    }
    out
}

/// Applies changes, in order, to evidence. Observations set by a scenario get ids `scenario-N`
/// and cite the scenario, so reasons show plainly which verdicts rest on hypothetical evidence.
/// Problems are reported at `label`, `$.changes[N]`; [`apply_at`] reports them where each change
/// was written.
///
/// ```
/// use std::collections::BTreeMap;
/// use chrono::NaiveDate;
/// use handback::{apply, assess, diff, parse_set, EvidenceBuilder, ObservationDraft, Options};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// // What if the medium-term financial strategy had been adopted?
/// let change = parse_set("children.mtfs_adopted=true").unwrap();
/// let applied = apply(&pack, &evidence, day, &BTreeMap::new(), &[change], "--set").map_err(|e| e.to_string())?;
/// let before = assess(&pack, &evidence, &Options::new(day));
/// let after = assess(&pack, &applied.evidence, &Options::new(applied.as_of));
/// let changed = diff(&pack, &before, &after, None);
/// assert!(changed.outcomes.iter().any(|c| c.rule == "children-5"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply(
    pack: &Pack,
    evidence: &Evidence,
    as_of: NaiveDate,
    parameters: &BTreeMap<String, crate::vocabulary::Value>,
    changes: &[Change],
    label: &str,
) -> Result<Applied, LoadError> {
    apply_at(pack, evidence, as_of, parameters, changes, label, &[])
}

/// As [`apply`], reporting a problem with change N at `places[N]` (a scenario file's line,
/// column and path, or the flag that made it).
pub fn apply_at(
    pack: &Pack,
    evidence: &Evidence,
    as_of: NaiveDate,
    parameters: &BTreeMap<String, crate::vocabulary::Value>,
    changes: &[Change],
    label: &str,
    places: &[Place],
) -> Result<Applied, LoadError> {
    apply_with(
        pack,
        evidence,
        (as_of, parameters),
        changes,
        (label, places),
        true,
    )
}

/// As [`apply_at`]; `in_place: false` always takes the document path (write the edited
/// evidence out and load it again), which the in-place path is tested against.
pub(crate) fn apply_with(
    pack: &Pack,
    evidence: &Evidence,
    (as_of, parameters): (NaiveDate, &BTreeMap<String, crate::vocabulary::Value>),
    changes: &[Change],
    (label, places): (&str, &[Place]),
    in_place: bool,
) -> Result<Applied, LoadError> {
    let place = |n: usize| {
        places.get(n).cloned().unwrap_or_else(|| Place {
            file: label.to_string(),
            line: 1,
            column: 1,
            path: format!("$.changes[{n}]"),
        })
    };
    // Every change is checked on its own first, so its problems point at what the user wrote;
    // the document the changes make is loaded afterwards only as a safety net.
    let mut problems: Vec<crate::diagnostic::Diagnostic> = Vec::new();
    for (n, change) in changes.iter().enumerate() {
        for message in check_change(pack, change) {
            problems.push(place(n).diagnostic(message));
        }
    }
    if !problems.is_empty() {
        return Err(LoadError::new(problems));
    }
    let mut as_of = as_of;
    let mut parameters = parameters.clone();
    // The edits the changes make, in order; dates default to the as-of date in force when the
    // change is applied, so `as_of` changes are applied in order with the rest.
    let mut edits: Vec<Edit> = Vec::new();
    for (n, change) in changes.iter().enumerate() {
        match change {
            Change::AsOf(d) => as_of = *d,
            Change::Param { name, value } => {
                match crate::pack::parse_parameter(pack, name, &value.to_string()) {
                    Ok(v) => {
                        parameters.insert(name.clone(), v);
                    }
                    Err(e) => problems.push(place(n).diagnostic(e)),
                }
            }
            Change::Remove(id) => edits.push(Edit::Remove { n, id: id.clone() }),
            Change::Set {
                key,
                function,
                value,
                date,
            } => edits.push(Edit::Set {
                n,
                key,
                function: function.as_deref(),
                date: date.unwrap_or(as_of),
                value,
            }),
        }
    }
    let fast = if in_place {
        edit_in_place(pack, evidence, &edits, label)
    } else {
        None
    };
    let (edited, missing) = match fast {
        Some(Ok(evidence)) => (Some(evidence), Vec::new()),
        Some(Err(missing)) => (None, missing),
        None => edit_document(pack, evidence, &edits, label, &problems)?,
    };
    problems.extend(
        missing
            .into_iter()
            .map(|(n, id)| place(n).diagnostic(format!("there is no observation `{id}` to remove"))),
    );
    let evidence = match edited {
        Some(e) if problems.is_empty() => e,
        _ => return Err(LoadError::new(problems)),
    };
    Ok(Applied {
        evidence,
        as_of,
        parameters,
    })
}

/// A removal that found nothing: the change's index and the id it named.
type Unmatched = (usize, String);

/// One edit a scenario makes to the evidence, borrowing the change that makes it.
enum Edit<'c> {
    /// Remove observation `id` (change `n`).
    Remove { n: usize, id: String },
    /// Add an observation of `value`, superseding what the evidence says about the same key and
    /// function that day.
    Set {
        /// The change's index, which names the observation (`scenario-{n + 1}`).
        n: usize,
        key: &'c str,
        function: Option<&'c str>,
        date: NaiveDate,
        value: &'c J,
    },
}

/// Who a scenario's observation says judged it, for a key that records a judgement.
const SCENARIO_JUDGE: &str = "the scenario (hypothetical)";

/// The citation of change `n` of the scenario `label`: (document, passage).
fn scenario_source(label: &str, n: usize) -> (String, String) {
    (["scenario: ", label].concat(), numbered("change ", n + 1))
}

/// `prefix` followed by `n` in decimal, written directly: `needs` names and cites a hundred-odd
/// observations for every option it checks, and `format!` was a third of making them.
fn numbered(prefix: &str, n: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + 20);
    out.push_str(prefix);
    crate::json::push_decimal(&mut out, n);
    out
}

/// The observation change `n` sets, in the evidence file's form (the document path).
fn set_document(pack: &Pack, label: &str, (n, key, function, date, value): SetFields<'_>) -> J {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(format!("{SCENARIO_ID_PREFIX}{}", n + 1)));
    o.insert("key".into(), json!(key));
    if let Some(f) = function {
        o.insert("function".into(), json!(f));
    }
    o.insert("value".into(), value.clone());
    o.insert("date".into(), json!(date.format("%Y-%m-%d").to_string()));
    o.insert("basis".into(), json!("hypothetical"));
    let (document, passage) = scenario_source(label, n);
    o.insert(
        "source".into(),
        json!({ "document": document, "passage": passage }),
    );
    if pack.key(key).is_some_and(|k| k.judgement) {
        o.insert("judged_by".into(), json!(SCENARIO_JUDGE));
    }
    // A key that counts only some roles' judgements would skip a hypothetical judgement in
    // none; the scenario judges in the first role it accepts.
    if let Some(role) = pack.key(key).and_then(|k| k.judged_by_roles.first()) {
        o.insert("role".into(), json!(role));
    }
    J::Object(o)
}

/// A set edit's fields: (change index, key, function, date, value).
pub(crate) type SetFields<'c> = (usize, &'c str, Option<&'c str>, NaiveDate, &'c J);

/// The edits applied to the evidence as a document, which is then loaded again: the reference
/// path, and the one taken when the evidence already holds a scenario's observations (a chain).
/// Also returns the removals that found nothing, as (change, id).
fn edit_document(
    pack: &Pack,
    evidence: &Evidence,
    edits: &[Edit],
    label: &str,
    problems: &[crate::diagnostic::Diagnostic],
) -> Result<(Option<Evidence>, Vec<Unmatched>), LoadError> {
    let mut doc = evidence.canonical();
    let mut missing = Vec::new();
    for edit in edits {
        match edit {
            Edit::Remove { n, id } => {
                let removed = with_observations(&mut doc, |list| {
                    let before = list.len();
                    list.retain(|o| o.get("id").and_then(J::as_str) != Some(id.as_str()));
                    before - list.len()
                });
                if removed.unwrap_or(0) == 0 {
                    missing.push((*n, id.clone()));
                }
            }
            &Edit::Set {
                n,
                key,
                function,
                date,
                value,
            } => {
                let observation = set_document(pack, label, (n, key, function, date, value));
                let day = date.format("%Y-%m-%d").to_string();
                with_observations(&mut doc, |list| {
                    // Supersede what the evidence says about the same thing that day: the day an
                    // observation describes is its `date`, or the last day of its `period`.
                    list.retain(|o| {
                        let described = o
                            .get("date")
                            .or_else(|| o.get("period").and_then(|p| p.get("to")))
                            .and_then(J::as_str);
                        !(o.get("key").and_then(J::as_str) == Some(key)
                            && o.get("function").and_then(J::as_str) == function
                            && described == Some(day.as_str()))
                    });
                    list.push(observation);
                });
            }
        }
    }
    if !problems.is_empty() || !missing.is_empty() {
        return Ok((None, missing));
    }
    let file = SourceFile {
        name: label.into(),
        label: format!("scenario `{label}`"),
        text: crate::canonical::canonical(&doc),
    };
    Ok((Some(Evidence::load_scenario(pack, &file)?), missing))
}

/// The edits applied to the loaded evidence directly: only the observations a scenario sets are
/// made (see [`hypothetical`]), and the rest are kept as loaded, with no document written and
/// read again. `None` when the evidence already holds a scenario's observations, whose ids the
/// edits could reuse, or when a set observation is one the loader might refuse: the document
/// path reports those as the loader does. `Some(Err)` lists the removals that found nothing.
fn edit_in_place(
    pack: &Pack,
    evidence: &Evidence,
    edits: &[Edit<'_>],
    label: &str,
) -> Option<Result<Evidence, Vec<Unmatched>>> {
    if evidence
        .observations
        .iter()
        .any(|o| o.id.starts_with(SCENARIO_ID_PREFIX))
    {
        return None;
    }
    if !edits.iter().any(|e| matches!(e, Edit::Remove { .. })) {
        return sets_in_place(pack, evidence, edits, label).map(Ok);
    }
    // The edits in order, as if each removed from the list as it stood (the observations it
    // supersedes or names) and then added its own; done by marking rather than by filtering
    // the whole list once per edit, which an option of `needs` (about 128 changes) made
    // quadratic. The list is sorted afterwards, so only which observations survive matters.
    let original = &evidence.observations;
    let mut alive = vec![true; original.len()];
    // Observations the edits add, with whether each survives the later edits.
    let mut added: Vec<(crate::evidence::Observation, bool)> = Vec::new();
    /// An observation of the original list, or one an edit added.
    #[derive(Clone, Copy)]
    enum Entry {
        Original(usize),
        Added(usize),
    }
    type Day<'k> = (&'k str, Option<&'k str>, NaiveDate);
    // Only the days the edits set and the ids they remove are indexed: an option of `needs`
    // sets a hundred-odd days in evidence of any size.
    let mut by_day: HashMap<Day<'_>, Vec<Entry>> = HashMap::new();
    let mut by_id: HashMap<&str, Vec<Entry>> = HashMap::new();
    for edit in edits {
        match edit {
            Edit::Set {
                key, function, date, ..
            } => {
                by_day.entry((key, *function, *date)).or_default();
            }
            Edit::Remove { id, .. } => {
                by_id.entry(id.as_str()).or_default();
            }
        }
    }
    // The evidence is sorted by key, function and date, so each day's observations are found
    // by a search rather than by looking every observation up (which was most of the time an
    // option of `needs` took to apply, in evidence of a few hundred observations).
    for (&(key, function, date), bucket) in &mut by_day {
        let Some(k) = pack.key_index(key) else {
            continue;
        };
        let from = original.partition_point(|o| day_of(o) < (k, function, date));
        let same = original.get(from..).unwrap_or_default();
        let n = same
            .iter()
            .take_while(|o| day_of(o) == (k, function, date))
            .count();
        bucket.extend((from..from + n).map(Entry::Original));
    }
    if !by_id.is_empty() {
        for (i, o) in original.iter().enumerate() {
            if let Some(bucket) = by_id.get_mut(o.id.as_str()) {
                bucket.push(Entry::Original(i));
            }
        }
    }
    let kill = |at: Entry, alive: &mut [bool], added: &mut [(crate::evidence::Observation, bool)]| {
        let cell = match at {
            Entry::Original(i) => alive.get_mut(i),
            Entry::Added(i) => added.get_mut(i).map(|(_, alive)| alive),
        };
        match cell {
            Some(cell) if *cell => {
                *cell = false;
                true
            }
            _ => false,
        }
    };
    let mut missing = Vec::new();
    for edit in edits {
        match edit {
            Edit::Remove { n, id } => {
                let mut removed = false;
                for &at in by_id.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                    removed |= kill(at, &mut alive, &mut added);
                }
                if !removed {
                    missing.push((*n, id.clone()));
                }
            }
            &Edit::Set {
                n,
                key,
                function,
                date,
                value,
            } => {
                let new = hypothetical(pack, label, (n, key, function, date, value))?;
                let bucket = by_day.entry((key, function, date)).or_default();
                for &at in bucket.iter() {
                    kill(at, &mut alive, &mut added);
                }
                bucket.clear();
                // The new observation is of this key, function and day (the edit wrote it).
                bucket.push(Entry::Added(added.len()));
                if let Some(removals) = by_id.get_mut(new.id.as_str()) {
                    removals.push(Entry::Added(added.len()));
                }
                added.push((new, true));
            }
        }
    }
    if !missing.is_empty() {
        return Some(Err(missing));
    }
    let observations: Vec<crate::evidence::Observation> = original
        .iter()
        .zip(&alive)
        .filter(|(_, alive)| **alive)
        .map(|(o, _)| o.clone())
        .chain(added.into_iter().filter(|(_, alive)| *alive).map(|(o, _)| o))
        .collect();
    Some(Ok(Evidence::from_parts(
        evidence.council.clone(),
        evidence.as_of,
        evidence.title.clone(),
        observations,
    )))
}

/// An observation's key (by index), function and date: the order evidence is kept in, and what
/// a set edit supersedes.
fn day_of(o: &crate::evidence::Observation) -> (usize, Option<&str>, NaiveDate) {
    (o.key_index, o.function.as_deref(), o.date)
}

/// A set edit's key (by index), function, date and place among the edits.
type Dated<'c> = (usize, Option<&'c str>, NaiveDate, usize);

/// [`edit_in_place`] for edits that only set values (every option `needs` checks): each
/// supersedes what the evidence and the earlier edits say about its key and function that day,
/// so a day keeps its last edit alone and the evidence keeps what is on no edited day. Sorted
/// and walked beside the evidence (which is in key, function and date order), with nothing
/// hashed. `None` as for `edit_in_place`.
fn sets_in_place(pack: &Pack, evidence: &Evidence, edits: &[Edit<'_>], label: &str) -> Option<Evidence> {
    // (key, function, date, order of the edit) and the observation each makes: every edit is
    // made, superseded or not, so that any the loader would refuse sends the caller down the
    // document path as before.
    let mut made: Vec<(Dated<'_>, crate::evidence::Observation)> = Vec::with_capacity(edits.len());
    for (order, edit) in edits.iter().enumerate() {
        if let &Edit::Set {
            n,
            key,
            function,
            date,
            value,
        } = edit
        {
            let new = hypothetical(pack, label, (n, key, function, date, value))?;
            made.push(((new.key_index, function, date, order), new));
        }
    }
    made.sort_unstable_by_key(|(day, _)| *day);
    // The last edit of each day, in day order.
    let mut kept: Vec<(Dated<'_>, crate::evidence::Observation)> = Vec::with_capacity(made.len());
    for (day, new) in made {
        match kept.last_mut() {
            Some((last, o)) if (last.0, last.1, last.2) == (day.0, day.1, day.2) => {
                *last = day;
                *o = new;
            }
            _ => kept.push((day, new)),
        }
    }
    let mut days = kept.iter().map(|((k, f, d, _), _)| (*k, *f, *d)).peekable();
    let mut observations: Vec<crate::evidence::Observation> =
        Vec::with_capacity(evidence.observations.len() + kept.len());
    for o in &evidence.observations {
        let day = day_of(o);
        while days.next_if(|d| *d < day).is_some() {}
        if days.peek() != Some(&day) {
            observations.push(o.clone());
        }
    }
    observations.extend(kept.into_iter().map(|(_, o)| o));
    Some(Evidence::from_parts(
        evidence.council.clone(),
        evidence.as_of,
        evidence.title.clone(),
        observations,
    ))
}

/// The observation a scenario's change sets, made directly rather than written out and loaded:
/// `apply_with` has already checked its key, function and value as the loader would
/// (`check_change`), and the rest is written here, as [`set_document`] writes it. `None` for
/// what the loader could refuse that is not checked here (a derived key, a role that is not an
/// id, a date the file format cannot write), which sends the caller down the document path to
/// report it where the full load would.
pub(crate) fn hypothetical(
    pack: &Pack,
    label: &str,
    (n, key, function, date, value): SetFields<'_>,
) -> Option<crate::evidence::Observation> {
    let key_index = pack.key_index(key)?;
    let k = pack.keys().get(key_index)?;
    let value = set_value(pack, k, function, date, value)?;
    scenario_observation(pack, label, n, key_index, function, date, value)
}

/// The observation a scenario's change `n` makes of key `key_index` once its value is decoded
/// ([`set_value`]); `None` for a role that is not an id, which the loader would refuse.
pub(crate) fn scenario_observation(
    pack: &Pack,
    label: &str,
    n: usize,
    key_index: usize,
    function: Option<&str>,
    date: NaiveDate,
    value: crate::vocabulary::Value,
) -> Option<crate::evidence::Observation> {
    let k = pack.keys().get(key_index)?;
    let role = k.judged_by_roles.first().cloned();
    if role.as_deref().is_some_and(|r| !crate::diagnostic::is_id(r)) {
        return None;
    }
    let (document, passage) = scenario_source(label, n);
    Some(crate::evidence::Observation {
        id: numbered(SCENARIO_ID_PREFIX, n + 1),
        key: k.key.clone(),
        function: function.map(str::to_string),
        value,
        date,
        period_from: None,
        recorded: None,
        basis: crate::evidence::Basis::Hypothetical,
        source: crate::evidence::Source { document, passage },
        judged_by: k.judgement.then(|| SCENARIO_JUDGE.to_string()),
        role,
        note: None,
        key_index,
    })
}

/// The value a scenario sets for key `k` (and `function`) on `date`, decoded as the loader
/// decodes it; `None` for anything the loader would refuse about the key, function, date or
/// value (a derived key, a function the key's scope does not take, a date the file format
/// cannot write, a value outside the key's type or range).
pub(crate) fn set_value(
    pack: &Pack,
    k: &crate::vocabulary::Key,
    function: Option<&str>,
    date: NaiveDate,
    value: &J,
) -> Option<crate::vocabulary::Value> {
    if k.derived.is_some() || crate::evidence::function_problem(pack, k, function).is_some() {
        return None;
    }
    // The document path writes the date as `YYYY-MM-DD`, which holds years 0 to 9999 only.
    if !(0..=9999).contains(&chrono::Datelike::year(&date)) {
        return None;
    }
    if let Some(v) = plain_value(pack, k, value) {
        return Some(v);
    }
    match decode_set_value(pack, k, value) {
        (Some(decoded), problems) if problems.is_empty() => Some(decoded),
        _ => None,
    }
}

/// A boolean, a number or a level written for key `k`, decoded without the round trip through
/// text when it is one the round trip takes as it is (what [`decode_set_value`] gives for it, with
/// no problems); `None` for anything else, which then takes the round trip, so that what is
/// refused is refused with the loader's words. `needs` sets about a hundred booleans per option
/// it checks, and sweeps set numbers at every point.
fn plain_value(pack: &Pack, k: &crate::vocabulary::Key, value: &J) -> Option<crate::vocabulary::Value> {
    use crate::vocabulary::{Value, ValueType};
    match (&k.value_type, value) {
        (ValueType::Boolean, J::Bool(b)) => Some(Value::Boolean(*b)),
        (ValueType::Number { .. }, _) => plain_number(k, value),
        (ValueType::Grade { scale }, J::String(level)) => {
            let rank = pack.scales().iter().find(|s| &s.id == scale)?.rank(level)?;
            Some(Value::Grade {
                level: level.clone(),
                rank,
            })
        }
        _ => None,
    }
}

/// A JSON number in range for a number key, decoded without the round trip through text: what
/// [`decode_set_value`] gives for it (serde_json prints the shortest text that reads back as
/// the same float, and the reader turns `-0` into `0`), and `None` for anything else, which
/// then takes the round trip. Sweeps and `needs` set numbers at every point.
fn plain_number(k: &crate::vocabulary::Key, value: &J) -> Option<crate::vocabulary::Value> {
    let (crate::vocabulary::ValueType::Number { unit, range, .. }, J::Number(n)) = (&k.value_type, value)
    else {
        return None;
    };
    let n = n.as_f64().filter(|n| n.is_finite())?;
    let n = if n == 0.0 { 0.0 } else { n };
    crate::vocabulary::out_of_range(n, unit, range)
        .is_none()
        .then_some(crate::vocabulary::Value::Number(n))
}

/// A value written for key `k`, decoded as the loader decodes one (written out as canonical
/// JSON and read back, so it is refused exactly as a file's would be), with the problems found.
fn decode_set_value(
    pack: &Pack,
    k: &crate::vocabulary::Key,
    value: &J,
) -> (
    Option<crate::vocabulary::Value>,
    Vec<crate::diagnostic::Diagnostic>,
) {
    let mut d = Decoder::new("<value>");
    let decoded = d.parse(&crate::canonical::canonical(value)).and_then(|json| {
        crate::vocabulary::decode_value(
            &mut d,
            At {
                json: &json,
                path: "$",
            },
            &k.value_type,
            pack.scales(),
        )
    });
    (decoded, d.finish())
}

/// Runs `f` on the document's observations (`Evidence::canonical` always has the array).
fn with_observations<T>(doc: &mut J, f: impl FnOnce(&mut Vec<J>) -> T) -> Option<T> {
    match doc.get_mut("observations") {
        Some(J::Array(list)) => Some(f(list)),
        _ => None,
    }
}

/// One outcome that differs between two assessments, with its causes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OutcomeChange {
    /// The rule.
    pub rule: String,
    /// The function, for per-function rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Whether the rule is a criterion (in a set) rather than a helper.
    pub criterion: bool,
    /// The outcome before.
    pub before: String,
    /// The outcome after.
    pub after: String,
    /// What made the difference: evidence, parameters, the date, or the rule itself.
    pub causes: Vec<String>,
}

/// How two assessments (and plans) differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diff {
    /// The before and after as-of dates.
    pub as_of: (NaiveDate, NaiveDate),
    /// Outcomes that changed, criteria first.
    pub outcomes: Vec<OutcomeChange>,
    /// Functions whose readiness or step changed: (function, before, after).
    pub functions: Vec<(String, String, String)>,
    /// Functions added to and removed from the recommended tranche.
    pub tranche: (Vec<String>, Vec<String>),
    /// Whether the intervention could end, before and after.
    pub exit: (bool, bool),
}

impl Diff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
            && self.functions.is_empty()
            && self.tranche.0.is_empty()
            && self.tranche.1.is_empty()
            && self.exit.0 == self.exit.1
    }
}

fn result_key(r: &RuleResult) -> (String, Option<String>) {
    (r.rule.clone(), r.function.clone())
}

/// The observation a key's latest value comes from, per (key, function), as seen in reasons.
fn latest_used(a: &Assessment) -> BTreeMap<(String, Option<String>), BTreeSet<String>> {
    let mut out: BTreeMap<(String, Option<String>), BTreeSet<String>> = BTreeMap::new();
    fn walk(r: &crate::assess::Reason, out: &mut BTreeMap<(String, Option<String>), BTreeSet<String>>) {
        for e in &r.evidence {
            out.entry((e.key.clone(), e.function.clone()))
                .or_default()
                .insert(format!("{} = {} on {}", e.id, e.value, e.date));
        }
        for p in &r.parts {
            walk(p, out);
        }
    }
    for r in &a.results {
        if let Some(reason) = &r.reason {
            walk(reason, &mut out);
        }
    }
    out
}

/// Compares two assessments of the same pack (and their plans, if given), naming causes.
///
/// ```
/// use chrono::NaiveDate;
/// use handback::{apply, assess, diff, parse_set, EvidenceBuilder, ObservationDraft, Options};
///
/// let pack = handback::default_pack()?;
/// let day = NaiveDate::from_ymd_opt(2016, 8, 11).unwrap();
/// let evidence = EvidenceBuilder::new("Example Council")
///     .observe(ObservationDraft::new("mtfs", "children.mtfs_adopted", false, day, "Minutes", "item 4"))
///     .build(&pack)?;
/// let options = Options::new(day);
/// // What if the strategy were adopted?
/// let change = parse_set("children.mtfs_adopted=true").unwrap();
/// let applied = apply(&pack, &evidence, day, &options.parameters, &[change], "what if")?;
/// let before = assess(&pack, &evidence, &options);
/// let after = assess(&pack, &applied.evidence, &Options::new(applied.as_of));
/// let d = diff(&pack, &before, &after, None);
/// assert!(!d.outcomes.is_empty(), "the strategy decides test 5");
/// assert!(d.outcomes.iter().all(|o| !o.causes.is_empty()));
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn diff(pack: &Pack, before: &Assessment, after: &Assessment, plans: Option<(&Plan, &Plan)>) -> Diff {
    let index = |a: &Assessment| -> BTreeMap<(String, Option<String>), RuleResult> {
        a.results.iter().map(|r| (result_key(r), r.clone())).collect()
    };
    let (b, a) = (index(before), index(after));
    let (used_b, used_a) = (latest_used(before), latest_used(after));
    let params_b: BTreeMap<&str, String> = before
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.to_string()))
        .collect();
    let params_a: BTreeMap<&str, String> = after
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.to_string()))
        .collect();
    let mut outcomes = Vec::new();
    for (key, rb) in &b {
        let Some(ra) = a.get(key) else { continue };
        if rb.outcome == ra.outcome && rb.at_least == ra.at_least {
            continue;
        }
        let mut causes = Vec::new();
        if let Some(rule) = pack.rule(&key.0) {
            for k in keys_read_transitively(pack, rule) {
                for function in [None, key.1.clone()] {
                    let id = (k.clone(), function.clone());
                    let (x, y) = (used_b.get(&id), used_a.get(&id));
                    if x != y {
                        let show = |s: Option<&BTreeSet<String>>| {
                            s.map(|s| s.iter().cloned().collect::<Vec<_>>().join(", "))
                                .unwrap_or_else(|| "none".into())
                        };
                        let whose = function
                            .as_ref()
                            .map(|f| format!(" for `{f}`"))
                            .unwrap_or_default();
                        causes.push(format!("evidence `{k}`{whose}: {} -> {}", show(x), show(y)));
                    }
                }
            }
            for p in pack.parameters_used(rule) {
                if params_b.get(p.name.as_str()) != params_a.get(p.name.as_str()) {
                    causes.push(format!(
                        "parameter `{}`: {} -> {}",
                        p.name,
                        params_b.get(p.name.as_str()).cloned().unwrap_or_default(),
                        params_a.get(p.name.as_str()).cloned().unwrap_or_default()
                    ));
                }
            }
        }
        // The date is named as the cause only when no evidence or parameter explains the change
        // (what it hid, or what went stale); otherwise as a change that came with it.
        if before.as_of != after.as_of {
            let also = if causes.is_empty() { "" } else { "also: " };
            causes.push(format!("{also}as-of date {} -> {}", before.as_of, after.as_of));
        }
        if causes.is_empty() {
            causes.push("the rules differ (another pack or pack version)".into());
        }
        causes.dedup();
        let word = |r: &RuleResult| match &r.at_least {
            Some(l) => format!("{} (at least {l})", r.outcome.code()),
            None => r.outcome.code().to_string(),
        };
        outcomes.push(OutcomeChange {
            rule: key.0.clone(),
            function: key.1.clone(),
            criterion: rb.set.is_some(),
            before: word(rb),
            after: word(ra),
            causes,
        });
    }
    outcomes.sort_by_key(|o| !o.criterion);
    let (mut functions, mut tranche, mut exit) = (Vec::new(), (Vec::new(), Vec::new()), (false, false));
    if let Some((pb, pa)) = plans {
        for fb in &pb.functions {
            if let Some(fa) = pa.functions.iter().find(|f| f.id == fb.id) {
                if fb.ready != fa.ready || fb.step != fa.step {
                    let show = |f: &crate::plan::FunctionPlan| {
                        format!("{} ({:?})", f.ready.words(), f.step).to_lowercase()
                    };
                    functions.push((fb.id.clone(), show(fb), show(fa)));
                }
            }
        }
        let names = |p: &Plan| {
            p.tranche
                .iter()
                .map(|t| t.function.clone())
                .collect::<BTreeSet<_>>()
        };
        let (tb, ta) = (names(pb), names(pa));
        tranche = (
            ta.difference(&tb).cloned().collect(),
            tb.difference(&ta).cloned().collect(),
        );
        exit = (pb.exit.possible, pa.exit.possible);
    }
    Diff {
        as_of: (before.as_of, after.as_of),
        outcomes,
        functions,
        tranche,
        exit,
    }
}

/// Keys a rule reads, directly or through the rules it refers to.
pub(crate) fn keys_read_transitively(pack: &Pack, rule: &crate::rules::Rule) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![rule];
    let mut seen = BTreeSet::new();
    while let Some(r) = stack.pop() {
        if !seen.insert(r.id.clone()) {
            continue;
        }
        out.extend(pack.keys_read(r).iter().map(|k| k.key.clone()));
        for (_, c) in r.body.conditions() {
            c.for_each_ref(&mut |x| {
                if let Some(t) = pack.rules().get(x.rule) {
                    stack.push(t);
                }
            });
        }
    }
    out
}

/// Parses a quick change, `KEY[:FUNCTION]=VALUE[@YYYY-MM-DD]`: VALUE is JSON when it parses as
/// JSON, else text (so grades need no quotes). Whether the key and value are right for the pack
/// is [`check_change`]'s question.
pub fn parse_set(s: &str) -> Result<Change, String> {
    let bad = || format!("`{s}`: expected KEY[:FUNCTION]=VALUE[@YYYY-MM-DD]");
    let (left, right) = s.split_once('=').ok_or_else(bad)?;
    let (key, function) = match left.split_once(':') {
        Some((k, f)) => (k.trim().to_string(), Some(f.trim().to_string())),
        None => (left.trim().to_string(), None),
    };
    let (value, date) = match right.rsplit_once('@') {
        Some((v, d)) if crate::diagnostic::parse_date(d.trim()).is_ok() => {
            (v, crate::diagnostic::parse_date(d.trim()).ok())
        }
        _ => (right, None),
    };
    let value = serde_json::from_str(value.trim()).unwrap_or_else(|_| J::String(value.trim().to_string()));
    Ok(Change::Set {
        key,
        function,
        value,
        date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number set without the round trip through text is the number the round trip gives,
    /// refused where it refuses: floats of every magnitude (random bit patterns among them),
    /// integers past 2^53, negative zero, shares and counts out of range, on every number key of
    /// the embedded pack.
    #[test]
    fn plain_numbers_decode_as_the_round_trip_does() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let mut numbers: Vec<J> = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.25,
            1.000_000_1,
            0.1 + 0.2,
            1e-300,
            5e-324,
            1e21,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            12_345.678_9,
            100.0,
            101.0,
            0.999_999_999_999_999_9,
        ]
        .iter()
        .map(|x| json!(x))
        .collect();
        numbers.extend([
            json!(u64::MAX),
            json!(i64::MIN),
            json!(9_007_199_254_740_993u64),
            json!(3),
            json!(-7),
        ]);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let x = f64::from_bits(state);
            if x.is_finite() {
                numbers.push(json!(x));
                numbers.push(json!(x.fract()));
            }
        }
        let mut checked = 0;
        for k in pack.keys() {
            if !matches!(k.value_type, crate::vocabulary::ValueType::Number { .. }) {
                continue;
            }
            for n in &numbers {
                let (decoded, problems) = decode_set_value(&pack, k, n);
                let round_trip = decoded.filter(|_| problems.is_empty());
                let plain = plain_number(k, n);
                let bits = |v: &Option<crate::vocabulary::Value>| match v {
                    Some(crate::vocabulary::Value::Number(x)) => Some(x.to_bits()),
                    _ => None,
                };
                assert_eq!(bits(&plain), bits(&round_trip), "key {} value {n}", k.key);
                checked += 1;
            }
        }
        assert!(checked > 10_000, "only {checked} checked");
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u32::MAX as usize, usize::MAX] {
            assert_eq!(numbered("change ", n), format!("change {n}"));
        }
    }

    /// Values set twice on one day, on a day the evidence already has a value for: the last
    /// change alone stands, the evidence's value is gone, and other days are untouched; the
    /// in-place path gives what the document path gives.
    #[test]
    fn the_last_change_of_a_day_supersedes_the_rest() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let day = NaiveDate::from_ymd_opt(2017, 3, 1).expect("a date");
        let before = day - chrono::Days::new(30);
        let evidence = crate::EvidenceBuilder::new("Example Council")
            .observe(crate::ObservationDraft::new(
                "a",
                "children.mtfs_adopted",
                false,
                day,
                "Minutes",
                "item 4",
            ))
            .observe(crate::ObservationDraft::new(
                "b",
                "children.mtfs_adopted",
                false,
                before,
                "Minutes",
                "item 3",
            ))
            .build(&pack)
            .expect("the evidence builds");
        let set = |value: bool| Change::Set {
            key: "children.mtfs_adopted".into(),
            function: None,
            value: json!(value),
            date: Some(day),
        };
        let changes = [set(true), set(false), set(true)];
        let no_parameters = BTreeMap::new();
        let applied = |in_place| {
            apply_with(
                &pack,
                &evidence,
                (day, &no_parameters),
                &changes,
                ("s", &[]),
                in_place,
            )
        };
        let fast = applied(true);
        assert_eq!(fast, applied(false));
        let applied = fast.expect("the changes apply");
        let seen: Vec<(&str, NaiveDate, &crate::vocabulary::Value)> = applied
            .evidence
            .observations
            .iter()
            .map(|o| (o.id.as_str(), o.date, &o.value))
            .collect();
        assert_eq!(
            seen,
            [
                ("b", before, &crate::vocabulary::Value::Boolean(false)),
                ("scenario-3", day, &crate::vocabulary::Value::Boolean(true))
            ]
        );
    }

    /// Booleans and levels set without the round trip are what the round trip gives, and
    /// whatever it refuses (a level of another scale or of none, a level in another case, a
    /// boolean written as text or a number) is left to it.
    #[test]
    fn plain_values_decode_as_the_round_trip_does() {
        let pack = crate::default_pack().expect("the embedded pack loads");
        let mut values: Vec<J> = vec![
            json!(true),
            json!(false),
            json!("true"),
            json!(1),
            json!(null),
            json!(""),
        ];
        for scale in pack.scales() {
            for level in &scale.levels {
                values.push(json!(level));
                values.push(json!(level.to_uppercase()));
                values.push(json!(format!(" {level}")));
            }
        }
        let mut checked = (0, 0);
        for k in pack.keys() {
            if matches!(k.value_type, crate::vocabulary::ValueType::Number { .. }) {
                continue;
            }
            for v in &values {
                let (decoded, problems) = decode_set_value(&pack, k, v);
                let round_trip = decoded.filter(|_| problems.is_empty());
                let plain = plain_value(&pack, k, v);
                if plain.is_some() {
                    assert_eq!(plain, round_trip, "key {} value {v}", k.key);
                    checked.0 += 1;
                } else {
                    checked.1 += 1;
                }
                // Either way, `check_change` says what the round trip says.
                let change = Change::Set {
                    key: k.key.clone(),
                    function: None,
                    value: v.clone(),
                    date: None,
                };
                let said: Vec<String> = check_change(&pack, &change)
                    .into_iter()
                    .filter(|m| m.starts_with("value for"))
                    .collect();
                assert_eq!(
                    said.is_empty(),
                    round_trip.is_some(),
                    "key {} value {v}: {said:?}",
                    k.key
                );
            }
        }
        assert!(checked.0 > 100 && checked.1 > 100, "checked {checked:?}");
    }
}
