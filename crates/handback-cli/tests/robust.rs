//! Hostile input through the command as users run it: extreme dates and day counts, and
//! findings that must show in the exit code. No input may make the command panic (exit 101) or
//! abort (134).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{handback, root, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Neither a panic (101) nor an abort such as a stack overflow (134, or a signal).
fn assert_no_crash(args: &[&str], o: &Output) {
    let code = o.status.code();
    assert!(
        matches!(code, Some(c) if c != 101 && c != 134),
        "`handback {}` crashed with {:?}:\n{}",
        args.join(" "),
        o.status,
        stderr(o)
    );
}

const RECORD: &str = "fixtures/rotherham/record.json";
const DIRECTIONS: &str = "fixtures/rotherham/directions.json";

#[test]
fn dates_with_a_huge_representation_period_is_a_located_usage_error() {
    let args = [
        "dates",
        "--minded",
        "2016-01-01",
        "--representation-days",
        "4294967295",
    ];
    let o = handback(&args);
    assert_no_crash(&args, &o);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`4294967295`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("9999-12-31"), "{}", stderr(&o));
}

#[test]
fn dates_never_suggest_a_day_past_the_calendar() {
    for minded in ["9999-12-31", "9999-12-25", "0000-01-01"] {
        for days in ["0", "10", "3652424"] {
            let args = [
                "dates",
                "--minded",
                minded,
                "--representation-days",
                days,
                "--count",
                "1000",
                "--format",
                "json",
            ];
            let o = handback(&args);
            assert_no_crash(&args, &o);
            if o.status.code() == Some(0) {
                let dates: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                for d in dates.as_array().unwrap() {
                    let date = d["date"].as_str().unwrap();
                    assert!(handback::parse_date(date).is_ok(), "{date} from {args:?}");
                }
            } else {
                assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            }
        }
    }
}

#[test]
fn dates_without_a_calendar_say_the_meetings_are_unknown() {
    let o = handback(&["dates", "--minded", "2016-12-01", "--count", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains("no formal decision meeting that day"), "{text}");
    assert!(text.contains("no meeting calendar was given"), "{text}");
}

#[test]
fn audit_with_invalid_decisions_exits_with_findings() {
    let args = [
        "audit",
        "fixtures/audit/decisions.csv",
        "--directions",
        DIRECTIONS,
    ];
    let o = handback(&args);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    // The findings are still the output, on stdout.
    assert!(stdout(&o).contains("decisions invalid"), "{}", stdout(&o));
}

#[test]
fn audit_of_valid_decisions_exits_zero() {
    let dir = tempdir("audit-valid");
    let log = dir.join("log.csv");
    std::fs::write(
        &log,
        "datetime,function,decided_by\n2017-09-12 10:00,licensing,council\n",
    )
    .unwrap();
    let args = ["audit", log.to_str().unwrap(), "--directions", DIRECTIONS];
    let o = handback(&args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn audit_of_decisions_at_the_ends_of_the_calendar_does_not_crash() {
    let dir = tempdir("audit-extremes");
    let log = dir.join("log.csv");
    std::fs::write(
        &log,
        "datetime,function,decided_by\n0000-01-01 00:00,licensing,council\n9999-12-31 23:59,licensing,council\n-262143-01-01 00:00,licensing,council\n+262142-12-31 00:00,licensing,council\n",
    )
    .unwrap();
    let args = ["audit", log.to_str().unwrap(), "--directions", DIRECTIONS];
    let o = handback(&args);
    assert_no_crash(&args, &o);
    // Years outside 0000..9999 are not dates Handback reads anywhere else either.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("-262143-01-01 00:00"), "{}", stderr(&o));
}

#[test]
fn help_lists_every_exit_code() {
    let o = handback(&["--help"]);
    let text = stdout(&o);
    for code in ["0 ok", "1 internal", "2 usage", "3 invalid", "4 file", "5 ", "6 "] {
        assert!(text.contains(code), "`--help` does not list `{code}`:\n{text}");
    }
}

#[test]
fn commands_at_the_ends_of_the_calendar_do_not_crash() {
    for date in ["0000-01-01", "0001-01-01", "9999-12-31"] {
        let runs: Vec<Vec<&str>> = vec![
            vec!["assess", RECORD, "--as-of", date],
            vec!["assess", RECORD, "--as-of", "2017-01-01", "--known-at", date],
            vec!["plan", RECORD, "--directions", DIRECTIONS, "--as-of", date],
            vec!["grid", "--directions", DIRECTIONS, "--as-of", date],
            vec!["graph", RECORD, "--directions", DIRECTIONS, "--as-of", date],
            vec!["whatif", RECORD, "--as-of", date],
            vec!["gaps", RECORD, "--as-of", date],
            vec!["needs", RECORD, "--as-of", date, "--target", "exit"],
            vec!["dates", "--minded", date],
        ];
        for args in runs {
            let o = handback(&args);
            assert_no_crash(&args, &o);
        }
    }
}

#[test]
fn huge_day_counts_in_a_pack_are_refused_or_evaluated_without_crashing() {
    let dir = tempdir("huge-days");
    let pack = dir.join("pack");
    copy_dir(&root().join("rules/rotherham"), &pack);
    let children = pack.join("rules/children.json");
    let text = std::fs::read_to_string(&children).unwrap();
    let text = text.replace("\"sustained_days\": 180", "\"sustained_days\": 36600");
    std::fs::write(&children, text).unwrap();
    let vocabulary = pack.join("vocabulary.json");
    let text = std::fs::read_to_string(&vocabulary).unwrap();
    std::fs::write(
        &vocabulary,
        text.replace("\"max_age_days\": 400", "\"max_age_days\": 36600"),
    )
    .unwrap();
    for date in ["0000-01-01", "9999-12-31"] {
        let args = [
            "assess",
            RECORD,
            "--pack",
            pack.to_str().unwrap(),
            "--as-of",
            date,
        ];
        let o = handback(&args);
        assert_no_crash(&args, &o);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let too_many = std::fs::read_to_string(&children)
        .unwrap()
        .replace("\"sustained_days\": 36600", "\"sustained_days\": 4294967296");
    std::fs::write(&children, too_many).unwrap();
    let args = ["lint", "--pack", pack.to_str().unwrap()];
    let o = handback(&args);
    assert_no_crash(&args, &o);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn huge_numbers_on_the_command_line_are_usage_errors_or_work() {
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "dates",
            "--minded",
            "2016-01-01",
            "--count",
            "18446744073709551615",
        ],
        vec![
            "needs",
            RECORD,
            "--target",
            "exit",
            "--limit",
            "18446744073709551615",
        ],
        vec!["assess", RECORD, "--max-depth", "18446744073709551615"],
        vec!["assess", RECORD, "--max-rules", "0"],
        vec!["assess", RECORD, "--max-input-bytes", "0"],
        vec!["assess", RECORD, "--param", "children_agency_share_max=1e308"],
        vec!["assess", RECORD, "--param", "children_agency_share_max=-1e308"],
        vec![
            "whatif",
            RECORD,
            "--set",
            "children.agency_share=1e308@9999-12-31",
        ],
    ];
    for args in runs {
        let o = handback(&args);
        assert_no_crash(&args, &o);
    }
}

/// A scratch folder, removed when the test is done with it (and kept when it fails, to look at).
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tempdir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("handback-robust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn rule(id: &str, condition: &str) -> String {
    format!(
        r#"{{"id": "{id}", "title": "t", "set": "constructs", "quote": "q", "citation": {{"source": "s", "at": "a"}}, "kind": "test", "condition": {condition}}}"#
    )
}

/// A copy of the semantics pack whose rules are replaced by `rules`, in `dir/pack`.
fn pack_with_rules(name: &str, rules: &[String]) -> TempDir {
    let dir = tempdir(name);
    let pack = dir.join("pack");
    copy_dir(&root().join("fixtures/packs/semantics"), &pack);
    std::fs::remove_dir_all(pack.join("rules")).unwrap();
    std::fs::create_dir_all(pack.join("rules")).unwrap();
    std::fs::write(
        pack.join("rules/generated.json"),
        format!("{{\"rules\": [{}]}}", rules.join(",\n")),
    )
    .unwrap();
    dir
}

/// Every command that walks rules, run over the pack in `dir/pack`; none may crash.
fn run_everything(dir: &Path, extra: &[&str]) {
    let pack = dir.join("pack");
    let pack = pack.to_str().unwrap();
    let evidence = "fixtures/evidence/semantics-good.json";
    let report = dir.join("report.html");
    let report = report.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["lint", "--pack", pack, evidence],
        vec!["rules", "--pack", pack],
        vec!["rules", "--pack", pack, "--format", "markdown"],
        vec!["rules", "--pack", pack, "--format", "json"],
        vec!["assess", evidence, "--pack", pack],
        vec!["assess", evidence, "--pack", pack, "--format", "json"],
        vec!["assess", evidence, "--pack", pack, "--format", "markdown"],
        vec!["plan", evidence, "--pack", pack],
        vec!["plan", evidence, "--pack", pack, "--format", "html", "-o", report],
        vec!["verify", report, "--pack", pack],
        vec!["whatif", evidence, "--pack", pack, "--set", "flag=false"],
        vec!["gaps", evidence, "--pack", pack],
        vec!["graph", evidence, "--pack", pack],
        vec!["evidence", "template", "--pack", pack],
    ];
    for mut args in runs {
        args.extend_from_slice(extra);
        let o = handback(&args);
        assert_no_crash(&args, &o);
    }
}

/// 9,000 rules, each referring to the next: every walk over references must be iterative or
/// bounded, in the 8 MiB main thread of a debug build.
#[test]
fn a_chain_of_rule_references_at_the_rule_limit_does_not_crash() {
    let n = 9_000;
    let rules: Vec<String> = (0..n)
        .map(|i| {
            if i + 1 < n {
                rule(&format!("r{i}"), &format!(r#"{{"rule": "r{}"}}"#, i + 1))
            } else {
                rule(&format!("r{i}"), r#"{"key": "flag", "present": true}"#)
            }
        })
        .collect();
    run_everything(&pack_with_rules("chain", &rules), &[]);
}

/// Conditions nested as deep as `--max-depth` allows.
#[test]
fn conditions_nested_to_the_depth_limit_do_not_crash() {
    let depth = 250;
    let condition = format!(
        "{}{}{}",
        r#"{"not": "#.repeat(depth),
        r#"{"key": "flag", "present": true}"#,
        "}".repeat(depth)
    );
    let rules = vec![rule("deep", &condition)];
    run_everything(&pack_with_rules("deep", &rules), &["--max-depth", "256"]);
}
