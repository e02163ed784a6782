//! What every command-line test needs: the repository root and the `handback` binary run from it.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `handback` with `args` from the repository root.
pub fn handback(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handback"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// A fresh, empty scratch folder for one test (named for it and the process, so parallel test
/// binaries never share one).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("handback-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The August 2016 record exported as CSV into `dir`, for `evidence import`.
pub fn sheet_in(dir: &Path) -> PathBuf {
    let sheet = dir.join("evidence.csv");
    let o = handback(&[
        "evidence",
        "export",
        "fixtures/rotherham/2016-08-progress-letter.json",
        "--format",
        "csv",
        "-o",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    sheet
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `handback ARGS`, which must succeed, and parses what it prints as JSON.
pub fn cli_json(args: &[&str]) -> serde_json::Value {
    let o = handback(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// (rule, function, `field`) of every entry of a list of results (`field`: `outcome`) or of a
/// diff's outcome changes (`after`), in the list's order; the function is empty for a
/// council-wide rule.
pub fn verdicts(list: &serde_json::Value, field: &str) -> Vec<(String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_string(),
                r["function"].as_str().unwrap_or("").to_string(),
                r[field].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub mod server;
