//! Shared helpers for the integration tests: reading packs and evidence from the repository.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use handback::{Evidence, Pack, SourceFile};

/// The repository root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every `.json` file under a pack folder, named by its path inside the pack.
pub fn pack_files(dir: &Path) -> Vec<SourceFile> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(SourceFile {
                    name,
                    label: path.display().to_string(),
                    text: std::fs::read_to_string(&path).unwrap(),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub fn load_pack(relative: &str) -> Pack {
    Pack::load(&pack_files(&root().join(relative))).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn source(relative: &str) -> SourceFile {
    let path = root().join(relative);
    SourceFile {
        name: relative.to_string(),
        label: relative.to_string(),
        text: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}")),
    }
}

pub fn load_evidence(pack: &Pack, relative: &str) -> Evidence {
    Evidence::load(pack, &source(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The seed documents, beside the repository as `../shared/seeds` (or `HANDBACK_SEEDS`).
pub fn seeds_dir() -> PathBuf {
    match std::env::var_os("HANDBACK_SEEDS") {
        Some(dir) => PathBuf::from(dir),
        None => root().join("../shared/seeds"),
    }
}

/// The seed documents (`.txt`: file name and text, sorted), or `None` when they are not here: a
/// fresh clone has no `../shared/seeds`, and its tests must still pass. A test that needs the
/// full text says so on stderr, past the test harness's capture, so a skip is never silent; when
/// `HANDBACK_SEEDS` names a folder, it must be there.
pub fn seeds(test: &str) -> Option<Vec<(String, String)>> {
    use std::io::Write;
    let dir = seeds_dir();
    if std::env::var_os("HANDBACK_SEEDS").is_none() && !dir.is_dir() {
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: the seed documents are not here; set HANDBACK_SEEDS=DIR to check quotes against the full text"
        );
        return None;
    }
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("HANDBACK_SEEDS: cannot read `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no `.txt` seed documents in `{}`", dir.display());
    Some(out)
}
