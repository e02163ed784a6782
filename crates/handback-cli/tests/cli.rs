//! The `handback` command as users run it: outputs, exit codes, determinism, and every file
//! under `fixtures/invalid/` giving its documented error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn handback(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handback"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";

#[test]
fn assess_prints_outcomes_and_reasons_as_a_table() {
    let o = handback(&["assess", AUG_2016]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("assessed as of 2016-08-11 with pack `rotherham`"));
    assert!(text.contains("Seven tests for children's social care"));
    assert!(text.contains("children-5  not met"));
    // Reasons name the observation, its value, date and source.
    assert!(
        text.contains("evidence `aug-children-mtfs`: false on 2016-08-11 (000_94efcd794c95ea6a.txt"),
        "{text}"
    );
}

#[test]
fn assess_json_is_byte_identical_across_runs() {
    let a = handback(&["assess", AUG_2016, "--format", "json"]);
    let b = handback(&["assess", AUG_2016, "--format", "json"]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
    let json: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(json["as_of"], "2016-08-11");
    assert_eq!(json["pack"]["id"], "rotherham");
    let children5 = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "children-5")
        .unwrap();
    assert_eq!(children5["outcome"], "not_met");
}

#[test]
fn as_of_changes_what_is_visible() {
    let record = "fixtures/rotherham/record.json";
    let outcome = |date: &str, rule: &str| {
        let o = handback(&["assess", record, "--as-of", date, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let r = json["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == rule && r.get("function").is_none());
        r.unwrap()["outcome"].as_str().unwrap().to_string()
    };
    assert_eq!(outcome("2016-08-11", "children-all-seven"), "not_met");
    assert_eq!(outcome("2018-02-09", "children-all-seven"), "met");
    assert_eq!(outcome("2018-02-09", "hc-01"), "unknown");
    assert_eq!(outcome("2018-03-21", "hc-01"), "high assurance");
    // The day before the Ofsted report the old grade still decides test 3.
    let o = handback(&["assess", record, "--as-of", "2018-01-28", "--format", "json"]);
    assert!(!stdout(&o).contains("ofsted-2018"));
}

#[test]
fn parameters_can_be_overridden_from_the_command_line() {
    let o = handback(&[
        "assess",
        "fixtures/rotherham/2018-02-children-recommended.json",
        "--param",
        "children_agency_share_max=0.1",
        "--brief",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("parameters overridden: children_agency_share_max = 0.1"));
    assert!(text.contains("children-6  not met"), "{text}");
    let bad = handback(&["assess", AUG_2016, "--param", "children_agency_share_mx=0.1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("did you mean `children_agency_share_max`?"));
}

#[test]
fn usage_and_file_errors_have_their_own_exit_codes() {
    let o = handback(&["assess", AUG_2016, "--as-of", "2016-02-30"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a day of the calendar"));
    let o = handback(&["assess", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("cannot read `no/such/file.json`"));
    let o = handback(&["lint", "--pack", "no/such/pack"]);
    assert_eq!(o.status.code(), Some(4));
}

#[test]
fn lint_accepts_the_pack_and_the_record() {
    let o = handback(&[
        "lint",
        "fixtures/rotherham/record.json",
        "fixtures/evidence/with-bom.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: pack `rotherham`"));
    assert!(stdout(&o).contains("ok: fixtures/rotherham/record.json: 210 observations"));
}

#[test]
fn lint_reports_machine_readable_problems() {
    let o = handback(&[
        "lint",
        "fixtures/invalid/evidence/several-mistakes.json",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], false);
    let first = &json["problems"][0];
    assert_eq!(first["line"], 4);
    assert_eq!(first["path"], "$.observations[0].key");
}

/// Every file (or pack folder) under `fixtures/invalid/` has a `.expected` beside it: the exit
/// code on the first line, then exactly what `handback lint` must print.
#[test]
fn every_invalid_fixture_gives_its_documented_error() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for group in ["evidence", "packs", "directions", "decisions"] {
        let dir = root().join("fixtures/invalid").join(group);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for expected_path in entries
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "expected"))
        {
            let stem = expected_path.file_stem().unwrap().to_string_lossy().into_owned();
            let relative = format!("fixtures/invalid/{group}/{stem}");
            let o = match group {
                "packs" => handback(&["lint", "--pack", &relative]),
                "directions" => handback(&["grid", "--directions", &format!("{relative}.json")]),
                "decisions" => handback(&[
                    "audit",
                    &format!("{relative}.csv"),
                    "--directions",
                    "fixtures/rotherham/directions.json",
                ]),
                _ => handback(&["lint", &format!("{relative}.json")]),
            };
            let got = format!("exit {}\n{}", o.status.code().unwrap_or(-1), stderr(&o));
            let want = std::fs::read_to_string(expected_path).unwrap();
            if got.trim_end() != want.trim_end() {
                problems.push(format!("{relative}:\n--- expected\n{want}\n--- got\n{got}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} invalid fixtures found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_lists_the_twenty_one_criteria_with_their_quotes() {
    let o = handback(&["rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = json["rules"].as_array().unwrap();
    let criteria: Vec<_> = rules.iter().filter(|r| !r["set"].is_null()).collect();
    assert_eq!(criteria.len(), 21);
    assert!(criteria
        .iter()
        .all(|r| !r["quote"].as_str().unwrap().is_empty() && !r["keys"].as_array().unwrap().is_empty()));
}

#[test]
fn evidence_template_lists_every_key_the_pack_reads() {
    let csv = stdout(&handback(&["evidence", "template"]));
    let rules: serde_json::Value =
        serde_json::from_slice(&handback(&["rules", "--format", "json"]).stdout).unwrap();
    for rule in rules["rules"].as_array().unwrap() {
        for key in rule["keys"].as_array().unwrap() {
            let key = key.as_str().unwrap();
            assert!(
                csv.lines().any(|l| l.starts_with(&format!("{key},"))),
                "`{key}` missing from the template"
            );
        }
    }
    assert!(csv.starts_with(
        "key,type,unit,direction,scale,levels,scope,max_age_days,judgement,read_by,description\n"
    ));
}

/// The generated references in `docs/` are exactly what the commands print, so they cannot
/// drift from the pack.
#[test]
fn generated_docs_are_current() {
    for (args, doc) in [
        (&["rules", "--format", "markdown"][..], "docs/rotherham-pack.md"),
        (
            &["evidence", "template", "--format", "markdown"][..],
            "docs/evidence.md",
        ),
    ] {
        let printed = stdout(&handback(args));
        let file = std::fs::read_to_string(root().join(doc)).unwrap_or_default();
        assert!(
            printed == file,
            "{doc} is out of date: run `cargo run -- {} > {doc}`",
            args.join(" ")
        );
    }
}

const DIRECTIONS: &str = "fixtures/rotherham/directions.json";

#[test]
fn plan_reproduces_the_record_from_the_command_line() {
    let o = handback(&["plan", AUG_2016, "--directions", DIRECTIONS]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let tranche = text
        .split("Recommended tranche")
        .nth(1)
        .unwrap()
        .split("Functions")
        .next()
        .unwrap();
    assert!(
        tranche.contains("adult-social-care      with a power of Direction"),
        "{tranche}"
    );
    assert!(!tranche.contains("children-services"));
    assert!(text.contains("Phase 2:"));
    let o = handback(&[
        "plan",
        "fixtures/rotherham/2018-03-exit-recommended.json",
        "--directions",
        DIRECTIONS,
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["exit"]["possible"], true);
    assert_eq!(json["phase"]["number"], 4);
    assert_eq!(json["tranche"][0]["function"], "children-services");
    assert_eq!(json["tranche"][0]["safeguard"], "direction");
}

#[test]
fn grid_shows_who_holds_what_in_september_2017() {
    let o = handback(&["grid", "--directions", DIRECTIONS, "--as-of", "2017-09-30"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(
            "2 of 20 functions held by Commissioners: children-services, statutory-officer-appointments"
        ),
        "{text}"
    );
    assert!(
        text.contains("Returned with a residual power of formal Advice: adult-social-care, domestic-abuse")
    );
    let o = handback(&["grid", "--directions", DIRECTIONS, "--as-of", "2017-09-12"]);
    assert!(stdout(&o).contains("from the previous midnight"));
}

#[test]
fn audit_flags_the_previous_holder_on_the_changeover_day() {
    let o = handback(&[
        "audit",
        "fixtures/audit/decisions.csv",
        "--directions",
        DIRECTIONS,
        "--format",
        "json",
    ]);
    // Invalid decisions are findings: exit 6, with the findings still on stdout.
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let findings: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let on_the_day: Vec<_> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["decision"]["at"].as_str().unwrap().starts_with("2017-09-12"))
        .collect();
    assert_eq!(on_the_day.len(), 2);
    assert_eq!(on_the_day[0]["decision"]["decided_by"], "commissioners");
    assert_eq!(on_the_day[0]["valid"], false);
    assert_eq!(on_the_day[1]["decision"]["decided_by"], "council");
    assert_eq!(on_the_day[1]["valid"], true);
}

#[test]
fn dates_suggests_days_without_meetings() {
    let o = handback(&[
        "dates",
        "--minded",
        "2016-12-01",
        "--meetings",
        "fixtures/audit/meetings.csv",
        "--count",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("2016-12-14 (Wednesday)"));
}

/// The SVG stands alone: one root, balanced groups, every function drawn, text escaped.
#[test]
fn graph_writes_a_standalone_svg_and_dot() {
    let o = handback(&[
        "graph",
        "fixtures/rotherham/2018-02-children-recommended.json",
        "--directions",
        DIRECTIONS,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = stdout(&o);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<g>").count(), svg.matches("</g>").count());
    assert_eq!(svg.matches("<g>").count(), 20);
    for id in [
        "children-services",
        "human-resources",
        "statutory-officer-appointments",
    ] {
        assert!(svg.contains(&format!(">{id}</text>")), "{id}");
    }
    assert!(
        svg.contains("stroke-dasharray=\"6 3\""),
        "children's services is recommended now"
    );
    assert!(!svg.contains(" & "), "unescaped ampersand");
    let dot = stdout(&handback(&["graph", "--format", "dot"]));
    assert!(dot.contains("\"human-resources\" -> \"children-services\";"));
}

#[test]
fn a_report_verifies_and_an_edited_observation_is_named() {
    let dir = std::env::temp_dir().join(format!("handback-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("r.json");
    let report_path = report.to_string_lossy().into_owned();
    let o = handback(&["assess", AUG_2016, "-o", &report_path, "--brief"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote"));
    let o = handback(&["verify", &report_path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("reproduces byte for byte"));
    // One observation edited: verify fails with its own exit code and names it.
    let mut evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(AUG_2016)).unwrap()).unwrap();
    for o in evidence["observations"].as_array_mut().unwrap() {
        if o["id"] == "aug-agency-cover" {
            o["value"] = serde_json::json!(20);
        }
    }
    let edited = dir.join("edited.json");
    std::fs::write(&edited, evidence.to_string()).unwrap();
    let o = handback(&["verify", &report_path, "--evidence", &edited.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(5));
    assert!(
        stderr(&o).contains("`aug-agency-cover` (value 57 -> 20)"),
        "{}",
        stderr(&o)
    );
    // The output never replaces an input, and no temporary file is left behind.
    let o = handback(&["assess", AUG_2016, "-o", AUG_2016]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("refusing to write"));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn golden_reports_verify_from_the_command_line() {
    for report in std::fs::read_dir(root().join("fixtures/reports")).unwrap() {
        let path = report.unwrap().path();
        let o = handback(&["verify", &path.to_string_lossy()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", path.display(), stderr(&o));
    }
}

#[test]
fn lint_checks_quotes_against_the_seeds() {
    let o = handback(&["lint", "--sources", "../shared/seeds"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("every quote stands in its source (5 source documents"));
}

#[test]
fn the_annex_renders_as_markdown_and_html() {
    let md = stdout(&handback(&["assess", AUG_2016, "--format", "markdown"]));
    assert!(md.starts_with("# Evidence annex: Rotherham Metropolitan Borough Council, as of 2016-08-11"));
    assert!(md.contains("> Robust financial management."));
    assert!(md.contains("## Verdicts that rest on judgements"));
    assert!(md.contains(
        "| `aug-portfolio` | `cabinet.portfolio_holders_managing` | Lead Commissioner Sir Derek Myers |"
    ));
    let html = stdout(&handback(&[
        "plan",
        "fixtures/rotherham/2018-02-children-recommended.json",
        "--directions",
        DIRECTIONS,
        "--format",
        "html",
    ]));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg xmlns="), "the plan's picture is inlined");
    assert!(html.contains("Children&#x27;s") || html.contains("Children's"));
    assert!(!html.contains("<script"));
}

#[test]
fn needs_lists_checked_changes_and_whatif_applies_them() {
    let dir = std::env::temp_dir().join(format!("handback-needs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("children.json");
    let o = handback(&[
        "needs",
        AUG_2016,
        "--target",
        "function:children-services",
        "--directions",
        DIRECTIONS,
        "--scenario-out",
        &scenario.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Option 1:") && text.contains("(checked: applying these makes it met)"),
        "{text}"
    );
    assert!(
        text.contains("`children.ofsted_overall`: needs >= \"good\""),
        "{text}"
    );
    assert!(
        text.contains("met from 2017-02-07 at the earliest"),
        "the 180-day sustained window: {text}"
    );
    let o = handback(&[
        "whatif",
        AUG_2016,
        "--scenario",
        &scenario.to_string_lossy(),
        "--directions",
        DIRECTIONS,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("children-services: not met (later) -> met (now)"),
        "{}",
        stdout(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn whatif_names_the_cause_of_each_change() {
    let o = handback(&[
        "whatif",
        AUG_2016,
        "--set",
        "children.mtfs_adopted=true",
        "--set",
        "children.senior_finance_capacity=true",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("children-5: not met -> met"), "{text}");
    assert!(text.contains("because evidence `children.mtfs_adopted`: aug-children-mtfs = false on 2016-08-11 -> scenario-1 = true on 2016-08-11"), "{text}");
    let same = handback(&[
        "whatif",
        AUG_2016,
        "--set",
        "children.mtfs_adopted=false@2016-08-11",
    ]);
    assert!(stdout(&same).contains("Nothing changes"), "{}", stdout(&same));
    let bad = handback(&["whatif", AUG_2016, "--set", "children.agency_share=lots"]);
    assert_eq!(bad.status.code(), Some(3));
    assert!(
        stderr(&bad).contains("expected a number, found a string"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn scenarios_compose() {
    let o = handback(&[
        "whatif",
        AUG_2016,
        "--scenario",
        "fixtures/scenarios/agency-20-next-quarter.json",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        json["changes"].as_array().unwrap().len(),
        4,
        "the extended scenario's two changes come first"
    );
    assert_eq!(json["diff"]["as_of"][1], "2016-11-01");
}

#[test]
fn sweep_flips_at_the_threshold_needs_reports() {
    let needs = stdout(&handback(&["needs", AUG_2016, "--target", "rule:children-6"]));
    assert!(
        needs.contains("`children.agency_share`: needs <= 0.25"),
        "{needs}"
    );
    let o = handback(&[
        "sweep",
        "fixtures/rotherham/2018-02-children-recommended.json",
        "--vary",
        "children.agency_share=0.15..0.35/0.05",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = stdout(&o);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "children-6").unwrap();
    let outcome = |value: &str| {
        let row = csv.lines().find(|l| l.starts_with(&format!("{value},"))).unwrap();
        row.split(',').nth(column).unwrap().to_string()
    };
    assert_eq!(outcome("0.25"), "met");
    assert_eq!(outcome("0.3"), "not_met");
}

#[test]
fn gaps_ranks_what_to_gather() {
    let o = handback(&["gaps", AUG_2016, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let gaps = json["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty());
    assert!(gaps.windows(2).all(
        |w| (w[0]["settles_either_way"].as_u64(), w[0]["could_settle"].as_u64())
            >= (w[1]["settles_either_way"].as_u64(), w[1]["could_settle"].as_u64())
    ));
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("handback-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A rule whose condition is nested 100,000 deep is refused by the depth limit, not by a stack
/// overflow; so is a 200 MB evidence file, before it is read.
#[test]
fn hostile_sizes_are_refused_with_the_limit_named() {
    let dir = scratch("hostile");
    let pack = dir.join("deep");
    std::fs::create_dir_all(pack.join("rules")).unwrap();
    for f in ["pack.json", "vocabulary.json"] {
        std::fs::copy(root().join("fixtures/packs/semantics").join(f), pack.join(f)).unwrap();
    }
    let deep = format!(
        "{{\"rules\": [{{\"id\": \"deep\", \"title\": \"t\", \"quote\": \"q\", \"citation\": {{\"source\": \"s\", \"at\": \"a\"}}, \"kind\": \"test\", \"condition\": {}{}{}}}]}}",
        "{\"not\": ".repeat(100_000),
        "{\"key\": \"flag\", \"present\": true}",
        "}".repeat(100_000)
    );
    std::fs::write(pack.join("rules/deep.json"), deep).unwrap();
    let o = handback(&["lint", "--pack", &pack.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nesting deeper than 128 levels"),
        "{}",
        stderr(&o)
    );

    let big = dir.join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let o = handback(&["assess", &big.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o)
        .contains("the file is 209715200 bytes; the limit is 67108864 (raise it with `--max-input-bytes`)"));
    let o = handback(&[
        "lint",
        "fixtures/rotherham/record.json",
        "--max-observations",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("210 observations; the limit is 10"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run killed while writing its report leaves either no report or a whole one, never a
/// partial file: the report is written beside the target and renamed into place.
#[test]
fn a_run_killed_while_writing_leaves_no_partial_report() {
    let dir = scratch("killed");
    let out = dir.join("report.json");
    let out_path = out.to_string_lossy().into_owned();
    for attempt in 0..12u64 {
        let _ = std::fs::remove_file(&out);
        let mut child = Command::new(env!("CARGO_BIN_EXE_handback"))
            .args([
                "plan",
                "fixtures/rotherham/2018-03-exit-recommended.json",
                "--directions",
                DIRECTIONS,
                "-o",
                &out_path,
            ])
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(attempt * 7));
        let _ = child.kill();
        let _ = child.wait();
        if out.exists() {
            let o = handback(&["verify", &out_path]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "attempt {attempt}: a partial report: {}",
                stderr(&o)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_errors_are_machine_readable() {
    let o = handback(&["assess", "fixtures/invalid/evidence/nan.json", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["exit"], 3);
    assert_eq!(json["problems"][0]["path"], "$.observations[0].value");
}
