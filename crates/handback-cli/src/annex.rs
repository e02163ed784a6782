//! The evidence annex to a quarterly letter, as Markdown or a standalone HTML page.
//!
//! Both formats are rendered from one list of blocks, so they always say the same thing: for each
//! criterion the seed quote, the verdict, the evidence table with sources and margins, and which
//! verdicts rest on people's judgements; for a plan, the grid and the picture.

use std::fmt::Write as _;

use handback::{Assessment, Pack, Plan, Reason, RuleResult};

enum Block {
    Heading(u8, String),
    Paragraph(String),
    Quote(String),
    Table(Vec<String>, Vec<Vec<String>>),
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
    match (r.outcome.as_str(), &r.at_least) {
        ("not_met", _) => "not met".into(),
        ("unknown", Some(l)) => format!("unknown (at least {l})"),
        (o, _) => o.into(),
    }
}

fn leaves<'a>(reason: &'a Reason, out: &mut Vec<&'a Reason>) {
    if reason.parts.is_empty() {
        out.push(reason);
    }
    for p in &reason.parts {
        leaves(p, out);
    }
}

fn evidence_rows(reason: &Reason) -> Vec<Vec<String>> {
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
        if leaf.evidence.is_empty() {
            rows.push(vec![
                leaf.says.clone(),
                leaf.outcome.replace('_', " "),
                leaf.because.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
                margin.clone(),
            ]);
        }
        for e in &leaf.evidence {
            let judged = e
                .judged_by
                .as_ref()
                .map(|j| format!(" (judgement: {j})"))
                .unwrap_or_default();
            rows.push(vec![
                leaf.says.clone(),
                leaf.outcome.replace('_', " "),
                format!("`{}`{judged}", e.id),
                e.value.to_string(),
                e.date.to_string(),
                format!("{}, {}", e.source.document, e.source.passage),
                margin.clone(),
            ]);
        }
    }
    rows
}

fn blocks(c: &Context<'_>) -> Vec<Block> {
    let a = c.assessment;
    let m = c.pack.manifest();
    let mut out = vec![
        Block::Heading(1, format!("Evidence annex: {}, as of {}", a.council, a.as_of)),
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
    if let Some(plan) = c.plan {
        out.push(Block::Heading(
            2,
            format!("Plan: phase {} ({})", plan.phase.number, plan.phase.name),
        ));
        let tranche: Vec<String> = plan
            .tranche
            .iter()
            .map(|t| format!("`{}` {}", t.function, t.safeguard.words()))
            .collect();
        out.push(Block::Paragraph(if tranche.is_empty() {
            "No function is recommended for return now.".into()
        } else {
            format!("Recommended for return now: {}.", tranche.join("; "))
        }));
        out.push(Block::Paragraph(if plan.exit.possible {
            "The intervention can end.".into()
        } else {
            format!(
                "The intervention cannot end yet: it needs {}.",
                plan.exit.needs.join("; ")
            )
        }));
        let rows = plan
            .functions
            .iter()
            .map(|f| {
                vec![
                    format!("`{}`", f.id),
                    f.power.words().to_string(),
                    f.ready.replace('_', " "),
                    format!("{:?}", f.step).to_lowercase(),
                    f.projected_phase.map(|p| p.to_string()).unwrap_or_default(),
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
            format!("{} ({}, {})", set.title, set.citation.source, set.citation.at),
        ));
        let per_function = results.iter().any(|r| r.function.is_some());
        if per_function {
            let mut rules: Vec<&str> = Vec::new();
            let mut functions: Vec<&str> = Vec::new();
            for r in &results {
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
                    out.push(Block::Heading(3, format!("`{}`: {}", rule.id, rule.title)));
                    out.push(Block::Quote(rule.quote.clone()));
                }
            }
            let header = std::iter::once("function".to_string())
                .chain(rules.iter().map(|r| format!("`{r}`")))
                .collect();
            let rows = functions
                .iter()
                .map(|f| {
                    std::iter::once(format!("`{f}`"))
                        .chain(rules.iter().map(|id| {
                            results
                                .iter()
                                .find(|r| r.rule == *id && r.function.as_deref() == Some(f))
                                .map(|r| outcome_words(r))
                                .unwrap_or_default()
                        }))
                        .collect()
                })
                .collect();
            out.push(Block::Table(header, rows));
            continue;
        }
        for r in results {
            let Some(rule) = c.pack.rule(&r.rule) else {
                continue;
            };
            out.push(Block::Heading(
                3,
                format!("`{}`: {}: {}", rule.id, rule.title, outcome_words(r)),
            ));
            out.push(Block::Quote(rule.quote.clone()));
            out.push(Block::Paragraph(format!(
                "{}, {}.",
                rule.citation.source, rule.citation.at
            )));
            if let Some(reason) = &r.reason {
                out.push(Block::Table(
                    [
                        "signal", "outcome", "evidence", "value", "date", "source", "margin",
                    ]
                    .map(String::from)
                    .to_vec(),
                    evidence_rows(reason),
                ));
            }
        }
    }
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
    if !judgements.is_empty() {
        out.push(Block::Heading(2, "Verdicts that rest on judgements".into()));
        out.push(Block::Paragraph(
            "These observations are recorded judgements by named people, not measured facts; the verdicts listed rest on them."
                .into(),
        ));
        out.push(Block::Table(
            ["observation", "key", "judged by", "date", "used by"]
                .map(String::from)
                .to_vec(),
            judgements,
        ));
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The annex as Markdown.
pub fn markdown(c: &Context<'_>) -> String {
    let mut out = String::new();
    for b in blocks(c) {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(usize::from(level)));
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
                        row.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
                    );
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

/// The annex as a standalone HTML page.
pub fn html(c: &Context<'_>) -> String {
    let title = format!(
        "Evidence annex: {}, as of {}",
        c.assessment.council, c.assessment.as_of
    );
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body {{ font-family: Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; color: #212529; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}\n\
         th, td {{ border: 1px solid #ced4da; padding: 4px 8px; text-align: left; vertical-align: top; }}\n\
         th {{ background: #f1f3f5; }}\n\
         blockquote {{ border-left: 4px solid #adb5bd; margin: 0.5em 0; padding: 0.2em 1em; color: #495057; }}\n\
         code {{ background: #f1f3f5; padding: 0 3px; }}\n\
         </style>\n</head>\n<body>\n",
        esc(&title)
    );
    for b in blocks(c) {
        match b {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", inline(&text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(&text));
            }
            Block::Quote(text) => {
                let _ = writeln!(out, "<blockquote>{}</blockquote>", esc(&text));
            }
            Block::Table(header, rows) => {
                out.push_str("<table>\n<tr>");
                for h in header {
                    let _ = write!(out, "<th>{}</th>", inline(&h));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", inline(&cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Html(html, _) => {
                out.push_str(&html);
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
