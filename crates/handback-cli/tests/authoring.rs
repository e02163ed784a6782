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
    // A plan expectation, by dotted path.
    let ready = dir.join("tests/ready.json");
    let text = std::fs::read_to_string(&ready).unwrap();
    std::fs::write(
        &ready,
        text.replace(
            "\"functions.example-function.step\": \"now\"",
            "\"functions.example-function.step\": \"later\"",
        ),
    )
    .unwrap();
    let out = stdout(&handback(&["test", d]));
    assert!(
        out.contains("$.expect_plan[\"functions.example-function.step\"]: the plan's `functions.example-function.step` expected \"later\", got \"now\""),
        "{out}"
    );
    std::fs::write(&ready, text).unwrap();
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

/// A pack extending the Rotherham pack, pinned by the digest `rules --format json` prints: found
/// beside it, given with `--base`, or (nowhere on disk) the embedded pack; a stale pin is refused
/// at the pin.
#[test]
fn a_pack_extends_its_base_found_beside_it_given_or_embedded() {
    let dir = fresh("extends");
    let root = common::root();
    let rules: serde_json::Value =
        serde_json::from_str(&stdout(&handback(&["rules", "--format", "json"]))).unwrap();
    let pin = rules["digest"].as_str().unwrap().to_string();
    let variant = dir.join("stricter");
    std::fs::create_dir_all(&variant).unwrap();
    std::fs::write(
        variant.join("pack.json"),
        serde_json::json!({"id": "stricter", "version": "0.1.0", "title": "Rotherham, with a stricter agency threshold",
            "extends": {"id": "rotherham", "version": "0.1.0", "digest": pin}})
        .to_string(),
    )
    .unwrap();
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("rules/rotherham/parameters.json")).unwrap())
            .unwrap();
    let mut agency = params["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "children_agency_share_max")
        .unwrap()
        .clone();
    agency["default"] = serde_json::json!(0.15);
    std::fs::write(
        variant.join("parameters.json"),
        serde_json::json!({ "parameters": [agency] }).to_string(),
    )
    .unwrap();
    let v = variant.to_str().unwrap();
    let threshold = |args: &[&str]| -> String {
        let o = handback(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let rules: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(rules["pack"]["id"], "stricter");
        assert_eq!(rules["rules"].as_array().unwrap().len(), 24);
        stdout(&handback(&["rules", "--pack", v]))
            .lines()
            .filter(|l| l.contains("children_agency_share_max ="))
            .collect()
    };
    // Nowhere on disk: the embedded pack is the one pinned.
    let embedded = threshold(&["rules", "--pack", v, "--format", "json"]);
    assert!(embedded.contains("= 0.15"), "{embedded}");
    // Given.
    let given = threshold(&[
        "rules",
        "--pack",
        v,
        "--base",
        root.join("rules/rotherham").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(given, embedded);
    // Beside it, changed since it was pinned: refused at the pin.
    let copy = dir.join("rotherham");
    std::fs::create_dir_all(copy.join("rules")).unwrap();
    for entry in std::fs::read_dir(root.join("rules/rotherham")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
        }
    }
    for entry in std::fs::read_dir(root.join("rules/rotherham/rules")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, copy.join("rules").join(p.file_name().unwrap())).unwrap();
    }
    let o = handback(&["lint", "--pack", v]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let pack_json = copy.join("pack.json");
    let text = std::fs::read_to_string(&pack_json).unwrap();
    std::fs::write(
        &pack_json,
        text.replace("Missing or stale evidence", "Missing, or stale, evidence"),
    )
    .unwrap();
    let o = handback(&["lint", "--pack", v]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("stricter/pack.json:1:"), "{err}");
    assert!(
        err.contains("$.extends.digest: the base pack `rotherham` 0.1.0 has digest"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
