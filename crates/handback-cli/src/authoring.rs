//! The pack author's tools: `pack init` scaffolds a pack that lints clean and whose one case
//! passes; `test` runs a pack's own golden cases and says what no case asserts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use handback::authoring::{Case, CaseResult};
use handback::{Diagnostic, Evidence, Pack};

use crate::{files, render, Exit, Failure};

/// The files of a new pack: the smallest pack that shows every file's shape, lints clean and
/// passes its own case. Placeholders say plainly that they are placeholders.
fn scaffold(id: &str, title: &str) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let citation = json!({"source": "SOURCE.txt", "at": "§1"});
    vec![
        (
            "pack.json",
            json!({
                "id": id,
                "version": "0.1.0",
                "title": title,
                "description": "A new pack. Replace this with what the criteria are, whose they are, and the policy choices the pack makes (freshness, thresholds).",
                "sources": [{"file": "SOURCE.txt", "title": "The document the criteria come from", "date": "YYYY"}],
                "sets": [{"id": "criteria", "title": "The criteria for returning a function", "citation": citation}],
            }),
        ),
        (
            "vocabulary.json",
            json!({
                "scales": [],
                "keys": [
                    {
                        "key": "function.improvement_plan_adopted",
                        "type": "boolean",
                        "scope": "function",
                        "description": "The function has an adopted improvement plan (a document's status).",
                        "max_age_days": 365,
                    },
                    {
                        "key": "workforce.agency_share",
                        "type": "number",
                        "unit": "share",
                        "direction": "lower_is_better",
                        "description": "Share of posts filled by agency staff.",
                        "max_age_days": 365,
                    },
                ],
            }),
        ),
        (
            "parameters.json",
            json!({"parameters": [{
                "name": "agency_share_max",
                "type": "number",
                "unit": "share",
                "direction": "lower_is_better",
                "default": 0.25,
                "rationale": "Replace with why this is the threshold, and what in the source it reads.",
                "assumption": true,
                "rests_on": "Replace with the public figure or policy the threshold rests on.",
            }]}),
        ),
        (
            "functions.json",
            json!({
                "defaults": {"gates": ["criteria-met"]},
                "exit": {"gates": ["agency-share"], "citation": citation},
                "functions": [{"id": "example-function", "title": "An example function"}],
            }),
        ),
        (
            "rules/criteria.json",
            json!({"rules": [
                {
                    "id": "plan-adopted",
                    "title": "An adopted improvement plan",
                    "set": "criteria",
                    "per_function": true,
                    "quote": "Replace with the verbatim source text this rule encodes.",
                    "citation": citation,
                    "kind": "test",
                    "condition": {"key": "function.improvement_plan_adopted", "op": "==", "value": true},
                },
                {
                    "id": "agency-share",
                    "title": "A stable workforce",
                    "set": "criteria",
                    "quote": "Replace with the verbatim source text this rule encodes.",
                    "citation": citation,
                    "kind": "test",
                    "condition": {"key": "workforce.agency_share", "op": "<=", "param": "agency_share_max"},
                },
                {
                    "id": "criteria-met",
                    "title": "Every criterion met for the function",
                    "per_function": true,
                    "quote": "Replace with the verbatim source text this rule encodes.",
                    "citation": citation,
                    "kind": "test",
                    "condition": {"all": [{"rule": "plan-adopted"}, {"rule": "agency-share"}]},
                },
            ]}),
        ),
        (
            "tests/evidence/example.json",
            json!({
                "council": "Example council",
                "title": "Evidence for the example case",
                "as_of": "2020-06-30",
                "observations": [
                    {"id": "plan", "key": "function.improvement_plan_adopted", "function": "example-function", "value": true, "date": "2020-03-31",
                     "basis": "document", "source": {"document": "SOURCE.txt", "passage": "§1"}},
                    {"id": "agency", "key": "workforce.agency_share", "value": 0.4, "date": "2020-03-31",
                     "basis": "measured", "source": {"document": "SOURCE.txt", "passage": "§2"}},
                ],
            }),
        ),
        (
            "tests/evidence/ready.json",
            json!({
                "council": "Example council",
                "title": "Evidence for the ready case",
                "as_of": "2020-12-31",
                "observations": [
                    {"id": "plan", "key": "function.improvement_plan_adopted", "function": "example-function", "value": true, "date": "2020-09-30",
                     "basis": "document", "source": {"document": "SOURCE.txt", "passage": "§1"}},
                    {"id": "agency", "key": "workforce.agency_share", "value": 0.2, "date": "2020-09-30",
                     "basis": "measured", "source": {"document": "SOURCE.txt", "passage": "§2"}},
                ],
            }),
        ),
        (
            "tests/ready.json",
            json!({
                "description": "The plan is adopted and agency staff are down to 20%: every criterion is met.",
                "evidence": "evidence/ready.json",
                "expect": {
                    "plan-adopted@example-function": "met",
                    "agency-share": "met",
                    "criteria-met@example-function": "met",
                },
                "expect_plan": {
                    "functions.example-function.step": "now",
                    "exit.possible": true,
                },
            }),
        ),
        (
            "tests/example.json",
            json!({
                "description": "The plan is adopted but agency staff fill 40% of posts: the function cannot come back yet.",
                "evidence": "evidence/example.json",
                "expect": {
                    "plan-adopted@example-function": "met",
                    "agency-share": "not_met",
                    "criteria-met@example-function": "not_met",
                },
                "expect_reasons": {"agency-share": ["0.4"]},
            }),
        ),
    ]
}

/// Writes the scaffold's files into `dir`, creating its folders; the names written.
fn write_scaffold(dir: &Path, id: &str, title: &str) -> Result<Vec<&'static str>, Failure> {
    let mut written = Vec::new();
    for (name, value) in scaffold(id, title) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Failure::new(
                    Exit::Io,
                    format!(
                        "cannot create folder `{}`: {e}; nothing was written",
                        parent.display()
                    ),
                )
            })?;
        }
        files::write_atomically(&path, &render::json(&value), &[])?;
        written.push(name);
    }
    Ok(written)
}

/// `handback pack init DIR`: writes the scaffold into a new or empty folder, never over files.
pub fn init(dir: &Path, id: Option<&str>, title: Option<&str>) -> Result<String, Failure> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Failure::new(Exit::Io, format!("cannot read folder `{}`: {e}", dir.display())))?
            .next()
            .is_none();
        if !empty {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "`{}` is not empty; `pack init` writes only into a new or empty folder",
                    dir.display()
                ),
            ));
        }
    }
    let id = match id {
        Some(id) => id.to_string(),
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase().replace([' ', '_'], "-"))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or_else(|| "new-pack".into()),
    };
    let title = title.map_or_else(|| format!("{id}: criteria for returning powers"), str::to_string);
    // A new folder is built under a temporary name beside it and renamed into place, so a
    // failure or a kill part-way leaves no half-made pack. An empty folder that already exists
    // (perhaps the shell's working folder) is filled in place, and emptied again on failure.
    let existed = dir.exists();
    let staging = if existed {
        dir.to_path_buf()
    } else {
        files::temp_beside(dir)
    };
    let written = write_scaffold(&staging, &id, &title).and_then(|written| {
        if !existed {
            std::fs::rename(&staging, dir).map_err(|e| {
                Failure::new(
                    Exit::Io,
                    format!("cannot write `{}`: {e}; nothing was written", dir.display()),
                )
            })?;
        }
        Ok(written)
    });
    let written = match written {
        Ok(written) => written,
        Err(failure) => {
            if existed {
                // Only what this run wrote: the folder was empty before it.
                if let Ok(entries) = std::fs::read_dir(dir) {
                    for entry in entries.flatten() {
                        let _ = std::fs::remove_dir_all(entry.path())
                            .or_else(|_| std::fs::remove_file(entry.path()));
                    }
                }
                return Err(failure);
            }
            let _ = std::fs::remove_dir_all(&staging);
            // Name the folder the user asked for, not the temporary one; the message already
            // says nothing was written.
            let message = failure
                .message
                .replace(&staging.display().to_string(), &dir.display().to_string());
            return Err(Failure::new(failure.exit, message));
        }
    };
    let mut out = format!("Wrote a new pack `{id}` in `{}`:\n", dir.display());
    for name in written {
        let _ = writeln!(out, "  {name}");
    }
    let d = dir.display();
    let _ = write!(
        out,
        "\nNext: `handback lint --pack {d}`, `handback test {d}`; then replace the placeholders \
         (quotes, citations, keys, rules) with your criteria. docs/authoring.md walks through it.\n"
    );
    Ok(out)
}

/// `handback test DIR`: every case in `DIR/tests/*.json`, then what no case asserts.
pub fn test(pack: &Pack, dir: &Path, json: bool) -> Result<String, Failure> {
    let tests = dir.join("tests");
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&tests) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    if paths.is_empty() {
        return Err(Failure::new(
            Exit::Invalid,
            format!(
                "`{}` holds no cases (`*.json`); a case gives evidence, a date and the outcomes expected (see docs/authoring.md)",
                tests.display()
            ),
        ));
    }
    // Every case and every evidence file is read before any runs, so one run lists every
    // problem in all of them.
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut loaded: Vec<(Case, Evidence, Option<handback::Directions>)> = Vec::new();
    for path in &paths {
        let file = files::read_source(path)?;
        let case = match Case::load(pack, &file) {
            Ok(c) => c,
            Err(e) => {
                problems.extend(e.diagnostics.0);
                continue;
            }
        };
        let folder = path.parent().unwrap_or(&tests);
        let evidence = match files::read_evidence(pack, &folder.join(&case.evidence), None, None) {
            Ok(evidence) => Some(evidence),
            Err(f) if f.problems.is_empty() => return Err(f),
            Err(f) => {
                problems.extend(f.problems);
                None
            }
        };
        let directions = match &case.directions {
            Some(d) => match handback::Directions::load(pack, &files::read_source(&folder.join(d))?) {
                Ok(d) => Some(Some(d)),
                Err(e) => {
                    problems.extend(e.diagnostics.0);
                    None
                }
            },
            None => Some(None),
        };
        if let (Some(evidence), Some(directions)) = (evidence, directions) {
            loaded.push((case, evidence, directions));
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(Failure {
            problems: problems.clone(),
            ..Failure::new(Exit::Invalid, handback::Diagnostics(problems).to_string())
        });
    }
    let results: Vec<CaseResult> = loaded
        .iter()
        .map(|(c, e, d)| c.run(pack, e, d.as_ref()))
        .collect();
    let cases: Vec<Case> = loaded.into_iter().map(|(c, _, _)| c).collect();
    let uncovered = handback::authoring::coverage(pack, &cases);
    let failed = results.iter().filter(|r| !r.failures.is_empty()).count();
    let out = if json {
        render::json(&serde_json::json!({
            "pack": {"id": pack.manifest().id, "version": pack.manifest().version},
            "passed": results.len() - failed,
            "failed": failed,
            "cases": results,
            "not_asserted": uncovered,
        }))
    } else {
        let mut out = String::new();
        for r in &results {
            let name = Path::new(&r.file)
                .file_name()
                .map_or_else(|| r.file.clone(), |n| n.to_string_lossy().into_owned());
            if r.failures.is_empty() {
                let _ = writeln!(out, "PASS  {name}  ({} expectations)", r.checked);
            } else {
                let _ = writeln!(
                    out,
                    "FAIL  {name}  ({} of {} expectations failed)",
                    r.failures.len(),
                    r.checked
                );
                for f in &r.failures {
                    let _ = writeln!(out, "      {f}");
                }
            }
        }
        let _ = writeln!(
            out,
            "\n{} case{}: {} passed, {failed} failed",
            results.len(),
            if results.len() == 1 { "" } else { "s" },
            results.len() - failed
        );
        if uncovered.is_empty() {
            let _ = writeln!(
                out,
                "Every outcome and level of every rule is asserted by some case."
            );
        } else {
            let _ = writeln!(
                out,
                "\nNot asserted by any case ({} of {} rules): add a case that expects these",
                uncovered.len(),
                pack.rules().len()
            );
            for u in &uncovered {
                let _ = writeln!(out, "  {}: {}", u.rule, u.outcomes.join(", "));
            }
        }
        out
    };
    if failed > 0 {
        // The results are the output: print them, and let scripts see the verdict.
        print!("{out}");
        return Err(Failure::new(Exit::CasesFailed, ""));
    }
    Ok(out)
}
