//! Sweeps: outcomes over a grid of values, one row per point, for a plot or a spreadsheet.
//!
//! Each varied key (or parameter, overridden as `--param` does) takes a range `FROM..TO/STEP`;
//! the grid is every combination, the first key
//! varying fastest. Every value is checked against the key before the first point is assessed,
//! so a slip is reported against what was typed, not against a point.

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
    let total = check_with_limits(s, varies, limits)?;
    let mut header: Vec<String> = varies.iter().map(Vary::column).collect();
    let mut rows = Vec::with_capacity(total);
    // Points are independent, so each chunk is assessed on every core; rows are kept in point
    // order and progress is told from this thread, so the output is the one a single thread
    // gives, and the first failing point (in order) is the one reported.
    const CHUNK: usize = 256;
    let mut done = 0;
    while done < total {
        let end = (done + CHUNK).min(total);
        #[cfg(feature = "parallel")]
        let chunk: Vec<Result<Point, SweepError>> = {
            use rayon::prelude::*;
            (done..end).into_par_iter().map(|i| point(s, varies, i)).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let chunk: Vec<Result<Point, SweepError>> = (done..end).map(|i| point(s, varies, i)).collect();
        for p in chunk {
            let p = p?;
            if rows.is_empty() {
                header.extend(p.columns);
                header.push("tranche".into());
                header.push("exit".into());
            }
            rows.push(p.row);
        }
        done = end;
        progress(done, total);
    }
    Ok(Sweep { header, rows })
}

/// One point of a sweep: its row, and the names of its outcome columns (the same at every point).
struct Point {
    row: Vec<String>,
    columns: Vec<String>,
}

/// Assesses and plans point `i` of the grid (the first vary changes fastest).
fn point(s: &Situation, varies: &[Vary], i: usize) -> Result<Point, SweepError> {
    let mut changes = Vec::new();
    let mut rest = i;
    let mut row = Vec::new();
    for v in varies {
        let n = v.values.len().max(1);
        let value = v.values.get(rest % n).copied().unwrap_or_default();
        rest /= n;
        row.push(crate::vocabulary::format_number(value));
        changes.push(v.change(&s.pack, value));
    }
    let (evidence, options) = s
        .scenario(&changes, "sweep", &[])
        .map_err(|e| SweepError::Point(e.to_string()))?;
    let options = crate::assess::Options {
        explain: false,
        ..options
    };
    let assessment = crate::assess::assess(&s.pack, &evidence, &options);
    let plan = crate::plan::plan(&s.pack, &assessment, s.directions.as_ref());
    let mut columns = Vec::new();
    for r in assessment
        .results
        .iter()
        .filter(|r| r.set.is_some() && r.function.is_none())
    {
        columns.push(r.rule.clone());
        row.push(r.outcome.code().to_string());
    }
    for f in &plan.functions {
        columns.push(format!("ready:{}", f.id));
        row.push(f.ready.code().to_string());
    }
    let tranche: Vec<&str> = plan.tranche.iter().map(|t| t.function.as_str()).collect();
    row.push(tranche.join(" "));
    row.push(plan.exit.possible.to_string());
    Ok(Point { row, columns })
}
