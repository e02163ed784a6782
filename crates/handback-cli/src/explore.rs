//! The commissioners' questions: what if, what would it take, how close are we, what to gather.
//!
//! `whatif` applies a scenario and explains the difference; `needs` lists minimal evidence
//! changes for a target and checks each by applying it; `sweep` tabulates outcomes over a grid of
//! values; `gaps` ranks the missing or stale observations that would settle the most unknowns.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use handback::{Change, Directions, Pack, Place, Scenario, Target};

use crate::{files, render, Exit, Failure};

/// Parses `KEY[:FUNCTION]=VALUE[@DATE]`. VALUE is JSON when it parses as JSON, else text (so
/// grades need no quotes).
pub fn parse_set(s: &str) -> Result<Change, Failure> {
    handback::parse_set(s).map_err(|_| {
        Failure::new(
            Exit::Usage,
            format!("`--set {s}`: expected KEY[:FUNCTION]=VALUE[@YYYY-MM-DD]"),
        )
    })
}

/// A scenario's title, its changes, and where each is written.
pub type Titled = (String, Vec<Change>, Vec<Place>);

/// Reads a scenario and everything it extends, base first, with the evidence path it names.
pub fn load_scenario_chain(path: &Path) -> Result<(Vec<Titled>, Option<PathBuf>), Failure> {
    let mut chain = Vec::new();
    let mut evidence = None;
    let mut next = Some(path.to_path_buf());
    let mut seen = Vec::new();
    while let Some(p) = next.take() {
        if seen.contains(&p) || seen.len() > 32 {
            return Err(Failure::new(
                Exit::Invalid,
                format!("scenario `{}` extends itself through a cycle", p.display()),
            ));
        }
        seen.push(p.clone());
        let source = if p.as_os_str() == "-" {
            read_stdin()?
        } else {
            files::read_source(&p)?
        };
        let scenario = Scenario::load_with_limits(&source, crate::limits())?;
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        if evidence.is_none() {
            evidence = scenario.evidence.as_ref().map(|e| dir.join(e));
        }
        next = scenario.extends.as_ref().map(|e| dir.join(e));
        chain.push((scenario.title, scenario.changes, scenario.places));
    }
    chain.reverse();
    Ok((chain, evidence))
}

/// A scenario piped in (`--scenario -`), e.g. from `needs --scenario-out -`; what it extends or
/// names is found relative to the working directory.
fn read_stdin() -> Result<handback::SourceFile, Failure> {
    use std::io::Read;
    let max = crate::limits().max_input_bytes;
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::new(Exit::Io, format!("cannot read standard input: {e}")))?;
    if bytes.len() > max {
        return Err(Failure::new(
            Exit::Invalid,
            format!("the scenario on standard input is over the limit of {max} bytes (raise it with `--max-input-bytes`)"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::new(
            Exit::Invalid,
            format!(
                "the scenario on standard input is not valid UTF-8 (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(handback::SourceFile {
        name: "-".into(),
        label: "<standard input>".into(),
        text,
    })
}

/// How an exploring command answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Table,
    Json,
    Csv,
}

/// The situation every exploring command starts from (the library's, shared by every front end).
pub use handback::Situation as Base;

/// The line that opens a table when the evidence was cut back to what was known on a date.
pub fn known_line(b: &Base) -> String {
    match &b.known {
        None => String::new(),
        Some(k) => format!(
            "Using only evidence recorded by {}: {} observation{} recorded later left out{}.\n",
            k.date,
            k.left_out.len(),
            if k.left_out.len() == 1 { "" } else { "s" },
            if k.left_out.is_empty() {
                String::new()
            } else {
                format!(" ({})", k.left_out.join(", "))
            }
        ),
    }
}

/// An answer as sorted JSON (as every JSON answer is written).
fn sorted<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// The evidence, options and Directions every exploring command starts from, settled by the
/// library as every front end settles them.
pub fn base(
    pack: Pack,
    evidence: &Path,
    as_of: Option<chrono::NaiveDate>,
    known_at: Option<chrono::NaiveDate>,
    directions: Option<&PathBuf>,
) -> Result<Base, Failure> {
    let loaded = files::read_evidence(&pack, evidence, None, None)?;
    let directions = match directions {
        Some(path) => Some(Directions::load(&pack, &files::read_source(path)?)?),
        None => None,
    };
    handback::Situation::new(pack, loaded, as_of, known_at, directions).map_err(|_| {
        Failure::new(
            Exit::Usage,
            "the evidence has no observations and no `as_of`; give `--as-of YYYY-MM-DD`",
        )
    })
}

/// Where a change given by a flag comes from: the flag and its value, as the user typed it.
pub fn flag_place(flag: &str, value: &str) -> Place {
    Place {
        file: format!("`{flag} {value}`"),
        line: 1,
        column: 1,
        path: "$".into(),
    }
}

/// Checks a change made by a flag on its own, so its problem names the flag and its value.
pub fn check_flag(pack: &Pack, change: &Change, flag: &str, value: &str) -> Result<(), Failure> {
    let problems = handback::check_change(pack, change);
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        Exit::Invalid,
        problems
            .iter()
            .map(|p| format!("`{flag} {value}`: {p}"))
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

/// The explained difference between the base and a scenario.
pub fn whatif(
    b: &Base,
    changes: &[Change],
    places: &[Place],
    label: &str,
    json: bool,
) -> Result<String, Failure> {
    let diff = handback::request::explore_diff(b, changes, places, label)?;
    if json {
        let answer = handback::request::WhatifAnswer {
            scenario: label.to_string(),
            changes: changes.to_vec(),
            diff,
            known_at: b.known.clone(),
        };
        return Ok(render::json(&sorted(&answer)));
    }
    let mut out = known_line(b);
    let _ = writeln!(out, "What if: {label}");
    for c in changes {
        let _ = writeln!(out, "  - {}", change_words(c));
    }
    if diff.is_empty() {
        out.push_str("\nNothing changes: every outcome, the tranche and the exit are the same.\n");
        return Ok(out);
    }
    if !diff.outcomes.is_empty() {
        let _ = writeln!(out, "\nOutcomes that change");
        for o in &diff.outcomes {
            let who = o.function.as_ref().map(|f| format!(" [{f}]")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}{who}: {} -> {}",
                o.rule,
                o.before.replace('_', " "),
                o.after.replace('_', " ")
            );
            for c in &o.causes {
                let _ = writeln!(out, "      because {c}");
            }
        }
    }
    if !diff.functions.is_empty() {
        let _ = writeln!(out, "\nFunctions");
        for (f, b, a) in &diff.functions {
            let _ = writeln!(out, "  {f}: {b} -> {a}");
        }
    }
    if !diff.tranche.0.is_empty() || !diff.tranche.1.is_empty() {
        let _ = writeln!(out, "\nRecommended tranche");
        for f in &diff.tranche.0 {
            let _ = writeln!(out, "  + {f}");
        }
        for f in &diff.tranche.1 {
            let _ = writeln!(out, "  - {f}");
        }
    }
    if diff.exit.0 != diff.exit.1 {
        let _ = writeln!(
            out,
            "\nExit: {} -> {}",
            possible(diff.exit.0),
            possible(diff.exit.1)
        );
    }
    Ok(out)
}

fn possible(b: bool) -> &'static str {
    if b {
        "the intervention can end"
    } else {
        "not yet"
    }
}

fn change_words(c: &Change) -> String {
    match c {
        Change::Set {
            key,
            function,
            value,
            date,
        } => format!(
            "set `{key}`{} to {value}{}",
            function
                .as_ref()
                .map(|f| format!(" for `{f}`"))
                .unwrap_or_default(),
            date.map(|d| format!(" on {d}")).unwrap_or_default()
        ),
        Change::Remove(id) => format!("remove observation `{id}`"),
        Change::Param { name, value } => format!("parameter `{name}` = {value}"),
        Change::AsOf(d) => format!("as of {d}"),
    }
}

/// What it would take, each set checked by applying it.
pub fn needs(b: &Base, target: &str, limit: usize, out: Out) -> Result<String, Failure> {
    let target = Target::parse(target)
        .and_then(|t| t.check(&b.pack).map(|()| t))
        .map_err(|e| Failure::new(Exit::Usage, e))?;
    let needs = handback::request::needs(b, &target, limit);
    if out == Out::Csv {
        let mut rows = vec![[
            "option",
            "key",
            "function",
            "needs",
            "value",
            "current",
            "current_date",
            "distance",
            "earliest",
            "checked",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect::<Vec<_>>()];
        for (n, checked) in needs.sets.iter().enumerate() {
            let (set, ok) = (&checked.set, checked.checked);
            for c in &set.changes {
                let v = serde_json::to_value(c).unwrap_or_default();
                let text = |k: &str| match v.get(k) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                rows.push(vec![
                    (n + 1).to_string(),
                    text("key"),
                    text("function"),
                    text("needs"),
                    text("value"),
                    text("current"),
                    text("current_date"),
                    handback::format_number(c.distance),
                    c.earliest.to_string(),
                    ok.to_string(),
                ]);
            }
        }
        return Ok(render::csv(&rows));
    }
    if out == Out::Json {
        return Ok(render::json(&sorted(&needs)));
    }
    let mut out = known_line(b);
    let _ = writeln!(
        out,
        "What it would take: {}, as of {}",
        target_words(&target),
        b.options.as_of
    );
    if needs.met {
        // A function recommended and still held is met as a target: say which route it took.
        let awaiting = match &target {
            Target::Function { function } => {
                let assessment = handback::assess(&b.pack, &b.evidence, &b.options);
                let plan = handback::plan(&b.pack, &assessment, b.directions.as_ref());
                plan.awaiting.iter().find(|w| &w.function == function).map(|w| {
                    format!(
                        " it was recommended on {} and is awaiting the decision",
                        w.recommended
                    )
                })
            }
            _ => None,
        };
        match awaiting {
            Some(words) => {
                let _ = writeln!(out, "\nAlready met:{words}; no evidence needs to change.");
            }
            None => out.push_str("\nAlready met: nothing needs to change.\n"),
        }
        return Ok(out);
    }
    // An empty answer says what the search found, not what exists: it tries, for each key, the
    // value nearest its threshold, the far end of its bound, then the current value again, and
    // drops every option its check refuses. The notes below say why where the search knows; not all of them are proofs.
    if needs.sets.is_empty() {
        out.push_str("\nNo set of evidence changes was found that makes it met.");
        if needs.blocks.is_empty() {
            out.push_str(" The search tries, for each key, the value nearest its threshold, then the far end of its bound, then the current value recorded again, and offers only options that meet the target when applied; other values may still meet it.");
        }
        out.push('\n');
    }
    for (i, checked) in needs.sets.iter().enumerate() {
        let (set, ok) = (&checked.set, &checked.checked);
        let _ = writeln!(
            out,
            "\nOption {}: {} change{}{}{}",
            i + 1,
            set.changes.len(),
            if set.changes.len() == 1 { "" } else { "s" },
            if set.earliest > b.options.as_of {
                format!(", met from {} at the earliest", set.earliest)
            } else {
                String::new()
            },
            if *ok {
                " (checked: applying these makes it met)"
            } else {
                " (NOT confirmed by applying them)"
            }
        );
        for c in &set.changes {
            let whose = c
                .function
                .as_ref()
                .map(|f| format!(" for `{f}`"))
                .unwrap_or_default();
            let now = match (&c.current, c.current_date) {
                (Some(v), Some(d)) if c.stale => format!("now {v}, but stale (dated {d})"),
                (Some(v), _) => format!("now {v}"),
                (None, _) => "no evidence now".to_string(),
            };
            let _ = writeln!(
                out,
                "  - `{}`{whose}: needs {} (e.g. {}); {now}; distance {}",
                c.key,
                c.needs,
                c.value,
                handback::format_number(c.distance)
            );
        }
    }
    if needs.more > 0 {
        let _ = writeln!(out, "\n(+{} more options; `--limit` shows more)", needs.more);
    }
    if !needs.blocks.is_empty() {
        out.push_str("\nWhat stands in the way:\n");
        for bl in &needs.blocks {
            let _ = writeln!(out, "  - {bl}");
        }
    }
    if needs.heuristic {
        out.push_str("\nPart of this answer involves a trend and is a heuristic (better than the window's baseline).\n");
    }
    Ok(out)
}

/// The best option for a target as a scenario file (JSON), ending on its earliest day.
pub fn best_scenario(b: &Base, target: &str) -> Result<String, Failure> {
    let parsed = Target::parse(target)
        .and_then(|t| t.check(&b.pack).map(|()| t))
        .map_err(|e| Failure::new(Exit::Usage, e))?;
    let needs = handback::needs(&b.pack, &b.evidence, &b.options, b.directions.as_ref(), &parsed);
    let Some(best) = needs.sets.first() else {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "no set of evidence changes was found that meets {}",
                target_words(&parsed)
            ),
        ));
    };
    // `Change` serialises in the scenario file's own form (`{"set": {…}}`, `{"as_of": …}`).
    // The date it was checked on, always: the changes are dated on the as-of date, which may be
    // a `--as-of` later than the evidence's own, and `whatif` starts from the evidence's.
    // So are the parameters overridden (`--param`): the set was checked with them.
    let mut changes: Vec<Change> = b
        .options
        .parameters
        .iter()
        .map(|(name, value)| Change::Param {
            name: name.clone(),
            value: serde_json::to_value(value).unwrap_or_default(),
        })
        .collect();
    changes.extend(best.as_changes(b.options.as_of));
    changes.push(Change::AsOf(best.earliest.max(b.options.as_of)));
    let scenario = serde_json::json!({
        "title": format!("what it would take: {} (option 1 of `handback needs`)", target_words(&parsed)),
        "changes": changes,
    });
    Ok(render::json(&scenario))
}

fn target_words(t: &Target) -> String {
    match t {
        Target::Rule {
            rule,
            function: Some(f),
        } => format!("rule `{rule}` for `{f}`"),
        Target::Rule { rule, function: None } => format!("rule `{rule}`"),
        Target::Function { function } => format!("return of `{function}`"),
        Target::Exit { outcome: None } => "the end of the intervention".into(),
        Target::Exit { outcome: Some(id) } => format!("the way out `{id}`"),
    }
}

/// One varied key, with the flag's value as typed to name it in errors.
pub struct Vary {
    vary: handback::Vary,
    flag: String,
}

/// Parses every `--vary KEY[:FUNCTION]=FROM..TO/STEP`, within `--max-points` in all.
pub fn parse_varies(flags: &[String]) -> Result<Vec<Vary>, Failure> {
    let parsed =
        handback::Vary::parse_all(flags.iter().map(String::as_str), crate::limits().max_sweep_points)
            .map_err(|(i, e)| {
                let s = flags.get(i).map(String::as_str).unwrap_or_default();
                Failure::new(Exit::Usage, format!("`--vary {s}`: {e}"))
            })?;
    Ok(parsed
        .into_iter()
        .zip(flags)
        .map(|(vary, flag)| Vary {
            vary,
            flag: flag.clone(),
        })
        .collect())
}

/// Outcomes over a grid of values, as CSV: one row per point, one column per criterion and per
/// function's readiness, then the tranche.
pub fn sweep(b: &Base, varies: &[Vary]) -> Result<String, Failure> {
    let list: Vec<handback::Vary> = varies.iter().map(|v| v.vary.clone()).collect();
    let total = handback::sweep::check_with_limits(b, &list, crate::limits())
        .map_err(|e| sweep_failure(e, varies))?;
    let show_progress = std::io::stderr().is_terminal() && total >= 50;
    let grid = handback::sweep::sweep_csv_with_limits(b, &list, crate::limits(), &mut |done, total| {
        if show_progress {
            eprint!("\rsweep: {done}/{total} points");
        }
    })
    .map_err(|e| sweep_failure(e, varies))?;
    if show_progress {
        eprintln!("\rsweep: {total}/{total} points");
    }
    Ok(grid)
}

fn sweep_failure(e: handback::SweepError, varies: &[Vary]) -> Failure {
    match e {
        handback::SweepError::Refused { vary, problems } => {
            let flag = varies.get(vary).map(|v| v.flag.as_str()).unwrap_or_default();
            Failure::new(
                Exit::Invalid,
                problems
                    .iter()
                    .map(|p| format!("`--vary {flag}`: {p}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        }
        other => Failure::new(Exit::Usage, other.to_string()),
    }
}

/// The evidence-gap report: for each key (and function) whose evidence is missing or stale where
/// an unknown outcome reads it, how many unknown outcomes one fresh observation would settle
/// whichever way it came out.
pub fn gaps(b: &Base, out: Out) -> Result<String, Failure> {
    let report = handback::gaps(b);
    let description = |k: &str| b.pack.key(k).map(|x| x.description.clone()).unwrap_or_default();
    if out == Out::Csv {
        let mut rows = vec![[
            "key",
            "function",
            "settles_either_way",
            "could_settle",
            "description",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect::<Vec<_>>()];
        for g in &report.gaps {
            rows.push(vec![
                g.key.clone(),
                g.function.clone().unwrap_or_default(),
                g.settles_either_way.to_string(),
                g.could_settle.to_string(),
                description(&g.key),
            ]);
        }
        return Ok(render::csv(&rows));
    }
    if out == Out::Json {
        let answer = handback::request::GapsAnswer {
            as_of: b.options.as_of,
            gaps: report,
            known_at: b.known.clone(),
        };
        return Ok(render::json(&sorted(&answer)));
    }
    let mut out = known_line(b);
    let _ = write!(
        out,
        "Evidence gaps as of {}: {} outcomes are unknown.\nGather these first. `either way`: unknown outcomes one fresh observation settles whatever it says; `could`: how many it settles if it comes out well.\n\n",
        b.options.as_of, report.unknown_outcomes
    );
    let mut rows = vec![vec![
        "either way".to_string(),
        "could".into(),
        "key".into(),
        "function".into(),
        "description".into(),
    ]];
    for g in report.gaps.iter().take(30) {
        rows.push(vec![
            g.settles_either_way.to_string(),
            g.could_settle.to_string(),
            g.key.clone(),
            g.function.clone().unwrap_or_default(),
            description(&g.key),
        ]);
    }
    out.push_str(&render::columns(&rows, "  "));
    Ok(out)
}
