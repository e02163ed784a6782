//! The engine carries no pack's words: no id, key, set, scale, parameter, function, rule, phase
//! or exit outcome of any shipped pack is named in the library's code, and neither is the place
//! the default pack comes from. Everything a pack means lives in the pack.
//!
//! Comments may mention an example, and tests (`#[cfg(test)]` modules, the test-only
//! `properties.rs` and `reference.rs`) use the real packs; code may not.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Words a pack may use that are also the engine's own vocabulary, each with why it is fine.
const ENGINE_WORDS: &[(&str, &str)] = &[
    // The id the engine gives the single way out of a pack whose `exit` lists only gates.
    ("end", "the default exit outcome's id"),
    // The request layer's operation (`"op": "audit"`); Rotherham's pack also has a function
    // called `audit`, which the engine never names.
    ("audit", "the request operation that audits decisions"),
];

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files_under(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

/// Every identifier a pack declares.
fn pack_words(dir: &Path, out: &mut BTreeSet<String>) {
    let read = |name: &str| -> Option<Value> {
        std::fs::read_to_string(dir.join(name))
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap())
    };
    let mut take = |v: Option<&Value>, field: &str| {
        for item in v.and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = item.get(field).and_then(Value::as_str) {
                out.insert(s.to_string());
            }
        }
    };
    if let Some(p) = read("pack.json") {
        take(Some(&Value::Array(vec![p.clone()])), "id");
        take(p.get("sets"), "id");
    }
    if let Some(v) = read("vocabulary.json") {
        take(v.get("scales"), "id");
        take(v.get("keys"), "key");
    }
    if let Some(v) = read("parameters.json") {
        take(v.get("parameters"), "name");
    }
    if let Some(f) = read("functions.json") {
        take(f.get("functions"), "id");
        take(f.get("phases"), "id");
        take(f.pointer("/exit/outcomes"), "id");
    }
    let mut rules = Vec::new();
    if dir.join("rules").is_dir() {
        files_under(&dir.join("rules"), "json", &mut rules);
    }
    for r in rules {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(r).unwrap()).unwrap();
        take(v.get("rules"), "id");
    }
}

/// The library's code: comments, test modules and test-only files left out.
fn engine_code() -> Vec<(String, String)> {
    let src = common::root().join("crates/handback/src");
    let mut files = Vec::new();
    files_under(&src, "rs", &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| !["properties.rs", "reference.rs"].contains(&p.file_name().unwrap().to_str().unwrap()))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code: String = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| format!("{l}\n"))
                .collect();
            (
                p.strip_prefix(common::root()).unwrap().display().to_string(),
                code,
            )
        })
        .collect()
}

#[test]
fn the_engine_names_nothing_of_any_shipped_pack() {
    let root = common::root();
    let mut packs = vec![root.join("rules/rotherham")];
    for entry in std::fs::read_dir(root.join("fixtures/packs")).unwrap() {
        let p = entry.unwrap().path();
        // The semantics pack names each rule after the construct it exercises (`all`, `any`,
        // `graded`): its ids are the rule language's own words, by design.
        if p.join("pack.json").exists() && !p.ends_with("semantics") {
            packs.push(p);
        }
    }
    let mut words = BTreeSet::new();
    for p in &packs {
        pack_words(p, &mut words);
    }
    assert!(words.contains("health-check") && words.contains("corporate.permanent_smt_appointed"));
    // A phase or level named by a number or a single letter is no one's word.
    words.retain(|w| w.len() > 1 && !w.chars().all(|c| c.is_ascii_digit()));
    for (w, _why) in ENGINE_WORDS {
        words.remove(*w);
    }
    let mut found = Vec::new();
    for (file, code) in engine_code() {
        for w in &words {
            for quoted in [format!("\"{w}\""), format!("`{w}`"), format!("({w})")] {
                if code.contains(&quoted) {
                    found.push(format!("{file} names {quoted}"));
                }
            }
        }
        if code.to_lowercase().contains("rotherham") {
            found.push(format!("{file} says `rotherham` in its code"));
        }
    }
    assert!(
        found.is_empty(),
        "the engine names a pack's words:\n{}",
        found.join("\n")
    );
}
