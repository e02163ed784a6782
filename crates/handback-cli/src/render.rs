//! Rendering assessments and packs for people (tables, Markdown) and tools (JSON, CSV).
//!
//! Output is deterministic: it follows the library's sorted order and formats numbers one way,
//! so the same inputs print the same bytes.

use std::fmt::Write as _;

use handback::model::{Scope, ValueType};
use handback::{Assessment, Blocker, Directions, Holding, Pack, Plan, Reason, RuleResult, Step};

/// Pretty JSON with a final newline.
pub fn json<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(s) => s + "\n",
        Err(e) => format!("{{\"error\": \"cannot serialise output: {e}\"}}\n"),
    }
}

fn outcome_word(r: &RuleResult) -> String {
    match (r.outcome.code(), &r.at_least) {
        ("not_met", _) => "not met".into(),
        ("unknown", Some(l)) => format!("unknown (at least {l})"),
        (o, _) => o.into(),
    }
}

/// How much of the reasoning to print after the summary (`--explain`, `--explain=fails`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Explain {
    /// Every outcome with its reasons.
    #[value(alias = "full")]
    All,
    /// Only the outcomes not met or unknown, and within them only the conditions that failed
    /// or are unknown (as `opa eval --explain=fails` does).
    Fails,
}

/// Whether to colour terminal output. Colour is only ever added to words that already say the
/// outcome, so a reader who cannot see it (a pipe, a printout, colour blindness) loses nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Use ANSI colours.
    pub colour: bool,
}

impl Style {
    /// Colour on a terminal only: `NO_COLOR` (any non-empty value) always wins; otherwise
    /// `CLICOLOR_FORCE` (non-empty, not `0`) forces it, e.g. for a pager that understands it.
    pub fn decide(is_terminal: bool, no_color: Option<&str>, force: Option<&str>) -> Style {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
        let colour = if set(no_color) {
            false
        } else if set(force) && force != Some("0") {
            true
        } else {
            is_terminal
        };
        Style { colour }
    }

    /// `text` coloured for an outcome (`met`, `not_met`, `unknown`, anything else is a grade).
    pub fn paint(self, outcome: &str, text: &str) -> String {
        if !self.colour {
            return text.to_string();
        }
        let code = match outcome {
            "met" => "32",
            "not_met" => "31",
            "unknown" => "33",
            _ => "36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// The width a cell takes on screen: characters, not counting ANSI colour sequences.
fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

/// A source document as people know it: its title and date from the pack's `sources`, with the
/// file name in brackets so it can still be found; a document the pack does not list is named
/// as the evidence gives it.
pub fn source_name(pack: &Pack, document: &str) -> String {
    match pack.manifest().sources.iter().find(|s| s.file == document) {
        Some(s) => match &s.date {
            Some(date) => format!("{}, {date} [{}]", s.title, s.file),
            None => format!("{} [{}]", s.title, s.file),
        },
        None => document.to_string(),
    }
}

/// Small counts as words, as the sources write them ("all four tests").
pub fn count_words(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS.get(n).map_or_else(|| n.to_string(), |w| (*w).to_string())
}

/// Lays out rows as left-aligned columns separated by two spaces.
pub fn columns(rows: &[Vec<String>], indent: &str) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| visible_width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(visible_width(cell))
                    + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The lines saying what the assessment left out (`--known-at`) and which parameters it
/// overrode, shared by every table.
fn replay_and_overrides(a: &Assessment) -> String {
    let mut out = String::new();
    if let Some(k) = a.known_at {
        let _ = writeln!(
            out,
            "using only evidence recorded by {k}: {} observation{} recorded later left out{}",
            a.hidden.len(),
            if a.hidden.len() == 1 { "" } else { "s" },
            if a.hidden.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.hidden.join(", "))
            }
        );
    }
    if !a.excluded_basis.is_empty() {
        let kinds: Vec<&str> = a.excluded_basis.iter().map(|b| b.word()).collect();
        let _ = writeln!(
            out,
            "without observations resting on {}: {} left out{}",
            kinds.join(", "),
            a.excluded.len(),
            if a.excluded.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.excluded.join(", "))
            }
        );
    }
    let overridden: Vec<String> = a
        .parameters
        .iter()
        .filter(|p| p.overridden)
        .map(|p| format!("{} = {}", p.name, p.value))
        .collect();
    if !overridden.is_empty() {
        let _ = writeln!(out, "parameters overridden: {}", overridden.join(", "));
    }
    out
}

/// Outcome words in the order a summary counts them: met, not met, unknown, then grades as
/// they first appear.
fn tally<'a>(outcomes: impl Iterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut counts: Vec<(&str, usize)> = vec![("met", 0), ("not_met", 0), ("unknown", 0)];
    for o in outcomes {
        match counts.iter_mut().find(|(k, _)| *k == o) {
            Some((_, n)) => *n += 1,
            None => counts.push((o, 1)),
        }
    }
    counts.retain(|(_, n)| *n > 0);
    counts
}

/// An outcome in words (`not_met` is "not met").
pub fn plain_outcome(o: &str) -> String {
    o.replace('_', " ")
}

/// The outcome a function has over several tests, as Kleene "all of" reads them.
pub fn overall(outcomes: &[&str]) -> &'static str {
    if outcomes.contains(&"not_met") {
        "not_met"
    } else if outcomes.iter().all(|o| *o == "met") {
        "met"
    } else {
        "unknown"
    }
}

/// Groups results by the rule sets of the pack, then the rules in no set.
fn groups<'a>(pack: &Pack, a: &'a Assessment) -> Vec<(String, Vec<&'a RuleResult>)> {
    let mut groups: Vec<(String, Vec<&RuleResult>)> = pack
        .manifest()
        .sets
        .iter()
        .map(|s| {
            (
                s.title.clone(),
                a.results
                    .iter()
                    .filter(|r| r.set.as_deref() == Some(&s.id))
                    .collect(),
            )
        })
        .collect();
    groups.push((
        "Other rules".into(),
        a.results.iter().filter(|r| r.set.is_none()).collect(),
    ));
    groups.retain(|(_, r)| !r.is_empty());
    groups
}

/// The ids of per-function rules and the functions they were evaluated for, in result order.
fn rules_and_functions<'a>(results: &[&'a RuleResult]) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut rule_ids: Vec<&str> = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    for r in results {
        if !rule_ids.contains(&r.rule.as_str()) {
            rule_ids.push(&r.rule);
        }
        if let Some(f) = r.function.as_deref() {
            if !functions.contains(&f) {
                functions.push(f);
            }
        }
    }
    (rule_ids, functions)
}

/// A criteria set's counts, each with the outcome it counts: for rules on the council, how many
/// are met, not met, unknown (or reach each grade); for per-function rules, how many functions
/// meet them all and how many do not or are unknown.
pub fn set_counts(results: &[&RuleResult]) -> Vec<(String, String)> {
    let council: Vec<&RuleResult> = results.iter().copied().filter(|r| r.function.is_none()).collect();
    let per_function: Vec<&RuleResult> = results.iter().copied().filter(|r| r.function.is_some()).collect();
    let mut counts = Vec::new();
    if !council.is_empty() {
        let mut tallied = tally(council.iter().map(|r| r.outcome.code()));
        // Tests always show all three counts ("0 met" is news); grades show what occurred.
        if council.iter().all(|r| r.kind == handback::RuleKind::Test) {
            for (i, o) in ["met", "not_met", "unknown"].into_iter().enumerate() {
                if !tallied.iter().any(|(k, _)| *k == o) {
                    tallied.insert(i.min(tallied.len()), (o, 0));
                }
            }
        }
        counts.extend(
            tallied
                .into_iter()
                .map(|(o, n)| (o.to_string(), format!("{n} {}", plain_outcome(o)))),
        );
    }
    if !per_function.is_empty() {
        let (rule_ids, functions) = rules_and_functions(&per_function);
        let overall_outcomes: Vec<&str> = functions
            .iter()
            .map(|f| {
                let outcomes: Vec<&str> = per_function
                    .iter()
                    .filter(|r| r.function.as_deref() == Some(f))
                    .map(|r| r.outcome.code())
                    .collect();
                overall(&outcomes)
            })
            .collect();
        for (o, n) in tally(overall_outcomes.into_iter()) {
            counts.push((
                o.to_string(),
                match o {
                    "met" => format!(
                        "{n} of {} functions meet all {}",
                        functions.len(),
                        count_words(rule_ids.len())
                    ),
                    // Beside council-wide counts, say these count functions, not tests.
                    other if !council.is_empty() => format!(
                        "{n} function{} {}",
                        if n == 1 { "" } else { "s" },
                        plain_outcome(other)
                    ),
                    other => format!("{n} {}", plain_outcome(other)),
                },
            ));
        }
    }
    counts
}

/// The assessment: a one-screen summary (each criteria set with its outcomes and counts, one
/// line per function for per-function tests), then the reasons if asked for.
pub fn assessment_table(pack: &Pack, a: &Assessment, explain: Option<Explain>, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} assessed as of {} with pack `{}` {}",
        a.council, a.as_of, a.pack.id, a.pack.version
    );
    out.push_str(&replay_and_overrides(a));
    for (title, results) in groups(pack, a) {
        let council: Vec<&RuleResult> = results.iter().copied().filter(|r| r.function.is_none()).collect();
        let per_function: Vec<&RuleResult> =
            results.iter().copied().filter(|r| r.function.is_some()).collect();
        let in_set = results.iter().any(|r| r.set.is_some());
        let counts: Vec<String> = if in_set {
            set_counts(&results).into_iter().map(|(_, words)| words).collect()
        } else {
            Vec::new()
        };
        if counts.is_empty() {
            let _ = writeln!(out, "\n{title}");
        } else {
            let _ = writeln!(out, "\n{title}: {}", counts.join(", "));
        }
        if !council.is_empty() {
            let rows: Vec<Vec<String>> = council
                .iter()
                .map(|r| {
                    vec![
                        r.rule.clone(),
                        style.paint(r.outcome.code(), &outcome_word(r)),
                        basis_cell(r),
                        r.title.clone(),
                    ]
                })
                .collect();
            out.push_str(&columns(&rows, "  "));
        }
        if !per_function.is_empty() {
            if in_set {
                out.push_str(&function_lines(&per_function, style));
            } else {
                out.push_str(&per_rule_lines(&per_function, style));
            }
        }
    }
    match explain {
        None => {
            let _ = writeln!(
                out,
                "\nReasons: `--explain` for every outcome, `--explain=fails` for those not met or unknown.\n\
                 What can be returned now, with what safeguard: `handback plan EVIDENCE --directions FILE`."
            );
        }
        Some(Explain::All) => {
            let _ = writeln!(out, "\nReasons");
            for r in &a.results {
                reasons(pack, r, false, style, &mut out);
            }
        }
        Some(Explain::Fails) => {
            let _ = writeln!(out, "\nReasons for the outcomes not met or unknown");
            for r in a
                .results
                .iter()
                .filter(|r| r.outcome.code() == "not_met" || r.outcome.code() == "unknown")
            {
                reasons(pack, r, true, style, &mut out);
            }
        }
    }
    out
}

/// What a verdict rests on, for the summary: "on judgement"; nothing for unknown outcomes.
fn basis_cell(r: &RuleResult) -> String {
    r.basis.map(|b| format!("on {b}")).unwrap_or_default()
}

fn reasons(pack: &Pack, r: &RuleResult, fails: bool, style: Style, out: &mut String) {
    let function = r.function.as_ref().map(|f| format!(" [{f}]")).unwrap_or_default();
    let basis = r.basis.map(|b| format!(" (rests on {b})")).unwrap_or_default();
    let _ = writeln!(
        out,
        "\n{}{function}: {}{basis} -- {}",
        r.rule,
        style.paint(r.outcome.code(), &outcome_word(r)),
        r.title
    );
    if let Some(reason) = &r.reason {
        // Graded rules list their levels as parts; every level matters to the grade.
        reason_tree(
            pack,
            reason,
            1,
            fails && r.kind == handback::RuleKind::Test,
            style,
            out,
        );
    }
}

/// Per-function tests condensed: one line per function, saying whether all are met and, if
/// not, which are not met and which unknown; then the tests' titles.
fn function_lines(results: &[&RuleResult], style: Style) -> String {
    let (rule_ids, functions) = rules_and_functions(results);
    let mut rows = Vec::new();
    for f in &functions {
        let of_function: Vec<&RuleResult> = results
            .iter()
            .copied()
            .filter(|r| r.function.as_deref() == Some(f))
            .collect();
        let outcomes: Vec<&str> = of_function.iter().map(|r| r.outcome.code()).collect();
        let cell = if overall(&outcomes) == "met" {
            let weakest = of_function.iter().filter_map(|r| r.basis).max();
            let on = weakest.map(|b| format!(", on {b}")).unwrap_or_default();
            style.paint("met", &format!("all {} met{on}", count_words(of_function.len())))
        } else {
            let mut parts = Vec::new();
            for (o, _) in tally(outcomes.iter().copied())
                .into_iter()
                .filter(|(o, _)| *o != "met")
            {
                let ids: Vec<&str> = of_function
                    .iter()
                    .filter(|r| r.outcome.code() == o)
                    .map(|r| r.rule.as_str())
                    .collect();
                parts.push(style.paint(o, &format!("{}: {}", plain_outcome(o), ids.join(", "))));
            }
            let met: Vec<&str> = of_function
                .iter()
                .filter(|r| r.outcome.code() == "met")
                .map(|r| r.rule.as_str())
                .collect();
            if !met.is_empty() {
                parts.push(format!("met: {}", met.join(", ")));
            }
            parts.join("; ")
        };
        rows.push(vec![f.to_string(), cell]);
    }
    let mut out = columns(&rows, "  ");
    for id in &rule_ids {
        if let Some(r) = results.iter().find(|r| r.rule == *id) {
            let _ = writeln!(out, "  {id}: {}", r.title);
        }
    }
    out
}

/// Per-function rules outside any set (helpers such as "all four met"): the rule, then one line
/// saying for how many functions it is met and for which it is not.
fn per_rule_lines(results: &[&RuleResult], style: Style) -> String {
    let (rule_ids, functions) = rules_and_functions(results);
    let mut out = String::new();
    for id in &rule_ids {
        let of_rule: Vec<&RuleResult> = results.iter().copied().filter(|r| r.rule == *id).collect();
        let mut parts = Vec::new();
        for (o, n) in tally(of_rule.iter().map(|r| r.outcome.code())) {
            if o == "met" {
                parts.push(style.paint(o, &format!("met for {n} of {} functions", functions.len())));
            } else {
                let which: Vec<&str> = of_rule
                    .iter()
                    .filter(|r| r.outcome.code() == o)
                    .filter_map(|r| r.function.as_deref())
                    .collect();
                parts.push(style.paint(o, &format!("{}: {}", plain_outcome(o), which.join(", "))));
            }
        }
        let title = of_rule.first().map(|r| r.title.as_str()).unwrap_or_default();
        let _ = writeln!(out, "  {id}  {title}\n      {}", parts.join("; "));
    }
    out
}

fn mark(outcome: &str, style: Style) -> String {
    let words = match outcome {
        "met" => "[met]".into(),
        "not_met" => "[not met]".into(),
        "unknown" => "[unknown]".into(),
        level => format!("[{level}]"),
    };
    style.paint(outcome, &words)
}

/// One reason and its parts. With `fails`, parts that were met are left out when a sibling
/// failed or is unknown (they are not why), and a line says how many were left out.
fn reason_tree(pack: &Pack, r: &Reason, depth: usize, fails: bool, style: Style, out: &mut String) {
    let indent = "  ".repeat(depth);
    let _ = writeln!(out, "{indent}{} {}", mark(r.outcome.code(), style), r.says);
    let detail = "  ".repeat(depth + 2);
    if let Some(because) = &r.because {
        let _ = writeln!(out, "{detail}because {because}");
    }
    for e in &r.evidence {
        let function = e.function.as_ref().map(|f| format!(" [{f}]")).unwrap_or_default();
        let judged = e
            .judged_by
            .as_ref()
            .map(|j| format!("; judged by {j}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{detail}evidence `{}`{function}: {} on {}, {} ({}, {}{judged})",
            e.id,
            e.value,
            e.date,
            e.basis,
            source_name(pack, &e.source.document),
            e.source.passage
        );
    }
    let prune = fails && r.outcome.code() != "met" && r.parts.iter().any(|p| p.outcome.code() != "met");
    let mut left_out = 0;
    for p in &r.parts {
        if prune && p.outcome.code() == "met" {
            left_out += 1;
            continue;
        }
        reason_tree(pack, p, depth + 1, fails, style, out);
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "{indent}  ({left_out} condition{} met, not shown)",
            if left_out == 1 { "" } else { "s" }
        );
    }
}

fn kind_words(pack: &Pack, rule: &handback::model::Rule) -> String {
    handback::request::kind_words(pack, rule)
}

/// Every rule, for reading in a terminal.
pub fn rules_text(pack: &Pack) -> String {
    let m = pack.manifest();
    let mut out = format!("{} ({} {})\n", m.title, m.id, m.version);
    for rule in pack.rules() {
        let set = rule.set.as_deref().unwrap_or("helper");
        let per = if rule.per_function { ", per function" } else { "" };
        let _ = writeln!(
            out,
            "\n{}  {}  [{set}; {}{per}]",
            rule.id,
            rule.title,
            kind_words(pack, rule)
        );
        let _ = writeln!(out, "  source: {}, {}", rule.citation.source, rule.citation.at);
        let _ = writeln!(out, "  quote: \"{}\"", rule.quote);
        for line in handback::authoring::rule_lines(pack, rule) {
            let _ = writeln!(out, "  {line}");
        }
        for p in pack.parameters_used(rule) {
            let _ = writeln!(
                out,
                "  parameter {} = {}{}",
                p.name,
                p.default,
                if p.assumption { " (assumption)" } else { "" }
            );
        }
        let keys: Vec<&str> = pack.keys_read(rule).iter().map(|k| k.key.as_str()).collect();
        if !keys.is_empty() {
            let _ = writeln!(out, "  reads: {}", keys.join(", "));
        }
    }
    out
}

/// Every rule as Markdown, for review side by side with the sources.
pub fn rules_markdown(pack: &Pack) -> String {
    let m = pack.manifest();
    let mut out = format!(
        "# {}\n\nPack `{}` version {}. Generated by `handback rules --format markdown`; do not edit by hand.\n",
        m.title, m.id, m.version
    );
    if let Some(d) = &m.description {
        let _ = writeln!(out, "\n{d}");
    }
    if !m.sources.is_empty() {
        let _ = writeln!(out, "\n## Sources\n");
        for s in &m.sources {
            let date = s.date.as_ref().map(|d| format!(" ({d})")).unwrap_or_default();
            let _ = writeln!(out, "- `{}`: {}{date}", s.file, s.title);
        }
    }
    let mut sections: Vec<(String, Option<String>)> = m
        .sets
        .iter()
        .map(|s| {
            (
                format!("{} ({}, {})", s.title, s.citation.source, s.citation.at),
                Some(s.id.clone()),
            )
        })
        .collect();
    sections.push(("Helper rules".into(), None));
    for (title, set) in sections {
        let rules: Vec<_> = pack.rules().iter().filter(|r| r.set == set).collect();
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## {title}\n");
        for rule in rules {
            let per = if rule.per_function {
                ", evaluated per function"
            } else {
                ""
            };
            let _ = writeln!(out, "### `{}`: {}\n", rule.id, rule.title);
            let _ = writeln!(
                out,
                "*{}{per}; {}, {}*\n",
                kind_words(pack, rule),
                rule.citation.source,
                rule.citation.at
            );
            let _ = writeln!(out, "> {}\n", rule.quote.replace('\n', "\n> "));
            for line in handback::authoring::rule_lines(pack, rule) {
                let _ = writeln!(out, "{line}");
            }
            let params = pack.parameters_used(rule);
            if !params.is_empty() {
                let _ = writeln!(out, "\nParameters:\n");
                for p in params {
                    let basis = match (&p.rests_on, p.assumption) {
                        (Some(r), true) => format!(" Assumption, resting on: {r}"),
                        (Some(r), false) => format!(" Rests on: {r}"),
                        (None, _) => String::new(),
                    };
                    let _ = writeln!(out, "- `{}` = {}: {}{basis}", p.name, p.default, p.rationale);
                }
            }
            let keys: Vec<String> = pack
                .keys_read(rule)
                .iter()
                .map(|k| format!("`{}`", k.key))
                .collect();
            if !keys.is_empty() {
                let _ = writeln!(out, "\nEvidence keys: {}", keys.join(", "));
            }
            out.push('\n');
        }
    }
    out
}

/// Every rule as JSON, for tools.
pub fn rules_json(pack: &Pack) -> String {
    // Through the request layer, as `handback api` answers `rules`; keys sorted as every JSON
    // answer is written. The digest is what a pack that extends this one pins.
    json(&serde_json::to_value(handback::request::rules(pack)).unwrap_or_default())
}

struct TemplateRow {
    key: String,
    kind: &'static str,
    unit: String,
    direction: String,
    scale: String,
    levels: String,
    scope: &'static str,
    max_age_days: String,
    judgement: bool,
    read_by: String,
    description: String,
}

fn template_rows(pack: &Pack) -> Vec<TemplateRow> {
    pack.keys()
        .iter()
        .map(|k| {
            let (kind, unit, direction, scale) = match &k.value_type {
                ValueType::Boolean => (
                    "boolean",
                    String::new(),
                    "true is better".to_string(),
                    String::new(),
                ),
                ValueType::Number { unit, direction, .. } => (
                    "number",
                    unit.clone(),
                    match direction {
                        handback::model::Direction::HigherIsBetter => "higher is better".into(),
                        handback::model::Direction::LowerIsBetter => "lower is better".into(),
                    },
                    String::new(),
                ),
                ValueType::Grade { scale } => (
                    "grade",
                    String::new(),
                    "higher level is better".into(),
                    scale.clone(),
                ),
                ValueType::Date => ("date", String::new(), String::new(), String::new()),
                ValueType::Text => ("text", String::new(), String::new(), String::new()),
            };
            let levels = pack
                .scales()
                .iter()
                .find(|s| s.id == scale)
                .map(|s| s.levels.join(" < "))
                .unwrap_or_default();
            let read_by: Vec<&str> = pack
                .rules()
                .iter()
                .filter(|r| pack.keys_read(r).iter().any(|x| x.key == k.key))
                .map(|r| r.id.as_str())
                .collect();
            TemplateRow {
                key: k.key.clone(),
                kind,
                unit,
                direction,
                scale,
                levels,
                scope: match k.scope {
                    Scope::Council => "council",
                    Scope::Function => "function",
                },
                max_age_days: k.max_age_days.map(|d| d.to_string()).unwrap_or_default(),
                judgement: k.judgement,
                read_by: read_by.join(" "),
                description: key_description(k),
            }
        })
        .collect()
}

/// A key's description, saying first when evidence may not record it (a derived key) and last
/// whose judgement counts, so whoever fills in the template does not enter what will be refused
/// or skipped.
fn key_description(k: &handback::model::Key) -> String {
    let mut out = String::new();
    if let Some(formula) = &k.derived {
        out.push_str(&format!(
            "Derived: {}, computed by the pack from observations of the same date; not recorded. ",
            formula.named()
        ));
    }
    out.push_str(&k.description);
    if !k.judged_by_roles.is_empty() {
        let roles: Vec<String> = k.judged_by_roles.iter().map(|r| format!("`{r}`")).collect();
        out.push_str(&format!(
            " Counts only judgements whose `role` is {}.",
            roles.join(" or ")
        ));
    }
    out
}

/// One CSV cell: quoted when it must be, and never read by a spreadsheet as a formula (a text
/// that begins `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`; numbers stay
/// numbers).
pub fn csv_cell(s: &str) -> String {
    let formula_like = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula_like {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Rows as CSV, the first being the header.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// One row per outcome (per rule, and per function for per-function rules), for a spreadsheet.
pub fn assessment_csv(a: &Assessment) -> String {
    let mut rows = vec![[
        "rule", "function", "set", "kind", "outcome", "at_least", "basis", "title",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect::<Vec<_>>()];
    for r in &a.results {
        rows.push(vec![
            r.rule.clone(),
            r.function.clone().unwrap_or_default(),
            r.set.clone().unwrap_or_default(),
            r.kind.to_string(),
            r.outcome.code().to_string(),
            r.at_least.clone().unwrap_or_default(),
            r.basis.map(|b| b.word().to_string()).unwrap_or_default(),
            r.title.clone(),
        ]);
    }
    csv(&rows)
}

/// One row per function, for a spreadsheet.
pub fn plan_csv(plan: &Plan) -> String {
    let mut rows = vec![[
        "function",
        "title",
        "power",
        "since",
        "to",
        "until",
        "ready",
        "ready_basis",
        "step",
        "phase",
        "safeguard",
        "blockers",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect::<Vec<_>>()];
    for f in &plan.functions {
        rows.push(vec![
            f.id.clone(),
            f.title.clone(),
            f.power.words().to_string(),
            f.since.map(|d| d.to_string()).unwrap_or_default(),
            f.to.clone().unwrap_or_default(),
            f.until.map(|d| d.to_string()).unwrap_or_default(),
            f.ready.code().to_string(),
            f.ready_basis.map(|b| b.word().to_string()).unwrap_or_default(),
            step_words(f.step).to_string(),
            f.projected_phase.map(|p| p.to_string()).unwrap_or_default(),
            f.safeguard.words().to_string(),
            blocker_summary(&f.blockers, Style { colour: false }),
        ]);
    }
    csv(&rows)
}

/// Every key the pack reads, as CSV: what a commissioner fills in.
pub fn template_csv(pack: &Pack) -> String {
    let mut out = String::from(
        "key,type,unit,direction,scale,levels,scope,max_age_days,judgement,read_by,description\n",
    );
    for r in template_rows(pack) {
        let cells = [
            r.key,
            r.kind.to_string(),
            r.unit,
            r.direction,
            r.scale,
            r.levels,
            r.scope.to_string(),
            r.max_age_days,
            r.judgement.to_string(),
            r.read_by,
            r.description,
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// Every key the pack reads, as JSON.
pub fn template_json(pack: &Pack) -> String {
    let rows: Vec<serde_json::Value> = template_rows(pack)
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "key": r.key, "type": r.kind, "unit": r.unit, "direction": r.direction, "scale": r.scale,
                "levels": r.levels, "scope": r.scope, "max_age_days": r.max_age_days, "judgement": r.judgement,
                "read_by": r.read_by, "description": r.description,
            })
        })
        .collect();
    json(&rows)
}

/// Every key the pack reads, as a Markdown reference (`docs/evidence.md`).
pub fn template_markdown(pack: &Pack) -> String {
    let m = pack.manifest();
    let mut out = format!(
        "# Evidence vocabulary of pack `{}` {}\n\nGenerated by `handback evidence template --format markdown`; do not edit by hand.\n\
         Each observation in an evidence file names one of these keys, a value of its type, a date and a source.\n",
        m.id, m.version
    );
    if pack.keys().iter().any(|k| k.judgement) {
        out.push_str(
            "A judgement names who made it in `judged_by`, and may say in what capacity in `role` \
             (e.g. `inspectorate`, `commissioners`, `council`); a key that lists the roles whose judgement \
             counts skips any other judgement as if it were absent, and `handback lint` warns of it.\n",
        );
    }
    if pack.keys().iter().any(|k| k.derived.is_some()) {
        out.push_str(
            "A derived key is computed by the pack from its inputs observed on the same date; evidence records \
             the inputs, never the derived key itself.\n",
        );
    }
    if !pack.scales().is_empty() {
        out.push_str("\n## Scales\n\n| scale | levels, worst to best | source |\n| --- | --- | --- |\n");
        for s in pack.scales() {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                s.id,
                s.levels.join(" < "),
                s.source.as_deref().unwrap_or("")
            );
        }
    }
    out.push_str("\n## Keys\n\n| key | type | scope | fresh for (days) | judgement | read by | description |\n| --- | --- | --- | --- | --- | --- | --- |\n");
    for r in template_rows(pack) {
        let kind = match (r.kind, r.unit.as_str(), r.scale.as_str()) {
            ("number", unit, _) => {
                let range = pack
                    .key(&r.key)
                    .and_then(|k| k.value_type.range().words())
                    .map(|w| format!(", {w}"))
                    .unwrap_or_default();
                format!("number ({unit}{range}; {})", r.direction)
            }
            ("grade", _, scale) => format!("grade (`{scale}`)"),
            (k, _, _) => k.to_string(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {kind} | {} | {} | {} | {} | {} |",
            r.key,
            r.scope,
            r.max_age_days,
            if r.judgement { "yes" } else { "" },
            r.read_by,
            r.description.replace('|', "\\|")
        );
    }
    out
}

/// A function's readiness in a word or two, with what it rests on: "met on judgement",
/// "recommended 2016-05-31", "not met".
pub fn ready_words(f: &handback::FunctionPlan) -> String {
    match (&f.recommendation, f.ready.code(), f.ready_basis) {
        (_, "met", Some(b)) => format!("met on {b}"),
        (Some(r), _, _) if r.recommended => format!("recommended {}", r.date),
        (Some(r), outcome, _) => format!("{}, not recommended {}", plain_outcome(outcome), r.date),
        (None, outcome, _) => plain_outcome(outcome),
    }
}

/// When a function can come back, in words (shared with the annex).
pub fn step_words(step: Step) -> &'static str {
    match step {
        Step::Transferred => "transferred",
        Step::Returned => "returned",
        Step::AwaitingDecision => "awaiting decision",
        Step::Now => "now",
        Step::Later => "later",
        Step::AtExit => "at exit",
    }
}

/// "Phase 2: some powers restored…", or why there is none.
pub fn phase_words(pack: &Pack, plan: &Plan) -> String {
    match &plan.phase {
        Some(p) => format!("Phase {}: {}", p.number, p.name),
        None if pack.phases().is_empty() => "Phase: the pack declares no phases".into(),
        None => "Phase: none of the pack's phases applies".into(),
    }
}

/// For a pack with several ways out: the best one open, in words.
pub fn exit_words(plan: &Plan) -> String {
    let reached = plan
        .exit
        .outcomes
        .iter()
        .find(|o| o.reached)
        .map(|o| format!("`{}` ({}) is open", o.id, o.name));
    match (reached, plan.exit.outcomes.first()) {
        (Some(r), Some(best)) if best.reached => format!("Exit: {r}, the best way out."),
        (Some(r), _) => format!("Exit: {r}; the better ways out, best first, need what is listed."),
        (None, _) => "Exit: no way out is open yet. Best first:".into(),
    }
}

/// When a safeguard ends or, once it has and the power is plainly returned, when it ended
/// ("returned until D" read as if the return ended on D).
fn until_words(power: handback::Power, until: Option<chrono::NaiveDate>) -> String {
    match (power, until) {
        (_, None) => String::new(),
        (handback::Power::Returned, Some(until)) => format!(" (its safeguard ended on {until})"),
        (_, Some(until)) => format!(" until {until}"),
    }
}

/// A function's power, with to whom it was transferred and when a safeguard ends.
pub fn power_words(f: &handback::FunctionPlan) -> String {
    let mut words = f.power.words().to_string();
    if let Some(to) = &f.to {
        words.push_str(&format!(" to {to}"));
    }
    words.push_str(&until_words(f.power, f.until));
    words
}

/// The plan: phase, tranche, every function, what the end needs, one line per blocked function;
/// with `explain`, the signals behind every blocker.
pub fn plan_table(
    pack: &Pack,
    a: &Assessment,
    plan: &Plan,
    explain: Option<Explain>,
    style: Style,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: plan as of {} with pack `{}` {}",
        a.council, plan.as_of, a.pack.id, a.pack.version
    );
    out.push_str(&replay_and_overrides(a));
    let _ = writeln!(out, "\n{}", phase_words(pack, plan));
    for r in plan.phase.iter().flat_map(|p| &p.reasons) {
        let _ = writeln!(out, "  - {r}");
    }
    let _ = writeln!(out, "\nRecommended tranche (return now)");
    if plan.tranche.is_empty() {
        let _ = writeln!(out, "  none");
    }
    let rows: Vec<Vec<String>> = plan
        .tranche
        .iter()
        .map(|t| vec![t.function.clone(), t.safeguard.words().to_string()])
        .collect();
    out.push_str(&columns(&rows, "  "));
    if !plan.awaiting.is_empty() {
        let _ = writeln!(out, "\nRecommended, awaiting the decision (still held)");
        let rows: Vec<Vec<String>> = plan
            .awaiting
            .iter()
            .map(|w| {
                vec![
                    w.function.clone(),
                    format!("recommended {}", w.recommended),
                    w.safeguard.words().to_string(),
                    source_name(pack, &w.source.document),
                ]
            })
            .collect();
        out.push_str(&columns(&rows, "  "));
    }
    let _ = writeln!(out, "\nFunctions");
    let mut rows = vec![vec![
        "function".to_string(),
        "power".into(),
        "since".into(),
        "ready".into(),
        "when".into(),
        "phase".into(),
    ]];
    for f in &plan.functions {
        rows.push(vec![
            f.id.clone(),
            power_words(f),
            f.since.map(|d| d.to_string()).unwrap_or_default(),
            style.paint(f.ready.code(), &ready_words(f)),
            step_words(f.step).to_string(),
            f.projected_phase.map(|p| p.to_string()).unwrap_or_default(),
        ]);
    }
    out.push_str(&columns(&rows, "  "));
    if !plan.exit.outcomes.is_empty() {
        let _ = writeln!(out, "\n{}", exit_words(plan));
        for o in &plan.exit.outcomes {
            if o.reached {
                let _ = writeln!(out, "  {}: open now", o.id);
            } else {
                let _ = writeln!(out, "  {}: needs {}", o.id, o.needs.join("; "));
            }
        }
    } else if plan.exit.possible {
        let _ = writeln!(out, "\nExit: the intervention can end.");
    } else {
        let _ = writeln!(out, "\nExit: not yet. It needs:");
        for n in &plan.exit.needs {
            let _ = writeln!(out, "  - {n}");
        }
    }
    let blocked: Vec<_> = plan.functions.iter().filter(|f| !f.blockers.is_empty()).collect();
    if !blocked.is_empty() && explain.is_none() {
        let _ = writeln!(out, "\nWhat blocks the rest");
        let rows: Vec<Vec<String>> = blocked
            .iter()
            .map(|f| vec![f.id.clone(), blocker_summary(&f.blockers, style)])
            .collect();
        out.push_str(&columns(&rows, "  "));
        let _ = writeln!(out, "\nThe signals behind each blocker: `--explain`.");
    }
    if !blocked.is_empty() && explain.is_some() {
        let _ = writeln!(out, "\nWhat blocks the rest");
        for f in blocked {
            let _ = writeln!(out, "\n{} ({})", f.id, f.title);
            for b in &f.blockers {
                match b {
                    Blocker::Criterion {
                        rule,
                        title,
                        outcome,
                        signals,
                        ..
                    } => {
                        let _ = writeln!(out, "  - {rule} {}: {title}", outcome.words());
                        for s in signals {
                            let _ = writeln!(out, "      {s}");
                        }
                    }
                    Blocker::Prerequisite { function, reason } => {
                        let _ = writeln!(out, "  - needs `{function}` returned first: {reason}");
                    }
                    Blocker::HeldUntilExit { reason } => {
                        let _ = writeln!(out, "  - held until the intervention ends: {reason}");
                    }
                    Blocker::NotRecommended {
                        date,
                        observation,
                        source,
                    } => {
                        let _ = writeln!(
                            out,
                            "  - not yet recommended on {date} (`{observation}`: {}, {})",
                            source.document, source.passage
                        );
                    }
                }
            }
        }
    }
    out
}

/// A function's blockers on one line: the criteria not met, those unknown, the prerequisites.
fn blocker_summary(blockers: &[Blocker], style: Style) -> String {
    let mut parts = Vec::new();
    for outcome in ["not_met", "unknown"] {
        let rules: Vec<&str> = blockers
            .iter()
            .filter_map(|b| match b {
                Blocker::Criterion { rule, outcome: o, .. } if o.code() == outcome => Some(rule.as_str()),
                _ => None,
            })
            .collect();
        if !rules.is_empty() {
            parts.push(style.paint(
                outcome,
                &format!("{}: {}", plain_outcome(outcome), rules.join(", ")),
            ));
        }
    }
    let needs: Vec<String> = blockers
        .iter()
        .filter_map(|b| match b {
            Blocker::Prerequisite { function, .. } => Some(format!("`{function}`")),
            _ => None,
        })
        .collect();
    if !needs.is_empty() {
        parts.push(format!("needs {} returned first", needs.join(", ")));
    }
    if blockers
        .iter()
        .any(|b| matches!(b, Blocker::HeldUntilExit { .. }))
    {
        parts.push("held until the intervention ends".into());
    }
    for b in blockers {
        if let Blocker::NotRecommended { date, .. } = b {
            parts.push(format!("not yet recommended ({date})"));
        }
    }
    parts.join("; ")
}

/// Who holds what on a date.
pub fn grid_table(
    pack: &Pack,
    directions: &Directions,
    label: &str,
    as_of: chrono::NaiveDate,
    grid: &[Holding],
) -> String {
    let mut out = format!("{}: powers as of {as_of} ({label})\n\n", directions.council());
    let mut rows = vec![vec![
        "function".to_string(),
        "power".into(),
        "since".into(),
        "instrument".into(),
    ]];
    for h in grid {
        let mut power = h.power.words().to_string();
        if let Some(to) = &h.to {
            power.push_str(&format!(" to {to}"));
        }
        power.push_str(&until_words(h.power, h.until));
        if h.expired {
            power.push_str(" (the Directions have expired)");
        }
        rows.push(vec![
            h.function.clone(),
            power,
            h.since
                .map(|d| d.to_string())
                .unwrap_or_else(|| "(before any instrument)".into()),
            h.instrument.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&columns(&rows, "  "));
    let held: Vec<&str> = grid
        .iter()
        .filter(|h| h.power.is_held())
        .map(|h| h.function.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\n{} of {} functions held by Commissioners: {}",
        held.len(),
        pack.functions().len(),
        held.join(", ")
    );
    let advice: Vec<&str> = grid
        .iter()
        .filter(|h| h.power == handback::Power::Advice)
        .map(|h| h.function.as_str())
        .collect();
    if !advice.is_empty() {
        let _ = writeln!(
            out,
            "Returned with a residual power of formal Advice: {}",
            advice.join(", ")
        );
    }
    let effective: Vec<String> = directions
        .taking_effect(as_of)
        .map(|i| format!("`{}` ({})", i.id, i.title))
        .collect();
    if !effective.is_empty() {
        let _ = writeln!(
            out,
            "Taking effect on {as_of}, from the previous midnight: {}. Decisions taken that day under the previous Directions may be invalid.",
            effective.join("; ")
        );
    }
    out
}

/// Audit findings: one row per decision, invalid ones marked.
pub fn audit_table(findings: &[handback::audit::Finding]) -> String {
    let mut rows = vec![vec![
        "line".to_string(),
        "decided at".into(),
        "function".into(),
        "by".into(),
        "verdict".into(),
        "because".into(),
    ]];
    for f in findings {
        rows.push(vec![
            f.decision.line.to_string(),
            f.decision.at.format("%Y-%m-%d %H:%M").to_string(),
            f.decision.function.clone(),
            match f.decision.decided_by {
                handback::audit::Decider::Commissioners => "commissioners".into(),
                handback::audit::Decider::Council => "council".into(),
                handback::audit::Decider::Transferee => "transferee".into(),
            },
            if f.valid { "valid".into() } else { "INVALID".into() },
            f.because.clone(),
        ]);
    }
    let invalid = findings.iter().filter(|f| !f.valid).count();
    format!(
        "{}\n{invalid} of {} decisions invalid\n",
        columns(&rows, ""),
        findings.len()
    )
}

/// Suggested effective dates with the reasons.
pub fn dates_table(minded: chrono::NaiveDate, dates: &[handback::audit::EffectiveDate]) -> String {
    let mut out =
        format!("Effective dates for new Directions (Secretary of State minded to accept on {minded})\n");
    for d in dates {
        let _ = writeln!(out, "\n{} ({})", d.date, d.date.format("%A"));
        for n in &d.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}
