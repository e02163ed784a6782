//! The citation lock: what the seed documents were found to say, kept in the repository.
//!
//! The seeds live beside the repository (`../shared/seeds`), not in it, so a fresh clone cannot
//! check a quote against the full text. `fixtures/citations/lock.json` records, as checked
//! against the seeds, each seed's size and SHA-256, each rule's quote and each quoted fragment
//! of every cited passage in the record and its fixtures (normalised, with a digest). Every
//! clone checks that each quote and fragment it cites is in the lock, so editing one without
//! re-checking it against the sources fails here; with the seeds present, the lock must be
//! exactly what they give (`HANDBACK_BLESS=1` regenerates it).
//!
//! Fragments that are known not to stand are listed, with the reason, in
//! `fixtures/citations/known-bad.txt`; with the seeds present, that list must be exactly the
//! citations that fail, so fixing one means deleting its line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use handback::authoring::{cited_passages, fragment_documents, fragment_stands, misfiled};
use handback::canonical::{normalise_quote, sha256};
use handback::SourceFile;
use serde_json::{json, Value};

const LOCK: &str = "fixtures/citations/lock.json";
const KNOWN_BAD: &str = "fixtures/citations/known-bad.txt";
const REGENERATE: &str = "re-check against the seeds and regenerate the lock: \
     `HANDBACK_BLESS=1 HANDBACK_SEEDS=DIR cargo test --test citations`";

/// The files whose citations the lock covers: the record, its milestone snapshots and the
/// Directions, and the golden reports (which copy observations from them). The semantics
/// evidence cites the synthetic `fixtures/cases` and is left out.
fn files_in_scope() -> Vec<SourceFile> {
    let mut out = Vec::new();
    for folder in ["fixtures/rotherham", "fixtures/reports"] {
        for entry in std::fs::read_dir(common::root().join(folder)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                out.push(common::source(&format!("{folder}/{name}")));
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A fragment as the lock holds it: normalised, an ellipsis written `...`.
fn locked_form(fragment: &str) -> String {
    normalise_quote(&fragment.replace('\u{2026}', "..."))
}

/// Observation (or instrument) ids whose passages are known not to stand, from `known-bad.txt`
/// (one id per line, then the reason; `#` starts a comment).
fn known_bad() -> BTreeSet<String> {
    common::source(KNOWN_BAD)
        .text
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn lock() -> Value {
    serde_json::from_str(&common::source(LOCK).text).unwrap()
}

/// What in `pack` and `files` is not in the lock, and how many fragments were looked up.
fn not_in_lock(pack: &handback::Pack, files: &[SourceFile]) -> (Vec<String>, usize) {
    let lock = lock();
    let documents: BTreeSet<&str> = lock["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    let mut problems = Vec::new();

    let rules: BTreeMap<&str, &Value> = lock["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rule"].as_str().unwrap(), r))
        .collect();
    for rule in pack.rules() {
        let digest = sha256(normalise_quote(&rule.quote).as_bytes());
        match rules.get(rule.id.as_str()) {
            Some(l) if l["sha256"] == digest.as_str() && l["document"] == rule.citation.source.as_str() => {}
            _ => problems.push(format!(
                "rule `{}`: its quote (sha256 {digest}) citing `{}` is not in the lock",
                rule.id, rule.citation.source
            )),
        }
    }

    let passages: BTreeSet<(&str, &str)> = lock["passages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["document"].as_str().unwrap(), p["sha256"].as_str().unwrap()))
        .collect();
    let names: Vec<&str> = documents.iter().copied().collect();
    let known_bad = known_bad();
    let mut looked_up = 0;
    for file in files {
        for c in cited_passages(file).unwrap() {
            let id = c.id.clone().unwrap_or_default();
            if !documents.contains(c.document.as_str()) {
                problems.push(format!(
                    "{}: `{id}` cites `{}`, which is not a seed",
                    file.name, c.document
                ));
                continue;
            }
            if known_bad.contains(&id) {
                continue;
            }
            if let Some(named) = misfiled(&c, &names) {
                problems.push(format!(
                    "{}: `{id}`: the passage opens by citing `{named}`, but the document given is `{}`",
                    file.name, c.document
                ));
            }
            for (document, fragment) in fragment_documents(&c, &names) {
                looked_up += 1;
                let digest = sha256(locked_form(&fragment).as_bytes());
                if !passages.contains(&(document.as_str(), digest.as_str())) {
                    problems.push(format!(
                        "{}: `{id}`: the quoted `{fragment}` citing `{document}` is not in the lock",
                        file.name
                    ));
                }
            }
        }
    }
    (problems, looked_up)
}

#[test]
fn every_quote_and_cited_fragment_is_in_the_lock() {
    let pack = handback::default_pack().unwrap();
    let (problems, looked_up) = not_in_lock(&pack, &files_in_scope());
    assert!(
        looked_up > 1000,
        "the record's fragments were found ({looked_up})"
    );
    assert!(problems.is_empty(), "{}\n{REGENERATE}", problems.join("\n"));
}

#[test]
fn a_quote_or_fragment_edited_without_the_seeds_is_caught() {
    // One character changed in a rule quote and in a fragment of the record.
    let files: Vec<SourceFile> = handback::default_pack_files()
        .into_iter()
        .map(|mut f| {
            f.text = f
                .text
                .replace("Robust financial management.", "Robust financial managements.");
            f
        })
        .collect();
    let pack = handback::Pack::load(&files).unwrap();
    let mut record = common::source("fixtures/rotherham/record.json");
    record.text = record.text.replace(
        "'there are 39 new social workers'",
        "'there are 49 new social workers'",
    );
    let (problems, _) = not_in_lock(&pack, &[record]);
    assert_eq!(
        problems,
        [
            "rule `children-5`: its quote (sha256 8fd58941288501e8dce8db166798f8391ed1d4ea2efcb3116e7b2d74c0454b59) citing `004_1f42ef5066f80d10.txt` is not in the lock",
            "fixtures/rotherham/record.json: `aug-new-sw`: the quoted `there are 49 new social workers` citing `000_94efcd794c95ea6a.txt` is not in the lock",
        ]
    );
}

#[test]
fn the_lock_records_what_the_seeds_say() {
    let Some(seeds) = common::seeds("the_lock_records_what_the_seeds_say") else {
        return;
    };
    let texts: BTreeMap<&str, String> = seeds
        .iter()
        .map(|(name, text)| (name.as_str(), normalise_quote(text)))
        .collect();
    let pack = handback::default_pack().unwrap();
    let quotes = handback::authoring::check_sources(&pack, &seeds, "seeds");
    assert!(quotes.is_empty(), "{}", handback::Diagnostics(quotes));

    // Every standing fragment, with who cites it; every citation whose passage does not stand.
    let mut standing: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut failing: BTreeSet<String> = BTreeSet::new();
    let mut failures = Vec::new();
    let names: Vec<&str> = texts.keys().copied().collect();
    for file in files_in_scope() {
        for c in cited_passages(&file).unwrap() {
            let id = c.id.clone().unwrap_or_default();
            assert!(
                texts.contains_key(c.document.as_str()),
                "{}: `{id}` cites `{}`, not a seed",
                file.name,
                c.document
            );
            if misfiled(&c, &names).is_some() {
                failing.insert(id.clone());
            }
            for (document, fragment) in fragment_documents(&c, &names) {
                if fragment_stands(&texts[document.as_str()], &fragment) {
                    standing
                        .entry((document, locked_form(&fragment)))
                        .or_default()
                        .insert(id.clone());
                } else {
                    failing.insert(id.clone());
                }
            }
        }
        if file.name == "fixtures/rotherham/record.json" || file.name == "fixtures/rotherham/directions.json"
        {
            failures.extend(handback::authoring::check_passages(&file, &seeds, "seeds"));
        }
    }
    let known_bad = known_bad();
    let shown: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert_eq!(
        failing.iter().collect::<Vec<_>>(),
        known_bad.iter().collect::<Vec<_>>(),
        "the citations whose passages do not stand must be exactly those listed in {KNOWN_BAD} \
         (delete the line of one fixed, add one found with its reason):\n{}",
        shown.join("\n")
    );

    let mut rules: Vec<Value> = pack
        .rules()
        .iter()
        .map(|r| {
            let normalised = normalise_quote(&r.quote);
            json!({
                "rule": r.id,
                "document": r.citation.source,
                "at": r.citation.at,
                "quote": r.quote,
                "normalised": normalised,
                "sha256": sha256(normalised.as_bytes()),
            })
        })
        .collect();
    rules.sort_by(|a, b| a["rule"].as_str().cmp(&b["rule"].as_str()));
    let lock = json!({
        "about": "What the seed documents were found to say: each seed's size and SHA-256, each rule's \
                  quote and each quoted fragment of the passages cited in fixtures/rotherham and \
                  fixtures/reports, normalised (whitespace, typographic quotes and dashes), with \
                  the SHA-256 of the normalised text. Generated from the seeds by \
                  `HANDBACK_BLESS=1 HANDBACK_SEEDS=DIR cargo test --test citations`; do not edit.",
        "documents": seeds.iter().map(|(name, text)| json!({
            "name": name,
            "bytes": text.len(),
            "sha256": sha256(text.as_bytes()),
        })).collect::<Vec<_>>(),
        "rules": rules,
        "passages": standing.iter().map(|((document, normalised), ids)| json!({
            "document": document,
            "normalised": normalised,
            "sha256": sha256(normalised.as_bytes()),
            "cited_by": ids,
        })).collect::<Vec<_>>(),
    });
    let text = format!("{}\n", serde_json::to_string_pretty(&lock).unwrap());
    let path = common::root().join(LOCK);
    if std::env::var_os("HANDBACK_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert!(
        std::fs::read_to_string(&path).unwrap() == text,
        "{LOCK} is not what the seeds give; {REGENERATE}"
    );
}
