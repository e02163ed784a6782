//! Every committed fuzz corpus and regression input, replayed through the same harness functions
//! the fuzz targets run (`fuzz/harness.rs`), without a sanitizer, on every `cargo test`: what a
//! fuzzing run learnt is kept and checked, not thrown away.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files in `dir`, by name, so every run replays them in the same order.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_input_replays() {
    let mut total = 0;
    let mut lines = Vec::new();
    for (target, harness) in harness::TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(target));
        let regressions = inputs(&fuzz_dir().join("regressions").join(target));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{target} is empty: seed it (fuzz/run.sh)"
        );
        for path in corpus.iter().chain(&regressions) {
            let data = std::fs::read(path).unwrap();
            let outcome = std::panic::catch_unwind(|| harness(&data));
            assert!(outcome.is_ok(), "{target}: {} breaks the harness", path.display());
        }
        total += corpus.len() + regressions.len();
        lines.push(format!(
            "{target}: {} corpus, {} regression",
            corpus.len(),
            regressions.len()
        ));
    }
    // The count, in the test's output (`cargo test -- --nocapture` shows it).
    println!("replayed {total} fuzz inputs\n{}", lines.join("\n"));
    assert!(total > 0);
}

/// Every corpus file that is not a regression stays small, so the corpora stay bounded.
#[test]
fn the_corpora_stay_bounded() {
    let mut bytes = 0;
    for (target, _) in harness::TARGETS {
        for dir in ["corpus", "regressions"] {
            for path in inputs(&fuzz_dir().join(dir).join(target)) {
                bytes += std::fs::metadata(path).unwrap().len();
            }
        }
    }
    assert!(
        bytes <= 5 * 1024 * 1024,
        "the fuzz corpora hold {bytes} bytes; minimise them (cargo fuzz cmin)"
    );
}
