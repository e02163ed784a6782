//! The C boundary: answers through the exported functions, garbage answered with errors (never a
//! crash), and the ctypes example agreeing with the library.

#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};
use std::process::Command;

use handback_ffi::{handback_free, handback_request, handback_version};
use serde_json::{json, Map, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Calls `handback_request` with raw bytes (a NUL is appended) and frees the answer.
fn ask(bytes: &[u8]) -> Value {
    let mut owned = bytes.to_vec();
    owned.push(0);
    // SAFETY: `owned` is NUL-terminated and outlives the call; the answer is freed once.
    unsafe {
        let answer = handback_request(owned.as_ptr().cast::<c_char>());
        assert!(!answer.is_null());
        let text = CStr::from_ptr(answer).to_str().unwrap().to_string();
        handback_free(answer);
        serde_json::from_str(&text).unwrap()
    }
}

#[test]
fn a_request_is_answered() {
    let answer = ask(br#"{"id": "v", "op": "version"}"#);
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["id"], "v");
    // SAFETY: the version is a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(handback_version()) }.to_str().unwrap();
    assert!(
        version.starts_with("handback ") && version.ends_with("; api 1"),
        "{version}"
    );
}

#[test]
fn garbage_is_answered_with_an_error() {
    // SAFETY: a null request is documented as accepted; a null free is ignored.
    let null = unsafe {
        let answer = handback_request(std::ptr::null());
        let text = CStr::from_ptr(answer).to_str().unwrap().to_string();
        handback_free(answer);
        handback_free(std::ptr::null_mut());
        text
    };
    let null: Value = serde_json::from_str(&null).unwrap();
    assert_eq!(null["ok"], false);
    assert!(null["error"]["message"].as_str().unwrap().contains("null"));
    let not_utf8 = ask(b"{\"op\": \"\xff\xfe\"}");
    assert_eq!(not_utf8["error"]["kind"], "malformed");
    assert!(not_utf8["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not UTF-8"));
    let deep = ask(&[b'['; 100_000]);
    assert_eq!(deep["error"]["kind"], "malformed");
    let wrong = ask(br#"{"op": "assess", "evidence": 3}"#);
    assert_eq!(wrong["ok"], false);
}

/// The library's own verdicts, reduced as `examples/python/verdicts.py` reduces the API's.
fn summary_from_library(evidence: &str, directions: &str) -> Value {
    let pack = handback::default_pack().unwrap();
    let file = |name: &str| handback::SourceFile {
        name: name.into(),
        label: name.into(),
        text: std::fs::read_to_string(root().join(name)).unwrap(),
    };
    let evidence = handback::Evidence::load(&pack, &file(evidence)).unwrap();
    let directions = handback::Directions::load(&pack, &file(directions)).unwrap();
    let as_of = handback::settle_as_of(&evidence, None).unwrap();
    let assessment = handback::assess(&pack, &evidence, &handback::Options::new(as_of));
    let plan = handback::plan(&pack, &assessment, Some(&directions));
    let mut outcomes = Map::new();
    for r in &assessment.results {
        let name = match &r.function {
            Some(f) => format!("{}@{f}", r.rule),
            None => r.rule.clone(),
        };
        outcomes.insert(name, json!(r.outcome));
    }
    json!({
        "council": assessment.council,
        "as_of": assessment.as_of,
        "outcomes": outcomes,
        "phase": plan.phase.as_ref().map(|p| p.number),
        "tranche": plan.tranche.iter().map(|t| t.function.clone()).collect::<Vec<_>>(),
        "exit_possible": plan.exit.possible,
    })
}

#[test]
fn the_ctypes_example_agrees_with_the_library() {
    // The shared library is built beside this test's own executable (target/…/deps).
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap();
    let library = ["libhandback_ffi.so", "libhandback_ffi.dylib", "handback_ffi.dll"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .expect("cargo builds the cdylib beside the tests");
    let (evidence, directions) = (
        "fixtures/rotherham/2016-08-progress-letter.json",
        "fixtures/rotherham/directions.json",
    );
    let out = Command::new("python3")
        .arg("examples/python/ctypes_api.py")
        .arg(&library)
        .args([evidence, directions])
        .current_dir(root())
        .output()
        .expect("python3 runs (the CI script installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, summary_from_library(evidence, directions));
}
