//! The evidence vocabulary: what a pack may read, and what each value means.
//!
//! A pack declares every evidence key it reads, with its type (boolean, number with a unit and a
//! better direction, grade on a named ordinal scale, date, text), its scope (council-wide or per
//! function) and how long its evidence stays fresh. Evidence files are checked against it, and
//! rule conditions may only compare a key with a value of its own type. This module holds those
//! types and the value decoder shared by evidence, parameters and rule literals.

use std::cmp::Ordering;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};

use crate::diagnostic::{At, Decoder};
use crate::json::Kind;

/// A named ordinal scale, lowest level first (e.g. Ofsted: inadequate < requires improvement <
/// good < outstanding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scale {
    /// The scale's id, as keys and rules name it.
    pub id: String,
    /// A human title.
    pub title: String,
    /// Levels from worst to best.
    pub levels: Vec<String>,
    /// Where the scale comes from.
    pub source: Option<String>,
}

impl Scale {
    /// The rank of a level (0 = worst), if the level is on the scale.
    pub fn rank(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == level)
    }
}

/// Which way a number improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger values are better (e.g. share of drivers trained).
    HigherIsBetter,
    /// Smaller values are better (e.g. share of agency social workers).
    LowerIsBetter,
}

/// The type of an evidence key or a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ValueType {
    /// `true` or `false`; `true` is the better value, so name keys positively ("mtfs_adopted").
    Boolean,
    /// A number in a unit, improving in one direction.
    Number {
        /// The unit, e.g. `share`, `GBP million`, `per 10,000 children`.
        unit: String,
        /// Which way is better.
        direction: Direction,
        /// Where a value may lie (a share in [0, 1] whatever the file says).
        #[serde(flatten)]
        range: Range,
    },
    /// A level on a named scale; higher levels are better.
    Grade {
        /// The scale's id.
        scale: String,
    },
    /// A calendar date.
    Date,
    /// Free text: compared only for equality, never ordered.
    Text,
}

impl ValueType {
    /// A short description for messages and templates ("number (share, lower is better)").
    pub fn describe(&self) -> String {
        match self {
            ValueType::Boolean => "boolean".into(),
            ValueType::Number { unit, direction, .. } => format!(
                "number ({unit}, {})",
                match direction {
                    Direction::HigherIsBetter => "higher is better",
                    Direction::LowerIsBetter => "lower is better",
                }
            ),
            ValueType::Grade { scale } => format!("grade on scale `{scale}`"),
            ValueType::Date => "date".into(),
            ValueType::Text => "text".into(),
        }
    }

    /// The range of a number type (unbounded for other types).
    pub fn range(&self) -> Range {
        match self {
            ValueType::Number { range, .. } => *range,
            _ => Range::default(),
        }
    }

    /// Whether values of this type can be ordered better/worse (and so compared with `<` etc.).
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            ValueType::Number { .. } | ValueType::Grade { .. } | ValueType::Date
        )
    }
}

/// Where a number may lie. A value outside it is a typing slip (`25` for a 25% share), and a
/// slip that decodes cleanly flips verdicts without a word, so evidence, parameters, scenario
/// values and rule literals are all checked against it. Unbounded unless declared: a pack that
/// says nothing about a key's range keeps every finite number.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Range {
    /// The smallest value allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest value allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Whether only whole numbers are allowed (counts).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub integer: bool,
}

/// The unit whose values are fractions of one: a share is in [0, 1], and `"25%"` means 0.25.
pub const SHARE: &str = "share";

impl Range {
    /// Whether `n` lies in the range.
    pub fn contains(&self, n: f64) -> bool {
        !matches!(self.min, Some(m) if n < m)
            && !matches!(self.max, Some(m) if n > m)
            && (!self.integer || n.fract() == 0.0)
    }

    /// The nearest value in the range (for suggestions that must stay valid); whole numbers are
    /// rounded towards the inside of the range.
    pub fn clamp(&self, n: f64) -> f64 {
        let mut n = n;
        if let Some(m) = self.min {
            n = n.max(m);
        }
        if let Some(m) = self.max {
            n = n.min(m);
        }
        if self.integer && n.fract() != 0.0 {
            let up = n.ceil();
            n = if matches!(self.max, Some(m) if up > m) {
                n.floor()
            } else {
                up
            };
        }
        n
    }

    /// The range in words ("from 0 to 1", "a whole number, at least 0"); `None` when unbounded.
    pub fn words(&self) -> Option<String> {
        let bounds = match (self.min, self.max) {
            (Some(a), Some(b)) => Some(format!("from {} to {}", format_number(a), format_number(b))),
            (Some(a), None) => Some(format!("at least {}", format_number(a))),
            (None, Some(b)) => Some(format!("at most {}", format_number(b))),
            (None, None) => None,
        };
        match (self.integer, bounds) {
            (true, Some(b)) => Some(format!("a whole number, {b}")),
            (true, None) => Some("a whole number".into()),
            (false, b) => b,
        }
    }
}

/// Whether a key's evidence is about the council as a whole or about one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One series for the whole council.
    Council,
    /// One series per council function (observations name the function).
    Function,
}

/// An evidence key the pack reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Key {
    /// The key, e.g. `children.agency_share`.
    pub key: String,
    /// Its value type.
    #[serde(flatten)]
    pub value_type: ValueType,
    /// Council-wide or per function.
    pub scope: Scope,
    /// Evidence older than this many days at the as-of date counts as missing (when it names a
    /// parameter, that parameter's default; the value in force may be overridden).
    pub max_age_days: Option<u32>,
    /// The parameter `max_age_days` names, if it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_parameter: Option<String>,
    /// That parameter's index, resolved once at load so evaluation never searches by name.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) max_age_parameter_index: Option<usize>,
    /// Whether the key records a person's judgement rather than a measured fact.
    pub judgement: bool,
    /// What the key means and how to fill it in.
    pub description: String,
    /// For a key the pack computes from other keys: its formula. Evidence may not record it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived: Option<Formula>,
    /// For a judgement key: the roles whose judgement counts (empty: anyone's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged_by_roles: Vec<String>,
}

impl Key {
    /// Whether an observation judged in `role` counts for this key. A key that restricts roles
    /// refuses an observation that names none: whose judgement it is cannot then be checked.
    pub fn accepts_role(&self, role: Option<&str>) -> bool {
        self.judged_by_roles.is_empty() || role.is_some_and(|r| self.judged_by_roles.iter().any(|x| x == r))
    }
}

/// How a derived key is computed from other number keys, each read on the same date.
///
/// Criteria quote figures as published ("57 of 64 vacant posts covered by agency staff"), so
/// the evidence records the published counts and the pack computes the share: nobody entering
/// evidence does the arithmetic, and the reasons show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    /// `numerator / denominator × scale`; unknown when the denominator is zero.
    Ratio {
        /// The key divided.
        numerator: String,
        /// The key divided by.
        denominator: String,
        /// What the quotient is multiplied by (100 for a percentage).
        scale: f64,
    },
    /// `minuend - subtrahend`.
    Difference {
        /// The key subtracted from.
        minuend: String,
        /// The key subtracted.
        subtrahend: String,
    },
    /// The sum of two or more keys.
    Sum {
        /// The keys added.
        terms: Vec<String>,
    },
    /// `(to - from) / from × 100`; unknown when `from` is zero.
    PercentChange {
        /// The earlier figure.
        from: String,
        /// The later figure.
        to: String,
    },
}

impl Formula {
    /// The input keys, in the formula's order.
    pub fn inputs(&self) -> Vec<&str> {
        match self {
            Formula::Ratio {
                numerator,
                denominator,
                ..
            } => vec![numerator, denominator],
            Formula::Difference { minuend, subtrahend } => vec![minuend, subtrahend],
            Formula::Sum { terms } => terms.iter().map(String::as_str).collect(),
            Formula::PercentChange { from, to } => vec![from, to],
        }
    }

    /// The formula over its inputs' values (in [`Formula::inputs`] order); `None` when it is
    /// undefined there (a zero denominator) or the result is not a finite number. The result
    /// is rounded to nine decimal places so binary noise (0.1 + 0.2) never reaches a report or
    /// flips a comparison with a threshold written in decimals.
    pub fn apply(&self, values: &[f64]) -> Option<f64> {
        let raw = match (self, values) {
            (Formula::Ratio { scale, .. }, [n, d]) if *d != 0.0 => n / d * scale,
            (Formula::Difference { .. }, [a, b]) => a - b,
            (Formula::Sum { .. }, terms) if !terms.is_empty() => terms.iter().sum(),
            (Formula::PercentChange { .. }, [from, to]) if *from != 0.0 => (to - from) / from * 100.0,
            _ => return None,
        };
        let rounded = (raw * 1e9).round() / 1e9;
        let value = if rounded.is_finite() { rounded } else { raw };
        value.is_finite().then_some(value + 0.0)
    }

    /// The formula over its input names or values ("`a` / `b` × 100", "57 / 64 × 100").
    pub fn words<T: fmt::Display>(&self, inputs: &[T]) -> String {
        let item = |i: usize| inputs.get(i).map(ToString::to_string).unwrap_or_default();
        match self {
            Formula::Ratio { scale, .. } if *scale == 1.0 => format!("{} / {}", item(0), item(1)),
            Formula::Ratio { scale, .. } => {
                format!("{} / {} × {}", item(0), item(1), format_number(*scale))
            }
            Formula::Difference { .. } => format!("{} - {}", item(0), item(1)),
            Formula::Sum { .. } => (0..inputs.len()).map(item).collect::<Vec<_>>().join(" + "),
            Formula::PercentChange { .. } => {
                format!("({} - {}) / {} × 100", item(1), item(0), item(0))
            }
        }
    }

    /// The formula over its input key names, ticked.
    pub fn named(&self) -> String {
        let names: Vec<String> = self.inputs().iter().map(|k| format!("`{k}`")).collect();
        self.words(&names)
    }

    /// The arithmetic for people: "57 / 64 × 100 = 89.0625", or why there is no result.
    pub fn arithmetic(&self, values: &[f64]) -> String {
        let shown: Vec<String> = values.iter().map(|v| format_number(*v)).collect();
        let by_zero = match self {
            Formula::Ratio { .. } => values.get(1) == Some(&0.0),
            Formula::PercentChange { .. } => values.first() == Some(&0.0),
            _ => false,
        };
        match self.apply(values) {
            Some(v) => format!("{} = {}", self.words(&shown), format_number(v)),
            None if by_zero => format!("{} is undefined (division by zero)", self.words(&shown)),
            None => format!("{} has no finite value", self.words(&shown)),
        }
    }
}

/// A typed value of evidence, a parameter or a rule literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A boolean.
    Boolean(bool),
    /// A finite number.
    Number(f64),
    /// A level on a scale, with its rank (0 = worst) for ordering.
    Grade {
        /// The level's name.
        level: String,
        /// Its rank on the scale.
        rank: usize,
    },
    /// A date.
    Date(NaiveDate),
    /// Free text.
    Text(String),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Boolean(b) => s.serialize_bool(*b),
            // Whole numbers print as integers ("64", not "64.0"), as people write them; the
            // range check keeps the conversion exact.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
                s.serialize_i64(*n as i64)
            }
            Value::Number(n) => s.serialize_f64(*n),
            Value::Grade { level, .. } => s.serialize_str(level),
            Value::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

/// Reads a value written by [`Serialize`]. The wire form says only the JSON type, so a string
/// comes back as a date when it is one (`YYYY-MM-DD`) and as text otherwise; a grade's level
/// comes back as text, its rank unknown without the pack. Written again, every value gives the
/// same bytes, which is what storing a result and reading it back needs; to compare a value
/// with a pack's scale, look its level up in [`crate::Pack::scales`].
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean, a finite number or a string")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Boolean(b))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
                if n.is_finite() {
                    Ok(Value::Number(n))
                } else {
                    Err(E::custom("a number must be finite"))
                }
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
                match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) if d.format("%Y-%m-%d").to_string() == s => Ok(Value::Date(d)),
                    _ => Ok(Value::Text(s.to_string())),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

// Written by hand to match the hand-written `Serialize`: a grade, a date and text are all
// strings on the wire, so only the JSON type can be said.
impl schemars::JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A typed value: a boolean, a finite number, or a string (a grade's level, a date as YYYY-MM-DD, text).",
            "type": ["boolean", "number", "string"]
        })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            // As `format_number` writes it, without a string of its own.
            Value::Number(n) if *n == 0.0 => f.write_str("0"),
            Value::Number(n) => write!(f, "{n}"),
            Value::Grade { level, .. } => write!(f, "\"{level}\""),
            Value::Date(d) => write!(f, "{}", Day(*d)),
            Value::Text(t) => write!(f, "\"{t}\""),
        }
    }
}

/// A day as `YYYY-MM-DD`, as chrono writes it, written directly for the years of four digits:
/// chrono's formatting machinery was a tenth of an explained assessment, which writes a date into
/// most of its reasons.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Day(pub NaiveDate);

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::Datelike;
        let d = self.0;
        match u32::try_from(d.year()) {
            Ok(year) if year <= 9999 => {
                let digit = |n: u32| b'0' + (n % 10) as u8;
                let (m, day) = (d.month(), d.day());
                let text = [
                    digit(year / 1000),
                    digit(year / 100),
                    digit(year / 10),
                    digit(year),
                    b'-',
                    digit(m / 10),
                    digit(m),
                    b'-',
                    digit(day / 10),
                    digit(day),
                ];
                f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
            }
            _ => write!(f, "{d}"),
        }
    }
}

/// Formats a number the same way on every platform: Rust's shortest round-trip form.
pub fn format_number(n: f64) -> String {
    let s = format!("{n}");
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

impl Value {
    /// Orders two values of the same ordered type by *value* (not by better/worse); `None`
    /// when they are not comparable.
    pub fn partial_cmp_value(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
            (Value::Grade { rank: a, .. }, Value::Grade { rank: b, .. }) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Boolean(a), Value::Boolean(b)) => Some(a.cmp(b)),
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// Decodes a value of the given type, checking it against the scale where it is a grade.
pub(crate) fn decode_value(
    d: &mut Decoder,
    at: At<'_, '_>,
    value_type: &ValueType,
    scales: &[Scale],
) -> Option<Value> {
    match value_type {
        ValueType::Boolean => d.boolean(at).map(Value::Boolean),
        ValueType::Number { unit, range, .. } => {
            let n = match &at.json.kind {
                // A percentage is how people write a share; JSON numbers stay the canonical form.
                Kind::String(s) if unit == SHARE => match percent(s) {
                    Some(n) => n,
                    None => {
                        d.error(
                            at,
                            format!("expected a share (a number from 0 to 1, or a percentage such as `\"25%\"`), found `\"{s}\"`"),
                        );
                        return None;
                    }
                },
                _ => d.number(at)?,
            };
            if let Some(message) = out_of_range(n, unit, range) {
                d.error(at, message);
                return None;
            }
            Some(Value::Number(n))
        }
        ValueType::Date => d.date(at).map(Value::Date),
        ValueType::Text => d.string(at).map(Value::Text),
        ValueType::Grade { scale } => {
            let Kind::String(level) = &at.json.kind else {
                d.error(
                    at,
                    format!(
                        "expected a level of scale `{scale}` (a string), found {}",
                        at.json.type_name()
                    ),
                );
                return None;
            };
            let scale = scales.iter().find(|s| &s.id == scale)?;
            match scale.rank(level) {
                Some(rank) => Some(Value::Grade {
                    level: level.clone(),
                    rank,
                }),
                None => {
                    let levels = crate::diagnostic::ticked(&scale.levels, ", ");
                    let hint = meant_level(level, &scale.levels)
                        .map(|l| format!(" (did you mean `{l}`?)"))
                        .unwrap_or_default();
                    d.error(
                        at,
                        format!(
                            "`{level}` is not a level of scale `{}`{hint}; expected one of {levels}",
                            scale.id
                        ),
                    );
                    None
                }
            }
        }
    }
}

/// The level a grade off its scale was meant to be, when the slip is plain: the same but for
/// case and spacing, or one letter off. No further: levels are words of judgement, and two
/// letters turn `adequate` into `inadequate`, its opposite.
fn meant_level<'a>(written: &str, levels: &'a [String]) -> Option<&'a str> {
    let plain = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let written = plain(written);
    levels
        .iter()
        .find(|l| plain(l) == written)
        .or_else(|| {
            levels
                .iter()
                .find(|l| crate::diagnostic::edit_distance(&written, &plain(l)) <= 1)
        })
        .map(String::as_str)
}

/// Reads `"25%"` as 0.25.
fn percent(s: &str) -> Option<f64> {
    let n: f64 = s.trim().strip_suffix('%')?.trim().parse().ok()?;
    n.is_finite().then(|| tidy(n / 100.0))
}

/// Rounds away binary noise (14.3 / 100 = 0.14300000000000002), so values print as written.
fn tidy(n: f64) -> f64 {
    (n * 1e12).round() / 1e12
}

/// Why `n` is not a value of a number type with this unit and range, with a hint when the slip
/// is a familiar one; `None` when it fits.
pub(crate) fn out_of_range(n: f64, unit: &str, range: &Range) -> Option<String> {
    if range.contains(n) {
        return None;
    }
    let shown = format_number(n);
    let what = match range.words() {
        Some(w) if range.integer => w,
        Some(w) => format!("a number {w}"),
        None => String::new(),
    };
    let hint = if unit == SHARE && n > 1.0 && n <= 100.0 {
        format!("; did you mean {}?", format_number(tidy(n / 100.0)))
    } else if range.integer && n.fract() != 0.0 && range.contains(n.round()) {
        format!("; did you mean {}?", format_number(n.round()))
    } else {
        String::new()
    };
    Some(if unit == SHARE {
        format!("`{shown}` is not a share: expected {what}{hint}")
    } else {
        format!("`{shown}` is out of range: expected {what} ({unit}){hint}")
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    /// `Day` writes what chrono writes, both as a date's `Display` and as `%Y-%m-%d`, in and
    /// beyond the years of four digits.
    #[test]
    fn days_are_written_as_chrono_writes_them() {
        for (y, m, d) in [
            (2018, 3, 21),
            (1, 1, 1),
            (0, 12, 31),
            (-1, 6, 9),
            (999, 10, 5),
            (9999, 12, 31),
            (10000, 1, 1),
            (-262_143, 1, 1),
            (262_142, 12, 31),
        ] {
            let day = NaiveDate::from_ymd_opt(y, m, d).expect("a date");
            let ours = super::Day(day).to_string();
            assert_eq!(ours, day.to_string(), "{y}-{m}-{d}");
            assert_eq!(ours, day.format("%Y-%m-%d").to_string(), "{y}-{m}-{d}");
        }
    }

    /// A number is written as `format_number` writes it, negative zero as 0.
    #[test]
    fn numbers_are_written_as_format_number_writes_them() {
        for n in [
            0.0,
            -0.0,
            1.5,
            -2.25,
            1e21,
            1e-7,
            0.1 + 0.2,
            f64::MAX,
            -f64::MIN_POSITIVE,
        ] {
            assert_eq!(
                super::Value::Number(n).to_string(),
                super::format_number(n),
                "{n}"
            );
        }
    }
}
