//! The pack author's loop: `pack init` scaffolds a pack that lints clean and passes its cases;
//! `handback test` runs a pack's cases, fails with exit 7 when one does not hold, and refuses a
//! case that names what the pack does not have.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::path::PathBuf;

use common::{handback, stderr, stdout};

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("handback-authoring-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_new_pack_lints_clean_and_passes_its_cases() {
    let dir = fresh("init");
    let d = dir.to_str().unwrap();
    let o = handback(&["pack", "init", d, "--id", "northmoor"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = handback(&["lint", "--pack", d, &format!("{d}/tests/evidence/example.json")]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("pack `northmoor` 0.1.0"), "{}", stdout(&o));
    let o = handback(&["test", d]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PASS  example.json"), "{out}");
    assert!(out.contains("2 cases: 2 passed, 0 failed"), "{out}");
    // The one outcome neither case asserts is named.
    assert!(out.contains("plan-adopted: not_met"), "{out}");
    // Never over existing files.
    let o = handback(&["pack", "init", d]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_case_exits_7_and_says_where_and_what() {
    let dir = fresh("fail");
    let d = dir.to_str().unwrap();
    assert!(handback(&["pack", "init", d]).status.success());
    let case = dir.join("tests/example.json");
    let text = std::fs::read_to_string(&case).unwrap();
    std::fs::write(
        &case,
        text.replace("\"agency-share\": \"not_met\"", "\"agency-share\": \"met\""),
    )
    .unwrap();
    let o = handback(&["test", d]);
    assert_eq!(o.status.code(), Some(7), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL  example.json  (1 of 4 expectations failed)"),
        "{out}"
    );
    assert!(
        out.contains(
            "tests/example.json:5:21: $.expect.agency-share: `agency-share` expected met, got not_met"
        ),
        "{out}"
    );
    assert!(out.contains("PASS  ready.json"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&handback(&["test", d, "--format", "json"]))).unwrap();
    assert_eq!(json["failed"], 1);
    assert_eq!(json["passed"], 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_case_naming_what_the_pack_lacks_is_refused_with_every_problem_located() {
    let dir = fresh("typo");
    let d = dir.to_str().unwrap();
    assert!(handback(&["pack", "init", d]).status.success());
    let case = dir.join("tests/example.json");
    let text = std::fs::read_to_string(&case).unwrap();
    let text = text
        .replace("\"agency-share\": \"not_met\"", "\"agency-shares\": \"not_met\"")
        .replace(
            "\"plan-adopted@example-function\": \"met\"",
            "\"plan-adopted@example-function\": \"good\"",
        );
    std::fs::write(&case, text).unwrap();
    let o = handback(&["test", d]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("the pack has no rule `agency-shares` (did you mean `agency-share`?)"),
        "{err}"
    );
    assert!(
        err.contains("`good` is not a possible answer for `plan-adopted`"),
        "{err}"
    );
    assert!(err.contains("tests/example.json:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
