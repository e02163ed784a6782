//! The evidence annex to a quarterly letter, as Markdown or a standalone HTML page.
//!
//! Both formats are rendered from one list of blocks, so they always say the same thing: for each
//! criterion the seed quote, the verdict, the evidence table with sources and margins, and which
//! verdicts rest on people's judgements; for a plan, the grid and the picture.

use std::fmt::Write as _;

use handback::{Assessment, Pack, Plan, Reason, RuleResult};

use crate::render;

/// A table cell or a run of text: plain words, or an outcome (the words, and the outcome they
/// say, for colour). Colour is never the only carrier: the words are always printed.
enum Cell {
    Text(String),
    Outcome(String, String),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

fn outcome_cell(outcome: &str, words: impl Into<String>) -> Cell {
    Cell::Outcome(outcome.to_string(), words.into())
}

enum Block {
    /// A heading, with the outcome it announces (if any).
    Heading(u8, String, Option<Cell>),
    Paragraph(String),
    Quote(String),
    Table(Vec<String>, Vec<Vec<Cell>>),
    /// A list whose items are runs of text and outcomes (the summary).
    Items(Vec<Vec<Cell>>),
    /// Raw HTML (the SVG picture); Markdown gets the alternative text.
    Html(String, String),
}

/// What the annex is about besides the assessment.
pub struct Context<'a> {
    pub pack: &'a Pack,
    pub assessment: &'a Assessment,
    pub evidence_digest: String,
    pub plan: Option<&'a Plan>,
    pub picture: Option<String>,
}

fn outcome_words(r: &RuleResult) -> String {
    match (r.outcome.code(), &r.at_least) {
        ("not_met", _) => "not met".into(),
        ("unknown", Some(l)) => format!("unknown (at least {l})"),
        (o, _) => o.into(),
    }
}

/// The verdict in words, with the weakest basis it rests on ("not met, on a measured figure"), so
/// a reader sees at once which verdicts rest on someone's word or on a recorded decision.
fn result_cell(r: &RuleResult) -> Cell {
    let on = r.basis.map(|b| format!(", on {b}")).unwrap_or_default();
    outcome_cell(r.outcome.code(), format!("{}{on}", outcome_words(r)))
}

fn leaves<'a>(reason: &'a Reason, out: &mut Vec<&'a Reason>) {
    if reason.parts.is_empty() {
        out.push(reason);
    }
    for p in &reason.parts {
        leaves(p, out);
    }
}

const EVIDENCE_HEADER: [&str; 7] = [
    "signal", "outcome", "evidence", "value", "date", "source", "margin",
];

fn evidence_rows(pack: &Pack, reason: &Reason) -> Vec<Vec<Cell>> {
    let mut found = Vec::new();
    leaves(reason, &mut found);
    let mut rows = Vec::new();
    for leaf in found {
        let margin = leaf
            .margin
            .map(|m| {
                if m >= 0.0 {
                    format!("{} to spare", handback::format_number(m))
                } else {
                    format!("{} short", handback::format_number(-m))
                }
            })
            .unwrap_or_default();
        let outcome = || outcome_cell(leaf.outcome.code(), render::plain_outcome(leaf.outcome.code()));
        if leaf.evidence.is_empty() {
            rows.push(vec![
                leaf.says.clone().into(),
                outcome(),
                leaf.because.clone().unwrap_or_default().into(),
                "".into(),
                "".into(),
                "".into(),
                margin.clone().into(),
            ]);
        }
        for e in &leaf.evidence {
            let judged = e.judged_by.as_ref().map(|j| format!(", {j}")).unwrap_or_default();
            rows.push(vec![
                leaf.says.clone().into(),
                outcome(),
                format!("`{}` ({}{judged})", e.id, e.basis).into(),
                e.value.to_string().into(),
                e.date.to_string().into(),
                format!(
                    "{}, {}",
                    render::source_name(pack, &e.source.document),
                    e.source.passage
                )
                .into(),
                margin.clone().into(),
            ]);
        }
    }
    rows
}

fn function_title(pack: &Pack, id: &str) -> String {
    pack.functions()
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.title.clone())
        .unwrap_or_default()
}

/// A summary item: a lead, then the parts separated by semicolons, then a full stop.
fn listed(lead: &str, parts: impl Iterator<Item = String>) -> Vec<Cell> {
    let parts: Vec<String> = parts.collect();
    vec![format!("{lead}{}.", parts.join("; ")).into()]
}

/// The summary at the top: each criteria set with its counts, the functions that do not yet
/// meet per-function tests, and for a plan the phase, the tranche and the end.
fn summary(c: &Context<'_>) -> Vec<Block> {
    let a = c.assessment;
    let m = c.pack.manifest();
    let mut items: Vec<Vec<Cell>> = Vec::new();
    if let Some(plan) = c.plan {
        items.push(vec![format!("{}.", render::phase_words(c.pack, plan)).into()]);
        if plan.tranche.is_empty() {
            items.push(vec!["No function is recommended for return now.".into()]);
        } else {
            items.push(listed(
                "Recommended for return now: ",
                plan.tranche
                    .iter()
                    .map(|t| format!("`{}` {}", t.function, t.safeguard.words())),
            ));
        }
        if !plan.awaiting.is_empty() {
            items.push(listed(
                "Recommended and awaiting the decision (still held): ",
                plan.awaiting.iter().map(|w| {
                    format!(
                        "`{}`, recommended {} ({}), {}",
                        w.function,
                        w.recommended,
                        render::source_name(c.pack, &w.source.document),
                        w.safeguard.words()
                    )
                }),
            ));
        }
        items.push(if !plan.exit.outcomes.is_empty() {
            vec![outcome_cell(
                if plan.exit.reached.is_some() {
                    "met"
                } else {
                    "not_met"
                },
                render::exit_words(plan),
            )]
        } else if plan.exit.possible {
            vec![outcome_cell("met", "The intervention can end.")]
        } else {
            vec![
                outcome_cell("not_met", "The intervention cannot end yet"),
                format!(": it needs {}.", plan.exit.needs.join("; ")).into(),
            ]
        });
    }
    for set in &m.sets {
        let results: Vec<&RuleResult> = a
            .results
            .iter()
            .filter(|r| r.set.as_deref() == Some(&set.id))
            .collect();
        if results.is_empty() {
            continue;
        }
        let mut item: Vec<Cell> = vec![format!("{}: ", set.title).into()];
        for (i, (outcome, words)) in render::set_counts(&results).into_iter().enumerate() {
            if i > 0 {
                item.push(", ".into());
            }
            item.push(outcome_cell(&outcome, words));
        }
        let per_function: Vec<&RuleResult> =
            results.iter().copied().filter(|r| r.function.is_some()).collect();
        let mut functions: Vec<&str> = Vec::new();
        for f in per_function.iter().filter_map(|r| r.function.as_deref()) {
            if !functions.contains(&f) {
                functions.push(f);
            }
        }
        let mut lagging: Vec<(String, String)> = Vec::new();
        for f in functions {
            let outcomes: Vec<&str> = per_function
                .iter()
                .filter(|r| r.function.as_deref() == Some(f))
                .map(|r| r.outcome.code())
                .collect();
            let o = render::overall(&outcomes);
            if o != "met" {
                lagging.push((o.to_string(), format!("`{f}`")));
            }
        }
        let mut which = Vec::new();
        for o in ["not_met", "unknown"] {
            let names: Vec<&str> = lagging
                .iter()
                .filter(|(k, _)| k == o)
                .map(|(_, f)| f.as_str())
                .collect();
            if !names.is_empty() {
                which.push(format!("{}: {}", render::plain_outcome(o), names.join(", ")));
            }
        }
        if !which.is_empty() {
            item.push(format!(" ({})", which.join("; ")).into());
        }
        item.push(".".into());
        items.push(item);
    }
    let judged = judgement_rows(a).len();
    if judged > 0 {
        items.push(vec![format!(
            "Verdicts resting on recorded judgements by named people: {judged} (listed at the end)."
        )
        .into()]);
    }
    vec![Block::Heading(2, "Summary".into(), None), Block::Items(items)]
}

fn judgement_rows(a: &Assessment) -> Vec<Vec<String>> {
    let mut judgements: Vec<Vec<String>> = Vec::new();
    for r in &a.results {
        let mut found = Vec::new();
        if let Some(reason) = &r.reason {
            leaves(reason, &mut found);
        }
        for leaf in found {
            for e in leaf.evidence.iter().filter(|e| e.judged_by.is_some()) {
                let used_by = match &r.function {
                    Some(f) => format!("`{}` for `{f}`", r.rule),
                    None => format!("`{}`", r.rule),
                };
                let row = vec![
                    format!("`{}`", e.id),
                    format!("`{}`", e.key),
                    e.judged_by.clone().unwrap_or_default(),
                    e.date.to_string(),
                    used_by,
                ];
                if !judgements.contains(&row) {
                    judgements.push(row);
                }
            }
        }
    }
    judgements
}

fn blocks(c: &Context<'_>) -> Vec<Block> {
    let a = c.assessment;
    let m = c.pack.manifest();
    let mut out = vec![
        Block::Heading(1, format!("Evidence annex: {}, as of {}", a.council, a.as_of), None),
        Block::Paragraph(format!(
            "Assessed by {} with pack `{}` {} (digest `{}`) over evidence with digest `{}`. Every verdict below can be reproduced with `handback verify` from the report these inputs produce.",
            a.engine, m.id, m.version, c.pack.digests().pack, c.evidence_digest
        )),
    ];
    if let Some(k) = a.known_at {
        out.push(Block::Paragraph(format!(
            "Using only evidence recorded by {k}; {} observation(s) recorded later are left out: {}.",
            a.hidden.len(),
            a.hidden.join(", ")
        )));
    }
    let overridden: Vec<String> = a
        .parameters
        .iter()
        .filter(|p| p.overridden)
        .map(|p| format!("`{}` = {}", p.name, p.value))
        .collect();
    if !overridden.is_empty() {
        out.push(Block::Paragraph(format!(
            "Parameters overridden: {}.",
            overridden.join(", ")
        )));
    }
    out.extend(summary(c));
    if let Some(plan) = c.plan {
        out.push(Block::Heading(
            2,
            match &plan.phase {
                Some(p) => format!("Plan: phase {} ({})", p.number, p.name),
                None => "Plan".to_string(),
            },
            None,
        ));
        let rows = plan
            .functions
            .iter()
            .map(|f| {
                vec![
                    format!("`{}`", f.id).into(),
                    render::power_words(f).into(),
                    outcome_cell(f.ready.code(), f.ready.words().to_string()),
                    render::step_words(f.step).into(),
                    f.projected_phase
                        .map(|p| p.to_string())
                        .unwrap_or_default()
                        .into(),
                ]
            })
            .collect();
        out.push(Block::Table(
            ["function", "power", "ready", "when", "phase"]
                .map(String::from)
                .to_vec(),
            rows,
        ));
        if let Some(svg) = &c.picture {
            out.push(Block::Html(
                svg.clone(),
                "(the function graph: see `handback graph`)".into(),
            ));
        }
    }
    for set in &m.sets {
        let results: Vec<&RuleResult> = a
            .results
            .iter()
            .filter(|r| r.set.as_deref() == Some(&set.id))
            .collect();
        if results.is_empty() {
            continue;
        }
        out.push(Block::Heading(
            2,
            format!(
                "{} ({}, {})",
                set.title,
                render::source_name(c.pack, &set.citation.source),
                set.citation.at
            ),
            None,
        ));
        let per_function = results.iter().any(|r| r.function.is_some());
        if per_function {
            out.extend(per_function_blocks(c, &results));
            continue;
        }
        for r in results {
            let Some(rule) = c.pack.rule(&r.rule) else {
                continue;
            };
            out.push(Block::Heading(
                3,
                format!("`{}`: {}", rule.id, rule.title),
                Some(result_cell(r)),
            ));
            out.push(Block::Quote(rule.quote.clone()));
            out.push(Block::Paragraph(format!(
                "{}, {}.",
                render::source_name(c.pack, &rule.citation.source),
                rule.citation.at
            )));
            if let Some(reason) = &r.reason {
                out.push(Block::Table(
                    EVIDENCE_HEADER.map(String::from).to_vec(),
                    evidence_rows(c.pack, reason),
                ));
            }
        }
    }
    let judgements = judgement_rows(a);
    if !judgements.is_empty() {
        out.push(Block::Heading(2, "Verdicts that rest on judgements".into(), None));
        out.push(Block::Paragraph(
            "These observations are recorded judgements by named people, not measured facts; the verdicts listed rest on them."
                .into(),
        ));
        out.push(Block::Table(
            ["observation", "key", "judged by", "date", "used by"]
                .map(String::from)
                .to_vec(),
            judgements
                .into_iter()
                .map(|row| row.into_iter().map(Cell::Text).collect())
                .collect(),
        ));
    }
    // Verdicts that stand only because of a recorded decision, a reconstruction, an observation
    // of unstated basis or a what-if: an auditor re-runs them with `--exclude-basis`.
    let weak: Vec<Vec<Cell>> = a
        .results
        .iter()
        .filter(|r| r.basis.is_some_and(|b| b >= handback::Basis::Decision))
        .map(|r| {
            let rule = match &r.function {
                Some(f) => format!("`{}` for `{f}`", r.rule),
                None => format!("`{}`", r.rule),
            };
            vec![
                Cell::Text(rule),
                result_cell(r),
                Cell::Text(r.basis.map(|b| b.word().to_string()).unwrap_or_default()),
            ]
        })
        .collect();
    out.push(Block::Heading(
        2,
        "Verdicts that rest on decisions or reconstructions".into(),
        None,
    ));
    if weak.is_empty() {
        out.push(Block::Paragraph(
            "None: every verdict that is not unknown rests on measured figures, documents or named judgements.".into(),
        ));
    } else {
        out.push(Block::Paragraph(
            "These verdicts would not stand on the evidence alone: they rest on a recorded decision (a recommendation standing for the judgement behind it), a reconstruction, or an observation that does not say its basis. `handback assess … --exclude-basis decision --exclude-basis reconstructed` shows what remains.".into(),
        ));
        out.push(Block::Table(
            ["verdict", "outcome", "weakest basis"].map(String::from).to_vec(),
            weak,
        ));
    }
    out
}

/// A per-function set (the four return tests): the tests and their quotes, the matrix, then the
/// evidence for each function, so a return can be checked against what it rests on.
fn per_function_blocks(c: &Context<'_>, results: &[&RuleResult]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut rules: Vec<&str> = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    for r in results {
        if !rules.contains(&r.rule.as_str()) {
            rules.push(&r.rule);
        }
        if let Some(f) = r.function.as_deref() {
            if !functions.contains(&f) {
                functions.push(f);
            }
        }
    }
    for id in &rules {
        if let Some(rule) = c.pack.rule(id) {
            out.push(Block::Heading(3, format!("`{}`: {}", rule.id, rule.title), None));
            out.push(Block::Quote(rule.quote.clone()));
        }
    }
    // Each cell found by (rule, function) in an index, not by a search of every result.
    let cells: std::collections::BTreeMap<(&str, &str), &RuleResult> = results
        .iter()
        .filter_map(|r| Some(((r.rule.as_str(), r.function.as_deref()?), *r)))
        .collect();
    let find = |id: &str, f: &str| cells.get(&(id, f)).copied();
    let header = std::iter::once("function".to_string())
        .chain(rules.iter().map(|r| format!("`{r}`")))
        .collect();
    let rows = functions
        .iter()
        .map(|f| {
            std::iter::once(Cell::Text(format!("`{f}`")))
                .chain(rules.iter().map(|id| match find(id, f) {
                    Some(r) => result_cell(r),
                    None => Cell::Text(String::new()),
                }))
                .collect()
        })
        .collect();
    out.push(Block::Table(header, rows));
    out.push(Block::Heading(3, "Evidence per function".into(), None));
    for f in &functions {
        let of_function: Vec<&RuleResult> = rules.iter().filter_map(|id| find(id, f)).collect();
        let outcomes: Vec<&str> = of_function.iter().map(|r| r.outcome.code()).collect();
        let overall = render::overall(&outcomes);
        let verdict = if overall == "met" {
            format!("all {} met", render::count_words(of_function.len()))
        } else {
            render::plain_outcome(overall)
        };
        out.push(Block::Heading(
            4,
            format!("`{f}`: {}", function_title(c.pack, f)),
            Some(outcome_cell(overall, verdict)),
        ));
        let mut header = vec!["test".to_string()];
        header.extend(EVIDENCE_HEADER.map(String::from));
        let mut rows = Vec::new();
        for r in &of_function {
            if let Some(reason) = &r.reason {
                for row in evidence_rows(c.pack, reason) {
                    let mut cells = vec![Cell::Text(format!("`{}`", r.rule))];
                    cells.extend(row);
                    rows.push(cells);
                }
            }
        }
        out.push(Block::Table(header, rows));
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn cell_text(c: &Cell) -> &str {
    match c {
        Cell::Text(t) | Cell::Outcome(_, t) => t,
    }
}

/// The annex as Markdown.
pub fn markdown(c: &Context<'_>) -> String {
    let mut out = String::new();
    for b in blocks(c) {
        match b {
            Block::Heading(level, text, outcome) => {
                let outcome = outcome
                    .map(|o| format!(": {}", cell_text(&o)))
                    .unwrap_or_default();
                let _ = writeln!(out, "{} {text}{outcome}\n", "#".repeat(usize::from(level)));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::Quote(text) => {
                let _ = writeln!(out, "> {}\n", text.replace('\n', "\n> "));
            }
            Block::Table(header, rows) => {
                let _ = writeln!(
                    out,
                    "| {} |",
                    header.iter().map(|h| md_cell(h)).collect::<Vec<_>>().join(" | ")
                );
                let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
                for row in rows {
                    let _ = writeln!(
                        out,
                        "| {} |",
                        row.iter()
                            .map(|c| md_cell(cell_text(c)))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                }
                out.push('\n');
            }
            Block::Items(items) => {
                for item in items {
                    let text: String = item.iter().map(cell_text).collect();
                    let _ = writeln!(out, "- {}", text.replace('\n', " "));
                }
                out.push('\n');
            }
            Block::Html(_, alt) => {
                let _ = writeln!(out, "{alt}\n");
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Backticked code spans become `<code>`, after escaping.
fn inline(s: &str) -> String {
    let escaped = esc(s);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The class an outcome is coloured by: the three outcomes, and every grade alike.
fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "met" => "met",
        "not_met" => "not-met",
        "unknown" => "unknown",
        "not_gated" => "neutral",
        _ => "grade",
    }
}

fn html_cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => inline(t),
        Cell::Outcome(o, t) => format!(
            "<span class=\"outcome {}\">{}</span>",
            outcome_class(o),
            inline(t)
        ),
    }
}

/// The stylesheet: quiet type for print, outcome colours always beside their words (and
/// printed, not dropped by the browser), and the function graph scaled to the page.
const STYLE: &str = "\
@page { size: A4; margin: 16mm 14mm; }
body { font-family: Georgia, 'Times New Roman', serif; font-size: 11pt; line-height: 1.4; max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; color: #1d2125; }
h1, h2, h3, h4 { font-family: Helvetica, Arial, sans-serif; line-height: 1.25; page-break-after: avoid; break-after: avoid; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #1d2125; padding-bottom: 0.3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #adb5bd; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
h4 { font-size: 0.95rem; margin: 1.2rem 0 0.3rem; }
p.provenance { font-size: 0.85rem; color: #495057; }
section.summary { border: 1px solid #adb5bd; background: #f8f9fa; padding: 0.2rem 1.2rem 0.6rem; margin: 1.2rem 0; page-break-inside: avoid; break-inside: avoid; }
section.summary li { margin: 0.35rem 0; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-family: Helvetica, Arial, sans-serif; font-size: 0.8rem; width: 100%; }
th, td { border: 1px solid #ced4da; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #e9ecef; }
table.evidence { table-layout: fixed; }
table.evidence th.col-test { width: 8%; }
table.evidence th.col-signal { width: 22%; }
table.evidence th.col-outcome { width: 9%; }
table.evidence th.col-evidence { width: 15%; }
table.evidence th.col-value { width: 8%; }
table.evidence th.col-date { width: 10%; }
table.evidence th.col-source { width: 30%; }
table.evidence th.col-margin { width: 8%; }
table.evidence td { overflow-wrap: anywhere; }
table.evidence code { white-space: normal; }
tr { page-break-inside: avoid; break-inside: avoid; }
blockquote { border-left: 3px solid #adb5bd; margin: 0.5rem 0; padding: 0.1rem 1rem; color: #495057; font-style: italic; }
code { font-family: Menlo, Consolas, monospace; font-size: 0.9em; background: #f1f3f5; padding: 0 2px; white-space: nowrap; }
td.date { white-space: nowrap; }
.outcome { display: inline-block; padding: 0 0.4em; border: 1px solid; border-radius: 3px; font-family: Helvetica, Arial, sans-serif; font-weight: bold; font-size: 0.9em; white-space: nowrap; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.outcome.met { background: #d3f9d8; color: #1b5e20; border-color: #2b8a3e; }
.outcome.not-met { background: #ffe3e3; color: #8f1d1d; border-color: #c92a2a; }
.outcome.unknown { background: #fff3bf; color: #6b4f00; border-color: #e67700; }
.outcome.grade { background: #e7f5ff; color: #0b4f8a; border-color: #1971c2; }
.outcome.neutral { background: #f1f3f5; color: #343a40; border-color: #868e96; }
figure.graph { margin: 1rem 0; page-break-inside: avoid; break-inside: avoid; }
figure.graph svg { display: block; width: 100%; max-width: 100%; height: auto; }
figure.graph figcaption { font-size: 0.8rem; color: #495057; }
";

/// The annex as a standalone HTML page.
pub fn html(c: &Context<'_>) -> String {
    let title = format!(
        "Evidence annex: {}, as of {}",
        c.assessment.council, c.assessment.as_of
    );
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let mut first_paragraph = true;
    for b in blocks(c) {
        match b {
            Block::Heading(level, text, outcome) => {
                let outcome = outcome.map(|o| format!(" {}", html_cell(&o))).unwrap_or_default();
                let _ = writeln!(out, "<h{level}>{}{outcome}</h{level}>", inline(&text));
            }
            Block::Paragraph(text) => {
                let class = if first_paragraph {
                    " class=\"provenance\""
                } else {
                    ""
                };
                first_paragraph = false;
                let _ = writeln!(out, "<p{class}>{}</p>", inline(&text));
            }
            Block::Quote(text) => {
                let _ = writeln!(out, "<blockquote>{}</blockquote>", esc(&text));
            }
            Block::Table(header, rows) => {
                // Evidence tables are laid out by fixed column widths, so the long source
                // passages get room however short the other cells are.
                let evidence = header.iter().any(|h| h == "source");
                out.push_str(if evidence {
                    "<table class=\"evidence\">\n<thead><tr>"
                } else {
                    "<table>\n<thead><tr>"
                });
                for h in header {
                    let class = if evidence {
                        format!(" class=\"col-{h}\"")
                    } else {
                        String::new()
                    };
                    let _ = write!(out, "<th{class}>{}</th>", inline(&h));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        // A date never breaks at its hyphens.
                        let is_date = handback::parse_date(cell_text(&cell)).is_ok();
                        let class = if is_date { " class=\"date\"" } else { "" };
                        let _ = write!(out, "<td{class}>{}</td>", html_cell(&cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Items(items) => {
                out.push_str("<section class=\"summary\">\n<ul>\n");
                for item in items {
                    let text: String = item.iter().map(html_cell).collect();
                    let _ = writeln!(out, "<li>{text}</li>");
                }
                out.push_str("</ul>\n</section>\n");
            }
            Block::Html(html, _) => {
                let _ = writeln!(
                    out,
                    "<figure class=\"graph\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
                    html.trim_end(),
                    inline("The functions, who holds each, and their prerequisites (arrows point to the function that depends). The same picture as `handback graph`.")
                );
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
