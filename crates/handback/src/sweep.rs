//! Sweeps: outcomes over a grid of values, one row per point, for a plot or a spreadsheet.
//!
//! Each varied key (or parameter, overridden as `--param` does) takes a range `FROM..TO/STEP`;
//! the grid is every combination, the first key
//! varying fastest. Every value is checked against the key before the first point is assessed,
//! so a slip is reported against what was typed, not against a point.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::situation::Situation;
use crate::whatif::Change;

/// One varied key and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Vary {
    /// The evidence key.
    pub key: String,
    /// The function, for keys recorded per function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The values, in order.
    pub values: Vec<f64>,
    /// The range's start as typed, when it was typed in percentages (`10%..50%/5%`): checked as
    /// typed, so a percentage on a key that is not a share is refused as `--set` refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<String>,
}

impl Vary {
    /// Parses `KEY[:FUNCTION]=FROM..TO/STEP` (all three in percentages, or none), making at
    /// most the default [`Limits::max_sweep_points`](crate::Limits) values. The error says what
    /// was expected; the caller names where the text came from.
    pub fn parse(s: &str) -> Result<Vary, String> {
        Vary::parse_within(s, crate::Limits::default().max_sweep_points)
    }

    /// As [`Vary::parse`], making at most `max_points` values: no one key may make more points
    /// than the whole sweep may have, and the range is refused before its values are made.
    pub fn parse_within(s: &str, max_points: usize) -> Result<Vary, String> {
        Vary::parse_budget(s, max_points, max_points)
    }

    /// Parses every varied key of one sweep, refusing the first whose values would take the
    /// grid over `max_points`, before its values are made: the memory a list of ranges can claim
    /// is bounded by the limit, however many ranges it repeats. The error names the index of
    /// the range refused.
    pub fn parse_all<'s>(
        texts: impl IntoIterator<Item = &'s str>,
        max_points: usize,
    ) -> Result<Vec<Vary>, (usize, String)> {
        let mut out = Vec::new();
        let mut points: usize = 1;
        for (i, s) in texts.into_iter().enumerate() {
            let budget = max_points / points.max(1);
            let vary = Vary::parse_budget(s, budget, max_points).map_err(|e| (i, e))?;
            points = points.saturating_mul(vary.values.len());
            out.push(vary);
        }
        Ok(out)
    }

    /// Parses one range, refusing it if it makes more than `budget` values (what the keys
    /// before it leave of `max_points`).
    fn parse_budget(s: &str, budget: usize, max_points: usize) -> Result<Vary, String> {
        let bad = || {
            "expected KEY[:FUNCTION]=FROM..TO/STEP with FROM <= TO and STEP > 0, e.g. key=0.1..0.5/0.05"
                .to_string()
        };
        let (left, range) = s.split_once('=').ok_or_else(bad)?;
        let (key, function) = match left.split_once(':') {
            Some((k, f)) => (k.to_string(), Some(f.to_string())),
            None => (left.to_string(), None),
        };
        let (span, step) = range.split_once('/').ok_or_else(bad)?;
        let (from, to) = span.split_once("..").ok_or_else(bad)?;
        // A share may be typed as percentages, as `--set` takes `25%`: all three or none, so a
        // range never mixes the two readings.
        let typed_percent = |t: &str| t.trim().ends_with('%');
        let percent = typed_percent(from);
        if typed_percent(to) != percent || typed_percent(step) != percent {
            return Err(bad());
        }
        let num = |t: &str| {
            let t = t.trim();
            let t = if percent { t.strip_suffix('%')? } else { t };
            let n = t.trim().parse::<f64>().ok().filter(|n| n.is_finite())?;
            Some(if percent { n / 100.0 } else { n })
        };
        let typed_from = percent.then(|| from.trim().to_string());
        let (from, to, step) = (
            num(from).ok_or_else(bad)?,
            num(to).ok_or_else(bad)?,
            num(step).ok_or_else(bad)?,
        );
        if step <= 0.0 || to < from {
            return Err(bad());
        }
        let count = ((to - from) / step + 1e-9).floor();
        if count.is_nan() || count >= budget as f64 {
            let with_others = if budget < max_points {
                ", and with the keys varied before it the sweep would have more than"
            } else {
                "; a sweep has at most"
            };
            return Err(format!(
                "makes {} points{with_others} {max_points} (a larger step or a shorter range, or raise the limit with `--max-points`)",
                count + 1.0
            ));
        }
        let count = count as usize + 1;
        // Computed from the index, not by repeated addition, so 0.1 + 0.05 * k prints cleanly.
        let values = (0..count)
            .map(|k| ((from + step * k as f64) * 1e9).round() / 1e9)
            .collect();
        Ok(Vary {
            key,
            function,
            values,
            percent: typed_from,
        })
    }

    /// The change a value makes: a parameter override when `key` names a parameter and no
    /// evidence key, else an observation.
    fn change(&self, pack: &crate::Pack, value: f64) -> Change {
        if self.function.is_none()
            && pack.key(&self.key).is_none()
            && pack.parameters().iter().any(|p| p.name == self.key)
        {
            return Change::Param {
                name: self.key.clone(),
                value: serde_json::json!(value),
            };
        }
        Change::Set {
            key: self.key.clone(),
            function: self.function.clone(),
            value: serde_json::json!(value),
            date: None,
        }
    }

    /// The column name: `KEY` or `KEY:FUNCTION`.
    pub fn column(&self) -> String {
        match &self.function {
            Some(f) => format!("{}:{f}", self.key),
            None => self.key.clone(),
        }
    }
}

/// Why a sweep cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// Too many points in all.
    #[error("the sweep has {} points; at most {max} (vary fewer keys, or each over fewer values, or raise the limit with `--max-points`)", if *points == usize::MAX { format!("more than {max}") } else { points.to_string() })]
    TooManyPoints {
        /// The points the grid would have.
        points: usize,
        /// The most it may have ([`Limits::max_sweep_points`](crate::Limits)).
        max: usize,
    },
    /// A varied key has no values.
    #[error("varied key `{0}` has no values")]
    NoValues(String),
    /// A value the key refuses: which varied key (by index), and the problems.
    #[error("{}", .problems.join("; "))]
    Refused {
        /// Index of the varied key.
        vary: usize,
        /// What is wrong.
        problems: Vec<String>,
    },
    /// Applying a point failed.
    #[error("{0}")]
    Point(String),
}

/// The grid: a header and one row per point, every cell as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sweep {
    /// The varied keys, then each criterion's outcome (council-wide criteria), each function's
    /// readiness (`ready:ID`), the tranche and whether the intervention can end.
    pub header: Vec<String>,
    /// One row per point, the first varied key varying fastest.
    pub rows: Vec<Vec<String>>,
}

impl Sweep {
    /// The grid as CSV.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }
}

/// Checks every value of every varied key against the pack, before any point is assessed, with
/// the default limits.
pub fn check(s: &Situation, varies: &[Vary]) -> Result<usize, SweepError> {
    check_with_limits(s, varies, crate::Limits::default())
}

/// As [`check`], with at most `limits.max_sweep_points` points.
pub fn check_with_limits(s: &Situation, varies: &[Vary], limits: crate::Limits) -> Result<usize, SweepError> {
    let mut total: usize = 1;
    for v in varies {
        if v.values.is_empty() {
            return Err(SweepError::NoValues(v.key.clone()));
        }
        total = total.saturating_mul(v.values.len());
    }
    if total > limits.max_sweep_points {
        return Err(SweepError::TooManyPoints {
            points: total,
            max: limits.max_sweep_points,
        });
    }
    for (i, v) in varies.iter().enumerate() {
        let typed = v.percent.as_ref().map(|typed| match v.change(&s.pack, 0.0) {
            Change::Param { name, .. } => Change::Param {
                name,
                value: serde_json::json!(typed),
            },
            _ => Change::Set {
                key: v.key.clone(),
                function: v.function.clone(),
                value: serde_json::json!(typed),
                date: None,
            },
        });
        for change in typed
            .into_iter()
            .chain(v.values.iter().map(|x| v.change(&s.pack, *x)))
        {
            let problems = crate::whatif::check_change(&s.pack, &change);
            if !problems.is_empty() {
                return Err(SweepError::Refused { vary: i, problems });
            }
        }
    }
    Ok(total)
}

/// Assesses and plans every point of the grid, on every core with the `parallel` feature;
/// `progress` is told (done, total) after each chunk of points, from the calling thread.
///
/// ```
/// use handback::{sweep, EvidenceBuilder, Situation, Vary};
///
/// let pack = handback::default_pack()?;
/// let evidence = EvidenceBuilder::new("Example Council")
///     .as_of(chrono::NaiveDate::from_ymd_opt(2016, 8, 11).unwrap())
///     .build(&pack)?;
/// let situation = Situation::new(pack, evidence, None, None, None).unwrap();
/// let vary = Vary::parse("children.overspend_gbp_m=0..10/5").unwrap();
/// let grid = sweep(&situation, &[vary], &mut |_, _| {}).unwrap();
/// assert_eq!(grid.rows.len(), 3); // 0, 5 and 10
/// assert_eq!(grid.header[0], "children.overspend_gbp_m");
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn sweep(
    s: &Situation,
    varies: &[Vary],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Sweep, SweepError> {
    sweep_with_limits(s, varies, crate::Limits::default(), progress)
}

/// As [`sweep`], with at most `limits.max_sweep_points` points.
pub fn sweep_with_limits(
    s: &Situation,
    varies: &[Vary],
    limits: crate::Limits,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Sweep, SweepError> {
    let mut header: Vec<String> = varies.iter().map(Vary::column).collect();
    let mut rows = Vec::new();
    let labels = labels(varies);
    drive(s, varies, limits, progress, &mut |i, cells| {
        if rows.is_empty() {
            header.extend(cells.columns.iter().cloned());
        }
        let mut row: Vec<String> = Vec::with_capacity(varies.len() + cells.cells.len());
        each_value(&labels, i, |v| row.push(v.to_string()));
        row.extend(cells.cells.iter().cloned());
        rows.push(row);
    })?;
    Ok(Sweep { header, rows })
}

/// As [`sweep_with_limits`], as CSV: the text [`Sweep::csv`] gives, written row by row
/// without a grid of cells in between (a million points fit in the text alone).
///
/// ```
/// use handback::{sweep, EvidenceBuilder, Situation, Vary};
///
/// let pack = handback::default_pack()?;
/// let evidence = EvidenceBuilder::new("Example Council")
///     .as_of(chrono::NaiveDate::from_ymd_opt(2016, 8, 11).unwrap())
///     .build(&pack)?;
/// let situation = Situation::new(pack, evidence, None, None, None).unwrap();
/// let vary = Vary::parse("children.overspend_gbp_m=0..10/5").unwrap();
/// let csv = handback::sweep::sweep_csv_with_limits(&situation, &[vary.clone()], Default::default(), &mut |_, _| {}).unwrap();
/// assert_eq!(csv, sweep(&situation, &[vary], &mut |_, _| {}).unwrap().csv());
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn sweep_csv_with_limits(
    s: &Situation,
    varies: &[Vary],
    limits: crate::Limits,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<String, SweepError> {
    let labels = labels(varies);
    let points = varies
        .iter()
        .fold(1usize, |n, v| n.saturating_mul(v.values.len()))
        .min(limits.max_sweep_points);
    // The widest value of each varied key, and its comma.
    let values_width: usize = labels
        .iter()
        .map(|l| l.iter().map(String::len).max().unwrap_or(0) + 1)
        .sum();
    let mut csv = String::new();
    drive(s, varies, limits, progress, &mut |i, cells| {
        if csv.is_empty() {
            let names: Vec<String> = varies
                .iter()
                .map(Vary::column)
                .chain(cells.columns.iter().cloned())
                .collect();
            csv.push_str(&names.join(","));
            csv.push('\n');
            // The text's size, found from the first row with room for longer cells, taken at
            // once: doubling a string of hundreds of megabytes holds the old copy and the new
            // at the moment of the copy.
            // Asked for, not insisted on: an impossible size is not a panic here (running out of
            // memory as the text grows still ends the process, as any allocation does).
            let row = values_width + cells.csv.len() + 1 + 16;
            let _ = csv.try_reserve(row.saturating_mul(points));
        }
        let body = &mut csv;
        let mut first = true;
        each_value(&labels, i, |v| {
            if !first {
                body.push(',');
            }
            body.push_str(v);
            first = false;
        });
        if !first {
            body.push(',');
        }
        body.push_str(&cells.csv);
        body.push('\n');
    })?;
    Ok(csv)
}

/// Each varied key's values as cells, formatted once.
fn labels(varies: &[Vary]) -> Vec<Vec<String>> {
    varies
        .iter()
        .map(|v| {
            v.values
                .iter()
                .map(|x| crate::vocabulary::format_number(*x))
                .collect()
        })
        .collect()
}

/// The cells of point `i`'s varied values, in order (the first vary changes fastest).
fn each_value<'l>(labels: &'l [Vec<String>], i: usize, mut each: impl FnMut(&'l str)) {
    let mut rest = i;
    for l in labels {
        let n = l.len().max(1);
        each(l.get(rest % n).map_or("", String::as_str));
        rest /= n;
    }
}

/// Assesses every point, in chunks on every core, and hands each point's cells to `each` in
/// point order from the calling thread.
fn drive(
    s: &Situation,
    varies: &[Vary],
    limits: crate::Limits,
    progress: &mut dyn FnMut(usize, usize),
    each: &mut (dyn FnMut(usize, &Cells) + Send),
) -> Result<(), SweepError> {
    let total = check_with_limits(s, varies, limits)?;
    let indexed = crate::program::Indexed::new(&s.pack, &s.evidence);
    let remembered = plans_follow_outcomes(s, varies);
    // One worker per thread, each taken by the thread running on it (so never waited for).
    #[cfg(feature = "parallel")]
    let threads = rayon::current_num_threads().max(1);
    #[cfg(not(feature = "parallel"))]
    let threads = 1;
    let workers: Vec<Mutex<Option<Worker>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let one = |i: usize| {
        if remembered {
            #[cfg(feature = "parallel")]
            let thread = rayon::current_thread_index().unwrap_or(0);
            #[cfg(not(feature = "parallel"))]
            let thread = 0;
            if let Some(Ok(mut worker)) = workers.get(thread % threads).map(Mutex::try_lock) {
                let worker = worker.get_or_insert_with(|| Worker::new(&indexed, &s.options));
                return worker.point(s, varies, i);
            }
        }
        point(s, varies, i)
    };
    // Points are independent, so each chunk is assessed on every core; points are handed on in
    // order and progress is told from this thread, so the output is the one a single thread
    // gives, and the first failing point (in order) is the one reported.
    const CHUNK: usize = 4096;
    let compute = |from: usize| -> (usize, Vec<Result<Arc<Cells>, SweepError>>) {
        let end = (from + CHUNK).min(total);
        #[cfg(feature = "parallel")]
        let chunk = {
            use rayon::prelude::*;
            (from..end).into_par_iter().map(one).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let chunk = (from..end).map(one).collect();
        (from, chunk)
    };
    let hand = |(from, chunk): (usize, Vec<Result<Arc<Cells>, SweepError>>),
                each: &mut (dyn FnMut(usize, &Cells) + Send)|
     -> Result<usize, SweepError> {
        let end = from + chunk.len();
        for (i, cells) in (from..).zip(chunk) {
            let cells = cells?;
            each(i, &cells);
        }
        Ok(end)
    };
    // Each chunk is handed on while the next is assessed (writing a million rows is no small
    // part of the work).
    let mut pending = None;
    let mut next = 0;
    loop {
        let work = || (next < total).then(|| compute(next));
        let mut handing = |pending: Option<_>| pending.map(|c| hand(c, &mut *each));
        #[cfg(feature = "parallel")]
        let (computed, handed) = {
            let waiting = pending.take();
            rayon::join(work, || handing(waiting))
        };
        #[cfg(not(feature = "parallel"))]
        let (computed, handed) = (work(), handing(pending.take()));
        if let Some(done) = handed {
            progress(done?, total);
        }
        match computed {
            Some(chunk) => {
                next = (next + CHUNK).min(total);
                pending = Some(chunk);
            }
            None => return Ok(()),
        }
    }
}

/// Whether a point's cells after its values (outcomes, readiness, tranche, exit) follow from
/// its outcomes alone. A plan reads the assessment's outcomes and the recommendations recorded
/// in the evidence; the rest (the as-of date, the Directions, the pack) is the same at every
/// point. So they do unless a varied key is the key recommendations are recorded under, or
/// a varied parameter is that key's maximum age.
fn plans_follow_outcomes(s: &Situation, varies: &[Vary]) -> bool {
    let Some(r) = s.pack.recommendation.as_ref() else {
        return true;
    };
    let max_age = s
        .pack
        .key(&r.key)
        .and_then(|k| k.max_age_parameter_index)
        .and_then(|i| s.pack.parameters().get(i))
        .map(|p| p.name.as_str());
    varies.iter().all(|v| match v.change(&s.pack, 0.0) {
        Change::Set { key, .. } => key != r.key,
        Change::Param { name, .. } => Some(name.as_str()) != max_age,
        _ => false,
    })
}

/// Points answered over the indexed evidence: a point's outcomes come from a what-if over the
/// index, and the cells they decide are remembered from the first point that had them (found
/// by assessing and planning it whole), so the points that share outcomes (most of a grid,
/// between the thresholds) cost one what-if each.
struct Worker<'i, 'a> {
    whatif: crate::program::WhatIf<'i, 'a>,
    out: crate::program::Outcomes,
    cells: HashMap<Vec<crate::assess::Outcome>, Arc<Cells>, BuildHasherDefault<Mix>>,
    /// The last point's outcomes and cells: neighbouring points mostly share them, and
    /// comparing is cheaper than hashing.
    last: Option<(Vec<crate::assess::Outcome>, Arc<Cells>)>,
}

/// A fast hash for the outcome sets a worker remembers (a multiply-rotate mix, as in rustc's
/// FxHasher): they are only looked up, never iterated, so the hash decides no output, and
/// they are not chosen by an adversary who could make them collide at will (a collision only
/// costs a comparison).
#[derive(Default)]
struct Mix(u64);

impl Mix {
    fn add(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.add(n as u64);
    }
}

/// What a point's outcomes decide: the names of the columns after the varied values (the same
/// at every point), their cells, and the cells as CSV.
struct Cells {
    columns: Vec<String>,
    cells: Vec<String>,
    csv: String,
}

/// The most outcome sets a worker remembers: past it, new ones are assessed whole each time.
const REMEMBERED: usize = 4096;

impl<'i, 'a> Worker<'i, 'a> {
    fn new(indexed: &'i crate::program::Indexed<'a>, options: &crate::assess::Options) -> Worker<'i, 'a> {
        Worker {
            whatif: crate::program::WhatIf::new(indexed, options),
            out: crate::program::Outcomes::new(),
            cells: HashMap::default(),
            last: None,
        }
    }

    fn point(&mut self, s: &Situation, varies: &[Vary], i: usize) -> Result<Arc<Cells>, SweepError> {
        // A point the what-if refuses is assessed whole, which reports it as a sweep does.
        if self
            .whatif
            .outcomes_into(&changes(s, varies, i), "sweep", &mut self.out)
            .is_err()
        {
            return point(s, varies, i);
        }
        let outcomes = self.out.flat();
        if let Some((last, cells)) = &self.last {
            if last.as_slice() == outcomes {
                return Ok(Arc::clone(cells));
            }
        }
        let cells = match self.cells.get(outcomes) {
            Some(known) => Arc::clone(known),
            None => {
                let whole = point(s, varies, i)?;
                if self.cells.len() < REMEMBERED {
                    self.cells.insert(outcomes.to_vec(), Arc::clone(&whole));
                }
                whole
            }
        };
        match &mut self.last {
            Some((last, known)) => {
                last.clear();
                last.extend_from_slice(outcomes);
                *known = Arc::clone(&cells);
            }
            None => self.last = Some((outcomes.to_vec(), Arc::clone(&cells))),
        }
        Ok(cells)
    }
}

/// The changes point `i` makes (the first vary changes fastest).
fn changes(s: &Situation, varies: &[Vary], i: usize) -> Vec<Change> {
    let mut changes = Vec::with_capacity(varies.len());
    let mut rest = i;
    for v in varies {
        let n = v.values.len().max(1);
        let value = v.values.get(rest % n).copied().unwrap_or_default();
        rest /= n;
        changes.push(v.change(&s.pack, value));
    }
    changes
}

/// Assesses and plans point `i` whole: the cells after its values.
fn point(s: &Situation, varies: &[Vary], i: usize) -> Result<Arc<Cells>, SweepError> {
    let (evidence, options) = s
        .scenario(&changes(s, varies, i), "sweep", &[])
        .map_err(|e| SweepError::Point(e.to_string()))?;
    let options = crate::assess::Options {
        explain: false,
        ..options
    };
    let assessment = crate::assess::assess(&s.pack, &evidence, &options);
    let plan = crate::plan::plan(&s.pack, &assessment, s.directions.as_ref());
    let mut columns = Vec::new();
    let mut cells = Vec::new();
    for r in assessment
        .results
        .iter()
        .filter(|r| r.set.is_some() && r.function.is_none())
    {
        columns.push(r.rule.clone());
        cells.push(r.outcome.code().to_string());
    }
    for f in &plan.functions {
        columns.push(format!("ready:{}", f.id));
        cells.push(f.ready.code().to_string());
    }
    let tranche: Vec<&str> = plan.tranche.iter().map(|t| t.function.as_str()).collect();
    cells.push(tranche.join(" "));
    cells.push(plan.exit.possible.to_string());
    columns.push("tranche".into());
    columns.push("exit".into());
    let csv = cells.join(",");
    Ok(Arc::new(Cells { columns, cells, csv }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::SourceFile;

    fn file(path: &std::path::Path) -> SourceFile {
        SourceFile {
            name: path.display().to_string(),
            label: path.display().to_string(),
            text: std::fs::read_to_string(path).expect("the fixture reads"),
        }
    }

    /// Every point's cells, found over the index with the cells remembered by outcomes, are the
    /// cells of assessing and planning that point whole: over every Rotherham record, with and
    /// without Directions and a known-at date, varying keys and
    /// parameter; and the CSV is the grid's.
    #[test]
    fn remembered_cells_are_those_of_the_whole_point() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/rotherham"));
        let pack = crate::default_pack().expect("the embedded pack loads");
        let directions =
            crate::Directions::load(&pack, &file(&dir.join("directions.json"))).expect("directions load");
        let grids = [
            vec![
                "children.agency_share=0..1/0.1",
                "children.overspend_gbp_m=0..12/3",
            ],
            vec![
                "children_agency_share_max=0..1/0.25",
                "children.agency_share=0..1/0.2",
            ],
            vec![
                "licensing.driver_safeguarding_training_share=0..1/0.25",
                "children_overspend_max_gbp_m=0..9/3",
            ],
        ];
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("the fixtures list")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        let (mut points, mut remembered) = (0, 0);
        for path in entries {
            let Ok(evidence) = crate::Evidence::load(&pack, &file(&path)) else {
                continue;
            };
            let as_of = evidence.as_of;
            for (directed, known_at) in [
                (false, None),
                (true, None),
                (
                    true,
                    as_of.and_then(|d| d.checked_sub_days(chrono::Days::new(40))),
                ),
            ] {
                let s = Situation::new(
                    pack.clone(),
                    evidence.clone(),
                    None,
                    known_at,
                    directed.then(|| directions.clone()),
                )
                .expect("the situation settles");
                for grid in &grids {
                    let varies: Vec<Vary> = grid
                        .iter()
                        .map(|g| Vary::parse(g).expect("the range parses"))
                        .collect();
                    assert!(plans_follow_outcomes(&s, &varies));
                    let mut handed = Vec::new();
                    drive(
                        &s,
                        &varies,
                        crate::Limits::default(),
                        &mut |_, _| {},
                        &mut |i, cells| {
                            handed.push((i, cells.cells.clone(), cells.columns.clone()));
                        },
                    )
                    .expect("the sweep runs");
                    let total = varies.iter().map(|v| v.values.len()).product::<usize>();
                    assert_eq!(handed.len(), total);
                    for (n, (i, cells, columns)) in handed.into_iter().enumerate() {
                        assert_eq!(i, n, "points are handed on in order");
                        let whole = point(&s, &varies, i).expect("the point assesses");
                        assert_eq!(cells, whole.cells, "{} {grid:?} point {i}", path.display());
                        assert_eq!(columns, whole.columns);
                        points += 1;
                    }
                    let csv = sweep_csv_with_limits(&s, &varies, crate::Limits::default(), &mut |_, _| {})
                        .expect("the sweep runs");
                    let grid = sweep(&s, &varies, &mut |_, _| {}).expect("the sweep runs");
                    assert_eq!(csv, grid.csv());
                    remembered += 1;
                }
            }
        }
        assert!(
            remembered >= 40 && points > 2_000,
            "{remembered} sweeps, {points} points"
        );
    }

    /// Cells are not remembered by outcomes when the varied key is the one recommendations are
    /// recorded under, or a varied parameter is its maximum age: recommendations then change
    /// with the point whatever the outcomes.
    #[test]
    fn a_varied_recommendation_age_assesses_every_point_whole() {
        let mut pack = crate::default_pack().expect("the embedded pack loads");
        let key = pack
            .recommendation
            .as_ref()
            .expect("the pack records recommendations")
            .key
            .clone();
        let param = pack
            .parameters
            .iter()
            .position(|p| p.name == "children_agency_share_max")
            .expect("the parameter");
        let evidence = crate::EvidenceBuilder::new("Example Council")
            .as_of(chrono::NaiveDate::from_ymd_opt(2016, 8, 11).expect("a date"))
            .build(&pack)
            .expect("the evidence builds");
        let varies = [Vary::parse("children_agency_share_max=0..1/0.5").expect("parses")];
        let s = Situation::new(pack.clone(), evidence.clone(), None, None, None).expect("settles");
        assert!(plans_follow_outcomes(&s, &varies));
        // The recommendation key itself (refused before any point, being boolean, but never
        // remembered past).
        let recommended = [Vary {
            key: key.clone(),
            function: Some("licensing".into()),
            values: vec![0.0, 1.0],
            percent: None,
        }];
        assert!(!plans_follow_outcomes(&s, &recommended));
        if let Some(k) = pack.keys.iter_mut().find(|k| k.key == key) {
            k.max_age_parameter_index = Some(param);
        }
        let s = Situation::new(pack, evidence, None, None, None).expect("settles");
        assert!(!plans_follow_outcomes(&s, &varies));
        let other = [Vary::parse("children.agency_share=0..1/0.5").expect("parses")];
        assert!(plans_follow_outcomes(&s, &other));
    }
}
