//! Located problems in input files, and the walker that collects them.
//!
//! Every loader reads its JSON through [`Decoder`], which records a [`Diagnostic`] for each
//! problem and carries on, so a user fixing a file sees all of its mistakes in one run rather
//! than one per attempt. Diagnostics are plain data (serde), sorted by file and position before
//! they reach the user.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::json::{self, Json, Kind, Member, Pos};

/// One problem in one input file: where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diagnostic {
    /// The file as the caller named it (a path, or `<embedded>/…` for the built-in pack).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// JSON path of the offending value, e.g. `$.observations[3].value`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            // Tables (CSV) have no JSON path: line and column say where.
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file, self.line, self.column, self.path, self.message
            )
        }
    }
}

/// A set of diagnostics, reported together.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A borrowed JSON value together with its path, the unit every decoder step works on.
#[derive(Clone, Copy)]
pub(crate) struct At<'j, 'p> {
    pub json: &'j Json,
    pub path: &'p str,
}

/// Bounds on what a loader accepts, so no input can exhaust memory or the stack. Every limit is
/// reported, when hit, with the flag that raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes (`--max-input-bytes`; default 64 MiB).
    pub max_input_bytes: usize,
    /// Deepest nesting of JSON arrays and objects (`--max-depth`; default 128, at most 256).
    pub max_depth: usize,
    /// Most rules in a pack (`--max-rules`; default 10,000).
    pub max_rules: usize,
    /// Most observations in an evidence file (`--max-observations`; default 1,000,000).
    pub max_observations: usize,
    /// Most points in a sweep, and so on one varied key (`--max-points`; default 100,000): a
    /// point is a whole what-if assessment, and the grid is held until it is written.
    pub max_sweep_points: usize,
    /// Most changes in one scenario (`--max-changes`; default 10,000): each change is applied to
    /// a copy of the evidence's working state (40,000 changes took 280 MB), and a scenario
    /// arrives over HTTP too; no real question needs more than a few dozen.
    pub max_scenario_changes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * 1024 * 1024,
            max_depth: crate::json::MAX_DEPTH,
            max_rules: 10_000,
            max_observations: 1_000_000,
            max_sweep_points: 100_000,
            max_scenario_changes: 10_000,
        }
    }
}

/// Collects diagnostics for one file while its tree is decoded.
pub(crate) struct Decoder {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
    pub limits: Limits,
}

impl Decoder {
    pub fn new(file: &str) -> Self {
        Decoder {
            file: file.to_string(),
            diagnostics: Vec::new(),
            limits: Limits::default(),
        }
    }

    pub fn with_limits(file: &str, limits: Limits) -> Self {
        Decoder {
            limits,
            ..Decoder::new(file)
        }
    }

    /// Parses a text, recording a syntax error as a diagnostic.
    pub fn parse(&mut self, text: &str) -> Option<Json> {
        self.parse_with(text, None)
    }

    /// As [`Decoder::parse`], handing the elements of the top-level member `key`'s array to
    /// `sink` as they are read ([`json::parse_streaming`]).
    pub fn parse_streaming(
        &mut self,
        text: &str,
        key: &str,
        sink: &mut dyn FnMut(Json, usize, usize),
    ) -> Option<Json> {
        self.parse_with(text, Some((key, sink)))
    }

    fn parse_with(&mut self, text: &str, sink: Option<json::Sink<'_>>) -> Option<Json> {
        if text.len() > self.limits.max_input_bytes {
            let (size, max) = (text.len(), self.limits.max_input_bytes);
            self.report(
                Pos { line: 1, column: 1 },
                "$",
                format!("the file is {size} bytes; the limit is {max} (raise it with `--max-input-bytes`)"),
            );
            return None;
        }
        let parsed = match sink {
            Some((key, sink)) => json::parse_streaming(text, self.limits.max_depth, key, sink),
            None => json::parse_with_depth(text, self.limits.max_depth),
        };
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(e.pos, &e.path, e.message);
                None
            }
        }
    }

    pub fn report(&mut self, pos: Pos, path: &str, message: String) {
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            path: path.to_string(),
            message,
        });
    }

    pub fn error(&mut self, at: At<'_, '_>, message: String) {
        self.report(at.json.pos, at.path, message);
    }

    fn expected(&mut self, at: At<'_, '_>, what: &str) {
        let found = at.json.type_name();
        self.error(at, format!("expected {what}, found {found}"));
    }

    /// Checks that a value is an object whose keys are all among `allowed`; unknown keys are
    /// reported (with the nearest known key as a hint) and skipped.
    pub fn object<'j>(&mut self, at: At<'j, '_>, allowed: &[&str]) -> Option<Object<'j>> {
        let Kind::Object(members) = &at.json.kind else {
            self.expected(at, "an object");
            return None;
        };
        for m in members {
            if !allowed.contains(&m.key.as_str()) {
                let mut path = at.path.to_string();
                json::push_key(&mut path, &m.key);
                let hint = did_you_mean(&m.key, allowed);
                let list = crate::diagnostic::ticked(allowed, ", ");
                self.report(
                    m.key_pos,
                    &path,
                    format!("unknown field `{}`{hint}; expected one of {list}", shown(&m.key)),
                );
            }
        }
        Some(Object {
            members,
            path: at.path.to_string(),
            pos: at.json.pos,
        })
    }

    /// Checks that a value is an array and returns its items with their paths.
    pub fn array<'j>(&mut self, at: At<'j, '_>) -> Option<Vec<(&'j Json, String)>> {
        let Kind::Array(items) = &at.json.kind else {
            self.expected(at, "an array");
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| (item, json::index_path(at.path, i)))
                .collect(),
        )
    }

    pub fn string(&mut self, at: At<'_, '_>) -> Option<String> {
        match &at.json.kind {
            Kind::String(s) => Some(s.clone()),
            _ => {
                self.expected(at, "a string");
                None
            }
        }
    }

    /// A string that must not be empty or only white space (ids, titles, citations).
    pub fn text(&mut self, at: At<'_, '_>) -> Option<String> {
        let s = self.string(at)?;
        if s.trim().is_empty() {
            self.error(at, "expected a non-empty string".into());
            return None;
        }
        Some(s)
    }

    /// An identifier: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    pub fn id(&mut self, at: At<'_, '_>) -> Option<String> {
        let s = self.string(at)?;
        if !is_id(&s) {
            self.error(
                at,
                format!("`{s}` is not a valid id; use letters, digits, `-`, `_` and `.`, starting with a letter or digit"),
            );
            return None;
        }
        Some(s)
    }

    pub fn number(&mut self, at: At<'_, '_>) -> Option<f64> {
        match at.json.kind {
            Kind::Number(n) => Some(n),
            _ => {
                self.expected(at, "a number");
                None
            }
        }
    }

    pub fn boolean(&mut self, at: At<'_, '_>) -> Option<bool> {
        match at.json.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.expected(at, "a boolean (`true` or `false`)");
                None
            }
        }
    }

    /// A whole number within `min..=max`.
    pub fn count(&mut self, at: At<'_, '_>, min: u32, max: u32) -> Option<u32> {
        let n = self.number(at)?;
        if n.fract() != 0.0 || n < f64::from(min) || n > f64::from(max) {
            self.error(
                at,
                format!("expected a whole number from {min} to {max}, found {n}"),
            );
            return None;
        }
        // The range check above makes this conversion exact.
        Some(n as u32)
    }

    /// A calendar date written `YYYY-MM-DD`, with no time or time zone.
    pub fn date(&mut self, at: At<'_, '_>) -> Option<chrono::NaiveDate> {
        let s = self.string(at)?;
        match parse_date(&s) {
            Ok(d) => Some(d),
            Err(why) => {
                self.error(at, why);
                None
            }
        }
    }

    /// Sorts and returns what was collected.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort();
        self.diagnostics.dedup();
        self.diagnostics
    }
}

/// Parses a strict `YYYY-MM-DD` date, explaining what is wrong otherwise.
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    let bytes = s.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        let hint = if s.contains('T') || s.contains(':') || s.ends_with('Z') {
            " (a date takes no time or time zone)"
        } else {
            ""
        };
        return Err(format!("expected a date written YYYY-MM-DD, found `{s}`{hint}"));
    }
    // The shape is checked, so the fields are read as digits directly: chrono's format parser
    // took a twentieth of loading a large evidence file, for two dates an observation.
    let number = |from: usize, to: usize| {
        bytes
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'))
    };
    i32::try_from(number(0, 4))
        .ok()
        .and_then(|year| chrono::NaiveDate::from_ymd_opt(year, number(5, 7), number(8, 10)))
        .ok_or_else(|| format!("`{s}` is not a day of the calendar"))
}

/// An object being decoded, keyed lookup with paths.
pub(crate) struct Object<'j> {
    pub members: &'j [Member],
    pub path: String,
    pub pos: Pos,
}

impl<'j> Object<'j> {
    /// The member's value and its path, if present.
    pub fn get(&self, key: &str) -> Option<(&'j Json, String)> {
        self.members.iter().find(|m| m.key == key).map(|m| {
            // Sized once: a path is made for every member read, and growing a copy of the
            // object's path was a fifth of loading a pack.
            let mut path = String::with_capacity(self.path.len() + key.len() + 4);
            path.push_str(&self.path);
            json::push_key(&mut path, key);
            (&m.value, path)
        })
    }

    pub fn has(&self, key: &str) -> bool {
        self.members.iter().any(|m| m.key == key)
    }

    /// Looks up a required member, reporting its absence at the object.
    pub fn require(&self, d: &mut Decoder, key: &str) -> Option<(&'j Json, String)> {
        let found = self.get(key);
        if found.is_none() {
            d.report(self.pos, &self.path, format!("missing required field `{key}`"));
        }
        found
    }
}

/// Decodes a required member with `f`.
pub(crate) fn required<'j, T>(
    d: &mut Decoder,
    obj: &Object<'j>,
    key: &str,
    f: impl FnOnce(&mut Decoder, At<'j, '_>) -> Option<T>,
) -> Option<T> {
    let (json, path) = obj.require(d, key)?;
    f(d, At { json, path: &path })
}

/// Decodes an optional member with `f`; `None` when absent (or invalid, which is reported).
pub(crate) fn optional<'j, T>(
    d: &mut Decoder,
    obj: &Object<'j>,
    key: &str,
    f: impl FnOnce(&mut Decoder, At<'j, '_>) -> Option<T>,
) -> Option<T> {
    let (json, path) = obj.get(key)?;
    f(d, At { json, path: &path })
}

/// A string member of an object and where its value is, read before the object is decoded
/// (e.g. an `id`, to find duplicates even among entries that have other problems).
pub(crate) fn member_string(json: &Json, key: &str) -> Option<(String, Pos)> {
    let Kind::Object(members) = &json.kind else {
        return None;
    };
    let member = members.iter().find(|m| m.key == key)?;
    match &member.value.kind {
        Kind::String(s) => Some((s.clone(), member.value.pos)),
        _ => None,
    }
}

pub(crate) fn is_id(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.len() <= 200
}

/// " (did you mean `x`?)" when a candidate is close to `word`, else nothing.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    nearest(word, candidates)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

/// A name as a message shows it: whole up to 80 characters, else its start and its length, so
/// a megabyte-long key makes a readable message (its JSON path still names it whole).
pub(crate) fn shown(name: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 80;
    match name.char_indices().nth(SHOWN) {
        None => name.into(),
        Some((cut, _)) => {
            let start = name.get(..cut).unwrap_or_default();
            format!("{start}… ({} characters)", name.chars().count()).into()
        }
    }
}

/// Items in backticks, joined: "`a`, `b`".
pub(crate) fn ticked<T: std::fmt::Display>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Names longer than this get no suggestion: nobody mistypes a name that long, and the edit
/// distance costs the product of the two lengths.
const LONGEST_SUGGESTED: usize = 256;

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
///
/// The distance is at least the difference in length, so candidates whose length differs by more
/// than the distance allowed are skipped unmeasured; with the length cap, each comparison costs
/// at most `LONGEST_SUGGESTED` squared, whatever the input.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.len() > 4 * LONGEST_SUGGESTED {
        return None;
    }
    let length = word.chars().count();
    if length > LONGEST_SUGGESTED {
        return None;
    }
    candidates
        .iter()
        .filter(|c| c.len() <= 4 * LONGEST_SUGGESTED)
        .filter_map(|c| {
            let allowed = 2.max(c.len() / 4);
            let their_length = c.chars().count();
            (their_length.abs_diff(length) <= allowed && their_length <= LONGEST_SUGGESTED)
                .then(|| (edit_distance(word, c), *c))
                .filter(|(d, _)| *d <= allowed)
        })
        .min()
        .map(|(_, c)| c)
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let best = (prev + cost)
                .min(above.saturating_add(1))
                .min(left.saturating_add(1));
            prev = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2016-02-29").is_ok());
        assert!(parse_date("2016-02-30").unwrap_err().contains("not a day"));
        assert!(parse_date("2016-13-01").unwrap_err().contains("not a day"));
        assert!(parse_date("2016-02-01T00:00:00Z")
            .unwrap_err()
            .contains("time zone"));
        assert!(parse_date("1/2/2016").is_err());
    }

    /// The digits read directly accept and refuse exactly what chrono's `%Y-%m-%d` did, with
    /// the same dates, for every month and day field (including 00 and past the end) in years
    /// across the calendar, leap and not.
    #[test]
    fn dates_read_directly_agree_with_chrono() {
        for year in [0, 1, 4, 100, 1900, 1999, 2000, 2015, 2016, 2100, 2400, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let s = format!("{year:04}-{month:02}-{day:02}");
                    let chrono = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok();
                    assert_eq!(parse_date(&s).ok(), chrono, "{s}");
                }
            }
        }
        for s in ["2016-99-99", "0000-00-00", "9999-12-31", "2016-1a-01"] {
            let chrono = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
            assert_eq!(parse_date(s).ok(), chrono, "{s}");
        }
    }

    #[test]
    fn nearest_suggests_typos_only() {
        assert_eq!(nearest("valeu", &["value", "key", "date"]), Some("value"));
        assert_eq!(nearest("zzzzzz", &["value", "key"]), None);
    }
}
