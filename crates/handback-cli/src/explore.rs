//! The commissioners' questions: what if, what would it take, how close are we, what to gather.
//!
//! `whatif` applies a scenario and explains the difference; `needs` lists minimal evidence
//! changes for a target and checks each by applying it; `sweep` tabulates outcomes over a grid of
//! values; `gaps` ranks the missing or stale observations that would settle the most unknowns.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use handback::{Change, Directions, Evidence, Options, Pack, Place, Scenario, Target};

use crate::{files, render, Exit, Failure};

/// Parses `KEY[:FUNCTION]=VALUE[@DATE]`. VALUE is JSON when it parses as JSON, else text (so
/// grades need no quotes).
pub fn parse_set(s: &str) -> Result<Change, Failure> {
    let bad = || {
        Failure::new(
            Exit::Usage,
            format!("`--set {s}`: expected KEY[:FUNCTION]=VALUE[@YYYY-MM-DD]"),
        )
    };
    let (left, right) = s.split_once('=').ok_or_else(bad)?;
    let (key, function) = match left.split_once(':') {
        Some((k, f)) => (k.trim().to_string(), Some(f.trim().to_string())),
        None => (left.trim().to_string(), None),
    };
    let (value, date) = match right.rsplit_once('@') {
        Some((v, d)) if handback::parse_date(d.trim()).is_ok() => (v, handback::parse_date(d.trim()).ok()),
        _ => (right, None),
    };
    let value = serde_json::from_str(value.trim())
        .unwrap_or_else(|_| serde_json::Value::String(value.trim().to_string()));
    Ok(Change::Set {
        key,
        function,
        value,
        date,
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
        let scenario = Scenario::load(&source)?;
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

pub struct Base {
    pub pack: Pack,
    pub evidence: Evidence,
    pub options: Options,
    pub directions: Option<Directions>,
    /// With `--known-at`: the date, and the observations recorded after it that were left out.
    pub known: Option<(chrono::NaiveDate, Vec<String>)>,
}

impl Base {
    /// The line that opens a table when the evidence was cut back to what was known on a date.
    pub fn known_line(&self) -> String {
        match &self.known {
            None => String::new(),
            Some((date, hidden)) => format!(
                "Using only evidence recorded by {date}: {} observation{} recorded later left out{}.\n",
                hidden.len(),
                if hidden.len() == 1 { "" } else { "s" },
                if hidden.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", hidden.join(", "))
                }
            ),
        }
    }

    /// Adds `known_at` (the date and what was left out) to a JSON answer, when it applies.
    fn with_known(&self, mut value: serde_json::Value) -> serde_json::Value {
        if let (Some((date, hidden)), Some(obj)) = (&self.known, value.as_object_mut()) {
            obj.insert(
                "known_at".into(),
                serde_json::json!({ "date": date, "left_out": hidden }),
            );
        }
        value
    }
}

/// The evidence, options and Directions every exploring command starts from.
///
/// With `known_at`, the evidence is cut back to what had been recorded by then *before* anything
/// is explored: a hypothetical change is dated today and recorded by nobody, so filtering after
/// the changes were applied would hide the very changes being explored.
pub fn base(
    pack: Pack,
    evidence: &Path,
    as_of: Option<chrono::NaiveDate>,
    known_at: Option<chrono::NaiveDate>,
    params: &[String],
    directions: Option<&PathBuf>,
) -> Result<Base, Failure> {
    let (evidence, options) = crate::prepare(&pack, evidence, as_of, None, &[], params)?;
    let (evidence, known) = match known_at {
        Some(date) => {
            let (known, hidden) = evidence.known_at(date);
            (known, Some((date, hidden)))
        }
        None => (evidence, None),
    };
    let directions = match directions {
        Some(path) => Some(Directions::load(&pack, &files::read_source(path)?)?),
        None => None,
    };
    Ok(Base {
        pack,
        evidence,
        options,
        directions,
        known,
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

/// Applies changes to the base: the scenario's evidence and options.
pub fn scenario(b: &Base, changes: &[Change], label: &str) -> Result<(Evidence, Options), Failure> {
    scenario_at(b, changes, label, &[])
}

/// As [`scenario`], reporting a problem with a change where it was written.
pub fn scenario_at(
    b: &Base,
    changes: &[Change],
    label: &str,
    places: &[Place],
) -> Result<(Evidence, Options), Failure> {
    let applied = handback::apply_at(
        &b.pack,
        &b.evidence,
        b.options.as_of,
        &b.options.parameters,
        changes,
        label,
        places,
    )?;
    let mut options = b.options.clone();
    options.as_of = applied.as_of;
    options.parameters = applied.parameters;
    Ok((applied.evidence, options))
}

/// The explained difference between the base and a scenario.
pub fn whatif(
    b: &Base,
    changes: &[Change],
    places: &[Place],
    label: &str,
    json: bool,
) -> Result<String, Failure> {
    let (evidence, options) = scenario_at(b, changes, label, places)?;
    let before = handback::assess(&b.pack, &b.evidence, &b.options);
    let after = handback::assess(&b.pack, &evidence, &options);
    let plan_before = handback::plan(&b.pack, &before, b.directions.as_ref());
    let plan_after = handback::plan(&b.pack, &after, b.directions.as_ref());
    let diff = handback::diff(&b.pack, &before, &after, Some((&plan_before, &plan_after)));
    if json {
        return Ok(render::json(&b.with_known(
            serde_json::json!({ "scenario": label, "changes": changes, "diff": diff }),
        )));
    }
    let mut out = b.known_line();
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
    let target = Target::parse(target).map_err(|e| Failure::new(Exit::Usage, e))?;
    let needs = handback::needs(&b.pack, &b.evidence, &b.options, b.directions.as_ref(), &target);
    // Check every set: applied at the as-of date, evaluated on its earliest day.
    let mut checked = Vec::new();
    for set in needs.sets.iter().take(limit) {
        let mut changes = set.as_changes(b.options.as_of);
        changes.push(Change::AsOf(set.earliest));
        let ok = match scenario(b, &changes, "needs") {
            Ok((evidence, options)) => {
                handback::target_met(&b.pack, &evidence, &options, b.directions.as_ref(), &target)
            }
            Err(_) => false,
        };
        checked.push(ok);
    }
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
        for (n, (set, ok)) in needs.sets.iter().take(limit).zip(&checked).enumerate() {
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
        let sets: Vec<_> = needs
            .sets
            .iter()
            .take(limit)
            .zip(&checked)
            .map(|(s, ok)| serde_json::json!({ "changes": s.changes, "distance": s.distance, "earliest": s.earliest, "checked": ok }))
            .collect();
        return Ok(render::json(&b.with_known(serde_json::json!({
            "target": needs.target, "met": needs.met, "sets": sets, "blocks": needs.blocks, "heuristic": needs.heuristic,
            "as_of": b.options.as_of,
        }))));
    }
    let mut out = b.known_line();
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
    if needs.sets.is_empty() {
        out.push_str("\nEvidence alone cannot make it met.\n");
    }
    for (i, (set, ok)) in needs.sets.iter().take(limit).zip(&checked).enumerate() {
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
    if needs.sets.len() > limit {
        let _ = writeln!(
            out,
            "\n(+{} more options; `--limit` shows more)",
            needs.sets.len() - limit
        );
    }
    if !needs.blocks.is_empty() {
        out.push_str("\nBlocks evidence cannot remove:\n");
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
    let parsed = Target::parse(target).map_err(|e| Failure::new(Exit::Usage, e))?;
    let needs = handback::needs(&b.pack, &b.evidence, &b.options, b.directions.as_ref(), &parsed);
    let Some(best) = needs.sets.first() else {
        return Err(Failure::new(
            Exit::Usage,
            format!("no evidence change meets {}", target_words(&parsed)),
        ));
    };
    // `Change` serialises in the scenario file's own form (`{"set": {…}}`, `{"as_of": …}`).
    let mut changes = best.as_changes(b.options.as_of);
    if best.earliest > b.options.as_of {
        changes.push(Change::AsOf(best.earliest));
    }
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

/// One varied key: `KEY[:FUNCTION]=FROM..TO/STEP`.
pub struct Vary {
    key: String,
    function: Option<String>,
    values: Vec<f64>,
    /// The flag's value as typed, to name it in errors.
    flag: String,
    /// The range's start as typed, when the range was typed in percentages: checked as typed,
    /// so a percentage on a key that is not a share is refused like `--set` refuses it.
    percent: Option<String>,
}

impl Vary {
    fn change(&self, value: f64) -> Change {
        Change::Set {
            key: self.key.clone(),
            function: self.function.clone(),
            value: serde_json::json!(value),
            date: None,
        }
    }
}

pub fn parse_vary(s: &str) -> Result<Vary, Failure> {
    let bad = || {
        Failure::new(Exit::Usage, format!("`--vary {s}`: expected KEY[:FUNCTION]=FROM..TO/STEP, e.g. children.agency_share=0.1..0.5/0.05"))
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
    let count = ((to - from) / step + 1e-9).floor() as usize + 1;
    if count > 10_000 {
        return Err(Failure::new(
            Exit::Usage,
            format!("`--vary {s}` makes {count} points; at most 10,000 per key"),
        ));
    }
    // Computed from the index, not by repeated addition, so 0.1 + 0.05 * k prints cleanly.
    let values = (0..count)
        .map(|k| ((from + step * k as f64) * 1e9).round() / 1e9)
        .collect();
    Ok(Vary {
        key,
        function,
        values,
        flag: s.to_string(),
        percent: typed_from,
    })
}

/// Outcomes over a grid of values, as CSV: one row per point, one column per criterion and per
/// function's readiness, then the tranche.
pub fn sweep(b: &Base, varies: &[Vary]) -> Result<String, Failure> {
    let total: usize = varies.iter().map(|v| v.values.len()).product();
    if total > 100_000 {
        return Err(Failure::new(
            Exit::Usage,
            format!("the sweep has {total} points; at most 100,000"),
        ));
    }
    // Every value is checked before the first point, so a slip names the flag, not a point.
    for v in varies {
        if let Some(typed) = &v.percent {
            let change = Change::Set {
                key: v.key.clone(),
                function: v.function.clone(),
                value: serde_json::json!(typed),
                date: None,
            };
            check_flag(&b.pack, &change, "--vary", &v.flag)?;
        }
        for value in &v.values {
            let change = v.change(*value);
            check_flag(&b.pack, &change, "--vary", &v.flag)?;
        }
    }
    let show_progress = std::io::stderr().is_terminal() && total >= 50;
    let mut header: Vec<String> = varies
        .iter()
        .map(|v| match &v.function {
            Some(f) => format!("{}:{f}", v.key),
            None => v.key.clone(),
        })
        .collect();
    let mut out = String::new();
    for i in 0..total {
        let mut changes = Vec::new();
        let mut rest = i;
        let mut point = Vec::new();
        for v in varies {
            let value = v.values.get(rest % v.values.len()).copied().unwrap_or_default();
            rest /= v.values.len();
            point.push(handback::format_number(value));
            changes.push(v.change(value));
        }
        let (evidence, options) = scenario(b, &changes, "sweep")?;
        let assessment = handback::assess(
            &b.pack,
            &evidence,
            &Options {
                explain: false,
                ..options
            },
        );
        let plan = handback::plan(&b.pack, &assessment, b.directions.as_ref());
        let mut columns: BTreeMap<usize, (String, String)> = BTreeMap::new();
        let mut n = 0;
        for r in assessment
            .results
            .iter()
            .filter(|r| r.set.is_some() && r.function.is_none())
        {
            columns.insert(n, (r.rule.clone(), r.outcome.clone()));
            n += 1;
        }
        for f in &plan.functions {
            columns.insert(n, (format!("ready:{}", f.id), f.ready.clone()));
            n += 1;
        }
        let tranche: Vec<&str> = plan.tranche.iter().map(|t| t.function.as_str()).collect();
        if i == 0 {
            header.extend(columns.values().map(|(h, _)| h.clone()));
            header.push("tranche".into());
            header.push("exit".into());
            out.push_str(&header.join(","));
            out.push('\n');
        }
        let mut row = point;
        row.extend(columns.values().map(|(_, v)| v.clone()));
        row.push(tranche.join(" "));
        row.push(plan.exit.possible.to_string());
        out.push_str(&row.join(","));
        out.push('\n');
        if show_progress && (i + 1) % 10 == 0 {
            eprint!("\rsweep: {}/{total} points", i + 1);
        }
    }
    if show_progress {
        eprintln!("\rsweep: {total}/{total} points");
    }
    Ok(out)
}

/// The evidence-gap report: for each key (and function) whose evidence is missing or stale where
/// an unknown outcome reads it, how many unknown outcomes one fresh observation would settle
/// whichever way it came out.
pub fn gaps(b: &Base, out: Out) -> Result<String, Failure> {
    let base = handback::outcomes(&b.pack, &b.evidence, &b.options);
    let unknown = |o: &handback::Outcome| match o {
        handback::Outcome::Test(t) => *t == handback::Truth::Unknown,
        handback::Outcome::Graded { level, .. } => level.is_none(),
    };
    let before_unknown: usize = base.iter().flatten().filter(|o| unknown(o)).count();
    // Candidate gaps: every key a rule reads, for the council and for each function where
    // function-scoped, that has no fresh evidence now.
    let assessment = handback::assess(&b.pack, &b.evidence, &b.options);
    let mut candidates: Vec<(String, Option<String>)> = Vec::new();
    fn walk(
        r: &handback::Reason,
        function: Option<&str>,
        out: &mut Vec<(String, Option<String>)>,
        pack: &Pack,
    ) {
        if r.parts.is_empty() && r.outcome == "unknown" {
            if let Some(key) = r.says.split('`').nth(1) {
                if let Some(k) = pack.key(key) {
                    let f = match k.scope {
                        handback::Scope::Function => function.map(str::to_string),
                        handback::Scope::Council => None,
                    };
                    if !out.contains(&(key.to_string(), f.clone())) {
                        out.push((key.to_string(), f));
                    }
                }
            }
        }
        for p in &r.parts {
            walk(p, function, out, pack);
        }
    }
    for r in &assessment.results {
        if let Some(reason) = &r.reason {
            walk(reason, r.function.as_deref(), &mut candidates, &b.pack);
        }
    }
    let mut ranked = Vec::new();
    for (key, function) in candidates {
        let Some(k) = b.pack.key(&key) else { continue };
        let (good, bad) = extremes(&b.pack, k);
        // How many unknown outcomes become definite if it comes out badly, and if well.
        let mut settled = Vec::new();
        for value in [good, bad] {
            let change = Change::Set {
                key: key.clone(),
                function: function.clone(),
                value,
                date: None,
            };
            let Ok((evidence, options)) = scenario(b, &[change], "gaps") else {
                continue;
            };
            let after = handback::outcomes(&b.pack, &evidence, &options);
            settled.push(
                base.iter()
                    .flatten()
                    .zip(after.iter().flatten())
                    .filter(|(x, y)| unknown(x) && !unknown(y))
                    .count(),
            );
        }
        let (either, could) = (
            settled.iter().copied().min().unwrap_or(0),
            settled.iter().copied().max().unwrap_or(0),
        );
        if could > 0 {
            ranked.push((either, could, key, function));
        }
    }
    ranked.sort_by(|a, b| {
        (b.0, b.1)
            .cmp(&(a.0, a.1))
            .then_with(|| (&a.2, &a.3).cmp(&(&b.2, &b.3)))
    });
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
        for (e, c, k, f) in &ranked {
            let description = b.pack.key(k).map(|x| x.description.clone()).unwrap_or_default();
            rows.push(vec![
                k.clone(),
                f.clone().unwrap_or_default(),
                e.to_string(),
                c.to_string(),
                description,
            ]);
        }
        return Ok(render::csv(&rows));
    }
    if out == Out::Json {
        let rows: Vec<_> = ranked
            .iter()
            .map(|(e, c, k, f)| serde_json::json!({ "key": k, "function": f, "settles_either_way": e, "could_settle": c }))
            .collect();
        return Ok(render::json(&b.with_known(
            serde_json::json!({ "unknown_outcomes": before_unknown, "gaps": rows }),
        )));
    }
    let mut out = b.known_line();
    let _ = write!(
        out,
        "Evidence gaps as of {}: {before_unknown} outcomes are unknown.\nGather these first. `either way`: unknown outcomes one fresh observation settles whatever it says; `could`: how many it settles if it comes out well.\n\n",
        b.options.as_of
    );
    let mut rows = vec![vec![
        "either way".to_string(),
        "could".into(),
        "key".into(),
        "function".into(),
        "description".into(),
    ]];
    for (e, c, k, f) in ranked.iter().take(30) {
        let description = b.pack.key(k).map(|x| x.description.clone()).unwrap_or_default();
        rows.push(vec![
            e.to_string(),
            c.to_string(),
            k.clone(),
            f.clone().unwrap_or_default(),
            description,
        ]);
    }
    out.push_str(&render::columns(&rows, "  "));
    Ok(out)
}

/// A best and a worst value for a key, to test whether gathering it settles an outcome either way.
fn extremes(pack: &Pack, key: &handback::Key) -> (serde_json::Value, serde_json::Value) {
    use handback::{Direction, ValueType};
    match &key.value_type {
        ValueType::Boolean => (serde_json::json!(true), serde_json::json!(false)),
        // Within the key's range, or the scenario would be refused and the gap never ranked.
        ValueType::Number {
            direction: Direction::HigherIsBetter,
            range,
            ..
        } => (
            serde_json::json!(range.clamp(1e12)),
            serde_json::json!(range.clamp(-1e12)),
        ),
        ValueType::Number {
            direction: Direction::LowerIsBetter,
            range,
            ..
        } => (
            serde_json::json!(range.clamp(-1e12)),
            serde_json::json!(range.clamp(1e12)),
        ),
        ValueType::Grade { scale } => {
            let levels = pack
                .scales()
                .iter()
                .find(|s| &s.id == scale)
                .map(|s| s.levels.clone())
                .unwrap_or_default();
            (
                serde_json::json!(levels.last().cloned().unwrap_or_default()),
                serde_json::json!(levels.first().cloned().unwrap_or_default()),
            )
        }
        ValueType::Date => (serde_json::json!("2000-01-01"), serde_json::json!("2100-01-01")),
        ValueType::Text => (serde_json::json!(""), serde_json::json!("")),
    }
}
