//! Rendering assessments and packs for people (tables, Markdown) and tools (JSON, CSV).
//!
//! Output is deterministic: it follows the library's sorted order and formats numbers one way,
//! so the same inputs print the same bytes.

use std::fmt::Write as _;

use handback::{
    Assessment, Blocker, Body, Directions, Holding, Pack, Plan, Reason, RuleResult, Scope, Step, ValueType,
};

/// Pretty JSON with a final newline.
pub fn json<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(s) => s + "\n",
        Err(e) => format!("{{\"error\": \"cannot serialise output: {e}\"}}\n"),
    }
}

fn outcome_word(r: &RuleResult) -> String {
    match (r.outcome.as_str(), &r.at_least) {
        ("not_met", _) => "not met".into(),
        ("unknown", Some(l)) => format!("unknown (at least {l})"),
        (o, _) => o.into(),
    }
}

/// Lays out rows as left-aligned columns separated by two spaces.
pub fn columns(rows: &[Vec<String>], indent: &str) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
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
                    .saturating_sub(cell.chars().count())
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

/// The assessment as tables, then (unless `brief`) the reasons for every outcome.
pub fn assessment_table(pack: &Pack, a: &Assessment, brief: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} assessed as of {} with pack `{}` {}",
        a.council, a.as_of, a.pack.id, a.pack.version
    );
    out.push_str(&replay_and_overrides(a));
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
    for (title, results) in groups.iter().filter(|(_, r)| !r.is_empty()) {
        let _ = writeln!(out, "\n{title}");
        let council: Vec<&RuleResult> = results.iter().copied().filter(|r| r.function.is_none()).collect();
        let per_function: Vec<&RuleResult> =
            results.iter().copied().filter(|r| r.function.is_some()).collect();
        if !council.is_empty() {
            let rows: Vec<Vec<String>> = council
                .iter()
                .map(|r| vec![r.rule.clone(), outcome_word(r), r.title.clone()])
                .collect();
            out.push_str(&columns(&rows, "  "));
        }
        if !per_function.is_empty() {
            out.push_str(&function_matrix(&per_function));
        }
    }
    if brief {
        return out;
    }
    let _ = writeln!(out, "\nReasons");
    for r in &a.results {
        let function = r.function.as_ref().map(|f| format!(" [{f}]")).unwrap_or_default();
        let _ = writeln!(out, "\n{}{function}: {} -- {}", r.rule, outcome_word(r), r.title);
        if let Some(reason) = &r.reason {
            reason_tree(reason, 1, &mut out);
        }
    }
    out
}

/// Per-function outcomes as a matrix: a row per function, a column per rule, then a key.
fn function_matrix(results: &[&RuleResult]) -> String {
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
    let header = std::iter::once("function".to_string()).chain(rule_ids.iter().map(|s| s.to_string()));
    let mut rows = vec![header.collect::<Vec<_>>()];
    for f in &functions {
        let mut row = vec![f.to_string()];
        for id in &rule_ids {
            let cell = results
                .iter()
                .find(|r| r.rule == *id && r.function.as_deref() == Some(f))
                .map(|r| outcome_word(r))
                .unwrap_or_default();
            row.push(cell);
        }
        rows.push(row);
    }
    let mut out = columns(&rows, "  ");
    for id in &rule_ids {
        if let Some(r) = results.iter().find(|r| r.rule == *id) {
            let _ = writeln!(out, "  {id}: {}", r.title);
        }
    }
    out
}

fn mark(outcome: &str) -> String {
    match outcome {
        "met" => "[met]".into(),
        "not_met" => "[not met]".into(),
        "unknown" => "[unknown]".into(),
        level => format!("[{level}]"),
    }
}

fn reason_tree(r: &Reason, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let _ = writeln!(out, "{indent}{} {}", mark(&r.outcome), r.says);
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
            "{detail}evidence `{}`{function}: {} on {} ({}, {}{judged})",
            e.id, e.value, e.date, e.source.document, e.source.passage
        );
    }
    for p in &r.parts {
        reason_tree(p, depth + 1, out);
    }
}

fn kind_words(pack: &Pack, body: &Body) -> String {
    match body {
        Body::Test(_) => "test".into(),
        Body::Graded { scale, .. } => {
            let name = pack.scales().get(*scale).map(|s| s.id.as_str()).unwrap_or("?");
            format!("graded on `{name}`")
        }
    }
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
            kind_words(pack, &rule.body)
        );
        let _ = writeln!(out, "  source: {}, {}", rule.citation.source, rule.citation.at);
        let _ = writeln!(out, "  quote: \"{}\"", rule.quote);
        for line in handback::rule_lines(pack, rule) {
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
                kind_words(pack, &rule.body),
                rule.citation.source,
                rule.citation.at
            );
            let _ = writeln!(out, "> {}\n", rule.quote.replace('\n', "\n> "));
            for line in handback::rule_lines(pack, rule) {
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
    let rules: Vec<serde_json::Value> = pack
        .rules()
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "title": r.title,
                "set": r.set,
                "kind": kind_words(pack, &r.body),
                "per_function": r.per_function,
                "monotone": r.monotone,
                "quote": r.quote,
                "quote_sha256": handback::sha256(handback::normalise_quote(&r.quote).as_bytes()),
                "citation": r.citation,
                "reading": handback::rule_sentence(pack, r),
                "parameters": pack.parameters_used(r).iter().map(|p| &p.name).collect::<Vec<_>>(),
                "keys": pack.keys_read(r).iter().map(|k| &k.key).collect::<Vec<_>>(),
            })
        })
        .collect();
    json(&serde_json::json!({ "pack": pack.manifest(), "rules": rules }))
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
                        handback::Direction::HigherIsBetter => "higher is better".into(),
                        handback::Direction::LowerIsBetter => "lower is better".into(),
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
                description: k.description.clone(),
            }
        })
        .collect()
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
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

fn step_words(step: Step) -> &'static str {
    match step {
        Step::Returned => "returned",
        Step::Now => "now",
        Step::Later => "later",
        Step::AtExit => "at exit",
    }
}

/// The plan: phase, tranche, every function, what the end needs, then the blockers.
pub fn plan_table(a: &Assessment, plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: plan as of {} with pack `{}` {}",
        a.council, plan.as_of, a.pack.id, a.pack.version
    );
    out.push_str(&replay_and_overrides(a));
    let _ = writeln!(out, "\nPhase {}: {}", plan.phase.number, plan.phase.name);
    for r in &plan.phase.reasons {
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
            f.power.words().to_string(),
            f.since.map(|d| d.to_string()).unwrap_or_default(),
            f.ready.replace('_', " "),
            step_words(f.step).to_string(),
            f.projected_phase.map(|p| p.to_string()).unwrap_or_default(),
        ]);
    }
    out.push_str(&columns(&rows, "  "));
    if plan.exit.possible {
        let _ = writeln!(out, "\nExit: the intervention can end.");
    } else {
        let _ = writeln!(out, "\nExit: not yet. It needs:");
        for n in &plan.exit.needs {
            let _ = writeln!(out, "  - {n}");
        }
    }
    let blocked: Vec<_> = plan.functions.iter().filter(|f| !f.blockers.is_empty()).collect();
    if !blocked.is_empty() {
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
                        let _ = writeln!(out, "  - {rule} {}: {title}", outcome.replace('_', " "));
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
                }
            }
        }
    }
    out
}

/// Who holds what on a date.
pub fn grid_table(
    pack: &Pack,
    directions: &Directions,
    label: &str,
    as_of: chrono::NaiveDate,
    grid: &[Holding],
) -> String {
    let mut out = format!("{}: powers as of {as_of} ({label})\n\n", directions.council);
    let mut rows = vec![vec![
        "function".to_string(),
        "power".into(),
        "since".into(),
        "instrument".into(),
    ]];
    for h in grid {
        rows.push(vec![
            h.function.clone(),
            h.power.words().to_string(),
            h.since
                .map(|d| d.to_string())
                .unwrap_or_else(|| "(before any instrument)".into()),
            h.instrument.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&columns(&rows, "  "));
    let held: Vec<&str> = grid
        .iter()
        .filter(|h| !h.power.is_returned())
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
pub fn audit_table(findings: &[handback::Finding]) -> String {
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
                handback::Decider::Commissioners => "commissioners".into(),
                handback::Decider::Council => "council".into(),
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
pub fn dates_table(minded: chrono::NaiveDate, dates: &[handback::EffectiveDate]) -> String {
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
